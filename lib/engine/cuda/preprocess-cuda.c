/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * ova_cuda_preprocess_nv12 (include/ova/cuda.h): the letterbox and colour
 * coefficients computed as lib/infer/preprocess.c does, one kernel per frame.
 */
#include <ova/cuda.h>
#include <ova/engine.h>

#include "preprocess-kernel.h"

#include <cuda_runtime.h>

gboolean
ova_cuda_preprocess_nv12 (const OvaCudaNv12Frame *frames, gint n, const OvaPreprocParams *p, void *dst,
                          gboolean fp16, void *stream, OvaLetterbox *lb_out, GError **error)
{
  if (!frames || n < 0 || !p || !dst || p->net_width <= 0 || p->net_height <= 0) {
    g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_ARGUMENT, "ova_cuda_preprocess_nv12: bad arguments");
    return FALSE;
  }
  gint C = p->color == OVA_COLOR_GRAY ? 1 : 3;
  gsize per = (gsize) C * p->net_width * p->net_height * (fp16 ? 2 : 4);
  for (gint i = 0; i < n; i++) {
    const OvaCudaNv12Frame *f = &frames[i];
    if (!f->y || !f->uv || f->width <= 0 || f->height <= 0) {
      g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_ARGUMENT, "ova_cuda_preprocess_nv12: frame %d: bad frame", i);
      return FALSE;
    }
    /* crop clamped as clamp_crop () does */
    OvaRect crop = { 0, 0, f->width, f->height };
    if (f->crop.width > 0 && f->crop.height > 0) {
      gfloat l = CLAMP (f->crop.left, 0, f->width - 1), t = CLAMP (f->crop.top, 0, f->height - 1);
      gfloat r = CLAMP (f->crop.left + f->crop.width, l + 1, f->width);
      gfloat b = CLAMP (f->crop.top + f->crop.height, t + 1, f->height);
      crop = (OvaRect) { l, t, r - l, b - t };
    }
    OvaLetterbox lb;
    ova_preproc_letterbox (p, &crop, &lb);
    OvaCudaPreprocJob j = { 0 };
    j.y = f->y;
    j.uv = f->uv;
    j.y_stride = f->y_stride;
    j.uv_stride = f->uv_stride;
    j.width = f->width;
    j.height = f->height;
    j.crop_left = crop.left;
    j.crop_top = crop.top;
    j.scale_x = lb.scale_x;
    j.scale_y = lb.scale_y;
    j.pad_x = (gint) lb.pad_x;
    j.pad_y = (gint) lb.pad_y;
    j.out_w = lb.out_w;
    j.out_h = lb.out_h;
    j.net_w = p->net_width;
    j.net_h = p->net_height;
    j.channels = C;
    j.bgr = p->color == OVA_COLOR_BGR;
    j.half = fp16;
    gdouble kr = 0.299, kb = 0.114;
    if (f->matrix == GST_VIDEO_COLOR_MATRIX_BT709) {
      kr = 0.2126;
      kb = 0.0722;
    }
    gdouble kg = 1.0 - kr - kb;
    if (f->range == GST_VIDEO_COLOR_RANGE_0_255) {
      j.yoff = 0;
      j.yscale = 1;
      j.cscale = 1;
    } else {
      j.yoff = 16;
      j.yscale = 255.0 / 219.0;
      j.cscale = 255.0 / 224.0;
    }
    j.rv = 2 * (1 - kr);
    j.bu = 2 * (1 - kb);
    j.gu = 2 * kb * (1 - kb) / kg;
    j.gv = 2 * kr * (1 - kr) / kg;
    for (int c = 0; c < 3; c++) {
      j.scale[c] = p->scale[c];
      j.offset[c] = p->offset[c];
    }
    j.pad_value = p->pad_value;
    j.dst = (char *) dst + per * i;
    int e = ova_cuda_preprocess_nv12_launch (&j, stream);
    if (e) {
      g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_BACKEND, "ova_cuda_preprocess_nv12: %s",
                   cudaGetErrorString ((cudaError_t) e));
      return FALSE;
    }
    if (lb_out)
      lb_out[i] = lb;
  }
  return TRUE;
}
