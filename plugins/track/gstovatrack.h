/* ova — ovatrack: multi-object tracking on batched frames. SPDX-License-Identifier: MIT */
#ifndef GST_OVA_TRACK_H
#define GST_OVA_TRACK_H

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_OVA_TRACK (gst_ova_track_get_type ())
G_DECLARE_FINAL_TYPE (GstOvaTrack, gst_ova_track, GST, OVA_TRACK, GstBaseTransform)

#define GST_TYPE_OVA_TRACK_ALGORITHM (gst_ova_track_algorithm_get_type ())
GType gst_ova_track_algorithm_get_type (void);

G_END_DECLS

#endif
