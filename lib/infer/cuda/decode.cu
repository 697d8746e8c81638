/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * The built-in YOLOX / YOLOv8 / YOLOv5 parsers of lib/infer/parse.c on the
 * GPU: one thread per anchor takes the best class, applies the same score
 * tests in the same order and the class's pre-cluster threshold, decodes the
 * box with the host's arithmetic (no FMA contraction; exp in double, rounded
 * to float, as close to the host's expf as it gets) and appends the
 * candidate to its image's list through an atomic counter. The list order is
 * arbitrary; each candidate carries its anchor so the host can restore the
 * parser's order.
 */
#include "decode-kernel.h"

#include <cuda_runtime.h>

namespace {

/* First maximum, as argmax () in parse.c (strict '>'). */
__device__ __forceinline__ int
best_class (const float *v, unsigned int n, unsigned long long step, float *best)
{
  int bi = 0;
  float b = v[0];
  for (unsigned int i = 1; i < n; i++) {
    float x = v[i * step];
    if (x > b) {
      b = x;
      bi = (int) i;
    }
  }
  *best = b;
  return bi;
}

__device__ __forceinline__ float
exp_as_host (float v)
{
  return (float) exp ((double) v);
}

__global__ void
k_decode (OvaCudaDecodeJob j)
{
  unsigned int a = blockIdx.x * blockDim.x + threadIdx.x;
  unsigned int img = blockIdx.y;
  if (a >= j.anchors || img >= j.n_images)
    return;
  const float *d = j.output + (unsigned long long) img * j.image_floats;
  float cx, cy, w, h, score;
  int cls;
  if (j.layout == OVA_CUDA_DECODE_YOLOX) {
    const float *row = d + (unsigned long long) a * j.cols;
    float obj = row[4];
    if (obj < j.min_threshold)
      return;
    float best;
    cls = best_class (row + 5, j.classes, 1, &best);
    score = __fmul_rn (obj, best);
    if (score < j.min_threshold)
      return;
    unsigned int r, gw;
    int st;
    if (a < j.end8) {
      r = a;
      gw = j.grid_w8;
      st = 8;
    } else if (a < j.end16) {
      r = a - j.end8;
      gw = j.grid_w16;
      st = 16;
    } else {
      r = a - j.end16;
      gw = j.grid_w32;
      st = 32;
    }
    float gx = (float) (int) (r % gw), gy = (float) (int) (r / gw), fs = (float) st;
    cx = __fmul_rn (__fadd_rn (row[0], gx), fs);
    cy = __fmul_rn (__fadd_rn (row[1], gy), fs);
    w = __fmul_rn (exp_as_host (row[2]), fs);
    h = __fmul_rn (exp_as_host (row[3]), fs);
  } else if (j.layout == OVA_CUDA_DECODE_YOLOV8) {
    unsigned long long n = j.anchors;
    float best;
    cls = best_class (d + 4 * n + a, j.classes, n, &best);
    if (best < j.min_threshold)
      return;
    score = best;
    cx = d[a];
    cy = d[n + a];
    w = d[2 * n + a];
    h = d[3 * n + a];
  } else {
    const float *row = d + (unsigned long long) a * j.cols;
    if (row[4] < j.min_threshold)
      return;
    float best;
    cls = best_class (row + 5, j.classes, 1, &best);
    score = __fmul_rn (row[4], best);
    cx = row[0];
    cy = row[1];
    w = row[2];
    h = row[3];
  }
  /* push_box (): the class's own threshold */
  if (score < j.thresholds[cls])
    return;
  unsigned int k = atomicAdd (&j.counts[img], 1u);
  if (k >= j.capacity)
    return; /* counted: the caller sees the overflow */
  OvaCudaDecodeCandidate *c = j.candidates + (unsigned long long) img * j.capacity + k;
  c->left = __fsub_rn (cx, __fdiv_rn (w, 2.0f));
  c->top = __fsub_rn (cy, __fdiv_rn (h, 2.0f));
  c->width = w;
  c->height = h;
  c->confidence = score;
  c->class_id = cls;
  c->anchor = a;
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
