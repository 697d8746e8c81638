/* ova — AMQP 0-9-1 adapter (librabbitmq). Messages are published to an
 * exchange (default amq.topic) with the topic as routing key, on a channel in
 * confirm mode: a message is acknowledged by the broker's basic.ack.
 * Cloud-to-device: a second connection consumes from an exclusive queue
 * bound to the exchange with each subscribed topic.
 *
 * [message-broker] keys: username, password (default guest/guest), vhost
 * (default /), exchange (default amq.topic), queue (cloud-to-device: a durable
 * named queue; default an exclusive one), frame-size, heartbeat (s),
 * mandatory (1: a message the broker cannot route to any queue is returned
 * and counts as not delivered, so the publisher sends it again later),
 * plus the common ones. DeepStream's amqp-host/amqp-port/amqp-username/
 * amqp-password keys are accepted too.
 * SPDX-License-Identifier: MIT */
#include "worker.h"
#include <amqp.h>
#include <amqp_tcp_socket.h>

#define BATCH 256

typedef struct {
  OvaAdCommon c;
  gchar *username, *password, *vhost, *exchange, *queue;
  gint64 frame_size, heartbeat, mandatory;
  OvaAdWorker w;
  amqp_connection_state_t conn; /* thread-only */
  guint64 next_tag;
  gboolean warned_unroutable; /* thread-only: one warning per run of returns */
} Amqp;

static gchar *
reply_text (amqp_rpc_reply_t r)
{
  switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL: return g_strdup ("ok");
    case AMQP_RESPONSE_NONE: return g_strdup ("missing RPC reply");
    case AMQP_RESPONSE_LIBRARY_EXCEPTION: return g_strdup (amqp_error_string2 (r.library_error));
    case AMQP_RESPONSE_SERVER_EXCEPTION:
      if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        amqp_connection_close_t *m = r.reply.decoded;
        return g_strdup_printf ("server closed the connection: %u %.*s", m->reply_code,
                                (int) m->reply_text.len, (char *) m->reply_text.bytes);
      }
      if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        amqp_channel_close_t *m = r.reply.decoded;
        return g_strdup_printf ("server closed the channel: %u %.*s", m->reply_code,
                                (int) m->reply_text.len, (char *) m->reply_text.bytes);
      }
      return g_strdup_printf ("server error, method 0x%08x", r.reply.id);
  }
  return g_strdup ("unknown error");
}

static void
close_conn (amqp_connection_state_t conn, gboolean polite)
{
  if (polite) {
    amqp_channel_close (conn, 1, AMQP_REPLY_SUCCESS);
    amqp_connection_close (conn, AMQP_REPLY_SUCCESS);
  }
  amqp_destroy_connection (conn);
}

static amqp_connection_state_t
open_conn (Amqp *a, gboolean confirm, gchar **why)
{
  amqp_connection_state_t conn = amqp_new_connection ();
  amqp_socket_t *sock = amqp_tcp_socket_new (conn);
  struct timeval tv = { a->c.connect_timeout_ms / 1000, (a->c.connect_timeout_ms % 1000) * 1000 };
  amqp_set_handshake_timeout (conn, &tv);
  amqp_set_rpc_timeout (conn, &tv);
  int st = amqp_socket_open_noblock (sock, a->c.host, (int) a->c.port, &tv);
  if (st != AMQP_STATUS_OK) {
    *why = g_strdup_printf ("cannot connect to %s:%u: %s", a->c.host, a->c.port,
                            amqp_error_string2 (st));
    amqp_destroy_connection (conn);
    return NULL;
  }
  amqp_rpc_reply_t r = amqp_login (conn, a->vhost, 0, (int) a->frame_size, (int) a->heartbeat,
                                   AMQP_SASL_METHOD_PLAIN, a->username, a->password);
  if (r.reply_type != AMQP_RESPONSE_NORMAL)
    goto bad;
  amqp_channel_open (conn, 1);
  r = amqp_get_rpc_reply (conn);
  if (r.reply_type != AMQP_RESPONSE_NORMAL)
    goto bad;
  if (confirm) {
    amqp_confirm_select (conn, 1);
    r = amqp_get_rpc_reply (conn);
    if (r.reply_type != AMQP_RESPONSE_NORMAL)
      goto bad;
  }
  return conn;
bad: {
    g_autofree gchar *t = reply_text (r);
    *why = g_strdup_printf ("%s:%u: %s", a->c.host, a->c.port, t);
    amqp_destroy_connection (conn);
    return NULL;
  }
}

static void
lose (Amqp *a, GQueue *batch, const gchar *why)
{
  if (a->conn) {
    close_conn (a->conn, why == NULL);
    a->conn = NULL;
  }
  ova_ad_worker_lost (&a->w, batch, why);
}

/* basic.return (mandatory=1): the broker routed the message to no queue. It
 * comes before the message's basic.ack, with the message itself, whose
 * message-id is its delivery tag: marks that tag as returned. FALSE: the
 * connection failed while reading the returned message (*why set). */
static gboolean
read_return (Amqp *a, amqp_frame_t *frame, guint64 first_tag, gboolean *returned, guint n, gchar **why)
{
  amqp_basic_return_t *m = frame->payload.method.decoded;
  g_autofree gchar *topic = g_strndup (m->routing_key.bytes, m->routing_key.len);
  g_autofree gchar *text = g_strndup (m->reply_text.bytes, m->reply_text.len);
  guint code = m->reply_code;
  amqp_message_t msg;
  amqp_rpc_reply_t r = amqp_read_message (a->conn, frame->channel, &msg, 0);
  if (r.reply_type != AMQP_RESPONSE_NORMAL) {
    g_autofree gchar *t = reply_text (r);
    *why = g_strdup_printf ("reading a returned message from %s:%u: %s", a->c.host, a->c.port, t);
    return FALSE;
  }
  if (msg.properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG) {
    g_autofree gchar *id = g_strndup (msg.properties.message_id.bytes, msg.properties.message_id.len);
    guint64 tag = g_ascii_strtoull (id, NULL, 10);
    if (tag >= first_tag && tag - first_tag < n)
      returned[tag - first_tag] = TRUE;
  }
  amqp_destroy_message (&msg);
  if (!a->warned_unroutable)
    g_warning ("AMQP: %s:%u cannot route messages on topic %s to any queue (%u %s): kept, sent again "
               "every %u ms until a queue is bound", a->c.host, a->c.port, topic, code, text,
               a->c.reconnect_ms);
  a->warned_unroutable = TRUE;
  return TRUE;
}

/* Publishes @batch and waits for the broker's confirms. FALSE: connection lost (*why set). */
static gboolean
publish_batch (Amqp *a, GQueue *batch, gchar **why)
{
  amqp_basic_properties_t props;
  props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG;
  if (a->mandatory)
    props._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
  props.content_type = amqp_cstring_bytes ("application/json");
  props.delivery_mode = 2; /* persistent */
  guint64 first_tag = a->next_tag + 1;
  const guint n = batch->length;
  gboolean returned[BATCH] = { FALSE };
  gboolean any_returned = FALSE;
  for (GList *l = batch->head; l; l = l->next) {
    OvaAdReq *q = l->data;
    gsize len;
    const void *p = g_bytes_get_data (q->data, &len);
    amqp_bytes_t body = { len, (void *) p };
    gchar id[24];
    if (a->mandatory) {
      g_snprintf (id, sizeof id, "%" G_GUINT64_FORMAT, a->next_tag + 1);
      props.message_id = amqp_cstring_bytes (id);
    }
    int st = amqp_basic_publish (a->conn, 1, amqp_cstring_bytes (a->exchange),
                                 amqp_cstring_bytes (q->topic), a->mandatory ? 1 : 0, 0, &props, body);
    if (st != AMQP_STATUS_OK) {
      *why = g_strdup_printf ("publish to %s:%u failed: %s", a->c.host, a->c.port,
                              amqp_error_string2 (st));
      return FALSE;
    }
    a->next_tag++;
  }
  /* confirms arrive in order; "multiple" acks cover every tag up to theirs */
  gint64 deadline = g_get_monotonic_time () + (gint64) a->c.connect_timeout_ms * 1000;
  guint64 done_upto = first_tag - 1;
  while (!g_queue_is_empty (batch)) {
    amqp_frame_t frame;
    struct timeval tv = { 0, 100000 };
    int st = amqp_simple_wait_frame_noblock (a->conn, &frame, &tv);
    if (st == AMQP_STATUS_TIMEOUT) {
      if (g_get_monotonic_time () > deadline) {
        *why = g_strdup_printf ("no publisher confirm from %s:%u within %u ms", a->c.host,
                                a->c.port, a->c.connect_timeout_ms);
        return FALSE;
      }
      continue;
    }
    if (st != AMQP_STATUS_OK) {
      *why = g_strdup_printf ("connection to %s:%u lost: %s", a->c.host, a->c.port,
                              amqp_error_string2 (st));
      return FALSE;
    }
    if (frame.frame_type != AMQP_FRAME_METHOD)
      continue;
    guint64 tag;
    gboolean multiple, ok;
    if (frame.payload.method.id == AMQP_BASIC_ACK_METHOD) {
      amqp_basic_ack_t *m = frame.payload.method.decoded;
      tag = m->delivery_tag;
      multiple = m->multiple;
      ok = TRUE;
    } else if (frame.payload.method.id == AMQP_BASIC_NACK_METHOD) {
      amqp_basic_nack_t *m = frame.payload.method.decoded;
      tag = m->delivery_tag;
      multiple = m->multiple;
      ok = FALSE;
    } else if (frame.payload.method.id == AMQP_BASIC_RETURN_METHOD) {
      if (!read_return (a, &frame, first_tag, returned, n, why))
        return FALSE;
      any_returned = TRUE;
      continue;
    } else if (frame.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
               frame.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD) {
      *why = g_strdup_printf ("%s:%u closed the %s", a->c.host, a->c.port,
                              frame.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ? "channel"
                                                                                    : "connection");
      return FALSE;
    } else {
      continue;
    }
    guint64 from = multiple ? done_upto + 1 : tag;
    for (guint64 t = done_upto + 1; t <= tag && !g_queue_is_empty (batch); t++) {
      if (t < from)
        continue;
      const gboolean back = t - first_tag < n && returned[t - first_tag];
      ova_ad_req_done (g_queue_pop_head (batch), ok && !back ? OVA_MSGAPI_OK : OVA_MSGAPI_ERR);
    }
    done_upto = MAX (done_upto, tag);
    deadline = g_get_monotonic_time () + (gint64) a->c.connect_timeout_ms * 1000;
  }
  if (any_returned) {
    /* the caller sends the returned ones again: not at once, the binding is missing */
    g_usleep ((gulong) a->c.reconnect_ms * 1000);
  } else if (a->warned_unroutable) {
    g_message ("AMQP: %s:%u routes messages again", a->c.host, a->c.port);
    a->warned_unroutable = FALSE;
  }
  return TRUE;
}

static gpointer
amqp_main (gpointer data)
{
  Amqp *a = data;
  GQueue batch = G_QUEUE_INIT;
  gint64 stop_deadline = 0;
  for (;;) {
    if (!a->conn) {
      gchar *why = NULL;
      a->conn = open_conn (a, TRUE, &why);
      a->next_tag = 0;
      switch (ova_ad_worker_opened (&a->w, a->conn != NULL, why, a->c.reconnect_ms)) {
      case OVA_AD_OPEN_FAILED:
        return NULL;
      case OVA_AD_OPEN_STOP:
        goto done;
      case OVA_AD_OPEN_RETRY:
        continue;
      case OVA_AD_OPEN_UP:
        break;
      }
    }
    gboolean stop = ova_ad_worker_take (&a->w, &batch, BATCH);
    if (stop) {
      gint64 now = g_get_monotonic_time ();
      if (!stop_deadline)
        stop_deadline = now + (gint64) a->c.connect_timeout_ms * 1000;
      if (g_queue_is_empty (&batch) || now > stop_deadline)
        break;
    }
    if (g_queue_is_empty (&batch)) {
      /* idle: read what the server sent (heartbeats, close) to notice a dead broker */
      amqp_frame_t frame;
      struct timeval tv = { 0, 0 };
      int st = amqp_simple_wait_frame_noblock (a->conn, &frame, &tv);
      if (st != AMQP_STATUS_OK && st != AMQP_STATUS_TIMEOUT) {
        g_autofree gchar *why = g_strdup_printf ("connection to %s:%u lost: %s", a->c.host,
                                                 a->c.port, amqp_error_string2 (st));
        lose (a, &batch, why);
      }
      continue;
    }
    gchar *why = NULL;
    if (!publish_batch (a, &batch, &why)) {
      lose (a, &batch, why);
      g_free (why);
    }
  }
done:
  lose (a, &batch, NULL);
  return NULL;
}

static gpointer
amqp_sub_main (gpointer data)
{
  Amqp *a = data;
  amqp_connection_state_t conn = NULL;
  for (;;) {
    if (ova_ad_worker_stopping (&a->w))
      break;
    if (!conn) {
      gchar *why = NULL;
      conn = open_conn (a, FALSE, &why);
      if (conn) {
        /* a named queue is durable and outlives us (messages wait in it while
         * we reconnect); without a name, an exclusive one for this connection */
        amqp_queue_declare_ok_t *q =
            a->queue ? amqp_queue_declare (conn, 1, amqp_cstring_bytes (a->queue), 0, 1, 0, 0,
                                           amqp_empty_table)
                     : amqp_queue_declare (conn, 1, amqp_empty_bytes, 0, 0, 1, 1, amqp_empty_table);
        amqp_rpc_reply_t r = amqp_get_rpc_reply (conn);
        amqp_bytes_t qname = q && r.reply_type == AMQP_RESPONSE_NORMAL ? amqp_bytes_malloc_dup (q->queue)
                                                                       : amqp_empty_bytes;
        for (guint i = 0; qname.bytes && a->w.sub_topics[i] && r.reply_type == AMQP_RESPONSE_NORMAL; i++) {
          amqp_queue_bind (conn, 1, qname, amqp_cstring_bytes (a->exchange),
                           amqp_cstring_bytes (a->w.sub_topics[i]), amqp_empty_table);
          r = amqp_get_rpc_reply (conn);
        }
        if (qname.bytes && r.reply_type == AMQP_RESPONSE_NORMAL) {
          amqp_basic_consume (conn, 1, qname, amqp_empty_bytes, 0, 1, 1, amqp_empty_table);
          r = amqp_get_rpc_reply (conn);
        }
        if (qname.bytes)
          amqp_bytes_free (qname);
        if (r.reply_type != AMQP_RESPONSE_NORMAL) {
          g_autofree gchar *t = reply_text (r);
          g_warning ("amqp: cannot subscribe: %s", t);
          close_conn (conn, FALSE);
          conn = NULL;
        }
      } else {
        g_free (why);
      }
      if (!conn) {
        g_usleep ((gulong) a->c.reconnect_ms * 1000);
        continue;
      }
    }
    amqp_envelope_t env;
    struct timeval tv = { 0, 200000 };
    amqp_maybe_release_buffers (conn);
    amqp_rpc_reply_t r = amqp_consume_message (conn, &env, &tv, 0);
    if (r.reply_type == AMQP_RESPONSE_NORMAL) {
      g_autofree gchar *topic = g_strndup (env.routing_key.bytes, env.routing_key.len);
      if (a->w.scb)
        a->w.scb (OVA_MSGAPI_OK, env.message.body.bytes, (int) env.message.body.len, topic, a->w.suser);
      amqp_destroy_envelope (&env);
    } else if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
               r.library_error == AMQP_STATUS_TIMEOUT) {
      continue;
    } else if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
               r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
      amqp_frame_t frame;
      if (amqp_simple_wait_frame (conn, &frame) != AMQP_STATUS_OK) {
        close_conn (conn, FALSE);
        conn = NULL;
      }
    } else {
      close_conn (conn, FALSE);
      conn = NULL;
    }
  }
  if (conn)
    close_conn (conn, TRUE);
  return NULL;
}

static void
amqp_free (Amqp *a)
{
  g_free (a->username);
  g_free (a->password);
  g_free (a->vhost);
  g_free (a->exchange);
  g_free (a->queue);
  ova_ad_common_clear (&a->c);
  ova_ad_worker_clear (&a->w);
  g_free (a);
}

OvaMsgApiHandle
ova_msgapi_connect (const char *conn_str, OvaMsgApiConnectCb connect_cb, const char *config_path,
                    void *user_ptr, char **error_out)
{
  static const char *const known[] = { "username", "password", "vhost", "exchange", "frame-size",
                                       "heartbeat", "amqp-host", "amqp-port", "amqp-username",
                                       "amqp-password", "queue", "mandatory", NULL };
  OvaAdCommon c;
  GKeyFile *kf = ova_ad_load_config (conn_str, config_path, known, &c, error_out);
  if (!kf)
    return NULL;
  Amqp *a = g_new0 (Amqp, 1);
  a->c = c;
  ova_ad_worker_init (&a->w, a, connect_cb, user_ptr);
  a->frame_size = 131072;
  a->heartbeat = 0;
  if (!ova_ad_get_int (kf, config_path, "frame-size", 4096, 1 << 24, &a->frame_size, error_out) ||
      !ova_ad_get_int (kf, config_path, "heartbeat", 0, 3600, &a->heartbeat, error_out) ||
      !ova_ad_get_int (kf, config_path, "mandatory", 0, 1, &a->mandatory, error_out)) {
    g_key_file_unref (kf);
    amqp_free (a);
    return NULL;
  }
  gchar *u = ova_ad_get_str (kf, "amqp-username", "guest");
  gchar *p = ova_ad_get_str (kf, "amqp-password", "guest");
  a->username = ova_ad_get_str (kf, "username", u);
  a->password = ova_ad_get_str (kf, "password", p);
  g_free (u);
  g_free (p);
  a->vhost = ova_ad_get_str (kf, "vhost", "/");
  a->exchange = ova_ad_get_str (kf, "exchange", "amq.topic");
  a->queue = ova_ad_get_str (kf, "queue", NULL);
  g_key_file_unref (kf);
  if (!ova_ad_worker_start (&a->w, "ova-amqp", amqp_main, "AMQP", error_out)) {
    amqp_free (a);
    errno = ECONNREFUSED; /* the broker, not the settings */
    return NULL;
  }
  return a;
}

OvaMsgApiErrorType
ova_msgapi_send_async (OvaMsgApiHandle h, const char *topic, const uint8_t *payload, size_t nbuf,
                       OvaMsgApiSendCb send_cb, void *user_ptr)
{
  Amqp *a = h;
  if (!a)
    return OVA_MSGAPI_ERR;
  return ova_ad_worker_enqueue (&a->w, a->c.topic, topic, payload, nbuf, send_cb, user_ptr);
}

OVA_AD_DEFINE_SYNC_SEND (((Amqp *) h)->c.connect_timeout_ms)

OvaMsgApiErrorType
ova_msgapi_subscribe (OvaMsgApiHandle h, char **topics, int num_topics, OvaMsgApiSubscribeCb cb,
                      void *user_ptr)
{
  Amqp *a = h;
  if (!a)
    return OVA_MSGAPI_ERR;
  return ova_ad_worker_subscribe (&a->w, "ova-amqp-sub", amqp_sub_main, topics, num_topics, cb, user_ptr);
}

OvaMsgApiErrorType
ova_msgapi_disconnect (OvaMsgApiHandle h)
{
  Amqp *a = h;
  if (!a)
    return OVA_MSGAPI_ERR;
  ova_ad_worker_stop (&a->w);
  amqp_free (a);
  return OVA_MSGAPI_OK;
}

OVA_AD_DEFINE_SIGNATURE ("AMQP")
