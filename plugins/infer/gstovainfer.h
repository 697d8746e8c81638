/* ova — ovainfer: runs a network on batched frames or on the objects in them.
 * SPDX-License-Identifier: MIT */
#ifndef GST_OVA_INFER_H
#define GST_OVA_INFER_H

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_OVA_INFER (gst_ova_infer_get_type ())
G_DECLARE_FINAL_TYPE (GstOvaInfer, gst_ova_infer, GST, OVA_INFER, GstElement)

GST_ELEMENT_REGISTER_DECLARE (ovainfer);

G_END_DECLS

#endif
