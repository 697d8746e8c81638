/* ova — separable image scaler (tent kernel, fixed point), SSE2 and scalar. SPDX-License-Identifier: MIT */
#include <ova/draw.h>
#include "draw-private.h"
#include <math.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#define OVA_HAVE_SSE2 1
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <immintrin.h>
#define OVA_HAVE_AVX2 1 /* compiled for AVX2 with a target attribute, used when the CPU has it */
#endif
#endif

/* Weights are Q14 and sum to exactly 1 << 14. The vertical pass produces Q6
 * intermediates ((sum + 128) >> 8), the horizontal pass bytes
 * ((sum + (1 << 19)) >> 20). Both implementations do exactly this integer
 * arithmetic, so their output is identical, not just close. */
#define WBITS 14
#define HPAD 8 /* horizontal taps are padded to a multiple of this */

typedef struct {
  gint ntaps;   /* taps per output sample (padded for the horizontal filter) */
  gint *start;  /* [out] first input sample */
  gint16 *w;    /* [out * ntaps] */
} Filter;

typedef struct {
  gint nc;                 /* interleaved channels: 1 (Y, U, V), 2 (NV12 UV), 4 (RGBA) */
  gint in_w, in_h, out_w, out_h;
  Filter h, v;
  gint16 *hx;              /* horizontal weights laid out for the SIMD path */
  gint hx_per_out;
} Plane;

struct _OvaScaler {
  OvaPixelFormat format;   /* of the source */
  OvaPixelFormat dst_format;
  gint perm[4];            /* packed RGB: destination byte k takes source byte perm[k] (-1: 255) */
  guint8 *row;             /* a scaled row before (de)interleaving or reordering */
  gint sw, sh, dw, dh;
  gint n_planes;
  Plane planes[3];
  OvaScalerImpl impl;
  gint16 *tmp;             /* one vertically filtered row, Q6, plus zeroed padding */
};

static void
filter_init (Filter *f, gint in, gint out, gint pad)
{
  gdouble scale = (gdouble) in / out, support = MAX (1.0, scale);
  gint ntaps = 1, ntaps_p;
  gdouble *wf;

  /* as many taps as the widest kernel window really has (no zero taps) */
  for (gint i = 0; i < out; i++) {
    gdouble center = (i + 0.5) * scale - 0.5;
    gint lo = (gint) floor (center - support) + 1, hi = (gint) floor (center + support);
    if (1.0 - fabs (lo - center) / support <= 0)
      lo++;
    if (1.0 - fabs (hi - center) / support <= 0)
      hi--;
    ntaps = MAX (ntaps, hi - lo + 1);
  }
  ntaps = MIN (ntaps, in);
  ntaps_p = pad > 1 ? (ntaps + pad - 1) / pad * pad : ntaps;
  wf = g_new (gdouble, ntaps);

  f->ntaps = ntaps_p;
  f->start = g_new (gint, out);
  f->w = g_new0 (gint16, (gsize) out * ntaps_p);
  for (gint i = 0; i < out; i++) {
    gdouble center = (i + 0.5) * scale - 0.5, sum = 0;
    gint lo = (gint) floor (center - support) + 1, hi = (gint) floor (center + support);
    gint start, qsum = 0, best = 0;
    if (1.0 - fabs (lo - center) / support <= 0)
      lo++;
    if (1.0 - fabs (hi - center) / support <= 0)
      hi--;
    start = CLAMP (lo, 0, in - ntaps);
    gint16 *w = f->w + (gsize) i * ntaps_p;
    memset (wf, 0, sizeof (gdouble) * ntaps);
    for (gint j = lo; j <= hi; j++) {
      gdouble t = 1.0 - fabs (j - center) / support;
      gint jj = CLAMP (j, 0, in - 1);
      if (t <= 0)
        continue;
      wf[jj - start] += t; /* taps outside the image fold onto the edge sample */
      sum += t;
    }
    if (sum <= 0) { /* cannot happen for in >= 1, but keep the weights valid */
      wf[CLAMP ((gint) lrint (center), 0, in - 1) - start] = 1.0;
      sum = 1.0;
    }
    for (gint k = 0; k < ntaps; k++) {
      w[k] = (gint16) lrint (wf[k] / sum * (1 << WBITS));
      qsum += w[k];
      if (w[k] > w[best])
        best = k;
    }
    w[best] += (1 << WBITS) - qsum;
    f->start[i] = start;
  }
  g_free (wf);
}

static void
plane_init (Plane *p, gint nc, gint in_w, gint in_h, gint out_w, gint out_h)
{
  p->nc = nc;
  p->in_w = in_w; p->in_h = in_h; p->out_w = out_w; p->out_h = out_h;
  filter_init (&p->h, in_w, out_w, HPAD);
  filter_init (&p->v, in_h, out_h, 1);
  /* SIMD layout: nc 1: w0..w7; nc 2: w0 w1 w0 w1 w2 w3 w2 w3; nc 4: (w0 w1) x4 per tap pair. */
  p->hx_per_out = p->h.ntaps * nc;
  p->hx = g_new (gint16, (gsize) out_w * p->hx_per_out);
  for (gint x = 0; x < out_w; x++) {
    const gint16 *w = p->h.w + (gsize) x * p->h.ntaps;
    gint16 *o = p->hx + (gsize) x * p->hx_per_out;
    if (nc == 1) {
      memcpy (o, w, sizeof (gint16) * p->h.ntaps);
    } else if (nc == 2) {
      for (gint t = 0; t < p->h.ntaps; t += 2) {
        o[2 * t + 0] = w[t]; o[2 * t + 1] = w[t + 1];
        o[2 * t + 2] = w[t]; o[2 * t + 3] = w[t + 1];
      }
    } else {
      for (gint t = 0; t < p->h.ntaps; t += 2)
        for (gint k = 0; k < 4; k++) {
          o[4 * t + 2 * k] = w[t]; o[4 * t + 2 * k + 1] = w[t + 1];
        }
    }
  }
}

static void
plane_clear (Plane *p)
{
  g_free (p->h.start); g_free (p->h.w);
  g_free (p->v.start); g_free (p->v.w);
  g_free (p->hx);
}

static gboolean
is_rgb (OvaPixelFormat f)
{
  return f == OVA_PIXEL_RGBA || f == OVA_PIXEL_BGRA || f == OVA_PIXEL_RGBX || f == OVA_PIXEL_BGRX;
}

/* byte position of R, G, B, A (-1: padding) in a packed RGB format */
static void
rgb_layout (OvaPixelFormat f, gint pos[4])
{
  gboolean bgr = f == OVA_PIXEL_BGRA || f == OVA_PIXEL_BGRX;
  pos[0] = bgr ? 2 : 0; pos[1] = 1; pos[2] = bgr ? 0 : 2;
  pos[3] = (f == OVA_PIXEL_RGBA || f == OVA_PIXEL_BGRA) ? 3 : -1;
}

gboolean
ova_scaler_can_convert (OvaPixelFormat src, OvaPixelFormat dst)
{
  if (src == OVA_PIXEL_UNKNOWN || dst == OVA_PIXEL_UNKNOWN)
    return FALSE;
  if (src == dst)
    return TRUE;
  if (ova_pixel_format_is_yuv (src) && ova_pixel_format_is_yuv (dst))
    return TRUE;
  return is_rgb (src) && is_rgb (dst);
}

OvaScaler *
ova_scaler_new (OvaPixelFormat format, OvaPixelFormat dst_format, gint sw, gint sh, gint dw, gint dh, OvaScalerImpl impl)
{
  OvaScaler *s;
  gint max_row = 0;
  g_return_val_if_fail (format != OVA_PIXEL_UNKNOWN, NULL);
  g_return_val_if_fail (sw > 0 && sh > 0 && dw > 0 && dh > 0, NULL);
  if (!ova_scaler_can_convert (format, dst_format))
    return NULL;
  s = g_new0 (OvaScaler, 1);
  s->format = format;
  s->dst_format = dst_format;
  if (is_rgb (format)) {
    gint sp[4], dp[4];
    rgb_layout (format, sp);
    rgb_layout (dst_format, dp);
    for (gint k = 0; k < 4; k++)
      s->perm[k] = -1;
    for (gint c = 0; c < 4; c++)
      if (dp[c] >= 0)
        s->perm[dp[c]] = c < 3 ? sp[c] : sp[3];
    /* the padding byte of an x format takes the source's 4th byte */
    for (gint k = 0; k < 4; k++)
      if (s->perm[k] == -1 && dp[3] < 0 && k == 3)
        s->perm[k] = 3;
  }
  s->sw = sw; s->sh = sh; s->dw = dw; s->dh = dh;
#ifdef OVA_HAVE_SSE2
  s->impl = impl == OVA_SCALER_SCALAR ? OVA_SCALER_SCALAR : OVA_SCALER_SIMD;
#ifdef OVA_HAVE_AVX2
  if ((impl == OVA_SCALER_AUTO || impl == OVA_SCALER_AVX2) && __builtin_cpu_supports ("avx2"))
    s->impl = OVA_SCALER_AVX2;
#endif
#else
  s->impl = OVA_SCALER_SCALAR;
#endif
  switch (format) {
    case OVA_PIXEL_NV12:
      s->n_planes = 2;
      plane_init (&s->planes[0], 1, sw, sh, dw, dh);
      plane_init (&s->planes[1], 2, (sw + 1) / 2, (sh + 1) / 2, (dw + 1) / 2, (dh + 1) / 2);
      break;
    case OVA_PIXEL_I420:
      s->n_planes = 3;
      plane_init (&s->planes[0], 1, sw, sh, dw, dh);
      plane_init (&s->planes[1], 1, (sw + 1) / 2, (sh + 1) / 2, (dw + 1) / 2, (dh + 1) / 2);
      plane_init (&s->planes[2], 1, (sw + 1) / 2, (sh + 1) / 2, (dw + 1) / 2, (dh + 1) / 2);
      break;
    default:
      s->n_planes = 1;
      plane_init (&s->planes[0], 4, sw, sh, dw, dh);
      break;
  }
  for (gint i = 0; i < s->n_planes; i++)
    max_row = MAX (max_row, (s->planes[i].in_w + s->planes[i].h.ntaps) * s->planes[i].nc + 16);
  s->tmp = g_new0 (gint16, max_row);
  s->row = g_new0 (guint8, (gsize) dw * 4 + 64);
  return s;
}

void
ova_scaler_free (OvaScaler *s)
{
  if (!s)
    return;
  for (gint i = 0; i < s->n_planes; i++)
    plane_clear (&s->planes[i]);
  g_free (s->tmp);
  g_free (s->row);
  g_free (s);
}

gboolean
ova_scaler_matches (const OvaScaler *s, OvaPixelFormat format, OvaPixelFormat dst_format, gint sw, gint sh, gint dw, gint dh)
{
  return s && s->format == format && s->dst_format == dst_format && s->sw == sw && s->sh == sh &&
      s->dw == dw && s->dh == dh;
}

const gchar *
ova_scaler_impl_name (const OvaScaler *s)
{
  return s->impl == OVA_SCALER_AVX2 ? "avx2" : s->impl == OVA_SCALER_SIMD ? "sse2" : "scalar";
}

/* ------------------------------------------------------------ scalar */

static void
vpass_scalar (const Plane *p, const guint8 *src, gint sstride, gint y, gint16 *tmp)
{
  const gint n = p->in_w * p->nc, nt = p->v.ntaps;
  const gint16 *w = p->v.w + (gsize) y * nt;
  const guint8 *row0 = src + (gsize) p->v.start[y] * sstride;
  for (gint x = 0; x < n; x++) {
    gint32 sum = 0;
    for (gint t = 0; t < nt; t++)
      sum += w[t] * row0[(gsize) t * sstride + x];
    tmp[x] = (gint16) ((sum + 128) >> 8);
  }
}

static void
hpass_scalar (const Plane *p, const gint16 *tmp, guint8 *dst)
{
  const gint nc = p->nc, nt = p->h.ntaps;
  for (gint x = 0; x < p->out_w; x++) {
    const gint16 *w = p->h.w + (gsize) x * nt;
    const gint16 *in = tmp + (gsize) p->h.start[x] * nc;
    for (gint c = 0; c < nc; c++) {
      gint32 sum = 0;
      for (gint t = 0; t < nt; t++)
        sum += w[t] * in[t * nc + c];
      sum = (sum + (1 << 19)) >> 20;
      dst[x * nc + c] = (guint8) CLAMP (sum, 0, 255);
    }
  }
}

/* -------------------------------------------------------------- SSE2 */

#ifdef OVA_HAVE_SSE2
static void
vpass_sse2 (const Plane *p, const guint8 *src, gint sstride, gint y, gint16 *tmp)
{
  const gint n = p->in_w * p->nc, nt = p->v.ntaps;
  const gint16 *w = p->v.w + (gsize) y * nt;
  const guint8 *row0 = src + (gsize) p->v.start[y] * sstride;
  const __m128i zero = _mm_setzero_si128 (), rnd = _mm_set1_epi32 (128);
  gint x = 0;
  for (; x + 16 <= n; x += 16) {
    __m128i acc0 = zero, acc1 = zero, acc2 = zero, acc3 = zero;
    for (gint t = 0; t < nt; t += 2) {
      __m128i a = _mm_loadu_si128 ((const __m128i *) (row0 + (gsize) t * sstride + x));
      __m128i b = t + 1 < nt ? _mm_loadu_si128 ((const __m128i *) (row0 + (gsize) (t + 1) * sstride + x)) : zero;
      gint16 w1 = t + 1 < nt ? w[t + 1] : 0;
      __m128i wp = _mm_set1_epi32 ((gint32) (((guint32) (guint16) w1 << 16) | (guint16) w[t]));
      __m128i alo = _mm_unpacklo_epi8 (a, zero), ahi = _mm_unpackhi_epi8 (a, zero);
      __m128i blo = _mm_unpacklo_epi8 (b, zero), bhi = _mm_unpackhi_epi8 (b, zero);
      acc0 = _mm_add_epi32 (acc0, _mm_madd_epi16 (_mm_unpacklo_epi16 (alo, blo), wp));
      acc1 = _mm_add_epi32 (acc1, _mm_madd_epi16 (_mm_unpackhi_epi16 (alo, blo), wp));
      acc2 = _mm_add_epi32 (acc2, _mm_madd_epi16 (_mm_unpacklo_epi16 (ahi, bhi), wp));
      acc3 = _mm_add_epi32 (acc3, _mm_madd_epi16 (_mm_unpackhi_epi16 (ahi, bhi), wp));
    }
    acc0 = _mm_srai_epi32 (_mm_add_epi32 (acc0, rnd), 8);
    acc1 = _mm_srai_epi32 (_mm_add_epi32 (acc1, rnd), 8);
    acc2 = _mm_srai_epi32 (_mm_add_epi32 (acc2, rnd), 8);
    acc3 = _mm_srai_epi32 (_mm_add_epi32 (acc3, rnd), 8);
    _mm_storeu_si128 ((__m128i *) (tmp + x), _mm_packs_epi32 (acc0, acc1));
    _mm_storeu_si128 ((__m128i *) (tmp + x + 8), _mm_packs_epi32 (acc2, acc3));
  }
  for (; x < n; x++) {
    gint32 sum = 0;
    for (gint t = 0; t < nt; t++)
      sum += w[t] * row0[(gsize) t * sstride + x];
    tmp[x] = (gint16) ((sum + 128) >> 8);
  }
}

#ifdef OVA_HAVE_AVX2
__attribute__ ((target ("avx2"))) static void
vpass_avx2 (const Plane *p, const guint8 *src, gint sstride, gint y, gint16 *tmp)
{
  const gint n = p->in_w * p->nc, nt = p->v.ntaps;
  const gint16 *w = p->v.w + (gsize) y * nt;
  const guint8 *row0 = src + (gsize) p->v.start[y] * sstride;
  const __m256i zero = _mm256_setzero_si256 (), rnd = _mm256_set1_epi32 (128);
  gint x = 0;
  for (; x + 32 <= n; x += 32) {
    __m256i acc0 = zero, acc1 = zero, acc2 = zero, acc3 = zero;
    for (gint t = 0; t < nt; t += 2) {
      __m256i a = _mm256_loadu_si256 ((const __m256i *) (row0 + (gsize) t * sstride + x));
      __m256i b = t + 1 < nt ? _mm256_loadu_si256 ((const __m256i *) (row0 + (gsize) (t + 1) * sstride + x)) : zero;
      gint16 w1 = t + 1 < nt ? w[t + 1] : 0;
      __m256i wp = _mm256_set1_epi32 ((gint32) (((guint32) (guint16) w1 << 16) | (guint16) w[t]));
      __m256i alo = _mm256_unpacklo_epi8 (a, zero), ahi = _mm256_unpackhi_epi8 (a, zero);
      __m256i blo = _mm256_unpacklo_epi8 (b, zero), bhi = _mm256_unpackhi_epi8 (b, zero);
      acc0 = _mm256_add_epi32 (acc0, _mm256_madd_epi16 (_mm256_unpacklo_epi16 (alo, blo), wp));
      acc1 = _mm256_add_epi32 (acc1, _mm256_madd_epi16 (_mm256_unpackhi_epi16 (alo, blo), wp));
      acc2 = _mm256_add_epi32 (acc2, _mm256_madd_epi16 (_mm256_unpacklo_epi16 (ahi, bhi), wp));
      acc3 = _mm256_add_epi32 (acc3, _mm256_madd_epi16 (_mm256_unpackhi_epi16 (ahi, bhi), wp));
    }
    acc0 = _mm256_srai_epi32 (_mm256_add_epi32 (acc0, rnd), 8);
    acc1 = _mm256_srai_epi32 (_mm256_add_epi32 (acc1, rnd), 8);
    acc2 = _mm256_srai_epi32 (_mm256_add_epi32 (acc2, rnd), 8);
    acc3 = _mm256_srai_epi32 (_mm256_add_epi32 (acc3, rnd), 8);
    /* per 128-bit lane: p01 = pixels [0..7 | 16..23], p23 = [8..15 | 24..31] */
    __m256i p01 = _mm256_packs_epi32 (acc0, acc1), p23 = _mm256_packs_epi32 (acc2, acc3);
    _mm256_storeu_si256 ((__m256i *) (tmp + x), _mm256_permute2x128_si256 (p01, p23, 0x20));
    _mm256_storeu_si256 ((__m256i *) (tmp + x + 16), _mm256_permute2x128_si256 (p01, p23, 0x31));
  }
  for (; x < n; x++) {
    gint32 sum = 0;
    for (gint t = 0; t < nt; t++)
      sum += w[t] * row0[(gsize) t * sstride + x];
    tmp[x] = (gint16) ((sum + 128) >> 8);
  }
}
#endif

static inline __m128i
round20 (__m128i v)
{
  return _mm_srai_epi32 (_mm_add_epi32 (v, _mm_set1_epi32 (1 << 19)), 20);
}

static void
hpass_sse2 (const Plane *p, const gint16 *tmp, guint8 *dst)
{
  const gint nt = p->h.ntaps, per = p->hx_per_out;
  gint x = 0;
  if (p->nc == 1) {
    for (; x + 4 <= p->out_w; x += 4) {
      __m128i s[4];
      for (gint k = 0; k < 4; k++) {
        const gint16 *in = tmp + p->h.start[x + k];
        const gint16 *w = p->hx + (gsize) (x + k) * per;
        __m128i acc = _mm_setzero_si128 ();
        for (gint t = 0; t < nt; t += 8)
          acc = _mm_add_epi32 (acc, _mm_madd_epi16 (_mm_loadu_si128 ((const __m128i *) (in + t)),
                  _mm_loadu_si128 ((const __m128i *) (w + t))));
        s[k] = acc;
      }
      /* transpose-add: lane k = horizontal sum of s[k] */
      __m128i t0 = _mm_add_epi32 (_mm_unpacklo_epi32 (s[0], s[1]), _mm_unpackhi_epi32 (s[0], s[1]));
      __m128i t1 = _mm_add_epi32 (_mm_unpacklo_epi32 (s[2], s[3]), _mm_unpackhi_epi32 (s[2], s[3]));
      __m128i r = _mm_add_epi32 (_mm_unpacklo_epi64 (t0, t1), _mm_unpackhi_epi64 (t0, t1));
      r = round20 (r);
      r = _mm_packs_epi32 (r, r);
      r = _mm_packus_epi16 (r, r);
      gint32 v = _mm_cvtsi128_si32 (r);
      memcpy (dst + x, &v, 4);
    }
  } else if (p->nc == 2) {
    for (; x < p->out_w; x++) {
      const gint16 *in = tmp + (gsize) p->h.start[x] * 2;
      const gint16 *w = p->hx + (gsize) x * per;
      __m128i acc = _mm_setzero_si128 ();
      for (gint t = 0; t < nt; t += 4) {
        __m128i v = _mm_loadu_si128 ((const __m128i *) (in + 2 * t));
        v = _mm_shufflelo_epi16 (v, _MM_SHUFFLE (3, 1, 2, 0));
        v = _mm_shufflehi_epi16 (v, _MM_SHUFFLE (3, 1, 2, 0));
        acc = _mm_add_epi32 (acc, _mm_madd_epi16 (v, _mm_loadu_si128 ((const __m128i *) (w + 2 * t))));
      }
      acc = _mm_add_epi32 (acc, _mm_shuffle_epi32 (acc, _MM_SHUFFLE (1, 0, 3, 2)));
      acc = round20 (acc);
      acc = _mm_packs_epi32 (acc, acc);
      acc = _mm_packus_epi16 (acc, acc);
      guint32 v = (guint32) _mm_cvtsi128_si32 (acc);
      dst[2 * x] = v & 0xff;
      dst[2 * x + 1] = (v >> 8) & 0xff;
    }
    return;
  } else {
    for (; x < p->out_w; x++) {
      const gint16 *in = tmp + (gsize) p->h.start[x] * 4;
      const gint16 *w = p->hx + (gsize) x * per;
      __m128i acc = _mm_setzero_si128 ();
      for (gint t = 0; t < nt; t += 2) {
        __m128i v = _mm_loadu_si128 ((const __m128i *) (in + 4 * t));
        v = _mm_unpacklo_epi16 (v, _mm_unpackhi_epi64 (v, v));
        acc = _mm_add_epi32 (acc, _mm_madd_epi16 (v, _mm_loadu_si128 ((const __m128i *) (w + 4 * t))));
      }
      acc = round20 (acc);
      acc = _mm_packs_epi32 (acc, acc);
      acc = _mm_packus_epi16 (acc, acc);
      gint32 v = _mm_cvtsi128_si32 (acc);
      memcpy (dst + 4 * x, &v, 4);
    }
    return;
  }
  /* nc == 1 tail */
  for (; x < p->out_w; x++) {
    const gint16 *w = p->h.w + (gsize) x * nt;
    const gint16 *in = tmp + p->h.start[x];
    gint32 sum = 0;
    for (gint t = 0; t < nt; t++)
      sum += w[t] * in[t];
    sum = (sum + (1 << 19)) >> 20;
    dst[x] = (guint8) CLAMP (sum, 0, 255);
  }
}
#endif

void
ova_scaler_run (OvaScaler *s, const OvaSurface *src, OvaSurface *dst)
{
  const gboolean same = s->format == s->dst_format;
  g_return_if_fail (src->format == s->format && dst->format == s->dst_format);
  g_return_if_fail (src->width == s->sw && src->height == s->sh);
  g_return_if_fail (dst->width == s->dw && dst->height == s->dh);
  if (same && s->sw == s->dw && s->sh == s->dh) {
    /* same size, same format: the filters are identities, copy the rows */
    for (gint i = 0; i < s->n_planes; i++) {
      const Plane *p = &s->planes[i];
      for (gint y = 0; y < p->out_h; y++)
        memcpy (dst->data[i] + (gsize) y * dst->stride[i], src->data[i] + (gsize) y * src->stride[i],
            (gsize) p->out_w * p->nc);
    }
    return;
  }
  for (gint i = 0; i < s->n_planes; i++) {
    const Plane *p = &s->planes[i];
    for (gint y = 0; y < p->out_h; y++) {
      /* rows that change layout are scaled into s->row first */
      gboolean direct = same || (i == 0 && !is_rgb (s->format));
      guint8 *out = direct ? dst->data[i] + (gsize) y * dst->stride[i] : s->row;
#ifdef OVA_HAVE_AVX2
      if (s->impl == OVA_SCALER_AVX2) {
        vpass_avx2 (p, src->data[i], src->stride[i], y, s->tmp);
        hpass_sse2 (p, s->tmp, out);
      } else
#endif
#ifdef OVA_HAVE_SSE2
      if (s->impl == OVA_SCALER_SIMD) {
        vpass_sse2 (p, src->data[i], src->stride[i], y, s->tmp);
        hpass_sse2 (p, s->tmp, out);
      } else
#endif
      {
        vpass_scalar (p, src->data[i], src->stride[i], y, s->tmp);
        hpass_scalar (p, s->tmp, out);
      }
      if (direct)
        continue;
      if (is_rgb (s->format)) {
        guint8 *d = dst->data[0] + (gsize) y * dst->stride[0];
        for (gint x = 0; x < p->out_w; x++)
          for (gint k = 0; k < 4; k++)
            d[4 * x + k] = s->perm[k] < 0 ? 255 : out[4 * x + s->perm[k]];
      } else if (s->format == OVA_PIXEL_NV12) { /* UV -> U, V */
        guint8 *u = dst->data[1] + (gsize) y * dst->stride[1], *v = dst->data[2] + (gsize) y * dst->stride[2];
        for (gint x = 0; x < p->out_w; x++) {
          u[x] = out[2 * x];
          v[x] = out[2 * x + 1];
        }
      } else { /* U or V -> UV */
        guint8 *uv = dst->data[1] + (gsize) y * dst->stride[1] + (i - 1);
        for (gint x = 0; x < p->out_w; x++)
          uv[2 * x] = out[x];
      }
    }
  }
}

gboolean
ova_scaler_get_plane_filters (const OvaScaler *s, gint i, OvaScalerPlaneFilters *o)
{
  const Plane *p;
  if (!s || i < 0 || i >= s->n_planes)
    return FALSE;
  p = &s->planes[i];
  o->nc = p->nc;
  o->in_w = p->in_w; o->in_h = p->in_h; o->out_w = p->out_w; o->out_h = p->out_h;
  o->h_ntaps = p->h.ntaps; o->v_ntaps = p->v.ntaps;
  o->h_start = p->h.start; o->v_start = p->v.start;
  o->h_w = p->h.w; o->v_w = p->v.w;
  return TRUE;
}

OvaPixelFormat
ova_scaler_get_format (const OvaScaler *s, OvaPixelFormat *dst_format)
{
  if (dst_format)
    *dst_format = s->dst_format;
  return s->format;
}
