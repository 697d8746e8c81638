/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * One anchor of the GPU detector decoder: the built-in YOLOX / YOLOv8 /
 * YOLOv5 parsers of lib/infer/parse.c up to their threshold tests, with the
 * host's arithmetic (no FMA contraction; exp in double, rounded to float, as
 * close to the host's expf as it gets). Compiled by nvcc into the kernel
 * (decode.cu) and by the C compiler into a host test
 * (tests/infer/test-decode-anchor.c), so CI checks this exact code against
 * the host parsers.
 */
#ifndef OVA_DECODE_ANCHOR_H
#define OVA_DECODE_ANCHOR_H

#include "decode-kernel.h"

#include <math.h>

#ifdef __CUDACC__
#define OVA_DECODE_FN __device__ __forceinline__
#define OVA_DECODE_MUL(a, b) __fmul_rn ((a), (b))
#define OVA_DECODE_ADD(a, b) __fadd_rn ((a), (b))
#define OVA_DECODE_SUB(a, b) __fsub_rn ((a), (b))
#define OVA_DECODE_DIV(a, b) __fdiv_rn ((a), (b))
#else
#define OVA_DECODE_FN static inline
#define OVA_DECODE_MUL(a, b) ((float) ((float) (a) * (float) (b)))
#define OVA_DECODE_ADD(a, b) ((float) ((float) (a) + (float) (b)))
#define OVA_DECODE_SUB(a, b) ((float) ((float) (a) - (float) (b)))
#define OVA_DECODE_DIV(a, b) ((float) ((float) (a) / (float) (b)))
#endif

/* First maximum, as argmax () in parse.c (strict '>'). */
OVA_DECODE_FN int
ova_decode_best_class (const float *v, unsigned int n, unsigned long long step, float *best)
{
  int bi = 0;
  float b = v[0];
  for (unsigned int i = 1; i < n; i++) {
    float x = v[i * step];
    if (x > b) {
      b = x;
      bi = (int) i;
    }
  }
  *best = b;
  return bi;
}

/* Anchor @a of image @img: 1 with @c filled (anchor included) when the host
 * parser would push it, 0 otherwise. */
OVA_DECODE_FN int
ova_decode_anchor (const OvaCudaDecodeJob *j, unsigned int img, unsigned int a, OvaCudaDecodeCandidate *c)
{
  const float *d = j->output + (unsigned long long) img * j->image_floats;
  float cx, cy, w, h, score;
  int cls;
  if (j->layout == OVA_CUDA_DECODE_YOLOX) {
    const float *row = d + (unsigned long long) a * j->cols;
    float obj = row[4];
    if (obj < j->min_threshold)
      return 0;
    float best;
    cls = ova_decode_best_class (row + 5, j->classes, 1, &best);
    score = OVA_DECODE_MUL (obj, best);
    if (score < j->min_threshold)
      return 0;
    unsigned int r, gw;
    int st;
    if (a < j->end8) {
      r = a;
      gw = j->grid_w8;
      st = 8;
    } else if (a < j->end16) {
      r = a - j->end8;
      gw = j->grid_w16;
      st = 16;
    } else {
      r = a - j->end16;
      gw = j->grid_w32;
      st = 32;
    }
    float gx = (float) (int) (r % gw), gy = (float) (int) (r / gw), fs = (float) st;
    cx = OVA_DECODE_MUL (OVA_DECODE_ADD (row[0], gx), fs);
    cy = OVA_DECODE_MUL (OVA_DECODE_ADD (row[1], gy), fs);
    w = OVA_DECODE_MUL ((float) exp ((double) row[2]), fs);
    h = OVA_DECODE_MUL ((float) exp ((double) row[3]), fs);
  } else if (j->layout == OVA_CUDA_DECODE_YOLOV8) {
    unsigned long long n = j->anchors;
    float best;
    cls = ova_decode_best_class (d + 4 * n + a, j->classes, n, &best);
    if (best < j->min_threshold)
      return 0;
    score = best;
    cx = d[a];
    cy = d[n + a];
    w = d[2 * n + a];
    h = d[3 * n + a];
  } else {
    const float *row = d + (unsigned long long) a * j->cols;
    if (row[4] < j->min_threshold)
      return 0;
    float best;
    cls = ova_decode_best_class (row + 5, j->classes, 1, &best);
    score = OVA_DECODE_MUL (row[4], best);
    cx = row[0];
    cy = row[1];
    w = row[2];
    h = row[3];
  }
  /* push_box (): the class's own threshold */
  if (score < j->thresholds[cls])
    return 0;
  c->left = OVA_DECODE_SUB (cx, OVA_DECODE_DIV (w, 2.0f));
  c->top = OVA_DECODE_SUB (cy, OVA_DECODE_DIV (h, 2.0f));
  c->width = w;
  c->height = h;
  c->confidence = score;
  c->class_id = cls;
  c->anchor = a;
  return 1;
}

#endif
