/* ova — drawing primitives on NV12/I420/packed RGB surfaces. SPDX-License-Identifier: MIT */
#include <ova/draw.h>
#include "draw-private.h"
#include <math.h>
#include <string.h>

OvaPixelFormat
ova_pixel_format_from_video (GstVideoFormat f)
{
  switch (f) {
    case GST_VIDEO_FORMAT_NV12: return OVA_PIXEL_NV12;
    case GST_VIDEO_FORMAT_I420: return OVA_PIXEL_I420;
    case GST_VIDEO_FORMAT_RGBA: return OVA_PIXEL_RGBA;
    case GST_VIDEO_FORMAT_BGRA: return OVA_PIXEL_BGRA;
    case GST_VIDEO_FORMAT_RGBx: return OVA_PIXEL_RGBX;
    case GST_VIDEO_FORMAT_BGRx: return OVA_PIXEL_BGRX;
    default: return OVA_PIXEL_UNKNOWN;
  }
}

gboolean
ova_pixel_format_is_yuv (OvaPixelFormat f)
{
  return f == OVA_PIXEL_NV12 || f == OVA_PIXEL_I420;
}

gboolean
ova_surface_init (OvaSurface *s, const GstVideoInfo *info, guint8 *const data[], const gint stride[])
{
  memset (s, 0, sizeof (*s));
  s->format = ova_pixel_format_from_video (GST_VIDEO_INFO_FORMAT (info));
  if (s->format == OVA_PIXEL_UNKNOWN)
    return FALSE;
  s->width = GST_VIDEO_INFO_WIDTH (info);
  s->height = GST_VIDEO_INFO_HEIGHT (info);
  for (guint p = 0; p < GST_VIDEO_INFO_N_PLANES (info) && p < 3; p++) {
    s->data[p] = data[p];
    s->stride[p] = stride[p];
  }
  s->bt709 = info->colorimetry.matrix == GST_VIDEO_COLOR_MATRIX_BT709;
  s->full_range = info->colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255;
  return TRUE;
}

static guint8
clamp_u8 (gfloat v)
{
  v = roundf (v);
  return v < 0 ? 0 : v > 255 ? 255 : (guint8) v;
}

void
ova_paint_init (OvaPaint *p, const OvaSurface *s, const OvaColor *c)
{
  gfloat r = CLAMP (c->r, 0.f, 1.f), g = CLAMP (c->g, 0.f, 1.f), b = CLAMP (c->b, 0.f, 1.f);
  memset (p, 0, sizeof (*p));
  p->alpha = clamp_u8 (CLAMP (c->a, 0.f, 1.f) * 255.f);
  switch (s->format) {
    case OVA_PIXEL_NV12:
    case OVA_PIXEL_I420: {
      gfloat kr = s->bt709 ? 0.2126f : 0.299f, kb = s->bt709 ? 0.0722f : 0.114f;
      gfloat y = kr * r + (1.f - kr - kb) * g + kb * b;
      gfloat pb = (b - y) / (2.f * (1.f - kb)), pr = (r - y) / (2.f * (1.f - kr));
      if (s->full_range) {
        p->c[0] = clamp_u8 (255.f * y);
        p->c[1] = clamp_u8 (128.f + 255.f * pb);
        p->c[2] = clamp_u8 (128.f + 255.f * pr);
      } else {
        p->c[0] = clamp_u8 (16.f + 219.f * y);
        p->c[1] = clamp_u8 (128.f + 224.f * pb);
        p->c[2] = clamp_u8 (128.f + 224.f * pr);
      }
      break;
    }
    case OVA_PIXEL_RGBA:
    case OVA_PIXEL_RGBX:
      p->c[0] = clamp_u8 (r * 255.f); p->c[1] = clamp_u8 (g * 255.f);
      p->c[2] = clamp_u8 (b * 255.f); p->c[3] = 255;
      break;
    case OVA_PIXEL_BGRA:
    case OVA_PIXEL_BGRX:
      p->c[0] = clamp_u8 (b * 255.f); p->c[1] = clamp_u8 (g * 255.f);
      p->c[2] = clamp_u8 (r * 255.f); p->c[3] = 255;
      break;
    default:
      break;
  }
}

/* d + (v - d) * a / 255, rounded; a in 0..255. */
static inline guint8
blend (guint8 d, guint8 v, guint a)
{
  return (guint8) ((d * (255u - a) + v * a + 127u) / 255u);
}

static inline gboolean
is_yuv (const OvaSurface *s)
{
  return s->format == OVA_PIXEL_NV12 || s->format == OVA_PIXEL_I420;
}

/* Chroma sample pointers of row cy from column cx: U at *u, V at *v, next sample at +step. */
static inline void
chroma_ptrs (OvaSurface *s, gint cx, gint cy, guint8 **u, guint8 **v, gint *step)
{
  if (s->format == OVA_PIXEL_NV12) {
    *u = s->data[1] + (gsize) cy * s->stride[1] + 2 * cx;
    *v = *u + 1;
    *step = 2;
  } else {
    *u = s->data[1] + (gsize) cy * s->stride[1] + cx;
    *v = s->data[2] + (gsize) cy * s->stride[2] + cx;
    *step = 1;
  }
}

static inline void
blend_uv (guint8 *u, guint8 *v, const OvaPaint *p, guint a)
{
  if (a == 255) {
    *u = p->c[1]; *v = p->c[2];
  } else {
    *u = blend (*u, p->c[1], a); *v = blend (*v, p->c[2], a);
  }
}

static void
fill_rect_i (OvaSurface *s, gint x0, gint y0, gint x1, gint y1, const OvaPaint *p)
{
  guint a = p->alpha;
  x0 = MAX (x0, 0); y0 = MAX (y0, 0);
  x1 = MIN (x1, s->width); y1 = MIN (y1, s->height);
  if (x0 >= x1 || y0 >= y1 || a == 0)
    return;
  if (s->recorder) {
    ova_draw_record_fill (s, x0, y0, x1, y1, p);
    return;
  }
  if (is_yuv (s)) {
    gint cx0 = x0 >> 1, cx1 = (x1 + 1) >> 1;
    for (gint y = y0; y < y1; y++) {
      guint8 *row = s->data[0] + (gsize) y * s->stride[0];
      if (a == 255)
        memset (row + x0, p->c[0], x1 - x0);
      else
        for (gint x = x0; x < x1; x++)
          row[x] = blend (row[x], p->c[0], a);
    }
    /* A chroma sample takes the share of its 2x2 luma block that is covered. */
    for (gint cy = y0 >> 1; cy < (y1 + 1) >> 1; cy++) {
      gint ycov = MIN (y1, 2 * cy + 2) - MAX (y0, 2 * cy);
      guint8 *u, *v;
      gint step;
      chroma_ptrs (s, cx0, cy, &u, &v, &step);
      for (gint cx = cx0; cx < cx1; cx++, u += step, v += step) {
        gint xcov = (cx == cx0 || cx == cx1 - 1) ? MIN (x1, 2 * cx + 2) - MAX (x0, 2 * cx) : 2;
        guint cov = (guint) (xcov * ycov);
        blend_uv (u, v, p, cov == 4 ? a : (a * cov + 2) / 4);
      }
    }
  } else {
    guint32 px;
    memcpy (&px, p->c, 4);
    for (gint y = y0; y < y1; y++) {
      guint8 *row = s->data[0] + (gsize) y * s->stride[0];
      if (a == 255) {
        for (gint x = x0; x < x1; x++)
          memcpy (row + 4 * x, &px, 4);
      } else {
        for (gint x = x0; x < x1; x++)
          for (gint k = 0; k < 4; k++)
            row[4 * x + k] = blend (row[4 * x + k], p->c[k], a);
      }
    }
  }
}

static inline gint
overlap (gint a0, gint a1, gint b0, gint b1)
{
  return MAX (0, MIN (a1, b1) - MAX (a0, b0));
}

static inline void
set_or_blend_row (guint8 *row, gint x0, gint x1, guint8 v, guint a)
{
  if (x0 >= x1)
    return;
  if (a == 255) {
    if (x1 - x0 >= 16)
      memset (row + x0, v, x1 - x0);
    else
      for (gint x = x0; x < x1; x++)
        row[x] = v;
  } else {
    for (gint x = x0; x < x1; x++)
      row[x] = blend (row[x], v, a);
  }
}

/* A box outline on 4:2:0 in one pass: every luma and chroma sample is blended
 * once, chroma with the share of its 2x2 block inside outer minus inner. */
static void
outline_yuv (OvaSurface *s, gint x0, gint y0, gint x1, gint y1, gint b, const OvaPaint *p)
{
  guint a = p->alpha;
  gint ix0 = x0 + b, iy0 = y0 + b, ix1 = x1 - b, iy1 = y1 - b; /* inner, unclipped */
  gint cx0, cy0, cx1, cy1;
  if (a == 0)
    return;
  x0 = MAX (x0, 0); y0 = MAX (y0, 0);
  x1 = MIN (x1, s->width); y1 = MIN (y1, s->height);
  if (x0 >= x1 || y0 >= y1)
    return;
  if (s->recorder) {
    ova_draw_record_outline (s, x0, y0, x1, y1, ix0, iy0, ix1, iy1, p);
    return;
  }
  for (gint y = y0; y < y1; y++) {
    guint8 *row = s->data[0] + (gsize) y * s->stride[0];
    if (y < iy0 || y >= iy1) {
      set_or_blend_row (row, x0, x1, p->c[0], a);
    } else {
      set_or_blend_row (row, x0, MIN (ix0, x1), p->c[0], a);
      set_or_blend_row (row, MAX (ix1, x0), x1, p->c[0], a);
    }
  }
  cx0 = x0 >> 1; cx1 = (x1 + 1) >> 1; cy0 = y0 >> 1; cy1 = (y1 + 1) >> 1;
  {
    /* Coverage only changes at the clip edges and the inner box's edges:
     * split each chroma row there and fill runs of constant coverage. */
    gint ixa = MAX (ix0, x0), ixb = MIN (ix1, x1);
    gint bp[8] = { cx0, cx0 + 1, ixa >> 1, (ixa >> 1) + 1, ixb >> 1, (ixb >> 1) + 1, cx1 - 1, cx1 };
    gint n = 0, cuts[8];
    /* sorted unique cut points inside [cx0, cx1] */
    for (gint i = 0; i < 8; i++) {
      gint v = CLAMP (bp[i], cx0, cx1), k = n;
      gboolean dup = FALSE;
      for (gint j = 0; j < n; j++)
        dup |= cuts[j] == v;
      if (dup)
        continue;
      while (k > 0 && cuts[k - 1] > v) {
        cuts[k] = cuts[k - 1];
        k--;
      }
      cuts[k] = v;
      n++;
    }
    for (gint cy = cy0; cy < cy1; cy++) {
      gint oy = overlap (2 * cy, 2 * cy + 2, y0, y1), iy = overlap (2 * cy, 2 * cy + 2, MAX (iy0, y0), MIN (iy1, y1));
      for (gint k = 0; k + 1 < n; k++) {
        gint ca = cuts[k], cb = cuts[k + 1];
        gint ox = overlap (2 * ca, 2 * ca + 2, x0, x1), ix = ixb > ixa ? overlap (2 * ca, 2 * ca + 2, ixa, ixb) : 0;
        guint cov = (guint) (ox * oy - ix * iy), al;
        guint8 *u, *v;
        gint step;
        if (cov == 0)
          continue;
        al = cov == 4 ? a : (a * cov + 2) / 4;
        chroma_ptrs (s, ca, cy, &u, &v, &step);
        if (al == 255 && step == 1) {
          memset (u, p->c[1], cb - ca);
          memset (v, p->c[2], cb - ca);
        } else {
          for (gint cx = ca; cx < cb; cx++, u += step, v += step)
            blend_uv (u, v, p, al);
        }
      }
    }
  }
}

/* Float coordinates from metadata may be anything: NaN, infinities, 1e30.
 * Converting those to int is undefined behaviour in C, so every conversion
 * goes through these, which saturate far outside any frame. */
#define COORD_LIMIT 16777216.f

static inline gint
iround (gfloat v)
{
  if (!(v > -COORD_LIMIT))
    return (gint) -COORD_LIMIT;
  if (!(v < COORD_LIMIT))
    return (gint) COORD_LIMIT;
  return (gint) lrintf (v);
}

/* floor/ceil of @v as an int in [lo, hi]; NaN gives @nan_value */
static inline gint
floor_clamp (gfloat v, gint lo, gint hi, gint nan_value)
{
  if (v != v)
    return nan_value;
  if (v <= lo)
    return lo;
  if (v >= hi)
    return hi;
  return (gint) floorf (v);
}

static inline gint
ceil_clamp (gfloat v, gint lo, gint hi, gint nan_value)
{
  if (v != v)
    return nan_value;
  if (v <= lo)
    return lo;
  if (v >= hi)
    return hi;
  return (gint) ceilf (v);
}

/* v clamped to [0, 1], NaN to 0 */
static inline gfloat
sat01 (gfloat v)
{
  return v > 0.f ? (v < 1.f ? v : 1.f) : 0.f;
}

void
ova_draw_fill_rect (OvaSurface *s, gfloat x, gfloat y, gfloat w, gfloat h, const OvaPaint *p)
{
  if (!(w > 0) || !(h > 0))
    return;
  fill_rect_i (s, iround (x), iround (y), iround (x + w), iround (y + h), p);
}

void
ova_draw_rect (OvaSurface *s, gfloat x, gfloat y, gfloat w, gfloat h, gfloat border, const OvaPaint *p)
{
  gint x0, y0, x1, y1, b;
  if (!(w > 0) || !(h > 0) || !(border > 0))
    return;
  x0 = iround (x); y0 = iround (y); x1 = iround (x + w); y1 = iround (y + h);
  b = MAX (1, iround (border));
  if (2 * b >= x1 - x0 || 2 * b >= y1 - y0) {
    fill_rect_i (s, x0, y0, x1, y1, p);
    return;
  }
  if (is_yuv (s)) {
    outline_yuv (s, x0, y0, x1, y1, b, p);
    return;
  }
  /* Four bands that do not overlap, so a translucent border blends once. */
  fill_rect_i (s, x0, y0, x1, y0 + b, p);
  fill_rect_i (s, x0, y1 - b, x1, y1, p);
  fill_rect_i (s, x0, y0 + b, x0 + b, y1 - b, p);
  fill_rect_i (s, x1 - b, y0 + b, x1, y1 - b, p);
}

/* ------------------------------------------------------------------ masks */

void
ova_draw_mask (OvaSurface *s, gint x, gint y, const guint8 *mask, gint mw, gint mh, gint mstride, const OvaPaint *p)
{
  gint x0 = MAX (x, 0), y0 = MAX (y, 0), x1 = MIN (x + mw, s->width), y1 = MIN (y + mh, s->height);
  guint a = p->alpha;
  if (x0 >= x1 || y0 >= y1 || a == 0)
    return;
  if (s->recorder) {
    ova_draw_record_mask (s, x0, y0, x1, y1, x, y, mask, mstride, p);
    return;
  }
  if (is_yuv (s)) {
    const guint8 Y = p->c[0];
    for (gint yy = y0; yy < y1; yy++) {
      guint8 *row = s->data[0] + (gsize) yy * s->stride[0];
      const guint8 *m = mask + (gsize) (yy - y) * mstride - x;
      for (gint xx = x0; xx < x1; xx++) {
        guint mv = m[xx];
        if (mv == 0)
          continue;
        if (mv == 255 && a == 255)
          row[xx] = Y;
        else
          row[xx] = blend (row[xx], Y, (a * mv + 127) / 255);
      }
    }
    /* chroma: the mean coverage of each 2x2 block (samples outside the clip count 0) */
    for (gint cy = y0 >> 1; cy < (y1 + 1) >> 1; cy++) {
      gint ya = MAX (y0, 2 * cy), yb = MIN (y1, 2 * cy + 2);
      const guint8 *m0 = mask + (gsize) (ya - y) * mstride - x;
      const guint8 *m1 = yb - ya == 2 ? m0 + mstride : NULL;
      gint cx0 = x0 >> 1, cx1 = (x1 + 1) >> 1;
      guint8 *u, *v;
      gint step;
      chroma_ptrs (s, cx0, cy, &u, &v, &step);
      for (gint cx = cx0; cx < cx1; cx++, u += step, v += step) {
        gint xa = 2 * cx, xb = 2 * cx + 2;
        guint sum;
        if (xa >= x0 && xb <= x1) {
          sum = m0[xa] + m0[xa + 1] + (m1 ? m1[xa] + m1[xa + 1] : 0);
        } else {
          sum = 0;
          for (gint xx = MAX (x0, xa); xx < MIN (x1, xb); xx++)
            sum += m0[xx] + (m1 ? m1[xx] : 0);
        }
        if (sum == 0)
          continue;
        blend_uv (u, v, p, sum == 1020 ? a : (a * sum + 510) / 1020); /* a * (sum / 4) / 255 */
      }
    }
  } else {
    for (gint yy = y0; yy < y1; yy++) {
      guint8 *row = s->data[0] + (gsize) yy * s->stride[0];
      const guint8 *m = mask + (gsize) (yy - y) * mstride - x;
      for (gint xx = x0; xx < x1; xx++)
        if (m[xx]) {
          guint ma = (a * m[xx] + 127) / 255;
          for (gint k = 0; k < 4; k++)
            row[4 * xx + k] = blend (row[4 * xx + k], p->c[k], ma);
        }
    }
  }
}

/* -------------------------------------------------- anti-aliased shapes */

/* Shapes are rasterised two rows at a time (one chroma row on 4:2:0) into a
 * coverage strip that ova_draw_mask() blends; only the span a shape can touch
 * on each row is evaluated. */
typedef struct {
  /* convex polygon as half-planes nx*x + ny*y + c >= 0, (nx, ny) unit */
  gint n;
  gfloat nx[4], ny[4], c[4];
} Convex;

typedef struct {
  gfloat xc, yc, r_in, r_out; /* ring between r_in and r_out (r_in < 0: disc) */
} Ring;

typedef gboolean (*SpanFunc) (const void *shape, gfloat yt, gfloat yb, gfloat *xa, gfloat *xb);
typedef gfloat (*CoverFunc) (const void *shape, gfloat px, gfloat py);

static gboolean
convex_span (const void *sh, gfloat yt, gfloat yb, gfloat *xa, gfloat *xb)
{
  const Convex *cv = sh;
  gfloat lo = -1e9f, hi = 1e9f;
  const gfloat m = -1.0f; /* margin: anti-aliasing reaches half a pixel out */
  for (gint i = 0; i < cv->n; i++) {
    /* nx*x >= m - ny*y - c; loosest over y in [yt, yb] */
    gfloat r1 = m - cv->ny[i] * yt - cv->c[i], r2 = m - cv->ny[i] * yb - cv->c[i];
    gfloat r = MIN (r1, r2);
    if (cv->nx[i] > 1e-6f)
      lo = MAX (lo, r / cv->nx[i]);
    else if (cv->nx[i] < -1e-6f)
      hi = MIN (hi, r / cv->nx[i]);
    else if (r > 0)
      return FALSE;
  }
  *xa = lo; *xb = hi;
  return lo <= hi;
}

static gfloat
convex_cover (const void *sh, gfloat px, gfloat py)
{
  const Convex *cv = sh;
  gfloat d = 1e9f;
  for (gint i = 0; i < cv->n; i++)
    d = MIN (d, cv->nx[i] * px + cv->ny[i] * py + cv->c[i]);
  return sat01 (d + 0.5f);
}

static gboolean
ring_span (const void *sh, gfloat yt, gfloat yb, gfloat *xa, gfloat *xb)
{
  const Ring *r = sh;
  gfloat R = r->r_out + 1.f, dy;
  if (yb < r->yc - R || yt > r->yc + R)
    return FALSE;
  dy = (yt <= r->yc && yb >= r->yc) ? 0.f : MIN (fabsf (yt - r->yc), fabsf (yb - r->yc));
  dy = sqrtf (MAX (R * R - dy * dy, 0.f));
  *xa = r->xc - dy; *xb = r->xc + dy;
  return TRUE;
}

static gfloat
ring_cover (const void *sh, gfloat px, gfloat py)
{
  const Ring *r = sh;
  gfloat d = hypotf (px - r->xc, py - r->yc);
  gfloat outer = sat01 (r->r_out - d + 0.5f);
  gfloat inner = r->r_in < 0 ? 1.f : sat01 (d - r->r_in + 0.5f);
  return MIN (outer, inner);
}

static void
raster (OvaSurface *s, const void *shape, SpanFunc span, CoverFunc cover, gfloat ymin, gfloat ymax, const OvaPaint *p)
{
  gint y0 = floor_clamp (ymin - 1.f, 0, s->height, s->height), y1 = ceil_clamp (ymax + 1.f, 0, s->height, 0);
  guint8 stack[2 * 4096];
  guint8 *strip;
  if (y0 >= y1 || p->alpha == 0)
    return;
  strip = s->width <= 4096 ? stack : g_malloc (2 * (gsize) s->width);
  y0 &= ~1; /* whole chroma rows */
  for (gint y = y0; y < y1; y += 2) {
    gint sx0 = s->width, sx1 = 0, rows = MIN (2, y1 - y);
    gint ra[2], rb[2];
    for (gint k = 0; k < rows; k++) {
      gfloat xa, xb;
      ra[k] = 0; rb[k] = 0;
      if (span (shape, y + k, y + k + 1, &xa, &xb)) {
        ra[k] = floor_clamp (xa - 1.f, 0, s->width, s->width);
        rb[k] = ceil_clamp (xb + 1.f, 0, s->width, 0);
        if (ra[k] < rb[k]) {
          sx0 = MIN (sx0, ra[k]); sx1 = MAX (sx1, rb[k]);
        }
      }
    }
    if (sx0 >= sx1)
      continue;
    for (gint k = 0; k < rows; k++) {
      guint8 *m = strip + k * (sx1 - sx0);
      memset (m, 0, sx1 - sx0);
      for (gint x = ra[k]; x < rb[k]; x++)
        m[x - sx0] = (guint8) lrintf (255.f * cover (shape, x + 0.5f, y + k + 0.5f));
    }
    ova_draw_mask (s, sx0, y, strip, sx1 - sx0, rows, sx1 - sx0, p);
  }
  if (strip != stack)
    g_free (strip);
}

/* Half-plane through (x, y) with inward normal (nx, ny). */
static void
convex_add (Convex *cv, gfloat nx, gfloat ny, gfloat x, gfloat y)
{
  cv->nx[cv->n] = nx; cv->ny[cv->n] = ny; cv->c[cv->n] = -(nx * x + ny * y);
  cv->n++;
}

void
ova_draw_line (OvaSurface *s, gfloat x1, gfloat y1, gfloat x2, gfloat y2, gfloat width, const OvaPaint *p)
{
  if (!isfinite (x1) || !isfinite (y1) || !isfinite (x2) || !isfinite (y2) || !isfinite (width))
    return;
  gfloat dx = x2 - x1, dy = y2 - y1, len = hypotf (dx, dy), hw = MAX (width, 1.f) / 2.f;
  Convex cv = { 0 };
  gfloat ux, uy;
  if (len < 1e-3f) {
    ova_draw_fill_rect (s, x1 - hw, y1 - hw, 2 * hw, 2 * hw, p);
    return;
  }
  ux = dx / len; uy = dy / len;
  convex_add (&cv, ux, uy, x1, y1);          /* after the start */
  convex_add (&cv, -ux, -uy, x2, y2);        /* before the end */
  convex_add (&cv, -uy, ux, x1 + uy * hw, y1 - ux * hw); /* one side */
  convex_add (&cv, uy, -ux, x1 - uy * hw, y1 + ux * hw); /* the other */
  raster (s, &cv, convex_span, convex_cover, MIN (y1, y2) - hw, MAX (y1, y2) + hw, p);
}

static void
triangle (OvaSurface *s, const gfloat *px, const gfloat *py, const OvaPaint *p)
{
  Convex cv = { 0 };
  /* orientation: make normals point inward */
  gfloat area = (px[1] - px[0]) * (py[2] - py[0]) - (py[1] - py[0]) * (px[2] - px[0]);
  gfloat sgn = area > 0 ? 1.f : -1.f;
  for (gint i = 0; i < 3; i++) {
    gint j = (i + 1) % 3;
    gfloat ex = px[j] - px[i], ey = py[j] - py[i], l = hypotf (ex, ey);
    if (l < 1e-6f)
      return;
    convex_add (&cv, -sgn * ey / l, sgn * ex / l, px[i], py[i]);
  }
  raster (s, &cv, convex_span, convex_cover, MIN (py[0], MIN (py[1], py[2])), MAX (py[0], MAX (py[1], py[2])), p);
}

void
ova_draw_arrow (OvaSurface *s, gfloat x1, gfloat y1, gfloat x2, gfloat y2, gfloat width, const OvaPaint *p)
{
  if (!isfinite (x1) || !isfinite (y1) || !isfinite (x2) || !isfinite (y2) || !isfinite (width))
    return;
  gfloat dx = x2 - x1, dy = y2 - y1, len = hypotf (dx, dy), w = MAX (width, 1.f);
  gfloat head = MIN (MAX (4.f * w, 10.f), len), half = MAX (2.f * w, 5.f);
  gfloat ux, uy, bx, by, tx[3], ty[3];
  if (len < 1e-3f)
    return;
  ux = dx / len; uy = dy / len;
  bx = x2 - ux * head; by = y2 - uy * head;
  if (len > head)
    ova_draw_line (s, x1, y1, bx, by, w, p);
  tx[0] = x2; ty[0] = y2;
  tx[1] = bx - uy * half; ty[1] = by + ux * half;
  tx[2] = bx + uy * half; ty[2] = by - ux * half;
  triangle (s, tx, ty, p);
}

void
ova_draw_circle (OvaSurface *s, gfloat xc, gfloat yc, gfloat radius, gfloat width, const OvaPaint *paint, const OvaPaint *fill)
{
  if (!(radius > 0) || !isfinite (radius) || !isfinite (xc) || !isfinite (yc) || !isfinite (width))
    return;
  if (fill) {
    Ring disc = { xc, yc, -1.f, radius };
    raster (s, &disc, ring_span, ring_cover, yc - radius, yc + radius, fill);
  }
  if (paint && width > 0) {
    Ring ring = { xc, yc, radius - width / 2.f, radius + width / 2.f };
    raster (s, &ring, ring_span, ring_cover, yc - ring.r_out, yc + ring.r_out, paint);
  }
}

/* ----------------------------------------------------------- whole frames */

void
ova_surface_clear (OvaSurface *s, const OvaPaint *p)
{
  OvaPaint opaque = *p;
  g_return_if_fail (s->recorder == NULL);
  opaque.alpha = 255;
  if (s->format == OVA_PIXEL_NV12) {
    for (gint y = 0; y < s->height; y++)
      memset (s->data[0] + (gsize) y * s->stride[0], p->c[0], s->width);
    for (gint y = 0; y < (s->height + 1) / 2; y++) {
      guint8 *uv = s->data[1] + (gsize) y * s->stride[1];
      for (gint x = 0; x < (s->width + 1) / 2; x++) {
        uv[2 * x] = p->c[1]; uv[2 * x + 1] = p->c[2];
      }
    }
  } else if (s->format == OVA_PIXEL_I420) {
    for (gint y = 0; y < s->height; y++)
      memset (s->data[0] + (gsize) y * s->stride[0], p->c[0], s->width);
    for (gint y = 0; y < (s->height + 1) / 2; y++) {
      memset (s->data[1] + (gsize) y * s->stride[1], p->c[1], (s->width + 1) / 2);
      memset (s->data[2] + (gsize) y * s->stride[2], p->c[2], (s->width + 1) / 2);
    }
  } else {
    fill_rect_i (s, 0, 0, s->width, s->height, &opaque);
  }
}

void
ova_surface_sub (const OvaSurface *s, gint x, gint y, gint w, gint h, OvaSurface *o)
{
  *o = *s;
  if (is_yuv (s)) {
    x &= ~1; y &= ~1;
  }
  x = CLAMP (x, 0, s->width); y = CLAMP (y, 0, s->height);
  w = CLAMP (w, 0, s->width - x); h = CLAMP (h, 0, s->height - y);
  o->width = w; o->height = h;
  switch (s->format) {
    case OVA_PIXEL_NV12:
      o->data[0] = s->data[0] + (gsize) y * s->stride[0] + x;
      o->data[1] = s->data[1] + (gsize) (y / 2) * s->stride[1] + x;
      break;
    case OVA_PIXEL_I420:
      o->data[0] = s->data[0] + (gsize) y * s->stride[0] + x;
      o->data[1] = s->data[1] + (gsize) (y / 2) * s->stride[1] + x / 2;
      o->data[2] = s->data[2] + (gsize) (y / 2) * s->stride[2] + x / 2;
      break;
    default:
      o->data[0] = s->data[0] + (gsize) y * s->stride[0] + 4 * x;
      break;
  }
}

void
ova_surface_copy (OvaSurface *dst, const OvaSurface *src)
{
  gint w = MIN (dst->width, src->width), h = MIN (dst->height, src->height);
  g_return_if_fail (dst->format == src->format);
  g_return_if_fail (dst->recorder == NULL && src->recorder == NULL);
  if (w <= 0 || h <= 0)
    return;
  switch (src->format) {
    case OVA_PIXEL_NV12:
    case OVA_PIXEL_I420: {
      gint ch = (h + 1) / 2, cw = (w + 1) / 2;
      for (gint y = 0; y < h; y++)
        memcpy (dst->data[0] + (gsize) y * dst->stride[0], src->data[0] + (gsize) y * src->stride[0], w);
      for (gint y = 0; y < ch; y++) {
        if (src->format == OVA_PIXEL_NV12) {
          memcpy (dst->data[1] + (gsize) y * dst->stride[1], src->data[1] + (gsize) y * src->stride[1], 2 * cw);
        } else {
          memcpy (dst->data[1] + (gsize) y * dst->stride[1], src->data[1] + (gsize) y * src->stride[1], cw);
          memcpy (dst->data[2] + (gsize) y * dst->stride[2], src->data[2] + (gsize) y * src->stride[2], cw);
        }
      }
      break;
    }
    default:
      for (gint y = 0; y < h; y++)
        memcpy (dst->data[0] + (gsize) y * dst->stride[0], src->data[0] + (gsize) y * src->stride[0], 4 * (gsize) w);
      break;
  }
}
