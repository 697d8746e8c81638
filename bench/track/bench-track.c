/* ova — tracker benchmark: object updates per second on one core, for each
 * tracker, on synthetic crowds; and the assignment solver on random matrices
 * (written out so that a rival solver can time the very same ones).
 * SPDX-License-Identifier: MIT
 *
 *   bench-track [--seconds S] [--matrices FILE]
 */
#include "synth.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  GArray *dets;     /* OvaTrackerDetection, all frames */
  GArray *offsets;  /* guint, n_frames + 1 */
} Frames;

static Frames
frames_from (const OvaMotFile *det)
{
  Frames fr = { g_array_new (FALSE, FALSE, sizeof (OvaTrackerDetection)), g_array_new (FALSE, FALSE, sizeof (guint)) };
  guint k = 0;
  for (gint f = 1; f <= det->n_frames; f++) {
    g_array_append_val (fr.offsets, fr.dets->len);
    for (; k < det->rows->len && g_array_index (det->rows, OvaMotRow, k).frame == f; k++) {
      const OvaMotRow *r = &g_array_index (det->rows, OvaMotRow, k);
      OvaTrackerDetection d = { r->rect, 0, r->confidence, r->embedding, r->embedding_dim };
      g_array_append_val (fr.dets, d);
    }
  }
  g_array_append_val (fr.offsets, fr.dets->len);
  return fr;
}

/* Best of several rounds (--rounds, default 5): the machine may be shared,
 * the best round is the one least disturbed. */
static int ROUNDS = 5;

static void
bench_tracker_round (OvaTrackerAlgorithm alg, const Frames *fr, gdouble seconds, gdouble *updates_per_s, gdouble *us_per_frame)
{
  OvaTrackerConfig cfg;
  guint64 n = 0, frames = 0;
  gint64 t0 = g_get_monotonic_time (), t1;
  guint n_frames = fr->offsets->len - 1;
  ova_tracker_config_init (&cfg, alg);
  do {
    OvaTracker *t = ova_tracker_new (&cfg);
    for (guint f = 0; f < n_frames; f++) {
      guint a = g_array_index (fr->offsets, guint, f), b = g_array_index (fr->offsets, guint, f + 1);
      const OvaTrackerOutput *out;
      ova_tracker_update (t, &g_array_index (fr->dets, OvaTrackerDetection, a), b - a, &out);
      n += b - a;
    }
    frames += n_frames;
    ova_tracker_free (t);
    t1 = g_get_monotonic_time ();
  } while (t1 - t0 < seconds * 1e6);
  *updates_per_s = n / ((t1 - t0) / 1e6);
  *us_per_frame = (gdouble) (t1 - t0) / frames;
}

static void
bench_tracker (OvaTrackerAlgorithm alg, const Frames *fr, gdouble seconds, gdouble *updates_per_s, gdouble *us_per_frame)
{
  *updates_per_s = 0;
  for (int r = 0; r < ROUNDS; r++) {
    gdouble ups, usf;
    bench_tracker_round (alg, fr, seconds / ROUNDS, &ups, &usf);
    if (ups > *updates_per_s) { *updates_per_s = ups; *us_per_frame = usf; }
  }
}

/* IoU-like cost matrices of a tracker frame: n tracks x n boxes, most pairs far apart. */
static void
bench_solver (const gchar *matrices_path, guint n, guint count)
{
  GRand *r = g_rand_new_with_seed (n);
  gdouble *all = g_new (gdouble, (gsize) count * n * n);
  gint *r2c = g_new (gint, n);
  gint64 t0, t1;
  guint64 pairs = 0;
  for (guint k = 0; k < count; k++) {
    gdouble *c = all + (gsize) k * n * n;
    for (guint i = 0; i < n * n; i++) c[i] = g_rand_double (r);
  }
  gdouble best = INFINITY;
  for (int round = 0; round < ROUNDS; round++) {
    pairs = 0;
    t0 = g_get_monotonic_time ();
    for (guint k = 0; k < count; k++)
      pairs += ova_assignment_solve (all + (gsize) k * n * n, n, n, INFINITY, r2c, NULL);
    t1 = g_get_monotonic_time ();
    best = MIN (best, (t1 - t0) / (gdouble) count);
  }
  printf ("{\"bench\": \"assignment\", \"n\": %u, \"matrices\": %u, \"us_per_solve\": %.3f, \"pairs\": %" G_GUINT64_FORMAT "}\n",
      n, count, best, pairs);
  if (matrices_path) {
    gchar *path = g_strdup_printf ("%s.%u", matrices_path, n);
    g_file_set_contents (path, (const gchar *) all, (gssize) ((gsize) count * n * n * sizeof (gdouble)), NULL);
    g_free (path);
  }
  g_free (all);
  g_free (r2c);
  g_rand_free (r);
}

int
main (int argc, char **argv)
{
  gdouble seconds = 1.0;
  const gchar *matrices = NULL, *only = NULL;
  SynthParams p;
  SynthSeq s;
  Frames fr;
  for (int i = 1; i < argc; i++) {
    if (!strcmp (argv[i], "--seconds") && i + 1 < argc) seconds = g_ascii_strtod (argv[++i], NULL);
    else if (!strcmp (argv[i], "--matrices") && i + 1 < argc) matrices = argv[++i];
    else if (!strcmp (argv[i], "--only") && i + 1 < argc) only = argv[++i];
    else if (!strcmp (argv[i], "--rounds") && i + 1 < argc) { ROUNDS = atoi (argv[++i]); ROUNDS = MAX (ROUNDS, 1); }
    else {
      printf ("usage: %s [--seconds S] [--matrices FILE] [--only iou|sort|bytetrack|reid|reid-512d] [--rounds N]\n", argv[0]);
      return strcmp (argv[i], "--help") ? 2 : 0;
    }
  }
  /* a crowd: about 30 boxes per frame */
  synth_params_init (&p, 7);
  p.n_objects = 40;
  p.n_lanes = 5;
  p.n_frames = 600;
  s = synth_generate (&p);
  fr = frames_from (s.det);
  printf ("{\"bench\": \"sequence\", \"frames\": %u, \"boxes_per_frame\": %.1f}\n", p.n_frames,
      (gdouble) fr.dets->len / p.n_frames);
  for (gint a = 0; a < OVA_TRACKER_N_ALGORITHMS; a++) {
    gdouble ups, usf;
    if (only && strcmp (only, ova_tracker_algorithm_to_string (a))) continue;
    bench_tracker (a, &fr, seconds, &ups, &usf);
    printf ("{\"bench\": \"tracker\", \"tracker\": \"%s\", \"updates_per_s\": %.0f, \"us_per_frame\": %.2f}\n",
        ova_tracker_algorithm_to_string (a), ups, usf);
  }
  /* reid with OSNet-sized embeddings (512-d) */
  if (!only || !strcmp (only, "reid-512d")) {
    SynthParams p512 = p;
    SynthSeq s512;
    Frames f512;
    gdouble ups, usf;
    p512.emb_dim = 512;
    s512 = synth_generate (&p512);
    f512 = frames_from (s512.det);
    bench_tracker (OVA_TRACKER_REID, &f512, seconds, &ups, &usf);
    printf ("{\"bench\": \"tracker\", \"tracker\": \"reid-512d\", \"updates_per_s\": %.0f, \"us_per_frame\": %.2f}\n", ups, usf);
    g_array_unref (f512.dets);
    g_array_unref (f512.offsets);
    synth_seq_clear (&s512);
  }
  if (!only) {
    bench_solver (matrices, 30, 2000);
    bench_solver (matrices, 100, 200);
  }
  g_array_unref (fr.dets);
  g_array_unref (fr.offsets);
  synth_seq_clear (&s);
  return 0;
}
