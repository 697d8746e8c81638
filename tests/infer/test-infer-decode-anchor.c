/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * The per-anchor code of the GPU detector decoder (lib/infer/cuda/
 * decode-anchor.h, the body of its CUDA kernel) compiled for the host and
 * run over every anchor of synthetic YOLOX / YOLOv8 / YOLOv5 outputs (random
 * anchors, per-class thresholds, scores exactly at a threshold, tied class
 * scores): the candidates, in anchor order, must be the host parsers' boxes
 * (classes and scores bit-identical, boxes within 4 ulp: exp is computed in
 * double there). Runs without a GPU; tests/gpu/test-cuda-decode checks the
 * kernel itself on one.
 */
#include <ova/infer.h>
#include <ova/engine.h>
#include "infer/cuda/decode-anchor.h"
#include "decode-synth.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CLASSES SYNTH_CLASSES
#define IMAGES 3

static void
check (OvaParserKind parser, unsigned net_w, unsigned net_h, gint64 rows, gint64 cols)
{
  GRand *r = g_rand_new_with_seed (11 + parser);
  gint64 per = rows * cols;
  float *out = g_new (float, per * IMAGES);
  float thr[CLASSES];
  synth_thresholds (thr);
  gint64 anchors = parser == OVA_PARSER_YOLOV8 ? cols : rows;
  synth_outputs (r, parser, net_w, net_h, rows, cols, IMAGES, thr, out);
  /* the job as ova_cuda_decode_detections fills it */
  OvaCudaDecodeJob j = { 0 };
  j.layout = parser == OVA_PARSER_YOLOX    ? OVA_CUDA_DECODE_YOLOX
             : parser == OVA_PARSER_YOLOV8 ? OVA_CUDA_DECODE_YOLOV8
                                           : OVA_CUDA_DECODE_YOLOV5;
  j.output = out;
  j.image_floats = per;
  j.anchors = anchors;
  j.classes = CLASSES;
  j.cols = cols;
  j.n_images = IMAGES;
  j.grid_w8 = net_w / 8;
  j.grid_w16 = net_w / 16;
  j.grid_w32 = net_w / 32;
  j.end8 = j.grid_w8 * (net_h / 8);
  j.end16 = j.end8 + j.grid_w16 * (net_h / 16);
  j.thresholds = thr;
  j.min_threshold = 1.0f;
  for (int c = 0; c < CLASSES; c++)
    j.min_threshold = MIN (j.min_threshold, thr[c]);

  OvaInferParseParams hp = { CLASSES, thr, NULL };
  OvaInferNetworkInfo net = { net_w, net_h, 3 };
  guint total = 0;
  for (int i = 0; i < IMAGES; i++) {
    OvaInferLayer l = { "output", OVA_DTYPE_FLOAT32, 3, { 1, rows, cols }, out + per * i };
    OvaInferObjectList want = { 0 };
    gboolean ok = parser == OVA_PARSER_YOLOX    ? ova_parse_yolox (&l, &net, &hp, &want)
                  : parser == OVA_PARSER_YOLOV8 ? ova_parse_yolov8 (&l, &net, &hp, &want)
                                                : ova_parse_yolov5 (&l, &net, &hp, &want);
    g_assert_true (ok);
    size_t k = 0;
    for (unsigned a = 0; a < anchors; a++) {
      OvaCudaDecodeCandidate c;
      if (!ova_decode_anchor (&j, i, a, &c))
        continue;
      g_assert_cmpuint (k, <, want.n);
      const OvaInferObject *w = &want.objects[k++];
      g_assert_cmpuint (c.anchor, ==, a);
      g_assert_cmpint (c.class_id, ==, w->class_id);
      g_assert_true (c.confidence == w->confidence);
      g_assert_true (close_ulp (c.left, w->left, 4));
      g_assert_true (close_ulp (c.top, w->top, 4));
      g_assert_true (close_ulp (c.width, w->width, 4));
      g_assert_true (close_ulp (c.height, w->height, 4));
    }
    g_assert_cmpuint (k, ==, want.n);
    total += k;
    ova_infer_object_list_clear (&want);
  }
  g_assert_cmpuint (total, >, 100);
  g_free (out);
  g_rand_free (r);
}

static void
test_yolox (void)
{
  check (OVA_PARSER_YOLOX, 416, 416, 3549, 5 + CLASSES);
  /* a non-square input: the grid widths differ from the heights */
  check (OVA_PARSER_YOLOX, 640, 384, 80 * 48 + 40 * 24 + 20 * 12, 5 + CLASSES);
}

static void
test_yolov8 (void)
{
  check (OVA_PARSER_YOLOV8, 640, 640, 4 + CLASSES, 8400);
}

static void
test_yolov5 (void)
{
  check (OVA_PARSER_YOLOV5, 640, 640, 25200, 5 + CLASSES);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/infer/decode-anchor/yolox", test_yolox);
  g_test_add_func ("/infer/decode-anchor/yolov8", test_yolov8);
  g_test_add_func ("/infer/decode-anchor/yolov5", test_yolov5);
  return g_test_run ();
}
