/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * OvaGraph housekeeping: values, copies (a plan specialises a copy of the
 * loaded graph; names and attributes stay with the root), use counts.
 */
#include "graph.h"

#include <string.h>

OvaGraph *
ova_graph_ref (OvaGraph *g)
{
  g_atomic_int_inc (&g->ref);
  return g;
}

void
ova_graph_unref (OvaGraph *g)
{
  if (!g || !g_atomic_int_dec_and_test (&g->ref))
    return;
  for (guint i = 0; i < g->values->len; i++) {
    OvaValue *v = OVA_VALUE (g, i);
    if (g->root == g)
      g_free (v->name);
    if (v->data)
      g_bytes_unref (v->data);
  }
  for (guint i = 0; i < g->nodes->len; i++) {
    OvaNode *n = OVA_NODE (g, i);
    g_free (n->inputs);
    g_free (n->outputs);
  }
  g_array_free (g->values, TRUE);
  g_array_free (g->nodes, TRUE);
  g_free (g->inputs);
  g_free (g->outputs);
  g_free (g->path);
  if (g->by_name)
    g_hash_table_destroy (g->by_name);
  if (g->owned)
    g_ptr_array_free (g->owned, TRUE);
  if (g->root != g)
    ova_graph_unref (g->root);
  g_free (g);
}

OvaGraph *
ova_graph_copy (OvaGraph *src)
{
  OvaGraph *g = g_new0 (OvaGraph, 1);
  g->ref = 1;
  g->root = ova_graph_ref (src->root);
  g->path = g_strdup (src->path);
  g->opset = src->opset;
  g->values = g_array_sized_new (FALSE, TRUE, sizeof (OvaValue), src->values->len);
  g_array_append_vals (g->values, src->values->data, src->values->len);
  for (guint i = 0; i < g->values->len; i++) {
    OvaValue *v = OVA_VALUE (g, i);
    if (v->data)
      g_bytes_ref (v->data);
  }
  g->nodes = g_array_sized_new (FALSE, TRUE, sizeof (OvaNode), src->nodes->len);
  g_array_append_vals (g->nodes, src->nodes->data, src->nodes->len);
  for (guint i = 0; i < g->nodes->len; i++) {
    OvaNode *n = OVA_NODE (g, i);
    n->inputs = g_memdup2 (n->inputs, sizeof (int) * (n->n_inputs + 1));
    n->outputs = g_memdup2 (n->outputs, sizeof (int) * (n->n_outputs + 1));
  }
  g->n_inputs = src->n_inputs;
  g->n_outputs = src->n_outputs;
  g->inputs = g_memdup2 (src->inputs, sizeof (int) * (src->n_inputs + 1));
  g->outputs = g_memdup2 (src->outputs, sizeof (int) * (src->n_outputs + 1));
  return g;
}

int
ova_graph_add_value (OvaGraph *g, const char *name)
{
  OvaValue v = { 0 };
  v.producer = -1;
  v.rank = -1;
  v.alias_of = -1;
  v.offset = -1;
  if (g->root == g) {
    v.name = g_strdup (name);
    if (!g->by_name)
      g->by_name = g_hash_table_new (g_str_hash, g_str_equal);
    g_hash_table_insert (g->by_name, v.name, GINT_TO_POINTER (g->values->len + 1));
  } else {
    /* Values made by passes: the name lives with the root's owned storage. */
    v.name = g_strdup (name);
    g_ptr_array_add (g->root->owned, v.name);
  }
  g_array_append_val (g->values, v);
  return g->values->len - 1;
}

int
ova_graph_find_value (OvaGraph *g, const char *name)
{
  if (g->by_name)
    return GPOINTER_TO_INT (g_hash_table_lookup (g->by_name, name)) - 1;
  for (guint i = 0; i < g->values->len; i++)
    if (!strcmp (OVA_VALUE (g, i)->name, name))
      return i;
  return -1;
}

void
ova_graph_count_uses (OvaGraph *g)
{
  for (guint i = 0; i < g->values->len; i++)
    OVA_VALUE (g, i)->n_uses = 0;
  for (guint i = 0; i < g->nodes->len; i++) {
    OvaNode *n = OVA_NODE (g, i);
    if (n->dead)
      continue;
    for (int k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] >= 0)
        OVA_VALUE (g, n->inputs[k])->n_uses++;
    for (int k = 0; k < n->n_post; k++)
      if (n->post[k].kind == OVA_POST_ADD)
        OVA_VALUE (g, n->post[k].operand)->n_uses++;
  }
  for (int i = 0; i < g->n_outputs; i++)
    OVA_VALUE (g, g->outputs[i])->n_uses++;
}

char *
ova_graph_node_where (OvaGraph *g, int node)
{
  OvaNode *n = OVA_NODE (g, node);
  return g_strdup_printf ("%s: node '%s' (%s)", g->path, n->name, n->op_type);
}

gboolean
ova_value_is_const (const OvaValue *v)
{
  return v->data != NULL;
}

int64_t
ova_value_numel (const OvaValue *v)
{
  int64_t n = 1;
  for (int i = 0; i < v->rank; i++)
    n *= v->dims[i];
  return n;
}

void
ova_value_ref (const OvaValue *v, OvaTensorRef *t)
{
  memset (t, 0, sizeof *t);
  t->dtype = v->dtype;
  t->rank = v->rank < 0 ? 0 : v->rank;
  memcpy (t->dims, v->dims, sizeof t->dims);
  static uint64_t empty[2]; /* a constant with no elements still reads as constant */
  t->data = NULL;
  if (v->data) {
    t->data = (void *) g_bytes_get_data (v->data, NULL);
    if (!t->data)
      t->data = empty;
  }
}

char *
ova_dims_to_string (int rank, const int64_t *dims)
{
  GString *s = g_string_new ("[");
  for (int i = 0; i < rank; i++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? "," : "", dims[i]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}
