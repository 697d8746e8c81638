/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * ova-pipeline-bench: runs a gst-launch description to EOS (or for at most
 * --seconds after the first frame) and reports what reached the element named
 * "sink": frames per second (first to last frame at the sink, so start-up —
 * decoder creation, engine compilation — is left out), objects, and with
 * OVA_LATENCY=1 the latency records of ova's elements: per element (its entry
 * to its exit) and end to end (arrival at ovamux to the sink), median and
 * 99th percentile. Frames are the frames of ova batches (ovamux's output) or
 * plain buffers (a decoder's output).
 *
 *   ova-pipeline-bench [--seconds S] [--warmup W] [--label L] [--dump FILE.jsonl]
 *                      [--embeddings FILE.jsonl] LAUNCH...
 *
 * --warmup W leaves the frames of the first W seconds after the first frame
 * out of frames/s and latency (start-up catch-up, decoders still starting).
 * --embeddings writes, per frame, the objects that carry an embedding
 * (OVA_USER_META_EMBEDDING): {"source_id":0,"frame":3,"objects":[{"class_id":0,
 * "tracker_id":5,"left":..,"top":..,"width":..,"height":..,"embedding":[...]}]}.
 *
 * Prints one line "RESULT label=L frames=F seconds=S fps=X objects=O batches=B"
 * then "LATENCY label=L component=C n=N median_ms=M p99_ms=P" lines (the
 * component "end-to-end" for the whole path). Exit 1 on a pipeline error.
 */
#include <ova/meta.h>
#include <ova/infer.h>
#include <gst/gst.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  GMutex lock;
  guint64 frames, objects, batches;
  gint64 start_us, first_us, last_us;
  GHashTable *lat;  /* component (interned) -> GArray of gdouble ms */
  GArray *e2e;
  FILE *dump;
  FILE *embeddings;
  GString *line;
  gdouble max_seconds, warmup;
  GstElement *pipeline;
  gboolean eos_sent;
} Stats;

static void
add_ms (Stats *s, const gchar *component, gdouble ms)
{
  GArray *a = g_hash_table_lookup (s->lat, component);
  if (!a) {
    a = g_array_new (FALSE, FALSE, sizeof (gdouble));
    g_hash_table_insert (s->lat, (gpointer) component, a);
  }
  g_array_append_val (a, ms);
}

/* One JSON line: the frame's objects that carry an embedding, with it. */
static void
write_embeddings (Stats *s, OvaFrameMeta *f)
{
  GString *l = s->line;
  g_string_truncate (l, 0);
  g_string_append_printf (l, "{\"source_id\":%u,\"frame\":%" G_GUINT64_FORMAT ",\"objects\":[", f->source_id,
                          f->frame_num);
  gboolean first = TRUE;
  for (guint i = 0; i < ova_frame_meta_get_n_objects (f); i++) {
    OvaObjectMeta *o = ova_frame_meta_get_object (f, i);
    OvaUserMeta *um = ova_object_meta_find_user (o, OVA_USER_META_EMBEDDING);
    guint n = 0;
    const gfloat *v = um ? ova_user_meta_get_embedding_data (um, &n) : NULL;
    if (!v)
      continue;
    g_string_append_printf (l, "%s{\"class_id\":%d,\"tracker_id\":%" G_GINT64_FORMAT, first ? "" : ",", o->class_id,
                            o->tracker_id);
    g_string_append_printf (l, ",\"left\":%.2f,\"top\":%.2f,\"width\":%.2f,\"height\":%.2f,\"embedding\":[",
                            o->rect.left, o->rect.top, o->rect.width, o->rect.height);
    for (guint k = 0; k < n; k++)
      g_string_append_printf (l, k ? ",%.6g" : "%.6g", v[k]);
    g_string_append (l, "]}");
    first = FALSE;
  }
  g_string_append (l, "]}\n");
  fwrite (l->str, 1, l->len, s->embeddings);
}

static gboolean
send_eos (gpointer data)
{
  Stats *s = data;
  gst_element_send_event (s->pipeline, gst_event_new_eos ());
  return G_SOURCE_REMOVE;
}

static GstPadProbeReturn
probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Stats *s = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  gint64 now = g_get_monotonic_time ();
  guint64 now_ns = ova_latency_now_ns ();
  OvaBatchMeta *bm = ova_buffer_get_batch_meta (buf);
  g_mutex_lock (&s->lock);
  if (!s->start_us)
    s->start_us = now;
  if ((now - s->start_us) / 1e6 < s->warmup) {
    g_mutex_unlock (&s->lock);
    return GST_PAD_PROBE_OK;
  }
  if (!s->first_us)
    s->first_us = now;
  s->last_us = now;
  if (!bm) {
    s->frames++;
  } else {
    s->batches++;
    for (guint i = 0; i < ova_batch_meta_get_n_frames (bm); i++) {
      OvaFrameMeta *f = ova_batch_meta_get_frame (bm, i);
      s->frames++;
      s->objects += ova_frame_meta_get_n_objects (f);
      if (s->dump) {
        g_string_truncate (s->line, 0);
        ova_infer_frame_to_json (f, s->line);
        fwrite (s->line->str, 1, s->line->len, s->dump);
      }
      if (s->embeddings)
        write_embeddings (s, f);
      if (!ova_latency_enabled ())
        continue;
      for (guint k = 0; k < f->latency.n_entries; k++) {
        const OvaLatencyEntry *e = &f->latency.entries[k];
        if (e->out_ns)
          add_ms (s, e->component, (e->out_ns - e->in_ns) / 1e6);
      }
      if (f->latency.source_ns) {
        gdouble ms = (now_ns - f->latency.source_ns) / 1e6;
        g_array_append_val (s->e2e, ms);
      }
    }
  }
  if (s->max_seconds > 0 && !s->eos_sent && (now - s->start_us) / 1e6 >= s->max_seconds) {
    s->eos_sent = TRUE;
    g_idle_add (send_eos, s);
  }
  g_mutex_unlock (&s->lock);
  return GST_PAD_PROBE_OK;
}

static int
cmp_double (gconstpointer a, gconstpointer b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;
  return x < y ? -1 : x > y;
}

static void
report (const gchar *label, const gchar *component, GArray *a)
{
  if (!a || !a->len)
    return;
  g_array_sort (a, cmp_double);
  gdouble med = g_array_index (a, gdouble, a->len / 2);
  gdouble p99 = g_array_index (a, gdouble, MIN (a->len - 1, (guint) (a->len * 0.99)));
  printf ("LATENCY label=%s component=%s n=%u median_ms=%.2f p99_ms=%.2f\n", label, component, a->len, med, p99);
}

typedef struct {
  GMainLoop *loop;
  gboolean error;
} BusState;

static gboolean
on_bus (GstBus *bus, GstMessage *m, gpointer data)
{
  BusState *b = data;
  switch (GST_MESSAGE_TYPE (m)) {
    case GST_MESSAGE_ERROR: {
      GError *err = NULL;
      gchar *dbg = NULL;
      gst_message_parse_error (m, &err, &dbg);
      g_printerr ("ova-pipeline-bench: error from %s: %s (%s)\n", GST_OBJECT_NAME (GST_MESSAGE_SRC (m)),
                  err->message, dbg ? dbg : "");
      g_error_free (err);
      g_free (dbg);
      b->error = TRUE;
      g_main_loop_quit (b->loop);
      break;
    }
    case GST_MESSAGE_EOS:
      g_main_loop_quit (b->loop);
      break;
    default:
      break;
  }
  return TRUE;
}

int
main (int argc, char **argv)
{
  gdouble seconds = 0, warmup = 0;
  gchar *label = NULL, *dump = NULL, *embeddings = NULL;
  GOptionEntry entries[] = {
    { "seconds", 's', 0, G_OPTION_ARG_DOUBLE, &seconds, "stop (EOS) this many seconds after the first frame", "S" },
    { "warmup", 'w', 0, G_OPTION_ARG_DOUBLE, &warmup, "leave out the frames of the first W seconds", "W" },
    { "label", 'l', 0, G_OPTION_ARG_STRING, &label, "label of the RESULT lines", "L" },
    { "dump", 'd', 0, G_OPTION_ARG_FILENAME, &dump, "write each frame's objects as JSON lines", "FILE" },
    { "embeddings", 'e', 0, G_OPTION_ARG_FILENAME, &embeddings, "write each frame's object embeddings as JSON lines",
      "FILE" },
    { NULL },
  };
  GError *err = NULL;
  GOptionContext *oc = g_option_context_new ("LAUNCH... (with an element named sink)");
  g_option_context_add_main_entries (oc, entries, NULL);
  g_option_context_add_group (oc, gst_init_get_option_group ());
  if (!g_option_context_parse (oc, &argc, &argv, &err) || argc < 2) {
    g_printerr ("ova-pipeline-bench: %s\n", err ? err->message : "no pipeline given");
    return 2;
  }
  g_option_context_free (oc);

  GstElement *pipeline = gst_parse_launchv ((const gchar **) argv + 1, &err);
  if (!pipeline || err) {
    g_printerr ("ova-pipeline-bench: %s\n", err ? err->message : "bad pipeline");
    return 2;
  }
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  if (!sink) {
    g_printerr ("ova-pipeline-bench: no element named sink\n");
    return 2;
  }
  Stats s = { 0 };
  g_mutex_init (&s.lock);
  s.lat = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, (GDestroyNotify) g_array_unref);
  s.e2e = g_array_new (FALSE, FALSE, sizeof (gdouble));
  s.max_seconds = seconds;
  s.warmup = warmup;
  s.pipeline = pipeline;
  s.line = g_string_new (NULL);
  if (dump && !(s.dump = fopen (dump, "w"))) {
    g_printerr ("ova-pipeline-bench: cannot write %s\n", dump);
    return 2;
  }
  if (embeddings && !(s.embeddings = fopen (embeddings, "w"))) {
    g_printerr ("ova-pipeline-bench: cannot write %s\n", embeddings);
    return 2;
  }
  GstPad *pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, probe, &s, NULL);
  gst_object_unref (pad);

  BusState b = { g_main_loop_new (NULL, FALSE), FALSE };
  GstBus *bus = gst_element_get_bus (pipeline);
  gst_bus_add_watch (bus, on_bus, &b);
  gint64 t0 = g_get_monotonic_time ();
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    g_printerr ("ova-pipeline-bench: the pipeline does not start\n");
    GstMessage *m;
    while ((m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR))) {
      on_bus (bus, m, &b);
      gst_message_unref (m);
    }
    b.error = TRUE;
  } else {
    g_main_loop_run (b.loop);
  }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gint64 t1 = g_get_monotonic_time ();

  const gchar *lb = label ? label : "run";
  gdouble span = s.last_us > s.first_us ? (s.last_us - s.first_us) / 1e6 : 0;
  /* frames after the first one over the time between first and last */
  gdouble fps = span > 0 && s.frames > 1 ? (s.frames - 1) / span : 0;
  printf ("RESULT label=%s frames=%" G_GUINT64_FORMAT " seconds=%.3f fps=%.1f objects=%" G_GUINT64_FORMAT
          " batches=%" G_GUINT64_FORMAT " wall=%.3f startup=%.3f error=%d\n",
          lb, s.frames, span, fps, s.objects, s.batches, (t1 - t0) / 1e6,
          s.start_us ? (s.start_us - t0) / 1e6 : 0.0, b.error);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, s.lat);
  while (g_hash_table_iter_next (&it, &k, &v))
    report (lb, k, v);
  report (lb, "end-to-end", s.e2e);
  fflush (stdout);
  if (s.dump)
    fclose (s.dump);
  if (s.embeddings)
    fclose (s.embeddings);
  gst_object_unref (sink);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
  g_hash_table_unref (s.lat);
  g_array_unref (s.e2e);
  g_string_free (s.line, TRUE);
  return b.error ? 1 : 0;
}
