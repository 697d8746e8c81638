/* ova — fused preprocessing: crop, bilinear scale, letterbox, colour
 * conversion, normalisation, planar float packing, in one pass.
 * SPDX-License-Identifier: MIT
 *
 * Semantics (ova_preprocess_reference is the definition):
 *  - the crop (source pixels) is scaled to out_w x out_h: the whole network
 *    input, or with maintain-aspect-ratio the largest size with the crop's
 *    aspect (floor), placed top-left or centred (symmetric-padding);
 *  - output pixel centres map back with the half-pixel convention
 *    (sx = left + (ox + 0.5) / scale - 0.5, like OpenCV's INTER_LINEAR),
 *    neighbours clamped to the image;
 *  - YUV planes are interpolated at their own resolution (4:2:0 chroma
 *    centred between luma samples), then converted to RGB (BT.601 or BT.709,
 *    limited or full range) and clamped to 0..255;
 *  - GRAY output is 0.299 R + 0.587 G + 0.114 B (Y for GRAY8 input);
 *  - y = scale[c] * (x - offset[c]); padding is pad_value normalised alike.
 *
 * The fast path is separable: each source row needed is interpolated
 * horizontally once into float rows (reused by the next output row when
 * the same rows are needed), then the vertical blend, colour conversion and
 * normalisation run 4 floats at a time with GCC vector extensions.
 */
#include <ova/infer.h>
#include <math.h>
#include <string.h>

typedef struct {
  gboolean yuv;      /* planar 4:2:0 */
  gint bpp;          /* packed formats: bytes per pixel */
  gint r, g, b;      /* packed: byte offsets of R,G,B; yuv: u/v plane ids or NV order */
  gboolean nv;       /* semi-planar: plane 1 holds interleaved chroma */
  gint u_off, v_off; /* semi-planar: byte offsets of U,V in a chroma pair; planar: plane index */
  gboolean gray;
} FmtDesc;

static gboolean
fmt_desc (GstVideoFormat f, FmtDesc *d)
{
  memset (d, 0, sizeof (*d));
  switch (f) {
    case GST_VIDEO_FORMAT_RGB: d->bpp = 3; d->r = 0; d->g = 1; d->b = 2; return TRUE;
    case GST_VIDEO_FORMAT_BGR: d->bpp = 3; d->r = 2; d->g = 1; d->b = 0; return TRUE;
    case GST_VIDEO_FORMAT_RGBA:
    case GST_VIDEO_FORMAT_RGBx: d->bpp = 4; d->r = 0; d->g = 1; d->b = 2; return TRUE;
    case GST_VIDEO_FORMAT_BGRA:
    case GST_VIDEO_FORMAT_BGRx: d->bpp = 4; d->r = 2; d->g = 1; d->b = 0; return TRUE;
    case GST_VIDEO_FORMAT_ARGB:
    case GST_VIDEO_FORMAT_xRGB: d->bpp = 4; d->r = 1; d->g = 2; d->b = 3; return TRUE;
    case GST_VIDEO_FORMAT_ABGR:
    case GST_VIDEO_FORMAT_xBGR: d->bpp = 4; d->r = 3; d->g = 2; d->b = 1; return TRUE;
    case GST_VIDEO_FORMAT_GRAY8: d->bpp = 1; d->gray = TRUE; return TRUE;
    case GST_VIDEO_FORMAT_NV12: d->yuv = TRUE; d->nv = TRUE; d->u_off = 0; d->v_off = 1; return TRUE;
    case GST_VIDEO_FORMAT_NV21: d->yuv = TRUE; d->nv = TRUE; d->u_off = 1; d->v_off = 0; return TRUE;
    case GST_VIDEO_FORMAT_I420: d->yuv = TRUE; d->u_off = 1; d->v_off = 2; return TRUE;
    case GST_VIDEO_FORMAT_YV12: d->yuv = TRUE; d->u_off = 2; d->v_off = 1; return TRUE;
    default: return FALSE;
  }
}

gboolean
ova_preproc_format_supported (GstVideoFormat format)
{
  FmtDesc d;
  return fmt_desc (format, &d);
}

void
ova_image_from_mapped (OvaImage *img, const OvaMappedFrame *m)
{
  memset (img, 0, sizeof (*img));
  img->format = GST_VIDEO_INFO_FORMAT (&m->info);
  img->width = GST_VIDEO_INFO_WIDTH (&m->info);
  img->height = GST_VIDEO_INFO_HEIGHT (&m->info);
  for (int i = 0; i < 3; i++) {
    img->data[i] = m->data[i];
    img->stride[i] = m->stride[i];
  }
  img->matrix = m->info.colorimetry.matrix;
  img->range = m->info.colorimetry.range;
}

void
ova_preproc_params_from_config (OvaPreprocParams *p, const OvaInferConfig *cfg, gint w, gint h)
{
  memset (p, 0, sizeof (*p));
  p->net_width = w;
  p->net_height = h;
  p->color = cfg->model_color_format;
  for (int c = 0; c < 3; c++) {
    p->scale[c] = isnan (cfg->net_scale_factors[c]) ? cfg->net_scale_factor : cfg->net_scale_factors[c];
    p->offset[c] = cfg->offsets[c];
  }
  p->maintain_aspect_ratio = cfg->maintain_aspect_ratio;
  p->symmetric_padding = cfg->symmetric_padding;
  p->pad_value = cfg->pad_value;
}

/* The crop clamped to the image; a degenerate crop becomes 1x1. */
static void
clamp_crop (const OvaImage *src, const OvaRect *crop, OvaRect *r)
{
  if (!crop) {
    *r = (OvaRect) { 0, 0, src->width, src->height };
    return;
  }
  gfloat l = CLAMP (crop->left, 0, src->width - 1);
  gfloat t = CLAMP (crop->top, 0, src->height - 1);
  gfloat rr = CLAMP (crop->left + crop->width, l + 1, src->width);
  gfloat b = CLAMP (crop->top + crop->height, t + 1, src->height);
  *r = (OvaRect) { l, t, rr - l, b - t };
}

void
ova_preproc_letterbox (const OvaPreprocParams *p, const OvaRect *crop, OvaLetterbox *lb)
{
  gint W = p->net_width, H = p->net_height;
  lb->crop_left = crop->left;
  lb->crop_top = crop->top;
  if (p->maintain_aspect_ratio) {
    gdouble s = MIN ((gdouble) W / crop->width, (gdouble) H / crop->height);
    lb->out_w = CLAMP ((gint) floor (crop->width * s + 1e-4), 1, W);
    lb->out_h = CLAMP ((gint) floor (crop->height * s + 1e-4), 1, H);
  } else {
    lb->out_w = W;
    lb->out_h = H;
  }
  lb->scale_x = lb->out_w / crop->width;
  lb->scale_y = lb->out_h / crop->height;
  lb->pad_x = p->symmetric_padding ? (W - lb->out_w) / 2 : 0;
  lb->pad_y = p->symmetric_padding ? (H - lb->out_h) / 2 : 0;
}

typedef struct {
  gfloat yoff, yscale, cscale;
  gfloat rv, gu, gv, bu;
} YuvCoef;

static void
yuv_coef (const OvaImage *src, YuvCoef *k)
{
  gdouble kr = 0.299, kb = 0.114;
  if (src->matrix == GST_VIDEO_COLOR_MATRIX_BT709) {
    kr = 0.2126;
    kb = 0.0722;
  }
  gdouble kg = 1.0 - kr - kb;
  if (src->range == GST_VIDEO_COLOR_RANGE_0_255) {
    k->yoff = 0;
    k->yscale = 1;
    k->cscale = 1;
  } else {
    k->yoff = 16;
    k->yscale = 255.0 / 219.0;
    k->cscale = 255.0 / 224.0;
  }
  k->rv = 2 * (1 - kr);
  k->bu = 2 * (1 - kb);
  k->gu = 2 * kb * (1 - kb) / kg;
  k->gv = 2 * kr * (1 - kr) / kg;
}

static inline gfloat
clamp255 (gfloat v)
{
  return v < 0 ? 0 : (v > 255 ? 255 : v);
}

/* net channel c -> which of r,g,b (0,1,2) */
static inline gint
net_chan (OvaNetColor color, gint c)
{
  return color == OVA_COLOR_BGR ? 2 - c : c;
}

/* ------------------------------------------------------------- reference */

static gfloat
sample_plane (const guint8 *data, gint stride, gint w, gint h, gint step, gint off, gfloat sx, gfloat sy)
{
  sx = CLAMP (sx, 0, w - 1);
  sy = CLAMP (sy, 0, h - 1);
  gint x0 = (gint) sx, y0 = (gint) sy;
  gint x1 = MIN (x0 + 1, w - 1), y1 = MIN (y0 + 1, h - 1);
  gfloat fx = sx - x0, fy = sy - y0;
  const guint8 *r0 = data + (gsize) y0 * stride, *r1 = data + (gsize) y1 * stride;
  gfloat a = r0[x0 * step + off], b = r0[x1 * step + off];
  gfloat c = r1[x0 * step + off], d = r1[x1 * step + off];
  gfloat top = a + fx * (b - a), bot = c + fx * (d - c);
  return top + fy * (bot - top);
}

static void
sample_rgb_ref (const OvaImage *src, const FmtDesc *d, const YuvCoef *k, gfloat sx, gfloat sy,
                gfloat rgb[3])
{
  if (d->yuv) {
    gint cw = (src->width + 1) / 2, ch = (src->height + 1) / 2;
    gfloat csx = (sx + 0.5f) * 0.5f - 0.5f, csy = (sy + 0.5f) * 0.5f - 0.5f;
    gfloat Y = sample_plane (src->data[0], src->stride[0], src->width, src->height, 1, 0, sx, sy);
    gfloat U, V;
    if (d->nv) {
      U = sample_plane (src->data[1], src->stride[1], cw, ch, 2, d->u_off, csx, csy);
      V = sample_plane (src->data[1], src->stride[1], cw, ch, 2, d->v_off, csx, csy);
    } else {
      U = sample_plane (src->data[d->u_off], src->stride[d->u_off], cw, ch, 1, 0, csx, csy);
      V = sample_plane (src->data[d->v_off], src->stride[d->v_off], cw, ch, 1, 0, csx, csy);
    }
    gfloat y = (Y - k->yoff) * k->yscale, u = (U - 128) * k->cscale, v = (V - 128) * k->cscale;
    rgb[0] = clamp255 (y + k->rv * v);
    rgb[1] = clamp255 (y - k->gu * u - k->gv * v);
    rgb[2] = clamp255 (y + k->bu * u);
  } else if (d->gray) {
    rgb[0] = rgb[1] = rgb[2] =
        sample_plane (src->data[0], src->stride[0], src->width, src->height, 1, 0, sx, sy);
  } else {
    const gint off[3] = { d->r, d->g, d->b };
    for (int c = 0; c < 3; c++)
      rgb[c] = sample_plane (src->data[0], src->stride[0], src->width, src->height, d->bpp, off[c], sx, sy);
  }
}

static gboolean
check_args (const OvaImage *src, const OvaPreprocParams *p, FmtDesc *d)
{
  g_return_val_if_fail (src && p, FALSE);
  if (!fmt_desc (src->format, d)) {
    g_warning ("ova_preprocess: unsupported source format %s", gst_video_format_to_string (src->format));
    return FALSE;
  }
  return src->width > 0 && src->height > 0 && p->net_width > 0 && p->net_height > 0;
}

gboolean
ova_preprocess_reference (const OvaImage *src, const OvaRect *crop_in, const OvaPreprocParams *p,
                          gfloat *dst, OvaLetterbox *lb_out)
{
  FmtDesc d;
  YuvCoef k;
  OvaRect crop;
  OvaLetterbox lb;
  if (!check_args (src, p, &d))
    return FALSE;
  yuv_coef (src, &k);
  clamp_crop (src, crop_in, &crop);
  ova_preproc_letterbox (p, &crop, &lb);
  gint W = p->net_width, H = p->net_height, C = p->color == OVA_COLOR_GRAY ? 1 : 3;
  gsize plane = (gsize) W * H;
  for (gint oy = 0; oy < H; oy++) {
    for (gint ox = 0; ox < W; ox++) {
      gint rx = ox - (gint) lb.pad_x, ry = oy - (gint) lb.pad_y;
      gfloat rgb[3];
      if (rx < 0 || ry < 0 || rx >= lb.out_w || ry >= lb.out_h) {
        rgb[0] = rgb[1] = rgb[2] = p->pad_value;
      } else {
        gfloat sx = crop.left + (rx + 0.5f) / lb.scale_x - 0.5f;
        gfloat sy = crop.top + (ry + 0.5f) / lb.scale_y - 0.5f;
        sample_rgb_ref (src, &d, &k, sx, sy, rgb);
      }
      if (C == 1) {
        gfloat g = d.gray ? rgb[0] : 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2];
        if (rx < 0 || ry < 0 || rx >= lb.out_w || ry >= lb.out_h)
          g = p->pad_value;
        dst[(gsize) oy * W + ox] = p->scale[0] * (g - p->offset[0]);
      } else {
        for (int c = 0; c < 3; c++)
          dst[c * plane + (gsize) oy * W + ox] = p->scale[c] * (rgb[net_chan (p->color, c)] - p->offset[c]);
      }
    }
  }
  if (lb_out)
    *lb_out = lb;
  return TRUE;
}

/* -------------------------------------------------------------- fast path */

/* 4 floats: one SSE register on x86-64, NEON on arm64 (native width, no
 * ABI surprises); loops run over 8 values as two vectors. */
typedef float v4sf __attribute__ ((vector_size (16)));
typedef int v4si __attribute__ ((vector_size (16)));


static inline v4sf
ld4 (const gfloat *p)
{
  v4sf v;
  memcpy (&v, p, sizeof (v));
  return v;
}

static inline void
st4 (gfloat *p, v4sf v)
{
  memcpy (p, &v, sizeof (v));
}

static inline v4sf
splat (gfloat x)
{
  return (v4sf) { x, x, x, x };
}

static inline v4sf
vclamp255 (v4sf v)
{
  v4sf z = splat (0), m = splat (255);
  v4si lo = v < z, hi = v > m;
  v = (v4sf) (((v4si) v & ~lo) | ((v4si) z & lo));
  return (v4sf) (((v4si) v & ~hi) | ((v4si) m & hi));
}

/* Horizontal sampling table for one axis. */
typedef struct {
  gint *i0, *i1;   /* byte offsets (already multiplied by step) */
  gfloat *f;
} HTable;

static void
htable_init (HTable *t, gint n, gfloat origin, gfloat scale, gint limit, gint step, gint off,
             gboolean chroma)
{
  for (gint o = 0; o < n; o++) {
    gfloat s = origin + (o + 0.5f) / scale - 0.5f;
    if (chroma)
      s = (s + 0.5f) * 0.5f - 0.5f;
    s = CLAMP (s, 0, limit - 1);
    gint x0 = (gint) s;
    gint x1 = MIN (x0 + 1, limit - 1);
    t->i0[o] = x0 * step + off;
    t->i1[o] = x1 * step + off;
    t->f[o] = s - x0;
  }
}

/* One source row interpolated horizontally (cached by row index). */
typedef struct {
  gint row;
  gfloat *v;
} HRow;

static void
hrow (const guint8 *row, const HTable *t, gint n, gfloat *out)
{
  for (gint o = 0; o < n; o++) {
    gfloat a = row[t->i0[o]], b = row[t->i1[o]];
    out[o] = a + t->f[o] * (b - a);
  }
}

/* Returns the cached horizontal row for source row y, computing it into the
 * least recently used slot when needed. */
static const gfloat *
get_hrow (HRow slots[2], gint *lru, const guint8 *base, gint stride, gint y, const HTable *t, gint n)
{
  for (int i = 0; i < 2; i++)
    if (slots[i].row == y) {
      *lru = 1 - i;
      return slots[i].v;
    }
  int i = *lru;
  hrow (base + (gsize) y * stride, t, n, slots[i].v);
  slots[i].row = y;
  *lru = 1 - i;
  return slots[i].v;
}

typedef struct {
  HTable t;
  HRow rows[2];
  gint lru;
} Chan;

static void
vrow (const gfloat *a, const gfloat *b, gfloat fy, gint n, gfloat *out)
{
  gint o = 0;
  v4sf vf = splat (fy);
  for (; o + 4 <= n; o += 4) {
    v4sf va = ld4 (a + o), vb = ld4 (b + o);
    st4 (out + o, va + vf * (vb - va));
  }
  for (; o < n; o++)
    out[o] = a[o] + fy * (b[o] - a[o]);
}

gboolean
ova_preprocess (const OvaImage *src, const OvaRect *crop_in, const OvaPreprocParams *p, gfloat *dst,
                OvaLetterbox *lb_out)
{
  FmtDesc d;
  YuvCoef k;
  OvaRect crop;
  OvaLetterbox lb;
  if (!check_args (src, p, &d))
    return FALSE;
  yuv_coef (src, &k);
  clamp_crop (src, crop_in, &crop);
  ova_preproc_letterbox (p, &crop, &lb);

  const gint W = p->net_width, H = p->net_height, C = p->color == OVA_COLOR_GRAY ? 1 : 3;
  const gsize plane = (gsize) W * H;
  const gint n = lb.out_w, px = lb.pad_x, py = lb.pad_y;
  gfloat padv[3];
  for (int c = 0; c < C; c++)
    padv[c] = p->scale[c] * (p->pad_value - p->offset[c]);

  /* Padding: rows above/below, columns left/right of the scaled region. */
  for (int c = 0; c < C; c++) {
    gfloat *pl = dst + c * plane;
    for (gint oy = 0; oy < H; oy++) {
      gfloat *row = pl + (gsize) oy * W;
      if (oy < py || oy >= py + lb.out_h) {
        for (gint ox = 0; ox < W; ox++)
          row[ox] = padv[c];
      } else {
        for (gint ox = 0; ox < px; ox++)
          row[ox] = padv[c];
        for (gint ox = px + n; ox < W; ox++)
          row[ox] = padv[c];
      }
    }
  }

  /* Channels to interpolate: Y,U,V for YUV; R,G,B (or one gray) for packed. */
  gint nch = d.yuv ? 3 : (d.gray ? 1 : 3);
  gint cw = (src->width + 1) / 2, chh = (src->height + 1) / 2;
  gsize per = (gsize) n;
  gfloat *mem = g_malloc (sizeof (gfloat) * per * (nch * 3 + 3 + 1) + sizeof (gint) * per * nch * 2);
  Chan ch[3];
  gfloat *cur = mem;
  for (int i = 0; i < nch; i++) {
    ch[i].t.f = cur; cur += per;
    ch[i].rows[0].v = cur; cur += per;
    ch[i].rows[1].v = cur; cur += per;
    ch[i].rows[0].row = ch[i].rows[1].row = -1;
    ch[i].lru = 0;
  }
  gfloat *val[3] = { cur, cur + per, cur + 2 * per };
  cur += 3 * per;
  gint *ibuf = (gint *) (cur + per);
  for (int i = 0; i < nch; i++) {
    ch[i].t.i0 = ibuf; ibuf += per;
    ch[i].t.i1 = ibuf; ibuf += per;
  }
  const guint8 *base[3];
  gint stride[3], lim_h[3];
  if (d.yuv) {
    htable_init (&ch[0].t, n, crop.left, lb.scale_x, src->width, 1, 0, FALSE);
    base[0] = src->data[0]; stride[0] = src->stride[0]; lim_h[0] = src->height;
    if (d.nv) {
      htable_init (&ch[1].t, n, crop.left, lb.scale_x, cw, 2, d.u_off, TRUE);
      htable_init (&ch[2].t, n, crop.left, lb.scale_x, cw, 2, d.v_off, TRUE);
      base[1] = base[2] = src->data[1];
      stride[1] = stride[2] = src->stride[1];
    } else {
      htable_init (&ch[1].t, n, crop.left, lb.scale_x, cw, 1, 0, TRUE);
      htable_init (&ch[2].t, n, crop.left, lb.scale_x, cw, 1, 0, TRUE);
      base[1] = src->data[d.u_off]; stride[1] = src->stride[d.u_off];
      base[2] = src->data[d.v_off]; stride[2] = src->stride[d.v_off];
    }
    lim_h[1] = lim_h[2] = chh;
  } else {
    const gint off[3] = { d.r, d.g, d.b };
    for (int i = 0; i < nch; i++) {
      htable_init (&ch[i].t, n, crop.left, lb.scale_x, src->width, d.bpp, d.gray ? 0 : off[i], FALSE);
      base[i] = src->data[0];
      stride[i] = src->stride[0];
      lim_h[i] = src->height;
    }
  }

  for (gint ry = 0; ry < lb.out_h; ry++) {
    gfloat sy = crop.top + (ry + 0.5f) / lb.scale_y - 0.5f;
    for (int i = 0; i < nch; i++) {
      gfloat s = (d.yuv && i > 0) ? (sy + 0.5f) * 0.5f - 0.5f : sy;
      s = CLAMP (s, 0, lim_h[i] - 1);
      gint y0 = (gint) s, y1 = MIN (y0 + 1, lim_h[i] - 1);
      const gfloat *a = get_hrow (ch[i].rows, &ch[i].lru, base[i], stride[i], y0, &ch[i].t, n);
      const gfloat *b = get_hrow (ch[i].rows, &ch[i].lru, base[i], stride[i], y1, &ch[i].t, n);
      vrow (a, b, s - y0, n, val[i]);
    }
    gsize orow = (gsize) (py + ry) * W + px;
    gint o = 0;
    if (d.yuv) {
      /* YUV -> RGB in place (val[0..2] become R,G,B) */
      v4sf yo = splat (k.yoff), ys = splat (k.yscale), cs = splat (k.cscale), c128 = splat (128);
      v4sf rv = splat (k.rv), gu = splat (k.gu), gv = splat (k.gv), bu = splat (k.bu);
      for (; o + 4 <= n; o += 4) {
        v4sf y = (ld4 (val[0] + o) - yo) * ys;
        v4sf u = (ld4 (val[1] + o) - c128) * cs, v = (ld4 (val[2] + o) - c128) * cs;
        st4 (val[0] + o, vclamp255 (y + rv * v));
        st4 (val[1] + o, vclamp255 (y - gu * u - gv * v));
        st4 (val[2] + o, vclamp255 (y + bu * u));
      }
      for (; o < n; o++) {
        gfloat y = (val[0][o] - k.yoff) * k.yscale, u = (val[1][o] - 128) * k.cscale,
               v = (val[2][o] - 128) * k.cscale;
        val[0][o] = clamp255 (y + k.rv * v);
        val[1][o] = clamp255 (y - k.gu * u - k.gv * v);
        val[2][o] = clamp255 (y + k.bu * u);
      }
    }
    if (C == 1) {
      gfloat *out = dst + orow;
      v4sf sc = splat (p->scale[0]), of = splat (p->offset[0]);
      o = 0;
      if (d.gray) {
        for (; o + 4 <= n; o += 4)
          st4 (out + o, sc * (ld4 (val[0] + o) - of));
        for (; o < n; o++)
          out[o] = p->scale[0] * (val[0][o] - p->offset[0]);
      } else {
        v4sf wr = splat (0.299f), wg = splat (0.587f), wb = splat (0.114f);
        for (; o + 4 <= n; o += 4)
          st4 (out + o, sc * (wr * ld4 (val[0] + o) + wg * ld4 (val[1] + o) + wb * ld4 (val[2] + o) - of));
        for (; o < n; o++)
          out[o] = p->scale[0] * (0.299f * val[0][o] + 0.587f * val[1][o] + 0.114f * val[2][o] - p->offset[0]);
      }
    } else {
      for (int c = 0; c < 3; c++) {
        const gfloat *in = val[d.gray ? 0 : net_chan (p->color, c)];
        gfloat *out = dst + c * plane + orow;
        v4sf sc = splat (p->scale[c]), of = splat (p->offset[c]);
        o = 0;
        for (; o + 4 <= n; o += 4)
          st4 (out + o, sc * (ld4 (in + o) - of));
        for (; o < n; o++)
          out[o] = p->scale[c] * (in[o] - p->offset[c]);
      }
    }
  }
  g_free (mem);
  if (lb_out)
    *lb_out = lb;
  return TRUE;
}
