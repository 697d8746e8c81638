/* ova — ovatrack element tests (GstHarness). SPDX-License-Identifier: MIT */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <ova/meta.h>
#include <ova/track.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "synth.h"

typedef struct {
  guint source;
  gboolean infer_done;
  guint n;
  OvaRect rects[40];
  gfloat conf[40];
  const gfloat *emb[40];
  guint emb_dim;
} FrameSpec;

static OvaMetaPool *pool;

static GstBuffer *
make_batch (const FrameSpec *frames, guint n_frames)
{
  GstBuffer *buf = gst_buffer_new ();
  OvaBatchMeta *batch = ova_buffer_add_batch_meta (buf, 16, pool);
  for (guint f = 0; f < n_frames; f++) {
    OvaFrameMeta *fm = ova_batch_meta_acquire_frame (batch);
    fm->source_id = frames[f].source;
    fm->pad_index = frames[f].source;
    fm->source_width = 1280;
    fm->source_height = 720;
    fm->infer_done = frames[f].infer_done;
    ova_batch_meta_add_frame (batch, fm);
    for (guint i = 0; i < frames[f].n; i++) {
      OvaObjectMeta *o = ova_batch_meta_acquire_object (batch);
      o->class_id = 0;
      ova_object_meta_set_label (o, "person");
      o->confidence = frames[f].conf[i] > 0 ? frames[f].conf[i] : 0.9f;
      o->rect = frames[f].rects[i];
      o->detector_rect = frames[f].rects[i];
      ova_frame_meta_add_object (fm, o);
      if (frames[f].emb[i]) {
        OvaUserMeta *um = ova_batch_meta_acquire_user (batch);
        ova_user_meta_set_embedding (um, frames[f].emb[i], frames[f].emb_dim);
        ova_object_meta_add_user (o, um);
      }
    }
  }
  return buf;
}

static GstHarness *
new_harness (const gchar *props)
{
  gchar *desc = g_strdup_printf ("ovatrack %s", props ? props : "");
  GstHarness *h = gst_harness_new_parse (desc);
  g_free (desc);
  gst_harness_set_src_caps_str (h, "video/x-ova-batch");
  return h;
}

static OvaObjectMeta *
object (GstBuffer *buf, guint frame, guint i)
{
  OvaBatchMeta *b = ova_buffer_get_batch_meta (buf);
  OvaFrameMeta *f = ova_batch_meta_get_frame (b, frame);
  fail_unless (i < ova_frame_meta_get_n_objects (f));
  return ova_frame_meta_get_object (f, i);
}

static guint
n_objects (GstBuffer *buf, guint frame)
{
  return ova_frame_meta_get_n_objects (ova_batch_meta_get_frame (ova_buffer_get_batch_meta (buf), frame));
}

static OvaRect
box (gfloat x, gfloat y)
{
  OvaRect r = { x, y, 40, 100 };
  return r;
}

/* Two sources in one batch, two people on source 0 and one on source 1:
 * ids persist per source, sources are independent (each counts from 1). */
GST_START_TEST (test_two_sources)
{
  GstHarness *h = new_harness (NULL);
  gint64 id00 = 0, id01 = 0, id10 = 0;
  for (gint t = 0; t < 10; t++) {
    FrameSpec fs[2] = { { 0 } };
    GstBuffer *out;
    fs[0].source = 0; fs[0].infer_done = TRUE; fs[0].n = 2;
    fs[0].rects[0] = box (100 + 4 * t, 100);
    fs[0].rects[1] = box (600 - 4 * t, 300);
    fs[1].source = 1; fs[1].infer_done = TRUE; fs[1].n = 1;
    fs[1].rects[0] = box (100 + 4 * t, 100);
    out = gst_harness_push_and_pull (h, make_batch (fs, 2));
    fail_unless (out != NULL);
    fail_unless_equals_int (n_objects (out, 0), 2);
    fail_unless_equals_int (n_objects (out, 1), 1);
    if (t == 0) {
      id00 = object (out, 0, 0)->tracker_id;
      id01 = object (out, 0, 1)->tracker_id;
      id10 = object (out, 1, 0)->tracker_id;
      fail_unless (id00 > 0 && id01 > 0 && id00 != id01);
      fail_unless_equals_int64 (id10, 1); /* its own numbering */
    }
    fail_unless_equals_int64 (object (out, 0, 0)->tracker_id, id00);
    fail_unless_equals_int64 (object (out, 0, 1)->tracker_id, id01);
    fail_unless_equals_int64 (object (out, 1, 0)->tracker_id, id10);
    fail_unless_equals_int (object (out, 0, 0)->track_state, OVA_TRACK_CONFIRMED);
    /* the detector's box is kept */
    fail_unless_equals_float (object (out, 0, 0)->detector_rect.left, 100 + 4 * t);
    fail_unless (object (out, 0, 0)->tracker_confidence > 0.5f);
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
}
GST_END_TEST;

/* Detector interval 2: on skipped frames the element adds PREDICTED objects
 * that move with the track; ids survive. */
GST_START_TEST (test_interval_prediction)
{
  GstHarness *h = new_harness ("algorithm=sort");
  gint64 id = 0;
  gfloat last_left = 0;
  for (gint t = 0; t < 30; t++) {
    FrameSpec fs = { 0 };
    GstBuffer *out;
    gboolean infer = t % 3 == 0;
    fs.source = 0;
    fs.infer_done = infer;
    fs.n = infer ? 1 : 0;
    fs.rects[0] = box (100 + 5 * t, 200);
    out = gst_harness_push_and_pull (h, make_batch (&fs, 1));
    fail_unless_equals_int (n_objects (out, 0), 1);
    if (t == 0) id = object (out, 0, 0)->tracker_id;
    fail_unless_equals_int64 (object (out, 0, 0)->tracker_id, id);
    if (!infer) {
      OvaObjectMeta *o = object (out, 0, 0);
      fail_unless_equals_int (o->track_state, OVA_TRACK_PREDICTED);
      fail_unless_equals_string (o->label, "person");
      fail_unless (o->confidence < 0);
      if (t > 3) /* moves on once the velocity is known */
        fail_unless (o->rect.left > last_left);
      if (t > 6) /* velocity learnt: close to where the object really is */
        fail_unless (fabsf (o->rect.left - (100 + 5 * t)) < 5);
    } else {
      fail_unless_equals_int (object (out, 0, 0)->track_state, OVA_TRACK_CONFIRMED);
    }
    last_left = object (out, 0, 0)->rect.left;
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
}
GST_END_TEST;

static gint64
push_one (GstHarness *h, guint source, gboolean infer, gfloat x, guint *n_out)
{
  FrameSpec fs = { 0 };
  GstBuffer *out;
  gint64 id = -2;
  fs.source = source;
  fs.infer_done = infer;
  fs.n = infer ? 1 : 0;
  fs.rects[0] = box (x, 100);
  out = gst_harness_push_and_pull (h, make_batch (&fs, 1));
  *n_out = n_objects (out, 0);
  if (*n_out) id = object (out, 0, 0)->tracker_id;
  gst_buffer_unref (out);
  return id;
}

/* The muxer's per-source EOS / pad release drop that source's tracks only;
 * ids given later on that source are still new ones. */
static void
check_drop_event (const gchar *event_name)
{
  GstHarness *h = new_harness (NULL);
  guint n;
  gint64 id0 = 0, id1 = 0, id;
  for (gint t = 0; t < 5; t++) {
    id0 = push_one (h, 0, TRUE, 100 + t, &n);
    id1 = push_one (h, 1, TRUE, 100 + t, &n);
  }
  fail_unless (gst_harness_push_event (h, ova_event_new_stream (event_name, 0)));
  /* source 0 has nothing left to predict, source 1 still has its track */
  push_one (h, 0, FALSE, 0, &n);
  fail_unless_equals_int (n, 0);
  id = push_one (h, 1, FALSE, 0, &n);
  fail_unless_equals_int (n, 1);
  fail_unless_equals_int64 (id, id1);
  /* same place on source 0: a new track with a new id */
  id = push_one (h, 0, TRUE, 105, &n);
  fail_unless_equals_int (n, 1);
  fail_unless (id > id0);
  id = push_one (h, 1, TRUE, 105, &n);
  fail_unless_equals_int64 (id, id1);
  gst_harness_teardown (h);
}

GST_START_TEST (test_stream_eos) { check_drop_event (OVA_EVENT_STREAM_EOS); }
GST_END_TEST;
GST_START_TEST (test_stream_remove) { check_drop_event (OVA_EVENT_STREAM_REMOVE); }
GST_END_TEST;

/* reid through the element: embeddings from user metas keep two people apart
 * when they reappear on each other's spot. */
GST_START_TEST (test_reid_embeddings)
{
  GstHarness *h = new_harness ("algorithm=reid");
  static const gfloat ea[4] = { 1, 0, 0, 0 }, eb[4] = { 0, 1, 0, 0 };
  gint64 ida = 0, idb = 0;
  GstBuffer *out;
  FrameSpec fs = { 0 };
  fs.source = 3; fs.infer_done = TRUE; fs.n = 2; fs.emb_dim = 4;
  for (gint t = 0; t < 5; t++) {
    fs.rects[0] = box (100, 100); fs.emb[0] = ea;
    fs.rects[1] = box (115, 100); fs.emb[1] = eb;
    out = gst_harness_push_and_pull (h, make_batch (&fs, 1));
    ida = object (out, 0, 0)->tracker_id;
    idb = object (out, 0, 1)->tracker_id;
    gst_buffer_unref (out);
  }
  for (gint t = 0; t < 3; t++) {
    FrameSpec empty = { 0 };
    empty.source = 3; empty.infer_done = TRUE;
    gst_buffer_unref (gst_harness_push_and_pull (h, make_batch (&empty, 1)));
  }
  fs.rects[0] = box (115, 100); fs.emb[0] = ea;
  fs.rects[1] = box (100, 100); fs.emb[1] = eb;
  out = gst_harness_push_and_pull (h, make_batch (&fs, 1));
  fail_unless_equals_int64 (object (out, 0, 0)->tracker_id, ida);
  fail_unless_equals_int64 (object (out, 0, 1)->tracker_id, idb);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* ll-config-file: a good file is used (IOU: no prediction), a bad one stops the
 * element from starting with an error naming the file and the key. */
GST_START_TEST (test_config_file)
{
  const gchar *src = g_getenv ("OVA_SOURCE_DIR");
  gchar *path, *props, *bad;
  GstHarness *h;
  GstElement *e;
  GstBus *bus;
  GstMessage *msg;
  GError *err = NULL;
  guint n;
  fail_unless (src != NULL);
  path = g_build_filename (src, "configs", "tracker_iou.txt", NULL);
  props = g_strdup_printf ("ll-config-file=\"%s\"", path);
  h = new_harness (props);
  for (gint t = 0; t < 4; t++) push_one (h, 0, TRUE, 100 + 5 * t, &n);
  push_one (h, 0, FALSE, 0, &n);
  fail_unless_equals_int (n, 1); /* predicted, but IOU has no motion: same box */
  gst_harness_teardown (h);
  g_free (props);
  g_free (path);

  bad = g_build_filename (g_get_tmp_dir (), "ovatrack-bad-XXXXXX.txt", NULL);
  {
    gint fd = g_mkstemp (bad);
    fail_unless (fd >= 0);
    fail_unless (write (fd, "[tracker]\nmin-iou=2\n", 20) == 20);
    close (fd);
  }
  e = gst_element_factory_make ("ovatrack", NULL);
  g_object_set (e, "ll-config-file", bad, NULL);
  bus = gst_bus_new ();
  gst_element_set_bus (e, bus);
  fail_unless_equals_int (gst_element_set_state (e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  fail_unless (msg != NULL);
  gst_message_parse_error (msg, &err, NULL);
  fail_unless (strstr (err->message, bad) != NULL, "%s", err->message);
  fail_unless (strstr (err->message, "min-iou") != NULL, "%s", err->message);
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
  g_unlink (bad);
  g_free (bad);
}
GST_END_TEST;

/* tracker-width/height scale boxes into the tracker's plane and back: results stay in source pixels. */
GST_START_TEST (test_tracker_resolution)
{
  GstHarness *h = new_harness ("tracker-width=640 tracker-height=384");
  guint n;
  gint64 id = 0;
  for (gint t = 0; t < 6; t++) {
    FrameSpec fs = { 0 };
    GstBuffer *out;
    fs.source = 0; fs.infer_done = TRUE; fs.n = 1;
    fs.rects[0] = box (200 + 3 * t, 300);
    out = gst_harness_push_and_pull (h, make_batch (&fs, 1));
    if (t == 0) id = object (out, 0, 0)->tracker_id;
    fail_unless_equals_int64 (object (out, 0, 0)->tracker_id, id);
    fail_unless (fabsf (object (out, 0, 0)->rect.left - (200 + 3 * t)) < 3);
    fail_unless (fabsf (object (out, 0, 0)->rect.height - 100) < 3);
    gst_buffer_unref (out);
  }
  (void) n;
  gst_harness_teardown (h);
}
GST_END_TEST;

/* A buffer without batch meta goes through untouched. */
GST_START_TEST (test_no_batch_meta)
{
  GstHarness *h = new_harness (NULL);
  GstBuffer *out = gst_harness_push_and_pull (h, gst_buffer_new_allocate (NULL, 16, NULL));
  fail_unless (out != NULL);
  fail_unless (ova_buffer_get_batch_meta (out) == NULL);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* 16 frames x 30 objects: steady state allocates no meta, and the time per batch is reported. */
GST_START_TEST (test_batch_16x30)
{
  GstHarness *h = new_harness (NULL);
  gint64 t0 = 0;
  const gint n_batches = 200;
  for (gint t = 0; t < n_batches + 20; t++) {
    FrameSpec fs[16];
    GstBuffer *out;
    if (t == 20) t0 = g_get_monotonic_time ();
    for (guint f = 0; f < 16; f++) {
      memset (&fs[f], 0, sizeof fs[f]);
      fs[f].source = f;
      fs[f].infer_done = TRUE;
      fs[f].n = 30;
      for (guint i = 0; i < 30; i++)
        fs[f].rects[i] = box (20 + (i % 10) * 120 + t, 20 + (i / 10) * 200);
    }
    out = gst_harness_push_and_pull (h, make_batch (fs, 16));
    if (t == n_batches + 19)
      for (guint i = 0; i < 30; i++)
        fail_unless_equals_int (object (out, 15, i)->track_state, OVA_TRACK_CONFIRMED);
    gst_buffer_unref (out);
  }
  g_print ("ovatrack: %.3f ms per batch of 16 frames x 30 objects (harness, incl. building the batch)\n",
      (g_get_monotonic_time () - t0) / 1000.0 / n_batches);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* The element reports exactly what the library computes on the same
 * detections: two synthetic sequences batched together as sources 0 and 1,
 * detector interval 1 on source 1, embeddings as user metas (reid). */
static gint
cmp_out (gconstpointer a, gconstpointer b)
{
  const OvaTrackerOutput *x = a, *y = b;
  return x->id < y->id ? -1 : x->id > y->id;
}

static void
check_matches_library (OvaTrackerAlgorithm alg)
{
  SynthParams p[2];
  SynthSeq seq[2];
  OvaTracker *ref[2];
  OvaTrackerConfig cfg;
  guint k[2] = { 0, 0 };
  GArray *dets = g_array_new (FALSE, FALSE, sizeof (OvaTrackerDetection));
  GArray *want = g_array_new (FALSE, FALSE, sizeof (OvaTrackerOutput));
  GArray *got = g_array_new (FALSE, FALSE, sizeof (OvaTrackerOutput));
  gchar *props = g_strdup_printf ("algorithm=%s", ova_tracker_algorithm_to_string (alg));
  GstHarness *h = new_harness (props);
  guint n_checked = 0;

  ova_tracker_config_init (&cfg, alg);
  for (guint s = 0; s < 2; s++) {
    synth_suite_params (s, &p[s], NULL);
    p[s].n_frames = 120;
    seq[s] = synth_generate (&p[s]);
    ref[s] = ova_tracker_new (&cfg);
  }
  for (gint frame = 1; frame <= 120; frame++) {
    GstBuffer *buf = gst_buffer_new (), *out;
    OvaBatchMeta *batch = ova_buffer_add_batch_meta (buf, 2, pool);
    for (guint s = 0; s < 2; s++) {
      OvaFrameMeta *fm = ova_batch_meta_acquire_frame (batch);
      fm->source_id = s;
      fm->source_width = p[s].width;
      fm->source_height = p[s].height;
      fm->infer_done = s == 0 || frame % 2 == 1;
      ova_batch_meta_add_frame (batch, fm);
      for (; k[s] < seq[s].det->rows->len && g_array_index (seq[s].det->rows, OvaMotRow, k[s]).frame == frame; k[s]++) {
        const OvaMotRow *r = &g_array_index (seq[s].det->rows, OvaMotRow, k[s]);
        OvaObjectMeta *o;
        OvaUserMeta *um;
        if (!fm->infer_done) continue;
        o = ova_batch_meta_acquire_object (batch);
        o->rect = r->rect;
        o->confidence = r->confidence;
        ova_frame_meta_add_object (fm, o);
        um = ova_batch_meta_acquire_user (batch);
        ova_user_meta_set_embedding (um, r->embedding, r->embedding_dim);
        ova_object_meta_add_user (o, um);
      }
    }
    out = gst_harness_push_and_pull (h, buf);
    batch = ova_buffer_get_batch_meta (out);
    for (guint s = 0; s < 2; s++) {
      OvaFrameMeta *fm = ova_batch_meta_get_frame (batch, s);
      const OvaTrackerOutput *o;
      guint n;
      /* the library on the same detections */
      g_array_set_size (dets, 0);
      for (guint i = 0; i < ova_frame_meta_get_n_objects (fm); i++) {
        OvaObjectMeta *obj = ova_frame_meta_get_object (fm, i);
        const OvaEmbedding *e;
        OvaTrackerDetection d = { obj->detector_rect, 0, obj->confidence, NULL, 0 };
        if (obj->track_state == OVA_TRACK_PREDICTED) continue;
        e = ova_user_meta_get_embedding (ova_object_meta_find_user (obj, OVA_USER_META_EMBEDDING));
        d.embedding = e->data;
        d.embedding_dim = e->dim;
        g_array_append_val (dets, d);
      }
      n = fm->infer_done ? ova_tracker_update (ref[s], (OvaTrackerDetection *) dets->data, dets->len, &o)
                         : ova_tracker_predict (ref[s], &o);
      g_array_set_size (want, 0);
      g_array_append_vals (want, o, n);
      g_array_sort (want, cmp_out);
      /* what the element wrote */
      g_array_set_size (got, 0);
      for (guint i = 0; i < ova_frame_meta_get_n_objects (fm); i++) {
        OvaObjectMeta *obj = ova_frame_meta_get_object (fm, i);
        OvaTrackerOutput x = { 0 };
        if (obj->tracker_id == OVA_UNTRACKED) {
          fail_unless_equals_int (obj->track_state, OVA_TRACK_NONE);
          continue;
        }
        x.id = obj->tracker_id;
        x.rect = obj->rect;
        x.state = obj->track_state;
        g_array_append_val (got, x);
      }
      g_array_sort (got, cmp_out);
      fail_unless_equals_int (got->len, want->len);
      for (guint i = 0; i < got->len; i++) {
        const OvaTrackerOutput *a = &g_array_index (got, OvaTrackerOutput, i);
        const OvaTrackerOutput *b = &g_array_index (want, OvaTrackerOutput, i);
        fail_unless_equals_int64 (a->id, b->id);
        fail_unless_equals_int (a->state, b->state);
        fail_unless (fabsf (a->rect.left - b->rect.left) < 1e-3f && fabsf (a->rect.height - b->rect.height) < 1e-3f);
        n_checked++;
      }
    }
    gst_buffer_unref (out);
  }
  fail_unless (n_checked > 1000, "only %u tracks compared", n_checked);
  gst_harness_teardown (h);
  for (guint s = 0; s < 2; s++) {
    ova_tracker_free (ref[s]);
    synth_seq_clear (&seq[s]);
  }
  g_array_unref (dets);
  g_array_unref (want);
  g_array_unref (got);
  g_free (props);
}

GST_START_TEST (test_matches_library_bytetrack) { check_matches_library (OVA_TRACKER_BYTETRACK); }
GST_END_TEST;
GST_START_TEST (test_matches_library_reid) { check_matches_library (OVA_TRACKER_REID); }
GST_END_TEST;

static Suite *
ovatrack_suite (void)
{
  Suite *s = suite_create ("ovatrack");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_two_sources);
  tcase_add_test (tc, test_interval_prediction);
  tcase_add_test (tc, test_stream_eos);
  tcase_add_test (tc, test_stream_remove);
  tcase_add_test (tc, test_reid_embeddings);
  tcase_add_test (tc, test_config_file);
  tcase_add_test (tc, test_tracker_resolution);
  tcase_add_test (tc, test_no_batch_meta);
  tcase_add_test (tc, test_batch_16x30);
  tcase_add_test (tc, test_matches_library_bytetrack);
  tcase_add_test (tc, test_matches_library_reid);
  suite_add_tcase (s, tc);
  pool = ova_meta_pool_new ();
  return s;
}

int
main (int argc, char **argv)
{
  Suite *s;
  int n_failed;
  const gchar *build = g_getenv ("OVA_BUILD_DIR");
  gchar *registry;
  /* Scan only ova's plugins, in this process, into a registry of our own:
   * under AddressSanitizer the forked plugin scanner cannot load
   * instrumented plugins, and system plugins would report their own leaks. */
  g_setenv ("GST_REGISTRY_FORK", "no", TRUE);
  g_setenv ("GST_PLUGIN_SYSTEM_PATH_1_0", "", TRUE);
  registry = g_build_filename (build ? build : ".", "tests", "track", "registry-ovatrack.bin", NULL);
  g_setenv ("GST_REGISTRY", registry, TRUE);
  g_free (registry);
  gst_check_init (&argc, &argv);
  s = ovatrack_suite ();
  n_failed = gst_check_run_suite (s, "ovatrack", __FILE__);
  ova_meta_pool_unref (pool);
  return n_failed;
}
