/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * One frame's preprocessing job for the NV12 kernel (internal; see
 * include/ova/cuda.h).
 */
#ifndef OVA_CUDA_PREPROCESS_KERNEL_H
#define OVA_CUDA_PREPROCESS_KERNEL_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  const void *y, *uv;
  int y_stride, uv_stride, width, height;
  float crop_left, crop_top, scale_x, scale_y;
  int pad_x, pad_y, out_w, out_h, net_w, net_h, channels, bgr, half;
  float yoff, yscale, cscale, rv, gu, gv, bu;
  float scale[3], offset[3], pad_value;
  void *dst;
} OvaCudaPreprocJob;

int ova_cuda_preprocess_nv12_launch (const OvaCudaPreprocJob *job, void *stream);

#ifdef __cplusplus
}
#endif

#endif
