/* ova-app — [message-consumerN]: cloud-to-device commands. SPDX-License-Identifier: MIT
 *
 * Each consumer connects through a broker adapter (the same ones ovamsgbroker
 * uses), subscribes to its topics and hands every command to the main
 * thread: it is logged and counted; set-property is applied to the named
 * element of the pipeline. */
#include "app.h"
#include <ova/msg.h>
#include <string.h>

typedef struct {
  OvaApp *app;
  const OvaConsumerConfig *cfg;
  OvaMsgPublisher *pub;
} Consumer;

typedef struct {
  Consumer *consumer;
  GstStructure *command;        /* NULL: rejected */
  gchar *topic, *reason, *raw;
} CommandEvent;

static void
command_event_free (CommandEvent *ev)
{
  if (ev->command)
    gst_structure_free (ev->command);
  g_free (ev->topic);
  g_free (ev->reason);
  g_free (ev->raw);
  g_free (ev);
}

static void
apply_set_property (OvaApp *app, const GstStructure *s)
{
  const gchar *name = gst_structure_get_string (s, "element");
  const gchar *prop = gst_structure_get_string (s, "property");
  const gchar *value = gst_structure_get_string (s, "value");
  GstElement *e = gst_bin_get_by_name (GST_BIN (app->pipeline), name);
  if (!e) {
    g_printerr ("ova-app: set-property: no element '%s' in the pipeline\n", name);
    return;
  }
  if (!g_object_class_find_property (G_OBJECT_GET_CLASS (e), prop))
    g_printerr ("ova-app: set-property: element '%s' has no property '%s'\n", name, prop);
  else {
    gst_util_set_object_arg (G_OBJECT (e), prop, value);
    g_print ("ova-app: set-property: %s.%s = %s\n", name, prop, value);
  }
  gst_object_unref (e);
}

static gboolean
handle_command (gpointer data)
{
  CommandEvent *ev = data;
  OvaApp *app = ev->consumer->app;
  if (!ev->command) {
    g_printerr ("ova-app: [%s] rejected a message on '%s': %s\n", ev->consumer->cfg->group, ev->topic, ev->reason);
  } else {
    gchar *text = gst_structure_to_string (ev->command);
    const gchar *cmd = gst_structure_get_string (ev->command, "command");
    app->commands_received++;
    g_print ("ova-app: [%s] command on '%s': %s\n", ev->consumer->cfg->group, ev->topic, text);
    g_free (text);
    if (!g_strcmp0 (cmd, "set-property"))
      apply_set_property (app, ev->command);
    else
      g_print ("ova-app: command '%s' is not acted on by ova-app (logged only)\n", cmd);
  }
  return G_SOURCE_REMOVE;
}

/* The adapter's thread: copy and hand over to the main loop. */
static void
on_command (const OvaMsgCommand *cmd, const gchar *topic, gpointer user)
{
  CommandEvent *ev = g_new0 (CommandEvent, 1);
  ev->consumer = user;
  ev->command = ova_msg_command_to_structure (cmd);
  ev->topic = g_strdup (topic);
  g_idle_add_full (G_PRIORITY_DEFAULT, handle_command, ev, (GDestroyNotify) command_event_free);
}

static void
on_reject (const gchar *raw, gsize len, const gchar *topic, const gchar *reason, gpointer user)
{
  CommandEvent *ev = g_new0 (CommandEvent, 1);
  ev->consumer = user;
  ev->topic = g_strdup (topic);
  ev->reason = g_strdup (reason);
  g_idle_add_full (G_PRIORITY_DEFAULT, handle_command, ev, (GDestroyNotify) command_event_free);
}

static void
consumer_free (gpointer data)
{
  Consumer *c = data;
  if (c->pub)
    ova_msg_publisher_free (c->pub);
  g_free (c);
}

gboolean
ova_app_start_consumers (OvaApp *app, GError **error)
{
  for (guint i = 0; i < app->cfg->n_consumers; i++) {
    const OvaConsumerConfig *cc = &app->cfg->consumers[i];
    OvaMsgPublisherOptions o = { 0 };
    Consumer *c;
    gchar **topics;
    GError *err = NULL;
    gboolean ok;
    if (!cc->enable)
      continue;
    o.proto_lib = cc->proto_lib;
    o.conn_str = cc->conn_str;
    o.config = cc->config_file;
    c = g_new0 (Consumer, 1);
    c->app = app;
    c->cfg = cc;
    c->pub = ova_msg_publisher_new (&o, &err);
    if (!app->consumers)
      app->consumers = g_ptr_array_new_with_free_func (consumer_free);
    g_ptr_array_add (app->consumers, c);
    if (!c->pub) {
      g_set_error (error, err->domain, err->code, "%s: [%s]: %s", app->cfg->path, cc->group, err->message);
      g_clear_error (&err);
      return FALSE;
    }
    topics = g_strsplit (cc->subscribe_topic_list, ";", -1);
    ok = ova_msg_publisher_subscribe (c->pub, (const gchar * const *) topics, on_command, on_reject, c, &err);
    if (ok)
      g_print ("ova-app: [%s] listening for commands on %s (%s)\n", cc->group, cc->subscribe_topic_list, cc->conn_str);
    g_strfreev (topics);
    if (!ok) {
      g_set_error (error, err->domain, err->code, "%s: [%s] subscribe-topic-list: %s", app->cfg->path, cc->group,
          err->message);
      g_clear_error (&err);
      return FALSE;
    }
  }
  return TRUE;
}

void
ova_app_stop_consumers (OvaApp *app)
{
  g_clear_pointer (&app->consumers, g_ptr_array_unref);
}
