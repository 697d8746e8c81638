/* ova — MOT metrics on small cases worked out by hand, and MOT file parsing.
 * SPDX-License-Identifier: MIT
 *
 * Each case gives the arithmetic in its comment. IoU of two boxes
 * [0,0,8,8] and [0,0,8,5] is 40/64 = 0.625, so that pair is a HOTA match for
 * the 12 alphas 0.05..0.60 and not for the 7 alphas 0.65..0.95.
 */
#include <ova/track.h>
#include <math.h>
#include <string.h>

static void
eval (const gchar *gt_text, const gchar *hyp_text, OvaMotMetrics *m)
{
  GError *err = NULL;
  OvaMotFile *gt = ova_mot_file_parse (gt_text, strlen (gt_text), "gt", OVA_MOT_GT, &err);
  OvaMotFile *hy;
  g_assert_no_error (err);
  hy = ova_mot_file_parse (hyp_text, strlen (hyp_text), "hyp", OVA_MOT_TRACKS, &err);
  g_assert_no_error (err);
  ova_mot_evaluate (gt, hy, m);
  ova_mot_file_free (gt);
  ova_mot_file_free (hy);
}

#define near(a, b) g_assert_cmpfloat_with_epsilon ((a), (b), 1e-9)

static void
test_perfect (void)
{
  OvaMotMetrics m;
  eval ("1,1,0,0,10,10,1,1,1\n2,1,2,0,10,10,1,1,1\n3,1,4,0,10,10,1,1,1\n",
        "1,7,0,0,10,10,1,-1,-1,-1\n2,7,2,0,10,10,1,-1,-1,-1\n3,7,4,0,10,10,1,-1,-1,-1\n", &m);
  near (m.mota, 1.0); near (m.idf1, 1.0); near (m.hota, 1.0); near (m.motp, 1.0);
  g_assert_cmpuint (m.id_switches, ==, 0);
}

/* One object, 4 frames, the tracker changes its id after frame 2.
 * MOTA = 1 - IDSW/GT = 1 - 1/4 = 0.75.
 * IDF1: best id pair covers 2 frames: 2*2/(4+4) = 0.5.
 * HOTA: DetA = 1; pairs (g,h1) and (g,h2) have 2 matches each, A = 2/(4+2-2) = 0.5,
 *   AssA = (2*0.5 + 2*0.5)/4 = 0.5; HOTA = sqrt(0.5) = 0.70711. */
static void
test_id_switch (void)
{
  OvaMotMetrics m;
  eval ("1,1,0,0,10,10,1,1,1\n2,1,0,0,10,10,1,1,1\n3,1,0,0,10,10,1,1,1\n4,1,0,0,10,10,1,1,1\n",
        "1,1,0,0,10,10,1\n2,1,0,0,10,10,1\n3,2,0,0,10,10,1\n4,2,0,0,10,10,1\n", &m);
  near (m.mota, 0.75);
  g_assert_cmpuint (m.id_switches, ==, 1);
  near (m.idf1, 0.5);
  near (m.deta, 1.0);
  near (m.assa, 0.5);
  near (m.hota, sqrt (0.5));
}

/* IoU 1 on frame 1, 0.625 on frame 2, one id each side.
 * MOTA = 1 (both frames match at IoU >= 0.5), IDF1 = 1.
 * HOTA: alphas <= 0.6 (12 of 19): TP 2, DetA 1, AssA 1 -> 1.
 *   alphas >= 0.65 (7): TP 1, FN 1, FP 1 -> DetA 1/3; A = 1/(2+2-1) = 1/3, AssA = 1/3 -> 1/3.
 *   HOTA = (12 + 7/3)/19 = 0.754386.  MOTP = (1 + 0.625)/2. */
static void
test_partial_overlap (void)
{
  OvaMotMetrics m;
  eval ("1,1,0,0,8,8,1,1,1\n2,1,0,0,8,8,1,1,1\n", "1,3,0,0,8,8,1\n2,3,0,0,8,5,1\n", &m);
  near (m.mota, 1.0);
  near (m.idf1, 1.0);
  near (m.motp, 0.8125);
  near (m.hota, (12 + 7.0 / 3) / 19);
  near (m.deta, (12 + 7.0 / 3) / 19);
}

/* One object over 3 frames; tracked on 1-2, missed on 3 where a false box appears.
 * MOTA = 1 - (FN 1 + FP 1)/3 = 1/3. IDF1 = 2*2/(3+3) = 2/3.
 * HOTA: TP 2, FN 1, FP 1 -> DetA 0.5; A(g,h1) = 2/(3+2-2) = 2/3, AssA = 2/3;
 *   HOTA = sqrt(1/3). */
static void
test_fp_fn (void)
{
  OvaMotMetrics m;
  eval ("1,1,0,0,10,10,1,1,1\n2,1,0,0,10,10,1,1,1\n3,1,0,0,10,10,1,1,1\n",
        "1,1,0,0,10,10,1\n2,1,0,0,10,10,1\n3,2,50,50,10,10,1\n", &m);
  near (m.mota, 1.0 / 3);
  near (m.idf1, 2.0 / 3);
  g_assert_cmpuint (m.fp, ==, 1);
  g_assert_cmpuint (m.fn, ==, 1);
  near (m.deta, 0.5);
  near (m.assa, 2.0 / 3);
  near (m.hota, sqrt (1.0 / 3));
}

/* Two far-apart objects whose tracker ids swap at frame 3 (4 frames).
 * MOTA = 1 - 2/8 = 0.75. IDF1: every id pair covers 2 frames; best total 4:
 *   2*4/16 = 0.5. HOTA: DetA 1; each pair 2 matches, A = 2/(4+4-2) = 1/3,
 *   AssA = 1/3, HOTA = sqrt(1/3). */
static void
test_swap (void)
{
  OvaMotMetrics m;
  const gchar *gt =
      "1,1,0,0,10,10,1,1,1\n1,2,100,0,10,10,1,1,1\n2,1,0,0,10,10,1,1,1\n2,2,100,0,10,10,1,1,1\n"
      "3,1,0,0,10,10,1,1,1\n3,2,100,0,10,10,1,1,1\n4,1,0,0,10,10,1,1,1\n4,2,100,0,10,10,1,1,1\n";
  const gchar *hy =
      "1,1,0,0,10,10,1\n1,2,100,0,10,10,1\n2,1,0,0,10,10,1\n2,2,100,0,10,10,1\n"
      "3,2,0,0,10,10,1\n3,1,100,0,10,10,1\n4,2,0,0,10,10,1\n4,1,100,0,10,10,1\n";
  eval (gt, hy, &m);
  near (m.mota, 0.75);
  g_assert_cmpuint (m.id_switches, ==, 2);
  near (m.idf1, 0.5);
  near (m.assa, 1.0 / 3);
  near (m.hota, sqrt (1.0 / 3));
}

/* CLEAR keeps last frame's pair while it still overlaps >= 0.5, even when
 * another box overlaps better: frame 1 gt~h1 (IoU 0.625); frame 2 h1 still
 * 0.625, h2 exact. No switch; h2 is a false positive: MOTA = 1 - 1/2 = 0.5.
 * (Matching by best IoU alone would give an id switch and MOTA 0.) */
static void
test_clear_keeps_pairs (void)
{
  OvaMotMetrics m;
  eval ("1,1,0,0,8,8,1,1,1\n2,1,0,0,8,8,1,1,1\n",
        "1,1,0,0,8,5,1\n2,1,0,0,8,5,1\n2,2,0,0,8,8,1\n", &m);
  g_assert_cmpuint (m.id_switches, ==, 0);
  g_assert_cmpuint (m.fp, ==, 1);
  near (m.mota, 0.5);
}

/* A gt box with consider = 0 is ignored and so is the tracker box on it:
 * scores as if neither were there. */
static void
test_ignored (void)
{
  OvaMotMetrics m;
  eval ("1,1,0,0,10,10,1,1,1\n1,2,100,0,10,10,0,1,1\n", "1,1,0,0,10,10,1\n1,2,100,0,10,10,1\n", &m);
  near (m.mota, 1.0);
  near (m.idf1, 1.0);
  g_assert_cmpuint (m.gt_dets, ==, 1);
  g_assert_cmpuint (m.hyp_dets, ==, 1);
}

static void
test_parse (void)
{
  GError *err = NULL;
  OvaMotFile *f;
  const gchar *det = "# comment\n2,-1,1.5,2,3,4,0.9,-1,-1,-1,0.6,0.8\n1,-1,0,0,1,1,0.5,-1,-1,-1\n";
  f = ova_mot_file_parse (det, strlen (det), "det.txt", OVA_MOT_DET, &err);
  g_assert_no_error (err);
  g_assert_cmpuint (f->rows->len, ==, 2);
  g_assert_cmpint (f->n_frames, ==, 2);
  g_assert_cmpint (g_array_index (f->rows, OvaMotRow, 0).frame, ==, 1);
  g_assert_cmpuint (g_array_index (f->rows, OvaMotRow, 1).embedding_dim, ==, 2);
  near (g_array_index (f->rows, OvaMotRow, 1).embedding[1], 0.8f);
  near (g_array_index (f->rows, OvaMotRow, 1).rect.left, 1.5);
  ova_mot_file_free (f);

  f = ova_mot_file_parse ("1,-1,0,0,1,1,0.5\n1,-1,0,zero,1,1,0.5\n", 36, "bad.txt", OVA_MOT_DET, &err);
  g_assert_null (f);
  g_assert_nonnull (strstr (err->message, "bad.txt:2"));
  g_assert_nonnull (strstr (err->message, "zero"));
  g_clear_error (&err);
  f = ova_mot_file_parse ("1,-1,0\n", 7, "short.txt", OVA_MOT_DET, &err);
  g_assert_null (f);
  g_assert_nonnull (strstr (err->message, "short.txt:1"));
  g_clear_error (&err);
  f = ova_mot_file_parse ("0,-1,0,0,1,1,1\n", 15, "zero.txt", OVA_MOT_DET, &err);
  g_assert_null (f);
  g_clear_error (&err);
  f = ova_mot_file_load ("/nonexistent/det.txt", OVA_MOT_DET, &err);
  g_assert_null (f);
  g_assert_nonnull (err);
  g_clear_error (&err);
}

/* Mutated files: parse or fail cleanly, never crash (run under ASan too);
 * whatever parses can be tracked and scored. */
static void
test_parse_garbage (void)
{
  const gchar *seed = "1,-1,10.5,20,30,40,0.9,-1,-1,-1,0.1,0.2\n2,-1,11,21,30,40,0.8,-1,-1,-1,0.1,0.3\n"
      "3,1,12,22,31,41,1,1,0.5\n";
  const gchar alphabet[] = "0123456789,.-+eE \n\tnaNinf#x";
  GRand *r = g_rand_new_with_seed (3);
  guint parsed = 0;
  for (guint iter = 0; iter < 3000; iter++) {
    gchar *buf = g_strdup (seed);
    gsize len = strlen (buf);
    guint n_mut = g_rand_int_range (r, 1, 6);
    GError *err = NULL;
    OvaMotFile *f;
    for (guint k = 0; k < n_mut; k++)
      buf[g_rand_int_range (r, 0, (gint) len)] = alphabet[g_rand_int_range (r, 0, sizeof alphabet - 1)];
    f = ova_mot_file_parse (buf, len, "fuzz", iter % 2 ? OVA_MOT_DET : OVA_MOT_GT, &err);
    if (f) {
      OvaTrackerConfig cfg;
      OvaTracker *t;
      OvaMotFile *tracks = ova_mot_file_new ();
      OvaMotMetrics m;
      g_assert_no_error (err);
      g_assert_cmpint (f->n_frames, <=, OVA_MOT_MAX_FRAME);
      parsed++;
      ova_tracker_config_init (&cfg, OVA_TRACKER_REID);
      t = ova_tracker_new (&cfg);
      ova_tracker_run_mot (t, f, 0, tracks);
      ova_mot_evaluate (f, tracks, &m);
      g_assert_true (m.mota <= 1.0 && m.idf1 <= 1.0 && m.hota <= 1.0 + 1e-9);
      ova_tracker_free (t);
      ova_mot_file_free (tracks);
      ova_mot_file_free (f);
    } else {
      g_assert_nonnull (err);
      g_assert_true (g_str_has_prefix (err->message, "fuzz:"));
      g_error_free (err);
    }
    g_free (buf);
  }
  g_test_message ("%u of 3000 mutated files parsed", parsed);
  g_assert_cmpuint (parsed, >, 0);
  g_rand_free (r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/track/metrics/perfect", test_perfect);
  g_test_add_func ("/track/metrics/id-switch", test_id_switch);
  g_test_add_func ("/track/metrics/partial-overlap", test_partial_overlap);
  g_test_add_func ("/track/metrics/fp-fn", test_fp_fn);
  g_test_add_func ("/track/metrics/swap", test_swap);
  g_test_add_func ("/track/metrics/clear-keeps-pairs", test_clear_keeps_pairs);
  g_test_add_func ("/track/metrics/ignored", test_ignored);
  g_test_add_func ("/track/metrics/parse", test_parse);
  g_test_add_func ("/track/metrics/parse-garbage", test_parse_garbage);
  return g_test_run ();
}
