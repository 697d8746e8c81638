/* ova — tests of the nvinfer-compatible config parser. SPDX-License-Identifier: MIT */
#include <ova/infer.h>
#include <string.h>
#include <glib/gstdio.h>

static gchar *
src_path (const gchar *rel)
{
  const gchar *root = g_getenv ("OVA_SOURCE_DIR");
  return g_build_filename (root ? root : ".", rel, NULL);
}

static void
test_demo_config (void)
{
  g_autofree gchar *path = src_path ("configs/yolox_nano.txt");
  OvaInferConfig *c = ova_infer_config_new ();
  GPtrArray *w = g_ptr_array_new_with_free_func (g_free);
  GError *e = NULL;
  g_assert_true (ova_infer_config_load (c, path, w, &e));
  g_assert_no_error (e);
  g_assert_cmpuint (w->len, ==, 0);
  g_assert_true (g_str_has_suffix (c->onnx_file, "yolox_nano.onnx"));
  g_assert_true (g_path_is_absolute (c->onnx_file) || strstr (c->onnx_file, "configs"));
  g_assert_cmpint (c->model_color_format, ==, OVA_COLOR_BGR);
  g_assert_true (c->maintain_aspect_ratio);
  g_assert_false (c->symmetric_padding);
  g_assert_cmpfloat (c->pad_value, ==, 114);
  g_assert_cmpint (c->num_detected_classes, ==, 80);
  g_assert_cmpuint (c->n_labels, ==, 80);
  g_assert_cmpstr (c->labels[0], ==, "person");
  g_assert_cmpint (c->parser, ==, OVA_PARSER_YOLOX);
  g_assert_cmpfloat_with_epsilon (ova_infer_config_class_attrs (c, 5)->pre_cluster_threshold, 0.3, 1e-6);
  g_assert_cmpfloat_with_epsilon (ova_infer_config_class_attrs (c, 5)->nms_iou_threshold, 0.45, 1e-6);
  g_assert_cmpint (ova_infer_config_class_attrs (c, 79)->topk, ==, 100);
  g_assert_cmpstr (c->output_blob_names[0], ==, "output");
  ova_infer_config_free (c);

  g_free (path);
  path = src_path ("configs/osnet_reid.txt");
  c = ova_infer_config_new ();
  g_assert_true (ova_infer_config_load (c, path, w, &e));
  g_assert_no_error (e);
  g_assert_cmpuint (w->len, ==, 0);
  g_assert_cmpint (c->process_mode, ==, OVA_PROCESS_OBJECTS);
  g_assert_cmpint (c->operate_on_gie_id, ==, 1);
  g_assert_cmpuint (c->n_operate_on_class_ids, ==, 1);
  g_assert_cmpint (c->operate_on_class_ids[0], ==, 0);
  g_assert_true (c->output_embedding);
  g_assert_cmpfloat_with_epsilon (c->net_scale_factors[2], 0.0174292, 1e-7);
  g_assert_cmpfloat_with_epsilon (c->offsets[1], 116.28, 1e-4);
  g_assert_cmpint (c->batch_size, ==, 8);
  ova_infer_config_free (c);
  g_ptr_array_unref (w);
}

static void
test_unknown_keys_warn_with_line (void)
{
  const gchar *data =
      "# comment\n"
      "[property]\n"
      "onnx-file=/m.onnx\n"
      "num-detected-classes=3\n"
      "  bogus-key = 7\n"
      "gpu-id=0\n"
      "\n"
      "[class-attrs-all]\n"
      "pre-cluster-threshold=0.4\n"
      "not-a-class-key=1\n"
      "[class-attrs-2]\n"
      "nms-iou-threshold=0.7\n"
      "topk=3\n"
      "[weird]\n"
      "x=1\n";
  OvaInferConfig *c = ova_infer_config_new ();
  GPtrArray *w = g_ptr_array_new_with_free_func (g_free);
  GError *e = NULL;
  g_assert_true (ova_infer_config_load_data (c, data, "/tmp/x.txt", w, &e));
  g_assert_no_error (e);
  g_assert_true (ova_infer_config_finish (c, &e));
  g_assert_no_error (e);
  g_assert_cmpuint (w->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (w, 0), ==, "/tmp/x.txt:5: unknown key 'bogus-key' in [property] ignored");
  g_assert_cmpstr (g_ptr_array_index (w, 1), ==, "/tmp/x.txt:10: unknown key 'not-a-class-key' in [class-attrs-all] ignored");
  g_assert_cmpstr (g_ptr_array_index (w, 2), ==, "/tmp/x.txt:14: unknown group [weird] ignored");
  g_assert_cmpfloat_with_epsilon (ova_infer_config_class_attrs (c, 0)->pre_cluster_threshold, 0.4, 1e-6);
  g_assert_cmpfloat_with_epsilon (ova_infer_config_class_attrs (c, 2)->pre_cluster_threshold, 0.4, 1e-6);
  g_assert_cmpfloat_with_epsilon (ova_infer_config_class_attrs (c, 2)->nms_iou_threshold, 0.7, 1e-6);
  g_assert_cmpfloat_with_epsilon (ova_infer_config_class_attrs (c, 1)->nms_iou_threshold, 0.5, 1e-6);
  g_assert_cmpint (ova_infer_config_class_attrs (c, 2)->topk, ==, 3);
  g_assert_cmpint (ova_infer_config_class_attrs (c, 0)->topk, ==, -1);
  ova_infer_config_free (c);
  g_ptr_array_unref (w);
}

/* Each bad value fails, and the message names file, group and key. */
static void
test_bad_values (void)
{
  static const struct {
    const gchar *text, *group, *key;
  } cases[] = {
    { "[property]\nbatch-size=zero\n", "property", "batch-size" },
    { "[property]\nbatch-size=0\n", "property", "batch-size" },
    { "[property]\nnet-scale-factor=1.0x\n", "property", "net-scale-factor" },
    { "[property]\noffsets=1;2\n", "property", "offsets" },
    { "[property]\nmodel-color-format=5\n", "property", "model-color-format" },
    { "[property]\nnetwork-type=7\n", "property", "network-type" },
    { "[property]\nnetwork-mode=3\n", "property", "network-mode" },
    { "[property]\nprocess-mode=0\n", "property", "process-mode" },
    { "[property]\ncluster-mode=1\n", "property", "cluster-mode" },
    { "[property]\nmaintain-aspect-ratio=yes\n", "property", "maintain-aspect-ratio" },
    { "[property]\noperate-on-class-ids=0;a;2\n", "property", "operate-on-class-ids" },
    { "[property]\nclassifier-threshold=1.5\n", "property", "classifier-threshold" },
    { "[property]\nclassifier-activation=relu\n", "property", "classifier-activation" },
    { "[property]\n[class-attrs-all]\nnms-iou-threshold=2\n", "class-attrs-all", "nms-iou-threshold" },
    { "[property]\n[class-attrs-3]\ntopk=-5\n", "class-attrs-3", "topk" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    OvaInferConfig *c = ova_infer_config_new ();
    GError *e = NULL;
    g_assert_false (ova_infer_config_load_data (c, cases[i].text, "/cfg/bad.txt", NULL, &e));
    g_assert_error (e, OVA_INFER_ERROR, OVA_INFER_ERROR_CONFIG);
    g_autofree gchar *grp = g_strdup_printf ("[%s]", cases[i].group);
    if (!strstr (e->message, "/cfg/bad.txt") || !strstr (e->message, grp) || !strstr (e->message, cases[i].key))
      g_error ("case %u: message lacks file/group/key: %s", i, e->message);
    g_error_free (e);
    ova_infer_config_free (c);
  }
}

static void
test_cross_checks (void)
{
  OvaInferConfig *c = ova_infer_config_new ();
  GError *e = NULL;
  /* a detector without classes */
  g_assert_true (ova_infer_config_load_data (c, "[property]\nonnx-file=a.onnx\n", "/c/a.txt", NULL, &e));
  g_assert_cmpstr (c->onnx_file, ==, "/c/a.onnx");
  g_assert_false (ova_infer_config_finish (c, &e));
  g_assert_nonnull (strstr (e->message, "num-detected-classes"));
  g_clear_error (&e);
  ova_infer_config_free (c);

  /* an unknown built-in parser */
  c = ova_infer_config_new ();
  g_assert_true (ova_infer_config_load_data (c, "[property]\nnum-detected-classes=2\nparse-bbox-func-name=NvDsInferParseCustomFoo\n",
                                             "/c/b.txt", NULL, &e));
  g_assert_false (ova_infer_config_finish (c, &e));
  g_assert_nonnull (strstr (e->message, "parse-bbox-func-name"));
  g_clear_error (&e);
  ova_infer_config_free (c);

  /* missing label file and missing config file */
  c = ova_infer_config_new ();
  g_assert_true (ova_infer_config_load_data (c, "[property]\nlabelfile-path=nope.txt\n", "/nonexistent/c.txt", NULL, &e));
  g_assert_false (ova_infer_config_finish (c, &e));
  g_assert_error (e, OVA_INFER_ERROR, OVA_INFER_ERROR_IO);
  g_assert_nonnull (strstr (e->message, "/nonexistent/nope.txt"));
  g_clear_error (&e);
  g_assert_false (ova_infer_config_load (c, "/nonexistent/c.txt", NULL, &e));
  g_assert_error (e, OVA_INFER_ERROR, OVA_INFER_ERROR_IO);
  g_clear_error (&e);
  ova_infer_config_free (c);

  /* not a key file at all */
  c = ova_infer_config_new ();
  g_assert_false (ova_infer_config_load_data (c, "this is not\x01 a key file", "/c/d.txt", NULL, &e));
  g_assert_nonnull (strstr (e->message, "/c/d.txt"));
  g_clear_error (&e);
  /* no [property] */
  g_assert_false (ova_infer_config_load_data (c, "[other]\na=1\n", "/c/e.txt", NULL, &e));
  g_assert_nonnull (strstr (e->message, "[property]"));
  g_clear_error (&e);
  ova_infer_config_free (c);

  /* operate-on-class-ids=-1 means all; classifier labels on one line */
  c = ova_infer_config_new ();
  g_assert_true (ova_infer_config_load_data (c, "[property]\nnetwork-type=1\noperate-on-class-ids=-1\n", "/c/f.txt", NULL, &e));
  g_assert_cmpuint (c->n_operate_on_class_ids, ==, 0);
  g_assert_true (ova_infer_config_finish (c, &e));
  ova_infer_config_free (c);

  g_autofree gchar *tmp = g_build_filename (g_get_tmp_dir (), "ova-test-labels.txt", NULL);
  g_assert_true (g_file_set_contents (tmp, "red;green; blue;\n", -1, NULL));
  guint n = 0;
  gchar **l = ova_infer_load_labels (tmp, &n, &e);
  g_assert_cmpuint (n, ==, 3);
  g_assert_cmpstr (l[2], ==, "blue");
  g_strfreev (l);
  g_unlink (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/infer/config/demo", test_demo_config);
  g_test_add_func ("/infer/config/unknown-keys", test_unknown_keys_warn_with_line);
  g_test_add_func ("/infer/config/bad-values", test_bad_values);
  g_test_add_func ("/infer/config/cross-checks", test_cross_checks);
  return g_test_run ();
}
