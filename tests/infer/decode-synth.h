/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Synthetic YOLOX / YOLOv8 / YOLOv5 outputs for the tests of the detector
 * decoders (the host parsers, the GPU decoder's per-anchor code and its
 * kernel): random anchors, per-class thresholds, scores exactly at a
 * threshold, tied class scores. Header-only: each test includes it once.
 */
#ifndef OVA_TESTS_DECODE_SYNTH_H
#define OVA_TESTS_DECODE_SYNTH_H

#include <ova/infer.h>
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SYNTH_CLASSES 80

/* a and b within @ulps units in the last place (same sign, finite) */
static gboolean
close_ulp (float a, float b, int ulps)
{
  if (a == b)
    return TRUE;
  if (!isfinite (a) || !isfinite (b) || (a < 0) != (b < 0))
    return FALSE;
  gint32 ia, ib;
  memcpy (&ia, &a, 4);
  memcpy (&ib, &b, 4);
  return abs (ia - ib) <= ulps;
}

/* Per-class pre-cluster thresholds: 0.25 .. 0.34. */
static void
synth_thresholds (float *thr)
{
  for (int c = 0; c < SYNTH_CLASSES; c++)
    thr[c] = 0.25f + 0.01f * (c % 10);
}

/* A class-score vector (stride @step): mostly low; sometimes a clear winner,
 * a tie between two classes (the first must win), or a score exactly at the
 * class's threshold with objectness 1. @obj (YOLOX/YOLOv5) gets an
 * objectness, NULL for YOLOv8. */
static void
fill_scores (GRand *r, float *v, gint64 step, const float *thr, float *obj)
{
  for (int c = 0; c < SYNTH_CLASSES; c++)
    v[c * step] = (float) g_rand_double_range (r, 0, 0.2);
  double u = g_rand_double (r);
  int win = g_rand_int_range (r, 0, SYNTH_CLASSES);
  if (u < 0.08) {
    v[win * step] = (float) g_rand_double_range (r, 0.2, 1.0);
  } else if (u < 0.10) {
    int other = (win + 1 + g_rand_int_range (r, 0, SYNTH_CLASSES - 1)) % SYNTH_CLASSES;
    float s = (float) g_rand_double_range (r, 0.3, 1.0);
    v[win * step] = v[other * step] = s;
  } else if (u < 0.11) {
    v[win * step] = thr[win];
    if (obj)
      *obj = 1.0f;
    return;
  }
  if (obj)
    *obj = u < 0.12 ? 1.0f : (float) (u < 0.3 ? g_rand_double_range (r, 0.2, 1.0) : g_rand_double_range (r, 0, 0.2));
}

/* @images outputs of @rows x @cols floats each, laid out as @parser's
 * network writes them (YOLOv8: channels x anchors; YOLOX, YOLOv5: anchors x
 * (4 box values, objectness, classes); YOLOX boxes as grid offsets and log
 * sizes). */
static void
synth_outputs (GRand *r, OvaParserKind parser, unsigned net_w, unsigned net_h, gint64 rows, gint64 cols,
               int images, const float *thr, float *out)
{
  gint64 per = rows * cols;
  gint64 anchors = parser == OVA_PARSER_YOLOV8 ? cols : rows;
  for (int i = 0; i < images; i++) {
    float *d = out + per * i;
    for (gint64 a = 0; a < anchors; a++) {
      if (parser == OVA_PARSER_YOLOV8) {
        d[a] = (float) g_rand_double_range (r, 0, net_w);
        d[anchors + a] = (float) g_rand_double_range (r, 0, net_h);
        d[2 * anchors + a] = (float) g_rand_double_range (r, 1, net_w / 2.0);
        d[3 * anchors + a] = (float) g_rand_double_range (r, 1, net_h / 2.0);
        fill_scores (r, d + 4 * anchors + a, anchors, thr, NULL);
      } else {
        float *row = d + a * cols;
        gboolean yolox = parser == OVA_PARSER_YOLOX;
        row[0] = (float) (yolox ? g_rand_double_range (r, -0.5, 1.5) : g_rand_double_range (r, 0, net_w));
        row[1] = (float) (yolox ? g_rand_double_range (r, -0.5, 1.5) : g_rand_double_range (r, 0, net_h));
        row[2] = (float) (yolox ? g_rand_double_range (r, -2, 3) : g_rand_double_range (r, 1, net_w / 2.0));
        row[3] = (float) (yolox ? g_rand_double_range (r, -2, 3) : g_rand_double_range (r, 1, net_h / 2.0));
        fill_scores (r, row + 5, 1, thr, &row[4]);
      }
    }
  }
}

#endif
