/* ova — ovainfer: nvinfer's role on ova's engine.
 * SPDX-License-Identifier: MIT
 */
/**
 * SECTION:element-ovainfer
 * @title: ovainfer
 *
 * Runs an ONNX network with ova's engine on the batches ovamux produces,
 * configured by an nvinfer-compatible file (config-file-path). In primary
 * mode (process-mode=1) every frame of the batch goes through the network
 * (detector: object meta; classifier: frame classifier meta; segmentation:
 * OVA_USER_META_MASK; raw/embedding: frame user meta); in secondary mode (process-mode=2) the objects of the
 * chosen detector and classes are cropped, batched up to batch-size and get
 * classifier meta, embeddings (OVA_USER_META_EMBEDDING), raw tensors
 * (OVA_USER_META_TENSOR) or child objects. Secondary results are cached per
 * tracker id and re-used until the object is re-inferred
 * (secondary-reinfer-interval frames, or its box grows by more than 20 %).
 *
 * Inference runs on a worker thread: batches are queued (at most
 * max-in-flight, then upstream blocks), processed and pushed in order.
 * interval=N skips inference on N batches after each inferred one
 * (OvaFrameMeta.infer_done tells which frames a detector ran on).
 *
 * With backend=cuda (or auto) and NV12 batches in CUDA memory both modes
 * stay on the GPU: frames (primary) or object crops (secondary) are
 * preprocessed there, and the built-in YOLO parsers decode on the GPU so
 * that only candidate boxes come back (OVA_INFER_GPU_DECODE=0: the whole
 * output, decoded on the host).
 *
 * Element properties override the file's keys.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=.cache/assets/vtest.avi ! avidemux ! avdec_msmpeg4 ! \
 *   videoconvert ! video/x-raw,format=NV12 ! mux.sink_0 \
 *   ovamux name=mux batch-size=1 width=768 height=576 ! \
 *   ovainfer config-file-path=configs/yolox_nano.txt ! fakesink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "gstovainfer.h"
#include <ova/meta.h>
#include <ova/infer.h>
#include "infer/infer-private.h"
#include <gst/video/video.h>
#include <string.h>
#ifdef OVA_INFER_CUDA
#include <ova/cuda.h>
#include <gst/cuda/gstcudaloader.h>
#include <gst/cuda/gstcudacontext.h>
#include <gst/cuda/gstcudamemory.h>
#include <gst/cuda/gstcudautils.h>
#include <gmodule.h>
#endif

GST_DEBUG_CATEGORY_STATIC (gst_ova_infer_debug);
#define GST_CAT_DEFAULT gst_ova_infer_debug

#define DEFAULT_MAX_IN_FLIGHT 2
#define REINFER_GROWTH 1.2f /* box area growth that forces a secondary re-inference */

enum {
  PROP_0,
  PROP_CONFIG_FILE_PATH,
  PROP_BATCH_SIZE,
  PROP_INTERVAL,
  PROP_UNIQUE_ID,
  PROP_PROCESS_MODE,
  PROP_INFER_ON_GIE_ID,
  PROP_INFER_ON_CLASS_IDS,
  PROP_GPU_ID,
  PROP_MODEL_ENGINE_FILE,
  PROP_OUTPUT_TENSOR_META,
  PROP_THREADS,
  PROP_BACKEND,
  PROP_MAX_IN_FLIGHT,
};

typedef enum {
  ITEM_BUFFER,
  ITEM_EVENT,
} ItemType;

/* Network inputs of one batch, preprocessed on the streaming thread while
 * the worker runs the previous batch (primary mode). */
typedef struct {
  gfloat *data;
  gsize floats;        /* capacity */
  OvaLetterbox *lbs;
  guint n_lbs;         /* capacity */
  /* the GPU path: the batch's work on the GPU and the CUDA memories it reads
   * (mapped until the job is done) */
  OvaInferCudaJob *job;
  gboolean on_gpu;     /* this use: frames preprocessed and inferred on the GPU */
  gboolean job_pending;
  GstMemory **mems;
  GstMapInfo *maps;
  guint n_maps, maps_cap;
} Staging;

typedef struct {
  ItemType type;
  gpointer obj;        /* GstBuffer* or GstEvent* */
  gboolean skip;       /* buffer: interval says no inference */
  Staging *staging;    /* buffer, primary mode: the preprocessed frames */
} Item;

/* Cached secondary result of one tracked object. */
typedef struct {
  guint64 frame_num;   /* when inferred */
  guint64 last_seen;
  gfloat area;
  guint n_classes;
  OvaClassResult *classes;
  guint dim;
  gfloat *embedding;
} CacheEntry;

/* An object (or frame) waiting in a staging slot for the next engine run. */
typedef struct {
  OvaFrameMeta *frame;
  OvaObjectMeta *obj;  /* NULL in primary mode */
  OvaLetterbox lb;
} Slot;

struct _GstOvaInfer {
  GstElement parent;
  GstPad *sinkpad, *srcpad;

  /* properties (protected by the object lock); -1/0/NULL: use the file */
  gchar *config_file_path;
  gint prop_batch_size;
  gint prop_interval;
  gint prop_unique_id;
  gint prop_process_mode;
  gint prop_infer_on_gie_id;
  gchar *prop_class_ids;
  guint gpu_id;
  gchar *prop_model_engine_file;
  gint prop_output_tensor_meta;
  gint threads;
  gchar *backend;
  guint max_in_flight;
  /* the GPU path */
  gboolean cuda_input;    /* negotiated caps: memory:CUDAMemory */
  gboolean force_cuda;    /* backend=auto and CUDA frames: the model runs on cuda */
  gpointer cuda_ctx;      /* GstCudaContext wrapping the CUDA runtime's (engine's)
                             context of gpu-id, shared with the decoders */
#ifdef OVA_INFER_CUDA
  /* secondary mode on CUDA frames (worker thread): object crops, the frames
   * of the batch mapped while their crops are in flight */
  OvaInferCudaJob *sec_job;
  OvaCudaNv12Frame *sec_crops;  /* n_slots: one per slot, the object's crop */
  OvaLetterbox *sec_lbs;        /* n_slots */
  OvaCudaNv12Frame *sec_frames; /* per frame of the batch, once mapped */
  GstMemory **sec_mems;
  GstMapInfo *sec_maps;
  gboolean *sec_mapped;
  guint sec_frames_cap, sec_slots_cap;
#endif
  gboolean dirty;      /* properties changed since the model was loaded */

  /* model (worker thread only, after start) */
  OvaInferConfig *cfg;
  OvaInferContext *ctx;
  Slot *slots;
  guint n_slots;
  OvaInferObjectList dets;
  OvaClassResult *cls_buf;
  guint cls_cap;
  GHashTable *cache;   /* "source:tracker" key (guint64) -> CacheEntry* */
  guint64 batches_seen;
  guint64 n_inferred, n_cached;  /* images run / secondary results re-used */
  const gchar *component;

  /* queue between the streaming thread and the worker */
  GMutex lock;
  GQueue free_staging; /* Staging* ready for re-use */
  GCond cond;
  GQueue queue;
  guint n_buffers;     /* buffers in the queue */
  GstFlowReturn srcresult;
  gboolean eos;
  guint64 interval_counter;
};

G_DEFINE_TYPE (GstOvaInfer, gst_ova_infer, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE (ovainfer, "ovainfer", GST_RANK_NONE, GST_TYPE_OVA_INFER);

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (OVA_BATCH_CAPS "; video/x-raw(ANY)"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (OVA_BATCH_CAPS "; video/x-raw(ANY)"));

#define GST_TYPE_OVA_INFER_PROCESS_MODE (gst_ova_infer_process_mode_get_type ())
static GType
gst_ova_infer_process_mode_get_type (void)
{
  static GType t = 0;
  static const GEnumValue values[] = {
    { 0, "As the config file says", "default" },
    { 1, "Primary: infer on whole frames", "primary" },
    { 2, "Secondary: infer on objects", "secondary" },
    { 0, NULL, NULL },
  };
  if (g_once_init_enter (&t))
    g_once_init_leave (&t, g_enum_register_static ("GstOvaInferProcessMode", values));
  return t;
}

static void
cache_entry_free (gpointer p)
{
  CacheEntry *e = p;
  g_free (e->classes);
  g_free (e->embedding);
  g_free (e);
}

/* Waits for the batch's GPU work and unmaps its CUDA memories. */
static void
staging_release_frames (Staging *st)
{
  if (st->job_pending) {
    ova_infer_cuda_job_wait (st->job, NULL);
    st->job_pending = FALSE;
  }
  for (guint i = 0; i < st->n_maps; i++)
    gst_memory_unmap (st->mems[i], &st->maps[i]);
  st->n_maps = 0;
}

static void
staging_free (Staging *st)
{
  if (!st)
    return;
  staging_release_frames (st);
  ova_infer_cuda_job_free (st->job);
  g_free (st->mems);
  g_free (st->maps);
  g_free (st->data);
  g_free (st->lbs);
  g_free (st);
}

static void
item_free (Item *it)
{
  /* the staging maps memories of the buffer (and may wait for GPU work
   * reading them): unmapped before the buffer goes */
  staging_free (it->staging);
  if (it->obj)
    gst_mini_object_unref (it->obj);
  g_free (it);
}

/* ------------------------------------------------------------ model setup */

static gboolean
parse_class_ids (const gchar *s, gint **ids, guint *n)
{
  gchar **parts = g_strsplit_set (s, ";:,", -1);
  GArray *a = g_array_new (FALSE, FALSE, sizeof (gint));
  gboolean ok = TRUE;
  for (gchar **p = parts; *p; p++) {
    g_strstrip (*p);
    if (!**p)
      continue;
    gchar *end;
    gint64 v = g_ascii_strtoll (*p, &end, 10);
    if (*end || v < -1) {
      ok = FALSE;
      break;
    }
    if (v >= 0) {
      gint iv = v;
      g_array_append_val (a, iv);
    }
  }
  g_strfreev (parts);
  *n = a->len;
  *ids = (gint *) g_array_free (a, FALSE);
  if (!*n) {
    g_free (*ids);
    *ids = NULL;
  }
  return ok;
}

static void secondary_cuda_free (GstOvaInfer *self);

static void
model_free (GstOvaInfer *self)
{
  secondary_cuda_free (self);
  ova_infer_context_free (self->ctx);
  self->ctx = NULL;
  ova_infer_config_free (self->cfg);
  self->cfg = NULL;
  g_free (self->slots);
  self->slots = NULL;
  g_free (self->cls_buf);
  self->cls_buf = NULL;
  ova_infer_object_list_clear (&self->dets);
  g_hash_table_remove_all (self->cache);
}

static gboolean
model_load (GstOvaInfer *self)
{
  GError *err = NULL;
  OvaInferConfig *cfg = ova_infer_config_new ();

  GST_OBJECT_LOCK (self);
  gchar *path = g_strdup (self->config_file_path);
  GST_OBJECT_UNLOCK (self);
  if (!path) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND, ("No config file"),
                       ("set config-file-path to an nvinfer-style config file"));
    ova_infer_config_free (cfg);
    return FALSE;
  }
  gboolean ok = ova_infer_config_load (cfg, path, NULL, &err);
  g_free (path);
  if (ok) {
    /* element properties override the file */
    GST_OBJECT_LOCK (self);
    if (self->prop_batch_size > 0)
      cfg->batch_size = self->prop_batch_size;
    if (self->prop_interval >= 0)
      cfg->interval = self->prop_interval;
    if (self->prop_unique_id > 0)
      cfg->gie_unique_id = self->prop_unique_id;
    if (self->prop_process_mode > 0)
      cfg->process_mode = self->prop_process_mode;
    if (self->prop_infer_on_gie_id >= 0)
      cfg->operate_on_gie_id = self->prop_infer_on_gie_id;
    if (self->prop_class_ids) {
      g_free (cfg->operate_on_class_ids);
      parse_class_ids (self->prop_class_ids, &cfg->operate_on_class_ids, &cfg->n_operate_on_class_ids);
    }
    if (self->prop_model_engine_file) {
      g_free (cfg->model_engine_file);
      cfg->model_engine_file = g_strdup (self->prop_model_engine_file);
    }
    if (self->prop_output_tensor_meta >= 0)
      cfg->output_tensor_meta = self->prop_output_tensor_meta;
    OvaInferContextOptions opts = { self->force_cuda ? "cuda" : self->backend, self->gpu_id, self->threads };
    if (!g_strcmp0 (opts.backend, "auto"))
      opts.backend = "cpu";
    self->dirty = FALSE;
    GST_OBJECT_UNLOCK (self);
    if (ok) {
      self->ctx = ova_infer_context_new (cfg, &opts, &err);
      ok = self->ctx != NULL;
    }
  }
  if (!ok) {
    GST_ELEMENT_ERROR (self, LIBRARY, SETTINGS, ("Could not set up ovainfer: %s", err->message), (NULL));
    g_error_free (err);
    ova_infer_config_free (cfg);
    self->ctx = NULL;
    return FALSE;
  }
  self->cfg = cfg;
  self->n_slots = ova_infer_context_batch_size (self->ctx);
  self->slots = g_new0 (Slot, self->n_slots);
  self->batches_seen = 0;
  self->interval_counter = 0;
  OvaInferNetworkInfo net;
  ova_infer_context_net_info (self->ctx, &net);
  GST_INFO_OBJECT (self, "model %s: input %ux%ux%u, batch %u, %s mode, network-type %d, %s backend", cfg->onnx_file,
                   net.channels, net.height, net.width, self->n_slots,
                   cfg->process_mode == OVA_PROCESS_FRAMES ? "primary" : "secondary", cfg->network_type,
                   ova_infer_context_is_cuda (self->ctx) ? "cuda" : "cpu");
  return TRUE;
}

/* --------------------------------------------------------- attaching meta */

static void
attach_classes (GstOvaInfer *self, OvaBatchMeta *bm, OvaFrameMeta *frame, OvaObjectMeta *obj,
                const OvaClassResult *r, guint n)
{
  if (n == 0)
    return;
  OvaClassifierMeta *cm = ova_batch_meta_acquire_classifier (bm);
  cm->component_id = self->cfg->gie_unique_id;
  for (guint i = 0; i < n; i++) {
    OvaLabelInfo *li = ova_batch_meta_acquire_label (bm);
    li->class_id = r[i].class_id;
    li->probability = r[i].probability;
    if (self->cfg->labels && (guint) r[i].class_id < self->cfg->n_labels)
      g_strlcpy (li->label, self->cfg->labels[r[i].class_id], sizeof (li->label));
    ova_classifier_meta_add_label (cm, li);
  }
  if (obj)
    ova_object_meta_add_classifier (obj, cm);
  else
    ova_frame_meta_add_classifier (frame, cm);
}

static void
attach_embedding (GstOvaInfer *self, OvaBatchMeta *bm, OvaFrameMeta *frame, OvaObjectMeta *obj,
                  const gfloat *v, guint dim)
{
  OvaUserMeta *um = ova_batch_meta_acquire_user (bm);
  ova_user_meta_set_embedding (um, v, dim);
  um->component_id = self->cfg->gie_unique_id;
  if (obj)
    ova_object_meta_add_user (obj, um);
  else
    ova_frame_meta_add_user (frame, um);
}

static void
attach_tensors (GstOvaInfer *self, OvaBatchMeta *bm, guint slot, OvaFrameMeta *frame, OvaObjectMeta *obj)
{
  for (guint i = 0; i < ova_infer_context_n_outputs (self->ctx); i++) {
    OvaInferLayer l;
    ova_infer_context_output (self->ctx, slot, i, &l);
    OvaTensorMeta tm = { 0 };
    g_strlcpy (tm.name, l.name, sizeof (tm.name));
    tm.rank = l.rank;
    tm.dtype = l.dtype;
    gsize size = ova_dtype_size (l.dtype);
    for (int d = 0; d < l.rank && d < 8; d++) {
      tm.dims[d] = l.dims[d];
      size *= l.dims[d];
    }
    tm.size = size;
    OvaUserMeta *um = ova_batch_meta_acquire_user (bm);
    ova_user_meta_set_tensor (um, &tm, l.data);
    um->component_id = self->cfg->gie_unique_id;
    if (obj)
      ova_object_meta_add_user (obj, um);
    else
      ova_frame_meta_add_user (frame, um);
  }
}

/* The first float output of @slot as a vector. */
static const gfloat *
first_vector (GstOvaInfer *self, guint slot, guint *n)
{
  OvaInferLayer l;
  ova_infer_context_output (self->ctx, slot, 0, &l);
  if (l.dtype != OVA_DTYPE_FLOAT32 || !l.data)
    return NULL;
  gsize cnt = 1;
  for (int d = 1; d < l.rank; d++)
    cnt *= l.dims[d];
  *n = cnt;
  return l.data;
}

static guint64
cache_key (OvaFrameMeta *f, OvaObjectMeta *o)
{
  return ((guint64) f->source_id << 48) ^ (guint64) o->tracker_id;
}

static CacheEntry *
cache_lookup (GstOvaInfer *self, OvaFrameMeta *f, OvaObjectMeta *o)
{
  if (o->tracker_id < 0)
    return NULL;
  guint64 k = cache_key (f, o);
  return g_hash_table_lookup (self->cache, &k);
}

static CacheEntry *
cache_store (GstOvaInfer *self, OvaFrameMeta *f, OvaObjectMeta *o)
{
  if (o->tracker_id < 0)
    return NULL;
  guint64 *k = g_new (guint64, 1);
  *k = cache_key (f, o);
  CacheEntry *e = g_new0 (CacheEntry, 1);
  e->frame_num = e->last_seen = f->frame_num;
  e->area = o->rect.width * o->rect.height;
  g_hash_table_replace (self->cache, k, e);
  return e;
}

static void
attach_cached (GstOvaInfer *self, OvaBatchMeta *bm, OvaFrameMeta *f, OvaObjectMeta *o, CacheEntry *e)
{
  if (e->classes)
    attach_classes (self, bm, f, o, e->classes, e->n_classes);
  if (e->embedding)
    attach_embedding (self, bm, f, o, e->embedding, e->dim);
}

/* Pixels of the frame as batched -> source pixels (object boxes are always in
 * source pixels, also when the muxer scaled the frame). */
static void
frame_scale (const OvaFrameMeta *f, gfloat *sx, gfloat *sy)
{
  gint w = GST_VIDEO_INFO_WIDTH (&f->video_info), h = GST_VIDEO_INFO_HEIGHT (&f->video_info);
  *sx = f->source_width && w ? (gfloat) f->source_width / w : 1.0f;
  *sy = f->source_height && h ? (gfloat) f->source_height / h : 1.0f;
}

/* Turns the outputs of slots 0..n-1 into meta. */
static gboolean
attach_results (GstOvaInfer *self, OvaBatchMeta *bm, guint n, GError **error)
{
  const OvaInferConfig *cfg = self->cfg;
  ova_batch_meta_lock (bm);
  for (guint s = 0; s < n; s++) {
    Slot *sl = &self->slots[s];
    OvaFrameMeta *f = sl->frame;
    if (cfg->output_tensor_meta)
      attach_tensors (self, bm, s, f, sl->obj);
    CacheEntry *ce = sl->obj ? cache_store (self, f, sl->obj) : NULL;
    if (cfg->network_type == OVA_NETWORK_DETECTOR) {
      gfloat sx, sy, fw, fh;
      frame_scale (f, &sx, &sy);
      fw = GST_VIDEO_INFO_WIDTH (&f->video_info) * sx;
      fh = GST_VIDEO_INFO_HEIGHT (&f->video_info) * sy;
      if (!ova_infer_context_detect (self->ctx, s, &sl->lb, sx, sy, fw, fh, &self->dets, error)) {
        ova_batch_meta_unlock (bm);
        return FALSE;
      }
      for (size_t i = 0; i < self->dets.n; i++) {
        const OvaInferObject *d = &self->dets.objects[i];
        OvaObjectMeta *o = ova_batch_meta_acquire_object (bm);
        o->class_id = d->class_id;
        if (cfg->labels && (guint) d->class_id < cfg->n_labels)
          ova_object_meta_set_label (o, cfg->labels[d->class_id]);
        o->confidence = d->confidence;
        o->rect = (OvaRect) { d->left, d->top, d->width, d->height };
        o->detector_rect = o->rect;
        o->component_id = cfg->gie_unique_id;
        o->tracker_id = OVA_UNTRACKED;
        o->tracker_confidence = -1;
        o->parent = sl->obj;
        ova_frame_meta_add_object (f, o);
      }
    } else if (cfg->network_type == OVA_NETWORK_SEGMENTATION) {
      OvaInferLayer l;
      ova_infer_context_output (self->ctx, s, 0, &l);
      OvaMaskMeta *mask = ova_parse_segmentation (&l);
      if (!mask) {
        g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL,
                     "%s: network-type=2: output '%s' is not 1 x C x H x W float", cfg->path, l.name);
        ova_batch_meta_unlock (bm);
        return FALSE;
      }
      OvaUserMeta *um = ova_batch_meta_acquire_user (bm);
      ova_user_meta_take_mask (um, mask);
      um->component_id = cfg->gie_unique_id;
      if (sl->obj)
        ova_object_meta_add_user (sl->obj, um);
      else
        ova_frame_meta_add_user (f, um);
    } else if (cfg->output_embedding) {
      guint dim = 0;
      const gfloat *v = first_vector (self, s, &dim);
      if (v && dim) {
        gfloat *norm = g_new (gfloat, dim);
        ova_l2_normalize (v, dim, norm);
        attach_embedding (self, bm, f, sl->obj, norm, dim);
        if (ce) {
          ce->embedding = norm;
          ce->dim = dim;
        } else {
          g_free (norm);
        }
      }
    } else if (cfg->network_type == OVA_NETWORK_CLASSIFIER) {
      guint dim = 0;
      const gfloat *v = first_vector (self, s, &dim);
      if (v && dim) {
        if (self->cls_cap < dim) {
          self->cls_buf = g_renew (OvaClassResult, self->cls_buf, dim);
          self->cls_cap = dim;
        }
        guint k = ova_parse_classifier (v, dim, cfg->classifier_activation, cfg->classifier_multi_label,
                                        cfg->classifier_threshold, self->cls_buf);
        attach_classes (self, bm, f, sl->obj, self->cls_buf, k);
        if (ce) {
          ce->classes = g_memdup2 (self->cls_buf, sizeof (OvaClassResult) * MAX (k, 1));
          ce->n_classes = k;
        }
      }
    }
  }
  ova_batch_meta_unlock (bm);
  return TRUE;
}

static gboolean
run_slots (GstOvaInfer *self, OvaBatchMeta *bm, guint n, GError **error)
{
  if (n == 0)
    return TRUE;
  if (!ova_infer_context_run (self->ctx, n, error))
    return FALSE;
  self->n_inferred += n;
  return attach_results (self, bm, n, error);
}

static gboolean
frame_image (GstOvaInfer *self, GstBuffer *buf, OvaFrameMeta *f, OvaMappedFrame *m, OvaImage *img,
             GError **error)
{
  if (f->memory_type != OVA_MEMORY_SYSTEM) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL,
                 "source %u: frame in CUDA memory; this ovainfer runs on the CPU and needs system memory "
                 "(add cudadownload before ovamux, or set backend=cuda or backend=auto on a build with CUDA)",
                 f->source_id);
    return FALSE;
  }
  if (!ova_preproc_format_supported (GST_VIDEO_INFO_FORMAT (&f->video_info))) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL,
                 "source %u: pixel format %s is not supported (NV12, I420, RGB, BGR, RGBA, BGRx, GRAY8...)",
                 f->source_id, gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (&f->video_info)));
    return FALSE;
  }
  if (!ova_frame_meta_map (buf, f, m, GST_MAP_READ)) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL,
                 "source %u frame %" G_GUINT64_FORMAT ": could not map its memories %u..%u of the batch",
                 f->source_id, f->frame_num, f->mem_index, f->mem_index + f->n_mems);
    return FALSE;
  }
  ova_image_from_mapped (img, m);
  return TRUE;
}

static gboolean
object_wanted (const OvaInferConfig *cfg, OvaObjectMeta *o)
{
  if (cfg->operate_on_gie_id >= 0 && o->component_id != (guint) cfg->operate_on_gie_id)
    return FALSE;
  if (cfg->n_operate_on_class_ids) {
    gboolean found = FALSE;
    for (guint i = 0; i < cfg->n_operate_on_class_ids && !found; i++)
      found = cfg->operate_on_class_ids[i] == o->class_id;
    if (!found)
      return FALSE;
  }
  if (o->rect.width < cfg->input_object_min_width || o->rect.height < cfg->input_object_min_height)
    return FALSE;
  if ((cfg->input_object_max_width && o->rect.width > cfg->input_object_max_width) ||
      (cfg->input_object_max_height && o->rect.height > cfg->input_object_max_height))
    return FALSE;
  return o->rect.width >= 1 && o->rect.height >= 1;
}

static Staging *
staging_get (GstOvaInfer *self, gsize floats, guint n)
{
  g_mutex_lock (&self->lock);
  Staging *st = g_queue_pop_head (&self->free_staging);
  g_mutex_unlock (&self->lock);
  if (!st)
    st = g_new0 (Staging, 1);
  if (st->floats < floats) {
    g_free (st->data);
    st->data = g_malloc (sizeof (gfloat) * floats);
    st->floats = floats;
  }
  if (st->n_lbs < n) {
    st->lbs = g_renew (OvaLetterbox, st->lbs, n);
    st->n_lbs = n;
  }
  return st;
}

static void
staging_put (GstOvaInfer *self, Staging *st)
{
  staging_release_frames (st);
  g_mutex_lock (&self->lock);
  /* keep what the queue can hold in flight, free the rest */
  if (g_queue_get_length (&self->free_staging) < self->max_in_flight + 1) {
    g_queue_push_tail (&self->free_staging, st);
    st = NULL;
  }
  g_mutex_unlock (&self->lock);
  staging_free (st);
}

/* Streaming thread, primary mode: every frame of the batch into its own
 * network input, while the worker runs the previous batch. */
static Staging *
preprocess_frames (GstOvaInfer *self, GstBuffer *buf, OvaBatchMeta *bm, GError **error)
{
  guint n = ova_batch_meta_get_n_frames (bm);
  gsize per = ova_infer_context_input_floats (self->ctx);
  Staging *st = staging_get (self, per * MAX (n, 1), MAX (n, 1));
  st->on_gpu = FALSE;
  for (guint i = 0; i < n; i++) {
    OvaFrameMeta *f = ova_batch_meta_get_frame (bm, i);
    OvaMappedFrame m;
    OvaImage img;
    if (!frame_image (self, buf, f, &m, &img, error)) {
      staging_put (self, st);
      return NULL;
    }
    gboolean ok = ova_infer_context_preprocess_into (self->ctx, st->data + per * i, &img, NULL, &st->lbs[i]);
    ova_mapped_frame_unmap (&m);
    if (!ok) {
      g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL, "source %u: preprocessing failed", f->source_id);
      staging_put (self, st);
      return NULL;
    }
  }
  return st;
}

/* ------------------------------------------------------------ the GPU path */

#ifdef OVA_INFER_CUDA
/* The GstCudaContext wrapping the CUDA runtime's primary context of gpu-id
 * (the context the engine's cuda backend runs in), announced to the pipeline
 * (have-context, then context queries) so that nvh264dec & co. decode into
 * memory that the engine's kernels can read: one context for the pipeline. */
static gboolean
cuda_context_ensure (GstOvaInfer *self, GError **error)
{
  if (self->cuda_ctx)
    return TRUE;
  if (!gst_cuda_load_library ()) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL, "the CUDA driver library could not be loaded");
    return FALSE;
  }
  if (self->gpu_id && !g_getenv ("OVA_CUDA_DEVICE")) {
    /* the engine's cuda backend reads its device from OVA_CUDA_DEVICE */
    gchar *d = g_strdup_printf ("%u", self->gpu_id);
    g_setenv ("OVA_CUDA_DEVICE", d, FALSE);
    g_free (d);
  }
  if (!ova_infer_cuda_init_device (self->gpu_id, error))
    return FALSE;
  CUcontext cur = NULL;
  CUdevice dev = 0;
  if (CuDeviceGet (&dev, self->gpu_id) != CUDA_SUCCESS) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL, "no CUDA device %u", self->gpu_id);
    return FALSE;
  }
  /* The device's primary context: the one the CUDA runtime (and so the
   * engine) uses. Asked of the driver (retained once for the process, the
   * runtime holds it too); else the context the runtime made current. */
  static GModule *driver = NULL;
  static CUresult (*primary_retain) (CUcontext *, CUdevice) = NULL;
  if (!driver && (driver = g_module_open ("libcuda.so.1", G_MODULE_BIND_LAZY)))
    g_module_symbol (driver, "cuDevicePrimaryCtxRetain", (gpointer *) &primary_retain);
  if (!primary_retain || primary_retain (&cur, dev) != CUDA_SUCCESS || !cur) {
    cur = NULL;
    if (CuCtxPopCurrent (&cur) != CUDA_SUCCESS || !cur) {
      g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL, "no CUDA context after initialising GPU %u",
                   self->gpu_id);
      return FALSE;
    }
    CuCtxPushCurrent (cur);
  }
  GstCudaContext *c = gst_cuda_context_new_wrapped (cur, dev);
  if (!c) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL, "could not wrap the CUDA context of GPU %u",
                 self->gpu_id);
    return FALSE;
  }
  self->cuda_ctx = c;
  GST_INFO_OBJECT (self, "sharing CUDA context %p (GPU %u) with the pipeline", cur, self->gpu_id);
  gst_element_post_message (GST_ELEMENT (self),
                            gst_message_new_have_context (GST_OBJECT (self), gst_context_new_cuda_context (c)));
  return TRUE;
}

/* Maps frame @f's CUDA memory (NV12, in ovainfer's CUDA context) for reading
 * on the device and describes its planes in @fr (the whole frame); unmap
 * @map of @mem once the GPU is done with it. */
static gboolean
cuda_frame_map (GstOvaInfer *self, GstBuffer *buf, OvaFrameMeta *f, GstMemory **mem_out, GstMapInfo *map,
                OvaCudaNv12Frame *fr, GError **error)
{
  GstMemory *mem = ova_frame_meta_peek_memory (buf, f, 0);
  if (!mem || f->n_mems != 1 || !gst_is_cuda_memory (mem)) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL,
                 "source %u frame %" G_GUINT64_FORMAT ": not one CUDA memory (%u memories)", f->source_id,
                 f->frame_num, f->n_mems);
    return FALSE;
  }
  if (GST_VIDEO_INFO_FORMAT (&f->video_info) != GST_VIDEO_FORMAT_NV12) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL,
                 "source %u: %s in CUDA memory; the GPU path takes NV12", f->source_id,
                 gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (&f->video_info)));
    return FALSE;
  }
  gpointer ours = gst_cuda_context_get_handle (self->cuda_ctx);
  GstCudaMemory *cm = GST_CUDA_MEMORY_CAST (mem);
  if (gst_cuda_context_get_handle (cm->context) != ours) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL,
                 "source %u: the frame is in CUDA context %p, ovainfer's engine in %p: the decoder did not take "
                 "ovainfer's context (set backend=cuda or backend=auto so that ovainfer shares it from READY on, "
                 "before the decoder starts)", f->source_id, gst_cuda_context_get_handle (cm->context), ours);
    return FALSE;
  }
  if (!gst_memory_map (mem, map, GST_MAP_READ | GST_MAP_CUDA)) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL, "source %u: could not map its CUDA memory",
                 f->source_id);
    return FALSE;
  }
  *mem_out = mem;
  const guint8 *d = map->data;
  memset (fr, 0, sizeof (*fr));
  fr->y = d + GST_VIDEO_INFO_PLANE_OFFSET (&cm->info, 0);
  fr->uv = d + GST_VIDEO_INFO_PLANE_OFFSET (&cm->info, 1);
  fr->y_stride = GST_VIDEO_INFO_PLANE_STRIDE (&cm->info, 0);
  fr->uv_stride = GST_VIDEO_INFO_PLANE_STRIDE (&cm->info, 1);
  fr->width = GST_VIDEO_INFO_WIDTH (&f->video_info);
  fr->height = GST_VIDEO_INFO_HEIGHT (&f->video_info);
  fr->matrix = f->video_info.colorimetry.matrix;
  fr->range = f->video_info.colorimetry.range;
  return TRUE;
}

/* Streaming thread: the batch's NV12 frames, straight from their CUDA
 * memories, preprocessed and inferred on the GPU; the worker collects the
 * outputs. No pixel leaves the GPU. */
static Staging *
preprocess_frames_cuda (GstOvaInfer *self, GstBuffer *buf, OvaBatchMeta *bm, GError **error)
{
  guint n = ova_batch_meta_get_n_frames (bm);
  Staging *st = staging_get (self, 0, MAX (n, 1));
  st->on_gpu = TRUE;
  if (!st->job)
    st->job = ova_infer_cuda_job_new ();
  if (st->maps_cap < n) {
    st->mems = g_renew (GstMemory *, st->mems, n);
    st->maps = g_renew (GstMapInfo, st->maps, n);
    st->maps_cap = n;
  }
  OvaCudaNv12Frame *fr = g_new0 (OvaCudaNv12Frame, MAX (n, 1));
  for (guint i = 0; i < n; i++) {
    OvaFrameMeta *f = ova_batch_meta_get_frame (bm, i);
    if (!cuda_frame_map (self, buf, f, &st->mems[st->n_maps], &st->maps[st->n_maps], &fr[i], error))
      goto fail;
    st->n_maps++;
  }
  st->job_pending = TRUE;
  if (!ova_infer_context_cuda_submit (self->ctx, st->job, fr, n, st->lbs, error))
    goto fail;
  g_free (fr);
  return st;
fail:
  g_free (fr);
  staging_put (self, st);
  return NULL;
}

/* Secondary mode on CUDA frames (worker thread): room for a batch of
 * @n_frames frames, none mapped yet. */
static void
secondary_cuda_begin (GstOvaInfer *self, guint n_frames)
{
  if (self->sec_frames_cap < n_frames) {
    self->sec_frames = g_renew (OvaCudaNv12Frame, self->sec_frames, n_frames);
    self->sec_mems = g_renew (GstMemory *, self->sec_mems, n_frames);
    self->sec_maps = g_renew (GstMapInfo, self->sec_maps, n_frames);
    self->sec_mapped = g_renew (gboolean, self->sec_mapped, n_frames);
    self->sec_frames_cap = n_frames;
  }
  memset (self->sec_mapped, 0, sizeof (gboolean) * n_frames);
  if (self->sec_slots_cap < self->n_slots) {
    self->sec_crops = g_renew (OvaCudaNv12Frame, self->sec_crops, self->n_slots);
    self->sec_lbs = g_renew (OvaLetterbox, self->sec_lbs, self->n_slots);
    self->sec_slots_cap = self->n_slots;
  }
  if (!self->sec_job)
    self->sec_job = ova_infer_cuda_job_new ();
}

/* Slot @slot: object @o's box (source pixels) of frame @i, cropped from the
 * frame's CUDA memory (mapped on first use) by ova_cuda_preprocess_nv12. */
static gboolean
secondary_cuda_crop (GstOvaInfer *self, GstBuffer *buf, OvaFrameMeta *f, guint i, const OvaRect *crop, guint slot,
                     GError **error)
{
  if (!self->sec_mapped[i]) {
    if (!cuda_frame_map (self, buf, f, &self->sec_mems[i], &self->sec_maps[i], &self->sec_frames[i], error))
      return FALSE;
    self->sec_mapped[i] = TRUE;
  }
  self->sec_crops[slot] = self->sec_frames[i];
  self->sec_crops[slot].crop = *crop;
  return TRUE;
}

/* Runs the crops of slots 0..n-1 on the GPU, waits for their (small)
 * outputs and attaches them as the CPU path does. */
static gboolean
run_slots_cuda (GstOvaInfer *self, OvaBatchMeta *bm, guint n, GError **error)
{
  if (n == 0)
    return TRUE;
  if (!ova_infer_context_cuda_submit (self->ctx, self->sec_job, self->sec_crops, n, self->sec_lbs, error) ||
      !ova_infer_cuda_job_wait (self->sec_job, error))
    return FALSE;
  for (guint k = 0; k < n; k++)
    self->slots[k].lb = self->sec_lbs[k];
  ova_infer_context_use_job (self->ctx, self->sec_job, 0);
  self->n_inferred += n;
  return attach_results (self, bm, n, error);
}

/* Unmaps the batch's frames (every job reading them has been waited for). */
static void
secondary_cuda_end (GstOvaInfer *self, guint n_frames)
{
  for (guint i = 0; i < n_frames && i < self->sec_frames_cap; i++)
    if (self->sec_mapped[i]) {
      gst_memory_unmap (self->sec_mems[i], &self->sec_maps[i]);
      self->sec_mapped[i] = FALSE;
    }
}

static void
secondary_cuda_free (GstOvaInfer *self)
{
  ova_infer_cuda_job_free (self->sec_job);
  self->sec_job = NULL;
  g_clear_pointer (&self->sec_crops, g_free);
  g_clear_pointer (&self->sec_lbs, g_free);
  g_clear_pointer (&self->sec_frames, g_free);
  g_clear_pointer (&self->sec_mems, g_free);
  g_clear_pointer (&self->sec_maps, g_free);
  g_clear_pointer (&self->sec_mapped, g_free);
  self->sec_frames_cap = self->sec_slots_cap = 0;
}
#else
static gboolean
cuda_context_ensure (GstOvaInfer *self, GError **error)
{
  g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL, "ovainfer was built without the GPU path");
  return FALSE;
}

static Staging *
preprocess_frames_cuda (GstOvaInfer *self, GstBuffer *buf, OvaBatchMeta *bm, GError **error)
{
  cuda_context_ensure (self, error);
  return NULL;
}

static void
secondary_cuda_begin (GstOvaInfer *self, guint n_frames)
{
}

static gboolean
secondary_cuda_crop (GstOvaInfer *self, GstBuffer *buf, OvaFrameMeta *f, guint i, const OvaRect *crop, guint slot,
                     GError **error)
{
  return cuda_context_ensure (self, error);
}

static gboolean
run_slots_cuda (GstOvaInfer *self, OvaBatchMeta *bm, guint n, GError **error)
{
  return cuda_context_ensure (self, error);
}

static void
secondary_cuda_end (GstOvaInfer *self, guint n_frames)
{
}

static void
secondary_cuda_free (GstOvaInfer *self)
{
}
#endif

static gboolean queue_drain (GstOvaInfer *self);

/* Caps: frames in CUDA memory with backend=auto move the model to the cuda
 * backend (once; the context was shared at READY). */
static gboolean
cuda_follow_caps (GstOvaInfer *self, GstCaps *caps)
{
  GstCapsFeatures *feat = caps && gst_caps_get_size (caps) ? gst_caps_get_features (caps, 0) : NULL;
  self->cuda_input = feat && gst_caps_features_contains (feat, "memory:CUDAMemory");
  if (!self->cuda_input || !self->ctx || ova_infer_context_is_cuda (self->ctx) || !self->cuda_ctx)
    return TRUE;
  if (!queue_drain (self))
    return FALSE;
  GST_INFO_OBJECT (self, "frames in CUDA memory: the model moves to the cuda backend");
  model_free (self);
  self->force_cuda = TRUE;
  return model_load (self);
}

/* Worker thread, primary mode on the GPU: wait for the batch, then decode
 * and cluster its (downloaded) outputs into meta as on the CPU. */

/* Slots for frames [@first, @first + @cnt) of the batch, ready for attach_results. */
static void
fill_frame_slots (GstOvaInfer *self, OvaBatchMeta *bm, Staging *st, guint first, guint cnt)
{
  for (guint j = 0; j < cnt; j++) {
    OvaFrameMeta *f = ova_batch_meta_get_frame (bm, first + j);
    self->slots[j].frame = f;
    self->slots[j].obj = NULL;
    self->slots[j].lb = st->lbs[first + j];
    if (self->cfg->network_type == OVA_NETWORK_DETECTOR)
      f->infer_done = TRUE;
  }
}

static gboolean
process_primary_cuda (GstOvaInfer *self, OvaBatchMeta *bm, Staging *st, GError **error)
{
  guint n = ova_batch_meta_get_n_frames (bm);
  gboolean ok = ova_infer_cuda_job_wait (st->job, error);
  st->job_pending = FALSE;
  staging_release_frames (st);
  for (guint first = 0; ok && first < n; first += self->n_slots) {
    guint cnt = MIN (self->n_slots, n - first);
    fill_frame_slots (self, bm, st, first, cnt);
    ova_infer_context_use_job (self->ctx, st->job, first);
    ok = attach_results (self, bm, cnt, error);
    self->n_inferred += cnt;
  }
  return ok;
}

/* Worker thread, primary mode: run the preprocessed frames batch-size at a time. */
static gboolean
process_primary (GstOvaInfer *self, OvaBatchMeta *bm, Staging *st, GError **error)
{
  guint n = ova_batch_meta_get_n_frames (bm);
  gsize per = ova_infer_context_input_floats (self->ctx);
  for (guint first = 0; first < n; first += self->n_slots) {
    guint cnt = MIN (self->n_slots, n - first);
    fill_frame_slots (self, bm, st, first, cnt);
    if (!ova_infer_context_run_input (self->ctx, st->data + per * first, cnt, error) ||
        !attach_results (self, bm, cnt, error))
      return FALSE;
    self->n_inferred += cnt;
  }
  return TRUE;
}

/* Secondary mode: the wanted objects of every frame, cropped batch-size at a
 * time into the network (on the GPU when the frames are in CUDA memory and
 * the model runs on the cuda backend), results attached to the objects. */
static gboolean
process_secondary (GstOvaInfer *self, GstBuffer *buf, OvaBatchMeta *bm, GError **error)
{
  const OvaInferConfig *cfg = self->cfg;
  guint n_frames = ova_batch_meta_get_n_frames (bm);
  gboolean gpu = ova_infer_context_is_cuda (self->ctx) && n_frames > 0 &&
                 ova_batch_meta_get_frame (bm, 0)->memory_type == OVA_MEMORY_CUDA;
  gboolean ok = TRUE;
  guint n = 0;
  if (gpu)
    secondary_cuda_begin (self, n_frames);
  for (guint i = 0; ok && i < n_frames; i++) {
    OvaFrameMeta *f = ova_batch_meta_get_frame (bm, i);
    /* the object list grows when this is a secondary detector: iterate the original ones */
    guint n_obj = ova_frame_meta_get_n_objects (f);
    gboolean mapped = FALSE;
    OvaMappedFrame m;
    OvaImage img;
    for (guint j = 0; ok && j < n_obj; j++) {
      OvaObjectMeta *o = ova_frame_meta_get_object (f, j);
      if (!object_wanted (cfg, o))
        continue;
      CacheEntry *ce = cache_lookup (self, f, o);
      if (ce) {
        ce->last_seen = f->frame_num;
        gboolean fresh = f->frame_num - ce->frame_num < (guint64) MAX (cfg->secondary_reinfer_interval, 0) &&
                         o->rect.width * o->rect.height <= ce->area * REINFER_GROWTH;
        if (fresh && cfg->network_type != OVA_NETWORK_DETECTOR && !cfg->output_tensor_meta) {
          self->n_cached++;
          ova_batch_meta_lock (bm);
          attach_cached (self, bm, f, o, ce);
          ova_batch_meta_unlock (bm);
          continue;
        }
      }
      gfloat sx, sy;
      frame_scale (f, &sx, &sy);
      OvaRect crop = { o->rect.left / sx, o->rect.top / sy, o->rect.width / sx, o->rect.height / sy };
      if (gpu) {
        ok = secondary_cuda_crop (self, buf, f, i, &crop, n, error);
      } else {
        if (!mapped) {
          ok = frame_image (self, buf, f, &m, &img, error);
          mapped = ok;
        }
        if (ok && !ova_infer_context_preprocess (self->ctx, n, &img, &crop, &self->slots[n].lb)) {
          g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL, "source %u: preprocessing failed", f->source_id);
          ok = FALSE;
        }
      }
      if (!ok)
        break;
      self->slots[n].frame = f;
      self->slots[n].obj = o;
      if (++n == self->n_slots) {
        ok = gpu ? run_slots_cuda (self, bm, n, error) : run_slots (self, bm, n, error);
        n = 0;
      }
    }
    if (mapped)
      ova_mapped_frame_unmap (&m);
  }
  if (ok)
    ok = gpu ? run_slots_cuda (self, bm, n, error) : run_slots (self, bm, n, error);
  if (gpu)
    secondary_cuda_end (self, n_frames);
  if (!ok)
    return FALSE;
  /* forget objects not seen for a while */
  if (++self->batches_seen % 64 == 0) {
    GHashTableIter it;
    gpointer v;
    guint64 newest = 0;
    for (guint i = 0; i < n_frames; i++)
      newest = MAX (newest, ova_batch_meta_get_frame (bm, i)->frame_num);
    guint64 keep = (guint64) MAX (cfg->secondary_reinfer_interval, 1) * 4 + 64;
    g_hash_table_iter_init (&it, self->cache);
    while (g_hash_table_iter_next (&it, NULL, &v))
      if (((CacheEntry *) v)->last_seen + keep < newest)
        g_hash_table_iter_remove (&it);
  }
  return TRUE;
}

static void
forget_source (GstOvaInfer *self, guint source_id)
{
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init (&it, self->cache);
  while (g_hash_table_iter_next (&it, &k, NULL))
    if ((*(guint64 *) k >> 48) == source_id)
      g_hash_table_iter_remove (&it);
}

/* ------------------------------------------------------------------ worker */

static GstFlowReturn
process_buffer (GstOvaInfer *self, GstBuffer *buf, gboolean skip, Staging *st)
{
  OvaBatchMeta *bm = ova_buffer_get_batch_meta (buf);
  GError *err = NULL;
  gboolean ok = TRUE;
  if (!skip) {
    if (st && st->on_gpu)
      ok = process_primary_cuda (self, bm, st, &err);
    else if (st)
      ok = process_primary (self, bm, st, &err);
    else
      ok = process_secondary (self, buf, bm, &err);
  }
  if (st)
    staging_put (self, st);
  if (!ok) {
    GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Inference failed: %s", err->message), (NULL));
    g_error_free (err);
    gst_buffer_unref (buf);
    return GST_FLOW_ERROR;
  }
  ova_batch_meta_latency_exit (bm, self->component);
  return gst_pad_push (self->srcpad, buf);
}

static void
worker_loop (gpointer data)
{
  GstOvaInfer *self = data;
  Item *it;

  g_mutex_lock (&self->lock);
  while (self->srcresult == GST_FLOW_OK && g_queue_is_empty (&self->queue))
    g_cond_wait (&self->cond, &self->lock);
  if (self->srcresult != GST_FLOW_OK) {
    g_mutex_unlock (&self->lock);
    gst_pad_pause_task (self->srcpad);
    return;
  }
  it = g_queue_pop_head (&self->queue);
  if (it->type == ITEM_BUFFER)
    self->n_buffers--;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  if (it->type == ITEM_BUFFER) {
    GstBuffer *buf = it->obj;
    Staging *st = it->staging;
    it->obj = NULL;
    it->staging = NULL;
    GstFlowReturn ret = process_buffer (self, buf, it->skip, st);
    item_free (it);
    if (ret != GST_FLOW_OK) {
      g_mutex_lock (&self->lock);
      /* keep FLUSHING if a flush raced with the push */
      if (self->srcresult == GST_FLOW_OK)
        self->srcresult = ret;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
      if (ret == GST_FLOW_EOS || ret < GST_FLOW_EOS) {
        if (ret == GST_FLOW_NOT_LINKED || ret < GST_FLOW_EOS)
          GST_ELEMENT_FLOW_ERROR (self, ret);
        gst_pad_push_event (self->srcpad, gst_event_new_eos ());
      }
      gst_pad_pause_task (self->srcpad);
    }
  } else {
    GstEvent *ev = it->obj;
    it->obj = NULL;
    guint sid;
    if (ova_event_parse_stream (ev, OVA_EVENT_STREAM_EOS, &sid) ||
        ova_event_parse_stream (ev, OVA_EVENT_STREAM_REMOVE, &sid))
      forget_source (self, sid);
    gboolean is_eos = GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_pad_push_event (self->srcpad, ev);
    item_free (it);
    if (is_eos) {
      g_mutex_lock (&self->lock);
      self->srcresult = GST_FLOW_EOS;
      g_mutex_unlock (&self->lock);
      gst_pad_pause_task (self->srcpad);
    }
  }
}

static void
queue_flush (GstOvaInfer *self)
{
  Item *it;
  while ((it = g_queue_pop_head (&self->queue))) {
    /* sticky events not pushed yet (stream-start, caps, tags) must still reach
     * downstream before the next buffer: store them on the source pad */
    if (it->type == ITEM_EVENT && GST_EVENT_IS_STICKY (it->obj) &&
        GST_EVENT_TYPE (it->obj) != GST_EVENT_SEGMENT && GST_EVENT_TYPE (it->obj) != GST_EVENT_EOS)
      gst_pad_store_sticky_event (self->srcpad, it->obj);
    item_free (it);
  }
  self->n_buffers = 0;
}

/* Waits until the worker has taken everything (serialized queries). */
static gboolean
queue_drain (GstOvaInfer *self)
{
  g_mutex_lock (&self->lock);
  while (self->srcresult == GST_FLOW_OK && !g_queue_is_empty (&self->queue))
    g_cond_wait (&self->cond, &self->lock);
  gboolean ok = self->srcresult == GST_FLOW_OK;
  g_mutex_unlock (&self->lock);
  return ok;
}

static GstFlowReturn
enqueue (GstOvaInfer *self, Item *it)
{
  GstFlowReturn ret;
  g_mutex_lock (&self->lock);
  while (self->srcresult == GST_FLOW_OK && it->type == ITEM_BUFFER && self->n_buffers >= self->max_in_flight)
    g_cond_wait (&self->cond, &self->lock);
  ret = self->srcresult;
  if (ret == GST_FLOW_OK) {
    g_queue_push_tail (&self->queue, it);
    if (it->type == ITEM_BUFFER)
      self->n_buffers++;
    g_cond_broadcast (&self->cond);
    it = NULL;
  }
  g_mutex_unlock (&self->lock);
  if (it)
    item_free (it);
  return ret;
}

/* ------------------------------------------------------------------ pads */

static GstFlowReturn
gst_ova_infer_chain (GstPad *pad, GstObject *parent, GstBuffer *buf)
{
  GstOvaInfer *self = GST_OVA_INFER (parent);
  OvaBatchMeta *bm = ova_buffer_get_batch_meta (buf);
  if (!bm) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT, ("Buffer without batch metadata"),
                       ("ovainfer works on batches: put ovamux before it"));
    gst_buffer_unref (buf);
    return GST_FLOW_ERROR;
  }
  if (!self->ctx) {
    gst_buffer_unref (buf);
    return GST_FLOW_NOT_NEGOTIATED;
  }
  /* we add meta: the batch must be ours alone */
  buf = gst_buffer_make_writable (buf);
  bm = ova_buffer_get_batch_meta (buf);
  ova_batch_meta_latency_enter (bm, self->component);

  Item *it = g_new0 (Item, 1);
  it->type = ITEM_BUFFER;
  it->obj = buf;
  /* interval: infer one batch, skip the next N (primary; a secondary re-uses its cache) */
  gint interval = self->cfg->interval;
  if (self->cfg->process_mode == OVA_PROCESS_FRAMES && interval > 0)
    it->skip = (self->interval_counter++ % (guint64) (interval + 1)) != 0;
  if (it->skip)
    for (guint i = 0; i < ova_batch_meta_get_n_frames (bm); i++)
      ova_batch_meta_get_frame (bm, i)->infer_done = FALSE;
  if (!it->skip && self->cfg->process_mode == OVA_PROCESS_FRAMES) {
    GError *err = NULL;
    gboolean gpu = ova_infer_context_is_cuda (self->ctx) && ova_batch_meta_get_n_frames (bm) > 0 &&
                   ova_batch_meta_get_frame (bm, 0)->memory_type == OVA_MEMORY_CUDA;
    it->staging = gpu ? preprocess_frames_cuda (self, buf, bm, &err) : preprocess_frames (self, buf, bm, &err);
    if (!it->staging) {
      GST_ELEMENT_ERROR (self, STREAM, FAILED, ("Preprocessing failed: %s", err->message), (NULL));
      g_error_free (err);
      item_free (it);
      return GST_FLOW_ERROR;
    }
  }
  return enqueue (self, it);
}

static gboolean
gst_ova_infer_sink_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  GstOvaInfer *self = GST_OVA_INFER (parent);
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_START:
      gst_pad_push_event (self->srcpad, event);
      g_mutex_lock (&self->lock);
      self->srcresult = GST_FLOW_FLUSHING;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
      gst_pad_pause_task (self->srcpad);
      return TRUE;
    case GST_EVENT_FLUSH_STOP:
      g_mutex_lock (&self->lock);
      queue_flush (self);
      self->srcresult = GST_FLOW_OK;
      g_mutex_unlock (&self->lock);
      gst_pad_push_event (self->srcpad, event);
      return gst_pad_start_task (self->srcpad, worker_loop, self, NULL);
    case GST_EVENT_CAPS: {
      GstCaps *caps;
      gst_event_parse_caps (event, &caps);
      if (!cuda_follow_caps (self, caps)) {
        gst_event_unref (event);
        return FALSE;
      }
      break;
    }
    default:
      break;
  }
  if (GST_EVENT_IS_SERIALIZED (event)) {
    Item *it = g_new0 (Item, 1);
    it->type = ITEM_EVENT;
    it->obj = event;
    GstFlowReturn r = enqueue (self, it);
    /* sticky events are still stored on the pad when we are flushing */
    return r == GST_FLOW_OK || r == GST_FLOW_FLUSHING;
  }
  return gst_pad_push_event (self->srcpad, event);
}

static gboolean
gst_ova_infer_sink_query (GstPad *pad, GstObject *parent, GstQuery *query)
{
  GstOvaInfer *self = GST_OVA_INFER (parent);
#ifdef OVA_INFER_CUDA
  if (GST_QUERY_TYPE (query) == GST_QUERY_CONTEXT && self->cuda_ctx &&
      gst_cuda_handle_context_query (GST_ELEMENT (self), query, self->cuda_ctx))
    return TRUE;
#endif
  if (GST_QUERY_IS_SERIALIZED (query)) {
    /* answer in order with the buffers before it */
    if (!queue_drain (self))
      return FALSE;
    return gst_pad_peer_query (self->srcpad, query);
  }
  return gst_pad_query_default (pad, parent, query);
}

static gboolean
gst_ova_infer_src_activate_mode (GstPad *pad, GstObject *parent, GstPadMode mode, gboolean active)
{
  GstOvaInfer *self = GST_OVA_INFER (parent);
  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  if (active) {
    g_mutex_lock (&self->lock);
    self->srcresult = GST_FLOW_OK;
    g_mutex_unlock (&self->lock);
    return gst_pad_start_task (pad, worker_loop, self, NULL);
  }
  g_mutex_lock (&self->lock);
  self->srcresult = GST_FLOW_FLUSHING;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  gboolean ok = gst_pad_stop_task (pad);
  g_mutex_lock (&self->lock);
  queue_flush (self);
  g_mutex_unlock (&self->lock);
  return ok;
}

static gboolean
gst_ova_infer_sink_activate_mode (GstPad *pad, GstObject *parent, GstPadMode mode, gboolean active)
{
  GstOvaInfer *self = GST_OVA_INFER (parent);
  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  if (!active) {
    /* unblock a chain waiting for room */
    g_mutex_lock (&self->lock);
    self->srcresult = GST_FLOW_FLUSHING;
    g_cond_broadcast (&self->cond);
    g_mutex_unlock (&self->lock);
    /* wait for the streaming thread to leave chain */
    GST_PAD_STREAM_LOCK (pad);
    GST_PAD_STREAM_UNLOCK (pad);
  }
  return TRUE;
}

/* -------------------------------------------------------------- element */

static GstStateChangeReturn
gst_ova_infer_change_state (GstElement *element, GstStateChange transition)
{
  GstOvaInfer *self = GST_OVA_INFER (element);
  switch (transition) {
    case GST_STATE_CHANGE_NULL_TO_READY: {
      /* backend=cuda|auto: share the engine's CUDA context before the
       * decoders (upstream, started after us) pick one */
      GST_OBJECT_LOCK (self);
      gboolean want = !g_strcmp0 (self->backend, "cuda") || !g_strcmp0 (self->backend, "auto");
      GST_OBJECT_UNLOCK (self);
      GError *err = NULL;
      if (want && !cuda_context_ensure (self, &err)) {
        GST_INFO_OBJECT (self, "no CUDA context to share: %s", err->message);
        g_clear_error (&err);
      }
      break;
    }
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (self->ctx && self->dirty)
        model_free (self);
      if (!self->ctx && !model_load (self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    default:
      break;
  }
  GstStateChangeReturn ret = GST_ELEMENT_CLASS (gst_ova_infer_parent_class)->change_state (element, transition);
  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      GST_INFO_OBJECT (self, "%" G_GUINT64_FORMAT " images inferred, %" G_GUINT64_FORMAT
                       " secondary results re-used from the cache", self->n_inferred, self->n_cached);
      self->n_inferred = self->n_cached = 0;
      g_hash_table_remove_all (self->cache);
      self->interval_counter = 0;
      break;
    case GST_STATE_CHANGE_READY_TO_NULL:
      model_free (self);
      self->force_cuda = FALSE;
      break;
    default:
      break;
  }
  return ret;
}

static void
gst_ova_infer_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstOvaInfer *self = GST_OVA_INFER (object);
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_CONFIG_FILE_PATH:
      g_free (self->config_file_path);
      self->config_file_path = g_value_dup_string (value);
      break;
    case PROP_BATCH_SIZE: self->prop_batch_size = g_value_get_uint (value); break;
    case PROP_INTERVAL: self->prop_interval = g_value_get_int (value); break;
    case PROP_UNIQUE_ID: self->prop_unique_id = g_value_get_uint (value); break;
    case PROP_PROCESS_MODE: self->prop_process_mode = g_value_get_enum (value); break;
    case PROP_INFER_ON_GIE_ID: self->prop_infer_on_gie_id = g_value_get_int (value); break;
    case PROP_INFER_ON_CLASS_IDS:
      g_free (self->prop_class_ids);
      self->prop_class_ids = g_value_dup_string (value);
      break;
    case PROP_GPU_ID: self->gpu_id = g_value_get_uint (value); break;
    case PROP_MODEL_ENGINE_FILE:
      g_free (self->prop_model_engine_file);
      self->prop_model_engine_file = g_value_dup_string (value);
      break;
    case PROP_OUTPUT_TENSOR_META: self->prop_output_tensor_meta = g_value_get_boolean (value); break;
    case PROP_THREADS: self->threads = g_value_get_int (value); break;
    case PROP_BACKEND:
      g_free (self->backend);
      self->backend = g_value_dup_string (value);
      break;
    case PROP_MAX_IN_FLIGHT: self->max_in_flight = g_value_get_uint (value); break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  if (prop_id != PROP_MAX_IN_FLIGHT)
    self->dirty = TRUE;
  GST_OBJECT_UNLOCK (self);
  if (prop_id == PROP_INTERVAL && self->cfg) {
    /* interval may change while playing */
    self->cfg->interval = MAX (g_value_get_int (value), 0);
  }
  if (prop_id == PROP_MAX_IN_FLIGHT) {
    g_mutex_lock (&self->lock);
    g_cond_broadcast (&self->cond);
    g_mutex_unlock (&self->lock);
  }
}

static void
gst_ova_infer_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstOvaInfer *self = GST_OVA_INFER (object);
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_CONFIG_FILE_PATH: g_value_set_string (value, self->config_file_path); break;
    case PROP_BATCH_SIZE: g_value_set_uint (value, MAX (self->prop_batch_size, 0)); break;
    case PROP_INTERVAL: g_value_set_int (value, self->prop_interval); break;
    case PROP_UNIQUE_ID: g_value_set_uint (value, MAX (self->prop_unique_id, 0)); break;
    case PROP_PROCESS_MODE: g_value_set_enum (value, self->prop_process_mode); break;
    case PROP_INFER_ON_GIE_ID: g_value_set_int (value, self->prop_infer_on_gie_id); break;
    case PROP_INFER_ON_CLASS_IDS: g_value_set_string (value, self->prop_class_ids); break;
    case PROP_GPU_ID: g_value_set_uint (value, self->gpu_id); break;
    case PROP_MODEL_ENGINE_FILE: g_value_set_string (value, self->prop_model_engine_file); break;
    case PROP_OUTPUT_TENSOR_META: g_value_set_boolean (value, self->prop_output_tensor_meta > 0); break;
    case PROP_THREADS: g_value_set_int (value, self->threads); break;
    case PROP_BACKEND: g_value_set_string (value, self->backend); break;
    case PROP_MAX_IN_FLIGHT: g_value_set_uint (value, self->max_in_flight); break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_ova_infer_finalize (GObject *object)
{
  GstOvaInfer *self = GST_OVA_INFER (object);
  model_free (self);
  g_hash_table_unref (self->cache);
  queue_flush (self);
  g_queue_clear_full (&self->free_staging, (GDestroyNotify) staging_free);
  g_free (self->config_file_path);
  g_free (self->prop_class_ids);
  g_free (self->prop_model_engine_file);
  g_free (self->backend);
  if (self->cuda_ctx)
    gst_object_unref (self->cuda_ctx);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (gst_ova_infer_parent_class)->finalize (object);
}

static void
gst_ova_infer_constructed (GObject *object)
{
  GstOvaInfer *self = GST_OVA_INFER (object);
  G_OBJECT_CLASS (gst_ova_infer_parent_class)->constructed (object);
  self->component = g_intern_string (GST_OBJECT_NAME (self));
}

static void
gst_ova_infer_init (GstOvaInfer *self)
{
  self->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (self->sinkpad, gst_ova_infer_chain);
  gst_pad_set_event_function (self->sinkpad, gst_ova_infer_sink_event);
  gst_pad_set_query_function (self->sinkpad, gst_ova_infer_sink_query);
  gst_pad_set_activatemode_function (self->sinkpad, gst_ova_infer_sink_activate_mode);
  GST_PAD_SET_PROXY_CAPS (self->sinkpad);
  GST_PAD_SET_PROXY_ALLOCATION (self->sinkpad);
  gst_element_add_pad (GST_ELEMENT (self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template (&src_template, "src");
  gst_pad_set_activatemode_function (self->srcpad, gst_ova_infer_src_activate_mode);
  GST_PAD_SET_PROXY_CAPS (self->srcpad);
  gst_pad_use_fixed_caps (self->srcpad);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);

  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->queue);
  g_queue_init (&self->free_staging);
  self->srcresult = GST_FLOW_FLUSHING;
  self->prop_batch_size = 0;
  self->prop_interval = -1;
  self->prop_unique_id = 0;
  self->prop_process_mode = 0;
  self->prop_infer_on_gie_id = -1;
  self->prop_output_tensor_meta = -1;
  self->backend = g_strdup ("cpu");
  self->max_in_flight = DEFAULT_MAX_IN_FLIGHT;
  self->cache = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, cache_entry_free);
}

static void
gst_ova_infer_class_init (GstOvaInferClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY;

  gobject_class->set_property = gst_ova_infer_set_property;
  gobject_class->get_property = gst_ova_infer_get_property;
  gobject_class->finalize = gst_ova_infer_finalize;
  gobject_class->constructed = gst_ova_infer_constructed;
  element_class->change_state = gst_ova_infer_change_state;

  g_object_class_install_property (gobject_class, PROP_CONFIG_FILE_PATH,
      g_param_spec_string ("config-file-path", "Config file path",
          "nvinfer-style config file ([property], [class-attrs-all], [class-attrs-<id>])", NULL, rw));
  g_object_class_install_property (gobject_class, PROP_BATCH_SIZE,
      g_param_spec_uint ("batch-size", "Batch size",
          "Images (frames or objects) per engine run; 0: the file's batch-size", 0, 1024, 0, rw));
  g_object_class_install_property (gobject_class, PROP_INTERVAL,
      g_param_spec_int ("interval", "Interval",
          "Batches skipped after each inferred one (primary mode); -1: the file's interval", -1, G_MAXINT, -1,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_UNIQUE_ID,
      g_param_spec_uint ("unique-id", "Unique ID",
          "Component id stamped on the meta this element adds (gie-unique-id); 0: the file's", 0, G_MAXUINT, 0, rw));
  g_object_class_install_property (gobject_class, PROP_PROCESS_MODE,
      g_param_spec_enum ("process-mode", "Process mode", "Infer on whole frames or on objects",
          GST_TYPE_OVA_INFER_PROCESS_MODE, 0, rw));
  g_object_class_install_property (gobject_class, PROP_INFER_ON_GIE_ID,
      g_param_spec_int ("infer-on-gie-id", "Infer on GIE id",
          "Secondary mode: only objects from the detector with this unique id; -1: the file's "
          "operate-on-gie-id (or any)", -1, G_MAXINT, -1, rw));
  g_object_class_install_property (gobject_class, PROP_INFER_ON_CLASS_IDS,
      g_param_spec_string ("infer-on-class-ids", "Infer on class ids",
          "Secondary mode: only objects of these classes, e.g. \"0:2\" or \"0;2\"; NULL: the file's "
          "operate-on-class-ids", NULL, rw));
  g_object_class_install_property (gobject_class, PROP_GPU_ID,
      g_param_spec_uint ("gpu-id", "GPU id", "GPU for the CUDA backend (ignored on CPU)", 0, 64, 0, rw));
  g_object_class_install_property (gobject_class, PROP_MODEL_ENGINE_FILE,
      g_param_spec_string ("model-engine-file", "Model engine file",
          "Plan cache file: loaded when it matches the model, written otherwise; NULL: the file's", NULL, rw));
  g_object_class_install_property (gobject_class, PROP_OUTPUT_TENSOR_META,
      g_param_spec_boolean ("output-tensor-meta", "Output tensor meta",
          "Attach the raw output tensors as OVA_USER_META_TENSOR user meta", FALSE, rw));
  g_object_class_install_property (gobject_class, PROP_THREADS,
      g_param_spec_int ("threads", "Threads", "CPU threads of the engine; 0: all cores", 0, 1024, 0, rw));
  g_object_class_install_property (gobject_class, PROP_BACKEND,
      g_param_spec_string ("backend", "Backend",
          "Engine backend: cpu, cuda (when built with it; frames in CUDA memory are then preprocessed and "
          "inferred on the GPU, in a CUDA context shared with the decoders) or auto (cpu, moving to cuda when "
          "the frames arrive in CUDA memory)", "cpu", rw));
  g_object_class_install_property (gobject_class, PROP_MAX_IN_FLIGHT,
      g_param_spec_uint ("max-in-flight", "Max in flight",
          "Batches queued for the worker thread before upstream blocks", 1, 64, DEFAULT_MAX_IN_FLIGHT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "ova inference", "Filter/Video/Analytics",
      "Runs ONNX detectors, classifiers and embedders on batched frames or their objects "
      "(nvinfer-compatible configs)", "ova developers");
  gst_type_mark_as_plugin_api (GST_TYPE_OVA_INFER_PROCESS_MODE, 0);
  GST_DEBUG_CATEGORY_INIT (gst_ova_infer_debug, "ovainfer", 0, "ova inference");
}
