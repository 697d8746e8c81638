/* ova — the ovainfer plugin. SPDX-License-Identifier: MIT */
#include "gstovainfer.h"
#include "ova-config.h"

static gboolean
plugin_init (GstPlugin *plugin)
{
  return GST_ELEMENT_REGISTER (ovainfer, plugin);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, ovainfer,
                   "ova inference: ONNX networks on batched video (nvinfer's role)", plugin_init,
                   OVA_VERSION, "MIT/X11", "ova", "ova")
