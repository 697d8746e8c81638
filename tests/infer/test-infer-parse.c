/* ova — output parsers, classifier, embedding, NMS, writers and custom parser
 * libraries on synthetic tensors. SPDX-License-Identifier: MIT */
#include <ova/infer.h>
#include <ova/engine.h>
#include "infer/infer-private.h"
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

static gfloat thr80[80];

static OvaInferParseParams
params80 (gfloat t)
{
  for (int i = 0; i < 80; i++)
    thr80[i] = t;
  return (OvaInferParseParams) { 80, thr80, NULL };
}

static gfloat
logit (gfloat p)
{
  return logf (p / (1 - p));
}

static void
test_yolox (void)
{
  /* 64x32 input: grids 8x4 (s8), 4x2 (s16), 2x1 (s32) = 32+8+2 rows */
  const gint rows = 42, cols = 85;
  gfloat *d = g_new0 (gfloat, rows * cols);
  /* anchor at stride 8, cell (gx=3, gy=2) = row 2*8+3 = 19 */
  gfloat *a = d + 19 * cols;
  a[0] = 0.5f; a[1] = 0.25f; a[2] = logf (2.0f); a[3] = logf (3.0f); a[4] = 0.9f; a[5 + 7] = 0.8f; a[5 + 2] = 0.3f;
  /* stride 16 cell (1,1) = 32 + 1*4 + 1 = 37, below threshold */
  gfloat *b = d + 37 * cols;
  b[4] = 0.5f; b[5] = 0.3f;
  /* stride 32 cell (1,0) = 40 + 1 = 41 */
  gfloat *c = d + 41 * cols;
  c[0] = 0; c[1] = 0; c[2] = 0; c[3] = 0; c[4] = 1.0f; c[5 + 79] = 0.6f;
  OvaInferLayer l = { "output", OVA_DTYPE_FLOAT32, 3, { 1, rows, cols }, d };
  OvaInferNetworkInfo net = { 64, 32, 3 };
  OvaInferParseParams p = params80 (0.25f);
  OvaInferObjectList out = { 0 };
  g_assert_true (ova_parse_yolox (&l, &net, &p, &out));
  g_assert_cmpuint (out.n, ==, 2);
  OvaInferObject *o = &out.objects[0];
  g_assert_cmpint (o->class_id, ==, 7);
  g_assert_cmpfloat_with_epsilon (o->confidence, 0.72f, 1e-6);
  /* cx = (0.5+3)*8 = 28, cy = (0.25+2)*8 = 18, w = 16, h = 24 */
  g_assert_cmpfloat_with_epsilon (o->left, 20, 1e-4);
  g_assert_cmpfloat_with_epsilon (o->top, 6, 1e-4);
  g_assert_cmpfloat_with_epsilon (o->width, 16, 1e-4);
  g_assert_cmpfloat_with_epsilon (o->height, 24, 1e-4);
  o = &out.objects[1];
  g_assert_cmpint (o->class_id, ==, 79);
  g_assert_cmpfloat_with_epsilon (o->left, 32 - 16, 1e-4);  /* cx = 32, w = 32 */
  g_assert_cmpfloat_with_epsilon (o->width, 32, 1e-4);
  /* wrong row count is refused */
  l.dims[1] = 41;
  out.n = 0;
  gboolean ok = ova_parse_yolox (&l, &net, &p, &out);
  g_assert_false (ok);
  ova_infer_object_list_clear (&out);
  g_free (d);
}

static void
test_yolov8_v5_ssd (void)
{
  /* v8: 1 x (4+80) x N, N = 3 */
  const gint N = 3, R = 84;
  gfloat *d = g_new0 (gfloat, R * N);
  /* box 1: cx 50 cy 40 w 20 h 10, class 3 0.9 */
  d[0 * N + 1] = 50; d[1 * N + 1] = 40; d[2 * N + 1] = 20; d[3 * N + 1] = 10; d[(4 + 3) * N + 1] = 0.9f;
  d[(4 + 5) * N + 2] = 0.1f;
  OvaInferLayer l = { "output0", OVA_DTYPE_FLOAT32, 3, { 1, R, N }, d };
  OvaInferNetworkInfo net = { 640, 640, 3 };
  OvaInferParseParams p = params80 (0.25f);
  OvaInferObjectList out = { 0 };
  g_assert_true (ova_parse_yolov8 (&l, &net, &p, &out));
  g_assert_cmpuint (out.n, ==, 1);
  g_assert_cmpint (out.objects[0].class_id, ==, 3);
  g_assert_cmpfloat_with_epsilon (out.objects[0].left, 40, 1e-5);
  g_assert_cmpfloat_with_epsilon (out.objects[0].top, 35, 1e-5);
  g_free (d);

  /* v5: 1 x N x (5+80): score = objectness * class */
  gfloat *e = g_new0 (gfloat, 2 * 85);
  e[0] = 100; e[1] = 100; e[2] = 50; e[3] = 60; e[4] = 0.8f; e[5 + 11] = 0.5f;
  e[85 + 4] = 0.2f; e[85 + 5] = 1.0f;
  OvaInferLayer l5 = { "output", OVA_DTYPE_FLOAT32, 3, { 1, 2, 85 }, e };
  out.n = 0;
  g_assert_true (ova_parse_yolov5 (&l5, &net, &p, &out));
  g_assert_cmpuint (out.n, ==, 1);
  g_assert_cmpint (out.objects[0].class_id, ==, 11);
  g_assert_cmpfloat_with_epsilon (out.objects[0].confidence, 0.4f, 1e-6);
  g_assert_cmpfloat_with_epsilon (out.objects[0].left, 75, 1e-5);
  g_free (e);

  /* ssd: normalised x1y1x2y2 and scores */
  gfloat boxes[8] = { 0.1f, 0.2f, 0.3f, 0.6f, 0, 0, 1, 1 };
  gfloat scores[2 * 80] = { 0 };
  scores[4] = 0.7f;
  scores[80 + 1] = 0.1f;
  OvaInferLayer lb = { "boxes", OVA_DTYPE_FLOAT32, 3, { 1, 2, 4 }, boxes };
  OvaInferLayer ls = { "scores", OVA_DTYPE_FLOAT32, 3, { 1, 2, 80 }, scores };
  OvaInferNetworkInfo net2 = { 300, 200, 3 };
  out.n = 0;
  g_assert_true (ova_parse_ssd (&lb, &ls, &net2, &p, &out));
  g_assert_cmpuint (out.n, ==, 1);
  g_assert_cmpint (out.objects[0].class_id, ==, 4);
  g_assert_cmpfloat_with_epsilon (out.objects[0].left, 30, 1e-4);
  g_assert_cmpfloat_with_epsilon (out.objects[0].top, 40, 1e-4);
  g_assert_cmpfloat_with_epsilon (out.objects[0].width, 60, 1e-4);
  g_assert_cmpfloat_with_epsilon (out.objects[0].height, 80, 1e-4);
  ova_infer_object_list_clear (&out);
}

static void
test_classifier_embedding (void)
{
  gfloat logits[4] = { 1.0f, 3.0f, 0.5f, 2.9f };
  OvaClassResult r[4];
  guint n = ova_parse_classifier (logits, 4, OVA_CLASSIFIER_SOFTMAX, FALSE, 0.3f, r);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpint (r[0].class_id, ==, 1);
  gdouble s = exp (1.0) + exp (3.0) + exp (0.5) + exp (2.9);
  g_assert_cmpfloat_with_epsilon (r[0].probability, exp (3.0) / s, 1e-6);
  n = ova_parse_classifier (logits, 4, OVA_CLASSIFIER_SOFTMAX, FALSE, 0.6f, r);
  g_assert_cmpuint (n, ==, 0);
  /* sigmoid multi-label: 3.0, 2.9, 1.0 pass 0.7 (sigmoid(1)=0.731) */
  n = ova_parse_classifier (logits, 4, OVA_CLASSIFIER_SIGMOID, TRUE, 0.7f, r);
  g_assert_cmpuint (n, ==, 3);
  g_assert_cmpint (r[0].class_id, ==, 1);
  g_assert_cmpint (r[1].class_id, ==, 3);
  g_assert_cmpint (r[2].class_id, ==, 0);
  g_assert_cmpfloat_with_epsilon (r[2].probability, 1 / (1 + exp (-1.0)), 1e-6);
  gfloat probs[3] = { 0.2f, 0.5f, 0.3f };
  n = ova_parse_classifier (probs, 3, OVA_CLASSIFIER_NONE, FALSE, 0.0f, r);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpfloat (r[0].probability, ==, 0.5f);

  gfloat v[4] = { 3, 0, 4, 0 }, o[4];
  ova_l2_normalize (v, 4, o);
  g_assert_cmpfloat_with_epsilon (o[0], 0.6f, 1e-7);
  g_assert_cmpfloat_with_epsilon (o[2], 0.8f, 1e-7);
  gfloat z[2] = { 0, 0 };
  ova_l2_normalize (z, 2, z);
  g_assert_cmpfloat (z[0], ==, 0);
  (void) logit;
}

static void
test_segmentation (void)
{
  /* 1 x 3 x 2 x 2: per pixel the best class */
  gfloat d[12] = { 0.1f, 0.9f, 0.2f, 0.0f,   /* class 0 */
                   0.5f, 0.1f, 0.1f, 0.0f,   /* class 1 */
                   0.2f, 0.3f, 0.7f, 0.0f }; /* class 2 */
  OvaInferLayer l = { "seg", OVA_DTYPE_FLOAT32, 4, { 1, 3, 2, 2 }, d };
  OvaMaskMeta *m = ova_parse_segmentation (&l);
  g_assert_nonnull (m);
  g_assert_cmpuint (m->width, ==, 2);
  g_assert_cmpfloat (m->data[0], ==, 1);
  g_assert_cmpfloat (m->data[1], ==, 0);
  g_assert_cmpfloat (m->data[2], ==, 2);
  g_assert_cmpfloat (m->data[3], ==, 0);
  ova_mask_meta_free (m);
  /* one channel: the values themselves */
  OvaInferLayer p = { "prob", OVA_DTYPE_FLOAT32, 3, { 1, 2, 2 }, d };
  m = ova_parse_segmentation (&p);
  g_assert_cmpfloat (m->data[1], ==, 0.9f);
  ova_mask_meta_free (m);
  l.rank = 2;
  g_assert_null (ova_parse_segmentation (&l));
}

static OvaInferObject
box (gfloat l, gfloat t, gfloat w, gfloat h, gint c, gfloat s)
{
  return (OvaInferObject) { l, t, w, h, c, s };
}

static void
test_nms (void)
{
  OvaInferObject a = box (0, 0, 10, 10, 0, 0.9f), b = box (1, 1, 10, 10, 0, 0.8f);
  /* inter 81, union 119 */
  g_assert_cmpfloat_with_epsilon (ova_box_iou (&a, &b), 81.0f / 119.0f, 1e-6);
  OvaInferObject c = box (20, 20, 5, 5, 0, 0.1f);
  g_assert_cmpfloat (ova_box_iou (&a, &c), ==, 0);

  OvaInferObjectList l = { 0 };
  ova_infer_object_list_push (&l, &b);                        /* 0.8 cls 0 overlaps a */
  ova_infer_object_list_push (&l, &a);                        /* 0.9 cls 0 */
  OvaInferObject d = box (1, 1, 10, 10, 1, 0.85f);            /* other class, overlaps */
  ova_infer_object_list_push (&l, &d);
  ova_infer_object_list_push (&l, &c);
  OvaInferObject e = box (40, 40, 10, 10, 0, 0.5f);
  ova_infer_object_list_push (&l, &e);

  /* per class: b suppressed by a; d survives (class 1) */
  OvaInferObjectList l2 = { 0 };
  for (size_t i = 0; i < l.n; i++)
    ova_infer_object_list_push (&l2, &l.objects[i]);
  ova_nms_simple (&l2, 0.5f, FALSE, -1);
  g_assert_cmpuint (l2.n, ==, 4);
  g_assert_cmpfloat (l2.objects[0].confidence, ==, 0.9f);
  g_assert_cmpfloat (l2.objects[1].confidence, ==, 0.85f);
  g_assert_cmpfloat (l2.objects[2].confidence, ==, 0.5f);
  g_assert_cmpfloat (l2.objects[3].confidence, ==, 0.1f);

  /* class-agnostic: d suppressed by a too */
  l2.n = 0;
  for (size_t i = 0; i < l.n; i++)
    ova_infer_object_list_push (&l2, &l.objects[i]);
  ova_nms_simple (&l2, 0.5f, TRUE, -1);
  g_assert_cmpuint (l2.n, ==, 3);

  /* top-k per class */
  l2.n = 0;
  for (size_t i = 0; i < l.n; i++)
    ova_infer_object_list_push (&l2, &l.objects[i]);
  ova_nms_simple (&l2, 0.5f, FALSE, 1);
  g_assert_cmpuint (l2.n, ==, 2);

  /* per-class thresholds from a config: class 0 IoU 0.9 keeps b; post-cluster drops 0.1 */
  OvaInferConfig *cfg = ova_infer_config_new ();
  GError *err = NULL;
  g_assert_true (ova_infer_config_load_data (cfg,
      "[property]\nnum-detected-classes=2\n[class-attrs-all]\npost-cluster-threshold=0.2\n"
      "[class-attrs-0]\nnms-iou-threshold=0.9\n", "/t/c.txt", NULL, &err));
  g_assert_true (ova_infer_config_finish (cfg, &err));
  l2.n = 0;
  for (size_t i = 0; i < l.n; i++)
    ova_infer_object_list_push (&l2, &l.objects[i]);
  ova_nms (&l2, cfg, FALSE, -1);
  g_assert_cmpuint (l2.n, ==, 4);
  g_assert_cmpfloat (l2.objects[2].confidence, ==, 0.8f);
  ova_nms (&l2, cfg, FALSE, 2);
  g_assert_cmpuint (l2.n, ==, 2);
  ova_infer_config_free (cfg);
  ova_infer_object_list_clear (&l);
  ova_infer_object_list_clear (&l2);
}

static void
test_letterbox_unmap (void)
{
  OvaPreprocParams p = { 416, 416, OVA_COLOR_BGR, { 1, 1, 1 }, { 0 }, TRUE, TRUE, 114 };
  OvaRect crop = { 100, 50, 200, 100 };
  OvaLetterbox lb;
  ova_preproc_letterbox (&p, &crop, &lb);
  g_assert_cmpint (lb.out_w, ==, 416);
  g_assert_cmpint (lb.out_h, ==, 208);
  g_assert_cmpfloat (lb.pad_y, ==, 104);
  OvaInferObject o = { 0, 104, 416, 208, 0, 1 };
  ova_letterbox_unmap (&lb, &o);
  g_assert_cmpfloat_with_epsilon (o.left, 100, 1e-4);
  g_assert_cmpfloat_with_epsilon (o.top, 50, 1e-4);
  g_assert_cmpfloat_with_epsilon (o.width, 200, 1e-4);
  g_assert_cmpfloat_with_epsilon (o.height, 100, 1e-4);
}

static void
test_writers (void)
{
  OvaBatchMeta *bm;
  GstBuffer *buf = gst_buffer_new ();
  bm = ova_buffer_add_batch_meta (buf, 1, NULL);
  OvaFrameMeta *f = ova_batch_meta_acquire_frame (bm);
  f->source_id = 2;
  f->frame_num = 12;
  f->buf_pts = 1200000000;
  f->source_width = 768;
  f->source_height = 576;
  ova_batch_meta_add_frame (bm, f);
  OvaObjectMeta *o = ova_batch_meta_acquire_object (bm);
  o->class_id = 0;
  ova_object_meta_set_label (o, "person");
  o->confidence = 0.87f;
  o->rect = (OvaRect) { 10.5f, 20.0f, 30.0f, 80.0f };
  o->tracker_id = 5;
  ova_frame_meta_add_object (f, o);
  o = ova_batch_meta_acquire_object (bm);
  o->class_id = 9;
  ova_object_meta_set_label (o, "traffic \"light\"");
  o->confidence = 0.5f;
  o->rect = (OvaRect) { 1.25f, 2, 3, 4 };
  o->tracker_id = OVA_UNTRACKED;
  ova_frame_meta_add_object (f, o);

  GString *s = g_string_new (NULL);
  ova_infer_frame_to_json (f, s);
  g_assert_cmpstr (s->str, ==,
      "{\"source_id\":2,\"frame\":12,\"pts\":1200000000,\"width\":768,\"height\":576,\"objects\":["
      "{\"class_id\":0,\"label\":\"person\",\"confidence\":0.87,\"left\":10.5,\"top\":20.0,\"width\":30.0,"
      "\"height\":80.0,\"tracker_id\":5},"
      "{\"class_id\":9,\"label\":\"traffic \\\"light\\\"\",\"confidence\":0.5,\"left\":1.25,\"top\":2.0,"
      "\"width\":3.0,\"height\":4.0,\"tracker_id\":-1}]}\n");
  g_string_truncate (s, 0);
  ova_infer_frame_to_kitti (f, s);
  g_assert_cmpstr (s->str, ==,
      "person 0.0 0 0.0 10.500000 20.000000 40.500000 100.000000 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.870000\n"
      "traffic \"light\" 0.0 0 0.0 1.250000 2.000000 4.250000 6.000000 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0.500000\n");
  g_autofree gchar *dir = g_dir_make_tmp ("ova-kitti-XXXXXX", NULL);
  GError *e = NULL;
  g_assert_true (ova_infer_write_kitti (dir, 0, f, &e));
  g_autofree gchar *path = ova_infer_kitti_path (dir, 0, f);
  g_assert_true (g_str_has_suffix (path, "/00_002_000012.txt"));
  gchar *contents = NULL;
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, s->str);
  g_free (contents);
  g_unlink (path);
  g_rmdir (dir);
  /* an unwritable directory is an error, not a crash */
  g_assert_false (ova_infer_write_kitti ("/nonexistent/dir", 0, f, &e));
  g_assert_nonnull (e);
  g_clear_error (&e);
  g_string_free (s, TRUE);
  gst_buffer_unref (buf);
}

static void
test_custom_parser (void)
{
  const gchar *lib = g_getenv ("OVA_EXAMPLE_PARSER");
  g_assert_nonnull (lib);
  GError *e = NULL;
  OvaCustomParser *p = ova_custom_parser_open (lib, "no_such_function", &e);
  g_assert_null (p);
  g_assert_error (e, OVA_INFER_ERROR, OVA_INFER_ERROR_PARSER);
  g_assert_nonnull (strstr (e->message, "no_such_function"));
  g_clear_error (&e);
  p = ova_custom_parser_open ("/nonexistent/libx.so", "f", &e);
  g_assert_null (p);
  g_assert_nonnull (strstr (e->message, "/nonexistent/libx.so"));
  g_clear_error (&e);

  p = ova_custom_parser_open (lib, "ova_example_parse_cxcywh", &e);
  g_assert_no_error (e);
  gfloat d[2 * 6] = { 50, 60, 20, 40, 0.1f, 0.9f, 10, 10, 4, 4, 0.2f, 0.1f };
  OvaInferLayer l = { "out", OVA_DTYPE_FLOAT32, 3, { 1, 2, 6 }, d };
  OvaInferNetworkInfo net = { 100, 100, 3 };
  gfloat thr[2] = { 0.5f, 0.5f };
  OvaInferParseParams pp = { 2, thr, NULL };
  OvaInferObjectList out = { 0 };
  g_assert_true (ova_custom_parser_run (p, &l, 1, &net, &pp, &out));
  g_assert_cmpuint (out.n, ==, 1);
  g_assert_cmpint (out.objects[0].class_id, ==, 1);
  g_assert_cmpfloat (out.objects[0].left, ==, 40);
  g_assert_cmpfloat (out.objects[0].top, ==, 40);
  /* wrong shape: the parser reports failure */
  l.rank = 2;
  g_assert_false (ova_custom_parser_run (p, &l, 1, &net, &pp, &out));
  ova_infer_object_list_clear (&out);
  ova_custom_parser_free (p);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/infer/parse/yolox", test_yolox);
  g_test_add_func ("/infer/parse/yolov8-v5-ssd", test_yolov8_v5_ssd);
  g_test_add_func ("/infer/parse/classifier-embedding", test_classifier_embedding);
  g_test_add_func ("/infer/parse/nms", test_nms);
  g_test_add_func ("/infer/parse/segmentation", test_segmentation);
  g_test_add_func ("/infer/parse/letterbox-unmap", test_letterbox_unmap);
  g_test_add_func ("/infer/parse/writers", test_writers);
  g_test_add_func ("/infer/parse/custom-parser", test_custom_parser);
  int r = g_test_run ();
  gst_deinit ();
  return r;
}
