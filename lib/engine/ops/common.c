/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Shared helpers of the reference operators: errors, dtypes, element access,
 * broadcasting, a blocked SGEMM.
 */
#include "ops-private.h"

#include <stdarg.h>
#include <stdlib.h>

static int simd_state = -1; /* -1: not probed, 0: baseline, 1: AVX2+FMA */
static gboolean simd_forced_baseline;

gboolean
ops_simd_avx2 (void)
{
  int s = g_atomic_int_get (&simd_state);
  if (s < 0) {
#if OPS_HAVE_AVX2_VARIANT
    __builtin_cpu_init ();
    s = __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma");
#else
    s = 0;
#endif
    g_atomic_int_set (&simd_state, s);
  }
  return s && !simd_forced_baseline;
}

void
ops_simd_force_baseline (gboolean baseline)
{
  simd_forced_baseline = baseline;
}

/* The engine core defines the quark; this weak copy lets the operator
 * library and its tests link on their own. */
__attribute__ ((weak)) GQuark
ova_engine_error_quark (void)
{
  return g_quark_from_static_string ("ova-engine-error-quark");
}

gboolean
ops_fail (GError **error, int code, const OvaOpNode *node, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (error, OVA_ENGINE_ERROR, code, "node '%s' (%s): %s",
               node && node->name ? node->name : "?", node ? node->op_type : "?", msg);
  g_free (msg);
  return FALSE;
}

gboolean
ops_check_inputs (const OvaOpNode *node, int n_in, int min, int max, GError **error)
{
  if (n_in < min || (max >= 0 && n_in > max)) {
    if (min == max)
      return OPS_SHAPE (node, "expects %d inputs, got %d", min, n_in);
    return OPS_SHAPE (node, "expects %d to %d inputs, got %d", min, max, n_in);
  }
  return TRUE;
}

size_t
ops_dtype_size (OvaDataType dt)
{
  switch ((int) dt) {
  case OVA_DTYPE_FLOAT32: case OVA_DTYPE_INT32: case OVA_DTYPE_UINT32: return 4;
  case OVA_DTYPE_UINT8: case OVA_DTYPE_INT8: case OVA_DTYPE_BOOL: return 1;
  case OVA_DTYPE_UINT16: case OVA_DTYPE_INT16: case OVA_DTYPE_FLOAT16: case 16: return 2;
  case OVA_DTYPE_INT64: case OVA_DTYPE_FLOAT64: case OVA_DTYPE_UINT64: return 8;
  default: return 0;
  }
}

gboolean
ops_dtype_is_float (OvaDataType dt)
{
  return dt == OVA_DTYPE_FLOAT32 || dt == OVA_DTYPE_FLOAT64 || dt == OVA_DTYPE_FLOAT16 ||
         dt == OPS_DTYPE_BFLOAT16;
}

gboolean
ops_dtype_is_int (OvaDataType dt)
{
  switch (dt) {
  case OVA_DTYPE_UINT8: case OVA_DTYPE_INT8: case OVA_DTYPE_UINT16: case OVA_DTYPE_INT16:
  case OVA_DTYPE_INT32: case OVA_DTYPE_INT64: case OVA_DTYPE_UINT32: case OVA_DTYPE_UINT64:
    return TRUE;
  default:
    return FALSE;
  }
}

gboolean
ops_dtype_is_numeric (OvaDataType dt)
{
  return ops_dtype_is_float (dt) || ops_dtype_is_int (dt) || dt == OVA_DTYPE_BOOL;
}

int64_t
ops_numel_dims (int rank, const int64_t *dims)
{
  int64_t n = 1;
  for (int i = 0; i < rank; i++) {
    if (dims[i] < 0)
      return -1;
    n *= dims[i];
  }
  return n;
}

gboolean
ops_dims_known (const OvaTensorRef *t)
{
  return ops_numel_dims (t->rank, t->dims) >= 0;
}

void
ops_copy_shape (OvaTensorRef *dst, const OvaTensorRef *src)
{
  dst->dtype = src->dtype;
  dst->rank = src->rank;
  memcpy (dst->dims, src->dims, sizeof dst->dims);
}

void
ops_set_shape (OvaTensorRef *t, OvaDataType dt, int rank, const int64_t *dims)
{
  t->dtype = dt;
  t->rank = rank;
  memset (t->dims, 0, sizeof t->dims);
  if (rank > 0)
    memcpy (t->dims, dims, sizeof (int64_t) * rank);
}

/* IEEE half <-> float, round to nearest even. */
float
ops_half_to_float (uint16_t h)
{
  uint32_t sign = (uint32_t) (h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else { /* subnormal */
      float f = ldexpf ((float) man, -24);
      return sign ? -f : f;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (man << 13);
  } else {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  }
  float f;
  memcpy (&f, &bits, 4);
  return f;
}

uint16_t
ops_float_to_half (float f)
{
  uint32_t x;
  memcpy (&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  int32_t exp = (int32_t) ((x >> 23) & 0xff);
  uint32_t man = x & 0x7fffff;
  if (exp == 255)
    return (uint16_t) (sign | 0x7c00 | (man ? 0x200 : 0));
  int32_t e = exp - 127 + 15;
  if (e >= 31)
    return (uint16_t) (sign | 0x7c00);
  if (e <= 0) {
    if (e < -10)
      return (uint16_t) sign;
    man |= 0x800000;
    int shift = 14 - e;
    uint32_t half_man = man >> shift;
    uint32_t rem = man & ((1u << shift) - 1), halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (half_man & 1)))
      half_man++;
    return (uint16_t) (sign | half_man);
  }
  uint32_t h = sign | ((uint32_t) e << 10) | (man >> 13);
  uint32_t rem = man & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
    h++;
  return (uint16_t) h;
}

float
ops_bf16_to_float (uint16_t h)
{
  uint32_t bits = (uint32_t) h << 16;
  float f;
  memcpy (&f, &bits, 4);
  return f;
}

/* Truncates, as ONNX's reference implementation (and its conformance data)
 * of the opsets supported here does; NaN stays NaN. */
uint16_t
ops_float_to_bf16 (float f)
{
  uint32_t x;
  memcpy (&x, &f, 4);
  if ((x & 0x7fffffff) > 0x7f800000)
    return (uint16_t) ((x >> 16) | 0x40);
  return (uint16_t) (x >> 16);
}

double
ops_get_f64 (const void *p, OvaDataType dt, int64_t i)
{
  switch ((int) dt) {
  case OVA_DTYPE_FLOAT32: return ((const float *) p)[i];
  case OVA_DTYPE_FLOAT64: return ((const double *) p)[i];
  case OVA_DTYPE_FLOAT16: return ops_half_to_float (((const uint16_t *) p)[i]);
  case 16: return ops_bf16_to_float (((const uint16_t *) p)[i]);
  case OVA_DTYPE_UINT8: return ((const uint8_t *) p)[i];
  case OVA_DTYPE_INT8: return ((const int8_t *) p)[i];
  case OVA_DTYPE_UINT16: return ((const uint16_t *) p)[i];
  case OVA_DTYPE_INT16: return ((const int16_t *) p)[i];
  case OVA_DTYPE_INT32: return ((const int32_t *) p)[i];
  case OVA_DTYPE_INT64: return (double) ((const int64_t *) p)[i];
  case OVA_DTYPE_UINT32: return ((const uint32_t *) p)[i];
  case OVA_DTYPE_UINT64: return (double) ((const uint64_t *) p)[i];
  case OVA_DTYPE_BOOL: return ((const uint8_t *) p)[i] != 0;
  default: return 0;
  }
}

/* Float to integer conversion as C (and numpy astype) do: truncation. */
static int64_t
f64_to_i64 (double v)
{
  if (isnan (v))
    return 0;
  if (v >= 9.2233720368547758e18)
    return INT64_MAX;
  if (v <= -9.2233720368547758e18)
    return INT64_MIN;
  return (int64_t) v;
}

int64_t
ops_get_i64 (const void *p, OvaDataType dt, int64_t i)
{
  switch ((int) dt) {
  case OVA_DTYPE_FLOAT32: case OVA_DTYPE_FLOAT64: case OVA_DTYPE_FLOAT16: case 16:
    return f64_to_i64 (ops_get_f64 (p, dt, i));
  case OVA_DTYPE_UINT8: return ((const uint8_t *) p)[i];
  case OVA_DTYPE_INT8: return ((const int8_t *) p)[i];
  case OVA_DTYPE_UINT16: return ((const uint16_t *) p)[i];
  case OVA_DTYPE_INT16: return ((const int16_t *) p)[i];
  case OVA_DTYPE_INT32: return ((const int32_t *) p)[i];
  case OVA_DTYPE_INT64: return ((const int64_t *) p)[i];
  case OVA_DTYPE_UINT32: return ((const uint32_t *) p)[i];
  case OVA_DTYPE_UINT64: return (int64_t) ((const uint64_t *) p)[i];
  case OVA_DTYPE_BOOL: return ((const uint8_t *) p)[i] != 0;
  default: return 0;
  }
}

void
ops_set_f64 (void *p, OvaDataType dt, int64_t i, double v)
{
  switch ((int) dt) {
  case OVA_DTYPE_FLOAT32: ((float *) p)[i] = (float) v; break;
  case OVA_DTYPE_FLOAT64: ((double *) p)[i] = v; break;
  case OVA_DTYPE_FLOAT16: ((uint16_t *) p)[i] = ops_float_to_half ((float) v); break;
  case 16: ((uint16_t *) p)[i] = ops_float_to_bf16 ((float) v); break;
  case OVA_DTYPE_BOOL: ((uint8_t *) p)[i] = v != 0; break;
  case OVA_DTYPE_UINT64:
    ((uint64_t *) p)[i] = v >= 9.2233720368547758e18 ? (uint64_t) v : (uint64_t) f64_to_i64 (v);
    break;
  default: ops_set_i64 (p, dt, i, f64_to_i64 (v)); break;
  }
}

void
ops_set_i64 (void *p, OvaDataType dt, int64_t i, int64_t v)
{
  switch ((int) dt) {
  case OVA_DTYPE_FLOAT32: case OVA_DTYPE_FLOAT64: case OVA_DTYPE_FLOAT16: case 16:
    ops_set_f64 (p, dt, i, (double) v); break;
  case OVA_DTYPE_UINT8: ((uint8_t *) p)[i] = (uint8_t) v; break;
  case OVA_DTYPE_INT8: ((int8_t *) p)[i] = (int8_t) v; break;
  case OVA_DTYPE_UINT16: ((uint16_t *) p)[i] = (uint16_t) v; break;
  case OVA_DTYPE_INT16: ((int16_t *) p)[i] = (int16_t) v; break;
  case OVA_DTYPE_INT32: ((int32_t *) p)[i] = (int32_t) v; break;
  case OVA_DTYPE_INT64: ((int64_t *) p)[i] = v; break;
  case OVA_DTYPE_UINT32: ((uint32_t *) p)[i] = (uint32_t) v; break;
  case OVA_DTYPE_UINT64: ((uint64_t *) p)[i] = (uint64_t) v; break;
  case OVA_DTYPE_BOOL: ((uint8_t *) p)[i] = v != 0; break;
  default: break;
  }
}

int
ops_read_ints (const OvaTensorRef *t, int64_t *out, int max)
{
  if (!t || !t->data || !ops_dims_known (t))
    return -1;
  int64_t n = ova_tensor_ref_numel (t);
  if (n > max || !ops_dtype_is_numeric (t->dtype))
    return -2;
  for (int64_t i = 0; i < n; i++)
    out[i] = ops_get_i64 (t->data, t->dtype, i);
  return (int) n;
}

int
ops_read_floats (const OvaTensorRef *t, double *out, int max)
{
  if (!t || !t->data || !ops_dims_known (t))
    return -1;
  int64_t n = ova_tensor_ref_numel (t);
  if (n > max || !ops_dtype_is_numeric (t->dtype))
    return -2;
  for (int64_t i = 0; i < n; i++)
    out[i] = ops_get_f64 (t->data, t->dtype, i);
  return (int) n;
}

gboolean
ops_check_size (const OvaOpNode *node, const OvaTensorRef *t, GError **error)
{
  int64_t n = 1;
  for (int i = 0; i < t->rank; i++) {
    if (t->dims[i] < 0)
      continue;
    if (t->dims[i] > 0 && n > OPS_MAX_ELEMENTS / t->dims[i])
      return OPS_SHAPE (node, "output of more than %" G_GINT64_FORMAT " elements", OPS_MAX_ELEMENTS);
    n *= t->dims[i];
  }
  return TRUE;
}

gboolean
ops_check_scalar (const OvaOpNode *node, const OvaTensorRef *in, int n_in, int i, const char *what,
                  GError **error)
{
  if (!ops_has (in, n_in, i))
    return TRUE;
  int64_t n = ops_numel_dims (in[i].rank, in[i].dims);
  if (n == 1 || (n < 0 && !in[i].data))
    return TRUE;
  return OPS_SHAPE (node, "%s must hold one value, it has shape of %" G_GINT64_FORMAT " elements", what, n);
}

gboolean
ops_axis (const OvaOpNode *node, int64_t axis, int rank, int *out, GError **error)
{
  if (axis < -rank || axis >= rank || (rank == 0 && axis != 0))
    return OPS_SHAPE (node, "axis %" G_GINT64_FORMAT " out of range for rank %d", axis, rank);
  *out = (int) (axis < 0 ? axis + rank : axis);
  return TRUE;
}

gboolean
ops_broadcast_dims (const OvaOpNode *node, int ra, const int64_t *da, int rb, const int64_t *db,
                    int *rank, int64_t *dims, GError **error)
{
  int r = MAX (ra, rb);
  int64_t out[OVA_MAX_DIMS];
  for (int i = 0; i < r; i++) {
    int ia = i - (r - ra), ib = i - (r - rb);
    int64_t a = ia >= 0 ? da[ia] : 1, b = ib >= 0 ? db[ib] : 1;
    if (a == 1)
      out[i] = b;
    else if (b == 1)
      out[i] = a;
    else if (a == b)
      out[i] = a;
    else if (a < 0 || b < 0)
      out[i] = a < 0 ? b : a; /* unknown against n: broadcasting needs n */
    else
      return OPS_SHAPE (node, "cannot broadcast dimension %d: %" G_GINT64_FORMAT " vs %" G_GINT64_FORMAT,
                        i, a, b);
  }
  *rank = r;
  memcpy (dims, out, sizeof (int64_t) * r);
  return TRUE;
}

void
ops_bcast_init (OpsBcast *b, const OvaTensorRef *const *ins, int n_in, int out_rank,
                const int64_t *out_dims)
{
  int r = out_rank;
  int64_t dims[OVA_MAX_DIMS], st[OPS_BCAST_MAX_IN][OVA_MAX_DIMS];
  for (int k = 0; k < n_in; k++) {
    const OvaTensorRef *t = ins[k];
    int64_t s = 1;
    for (int i = r - 1; i >= 0; i--) {
      int it = i - (r - t->rank);
      int64_t d = it >= 0 ? t->dims[it] : 1;
      st[k][i] = (d == 1 && out_dims[i] != 1) ? 0 : s;
      if (d == 1)
        st[k][i] = 0;
      s *= d;
    }
  }
  memcpy (dims, out_dims, sizeof (int64_t) * r);
  /* Drop size-1 dims, then merge neighbours that are contiguous for all. */
  int m = 0;
  int64_t cd[OVA_MAX_DIMS], cs[OPS_BCAST_MAX_IN][OVA_MAX_DIMS];
  for (int i = 0; i < r; i++) {
    if (dims[i] == 1)
      continue;
    if (m > 0) {
      gboolean merge = TRUE;
      for (int k = 0; k < n_in; k++)
        if (cs[k][m - 1] != st[k][i] * dims[i])
          merge = FALSE;
      if (merge) {
        cd[m - 1] *= dims[i];
        for (int k = 0; k < n_in; k++)
          cs[k][m - 1] = st[k][i];
        continue;
      }
    }
    cd[m] = dims[i];
    for (int k = 0; k < n_in; k++)
      cs[k][m] = st[k][i];
    m++;
  }
  if (m == 0) {
    cd[0] = 1;
    for (int k = 0; k < n_in; k++)
      cs[k][0] = 0;
    m = 1;
  }
  b->n_in = n_in;
  b->rank = m;
  memcpy (b->dims, cd, sizeof (int64_t) * m);
  for (int k = 0; k < n_in; k++)
    memcpy (b->strides[k], cs[k], sizeof (int64_t) * m);
}

void
ops_bcast_foreach (const OpsBcast *b, OpsRowFn row, void *ctx)
{
  int r = b->rank;
  int64_t n = b->dims[r - 1];
  int64_t inner[OPS_BCAST_MAX_IN], off[OPS_BCAST_MAX_IN] = { 0 }, idx[OVA_MAX_DIMS] = { 0 };
  for (int k = 0; k < b->n_in; k++)
    inner[k] = b->strides[k][r - 1];
  int64_t rows = 1;
  for (int i = 0; i < r - 1; i++)
    rows *= b->dims[i];
  if (n == 0)
    return;
  for (int64_t rr = 0; rr < rows; rr++) {
    row (ctx, off, rr * n, n, inner);
    /* advance the odometer over dims 0..r-2 */
    for (int i = r - 2; i >= 0; i--) {
      idx[i]++;
      for (int k = 0; k < b->n_in; k++)
        off[k] += b->strides[k][i];
      if (idx[i] < b->dims[i])
        break;
      for (int k = 0; k < b->n_in; k++)
        off[k] -= b->strides[k][i] * b->dims[i];
      idx[i] = 0;
    }
  }
}

typedef struct {
  const uint8_t *src;
  uint8_t *dst;
  size_t es;
} CopyCtx;

static void
copy_row (void *ctx, const int64_t *in_off, int64_t out_off, int64_t n, const int64_t *st)
{
  CopyCtx *c = ctx;
  uint8_t *d = c->dst + out_off * c->es;
  const uint8_t *s = c->src + in_off[0] * c->es;
  if (st[0] == 1) {
    memcpy (d, s, n * c->es);
    return;
  }
  switch (c->es) {
  case 1: memset (d, *s, n); break;
  case 4: { uint32_t v; memcpy (&v, s, 4); for (int64_t i = 0; i < n; i++) ((uint32_t *) d)[i] = v; break; }
  case 8: { uint64_t v; memcpy (&v, s, 8); for (int64_t i = 0; i < n; i++) ((uint64_t *) d)[i] = v; break; }
  default: for (int64_t i = 0; i < n; i++) memcpy (d + i * c->es, s, c->es); break;
  }
}

void
ops_broadcast_copy (const OvaTensorRef *src, OvaTensorRef *dst)
{
  OpsBcast b;
  const OvaTensorRef *ins[1] = { src };
  ops_bcast_init (&b, ins, 1, dst->rank, dst->dims);
  CopyCtx c = { src->data, dst->data, ops_dtype_size (src->dtype) };
  if (ova_tensor_ref_numel (dst) == 0)
    return;
  ops_bcast_foreach (&b, copy_row, &c);
}

/* ---- SGEMM -------------------------------------------------------------
 * Reference GEMM: op(B) is made row-major (K x N) once, then C is updated
 * four rows at a time with an i-k-j order whose innermost loop is four
 * contiguous axpys sharing one load of B (vectorised by gcc; compiled for
 * AVX2+FMA too). K and N are blocked so the rows of C and B stay in cache. */
#define GEMM_KB 256
#define GEMM_NB 512

OPS_SIMD_IMPL void
sgemm_block_impl (int64_t M, int64_t nb, int64_t k0, int64_t kb, float alpha, const float *A,
                  int64_t lda, gboolean trans_a, const float *B, int64_t ldb, float *C, int64_t ldc)
{
  int64_t i = 0;
  for (; i + 4 <= M; i += 4) {
    float *restrict c0 = C + i * ldc, *restrict c1 = c0 + ldc, *restrict c2 = c1 + ldc,
                   *restrict c3 = c2 + ldc;
    for (int64_t k = k0; k < k0 + kb; k++) {
      float a0, a1, a2, a3;
      if (trans_a) {
        const float *ap = A + k * lda + i;
        a0 = ap[0]; a1 = ap[1]; a2 = ap[2]; a3 = ap[3];
      } else {
        const float *ap = A + i * lda + k;
        a0 = ap[0]; a1 = ap[lda]; a2 = ap[2 * lda]; a3 = ap[3 * lda];
      }
      a0 *= alpha; a1 *= alpha; a2 *= alpha; a3 *= alpha;
      const float *restrict b = B + k * ldb;
      for (int64_t j = 0; j < nb; j++) {
        float bj = b[j];
        c0[j] += a0 * bj;
        c1[j] += a1 * bj;
        c2[j] += a2 * bj;
        c3[j] += a3 * bj;
      }
    }
  }
  for (; i < M; i++) {
    float *restrict c = C + i * ldc;
    for (int64_t k = k0; k < k0 + kb; k++) {
      float a = alpha * (trans_a ? A[k * lda + i] : A[i * lda + k]);
      const float *restrict b = B + k * ldb;
      for (int64_t j = 0; j < nb; j++)
        c[j] += a * b[j];
    }
  }
}

OPS_SIMD_VARIANTS (sgemm_block,
                   (int64_t M, int64_t nb, int64_t k0, int64_t kb, float alpha, const float *A,
                    int64_t lda, gboolean trans_a, const float *B, int64_t ldb, float *C, int64_t ldc),
                   (M, nb, k0, kb, alpha, A, lda, trans_a, B, ldb, C, ldc))

void
ops_sgemm (gboolean trans_a, gboolean trans_b, int64_t M, int64_t N, int64_t K, float alpha,
           const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
           int64_t ldc)
{
  for (int64_t i = 0; i < M; i++) {
    float *c = C + i * ldc;
    if (beta == 0.0f)
      memset (c, 0, sizeof (float) * N);
    else if (beta != 1.0f)
      for (int64_t j = 0; j < N; j++)
        c[j] *= beta;
  }
  if (M == 0 || N == 0 || K == 0)
    return;
  float *bp = NULL;
  if (trans_b) {
    /* B is stored N x K: build its K x N transpose once. */
    bp = g_malloc (sizeof (float) * K * N);
    for (int64_t n = 0; n < N; n++)
      for (int64_t k = 0; k < K; k++)
        bp[k * N + n] = B[n * ldb + k];
    B = bp;
    ldb = N;
  }
  for (int64_t k0 = 0; k0 < K; k0 += GEMM_KB)
    for (int64_t j0 = 0; j0 < N; j0 += GEMM_NB)
      sgemm_block (M, MIN (GEMM_NB, N - j0), k0, MIN (GEMM_KB, K - k0), alpha, A, lda, trans_a,
                   B + j0, ldb, C + j0, ldc);
  g_free (bp);
}
