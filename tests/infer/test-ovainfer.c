/* ova — GstHarness tests of ovainfer on batches built as ovamux builds them,
 * with tiny real models (tests/infer/make-test-models.py) run by ova's engine.
 * SPDX-License-Identifier: MIT */
#include <gst/gst.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>
#include <ova/meta.h>
#include <ova/infer.h>
#include "infer/infer-private.h"
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static gchar *tmpdir;
static const gchar *models;

typedef struct {
  OvaRect rect;        /* square painted on black, source pixels */
  guint8 rgb[3];
} Paint;

/* A batch of @n RGB frames W x H, one GstMemory each, meta as ovamux sets it. */
static GstBuffer *
make_batch (guint n, gint w, gint h, guint64 frame_num, const Paint *paint, guint n_paint)
{
  GstBuffer *buf = gst_buffer_new ();
  OvaBatchMeta *bm = ova_buffer_add_batch_meta (buf, n, NULL);
  GstVideoInfo info;
  gst_video_info_set_format (&info, GST_VIDEO_FORMAT_RGB, w, h);
  for (guint i = 0; i < n; i++) {
    GstMemory *mem = gst_allocator_alloc (NULL, info.size, NULL);
    GstMapInfo map;
    gst_memory_map (mem, &map, GST_MAP_WRITE);
    memset (map.data, 0, map.size);
    for (guint p = 0; p < n_paint; p++)
      for (gint y = paint[p].rect.top; y < paint[p].rect.top + paint[p].rect.height; y++)
        for (gint x = paint[p].rect.left; x < paint[p].rect.left + paint[p].rect.width; x++)
          memcpy (map.data + y * GST_VIDEO_INFO_PLANE_STRIDE (&info, 0) + x * 3, paint[p].rgb, 3);
    gst_memory_unmap (mem, &map);
    gst_buffer_append_memory (buf, mem);
    OvaFrameMeta *f = ova_batch_meta_acquire_frame (bm);
    f->source_id = i;
    f->pad_index = i;
    f->batch_index = i;
    f->frame_num = frame_num;
    f->buf_pts = frame_num * GST_SECOND / 10;
    f->source_width = w;
    f->source_height = h;
    f->mem_index = i;
    f->n_mems = 1;
    f->memory_type = OVA_MEMORY_SYSTEM;
    f->video_info = info;
    ova_batch_meta_add_frame (bm, f);
  }
  GST_BUFFER_PTS (buf) = frame_num * GST_SECOND / 10;
  return buf;
}

static gchar *
write_config (const gchar *name, const gchar *body)
{
  gchar *path = g_build_filename (tmpdir, name, NULL);
  g_assert_true (g_file_set_contents (path, body, -1, NULL));
  return path;
}

static GstHarness *
harness_for (const gchar *config, const gchar *extra)
{
  gchar *desc = g_strdup_printf ("ovainfer config-file-path=%s threads=1 %s", config, extra ? extra : "");
  GstHarness *h = gst_harness_new_parse (desc);
  g_free (desc);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGB,width=128,height=96,framerate=10/1");
  return h;
}

static gchar *
detector_config (const gchar *extra)
{
  const gchar *lib = g_getenv ("OVA_EXAMPLE_PARSER");
  g_autofree gchar *body = g_strdup_printf (
      "[property]\n"
      "onnx-file=%s/pool8.onnx\n"
      "batch-size=2\n"
      "net-scale-factor=0.00392156862745098\n"
      "model-color-format=0\n"
      "maintain-aspect-ratio=1\n"
      "num-detected-classes=3\n"
      "gie-unique-id=1\n"
      "custom-lib-path=%s\n"
      "parse-bbox-func-name=ova_example_parse_heatmap\n"
      "labelfile-path=labels.txt\n"
      "%s\n"
      "[class-attrs-all]\n"
      "pre-cluster-threshold=0.9\n",
      models, lib, extra ? extra : "");
  return write_config ("detector.txt", body);
}

/* 128x96 -> 64x48 letterboxed at the top of 64x64: a 16x16 red square at
 * (32,16) fills heat-map cell (2,1) of class 0 (red) and only it. */
static void
test_primary_detector (void)
{
  g_autofree gchar *cfg = detector_config (NULL);
  GstHarness *h = harness_for (cfg, NULL);
  Paint red = { { 32, 16, 16, 16 }, { 255, 0, 0 } };
  Paint blue = { { 96, 64, 16, 16 }, { 0, 0, 255 } };
  Paint both[2] = { red, blue };
  ova_latency_set_enabled (TRUE);
  /* 3 frames per batch with batch-size 2: two engine runs per batch */
  for (guint64 k = 0; k < 4; k++)
    g_assert_cmpint (gst_harness_push (h, make_batch (3, 128, 96, k, both, 2)), ==, GST_FLOW_OK);
  for (guint64 k = 0; k < 4; k++) {
    GstBuffer *out = gst_harness_pull (h);
    OvaBatchMeta *bm = ova_buffer_get_batch_meta (out);
    g_assert_nonnull (bm);
    g_assert_cmpuint (ova_batch_meta_get_n_frames (bm), ==, 3);
    for (guint i = 0; i < 3; i++) {
      OvaFrameMeta *f = ova_batch_meta_get_frame (bm, i);
      g_assert_cmpuint (f->frame_num, ==, k); /* order kept */
      g_assert_true (f->infer_done);
      g_assert_cmpuint (ova_frame_meta_get_n_objects (f), ==, 2);
      OvaObjectMeta *o = ova_frame_meta_get_object (f, 0);
      OvaObjectMeta *b = ova_frame_meta_get_object (f, 1);
      if (o->class_id != 0) {
        OvaObjectMeta *t = o;
        o = b;
        b = t;
      }
      g_assert_cmpint (o->class_id, ==, 0);
      g_assert_cmpstr (o->label, ==, "red");
      g_assert_cmpuint (o->component_id, ==, 1);
      g_assert_cmpint (o->tracker_id, ==, OVA_UNTRACKED);
      g_assert_cmpfloat_with_epsilon (o->confidence, 1.0, 1e-4);
      g_assert_cmpfloat_with_epsilon (o->rect.left, 32, 1e-3);
      g_assert_cmpfloat_with_epsilon (o->rect.top, 16, 1e-3);
      g_assert_cmpfloat_with_epsilon (o->rect.width, 16, 1e-3);
      g_assert_cmpfloat_with_epsilon (o->rect.height, 16, 1e-3);
      g_assert_cmpint (b->class_id, ==, 2);
      g_assert_cmpstr (b->label, ==, "blue");
      g_assert_cmpfloat_with_epsilon (b->rect.left, 96, 1e-3);
      g_assert_cmpfloat_with_epsilon (b->rect.top, 64, 1e-3);
      /* latency stamped in and out */
      g_assert_cmpuint (f->latency.n_entries, >=, 1);
      const OvaLatencyEntry *le = &f->latency.entries[f->latency.n_entries - 1];
      g_assert_true (g_str_has_prefix (le->component, "ovainfer"));
      g_assert_cmpuint (le->out_ns, >=, le->in_ns);
      g_assert_cmpuint (le->in_ns, >, 0);
    }
    gst_buffer_unref (out);
  }
  ova_latency_set_enabled (FALSE);
  /* EOS goes through after the buffers */
  g_assert_true (gst_harness_push_event (h, gst_event_new_eos ()));
  GstEvent *ev;
  gboolean got_eos = FALSE;
  while ((ev = gst_harness_try_pull_event (h)) || !got_eos) {
    if (!ev) {
      g_usleep (1000);
      continue;
    }
    got_eos |= GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_event_unref (ev);
  }
  gst_harness_teardown (h);
}

/* The muxer scaled 256x192 sources to 128x96: boxes come back in source pixels. */
static void
test_scaled_frames (void)
{
  g_autofree gchar *cfg = detector_config (NULL);
  GstHarness *h = harness_for (cfg, NULL);
  Paint red = { { 32, 16, 16, 16 }, { 255, 0, 0 } };
  GstBuffer *in = make_batch (1, 128, 96, 0, &red, 1);
  OvaFrameMeta *f = ova_batch_meta_get_frame (ova_buffer_get_batch_meta (in), 0);
  f->source_width = 256;
  f->source_height = 192;
  g_assert_cmpint (gst_harness_push (h, in), ==, GST_FLOW_OK);
  GstBuffer *out = gst_harness_pull (h);
  f = ova_batch_meta_get_frame (ova_buffer_get_batch_meta (out), 0);
  g_assert_cmpuint (ova_frame_meta_get_n_objects (f), ==, 1);
  OvaObjectMeta *o = ova_frame_meta_get_object (f, 0);
  g_assert_cmpfloat_with_epsilon (o->rect.left, 64, 1e-3);
  g_assert_cmpfloat_with_epsilon (o->rect.top, 32, 1e-3);
  g_assert_cmpfloat_with_epsilon (o->rect.width, 32, 1e-3);
  g_assert_cmpfloat_with_epsilon (o->rect.height, 32, 1e-3);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

/* Segmentation: the arg-max class map of the 8x8 output as a frame mask. */
static void
test_segmentation (void)
{
  g_autofree gchar *body = g_strdup_printf (
      "[property]\n"
      "onnx-file=%s/pool8.onnx\n"
      "net-scale-factor=0.00392156862745098\n"
      "maintain-aspect-ratio=1\n"
      "network-type=2\n"
      "gie-unique-id=5\n", models);
  g_autofree gchar *cfg = write_config ("segmentation.txt", body);
  GstHarness *h = harness_for (cfg, NULL);
  Paint p[2] = { { { 0, 0, 128, 96 }, { 0, 255, 0 } }, { { 32, 16, 16, 16 }, { 255, 0, 0 } } };
  g_assert_cmpint (gst_harness_push (h, make_batch (1, 128, 96, 0, p, 2)), ==, GST_FLOW_OK);
  GstBuffer *out = gst_harness_pull (h);
  OvaFrameMeta *f = ova_batch_meta_get_frame (ova_buffer_get_batch_meta (out), 0);
  g_assert_cmpuint (f->user_metas->len, ==, 1);
  OvaUserMeta *um = g_ptr_array_index (f->user_metas, 0);
  g_assert_true (um->type == OVA_USER_META_MASK);
  g_assert_cmpuint (um->component_id, ==, 5);
  const OvaMaskMeta *m = um->payload;
  g_assert_cmpuint (m->width, ==, 8);
  g_assert_cmpuint (m->height, ==, 8);
  g_assert_cmpfloat (m->data[1 * 8 + 2], ==, 0);  /* red */
  g_assert_cmpfloat (m->data[0], ==, 1);          /* green */
  g_assert_cmpfloat (m->data[5 * 8 + 7], ==, 1);
  g_assert_cmpfloat (m->data[7 * 8 + 0], ==, 0);  /* letterbox padding: all zero, first class */
  /* the mask travels with buffer copies */
  GstBuffer *copy = gst_buffer_copy_deep (out);
  OvaFrameMeta *cf = ova_batch_meta_get_frame (ova_buffer_get_batch_meta (copy), 0);
  const OvaMaskMeta *cm = ((OvaUserMeta *) g_ptr_array_index (cf->user_metas, 0))->payload;
  g_assert_true (cm != m);
  g_assert_cmpfloat (cm->data[0], ==, 1);
  gst_buffer_unref (copy);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

/* interval=2: batch 0 inferred, 1 and 2 skipped, 3 inferred... */
static void
test_interval (void)
{
  g_autofree gchar *cfg = detector_config ("interval=5");
  GstHarness *h = harness_for (cfg, "interval=2 max-in-flight=1");
  Paint red = { { 32, 16, 16, 16 }, { 255, 0, 0 } };
  for (guint64 k = 0; k < 7; k++) {
    g_assert_cmpint (gst_harness_push (h, make_batch (1, 128, 96, k, &red, 1)), ==, GST_FLOW_OK);
    GstBuffer *out = gst_harness_pull (h);
    OvaFrameMeta *f = ova_batch_meta_get_frame (ova_buffer_get_batch_meta (out), 0);
    gboolean inferred = k % 3 == 0;
    g_assert_cmpint (f->infer_done, ==, inferred);
    g_assert_cmpuint (ova_frame_meta_get_n_objects (f), ==, inferred ? 1 : 0);
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
}

/* Objects of the primary detector (class 0 only, not too small) get a
 * classifier result; it is cached per tracker id until re-inferred. */
static void
test_secondary_classifier_cache (void)
{
  g_autofree gchar *body = g_strdup_printf (
      "[property]\n"
      "onnx-file=%s/meancolor.onnx\n"
      "batch-size=4\n"
      "net-scale-factor=0.05\n"
      "model-color-format=0\n"
      "network-type=1\n"
      "process-mode=2\n"
      "operate-on-gie-id=1\n"
      "operate-on-class-ids=0\n"
      "input-object-min-width=8\n"
      "classifier-threshold=0.9\n"
      "secondary-reinfer-interval=3\n"
      "gie-unique-id=7\n"
      "labelfile-path=colors.txt\n",
      models);
  g_autofree gchar *cfg = write_config ("classifier.txt", body);
  GstHarness *h = harness_for (cfg, NULL);
  /* frame content per step: object colour and box size */
  static const struct {
    guint8 rgb[3];
    gint size;
    const gchar *expect;
  } steps[] = {
    { { 255, 0, 0 }, 20, "red" },   /* inferred */
    { { 0, 0, 255 }, 20, "red" },   /* cached (colour changed, result kept) */
    { { 0, 0, 255 }, 20, "red" },   /* cached */
    { { 0, 0, 255 }, 20, "blue" },  /* 3 frames later: re-inferred */
    { { 0, 255, 0 }, 20, "blue" },  /* cached */
    { { 0, 255, 0 }, 30, "green" }, /* box grew > 20 %: re-inferred */
  };
  for (guint k = 0; k < G_N_ELEMENTS (steps); k++) {
    Paint p = { { 10, 10, steps[k].size, steps[k].size }, { steps[k].rgb[0], steps[k].rgb[1], steps[k].rgb[2] } };
    GstBuffer *in = make_batch (1, 128, 96, k, &p, 1);
    OvaBatchMeta *bm = ova_buffer_get_batch_meta (in);
    OvaFrameMeta *f = ova_batch_meta_get_frame (bm, 0);
    struct {
      gint cls, comp, w;
      gint64 tid;
    } objs[] = {
      { 0, 1, steps[k].size, 42 },  /* wanted */
      { 1, 1, steps[k].size, 43 },  /* other class */
      { 0, 2, steps[k].size, 44 },  /* other detector */
      { 0, 1, 4, 45 },              /* too small */
    };
    for (guint i = 0; i < G_N_ELEMENTS (objs); i++) {
      OvaObjectMeta *o = ova_batch_meta_acquire_object (bm);
      o->class_id = objs[i].cls;
      o->component_id = objs[i].comp;
      o->tracker_id = objs[i].tid;
      o->rect = (OvaRect) { 10, 10, objs[i].w, objs[i].w };
      ova_frame_meta_add_object (f, o);
    }
    g_assert_cmpint (gst_harness_push (h, in), ==, GST_FLOW_OK);
    GstBuffer *out = gst_harness_pull (h);
    f = ova_batch_meta_get_frame (ova_buffer_get_batch_meta (out), 0);
    g_assert_cmpuint (ova_frame_meta_get_n_objects (f), ==, 4);
    for (guint i = 0; i < 4; i++) {
      OvaObjectMeta *o = ova_frame_meta_get_object (f, i);
      if (i == 0) {
        g_assert_cmpuint (o->classifiers->len, ==, 1);
        OvaClassifierMeta *cm = g_ptr_array_index (o->classifiers, 0);
        g_assert_cmpuint (cm->component_id, ==, 7);
        g_assert_cmpuint (cm->labels->len, ==, 1);
        OvaLabelInfo *li = g_ptr_array_index (cm->labels, 0);
        if (g_strcmp0 (li->label, steps[k].expect))
          g_error ("step %u: expected %s, got %s (p=%f)", k, steps[k].expect, li->label, li->probability);
        g_assert_cmpfloat (li->probability, >, 0.9);
      } else {
        g_assert_cmpuint (o->classifiers ? o->classifiers->len : 0, ==, 0);
      }
    }
    gst_buffer_unref (out);
  }
  gst_harness_teardown (h);
}

/* A secondary detector: boxes found in an object's crop become its children,
 * in source pixels. */
static void
test_secondary_detector (void)
{
  g_autofree gchar *base = detector_config ("process-mode=2\noperate-on-gie-id=9\ngie-unique-id=4");
  gchar *text = NULL;
  g_assert_true (g_file_get_contents (base, &text, NULL, NULL));
  g_autofree gchar *body = g_strconcat (text, "[class-attrs-0]\npre-cluster-threshold=0.5\n", NULL);
  g_free (text);
  g_autofree gchar *cfg = write_config ("secondary-detector.txt", body);
  GstHarness *h = harness_for (cfg, NULL);
  /* 4x4 red at (40,24) inside the object (32,16,32,32): the crop is scaled 2x
   * into the 64x64 input, so the square fills heat-map cell (2,2) */
  Paint red = { { 40, 24, 4, 4 }, { 255, 0, 0 } };
  GstBuffer *in = make_batch (1, 128, 96, 0, &red, 1);
  OvaBatchMeta *bm = ova_buffer_get_batch_meta (in);
  OvaFrameMeta *f = ova_batch_meta_get_frame (bm, 0);
  OvaObjectMeta *car = ova_batch_meta_acquire_object (bm);
  car->component_id = 9;
  car->tracker_id = OVA_UNTRACKED;
  car->rect = (OvaRect) { 32, 16, 32, 32 };
  ova_frame_meta_add_object (f, car);
  OvaObjectMeta *other = ova_batch_meta_acquire_object (bm);
  other->component_id = 1; /* another detector's: ignored */
  other->rect = (OvaRect) { 32, 16, 32, 32 };
  ova_frame_meta_add_object (f, other);
  g_assert_cmpint (gst_harness_push (h, in), ==, GST_FLOW_OK);
  GstBuffer *out = gst_harness_pull (h);
  f = ova_batch_meta_get_frame (ova_buffer_get_batch_meta (out), 0);
  g_assert_cmpuint (ova_frame_meta_get_n_objects (f), ==, 3);
  OvaObjectMeta *child = ova_frame_meta_get_object (f, 2);
  g_assert_true (child->parent == ova_frame_meta_get_object (f, 0));
  g_assert_cmpuint (child->component_id, ==, 4);
  g_assert_cmpint (child->class_id, ==, 0);
  g_assert_cmpfloat_with_epsilon (child->rect.left, 40, 1e-3);
  g_assert_cmpfloat_with_epsilon (child->rect.top, 24, 1e-3);
  g_assert_cmpfloat_with_epsilon (child->rect.width, 4, 1e-3);
  g_assert_cmpfloat_with_epsilon (child->rect.height, 4, 1e-3);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

/* Embeddings: L2-normalised output vector on each object; raw tensors too. */
static void
test_secondary_embedding_and_tensors (void)
{
  g_autofree gchar *body = g_strdup_printf (
      "[property]\n"
      "onnx-file=%s/meancolor.onnx\n"
      "batch-size=2\n"
      "net-scale-factor=1\n"
      "model-color-format=0\n"
      "network-type=100\n"
      "output-embedding=1\n"
      "output-tensor-meta=1\n"
      "process-mode=2\n"
      "gie-unique-id=3\n",
      models);
  g_autofree gchar *cfg = write_config ("embed.txt", body);
  GstHarness *h = harness_for (cfg, NULL);
  Paint p[2] = { { { 0, 0, 40, 40 }, { 30, 40, 0 } }, { { 60, 50, 32, 32 }, { 0, 0, 200 } } };
  GstBuffer *in = make_batch (2, 128, 96, 0, p, 2);
  OvaBatchMeta *bm = ova_buffer_get_batch_meta (in);
  /* three objects over two frames, one batch of 2 plus 1 */
  for (guint fi = 0; fi < 2; fi++) {
    OvaFrameMeta *f = ova_batch_meta_get_frame (bm, fi);
    for (guint j = 0; j < (fi ? 1 : 2); j++) {
      OvaObjectMeta *o = ova_batch_meta_acquire_object (bm);
      o->class_id = 0;
      o->component_id = 1;
      o->tracker_id = OVA_UNTRACKED;
      o->rect = j == 0 ? p[0].rect : p[1].rect;
      ova_frame_meta_add_object (f, o);
    }
  }
  g_assert_cmpint (gst_harness_push (h, in), ==, GST_FLOW_OK);
  GstBuffer *out = gst_harness_pull (h);
  bm = ova_buffer_get_batch_meta (out);
  guint seen = 0;
  for (guint fi = 0; fi < 2; fi++) {
    OvaFrameMeta *f = ova_batch_meta_get_frame (bm, fi);
    for (guint j = 0; j < ova_frame_meta_get_n_objects (f); j++) {
      OvaObjectMeta *o = ova_frame_meta_get_object (f, j);
      const OvaEmbedding *e = ova_user_meta_get_embedding (ova_object_meta_find_user (o, OVA_USER_META_EMBEDDING));
      g_assert_nonnull (e);
      g_assert_cmpuint (e->dim, ==, 3);
      /* the crop is one colour: the embedding is that colour normalised */
      const guint8 *rgb = o->rect.left == 0 ? p[0].rgb : p[1].rgb;
      gdouble n = sqrt ((gdouble) rgb[0] * rgb[0] + rgb[1] * rgb[1] + rgb[2] * rgb[2]);
      for (int c = 0; c < 3; c++)
        g_assert_cmpfloat_with_epsilon (e->data[c], rgb[c] / n, 1e-4);
      OvaUserMeta *um = ova_object_meta_find_user (o, OVA_USER_META_TENSOR);
      g_assert_nonnull (um);
      const OvaTensorMeta *tm = um->payload;
      g_assert_cmpstr (tm->name, ==, "logits");
      g_assert_cmpuint (tm->rank, ==, 2);
      g_assert_cmpint (tm->dims[1], ==, 3);
      g_assert_cmpuint (tm->size, ==, 12);
      g_assert_cmpfloat_with_epsilon (((gfloat *) tm->data)[2], rgb[2], 1e-3);
      seen++;
    }
  }
  g_assert_cmpuint (seen, ==, 3);
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

/* backend=auto on system-memory batches stays on the CPU (with or without a
 * GPU: only CUDA-memory caps move it) and detects as backend=cpu. */
static void
test_backend_auto (void)
{
  g_autofree gchar *cfg = detector_config (NULL);
  GstHarness *h = harness_for (cfg, "backend=auto");
  Paint red = { { 32, 16, 16, 16 }, { 255, 0, 0 } };
  g_assert_cmpint (gst_harness_push (h, make_batch (2, 128, 96, 0, &red, 1)), ==, GST_FLOW_OK);
  GstBuffer *out = gst_harness_pull (h);
  OvaBatchMeta *bm = ova_buffer_get_batch_meta (out);
  for (guint i = 0; i < 2; i++) {
    OvaFrameMeta *f = ova_batch_meta_get_frame (bm, i);
    g_assert_cmpuint (ova_frame_meta_get_n_objects (f), ==, 1);
    OvaObjectMeta *o = ova_frame_meta_get_object (f, 0);
    g_assert_cmpint (o->class_id, ==, 0);
    g_assert_cmpfloat_with_epsilon (o->rect.left, 32, 1e-3);
    g_assert_cmpfloat_with_epsilon (o->rect.width, 16, 1e-3);
  }
  gst_buffer_unref (out);
  gchar *backend = NULL;
  GstElement *e = gst_harness_find_element (h, "ovainfer");
  g_object_get (e, "backend", &backend, NULL);
  g_assert_cmpstr (backend, ==, "auto");
  g_free (backend);
  gst_object_unref (e);
  gst_harness_teardown (h);
}

/* Bad input: a buffer without batch meta, frames in CUDA memory. */
static void
test_errors (void)
{
  g_autofree gchar *cfg = detector_config (NULL);
  GstHarness *h = harness_for (cfg, NULL);
  g_assert_cmpint (gst_harness_push (h, gst_buffer_new_allocate (NULL, 16, NULL)), ==, GST_FLOW_ERROR);
  gst_harness_teardown (h);

  h = harness_for (cfg, NULL);
  Paint red = { { 32, 16, 16, 16 }, { 255, 0, 0 } };
  GstBuffer *in = make_batch (1, 128, 96, 0, &red, 1);
  ova_batch_meta_get_frame (ova_buffer_get_batch_meta (in), 0)->memory_type = OVA_MEMORY_CUDA;
  /* refused on the streaming thread (or, if the worker saw it, on the next push) */
  GstFlowReturn r = gst_harness_push (h, in);
  for (int i = 0; i < 2000 && r == GST_FLOW_OK; i++) {
    g_usleep (1000);
    r = gst_harness_push (h, make_batch (1, 128, 96, 1, &red, 1));
  }
  g_assert_cmpint (r, ==, GST_FLOW_ERROR);
  gst_harness_teardown (h);

  /* a bad config fails the state change with a message naming the key */
  g_autofree gchar *bad = write_config ("bad.txt", "[property]\nbatch-size=-3\n");
  GstElement *e = gst_element_factory_make ("ovainfer", NULL);
  GstBus *bus = gst_bus_new ();
  gst_element_set_bus (e, bus);
  g_object_set (e, "config-file-path", bad, NULL);
  g_assert_cmpint (gst_element_set_state (e, GST_STATE_PAUSED), ==, GST_STATE_CHANGE_FAILURE);
  GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  g_assert_nonnull (m);
  GError *err = NULL;
  gst_message_parse_error (m, &err, NULL);
  g_assert_nonnull (strstr (err->message, "batch-size"));
  g_assert_nonnull (strstr (err->message, "bad.txt"));
  g_error_free (err);
  gst_message_unref (m);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_object_unref (e);
  gst_object_unref (bus);
}

/* Flushing drops what is queued and streaming resumes; state cycling is clean. */
static void
test_flush_and_restart (void)
{
  g_autofree gchar *cfg = detector_config (NULL);
  GstHarness *h = harness_for (cfg, "max-in-flight=4");
  Paint red = { { 32, 16, 16, 16 }, { 255, 0, 0 } };
  for (guint64 k = 0; k < 3; k++)
    gst_harness_push (h, make_batch (2, 128, 96, k, &red, 1));
  g_assert_true (gst_harness_push_event (h, gst_event_new_flush_start ()));
  g_assert_true (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  /* drain whatever made it through before the flush */
  GstBuffer *b;
  while ((b = gst_harness_try_pull (h)))
    gst_buffer_unref (b);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGB,width=128,height=96,framerate=10/1");
  GstSegment seg;
  gst_segment_init (&seg, GST_FORMAT_TIME);
  gst_harness_push_event (h, gst_event_new_segment (&seg));
  g_assert_cmpint (gst_harness_push (h, make_batch (1, 128, 96, 100, &red, 1)), ==, GST_FLOW_OK);
  b = gst_harness_pull (h);
  g_assert_cmpuint (ova_batch_meta_get_frame (ova_buffer_get_batch_meta (b), 0)->frame_num, ==, 100);
  gst_buffer_unref (b);

  /* PLAYING -> READY -> PLAYING keeps working */
  g_assert_cmpint (gst_element_set_state (h->element, GST_STATE_READY), ==, GST_STATE_CHANGE_SUCCESS);
  gst_harness_play (h);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=RGB,width=128,height=96,framerate=10/1");
  g_assert_cmpint (gst_harness_push (h, make_batch (1, 128, 96, 7, &red, 1)), ==, GST_FLOW_OK);
  b = gst_harness_pull (h);
  g_assert_cmpuint (ova_frame_meta_get_n_objects (ova_batch_meta_get_frame (ova_buffer_get_batch_meta (b), 0)), ==, 1);
  gst_buffer_unref (b);
  gst_harness_teardown (h);
}

/* Back-pressure: with max-in-flight=1 and nobody pulling, the worker holds
 * one batch, the queue one more, and the third push blocks until we pull. */
typedef struct {
  GstHarness *h;
  gint pushed;
} PushCtx;

static gpointer
pusher (gpointer data)
{
  PushCtx *c = data;
  Paint red = { { 32, 16, 16, 16 }, { 255, 0, 0 } };
  for (int k = 0; k < 6; k++) {
    gst_harness_push (c->h, make_batch (1, 128, 96, k, &red, 1));
    g_atomic_int_inc (&c->pushed);
  }
  return NULL;
}

static void
test_back_pressure (void)
{
  g_autofree gchar *cfg = detector_config (NULL);
  GstHarness *h = harness_for (cfg, "max-in-flight=1");
  PushCtx c = { h, 0 };
  /* the harness sink queues without limit: hold its pad's stream lock so the
   * worker blocks in push, as behind a slow downstream element */
  GST_PAD_STREAM_LOCK (h->sinkpad);
  GThread *t = g_thread_new ("pusher", pusher, &c);
  g_usleep (G_USEC_PER_SEC / 2);
  gint stuck = g_atomic_int_get (&c.pushed);
  /* one in the worker (blocked pushing), one queued, the third push waits */
  g_assert_cmpint (stuck, <=, 3);
  GST_PAD_STREAM_UNLOCK (h->sinkpad);
  g_thread_join (t);
  g_assert_cmpint (c.pushed, ==, 6);
  for (int k = 0; k < 6; k++) {
    GstBuffer *b = gst_harness_pull (h);
    g_assert_cmpuint (ova_batch_meta_get_frame (ova_buffer_get_batch_meta (b), 0)->frame_num, ==, k);
    gst_buffer_unref (b);
  }
  gst_harness_teardown (h);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  models = g_getenv ("OVA_TEST_MODELS");
  if (!models || !g_getenv ("OVA_EXAMPLE_PARSER")) {
    g_printerr ("OVA_TEST_MODELS / OVA_EXAMPLE_PARSER not set (run through meson test)\n");
    return 77;
  }
  /* skip when this build has no inference engine */
  {
    OvaInferConfig *c = ova_infer_config_new ();
    g_free (c->onnx_file);
    c->onnx_file = g_build_filename (models, "pool8.onnx", NULL);
    c->network_type = OVA_NETWORK_RAW;
    ova_infer_config_finish (c, NULL);
    GError *e = NULL;
    OvaInferContext *x = ova_infer_context_new (c, NULL, &e);
    ova_infer_config_free (c);
    if (!x) {
      g_printerr ("SKIP: no working inference engine: %s\n", e->message);
      g_error_free (e);
      return 77;
    }
    ova_infer_context_free (x);
  }
  tmpdir = g_dir_make_tmp ("ova-infer-XXXXXX", NULL);
  g_autofree gchar *labels = g_build_filename (tmpdir, "labels.txt", NULL);
  g_file_set_contents (labels, "red\ngreen\nblue\n", -1, NULL);
  g_autofree gchar *colors = g_build_filename (tmpdir, "colors.txt", NULL);
  g_file_set_contents (colors, "red;green;blue\n", -1, NULL);
  g_test_add_func ("/ovainfer/primary-detector", test_primary_detector);
  g_test_add_func ("/ovainfer/scaled-frames", test_scaled_frames);
  g_test_add_func ("/ovainfer/interval", test_interval);
  g_test_add_func ("/ovainfer/segmentation", test_segmentation);
  g_test_add_func ("/ovainfer/secondary-classifier-cache", test_secondary_classifier_cache);
  g_test_add_func ("/ovainfer/secondary-detector", test_secondary_detector);
  g_test_add_func ("/ovainfer/secondary-embedding-tensors", test_secondary_embedding_and_tensors);
  g_test_add_func ("/ovainfer/backend-auto", test_backend_auto);
  g_test_add_func ("/ovainfer/errors", test_errors);
  g_test_add_func ("/ovainfer/flush-restart", test_flush_and_restart);
  g_test_add_func ("/ovainfer/back-pressure", test_back_pressure);
  int r = g_test_run ();
  GDir *d = g_dir_open (tmpdir, 0, NULL);
  const gchar *n;
  while ((n = g_dir_read_name (d))) {
    gchar *p = g_build_filename (tmpdir, n, NULL);
    g_unlink (p);
    g_free (p);
  }
  g_dir_close (d);
  g_rmdir (tmpdir);
  g_free (tmpdir);
  return r;
}
