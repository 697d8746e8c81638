/* ova — the osd plugin: ovaosd and ovatiler. SPDX-License-Identifier: MIT */
#include "ova-config.h"
#include "gstovaosd.h"
#include "gstovatiler.h"

static gboolean
plugin_init (GstPlugin *plugin)
{
  return gst_element_register (plugin, "ovaosd", GST_RANK_NONE, GST_TYPE_OVA_OSD) &&
      gst_element_register (plugin, "ovatiler", GST_RANK_NONE, GST_TYPE_OVA_TILER);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, ovaosd,
    "ova on-screen display and tiler", plugin_init, OVA_VERSION, "MIT/X11", "ova", "ova")
