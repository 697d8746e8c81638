/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * ova_cuda_decode_detections against the host parsers (lib/infer/parse.c)
 * on synthetic outputs, on a GPU (exit 77 without one): YOLOX (416 x 416,
 * 80 classes), YOLOv8 (640 x 640, 8400 anchors) and YOLOv5 (25200 anchors)
 * batches with random anchors, per-class thresholds, scores exactly at a
 * threshold and tied class scores. For every image the GPU candidates,
 * sorted by anchor, must be the host parser's list: same count, anchors,
 * classes and scores (bit-identical), boxes within 4 ulp (exp is the only
 * operation that may round differently); after NMS the two lists must be
 * equal box by box. A small capacity must report the full count.
 */
#include <ova/cuda.h>
#include <ova/engine.h>
#include <ova/infer.h>

#include <cuda_runtime.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda-check.h"
#include "../infer/decode-synth.h"

#define CLASSES SYNTH_CLASSES
#define IMAGES 5

static int failures;

static int
cmp_anchor (const void *a, const void *b)
{
  const OvaCudaCandidate *x = a, *y = b;
  return x->anchor < y->anchor ? -1 : (x->anchor > y->anchor);
}

static void
check (const char *name, OvaParserKind parser, unsigned net_w, unsigned net_h, gint64 rows, gint64 cols)
{
  GRand *r = g_rand_new_with_seed (7 + parser);
  gint64 per = rows * cols;
  float *host = g_new (float, per * IMAGES);
  float thr[CLASSES];
  synth_thresholds (thr);
  gint64 anchors = parser == OVA_PARSER_YOLOV8 ? cols : rows;
  synth_outputs (r, parser, net_w, net_h, rows, cols, IMAGES, thr, host);
  float *d_out, *d_thr;
  OvaCudaCandidate *d_cand;
  guint *d_counts;
  CK (cudaMalloc ((void **) &d_out, sizeof (float) * per * IMAGES));
  CK (cudaMalloc ((void **) &d_thr, sizeof thr));
  CK (cudaMalloc ((void **) &d_cand, sizeof (OvaCudaCandidate) * anchors * IMAGES));
  CK (cudaMalloc ((void **) &d_counts, sizeof (guint) * IMAGES));
  CK (cudaMemcpy (d_out, host, sizeof (float) * per * IMAGES, cudaMemcpyHostToDevice));
  CK (cudaMemcpy (d_thr, thr, sizeof thr, cudaMemcpyHostToDevice));
  cudaStream_t s;
  CK (cudaStreamCreateWithFlags (&s, cudaStreamNonBlocking));

  OvaCudaDecodeParams p = { 0 };
  p.parser = parser;
  p.net.width = net_w;
  p.net.height = net_h;
  p.net.channels = 3;
  p.num_classes = CLASSES;
  p.thresholds = d_thr;
  p.min_threshold = 1.0f;
  for (int c = 0; c < CLASSES; c++)
    p.min_threshold = MIN (p.min_threshold, thr[c]);
  gint64 dims[3] = { IMAGES, rows, cols };
  GError *e = NULL;
  if (ova_cuda_decode_anchors (&p, dims, 3, &e) != anchors) {
    fprintf (stderr, "FAIL %s: anchors: %s\n", name, e ? e->message : "wrong count");
    failures++;
    g_clear_error (&e);
  }
  if (!ova_cuda_decode_detections (&p, d_out, dims, 3, IMAGES, d_cand, anchors, d_counts, s, &e)) {
    fprintf (stderr, "FAIL %s: %s\n", name, e->message);
    failures++;
    g_clear_error (&e);
    goto out;
  }
  guint counts[IMAGES];
  OvaCudaCandidate *cand = g_new (OvaCudaCandidate, anchors * IMAGES);
  CK (cudaMemcpyAsync (counts, d_counts, sizeof counts, cudaMemcpyDeviceToHost, s));
  CK (cudaMemcpyAsync (cand, d_cand, sizeof (OvaCudaCandidate) * anchors * IMAGES, cudaMemcpyDeviceToHost, s));
  CK (cudaStreamSynchronize (s));

  OvaInferParseParams hp = { CLASSES, thr, NULL };
  OvaInferNetworkInfo net = { net_w, net_h, 3 };
  guint total = 0, exact = 0, nms_boxes = 0;
  for (int i = 0; i < IMAGES; i++) {
    OvaInferLayer l = { "output", OVA_DTYPE_FLOAT32, 3, { 1, rows, cols }, host + per * i };
    OvaInferObjectList want = { 0 }, got = { 0 };
    gboolean ok = parser == OVA_PARSER_YOLOX    ? ova_parse_yolox (&l, &net, &hp, &want)
                  : parser == OVA_PARSER_YOLOV8 ? ova_parse_yolov8 (&l, &net, &hp, &want)
                                                : ova_parse_yolov5 (&l, &net, &hp, &want);
    if (!ok) {
      fprintf (stderr, "FAIL %s: the host parser failed\n", name);
      failures++;
      continue;
    }
    OvaCudaCandidate *c = cand + anchors * i;
    if (counts[i] != want.n) {
      fprintf (stderr, "FAIL %s image %d: %u candidates on the GPU, %zu on the host\n", name, i, counts[i], want.n);
      failures++;
      ova_infer_object_list_clear (&want);
      continue;
    }
    qsort (c, counts[i], sizeof (*c), cmp_anchor);
    int bad = 0;
    for (guint k = 0; k < counts[i]; k++) {
      const OvaInferObject *w = &want.objects[k];
      if (k && c[k].anchor == c[k - 1].anchor)
        bad++;
      if (c[k].class_id != w->class_id || c[k].confidence != w->confidence || !close_ulp (c[k].left, w->left, 4) ||
          !close_ulp (c[k].top, w->top, 4) || !close_ulp (c[k].width, w->width, 4) ||
          !close_ulp (c[k].height, w->height, 4)) {
        if (bad++ < 5)
          fprintf (stderr, "  %s image %d #%u (anchor %u): GPU class %d %.9g [%.9g %.9g %.9g %.9g], host %d %.9g [%.9g %.9g %.9g %.9g]\n",
                   name, i, k, c[k].anchor, c[k].class_id, c[k].confidence, c[k].left, c[k].top, c[k].width,
                   c[k].height, w->class_id, w->confidence, w->left, w->top, w->width, w->height);
      }
      exact += c[k].left == w->left && c[k].top == w->top && c[k].width == w->width && c[k].height == w->height;
      OvaInferObject o = { c[k].left, c[k].top, c[k].width, c[k].height, c[k].class_id, c[k].confidence };
      ova_infer_object_list_push (&got, &o);
    }
    total += counts[i];
    ova_nms_simple (&want, 0.45f, FALSE, -1);
    ova_nms_simple (&got, 0.45f, FALSE, -1);
    if (got.n != want.n) {
      fprintf (stderr, "FAIL %s image %d: %zu boxes after NMS on GPU candidates, %zu on the host's\n", name, i,
               got.n, want.n);
      failures++;
    } else {
      for (size_t k = 0; k < got.n; k++)
        if (got.objects[k].class_id != want.objects[k].class_id ||
            got.objects[k].confidence != want.objects[k].confidence ||
            !close_ulp (got.objects[k].left, want.objects[k].left, 4))
          bad++;
      nms_boxes += got.n;
    }
    if (bad) {
      fprintf (stderr, "FAIL %s image %d: %d candidates differ\n", name, i, bad);
      failures++;
    }
    ova_infer_object_list_clear (&want);
    ova_infer_object_list_clear (&got);
  }
  printf ("%s: %u candidates over %d images (%u boxes bit-identical), %u after NMS\n", name, total, IMAGES, exact,
          nms_boxes);
  if (total == 0) {
    fprintf (stderr, "FAIL %s: no candidates: the synthetic data is wrong\n", name);
    failures++;
  }

  /* overflow: the count goes on, only capacity candidates are stored */
  guint small_counts[IMAGES];
  if (!ova_cuda_decode_detections (&p, d_out, dims, 3, IMAGES, d_cand, 4, d_counts, s, &e)) {
    fprintf (stderr, "FAIL %s overflow: %s\n", name, e->message);
    failures++;
    g_clear_error (&e);
  } else {
    CK (cudaMemcpyAsync (small_counts, d_counts, sizeof small_counts, cudaMemcpyDeviceToHost, s));
    CK (cudaStreamSynchronize (s));
    for (int i = 0; i < IMAGES; i++)
      if (small_counts[i] != counts[i]) {
        fprintf (stderr, "FAIL %s overflow image %d: count %u, expected %u\n", name, i, small_counts[i], counts[i]);
        failures++;
      }
  }
  g_free (cand);
out:
  CK (cudaStreamDestroy (s));
  cudaFree (d_out);
  cudaFree (d_thr);
  cudaFree (d_cand);
  cudaFree (d_counts);
  g_free (host);
  g_rand_free (r);
}

int
main (void)
{
  int count = 0;
  if (cudaGetDeviceCount (&count) != cudaSuccess || count == 0) {
    printf ("SKIP: no CUDA device\n");
    return 77;
  }
  CK (cudaSetDevice (0));
  check ("yolox", OVA_PARSER_YOLOX, 416, 416, 3549, 5 + CLASSES);
  check ("yolov8", OVA_PARSER_YOLOV8, 640, 640, 4 + CLASSES, 8400);
  check ("yolov5", OVA_PARSER_YOLOV5, 640, 640, 25200, 5 + CLASSES);
  /* a shape the parser does not take is refused, not decoded */
  OvaCudaDecodeParams p = { .parser = OVA_PARSER_YOLOX, .net = { 416, 416, 3 }, .num_classes = CLASSES };
  gint64 wrong[3] = { 1, 3548, 5 + CLASSES };
  GError *e = NULL;
  if (ova_cuda_decode_anchors (&p, wrong, 3, &e) != 0 || !e) {
    fprintf (stderr, "FAIL: a YOLOX output of 3548 rows for 416 x 416 was accepted\n");
    failures++;
  }
  g_clear_error (&e);
  printf ("%s\n", failures ? "FAIL" : "PASS");
  return failures ? 1 : 0;
}
