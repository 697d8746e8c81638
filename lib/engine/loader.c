/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * ONNX loader: ModelProto (protobuf-c, generated at build time from the
 * schema Debian ships) -> OvaGraph. Initialisers and Constant tensors become
 * constant values; external-data weights are read relative to the model.
 */
#include "graph.h"
#include "engine/onnx.pb-c.h"

#include <string.h>

#define LOAD_ERR(err, code, ...) g_set_error (err, OVA_ENGINE_ERROR, code, __VA_ARGS__)

static gboolean
dtype_supported (int t)
{
  switch (t) {
    case OVA_DTYPE_FLOAT32: case OVA_DTYPE_UINT8: case OVA_DTYPE_INT8: case OVA_DTYPE_UINT16:
    case OVA_DTYPE_INT16: case OVA_DTYPE_INT32: case OVA_DTYPE_INT64: case OVA_DTYPE_BOOL:
    case OVA_DTYPE_FLOAT16: case OVA_DTYPE_FLOAT64: case OVA_DTYPE_UINT32: case OVA_DTYPE_UINT64:
      return TRUE;
    default:
      return FALSE;
  }
}

static gboolean
numel_checked (const int64_t *dims, size_t rank, int64_t *out)
{
  int64_t n = 1;
  for (size_t i = 0; i < rank; i++) {
    if (dims[i] < 0 || (dims[i] > 0 && n > G_MAXINT64 / 4 / dims[i]))
      return FALSE;
    n *= dims[i];
  }
  *out = n;
  return TRUE;
}

/* Reads the bytes of an external-data tensor. */
static GBytes *
read_external (const char *model_path, const Onnx__TensorProto *tp, size_t want, GError **error)
{
  const char *location = NULL;
  gint64 offset = 0, length = -1;
  for (size_t i = 0; i < tp->n_external_data; i++) {
    const Onnx__StringStringEntryProto *e = tp->external_data[i];
    if (!e->key || !e->value)
      continue;
    if (!strcmp (e->key, "location"))
      location = e->value;
    else if (!strcmp (e->key, "offset"))
      offset = g_ascii_strtoll (e->value, NULL, 10);
    else if (!strcmp (e->key, "length"))
      length = g_ascii_strtoll (e->value, NULL, 10);
  }
  if (!location || !*location || strstr (location, "..") || g_path_is_absolute (location)) {
    LOAD_ERR (error, OVA_ENGINE_ERROR_PARSE, "%s: tensor '%s': bad external data location '%s'",
              model_path, tp->name ? tp->name : "", location ? location : "");
    return NULL;
  }
  char *dir = g_path_get_dirname (model_path);
  char *file = g_build_filename (dir, location, NULL);
  g_free (dir);
  GMappedFile *mf = g_mapped_file_new (file, FALSE, NULL);
  if (!mf) {
    LOAD_ERR (error, OVA_ENGINE_ERROR_IO, "%s: tensor '%s': missing external data file %s",
              model_path, tp->name ? tp->name : "", file);
    g_free (file);
    return NULL;
  }
  size_t flen = g_mapped_file_get_length (mf);
  if (length < 0)
    length = want;
  if (offset < 0 || (size_t) length != want || (size_t) offset > flen || want > flen - offset) {
    LOAD_ERR (error, OVA_ENGINE_ERROR_PARSE,
              "%s: tensor '%s': external data %s holds %zu bytes, need %zu at offset %" G_GINT64_FORMAT,
              model_path, tp->name ? tp->name : "", file, flen, want, offset);
    g_mapped_file_unref (mf);
    g_free (file);
    return NULL;
  }
  GBytes *b = g_bytes_new (g_mapped_file_get_contents (mf) + offset, want);
  g_mapped_file_unref (mf);
  g_free (file);
  return b;
}

/* TensorProto -> dense bytes in ova's dtype. */
static GBytes *
tensor_bytes (const char *model_path, const Onnx__TensorProto *tp, int *rank, int64_t *dims,
              OvaDataType *dtype, GError **error)
{
  const char *tname = tp->name ? tp->name : "";
  int t = tp->has_data_type ? tp->data_type : 0;
  if (!dtype_supported (t)) {
    LOAD_ERR (error, OVA_ENGINE_ERROR_UNSUPPORTED, "%s: tensor '%s': unsupported data type %d",
              model_path, tname, t);
    return NULL;
  }
  if (tp->n_dims > OVA_MAX_DIMS) {
    LOAD_ERR (error, OVA_ENGINE_ERROR_UNSUPPORTED, "%s: tensor '%s': rank %zu above %d",
              model_path, tname, tp->n_dims, OVA_MAX_DIMS);
    return NULL;
  }
  int64_t n;
  if (!numel_checked (tp->dims, tp->n_dims, &n)) {
    LOAD_ERR (error, OVA_ENGINE_ERROR_PARSE, "%s: tensor '%s': bad dimensions", model_path, tname);
    return NULL;
  }
  *rank = tp->n_dims;
  for (size_t i = 0; i < tp->n_dims; i++)
    dims[i] = tp->dims[i];
  *dtype = t;
  size_t es = ova_dtype_size (t);
  size_t want = (size_t) n * es;

  if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
    return read_external (model_path, tp, want, error);
  if (tp->has_raw_data) {
    if (tp->raw_data.len != want) {
      LOAD_ERR (error, OVA_ENGINE_ERROR_PARSE, "%s: tensor '%s': raw data holds %zu bytes, shape needs %zu",
                model_path, tname, tp->raw_data.len, want);
      return NULL;
    }
    return g_bytes_new (tp->raw_data.data, want);
  }
  size_t have;
  switch (t) {
    case OVA_DTYPE_FLOAT32: have = tp->n_float_data; break;
    case OVA_DTYPE_INT64: have = tp->n_int64_data; break;
    case OVA_DTYPE_FLOAT64: have = tp->n_double_data; break;
    case OVA_DTYPE_UINT32: case OVA_DTYPE_UINT64: have = tp->n_uint64_data; break;
    default: have = tp->n_int32_data; break;
  }
  if (have != (size_t) n) {
    LOAD_ERR (error, OVA_ENGINE_ERROR_PARSE, "%s: tensor '%s': holds %zu values, shape needs %" G_GINT64_FORMAT,
              model_path, tname, have, n);
    return NULL;
  }
  void *buf = g_malloc0 (want ? want : 1);
  for (int64_t i = 0; i < n; i++) {
    switch (t) {
      case OVA_DTYPE_FLOAT32: ((float *) buf)[i] = tp->float_data[i]; break;
      case OVA_DTYPE_INT64: ((int64_t *) buf)[i] = tp->int64_data[i]; break;
      case OVA_DTYPE_FLOAT64: ((double *) buf)[i] = tp->double_data[i]; break;
      case OVA_DTYPE_UINT32: ((uint32_t *) buf)[i] = tp->uint64_data[i]; break;
      case OVA_DTYPE_UINT64: ((uint64_t *) buf)[i] = tp->uint64_data[i]; break;
      case OVA_DTYPE_INT32: ((int32_t *) buf)[i] = tp->int32_data[i]; break;
      case OVA_DTYPE_INT16: ((int16_t *) buf)[i] = tp->int32_data[i]; break;
      case OVA_DTYPE_UINT16: case OVA_DTYPE_FLOAT16: ((uint16_t *) buf)[i] = tp->int32_data[i]; break;
      case OVA_DTYPE_INT8: ((int8_t *) buf)[i] = tp->int32_data[i]; break;
      default: ((uint8_t *) buf)[i] = tp->int32_data[i]; break; /* uint8, bool */
    }
  }
  return g_bytes_new_take (buf, want);
}

static void *
own (OvaGraph *g, void *p)
{
  g_ptr_array_add (g->owned, p);
  return p;
}

static gboolean
convert_attr (OvaGraph *g, const Onnx__AttributeProto *ap, OvaAttr *a, const char *where,
              GError **error)
{
  a->name = own (g, g_strdup (ap->name ? ap->name : ""));
  int type = ap->has_type ? (int) ap->type : 0;
  if (!type) { /* pre-IR-3 files leave the type out: infer it from the field set */
    if (ap->t) type = OVA_ATTR_TENSOR;
    else if (ap->n_floats) type = OVA_ATTR_FLOATS;
    else if (ap->n_ints) type = OVA_ATTR_INTS;
    else if (ap->n_strings) type = OVA_ATTR_STRINGS;
    else if (ap->has_s) type = OVA_ATTR_STRING;
    else if (ap->has_f) type = OVA_ATTR_FLOAT;
    else type = OVA_ATTR_INT;
  }
  a->type = type;
  switch (type) {
    case OVA_ATTR_FLOAT: a->f = ap->f; break;
    case OVA_ATTR_INT: a->i = ap->i; break;
    case OVA_ATTR_STRING:
      a->s = own (g, g_strndup ((const char *) ap->s.data, ap->s.len));
      break;
    case OVA_ATTR_FLOATS:
      a->n = ap->n_floats;
      a->floats = own (g, ova_memdup_pad (ap->floats, ap->n_floats * sizeof (float)));
      break;
    case OVA_ATTR_INTS:
      a->n = ap->n_ints;
      a->ints = own (g, ova_memdup_pad (ap->ints, ap->n_ints * sizeof (int64_t)));
      break;
    case OVA_ATTR_STRINGS: {
      char **s = own (g, g_new0 (char *, ap->n_strings + 1));
      for (size_t i = 0; i < ap->n_strings; i++)
        s[i] = own (g, g_strndup ((const char *) ap->strings[i].data, ap->strings[i].len));
      a->n = ap->n_strings;
      a->strings = (const char *const *) s;
      break;
    }
    case OVA_ATTR_TENSOR: {
      if (!ap->t) {
        LOAD_ERR (error, OVA_ENGINE_ERROR_PARSE, "%s: attribute '%s' has no tensor", where, a->name);
        return FALSE;
      }
      OvaTensorRef *t = own (g, g_new0 (OvaTensorRef, 1));
      GBytes *b = tensor_bytes (g->path, ap->t, &t->rank, t->dims, &t->dtype, error);
      if (!b)
        return FALSE;
      gsize sz;
      t->data = own (g, g_bytes_unref_to_data (b, &sz));
      if (!t->data)
        t->data = own (g, g_malloc0 (1));
      a->t = t;
      break;
    }
    default:
      LOAD_ERR (error, OVA_ENGINE_ERROR_UNSUPPORTED, "%s: attribute '%s' of type %d (graphs, sparse tensors) is not supported",
                where, a->name, type);
      return FALSE;
  }
  return TRUE;
}

static gboolean
value_info_shape (OvaGraph *g, const Onnx__ValueInfoProto *vi, OvaValue *v, GError **error)
{
  if (!vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !vi->type->tensor_type) {
    LOAD_ERR (error, OVA_ENGINE_ERROR_UNSUPPORTED, "%s: graph input/output '%s' is not a tensor",
              g->path, v->name);
    return FALSE;
  }
  const Onnx__TypeProto__Tensor *tt = vi->type->tensor_type;
  if (!dtype_supported (tt->elem_type)) {
    LOAD_ERR (error, OVA_ENGINE_ERROR_UNSUPPORTED, "%s: graph input/output '%s' has unsupported type %d",
              g->path, v->name, tt->elem_type);
    return FALSE;
  }
  v->dtype = tt->elem_type;
  if (!tt->shape) {
    v->rank = -1;
    return TRUE;
  }
  if (tt->shape->n_dim > OVA_MAX_DIMS) {
    LOAD_ERR (error, OVA_ENGINE_ERROR_UNSUPPORTED, "%s: '%s' has rank %zu above %d", g->path, v->name,
              tt->shape->n_dim, OVA_MAX_DIMS);
    return FALSE;
  }
  v->rank = tt->shape->n_dim;
  for (int i = 0; i < v->rank; i++) {
    const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
    v->dims[i] = (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && d->dim_value >= 0)
                     ? d->dim_value : -1;
  }
  return TRUE;
}

static int
value_for (OvaGraph *g, const char *name)
{
  int i = ova_graph_find_value (g, name);
  return i >= 0 ? i : ova_graph_add_value (g, name);
}

OvaGraph *
ova_graph_load_from_data (const char *path, const void *data, size_t len, GError **error)
{
  Onnx__ModelProto *m = onnx__model_proto__unpack (NULL, len, data);
  if (!m || !m->graph) {
    LOAD_ERR (error, OVA_ENGINE_ERROR_PARSE, "%s: not an ONNX model (corrupt or truncated protobuf)", path);
    if (m)
      onnx__model_proto__free_unpacked (m, NULL);
    return NULL;
  }
  OvaGraph *g = g_new0 (OvaGraph, 1);
  g->ref = 1;
  g->root = g;
  g->path = g_strdup (path);
  g->values = g_array_new (FALSE, TRUE, sizeof (OvaValue));
  g->nodes = g_array_new (FALSE, TRUE, sizeof (OvaNode));
  g->owned = g_ptr_array_new_with_free_func (g_free);
  g->opset = -1;
  const Onnx__GraphProto *gp = m->graph;

  for (size_t i = 0; i < m->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *o = m->opset_import[i];
    if ((!o->domain || !*o->domain || !strcmp (o->domain, "ai.onnx")) && o->has_version)
      g->opset = o->version;
  }
  if (g->opset < 0) {
    if (m->n_opset_import == 0)
      g->opset = 1; /* very old files */
    else {
      LOAD_ERR (error, OVA_ENGINE_ERROR_UNSUPPORTED, "%s: model imports no ai.onnx opset", path);
      goto fail;
    }
  }
  if (g->opset > 18 || g->opset < 1) {
    /* Operators see the model's opset and pick the matching semantics. */
    LOAD_ERR (error, OVA_ENGINE_ERROR_UNSUPPORTED, "%s: ai.onnx opset %d is not supported (up to 18)",
              path, g->opset);
    goto fail;
  }

  /* Initialisers. */
  for (size_t i = 0; i < gp->n_initializer; i++) {
    const Onnx__TensorProto *tp = gp->initializer[i];
    if (!tp->name || !*tp->name) {
      LOAD_ERR (error, OVA_ENGINE_ERROR_PARSE, "%s: initialiser %zu has no name", path, i);
      goto fail;
    }
    int vi = value_for (g, tp->name);
    OvaValue *v = OVA_VALUE (g, vi);
    if (v->data) {
      LOAD_ERR (error, OVA_ENGINE_ERROR_PARSE, "%s: initialiser '%s' defined twice", path, tp->name);
      goto fail;
    }
    v->data = tensor_bytes (path, tp, &v->rank, v->dims, &v->dtype, error);
    if (!v->data)
      goto fail;
  }
  if (gp->n_sparse_initializer) {
    LOAD_ERR (error, OVA_ENGINE_ERROR_UNSUPPORTED, "%s: sparse initialisers are not supported", path);
    goto fail;
  }

  /* Graph inputs (initialisers may also be listed as inputs: they stay constants). */
  g->inputs = g_new0 (int, gp->n_input + 1);
  for (size_t i = 0; i < gp->n_input; i++) {
    const Onnx__ValueInfoProto *vi = gp->input[i];
    if (!vi->name || !*vi->name) {
      LOAD_ERR (error, OVA_ENGINE_ERROR_PARSE, "%s: graph input %zu has no name", path, i);
      goto fail;
    }
    int idx = value_for (g, vi->name);
    OvaValue *v = OVA_VALUE (g, idx);
    if (v->data)
      continue;
    if (!value_info_shape (g, vi, v, error))
      goto fail;
    if (v->rank < 0) {
      LOAD_ERR (error, OVA_ENGINE_ERROR_UNSUPPORTED, "%s: graph input '%s' has no shape", path, v->name);
      goto fail;
    }
    v->is_input = TRUE;
    g->inputs[g->n_inputs++] = idx;
  }

  /* Nodes. */
  for (size_t ni = 0; ni < gp->n_node; ni++) {
    const Onnx__NodeProto *np = gp->node[ni];
    OvaNode node = { 0 };
    node.op_type = own (g, g_strdup (np->op_type ? np->op_type : ""));
    node.name = own (g, np->name && *np->name ? g_strdup (np->name) : g_strdup_printf ("#%zu", ni));
    node.domain = own (g, g_strdup (np->domain ? np->domain : ""));
    node.opset = g->opset;
    char *where = g_strdup_printf ("%s: node '%s' (%s)", path, node.name, node.op_type);
    if (*node.domain && strcmp (node.domain, "ai.onnx")) {
      LOAD_ERR (error, OVA_ENGINE_ERROR_UNSUPPORTED, "%s: operator domain '%s' is not supported",
                where, node.domain);
      g_free (where);
      goto fail;
    }
    node.def = ova_op_lookup (node.op_type);
    if (!node.def) {
      LOAD_ERR (error, OVA_ENGINE_ERROR_UNSUPPORTED, "%s: unsupported operator", where);
      g_free (where);
      goto fail;
    }
    if (g->opset < node.def->since_opset && g->opset >= 11) {
      LOAD_ERR (error, OVA_ENGINE_ERROR_UNSUPPORTED, "%s: operator needs opset %d, model has %d",
                where, node.def->since_opset, g->opset);
      g_free (where);
      goto fail;
    }
    node.n_attrs = np->n_attribute;
    node.attrs = own (g, g_new0 (OvaAttr, np->n_attribute + 1));
    for (size_t a = 0; a < np->n_attribute; a++) {
      if (!convert_attr (g, np->attribute[a], &node.attrs[a], where, error)) {
        g_free (where);
        goto fail;
      }
    }
    node.n_inputs = np->n_input;
    node.inputs = g_new0 (int, np->n_input + 1);
    for (size_t k = 0; k < np->n_input; k++)
      node.inputs[k] = (np->input[k] && *np->input[k]) ? value_for (g, np->input[k]) : -1;
    node.n_outputs = np->n_output;
    node.outputs = g_new0 (int, np->n_output + 1);
    g_array_append_val (g->nodes, node); /* owns inputs/outputs from here */
    OvaNode *n = OVA_NODE (g, g->nodes->len - 1);
    for (size_t k = 0; k < np->n_output; k++) {
      if (!np->output[k] || !*np->output[k]) {
        n->outputs[k] = -1;
        continue;
      }
      int vi = value_for (g, np->output[k]);
      OvaValue *v = OVA_VALUE (g, vi);
      if (v->producer >= 0 || v->data || v->is_input) {
        LOAD_ERR (error, OVA_ENGINE_ERROR_PARSE, "%s: output '%s' is already defined", where, np->output[k]);
        g_free (where);
        goto fail;
      }
      v->producer = g->nodes->len - 1;
      n->outputs[k] = vi;
    }
    g_free (where);
  }

  g->outputs = g_new0 (int, gp->n_output + 1);
  for (size_t i = 0; i < gp->n_output; i++) {
    const Onnx__ValueInfoProto *vi = gp->output[i];
    int idx = vi->name ? ova_graph_find_value (g, vi->name) : -1;
    if (idx < 0) {
      LOAD_ERR (error, OVA_ENGINE_ERROR_PARSE, "%s: graph output '%s' is produced by no node", path,
                vi->name ? vi->name : "");
      goto fail;
    }
    OvaValue *v = OVA_VALUE (g, idx);
    if (!v->data && v->producer < 0 && !v->is_input) {
      LOAD_ERR (error, OVA_ENGINE_ERROR_PARSE, "%s: graph output '%s' is produced by no node", path, v->name);
      goto fail;
    }
    /* Declared type and shape are only hints; inference decides. */
    OvaValue hint = { .name = v->name };
    if (!v->data && value_info_shape (g, vi, &hint, NULL) && !v->dtype)
      v->dtype = hint.dtype;
    v->is_output = TRUE;
    g->outputs[g->n_outputs++] = idx;
  }
  if (g->n_outputs == 0) {
    LOAD_ERR (error, OVA_ENGINE_ERROR_PARSE, "%s: graph has no outputs", path);
    goto fail;
  }

  /* Every node input must be defined (initialiser, graph input or an earlier
   * node; ONNX requires topological order). */
  for (guint ni = 0; ni < g->nodes->len; ni++) {
    OvaNode *n = OVA_NODE (g, ni);
    for (int k = 0; k < n->n_inputs; k++) {
      if (n->inputs[k] < 0)
        continue;
      OvaValue *v = OVA_VALUE (g, n->inputs[k]);
      if (!v->data && !v->is_input && (v->producer < 0 || v->producer >= (int) ni)) {
        LOAD_ERR (error, OVA_ENGINE_ERROR_PARSE,
                  "%s: node '%s' (%s): input '%s' is not defined before use", path, n->name,
                  n->op_type, v->name);
        goto fail;
      }
    }
  }
  onnx__model_proto__free_unpacked (m, NULL);
  ova_graph_count_uses (g);
  return g;

fail:
  onnx__model_proto__free_unpacked (m, NULL);
  ova_graph_unref (g);
  return NULL;
}

OvaGraph *
ova_graph_load (const char *path, GError **error)
{
  GError *e = NULL;
  GMappedFile *mf = g_mapped_file_new (path, FALSE, &e);
  if (!mf) {
    LOAD_ERR (error, OVA_ENGINE_ERROR_IO, "%s: cannot read model: %s", path, e->message);
    g_error_free (e);
    return NULL;
  }
  OvaGraph *g = ova_graph_load_from_data (path, g_mapped_file_get_contents (mf),
                                          g_mapped_file_get_length (mf), error);
  g_mapped_file_unref (mf);
  return g;
}

void
ova_tensor_ref_clear (OvaTensorRef *t)
{
  g_free (t->data);
  memset (t, 0, sizeof *t);
}

gboolean
ova_tensor_proto_load (const char *path, OvaTensorRef *out, char **name, GError **error)
{
  gchar *buf;
  gsize len;
  GError *e = NULL;
  memset (out, 0, sizeof *out);
  if (!g_file_get_contents (path, &buf, &len, &e)) {
    LOAD_ERR (error, OVA_ENGINE_ERROR_IO, "%s: %s", path, e->message);
    g_error_free (e);
    return FALSE;
  }
  Onnx__TensorProto *tp = onnx__tensor_proto__unpack (NULL, len, (const uint8_t *) buf);
  g_free (buf);
  if (!tp) {
    LOAD_ERR (error, OVA_ENGINE_ERROR_PARSE, "%s: not a TensorProto", path);
    return FALSE;
  }
  GBytes *b = tensor_bytes (path, tp, &out->rank, out->dims, &out->dtype, error);
  if (name)
    *name = g_strdup (tp->name ? tp->name : "");
  onnx__tensor_proto__free_unpacked (tp, NULL);
  if (!b)
    return FALSE;
  gsize sz;
  out->data = g_bytes_unref_to_data (b, &sz);
  if (!out->data)
    out->data = g_malloc0 (1);
  return TRUE;
}
