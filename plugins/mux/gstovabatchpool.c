/* ova — the pool of ovamux's batch buffers. SPDX-License-Identifier: MIT
 *
 * A batch holds the GstMemory objects of its input frames. If the input
 * buffers went back to their pools while the batch still held their
 * memories, the pools would find those memories shared, discard the buffers
 * and allocate new ones for every frame (a fresh 3 MB allocation and its page
 * faults per 1080p frame; hardware pools with a fixed number of buffers cannot
 * do even that). So a batch keeps its input buffers, and when the batch is
 * released - which for a pooled buffer happens before GStreamer frees
 * anything - it first drops the borrowed memories and only then the input
 * buffers, which return to their pools intact. Batch buffers are reused too.
 */
#include "gstovabatchpool.h"

struct _GstOvaBatchPool
{
  GstBufferPool parent;
};

G_DEFINE_TYPE (GstOvaBatchPool, gst_ova_batch_pool, GST_TYPE_BUFFER_POOL);

static GQuark held_quark;

typedef struct
{
  GstBuffer *buffer;
  guint n_moved;                /* memories taken out of buffer, to put back */
  GstMemory *moved[16];
} Held;

/* Runs after the batch has dropped its memories: the held buffer gets its
 * memories back - the very same objects, so for its pool it is untouched -
 * and is released. */
static void
held_free (gpointer data)
{
  Held *h = data;
  for (guint i = 0; i < h->n_moved; i++)
    gst_buffer_append_memory (h->buffer, h->moved[i]);
  if (h->n_moved > 0)
    GST_BUFFER_FLAG_UNSET (h->buffer, GST_BUFFER_FLAG_TAG_MEMORY);
  gst_buffer_unref (h->buffer);
  g_free (h);
}

static Held *
hold (GstBuffer *batch, GstBuffer *buffer)
{
  GPtrArray *held = gst_mini_object_get_qdata (GST_MINI_OBJECT_CAST (batch), held_quark);
  Held *h = g_new0 (Held, 1);
  if (!held) {
    held = g_ptr_array_new_with_free_func (held_free);
    gst_mini_object_set_qdata (GST_MINI_OBJECT_CAST (batch), held_quark, held,
        (GDestroyNotify) g_ptr_array_unref);
  }
  h->buffer = buffer;
  g_ptr_array_add (held, h);
  return h;
}

void
gst_ova_batch_pool_hold (GstBuffer *batch, GstBuffer *buffer)
{
  hold (batch, buffer);
}

void
gst_ova_batch_pool_add_frame (GstBuffer *batch, GstBuffer *frame)
{
  guint n = gst_buffer_n_memory (frame);
  gboolean move = gst_buffer_is_writable (frame) && n <= G_N_ELEMENTS (((Held *) NULL)->moved);
  Held *h;

  for (guint m = 0; m < n; m++)
    gst_buffer_append_memory (batch, gst_buffer_get_memory (frame, m));
  h = hold (batch, frame);
  if (move) {
    /* Nobody else sees this buffer: let the batch be the memories' only
     * owner, so that they are writable in the batch without a copy. */
    for (guint m = 0; m < n; m++)
      h->moved[m] = gst_buffer_get_memory (frame, m);
    h->n_moved = n;
    gst_buffer_remove_all_memory (frame);
  }
}

/* Memories first, then the buffers they came from. Idempotent. The list
 * itself stays with the pooled buffer for its next use. */
static void
drop_borrowed (GstBuffer *batch)
{
  GPtrArray *held = gst_mini_object_get_qdata (GST_MINI_OBJECT_CAST (batch), held_quark);
  if (gst_buffer_n_memory (batch) > 0)
    gst_buffer_remove_all_memory (batch);
  GST_BUFFER_FLAG_UNSET (batch, GST_BUFFER_FLAG_TAG_MEMORY);
  if (held)
    g_ptr_array_set_size (held, 0);
}

static GstFlowReturn
batch_pool_alloc_buffer (GstBufferPool *pool, GstBuffer **buffer, GstBufferPoolAcquireParams *params)
{
  *buffer = gst_buffer_new ();
  return GST_FLOW_OK;
}

static void
batch_pool_reset_buffer (GstBufferPool *pool, GstBuffer *buffer)
{
  drop_borrowed (buffer);
  GST_BUFFER_POOL_CLASS (gst_ova_batch_pool_parent_class)->reset_buffer (pool, buffer);
}

static void
batch_pool_release_buffer (GstBufferPool *pool, GstBuffer *buffer)
{
  drop_borrowed (buffer);
  GST_BUFFER_POOL_CLASS (gst_ova_batch_pool_parent_class)->release_buffer (pool, buffer);
}

static void
batch_pool_free_buffer (GstBufferPool *pool, GstBuffer *buffer)
{
  drop_borrowed (buffer);
  GST_BUFFER_POOL_CLASS (gst_ova_batch_pool_parent_class)->free_buffer (pool, buffer);
}

static void
gst_ova_batch_pool_class_init (GstOvaBatchPoolClass *klass)
{
  GstBufferPoolClass *pool_class = GST_BUFFER_POOL_CLASS (klass);
  held_quark = g_quark_from_static_string ("ova-batch-held-frames");
  pool_class->alloc_buffer = batch_pool_alloc_buffer;
  pool_class->reset_buffer = batch_pool_reset_buffer;
  pool_class->release_buffer = batch_pool_release_buffer;
  pool_class->free_buffer = batch_pool_free_buffer;
}

static void
gst_ova_batch_pool_init (GstOvaBatchPool *pool)
{
}

GstBufferPool *
gst_ova_batch_pool_new (void)
{
  GstBufferPool *pool = g_object_new (GST_TYPE_OVA_BATCH_POOL, NULL);
  GstStructure *config;
  gst_object_ref_sink (pool);
  config = gst_buffer_pool_get_config (pool);
  gst_buffer_pool_config_set_params (config, NULL, 0, 0, 0);
  gst_buffer_pool_set_config (pool, config);
  gst_buffer_pool_set_active (pool, TRUE);
  return pool;
}
