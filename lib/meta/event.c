/* ova — per-stream events sent downstream by the muxer. SPDX-License-Identifier: MIT */
#include "meta-private.h"

GstEvent *
ova_event_new_stream (const gchar *name, guint source_id)
{
  return gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM,
      gst_structure_new (name, "source-id", G_TYPE_UINT, source_id, NULL));
}

gboolean
ova_event_parse_stream (GstEvent *event, const gchar *name, guint *source_id)
{
  const GstStructure *s;
  if (GST_EVENT_TYPE (event) != GST_EVENT_CUSTOM_DOWNSTREAM)
    return FALSE;
  s = gst_event_get_structure (event);
  if (!s || !gst_structure_has_name (s, name))
    return FALSE;
  return gst_structure_get_uint (s, "source-id", source_id);
}
