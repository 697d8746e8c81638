/* ova-app — the reference application: runs a deepstream-app style configuration.
 * SPDX-License-Identifier: MIT */
#include "app.h"
#include "ova-config.h"
#include <glib-unix.h>
#include <ova/meta.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static gboolean
on_eos_timeout (gpointer data)
{
  OvaApp *app = data;
  g_printerr ("ova-app: the streams did not finish within 20 s of the end of stream: stopping now "
      "(recorded files may be incomplete)\n");
  app->exit_code = 1;
  g_main_loop_quit (app->loop);
  return G_SOURCE_REMOVE;
}

/* EOS into every stream so files are finalised. */
static void
ova_app_finish_streams (OvaApp *app)
{
  app->eos_sent = TRUE;
  /* A live source that hangs (a frozen camera) must not keep the app forever. */
  g_timeout_add_seconds (20, on_eos_timeout, app);
  /* Looping and reconnecting sources must let this EOS through. */
  for (guint i = 0; i < app->n_sources; i++)
    app->sources[i].loop = FALSE;
  gst_element_send_event (app->pipeline, gst_event_new_eos ());
  /* A source between two connections (or never connected) has nothing
   * linked to its ovamux pad: end that pad here. */
  for (guint i = 0; i < app->n_sources; i++) {
    OvaAppSource *s = &app->sources[i];
    if (!s->reconnect || s->gave_up || (s->mux_pad && gst_pad_is_linked (s->mux_pad)))
      continue;
    if (!s->mux_pad) {
      gchar *name = g_strdup_printf ("sink_%u", s->source_id);
      s->mux_pad = gst_element_request_pad_simple (app->mux, name);
      g_free (name);
    }
    if (s->mux_pad)
      gst_pad_send_event (s->mux_pad, gst_event_new_eos ());
  }
}

static gboolean
on_max_seconds (gpointer data)
{
  OvaApp *app = data;
  if (!app->eos_sent)
    ova_app_finish_streams (app);
  return G_SOURCE_REMOVE;
}

static gboolean
on_sigint (gpointer data)
{
  OvaApp *app = data;
  if (!app->eos_sent) {
    g_printerr ("\nova-app: interrupted: finishing the streams (press Ctrl-C again to stop at once)\n");
    ova_app_finish_streams (app);
    return G_SOURCE_CONTINUE;
  }
  g_printerr ("ova-app: stopping now\n");
  app->exit_code = 130;
  g_main_loop_quit (app->loop);
  return G_SOURCE_REMOVE;
}

/* Names the configured source an element belongs to ("source0 (typefind)"). */
static const gchar *
ova_app_describe_origin (OvaApp *app, GstObject *obj)
{
  static gchar buf[256];
  for (GstObject *o = obj; o; o = GST_OBJECT_PARENT (o))
    for (guint i = 0; i < app->n_sources; i++)
      if (app->sources[i].bin == (GstElement *) o) {
        if (o == obj)
          g_snprintf (buf, sizeof buf, "source%u (%s)", i, app->sources[i].uri ? app->sources[i].uri : "camera");
        else
          g_snprintf (buf, sizeof buf, "source%u (%s, in %s)", i, app->sources[i].uri ? app->sources[i].uri : "camera",
              GST_OBJECT_NAME (obj));
        return buf;
      }
  return GST_OBJECT_NAME (obj);
}

static gboolean
on_bus (GstBus *bus, GstMessage *msg, gpointer data)
{
  OvaApp *app = data;
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:{
      GError *err;
      gchar *dbg;
      gst_message_parse_error (msg, &err, &dbg);
      if (ova_app_source_error (app, msg->src, err->message)) {
        /* A reconnecting source: it is rebuilt, the others go on. */
        g_clear_error (&err);
        g_free (dbg);
        break;
      }
      g_printerr ("ova-app: error from %s: %s\n", ova_app_describe_origin (app, msg->src), err->message);
      if (dbg)
        g_printerr ("ova-app: details: %s\n", dbg);
      g_clear_error (&err);
      g_free (dbg);
      app->exit_code = 1;
      g_main_loop_quit (app->loop);
      break;
    }
    case GST_MESSAGE_WARNING:{
      GError *err;
      gchar *dbg;
      gst_message_parse_warning (msg, &err, &dbg);
      g_printerr ("ova-app: warning from %s: %s\n", ova_app_describe_origin (app, msg->src), err->message);
      g_clear_error (&err);
      g_free (dbg);
      break;
    }
    case GST_MESSAGE_ELEMENT:{
      const GstStructure *s = gst_message_get_structure (msg);
      if (s && gst_structure_has_name (s, "ova-msg-broker-connection")) {
        gboolean up = FALSE;
        const gchar *reason = gst_structure_get_string (s, "reason");
        gst_structure_get_boolean (s, "connected", &up);
        g_printerr ("ova-app: %s: broker %s%s%s\n", GST_OBJECT_NAME (msg->src), up ? "connected" : "disconnected",
            reason && *reason ? ": " : "", reason ? reason : "");
      }
      break;
    }
    case GST_MESSAGE_EOS:
      g_main_loop_quit (app->loop);
      break;
    default:
      break;
  }
  return TRUE;
}

/* Every interval: per-source fps (DeepStream's **PERF line: current and
 * average), and for files a progress line. */
static gboolean
on_perf_timer (gpointer data)
{
  OvaApp *app = data;
  gint64 now = g_get_monotonic_time ();
  gdouble dt = (now - app->last_perf_us) / 1e6, total = (now - app->start_us) / 1e6;
  GString *line = g_string_new ("**PERF:");
  gdouble min_progress = 2.0;
  gboolean any_finite = FALSE;

  g_mutex_lock (&app->stats_lock);
  for (guint i = 0; i < app->n_sources; i++) {
    OvaAppSource *s = &app->sources[i];
    g_string_append_printf (line, " %.2f (%.2f)", (s->frames - s->frames_at_last) / MAX (dt, 1e-6),
        s->frames / MAX (total, 1e-6));
    s->frames_at_last = s->frames;
  }
  g_mutex_unlock (&app->stats_lock);
  if (!app->quiet)
    g_print ("%s\n", line->str);
  g_string_truncate (line, 0);
  for (guint i = 0; i < app->n_sources; i++)
    if (app->sources[i].reconnect)
      g_string_append_printf (line, " source%u=%u", i, app->sources[i].reconnects);
  if (line->len && !app->quiet)
    g_print ("**PERF reconnects:%s\n", line->str);
  g_string_free (line, TRUE);

  for (guint i = 0; i < app->n_sources; i++) {
    OvaAppSource *s = &app->sources[i];
    gint64 pos = 0, dur = 0;
    if (!s->finite || s->loop || !s->bin)
      continue;
    if (gst_element_query_position (s->bin, GST_FORMAT_TIME, &pos)
        && gst_element_query_duration (s->bin, GST_FORMAT_TIME, &dur) && dur > 0) {
      any_finite = TRUE;
      min_progress = MIN (min_progress, (gdouble) pos / dur);
    }
  }
  if (any_finite && !app->quiet)
    g_print ("progress: %.0f%% after %.1f s, %" G_GUINT64_FORMAT " frames, %.1f frames/s overall\n",
        CLAMP (min_progress, 0, 1) * 100, total, app->frames_total, app->frames_total / MAX (total, 1e-6));
  app->last_perf_us = now;
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  gchar *config_path = NULL;
  gboolean latency = FALSE, version = FALSE, quiet = FALSE;
  gdouble max_seconds = 0;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "deepstream-app style configuration file", "FILE" },
    { "latency", 'l', 0, G_OPTION_ARG_NONE, &latency, "measure per-element and end-to-end latency (same as OVA_LATENCY=1)", NULL },
    { "max-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &max_seconds, "stop cleanly (EOS) after this many seconds", "S" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "no periodic fps and progress lines", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "print the version", NULL },
    { NULL }
  };
  GOptionContext *ctx = g_option_context_new ("- ova reference application");
  GError *err = NULL;
  OvaApp app = { 0 };
  GstBus *bus;
  guint perf_id = 0;

  g_option_context_set_summary (ctx,
      "Runs sources -> ovamux -> ovainfer -> ovatrack -> ovaosd -> ovatiler -> sinks\n"
      "as described by a deepstream-app compatible configuration file.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("ova-app: %s\n", err->message);
    g_printerr ("Try 'ova-app --help'.\n");
    return 2;
  }
  g_option_context_free (ctx);
  if (version) {
    g_print ("ova-app %s\n", OVA_VERSION);
    return 0;
  }
  if (!config_path) {
    g_printerr ("ova-app: no configuration: use -c FILE (see configs/ for examples, --help for options)\n");
    return 2;
  }
  if (latency)
    ova_latency_set_enabled (TRUE);
  /* Run from the build tree without installing: find the elements next to us. */
  if (!gst_element_factory_find ("ovamux")) {
    gchar *dir = g_build_filename (OVA_BUILD_DIR, "plugins", NULL);
    if (g_file_test (dir, G_FILE_TEST_IS_DIR))
      gst_registry_scan_path (gst_registry_get (), dir);
    g_free (dir);
  }

  app.cfg = ova_app_config_load (config_path, &err);
  if (!app.cfg) {
    g_printerr ("ova-app: %s\n", err->message);
    g_clear_error (&err);
    return 2;
  }
  if (app.cfg->latency)
    ova_latency_set_enabled (TRUE);
  /* Streaming threads (GLib's thread pool under GStreamer's tasks) stay
   * parked until the process ends: an idle one would otherwise exit 0.5 s
   * after its task stopped (and with gst_deinit () all of them at once),
   * each running the thread-exit destructors of the CUDA libraries it used
   * while the process may be running their exit handlers. */
  g_thread_pool_set_max_unused_threads (-1);
  g_thread_pool_set_max_idle_time (0);
  app.quiet = quiet;
  app.max_seconds = max_seconds;
  g_mutex_init (&app.stats_lock);
  app.latency = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, (GDestroyNotify) g_array_unref);
  app.latency_total = g_array_new (FALSE, FALSE, sizeof (gdouble));
  app.loop = g_main_loop_new (NULL, FALSE);

  app.line = g_string_new (NULL);
  if (app.cfg->detections_jsonl) {
    gchar *dir = g_path_get_dirname (app.cfg->detections_jsonl);
    g_mkdir_with_parents (dir, 0755);
    g_free (dir);
    app.jsonl = fopen (app.cfg->detections_jsonl, "w");
    if (!app.jsonl) {
      g_printerr ("ova-app: %s: detections-jsonl: cannot write '%s': %s\n", app.cfg->path,
          app.cfg->detections_jsonl, g_strerror (errno));
      app.exit_code = 2;
      goto done;
    }
  }
  if (app.cfg->gie_kitti_output_dir && g_mkdir_with_parents (app.cfg->gie_kitti_output_dir, 0755) != 0) {
    g_printerr ("ova-app: %s: gie-kitti-output-dir: cannot create '%s': %s\n", app.cfg->path,
        app.cfg->gie_kitti_output_dir, g_strerror (errno));
    app.exit_code = 2;
    goto done;
  }
  if (!ova_app_build_pipeline (&app, &err)) {
    g_printerr ("ova-app: %s\n", err->message);
    g_clear_error (&err);
    app.exit_code = 2;
    goto done;
  }
  if (!ova_app_start_consumers (&app, &err)) {
    g_printerr ("ova-app: %s\n", err->message);
    g_clear_error (&err);
    app.exit_code = 2;
    goto done;
  }
  bus = gst_element_get_bus (app.pipeline);
  gst_bus_add_watch (bus, on_bus, &app);
  gst_object_unref (bus);
  g_unix_signal_add (SIGINT, on_sigint, &app);
  g_unix_signal_add (SIGTERM, on_sigint, &app);

  app.start_us = app.last_perf_us = g_get_monotonic_time ();
  ova_app_start_watchdog (&app);
  if (app.cfg->enable_perf)
    perf_id = g_timeout_add_seconds (app.cfg->perf_interval_sec, on_perf_timer, &app);
  if (max_seconds > 0)
    g_timeout_add ((guint) (max_seconds * 1000), on_max_seconds, &app);
  if (gst_element_set_state (app.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    g_printerr ("ova-app: the pipeline could not start (see the errors above)\n");
    app.exit_code = 1;
  }
  if (app.exit_code == 0 || app.exit_code == 1) {
    /* Errors during start-up arrive on the bus: run the loop to report them. */
    g_main_loop_run (app.loop);
  }
  if (perf_id) {
    g_source_remove (perf_id);
    /* the last, partial interval and the whole run's average: a run shorter
     * than one interval still reports its fps. Not when no frame came since
     * the last line (the streams had ended): its 0 fps would read as a
     * stall. */
    gboolean fresh = app.last_perf_us == app.start_us;
    g_mutex_lock (&app.stats_lock);
    for (guint i = 0; i < app.n_sources; i++)
      fresh = fresh || app.sources[i].frames != app.sources[i].frames_at_last;
    g_mutex_unlock (&app.stats_lock);
    if (fresh)
      on_perf_timer (&app);
  }
  if (app.watchdog_id)
    g_source_remove (app.watchdog_id);
  for (guint i = 0; i < app.n_sources; i++)
    if (app.sources[i].reconnect_timer)
      g_source_remove (app.sources[i].reconnect_timer);
  gst_element_set_state (app.pipeline, GST_STATE_NULL);
  {
    gdouble total = (g_get_monotonic_time () - app.start_us) / 1e6;
    g_print ("ova-app: %" G_GUINT64_FORMAT " frames from %u sources in %.1f s (%.1f frames/s)\n",
        app.frames_total, app.n_sources, total, app.frames_total / MAX (total, 1e-6));
  }
  for (guint i = 0; i < app.n_sources; i++) {
    OvaAppSource *s = &app.sources[i];
    if (s->reconnect)
      g_print ("ova-app: source %u (%s): %u reconnects, %u reconnection attempts%s\n", i, s->uri, s->reconnects,
          s->attempts_total, s->gave_up ? ", gave up" : "");
  }
  if (app.consumers)
    g_print ("ova-app: %u cloud-to-device commands received\n", app.commands_received);
  ova_app_report_latency (&app);
  for (guint i = 0; i < app.cfg->n_sinks; i++)
    if (app.cfg->sinks[i].enable && app.cfg->sinks[i].type == SINK_FILE && app.exit_code == 0)
      g_print ("ova-app: wrote %s\n", app.cfg->sinks[i].output_file);
  if (app.jsonl && app.exit_code == 0)
    g_print ("ova-app: wrote %s\n", app.cfg->detections_jsonl);

done:
  ova_app_stop_consumers (&app);
  if (app.jsonl)
    fclose (app.jsonl);
  if (app.line)
    g_string_free (app.line, TRUE);
  if (app.pipeline)
    gst_object_unref (app.pipeline);
  if (app.rtsp_servers)
    g_ptr_array_unref (app.rtsp_servers);
  for (guint i = 0; i < app.n_sources; i++) {
    g_free (app.sources[i].uri);
    gst_clear_object (&app.sources[i].mux_pad);
  }
  g_hash_table_unref (app.latency);
  g_array_unref (app.latency_total);
  g_main_loop_unref (app.loop);
  g_mutex_clear (&app.stats_lock);
  ova_app_config_free (app.cfg);
  g_free (config_path);
  /* No gst_deinit () unless OVA_APP_GST_DEINIT=1 (leak checks): it stops
   * the parked streaming threads right before exit () (see above). */
  if (!g_strcmp0 (g_getenv ("OVA_APP_GST_DEINIT"), "1"))
    gst_deinit ();
  return app.exit_code;
}
