/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * The CUDA backend: cuDNN 9 for convolutions (bias and the fused element-wise
 * epilogue in one kernel of ova's; cuDNN's own fused conv+bias+ReLU where it
 * applies), cuBLASLt for Gemm/MatMul, ova's kernels (kernels.cu) for
 * everything else. fp32 or fp16 activations (network-mode=2), NCHW, fp32
 * accumulation. The whole plan is captured once as a CUDA graph and replayed:
 * graph inputs are first copied (fp16: converted, to NHWC where the first
 * kernels want it) into fixed device buffers,
 * so the graph never changes; fp16 graph outputs are converted back to fp32
 * by the graph's last kernels.
 *
 * OVA_CUDA_CHECK=1 runs node by node and compares every kernel's output with
 * the operator's plain-C reference kernel on the same inputs (tests/gpu);
 * OVA_CUDA_GRAPH=0 replays without a CUDA graph.
 */
#include "../plan.h"
#include "kernels.h"

#include <cublasLt.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WS_MAX ((size_t) 256 << 20)
#define MAX_PARTS 64

typedef enum {
  C_NOOP = 0,
  C_COPY,
  C_CONV,
  C_CHAIN,
  C_BINARY,
  C_STRIDED,
  C_POOL,
  C_RESIZE,
  C_SOFTMAX,
  C_GEMM,
} Kind;

typedef struct {
  int value; /* source value */
  int rank;
  int64_t dims[OVA_CUDA_MAX_RANK], ss[OVA_CUDA_MAX_RANK], ds[OVA_CUDA_MAX_RANK];
  int64_t so, dof;
  const void *src;
  gboolean in_place; /* Concat input written into the output by its producer: no copy */
} Part;

typedef struct {
  Kind kind;
  int ni;
  /* element-wise epilogue */
  OvaCudaChain chain;
  int chain_value[OVA_CUDA_MAX_CHAIN];
  float *scale, *bias; /* device, fp32 */
  int64_t channels, inner, n;
  /* conv */
  cudnnTensorDescriptor_t xd, yd, bd;
  cudnnFilterDescriptor_t wd;
  cudnnConvolutionDescriptor_t cd;
  cudnnActivationDescriptor_t ad;
  cudnnConvolutionFwdAlgo_t algo;
  size_t ws;
  gboolean fused;
  void *w;
  float *dw_w; /* depthwise on NHWC: ova kernel, weights [kh*kw][C] */
  int dw[8];
  /* dense fp16 NHWC: ova's implicit-GEMM kernel with the epilogue fused */
  gboolean ig;
  void *ig_w;            /* weights in the kernel's layout (kernels.h) */
  int dw_vec8;           /* depthwise: 0 ova's scalar kernel, 1 its 8-channel one, 2 that without branches */
  /* a depthwise convolution and the 1x1 convolution reading it, in one
   * kernel (fuse_dw_pw): the 1x1 one's dwpw_from is the depthwise kernel's
   * position (-1: none), whose own launch is skipped (fused_away) */
  int dwpw_from, dwpw_variant;
  /* two 1x1 convolutions in one kernel (fuse_pw_pw): the second one's
   * pwpw_from is the first one's position (-1: none), fused_away */
  int pwpw_from, pwpw_variant;
  gboolean fused_away;
  /* max poolings of one input run as one kernel (group_pools) at the last
   * of them: the positions of the others (fused_away) */
  int pool_with[OVA_CUDA_POOL_GROUP_MAX - 1], n_pool_with;
  OvaCudaDwShape dws;
  OvaCudaConvShape igs;
  /* NHWC output written into a channel slice of a Concat's output (ova's
   * implicit-GEMM convolutions, pooling, resize), or into rows of a
   * detection head's output (head_in_place: the convolutions) */
  int cat_out;           /* the Concat's (head's) output value (-1: its own output) */
  int64_t cat_ldc, cat_off;
  int64_t cat_row;       /* head: the level's first row there (elements: cat_row * cat_ldc) */
  /* input 0 read from its slice of a Concat's output (pooling, resize,
   * depthwise: concat_in_place) instead of its own buffer: that output's
   * width (elements per pixel); 0: its own buffer */
  int64_t x_ldc;
  /* binary */
  int op, rank;
  int64_t dims[OVA_CUDA_MAX_RANK], as[OVA_CUDA_MAX_RANK], bs[OVA_CUDA_MAX_RANK];
  /* strided copies */
  int n_parts;
  Part parts[MAX_PARTS];
  /* pool / resize / softmax */
  int p[16];
  float f[2];
  /* gemm */
  cublasLtMatmulDesc_t md;
  cublasLtMatrixLayout_t la, lb, lc;
  cublasLtMatmulAlgo_t lt_algo;
  float alpha;
  cudaEvent_t mid; /* OVA_CUDA_PROFILE: between a library call and its epilogue */
  /* pointers, resolved at bind */
  const void *x, *x2;
  void *y;
} CKernel;

/* Value (logical N, C, pixels...) stored inside another value's buffer:
 * element (b, c, p) at b * ldb + (row + p) * ldc + off + c of @root's
 * buffer (ldb 0: pixels * ldc, images back to back). */
typedef struct {
  int root; /* -1: in its own buffer */
  int64_t ldc, off, row, ldb;
} CatSlot;

typedef struct {
  OvaPlan *plan;
  gboolean half;
  int device;
  cudaStream_t stream;
  cudnnHandle_t dnn;
  cublasLtHandle_t lt;
  void *ws;
  size_t ws_bytes;
  CKernel *k;
  int n;
  void **cptr;   /* per value: constant uploaded in the activation type */
  void **shadow; /* per value: fixed buffers of graph inputs (and fp16 outputs) */
  gboolean *nhwc; /* per value: 4-D activation stored NHWC (fp16: tensor cores) */
  CatSlot *cat;   /* per value: where its producer writes it instead of its own buffer */
  int *s2d;       /* per value (graph inputs): channels of its space-to-depth layout, 0: plain */
  void **staging; /* per graph input: fp32 upload buffer of host inputs (fp16) */
  GPtrArray *owned;
  void *arena;
  cudaGraph_t graph;
  cudaGraphExec_t exec;
  gboolean graph_failed;
  cudaStream_t last;
  cudaEvent_t legacy_done;
  /* OVA_CUDA_STREAMS: the streams besides st->stream that a capture forks to */
  cudaStream_t aux[7];
  int n_aux;
  /* OVA_CUDA_PROFILE: per-node times of eager runs */
  double *prof_ms, *prof_epi;
  int prof_runs;
  int prof_level; /* OVA_CUDA_PROFILE's value when last profiled: 2 lists every node */
  gboolean checking; /* OVA_CUDA_CHECK run: fused-away kernels run too, so their outputs are checked */
} CudaState;

static gboolean
cu_ok (int e, const char *what, OvaPlan *plan, int ni, GError **error)
{
  if (e == 0)
    return TRUE;
  char *w = ni >= 0 ? ova_graph_node_where (plan->g, ni) : g_strdup (plan->g->path);
  g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_BACKEND, "%s: CUDA %s failed: %s", w, what,
               cudaGetErrorString ((cudaError_t) e));
  g_free (w);
  return FALSE;
}

static gboolean
dnn_ok (cudnnStatus_t s, const char *what, OvaPlan *plan, int ni, GError **error)
{
  if (s == CUDNN_STATUS_SUCCESS)
    return TRUE;
  char *w = ni >= 0 ? ova_graph_node_where (plan->g, ni) : g_strdup (plan->g->path);
  g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_BACKEND, "%s: cuDNN %s failed: %s", w, what,
               cudnnGetErrorString (s));
  g_free (w);
  return FALSE;
}

static gboolean
lt_ok (cublasStatus_t s, const char *what, OvaPlan *plan, int ni, GError **error)
{
  if (s == CUBLAS_STATUS_SUCCESS)
    return TRUE;
  char *w = ni >= 0 ? ova_graph_node_where (plan->g, ni) : g_strdup (plan->g->path);
  g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_BACKEND, "%s: cuBLASLt %s failed (status %d)", w, what, s);
  g_free (w);
  return FALSE;
}

static gboolean
unsupported (OvaPlan *plan, int ni, GError **error, const char *why)
{
  char *w = ova_graph_node_where (plan->g, ni);
  g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_UNSUPPORTED, "%s: not supported by the cuda backend: %s",
               w, why);
  g_free (w);
  return FALSE;
}

static int
cuda_device (void)
{
  const char *s = g_getenv ("OVA_CUDA_DEVICE");
  return s ? atoi (s) : 0;
}

static OvaPrecision
cuda_precision (OvaPrecision p)
{
  return p == OVA_PRECISION_FP16 ? OVA_PRECISION_FP16 : OVA_PRECISION_FP32;
}

static void *
cuda_alloc (size_t bytes)
{
  void *p = NULL;
  cudaSetDevice (cuda_device ());
  if (cudaMalloc (&p, bytes) != cudaSuccess)
    return NULL;
  cudaMemset (p, 0, bytes);
  return p;
}

static void
cuda_free (void *p)
{
  if (p)
    cudaFree (p);
}

static int
root_of (OvaGraph *g, int v)
{
  while (OVA_VALUE (g, v)->alias_of >= 0)
    v = OVA_VALUE (g, v)->alias_of;
  return v;
}

static void *
owned_alloc (CudaState *st, size_t bytes)
{
  void *p = cuda_alloc (MAX (bytes, 16));
  if (p)
    g_ptr_array_add (st->owned, p);
  return p;
}

/* Uploads @n floats (fp32, or converted to fp16 on the device). */
static void *
upload (CudaState *st, const float *src, int64_t n, gboolean half)
{
  void *d = owned_alloc (st, n * (half ? 2 : 4));
  if (!d)
    return NULL;
  if (half) {
    void *t = cuda_alloc (MAX (n, 1) * 4);
    if (!t)
      return NULL;
    cudaMemcpy (t, src, n * 4, cudaMemcpyHostToDevice);
    ova_cuda_convert (t, 0, d, 1, n, NULL);
    cudaDeviceSynchronize ();
    cudaFree (t);
  } else
    cudaMemcpy (d, src, n * 4, cudaMemcpyHostToDevice);
  return d;
}

static const float *
const_f32 (OvaGraph *g, int v)
{
  if (v < 0)
    return NULL;
  OvaValue *x = OVA_VALUE (g, v);
  return x->data && x->dtype == OVA_DTYPE_FLOAT32 ? g_bytes_get_data (x->data, NULL) : NULL;
}

static gboolean
const_ints (OvaGraph *g, int v, int64_t *out, int max, int *n)
{
  if (v < 0)
    return FALSE;
  OvaValue *x = OVA_VALUE (g, v);
  if (!x->data)
    return FALSE;
  int64_t cnt = ova_value_numel (x);
  if (cnt > max)
    return FALSE;
  const void *p = g_bytes_get_data (x->data, NULL);
  for (int64_t i = 0; i < cnt; i++)
    out[i] = x->dtype == OVA_DTYPE_INT64 ? ((const int64_t *) p)[i] : ((const int32_t *) p)[i];
  *n = (int) cnt;
  return TRUE;
}

/* Device pointer of a value (constants in the activation type). */
static void *
vptr (OvaPlan *plan, CudaState *st, int v)
{
  OvaGraph *g = plan->g;
  if (v < 0)
    return NULL;
  int r = root_of (g, v);
  OvaValue *x = OVA_VALUE (g, r);
  if (x->data) {
    if (!st->cptr[r] && x->dtype == OVA_DTYPE_FLOAT32)
      st->cptr[r] = upload (st, g_bytes_get_data (x->data, NULL), ova_value_numel (x), st->half);
    return st->cptr[r];
  }
  if (st->shadow[r])
    return st->shadow[r];
  return x->offset >= 0 ? (char *) st->arena + x->offset : NULL;
}

static void
contiguous_strides (int rank, const int64_t *dims, int64_t *s)
{
  int64_t acc = 1;
  for (int i = rank - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i];
  }
}

static OvaOpNode
opnode (const OvaNode *n)
{
  OvaOpNode on = { n->op_type, n->name, n->domain, n->opset, n->n_attrs, n->attrs, n->n_inputs, n->n_outputs };
  return on;
}

static gboolean
is_nhwc (CudaState *st, OvaGraph *g, int v)
{
  return st->nhwc && v >= 0 && st->nhwc[root_of (g, v)];
}

/* Element strides of @v's logical (NCHW) axes in its memory layout. */
static void
layout_strides (CudaState *st, OvaGraph *g, int v, int64_t *s)
{
  OvaValue *x = OVA_VALUE (g, v);
  if (is_nhwc (st, g, v)) {
    int64_t C = x->dims[1], H = x->dims[2], W = x->dims[3];
    s[0] = C * H * W;
    s[1] = 1;
    s[2] = W * C;
    s[3] = C;
  } else
    contiguous_strides (x->rank, x->dims, s);
}

static gboolean
chain_add (CKernel *k, int func, float a, float b, int operand)
{
  if (k->chain.n >= OVA_CUDA_MAX_CHAIN)
    return FALSE;
  k->chain.func[k->chain.n] = func;
  k->chain.alpha[k->chain.n] = a;
  k->chain.beta[k->chain.n] = b;
  k->chain_value[k->chain.n] = operand;
  k->chain.n++;
  return TRUE;
}

static gboolean
chain_posts (CKernel *k, const OvaNode *n)
{
  static const int map[] = {
    [OVA_POST_RELU] = OVA_CUDA_F_RELU, [OVA_POST_LEAKY_RELU] = OVA_CUDA_F_LEAKY_RELU,
    [OVA_POST_SIGMOID] = OVA_CUDA_F_SIGMOID, [OVA_POST_SILU] = OVA_CUDA_F_SILU,
    [OVA_POST_HARD_SWISH] = OVA_CUDA_F_HARD_SWISH, [OVA_POST_HARD_SIGMOID] = OVA_CUDA_F_HARD_SIGMOID,
    [OVA_POST_CLIP] = OVA_CUDA_F_CLIP, [OVA_POST_TANH] = OVA_CUDA_F_TANH, [OVA_POST_ADD] = OVA_CUDA_F_ADD_TENSOR,
  };
  for (int i = 0; i < n->n_post; i++) {
    const OvaPostOp *p = &n->post[i];
    if (p->kind <= 0 || p->kind > OVA_POST_ADD)
      return FALSE;
    if (!chain_add (k, map[p->kind], p->alpha, p->beta, p->kind == OVA_POST_ADD ? p->operand : -1))
      return FALSE;
  }
  return TRUE;
}

/* Unary operators as the first function of a chain. */
static int
unary_func (const OvaNode *n, float *a, float *b)
{
  const char *op = n->op_type;
  OvaOpNode on = opnode (n);
  *a = *b = 0;
  if (!strcmp (op, "Relu")) return OVA_CUDA_F_RELU;
  if (!strcmp (op, "Sigmoid")) return OVA_CUDA_F_SIGMOID;
  if (!strcmp (op, "Tanh")) return OVA_CUDA_F_TANH;
  if (!strcmp (op, "Exp")) return OVA_CUDA_F_EXP;
  if (!strcmp (op, "Neg")) return OVA_CUDA_F_NEG;
  if (!strcmp (op, "Abs")) return OVA_CUDA_F_ABS;
  if (!strcmp (op, "Sqrt")) return OVA_CUDA_F_SQRT;
  if (!strcmp (op, "Reciprocal")) return OVA_CUDA_F_RECIPROCAL;
  if (!strcmp (op, "HardSwish")) return OVA_CUDA_F_HARD_SWISH;
  if (!strcmp (op, "LeakyRelu")) {
    *a = ova_op_attr_float (&on, "alpha", 0.01f);
    return OVA_CUDA_F_LEAKY_RELU;
  }
  if (!strcmp (op, "HardSigmoid")) {
    *a = ova_op_attr_float (&on, "alpha", 0.2f);
    *b = ova_op_attr_float (&on, "beta", 0.5f);
    return OVA_CUDA_F_HARD_SIGMOID;
  }
  return -1;
}

static int
binary_op (const char *op)
{
  if (!strcmp (op, "Add")) return OVA_CUDA_B_ADD;
  if (!strcmp (op, "Sub")) return OVA_CUDA_B_SUB;
  if (!strcmp (op, "Mul")) return OVA_CUDA_B_MUL;
  if (!strcmp (op, "Div")) return OVA_CUDA_B_DIV;
  if (!strcmp (op, "Max")) return OVA_CUDA_B_MAX;
  if (!strcmp (op, "Min")) return OVA_CUDA_B_MIN;
  if (!strcmp (op, "Pow")) return OVA_CUDA_B_POW;
  return -1;
}

static gboolean
is_view (OvaGraph *g, const OvaNode *n)
{
  return n->n_outputs >= 1 && n->outputs[0] >= 0 && OVA_VALUE (g, n->outputs[0])->alias_of >= 0;
}

/* ---------------------------------------------------------------- compile */

/* A 1x1 convolution on NHWC is one GEMM: Y[NHW, K] = X[NHW, C] . W[K, C]^T
 * (cuBLASLt; column-major Y^T = W . X^T). FALSE when cuBLASLt has no algorithm. */
static gboolean
conv1x1_gemm (CudaState *st, CKernel *k, int64_t M, int64_t K, int64_t C)
{
  cudaDataType_t dt = st->half ? CUDA_R_16F : CUDA_R_32F;
  cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
  if (cublasLtMatmulDescCreate (&k->md, CUBLAS_COMPUTE_32F, CUDA_R_32F) != CUBLAS_STATUS_SUCCESS ||
      cublasLtMatmulDescSetAttribute (k->md, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta) != CUBLAS_STATUS_SUCCESS ||
      cublasLtMatmulDescSetAttribute (k->md, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb) != CUBLAS_STATUS_SUCCESS ||
      cublasLtMatrixLayoutCreate (&k->la, dt, C, K, C) != CUBLAS_STATUS_SUCCESS ||
      cublasLtMatrixLayoutCreate (&k->lb, dt, C, M, C) != CUBLAS_STATUS_SUCCESS ||
      cublasLtMatrixLayoutCreate (&k->lc, dt, K, M, K) != CUBLAS_STATUS_SUCCESS)
    return FALSE;
  cublasLtMatmulPreference_t pref;
  size_t wsmax = 32 << 20;
  cublasLtMatmulPreferenceCreate (&pref);
  cublasLtMatmulPreferenceSetAttribute (pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &wsmax, sizeof wsmax);
  cublasLtMatmulHeuristicResult_t res;
  int found = 0;
  cublasStatus_t s = cublasLtMatmulAlgoGetHeuristic (st->lt, k->md, k->la, k->lb, k->lc, k->lc, pref, 1, &res, &found);
  cublasLtMatmulPreferenceDestroy (pref);
  if (s != CUBLAS_STATUS_SUCCESS || !found)
    return FALSE;
  k->lt_algo = res.algo;
  k->alpha = 1.f;
  st->ws_bytes = MAX (st->ws_bytes, wsmax);
  return TRUE;
}

/* OVA_CUDA_IGEMM: unset, "auto" or 1: ova's implicit-GEMM convolution where it
 * is faster than the library path (timed at compile time); 0: never; "force":
 * wherever it applies (so OVA_CUDA_CHECK exercises it). */
typedef enum { IGEMM_OFF = 0, IGEMM_AUTO, IGEMM_FORCE } IgemmMode;

static IgemmMode
igemm_mode (void)
{
  const char *s = g_getenv ("OVA_CUDA_IGEMM");
  if (!s || !*s || !strcmp (s, "auto"))
    return IGEMM_AUTO;
  if (!strcmp (s, "force"))
    return IGEMM_FORCE;
  return atoi (s) ? IGEMM_AUTO : IGEMM_OFF;
}

static gboolean
concat_in_place_enabled (void)
{
  const char *s = g_getenv ("OVA_CUDA_CONCAT_INPLACE");
  return !s || atoi (s) != 0;
}

/* OVA_CUDA_HEAD_ROWS: unset or 1: detection heads written in place
 * (head_in_place) where their branches run ova's kernels; "force": their
 * branches always run ova's kernels, and a head that cannot be written in
 * place is an error (tests); 0: never. */
static int
head_rows_mode (void)
{
  const char *s = g_getenv ("OVA_CUDA_HEAD_ROWS");
  if (!concat_in_place_enabled () || (s && !strcmp (s, "0")))
    return 0;
  return s && !strcmp (s, "force") ? 2 : 1;
}

/* The one node of the plan reading @v (-1: none, several, or @v is also a
 * residual operand); views of @v other than that node's own output count
 * as readers too. */
static int
sole_reader (OvaPlan *plan, int v)
{
  OvaGraph *g = plan->g;
  int user = -1, uses = 0;
  for (int pos = 0; pos < plan->n_order; pos++) {
    OvaNode *n = OVA_NODE (g, plan->order[pos]);
    for (int i = 0; i < n->n_inputs; i++)
      if (n->inputs[i] == v) {
        uses++;
        user = plan->order[pos];
      }
    for (int i = 0; i < n->n_post; i++)
      if (n->post[i].kind == OVA_POST_ADD && n->post[i].operand == v)
        uses += 2;
  }
  if (uses != 1)
    return -1;
  for (guint i = 0; i < g->values->len; i++)
    if (OVA_VALUE (g, i)->alias_of == v && OVA_VALUE (g, i)->producer != user)
      return -1;
  return user;
}

/* A node's "axis" attribute (default 0), negative ones counted from @rank */
static int64_t
axis_of (const OvaNode *n, int rank)
{
  OvaOpNode on = opnode (n);
  int64_t a = ova_op_attr_int (&on, "axis", 0);
  return a < 0 ? a + rank : a;
}

/* The NHWC channel Concat that is the only reader of @v, whose producer may
 * then write @v straight into the Concat's output; -1 if there is none (other
 * readers, views of @v, a graph output, another layout or axis). */
static int
sole_concat_user (OvaPlan *plan, CudaState *st, int v)
{
  OvaGraph *g = plan->g;
  OvaValue *x = OVA_VALUE (g, v);
  if (!concat_in_place_enabled () || x->alias_of >= 0 || x->is_output || x->data || x->rank != 4 ||
      !is_nhwc (st, g, v))
    return -1;
  int user = sole_reader (plan, v);
  if (user < 0)
    return -1;
  OvaNode *c = OVA_NODE (g, user);
  if (strcmp (c->op_type, "Concat") || c->n_outputs < 1 || c->outputs[0] < 0)
    return -1;
  OvaValue *y = OVA_VALUE (g, c->outputs[0]);
  if (axis_of (c, y->rank) != 1 || y->rank != 4 || y->alias_of >= 0 || y->is_output ||
      !is_nhwc (st, g, c->outputs[0]))
    return -1;
  return user;
}

static gboolean head_branch (OvaPlan *plan, CudaState *st, int v);

/* @v rounded up to a multiple of @m (the padded weight rows and columns) */
static int64_t
igemm_round (int64_t v, int64_t m)
{
  return (v + m - 1) / m * m;
}

/* Weights in the implicit-GEMM kernel's layout and its shape (writing its
 * own output; concat_in_place may redirect it later). @cp > 0: for the
 * space-to-depth copy of the input with @cp channels (s2d_channels): a
 * stride-1 convolution with half the window and half the pads, the weight of
 * sub-pixel (dy, dx) of input channel c at channel (dy * 2 + dx) * C + c. */
static gboolean
igemm_prepare (CudaState *st, CKernel *k, const OvaValue *x, const OvaValue *y, const OvaValue *W, const float *w,
               const int *str, const int *pad, int cp)
{
  int64_t Co = W->dims[0], C = W->dims[1], R = W->dims[2], S = W->dims[3];
  int64_t R2 = cp ? R / 2 : R, S2 = cp ? S / 2 : S, K = R2 * S2 * (cp ? cp : C);
  int64_t np = igemm_round (Co, OVA_CUDA_IGEMM_NPAD), kp = igemm_round (K, OVA_CUDA_IGEMM_KPAD);
  if (C != x->dims[1] || Co != y->dims[1] || K >= (1 << 30) || x->dims[0] > G_MAXINT || y->dims[2] > G_MAXINT)
    return FALSE;
  float *t = g_new0 (float, np * kp);
  for (int64_t o = 0; o < Co; o++)
    for (int64_t c = 0; c < C; c++)
      for (int64_t r = 0; r < R; r++)
        for (int64_t q = 0; q < S; q++) {
          int64_t col = cp ? ((r / 2) * S2 + q / 2) * cp + ((r % 2) * 2 + q % 2) * C + c : (r * S + q) * C + c;
          t[o * kp + col] = w[((o * C + c) * R + r) * S + q];
        }
  void *wd = upload (st, t, np * kp, TRUE);
  g_free (t);
  if (!wd)
    return FALSE;
  k->ig_w = wd;
  OvaCudaConvShape s = {
    .n = (int) x->dims[0], .h = (int) x->dims[2] / (cp ? 2 : 1), .w = (int) x->dims[3] / (cp ? 2 : 1),
    .c = cp ? cp : (int) C, .oh = (int) y->dims[2], .ow = (int) y->dims[3], .k = (int) Co,
    .kh = (int) R2, .kw = (int) S2, .sh = cp ? 1 : str[0], .sw = cp ? 1 : str[1],
    .ph = cp ? pad[0] / 2 : pad[0], .pw = cp ? pad[1] / 2 : pad[1], .ldc = (int) Co, .c_off = 0, .tile = -1,
  };
  k->igs = s;
  return TRUE;
}

/* The channels of the space-to-depth layout in which convolution @n could
 * read its input @x, 0 when it cannot: @x is a graph input (converted from
 * NCHW fp32 on the way in) that only @n reads, with 1 to 4 channels and an
 * even size, and @n has stride 2 and even windows and pads (a first layer,
 * e.g. YOLOX's Focus slices folded into a 6x6 stride-2 convolution).
 * Opt-in (OVA_CUDA_S2D=1) until tests/gpu has checked it on a GPU. */
static int
s2d_channels (OvaGraph *g, const OvaValue *x, int xv, const OvaValue *W, const int *str, const int *pad)
{
  const char *e = g_getenv ("OVA_CUDA_S2D");
  if (e && !atoi (e))
    return 0;
  gboolean input = FALSE;
  for (int i = 0; i < g->n_inputs; i++)
    input = input || g->inputs[i] == xv;
  int64_t C = x->dims[1];
  if (!input || x->n_uses != 1 || C < 1 || C > 4 || x->dims[2] % 2 || x->dims[3] % 2 || str[0] != 2 || str[1] != 2 ||
      W->dims[2] % 2 || W->dims[3] % 2 || pad[0] % 2 || pad[1] % 2)
    return 0;
  return 4 * C <= 8 ? 8 : 16;
}

/* @c without its ADD_TENSOR steps: for timing at compile time, before
 * operands are bound to memory. */
static OvaCudaChain
chain_without_operands (const OvaCudaChain *c)
{
  OvaCudaChain t = { 0 };
  for (int i = 0; i < c->n; i++)
    if (c->func[i] != OVA_CUDA_F_ADD_TENSOR) {
      int j = t.n++;
      t.func[j] = c->func[i];
      t.alpha[j] = c->alpha[i];
      t.beta[j] = c->beta[i];
    }
  return t;
}

typedef enum { T_IGEMM, T_GEMM, T_EPILOGUE, T_DW_VEC8, T_DW_SCALAR, T_DW_PRED, T_DWPW, T_PWPW } Candidate;

typedef struct {
  CudaState *st;
  CKernel *k;
  Candidate which;
  const void *tx;
  void *ty, *ws;
  const OvaCudaChain *chain;
  const OvaValue *x, *y; /* depthwise: the convolution's input and output */
  const CKernel *dk;     /* T_DWPW: the depthwise kernel (k: the 1x1 one, its shape in k->dws); T_PWPW: the first 1x1 */
  int variant;
  const OvaCudaConvShape *pws; /* T_DWPW: the 1x1 convolution's shape, written plain */
} CandidateRun;

/* One run of candidate @r on its scratch buffers: a cudaError_t (or 1 for a
 * library failure). */
static int
run_candidate (const CandidateRun *r)
{
  CKernel *k = r->k;
  CudaState *st = r->st;
  float zero = 0.f;
  switch (r->which) {
    case T_IGEMM:
      return ova_cuda_conv_igemm_nhwc (r->tx, k->ig_w, k->bias, r->ty, &k->igs, r->chain, st->stream);
    case T_GEMM:
      return cublasLtMatmul (st->lt, k->md, &k->alpha, k->w, k->la, r->tx, k->lb, &zero, r->ty, k->lc, r->ty, k->lc,
                             &k->lt_algo, r->ws, 32 << 20, st->stream) != CUBLAS_STATUS_SUCCESS;
    case T_EPILOGUE:
      return ova_cuda_chain (r->ty, r->ty, st->half, k->n, NULL, k->bias, k->channels, k->inner, r->chain, st->stream);
    case T_DWPW: {
      /* operands are not bound yet: timed without the ADD_TENSOR steps */
      OvaCudaChain dch = chain_without_operands (&r->dk->chain);
      OvaCudaChain pch = chain_without_operands (r->chain ? r->chain : &k->chain);
      return ova_cuda_conv_dwpw_nhwc (r->tx, r->dk->dw_w, r->dk->bias, &dch, &k->dws, k->ig_w, k->bias, r->ty,
                                      r->pws, r->variant, &pch, st->stream);
    }
    case T_PWPW: {
      OvaCudaChain pch = chain_without_operands (&k->chain);
      return ova_cuda_conv_pwpw_nhwc (r->tx, r->dk->ig_w, r->dk->bias, &r->dk->chain, &r->dk->igs, k->ig_w, k->bias,
                                      r->ty, r->pws, r->variant, &pch, st->stream);
    }
    case T_DW_VEC8:
    case T_DW_PRED:
    case T_DW_SCALAR: {
      const OvaValue *x = r->x, *y = r->y;
      return ova_cuda_dwconv_nhwc (r->tx, r->ty, st->half, k->dw_w, k->bias, x->dims[0], x->dims[1], x->dims[2],
                                   x->dims[3], y->dims[2], y->dims[3], k->dw[0], k->dw[1], k->dw[2], k->dw[3],
                                   k->dw[4], k->dw[5], x->dims[1], x->dims[1], 0,
                                   r->which == T_DW_PRED ? 2 : r->which == T_DW_VEC8, NULL, st->stream);
    }
  }
  return 1;
}

/* Mean time (ms) of one run of candidate @r, timed with events after a
 * warm-up round; -1 when it fails to run. */
static float
time_run (const CandidateRun *r)
{
  CudaState *st = r->st;
  cudaEvent_t a, b;
  float ms = -1;
  if (cudaEventCreate (&a) != cudaSuccess)
    return -1;
  if (cudaEventCreate (&b) != cudaSuccess) {
    cudaEventDestroy (a);
    return -1;
  }
  for (int round = 0; round < 2; round++) { /* the first round warms up */
    int e = cudaEventRecord (a, st->stream);
    for (int i = 0; i < 5 && !e; i++)
      e = run_candidate (r);
    if (!e)
      e = cudaEventRecord (b, st->stream);
    if (!e)
      e = cudaEventSynchronize (b);
    if (!e)
      e = cudaEventElapsedTime (&ms, a, b);
    if (e) {
      ms = -1;
      break;
    }
  }
  cudaStreamSynchronize (st->stream);
  cudaEventDestroy (a);
  cudaEventDestroy (b);
  cudaGetLastError ();
  return ms < 0 ? -1 : ms / 5;
}

/* Mean time (ms) of one run of a convolution candidate on scratch buffers
 * (@ws: cuBLASLt workspace for T_GEMM); -1 when it fails to run. */
static float
time_candidate (CudaState *st, CKernel *k, Candidate which, const void *tx, void *ty, void *ws,
                const OvaCudaChain *chain)
{
  CandidateRun r = { st, k, which, tx, ty, ws, chain, NULL, NULL };
  return time_run (&r);
}

/* OVA_CUDA_IGEMM_TILE=NAME: the convolution always uses that variant of
 * the implicit-GEMM kernel ("BMxBN" a block tile, "direct" the direct
 * first-layer kernel, "1x1-RxC" a warp tile of the 1x1 kernel; see
 * ova_cuda_conv_igemm_tile_name), so a check can cover each variant; unset:
 * each convolution times every variant and keeps the fastest. -1 when
 * unset or not a variant. */
static int
igemm_forced_tile (void)
{
  const char *s = g_getenv ("OVA_CUDA_IGEMM_TILE");
  const char *name;
  if (!s || !*s)
    return -1;
  for (int t = 0; (name = ova_cuda_conv_igemm_tile_name (t)); t++)
    if (!strcmp (name, s))
      return t;
  static gboolean warned;
  if (!warned)
    g_printerr ("ova-engine: OVA_CUDA_IGEMM_TILE=%s is not a variant of the implicit-GEMM kernel; timing all\n", s);
  warned = TRUE;
  return -1;
}

/* Times the implicit-GEMM kernel's variants (or the forced one) and leaves
 * the fastest in k->igs.tile; its time (ms), -1 when none runs. Variants
 * that do not apply to the convolution fail to launch and are left out.
 * OVA_CUDA_CONV_DIRECT=0, OVA_CUDA_IGEMM_M16=0 and OVA_CUDA_MMA1X1=0 leave
 * out the direct kernel, the 16-pixel block tiles and the 1x1 kernel;
 * OVA_CUDA_MMA1X1_PRELOAD=0 leaves out the 1x1 kernel's preloading warp
 * tiles ("1x1p-RxC") and OVA_CUDA_CONV_PATCH=0 the shared-memory patch
 * kernel ("patch-…", 3x3 on 16 channels: the space-to-depth first layer);
 * OVA_CUDA_MMA_KXK=1 adds the 1x1 kernel's window-gathering tiles
 * ("kxk-RxC", for dense kxk convolutions; opt-in: within a few per cent
 * when measured). */
static float
time_igemm_tiles (OvaPlan *plan, CudaState *st, CKernel *k, const OvaNode *n, const void *tx, void *ty,
                  const OvaCudaChain *chain)
{
  int forced = igemm_forced_tile (), best = -1, bm, bn;
  float t_best = -1;
  const char *sd = g_getenv ("OVA_CUDA_CONV_DIRECT"), *sm = g_getenv ("OVA_CUDA_IGEMM_M16");
  const char *s1 = g_getenv ("OVA_CUDA_MMA1X1"), *sp = g_getenv ("OVA_CUDA_MMA1X1_PRELOAD");
  gboolean direct = !sd || atoi (sd) != 0, m16 = !sm || atoi (sm) != 0, mma1x1 = !s1 || atoi (s1) != 0;
  gboolean preload = !sp || atoi (sp) != 0;
  const char *sk = g_getenv ("OVA_CUDA_MMA_KXK"), *sq = g_getenv ("OVA_CUDA_CONV_PATCH");
  gboolean kxk = sk && atoi (sk) != 0, patch = !sq || atoi (sq) != 0;
  GString *report = plan->verbose ? g_string_new (NULL) : NULL;
  const char *name;
  for (int t = 0; ova_cuda_conv_igemm_tile (t, &bm, &bn) && (name = ova_cuda_conv_igemm_tile_name (t)); t++) {
    gboolean is_pre = g_str_has_prefix (name, "1x1p-"), is_kxk = g_str_has_prefix (name, "kxk-");
    gboolean is_1x1 = is_pre || g_str_has_prefix (name, "1x1-"), is_patch = g_str_has_prefix (name, "patch-");
    if (forced >= 0 ? t != forced
                    : (bm == 0 && !direct) || (bm == 16 && !is_1x1 && !is_kxk && !m16) || (is_1x1 && !mma1x1) ||
                          (is_pre && !preload) || (is_kxk && !kxk) || (is_patch && !patch))
      continue;
    k->igs.tile = t;
    float ms = time_candidate (st, k, T_IGEMM, tx, ty, NULL, chain);
    if (report && ms >= 0) /* variants that do not apply are not printed */
      g_string_append_printf (report, " %s %.4f", name, ms);
    else if (report && bm != 0 && !is_1x1 && !is_kxk && !is_patch)
      g_string_append_printf (report, " %s -1", name);
    if (ms >= 0 && (t_best < 0 || ms < t_best)) {
      t_best = ms;
      best = t;
    }
  }
  k->igs.tile = best;
  if (report) {
    if (best >= 0)
      g_printerr ("ova-engine: node '%s' (Conv): implicit-GEMM variants (ms):%s; best %s%s\n", n->name,
                  report->str, ova_cuda_conv_igemm_tile_name (best), forced >= 0 ? " (forced)" : "");
    g_string_free (report, TRUE);
  }
  return t_best;
}

/* OVA_CUDA_DW: unset or "auto": ova's depthwise kernels where timed faster
 * than cuDNN + epilogue, the fastest of its variants; "force": ova's
 * 8-channel kernel wherever it applies (else the scalar one); "pred": its
 * branch-free variant likewise; "scalar": ova's one-element-per-thread
 * kernel always (OVA_CUDA_NO_DW: cuDNN always). OVA_CUDA_DW_PRED=0 leaves
 * the branch-free variant out of "auto". */
typedef enum { DW_AUTO, DW_FORCE, DW_SCALAR, DW_PRED } DwMode;

static DwMode
dw_mode (void)
{
  const char *s = g_getenv ("OVA_CUDA_DW");
  if (s && !strcmp (s, "force"))
    return DW_FORCE;
  if (s && !strcmp (s, "pred"))
    return DW_PRED;
  if (s && !strcmp (s, "scalar"))
    return DW_SCALAR;
  return DW_AUTO;
}

/* Mean time (ms) of ova's depthwise kernel on scratch buffers: @variant 0
 * the scalar one, 1 the 8-channel one, 2 that without branches (-1 when it
 * fails or does not apply). */
static float
time_dw (CudaState *st, CKernel *k, const OvaValue *x, const OvaValue *y, const void *tx, void *ty, int variant)
{
  if (variant && !(st->half && x->dims[1] % 8 == 0))
    return -1;
  CandidateRun r = { st, k, variant == 2 ? T_DW_PRED : variant ? T_DW_VEC8 : T_DW_SCALAR, tx, ty, NULL, NULL, x, y };
  return time_run (&r);
}

static void
drop_gemm (CKernel *k)
{
  if (k->md) cublasLtMatmulDescDestroy (k->md);
  if (k->la) cublasLtMatrixLayoutDestroy (k->la);
  if (k->lb) cublasLtMatrixLayoutDestroy (k->lb);
  if (k->lc) cublasLtMatrixLayoutDestroy (k->lc);
  k->md = NULL;
  k->la = k->lb = k->lc = NULL;
}

static gboolean
compile_conv (OvaPlan *plan, CudaState *st, CKernel *k, int ni, GError **error)
{
  OvaGraph *g = plan->g;
  OvaNode *n = OVA_NODE (g, ni);
  OvaOpNode on = opnode (n);
  OvaValue *x = OVA_VALUE (g, n->inputs[0]), *y = OVA_VALUE (g, n->outputs[0]);
  int wv = n->inputs[1];
  const float *w = const_f32 (g, wv);
  if (x->rank != 4 || !w)
    return unsupported (plan, ni, error, "only 2-D convolutions with constant weights");
  OvaValue *W = OVA_VALUE (g, wv);
  if (strcmp (ova_op_attr_string (&on, "auto_pad", "NOTSET"), "NOTSET"))
    return unsupported (plan, ni, error, "auto_pad");
  const int64_t *pads = NULL, *strides = NULL, *dil = NULL;
  int np = ova_op_attr_ints (&on, "pads", &pads), ns = ova_op_attr_ints (&on, "strides", &strides),
      nd = ova_op_attr_ints (&on, "dilations", &dil);
  int pad[4] = { 0, 0, 0, 0 }, str[2] = { 1, 1 }, dl[2] = { 1, 1 };
  for (int i = 0; i < np && i < 4; i++)
    pad[i] = pads[i];
  for (int i = 0; i < ns && i < 2; i++)
    str[i] = strides[i];
  for (int i = 0; i < nd && i < 2; i++)
    dl[i] = dil[i];
  if (pad[0] != pad[2] || pad[1] != pad[3])
    return unsupported (plan, ni, error, "asymmetric padding");
  int group = (int) ova_op_attr_int (&on, "group", 1);
  cudnnDataType_t dt = st->half ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
  gboolean nhwc = is_nhwc (st, g, n->outputs[0]);
  cudnnTensorFormat_t fmt = nhwc ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
  if (!dnn_ok (cudnnCreateTensorDescriptor (&k->xd), "descriptor", plan, ni, error) ||
      !dnn_ok (cudnnCreateTensorDescriptor (&k->yd), "descriptor", plan, ni, error) ||
      !dnn_ok (cudnnCreateFilterDescriptor (&k->wd), "descriptor", plan, ni, error) ||
      !dnn_ok (cudnnCreateConvolutionDescriptor (&k->cd), "descriptor", plan, ni, error))
    return FALSE;
  if (!dnn_ok (cudnnSetTensor4dDescriptor (k->xd, fmt, dt, x->dims[0], x->dims[1], x->dims[2], x->dims[3]),
               "x descriptor", plan, ni, error) ||
      !dnn_ok (cudnnSetTensor4dDescriptor (k->yd, fmt, dt, y->dims[0], y->dims[1], y->dims[2], y->dims[3]),
               "y descriptor", plan, ni, error) ||
      !dnn_ok (cudnnSetFilter4dDescriptor (k->wd, dt, fmt, W->dims[0], W->dims[1], W->dims[2], W->dims[3]),
               "w descriptor", plan, ni, error) ||
      !dnn_ok (cudnnSetConvolution2dDescriptor (k->cd, pad[0], pad[1], str[0], str[1], dl[0], dl[1],
                                                CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT),
               "conv descriptor", plan, ni, error) ||
      !dnn_ok (cudnnSetConvolutionGroupCount (k->cd, group), "group count", plan, ni, error) ||
      /* fp32 stays fp32 (no TF32) so outputs match the CPU within 1e-3 */
      !dnn_ok (cudnnSetConvolutionMathType (k->cd, st->half ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH), "math type",
               plan, ni, error))
    return FALSE;
  if (nhwc) {
    /* KCRS -> KRSC */
    int64_t K = W->dims[0], C = W->dims[1], RS = W->dims[2] * W->dims[3];
    float *t = g_new (float, MAX (K * C * RS, 1));
    for (int64_t a = 0; a < K; a++)
      for (int64_t c = 0; c < C; c++)
        for (int64_t r = 0; r < RS; r++)
          t[(a * RS + r) * C + c] = w[(a * C + c) * RS + r];
    k->w = upload (st, t, K * C * RS, st->half);
    g_free (t);
  } else
    k->w = upload (st, w, ova_value_numel (W), st->half);
  const float *b = n->n_inputs > 2 ? const_f32 (g, n->inputs[2]) : NULL;
  if (n->n_inputs > 2 && n->inputs[2] >= 0 && !b)
    return unsupported (plan, ni, error, "non-constant bias");
  if (b)
    k->bias = upload (st, b, W->dims[0], FALSE);
  k->channels = y->dims[1];
  k->inner = nhwc ? 1 : y->dims[2] * y->dims[3];
  k->n = ova_value_numel (y);
  if (!chain_posts (k, n))
    return unsupported (plan, ni, error, "post-op chain");

  /* ova's implicit-GEMM kernel: timed here, compared with the library path below */
  IgemmMode igm = igemm_mode ();
  float t_ig = -1, t_copy = 0;
  void *ig_x = NULL, *ig_y = NULL;
  OvaCudaChain timing_chain = chain_without_operands (&k->chain);
  if (igm != IGEMM_OFF && st->half && nhwc && is_nhwc (st, g, n->inputs[0]) && group == 1 && dl[0] == 1 &&
      dl[1] == 1 && igemm_prepare (st, k, x, y, W, w, str, pad, 0)) {
    ig_x = cuda_alloc (ova_value_numel (x) * 2);
    ig_y = cuda_alloc (ova_value_numel (y) * 2);
    if (ig_x && ig_y)
      t_ig = time_igemm_tiles (plan, st, k, n, ig_x, ig_y, &timing_chain);
    /* the same convolution on a space-to-depth copy of the graph input:
     * 16-byte loads instead of a gather of 1 to 4 channels */
    /* (also where the plain form does not run: a variant forced by
     * OVA_CUDA_IGEMM_TILE may only apply to the space-to-depth form) */
    int cp = st->s2d && ig_y ? s2d_channels (g, x, n->inputs[0], W, str, pad) : 0;
    if (cp) {
      OvaCudaConvShape plain = k->igs;
      void *plain_w = k->ig_w; /* both kept in st->owned */
      int64_t sbytes = x->dims[0] * (x->dims[2] / 2) * (x->dims[3] / 2) * cp * 2;
      void *sx = cuda_alloc (sbytes);
      float t_s2d = sx && igemm_prepare (st, k, x, y, W, w, str, pad, cp)
                        ? time_igemm_tiles (plan, st, k, n, sx, ig_y, &timing_chain) : -1;
      cuda_free (sx);
      void *buf = t_s2d >= 0 && (t_ig < 0 || t_s2d < t_ig) ? owned_alloc (st, sbytes) : NULL;
      if (plan->verbose)
        g_printerr ("ova-engine: node '%s' (Conv): on a space-to-depth input (%d channels) %.4f ms, plain %.4f ms: %s\n",
                    n->name, cp, t_s2d, t_ig, buf ? "space-to-depth" : "plain");
      if (buf) {
        t_ig = t_s2d;
        st->s2d[root_of (g, n->inputs[0])] = cp;
        st->shadow[root_of (g, n->inputs[0])] = buf; /* the plain-sized one stays owned */
      } else {
        k->igs = plain;
        k->ig_w = plain_w;
      }
    }
    /* written in place into a Concat (or a head's rows), it also saves the
     * Concat's copy of its output: about one more pass over the tensor,
     * like the epilogue */
    gboolean branch = t_ig >= 0 && head_branch (plan, st, n->outputs[0]);
    if (t_ig >= 0 && (sole_concat_user (plan, st, n->outputs[0]) >= 0 || branch))
      t_copy = time_candidate (st, k, T_EPILOGUE, NULL, ig_y, NULL, NULL);
    if (t_ig < 0 && plan->verbose)
      g_printerr ("ova-engine: node '%s' (Conv): ova implicit GEMM does not run here\n", n->name);
    if (t_ig >= 0 && (igm == IGEMM_FORCE || (branch && head_rows_mode () == 2))) {
      cuda_free (ig_x);
      cuda_free (ig_y);
      k->ig = TRUE;
      if (plan->verbose)
        g_printerr ("ova-engine: node '%s' (Conv): ova implicit GEMM (forced), %.4f ms\n", n->name, t_ig);
      return TRUE;
    }
  }

  if (nhwc && group > 1 && group == x->dims[1] && W->dims[0] == group && W->dims[1] == 1 && dl[0] == 1 && dl[1] == 1 &&
      !g_getenv ("OVA_CUDA_NO_DW")) {
    /* depthwise: ova's kernel with the epilogue fused (cuDNN's needs a second pass) */
    int64_t Cc = W->dims[0], RS = W->dims[2] * W->dims[3];
    float *t = g_new (float, MAX (Cc * RS, 1));
    for (int64_t c = 0; c < Cc; c++)
      for (int64_t r = 0; r < RS; r++)
        t[r * Cc + c] = w[c * RS + r];
    k->dw_w = upload (st, t, Cc * RS, FALSE);
    g_free (t);
    int dwp[8] = { (int) W->dims[2], (int) W->dims[3], str[0], str[1], pad[0], pad[1], 0, 0 };
    memcpy (k->dw, dwp, sizeof dwp);
    /* kept only if faster than cuDNN + epilogue (measured below) */
  }
  if (nhwc && group == 1 && W->dims[2] == 1 && W->dims[3] == 1 && str[0] == 1 && str[1] == 1 && pad[0] == 0 &&
      pad[1] == 0 && !g_getenv ("OVA_CUDA_NO_GEMM1X1")) {
    if (conv1x1_gemm (st, k, y->dims[0] * y->dims[2] * y->dims[3], W->dims[0], W->dims[1])) {
      if (t_ig >= 0) {
        /* GEMM + epilogue pass against the fused kernel */
        void *ws = cuda_alloc (32 << 20);
        float t_gemm = ws ? time_candidate (st, k, T_GEMM, ig_x, ig_y, ws, NULL) : -1;
        float t_epi = time_candidate (st, k, T_EPILOGUE, NULL, ig_y, NULL, &timing_chain);
        cuda_free (ws);
        k->ig = t_gemm < 0 || t_epi < 0 || t_ig < t_gemm + t_epi + t_copy;
        if (plan->verbose)
          g_printerr ("ova-engine: node '%s' (Conv 1x1): ova implicit GEMM %.4f ms, cuBLASLt %.4f + epilogue %.4f "
                      "(+ concat copy %.4f) ms: %s\n", n->name, t_ig, t_gemm, t_epi, t_copy,
                      k->ig ? "ova" : "cuBLASLt");
      }
      cuda_free (ig_x);
      cuda_free (ig_y);
      if (k->ig) {
        drop_gemm (k);
        return TRUE;
      }
      if (plan->verbose)
        g_printerr ("ova-engine: node '%s' (Conv 1x1): cuBLASLt GEMM, NHWC\n", n->name);
      return TRUE;
    }
    drop_gemm (k);
  }
  /* Algorithm: measured on this GPU (cuDNN's find), within the workspace cap. */
  cudnnConvolutionFwdAlgoPerf_t perf[8];
  int got = 0;
  if (cudnnFindConvolutionForwardAlgorithm (st->dnn, k->xd, k->wd, k->cd, k->yd, 8, &got, perf) != CUDNN_STATUS_SUCCESS)
    got = 0; /* no cuDNN candidate: ova's kernel if it runs, else unsupported below */
  /* The fastest algorithm that really runs here: find has been seen to
   * report one that then fails with CUDNN_STATUS_BAD_PARAM, so each
   * candidate is executed once on scratch buffers. */
  int pick = -1;
  size_t xb = ova_value_numel (x) * (st->half ? 2 : 4), yb = ova_value_numel (y) * (st->half ? 2 : 4);
  void *tx = cuda_alloc (xb), *ty = cuda_alloc (yb);
  for (int i = 0; i < got && pick < 0 && tx && ty; i++) {
    if (perf[i].status != CUDNN_STATUS_SUCCESS || perf[i].memory > WS_MAX)
      continue;
    void *tw = perf[i].memory ? cuda_alloc (perf[i].memory) : NULL;
    float one = 1.f, zero = 0.f;
    if ((!perf[i].memory || tw) &&
        cudnnConvolutionForward (st->dnn, &one, k->xd, tx, k->wd, k->w, k->cd, perf[i].algo, tw, perf[i].memory, &zero,
                                 k->yd, ty) == CUDNN_STATUS_SUCCESS &&
        cudaStreamSynchronize (st->stream) == cudaSuccess)
      pick = i;
    else if (plan->verbose)
      g_printerr ("ova-engine: node '%s' (Conv): cuDNN algo %d declined at run time\n", n->name, perf[i].algo);
    cudaGetLastError ();
    cuda_free (tw);
  }
  if (k->dw_w && tx && ty) {
    /* depthwise: ova's fused kernels (8 channels per thread, one element per
     * thread) against cuDNN's time plus the epilogue pass (plus the Concat's
     * copy when the output could be written in place) */
    DwMode dwm = dw_mode ();
    const char *sp = g_getenv ("OVA_CUDA_DW_PRED");
    gboolean try_pred = dwm == DW_PRED || (dwm == DW_AUTO && (!sp || atoi (sp) != 0));
    float t_vec = dwm == DW_SCALAR || dwm == DW_PRED ? -1 : time_dw (st, k, x, y, tx, ty, 1);
    float t_pred = try_pred ? time_dw (st, k, x, y, tx, ty, 2) : -1;
    float t_sc = (dwm == DW_FORCE && t_vec >= 0) || (dwm == DW_PRED && t_pred >= 0) ? -1
                                                                                   : time_dw (st, k, x, y, tx, ty, 0);
    float t_epi = time_candidate (st, k, T_EPILOGUE, NULL, ty, NULL, NULL);
    float t_cat = sole_concat_user (plan, st, n->outputs[0]) >= 0 ? t_epi : 0;
    /* the fastest of ova's variants that ran */
    const float tv[3] = { t_sc, t_vec, t_pred };
    static const int order[3] = { 1, 2, 0 }; /* on a tie: 8-channel, branch-free, scalar */
    k->dw_vec8 = -1;
    for (int i = 0; i < 3; i++) {
      const int v = order[i];
      if (tv[v] >= 0 && (k->dw_vec8 < 0 || tv[v] < tv[k->dw_vec8]))
        k->dw_vec8 = v;
    }
    float t_dw = k->dw_vec8 >= 0 ? tv[k->dw_vec8] : -1;
    if (k->dw_vec8 < 0)
      k->dw_vec8 = 0;
    static const char *const dw_names[] = { "ova scalar", "ova 8-channel", "ova 8-channel branch-free" };
    gboolean keep = t_dw >= 0 && (dwm != DW_AUTO || pick < 0 || t_epi < 0 || t_dw < perf[pick].time + t_epi + t_cat);
    if (plan->verbose)
      g_printerr ("ova-engine: node '%s' (Conv depthwise): ova 8-channel %.4f ms, branch-free %.4f ms, ova scalar "
                  "%.4f ms, cuDNN %.4f + epilogue %.4f (+ concat copy %.4f) ms: %s\n", n->name, t_vec, t_pred, t_sc,
                  pick >= 0 ? perf[pick].time : -1.f, t_epi, t_cat, keep ? dw_names[k->dw_vec8] : "cuDNN");
    if (!keep)
      k->dw_w = NULL; /* stays in st->owned */
  }
  if (t_ig >= 0 && !k->dw_w) {
    /* cuDNN + epilogue pass against the fused kernel */
    float t_epi = time_candidate (st, k, T_EPILOGUE, NULL, ig_y, NULL, &timing_chain);
    k->ig = pick < 0 || t_epi < 0 || t_ig < perf[pick].time + t_epi + t_copy;
    if (plan->verbose)
      g_printerr ("ova-engine: node '%s' (Conv): ova implicit GEMM %.4f ms, cuDNN %.4f + epilogue %.4f "
                  "(+ concat copy %.4f) ms: %s\n", n->name, t_ig, pick >= 0 ? perf[pick].time : -1.f, t_epi, t_copy,
                  k->ig ? "ova" : "cuDNN");
  }
  cuda_free (ig_x);
  cuda_free (ig_y);
  cuda_free (tx);
  cuda_free (ty);
  if (k->dw_w || k->ig)
    return TRUE;
  if (pick < 0)
    return unsupported (plan, ni, error, "no cuDNN algorithm runs");
  k->algo = perf[pick].algo;
  k->ws = perf[pick].memory;
  st->ws_bytes = MAX (st->ws_bytes, k->ws);
  /* cuDNN fuses bias + ReLU itself (fp32) */
  if (!st->half && k->bias && k->chain.n == 1 && k->chain.func[0] == OVA_CUDA_F_RELU &&
      !g_getenv ("OVA_CUDA_NO_FUSE")) {
    if (cudnnCreateTensorDescriptor (&k->bd) == CUDNN_STATUS_SUCCESS &&
        cudnnSetTensor4dDescriptor (k->bd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, y->dims[1], 1, 1) == CUDNN_STATUS_SUCCESS &&
        cudnnCreateActivationDescriptor (&k->ad) == CUDNN_STATUS_SUCCESS &&
        cudnnSetActivationDescriptor (k->ad, CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0) == CUDNN_STATUS_SUCCESS)
      k->fused = TRUE;
  }
  if (plan->verbose)
    g_printerr ("ova-engine: node '%s' (Conv): cuDNN algo %d, workspace %zu%s%s\n", n->name, k->algo, k->ws,
                k->fused ? ", fused bias+relu" : "", nhwc ? ", NHWC" : "");
  return TRUE;
}

static gboolean
compile_binary (OvaPlan *plan, CudaState *st, CKernel *k, int ni, GError **error)
{
  OvaGraph *g = plan->g;
  OvaNode *n = OVA_NODE (g, ni);
  OvaValue *y = OVA_VALUE (g, n->outputs[0]);
  int r = y->rank;
  if (r > OVA_CUDA_MAX_RANK)
    return unsupported (plan, ni, error, "rank");
  k->rank = MAX (r, 1);
  for (int d = 0; d < k->rank; d++)
    k->dims[d] = r ? y->dims[d] : 1;
  for (int which = 0; which < 2; which++) {
    OvaValue *a = OVA_VALUE (g, n->inputs[which]);
    int64_t s[OVA_MAX_DIMS];
    layout_strides (st, g, n->inputs[which], s);
    int64_t *out = which ? k->bs : k->as;
    for (int d = 0; d < k->rank; d++) {
      int ad = d - (k->rank - a->rank);
      out[d] = ad < 0 || a->dims[ad] == 1 ? 0 : s[ad];
    }
  }
  if (is_nhwc (st, g, n->outputs[0])) {
    /* iterate in the output's memory order: N, H, W, C */
    static const int order[4] = { 0, 2, 3, 1 };
    int64_t d2[4], a2[4], b2[4];
    for (int i = 0; i < 4; i++) {
      d2[i] = k->dims[order[i]];
      a2[i] = k->as[order[i]];
      b2[i] = k->bs[order[i]];
    }
    memcpy (k->dims, d2, sizeof d2);
    memcpy (k->as, a2, sizeof a2);
    memcpy (k->bs, b2, sizeof b2);
  }
  return chain_posts (k, n) || unsupported (plan, ni, error, "post-op chain");
}

static gboolean
compile_slice (OvaPlan *plan, CudaState *st, CKernel *k, int ni, GError **error)
{
  OvaGraph *g = plan->g;
  OvaNode *n = OVA_NODE (g, ni);
  OvaOpNode on = opnode (n);
  OvaValue *x = OVA_VALUE (g, n->inputs[0]), *y = OVA_VALUE (g, n->outputs[0]);
  int64_t starts[OVA_MAX_DIMS], axes[OVA_MAX_DIMS], steps[OVA_MAX_DIMS], ends[OVA_MAX_DIMS];
  int ns = 0, na = 0, nst = 0, ne = 0;
  if (n->opset < 10 || n->n_inputs == 1) {
    const int64_t *p;
    ns = ova_op_attr_ints (&on, "starts", &p);
    memcpy (starts, p, ns * sizeof *p);
    na = ova_op_attr_ints (&on, "axes", &p);
    if (na)
      memcpy (axes, p, na * sizeof *p);
  } else {
    if (!const_ints (g, n->inputs[1], starts, OVA_MAX_DIMS, &ns) || !const_ints (g, n->inputs[2], ends, OVA_MAX_DIMS, &ne))
      return unsupported (plan, ni, error, "non-constant starts/ends");
    if (n->n_inputs > 3 && n->inputs[3] >= 0 && !const_ints (g, n->inputs[3], axes, OVA_MAX_DIMS, &na))
      return unsupported (plan, ni, error, "non-constant axes");
    if (n->n_inputs > 4 && n->inputs[4] >= 0 && !const_ints (g, n->inputs[4], steps, OVA_MAX_DIMS, &nst))
      return unsupported (plan, ni, error, "non-constant steps");
  }
  int64_t st0[OVA_MAX_DIMS], sp[OVA_MAX_DIMS];
  for (int d = 0; d < x->rank; d++) {
    st0[d] = 0;
    sp[d] = 1;
  }
  for (int i = 0; i < ns; i++) {
    int64_t ax = na ? axes[i] : i;
    if (ax < 0)
      ax += x->rank;
    int64_t dim = x->dims[ax], step = nst ? steps[i] : 1, s = starts[i];
    if (s < 0)
      s += dim;
    s = step > 0 ? CLAMP (s, 0, dim) : CLAMP (s, 0, dim - 1);
    st0[ax] = s;
    sp[ax] = step;
  }
  Part *p = &k->parts[0];
  k->n_parts = 1;
  p->value = n->inputs[0];
  p->rank = y->rank;
  int64_t xs[OVA_MAX_DIMS];
  layout_strides (st, g, n->inputs[0], xs);
  layout_strides (st, g, n->outputs[0], p->ds);
  p->so = 0;
  for (int d = 0; d < y->rank; d++) {
    p->dims[d] = y->dims[d];
    p->ss[d] = xs[d] * sp[d];
    p->so += st0[d] * xs[d];
  }
  return TRUE;
}

/* Iterates a strided copy in the destination's memory order (coalesced writes). */
static void
sort_part (Part *p)
{
  for (int i = 1; i < p->rank; i++)
    for (int j = i; j > 0 && p->ds[j] > p->ds[j - 1]; j--) {
      int64_t t;
      t = p->ds[j]; p->ds[j] = p->ds[j - 1]; p->ds[j - 1] = t;
      t = p->ss[j]; p->ss[j] = p->ss[j - 1]; p->ss[j - 1] = t;
      t = p->dims[j]; p->dims[j] = p->dims[j - 1]; p->dims[j - 1] = t;
    }
}

static gboolean compile_node_kind (OvaPlan *plan, CudaState *st, CKernel *k, int ni, GError **error);

static gboolean
compile_node (OvaPlan *plan, CudaState *st, CKernel *k, int ni, GError **error)
{
  if (!compile_node_kind (plan, st, k, ni, error))
    return FALSE;
  for (int i = 0; i < k->n_parts; i++)
    sort_part (&k->parts[i]);
  return TRUE;
}

static gboolean
compile_node_kind (OvaPlan *plan, CudaState *st, CKernel *k, int ni, GError **error)
{
  OvaGraph *g = plan->g;
  OvaNode *n = OVA_NODE (g, ni);
  OvaOpNode on = opnode (n);
  const char *op = n->op_type;
  for (int i = 0; i < OVA_CUDA_MAX_CHAIN; i++)
    k->chain_value[i] = -1;
  k->ni = ni;
  k->cat_out = -1;
  k->dwpw_from = -1;
  k->pwpw_from = -1;
  if (is_view (g, n)) {
    k->kind = C_NOOP;
    return TRUE;
  }
  for (int i = 0; i < n->n_outputs; i++) {
    if (n->outputs[i] < 0)
      continue;
    OvaValue *v = OVA_VALUE (g, n->outputs[i]);
    if (v->dtype != OVA_DTYPE_FLOAT32 || (i > 0 && v->n_uses > 0) || (i > 0 && v->is_output))
      return unsupported (plan, ni, error, "only float32 tensors (and one output) at run time");
  }
  OvaValue *y = OVA_VALUE (g, n->outputs[0]);
  OvaValue *x = n->n_inputs > 0 && n->inputs[0] >= 0 ? OVA_VALUE (g, n->inputs[0]) : NULL;
  k->n = ova_value_numel (y);
  float a, b;
  int f;
  if (!strcmp (op, "Conv")) {
    k->kind = C_CONV;
    return compile_conv (plan, st, k, ni, error);
  }
  if ((f = unary_func (n, &a, &b)) >= 0) {
    k->kind = C_CHAIN;
    chain_add (k, f, a, b, -1);
    return chain_posts (k, n) || unsupported (plan, ni, error, "post-op chain");
  }
  if (!strcmp (op, "Clip")) {
    float lo = -INFINITY, hi = INFINITY;
    if (n->opset < 11) {
      lo = ova_op_attr_float (&on, "min", -INFINITY);
      hi = ova_op_attr_float (&on, "max", INFINITY);
    } else {
      const float *l = n->n_inputs > 1 ? const_f32 (g, n->inputs[1]) : NULL, *h = n->n_inputs > 2 ? const_f32 (g, n->inputs[2]) : NULL;
      if ((n->n_inputs > 1 && n->inputs[1] >= 0 && !l) || (n->n_inputs > 2 && n->inputs[2] >= 0 && !h))
        return unsupported (plan, ni, error, "non-constant bounds");
      if (l)
        lo = *l;
      if (h)
        hi = *h;
    }
    k->kind = C_CHAIN;
    chain_add (k, OVA_CUDA_F_CLIP, lo, hi, -1);
    return chain_posts (k, n) || unsupported (plan, ni, error, "post-op chain");
  }
  if (!strcmp (op, "BatchNormalization")) {
    const float *sc = const_f32 (g, n->inputs[1]), *bi = const_f32 (g, n->inputs[2]), *mean = const_f32 (g, n->inputs[3]),
                *var = const_f32 (g, n->inputs[4]);
    if (!sc || !bi || !mean || !var || x->rank < 2)
      return unsupported (plan, ni, error, "non-constant statistics");
    float eps = ova_op_attr_float (&on, "epsilon", 1e-5f);
    int64_t c = x->dims[1];
    float *s = g_new (float, c), *t = g_new (float, c);
    for (int64_t i = 0; i < c; i++) {
      s[i] = sc[i] / sqrtf (var[i] + eps);
      t[i] = bi[i] - mean[i] * s[i];
    }
    k->scale = upload (st, s, c, FALSE);
    k->bias = upload (st, t, c, FALSE);
    g_free (s);
    g_free (t);
    k->channels = c;
    k->inner = 1;
    for (int d = 2; d < x->rank && !is_nhwc (st, g, n->inputs[0]); d++)
      k->inner *= x->dims[d];
    k->kind = C_CHAIN;
    return chain_posts (k, n) || unsupported (plan, ni, error, "post-op chain");
  }
  if ((k->op = binary_op (op)) >= 0 && n->n_inputs == 2) {
    k->kind = C_BINARY;
    return compile_binary (plan, st, k, ni, error);
  }
  if (!strcmp (op, "Transpose")) {
    const int64_t *perm = NULL;
    int np = ova_op_attr_ints (&on, "perm", &perm);
    int64_t xs[OVA_MAX_DIMS];
    layout_strides (st, g, n->inputs[0], xs);
    Part *p = &k->parts[0];
    k->n_parts = 1;
    p->value = n->inputs[0];
    p->rank = y->rank;
    layout_strides (st, g, n->outputs[0], p->ds);
    for (int d = 0; d < y->rank; d++) {
      int src = np ? (int) perm[d] : y->rank - 1 - d;
      p->dims[d] = y->dims[d];
      p->ss[d] = xs[src];
    }
    k->kind = C_STRIDED;
    return y->rank <= OVA_CUDA_MAX_RANK || unsupported (plan, ni, error, "rank");
  }
  if (!strcmp (op, "Slice")) {
    k->kind = C_STRIDED;
    return y->rank <= OVA_CUDA_MAX_RANK ? compile_slice (plan, st, k, ni, error) : unsupported (plan, ni, error, "rank");
  }
  if (!strcmp (op, "Concat")) {
    int64_t axis = ova_op_attr_int (&on, "axis", 0);
    if (axis < 0)
      axis += y->rank;
    if (n->n_inputs > MAX_PARTS || y->rank > OVA_CUDA_MAX_RANK)
      return unsupported (plan, ni, error, "too many inputs");
    int64_t ys[OVA_MAX_DIMS], off = 0;
    layout_strides (st, g, n->outputs[0], ys);
    k->kind = C_STRIDED;
    for (int i = 0; i < n->n_inputs; i++) {
      OvaValue *v = OVA_VALUE (g, n->inputs[i]);
      Part *p = &k->parts[k->n_parts++];
      p->value = n->inputs[i];
      p->rank = y->rank;
      layout_strides (st, g, n->inputs[i], p->ss);
      memcpy (p->dims, v->dims, sizeof (int64_t) * v->rank);
      memcpy (p->ds, ys, sizeof (int64_t) * y->rank);
      p->so = 0;
      p->dof = off * ys[axis];
      off += v->dims[axis];
    }
    return TRUE;
  }
  if (!strcmp (op, "MaxPool") || !strcmp (op, "AveragePool") || !strcmp (op, "GlobalAveragePool") ||
      !strcmp (op, "GlobalMaxPool")) {
    if (x->rank != 4 || (n->n_outputs > 1 && n->outputs[1] >= 0))
      return unsupported (plan, ni, error, "only 2-D pooling without indices");
    gboolean global = g_str_has_prefix (op, "Global");
    int *p = k->p;
    memset (k->p, 0, sizeof k->p);
    p[0] = x->dims[2];
    p[1] = x->dims[3];
    p[2] = y->dims[2];
    p[3] = y->dims[3];
    p[4] = global ? x->dims[2] : 1;
    p[5] = global ? x->dims[3] : 1;
    p[6] = p[7] = 1;
    p[10] = p[11] = 1;
    if (!global) {
      if (strcmp (ova_op_attr_string (&on, "auto_pad", "NOTSET"), "NOTSET") &&
          strcmp (ova_op_attr_string (&on, "auto_pad", "NOTSET"), "VALID"))
        return unsupported (plan, ni, error, "auto_pad");
      const int64_t *v;
      int c = ova_op_attr_ints (&on, "kernel_shape", &v);
      for (int i = 0; i < c && i < 2; i++)
        p[4 + i] = v[i];
      c = ova_op_attr_ints (&on, "strides", &v);
      for (int i = 0; i < c && i < 2; i++)
        p[6 + i] = v[i];
      c = ova_op_attr_ints (&on, "pads", &v);
      for (int i = 0; i < c && i < 2; i++)
        p[8 + i] = v[i];
      c = ova_op_attr_ints (&on, "dilations", &v);
      for (int i = 0; i < c && i < 2; i++)
        p[10 + i] = v[i];
    }
    p[12] = strstr (op, "Max") != NULL;
    p[13] = ova_op_attr_int (&on, "count_include_pad", 0) != 0;
    k->kind = C_POOL;
    return chain_posts (k, n) || unsupported (plan, ni, error, "post-op chain");
  }
  if (!strcmp (op, "Resize") || !strcmp (op, "Upsample")) {
    if (x->rank != 4 || x->dims[0] != y->dims[0] || x->dims[1] != y->dims[1])
      return unsupported (plan, ni, error, "only resizes of the last two axes");
    const char *m = ova_op_attr_string (&on, "mode", "nearest");
    k->p[0] = !strcmp (m, "nearest") ? 0 : (!strcmp (m, "linear") || !strcmp (m, "bilinear")) ? 1 : -1;
    if (k->p[0] < 0)
      return unsupported (plan, ni, error, "mode");
    const char *ct = !strcmp (op, "Upsample") || n->opset < 11 ? "asymmetric"
                     : ova_op_attr_string (&on, "coordinate_transformation_mode", "half_pixel");
    const char *nm = !strcmp (op, "Upsample") || n->opset < 11 ? "floor" : ova_op_attr_string (&on, "nearest_mode", "round_prefer_floor");
    static const char *cts[] = { "half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn" };
    static const char *nms[] = { "round_prefer_floor", "round_prefer_ceil", "floor", "ceil" };
    k->p[1] = k->p[2] = -1;
    for (int i = 0; i < 5; i++)
      if (!strcmp (ct, cts[i]))
        k->p[1] = i;
    for (int i = 0; i < 4; i++)
      if (!strcmp (nm, nms[i]))
        k->p[2] = i;
    if (k->p[1] < 0 || k->p[2] < 0)
      return unsupported (plan, ni, error, "coordinate transformation or nearest mode");
    /* the scales as given (sizes: output / input) */
    k->f[0] = (float) y->dims[2] / x->dims[2];
    k->f[1] = (float) y->dims[3] / x->dims[3];
    int sv = !strcmp (op, "Upsample") ? (n->n_inputs > 1 ? n->inputs[1] : -1) : (n->n_inputs > 2 ? n->inputs[2] : -1);
    const float *sc = const_f32 (g, sv);
    if (sc && ova_value_numel (OVA_VALUE (g, sv)) == 4) {
      k->f[0] = sc[2];
      k->f[1] = sc[3];
    }
    k->kind = C_RESIZE;
    return TRUE;
  }
  if (!strcmp (op, "Softmax") || !strcmp (op, "LogSoftmax")) {
    int64_t axis = ova_op_attr_int (&on, "axis", n->opset < 13 ? 1 : -1);
    if (axis < 0)
      axis += y->rank;
    int64_t rows = 1, cols = 1;
    for (int d = 0; d < y->rank; d++) {
      if (d < axis)
        rows *= y->dims[d];
      else
        cols *= y->dims[d];
    }
    if (n->opset >= 13 && axis != y->rank - 1)
      return unsupported (plan, ni, error, "softmax over an inner axis");
    k->kind = C_SOFTMAX;
    k->p[0] = strcmp (op, "Softmax") != 0;
    k->channels = rows;
    k->inner = cols;
    return TRUE;
  }
  if (!strcmp (op, "Gemm") || !strcmp (op, "MatMul")) {
    gboolean gemm = !strcmp (op, "Gemm");
    OvaValue *B = OVA_VALUE (g, n->inputs[1]);
    int ta = gemm ? (int) ova_op_attr_int (&on, "transA", 0) : 0, tb = gemm ? (int) ova_op_attr_int (&on, "transB", 0) : 0;
    if (x->rank < 2 || B->rank != 2 || (ta && x->rank != 2))
      return unsupported (plan, ni, error, "only 2-D right operands");
    int64_t K = ta ? x->dims[0] : x->dims[x->rank - 1], M = ova_value_numel (x) / K;
    int64_t N = tb ? B->dims[0] : B->dims[1];
    k->alpha = gemm ? ova_op_attr_float (&on, "alpha", 1.f) : 1.f;
    float beta = gemm ? ova_op_attr_float (&on, "beta", 1.f) : 0.f;
    cudaDataType_t dt = st->half ? CUDA_R_16F : CUDA_R_32F;
    /* row-major Y = A.B is column-major Y^T = B^T.A^T */
    cublasOperation_t opa = tb ? CUBLAS_OP_T : CUBLAS_OP_N, opb = ta ? CUBLAS_OP_T : CUBLAS_OP_N;
    if (!lt_ok (cublasLtMatmulDescCreate (&k->md, CUBLAS_COMPUTE_32F, CUDA_R_32F), "desc", plan, ni, error) ||
        !lt_ok (cublasLtMatmulDescSetAttribute (k->md, CUBLASLT_MATMUL_DESC_TRANSA, &opa, sizeof opa), "desc", plan, ni, error) ||
        !lt_ok (cublasLtMatmulDescSetAttribute (k->md, CUBLASLT_MATMUL_DESC_TRANSB, &opb, sizeof opb), "desc", plan, ni, error) ||
        !lt_ok (cublasLtMatrixLayoutCreate (&k->la, dt, tb ? K : N, tb ? N : K, tb ? K : N), "layout", plan, ni, error) ||
        !lt_ok (cublasLtMatrixLayoutCreate (&k->lb, dt, ta ? M : K, ta ? K : M, ta ? M : K), "layout", plan, ni, error) ||
        !lt_ok (cublasLtMatrixLayoutCreate (&k->lc, dt, N, M, N), "layout", plan, ni, error))
      return FALSE;
    cublasLtMatmulPreference_t pref;
    size_t wsmax = 32 << 20;
    cublasLtMatmulPreferenceCreate (&pref);
    cublasLtMatmulPreferenceSetAttribute (pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &wsmax, sizeof wsmax);
    cublasLtMatmulHeuristicResult_t res;
    int found = 0;
    cublasStatus_t s = cublasLtMatmulAlgoGetHeuristic (st->lt, k->md, k->la, k->lb, k->lc, k->lc, pref, 1, &res, &found);
    cublasLtMatmulPreferenceDestroy (pref);
    if (s != CUBLAS_STATUS_SUCCESS || !found)
      return unsupported (plan, ni, error, "no cuBLASLt algorithm");
    k->lt_algo = res.algo;
    st->ws_bytes = MAX (st->ws_bytes, wsmax);
    k->kind = C_GEMM;
    k->channels = N;
    k->inner = 1;
    int cv = gemm && n->n_inputs > 2 ? n->inputs[2] : -1;
    if (cv >= 0 && beta != 0.f) {
      const float *c = const_f32 (g, cv);
      OvaValue *C = OVA_VALUE (g, cv);
      int64_t cn = ova_value_numel (C);
      if (!c || (cn != 1 && cn != N))
        return unsupported (plan, ni, error, "Gemm C must be a constant scalar or row");
      float *t = g_new (float, N);
      for (int64_t i = 0; i < N; i++)
        t[i] = beta * c[cn == 1 ? 0 : i];
      k->bias = upload (st, t, N, FALSE);
      g_free (t);
    }
    return chain_posts (k, n) || unsupported (plan, ni, error, "post-op chain");
  }
  if (x && ova_value_numel (x) == k->n && x->dtype == y->dtype) {
    /* a view the planner did not alias (Reshape, Flatten, Identity...) */
    static const char *views[] = { "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout" };
    for (guint i = 0; i < G_N_ELEMENTS (views); i++)
      if (!strcmp (op, views[i])) {
        k->kind = C_COPY;
        return TRUE;
      }
  }
  return unsupported (plan, ni, error, "operator");
}

static void
kernel_clear (CKernel *k)
{
  if (k->xd) cudnnDestroyTensorDescriptor (k->xd);
  if (k->yd) cudnnDestroyTensorDescriptor (k->yd);
  if (k->bd) cudnnDestroyTensorDescriptor (k->bd);
  if (k->wd) cudnnDestroyFilterDescriptor (k->wd);
  if (k->cd) cudnnDestroyConvolutionDescriptor (k->cd);
  if (k->ad) cudnnDestroyActivationDescriptor (k->ad);
  if (k->md) cublasLtMatmulDescDestroy (k->md);
  if (k->la) cublasLtMatrixLayoutDestroy (k->la);
  if (k->lb) cublasLtMatrixLayoutDestroy (k->lb);
  if (k->lc) cublasLtMatrixLayoutDestroy (k->lc);
  if (k->mid) cudaEventDestroy (k->mid);
}

static const char *
category (OvaPlan *plan, CKernel *k, char *buf, size_t len)
{
  OvaNode *n = OVA_NODE (plan->g, k->ni);
  if (k->kind == C_CONV) {
    OvaOpNode on = opnode (n);
    OvaValue *w = OVA_VALUE (plan->g, n->inputs[1]);
    int group = (int) ova_op_attr_int (&on, "group", 1);
    g_snprintf (buf, len, "Conv %s%s%s", group > 1 && w->dims[1] == 1 ? "depthwise " : "",
                w->dims[2] == 1 && w->dims[3] == 1 ? "1x1" : "kxk",
                k->dwpw_from >= 0 ? " (ova depthwise+1x1)" : k->pwpw_from >= 0 ? " (ova 1x1+1x1)"
                : k->fused_away ? " (in the next 1x1)"
                : k->ig ? " (ova igemm)"
                : k->dw_w ? (k->dw_vec8 == 2 ? " (ova 8-channel branch-free)" : k->dw_vec8 ? " (ova 8-channel)" : " (ova scalar)") : "");
  } else if (k->kind == C_POOL && (k->n_pool_with || k->fused_away))
    g_snprintf (buf, len, "%s%s", n->op_type, k->fused_away ? " (in the group's kernel)" : " (group of poolings)");
  else
    g_snprintf (buf, len, "%s", n->op_type);
  return buf;
}

static void
profile_report (OvaPlan *plan, CudaState *st)
{
  GHashTable *cat = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  double total = 0;
  for (int pos = 0; pos < st->n; pos++) {
    char buf[64];
    category (plan, &st->k[pos], buf, sizeof buf);
    double *acc = g_hash_table_lookup (cat, buf);
    if (!acc) {
      acc = g_new0 (double, 2);
      g_hash_table_insert (cat, g_strdup (buf), acc);
    }
    acc[0] += st->prof_ms[pos] / st->prof_runs;
    acc[1] += 1;
    total += st->prof_ms[pos] / st->prof_runs;
    if (st->prof_epi[pos] > 0) {
      double *e = g_hash_table_lookup (cat, "Conv epilogue (ova)");
      if (!e) {
        e = g_new0 (double, 2);
        g_hash_table_insert (cat, g_strdup ("Conv epilogue (ova)"), e);
      }
      e[0] += st->prof_epi[pos] / st->prof_runs;
      e[1] += 1;
      total += st->prof_epi[pos] / st->prof_runs;
    }
  }
  g_printerr ("ova-cuda-profile: %s batch %d %s: %.3f ms per run (kernel by kernel, %d runs)\n", plan->g->path,
              plan->batch, st->half ? "fp16" : "fp32", total, st->prof_runs);
  /* OVA_CUDA_PROFILE=2: every node, with the rate of its activation
   * traffic (inputs that are not constants, plus outputs, once each) */
  if (st->prof_level >= 2)
    for (int pos = 0; pos < st->n; pos++) {
      CKernel *k = &st->k[pos];
      OvaNode *n = OVA_NODE (plan->g, k->ni);
      char buf[64];
      double bytes = 0, ms = (st->prof_ms[pos] + st->prof_epi[pos]) / st->prof_runs;
      for (int i = 0; i < n->n_inputs; i++)
        if (n->inputs[i] >= 0 && !OVA_VALUE (plan->g, n->inputs[i])->data)
          bytes += (double) ova_value_numel (OVA_VALUE (plan->g, n->inputs[i]));
      for (int i = 0; i < n->n_outputs; i++)
        bytes += (double) ova_value_numel (OVA_VALUE (plan->g, n->outputs[i]));
      bytes *= st->half ? 2 : 4;
      g_printerr ("ova-cuda-profile: %3d %-34.34s %-34s %-10s %8.4f ms %6.0f GB/s\n", pos, n->name,
                  category (plan, k, buf, sizeof buf), k->ig ? ova_cuda_conv_igemm_tile_name (k->igs.tile) : "",
                  ms, ms > 0 ? bytes / ms / 1e6 : 0);
    }
  GHashTableIter it;
  gpointer key, val;
  g_hash_table_iter_init (&it, cat);
  while (g_hash_table_iter_next (&it, &key, &val)) {
    double *acc = val;
    g_printerr ("ova-cuda-profile:   %-22s %4d nodes %8.3f ms %5.1f %%\n", (char *) key, (int) acc[1], acc[0],
                total > 0 ? 100 * acc[0] / total : 0);
  }
  g_hash_table_unref (cat);
}

static void
cuda_release (void *state)
{
  CudaState *st = state;
  if (!st)
    return;
  cudaSetDevice (st->device);
  if (st->prof_ms && st->prof_runs)
    profile_report (st->plan, st);
  if (st->stream)
    cudaStreamSynchronize (st->stream);
  if (st->exec)
    cudaGraphExecDestroy (st->exec);
  if (st->graph)
    cudaGraphDestroy (st->graph);
  for (int i = 0; i < st->n; i++)
    kernel_clear (&st->k[i]);
  g_free (st->k);
  if (st->owned) {
    for (guint i = 0; i < st->owned->len; i++)
      cudaFree (g_ptr_array_index (st->owned, i));
    g_ptr_array_free (st->owned, TRUE);
  }
  g_free (st->cptr);
  g_free (st->shadow);
  g_free (st->nhwc);
  g_free (st->cat);
  g_free (st->s2d);
  g_free (st->staging);
  if (st->dnn)
    cudnnDestroy (st->dnn);
  if (st->lt)
    cublasLtDestroy (st->lt);
  if (st->legacy_done)
    cudaEventDestroy (st->legacy_done);
  for (int i = 0; i < st->n_aux; i++)
    cudaStreamDestroy (st->aux[i]);
  g_free (st->prof_ms);
  g_free (st->prof_epi);
  if (st->stream)
    cudaStreamDestroy (st->stream);
  g_free (st);
}

/* Kernels that read and write either layout (strides, or an NHWC variant). */
static gboolean
layout_flexible (const OvaNode *n)
{
  static const char *ops[] = { "Conv", "Relu", "Sigmoid", "Tanh", "Exp", "Neg", "Abs", "Sqrt", "Reciprocal",
                               "HardSwish", "LeakyRelu", "HardSigmoid", "Clip", "BatchNormalization", "Add", "Sub",
                               "Mul", "Div", "Max", "Min", "Pow", "Concat", "Slice", "Transpose", "MaxPool",
                               "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Resize", "Upsample" };
  for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
    if (!strcmp (n->op_type, ops[i]))
      return TRUE;
  return FALSE;
}

/* fp16: 4-D activations between layout-flexible kernels are stored NHWC,
 * cuDNN's tensor-core layout; graph inputs/outputs and views stay plain.
 * Kernels whose input and output must share a layout (Conv, element-wise
 * chains, pooling, resize) make their values agree, plain winning. */
static void
assign_layouts (OvaPlan *plan, CudaState *st)
{
  OvaGraph *g = plan->g;
  const char *env = g_getenv ("OVA_CUDA_NHWC");
  if (!st->half || (env && !atoi (env)))
    return;
  int nv = g->values->len;
  st->nhwc = g_new0 (gboolean, nv + 1);
  for (int v = 0; v < nv; v++) {
    OvaValue *x = OVA_VALUE (g, v);
    /* graph inputs too: they are converted into their fixed buffer anyway,
     * so a first convolution reading the input directly (a folded Focus)
     * need not pull the first layers into NCHW */
    st->nhwc[v] = x->rank == 4 && x->dtype == OVA_DTYPE_FLOAT32 && !x->data && !x->is_output &&
                  x->alias_of < 0;
  }
  for (int v = 0; v < nv; v++)
    if (OVA_VALUE (g, v)->alias_of >= 0 || OVA_VALUE (g, v)->is_output)
      st->nhwc[root_of (g, v)] = FALSE;
  for (int pos = 0; pos < plan->n_order; pos++) {
    OvaNode *n = OVA_NODE (g, plan->order[pos]);
    if (layout_flexible (n) && !is_view (g, n))
      continue;
    for (int i = 0; i < n->n_inputs; i++)
      if (n->inputs[i] >= 0)
        st->nhwc[root_of (g, n->inputs[i])] = FALSE;
    for (int i = 0; i < n->n_outputs; i++)
      if (n->outputs[i] >= 0)
        st->nhwc[root_of (g, n->outputs[i])] = FALSE;
  }
  gboolean changed = TRUE;
  while (changed) {
    changed = FALSE;
    for (int pos = 0; pos < plan->n_order; pos++) {
      OvaNode *n = OVA_NODE (g, plan->order[pos]);
      int grp[OVA_MAX_POST_OPS + 2], ng = 0;
      const char *op = n->op_type;
      gboolean strided = !strcmp (op, "Concat") || !strcmp (op, "Slice") || !strcmp (op, "Transpose") ||
                         binary_op (op) >= 0;
      grp[ng++] = root_of (g, n->outputs[0]);
      if (!strided && n->n_inputs > 0 && n->inputs[0] >= 0)
        grp[ng++] = root_of (g, n->inputs[0]);
      for (int i = 0; i < n->n_post; i++)
        if (n->post[i].kind == OVA_POST_ADD)
          grp[ng++] = root_of (g, n->post[i].operand);
      gboolean any_plain = FALSE, any_nhwc = FALSE;
      for (int i = 0; i < ng; i++) {
        OvaValue *x = OVA_VALUE (g, grp[i]);
        if (x->data)
          continue;
        if (st->nhwc[grp[i]])
          any_nhwc = TRUE;
        else
          any_plain = TRUE;
      }
      if (any_plain && any_nhwc) {
        for (int i = 0; i < ng; i++)
          st->nhwc[grp[i]] = FALSE;
        changed = TRUE;
      }
    }
  }
  if (plan->verbose) {
    int cnt = 0;
    for (int v = 0; v < nv; v++)
      cnt += st->nhwc[v];
    g_printerr ("ova-engine: %d activations stored NHWC\n", cnt);
  }
}

/* The kernel position of each node of the plan (-1: none); g_free it. */
static int *
kernel_positions (OvaPlan *plan, CudaState *st)
{
  OvaGraph *g = plan->g;
  int *kpos = g_new (int, g->nodes->len + 1);
  for (guint i = 0; i <= g->nodes->len; i++)
    kpos[i] = -1;
  for (int pos = 0; pos < st->n; pos++)
    kpos[st->k[pos].ni] = pos;
  return kpos;
}

/* TRUE when Concat node @cat may take @v in place although @v may have
 * other readers: the Concat reads it once, and each other reader is a
 * kernel that reads an NHWC input through a pixel stride (pooling, resize,
 * ova's depthwise convolution) as its first input, and only there (no
 * residual operands, no views of @v). */
static gboolean
concat_slice_readers (OvaPlan *plan, CudaState *st, const int *kpos, int v, int cat)
{
  OvaGraph *g = plan->g;
  OvaValue *x = OVA_VALUE (g, v);
  /* OVA_CUDA_CONCAT_READERS=0: only inputs that the Concat alone reads */
  const char *env = g_getenv ("OVA_CUDA_CONCAT_READERS");
  gboolean others = !env || atoi (env) != 0;
  if (x->alias_of >= 0 || x->is_output || x->data || x->rank != 4 || !is_nhwc (st, g, v))
    return FALSE;
  for (guint i = 0; i < g->values->len; i++)
    if (OVA_VALUE (g, i)->alias_of == v)
      return FALSE;
  int cat_uses = 0;
  for (int pos = 0; pos < plan->n_order; pos++) {
    int ni = plan->order[pos];
    OvaNode *n = OVA_NODE (g, ni);
    int uses = 0;
    for (int i = 0; i < n->n_inputs; i++)
      uses += n->inputs[i] == v;
    for (int i = 0; i < n->n_post; i++)
      if (n->post[i].kind == OVA_POST_ADD && n->post[i].operand == v)
        return FALSE;
    if (!uses)
      continue;
    if (ni == cat) {
      cat_uses += uses;
      continue;
    }
    CKernel *rk = kpos[ni] >= 0 ? &st->k[kpos[ni]] : NULL;
    gboolean strided_in = rk && uses == 1 && n->inputs[0] == v && !rk->x_ldc &&
                          (rk->kind == C_POOL || rk->kind == C_RESIZE || (rk->kind == C_CONV && rk->dw_w && !rk->ig));
    if (!others || !strided_in)
      return FALSE;
  }
  return cat_uses == 1;
}

/* Producer kernel @pk writes value @v into @slot (a slice of another
 * value's buffer) instead of its own output; with an image stride for a
 * head's rows (ova's implicit-GEMM kernels only). */
static void
write_into (CudaState *st, CKernel *pk, int v, CatSlot slot)
{
  pk->cat_out = slot.root;
  pk->cat_ldc = slot.ldc;
  pk->cat_off = slot.off;
  pk->cat_row = slot.row;
  pk->igs.ldc = (int) slot.ldc;
  pk->igs.c_off = (int) slot.off;
  pk->igs.ldb = (int) slot.ldb;
  st->cat[v] = slot;
}

/* Concats whose inputs come from ova's implicit-GEMM convolutions, pooling
 * or resize kernels: those producers write straight into their channel
 * slice of the Concat's output and the Concat copies only the other inputs.
 * An input with other readers qualifies when they can read it there
 * (concat_slice_readers: SPP's pools, a backbone stage's output that the
 * next stage's depthwise convolution reads too, an FPN level that is also
 * upsampled). The memory planner knows nothing of this aliasing (it would
 * reuse the output's memory while the producers run), so such outputs get
 * their own buffer. */
static void
concat_in_place (OvaPlan *plan, CudaState *st)
{
  OvaGraph *g = plan->g;
  if (!st->nhwc || !concat_in_place_enabled ())
    return;
  int *kpos = kernel_positions (plan, st);
  for (int pos = 0; pos < st->n; pos++) {
    CKernel *k = &st->k[pos];
    OvaNode *n = OVA_NODE (g, k->ni);
    if (k->kind != C_STRIDED || strcmp (n->op_type, "Concat") || k->n_parts != n->n_inputs || n->outputs[0] < 0)
      continue;
    int out = n->outputs[0];
    OvaValue *y = OVA_VALUE (g, out);
    if (axis_of (n, y->rank) != 1 || y->rank != 4 || y->alias_of >= 0 || y->is_output ||
        !is_nhwc (st, g, out))
      continue;
    CKernel *prod[MAX_PARTS];
    int any = 0;
    for (int i = 0; i < n->n_inputs; i++) {
      int v = n->inputs[i];
      OvaValue *xv = v >= 0 ? OVA_VALUE (g, v) : NULL;
      prod[i] = NULL;
      if (!xv || xv->producer < 0 || kpos[xv->producer] < 0 || kpos[xv->producer] >= pos)
        continue;
      CKernel *pk = &st->k[kpos[xv->producer]];
      gboolean strided_out = (pk->kind == C_CONV && (pk->ig || pk->dw_w)) || pk->kind == C_POOL || pk->kind == C_RESIZE;
      if (strided_out && pk->cat_out < 0 && OVA_NODE (g, pk->ni)->outputs[0] == v &&
          concat_slice_readers (plan, st, kpos, v, k->ni)) {
        prod[i] = pk;
        any++;
      }
    }
    if (!any || st->shadow[out])
      continue;
    if (!(st->shadow[out] = owned_alloc (st, ova_value_numel (y) * 2)))
      continue;
    int64_t off = 0;
    for (int i = 0; i < n->n_inputs; i++) {
      OvaValue *xv = OVA_VALUE (g, n->inputs[i]);
      if (prod[i]) {
        write_into (st, prod[i], n->inputs[i], (CatSlot) { out, y->dims[1], off, 0, 0 });
        k->parts[i].in_place = TRUE;
        /* its other readers (concat_slice_readers) read it there */
        for (int q = 0; q < st->n; q++) {
          OvaNode *rn = OVA_NODE (g, st->k[q].ni);
          if (q != pos && rn->n_inputs > 0 && rn->inputs[0] == n->inputs[i])
            st->k[q].x_ldc = y->dims[1];
        }
      }
      off += xv->dims[1];
    }
    if (any == n->n_inputs)
      k->kind = C_NOOP; /* nothing left to copy */
    if (plan->verbose)
      g_printerr ("ova-engine: node '%s' (Concat): %d of %d inputs written in place\n", n->name, any, n->n_inputs);
  }
  g_free (kpos);
}

/* ------------------------------------------------ detection head in place */

#define MAX_HEAD_LEVELS 8

typedef struct {
  int y;                          /* the Transpose's output [N, rows, C] */
  int cat2;                       /* the Concat of the levels (axis 2) */
  int n_levels;
  int cat1[MAX_HEAD_LEVELS];      /* per level: the channel Concat [N, C, H, W] */
  int64_t row[MAX_HEAD_LEVELS];   /* its first row in y */
} HeadRows;

/* A detection head as YOLOX and YOLOv5 export it, ending in Transpose node
 * @ni: per level a channel Concat of the branches' outputs [N, C, H, W], a
 * Reshape to [N, C, H*W], a Concat of the levels on axis 2 and the
 * Transpose to [N, rows, C], each value read only along that path. In the
 * result each level's NHWC pixels are a run of rows of every image, so the
 * branches can write their channels straight there. */
static gboolean
head_rows_at (OvaPlan *plan, int ni, HeadRows *h)
{
  OvaGraph *g = plan->g;
  OvaNode *t = OVA_NODE (g, ni);
  if (strcmp (t->op_type, "Transpose") || t->n_inputs != 1 || t->n_outputs != 1 || t->n_post || t->inputs[0] < 0 ||
      t->outputs[0] < 0)
    return FALSE;
  OvaOpNode on = opnode (t);
  const int64_t *perm = NULL;
  int np = ova_op_attr_ints (&on, "perm", &perm);
  OvaValue *y = OVA_VALUE (g, t->outputs[0]);
  if (np != 3 || perm[0] != 0 || perm[1] != 2 || perm[2] != 1 || y->rank != 3 || y->alias_of >= 0 || y->data)
    return FALSE;
  int v2 = t->inputs[0];
  OvaValue *x2 = OVA_VALUE (g, v2);
  if (x2->rank != 3 || x2->is_output || x2->alias_of >= 0 || x2->producer < 0 || sole_reader (plan, v2) != ni)
    return FALSE;
  OvaNode *c2 = OVA_NODE (g, x2->producer);
  if (strcmp (c2->op_type, "Concat") || c2->n_post || c2->n_inputs < 1 || c2->n_inputs > MAX_HEAD_LEVELS ||
      axis_of (c2, 3) != 2)
    return FALSE;
  h->y = t->outputs[0];
  h->cat2 = x2->producer;
  h->n_levels = c2->n_inputs;
  int64_t N = y->dims[0], C = y->dims[2], row = 0;
  for (int l = 0; l < c2->n_inputs; l++) {
    int u = c2->inputs[l];
    OvaValue *xu = u >= 0 ? OVA_VALUE (g, u) : NULL;
    if (!xu || xu->rank != 3 || xu->is_output || xu->producer < 0 || xu->alias_of < 0 || xu->dims[0] != N ||
        xu->dims[1] != C || sole_reader (plan, u) != x2->producer)
      return FALSE;
    OvaNode *r = OVA_NODE (g, xu->producer);
    int w = r->n_inputs > 0 ? r->inputs[0] : -1;
    if (strcmp (r->op_type, "Reshape") || r->n_post || w < 0 || xu->alias_of != w)
      return FALSE;
    OvaValue *xw = OVA_VALUE (g, w);
    if (xw->rank != 4 || xw->is_output || xw->alias_of >= 0 || xw->data || xw->producer < 0 || xw->dims[0] != N ||
        xw->dims[1] != C || xw->dims[2] * xw->dims[3] != xu->dims[2] || sole_reader (plan, w) != xu->producer)
      return FALSE;
    OvaNode *c1 = OVA_NODE (g, xw->producer);
    if (strcmp (c1->op_type, "Concat") || c1->n_post || c1->n_inputs > MAX_PARTS || axis_of (c1, 4) != 1)
      return FALSE;
    h->cat1[l] = xw->producer;
    h->row[l] = row;
    row += xu->dims[2];
  }
  return row == y->dims[1];
}

/* TRUE when @v, a convolution's output, is one branch of such a head: its
 * only reader is a level's channel Concat */
static gboolean
head_branch (OvaPlan *plan, CudaState *st, int v)
{
  OvaGraph *g = plan->g;
  if (!st->nhwc || !head_rows_mode ())
    return FALSE;
  int c1 = sole_reader (plan, v);
  if (c1 < 0 || strcmp (OVA_NODE (g, c1)->op_type, "Concat") || OVA_NODE (g, c1)->outputs[0] < 0)
    return FALSE;
  int r = sole_reader (plan, OVA_NODE (g, c1)->outputs[0]);
  if (r < 0 || OVA_NODE (g, r)->outputs[0] < 0)
    return FALSE;
  int c2 = sole_reader (plan, OVA_NODE (g, r)->outputs[0]);
  if (c2 < 0 || OVA_NODE (g, c2)->outputs[0] < 0)
    return FALSE;
  int t = sole_reader (plan, OVA_NODE (g, c2)->outputs[0]);
  HeadRows h;
  return t >= 0 && head_rows_at (plan, t, &h);
}

/* Every branch of a head (head_rows_at) computed by ova's implicit-GEMM
 * kernels, writing its own NHWC output: those kernels write into the head's
 * output instead (its channel slice of each level's rows, image by image),
 * and the level Concats, the Concat of the levels and the Transpose run no
 * kernel. The head's output gets its own buffer, as in concat_in_place. */
static gboolean
head_in_place (OvaPlan *plan, CudaState *st, GError **error)
{
  OvaGraph *g = plan->g;
  if (!st->nhwc || !head_rows_mode ())
    return TRUE;
  int *kpos = kernel_positions (plan, st);
  for (int pos = 0; pos < st->n; pos++) {
    HeadRows h;
    if (!head_rows_at (plan, st->k[pos].ni, &h))
      continue;
    OvaValue *y = OVA_VALUE (g, h.y);
    int64_t C = y->dims[2], ldb = y->dims[1] * C;
    gboolean ok = ldb <= G_MAXINT && kpos[h.cat2] >= 0;
    for (int l = 0; ok && l < h.n_levels; l++) {
      OvaNode *c1 = OVA_NODE (g, h.cat1[l]);
      OvaValue *w = OVA_VALUE (g, c1->outputs[0]);
      int64_t off = 0;
      ok = kpos[h.cat1[l]] >= 0;
      for (int i = 0; ok && i < c1->n_inputs; i++) {
        int a = c1->inputs[i];
        OvaValue *xa = a >= 0 ? OVA_VALUE (g, a) : NULL;
        int kp = xa && xa->producer >= 0 ? kpos[xa->producer] : -1;
        CKernel *pk = kp >= 0 ? &st->k[kp] : NULL;
        ok = pk && kp < kpos[h.cat1[l]] && pk->kind == C_CONV && pk->ig && pk->cat_out < 0 &&
             OVA_NODE (g, pk->ni)->outputs[0] == a && xa->rank == 4 && !xa->is_output && xa->alias_of < 0 &&
             is_nhwc (st, g, a) && xa->dims[0] == w->dims[0] && xa->dims[2] == w->dims[2] &&
             xa->dims[3] == w->dims[3] && sole_reader (plan, a) == h.cat1[l];
        for (int j = 0; ok && j < i; j++)
          ok = c1->inputs[j] != a;
        off += xa ? xa->dims[1] : 0;
      }
      ok = ok && off == C;
    }
    if (!ok || (!st->shadow[h.y] && !(st->shadow[h.y] = owned_alloc (st, ova_value_numel (y) * 2)))) {
      if (head_rows_mode () == 2) {
        g_free (kpos);
        return unsupported (plan, st->k[pos].ni, error,
                            "OVA_CUDA_HEAD_ROWS=force: a branch of this head does not run ova's kernels");
      }
      continue;
    }
    int branches = 0;
    for (int l = 0; l < h.n_levels; l++) {
      OvaNode *c1 = OVA_NODE (g, h.cat1[l]);
      int64_t off = 0;
      for (int i = 0; i < c1->n_inputs; i++) {
        int a = c1->inputs[i];
        write_into (st, &st->k[kpos[OVA_VALUE (g, a)->producer]], a, (CatSlot) { h.y, C, off, h.row[l], ldb });
        off += OVA_VALUE (g, a)->dims[1];
        branches++;
      }
      st->cat[c1->outputs[0]] = (CatSlot) { h.y, C, 0, h.row[l], ldb };
      st->k[kpos[h.cat1[l]]].kind = C_NOOP;
    }
    st->cat[OVA_NODE (g, h.cat2)->outputs[0]] = (CatSlot) { h.y, C, 0, 0, ldb };
    st->k[kpos[h.cat2]].kind = C_NOOP;
    st->k[pos].kind = C_NOOP;
    if (plan->verbose)
      g_printerr ("ova-engine: node '%s' (Transpose): %d branch convolutions of %d levels write its rows\n",
                  OVA_NODE (g, st->k[pos].ni)->name, branches, h.n_levels);
  }
  g_free (kpos);
  return TRUE;
}

/* @s written plain (its own buffer): how fusion candidates are timed, on
 * scratch outputs */
static OvaCudaConvShape
plain_output (const OvaCudaConvShape *s)
{
  OvaCudaConvShape p = *s;
  p.ldc = p.k;
  p.c_off = 0;
  p.ldb = 0;
  return p;
}

/* Times each variant of the fused-kernel candidate @r (@name_of names
 * them; @forced >= 0: that one only; variants named @skip_prefix are left
 * out unless forced), appending "name ms" to @report (nullable). The
 * fastest variant (-1: none ran), its time in @t_best. */
static int
time_fused_variants (CandidateRun *r, const char *(*name_of) (int), int forced, const char *skip_prefix,
                     GString *report, float *t_best)
{
  const char *name;
  int best = -1;
  for (int v = 0; (name = name_of (v)); v++) {
    if ((forced >= 0 && v != forced) || (forced < 0 && skip_prefix && g_str_has_prefix (name, skip_prefix)))
      continue;
    r->variant = v;
    float ms = time_run (r);
    if (report)
      g_string_append_printf (report, " %s %.4f", name, ms);
    if (ms >= 0 && (best < 0 || ms < *t_best)) {
      best = v;
      *t_best = ms;
    }
  }
  return best;
}

/* Scratch buffers to time a fusion candidate on (freed by fusion_decide):
 * the first kernel's input @x, the intermediate @mv, the output @out
 * (fp16); FALSE when one could not be had. */
static gboolean
fusion_buffers (const OvaValue *x, const OvaValue *mv, const OvaCudaConvShape *out, void **tx, void **tm, void **ty)
{
  *tx = cuda_alloc (ova_value_numel (x) * 2);
  *tm = cuda_alloc (ova_value_numel (mv) * 2);
  *ty = cuda_alloc ((int64_t) out->n * out->oh * out->ow * out->k * 2);
  return *tx && *tm && *ty;
}

/* The end of a fusion pass's look at one pair (fuse_dw_pw, fuse_pw_pw):
 * frees the timing buffers; fuses when a variant ran (@best >= 0) and was
 * timed faster than the two kernels (or @force), and the first kernel's
 * input @xv (@x) could get a buffer of its own (it is read one node later
 * than the memory plan assumes); reports the times when @report. */
static gboolean
fusion_decide (CudaState *st, void *tx, void *tm, void *ty, int xv, const OvaValue *x, int best, gboolean force,
               float t_sep, float t_best, GString *report, const char *what, const char *first,
               const char *second, const char *(*name_of) (int))
{
  cuda_free (tx);
  cuda_free (tm);
  cuda_free (ty);
  gboolean fuse = best >= 0 && (force || t_sep < 0 || t_best < t_sep);
  if (fuse && !st->shadow[xv] && !(st->shadow[xv] = owned_alloc (st, ova_value_numel (x) * 2)))
    fuse = FALSE;
  if (report) {
    g_printerr ("ova-engine: nodes '%s' + '%s' (%s): separate %.4f ms, in one kernel:%s: %s\n", first, second, what,
                t_sep, report->str, fuse ? name_of (best) : "separate");
    g_string_free (report, TRUE);
  }
  return fuse;
}

/* OVA_CUDA_DWPW: unset or "1": a depthwise convolution (ova's kernel)
 * whose only reader is a 1x1 convolution (ova's implicit GEMM) runs with it
 * as one kernel where that is timed faster than the two; "force": wherever
 * it runs (the fastest of its variants); a variant's name (dwpw-16 ...):
 * that one; "0": never. */
static int
dwpw_mode (int *variant)
{
  const char *s = g_getenv ("OVA_CUDA_DWPW");
  *variant = -1;
  if (s && !strcmp (s, "0"))
    return 0;
  if (!s || !*s)
    return 1;
  if (!strcmp (s, "force"))
    return 2;
  const char *name;
  for (int v = 0; (name = ova_cuda_conv_dwpw_variant_name (v)); v++)
    if (!strcmp (name, s)) {
      *variant = v;
      return 2;
    }
  return 1;
}

/* Runs after concat_in_place (the 1x1 output may be written into a Concat,
 * never the depthwise output: its only reader is the 1x1 convolution). The
 * depthwise input then gets a buffer of its own: the memory planner ends
 * its life at the depthwise node, but the fused kernel reads it at the 1x1
 * node. The depthwise output keeps its (unwritten) place in the arena. */
static void
fuse_dw_pw (OvaPlan *plan, CudaState *st)
{
  OvaGraph *g = plan->g;
  int forced_variant, mode = dwpw_mode (&forced_variant);
  if (!mode || !st->half)
    return;
  int *kpos = kernel_positions (plan, st);
  for (int pos = 0; pos < st->n; pos++) {
    CKernel *k = &st->k[pos];
    OvaNode *n = OVA_NODE (g, k->ni);
    const OvaCudaConvShape *ps = &k->igs;
    if (k->kind != C_CONV || !k->ig || ps->kh != 1 || ps->kw != 1 || ps->sh != 1 || ps->sw != 1 || ps->ph ||
        ps->pw || ps->c % 8 || ps->c > 256)
      continue;
    int mid = n->inputs[0];
    OvaValue *mv = OVA_VALUE (g, mid);
    if (mv->alias_of >= 0 || mv->is_output || mv->data || mv->n_uses != 1 || mv->producer < 0 ||
        kpos[mv->producer] < 0 || kpos[mv->producer] >= pos)
      continue;
    int dpos = kpos[mv->producer];
    CKernel *dk = &st->k[dpos];
    OvaNode *dn = OVA_NODE (g, dk->ni);
    /* (the fused kernel reads the depthwise input from its own buffer) */
    if (dk->kind != C_CONV || !dk->dw_w || dk->cat_out >= 0 || dk->fused_away || dk->x_ldc || dn->outputs[0] != mid)
      continue;
    /* a residual operand of the depthwise kernel would be read at the 1x1
     * node, after the memory plan has ended its life */
    gboolean operand = FALSE;
    for (int i = 0; i < dk->chain.n; i++)
      operand = operand || dk->chain.func[i] == OVA_CUDA_F_ADD_TENSOR;
    if (operand)
      continue;
    int xv = root_of (g, dn->inputs[0]);
    OvaValue *x = OVA_VALUE (g, xv);
    if (x->data || x->rank != 4 || x->dims[1] != ps->c || (st->s2d && st->s2d[xv]))
      continue;
    k->dws = (OvaCudaDwShape) { (int) x->dims[2], (int) x->dims[3], dk->dw[0], dk->dw[1], dk->dw[2], dk->dw[3],
                                dk->dw[4], dk->dw[5] };
    OvaCudaConvShape plain = plain_output (ps);
    void *tx, *tm, *ty;
    gboolean bufs = fusion_buffers (x, mv, &plain, &tx, &tm, &ty);
    float t_sep = -1, t_best = -1;
    int best = -1;
    GString *report = plan->verbose ? g_string_new (NULL) : NULL;
    if (bufs) {
      float t_dw = time_dw (st, dk, x, mv, tx, tm, dk->dw_vec8);
      OvaCudaConvShape keep = k->igs;
      k->igs = plain;
      float t_pw = time_candidate (st, k, T_IGEMM, tm, ty, NULL, NULL);
      k->igs = keep;
      t_sep = t_dw >= 0 && t_pw >= 0 ? t_dw + t_pw : -1;
      /* OVA_CUDA_DWPW_R16=0: the 16-pixel variants are not timed */
      const char *r16 = g_getenv ("OVA_CUDA_DWPW_R16");
      CandidateRun r = { st, k, T_DWPW, tx, ty, NULL, NULL, NULL, NULL, dk, 0, &plain };
      best = time_fused_variants (&r, ova_cuda_conv_dwpw_variant_name, forced_variant,
                                  r16 && !atoi (r16) ? "dwpw-r16" : NULL, report, &t_best);
    }
    if (fusion_decide (st, tx, tm, ty, xv, x, best, mode == 2, t_sep, t_best, report, "depthwise + 1x1", dn->name,
                       n->name, ova_cuda_conv_dwpw_variant_name)) {
      k->dwpw_from = dpos;
      k->dwpw_variant = best;
      dk->fused_away = TRUE;
    }
  }
  g_free (kpos);
}

/* Nodes reading value @v (or a view of it) as an input or a post-op operand */
static int
value_readers (OvaPlan *plan, int v)
{
  OvaGraph *g = plan->g;
  int count = 0;
  for (int pos = 0; pos < plan->n_order; pos++) {
    OvaNode *n = OVA_NODE (g, plan->order[pos]);
    gboolean reads = FALSE;
    for (int i = 0; i < n->n_inputs; i++)
      reads = reads || (n->inputs[i] >= 0 && root_of (g, n->inputs[i]) == root_of (g, v));
    for (int i = 0; i < n->n_post; i++)
      reads = reads || (n->post[i].kind == OVA_POST_ADD && root_of (g, n->post[i].operand) == root_of (g, v));
    count += reads;
  }
  return count;
}

/* A 1x1 stride-1 convolution on ova's implicit GEMM, plain NHWC input */
static gboolean
ig_plain_1x1 (const CKernel *k)
{
  const OvaCudaConvShape *s = &k->igs;
  return k->kind == C_CONV && k->ig && s->kh == 1 && s->kw == 1 && s->sh == 1 && s->sw == 1 && !s->ph && !s->pw &&
         s->c % 8 == 0 && !k->x_ldc && k->dwpw_from < 0 && k->pwpw_from < 0 && !k->fused_away;
}

/* OVA_CUDA_PWPW (opt-in): "1": a 1x1 convolution (ova's kernel) whose
 * output only another 1x1 convolution reads runs with it as one kernel
 * (ova_cuda_conv_pwpw_nhwc) where that is timed faster than the two;
 * "force": wherever it runs; a variant's name (pwpw-8 ...): that one;
 * unset or "0": never (timed alone the pairs win, in the graph they lost
 * 1.7 % at batch 1 in run E). Runs after fuse_dw_pw (a depthwise + 1x1 pair is left as it is)
 * and head_in_place (the second may write a head's rows or a Concat slice;
 * the first writes its own buffer). The first one's input gets a buffer of
 * its own: the fused kernel reads it one node later than the memory plan
 * assumes. */
static void
fuse_pw_pw (OvaPlan *plan, CudaState *st)
{
  OvaGraph *g = plan->g;
  const char *env = g_getenv ("OVA_CUDA_PWPW");
  if (!env || !*env || !strcmp (env, "0") || !st->half)
    return;
  int forced = -1, force = env && !strcmp (env, "force");
  const char *name;
  for (int v = 0; env && (name = ova_cuda_conv_pwpw_variant_name (v)); v++)
    if (!strcmp (name, env))
      forced = v, force = TRUE;
  int *kpos = kernel_positions (plan, st);
  for (int pos = 0; pos < st->n; pos++) {
    CKernel *k = &st->k[pos];
    OvaNode *n = OVA_NODE (g, k->ni);
    if (!ig_plain_1x1 (k))
      continue;
    int mid = n->inputs[0];
    OvaValue *mv = OVA_VALUE (g, mid);
    if (mv->alias_of >= 0 || mv->is_output || mv->data || mv->producer < 0 || kpos[mv->producer] < 0 ||
        kpos[mv->producer] >= pos || value_readers (plan, mid) != 1)
      continue;
    int fpos = kpos[mv->producer];
    CKernel *fk = &st->k[fpos];
    OvaNode *fn = OVA_NODE (g, fk->ni);
    if (!ig_plain_1x1 (fk) || fk->cat_out >= 0 || fk->igs.ldc != fk->igs.k || fk->igs.ldb || fk->igs.k > 128 ||
        fk->igs.k != k->igs.c || fn->outputs[0] != mid)
      continue;
    gboolean operand = FALSE;
    for (int i = 0; i < fk->chain.n; i++)
      operand = operand || fk->chain.func[i] == OVA_CUDA_F_ADD_TENSOR;
    int xv = root_of (g, fn->inputs[0]);
    OvaValue *x = OVA_VALUE (g, xv);
    if (operand || x->data || x->rank != 4 || (st->s2d && st->s2d[xv]) || st->cat[xv].root >= 0)
      continue;
    OvaCudaConvShape plain = plain_output (&k->igs);
    void *tx, *tm, *ty;
    gboolean bufs = fusion_buffers (x, mv, &plain, &tx, &tm, &ty);
    float t_sep = -1, t_best = -1;
    int best = -1;
    GString *report = plan->verbose ? g_string_new (NULL) : NULL;
    if (bufs) {
      OvaCudaChain c1 = chain_without_operands (&fk->chain), c2 = chain_without_operands (&k->chain);
      float t1 = time_candidate (st, fk, T_IGEMM, tx, tm, NULL, &c1);
      OvaCudaConvShape keep = k->igs;
      k->igs = plain;
      float t2 = time_candidate (st, k, T_IGEMM, tm, ty, NULL, &c2);
      k->igs = keep;
      t_sep = t1 >= 0 && t2 >= 0 ? t1 + t2 : -1;
      CandidateRun r = { st, k, T_PWPW, tx, ty, NULL, NULL, NULL, NULL, fk, 0, &plain };
      best = time_fused_variants (&r, ova_cuda_conv_pwpw_variant_name, forced, NULL, report, &t_best);
    }
    if (fusion_decide (st, tx, tm, ty, xv, x, best, force, t_sep, t_best, report, "1x1 + 1x1", fn->name, n->name,
                       ova_cuda_conv_pwpw_variant_name)) {
      k->pwpw_from = fpos;
      k->pwpw_variant = best;
      fk->fused_away = TRUE;
    }
  }
  g_free (kpos);
}

/* A max pooling the group kernel takes: fp16 NHWC, stride 1, dilation 1,
 * odd windows padded by half of them (output size = input size), no
 * fused chain, channels and strides in whole 16-byte pieces, a plane of at
 * most 1024 pixels. */
static gboolean
pool_groupable (OvaPlan *plan, CudaState *st, const CKernel *k)
{
  if (k->kind != C_POOL || k->fused_away || k->n_pool_with || k->chain.n)
    return FALSE;
  OvaNode *n = OVA_NODE (plan->g, k->ni);
  OvaValue *x = OVA_VALUE (plan->g, n->inputs[0]);
  const int *p = k->p;
  return n->n_post == 0 && is_nhwc (st, plan->g, n->inputs[0]) && x->dims[1] % 8 == 0 && k->x_ldc % 8 == 0 &&
         (k->cat_out < 0 || (k->cat_ldc % 8 == 0 && k->cat_off % 8 == 0)) && p[12] && p[0] == p[2] &&
         p[1] == p[3] && p[0] * p[1] <= 1024 && p[4] % 2 && p[5] % 2 && p[6] == 1 && p[7] == 1 && p[8] == p[4] / 2 &&
         p[9] == p[5] / 2 && p[10] == 1 && p[11] == 1;
}

/* TRUE when a node at a position up to @last reads value @v or a view of it */
static gboolean
read_by (OvaPlan *plan, int v, int last)
{
  OvaGraph *g = plan->g;
  for (int pos = 0; pos <= last; pos++) {
    OvaNode *n = OVA_NODE (g, plan->order[pos]);
    for (int i = 0; i < n->n_inputs; i++)
      if (n->inputs[i] >= 0 && root_of (g, n->inputs[i]) == root_of (g, v))
        return TRUE;
    for (int i = 0; i < n->n_post; i++)
      if (n->post[i].kind == OVA_POST_ADD && root_of (g, n->post[i].operand) == root_of (g, v))
        return TRUE;
  }
  return FALSE;
}

/* OVA_CUDA_POOL_GROUP=0: off. Max poolings of one input (YOLO's SPP block:
 * 5, 9 and 13 on the same tensor, which one thread per output and window
 * makes the slowest kernels at small batches) run as one kernel
 * (ova_cuda_maxpool_group_nhwc) at the position of the last of them, when
 * nothing reads the others' outputs before it; the others launch nothing.
 * Runs after concat_in_place: the outputs may be slices of SPP's Concat. */
static void
group_pools (OvaPlan *plan, CudaState *st)
{
  const char *env = g_getenv ("OVA_CUDA_POOL_GROUP");
  if ((env && atoi (env) == 0) || !st->half)
    return;
  OvaGraph *g = plan->g;
  for (int pos = 0; pos < st->n; pos++) {
    CKernel *k = &st->k[pos];
    if (!pool_groupable (plan, st, k))
      continue;
    int x = root_of (g, OVA_NODE (g, k->ni)->inputs[0]);
    int mem[OVA_CUDA_POOL_GROUP_MAX], nm = 0;
    mem[nm++] = pos;
    for (int q = pos + 1; q < st->n && nm < OVA_CUDA_POOL_GROUP_MAX; q++)
      if (pool_groupable (plan, st, &st->k[q]) && root_of (g, OVA_NODE (g, st->k[q].ni)->inputs[0]) == x &&
          st->k[q].x_ldc == k->x_ldc)
        mem[nm++] = q;
    if (nm < 2)
      continue;
    int lead = mem[nm - 1];
    gboolean ok = TRUE;
    for (int i = 0; i < nm - 1 && ok; i++) {
      OvaNode *mn = OVA_NODE (g, st->k[mem[i]].ni);
      ok = !OVA_VALUE (g, mn->outputs[0])->is_output && !read_by (plan, mn->outputs[0], lead);
    }
    if (!ok)
      continue;
    CKernel *lk = &st->k[lead];
    for (int i = 0; i < nm - 1; i++) {
      lk->pool_with[lk->n_pool_with++] = mem[i];
      st->k[mem[i]].fused_away = TRUE;
    }
    if (plan->verbose)
      g_printerr ("ova-engine: node '%s' (MaxPool): one kernel with %d other poolings of its input\n",
                  OVA_NODE (g, lk->ni)->name, nm - 1);
  }
}

static gboolean
cuda_compile (OvaPlan *plan, void **state, GError **error)
{
  OvaGraph *g = plan->g;
  CudaState *st = g_new0 (CudaState, 1);
  *state = st;
  st->plan = plan;
  st->device = cuda_device ();
  st->half = plan->precision == OVA_PRECISION_FP16;
  st->owned = g_ptr_array_new ();
  int count = 0;
  if (cudaGetDeviceCount (&count) != cudaSuccess || count <= st->device) {
    g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_BACKEND, "%s: no CUDA device %d (%d found)", g->path,
                 st->device, count);
    return FALSE;
  }
  if (!cu_ok (cudaSetDevice (st->device), "set device", plan, -1, error) ||
      !cu_ok (cudaStreamCreateWithFlags (&st->stream, cudaStreamNonBlocking), "stream", plan, -1, error) ||
      !dnn_ok (cudnnCreate (&st->dnn), "create", plan, -1, error) ||
      !dnn_ok (cudnnSetStream (st->dnn, st->stream), "stream", plan, -1, error) ||
      !lt_ok (cublasLtCreate (&st->lt), "create", plan, -1, error))
    return FALSE;
  st->cptr = g_new0 (void *, g->values->len + 1);
  st->staging = g_new0 (void *, g->n_inputs + 1);
  st->shadow = g_new0 (void *, g->values->len + 1);
  for (int i = 0; i < g->n_inputs; i++) {
    OvaValue *v = OVA_VALUE (g, g->inputs[i]);
    if (v->dtype != OVA_DTYPE_FLOAT32 && v->n_uses > 0) {
      g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_UNSUPPORTED, "%s: input '%s': the cuda backend takes float32 inputs",
                   g->path, v->name);
      return FALSE;
    }
    st->shadow[g->inputs[i]] = owned_alloc (st, ova_value_numel (v) * (st->half ? 2 : 4));
  }
  if (st->half)
    for (int i = 0; i < g->n_outputs; i++) {
      int r = root_of (g, g->outputs[i]);
      if (!st->shadow[r] && !OVA_VALUE (g, r)->data)
        st->shadow[r] = owned_alloc (st, ova_value_numel (OVA_VALUE (g, r)) * 2);
    }
  st->n = plan->n_order;
  /* OVA_CUDA_PDL=0: plain launches (read per plan, so one process can
   * compare both) */
  const char *pdl = g_getenv ("OVA_CUDA_PDL");
  ova_cuda_set_pdl (!pdl || atoi (pdl) != 0);
  assign_layouts (plan, st);
  st->s2d = g_new0 (int, g->values->len + 1);
  st->k = g_new0 (CKernel, st->n + 1);
  for (int pos = 0; pos < st->n; pos++)
    if (!compile_node (plan, st, &st->k[pos], plan->order[pos], error))
      return FALSE;
  st->cat = g_new0 (CatSlot, g->values->len + 1);
  for (guint v = 0; v <= g->values->len; v++)
    st->cat[v].root = -1;
  concat_in_place (plan, st);
  if (!head_in_place (plan, st, error))
    return FALSE;
  fuse_dw_pw (plan, st);
  fuse_pw_pw (plan, st);
  group_pools (plan, st);
  if (st->ws_bytes && !(st->ws = owned_alloc (st, st->ws_bytes))) {
    g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_BACKEND, "%s: cannot allocate %zu bytes of workspace",
                 g->path, st->ws_bytes);
    return FALSE;
  }
  return TRUE;
}

static gboolean
cuda_bind (OvaPlan *plan, void *state, void *arena, GError **error)
{
  CudaState *st = state;
  OvaGraph *g = plan->g;
  st->arena = arena;
  for (int pos = 0; pos < st->n; pos++) {
    CKernel *k = &st->k[pos];
    OvaNode *n = OVA_NODE (g, k->ni);
    k->x = n->n_inputs > 0 ? vptr (plan, st, n->inputs[0]) : NULL;
    if (k->x_ldc) { /* its slice of a Concat's output */
      const CatSlot *cs = &st->cat[root_of (g, n->inputs[0])];
      k->x = (char *) vptr (plan, st, cs->root) + (cs->row * cs->ldc + cs->off) * (st->half ? 2 : 4);
    }
    k->x2 = n->n_inputs > 1 ? vptr (plan, st, n->inputs[1]) : NULL;
    k->y = vptr (plan, st, k->cat_out >= 0 ? k->cat_out : n->outputs[0]);
    if (k->y && k->cat_row)
      k->y = (char *) k->y + k->cat_row * k->cat_ldc * (st->half ? 2 : 4);
    for (int i = 0; i < k->chain.n; i++)
      k->chain.operand[i] = k->chain_value[i] >= 0 ? vptr (plan, st, k->chain_value[i]) : NULL;
    for (int i = 0; i < k->n_parts; i++)
      k->parts[i].src = vptr (plan, st, k->parts[i].value);
    if (k->kind != C_NOOP && (!k->y || (n->n_inputs > 0 && n->inputs[0] >= 0 && !k->x))) {
      char *w = ova_graph_node_where (g, k->ni);
      g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_BACKEND, "%s: a tensor has no device memory", w);
      g_free (w);
      return FALSE;
    }
  }
  return TRUE;
}

/* ---------------------------------------------------------------- run */

static int
launch_pool (OvaPlan *plan, CudaState *st, const CKernel *k, cudaStream_t s)
{
  OvaNode *n = OVA_NODE (plan->g, k->ni);
  OvaValue *x = OVA_VALUE (plan->g, n->inputs[0]);
  const int *p = k->p;
  return ova_cuda_pool2d (k->x, k->y, st->half, x->dims[0] * x->dims[1], x->dims[1],
                          is_nhwc (st, plan->g, n->inputs[0]), k->x_ldc ? k->x_ldc : x->dims[1],
                          k->cat_out >= 0 ? k->cat_ldc : x->dims[1], k->cat_out >= 0 ? k->cat_off : 0, p[0], p[1],
                          p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12], p[13], &k->chain, s);
}

/* Pool kernel @k and those of k->pool_with (group_pools) in one launch */
static int
launch_pool_group (OvaPlan *plan, CudaState *st, const CKernel *k, cudaStream_t s)
{
  OvaValue *x = OVA_VALUE (plan->g, OVA_NODE (plan->g, k->ni)->inputs[0]);
  OvaCudaPoolGroup pg = { 0 };
  for (int i = 0; i <= k->n_pool_with; i++) {
    const CKernel *m = i < k->n_pool_with ? &st->k[k->pool_with[i]] : k;
    pg.kh[i] = m->p[4];
    pg.kw[i] = m->p[5];
    pg.y[i] = m->y;
    pg.ldc[i] = m->cat_out >= 0 ? m->cat_ldc : x->dims[1];
    pg.c_off[i] = m->cat_out >= 0 ? m->cat_off : 0;
  }
  pg.n = k->n_pool_with + 1;
  return ova_cuda_maxpool_group_nhwc (k->x, k->x_ldc ? k->x_ldc : x->dims[1], (int) x->dims[0], (int) x->dims[1],
                                      (int) x->dims[2], (int) x->dims[3], &pg, s);
}

static gboolean
enqueue (OvaPlan *plan, CudaState *st, CKernel *k, cudaStream_t s, GError **error)
{
  int h = st->half;
  int e = 0;
  switch (k->kind) {
    case C_NOOP:
      return TRUE;
    case C_COPY:
      e = cudaMemcpyAsync (k->y, k->x, k->n * (h ? 2 : 4), cudaMemcpyDeviceToDevice, s);
      break;
    case C_CONV: {
      float one = 1.f, zero = 0.f;
      cudnnSetStream (st->dnn, s);
      cudnnStatus_t r;
      if (k->fused_away && !st->checking)
        return TRUE; /* done by the 1x1 convolution's kernel */
      if (k->pwpw_from >= 0) {
        const CKernel *fk = &st->k[k->pwpw_from];
        e = ova_cuda_conv_pwpw_nhwc (fk->x, fk->ig_w, fk->bias, &fk->chain, &fk->igs, k->ig_w, k->bias, k->y, &k->igs,
                                     k->pwpw_variant, &k->chain, s);
        break;
      }
      if (k->dwpw_from >= 0) {
        const CKernel *dk = &st->k[k->dwpw_from];
        e = ova_cuda_conv_dwpw_nhwc (dk->x, dk->dw_w, dk->bias, &dk->chain, &k->dws, k->ig_w, k->bias, k->y, &k->igs,
                                     k->dwpw_variant, &k->chain, s);
        break;
      }
      if (k->ig) {
        e = ova_cuda_conv_igemm_nhwc (k->x, k->ig_w, k->bias, k->y, &k->igs, &k->chain, s);
        break;
      }
      if (k->dw_w) {
        OvaNode *n = OVA_NODE (plan->g, k->ni);
        OvaValue *x = OVA_VALUE (plan->g, n->inputs[0]), *y = OVA_VALUE (plan->g, n->outputs[0]);
        e = ova_cuda_dwconv_nhwc (k->x, k->y, h, k->dw_w, k->bias, x->dims[0], x->dims[1], x->dims[2], x->dims[3],
                                  y->dims[2], y->dims[3], k->dw[0], k->dw[1], k->dw[2], k->dw[3], k->dw[4], k->dw[5],
                                  k->x_ldc ? k->x_ldc : x->dims[1], k->cat_out >= 0 ? k->cat_ldc : x->dims[1],
                                  k->cat_out >= 0 ? k->cat_off : 0,
                                  k->dw_vec8, &k->chain, s);
        break;
      }
      if (k->md) {
        if (!lt_ok (cublasLtMatmul (st->lt, k->md, &k->alpha, k->w, k->la, k->x, k->lb, &zero, k->y, k->lc, k->y,
                                    k->lc, &k->lt_algo, st->ws, 32 << 20, s),
                    "matmul", plan, k->ni, error))
          return FALSE;
        r = CUDNN_STATUS_SUCCESS;
      } else if (k->fused)
        r = cudnnConvolutionBiasActivationForward (st->dnn, &one, k->xd, k->x, k->wd, k->w, k->cd, k->algo, st->ws, k->ws,
                                                   &zero, k->yd, k->y, k->bd, k->bias, k->ad, k->yd, k->y);
      else
        r = cudnnConvolutionForward (st->dnn, &one, k->xd, k->x, k->wd, k->w, k->cd, k->algo, st->ws, k->ws, &zero,
                                     k->yd, k->y);
      if (!dnn_ok (r, "convolution", plan, k->ni, error))
        return FALSE;
      /* the profile's "epilogue" is only this separate pass (the fused
       * kernels above have none) */
      if (k->mid && !k->fused && (k->bias || k->chain.n))
        cudaEventRecord (k->mid, s);
      if (!k->fused && (k->bias || k->chain.n))
        e = ova_cuda_chain (k->y, k->y, h, k->n, NULL, k->bias, k->channels, k->inner, &k->chain, s);
      break;
    }
    case C_CHAIN:
      e = ova_cuda_chain (k->x, k->y, h, k->n, k->scale, k->bias, k->channels, k->inner, &k->chain, s);
      break;
    case C_BINARY:
      e = ova_cuda_binary (k->x, k->x2, k->y, h, k->op, k->rank, k->dims, k->as, k->bs, &k->chain, s);
      break;
    case C_STRIDED:
      for (int i = 0; i < k->n_parts && !e; i++) {
        Part *p = &k->parts[i];
        if (p->in_place)
          continue;
        e = ova_cuda_strided_copy (p->src, k->y, h, p->rank, p->dims, p->ss, p->so, p->ds, p->dof, s);
      }
      break;
    case C_POOL:
      if (k->fused_away)
        return TRUE; /* done by the group's kernel (checked there too) */
      if (k->n_pool_with) {
        e = launch_pool_group (plan, st, k, s);
        if (e != cudaErrorInvalidValue)
          break;
        cudaGetLastError (); /* a layout the group kernel does not take (alignment): one kernel each */
        e = 0;
        for (int i = 0; i < k->n_pool_with && !e; i++)
          e = launch_pool (plan, st, &st->k[k->pool_with[i]], s);
        if (e)
          break;
      }
      e = launch_pool (plan, st, k, s);
      break;
    case C_RESIZE: {
      OvaNode *n = OVA_NODE (plan->g, k->ni);
      OvaValue *x = OVA_VALUE (plan->g, n->inputs[0]), *y = OVA_VALUE (plan->g, n->outputs[0]);
      e = ova_cuda_resize2d (k->x, k->y, h, x->dims[0] * x->dims[1], x->dims[1], is_nhwc (st, plan->g, n->inputs[0]),
                             k->x_ldc ? k->x_ldc : x->dims[1], k->cat_out >= 0 ? k->cat_ldc : x->dims[1],
                             k->cat_out >= 0 ? k->cat_off : 0, x->dims[2], x->dims[3], y->dims[2], y->dims[3], k->f[0],
                             k->f[1], k->p[0], k->p[1], k->p[2], s);
      break;
    }
    case C_SOFTMAX:
      e = ova_cuda_softmax (k->x, k->y, h, k->channels, k->inner, k->p[0], s);
      break;
    case C_GEMM: {
      float zero = 0.f;
      if (!lt_ok (cublasLtMatmul (st->lt, k->md, &k->alpha, k->x2, k->la, k->x, k->lb, &zero, k->y, k->lc, k->y, k->lc,
                                  &k->lt_algo, st->ws, 32 << 20, s),
                  "matmul", plan, k->ni, error))
        return FALSE;
      if (k->bias || k->chain.n)
        e = ova_cuda_chain (k->y, k->y, h, k->n, NULL, k->bias, k->channels, 1, &k->chain, s);
      break;
    }
  }
  return cu_ok (e, "kernel", plan, k->ni, error);
}

static gboolean
enqueue_outputs (OvaPlan *plan, CudaState *st, cudaStream_t s, GError **error)
{
  OvaGraph *g = plan->g;
  if (!st->half)
    return TRUE;
  for (int i = 0; i < g->n_outputs; i++) {
    int r = root_of (g, g->outputs[i]);
    OvaValue *v = OVA_VALUE (g, r);
    void *dst = (char *) st->arena + v->offset;
    if (st->shadow[r] && v->offset >= 0 &&
        !cu_ok (ova_cuda_convert (st->shadow[r], 1, dst, 0, ova_value_numel (v), s), "output conversion", plan, -1, error))
      return FALSE;
  }
  return TRUE;
}

/* Per-node comparison with the reference kernels (OVA_CUDA_CHECK). */
static float *
to_host_f32 (CudaState *st, const void *d, int64_t n)
{
  float *h = g_new0 (float, MAX (n, 1));
  if (st->half) {
    void *t = cuda_alloc (MAX (n, 1) * 4);
    ova_cuda_convert (d, 1, t, 0, n, NULL);
    cudaDeviceSynchronize ();
    cudaMemcpy (h, t, n * 4, cudaMemcpyDeviceToHost);
    cudaFree (t);
  } else
    cudaMemcpy (h, d, n * 4, cudaMemcpyDeviceToHost);
  return h;
}

/* A value's data in host fp32, logical NCHW order. */
static float *
download_logical (OvaPlan *plan, CudaState *st, int v)
{
  OvaGraph *g = plan->g;
  OvaValue *x = OVA_VALUE (g, v);
  int64_t n = ova_value_numel (x);
  int r = root_of (g, v);
  if (st->cat && st->cat[r].root >= 0) {
    /* written in place into a Concat's (or a head's) output: its slice there */
    const CatSlot *cs = &st->cat[r];
    OvaValue *cv = OVA_VALUE (g, cs->root);
    float *h = to_host_f32 (st, vptr (plan, st, cs->root), ova_value_numel (cv));
    int64_t N = x->dims[0], C = x->dims[1], HW = n / MAX (N * C, 1), CT = cs->ldc;
    int64_t BS = cs->ldb ? cs->ldb : HW * CT;
    float *t = g_new (float, MAX (n, 1));
    for (int64_t b = 0; b < N; b++)
      for (int64_t p = 0; p < HW; p++)
        for (int64_t c = 0; c < C; c++)
          t[(b * C + c) * HW + p] = h[b * BS + (cs->row + p) * CT + cs->off + c];
    g_free (h);
    return t;
  }
  if (st->s2d && st->s2d[r]) {
    /* a graph input stored space-to-depth */
    int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3], cp = st->s2d[r];
    float *h = to_host_f32 (st, vptr (plan, st, v), N * (H / 2) * (W / 2) * cp);
    float *t = g_new (float, MAX (n, 1));
    for (int64_t b = 0; b < N; b++)
      for (int64_t c = 0; c < C; c++)
        for (int64_t yy = 0; yy < H; yy++)
          for (int64_t xx = 0; xx < W; xx++)
            t[((b * C + c) * H + yy) * W + xx] =
                h[((b * (H / 2) + yy / 2) * (W / 2) + xx / 2) * cp + ((yy % 2) * 2 + xx % 2) * C + c];
    g_free (h);
    return t;
  }
  float *h = to_host_f32 (st, vptr (plan, st, v), n);
  if (!is_nhwc (st, g, v))
    return h;
  int64_t N = x->dims[0], C = x->dims[1], HW = x->dims[2] * x->dims[3];
  float *t = g_new (float, MAX (n, 1));
  for (int64_t b = 0; b < N; b++)
    for (int64_t p = 0; p < HW; p++)
      for (int64_t c = 0; c < C; c++)
        t[(b * C + c) * HW + p] = h[(b * HW + p) * C + c];
  g_free (h);
  return t;
}

static gboolean
check_node (OvaPlan *plan, CudaState *st, CKernel *k, double *worst, GError **error)
{
  OvaGraph *g = plan->g;
  OvaNode *n = OVA_NODE (g, k->ni);
  OvaTensorRef in[n->n_inputs + 1], out[2];
  gpointer tmp[n->n_inputs + 1];
  memset (in, 0, sizeof in);
  memset (out, 0, sizeof out);
  memset (tmp, 0, sizeof tmp);
  for (int i = 0; i < n->n_inputs; i++) {
    if (n->inputs[i] < 0)
      continue;
    OvaValue *v = OVA_VALUE (g, n->inputs[i]);
    ova_value_ref (v, &in[i]);
    int r = root_of (g, n->inputs[i]);
    if (OVA_VALUE (g, r)->data)
      in[i].data = (void *) g_bytes_get_data (OVA_VALUE (g, r)->data, NULL);
    else
      in[i].data = tmp[i] = download_logical (plan, st, n->inputs[i]);
  }
  OvaValue *y = OVA_VALUE (g, n->outputs[0]);
  ova_value_ref (y, &out[0]);
  int64_t ny = ova_value_numel (y);
  out[0].data = g_new0 (float, ny + 2);
  OvaOpNode on = opnode (n);
  GError *e = NULL;
  gboolean ok = n->def->run (&on, in, n->n_inputs, out, 1, &e);
  if (!ok) {
    g_propagate_error (error, e);
    goto done;
  }
  float *ref = out[0].data;
  for (int p = 0; p < n->n_post; p++) {
    const OvaPostOp *po = &n->post[p];
    if (po->kind == OVA_POST_ADD) {
      float *o = download_logical (plan, st, po->operand);
      for (int64_t i = 0; i < ny; i++)
        ref[i] += o[i];
      g_free (o);
    } else
      for (int64_t i = 0; i < ny; i++)
        ref[i] = ova_post_op_scalar (po, ref[i]);
  }
  float *got = download_logical (plan, st, n->outputs[0]);
  double maxref = 0, maxd = 0;
  for (int64_t i = 0; i < ny; i++) {
    maxref = MAX (maxref, fabs (ref[i]));
    double d = fabs ((double) ref[i] - got[i]);
    if (!(d <= maxd))
      maxd = isnan (d) ? INFINITY : MAX (maxd, d);
  }
  double rel = maxd / MAX (maxref, 1.0);
  *worst = MAX (*worst, rel);
  g_printerr ("ova-cuda-check: %-18s %-40s n=%-9" G_GINT64_FORMAT " max|ref|=%-10.4g max|diff|=%-10.3g rel=%.3g\n",
              n->op_type, n->name, ny, maxref, maxd, rel);
  g_free (got);
done:
  g_free (out[0].data);
  for (int i = 0; i < n->n_inputs; i++)
    g_free (tmp[i]);
  return ok;
}

/* ---------------------------------------------------- multi-stream capture */

/* OVA_CUDA_STREAMS=N (1 to 8, default 4; 1: one stream): the CUDA graph
 * is captured over N streams, so that independent
 * branches of the network (YOLOX's CSP halves and its six head branches)
 * run side by side; at batch 1 no kernel fills the GPU, and the longest
 * chain of yolox_nano's kernels is about two thirds of them. Each kernel
 * waits for every earlier kernel that touches memory it touches (read after
 * write, write after read, write after write, on whole buffers), so the
 * memory plan's reuse of buffers stays safe, and library calls (one shared
 * workspace) stay in order. */
typedef struct {
  uintptr_t lo, hi;
} Range;

#define MAX_ACCESS 24

typedef struct {
  Range r[MAX_ACCESS], w[MAX_ACCESS];
  int nr, nw;
  /* a slice of a Concat's (head's) output written in place: the slices
   * are disjoint and those outputs have buffers of their own, so two such
   * writers never conflict with each other */
  Range slice;
  gboolean has_slice;
  gboolean all; /* too many to list: depends on everything before it */
  gboolean lib; /* cuDNN or cuBLASLt: the shared workspace */
} Access;

static int
streams_wanted (void)
{
  const char *s = g_getenv ("OVA_CUDA_STREAMS");
  int n = s ? atoi (s) : 4;
  return CLAMP (n, 1, 8);
}

/* The device buffer value @v lives in (its root's, whole, or the Concat's
 * or head's output it is stored in); FALSE for constants (never written)
 * and values without memory. */
static gboolean
value_range (OvaPlan *plan, CudaState *st, int v, Range *r)
{
  OvaGraph *g = plan->g;
  if (v < 0)
    return FALSE;
  int root = root_of (g, v);
  if (st->cat && st->cat[root].root >= 0) /* stored in a Concat's (head's) output */
    root = st->cat[root].root;
  OvaValue *x = OVA_VALUE (g, root);
  if (x->data)
    return FALSE;
  void *p = vptr (plan, st, root);
  if (!p)
    return FALSE;
  size_t bytes = MAX (x->bytes, (size_t) ova_value_numel (x) * (st->half ? 2 : 4));
  r->lo = (uintptr_t) p;
  r->hi = r->lo + MAX (bytes, 1);
  return TRUE;
}

static void
access_add (OvaPlan *plan, CudaState *st, Access *a, int v, gboolean write)
{
  Range r;
  if (!value_range (plan, st, v, &r))
    return;
  if ((write ? a->nw : a->nr) >= MAX_ACCESS) {
    a->all = TRUE;
    return;
  }
  if (write)
    a->w[a->nw++] = r;
  else
    a->r[a->nr++] = r;
}

/* What node @n's inputs, post-op operands and chain operands are */
static void
access_node_reads (OvaPlan *plan, CudaState *st, Access *a, const CKernel *k)
{
  OvaNode *n = OVA_NODE (plan->g, k->ni);
  for (int i = 0; i < n->n_inputs; i++)
    access_add (plan, st, a, n->inputs[i], FALSE);
  for (int i = 0; i < n->n_post; i++)
    if (n->post[i].kind == OVA_POST_ADD)
      access_add (plan, st, a, n->post[i].operand, FALSE);
  for (int i = 0; i < k->chain.n; i++)
    access_add (plan, st, a, k->chain_value[i], FALSE);
}

static void
kernel_access (OvaPlan *plan, CudaState *st, const CKernel *k, Access *a)
{
  OvaNode *n = OVA_NODE (plan->g, k->ni);
  memset (a, 0, sizeof *a);
  access_node_reads (plan, st, a, k);
  for (int i = 0; i < k->n_parts; i++)
    access_add (plan, st, a, k->parts[i].value, FALSE);
  if (k->dwpw_from >= 0) /* it reads what the depthwise kernel would have */
    access_node_reads (plan, st, a, &st->k[k->dwpw_from]);
  if (k->pwpw_from >= 0) /* and what the first 1x1 kernel would have */
    access_node_reads (plan, st, a, &st->k[k->pwpw_from]);
  for (int i = 0; i < k->n_pool_with; i++) { /* and writes what the group's other poolings would have */
    const CKernel *m = &st->k[k->pool_with[i]];
    if (m->cat_out >= 0 && !(k->cat_out == m->cat_out))
      access_add (plan, st, a, m->cat_out, TRUE);
    else if (m->cat_out < 0)
      access_add (plan, st, a, OVA_NODE (plan->g, m->ni)->outputs[0], TRUE);
  }
  if (k->cat_out >= 0) /* its own output stays unwritten */
    a->has_slice = value_range (plan, st, k->cat_out, &a->slice);
  else
    for (int i = 0; i < n->n_outputs; i++)
      access_add (plan, st, a, n->outputs[i], TRUE);
  a->lib = k->kind == C_GEMM || (k->kind == C_CONV && !k->ig && !k->dw_w && k->dwpw_from < 0);
}

static gboolean
ranges_meet (const Range *a, int na, const Range *b, int nb)
{
  for (int i = 0; i < na; i++)
    for (int j = 0; j < nb; j++)
      if (a[i].lo < b[j].hi && b[j].lo < a[i].hi)
        return TRUE;
  return FALSE;
}

static gboolean
access_conflict (const Access *a, const Access *b)
{
  if (a->all || b->all || (a->lib && b->lib) || ranges_meet (a->w, a->nw, b->r, b->nr) ||
      ranges_meet (a->r, a->nr, b->w, b->nw) || ranges_meet (a->w, a->nw, b->w, b->nw))
    return TRUE;
  return (a->has_slice && (ranges_meet (&a->slice, 1, b->r, b->nr) || ranges_meet (&a->slice, 1, b->w, b->nw))) ||
         (b->has_slice && (ranges_meet (&b->slice, 1, a->r, a->nr) || ranges_meet (&b->slice, 1, a->w, a->nw)));
}

/* Enqueues the plan's kernels over 1 + st->n_aux streams while st->stream
 * is capturing, forking from it and joining back before the outputs. */
/* The streams a capture over @nstreams forks to (made before the capture). */
static gboolean
aux_streams (OvaPlan *plan, CudaState *st, int nstreams, GError **error)
{
  while (st->n_aux < nstreams - 1) {
    if (cudaStreamCreateWithFlags (&st->aux[st->n_aux], cudaStreamNonBlocking) != cudaSuccess)
      return cu_ok (cudaGetLastError (), "stream", plan, -1, error);
    st->n_aux++;
  }
  return TRUE;
}

static gboolean
enqueue_multi_stream (OvaPlan *plan, CudaState *st, int nstreams, GError **error)
{
  cudaStream_t ss[8];
  ss[0] = st->stream;
  for (int i = 1; i < nstreams; i++)
    ss[i] = st->aux[i - 1];
  Access *acc = g_new0 (Access, st->n + 1);
  cudaEvent_t *ev = g_new0 (cudaEvent_t, st->n + 1);
  int *on = g_new (int, st->n + 1); /* stream of each launched kernel, -1: none */
  int last[8], waited[8][8];
  cudaEvent_t fork = NULL;
  gboolean ok = cudaEventCreateWithFlags (&fork, cudaEventDisableTiming) == cudaSuccess &&
                cudaEventRecord (fork, ss[0]) == cudaSuccess;
  for (int i = 0; i < nstreams; i++) {
    last[i] = -1;
    for (int j = 0; j < nstreams; j++)
      waited[i][j] = -1;
    if (ok && i > 0)
      ok = cudaStreamWaitEvent (ss[i], fork, 0) == cudaSuccess;
  }
  for (int pos = 0; ok && pos < st->n; pos++) {
    CKernel *k = &st->k[pos];
    on[pos] = -1;
    if (k->kind == C_NOOP || k->fused_away)
      continue;
    kernel_access (plan, st, k, &acc[pos]);
    /* the latest conflicting kernel on each stream */
    int dep[8];
    for (int i = 0; i < nstreams; i++)
      dep[i] = -1;
    for (int q = pos - 1; q >= 0; q--)
      if (on[q] >= 0 && dep[on[q]] < 0 && access_conflict (&acc[q], &acc[pos]))
        dep[on[q]] = q;
    /* continue the stream whose last kernel is the latest dependency;
     * without one, the least recently used stream */
    int pick = -1;
    for (int i = 0; i < nstreams; i++)
      if (dep[i] >= 0 && dep[i] == last[i] && (pick < 0 || dep[i] > dep[pick]))
        pick = i;
    if (pick < 0) {
      pick = 0;
      for (int i = 1; i < nstreams; i++)
        if (last[i] < last[pick])
          pick = i;
    }
    for (int i = 0; ok && i < nstreams; i++)
      if (i != pick && dep[i] > waited[pick][i]) {
        ok = cudaStreamWaitEvent (ss[pick], ev[dep[i]], 0) == cudaSuccess;
        waited[pick][i] = dep[i];
      }
    ok = ok && enqueue (plan, st, k, ss[pick], error);
    ok = ok && cudaEventCreateWithFlags (&ev[pos], cudaEventDisableTiming) == cudaSuccess &&
         cudaEventRecord (ev[pos], ss[pick]) == cudaSuccess;
    on[pos] = pick;
    last[pick] = pos;
  }
  /* every forked stream joins back, the ones that got no kernel too, and
   * after a failure as well (so that the capture ends cleanly) */
  for (int i = 1; fork && i < nstreams; i++) {
    cudaEvent_t j = NULL;
    gboolean joined = cudaEventCreateWithFlags (&j, cudaEventDisableTiming) == cudaSuccess &&
                      cudaEventRecord (j, ss[i]) == cudaSuccess && cudaStreamWaitEvent (ss[0], j, 0) == cudaSuccess;
    ok = ok && joined;
    if (j)
      cudaEventDestroy (j);
  }
  if (!ok && error && !*error)
    cu_ok (cudaGetLastError (), "multi-stream capture", plan, -1, error);
  for (int pos = 0; pos < st->n; pos++)
    if (ev[pos])
      cudaEventDestroy (ev[pos]);
  if (fork)
    cudaEventDestroy (fork);
  g_free (ev);
  g_free (on);
  g_free (acc);
  return ok;
}

static gboolean
cuda_run (OvaPlan *plan, void *state, void *stream, GError **error)
{
  CudaState *st = state;
  OvaGraph *g = plan->g;
  cudaStream_t s = stream ? (cudaStream_t) stream : st->stream;
  st->last = s;
  cudaSetDevice (st->device);
  if (!stream) {
    /* No stream given: order after the caller's work on the legacy default
     * stream (a cudaMemcpy from pageable memory may still be in flight). */
    if (!st->legacy_done && cudaEventCreateWithFlags (&st->legacy_done, cudaEventDisableTiming) != cudaSuccess)
      st->legacy_done = NULL;
    if (st->legacy_done && (cudaEventRecord (st->legacy_done, 0) != cudaSuccess ||
                            cudaStreamWaitEvent (s, st->legacy_done, 0) != cudaSuccess))
      return cu_ok (cudaGetLastError (), "stream ordering", plan, -1, error);
  }
  for (int i = 0; i < g->n_inputs; i++) {
    OvaValue *v = OVA_VALUE (g, g->inputs[i]);
    void *dst = st->shadow[g->inputs[i]];
    const void *src = plan->input_data[i];
    int64_t n = ova_value_numel (v);
    if (!src || !dst)
      continue;
    struct cudaPointerAttributes pa;
    gboolean host = cudaPointerGetAttributes (&pa, src) != cudaSuccess || pa.type == cudaMemoryTypeUnregistered ||
                    pa.type == cudaMemoryTypeHost;
    cudaGetLastError ();
    if (host) {
      /* host memory: copied in (fp16: through a staging buffer, then converted) */
      if (st->half && !st->staging[i])
        st->staging[i] = owned_alloc (st, n * 4);
      void *d = st->half ? st->staging[i] : dst;
      if (!d || !cu_ok (cudaMemcpyAsync (d, src, n * 4, cudaMemcpyHostToDevice, s), "input upload", plan, -1, error))
        return FALSE;
      src = d;
    }
    int cp = st->half && st->s2d ? st->s2d[root_of (g, g->inputs[i])] : 0;
    if (cp) {
      if (!cu_ok (ova_cuda_convert_nchw_to_s2d (src, dst, v->dims[0], (int) v->dims[1], (int) v->dims[2],
                                                (int) v->dims[3], cp, s),
                  "input copy (space-to-depth)", plan, -1, error))
        return FALSE;
    } else if (st->half && is_nhwc (st, g, g->inputs[i])) {
      /* NCHW fp32 in, NHWC fp16 in the fixed buffer (never in place: fp16 goes through staging) */
      if (!cu_ok (ova_cuda_convert_nchw_to_nhwc (src, dst, st->half, v->dims[0], v->dims[1], v->dims[2] * v->dims[3], s),
                  "input copy", plan, -1, error))
        return FALSE;
    } else if (src != dst && !cu_ok (ova_cuda_convert (src, 0, dst, st->half, n, s), "input copy", plan, -1, error))
      return FALSE;
  }
  /* read per run: tests switch them on and off */
  gboolean check = g_getenv ("OVA_CUDA_CHECK") != NULL;
  gboolean use_graph = !g_getenv ("OVA_CUDA_GRAPH") || atoi (g_getenv ("OVA_CUDA_GRAPH")) != 0;
  st->checking = check;
  if (check) {
    double worst = 0, tol = st->half ? 3e-2 : 1e-3;
    for (int pos = 0; pos < st->n; pos++) {
      double w = 0;
      if (!enqueue (plan, st, &st->k[pos], s, error) || !cu_ok (cudaStreamSynchronize (s), "kernel", plan, st->k[pos].ni, error))
        return FALSE;
      if (st->k[pos].kind == C_POOL && st->k[pos].fused_away)
        continue; /* its output comes with the group's last pooling */
      if (st->k[pos].kind != C_NOOP && !check_node (plan, st, &st->k[pos], &w, error))
        return FALSE;
      for (int i = 0; i < st->k[pos].n_pool_with; i++) {
        double wm = 0;
        if (!check_node (plan, st, &st->k[st->k[pos].pool_with[i]], &wm, error))
          return FALSE;
        w = MAX (w, wm);
      }
      if (w > tol) {
        char *wh = ova_graph_node_where (g, st->k[pos].ni);
        g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_BACKEND, "%s: CUDA kernel differs from the reference by %.3g (> %.g)",
                     wh, w, tol);
        g_free (wh);
        return FALSE;
      }
      worst = MAX (worst, w);
    }
    g_printerr ("ova-cuda-check: %d nodes, worst relative difference %.3g (tolerance %.g)\n", st->n, worst, tol);
    return enqueue_outputs (plan, st, s, error);
  }
  if (g_getenv ("OVA_CUDA_PROFILE")) {
    cudaEvent_t *ev = g_new0 (cudaEvent_t, st->n + 1);
    gboolean ok = TRUE;
    for (int pos = 0; pos <= st->n; pos++) {
      cudaEventCreate (&ev[pos]);
      if (pos < st->n && st->k[pos].kind == C_CONV && !st->k[pos].mid)
        cudaEventCreate (&st->k[pos].mid);
    }
    for (int pos = 0; pos < st->n && ok; pos++) {
      cudaEventRecord (ev[pos], s);
      ok = enqueue (plan, st, &st->k[pos], s, error);
    }
    cudaEventRecord (ev[st->n], s);
    ok = ok && cu_ok (cudaStreamSynchronize (s), "profile", plan, -1, error);
    if (!st->prof_ms) {
      st->prof_ms = g_new0 (double, st->n + 1);
      st->prof_epi = g_new0 (double, st->n + 1);
    }
    for (int pos = 0; pos < st->n && ok; pos++) {
      float ms = 0, epi = 0;
      cudaEventElapsedTime (&ms, ev[pos], ev[pos + 1]);
      if (st->k[pos].mid && cudaEventElapsedTime (&epi, st->k[pos].mid, ev[pos + 1]) != cudaSuccess) {
        epi = 0; /* not recorded: no separate epilogue */
        cudaGetLastError (); /* not an error of a launch */
      }
      st->prof_ms[pos] += ms - epi;
      st->prof_epi[pos] += epi;
    }
    st->prof_runs += ok;
    st->prof_level = MAX (st->prof_level, atoi (g_getenv ("OVA_CUDA_PROFILE")));
    for (int pos = 0; pos <= st->n; pos++)
      cudaEventDestroy (ev[pos]);
    g_free (ev);
    return ok && enqueue_outputs (plan, st, s, error);
  }
  if (use_graph && !st->exec && !st->graph_failed) {
    /* Capture on the backend's own stream; replays go to any stream. A
     * driver that cannot capture programmatic dependent launches gets a
     * second capture with plain launches. */
    gboolean ok = FALSE;
    GError *cerr = NULL;
    cudaGraph_t graph = NULL;
    cudaError_t ee = cudaSuccess;
    /* OVA_CUDA_STREAMS: first over several streams (plain launches:
     * programmatic dependence is an edge to the previous kernel of one
     * stream), then as usual if that capture fails */
    int nstreams = streams_wanted ();
    /* OVA_CUDA_PDL read per capture, on the capturing thread (the switch is
     * per thread; the plan may have been compiled on another one) */
    const char *pe = g_getenv ("OVA_CUDA_PDL");
    ova_cuda_set_pdl (!pe || atoi (pe) != 0);
    int pdl_was = ova_cuda_pdl_enabled ();
    for (int attempt = nstreams > 1 ? -1 : 0; attempt < 2 && !ok; attempt++) {
      if (attempt == 0 && nstreams > 1) {
        /* OVA_CUDA_STREAMS_REQUIRED (tests): an error instead of the fallback */
        gboolean required = g_getenv ("OVA_CUDA_STREAMS_REQUIRED") != NULL;
        char *why = g_strdup (cerr ? cerr->message : cudaGetErrorString (ee));
        g_clear_error (&cerr);
        cudaGetLastError ();
        ova_cuda_set_pdl (pdl_was);
        if (graph)
          cudaGraphDestroy (graph);
        graph = NULL;
        if (required) {
          g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_BACKEND,
                       "%s: CUDA graph capture over %d streams failed: %s", g->path, nstreams, why);
          g_free (why);
          return FALSE;
        }
        g_message ("%s: CUDA graph capture over %d streams failed (%s), capturing on one", g->path, nstreams, why);
        g_free (why);
      }
      if (attempt == 1) {
        if (!ova_cuda_pdl_enabled ())
          break;
        g_message ("%s: CUDA graph capture failed with programmatic dependent launch (%s), capturing plain launches",
                   g->path, cerr ? cerr->message : cudaGetErrorString (ee));
        g_clear_error (&cerr);
        cudaGetLastError ();
        ova_cuda_set_pdl (0);
        if (graph)
          cudaGraphDestroy (graph);
        graph = NULL;
      }
      if (attempt < 0 && !aux_streams (plan, st, nstreams, &cerr))
        continue;
      ok = cudaStreamBeginCapture (st->stream, cudaStreamCaptureModeThreadLocal) == cudaSuccess;
      if (attempt < 0) {
        ova_cuda_set_pdl (0);
        ok = ok && enqueue_multi_stream (plan, st, nstreams, &cerr);
      }
      for (int pos = 0; ok && attempt >= 0 && pos < st->n; pos++)
        ok = enqueue (plan, st, &st->k[pos], st->stream, &cerr);
      ok = ok && enqueue_outputs (plan, st, st->stream, &cerr);
      ee = cudaStreamEndCapture (st->stream, &graph);
      ok = ok && ee == cudaSuccess && graph;
      if (ok && cudaGraphInstantiate (&st->exec, graph, 0) != cudaSuccess) {
        st->exec = NULL;
        ok = FALSE;
      }
      if (ok && attempt < 0) {
        ova_cuda_set_pdl (pdl_was); /* for the other plans' captures */
        if (plan->verbose)
          g_printerr ("ova-engine: CUDA graph captured over %d streams\n", nstreams);
      }
    }
    st->graph = graph;
    if (!ok) {
      g_message ("%s: CUDA graph capture failed (%s), running kernel by kernel", g->path,
                 cerr ? cerr->message : cudaGetErrorString (ee));
      g_clear_error (&cerr);
      cudaGetLastError ();
      st->graph_failed = TRUE;
    }
  }
  if (st->exec)
    return cu_ok (cudaGraphLaunch (st->exec, s), "graph launch", plan, -1, error);
  for (int pos = 0; pos < st->n; pos++)
    if (!enqueue (plan, st, &st->k[pos], s, error))
      return FALSE;
  return enqueue_outputs (plan, st, s, error);
}

static gboolean
cuda_synchronize (void *state, void *stream, GError **error)
{
  CudaState *st = state;
  cudaStream_t s = stream ? stream : st->last ? st->last : st->stream;
  cudaError_t e = cudaStreamSynchronize (s);
  if (e != cudaSuccess) {
    g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_BACKEND, "CUDA synchronize failed: %s", cudaGetErrorString (e));
    return FALSE;
  }
  return TRUE;
}

static gboolean
cuda_download (void *host, const void *device, size_t bytes)
{
  return cudaMemcpy (host, device, bytes, cudaMemcpyDeviceToHost) == cudaSuccess;
}

static const OvaBackend cuda_backend = {
  .name = "cuda",
  .device = OVA_DEVICE_CUDA,
  .precision = cuda_precision,
  .compile = cuda_compile,
  .bind = cuda_bind,
  .run = cuda_run,
  .synchronize = cuda_synchronize,
  .release = cuda_release,
  .alloc = cuda_alloc,
  .free = cuda_free,
  .download = cuda_download,
};

const OvaBackend *
ova_backend_cuda (void)
{
  return &cuda_backend;
}
