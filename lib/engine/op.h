/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Operator registry (internal): every ONNX operator the engine claims has one
 * OvaOpDef with shape/type inference and a plain-C reference kernel. Backends
 * replace hot operators with fast kernels (oneDNN, SIMD, CUDA) and are tested
 * against these references, which stay the definition of "correct".
 */
#ifndef OVA_ENGINE_OP_H
#define OVA_ENGINE_OP_H

#include <ova/engine.h>

G_BEGIN_DECLS

/* A tensor as operators see it: dense, row-major, host memory.
 * An absent optional input has dtype OVA_DTYPE_UNDEFINED and data NULL. */
typedef struct {
  OvaDataType dtype;
  int rank;
  int64_t dims[OVA_MAX_DIMS];
  void *data; /* NULL during inference of shapes unless the value is a known constant */
} OvaTensorRef;

typedef enum {
  OVA_ATTR_FLOAT = 1,
  OVA_ATTR_INT = 2,
  OVA_ATTR_STRING = 3,
  OVA_ATTR_TENSOR = 4,
  OVA_ATTR_FLOATS = 6,
  OVA_ATTR_INTS = 7,
  OVA_ATTR_STRINGS = 8,
} OvaAttrType; /* ONNX AttributeProto.AttributeType values */

typedef struct {
  const char *name;
  OvaAttrType type;
  float f;
  int64_t i;
  const char *s;       /* NUL-terminated */
  int n;               /* element count for FLOATS / INTS / STRINGS */
  const float *floats;
  const int64_t *ints;
  const char *const *strings;
  const OvaTensorRef *t;
} OvaAttr;

typedef struct {
  const char *op_type;
  const char *name;    /* node name (for errors) */
  const char *domain;  /* "" for ai.onnx */
  int opset;           /* opset version of the node's domain in the model */
  int n_attrs;
  const OvaAttr *attrs;
  int n_inputs, n_outputs;
} OvaOpNode;

/* Attribute lookup; the default is returned when absent. */
const OvaAttr *ova_op_attr (const OvaOpNode *node, const char *name);
int64_t ova_op_attr_int (const OvaOpNode *node, const char *name, int64_t def);
float ova_op_attr_float (const OvaOpNode *node, const char *name, float def);
const char *ova_op_attr_string (const OvaOpNode *node, const char *name, const char *def);
/* Returns the count, sets *out (not copied); 0 and *out = NULL when absent. */
int ova_op_attr_ints (const OvaOpNode *node, const char *name, const int64_t **out);
int ova_op_attr_floats (const OvaOpNode *node, const char *name, const float **out);

typedef struct {
  const char *op_type; /* ONNX name, domain "" */
  int since_opset;     /* lowest opset supported */
  /* Fills out[i].dtype/rank/dims from the inputs. Inputs that are graph
   * constants (initialisers, folded values) come with data != NULL, which
   * operators like Reshape, Slice, Expand need. Errors name node and op.
   * An output dim of -1 means "known only at run time" (a symbolic input dim,
   * or a size that depends on values that are not constants: NonZero,
   * NonMaxSuppression, Range, Resize scales from a graph input...): called
   * again with every input's data present, infer returns exact dims. */
  gboolean (*infer) (const OvaOpNode *node, const OvaTensorRef *in, int n_in,
                     OvaTensorRef *out, int n_out, GError **error);
  /* Reference kernel: out[i].data are preallocated with the inferred sizes. */
  gboolean (*run) (const OvaOpNode *node, const OvaTensorRef *in, int n_in,
                   OvaTensorRef *out, int n_out, GError **error);
} OvaOpDef;

/* (nullable) the definition of @op_type in domain "" or NULL if unsupported. */
const OvaOpDef *ova_op_lookup (const char *op_type);
/* All registered operators, NULL-terminated (docs/engine.md lists them). */
const OvaOpDef *const *ova_op_list (void);

int64_t ova_tensor_ref_numel (const OvaTensorRef *t);
size_t ova_tensor_ref_bytes (const OvaTensorRef *t);

/* Runs one node whose output sizes are known only from its input values
 * (dims -1 after load-time inference: NonZero, NonMaxSuppression, ...): infers
 * with every input's data present, allocates each output with @alloc (bytes
 * may be 0) and runs the reference kernel. out[i] gets dtype, dims and data. */
gboolean ova_op_run_dynamic (const OvaOpDef *def, const OvaOpNode *node, const OvaTensorRef *in,
                             int n_in, OvaTensorRef *out, int n_out,
                             void *(*alloc) (gpointer user, size_t bytes), gpointer user,
                             GError **error);

G_END_DECLS

#endif /* OVA_ENGINE_OP_H */
