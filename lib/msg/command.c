/* ova — cloud-to-device commands: JSON → OvaMsgCommand, with reasons for rejection.
 * SPDX-License-Identifier: MIT */
#include <ova/msg.h>
#include <json-glib/json-glib.h>
#include <string.h>

static const struct {
  OvaMsgCommandType type;
  const gchar *name;
} commands[] = {
  { OVA_MSG_CMD_START_RECORDING, "start-recording" },
  { OVA_MSG_CMD_STOP_RECORDING, "stop-recording" },
  { OVA_MSG_CMD_ADD_SOURCE, "add-source" },
  { OVA_MSG_CMD_REMOVE_SOURCE, "remove-source" },
  { OVA_MSG_CMD_SET_PROPERTY, "set-property" },
};

const gchar *
ova_msg_command_type_name (OvaMsgCommandType t)
{
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (commands[i].type == t)
      return commands[i].name;
  return "unknown";
}

void
ova_msg_command_free (OvaMsgCommand *cmd)
{
  if (!cmd)
    return;
  g_free (cmd->uri);
  g_free (cmd->element);
  g_free (cmd->property);
  g_free (cmd->value);
  g_free (cmd);
}

#define REJECT(...)                                                               \
  do {                                                                            \
    g_set_error (error, OVA_MSG_ERROR, OVA_MSG_ERROR_COMMAND, __VA_ARGS__);       \
    goto fail;                                                                    \
  } while (0)

/* A member that must be a JSON value of @type (or absent when !required). */
static JsonNode *
member (JsonObject *o, const gchar *name, GType type, gboolean required, const gchar *cmd,
        GError **error)
{
  JsonNode *n = json_object_get_member (o, name);
  if (!n) {
    if (required)
      g_set_error (error, OVA_MSG_ERROR, OVA_MSG_ERROR_COMMAND, "%s: missing \"%s\"", cmd, name);
    return NULL;
  }
  if (!JSON_NODE_HOLDS_VALUE (n) || (type != G_TYPE_INVALID && json_node_get_value_type (n) != type)) {
    g_set_error (error, OVA_MSG_ERROR, OVA_MSG_ERROR_COMMAND, "%s: \"%s\" must be %s", cmd, name,
                 type == G_TYPE_STRING ? "a string" : type == G_TYPE_INT64 ? "an integer" : "a number or string");
    return NULL;
  }
  return n;
}

OvaMsgCommand *
ova_msg_command_parse (const gchar *json, gssize len, GError **error)
{
  OvaMsgCommand *cmd = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  GError *e = NULL;
  if (json && len < 0)
    len = strlen (json);
  if (!json || len == 0)
    REJECT ("empty message");
  if (!g_utf8_validate (json, len, NULL))
    REJECT ("not UTF-8 text");
  if (!json_parser_load_from_data (parser, json, len, &e)) {
    g_set_error (error, OVA_MSG_ERROR, OVA_MSG_ERROR_COMMAND, "malformed JSON: %s", e->message);
    g_error_free (e);
    goto fail;
  }
  JsonNode *root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    REJECT ("not a JSON object");
  JsonObject *o = json_node_get_object (root);
  JsonNode *cn = json_object_get_member (o, "command");
  if (!cn || !JSON_NODE_HOLDS_VALUE (cn) || json_node_get_value_type (cn) != G_TYPE_STRING)
    REJECT ("missing \"command\" (a string)");
  const gchar *name = json_node_get_string (cn);
  cmd = g_new0 (OvaMsgCommand, 1);
  cmd->source_id = -1;
  gboolean found = FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (!strcmp (commands[i].name, name)) {
      cmd->type = commands[i].type;
      found = TRUE;
    }
  if (!found)
    REJECT ("unknown command \"%s\" (known: start-recording, stop-recording, add-source, "
            "remove-source, set-property)", name);

  GError *me = NULL;
  JsonNode *n = member (o, "source-id", G_TYPE_INT64,
                        cmd->type != OVA_MSG_CMD_ADD_SOURCE && cmd->type != OVA_MSG_CMD_SET_PROPERTY,
                        name, &me);
  if (me) {
    g_propagate_error (error, me);
    goto fail;
  }
  if (n) {
    gint64 v = json_node_get_int (n);
    if (v < 0 || v > G_MAXINT)
      REJECT ("%s: \"source-id\" out of range: %" G_GINT64_FORMAT, name, v);
    cmd->source_id = (gint) v;
  }
  switch (cmd->type) {
    case OVA_MSG_CMD_START_RECORDING: {
      JsonNode *d = json_object_get_member (o, "duration");
      if (d) {
        if (!JSON_NODE_HOLDS_VALUE (d) || (json_node_get_value_type (d) != G_TYPE_INT64 &&
                                           json_node_get_value_type (d) != G_TYPE_DOUBLE))
          REJECT ("%s: \"duration\" must be a number of seconds", name);
        cmd->duration = json_node_get_double (d);
        if (cmd->duration < 0)
          REJECT ("%s: \"duration\" must not be negative", name);
      }
      break;
    }
    case OVA_MSG_CMD_ADD_SOURCE: {
      JsonNode *u = member (o, "uri", G_TYPE_STRING, TRUE, name, &me);
      if (!u) {
        g_propagate_error (error, me);
        goto fail;
      }
      const gchar *uri = json_node_get_string (u);
      if (!gst_uri_is_valid (uri))
        REJECT ("%s: \"uri\" is not a URI: '%s'", name, uri);
      cmd->uri = g_strdup (uri);
      break;
    }
    case OVA_MSG_CMD_SET_PROPERTY: {
      JsonNode *el = member (o, "element", G_TYPE_STRING, TRUE, name, &me);
      JsonNode *pr = el ? member (o, "property", G_TYPE_STRING, TRUE, name, &me) : NULL;
      JsonNode *va = pr ? member (o, "value", G_TYPE_INVALID, TRUE, name, &me) : NULL;
      if (!va) {
        g_propagate_error (error, me);
        goto fail;
      }
      if (!*json_node_get_string (el) || !*json_node_get_string (pr))
        REJECT ("%s: \"element\" and \"property\" must not be empty", name);
      cmd->element = g_strdup (json_node_get_string (el));
      cmd->property = g_strdup (json_node_get_string (pr));
      GType vt = json_node_get_value_type (va);
      if (vt == G_TYPE_STRING)
        cmd->value = g_strdup (json_node_get_string (va));
      else if (vt == G_TYPE_INT64)
        cmd->value = g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (va));
      else if (vt == G_TYPE_DOUBLE) {
        gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
        cmd->value = g_strdup (g_ascii_dtostr (buf, sizeof buf, json_node_get_double (va)));
      } else if (vt == G_TYPE_BOOLEAN)
        cmd->value = g_strdup (json_node_get_boolean (va) ? "true" : "false");
      else
        REJECT ("%s: \"value\" must be a string, number or boolean", name);
      break;
    }
    default:
      break;
  }
  return cmd;
fail:
  ova_msg_command_free (cmd);
  return NULL;
}

GstStructure *
ova_msg_command_to_structure (const OvaMsgCommand *cmd)
{
  GstStructure *s = gst_structure_new ("ova-msg-command", "command", G_TYPE_STRING,
                                       ova_msg_command_type_name (cmd->type), "source-id",
                                       G_TYPE_INT, cmd->source_id, NULL);
  if (cmd->type == OVA_MSG_CMD_START_RECORDING)
    gst_structure_set (s, "duration", G_TYPE_DOUBLE, cmd->duration, NULL);
  if (cmd->uri)
    gst_structure_set (s, "uri", G_TYPE_STRING, cmd->uri, NULL);
  if (cmd->element)
    gst_structure_set (s, "element", G_TYPE_STRING, cmd->element, "property", G_TYPE_STRING,
                       cmd->property, "value", G_TYPE_STRING, cmd->value, NULL);
  return s;
}
