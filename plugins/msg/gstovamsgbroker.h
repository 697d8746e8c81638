/* ova — ovamsgbroker. SPDX-License-Identifier: MIT */
#ifndef GST_OVA_MSG_BROKER_H
#define GST_OVA_MSG_BROKER_H
#include <gst/base/gstbasesink.h>
#include <ova/msg.h>
G_BEGIN_DECLS
#define GST_TYPE_OVA_MSG_BROKER (gst_ova_msg_broker_get_type ())
G_DECLARE_FINAL_TYPE (GstOvaMsgBroker, gst_ova_msg_broker, GST, OVA_MSG_BROKER, GstBaseSink)
GST_ELEMENT_REGISTER_DECLARE (ovamsgbroker);
G_END_DECLS
#endif
