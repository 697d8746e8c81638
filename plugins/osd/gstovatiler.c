/* ova — ovatiler: composes the frames of a batch into one tiled frame. SPDX-License-Identifier: MIT */
/**
 * SECTION:element-ovatiler
 * @title: ovatiler
 *
 * Composes the frames of an ova batch into one output frame: a grid of
 * `rows` × `columns` tiles in a `width` × `height` picture. Each source goes
 * to the tile of its source id (row-major), scaled with its aspect ratio kept
 * (black bars) by libova's scaler (tent filter, SSE2, checked against a scalar
 * reference). `show-source` = N shows source N alone at full size, −1 the
 * grid; `show-source`, `rows` and `columns` can be changed while PLAYING.
 * The output has the input's format; its buffers come from a video buffer pool.
 *
 * Sources missing from a partial batch keep their last picture in their tile.
 * Tiles are scaled in parallel by `threads` worker threads.
 *
 * Metadata: the output buffer carries an OvaBatchMeta with one frame meta per
 * frame shown (all frames of the batch on the grid, source N only with
 * show-source = N). Like DeepStream's tiler, their object boxes and display
 * meta are converted to output-frame pixels, every frame meta points at the
 * one output memory (mem_index 0) and has source_width/height = the output
 * size, so an ovaosd placed after the tiler draws every source's boxes on the
 * tiled picture. Buffers without batch meta are shown as source 0.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 ovamux name=m batch-size=4 ! ovatiler rows=2 columns=2 width=1280 height=720 ! \
 *     videoconvert ! autovideosink \
 *   videotestsrc num-buffers=300 ! video/x-raw,format=NV12,width=1920,height=1080 ! m.sink_0 \
 *   videotestsrc num-buffers=300 pattern=ball ! video/x-raw,format=NV12,width=1280,height=720 ! m.sink_1 \
 *   videotestsrc num-buffers=300 pattern=snow ! video/x-raw,format=NV12,width=640,height=480 ! m.sink_2 \
 *   videotestsrc num-buffers=300 pattern=smpte75 ! video/x-raw,format=NV12,width=720,height=576 ! m.sink_3
 * ]|
 */
#include "gstovatiler.h"
#include "frame-check.h"
#include "workers.h"
#include <ova/meta.h>
#include <string.h>
#ifdef OVA_OSD_CUDA
#include <ova/cuda-draw.h>
#include <gst/cuda/gstcudaloader.h>
#include <gst/cuda/cuda-gst.h>
#include <gst/cuda/gstcudacontext.h>
#include <gst/cuda/gstcudamemory.h>
#include <gst/cuda/gstcudabufferpool.h>
#endif

GST_DEBUG_CATEGORY_STATIC (ova_tiler_debug);
#define GST_CAT_DEFAULT ova_tiler_debug

enum {
  PROP_0,
  PROP_ROWS,
  PROP_COLUMNS,
  PROP_WIDTH,
  PROP_HEIGHT,
  PROP_SHOW_SOURCE,
  PROP_THREADS,
};

#define TILER_FORMATS "{ NV12, I420, RGBA, BGRA, RGBx, BGRx }"
#define TILER_CAPS GST_VIDEO_CAPS_MAKE (TILER_FORMATS)
#define CUDA_FEATURE "memory:CUDAMemory"

/* ovamux's batches (system memory, and with the CUDA build CUDA memory), or
 * plain video in system memory (shown as source 0). */
#ifdef OVA_OSD_CUDA
#define TILER_SINK_CAPS OVA_BATCH_MEDIA_TYPE "; " OVA_BATCH_MEDIA_TYPE "(" CUDA_FEATURE "); " TILER_CAPS
#define TILER_SRC_CAPS TILER_CAPS "; " GST_VIDEO_CAPS_MAKE_WITH_FEATURES (CUDA_FEATURE, "NV12")
#else
#define TILER_SINK_CAPS OVA_BATCH_MEDIA_TYPE "; " TILER_CAPS
#define TILER_SRC_CAPS TILER_CAPS
#endif
static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (TILER_SINK_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (TILER_SRC_CAPS));

G_DEFINE_TYPE (GstOvaTiler, gst_ova_tiler, GST_TYPE_VIDEO_FILTER);

/* ------------------------------------------------------------- workers */

/* One tile: scale the source (if this batch has one for it) into the canvas,
 * then copy the canvas tile to the output buffer, while it is in cache. */
struct _OvaTileJob {
  OvaScaler *scaler;            /* NULL: nothing new for this tile, copy only */
  OvaSurface src, dst;          /* dst: the fitted picture inside the tile */
  OvaSurface tile;              /* the whole tile in the canvas (letterbox bars are cleared) */
  OvaSurface out;               /* the same rectangle in the output buffer */
  gint ox, oy;                  /* where dst starts inside tile */
  OvaPaint black;
};
typedef struct _OvaTileJob TileJob;

static void
tile_job_run (TileJob *j)
{
  OvaSurface bar;
  /* letterbox bars: the tile minus the fitted picture */
  if (j->scaler && (j->dst.width != j->tile.width || j->dst.height != j->tile.height)) {
    gint ox = j->ox, oy = j->oy;
    ova_surface_sub (&j->tile, 0, 0, j->tile.width, oy, &bar);
    if (bar.height > 0)
      ova_surface_clear (&bar, &j->black);
    ova_surface_sub (&j->tile, 0, oy + j->dst.height, j->tile.width, j->tile.height - oy - j->dst.height, &bar);
    if (bar.height > 0)
      ova_surface_clear (&bar, &j->black);
    ova_surface_sub (&j->tile, 0, oy, ox, j->dst.height, &bar);
    if (bar.width > 0)
      ova_surface_clear (&bar, &j->black);
    ova_surface_sub (&j->tile, ox + j->dst.width, oy, j->tile.width - ox - j->dst.width, j->dst.height, &bar);
    if (bar.width > 0)
      ova_surface_clear (&bar, &j->black);
  }
  if (j->scaler)
    ova_scaler_run (j->scaler, &j->src, &j->dst);
  ova_surface_copy (&j->out, &j->tile);
}

static void
tile_job_func (gpointer job, gpointer data)
{
  tile_job_run (job);
}

/* -------------------------------------------------------------- layout */

typedef struct {
  guint rows, cols;
  gint show;
  guint threads;
} Layout;

/* Tile rectangle of tile @t and the fitted picture of a @fw x @fh frame in it. */
static void
tile_geometry (const GstOvaTiler *self, const Layout *l, guint t, gint fw, gint fh,
    gint *tx, gint *ty, gint *tw, gint *th, gint *px, gint *py, gint *pw, gint *ph)
{
  gint W = GST_VIDEO_INFO_WIDTH (&self->out_info), H = GST_VIDEO_INFO_HEIGHT (&self->out_info);
  gboolean yuv = ova_pixel_format_is_yuv (ova_pixel_format_from_video (GST_VIDEO_INFO_FORMAT (&self->out_info)));
  gint align = yuv ? 2 : 1;
  gdouble s;
  if (l->show >= 0) {
    *tx = 0; *ty = 0; *tw = W; *th = H;
  } else {
    gint cw = W / (gint) l->cols, ch = H / (gint) l->rows;
    cw -= cw % align; ch -= ch % align;
    *tx = (gint) (t % l->cols) * cw; *ty = (gint) (t / l->cols) * ch;
    *tw = cw; *th = ch;
  }
  s = MIN ((gdouble) *tw / fw, (gdouble) *th / fh);
  *pw = MAX (align, (gint) (fw * s + 0.5)); *ph = MAX (align, (gint) (fh * s + 0.5));
  *pw = MIN (*pw - *pw % align, *tw); *ph = MIN (*ph - *ph % align, *th);
  *px = *tx + ((*tw - *pw) / 2) / align * align;
  *py = *ty + ((*th - *ph) / 2) / align * align;
}

static void
map_point (gfloat *x, gfloat *y, gdouble ox, gdouble oy, gdouble kx, gdouble ky)
{
  *x = (gfloat) (ox + *x * kx);
  *y = (gfloat) (oy + *y * ky);
}

static void
map_rect (OvaRect *r, gdouble ox, gdouble oy, gdouble kx, gdouble ky)
{
  map_point (&r->left, &r->top, ox, oy, kx, ky);
  r->width = (gfloat) (r->width * kx);
  r->height = (gfloat) (r->height * ky);
}

static OvaClassifierMeta *
copy_classifier (OvaBatchMeta *ob, const OvaClassifierMeta *c)
{
  OvaClassifierMeta *nc = ova_batch_meta_acquire_classifier (ob);
  nc->component_id = c->component_id;
  for (guint i = 0; i < c->labels->len; i++) {
    OvaLabelInfo *l = ova_batch_meta_acquire_label (ob);
    *l = *(const OvaLabelInfo *) g_ptr_array_index (c->labels, i);
    ova_classifier_meta_add_label (nc, l);
  }
  return nc;
}

static OvaUserMeta *
copy_user (OvaBatchMeta *ob, const OvaUserMeta *u)
{
  OvaUserMeta *nu;
  if (!u->copy_func)
    return NULL; /* not copyable: the output lacks it, as with buffer copies */
  nu = ova_batch_meta_acquire_user (ob);
  *nu = *u;
  nu->payload = u->copy_func (u->payload, u->user_data);
  return nu;
}

/* The frame meta of @f for the tiled output: boxes in output pixels. */
static void
add_output_frame (OvaBatchMeta *ob, const OvaFrameMeta *f, const GstVideoInfo *out_info, guint n_mems,
    OvaMemoryType memory_type, gint px, gint py, gint pw, gint ph)
{
  OvaFrameMeta *nf = ova_batch_meta_acquire_frame (ob);
  gdouble sw = f->source_width ? f->source_width : GST_VIDEO_INFO_WIDTH (&f->video_info);
  gdouble sh = f->source_height ? f->source_height : GST_VIDEO_INFO_HEIGHT (&f->video_info);
  gdouble kx = pw / sw, ky = ph / sh, k = (kx + ky) / 2;

  nf->source_id = f->source_id;
  nf->pad_index = f->pad_index;
  nf->frame_num = f->frame_num;
  nf->buf_pts = f->buf_pts;
  nf->duration = f->duration;
  nf->ntp_timestamp = f->ntp_timestamp;
  nf->infer_done = f->infer_done;
  nf->latency = f->latency;
  nf->source_width = GST_VIDEO_INFO_WIDTH (out_info);
  nf->source_height = GST_VIDEO_INFO_HEIGHT (out_info);
  nf->mem_index = 0;
  nf->n_mems = n_mems;
  nf->memory_type = memory_type;
  nf->video_info = *out_info;
  ova_batch_meta_add_frame (ob, nf);

  for (guint i = 0; i < f->objects->len; i++) {
    const OvaObjectMeta *o = g_ptr_array_index (f->objects, i);
    OvaObjectMeta *no = ova_batch_meta_acquire_object (ob);
    no->class_id = o->class_id;
    memcpy (no->label, o->label, sizeof (no->label));
    no->confidence = o->confidence;
    no->rect = o->rect;
    no->detector_rect = o->detector_rect;
    map_rect (&no->rect, px, py, kx, ky);
    map_rect (&no->detector_rect, px, py, kx, ky);
    no->component_id = o->component_id;
    no->tracker_id = o->tracker_id;
    no->tracker_confidence = o->tracker_confidence;
    no->track_state = o->track_state;
    no->border_color = o->border_color;
    for (guint j = 0; j < o->classifiers->len; j++)
      ova_object_meta_add_classifier (no, copy_classifier (ob, g_ptr_array_index (o->classifiers, j)));
    for (guint j = 0; j < o->user_metas->len; j++) {
      OvaUserMeta *u = copy_user (ob, g_ptr_array_index (o->user_metas, j));
      if (u)
        ova_object_meta_add_user (no, u);
    }
    ova_frame_meta_add_object (nf, no);
    no->object_id = o->object_id; /* the same object, seen after tiling */
  }
  /* parents point inside the same frame: re-link by position */
  for (guint i = 0; i < f->objects->len; i++) {
    const OvaObjectMeta *o = g_ptr_array_index (f->objects, i);
    for (guint j = 0; o->parent && j < f->objects->len; j++)
      if (g_ptr_array_index (f->objects, j) == o->parent)
        ((OvaObjectMeta *) g_ptr_array_index (nf->objects, i))->parent = g_ptr_array_index (nf->objects, j);
  }
  for (guint j = 0; j < f->classifiers->len; j++)
    ova_frame_meta_add_classifier (nf, copy_classifier (ob, g_ptr_array_index (f->classifiers, j)));
  for (guint j = 0; j < f->user_metas->len; j++) {
    OvaUserMeta *u = copy_user (ob, g_ptr_array_index (f->user_metas, j));
    if (u)
      ova_frame_meta_add_user (nf, u);
  }
  for (guint j = 0; j < f->display_metas->len; j++) {
    OvaDisplayMeta *d = ova_batch_meta_acquire_display (ob);
    *d = *(const OvaDisplayMeta *) g_ptr_array_index (f->display_metas, j);
    for (guint e = 0; e < MIN (d->n_rects, OVA_MAX_DISPLAY_ELEMENTS); e++) {
      map_rect (&d->rects[e].rect, px, py, kx, ky);
      d->rects[e].border_width *= k;
    }
    for (guint e = 0; e < MIN (d->n_lines, OVA_MAX_DISPLAY_ELEMENTS); e++) {
      map_point (&d->lines[e].x1, &d->lines[e].y1, px, py, kx, ky);
      map_point (&d->lines[e].x2, &d->lines[e].y2, px, py, kx, ky);
      d->lines[e].width *= k;
    }
    for (guint e = 0; e < MIN (d->n_arrows, OVA_MAX_DISPLAY_ELEMENTS); e++) {
      map_point (&d->arrows[e].x1, &d->arrows[e].y1, px, py, kx, ky);
      map_point (&d->arrows[e].x2, &d->arrows[e].y2, px, py, kx, ky);
      d->arrows[e].width *= k;
    }
    for (guint e = 0; e < MIN (d->n_circles, OVA_MAX_DISPLAY_ELEMENTS); e++) {
      map_point (&d->circles[e].xc, &d->circles[e].yc, px, py, kx, ky);
      d->circles[e].radius *= k;
      d->circles[e].width *= k;
    }
    for (guint e = 0; e < MIN (d->n_texts, OVA_MAX_DISPLAY_ELEMENTS); e++) {
      map_point (&d->texts[e].x, &d->texts[e].y, px, py, kx, ky);
      d->texts[e].font_size *= ky;
    }
    ova_frame_meta_add_display (nf, d);
  }
}

/* ----------------------------------------------------------- transform */

typedef struct {
  guint tile;
  OvaFrameMeta *meta;    /* NULL: the whole input buffer is the frame */
  OvaMappedFrame map;
  GstVideoFrame vframe;
  gboolean mapped_meta, mapped_vframe;
  gboolean shown;        /* placed: gets a frame meta in the output */
  gint px, py, pw, ph;   /* where its picture went */
} Input;

static void
clear_scalers (GstOvaTiler *self)
{
  for (guint i = 0; i < OVA_TILER_MAX_TILES; i++)
    g_clear_pointer (&self->scalers[i], ova_scaler_free);
}

static gboolean
ensure_canvas (GstOvaTiler *self, const Layout *l)
{
  if (self->canvas && l->rows == self->layout_rows && l->cols == self->layout_cols && l->show == self->layout_show)
    return TRUE;
  if (!self->canvas)
    self->canvas = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&self->out_info), NULL);
  {
    GstVideoFrame cf;
    OvaSurface s;
    OvaPaint black;
    const OvaColor c = { 0, 0, 0, 1 };
    if (!gst_video_frame_map (&cf, &self->out_info, self->canvas, GST_MAP_WRITE))
      return FALSE;
    ova_surface_init (&s, &self->out_info, (guint8 **) cf.data, cf.info.stride);
    ova_paint_init (&black, &s, &c);
    ova_surface_clear (&s, &black);
    gst_video_frame_unmap (&cf);
  }
  self->layout_rows = l->rows;
  self->layout_cols = l->cols;
  self->layout_show = l->show;
  return TRUE;
}

#ifdef OVA_OSD_CUDA
/* ------------------------------------------------------- CUDA memory */

static void
tiler_cuda_release (GstOvaTiler *self)
{
  if (self->cuda_pool) {
    gst_buffer_pool_set_active (self->cuda_pool, FALSE);
    gst_clear_object (&self->cuda_pool);
  }
  if (self->cuda_canvas)
    gst_memory_unref (self->cuda_canvas);
  self->cuda_canvas = NULL;
  if (self->cuda_ctx && gst_cuda_context_push (self->cuda_ctx)) {
    for (guint i = 0; i < OVA_TILER_MAX_TILES; i++)
      g_clear_pointer (&self->cuda_scalers[i], ova_cuda_scaler_free);
    if (self->cuda_stream)
      CuStreamDestroy ((CUstream) self->cuda_stream);
    gst_cuda_context_pop (NULL);
  }
  self->cuda_stream = NULL;
  gst_clear_object (&self->cuda_ctx);
}

/* The CUDA context of the batch's first frame in CUDA memory. */
static GstCudaContext *
batch_cuda_context (GstBuffer *inbuf)
{
  OvaBatchMeta *ib = ova_buffer_get_batch_meta (inbuf);
  guint n = ib ? ova_batch_meta_get_n_frames (ib) : 0;
  for (guint i = 0; i < n; i++) {
    OvaFrameMeta *f = ova_batch_meta_get_frame (ib, i);
    GstMemory *m = f->memory_type == OVA_MEMORY_CUDA ? ova_frame_meta_peek_memory (inbuf, f, 0) : NULL;
    if (m && gst_is_cuda_memory (m))
      return GST_CUDA_MEMORY_CAST (m)->context;
  }
  return NULL;
}

/* Output buffers in CUDA memory of the frames' context, from a CUDA pool. */
static GstFlowReturn
tiler_cuda_output_buffer (GstOvaTiler *self, GstBuffer *inbuf, GstBuffer **outbuf)
{
  GstCudaContext *ctx = batch_cuda_context (inbuf);
  if (ctx && self->cuda_ctx && ctx != self->cuda_ctx) {
    GST_INFO_OBJECT (self, "frames moved to another CUDA context: canvas and pool follow");
    tiler_cuda_release (self);
  }
  if (!self->cuda_ctx) {
    if (!ctx) {
      GST_DEBUG_OBJECT (self, "no frame in CUDA memory yet: nothing to output");
      return GST_BASE_TRANSFORM_FLOW_DROPPED;
    }
    if (!gst_cuda_load_library ()) { /* loaded already by whoever made the memory; cheap then */
      GST_ELEMENT_ERROR (self, LIBRARY, INIT, ("The CUDA driver library could not be loaded"), (NULL));
      return GST_FLOW_ERROR;
    }
    self->cuda_ctx = gst_object_ref (ctx);
  }
  if (!self->cuda_pool) {
    GstCaps *caps = gst_video_info_to_caps (&self->out_info);
    GstStructure *config;
    gst_caps_set_features (caps, 0, gst_caps_features_new (CUDA_FEATURE, NULL));
    self->cuda_pool = gst_cuda_buffer_pool_new (self->cuda_ctx);
    config = gst_buffer_pool_get_config (self->cuda_pool);
    gst_buffer_pool_config_set_params (config, caps, GST_VIDEO_INFO_SIZE (&self->out_info), 2, 0);
    gst_buffer_pool_config_add_option (config, GST_BUFFER_POOL_OPTION_VIDEO_META);
    gst_caps_unref (caps);
    /* a pool that adjusts the config (the pitch of its memories) says so
     * with FALSE: its own version is taken */
    gboolean configured = gst_buffer_pool_set_config (self->cuda_pool, config);
    if (!configured)
      configured = gst_buffer_pool_set_config (self->cuda_pool, gst_buffer_pool_get_config (self->cuda_pool));
    if (!configured || !gst_buffer_pool_set_active (self->cuda_pool, TRUE)) {
      GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("Could not set up a CUDA buffer pool for the tiled frames"), (NULL));
      gst_clear_object (&self->cuda_pool);
      return GST_FLOW_ERROR;
    }
  }
  GstFlowReturn ret = gst_buffer_pool_acquire_buffer (self->cuda_pool, outbuf, NULL);
  if (ret != GST_FLOW_OK)
    return ret;
  /* timestamps, flags and the metas transform_meta keeps, as the default
   * prepare_output_buffer does */
  GstBaseTransformClass *klass = GST_BASE_TRANSFORM_GET_CLASS (self);
  if (klass->copy_metadata && !klass->copy_metadata (GST_BASE_TRANSFORM (self), inbuf, *outbuf)) {
    GST_ELEMENT_WARNING (self, STREAM, NOT_IMPLEMENTED, ("Could not copy the batch's metadata"), (NULL));
  }
  return GST_FLOW_OK;
}

typedef struct {
  OvaFrameMeta *meta;
  GstMemory *mem;
  GstMapInfo map;
  gint px, py, pw, ph;
} CudaInput;

/* The pointers of the (px, py) corner of an NV12 picture in device memory. */
static void
nv12_at (guint8 *base, const GstVideoInfo *info, gint x, gint y, guint8 **py, guint8 **puv)
{
  *py = base + GST_VIDEO_INFO_PLANE_OFFSET (info, 0) + (gsize) y * GST_VIDEO_INFO_PLANE_STRIDE (info, 0) + x;
  *puv = base + GST_VIDEO_INFO_PLANE_OFFSET (info, 1) + (gsize) (y / 2) * GST_VIDEO_INFO_PLANE_STRIDE (info, 1) + x;
}

static gboolean
cuda_fill (GstOvaTiler *self, guint8 *base, const GstVideoInfo *info, gint x, gint y, gint w, gint h,
    const OvaPaint *black, GError **err)
{
  guint8 *py, *puv;
  if (w <= 0 || h <= 0)
    return TRUE;
  nv12_at (base, info, x, y, &py, &puv);
  return ova_cuda_fill_nv12 (py, GST_VIDEO_INFO_PLANE_STRIDE (info, 0), puv, GST_VIDEO_INFO_PLANE_STRIDE (info, 1), w, h,
      black, self->cuda_stream, err);
}

/* The CPU transform's work on the GPU: the same tiles, letterbox bars,
 * scaler filters (so the same bytes), canvas that keeps missing sources'
 * last pictures and metadata; the frames never leave device memory. */
static GstFlowReturn
tiler_transform_cuda (GstOvaTiler *self, GstBuffer *inbuf, GstBuffer *outbuf)
{
  OvaBatchMeta *ib = ova_buffer_get_batch_meta (inbuf), *ob = NULL;
  guint n_in = ib ? ova_batch_meta_get_n_frames (ib) : 0, n_tiles, n_inputs = 0;
  GstMemory *omem = gst_buffer_n_memory (outbuf) == 1 ? gst_buffer_peek_memory (outbuf, 0) : NULL;
  GstMapInfo omap, cmap;
  gboolean omapped = FALSE, cmapped = FALSE, pushed = FALSE;
  CudaInput *in;
  OvaCudaScaleJob *jobs;
  guint n_jobs = 0;
  gint *tile_job = self->tile_job;
  GError *err = NULL;
  GstFlowReturn ret = GST_FLOW_OK;
  OvaSurface fmt_surface;
  OvaPaint black;
  const OvaColor bc = { 0, 0, 0, 1 };
  guint8 *const no_data[3] = { NULL, NULL, NULL };
  const gint no_stride[3] = { 0, 0, 0 };
  GstVideoInfo *oinfo, *cinfo;
  Layout l;

  GST_OBJECT_LOCK (self);
  l.rows = self->rows; l.cols = self->columns; l.show = self->show_source; l.threads = self->n_threads;
  GST_OBJECT_UNLOCK (self);
  n_tiles = MIN (l.rows * l.cols, OVA_TILER_MAX_TILES);
  if (!omem || !gst_is_cuda_memory (omem) || GST_CUDA_MEMORY_CAST (omem)->context != self->cuda_ctx) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION, ("Output buffer is not one CUDA memory of the frames' context"), (NULL));
    return GST_FLOW_ERROR;
  }
  oinfo = &GST_CUDA_MEMORY_CAST (omem)->info;
  ova_surface_init (&fmt_surface, &self->out_info, no_data, no_stride);
  ova_paint_init (&black, &fmt_surface, &bc);
  if (ib) {
    ova_batch_meta_latency_enter (ib, "ovatiler");
    ova_batch_meta_lock (ib);
  }
  in = g_newa (CudaInput, MAX (n_in, 1));
  jobs = g_newa (OvaCudaScaleJob, MAX (n_in, 1));
  memset (in, 0, sizeof (CudaInput) * MAX (n_in, 1));
  memset (tile_job, 0xff, sizeof (gint) * OVA_TILER_MAX_TILES);

  if (!self->cuda_canvas) {
    /* libgstcuda 1.22 wants its registered allocator here, not NULL */
    GstAllocator *alloc;
    gst_cuda_memory_init_once ();
    alloc = gst_allocator_find (GST_CUDA_MEMORY_TYPE_NAME);
    if (alloc && GST_IS_CUDA_ALLOCATOR (alloc))
      self->cuda_canvas = gst_cuda_allocator_alloc (GST_CUDA_ALLOCATOR (alloc), self->cuda_ctx, &self->out_info);
    if (alloc)
      gst_object_unref (alloc);
    self->cuda_canvas_clear = FALSE;
    if (!self->cuda_canvas) {
      GST_ELEMENT_ERROR (self, RESOURCE, NO_SPACE_LEFT, ("Could not allocate the canvas in CUDA memory"), (NULL));
      ret = GST_FLOW_ERROR;
      goto out;
    }
  }
  cinfo = &GST_CUDA_MEMORY_CAST (self->cuda_canvas)->info;
  if (!gst_memory_map (self->cuda_canvas, &cmap, GST_MAP_READWRITE | GST_MAP_CUDA)
      || !(cmapped = TRUE) || !gst_memory_map (omem, &omap, GST_MAP_WRITE | GST_MAP_CUDA)) {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("Could not map the canvas or the output in CUDA memory"), (NULL));
    ret = GST_FLOW_ERROR;
    goto out;
  }
  omapped = TRUE;

  /* inputs, chosen as the CPU path chooses them */
  for (guint i = 0; i < n_in; i++) {
    OvaFrameMeta *f = ova_batch_meta_get_frame (ib, i);
    CudaInput *x = &in[n_inputs];
    guint tile;
    GstCudaMemory *cm;
    if (l.show >= 0 && (gint) f->source_id != l.show)
      continue;
    tile = l.show >= 0 ? 0 : f->source_id;
    if (tile >= n_tiles || tile_job[tile] >= 0 || f->n_mems == 0)
      continue;
    x->mem = ova_frame_meta_peek_memory (inbuf, f, 0);
    if (f->memory_type != OVA_MEMORY_CUDA || f->n_mems != 1 || !x->mem || !gst_is_cuda_memory (x->mem)
        || GST_VIDEO_INFO_FORMAT (&f->video_info) != GST_VIDEO_FORMAT_NV12) {
      if (!self->warned_format)
        GST_ELEMENT_WARNING (self, STREAM, FORMAT, ("Frame cannot be tiled on the GPU"),
            ("frame of source %u: not one NV12 CUDA memory (%s, %u memories); not shown", f->source_id,
                gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (&f->video_info)), f->n_mems));
      self->warned_format = TRUE;
      x->mem = NULL;
      continue;
    }
    cm = GST_CUDA_MEMORY_CAST (x->mem);
    if (cm->context != self->cuda_ctx) {
      if (!self->warned_ctx)
        GST_ELEMENT_WARNING (self, STREAM, NOT_IMPLEMENTED, ("Frames of one batch in two CUDA contexts"),
            ("frame of source %u is in another CUDA context than the tiled output; not shown", f->source_id));
      self->warned_ctx = TRUE;
      x->mem = NULL;
      continue;
    }
    if (GST_VIDEO_INFO_WIDTH (&cm->info) < GST_VIDEO_INFO_WIDTH (&f->video_info)
        || GST_VIDEO_INFO_HEIGHT (&cm->info) < GST_VIDEO_INFO_HEIGHT (&f->video_info)) {
      GST_WARNING_OBJECT (self, "frame %u: its CUDA memory is smaller than the frame: not shown", i);
      x->mem = NULL;
      continue;
    }
    if (!gst_memory_map (x->mem, &x->map, GST_MAP_READ | GST_MAP_CUDA)) {
      GST_WARNING_OBJECT (self, "cannot map frame %u of the batch", i);
      x->mem = NULL;
      continue;
    }
    x->meta = f;
    tile_job[tile] = (gint) n_inputs++;
  }

  if (!gst_cuda_context_push (self->cuda_ctx)) {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("Could not make the frames' CUDA context current"), (NULL));
    ret = GST_FLOW_ERROR;
    goto out;
  }
  pushed = TRUE;
  if (!self->cuda_stream) {
    CUstream st = NULL;
    if (CuStreamCreate (&st, CU_STREAM_NON_BLOCKING) != CUDA_SUCCESS) {
      GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("Could not create a CUDA stream"), (NULL));
      ret = GST_FLOW_ERROR;
      goto out;
    }
    self->cuda_stream = st;
  }
  /* a new layout starts from a black canvas, as on the CPU */
  if (!self->cuda_canvas_clear || l.rows != self->layout_rows || l.cols != self->layout_cols
      || l.show != self->layout_show) {
    if (!cuda_fill (self, cmap.data, cinfo, 0, 0, GST_VIDEO_INFO_WIDTH (&self->out_info),
            GST_VIDEO_INFO_HEIGHT (&self->out_info), &black, &err))
      goto cuda_error;
    self->layout_rows = l.rows;
    self->layout_cols = l.cols;
    self->layout_show = l.show;
    self->cuda_canvas_clear = TRUE;
  }
  for (guint t = 0; t < OVA_TILER_MAX_TILES; t++) {
    CudaInput *x;
    OvaScaler **sc;
    gint fw, fh, tx, ty, tw, th, ox, oy;
    guint8 *dy, *duv;
    if (tile_job[t] < 0)
      continue;
    x = &in[tile_job[t]];
    GstVideoInfo *si = &GST_CUDA_MEMORY_CAST (x->mem)->info;
    fw = GST_VIDEO_INFO_WIDTH (&x->meta->video_info);
    fh = GST_VIDEO_INFO_HEIGHT (&x->meta->video_info);
    tile_geometry (self, &l, t, fw, fh, &tx, &ty, &tw, &th, &x->px, &x->py, &x->pw, &x->ph);
    sc = &self->scalers[t];
    if (!ova_scaler_matches (*sc, OVA_PIXEL_NV12, OVA_PIXEL_NV12, fw, fh, x->pw, x->ph)) {
      ova_scaler_free (*sc);
      *sc = ova_scaler_new (OVA_PIXEL_NV12, OVA_PIXEL_NV12, fw, fh, x->pw, x->ph, OVA_SCALER_SCALAR);
    }
    if (!ova_cuda_scaler_matches (self->cuda_scalers[t], fw, fh, x->pw, x->ph)) {
      ova_cuda_scaler_free (self->cuda_scalers[t]);
      if (!(self->cuda_scalers[t] = ova_cuda_scaler_new (*sc, &err)))
        goto cuda_error;
    }
    /* letterbox bars: the tile minus the fitted picture */
    ox = x->px - tx;
    oy = x->py - ty;
    if (x->pw != tw || x->ph != th) {
      if (!cuda_fill (self, cmap.data, cinfo, tx, ty, tw, oy, &black, &err)
          || !cuda_fill (self, cmap.data, cinfo, tx, ty + oy + x->ph, tw, th - oy - x->ph, &black, &err)
          || !cuda_fill (self, cmap.data, cinfo, tx, ty + oy, ox, x->ph, &black, &err)
          || !cuda_fill (self, cmap.data, cinfo, tx + ox + x->pw, ty + oy, tw - ox - x->pw, x->ph, &black, &err))
        goto cuda_error;
    }
    OvaCudaScaleJob *j = &jobs[n_jobs++];
    j->scaler = self->cuda_scalers[t];
    j->src_y = x->map.data + GST_VIDEO_INFO_PLANE_OFFSET (si, 0);
    j->src_uv = x->map.data + GST_VIDEO_INFO_PLANE_OFFSET (si, 1);
    j->src_y_pitch = GST_VIDEO_INFO_PLANE_STRIDE (si, 0);
    j->src_uv_pitch = GST_VIDEO_INFO_PLANE_STRIDE (si, 1);
    nv12_at (cmap.data, cinfo, x->px, x->py, &dy, &duv);
    j->dst_y = dy;
    j->dst_uv = duv;
    j->dst_y_pitch = GST_VIDEO_INFO_PLANE_STRIDE (cinfo, 0);
    j->dst_uv_pitch = GST_VIDEO_INFO_PLANE_STRIDE (cinfo, 1);
  }
  if (!ova_cuda_scale_nv12 (jobs, n_jobs, self->cuda_stream, &err))
    goto cuda_error;
  /* the output is the whole canvas: tiles, kept tiles and the stripes right
   * of and below the grid, as the CPU path copies them */
  for (guint p = 0; p < 2; p++) {
    CUDA_MEMCPY2D cp;
    memset (&cp, 0, sizeof (cp));
    cp.srcMemoryType = CU_MEMORYTYPE_DEVICE;
    cp.srcDevice = (CUdeviceptr) (cmap.data + GST_VIDEO_INFO_PLANE_OFFSET (cinfo, p));
    cp.srcPitch = GST_VIDEO_INFO_PLANE_STRIDE (cinfo, p);
    cp.dstMemoryType = CU_MEMORYTYPE_DEVICE;
    cp.dstDevice = (CUdeviceptr) (omap.data + GST_VIDEO_INFO_PLANE_OFFSET (oinfo, p));
    cp.dstPitch = GST_VIDEO_INFO_PLANE_STRIDE (oinfo, p);
    cp.WidthInBytes = p ? 2 * ((GST_VIDEO_INFO_WIDTH (&self->out_info) + 1) / 2) : GST_VIDEO_INFO_WIDTH (&self->out_info);
    cp.Height = p ? (GST_VIDEO_INFO_HEIGHT (&self->out_info) + 1) / 2 : GST_VIDEO_INFO_HEIGHT (&self->out_info);
    if (CuMemcpy2DAsync (&cp, (CUstream) self->cuda_stream) != CUDA_SUCCESS) {
      g_set_error (&err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED, "cuMemcpy2DAsync (canvas to output) failed");
      goto cuda_error;
    }
  }
  /* inputs are released and the output goes downstream only when done */
  if (CuStreamSynchronize ((CUstream) self->cuda_stream) != CUDA_SUCCESS) {
    g_set_error (&err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED, "cuStreamSynchronize failed");
    goto cuda_error;
  }
  goto out;

cuda_error:
  GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("Tiling on the GPU failed"), ("%s", err ? err->message : "?"));
  g_clear_error (&err);
  ret = GST_FLOW_ERROR;
out:
  if (pushed)
    gst_cuda_context_pop (NULL);
  if (omapped)
    gst_memory_unmap (omem, &omap);
  if (cmapped)
    gst_memory_unmap (self->cuda_canvas, &cmap);
  for (guint i = 0; i < n_inputs; i++)
    gst_memory_unmap (in[i].mem, &in[i].map);
  if (ret == GST_FLOW_OK) {
    GstVideoInfo layout = *oinfo; /* frame metas describe the output memory (its pitch) */
    for (guint i = 0; i < n_inputs; i++) {
      if (!ob)
        ob = ova_buffer_add_batch_meta (outbuf, ib->max_frames, ib->pool);
      add_output_frame (ob, in[i].meta, &layout, 1, OVA_MEMORY_CUDA, in[i].px, in[i].py, in[i].pw, in[i].ph);
    }
  }
  if (ib) {
    ova_batch_meta_unlock (ib);
    ova_batch_meta_latency_exit (ib, "ovatiler");
  }
  return ret;
}

static GstFlowReturn
gst_ova_tiler_prepare_output_buffer (GstBaseTransform *bt, GstBuffer *inbuf, GstBuffer **outbuf)
{
  GstOvaTiler *self = GST_OVA_TILER (bt);
  if (self->cuda)
    return tiler_cuda_output_buffer (self, inbuf, outbuf);
  return GST_BASE_TRANSFORM_CLASS (gst_ova_tiler_parent_class)->prepare_output_buffer (bt, inbuf, outbuf);
}
#endif

static GstFlowReturn
gst_ova_tiler_transform (GstBaseTransform *bt, GstBuffer *inbuf, GstBuffer *outbuf)
{
  GstOvaTiler *self = GST_OVA_TILER (bt);
  OvaBatchMeta *ib = ova_buffer_get_batch_meta (inbuf), *ob = NULL;
  OvaPixelFormat fmt = ova_pixel_format_from_video (GST_VIDEO_INFO_FORMAT (&self->out_info));
  Layout l;
  guint n_in = ib ? ova_batch_meta_get_n_frames (ib) : 1, n_jobs = 0, n_tiles;
  Input *in;
  TileJob *jobs;
  GstVideoFrame cf, of;
  GstVideoInfo out_layout;
  OvaSurface canvas, outs;
  OvaPaint black;
  gint *tile_job = self->tile_job; /* tile -> its job, -1: none yet */
  const OvaColor bc = { 0, 0, 0, 1 };
  GstFlowReturn ret = GST_FLOW_OK;

#ifdef OVA_OSD_CUDA
  if (self->cuda)
    return tiler_transform_cuda (self, inbuf, outbuf);
#endif
  GST_OBJECT_LOCK (self);
  l.rows = self->rows; l.cols = self->columns; l.show = self->show_source; l.threads = self->n_threads;
  GST_OBJECT_UNLOCK (self);
  n_tiles = MIN (l.rows * l.cols, OVA_TILER_MAX_TILES);

  if (!ensure_canvas (self, &l))
    return GST_FLOW_ERROR;
  if (ib) {
    ova_batch_meta_latency_enter (ib, "ovatiler");
    ova_batch_meta_lock (ib);
  }
  in = g_newa (Input, MAX (n_in, 1));
  jobs = self->jobs;
  memset (in, 0, sizeof (Input) * MAX (n_in, 1));
  memset (tile_job, 0xff, sizeof (gint) * OVA_TILER_MAX_TILES);
  if (!gst_video_frame_map (&cf, &self->out_info, self->canvas, GST_MAP_READWRITE)) {
    ret = GST_FLOW_ERROR;
    goto out;
  }
  if (!gst_video_frame_map (&of, &self->out_info, outbuf, GST_MAP_WRITE)) {
    gst_video_frame_unmap (&cf);
    ret = GST_FLOW_ERROR;
    goto out;
  }
  ova_surface_init (&canvas, &self->out_info, (guint8 **) cf.data, cf.info.stride);
  ova_surface_init (&outs, &of.info, (guint8 **) of.data, of.info.stride);
  ova_paint_init (&black, &canvas, &bc);

  for (guint i = 0; i < n_in; i++) {
    Input *x = &in[i];
    OvaFrameMeta *f = ib ? ova_batch_meta_get_frame (ib, i) : NULL;
    guint source = f ? f->source_id : 0;
    const GstVideoInfo *fi;
    OvaSurface src;
    gint tx, ty, tw, th, px, py, pw, ph;

    if (l.show >= 0 && (gint) source != l.show)
      continue;
    x->tile = l.show >= 0 ? 0 : source;
    if (x->tile >= n_tiles)
      continue; /* more sources than tiles: not shown */
    if (tile_job[x->tile] >= 0)
      continue; /* two frames of one source in a batch: the first is shown */
    x->meta = f;
    if (f && f->n_mems == 0)
      continue; /* a frame without pixels (the muxer could not scale it) */
    if (f) {
      if (f->memory_type != OVA_MEMORY_SYSTEM) {
        if (!self->warned_cuda)
          GST_ELEMENT_WARNING (self, STREAM, NOT_IMPLEMENTED, ("Frames in CUDA memory are not tiled yet"),
              ("frame of source %u is in CUDA memory; its tile is left as it was", source));
        self->warned_cuda = TRUE;
        continue;
      }
      fi = &f->video_info;
    } else if (!self->batch_input) {
      fi = &self->in_info;
    } else {
      continue; /* a batch without batch meta: nothing to show */
    }
    if (!ova_scaler_can_convert (ova_pixel_format_from_video (GST_VIDEO_INFO_FORMAT (fi)), fmt)) {
      if (self->batch_input && !self->renegotiated &&
          ova_pixel_format_from_video (GST_VIDEO_INFO_FORMAT (fi)) != OVA_PIXEL_UNKNOWN) {
        /* negotiated before any frame was seen: ask downstream for this frame's format */
        self->preferred_format = GST_VIDEO_INFO_FORMAT (fi);
        self->renegotiated = TRUE;
        gst_base_transform_reconfigure_src (bt);
        continue;
      }
      if (!self->warned_format)
        GST_ELEMENT_WARNING (self, STREAM, FORMAT, ("Frame format cannot be tiled into the output format"),
            ("frame of source %u is %s, output is %s (YUV 4:2:0 and packed RGB convert within "
             "their family only); the frame is not shown", source,
                gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (fi)),
                gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (&self->out_info))));
      self->warned_format = TRUE;
      continue;
    }
    if (f) {
      if (!ova_osd_frame_fits (inbuf, f)) {
        GST_WARNING_OBJECT (self, "frame %u of the batch names memories %u..%u holding less than its "
            "%" G_GSIZE_FORMAT "-byte picture: not shown", i, f->mem_index, f->mem_index + f->n_mems,
            GST_VIDEO_INFO_SIZE (&f->video_info));
        continue;
      }
      if (!ova_frame_meta_map (inbuf, f, &x->map, GST_MAP_READ)) {
        GST_WARNING_OBJECT (self, "cannot map frame %u of the batch", i);
        continue;
      }
      x->mapped_meta = TRUE;
      ova_surface_init (&src, &x->map.info, x->map.data, x->map.stride);
    } else {
      if (!gst_video_frame_map (&x->vframe, &self->in_info, inbuf, GST_MAP_READ)) {
        GST_WARNING_OBJECT (self, "cannot map the input frame");
        continue;
      }
      x->mapped_vframe = TRUE;
      ova_surface_init (&src, &x->vframe.info, (guint8 **) x->vframe.data, x->vframe.info.stride);
    }
    tile_geometry (self, &l, x->tile, src.width, src.height, &tx, &ty, &tw, &th, &px, &py, &pw, &ph);
    if (!ova_scaler_matches (self->scalers[x->tile], src.format, fmt, src.width, src.height, pw, ph)) {
      ova_scaler_free (self->scalers[x->tile]);
      self->scalers[x->tile] = ova_scaler_new (src.format, fmt, src.width, src.height, pw, ph, OVA_SCALER_AUTO);
    }
    tile_job[x->tile] = n_jobs;
    TileJob *j = &jobs[n_jobs++];
    j->scaler = self->scalers[x->tile];
    j->src = src;
    ova_surface_sub (&canvas, tx, ty, tw, th, &j->tile);
    ova_surface_sub (&outs, tx, ty, tw, th, &j->out);
    ova_surface_sub (&canvas, px, py, pw, ph, &j->dst);
    j->ox = px - tx;
    j->oy = py - ty;
    j->black = black;
    x->shown = f != NULL;
    x->px = px; x->py = py; x->pw = pw; x->ph = ph;
  }

  /* tiles with nothing new keep their last picture: copy it from the canvas */
  for (guint t = 0; t < (l.show >= 0 ? 1 : n_tiles); t++) {
    gint tx, ty, tw, th, px, py, pw, ph;
    TileJob *j;
    if (tile_job[t] >= 0)
      continue;
    tile_geometry (self, &l, t, 1, 1, &tx, &ty, &tw, &th, &px, &py, &pw, &ph);
    j = &jobs[n_jobs++];
    memset (j, 0, sizeof (*j));
    ova_surface_sub (&canvas, tx, ty, tw, th, &j->tile);
    ova_surface_sub (&outs, tx, ty, tw, th, &j->out);
  }
  if (l.threads != 1 && !self->workers)
    self->workers = ova_workers_new ((l.threads ? l.threads : g_get_num_processors ()) - 1);
  ova_workers_run (l.threads == 1 ? NULL : self->workers, tile_job_func, NULL, jobs, sizeof (TileJob), n_jobs);
  /* the stripes right of and below the grid when the size does not divide */
  if (l.show < 0) {
    gint tx, ty, tw, th, px, py, pw, ph;
    OvaSurface a, b;
    tile_geometry (self, &l, 0, 1, 1, &tx, &ty, &tw, &th, &px, &py, &pw, &ph);
    gint gw = tw * (gint) l.cols, gh = th * (gint) l.rows;
    if (gw < outs.width) {
      ova_surface_sub (&canvas, gw, 0, outs.width - gw, outs.height, &a);
      ova_surface_sub (&outs, gw, 0, outs.width - gw, outs.height, &b);
      ova_surface_copy (&b, &a);
    }
    if (gh < outs.height) {
      ova_surface_sub (&canvas, 0, gh, gw, outs.height - gh, &a);
      ova_surface_sub (&outs, 0, gh, gw, outs.height - gh, &b);
      ova_surface_copy (&b, &a);
    }
  }
  out_layout = of.info; /* frame metas describe the output memory as mapped (pool strides) */
  gst_video_frame_unmap (&of);
  gst_video_frame_unmap (&cf);
  /* the output buffer is writable again once unmapped: attach the meta */
  for (guint i = 0; i < n_in; i++) {
    if (!in[i].shown)
      continue;
    if (!ob)
      ob = ova_buffer_add_batch_meta (outbuf, ib->max_frames, ib->pool);
    add_output_frame (ob, in[i].meta, &out_layout, gst_buffer_n_memory (outbuf), OVA_MEMORY_SYSTEM, in[i].px,
        in[i].py, in[i].pw, in[i].ph);
  }

out:
  for (guint i = 0; i < n_in; i++) {
    if (in[i].mapped_meta)
      ova_mapped_frame_unmap (&in[i].map);
    if (in[i].mapped_vframe)
      gst_video_frame_unmap (&in[i].vframe);
  }
  if (ib) {
    ova_batch_meta_unlock (ib);
    ova_batch_meta_latency_exit (ib, "ovatiler");
  }
  return ret;
}

static gboolean
gst_ova_tiler_transform_meta (GstBaseTransform *bt, GstBuffer *outbuf, GstMeta *meta, GstBuffer *inbuf)
{
  /* The batch meta is rebuilt for the tiled picture; other metas that do not
   * depend on the picture's size (no tags) are copied. */
  if (meta->info->api == OVA_BATCH_META_API_TYPE)
    return FALSE;
  return GST_BASE_TRANSFORM_CLASS (gst_ova_tiler_parent_class)->transform_meta (bt, outbuf, meta, inbuf);
}

static GstCaps *
gst_ova_tiler_transform_caps (GstBaseTransform *bt, GstPadDirection direction, GstCaps *caps, GstCaps *filter)
{
  GstOvaTiler *self = GST_OVA_TILER (bt);
  GstCaps *res = gst_caps_new_empty ();
  guint w, h;
  GST_OBJECT_LOCK (self);
  w = self->width; h = self->height;
  GST_OBJECT_UNLOCK (self);
  for (guint i = 0; i < gst_caps_get_size (caps); i++) {
    const GstStructure *in = gst_caps_get_structure (caps, i);
    GstCapsFeatures *feat = gst_caps_get_features (caps, i);
    GstStructure *s;
    /* CUDA memory in gives NV12 in CUDA memory out, and back */
    if (feat && gst_caps_features_contains (feat, CUDA_FEATURE) && !gst_caps_features_is_any (feat)) {
#ifdef OVA_OSD_CUDA
      if (direction == GST_PAD_SINK) {
        if (!gst_structure_has_name (in, OVA_BATCH_MEDIA_TYPE))
          continue; /* plain video in CUDA memory: not taken */
        s = gst_structure_new ("video/x-raw", "format", G_TYPE_STRING, "NV12", "framerate", GST_TYPE_FRACTION, 0, 1,
            "width", G_TYPE_INT, (gint) w, "height", G_TYPE_INT, (gint) h, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1,
            1, NULL);
        gst_caps_append_structure_full (res, s, gst_caps_features_new (CUDA_FEATURE, NULL));
      } else {
        gst_caps_append_structure_full (res, gst_structure_new_empty (OVA_BATCH_MEDIA_TYPE),
            gst_caps_features_new (CUDA_FEATURE, NULL));
      }
#endif
      continue;
    }
    if (direction == GST_PAD_SINK) {
      if (gst_structure_has_name (in, OVA_BATCH_MEDIA_TYPE)) {
        /* a batch says nothing of formats or rates: the output can be any
         * drawable format (frames of another format are not shown) */
        GValue formats = G_VALUE_INIT;
        s = gst_structure_new ("video/x-raw", "framerate", GST_TYPE_FRACTION, 0, 1, NULL);
        g_value_init (&formats, GST_TYPE_LIST);
        for (const gchar *const *f = (const gchar *const[]) { "NV12", "I420", "RGBA", "BGRA", "RGBx", "BGRx", NULL }; *f; f++) {
          GValue v = G_VALUE_INIT;
          g_value_init (&v, G_TYPE_STRING);
          g_value_set_string (&v, *f);
          gst_value_list_append_and_take_value (&formats, &v);
        }
        gst_structure_take_value (s, "format", &formats);
      } else {
        s = gst_structure_copy (in);
      }
      gst_structure_set (s, "width", G_TYPE_INT, (gint) w, "height", G_TYPE_INT, (gint) h,
          "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
      gst_caps_append_structure (res, s);
    } else {
      s = gst_structure_copy (in);
      gst_structure_remove_fields (s, "width", "height", "pixel-aspect-ratio", NULL);
      gst_caps_append_structure (res, s);
      gst_caps_append_structure (res, gst_structure_new_empty (OVA_BATCH_MEDIA_TYPE));
    }
  }
  if (filter) {
    GstCaps *t = gst_caps_intersect_full (filter, res, GST_CAPS_INTERSECT_FIRST);
    gst_caps_unref (res);
    res = t;
  }
  return res;
}

/* A batch's caps name no format: output the frames' format, NV12 until a
 * batch shows frames the output cannot take (then renegotiate, see transform). */
static GstCaps *
gst_ova_tiler_fixate_caps (GstBaseTransform *bt, GstPadDirection direction, GstCaps *caps, GstCaps *othercaps)
{
  GstOvaTiler *self = GST_OVA_TILER (bt);
  if (direction == GST_PAD_SINK) {
    GstCaps *pref = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING,
        gst_video_format_to_string (self->preferred_format), NULL);
    GstCaps *inter = gst_caps_intersect (othercaps, pref);
    gst_caps_unref (pref);
    if (!gst_caps_is_empty (inter)) {
      gst_caps_unref (othercaps);
      othercaps = inter;
    } else {
      gst_caps_unref (inter);
    }
  }
  return GST_BASE_TRANSFORM_CLASS (gst_ova_tiler_parent_class)->fixate_caps (bt, direction, caps, othercaps);
}

static gboolean
gst_ova_tiler_set_caps (GstBaseTransform *bt, GstCaps *incaps, GstCaps *outcaps)
{
  GstOvaTiler *self = GST_OVA_TILER (bt);
  GstVideoInfo out;
  /* GstVideoFilter's set_caps cannot read batch caps and would turn in-place
   * on: the tiler reads its own caps and always writes a new buffer. */
  if (!gst_video_info_from_caps (&out, outcaps))
    return FALSE;
  self->batch_input = gst_structure_has_name (gst_caps_get_structure (incaps, 0), OVA_BATCH_MEDIA_TYPE);
  if (!self->batch_input && !gst_video_info_from_caps (&self->in_info, incaps))
    return FALSE;
  self->out_info = out;
  self->have_info = TRUE;
  gst_clear_buffer (&self->canvas);
  clear_scalers (self);
  {
    GstCapsFeatures *f = gst_caps_get_features (outcaps, 0);
    self->cuda = f && gst_caps_features_contains (f, CUDA_FEATURE);
  }
#ifdef OVA_OSD_CUDA
  tiler_cuda_release (self); /* the pool and canvas have the old size */
#endif
  gst_base_transform_set_in_place (bt, FALSE);
  gst_base_transform_set_passthrough (bt, FALSE);
  return TRUE;
}

static gboolean
gst_ova_tiler_stop (GstBaseTransform *bt)
{
  GstOvaTiler *self = GST_OVA_TILER (bt);
  gst_clear_buffer (&self->canvas);
  clear_scalers (self);
#ifdef OVA_OSD_CUDA
  tiler_cuda_release (self);
#endif
  ova_workers_free (self->workers);
  self->workers = NULL;
  self->warned_format = self->warned_cuda = self->warned_ctx = FALSE;
  return TRUE;
}

static void
gst_ova_tiler_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  GstOvaTiler *self = GST_OVA_TILER (object);
  gboolean renegotiate = FALSE;
  GST_OBJECT_LOCK (self);
  switch (id) {
    case PROP_ROWS: self->rows = g_value_get_uint (value); break;
    case PROP_COLUMNS: self->columns = g_value_get_uint (value); break;
    case PROP_SHOW_SOURCE: self->show_source = g_value_get_int (value); break;
    case PROP_THREADS: self->n_threads = g_value_get_uint (value); break;
    case PROP_WIDTH: self->width = g_value_get_uint (value); renegotiate = TRUE; break;
    case PROP_HEIGHT: self->height = g_value_get_uint (value); renegotiate = TRUE; break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
  if (renegotiate)
    gst_base_transform_reconfigure_src (GST_BASE_TRANSFORM (self));
}

static void
gst_ova_tiler_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  GstOvaTiler *self = GST_OVA_TILER (object);
  GST_OBJECT_LOCK (self);
  switch (id) {
    case PROP_ROWS: g_value_set_uint (value, self->rows); break;
    case PROP_COLUMNS: g_value_set_uint (value, self->columns); break;
    case PROP_WIDTH: g_value_set_uint (value, self->width); break;
    case PROP_HEIGHT: g_value_set_uint (value, self->height); break;
    case PROP_SHOW_SOURCE: g_value_set_int (value, self->show_source); break;
    case PROP_THREADS: g_value_set_uint (value, self->n_threads); break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_ova_tiler_finalize (GObject *object)
{
  GstOvaTiler *self = GST_OVA_TILER (object);
  gst_clear_buffer (&self->canvas);
  clear_scalers (self);
#ifdef OVA_OSD_CUDA
  tiler_cuda_release (self);
#endif
  g_free (self->cuda_scalers);
  ova_workers_free (self->workers);
  g_free (self->jobs);
  g_free (self->scalers);
  g_free (self->tile_job);
  G_OBJECT_CLASS (gst_ova_tiler_parent_class)->finalize (object);
}

static void
gst_ova_tiler_class_init (GstOvaTilerClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  GstElementClass *ec = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *bc = GST_BASE_TRANSFORM_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  GST_DEBUG_CATEGORY_INIT (ova_tiler_debug, "ovatiler", 0, "ova tiler");
  oc->set_property = gst_ova_tiler_set_property;
  oc->get_property = gst_ova_tiler_get_property;
  oc->finalize = gst_ova_tiler_finalize;

  g_object_class_install_property (oc, PROP_ROWS,
      g_param_spec_uint ("rows", "Rows", "Rows of the grid", 1, OVA_TILER_MAX_DIM, 1, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (oc, PROP_COLUMNS,
      g_param_spec_uint ("columns", "Columns", "Columns of the grid", 1, OVA_TILER_MAX_DIM, 1, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (oc, PROP_WIDTH,
      g_param_spec_uint ("width", "Width", "Width of the output frame (changing it renegotiates)",
          16, 16384, 1280, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (oc, PROP_HEIGHT,
      g_param_spec_uint ("height", "Height", "Height of the output frame (changing it renegotiates)",
          16, 16384, 720, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (oc, PROP_SHOW_SOURCE,
      g_param_spec_int ("show-source", "Show source",
          "Source id to show alone at full size, -1 for the grid", -1, G_MAXINT, -1, rw | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (oc, PROP_THREADS,
      g_param_spec_uint ("threads", "Threads",
          "Threads scaling tiles in parallel (0: one per CPU core, 1: the streaming thread only)",
          0, 64, 0, rw | GST_PARAM_MUTABLE_READY));

  gst_element_class_add_static_pad_template (ec, &sink_template);
  gst_element_class_add_static_pad_template (ec, &src_template);
  gst_element_class_set_static_metadata (ec, "ova tiler", "Filter/Editor/Video/Compositor",
      "Composes the frames of an ova batch into one rows x columns frame", "ova project");

  bc->transform = GST_DEBUG_FUNCPTR (gst_ova_tiler_transform);
  bc->transform_caps = GST_DEBUG_FUNCPTR (gst_ova_tiler_transform_caps);
  bc->transform_meta = GST_DEBUG_FUNCPTR (gst_ova_tiler_transform_meta);
  bc->stop = GST_DEBUG_FUNCPTR (gst_ova_tiler_stop);
  bc->set_caps = GST_DEBUG_FUNCPTR (gst_ova_tiler_set_caps);
  bc->fixate_caps = GST_DEBUG_FUNCPTR (gst_ova_tiler_fixate_caps);
  bc->transform_ip = NULL;
#ifdef OVA_OSD_CUDA
  bc->prepare_output_buffer = GST_DEBUG_FUNCPTR (gst_ova_tiler_prepare_output_buffer);
#endif
  /* GstVideoFilter gives the output pool; its set_info/transform_frame are not
   * used: batches are not video frames */
}

static void
gst_ova_tiler_init (GstOvaTiler *self)
{
  self->rows = self->columns = 1;
  self->width = 1280;
  self->height = 720;
  self->show_source = -1;
  self->preferred_format = GST_VIDEO_FORMAT_NV12;
  self->jobs = g_new0 (TileJob, OVA_TILER_MAX_TILES);
  self->scalers = g_new0 (OvaScaler *, OVA_TILER_MAX_TILES);
  self->tile_job = g_new0 (gint, OVA_TILER_MAX_TILES);
  self->cuda_scalers = g_new0 (gpointer, OVA_TILER_MAX_TILES);
}
