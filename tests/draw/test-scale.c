/* ova — the scaler: SIMD path against the scalar reference (byte-exact), and quality. SPDX-License-Identifier: MIT */
#include <ova/draw.h>
#include <string.h>
#include "draw/draw-private.h"
#include "draw-scene.h"

typedef struct {
  OvaSurface s;
  guint8 *buf;
  gsize size;
} Img;

static void
img_new (Img *im, OvaPixelFormat fmt, gint w, gint h, gint pad)
{
  gint cw = (w + 1) / 2, ch = (h + 1) / 2;
  gsize n0, n1 = 0, n2 = 0;
  memset (im, 0, sizeof (*im));
  im->s.format = fmt; im->s.width = w; im->s.height = h;
  if (fmt == OVA_PIXEL_NV12 || fmt == OVA_PIXEL_I420) {
    im->s.stride[0] = w + pad;
    im->s.stride[1] = (fmt == OVA_PIXEL_NV12 ? 2 * cw : cw) + pad;
    im->s.stride[2] = cw + pad;
    n0 = (gsize) im->s.stride[0] * h;
    n1 = (gsize) im->s.stride[1] * ch;
    n2 = fmt == OVA_PIXEL_I420 ? (gsize) im->s.stride[2] * ch : 0;
  } else {
    im->s.stride[0] = 4 * w + pad;
    n0 = (gsize) im->s.stride[0] * h;
  }
  im->size = n0 + n1 + n2;
  im->buf = g_malloc0 (im->size);
  im->s.data[0] = im->buf;
  im->s.data[1] = n1 ? im->buf + n0 : NULL;
  im->s.data[2] = n2 ? im->buf + n0 + n1 : NULL;
}

static void
img_random (Img *im, GRand *r)
{
  for (gsize i = 0; i < im->size; i++)
    im->buf[i] = g_rand_int (r) & 0xff;
}

static const OvaPixelFormat formats[] = { OVA_PIXEL_NV12, OVA_PIXEL_I420, OVA_PIXEL_RGBA, OVA_PIXEL_BGRX };

/* checkasm-style: random sizes (odd ones, up and down, extreme ratios) and
 * random pixels; the SIMD output must equal the scalar output byte for byte. */
static void
test_simd_matches_scalar (void)
{
  GRand *r = g_rand_new_with_seed (1234);
  static const gint sizes[][4] = {
    { 1920, 1080, 480, 270 }, { 768, 576, 1920, 1080 }, { 33, 17, 7, 5 }, { 7, 5, 33, 17 },
    { 640, 480, 640, 480 }, { 1, 1, 9, 9 }, { 9, 9, 1, 1 }, { 100, 3, 2, 200 }, { 2, 2, 2, 2 },
  };
  guint checked = 0;
  for (guint fi = 0; fi < G_N_ELEMENTS (formats); fi++) {
    for (guint k = 0; k < G_N_ELEMENTS (sizes) + 12; k++) {
      gint sw, sh, dw, dh;
      Img src, a, b;
      if (k < G_N_ELEMENTS (sizes)) {
        sw = sizes[k][0]; sh = sizes[k][1]; dw = sizes[k][2]; dh = sizes[k][3];
      } else {
        sw = g_rand_int_range (r, 1, 300); sh = g_rand_int_range (r, 1, 200);
        dw = g_rand_int_range (r, 1, 300); dh = g_rand_int_range (r, 1, 200);
      }
      img_new (&src, formats[fi], sw, sh, g_rand_int_range (r, 0, 40));
      img_new (&a, formats[fi], dw, dh, 8);
      img_new (&b, formats[fi], dw, dh, 8);
      img_random (&src, r);
      OvaScaler *ss = ova_scaler_new (formats[fi], formats[fi], sw, sh, dw, dh, OVA_SCALER_SCALAR);
      /* alternate between the SSE2 path and the best one (AVX2 where the CPU has it) */
      OvaScaler *sv = ova_scaler_new (formats[fi], formats[fi], sw, sh, dw, dh, k & 1 ? OVA_SCALER_SIMD : OVA_SCALER_AUTO);
      g_assert_cmpstr (ova_scaler_impl_name (ss), ==, "scalar");
      g_assert_true (ova_scaler_matches (sv, formats[fi], formats[fi], sw, sh, dw, dh));
      ova_scaler_run (ss, &src.s, &a.s);
      ova_scaler_run (sv, &src.s, &b.s);
      if (memcmp (a.buf, b.buf, a.size) != 0) {
        for (gsize i = 0; i < a.size; i++)
          if (a.buf[i] != b.buf[i])
            g_error ("format %d %dx%d -> %dx%d (%s): byte %" G_GSIZE_FORMAT " scalar %u simd %u",
                formats[fi], sw, sh, dw, dh, ova_scaler_impl_name (sv), i, a.buf[i], b.buf[i]);
      }
      checked++;
      ova_scaler_free (ss); ova_scaler_free (sv);
      g_free (src.buf); g_free (a.buf); g_free (b.buf);
    }
  }
  g_test_message ("%u scalings compared with the scalar reference", checked);
  g_rand_free (r);
}

static void
test_quality (void)
{
  for (guint fi = 0; fi < G_N_ELEMENTS (formats); fi++) {
    Img src, dst;
    OvaScaler *sc;
    OvaPixelFormat f = formats[fi];
    gboolean yuv = f == OVA_PIXEL_NV12 || f == OVA_PIXEL_I420;
    /* identity is exact */
    img_new (&src, f, 64, 48, 0);
    img_new (&dst, f, 64, 48, 0);
    for (gsize i = 0; i < src.size; i++)
      src.buf[i] = (i * 7) & 0xff;
    sc = ova_scaler_new (f, f, 64, 48, 64, 48, OVA_SCALER_AUTO);
    ova_scaler_run (sc, &src.s, &dst.s);
    g_assert_cmpmem (src.buf, src.size, dst.buf, dst.size);
    ova_scaler_free (sc);
    g_free (dst.buf);
    /* a constant image stays constant at any scale */
    memset (src.buf, 77, src.size);
    img_new (&dst, f, 23, 101, 0);
    sc = ova_scaler_new (f, f, 64, 48, 23, 101, OVA_SCALER_AUTO);
    ova_scaler_run (sc, &src.s, &dst.s);
    for (gsize i = 0; i < dst.size; i++)
      g_assert_cmpuint (dst.buf[i], ==, 77);
    ova_scaler_free (sc);
    g_free (dst.buf);
    g_free (src.buf);
    /* downscaling a 1-pixel checkerboard by 4 averages it (no aliasing): ~127 everywhere */
    if (yuv) {
      img_new (&src, f, 256, 256, 0);
      img_new (&dst, f, 64, 64, 0);
      for (gint y = 0; y < 256; y++)
        for (gint x = 0; x < 256; x++)
          src.s.data[0][y * src.s.stride[0] + x] = ((x + y) & 1) ? 255 : 0;
      sc = ova_scaler_new (f, f, 256, 256, 64, 64, OVA_SCALER_AUTO);
      ova_scaler_run (sc, &src.s, &dst.s);
      for (gint y = 1; y < 63; y++) /* the edges fold the kernel: checked for range only */
        for (gint x = 1; x < 63; x++) {
          guint8 v = dst.s.data[0][y * dst.s.stride[0] + x];
          g_assert_cmpint (ABS ((gint) v - 127), <=, 2);
        }
      ova_scaler_free (sc);
      g_free (src.buf); g_free (dst.buf);
    }
  }
  /* upscaling a ramp by 2 interpolates between neighbours */
  {
    Img src, dst;
    img_new (&src, OVA_PIXEL_I420, 8, 2, 0);
    img_new (&dst, OVA_PIXEL_I420, 16, 4, 0);
    for (gint x = 0; x < 8; x++)
      src.s.data[0][x] = src.s.data[0][src.s.stride[0] + x] = x * 32;
    OvaScaler *sc = ova_scaler_new (OVA_PIXEL_I420, OVA_PIXEL_I420, 8, 2, 16, 4, OVA_SCALER_AUTO);
    ova_scaler_run (sc, &src.s, &dst.s);
    for (gint x = 1; x < 15; x++) {
      gint v = dst.s.data[0][x], expect = (gint) (((x + 0.5) / 2.0 - 0.5) * 32 + 0.5);
      g_assert_cmpint (ABS (v - expect), <=, 1);
    }
    ova_scaler_free (sc);
    g_free (src.buf); g_free (dst.buf);
  }
}

/* Converting scalers give the bytes of the plain scaler, in the other layout. */
static void
test_convert (void)
{
  GRand *r = g_rand_new_with_seed (5);
  const gint sw = 77, sh = 41, dw = 50, dh = 90;
  Img nv12, i420, a, b;
  OvaScaler *sc;
  img_new (&nv12, OVA_PIXEL_NV12, sw, sh, 3);
  img_new (&i420, OVA_PIXEL_I420, sw, sh, 5);
  img_random (&nv12, r);
  /* the same picture as I420 */
  for (gint y = 0; y < sh; y++)
    memcpy (i420.s.data[0] + y * i420.s.stride[0], nv12.s.data[0] + y * nv12.s.stride[0], sw);
  for (gint y = 0; y < (sh + 1) / 2; y++)
    for (gint x = 0; x < (sw + 1) / 2; x++) {
      i420.s.data[1][y * i420.s.stride[1] + x] = nv12.s.data[1][y * nv12.s.stride[1] + 2 * x];
      i420.s.data[2][y * i420.s.stride[2] + x] = nv12.s.data[1][y * nv12.s.stride[1] + 2 * x + 1];
    }
  for (gint dir = 0; dir < 2; dir++) {
    OvaPixelFormat df = dir ? OVA_PIXEL_NV12 : OVA_PIXEL_I420;
    img_new (&a, df, dw, dh, 0);
    img_new (&b, df, dw, dh, 0);
    g_assert_true (ova_scaler_can_convert (dir ? OVA_PIXEL_I420 : OVA_PIXEL_NV12, df));
    sc = ova_scaler_new (dir ? OVA_PIXEL_I420 : OVA_PIXEL_NV12, df, sw, sh, dw, dh, OVA_SCALER_AUTO);
    ova_scaler_run (sc, dir ? &i420.s : &nv12.s, &a.s); /* converting */
    ova_scaler_free (sc);
    sc = ova_scaler_new (df, df, sw, sh, dw, dh, OVA_SCALER_SCALAR);
    ova_scaler_run (sc, dir ? &nv12.s : &i420.s, &b.s); /* same format */
    ova_scaler_free (sc);
    g_assert_cmpmem (a.buf, a.size, b.buf, b.size);
    g_free (a.buf); g_free (b.buf);
  }
  /* RGBA -> BGRx: channels reordered */
  {
    Img rgba, o1, o2;
    img_new (&rgba, OVA_PIXEL_RGBA, sw, sh, 0);
    img_random (&rgba, r);
    img_new (&o1, OVA_PIXEL_RGBA, dw, dh, 0);
    img_new (&o2, OVA_PIXEL_BGRX, dw, dh, 0);
    sc = ova_scaler_new (OVA_PIXEL_RGBA, OVA_PIXEL_RGBA, sw, sh, dw, dh, OVA_SCALER_AUTO);
    ova_scaler_run (sc, &rgba.s, &o1.s);
    ova_scaler_free (sc);
    sc = ova_scaler_new (OVA_PIXEL_RGBA, OVA_PIXEL_BGRX, sw, sh, dw, dh, OVA_SCALER_AUTO);
    ova_scaler_run (sc, &rgba.s, &o2.s);
    ova_scaler_free (sc);
    for (gsize i = 0; i < o1.size; i += 4) {
      g_assert_cmpuint (o2.buf[i], ==, o1.buf[i + 2]);
      g_assert_cmpuint (o2.buf[i + 1], ==, o1.buf[i + 1]);
      g_assert_cmpuint (o2.buf[i + 2], ==, o1.buf[i]);
    }
    g_free (rgba.buf); g_free (o1.buf); g_free (o2.buf);
  }
  g_assert_false (ova_scaler_can_convert (OVA_PIXEL_NV12, OVA_PIXEL_RGBA));
  g_assert_null (ova_scaler_new (OVA_PIXEL_NV12, OVA_PIXEL_RGBA, 4, 4, 2, 2, OVA_SCALER_AUTO));
  g_free (nv12.buf); g_free (i420.buf);
  g_rand_free (r);
}

/* Informational: how much faster the SIMD path is on the tiler's work. */
static void
test_speed (void)
{
#if defined(__SANITIZE_ADDRESS__)
  g_test_skip ("timings mean nothing under sanitizers");
  return;
#endif
  Img src, dst;
  GRand *r = g_rand_new_with_seed (7);
  gint64 t0, t1, t2;
  img_new (&src, OVA_PIXEL_NV12, 1920, 1080, 0);
  img_new (&dst, OVA_PIXEL_NV12, 480, 270, 0);
  img_random (&src, r);
  OvaScaler *ss = ova_scaler_new (OVA_PIXEL_NV12, OVA_PIXEL_NV12, 1920, 1080, 480, 270, OVA_SCALER_SCALAR);
  OvaScaler *sv = ova_scaler_new (OVA_PIXEL_NV12, OVA_PIXEL_NV12, 1920, 1080, 480, 270, OVA_SCALER_AUTO);
  t0 = g_get_monotonic_time ();
  for (gint i = 0; i < 5; i++)
    ova_scaler_run (ss, &src.s, &dst.s);
  t1 = g_get_monotonic_time ();
  for (gint i = 0; i < 5; i++)
    ova_scaler_run (sv, &src.s, &dst.s);
  t2 = g_get_monotonic_time ();
  g_test_message ("1080p -> 480x270 NV12: scalar %.2f ms, %s %.2f ms",
      (t1 - t0) / 5000.0, ova_scaler_impl_name (sv), (t2 - t1) / 5000.0);
  ova_scaler_free (ss); ova_scaler_free (sv);
  g_free (src.buf); g_free (dst.buf);
  g_rand_free (r);
}

/* The CUDA scale kernel's per-sample formula (lib/draw/cuda/draw.cu,
 * k_scale_plane: the vertical pass recomputed per horizontal tap, zero taps
 * skipped) on the host, against the scalar scaler, NV12, random sizes. */
static void
test_gpu_formula_matches_scalar (void)
{
  GRand *r = g_rand_new_with_seed (4242);
  for (gint round = 0; round < 60; round++) {
    gint sw = g_rand_int_range (r, 1, 900), sh = g_rand_int_range (r, 1, 600);
    gint dw = g_rand_int_range (r, 1, 700), dh = g_rand_int_range (r, 1, 500);
    SceneFrame src, ref, out;
    OvaScaler *sc = ova_scaler_new (OVA_PIXEL_NV12, OVA_PIXEL_NV12, sw, sh, dw, dh, OVA_SCALER_SCALAR);
    gint plane, x, y;
    scene_frame_new (&src, sw, sh, g_rand_int (r));
    scene_frame_new (&ref, dw, dh, 1);
    scene_frame_new (&out, dw, dh, 1);
    ova_scaler_run (sc, &src.s, &ref.s);
    for (gint p = 0; p < 2; p++) {
      OvaScalerPlaneFilters f;
      g_assert_true (ova_scaler_get_plane_filters (sc, p, &f));
      for (gint oy = 0; oy < f.out_h; oy++)
        for (gint ox = 0; ox < f.out_w; ox++) {
          const gint16 *wv = f.v_w + (gsize) oy * f.v_ntaps, *wh = f.h_w + (gsize) ox * f.h_ntaps;
          const guint8 *row0 = src.s.data[p] + (gsize) f.v_start[oy] * src.s.stride[p];
          gint x0 = f.h_start[ox];
          for (gint c = 0; c < f.nc; c++) {
            gint32 sum = 0;
            for (gint t = 0; t < f.h_ntaps; t++) {
              gint w = wh[t];
              if (w == 0 || x0 + t >= f.in_w)
                continue;
              const guint8 *col = row0 + (gsize) (x0 + t) * f.nc + c;
              gint32 vs = 0;
              for (gint i = 0; i < f.v_ntaps; i++)
                vs += wv[i] * col[(gsize) i * src.s.stride[p]];
              sum += w * (gint32) (gint16) ((vs + 128) >> 8);
            }
            sum = (sum + (1 << 19)) >> 20;
            out.s.data[p][(gsize) oy * out.s.stride[p] + (gsize) ox * f.nc + c] = (guint8) CLAMP (sum, 0, 255);
          }
        }
    }
    if (scene_compare (&ref, &out, &plane, &x, &y) >= 0)
      g_error ("%dx%d -> %dx%d: the GPU formula differs at plane %d (%d, %d)", sw, sh, dw, dh, plane, x, y);
    ova_scaler_free (sc);
    scene_frame_free (&src);
    scene_frame_free (&ref);
    scene_frame_free (&out);
  }
  g_rand_free (r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/scale/simd-matches-scalar", test_simd_matches_scalar);
  g_test_add_func ("/scale/quality", test_quality);
  g_test_add_func ("/scale/convert", test_convert);
  g_test_add_func ("/scale/gpu-formula-matches-scalar", test_gpu_formula_matches_scalar);
  g_test_add_func ("/scale/speed", test_speed);
  return g_test_run ();
}
