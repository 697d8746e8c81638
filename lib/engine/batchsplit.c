/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Batch splitting: a plan whose every node treats the samples of a batch
 * independently can run as several single-threaded sub-batches on as many
 * threads, with no synchronisation inside the network (intra-op threading
 * synchronises at every layer, which costs most on small layers and on a busy
 * machine). The analysis is conservative: an operator not known to keep
 * samples apart, or used in a way that could mix them, disables splitting.
 */
#include "plan.h"

#include <string.h>

static gboolean
in_list (const char *op, const char *const *list)
{
  for (int i = 0; list[i]; i++)
    if (!strcmp (op, list[i]))
      return TRUE;
  return FALSE;
}

/* Axis attribute/inputs that must not touch the batch axis. */
static gboolean
axis_not_zero (const OvaOpNode *on, int rank, int64_t def)
{
  int64_t a = ova_op_attr_int (on, "axis", def);
  if (a < 0)
    a += rank;
  return a != 0;
}

static gboolean
axes_exclude_zero (OvaGraph *g, const OvaNode *n, const OvaOpNode *on, int axes_input, int rank)
{
  const int64_t *ax = NULL;
  int na = ova_op_attr_ints (on, "axes", &ax);
  int64_t buf[OVA_MAX_DIMS * 2];
  if (na == 0 && axes_input >= 0 && n->n_inputs > axes_input && n->inputs[axes_input] >= 0) {
    OvaValue *v = OVA_VALUE (g, n->inputs[axes_input]);
    if (!v->data || v->dtype != OVA_DTYPE_INT64 || ova_value_numel (v) > OVA_MAX_DIMS * 2)
      return FALSE;
    na = ova_value_numel (v);
    memcpy (buf, g_bytes_get_data (v->data, NULL), na * sizeof (int64_t));
    ax = buf;
  }
  if (na == 0)
    return FALSE; /* all axes */
  for (int i = 0; i < na; i++)
    if (ax[i] == 0 || ax[i] + rank == 0)
      return FALSE;
  return TRUE;
}

gboolean
ova_plan_batch_separable (OvaPlan *plan)
{
  static const char *const elementwise[] = {
    "Relu", "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Erf", "Clip", "Add", "Sub",
    "Mul", "Div", "Pow", "Sqrt", "Exp", "Log", "Neg", "Abs", "Min", "Max", "Floor", "Ceil", "Round", "Where",
    "Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "Not", "And", "Or", "Xor", "Cast", "Identity",
    "Dropout", "Elu", "Selu", "Softplus", "Softsign", "Reciprocal", "Sign", "Mish", "Sin", "Cos", "IsNaN",
    "IsInf", "Mod", "Sum", "Mean", "BatchNormalization", NULL };
  static const char *const spatial[] = {
    "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Resize",
    "Upsample", "InstanceNormalization", "DepthToSpace", "SpaceToDepth", "LpNormalization", "Pad", NULL };
  OvaGraph *g = plan->g;
  int64_t n_batch = plan->batch;
  if (n_batch < 2)
    return FALSE;
  guint8 *bm = g_new0 (guint8, g->values->len); /* value has the batch on axis 0 */
  gboolean ok = TRUE;
  for (int i = 0; i < g->n_inputs && ok; i++) {
    OvaValue *v = OVA_VALUE (g, g->inputs[i]);
    if (v->data)
      continue;
    ok = v->rank >= 1 && v->dims[0] == n_batch;
    bm[g->inputs[i]] = 1;
  }
  for (int pos = 0; pos < plan->n_order && ok; pos++) {
    OvaNode *n = OVA_NODE (g, plan->order[pos]);
    OvaOpNode on = { n->op_type, n->name, n->domain, n->opset, n->n_attrs, n->attrs, n->n_inputs, n->n_outputs };
    int first_bm = -1, n_bm = 0;
    for (int k = 0; k < n->n_inputs; k++) {
      int v = n->inputs[k];
      if (v < 0)
        continue;
      if (bm[v] == 1) {
        n_bm++;
        if (first_bm < 0)
          first_bm = k;
      }
    }
    for (int k = 0; k < n->n_post && ok; k++)
      if (n->post[k].kind == OVA_POST_ADD && !bm[n->post[k].operand])
        ok = FALSE; /* same-shaped residual: per-sample too, or it was shaped like the output */
    if (!ok)
      break;
    if (n_bm == 0)
      continue; /* works on constants only */
    OvaValue *y = OVA_VALUE (g, n->outputs[0]);
    OvaValue *x = OVA_VALUE (g, n->inputs[first_bm]);
    gboolean keeps = y->rank >= 1 && y->dims[0] == n_batch;
    const char *op = n->op_type;
    if (in_list (op, elementwise)) {
      /* other operands broadcast over the batch */
      for (int k = 0; k < n->n_inputs && keeps; k++) {
        int v = n->inputs[k];
        if (v < 0 || bm[v])
          continue;
        OvaValue *c = OVA_VALUE (g, v);
        keeps = c->rank < y->rank || c->dims[0] == 1;
      }
      for (int k = 0; k < n->n_inputs && keeps; k++)
        if (n->inputs[k] >= 0 && bm[n->inputs[k]])
          keeps = OVA_VALUE (g, n->inputs[k])->rank == y->rank;
    } else if (in_list (op, spatial)) {
      keeps = keeps && first_bm == 0 && n_bm == 1;
    } else if (!strcmp (op, "Concat") || !strcmp (op, "Split")) {
      keeps = keeps && n_bm == (!strcmp (op, "Concat") ? n->n_inputs : 1) && axis_not_zero (&on, x->rank, 0);
    } else if (!strcmp (op, "Slice")) {
      keeps = keeps && first_bm == 0 && n_bm == 1 && axes_exclude_zero (g, n, &on, 3, x->rank);
    } else if (!strcmp (op, "Reshape") || !strcmp (op, "Flatten") || !strcmp (op, "Squeeze") ||
               !strcmp (op, "Unsqueeze")) {
      /* row-major: a leading dimension kept as is keeps each sample's elements */
      keeps = keeps && first_bm == 0 && x->dims[0] == n_batch;
    } else if (!strcmp (op, "Transpose")) {
      const int64_t *perm;
      int np = ova_op_attr_ints (&on, "perm", &perm);
      keeps = keeps && np > 0 && perm[0] == 0;
    } else if (!strcmp (op, "Softmax") || !strcmp (op, "LogSoftmax") || !strcmp (op, "Hardmax")) {
      keeps = keeps && axis_not_zero (&on, x->rank, n->opset < 13 ? 1 : -1);
    } else if (g_str_has_prefix (op, "Reduce")) {
      keeps = keeps && ova_op_attr_int (&on, "keepdims", 1) && axes_exclude_zero (g, n, &on, 1, x->rank);
    } else if (!strcmp (op, "ArgMax") || !strcmp (op, "ArgMin")) {
      keeps = keeps && axis_not_zero (&on, x->rank, 0);
    } else if (!strcmp (op, "Gemm")) {
      keeps = keeps && first_bm == 0 && n_bm == 1 && !ova_op_attr_int (&on, "transA", 0);
    } else if (!strcmp (op, "MatMul")) {
      keeps = keeps && x->rank >= 2 &&
              (n_bm == 1 ? first_bm == 0 || OVA_VALUE (g, n->inputs[0])->rank < y->rank
                         : OVA_VALUE (g, n->inputs[0])->rank == y->rank && OVA_VALUE (g, n->inputs[1])->rank == y->rank &&
                               y->rank >= 3);
      if (n_bm == 1 && first_bm == 1)
        keeps = FALSE;
    } else if (!strcmp (op, "Gather")) {
      keeps = keeps && first_bm == 0 && n_bm == 1 && axis_not_zero (&on, x->rank, 0);
    } else {
      keeps = FALSE;
    }
    if (!keeps) {
      if (plan->verbose)
        g_printerr ("ova-engine: node '%s' (%s) may mix the samples of a batch: no batch splitting\n", n->name, op);
      ok = FALSE;
      break;
    }
    for (int k = 0; k < n->n_outputs; k++)
      if (n->outputs[k] >= 0)
        bm[n->outputs[k]] = OVA_VALUE (g, n->outputs[k])->rank >= 1 &&
                            OVA_VALUE (g, n->outputs[k])->dims[0] == n_batch;
    for (int k = 0; k < n->n_outputs; k++)
      if (n->outputs[k] >= 0 && !bm[n->outputs[k]])
        ok = FALSE;
  }
  for (int i = 0; i < g->n_outputs && ok; i++)
    ok = bm[g->outputs[i]] == 1;
  g_free (bm);
  return ok;
}
