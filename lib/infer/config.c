/* ova — nvinfer-compatible config files. SPDX-License-Identifier: MIT
 *
 * GKeyFile reads the groups; every key is looked up in a table saying how to
 * parse and check it. GKeyFile keeps no line numbers, so warnings about
 * unknown keys find the line by scanning the text for the key in its group.
 */
#include <ova/infer.h>
#include <ova/engine.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

GQuark
ova_infer_error_quark (void)
{
  return g_quark_from_static_string ("ova-infer-error-quark");
}

static void
class_attrs_defaults (OvaClassAttrs *a)
{
  a->pre_cluster_threshold = 0.2f;
  a->post_cluster_threshold = 0.0f;
  a->nms_iou_threshold = 0.5f;
  a->topk = -1;
  a->detected_min_w = a->detected_min_h = 0;
  a->detected_max_w = a->detected_max_h = 0;
  a->roi_top_offset = a->roi_bottom_offset = 0;
}

OvaInferConfig *
ova_infer_config_new (void)
{
  OvaInferConfig *c = g_new0 (OvaInferConfig, 1);
  c->batch_size = 1;
  c->network_mode = 0;
  c->network_type = OVA_NETWORK_DETECTOR;
  c->num_detected_classes = 0;
  c->net_scale_factor = 1.0f;
  for (int i = 0; i < 3; i++)
    c->net_scale_factors[i] = NAN;
  c->model_color_format = OVA_COLOR_RGB;
  c->interval = 0;
  c->gie_unique_id = 1;
  c->process_mode = OVA_PROCESS_FRAMES;
  c->operate_on_gie_id = -1;
  c->secondary_reinfer_interval = 30;
  c->classifier_threshold = 0.5f;
  c->classifier_activation = OVA_CLASSIFIER_SOFTMAX;
  c->cluster_mode = OVA_CLUSTER_NMS;
  c->parser = OVA_PARSER_NONE;
  class_attrs_defaults (&c->class_all);
  c->class_overrides = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  return c;
}

void
ova_infer_config_free (OvaInferConfig *c)
{
  if (!c)
    return;
  g_free (c->path);
  g_free (c->onnx_file);
  g_free (c->model_engine_file);
  g_free (c->labelfile_path);
  g_strfreev (c->labels);
  g_strfreev (c->output_blob_names);
  g_free (c->operate_on_class_ids);
  g_free (c->parse_bbox_func_name);
  g_free (c->custom_lib_path);
  g_free (c->class_attrs);
  g_hash_table_unref (c->class_overrides);
  g_free (c);
}

/* ------------------------------------------------------------ value parsing */

typedef struct {
  const gchar *path;
  const gchar *group;
  const gchar *key;
  const gchar *base_dir;
} Ctx;

static gboolean
bad (const Ctx *x, GError **error, const gchar *value, const gchar *why)
{
  g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_CONFIG, "%s: [%s] %s: invalid value '%s': %s",
               x->path, x->group, x->key, value, why);
  return FALSE;
}

static gboolean
parse_int (const Ctx *x, const gchar *v, gint64 lo, gint64 hi, gint64 *out, GError **error)
{
  gchar *end = NULL;
  errno = 0;
  gint64 n = g_ascii_strtoll (v, &end, 10);
  if (errno || end == v || *end != '\0')
    return bad (x, error, v, "expected an integer");
  if (n < lo || n > hi) {
    gchar *why = g_strdup_printf ("expected an integer in %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT, lo, hi);
    gboolean r = bad (x, error, v, why);
    g_free (why);
    return r;
  }
  *out = n;
  return TRUE;
}

static gboolean
parse_float (const Ctx *x, const gchar *v, gdouble lo, gdouble hi, gdouble *out, GError **error)
{
  gchar *end = NULL;
  errno = 0;
  gdouble d = g_ascii_strtod (v, &end);
  if (errno || end == v || *end != '\0' || !isfinite (d))
    return bad (x, error, v, "expected a number");
  if (d < lo || d > hi) {
    gchar *why = g_strdup_printf ("expected a number in %g..%g", lo, hi);
    gboolean r = bad (x, error, v, why);
    g_free (why);
    return r;
  }
  *out = d;
  return TRUE;
}

static gboolean
parse_bool (const Ctx *x, const gchar *v, gboolean *out, GError **error)
{
  if (!g_ascii_strcasecmp (v, "1") || !g_ascii_strcasecmp (v, "true"))
    *out = TRUE;
  else if (!g_ascii_strcasecmp (v, "0") || !g_ascii_strcasecmp (v, "false"))
    *out = FALSE;
  else
    return bad (x, error, v, "expected 0 or 1");
  return TRUE;
}

/* Splits "a;b;c;" (nvinfer's list syntax) into trimmed, non-empty items. */
static gchar **
split_list (const gchar *v)
{
  gchar **parts = g_strsplit (v, ";", -1);
  GPtrArray *a = g_ptr_array_new ();
  for (gchar **p = parts; *p; p++) {
    g_strstrip (*p);
    if (**p)
      g_ptr_array_add (a, g_strdup (*p));
  }
  g_strfreev (parts);
  g_ptr_array_add (a, NULL);
  return (gchar **) g_ptr_array_free (a, FALSE);
}

static gchar *
resolve_path (const Ctx *x, const gchar *v)
{
  if (g_path_is_absolute (v))
    return g_strdup (v);
  return g_build_filename (x->base_dir, v, NULL);
}

/* ------------------------------------------------------------------ keys */

typedef gboolean (*KeyFunc) (OvaInferConfig *c, OvaClassAttrs *ca, const Ctx *x, const gchar *v,
                             GError **error);

#define INT_KEY(fname, field, lo, hi)                                                          \
  static gboolean fname (OvaInferConfig *c, OvaClassAttrs *ca, const Ctx *x, const gchar *v, \
                         GError **e)                                                            \
  {                                                                                             \
    gint64 n;                                                                                   \
    if (!parse_int (x, v, lo, hi, &n, e))                                                       \
      return FALSE;                                                                             \
    field = n;                                                                                  \
    return TRUE;                                                                                \
  }
#define FLOAT_KEY(fname, field, lo, hi)                                                        \
  static gboolean fname (OvaInferConfig *c, OvaClassAttrs *ca, const Ctx *x, const gchar *v, \
                         GError **e)                                                            \
  {                                                                                             \
    gdouble d;                                                                                  \
    if (!parse_float (x, v, lo, hi, &d, e))                                                     \
      return FALSE;                                                                             \
    field = d;                                                                                  \
    return TRUE;                                                                                \
  }
#define BOOL_KEY(fname, field)                                                                 \
  static gboolean fname (OvaInferConfig *c, OvaClassAttrs *ca, const Ctx *x, const gchar *v, \
                         GError **e)                                                            \
  {                                                                                             \
    return parse_bool (x, v, &field, e);                                                        \
  }
#define PATH_KEY(fname, field)                                                                 \
  static gboolean fname (OvaInferConfig *c, OvaClassAttrs *ca, const Ctx *x, const gchar *v, \
                         GError **e)                                                            \
  {                                                                                             \
    if (!*v)                                                                                    \
      return bad (x, e, v, "expected a file name");                                             \
    g_free (field);                                                                             \
    field = resolve_path (x, v);                                                                \
    return TRUE;                                                                                \
  }

INT_KEY (k_batch_size, c->batch_size, 1, 1024)
INT_KEY (k_num_classes, c->num_detected_classes, 0, 100000)
INT_KEY (k_interval, c->interval, 0, G_MAXINT)
INT_KEY (k_unique_id, c->gie_unique_id, 0, G_MAXINT)
INT_KEY (k_operate_gie, c->operate_on_gie_id, -1, G_MAXINT)
INT_KEY (k_min_w, c->input_object_min_width, 0, G_MAXINT)
INT_KEY (k_min_h, c->input_object_min_height, 0, G_MAXINT)
INT_KEY (k_max_w, c->input_object_max_width, 0, G_MAXINT)
INT_KEY (k_max_h, c->input_object_max_height, 0, G_MAXINT)
INT_KEY (k_reinfer, c->secondary_reinfer_interval, 0, G_MAXINT)
FLOAT_KEY (k_scale, c->net_scale_factor, -1e9, 1e9)
FLOAT_KEY (k_cls_thresh, c->classifier_threshold, 0.0, 1.0)
FLOAT_KEY (k_pad_value, c->pad_value, 0.0, 255.0)
BOOL_KEY (k_keep_aspect, c->maintain_aspect_ratio)
BOOL_KEY (k_symmetric, c->symmetric_padding)
BOOL_KEY (k_tensor_meta, c->output_tensor_meta)
BOOL_KEY (k_multi_label, c->classifier_multi_label)
BOOL_KEY (k_embedding, c->output_embedding)
BOOL_KEY (k_agnostic, c->class_agnostic_nms)
PATH_KEY (k_onnx, c->onnx_file)
PATH_KEY (k_engine_file, c->model_engine_file)
PATH_KEY (k_labels, c->labelfile_path)
PATH_KEY (k_custom_lib, c->custom_lib_path)
FLOAT_KEY (k_pre_cluster, ca->pre_cluster_threshold, 0.0, 1.0)
FLOAT_KEY (k_post_cluster, ca->post_cluster_threshold, 0.0, 1.0)
FLOAT_KEY (k_nms_iou, ca->nms_iou_threshold, 0.0, 1.0)
INT_KEY (k_topk, ca->topk, -1, G_MAXINT)
INT_KEY (k_det_min_w, ca->detected_min_w, 0, G_MAXINT)
INT_KEY (k_det_min_h, ca->detected_min_h, 0, G_MAXINT)
INT_KEY (k_det_max_w, ca->detected_max_w, 0, G_MAXINT)
INT_KEY (k_det_max_h, ca->detected_max_h, 0, G_MAXINT)
INT_KEY (k_roi_top, ca->roi_top_offset, 0, G_MAXINT)
INT_KEY (k_roi_bottom, ca->roi_bottom_offset, 0, G_MAXINT)

static gboolean
k_color (OvaInferConfig *c, OvaClassAttrs *ca, const Ctx *x, const gchar *v, GError **e)
{
  gint64 n;
  if (!parse_int (x, v, 0, 2, &n, e))
    return FALSE;
  c->model_color_format = n;
  return TRUE;
}

static gboolean
k_network_mode (OvaInferConfig *c, OvaClassAttrs *ca, const Ctx *x, const gchar *v, GError **e)
{
  gint64 n;
  if (!parse_int (x, v, 0, 3, &n, e))
    return FALSE;
  if (n == 3)
    return bad (x, e, v, "3 (BEST) is not supported; use 0 (FP32), 1 (INT8) or 2 (FP16)");
  c->network_mode = n;
  return TRUE;
}

static gboolean
k_network_type (OvaInferConfig *c, OvaClassAttrs *ca, const Ctx *x, const gchar *v, GError **e)
{
  gint64 n;
  if (!parse_int (x, v, 0, 100, &n, e))
    return FALSE;
  if (n != 0 && n != 1 && n != 2 && n != 100)
    return bad (x, e, v, "expected 0 (detector), 1 (classifier), 2 (segmentation) or 100 (other)");
  c->network_type = n;
  return TRUE;
}

static gboolean
k_process_mode (OvaInferConfig *c, OvaClassAttrs *ca, const Ctx *x, const gchar *v, GError **e)
{
  gint64 n;
  if (!parse_int (x, v, 1, 2, &n, e))
    return FALSE;
  c->process_mode = n;
  return TRUE;
}

static gboolean
k_cluster_mode (OvaInferConfig *c, OvaClassAttrs *ca, const Ctx *x, const gchar *v, GError **e)
{
  gint64 n;
  if (!parse_int (x, v, 0, 4, &n, e))
    return FALSE;
  if (n != 2 && n != 4)
    return bad (x, e, v, "ova supports 2 (NMS) and 4 (no clustering); 0 (groupRectangles), "
                "1 (DBSCAN) and 3 (hybrid) are not implemented");
  c->cluster_mode = n;
  return TRUE;
}

static gboolean
float_list (const Ctx *x, const gchar *v, gfloat out[3], gboolean allow_one, GError **e)
{
  gchar **items = split_list (v);
  guint n = g_strv_length (items);
  gboolean ok = TRUE;
  if (n != 3 && !(allow_one && n == 1)) {
    ok = bad (x, e, v, allow_one ? "expected 1 or 3 numbers separated by ';'"
                                 : "expected 3 numbers separated by ';'");
    goto out;
  }
  for (guint i = 0; i < n && ok; i++) {
    gdouble d;
    Ctx xi = *x;
    ok = parse_float (&xi, items[i], -1e9, 1e9, &d, e);
    out[i] = d;
  }
  if (ok && n == 1)
    out[1] = out[2] = out[0];
out:
  g_strfreev (items);
  return ok;
}

static gboolean
k_offsets (OvaInferConfig *c, OvaClassAttrs *ca, const Ctx *x, const gchar *v, GError **e)
{
  return float_list (x, v, c->offsets, TRUE, e);
}

static gboolean
k_scales (OvaInferConfig *c, OvaClassAttrs *ca, const Ctx *x, const gchar *v, GError **e)
{
  return float_list (x, v, c->net_scale_factors, TRUE, e);
}

static gboolean
k_class_ids (OvaInferConfig *c, OvaClassAttrs *ca, const Ctx *x, const gchar *v, GError **e)
{
  gchar **items = split_list (v);
  guint n = g_strv_length (items);
  gint *ids = g_new0 (gint, MAX (n, 1));
  for (guint i = 0; i < n; i++) {
    gint64 id;
    if (!parse_int (x, items[i], -1, G_MAXINT, &id, e)) {
      g_free (ids);
      g_strfreev (items);
      return FALSE;
    }
    ids[i] = id;
  }
  g_strfreev (items);
  g_free (c->operate_on_class_ids);
  /* nvinfer writes "-1" for "all classes" */
  if (n == 1 && ids[0] == -1)
    n = 0;
  c->operate_on_class_ids = n ? ids : (g_free (ids), NULL);
  c->n_operate_on_class_ids = n;
  return TRUE;
}

static gboolean
k_blob_names (OvaInferConfig *c, OvaClassAttrs *ca, const Ctx *x, const gchar *v, GError **e)
{
  gchar **items = split_list (v);
  if (!items[0]) {
    g_strfreev (items);
    return bad (x, e, v, "expected output names separated by ';'");
  }
  g_strfreev (c->output_blob_names);
  c->output_blob_names = items;
  return TRUE;
}

static gboolean
k_parse_func (OvaInferConfig *c, OvaClassAttrs *ca, const Ctx *x, const gchar *v, GError **e)
{
  if (!*v)
    return bad (x, e, v, "expected a function name");
  g_free (c->parse_bbox_func_name);
  c->parse_bbox_func_name = g_strdup (v);
  return TRUE;
}

static gboolean
k_activation (OvaInferConfig *c, OvaClassAttrs *ca, const Ctx *x, const gchar *v, GError **e)
{
  if (!g_ascii_strcasecmp (v, "softmax"))
    c->classifier_activation = OVA_CLASSIFIER_SOFTMAX;
  else if (!g_ascii_strcasecmp (v, "sigmoid"))
    c->classifier_activation = OVA_CLASSIFIER_SIGMOID;
  else if (!g_ascii_strcasecmp (v, "none"))
    c->classifier_activation = OVA_CLASSIFIER_NONE;
  else
    return bad (x, e, v, "expected softmax, sigmoid or none");
  return TRUE;
}

/* Keys nvinfer knows that have no meaning for ova's engine (TensorRT, DLA,
 * Caffe/UFF/TLT models...): accepted with an informational message. */
static gboolean
k_ignored (OvaInferConfig *c, OvaClassAttrs *ca, const Ctx *x, const gchar *v, GError **e)
{
  g_info ("%s: [%s] %s is an nvinfer key ova does not use; ignored", x->path, x->group, x->key);
  return TRUE;
}

typedef struct {
  const gchar *name;
  KeyFunc func;
} KeyDef;

static const KeyDef property_keys[] = {
  { "onnx-file", k_onnx },
  { "model-engine-file", k_engine_file },
  { "labelfile-path", k_labels },
  { "batch-size", k_batch_size },
  { "net-scale-factor", k_scale },
  { "net-scale-factors", k_scales },
  { "offsets", k_offsets },
  { "model-color-format", k_color },
  { "maintain-aspect-ratio", k_keep_aspect },
  { "symmetric-padding", k_symmetric },
  { "pad-value", k_pad_value },
  { "network-mode", k_network_mode },
  { "network-type", k_network_type },
  { "num-detected-classes", k_num_classes },
  { "interval", k_interval },
  { "gie-unique-id", k_unique_id },
  { "process-mode", k_process_mode },
  { "operate-on-gie-id", k_operate_gie },
  { "operate-on-class-ids", k_class_ids },
  { "input-object-min-width", k_min_w },
  { "input-object-min-height", k_min_h },
  { "input-object-max-width", k_max_w },
  { "input-object-max-height", k_max_h },
  { "secondary-reinfer-interval", k_reinfer },
  { "classifier-threshold", k_cls_thresh },
  { "classifier-activation", k_activation },
  { "classifier-multi-label", k_multi_label },
  { "output-embedding", k_embedding },
  { "cluster-mode", k_cluster_mode },
  { "nms-class-agnostic", k_agnostic },
  { "parse-bbox-func-name", k_parse_func },
  { "custom-lib-path", k_custom_lib },
  { "output-tensor-meta", k_tensor_meta },
  { "output-blob-names", k_blob_names },
  /* per-class defaults also accepted in [property] (as [class-attrs-all]) */
  { "pre-cluster-threshold", k_pre_cluster },
  { "post-cluster-threshold", k_post_cluster },
  { "nms-iou-threshold", k_nms_iou },
  { "topk", k_topk },
  /* nvinfer keys without meaning here */
  { "gpu-id", k_ignored },
  { "model-file", k_ignored },
  { "proto-file", k_ignored },
  { "uff-file", k_ignored },
  { "tlt-encoded-model", k_ignored },
  { "tlt-model-key", k_ignored },
  { "int8-calib-file", k_ignored },
  { "input-dims", k_ignored },
  { "infer-dims", k_ignored },
  { "uff-input-blob-name", k_ignored },
  { "uff-input-order", k_ignored },
  { "network-input-order", k_ignored },
  { "force-implicit-batch-dim", k_ignored },
  { "workspace-size", k_ignored },
  { "enable-dla", k_ignored },
  { "use-dla-core", k_ignored },
  { "scaling-filter", k_ignored },
  { "scaling-compute-hw", k_ignored },
  { "output-io-formats", k_ignored },
  { "layer-device-precision", k_ignored },
  { "is-classifier", k_ignored },
  { "classifier-async-mode", k_ignored },
  { "enable-dbscan", k_ignored },
  { "mean-file", k_ignored },
  { "engine-create-func-name", k_ignored },
  { "custom-network-config", k_ignored },
  { "parse-classifier-func-name", k_ignored },
  { "disable-output-host-copy", k_ignored },
  { "crop-objects-to-roi-boundary", k_ignored },
  { "filter-out-class-ids", k_ignored },
  { NULL, NULL },
};

static const KeyDef class_keys[] = {
  { "pre-cluster-threshold", k_pre_cluster },
  { "threshold", k_pre_cluster }, /* older nvinfer name */
  { "post-cluster-threshold", k_post_cluster },
  { "nms-iou-threshold", k_nms_iou },
  { "topk", k_topk },
  { "detected-min-w", k_det_min_w },
  { "detected-min-h", k_det_min_h },
  { "detected-max-w", k_det_max_w },
  { "detected-max-h", k_det_max_h },
  { "roi-top-offset", k_roi_top },
  { "roi-bottom-offset", k_roi_bottom },
  { "eps", k_ignored },
  { "group-threshold", k_ignored },
  { "minBoxes", k_ignored },
  { "dbscan-min-score", k_ignored },
  { NULL, NULL },
};

static const KeyDef *
find_key (const KeyDef *table, const gchar *name)
{
  for (const KeyDef *k = table; k->name; k++)
    if (!strcmp (k->name, name))
      return k;
  return NULL;
}

/* 1-based line of @key inside [@group] of @data, 0 if not found. */
static guint
find_line (const gchar *data, const gchar *group, const gchar *key)
{
  gchar **lines = g_strsplit (data, "\n", -1);
  gboolean in_group = FALSE;
  guint found = 0;
  gsize klen = strlen (key);
  for (guint i = 0; lines[i] && !found; i++) {
    gchar *l = g_strstrip (lines[i]);
    if (l[0] == '[') {
      gchar *end = strchr (l, ']');
      in_group = end && (gsize) (end - l - 1) == strlen (group) && !strncmp (l + 1, group, end - l - 1);
      continue;
    }
    if (in_group && !strncmp (l, key, klen)) {
      const gchar *p = l + klen;
      while (*p == ' ' || *p == '\t')
        p++;
      if (*p == '=')
        found = i + 1;
    }
  }
  g_strfreev (lines);
  return found;
}

static guint
find_group_line (const gchar *data, const gchar *group)
{
  gchar **lines = g_strsplit (data, "\n", -1);
  g_autofree gchar *hdr = g_strdup_printf ("[%s]", group);
  guint found = 0;
  for (guint i = 0; lines[i] && !found; i++)
    if (g_str_has_prefix (g_strstrip (lines[i]), hdr))
      found = i + 1;
  g_strfreev (lines);
  return found;
}

static void
warn (GPtrArray *warnings, const gchar *fmt, ...) G_GNUC_PRINTF (2, 3);
static void
warn (GPtrArray *warnings, const gchar *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  gchar *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (warnings) {
    g_ptr_array_add (warnings, msg);
  } else {
    g_warning ("%s", msg);
    g_free (msg);
  }
}

static gboolean
load_group (OvaInferConfig *c, GKeyFile *kf, const gchar *data, const Ctx *base, const gchar *group,
            const KeyDef *table, OvaClassAttrs *ca, GPtrArray *warnings, GError **error)
{
  gchar **keys = g_key_file_get_keys (kf, group, NULL, NULL);
  gboolean ok = TRUE;
  for (gchar **k = keys; k && *k && ok; k++) {
    const KeyDef *def = find_key (table, *k);
    if (!def) {
      warn (warnings, "%s:%u: unknown key '%s' in [%s] ignored", base->path,
            find_line (data, group, *k), *k, group);
      continue;
    }
    gchar *v = g_key_file_get_value (kf, group, *k, NULL);
    g_strstrip (v);
    Ctx x = *base;
    x.group = group;
    x.key = *k;
    ok = def->func (c, ca, &x, v, error);
    g_free (v);
  }
  g_strfreev (keys);
  return ok;
}

gboolean
ova_infer_config_load_data (OvaInferConfig *c, const gchar *data, const gchar *path,
                            GPtrArray *warnings, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) kerr = NULL;
  g_autofree gchar *base_dir = g_path_get_dirname (path);
  Ctx base = { path, NULL, NULL, base_dir };

  if (!g_key_file_load_from_data (kf, data, -1, G_KEY_FILE_NONE, &kerr)) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_CONFIG, "%s: not a key file: %s", path,
                 kerr->message);
    return FALSE;
  }
  g_free (c->path);
  c->path = g_strdup (path);
  if (!g_key_file_has_group (kf, "property")) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_CONFIG, "%s: no [property] group", path);
    return FALSE;
  }
  if (!load_group (c, kf, data, &base, "property", property_keys, &c->class_all, warnings, error))
    return FALSE;
  if (g_key_file_has_group (kf, "class-attrs-all") &&
      !load_group (c, kf, data, &base, "class-attrs-all", class_keys, &c->class_all, warnings, error))
    return FALSE;

  gchar **groups = g_key_file_get_groups (kf, NULL);
  gboolean ok = TRUE;
  /* Per-class groups are applied in finish(), over class-attrs-all: keep
   * their text and parse now for errors. */
  for (gchar **g = groups; *g && ok; g++) {
    if (!strcmp (*g, "property") || !strcmp (*g, "class-attrs-all"))
      continue;
    if (g_str_has_prefix (*g, "class-attrs-")) {
      const gchar *idstr = *g + strlen ("class-attrs-");
      gchar *end = NULL;
      gint64 id = g_ascii_strtoll (idstr, &end, 10);
      if (!*idstr || *end || id < 0 || id > 100000) {
        g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_CONFIG,
                     "%s: [%s]: expected [class-attrs-all] or [class-attrs-<class id>]", path, *g);
        ok = FALSE;
        break;
      }
      /* Store the group's raw key/values; applied on top of class-attrs-all later. */
      GKeyFile *one = g_key_file_new ();
      gchar **keys = g_key_file_get_keys (kf, *g, NULL, NULL);
      for (gchar **k = keys; *k; k++) {
        gchar *v = g_key_file_get_value (kf, *g, *k, NULL);
        g_key_file_set_value (one, "c", *k, v);
        g_free (v);
      }
      g_strfreev (keys);
      /* validate now so errors name the file */
      OvaClassAttrs scratch = c->class_all;
      ok = load_group (c, kf, data, &base, *g, class_keys, &scratch, warnings, error);
      if (ok)
        g_hash_table_replace (c->class_overrides, GINT_TO_POINTER ((gint) id),
                              g_key_file_to_data (one, NULL, NULL));
      g_key_file_free (one);
    } else {
      warn (warnings, "%s:%u: unknown group [%s] ignored", path, find_group_line (data, *g), *g);
    }
  }
  g_strfreev (groups);
  return ok;
}

gboolean
ova_infer_config_load (OvaInferConfig *c, const gchar *path, GPtrArray *warnings, GError **error)
{
  gchar *data = NULL;
  GError *e = NULL;
  if (!g_file_get_contents (path, &data, NULL, &e)) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_IO, "config file %s: %s", path, e->message);
    g_error_free (e);
    return FALSE;
  }
  gboolean ok = ova_infer_config_load_data (c, data, path, warnings, error);
  g_free (data);
  return ok && ova_infer_config_finish (c, error);
}

gchar **
ova_infer_load_labels (const gchar *path, guint *n_out, GError **error)
{
  gchar *data = NULL;
  GError *e = NULL;
  if (!g_file_get_contents (path, &data, NULL, &e)) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_IO, "label file %s: %s", path, e->message);
    g_error_free (e);
    return NULL;
  }
  GPtrArray *a = g_ptr_array_new ();
  gchar **lines = g_strsplit (data, "\n", -1);
  guint n_lines = 0;
  for (gchar **l = lines; *l; l++)
    if (*g_strstrip (*l))
      n_lines++;
  for (gchar **l = lines; *l; l++) {
    if (!**l)
      continue;
    if (n_lines == 1 && strchr (*l, ';')) {
      /* nvinfer classifier label files: "cat;dog;bird" */
      gchar **items = g_strsplit (*l, ";", -1);
      for (gchar **it = items; *it; it++)
        if (*g_strstrip (*it))
          g_ptr_array_add (a, g_strdup (*it));
      g_strfreev (items);
    } else {
      g_ptr_array_add (a, g_strdup (*l));
    }
  }
  g_strfreev (lines);
  g_free (data);
  *n_out = a->len;
  g_ptr_array_add (a, NULL);
  return (gchar **) g_ptr_array_free (a, FALSE);
}

gboolean
ova_infer_config_finish (OvaInferConfig *c, GError **error)
{
  const gchar *path = c->path ? c->path : "(config)";
  if (c->labelfile_path && !c->labels) {
    c->labels = ova_infer_load_labels (c->labelfile_path, &c->n_labels, error);
    if (!c->labels)
      return FALSE;
  }
  if (c->network_type == OVA_NETWORK_DETECTOR && c->num_detected_classes <= 0) {
    if (c->n_labels > 0) {
      c->num_detected_classes = c->n_labels;
    } else {
      g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_CONFIG,
                   "%s: [property] num-detected-classes: must be set for a detector "
                   "(or give labelfile-path)", path);
      return FALSE;
    }
  }
  if (c->input_object_max_width && c->input_object_max_width < c->input_object_min_width) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_CONFIG,
                 "%s: [property] input-object-max-width: smaller than input-object-min-width", path);
    return FALSE;
  }
  /* parser selection: built-in names unless a custom library is given */
  if (c->network_type == OVA_NETWORK_DETECTOR) {
    const gchar *f = c->parse_bbox_func_name;
    if (c->custom_lib_path) {
      if (!f) {
        g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_CONFIG,
                     "%s: [property] parse-bbox-func-name: required with custom-lib-path", path);
        return FALSE;
      }
      c->parser = OVA_PARSER_CUSTOM;
    } else if (!f || !g_ascii_strcasecmp (f, "yolox") || !g_ascii_strcasecmp (f, "NvDsInferParseYoloX") ||
               !g_ascii_strcasecmp (f, "NvDsInferParseCustomYoloX")) {
      c->parser = OVA_PARSER_YOLOX;
    } else if (!g_ascii_strcasecmp (f, "yolov8") || !g_ascii_strcasecmp (f, "yolov11") ||
               !g_ascii_strcasecmp (f, "yolo11")) {
      c->parser = OVA_PARSER_YOLOV8;
    } else if (!g_ascii_strcasecmp (f, "yolov5") || !g_ascii_strcasecmp (f, "yolov7")) {
      c->parser = OVA_PARSER_YOLOV5;
    } else if (!g_ascii_strcasecmp (f, "ssd")) {
      c->parser = OVA_PARSER_SSD;
    } else {
      g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_CONFIG,
                   "%s: [property] parse-bbox-func-name: '%s' is not a built-in parser (yolox, "
                   "yolov8, yolov11, yolov5, yolov7, ssd) and no custom-lib-path is given", path, f);
      return FALSE;
    }
  }
  if (c->output_embedding && c->network_type == OVA_NETWORK_DETECTOR) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_CONFIG,
                 "%s: [property] output-embedding: needs network-type=1 or 100, not a detector", path);
    return FALSE;
  }

  guint n = MAX (c->num_detected_classes, 1);
  g_free (c->class_attrs);
  c->class_attrs = g_new (OvaClassAttrs, n);
  for (guint i = 0; i < n; i++)
    c->class_attrs[i] = c->class_all;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, c->class_overrides);
  while (g_hash_table_iter_next (&it, &k, &v)) {
    gint id = GPOINTER_TO_INT (k);
    if (id >= (gint) n) {
      g_warning ("%s: [class-attrs-%d]: class id beyond num-detected-classes=%d; ignored", path, id,
                 c->num_detected_classes);
      continue;
    }
    g_autoptr (GKeyFile) one = g_key_file_new ();
    g_key_file_load_from_data (one, v, -1, G_KEY_FILE_NONE, NULL);
    g_autofree gchar *group = g_strdup_printf ("class-attrs-%d", id);
    Ctx base = { path, NULL, NULL, "." };
    /* already validated at load time */
    gchar **keys = g_key_file_get_keys (one, "c", NULL, NULL);
    for (gchar **kk = keys; keys && *kk; kk++) {
      const KeyDef *def = find_key (class_keys, *kk);
      if (!def)
        continue;
      gchar *val = g_key_file_get_value (one, "c", *kk, NULL);
      g_strstrip (val);
      Ctx x = base;
      x.group = group;
      x.key = *kk;
      gboolean ok = def->func (c, &c->class_attrs[id], &x, val, error);
      g_free (val);
      if (!ok) {
        g_strfreev (keys);
        return FALSE;
      }
    }
    g_strfreev (keys);
  }
  return TRUE;
}

const OvaClassAttrs *
ova_infer_config_class_attrs (const OvaInferConfig *c, gint class_id)
{
  if (c->class_attrs && class_id >= 0 && class_id < MAX (c->num_detected_classes, 1))
    return &c->class_attrs[class_id];
  return &c->class_all;
}
