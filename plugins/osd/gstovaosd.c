/* ova — ovaosd: draws object boxes, labels and display meta on batched frames. SPDX-License-Identifier: MIT */
/**
 * SECTION:element-ovaosd
 * @title: ovaosd
 *
 * Draws, in place on every frame of an ova batch, the boxes of the frame's
 * objects (per-class colours, configurable border width), a label above each
 * box such as `person 12 0.87` (class, tracker id, confidence; each part can
 * be switched off), the object's classifier results under the label, and
 * every OvaDisplayMeta primitive (rectangles with optional fill and alpha,
 * lines, arrows, circles, text with background).
 *
 * Frames in system memory (NV12, I420, RGBA, BGRA, RGBx, BGRx) are drawn by
 * the CPU; a frame whose memory is shared with another buffer (a tee branch)
 * is copied first, so other branches never see the drawing. Text comes from
 * a glyph atlas rendered once per font size. NV12 frames in CUDA memory
 * (GstCudaMemory) are drawn in place on the GPU: the same drawing code
 * records the batch's pixel operations (OvaDrawList), one kernel applies them
 * with the CPU drawer's arithmetic, so the bytes are the CPU's; no pixel goes
 * to the host. Buffers without ova batch meta pass through unchanged.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 ovamux name=m batch-size=2 ! ovaosd border-width=4 ! ovatiler columns=2 width=1280 height=360 ! \
 *     videoconvert ! autovideosink \
 *   videotestsrc num-buffers=300 ! video/x-raw,format=NV12,width=640,height=360 ! m.sink_0 \
 *   videotestsrc num-buffers=300 pattern=ball ! video/x-raw,format=NV12,width=640,height=360 ! m.sink_1
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "gstovaosd.h"
#include "frame-check.h"
#include "workers.h"
#include <ova/meta.h>
#include <string.h>
#include <stdio.h>
#ifdef OVA_OSD_CUDA
#include <gst/cuda/gstcudaloader.h>
#include <gst/cuda/cuda-gst.h>
#include <gst/cuda/gstcudacontext.h>
#include <gst/cuda/gstcudamemory.h>
#endif

GST_DEBUG_CATEGORY_STATIC (ova_osd_debug);
#define GST_CAT_DEFAULT ova_osd_debug

enum {
  PROP_0,
  PROP_PROCESS_MODE,
  PROP_BORDER_WIDTH,
  PROP_FONT_SIZE,
  PROP_DISPLAY_BBOX,
  PROP_DISPLAY_TEXT,
  PROP_DISPLAY_CLASS,
  PROP_DISPLAY_TRACKER_ID,
  PROP_DISPLAY_CONFIDENCE,
  PROP_DISPLAY_CLASSIFIERS,
  PROP_CLASS_COLORS,
  PROP_THREADS,
};

/* ovamux's batches (video/x-ova-batch, frames described by OvaBatchMeta), or
 * plain video carrying batch meta (after ovatiler). */
#define OSD_FORMATS "{ NV12, I420, RGBA, BGRA, RGBx, BGRx }"
#define OSD_CAPS \
  OVA_BATCH_CAPS "; " \
  GST_VIDEO_CAPS_MAKE (OSD_FORMATS) "; " \
  GST_VIDEO_CAPS_MAKE_WITH_FEATURES ("memory:CUDAMemory", OSD_FORMATS)

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (OSD_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (OSD_CAPS));

G_DEFINE_TYPE (GstOvaOsd, gst_ova_osd, GST_TYPE_BASE_TRANSFORM);

#define GST_TYPE_OVA_OSD_PROCESS_MODE (gst_ova_osd_process_mode_get_type ())
static GType
gst_ova_osd_process_mode_get_type (void)
{
  static GType type;
  static const GEnumValue values[] = {
    { GST_OVA_OSD_PROCESS_CPU, "Frames in system memory drawn by the CPU, NV12 frames in CUDA memory by CUDA", "cpu" },
    { GST_OVA_OSD_PROCESS_CUDA, "The same as cpu: where a frame is drawn follows its memory (CUDA memory: CUDA "
      "kernels on the GPU; system memory: the CPU)", "cuda" },
    { 0, NULL, NULL },
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstOvaOsdProcessMode", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

/* Distinct colours for classes without an explicit colour (class_id modulo). */
static const OvaColor palette[] = {
  { 0.90f, 0.10f, 0.10f, 1 }, { 0.10f, 0.75f, 0.20f, 1 }, { 0.15f, 0.40f, 0.95f, 1 }, { 1.00f, 0.80f, 0.00f, 1 },
  { 0.60f, 0.20f, 0.85f, 1 }, { 0.00f, 0.80f, 0.80f, 1 }, { 1.00f, 0.45f, 0.00f, 1 }, { 0.95f, 0.30f, 0.65f, 1 },
  { 0.55f, 0.80f, 0.10f, 1 }, { 0.50f, 0.30f, 0.10f, 1 }, { 0.00f, 0.50f, 0.50f, 1 }, { 0.70f, 0.70f, 1.00f, 1 },
};

static void
osd_parse_class_colors (GstOvaOsd *self, const gchar *str, GstOvaOsdSettings *st)
{
  gchar **items;
  memset (st->class_color_set, 0, sizeof (st->class_color_set));
  if (!str || !*str)
    return;
  items = g_strsplit_set (str, ";,", -1);
  for (gchar **it = items; *it; it++) {
    gchar *e = g_strstrip (*it), *colon, *end, entry[64];
    guint64 id, rgb;
    gsize hexlen;
    if (!*e)
      continue;
    g_strlcpy (entry, e, sizeof (entry)); /* for the message: e is cut below */
    colon = strchr (e, ':');
    if (!colon)
      goto bad;
    *colon = '\0';
    id = g_ascii_strtoull (e, &end, 10);
    if (end == e || *end || id >= OVA_OSD_MAX_CLASS_COLORS)
      goto bad;
    hexlen = strlen (colon + 1);
    rgb = g_ascii_strtoull (colon + 1, &end, 16);
    if (*end || (hexlen != 6 && hexlen != 8))
      goto bad;
    if (hexlen == 6)
      rgb = (rgb << 8) | 0xff;
    st->class_colors[id].r = ((rgb >> 24) & 0xff) / 255.f;
    st->class_colors[id].g = ((rgb >> 16) & 0xff) / 255.f;
    st->class_colors[id].b = ((rgb >> 8) & 0xff) / 255.f;
    st->class_colors[id].a = (rgb & 0xff) / 255.f;
    st->class_color_set[id] = TRUE;
    continue;
  bad:
    GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS, ("Bad class-colors entry"),
        ("class-colors: cannot parse '%s' (expected CLASS:RRGGBB or CLASS:RRGGBBAA, class < %d)",
            entry, OVA_OSD_MAX_CLASS_COLORS));
  }
  g_strfreev (items);
}

/* Metadata floats to pixel ints: NaN, infinities and huge values saturate far
 * off-frame (a float-to-int conversion out of range is undefined in C). */
static gint
to_px (gfloat v)
{
  if (!(v > -1e7f))
    return -10000000;
  if (!(v < 1e7f))
    return 10000000;
  return (gint) v;
}

static OvaFont *
osd_font (GstOvaOsd *self, gint px)
{
  GError *err = NULL;
  OvaFont *f;
  guint slot = 0;
  px = CLAMP (px, 6, 256);
  /* frames may be drawn in parallel: the element's small cache is locked; a
   * font handed out stays valid, libova's cache keeps every font alive */
  g_mutex_lock (&self->font_lock);
  for (guint i = 0; i < G_N_ELEMENTS (self->fonts); i++) {
    if (self->fonts[i] && ova_font_get_pixel_size (self->fonts[i]) == px) {
      f = self->fonts[i];
      g_mutex_unlock (&self->font_lock);
      return f;
    }
    if (!self->fonts[i])
      slot = i;
  }
  f = ova_font_get (px, &err);
  if (f) {
    if (self->fonts[slot]) /* cache full: replace the first slot */
      ova_font_unref (self->fonts[slot]);
    self->fonts[slot] = f;
  }
  g_mutex_unlock (&self->font_lock);
  if (!f) {
    GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND, ("No font for the labels"), ("%s", err->message));
    g_error_free (err);
  }
  return f;
}

static void
osd_object_color (const GstOvaOsdSettings *st, const OvaObjectMeta *o, OvaColor *c)
{
  if (o->border_color.a > 0)
    *c = o->border_color;
  else if (o->class_id >= 0 && o->class_id < OVA_OSD_MAX_CLASS_COLORS && st->class_color_set[o->class_id])
    *c = st->class_colors[o->class_id];
  else
    *c = palette[(o->class_id < 0 ? 0 : o->class_id) % G_N_ELEMENTS (palette)];
}

/* Label text from the parts switched on, e.g. "person 12 0.87". */
static gsize
osd_label (const GstOvaOsdSettings *st, const OvaObjectMeta *o, gchar *buf, gsize len)
{
  gsize n = 0;
  buf[0] = '\0';
  if (st->display_class) {
    if (o->label[0])
      n += g_snprintf (buf + n, len - n, "%s", o->label);
    else if (o->class_id >= 0)
      n += g_snprintf (buf + n, len - n, "class %d", o->class_id);
  }
  if (st->display_tracker_id && o->tracker_id >= 0 && n < len)
    n += g_snprintf (buf + n, len - n, "%s%" G_GINT64_FORMAT, n ? " " : "", o->tracker_id);
  if (st->display_confidence && o->confidence >= 0 && n < len)
    n += g_snprintf (buf + n, len - n, "%s%.2f", n ? " " : "", o->confidence);
  return MIN (n, len - 1);
}

static void
osd_draw_object (const GstOvaOsdSettings *st, OvaSurface *s, OvaFont *font, const OvaObjectMeta *o, gfloat sx, gfloat sy)
{
  OvaColor c, tc;
  OvaPaint box, fg, bg;
  gfloat x = o->rect.left * sx, y = o->rect.top * sy, w = o->rect.width * sx, h = o->rect.height * sy;
  gchar lines[1 + 8][OVA_MAX_LABEL_SIZE + 32];
  guint n_lines = 0;

  osd_object_color (st, o, &c);
  ova_paint_init (&box, s, &c);
  if (st->display_bbox)
    ova_draw_rect (s, x, y, w, h, st->border_width, &box);
  if (!st->display_text || !font)
    return;
  if (osd_label (st, o, lines[0], sizeof (lines[0])) > 0)
    n_lines++;
  if (st->display_classifiers) {
    for (guint i = 0; i < o->classifiers->len && n_lines < G_N_ELEMENTS (lines); i++) {
      const OvaClassifierMeta *cm = g_ptr_array_index (o->classifiers, i);
      for (guint j = 0; j < cm->labels->len && n_lines < G_N_ELEMENTS (lines); j++) {
        const OvaLabelInfo *l = g_ptr_array_index (cm->labels, j);
        if (!l->label[0])
          continue;
        if (st->display_confidence && l->probability >= 0)
          g_snprintf (lines[n_lines], sizeof (lines[0]), "%s %.2f", l->label, l->probability);
        else
          g_snprintf (lines[n_lines], sizeof (lines[0]), "%s", l->label);
        n_lines++;
      }
    }
  }
  if (n_lines == 0)
    return;
  {
    gint pad = MAX (1, ova_font_get_pixel_size (font) / 8), lh = ova_font_get_line_height (font) + 2 * pad;
    gint block = lh * (gint) n_lines;
    gint tx = to_px (x), ty = to_px (y) - block;
    /* Above the box when there is room, else inside its top edge. */
    if (ty < 0)
      ty = to_px (y);
    /* Readable text on the label background: black on light colours. */
    gfloat luma = 0.299f * c.r + 0.587f * c.g + 0.114f * c.b;
    tc.r = tc.g = tc.b = luma > 0.55f ? 0.f : 1.f;
    tc.a = 1.f;
    ova_paint_init (&fg, s, &tc);
    bg = box;
    for (guint i = 0; i < n_lines; i++)
      ova_draw_text (s, font, tx + pad, ty + pad + (gint) i * lh, lines[i], &fg, &bg, pad);
  }
}

static void
osd_draw_display (GstOvaOsd *self, OvaSurface *s, const OvaDisplayMeta *d, gfloat sx, gfloat sy)
{
  OvaPaint p, f;
  gfloat sw = (sx + sy) / 2.f;
  for (guint i = 0; i < MIN (d->n_rects, OVA_MAX_DISPLAY_ELEMENTS); i++) {
    const OvaDisplayRect *r = &d->rects[i];
    if (r->has_fill) {
      ova_paint_init (&f, s, &r->fill_color);
      ova_draw_fill_rect (s, r->rect.left * sx, r->rect.top * sy, r->rect.width * sx, r->rect.height * sy, &f);
    }
    if (r->border_width > 0) {
      ova_paint_init (&p, s, &r->border_color);
      ova_draw_rect (s, r->rect.left * sx, r->rect.top * sy, r->rect.width * sx, r->rect.height * sy,
          MAX (1.f, r->border_width * sw), &p);
    }
  }
  for (guint i = 0; i < MIN (d->n_lines, OVA_MAX_DISPLAY_ELEMENTS); i++) {
    const OvaDisplayLine *l = &d->lines[i];
    ova_paint_init (&p, s, &l->color);
    ova_draw_line (s, l->x1 * sx, l->y1 * sy, l->x2 * sx, l->y2 * sy, MAX (1.f, l->width * sw), &p);
  }
  for (guint i = 0; i < MIN (d->n_arrows, OVA_MAX_DISPLAY_ELEMENTS); i++) {
    const OvaDisplayArrow *a = &d->arrows[i];
    ova_paint_init (&p, s, &a->color);
    ova_draw_arrow (s, a->x1 * sx, a->y1 * sy, a->x2 * sx, a->y2 * sy, MAX (1.f, a->width * sw), &p);
  }
  for (guint i = 0; i < MIN (d->n_circles, OVA_MAX_DISPLAY_ELEMENTS); i++) {
    const OvaDisplayCircle *c = &d->circles[i];
    ova_paint_init (&p, s, &c->color);
    if (c->has_fill)
      ova_paint_init (&f, s, &c->fill_color);
    ova_draw_circle (s, c->xc * sx, c->yc * sy, c->radius * sw, c->width * sw, &p, c->has_fill ? &f : NULL);
  }
  for (guint i = 0; i < MIN (d->n_texts, OVA_MAX_DISPLAY_ELEMENTS); i++) {
    const OvaDisplayText *t = &d->texts[i];
    OvaFont *font = osd_font (self, CLAMP (to_px (t->font_size * sy + 0.5f), 6, 256));
    gchar text[OVA_MAX_DISPLAY_TEXT + 1];
    if (!font)
      return;
    memcpy (text, t->text, OVA_MAX_DISPLAY_TEXT);
    text[OVA_MAX_DISPLAY_TEXT] = '\0';
    ova_paint_init (&p, s, &t->color);
    if (t->has_bg)
      ova_paint_init (&f, s, &t->bg_color);
    ova_draw_text (s, font, to_px (t->x * sx), to_px (t->y * sy), text, &p, t->has_bg ? &f : NULL,
        MAX (1, ova_font_get_pixel_size (font) / 8));
  }
}

/* One frame to draw: mapped (and copied when shared) by the streaming thread,
 * drawn by whichever worker takes it. */
struct _OvaOsdFrameJob {
  GstOvaOsd *self;
  const GstOvaOsdSettings *st;
  OvaFrameMeta *fm;
  OvaMappedFrame m;
  GstMemory *cuda_mem;          /* a frame in CUDA memory: mapped with GST_MAP_CUDA into cuda_map, */
  GstMapInfo cuda_map;          /* s is a recording surface of self->draw_list */
  OvaSurface s;
  gfloat sx, sy;
  OvaFont *font;
};
typedef struct _OvaOsdFrameJob FrameJob;

static void
draw_frame_job (gpointer job, gpointer data)
{
  FrameJob *j = job;
  for (guint k = 0; k < j->fm->objects->len; k++)
    osd_draw_object (j->st, &j->s, j->font, g_ptr_array_index (j->fm->objects, k), j->sx, j->sy);
  for (guint k = 0; k < j->fm->display_metas->len; k++)
    osd_draw_display (j->self, &j->s, g_ptr_array_index (j->fm->display_metas, k), j->sx, j->sy);
}

/* TRUE when no two jobs draw into the same memory (after ovatiler every frame
 * meta points at the one tiled picture: those are drawn one after the other). */
static gboolean
jobs_disjoint (const FrameJob *jobs, guint n)
{
  for (guint a = 0; a < n; a++)
    for (guint b = a + 1; b < n; b++) {
      const OvaFrameMeta *x = jobs[a].fm, *y = jobs[b].fm;
      if (x->buffer == y->buffer
          && x->mem_index < y->mem_index + y->n_mems && y->mem_index < x->mem_index + x->n_mems)
        return FALSE;
    }
  return TRUE;
}

#ifdef OVA_OSD_CUDA
/* Frees the draw list and stream of the CUDA context drawn in so far, in it. */
static void
osd_cuda_release (GstOvaOsd *self)
{
  if (!self->cuda_ctx)
    return;
  if (gst_cuda_context_push (self->cuda_ctx)) {
    ova_draw_list_free (self->draw_list);
    if (self->cuda_stream)
      CuStreamDestroy ((CUstream) self->cuda_stream);
    gst_cuda_context_pop (NULL);
  } else {
    GST_WARNING_OBJECT (self, "cannot make the CUDA context current: its draw buffers are leaked");
  }
  self->draw_list = NULL;
  self->cuda_stream = NULL;
  gst_clear_object (&self->cuda_ctx);
}

/* Streaming thread: a frame in CUDA memory made ready to be recorded (copied
 * first when shared, then mapped on the device). Returns 1 when @j is
 * ready, 0 when the frame is not drawn, -1 on an error (posted). */
static gint
osd_cuda_frame_begin (GstOvaOsd *self, GstBuffer *buf, OvaFrameMeta *fm, guint index, guint n, FrameJob *j)
{
  GstBuffer *pix;
  GstMemory *mem = ova_frame_meta_peek_memory (buf, fm, 0);
  GstCudaMemory *cm;
  guint8 *d;

  if (!mem || fm->n_mems != 1 || !gst_is_cuda_memory (mem)) {
    if (!self->warned_cuda) {
      GST_ELEMENT_WARNING (self, STREAM, FORMAT, ("Frame meta says CUDA memory, the buffer holds none"),
          ("frame of source %u: not one GstCudaMemory (%u memories): not drawn", fm->source_id, fm->n_mems));
      self->warned_cuda = TRUE;
    }
    return 0;
  }
  if (GST_VIDEO_INFO_FORMAT (&fm->video_info) != GST_VIDEO_FORMAT_NV12) {
    if (!self->warned_format) {
      GST_ELEMENT_WARNING (self, STREAM, FORMAT, ("Frame format not supported for drawing in CUDA memory"),
          ("frame of source %u is %s in CUDA memory; the CUDA drawer draws NV12", fm->source_id,
              gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (&fm->video_info))));
      self->warned_format = TRUE;
    }
    return 0;
  }
  cm = GST_CUDA_MEMORY_CAST (mem);
  if (GST_VIDEO_INFO_FORMAT (&cm->info) != GST_VIDEO_FORMAT_NV12
      || GST_VIDEO_INFO_WIDTH (&cm->info) < GST_VIDEO_INFO_WIDTH (&fm->video_info)
      || GST_VIDEO_INFO_HEIGHT (&cm->info) < GST_VIDEO_INFO_HEIGHT (&fm->video_info)) {
    GST_WARNING_OBJECT (self, "frame %u: its CUDA memory (%s %dx%d) does not hold the frame's %dx%d NV12: not drawn",
        index, gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (&cm->info)), GST_VIDEO_INFO_WIDTH (&cm->info),
        GST_VIDEO_INFO_HEIGHT (&cm->info), GST_VIDEO_INFO_WIDTH (&fm->video_info),
        GST_VIDEO_INFO_HEIGHT (&fm->video_info));
    return 0;
  }
  /* one CUDA context per element at a time: the draw list's device buffers live in it */
  if (self->cuda_ctx && self->cuda_ctx != cm->context) {
    if (self->batch_ctx) {
      if (!self->warned_ctx) {
        GST_ELEMENT_WARNING (self, STREAM, NOT_IMPLEMENTED, ("Frames of one batch in two CUDA contexts"),
            ("frame of source %u is in another CUDA context than the batch's first frame: not drawn",
                fm->source_id));
        self->warned_ctx = TRUE;
      }
      return 0;
    }
    osd_cuda_release (self);
  }
  if (!self->cuda_ctx) {
    if (!gst_cuda_load_library ()) { /* loaded already by whoever made the memory; cheap then */
      GST_ELEMENT_ERROR (self, LIBRARY, INIT, ("The CUDA driver library could not be loaded"), (NULL));
      return -1;
    }
    self->cuda_ctx = gst_object_ref (cm->context);
    self->draw_list = ova_draw_list_new ();
  }
  if (!self->batch_ctx) {
    self->batch_ctx = TRUE;
    ova_draw_list_begin (self->draw_list, n);
  }
  /* copy-on-write, as ova_frame_meta_map does for system memory: a memory
   * another buffer shares (a tee branch, the decoder's reference) is copied
   * on the device before drawing */
  if (fm->buffer && !gst_buffer_is_writable (fm->buffer))
    fm->buffer = gst_buffer_make_writable (fm->buffer);
  pix = ova_frame_meta_get_pixel_buffer (buf, fm);
  if (!gst_memory_is_writable (mem)) {
    GstMemory *copy = gst_memory_copy (mem, 0, -1);
    if (!copy) {
      GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("Could not copy a shared CUDA frame"),
          ("frame of source %u", fm->source_id));
      return -1;
    }
    gst_buffer_replace_memory (pix, fm->mem_index, copy);
    mem = gst_buffer_peek_memory (pix, fm->mem_index);
    cm = GST_CUDA_MEMORY_CAST (mem);
  }
  if (!gst_memory_map (mem, &j->cuda_map, GST_MAP_READWRITE | GST_MAP_CUDA)) {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("Could not map a CUDA frame"), ("frame of source %u", fm->source_id));
    return -1;
  }
  j->cuda_mem = mem;
  d = j->cuda_map.data;
  ova_draw_list_surface (self->draw_list, index, GST_VIDEO_INFO_WIDTH (&fm->video_info),
      GST_VIDEO_INFO_HEIGHT (&fm->video_info), fm->video_info.colorimetry.matrix == GST_VIDEO_COLOR_MATRIX_BT709,
      fm->video_info.colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255,
      d + GST_VIDEO_INFO_PLANE_OFFSET (&cm->info, 0), GST_VIDEO_INFO_PLANE_STRIDE (&cm->info, 0),
      d + GST_VIDEO_INFO_PLANE_OFFSET (&cm->info, 1), GST_VIDEO_INFO_PLANE_STRIDE (&cm->info, 1), &j->s);
  return 1;
}

/* The batch's recorded drawing, executed on the GPU and waited for. */
static gboolean
osd_cuda_execute (GstOvaOsd *self)
{
  GError *err = NULL;
  gboolean ok;
  if (!gst_cuda_context_push (self->cuda_ctx)) {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("Could not make the frames' CUDA context current"), (NULL));
    return FALSE;
  }
  ok = TRUE;
  if (!self->cuda_stream) {
    CUstream s = NULL;
    CUresult r = CuStreamCreate (&s, CU_STREAM_NON_BLOCKING);
    if (r != CUDA_SUCCESS) {
      g_set_error (&err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED, "cuStreamCreate failed (%d)", (gint) r);
      ok = FALSE;
    }
    self->cuda_stream = s;
  }
  if (ok)
    ok = ova_draw_list_execute_cuda (self->draw_list, self->cuda_stream, &err);
  if (ok) {
    /* the frames go downstream (an encoder, cudadownload) only when drawn */
    CUresult r = CuStreamSynchronize ((CUstream) self->cuda_stream);
    if (r != CUDA_SUCCESS) {
      g_set_error (&err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED, "cuStreamSynchronize failed (%d)", (gint) r);
      ok = FALSE;
    }
  }
  gst_cuda_context_pop (NULL);
  if (!ok) {
    GST_ELEMENT_ERROR (self, RESOURCE, FAILED, ("Drawing on CUDA frames failed"), ("%s", err->message));
    g_error_free (err);
  }
  return ok;
}
#endif

static void
osd_unmap_jobs (FrameJob *jobs, guint n)
{
  for (guint i = 0; i < n; i++) {
    if (jobs[i].cuda_mem) {
      gst_memory_unmap (jobs[i].cuda_mem, &jobs[i].cuda_map);
      jobs[i].cuda_mem = NULL;
    } else {
      ova_mapped_frame_unmap (&jobs[i].m);
    }
  }
}

static GstFlowReturn
gst_ova_osd_transform_ip (GstBaseTransform *bt, GstBuffer *buf)
{
  GstOvaOsd *self = GST_OVA_OSD (bt);
  OvaBatchMeta *batch = ova_buffer_get_batch_meta (buf);
  GstOvaOsdSettings *st = &self->snapshot;
  guint n, n_jobs = 0, threads;
  FrameJob *jobs;

  if (!batch)
    return GST_FLOW_OK; /* not a batch: nothing to draw */
  ova_batch_meta_latency_enter (batch, "ovaosd");
  GST_OBJECT_LOCK (self);
  memcpy (st, &self->settings, sizeof (*st));
  threads = self->n_threads;
  GST_OBJECT_UNLOCK (self);
  ova_batch_meta_lock (batch);
  n = ova_batch_meta_get_n_frames (batch);
  if (n > self->jobs_size) {
    g_free (self->jobs);
    self->jobs = g_new0 (FrameJob, n);
    self->jobs_size = n;
  }
  jobs = self->jobs;
  self->batch_ctx = FALSE;
  for (guint i = 0; i < n; i++) {
    OvaFrameMeta *fm = ova_batch_meta_get_frame (batch, i);
    FrameJob *j = &jobs[n_jobs];

    if (fm->objects->len == 0 && fm->display_metas->len == 0)
      continue; /* nothing to draw: do not even map (no copy-on-write) */
    if (fm->n_mems == 0)
      continue; /* a frame without pixels (the muxer could not scale it) */
    j->cuda_mem = NULL;
    if (fm->memory_type == OVA_MEMORY_CUDA) {
#ifdef OVA_OSD_CUDA
      gint r = osd_cuda_frame_begin (self, buf, fm, i, n, j);
      if (r < 0) {
        osd_unmap_jobs (jobs, n_jobs);
        ova_batch_meta_unlock (batch);
        ova_batch_meta_latency_exit (batch, "ovaosd");
        return GST_FLOW_ERROR;
      }
      if (r == 0)
        continue;
      goto mapped;
#else
      GST_ELEMENT_ERROR (self, CORE, NOT_IMPLEMENTED, ("Cannot draw on frames in CUDA memory"),
          ("this ovaosd was built without the CUDA drawer (libova without CUDA, or no libgstcuda-1.0): put "
           "cudadownload before ovamux, or use a build with -Dcuda=enabled"));
      osd_unmap_jobs (jobs, n_jobs);
      ova_batch_meta_unlock (batch);
      ova_batch_meta_latency_exit (batch, "ovaosd");
      return GST_FLOW_ERROR;
#endif
    }
    if (fm->memory_type != OVA_MEMORY_SYSTEM)
      continue;
    if (ova_pixel_format_from_video (GST_VIDEO_INFO_FORMAT (&fm->video_info)) == OVA_PIXEL_UNKNOWN) {
      if (!self->warned_format) {
        GST_ELEMENT_WARNING (self, STREAM, FORMAT, ("Frame format not supported for drawing"),
            ("frame of source %u is %s; ovaosd draws NV12, I420, RGBA, BGRA, RGBx, BGRx", fm->source_id,
                gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (&fm->video_info))));
        self->warned_format = TRUE;
      }
      continue;
    }
    if (!ova_osd_frame_fits (buf, fm)) {
      GST_WARNING_OBJECT (self, "frame %u of the batch names memories %u..%u holding less than its "
          "%" G_GSIZE_FORMAT "-byte picture: not drawn", i, fm->mem_index, fm->mem_index + fm->n_mems,
          GST_VIDEO_INFO_SIZE (&fm->video_info));
      continue;
    }
    /* mapping (and copy-on-write, which replaces memories of the batch
     * buffer) happens here, in this thread, before any drawing */
    if (!ova_frame_meta_map (buf, fm, &j->m, GST_MAP_READWRITE)) {
      GST_WARNING_OBJECT (self, "cannot map frame %u of the batch for writing", i);
      continue;
    }
    ova_surface_init (&j->s, &j->m.info, j->m.data, j->m.stride);
#ifdef OVA_OSD_CUDA
  mapped:
#endif
    j->self = self;
    j->st = st;
    j->fm = fm;
    j->sx = fm->source_width ? (gfloat) j->s.width / fm->source_width : 1.f;
    j->sy = fm->source_height ? (gfloat) j->s.height / fm->source_height : 1.f;
    j->font = NULL;
    if (st->display_text && fm->objects->len)
      j->font = osd_font (self, st->font_size ? (gint) st->font_size : MAX (12, j->s.height / 54));
    n_jobs++;
  }
  if (threads != 1 && n_jobs > 1 && !self->workers)
    self->workers = ova_workers_new ((threads ? threads : g_get_num_processors ()) - 1);
  ova_workers_run (threads != 1 && jobs_disjoint (jobs, n_jobs) ? self->workers : NULL, draw_frame_job, NULL,
      jobs, sizeof (FrameJob), n_jobs);
#ifdef OVA_OSD_CUDA
  /* frames in CUDA memory were recorded by the jobs: drawn here, in one launch */
  if (self->batch_ctx && !osd_cuda_execute (self)) {
    osd_unmap_jobs (jobs, n_jobs);
    ova_batch_meta_unlock (batch);
    ova_batch_meta_latency_exit (batch, "ovaosd");
    return GST_FLOW_ERROR;
  }
#endif
  for (guint i = 0; i < n_jobs; i++) {
    self->objects_drawn += jobs[i].fm->objects->len;
    self->frames_drawn++;
  }
  osd_unmap_jobs (jobs, n_jobs);
  ova_batch_meta_unlock (batch);
  ova_batch_meta_latency_exit (batch, "ovaosd");
  return GST_FLOW_OK;
}

static gboolean
gst_ova_osd_set_caps (GstBaseTransform *bt, GstCaps *incaps, GstCaps *outcaps)
{
  GstCapsFeatures *f = gst_caps_get_features (incaps, 0);
  if (f && gst_caps_features_contains (f, "memory:CUDAMemory")) {
#ifdef OVA_OSD_CUDA
    GST_INFO_OBJECT (bt, "frames in CUDA memory: NV12 frames are drawn by the CUDA drawer");
#else
    GST_WARNING_OBJECT (bt, "frames in CUDA memory, but this ovaosd has no CUDA drawer: a batch with "
        "something to draw will be an error");
#endif
  }
  gst_base_transform_set_passthrough (bt, FALSE);
  return TRUE;
}

static void
gst_ova_osd_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  GstOvaOsd *self = GST_OVA_OSD (object);
  GstOvaOsdSettings *st = &self->settings;
  if (id == PROP_CLASS_COLORS) {
    /* parsed outside the lock: a bad entry posts a warning message */
    GstOvaOsdSettings *parsed = g_new0 (GstOvaOsdSettings, 1);
    osd_parse_class_colors (self, g_value_get_string (value), parsed);
    GST_OBJECT_LOCK (self);
    g_free (self->class_colors_str);
    self->class_colors_str = g_value_dup_string (value);
    memcpy (st->class_colors, parsed->class_colors, sizeof (st->class_colors));
    memcpy (st->class_color_set, parsed->class_color_set, sizeof (st->class_color_set));
    GST_OBJECT_UNLOCK (self);
    g_free (parsed);
    return;
  }
  GST_OBJECT_LOCK (self);
  switch (id) {
    case PROP_PROCESS_MODE:
      self->process_mode = g_value_get_enum (value);
      break;
    case PROP_BORDER_WIDTH: st->border_width = g_value_get_uint (value); break;
    case PROP_FONT_SIZE: st->font_size = g_value_get_uint (value); break;
    case PROP_DISPLAY_BBOX: st->display_bbox = g_value_get_boolean (value); break;
    case PROP_DISPLAY_TEXT: st->display_text = g_value_get_boolean (value); break;
    case PROP_DISPLAY_CLASS: st->display_class = g_value_get_boolean (value); break;
    case PROP_DISPLAY_TRACKER_ID: st->display_tracker_id = g_value_get_boolean (value); break;
    case PROP_DISPLAY_CONFIDENCE: st->display_confidence = g_value_get_boolean (value); break;
    case PROP_DISPLAY_CLASSIFIERS: st->display_classifiers = g_value_get_boolean (value); break;
    case PROP_THREADS: self->n_threads = g_value_get_uint (value); break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_ova_osd_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  GstOvaOsd *self = GST_OVA_OSD (object);
  GST_OBJECT_LOCK (self);
  switch (id) {
    case PROP_PROCESS_MODE: g_value_set_enum (value, self->process_mode); break;
    case PROP_BORDER_WIDTH: g_value_set_uint (value, self->settings.border_width); break;
    case PROP_FONT_SIZE: g_value_set_uint (value, self->settings.font_size); break;
    case PROP_DISPLAY_BBOX: g_value_set_boolean (value, self->settings.display_bbox); break;
    case PROP_DISPLAY_TEXT: g_value_set_boolean (value, self->settings.display_text); break;
    case PROP_DISPLAY_CLASS: g_value_set_boolean (value, self->settings.display_class); break;
    case PROP_DISPLAY_TRACKER_ID: g_value_set_boolean (value, self->settings.display_tracker_id); break;
    case PROP_DISPLAY_CONFIDENCE: g_value_set_boolean (value, self->settings.display_confidence); break;
    case PROP_DISPLAY_CLASSIFIERS: g_value_set_boolean (value, self->settings.display_classifiers); break;
    case PROP_CLASS_COLORS: g_value_set_string (value, self->class_colors_str); break;
    case PROP_THREADS: g_value_set_uint (value, self->n_threads); break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (self);
}

static gboolean
gst_ova_osd_stop (GstBaseTransform *bt)
{
  GstOvaOsd *self = GST_OVA_OSD (bt);
  for (guint i = 0; i < G_N_ELEMENTS (self->fonts); i++)
    g_clear_pointer (&self->fonts[i], ova_font_unref);
  ova_workers_free (self->workers);
  self->workers = NULL;
#ifdef OVA_OSD_CUDA
  osd_cuda_release (self);
#endif
  self->warned_cuda = self->warned_format = self->warned_ctx = FALSE;
  return TRUE;
}

static void
gst_ova_osd_finalize (GObject *object)
{
  GstOvaOsd *self = GST_OVA_OSD (object);
  for (guint i = 0; i < G_N_ELEMENTS (self->fonts); i++)
    g_clear_pointer (&self->fonts[i], ova_font_unref);
  g_free (self->class_colors_str);
  ova_workers_free (self->workers);
  g_free (self->jobs);
  g_mutex_clear (&self->font_lock);
  G_OBJECT_CLASS (gst_ova_osd_parent_class)->finalize (object);
}

static void
gst_ova_osd_class_init (GstOvaOsdClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  GstElementClass *ec = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *bc = GST_BASE_TRANSFORM_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING;

  GST_DEBUG_CATEGORY_INIT (ova_osd_debug, "ovaosd", 0, "ova on-screen display");
  oc->set_property = gst_ova_osd_set_property;
  oc->get_property = gst_ova_osd_get_property;
  oc->finalize = gst_ova_osd_finalize;

  g_object_class_install_property (oc, PROP_PROCESS_MODE,
      g_param_spec_enum ("process-mode", "Process mode",
          "Where to draw (kept for nvdsosd configurations): frames are drawn where they are, system memory "
          "by the CPU, NV12 in CUDA memory by CUDA kernels (builds with CUDA), in either mode",
          GST_TYPE_OVA_OSD_PROCESS_MODE, GST_OVA_OSD_PROCESS_CPU, rw));
  g_object_class_install_property (oc, PROP_BORDER_WIDTH,
      g_param_spec_uint ("border-width", "Border width", "Width of object boxes in frame pixels (0: no boxes)",
          0, 100, 3, rw));
  g_object_class_install_property (oc, PROP_FONT_SIZE,
      g_param_spec_uint ("font-size", "Font size",
          "Label font size in pixels (0: frame height / 54, at least 12)", 0, 256, 0, rw));
  g_object_class_install_property (oc, PROP_DISPLAY_BBOX,
      g_param_spec_boolean ("display-bbox", "Display boxes", "Draw object boxes", TRUE, rw));
  g_object_class_install_property (oc, PROP_DISPLAY_TEXT,
      g_param_spec_boolean ("display-text", "Display text", "Draw object labels (and classifier results)", TRUE, rw));
  g_object_class_install_property (oc, PROP_DISPLAY_CLASS,
      g_param_spec_boolean ("display-class", "Display class", "Put the class label in the object label", TRUE, rw));
  g_object_class_install_property (oc, PROP_DISPLAY_TRACKER_ID,
      g_param_spec_boolean ("display-tracker-id", "Display tracker id",
          "Put the tracker id (when tracked) in the object label", TRUE, rw));
  g_object_class_install_property (oc, PROP_DISPLAY_CONFIDENCE,
      g_param_spec_boolean ("display-confidence", "Display confidence",
          "Put the detector confidence (and classifier probabilities) in the labels", TRUE, rw));
  g_object_class_install_property (oc, PROP_DISPLAY_CLASSIFIERS,
      g_param_spec_boolean ("display-classifiers", "Display classifiers",
          "Draw the object's classifier results, one per line under its label", TRUE, rw));
  g_object_class_install_property (oc, PROP_CLASS_COLORS,
      g_param_spec_string ("class-colors", "Class colours",
          "Box colours per class id, 'CLASS:RRGGBB[AA];...' e.g. '0:ff0000;2:00ff0080'; other classes "
          "use a built-in palette; an object's own border_color wins", NULL, rw));

  g_object_class_install_property (oc, PROP_THREADS,
      g_param_spec_uint ("threads", "Threads",
          "Threads drawing the frames of a batch in parallel (0: one per CPU core, 1: the streaming "
          "thread only); frames sharing a memory (after ovatiler) are drawn one after the other",
          0, 64, 0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
  gst_element_class_add_static_pad_template (ec, &sink_template);
  gst_element_class_add_static_pad_template (ec, &src_template);
  gst_element_class_set_static_metadata (ec, "ova on-screen display", "Filter/Effect/Video",
      "Draws object boxes, labels, classifier results and display meta on the frames of an ova batch",
      "ova project");

  bc->transform_ip = GST_DEBUG_FUNCPTR (gst_ova_osd_transform_ip);
  bc->set_caps = GST_DEBUG_FUNCPTR (gst_ova_osd_set_caps);
  bc->stop = GST_DEBUG_FUNCPTR (gst_ova_osd_stop);
  bc->transform_ip_on_passthrough = FALSE;
  gst_type_mark_as_plugin_api (GST_TYPE_OVA_OSD_PROCESS_MODE, 0);
}

static void
gst_ova_osd_init (GstOvaOsd *self)
{
  self->process_mode = GST_OVA_OSD_PROCESS_CPU;
  self->settings.border_width = 3;
  self->settings.display_bbox = self->settings.display_text = self->settings.display_class = TRUE;
  self->settings.display_tracker_id = self->settings.display_confidence = TRUE;
  self->settings.display_classifiers = TRUE;
  g_mutex_init (&self->font_lock);
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
}
