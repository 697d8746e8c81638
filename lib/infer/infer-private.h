/* ova — internals of lib/infer shared with the ovainfer element.
 * SPDX-License-Identifier: MIT */
#ifndef OVA_INFER_PRIVATE_H
#define OVA_INFER_PRIVATE_H

#include <ova/infer.h>
#include <ova/engine.h>

G_BEGIN_DECLS

typedef struct _OvaCustomParser OvaCustomParser;
OvaCustomParser *ova_custom_parser_open (const gchar *lib_path, const gchar *func_name, GError **error);
gboolean ova_custom_parser_run (OvaCustomParser *p, const OvaInferLayer *layers, guint n,
                                const OvaInferNetworkInfo *net, const OvaInferParseParams *params,
                                OvaInferObjectList *out);
void ova_custom_parser_free (OvaCustomParser *p);

/* A model ready to run on batches of images or crops: engine, input
 * staging, outputs copied out per image, parser. Used by one thread at a time. */
typedef struct _OvaInferContext OvaInferContext;

typedef struct {
  const gchar *backend;   /* "cpu" (default) */
  gint device_id;
  gint threads;           /* 0: all cores */
} OvaInferContextOptions;

OvaInferContext *ova_infer_context_new (const OvaInferConfig *cfg, const OvaInferContextOptions *opts,
                                        GError **error);
void ova_infer_context_free (OvaInferContext *ctx);
/** Images per ova_infer_context_run (the config's batch-size). */
guint ova_infer_context_batch_size (const OvaInferContext *ctx);
void ova_infer_context_net_info (const OvaInferContext *ctx, OvaInferNetworkInfo *net);
/** The staging buffer of image @slot (channels x height x width floats). */
gfloat *ova_infer_context_input (OvaInferContext *ctx, guint slot);
gboolean ova_infer_context_preprocess (OvaInferContext *ctx, guint slot, const OvaImage *img,
                                       const OvaRect *crop, OvaLetterbox *lb);
/** Runs the engine on slots 0..n-1 (in chunks the engine accepts). */
gboolean ova_infer_context_run (OvaInferContext *ctx, guint n, GError **error);
/* Pipelining: another thread preprocesses into its own buffers
 * (ova_infer_context_preprocess_into, thread-safe) while this context runs;
 * run_input then runs n images from such a buffer. */
gsize ova_infer_context_input_floats (const OvaInferContext *ctx);
gboolean ova_infer_context_preprocess_into (const OvaInferContext *ctx, gfloat *dst, const OvaImage *img,
                                            const OvaRect *crop, OvaLetterbox *lb);
gboolean ova_infer_context_run_input (OvaInferContext *ctx, const gfloat *input, guint n, GError **error);
guint ova_infer_context_n_outputs (const OvaInferContext *ctx);
/** Output @i of image @slot of the last run (batch dimension 1). */
void ova_infer_context_output (const OvaInferContext *ctx, guint slot, guint i, OvaInferLayer *layer);
/**
 * ova_infer_context_detect:
 * Decodes image @slot's outputs, clusters, maps the boxes through @lb to
 * the pixels of the image that was preprocessed, multiplies them by
 * @to_src_x/@to_src_y (image -> source pixels, when the muxer scaled the
 * frame; else 1), clips them to @src_w x @src_h and applies the per-class
 * size/ROI filters. @out receives source-pixel boxes.
 */
gboolean ova_infer_context_detect (OvaInferContext *ctx, guint slot, const OvaLetterbox *lb,
                                   gfloat to_src_x, gfloat to_src_y, gfloat src_w, gfloat src_h,
                                   OvaInferObjectList *out, GError **error);

/* ---- The GPU path (frames in CUDA memory; libova built with the CUDA backend).
 * Every function below exists in every build; without CUDA they fail with
 * OVA_INFER_ERROR_MODEL ("built without CUDA").
 *
 * Threads: ova_infer_context_cuda_submit (the engine, the device input, one
 * CUDA stream) is called by one thread; ova_infer_cuda_job_wait and
 * ova_infer_context_use_job by another (they touch only the job and the
 * context's output views, never the engine). */
typedef struct _OvaInferCudaJob OvaInferCudaJob;

/** TRUE when the context runs on the engine's cuda backend. */
gboolean ova_infer_context_is_cuda (const OvaInferContext *ctx);
/** Makes @device's primary context current on this thread (cudaSetDevice +
 * runtime initialisation): the context the engine's cuda backend uses. */
gboolean ova_infer_cuda_init_device (gint device, GError **error);
OvaInferCudaJob *ova_infer_cuda_job_new (void);
void ova_infer_cuda_job_free (OvaInferCudaJob *job);
/**
 * ova_infer_context_cuda_submit:
 * @frames: @n NV12 frames in device memory (an array of OvaCudaNv12Frame,
 * include/ova/cuda.h).
 * Enqueues, on the context's stream: ova_cuda_preprocess_nv12 of the frames
 * into the device input, the engine (in chunks of the batch it accepts) and
 * the copy of the selected outputs into @job's pinned host buffers; records
 * the job's completion. @lbs (n entries) receives each frame's letterbox.
 * Returns at once (the GPU works on); the frames must stay valid until
 * ova_infer_cuda_job_wait returns.
 */
gboolean ova_infer_context_cuda_submit (OvaInferContext *ctx, OvaInferCudaJob *job, const void *frames,
                                        guint n, OvaLetterbox *lbs, GError **error);
/** Blocks until everything submitted with @job is done. */
gboolean ova_infer_cuda_job_wait (OvaInferCudaJob *job, GError **error);
/** Makes the outputs of images @first.. of @job those that
 * ova_infer_context_output / _detect read (slot 0 = image @first). */
void ova_infer_context_use_job (OvaInferContext *ctx, OvaInferCudaJob *job, guint first);

/** Maps a network-pixel box back to source pixels. */
void ova_letterbox_unmap (const OvaLetterbox *lb, OvaInferObject *o);

G_END_DECLS

#endif
