/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * The built-in YOLOX / YOLOv8 / YOLOv5 parsers of lib/infer/parse.c on the
 * GPU: one thread per anchor (decode-anchor.h: best class, the parser's score
 * tests in its order, the class's pre-cluster threshold, the box) appends its
 * candidate to its image's list through an atomic counter. The list order is
 * arbitrary; each candidate carries its anchor so the host can restore the
 * parser's order.
 */
#include "decode-anchor.h"

#include <cuda_runtime.h>

namespace {

__global__ void
k_decode (const __grid_constant__ OvaCudaDecodeJob j)
{
  unsigned int a = blockIdx.x * blockDim.x + threadIdx.x;
  unsigned int img = blockIdx.y;
  if (a >= j.anchors || img >= j.n_images)
    return;
  OvaCudaDecodeCandidate c;
  if (!ova_decode_anchor (&j, img, a, &c))
    return;
  unsigned int k = atomicAdd (&j.counts[img], 1u);
  if (k < j.capacity) /* else only counted: the caller sees the overflow */
    j.candidates[(unsigned long long) img * j.capacity + k] = c;
}

} // namespace

extern "C" int
ova_cuda_decode_launch (const OvaCudaDecodeJob *job, void *stream)
{
  cudaStream_t s = (cudaStream_t) stream;
  cudaError_t e = cudaMemsetAsync (job->counts, 0, sizeof (unsigned int) * job->n_images, s);
  if (e != cudaSuccess || job->n_images == 0 || job->anchors == 0)
    return e;
  dim3 b (256), g ((job->anchors + 255) / 256, job->n_images);
  k_decode<<<g, b, 0, s>>> (*job);
  return cudaGetLastError ();
}
