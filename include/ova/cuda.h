/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * GPU helpers built with the CUDA backend (OVA_HAVE_CUDA in ova-config.h):
 * preprocessing of NV12 frames that already live in CUDA memory (nvh264dec's
 * GstCudaMemory) into the network input, on the GPU, with the exact
 * arithmetic of ova_preprocess_reference (include/ova/infer.h); decoding of
 * detector outputs that are still on the GPU into compact candidate lists
 * (the built-in YOLOX / YOLOv8 / YOLOv5 parsers up to their threshold tests).
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

/** A detection candidate decoded on the GPU: what the built-in parser would
 * push for one anchor (network-input pixels), plus the anchor it came from. */
typedef struct {
  gfloat left, top, width, height;
  gfloat confidence;
  gint class_id;
  guint anchor;        /* output row (YOLOv8: column): sorting by it gives the parser's order */
} OvaCudaCandidate;

/** What ova_cuda_decode_detections needs to know besides the output. */
typedef struct {
  OvaParserKind parser;        /* OVA_PARSER_YOLOX, _YOLOV8 or _YOLOV5 */
  OvaInferNetworkInfo net;     /* the network input (YOLOX: its grid) */
  guint num_classes;           /* num-detected-classes: must equal the output's */
  const gfloat *thresholds;    /* device memory: num_classes pre-cluster thresholds */
  gfloat min_threshold;        /* min (1, smallest threshold): the parsers' early cut */
} OvaCudaDecodeParams;

/**
 * ova_cuda_decode_anchors:
 * Checks that an output of shape @dims (@rank dims, dims[0] the batch) is one
 * that @p->parser reads, as the host parser does (float32 is the caller's
 * business). Returns: anchors per image, or 0 with @error saying why.
 */
guint ova_cuda_decode_anchors (const OvaCudaDecodeParams *p, const gint64 *dims, gint rank, GError **error);

/**
 * ova_cuda_decode_detections:
 * The built-in parser @p->parser on @n_images images of @output (device
 * memory, float32, shape @dims with dims[0] >= @n_images, image i at
 * output + i * (product of dims[1..])), enqueued on @stream: per anchor the
 * best class, the parser's score tests, the class's pre-cluster threshold
 * and the box decode, with the host's arithmetic (boxes equal the host's to
 * float rounding of exp). Image i's candidates go, in arbitrary order, to
 * @candidates + i * @capacity (device memory), their number to @counts[i]
 * (device memory, zeroed first). A count above @capacity means candidates
 * were not stored (capacity = anchors per image never overflows).
 * Returns: FALSE with @error on bad arguments or a CUDA failure.
 */
gboolean ova_cuda_decode_detections (const OvaCudaDecodeParams *p, const gfloat *output, const gint64 *dims,
                                     gint rank, guint n_images, OvaCudaCandidate *candidates, guint capacity,
                                     guint *counts, void *stream, GError **error);

G_END_DECLS

#endif /* OVA_CUDA_H */
