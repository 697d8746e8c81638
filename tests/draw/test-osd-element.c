/* ova — ovaosd under GstHarness, on batches built like ovamux builds them. SPDX-License-Identifier: MIT */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include "ova-config.h"
#include <ova/draw.h>
#include "batch-helper.h"
#include <math.h>

#define W 320
#define H 240
static const guint8 grey[4] = { 60, 128, 128, 0 };

static GstHarness *
osd_harness (const gchar *fmt, const gchar *props)
{
  gchar *desc = g_strdup_printf ("ovaosd %s", props ? props : "");
  gchar *caps = g_strdup_printf ("video/x-raw,format=%s,width=%d,height=%d,framerate=30/1", fmt, W, H);
  GstHarness *h = gst_harness_new_parse (desc);
  gst_harness_set_src_caps_str (h, caps);
  g_free (desc);
  g_free (caps);
  return h;
}

/* The luma the osd must use for class 0's default colour (palette entry 0). */
static guint8
class0_luma (void)
{
  OvaSurface s = { .format = OVA_PIXEL_NV12, .width = W, .height = H };
  OvaColor c = { 0.90f, 0.10f, 0.10f, 1 };
  OvaPaint p;
  ova_paint_init (&p, &s, &c);
  return p.c[0];
}

static gint
count_changed_rows (GstBuffer *b, guint frame, gint x0, gint x1, gint y0, gint y1, guint8 base)
{
  gint n = 0;
  for (gint y = y0; y < y1; y++)
    for (gint x = x0; x < x1; x++)
      if (test_batch_pixel (b, frame, 0, x, y) != base) {
        n++;
        break;
      }
  return n;
}

GST_START_TEST (test_boxes_and_labels)
{
  GstHarness *h = osd_harness ("NV12", "border-width=4");
  GstVideoInfo info[2];
  GstBuffer *frames[2], *batch, *out;
  guint8 box = class0_luma ();

  frames[0] = test_frame_new (GST_VIDEO_FORMAT_NV12, W, H, grey, &info[0]);
  frames[1] = test_frame_new (GST_VIDEO_FORMAT_NV12, W, H, grey, &info[1]);
  batch = test_batch_new (frames, info, 2, NULL);
  gst_buffer_unref (frames[0]);
  gst_buffer_unref (frames[1]);
  test_add_object (batch, 0, 0, "person", 40, 100, 100, 80, 12, 0.87f);

  out = gst_harness_push_and_pull (h, batch);
  fail_unless (out != NULL);
  /* the box: 4-pixel border in the class colour, interior and outside untouched */
  for (gint x = 40; x < 140; x++) {
    fail_unless_equals_int (test_batch_pixel (out, 0, 0, x, 100), box);
    fail_unless_equals_int (test_batch_pixel (out, 0, 0, x, 103), box);
    fail_unless_equals_int (test_batch_pixel (out, 0, 0, x, 179), box);
  }
  for (gint y = 104; y < 176; y++) {
    fail_unless_equals_int (test_batch_pixel (out, 0, 0, 40, y), box);
    fail_unless_equals_int (test_batch_pixel (out, 0, 0, 139, y), box);
    fail_unless_equals_int (test_batch_pixel (out, 0, 0, 90, y), 60);
    fail_unless_equals_int (test_batch_pixel (out, 0, 0, 140, y), 60);
  }
  /* the label "person 12 0.87" sits above the box: a band of changed rows */
  fail_unless (count_changed_rows (out, 0, 40, 200, 60, 100, 60) >= 12);
  fail_unless_equals_int (count_changed_rows (out, 0, 200, W, 0, H, 60), 0);
  /* and the second frame, without objects, is untouched */
  fail_unless_equals_int (count_changed_rows (out, 1, 0, W, 0, H, 60), 0);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;

static gint
label_width (const gchar *props, const gchar *label, gint64 tracker, gfloat conf)
{
  GstHarness *h = osd_harness ("NV12", props);
  GstVideoInfo info;
  GstBuffer *f = test_frame_new (GST_VIDEO_FORMAT_NV12, W, H, grey, &info), *b, *out;
  gint right = -1;
  b = test_batch_new (&f, &info, 1, NULL);
  gst_buffer_unref (f);
  test_add_object (b, 0, 0, label, 20, 120, 60, 60, tracker, conf);
  out = gst_harness_push_and_pull (h, b);
  /* rightmost changed column in the label band */
  for (gint y = 60; y < 118; y++)
    for (gint x = W - 1; x > right; x--)
      if (test_batch_pixel (out, 0, 0, x, y) != 60) {
        right = x;
        break;
      }
  gst_buffer_unref (out);
  gst_harness_teardown (h);
  return right;
}

GST_START_TEST (test_label_parts)
{
  gint full = label_width ("", "person", 12, 0.87f);
  gint no_conf = label_width ("display-confidence=false", "person", 12, 0.87f);
  gint no_id = label_width ("display-tracker-id=false display-confidence=false", "person", 12, 0.87f);
  gint untracked = label_width ("display-confidence=false", "person", -1, 0.87f);
  gint none = label_width ("display-text=false", "person", 12, 0.87f);
  fail_unless (full > no_conf, "confidence adds text (%d vs %d)", full, no_conf);
  fail_unless (no_conf > no_id, "tracker id adds text (%d vs %d)", no_conf, no_id);
  fail_unless_equals_int (untracked, no_id); /* tracker_id -1: no id drawn */
  fail_unless_equals_int (none, -1);         /* no label at all */
}
GST_END_TEST;

GST_START_TEST (test_classifier_lines)
{
  GstHarness *h = osd_harness ("NV12", "");
  GstVideoInfo info;
  GstBuffer *f = test_frame_new (GST_VIDEO_FORMAT_NV12, W, H, grey, &info), *b, *out;
  OvaBatchMeta *bm;
  OvaObjectMeta *o;
  gint one, two;
  b = test_batch_new (&f, &info, 1, NULL);
  gst_buffer_unref (f);
  test_add_object (b, 0, 2, "car", 20, 150, 80, 60, 3, 0.5f);
  out = gst_harness_push_and_pull (h, gst_buffer_ref (b));
  one = count_changed_rows (out, 0, 20, 200, 0, 150, 60);
  gst_buffer_unref (out);
  gst_buffer_unref (b);

  f = test_frame_new (GST_VIDEO_FORMAT_NV12, W, H, grey, &info);
  b = test_batch_new (&f, &info, 1, NULL);
  gst_buffer_unref (f);
  o = test_add_object (b, 0, 2, "car", 20, 150, 80, 60, 3, 0.5f);
  bm = ova_buffer_get_batch_meta (b);
  for (gint k = 0; k < 2; k++) {
    OvaClassifierMeta *c = ova_batch_meta_acquire_classifier (bm);
    OvaLabelInfo *l = ova_batch_meta_acquire_label (bm);
    g_strlcpy (l->label, k ? "sedan" : "red", sizeof (l->label));
    l->probability = 0.9f;
    ova_classifier_meta_add_label (c, l);
    ova_object_meta_add_classifier (o, c);
  }
  out = gst_harness_push_and_pull (h, b);
  two = count_changed_rows (out, 0, 20, 200, 0, 150, 60);
  gst_buffer_unref (out);
  fail_unless (two >= 2 * one, "classifier lines stack under the label (%d rows vs %d)", two, one);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_copy_on_write)
{
  GstHarness *h = osd_harness ("NV12", "");
  GstVideoInfo info;
  GstBuffer *frame = test_frame_new (GST_VIDEO_FORMAT_NV12, W, H, grey, &info), *b, *out;
  GstMapInfo map;
  b = test_batch_new (&frame, &info, 1, NULL);
  /* frame still holds its memory: the batch shares it (a tee branch would) */
  test_add_object (b, 0, 0, "person", 10, 50, 100, 100, -1, 0.9f);
  out = gst_harness_push_and_pull (h, b);
  fail_unless (test_batch_pixel (out, 0, 0, 10, 50) != 60);
  gst_buffer_map (frame, &map, GST_MAP_READ);
  for (gsize i = 0; i < (gsize) W * H; i++)
    fail_unless_equals_int (map.data[i], 60);
  gst_buffer_unmap (frame, &map);
  fail_unless (gst_buffer_peek_memory (out, 0) != gst_buffer_peek_memory (frame, 0));
  gst_buffer_unref (out);
  gst_buffer_unref (frame);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_zero_copy_when_exclusive)
{
  GstHarness *h = osd_harness ("NV12", "");
  GstVideoInfo info;
  GstBuffer *frame = test_frame_new (GST_VIDEO_FORMAT_NV12, W, H, grey, &info), *b, *out;
  GstMemory *mem = gst_buffer_peek_memory (frame, 0);
  b = test_batch_new (&frame, &info, 1, NULL);
  gst_buffer_unref (frame); /* the batch is the only owner, as after ovamux */
  test_add_object (b, 0, 0, "person", 10, 50, 100, 100, -1, 0.9f);
  out = gst_harness_push_and_pull (h, b);
  fail_unless (gst_buffer_peek_memory (out, 0) == mem, "drawn in place, no copy");
  fail_unless (test_batch_pixel (out, 0, 0, 10, 50) != 60);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_source_scaling_and_colors)
{
  GstHarness *h = osd_harness ("NV12", "class-colors=5:ffffff display-text=false border-width=2");
  GstVideoInfo info;
  GstBuffer *f = test_frame_new (GST_VIDEO_FORMAT_NV12, W, H, grey, &info), *b, *out;
  OvaFrameMeta *fm;
  OvaObjectMeta *o;
  b = test_batch_new (&f, &info, 1, NULL);
  gst_buffer_unref (f);
  fm = ova_batch_meta_get_frame (ova_buffer_get_batch_meta (b), 0);
  fm->source_width = 2 * W; /* the muxer scaled a 640x480 source to 320x240 */
  fm->source_height = 2 * H;
  test_add_object (b, 0, 5, "x", 200, 100, 200, 200, -1, -1);
  o = test_add_object (b, 0, 5, "y", 20, 20, 40, 40, -1, -1);
  o->border_color = (OvaColor) { 0, 0, 0, 1 }; /* per-object override */
  out = gst_harness_push_and_pull (h, b);
  fail_unless_equals_int (test_batch_pixel (out, 0, 0, 100, 50), 235);   /* white, at half coordinates */
  fail_unless_equals_int (test_batch_pixel (out, 0, 0, 199, 149), 235);
  fail_unless_equals_int (test_batch_pixel (out, 0, 0, 200, 100), 60);
  fail_unless_equals_int (test_batch_pixel (out, 0, 0, 10, 10), 16);     /* black override */
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_display_meta)
{
  GstHarness *h = osd_harness ("NV12", "");
  GstVideoInfo info;
  GstBuffer *f = test_frame_new (GST_VIDEO_FORMAT_NV12, W, H, grey, &info), *b, *out;
  OvaBatchMeta *bm;
  OvaDisplayMeta *d;
  const OvaColor white = { 1, 1, 1, 1 }, black_half = { 0, 0, 0, 0.5f };
  b = test_batch_new (&f, &info, 1, NULL);
  gst_buffer_unref (f);
  bm = ova_buffer_get_batch_meta (b);
  d = ova_batch_meta_acquire_display (bm);
  d->n_rects = 1;
  d->rects[0] = (OvaDisplayRect) { { 10, 10, 50, 30 }, 0, white, TRUE, black_half };
  d->n_lines = 1;
  d->lines[0] = (OvaDisplayLine) { 100, 20, 200, 20, 3, white };
  d->n_circles = 1;
  d->circles[0] = (OvaDisplayCircle) { 250, 60, 20, 2, white, TRUE, white };
  d->n_arrows = 1;
  d->arrows[0] = (OvaDisplayArrow) { 20, 200, 120, 200, 2, white };
  d->n_texts = 1;
  g_strlcpy (d->texts[0].text, "zone A", sizeof (d->texts[0].text));
  d->texts[0].x = 150; d->texts[0].y = 120; d->texts[0].font_size = 24;
  d->texts[0].color = white;
  d->texts[0].has_bg = TRUE;
  d->texts[0].bg_color = (OvaColor) { 0, 0, 0, 1 };
  ova_frame_meta_add_display (ova_batch_meta_get_frame (bm, 0), d);
  out = gst_harness_push_and_pull (h, b);
  fail_unless_equals_int (test_batch_pixel (out, 0, 0, 30, 20), (60 * 127 + 16 * 128 + 127) / 255); /* 50% black */
  fail_unless_equals_int (test_batch_pixel (out, 0, 0, 150, 20), 235);  /* line */
  fail_unless_equals_int (test_batch_pixel (out, 0, 0, 250, 60), 235);  /* filled circle */
  fail_unless_equals_int (test_batch_pixel (out, 0, 0, 60, 200), 235);  /* arrow shaft */
  fail_unless_equals_int (test_batch_pixel (out, 0, 0, 150, 121), 16);  /* text background */
  fail_unless (count_changed_rows (out, 0, 150, 230, 120, 150, 16) >= 10); /* glyphs on it */
  fail_unless_equals_int (test_batch_pixel (out, 0, 0, 300, 230), 60);  /* nothing else */
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_rgba_and_i420)
{
  const struct { const gchar *caps; GstVideoFormat f; gint off; guint8 expect; } cases[] = {
    { "RGBA", GST_VIDEO_FORMAT_RGBA, 0, 255 }, { "BGRx", GST_VIDEO_FORMAT_BGRx, 2, 255 },
    { "I420", GST_VIDEO_FORMAT_I420, 0, 235 }, { "BGRA", GST_VIDEO_FORMAT_BGRA, 0, 255 },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    GstHarness *h = osd_harness (cases[i].caps, "class-colors=1:ffffff");
    GstVideoInfo info;
    const guint8 fill[4] = { 60, 60, 60, 255 };
    GstBuffer *f = test_frame_new (cases[i].f, W, H, fill, &info), *b, *out;
    gboolean rgb = cases[i].f != GST_VIDEO_FORMAT_I420;
    b = test_batch_new (&f, &info, 1, NULL);
    gst_buffer_unref (f);
    test_add_object (b, 0, 1, "thing", 50, 60, 40, 40, -1, 0.5f);
    out = gst_harness_push_and_pull (h, b);
    fail_unless_equals_int (test_batch_pixel (out, 0, 0, (rgb ? 4 : 1) * 50 + cases[i].off, 60), cases[i].expect);
    fail_unless_equals_int (test_batch_pixel (out, 0, 0, (rgb ? 4 : 1) * 70 + cases[i].off, 80), 60);
    gst_buffer_unref (out);
    gst_harness_teardown (h);
  }
}
GST_END_TEST;

/* A frame meta that says CUDA memory over system memory: with the CUDA
 * drawer it is not drawn (a warning), without it the batch is an error. */
GST_START_TEST (test_cuda_frames_pass_untouched)
{
  GstHarness *h = osd_harness ("NV12", "");
  GstVideoInfo info;
  GstBuffer *f = test_frame_new (GST_VIDEO_FORMAT_NV12, W, H, grey, &info), *b, *out;
  b = test_batch_new (&f, &info, 1, NULL);
  gst_buffer_unref (f);
  ova_batch_meta_get_frame (ova_buffer_get_batch_meta (b), 0)->memory_type = OVA_MEMORY_CUDA;
  test_add_object (b, 0, 0, "person", 10, 50, 100, 100, -1, 0.9f);
#if !(OVA_HAVE_CUDA && OVA_HAVE_GST_CUDA)
  fail_unless_equals_int (gst_harness_push (h, b), GST_FLOW_ERROR);
  gst_harness_teardown (h);
  return;
#endif
  out = gst_harness_push_and_pull (h, b);
  /* read the pixels as system memory (they are, in this test) */
  ova_batch_meta_get_frame (ova_buffer_get_batch_meta (out), 0)->memory_type = OVA_MEMORY_SYSTEM;
  fail_unless_equals_int (count_changed_rows (out, 0, 0, W, 0, H, 60), 0);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_buffer_without_batch_passes)
{
  GstHarness *h = osd_harness ("NV12", "");
  GstVideoInfo info;
  GstBuffer *f = test_frame_new (GST_VIDEO_FORMAT_NV12, W, H, grey, &info), *out;
  GstMemory *mem = gst_buffer_peek_memory (f, 0);
  out = gst_harness_push_and_pull (h, f);
  fail_unless (gst_buffer_peek_memory (out, 0) == mem);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_bad_class_colors_warn)
{
  GstHarness *h = osd_harness ("NV12", "");
  GstElement *osd = gst_harness_find_element (h, "ovaosd");
  GstBus *bus = gst_bus_new ();
  GstMessage *msg;
  gchar *dbg = NULL;
  GstVideoInfo info;
  GstBuffer *f, *b, *out;
  gst_element_set_bus (osd, bus);
  g_object_set (osd, "class-colors", "0:ff0000;x:12;3:zz;4:ffffff", NULL);
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL, "a bad entry posts a warning");
  gst_message_parse_warning (msg, NULL, &dbg);
  fail_unless (strstr (dbg, "x:12") != NULL, "the warning names the entry: %s", dbg);
  g_free (dbg);
  gst_message_unref (msg);
  /* the good entries still apply: class 4 is white */
  f = test_frame_new (GST_VIDEO_FORMAT_NV12, W, H, grey, &info);
  b = test_batch_new (&f, &info, 1, NULL);
  gst_buffer_unref (f);
  test_add_object (b, 0, 4, "x", 10, 100, 50, 50, -1, -1);
  out = gst_harness_push_and_pull (h, b);
  fail_unless_equals_int (test_batch_pixel (out, 0, 0, 10, 100), 235);
  gst_buffer_unref (out);
  gst_element_set_bus (osd, NULL);
  gst_object_unref (bus);
  gst_object_unref (osd);
  gst_harness_teardown (h);
}
GST_END_TEST;

GST_START_TEST (test_frame_without_pixels_skipped)
{
  GstHarness *h = osd_harness ("NV12", "");
  GstVideoInfo info;
  GstBuffer *f = test_frame_new (GST_VIDEO_FORMAT_NV12, W, H, grey, &info), *b, *out;
  b = test_batch_new (&f, &info, 1, NULL);
  gst_buffer_unref (f);
  test_add_object (b, 0, 0, "person", 10, 50, 100, 100, -1, 0.9f);
  ova_batch_meta_get_frame (ova_buffer_get_batch_meta (b), 0)->n_mems = 0;
  out = gst_harness_push_and_pull (h, b);
  ova_batch_meta_get_frame (ova_buffer_get_batch_meta (out), 0)->n_mems = 1;
  fail_unless_equals_int (count_changed_rows (out, 0, 0, W, 0, H, 60), 0);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* A batch of 8 frames drawn by several threads gives the bytes of one thread. */
static GstBuffer *
busy_batch (void)
{
  GstVideoInfo info[8];
  GstBuffer *frames[8], *b;
  for (guint i = 0; i < 8; i++)
    frames[i] = test_frame_new (GST_VIDEO_FORMAT_NV12, W, H, grey, &info[i]);
  b = test_batch_new (frames, info, 8, NULL);
  for (guint i = 0; i < 8; i++) {
    gst_buffer_unref (frames[i]);
    for (guint k = 0; k < 20; k++)
      test_add_object (b, i, k % 5, "obj", 5 + 13 * k + i, 30 + 9 * k, 40, 30, k, 0.5f);
  }
  return b;
}

GST_START_TEST (test_parallel_frames)
{
  GstHarness *h1 = osd_harness ("NV12", "threads=1"), *h4 = osd_harness ("NV12", "threads=4");
  GstBuffer *a = gst_harness_push_and_pull (h1, busy_batch ());
  GstBuffer *b = gst_harness_push_and_pull (h4, busy_batch ());
  for (guint i = 0; i < 8; i++) {
    OvaMappedFrame ma, mb;
    fail_unless (ova_frame_meta_map (a, ova_batch_meta_get_frame (ova_buffer_get_batch_meta (a), i), &ma, GST_MAP_READ));
    fail_unless (ova_frame_meta_map (b, ova_batch_meta_get_frame (ova_buffer_get_batch_meta (b), i), &mb, GST_MAP_READ));
    fail_unless (memcmp (ma.data[0], mb.data[0], (gsize) ma.stride[0] * H) == 0, "frame %u luma", i);
    fail_unless (memcmp (ma.data[1], mb.data[1], (gsize) ma.stride[1] * H / 2) == 0, "frame %u chroma", i);
    fail_unless (count_changed_rows (a, i, 0, W, 0, H, 60) > 100, "frame %u drawn", i);
    ova_mapped_frame_unmap (&ma);
    ova_mapped_frame_unmap (&mb);
  }
  gst_buffer_unref (a);
  gst_buffer_unref (b);
  gst_harness_teardown (h1);
  gst_harness_teardown (h4);
}
GST_END_TEST;

/* Corrupt numbers in the metadata: nothing undefined, nothing drawn off the frame. */
GST_START_TEST (test_absurd_numbers)
{
  GstHarness *h = osd_harness ("NV12", "");
  GstVideoInfo info;
  GstBuffer *f = test_frame_new (GST_VIDEO_FORMAT_NV12, W, H, grey, &info), *b, *out;
  const gfloat bad[] = { NAN, INFINITY, -INFINITY, 1e30f, -1e30f, 3e9f };
  OvaBatchMeta *bm;
  OvaDisplayMeta *d;
  const OvaColor white = { 1, 1, 1, 1 };
  b = test_batch_new (&f, &info, 1, NULL);
  gst_buffer_unref (f);
  bm = ova_buffer_get_batch_meta (b);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    test_add_object (b, 0, 0, "x", bad[i], 10, 50, 50, -1, bad[i]);
    test_add_object (b, 0, 0, "y", 10, bad[i], bad[i], 50, -1, 0.5f);
  }
  d = ova_batch_meta_acquire_display (bm);
  d->n_texts = d->n_lines = d->n_circles = d->n_rects = d->n_arrows = G_N_ELEMENTS (bad);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_strlcpy (d->texts[i].text, "t", sizeof (d->texts[i].text));
    d->texts[i].x = bad[i]; d->texts[i].y = 5; d->texts[i].font_size = bad[i]; d->texts[i].color = white;
    d->lines[i] = (OvaDisplayLine) { bad[i], 0, 10, bad[i], bad[i], white };
    d->circles[i] = (OvaDisplayCircle) { bad[i], 10, bad[i], 2, white, TRUE, white };
    d->rects[i] = (OvaDisplayRect) { { bad[i], 1, 10, bad[i] }, bad[i], white, TRUE, white };
    d->arrows[i] = (OvaDisplayArrow) { 1, 1, bad[i], bad[i], 2, white };
  }
  d->n_texts = MIN (d->n_texts, OVA_MAX_DISPLAY_ELEMENTS);
  ova_frame_meta_add_display (ova_batch_meta_get_frame (bm, 0), d);
  /* counts beyond the arrays are capped */
  d = ova_batch_meta_acquire_display (bm);
  d->n_rects = 1000;
  ova_frame_meta_add_display (ova_batch_meta_get_frame (bm, 0), d);
  out = gst_harness_push_and_pull (h, b);
  fail_unless (out != NULL);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;

/* Metadata that promises more pixels than the memories hold is refused, not followed. */
GST_START_TEST (test_lying_frame_meta)
{
  GstHarness *h = osd_harness ("NV12", "");
  GstVideoInfo info;
  GstBuffer *small = gst_buffer_new_allocate (NULL, 100, NULL), *b, *out;
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_NV12, W, H);
  b = test_batch_new (&small, &info, 1, NULL);
  gst_buffer_unref (small);
  test_add_object (b, 0, 0, "person", 10, 50, 100, 100, -1, 0.9f);
  ova_batch_meta_get_frame (ova_buffer_get_batch_meta (b), 0)->mem_index = 0;
  out = gst_harness_push_and_pull (h, b);
  fail_unless (out != NULL);
  gst_buffer_unref (out);
  /* and a frame naming a memory that is not there */
  small = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info), NULL);
  b = test_batch_new (&small, &info, 1, NULL);
  gst_buffer_unref (small);
  test_add_object (b, 0, 0, "person", 10, 50, 100, 100, -1, 0.9f);
  ova_batch_meta_get_frame (ova_buffer_get_batch_meta (b), 0)->mem_index = 3;
  out = gst_harness_push_and_pull (h, b);
  fail_unless (out != NULL);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}
GST_END_TEST;

static Suite *
osd_suite (void)
{
  Suite *s = suite_create ("ovaosd");
  TCase *tc = tcase_create ("general");
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_boxes_and_labels);
  tcase_add_test (tc, test_label_parts);
  tcase_add_test (tc, test_classifier_lines);
  tcase_add_test (tc, test_copy_on_write);
  tcase_add_test (tc, test_zero_copy_when_exclusive);
  tcase_add_test (tc, test_source_scaling_and_colors);
  tcase_add_test (tc, test_display_meta);
  tcase_add_test (tc, test_rgba_and_i420);
  tcase_add_test (tc, test_cuda_frames_pass_untouched);
  tcase_add_test (tc, test_buffer_without_batch_passes);
  tcase_add_test (tc, test_bad_class_colors_warn);
  tcase_add_test (tc, test_frame_without_pixels_skipped);
  tcase_add_test (tc, test_lying_frame_meta);
  tcase_add_test (tc, test_absurd_numbers);
  tcase_add_test (tc, test_parallel_frames);
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
    gchar *reg = g_strdup_printf ("%s/tests/registry-osd.bin", build ? build : ".");
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
  return gst_check_run_suite (osd_suite (), "osd", __FILE__);
}
