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

} // namespace

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
