/* ova — ovatiler under GstHarness, on batches built like ovamux builds them. SPDX-License-Identifier: MIT */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include "ova-config.h"
#include <ova/draw.h>
#include "batch-helper.h"
#include <gst/app/gstappsink.h>

#define SW 320
#define SH 240
#define OW 640
#define OH 360

static const guint8 lumas[4] = { 50, 100, 150, 200 };

static GstHarness *
tiler_harness (const gchar *launch)
{
  GstHarness *h = gst_harness_new_parse (launch);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=NV12,width=320,height=240,framerate=30/1");
  return h;
}

/* A batch of @n flat frames, source s has luma lumas[s % 4]. */
static GstBuffer *
flat_batch (const guint *sources, guint n)
{
  GstBuffer *frames[16], *b;
  GstVideoInfo info[16];
  for (guint i = 0; i < n; i++) {
    guint8 fill[4] = { lumas[sources[i] % 4], 128, 128, 0 };
    frames[i] = test_frame_new (GST_VIDEO_FORMAT_NV12, SW, SH, fill, &info[i]);
  }
  b = test_batch_new (frames, info, n, sources);
  for (guint i = 0; i < n; i++)
    gst_buffer_unref (frames[i]);
  return b;
}

static guint8
out_luma (GstBuffer *out, gint x, gint y)
{
  GstVideoInfo info;
  GstVideoFrame vf;
  guint8 v;
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_NV12, OW, OH);
  fail_unless (gst_video_frame_map (&vf, &info, out, GST_MAP_READ));
  v = ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&vf, 0))[y * GST_VIDEO_FRAME_PLANE_STRIDE (&vf, 0) + x];
  gst_video_frame_unmap (&vf);
  return v;
}

GST_START_TEST (test_grid)
{
  GstHarness *h = tiler_harness ("ovatiler rows=2 columns=2 width=640 height=360");
  const guint src[4] = { 0, 1, 2, 3 };
  GstBuffer *b = flat_batch (src, 4), *out;
  GstCaps *caps;
  GstStructure *s;
  gint w, hh;
  OvaBatchMeta *om;

  test_add_object (b, 3, 0, "person", 0, 0, SW, SH, 7, 0.9f);
  test_add_object (b, 1, 0, "person", 160, 120, 80, 60, 8, 0.9f);
  out = gst_harness_push_and_pull (h, b);
  fail_unless (out != NULL);
  caps = gst_pad_get_current_caps (h->sinkpad);
  s = gst_caps_get_structure (caps, 0);
  fail_unless (gst_structure_get_int (s, "width", &w) && gst_structure_get_int (s, "height", &hh));
  fail_unless_equals_int (w, OW);
  fail_unless_equals_int (hh, OH);
  fail_unless_equals_string (gst_structure_get_string (s, "format"), "NV12");
  gst_caps_unref (caps);
  fail_unless (out->pool != NULL, "output buffer comes from a pool");

  /* 4:3 frames in 320x180 tiles: 240x180 pictures centred, black bars */
  for (guint t = 0; t < 4; t++) {
    gint tx = (t % 2) * 320, ty = (t / 2) * 180;
    fail_unless_equals_int (out_luma (out, tx + 160, ty + 90), lumas[t]);
    fail_unless_equals_int (out_luma (out, tx + 41, ty + 1), lumas[t]);
    fail_unless_equals_int (out_luma (out, tx + 278, ty + 178), lumas[t]);
    fail_unless_equals_int (out_luma (out, tx + 10, ty + 90), 16);
    fail_unless_equals_int (out_luma (out, tx + 310, ty + 90), 16);
  }
  /* meta: 4 frames, boxes in output pixels, all on memory 0 */
  om = ova_buffer_get_batch_meta (out);
  fail_unless (om != NULL);
  fail_unless_equals_int (ova_batch_meta_get_n_frames (om), 4);
  for (guint i = 0; i < 4; i++) {
    OvaFrameMeta *f = ova_batch_meta_get_frame (om, i);
    fail_unless_equals_int (f->source_id, i);
    fail_unless_equals_int (f->mem_index, 0);
    fail_unless_equals_int (f->source_width, OW);
    fail_unless_equals_int (f->source_height, OH);
    fail_unless_equals_int (GST_VIDEO_INFO_WIDTH (&f->video_info), OW);
  }
  {
    OvaObjectMeta *o = ova_frame_meta_get_object (ova_batch_meta_get_frame (om, 3), 0);
    fail_unless_equals_float (o->rect.left, 320 + 40);
    fail_unless_equals_float (o->rect.top, 180);
    fail_unless_equals_float (o->rect.width, 240);
    fail_unless_equals_float (o->rect.height, 180);
    fail_unless_equals_int (o->tracker_id, 7);
    o = ova_frame_meta_get_object (ova_batch_meta_get_frame (om, 1), 0);
    fail_unless_equals_float (o->rect.left, 320 + 40 + 120);
    fail_unless_equals_float (o->rect.top, 90);
    fail_unless_equals_float (o->rect.width, 60);
  }
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_show_source_while_playing)
{
  GstHarness *h = tiler_harness ("ovatiler name=t rows=2 columns=2 width=640 height=360");
  const guint src[4] = { 0, 1, 2, 3 };
  GstElement *t = gst_harness_find_element (h, "ovatiler");
  GstBuffer *out;
  OvaBatchMeta *om;

  out = gst_harness_push_and_pull (h, flat_batch (src, 4));
  fail_unless_equals_int (out_luma (out, 160, 90), lumas[0]);
  gst_buffer_unref (out);

  g_object_set (t, "show-source", 2, NULL);
  out = gst_harness_push_and_pull (h, flat_batch (src, 4));
  /* source 2 alone, 4:3 in 16:9: 480x360 centred */
  fail_unless_equals_int (out_luma (out, 320, 180), lumas[2]);
  fail_unless_equals_int (out_luma (out, 100, 10), lumas[2]);
  fail_unless_equals_int (out_luma (out, 60, 180), 16);
  om = ova_buffer_get_batch_meta (out);
  fail_unless_equals_int (ova_batch_meta_get_n_frames (om), 1);
  fail_unless_equals_int (ova_batch_meta_get_frame (om, 0)->source_id, 2);
  gst_buffer_unref (out);

  g_object_set (t, "show-source", -1, "rows", 1, "columns", 4, NULL);
  out = gst_harness_push_and_pull (h, flat_batch (src, 4));
  /* 1x4 grid of 160x360 tiles: 160x120 pictures */
  for (guint i = 0; i < 4; i++)
    fail_unless_equals_int (out_luma (out, i * 160 + 80, 180), lumas[i]);
  fail_unless_equals_int (out_luma (out, 80, 20), 16);
  gst_buffer_unref (out);
  gst_object_unref (t);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_partial_batch_keeps_tiles)
{
  GstHarness *h = tiler_harness ("ovatiler rows=2 columns=2 width=640 height=360");
  const guint all[4] = { 0, 1, 2, 3 }, only1[1] = { 1 }, too_many[1] = { 9 };
  GstBuffer *out;
  gst_buffer_unref (gst_harness_push_and_pull (h, flat_batch (all, 4)));
  out = gst_harness_push_and_pull (h, flat_batch (only1, 1));
  for (guint t = 0; t < 4; t++)
    fail_unless_equals_int (out_luma (out, (t % 2) * 320 + 160, (t / 2) * 180 + 90), lumas[t]);
  fail_unless_equals_int (ova_batch_meta_get_n_frames (ova_buffer_get_batch_meta (out)), 1);
  gst_buffer_unref (out);
  /* a frame meta promising more pixels than its memory holds is not shown */
  {
    GstBuffer *b = flat_batch (only1, 1);
    OvaFrameMeta *f = ova_batch_meta_get_frame (ova_buffer_get_batch_meta (b), 0);
    gst_video_info_set_format (&f->video_info, GST_VIDEO_FORMAT_NV12, 4 * SW, 4 * SH);
    out = gst_harness_push_and_pull (h, b);
    fail_unless_equals_int (out_luma (out, 320 + 160, 90), lumas[1]); /* the previous picture stays */
    gst_buffer_unref (out);
  }
  /* a source id beyond the grid is not shown (and does not crash) */
  out = gst_harness_push_and_pull (h, flat_batch (too_many, 1));
  fail_unless (ova_buffer_get_batch_meta (out) == NULL);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_osd_after_tiler)
{
  GstHarness *h = tiler_harness ("ovatiler rows=2 columns=2 width=640 height=360 ! "
      "ovaosd display-text=false border-width=2 class-colors=0:ffffff");
  const guint src[4] = { 0, 1, 2, 3 };
  GstBuffer *b = flat_batch (src, 4), *out;
  test_add_object (b, 3, 0, "person", 80, 60, 160, 120, 1, 0.9f);
  out = gst_harness_push_and_pull (h, b);
  /* source 3's tile picture starts at (360, 180), scale 0.75: box at (420, 225) 120x90 */
  fail_unless_equals_int (out_luma (out, 420, 225), 235);
  fail_unless_equals_int (out_luma (out, 539, 314), 235);
  fail_unless_equals_int (out_luma (out, 480, 270), lumas[3]);
  fail_unless_equals_int (out_luma (out, 418, 225), lumas[3]);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_plain_video)
{
  /* without batch meta the buffer is source 0 */
  GstHarness *h = gst_harness_new_parse ("ovatiler width=640 height=360");
  GstVideoInfo info;
  const guint8 fill[4] = { 90, 128, 128, 0 };
  GstBuffer *f, *out;
  gst_harness_set_src_caps_str (h, "video/x-raw,format=NV12,width=1280,height=720,framerate=30/1");
  f = test_frame_new (GST_VIDEO_FORMAT_NV12, 1280, 720, fill, &info);
  out = gst_harness_push_and_pull (h, f);
  fail_unless_equals_int (out_luma (out, 0, 0), 90);
  fail_unless_equals_int (out_luma (out, 639, 359), 90);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_rgba_tiles)
{
  GstHarness *h = gst_harness_new_parse ("ovatiler rows=1 columns=2 width=640 height=240");
  GstBuffer *frames[2], *b, *out;
  GstVideoInfo info[2], oi;
  GstVideoFrame vf;
  const guint8 red[4] = { 255, 0, 0, 255 }, blue[4] = { 0, 0, 255, 255 };
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGBA,width=320,height=240,framerate=30/1");
  frames[0] = test_frame_new (GST_VIDEO_FORMAT_RGBA, 320, 240, red, &info[0]);
  frames[1] = test_frame_new (GST_VIDEO_FORMAT_RGBA, 320, 240, blue, &info[1]);
  b = test_batch_new (frames, info, 2, NULL);
  gst_buffer_unref (frames[0]);
  gst_buffer_unref (frames[1]);
  out = gst_harness_push_and_pull (h, b);
  gst_video_info_set_format (&oi, GST_VIDEO_FORMAT_RGBA, 640, 240);
  fail_unless (gst_video_frame_map (&vf, &oi, out, GST_MAP_READ));
  {
    const guint8 *d = GST_VIDEO_FRAME_PLANE_DATA (&vf, 0);
    gint st = GST_VIDEO_FRAME_PLANE_STRIDE (&vf, 0);
    fail_unless_equals_int (d[100 * st + 4 * 100 + 0], 255);
    fail_unless_equals_int (d[100 * st + 4 * 100 + 2], 0);
    fail_unless_equals_int (d[100 * st + 4 * 500 + 0], 0);
    fail_unless_equals_int (d[100 * st + 4 * 500 + 2], 255);
  }
  gst_video_frame_unmap (&vf);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* DeepStream-sized grids: 20 x 20 tiles, the last one used */
GST_START_TEST (test_large_grid)
{
  GstHarness *h = tiler_harness ("ovatiler rows=20 columns=20 width=640 height=360");
  const guint src[2] = { 0, 399 };
  GstBuffer *out = gst_harness_push_and_pull (h, flat_batch (src, 2));
  /* 32x18 tiles; tile 399 at (608, 342), its 24x18 picture centred */
  fail_unless_equals_int (out_luma (out, 608 + 16, 342 + 9), lumas[399 % 4]);
  fail_unless_equals_int (out_luma (out, 16, 9), lumas[0]);
  fail_unless_equals_int (out_luma (out, 320, 180), 16);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* Batches name no format: NV12 first; RGBA frames make the tiler renegotiate to RGBA. */
GST_START_TEST (test_batch_caps_follow_frames)
{
  GstHarness *h = gst_harness_new_parse ("ovatiler width=320 height=240");
  const guint8 red[4] = { 255, 0, 0, 255 };
  GstVideoInfo info;
  GstBuffer *f, *b, *out;
  GstCaps *caps;
  gst_harness_set_src_caps_str (h, "video/x-ova-batch,max-batch-size=1");
  for (gint i = 0; i < 2; i++) {
    f = test_frame_new (GST_VIDEO_FORMAT_RGBA, 320, 240, red, &info);
    b = test_batch_new (&f, &info, 1, NULL);
    gst_buffer_unref (f);
    out = gst_harness_push_and_pull (h, b);
    fail_unless (out != NULL);
    caps = gst_pad_get_current_caps (h->sinkpad);
    if (i == 1) {
      GstMapInfo m;
      fail_unless_equals_string (gst_structure_get_string (gst_caps_get_structure (caps, 0), "format"), "RGBA");
      gst_buffer_map (out, &m, GST_MAP_READ);
      fail_unless_equals_int (m.data[4 * (120 * 320 + 160)], 255);
      fail_unless_equals_int (m.data[4 * (120 * 320 + 160) + 2], 0);
      gst_buffer_unmap (out, &m);
    } else {
      fail_unless_equals_string (gst_structure_get_string (gst_caps_get_structure (caps, 0), "format"), "NV12");
    }
    gst_caps_unref (caps);
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
}
GST_END_TEST;

static GstPadProbeReturn
add_box_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER (info);
  OvaBatchMeta *bm = ova_buffer_get_batch_meta (b);
  for (guint i = 0; bm && i < ova_batch_meta_get_n_frames (bm); i++) {
    OvaFrameMeta *f = ova_batch_meta_get_frame (bm, i);
    if (f->source_id == 1) {
      OvaObjectMeta *o = ova_batch_meta_acquire_object (bm);
      o->class_id = 0;
      o->rect = (OvaRect) { 100, 100, 200, 100 };
      o->tracker_id = -1;
      ova_frame_meta_add_object (f, o);
    }
  }
  return GST_PAD_PROBE_OK;
}

/* The real thing: two sources of different formats and sizes through ovamux,
 * boxes drawn by ovaosd, tiled by ovatiler into NV12. */
GST_START_TEST (test_mux_osd_tiler_pipeline)
{
  GstElement *pipe, *osd, *sink;
  GstPad *pad;
  GstSample *sample;
  GstBuffer *out;
  GstVideoInfo oi;
  GstVideoFrame vf;
  GError *err = NULL;
  if (!gst_element_factory_find ("ovamux") || !gst_element_factory_find ("videotestsrc") ||
      !gst_element_factory_find ("appsink")) {
    g_print ("SKIP test_mux_osd_tiler_pipeline: ovamux, videotestsrc or appsink not available\n");
    return;
  }
  pipe = gst_parse_launch ("ovamux name=m batch-size=2 ! ovaosd name=osd display-text=false border-width=4 "
      "class-colors=0:ffffff ! ovatiler rows=1 columns=2 width=1280 height=360 ! "
      "appsink name=sink caps=video/x-raw,format=NV12 sync=false "
      "videotestsrc num-buffers=5 pattern=black ! video/x-raw,format=I420,width=640,height=360 ! m.sink_0 "
      "videotestsrc num-buffers=5 pattern=black ! video/x-raw,format=NV12,width=640,height=480 ! m.sink_1", &err);
  fail_unless (pipe != NULL, "%s", err ? err->message : "");
  osd = gst_bin_get_by_name (GST_BIN (pipe), "osd");
  sink = gst_bin_get_by_name (GST_BIN (pipe), "sink");
  pad = gst_element_get_static_pad (osd, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, add_box_probe, NULL, NULL);
  gst_object_unref (pad);
  fail_unless (gst_element_set_state (pipe, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  g_signal_emit_by_name (sink, "pull-sample", &sample);
  fail_unless (sample != NULL);
  out = gst_sample_get_buffer (sample);
  gst_video_info_set_format (&oi, GST_VIDEO_FORMAT_NV12, 1280, 360);
  fail_unless (gst_video_frame_map (&vf, &oi, out, GST_MAP_READ));
  {
    const guint8 *y = GST_VIDEO_FRAME_PLANE_DATA (&vf, 0);
    gint st = GST_VIDEO_FRAME_PLANE_STRIDE (&vf, 0);
    /* source 1 (640x480) fits 480x360 at x = 720; its box (100,100) 200x100 lands at (795,75) 150x75 */
    fail_unless (y[76 * st + 796] > 200, "box border after tiling (%u)", y[76 * st + 796]);
    fail_unless (y[76 * st + 940] > 200, "box border after tiling (%u)", y[76 * st + 940]);
    fail_unless (y[110 * st + 870] < 40, "box interior (%u)", y[110 * st + 870]);
    fail_unless (y[180 * st + 320] < 40, "source 0 (I420, black) converted into the NV12 grid (%u)", y[180 * st + 320]);
  }
  gst_video_frame_unmap (&vf);
  {
    OvaBatchMeta *om = ova_buffer_get_batch_meta (out);
    fail_unless (om != NULL);
    fail_unless_equals_int (ova_batch_meta_get_n_frames (om), 2);
  }
  gst_sample_unref (sample);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (osd);
  gst_object_unref (sink);
  gst_object_unref (pipe);
}
GST_END_TEST;

/* Batches in CUDA memory negotiate NV12 in CUDA memory out (CUDA builds);
 * a batch with no CUDA frame yet (no context for the output) is dropped, and
 * an ovaosd after the tiler accepts the CUDA caps. */
GST_START_TEST (test_cuda_caps)
{
#if OVA_HAVE_CUDA && OVA_HAVE_GST_CUDA
  GstHarness *h = gst_harness_new_parse ("ovatiler width=640 height=360 ! ovaosd");
  GstCaps *caps;
  GstStructure *st;
  gint w = 0, hh = 0;
  gst_harness_set_src_caps_str (h, "video/x-ova-batch(memory:CUDAMemory)");
  fail_unless_equals_int (gst_harness_push (h, gst_buffer_new ()), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_buffers_received (h), 0);
  caps = gst_pad_get_current_caps (h->sinkpad);
  fail_unless (caps != NULL);
  fail_unless (gst_caps_features_contains (gst_caps_get_features (caps, 0), "memory:CUDAMemory"));
  st = gst_caps_get_structure (caps, 0);
  fail_unless_equals_string (gst_structure_get_string (st, "format"), "NV12");
  fail_unless (gst_structure_get_int (st, "width", &w) && gst_structure_get_int (st, "height", &hh));
  fail_unless_equals_int (w, 640);
  fail_unless_equals_int (hh, 360);
  gst_caps_unref (caps);
  gst_harness_teardown (h);
#endif
}
GST_END_TEST;

static Suite *
tiler_suite (void)
{
  Suite *s = suite_create ("ovatiler");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_grid);
  tcase_add_test (tc, test_show_source_while_playing);
  tcase_add_test (tc, test_partial_batch_keeps_tiles);
  tcase_add_test (tc, test_osd_after_tiler);
  tcase_add_test (tc, test_plain_video);
  tcase_add_test (tc, test_rgba_tiles);
  tcase_add_test (tc, test_mux_osd_tiler_pipeline);
  tcase_add_test (tc, test_batch_caps_follow_frames);
  tcase_add_test (tc, test_large_grid);
  tcase_add_test (tc, test_cuda_caps);
  suite_add_tcase (s, tc);
  return s;
}

int
main (int argc, char **argv)
{
#if defined(__SANITIZE_ADDRESS__)
  {
    /* A plugin built with sanitizers cannot be loaded by the uninstrumented
     * gst-plugin-scanner: scan in this process, and only this area's plugin
     * (system plugins would be loaded, and their leaks reported, here). */
    const gchar *build = g_getenv ("OVA_BUILD_DIR");
    gchar *reg = g_strdup_printf ("%s/tests/registry-tiler.bin", build ? build : ".");
    gchar *path = g_strdup_printf ("%s/plugins/osd", build ? build : ".");
    g_setenv ("GST_REGISTRY_FORK", "no", TRUE);
    g_setenv ("GST_PLUGIN_SYSTEM_PATH_1_0", "", TRUE);
    g_setenv ("GST_PLUGIN_PATH_1_0", path, TRUE);
    g_setenv ("GST_PLUGIN_PATH", path, TRUE);
    g_setenv ("GST_REGISTRY", reg, TRUE);
    g_free (reg);
    g_free (path);
  }
#endif
  gst_check_init (&argc, &argv);
  return gst_check_run_suite (tiler_suite (), "tiler", __FILE__);
}
