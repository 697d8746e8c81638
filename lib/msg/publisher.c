/* ova — the publisher: spool every message, send through the adapter with a
 * window of messages in flight, re-send from the oldest unacknowledged one
 * after a failure, in order. Delivery is at-least-once: a message the broker
 * got but did not confirm before a failure is sent again.
 * SPDX-License-Identifier: MIT */
#include <ova/msg.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  OvaMsgPublisher *pub;
  guint64 seq;
  guint64 gen;
} SendCtx;

struct _OvaMsgPublisher {
  OvaMsgAdapter *ad;
  OvaMsgApiHandle h;      /* NULL while offline (start_offline); set by the sender thread */
  gchar *conn_str, *config;
  guint retry_ms;
  gint64 next_connect_us;
  gchar **sub_topics;     /* subscription waiting for the first connection */
  gchar *topic;
  OvaSpool *spool;
  guint max_in_flight;

  GMutex lock;
  GCond cond;
  GThread *thread;
  gboolean stop;
  gboolean connected;
  guint64 cursor;      /* next seq to hand to the adapter */
  guint64 max_sent;    /* highest seq handed so far (re-send accounting) */
  guint64 gen;         /* bumped at each rewind; completions of older gens do not rewind again */
  guint in_flight;
  gboolean sender_waiting;
  gint64 retry_at_us;  /* no sending before this (after a failure) */
  OvaMsgPublisherStats st;

  OvaMsgConnectionFunc conn_func;
  gpointer conn_data;
  OvaMsgCommandFunc on_command;
  OvaMsgRejectFunc on_reject;
  gpointer cmd_data;
};

static void
on_connection (OvaMsgApiHandle h, OvaMsgApiEventType evt, const char *reason, void *user)
{
  OvaMsgPublisher *pub = user;
  gboolean up = evt == OVA_MSGAPI_EVT_SUCCESS;
  g_mutex_lock (&pub->lock);
  gboolean changed = up != pub->connected;
  pub->connected = up;
  if (!up && changed)
    pub->st.disconnects++;
  g_cond_broadcast (&pub->cond);
  OvaMsgConnectionFunc f = pub->conn_func;
  gpointer d = pub->conn_data;
  g_mutex_unlock (&pub->lock);
  if (changed) {
    if (up)
      g_message ("broker connection up%s%s", reason ? ": " : "", reason ? reason : "");
    else
      g_warning ("broker connection lost%s%s; messages are kept until it is back",
                 reason ? ": " : "", reason ? reason : "");
    if (f)
      f (up, reason, d);
  }
}

static void
on_sent (void *user, OvaMsgApiErrorType status)
{
  SendCtx *ctx = user;
  OvaMsgPublisher *pub = ctx->pub;
  if (status == OVA_MSGAPI_OK)
    ova_spool_ack (pub->spool, ctx->seq);
  g_mutex_lock (&pub->lock);
  pub->in_flight--;
  if (status == OVA_MSGAPI_OK) {
    pub->st.acked++;
  } else if (ctx->gen == pub->gen) {
    /* Rewind to the oldest unacknowledged message: order is kept, later ones
     * that did arrive are sent again (at-least-once). */
    pub->gen++;
    pub->cursor = ova_spool_first_pending (pub->spool);
    pub->retry_at_us = g_get_monotonic_time () + 100000;
  }
  /* wake the sender when its window is half free, not at every acknowledgement:
   * fewer context switches between it and the adapter's thread */
  if (pub->sender_waiting && (status != OVA_MSGAPI_OK || pub->in_flight <= pub->max_in_flight / 2))
    g_cond_broadcast (&pub->cond);
  g_mutex_unlock (&pub->lock);
  g_free (ctx);
}

static void on_c2d (OvaMsgApiErrorType status, void *msg, int len, char *topic, void *user);

/* Offline start: try to connect (outside the lock); TRUE once connected. */
static gboolean
try_connect (OvaMsgPublisher *pub)
{
  gint64 now = g_get_monotonic_time ();
  if (now < pub->next_connect_us)
    return FALSE;
  g_mutex_unlock (&pub->lock);
  char *why = NULL;
  OvaMsgApiHandle h = pub->ad->connect (pub->conn_str, on_connection, pub->config, pub, &why);
  g_mutex_lock (&pub->lock);
  if (!h) {
    g_debug ("still offline: %s", why ? why : "?");
    free (why);
    pub->next_connect_us = g_get_monotonic_time () + (gint64) pub->retry_ms * 1000;
    return FALSE;
  }
  pub->h = h;
  pub->connected = TRUE;
  OvaMsgConnectionFunc f = pub->conn_func;
  gpointer d = pub->conn_data;
  gchar **topics = pub->sub_topics; /* a subscription made while offline */
  pub->sub_topics = NULL;
  g_mutex_unlock (&pub->lock);
  if (topics && pub->ad->subscribe (h, topics, (int) g_strv_length (topics), on_c2d, pub) != OVA_MSGAPI_OK)
    g_warning ("%s adapter: subscribe failed", pub->ad->get_protocol_name ());
  g_strfreev (topics);
  g_message ("broker connection up: first connection");
  if (f)
    f (TRUE, "first connection", d);
  g_mutex_lock (&pub->lock);
  return TRUE;
}

static gpointer
sender_main (gpointer data)
{
  OvaMsgPublisher *pub = data;
  g_mutex_lock (&pub->lock);
  while (!pub->stop) {
    if (!pub->h && !try_connect (pub)) {
      g_cond_wait_until (&pub->cond, &pub->lock, g_get_monotonic_time () + 50000);
      continue;
    }
    gint64 now = g_get_monotonic_time ();
    OvaSpoolRecord rec = { 0 };
    if (!pub->connected || pub->in_flight >= pub->max_in_flight || now < pub->retry_at_us ||
        !ova_spool_next (pub->spool, pub->cursor, &rec)) {
      pub->sender_waiting = TRUE;
      g_cond_wait_until (&pub->cond, &pub->lock,
                         now < pub->retry_at_us ? pub->retry_at_us : now + 50000);
      pub->sender_waiting = FALSE;
      continue;
    }
    SendCtx *ctx = g_new (SendCtx, 1);
    ctx->pub = pub;
    ctx->seq = rec.seq;
    ctx->gen = pub->gen;
    pub->cursor = rec.seq + 1;
    if (rec.seq <= pub->max_sent)
      pub->st.resent++;
    else
      pub->max_sent = rec.seq;
    pub->st.sent++;
    pub->in_flight++;
    g_mutex_unlock (&pub->lock);
    ova_spool_sync (pub->spool, rec.seq); /* fsync=always: on disk before it leaves */
    gsize len;
    const guint8 *p = g_bytes_get_data (rec.data, &len);
    OvaMsgApiErrorType rc = pub->ad->send_async (pub->h, rec.topic ? rec.topic : pub->topic, p,
                                                 len, on_sent, ctx);
    ova_spool_record_clear (&rec);
    if (rc != OVA_MSGAPI_OK)
      on_sent (ctx, rc);
    g_mutex_lock (&pub->lock);
  }
  g_mutex_unlock (&pub->lock);
  return NULL;
}

OvaMsgPublisher *
ova_msg_publisher_new (const OvaMsgPublisherOptions *o, GError **error)
{
  OvaMsgAdapter *ad = ova_msg_adapter_load (o->proto_lib, error);
  if (!ad)
    return NULL;
  g_autofree gchar *host = NULL, *cs_topic = NULL;
  guint port;
  if (!ova_msg_parse_conn_str (o->conn_str, &host, &port, &cs_topic, error)) {
    ova_msg_adapter_free (ad);
    return NULL;
  }
  OvaMsgPublisher *pub = g_new0 (OvaMsgPublisher, 1);
  g_mutex_init (&pub->lock);
  g_cond_init (&pub->cond);
  pub->ad = ad;
  pub->topic = g_strdup (o->topic && *o->topic ? o->topic : cs_topic);
  pub->max_in_flight = o->max_in_flight ? o->max_in_flight : 1000;
  pub->spool = ova_spool_open (o->spool_dir, o->spool_max_bytes, o->fsync, error);
  if (!pub->spool) {
    ova_msg_publisher_free (pub);
    return NULL;
  }
  OvaSpoolStats ss;
  ova_spool_get_stats (pub->spool, &ss);
  pub->st.corrupt = ss.corrupt;
  pub->st.recovered = ss.recovered;
  pub->cursor = ova_spool_first_pending (pub->spool);
  pub->max_sent = pub->cursor - 1;

  pub->conn_str = g_strdup (o->conn_str);
  pub->config = g_strdup (o->config);
  pub->retry_ms = o->retry_ms ? o->retry_ms : 1000;
  char *why = NULL;
  errno = 0;
  pub->h = ad->connect (o->conn_str, on_connection, o->config, pub, &why);
  int err = errno;
  if (!pub->h && (!o->start_offline || err == EINVAL)) {
    g_set_error (error, OVA_MSG_ERROR, err == EINVAL ? OVA_MSG_ERROR_CONFIG : OVA_MSG_ERROR_CONNECT,
                 "%s adapter: %s", ad->get_protocol_name (), why ? why : "connection failed");
    free (why);
    ova_msg_publisher_free (pub);
    return NULL;
  }
  if (!pub->h) {
    g_warning ("%s adapter: %s; starting offline: messages are kept until the broker answers",
               ad->get_protocol_name (), why ? why : "connection failed");
    pub->next_connect_us = g_get_monotonic_time () + (gint64) pub->retry_ms * 1000;
  }
  free (why);
  g_mutex_lock (&pub->lock);
  pub->connected = pub->h != NULL;
  g_mutex_unlock (&pub->lock);
  pub->thread = g_thread_new ("ova-msg-pub", sender_main, pub);
  return pub;
}

void
ova_msg_publisher_set_connection_func (OvaMsgPublisher *pub, OvaMsgConnectionFunc func,
                                       gpointer user_data)
{
  g_mutex_lock (&pub->lock);
  pub->conn_func = func;
  pub->conn_data = user_data;
  g_mutex_unlock (&pub->lock);
}

static void
on_c2d (OvaMsgApiErrorType status, void *msg, int len, char *topic, void *user)
{
  OvaMsgPublisher *pub = user;
  if (status != OVA_MSGAPI_OK)
    return;
  GError *e = NULL;
  OvaMsgCommand *cmd = ova_msg_command_parse (msg, len, &e);
  g_mutex_lock (&pub->lock);
  if (cmd)
    pub->st.commands++;
  else
    pub->st.rejected++;
  g_mutex_unlock (&pub->lock);
  if (cmd) {
    g_message ("command from topic %s: %s", topic ? topic : "?", ova_msg_command_type_name (cmd->type));
    if (pub->on_command)
      pub->on_command (cmd, topic, pub->cmd_data);
    ova_msg_command_free (cmd);
  } else {
    g_warning ("rejected message on topic %s: %s", topic ? topic : "?", e->message);
    if (pub->on_reject)
      pub->on_reject (msg, len, topic, e->message, pub->cmd_data);
    g_error_free (e);
  }
}

gboolean
ova_msg_publisher_subscribe (OvaMsgPublisher *pub, const gchar *const *topics,
                             OvaMsgCommandFunc on_command, OvaMsgRejectFunc on_reject,
                             gpointer user_data, GError **error)
{
  if (!pub->ad->subscribe) {
    g_set_error (error, OVA_MSG_ERROR, OVA_MSG_ERROR_ADAPTER, "%s adapter cannot subscribe",
                 pub->ad->get_protocol_name ());
    return FALSE;
  }
  pub->on_command = on_command;
  pub->on_reject = on_reject;
  pub->cmd_data = user_data;
  guint n = g_strv_length ((gchar **) topics);
  g_mutex_lock (&pub->lock);
  gboolean offline = pub->h == NULL;
  if (offline) {
    /* applied by the sender thread right after the first connection */
    g_strfreev (pub->sub_topics);
    pub->sub_topics = g_strdupv ((gchar **) topics);
  }
  g_mutex_unlock (&pub->lock);
  if (offline)
    return TRUE;
  if (pub->ad->subscribe (pub->h, (char **) topics, (int) n, on_c2d, pub) != OVA_MSGAPI_OK) {
    g_set_error (error, OVA_MSG_ERROR, OVA_MSG_ERROR_CONNECT, "%s adapter: subscribe failed",
                 pub->ad->get_protocol_name ());
    return FALSE;
  }
  return TRUE;
}

gboolean
ova_msg_publisher_push (OvaMsgPublisher *pub, const gchar *topic, gconstpointer data, gsize len,
                        GError **error)
{
  if (!ova_spool_append (pub->spool, topic, data, len, error))
    return FALSE;
  g_mutex_lock (&pub->lock);
  pub->st.queued++;
  if (pub->sender_waiting)
    g_cond_signal (&pub->cond);
  g_mutex_unlock (&pub->lock);
  return TRUE;
}

gboolean
ova_msg_publisher_flush (OvaMsgPublisher *pub, guint timeout_ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  OvaSpoolStats ss;
  for (;;) {
    ova_spool_get_stats (pub->spool, &ss);
    if (ss.pending == 0)
      return TRUE;
    if (g_get_monotonic_time () >= end)
      return FALSE;
    g_mutex_lock (&pub->lock);
    g_cond_wait_until (&pub->cond, &pub->lock, MIN (end, g_get_monotonic_time () + 20000));
    g_mutex_unlock (&pub->lock);
  }
}

void
ova_msg_publisher_get_stats (OvaMsgPublisher *pub, OvaMsgPublisherStats *st)
{
  OvaSpoolStats ss;
  ova_spool_get_stats (pub->spool, &ss);
  g_mutex_lock (&pub->lock);
  *st = pub->st;
  g_mutex_unlock (&pub->lock);
  st->dropped = ss.dropped;
  st->pending = ss.pending;
}

void
ova_msg_publisher_free (OvaMsgPublisher *pub)
{
  if (!pub)
    return;
  if (pub->thread) {
    g_mutex_lock (&pub->lock);
    pub->stop = TRUE;
    g_cond_broadcast (&pub->cond);
    g_mutex_unlock (&pub->lock);
    g_thread_join (pub->thread);
  }
  /* disconnect completes (or fails) everything in flight before returning */
  if (pub->h)
    pub->ad->disconnect (pub->h);
  if (pub->spool)
    ova_spool_close (pub->spool);
  ova_msg_adapter_free (pub->ad);
  g_free (pub->topic);
  g_free (pub->conn_str);
  g_free (pub->config);
  g_strfreev (pub->sub_topics);
  g_mutex_clear (&pub->lock);
  g_cond_clear (&pub->cond);
  g_free (pub);
}
