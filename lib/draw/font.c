/* ova — glyph atlas rendered once per pixel size with FreeType. SPDX-License-Identifier: MIT */
#include <ova/draw.h>
#include "draw-private.h"
#include <ft2build.h>
#include FT_FREETYPE_H
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#define OVA_HAVE_SSE2 1
#endif
#ifdef OVA_HAVE_FONTCONFIG
#include <fontconfig/fontconfig.h>
#endif

#define OVA_FALLBACK_FONT "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
#define N_GLYPHS 256 /* Latin-1: rendered into the atlas up front */

typedef struct {
  gint16 w, h;       /* bitmap size */
  gint16 left, top;  /* bitmap origin relative to the pen (top: above the baseline) */
  gint16 advance;
  gboolean present;
  guint32 offset;    /* into atlas */
  const guint8 *bits; /* w*h bytes of 8-bit coverage */
} Glyph;

struct _OvaFont {
  gint ref;
  gint pixel_size;
  gint ascender, descender; /* pixels, both >= 0 */
  gchar *path;
  Glyph glyphs[N_GLYPHS];
  guint8 *atlas;     /* the Latin-1 glyph bitmaps */
  gsize atlas_size;
  /* Other characters (Greek, Cyrillic, ...) are rendered on first use, once,
   * and kept; the face stays open for them. */
  GMutex ext_lock;
  GHashTable *ext;   /* code point -> Glyph* (present FALSE: the font has none) */
  FT_Library lib;
  FT_Face face;
};

static GMutex cache_lock;
static GHashTable *cache; /* pixel size -> OvaFont* (one ref) */

static gchar *
find_font_file (void)
{
  const gchar *env = g_getenv ("OVA_FONT_FILE");
  if (env && *env)
    return g_strdup (env);
  /* Debian's fonts-dejavu-core path first: asking fontconfig costs a config
   * load (and memory it never gives back) for the answer we already know. */
  if (g_file_test (OVA_FALLBACK_FONT, G_FILE_TEST_IS_REGULAR))
    return g_strdup (OVA_FALLBACK_FONT);
#ifdef OVA_HAVE_FONTCONFIG
  {
    gchar *path = NULL;
    FcPattern *pat = FcNameParse ((const FcChar8 *) "DejaVu Sans:style=Book");
    FcResult res;
    FcPattern *match;
    FcConfigSubstitute (NULL, pat, FcMatchPattern);
    FcDefaultSubstitute (pat);
    match = FcFontMatch (NULL, pat, &res);
    if (match) {
      FcChar8 *file = NULL;
      if (FcPatternGetString (match, FC_FILE, 0, &file) == FcResultMatch && file)
        path = g_strdup ((const gchar *) file);
      FcPatternDestroy (match);
    }
    FcPatternDestroy (pat);
    if (path && g_file_test (path, G_FILE_TEST_IS_REGULAR))
      return path;
    g_free (path);
  }
#endif
  return g_strdup (OVA_FALLBACK_FONT);
}

static void
font_free (OvaFont *f)
{
  if (f->ext) {
    g_hash_table_unref (f->ext);
    g_mutex_clear (&f->ext_lock);
  }
  if (f->face)
    FT_Done_Face (f->face);
  if (f->lib)
    FT_Done_FreeType (f->lib);
  g_free (f->atlas);
  g_free (f->path);
  g_free (f);
}

static OvaFont *
font_build (gint size, GError **error)
{
  FT_Library lib;
  FT_Face face;
  OvaFont *f;
  GByteArray *atlas;
  gchar *path = find_font_file ();

  if (FT_Init_FreeType (&lib)) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "FreeType could not be initialised");
    g_free (path);
    return NULL;
  }
  if (FT_New_Face (lib, path, 0, &face)) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
        "cannot load font file '%s' (install fonts-dejavu-core or set OVA_FONT_FILE)", path);
    FT_Done_FreeType (lib);
    g_free (path);
    return NULL;
  }
  FT_Set_Pixel_Sizes (face, 0, size);
  f = g_new0 (OvaFont, 1);
  f->ref = 1;
  f->pixel_size = size;
  f->path = path;
  f->ascender = (gint) ((face->size->metrics.ascender + 63) >> 6);
  f->descender = (gint) ((-face->size->metrics.descender + 63) >> 6);
  atlas = g_byte_array_new ();
  for (guint cp = 32; cp < N_GLYPHS; cp++) {
    FT_GlyphSlot g;
    Glyph *gl = &f->glyphs[cp];
    if (cp >= 127 && cp < 160)
      continue;
    if (FT_Load_Char (face, cp, FT_LOAD_RENDER | FT_LOAD_TARGET_NORMAL))
      continue;
    g = face->glyph;
    if (g->bitmap.pixel_mode != FT_PIXEL_MODE_GRAY)
      continue;
    gl->present = TRUE;
    gl->w = g->bitmap.width;
    gl->h = g->bitmap.rows;
    gl->left = g->bitmap_left;
    gl->top = g->bitmap_top;
    gl->advance = (gint16) ((g->advance.x + 32) >> 6);
    gl->offset = atlas->len;
    for (guint r = 0; r < g->bitmap.rows; r++)
      g_byte_array_append (atlas, g->bitmap.buffer + (gssize) r * g->bitmap.pitch, g->bitmap.width);
  }
  f->atlas_size = atlas->len;
  f->atlas = g_byte_array_free (atlas, FALSE);
  for (guint cp = 0; cp < N_GLYPHS; cp++)
    f->glyphs[cp].bits = f->atlas + f->glyphs[cp].offset;
  f->lib = lib;
  f->face = face;
  g_mutex_init (&f->ext_lock);
  f->ext = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  if (!f->glyphs['?'].present) {
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "font file '%s' has no usable glyphs", f->path);
    font_free (f);
    return NULL;
  }
  return f;
}

OvaFont *
ova_font_get (gint pixel_size, GError **error)
{
  OvaFont *f;
  pixel_size = CLAMP (pixel_size, 4, 256);
  g_mutex_lock (&cache_lock);
  if (!cache)
    cache = g_hash_table_new (g_direct_hash, g_direct_equal);
  f = g_hash_table_lookup (cache, GINT_TO_POINTER (pixel_size));
  if (!f) {
    f = font_build (pixel_size, error);
    if (f)
      g_hash_table_insert (cache, GINT_TO_POINTER (pixel_size), f);
  }
  if (f)
    g_atomic_int_inc (&f->ref);
  g_mutex_unlock (&cache_lock);
  return f;
}

OvaFont *
ova_font_ref (OvaFont *f)
{
  g_atomic_int_inc (&f->ref);
  return f;
}

void
ova_font_unref (OvaFont *f)
{
  if (f && g_atomic_int_dec_and_test (&f->ref))
    font_free (f); /* only reached after ova_font_cache_clear() dropped the cache's ref */
}

static gboolean
drop_unused (gpointer key, gpointer value, gpointer data)
{
  OvaFont *f = value;
  if (g_atomic_int_get (&f->ref) == 1) {
    ova_font_unref (f);
    return TRUE;
  }
  return FALSE;
}

void
ova_font_cache_clear (void)
{
  g_mutex_lock (&cache_lock);
  if (cache) {
    g_hash_table_foreach_remove (cache, drop_unused, NULL);
    if (g_hash_table_size (cache) == 0) {
      g_hash_table_unref (cache);
      cache = NULL;
    }
  }
  g_mutex_unlock (&cache_lock);
}

const gchar *ova_font_get_path (OvaFont *f) { return f->path; }
gint ova_font_get_pixel_size (OvaFont *f) { return f->pixel_size; }
gint ova_font_get_line_height (OvaFont *f) { return f->ascender + f->descender; }

/* Next code point of UTF-8 @p ('?' for invalid bytes); advances *p. */
static guint
next_char (const gchar **p)
{
  gunichar c = g_utf8_get_char_validated (*p, -1);
  if (c == (gunichar) -1 || c == (gunichar) -2) {
    (*p)++;
    return '?';
  }
  *p = g_utf8_next_char (*p);
  return c;
}

/* A glyph beyond Latin-1: rendered on first use, then kept. */
static const Glyph *
ext_glyph (OvaFont *f, guint c)
{
  Glyph *g;
  g_mutex_lock (&f->ext_lock);
  g = g_hash_table_lookup (f->ext, GUINT_TO_POINTER (c));
  if (!g) {
    FT_GlyphSlot slot;
    if (FT_Get_Char_Index (f->face, c) != 0 && !FT_Load_Char (f->face, c, FT_LOAD_RENDER | FT_LOAD_TARGET_NORMAL) &&
        (slot = f->face->glyph)->bitmap.pixel_mode == FT_PIXEL_MODE_GRAY) {
      gsize n = (gsize) slot->bitmap.width * slot->bitmap.rows;
      guint8 *bits;
      g = g_malloc0 (sizeof (Glyph) + n);
      bits = (guint8 *) (g + 1);
      g->present = TRUE;
      g->w = slot->bitmap.width;
      g->h = slot->bitmap.rows;
      g->left = slot->bitmap_left;
      g->top = slot->bitmap_top;
      g->advance = (gint16) ((slot->advance.x + 32) >> 6);
      for (guint r = 0; r < slot->bitmap.rows; r++)
        memcpy (bits + (gsize) r * g->w, slot->bitmap.buffer + (gssize) r * slot->bitmap.pitch, g->w);
      g->bits = bits;
    } else {
      g = g_new0 (Glyph, 1); /* not in the font: remembered, drawn as '?' */
    }
    g_hash_table_insert (f->ext, GUINT_TO_POINTER (c), g);
  }
  g_mutex_unlock (&f->ext_lock);
  return g->present ? g : &f->glyphs['?'];
}

static const Glyph *
glyph_of (OvaFont *f, guint c)
{
  if (c < N_GLYPHS && f->glyphs[c].present)
    return &f->glyphs[c];
  if (c == ' ' || c == '\t')
    return NULL; /* advance only; handled by caller */
  if (c >= N_GLYPHS)
    return ext_glyph (f, c);
  return &f->glyphs['?'];
}

static gint
advance_of (OvaFont *f, guint c)
{
  const Glyph *g = glyph_of (f, c);
  if (g)
    return g->advance;
  return f->glyphs[' '].present ? f->glyphs[' '].advance : f->pixel_size / 3;
}

void
ova_font_measure (OvaFont *f, const gchar *text, gint *width, gint *height)
{
  gint w = 0, pen = 0;
  for (const gchar *p = text; p && *p;) {
    guint c = next_char (&p);
    const Glyph *g = glyph_of (f, c);
    if (g)
      w = MAX (w, pen + g->left + g->w);
    pen += advance_of (f, c);
  }
  w = MAX (w, pen);
  if (width)
    *width = w;
  if (height)
    *height = f->ascender + f->descender;
}

static inline guint8
blend8 (guint8 d, guint8 v, guint a)
{
  return (guint8) ((d * (255u - a) + v * a + 127u) / 255u);
}

/* dst = max (dst, src): glyph coverage composed into a string mask. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__ ((optimize ("tree-vectorize")))
#endif
static void
max_row (guint8 *restrict dst, const guint8 *restrict src, gint n)
{
  for (gint k = 0; k < n; k++)
    dst[k] = dst[k] > src[k] ? dst[k] : src[k];
}

static gint force_scalar = -1;

void
ova_draw_force_scalar (gboolean scalar)
{
  g_atomic_int_set (&force_scalar, scalar ? 1 : 0);
}

static gboolean
use_simd (void)
{
  gint f = g_atomic_int_get (&force_scalar);
  if (f < 0) {
    f = g_getenv ("OVA_DRAW_SCALAR") != NULL;
    g_atomic_int_set (&force_scalar, f);
  }
#ifdef OVA_HAVE_SSE2
  return !f;
#else
  return FALSE;
#endif
}

#ifdef OVA_HAVE_SSE2
/* x / 255 for 0 <= x <= 65534, on 16-bit lanes: (x + 1 + (x >> 8)) >> 8 */
static inline __m128i
div255_epu16 (__m128i x)
{
  return _mm_srli_epi16 (_mm_add_epi16 (_mm_add_epi16 (x, _mm_set1_epi16 (1)), _mm_srli_epi16 (x, 8)), 8);
}

/* blend8 (bg, fg, a) on 8 lanes of a (0..255) */
static inline __m128i
blend_epu16 (__m128i a, __m128i bg, __m128i fg)
{
  __m128i x = _mm_add_epi16 (_mm_mullo_epi16 (bg, _mm_sub_epi16 (_mm_set1_epi16 (255), a)), _mm_mullo_epi16 (fg, a));
  return div255_epu16 (_mm_add_epi16 (x, _mm_set1_epi16 (127)));
}

/* Luma of a label row: dst[i] = blend8 (bg, fg, m[i]); returns how many were done. */
static gint
label_luma_sse2 (guint8 *dst, const guint8 *m, gint n, guint8 bg, guint8 fg)
{
  const __m128i zero = _mm_setzero_si128 (), vbg = _mm_set1_epi16 (bg), vfg = _mm_set1_epi16 (fg);
  gint i = 0;
  for (; i + 16 <= n; i += 16) {
    __m128i mm = _mm_loadu_si128 ((const __m128i *) (m + i));
    __m128i lo = blend_epu16 (_mm_unpacklo_epi8 (mm, zero), vbg, vfg);
    __m128i hi = blend_epu16 (_mm_unpackhi_epi8 (mm, zero), vbg, vfg);
    _mm_storeu_si128 ((__m128i *) (dst + i), _mm_packus_epi16 (lo, hi));
  }
  return i;
}

/* Chroma of 8 fully covered samples from two mask rows (16 bytes each):
 * a = (sum of the 2x2 block + 2) >> 2, then U/V = blend8 (bg, fg, a). */
static inline void
label_chroma8_sse2 (const guint8 *m0, const guint8 *m1, __m128i *u, __m128i *v,
    __m128i bgu, __m128i fgu, __m128i bgv, __m128i fgv)
{
  const __m128i zero = _mm_setzero_si128 (), ones = _mm_set1_epi16 (1);
  __m128i r0 = _mm_loadu_si128 ((const __m128i *) m0), r1 = _mm_loadu_si128 ((const __m128i *) m1);
  __m128i lo = _mm_add_epi16 (_mm_unpacklo_epi8 (r0, zero), _mm_unpacklo_epi8 (r1, zero));
  __m128i hi = _mm_add_epi16 (_mm_unpackhi_epi8 (r0, zero), _mm_unpackhi_epi8 (r1, zero));
  /* pairwise sums: 4 + 4 x 32-bit, packed back to 8 x 16-bit */
  __m128i sum = _mm_packs_epi32 (_mm_madd_epi16 (lo, ones), _mm_madd_epi16 (hi, ones));
  __m128i a = _mm_srli_epi16 (_mm_add_epi16 (sum, _mm_set1_epi16 (2)), 2);
  *u = blend_epu16 (a, bgu, fgu);
  *v = blend_epu16 (a, bgv, fgv);
}
#endif

/* Opaque text on an opaque background on 4:2:0, in one pass: the same bytes
 * as filling the background and then blending the coverage mask (the scalar
 * code below is the reference; the SSE2 path gives identical bytes). */
static void
draw_label_yuv (OvaSurface *s, gint x, gint y, gint w, gint h, gint pad, const guint8 *mask,
    const OvaPaint *fg, const OvaPaint *bg)
{
  gint X0 = MAX (x - pad, 0), Y0 = MAX (y - pad, 0);
  gint X1 = MIN (x + w + pad, s->width), Y1 = MIN (y + h + pad, s->height);
  gint tx0 = MAX (X0, x), tx1 = MIN (X1, x + w), ty0 = MAX (Y0, y), ty1 = MIN (Y1, y + h);
  guint8 lut[256];
  const gboolean nv12 = s->format == OVA_PIXEL_NV12, simd = use_simd ();
  if (X0 >= X1 || Y0 >= Y1)
    return;
  for (guint m = 0; m < 256; m++)
    lut[m] = blend8 (bg->c[0], fg->c[0], m);
  for (gint yy = Y0; yy < Y1; yy++) {
    guint8 *row = s->data[0] + (gsize) yy * s->stride[0];
    gint xx = tx0;
    if (yy < ty0 || yy >= ty1 || tx0 >= tx1) {
      memset (row + X0, bg->c[0], X1 - X0);
      continue;
    }
    const guint8 *m = mask + (gsize) (yy - y) * w - x;
    memset (row + X0, bg->c[0], tx0 - X0);
#ifdef OVA_HAVE_SSE2
    if (simd)
      xx += label_luma_sse2 (row + tx0, m + tx0, tx1 - tx0, bg->c[0], fg->c[0]);
#endif
    for (; xx < tx1; xx++)
      row[xx] = lut[m[xx]];
    memset (row + tx1, bg->c[0], X1 - tx1);
  }
  for (gint cy = Y0 >> 1; cy < (Y1 + 1) >> 1; cy++) {
    gint oy = MIN (Y1, 2 * cy + 2) - MAX (Y0, 2 * cy);
    const guint8 *m0 = NULL, *m1 = NULL;
    guint8 *u, *v;
    gint step = nv12 ? 2 : 1, cx = X0 >> 1, cend = (X1 + 1) >> 1;
    if (2 * cy >= ty0 && 2 * cy < ty1)
      m0 = mask + (gsize) (2 * cy - y) * w - x;
    if (2 * cy + 1 >= ty0 && 2 * cy + 1 < ty1)
      m1 = mask + (gsize) (2 * cy + 1 - y) * w - x;
    if (nv12) {
      u = s->data[1] + (gsize) cy * s->stride[1] + 2 * cx;
      v = u + 1;
    } else {
      u = s->data[1] + (gsize) cy * s->stride[1] + cx;
      v = s->data[2] + (gsize) cy * s->stride[2] + cx;
    }
    while (cx < cend) {
#ifdef OVA_HAVE_SSE2
      /* 8 samples whose blocks are inside both the background and the text */
      if (simd && oy == 2 && m0 && m1 && 2 * cx >= MAX (tx0, X0) && 2 * cx + 16 <= tx1 && 2 * cx + 16 <= X1) {
        const __m128i bgu = _mm_set1_epi16 (bg->c[1]), fgu = _mm_set1_epi16 (fg->c[1]);
        const __m128i bgv = _mm_set1_epi16 (bg->c[2]), fgv = _mm_set1_epi16 (fg->c[2]);
        __m128i U, V;
        label_chroma8_sse2 (m0 + 2 * cx, m1 + 2 * cx, &U, &V, bgu, fgu, bgv, fgv);
        U = _mm_packus_epi16 (U, U);
        V = _mm_packus_epi16 (V, V);
        if (nv12) {
          _mm_storeu_si128 ((__m128i *) u, _mm_unpacklo_epi8 (U, V));
        } else {
          _mm_storel_epi64 ((__m128i *) u, U);
          _mm_storel_epi64 ((__m128i *) v, V);
        }
        cx += 8; u += 8 * step; v += 8 * step;
        continue;
      }
#endif
      gint ox = MIN (X1, 2 * cx + 2) - MAX (X0, 2 * cx);
      guint cov = (guint) (ox * oy), sum = 0;
      guint8 U, V;
      if (cov == 4) {
        U = bg->c[1]; V = bg->c[2];
      } else {
        guint ca = (255 * cov + 2) / 4;
        U = blend8 (*u, bg->c[1], ca); V = blend8 (*v, bg->c[2], ca);
      }
      for (gint xx = MAX (2 * cx, tx0); xx < MIN (2 * cx + 2, tx1); xx++)
        sum += (m0 ? m0[xx] : 0) + (m1 ? m1[xx] : 0);
      if (sum) {
        guint ca = sum == 1020 ? 255 : (255 * sum + 510) / 1020;
        U = blend8 (U, fg->c[1], ca); V = blend8 (V, fg->c[2], ca);
      }
      *u = U; *v = V;
      cx++; u += step; v += step;
    }
  }
}

gint
ova_draw_text (OvaSurface *s, OvaFont *f, gint x, gint y, const gchar *text, const OvaPaint *fg, const OvaPaint *bg, gint pad)
{
  gint w, h, pen = 0;
  guint8 stack[16384];
  guint8 *mask;
  gsize sz;
  gboolean label;

  if (!text || !*text)
    return 0;
  ova_font_measure (f, text, &w, &h);
  pad = bg ? MAX (pad, 0) : 0;
  if (w <= 0 || h <= 0 || x - pad >= s->width || y - pad >= s->height || x + w + pad <= 0 || y + h + pad <= 0)
    return w + 2 * pad;
  label = bg && bg->alpha == 255 && fg->alpha == 255 &&
      (s->format == OVA_PIXEL_NV12 || s->format == OVA_PIXEL_I420);
  if (bg && !label)
    ova_draw_fill_rect (s, x - pad, y - pad, w + 2 * pad, h + 2 * pad, bg);
  if (s->recorder) {
    /* glyph references instead of the composed mask: the mask is composed
     * where it is drawn, from the atlas */
    ova_draw_record_text (s, f, text, x, y, w, h, pad, label, fg, bg);
    return w + 2 * pad;
  }
  /* The string's coverage is composed first and blended once, so glyph boxes
   * that touch (or share a chroma sample) do not blend twice. */
  sz = (gsize) w * h;
  mask = sz <= sizeof (stack) ? stack : g_malloc (sz);
  memset (mask, 0, sz);
  for (const gchar *p = text; *p;) {
    guint c = next_char (&p);
    const Glyph *g = glyph_of (f, c);
    if (g) {
      gint gx = pen + g->left, gy = f->ascender - g->top;
      gint k0 = MAX (0, -gx), k1 = MIN (g->w, w - gx);
      for (gint r = MAX (0, -gy); r < g->h && gy + r < h; r++) {
        const guint8 *src = g->bits + (gsize) r * g->w;
        guint8 *dst = mask + (gsize) (gy + r) * w + gx;
        if (k1 > k0)
          max_row (dst + k0, src + k0, k1 - k0);
      }
    }
    pen += advance_of (f, c);
  }
  if (label)
    draw_label_yuv (s, x, y, w, h, pad, mask, fg, bg);
  else
    ova_draw_mask (s, x, y, mask, w, h, w, fg);
  if (mask != stack)
    g_free (mask);
  return w + 2 * pad;
}

const guint8 *
ova_font_get_atlas (OvaFont *f, gsize *size)
{
  *size = f->atlas_size;
  return f->atlas;
}

void
ova_font_layout (OvaFont *f, const gchar *text, OvaGlyphFunc func, gpointer data)
{
  gint pen = 0;
  for (const gchar *p = text; p && *p;) {
    guint c = next_char (&p);
    const Glyph *g = glyph_of (f, c);
    if (g && g->w > 0 && g->h > 0) {
      OvaGlyphPlacement gp;
      gp.x = pen + g->left;
      gp.y = f->ascender - g->top;
      gp.w = g->w;
      gp.h = g->h;
      gp.in_atlas = g >= f->glyphs && g < f->glyphs + N_GLYPHS;
      gp.offset = gp.in_atlas ? g->offset : 0;
      gp.bits = g->bits;
      func (&gp, data);
    }
    pen += advance_of (f, c);
  }
}
