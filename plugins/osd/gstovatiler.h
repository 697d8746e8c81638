/* ova — ovatiler: composes the frames of a batch into one tiled frame. SPDX-License-Identifier: MIT */
#ifndef GST_OVA_TILER_H
#define GST_OVA_TILER_H

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gst/video/gstvideofilter.h>
#include <ova/draw.h>

G_BEGIN_DECLS

#define GST_TYPE_OVA_TILER (gst_ova_tiler_get_type ())
G_DECLARE_FINAL_TYPE (GstOvaTiler, gst_ova_tiler, GST, OVA_TILER, GstVideoFilter)

#define OVA_TILER_MAX_DIM 64
#define OVA_TILER_MAX_TILES (OVA_TILER_MAX_DIM * OVA_TILER_MAX_DIM)

typedef struct _OvaTileJob OvaTileJob;

struct _GstOvaTiler {
  GstVideoFilter parent;

  /* properties (object lock) */
  guint rows, columns;
  guint width, height;
  gint show_source;
  guint n_threads;

  /* streaming thread */
  GstVideoInfo in_info, out_info;
  gboolean have_info;
  gboolean batch_input;     /* video/x-ova-batch in, else plain video */
  GstVideoFormat preferred_format; /* output format when a batch leaves the choice */
  gboolean renegotiated;
  GstBuffer *canvas;        /* the last composed picture, out_info layout: tiles of
                            * sources missing from a partial batch keep their last image */
  guint layout_rows, layout_cols;
  gint layout_show;
  OvaScaler **scalers;      /* OVA_TILER_MAX_TILES, created on use */
  gpointer workers;          /* OvaWorkers (workers.h) */
  OvaTileJob *jobs;         /* OVA_TILER_MAX_TILES of them */
  gint *tile_job;           /* per tile, its job in this batch */
  gboolean warned_format, warned_cuda;
  /* batches in CUDA memory (builds with the CUDA drawer): output in CUDA
   * memory, scaled on the GPU into a canvas in device memory */
  gboolean cuda;            /* negotiated memory:CUDAMemory */
  gpointer cuda_ctx;        /* GstCudaContext of the frames, canvas and pool */
  gpointer cuda_stream;     /* CUstream */
  GstBufferPool *cuda_pool; /* output buffers */
  GstMemory *cuda_canvas;   /* the canvas in device memory (GstCudaMemory) */
  gboolean cuda_canvas_clear; /* cleared for the current layout */
  gpointer *cuda_scalers;   /* OvaCudaScaler per tile (OVA_TILER_MAX_TILES) */
  gboolean warned_ctx;
};

G_END_DECLS

#endif
