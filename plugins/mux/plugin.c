/* ova — the batching plugin: ovamux, ovademux. SPDX-License-Identifier: MIT */
#include "ova-config.h"
#include "gstovamux.h"
#include "gstovademux.h"

static gboolean
plugin_init (GstPlugin *plugin)
{
  gboolean ok = FALSE;
  ok |= GST_ELEMENT_REGISTER (ovamux, plugin);
  ok |= GST_ELEMENT_REGISTER (ovademux, plugin);
  return ok;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, ovabatch,
    "ova: batch frames of many sources (ovamux) and split them again (ovademux)",
    plugin_init, OVA_VERSION, "MIT/X11", "ova", "ova")
