/* ova — random drawing scenes for the recorded-drawing tests (CPU replay and
 * CUDA kernel against the CPU primitives). SPDX-License-Identifier: MIT */
#ifndef OVA_TEST_DRAW_SCENE_H
#define OVA_TEST_DRAW_SCENE_H

#include <ova/draw.h>
#include <string.h>

/* An NV12 frame in host memory with padded strides, filled with a pattern
 * that makes every blend visible. */
typedef struct {
  OvaSurface s;
  guint8 *buf;
  gsize size;
} SceneFrame;

static inline void
scene_frame_new (SceneFrame *f, gint w, gint h, guint32 seed)
{
  GRand *r = g_rand_new_with_seed (seed);
  gint ch = (h + 1) / 2;
  memset (f, 0, sizeof (*f));
  f->s.format = OVA_PIXEL_NV12;
  f->s.width = w;
  f->s.height = h;
  f->s.stride[0] = w + 32 + (gint) g_rand_int_range (r, 0, 3) * 2;
  f->s.stride[1] = 2 * ((w + 1) / 2) + 32;
  f->size = (gsize) f->s.stride[0] * h + (gsize) f->s.stride[1] * ch;
  f->buf = g_malloc (f->size);
  for (gsize i = 0; i < f->size; i++)
    f->buf[i] = (guint8) g_rand_int (r);
  f->s.data[0] = f->buf;
  f->s.data[1] = f->buf + (gsize) f->s.stride[0] * h;
  f->s.bt709 = g_rand_boolean (r);
  f->s.full_range = g_rand_boolean (r);
  g_rand_free (r);
}

static inline void
scene_frame_free (SceneFrame *f)
{
  g_free (f->buf);
}

static inline gfloat
scene_coord (GRand *r, gint extent)
{
  /* mostly inside, some across or beyond the edges, odd and fractional */
  switch (g_rand_int_range (r, 0, 6)) {
    case 0: return (gfloat) g_rand_int_range (r, -40, 0);
    case 1: return (gfloat) g_rand_int_range (r, extent - 20, extent + 30);
    case 2: return (gfloat) g_rand_double_range (r, -10, extent + 10);
    default: return (gfloat) g_rand_int_range (r, 0, extent);
  }
}

static inline void
scene_color (GRand *r, OvaColor *c, gboolean opaque)
{
  c->r = (gfloat) g_rand_double (r);
  c->g = (gfloat) g_rand_double (r);
  c->b = (gfloat) g_rand_double (r);
  c->a = opaque || g_rand_boolean (r) ? 1.f : (gfloat) g_rand_double (r);
}

/* Draws @n random primitives on @s (a pixel or a recording surface) from
 * @seed: boxes of random border widths, fills, labels on opaque and
 * translucent backgrounds, text, lines, arrows, circles, masks. The same seed
 * on the same size and colorimetry draws the same scene. */
static inline void
scene_draw (OvaSurface *s, guint32 seed, guint n, OvaFont *const *fonts, guint n_fonts)
{
  static const gchar *texts[] = { "person 12 0.87", "car", "bus 3 0.51", "Tj|gy", "αβγ Ωμ", "中文 ok", "  ",
      "WWWWWWWWWWWW", "x", "ÄÖÜ ß é", "truck 123456 1.00" };
  GRand *r = g_rand_new_with_seed (seed);
  for (guint i = 0; i < n; i++) {
    OvaColor c, c2;
    OvaPaint p, q;
    gfloat x = scene_coord (r, s->width), y = scene_coord (r, s->height);
    gfloat w = (gfloat) g_rand_double_range (r, -2, s->width / 2.0), h = (gfloat) g_rand_double_range (r, -2, s->height / 2.0);
    gint kind = g_rand_int_range (r, 0, 10);
    scene_color (r, &c, FALSE);
    ova_paint_init (&p, s, &c);
    switch (kind) {
      case 0: case 1: case 2:
        ova_draw_rect (s, x, y, w, h, (gfloat) g_rand_int_range (r, 1, 12), &p);
        break;
      case 3:
        ova_draw_fill_rect (s, x, y, w, h, &p);
        break;
      case 4: case 5: case 6: {
        OvaFont *f = fonts[g_rand_int_range (r, 0, (gint) n_fonts)];
        const gchar *t = texts[g_rand_int_range (r, 0, G_N_ELEMENTS (texts))];
        gint mode = g_rand_int_range (r, 0, 3), pad = g_rand_int_range (r, 0, 5);
        scene_color (r, &c2, mode == 0);
        ova_paint_init (&q, s, &c2);
        if (mode == 0) { /* a label: opaque text on an opaque background */
          scene_color (r, &c, TRUE);
          ova_paint_init (&p, s, &c);
        }
        ova_draw_text (s, f, (gint) x, (gint) y, t, mode == 0 ? &q : &p, mode == 2 ? NULL : (mode == 0 ? &p : &q), pad);
        break;
      }
      case 7:
        ova_draw_line (s, x, y, x + w, y + h, (gfloat) g_rand_double_range (r, 0.5, 8), &p);
        break;
      case 8:
        ova_draw_arrow (s, x, y, x + w, y - h, (gfloat) g_rand_double_range (r, 0.5, 6), &p);
        break;
      default: {
        scene_color (r, &c2, FALSE);
        ova_paint_init (&q, s, &c2);
        ova_draw_circle (s, x, y, (gfloat) g_rand_double_range (r, 0.5, 80), (gfloat) g_rand_double_range (r, 0, 6),
            &p, g_rand_boolean (r) ? &q : NULL);
        break;
      }
    }
  }
  g_rand_free (r);
}

/* Index of the first byte where @a and @b differ over the frame's samples, -1 if none. */
static inline gssize
scene_compare (const SceneFrame *a, const SceneFrame *b, gint *plane, gint *px, gint *py)
{
  for (gint y = 0; y < a->s.height; y++)
    for (gint x = 0; x < a->s.width; x++)
      if (a->s.data[0][(gsize) y * a->s.stride[0] + x] != b->s.data[0][(gsize) y * b->s.stride[0] + x]) {
        *plane = 0; *px = x; *py = y;
        return (gssize) y * a->s.stride[0] + x;
      }
  for (gint y = 0; y < (a->s.height + 1) / 2; y++)
    for (gint x = 0; x < 2 * ((a->s.width + 1) / 2); x++)
      if (a->s.data[1][(gsize) y * a->s.stride[1] + x] != b->s.data[1][(gsize) y * b->s.stride[1] + x]) {
        *plane = 1; *px = x; *py = y;
        return (gssize) y * a->s.stride[1] + x;
      }
  return -1;
}

#endif
