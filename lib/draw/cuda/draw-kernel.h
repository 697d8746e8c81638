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

#ifdef __cplusplus
}
#endif

#endif /* OVA_DRAW_KERNEL_H */
