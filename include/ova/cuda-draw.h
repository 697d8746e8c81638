/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * The tiler's work on NV12 frames in CUDA device memory (libova built with
 * CUDA; ova_draw_cuda_available() says so): scaling with the filters of an
 * OvaScaler, so the bytes equal ova_scaler_run's, and solid fills. The CUDA
 * drawer itself is OvaDrawList (include/ova/draw.h).
 */
#ifndef OVA_CUDA_DRAW_H
#define OVA_CUDA_DRAW_H

#include <ova/draw.h>

G_BEGIN_DECLS

/** An OvaScaler's filter tables on the device. */
typedef struct _OvaCudaScaler OvaCudaScaler;

/**
 * ova_cuda_scaler_new:
 * Uploads the filters of @scaler (NV12 to NV12) in the CUDA context current
 * on this thread. Returns: (nullable): NULL with @error on a CUDA failure,
 * another format, or a build without CUDA.
 */
OvaCudaScaler *ova_cuda_scaler_new (const OvaScaler *scaler, GError **error);
/** Frees the device tables (in the context they were made in). */
void ova_cuda_scaler_free (OvaCudaScaler *scaler);
/** TRUE when @cs was made from a scaler of these sizes. */
gboolean ova_cuda_scaler_matches (const OvaCudaScaler *cs, gint src_w, gint src_h, gint dst_w, gint dst_h);

/** One NV12 picture scaled into a rectangle of another (device pointers). */
typedef struct {
  const OvaCudaScaler *scaler;
  const void *src_y, *src_uv;
  gint src_y_pitch, src_uv_pitch;
  void *dst_y, *dst_uv;          /* the destination rectangle's first luma and chroma bytes */
  gint dst_y_pitch, dst_uv_pitch;
} OvaCudaScaleJob;

/**
 * ova_cuda_scale_nv12:
 * Enqueues the @n jobs on @stream (a cudaStream_t; NULL: the legacy default
 * stream), one kernel per plane and job. Destinations must not overlap.
 * Returns: FALSE with @error on a CUDA failure.
 */
gboolean ova_cuda_scale_nv12 (const OvaCudaScaleJob *jobs, guint n, gpointer stream, GError **error);

/**
 * ova_cuda_fill_nv12:
 * Sets the @width x @height NV12 picture at @y / @uv (device pointers) to
 * @paint's Y, U, V (ova_surface_clear on the device), on @stream.
 */
gboolean ova_cuda_fill_nv12 (void *y, gint y_pitch, void *uv, gint uv_pitch, gint width, gint height,
    const OvaPaint *paint, gpointer stream, GError **error);

G_END_DECLS

#endif /* OVA_CUDA_DRAW_H */
