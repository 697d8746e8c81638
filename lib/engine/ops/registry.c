/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * The operator registry: a static table built from the per-file tables, plus
 * the attribute and tensor helpers declared in engine/op.h.
 */
#include "ops-private.h"

const OvaAttr *
ova_op_attr (const OvaOpNode *node, const char *name)
{
  for (int i = 0; i < node->n_attrs; i++)
    if (node->attrs[i].name && strcmp (node->attrs[i].name, name) == 0)
      return &node->attrs[i];
  return NULL;
}

int64_t
ova_op_attr_int (const OvaOpNode *node, const char *name, int64_t def)
{
  const OvaAttr *a = ova_op_attr (node, name);
  if (!a)
    return def;
  if (a->type == OVA_ATTR_INT)
    return a->i;
  if (a->type == OVA_ATTR_FLOAT) /* out-of-range floats would be undefined to convert */
    return isfinite (a->f) && fabsf (a->f) < 9.2e18f ? (int64_t) a->f : def;
  return def;
}

float
ova_op_attr_float (const OvaOpNode *node, const char *name, float def)
{
  const OvaAttr *a = ova_op_attr (node, name);
  if (!a)
    return def;
  if (a->type == OVA_ATTR_FLOAT)
    return a->f;
  if (a->type == OVA_ATTR_INT)
    return (float) a->i;
  return def;
}

const char *
ova_op_attr_string (const OvaOpNode *node, const char *name, const char *def)
{
  const OvaAttr *a = ova_op_attr (node, name);
  if (!a || a->type != OVA_ATTR_STRING || !a->s)
    return def;
  return a->s;
}

int
ova_op_attr_ints (const OvaOpNode *node, const char *name, const int64_t **out)
{
  const OvaAttr *a = ova_op_attr (node, name);
  if (!a || a->type != OVA_ATTR_INTS) {
    *out = NULL;
    return 0;
  }
  *out = a->ints;
  return a->n;
}

int
ova_op_attr_floats (const OvaOpNode *node, const char *name, const float **out)
{
  const OvaAttr *a = ova_op_attr (node, name);
  if (!a || a->type != OVA_ATTR_FLOATS) {
    *out = NULL;
    return 0;
  }
  *out = a->floats;
  return a->n;
}

int64_t
ova_tensor_ref_numel (const OvaTensorRef *t)
{
  int64_t n = 1;
  for (int i = 0; i < t->rank; i++)
    n *= t->dims[i];
  return n;
}

size_t
ova_tensor_ref_bytes (const OvaTensorRef *t)
{
  int64_t n = ova_tensor_ref_numel (t);
  return n <= 0 ? 0 : (size_t) n * ops_dtype_size (t->dtype);
}

gboolean
ova_op_run_dynamic (const OvaOpDef *def, const OvaOpNode *node, const OvaTensorRef *in, int n_in,
                    OvaTensorRef *out, int n_out, void *(*alloc) (gpointer user, size_t bytes),
                    gpointer user, GError **error)
{
  for (int i = 0; i < n_in; i++)
    if (in[i].dtype != OVA_DTYPE_UNDEFINED && !in[i].data && ova_tensor_ref_numel (&in[i]) > 0)
      return ops_fail (error, OVA_ENGINE_ERROR_ARGUMENT, node, "input %d has no data", i);
  memset (out, 0, sizeof (OvaTensorRef) * n_out);
  if (!def->infer (node, in, n_in, out, n_out, error))
    return FALSE;
  for (int i = 0; i < n_out; i++) {
    for (int k = 0; k < out[i].rank; k++)
      if (out[i].dims[k] < 0)
        return ops_fail (error, OVA_ENGINE_ERROR_SHAPE, node, "output %d has unknown dims with all inputs known", i);
    out[i].data = alloc (user, ova_tensor_ref_bytes (&out[i]));
    if (!out[i].data && ova_tensor_ref_bytes (&out[i]) > 0)
      return ops_fail (error, OVA_ENGINE_ERROR_BACKEND, node, "cannot allocate output %d", i);
  }
  return def->run (node, in, n_in, out, n_out, error);
}

static const OvaOpDef *const *const tables[] = {
  ova_ops_elementwise, ova_ops_nn, ova_ops_shape, ova_ops_reduce, ova_ops_resize, ova_ops_misc, ova_ops_rnn, ova_ops_quant,
};

static const OvaOpDef **all_ops;
static GHashTable *by_name;

static void
registry_init (void)
{
  static gsize once = 0;
  if (g_once_init_enter (&once)) {
    GPtrArray *a = g_ptr_array_new ();
    GHashTable *h = g_hash_table_new (g_str_hash, g_str_equal);
    for (size_t t = 0; t < G_N_ELEMENTS (tables); t++)
      for (const OvaOpDef *const *d = tables[t]; *d; d++) {
        g_ptr_array_add (a, (gpointer) *d);
        g_hash_table_insert (h, (gpointer) (*d)->op_type, (gpointer) *d);
      }
    g_ptr_array_add (a, NULL);
    all_ops = (const OvaOpDef **) g_ptr_array_free (a, FALSE);
    by_name = h;
    g_once_init_leave (&once, 1);
  }
}

const OvaOpDef *
ova_op_lookup (const char *op_type)
{
  if (!op_type)
    return NULL;
  registry_init ();
  return g_hash_table_lookup (by_name, op_type);
}

const OvaOpDef *const *
ova_op_list (void)
{
  registry_init ();
  return all_ops;
}
