/* ova — OvaMsgPayloadMeta: the payloads ovamsgconv attaches for ovamsgbroker.
 * SPDX-License-Identifier: MIT */
#include <ova/msg.h>

static void
payload_free (gpointer p)
{
  OvaMsgPayload *pl = p;
  g_free (pl->topic);
  g_bytes_unref (pl->data);
  g_free (pl);
}

static gboolean
meta_init (GstMeta *meta, gpointer params, GstBuffer *buffer)
{
  OvaMsgPayloadMeta *m = (OvaMsgPayloadMeta *) meta;
  m->payloads = g_ptr_array_new_with_free_func (payload_free);
  return TRUE;
}

static void
meta_free (GstMeta *meta, GstBuffer *buffer)
{
  OvaMsgPayloadMeta *m = (OvaMsgPayloadMeta *) meta;
  g_ptr_array_unref (m->payloads);
}

static gboolean
meta_transform (GstBuffer *dest, GstMeta *meta, GstBuffer *src, GQuark type, gpointer data)
{
  OvaMsgPayloadMeta *sm = (OvaMsgPayloadMeta *) meta;
  if (!GST_META_TRANSFORM_IS_COPY (type))
    return FALSE;
  OvaMsgPayloadMeta *dm = ova_buffer_add_msg_payload_meta (dest);
  for (guint i = 0; i < sm->payloads->len; i++) {
    OvaMsgPayload *p = g_ptr_array_index (sm->payloads, i);
    OvaMsgPayload *c = g_new0 (OvaMsgPayload, 1);
    *c = *p;
    c->topic = g_strdup (p->topic);
    c->data = g_bytes_ref (p->data);
    g_ptr_array_add (dm->payloads, c);
  }
  return TRUE;
}

GType
ova_msg_payload_meta_api_get_type (void)
{
  static GType type;
  static const gchar *tags[] = { NULL };
  if (g_once_init_enter (&type)) {
    GType t = gst_meta_api_type_register ("OvaMsgPayloadMetaAPI", tags);
    g_once_init_leave (&type, t);
  }
  return type;
}

const GstMetaInfo *
ova_msg_payload_meta_get_info (void)
{
  static const GstMetaInfo *info = NULL;
  if (g_once_init_enter ((GstMetaInfo **) &info)) {
    const GstMetaInfo *mi = gst_meta_register (OVA_MSG_PAYLOAD_META_API_TYPE, "OvaMsgPayloadMeta",
                                               sizeof (OvaMsgPayloadMeta), meta_init, meta_free,
                                               meta_transform);
    g_once_init_leave ((GstMetaInfo **) &info, (GstMetaInfo *) mi);
  }
  return info;
}

OvaMsgPayloadMeta *
ova_buffer_get_msg_payload_meta (GstBuffer *buffer)
{
  return (OvaMsgPayloadMeta *) gst_buffer_get_meta (buffer, OVA_MSG_PAYLOAD_META_API_TYPE);
}

OvaMsgPayloadMeta *
ova_buffer_add_msg_payload_meta (GstBuffer *buffer)
{
  OvaMsgPayloadMeta *m = ova_buffer_get_msg_payload_meta (buffer);
  if (!m)
    m = (OvaMsgPayloadMeta *) gst_buffer_add_meta (buffer, OVA_MSG_PAYLOAD_META_INFO, NULL);
  return m;
}

void
ova_msg_payload_meta_add (OvaMsgPayloadMeta *meta, const gchar *topic, const gchar *json,
                          gsize len, guint source_id, guint component_id, guint64 frame_num)
{
  OvaMsgPayload *p = g_new0 (OvaMsgPayload, 1);
  p->topic = g_strdup (topic);
  p->data = g_bytes_new (json, len);
  p->source_id = source_id;
  p->component_id = component_id;
  p->frame_num = frame_num;
  g_ptr_array_add (meta->payloads, p);
}
