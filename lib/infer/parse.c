/* ova — built-in output parsers, classifier activations, clustering.
 * SPDX-License-Identifier: MIT
 *
 * Detector parsers emit one box per anchor (its best class) in network-input
 * pixels, keeping those reaching the class's pre-cluster threshold; the
 * element then clusters (ova_nms) and maps boxes back to source pixels.
 */
#include <ova/infer.h>
#include <ova/engine.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int
ova_infer_object_list_push (OvaInferObjectList *l, const OvaInferObject *o)
{
  if (l->n == l->capacity) {
    size_t cap = l->capacity ? l->capacity * 2 : 64;
    OvaInferObject *p = realloc (l->objects, cap * sizeof (*p));
    if (!p)
      return 0;
    l->objects = p;
    l->capacity = cap;
  }
  l->objects[l->n++] = *o;
  return 1;
}

void
ova_infer_object_list_clear (OvaInferObjectList *l)
{
  free (l->objects);
  memset (l, 0, sizeof (*l));
}

static gfloat
threshold_of (const OvaInferParseParams *p, gint c)
{
  return p->pre_cluster_thresholds ? p->pre_cluster_thresholds[c] : 0.0f;
}

static gfloat
min_threshold (const OvaInferParseParams *p)
{
  gfloat m = 1.0f;
  if (!p->pre_cluster_thresholds)
    return 0.0f;
  for (guint c = 0; c < p->num_classes; c++)
    m = MIN (m, p->pre_cluster_thresholds[c]);
  return m;
}

/* The last two dims of a float layer (rows x cols), whatever leading 1s. */
static gboolean
layer_2d (const OvaInferLayer *l, gint64 *rows, gint64 *cols, const char *who)
{
  if (!l || !l->data || l->dtype != OVA_DTYPE_FLOAT32 || l->rank < 2) {
    g_message ("%s: expected a float32 output of rank >= 2", who);
    return FALSE;
  }
  for (int i = 0; i < l->rank - 2; i++)
    if (l->dims[i] != 1) {
      g_message ("%s: output '%s' has more than one image in it", who, l->name ? l->name : "?");
      return FALSE;
    }
  *rows = l->dims[l->rank - 2];
  *cols = l->dims[l->rank - 1];
  return TRUE;
}

static inline gint
argmax (const gfloat *v, gint n, gint step, gfloat *best)
{
  gint bi = 0;
  gfloat b = v[0];
  for (gint i = 1; i < n; i++)
    if (v[i * step] > b) {
      b = v[i * step];
      bi = i;
    }
  *best = b;
  return bi;
}

static gboolean
push_box (OvaInferObjectList *list, const OvaInferParseParams *p, gfloat cx, gfloat cy, gfloat w,
          gfloat h, gint cls, gfloat score)
{
  if (score < threshold_of (p, cls))
    return TRUE;
  OvaInferObject o = { cx - w / 2, cy - h / 2, w, h, cls, score };
  return ova_infer_object_list_push (list, &o) != 0;
}

gboolean
ova_parse_yolox (const OvaInferLayer *out, const OvaInferNetworkInfo *net,
                 const OvaInferParseParams *p, OvaInferObjectList *list)
{
  gint64 rows, cols;
  if (!layer_2d (out, &rows, &cols, "yolox"))
    return FALSE;
  gint C = cols - 5;
  if (C < 1 || (p->num_classes && (guint) C != p->num_classes)) {
    g_message ("yolox: output has %" G_GINT64_FORMAT " columns, expected 5 + %u classes", cols,
               p->num_classes);
    return FALSE;
  }
  static const gint strides[3] = { 8, 16, 32 };
  gint64 expect = 0;
  for (int s = 0; s < 3; s++)
    expect += (gint64) (net->width / strides[s]) * (net->height / strides[s]);
  if (expect != rows) {
    g_message ("yolox: output has %" G_GINT64_FORMAT " rows, expected %" G_GINT64_FORMAT
               " for a %ux%u input with strides 8/16/32", rows, expect, net->width, net->height);
    return FALSE;
  }
  const gfloat *d = out->data;
  gfloat tmin = min_threshold (p);
  gint64 r = 0;
  for (int s = 0; s < 3; s++) {
    gint st = strides[s], gw = net->width / st, gh = net->height / st;
    for (gint gy = 0; gy < gh; gy++)
      for (gint gx = 0; gx < gw; gx++, r++) {
        const gfloat *row = d + r * cols;
        gfloat obj = row[4];
        if (obj < tmin)
          continue;
        gfloat best;
        gint c = argmax (row + 5, C, 1, &best);
        gfloat score = obj * best;
        if (score < tmin)
          continue;
        gfloat cx = (row[0] + gx) * st, cy = (row[1] + gy) * st;
        gfloat w = expf (row[2]) * st, h = expf (row[3]) * st;
        if (!push_box (list, p, cx, cy, w, h, c, score))
          return FALSE;
      }
  }
  return TRUE;
}

gboolean
ova_parse_yolov8 (const OvaInferLayer *out, const OvaInferNetworkInfo *net,
                  const OvaInferParseParams *p, OvaInferObjectList *list)
{
  gint64 rows, n;
  if (!layer_2d (out, &rows, &n, "yolov8"))
    return FALSE;
  gint C = rows - 4;
  if (C < 1 || (p->num_classes && (guint) C != p->num_classes)) {
    g_message ("yolov8: output has %" G_GINT64_FORMAT " rows, expected 4 + %u classes", rows, p->num_classes);
    return FALSE;
  }
  const gfloat *d = out->data;
  gfloat tmin = min_threshold (p);
  for (gint64 i = 0; i < n; i++) {
    gfloat best;
    gint c = argmax (d + 4 * n + i, C, n, &best);
    if (best < tmin)
      continue;
    if (!push_box (list, p, d[i], d[n + i], d[2 * n + i], d[3 * n + i], c, best))
      return FALSE;
  }
  return TRUE;
}

gboolean
ova_parse_yolov5 (const OvaInferLayer *out, const OvaInferNetworkInfo *net,
                  const OvaInferParseParams *p, OvaInferObjectList *list)
{
  gint64 n, cols;
  if (!layer_2d (out, &n, &cols, "yolov5"))
    return FALSE;
  gint C = cols - 5;
  if (C < 1 || (p->num_classes && (guint) C != p->num_classes)) {
    g_message ("yolov5: output has %" G_GINT64_FORMAT " columns, expected 5 + %u classes", cols, p->num_classes);
    return FALSE;
  }
  const gfloat *d = out->data;
  gfloat tmin = min_threshold (p);
  for (gint64 i = 0; i < n; i++) {
    const gfloat *row = d + i * cols;
    if (row[4] < tmin)
      continue;
    gfloat best;
    gint c = argmax (row + 5, C, 1, &best);
    if (!push_box (list, p, row[0], row[1], row[2], row[3], c, row[4] * best))
      return FALSE;
  }
  return TRUE;
}

gboolean
ova_parse_ssd (const OvaInferLayer *boxes, const OvaInferLayer *scores, const OvaInferNetworkInfo *net,
               const OvaInferParseParams *p, OvaInferObjectList *list)
{
  gint64 n, four, n2, C;
  if (!layer_2d (boxes, &n, &four, "ssd") || !layer_2d (scores, &n2, &C, "ssd"))
    return FALSE;
  if (four != 4 || n != n2 || C < 1 || (p->num_classes && C != p->num_classes)) {
    g_message ("ssd: expected boxes N x 4 and scores N x %u", p->num_classes);
    return FALSE;
  }
  const gfloat *b = boxes->data, *s = scores->data;
  gboolean normalised = TRUE;
  for (gint64 i = 0; i < n * 4 && normalised; i++)
    if (b[i] > 1.5f)
      normalised = FALSE;
  gfloat sx = normalised ? net->width : 1, sy = normalised ? net->height : 1;
  for (gint64 i = 0; i < n; i++) {
    gfloat best;
    gint c = argmax (s + i * C, C, 1, &best);
    const gfloat *bb = b + i * 4;
    gfloat x1 = bb[0] * sx, y1 = bb[1] * sy, x2 = bb[2] * sx, y2 = bb[3] * sy;
    if (!push_box (list, p, (x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1, c, best))
      return FALSE;
  }
  return TRUE;
}

/* ------------------------------------------------------------ classifier */

static int
cmp_class (const void *a, const void *b)
{
  const OvaClassResult *x = a, *y = b;
  if (x->probability != y->probability)
    return x->probability > y->probability ? -1 : 1;
  return x->class_id - y->class_id;
}

guint
ova_parse_classifier (const gfloat *logits, guint n, OvaClassifierActivation act, gboolean multi_label,
                      gfloat threshold, OvaClassResult *out)
{
  if (n == 0)
    return 0;
  gfloat mx = logits[0], sum = 0;
  for (guint i = 1; i < n; i++)
    mx = MAX (mx, logits[i]);
  if (act == OVA_CLASSIFIER_SOFTMAX)
    for (guint i = 0; i < n; i++)
      sum += expf (logits[i] - mx);
  guint k = 0;
  for (guint i = 0; i < n; i++) {
    gfloat pr;
    switch (act) {
      case OVA_CLASSIFIER_SOFTMAX: pr = expf (logits[i] - mx) / sum; break;
      case OVA_CLASSIFIER_SIGMOID: pr = 1.0f / (1.0f + expf (-logits[i])); break;
      default: pr = logits[i]; break;
    }
    if (pr >= threshold)
      out[k++] = (OvaClassResult) { i, pr };
  }
  qsort (out, k, sizeof (*out), cmp_class);
  if (!multi_label && k > 1)
    k = 1;
  return k;
}

void
ova_l2_normalize (const gfloat *v, guint n, gfloat *out)
{
  gdouble s = 0;
  for (guint i = 0; i < n; i++)
    s += (gdouble) v[i] * v[i];
  gfloat inv = s > 0 ? (gfloat) (1.0 / sqrt (s)) : 0.0f;
  for (guint i = 0; i < n; i++)
    out[i] = v[i] * inv;
}

/* ------------------------------------------------------------------ NMS */

gfloat
ova_box_iou (const OvaInferObject *a, const OvaInferObject *b)
{
  gfloat x1 = MAX (a->left, b->left), y1 = MAX (a->top, b->top);
  gfloat x2 = MIN (a->left + a->width, b->left + b->width);
  gfloat y2 = MIN (a->top + a->height, b->top + b->height);
  gfloat iw = MAX (0.0f, x2 - x1), ih = MAX (0.0f, y2 - y1);
  gfloat inter = iw * ih;
  gfloat uni = a->width * a->height + b->width * b->height - inter;
  return uni > 0 ? inter / uni : 0.0f;
}

typedef struct {
  OvaInferObject o;
  guint idx;
} Sorted;

static int
cmp_conf (const void *a, const void *b)
{
  const Sorted *x = a, *y = b;
  if (x->o.confidence != y->o.confidence)
    return x->o.confidence > y->o.confidence ? -1 : 1;
  return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

/* Generic NMS: thresholds per class from callbacks on @cfg (or fixed). */
static void
nms_impl (OvaInferObjectList *list, const OvaInferConfig *cfg, gfloat fixed_iou, gint fixed_topk,
          gboolean agnostic, gint max_total)
{
  size_t n = list->n;
  if (n == 0)
    return;
  Sorted *s = g_new (Sorted, n);
  for (size_t i = 0; i < n; i++)
    s[i] = (Sorted) { list->objects[i], i };
  qsort (s, n, sizeof (*s), cmp_conf);
  guint8 *dead = g_new0 (guint8, n);
  GHashTable *per_class = g_hash_table_new (g_direct_hash, g_direct_equal);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (dead[i])
      continue;
    const OvaInferObject *a = &s[i].o;
    gfloat thr = cfg ? ova_infer_config_class_attrs (cfg, a->class_id)->nms_iou_threshold : fixed_iou;
    gint topk = cfg ? ova_infer_config_class_attrs (cfg, a->class_id)->topk : fixed_topk;
    gfloat post = cfg ? ova_infer_config_class_attrs (cfg, a->class_id)->post_cluster_threshold : 0;
    for (size_t j = i + 1; j < n; j++)
      if (!dead[j] && (agnostic || s[j].o.class_id == a->class_id) && ova_box_iou (a, &s[j].o) > thr)
        dead[j] = 1;
    if (a->confidence < post)
      continue;
    gint cnt = GPOINTER_TO_INT (g_hash_table_lookup (per_class, GINT_TO_POINTER (a->class_id)));
    if (topk >= 0 && cnt >= topk)
      continue;
    g_hash_table_insert (per_class, GINT_TO_POINTER (a->class_id), GINT_TO_POINTER (cnt + 1));
    if (max_total >= 0 && (gint) k >= max_total)
      break;
    list->objects[k++] = *a;
  }
  list->n = k;
  g_hash_table_unref (per_class);
  g_free (dead);
  g_free (s);
}

void
ova_nms (OvaInferObjectList *list, const OvaInferConfig *cfg, gboolean class_agnostic, gint max_total)
{
  nms_impl (list, cfg, 0, -1, class_agnostic, max_total);
}

void
ova_nms_simple (OvaInferObjectList *list, gfloat iou_threshold, gboolean class_agnostic, gint topk)
{
  nms_impl (list, NULL, iou_threshold, topk, class_agnostic, -1);
}

/* ---------------------------------------------------------- segmentation */

OvaMaskMeta *
ova_parse_segmentation (const OvaInferLayer *l)
{
  if (!l || !l->data || l->dtype != OVA_DTYPE_FLOAT32 || l->rank < 3 || l->rank > 4)
    return NULL;
  gint64 C = l->rank == 4 ? l->dims[1] : 1, H = l->dims[l->rank - 2], W = l->dims[l->rank - 1];
  if (C < 1 || H < 1 || W < 1 || l->dims[0] != 1)
    return NULL;
  OvaMaskMeta *m = g_malloc (sizeof (OvaMaskMeta) + sizeof (gfloat) * H * W);
  m->width = W;
  m->height = H;
  m->data = (gfloat *) (m + 1);
  const gfloat *d = l->data;
  gsize plane = (gsize) H * W;
  if (C == 1) {
    memcpy (m->data, d, sizeof (gfloat) * plane);
    return m;
  }
  for (gsize i = 0; i < plane; i++) {
    gint best = 0;
    gfloat bv = d[i];
    for (gint c = 1; c < C; c++)
      if (d[c * plane + i] > bv) {
        bv = d[c * plane + i];
        best = c;
      }
    m->data[i] = best;
  }
  return m;
}

void
ova_mask_meta_free (OvaMaskMeta *m)
{
  g_free (m);
}

static gpointer
mask_copy (gconstpointer p, gpointer ud)
{
  const OvaMaskMeta *m = p;
  gsize n = (gsize) m->width * m->height;
  OvaMaskMeta *c = g_malloc (sizeof (OvaMaskMeta) + sizeof (gfloat) * n);
  *c = *m;
  c->data = (gfloat *) (c + 1);
  memcpy (c->data, m->data, sizeof (gfloat) * n);
  return c;
}

static void
mask_free (gpointer p, gpointer ud)
{
  g_free (p);
}

void
ova_user_meta_take_mask (OvaUserMeta *um, OvaMaskMeta *mask)
{
  if (um->payload && um->free_func)
    um->free_func (um->payload, um->user_data);
  um->type = OVA_USER_META_MASK;
  um->payload = mask;
  um->copy_func = mask_copy;
  um->free_func = mask_free;
  um->user_data = NULL;
}
