/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Model statistics for `ova-engine info`: operators, parameters, FLOPs
 * (multiply-adds count as 2) of the plan built for the largest batch.
 */
#include "info.h"
#include "plancache.h"

#include <string.h>

static int64_t
node_flops (OvaGraph *g, OvaNode *n)
{
  if (n->n_outputs < 1 || n->outputs[0] < 0)
    return 0;
  OvaValue *y = OVA_VALUE (g, n->outputs[0]);
  int64_t out = ova_value_numel (y);
  if ((!strcmp (n->op_type, "Conv") || !strcmp (n->op_type, "ConvTranspose")) && n->n_inputs > 1) {
    OvaValue *w = OVA_VALUE (g, n->inputs[1]);
    OvaValue *x = OVA_VALUE (g, n->inputs[0]);
    if (!strcmp (n->op_type, "Conv"))
      return 2 * out * (ova_value_numel (w) / MAX (w->dims[0], 1));
    return 2 * ova_value_numel (x) * (ova_value_numel (w) / MAX (w->dims[0], 1));
  }
  if ((!strcmp (n->op_type, "MatMul") || !strcmp (n->op_type, "Gemm")) && n->n_inputs > 1) {
    OvaValue *a = OVA_VALUE (g, n->inputs[0]);
    int64_t k = a->rank ? a->dims[a->rank - 1] : 1;
    if (!strcmp (n->op_type, "Gemm")) {
      OvaOpNode on = { .n_attrs = n->n_attrs, .attrs = n->attrs };
      if (ova_op_attr_int (&on, "transA", 0))
        k = a->dims[0];
    }
    return 2 * out * k;
  }
  return out;
}

void
ova_engine_describe (OvaEngine *e, GString *s)
{
  OvaGraph *g = ova_engine_graph (e);
  g_string_append_printf (s, "model: %s\nopset: %d\n", ova_engine_path (e), g->opset);
  for (int i = 0; i < ova_engine_get_n_inputs (e); i++) {
    const OvaTensorInfo *t = ova_engine_get_input_info (e, i);
    char *d = ova_dims_to_string (t->rank, t->dims);
    g_string_append_printf (s, "input  %s %s %s\n", t->name, ova_dtype_name (t->dtype), d);
    g_free (d);
  }
  for (int i = 0; i < ova_engine_get_n_outputs (e); i++) {
    const OvaTensorInfo *t = ova_engine_get_output_info (e, i);
    char *d = t->rank >= 0 ? ova_dims_to_string (t->rank, t->dims) : g_strdup ("?");
    g_string_append_printf (s, "output %s %s %s\n", t->name, ova_dtype_name (t->dtype), d);
    g_free (d);
  }
  int64_t params = 0;
  for (guint i = 0; i < g->values->len; i++) {
    OvaValue *v = OVA_VALUE (g, i);
    if (v->data && v->dtype == OVA_DTYPE_FLOAT32)
      params += ova_value_numel (v);
  }
  GHashTable *ops = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < g->nodes->len; i++) {
    OvaNode *n = OVA_NODE (g, i);
    g_hash_table_insert (ops, (gpointer) n->op_type,
                         GINT_TO_POINTER (GPOINTER_TO_INT (g_hash_table_lookup (ops, n->op_type)) + 1));
  }
  GList *keys = g_list_sort (g_hash_table_get_keys (ops), (GCompareFunc) strcmp);
  g_string_append_printf (s, "nodes: %u\noperators:", g->nodes->len);
  for (GList *l = keys; l; l = l->next)
    g_string_append_printf (s, " %s=%d", (char *) l->data, GPOINTER_TO_INT (g_hash_table_lookup (ops, l->data)));
  g_string_append_printf (s, "\nparameters: %" G_GINT64_FORMAT "\n", params);
  g_list_free (keys);
  g_hash_table_destroy (ops);

  OvaPlan *p = ova_engine_current_plan (e);
  if (p) {
    int64_t flops = 0;
    for (int i = 0; i < p->n_order; i++)
      flops += node_flops (p->g, OVA_NODE (p->g, p->order[i]));
    g_string_append_printf (s, "batch: %d\nFLOPs: %" G_GINT64_FORMAT " (%.3f G)\n", p->batch, flops, flops / 1e9);
    g_string_append_printf (s, "plan: %d nodes after passes (%d folded, %d fused, %d removed), peak activations %zu bytes, backend %s\n",
                            p->n_order, p->n_folded, p->n_fused, p->n_removed, p->arena_bytes, p->backend->name);
  }
}
