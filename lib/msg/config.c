/* ova — msg2p-style converter configuration and connection strings.
 * SPDX-License-Identifier: MIT */
#include <ova/msg.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (ova-msg-error-quark, ova_msg_error)

static void
sensor_free (gpointer p)
{
  OvaMsgSensor *s = p;
  g_free (s->id); g_free (s->type); g_free (s->description);
  g_free (s);
}

static void
place_free (gpointer p)
{
  OvaMsgPlace *pl = p;
  g_free (pl->id); g_free (pl->name); g_free (pl->type);
  for (int i = 0; i < 3; i++)
    g_free (pl->sub_field[i]);
  g_free (pl);
}

static void
analytics_free (gpointer p)
{
  OvaMsgAnalytics *a = p;
  g_free (a->id); g_free (a->description); g_free (a->source); g_free (a->version);
  g_free (a);
}

void
ova_msg_conv_config_free (OvaMsgConvConfig *cfg)
{
  if (!cfg)
    return;
  g_hash_table_unref (cfg->sensors);
  g_hash_table_unref (cfg->places);
  g_hash_table_unref (cfg->analytics);
  g_free (cfg);
}

/* Group "sensor12" → prefix "sensor", index 12. */
static gboolean
split_group (const gchar *group, const gchar *prefix, guint *index)
{
  gsize n = strlen (prefix);
  if (strncmp (group, prefix, n) != 0 || group[n] == '\0')
    return FALSE;
  gchar *end = NULL;
  guint64 v = g_ascii_strtoull (group + n, &end, 10);
  if (*end != '\0' || v > G_MAXUINT)
    return FALSE;
  *index = (guint) v;
  return TRUE;
}

typedef struct {
  GKeyFile *kf;
  const gchar *path, *group;
  GError **error;
} Ctx;

static gboolean
get_str (Ctx *c, const gchar *key, gchar **out)
{
  if (!g_key_file_has_key (c->kf, c->group, key, NULL))
    return TRUE;
  *out = g_key_file_get_string (c->kf, c->group, key, NULL);
  return TRUE;
}

static gboolean
get_bool (Ctx *c, const gchar *key, gboolean *out)
{
  if (!g_key_file_has_key (c->kf, c->group, key, NULL))
    return TRUE;
  g_autofree gchar *v = g_key_file_get_string (c->kf, c->group, key, NULL);
  g_strstrip (v);
  if (!g_strcmp0 (v, "1") || !g_ascii_strcasecmp (v, "true")) { *out = TRUE; return TRUE; }
  if (!g_strcmp0 (v, "0") || !g_ascii_strcasecmp (v, "false")) { *out = FALSE; return TRUE; }
  g_set_error (c->error, OVA_MSG_ERROR, OVA_MSG_ERROR_CONFIG,
               "%s: [%s] %s: expected 0 or 1, got '%s'", c->path, c->group, key, v);
  return FALSE;
}

/* "a;b;c" → 3 doubles (DeepStream's location/coordinate). */
static gboolean
get_triple (Ctx *c, const gchar *key, gdouble out[3])
{
  if (!g_key_file_has_key (c->kf, c->group, key, NULL))
    return TRUE;
  g_autofree gchar *v = g_key_file_get_string (c->kf, c->group, key, NULL);
  g_auto (GStrv) parts = g_strsplit (v, ";", -1);
  guint n = 0;
  for (guint i = 0; parts[i]; i++) {
    g_strstrip (parts[i]);
    if (!*parts[i])
      continue;
    gchar *end = NULL;
    gdouble d = g_ascii_strtod (parts[i], &end);
    if (*end != '\0' || n >= 3) {
      n = 99;
      break;
    }
    out[n++] = d;
  }
  if (n != 3) {
    g_set_error (c->error, OVA_MSG_ERROR, OVA_MSG_ERROR_CONFIG,
                 "%s: [%s] %s: expected three numbers separated by ';', got '%s'",
                 c->path, c->group, key, v);
    return FALSE;
  }
  return TRUE;
}

static gboolean
check_keys (Ctx *c, const gchar *const *known)
{
  g_auto (GStrv) keys = g_key_file_get_keys (c->kf, c->group, NULL, NULL);
  for (guint i = 0; keys && keys[i]; i++) {
    if (!g_strv_contains (known, keys[i])) {
      g_set_error (c->error, OVA_MSG_ERROR, OVA_MSG_ERROR_CONFIG,
                   "%s: [%s] %s: unknown key", c->path, c->group, keys[i]);
      return FALSE;
    }
  }
  return TRUE;
}

OvaMsgConvConfig *
ova_msg_conv_config_load (const gchar *path, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_key_file_set_list_separator (kf, ';');
  GError *e = NULL;
  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &e)) {
    g_set_error (error, OVA_MSG_ERROR, OVA_MSG_ERROR_CONFIG, "%s: %s", path, e->message);
    g_error_free (e);
    return NULL;
  }
  OvaMsgConvConfig *cfg = g_new0 (OvaMsgConvConfig, 1);
  cfg->sensors = g_hash_table_new_full (NULL, NULL, NULL, sensor_free);
  cfg->places = g_hash_table_new_full (NULL, NULL, NULL, place_free);
  cfg->analytics = g_hash_table_new_full (NULL, NULL, NULL, analytics_free);

  g_auto (GStrv) groups = g_key_file_get_groups (kf, NULL);
  for (guint i = 0; groups[i]; i++) {
    Ctx c = { kf, path, groups[i], error };
    guint idx;
    if (split_group (groups[i], "sensor", &idx)) {
      static const gchar *const known[] = { "enable", "id", "type", "description", "location",
                                            "coordinate", NULL };
      OvaMsgSensor *s = g_new0 (OvaMsgSensor, 1);
      s->enabled = TRUE;
      g_hash_table_replace (cfg->sensors, GUINT_TO_POINTER (idx), s);
      if (!check_keys (&c, known) || !get_bool (&c, "enable", &s->enabled) ||
          !get_str (&c, "id", &s->id) || !get_str (&c, "type", &s->type) ||
          !get_str (&c, "description", &s->description) ||
          !get_triple (&c, "location", s->location) || !get_triple (&c, "coordinate", s->coordinate))
        goto fail;
    } else if (split_group (groups[i], "place", &idx)) {
      static const gchar *const known[] = { "enable", "id", "type", "name", "location",
                                            "coordinate", "place-sub-field1", "place-sub-field2",
                                            "place-sub-field3", NULL };
      OvaMsgPlace *p = g_new0 (OvaMsgPlace, 1);
      p->enabled = TRUE;
      g_hash_table_replace (cfg->places, GUINT_TO_POINTER (idx), p);
      if (!check_keys (&c, known) || !get_bool (&c, "enable", &p->enabled) ||
          !get_str (&c, "id", &p->id) || !get_str (&c, "type", &p->type) ||
          !get_str (&c, "name", &p->name) || !get_triple (&c, "location", p->location) ||
          !get_triple (&c, "coordinate", p->coordinate) ||
          !get_str (&c, "place-sub-field1", &p->sub_field[0]) ||
          !get_str (&c, "place-sub-field2", &p->sub_field[1]) ||
          !get_str (&c, "place-sub-field3", &p->sub_field[2]))
        goto fail;
    } else if (split_group (groups[i], "analytics", &idx)) {
      static const gchar *const known[] = { "enable", "id", "description", "source", "version",
                                            NULL };
      OvaMsgAnalytics *a = g_new0 (OvaMsgAnalytics, 1);
      a->enabled = TRUE;
      g_hash_table_replace (cfg->analytics, GUINT_TO_POINTER (idx), a);
      if (!check_keys (&c, known) || !get_bool (&c, "enable", &a->enabled) ||
          !get_str (&c, "id", &a->id) || !get_str (&c, "description", &a->description) ||
          !get_str (&c, "source", &a->source) || !get_str (&c, "version", &a->version))
        goto fail;
    } else {
      g_set_error (error, OVA_MSG_ERROR, OVA_MSG_ERROR_CONFIG,
                   "%s: [%s]: unknown group (expected sensorN, placeN or analyticsN)", path,
                   groups[i]);
      goto fail;
    }
  }
  return cfg;
fail:
  ova_msg_conv_config_free (cfg);
  return NULL;
}

#define LOOKUP(tbl, T)                                                     \
  if (!cfg)                                                                \
    return NULL;                                                           \
  const T *v = g_hash_table_lookup (cfg->tbl, GUINT_TO_POINTER (source_id)); \
  return v && v->enabled ? v : NULL;

const OvaMsgSensor *
ova_msg_conv_config_sensor (const OvaMsgConvConfig *cfg, guint source_id)
{
  LOOKUP (sensors, OvaMsgSensor)
}

const OvaMsgPlace *
ova_msg_conv_config_place (const OvaMsgConvConfig *cfg, guint source_id)
{
  LOOKUP (places, OvaMsgPlace)
}

const OvaMsgAnalytics *
ova_msg_conv_config_analytics (const OvaMsgConvConfig *cfg, guint source_id)
{
  LOOKUP (analytics, OvaMsgAnalytics)
}

gboolean
ova_msg_parse_conn_str (const gchar *conn_str, gchar **host, guint *port, gchar **topic,
                        GError **error)
{
  *host = NULL;
  *port = 0;
  if (topic)
    *topic = NULL;
  if (!conn_str || !*conn_str) {
    g_set_error (error, OVA_MSG_ERROR, OVA_MSG_ERROR_CONFIG,
                 "empty connection string (expected \"host;port\" or \"host;port;topic\")");
    return FALSE;
  }
  g_auto (GStrv) parts = g_strsplit (conn_str, ";", -1);
  guint n = g_strv_length (parts);
  for (guint i = 0; i < n; i++)
    g_strstrip (parts[i]);
  if (n < 2 || n > 3 || !*parts[0]) {
    g_set_error (error, OVA_MSG_ERROR, OVA_MSG_ERROR_CONFIG,
                 "connection string '%s': expected \"host;port\" or \"host;port;topic\"", conn_str);
    return FALSE;
  }
  gchar *end = NULL;
  guint64 p = g_ascii_strtoull (parts[1], &end, 10);
  if (!*parts[1] || *end != '\0' || p == 0 || p > 65535) {
    g_set_error (error, OVA_MSG_ERROR, OVA_MSG_ERROR_CONFIG,
                 "connection string '%s': port '%s' is not a number in 1..65535", conn_str, parts[1]);
    return FALSE;
  }
  *host = g_strdup (parts[0]);
  *port = (guint) p;
  if (topic && n == 3 && *parts[2])
    *topic = g_strdup (parts[2]);
  return TRUE;
}
