/* ova — GstHarness tests of ovamux and ovademux.
 * SPDX-License-Identifier: MIT */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <gst/check/gsttestclock.h>
#include <gst/video/video.h>
#include <ova/meta.h>
#include <string.h>
#include "mux-test-common.h"

#define FRAME_DUR (GST_SECOND / 25)

/* ------------------------------------------------------------ helpers */

/* A frame of @info filled with @value (every byte), one memory. */
static GstBuffer *
make_frame (const GstVideoInfo *info, guint8 value, guint n)
{
  GstBuffer *b = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (info), NULL);
  gst_buffer_memset (b, 0, value, GST_VIDEO_INFO_SIZE (info));
  GST_BUFFER_PTS (b) = n * FRAME_DUR;
  GST_BUFFER_DURATION (b) = FRAME_DUR;
  return b;
}

static void
info_from_string (GstVideoInfo *info, const gchar *caps_str)
{
  GstCaps *c = gst_caps_from_string (caps_str);
  fail_unless (gst_video_info_from_caps (info, c));
  gst_caps_unref (c);
}

/* A muxer with @n sink pads, each fed by its own harness. hs[0] also owns
 * the src pad. */
static GstElement *
new_mux (GstHarness **hs, guint n, const gchar *const *caps)
{
  GstElement *mux;
  hs[0] = gst_harness_new_with_padnames ("ovamux", "sink_0", "src");
  mux = hs[0]->element;
  for (guint i = 1; i < n; i++) {
    gchar name[16];
    g_snprintf (name, sizeof (name), "sink_%u", i);
    hs[i] = gst_harness_new_with_element (mux, name, NULL);
  }
  for (guint i = 0; i < n; i++)
    gst_harness_set_src_caps_str (hs[i], caps[i]);
  return mux;
}

static void
teardown_all (GstHarness **hs, guint n)
{
  /* Secondary harnesses first: the first one owns the src side. */
  for (guint i = n; i-- > 0;)
    if (hs[i])
      gst_harness_teardown (hs[i]);
}

/* The log of what leaves the muxer, in order: "B:<source ids>" for a batch,
 * "eos:<id>", "add:<id>", "remove:<id>" for stream events, "EOS". */
typedef struct
{
  GMutex lock;
  GPtrArray *items;
} FlowLog;

static GstPadProbeReturn
log_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  FlowLog *log = data;
  gchar *item = NULL;
  guint sid;
  if (GST_PAD_PROBE_INFO_TYPE (info) & GST_PAD_PROBE_TYPE_BUFFER) {
    OvaBatchMeta *b = ova_buffer_get_batch_meta (GST_PAD_PROBE_INFO_BUFFER (info));
    GString *s = g_string_new ("B:");
    for (guint i = 0; b && i < ova_batch_meta_get_n_frames (b); i++)
      g_string_append_printf (s, "%s%u", i ? "," : "", ova_batch_meta_get_frame (b, i)->source_id);
    item = g_string_free (s, FALSE);
  } else {
    GstEvent *ev = GST_PAD_PROBE_INFO_EVENT (info);
    if (ova_event_parse_stream (ev, OVA_EVENT_STREAM_EOS, &sid))
      item = g_strdup_printf ("eos:%u", sid);
    else if (ova_event_parse_stream (ev, OVA_EVENT_STREAM_ADD, &sid))
      item = g_strdup_printf ("add:%u", sid);
    else if (ova_event_parse_stream (ev, OVA_EVENT_STREAM_REMOVE, &sid))
      item = g_strdup_printf ("remove:%u", sid);
    else if (GST_EVENT_TYPE (ev) == GST_EVENT_EOS)
      item = g_strdup ("EOS");
  }
  if (item) {
    g_mutex_lock (&log->lock);
    g_ptr_array_add (log->items, item);
    g_mutex_unlock (&log->lock);
  }
  return GST_PAD_PROBE_OK;
}

static FlowLog *
flow_log_attach (GstElement *mux)
{
  FlowLog *log = g_new0 (FlowLog, 1);
  GstPad *src = gst_element_get_static_pad (mux, "src");
  g_mutex_init (&log->lock);
  log->items = g_ptr_array_new_with_free_func (g_free);
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      log_probe, log, NULL);
  gst_object_unref (src);
  return log;
}

/* The log joined with spaces, without the stream events listed in @skip. */
static gchar *
flow_log_string (FlowLog *log, gboolean with_add)
{
  GString *s = g_string_new ("");
  g_mutex_lock (&log->lock);
  for (guint i = 0; i < log->items->len; i++) {
    const gchar *it = g_ptr_array_index (log->items, i);
    if (!with_add && g_str_has_prefix (it, "add:"))
      continue;
    g_string_append_printf (s, "%s%s", s->len ? " " : "", it);
  }
  g_mutex_unlock (&log->lock);
  return g_string_free (s, FALSE);
}

static void
flow_log_free (FlowLog *log)
{
  g_ptr_array_unref (log->items);
  g_mutex_clear (&log->lock);
  g_free (log);
}

static OvaFrameMeta *
frame_of_source (OvaBatchMeta *b, guint sid)
{
  for (guint i = 0; i < ova_batch_meta_get_n_frames (b); i++)
    if (ova_batch_meta_get_frame (b, i)->source_id == sid)
      return ova_batch_meta_get_frame (b, i);
  return NULL;
}

/* Pull batches from @h until one arrives (events are logged separately). */
static GstBuffer *
pull_batch (GstHarness *h)
{
  GstBuffer *b = gst_harness_pull (h);
  fail_unless (b != NULL, "no batch within the harness' timeout");
  fail_unless (ova_buffer_get_batch_meta (b) != NULL);
  return b;
}

/* ---------------------------------------------------------- full batch */

GST_START_TEST (test_full_batch_zero_copy)
{
  static const gchar *caps[] = {
    "video/x-raw,format=RGBA,width=64,height=48,framerate=25/1",
    "video/x-raw,format=RGBA,width=64,height=48,framerate=25/1",
    "video/x-raw,format=RGBA,width=64,height=48,framerate=25/1",
  };
  GstHarness *hs[3];
  GstVideoInfo vi;

  new_mux (hs, 3, caps);
  info_from_string (&vi, caps[0]);
  for (guint round = 0; round < 5; round++) {
    GstMemory *in_mem[3];
    GstBuffer *out;
    OvaBatchMeta *b;
    for (guint s = 0; s < 3; s++) {
      GstBuffer *in = make_frame (&vi, (guint8) (10 * s + round), round);
      in_mem[s] = gst_buffer_peek_memory (in, 0);
      /* Keep the memory alive so its address cannot be reused. */
      gst_memory_ref (in_mem[s]);
      fail_unless_equals_int (gst_harness_push (hs[s], in), GST_FLOW_OK);
    }
    out = pull_batch (hs[0]);
    b = ova_buffer_get_batch_meta (out);
    fail_unless_equals_int (ova_batch_meta_get_n_frames (b), 3);
    fail_unless_equals_int (b->max_frames, 3);
    fail_unless_equals_int (gst_buffer_n_memory (out), 3);
    fail_unless_equals_uint64 (GST_BUFFER_PTS (out), round * FRAME_DUR);
    fail_unless_equals_uint64 (GST_BUFFER_DURATION (out), FRAME_DUR);
    for (guint s = 0; s < 3; s++) {
      OvaFrameMeta *f = frame_of_source (b, s);
      fail_unless (f != NULL, "source %u missing in round %u", s, round);
      fail_unless_equals_int (f->pad_index, s);
      fail_unless_equals_uint64 (f->frame_num, round);
      fail_unless_equals_uint64 (f->buf_pts, round * FRAME_DUR);
      fail_unless_equals_int (f->source_width, 64);
      fail_unless_equals_int (f->source_height, 48);
      fail_unless_equals_int (GST_VIDEO_INFO_WIDTH (&f->video_info), 64);
      fail_unless_equals_int (GST_VIDEO_INFO_FORMAT (&f->video_info), GST_VIDEO_FORMAT_RGBA);
      fail_unless_equals_int (f->memory_type, OVA_MEMORY_SYSTEM);
      fail_unless_equals_int (f->n_mems, 1);
      fail_unless (f->batch == b);
      fail_unless (ova_batch_meta_get_frame (b, f->batch_index) == f);
      /* Zero copy: the very GstMemory the source pushed. */
      fail_unless (gst_buffer_peek_memory (out, f->mem_index) == in_mem[s],
          "round %u source %u: memory was copied", round, s);
      gst_memory_unref (in_mem[s]);
    }
    gst_buffer_unref (out);
  }
  {
    GstCaps *c = gst_pad_get_current_caps (hs[0]->sinkpad);
    GstStructure *st = gst_caps_get_structure (c, 0);
    gint mbs = 0;
    fail_unless (gst_structure_has_name (st, "video/x-ova-batch"));
    fail_unless (gst_structure_get_int (st, "max-batch-size", &mbs));
    fail_unless_equals_int (mbs, 3);
    gst_caps_unref (c);
  }
  teardown_all (hs, 3);
}
GST_END_TEST;

GST_START_TEST (test_batch_size_limit)
{
  /* batch-size 2 with 3 sources: no batch holds more than 2 frames and no
   * frame is lost or duplicated. */
  static const gchar *caps[] = {
    "video/x-raw,format=GRAY8,width=16,height=16,framerate=25/1",
    "video/x-raw,format=GRAY8,width=16,height=16,framerate=25/1",
    "video/x-raw,format=GRAY8,width=16,height=16,framerate=25/1",
  };
  GstHarness *hs[3];
  GstElement *mux;
  GstVideoInfo vi;
  guint seen[3] = { 0 }, total = 0;

  hs[0] = gst_harness_new_with_padnames ("ovamux", "sink_0", "src");
  mux = hs[0]->element;
  g_object_set (mux, "batch-size", 2, NULL);
  hs[1] = gst_harness_new_with_element (mux, "sink_1", NULL);
  hs[2] = gst_harness_new_with_element (mux, "sink_2", NULL);
  for (guint i = 0; i < 3; i++)
    gst_harness_set_src_caps_str (hs[i], caps[i]);
  info_from_string (&vi, caps[0]);

  for (guint round = 0; round < 4; round++) {
    for (guint s = 0; s < 3; s++)
      fail_unless_equals_int (gst_harness_push (hs[s], make_frame (&vi, s, round)), GST_FLOW_OK);
    while (gst_harness_buffers_in_queue (hs[0]) > 0 || total < (round + 1) * 3 - 2) {
      GstBuffer *out = pull_batch (hs[0]);
      OvaBatchMeta *b = ova_buffer_get_batch_meta (out);
      fail_unless (ova_batch_meta_get_n_frames (b) <= 2);
      fail_unless_equals_int (b->max_frames, 2);
      for (guint i = 0; i < ova_batch_meta_get_n_frames (b); i++) {
        OvaFrameMeta *f = ova_batch_meta_get_frame (b, i);
        fail_unless_equals_uint64 (f->frame_num, seen[f->source_id]);
        seen[f->source_id]++;
        total++;
      }
      gst_buffer_unref (out);
    }
  }
  for (guint s = 0; s < 3; s++)
    gst_harness_push_event (hs[s], gst_event_new_eos ());
  while (total < 12) {
    GstBuffer *out = pull_batch (hs[0]);
    OvaBatchMeta *b = ova_buffer_get_batch_meta (out);
    for (guint i = 0; i < ova_batch_meta_get_n_frames (b); i++) {
      seen[ova_batch_meta_get_frame (b, i)->source_id]++;
      total++;
    }
    gst_buffer_unref (out);
  }
  for (guint s = 0; s < 3; s++)
    fail_unless_equals_int (seen[s], 4);
  teardown_all (hs, 3);
}
GST_END_TEST;

/* ------------------------------------------- mixed sizes, formats, planes */

GST_START_TEST (test_mixed_resolutions_formats)
{
  static const gchar *caps[] = {
    "video/x-raw,format=RGBA,width=320,height=240,framerate=25/1",
    "video/x-raw,format=NV12,width=1280,height=720,framerate=30/1",
    "video/x-raw,format=I420,width=66,height=50,framerate=10/1",
  };
  GstHarness *hs[3];
  GstVideoInfo vi[3];
  GstBuffer *out;
  OvaBatchMeta *b;
  GstMemory *planes[3];

  new_mux (hs, 3, caps);
  for (guint s = 0; s < 3; s++)
    info_from_string (&vi[s], caps[s]);

  for (guint s = 0; s < 2; s++)
    fail_unless_equals_int (gst_harness_push (hs[s], make_frame (&vi[s], 50 + s, 0)), GST_FLOW_OK);
  /* Source 2: an I420 frame with padded strides, one memory per plane and a
   * GstVideoMeta, as some decoders deliver it. */
  {
    GstBuffer *in = gst_buffer_new ();
    gsize offset[4] = { 0, 0, 0, 0 };
    gint stride[4] = { 128, 64, 64, 0 };
    guint heights[3] = { 50, 25, 25 };
    gsize total = 0;
    for (guint p = 0; p < 3; p++) {
      gsize size = (gsize) stride[p] * heights[p];
      GstMemory *m = gst_allocator_alloc (NULL, size, NULL);
      GstMapInfo mi;
      gst_memory_map (m, &mi, GST_MAP_WRITE);
      memset (mi.data, 100 + p, size);
      gst_memory_unmap (m, &mi);
      offset[p] = total;
      total += size;
      planes[p] = m;
      gst_buffer_append_memory (in, gst_memory_ref (m));
    }
    gst_buffer_add_video_meta_full (in, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_FORMAT_I420, 66, 50, 3,
        offset, stride);
    GST_BUFFER_PTS (in) = 0;
    GST_BUFFER_DURATION (in) = GST_SECOND / 10;
    fail_unless_equals_int (gst_harness_push (hs[2], in), GST_FLOW_OK);
  }

  out = pull_batch (hs[0]);
  b = ova_buffer_get_batch_meta (out);
  fail_unless_equals_int (ova_batch_meta_get_n_frames (b), 3);
  fail_unless_equals_int (gst_buffer_n_memory (out), 5);
  for (guint s = 0; s < 3; s++) {
    OvaFrameMeta *f = frame_of_source (b, s);
    OvaMappedFrame m;
    fail_unless (f != NULL);
    fail_unless_equals_int (GST_VIDEO_INFO_FORMAT (&f->video_info), GST_VIDEO_INFO_FORMAT (&vi[s]));
    fail_unless_equals_int (GST_VIDEO_INFO_WIDTH (&f->video_info), GST_VIDEO_INFO_WIDTH (&vi[s]));
    fail_unless_equals_int (GST_VIDEO_INFO_HEIGHT (&f->video_info), GST_VIDEO_INFO_HEIGHT (&vi[s]));
    fail_unless_equals_int (f->source_width, GST_VIDEO_INFO_WIDTH (&vi[s]));
    fail_unless_equals_int (f->source_height, GST_VIDEO_INFO_HEIGHT (&vi[s]));
    fail_unless (ova_frame_meta_map (out, f, &m, GST_MAP_READ));
    if (s < 2) {
      fail_unless_equals_int (f->n_mems, 1);
      fail_unless_equals_int (m.data[0][0], 50 + s);
      fail_unless_equals_int (m.stride[0], GST_VIDEO_INFO_PLANE_STRIDE (&vi[s], 0));
    } else {
      /* The layout comes from the GstVideoMeta, the memories are the planes. */
      fail_unless_equals_int (f->n_mems, 3);
      for (guint p = 0; p < 3; p++) {
        fail_unless (gst_buffer_peek_memory (out, f->mem_index + p) == planes[p]);
        fail_unless_equals_int (m.stride[p], p == 0 ? 128 : 64);
        fail_unless_equals_int (m.data[p][0], 100 + p);
        /* last pixel of the last row of the plane */
        fail_unless_equals_int (m.data[p][(gsize) m.stride[p] * ((p ? 25 : 50) - 1) + (p ? 32 : 65)], 100 + p);
      }
    }
    ova_mapped_frame_unmap (&m);
  }
  gst_buffer_unref (out);
  for (guint p = 0; p < 3; p++)
    gst_memory_unref (planes[p]);

  /* Caps change on one source mid-stream (a resolution switch). */
  gst_harness_set_src_caps_str (hs[0], "video/x-raw,format=RGBA,width=32,height=16,framerate=25/1");
  info_from_string (&vi[0], "video/x-raw,format=RGBA,width=32,height=16,framerate=25/1");
  for (guint s = 0; s < 2; s++)
    fail_unless_equals_int (gst_harness_push (hs[s], make_frame (&vi[s], 60 + s, 1)), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_push (hs[2], make_frame (&vi[2], 62, 1)), GST_FLOW_OK);
  out = pull_batch (hs[0]);
  b = ova_buffer_get_batch_meta (out);
  fail_unless_equals_int (frame_of_source (b, 0)->source_width, 32);
  fail_unless_equals_int (GST_VIDEO_INFO_HEIGHT (&frame_of_source (b, 0)->video_info), 16);
  fail_unless_equals_int (frame_of_source (b, 1)->source_width, 1280);
  gst_buffer_unref (out);
  teardown_all (hs, 3);
}
GST_END_TEST;

GST_START_TEST (test_scaling)
{
  static const gchar *caps[] = {
    "video/x-raw,format=RGBA,width=320,height=240,framerate=25/1",
    "video/x-raw,format=RGBA,width=160,height=120,framerate=25/1",
    "video/x-raw,format=NV12,width=64,height=48,framerate=25/1",
  };
  GstHarness *hs[3];
  GstElement *mux;
  GstVideoInfo vi[3];
  GstBuffer *out;
  OvaBatchMeta *b;
  GstMemory *same_size_mem;

  hs[0] = gst_harness_new_with_padnames ("ovamux", "sink_0", "src");
  mux = hs[0]->element;
  g_object_set (mux, "width", 160, "height", 120, NULL);
  hs[1] = gst_harness_new_with_element (mux, "sink_1", NULL);
  hs[2] = gst_harness_new_with_element (mux, "sink_2", NULL);
  for (guint s = 0; s < 3; s++) {
    gst_harness_set_src_caps_str (hs[s], caps[s]);
    info_from_string (&vi[s], caps[s]);
  }
  fail_unless_equals_int (gst_harness_push (hs[0], make_frame (&vi[0], 77, 0)), GST_FLOW_OK);
  {
    GstBuffer *in = make_frame (&vi[1], 88, 0);
    same_size_mem = gst_memory_ref (gst_buffer_peek_memory (in, 0));
    fail_unless_equals_int (gst_harness_push (hs[1], in), GST_FLOW_OK);
  }
  {
    /* NV12: Y plane 16, UV plane 128 (a uniform grey-ish colour). */
    GstBuffer *in = make_frame (&vi[2], 128, 0);
    gst_buffer_memset (in, 0, 16, GST_VIDEO_INFO_PLANE_OFFSET (&vi[2], 1));
    fail_unless_equals_int (gst_harness_push (hs[2], in), GST_FLOW_OK);
  }
  out = pull_batch (hs[0]);
  b = ova_buffer_get_batch_meta (out);
  fail_unless_equals_int (ova_batch_meta_get_n_frames (b), 3);
  for (guint s = 0; s < 3; s++) {
    OvaFrameMeta *f = frame_of_source (b, s);
    OvaMappedFrame m;
    fail_unless_equals_int (GST_VIDEO_INFO_WIDTH (&f->video_info), 160);
    fail_unless_equals_int (GST_VIDEO_INFO_HEIGHT (&f->video_info), 120);
    fail_unless_equals_int (GST_VIDEO_INFO_FORMAT (&f->video_info), GST_VIDEO_INFO_FORMAT (&vi[s]));
    /* Boxes stay in source pixels: the source size is kept. */
    fail_unless_equals_int (f->source_width, GST_VIDEO_INFO_WIDTH (&vi[s]));
    fail_unless_equals_int (f->source_height, GST_VIDEO_INFO_HEIGHT (&vi[s]));
    fail_unless (ova_frame_meta_map (out, f, &m, GST_MAP_READ));
    if (s < 2) {
      /* A uniform frame scales to the same uniform colour. */
      for (guint y = 0; y < 120; y += 17)
        for (guint x = 0; x < 160 * 4; x += 13)
          fail_unless_equals_int (m.data[0][y * m.stride[0] + x], s == 0 ? 77 : 88);
    } else {
      fail_unless_equals_int (m.data[0][0], 16);
      fail_unless_equals_int (m.data[0][119 * m.stride[0] + 159], 16);
      fail_unless_equals_int (m.data[1][0], 128);
    }
    ova_mapped_frame_unmap (&m);
  }
  /* A source already at the target size is not copied. */
  fail_unless (gst_buffer_peek_memory (out, frame_of_source (b, 1)->mem_index) == same_size_mem);
  gst_memory_unref (same_size_mem);
  gst_buffer_unref (out);
  teardown_all (hs, 3);
}
GST_END_TEST;

/* Input buffers go back to their pool intact (same memory, reused) once the
 * batch - and every ovademux output made from it - is gone. */
static GQuark mark_quark;

static GstBufferPool *
one_buffer_pool (gsize size)
{
  GstBufferPool *pool = gst_buffer_pool_new ();
  GstStructure *cfg = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (cfg, NULL, size, 1, 1);
  fail_unless (gst_buffer_pool_set_config (pool, cfg));
  fail_unless (gst_buffer_pool_set_active (pool, TRUE));
  return pool;
}

static GstBuffer *
try_acquire (GstBufferPool *pool)
{
  GstBuffer *b = NULL;
  GstBufferPoolAcquireParams params = { 0 };
  params.flags = GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT;
  if (gst_buffer_pool_acquire_buffer (pool, &b, &params) != GST_FLOW_OK)
    return NULL;
  return b;
}

GST_START_TEST (test_upstream_pool_reuse)
{
  static const gchar *caps[] = { "video/x-raw,format=GRAY8,width=16,height=16,framerate=25/1" };
  GstHarness *hs[1];
  GstHarness *d = gst_harness_new_with_padnames ("ovademux", "sink", "src_0");
  GstBufferPool *pool = one_buffer_pool (256);
  GstBuffer *in, *batch, *frame;

  mark_quark = g_quark_from_static_string ("test-mark");
  new_mux (hs, 1, caps);
  gst_harness_set_src_caps_str (d, "video/x-ova-batch,max-batch-size=1");
  for (guint round = 0; round < 3; round++) {
    in = try_acquire (pool);
    fail_unless (in != NULL, "round %u: the pool did not get its buffer back", round);
    if (round == 0)
      gst_mini_object_set_qdata (GST_MINI_OBJECT (gst_buffer_peek_memory (in, 0)), mark_quark,
          GINT_TO_POINTER (1), NULL);
    else
      fail_unless (gst_mini_object_get_qdata (GST_MINI_OBJECT (gst_buffer_peek_memory (in, 0)),
              mark_quark) != NULL, "round %u: the pool's buffer was thrown away and re-allocated", round);
    GST_BUFFER_PTS (in) = round * FRAME_DUR;
    fail_unless_equals_int (gst_harness_push (hs[0], in), GST_FLOW_OK);
    batch = pull_batch (hs[0]);
    /* The batch holds the frame: the pool is empty. */
    fail_unless (try_acquire (pool) == NULL);
    /* Nobody else has the frame: drawing into it happens in place, no copy. */
    {
      OvaBatchMeta *b = ova_buffer_get_batch_meta (batch);
      OvaFrameMeta *f = ova_batch_meta_get_frame (b, 0);
      GstMemory *before = gst_buffer_peek_memory (batch, f->mem_index);
      OvaMappedFrame m;
      fail_unless (gst_buffer_is_writable (batch));
      fail_unless (ova_frame_meta_map (batch, f, &m, GST_MAP_READWRITE));
      m.data[0][0] = (guint8) (100 + round);
      ova_mapped_frame_unmap (&m);
      fail_unless (gst_buffer_peek_memory (batch, f->mem_index) == before, "the frame was copied to draw");
      fail_unless (gst_mini_object_get_qdata (GST_MINI_OBJECT (before), mark_quark) != NULL);
    }
    /* Through ovademux: the output frame holds it in turn. */
    fail_unless_equals_int (gst_harness_push (d, batch), GST_FLOW_OK);
    frame = gst_harness_pull (d);
    fail_unless (frame != NULL);
    fail_unless (try_acquire (pool) == NULL);
    gst_buffer_unref (frame);
  }
  gst_harness_teardown (d);
  teardown_all (hs, 1);
  gst_buffer_pool_set_active (pool, FALSE);
  gst_object_unref (pool);
}
GST_END_TEST;

GST_START_TEST (test_more_than_16_memories)
{
  /* A GstBuffer holds at most 16 memories (more would be merged: copied).
   * 18 sources: 16 frames in the batch buffer, 2 in their own buffers, none
   * copied, all mappable, and ovademux finds them all. */
  enum { N = 18 };
  gchar *caps[N];
  GstHarness *hs[N];
  GstMemory *in_mem[N];
  GstVideoInfo vi;
  GstBuffer *out;
  OvaBatchMeta *b;
  guint in_batch = 0, own = 0;

  for (guint i = 0; i < N; i++)
    caps[i] = g_strdup ("video/x-raw,format=GRAY8,width=16,height=16,framerate=25/1");
  new_mux (hs, N, (const gchar * const *) caps);
  info_from_string (&vi, caps[0]);
  for (guint i = 0; i < N; i++) {
    GstBuffer *in = make_frame (&vi, (guint8) (i + 1), 0);
    in_mem[i] = gst_memory_ref (gst_buffer_peek_memory (in, 0));
    fail_unless_equals_int (gst_harness_push (hs[i], in), GST_FLOW_OK);
  }
  out = pull_batch (hs[0]);
  b = ova_buffer_get_batch_meta (out);
  fail_unless_equals_int (ova_batch_meta_get_n_frames (b), N);
  fail_unless (gst_buffer_n_memory (out) <= gst_buffer_get_max_memory ());
  for (guint i = 0; i < N; i++) {
    OvaFrameMeta *f = frame_of_source (b, i);
    OvaMappedFrame m;
    fail_unless (f != NULL);
    if (f->buffer)
      own++;
    else
      in_batch++;
    fail_unless (ova_frame_meta_peek_memory (out, f, 0) == in_mem[i], "source %u: memory copied", i);
    fail_unless (ova_frame_meta_map (out, f, &m, GST_MAP_READ));
    fail_unless_equals_int (m.data[0][0], i + 1);
    fail_unless_equals_int (m.data[0][16 * 16 - 1], i + 1);
    ova_mapped_frame_unmap (&m);
  }
  fail_unless_equals_int (in_batch, 16);
  fail_unless_equals_int (own, 2);

  /* ovademux finds the pixels wherever they are. */
  {
    GstHarness *d = gst_harness_new_with_padnames ("ovademux", "sink", "src_17");
    GstBuffer *o;
    OvaMappedFrame m;
    gst_harness_set_src_caps_str (d, "video/x-ova-batch,max-batch-size=18");
    fail_unless_equals_int (gst_harness_push (d, out), GST_FLOW_OK);
    o = gst_harness_pull (d);
    fail_unless (gst_buffer_peek_memory (o, 0) == in_mem[17]);
    fail_unless (ova_frame_meta_map (o, ova_batch_meta_get_frame (ova_buffer_get_batch_meta (o), 0), &m,
            GST_MAP_READ));
    fail_unless_equals_int (m.data[0][0], 18);
    ova_mapped_frame_unmap (&m);
    gst_buffer_unref (o);
    gst_harness_teardown (d);
  }
  for (guint i = 0; i < N; i++) {
    gst_memory_unref (in_mem[i]);
    g_free (caps[i]);
  }
  teardown_all (hs, N);
}
GST_END_TEST;

/* ------------------------------------------------------- per-source EOS */

GST_START_TEST (test_per_source_eos)
{
  static const gchar *caps[] = {
    "video/x-raw,format=GRAY8,width=16,height=16,framerate=25/1",
    "video/x-raw,format=GRAY8,width=16,height=16,framerate=25/1",
    "video/x-raw,format=GRAY8,width=16,height=16,framerate=25/1",
  };
  GstHarness *hs[3];
  GstElement *mux = new_mux (hs, 3, caps);
  FlowLog *log = flow_log_attach (mux);
  GstVideoInfo vi;
  gchar *s;
  GstEvent *ev;

  info_from_string (&vi, caps[0]);
  for (guint round = 0; round < 2; round++) {
    for (guint i = 0; i < 3; i++)
      gst_harness_push (hs[i], make_frame (&vi, i, round));
    gst_buffer_unref (pull_batch (hs[0]));
  }
  /* Source 1 ends; 0 and 2 go on. */
  gst_harness_push_event (hs[1], gst_event_new_eos ());
  for (guint round = 2; round < 5; round++) {
    OvaBatchMeta *b;
    GstBuffer *out;
    gst_harness_push (hs[0], make_frame (&vi, 0, round));
    gst_harness_push (hs[2], make_frame (&vi, 2, round));
    out = pull_batch (hs[0]);
    b = ova_buffer_get_batch_meta (out);
    fail_unless_equals_int (ova_batch_meta_get_n_frames (b), 2);
    fail_unless (frame_of_source (b, 1) == NULL);
    fail_unless_equals_uint64 (frame_of_source (b, 2)->frame_num, round);
    gst_buffer_unref (out);
  }
  gst_harness_push_event (hs[0], gst_event_new_eos ());
  gst_harness_push (hs[2], make_frame (&vi, 2, 5));
  gst_buffer_unref (pull_batch (hs[0]));
  gst_harness_push_event (hs[2], gst_event_new_eos ());

  /* Wait for the final EOS. */
  while ((ev = gst_harness_pull_event (hs[0]))) {
    gboolean eos = GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_event_unref (ev);
    if (eos)
      break;
  }
  s = flow_log_string (log, FALSE);
  /* Each stream EOS follows the batch with that source's last frame and
   * comes before the next batch; the real EOS is last. */
  fail_unless_equals_string (s,
      "B:0,1,2 B:1,2,0 eos:1 B:2,0 B:0,2 B:2,0 eos:0 B:2 eos:2 EOS");
  g_free (s);
  teardown_all (hs, 3);
  flow_log_free (log);
}
GST_END_TEST;

/* --------------------------------------------- pads while PLAYING */

typedef struct
{
  GstHarness *h;
  GstElement *mux;
} ReleaseArgs;

GST_START_TEST (test_release_pad_while_playing)
{
  static const gchar *caps[] = {
    "video/x-raw,format=GRAY8,width=16,height=16,framerate=25/1",
    "video/x-raw,format=GRAY8,width=16,height=16,framerate=25/1",
    "video/x-raw,format=GRAY8,width=16,height=16,framerate=25/1",
  };
  GstHarness *hs[4] = { NULL };
  GstElement *mux = new_mux (hs, 3, caps);
  FlowLog *log = flow_log_attach (mux);
  GstVideoInfo vi;
  gchar *s;

  info_from_string (&vi, caps[0]);
  fail_unless_equals_int (GST_STATE (mux), GST_STATE_PLAYING);
  /* A pad requested and released before any frame (gst-launch-1.0 probing
   * links) is never announced. */
  {
    GstPad *probe = gst_element_request_pad_simple (mux, "sink_9");
    fail_unless (probe != NULL);
    gst_element_release_request_pad (mux, probe);
    gst_object_unref (probe);
  }
  for (guint i = 0; i < 3; i++)
    gst_harness_push (hs[i], make_frame (&vi, i, 0));
  gst_buffer_unref (pull_batch (hs[0]));

  /* Sources 0 and 2 deliver; the muxer waits for source 1, which goes away
   * without EOS (a camera unplugged): the batch must go out without it. */
  gst_harness_push (hs[0], make_frame (&vi, 0, 1));
  gst_harness_push (hs[2], make_frame (&vi, 2, 1));
  g_usleep (20 * 1000);
  fail_unless_equals_int (gst_harness_buffers_in_queue (hs[0]), 0);
  gst_harness_teardown (hs[1]);
  hs[1] = NULL;
  {
    GstBuffer *out = pull_batch (hs[0]);
    OvaBatchMeta *b = ova_buffer_get_batch_meta (out);
    fail_unless_equals_int (ova_batch_meta_get_n_frames (b), 2);
    gst_buffer_unref (out);
  }
  fail_unless (gst_element_get_static_pad (mux, "sink_1") == NULL);

  for (guint round = 2; round < 4; round++) {
    gst_harness_push (hs[0], make_frame (&vi, 0, round));
    gst_harness_push (hs[2], make_frame (&vi, 2, round));
    gst_buffer_unref (pull_batch (hs[0]));
  }

  /* A new source joins while PLAYING. */
  hs[3] = gst_harness_new_with_element (mux, "sink_3", NULL);
  gst_harness_set_src_caps_str (hs[3], "video/x-raw,format=GRAY8,width=8,height=8,framerate=25/1");
  {
    GstVideoInfo v8;
    GstBuffer *out;
    OvaBatchMeta *b;
    info_from_string (&v8, "video/x-raw,format=GRAY8,width=8,height=8,framerate=25/1");
    gst_harness_push (hs[0], make_frame (&vi, 0, 4));
    gst_harness_push (hs[2], make_frame (&vi, 2, 4));
    gst_harness_push (hs[3], make_frame (&v8, 3, 4));
    out = pull_batch (hs[0]);
    b = ova_buffer_get_batch_meta (out);
    fail_unless_equals_int (ova_batch_meta_get_n_frames (b), 3);
    fail_unless (frame_of_source (b, 3) != NULL);
    fail_unless_equals_uint64 (frame_of_source (b, 3)->frame_num, 0);
    fail_unless_equals_int (frame_of_source (b, 3)->source_width, 8);
    gst_buffer_unref (out);
  }
  /* Release a pad that still holds a queued frame: the frame is dropped with
   * the pad, nothing leaks, the others go on. */
  gst_harness_push (hs[3], make_frame (&vi, 3, 5));
  gst_harness_teardown (hs[3]);
  hs[3] = NULL;
  gst_harness_push (hs[0], make_frame (&vi, 0, 5));
  gst_harness_push (hs[2], make_frame (&vi, 2, 5));
  {
    GstBuffer *out = pull_batch (hs[0]);
    OvaBatchMeta *b = ova_buffer_get_batch_meta (out);
    /* Either the frame of source 3 made it before the release or not; the
     * others must be there. */
    fail_unless (frame_of_source (b, 0) && frame_of_source (b, 2));
    gst_buffer_unref (out);
  }
  s = flow_log_string (log, TRUE);
  GST_INFO ("flow: %s", s);
  fail_unless (strstr (s, "remove:1") != NULL, "no ova-stream-remove for source 1 in: %s", s);
  fail_unless (strstr (s, "add:3") != NULL, "no ova-stream-add for source 3 in: %s", s);
  fail_unless (strstr (s, "remove:3") != NULL, "no ova-stream-remove for source 3 in: %s", s);
  fail_unless (strstr (s, ":9") == NULL, "source 9 was announced: %s", s);
  /* Announcements follow the batch that opens the stream, before any other. */
  fail_unless (g_str_has_prefix (s, "B:0,1,2 add:0 add:1 add:2 "), "flow: %s", s);
  g_free (s);
  teardown_all (hs, 4);
  flow_log_free (log);
}
GST_END_TEST;

/* ------------------------------------------------------------ live */

GST_START_TEST (test_timeout_partial_batch)
{
  static const gchar *caps[] = {
    "video/x-raw,format=GRAY8,width=16,height=16,framerate=25/1",
    "video/x-raw,format=GRAY8,width=16,height=16,framerate=25/1",
    "video/x-raw,format=GRAY8,width=16,height=16,framerate=25/1",
  };
  GstHarness *hs[3];
  GstElement *mux;
  GstVideoInfo vi;
  GstTestClock *clock;

  hs[0] = gst_harness_new_with_padnames ("ovamux", "sink_0", "src");
  mux = hs[0]->element;
  gst_harness_use_testclock (hs[0]);
  hs[1] = gst_harness_new_with_element (mux, "sink_1", NULL);
  hs[2] = gst_harness_new_with_element (mux, "sink_2", NULL);
  for (guint i = 0; i < 3; i++)
    gst_harness_set_src_caps_str (hs[i], caps[i]);
  info_from_string (&vi, caps[0]);
  clock = gst_harness_get_testclock (hs[0]);

  fail_unless_equals_int (gst_harness_push (hs[0], make_frame (&vi, 0, 0)), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_push (hs[1], make_frame (&vi, 1, 0)), GST_FLOW_OK);
  /* Source 2 is silent. Nothing goes out before the deadline... */
  gst_test_clock_wait_for_next_pending_id (clock, NULL);
  fail_unless_equals_int (gst_harness_buffers_in_queue (hs[0]), 0);
  /* ...and at the deadline a partial batch does. */
  fail_unless (gst_harness_crank_single_clock_wait (hs[0]));
  {
    GstBuffer *out = pull_batch (hs[0]);
    OvaBatchMeta *b = ova_buffer_get_batch_meta (out);
    fail_unless_equals_int (ova_batch_meta_get_n_frames (b), 2);
    fail_unless (frame_of_source (b, 0) && frame_of_source (b, 1));
    fail_unless (frame_of_source (b, 2) == NULL);
    /* The deadline is the frame time plus batched-push-timeout (40 ms). */
    fail_unless_equals_uint64 (gst_clock_get_time (GST_CLOCK (clock)), 40 * GST_MSECOND);
    gst_buffer_unref (out);
  }
  /* When all three deliver, the batch is complete without waiting. */
  for (guint i = 0; i < 3; i++)
    fail_unless_equals_int (gst_harness_push (hs[i], make_frame (&vi, i, 1)), GST_FLOW_OK);
  {
    GstBuffer *out = pull_batch (hs[0]);
    OvaBatchMeta *b = ova_buffer_get_batch_meta (out);
    fail_unless_equals_int (ova_batch_meta_get_n_frames (b), 3);
    fail_unless_equals_uint64 (frame_of_source (b, 2)->frame_num, 0);
    gst_buffer_unref (out);
  }
  gst_object_unref (clock);
  teardown_all (hs, 3);
}
GST_END_TEST;

GST_START_TEST (test_latency_query)
{
  static const gchar *caps[] = {
    "video/x-raw,format=GRAY8,width=16,height=16,framerate=25/1",
    "video/x-raw,format=GRAY8,width=16,height=16,framerate=25/1",
  };
  GstHarness *hs[2];
  GstElement *mux;
  GstQuery *q;
  gboolean live;
  GstClockTime min, max;

  hs[0] = gst_harness_new_with_padnames ("ovamux", "sink_0", "src");
  mux = hs[0]->element;
  hs[1] = gst_harness_new_with_element (mux, "sink_1", NULL);
  for (guint i = 0; i < 2; i++)
    gst_harness_set_src_caps_str (hs[i], caps[i]);
  /* Cameras: 10 ms and 30 ms of upstream latency. */
  gst_harness_set_upstream_latency (hs[0], 10 * GST_MSECOND);
  gst_harness_set_upstream_latency (hs[1], 30 * GST_MSECOND);
  g_object_set (mux, "batched-push-timeout", 25000, NULL);

  q = gst_query_new_latency ();
  fail_unless (gst_pad_peer_query (hs[0]->sinkpad, q));
  gst_query_parse_latency (q, &live, &min, &max);
  GST_INFO ("live %d min %" GST_TIME_FORMAT " max %" GST_TIME_FORMAT, live, GST_TIME_ARGS (min),
      GST_TIME_ARGS (max));
  fail_unless (live);
  /* The slowest source plus the time the muxer may wait for it. */
  fail_unless_equals_uint64 (min, 30 * GST_MSECOND + 25 * GST_MSECOND);
  fail_unless (max == GST_CLOCK_TIME_NONE || max >= min);
  gst_query_unref (q);

  g_object_set (mux, "batched-push-timeout", 100000, NULL);
  q = gst_query_new_latency ();
  fail_unless (gst_pad_peer_query (hs[0]->sinkpad, q));
  gst_query_parse_latency (q, &live, &min, &max);
  fail_unless (live);
  fail_unless_equals_uint64 (min, 30 * GST_MSECOND + 100 * GST_MSECOND);
  gst_query_unref (q);
  teardown_all (hs, 2);
}
GST_END_TEST;

/* Sources that do not report themselves live (harness set non-live): the
 * muxer batches on a deadline only with live-source=true. */
static GstElement *
new_mux_configured (GstHarness **hs, guint n, const gchar *caps, gboolean live_upstream,
    const gchar *first_prop, ...)
{
  GstElement *mux = gst_element_factory_make ("ovamux", NULL);
  va_list ap;
  va_start (ap, first_prop);
  if (first_prop)
    g_object_set_valist (G_OBJECT (mux), first_prop, ap);
  va_end (ap);
  hs[0] = gst_harness_new_with_element (mux, "sink_0", "src");
  gst_object_unref (mux);
  gst_harness_use_testclock (hs[0]);
  for (guint i = 1; i < n; i++) {
    gchar name[16];
    g_snprintf (name, sizeof (name), "sink_%u", i);
    hs[i] = gst_harness_new_with_element (mux, name, NULL);
  }
  for (guint i = 0; i < n; i++) {
    gst_harness_set_live (hs[i], live_upstream);
    gst_harness_set_src_caps_str (hs[i], caps);
  }
  return mux;
}

#define GRAY16 "video/x-raw,format=GRAY8,width=16,height=16,framerate=25/1"

GST_START_TEST (test_live_source_property)
{
  GstHarness *hs[3];
  GstElement *mux = new_mux_configured (hs, 3, GRAY16, FALSE,
      "live-source", TRUE, "batched-push-timeout", 30000, NULL);
  GstTestClock *clock = gst_harness_get_testclock (hs[0]);
  GstVideoInfo vi;
  GstQuery *q;
  gboolean live, flag;
  GstClockTime min, max;

  info_from_string (&vi, GRAY16);
  g_object_get (mux, "live-source", &flag, NULL);
  fail_unless (flag);

  /* Answered as live although no source is: the muxer is the live edge. */
  q = gst_query_new_latency ();
  fail_unless (gst_pad_peer_query (hs[0]->sinkpad, q));
  gst_query_parse_latency (q, &live, &min, &max);
  fail_unless (live);
  fail_unless_equals_uint64 (min, 30 * GST_MSECOND);
  gst_query_unref (q);

  /* All three deliver once... */
  for (guint i = 0; i < 3; i++)
    fail_unless_equals_int (gst_harness_push (hs[i], make_frame (&vi, i, 0)), GST_FLOW_OK);
  {
    GstBuffer *out = pull_batch (hs[0]);
    fail_unless_equals_int (ova_batch_meta_get_n_frames (ova_buffer_get_batch_meta (out)), 3);
    gst_buffer_unref (out);
  }
  /* ...then source 1 stalls: after the timeout the others go out. */
  fail_unless_equals_int (gst_harness_push (hs[0], make_frame (&vi, 0, 1)), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_push (hs[2], make_frame (&vi, 2, 1)), GST_FLOW_OK);
  gst_test_clock_wait_for_next_pending_id (clock, NULL);
  fail_unless_equals_int (gst_harness_buffers_in_queue (hs[0]), 0);
  fail_unless (gst_harness_crank_single_clock_wait (hs[0]));
  {
    GstBuffer *out = pull_batch (hs[0]);
    OvaBatchMeta *b = ova_buffer_get_batch_meta (out);
    fail_unless_equals_int (ova_batch_meta_get_n_frames (b), 2);
    fail_unless (frame_of_source (b, 1) == NULL);
    /* frame 1 is at 40 ms; the deadline 30 ms after it */
    fail_unless_equals_uint64 (gst_clock_get_time (GST_CLOCK (clock)), 70 * GST_MSECOND);
    gst_buffer_unref (out);
  }
  gst_object_unref (clock);
  teardown_all (hs, 3);
}
GST_END_TEST;

GST_START_TEST (test_behind_source_catches_up)
{
  /* Source 0 misses the deadline of frame 1 and delivers it late. Its frame
   * goes out at once, alone, and the next batch holds the frames of one
   * instant again. (Before, it waited for the next instant's frames and
   * source 0 stayed a frame behind for good, each of its frames waiting a
   * frame interval more.) */
  GstHarness *hs[3];
  GstElement *mux = new_mux_configured (hs, 3, GRAY16, FALSE,
      "live-source", TRUE, "batched-push-timeout", 20000, NULL);
  GstTestClock *clock = gst_harness_get_testclock (hs[0]);
  GstVideoInfo vi;
  GstBuffer *out;
  OvaBatchMeta *b;

  (void) mux;
  ova_latency_set_enabled (TRUE);
  info_from_string (&vi, GRAY16);
  for (guint i = 0; i < 3; i++)
    fail_unless_equals_int (gst_harness_push (hs[i], make_frame (&vi, i, 0)), GST_FLOW_OK);
  out = pull_batch (hs[0]);
  fail_unless_equals_int (ova_batch_meta_get_n_frames (ova_buffer_get_batch_meta (out)), 3);
  gst_buffer_unref (out);

  /* Frame 1 (40 ms): sources 1 and 2 on time, a partial batch at the deadline. */
  gst_test_clock_set_time (clock, 40 * GST_MSECOND);
  fail_unless_equals_int (gst_harness_push (hs[1], make_frame (&vi, 1, 1)), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_push (hs[2], make_frame (&vi, 2, 1)), GST_FLOW_OK);
  gst_test_clock_wait_for_next_pending_id (clock, NULL);
  fail_unless (gst_harness_crank_single_clock_wait (hs[0]));
  out = pull_batch (hs[0]);
  b = ova_buffer_get_batch_meta (out);
  fail_unless_equals_int (ova_batch_meta_get_n_frames (b), 2);
  fail_unless (frame_of_source (b, 0) == NULL);
  gst_buffer_unref (out);

  /* Source 0's frame 1 comes late: out without waiting for anything (the
   * test clock lets even a wait for now go only when cranked). */
  fail_unless_equals_int (gst_harness_push (hs[0], make_frame (&vi, 0, 1)), GST_FLOW_OK);
  {
    GstClockID id;
    gst_test_clock_wait_for_next_pending_id (clock, &id);
    fail_unless_equals_uint64 (gst_clock_id_get_time (id), gst_clock_get_time (GST_CLOCK (clock)));
    gst_clock_id_unref (id);
  }
  fail_unless (gst_harness_crank_single_clock_wait (hs[0]));
  out = pull_batch (hs[0]);
  b = ova_buffer_get_batch_meta (out);
  fail_unless_equals_int (ova_batch_meta_get_n_frames (b), 1);
  fail_unless_equals_uint64 (frame_of_source (b, 0)->buf_pts, 1 * FRAME_DUR);
  {
    /* its latency record: arrival to push, far less than a frame interval */
    const OvaLatencyEntry *e = &frame_of_source (b, 0)->latency.entries[0];
    fail_unless (frame_of_source (b, 0)->latency.n_entries >= 1);
    fail_unless (e->out_ns >= e->in_ns);
    fail_unless (e->out_ns - e->in_ns < FRAME_DUR / 2, "ovamux latency %" G_GUINT64_FORMAT " ns",
        e->out_ns - e->in_ns);
  }
  gst_buffer_unref (out);

  /* Frame 2 (80 ms): one batch of the three frames of that instant. */
  gst_test_clock_set_time (clock, 80 * GST_MSECOND);
  for (guint i = 0; i < 3; i++)
    fail_unless_equals_int (gst_harness_push (hs[i], make_frame (&vi, i, 2)), GST_FLOW_OK);
  out = pull_batch (hs[0]);
  b = ova_buffer_get_batch_meta (out);
  fail_unless_equals_int (ova_batch_meta_get_n_frames (b), 3);
  for (guint i = 0; i < 3; i++)
    fail_unless_equals_uint64 (frame_of_source (b, i)->buf_pts, 2 * FRAME_DUR);
  gst_buffer_unref (out);
  fail_unless_equals_int (gst_harness_buffers_in_queue (hs[0]), 0);

  ova_latency_set_enabled (FALSE);
  gst_object_unref (clock);
  teardown_all (hs, 3);
}
GST_END_TEST;

GST_START_TEST (test_deadline_from_arrival)
{
  /* Sources report 100 ms of latency but deliver frames at their running
   * time (identity sync=true after a decoder does): a partial batch goes out
   * batched-push-timeout after the first frame, not 100 ms later. Frames
   * from 1 s on: the aggregator cannot wait for a running time below its
   * latency (140 ms). */
  GstHarness *hs[3];
  GstTestClock *clock;
  GstVideoInfo vi;
  GstBuffer *out;

  new_mux_configured (hs, 3, GRAY16, TRUE, "batched-push-timeout", 40000, NULL);
  for (guint i = 0; i < 3; i++)
    gst_harness_set_upstream_latency (hs[i], 100 * GST_MSECOND);
  clock = gst_harness_get_testclock (hs[0]);
  info_from_string (&vi, GRAY16);
  gst_test_clock_set_time (clock, 25 * FRAME_DUR);
  for (guint i = 0; i < 3; i++)
    fail_unless_equals_int (gst_harness_push (hs[i], make_frame (&vi, i, 25)), GST_FLOW_OK);
  out = pull_batch (hs[0]);
  gst_buffer_unref (out);

  /* The next frame (1.04 s) of sources 0 and 1 on time; source 2 stalls. */
  gst_test_clock_set_time (clock, 26 * FRAME_DUR);
  fail_unless_equals_int (gst_harness_push (hs[0], make_frame (&vi, 0, 26)), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_push (hs[1], make_frame (&vi, 1, 26)), GST_FLOW_OK);
  {
    GstClockID id;
    gst_test_clock_wait_for_next_pending_id (clock, &id);
    /* + 40 ms; the aggregator's own deadline would be + 100 + 40 ms */
    fail_unless_equals_uint64 (gst_clock_id_get_time (id), 26 * FRAME_DUR + 40 * GST_MSECOND);
    gst_clock_id_unref (id);
  }
  fail_unless (gst_harness_crank_single_clock_wait (hs[0]));
  out = pull_batch (hs[0]);
  fail_unless_equals_int (ova_batch_meta_get_n_frames (ova_buffer_get_batch_meta (out)), 2);
  gst_buffer_unref (out);
  gst_object_unref (clock);
  teardown_all (hs, 3);
}
GST_END_TEST;

GST_START_TEST (test_ahead_of_clock_not_one_by_one)
{
  /* Sources not synchronised to the clock, far ahead of it, and one ahead
   * of the other: their frames are batched together as they come, not
   * pushed one by one as "behind" the other source's. */
  GstHarness *hs[2];
  GstTestClock *clock;
  GstVideoInfo vi;
  GstBuffer *out;

  new_mux_configured (hs, 2, GRAY16, FALSE, "live-source", TRUE, "batched-push-timeout", 40000, NULL);
  clock = gst_harness_get_testclock (hs[0]);
  info_from_string (&vi, GRAY16);
  fail_unless_equals_int (gst_harness_push (hs[0], make_frame (&vi, 0, 50)), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_push (hs[1], make_frame (&vi, 1, 25)), GST_FLOW_OK);
  out = pull_batch (hs[0]);
  fail_unless_equals_int (ova_batch_meta_get_n_frames (ova_buffer_get_batch_meta (out)), 2);
  gst_buffer_unref (out);
  /* Source 1's next frame (1.04 s) ends before source 0's (2.04 s), but its
   * time has not come: it waits for source 0 until its deadline. */
  fail_unless_equals_int (gst_harness_push (hs[1], make_frame (&vi, 1, 26)), GST_FLOW_OK);
  {
    GstClockID id;
    gst_test_clock_wait_for_next_pending_id (clock, &id);
    fail_unless_equals_uint64 (gst_clock_id_get_time (id), 26 * FRAME_DUR + 40 * GST_MSECOND);
    gst_clock_id_unref (id);
  }
  fail_unless_equals_int (gst_harness_push (hs[0], make_frame (&vi, 0, 51)), GST_FLOW_OK);
  out = pull_batch (hs[0]);
  fail_unless_equals_int (ova_batch_meta_get_n_frames (ova_buffer_get_batch_meta (out)), 2);
  gst_buffer_unref (out);
  gst_object_unref (clock);
  teardown_all (hs, 2);
}
GST_END_TEST;

GST_START_TEST (test_latency_record_after_restart)
{
  /* A frame queued when the muxer stops is dropped; the next run's frames
   * get latency records of their own arrival, not of the dropped frame's. */
  GstHarness *hs[2];
  GstElement *mux = new_mux_configured (hs, 2, GRAY16, FALSE, NULL);
  GstVideoInfo vi;
  GstBuffer *out;
  OvaBatchMeta *b;

  ova_latency_set_enabled (TRUE);
  info_from_string (&vi, GRAY16);
  /* non-live: source 0's frame waits for source 1's, which never comes */
  fail_unless_equals_int (gst_harness_push (hs[0], make_frame (&vi, 0, 0)), GST_FLOW_OK);
  g_usleep (200 * 1000);
  fail_unless_equals_int (gst_element_set_state (mux, GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  fail_unless (gst_element_set_state (mux, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  for (guint i = 0; i < 2; i++) {
    gst_harness_set_src_caps_str (hs[i], GRAY16);
    fail_unless_equals_int (gst_harness_push (hs[i], make_frame (&vi, i, 1)), GST_FLOW_OK);
  }
  out = pull_batch (hs[0]);
  b = ova_buffer_get_batch_meta (out);
  fail_unless_equals_int (ova_batch_meta_get_n_frames (b), 2);
  for (guint i = 0; i < 2; i++) {
    const OvaFrameMeta *f = frame_of_source (b, i);
    const OvaLatencyEntry *e = &f->latency.entries[0];
    fail_unless_equals_uint64 (f->buf_pts, 1 * FRAME_DUR);
    fail_unless (f->latency.n_entries >= 1);
    fail_unless (e->out_ns - e->in_ns < 100 * GST_MSECOND, "source %u: ovamux latency %" G_GUINT64_FORMAT
        " ns", i, e->out_ns - e->in_ns);
  }
  gst_buffer_unref (out);
  ova_latency_set_enabled (FALSE);
  teardown_all (hs, 2);
}
GST_END_TEST;

GST_START_TEST (test_not_live_waits_for_all)
{
  /* Non-live sources, live-source=false: a batch waits for every source, no
   * deadline (files are processed as fast as possible, never partially). */
  GstHarness *hs[3];
  GstTestClock *clock;
  GstVideoInfo vi;
  GstQuery *q;
  gboolean live;

  new_mux_configured (hs, 3, GRAY16, FALSE, NULL);
  clock = gst_harness_get_testclock (hs[0]);
  info_from_string (&vi, GRAY16);
  q = gst_query_new_latency ();
  fail_unless (gst_pad_peer_query (hs[0]->sinkpad, q));
  gst_query_parse_latency (q, &live, NULL, NULL);
  fail_if (live);
  gst_query_unref (q);

  fail_unless_equals_int (gst_harness_push (hs[0], make_frame (&vi, 0, 0)), GST_FLOW_OK);
  fail_unless_equals_int (gst_harness_push (hs[2], make_frame (&vi, 2, 0)), GST_FLOW_OK);
  g_usleep (50 * 1000);
  fail_unless_equals_int (gst_harness_buffers_in_queue (hs[0]), 0);
  fail_if (gst_test_clock_peek_next_pending_id (clock, NULL));
  fail_unless_equals_int (gst_harness_push (hs[1], make_frame (&vi, 1, 0)), GST_FLOW_OK);
  {
    GstBuffer *out = pull_batch (hs[0]);
    fail_unless_equals_int (ova_batch_meta_get_n_frames (ova_buffer_get_batch_meta (out)), 3);
    gst_buffer_unref (out);
  }
  gst_object_unref (clock);
  teardown_all (hs, 3);
}
GST_END_TEST;

GST_START_TEST (test_sync_inputs)
{
  /* Source 1 is 200 ms ahead: with sync-inputs its frame waits until source
   * 0 catches up; without, both are batched at once. */
  for (guint sync = 0; sync < 2; sync++) {
    GstHarness *hs[2];
    GstVideoInfo vi;
    GString *got = g_string_new ("");

    new_mux_configured (hs, 2, GRAY16, FALSE, "sync-inputs", (gboolean) sync, NULL);
    info_from_string (&vi, GRAY16);
    fail_unless_equals_int (gst_harness_push (hs[1], make_frame (&vi, 1, 5)), GST_FLOW_OK);
    for (guint k = 0; k < (sync ? 6 : 1); k++) {
      GstBuffer *out;
      fail_unless_equals_int (gst_harness_push (hs[0], make_frame (&vi, 0, k)), GST_FLOW_OK);
      out = pull_batch (hs[0]);
      g_string_append_printf (got, "%s%u", k ? " " : "",
          ova_batch_meta_get_n_frames (ova_buffer_get_batch_meta (out)));
      gst_buffer_unref (out);
    }
    /* With sync: frames of source 0 at 0..160 ms alone, then 200 ms together
     * with source 1's. */
    fail_unless_equals_string (got->str, sync ? "1 1 1 1 1 2" : "2");
    g_string_free (got, TRUE);
    teardown_all (hs, 2);
  }
}
GST_END_TEST;

/* ------------------------------------------------------------ demux */

/* A batch of @n frames of sources @sids, GRAY8 16x16 filled with the id, one
 * object per frame with a classifier. */
static GstBuffer *
make_batch (OvaMetaPool *pool, const guint *sids, guint n, guint frame_num, GstMemory **mems)
{
  GstBuffer *buf = gst_buffer_new ();
  OvaBatchMeta *b = ova_buffer_add_batch_meta (buf, n, pool);
  GstVideoInfo vi;
  gst_video_info_set_format (&vi, GST_VIDEO_FORMAT_GRAY8, 16, 16);
  for (guint i = 0; i < n; i++) {
    GstMemory *m = gst_allocator_alloc (NULL, GST_VIDEO_INFO_SIZE (&vi), NULL);
    OvaFrameMeta *f = ova_batch_meta_acquire_frame (b);
    OvaObjectMeta *o;
    OvaClassifierMeta *c;
    OvaLabelInfo *l;
    GstMapInfo mi;
    gst_memory_map (m, &mi, GST_MAP_WRITE);
    memset (mi.data, sids[i], mi.size);
    gst_memory_unmap (m, &mi);
    if (mems)
      mems[i] = m;
    f->source_id = sids[i];
    f->pad_index = sids[i];
    f->frame_num = frame_num;
    f->buf_pts = frame_num * FRAME_DUR;
    f->duration = FRAME_DUR;
    f->source_width = f->source_height = 16;
    f->video_info = vi;
    f->mem_index = gst_buffer_n_memory (buf);
    f->n_mems = 1;
    gst_buffer_append_memory (buf, m);
    ova_batch_meta_add_frame (b, f);
    o = ova_batch_meta_acquire_object (b);
    o->class_id = (gint) sids[i];
    o->rect = (OvaRect) { sids[i], 1, 2, 3 };
    ova_object_meta_set_label (o, "thing");
    ova_frame_meta_add_object (f, o);
    c = ova_batch_meta_acquire_classifier (b);
    c->component_id = 9;
    l = ova_batch_meta_acquire_label (b);
    l->class_id = 4;
    g_strlcpy (l->label, "red", sizeof (l->label));
    ova_classifier_meta_add_label (c, l);
    ova_object_meta_add_classifier (o, c);
  }
  GST_BUFFER_PTS (buf) = frame_num * FRAME_DUR;
  GST_BUFFER_DURATION (buf) = FRAME_DUR;
  return buf;
}

GST_START_TEST (test_demux_frames_and_meta)
{
  GstHarness *d0 = gst_harness_new_with_padnames ("ovademux", "sink", "src_0");
  GstHarness *d1 = gst_harness_new_with_element (d0->element, NULL, "src_1");
  OvaMetaPool *pool = ova_meta_pool_new ();
  static const guint sids[] = { 1, 0, 5 };   /* source 5 has no src pad: dropped */
  GstMemory *mems[3];
  GstEvent *ev;

  gst_harness_set_src_caps_str (d0, "video/x-ova-batch,max-batch-size=3");
  for (guint n = 0; n < 3; n++) {
    GstBuffer *batch = make_batch (pool, sids, 3, n, mems);
    fail_unless_equals_int (gst_harness_push (d0, batch), GST_FLOW_OK);
    for (guint k = 0; k < 2; k++) {
      GstHarness *h = k == 0 ? d0 : d1;
      guint sid = k;                       /* src_0 gets source 0, src_1 source 1 */
      GstMemory *expect = mems[sid == 1 ? 0 : 1];
      GstBuffer *out = gst_harness_pull (h);
      OvaBatchMeta *b;
      OvaFrameMeta *f;
      OvaObjectMeta *o;
      GstVideoMeta *vm;
      fail_unless (out != NULL);
      fail_unless_equals_int (gst_buffer_n_memory (out), 1);
      fail_unless (gst_buffer_peek_memory (out, 0) == expect, "frame memory was copied");
      fail_unless_equals_uint64 (GST_BUFFER_PTS (out), n * FRAME_DUR);
      vm = gst_buffer_get_video_meta (out);
      fail_unless (vm != NULL);
      fail_unless_equals_int (vm->width, 16);
      fail_unless_equals_int (vm->format, GST_VIDEO_FORMAT_GRAY8);
      b = ova_buffer_get_batch_meta (out);
      fail_unless (b != NULL);
      fail_unless_equals_int (ova_batch_meta_get_n_frames (b), 1);
      f = ova_batch_meta_get_frame (b, 0);
      fail_unless_equals_int (f->source_id, sid);
      fail_unless_equals_uint64 (f->frame_num, n);
      fail_unless_equals_int (f->mem_index, 0);
      fail_unless_equals_int (f->batch_index, 0);
      fail_unless_equals_int (ova_frame_meta_get_n_objects (f), 1);
      o = ova_frame_meta_get_object (f, 0);
      fail_unless_equals_int (o->class_id, sid);
      fail_unless_equals_float (o->rect.left, (gfloat) sid);
      fail_unless_equals_string (o->label, "thing");
      fail_unless_equals_int (o->classifiers->len, 1);
      fail_unless_equals_string (((OvaLabelInfo *) g_ptr_array_index (((OvaClassifierMeta *)
                      g_ptr_array_index (o->classifiers, 0))->labels, 0))->label, "red");
      {
        OvaMappedFrame m;
        fail_unless (ova_frame_meta_map (out, f, &m, GST_MAP_READ));
        fail_unless_equals_int (m.data[0][0], sid);
        ova_mapped_frame_unmap (&m);
      }
      gst_buffer_unref (out);
    }
  }
  /* Each src pad got its own stream-start, caps (raw video) and segment. */
  for (guint k = 0; k < 2; k++) {
    GstHarness *h = k == 0 ? d0 : d1;
    GstCaps *c = gst_pad_get_current_caps (h->sinkpad);
    GstVideoInfo vi;
    fail_unless (c != NULL);
    fail_unless (gst_video_info_from_caps (&vi, c));
    fail_unless_equals_int (GST_VIDEO_INFO_FORMAT (&vi), GST_VIDEO_FORMAT_GRAY8);
    fail_unless_equals_int (vi.width, 16);
    gst_caps_unref (c);
    ev = gst_harness_pull_event (h);
    fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_STREAM_START);
    gst_event_unref (ev);
  }

  /* Per-source EOS: source 1 ends → EOS on src_1 only. */
  while ((ev = gst_harness_try_pull_event (d1)))
    gst_event_unref (ev);
  while ((ev = gst_harness_try_pull_event (d0)))
    gst_event_unref (ev);
  fail_unless (gst_harness_push_event (d0, ova_event_new_stream (OVA_EVENT_STREAM_EOS, 1)));
  ev = gst_harness_try_pull_event (d1);
  fail_unless (ev != NULL && GST_EVENT_TYPE (ev) == GST_EVENT_EOS);
  gst_event_unref (ev);
  fail_unless (gst_harness_try_pull_event (d0) == NULL);
  {
    static const guint only0[] = { 0, 1 };
    GstBuffer *out;
    fail_unless_equals_int (gst_harness_push (d0, make_batch (pool, only0, 2, 3, NULL)), GST_FLOW_OK);
    out = gst_harness_pull (d0);
    fail_unless_equals_uint64 (ova_batch_meta_get_frame (ova_buffer_get_batch_meta (out), 0)->frame_num, 3);
    gst_buffer_unref (out);
    /* Nothing more for the ended source. */
    fail_unless_equals_int (gst_harness_buffers_in_queue (d1), 0);
  }
  /* Source 1 comes back (a reconnected camera on the same muxer pad):
   * src_1 starts a new stream. */
  fail_unless (gst_harness_push_event (d0, ova_event_new_stream (OVA_EVENT_STREAM_ADD, 1)));
  {
    static const guint both[] = { 0, 1 };
    GstBuffer *out;
    fail_unless_equals_int (gst_harness_push (d0, make_batch (pool, both, 2, 4, NULL)), GST_FLOW_OK);
    gst_buffer_unref (gst_harness_pull (d0));
    out = gst_harness_pull (d1);
    fail_unless (out != NULL);
    fail_unless_equals_int (ova_batch_meta_get_frame (ova_buffer_get_batch_meta (out), 0)->source_id, 1);
    gst_buffer_unref (out);
    ev = gst_harness_pull_event (d1);
    fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_STREAM_START);
    gst_event_unref (ev);
    while ((ev = gst_harness_try_pull_event (d1)))
      gst_event_unref (ev);
    while ((ev = gst_harness_try_pull_event (d0)))
      gst_event_unref (ev);
  }
  /* The real EOS reaches the pads still running. */
  fail_unless (gst_harness_push_event (d0, gst_event_new_eos ()));
  for (guint k = 0; k < 2; k++) {
    ev = gst_harness_try_pull_event (k ? d1 : d0);
    fail_unless (ev != NULL && GST_EVENT_TYPE (ev) == GST_EVENT_EOS);
    gst_event_unref (ev);
  }

  gst_harness_teardown (d1);
  gst_harness_teardown (d0);
  ova_meta_pool_unref (pool);
}
GST_END_TEST;

GST_START_TEST (test_demux_release_pad)
{
  GstHarness *d0 = gst_harness_new_with_padnames ("ovademux", "sink", "src_0");
  GstHarness *d1 = gst_harness_new_with_element (d0->element, NULL, "src_1");
  OvaMetaPool *pool = ova_meta_pool_new ();
  static const guint both[] = { 0, 1 };

  gst_harness_set_src_caps_str (d0, "video/x-ova-batch,max-batch-size=2");
  fail_unless_equals_int (gst_harness_push (d0, make_batch (pool, both, 2, 0, NULL)), GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (d0));
  gst_buffer_unref (gst_harness_pull (d1));
  /* src_1 goes away while the stream runs; src_0 goes on, source 1's frames
   * are dropped. */
  gst_harness_teardown (d1);
  fail_unless (gst_element_get_static_pad (d0->element, "src_1") == NULL);
  for (guint n = 1; n < 4; n++) {
    GstBuffer *out;
    fail_unless_equals_int (gst_harness_push (d0, make_batch (pool, both, 2, n, NULL)), GST_FLOW_OK);
    out = gst_harness_pull (d0);
    fail_unless_equals_uint64 (ova_batch_meta_get_frame (ova_buffer_get_batch_meta (out), 0)->frame_num, n);
    gst_buffer_unref (out);
  }
  /* And a new src_1 picks source 1 up again with a fresh stream. */
  d1 = gst_harness_new_with_element (d0->element, NULL, "src_1");
  fail_unless_equals_int (gst_harness_push (d0, make_batch (pool, both, 2, 4, NULL)), GST_FLOW_OK);
  gst_buffer_unref (gst_harness_pull (d0));
  {
    GstBuffer *out = gst_harness_pull (d1);
    GstEvent *ev = gst_harness_pull_event (d1);
    fail_unless_equals_uint64 (ova_batch_meta_get_frame (ova_buffer_get_batch_meta (out), 0)->frame_num, 4);
    fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_STREAM_START);
    gst_event_unref (ev);
    gst_buffer_unref (out);
  }
  gst_harness_teardown (d1);
  gst_harness_teardown (d0);
  ova_meta_pool_unref (pool);
}
GST_END_TEST;

/* ----------------------------------------- mux → demux, real sources */

static void
count_handoff (GstElement *sink, GstBuffer *buf, GstPad *pad, gpointer data)
{
  OvaBatchMeta *b = ova_buffer_get_batch_meta (buf);
  guint *count = data;
  fail_unless (b != NULL);
  fail_unless_equals_int (ova_batch_meta_get_n_frames (b), 1);
  g_atomic_int_inc (count);
}

GST_START_TEST (test_mux_demux_pipeline)
{
  GError *err = NULL;
  GstElement *p = gst_parse_launch (
      "ovamux name=m ! ovademux name=d "
      "videotestsrc num-buffers=30 ! video/x-raw,width=64,height=48 ! m.sink_0 "
      "videotestsrc num-buffers=50 pattern=ball ! video/x-raw,format=NV12,width=96,height=64 ! m.sink_1 "
      "d.src_0 ! queue ! fakesink name=s0 signal-handoffs=true sync=false "
      "d.src_1 ! queue ! fakesink name=s1 signal-handoffs=true sync=false", &err);
  GstElement *s0, *s1;
  GstBus *bus;
  GstMessage *msg;
  guint c0 = 0, c1 = 0;

  fail_unless (p != NULL, "%s", err ? err->message : "?");
  s0 = gst_bin_get_by_name (GST_BIN (p), "s0");
  s1 = gst_bin_get_by_name (GST_BIN (p), "s1");
  g_signal_connect (s0, "handoff", G_CALLBACK (count_handoff), &c0);
  g_signal_connect (s1, "handoff", G_CALLBACK (count_handoff), &c1);
  fail_unless (gst_element_set_state (p, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  bus = gst_element_get_bus (p);
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no EOS");
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  fail_unless_equals_int (c0, 30);
  fail_unless_equals_int (c1, 50);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (s0);
  gst_object_unref (s1);
  gst_object_unref (p);
}
GST_END_TEST;

static GstPadProbeReturn
count_buffer_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  g_atomic_int_inc ((gint *) data);
  return GST_PAD_PROBE_OK;
}

/* Source 0's sink pad is requested only after source 1 has been streaming,
 * as when a decoder is linked once it exposes its pad (gst-launch-1.0's
 * "decodebin ! m.sink_0"), while the ovademux pads of both sources are linked
 * from the start. Batching source 1 alone would fill its branch (1 s of
 * queue) while the sinks wait for preroll, and source 0's first frame would
 * then never get through: the pipeline used to hang with no frame out. */
GST_START_TEST (test_mux_demux_late_source_pad)
{
  GError *err = NULL;
  GstElement *p = gst_parse_launch (
      "ovamux name=m ! ovademux name=d "
      "videotestsrc num-buffers=100 pattern=ball ! video/x-raw,width=64,height=48,framerate=30/1 ! m.sink_1 "
      "d.src_0 ! queue ! fakesink name=s0 signal-handoffs=true sync=false "
      "d.src_1 ! queue ! fakesink name=s1 signal-handoffs=true sync=false", &err);
  GstElement *m, *d, *s0, *s1, *src0, *filter0;
  GstPad *d_src1, *m_sink0, *f_src;
  GstBus *bus;
  GstMessage *msg;
  guint c0 = 0, c1 = 0;
  gint out1 = 0;
  gint64 until;
  GstCaps *caps;

  fail_unless (p != NULL, "%s", err ? err->message : "?");
  m = gst_bin_get_by_name (GST_BIN (p), "m");
  d = gst_bin_get_by_name (GST_BIN (p), "d");
  s0 = gst_bin_get_by_name (GST_BIN (p), "s0");
  s1 = gst_bin_get_by_name (GST_BIN (p), "s1");
  g_signal_connect (s0, "handoff", G_CALLBACK (count_handoff), &c0);
  g_signal_connect (s1, "handoff", G_CALLBACK (count_handoff), &c1);
  d_src1 = gst_element_get_static_pad (d, "src_1");
  gst_pad_add_probe (d_src1, GST_PAD_PROBE_TYPE_BUFFER, count_buffer_probe, &out1, NULL);
  fail_unless (gst_element_set_state (p, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);

  /* Without a wait for source 0, source 1 fills its queue (30 frames) at
   * once; give it the time to go past that. */
  until = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
  while (g_atomic_int_get (&out1) < 40 && g_get_monotonic_time () < until)
    g_usleep (10 * 1000);

  src0 = gst_element_factory_make ("videotestsrc", NULL);
  filter0 = gst_element_factory_make ("capsfilter", NULL);
  g_object_set (src0, "num-buffers", 30, NULL);
  caps = gst_caps_from_string ("video/x-raw,width=64,height=48,framerate=30/1");
  g_object_set (filter0, "caps", caps, NULL);
  gst_caps_unref (caps);
  gst_bin_add_many (GST_BIN (p), src0, filter0, NULL);
  fail_unless (gst_element_link (src0, filter0));
  m_sink0 = gst_element_request_pad_simple (m, "sink_0");
  f_src = gst_element_get_static_pad (filter0, "src");
  fail_unless_equals_int (gst_pad_link (f_src, m_sink0), GST_PAD_LINK_OK);
  fail_unless (gst_element_sync_state_with_parent (filter0));
  fail_unless (gst_element_sync_state_with_parent (src0));

  bus = gst_element_get_bus (p);
  msg = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  fail_unless (msg != NULL, "no EOS (frames out: %u, %u)", c0, c1);
  fail_unless_equals_int (GST_MESSAGE_TYPE (msg), GST_MESSAGE_EOS);
  gst_message_unref (msg);
  fail_unless_equals_int (c0, 30);
  fail_unless_equals_int (c1, 100);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_element_release_request_pad (m, m_sink0);
  gst_object_unref (m_sink0);
  gst_object_unref (f_src);
  gst_object_unref (d_src1);
  gst_object_unref (bus);
  gst_object_unref (s0);
  gst_object_unref (s1);
  gst_object_unref (d);
  gst_object_unref (m);
  gst_object_unref (p);
}
GST_END_TEST;

static Suite *
mux_suite (void)
{
  Suite *s = suite_create ("ova-mux");
  TCase *tc = tcase_create ("mux");
  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 120);
  tcase_add_test (tc, test_full_batch_zero_copy);
  tcase_add_test (tc, test_batch_size_limit);
  tcase_add_test (tc, test_upstream_pool_reuse);
  tcase_add_test (tc, test_more_than_16_memories);
  tcase_add_test (tc, test_mixed_resolutions_formats);
  tcase_add_test (tc, test_scaling);
  tcase_add_test (tc, test_per_source_eos);
  tcase_add_test (tc, test_release_pad_while_playing);
  tcase_add_test (tc, test_timeout_partial_batch);
  tcase_add_test (tc, test_latency_query);
  tcase_add_test (tc, test_live_source_property);
  tcase_add_test (tc, test_behind_source_catches_up);
  tcase_add_test (tc, test_deadline_from_arrival);
  tcase_add_test (tc, test_ahead_of_clock_not_one_by_one);
  tcase_add_test (tc, test_latency_record_after_restart);
  tcase_add_test (tc, test_not_live_waits_for_all);
  tcase_add_test (tc, test_sync_inputs);
  tcase_add_test (tc, test_demux_frames_and_meta);
  tcase_add_test (tc, test_demux_release_pad);
  tcase_add_test (tc, test_mux_demux_pipeline);
  tcase_add_test (tc, test_mux_demux_late_source_pad);
  return s;
}

OVA_MUX_TEST_MAIN (mux_suite)
