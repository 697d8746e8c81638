/* ova — recorded drawing (OvaDrawList) replayed on the CPU against the
 * primitives drawn directly: the per-sample code the CUDA kernel runs must
 * give the CPU drawer's bytes. SPDX-License-Identifier: MIT */
#include <ova/draw.h>
#include "draw-scene.h"
#include "draw/draw-list.h"
#include "draw/draw-private.h"
#include "draw/cuda/draw-kernel.h"

static OvaFont *fonts[3];

static void
check_scene (gint w, gint h, guint32 seed, guint n)
{
  SceneFrame direct, replayed;
  OvaSurface rec;
  OvaDrawList *list = ova_draw_list_new ();
  gint plane, x, y;
  scene_frame_new (&direct, w, h, seed);
  scene_frame_new (&replayed, w, h, seed);
  g_assert_cmpmem (direct.buf, direct.size, replayed.buf, replayed.size);
  scene_draw (&direct.s, seed, n, fonts, G_N_ELEMENTS (fonts));
  if (w >= 400 && scene_compare (&direct, &replayed, &plane, &x, &y) < 0)
    g_error ("%dx%d seed %u: the scene drew nothing", w, h, seed);
  ova_draw_list_begin (list, 2);
  /* frame 1 of 2: the index must not matter */
  ova_draw_list_surface (list, 1, w, h, replayed.s.bt709, replayed.s.full_range, (gpointer) 0x1000, w, (gpointer) 0x2000,
      w, &rec);
  scene_draw (&rec, seed, n, fonts, G_N_ELEMENTS (fonts));
  g_assert_cmpuint (ova_draw_list_n_commands (list, 0), ==, 0);
  ova_draw_list_replay (list, 1, &replayed.s);
  if (scene_compare (&direct, &replayed, &plane, &x, &y) >= 0)
    g_error ("%dx%d seed %u: replay differs from direct drawing at plane %d (%d, %d)", w, h, seed, plane, x, y);
  ova_draw_list_free (list);
  scene_frame_free (&direct);
  scene_frame_free (&replayed);
}

static void
test_random_scenes (void)
{
  GRand *r = g_rand_new_with_seed (20261205);
  for (guint i = 0; i < 60; i++) {
    gint w = g_rand_int_range (r, 1, 400), h = g_rand_int_range (r, 1, 300);
    check_scene (w, h, g_rand_int (r), g_rand_int_range (r, 1, 60));
  }
  check_scene (1920, 1080, 7, 300);
  check_scene (1, 1, 8, 20);
  check_scene (3, 5, 9, 40);
  g_rand_free (r);
}

/* The CUDA kernel's walk over a packed batch (lib/draw/cuda/draw.cu), on the
 * host: bands of 16 rows per frame, the frame's commands in order, each
 * command's luma and chroma samples inside the band. */
static void
run_packed (const guint8 *buf, const OvaDrawPackLayout *lay, guint n_frames, gint max_height)
{
  const OvaDrawCudaFrame *frames = (const OvaDrawCudaFrame *) (gconstpointer) (buf + lay->o_frames);
  const OvaDrawCmd *cmds = (const OvaDrawCmd *) (gconstpointer) (buf + lay->o_cmds);
  OvaDrawSource src = { (const uint8_t *const *) (gconstpointer) (buf + lay->o_pools),
    (const OvaDrawGlyph *) (gconstpointer) (buf + lay->o_glyphs) };
  for (guint fi = 0; fi < n_frames; fi++) {
    const OvaDrawCudaFrame f = frames[fi];
    for (gint r0 = 0; r0 < max_height; r0 += 16) {
      if (r0 >= f.height)
        break;
      gint r1 = MIN (r0 + 16, f.height), c0 = r0 >> 1, c1 = (r1 + 1) >> 1;
      for (guint i = 0; i < f.n_cmds; i++) {
        const OvaDrawCmd c = cmds[f.first_cmd + i];
        gint ly0 = MAX (c.y0, r0), ly1 = MIN (c.y1, r1);
        gint cy0 = MAX (c.y0 >> 1, c0), cy1 = MIN ((c.y1 + 1) >> 1, c1);
        gint w = c.x1 - c.x0, cx0 = c.x0 >> 1, cw = ((c.x1 + 1) >> 1) - cx0;
        gint nl = ly1 > ly0 ? (ly1 - ly0) * w : 0, nc = cy1 > cy0 ? (cy1 - cy0) * cw : 0;
        for (gint k = 0; k < nl + nc; k++) {
          if (k < nl) {
            gint y = ly0 + k / w, x = c.x0 + k % w;
            uint8_t *p = f.y + (gsize) y * f.y_pitch + x;
            *p = ova_draw_cmd_luma (&c, &src, x, y, *p);
          } else {
            gint kc = k - nl, cy = cy0 + kc / cw, cx = cx0 + kc % cw;
            uint8_t *q = f.uv + (gsize) cy * f.uv_pitch + 2 * cx;
            ova_draw_cmd_chroma (&c, &src, cx, cy, q, q + 1);
          }
        }
      }
    }
  }
}

/* Batches of frames of random sizes, sometimes two recorded on one memory,
 * packed as for the upload and walked as the kernel walks them. */
static void
test_packed_batches (void)
{
  GRand *r = g_rand_new_with_seed (77);
  for (guint round = 0; round < 12; round++) {
    guint n = (guint) g_rand_int_range (r, 1, 6), n_mem;
    gboolean shared = n >= 2 && g_rand_boolean (r);
    SceneFrame direct[6], packed[6];
    guint32 seeds[6];
    OvaDrawList *list = ova_draw_list_new ();
    OvaDrawPackLayout lay;
    OvaSurface rec;
    guint8 **atlases, *buf;
    gint max_height, plane, x, y;
    guint n_frames;
    n_mem = shared ? n - 1 : n;
    ova_draw_list_begin (list, n);
    for (guint i = 0; i < n_mem; i++) {
      gint w = g_rand_int_range (r, 1, 500), h = g_rand_int_range (r, 1, 400);
      seeds[i] = g_rand_int (r);
      scene_frame_new (&direct[i], w, h, seeds[i]);
      scene_frame_new (&packed[i], w, h, seeds[i]);
    }
    for (guint i = 0; i < n; i++) {
      guint m = i < n_mem ? i : 0;
      guint32 seed = i < n_mem ? seeds[i] : seeds[0] + 1;
      guint np = g_rand_int_range (r, 1, 80);
      scene_draw (&direct[m].s, seed, np, fonts, G_N_ELEMENTS (fonts));
      ova_draw_list_surface (list, i, packed[m].s.width, packed[m].s.height, packed[m].s.bt709, packed[m].s.full_range,
          packed[m].s.data[0], packed[m].s.stride[0], packed[m].s.data[1], packed[m].s.stride[1], &rec);
      scene_draw (&rec, seed, np, fonts, G_N_ELEMENTS (fonts));
    }
    atlases = g_new0 (guint8 *, list->fonts->len + 1);
    for (guint k = 0; k < list->fonts->len; k++) {
      gsize size;
      atlases[k] = (guint8 *) ova_font_get_atlas (g_ptr_array_index (list->fonts, k), &size);
    }
    if (ova_draw_list_pack_layout (list, list->fonts->len, &lay)) {
      buf = g_malloc0 (lay.total);
      /* the "device" is this host buffer: pointers into it are used in place */
      n_frames = ova_draw_list_pack (list, &lay, buf, buf, atlases, list->fonts->len, &max_height);
      g_assert_cmpuint (n_frames, ==, n_mem);
      run_packed (buf, &lay, n_frames, max_height);
      g_free (buf);
    }
    for (guint i = 0; i < n_mem; i++) {
      if (scene_compare (&direct[i], &packed[i], &plane, &x, &y) >= 0)
        g_error ("round %u frame %u (%dx%d): packed batch differs at plane %d (%d, %d)", round, i,
            direct[i].s.width, direct[i].s.height, plane, x, y);
      scene_frame_free (&direct[i]);
      scene_frame_free (&packed[i]);
    }
    g_free (atlases);
    ova_draw_list_free (list);
  }
  g_rand_free (r);
}

/* A box's commands: one outline, no pixels touched on the CPU. */
static void
test_box_is_one_command (void)
{
  OvaDrawList *list = ova_draw_list_new ();
  OvaSurface rec;
  OvaPaint p;
  const OvaColor red = { 1, 0, 0, 1 };
  ova_draw_list_begin (list, 1);
  ova_draw_list_surface (list, 0, 64, 48, FALSE, FALSE, NULL, 64, NULL, 64, &rec);
  ova_paint_init (&p, &rec, &red);
  ova_draw_rect (&rec, 3, 5, 21, 17, 3, &p);
  g_assert_cmpuint (ova_draw_list_n_commands (list, 0), ==, 1);
  ova_draw_text (&rec, fonts[0], 3, 2, "person 1", &p, &p, 2);
  g_assert_cmpuint (ova_draw_list_n_commands (list, 0), ==, 2);
  ova_draw_list_begin (list, 1);
  g_assert_cmpuint (ova_draw_list_n_commands (list, 0), ==, 0);
  ova_draw_list_free (list);
}

static void
test_execute_without_cuda (void)
{
  if (ova_draw_cuda_available ()) {
    g_test_skip ("built with CUDA");
    return;
  }
  GError *err = NULL;
  OvaDrawList *list = ova_draw_list_new ();
  ova_draw_list_begin (list, 0);
  g_assert_false (ova_draw_list_execute_cuda (list, NULL, &err));
  g_assert_nonnull (err);
  g_error_free (err);
  ova_draw_list_free (list);
}

int
main (int argc, char **argv)
{
  int ret;
  GError *err = NULL;
  g_test_init (&argc, &argv, NULL);
  fonts[0] = ova_font_get (12, &err);
  g_assert_no_error (err);
  fonts[1] = ova_font_get (20, &err);
  g_assert_no_error (err);
  fonts[2] = ova_font_get (31, &err);
  g_assert_no_error (err);
  g_test_add_func ("/record/replay-matches-direct", test_random_scenes);
  g_test_add_func ("/record/packed-batch-matches-direct", test_packed_batches);
  g_test_add_func ("/record/box-is-one-command", test_box_is_one_command);
  g_test_add_func ("/record/execute-without-cuda", test_execute_without_cuda);
  ret = g_test_run ();
  for (guint i = 0; i < G_N_ELEMENTS (fonts); i++)
    ova_font_unref (fonts[i]);
  ova_font_cache_clear ();
  return ret;
}
