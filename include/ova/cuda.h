/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * GPU helpers built with the CUDA backend (OVA_HAVE_CUDA in ova-config.h):
 * preprocessing of NV12 frames that already live in CUDA memory (nvh264dec's
 * GstCudaMemory) into the network input, on the GPU, with the exact
 * arithmetic of ova_preprocess_reference (include/ova/infer.h).
 */
#ifndef OVA_CUDA_H
#define OVA_CUDA_H

#include <ova/infer.h>

G_BEGIN_DECLS

/** One NV12 frame in CUDA device memory. */
typedef struct {
  const void *y, *uv;             /* device pointers of the two planes */
  gint y_stride, uv_stride;       /* bytes */
  gint width, height;
  GstVideoColorMatrix matrix;     /* BT.601 unless BT709 */
  GstVideoColorRange range;       /* limited unless GST_VIDEO_COLOR_RANGE_0_255 */
  OvaRect crop;                   /* source region; width or height 0: the whole frame */
} OvaCudaNv12Frame;

/**
 * ova_cuda_preprocess_nv12:
 * Crops, scales (bilinear, letterboxed when @p->maintain_aspect_ratio),
 * converts colour and normalises @n frames into @dst (device memory, planar
 * channels x net_height x net_width per frame, fp16 when @fp16 else fp32),
 * one kernel per frame enqueued on @stream (a cudaStream_t; NULL: the legacy
 * default stream). @lb (nullable, @n entries) receives each frame's letterbox.
 * Returns: FALSE with @error on a CUDA failure or bad arguments.
 */
gboolean ova_cuda_preprocess_nv12 (const OvaCudaNv12Frame *frames, gint n, const OvaPreprocParams *p, void *dst,
                                   gboolean fp16, void *stream, OvaLetterbox *lb, GError **error);

G_END_DECLS

#endif /* OVA_CUDA_H */
