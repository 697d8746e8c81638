/* ova — the pool of ovamux's batch buffers. SPDX-License-Identifier: MIT */
#ifndef GST_OVA_BATCH_POOL_H
#define GST_OVA_BATCH_POOL_H

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_OVA_BATCH_POOL (gst_ova_batch_pool_get_type ())
G_DECLARE_FINAL_TYPE (GstOvaBatchPool, gst_ova_batch_pool, GST, OVA_BATCH_POOL, GstBufferPool)

/* An active pool of empty buffers (no memory of their own). */
GstBufferPool *gst_ova_batch_pool_new (void);

/* Keeps @buffer (transfer full) alive as long as @batch is, and releases it
 * only after @batch has let go of the memories it borrowed from it. */
void gst_ova_batch_pool_hold (GstBuffer *batch, GstBuffer *buffer);

/* Appends the memories of @frame (transfer full) to @batch and holds @frame
 * as above. When @frame is not shared, its memories move to @batch for the
 * batch's lifetime (so the batch alone owns them: drawing maps them for
 * writing in place) and are put back before @frame is released. */
void gst_ova_batch_pool_add_frame (GstBuffer *batch, GstBuffer *frame);

G_END_DECLS

#endif
