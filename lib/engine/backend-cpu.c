/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * The CPU backend: oneDNN (dnnl.h C API) for convolution with fused post-ops,
 * pooling, binary, eltwise, concat and resampling; the operators' plain-C
 * reference kernels for everything else.
 *
 * Layout pass: 4-D fp32 activations that flow between oneDNN kernels are kept
 * in oneDNN's channel-blocked layout (nChw16c); a value is plain (NCHW)
 * whenever a reference kernel, a view (Reshape...) or the caller touches it.
 * oneDNN kernels read and write either layout, so no reorder nodes are needed
 * at the boundaries; a kernel that oneDNN turns down at compile time runs its
 * reference kernel through reorders (adapters) instead.
 */
#include "plan.h"

#include <dnnl.h>
#include <float.h>
#include <immintrin.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BLOCK 16

typedef enum {
  K_REF = 0,
  K_CONV,
  K_POOL,
  K_BINARY,
  K_ELTWISE,
  K_CONCAT,
  K_RESAMPLE,
  K_NOOP,     /* Concat written in place by its producers */
  K_SOFTMAX,  /* Softmax / LogSoftmax over one axis */
  K_MATMUL,   /* Gemm (no transA, alpha = beta = 1), MatMul with a 2-D B */
  K_LAYERNORM,
  K_DECONV,   /* ConvTranspose */
} KernelKind;

#define MAX_ARGS 40

typedef struct Kernel Kernel;
struct Kernel {
  KernelKind kind;
  dnnl_primitive_t prim;
  int n_args;
  dnnl_exec_arg_t args[MAX_ARGS];
  int arg_value[MAX_ARGS];          /* value bound to the arg, -1 for owned memory */
  dnnl_memory_desc_t arg_md[MAX_ARGS];
  /* Conv with a residual add: the operand is copied (reordered) into dst first. */
  dnnl_primitive_t pre;
  dnnl_memory_t pre_src, pre_dst;
  int pre_value, pre_dst_value;     /* pre_dst_value -1: pre_dst is the dst scratch */
  /* Conv with a residual add as a binary post-op (no copy): its index in
   * the post-op chain, -1 when the sum post-op (and the copy above) is used */
  int c_bin_index;
  dnnl_memory_desc_t c_bin_md;
  /* Conv whose last post-op, SiLU, ova applies to dst after the kernel
   * (silu_arg: the dst arg, -1 when oneDNN applies it) */
  gboolean c_silu_after;
  int silu_arg;
  /* Conv whose preferred src/dst layout differs from the value's: reorders
   * through scratch memory (owned) around the primitive. */
  dnnl_primitive_t in_re, out_re;
  dnnl_memory_t in_re_src, in_re_dst, out_re_src, out_re_dst;
  int in_re_value, out_re_value;
  /* conv compile, first half (run in parallel): the primitive and what the
   * second half needs */
  dnnl_primitive_desc_t pd;
  dnnl_memory_desc_t c_src, c_dst, c_wplain, c_bias;
  gboolean c_has_bias, c_ok;
  /* user-managed scratchpad (one buffer per plan, kernels run one at a time):
   * oneDNN's own is per creating thread, and plans are compiled on one
   * thread and run on another */
  dnnl_memory_desc_t sp_md;
  size_t sp_size;
  dnnl_memory_t sp_mem;
  int nthr;                         /* threads this kernel is made for and runs with */
  /* Reference fallback on blocked values: plain scratch copies. */
  gboolean adapt;
  void **scratch;                   /* per input then per output, NULL when plain */
  dnnl_primitive_t *to_plain, *from_plain;
  dnnl_memory_t *ad_a, *ad_b;
  int n_adapt;
  /* Conv split by output channels (batch 1, intra-op threads): this kernel
   * computes channels [c0, c1) (c1 0: all), the other parts run at the same
   * time on the plan's helper threads; each part is single-threaded. */
  int64_t c0, c1;
  /* or split by output rows (dst of one channel block): rows [r0, r1) (r1 0:
   * all), reading src rows [rc_row, rc_row + rc_rows) — copied into owned
   * memory first when the src is plain with several channels (row_copy) */
  int64_t r0, r1, rc_row, rc_rows;
  gboolean row_copy;
  dnnl_memory_t rc_mem;
  int part;                         /* 0: the node's own kernel, 1..: parts[part - 1] */
  int n_parts;
  Kernel *parts;                    /* n_parts - 1 */
  int64_t arg_offset[MAX_ARGS];     /* bytes past the bound value's address */
};

typedef struct {
  dnnl_engine_t eng;
  dnnl_stream_t stream;
  Kernel *k; /* per position in plan->order */
  int n;
  GPtrArray *owned_mem; /* dnnl_memory_t with their own buffers (weights) */
  void *scratch;        /* scratchpad shared by the plan's kernels */
  int nthr;             /* threads the kernels are created for and run with */
  int n_helpers;        /* threads running the other parts of split convolutions */
  struct Helper *helpers;
  size_t sp_stride;     /* scratchpad bytes per part */
  gboolean rest_serial; /* kernels not split run on one thread */
  /* from a plan file (cpu_deserialize): convolution weights already in the
   * layout their kernels wanted, used in place */
  GBytes *wblob;
  int n_w;
  int *w_pos;
  dnnl_memory_desc_t *w_md;
  const guint8 **w_data;
} CpuState;

static dnnl_engine_t shared_engine;
static GMutex engine_lock;

static gboolean
dnnl_ok (dnnl_status_t s, const char *what, OvaPlan *plan, int ni, GError **error)
{
  if (s == dnnl_success)
    return TRUE;
  char *w = ni >= 0 ? ova_graph_node_where (plan->g, ni) : g_strdup (plan->g->path);
  g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_BACKEND, "%s: oneDNN %s failed (status %d)", w, what, s);
  g_free (w);
  return FALSE;
}

static OvaPrecision
cpu_precision (OvaPrecision p)
{
  return OVA_PRECISION_FP32;
}

/* ------------------------------------------------------------------------ */
/* Which nodes oneDNN runs. */

static OvaOpNode
opnode (const OvaNode *n)
{
  OvaOpNode on = { n->op_type, n->name, n->domain, n->opset, n->n_attrs, n->attrs, n->n_inputs, n->n_outputs };
  return on;
}

static gboolean
is_f32_4d (OvaGraph *g, int v)
{
  if (v < 0)
    return FALSE;
  OvaValue *x = OVA_VALUE (g, v);
  return x->dtype == OVA_DTYPE_FLOAT32 && x->rank == 4;
}

static gboolean
binary_alg (const char *op, dnnl_alg_kind_t *alg)
{
  if (!strcmp (op, "Add")) *alg = dnnl_binary_add;
  else if (!strcmp (op, "Mul")) *alg = dnnl_binary_mul;
  else if (!strcmp (op, "Sub")) *alg = dnnl_binary_sub;
  else if (!strcmp (op, "Div")) *alg = dnnl_binary_div;
  else if (!strcmp (op, "Max")) *alg = dnnl_binary_max;
  else if (!strcmp (op, "Min")) *alg = dnnl_binary_min;
  else return FALSE;
  return TRUE;
}

static gboolean
eltwise_alg (OvaGraph *g, const OvaNode *n, dnnl_alg_kind_t *alg, float *alpha, float *beta)
{
  OvaOpNode on = opnode (n);
  const char *op = n->op_type;
  *alpha = 0;
  *beta = 0;
  if (!strcmp (op, "Relu")) *alg = dnnl_eltwise_relu;
  else if (!strcmp (op, "LeakyRelu")) { *alg = dnnl_eltwise_relu; *alpha = ova_op_attr_float (&on, "alpha", 0.01f); }
  else if (!strcmp (op, "Sigmoid")) *alg = dnnl_eltwise_logistic;
  else if (!strcmp (op, "Tanh")) *alg = dnnl_eltwise_tanh;
  else if (!strcmp (op, "HardSwish")) *alg = dnnl_eltwise_hardswish;
  else if (!strcmp (op, "Exp")) *alg = dnnl_eltwise_exp;
  else if (!strcmp (op, "Abs")) *alg = dnnl_eltwise_abs;
  else if (!strcmp (op, "Sqrt")) *alg = dnnl_eltwise_sqrt;
  else if (!strcmp (op, "Elu")) { *alg = dnnl_eltwise_elu; *alpha = ova_op_attr_float (&on, "alpha", 1.f); }
  else return FALSE;
  return TRUE;
}

static KernelKind
kernel_kind (OvaGraph *g, const OvaNode *n)
{
  const char *op = n->op_type;
  OvaOpNode on = opnode (n);
  if (n->n_outputs < 1 || n->outputs[0] < 0 || n->n_inputs < 1 || n->inputs[0] < 0 ||
      OVA_VALUE (g, n->outputs[0])->dtype != OVA_DTYPE_FLOAT32 || OVA_VALUE (g, n->inputs[0])->dtype != OVA_DTYPE_FLOAT32)
    return K_REF;
  if ((!strcmp (op, "Softmax") || !strcmp (op, "LogSoftmax")) && n->n_inputs == 1) {
    OvaValue *x = OVA_VALUE (g, n->inputs[0]);
    int64_t axis = ova_op_attr_int (&on, "axis", n->opset < 13 ? 1 : -1);
    if (axis < 0)
      axis += x->rank;
    /* before opset 13 the axes from `axis` on are flattened: one axis only when it is the last */
    if (x->rank < 1 || x->rank > 6 || axis < 0 || axis >= x->rank || (n->opset < 13 && axis != x->rank - 1) ||
        ova_value_numel (x) == 0)
      return K_REF;
    return K_SOFTMAX;
  }
  if ((!strcmp (op, "Gemm") || !strcmp (op, "MatMul")) && n->n_inputs >= 2 && n->inputs[1] >= 0) {
    OvaValue *a = OVA_VALUE (g, n->inputs[0]), *b = OVA_VALUE (g, n->inputs[1]);
    if (b->dtype != OVA_DTYPE_FLOAT32 || b->rank != 2 || a->rank < 2 || ova_value_numel (a) == 0 ||
        ova_value_numel (b) == 0)
      return K_REF;
    if (!strcmp (op, "Gemm")) {
      if (a->rank != 2 || ova_op_attr_int (&on, "transA", 0) || ova_op_attr_float (&on, "alpha", 1.f) != 1.f ||
          ova_op_attr_float (&on, "beta", 1.f) != 1.f)
        return K_REF;
      if (n->n_inputs > 2 && n->inputs[2] >= 0) {
        OvaValue *c = OVA_VALUE (g, n->inputs[2]);
        int64_t nn = OVA_VALUE (g, n->outputs[0])->dims[1];
        if (!c->data || c->dtype != OVA_DTYPE_FLOAT32 || ova_value_numel (c) != nn ||
            (c->rank == 2 && c->dims[0] != 1) || c->rank > 2)
          return K_REF;
      }
    }
    return K_MATMUL;
  }
  if (!strcmp (op, "LayerNormalization") && n->n_inputs >= 2) {
    OvaValue *x = OVA_VALUE (g, n->inputs[0]);
    int64_t axis = ova_op_attr_int (&on, "axis", -1);
    if (axis < 0)
      axis += x->rank;
    int64_t inner = 1;
    for (int d = MAX (axis, 0); d < x->rank; d++)
      inner *= x->dims[d];
    for (int k = 1; k < n->n_outputs; k++)
      if (n->outputs[k] >= 0 && OVA_VALUE (g, n->outputs[k])->n_uses > 0)
        return K_REF; /* mean / inverse std-dev wanted */
    for (int k = 1; k < MIN (n->n_inputs, 3); k++) {
      OvaValue *c = n->inputs[k] >= 0 ? OVA_VALUE (g, n->inputs[k]) : NULL;
      if (c && (c->dtype != OVA_DTYPE_FLOAT32 || ova_value_numel (c) != inner))
        return K_REF; /* scale / bias broadcast other than over the normalised dims */
    }
    if (axis < 0 || axis >= x->rank || inner == 0 || ova_value_numel (x) == 0)
      return K_REF;
    return K_LAYERNORM;
  }
  if (!is_f32_4d (g, n->outputs[0]))
    return K_REF;
  if (!strcmp (op, "Conv")) {
    if (n->n_inputs < 2 || !is_f32_4d (g, n->inputs[0]) || !OVA_VALUE (g, n->inputs[1])->data ||
        (n->n_inputs > 2 && n->inputs[2] >= 0 && !OVA_VALUE (g, n->inputs[2])->data))
      return K_REF;
    return K_CONV;
  }
  if (!strcmp (op, "ConvTranspose")) {
    if (n->n_inputs < 2 || !is_f32_4d (g, n->inputs[0]) || !OVA_VALUE (g, n->inputs[1])->data ||
        OVA_VALUE (g, n->inputs[1])->rank != 4 ||
        (n->n_inputs > 2 && n->inputs[2] >= 0 && !OVA_VALUE (g, n->inputs[2])->data) ||
        ova_op_attr (&on, "output_shape") || strcmp (ova_op_attr_string (&on, "auto_pad", "NOTSET"), "NOTSET"))
      return K_REF;
    for (int k = 0; k < n->n_post; k++)
      if (n->post[k].kind == OVA_POST_ADD)
        return K_REF;
    return K_DECONV;
  }
  if (!strcmp (op, "MaxPool") || !strcmp (op, "AveragePool")) {
    if (!is_f32_4d (g, n->inputs[0]) || (n->n_outputs > 1 && n->outputs[1] >= 0))
      return K_REF;
    const int64_t *k;
    if (ova_op_attr_ints (&on, "kernel_shape", &k) != 2)
      return K_REF;
    return K_POOL;
  }
  if (!strcmp (op, "GlobalAveragePool") || !strcmp (op, "GlobalMaxPool"))
    return is_f32_4d (g, n->inputs[0]) ? K_POOL : K_REF;
  dnnl_alg_kind_t alg;
  float a, b;
  if (binary_alg (op, &alg) && n->n_inputs == 2) {
    OvaValue *y = OVA_VALUE (g, n->outputs[0]);
    for (int k = 0; k < 2; k++) {
      OvaValue *x = OVA_VALUE (g, n->inputs[k]);
      if (x->dtype != OVA_DTYPE_FLOAT32 || x->rank > 4)
        return K_REF;
    }
    /* src0 must have the output's shape (swap commutative operands). */
    OvaValue *x0 = OVA_VALUE (g, n->inputs[0]), *x1 = OVA_VALUE (g, n->inputs[1]);
    gboolean full0 = x0->rank == 4 && !memcmp (x0->dims, y->dims, sizeof (int64_t) * 4);
    gboolean full1 = x1->rank == 4 && !memcmp (x1->dims, y->dims, sizeof (int64_t) * 4);
    gboolean commutative = alg == dnnl_binary_add || alg == dnnl_binary_mul || alg == dnnl_binary_max || alg == dnnl_binary_min;
    if (!full0 && !(full1 && commutative))
      return K_REF;
    if (n->inputs[0] == n->inputs[1])
      return K_REF;
    return K_BINARY;
  }
  if (eltwise_alg (g, n, &alg, &a, &b) && n->n_inputs == 1)
    return is_f32_4d (g, n->inputs[0]) ? K_ELTWISE : K_REF;
  if (!strcmp (op, "Concat")) {
    for (int k = 0; k < n->n_inputs; k++)
      if (!is_f32_4d (g, n->inputs[k]))
        return K_REF;
    return K_CONCAT;
  }
  if (!strcmp (op, "Resize") || !strcmp (op, "Upsample")) {
    OvaValue *x = OVA_VALUE (g, n->inputs[0]), *y = OVA_VALUE (g, n->outputs[0]);
    if (!is_f32_4d (g, n->inputs[0]) || x->dims[0] != y->dims[0] || x->dims[1] != y->dims[1])
      return K_REF;
    const char *mode = ova_op_attr_string (&on, "mode", "nearest");
    const char *ctm = ova_op_attr_string (&on, "coordinate_transformation_mode", "half_pixel");
    if (!strcmp (op, "Upsample") || n->opset < 11)
      ctm = "asymmetric";
    if (!strcmp (mode, "nearest")) {
      const char *nm = ova_op_attr_string (&on, "nearest_mode", "round_prefer_floor");
      if (strcmp (ctm, "asymmetric") || (strcmp (nm, "floor") && strcmp (op, "Upsample") && n->opset >= 11))
        return K_REF;
      /* oneDNN's nearest equals ONNX's asymmetric/floor for integer upscales. */
      for (int d = 2; d < 4; d++)
        if (y->dims[d] % x->dims[d])
          return K_REF;
      return K_RESAMPLE;
    }
    if (!strcmp (mode, "linear") && (!strcmp (ctm, "half_pixel") || !strcmp (ctm, "pytorch_half_pixel"))) {
      for (int d = 2; d < 4; d++)
        if (y->dims[d] < 2)
          return K_REF;
      if (ova_op_attr_int (&on, "antialias", 0))
        return K_REF;
      return K_RESAMPLE;
    }
    return K_REF;
  }
  return K_REF;
}

/* The layout of activations between oneDNN kernels (OVA_CPU_LAYOUT=nhwc
 * picks channels-last instead of nChw16c). */
static OvaLayout
activation_layout (void)
{
  static int l = -1;
  if (l < 0)
    l = g_strcmp0 (g_getenv ("OVA_CPU_LAYOUT"), "nhwc") ? OVA_LAYOUT_BLOCKED16 : OVA_LAYOUT_NHWC;
  return l;
}

/* Whether @kind can take (input) / give (output) blocked values. */
static gboolean
blocked_friendly (OvaGraph *g, const OvaNode *n, KernelKind kind)
{
  if (kind == K_REF || kind == K_SOFTMAX || kind == K_MATMUL || kind == K_LAYERNORM)
    return FALSE;
  if (kind == K_CONCAT) {
    OvaOpNode on = opnode (n);
    int64_t axis = ova_op_attr_int (&on, "axis", 1);
    if (axis != 1 && axis != -3)
      return FALSE;
    for (int k = 0; k < n->n_inputs; k++)
      if (OVA_VALUE (g, n->inputs[k])->dims[1] % BLOCK && activation_layout () == OVA_LAYOUT_BLOCKED16)
        return FALSE;
  }
  if (kind == K_BINARY) {
    /* broadcast operands other than per-channel/scalar stay plain-only */
    for (int k = 0; k < 2; k++) {
      OvaValue *x = OVA_VALUE (g, n->inputs[k]);
      if (x->rank == 4 && x->dims[1] != OVA_VALUE (g, n->outputs[0])->dims[1] && x->dims[1] != 1)
        return FALSE;
    }
  }
  return TRUE;
}

static void
assign_layouts (OvaPlan *plan, KernelKind *kinds)
{
  OvaGraph *g = plan->g;
  int nv = g->values->len;
  /* consumer friendliness per value */
  gboolean *ok = g_new (gboolean, nv);
  for (int i = 0; i < nv; i++) {
    OvaValue *v = OVA_VALUE (g, i);
    ok[i] = v->dtype == OVA_DTYPE_FLOAT32 && v->rank == 4 && !v->data && !v->is_input && !v->is_output &&
            v->alias_of < 0;
  }
  for (int pos = 0; pos < plan->n_order; pos++) {
    int ni = plan->order[pos];
    OvaNode *n = OVA_NODE (g, ni);
    gboolean friendly = blocked_friendly (g, n, kinds[pos]);
    for (int k = 0; k < n->n_inputs; k++)
      if (n->inputs[k] >= 0 && !friendly)
        ok[n->inputs[k]] = FALSE;
    if (!friendly || kinds[pos] != K_CONV)
      for (int k = 0; k < n->n_post; k++)
        if (n->post[k].kind == OVA_POST_ADD)
          ok[n->post[k].operand] = FALSE;
    if (!friendly)
      for (int k = 0; k < n->n_outputs; k++)
        if (n->outputs[k] >= 0)
          ok[n->outputs[k]] = FALSE;
  }
  for (int i = 0; i < nv; i++) {
    OvaValue *v = OVA_VALUE (g, i);
    if (v->alias_of >= 0)
      ok[v->alias_of] = FALSE;
  }
  for (int i = 0; i < nv; i++) {
    OvaValue *v = OVA_VALUE (g, i);
    if (ok[i]) {
      v->layout = activation_layout ();
      int64_t c = v->layout == OVA_LAYOUT_BLOCKED16 ? (v->dims[1] + BLOCK - 1) / BLOCK * BLOCK : v->dims[1];
      v->bytes = (size_t) v->dims[0] * c * v->dims[2] * v->dims[3] * sizeof (float);
    } else {
      v->layout = OVA_LAYOUT_PLAIN;
    }
  }
  g_free (ok);
}

/* ------------------------------------------------------------------------ */

static dnnl_format_tag_t
plain_tag (int rank)
{
  static const dnnl_format_tag_t t[] = { dnnl_a, dnnl_a, dnnl_ab, dnnl_abc, dnnl_abcd, dnnl_abcde, dnnl_abcdef };
  return rank >= 0 && rank <= 6 ? t[rank] : dnnl_format_tag_undef;
}

static gboolean
value_md (OvaGraph *g, int v, dnnl_memory_desc_t *md, int force_rank)
{
  OvaValue *x = OVA_VALUE (g, v);
  dnnl_dims_t dims;
  int rank = x->rank;
  if (force_rank > rank) {
    /* numpy broadcasting: leading 1s */
    for (int i = 0; i < force_rank; i++)
      dims[i] = i < force_rank - rank ? 1 : x->dims[i - (force_rank - rank)];
    rank = force_rank;
  } else {
    for (int i = 0; i < rank; i++)
      dims[i] = x->dims[i];
  }
  if (rank == 0) {
    dims[0] = 1;
    rank = 1;
  }
  dnnl_format_tag_t tag = x->layout == OVA_LAYOUT_BLOCKED16 ? dnnl_nChw16c
                          : x->layout == OVA_LAYOUT_NHWC  ? dnnl_nhwc
                                                          : plain_tag (rank);
  return dnnl_memory_desc_init_by_tag (md, rank, dims, dnnl_f32, tag) == dnnl_success;
}

static void
add_arg_at (Kernel *k, int arg, int value, const dnnl_memory_desc_t *md, int64_t offset)
{
  k->args[k->n_args].arg = arg;
  k->args[k->n_args].memory = NULL;
  k->arg_value[k->n_args] = value;
  k->arg_md[k->n_args] = *md;
  k->arg_offset[k->n_args] = offset;
  k->n_args++;
}

static void
add_arg (Kernel *k, int arg, int value, const dnnl_memory_desc_t *md)
{
  add_arg_at (k, arg, value, md, 0);
}

/* value_md with @c channels (a part of a split convolution) */
static gboolean
value_md_part (OvaGraph *g, int v, dnnl_memory_desc_t *md, int64_t c, int64_t h)
{
  OvaValue *x = OVA_VALUE (g, v);
  if (x->rank != 4)
    return FALSE;
  dnnl_dims_t dims = { x->dims[0], c, h, x->dims[3] };
  dnnl_format_tag_t tag = x->layout == OVA_LAYOUT_BLOCKED16 ? dnnl_nChw16c : x->layout == OVA_LAYOUT_NHWC ? dnnl_nhwc : dnnl_nchw;
  return dnnl_memory_desc_init_by_tag (md, 4, dims, dnnl_f32, tag) == dnnl_success;
}

#define IS_PART(k) ((k)->c1 || (k)->r1)

static void
note_scratchpad (Kernel *k, const_dnnl_primitive_desc_t pd)
{
  const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md (pd, dnnl_query_scratchpad_md, 0);
  k->sp_size = md ? dnnl_memory_desc_get_size (md) : 0;
  if (k->sp_size)
    k->sp_md = *md;
}

static gboolean
make_prim (Kernel *k, const void *desc, dnnl_primitive_attr_t attr, dnnl_engine_t eng, dnnl_primitive_desc_t *pd_out)
{
  dnnl_primitive_desc_t pd;
  dnnl_primitive_attr_t own = NULL;
  if (!attr)
    dnnl_primitive_attr_create (&own);
  dnnl_primitive_attr_set_scratchpad_mode (attr ? attr : own, dnnl_scratchpad_mode_user);
  dnnl_status_t st = dnnl_primitive_desc_create (&pd, desc, attr ? attr : own, eng, NULL);
  if (own)
    dnnl_primitive_attr_destroy (own);
  if (st != dnnl_success)
    return FALSE;
  gboolean ok = dnnl_primitive_create (&k->prim, pd) == dnnl_success;
  if (ok)
    note_scratchpad (k, pd);
  if (pd_out && ok)
    *pd_out = pd;
  else
    dnnl_primitive_desc_destroy (pd);
  return ok;
}

/* @add_md: the residual operand's layout, to add it with a binary post-op
 * (its index in the chain in *add_index); NULL: a sum post-op, the operand
 * being copied into dst first. */
static gboolean
append_post_ops (OvaPlan *plan, const OvaNode *n, int n_post, dnnl_post_ops_t po, const dnnl_memory_desc_t *add_md,
                 int *add_index)
{
  for (int i = 0; i < n_post; i++) {
    const OvaPostOp *p = &n->post[i];
    dnnl_status_t s = dnnl_success;
    switch (p->kind) {
      case OVA_POST_RELU: s = dnnl_post_ops_append_eltwise (po, 1.f, dnnl_eltwise_relu, 0, 0); break;
      case OVA_POST_LEAKY_RELU: s = dnnl_post_ops_append_eltwise (po, 1.f, dnnl_eltwise_relu, p->alpha, 0); break;
      case OVA_POST_SIGMOID: s = dnnl_post_ops_append_eltwise (po, 1.f, dnnl_eltwise_logistic, 0, 0); break;
      case OVA_POST_SILU: s = dnnl_post_ops_append_eltwise (po, 1.f, dnnl_eltwise_swish, 1.f, 0); break;
      case OVA_POST_HARD_SWISH: s = dnnl_post_ops_append_eltwise (po, 1.f, dnnl_eltwise_hardswish, 0, 0); break;
      case OVA_POST_TANH: s = dnnl_post_ops_append_eltwise (po, 1.f, dnnl_eltwise_tanh, 0, 0); break;
      case OVA_POST_CLIP: s = dnnl_post_ops_append_eltwise (po, 1.f, dnnl_eltwise_clip_v2, isinf (p->alpha) ? -FLT_MAX : p->alpha,
                                                           isinf (p->beta) ? FLT_MAX : p->beta); break;
      case OVA_POST_HARD_SIGMOID:
        s = dnnl_post_ops_append_eltwise (po, 1.f, dnnl_eltwise_linear, p->alpha, p->beta);
        if (s == dnnl_success)
          s = dnnl_post_ops_append_eltwise (po, 1.f, dnnl_eltwise_clip_v2, 0.f, 1.f);
        break;
      case OVA_POST_ADD:
        if (add_md) {
          *add_index = dnnl_post_ops_len (po);
          s = dnnl_post_ops_append_binary (po, dnnl_binary_add, add_md);
        } else
          s = dnnl_post_ops_append_sum (po, 1.f);
        break;
      default: return FALSE;
    }
    if (s != dnnl_success)
      return FALSE;
  }
  return TRUE;
}

static void
spatial_params (OvaGraph *g, const OvaNode *n, const OvaValue *x, const OvaValue *y, const int64_t *kernel,
                dnnl_dims_t strides, dnnl_dims_t dil, dnnl_dims_t pl, dnnl_dims_t pr, gboolean dil_minus_one)
{
  OvaOpNode on = opnode (n);
  const int64_t *s, *d, *p;
  int ns = ova_op_attr_ints (&on, "strides", &s), nd = ova_op_attr_ints (&on, "dilations", &d);
  int np = ova_op_attr_ints (&on, "pads", &p);
  const char *autopad = ova_op_attr_string (&on, "auto_pad", "NOTSET");
  for (int i = 0; i < 2; i++) {
    strides[i] = ns == 2 ? s[i] : 1;
    int64_t dl = nd == 2 ? d[i] : 1;
    dil[i] = dil_minus_one ? dl - 1 : dl;
    int64_t in = x->dims[2 + i], out = y->dims[2 + i];
    int64_t eff = (kernel[i] - 1) * dl + 1;
    int64_t total = (out - 1) * strides[i] + eff - in;
    if (!strcmp (autopad, "SAME_UPPER"))
      pl[i] = MAX (total, 0) / 2;
    else if (!strcmp (autopad, "SAME_LOWER"))
      pl[i] = MAX (total, 0) - MAX (total, 0) / 2;
    else if (!strcmp (autopad, "VALID"))
      pl[i] = 0;
    else
      pl[i] = np == 4 ? p[i] : 0;
    pr[i] = total - pl[i]; /* covers ceil_mode too */
  }
}

static dnnl_primitive_t
reorder_prim (CpuState *st, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to)
{
  dnnl_primitive_desc_t rpd;
  dnnl_primitive_t r = NULL;
  if (dnnl_reorder_primitive_desc_create (&rpd, from, st->eng, to, st->eng, NULL) != dnnl_success)
    return NULL;
  if (dnnl_primitive_create (&r, rpd) != dnnl_success)
    r = NULL;
  dnnl_primitive_desc_destroy (rpd);
  return r;
}

static dnnl_memory_t
owned_memory (CpuState *st, const dnnl_memory_desc_t *md)
{
  dnnl_memory_t m = NULL;
  if (dnnl_memory_create (&m, md, st->eng, DNNL_MEMORY_ALLOCATE) != dnnl_success)
    return NULL;
  g_ptr_array_add (st->owned_mem, m);
  return m;
}

/* SiLU, x / (1 + exp(-x)), 16 lanes at a time: exp by range reduction
 * (x = n ln2 + f), a degree-6 polynomial and scalef; the reciprocal by
 * rcp14 and one Newton step. Relative error ~1e-7 (float rounding). */
__attribute__ ((target ("avx512f"))) static void
silu_avx512 (float *p, size_t n)
{
  const __m512 log2e = _mm512_set1_ps (1.44269504f), ln2hi = _mm512_set1_ps (0.693359375f),
               ln2lo = _mm512_set1_ps (-2.12194440e-4f), one = _mm512_set1_ps (1.f), two = _mm512_set1_ps (2.f),
               lo = _mm512_set1_ps (-87.f), hi = _mm512_set1_ps (88.f);
  const __m512 c2 = _mm512_set1_ps (1.f / 2), c3 = _mm512_set1_ps (1.f / 6), c4 = _mm512_set1_ps (1.f / 24),
               c5 = _mm512_set1_ps (1.f / 120), c6 = _mm512_set1_ps (1.f / 720);
  for (size_t i = 0; i < n; i += 16) {
    __mmask16 m = n - i >= 16 ? 0xffff : (__mmask16) ((1u << (n - i)) - 1);
    __m512 x = _mm512_maskz_loadu_ps (m, p + i);
    __m512 t = _mm512_min_ps (_mm512_max_ps (_mm512_sub_ps (_mm512_setzero_ps (), x), lo), hi);
    __m512 k = _mm512_roundscale_ps (_mm512_mul_ps (t, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 f = _mm512_fnmadd_ps (k, ln2hi, t);
    f = _mm512_fnmadd_ps (k, ln2lo, f);
    __m512 q = _mm512_fmadd_ps (c6, f, c5);
    q = _mm512_fmadd_ps (q, f, c4);
    q = _mm512_fmadd_ps (q, f, c3);
    q = _mm512_fmadd_ps (q, f, c2);
    q = _mm512_fmadd_ps (q, f, one);
    q = _mm512_fmadd_ps (q, f, one);
    __m512 d = _mm512_add_ps (_mm512_scalef_ps (q, k), one);
    __m512 r = _mm512_rcp14_ps (d);
    r = _mm512_mul_ps (r, _mm512_fnmadd_ps (d, r, two));
    _mm512_mask_storeu_ps (p + i, m, _mm512_mul_ps (x, r));
  }
}

/* The vectorised SiLU needs AVX-512F (OVA_CPU_ONEDNN_SILU=1: leave SiLU to
 * oneDNN's post-op). */
static gboolean
silu_fast_available (void)
{
  return __builtin_cpu_supports ("avx512f") && !g_getenv ("OVA_CPU_ONEDNN_SILU");
}

static void
silu_run (float *p, size_t n, int nthr)
{
  if (nthr <= 1 || n < 32768) {
    silu_avx512 (p, n);
    return;
  }
#pragma omp parallel num_threads (nthr)
  {
    size_t t = omp_get_thread_num (), nt = omp_get_num_threads ();
    size_t chunk = ((n + nt - 1) / nt + 15) & ~(size_t) 15;
    size_t a = MIN (n, t * chunk), b = MIN (n, a + chunk);
    silu_avx512 (p + a, b - a);
  }
}

/* First half of a convolution's compile: descriptors and the primitive (the
 * JIT code generation, the slow part) — touches only @k, so several run in
 * parallel. */
static gboolean
compile_conv_prim (OvaPlan *plan, CpuState *st, Kernel *k, int ni)
{
  OvaGraph *g = plan->g;
  OvaNode *n = OVA_NODE (g, ni);
  OvaOpNode on = opnode (n);
  OvaValue *x = OVA_VALUE (g, n->inputs[0]), *w = OVA_VALUE (g, n->inputs[1]), *y = OVA_VALUE (g, n->outputs[0]);
  if (w->rank != 4)
    return FALSE;
  int64_t group = ova_op_attr_int (&on, "group", 1);
  int64_t kernel[2] = { w->dims[2], w->dims[3] };
  dnnl_dims_t strides, dil, pl, pr;
  spatial_params (g, n, x, y, kernel, strides, dil, pl, pr, TRUE);
  /* a part of a split conv: dst channels [c0, c0 + oc); a depthwise conv's
   * src and groups are split the same way */
  int64_t oc = k->c1 ? k->c1 - k->c0 : y->dims[1];
  gboolean dw = group > 1 && group == x->dims[1] && group == y->dims[1] && w->dims[1] == 1;
  int64_t ic = k->c1 && dw ? oc : x->dims[1];
  if (k->c1 && dw)
    group = oc;
  /* a part by rows: its output rows, the input rows they read, the padding
   * left at the top (first part) and bottom (last part) */
  int64_t ih = x->dims[2], oh = y->dims[2];
  if (k->r1) {
    int64_t eff = (kernel[0] - 1) * (dil[0] + 1) + 1;
    int64_t first = k->r0 * strides[0] - pl[0], end = (k->r1 - 1) * strides[0] - pl[0] + eff;
    k->rc_row = MAX (first, 0);
    k->rc_rows = MIN (end, ih) - k->rc_row;
    pl[0] = k->rc_row - first;
    oh = k->r1 - k->r0;
    ih = k->rc_rows;
    pr[0] = (oh - 1) * strides[0] + eff - ih - pl[0];
  }
  dnnl_memory_desc_t src_md, dst_md, src_any, dst_any, w_md, w_plain, b_md;
  if (!value_md_part (g, n->inputs[0], &src_md, ic, ih) || !value_md_part (g, n->outputs[0], &dst_md, oc, oh))
    return FALSE;
  dnnl_dims_t xd = { x->dims[0], ic, ih, x->dims[3] }, yd = { y->dims[0], oc, oh, y->dims[3] };
  dnnl_memory_desc_init_by_tag (&src_any, 4, xd, dnnl_f32, dnnl_format_tag_any);
  dnnl_memory_desc_init_by_tag (&dst_any, 4, yd, dnnl_f32, dnnl_format_tag_any);
  dnnl_memory_desc_t dst_blk;
  dnnl_memory_desc_init_by_tag (&dst_blk, 4, yd, dnnl_f32, dnnl_nChw16c);
  dnnl_dims_t wd;
  int wr;
  if (group > 1) {
    wd[0] = group; wd[1] = oc / group; wd[2] = w->dims[1]; wd[3] = w->dims[2]; wd[4] = w->dims[3];
    wr = 5;
  } else {
    for (int i = 0; i < 4; i++)
      wd[i] = w->dims[i];
    wd[0] = oc;
    wr = 4;
  }
  dnnl_memory_desc_init_by_tag (&w_md, wr, wd, dnnl_f32, dnnl_format_tag_any);
  dnnl_memory_desc_init_by_tag (&w_plain, wr, wd, dnnl_f32, wr == 5 ? dnnl_goihw : dnnl_oihw);
  dnnl_dims_t bd = { oc };
  dnnl_memory_desc_init_by_tag (&b_md, 1, bd, dnnl_f32, dnnl_a);
  gboolean has_bias = n->n_inputs > 2 && n->inputs[2] >= 0;
  /* A residual add is read by the kernel's epilogue (binary post-op) when the
   * operand has dst's layout and oneDNN has a fast kernel for that; else it is
   * copied into dst first and added by a sum post-op. */
  int add_operand = -1;
  for (int i = 0; i < n->n_post; i++)
    if (n->post[i].kind == OVA_POST_ADD)
      add_operand = n->post[i].operand;
  dnnl_memory_desc_t add_md;
  gboolean try_binary = add_operand >= 0 && OVA_VALUE (g, add_operand)->layout == y->layout &&
                        value_md_part (g, add_operand, &add_md, oc, oh) && !g_getenv ("OVA_CPU_RESIDUAL_SUM");
  k->c_bin_index = -1;
  /* A final SiLU runs after the kernel, with ova's vectorised SiLU: oneDNN's
   * swish post-op (exact exp and division per element) costs more than the
   * convolution itself on narrow layers. */
  gboolean silu_after = n->n_post > 0 && n->post[n->n_post - 1].kind == OVA_POST_SILU && silu_fast_available ();
  k->c_silu_after = silu_after;
  gboolean ok = TRUE;
  dnnl_primitive_desc_t pd = NULL;
  for (int binary = try_binary; binary >= 0 && !k->prim; binary--) {
    dnnl_primitive_attr_t attr;
    dnnl_post_ops_t po;
    dnnl_primitive_attr_create (&attr);
    dnnl_post_ops_create (&po);
    int add_index = -1;
    ok = append_post_ops (plan, n, n->n_post - silu_after, po, binary ? &add_md : NULL, &add_index) &&
         dnnl_primitive_attr_set_post_ops (attr, po) == dnnl_success;
    /* First the value's own layouts; if oneDNN has only its reference kernel
     * for them, let it choose (src/dst any) and reorder around it (not with
     * the binary post-op: its operand would have to be reordered too). */
    const dnnl_memory_desc_t *srcs[3] = { &src_md, &src_any }, *dsts[3] = { &dst_md, &dst_any };
    int n_att = binary || IS_PART (k) ? 1 : 2; /* a part takes its values' layouts or nothing */
    /* A plain dst from a blocked src (a head's output): oneDNN's kernels for
     * that mix are 1.5-2x slower than writing its blocked layout and
     * reordering (OVA_CPU_PLAIN_DST_DIRECT=1: write plain directly). */
    if (y->layout == OVA_LAYOUT_PLAIN && x->layout == OVA_LAYOUT_BLOCKED16 && !binary && !IS_PART (k) &&
        !g_getenv ("OVA_CPU_PLAIN_DST_DIRECT")) {
      srcs[0] = &src_md;
      dsts[0] = &dst_blk;
      srcs[1] = &src_md;
      dsts[1] = &dst_md;
      srcs[2] = &src_any;
      dsts[2] = &dst_any;
      n_att = 3;
    }
    for (int attempt = 0; ok && attempt < n_att && !k->prim; attempt++) {
      dnnl_convolution_desc_t cd;
      if (dnnl_dilated_convolution_forward_desc_init (&cd, dnnl_forward_inference, dnnl_convolution_direct,
                                                      srcs[attempt], &w_md, has_bias ? &b_md : NULL,
                                                      dsts[attempt], strides, dil, pl, pr) != dnnl_success)
        continue;
      if (!make_prim (k, &cd, attr, st->eng, &pd))
        continue;
      const char *impl = NULL;
      dnnl_primitive_desc_query (pd, dnnl_query_impl_info_str, 0, &impl);
      if ((attempt < n_att - 1 || IS_PART (k)) && impl && g_str_has_prefix (impl, "ref")) {
        dnnl_primitive_destroy (k->prim);
        k->prim = NULL;
        dnnl_primitive_desc_destroy (pd);
        pd = NULL;
      }
    }
    dnnl_post_ops_destroy (po);
    dnnl_primitive_attr_destroy (attr);
    if (k->prim && binary) {
      k->c_bin_index = add_index;
      k->c_bin_md = add_md;
    }
  }
  if (!ok || !k->prim)
    return FALSE;
  k->pd = pd;
  k->c_src = src_md;
  k->c_dst = dst_md;
  k->c_wplain = w_plain;
  k->c_bias = b_md;
  k->c_has_bias = has_bias;
  return TRUE;
}

/* Second half: weights reordered once, reorders around the kernel, args. */
static gboolean
compile_conv_finish (OvaPlan *plan, CpuState *st, Kernel *k, int ni)
{
  OvaGraph *g = plan->g;
  OvaNode *n = OVA_NODE (g, ni);
  OvaValue *w = OVA_VALUE (g, n->inputs[1]);
  dnnl_primitive_desc_t pd = k->pd;
  k->pd = NULL;
  dnnl_memory_desc_t src_md = k->c_src, dst_md = k->c_dst, w_plain = k->c_wplain, b_md = k->c_bias;
  gboolean has_bias = k->c_has_bias, ok;
  const dnnl_memory_desc_t *want_src = dnnl_primitive_desc_query_md (pd, dnnl_query_src_md, 0);
  const dnnl_memory_desc_t *want_dst = dnnl_primitive_desc_query_md (pd, dnnl_query_dst_md, 0);
  /* weights: reorder once into the layout the kernel wants */
  const dnnl_memory_desc_t *want = dnnl_primitive_desc_query_md (pd, dnnl_query_weights_md, 0);
  dnnl_memory_t wdst = NULL;
  int pos = k->part ? -1 : (int) (k - st->k);
  OvaValue *x = OVA_VALUE (g, n->inputs[0]), *y = OVA_VALUE (g, n->outputs[0]);
  OvaOpNode on = opnode (n);
  int64_t group = ova_op_attr_int (&on, "group", 1);
  gboolean dw = group > 1 && group == x->dims[1] && group == y->dims[1] && w->dims[1] == 1;
  /* a part's offsets: weights and bias rows, dst (and a depthwise src)
   * channels; channel c0 of a batch-1 NCHW or nChw16c tensor (c0 % 16 == 0)
   * starts at c0 * H * W */
  int64_t w_off = k->c0 * (ova_value_numel (w) / MAX (w->dims[0], 1)), b_off = k->c0;
  int64_t x_off = k->c1 && dw ? k->c0 * x->dims[2] * x->dims[3] * 4 : 0, y_off = k->c0 * y->dims[2] * y->dims[3] * 4;
  /* a part by rows: row r of a batch-1 tensor of one channel block (or one
   * plain channel) starts at r * W * 16 (r * W); a plain src of several
   * channels is copied */
  if (k->r1) {
    y_off = k->r0 * y->dims[3] * 16 * 4;
    if (x->layout == OVA_LAYOUT_BLOCKED16)
      x_off = k->rc_row * x->dims[3] * 16 * 4;
    else if (x->dims[1] == 1)
      x_off = k->rc_row * x->dims[3] * 4;
    else
      k->row_copy = TRUE;
  }
  if (IS_PART (k) && (!dnnl_memory_desc_equal (want_src, &src_md) || !dnnl_memory_desc_equal (want_dst, &dst_md))) {
    dnnl_primitive_desc_destroy (pd);
    return FALSE; /* parts are only made for the values' own layouts */
  }
  for (int i = 0; i < st->n_w && !wdst; i++) {
    if (st->w_pos[i] == pos && dnnl_memory_desc_equal (want, &st->w_md[i]) &&
        dnnl_memory_create (&wdst, want, st->eng, (void *) st->w_data[i]) == dnnl_success)
      g_ptr_array_add (st->owned_mem, wdst);
  }
  ok = TRUE;
  if (!wdst) {
    wdst = owned_memory (st, want);
    dnnl_memory_t wsrc;
    dnnl_memory_create (&wsrc, &w_plain, st->eng, (float *) g_bytes_get_data (w->data, NULL) + w_off);
    /* a small one-off copy: one thread beats waking a team */
    omp_set_num_threads (1);
    dnnl_primitive_t r = reorder_prim (st, &w_plain, want);
    ok = r && wdst;
    if (ok) {
      dnnl_exec_arg_t a[2] = { { DNNL_ARG_FROM, wsrc }, { DNNL_ARG_TO, wdst } };
      ok = dnnl_primitive_execute (r, st->stream, 2, a) == dnnl_success && dnnl_stream_wait (st->stream) == dnnl_success;
    }
    if (r)
      dnnl_primitive_destroy (r);
    omp_set_num_threads (k->nthr);
    dnnl_memory_destroy (wsrc);
  }
  if (!ok) {
    dnnl_primitive_desc_destroy (pd);
    return FALSE;
  }
  if (k->row_copy) {
    k->rc_mem = owned_memory (st, &src_md);
    if (!k->rc_mem) {
      dnnl_primitive_desc_destroy (pd);
      return FALSE;
    }
    add_arg (k, DNNL_ARG_SRC, -1, &src_md);
    k->args[k->n_args - 1].memory = k->rc_mem;
  } else if (dnnl_memory_desc_equal (want_src, &src_md)) {
    add_arg_at (k, DNNL_ARG_SRC, n->inputs[0], &src_md, x_off);
  } else {
    k->in_re = reorder_prim (st, &src_md, want_src);
    k->in_re_dst = owned_memory (st, want_src);
    dnnl_memory_create (&k->in_re_src, &src_md, st->eng, DNNL_MEMORY_NONE);
    k->in_re_value = n->inputs[0];
    add_arg (k, DNNL_ARG_SRC, -1, want_src);
    k->args[k->n_args - 1].memory = k->in_re_dst;
    if (!k->in_re || !k->in_re_dst) {
      dnnl_primitive_desc_destroy (pd);
      return FALSE;
    }
  }
  add_arg (k, DNNL_ARG_WEIGHTS, -1, want);
  k->args[k->n_args - 1].memory = wdst;
  if (has_bias) {
    dnnl_memory_t bm;
    dnnl_memory_create (&bm, &b_md, st->eng, (float *) g_bytes_get_data (OVA_VALUE (g, n->inputs[2])->data, NULL) + b_off);
    g_ptr_array_add (st->owned_mem, bm);
    add_arg (k, DNNL_ARG_BIAS, -1, &b_md);
    k->args[k->n_args - 1].memory = bm;
  }
  dnnl_memory_t dst_scratch = NULL;
  k->silu_arg = k->c_silu_after ? k->n_args : -1;
  if (dnnl_memory_desc_equal (want_dst, &dst_md)) {
    add_arg_at (k, DNNL_ARG_DST, n->outputs[0], &dst_md, y_off);
  } else {
    dst_scratch = owned_memory (st, want_dst);
    k->out_re = reorder_prim (st, want_dst, &dst_md);
    k->out_re_src = dst_scratch;
    dnnl_memory_create (&k->out_re_dst, &dst_md, st->eng, DNNL_MEMORY_NONE);
    k->out_re_value = n->outputs[0];
    add_arg (k, DNNL_ARG_DST, -1, want_dst);
    k->args[k->n_args - 1].memory = dst_scratch;
    if (!k->out_re || !dst_scratch) {
      dnnl_primitive_desc_destroy (pd);
      return FALSE;
    }
  }
  /* residual add: read by the epilogue, or copied into dst before the convolution */
  if (k->c_bin_index >= 0) {
    for (int i = 0; i < n->n_post; i++)
      if (n->post[i].kind == OVA_POST_ADD)
        add_arg_at (k, DNNL_ARG_ATTR_MULTIPLE_POST_OP (k->c_bin_index) | DNNL_ARG_SRC_1, n->post[i].operand,
                    &k->c_bin_md, y_off);
  }
  for (int i = 0; i < n->n_post && k->c_bin_index < 0; i++) {
    if (n->post[i].kind != OVA_POST_ADD)
      continue;
    if (IS_PART (k)) {
      dnnl_primitive_desc_destroy (pd);
      return FALSE;
    }
    dnnl_memory_desc_t omd;
    value_md (g, n->post[i].operand, &omd, 0);
    k->pre = reorder_prim (st, &omd, want_dst);
    if (!k->pre) {
      dnnl_primitive_desc_destroy (pd);
      return FALSE;
    }
    dnnl_memory_create (&k->pre_src, &omd, st->eng, DNNL_MEMORY_NONE);
    k->pre_value = n->post[i].operand;
    if (dst_scratch) {
      dnnl_memory_create (&k->pre_dst, want_dst, st->eng, DNNL_MEMORY_NONE);
      k->pre_dst_value = -1;
    } else {
      dnnl_memory_create (&k->pre_dst, &dst_md, st->eng, DNNL_MEMORY_NONE);
      k->pre_dst_value = n->outputs[0];
    }
  }
  if (dst_scratch && k->pre) {
    void *h = NULL;
    dnnl_memory_get_data_handle (dst_scratch, &h);
    dnnl_memory_set_data_handle (k->pre_dst, h);
  }
  dnnl_primitive_desc_destroy (pd);
  return TRUE;
}

static gboolean
compile_pool (OvaPlan *plan, CpuState *st, Kernel *k, int ni)
{
  OvaGraph *g = plan->g;
  OvaNode *n = OVA_NODE (g, ni);
  OvaOpNode on = opnode (n);
  OvaValue *x = OVA_VALUE (g, n->inputs[0]), *y = OVA_VALUE (g, n->outputs[0]);
  dnnl_memory_desc_t src_md, dst_md;
  if (!value_md (g, n->inputs[0], &src_md, 0) || !value_md (g, n->outputs[0], &dst_md, 0))
    return FALSE;
  dnnl_dims_t strides = { 1, 1 }, dil = { 0, 0 }, pl = { 0, 0 }, pr = { 0, 0 }, kernel;
  dnnl_alg_kind_t alg;
  if (g_str_has_prefix (n->op_type, "Global")) {
    kernel[0] = x->dims[2];
    kernel[1] = x->dims[3];
    alg = !strcmp (n->op_type, "GlobalMaxPool") ? dnnl_pooling_max : dnnl_pooling_avg_exclude_padding;
  } else {
    const int64_t *ks;
    ova_op_attr_ints (&on, "kernel_shape", &ks);
    kernel[0] = ks[0];
    kernel[1] = ks[1];
    int64_t k64[2] = { ks[0], ks[1] };
    spatial_params (g, n, x, y, k64, strides, dil, pl, pr, TRUE);
    if (!strcmp (n->op_type, "MaxPool"))
      alg = dnnl_pooling_max;
    else {
      alg = ova_op_attr_int (&on, "count_include_pad", 0) ? dnnl_pooling_avg_include_padding
                                                          : dnnl_pooling_avg_exclude_padding;
      /* ceil_mode's extra right padding is never counted by ONNX */
      const int64_t *p;
      int np = ova_op_attr_ints (&on, "pads", &p);
      if (alg == dnnl_pooling_avg_include_padding && ova_op_attr_int (&on, "ceil_mode", 0))
        for (int i = 0; i < 2; i++)
          if (pr[i] != (np == 4 ? p[2 + i] : 0))
            return FALSE;
    }
    if (strcmp (n->op_type, "MaxPool") && (dil[0] || dil[1]))
      return FALSE;
  }
  dnnl_pooling_v2_desc_t pdsc;
  if (dnnl_pooling_v2_forward_desc_init (&pdsc, dnnl_forward_inference, alg, &src_md, &dst_md, strides, kernel, dil, pl,
                                         pr) != dnnl_success)
    return FALSE;
  dnnl_primitive_desc_t pd = NULL;
  if (!make_prim (k, &pdsc, NULL, st->eng, &pd))
    return FALSE;
  const char *impl = NULL;
  dnnl_primitive_desc_query (pd, dnnl_query_impl_info_str, 0, &impl);
  gboolean slow = impl && g_str_has_prefix (impl, "ref") && OVA_VALUE (g, n->inputs[0])->layout != y->layout;
  dnnl_primitive_desc_destroy (pd);
  add_arg (k, DNNL_ARG_SRC, n->inputs[0], &src_md);
  if (!slow) {
    add_arg (k, DNNL_ARG_DST, n->outputs[0], &dst_md);
    return TRUE;
  }
  /* oneDNN pools fast only within one layout: pool into the source's
   * layout, then reorder into the destination's. */
  dnnl_primitive_destroy (k->prim);
  k->prim = NULL;
  dnnl_memory_desc_t alt;
  dnnl_dims_t yd = { y->dims[0], y->dims[1], y->dims[2], y->dims[3] };
  dnnl_format_tag_t tag = OVA_VALUE (g, n->inputs[0])->layout == OVA_LAYOUT_BLOCKED16 ? dnnl_nChw16c
                          : OVA_VALUE (g, n->inputs[0])->layout == OVA_LAYOUT_NHWC  ? dnnl_nhwc
                                                                                     : dnnl_nchw;
  dnnl_memory_desc_init_by_tag (&alt, 4, yd, dnnl_f32, tag);
  if (dnnl_pooling_v2_forward_desc_init (&pdsc, dnnl_forward_inference, alg, &src_md, &alt, strides, kernel, dil, pl,
                                         pr) != dnnl_success ||
      !make_prim (k, &pdsc, NULL, st->eng, NULL))
    return FALSE;
  dnnl_memory_t scratch = owned_memory (st, &alt);
  k->out_re = reorder_prim (st, &alt, &dst_md);
  if (!scratch || !k->out_re)
    return FALSE;
  k->out_re_src = scratch;
  dnnl_memory_create (&k->out_re_dst, &dst_md, st->eng, DNNL_MEMORY_NONE);
  k->out_re_value = n->outputs[0];
  add_arg (k, DNNL_ARG_DST, -1, &alt);
  k->args[k->n_args - 1].memory = scratch;
  return TRUE;
}

static gboolean
compile_binary (OvaPlan *plan, CpuState *st, Kernel *k, int ni)
{
  OvaGraph *g = plan->g;
  OvaNode *n = OVA_NODE (g, ni);
  dnnl_alg_kind_t alg;
  binary_alg (n->op_type, &alg);
  OvaValue *y = OVA_VALUE (g, n->outputs[0]), *x0 = OVA_VALUE (g, n->inputs[0]);
  int a = n->inputs[0], b = n->inputs[1];
  if (!(x0->rank == 4 && !memcmp (x0->dims, y->dims, sizeof (int64_t) * 4))) {
    a = n->inputs[1];
    b = n->inputs[0];
  }
  dnnl_memory_desc_t m0, m1, md;
  if (!value_md (g, a, &m0, 4) || !value_md (g, b, &m1, 4) || !value_md (g, n->outputs[0], &md, 0))
    return FALSE;
  dnnl_binary_desc_t bd;
  if (dnnl_binary_desc_init (&bd, alg, &m0, &m1, &md) != dnnl_success)
    return FALSE;
  if (!make_prim (k, &bd, NULL, st->eng, NULL))
    return FALSE;
  add_arg (k, DNNL_ARG_SRC_0, a, &m0);
  add_arg (k, DNNL_ARG_SRC_1, b, &m1);
  add_arg (k, DNNL_ARG_DST, n->outputs[0], &md);
  return TRUE;
}

static gboolean
compile_eltwise (OvaPlan *plan, CpuState *st, Kernel *k, int ni)
{
  OvaGraph *g = plan->g;
  OvaNode *n = OVA_NODE (g, ni);
  dnnl_alg_kind_t alg;
  float alpha, beta;
  eltwise_alg (g, n, &alg, &alpha, &beta);
  dnnl_memory_desc_t src_md, dst_md;
  value_md (g, n->inputs[0], &src_md, 0);
  value_md (g, n->outputs[0], &dst_md, 0);
  if (!dnnl_memory_desc_equal (&src_md, &dst_md))
    return FALSE; /* eltwise keeps the layout */
  dnnl_eltwise_desc_t ed;
  if (dnnl_eltwise_forward_desc_init (&ed, dnnl_forward_inference, alg, &src_md, alpha, beta) != dnnl_success)
    return FALSE;
  if (!make_prim (k, &ed, NULL, st->eng, NULL))
    return FALSE;
  add_arg (k, DNNL_ARG_SRC, n->inputs[0], &src_md);
  add_arg (k, DNNL_ARG_DST, n->outputs[0], &dst_md);
  return TRUE;
}

static gboolean
compile_concat (OvaPlan *plan, CpuState *st, Kernel *k, int ni)
{
  OvaGraph *g = plan->g;
  OvaNode *n = OVA_NODE (g, ni);
  OvaOpNode on = opnode (n);
  int64_t axis = ova_op_attr_int (&on, "axis", 1);
  if (axis < 0)
    axis += 4;
  if (n->n_inputs > MAX_ARGS - 2 || axis < 0 || axis > 3)
    return FALSE;
  dnnl_memory_desc_t mds[MAX_ARGS], dst_md;
  for (int i = 0; i < n->n_inputs; i++)
    value_md (g, n->inputs[i], &mds[i], 0);
  value_md (g, n->outputs[0], &dst_md, 0);
  dnnl_primitive_desc_t pd;
  dnnl_primitive_attr_t attr;
  dnnl_primitive_attr_create (&attr);
  dnnl_primitive_attr_set_scratchpad_mode (attr, dnnl_scratchpad_mode_user);
  dnnl_status_t cs = dnnl_concat_primitive_desc_create (&pd, &dst_md, n->n_inputs, axis, mds, attr, st->eng);
  dnnl_primitive_attr_destroy (attr);
  if (cs != dnnl_success)
    return FALSE;
  gboolean ok = dnnl_primitive_create (&k->prim, pd) == dnnl_success;
  if (ok)
    note_scratchpad (k, pd);
  dnnl_primitive_desc_destroy (pd);
  if (!ok)
    return FALSE;
  for (int i = 0; i < n->n_inputs; i++)
    add_arg (k, DNNL_ARG_MULTIPLE_SRC + i, n->inputs[i], &mds[i]);
  add_arg (k, DNNL_ARG_DST, n->outputs[0], &dst_md);
  return TRUE;
}

static gboolean
compile_resample (OvaPlan *plan, CpuState *st, Kernel *k, int ni)
{
  OvaGraph *g = plan->g;
  OvaNode *n = OVA_NODE (g, ni);
  OvaOpNode on = opnode (n);
  const char *mode = ova_op_attr_string (&on, "mode", "nearest");
  dnnl_memory_desc_t src_md, dst_md;
  value_md (g, n->inputs[0], &src_md, 0);
  value_md (g, n->outputs[0], &dst_md, 0);
  dnnl_resampling_desc_t rd;
  if (dnnl_resampling_forward_desc_init (&rd, dnnl_forward_inference,
                                         !strcmp (mode, "nearest") ? dnnl_resampling_nearest : dnnl_resampling_linear,
                                         NULL, &src_md, &dst_md) != dnnl_success)
    return FALSE;
  if (!make_prim (k, &rd, NULL, st->eng, NULL))
    return FALSE;
  add_arg (k, DNNL_ARG_SRC, n->inputs[0], &src_md);
  add_arg (k, DNNL_ARG_DST, n->outputs[0], &dst_md);
  return TRUE;
}

static gboolean
compile_softmax (OvaPlan *plan, CpuState *st, Kernel *k, int ni)
{
  OvaGraph *g = plan->g;
  OvaNode *n = OVA_NODE (g, ni);
  OvaOpNode on = opnode (n);
  OvaValue *x = OVA_VALUE (g, n->inputs[0]);
  int64_t axis = ova_op_attr_int (&on, "axis", n->opset < 13 ? 1 : -1);
  if (axis < 0)
    axis += x->rank;
  dnnl_memory_desc_t md;
  dnnl_dims_t d;
  for (int i = 0; i < x->rank; i++)
    d[i] = x->dims[i];
  dnnl_memory_desc_init_by_tag (&md, x->rank, d, dnnl_f32, plain_tag (x->rank));
  dnnl_softmax_v2_desc_t sd;
  if (dnnl_softmax_v2_forward_desc_init (&sd, dnnl_forward_inference,
                                         !strcmp (n->op_type, "LogSoftmax") ? dnnl_softmax_log : dnnl_softmax_accurate,
                                         &md, &md, axis) != dnnl_success ||
      !make_prim (k, &sd, NULL, st->eng, NULL))
    return FALSE;
  add_arg (k, DNNL_ARG_SRC, n->inputs[0], &md);
  add_arg (k, DNNL_ARG_DST, n->outputs[0], &md);
  return TRUE;
}

static gboolean
compile_matmul (OvaPlan *plan, CpuState *st, Kernel *k, int ni)
{
  OvaGraph *g = plan->g;
  OvaNode *n = OVA_NODE (g, ni);
  OvaOpNode on = opnode (n);
  OvaValue *a = OVA_VALUE (g, n->inputs[0]), *b = OVA_VALUE (g, n->inputs[1]);
  gboolean gemm = !strcmp (n->op_type, "Gemm");
  gboolean trans_b = gemm && ova_op_attr_int (&on, "transB", 0);
  int64_t kk = a->dims[a->rank - 1], m = ova_value_numel (a) / kk;
  int64_t nn = trans_b ? b->dims[0] : b->dims[1];
  if ((trans_b ? b->dims[1] : b->dims[0]) != kk)
    return FALSE;
  /* A's leading dimensions flattened: plain and contiguous, so the same memory */
  dnnl_dims_t ad = { m, kk }, bd = { kk, nn }, yd = { m, nn }, cd = { 1, nn };
  dnnl_memory_desc_t amd, bmd, ymd, cmd;
  dnnl_memory_desc_init_by_tag (&amd, 2, ad, dnnl_f32, dnnl_ab);
  dnnl_memory_desc_init_by_tag (&bmd, 2, bd, dnnl_f32, trans_b ? dnnl_ba : dnnl_ab);
  dnnl_memory_desc_init_by_tag (&ymd, 2, yd, dnnl_f32, dnnl_ab);
  dnnl_memory_desc_init_by_tag (&cmd, 2, cd, dnnl_f32, dnnl_ab);
  gboolean bias = gemm && n->n_inputs > 2 && n->inputs[2] >= 0;
  dnnl_matmul_desc_t md;
  if (dnnl_matmul_desc_init (&md, &amd, &bmd, bias ? &cmd : NULL, &ymd) != dnnl_success ||
      !make_prim (k, &md, NULL, st->eng, NULL))
    return FALSE;
  add_arg (k, DNNL_ARG_SRC, n->inputs[0], &amd);
  add_arg (k, DNNL_ARG_WEIGHTS, n->inputs[1], &bmd);
  if (bias)
    add_arg (k, DNNL_ARG_BIAS, n->inputs[2], &cmd);
  add_arg (k, DNNL_ARG_DST, n->outputs[0], &ymd);
  return TRUE;
}

static gboolean
compile_deconv (OvaPlan *plan, CpuState *st, Kernel *k, int ni)
{
  OvaGraph *g = plan->g;
  OvaNode *n = OVA_NODE (g, ni);
  OvaOpNode on = opnode (n);
  OvaValue *x = OVA_VALUE (g, n->inputs[0]), *w = OVA_VALUE (g, n->inputs[1]), *y = OVA_VALUE (g, n->outputs[0]);
  int64_t group = ova_op_attr_int (&on, "group", 1);
  const int64_t *s, *d, *p;
  int ns = ova_op_attr_ints (&on, "strides", &s), nd = ova_op_attr_ints (&on, "dilations", &d);
  int np = ova_op_attr_ints (&on, "pads", &p);
  dnnl_dims_t strides, dil, pl, pr;
  for (int i = 0; i < 2; i++) {
    strides[i] = ns == 2 ? s[i] : 1;
    int64_t dl = nd == 2 ? d[i] : 1;
    dil[i] = dl - 1;
    pl[i] = np == 4 ? p[i] : 0;
    /* output = (in - 1) * stride + eff - pl - pr; output_padding shrinks pr */
    pr[i] = (x->dims[2 + i] - 1) * strides[i] + (w->dims[2 + i] - 1) * dl + 1 - pl[i] - y->dims[2 + i];
    if (pr[i] < 0)
      return FALSE;
  }
  int64_t ic = w->dims[0], ocg = w->dims[1];
  dnnl_dims_t wd;
  int wr;
  if (group > 1) {
    wd[0] = group; wd[1] = ocg; wd[2] = ic / group; wd[3] = w->dims[2]; wd[4] = w->dims[3];
    wr = 5;
  } else {
    wd[0] = ocg; wd[1] = ic; wd[2] = w->dims[2]; wd[3] = w->dims[3];
    wr = 4;
  }
  dnnl_memory_desc_t src_md, dst_md, w_any, w_plain, b_md;
  if (!value_md (g, n->inputs[0], &src_md, 0) || !value_md (g, n->outputs[0], &dst_md, 0))
    return FALSE;
  dnnl_memory_desc_init_by_tag (&w_any, wr, wd, dnnl_f32, dnnl_format_tag_any);
  /* ONNX keeps [in, out/group, kh, kw] */
  dnnl_memory_desc_init_by_tag (&w_plain, wr, wd, dnnl_f32, wr == 5 ? dnnl_giohw : dnnl_iohw);
  dnnl_dims_t bd = { y->dims[1] };
  dnnl_memory_desc_init_by_tag (&b_md, 1, bd, dnnl_f32, dnnl_a);
  gboolean has_bias = n->n_inputs > 2 && n->inputs[2] >= 0;
  dnnl_deconvolution_desc_t dd;
  if (dnnl_dilated_deconvolution_forward_desc_init (&dd, dnnl_forward_inference, dnnl_deconvolution_direct, &src_md,
                                                    &w_any, has_bias ? &b_md : NULL, &dst_md, strides, dil, pl,
                                                    pr) != dnnl_success)
    return FALSE;
  dnnl_primitive_attr_t attr;
  dnnl_post_ops_t po;
  dnnl_primitive_attr_create (&attr);
  dnnl_post_ops_create (&po);
  dnnl_primitive_desc_t pd = NULL;
  gboolean ok = append_post_ops (plan, n, n->n_post, po, NULL, NULL) && dnnl_primitive_attr_set_post_ops (attr, po) == dnnl_success &&
                make_prim (k, &dd, attr, st->eng, &pd);
  dnnl_post_ops_destroy (po);
  dnnl_primitive_attr_destroy (attr);
  if (!ok)
    return FALSE;
  const dnnl_memory_desc_t *want = dnnl_primitive_desc_query_md (pd, dnnl_query_weights_md, 0);
  dnnl_memory_t wdst = owned_memory (st, want), wsrc;
  dnnl_memory_create (&wsrc, &w_plain, st->eng, (void *) g_bytes_get_data (w->data, NULL));
  omp_set_num_threads (1);
  dnnl_primitive_t r = reorder_prim (st, &w_plain, want);
  ok = r && wdst;
  if (ok) {
    dnnl_exec_arg_t a[2] = { { DNNL_ARG_FROM, wsrc }, { DNNL_ARG_TO, wdst } };
    ok = dnnl_primitive_execute (r, st->stream, 2, a) == dnnl_success && dnnl_stream_wait (st->stream) == dnnl_success;
  }
  if (r)
    dnnl_primitive_destroy (r);
  omp_set_num_threads (k->nthr);
  dnnl_memory_destroy (wsrc);
  if (ok) {
    add_arg (k, DNNL_ARG_SRC, n->inputs[0], &src_md);
    add_arg (k, DNNL_ARG_WEIGHTS, -1, want);
    k->args[k->n_args - 1].memory = wdst;
    if (has_bias)
      add_arg (k, DNNL_ARG_BIAS, n->inputs[2], &b_md);
    add_arg (k, DNNL_ARG_DST, n->outputs[0], &dst_md);
  }
  dnnl_primitive_desc_destroy (pd);
  return ok;
}

/* Normalised over the dimensions from `axis` on, flattened into one. */
static gboolean
compile_layernorm (OvaPlan *plan, CpuState *st, Kernel *k, int ni)
{
  OvaGraph *g = plan->g;
  OvaNode *n = OVA_NODE (g, ni);
  OvaOpNode on = opnode (n);
  OvaValue *x = OVA_VALUE (g, n->inputs[0]);
  int64_t axis = ova_op_attr_int (&on, "axis", -1);
  if (axis < 0)
    axis += x->rank;
  int64_t inner = 1;
  for (int d = axis; d < x->rank; d++)
    inner *= x->dims[d];
  dnnl_dims_t d2 = { ova_value_numel (x) / inner, inner }, c1 = { inner };
  dnnl_memory_desc_t md, cmd;
  dnnl_memory_desc_init_by_tag (&md, 2, d2, dnnl_f32, dnnl_ab);
  dnnl_memory_desc_init_by_tag (&cmd, 1, c1, dnnl_f32, dnnl_a);
  gboolean bias = n->n_inputs > 2 && n->inputs[2] >= 0;
  dnnl_layer_normalization_desc_t ld;
  if (dnnl_layer_normalization_forward_desc_init (&ld, dnnl_forward_inference, &md, NULL,
                                                  ova_op_attr_float (&on, "epsilon", 1e-5f),
                                                  dnnl_use_scale | (bias ? dnnl_use_shift : 0)) != dnnl_success ||
      !make_prim (k, &ld, NULL, st->eng, NULL))
    return FALSE;
  add_arg (k, DNNL_ARG_SRC, n->inputs[0], &md);
  add_arg (k, DNNL_ARG_SCALE, n->inputs[1], &cmd);
  if (bias)
    add_arg (k, DNNL_ARG_SHIFT, n->inputs[2], &cmd);
  add_arg (k, DNNL_ARG_DST, n->outputs[0], &md);
  return TRUE;
}

/* Reference kernel on blocked values: reorders to/from plain scratch. */
static gboolean
compile_adapters (OvaPlan *plan, CpuState *st, Kernel *k, int ni)
{
  OvaGraph *g = plan->g;
  OvaNode *n = OVA_NODE (g, ni);
  int total = n->n_inputs + n->n_outputs;
  gboolean any = FALSE;
  for (int i = 0; i < total; i++) {
    int v = i < n->n_inputs ? n->inputs[i] : n->outputs[i - n->n_inputs];
    if (v >= 0 && OVA_VALUE (g, v)->layout != OVA_LAYOUT_PLAIN)
      any = TRUE;
  }
  for (int i = 0; i < n->n_post; i++)
    if (n->post[i].kind == OVA_POST_ADD && OVA_VALUE (g, n->post[i].operand)->layout != OVA_LAYOUT_PLAIN)
      return FALSE; /* cannot happen: operands of reference epilogues are plain */
  if (!any)
    return TRUE;
  k->adapt = TRUE;
  k->n_adapt = total;
  k->scratch = g_new0 (void *, total);
  k->to_plain = g_new0 (dnnl_primitive_t, total);
  k->from_plain = g_new0 (dnnl_primitive_t, total);
  k->ad_a = g_new0 (dnnl_memory_t, total);
  k->ad_b = g_new0 (dnnl_memory_t, total);
  for (int i = 0; i < total; i++) {
    int v = i < n->n_inputs ? n->inputs[i] : n->outputs[i - n->n_inputs];
    if (v < 0 || OVA_VALUE (g, v)->layout == OVA_LAYOUT_PLAIN)
      continue;
    OvaValue *x = OVA_VALUE (g, v);
    dnnl_memory_desc_t bmd, pmd;
    value_md (g, v, &bmd, 0);
    dnnl_dims_t d = { x->dims[0], x->dims[1], x->dims[2], x->dims[3] };
    dnnl_memory_desc_init_by_tag (&pmd, 4, d, dnnl_f32, dnnl_nchw);
    k->scratch[i] = g_malloc0 (dnnl_memory_desc_get_size (&pmd) + 64);
    dnnl_memory_create (&k->ad_a[i], &bmd, st->eng, DNNL_MEMORY_NONE);
    dnnl_memory_create (&k->ad_b[i], &pmd, st->eng, k->scratch[i]);
    dnnl_primitive_desc_t pd;
    gboolean in = i < n->n_inputs;
    if (dnnl_reorder_primitive_desc_create (&pd, in ? &bmd : &pmd, st->eng, in ? &pmd : &bmd, st->eng, NULL) != dnnl_success)
      return FALSE;
    dnnl_primitive_create (in ? &k->to_plain[i] : &k->from_plain[i], pd);
    dnnl_primitive_desc_destroy (pd);
  }
  return TRUE;
}

static void
kernel_clear (Kernel *k)
{
  if (k->prim)
    dnnl_primitive_destroy (k->prim);
  if (k->pd)
    dnnl_primitive_desc_destroy (k->pd);
  if (k->sp_mem)
    dnnl_memory_destroy (k->sp_mem);
  for (int i = 0; i < k->n_args; i++)
    if (k->arg_value[i] >= 0 && k->args[i].memory)
      dnnl_memory_destroy (k->args[i].memory);
  if (k->pre)
    dnnl_primitive_destroy (k->pre);
  if (k->pre_src)
    dnnl_memory_destroy (k->pre_src);
  if (k->pre_dst)
    dnnl_memory_destroy (k->pre_dst);
  if (k->in_re)
    dnnl_primitive_destroy (k->in_re);
  if (k->in_re_src)
    dnnl_memory_destroy (k->in_re_src);
  if (k->out_re)
    dnnl_primitive_destroy (k->out_re);
  if (k->out_re_dst)
    dnnl_memory_destroy (k->out_re_dst);
  for (int i = 0; i < k->n_adapt; i++) {
    g_free (k->scratch[i]);
    if (k->to_plain[i]) dnnl_primitive_destroy (k->to_plain[i]);
    if (k->from_plain[i]) dnnl_primitive_destroy (k->from_plain[i]);
    if (k->ad_a[i]) dnnl_memory_destroy (k->ad_a[i]);
    if (k->ad_b[i]) dnnl_memory_destroy (k->ad_b[i]);
  }
  g_free (k->scratch);
  g_free (k->to_plain);
  g_free (k->from_plain);
  g_free (k->ad_a);
  g_free (k->ad_b);
  for (int i = 0; i < k->n_parts - 1; i++)
    kernel_clear (&k->parts[i]);
  g_free (k->parts);
  memset (k, 0, sizeof *k);
}

/* ------------------------------------------------------------------------ */
/* Helper threads for split convolutions: each waits for its part of the next
 * split kernel spinning a short while (the next one usually comes within
 * microseconds), then blocking — unlike OpenMP's per-kernel fork/join, whose
 * workers either block (a wake-up per kernel) or spin for milliseconds
 * (stealing the core from whatever else runs on a shared machine). */

typedef struct Helper {
  GThread *thread;
  GMutex lock;
  GCond cond;
  gint posted, finished, asleep, quit;
  dnnl_stream_t stream;
  /* the job */
  OvaPlan *plan;
  CpuState *st;
  Kernel *k;
  int ni;
  gboolean ok;
  GError *error;
} Helper;

static gboolean run_dnnl (OvaPlan *plan, CpuState *st, Kernel *k, int ni, dnnl_stream_t stream, GError **error);

static gint64
spin_us (void)
{
  static gint64 us = -1;
  if (us < 0)
    us = g_getenv ("OVA_CPU_SPIN_US") ? atoi (g_getenv ("OVA_CPU_SPIN_US")) : 50;
  return us;
}

/* Spins until *@p != @val for up to spin_us(); TRUE if it changed. */
static gboolean
spin_while_equal (gint *p, gint val)
{
  gint64 until = 0;
  for (int i = 0;; i++) {
    if (g_atomic_int_get (p) != val)
      return TRUE;
    _mm_pause ();
    if ((i & 63) == 63) {
      gint64 now = g_get_monotonic_time ();
      if (!until)
        until = now + spin_us ();
      else if (now >= until)
        return FALSE;
    }
  }
}

static gpointer
helper_main (gpointer data)
{
  Helper *h = data;
  omp_set_num_threads (1);
  gint seen = 0;
  for (;;) {
    if (!spin_while_equal (&h->posted, seen)) {
      g_mutex_lock (&h->lock);
      g_atomic_int_set (&h->asleep, 1);
      while (g_atomic_int_get (&h->posted) == seen && !g_atomic_int_get (&h->quit))
        g_cond_wait (&h->cond, &h->lock);
      g_atomic_int_set (&h->asleep, 0);
      g_mutex_unlock (&h->lock);
    }
    if (g_atomic_int_get (&h->quit))
      break;
    seen = g_atomic_int_get (&h->posted);
    h->ok = run_dnnl (h->plan, h->st, h->k, h->ni, h->stream, &h->error);
    g_atomic_int_set (&h->finished, seen);
  }
  return NULL;
}

static void
helper_post (Helper *h, OvaPlan *plan, CpuState *st, Kernel *k, int ni)
{
  h->plan = plan;
  h->st = st;
  h->k = k;
  h->ni = ni;
  g_atomic_int_inc (&h->posted);
  if (g_atomic_int_get (&h->asleep)) {
    g_mutex_lock (&h->lock);
    g_cond_signal (&h->cond);
    g_mutex_unlock (&h->lock);
  }
}

static void
helper_wait (Helper *h)
{
  gint want = g_atomic_int_get (&h->posted);
  while (g_atomic_int_get (&h->finished) != want)
    if (!spin_while_equal (&h->finished, g_atomic_int_get (&h->finished)))
      g_thread_yield ();
}

static void
helpers_stop (CpuState *st)
{
  for (int i = 0; i < st->n_helpers; i++) {
    Helper *h = &st->helpers[i];
    g_mutex_lock (&h->lock);
    g_atomic_int_set (&h->quit, 1);
    g_cond_signal (&h->cond);
    g_mutex_unlock (&h->lock);
    g_thread_join (h->thread);
    g_mutex_clear (&h->lock);
    g_cond_clear (&h->cond);
    if (h->stream)
      dnnl_stream_destroy (h->stream);
    g_clear_error (&h->error);
  }
  g_free (st->helpers);
  st->helpers = NULL;
  st->n_helpers = 0;
}

static gboolean
helpers_start (CpuState *st, int n)
{
  st->helpers = g_new0 (Helper, n);
  for (int i = 0; i < n; i++) {
    Helper *h = &st->helpers[i];
    g_mutex_init (&h->lock);
    g_cond_init (&h->cond);
    if (dnnl_stream_create (&h->stream, st->eng, dnnl_stream_default_flags) != dnnl_success)
      return FALSE;
    h->thread = g_thread_new ("ova-conv", helper_main, h);
    st->n_helpers = i + 1;
  }
  return TRUE;
}

/* Whether conv @ni is split into @nthr parts by output channels (batch 1;
 * the parts' channel ranges are multiples of 16, so that each is a dense
 * slice of the blocked or plain tensor). OVA_CPU_NO_CONV_SPLIT=1: never. */
static int
conv_split_parts (OvaPlan *plan, CpuState *st, int ni, gboolean *rows)
{
  OvaGraph *g = plan->g;
  OvaNode *n = OVA_NODE (g, ni);
  if (st->nthr < 2 || g_getenv ("OVA_CPU_NO_CONV_SPLIT") || activation_layout () != OVA_LAYOUT_BLOCKED16)
    return 0;
  OvaValue *x = OVA_VALUE (g, n->inputs[0]), *w = OVA_VALUE (g, n->inputs[1]), *y = OVA_VALUE (g, n->outputs[0]);
  OvaOpNode on = opnode (n);
  int64_t group = ova_op_attr_int (&on, "group", 1);
  gboolean dw = group > 1 && group == x->dims[1] && group == y->dims[1] && w->dims[1] == 1;
  if (w->rank != 4 || y->dims[0] != 1 || y->layout != OVA_LAYOUT_BLOCKED16 || (group > 1 && !dw) ||
      (dw && x->layout != OVA_LAYOUT_BLOCKED16) || (x->layout != OVA_LAYOUT_BLOCKED16 && x->layout != OVA_LAYOUT_PLAIN))
    return 0;
  *rows = FALSE;
  for (int i = 0; i < n->n_post; i++)
    if (n->post[i].kind == OVA_POST_ADD && OVA_VALUE (g, n->post[i].operand)->layout != y->layout)
      return 0;
  /* worth more than the threads' synchronisation (a few microseconds) */
  double flops = 2.0 * ova_value_numel (y) * (ova_value_numel (w) / MAX (w->dims[0], 1));
  if (flops < 1e6)
    return 0;
  if (y->dims[1] <= 16) {
    /* one channel block: split by rows, whose slices are dense when the
     * src is one block too, or plain (then copied) */
    if ((x->layout == OVA_LAYOUT_BLOCKED16 && x->dims[1] > 16) || y->dims[2] < 2 * st->nthr ||
        g_getenv ("OVA_CPU_NO_ROW_SPLIT"))
      return 0;
    *rows = TRUE;
    return st->nthr;
  }
  if (x->layout != OVA_LAYOUT_BLOCKED16 && dw)
    return 0;
  int64_t chunk = (y->dims[1] + 16 * st->nthr - 1) / (16 * st->nthr) * 16;
  if (y->dims[1] <= chunk * (st->nthr - 1))
    return 0; /* fewer channel blocks than threads */
  *rows = FALSE;
  return st->nthr;
}

static gboolean compile_conv_prim (OvaPlan *plan, CpuState *st, Kernel *k, int ni);
static gboolean compile_conv_finish (OvaPlan *plan, CpuState *st, Kernel *k, int ni);

/* Sets up @k (and its parts) as a conv split in @n_parts. */
static void
conv_split_init (OvaPlan *plan, Kernel *k, int ni, int n_parts, gboolean rows)
{
  OvaValue *y = OVA_VALUE (plan->g, OVA_NODE (plan->g, ni)->outputs[0]);
  int64_t chunk = (y->dims[1] + 16 * n_parts - 1) / (16 * n_parts) * 16;
  k->n_parts = n_parts;
  k->parts = g_new0 (Kernel, n_parts - 1);
  k->nthr = 1;
  for (int i = 0; i < n_parts; i++) {
    Kernel *p = i ? &k->parts[i - 1] : k;
    if (rows) {
      p->r0 = y->dims[2] * i / n_parts;
      p->r1 = y->dims[2] * (i + 1) / n_parts;
    } else {
      p->c0 = i * chunk;
      p->c1 = MIN (y->dims[1], (i + 1) * chunk);
    }
    if (!i)
      continue;
    p->kind = K_CONV;
    p->part = i;
    p->nthr = 1;
    p->pre_value = p->in_re_value = p->out_re_value = p->silu_arg = -1;
  }
}

/* First half of a split conv's compile (all parts); FALSE if a part fails. */
static gboolean
compile_conv_parts_prim (OvaPlan *plan, CpuState *st, Kernel *k, int ni)
{
  if (!compile_conv_prim (plan, st, k, ni))
    return FALSE;
  for (int i = 0; i < k->n_parts - 1; i++)
    if (!compile_conv_prim (plan, st, &k->parts[i], ni))
      return FALSE;
  return TRUE;
}

static gboolean
compile_conv_parts_finish (OvaPlan *plan, CpuState *st, Kernel *k, int ni)
{
  if (!compile_conv_finish (plan, st, k, ni))
    return FALSE;
  for (int i = 0; i < k->n_parts - 1; i++)
    if (!compile_conv_finish (plan, st, &k->parts[i], ni))
      return FALSE;
  return TRUE;
}

static void
cpu_release (void *state)
{
  CpuState *st = state;
  if (!st)
    return;
  helpers_stop (st);
  for (int i = 0; i < st->n; i++)
    kernel_clear (&st->k[i]);
  g_free (st->k);
  for (guint i = 0; i < st->owned_mem->len; i++)
    dnnl_memory_destroy (g_ptr_array_index (st->owned_mem, i));
  g_ptr_array_free (st->owned_mem, TRUE);
  free (st->scratch);
  if (st->wblob)
    g_bytes_unref (st->wblob);
  g_free (st->w_pos);
  g_free (st->w_md);
  g_free (st->w_data);
  if (st->stream)
    dnnl_stream_destroy (st->stream);
  g_free (st);
}

static dnnl_engine_t
get_engine (void)
{
  g_mutex_lock (&engine_lock);
  if (!shared_engine) {
    /* no VTune/perf registration of JIT code: it costs at every compile */
    dnnl_set_jit_profiling_flags (0);
    if (dnnl_engine_create (&shared_engine, dnnl_cpu, 0) != dnnl_success)
      shared_engine = NULL;
  }
  g_mutex_unlock (&engine_lock);
  return shared_engine;
}

typedef struct {
  OvaPlan *plan;
  CpuState *st;
} ConvJob;

/* OVA_CPU_SMALL_KERNELS=1: small kernels run on one thread, as splitting
 * them saves less than the threads' synchronisation. Off by default: with
 * OpenMP's spinning idle workers, every serial stretch has a worker spinning
 * beside it, which measured worse on a busy machine. */
static int
kernel_threads (OvaPlan *plan, CpuState *st, KernelKind kind, int ni)
{
  static int small = -1;
  if (small < 0)
    small = g_strcmp0 (g_getenv ("OVA_CPU_SMALL_KERNELS"), "1") == 0;
  if (st->nthr == 1 || kind == K_REF || kind == K_NOOP)
    return kind == K_REF || kind == K_NOOP ? 1 : st->nthr;
  if (!small)
    return st->nthr;
  OvaGraph *g = plan->g;
  OvaNode *n = OVA_NODE (g, ni);
  OvaValue *y = OVA_VALUE (g, n->outputs[0]);
  double work = ova_value_numel (y);
  if (kind == K_CONV) {
    OvaValue *w = OVA_VALUE (g, n->inputs[1]);
    work *= 2.0 * ova_value_numel (w) / MAX (w->dims[0], 1);
    return work < 8e6 ? 1 : st->nthr;
  }
  return work * 4 < 512 * 1024 ? 1 : st->nthr;
}

static void
conv_job (gpointer data, gpointer user)
{
  ConvJob *j = user;
  int pos = GPOINTER_TO_INT (data) - 1;
  Kernel *k = &j->st->k[pos];
  /* oneDNN kernels split their work for the thread count they are created
   * with, and run with that many */
  omp_set_num_threads (k->nthr);
  if (k->n_parts > 1) {
    k->c_ok = compile_conv_parts_prim (j->plan, j->st, k, j->plan->order[pos]);
    if (k->c_ok)
      return;
    /* a part could not be made: the whole conv, on the threads of the
     * plan's unsplit kernels */
    int nthr = j->st->rest_serial ? 1 : j->st->nthr;
    kernel_clear (k);
    k->kind = K_CONV;
    k->nthr = nthr;
    omp_set_num_threads (k->nthr);
  }
  k->c_ok = compile_conv_prim (j->plan, j->st, k, j->plan->order[pos]);
}

static gboolean
cpu_compile (OvaPlan *plan, void **state, GError **error)
{
  OvaGraph *g = plan->g;
  CpuState *st = *state; /* from cpu_deserialize, or new */
  if (!st) {
    st = g_new0 (CpuState, 1);
    st->owned_mem = g_ptr_array_new ();
    *state = st;
  }
  st->eng = get_engine ();
  if (!st->eng || dnnl_stream_create (&st->stream, st->eng, dnnl_stream_default_flags) != dnnl_success) {
    g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_BACKEND, "%s: cannot create the oneDNN CPU engine", g->path);
    return FALSE;
  }
  /* oneDNN kernels split their work (and size their scratchpads) for the
   * thread count they are created with: the plan's. */
  st->nthr = plan->threads > 0 ? MIN (plan->threads, ova_cpu_count ()) : ova_cpu_count ();
  plan->threads = st->nthr;
  omp_set_num_threads (st->nthr);
  st->n = plan->n_order;
  st->k = g_new0 (Kernel, st->n + 1);
  KernelKind *kinds = g_new0 (KernelKind, st->n + 1);
  for (int pos = 0; pos < st->n; pos++)
    kinds[pos] = kernel_kind (g, OVA_NODE (g, plan->order[pos]));
  assign_layouts (plan, kinds);
  for (int pos = 0; pos < st->n; pos++)
    if (kinds[pos] == K_CONCAT || !strcmp (OVA_NODE (g, plan->order[pos])->op_type, "Concat"))
      if (ova_plan_concat_in_place (plan, plan->order[pos]))
        kinds[pos] = K_NOOP;
  /* JIT-compile the convolutions on several threads */
  ConvJob job = { plan, st };
  int cthreads = g_getenv ("OVA_CPU_COMPILE_THREADS") ? atoi (g_getenv ("OVA_CPU_COMPILE_THREADS")) : ova_cpu_count ();
  GThreadPool *pool = cthreads > 1 ? g_thread_pool_new (conv_job, &job, MIN (cthreads, 8), TRUE, NULL) : NULL;
  /* Convolutions split by channels run on ova's helper threads; the other
   * kernels of such a plan then run on one thread, as OpenMP workers waiting
   * between them would compete with the helpers for the cores. */
  int n_split_planned = 0;
  gboolean rows;
  for (int pos = 0; pos < st->n; pos++)
    n_split_planned += kinds[pos] == K_CONV && conv_split_parts (plan, st, plan->order[pos], &rows) > 1;
  gboolean rest_serial = n_split_planned && !g_getenv ("OVA_CPU_SPLIT_REST_OMP");
  st->rest_serial = rest_serial;
  for (int pos = 0; pos < st->n; pos++) {
    st->k[pos].kind = kinds[pos];
    st->k[pos].nthr = rest_serial ? 1 : kernel_threads (plan, st, kinds[pos], plan->order[pos]);
    int parts = kinds[pos] == K_CONV ? conv_split_parts (plan, st, plan->order[pos], &rows) : 0;
    if (parts > 1)
      conv_split_init (plan, &st->k[pos], plan->order[pos], parts, rows);
    if (kinds[pos] == K_CONV && pool)
      g_thread_pool_push (pool, GINT_TO_POINTER (pos + 1), NULL);
    else if (kinds[pos] == K_CONV)
      conv_job (GINT_TO_POINTER (pos + 1), &job);
  }
  if (pool)
    g_thread_pool_free (pool, FALSE, TRUE);
  for (int pos = 0; pos < st->n; pos++) {
    int ni = plan->order[pos];
    Kernel *k = &st->k[pos];
    k->kind = kinds[pos];
    k->pre_value = k->in_re_value = k->out_re_value = k->silu_arg = -1;
    gboolean ok = TRUE;
    omp_set_num_threads (k->nthr);
    switch (k->kind) {
      case K_CONV:
        if (k->n_parts > 1) {
          ok = k->c_ok && compile_conv_parts_finish (plan, st, k, ni);
          if (!ok) {
            /* a part wants other layouts: the whole conv, like the unsplit kernels */
            kernel_clear (k);
            k->kind = K_CONV;
            k->nthr = st->rest_serial ? 1 : st->nthr;
            k->pre_value = k->in_re_value = k->out_re_value = k->silu_arg = -1;
            omp_set_num_threads (k->nthr);
            ok = compile_conv_prim (plan, st, k, ni) && compile_conv_finish (plan, st, k, ni);
          }
        } else
          ok = k->c_ok && compile_conv_finish (plan, st, k, ni);
        break;
      case K_POOL: ok = compile_pool (plan, st, k, ni); break;
      case K_BINARY: ok = compile_binary (plan, st, k, ni); break;
      case K_ELTWISE: ok = compile_eltwise (plan, st, k, ni); break;
      case K_CONCAT: ok = compile_concat (plan, st, k, ni); break;
      case K_RESAMPLE: ok = compile_resample (plan, st, k, ni); break;
      case K_SOFTMAX: ok = compile_softmax (plan, st, k, ni); break;
      case K_MATMUL: ok = compile_matmul (plan, st, k, ni); break;
      case K_LAYERNORM: ok = compile_layernorm (plan, st, k, ni); break;
      case K_DECONV: ok = compile_deconv (plan, st, k, ni); break;
      default: break;
    }
    if (!ok) {
      /* oneDNN declined: the reference kernel runs it */
      if (plan->verbose)
        g_printerr ("ova-engine: node '%s' (%s): oneDNN declined, using the reference kernel\n",
                    OVA_NODE (g, ni)->name, OVA_NODE (g, ni)->op_type);
      kernel_clear (k);
      k->kind = K_REF;
      k->pre_value = -1;
    }
    if (plan->verbose && k->prim) {
      const_dnnl_primitive_desc_t pd = NULL;
      const char *impl = NULL;
      dnnl_primitive_get_primitive_desc (k->prim, &pd);
      dnnl_primitive_desc_query (pd, dnnl_query_impl_info_str, 0, &impl);
      OvaNode *n = OVA_NODE (g, ni);
      char *xs = ova_dims_to_string (OVA_VALUE (g, n->inputs[0])->rank, OVA_VALUE (g, n->inputs[0])->dims);
      char *ys = ova_dims_to_string (OVA_VALUE (g, n->outputs[0])->rank, OVA_VALUE (g, n->outputs[0])->dims);
      g_printerr ("ova-engine: node '%s' (%s): oneDNN %s, layouts in %d out %d, %s -> %s\n", n->name, n->op_type,
                  impl ? impl : "?", OVA_VALUE (g, n->inputs[0])->layout, OVA_VALUE (g, n->outputs[0])->layout, xs, ys);
      g_free (xs);
      g_free (ys);
    }
    if (k->kind == K_REF && !compile_adapters (plan, st, k, ni)) {
      char *w = ova_graph_node_where (g, ni);
      g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_BACKEND, "%s: no kernel for this layout", w);
      g_free (w);
      g_free (kinds);
      return FALSE;
    }
  }
  g_free (kinds);
  int n_split = 0;
  for (int pos = 0; pos < st->n; pos++)
    n_split += st->k[pos].n_parts > 1;
  if (n_split && !helpers_start (st, st->nthr - 1)) {
    g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_BACKEND, "%s: cannot start the convolution threads", g->path);
    return FALSE;
  }
  if (plan->verbose && n_split)
    g_printerr ("ova-engine: %d convolutions split by output channels or rows over %d threads\n", n_split, st->nthr);
  if (plan->verbose && st->n_w)
    g_printerr ("ova-engine: %d convolution weights taken from the plan file\n", st->n_w);
  return TRUE;
}

static gboolean
bind_kernel (OvaPlan *plan, CpuState *st, Kernel *k, int ni, void *scratch)
{
  if (k->prim && k->sp_size && k->n_args < MAX_ARGS) {
    if (dnnl_memory_create (&k->sp_mem, &k->sp_md, st->eng, scratch) != dnnl_success)
      return dnnl_ok (dnnl_runtime_error, "memory", plan, ni, NULL);
    k->args[k->n_args].arg = DNNL_ARG_SCRATCHPAD;
    k->args[k->n_args].memory = k->sp_mem;
    k->arg_value[k->n_args] = -1;
    k->n_args++;
  }
  for (int i = 0; i < k->n_args; i++) {
    if (k->arg_value[i] < 0)
      continue;
    if (dnnl_memory_create (&k->args[i].memory, &k->arg_md[i], st->eng,
                            (char *) ova_plan_value_data (plan, k->arg_value[i]) + k->arg_offset[i]) != dnnl_success)
      return FALSE;
  }
  return TRUE;
}

static gboolean
cpu_bind (OvaPlan *plan, void *state, void *arena, GError **error)
{
  CpuState *st = state;
  size_t sp = 0;
  int parts = 1;
  for (int pos = 0; pos < st->n; pos++) {
    Kernel *k = &st->k[pos];
    if (k->prim)
      sp = MAX (sp, k->sp_size);
    for (int i = 0; i < k->n_parts - 1; i++)
      sp = MAX (sp, k->parts[i].sp_size);
    parts = MAX (parts, k->n_parts);
  }
  /* parts of a split conv run at the same time: one scratchpad each */
  st->sp_stride = (sp + 63) & ~(size_t) 63;
  if (sp && posix_memalign (&st->scratch, 64, st->sp_stride * parts))
    return dnnl_ok (dnnl_out_of_memory, "scratchpad", plan, -1, error);
  for (int pos = 0; pos < st->n; pos++) {
    Kernel *k = &st->k[pos];
    gboolean ok = bind_kernel (plan, st, k, plan->order[pos], st->scratch);
    for (int i = 0; ok && i < k->n_parts - 1; i++)
      ok = bind_kernel (plan, st, &k->parts[i], plan->order[pos], (char *) st->scratch + st->sp_stride * (i + 1));
    if (!ok)
      return dnnl_ok (dnnl_runtime_error, "memory", plan, plan->order[pos], error);
  }
  return TRUE;
}

static gboolean
run_ref (OvaPlan *plan, CpuState *st, Kernel *k, int ni, GError **error)
{
  if (!k->adapt)
    return ova_plan_run_node_reference (plan, ni, error);
  OvaGraph *g = plan->g;
  OvaNode *n = OVA_NODE (g, ni);
  for (int i = 0; i < n->n_inputs; i++) {
    if (!k->to_plain[i])
      continue;
    dnnl_memory_set_data_handle (k->ad_a[i], ova_plan_value_data (plan, n->inputs[i]));
    dnnl_exec_arg_t a[2] = { { DNNL_ARG_FROM, k->ad_a[i] }, { DNNL_ARG_TO, k->ad_b[i] } };
    dnnl_primitive_execute (k->to_plain[i], st->stream, 2, a);
  }
  OvaTensorRef in[n->n_inputs + 1], out[n->n_outputs + 1];
  memset (in, 0, sizeof in);
  memset (out, 0, sizeof out);
  for (int i = 0; i < n->n_inputs; i++)
    if (n->inputs[i] >= 0) {
      ova_plan_value_ref (plan, n->inputs[i], &in[i]);
      if (k->scratch[i])
        in[i].data = k->scratch[i];
    }
  for (int i = 0; i < n->n_outputs; i++)
    if (n->outputs[i] >= 0) {
      ova_plan_value_ref (plan, n->outputs[i], &out[i]);
      if (k->scratch[n->n_inputs + i])
        out[i].data = k->scratch[n->n_inputs + i];
    }
  OvaOpNode on = opnode (n);
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
  for (int i = 0; i < n->n_outputs; i++) {
    int j = n->n_inputs + i;
    if (!k->from_plain[j])
      continue;
    dnnl_memory_set_data_handle (k->ad_a[j], ova_plan_value_data (plan, n->outputs[i]));
    dnnl_exec_arg_t a[2] = { { DNNL_ARG_FROM, k->ad_b[j] }, { DNNL_ARG_TO, k->ad_a[j] } };
    dnnl_primitive_execute (k->from_plain[j], st->stream, 2, a);
  }
  return TRUE;
}

/* OVA_ENGINE_PROFILE=1: wall time per node; =cpu: the calling thread's CPU
 * time (meaningful with one thread on a busy machine). */
static gint64
profile_clock (int kind)
{
  if (kind == 2) {
    struct timespec ts;
    clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * G_GINT64_CONSTANT (1000000) + ts.tv_nsec / 1000;
  }
  return g_get_monotonic_time ();
}

/* Runs a oneDNN kernel (with its reorders and SiLU) on @stream. */
static gboolean
run_dnnl (OvaPlan *plan, CpuState *st, Kernel *k, int ni, dnnl_stream_t stream, GError **error)
{
  OvaGraph *g = plan->g;
  /* caller memory may move between runs */
  for (int i = 0; i < k->n_args; i++) {
    int v = k->arg_value[i];
    while (v >= 0 && OVA_VALUE (g, v)->alias_of >= 0)
      v = OVA_VALUE (g, v)->alias_of;
    if (v >= 0 && OVA_VALUE (g, v)->is_input)
      dnnl_memory_set_data_handle (k->args[i].memory, (char *) ova_plan_value_data (plan, k->arg_value[i]) + k->arg_offset[i]);
  }
  if (k->row_copy) {
    OvaNode *n = OVA_NODE (g, ni);
    OvaValue *x = OVA_VALUE (g, n->inputs[0]);
    const float *src = ova_plan_value_data (plan, n->inputs[0]);
    float *dst = NULL;
    dnnl_memory_get_data_handle (k->rc_mem, (void **) &dst);
    int64_t plane = x->dims[2] * x->dims[3], rows = k->rc_rows * x->dims[3];
    for (int64_t c = 0; c < x->dims[1]; c++)
      memcpy (dst + c * rows, src + c * plane + k->rc_row * x->dims[3], rows * sizeof (float));
  }
  if (k->in_re) {
    dnnl_memory_set_data_handle (k->in_re_src, ova_plan_value_data (plan, k->in_re_value));
    dnnl_exec_arg_t a[2] = { { DNNL_ARG_FROM, k->in_re_src }, { DNNL_ARG_TO, k->in_re_dst } };
    if (!dnnl_ok (dnnl_primitive_execute (k->in_re, stream, 2, a), "reorder", plan, ni, error))
      return FALSE;
  }
  if (k->pre) {
    dnnl_memory_set_data_handle (k->pre_src, ova_plan_value_data (plan, k->pre_value));
    if (k->pre_dst_value >= 0)
      dnnl_memory_set_data_handle (k->pre_dst, ova_plan_value_data (plan, k->pre_dst_value));
    dnnl_exec_arg_t a[2] = { { DNNL_ARG_FROM, k->pre_src }, { DNNL_ARG_TO, k->pre_dst } };
    if (!dnnl_ok (dnnl_primitive_execute (k->pre, stream, 2, a), "reorder", plan, ni, error))
      return FALSE;
  }
  if (!dnnl_ok (dnnl_primitive_execute (k->prim, stream, k->n_args, k->args), "execute", plan, ni, error))
    return FALSE;
  if (k->silu_arg >= 0) {
    void *h = NULL;
    dnnl_memory_get_data_handle (k->args[k->silu_arg].memory, &h);
    silu_run (h, dnnl_memory_desc_get_size (&k->arg_md[k->silu_arg]) / sizeof (float), k->nthr);
  }
  if (k->out_re) {
    dnnl_memory_set_data_handle (k->out_re_dst, ova_plan_value_data (plan, k->out_re_value));
    dnnl_exec_arg_t a[2] = { { DNNL_ARG_FROM, k->out_re_src }, { DNNL_ARG_TO, k->out_re_dst } };
    if (!dnnl_ok (dnnl_primitive_execute (k->out_re, stream, 2, a), "reorder", plan, ni, error))
      return FALSE;
  }
  return TRUE;
}

static gboolean
cpu_run (OvaPlan *plan, void *state, void *stream, GError **error)
{
  CpuState *st = state;
  OvaGraph *g = plan->g;
  int cur = st->nthr;
  omp_set_num_threads (cur);
  static int profile = -1;
  if (profile < 0)
    profile = g_getenv ("OVA_ENGINE_PROFILE") ? (g_str_equal (g_getenv ("OVA_ENGINE_PROFILE"), "cpu") ? 2 : 1) : 0;
  gint64 t0 = profile ? profile_clock (profile) : 0;
  for (int pos = 0; pos < st->n; pos++) {
    Kernel *k = &st->k[pos];
    int ni = plan->order[pos];
    if (profile && pos) {
      dnnl_stream_wait (st->stream);
      gint64 t1 = profile_clock (profile);
      OvaNode *pn = OVA_NODE (g, plan->order[pos - 1]);
      g_printerr ("profile %s %s %s %.3f ms\n", pn->op_type, st->k[pos - 1].kind == K_REF ? "ref" : "dnnl",
                  pn->name, (t1 - t0) / 1000.0);
      t0 = t1;
    }
    if (k->kind == K_NOOP)
      continue;
    if (k->nthr != cur) {
      cur = k->nthr;
      omp_set_num_threads (cur);
    }
    if (k->kind == K_REF) {
      if (!run_ref (plan, st, k, ni, error))
        return FALSE;
      continue;
    }
    if (k->n_parts > 1) {
      /* a split conv: the other parts on the helpers, the first here */
      for (int i = 0; i < k->n_parts - 1; i++)
        helper_post (&st->helpers[i], plan, st, &k->parts[i], ni);
      gboolean ok = run_dnnl (plan, st, k, ni, st->stream, error);
      for (int i = 0; i < k->n_parts - 1; i++) {
        Helper *h = &st->helpers[i];
        helper_wait (h);
        if (!h->ok && ok) {
          g_propagate_error (error, h->error);
          h->error = NULL;
          ok = FALSE;
        }
        g_clear_error (&h->error);
      }
      if (!ok)
        return FALSE;
      continue;
    }
    if (!run_dnnl (plan, st, k, ni, st->stream, error))
      return FALSE;
  }
  return dnnl_ok (dnnl_stream_wait (st->stream), "stream wait", plan, -1, error);
}

/* Plan-file blob: the convolutions' weights in their kernels' layouts, so a
 * warm start skips the weight reorders. Tagged with the oneDNN version and
 * CPU ISA the layouts were chosen for; a mismatch just recompiles them. */
#define WBLOB_MAGIC 0x4f564157u /* "WAVO" */

static char *
wblob_tag (void)
{
  const dnnl_version_t *v = dnnl_version ();
  return g_strdup_printf ("oneDNN %d.%d.%d %s isa %d md %zu", v->major, v->minor, v->patch, v->hash,
                          (int) dnnl_get_effective_cpu_isa (), sizeof (dnnl_memory_desc_t));
}

static GBytes *
cpu_serialize (OvaPlan *plan, void *state)
{
  CpuState *st = state;
  GByteArray *b = g_byte_array_new ();
  guint32 magic = WBLOB_MAGIC, count = 0;
  char *tag = wblob_tag ();
  guint32 tl = strlen (tag);
  g_byte_array_append (b, (guint8 *) &magic, 4);
  g_byte_array_append (b, (guint8 *) &tl, 4);
  g_byte_array_append (b, (guint8 *) tag, tl);
  g_free (tag);
  guint count_at = b->len;
  g_byte_array_append (b, (guint8 *) &count, 4);
  static const guint8 zeros[64];
  for (int pos = 0; pos < st->n; pos++) {
    Kernel *k = &st->k[pos];
    if (k->kind != K_CONV)
      continue;
    for (int i = 0; i < k->n_args; i++) {
      if (k->args[i].arg != DNNL_ARG_WEIGHTS)
        continue;
      const dnnl_memory_desc_t *md = &k->arg_md[i];
      void *h = NULL;
      dnnl_memory_get_data_handle (k->args[i].memory, &h);
      guint32 p = pos;
      guint64 size = dnnl_memory_desc_get_size (md);
      g_byte_array_append (b, (guint8 *) &p, 4);
      g_byte_array_append (b, (const guint8 *) md, sizeof *md);
      g_byte_array_append (b, (guint8 *) &size, 8);
      if (b->len % 64)
        g_byte_array_append (b, zeros, 64 - b->len % 64);
      g_byte_array_append (b, h, size);
      count++;
    }
  }
  memcpy (b->data + count_at, &count, 4);
  return g_byte_array_free_to_bytes (b);
}

/* @blob must start 64-byte aligned; it stays referenced while the plan lives. */
static gboolean
cpu_deserialize (OvaPlan *plan, GBytes *blob, void **state, GError **error)
{
  gsize len;
  const guint8 *p = g_bytes_get_data (blob, &len), *base = p, *end = p + len;
  guint32 magic, tl, count;
  if (len < 12)
    return FALSE;
  memcpy (&magic, p, 4);
  memcpy (&tl, p + 4, 4);
  if (magic != WBLOB_MAGIC || tl > len - 12)
    return FALSE;
  char *tag = wblob_tag ();
  gboolean same = strlen (tag) == tl && !memcmp (tag, p + 8, tl);
  g_free (tag);
  if (!same)
    return FALSE;
  p += 8 + tl;
  memcpy (&count, p, 4);
  p += 4;
  if (count > (guint32) plan->n_order)
    return FALSE;
  CpuState *st = g_new0 (CpuState, 1);
  st->owned_mem = g_ptr_array_new ();
  st->w_pos = g_new0 (int, count + 1);
  st->w_md = g_new0 (dnnl_memory_desc_t, count + 1);
  st->w_data = g_new0 (const guint8 *, count + 1);
  for (guint32 i = 0; i < count; i++) {
    guint32 pos;
    guint64 size;
    if ((gsize) (end - p) < 4 + sizeof (dnnl_memory_desc_t) + 8)
      break;
    memcpy (&pos, p, 4);
    memcpy (&st->w_md[i], p + 4, sizeof (dnnl_memory_desc_t));
    memcpy (&size, p + 4 + sizeof (dnnl_memory_desc_t), 8);
    p += 4 + sizeof (dnnl_memory_desc_t) + 8;
    if ((p - base) % 64)
      p += 64 - (p - base) % 64;
    if (p > end || (guint64) (end - p) < size || size != dnnl_memory_desc_get_size (&st->w_md[i]))
      break;
    st->w_pos[i] = pos;
    st->w_data[i] = p;
    p += size;
    st->n_w = i + 1;
  }
  st->wblob = g_bytes_ref (blob);
  *state = st;
  return TRUE;
}

static void *
cpu_alloc (size_t bytes)
{
  void *p = NULL;
  if (posix_memalign (&p, 64, (bytes + 63) & ~(size_t) 63))
    return NULL;
  memset (p, 0, bytes);
  return p;
}

static const OvaBackend cpu_backend = {
  .name = "cpu",
  .device = OVA_DEVICE_CPU,
  .precision = cpu_precision,
  .compile = cpu_compile,
  .bind = cpu_bind,
  .run = cpu_run,
  .release = cpu_release,
  .alloc = cpu_alloc,
  .free = free,
  .serialize = cpu_serialize,
  .deserialize = cpu_deserialize,
};

const OvaBackend *
ova_backend_cpu (void)
{
  return &cpu_backend;
}
