/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Helpers shared by the reference operator kernels (internal to lib/engine/ops).
 *
 * Conventions every operator follows:
 *  - A dimension of -1 during inference means "not known yet" (symbolic batch,
 *    or a size that depends on a tensor value that is not a constant). Such
 *    dims propagate; the executor calls infer again with all input data
 *    present before running a node whose output dims were not all known
 *    (NonMaxSuppression, Range, ... only know their sizes from data).
 *  - Shape and Size read only the dims of their input: in[0].data may be NULL.
 *  - Kernels compute in fp32 for fp32 tensors (contiguous loops gcc
 *    vectorises); other numeric types go through a generic path that
 *    computes in double (floating types) or int64 (integer types).
 */
#ifndef OVA_ENGINE_OPS_PRIVATE_H
#define OVA_ENGINE_OPS_PRIVATE_H

#include "engine/op.h"
#include <math.h>
#include <string.h>

/* The kernels are written as plain loops for gcc's vectoriser; at -O2 gcc
 * only vectorises loops whose trip count is a known multiple of the vector
 * width ("very cheap" model), so the operator sources ask for the dynamic
 * cost model. The hottest kernels are also compiled for AVX2+FMA
 * (OPS_SIMD_VARIANTS) and chosen at run time; tests check both variants
 * against naive loops (ops_simd_force_baseline). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize ("tree-vectorize", "vect-cost-model=dynamic")
#endif
#if defined(__GNUC__) && defined(__x86_64__)
#define OPS_HAVE_AVX2_VARIANT 1
#define OPS_AVX2_ATTR __attribute__ ((target ("avx2,fma")))
#else
#define OPS_HAVE_AVX2_VARIANT 0
#define OPS_AVX2_ATTR
#endif
/* TRUE when the AVX2+FMA variants run (CPU support, not forced off). */
gboolean ops_simd_avx2 (void);
/* Tests: run the baseline variants even where AVX2 is available. */
void ops_simd_force_baseline (gboolean baseline);
/* Defines NAME as a dispatcher over NAME_base and NAME_avx2, both inlining
 * NAME_impl (declared static inline with the same ARGS). */
#define OPS_SIMD_VARIANTS(NAME, PARAMS, ARGS)                                                      \
  static void NAME##_base PARAMS { NAME##_impl ARGS; }                                             \
  OPS_AVX2_ATTR static void NAME##_avx2 PARAMS { NAME##_impl ARGS; }                               \
  static void NAME PARAMS                                                                          \
  {                                                                                                \
    if (ops_simd_avx2 ())                                                                          \
      NAME##_avx2 ARGS;                                                                            \
    else                                                                                           \
      NAME##_base ARGS;                                                                            \
  }
#define OPS_SIMD_IMPL static inline __attribute__ ((always_inline))

/* bfloat16 is ONNX data type 16; the public enum does not list it yet. */
#define OPS_DTYPE_BFLOAT16 ((OvaDataType) 16)

/* Sets @error ("node 'N' (Op): ...") and returns FALSE. */
gboolean ops_fail (GError **error, int code, const OvaOpNode *node, const char *fmt, ...)
  G_GNUC_PRINTF (4, 5);
#define OPS_UNSUP(node, ...) ops_fail (error, OVA_ENGINE_ERROR_UNSUPPORTED, node, __VA_ARGS__)
#define OPS_SHAPE(node, ...) ops_fail (error, OVA_ENGINE_ERROR_SHAPE, node, __VA_ARGS__)

/* Checks the input count; optional trailing inputs may be absent. */
gboolean ops_check_inputs (const OvaOpNode *node, int n_in, int min, int max, GError **error);
static inline gboolean
ops_has (const OvaTensorRef *in, int n_in, int i)
{
  return i < n_in && in[i].dtype != OVA_DTYPE_UNDEFINED;
}

size_t ops_dtype_size (OvaDataType dt);
gboolean ops_dtype_is_float (OvaDataType dt);
gboolean ops_dtype_is_int (OvaDataType dt); /* integer types, bool excluded */
gboolean ops_dtype_is_numeric (OvaDataType dt); /* float, int or bool */

int64_t ops_numel_dims (int rank, const int64_t *dims); /* -1 if any dim is unknown */
gboolean ops_dims_known (const OvaTensorRef *t);
void ops_copy_shape (OvaTensorRef *dst, const OvaTensorRef *src); /* dtype, rank, dims */
void ops_set_shape (OvaTensorRef *t, OvaDataType dt, int rank, const int64_t *dims);

/* Element access through double / int64 for the generic paths. */
double ops_get_f64 (const void *p, OvaDataType dt, int64_t i);
int64_t ops_get_i64 (const void *p, OvaDataType dt, int64_t i);
void ops_set_f64 (void *p, OvaDataType dt, int64_t i, double v);
void ops_set_i64 (void *p, OvaDataType dt, int64_t i, int64_t v);
float ops_half_to_float (uint16_t h);
uint16_t ops_float_to_half (float f);
float ops_bf16_to_float (uint16_t h);
uint16_t ops_float_to_bf16 (float f);

/* Reads an integer (int32/int64) or float tensor's values into @out (up to
 * @max). Returns the count, -1 if the data is not known yet, or -2 if the
 * tensor holds more than @max values or is not numeric (an error: callers
 * report it with OPS_READ_CHECK). */
#define OPS_READ_CHECK(node, n, what)                                                              \
  do {                                                                                             \
    if ((n) == -2)                                                                                 \
      return OPS_SHAPE (node, "input '%s' has too many values or a non-numeric type", what);       \
  } while (0)
int ops_read_ints (const OvaTensorRef *t, int64_t *out, int max);
int ops_read_floats (const OvaTensorRef *t, double *out, int max);

/* Normalises @axis (may be negative) for @rank; FALSE if out of range. */
gboolean ops_axis (const OvaOpNode *node, int64_t axis, int rank, int *out, GError **error);

/* FALSE (with an error) unless optional input @i is absent or holds exactly
 * one element (ONNX's scalar inputs: Clip bounds, Range, K, ratios...). */
gboolean ops_check_scalar (const OvaOpNode *node, const OvaTensorRef *in, int n_in, int i,
                           const char *what, GError **error);

/* FALSE (with an error) when @t's known dims multiply to more than
 * OPS_MAX_ELEMENTS (or overflow): sizes read from tensor values (Expand, Tile,
 * ConstantOfShape, Range, Resize, Pad...) must not ask for absurd buffers. */
#define OPS_MAX_ELEMENTS ((int64_t) 1 << 31)
gboolean ops_check_size (const OvaOpNode *node, const OvaTensorRef *t, GError **error);

/* memcpy of @n int64 values that accepts src == NULL when n == 0. */
static inline void
ops_copy_i64 (int64_t *dst, const int64_t *src, int n)
{
  if (n > 0)
    memcpy (dst, src, sizeof (int64_t) * n);
}

/* numpy broadcasting of shapes (with -1 for unknown dims). */
gboolean ops_broadcast_dims (const OvaOpNode *node, int ra, const int64_t *da, int rb,
                             const int64_t *db, int *rank, int64_t *dims, GError **error);

/* Iteration over a broadcast: the output is contiguous with @rank/@dims;
 * each input gets element strides (0 along broadcast axes). Dimensions are
 * collapsed where all operands allow; foreach calls @row once per innermost
 * row with per-operand element offsets and inner strides (0 or 1). */
#define OPS_BCAST_MAX_IN 4
typedef struct {
  int n_in;
  int rank;
  int64_t dims[OVA_MAX_DIMS];
  int64_t strides[OPS_BCAST_MAX_IN][OVA_MAX_DIMS];
} OpsBcast;
void ops_bcast_init (OpsBcast *b, const OvaTensorRef *const *ins, int n_in, int out_rank,
                     const int64_t *out_dims);
typedef void (*OpsRowFn) (void *ctx, const int64_t *in_off, int64_t out_off, int64_t n,
                          const int64_t *in_stride);
void ops_bcast_foreach (const OpsBcast *b, OpsRowFn row, void *ctx);

/* Copies @src broadcast to @dst's shape (any dtype; element size copies). */
void ops_broadcast_copy (const OvaTensorRef *src, OvaTensorRef *dst);

/* C = alpha * op(A) * op(B) + beta * C, row-major, blocked so the inner loop
 * vectorises. lda/ldb/ldc are row strides of A, B, C as stored. */
void ops_sgemm (gboolean trans_a, gboolean trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                int64_t ldc);

/* Tests: Einsum without its GEMM path (the general loop only). */
void ops_einsum_force_naive (gboolean naive);

/* Registry tables defined in each source file (NULL-terminated). */
extern const OvaOpDef *const ova_ops_elementwise[];
extern const OvaOpDef *const ova_ops_nn[];
extern const OvaOpDef *const ova_ops_shape[];
extern const OvaOpDef *const ova_ops_reduce[];
extern const OvaOpDef *const ova_ops_resize[];
extern const OvaOpDef *const ova_ops_misc[];
extern const OvaOpDef *const ova_ops_rnn[];
extern const OvaOpDef *const ova_ops_quant[];

#endif /* OVA_ENGINE_OPS_PRIVATE_H */
