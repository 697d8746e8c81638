/* ova — build, play to EOS and tear down a 4-source ovamux pipeline many
 * times in one process: no GstObject or GstMiniObject may be left behind
 * (GStreamer's `leaks` tracer) and the resident memory must not grow.
 * SPDX-License-Identifier: MIT */
#include <gst/check/gstcheck.h>
#include <ova/meta.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "mux-test-common.h"

#define N_SOURCES 4

static guint n_iterations = 500;
static guint n_warmup = 50;

static GstTracer *
leaks_tracer (void)
{
  GList *tracers = gst_tracing_get_active_tracers (), *l;
  GstTracer *found = NULL;
  for (l = tracers; l; l = l->next)
    if (!found && g_str_has_prefix (G_OBJECT_TYPE_NAME (l->data), "GstLeaksTracer"))
      found = gst_object_ref (l->data);
  g_list_free_full (tracers, gst_object_unref);
  return found;
}

/* Live objects per type name, from the leaks tracer. */
static GHashTable *
live_objects (GstTracer *tracer, guint *total)
{
  GstStructure *info = NULL;
  const GValue *list;
  GHashTable *counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_signal_emit_by_name (tracer, "get-live-objects", &info);
  fail_unless (info != NULL);
  list = gst_structure_get_value (info, "live-objects-list");
  *total = gst_value_list_get_size (list);
  for (guint i = 0; i < *total; i++) {
    const GstStructure *s = gst_value_get_structure (gst_value_list_get_value (list, i));
    const GValue *obj = gst_structure_get_value (s, "object");
    const gchar *name = G_VALUE_HOLDS_OBJECT (obj) && g_value_get_object (obj)
        ? G_OBJECT_TYPE_NAME (g_value_get_object (obj)) : g_type_name (G_VALUE_TYPE (obj));
    gpointer old = g_hash_table_lookup (counts, name);
    g_hash_table_replace (counts, g_strdup (name), GUINT_TO_POINTER (GPOINTER_TO_UINT (old) + 1));
    /* The tracer hands over the reference it does not own (it "takes" each
     * live object into the list, meant for the end of a process): give one
     * back so that freeing the list leaves every object as it was. */
    if (G_VALUE_HOLDS_OBJECT (obj) && g_value_get_object (obj))
      g_object_ref (g_value_get_object (obj));
    else if (g_value_get_boxed (obj))
      gst_mini_object_ref (g_value_get_boxed (obj));
  }
  gst_structure_free (info);
  return counts;
}

static gsize
rss_bytes (void)
{
  unsigned long size = 0, resident = 0;
  FILE *f = fopen ("/proc/self/statm", "r");
  if (!f)
    return 0;
  if (fscanf (f, "%lu %lu", &size, &resident) != 2)
    resident = 0;
  fclose (f);
  return (gsize) resident * (gsize) sysconf (_SC_PAGESIZE);
}

/* GStreamer 1.22's GstAggregator and GstAggregatorPad do not chain up their
 * GObject constructed() vfunc, so the leaks tracer never hears of them: ovamux
 * and its pads would be invisible to it. Every element and pad of each
 * pipeline is therefore also watched with a weak reference. */
static gint n_watched_alive;
static guint n_watched;

static void
watched_gone (gpointer data, GObject *where_the_object_was)
{
  g_atomic_int_add (&n_watched_alive, -1);
}

static void
watch_object (GObject *o)
{
  g_atomic_int_inc (&n_watched_alive);
  n_watched++;
  g_object_weak_ref (o, watched_gone, NULL);
}

/* Up to 2 s for the watched objects to go: a last reference may be dropped
 * a moment after the pipeline's (an exiting thread, a clock entry released by
 * the clock's thread); a leaked one stays and fails the test. */
static void
wait_watched_released (void)
{
  for (int i = 0; i < 200 && g_atomic_int_get (&n_watched_alive) > 0; i++)
    g_usleep (10000);
}

static void
watch_pads (const GValue *item, gpointer data)
{
  watch_object (g_value_get_object (item));
}

static void
watch_element (const GValue *item, gpointer data)
{
  GstElement *e = g_value_get_object (item);
  GstIterator *it = gst_element_iterate_pads (e);
  watch_object (G_OBJECT (e));
  while (gst_iterator_foreach (it, watch_pads, NULL) == GST_ITERATOR_RESYNC)
    gst_iterator_resync (it);
  gst_iterator_free (it);
}

static void
watch_pipeline (GstElement *p)
{
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (p));
  GValue v = G_VALUE_INIT;
  while (gst_iterator_foreach (it, watch_element, NULL) == GST_ITERATOR_RESYNC)
    gst_iterator_resync (it);
  gst_iterator_free (it);
  g_value_init (&v, GST_TYPE_ELEMENT);
  g_value_set_object (&v, p);
  watch_element (&v, NULL);
  g_value_unset (&v);
}

static void
wait_eos (GstElement *p, guint iteration)
{
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *msg = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "iteration %u: no EOS within 20 s", iteration);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *err = NULL;
    gchar *dbg = NULL;
    gst_message_parse_error (msg, &err, &dbg);
    fail ("iteration %u: %s (%s)", iteration, err->message, dbg ? dbg : "");
  }
  gst_message_unref (msg);
  gst_object_unref (bus);
}

static void
count_batch (GstElement *sink, GstBuffer *buf, GstPad *pad, gpointer data)
{
  OvaBatchMeta *b = ova_buffer_get_batch_meta (buf);
  if (b)
    *(guint *) data += ova_batch_meta_get_n_frames (b);
}

/* Sources end at different times (3, 5, 7, 9 frames): per-source EOS runs too. */
static guint
frames_of (guint s)
{
  return 3 + 2 * s;
}

/* gst_parse_launch: request pads taken by the parser, released by dispose. */
static GstElement *
build_parsed (guint iteration, guint *frames)
{
  GString *desc = g_string_new ("ovamux name=m batch-size=4 ! fakesink name=sink sync=false signal-handoffs=true ");
  GstElement *p, *sink;
  GError *err = NULL;
  for (guint s = 0; s < N_SOURCES; s++)
    g_string_append_printf (desc, "videotestsrc num-buffers=%u pattern=%u ! "
        "video/x-raw,format=%s,width=%u,height=48,framerate=30/1 ! m.sink_%u ",
        frames_of (s), s, s % 2 ? "NV12" : "I420", 64 + 16 * s, s);
  p = gst_parse_launch (desc->str, &err);
  fail_unless (p != NULL, "iteration %u: %s", iteration, err ? err->message : "?");
  g_string_free (desc, TRUE);
  sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  g_signal_connect (sink, "handoff", G_CALLBACK (count_batch), frames);
  gst_object_unref (sink);
  return p;
}

/* By hand: request pads, then release them explicitly after NULL, and
 * every other time an ovademux splitting the batches again. */
static GstElement *
build_manual (guint iteration, guint *frames, GstPad **requested, GstElement **mux_out)
{
  GstElement *p = gst_pipeline_new (NULL);
  GstElement *mux = gst_element_factory_make ("ovamux", NULL);
  gboolean with_demux = (iteration / 2) % 2 == 0;
  fail_unless (mux != NULL);
  gst_bin_add (GST_BIN (p), mux);
  if (with_demux) {
    GstElement *demux = gst_element_factory_make ("ovademux", NULL);
    gst_bin_add (GST_BIN (p), demux);
    fail_unless (gst_element_link (mux, demux));
    for (guint s = 0; s < N_SOURCES; s++) {
      GstElement *q = gst_element_factory_make ("queue", NULL);
      GstElement *sink = gst_element_factory_make ("fakesink", NULL);
      gchar name[16];
      g_object_set (sink, "sync", FALSE, NULL);
      gst_bin_add_many (GST_BIN (p), q, sink, NULL);
      g_snprintf (name, sizeof (name), "src_%u", s);
      fail_unless (gst_element_link_pads (demux, name, q, "sink"));
      fail_unless (gst_element_link (q, sink));
    }
    *frames = 0;
  } else {
    GstElement *sink = gst_element_factory_make ("fakesink", NULL);
    g_object_set (sink, "sync", FALSE, "signal-handoffs", TRUE, NULL);
    g_signal_connect (sink, "handoff", G_CALLBACK (count_batch), frames);
    gst_bin_add (GST_BIN (p), sink);
    fail_unless (gst_element_link (mux, sink));
  }
  for (guint s = 0; s < N_SOURCES; s++) {
    GstElement *src = gst_element_factory_make ("videotestsrc", NULL);
    GstElement *cf = gst_element_factory_make ("capsfilter", NULL);
    GstCaps *caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "I420",
        "width", G_TYPE_INT, 32 + 8 * s, "height", G_TYPE_INT, 24,
        "framerate", GST_TYPE_FRACTION, 30, 1, NULL);
    GstPad *srcpad;
    g_object_set (src, "num-buffers", frames_of (s), NULL);
    g_object_set (cf, "caps", caps, NULL);
    gst_caps_unref (caps);
    gst_bin_add_many (GST_BIN (p), src, cf, NULL);
    fail_unless (gst_element_link (src, cf));
    requested[s] = gst_element_request_pad_simple (mux, "sink_%u");
    fail_unless (requested[s] != NULL);
    srcpad = gst_element_get_static_pad (cf, "src");
    fail_unless_equals_int (gst_pad_link (srcpad, requested[s]), GST_PAD_LINK_OK);
    gst_object_unref (srcpad);
  }
  *mux_out = gst_object_ref (mux);
  return p;
}

static void
run_once (guint iteration)
{
  guint frames = 0, expect = 0;
  GstPad *requested[N_SOURCES] = { NULL };
  GstElement *mux = NULL, *p;
  gboolean manual = iteration % 2 == 1;

  for (guint s = 0; s < N_SOURCES; s++)
    expect += frames_of (s);
  p = manual ? build_manual (iteration, &frames, requested, &mux) : build_parsed (iteration, &frames);
  watch_pipeline (p);
  fail_if (gst_element_set_state (p, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE);
  wait_eos (p, iteration);
  fail_unless_equals_int (gst_element_set_state (p, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  /* Every frame of every source went through (demuxed runs count 0). */
  if (frames != 0 || !manual)
    fail_unless_equals_int (frames, expect);
  if (manual) {
    for (guint s = 0; s < N_SOURCES; s++) {
      gst_element_release_request_pad (mux, requested[s]);
      gst_object_unref (requested[s]);
    }
    gst_object_unref (mux);
  }
  gst_object_unref (p);
}

GST_START_TEST (test_rebuild_no_leaks)
{
  GstTracer *tracer = leaks_tracer ();
  GHashTable *before, *after;
  guint n_before = 0, n_after = 0;
  gsize rss_before, rss_after;
  GHashTableIter it;
  gpointer k, v;
  GString *grown = g_string_new ("");
  gint64 t0 = g_get_monotonic_time ();

  fail_unless (tracer != NULL, "the leaks tracer is not active (GST_TRACERS=leaks)");
  for (guint i = 0; i < n_warmup; i++)
    run_once (i);
  gst_task_cleanup_all ();
  wait_watched_released ();
  before = live_objects (tracer, &n_before);
  rss_before = rss_bytes ();

  for (guint i = n_warmup; i < n_iterations; i++)
    run_once (i);
  gst_task_cleanup_all ();
  wait_watched_released ();
  after = live_objects (tracer, &n_after);
  rss_after = rss_bytes ();

  g_hash_table_iter_init (&it, after);
  while (g_hash_table_iter_next (&it, &k, &v)) {
    guint b = GPOINTER_TO_UINT (g_hash_table_lookup (before, k));
    if (GPOINTER_TO_UINT (v) > b)
      g_string_append_printf (grown, " %s: %u -> %u;", (gchar *) k, b, GPOINTER_TO_UINT (v));
  }
  g_print ("%u pipelines in %.1f s; live GstObjects/GstMiniObjects after warm-up %u, at the end %u; "
      "RSS after warm-up %.1f MiB, at the end %.1f MiB\n", n_iterations,
      (g_get_monotonic_time () - t0) / 1e6, n_before, n_after, rss_before / 1048576.0, rss_after / 1048576.0);
  g_print ("elements and pads watched: %u, still alive: %d\n", n_watched, g_atomic_int_get (&n_watched_alive));
  fail_unless_equals_int (g_atomic_int_get (&n_watched_alive), 0);
  fail_unless (grown->len == 0, "objects left behind after %u rebuilds:%s", n_iterations - n_warmup, grown->str);
  fail_unless_equals_int (n_after, n_before);
  /* Allocator slack and thread stacks are allowed; a leak of one frame or
   * one pipeline per iteration (450 of them) would be far above this. */
  fail_unless (rss_after <= rss_before + 4 * 1024 * 1024,
      "RSS grew from %" G_GSIZE_FORMAT " to %" G_GSIZE_FORMAT " bytes", rss_before, rss_after);

  /* The check itself sees what it should: an element, a pad and a buffer
   * kept alive now show up. */
  {
    GstElement *kept = gst_element_factory_make ("fakesink", NULL);
    GstBuffer *kept_buf = gst_buffer_new ();
    GHashTable *now;
    guint n_now = 0;
    now = live_objects (tracer, &n_now);
    fail_unless_equals_int (n_now, n_after + 3);
    fail_unless_equals_int (GPOINTER_TO_UINT (g_hash_table_lookup (now, "GstFakeSink")),
        GPOINTER_TO_UINT (g_hash_table_lookup (after, "GstFakeSink")) + 1);
    g_hash_table_unref (now);
    gst_buffer_unref (kept_buf);
    gst_object_unref (kept);
  }

  g_string_free (grown, TRUE);
  g_hash_table_unref (before);
  g_hash_table_unref (after);
  gst_object_unref (tracer);
}
GST_END_TEST;

static Suite *
rebuild_suite (void)
{
  Suite *s = suite_create ("ova-mux-rebuild");
  TCase *tc = tcase_create ("rebuild");
  const gchar *n = g_getenv ("OVA_REBUILD_ITERATIONS");
  if (n && atoi (n) > 0) {
    n_iterations = (guint) atoi (n);
    n_warmup = MIN (n_warmup, n_iterations / 5);
  }
  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 300);
  tcase_add_test (tc, test_rebuild_no_leaks);
  return s;
}

/* The tracer must be chosen before gst_init. */
static void
enable_leaks_tracer (void)
{
  const gchar *t = g_getenv ("GST_TRACERS");
  if (!t || !strstr (t, "leaks"))
    g_setenv ("GST_TRACERS", "leaks", TRUE);
}

int
main (int argc, char **argv)
{
  enable_leaks_tracer ();
  ova_test_setup_plugins_before_init ();
  gst_check_init (&argc, &argv);
  ova_test_setup_plugins_after_init ();
  return gst_check_run_suite (rebuild_suite (), "mux_rebuild", __FILE__);
}
