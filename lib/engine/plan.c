/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Plan building: shape inference with concrete input shapes (each operator's
 * OvaOpDef.infer), constant folding (shape subgraphs included: Shape/Size of
 * a known shape are constants), dead-node removal, Conv+BatchNorm folding,
 * Conv epilogue fusion (activation, SiLU, residual add), transpose/reshape
 * elimination (views share their input's buffer), and the memory planner.
 */
#include "plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FOLD_MAX_BYTES (64u << 20)

static void
node_view (const OvaNode *n, OvaOpNode *on)
{
  on->op_type = n->op_type;
  on->name = n->name;
  on->domain = n->domain;
  on->opset = n->opset;
  on->n_attrs = n->n_attrs;
  on->attrs = n->attrs;
  on->n_inputs = n->n_inputs;
  on->n_outputs = n->n_outputs;
}

static gboolean
is_random_op (const char *op)
{
  return g_str_has_prefix (op, "Random") || !strcmp (op, "Multinomial") || !strcmp (op, "Bernoulli");
}

static size_t
value_bytes (const OvaValue *v)
{
  return (size_t) ova_value_numel (v) * ova_dtype_size (v->dtype);
}

/* Shape and Size only need the input's shape, which is known here. */
static gboolean
fold_shape_op (OvaGraph *g, OvaNode *n)
{
  OvaValue *x = OVA_VALUE (g, n->inputs[0]);
  OvaValue *y = OVA_VALUE (g, n->outputs[0]);
  if (!strcmp (n->op_type, "Size")) {
    int64_t *p = g_new (int64_t, 1);
    *p = ova_value_numel (x);
    y->data = g_bytes_new_take (p, sizeof *p);
    return TRUE;
  }
  OvaOpNode on;
  node_view (n, &on);
  int64_t start = ova_op_attr_int (&on, "start", 0), end = ova_op_attr_int (&on, "end", x->rank);
  if (start < 0) start += x->rank;
  if (end < 0) end += x->rank;
  start = CLAMP (start, 0, x->rank);
  end = CLAMP (end, 0, x->rank);
  int64_t len = MAX (end - start, 0);
  int64_t *p = g_new0 (int64_t, len + 1);
  for (int64_t i = 0; i < len; i++)
    p[i] = x->dims[start + i];
  y->data = g_bytes_new_take (p, len * sizeof *p);
  return TRUE;
}

static gboolean
fold_node (OvaGraph *g, OvaNode *n, OvaTensorRef *in, GError **error)
{
  OvaOpNode on;
  node_view (n, &on);
  OvaTensorRef out[n->n_outputs + 1];
  memset (out, 0, sizeof out);
  for (int k = 0; k < n->n_outputs; k++) {
    if (n->outputs[k] < 0)
      continue;
    ova_value_ref (OVA_VALUE (g, n->outputs[k]), &out[k]);
    out[k].data = g_malloc0 (value_bytes (OVA_VALUE (g, n->outputs[k])) + 8);
  }
  gboolean ok = n->def->run (&on, in, n->n_inputs, out, n->n_outputs, error);
  for (int k = 0; k < n->n_outputs; k++) {
    if (n->outputs[k] < 0)
      continue;
    OvaValue *y = OVA_VALUE (g, n->outputs[k]);
    if (ok)
      y->data = g_bytes_new_take (out[k].data, value_bytes (y));
    else
      g_free (out[k].data);
  }
  return ok;
}

static gboolean
infer_shapes (OvaPlan *plan, gboolean fold, GError **error)
{
  OvaGraph *g = plan->g;
  for (guint ni = 0; ni < g->nodes->len; ni++) {
    OvaNode *n = OVA_NODE (g, ni);
    if (n->dead)
      continue;
    OvaTensorRef in[n->n_inputs + 1], out[n->n_outputs + 1];
    memset (in, 0, sizeof in);
    memset (out, 0, sizeof out);
    gboolean all_const = TRUE;
    for (int k = 0; k < n->n_inputs; k++) {
      if (n->inputs[k] < 0)
        continue;
      OvaValue *v = OVA_VALUE (g, n->inputs[k]);
      if (v->rank < 0) {
        char *w = ova_graph_node_where (g, ni);
        g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_SHAPE, "%s: shape of input '%s' is unknown", w, v->name);
        g_free (w);
        return FALSE;
      }
      ova_value_ref (v, &in[k]);
      if (!v->data)
        all_const = FALSE;
    }
    OvaOpNode on;
    node_view (n, &on);
    GError *e = NULL;
    if (!n->def->infer (&on, in, n->n_inputs, out, n->n_outputs, &e)) {
      char *w = ova_graph_node_where (g, ni);
      if (e && strstr (e->message, g->path) == NULL) {
        char *named = g_strdup_printf ("node '%s'", n->name);
        if (strstr (e->message, named))
          g_set_error (error, OVA_ENGINE_ERROR, e->domain == OVA_ENGINE_ERROR ? e->code : OVA_ENGINE_ERROR_SHAPE,
                       "%s: %s", g->path, e->message);
        else
          g_set_error (error, OVA_ENGINE_ERROR, e->domain == OVA_ENGINE_ERROR ? e->code : OVA_ENGINE_ERROR_SHAPE,
                       "%s: %s", w, e->message);
        g_free (named);
        g_error_free (e);
      } else if (e) {
        g_propagate_error (error, e);
      } else {
        g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_SHAPE, "%s: shape inference failed", w);
      }
      g_free (w);
      return FALSE;
    }
    size_t out_bytes = 0;
    for (int k = 0; k < n->n_outputs; k++) {
      if (n->outputs[k] < 0)
        continue;
      OvaValue *y = OVA_VALUE (g, n->outputs[k]);
      if (out[k].rank < 0 || out[k].rank > OVA_MAX_DIMS) {
        char *w = ova_graph_node_where (g, ni);
        g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_SHAPE, "%s: inferred rank %d is invalid", w, out[k].rank);
        g_free (w);
        return FALSE;
      }
      y->dtype = out[k].dtype;
      y->rank = out[k].rank;
      memcpy (y->dims, out[k].dims, sizeof y->dims);
      for (int d = 0; d < y->rank; d++) {
        if (y->dims[d] < 0) {
          char *w = ova_graph_node_where (g, ni);
          g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_SHAPE, "%s: inferred a negative dimension for '%s'", w, y->name);
          g_free (w);
          return FALSE;
        }
      }
      out_bytes += value_bytes (y);
    }
    if (!fold)
      continue;
    gboolean folded = FALSE;
    if ((!strcmp (n->op_type, "Shape") || !strcmp (n->op_type, "Size")) && n->n_inputs >= 1 && n->inputs[0] >= 0)
      folded = fold_shape_op (g, n);
    else if (all_const && !is_random_op (n->op_type) && out_bytes <= FOLD_MAX_BYTES) {
      GError *e2 = NULL;
      if (!fold_node (g, n, in, &e2)) {
        /* The kernel will say the same at run time: report it now, with context. */
        char *w = ova_graph_node_where (g, ni);
        g_set_error (error, OVA_ENGINE_ERROR, e2 && e2->domain == OVA_ENGINE_ERROR ? e2->code : OVA_ENGINE_ERROR_SHAPE,
                     "%s%s%s", strstr (e2 ? e2->message : "", g->path) ? "" : w,
                     strstr (e2 ? e2->message : "", g->path) ? "" : ": ", e2 ? e2->message : "kernel failed");
        g_clear_error (&e2);
        g_free (w);
        return FALSE;
      }
      folded = TRUE;
    }
    if (folded) {
      n->dead = TRUE;
      plan->n_folded++;
      for (int k = 0; k < n->n_outputs; k++)
        if (n->outputs[k] >= 0)
          OVA_VALUE (g, n->outputs[k])->producer = -1;
    }
  }
  return TRUE;
}

static void
remove_dead_nodes (OvaPlan *plan)
{
  OvaGraph *g = plan->g;
  gboolean *live = g_new0 (gboolean, g->values->len);
  for (int i = 0; i < g->n_outputs; i++)
    live[g->outputs[i]] = TRUE;
  for (int ni = g->nodes->len - 1; ni >= 0; ni--) {
    OvaNode *n = OVA_NODE (g, ni);
    if (n->dead)
      continue;
    gboolean needed = FALSE;
    for (int k = 0; k < n->n_outputs; k++)
      if (n->outputs[k] >= 0 && live[n->outputs[k]])
        needed = TRUE;
    if (!needed) {
      n->dead = TRUE;
      plan->n_removed++;
      continue;
    }
    for (int k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] >= 0)
        live[n->inputs[k]] = TRUE;
    for (int k = 0; k < n->n_post; k++)
      if (n->post[k].kind == OVA_POST_ADD)
        live[n->post[k].operand] = TRUE;
  }
  g_free (live);
  ova_graph_count_uses (g);
}

/* The only live consumer of value @v, or -1. */
static int
sole_consumer (OvaGraph *g, int v)
{
  OvaValue *val = OVA_VALUE (g, v);
  if (val->n_uses != 1 || val->is_output)
    return -1;
  for (guint ni = 0; ni < g->nodes->len; ni++) {
    OvaNode *n = OVA_NODE (g, ni);
    if (n->dead)
      continue;
    for (int k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] == v)
        return ni;
  }
  return -1;
}

static const float *
const_f32 (OvaGraph *g, int v, int64_t want)
{
  if (v < 0)
    return NULL;
  OvaValue *val = OVA_VALUE (g, v);
  if (!val->data || val->dtype != OVA_DTYPE_FLOAT32 || (want >= 0 && ova_value_numel (val) != want))
    return NULL;
  return g_bytes_get_data (val->data, NULL);
}

static int
new_const (OvaGraph *g, const char *base, const char *suffix, int rank, const int64_t *dims, float *data)
{
  char *name = g_strconcat (base, suffix, NULL);
  int vi = ova_graph_add_value (g, name);
  g_free (name);
  OvaValue *v = OVA_VALUE (g, vi);
  v->dtype = OVA_DTYPE_FLOAT32;
  v->rank = rank;
  memcpy (v->dims, dims, sizeof (int64_t) * rank);
  v->data = g_bytes_new_take (data, ova_value_numel (v) * sizeof (float));
  return vi;
}

static void
set_node_inputs (OvaNode *n, int count)
{
  if (count > n->n_inputs) {
    n->inputs = g_renew (int, n->inputs, count + 1);
    for (int k = n->n_inputs; k <= count; k++)
      n->inputs[k] = -1;
    n->n_inputs = count;
  }
}

static void
fold_conv_batchnorm (OvaPlan *plan)
{
  OvaGraph *g = plan->g;
  for (guint ci = 0; ci < g->nodes->len; ci++) {
    OvaNode *c = OVA_NODE (g, ci);
    if (c->dead || strcmp (c->op_type, "Conv") || c->n_post || c->n_inputs < 2)
      continue;
    int bi = sole_consumer (g, c->outputs[0]);
    if (bi < 0)
      continue;
    OvaNode *b = OVA_NODE (g, bi);
    if (strcmp (b->op_type, "BatchNormalization") || b->n_inputs < 5 || b->inputs[0] != c->outputs[0])
      continue;
    OvaOpNode bon;
    node_view (b, &bon);
    if (ova_op_attr_int (&bon, "training_mode", 0))
      continue;
    OvaValue *w = OVA_VALUE (g, c->inputs[1]);
    if (!w->data || w->dtype != OVA_DTYPE_FLOAT32 || w->rank < 3)
      continue;
    int64_t m = w->dims[0];
    const float *scale = const_f32 (g, b->inputs[1], m), *beta = const_f32 (g, b->inputs[2], m);
    const float *mean = const_f32 (g, b->inputs[3], m), *var = const_f32 (g, b->inputs[4], m);
    const float *bias = c->n_inputs > 2 ? const_f32 (g, c->inputs[2], m) : NULL;
    if (!scale || !beta || !mean || !var || (c->n_inputs > 2 && c->inputs[2] >= 0 && !bias))
      continue;
    float eps = ova_op_attr_float (&bon, "epsilon", 1e-5f);
    int64_t per = ova_value_numel (w) / m;
    const float *wd = g_bytes_get_data (w->data, NULL);
    float *nw = g_new (float, m * per), *nb = g_new (float, m);
    for (int64_t o = 0; o < m; o++) {
      float f = scale[o] / sqrtf (var[o] + eps);
      for (int64_t i = 0; i < per; i++)
        nw[o * per + i] = wd[o * per + i] * f;
      nb[o] = ((bias ? bias[o] : 0.f) - mean[o]) * f + beta[o];
    }
    int64_t bdims[1] = { m };
    int wdims_rank = w->rank;
    int64_t wdims[OVA_MAX_DIMS];
    memcpy (wdims, w->dims, sizeof wdims);
    int nwi = new_const (g, c->name, "/bn_weight", wdims_rank, wdims, nw);
    int nbi = new_const (g, c->name, "/bn_bias", 1, bdims, nb);
    c = OVA_NODE (g, ci);
    b = OVA_NODE (g, bi);
    set_node_inputs (c, 3);
    c->inputs[1] = nwi;
    c->inputs[2] = nbi;
    c->outputs[0] = b->outputs[0];
    OVA_VALUE (g, c->outputs[0])->producer = ci;
    b->dead = TRUE;
    plan->n_fused++;
    ova_graph_count_uses (g);
  }
}

/* --- space-to-depth fold ---------------------------------------------------
 *
 * A space-to-depth rearrangement (SpaceToDepth, or YOLOv5/YOLOX's "Focus":
 * strided Slices of one tensor concatenated along the channels) feeding a
 * convolution is folded into that convolution: with block b, the rearranged
 * tensor is Z[q*C + c, i, j] = X[c, b*i + dy_q, b*j + dx_q], and a kh x kw
 * convolution of Z (stride s, pads p) equals a b*kh x b*kw convolution of X
 * with stride b*s and pads b*p whose weight at (c, b*a + dy_q, b*e + dx_q) is
 * Z's weight at (q*C + c, a, e). No sub-pixel offset appears twice in a plain
 * rearrangement; when one does (or is missing), the weights add up (or stay
 * zero), which is still exact. */

/* int64 values of a constant integer tensor (at most @max); -1 when not one */
static int
const_ints (OvaGraph *g, int v, int64_t *out, int max)
{
  if (v < 0)
    return 0;
  OvaValue *val = OVA_VALUE (g, v);
  int64_t n = val->data ? ova_value_numel (val) : -1;
  if (n < 0 || n > max || (val->dtype != OVA_DTYPE_INT64 && val->dtype != OVA_DTYPE_INT32))
    return -1;
  const void *d = g_bytes_get_data (val->data, NULL);
  for (int64_t i = 0; i < n; i++)
    out[i] = val->dtype == OVA_DTYPE_INT64 ? ((const int64_t *) d)[i] : ((const int32_t *) d)[i];
  return n;
}

/* Follows a chain of Slices from @v back to the tensor it samples. On
 * success, *root is that tensor (4-D) and, per spatial axis, the step (the
 * block) and the first sample: @v[c, i, j] = root[c, step*i + off[0], step*j + off[1]]. */
static gboolean
match_strided_slices (OvaGraph *g, int v, int *root, int64_t step[2], int64_t off[2])
{
  step[0] = step[1] = 0;
  off[0] = off[1] = 0;
  for (int depth = 0; depth < 8; depth++) {
    OvaValue *val = OVA_VALUE (g, v);
    if (val->producer < 0 || strcmp (OVA_NODE (g, val->producer)->op_type, "Slice")) {
      *root = v;
      return depth > 0 && val->rank == 4 && step[0] > 1 && step[1] > 1;
    }
    OvaNode *n = OVA_NODE (g, val->producer);
    if (n->opset < 10 || n->n_inputs < 3 || n->inputs[0] < 0)
      return FALSE;
    OvaValue *x = OVA_VALUE (g, n->inputs[0]);
    if (x->rank != 4 || val->rank != 4)
      return FALSE;
    int64_t starts[4], ends[4], axes[4] = { 0, 1, 2, 3 }, steps[4] = { 1, 1, 1, 1 };
    int ns = const_ints (g, n->inputs[1], starts, 4), ne = const_ints (g, n->inputs[2], ends, 4);
    int na = n->n_inputs > 3 && n->inputs[3] >= 0 ? const_ints (g, n->inputs[3], axes, 4) : ns;
    int nt = n->n_inputs > 4 && n->inputs[4] >= 0 ? const_ints (g, n->inputs[4], steps, 4) : ns;
    if (ns <= 0 || ne != ns || na != ns || nt != ns)
      return FALSE;
    for (int k = 0; k < ns; k++) {
      int64_t a = axes[k] < 0 ? axes[k] + 4 : axes[k];
      int64_t dim = x->dims[a], st = steps[k], b = starts[k] < 0 ? starts[k] + dim : starts[k];
      if (a < 0 || a > 3)
        return FALSE;
      if (st == 1 && b == 0 && val->dims[a] == dim)
        continue; /* the whole axis */
      /* a strided spatial sampling that covers the axis: start < step, dim/step samples */
      if (a < 2 || st < 2 || dim % st || b < 0 || b >= st || val->dims[a] != dim / st || step[a - 2])
        return FALSE;
      step[a - 2] = st;
      off[a - 2] = b;
    }
    for (int d = 0; d < 2; d++)
      if (val->dims[d] != x->dims[d])
        return FALSE;
    v = n->inputs[0];
  }
  return FALSE;
}

static gboolean
fold_space_to_depth_conv (OvaPlan *plan, int ci)
{
  OvaGraph *g = plan->g;
  OvaNode *c = OVA_NODE (g, ci);
  if (c->n_post || c->n_inputs < 2 || c->inputs[0] < 0)
    return FALSE;
  OvaOpNode con;
  node_view (c, &con);
  OvaValue *z = OVA_VALUE (g, c->inputs[0]), *w = OVA_VALUE (g, c->inputs[1]);
  const int64_t *dl = NULL;
  int ndl = ova_op_attr_ints (&con, "dilations", &dl);
  for (int i = 0; i < ndl; i++)
    if (dl[i] != 1)
      return FALSE;
  if (z->rank != 4 || z->dtype != OVA_DTYPE_FLOAT32 || z->producer < 0 || z->n_uses != 1 || z->is_output ||
      !w->data || w->dtype != OVA_DTYPE_FLOAT32 || w->rank != 4 || ova_op_attr_int (&con, "group", 1) != 1 ||
      strcmp (ova_op_attr_string (&con, "auto_pad", "NOTSET"), "NOTSET"))
    return FALSE;
  /* the parts of Z, in channel order: each part's channels are all of X's
   * channels at one sub-pixel offset */
  OvaNode *r = OVA_NODE (g, z->producer);
  int x = -1, n_parts = 0;
  int64_t block = 0, offs[64][2];
  if (!strcmp (r->op_type, "SpaceToDepth") && r->n_inputs == 1) {
    OvaOpNode ron;
    node_view (r, &ron);
    block = ova_op_attr_int (&ron, "blocksize", 0);
    x = r->inputs[0];
    if (block < 2 || block > 8)
      return FALSE;
    for (int64_t by = 0; by < block; by++)
      for (int64_t bx = 0; bx < block; bx++) {
        offs[n_parts][0] = by;
        offs[n_parts][1] = bx;
        n_parts++;
      }
  } else if (!strcmp (r->op_type, "Concat") && r->n_inputs >= 1 && r->n_inputs <= 64) {
    OvaOpNode ron;
    node_view (r, &ron);
    int64_t axis = ova_op_attr_int (&ron, "axis", 0);
    if (axis != 1 && axis != -3)
      return FALSE;
    for (int k = 0; k < r->n_inputs; k++) {
      int root;
      int64_t step[2], off[2];
      if (r->inputs[k] < 0 || !match_strided_slices (g, r->inputs[k], &root, step, off) || step[0] != step[1] ||
          (x >= 0 && (root != x || step[0] != block)))
        return FALSE;
      x = root;
      block = step[0];
      offs[n_parts][0] = off[0];
      offs[n_parts][1] = off[1];
      n_parts++;
    }
  } else
    return FALSE;
  OvaValue *xv = OVA_VALUE (g, x);
  if (xv->rank != 4 || xv->dtype != OVA_DTYPE_FLOAT32 || xv->dims[2] % block || xv->dims[3] % block ||
      xv->dims[1] * n_parts != z->dims[1] || w->dims[1] != z->dims[1])
    return FALSE;
  /* the folded weights */
  int64_t o = w->dims[0], cz = w->dims[1], kh = w->dims[2], kw = w->dims[3], cx = xv->dims[1];
  int64_t nkh = kh * block, nkw = kw * block;
  const float *wd = g_bytes_get_data (w->data, NULL);
  float *nw = g_new0 (float, o * cx * nkh * nkw);
  for (int64_t oc = 0; oc < o; oc++)
    for (int q = 0; q < n_parts; q++)
      for (int64_t ch = 0; ch < cx; ch++)
        for (int64_t a = 0; a < kh; a++)
          for (int64_t e = 0; e < kw; e++)
            nw[((oc * cx + ch) * nkh + block * a + offs[q][0]) * nkw + block * e + offs[q][1]] +=
              wd[((oc * cz + q * cx + ch) * kh + a) * kw + e];
  int64_t nwd[4] = { o, cx, nkh, nkw };
  /* attributes: the others kept, strides / pads / kernel_shape scaled */
  const int64_t *sv = NULL, *pv = NULL;
  int nsv = ova_op_attr_ints (&con, "strides", &sv), npv = ova_op_attr_ints (&con, "pads", &pv);
  int64_t *ints = g_new0 (int64_t, 8);
  g_ptr_array_add (g->root->owned, ints);
  int64_t *strides = ints, *pads = ints + 2, *ks = ints + 6;
  for (int i = 0; i < 2; i++)
    strides[i] = block * (nsv == 2 ? sv[i] : 1);
  for (int i = 0; i < 4; i++)
    pads[i] = block * (npv == 4 ? pv[i] : 0);
  ks[0] = nkh;
  ks[1] = nkw;
  OvaAttr *attrs = g_new0 (OvaAttr, c->n_attrs + 4);
  g_ptr_array_add (g->root->owned, attrs);
  int na = 0;
  for (int k = 0; k < c->n_attrs; k++) {
    const char *an = c->attrs[k].name;
    if (strcmp (an, "strides") && strcmp (an, "pads") && strcmp (an, "kernel_shape") && strcmp (an, "dilations"))
      attrs[na++] = c->attrs[k];
  }
  attrs[na++] = (OvaAttr) { .name = "strides", .type = OVA_ATTR_INTS, .n = 2, .ints = strides };
  attrs[na++] = (OvaAttr) { .name = "pads", .type = OVA_ATTR_INTS, .n = 4, .ints = pads };
  attrs[na++] = (OvaAttr) { .name = "kernel_shape", .type = OVA_ATTR_INTS, .n = 2, .ints = ks };
  int nwi = new_const (g, c->name, "/s2d_weight", 4, nwd, nw);
  c = OVA_NODE (g, ci);
  c->attrs = attrs;
  c->n_attrs = na;
  c->inputs[0] = x;
  c->inputs[1] = nwi;
  if (plan->verbose)
    g_printerr ("ova-engine: space-to-depth (block %" G_GINT64_FORMAT ") folded into conv '%s'\n", block, c->name);
  return TRUE;
}

static void
fold_space_to_depth (OvaPlan *plan)
{
  OvaGraph *g = plan->g;
  gboolean any = FALSE;
  for (guint ci = 0; ci < g->nodes->len; ci++) {
    OvaNode *c = OVA_NODE (g, ci);
    if (c->dead || strcmp (c->op_type, "Conv"))
      continue;
    if (fold_space_to_depth_conv (plan, ci)) {
      plan->n_fused++;
      any = TRUE;
    }
  }
  if (any)
    remove_dead_nodes (plan);
}

static gboolean
same_dims (const OvaValue *a, const OvaValue *b)
{
  return a->rank == b->rank && !memcmp (a->dims, b->dims, sizeof (int64_t) * a->rank);
}

static gboolean
scalar_const (OvaGraph *g, int v, float *out)
{
  if (v < 0)
    return TRUE; /* absent: caller's default */
  OvaValue *val = OVA_VALUE (g, v);
  if (!val->data || val->dtype != OVA_DTYPE_FLOAT32 || ova_value_numel (val) != 1)
    return FALSE;
  *out = *(const float *) g_bytes_get_data (val->data, NULL);
  return TRUE;
}

/* Can node @ci's epilogue absorb consumer @ni? Fills @p. */
static gboolean
match_post_op (OvaGraph *g, int ci, int ni, OvaPostOp *p, int *out_value)
{
  OvaNode *c = OVA_NODE (g, ci), *n = OVA_NODE (g, ni);
  int y = c->outputs[0];
  OvaOpNode on;
  node_view (n, &on);
  memset (p, 0, sizeof *p);
  *out_value = n->outputs[0];
  if (OVA_VALUE (g, *out_value)->dtype != OVA_DTYPE_FLOAT32)
    return FALSE;
  const char *op = n->op_type;
  if (!strcmp (op, "Relu")) p->kind = OVA_POST_RELU;
  else if (!strcmp (op, "LeakyRelu")) { p->kind = OVA_POST_LEAKY_RELU; p->alpha = ova_op_attr_float (&on, "alpha", 0.01f); }
  else if (!strcmp (op, "Sigmoid")) p->kind = OVA_POST_SIGMOID;
  else if (!strcmp (op, "Tanh")) p->kind = OVA_POST_TANH;
  else if (!strcmp (op, "HardSwish")) p->kind = OVA_POST_HARD_SWISH;
  else if (!strcmp (op, "HardSigmoid")) {
    p->kind = OVA_POST_HARD_SIGMOID;
    p->alpha = ova_op_attr_float (&on, "alpha", 0.2f);
    p->beta = ova_op_attr_float (&on, "beta", 0.5f);
  } else if (!strcmp (op, "Clip")) {
    p->kind = OVA_POST_CLIP;
    p->alpha = -INFINITY;
    p->beta = INFINITY;
    if (n->opset < 11) {
      p->alpha = ova_op_attr_float (&on, "min", -INFINITY);
      p->beta = ova_op_attr_float (&on, "max", INFINITY);
    } else if (!scalar_const (g, n->n_inputs > 1 ? n->inputs[1] : -1, &p->alpha) ||
               !scalar_const (g, n->n_inputs > 2 ? n->inputs[2] : -1, &p->beta))
      return FALSE;
  } else if (!strcmp (op, "Add") && n->n_inputs == 2) {
    int other = n->inputs[0] == y ? n->inputs[1] : n->inputs[0];
    if (other == y || other < 0)
      return FALSE;
    OvaValue *ov = OVA_VALUE (g, other);
    if (!same_dims (ov, OVA_VALUE (g, y)) || ov->dtype != OVA_DTYPE_FLOAT32)
      return FALSE;
    /* The operand must exist when the conv runs. */
    if (!ov->data && !ov->is_input && ov->producer >= ci)
      return FALSE;
    p->kind = OVA_POST_ADD;
    p->operand = other;
  } else
    return FALSE;
  return TRUE;
}

static void
fuse_epilogues (OvaPlan *plan)
{
  OvaGraph *g = plan->g;
  for (guint ci = 0; ci < g->nodes->len; ci++) {
    OvaNode *c = OVA_NODE (g, ci);
    if (c->dead || (strcmp (c->op_type, "Conv") && strcmp (c->op_type, "ConvTranspose")))
      continue;
    if (OVA_VALUE (g, c->outputs[0])->dtype != OVA_DTYPE_FLOAT32)
      continue;
    while (c->n_post < OVA_MAX_POST_OPS) {
      int y = c->outputs[0];
      OvaValue *yv = OVA_VALUE (g, y);
      if (yv->is_output)
        break;
      OvaPostOp p;
      int out_v = -1, dead1 = -1, dead2 = -1;
      if (yv->n_uses == 1) {
        int ni = sole_consumer (g, y);
        if (ni < 0 || !match_post_op (g, ci, ni, &p, &out_v))
          break;
        dead1 = ni;
      } else if (yv->n_uses == 2) {
        /* SiLU: y * Sigmoid(y) */
        int si = -1, mi = -1;
        for (guint ni = 0; ni < g->nodes->len; ni++) {
          OvaNode *n = OVA_NODE (g, ni);
          if (n->dead)
            continue;
          for (int k = 0; k < n->n_inputs; k++) {
            if (n->inputs[k] != y)
              continue;
            if (!strcmp (n->op_type, "Sigmoid")) si = ni;
            else if (!strcmp (n->op_type, "Mul")) mi = ni;
          }
        }
        if (si < 0 || mi < 0)
          break;
        OvaNode *s = OVA_NODE (g, si), *m = OVA_NODE (g, mi);
        int sv = s->outputs[0];
        if (OVA_VALUE (g, sv)->n_uses != 1 || OVA_VALUE (g, sv)->is_output || m->n_inputs != 2 ||
            !((m->inputs[0] == y && m->inputs[1] == sv) || (m->inputs[1] == y && m->inputs[0] == sv)))
          break;
        memset (&p, 0, sizeof p);
        p.kind = OVA_POST_SILU;
        out_v = m->outputs[0];
        dead1 = si;
        dead2 = mi;
      } else
        break;
      c->post[c->n_post++] = p;
      c->outputs[0] = out_v;
      OVA_VALUE (g, out_v)->producer = ci;
      OVA_NODE (g, dead1)->dead = TRUE;
      if (dead2 >= 0)
        OVA_NODE (g, dead2)->dead = TRUE;
      plan->n_fused++;
      ova_graph_count_uses (g);
      c = OVA_NODE (g, ci);
    }
  }
}

static gboolean
is_view_op (OvaGraph *g, OvaNode *n)
{
  const char *op = n->op_type;
  if (!strcmp (op, "Reshape") || !strcmp (op, "Flatten") || !strcmp (op, "Squeeze") ||
      !strcmp (op, "Unsqueeze") || !strcmp (op, "Identity"))
    return TRUE;
  if (!strcmp (op, "Dropout"))
    return n->n_outputs < 2 || n->outputs[1] < 0 || OVA_VALUE (g, n->outputs[1])->n_uses == 0;
  if (!strcmp (op, "Transpose")) {
    /* A transpose that keeps the memory order (only size-1 axes move) is a view. */
    OvaOpNode on;
    node_view (n, &on);
    const int64_t *perm;
    int np = ova_op_attr_ints (&on, "perm", &perm);
    OvaValue *x = OVA_VALUE (g, n->inputs[0]);
    if (np != x->rank)
      return FALSE;
    int last = -1;
    for (int i = 0; i < np; i++) {
      if (x->dims[perm[i]] == 1)
        continue;
      if (perm[i] < last)
        return FALSE;
      last = perm[i];
    }
    return TRUE;
  }
  return FALSE;
}

/* Transpose(Transpose(x)) -> one transpose (or a view when the perms cancel);
 * reshape-like ops and order-keeping transposes become buffer aliases. */
static void
eliminate_transpose_reshape (OvaPlan *plan)
{
  OvaGraph *g = plan->g;
  for (guint ni = 0; ni < g->nodes->len; ni++) {
    OvaNode *t2 = OVA_NODE (g, ni);
    if (t2->dead || strcmp (t2->op_type, "Transpose"))
      continue;
    OvaValue *x = OVA_VALUE (g, t2->inputs[0]);
    if (x->producer < 0)
      continue;
    OvaNode *t1 = OVA_NODE (g, x->producer);
    if (strcmp (t1->op_type, "Transpose") || x->n_uses != 1 || x->is_output)
      continue;
    OvaOpNode o1, o2;
    node_view (t1, &o1);
    node_view (t2, &o2);
    const int64_t *p1, *p2;
    int n1 = ova_op_attr_ints (&o1, "perm", &p1), n2 = ova_op_attr_ints (&o2, "perm", &p2);
    if (n1 == 0 || n1 != n2)
      continue;
    int64_t *perm = g_new (int64_t, n1 + 1);
    for (int i = 0; i < n1; i++)
      perm[i] = p1[p2[i]];
    g_ptr_array_add (g->root->owned, perm);
    OvaAttr *attrs = g_new0 (OvaAttr, 2);
    g_ptr_array_add (g->root->owned, attrs);
    attrs[0].name = "perm";
    attrs[0].type = OVA_ATTR_INTS;
    attrs[0].n = n1;
    attrs[0].ints = perm;
    t2->attrs = attrs;
    t2->n_attrs = 1;
    t2->inputs[0] = t1->inputs[0];
    t1->dead = TRUE;
    plan->n_fused++;
    ova_graph_count_uses (g);
  }
  for (guint ni = 0; ni < g->nodes->len; ni++) {
    OvaNode *n = OVA_NODE (g, ni);
    if (n->dead || n->n_inputs < 1 || n->inputs[0] < 0 || !is_view_op (g, n))
      continue;
    OvaValue *x = OVA_VALUE (g, n->inputs[0]), *y = OVA_VALUE (g, n->outputs[0]);
    if (x->data || y->dtype != x->dtype || ova_value_numel (x) != ova_value_numel (y))
      continue;
    y->alias_of = n->inputs[0];
  }
}

static gboolean
resolve_layout_plain (OvaPlan *plan)
{
  (void) plan;
  return TRUE;
}

gboolean
ova_input_is_value_input (const OvaValue *v)
{
  if (v->dtype != OVA_DTYPE_INT64 && v->dtype != OVA_DTYPE_INT32 && v->dtype != OVA_DTYPE_FLOAT32)
    return FALSE;
  if (v->rank > 1)
    return FALSE;
  return v->rank == 0 || (v->dims[0] >= 0 && v->dims[0] <= 64);
}

OvaPlan *
ova_plan_new (OvaGraph *base, const int64_t (*in_dims)[OVA_MAX_DIMS], int batch, gboolean optimise,
              GError **error)
{
  return ova_plan_new_with_values (base, in_dims, NULL, batch, optimise, error);
}

OvaPlan *
ova_plan_new_with_values (OvaGraph *base, const int64_t (*in_dims)[OVA_MAX_DIMS], const void *const *in_values,
                          int batch, gboolean optimise, GError **error)
{
  OvaPlan *plan = g_new0 (OvaPlan, 1);
  plan->separable = -1;
  plan->g = ova_graph_copy (base);
  plan->batch = batch;
  OvaGraph *g = plan->g;
  for (int i = 0; i < g->n_inputs; i++) {
    OvaValue *v = OVA_VALUE (g, g->inputs[i]);
    for (int d = 0; d < v->rank; d++) {
      if (base->values->len && OVA_VALUE (base, base->inputs[i])->dims[d] >= 0 &&
          OVA_VALUE (base, base->inputs[i])->dims[d] != in_dims[i][d]) {
        char *want = ova_dims_to_string (v->rank, OVA_VALUE (base, base->inputs[i])->dims);
        char *got = ova_dims_to_string (v->rank, in_dims[i]);
        g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_SHAPE,
                     "%s: input '%s' has shape %s, the model wants %s", g->path, v->name, got, want);
        g_free (want);
        g_free (got);
        ova_plan_free (plan);
        return NULL;
      }
      v->dims[d] = in_dims[i][d];
    }
    if (in_values && in_values[i])
      v->data = g_bytes_new (in_values[i], value_bytes (v));
  }
  if (!infer_shapes (plan, TRUE, error)) {
    ova_plan_free (plan);
    return NULL;
  }
  ova_graph_count_uses (g);
  remove_dead_nodes (plan);
  if (optimise) {
    if (!g_getenv ("OVA_ENGINE_NO_S2D_FOLD"))
      fold_space_to_depth (plan);
    fold_conv_batchnorm (plan);
    fuse_epilogues (plan);
    eliminate_transpose_reshape (plan);
    remove_dead_nodes (plan);
  }
  resolve_layout_plain (plan);
  plan->order = g_new0 (int, g->nodes->len + 1);
  for (guint ni = 0; ni < g->nodes->len; ni++) {
    OvaNode *n = OVA_NODE (g, ni);
    if (n->dead)
      continue;
    plan->order[plan->n_order++] = ni;
  }
  for (guint i = 0; i < g->values->len; i++) {
    OvaValue *v = OVA_VALUE (g, i);
    v->bytes = v->rank >= 0 ? value_bytes (v) : 0;
  }
  return plan;
}

void
ova_plan_free (OvaPlan *plan)
{
  if (!plan)
    return;
  if (plan->backend && plan->backend->release && plan->state)
    plan->backend->release (plan->state);
  if (plan->arena) {
    if (plan->backend && plan->backend->free)
      plan->backend->free (plan->arena);
    else
      g_free (plan->arena);
  }
  g_free (plan->input_data);
  g_free (plan->order);
  if (plan->graph_blob)
    g_bytes_unref (plan->graph_blob);
  ova_graph_unref (plan->g);
  g_free (plan);
}

static int
alias_root (OvaGraph *g, int v)
{
  while (OVA_VALUE (g, v)->alias_of >= 0)
    v = OVA_VALUE (g, v)->alias_of;
  return v;
}

typedef struct {
  int value;
  int first, last;
  size_t bytes;
} Interval;

static int
cmp_interval (gconstpointer a, gconstpointer b)
{
  const Interval *x = a, *y = b;
  if (x->bytes != y->bytes)
    return x->bytes < y->bytes ? 1 : -1;
  return x->first - y->first;
}

void
ova_plan_memory (OvaPlan *plan)
{
  OvaGraph *g = plan->g;
  int nv = g->values->len;
  int *first = g_new (int, nv), *last = g_new (int, nv);
  for (int i = 0; i < nv; i++) {
    first[i] = G_MAXINT;
    last[i] = -1;
    OvaValue *v = OVA_VALUE (g, i);
    v->offset = -1;
  }
  for (int pos = 0; pos < plan->n_order; pos++) {
    OvaNode *n = OVA_NODE (g, plan->order[pos]);
    for (int k = 0; k < n->n_outputs; k++) {
      if (n->outputs[k] < 0)
        continue;
      int r = alias_root (g, n->outputs[k]);
      first[r] = MIN (first[r], pos);
      last[r] = MAX (last[r], pos);
    }
    for (int k = 0; k < n->n_inputs + n->n_post; k++) {
      int v = k < n->n_inputs ? n->inputs[k]
                              : (n->post[k - n->n_inputs].kind == OVA_POST_ADD ? n->post[k - n->n_inputs].operand : -1);
      if (v < 0)
        continue;
      int r = alias_root (g, v);
      last[r] = MAX (last[r], pos);
    }
  }
  for (int i = 0; i < g->n_outputs; i++) {
    int r = alias_root (g, g->outputs[i]);
    last[r] = plan->n_order;
  }
  GArray *iv = g_array_new (FALSE, FALSE, sizeof (Interval));
  for (int i = 0; i < nv; i++) {
    OvaValue *v = OVA_VALUE (g, i);
    if (v->alias_of >= 0 || v->data || v->is_input || v->producer < 0 || first[i] == G_MAXINT)
      continue;
    Interval it = { i, first[i], last[i], (MAX (v->bytes, 1) + 63) & ~(size_t) 63 };
    g_array_append_val (iv, it);
  }
  g_array_sort (iv, cmp_interval);
  size_t peak = 0;
  /* Greedy by size: each buffer goes at the lowest offset that overlaps no
   * already placed buffer alive at the same time. */
  int64_t *offs = g_new (int64_t, iv->len + 1);
  for (guint i = 0; i < iv->len; i++) {
    Interval *a = &g_array_index (iv, Interval, i);
    size_t off = 0;
    gboolean moved = TRUE;
    while (moved) {
      moved = FALSE;
      for (guint j = 0; j < i; j++) {
        Interval *b = &g_array_index (iv, Interval, j);
        if (b->last < a->first || a->last < b->first)
          continue;
        if (off < (size_t) offs[j] + b->bytes && (size_t) offs[j] < off + a->bytes) {
          off = offs[j] + b->bytes;
          moved = TRUE;
        }
      }
    }
    offs[i] = off;
    OVA_VALUE (g, a->value)->offset = off;
    peak = MAX (peak, off + a->bytes);
  }
  plan->arena_bytes = peak;
  g_free (offs);
  g_array_free (iv, TRUE);
  g_free (first);
  g_free (last);
}

gboolean
ova_plan_concat_in_place (OvaPlan *plan, int ni)
{
  OvaGraph *g = plan->g;
  OvaNode *n = OVA_NODE (g, ni);
  if (strcmp (n->op_type, "Concat") || n->n_outputs != 1 || n->n_post)
    return FALSE;
  OvaValue *y = OVA_VALUE (g, n->outputs[0]);
  OvaOpNode on;
  node_view (n, &on);
  int64_t axis = ova_op_attr_int (&on, "axis", 0);
  if (axis < 0)
    axis += y->rank;
  if (axis < 0 || axis >= y->rank || y->data)
    return FALSE;
  /* The slices are contiguous when every dimension before the axis is 1. */
  for (int d = 0; d < axis; d++)
    if (y->dims[d] != 1)
      return FALSE;
  if ((y->layout == OVA_LAYOUT_BLOCKED16 && axis != 1) || y->layout == OVA_LAYOUT_NHWC)
    return FALSE;
  int64_t inner = ova_dtype_size (y->dtype);
  for (int d = axis + 1; d < y->rank; d++)
    inner *= y->dims[d];
  /* already done (plan loaded from a plan file) */
  gboolean done = TRUE;
  for (int k = 0; k < n->n_inputs; k++)
    done = done && n->inputs[k] >= 0 && OVA_VALUE (g, n->inputs[k])->alias_of == n->outputs[0];
  if (done)
    return TRUE;
  for (int k = 0; k < n->n_inputs; k++) {
    int v = n->inputs[k];
    if (v < 0)
      return FALSE;
    OvaValue *x = OVA_VALUE (g, v);
    /* other readers of x are fine: they read it in the slice */
    if (x->data || x->is_input || x->is_output || x->alias_of >= 0 || x->producer < 0 ||
        x->layout != y->layout || x->dtype != y->dtype)
      return FALSE;
    if (y->layout == OVA_LAYOUT_BLOCKED16 && k < n->n_inputs - 1 && x->dims[1] % 16)
      return FALSE;
    for (int j = 0; j < k; j++)
      if (n->inputs[j] == v)
        return FALSE;
    /* views of this value would move with it */
    for (guint i = 0; i < g->values->len; i++)
      if (OVA_VALUE (g, i)->alias_of == v)
        return FALSE;
  }
  int64_t off = 0;
  for (int k = 0; k < n->n_inputs; k++) {
    OvaValue *x = OVA_VALUE (g, n->inputs[k]);
    x->alias_of = n->outputs[0];
    x->alias_offset = off;
    off += x->dims[axis] * inner;
  }
  return TRUE;
}

void *
ova_plan_value_data (OvaPlan *plan, int value)
{
  OvaGraph *g = plan->g;
  int64_t offset = 0;
  for (int v = value; OVA_VALUE (g, v)->alias_of >= 0; v = OVA_VALUE (g, v)->alias_of)
    offset += OVA_VALUE (g, v)->alias_offset;
  int r = alias_root (g, value);
  OvaValue *v = OVA_VALUE (g, r);
  if (v->data) {
    const void *p = g_bytes_get_data (v->data, NULL);
    static uint64_t empty[2];
    return p ? (void *) p : empty;
  }
  if (v->is_input) {
    for (int i = 0; i < g->n_inputs; i++)
      if (g->inputs[i] == r)
        return plan->input_data ? plan->input_data[i] : NULL;
    return NULL;
  }
  if (v->offset < 0 || !plan->arena)
    return NULL;
  return (char *) plan->arena + v->offset + offset;
}

void
ova_plan_value_ref (OvaPlan *plan, int value, OvaTensorRef *t)
{
  ova_value_ref (OVA_VALUE (plan->g, value), t);
  t->data = ova_plan_value_data (plan, value);
}

float
ova_post_op_scalar (const OvaPostOp *p, float x)
{
  switch (p->kind) {
    case OVA_POST_RELU: return x > 0 ? x : 0;
    case OVA_POST_LEAKY_RELU: return x >= 0 ? x : p->alpha * x;
    case OVA_POST_SIGMOID: return 1.f / (1.f + expf (-x));
    case OVA_POST_SILU: return x / (1.f + expf (-x));
    case OVA_POST_HARD_SWISH: return x * fminf (fmaxf (x / 6.f + 0.5f, 0.f), 1.f);
    case OVA_POST_HARD_SIGMOID: return fminf (fmaxf (p->alpha * x + p->beta, 0.f), 1.f);
    case OVA_POST_CLIP: return fminf (fmaxf (x, p->alpha), p->beta);
    case OVA_POST_TANH: return tanhf (x);
    default: return x;
  }
}

void
ova_post_ops_apply (OvaPlan *plan, const OvaNode *node, float *y, int64_t n)
{
  for (int k = 0; k < node->n_post; k++) {
    const OvaPostOp *p = &node->post[k];
    if (p->kind == OVA_POST_ADD) {
      const float *o = ova_plan_value_data (plan, p->operand);
      for (int64_t i = 0; i < n; i++)
        y[i] += o[i];
    } else {
      for (int64_t i = 0; i < n; i++)
        y[i] = ova_post_op_scalar (p, y[i]);
    }
  }
}

gboolean
ova_plan_run_node_reference (OvaPlan *plan, int ni, GError **error)
{
  OvaGraph *g = plan->g;
  OvaNode *n = OVA_NODE (g, ni);
  OvaTensorRef in[n->n_inputs + 1], out[n->n_outputs + 1];
  memset (in, 0, sizeof in);
  memset (out, 0, sizeof out);
  for (int k = 0; k < n->n_inputs; k++)
    if (n->inputs[k] >= 0)
      ova_plan_value_ref (plan, n->inputs[k], &in[k]);
  for (int k = 0; k < n->n_outputs; k++)
    if (n->outputs[k] >= 0)
      ova_plan_value_ref (plan, n->outputs[k], &out[k]);
  OvaOpNode on;
  node_view (n, &on);
  GError *e = NULL;
  if (!n->def->run (&on, in, n->n_inputs, out, n->n_outputs, &e)) {
    char *w = ova_graph_node_where (g, ni);
    g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_BACKEND, "%s: %s", w, e ? e->message : "kernel failed");
    g_clear_error (&e);
    g_free (w);
    return FALSE;
  }
  if (n->n_post)
    ova_post_ops_apply (plan, n, out[0].data, ova_tensor_ref_numel (&out[0]));
  return TRUE;
}

gboolean
ova_plan_compile (OvaPlan *plan, const OvaBackend *backend, GError **error)
{
  plan->backend = backend;
  if (backend->compile && !backend->compile (plan, &plan->state, error))
    return FALSE;
  ova_plan_memory (plan);
  size_t bytes = MAX (plan->arena_bytes, 64);
  plan->arena = backend->alloc ? backend->alloc (bytes) : g_malloc0 (bytes);
  if (!plan->arena) {
    g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_BACKEND, "%s: cannot allocate %zu bytes of activations",
                 plan->g->path, bytes);
    return FALSE;
  }
  plan->input_data = g_new0 (void *, plan->g->n_inputs + 1);
  if (backend->bind && !backend->bind (plan, plan->state, plan->arena, error))
    return FALSE;
  return TRUE;
}

/* The reference backend: every node through its plain-C kernel. */
static gboolean
ref_run (OvaPlan *plan, void *state, void *stream, GError **error)
{
  for (int i = 0; i < plan->n_order; i++)
    if (!ova_plan_run_node_reference (plan, plan->order[i], error))
      return FALSE;
  return TRUE;
}

static OvaPrecision
ref_precision (OvaPrecision p)
{
  return OVA_PRECISION_FP32;
}

static void *
aligned_alloc64 (size_t bytes)
{
  void *p = NULL;
  if (posix_memalign (&p, 64, (bytes + 63) & ~(size_t) 63))
    return NULL;
  memset (p, 0, bytes);
  return p;
}

static const OvaBackend reference_backend = {
  .name = "reference",
  .device = OVA_DEVICE_CPU,
  .precision = ref_precision,
  .run = ref_run,
  .alloc = aligned_alloc64,
  .free = free,
};

const OvaBackend *
ova_backend_reference (void)
{
  return &reference_backend;
}
