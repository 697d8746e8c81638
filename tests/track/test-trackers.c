/* ova — trackers on the synthetic suite and on small hand-made scenes. SPDX-License-Identifier: MIT */
#include "synth.h"
#include "track/track-private.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

static void
eval_suite (OvaTrackerAlgorithm alg, OvaMotMetrics *total_out, gboolean verbose)
{
  guint64 idtp = 0, gt = 0, hy = 0;
  for (guint i = 0; i < SYNTH_SUITE_SIZE; i++) {
    SynthParams p;
    const gchar *name;
    SynthSeq s;
    OvaTrackerConfig cfg;
    OvaTracker *t;
    OvaMotFile *tracks = ova_mot_file_new ();
    OvaMotMetrics m;
    synth_suite_params (i, &p, &name);
    s = synth_generate (&p);
    ova_tracker_config_init (&cfg, alg);
    t = ova_tracker_new (&cfg);
    ova_tracker_run_mot (t, s.det, 0, tracks);
    ova_mot_evaluate (s.gt, tracks, &m);
    if (verbose)
      g_printerr ("%-10s %-10s MOTA %.3f IDF1 %.3f HOTA %.3f IDSW %" G_GUINT64_FORMAT " FN %" G_GUINT64_FORMAT
          " FP %" G_GUINT64_FORMAT " ids %u/%u\n", ova_tracker_algorithm_to_string (alg), name, m.mota, m.idf1,
          m.hota, m.id_switches, m.fn, m.fp, m.n_hyp_ids, m.n_gt_ids);
    idtp += m.idtp; gt += m.gt_dets; hy += m.hyp_dets;
    ova_tracker_free (t);
    ova_mot_file_free (tracks);
    synth_seq_clear (&s);
  }
  memset (total_out, 0, sizeof *total_out);
  total_out->idf1 = 2.0 * idtp / (gt + hy);
}

static void
test_suite_idf1 (void)
{
  gdouble idf1[OVA_TRACKER_N_ALGORITHMS];
  for (gint a = 0; a < OVA_TRACKER_N_ALGORITHMS; a++) {
    OvaMotMetrics m;
    eval_suite (a, &m, TRUE);
    idf1[a] = m.idf1;
    g_printerr ("%-10s suite IDF1 %.3f\n", ova_tracker_algorithm_to_string (a), m.idf1);
  }
  g_assert_cmpfloat (idf1[OVA_TRACKER_BYTETRACK], >=, 0.9);
  g_assert_cmpfloat (idf1[OVA_TRACKER_REID], >=, 0.9);
  /* appearance must help where people come back */
  g_assert_cmpfloat (idf1[OVA_TRACKER_REID], >=, idf1[OVA_TRACKER_BYTETRACK]);
  g_assert_cmpfloat (idf1[OVA_TRACKER_IOU], >=, 0.5);
  g_assert_cmpfloat (idf1[OVA_TRACKER_SORT], >=, 0.5);
}

static OvaTrackerDetection
det_at (gfloat x, gfloat y, gint cls, gfloat conf)
{
  OvaTrackerDetection d = { { x, y, 40, 100 }, cls, conf, NULL, 0 };
  return d;
}

/* One box moving right 5 px/frame: one id, confirmed after min-hits, predicted
 * on skipped frames ahead of its last position, ids unique across reset. */
static void
test_single_object (gconstpointer data)
{
  OvaTrackerAlgorithm alg = GPOINTER_TO_INT (data);
  OvaTrackerConfig cfg;
  OvaTracker *t;
  const OvaTrackerOutput *out;
  guint n;
  gint64 id = -1;
  ova_tracker_config_init (&cfg, alg);
  t = ova_tracker_new (&cfg);
  for (gint f = 0; f < 10; f++) {
    OvaTrackerDetection d = det_at (100 + 5 * f, 50, 0, 0.9f);
    n = ova_tracker_update (t, &d, 1, &out);
    g_assert_cmpuint (n, ==, 1);
    g_assert_cmpint (out[0].detection_index, ==, 0);
    if (f == 0) id = out[0].id;
    g_assert_cmpint (out[0].id, ==, id);
    g_assert_cmpint (out[0].state, ==, OVA_TRACK_CONFIRMED); /* first frame confirms */
  }
  /* interval frames: predicted, moving on for motion models */
  n = ova_tracker_predict (t, &out);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpint (out[0].state, ==, OVA_TRACK_PREDICTED);
  g_assert_cmpint (out[0].detection_index, ==, -1);
  g_assert_cmpint (out[0].id, ==, id);
  if (alg == OVA_TRACKER_IOU)
    g_assert_cmpfloat (fabs (out[0].rect.left - 145), <, 0.01);
  else
    g_assert_cmpfloat (fabs (out[0].rect.left - 150), <, 2.0);
  n = ova_tracker_predict (t, &out);
  if (alg != OVA_TRACKER_IOU)
    g_assert_cmpfloat (fabs (out[0].rect.left - 155), <, 3.0);
  /* comes back after the skipped frames: same id */
  {
    OvaTrackerDetection d = det_at (160, 50, 0, 0.9f);
    n = ova_tracker_update (t, &d, 1, &out);
    g_assert_cmpuint (n, ==, 1);
    g_assert_cmpint (out[0].id, ==, id);
  }
  /* missed: reported as predicted for report-lost frames, kept max-lost frames */
  for (guint k = 1; k <= cfg.max_lost; k++) {
    n = ova_tracker_update (t, NULL, 0, &out);
    g_assert_cmpuint (n, ==, k <= cfg.report_lost ? 1 : 0);
    if (n) g_assert_cmpint (out[0].state, ==, OVA_TRACK_PREDICTED);
    g_assert_cmpuint (ova_tracker_get_n_tracks (t), ==, 1);
  }
  ova_tracker_update (t, NULL, 0, &out);
  g_assert_cmpuint (ova_tracker_get_n_tracks (t), ==, 0);
  /* reset keeps ids unique */
  ova_tracker_reset (t);
  {
    OvaTrackerDetection d = det_at (10, 10, 0, 0.9f);
    n = ova_tracker_update (t, &d, 1, &out);
    g_assert_cmpuint (n, ==, 1);
    g_assert_cmpint (out[0].id, >, id);
  }
  ova_tracker_free (t);
}

/* Per-class: a box that changes class starts a new track; class-agnostic keeps it. */
static void
test_per_class (void)
{
  for (gint per_class = 0; per_class <= 1; per_class++) {
    OvaTrackerConfig cfg;
    OvaTracker *t;
    const OvaTrackerOutput *out;
    OvaTrackerDetection d = det_at (0, 0, 1, 0.9f);
    gint64 id;
    guint n, found = 0;
    ova_tracker_config_init (&cfg, OVA_TRACKER_BYTETRACK);
    cfg.per_class = per_class;
    cfg.min_hits = 1;
    t = ova_tracker_new (&cfg);
    ova_tracker_update (t, &d, 1, &out);
    id = out[0].id;
    d.class_id = 2;
    n = ova_tracker_update (t, &d, 1, &out);
    for (guint i = 0; i < n; i++) {
      if (out[i].detection_index != 0) continue;
      if (per_class) g_assert_cmpint (out[i].id, !=, id);
      else g_assert_cmpint (out[i].id, ==, id);
      g_assert_cmpint (out[i].class_id, ==, 2);
      found++;
    }
    g_assert_cmpint (found, ==, 1);
    ova_tracker_free (t);
  }
}

static const OvaTrackerOutput *
for_detection (const OvaTrackerOutput *out, guint n, gint det)
{
  for (guint i = 0; i < n; i++)
    if (out[i].detection_index == det) return &out[i];
  g_error ("no track for detection %d", det);
  return NULL;
}

/* ByteTrack: a low-confidence box keeps an existing track alive, but does not start one. */
static void
test_bytetrack_low_boxes (void)
{
  OvaTrackerConfig cfg;
  OvaTracker *t;
  const OvaTrackerOutput *out;
  OvaTrackerDetection d = det_at (0, 0, 0, 0.9f);
  gint64 id;
  guint n;
  ova_tracker_config_init (&cfg, OVA_TRACKER_BYTETRACK);
  t = ova_tracker_new (&cfg);
  ova_tracker_update (t, &d, 1, &out);
  id = out[0].id;
  d.confidence = 0.3f;
  g_assert_cmpuint (ova_tracker_update (t, &d, 1, &out), ==, 1);
  g_assert_cmpint (out[0].id, ==, id);
  g_assert_cmpint (out[0].detection_index, ==, 0);
  d = det_at (500, 0, 0, 0.3f);
  g_assert_cmpuint (ova_tracker_update (t, &d, 1, &out), ==, 1); /* the old track, predicted */
  g_assert_cmpint (out[0].state, ==, OVA_TRACK_PREDICTED);
  g_assert_cmpuint (ova_tracker_get_n_tracks (t), ==, 1);
  /* a new, confident box: tentative until min-hits (not the first frame any more) */
  d.confidence = 0.9f;
  n = ova_tracker_update (t, &d, 1, &out);
  g_assert_cmpint (for_detection (out, n, 0)->state, ==, OVA_TRACK_TENTATIVE);
  n = ova_tracker_update (t, &d, 1, &out);
  g_assert_cmpint (for_detection (out, n, 0)->state, ==, OVA_TRACK_CONFIRMED);
  ova_tracker_free (t);
}

/* Two people stand close; after a few frames hidden they are back on each
 * other's spot. Box overlap alone swaps their ids; appearance does not. */
static void
test_reid_reacquire (gconstpointer data)
{
  OvaTrackerAlgorithm alg = GPOINTER_TO_INT (data);
  OvaTrackerConfig cfg;
  OvaTracker *t;
  const OvaTrackerOutput *out;
  gfloat ea[4] = { 1, 0, 0, 0 }, eb[4] = { 0, 1, 0, 0 };
  OvaTrackerDetection d[2];
  gint64 ida = 0, idb = 0;
  guint n;
  ova_tracker_config_init (&cfg, alg);
  t = ova_tracker_new (&cfg);
  for (gint f = 0; f < 5; f++) {
    d[0] = det_at (100, 100, 0, 0.9f); d[0].embedding = ea; d[0].embedding_dim = 4;
    d[1] = det_at (115, 100, 0, 0.9f); d[1].embedding = eb; d[1].embedding_dim = 4;
    n = ova_tracker_update (t, d, 2, &out);
    ida = for_detection (out, n, 0)->id;
    idb = for_detection (out, n, 1)->id;
  }
  for (gint f = 0; f < 3; f++) ova_tracker_update (t, NULL, 0, &out);
  d[0] = det_at (115, 100, 0, 0.9f); d[0].embedding = ea; d[0].embedding_dim = 4;
  d[1] = det_at (100, 100, 0, 0.9f); d[1].embedding = eb; d[1].embedding_dim = 4;
  n = ova_tracker_update (t, d, 2, &out);
  if (alg == OVA_TRACKER_REID) {
    g_assert_cmpint (for_detection (out, n, 0)->id, ==, ida);
    g_assert_cmpint (for_detection (out, n, 1)->id, ==, idb);
  } else { /* the motion-only tracker is fooled: this is what reid is for */
    g_assert_cmpint (for_detection (out, n, 0)->id, ==, idb);
    g_assert_cmpint (for_detection (out, n, 1)->id, ==, ida);
  }
  ova_tracker_free (t);
}

/* Corrupt boxes (NaN, infinite, empty) are ignored: no track, no crash, and
 * good boxes in the same frame are tracked as usual. */
static void
test_corrupt_boxes (void)
{
  for (gint a = 0; a < OVA_TRACKER_N_ALGORITHMS; a++) {
    OvaTrackerConfig cfg;
    OvaTracker *t;
    const OvaTrackerOutput *out;
    gfloat emb[3] = { NAN, 1, 0 };
    OvaTrackerDetection d[5];
    guint n = 0;
    ova_tracker_config_init (&cfg, a);
    t = ova_tracker_new (&cfg);
    for (gint f = 0; f < 5; f++) {
      d[0] = det_at (NAN, 0, 0, 0.9f);
      d[1] = det_at (0, INFINITY, 0, 0.9f);
      d[2] = det_at (300, 0, 0, 0.9f); d[2].rect.width = 0;
      d[3] = det_at (500, 0, 0, NAN);
      d[4] = det_at (100 + f, 100, 0, 0.9f); d[4].embedding = emb; d[4].embedding_dim = 3;
      n = ova_tracker_update (t, d, 5, &out);
    }
    g_assert_cmpuint (n, ==, 1);
    g_assert_cmpint (out[0].detection_index, ==, 4);
    g_assert_true (isfinite (out[0].rect.left));
    g_assert_cmpuint (ova_tracker_get_n_tracks (t), ==, 1);
    ova_tracker_free (t);
  }
}

/* The vectorised dot product (appearance distances) against the plain loop,
 * on every length 0..600 and unaligned starts. */
static void
test_dot_vs_scalar (void)
{
  GRand *r = g_rand_new_with_seed (11);
  gfloat *a = g_new (gfloat, 608), *b = g_new (gfloat, 608);
  for (guint i = 0; i < 608; i++) {
    a[i] = (gfloat) g_rand_double_range (r, -1, 1);
    b[i] = (gfloat) g_rand_double_range (r, -1, 1);
  }
  for (guint n = 0; n <= 600; n++)
    for (guint off = 0; off < 3; off++) {
      gdouble ref = 0, mag = 0;
      gfloat fast = _ova_track_dot (a + off, b + off, n), plain = _ova_track_dot_scalar (a + off, b + off, n);
      for (guint i = 0; i < n; i++) {
        ref += (gdouble) a[off + i] * b[off + i];
        mag += fabs ((gdouble) a[off + i] * b[off + i]);
      }
      g_assert_cmpfloat (fabs (fast - ref), <=, 1e-5 * mag + 1e-7);
      g_assert_cmpfloat (fabs (plain - ref), <=, 1e-5 * mag + 1e-7);
    }
  g_free (a);
  g_free (b);
  g_rand_free (r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (gint a = 0; a < OVA_TRACKER_N_ALGORITHMS; a++) {
    gchar *path = g_strdup_printf ("/track/single-object/%s", ova_tracker_algorithm_to_string (a));
    g_test_add_data_func (path, GINT_TO_POINTER (a), test_single_object);
    g_free (path);
  }
  g_test_add_func ("/track/per-class", test_per_class);
  g_test_add_func ("/track/dot-vs-scalar", test_dot_vs_scalar);
  g_test_add_func ("/track/corrupt-boxes", test_corrupt_boxes);
  g_test_add_func ("/track/bytetrack-low-boxes", test_bytetrack_low_boxes);
  g_test_add_data_func ("/track/reacquire/reid", GINT_TO_POINTER (OVA_TRACKER_REID), test_reid_reacquire);
  g_test_add_data_func ("/track/reacquire/bytetrack", GINT_TO_POINTER (OVA_TRACKER_BYTETRACK), test_reid_reacquire);
  g_test_add_func ("/track/suite-idf1", test_suite_idf1);
  return g_test_run ();
}
