/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * The engine's intermediate representation (internal): a graph of typed
 * values and nodes, loaded from ONNX, specialised to concrete input shapes,
 * optimised by passes and laid out in one activation arena.
 */
#ifndef OVA_ENGINE_GRAPH_H
#define OVA_ENGINE_GRAPH_H

#include <ova/engine.h>
#include "op.h"

#include <string.h>

G_BEGIN_DECLS

/* Activation memory layouts a backend may prefer. */
typedef enum {
  OVA_LAYOUT_PLAIN = 0,   /* dense row-major (ONNX's) */
  OVA_LAYOUT_BLOCKED16,   /* NCHW with channels in blocks of 16 (nChw16c), C padded */
  OVA_LAYOUT_BLOCKED8,    /* nChw8c */
  OVA_LAYOUT_NHWC,        /* channels last */
} OvaLayout;

typedef struct {
  char *name;
  OvaDataType dtype;
  int rank;                      /* -1 while unknown */
  int64_t dims[OVA_MAX_DIMS];    /* symbolic dims are -1 in the loaded graph */
  GBytes *data;                  /* constant value (initialiser / folded) or NULL */
  int producer;                  /* node index, -1 for graph inputs and constants */
  int n_uses;
  gboolean is_input, is_output;
  /* Set by the planner. */
  OvaLayout layout;
  int alias_of;                  /* value whose buffer this one shares (views), or -1 */
  int64_t alias_offset;          /* bytes into alias_of's buffer (concat written in place) */
  int64_t offset;                /* byte offset in the arena, -1 if none */
  size_t bytes;                  /* bytes in the arena (layout padding included) */
} OvaValue;

typedef enum {
  OVA_POST_NONE = 0,
  OVA_POST_RELU,
  OVA_POST_LEAKY_RELU,   /* alpha */
  OVA_POST_SIGMOID,
  OVA_POST_SILU,         /* x * sigmoid(x) */
  OVA_POST_HARD_SWISH,
  OVA_POST_HARD_SIGMOID, /* alpha, beta */
  OVA_POST_CLIP,         /* alpha = min, beta = max */
  OVA_POST_TANH,
  OVA_POST_ADD,          /* + value `operand` (same shape as the output) */
} OvaPostKind;

typedef struct {
  OvaPostKind kind;
  float alpha, beta;
  int operand;           /* value index for OVA_POST_ADD */
} OvaPostOp;

#define OVA_MAX_POST_OPS 4

typedef struct {
  const char *op_type;   /* borrowed from the root graph */
  const char *name;
  const char *domain;
  int opset;
  int n_attrs;
  OvaAttr *attrs;        /* borrowed from the root graph */
  int n_inputs, n_outputs;
  int *inputs;           /* value indices, -1 for an absent optional input */
  int *outputs;
  const OvaOpDef *def;
  gboolean dead;
  int n_post;
  OvaPostOp post[OVA_MAX_POST_OPS]; /* fused element-wise epilogue, in order */
} OvaNode;

typedef struct _OvaGraph OvaGraph;
struct _OvaGraph {
  gint ref;
  char *path;            /* model file, for errors */
  OvaGraph *root;        /* owner of names and attributes (self for a loaded graph) */
  GArray *values;        /* OvaValue */
  GArray *nodes;         /* OvaNode */
  int n_inputs, n_outputs;
  int *inputs, *outputs; /* value indices */
  int opset;             /* ai.onnx opset */
  /* Owned storage for names/attributes (root only). */
  GPtrArray *owned;
  GHashTable *by_name;   /* value name -> index + 1 */
};

/* Copies @n bytes into a zero-padded buffer (never reads past @p + @n). */
static inline void *
ova_memdup_pad (const void *p, size_t n)
{
  void *d = g_malloc0 (n + 8);
  if (n)
    memcpy (d, p, n);
  return d;
}

#define OVA_VALUE(g, i) (&g_array_index ((g)->values, OvaValue, (i)))
#define OVA_NODE(g, i) (&g_array_index ((g)->nodes, OvaNode, (i)))

/* loader.c */
OvaGraph *ova_graph_load (const char *path, GError **error);
OvaGraph *ova_graph_load_from_data (const char *path, const void *data, size_t len,
                                    GError **error);
/* Parses a serialised TensorProto (ONNX test data). */
gboolean ova_tensor_proto_load (const char *path, OvaTensorRef *out, char **name, GError **error);
void ova_tensor_ref_clear (OvaTensorRef *t);

/* graph.c */
OvaGraph *ova_graph_ref (OvaGraph *g);
void ova_graph_unref (OvaGraph *g);
OvaGraph *ova_graph_copy (OvaGraph *g);
int ova_graph_add_value (OvaGraph *g, const char *name);
int ova_graph_find_value (OvaGraph *g, const char *name);
void ova_graph_count_uses (OvaGraph *g);
char *ova_graph_node_where (OvaGraph *g, int node);
gboolean ova_value_is_const (const OvaValue *v);
int64_t ova_value_numel (const OvaValue *v);
void ova_value_ref (const OvaValue *v, OvaTensorRef *t);
char *ova_dims_to_string (int rank, const int64_t *dims);
/* Serialisation of a specialised graph (the plan cache). */
GBytes *ova_graph_serialize (OvaGraph *g);
OvaGraph *ova_graph_deserialize (const char *path, GBytes *bytes, GError **error);

G_END_DECLS

#endif
