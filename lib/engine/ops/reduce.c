/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Reductions (ReduceX), ArgMax/ArgMin, Softmax/LogSoftmax/Hardmax, TopK.
 *
 * Reductions run one group of adjacent reduced axes at a time as an
 * (outer, reduced, inner) loop whose innermost loop runs over contiguous
 * inner elements, so gcc vectorises it; fp32 accumulates in float, other
 * types in double.
 */
#include "ops-private.h"

#include <float.h>
#include <stdlib.h>

typedef enum { R_SUM, R_MEAN, R_MAX, R_MIN, R_PROD, R_L1, R_L2, R_LOGSUM, R_LOGSUMEXP, R_SUMSQ } RedKind;

static RedKind
red_kind (const OvaOpNode *node)
{
  static const struct { const char *n; RedKind k; } map[] = {
    { "ReduceSum", R_SUM }, { "ReduceMean", R_MEAN }, { "ReduceMax", R_MAX }, { "ReduceMin", R_MIN },
    { "ReduceProd", R_PROD }, { "ReduceL1", R_L1 }, { "ReduceL2", R_L2 },
    { "ReduceLogSum", R_LOGSUM }, { "ReduceLogSumExp", R_LOGSUMEXP }, { "ReduceSumSquare", R_SUMSQ },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (map); i++)
    if (strcmp (node->op_type, map[i].n) == 0)
      return map[i].k;
  return R_SUM;
}

/* Which axes are reduced. Returns 1, 0 when the axes input has no data yet,
 * -1 on error. */
static int
red_axes (const OvaOpNode *node, const OvaTensorRef *in, int n_in, gboolean *red, gboolean *noop,
          GError **error)
{
  int r = in[0].rank;
  int64_t axes[OVA_MAX_DIMS * 2];
  int n = 0;
  gboolean axes_input = ops_has (in, n_in, 1);
  const int64_t *v;
  int na = ova_op_attr_ints (node, "axes", &v);
  *noop = FALSE;
  if (na > 0) {
    n = MIN (na, OVA_MAX_DIMS * 2);
    ops_copy_i64 (axes, v, n);
  } else if (axes_input) {
    n = ops_read_ints (&in[1], axes, OVA_MAX_DIMS * 2);
    if (n == -2)
      return OPS_SHAPE (node, "axes has too many values") - 1;
    if (n < 0)
      return 0;
  }
  for (int i = 0; i < r; i++)
    red[i] = n == 0;
  if (n == 0 && ova_op_attr_int (node, "noop_with_empty_axes", 0)) {
    for (int i = 0; i < r; i++)
      red[i] = FALSE;
    *noop = TRUE;
  }
  for (int i = 0; i < n; i++) {
    int a;
    if (!ops_axis (node, axes[i], r, &a, error))
      return -1;
    red[a] = TRUE;
  }
  return 1;
}

static gboolean
infer_reduce (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
              int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 1, 2, error))
    return FALSE;
  if (!ops_dtype_is_float (in[0].dtype) && !ops_dtype_is_int (in[0].dtype))
    return OPS_UNSUP (node, "data type %d not supported", in[0].dtype);
  gboolean keep = ova_op_attr_int (node, "keepdims", 1) != 0, noop;
  gboolean red[OVA_MAX_DIMS];
  int k = red_axes (node, in, n_in, red, &noop, error);
  if (k < 0)
    return FALSE;
  int r = in[0].rank, m = 0;
  int64_t dims[OVA_MAX_DIMS];
  if (k == 0) { /* axes unknown until run time */
    int m2 = r;
    if (!keep) {
      if (in[1].rank != 1 || in[1].dims[0] < 1 || in[1].dims[0] > r)
        return OPS_UNSUP (node, "axes must be a constant when keepdims is 0");
      m2 = r - (int) in[1].dims[0];
    }
    for (int i = 0; i < m2; i++)
      dims[i] = -1;
    ops_set_shape (&out[0], in[0].dtype, m2, dims);
    return TRUE;
  }
  for (int i = 0; i < r; i++) {
    if (!red[i])
      dims[m++] = in[0].dims[i];
    else if (keep)
      dims[m++] = 1;
  }
  ops_set_shape (&out[0], in[0].dtype, m, dims);
  return TRUE;
}

#define RED_PASS(T, INIT, COMBINE)                                                                 \
  do {                                                                                             \
    const T *restrict s = src;                                                                     \
    T *restrict d = dst;                                                                           \
    for (int64_t o = 0; o < outer; o++) {                                                          \
      T *restrict acc = d + o * inner;                                                             \
      for (int64_t i = 0; i < inner; i++)                                                          \
        acc[i] = (INIT);                                                                           \
      for (int64_t rr = 0; rr < R; rr++) {                                                         \
        const T *restrict x = s + (o * R + rr) * inner;                                            \
        for (int64_t i = 0; i < inner; i++) {                                                      \
          T a = acc[i], v = x[i];                                                                  \
          acc[i] = (COMBINE);                                                                      \
        }                                                                                          \
      }                                                                                            \
    }                                                                                              \
  } while (0)

/* One pass over a group of reduced axes; kind is the combine step. */
OPS_SIMD_IMPL void
red_pass_f32_impl (RedKind kind, const float *src, float *dst, int64_t outer, int64_t R,
                   int64_t inner)
{
  switch (kind) {
  case R_MAX: RED_PASS (float, -INFINITY, (v > a || isnan (v)) ? v : a); break;
  case R_MIN: RED_PASS (float, INFINITY, (v < a || isnan (v)) ? v : a); break;
  case R_PROD: RED_PASS (float, 1.0f, a * v); break;
  default: RED_PASS (float, 0.0f, a + v); break;
  }
}

OPS_SIMD_VARIANTS (red_pass_f32,
                   (RedKind kind, const float *src, float *dst, int64_t outer, int64_t R, int64_t inner),
                   (kind, src, dst, outer, R, inner))

static void
red_pass_f64 (RedKind kind, const double *src, double *dst, int64_t outer, int64_t R, int64_t inner)
{
  switch (kind) {
  case R_MAX: RED_PASS (double, -INFINITY, (v > a || isnan (v)) ? v : a); break;
  case R_MIN: RED_PASS (double, INFINITY, (v < a || isnan (v)) ? v : a); break;
  case R_PROD: RED_PASS (double, 1.0, a * v); break;
  default: RED_PASS (double, 0.0, a + v); break;
  }
}

static gboolean
run_reduce (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
            int n_out, GError **error)
{
  RedKind kind = red_kind (node);
  gboolean red[OVA_MAX_DIMS], noop;
  if (red_axes (node, in, n_in, red, &noop, error) <= 0)
    return error && *error ? FALSE : OPS_SHAPE (node, "axes missing");
  int r = in[0].rank;
  int64_t n = ova_tensor_ref_numel (&in[0]);
  gboolean f32 = in[0].dtype == OVA_DTYPE_FLOAT32 && kind != R_LOGSUMEXP;
  size_t es = f32 ? sizeof (float) : sizeof (double);
  /* work buffer with the element map applied */
  void *buf = g_malloc (es * MAX (1, n));
  double mx = -INFINITY;
  if (kind == R_LOGSUMEXP) /* subtract the max for range */
    for (int64_t i = 0; i < n; i++)
      mx = MAX (mx, ops_get_f64 (in[0].data, in[0].dtype, i));
  if (!isfinite (mx))
    mx = 0;
  if (f32) {
    const float *restrict x = in[0].data;
    float *restrict b = buf;
    switch (kind) {
    case R_L1: for (int64_t i = 0; i < n; i++) b[i] = fabsf (x[i]); break;
    case R_L2: case R_SUMSQ: for (int64_t i = 0; i < n; i++) b[i] = x[i] * x[i]; break;
    default: memcpy (b, x, sizeof (float) * n); break;
    }
  } else {
    double *b = buf;
    for (int64_t i = 0; i < n; i++) {
      double v = ops_get_f64 (in[0].data, in[0].dtype, i);
      switch (kind) {
      case R_L1: v = fabs (v); break;
      case R_L2: case R_SUMSQ: v = v * v; break;
      case R_LOGSUMEXP: v = exp (v - mx); break;
      default: break;
      }
      b[i] = v;
    }
  }
  int64_t dims[OVA_MAX_DIMS], count = 1;
  memcpy (dims, in[0].dims, sizeof dims);
  RedKind comb = (kind == R_MAX || kind == R_MIN || kind == R_PROD) ? kind : R_SUM;
  for (int a = 0; a < r;) {
    if (!red[a]) {
      a++;
      continue;
    }
    int b = a;
    while (b + 1 < r && red[b + 1])
      b++;
    int64_t outer = ops_numel_dims (a, dims), R = ops_numel_dims (b - a + 1, dims + a);
    int64_t inner = ops_numel_dims (r - b - 1, dims + b + 1);
    void *nb = g_malloc (es * MAX (1, outer * inner));
    if (f32)
      red_pass_f32 (comb, buf, nb, outer, R, inner);
    else
      red_pass_f64 (comb, buf, nb, outer, R, inner);
    g_free (buf);
    buf = nb;
    count *= R;
    for (int i = a; i <= b; i++)
      dims[i] = 1;
    a = b + 1;
  }
  int64_t m = ova_tensor_ref_numel (&out[0]);
  for (int64_t i = 0; i < m; i++) {
    double v = f32 ? ((float *) buf)[i] : ((double *) buf)[i];
    switch (kind) {
    case R_MEAN: v = count ? v / count : NAN; break;
    case R_L2: v = sqrt (v); break;
    case R_LOGSUM: v = log (v); break;
    case R_LOGSUMEXP: v = log (v) + mx; break;
    default: break;
    }
    if (f32)
      ((float *) out[0].data)[i] = (float) v;
    else
      ops_set_f64 (out[0].data, out[0].dtype, i, v);
  }
  g_free (buf);
  return TRUE;
}

#define REDUCE_DEF(Op) static const OvaOpDef def_##Op = { #Op, 1, infer_reduce, run_reduce };
REDUCE_DEF (ReduceSum)
REDUCE_DEF (ReduceMean)
REDUCE_DEF (ReduceMax)
REDUCE_DEF (ReduceMin)
REDUCE_DEF (ReduceProd)
REDUCE_DEF (ReduceL1)
REDUCE_DEF (ReduceL2)
REDUCE_DEF (ReduceLogSum)
REDUCE_DEF (ReduceLogSumExp)
REDUCE_DEF (ReduceSumSquare)

/* ------------------------------------------------------------ ArgMax / ArgMin */

static gboolean
infer_arg (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
           GError **error)
{
  if (!ops_check_inputs (node, n_in, 1, 1, error))
    return FALSE;
  if (!ops_dtype_is_float (in[0].dtype) && !ops_dtype_is_int (in[0].dtype))
    return OPS_UNSUP (node, "data type %d not supported", in[0].dtype);
  int axis;
  if (!ops_axis (node, ova_op_attr_int (node, "axis", 0), in[0].rank, &axis, error))
    return FALSE;
  gboolean keep = ova_op_attr_int (node, "keepdims", 1) != 0;
  int64_t dims[OVA_MAX_DIMS];
  int m = 0;
  for (int i = 0; i < in[0].rank; i++)
    if (i != axis)
      dims[m++] = in[0].dims[i];
    else if (keep)
      dims[m++] = 1;
  ops_set_shape (&out[0], OVA_DTYPE_INT64, m, dims);
  return TRUE;
}

static gboolean
run_arg (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
         GError **error)
{
  int axis;
  if (!ops_axis (node, ova_op_attr_int (node, "axis", 0), in[0].rank, &axis, error))
    return FALSE;
  gboolean is_max = strcmp (node->op_type, "ArgMax") == 0;
  gboolean last = ova_op_attr_int (node, "select_last_index", 0) != 0;
  int64_t outer = ops_numel_dims (axis, in[0].dims), R = in[0].dims[axis];
  int64_t inner = ops_numel_dims (in[0].rank - axis - 1, in[0].dims + axis + 1);
  int64_t *y = out[0].data;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      int64_t best = 0;
      double bv = 0;
      for (int64_t rr = 0; rr < R; rr++) {
        double v = ops_get_f64 (in[0].data, in[0].dtype, (o * R + rr) * inner + i);
        gboolean better = rr == 0 || (is_max ? (v > bv || (last && v == bv)) : (v < bv || (last && v == bv)));
        if (better) {
          bv = v;
          best = rr;
        }
      }
      y[o * inner + i] = best;
    }
  return TRUE;
}

static const OvaOpDef def_ArgMax = { "ArgMax", 1, infer_arg, run_arg };
static const OvaOpDef def_ArgMin = { "ArgMin", 1, infer_arg, run_arg };

/* ------------------------------------------------------------ Softmax family */

static gboolean
infer_softmax (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
               int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 1, 1, error))
    return FALSE;
  if (!ops_dtype_is_float (in[0].dtype))
    return OPS_UNSUP (node, "expects a floating-point input");
  int axis;
  if (!ops_axis (node, ova_op_attr_int (node, "axis", node->opset >= 13 ? -1 : 1), in[0].rank,
                 &axis, error))
    return FALSE;
  ops_copy_shape (&out[0], &in[0]);
  return TRUE;
}

static gboolean
run_softmax (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
             int n_out, GError **error)
{
  int axis;
  if (!ops_axis (node, ova_op_attr_int (node, "axis", node->opset >= 13 ? -1 : 1), in[0].rank,
                 &axis, error))
    return FALSE;
  int kind = strcmp (node->op_type, "Softmax") == 0 ? 0 : strcmp (node->op_type, "LogSoftmax") == 0 ? 1 : 2;
  int64_t outer = ops_numel_dims (axis, in[0].dims), R, inner;
  if (node->opset >= 13) {
    R = in[0].dims[axis];
    inner = ops_numel_dims (in[0].rank - axis - 1, in[0].dims + axis + 1);
  } else { /* the input is coerced to 2-D at axis */
    R = ops_numel_dims (in[0].rank - axis, in[0].dims + axis);
    inner = 1;
  }
  gboolean f32 = in[0].dtype == OVA_DTYPE_FLOAT32;
  if (f32 && kind != 2 && inner > 1) {
    /* axis not innermost: work on whole contiguous rows of @inner values */
    float *mx = g_new (float, inner * 2), *sum = mx + inner;
    for (int64_t o = 0; o < outer; o++) {
      const float *restrict x = (const float *) in[0].data + o * R * inner;
      float *restrict y = (float *) out[0].data + o * R * inner;
      for (int64_t i = 0; i < inner; i++) {
        mx[i] = -INFINITY;
        sum[i] = 0;
      }
      for (int64_t rr = 0; rr < R; rr++)
        for (int64_t i = 0; i < inner; i++)
          mx[i] = x[rr * inner + i] > mx[i] ? x[rr * inner + i] : mx[i];
      for (int64_t rr = 0; rr < R; rr++)
        for (int64_t i = 0; i < inner; i++) {
          float e = expf (x[rr * inner + i] - mx[i]);
          sum[i] += e;
          if (kind == 0)
            y[rr * inner + i] = e;
        }
      if (kind == 0) {
        for (int64_t i = 0; i < inner; i++)
          sum[i] = 1.0f / sum[i];
        for (int64_t rr = 0; rr < R; rr++)
          for (int64_t i = 0; i < inner; i++)
            y[rr * inner + i] *= sum[i];
      } else {
        for (int64_t i = 0; i < inner; i++)
          sum[i] = mx[i] + logf (sum[i]);
        for (int64_t rr = 0; rr < R; rr++)
          for (int64_t i = 0; i < inner; i++)
            y[rr * inner + i] = x[rr * inner + i] - sum[i];
      }
    }
    g_free (mx);
    return TRUE;
  }
  float *row = g_malloc (sizeof (float) * MAX (1, R));
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      int64_t base = o * R * inner + i;
      for (int64_t rr = 0; rr < R; rr++)
        row[rr] = f32 ? ((const float *) in[0].data)[base + rr * inner]
                      : (float) ops_get_f64 (in[0].data, in[0].dtype, base + rr * inner);
      float mx = -INFINITY;
      int64_t arg = 0;
      for (int64_t rr = 0; rr < R; rr++)
        if (row[rr] > mx) {
          mx = row[rr];
          arg = rr;
        }
      if (kind == 2) {
        for (int64_t rr = 0; rr < R; rr++)
          row[rr] = rr == arg ? 1.0f : 0.0f;
      } else {
        float sum = 0;
        for (int64_t rr = 0; rr < R; rr++) {
          float e = expf (row[rr] - mx);
          sum += e;
          if (kind == 0)
            row[rr] = e;
        }
        if (kind == 0) {
          float inv = 1.0f / sum;
          for (int64_t rr = 0; rr < R; rr++)
            row[rr] *= inv;
        } else {
          float ls = logf (sum);
          for (int64_t rr = 0; rr < R; rr++)
            row[rr] = row[rr] - mx - ls;
        }
      }
      for (int64_t rr = 0; rr < R; rr++) {
        if (f32)
          ((float *) out[0].data)[base + rr * inner] = row[rr];
        else
          ops_set_f64 (out[0].data, out[0].dtype, base + rr * inner, row[rr]);
      }
    }
  g_free (row);
  return TRUE;
}

static const OvaOpDef def_Softmax = { "Softmax", 1, infer_softmax, run_softmax };
static const OvaOpDef def_LogSoftmax = { "LogSoftmax", 1, infer_softmax, run_softmax };
static const OvaOpDef def_Hardmax = { "Hardmax", 1, infer_softmax, run_softmax };

/* ------------------------------------------------------------ TopK */

static int64_t
topk_k (const OvaOpNode *node, const OvaTensorRef *in, int n_in, gboolean *known)
{
  *known = TRUE;
  if (node->opset < 10)
    return ova_op_attr_int (node, "k", 0);
  int64_t k;
  int n = ops_has (in, n_in, 1) ? ops_read_ints (&in[1], &k, 1) : -1;
  if (n == -1) {
    *known = FALSE;
    return -1;
  }
  return n == 1 ? k : -1; /* a bad K tensor: reported as out of range */
}

static gboolean
infer_topk (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
            int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 1, 2, error))
    return FALSE;
  if (!ops_dtype_is_float (in[0].dtype) && !ops_dtype_is_int (in[0].dtype))
    return OPS_UNSUP (node, "data type %d not supported", in[0].dtype);
  int axis;
  if (!ops_axis (node, ova_op_attr_int (node, "axis", -1), in[0].rank, &axis, error))
    return FALSE;
  gboolean known;
  int64_t k = topk_k (node, in, n_in, &known);
  if (known && (k < 0 || (in[0].dims[axis] >= 0 && k > in[0].dims[axis])))
    return OPS_SHAPE (node, "k = %" G_GINT64_FORMAT " out of range for axis size %" G_GINT64_FORMAT,
                      k, in[0].dims[axis]);
  ops_copy_shape (&out[0], &in[0]);
  out[0].dims[axis] = known ? k : -1;
  if (n_out > 1) {
    ops_copy_shape (&out[1], &out[0]);
    out[1].dtype = OVA_DTYPE_INT64;
  }
  return TRUE;
}

typedef struct {
  double v;
  int64_t i;
} KV;

static int
kv_desc (const void *a, const void *b)
{
  const KV *x = a, *y = b;
  if (x->v != y->v)
    return x->v > y->v ? -1 : 1;
  return x->i < y->i ? -1 : x->i > y->i;
}

static int
kv_asc (const void *a, const void *b)
{
  const KV *x = a, *y = b;
  if (x->v != y->v)
    return x->v < y->v ? -1 : 1;
  return x->i < y->i ? -1 : x->i > y->i;
}

static gboolean
run_topk (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
          GError **error)
{
  int axis;
  if (!ops_axis (node, ova_op_attr_int (node, "axis", -1), in[0].rank, &axis, error))
    return FALSE;
  gboolean known, largest = ova_op_attr_int (node, "largest", 1) != 0;
  int64_t k = topk_k (node, in, n_in, &known);
  int64_t outer = ops_numel_dims (axis, in[0].dims), R = in[0].dims[axis];
  int64_t inner = ops_numel_dims (in[0].rank - axis - 1, in[0].dims + axis + 1);
  KV *kv = g_new (KV, MAX (1, R));
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      for (int64_t rr = 0; rr < R; rr++) {
        kv[rr].v = ops_get_f64 (in[0].data, in[0].dtype, (o * R + rr) * inner + i);
        kv[rr].i = rr;
      }
      qsort (kv, R, sizeof (KV), largest ? kv_desc : kv_asc);
      for (int64_t j = 0; j < k; j++) {
        int64_t e = (o * k + j) * inner + i;
        if (ops_dtype_is_float (in[0].dtype))
          ops_set_f64 (out[0].data, out[0].dtype, e, kv[j].v);
        else
          ops_set_i64 (out[0].data, out[0].dtype, e,
                       ops_get_i64 (in[0].data, in[0].dtype, (o * R + kv[j].i) * inner + i));
        if (n_out > 1 && out[1].data)
          ((int64_t *) out[1].data)[e] = kv[j].i;
      }
    }
  g_free (kv);
  return TRUE;
}

static const OvaOpDef def_TopK = { "TopK", 1, infer_topk, run_topk };

/* ------------------------------------------------------------ losses
 * NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (evaluating trained
 * classifiers): per-element -log p[target] * weight[target], ignore_index,
 * reduction none / sum / mean (mean divides by the summed weights). */

static gboolean
infer_loss (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
            int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 2, 3, error))
    return FALSE;
  const OvaTensorRef *x = &in[0], *t = &in[1];
  if (!ops_dtype_is_float (x->dtype) || (t->dtype != OVA_DTYPE_INT64 && t->dtype != OVA_DTYPE_INT32))
    return OPS_UNSUP (node, "scores must be floating point and targets integers");
  if (x->rank < 2 || t->rank != x->rank - 1)
    return OPS_SHAPE (node, "scores must be [N, C, ...] and targets [N, ...]");
  for (int i = 0; i < t->rank; i++) {
    int64_t a = x->dims[i == 0 ? 0 : i + 1], b = t->dims[i];
    if (a >= 0 && b >= 0 && a != b)
      return OPS_SHAPE (node, "targets do not match the scores' shape");
  }
  if (ops_has (in, n_in, 2) && (in[2].rank != 1 || in[2].dtype != x->dtype ||
                                (in[2].dims[0] >= 0 && x->dims[1] >= 0 && in[2].dims[0] != x->dims[1])))
    return OPS_SHAPE (node, "weights must be a vector of C values");
  const char *red = ova_op_attr_string (node, "reduction", "mean");
  if (strcmp (red, "none") && strcmp (red, "sum") && strcmp (red, "mean"))
    return OPS_UNSUP (node, "reduction '%s' not supported", red);
  if (strcmp (red, "none") == 0)
    ops_set_shape (&out[0], x->dtype, t->rank, t->dims);
  else
    ops_set_shape (&out[0], x->dtype, 0, NULL);
  if (n_out > 1)
    ops_copy_shape (&out[1], x);
  return TRUE;
}

static gboolean
run_loss (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
          GError **error)
{
  const OvaTensorRef *x = &in[0], *t = &in[1];
  gboolean sce = strcmp (node->op_type, "SoftmaxCrossEntropyLoss") == 0;
  const char *red = ova_op_attr_string (node, "reduction", "mean");
  gboolean has_ignore = ova_op_attr (node, "ignore_index") != NULL;
  int64_t ignore = ova_op_attr_int (node, "ignore_index", 0);
  int64_t N = x->dims[0], C = x->dims[1], D = ops_numel_dims (x->rank - 2, x->dims + 2);
  int64_t nx = ova_tensor_ref_numel (x);
  double *lp = g_new (double, MAX (1, nx));
  for (int64_t i = 0; i < nx; i++)
    lp[i] = ops_get_f64 (x->data, x->dtype, i);
  if (sce) /* log-softmax over C */
    for (int64_t n = 0; n < N; n++)
      for (int64_t d = 0; d < D; d++) {
        double mx = -INFINITY, s = 0;
        for (int64_t c = 0; c < C; c++)
          mx = MAX (mx, lp[(n * C + c) * D + d]);
        for (int64_t c = 0; c < C; c++)
          s += exp (lp[(n * C + c) * D + d] - mx);
        double ls = mx + log (s);
        for (int64_t c = 0; c < C; c++)
          lp[(n * C + c) * D + d] -= ls;
      }
  if (sce && n_out > 1 && out[1].data)
    for (int64_t i = 0; i < nx; i++)
      ops_set_f64 (out[1].data, out[1].dtype, i, lp[i]);
  double sum = 0, wsum = 0;
  gboolean none = strcmp (red, "none") == 0;
  for (int64_t n = 0; n < N; n++)
    for (int64_t d = 0; d < D; d++) {
      int64_t c = ops_get_i64 (t->data, t->dtype, n * D + d);
      double l = 0, w = 0;
      if (!(has_ignore && c == ignore)) {
        if (c < 0 || c >= C) {
          g_free (lp);
          return OPS_SHAPE (node, "target %" G_GINT64_FORMAT " outside [0, %" G_GINT64_FORMAT ")", c, C);
        }
        w = ops_has (in, n_in, 2) ? ops_get_f64 (in[2].data, in[2].dtype, c) : 1.0;
        l = -lp[(n * C + c) * D + d] * w;
      }
      if (none)
        ops_set_f64 (out[0].data, out[0].dtype, n * D + d, l);
      sum += l;
      wsum += w;
    }
  if (!none)
    ops_set_f64 (out[0].data, out[0].dtype, 0, strcmp (red, "sum") == 0 ? sum : sum / wsum);
  g_free (lp);
  return TRUE;
}

static const OvaOpDef def_NegativeLogLikelihoodLoss = { "NegativeLogLikelihoodLoss", 12, infer_loss, run_loss };
static const OvaOpDef def_SoftmaxCrossEntropyLoss = { "SoftmaxCrossEntropyLoss", 12, infer_loss, run_loss };

const OvaOpDef *const ova_ops_reduce[] = {
  &def_ReduceSum, &def_ReduceMean, &def_ReduceMax, &def_ReduceMin, &def_ReduceProd,
  &def_ReduceL1, &def_ReduceL2, &def_ReduceLogSum, &def_ReduceLogSumExp, &def_ReduceSumSquare,
  &def_ArgMax, &def_ArgMin, &def_Softmax, &def_LogSoftmax, &def_Hardmax, &def_TopK,
  &def_NegativeLogLikelihoodLoss, &def_SoftmaxCrossEntropyLoss, NULL,
};
