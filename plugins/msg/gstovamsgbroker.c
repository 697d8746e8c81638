/* ova — ovamsgbroker. SPDX-License-Identifier: MIT */
/**
 * SECTION:element-ovamsgbroker
 * @title: ovamsgbroker
 *
 * Sends the payloads that ovamsgconv attached (#OvaMsgPayloadMeta) to a
 * broker through a protocol adapter (`proto-lib`: mqtt, amqp, redis, kafka,
 * or a path to an adapter .so; DeepStream's libnvds_*_proto.so names map to
 * ova's) — DeepStream's nvmsgbroker. With `spool-dir` set, every payload is
 * first appended to an on-disk spool and sent from there: what the broker
 * has not acknowledged survives broker outages and restarts of the
 * application, and goes out in order once the broker is back. When
 * `spool-max-bytes` is hit, the oldest are dropped and counted (warning and
 * the "stats" property).
 *
 * Cloud to device: with `subscribe-topics`, JSON commands arriving on those
 * topics are parsed; accepted ones are emitted as the "command" signal and
 * posted as an element message "ova-msg-command", rejected ones are logged
 * and posted as "ova-msg-command-rejected" with a "reason" field. Connection
 * changes are posted as "ova-msg-broker-connection" (connected, reason).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=100 ! video/x-raw,width=640,height=480 ! m.sink_0 \
 *   ovamux name=m batch-size=1 ! ovamsgconv payload-type=2 ! \
 *   ovamsgbroker proto-lib=mqtt conn-str="127.0.0.1;1883;ova/events" spool-dir=/tmp/ova-spool
 * ]|
 */
#include "gstovamsgbroker.h"

GST_DEBUG_CATEGORY_STATIC (ova_msg_broker_debug);
#define GST_CAT_DEFAULT ova_msg_broker_debug

enum {
  PROP_0,
  PROP_PROTO_LIB,
  PROP_CONN_STR,
  PROP_CONFIG,
  PROP_TOPIC,
  PROP_COMP_ID,
  PROP_SPOOL_DIR,
  PROP_SPOOL_MAX_BYTES,
  PROP_FSYNC,
  PROP_SUBSCRIBE_TOPICS,
  PROP_FLUSH_TIMEOUT,
  PROP_NEW_API,
  PROP_START_OFFLINE,
  PROP_STATS,
};

enum { SIGNAL_COMMAND, N_SIGNALS };
static guint signals[N_SIGNALS];

struct _GstOvaMsgBroker {
  GstBaseSink parent;
  gchar *proto_lib, *conn_str, *config, *topic, *spool_dir, *subscribe_topics;
  guint comp_id, flush_timeout;
  guint64 spool_max_bytes;
  gint fsync;
  gboolean new_api, start_offline;
  OvaMsgPublisher *pub;
};

G_DEFINE_TYPE (GstOvaMsgBroker, gst_ova_msg_broker, GST_TYPE_BASE_SINK);
GST_ELEMENT_REGISTER_DEFINE (ovamsgbroker, "ovamsgbroker", GST_RANK_NONE, GST_TYPE_OVA_MSG_BROKER);

static GstStaticPadTemplate sink_t = GST_STATIC_PAD_TEMPLATE ("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

#define GST_TYPE_OVA_SPOOL_FSYNC (ova_spool_fsync_get_type ())
static GType
ova_spool_fsync_get_type (void)
{
  static GType t = 0;
  static const GEnumValue values[] = {
    { OVA_SPOOL_FSYNC_NEVER, "Never: the OS writes back (survives a crash of ova, not of the machine)", "never" },
    { OVA_SPOOL_FSYNC_INTERVAL, "At most every 200 ms", "interval" },
    { OVA_SPOOL_FSYNC_ALWAYS, "Every record before it is sent", "always" },
    { 0, NULL, NULL },
  };
  if (g_once_init_enter (&t))
    g_once_init_leave (&t, g_enum_register_static ("OvaSpoolFsync", values));
  return t;
}

static void
set_property (GObject *obj, guint id, const GValue *v, GParamSpec *ps)
{
  GstOvaMsgBroker *self = GST_OVA_MSG_BROKER (obj);
  GST_OBJECT_LOCK (self);
  switch (id) {
    case PROP_PROTO_LIB: g_free (self->proto_lib); self->proto_lib = g_value_dup_string (v); break;
    case PROP_CONN_STR: g_free (self->conn_str); self->conn_str = g_value_dup_string (v); break;
    case PROP_CONFIG: g_free (self->config); self->config = g_value_dup_string (v); break;
    case PROP_TOPIC: g_free (self->topic); self->topic = g_value_dup_string (v); break;
    case PROP_COMP_ID: self->comp_id = g_value_get_uint (v); break;
    case PROP_SPOOL_DIR: g_free (self->spool_dir); self->spool_dir = g_value_dup_string (v); break;
    case PROP_SPOOL_MAX_BYTES: self->spool_max_bytes = g_value_get_uint64 (v); break;
    case PROP_FSYNC: self->fsync = g_value_get_enum (v); break;
    case PROP_SUBSCRIBE_TOPICS:
      g_free (self->subscribe_topics);
      self->subscribe_topics = g_value_dup_string (v);
      break;
    case PROP_FLUSH_TIMEOUT: self->flush_timeout = g_value_get_uint (v); break;
    case PROP_NEW_API: self->new_api = g_value_get_boolean (v); break;
    case PROP_START_OFFLINE: self->start_offline = g_value_get_boolean (v); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (obj, id, ps);
  }
  GST_OBJECT_UNLOCK (self);
}

static GstStructure *
stats_structure (GstOvaMsgBroker *self)
{
  OvaMsgPublisherStats st = { 0 };
  if (self->pub)
    ova_msg_publisher_get_stats (self->pub, &st);
  return gst_structure_new ("ova-msg-broker-stats",
      "queued", G_TYPE_UINT64, st.queued, "sent", G_TYPE_UINT64, st.sent,
      "acked", G_TYPE_UINT64, st.acked, "resent", G_TYPE_UINT64, st.resent,
      "dropped", G_TYPE_UINT64, st.dropped, "pending", G_TYPE_UINT64, st.pending,
      "disconnects", G_TYPE_UINT64, st.disconnects, "corrupt", G_TYPE_UINT64, st.corrupt,
      "recovered", G_TYPE_UINT64, st.recovered, "commands", G_TYPE_UINT64, st.commands,
      "rejected", G_TYPE_UINT64, st.rejected, NULL);
}

static void
get_property (GObject *obj, guint id, GValue *v, GParamSpec *ps)
{
  GstOvaMsgBroker *self = GST_OVA_MSG_BROKER (obj);
  if (id == PROP_STATS) {
    g_value_take_boxed (v, stats_structure (self));
    return;
  }
  GST_OBJECT_LOCK (self);
  switch (id) {
    case PROP_PROTO_LIB: g_value_set_string (v, self->proto_lib); break;
    case PROP_CONN_STR: g_value_set_string (v, self->conn_str); break;
    case PROP_CONFIG: g_value_set_string (v, self->config); break;
    case PROP_TOPIC: g_value_set_string (v, self->topic); break;
    case PROP_COMP_ID: g_value_set_uint (v, self->comp_id); break;
    case PROP_SPOOL_DIR: g_value_set_string (v, self->spool_dir); break;
    case PROP_SPOOL_MAX_BYTES: g_value_set_uint64 (v, self->spool_max_bytes); break;
    case PROP_FSYNC: g_value_set_enum (v, self->fsync); break;
    case PROP_SUBSCRIBE_TOPICS: g_value_set_string (v, self->subscribe_topics); break;
    case PROP_FLUSH_TIMEOUT: g_value_set_uint (v, self->flush_timeout); break;
    case PROP_NEW_API: g_value_set_boolean (v, self->new_api); break;
    case PROP_START_OFFLINE: g_value_set_boolean (v, self->start_offline); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (obj, id, ps);
  }
  GST_OBJECT_UNLOCK (self);
}

static void
on_command (const OvaMsgCommand *cmd, const gchar *topic, gpointer user)
{
  GstOvaMsgBroker *self = user;
  GstStructure *s = ova_msg_command_to_structure (cmd);
  gst_structure_set (s, "topic", G_TYPE_STRING, topic, NULL);
  g_signal_emit (self, signals[SIGNAL_COMMAND], 0, s);
  gst_element_post_message (GST_ELEMENT (self),
                            gst_message_new_element (GST_OBJECT (self), s));
}

static void
on_reject (const gchar *raw, gsize len, const gchar *topic, const gchar *reason, gpointer user)
{
  GstOvaMsgBroker *self = user;
  g_autofree gchar *text = g_utf8_make_valid (raw, (gssize) MIN (len, 4096));
  GST_WARNING_OBJECT (self, "rejected command on %s: %s", topic, reason);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("ova-msg-command-rejected", "topic", G_TYPE_STRING, topic,
                             "reason", G_TYPE_STRING, reason, "message", G_TYPE_STRING, text, NULL)));
}

static void
on_connection (gboolean connected, const gchar *reason, gpointer user)
{
  GstOvaMsgBroker *self = user;
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("ova-msg-broker-connection", "connected", G_TYPE_BOOLEAN, connected,
                             "reason", G_TYPE_STRING, reason ? reason : "", NULL)));
}

static gboolean
start (GstBaseSink *bs)
{
  GstOvaMsgBroker *self = GST_OVA_MSG_BROKER (bs);
  OvaMsgPublisherOptions o = { 0 };
  o.proto_lib = self->proto_lib;
  o.conn_str = self->conn_str;
  o.config = self->config;
  o.topic = self->topic;
  o.spool_dir = self->spool_dir && *self->spool_dir ? self->spool_dir : NULL;
  o.spool_max_bytes = self->spool_max_bytes;
  o.fsync = self->fsync;
  o.start_offline = self->start_offline;
  GError *e = NULL;
  self->pub = ova_msg_publisher_new (&o, &e);
  if (!self->pub) {
    GST_ELEMENT_ERROR (self, RESOURCE, OPEN_WRITE, ("%s", e->message),
                       ("proto-lib=%s conn-str=%s config=%s", self->proto_lib, self->conn_str,
                        self->config ? self->config : "(none)"));
    g_error_free (e);
    return FALSE;
  }
  ova_msg_publisher_set_connection_func (self->pub, on_connection, self);
  if (self->subscribe_topics && *self->subscribe_topics) {
    g_auto (GStrv) topics = g_strsplit (self->subscribe_topics, ";", -1);
    if (!ova_msg_publisher_subscribe (self->pub, (const gchar *const *) topics, on_command,
                                      on_reject, self, &e)) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", e->message), (NULL));
      g_error_free (e);
      g_clear_pointer (&self->pub, ova_msg_publisher_free);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
stop (GstBaseSink *bs)
{
  GstOvaMsgBroker *self = GST_OVA_MSG_BROKER (bs);
  if (self->pub) {
    if (!ova_msg_publisher_flush (self->pub, self->flush_timeout)) {
      OvaMsgPublisherStats st;
      ova_msg_publisher_get_stats (self->pub, &st);
      GST_ELEMENT_WARNING (self, RESOURCE, WRITE, ("broker did not acknowledge %" G_GUINT64_FORMAT
                           " messages in time", st.pending),
                           ("%s", self->spool_dir ? "they stay in the spool for the next run"
                                                  : "they are lost: set spool-dir to keep them"));
    }
    g_clear_pointer (&self->pub, ova_msg_publisher_free);
  }
  return TRUE;
}

static GstFlowReturn
render (GstBaseSink *bs, GstBuffer *buf)
{
  GstOvaMsgBroker *self = GST_OVA_MSG_BROKER (bs);
  OvaMsgPayloadMeta *meta = ova_buffer_get_msg_payload_meta (buf);
  if (!meta)
    return GST_FLOW_OK;
  for (guint i = 0; i < meta->payloads->len; i++) {
    OvaMsgPayload *p = g_ptr_array_index (meta->payloads, i);
    if (self->comp_id && p->component_id != self->comp_id)
      continue;
    gsize len;
    const void *data = g_bytes_get_data (p->data, &len);
    GError *e = NULL;
    if (!ova_msg_publisher_push (self->pub, p->topic, data, len, &e)) {
      GST_ELEMENT_ERROR (self, RESOURCE, WRITE, ("%s", e->message), (NULL));
      g_error_free (e);
      return GST_FLOW_ERROR;
    }
  }
  return GST_FLOW_OK;
}

static void
finalize (GObject *obj)
{
  GstOvaMsgBroker *self = GST_OVA_MSG_BROKER (obj);
  g_free (self->proto_lib);
  g_free (self->conn_str);
  g_free (self->config);
  g_free (self->topic);
  g_free (self->spool_dir);
  g_free (self->subscribe_topics);
  G_OBJECT_CLASS (gst_ova_msg_broker_parent_class)->finalize (obj);
}

static void
gst_ova_msg_broker_init (GstOvaMsgBroker *self)
{
  self->fsync = OVA_SPOOL_FSYNC_INTERVAL;
  self->flush_timeout = 3000;
  self->spool_max_bytes = 256u << 20;
  gst_base_sink_set_sync (GST_BASE_SINK (self), FALSE);
  gst_base_sink_set_async_enabled (GST_BASE_SINK (self), FALSE);
}

static void
gst_ova_msg_broker_class_init (GstOvaMsgBrokerClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  GstElementClass *ec = GST_ELEMENT_CLASS (klass);
  GstBaseSinkClass *bc = GST_BASE_SINK_CLASS (klass);
  GST_DEBUG_CATEGORY_INIT (ova_msg_broker_debug, "ovamsgbroker", 0, "ova message broker");
  oc->set_property = set_property;
  oc->get_property = get_property;
  oc->finalize = finalize;
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY;
  g_object_class_install_property (oc, PROP_PROTO_LIB,
      g_param_spec_string ("proto-lib", "Protocol library",
                           "Adapter: mqtt, amqp, redis, kafka, a file name in the adapter directory, "
                           "or a path; DeepStream's libnvds_{mqtt,amqp,redis,kafka}_proto.so map to ova's",
                           NULL, rw));
  g_object_class_install_property (oc, PROP_CONN_STR,
      g_param_spec_string ("conn-str", "Connection string", "\"host;port\" or \"host;port;topic\"",
                           NULL, rw));
  g_object_class_install_property (oc, PROP_CONFIG,
      g_param_spec_string ("config", "Config", "Adapter config file ([message-broker] group)", NULL, rw));
  g_object_class_install_property (oc, PROP_TOPIC,
      g_param_spec_string ("topic", "Topic", "Topic (overrides the conn-str and config topic)",
                           NULL, rw));
  g_object_class_install_property (oc, PROP_COMP_ID,
      g_param_spec_uint ("comp-id", "Component id",
                         "Send only payloads from the ovamsgconv with this comp-id (0: all)", 0,
                         G_MAXUINT, 0, rw));
  g_object_class_install_property (oc, PROP_SPOOL_DIR,
      g_param_spec_string ("spool-dir", "Spool directory",
                           "Keep unacknowledged messages here (at-least-once across broker outages "
                           "and restarts); NULL: in memory only", NULL, rw));
  g_object_class_install_property (oc, PROP_SPOOL_MAX_BYTES,
      g_param_spec_uint64 ("spool-max-bytes", "Spool bound",
                           "Bytes the spool (or the memory queue) may hold; the oldest are dropped "
                           "and counted beyond it", 4096, G_MAXUINT64, 256u << 20, rw));
  g_object_class_install_property (oc, PROP_FSYNC,
      g_param_spec_enum ("fsync", "fsync policy", "When the spool is synced to disk",
                         GST_TYPE_OVA_SPOOL_FSYNC, OVA_SPOOL_FSYNC_INTERVAL, rw));
  g_object_class_install_property (oc, PROP_SUBSCRIBE_TOPICS,
      g_param_spec_string ("subscribe-topics", "Subscribe topics",
                           "';'-separated topics carrying cloud-to-device JSON commands", NULL, rw));
  g_object_class_install_property (oc, PROP_FLUSH_TIMEOUT,
      g_param_spec_uint ("flush-timeout", "Flush timeout",
                         "Milliseconds to wait for acknowledgements when stopping", 0, G_MAXUINT,
                         3000, rw));
  g_object_class_install_property (oc, PROP_NEW_API,
      g_param_spec_boolean ("new-api", "New API", "Accepted for DeepStream compatibility; ignored",
                            FALSE, rw));
  g_object_class_install_property (oc, PROP_START_OFFLINE,
      g_param_spec_boolean ("start-offline", "Start offline",
                            "Start even when the broker does not answer: queue (in the spool) and "
                            "keep trying every second; wrong settings still fail", FALSE, rw));
  g_object_class_install_property (oc, PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
                          "queued, sent, acked, resent, dropped, pending, disconnects, corrupt, "
                          "recovered, commands, rejected", GST_TYPE_STRUCTURE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  /**
   * GstOvaMsgBroker::command:
   * @structure: "ova-msg-command" (command, source-id, topic, and uri /
   *   duration / element, property, value as the command has them)
   *
   * A cloud-to-device command was accepted. Emitted from the adapter's thread.
   */
  signals[SIGNAL_COMMAND] = g_signal_new ("command", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                                          GST_TYPE_STRUCTURE | G_SIGNAL_TYPE_STATIC_SCOPE);
  gst_element_class_add_static_pad_template (ec, &sink_t);
  gst_element_class_set_static_metadata (ec, "ova message broker", "Sink/Metadata",
      "Sends event payloads to MQTT, AMQP, Redis or Kafka, at least once", "ova");
  bc->start = start;
  bc->stop = stop;
  bc->render = render;
}
