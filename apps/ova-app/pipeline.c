/* ova-app — building the pipeline from the configuration. SPDX-License-Identifier: MIT
 *
 *   sources -> ovamux -> [ovainfer primary] -> [ovatrack] -> [ovainfer secondary...]
 *           -> (perf / latency / detections probe) -> [ovaosd] -> [ovatiler]
 *           -> tee -> sinks            (without a tiler: ovademux -> per-source sinks)
 */
#include "app.h"
#include "ova-config.h"
#include <ova/infer.h>
#include <ova/meta.h>
#ifdef OVA_APP_HAVE_RTSP_SERVER
#include <gst/rtsp-server/rtsp-server.h>
#endif
#include <stdio.h>
#include <string.h>

#define APP_ERROR (g_quark_from_static_string ("ova-app"))

static GstElement *
make (const gchar *factory, const gchar *name, GError **error)
{
  GstElement *e = gst_element_factory_make (factory, name);
  if (!e)
    g_set_error (error, APP_ERROR, 1,
        "element '%s' is not available: is its GStreamer plugin installed (or ova built with it)?", factory);
  return e;
}

/* ---------------------------------------------------------------- sources */

static gboolean
seek_to_start (gpointer data)
{
  OvaAppSource *src = data;
  if (src->bin && !gst_element_seek_simple (src->bin, GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT, 0))
    g_printerr ("ova-app: source %u: could not seek back to the start for file-loop\n", src->source_id);
  return G_SOURCE_REMOVE;
}

static const gchar *
source_name (OvaAppSource *src)
{
  return src->uri ? src->uri : "camera";
}

static gboolean create_source (OvaApp *app, OvaAppSource *src, GError **error);
static void schedule_reconnect (OvaAppSource *src, const gchar *reason);

/* Main thread: builds the source again (the timer of schedule_reconnect). */
static gboolean
rebuild_source (gpointer data)
{
  OvaAppSource *src = data;
  OvaApp *app = src->app;
  GError *err = NULL;
  src->reconnect_timer = 0;
  if (app->eos_sent)
    return G_SOURCE_REMOVE;
  src->attempts++;
  src->attempts_total++;
  if (src->cfg->rtsp_reconnect_attempts < 0)
    g_print ("ova-app: source %u (%s): reconnecting (attempt %u, no limit)\n", src->source_id, source_name (src),
        src->attempts);
  else
    g_print ("ova-app: source %u (%s): reconnecting (attempt %u of %d)\n", src->source_id, source_name (src),
        src->attempts, src->cfg->rtsp_reconnect_attempts);
  g_mutex_lock (&app->stats_lock);
  src->last_buffer_us = g_get_monotonic_time ();
  src->waiting_first = TRUE;
  g_mutex_unlock (&app->stats_lock);
  if (!create_source (app, src, &err) || !gst_element_sync_state_with_parent (src->bin)) {
    gchar *reason = g_strdup_printf ("could not rebuild: %s", err ? err->message : "state change failed");
    g_clear_error (&err);
    schedule_reconnect (src, reason); /* tears down what was built, tries again later */
    g_free (reason);
  }
  return G_SOURCE_REMOVE;
}

/* Main thread. Dynamic-pipeline rules: the old bin is set to NULL here (never
 * from its own streaming thread), removed (which unlinks it from ovamux), and
 * a new one is linked to the same ovamux pad when its decoder has a pad. */
static void
schedule_reconnect (OvaAppSource *src, const gchar *reason)
{
  OvaApp *app = src->app;
  gint max = src->cfg->rtsp_reconnect_attempts;
  guint interval = MAX (1, src->cfg->rtsp_reconnect_interval_sec);
  if (src->reconnect_timer || src->gave_up || app->eos_sent)
    return;
  g_printerr ("ova-app: source %u (%s): %s\n", src->source_id, source_name (src), reason);
  if (src->bin) {
    GstElement *old = src->bin;
    src->bin = NULL;
    gst_element_set_state (old, GST_STATE_NULL);
    gst_bin_remove (GST_BIN (app->pipeline), old);
  }
  {
    /* An error during the pipeline's start makes GstBin abandon the state
     * change: ask for PLAYING again now that the failing bin is gone. */
    GstState cur = GST_STATE_NULL;
    gst_element_get_state (app->pipeline, &cur, NULL, 0);
    /* Only then: a PLAYING pipeline set to PLAYING again would pick a new
     * base time, and live sources' timestamps would jump. */
    if (!app->eos_sent && cur != GST_STATE_PLAYING)
      gst_element_set_state (app->pipeline, GST_STATE_PLAYING);
  }
  if (max >= 0 && src->attempts >= (guint) max) {
    src->gave_up = TRUE;
    g_printerr ("ova-app: source %u: giving up after %u reconnection attempts; the other sources go on\n",
        src->source_id, src->attempts);
    if (src->mux_pad) {
      gst_element_release_request_pad (app->mux, src->mux_pad);
      gst_clear_object (&src->mux_pad);
    }
    for (guint i = 0; i < app->n_sources; i++)
      if (!app->sources[i].gave_up)
        return;
    g_printerr ("ova-app: error: every source has failed: nothing left to process\n");
    app->exit_code = 1;
    g_main_loop_quit (app->loop);
    return;
  }
  src->reconnect_timer = g_timeout_add_seconds (interval, rebuild_source, src);
}

typedef struct {
  OvaAppSource *src;
  gchar *reason;
} ReconnectRequest;

static gboolean
reconnect_idle (gpointer data)
{
  ReconnectRequest *r = data;
  schedule_reconnect (r->src, r->reason);
  g_free (r->reason);
  g_free (r);
  return G_SOURCE_REMOVE;
}

/* Errors on the bus: a source that reconnects is rebuilt instead of stopping the app. */
gboolean
ova_app_source_error (OvaApp *app, GstObject *origin, const gchar *message)
{
  gboolean stale = FALSE;
  OvaAppSource *src = ova_app_source_of (app, origin, &stale);
  gchar *reason;
  if (stale)
    return TRUE; /* from a bin already torn down */
  if (!src || !src->reconnect)
    return FALSE;
  reason = g_strdup_printf ("error: %s", message);
  schedule_reconnect (src, reason);
  g_free (reason);
  return TRUE;
}

/* Which source an element belongs to; @stale: it is in no longer in the pipeline. */
OvaAppSource *
ova_app_source_of (OvaApp *app, GstObject *obj, gboolean *stale)
{
  GstObject *top = obj;
  *stale = FALSE;
  for (GstObject *o = obj; o; o = GST_OBJECT_PARENT (o)) {
    for (guint i = 0; i < app->n_sources; i++)
      if (app->sources[i].bin && app->sources[i].bin == (GstElement *) o)
        return &app->sources[i];
    top = o;
  }
  if (top != (GstObject *) app->pipeline && obj != (GstObject *) app->pipeline)
    *stale = TRUE;
  return NULL;
}

static gboolean
watchdog (gpointer data)
{
  OvaApp *app = data;
  gint64 now = g_get_monotonic_time ();
  for (guint i = 0; i < app->n_sources; i++) {
    OvaAppSource *src = &app->sources[i];
    gint64 last;
    if (!src->reconnect || !src->bin || src->reconnect_timer || src->gave_up)
      continue;
    g_mutex_lock (&app->stats_lock);
    last = src->last_buffer_us;
    g_mutex_unlock (&app->stats_lock);
    if (now - last > (gint64) src->cfg->rtsp_reconnect_interval_sec * G_USEC_PER_SEC) {
      gchar *reason = g_strdup_printf ("no frame for %d s", src->cfg->rtsp_reconnect_interval_sec);
      schedule_reconnect (src, reason);
      g_free (reason);
    }
  }
  return G_SOURCE_CONTINUE;
}

void
ova_app_start_watchdog (OvaApp *app)
{
  for (guint i = 0; i < app->n_sources; i++)
    if (app->sources[i].reconnect) {
      gint64 now = g_get_monotonic_time ();
      for (guint k = 0; k < app->n_sources; k++)
        app->sources[k].last_buffer_us = now;
      app->watchdog_id = g_timeout_add (250, watchdog, app);
      return;
    }
}

static GstPadProbeReturn
source_event_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  OvaAppSource *src = data;
  GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);
  if (GST_EVENT_TYPE (ev) != GST_EVENT_EOS)
    return GST_PAD_PROBE_OK;
  if (src->loop) {
    g_idle_add (seek_to_start, src);
    return GST_PAD_PROBE_DROP;
  }
  if (src->reconnect && !src->app->eos_sent) {
    /* Keep ovamux's pad open: the stream comes back. */
    ReconnectRequest *r = g_new0 (ReconnectRequest, 1);
    r->src = src;
    r->reason = g_strdup ("end of stream");
    g_idle_add (reconnect_idle, r);
    return GST_PAD_PROBE_DROP;
  }
  return GST_PAD_PROBE_OK;
}

static gboolean
announce_reconnect (gpointer data)
{
  OvaAppSource *src = data;
  g_print ("ova-app: source %u (%s): reconnected (%u reconnects)\n", src->source_id, source_name (src), src->reconnects);
  return G_SOURCE_REMOVE;
}

static GstPadProbeReturn
source_buffer_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  OvaAppSource *src = data;
  OvaApp *app = src->app;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  gboolean first;
  if (!GST_BUFFER_PTS_IS_VALID (buf) && !GST_BUFFER_DTS_IS_VALID (buf)) {
    /* A decoder draining a broken connection can output frames without a
     * time: they cannot be placed on the timeline (a muxer would fail). */
    GST_DEBUG ("source %u: dropping a frame without timestamp", src->source_id);
    return GST_PAD_PROBE_DROP;
  }
  if (!src->reconnect)
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&app->stats_lock);
  src->last_buffer_us = g_get_monotonic_time ();
  first = src->waiting_first;
  src->waiting_first = FALSE;
  if (first) {
    src->reconnects++;
    src->attempts = 0;
  }
  g_mutex_unlock (&app->stats_lock);
  if (first)
    g_idle_add (announce_reconnect, src);
  return GST_PAD_PROBE_OK;
}

static gboolean
link_adapted (OvaAppSource *src, GstPad *out)
{
  OvaApp *app = src->app;
  if (!src->mux_pad) {
    gchar *name = g_strdup_printf ("sink_%u", src->source_id);
    src->mux_pad = gst_element_request_pad_simple (app->mux, name);
    g_free (name);
  }
  if (src->mux_pad && gst_pad_is_linked (src->mux_pad)) {
    /* a reconnected source: its old adapter goes */
    GstPad *old = gst_pad_get_peer (src->mux_pad);
    if (old) {
      GstElement *e = gst_pad_get_parent_element (old);
      gst_pad_unlink (old, src->mux_pad);
      if (e) {
        gst_element_set_locked_state (e, TRUE);
        gst_element_set_state (e, GST_STATE_NULL);
        gst_bin_remove (GST_BIN (app->pipeline), e);
        gst_object_unref (e);
      }
      gst_object_unref (old);
    }
  }
  if (!src->mux_pad || gst_pad_link (out, src->mux_pad) != GST_PAD_LINK_OK) {
    g_printerr ("ova-app: source %u: could not link the decoder to ovamux\n", src->source_id);
    return FALSE;
  }
  return TRUE;
}

/* Between a source's decoded pad and ovamux, what makes every frame of the
 * batch the same kind of memory. GPU path: NV12 in CUDA memory (cudaupload is
 * a passthrough for nvh264dec/nvh265dec's CUDA output and uploads NV12 from
 * system memory; other formats are converted to NV12 on the CPU first).
 * CPU path on a machine with NVIDIA decoders: system memory only, so that a
 * decoder that could keep frames in CUDA memory downloads them. Elsewhere
 * nothing. Returns the pad to link to ovamux (a new reference) or NULL. */
static GstPad *
memory_adapter (OvaApp *app, OvaAppSource *src, GstPad *pad)
{
  GstElementFactory *nv = app->gpu ? NULL : gst_element_factory_find ("nvh264dec");
  if (!app->gpu && !nv)
    return gst_object_ref (pad);
  if (nv)
    gst_object_unref (nv);
  GPtrArray *chain = g_ptr_array_new ();
  const gchar *missing = NULL;
  if (app->gpu) {
    GstCaps *caps = gst_pad_get_current_caps (pad);
    if (!caps)
      caps = gst_pad_query_caps (pad, NULL);
    const gchar *fmt = caps && gst_caps_get_size (caps) ? gst_structure_get_string (gst_caps_get_structure (caps, 0), "format") : NULL;
    gboolean nv12 = !fmt || !strcmp (fmt, "NV12");
    if (caps)
      gst_caps_unref (caps);
    if (!nv12) {
      /* a software decoder or camera in another format */
      GstElement *conv = gst_element_factory_make ("videoconvert", NULL);
      GstElement *f = gst_element_factory_make ("capsfilter", NULL);
      if (!conv || !f)
        missing = "videoconvert";
      if (conv)
        g_ptr_array_add (chain, conv);
      if (f) {
        GstCaps *c = gst_caps_from_string ("video/x-raw,format=NV12");
        g_object_set (f, "caps", c, NULL);
        gst_caps_unref (c);
        g_ptr_array_add (chain, f);
      }
    }
    GstElement *up = gst_element_factory_make ("cudaupload", NULL);
    if (!up)
      missing = "cudaupload";
    else
      g_ptr_array_add (chain, up);
  }
  GstElement *f = gst_element_factory_make ("capsfilter", NULL);
  if (f) {
    GstCaps *c = gst_caps_from_string (app->gpu ? "video/x-raw(memory:CUDAMemory),format=NV12"
                                                : "video/x-raw(memory:SystemMemory)");
    g_object_set (f, "caps", c, NULL);
    gst_caps_unref (c);
    g_ptr_array_add (chain, f);
  }
  if (missing) {
    g_printerr ("ova-app: source %u: no element \"%s\"\n", src->source_id, missing);
    for (guint i = 0; i < chain->len; i++)
      gst_object_unref (g_ptr_array_index (chain, i));
    g_ptr_array_free (chain, TRUE);
    return NULL;
  }
  /* one bin, so that a reconnected source replaces its adapter in one go */
  GstElement *bin = gst_bin_new (NULL);
  for (guint i = 0; i < chain->len; i++)
    gst_bin_add (GST_BIN (bin), g_ptr_array_index (chain, i));
  gboolean ok = TRUE;
  for (guint i = 0; i + 1 < chain->len; i++)
    ok = ok && gst_element_link (g_ptr_array_index (chain, i), g_ptr_array_index (chain, i + 1));
  GstPad *in = gst_element_get_static_pad (g_ptr_array_index (chain, 0), "sink");
  GstPad *out = gst_element_get_static_pad (g_ptr_array_index (chain, chain->len - 1), "src");
  gst_element_add_pad (bin, gst_ghost_pad_new ("sink", in));
  gst_element_add_pad (bin, gst_ghost_pad_new ("src", out));
  gst_object_unref (in);
  gst_object_unref (out);
  g_ptr_array_free (chain, TRUE);
  gst_bin_add (GST_BIN (app->pipeline), bin);
  GstPad *sink = gst_element_get_static_pad (bin, "sink");
  ok = ok && gst_pad_link (pad, sink) == GST_PAD_LINK_OK;
  gst_object_unref (sink);
  gst_element_sync_state_with_parent (bin);
  if (!ok) {
    g_printerr ("ova-app: source %u: could not link the decoder to its %s memory adapter\n", src->source_id,
                app->gpu ? "CUDA" : "system");
    return NULL;
  }
  return gst_element_get_static_pad (bin, "src");
}

static gboolean
link_to_mux (OvaAppSource *src, GstPad *pad)
{
  OvaApp *app = src->app;
  GstPad *out = memory_adapter (app, src, pad);
  if (!out)
    return FALSE;
  if (out != pad) {
    /* the probes stay on the decoder's pad; the adapter's output goes to ovamux */
    gboolean ok = link_adapted (src, out);
    gst_object_unref (out);
    if (!ok)
      return FALSE;
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, source_event_probe, src, NULL);
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, source_buffer_probe, src, NULL);
    return TRUE;
  }
  gst_object_unref (out);
  if (!src->mux_pad) {
    gchar *name = g_strdup_printf ("sink_%u", src->source_id);
    src->mux_pad = gst_element_request_pad_simple (app->mux, name);
    g_free (name);
  }
  if (!src->mux_pad || gst_pad_link (pad, src->mux_pad) != GST_PAD_LINK_OK) {
    g_printerr ("ova-app: source %u: could not link the decoder to ovamux\n", src->source_id);
    return FALSE;
  }
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, source_event_probe, src, NULL);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, source_buffer_probe, src, NULL);
  return TRUE;
}

static void
on_pad_added (GstElement *bin, GstPad *pad, gpointer data)
{
  OvaAppSource *src = data;
  GstCaps *caps = gst_pad_get_current_caps (pad);
  GstStructure *s;
  gboolean video;

  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  s = gst_caps_get_structure (caps, 0);
  video = g_str_has_prefix (gst_structure_get_name (s), "video/x-raw");
  gst_caps_unref (caps);
  if (!video || (src->mux_pad && gst_pad_is_linked (src->mux_pad)))
    return; /* audio, undecodable, or a second video stream: not ours */
  link_to_mux (src, pad);
}

/* uridecodebin made its source element: RTSP options go to rtspsrc. */
static void
on_source_setup (GstElement *bin, GstElement *source, gpointer data)
{
  OvaAppSource *src = data;
  const OvaSourceConfig *c = src->cfg;
  GstElementFactory *f = gst_element_get_factory (source);
  if (!f || strcmp (GST_OBJECT_NAME (f), "rtspsrc") != 0)
    return;
  g_object_set (source, "latency", (guint) c->latency, NULL);
  if (c->select_rtp_protocol == 4)
    gst_util_set_object_arg (G_OBJECT (source), "protocols", "tcp");
  if (src->reconnect) {
    /* Give up on a dead TCP connection within the reconnect interval. */
    g_object_set (source, "tcp-timeout", (guint64) MAX (1, c->rtsp_reconnect_interval_sec) * G_USEC_PER_SEC, NULL);
  }
}

static gboolean
add_uri_source (OvaApp *app, OvaAppSource *src, GError **error)
{
  gchar *name = g_strdup_printf ("source%u", src->source_id);
  src->bin = make ("uridecodebin", name, error);
  g_free (name);
  if (!src->bin)
    return FALSE;
  g_object_set (src->bin, "uri", src->uri, NULL);
  if (src->reconnect) {
    /* Its state changes stay inside: a source (re)connecting must not take
     * the running pipeline back to PAUSED (and stop the clock of the others). */
    g_object_set (src->bin, "async-handling", TRUE, NULL);
  }
  g_signal_connect (src->bin, "pad-added", G_CALLBACK (on_pad_added), src);
  g_signal_connect (src->bin, "source-setup", G_CALLBACK (on_source_setup), src);
  gst_bin_add (GST_BIN (app->pipeline), src->bin);
  return TRUE;
}

static gboolean
add_camera_source (OvaApp *app, OvaAppSource *src, GError **error)
{
  const OvaSourceConfig *c = src->cfg;
  gchar *desc = g_strdup_printf ("v4l2src device=/dev/video%d ! videoconvert ! videoscale ! videorate ! "
      "video/x-raw,width=%d,height=%d,framerate=%d/%d", c->camera_v4l2_dev_node,
      c->camera_width, c->camera_height, c->camera_fps_n, c->camera_fps_d);
  GstElement *bin = gst_parse_bin_from_description (desc, TRUE, error);
  GstPad *srcpad;
  gchar *name;
  gboolean ok;
  g_free (desc);
  if (!bin)
    return FALSE;
  name = g_strdup_printf ("source%u", src->source_id);
  gst_object_set_name (GST_OBJECT (bin), name);
  g_free (name);
  src->bin = bin;
  gst_bin_add (GST_BIN (app->pipeline), bin);
  srcpad = gst_element_get_static_pad (bin, "src");
  ok = link_to_mux (src, srcpad);
  gst_object_unref (srcpad);
  if (!ok)
    g_set_error (error, APP_ERROR, 1, "source %u: could not link the camera to ovamux", src->source_id);
  return ok;
}

static gboolean
create_source (OvaApp *app, OvaAppSource *src, GError **error)
{
  if (src->cfg->type == SOURCE_CAMERA_V4L2)
    return add_camera_source (app, src, error);
  return add_uri_source (app, src, error);
}

static gboolean
add_sources (OvaApp *app, GError **error)
{
  gboolean any_live = FALSE;
  for (guint i = 0; i < app->cfg->n_sources; i++) {
    const OvaSourceConfig *c = &app->cfg->sources[i];
    guint copies = c->type == SOURCE_MULTI_URI ? (guint) c->num_sources : 1;
    if (!c->enable)
      continue;
    for (guint k = 0; k < copies; k++) {
      OvaAppSource *src;
      if (app->n_sources >= OVA_APP_MAX_SOURCES) {
        g_set_error (error, APP_ERROR, 1, "more than %d sources", OVA_APP_MAX_SOURCES);
        return FALSE;
      }
      src = &app->sources[app->n_sources];
      src->source_id = app->n_sources;
      src->cfg = c;
      src->app = app;
      src->uri = g_strdup (c->uri);
      src->finite = c->uri && g_str_has_prefix (c->uri, "file://");
      src->loop = src->finite && app->cfg->file_loop;
      src->reconnect = c->type == SOURCE_RTSP && c->rtsp_reconnect_interval_sec > 0;
      if (c->type == SOURCE_CAMERA_V4L2 || c->type == SOURCE_RTSP || (c->uri && (g_str_has_prefix (c->uri, "rtsp")
                  || g_str_has_prefix (c->uri, "udp://") || g_str_has_prefix (c->uri, "srt://"))))
        any_live = TRUE;
      app->n_sources++;
      if (!create_source (app, src, error))
        return FALSE;
    }
  }
  if (any_live && !app->cfg->mux_live_source) {
    /* A stalled live source must not hold the batches of the others. */
    g_printerr ("ova-app: notice: live sources: ovamux batches on a deadline ([streammux] live-source=1)\n");
    g_object_set (app->mux, "live-source", TRUE, NULL);
  }
  return TRUE;
}

/* ------------------------------------------------------- analytics probe */

static void
record_latency (OvaApp *app, OvaFrameMeta *f, guint64 now)
{
  gdouble total;
  for (guint i = 0; i < f->latency.n_entries; i++) {
    const OvaLatencyEntry *e = &f->latency.entries[i];
    GArray *a;
    gdouble ms;
    if (!e->out_ns)
      continue;
    ms = (e->out_ns - e->in_ns) / 1e6;
    a = g_hash_table_lookup (app->latency, e->component);
    if (!a) {
      a = g_array_new (FALSE, FALSE, sizeof (gdouble));
      g_hash_table_insert (app->latency, (gpointer) e->component, a);
    }
    g_array_append_val (a, ms);
  }
  if (f->latency.source_ns) {
    total = (now - f->latency.source_ns) / 1e6;
    g_array_append_val (app->latency_total, total);
  }
}

static GstPadProbeReturn
analytics_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  OvaApp *app = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  OvaBatchMeta *batch = ova_buffer_get_batch_meta (buf);
  guint64 now = ova_latency_now_ns ();
  if (!batch)
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&app->stats_lock);
  for (guint i = 0; i < ova_batch_meta_get_n_frames (batch); i++) {
    OvaFrameMeta *f = ova_batch_meta_get_frame (batch, i);
    if (app->jsonl) {
      g_string_truncate (app->line, 0);
      ova_infer_frame_to_json (f, app->line);
      fwrite (app->line->str, 1, app->line->len, app->jsonl);
    }
    if (app->cfg->gie_kitti_output_dir) {
      GError *err = NULL;
      if (!ova_infer_write_kitti (app->cfg->gie_kitti_output_dir, 0, f, &err)) {
        g_printerr ("ova-app: %s\n", err->message);
        g_clear_error (&err);
      }
    }
    if (f->source_id < app->n_sources)
      app->sources[f->source_id].frames++;
    app->frames_total++;
    if (ova_latency_enabled ())
      record_latency (app, f, now);
  }
  g_mutex_unlock (&app->stats_lock);
  return GST_PAD_PROBE_OK;
}

static gint
cmp_double (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;
  return x < y ? -1 : x > y;
}

static void
print_stat (const gchar *name, GArray *a)
{
  gdouble med, p99;
  if (!a || a->len == 0)
    return;
  g_array_sort (a, cmp_double);
  med = g_array_index (a, gdouble, a->len / 2);
  p99 = g_array_index (a, gdouble, MIN (a->len - 1, (guint) (a->len * 0.99)));
  g_print ("  %-24s median %8.3f ms   p99 %8.3f ms   (%u frames)\n", name, med, p99, a->len);
}

void
ova_app_report_latency (OvaApp *app)
{
  GHashTableIter it;
  gpointer k, v;
  if (!ova_latency_enabled ())
    return;
  g_mutex_lock (&app->stats_lock);
  g_print ("latency per element (entry to exit, per frame):\n");
  g_hash_table_iter_init (&it, app->latency);
  while (g_hash_table_iter_next (&it, &k, &v))
    print_stat (k, v);
  g_print ("latency end to end (muxer entry to the end of the analytics chain):\n");
  print_stat ("total", app->latency_total);
  g_mutex_unlock (&app->stats_lock);
}

/* ------------------------------------------------------------------ sinks */

/* videoconvert → encoder → parser, as a gst-launch fragment. */
static gchar *
encoder_desc (const OvaSinkConfig *s, gboolean *h265)
{
  guint kbps = MAX (1, s->bitrate / 1000);
  *h265 = s->codec == 2;
  if (*h265)
    return g_strdup_printf ("videoconvert ! video/x-raw,format=I420 ! x265enc bitrate=%u speed-preset=ultrafast "
        "tune=zerolatency key-int-max=%d ! h265parse", kbps, s->iframeinterval);
  if (gst_element_factory_find ("x264enc"))
    return g_strdup_printf ("videoconvert ! video/x-raw,format=I420 ! x264enc bitrate=%u speed-preset=ultrafast "
        "tune=zerolatency key-int-max=%d ! h264parse", kbps, s->iframeinterval);
  return g_strdup_printf ("videoconvert ! video/x-raw,format=I420 ! openh264enc bitrate=%u gop-size=%d ! h264parse",
      kbps * 1000, s->iframeinterval);
}

static GstElement *
make_file_chain (OvaApp *app, const OvaSinkConfig *s, GError **error)
{
  gboolean h265;
  gchar *enc = encoder_desc (s, &h265);
  gchar *desc = g_strdup_printf ("queue ! %s ! %s ! filesink location=\"%s\" sync=%s qos=%s", enc,
      s->container == 2 ? "matroskamux" : "mp4mux", s->output_file, s->sync ? "true" : "false",
      s->qos ? "true" : "false");
  GstElement *bin = gst_parse_bin_from_description (desc, TRUE, error);
  g_free (enc);
  g_free (desc);
  return bin;
}

/* Type 4, as deepstream-app: the stream is encoded once here and sent as RTP
 * to udp-port on loopback; the RTSP server's shared media reads it back with
 * udpsrc, so any number of clients costs no extra encoding. */
static GstElement *
make_rtsp_chain (OvaApp *app, const OvaSinkConfig *s, GError **error)
{
#ifdef OVA_APP_HAVE_RTSP_SERVER
  gboolean h265;
  gchar *enc = encoder_desc (s, &h265);
  const gchar *enc_name = h265 ? "H265" : "H264";
  gchar *desc = g_strdup_printf ("queue ! %s ! %s config-interval=1 pt=96 ! udpsink host=127.0.0.1 port=%d "
      "sync=%s qos=%s async=false", enc, h265 ? "rtph265pay" : "rtph264pay", s->udp_port,
      s->sync ? "true" : "false", s->qos ? "true" : "false");
  GstElement *bin = gst_parse_bin_from_description (desc, TRUE, error);
  GstRTSPServer *server;
  GstRTSPMountPoints *mounts;
  GstRTSPMediaFactory *factory;
  gchar *service, *launch;
  g_free (enc);
  g_free (desc);
  if (!bin)
    return NULL;
  server = gst_rtsp_server_new ();
  service = g_strdup_printf ("%d", s->rtsp_port);
  gst_rtsp_server_set_service (server, service);
  g_free (service);
  /* Depayload and payload again (no decoding): the server's payloader gets
   * the properties gst-rtsp-server expects (pt, seqnum) and each client a
   * clean RTP session. */
  launch = g_strdup_printf ("( udpsrc port=%d buffer-size=524288 caps=\"application/x-rtp, media=video, "
      "clock-rate=90000, encoding-name=%s, payload=96\" ! %s ! %s ! %s name=pay0 pt=96 config-interval=1 )",
      s->udp_port, enc_name, h265 ? "rtph265depay" : "rtph264depay", h265 ? "h265parse" : "h264parse",
      h265 ? "rtph265pay" : "rtph264pay");
  factory = gst_rtsp_media_factory_new ();
  gst_rtsp_media_factory_set_launch (factory, launch);
  gst_rtsp_media_factory_set_shared (factory, TRUE);
  g_free (launch);
  mounts = gst_rtsp_server_get_mount_points (server);
  gst_rtsp_mount_points_add_factory (mounts, "/ds-test", factory);
  g_object_unref (mounts);
  if (gst_rtsp_server_attach (server, NULL) == 0) {
    g_set_error (error, APP_ERROR, 1, "%s: [%s] rtsp-port %d: cannot start the RTSP server (port in use?)",
        app->cfg->path, s->group, s->rtsp_port);
    g_object_unref (server);
    gst_object_unref (bin);
    return NULL;
  }
  if (!app->rtsp_servers)
    app->rtsp_servers = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (app->rtsp_servers, server);
  g_print ("ova-app: *** RTSP stream at rtsp://localhost:%d/ds-test ***\n", s->rtsp_port);
  return bin;
#else
  g_set_error (error, APP_ERROR, 1, "%s: [%s] sink type 4 (RTSP) needs ova built with gst-rtsp-server",
      app->cfg->path, s->group);
  return NULL;
#endif
}

static GstElement *
make_sink_chain (OvaApp *app, const OvaSinkConfig *s, GError **error)
{
  gchar *desc = NULL;
  GstElement *bin;
  switch (s->type) {
    case SINK_FAKE:
      desc = g_strdup_printf ("queue ! fakesink sync=%s qos=%s", s->sync ? "true" : "false", s->qos ? "true" : "false");
      break;
    case SINK_EGL:
    case SINK_OVERLAY:
      desc = g_strdup_printf ("queue ! videoconvert ! autovideosink sync=%s", s->sync ? "true" : "false");
      break;
    case SINK_FILE:
      return make_file_chain (app, s, error);
    case SINK_RTSP:
      return make_rtsp_chain (app, s, error);
    default:
      g_set_error (error, APP_ERROR, 1, "%s: %s: sink type %d is not supported yet", app->cfg->path, s->group, s->type);
      return NULL;
  }
  bin = gst_parse_bin_from_description (desc, TRUE, error);
  g_free (desc);
  return bin;
}

static gboolean
link_pads (GstPad *src, GstElement *sinkbin, GError **error)
{
  GstPad *sink = gst_element_get_static_pad (sinkbin, "sink");
  GstPadLinkReturn r = gst_pad_link (src, sink);
  gst_object_unref (sink);
  if (r != GST_PAD_LINK_OK) {
    g_set_error (error, APP_ERROR, 1, "could not link %s:%s to %s (%s)", GST_DEBUG_PAD_NAME (src),
        GST_ELEMENT_NAME (sinkbin), gst_pad_link_get_name (r));
    return FALSE;
  }
  return TRUE;
}

/* -------------------------------------------------------- message broker */

static GstElement *add_chain (OvaApp *app, GstElement *prev, GstElement *e, GError **error);

static GstElement *
make_msgconv (const gchar *name, const gchar *config, gint payload_type, gint frame_interval, gint comp_id,
    GError **error)
{
  GstElement *e = make ("ovamsgconv", name, error);
  if (!e)
    return NULL;
  g_object_set (e, "payload-type", (guint) payload_type, "frame-interval", (guint) MAX (1, frame_interval),
      "comp-id", (guint) comp_id, NULL);
  if (config)
    g_object_set (e, "config", config, NULL);
  return e;
}

/* deepstream-app's layout: [message-converter] converts once in the main
 * chain; each type 6 sink is a branch of a tee placed after the analytics
 * (before OSD and tiler: messages describe every source's frame) with its own
 * ovamsgconv unless [message-converter] did it, then ovamsgbroker. */
static GstElement *
add_message_branches (OvaApp *app, GstElement *last, GError **error)
{
  OvaAppConfig *cfg = app->cfg;
  GstElement *tee = NULL;
  if (cfg->msgconv_enable) {
    GstElement *conv = make_msgconv ("message-converter", cfg->msgconv_config, cfg->msgconv_payload_type,
        cfg->msgconv_frame_interval, cfg->msgconv_comp_id, error);
    if (!conv || !(last = add_chain (app, last, conv, error)))
      return NULL;
  }
  for (guint i = 0; i < cfg->n_sinks; i++) {
    const OvaSinkConfig *s = &cfg->sinks[i];
    GstElement *q, *conv = NULL, *broker;
    gchar *name;
    if (!s->enable || s->type != SINK_MSG_BROKER)
      continue;
    if (!tee) {
      if (!(tee = make ("tee", "analytics-tee", error)) || !(last = add_chain (app, last, tee, error)))
        return NULL;
    }
    name = g_strdup_printf ("%s-queue", s->group);
    q = make ("queue", name, error);
    g_free (name);
    if (!q || !add_chain (app, tee, q, error))
      return NULL;
    /* Never block the video for the broker: the broker spools what it cannot send. */
    g_object_set (q, "leaky", 2, "max-size-buffers", 64, "max-size-bytes", 0, "max-size-time", (guint64) 0, NULL);
    if (!cfg->msgconv_enable) {
      name = g_strdup_printf ("%s-msgconv", s->group);
      conv = make_msgconv (name, s->msg_conv_config, s->msg_conv_payload_type, cfg->msgconv_frame_interval,
          s->msg_conv_comp_id, error);
      g_free (name);
      if (!conv || !add_chain (app, q, conv, error))
        return NULL;
    }
    name = g_strdup_printf ("%s-msgbroker", s->group);
    broker = make ("ovamsgbroker", name, error);
    g_free (name);
    if (!broker)
      return NULL;
    g_object_set (broker, "proto-lib", s->msg_broker_proto_lib, "conn-str", s->msg_broker_conn_str,
        "comp-id", (guint) s->msg_broker_comp_id, NULL);
    if (s->msg_broker_config)
      g_object_set (broker, "config", s->msg_broker_config, NULL);
    if (s->topic)
      g_object_set (broker, "topic", s->topic, NULL);
    if (!add_chain (app, conv ? conv : q, broker, error))
      return NULL;
  }
  return last;
}

/* ---------------------------------------------------------------- build */

static GstElement *
add_chain (OvaApp *app, GstElement *prev, GstElement *e, GError **error)
{
  gst_bin_add (GST_BIN (app->pipeline), e);
  if (!gst_element_link (prev, e)) {
    g_set_error (error, APP_ERROR, 1, "could not link %s to %s", GST_ELEMENT_NAME (prev), GST_ELEMENT_NAME (e));
    return NULL;
  }
  return e;
}

static gboolean
set_gie (GstElement *e, const OvaGieConfig *g, gboolean secondary)
{
  g_object_set (e, "config-file-path", g->config_file, NULL);
  if (g->batch_size > 0)
    g_object_set (e, "batch-size", (guint) g->batch_size, NULL);
  if (g->interval > 0)
    g_object_set (e, "interval", (guint) g->interval, NULL);
  if (g->gie_unique_id > 0)
    g_object_set (e, "unique-id", (guint) g->gie_unique_id, NULL);
  if (secondary) {
    g_object_set (e, "process-mode", 2, NULL);
    if (g->operate_on_gie_id >= 0)
      g_object_set (e, "infer-on-gie-id", g->operate_on_gie_id, NULL);
    if (g->operate_on_class_ids)
      g_object_set (e, "infer-on-class-ids", g->operate_on_class_ids, NULL);
  }
  if (g->model_engine_file)
    g_object_set (e, "model-engine-file", g->model_engine_file, NULL);
  return TRUE;
}

/* The GPU path: NVIDIA decoders keep the frames in CUDA memory, ovamux
 * batches them, the primary ovainfer preprocesses and infers them on the GPU
 * (the cuda backend, fp16 with network-mode=2), ovaosd and ovatiler draw and
 * tile in CUDA memory, and cudadownload brings the pictures to system memory
 * only for sinks that show or encode them. Taken when this build has it,
 * GStreamer's nvcodec decoders are there (they register only when a GPU is)
 * and nothing else needs the pixels in system memory. Otherwise *why says
 * what keeps the CPU path. */
/* TRUE when an enabled sink shows, encodes or streams the pictures. */
static gboolean
sinks_need_pixels (const OvaAppConfig *cfg)
{
  for (guint i = 0; i < cfg->n_sinks; i++)
    if (cfg->sinks[i].enable && cfg->sinks[i].type != SINK_FAKE && cfg->sinks[i].type != SINK_MSG_BROKER)
      return TRUE;
  return FALSE;
}

static gboolean
choose_gpu_path (const OvaAppConfig *cfg, const gchar **why)
{
  const gchar *env = g_getenv ("OVA_APP_GPU");
  if (env && !strcmp (env, "0")) {
    *why = "OVA_APP_GPU=0";
    return FALSE;
  }
#if !(OVA_HAVE_CUDA && OVA_HAVE_GST_CUDA)
  *why = "built without CUDA";
  return FALSE;
#endif
  GstElementFactory *f = gst_element_factory_find ("nvh264dec");
  if (!f) {
    *why = "no GPU or no NVIDIA decoder (GStreamer nvcodec)";
    return FALSE;
  }
  gst_object_unref (f);
  if (!cfg->pgie.group || !cfg->pgie.enable) {
    *why = "no primary detector";
    return FALSE;
  }
  /* secondary GIEs run on the GPU path too; OVA_APP_GPU_SGIE=0 keeps a
   * pipeline with one on the CPU path (docs/gpu.md: a crash at exit, seen
   * while ova-app still called gst_deinit ()) */
  const gchar *sg = g_getenv ("OVA_APP_GPU_SGIE");
  for (guint i = 0; i < cfg->n_sgies && sg && !strcmp (sg, "0"); i++)
    if (cfg->sgies[i].enable) {
      *why = "secondary GIEs kept on the CPU path (OVA_APP_GPU_SGIE=0)";
      return FALSE;
    }
  if (cfg->mux_width > 0 || cfg->mux_height > 0) {
    *why = "[streammux] width/height scaling works on system memory";
    return FALSE;
  }
  if (cfg->osd_enable || cfg->tiler_enable || sinks_need_pixels (cfg)) {
    f = gst_element_factory_find ("cudadownload");
    if (!f) {
      *why = "no cudadownload (GStreamer nvcodec) for the sinks that show or encode the pixels";
      return FALSE;
    }
    gst_object_unref (f);
  }
  return TRUE;
}

/* Downloads to system memory before a sink chain that shows or encodes
 * pixels, on the GPU path (ovademux's pads carry CUDA memory there). */
static gboolean
link_sink_chain (OvaApp *app, GstPad *src, const OvaSinkConfig *s, GstElement *chain, GError **error)
{
  GstElement *down;
  GstPad *dp;
  gboolean ok;
  if (!app->gpu || s->type == SINK_FAKE)
    return link_pads (src, chain, error);
  if (!(down = make ("cudadownload", NULL, error)))
    return FALSE;
  gst_bin_add (GST_BIN (app->pipeline), down);
  if (!link_pads (src, down, error))
    return FALSE;
  dp = gst_element_get_static_pad (down, "src");
  ok = link_pads (dp, chain, error);
  gst_object_unref (dp);
  return ok;
}

gboolean
ova_app_build_pipeline (OvaApp *app, GError **error)
{
  OvaAppConfig *cfg = app->cfg;
  GstElement *last, *e;
  GstPad *probe_pad;
  guint n_enabled_sinks = 0;

  const gchar *why = NULL;
  app->gpu = choose_gpu_path (cfg, &why);
  guint n_sgies = 0;
  for (guint i = 0; i < cfg->n_sgies; i++)
    n_sgies += cfg->sgies[i].enable ? 1 : 0;
  gchar *sgies = n_sgies ? g_strdup_printf (", %u secondary ovainfer on the cuda backend", n_sgies) : g_strdup ("");
  if (app->gpu)
    g_printerr ("ova-app: GPU path: NVIDIA decoders into CUDA memory, ovamux, primary ovainfer on the cuda "
                "backend (GPU %d)%s%s%s%s\n", MAX (cfg->pgie.gpu_id, cfg->gpu_id), sgies,
                cfg->osd_enable ? ", ovaosd drawing in CUDA memory" : "",
                cfg->tiler_enable ? ", ovatiler tiling in CUDA memory" : "",
                sinks_need_pixels (cfg) ? ", cudadownload before the sinks that show or encode" : "");
  else
    g_printerr ("ova-app: CPU path (%s)\n", why);
  g_free (sgies);

  app->pipeline = gst_pipeline_new ("ova-app");
  app->mux = make ("ovamux", "mux", error);
  if (!app->mux)
    return FALSE;
  gst_bin_add (GST_BIN (app->pipeline), app->mux);
  g_object_set (app->mux, "batched-push-timeout", cfg->mux_timeout_us, "live-source", cfg->mux_live_source,
      "sync-inputs", cfg->mux_sync_inputs, "width", (guint) cfg->mux_width, "height", (guint) cfg->mux_height, NULL);
  if (!add_sources (app, error))
    return FALSE;
  g_object_set (app->mux, "batch-size", (guint) (cfg->mux_batch_size > 0 ? cfg->mux_batch_size : (gint) app->n_sources), NULL);
  last = app->mux;

  if (cfg->pgie.group && cfg->pgie.enable) {
    if (!(e = make ("ovainfer", "primary-gie", error)))
      return FALSE;
    set_gie (e, &cfg->pgie, FALSE);
    if (app->gpu)
      g_object_set (e, "backend", "cuda", "gpu-id", (guint) MAX (cfg->pgie.gpu_id, cfg->gpu_id), NULL);
    if (!(last = add_chain (app, last, e, error)))
      return FALSE;
  }
  if (cfg->tracker_enable) {
    if (!(e = make ("ovatrack", "tracker", error)))
      return FALSE;
    if (cfg->tracker_config)
      g_object_set (e, "ll-config-file", cfg->tracker_config, NULL);
    if (cfg->tracker_algorithm)
      gst_util_set_object_arg (G_OBJECT (e), "algorithm", cfg->tracker_algorithm);
    if (cfg->tracker_width > 0)
      g_object_set (e, "tracker-width", (guint) cfg->tracker_width, NULL);
    if (cfg->tracker_height > 0)
      g_object_set (e, "tracker-height", (guint) cfg->tracker_height, NULL);
    if (!(last = add_chain (app, last, e, error)))
      return FALSE;
  }
  for (guint i = 0; i < cfg->n_sgies; i++) {
    gchar *name;
    if (!cfg->sgies[i].enable)
      continue;
    name = g_strdup_printf ("secondary-gie%u", i);
    e = make ("ovainfer", name, error);
    g_free (name);
    if (!e)
      return FALSE;
    set_gie (e, &cfg->sgies[i], TRUE);
    /* GPU path: the object crops are cut from CUDA memory, which only the
     * cuda backend reads */
    if (app->gpu)
      g_object_set (e, "backend", "cuda", "gpu-id", (guint) MAX (cfg->sgies[i].gpu_id, cfg->gpu_id), NULL);
    if (!(last = add_chain (app, last, e, error)))
      return FALSE;
  }

  probe_pad = gst_element_get_static_pad (last, "src");
  gst_pad_add_probe (probe_pad, GST_PAD_PROBE_TYPE_BUFFER, analytics_probe, app, NULL);
  gst_object_unref (probe_pad);

  if (!(last = add_message_branches (app, last, error)))
    return FALSE;

  if (cfg->osd_enable) {
    if (!(e = make ("ovaosd", "osd", error)))
      return FALSE;
    g_object_set (e, "border-width", (guint) cfg->osd_border_width, "font-size", (guint) cfg->osd_text_size,
        "display-text", cfg->osd_display_text, "display-bbox", cfg->osd_display_bbox, NULL);
    if (cfg->pgie.group && cfg->pgie.enable && cfg->pgie.class_colors)
      g_object_set (e, "class-colors", cfg->pgie.class_colors, NULL);
    if (!(last = add_chain (app, last, e, error)))
      return FALSE;
  }

  for (guint i = 0; i < cfg->n_sinks; i++)
    n_enabled_sinks += cfg->sinks[i].enable && cfg->sinks[i].type != SINK_MSG_BROKER;
  if (n_enabled_sinks == 0) {
    e = make ("fakesink", "sink", error);
    g_object_set (e, "sync", FALSE, NULL);
    return add_chain (app, last, e, error) != NULL;
  }

  if (cfg->tiler_enable) {
    GstElement *tee;
    if (!(e = make ("ovatiler", "tiler", error)))
      return FALSE;
    g_object_set (e, "rows", (guint) cfg->tiler_rows, "columns", (guint) cfg->tiler_columns,
        "width", (guint) cfg->tiler_width, "height", (guint) cfg->tiler_height, NULL);
    if (!(last = add_chain (app, last, e, error)))
      return FALSE;
    /* GPU path: the tiled picture leaves CUDA memory here, once for every sink */
    if (app->gpu && sinks_need_pixels (cfg)) {
      if (!(e = make ("cudadownload", "download", error)) || !(last = add_chain (app, last, e, error)))
        return FALSE;
    }
    tee = make ("tee", "sinks", error);
    if (!(last = add_chain (app, last, tee, error)))
      return FALSE;
    for (guint i = 0; i < cfg->n_sinks; i++) {
      GstElement *chain;
      GstPad *tp;
      gboolean ok;
      if (!cfg->sinks[i].enable || cfg->sinks[i].type == SINK_MSG_BROKER)
        continue;
      if (!(chain = make_sink_chain (app, &cfg->sinks[i], error)))
        return FALSE;
      gst_bin_add (GST_BIN (app->pipeline), chain);
      tp = gst_element_request_pad_simple (tee, "src_%u");
      ok = link_pads (tp, chain, error);
      gst_object_unref (tp);
      if (!ok)
        return FALSE;
    }
  } else {
    GstElement *demux = NULL;
    for (guint i = 0; i < cfg->n_sinks; i++) {
      const OvaSinkConfig *s = &cfg->sinks[i];
      GstElement *chain;
      GstPad *dp;
      gchar *pname;
      gboolean ok;
      if (!s->enable || s->type == SINK_MSG_BROKER)
        continue;
      if (s->type == SINK_FAKE && n_enabled_sinks == 1) {
        /* The batch itself can go to a fakesink: no need to split it. */
        e = make ("fakesink", "sink", error);
        g_object_set (e, "sync", s->sync, "qos", s->qos, NULL);
        return add_chain (app, last, e, error) != NULL;
      }
      if (!demux) {
        if (!(demux = make ("ovademux", "demux", error)))
          return FALSE;
        if (!(last = add_chain (app, last, demux, error)))
          return FALSE;
      }
      if (!(chain = make_sink_chain (app, s, error)))
        return FALSE;
      gst_bin_add (GST_BIN (app->pipeline), chain);
      pname = g_strdup_printf ("src_%d", s->source_id);
      dp = gst_element_request_pad_simple (demux, pname);
      g_free (pname);
      if (!dp) {
        g_set_error (error, APP_ERROR, 1, "%s: [%s] source-id %d: two sinks for one source need a tiler or a tee",
            cfg->path, s->group, s->source_id);
        return FALSE;
      }
      ok = link_sink_chain (app, dp, s, chain, error);
      gst_object_unref (dp);
      if (!ok)
        return FALSE;
    }
  }
  return TRUE;
}
