/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Element-wise operators: activations and math (unary), arithmetic,
 * comparison and logic with numpy broadcasting, variadic Sum/Mean/Min/Max,
 * Where, Clip, Cast, Identity, Dropout.
 *
 * fp32 has contiguous loops for the same-shape and scalar-broadcast cases
 * (the innermost broadcast row is contiguous or a repeated scalar); other
 * types compute element by element in double or int64.
 */
#include "ops-private.h"

#include <float.h>
#include <tgmath.h>

/* ---------------------------------------------------------------- unary */

static gboolean
infer_same (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
            int n_out, GError **error)
{
  if (n_in < 1 || in[0].dtype == OVA_DTYPE_UNDEFINED)
    return OPS_SHAPE (node, "missing input");
  if (!ops_dtype_is_numeric (in[0].dtype))
    return OPS_UNSUP (node, "data type %d not supported", in[0].dtype);
  for (int i = 0; i < n_out; i++)
    ops_copy_shape (&out[i], &in[0]);
  return TRUE;
}

static gboolean
infer_same_float (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
                  int n_out, GError **error)
{
  if (n_in < 1 || in[0].dtype == OVA_DTYPE_UNDEFINED)
    return OPS_SHAPE (node, "missing input");
  if (!ops_dtype_is_float (in[0].dtype))
    return OPS_UNSUP (node, "expects a floating-point input, got data type %d", in[0].dtype);
  ops_copy_shape (&out[0], &in[0]);
  return TRUE;
}

/* Defines run_<Op> and def_<Op>: PARAMS declares the attributes used by EXPR
 * (an expression of x, float in the fp32 loop and double otherwise). */
#define UNARY_OP(Op, Infer, PARAMS, EXPR)                                                          \
  static gboolean run_##Op (const OvaOpNode *node, const OvaTensorRef *in, int n_in,              \
                            OvaTensorRef *out, int n_out, GError **error)                          \
  {                                                                                                \
    PARAMS;                                                                                        \
    int64_t n = ova_tensor_ref_numel (&in[0]);                                                     \
    if (in[0].dtype == OVA_DTYPE_FLOAT32) {                                                        \
      const float *restrict X = in[0].data;                                                        \
      float *restrict Y = out[0].data;                                                             \
      for (int64_t i = 0; i < n; i++) {                                                            \
        float x = X[i];                                                                            \
        Y[i] = (EXPR);                                                                             \
      }                                                                                            \
    } else {                                                                                       \
      for (int64_t i = 0; i < n; i++) {                                                            \
        double x = ops_get_f64 (in[0].data, in[0].dtype, i);                                       \
        ops_set_f64 (out[0].data, out[0].dtype, i, (EXPR));                                        \
      }                                                                                            \
    }                                                                                              \
    return TRUE;                                                                                   \
  }                                                                                                \
  static const OvaOpDef def_##Op = { #Op, 1, Infer, run_##Op };

#define NOPARAMS (void) 0
#define ALPHA(d) const float alpha = ova_op_attr_float (node, "alpha", d)
#define ALPHA_BETA(a, b)                                                                           \
  const float alpha = ova_op_attr_float (node, "alpha", a);                                        \
  const float beta = ova_op_attr_float (node, "beta", b)

UNARY_OP (Relu, infer_same, NOPARAMS, x > 0 ? x : 0 * x)
UNARY_OP (LeakyRelu, infer_same_float, ALPHA (0.01f), x >= 0 ? x : x * alpha)
UNARY_OP (Sigmoid, infer_same_float, NOPARAMS, 1 / (1 + exp (-x)))
UNARY_OP (HardSigmoid, infer_same_float, ALPHA_BETA (0.2f, 0.5f),
          fmin (fmax (alpha * x + beta, 0 * x), 0 * x + 1))
UNARY_OP (HardSwish, infer_same_float, NOPARAMS,
          x * fmin (fmax (x * (1.0f / 6) + 0.5f, 0 * x), 0 * x + 1))
UNARY_OP (Tanh, infer_same_float, NOPARAMS, tanh (x))
UNARY_OP (Erf, infer_same, NOPARAMS, erf (x))
UNARY_OP (Sqrt, infer_same_float, NOPARAMS, sqrt (x))
UNARY_OP (Exp, infer_same_float, NOPARAMS, exp (x))
UNARY_OP (Log, infer_same_float, NOPARAMS, log (x))
UNARY_OP (Neg, infer_same, NOPARAMS, -x)
UNARY_OP (Abs, infer_same, NOPARAMS, fabs (x))
UNARY_OP (Floor, infer_same_float, NOPARAMS, floor (x))
UNARY_OP (Ceil, infer_same_float, NOPARAMS, ceil (x))
UNARY_OP (Round, infer_same_float, NOPARAMS, rint (x)) /* half to even */
UNARY_OP (Sign, infer_same, NOPARAMS, (x > 0) - (x < 0) + 0 * x)
UNARY_OP (Reciprocal, infer_same_float, NOPARAMS, 1 / x)
UNARY_OP (Softplus, infer_same_float, NOPARAMS,
          x > 20 ? x : log1p (exp (x)))
UNARY_OP (Softsign, infer_same_float, NOPARAMS, x / (1 + fabs (x)))
UNARY_OP (Selu, infer_same_float,
          const float alpha = ova_op_attr_float (node, "alpha", 1.67326319217681884765625f);
          const float gamma = ova_op_attr_float (node, "gamma", 1.05070102214813232421875f),
          x > 0 ? gamma * x : gamma * (alpha * exp (x) - alpha))
UNARY_OP (Elu, infer_same_float, ALPHA (1.0f), x >= 0 ? x : alpha * (exp (x) - 1))
UNARY_OP (Celu, infer_same_float, ALPHA (1.0f),
          fmax (0 * x, x) + fmin (0 * x, alpha * (exp (x / alpha) - 1)))
UNARY_OP (Mish, infer_same_float, NOPARAMS, x * tanh (x > 20 ? x : log1p (exp (x))))
UNARY_OP (ThresholdedRelu, infer_same_float, ALPHA (1.0f), x > alpha ? x : 0 * x)
UNARY_OP (Sin, infer_same_float, NOPARAMS, sin (x))
UNARY_OP (Cos, infer_same_float, NOPARAMS, cos (x))
UNARY_OP (Tan, infer_same_float, NOPARAMS, tan (x))
UNARY_OP (Asin, infer_same_float, NOPARAMS, asin (x))
UNARY_OP (Acos, infer_same_float, NOPARAMS, acos (x))
UNARY_OP (Atan, infer_same_float, NOPARAMS, atan (x))
UNARY_OP (Sinh, infer_same_float, NOPARAMS, sinh (x))
UNARY_OP (Cosh, infer_same_float, NOPARAMS, cosh (x))
UNARY_OP (Asinh, infer_same_float, NOPARAMS, asinh (x))
UNARY_OP (Acosh, infer_same_float, NOPARAMS, acosh (x))
UNARY_OP (Atanh, infer_same_float, NOPARAMS, atanh (x))
UNARY_OP (Shrink, infer_same,
          const float lambd = ova_op_attr_float (node, "lambd", 0.5f);
          const float bias = ova_op_attr_float (node, "bias", 0.0f),
          x < -lambd ? x + bias : x > lambd ? x - bias : 0 * x)

/* Not / IsNaN / IsInf: bool outputs. */
static gboolean
infer_not (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
           GError **error)
{
  if (n_in < 1 || in[0].dtype != OVA_DTYPE_BOOL)
    return OPS_UNSUP (node, "expects a bool input");
  ops_copy_shape (&out[0], &in[0]);
  return TRUE;
}

static gboolean
run_not (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
         GError **error)
{
  const uint8_t *restrict x = in[0].data;
  uint8_t *restrict y = out[0].data;
  int64_t n = ova_tensor_ref_numel (&in[0]);
  for (int64_t i = 0; i < n; i++)
    y[i] = !x[i];
  return TRUE;
}

static gboolean
infer_isx (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
           GError **error)
{
  if (!infer_same_float (node, in, n_in, out, n_out, error))
    return FALSE;
  out[0].dtype = OVA_DTYPE_BOOL;
  return TRUE;
}

static gboolean
run_isnan (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
           GError **error)
{
  int64_t n = ova_tensor_ref_numel (&in[0]);
  uint8_t *y = out[0].data;
  for (int64_t i = 0; i < n; i++)
    y[i] = isnan (ops_get_f64 (in[0].data, in[0].dtype, i)) != 0;
  return TRUE;
}

static gboolean
run_isinf (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
           GError **error)
{
  int64_t n = ova_tensor_ref_numel (&in[0]);
  gboolean neg = ova_op_attr_int (node, "detect_negative", 1) != 0;
  gboolean pos = ova_op_attr_int (node, "detect_positive", 1) != 0;
  uint8_t *y = out[0].data;
  for (int64_t i = 0; i < n; i++) {
    double v = ops_get_f64 (in[0].data, in[0].dtype, i);
    y[i] = isinf (v) && ((v > 0 && pos) || (v < 0 && neg));
  }
  return TRUE;
}

static const OvaOpDef def_Not = { "Not", 1, infer_not, run_not };

static gboolean
infer_bitwise_not (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
                   int n_out, GError **error)
{
  if (n_in < 1 || !ops_dtype_is_int (in[0].dtype))
    return OPS_UNSUP (node, "expects an integer input");
  ops_copy_shape (&out[0], &in[0]);
  return TRUE;
}

static gboolean
run_bitwise_not (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
                 int n_out, GError **error)
{
  int64_t n = ova_tensor_ref_numel (&in[0]);
  for (int64_t i = 0; i < n; i++)
    ops_set_i64 (out[0].data, out[0].dtype, i, ~ops_get_i64 (in[0].data, in[0].dtype, i));
  return TRUE;
}

static const OvaOpDef def_BitwiseNot = { "BitwiseNot", 18, infer_bitwise_not, run_bitwise_not };
static const OvaOpDef def_IsNaN = { "IsNaN", 9, infer_isx, run_isnan };
static const OvaOpDef def_IsInf = { "IsInf", 10, infer_isx, run_isinf };

/* ------------------------------------------------------------ Identity */

static gboolean
infer_identity (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
                int n_out, GError **error)
{
  if (n_in < 1 || in[0].dtype == OVA_DTYPE_UNDEFINED)
    return OPS_SHAPE (node, "missing input");
  if (ops_dtype_size (in[0].dtype) == 0)
    return OPS_UNSUP (node, "data type %d not supported", in[0].dtype);
  ops_copy_shape (&out[0], &in[0]);
  return TRUE;
}

static gboolean
run_identity (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
              int n_out, GError **error)
{
  size_t bytes = ova_tensor_ref_bytes (&in[0]);
  if (bytes && out[0].data != in[0].data)
    memmove (out[0].data, in[0].data, bytes);
  return TRUE;
}

static const OvaOpDef def_Identity = { "Identity", 1, infer_identity, run_identity };

/* Dropout at inference: identity; the optional mask is all true. Training
 * mode (opset 12+) keeps x / (1 - ratio) where a uniform draw is >= ratio:
 * the draws are numpy's legacy generator (MT19937 seeded with the 'seed'
 * attribute, 53-bit doubles), so a given seed gives the masks ONNX's
 * reference gives. Without 'seed' the seed is random. */
typedef struct {
  uint32_t mt[624];
  int pos;
} Mt19937;

static void
mt_seed (Mt19937 *s, uint32_t seed)
{
  s->mt[0] = seed;
  for (int i = 1; i < 624; i++)
    s->mt[i] = 1812433253u * (s->mt[i - 1] ^ (s->mt[i - 1] >> 30)) + (uint32_t) i;
  s->pos = 624;
}

static uint32_t
mt_next (Mt19937 *s)
{
  if (s->pos >= 624) {
    for (int i = 0; i < 624; i++) {
      uint32_t y = (s->mt[i] & 0x80000000u) | (s->mt[(i + 1) % 624] & 0x7fffffffu);
      s->mt[i] = s->mt[(i + 397) % 624] ^ (y >> 1) ^ ((y & 1) ? 0x9908b0dfu : 0u);
    }
    s->pos = 0;
  }
  uint32_t y = s->mt[s->pos++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= y >> 18;
  return y;
}

static double
mt_double (Mt19937 *s)
{
  uint32_t a = mt_next (s) >> 5, b = mt_next (s) >> 6;
  return (a * 67108864.0 + b) / 9007199254740992.0;
}

static gboolean
dropout_training (const OvaOpNode *node, const OvaTensorRef *in, int n_in, gboolean *known)
{
  *known = TRUE;
  if (node->opset < 12)
    return ova_op_attr_int (node, "is_test", 1) == 0 && node->opset < 7;
  if (!ops_has (in, n_in, 2))
    return FALSE;
  if (!in[2].data) {
    *known = FALSE;
    return FALSE;
  }
  if (ops_get_i64 (in[2].data, in[2].dtype, 0) == 0)
    return FALSE;
  double ratio = 0.5;
  if (ops_has (in, n_in, 1)) {
    if (!in[1].data) {
      *known = FALSE;
      return TRUE;
    }
    ratio = ops_get_f64 (in[1].data, in[1].dtype, 0);
  }
  return ratio != 0.0;
}

static gboolean
infer_dropout (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
               int n_out, GError **error)
{
  if (!infer_same_float (node, in, n_in, out, 1, error) ||
      !ops_check_scalar (node, in, n_in, 1, "ratio", error) ||
      !ops_check_scalar (node, in, n_in, 2, "training_mode", error))
    return FALSE;
  gboolean known;
  if (dropout_training (node, in, n_in, &known) && known && node->opset < 12)
    return OPS_UNSUP (node, "training mode before opset 12 is not supported");
  if (n_out > 1) {
    ops_copy_shape (&out[1], &in[0]);
    out[1].dtype = OVA_DTYPE_BOOL;
  }
  return TRUE;
}

static gboolean
run_dropout (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
             int n_out, GError **error)
{
  gboolean known;
  int64_t n = ova_tensor_ref_numel (&in[0]);
  if (dropout_training (node, in, n_in, &known)) {
    if (node->opset < 12)
      return OPS_UNSUP (node, "training mode before opset 12 is not supported");
    double ratio = ops_has (in, n_in, 1) ? ops_get_f64 (in[1].data, in[1].dtype, 0) : 0.5;
    if (ratio < 0 || ratio >= 1)
      return OPS_SHAPE (node, "ratio %g outside [0, 1)", ratio);
    Mt19937 *mt = g_new (Mt19937, 1);
    const OvaAttr *seed = ova_op_attr (node, "seed");
    mt_seed (mt, seed ? (uint32_t) ova_op_attr_int (node, "seed", 0) : g_random_int ());
    double scale = 1.0 / (1.0 - ratio);
    uint8_t *mask = n_out > 1 ? out[1].data : NULL;
    for (int64_t i = 0; i < n; i++) {
      gboolean keep = mt_double (mt) >= ratio;
      double x = ops_get_f64 (in[0].data, in[0].dtype, i);
      if (in[0].dtype == OVA_DTYPE_FLOAT32) /* numpy: float32 * float32(scale) */
        ((float *) out[0].data)[i] = keep ? (float) x * (float) scale : 0.0f;
      else
        ops_set_f64 (out[0].data, out[0].dtype, i, keep ? x * scale : 0.0);
      if (mask)
        mask[i] = (uint8_t) keep;
    }
    g_free (mt);
    return TRUE;
  }
  run_identity (node, in, 1, out, 1, error);
  if (n_out > 1 && out[1].data)
    memset (out[1].data, 1, n);
  return TRUE;
}

static const OvaOpDef def_Dropout = { "Dropout", 1, infer_dropout, run_dropout };

/* ------------------------------------------------------------ binary */

typedef enum {
  B_ADD, B_SUB, B_MUL, B_DIV, B_POW, B_MIN, B_MAX, B_MOD, B_FMOD, B_PRELU, B_SHL, B_SHR,
  B_BAND, B_BOR, B_BXOR,
  B_EQ, B_GT, B_LT, B_GE, B_LE, B_AND, B_OR, B_XOR,
} BinOp;

static gboolean
binop_is_compare (BinOp op)
{
  return op >= B_EQ;
}

typedef struct {
  BinOp op;
  const OvaTensorRef *a, *b;
  OvaTensorRef *c;
} BinCtx;

#define F32_BIN_ROW(EXPR)                                                                          \
  do {                                                                                             \
    if (sa && sb) {                                                                                \
      for (int64_t i = 0; i < n; i++) {                                                            \
        float x = A[i], y = B[i];                                                                  \
        C[i] = (EXPR);                                                                             \
      }                                                                                            \
    } else if (sa) {                                                                               \
      const float y = B[0];                                                                        \
      for (int64_t i = 0; i < n; i++) {                                                            \
        float x = A[i];                                                                            \
        C[i] = (EXPR);                                                                             \
      }                                                                                            \
    } else if (sb) {                                                                               \
      const float x = A[0];                                                                        \
      for (int64_t i = 0; i < n; i++) {                                                            \
        float y = B[i];                                                                            \
        C[i] = (EXPR);                                                                             \
      }                                                                                            \
    } else {                                                                                       \
      const float x = A[0], y = B[0];                                                              \
      const float v = (EXPR);                                                                      \
      for (int64_t i = 0; i < n; i++)                                                              \
        C[i] = v;                                                                                  \
    }                                                                                              \
  } while (0)

OPS_SIMD_IMPL void
bin_row_f32_impl (void *ctx, const int64_t *off, int64_t out_off, int64_t n, const int64_t *st)
{
  BinCtx *c = ctx;
  const float *restrict A = (const float *) c->a->data + off[0];
  const float *restrict B = (const float *) c->b->data + off[1];
  float *restrict C = (float *) c->c->data + out_off;
  gboolean sa = st[0] != 0, sb = st[1] != 0;
  switch (c->op) {
  case B_ADD: F32_BIN_ROW (x + y); break;
  case B_SUB: F32_BIN_ROW (x - y); break;
  case B_MUL: F32_BIN_ROW (x * y); break;
  case B_DIV: F32_BIN_ROW (x / y); break;
  case B_POW: F32_BIN_ROW (powf (x, y)); break;
  case B_MIN: F32_BIN_ROW (isnan (x) || x < y ? x : y); break;
  case B_MAX: F32_BIN_ROW (isnan (x) || x > y ? x : y); break;
  case B_PRELU: F32_BIN_ROW (x < 0 ? x * y : x); break;
  case B_FMOD: F32_BIN_ROW (fmodf (x, y)); break;
  default: g_assert_not_reached ();
  }
}

OPS_SIMD_VARIANTS (bin_row_f32,
                   (void *ctx, const int64_t *off, int64_t out_off, int64_t n, const int64_t *st),
                   (ctx, off, out_off, n, st))

static double
bin_f64 (BinOp op, double x, double y)
{
  switch (op) {
  case B_ADD: return x + y;
  case B_SUB: return x - y;
  case B_MUL: return x * y;
  case B_DIV: return x / y;
  case B_POW: return pow (x, y);
  case B_MIN: return isnan (x) || x < y ? x : y;
  case B_MAX: return isnan (x) || x > y ? x : y;
  case B_PRELU: return x < 0 ? x * y : x;
  case B_FMOD: return fmod (x, y);
  case B_MOD: { double r = fmod (x, y); return (r != 0 && ((r < 0) != (y < 0))) ? r + y : r; }
  case B_EQ: return x == y;
  case B_GT: return x > y;
  case B_LT: return x < y;
  case B_GE: return x >= y;
  case B_LE: return x <= y;
  case B_AND: return (x != 0) && (y != 0);
  case B_OR: return (x != 0) || (y != 0);
  case B_XOR: return (x != 0) != (y != 0);
  case B_SHL: case B_SHR: case B_BAND: case B_BOR: case B_BXOR: return 0; /* integers only */
  }
  return 0;
}

static int64_t
bin_i64 (BinOp op, int64_t x, int64_t y)
{
  switch (op) {
  case B_ADD: return (int64_t) ((uint64_t) x + (uint64_t) y);
  case B_SUB: return (int64_t) ((uint64_t) x - (uint64_t) y);
  case B_MUL: return (int64_t) ((uint64_t) x * (uint64_t) y);
  case B_DIV: return y == 0 ? 0 : (x == INT64_MIN && y == -1) ? x : x / y;
  case B_POW: {
    if (y < 0)
      return x == 1 ? 1 : (x == -1 ? ((y & 1) ? -1 : 1) : 0);
    int64_t r = 1, base = x;
    for (int64_t e = y; e > 0; e >>= 1) {
      if (e & 1)
        r = (int64_t) ((uint64_t) r * (uint64_t) base);
      base = (int64_t) ((uint64_t) base * (uint64_t) base);
    }
    return r;
  }
  case B_MIN: return x < y ? x : y;
  case B_MAX: return x > y ? x : y;
  case B_PRELU: return x < 0 ? (int64_t) ((uint64_t) x * (uint64_t) y) : x;
  case B_FMOD: return (y == 0 || y == -1) ? 0 : x % y;
  case B_MOD: { if (y == 0 || y == -1) return 0; int64_t r = x % y; return (r != 0 && ((r < 0) != (y < 0))) ? r + y : r; }
  case B_EQ: return x == y;
  case B_GT: return x > y;
  case B_LT: return x < y;
  case B_GE: return x >= y;
  case B_LE: return x <= y;
  case B_AND: return x && y;
  case B_OR: return x || y;
  case B_XOR: return (!x) != (!y);
  case B_SHL: return (y < 0 || y >= 64) ? 0 : (int64_t) ((uint64_t) x << y);
  case B_SHR: return (y < 0 || y >= 64) ? 0 : (int64_t) ((uint64_t) x >> y);
  case B_BAND: return x & y;
  case B_BOR: return x | y;
  case B_BXOR: return x ^ y;
  }
  return 0;
}

static void
bin_row_generic (void *ctx, const int64_t *off, int64_t out_off, int64_t n, const int64_t *st)
{
  BinCtx *c = ctx;
  OvaDataType ta = c->a->dtype, tb = c->b->dtype, tc = c->c->dtype;
  gboolean use_f = ops_dtype_is_float (ta) || ops_dtype_is_float (tb) ||
                   (!binop_is_compare (c->op) && ops_dtype_is_float (tc));
  /* uint64 beyond int64's range compares correctly only unsigned */
  gboolean u64 = ta == OVA_DTYPE_UINT64 && tb == OVA_DTYPE_UINT64;
  for (int64_t i = 0; i < n; i++) {
    int64_t ia = off[0] + i * st[0], ib = off[1] + i * st[1];
    if (use_f) {
      double r = bin_f64 (c->op, ops_get_f64 (c->a->data, ta, ia), ops_get_f64 (c->b->data, tb, ib));
      ops_set_f64 (c->c->data, tc, out_off + i, r);
    } else if (u64 && (c->op == B_DIV || c->op == B_MOD || c->op == B_FMOD || c->op == B_MIN ||
                       c->op == B_MAX || (c->op >= B_GT && c->op <= B_LE))) {
      uint64_t x = ((const uint64_t *) c->a->data)[ia], y = ((const uint64_t *) c->b->data)[ib], r;
      switch (c->op) {
      case B_DIV: r = y ? x / y : 0; break;
      case B_MOD: case B_FMOD: r = y ? x % y : 0; break;
      case B_MIN: r = x < y ? x : y; break;
      case B_MAX: r = x > y ? x : y; break;
      case B_GT: r = x > y; break;
      case B_LT: r = x < y; break;
      case B_GE: r = x >= y; break;
      default: r = x <= y; break;
      }
      ops_set_i64 (c->c->data, tc, out_off + i, (int64_t) r);
    } else {
      int64_t r = bin_i64 (c->op, ops_get_i64 (c->a->data, ta, ia), ops_get_i64 (c->b->data, tb, ib));
      ops_set_i64 (c->c->data, tc, out_off + i, r);
    }
  }
}

/* out = a OP b with broadcasting; out's shape is already set. */
static void
binary_apply (BinOp op, const OvaTensorRef *a, const OvaTensorRef *b, OvaTensorRef *out)
{
  if (ova_tensor_ref_numel (out) == 0)
    return;
  BinCtx c = { op, a, b, out };
  OpsBcast bc;
  const OvaTensorRef *ins[2] = { a, b };
  ops_bcast_init (&bc, ins, 2, out->rank, out->dims);
  gboolean f32 = a->dtype == OVA_DTYPE_FLOAT32 && b->dtype == OVA_DTYPE_FLOAT32 &&
                 out->dtype == OVA_DTYPE_FLOAT32 && op <= B_PRELU && op != B_MOD;
  ops_bcast_foreach (&bc, f32 ? bin_row_f32 : bin_row_generic, &c);
}

static BinOp
binop_of (const OvaOpNode *node)
{
  static const struct { const char *name; BinOp op; } map[] = {
    { "Add", B_ADD }, { "Sub", B_SUB }, { "Mul", B_MUL }, { "Div", B_DIV }, { "Pow", B_POW },
    { "Min", B_MIN }, { "Max", B_MAX }, { "Mod", B_MOD }, { "PRelu", B_PRELU },
    { "Equal", B_EQ }, { "Greater", B_GT }, { "Less", B_LT }, { "GreaterOrEqual", B_GE },
    { "LessOrEqual", B_LE }, { "And", B_AND }, { "Or", B_OR }, { "Xor", B_XOR },
    { "Sum", B_ADD }, { "Mean", B_ADD }, { "BitShift", B_SHL },
    { "BitwiseAnd", B_BAND }, { "BitwiseOr", B_BOR }, { "BitwiseXor", B_BXOR },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (map); i++)
    if (strcmp (node->op_type, map[i].name) == 0) {
      if (map[i].op == B_MOD && ova_op_attr_int (node, "fmod", 0))
        return B_FMOD;
      if (map[i].op == B_SHL && strcmp (ova_op_attr_string (node, "direction", ""), "RIGHT") == 0)
        return B_SHR;
      return map[i].op;
    }
  g_assert_not_reached ();
  return B_ADD;
}

static gboolean
infer_binary (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
              int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 2, 2, error))
    return FALSE;
  BinOp op = binop_of (node);
  OvaDataType ta = in[0].dtype, tb = in[1].dtype;
  if (!ops_dtype_is_numeric (ta) || !ops_dtype_is_numeric (tb))
    return OPS_UNSUP (node, "data types %d, %d not supported", ta, tb);
  if (op != B_POW && ta != tb)
    return OPS_SHAPE (node, "input types differ (%d vs %d)", ta, tb);
  if ((op == B_AND || op == B_OR || op == B_XOR) && ta != OVA_DTYPE_BOOL)
    return OPS_UNSUP (node, "expects bool inputs");
  if ((op == B_BAND || op == B_BOR || op == B_BXOR) && !ops_dtype_is_int (ta))
    return OPS_UNSUP (node, "expects integer inputs");
  if (op == B_SHL || op == B_SHR) {
    const char *dir = ova_op_attr_string (node, "direction", "");
    if (strcmp (dir, "LEFT") && strcmp (dir, "RIGHT"))
      return OPS_SHAPE (node, "direction must be LEFT or RIGHT");
    if (ta != OVA_DTYPE_UINT8 && ta != OVA_DTYPE_UINT16 && ta != OVA_DTYPE_UINT32 && ta != OVA_DTYPE_UINT64)
      return OPS_UNSUP (node, "expects unsigned integer inputs");
  }
  int rank;
  int64_t dims[OVA_MAX_DIMS];
  if (op == B_PRELU && node->opset < 7) {
    ops_copy_shape (&out[0], &in[0]);
    return TRUE;
  }
  if (!ops_broadcast_dims (node, in[0].rank, in[0].dims, in[1].rank, in[1].dims, &rank, dims, error))
    return FALSE;
  ops_set_shape (&out[0], binop_is_compare (op) ? OVA_DTYPE_BOOL : ta, rank, dims);
  return TRUE;
}

static gboolean
run_binary (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
            GError **error)
{
  binary_apply (binop_of (node), &in[0], &in[1], &out[0]);
  return TRUE;
}

#define BINARY_DEF(Op, since) static const OvaOpDef def_##Op = { #Op, since, infer_binary, run_binary };
BINARY_DEF (Add, 7)
BINARY_DEF (Sub, 7)
BINARY_DEF (Mul, 7)
BINARY_DEF (Div, 7)
BINARY_DEF (Pow, 7)
BINARY_DEF (Mod, 10)
BINARY_DEF (PRelu, 7)
BINARY_DEF (Equal, 7)
BINARY_DEF (Greater, 7)
BINARY_DEF (Less, 7)
BINARY_DEF (GreaterOrEqual, 12)
BINARY_DEF (LessOrEqual, 12)
BINARY_DEF (And, 7)
BINARY_DEF (Or, 7)
BINARY_DEF (Xor, 7)
BINARY_DEF (BitShift, 11)
BINARY_DEF (BitwiseAnd, 18)
BINARY_DEF (BitwiseOr, 18)
BINARY_DEF (BitwiseXor, 18)

/* ---------------------------------------------- variadic Sum/Mean/Min/Max */

static gboolean
infer_variadic (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
                int n_out, GError **error)
{
  if (n_in < 1)
    return OPS_SHAPE (node, "needs at least one input");
  int rank = in[0].rank;
  int64_t dims[OVA_MAX_DIMS];
  memcpy (dims, in[0].dims, sizeof dims);
  for (int i = 0; i < n_in; i++) {
    if (in[i].dtype != in[0].dtype)
      return OPS_SHAPE (node, "input types differ");
    if (i > 0 && !ops_broadcast_dims (node, rank, dims, in[i].rank, in[i].dims, &rank, dims, error))
      return FALSE;
  }
  if (!ops_dtype_is_numeric (in[0].dtype) || in[0].dtype == OVA_DTYPE_BOOL)
    return OPS_UNSUP (node, "data type %d not supported", in[0].dtype);
  ops_set_shape (&out[0], in[0].dtype, rank, dims);
  return TRUE;
}

static gboolean
run_variadic (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
              int n_out, GError **error)
{
  BinOp op = binop_of (node);
  if (n_in == 1) {
    ops_broadcast_copy (&in[0], &out[0]);
  } else {
    binary_apply (op, &in[0], &in[1], &out[0]);
    for (int i = 2; i < n_in; i++)
      binary_apply (op, &out[0], &in[i], &out[0]);
  }
  if (strcmp (node->op_type, "Mean") == 0) {
    int64_t n = ova_tensor_ref_numel (&out[0]);
    for (int64_t i = 0; i < n; i++)
      ops_set_f64 (out[0].data, out[0].dtype, i, ops_get_f64 (out[0].data, out[0].dtype, i) / n_in);
  }
  return TRUE;
}

static const OvaOpDef def_Sum = { "Sum", 8, infer_variadic, run_variadic };
static const OvaOpDef def_Mean = { "Mean", 8, infer_variadic, run_variadic };
static const OvaOpDef def_Min = { "Min", 8, infer_variadic, run_variadic };
static const OvaOpDef def_Max = { "Max", 8, infer_variadic, run_variadic };

/* ------------------------------------------------------------ Where */

typedef struct {
  const OvaTensorRef *c, *x, *y;
  OvaTensorRef *o;
  size_t es;
} WhereCtx;

static void
where_row (void *ctx, const int64_t *off, int64_t out_off, int64_t n, const int64_t *st)
{
  WhereCtx *w = ctx;
  const uint8_t *c = (const uint8_t *) w->c->data + off[0];
  if (w->es == 4 && st[1] == 1 && st[2] == 1) {
    const uint32_t *restrict x = (const uint32_t *) w->x->data + off[1];
    const uint32_t *restrict y = (const uint32_t *) w->y->data + off[2];
    uint32_t *restrict o = (uint32_t *) w->o->data + out_off;
    for (int64_t i = 0; i < n; i++)
      o[i] = c[i * st[0]] ? x[i] : y[i];
    return;
  }
  const uint8_t *x = (const uint8_t *) w->x->data, *y = (const uint8_t *) w->y->data;
  uint8_t *o = (uint8_t *) w->o->data + out_off * w->es;
  for (int64_t i = 0; i < n; i++) {
    const uint8_t *s = c[i * st[0]] ? x + (off[1] + i * st[1]) * w->es : y + (off[2] + i * st[2]) * w->es;
    memcpy (o + i * w->es, s, w->es);
  }
}

static gboolean
infer_where (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
             int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 3, 3, error))
    return FALSE;
  if (in[0].dtype != OVA_DTYPE_BOOL)
    return OPS_UNSUP (node, "condition must be bool");
  if (in[1].dtype != in[2].dtype || ops_dtype_size (in[1].dtype) == 0)
    return OPS_UNSUP (node, "X and Y must have the same supported type");
  int rank;
  int64_t dims[OVA_MAX_DIMS];
  if (!ops_broadcast_dims (node, in[0].rank, in[0].dims, in[1].rank, in[1].dims, &rank, dims, error) ||
      !ops_broadcast_dims (node, rank, dims, in[2].rank, in[2].dims, &rank, dims, error))
    return FALSE;
  ops_set_shape (&out[0], in[1].dtype, rank, dims);
  return TRUE;
}

static gboolean
run_where (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
           GError **error)
{
  if (ova_tensor_ref_numel (&out[0]) == 0)
    return TRUE;
  WhereCtx w = { &in[0], &in[1], &in[2], &out[0], ops_dtype_size (in[1].dtype) };
  OpsBcast b;
  const OvaTensorRef *ins[3] = { &in[0], &in[1], &in[2] };
  ops_bcast_init (&b, ins, 3, out[0].rank, out[0].dims);
  ops_bcast_foreach (&b, where_row, &w);
  return TRUE;
}

static const OvaOpDef def_Where = { "Where", 9, infer_where, run_where };

/* ------------------------------------------------------------ Clip */

static gboolean
clip_bounds (const OvaOpNode *node, const OvaTensorRef *in, int n_in, double *lo, double *hi)
{
  *lo = -INFINITY;
  *hi = INFINITY;
  if (ops_dtype_is_int (in[0].dtype)) {
    /* the type's range, so int bounds behave as numpy.clip */
    *lo = -1e300;
    *hi = 1e300;
  }
  if (node->opset < 11) {
    *lo = ova_op_attr_float (node, "min", -FLT_MAX);
    *hi = ova_op_attr_float (node, "max", FLT_MAX);
    return TRUE;
  }
  if (ops_has (in, n_in, 1)) {
    if (!in[1].data)
      return FALSE;
    *lo = ops_get_f64 (in[1].data, in[1].dtype, 0);
  }
  if (ops_has (in, n_in, 2)) {
    if (!in[2].data)
      return FALSE;
    *hi = ops_get_f64 (in[2].data, in[2].dtype, 0);
  }
  return TRUE;
}

static gboolean
infer_clip (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
            GError **error)
{
  if (!ops_check_inputs (node, n_in, 1, 3, error) ||
      !ops_check_scalar (node, in, n_in, 1, "min", error) ||
      !ops_check_scalar (node, in, n_in, 2, "max", error))
    return FALSE;
  return infer_same (node, in, 1, out, 1, error);
}

static gboolean
run_clip (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
          GError **error)
{
  double lo, hi;
  if (!clip_bounds (node, in, n_in, &lo, &hi))
    return OPS_SHAPE (node, "min/max data missing");
  int64_t n = ova_tensor_ref_numel (&in[0]);
  if (in[0].dtype == OVA_DTYPE_FLOAT32) {
    const float *restrict x = in[0].data;
    float *restrict y = out[0].data;
    const float l = (float) lo, h = (float) hi;
    for (int64_t i = 0; i < n; i++) {
      float v = x[i] < l ? l : x[i];
      y[i] = v > h ? h : v;
    }
  } else {
    for (int64_t i = 0; i < n; i++) {
      double v = ops_get_f64 (in[0].data, in[0].dtype, i);
      v = v < lo ? lo : v;
      v = v > hi ? hi : v;
      ops_set_f64 (out[0].data, out[0].dtype, i, v);
    }
  }
  return TRUE;
}

static const OvaOpDef def_Clip = { "Clip", 6, infer_clip, run_clip };

/* ------------------------------------------------------------ Cast */

static gboolean
cast_supported (OvaDataType dt)
{
  return ops_dtype_is_numeric (dt);
}

static gboolean
infer_cast (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
            GError **error)
{
  OvaDataType to;
  if (strcmp (node->op_type, "CastLike") == 0) {
    if (!ops_check_inputs (node, n_in, 2, 2, error))
      return FALSE;
    to = in[1].dtype;
  } else {
    if (!ops_check_inputs (node, n_in, 1, 1, error))
      return FALSE;
    if (!ova_op_attr (node, "to"))
      return OPS_SHAPE (node, "missing attribute 'to'");
    to = (OvaDataType) ova_op_attr_int (node, "to", 0);
  }
  if (!cast_supported (in[0].dtype) || !cast_supported (to))
    return OPS_UNSUP (node, "cast from data type %d to %d not supported", in[0].dtype, to);
  ops_copy_shape (&out[0], &in[0]);
  out[0].dtype = to;
  return TRUE;
}

static gboolean
run_cast (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
          GError **error)
{
  OvaDataType from = in[0].dtype, to = out[0].dtype;
  int64_t n = ova_tensor_ref_numel (&in[0]);
  if (n == 0)
    return TRUE;
  if (from == to) {
    memcpy (out[0].data, in[0].data, ova_tensor_ref_bytes (&in[0]));
  } else if (from == OVA_DTYPE_FLOAT32 && to == OVA_DTYPE_INT64) {
    const float *x = in[0].data;
    int64_t *y = out[0].data;
    for (int64_t i = 0; i < n; i++) {
      float v = x[i]; /* NaN -> 0, saturate out of range (a bare cast is undefined) */
      y[i] = v != v ? 0 : v >= 9.2233720e18f ? INT64_MAX : v <= -9.2233720e18f ? INT64_MIN : (int64_t) v;
    }
  } else if (from == OVA_DTYPE_INT64 && to == OVA_DTYPE_FLOAT32) {
    const int64_t *x = in[0].data;
    float *y = out[0].data;
    for (int64_t i = 0; i < n; i++)
      y[i] = (float) x[i];
  } else if (ops_dtype_is_float (from) || ops_dtype_is_float (to)) {
    if (from == OVA_DTYPE_FLOAT64 && (to == OVA_DTYPE_FLOAT16 || to == OPS_DTYPE_BFLOAT16)) {
      /* round once, from double, not through float */
      for (int64_t i = 0; i < n; i++) {
        double v = ((const double *) in[0].data)[i];
        float f = (float) v;
        ops_set_f64 (out[0].data, to, i, f);
      }
    } else {
      for (int64_t i = 0; i < n; i++)
        ops_set_f64 (out[0].data, to, i, ops_get_f64 (in[0].data, from, i));
    }
  } else {
    for (int64_t i = 0; i < n; i++)
      ops_set_i64 (out[0].data, to, i, ops_get_i64 (in[0].data, from, i));
  }
  return TRUE;
}

static const OvaOpDef def_Cast = { "Cast", 6, infer_cast, run_cast };
static const OvaOpDef def_CastLike = { "CastLike", 15, infer_cast, run_cast };

const OvaOpDef *const ova_ops_elementwise[] = {
  &def_Relu, &def_LeakyRelu, &def_Sigmoid, &def_HardSigmoid, &def_HardSwish, &def_Tanh,
  &def_Erf, &def_Sqrt, &def_Exp, &def_Log, &def_Neg, &def_Abs, &def_Floor, &def_Ceil,
  &def_Round, &def_Sign, &def_Reciprocal, &def_Softplus, &def_Softsign, &def_Selu, &def_Elu,
  &def_Celu, &def_Mish, &def_ThresholdedRelu, &def_Sin, &def_Cos, &def_Tan, &def_Asin,
  &def_Acos, &def_Atan, &def_Sinh, &def_Cosh, &def_Asinh, &def_Acosh, &def_Atanh,
  &def_Not, &def_IsNaN, &def_IsInf, &def_Identity, &def_Dropout,
  &def_Add, &def_Sub, &def_Mul, &def_Div, &def_Pow, &def_Mod, &def_PRelu, &def_Equal,
  &def_Greater, &def_Less, &def_GreaterOrEqual, &def_LessOrEqual, &def_And, &def_Or, &def_Xor,
  &def_BitShift, &def_Shrink, &def_BitwiseAnd, &def_BitwiseOr, &def_BitwiseXor, &def_BitwiseNot,
  &def_Sum, &def_Mean, &def_Min, &def_Max, &def_Where, &def_Clip, &def_Cast, &def_CastLike,
  NULL,
};
