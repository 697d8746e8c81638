/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * One launch of the detector-output decoder (internal; see
 * ova_cuda_decode_detections in include/ova/cuda.h).
 */
#ifndef OVA_CUDA_DECODE_KERNEL_H
#define OVA_CUDA_DECODE_KERNEL_H

#ifdef __cplusplus
extern "C" {
#endif

/* Layouts of the built-in parsers (lib/infer/parse.c). */
enum {
  OVA_CUDA_DECODE_YOLOX = 0, /* anchors x (5 + C), cell offsets and log sizes per stride 8/16/32 */
  OVA_CUDA_DECODE_YOLOV8 = 1, /* (4 + C) x anchors, boxes in pixels */
  OVA_CUDA_DECODE_YOLOV5 = 2, /* anchors x (5 + C), boxes in pixels */
};

/* Same layout as OvaCudaCandidate (include/ova/cuda.h). */
typedef struct {
  float left, top, width, height;
  float confidence;
  int class_id;
  unsigned int anchor;
} OvaCudaDecodeCandidate;

typedef struct {
  int layout;                  /* OVA_CUDA_DECODE_* */
  const float *output;         /* device: image i at output + i * image_floats */
  unsigned long long image_floats;
  unsigned int anchors, classes, cols; /* cols: values per anchor row (YOLOX, YOLOv5) */
  unsigned int n_images;
  /* YOLOX: anchors of stride 8, of strides 8 and 16; grid widths per stride */
  unsigned int end8, end16, grid_w8, grid_w16, grid_w32;
  const float *thresholds;     /* device: per-class pre-cluster threshold */
  float min_threshold;
  OvaCudaDecodeCandidate *candidates; /* device: image i at candidates + i * capacity */
  unsigned int capacity;
  unsigned int *counts;        /* device: n_images counters, zeroed by the launch */
} OvaCudaDecodeJob;

/* Zeroes the counters and enqueues the decoder on @stream; a cudaError_t. */
int ova_cuda_decode_launch (const OvaCudaDecodeJob *job, void *stream);

#ifdef __cplusplus
}
#endif

#endif
