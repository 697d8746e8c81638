/* ova — ovatrack element time per batch of 16 frames x 30 objects.
 * SPDX-License-Identifier: MIT
 *
 * Batches are built before timing; the same batches are pushed through
 * `identity` to subtract what the harness itself costs.
 */
#include <gst/check/gstharness.h>
#include <ova/meta.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAMES 16
#define OBJECTS 30

static GstBuffer *
make_batch (OvaMetaPool *pool, gint t)
{
  GstBuffer *buf = gst_buffer_new ();
  OvaBatchMeta *batch = ova_buffer_add_batch_meta (buf, FRAMES, pool);
  for (guint f = 0; f < FRAMES; f++) {
    OvaFrameMeta *fm = ova_batch_meta_acquire_frame (batch);
    fm->source_id = f;
    fm->source_width = 1920;
    fm->source_height = 1080;
    fm->infer_done = TRUE;
    fm->frame_num = t;
    ova_batch_meta_add_frame (batch, fm);
    for (guint i = 0; i < OBJECTS; i++) {
      OvaObjectMeta *o = ova_batch_meta_acquire_object (batch);
      /* people on a grid, walking; every 10th box missing now and then */
      if ((t + i) % 10 == 0 && t % 7 == 0) { ova_batch_meta_release_object (batch, o); continue; }
      o->class_id = 0;
      o->confidence = 0.4f + 0.5f * ((i * 7 + t) % 10) / 10.f;
      o->rect.left = 30 + (i % 10) * 180 + ((i % 2) ? t : -t) * 0.7f;
      o->rect.top = 40 + (i / 10) * 330 + (t % 5);
      o->rect.width = 60;
      o->rect.height = 150;
      o->detector_rect = o->rect;
      ova_frame_meta_add_object (fm, o);
    }
  }
  return buf;
}

static gdouble
run (const gchar *element, guint n_batches)
{
  GstHarness *h = gst_harness_new_parse (element);
  OvaMetaPool *pool = ova_meta_pool_new ();
  GstBuffer **bufs = g_new (GstBuffer *, n_batches);
  gint64 t0, t1;
  gst_harness_set_src_caps_str (h, "video/x-ova-batch");
  for (guint i = 0; i < n_batches; i++) bufs[i] = make_batch (pool, i);
  /* warm up on other batches so both runs time a steady state */
  for (guint i = 0; i < 20; i++) gst_buffer_unref (gst_harness_push_and_pull (h, make_batch (pool, i)));
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < n_batches; i++) gst_buffer_unref (gst_harness_push_and_pull (h, bufs[i]));
  t1 = g_get_monotonic_time ();
  gst_harness_teardown (h);
  g_free (bufs);
  ova_meta_pool_unref (pool);
  return (t1 - t0) / 1000.0 / n_batches;
}

int
main (int argc, char **argv)
{
  guint n = 500;
  gdouble ms_track, ms_base;
  const gchar *alg = argc > 1 ? argv[1] : "bytetrack";
  int rounds = argc > 2 ? MAX (1, atoi (argv[2])) : 5;
  gchar *desc;
  if (argc > 1 && !strcmp (argv[1], "--help")) {
    printf ("usage: %s [iou|sort|bytetrack|reid [ROUNDS]]\n", argv[0]);
    return 0;
  }
  gst_init (&argc, &argv);
  desc = g_strdup_printf ("ovatrack algorithm=%s", alg);
  /* best of several rounds each (the machine may be shared) */
  ms_base = ms_track = G_MAXDOUBLE;
  for (int r = 0; r < rounds; r++) {
    ms_base = MIN (ms_base, run ("identity", n));
    ms_track = MIN (ms_track, run (desc, n));
  }
  printf ("{\"bench\": \"ovatrack\", \"tracker\": \"%s\", \"frames\": %d, \"objects\": %d, \"ms_per_batch\": %.4f, "
      "\"harness_ms_per_batch\": %.4f, \"element_ms_per_batch\": %.4f}\n", alg, FRAMES, OBJECTS, ms_track, ms_base,
      ms_track - ms_base);
  g_free (desc);
  return 0;
}
