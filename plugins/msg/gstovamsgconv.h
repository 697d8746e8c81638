/* ova — ovamsgconv. SPDX-License-Identifier: MIT */
#ifndef GST_OVA_MSG_CONV_H
#define GST_OVA_MSG_CONV_H
#include <gst/base/gstbasetransform.h>
#include <ova/msg.h>
G_BEGIN_DECLS
#define GST_TYPE_OVA_MSG_CONV (gst_ova_msg_conv_get_type ())
G_DECLARE_FINAL_TYPE (GstOvaMsgConv, gst_ova_msg_conv, GST, OVA_MSG_CONV, GstBaseTransform)
GST_ELEMENT_REGISTER_DECLARE (ovamsgconv);
G_END_DECLS
#endif
