/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Device helpers shared by ova's CUDA kernels (internal): fp32/fp16 loads and
 * stores, and the fused element-wise chain (OvaCudaChain) that every kernel
 * applies to its outputs, so a convolution's fused epilogue computes exactly
 * what the separate epilogue pass does.
 */
#ifndef OVA_ENGINE_CUDA_CHAIN_CUH
#define OVA_ENGINE_CUDA_CHAIN_CUH

#include "kernels.h"

#include <cuda_fp16.h>

namespace {

__device__ __forceinline__ float ld (const float *p, int64_t i) { return p[i]; }
__device__ __forceinline__ float ld (const __half *p, int64_t i) { return __half2float (p[i]); }
__device__ __forceinline__ void st (float *p, int64_t i, float v) { p[i] = v; }
__device__ __forceinline__ void st (__half *p, int64_t i, float v) { p[i] = __float2half (v); }

/* One element-wise function of a chain (not ADD_TENSOR: its operand is read
 * by the caller, which knows the operand's layout). Not inlined: the
 * general chain is the rare case (see WITH_CHAIN_KIND), and inlined at each
 * of its call sites this switch made up most of every kernel's code. */
__device__ __noinline__ float
apply_func (int func, float a, float b, float v)
{
  switch (func) {
    case OVA_CUDA_F_RELU: return v > 0.f ? v : 0.f;
    case OVA_CUDA_F_LEAKY_RELU: return v >= 0.f ? v : a * v;
    /* __fdividef: a few instructions instead of IEEE division's dozen
     * (2 ulp; where 1 + e^-v overflows it gives 0, the limit anyway) */
    case OVA_CUDA_F_SIGMOID: return __fdividef (1.f, 1.f + __expf (-v));
    case OVA_CUDA_F_SILU: return __fdividef (v, 1.f + __expf (-v));
    case OVA_CUDA_F_HARD_SWISH: return v * fminf (fmaxf (v / 6.f + 0.5f, 0.f), 1.f);
    case OVA_CUDA_F_HARD_SIGMOID: return fminf (fmaxf (a * v + b, 0.f), 1.f);
    case OVA_CUDA_F_CLIP: return fminf (fmaxf (v, a), b);
    case OVA_CUDA_F_TANH: return tanhf (v);
    case OVA_CUDA_F_EXP: return __expf (v);
    case OVA_CUDA_F_NEG: return -v;
    case OVA_CUDA_F_ABS: return fabsf (v);
    case OVA_CUDA_F_SQRT: return sqrtf (v);
    case OVA_CUDA_F_RECIPROCAL: return 1.f / v;
    default: return v;
  }
}

/* What a chain is, for kernels that specialise their epilogue on it: no
 * step, SiLU alone (a convolution's activation), SiLU then a residual Add
 * (YOLO's bottlenecks), anything else. */
enum ChainKind { CK_ANY = 0, CK_NONE, CK_SILU, CK_SILU_ADD };

__device__ __forceinline__ float
silu (float v)
{
  return __fdividef (v, 1.f + __expf (-v));
}

/* The chain applied to @v, the value of output element @i (ADD_TENSOR
 * operands are read at @i: same shape and layout as the output). CK: the
 * chain's kind when the caller has tested it (WITH_CHAIN_KIND), CK_ANY when
 * not. */
template <typename T, int CK = CK_ANY>
__device__ __forceinline__ float
apply_chain (const OvaCudaChain &c, float v, int64_t i)
{
  if (CK == CK_NONE)
    return v;
  if (CK == CK_SILU)
    return silu (v);
  if (CK == CK_SILU_ADD)
    return silu (v) + ld ((const T *) c.operand[1], i);
  /* the most common chain, a convolution's SiLU, without the loop and the
   * switch (the test is uniform across a grid) */
  if (c.n == 1 && c.func[0] == OVA_CUDA_F_SILU)
    return silu (v);
#pragma unroll
  for (int k = 0; k < OVA_CUDA_MAX_CHAIN; k++) {
    if (k >= c.n)
      break;
    if (c.func[k] == OVA_CUDA_F_ADD_TENSOR)
      v += ld ((const T *) c.operand[k], i);
    else
      v = apply_func (c.func[k], c.alpha[k], c.beta[k], v);
  }
  return v;
}

__device__ __forceinline__ int
chain_kind (const OvaCudaChain &c)
{
  if (c.n == 1 && c.func[0] == OVA_CUDA_F_SILU)
    return CK_SILU;
  if (c.n == 0)
    return CK_NONE;
  if (c.n == 2 && c.func[0] == OVA_CUDA_F_SILU && c.func[1] == OVA_CUDA_F_ADD_TENSOR)
    return CK_SILU_ADD;
  return CK_ANY;
}

/* Runs the statements given with CK, a compile-time constant, naming the
 * kind of chain @c, so that an epilogue is compiled once per kind and a
 * grid runs the copy for its chain. Why: with the general chain (a switch
 * of a dozen functions, tanh, exp, sqrt and divisions, over up to 6 steps)
 * inlined at every output of an unrolled epilogue, kernels grew to 150 KB
 * - 1.2 MB of code whose few executed instructions lay kilobytes apart:
 * each of the dozens of epilogue steps fetched its instructions from L2
 * anew, microseconds of a small kernel's time (most of it at batch 1). The
 * specialised copies are a few contiguous instructions per output. */
#define WITH_CHAIN_KIND(c, ...)                                                                                        \
  do {                                                                                                                 \
    const int ck_ = chain_kind (c);                                                                                    \
    if (ck_ == CK_SILU) {                                                                                              \
      constexpr int CK = CK_SILU;                                                                                      \
      __VA_ARGS__;                                                                                                     \
    } else if (ck_ == CK_NONE) {                                                                                       \
      constexpr int CK = CK_NONE;                                                                                      \
      __VA_ARGS__;                                                                                                     \
    } else if (ck_ == CK_SILU_ADD) {                                                                                   \
      constexpr int CK = CK_SILU_ADD;                                                                                  \
      __VA_ARGS__;                                                                                                     \
    } else {                                                                                                           \
      constexpr int CK = CK_ANY;                                                                                       \
      __VA_ARGS__;                                                                                                     \
    }                                                                                                                  \
  } while (0)

/* Eight consecutive outputs (element index @i of the first): the chain,
 * fp16, packed for one 16-byte store. */
template <int CK = CK_ANY>
__device__ __forceinline__ uint4
chain_pack8 (const OvaCudaChain &c, const float *v, int64_t i)
{
  unsigned packed[4];
#pragma unroll
  for (int e = 0; e < 8; e += 2) {
    const float v0 = apply_chain<__half, CK> (c, v[e], i + e);
    const float v1 = apply_chain<__half, CK> (c, v[e + 1], i + e + 1);
    packed[e / 2] = (unsigned) __half_as_ushort (__float2half (v0)) |
                    ((unsigned) __half_as_ushort (__float2half (v1)) << 16);
  }
  return make_uint4 (packed[0], packed[1], packed[2], packed[3]);
}

/* One tap of an 8-channel depthwise window: the fp16 inputs @v times the
 * fp32 weights @w (16-byte aligned), into @acc. */
__device__ __forceinline__ void
dw_tap8 (float *acc, const uint4 v, const float *w)
{
  const float4 w0 = *(const float4 *) w, w1 = *(const float4 *) (w + 4);
  const float2 p0 = __half22float2 (*(const __half2 *) &v.x), p1 = __half22float2 (*(const __half2 *) &v.y);
  const float2 p2 = __half22float2 (*(const __half2 *) &v.z), p3 = __half22float2 (*(const __half2 *) &v.w);
  acc[0] += p0.x * w0.x;
  acc[1] += p0.y * w0.y;
  acc[2] += p1.x * w0.z;
  acc[3] += p1.y * w0.w;
  acc[4] += p2.x * w1.x;
  acc[5] += p2.y * w1.y;
  acc[6] += p3.x * w1.z;
  acc[7] += p3.y * w1.w;
}

} // namespace

#endif
