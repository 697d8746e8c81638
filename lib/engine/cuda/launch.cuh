/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Kernel launches of the engine's CUDA kernels (internal) with programmatic
 * dependent launch (Hopper and newer): a kernel may be launched while the
 * previous kernel of the stream still runs, so the ~2-4 us of launch and
 * block start-up of each of a network's hundred-odd small kernels overlap
 * the previous kernel's tail. Every kernel therefore starts with
 * pdl_entry (): it waits until the previous grid has completed and its
 * writes are visible (a no-op when launched without the attribute), then
 * lets the next grid be launched. Every kernel waits, so the order stays
 * transitive: a kernel that reads the output of one two steps back sees it.
 * OVA_CUDA_PDL=0 (or ova_cuda_set_pdl (0)) launches them the plain way.
 */
#ifndef OVA_ENGINE_CUDA_LAUNCH_CUH
#define OVA_ENGINE_CUDA_LAUNCH_CUH

#include "kernels.h"

#include <cuda_runtime.h>
#include <utility>

namespace {

__device__ __forceinline__ void
pdl_entry ()
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile ("griddepcontrol.wait;\n" ::: "memory");
  asm volatile ("griddepcontrol.launch_dependents;\n" ::: "memory");
#endif
}

/* Pulls @bytes of constants from @p (weights, biases: never written by an
 * earlier kernel) into this SM's L1 cache, each thread a few 128-byte
 * lines. Called before pdl_entry (): under programmatic dependent launch
 * the round trip to L2 then overlaps the previous kernel instead of adding
 * to the chain of small kernels a batch-1 network is. */
__device__ __forceinline__ void
prefetch_l1 (const void *p, size_t bytes)
{
  if (!p)
    return;
  const uintptr_t lo = (uintptr_t) p & ~(uintptr_t) 127, hi = (uintptr_t) p + bytes;
  for (uintptr_t a = lo + (uintptr_t) threadIdx.x * 128; a < hi; a += (uintptr_t) blockDim.x * 128)
    asm volatile ("prefetch.global.L1 [%0];\n" ::"l"(a));
}

/* kernel<<<grid, block, smem, stream>>> (args...), with the programmatic
 * stream serialization attribute where enabled */
template <typename... P, typename... A>
cudaError_t
launch_k (void (*kernel) (P...), dim3 grid, dim3 block, size_t smem, cudaStream_t stream, A &&...args)
{
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr[0].val.programmaticStreamSerializationAllowed = 1;
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = grid;
  cfg.blockDim = block;
  cfg.dynamicSmemBytes = smem;
  cfg.stream = stream;
  cfg.attrs = attr;
  cfg.numAttrs = ova_cuda_pdl_enabled () ? 1 : 0;
  return cudaLaunchKernelEx (&cfg, kernel, std::forward<A> (args)...);
}

} // namespace

#endif
