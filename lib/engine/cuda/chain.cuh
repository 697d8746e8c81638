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
 * by the caller, which knows the operand's layout). */
__device__ __forceinline__ float
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

/* The chain applied to @v, the value of output element @i (ADD_TENSOR
 * operands are read at @i: same shape and layout as the output). */
template <typename T>
__device__ __forceinline__ float
apply_chain (const OvaCudaChain &c, float v, int64_t i)
{
  /* the most common chain, a convolution's SiLU, without the loop and the
   * switch (the test is uniform across a grid) */
  if (c.n == 1 && c.func[0] == OVA_CUDA_F_SILU)
    return __fdividef (v, 1.f + __expf (-v));
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

} // namespace

#endif
