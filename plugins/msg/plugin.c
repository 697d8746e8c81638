/* ova — the messaging plugin: ovamsgconv, ovamsgbroker. SPDX-License-Identifier: MIT */
#include "ova-config.h"
#include "gstovamsgconv.h"
#include "gstovamsgbroker.h"

static gboolean
plugin_init (GstPlugin *plugin)
{
  gboolean ok = FALSE;
  ok |= GST_ELEMENT_REGISTER (ovamsgconv, plugin);
  ok |= GST_ELEMENT_REGISTER (ovamsgbroker, plugin);
  return ok;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, ovamsg,
    "ova: metadata to JSON events (ovamsgconv) and to brokers (ovamsgbroker)",
    plugin_init, OVA_VERSION, "MIT/X11", "ova", "ova")
