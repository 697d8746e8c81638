/* ova — synthetic tracking sequences with ground truth. SPDX-License-Identifier: MIT
 *
 * People-like boxes walking in lanes (so they cross and occlude each other),
 * leaving the frame and coming back, seen by a simulated detector that misses
 * boxes, adds false ones, jitters them, lowers its confidence on partly hidden
 * objects and attaches a noisy appearance embedding per identity.
 */
#ifndef OVA_TEST_SYNTH_H
#define OVA_TEST_SYNTH_H

#include <ova/track.h>

typedef struct {
  guint n_frames, n_objects;
  guint width, height;
  guint32 seed;
  gdouble miss_rate;      /* visible boxes dropped at random */
  gdouble false_rate;     /* false boxes per true box */
  gdouble jitter;         /* box noise, fraction of the size (std dev) */
  gdouble reenter_prob;   /* an object that leaves comes back with this probability */
  guint emb_dim;          /* 0: no embeddings */
  gdouble emb_noise;      /* norm of the noise added to the unit identity vector (per dimension: emb_noise / sqrt(dim)) */
  guint n_lanes;          /* horizontal lanes; neighbours walk opposite ways */
} SynthParams;

typedef struct {
  OvaMotFile *gt, *det;
} SynthSeq;

void synth_params_init (SynthParams *p, guint32 seed);
SynthSeq synth_generate (const SynthParams *p);
void synth_seq_clear (SynthSeq *s);

/* The suite the tests, the benchmark and docs/tracking.md use. */
#define SYNTH_SUITE_SIZE 4
void synth_suite_params (guint index, SynthParams *p, const gchar **name);

#endif
