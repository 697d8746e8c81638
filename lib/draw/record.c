/* ova — recorded drawing (OvaDrawList): primitives on frames in GPU memory. SPDX-License-Identifier: MIT */
#include "ova-config.h"
#include "draw-private.h"
#include "draw-list.h"
#include "cuda/draw-kernel.h"
#include <ova/cuda-draw.h>
#include <string.h>

/* The recorder behind a recording surface: one per frame of the batch, so
 * frames can be recorded from different threads without a lock. */
struct _OvaDrawRecorder {
  OvaDrawList *list;
  guint index;
};

static OvaDrawListFrame *
frame_of (OvaSurface *s)
{
  OvaDrawRecorder *r = s->recorder;
  return &g_array_index (r->list->frames, OvaDrawListFrame, r->index);
}

static OvaDrawCmd *
new_cmd (OvaSurface *s, OvaDrawOp op, gint x0, gint y0, gint x1, gint y1, const OvaPaint *p)
{
  OvaDrawListFrame *f = frame_of (s);
  OvaDrawCmd c;
  memset (&c, 0, sizeof (c));
  c.op = op;
  c.x0 = x0; c.y0 = y0; c.x1 = x1; c.y1 = y1;
  c.paint[0] = p->c[0]; c.paint[1] = p->c[1]; c.paint[2] = p->c[2]; c.paint[3] = p->alpha;
  g_array_append_val (f->cmds, c);
  return &g_array_index (f->cmds, OvaDrawCmd, f->cmds->len - 1);
}

void
ova_draw_record_fill (OvaSurface *s, gint x0, gint y0, gint x1, gint y1, const OvaPaint *p)
{
  new_cmd (s, OVA_DRAW_OP_FILL, x0, y0, x1, y1, p);
}

void
ova_draw_record_outline (OvaSurface *s, gint x0, gint y0, gint x1, gint y1, gint ix0, gint iy0, gint ix1, gint iy1,
    const OvaPaint *p)
{
  OvaDrawCmd *c = new_cmd (s, OVA_DRAW_OP_OUTLINE, x0, y0, x1, y1, p);
  c->ax = ix0; c->ay = iy0; c->bx = ix1; c->by = iy1;
}

void
ova_draw_record_mask (OvaSurface *s, gint x0, gint y0, gint x1, gint y1, gint mx, gint my, const guint8 *mask,
    gint mask_stride, const OvaPaint *p)
{
  OvaDrawListFrame *f = frame_of (s);
  guint32 off = f->bytes->len;
  /* only the clipped part of the mask travels */
  for (gint y = y0; y < y1; y++)
    g_byte_array_append (f->bytes, mask + (gsize) (y - my) * mask_stride + (x0 - mx), x1 - x0);
  OvaDrawCmd *c = new_cmd (s, OVA_DRAW_OP_MASK, x0, y0, x1, y1, p);
  c->ax = x0; c->ay = y0; c->bx = x1 - x0; c->by = y1 - y0;
  c->mask_offset = off;
}

/* The index of @font's atlas in the list's pools (1 + its place in fonts). */
static guint32
font_pool (OvaDrawList *list, OvaFont *font)
{
  guint32 k;
  g_mutex_lock (&list->lock);
  for (k = 0; k < list->fonts->len; k++)
    if (g_ptr_array_index (list->fonts, k) == font)
      break;
  if (k == list->fonts->len)
    g_ptr_array_add (list->fonts, ova_font_ref (font));
  g_mutex_unlock (&list->lock);
  return k + 1;
}

typedef struct {
  OvaDrawListFrame *frame;
  guint32 pool;
} GlyphRecord;

static void
record_glyph (const OvaGlyphPlacement *g, gpointer data)
{
  GlyphRecord *gr = data;
  OvaDrawGlyph dg;
  dg.x = (int16_t) g->x; dg.y = (int16_t) g->y; dg.w = (int16_t) g->w; dg.h = (int16_t) g->h;
  if (g->in_atlas) {
    dg.pool = gr->pool;
    dg.offset = g->offset;
  } else { /* rendered on first use, not in the atlas: its bits travel with the batch */
    dg.pool = 0;
    dg.offset = gr->frame->bytes->len;
    g_byte_array_append (gr->frame->bytes, g->bits, (guint) (g->w * g->h));
  }
  g_array_append_val (gr->frame->glyphs, dg);
}

void
ova_draw_record_text (OvaSurface *s, OvaFont *font, const gchar *text, gint x, gint y, gint w, gint h, gint pad,
    gboolean label, const OvaPaint *fg, const OvaPaint *bg)
{
  gint X0, Y0, X1, Y1;
  const OvaPaint *p;
  /* the clip of draw_label_yuv (label) or ova_draw_mask (text) */
  if (label) {
    X0 = MAX (x - pad, 0); Y0 = MAX (y - pad, 0);
    X1 = MIN (x + w + pad, s->width); Y1 = MIN (y + h + pad, s->height);
    p = bg;
  } else {
    X0 = MAX (x, 0); Y0 = MAX (y, 0);
    X1 = MIN (x + w, s->width); Y1 = MIN (y + h, s->height);
    p = fg;
    if (fg->alpha == 0)
      return;
  }
  if (X0 >= X1 || Y0 >= Y1)
    return;
  OvaDrawListFrame *f = frame_of (s);
  GlyphRecord gr = { f, font_pool (((OvaDrawRecorder *) s->recorder)->list, font) };
  guint32 first = f->glyphs->len;
  ova_font_layout (font, text, record_glyph, &gr);
  OvaDrawCmd *c = new_cmd (s, label ? OVA_DRAW_OP_LABEL : OVA_DRAW_OP_MASK, X0, Y0, X1, Y1, p);
  c->ax = x; c->ay = y; c->bx = w; c->by = h;
  c->first_glyph = first;
  c->n_glyphs = f->glyphs->len - first;
  if (label) {
    c->fg[0] = fg->c[0]; c->fg[1] = fg->c[1]; c->fg[2] = fg->c[2]; c->fg[3] = fg->alpha;
  }
  if (c->n_glyphs == 0) {
    if (label) { /* no coverage at all: a background of zeros still needs a mask */
      c->op = OVA_DRAW_OP_FILL;
    } else {
      g_array_set_size (f->cmds, f->cmds->len - 1); /* nothing to blend */
    }
  }
}

/* ------------------------------------------------------------------ list */

static void
frame_clear (gpointer p)
{
  OvaDrawListFrame *f = p;
  if (f->cmds) g_array_unref (f->cmds);
  if (f->glyphs) g_array_unref (f->glyphs);
  if (f->bytes) g_byte_array_unref (f->bytes);
  g_free (f->recorder);
}

OvaDrawList *
ova_draw_list_new (void)
{
  OvaDrawList *l = g_new0 (OvaDrawList, 1);
  l->frames = g_array_new (FALSE, TRUE, sizeof (OvaDrawListFrame));
  g_array_set_clear_func (l->frames, frame_clear);
  l->fonts = g_ptr_array_new_with_free_func ((GDestroyNotify) ova_font_unref);
  g_mutex_init (&l->lock);
  return l;
}

void
ova_draw_list_free (OvaDrawList *l)
{
  if (!l)
    return;
  ova_draw_list_cuda_release (l);
  g_array_unref (l->frames);
  g_ptr_array_unref (l->fonts);
  g_mutex_clear (&l->lock);
  g_free (l);
}

void
ova_draw_list_begin (OvaDrawList *l, guint n)
{
  g_return_if_fail (l != NULL);
  /* arrays are kept between batches, only emptied */
  if (l->frames->len < n)
    g_array_set_size (l->frames, n);
  for (guint i = 0; i < l->frames->len; i++) {
    OvaDrawListFrame *f = &g_array_index (l->frames, OvaDrawListFrame, i);
    if (!f->cmds) {
      f->cmds = g_array_new (FALSE, FALSE, sizeof (OvaDrawCmd));
      f->glyphs = g_array_new (FALSE, FALSE, sizeof (OvaDrawGlyph));
      f->bytes = g_byte_array_new ();
      f->recorder = g_new0 (OvaDrawRecorder, 1);
    }
    g_array_set_size (f->cmds, 0);
    g_array_set_size (f->glyphs, 0);
    g_byte_array_set_size (f->bytes, 0);
    f->recorder->list = l;
    f->recorder->index = i;
    f->used = FALSE;
  }
  l->n_frames = n;
}

void
ova_draw_list_surface (OvaDrawList *l, guint index, gint width, gint height, gboolean bt709, gboolean full_range,
    gpointer y, gint y_pitch, gpointer uv, gint uv_pitch, OvaSurface *out)
{
  OvaDrawListFrame *f;
  memset (out, 0, sizeof (*out));
  g_return_if_fail (l != NULL && index < l->n_frames);
  f = &g_array_index (l->frames, OvaDrawListFrame, index);
  f->used = TRUE;
  f->y = y; f->uv = uv;
  f->y_pitch = y_pitch; f->uv_pitch = uv_pitch;
  f->width = width; f->height = height;
  out->format = OVA_PIXEL_NV12;
  out->width = width;
  out->height = height;
  out->bt709 = bt709;
  out->full_range = full_range;
  out->recorder = f->recorder;
}

guint
ova_draw_list_n_commands (OvaDrawList *l, guint index)
{
  g_return_val_if_fail (l != NULL && index < l->n_frames, 0);
  return g_array_index (l->frames, OvaDrawListFrame, index).cmds->len;
}

void
ova_draw_list_replay (OvaDrawList *l, guint index, OvaSurface *t)
{
  OvaDrawListFrame *f;
  const uint8_t **pools;
  OvaDrawSource src;
  g_return_if_fail (l != NULL && index < l->n_frames && t->format == OVA_PIXEL_NV12 && t->recorder == NULL);
  f = &g_array_index (l->frames, OvaDrawListFrame, index);
  g_return_if_fail (t->width == f->width && t->height == f->height);
  pools = g_new0 (const uint8_t *, l->fonts->len + 1);
  pools[0] = f->bytes->data;
  for (guint k = 0; k < l->fonts->len; k++) {
    gsize size;
    pools[k + 1] = ova_font_get_atlas (g_ptr_array_index (l->fonts, k), &size);
  }
  src.pools = pools;
  src.glyphs = (const OvaDrawGlyph *) (gpointer) f->glyphs->data;
  for (guint i = 0; i < f->cmds->len; i++) {
    const OvaDrawCmd *c = &g_array_index (f->cmds, OvaDrawCmd, i);
    for (gint y = c->y0; y < c->y1; y++) {
      guint8 *row = t->data[0] + (gsize) y * t->stride[0];
      for (gint x = c->x0; x < c->x1; x++)
        row[x] = ova_draw_cmd_luma (c, &src, x, y, row[x]);
    }
    for (gint cy = c->y0 >> 1; cy < (c->y1 + 1) >> 1; cy++) {
      guint8 *row = t->data[1] + (gsize) cy * t->stride[1];
      for (gint cx = c->x0 >> 1; cx < (c->x1 + 1) >> 1; cx++)
        ova_draw_cmd_chroma (c, &src, cx, cy, row + 2 * cx, row + 2 * cx + 1);
    }
  }
  g_free (pools);
}

/* ------------------------------------------------------------------ pack */

static gsize
align16 (gsize v)
{
  return (v + 15) & ~(gsize) 15;
}

gboolean
ova_draw_list_pack_layout (OvaDrawList *l, guint n_atlases, OvaDrawPackLayout *o)
{
  memset (o, 0, sizeof (*o));
  for (guint i = 0; i < l->n_frames; i++) {
    OvaDrawListFrame *f = &g_array_index (l->frames, OvaDrawListFrame, i);
    if (!f->used || f->cmds->len == 0)
      continue;
    o->n_cmds += f->cmds->len;
    o->n_glyphs += f->glyphs->len;
    o->n_bytes += f->bytes->len;
  }
  if (o->n_cmds == 0)
    return FALSE;
  o->n_pools = 1 + n_atlases;
  o->o_frames = 0;
  o->o_cmds = align16 (sizeof (OvaDrawCudaFrame) * l->n_frames);
  o->o_glyphs = align16 (o->o_cmds + sizeof (OvaDrawCmd) * o->n_cmds);
  o->o_pools = align16 (o->o_glyphs + sizeof (OvaDrawGlyph) * o->n_glyphs);
  o->o_bytes = align16 (o->o_pools + sizeof (uint8_t *) * o->n_pools);
  o->total = align16 (o->o_bytes + o->n_bytes);
  return TRUE;
}

guint
ova_draw_list_pack (OvaDrawList *l, const OvaDrawPackLayout *o, guint8 *host, guint8 *dest, guint8 *const *atlases,
    guint n_atlases, gint *max_height)
{
  OvaDrawCudaFrame *frames = (OvaDrawCudaFrame *) (gpointer) (host + o->o_frames);
  OvaDrawCmd *cmds = (OvaDrawCmd *) (gpointer) (host + o->o_cmds);
  OvaDrawGlyph *glyphs = (OvaDrawGlyph *) (gpointer) (host + o->o_glyphs);
  uint8_t **pools = (uint8_t **) (gpointer) (host + o->o_pools);
  guint8 *bytes = host + o->o_bytes;
  guint cmd_at = 0, glyph_at = 0, n_frames = 0;
  gsize byte_at = 0;

  *max_height = 0;
  pools[0] = dest + o->o_bytes;
  for (guint k = 0; k < n_atlases; k++)
    pools[k + 1] = atlases[k];
  /* Frames recorded on the same memory (after a tiler every frame meta names
   * the one picture) become one frame, commands in recording order: blocks
   * of different frames run concurrently. */
  for (guint i = 0; i < l->n_frames; i++) {
    OvaDrawListFrame *fi = &g_array_index (l->frames, OvaDrawListFrame, i);
    gboolean seen = FALSE;
    if (!fi->used || fi->cmds->len == 0)
      continue;
    for (guint j = 0; j < i && !seen; j++) {
      OvaDrawListFrame *fj = &g_array_index (l->frames, OvaDrawListFrame, j);
      seen = fj->used && fj->cmds->len && fj->y == fi->y;
    }
    if (seen)
      continue;
    OvaDrawCudaFrame *out = &frames[n_frames++];
    out->y = fi->y;
    out->uv = fi->uv;
    out->y_pitch = fi->y_pitch;
    out->uv_pitch = fi->uv_pitch;
    out->width = fi->width;
    out->height = fi->height;
    out->first_cmd = cmd_at;
    for (guint j = i; j < l->n_frames; j++) {
      OvaDrawListFrame *f = &g_array_index (l->frames, OvaDrawListFrame, j);
      if (!f->used || f->cmds->len == 0 || f->y != fi->y)
        continue;
      /* commands, glyphs and bytes rebased onto the batch's arrays */
      for (guint k = 0; k < f->cmds->len; k++) {
        OvaDrawCmd cmd = g_array_index (f->cmds, OvaDrawCmd, k);
        if (cmd.n_glyphs)
          cmd.first_glyph += glyph_at;
        else
          cmd.mask_offset += (guint32) byte_at;
        cmds[cmd_at++] = cmd;
      }
      for (guint k = 0; k < f->glyphs->len; k++) {
        OvaDrawGlyph g = g_array_index (f->glyphs, OvaDrawGlyph, k);
        if (g.pool == 0)
          g.offset += (guint32) byte_at;
        glyphs[glyph_at++] = g;
      }
      if (f->bytes->len)
        memcpy (bytes + byte_at, f->bytes->data, f->bytes->len);
      byte_at += f->bytes->len;
      /* commands are clipped to the frame they were recorded for */
      out->height = MAX (out->height, f->height);
    }
    out->n_cmds = cmd_at - out->first_cmd;
    *max_height = MAX (*max_height, out->height);
  }
  return n_frames;
}

#if !OVA_HAVE_CUDA
gboolean
ova_draw_cuda_available (void)
{
  return FALSE;
}

gboolean
ova_draw_list_execute_cuda (OvaDrawList *l, gpointer stream, GError **error)
{
  g_set_error (error, OVA_DRAW_ERROR, 0, "libova was built without CUDA: no CUDA drawer");
  return FALSE;
}

void
ova_draw_list_cuda_release (OvaDrawList *l)
{
}

OvaCudaScaler *
ova_cuda_scaler_new (const OvaScaler *scaler, GError **error)
{
  g_set_error (error, OVA_DRAW_ERROR, 0, "libova was built without CUDA: no CUDA scaler");
  return NULL;
}

void
ova_cuda_scaler_free (OvaCudaScaler *scaler)
{
}

gboolean
ova_cuda_scaler_matches (const OvaCudaScaler *cs, gint src_w, gint src_h, gint dst_w, gint dst_h)
{
  return FALSE;
}

gboolean
ova_cuda_scale_nv12 (const OvaCudaScaleJob *jobs, guint n, gpointer stream, GError **error)
{
  g_set_error (error, OVA_DRAW_ERROR, 0, "libova was built without CUDA: no CUDA scaler");
  return FALSE;
}

gboolean
ova_cuda_fill_nv12 (void *y, gint y_pitch, void *uv, gint uv_pitch, gint width, gint height, const OvaPaint *paint,
    gpointer stream, GError **error)
{
  g_set_error (error, OVA_DRAW_ERROR, 0, "libova was built without CUDA");
  return FALSE;
}
#endif
