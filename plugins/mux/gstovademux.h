/* ova — ovademux: splits a batch back into one stream per source.
 * SPDX-License-Identifier: MIT */
#ifndef GST_OVA_DEMUX_H
#define GST_OVA_DEMUX_H

#include <gst/gst.h>
#include <gst/base/gstflowcombiner.h>
#include <gst/video/video.h>
#include <ova/meta.h>

G_BEGIN_DECLS

#define GST_TYPE_OVA_DEMUX (gst_ova_demux_get_type ())
G_DECLARE_FINAL_TYPE (GstOvaDemux, gst_ova_demux, GST, OVA_DEMUX, GstElement)

GST_ELEMENT_REGISTER_DECLARE (ovademux);

G_END_DECLS

#endif
