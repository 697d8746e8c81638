/* ova — tests: build ova batches from frames, as ovamux does. SPDX-License-Identifier: MIT */
#ifndef OVA_TEST_BATCH_HELPER_H
#define OVA_TEST_BATCH_HELPER_H
#include <ova/meta.h>
#include <string.h>

/* A frame of @fmt @w x @h in system memory, planes filled with the given values
 * (Y/U/V for YUV, bytes 0..3 of every pixel for packed RGB). */
static inline GstBuffer *
test_frame_new (GstVideoFormat fmt, gint w, gint h, const guint8 fill[4], GstVideoInfo *info_out)
{
  GstVideoInfo info;
  GstBuffer *buf;
  GstVideoFrame vf;
  gst_video_info_set_format (&info, fmt, w, h);
  buf = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&info), NULL);
  gst_video_frame_map (&vf, &info, buf, GST_MAP_WRITE);
  if (GST_VIDEO_INFO_IS_YUV (&info)) {
    for (guint p = 0; p < GST_VIDEO_INFO_N_PLANES (&info); p++) {
      gint ph = GST_VIDEO_FRAME_COMP_HEIGHT (&vf, p == 0 ? 0 : 1), stride = GST_VIDEO_FRAME_PLANE_STRIDE (&vf, p);
      guint8 *d = GST_VIDEO_FRAME_PLANE_DATA (&vf, p);
      for (gint y = 0; y < ph; y++)
        for (gint x = 0; x < stride; x++)
          d[y * stride + x] = fmt == GST_VIDEO_FORMAT_NV12 && p == 1 ? fill[1 + (x & 1)] : fill[p];
    }
  } else {
    guint8 *d = GST_VIDEO_FRAME_PLANE_DATA (&vf, 0);
    gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (&vf, 0);
    for (gint y = 0; y < h; y++)
      for (gint x = 0; x < 4 * w; x++)
        d[y * stride + x] = fill[x & 3];
  }
  gst_video_frame_unmap (&vf);
  if (info_out)
    *info_out = info;
  return buf;
}

/* A batch holding the memories of @frames (not copies), with one frame meta
 * per frame filled like the muxer does. Source ids are @source_ids[i] (or i). */
static inline GstBuffer *
test_batch_new (GstBuffer **frames, const GstVideoInfo *infos, guint n, const guint *source_ids)
{
  GstBuffer *batch = gst_buffer_new ();
  OvaBatchMeta *bm = ova_buffer_add_batch_meta (batch, MAX (n, 1), NULL);
  for (guint i = 0; i < n; i++) {
    OvaFrameMeta *f = ova_batch_meta_acquire_frame (bm);
    f->source_id = source_ids ? source_ids[i] : i;
    f->pad_index = f->source_id;
    f->mem_index = gst_buffer_n_memory (batch);
    f->n_mems = gst_buffer_n_memory (frames[i]);
    for (guint m = 0; m < f->n_mems; m++)
      gst_buffer_append_memory (batch, gst_buffer_get_memory (frames[i], m));
    f->memory_type = OVA_MEMORY_SYSTEM;
    f->video_info = infos[i];
    f->source_width = GST_VIDEO_INFO_WIDTH (&infos[i]);
    f->source_height = GST_VIDEO_INFO_HEIGHT (&infos[i]);
    f->buf_pts = GST_BUFFER_PTS (frames[i]);
    ova_batch_meta_add_frame (bm, f);
  }
  GST_BUFFER_PTS (batch) = 0;
  GST_BUFFER_DURATION (batch) = GST_SECOND / 30;
  return batch;
}

static inline OvaObjectMeta *
test_add_object (GstBuffer *batch, guint frame, gint class_id, const gchar *label, gfloat x, gfloat y,
    gfloat w, gfloat h, gint64 tracker_id, gfloat confidence)
{
  OvaBatchMeta *bm = ova_buffer_get_batch_meta (batch);
  OvaFrameMeta *f = ova_batch_meta_get_frame (bm, frame);
  OvaObjectMeta *o = ova_batch_meta_acquire_object (bm);
  o->class_id = class_id;
  ova_object_meta_set_label (o, label);
  o->rect.left = x; o->rect.top = y; o->rect.width = w; o->rect.height = h;
  o->detector_rect = o->rect;
  o->tracker_id = tracker_id;
  o->confidence = confidence;
  ova_frame_meta_add_object (f, o);
  return o;
}

/* Pixel of plane 0 (luma, or byte 0 of packed RGB) of frame @i of @batch. */
static inline guint8
test_batch_pixel (GstBuffer *batch, guint i, gint plane, gint x, gint y)
{
  OvaBatchMeta *bm = ova_buffer_get_batch_meta (batch);
  OvaMappedFrame m;
  guint8 v;
  g_assert_true (ova_frame_meta_map (batch, ova_batch_meta_get_frame (bm, i), &m, GST_MAP_READ));
  v = m.data[plane][(gsize) y * m.stride[plane] + x];
  ova_mapped_frame_unmap (&m);
  return v;
}
#endif
