/* ova — CPU access to the pixels of one frame of a batch. SPDX-License-Identifier: MIT */
#include "meta-private.h"
#include <string.h>

GstBuffer *
ova_frame_meta_get_pixel_buffer (GstBuffer *batch, const OvaFrameMeta *f)
{
  return f->buffer ? f->buffer : batch;
}

GstMemory *
ova_frame_meta_peek_memory (GstBuffer *batch, const OvaFrameMeta *f, guint i)
{
  GstBuffer *b = ova_frame_meta_get_pixel_buffer (batch, f);
  if (i >= f->n_mems || f->mem_index + i >= gst_buffer_n_memory (b))
    return NULL;
  return gst_buffer_peek_memory (b, f->mem_index + i);
}

gboolean
ova_frame_meta_pixels_valid (GstBuffer *batch, const OvaFrameMeta *f)
{
  GstBuffer *b = ova_frame_meta_get_pixel_buffer (batch, f);
  gsize have = 0;
  if (f->n_mems == 0 || f->mem_index + f->n_mems > gst_buffer_n_memory (b))
    return FALSE;
  for (guint i = 0; i < f->n_mems; i++)
    have += gst_buffer_peek_memory (b, f->mem_index + i)->size;
  return have >= GST_VIDEO_INFO_SIZE (&f->video_info);
}

gboolean
ova_frame_meta_map (GstBuffer *batch_buffer, OvaFrameMeta *f, OvaMappedFrame *m, GstMapFlags flags)
{
  gsize starts[GST_VIDEO_MAX_PLANES + 1];
  guint n = f->n_mems;
  GstBuffer *batch;

  memset (m, 0, sizeof (*m));
  g_return_val_if_fail (f->memory_type == OVA_MEMORY_SYSTEM, FALSE);
  if ((flags & GST_MAP_WRITE) && !gst_buffer_is_writable (batch_buffer)) {
    g_critical ("ova_frame_meta_map: write access needs a writable batch buffer");
    return FALSE;
  }
  if ((flags & GST_MAP_WRITE) && f->buffer && !gst_buffer_is_writable (f->buffer))
    f->buffer = gst_buffer_make_writable (f->buffer);
  batch = ova_frame_meta_get_pixel_buffer (batch_buffer, f);
  if (n == 0 || n > GST_VIDEO_MAX_PLANES || f->mem_index + n > gst_buffer_n_memory (batch))
    return FALSE;
  m->info = f->video_info;
  starts[0] = 0;
  for (guint i = 0; i < n; i++) {
    GstMemory *mem = gst_buffer_peek_memory (batch, f->mem_index + i);
    if ((flags & GST_MAP_WRITE) && !gst_memory_is_writable (mem)) {
      /* Copy-on-write: another buffer (a tee branch, a queue) shares these
       * pixels; give this batch its own copy before drawing. */
      gst_buffer_replace_memory (batch, f->mem_index + i, gst_memory_copy (mem, 0, -1));
      mem = gst_buffer_peek_memory (batch, f->mem_index + i);
    }
    if (!gst_memory_map (mem, &m->_maps[i], flags)) {
      for (guint j = 0; j < i; j++)
        gst_memory_unmap (m->_mems[j], &m->_maps[j]);
      return FALSE;
    }
    m->_mems[i] = mem;
    m->_n = i + 1;
    starts[i + 1] = starts[i] + m->_maps[i].size;
  }
  for (guint p = 0; p < GST_VIDEO_INFO_N_PLANES (&m->info); p++) {
    gsize off = GST_VIDEO_INFO_PLANE_OFFSET (&m->info, p);
    guint k = 0;
    while (k + 1 < n && off >= starts[k + 1])
      k++;
    m->data[p] = m->_maps[k].data + (off - starts[k]);
    m->stride[p] = GST_VIDEO_INFO_PLANE_STRIDE (&m->info, p);
  }
  return TRUE;
}

void
ova_mapped_frame_unmap (OvaMappedFrame *m)
{
  for (guint i = 0; i < m->_n; i++)
    gst_memory_unmap (m->_mems[i], &m->_maps[i]);
  m->_n = 0;
}
