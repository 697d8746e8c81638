/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * The CUDA drawer: a batch's recorded commands (lib/draw/draw-ops.h) applied
 * in place to NV12 frames in device memory, one launch per batch.
 *
 * A block owns a band of BAND_ROWS luma rows (and the chroma rows under them)
 * of one frame and walks that frame's commands in order, so every sample sees
 * the commands in the order the CPU drawer applies them; within a command
 * each luma and chroma sample of the band is one thread's, and the per-sample
 * code is draw-ops.h's, the CPU's arithmetic.
 *
 * Also the tiler's kernels: the scaler's separable filter with its integer
 * arithmetic (bytes equal to ova_scaler_run's) and an NV12 fill.
 */
#include "draw-kernel.h"

#include <cuda_runtime.h>

namespace {

constexpr int BAND_ROWS = 16; /* even: bands own whole chroma rows */
constexpr int THREADS = 256;

__global__ void
k_draw_nv12 (const OvaDrawCudaFrame *frames, const OvaDrawCmd *cmds, OvaDrawSource src)
{
  const OvaDrawCudaFrame f = frames[blockIdx.y];
  const int r0 = blockIdx.x * BAND_ROWS;
  if (r0 >= f.height)
    return; /* the whole block leaves: no barrier is skipped by part of it */
  const int r1 = min (r0 + BAND_ROWS, f.height);
  const int c0 = r0 >> 1, c1 = (r1 + 1) >> 1;
  for (uint32_t i = 0; i < f.n_cmds; i++) {
    const OvaDrawCmd c = cmds[f.first_cmd + i];
    const int ly0 = max (c.y0, r0), ly1 = min (c.y1, r1);
    const int cy0 = max (c.y0 >> 1, c0), cy1 = min ((c.y1 + 1) >> 1, c1);
    const int w = c.x1 - c.x0, cx0 = c.x0 >> 1, cw = ((c.x1 + 1) >> 1) - cx0;
    const int nl = ly1 > ly0 ? (ly1 - ly0) * w : 0, nc = cy1 > cy0 ? (cy1 - cy0) * cw : 0;
    if (nl + nc == 0)
      continue; /* the same for every thread of the block */
    for (int k = threadIdx.x; k < nl + nc; k += blockDim.x) {
      if (k < nl) {
        const int y = ly0 + k / w, x = c.x0 + k % w;
        uint8_t *p = f.y + (size_t) y * f.y_pitch + x;
        *p = ova_draw_cmd_luma (&c, &src, x, y, *p);
      } else {
        const int kc = k - nl, cy = cy0 + kc / cw, cx = cx0 + kc % cw;
        uint8_t *q = f.uv + (size_t) cy * f.uv_pitch + 2 * cx;
        ova_draw_cmd_chroma (&c, &src, cx, cy, q, q + 1);
      }
    }
    __syncthreads (); /* the next command may touch the same samples */
  }
}

/* The tiler's scaler: each thread one output sample of the plane, the
 * vertical pass recomputed per horizontal tap (Q6, as scale.c's tmp row). */
__global__ void
k_scale_plane (OvaCudaScalePlane p)
{
  const int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x >= p.out_w || y >= p.out_h)
    return;
  const int16_t *wv = p.v_w + (size_t) y * p.v_ntaps, *wh = p.h_w + (size_t) x * p.h_ntaps;
  const uint8_t *row0 = p.src + (size_t) p.v_start[y] * p.src_pitch;
  const int x0 = p.h_start[x];
  for (int c = 0; c < p.nc; c++) {
    int32_t sum = 0;
    for (int t = 0; t < p.h_ntaps; t++) {
      const int w = wh[t];
      if (w == 0 || x0 + t >= p.in_w)
        continue; /* padding taps (zero weight) may lie past the row */
      const uint8_t *col = row0 + (size_t) (x0 + t) * p.nc + c;
      int32_t vs = 0;
      for (int i = 0; i < p.v_ntaps; i++)
        vs += wv[i] * col[(size_t) i * p.src_pitch];
      sum += w * (int32_t) (int16_t) ((vs + 128) >> 8);
    }
    sum = (sum + (1 << 19)) >> 20;
    p.dst[(size_t) y * p.dst_pitch + (size_t) x * p.nc + c] = (uint8_t) (sum < 0 ? 0 : sum > 255 ? 255 : sum);
  }
}

__global__ void
k_fill_nv12 (uint8_t *py, int y_pitch, uint8_t *puv, int uv_pitch, int w, int h, uint8_t Y, uint8_t U, uint8_t V)
{
  const int x = blockIdx.x * blockDim.x + threadIdx.x, y = blockIdx.y * blockDim.y + threadIdx.y;
  if (x < w && y < h)
    py[(size_t) y * y_pitch + x] = Y;
  if (x < (w + 1) / 2 && y < (h + 1) / 2) {
    uint8_t *q = puv + (size_t) y * uv_pitch + 2 * x;
    q[0] = U;
    q[1] = V;
  }
}

} // namespace

extern "C" int
ova_cuda_scale_plane_launch (const OvaCudaScalePlane *plane, void *stream)
{
  if (plane->out_w <= 0 || plane->out_h <= 0)
    return (int) cudaSuccess;
  dim3 block (32, 8), grid ((plane->out_w + 31) / 32, (plane->out_h + 7) / 8);
  k_scale_plane<<<grid, block, 0, (cudaStream_t) stream>>> (*plane);
  return (int) cudaGetLastError ();
}

extern "C" int
ova_cuda_fill_nv12_launch (uint8_t *y, int y_pitch, uint8_t *uv, int uv_pitch, int w, int h, uint8_t Y, uint8_t U,
                           uint8_t V, void *stream)
{
  if (w <= 0 || h <= 0)
    return (int) cudaSuccess;
  dim3 block (32, 8), grid ((w + 31) / 32, (h + 7) / 8);
  k_fill_nv12<<<grid, block, 0, (cudaStream_t) stream>>> (y, y_pitch, uv, uv_pitch, w, h, Y, U, V);
  return (int) cudaGetLastError ();
}

extern "C" int
ova_draw_cuda_launch (const OvaDrawCudaFrame *frames, int n_frames, int max_height, const OvaDrawCmd *cmds,
                      const OvaDrawGlyph *glyphs, const uint8_t *const *pools, void *stream)
{
  if (n_frames <= 0 || max_height <= 0)
    return (int) cudaSuccess;
  if (n_frames > 65535)
    return (int) cudaErrorInvalidValue;
  OvaDrawSource src;
  src.pools = pools;
  src.glyphs = glyphs;
  dim3 grid ((unsigned) ((max_height + BAND_ROWS - 1) / BAND_ROWS), (unsigned) n_frames);
  k_draw_nv12<<<grid, THREADS, 0, (cudaStream_t) stream>>> (frames, cmds, src);
  return (int) cudaGetLastError ();
}
