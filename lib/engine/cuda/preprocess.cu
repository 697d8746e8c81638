/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * NV12 (CUDA memory) -> crop / bilinear scale / letterbox -> colour ->
 * normalise -> planar fp32 or fp16: the arithmetic of
 * ova_preprocess_reference (lib/infer/preprocess.c) line by line, without FMA
 * contraction, so results match the CPU to rounding.
 */
#include "preprocess-kernel.h"

#include <cuda_fp16.h>
#include <cuda_runtime.h>

namespace {

__device__ __forceinline__ float
clampf (float v, float lo, float hi)
{
  return v < lo ? lo : (v > hi ? hi : v);
}

__device__ float
sample_plane (const unsigned char *data, int stride, int w, int h, int step, int off, float sx, float sy)
{
  sx = clampf (sx, 0, w - 1);
  sy = clampf (sy, 0, h - 1);
  int x0 = (int) sx, y0 = (int) sy;
  int x1 = min (x0 + 1, w - 1), y1 = min (y0 + 1, h - 1);
  float fx = __fsub_rn (sx, (float) x0), fy = __fsub_rn (sy, (float) y0);
  const unsigned char *r0 = data + (size_t) y0 * stride, *r1 = data + (size_t) y1 * stride;
  float a = r0[x0 * step + off], b = r0[x1 * step + off];
  float c = r1[x0 * step + off], d = r1[x1 * step + off];
  float top = __fadd_rn (a, __fmul_rn (fx, __fsub_rn (b, a)));
  float bot = __fadd_rn (c, __fmul_rn (fx, __fsub_rn (d, c)));
  return __fadd_rn (top, __fmul_rn (fy, __fsub_rn (bot, top)));
}

__global__ void
k_preprocess_nv12 (OvaCudaPreprocJob j)
{
  int ox = blockIdx.x * blockDim.x + threadIdx.x, oy = blockIdx.y * blockDim.y + threadIdx.y;
  if (ox >= j.net_w || oy >= j.net_h)
    return;
  int rx = ox - j.pad_x, ry = oy - j.pad_y;
  bool pad = rx < 0 || ry < 0 || rx >= j.out_w || ry >= j.out_h;
  float rgb[3];
  if (pad) {
    rgb[0] = rgb[1] = rgb[2] = j.pad_value;
  } else {
    float sx = __fsub_rn (__fadd_rn (j.crop_left, __fdiv_rn (rx + 0.5f, j.scale_x)), 0.5f);
    float sy = __fsub_rn (__fadd_rn (j.crop_top, __fdiv_rn (ry + 0.5f, j.scale_y)), 0.5f);
    int cw = (j.width + 1) / 2, ch = (j.height + 1) / 2;
    float csx = __fsub_rn (__fmul_rn (__fadd_rn (sx, 0.5f), 0.5f), 0.5f);
    float csy = __fsub_rn (__fmul_rn (__fadd_rn (sy, 0.5f), 0.5f), 0.5f);
    float Y = sample_plane ((const unsigned char *) j.y, j.y_stride, j.width, j.height, 1, 0, sx, sy);
    float U = sample_plane ((const unsigned char *) j.uv, j.uv_stride, cw, ch, 2, 0, csx, csy);
    float V = sample_plane ((const unsigned char *) j.uv, j.uv_stride, cw, ch, 2, 1, csx, csy);
    float y = __fmul_rn (__fsub_rn (Y, j.yoff), j.yscale), u = __fmul_rn (__fsub_rn (U, 128.f), j.cscale),
          v = __fmul_rn (__fsub_rn (V, 128.f), j.cscale);
    rgb[0] = clampf (__fadd_rn (y, __fmul_rn (j.rv, v)), 0, 255);
    rgb[1] = clampf (__fsub_rn (__fsub_rn (y, __fmul_rn (j.gu, u)), __fmul_rn (j.gv, v)), 0, 255);
    rgb[2] = clampf (__fadd_rn (y, __fmul_rn (j.bu, u)), 0, 255);
  }
  size_t plane = (size_t) j.net_w * j.net_h, at = (size_t) oy * j.net_w + ox;
  for (int c = 0; c < j.channels; c++) {
    float x;
    if (j.channels == 1) {
      x = pad ? j.pad_value
              : __fadd_rn (__fadd_rn (__fmul_rn (0.299f, rgb[0]), __fmul_rn (0.587f, rgb[1])), __fmul_rn (0.114f, rgb[2]));
    } else
      x = rgb[j.bgr ? 2 - c : c];
    float o = __fmul_rn (j.scale[c], __fsub_rn (x, j.offset[c]));
    if (j.half)
      ((__half *) j.dst)[c * plane + at] = __float2half (o);
    else
      ((float *) j.dst)[c * plane + at] = o;
  }
}

} // namespace

extern "C" int
ova_cuda_preprocess_nv12_launch (const OvaCudaPreprocJob *job, void *stream)
{
  dim3 b (32, 8), g ((job->net_w + 31) / 32, (job->net_h + 7) / 8);
  k_preprocess_nv12<<<g, b, 0, (cudaStream_t) stream>>> (*job);
  return cudaGetLastError ();
}
