/* ova — preprocessing: the vectorised path against the scalar reference,
 * plus known values. SPDX-License-Identifier: MIT */
#include <ova/infer.h>
#include <math.h>
#include <string.h>

typedef struct {
  GstVideoFormat fmt;
  gint w, h;
  guint8 *buf;
  OvaImage img;
} TestImage;

/* Random pixels with a padded stride, planes laid out as GstVideoInfo says. */
static void
test_image_init (TestImage *t, GstVideoFormat fmt, gint w, gint h, GRand *r)
{
  GstVideoInfo info;
  gst_video_info_set_format (&info, fmt, w, h);
  /* extra stride padding to catch stride bugs */
  gsize size = info.size + 64 * h + 1024;
  t->buf = g_malloc (size);
  for (gsize i = 0; i < size; i++)
    t->buf[i] = g_rand_int_range (r, 0, 256);
  memset (&t->img, 0, sizeof (t->img));
  t->img.format = fmt;
  t->img.width = w;
  t->img.height = h;
  gsize off = 0;
  for (guint p = 0; p < GST_VIDEO_INFO_N_PLANES (&info); p++) {
    gint stride = GST_VIDEO_INFO_PLANE_STRIDE (&info, p) + 16;
    gint rows = GST_VIDEO_FORMAT_INFO_SCALE_HEIGHT (info.finfo, p, h);
    t->img.data[p] = t->buf + off;
    t->img.stride[p] = stride;
    off += (gsize) stride * rows;
  }
  g_assert_cmpuint (off, <=, size);
}

static gdouble
max_diff (const gfloat *a, const gfloat *b, gsize n, gsize *where)
{
  gdouble m = 0;
  for (gsize i = 0; i < n; i++) {
    gdouble d = fabs ((gdouble) a[i] - b[i]);
    if (d > m) {
      m = d;
      *where = i;
    }
  }
  return m;
}

static void
test_fast_matches_reference (void)
{
  static const GstVideoFormat fmts[] = {
    GST_VIDEO_FORMAT_NV12, GST_VIDEO_FORMAT_I420, GST_VIDEO_FORMAT_RGB, GST_VIDEO_FORMAT_BGR,
    GST_VIDEO_FORMAT_RGBA, GST_VIDEO_FORMAT_BGRx, GST_VIDEO_FORMAT_NV21, GST_VIDEO_FORMAT_YV12,
    GST_VIDEO_FORMAT_xRGB, GST_VIDEO_FORMAT_GRAY8,
  };
  GRand *r = g_rand_new_with_seed (1234);
  guint cases = 0;
  for (guint f = 0; f < G_N_ELEMENTS (fmts); f++) {
    for (int iter = 0; iter < 12; iter++) {
      TestImage t;
      gint w = g_rand_int_range (r, 2, 200), h = g_rand_int_range (r, 2, 160);
      if (iter == 0) {
        w = 768;
        h = 576;
      }
      test_image_init (&t, fmts[f], w, h, r);
      t.img.range = iter % 3 == 1 ? GST_VIDEO_COLOR_RANGE_0_255 : GST_VIDEO_COLOR_RANGE_16_235;
      t.img.matrix = iter % 2 ? GST_VIDEO_COLOR_MATRIX_BT709 : GST_VIDEO_COLOR_MATRIX_BT601;
      OvaPreprocParams p = { 0 };
      p.net_width = iter == 0 ? 416 : g_rand_int_range (r, 1, 300);
      p.net_height = iter == 0 ? 416 : g_rand_int_range (r, 1, 300);
      p.color = iter % 3;
      for (int c = 0; c < 3; c++) {
        p.scale[c] = g_rand_double_range (r, 0.001, 2.0);
        p.offset[c] = g_rand_double_range (r, 0, 130);
      }
      p.maintain_aspect_ratio = iter % 2 == 0;
      p.symmetric_padding = iter % 4 == 2;
      p.pad_value = g_rand_int_range (r, 0, 256);
      OvaRect crop = { g_rand_double_range (r, -5, w * 0.7), g_rand_double_range (r, -5, h * 0.7),
                       g_rand_double_range (r, 1, w), g_rand_double_range (r, 1, h) };
      gboolean whole = iter % 3 == 0;
      gint C = p.color == OVA_COLOR_GRAY ? 1 : 3;
      gsize n = (gsize) C * p.net_width * p.net_height;
      gfloat *a = g_new (gfloat, n), *b = g_new (gfloat, n);
      /* poison so unwritten values are caught */
      for (gsize i = 0; i < n; i++)
        a[i] = b[i] = NAN;
      OvaLetterbox la, lb;
      g_assert_true (ova_preprocess (&t.img, whole ? NULL : &crop, &p, a, &la));
      g_assert_true (ova_preprocess_reference (&t.img, whole ? NULL : &crop, &p, b, &lb));
      g_assert_cmpmem (&la, sizeof (la), &lb, sizeof (lb));
      gsize where = 0;
      for (gsize i = 0; i < n; i++)
        if (isnan (a[i]) || isnan (b[i]))
          g_error ("%s %dx%d -> %dx%d: value %zu not written", gst_video_format_to_string (fmts[f]), w, h,
                   p.net_width, p.net_height, i);
      /* values are scale * 0..255: allow float rounding relative to that */
      gdouble tol = 1e-4 * 255 * MAX (p.scale[0], MAX (p.scale[1], p.scale[2])) + 1e-5;
      gdouble d = max_diff (a, b, n, &where);
      if (d > tol)
        g_error ("%s %dx%d -> %dx%d colour %d crop %s: fast and reference differ by %g at %zu (%g vs %g)",
                 gst_video_format_to_string (fmts[f]), w, h, p.net_width, p.net_height, p.color,
                 whole ? "none" : "yes", d, where, a[where], b[where]);
      cases++;
      g_free (a);
      g_free (b);
      g_free (t.buf);
    }
  }
  g_test_message ("%u cases agree", cases);
  g_rand_free (r);
}

/* YOLOX's letterbox of the sample video: 768x576 -> 416x312 at the top-left,
 * pad 114 below; a uniform colour comes out exactly. */
static void
test_known_values (void)
{
  TestImage t;
  GRand *r = g_rand_new_with_seed (1);
  test_image_init (&t, GST_VIDEO_FORMAT_BGRx, 768, 576, r);
  for (gint y = 0; y < 576; y++)
    for (gint x = 0; x < 768; x++) {
      guint8 *px = (guint8 *) t.img.data[0] + y * t.img.stride[0] + x * 4;
      px[0] = 10;   /* B */
      px[1] = 20;   /* G */
      px[2] = 30;   /* R */
    }
  OvaPreprocParams p = { 416, 416, OVA_COLOR_BGR, { 1, 1, 1 }, { 0, 0, 0 }, TRUE, FALSE, 114 };
  gfloat *out = g_new (gfloat, 3 * 416 * 416);
  OvaLetterbox lb;
  g_assert_true (ova_preprocess (&t.img, NULL, &p, out, &lb));
  g_assert_cmpint (lb.out_w, ==, 416);
  g_assert_cmpint (lb.out_h, ==, 312);
  g_assert_cmpfloat (lb.pad_x, ==, 0);
  g_assert_cmpfloat (lb.pad_y, ==, 0);
  gsize plane = 416 * 416;
  g_assert_cmpfloat_with_epsilon (out[0], 10, 1e-4);            /* B plane first */
  g_assert_cmpfloat_with_epsilon (out[plane + 5], 20, 1e-4);
  g_assert_cmpfloat_with_epsilon (out[2 * plane + 311 * 416 + 415], 30, 1e-4);
  g_assert_cmpfloat (out[312 * 416], ==, 114);                  /* first padded row */
  g_assert_cmpfloat (out[2 * plane + 415 * 416 + 415], ==, 114);

  /* symmetric padding centres; normalisation y = s * (x - o) */
  p.symmetric_padding = TRUE;
  p.color = OVA_COLOR_RGB;
  p.scale[0] = p.scale[1] = p.scale[2] = 0.5f;
  p.offset[0] = 30;
  g_assert_true (ova_preprocess (&t.img, NULL, &p, out, &lb));
  g_assert_cmpfloat (lb.pad_y, ==, 52);
  g_assert_cmpfloat_with_epsilon (out[0], 0.5f * (114 - 30), 1e-5);        /* pad row, R */
  g_assert_cmpfloat_with_epsilon (out[52 * 416], 0.0f, 1e-4);               /* R = 30 -> 0 */
  g_assert_cmpfloat_with_epsilon (out[2 * plane + 100 * 416 + 7], 5.0f, 1e-4); /* B = 10 -> 5 */
  g_free (t.buf);

  /* NV12 mid grey (limited range Y=126, U=V=128) -> R=G=B=(126-16)*255/219 */
  test_image_init (&t, GST_VIDEO_FORMAT_NV12, 64, 48, r);
  for (gint y = 0; y < 48; y++)
    memset ((guint8 *) t.img.data[0] + y * t.img.stride[0], 126, 64);
  for (gint y = 0; y < 24; y++)
    memset ((guint8 *) t.img.data[1] + y * t.img.stride[1], 128, 64);
  OvaPreprocParams q = { 32, 32, OVA_COLOR_RGB, { 1, 1, 1 }, { 0, 0, 0 }, FALSE, FALSE, 0 };
  OvaRect crop = { 8, 8, 16, 16 };
  g_assert_true (ova_preprocess (&t.img, &crop, &q, out, &lb));
  gfloat grey = (126 - 16) * 255.0f / 219.0f;
  for (int i = 0; i < 3 * 32 * 32; i++)
    g_assert_cmpfloat_with_epsilon (out[i], grey, 1e-3);
  g_assert_cmpfloat (lb.scale_x, ==, 2);
  g_assert_cmpfloat (lb.crop_left, ==, 8);
  g_free (t.buf);
  g_free (out);
  g_rand_free (r);
}

/* A gradient scaled 2x down lands on the average of neighbours (half-pixel centres). */
static void
test_bilinear_geometry (void)
{
  TestImage t;
  GRand *r = g_rand_new_with_seed (2);
  test_image_init (&t, GST_VIDEO_FORMAT_GRAY8, 8, 2, r);
  for (gint y = 0; y < 2; y++)
    for (gint x = 0; x < 8; x++)
      ((guint8 *) t.img.data[0])[y * t.img.stride[0] + x] = x * 10;
  OvaPreprocParams p = { 4, 1, OVA_COLOR_GRAY, { 1, 1, 1 }, { 0, 0, 0 }, FALSE, FALSE, 0 };
  gfloat out[4];
  g_assert_true (ova_preprocess (&t.img, NULL, &p, out, NULL));
  for (int i = 0; i < 4; i++)
    g_assert_cmpfloat_with_epsilon (out[i], (2 * i) * 10 + 5, 1e-4);
  g_free (t.buf);
  g_rand_free (r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/infer/preprocess/fast-vs-reference", test_fast_matches_reference);
  g_test_add_func ("/infer/preprocess/known-values", test_known_values);
  g_test_add_func ("/infer/preprocess/bilinear", test_bilinear_geometry);
  return g_test_run ();
}
