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

/* The chain applied to @v, the value of output element @i (ADD_TENSOR
 * operands are read at @i: same shape and layout as the output). */
template <typename T>
__device__ __forceinline__ float
apply_chain (const OvaCudaChain &c, float v, int64_t i)
{
#pragma unroll
  for (int k = 0; k < OVA_CUDA_MAX_CHAIN; k++) {
    if (k >= c.n)
      break;
    float a = c.alpha[k], b = c.beta[k];
    switch (c.func[k]) {
      case OVA_CUDA_F_RELU: v = v > 0.f ? v : 0.f; break;
      case OVA_CUDA_F_LEAKY_RELU: v = v >= 0.f ? v : a * v; break;
      case OVA_CUDA_F_SIGMOID: v = 1.f / (1.f + __expf (-v)); break;
      case OVA_CUDA_F_SILU: v = v / (1.f + __expf (-v)); break;
      case OVA_CUDA_F_HARD_SWISH: v = v * fminf (fmaxf (v / 6.f + 0.5f, 0.f), 1.f); break;
      case OVA_CUDA_F_HARD_SIGMOID: v = fminf (fmaxf (a * v + b, 0.f), 1.f); break;
      case OVA_CUDA_F_CLIP: v = fminf (fmaxf (v, a), b); break;
      case OVA_CUDA_F_TANH: v = tanhf (v); break;
      case OVA_CUDA_F_EXP: v = __expf (v); break;
      case OVA_CUDA_F_NEG: v = -v; break;
      case OVA_CUDA_F_ABS: v = fabsf (v); break;
      case OVA_CUDA_F_SQRT: v = sqrtf (v); break;
      case OVA_CUDA_F_RECIPROCAL: v = 1.f / v; break;
      case OVA_CUDA_F_ADD_TENSOR: v += ld ((const T *) c.operand[k], i); break;
      default: break;
    }
  }
  return v;
}

} // namespace

#endif
