/* ova — pixel checks of the drawing primitives. SPDX-License-Identifier: MIT */
#include <ova/draw.h>
#include <string.h>
#include <math.h>

typedef struct {
  OvaSurface s;
  guint8 *buf;
} Frame;

/* A frame of @fmt filled with mid grey (YUV 128/128/128, RGB 128s), padded strides. */
static void
frame_new (Frame *f, OvaPixelFormat fmt, gint w, gint h)
{
  gint pad = 24;
  memset (f, 0, sizeof (*f));
  f->s.format = fmt;
  f->s.width = w;
  f->s.height = h;
  if (fmt == OVA_PIXEL_NV12 || fmt == OVA_PIXEL_I420) {
    gint cw = (w + 1) / 2, ch = (h + 1) / 2;
    f->s.stride[0] = w + pad;
    f->s.stride[1] = fmt == OVA_PIXEL_NV12 ? 2 * cw + pad : cw + pad;
    f->s.stride[2] = cw + pad;
    gsize n0 = (gsize) f->s.stride[0] * h, n1 = (gsize) f->s.stride[1] * ch, n2 = fmt == OVA_PIXEL_I420 ? (gsize) f->s.stride[2] * ch : 0;
    f->buf = g_malloc (n0 + n1 + n2);
    memset (f->buf, 128, n0 + n1 + n2);
    f->s.data[0] = f->buf;
    f->s.data[1] = f->buf + n0;
    if (fmt == OVA_PIXEL_I420)
      f->s.data[2] = f->buf + n0 + n1;
  } else {
    f->s.stride[0] = 4 * w + pad;
    f->buf = g_malloc ((gsize) f->s.stride[0] * h);
    memset (f->buf, 128, (gsize) f->s.stride[0] * h);
    f->s.data[0] = f->buf;
  }
}

static guint8 Y (Frame *f, gint x, gint y) { return f->s.data[0][(gsize) y * f->s.stride[0] + x]; }
static guint8 U (Frame *f, gint cx, gint cy)
{
  return f->s.format == OVA_PIXEL_NV12 ? f->s.data[1][(gsize) cy * f->s.stride[1] + 2 * cx] : f->s.data[1][(gsize) cy * f->s.stride[1] + cx];
}
static guint8 V (Frame *f, gint cx, gint cy)
{
  return f->s.format == OVA_PIXEL_NV12 ? f->s.data[1][(gsize) cy * f->s.stride[1] + 2 * cx + 1] : f->s.data[2][(gsize) cy * f->s.stride[2] + cx];
}
static const guint8 *RGB (Frame *f, gint x, gint y) { return f->s.data[0] + (gsize) y * f->s.stride[0] + 4 * x; }

static const OvaColor red = { 1, 0, 0, 1 }, white = { 1, 1, 1, 1 }, black = { 0, 0, 0, 1 };

static void
test_paint (void)
{
  Frame f;
  OvaPaint p;
  frame_new (&f, OVA_PIXEL_NV12, 16, 16);
  ova_paint_init (&p, &f.s, &white);
  g_assert_cmpuint (p.c[0], ==, 235); g_assert_cmpuint (p.c[1], ==, 128); g_assert_cmpuint (p.c[2], ==, 128);
  g_assert_cmpuint (p.alpha, ==, 255);
  ova_paint_init (&p, &f.s, &red); /* BT.601 limited: 81, 90, 240 */
  g_assert_cmpuint (p.c[0], ==, 81); g_assert_cmpuint (p.c[1], ==, 90); g_assert_cmpuint (p.c[2], ==, 240);
  f.s.bt709 = TRUE; /* BT.709 limited red: 63, 102, 240 */
  ova_paint_init (&p, &f.s, &red);
  g_assert_cmpuint (p.c[0], ==, 63); g_assert_cmpuint (p.c[1], ==, 102); g_assert_cmpuint (p.c[2], ==, 240);
  f.s.full_range = TRUE; f.s.bt709 = FALSE;
  ova_paint_init (&p, &f.s, &black);
  g_assert_cmpuint (p.c[0], ==, 0);
  g_free (f.buf);
  frame_new (&f, OVA_PIXEL_BGRX, 4, 4);
  ova_paint_init (&p, &f.s, &red);
  g_assert_cmpuint (p.c[0], ==, 0); g_assert_cmpuint (p.c[2], ==, 255);
  g_free (f.buf);
}

static void
check_box_yuv (OvaPixelFormat fmt)
{
  Frame f;
  OvaPaint p;
  frame_new (&f, fmt, 320, 240);
  ova_paint_init (&p, &f.s, &red);
  ova_draw_rect (&f.s, 100, 50, 80, 60, 4, &p);
  /* border pixels */
  for (gint x = 100; x < 180; x++) {
    g_assert_cmpuint (Y (&f, x, 50), ==, 81);
    g_assert_cmpuint (Y (&f, x, 53), ==, 81);
    g_assert_cmpuint (Y (&f, x, 109), ==, 81);
    g_assert_cmpuint (Y (&f, x, 54), ==, (x >= 104 && x < 176) ? 128 : 81); /* interior untouched */
  }
  for (gint y = 50; y < 110; y++) {
    g_assert_cmpuint (Y (&f, 100, y), ==, 81);
    g_assert_cmpuint (Y (&f, 179, y), ==, 81);
    g_assert_cmpuint (Y (&f, 99, y), ==, 128);
    g_assert_cmpuint (Y (&f, 180, y), ==, 128);
  }
  g_assert_cmpuint (Y (&f, 140, 80), ==, 128);
  g_assert_cmpuint (Y (&f, 140, 49), ==, 128);
  g_assert_cmpuint (Y (&f, 140, 110), ==, 128);
  /* chroma: the border's 2x2 blocks are fully covered, the interior is not touched */
  g_assert_cmpuint (U (&f, 50, 25), ==, 90); g_assert_cmpuint (V (&f, 50, 25), ==, 240);
  g_assert_cmpuint (U (&f, 70, 40), ==, 128); g_assert_cmpuint (V (&f, 70, 40), ==, 128);
  g_assert_cmpuint (U (&f, 49, 25), ==, 128);
  g_free (f.buf);
}

static void test_box_nv12 (void) { check_box_yuv (OVA_PIXEL_NV12); }
static void test_box_i420 (void) { check_box_yuv (OVA_PIXEL_I420); }

static void
test_box_odd_chroma (void)
{
  Frame f;
  OvaPaint p;
  frame_new (&f, OVA_PIXEL_NV12, 64, 64);
  ova_paint_init (&p, &f.s, &red);
  /* a 1-pixel column at x = 11: its chroma sample (5) is half covered */
  ova_draw_fill_rect (&f.s, 11, 10, 1, 20, &p);
  g_assert_cmpuint (Y (&f, 11, 12), ==, 81);
  g_assert_cmpuint (Y (&f, 10, 12), ==, 128);
  g_assert_cmpuint (U (&f, 5, 8), ==, (128 * 127 + 90 * 128 + 127) / 255); /* a = 128: half covered */
  g_assert_cmpuint (U (&f, 4, 8), ==, 128);
  g_free (f.buf);
}

static void
test_box_rgb (void)
{
  OvaPixelFormat fmts[] = { OVA_PIXEL_RGBA, OVA_PIXEL_BGRA, OVA_PIXEL_RGBX, OVA_PIXEL_BGRX };
  for (guint i = 0; i < G_N_ELEMENTS (fmts); i++) {
    Frame f;
    OvaPaint p;
    gboolean bgr = fmts[i] == OVA_PIXEL_BGRA || fmts[i] == OVA_PIXEL_BGRX;
    frame_new (&f, fmts[i], 100, 80);
    ova_paint_init (&p, &f.s, &red);
    ova_draw_rect (&f.s, 10, 10, 50, 40, 2, &p);
    const guint8 *px = RGB (&f, 10, 10);
    g_assert_cmpuint (px[bgr ? 2 : 0], ==, 255);
    g_assert_cmpuint (px[1], ==, 0);
    g_assert_cmpuint (px[bgr ? 0 : 2], ==, 0);
    g_assert_cmpuint (RGB (&f, 30, 30)[0], ==, 128);
    g_assert_cmpuint (RGB (&f, 9, 10)[0], ==, 128);
    g_assert_cmpuint (RGB (&f, 59, 49)[bgr ? 2 : 0], ==, 255);
    g_assert_cmpuint (RGB (&f, 60, 49)[0], ==, 128);
    g_free (f.buf);
  }
}

static void
test_fill_alpha (void)
{
  Frame f;
  OvaPaint p;
  OvaColor half_black = { 0, 0, 0, 0.5f };
  frame_new (&f, OVA_PIXEL_NV12, 64, 64);
  ova_paint_init (&p, &f.s, &half_black);
  g_assert_cmpuint (p.alpha, ==, 128);
  ova_draw_fill_rect (&f.s, 8, 8, 16, 16, &p);
  /* 128 blended toward 16 with alpha 128/255 */
  g_assert_cmpuint (Y (&f, 10, 10), ==, (128 * 127 + 16 * 128 + 127) / 255);
  g_assert_cmpuint (Y (&f, 7, 10), ==, 128);
  g_assert_cmpuint (U (&f, 5, 5), ==, 128); /* grey stays grey */
  g_free (f.buf);
}

static void
test_clipping (void)
{
  Frame f;
  OvaPaint p;
  frame_new (&f, OVA_PIXEL_I420, 33, 17); /* odd sizes */
  ova_paint_init (&p, &f.s, &white);
  ova_draw_rect (&f.s, -10, -10, 100, 100, 3, &p);
  ova_draw_fill_rect (&f.s, 30, 15, 40, 40, &p);
  ova_draw_line (&f.s, -50, -50, 200, 80, 5, &p);
  ova_draw_circle (&f.s, 32, 16, 30, 4, &p, &p);
  ova_draw_arrow (&f.s, 0, 0, 40, 20, 3, &p);
  ova_draw_fill_rect (&f.s, 1e9f, 1e9f, 10, 10, &p);
  ova_draw_rect (&f.s, 0, 0, 0, 10, 3, &p);
  g_assert_cmpuint (Y (&f, 32, 16), ==, 235);
  g_free (f.buf);
  /* absurd coordinates from corrupt metadata: nothing drawn, nothing undefined */
  {
    const gfloat bad[] = { 1e30f, -1e30f, NAN, INFINITY, -INFINITY, 3e9f, -3e9f, 0 };
    frame_new (&f, OVA_PIXEL_NV12, 64, 48);
    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      for (guint j = 0; j < G_N_ELEMENTS (bad); j++) {
        gfloat a = bad[i], b = bad[j];
        ova_draw_rect (&f.s, a, b, b, a, 3, &p);
        ova_draw_rect (&f.s, 1, 1, 10, 10, a, &p);
        ova_draw_fill_rect (&f.s, a, 2, b, 5, &p);
        ova_draw_line (&f.s, a, b, 10, 10, 2, &p);
        ova_draw_line (&f.s, 5, 5, a, b, b, &p);
        ova_draw_arrow (&f.s, a, 3, 20, b, 2, &p);
        ova_draw_circle (&f.s, a, b, 10, 2, &p, &p);
        ova_draw_circle (&f.s, 10, 10, a, b, &p, &p);
      }
    g_free (f.buf);
  }
}

static void
test_line (void)
{
  Frame f;
  OvaPaint p;
  frame_new (&f, OVA_PIXEL_NV12, 200, 200);
  ova_paint_init (&p, &f.s, &white);
  ova_draw_line (&f.s, 10, 20.5f, 150, 20.5f, 3, &p);
  g_assert_cmpuint (Y (&f, 50, 20), ==, 235);
  g_assert_cmpuint (Y (&f, 50, 19), ==, 235);
  g_assert_cmpuint (Y (&f, 50, 21), ==, 235);
  g_assert_cmpuint (Y (&f, 50, 24), ==, 128);
  g_assert_cmpuint (Y (&f, 160, 20), ==, 128);
  /* diagonal */
  ova_draw_line (&f.s, 20, 40, 180, 190, 4, &p);
  g_assert_cmpuint (Y (&f, 100, 115), ==, 235); /* on the line: y = 40 + (x - 20) * 150/160 */
  g_assert_cmpuint (Y (&f, 100, 130), ==, 128);
  g_assert_cmpuint (Y (&f, 120, 100), ==, 128);
  g_free (f.buf);
}

static void
test_circle_arrow (void)
{
  Frame f;
  OvaPaint p, fill;
  OvaColor blue = { 0, 0, 1, 1 };
  frame_new (&f, OVA_PIXEL_RGBA, 200, 200);
  ova_paint_init (&p, &f.s, &white);
  ova_paint_init (&fill, &f.s, &blue);
  ova_draw_circle (&f.s, 100, 100, 40, 4, &p, &fill);
  g_assert_cmpuint (RGB (&f, 100, 100)[2], ==, 255); /* filled blue */
  g_assert_cmpuint (RGB (&f, 100, 100)[0], ==, 0);
  g_assert_cmpuint (RGB (&f, 140, 100)[0], ==, 255); /* on the ring, white */
  g_assert_cmpuint (RGB (&f, 100, 60)[1], ==, 255);
  g_assert_cmpuint (RGB (&f, 150, 100)[0], ==, 128); /* outside */
  g_assert_cmpuint (RGB (&f, 120, 120)[0], ==, 0);   /* inside: blue */
  ova_draw_arrow (&f.s, 10, 180, 90, 180, 2, &p);
  g_assert_cmpuint (RGB (&f, 50, 180)[0], ==, 255);
  g_assert_cmpuint (RGB (&f, 82, 182)[0], ==, 255); /* the head is wider than the shaft */
  g_assert_cmpuint (RGB (&f, 50, 184)[0], ==, 128);
  g_assert_cmpuint (RGB (&f, 95, 180)[0], ==, 128);
  g_free (f.buf);
}

static void
test_text (void)
{
  GError *err = NULL;
  OvaFont *font = ova_font_get (20, &err);
  OvaFont *again;
  Frame f;
  OvaPaint fg, bg;
  gint w, h, lit = 0, drawn;
  g_assert_no_error (err);
  g_assert_nonnull (font);
  g_assert_true (g_file_test (ova_font_get_path (font), G_FILE_TEST_EXISTS));
  again = ova_font_get (20, NULL);
  g_assert_true (again == font); /* cached: the atlas is rendered once */
  ova_font_unref (again);
  ova_font_measure (font, "person 12 0.87", &w, &h);
  g_assert_cmpint (w, >, 80);
  g_assert_cmpint (w, <, 200);
  g_assert_cmpint (h, ==, ova_font_get_line_height (font));
  g_assert_cmpint (h, >=, 20);

  frame_new (&f, OVA_PIXEL_NV12, 320, 120);
  ova_paint_init (&fg, &f.s, &white);
  ova_paint_init (&bg, &f.s, &black);
  drawn = ova_draw_text (&f.s, font, 40, 30, "person 12 0.87", &fg, &bg, 2);
  g_assert_cmpint (drawn, ==, w + 4);
  for (gint y = 0; y < f.s.height; y++)
    for (gint x = 0; x < f.s.width; x++) {
      gboolean in_bg = x >= 38 && x < 42 + w && y >= 28 && y < 32 + h;
      guint8 v = Y (&f, x, y);
      if (!in_bg)
        g_assert_cmpuint (v, ==, 128);
      else if (v > 200)
        lit++;
      else if (v != 16)
        g_assert_cmpuint (v, >, 16); /* anti-aliased edges between bg and fg */
    }
  g_assert_cmpint (lit, >, 150);  /* glyph cores are fully white */
  g_assert_cmpuint (Y (&f, 39, 29), ==, 16);  /* padding is background */
  /* 'p' has a descender: something lit below the baseline */
  lit = 0;
  for (gint x = 40; x < 52; x++)
    for (gint y = 30 + h - 5; y < 30 + h; y++)
      lit += Y (&f, x, y) > 100;
  g_assert_cmpint (lit, >, 0);
  /* beyond Latin-1: glyphs the font has are rendered (once), others are '?' */
  {
    gint wc, wq, wcjk, wq1;
    ova_font_measure (font, "Привет Ωμέγα", &wc, NULL);
    ova_font_measure (font, "?????? ?????", &wq, NULL);
    ova_font_measure (font, "人", &wcjk, NULL);
    ova_font_measure (font, "?", &wq1, NULL);
    g_assert_cmpint (wc, !=, wq);
    g_assert_cmpint (wcjk, ==, wq1);
    for (gint k = 0; k < 2; k++) { /* the second time from the cache */
      Frame c, q;
      frame_new (&c, OVA_PIXEL_NV12, 200, 40);
      frame_new (&q, OVA_PIXEL_NV12, 200, 40);
      ova_draw_text (&c.s, font, 2, 2, "Привет", &fg, NULL, 0);
      ova_draw_text (&q.s, font, 2, 2, "??????", &fg, NULL, 0);
      g_assert_true (memcmp (c.buf, q.buf, (gsize) c.s.stride[0] * 40) != 0);
      g_free (c.buf); g_free (q.buf);
    }
  }
  ova_draw_text (&f.s, font, 300, 100, "人\xff", &fg, NULL, 0);
  g_free (f.buf);
  ova_font_unref (font);
  ova_font_cache_clear ();
}

static guint8
ref_blend (guint8 d, guint8 v, guint a)
{
  return (guint8) ((d * (255u - a) + v * a + 127u) / 255u);
}

/* Box outlines against a brute-force reference: every luma sample inside the
 * outline blended once; every chroma sample blended once with the share of
 * its 2x2 block inside the outline (clipped to the frame). */
static void
test_box_reference (void)
{
  GRand *r = g_rand_new_with_seed (42);
  for (gint round = 0; round < 300; round++) {
    OvaPixelFormat fmt = round & 1 ? OVA_PIXEL_I420 : OVA_PIXEL_NV12;
    gint w = g_rand_int_range (r, 1, 90), h = g_rand_int_range (r, 1, 70);
    Frame f, ref;
    OvaPaint p;
    OvaColor c = { g_rand_double (r), g_rand_double (r), g_rand_double (r), round % 3 ? 1.0 : g_rand_double (r) };
    gint bx = g_rand_int_range (r, -20, w), by = g_rand_int_range (r, -20, h);
    gint bw = g_rand_int_range (r, 1, 80), bh = g_rand_int_range (r, 1, 60), b = g_rand_int_range (r, 1, 9);
    frame_new (&f, fmt, w, h);
    frame_new (&ref, fmt, w, h);
    for (gint y = 0; y < h; y++)
      for (gint x = 0; x < w; x++)
        f.s.data[0][y * f.s.stride[0] + x] = ref.s.data[0][y * ref.s.stride[0] + x] = g_rand_int (r) & 0xff;
    ova_paint_init (&p, &f.s, &c);
    ova_draw_rect (&f.s, bx, by, bw, bh, b, &p);
    /* reference */
    {
      gint x0 = bx, y0 = by, x1 = bx + bw, y1 = by + bh;
      gboolean solid = 2 * b >= bw || 2 * b >= bh;
#define INSIDE(X, Y) ((X) >= 0 && (X) < w && (Y) >= 0 && (Y) < h && (X) >= x0 && (X) < x1 && (Y) >= y0 && (Y) < y1 && \
    (solid || (X) < x0 + b || (X) >= x1 - b || (Y) < y0 + b || (Y) >= y1 - b))
      for (gint y = 0; y < h; y++)
        for (gint x = 0; x < w; x++)
          if (INSIDE (x, y)) {
            guint8 *d = &ref.s.data[0][y * ref.s.stride[0] + x];
            *d = p.alpha == 255 ? p.c[0] : ref_blend (*d, p.c[0], p.alpha);
          }
      for (gint cy = 0; cy < (h + 1) / 2; cy++)
        for (gint cx = 0; cx < (w + 1) / 2; cx++) {
          guint cov = INSIDE (2 * cx, 2 * cy) + INSIDE (2 * cx + 1, 2 * cy) + INSIDE (2 * cx, 2 * cy + 1) + INSIDE (2 * cx + 1, 2 * cy + 1);
          guint a = cov == 4 ? p.alpha : (p.alpha * cov + 2) / 4;
          if (!cov)
            continue;
          guint8 *u = fmt == OVA_PIXEL_NV12 ? &ref.s.data[1][cy * ref.s.stride[1] + 2 * cx] : &ref.s.data[1][cy * ref.s.stride[1] + cx];
          guint8 *v = fmt == OVA_PIXEL_NV12 ? u + 1 : &ref.s.data[2][cy * ref.s.stride[2] + cx];
          *u = a == 255 ? p.c[1] : ref_blend (*u, p.c[1], a);
          *v = a == 255 ? p.c[2] : ref_blend (*v, p.c[2], a);
        }
#undef INSIDE
    }
    for (gint y = 0; y < h; y++)
      for (gint x = 0; x < w; x++)
        if (Y (&f, x, y) != Y (&ref, x, y))
          g_error ("round %d %dx%d box (%d,%d %dx%d b%d): luma (%d,%d) %u != %u", round, w, h, bx, by, bw, bh, b, x, y,
              Y (&f, x, y), Y (&ref, x, y));
    for (gint cy = 0; cy < (h + 1) / 2; cy++)
      for (gint cx = 0; cx < (w + 1) / 2; cx++)
        if (U (&f, cx, cy) != U (&ref, cx, cy) || V (&f, cx, cy) != V (&ref, cx, cy))
          g_error ("round %d %dx%d box (%d,%d %dx%d b%d) alpha %u: chroma (%d,%d) %u,%u != %u,%u", round, w, h, bx, by,
              bw, bh, b, p.alpha, cx, cy, U (&f, cx, cy), V (&f, cx, cy), U (&ref, cx, cy), V (&ref, cx, cy));
    g_free (f.buf);
    g_free (ref.buf);
  }
  g_rand_free (r);
}

/* The SSE2 label path must give the bytes of the scalar reference. */
static void
test_text_simd_matches_scalar (void)
{
  GRand *r = g_rand_new_with_seed (99);
  const gchar *texts[] = { "person 12 0.87", "car", "Wq|gy 0123456789", "a", "bicycle 123456 0.05 ÄÖÜ" };
  guint checked = 0;
  for (gint round = 0; round < 60; round++) {
    OvaPixelFormat fmt = round & 1 ? OVA_PIXEL_I420 : OVA_PIXEL_NV12;
    gint w = g_rand_int_range (r, 40, 400), h = g_rand_int_range (r, 30, 200);
    Frame a, b;
    OvaFont *font = ova_font_get (g_rand_int_range (r, 8, 40), NULL);
    frame_new (&a, fmt, w, h);
    frame_new (&b, fmt, w, h);
    g_assert_nonnull (font);
    for (gsize i = 0; i < (gsize) a.s.stride[0] * h; i++)
      a.buf[i] = b.buf[i] = g_rand_int (r) & 0xff;
    for (gint k = 0; k < 6; k++) {
      OvaColor fc = { g_rand_double (r), g_rand_double (r), g_rand_double (r), 1 };
      OvaColor bc = { g_rand_double (r), g_rand_double (r), g_rand_double (r), 1 };
      OvaPaint fg, bg;
      gint x = g_rand_int_range (r, -60, w), y = g_rand_int_range (r, -30, h), pad = g_rand_int_range (r, 0, 5);
      const gchar *t = texts[g_rand_int_range (r, 0, G_N_ELEMENTS (texts))];
      ova_paint_init (&fg, &a.s, &fc);
      ova_paint_init (&bg, &a.s, &bc);
      ova_draw_force_scalar (TRUE);
      ova_draw_text (&a.s, font, x, y, t, &fg, &bg, pad);
      ova_draw_force_scalar (FALSE);
      ova_draw_text (&b.s, font, x, y, t, &fg, &bg, pad);
      checked++;
    }
    {
      gsize total = (gsize) a.s.stride[0] * h + (gsize) a.s.stride[1] * ((h + 1) / 2) +
          (fmt == OVA_PIXEL_I420 ? (gsize) a.s.stride[2] * ((h + 1) / 2) : 0);
      g_assert_cmpmem (a.buf, total, b.buf, total);
    }
    ova_font_unref (font);
    g_free (a.buf);
    g_free (b.buf);
  }
  g_test_message ("%u labels compared", checked);
  g_rand_free (r);
  ova_font_cache_clear ();
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/draw/paint", test_paint);
  g_test_add_func ("/draw/box-nv12", test_box_nv12);
  g_test_add_func ("/draw/box-i420", test_box_i420);
  g_test_add_func ("/draw/box-odd-chroma", test_box_odd_chroma);
  g_test_add_func ("/draw/box-rgb", test_box_rgb);
  g_test_add_func ("/draw/box-reference", test_box_reference);
  g_test_add_func ("/draw/fill-alpha", test_fill_alpha);
  g_test_add_func ("/draw/clipping", test_clipping);
  g_test_add_func ("/draw/line", test_line);
  g_test_add_func ("/draw/circle-arrow", test_circle_arrow);
  g_test_add_func ("/draw/text", test_text);
  g_test_add_func ("/draw/text-simd-matches-scalar", test_text_simd_matches_scalar);
  return g_test_run ();
}
