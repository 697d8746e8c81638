/* ova — Kafka adapter (librdkafka). A message is acknowledged by its delivery
 * report; librdkafka keeps retrying while brokers are down (up to
 * message.timeout.ms, after which the report says ERR and the caller re-sends).
 * Idempotent production keeps the order per partition across retries.
 * Cloud-to-device: a consumer (group consumer-group-id) subscribed to the topics.
 *
 * [message-broker] keys: proto-cfg (librdkafka properties "k=v;k=v", as in
 * DeepStream's cfg_kafka.txt), partition-key (unused field name kept for
 * compatibility), consumer-group-id (default "ova"), consumer-offset-reset
 * (latest or earliest: where a new consumer group starts), plus the common ones.
 * SPDX-License-Identifier: MIT */
#include "common.h"
#include <librdkafka/rdkafka.h>

typedef struct {
  OvaAdCommon c;
  rd_kafka_t *rk;
  rd_kafka_t *consumer;
  gchar *proto_cfg, *group_id, *offset_reset;
  OvaMsgApiConnectCb ccb;
  void *cuser;
  GMutex lock;
  GThread *thread, *sub_thread;
  gboolean stop;
  gboolean down;          /* all brokers reported down */
  OvaMsgApiSubscribeCb scb;
  void *suser;
} Kafka;

static void
dr_cb (rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
  Kafka *k = opaque;
  OvaAdReq *r = m->_private;
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    g_mutex_lock (&k->lock);
    gboolean was_down = k->down;
    k->down = FALSE;
    g_mutex_unlock (&k->lock);
    if (was_down && k->ccb)
      k->ccb (k, OVA_MSGAPI_EVT_SUCCESS, "brokers reachable again", k->cuser);
  }
  if (r)
    ova_ad_req_done (r, m->err ? OVA_MSGAPI_ERR : OVA_MSGAPI_OK);
}

static void
error_cb (rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
  Kafka *k = opaque;
  if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    g_mutex_lock (&k->lock);
    gboolean was = !k->down;
    k->down = TRUE;
    g_mutex_unlock (&k->lock);
    if (was && k->ccb)
      k->ccb (k, OVA_MSGAPI_EVT_DISCONNECT, reason, k->cuser);
  }
}

/* librdkafka logs each failed connection attempt while brokers are down; the
 * adapter reports outages through the connect callback, so its logs go to
 * the debug log (G_MESSAGES_DEBUG=ova) except critical ones. */
static void
log_cb (const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
  if (level <= 2)
    g_warning ("kafka: %s: %s", fac, buf);
  else
    g_debug ("kafka: %s: %s", fac, buf);
}

static gpointer
poll_main (gpointer data)
{
  Kafka *k = data;
  gint64 next_probe = 0;
  for (;;) {
    g_mutex_lock (&k->lock);
    gboolean stop = k->stop, down = k->down;
    g_mutex_unlock (&k->lock);
    if (stop)
      break;
    rd_kafka_poll (k->rk, 50);
    /* While the brokers are down and nothing is queued, no delivery report
     * would tell us they are back: ask for metadata now and then. */
    gint64 now = g_get_monotonic_time ();
    if (down && now >= next_probe) {
      next_probe = now + (gint64) k->c.reconnect_ms * 1000;
      const struct rd_kafka_metadata *md = NULL;
      if (rd_kafka_metadata (k->rk, 0, NULL, &md, 500) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_metadata_destroy (md);
        g_mutex_lock (&k->lock);
        gboolean was_down = k->down;
        k->down = FALSE;
        g_mutex_unlock (&k->lock);
        if (was_down && k->ccb)
          k->ccb (k, OVA_MSGAPI_EVT_SUCCESS, "brokers reachable again", k->cuser);
      }
    }
  }
  return NULL;
}

static gboolean
apply_props (rd_kafka_conf_t *conf, const char *props, const char *path, char **error_out)
{
  if (!props)
    return TRUE;
  g_auto (GStrv) parts = g_strsplit (props, ";", -1);
  for (guint i = 0; parts[i]; i++) {
    gchar *kv = g_strstrip (parts[i]);
    if (!*kv)
      continue;
    gchar *eq = strchr (kv, '=');
    if (!eq) {
      ova_ad_set_error (error_out, "%s: [%s] proto-cfg: '%s' is not key=value", path,
                        OVA_ADAPTER_GROUP, kv);
      return FALSE;
    }
    *eq = '\0';
    char err[256];
    if (rd_kafka_conf_set (conf, g_strstrip (kv), g_strstrip (eq + 1), err, sizeof err) !=
        RD_KAFKA_CONF_OK) {
      ova_ad_set_error (error_out, "%s: [%s] proto-cfg: %s", path, OVA_ADAPTER_GROUP, err);
      return FALSE;
    }
  }
  return TRUE;
}

static void
kafka_free (Kafka *k)
{
  g_free (k->proto_cfg);
  g_free (k->group_id);
  g_free (k->offset_reset);
  ova_ad_common_clear (&k->c);
  g_mutex_clear (&k->lock);
  g_free (k);
}

OvaMsgApiHandle
ova_msgapi_connect (const char *conn_str, OvaMsgApiConnectCb connect_cb, const char *config_path,
                    void *user_ptr, char **error_out)
{
  static const char *const known[] = { "proto-cfg", "partition-key", "consumer-group-id",
                                       "consumer-offset-reset", NULL };
  OvaAdCommon c;
  GKeyFile *kf = ova_ad_load_config (conn_str, config_path, known, &c, error_out);
  if (!kf)
    return NULL;
  Kafka *k = g_new0 (Kafka, 1);
  k->c = c;
  g_mutex_init (&k->lock);
  k->proto_cfg = ova_ad_get_str (kf, "proto-cfg", NULL);
  k->group_id = ova_ad_get_str (kf, "consumer-group-id", "ova");
  k->offset_reset = ova_ad_get_str (kf, "consumer-offset-reset", "latest");
  g_key_file_unref (kf);
  k->ccb = connect_cb;
  k->cuser = user_ptr;

  char err[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new ();
  g_autofree gchar *servers = g_strdup_printf ("%s:%u", k->c.host, k->c.port);
  rd_kafka_conf_set (conf, "bootstrap.servers", servers, NULL, 0);
  rd_kafka_conf_set (conf, "enable.idempotence", "true", NULL, 0);
  rd_kafka_conf_set (conf, "linger.ms", "5", NULL, 0);
  if (!apply_props (conf, k->proto_cfg, config_path, error_out)) {
    rd_kafka_conf_destroy (conf);
    kafka_free (k);
    return NULL;
  }
  rd_kafka_conf_set_log_cb (conf, log_cb);
  rd_kafka_conf_set_dr_msg_cb (conf, dr_cb);
  rd_kafka_conf_set_error_cb (conf, error_cb);
  rd_kafka_conf_set_opaque (conf, k);
  k->rk = rd_kafka_new (RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!k->rk) {
    rd_kafka_conf_destroy (conf);
    ova_ad_set_error (error_out, "Kafka: %s", err);
    kafka_free (k);
    return NULL;
  }
  /* librdkafka connects lazily: ask for metadata to fail early on an unreachable broker */
  const struct rd_kafka_metadata *md = NULL;
  rd_kafka_resp_err_t e = rd_kafka_metadata (k->rk, 0, NULL, &md, (int) k->c.connect_timeout_ms);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    ova_ad_set_error (error_out, "Kafka %s: no answer within %u ms: %s", servers,
                      k->c.connect_timeout_ms, rd_kafka_err2str (e));
    rd_kafka_destroy (k->rk);
    kafka_free (k);
    errno = ECONNREFUSED; /* the broker, not the settings */
    return NULL;
  }
  rd_kafka_metadata_destroy (md);
  k->thread = g_thread_new ("ova-kafka", poll_main, k);
  return k;
}

OvaMsgApiErrorType
ova_msgapi_send_async (OvaMsgApiHandle h, const char *topic, const uint8_t *payload, size_t nbuf,
                       OvaMsgApiSendCb send_cb, void *user_ptr)
{
  Kafka *k = h;
  if (!k)
    return OVA_MSGAPI_ERR;
  const char *t = topic && *topic ? topic : k->c.topic;
  if (!t)
    return OVA_MSGAPI_UNKNOWN_TOPIC;
  OvaAdReq *r = ova_ad_req_new (t, NULL, 0, send_cb, user_ptr);
  for (int tries = 0;; tries++) {
    rd_kafka_resp_err_t e = rd_kafka_producev (k->rk, RD_KAFKA_V_TOPIC (t),
                                               RD_KAFKA_V_VALUE ((void *) payload, nbuf),
                                               RD_KAFKA_V_MSGFLAGS (RD_KAFKA_MSG_F_COPY),
                                               RD_KAFKA_V_OPAQUE (r), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
      return OVA_MSGAPI_OK;
    if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL && tries < 100) {
      g_usleep (10000); /* the poll thread drains delivery reports meanwhile */
      continue;
    }
    r->cb = NULL;
    ova_ad_req_done (r, OVA_MSGAPI_ERR);
    return e == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ? OVA_MSGAPI_UNKNOWN_TOPIC : OVA_MSGAPI_ERR;
  }
}

OVA_AD_DEFINE_SYNC_SEND (((Kafka *) h)->c.connect_timeout_ms + 30000)

static gpointer
sub_main (gpointer data)
{
  Kafka *k = data;
  for (;;) {
    g_mutex_lock (&k->lock);
    gboolean stop = k->stop;
    g_mutex_unlock (&k->lock);
    if (stop)
      break;
    rd_kafka_message_t *m = rd_kafka_consumer_poll (k->consumer, 100);
    if (!m)
      continue;
    if (!m->err && k->scb)
      k->scb (OVA_MSGAPI_OK, m->payload, (int) m->len, (char *) rd_kafka_topic_name (m->rkt),
              k->suser);
    rd_kafka_message_destroy (m);
  }
  rd_kafka_consumer_close (k->consumer);
  return NULL;
}

OvaMsgApiErrorType
ova_msgapi_subscribe (OvaMsgApiHandle h, char **topics, int num_topics, OvaMsgApiSubscribeCb cb,
                      void *user_ptr)
{
  Kafka *k = h;
  if (!k || !topics || num_topics <= 0 || !cb || k->consumer)
    return OVA_MSGAPI_ERR;
  char err[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new ();
  g_autofree gchar *servers = g_strdup_printf ("%s:%u", k->c.host, k->c.port);
  rd_kafka_conf_set (conf, "bootstrap.servers", servers, NULL, 0);
  rd_kafka_conf_set (conf, "group.id", k->group_id, NULL, 0);
  rd_kafka_conf_set (conf, "auto.offset.reset", k->offset_reset, NULL, 0);
  rd_kafka_conf_set_log_cb (conf, log_cb);
  k->consumer = rd_kafka_new (RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!k->consumer) {
    rd_kafka_conf_destroy (conf);
    g_warning ("kafka: cannot create a consumer: %s", err);
    return OVA_MSGAPI_ERR;
  }
  rd_kafka_poll_set_consumer (k->consumer);
  rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new (num_topics);
  for (int i = 0; i < num_topics; i++)
    rd_kafka_topic_partition_list_add (tl, topics[i], RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t e = rd_kafka_subscribe (k->consumer, tl);
  rd_kafka_topic_partition_list_destroy (tl);
  if (e) {
    g_warning ("kafka: subscribe failed: %s", rd_kafka_err2str (e));
    rd_kafka_destroy (k->consumer);
    k->consumer = NULL;
    return OVA_MSGAPI_ERR;
  }
  k->scb = cb;
  k->suser = user_ptr;
  k->sub_thread = g_thread_new ("ova-kafka-sub", sub_main, k);
  return OVA_MSGAPI_OK;
}

OvaMsgApiErrorType
ova_msgapi_disconnect (OvaMsgApiHandle h)
{
  Kafka *k = h;
  if (!k)
    return OVA_MSGAPI_ERR;
  rd_kafka_flush (k->rk, (int) k->c.connect_timeout_ms);
  /* what could not be delivered in time fails (delivery reports with ERR) */
  rd_kafka_purge (k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  g_mutex_lock (&k->lock);
  k->stop = TRUE;
  g_mutex_unlock (&k->lock);
  g_thread_join (k->thread);
  if (k->sub_thread)
    g_thread_join (k->sub_thread);
  rd_kafka_flush (k->rk, 1000);
  rd_kafka_poll (k->rk, 0);
  if (k->consumer)
    rd_kafka_destroy (k->consumer);
  rd_kafka_destroy (k->rk);
  kafka_free (k);
  return OVA_MSGAPI_OK;
}

OVA_AD_DEFINE_SIGNATURE ("KAFKA")
