/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Builds small ONNX models in tests with the generated protobuf-c code.
 */
#ifndef OVA_TESTS_ONNX_BUILDER_H
#define OVA_TESTS_ONNX_BUILDER_H

#include <glib.h>
#include <stdarg.h>
#include <string.h>
#include "engine/onnx.pb-c.h"

typedef struct {
  Onnx__ModelProto m;
  Onnx__GraphProto g;
  Onnx__OperatorSetIdProto opset;
  Onnx__OperatorSetIdProto *opsets[1];
  GPtrArray *mem;
  GPtrArray *nodes, *inits, *inputs, *outputs;
} OnnxBuilder;

static inline void *
ob_keep (OnnxBuilder *b, void *p)
{
  g_ptr_array_add (b->mem, p);
  return p;
}

static inline void *
ob_dup (const void *p, size_t n)
{
  void *d = g_malloc0 (n + 8);
  if (n)
    memcpy (d, p, n);
  return d;
}

static inline OnnxBuilder *
ob_new (int opset)
{
  OnnxBuilder *b = g_new0 (OnnxBuilder, 1);
  b->mem = g_ptr_array_new_with_free_func (g_free);
  b->nodes = g_ptr_array_new ();
  b->inits = g_ptr_array_new ();
  b->inputs = g_ptr_array_new ();
  b->outputs = g_ptr_array_new ();
  onnx__model_proto__init (&b->m);
  onnx__graph_proto__init (&b->g);
  onnx__operator_set_id_proto__init (&b->opset);
  b->opset.domain = "";
  b->opset.has_version = 1;
  b->opset.version = opset;
  b->opsets[0] = &b->opset;
  b->m.has_ir_version = 1;
  b->m.ir_version = 8;
  b->m.n_opset_import = 1;
  b->m.opset_import = b->opsets;
  b->m.graph = &b->g;
  b->g.name = "test";
  return b;
}

static inline Onnx__ValueInfoProto *
ob_value_info (OnnxBuilder *b, const char *name, int dtype, int rank, const int64_t *dims)
{
  Onnx__ValueInfoProto *vi = ob_keep (b, g_new0 (Onnx__ValueInfoProto, 1));
  onnx__value_info_proto__init (vi);
  vi->name = ob_keep (b, g_strdup (name));
  Onnx__TypeProto *tp = ob_keep (b, g_new0 (Onnx__TypeProto, 1));
  onnx__type_proto__init (tp);
  Onnx__TypeProto__Tensor *tt = ob_keep (b, g_new0 (Onnx__TypeProto__Tensor, 1));
  onnx__type_proto__tensor__init (tt);
  tt->has_elem_type = 1;
  tt->elem_type = dtype;
  Onnx__TensorShapeProto *sp = ob_keep (b, g_new0 (Onnx__TensorShapeProto, 1));
  onnx__tensor_shape_proto__init (sp);
  sp->n_dim = rank;
  sp->dim = ob_keep (b, g_new0 (Onnx__TensorShapeProto__Dimension *, rank + 1));
  for (int i = 0; i < rank; i++) {
    Onnx__TensorShapeProto__Dimension *d = ob_keep (b, g_new0 (Onnx__TensorShapeProto__Dimension, 1));
    onnx__tensor_shape_proto__dimension__init (d);
    if (dims[i] >= 0) {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      d->dim_value = dims[i];
    } else {
      d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
      d->dim_param = "N";
    }
    sp->dim[i] = d;
  }
  tt->shape = sp;
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  vi->type = tp;
  return vi;
}

static inline void
ob_input (OnnxBuilder *b, const char *name, int rank, const int64_t *dims)
{
  g_ptr_array_add (b->inputs, ob_value_info (b, name, 1, rank, dims));
}

static inline void
ob_output (OnnxBuilder *b, const char *name)
{
  Onnx__ValueInfoProto *vi = ob_keep (b, g_new0 (Onnx__ValueInfoProto, 1));
  onnx__value_info_proto__init (vi);
  vi->name = ob_keep (b, g_strdup (name));
  g_ptr_array_add (b->outputs, vi);
}

/* A float initialiser (copied); @external: file name for external data, or NULL. */
static inline Onnx__TensorProto *
ob_init_f32 (OnnxBuilder *b, const char *name, int rank, const int64_t *dims, const float *data)
{
  Onnx__TensorProto *t = ob_keep (b, g_new0 (Onnx__TensorProto, 1));
  onnx__tensor_proto__init (t);
  t->name = ob_keep (b, g_strdup (name));
  t->n_dims = rank;
  t->dims = ob_keep (b, ob_dup (dims, sizeof (int64_t) * rank));
  t->has_data_type = 1;
  t->data_type = 1;
  int64_t n = 1;
  for (int i = 0; i < rank; i++)
    n *= dims[i];
  t->has_raw_data = 1;
  t->raw_data.len = n * 4;
  t->raw_data.data = ob_keep (b, ob_dup (data, n * 4));
  g_ptr_array_add (b->inits, t);
  return t;
}

static inline void
ob_init_i64 (OnnxBuilder *b, const char *name, int rank, const int64_t *dims, const int64_t *data)
{
  Onnx__TensorProto *t = ob_keep (b, g_new0 (Onnx__TensorProto, 1));
  onnx__tensor_proto__init (t);
  t->name = ob_keep (b, g_strdup (name));
  t->n_dims = rank;
  t->dims = ob_keep (b, ob_dup (dims, sizeof (int64_t) * rank));
  t->has_data_type = 1;
  t->data_type = 7;
  int64_t n = 1;
  for (int i = 0; i < rank; i++)
    n *= dims[i];
  t->n_int64_data = n;
  t->int64_data = ob_keep (b, ob_dup (data, n * 8));
  g_ptr_array_add (b->inits, t);
}

/* Attribute helpers: pass to ob_node after the outputs. */
static inline Onnx__AttributeProto *
ob_attr (OnnxBuilder *b, const char *name)
{
  Onnx__AttributeProto *a = ob_keep (b, g_new0 (Onnx__AttributeProto, 1));
  onnx__attribute_proto__init (a);
  a->name = ob_keep (b, g_strdup (name));
  a->has_type = 1;
  return a;
}

static inline Onnx__AttributeProto *
ob_attr_int (OnnxBuilder *b, const char *name, int64_t v)
{
  Onnx__AttributeProto *a = ob_attr (b, name);
  a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
  a->has_i = 1;
  a->i = v;
  return a;
}

static inline Onnx__AttributeProto *
ob_attr_float (OnnxBuilder *b, const char *name, float v)
{
  Onnx__AttributeProto *a = ob_attr (b, name);
  a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
  a->has_f = 1;
  a->f = v;
  return a;
}

static inline Onnx__AttributeProto *
ob_attr_ints (OnnxBuilder *b, const char *name, int n, const int64_t *v)
{
  Onnx__AttributeProto *a = ob_attr (b, name);
  a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
  a->n_ints = n;
  a->ints = ob_keep (b, ob_dup (v, sizeof (int64_t) * n));
  return a;
}

static inline Onnx__AttributeProto *
ob_attr_string (OnnxBuilder *b, const char *name, const char *s)
{
  Onnx__AttributeProto *a = ob_attr (b, name);
  a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
  a->has_s = 1;
  a->s.data = ob_keep (b, g_strdup (s));
  a->s.len = strlen (s);
  return a;
}

/* ob_node (b, "Conv", "conv1", "x,w,b", "y", attr..., NULL) */
static inline void
ob_node (OnnxBuilder *b, const char *op, const char *name, const char *ins, const char *outs, ...)
{
  Onnx__NodeProto *n = ob_keep (b, g_new0 (Onnx__NodeProto, 1));
  onnx__node_proto__init (n);
  n->op_type = ob_keep (b, g_strdup (op));
  n->name = ob_keep (b, g_strdup (name));
  char **iv = g_strsplit (ins, ",", -1), **ov = g_strsplit (outs, ",", -1);
  n->n_input = g_strv_length (iv);
  n->input = ob_keep (b, g_new0 (char *, n->n_input + 1));
  for (size_t i = 0; i < n->n_input; i++)
    n->input[i] = ob_keep (b, g_strdup (iv[i]));
  n->n_output = g_strv_length (ov);
  n->output = ob_keep (b, g_new0 (char *, n->n_output + 1));
  for (size_t i = 0; i < n->n_output; i++)
    n->output[i] = ob_keep (b, g_strdup (ov[i]));
  g_strfreev (iv);
  g_strfreev (ov);
  va_list ap;
  va_start (ap, outs);
  GPtrArray *attrs = g_ptr_array_new ();
  Onnx__AttributeProto *a;
  while ((a = va_arg (ap, Onnx__AttributeProto *)))
    g_ptr_array_add (attrs, a);
  va_end (ap);
  n->n_attribute = attrs->len;
  n->attribute = ob_keep (b, ob_dup (attrs->pdata, sizeof (void *) * attrs->len));
  g_ptr_array_free (attrs, TRUE);
  g_ptr_array_add (b->nodes, n);
}

/* Serialises the model; returns the bytes (g_free). */
static inline guint8 *
ob_pack (OnnxBuilder *b, gsize *len)
{
  b->g.n_node = b->nodes->len;
  b->g.node = (Onnx__NodeProto **) b->nodes->pdata;
  b->g.n_initializer = b->inits->len;
  b->g.initializer = (Onnx__TensorProto **) b->inits->pdata;
  b->g.n_input = b->inputs->len;
  b->g.input = (Onnx__ValueInfoProto **) b->inputs->pdata;
  b->g.n_output = b->outputs->len;
  b->g.output = (Onnx__ValueInfoProto **) b->outputs->pdata;
  *len = onnx__model_proto__get_packed_size (&b->m);
  guint8 *buf = g_malloc (*len + 1);
  onnx__model_proto__pack (&b->m, buf);
  return buf;
}

static inline gboolean
ob_save (OnnxBuilder *b, const char *path)
{
  gsize len;
  guint8 *buf = ob_pack (b, &len);
  gboolean ok = g_file_set_contents (path, (char *) buf, len, NULL);
  g_free (buf);
  return ok;
}

static inline void
ob_free (OnnxBuilder *b)
{
  g_ptr_array_free (b->nodes, TRUE);
  g_ptr_array_free (b->inits, TRUE);
  g_ptr_array_free (b->inputs, TRUE);
  g_ptr_array_free (b->outputs, TRUE);
  g_ptr_array_free (b->mem, TRUE);
  g_free (b);
}

#endif
