/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * The CUDA drawer's kernel interface (internal; see OvaDrawList in
 * include/ova/draw.h).
 */
#ifndef OVA_DRAW_KERNEL_H
#define OVA_DRAW_KERNEL_H

#include "../draw-ops.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One NV12 frame in device memory and its commands. */
typedef struct {
  uint8_t *y, *uv;
  int32_t y_pitch, uv_pitch, width, height;
  uint32_t first_cmd, n_cmds;
} OvaDrawCudaFrame;

/* Draws @n_frames frames (device arrays: @frames, @cmds, @glyphs, and @pools
 * holding device pointers) in one launch on @stream; frames must not share
 * memory. Returns: a cudaError_t. */
int ova_draw_cuda_launch (const OvaDrawCudaFrame *frames, int n_frames, int max_height, const OvaDrawCmd *cmds,
                          const OvaDrawGlyph *glyphs, const uint8_t *const *pools, void *stream);

/* One plane of a scale (scale.c's arithmetic): output sample (x, y, c) is
 * sum_t h_w[x][t] * ((sum_i v_w[y][i] * src[v_start[y] + i][(h_start[x] + t) * nc + c] + 128) >> 8),
 * then (+ (1 << 19)) >> 20 clamped to a byte; tables in device memory. */
typedef struct {
  const uint8_t *src;
  uint8_t *dst;
  int32_t src_pitch, dst_pitch;
  int32_t nc, in_w, out_w, out_h, h_ntaps, v_ntaps;
  const int32_t *h_start, *v_start;
  const int16_t *h_w, *v_w;
} OvaCudaScalePlane;

int ova_cuda_scale_plane_launch (const OvaCudaScalePlane *plane, void *stream);
/* Sets a w x h NV12 picture to (Y, U, V). */
int ova_cuda_fill_nv12_launch (uint8_t *y, int y_pitch, uint8_t *uv, int uv_pitch, int w, int h, uint8_t Y, uint8_t U,
                               uint8_t V, void *stream);

#ifdef __cplusplus
}
#endif

#endif /* OVA_DRAW_KERNEL_H */
