/* ova — recorded drawing (OvaDrawList) replayed on the CPU against the
 * primitives drawn directly: the per-sample code the CUDA kernel runs must
 * give the CPU drawer's bytes. SPDX-License-Identifier: MIT */
#include <ova/draw.h>
#include "draw-scene.h"

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
  g_test_add_func ("/record/box-is-one-command", test_box_is_one_command);
  g_test_add_func ("/record/execute-without-cuda", test_execute_without_cuda);
  ret = g_test_run ();
  for (guint i = 0; i < G_N_ELEMENTS (fonts); i++)
    ova_font_unref (fonts[i]);
  ova_font_cache_clear ();
  return ret;
}
