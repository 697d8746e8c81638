/* ova — loading broker adapters (shared modules exporting ova_msgapi_*).
 * SPDX-License-Identifier: MIT */
#include "ova-config.h"
#include <ova/msg.h>
#include <gmodule.h>
#include <string.h>

static const struct {
  const gchar *alias, *file;
} aliases[] = {
  { "mqtt", "libova_mqtt.so" },   { "libnvds_mqtt_proto.so", "libova_mqtt.so" },
  { "amqp", "libova_amqp.so" },   { "libnvds_amqp_proto.so", "libova_amqp.so" },
  { "redis", "libova_redis.so" }, { "libnvds_redis_proto.so", "libova_redis.so" },
  { "kafka", "libova_kafka.so" }, { "libnvds_kafka_proto.so", "libova_kafka.so" },
};

static gchar *
resolve (const gchar *name)
{
  if (strchr (name, '/'))
    return g_strdup (name);
  g_autofree gchar *base = g_path_get_basename (name);
  const gchar *file = name;
  for (guint i = 0; i < G_N_ELEMENTS (aliases); i++)
    if (!g_ascii_strcasecmp (base, aliases[i].alias))
      file = aliases[i].file;
  g_autoptr (GPtrArray) dirs = g_ptr_array_new_with_free_func (g_free);
  const gchar *env = g_getenv ("OVA_ADAPTER_PATH");
  if (env) {
    g_auto (GStrv) parts = g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, -1);
    for (guint i = 0; parts[i]; i++)
      if (*parts[i])
        g_ptr_array_add (dirs, g_strdup (parts[i]));
  }
  g_ptr_array_add (dirs, g_build_filename (OVA_BUILD_DIR, "lib", "msg", "adapters", NULL));
  g_ptr_array_add (dirs, g_strdup (OVA_ADAPTER_DIR));
  for (guint i = 0; i < dirs->len; i++) {
    gchar *p = g_build_filename (g_ptr_array_index (dirs, i), file, NULL);
    if (g_file_test (p, G_FILE_TEST_IS_REGULAR))
      return p;
    g_free (p);
  }
  return NULL;
}

void
ova_msg_adapter_free (OvaMsgAdapter *ad)
{
  if (!ad)
    return;
  if (ad->module)
    g_module_close (ad->module);
  g_free (ad->path);
  g_free (ad);
}

OvaMsgAdapter *
ova_msg_adapter_load (const gchar *name, GError **error)
{
  if (!name || !*name) {
    g_set_error (error, OVA_MSG_ERROR, OVA_MSG_ERROR_ADAPTER,
                 "no protocol adapter given (proto-lib: mqtt, amqp, redis, kafka or a path)");
    return NULL;
  }
  gchar *path = resolve (name);
  if (!path) {
    g_set_error (error, OVA_MSG_ERROR, OVA_MSG_ERROR_ADAPTER,
                 "protocol adapter '%s' not found (searched $OVA_ADAPTER_PATH, %s/lib/msg/adapters, %s)",
                 name, OVA_BUILD_DIR, OVA_ADAPTER_DIR);
    return NULL;
  }
  OvaMsgAdapter *ad = g_new0 (OvaMsgAdapter, 1);
  ad->path = path;
  ad->module = g_module_open (path, G_MODULE_BIND_LOCAL);
  if (!ad->module) {
    g_set_error (error, OVA_MSG_ERROR, OVA_MSG_ERROR_ADAPTER, "protocol adapter %s: %s", path,
                 g_module_error ());
    ova_msg_adapter_free (ad);
    return NULL;
  }
#define SYM(field, sym, required)                                                              \
  if (!g_module_symbol (ad->module, sym, (gpointer *) &ad->field) && required) {               \
    g_set_error (error, OVA_MSG_ERROR, OVA_MSG_ERROR_ADAPTER,                                  \
                 "protocol adapter %s does not export %s", path, sym);                         \
    ova_msg_adapter_free (ad);                                                                 \
    return NULL;                                                                               \
  }
  SYM (connect, "ova_msgapi_connect", TRUE);
  SYM (send, "ova_msgapi_send", TRUE);
  SYM (send_async, "ova_msgapi_send_async", TRUE);
  SYM (subscribe, "ova_msgapi_subscribe", FALSE);
  SYM (do_work, "ova_msgapi_do_work", FALSE);
  SYM (disconnect, "ova_msgapi_disconnect", TRUE);
  SYM (getversion, "ova_msgapi_getversion", TRUE);
  SYM (get_protocol_name, "ova_msgapi_get_protocol_name", TRUE);
  SYM (connection_signature, "ova_msgapi_connection_signature", FALSE);
#undef SYM
  return ad;
}
