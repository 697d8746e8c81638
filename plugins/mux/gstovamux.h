/* ova — ovamux: batches frames of many sources without copying pixels.
 * SPDX-License-Identifier: MIT */
#ifndef GST_OVA_MUX_H
#define GST_OVA_MUX_H

#include <gst/gst.h>
#include <gst/base/gstaggregator.h>
#include <gst/video/video.h>
#include <ova/meta.h>

G_BEGIN_DECLS

#define GST_TYPE_OVA_MUX_PAD (gst_ova_mux_pad_get_type ())
G_DECLARE_FINAL_TYPE (GstOvaMuxPad, gst_ova_mux_pad, GST, OVA_MUX_PAD, GstAggregatorPad)

#define GST_TYPE_OVA_MUX (gst_ova_mux_get_type ())
G_DECLARE_FINAL_TYPE (GstOvaMux, gst_ova_mux, GST, OVA_MUX, GstAggregator)

/* The media type of a batch: a buffer whose GstMemory objects are the frames
 * of several sources, described by OvaBatchMeta. */
#define OVA_BATCH_CAPS_NAME "video/x-ova-batch"

/* Custom query ovamux sends downstream before its first batch: ovademux
 * answers in the field "source-ids" (GST_TYPE_ARRAY of guint) the sources
 * whose src pads are linked, i.e. the sources downstream waits for. */
#define OVA_QUERY_EXPECTED_SOURCES "ova-expected-sources"

GST_ELEMENT_REGISTER_DECLARE (ovamux);

G_END_DECLS

#endif
