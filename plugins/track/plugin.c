/* ova — the track plugin: ovatrack. SPDX-License-Identifier: MIT */
#include "ova-config.h"
#include "gstovatrack.h"

static gboolean
plugin_init (GstPlugin *plugin)
{
  return gst_element_register (plugin, "ovatrack", GST_RANK_NONE, GST_TYPE_OVA_TRACK);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, ovatrack,
    "ova multi-object tracker (IOU, SORT, ByteTrack, appearance)", plugin_init,
    OVA_VERSION, "MIT/X11", "ova", "ova")
