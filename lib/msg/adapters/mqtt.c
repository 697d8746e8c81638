/* ova — MQTT adapter (libmosquitto), QoS 1 by default: a message is
 * acknowledged when the broker's PUBACK arrives.
 *
 * The adapter drives libmosquitto from its own thread (poll on the socket
 * and an eventfd): on a lost connection it fails everything in flight or
 * queued, so the caller re-sends in order, and reconnects with a fresh
 * client every reconnect-interval-ms.
 *
 * [message-broker] keys: username, password, client-id, keepalive (s),
 * qos (0..2), clean-session (0: a persistent session, with client-id: the
 * broker keeps subscribed messages while we are away), plus the common ones (connect-timeout-ms, reconnect-interval-ms, topic).
 * SPDX-License-Identifier: MIT */
#include "common.h"
#include <mosquitto.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct {
  OvaAdCommon c;
  gchar *username, *password, *client_id;
  gint keepalive, qos;
  gboolean clean_session;
  guint window;           /* messages handed to libmosquitto at once */
  OvaMsgApiConnectCb ccb;
  void *cuser;

  GMutex lock;
  GCond cond;
  GQueue outq;            /* OvaAdReq* waiting to be published */
  gint evfd;
  GThread *thread;
  gboolean stop;
  gboolean connected;     /* CONNACK received on the current client */
  gboolean ever_connected;
  gint first_result;      /* 0 pending, 1 up, -1 failed */
  gchar *first_error;
  gchar **sub_topics;
  OvaMsgApiSubscribeCb scb;
  void *suser;
  gboolean sub_dirty;

  /* thread-only */
  struct mosquitto *mosq;
  GHashTable *inflight;   /* mid → OvaAdReq* */
  gchar *lost;            /* reason set by callbacks */
  gint64 connect_deadline, next_try;
} Mqtt;

static void
wake (Mqtt *m)
{
  guint64 one = 1;
  if (write (m->evfd, &one, sizeof one) < 0) { /* a pending wake-up is as good */ }
}

static void
on_connect (struct mosquitto *mosq, void *obj, int rc)
{
  Mqtt *m = obj;
  if (rc != 0) {
    g_free (m->lost);
    m->lost = g_strdup_printf ("broker refused the connection: %s", mosquitto_connack_string (rc));
    return;
  }
  g_mutex_lock (&m->lock);
  m->connected = TRUE;
  m->sub_dirty = TRUE;
  gboolean first = m->first_result == 0;
  m->first_result = 1;
  m->ever_connected = TRUE;
  g_cond_broadcast (&m->cond);
  g_mutex_unlock (&m->lock);
  if (m->ccb && !first)
    m->ccb (m, OVA_MSGAPI_EVT_SUCCESS, "reconnected", m->cuser);
}

static void
on_disconnect (struct mosquitto *mosq, void *obj, int rc)
{
  Mqtt *m = obj;
  if (!m->lost)
    m->lost = g_strdup_printf ("connection lost: %s", mosquitto_strerror (rc));
}

static void
on_publish (struct mosquitto *mosq, void *obj, int mid)
{
  Mqtt *m = obj;
  OvaAdReq *r = g_hash_table_lookup (m->inflight, GINT_TO_POINTER (mid));
  if (r) {
    g_hash_table_steal (m->inflight, GINT_TO_POINTER (mid));
    ova_ad_req_done (r, OVA_MSGAPI_OK);
  }
}

static void
on_message (struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
  Mqtt *m = obj;
  if (m->scb)
    m->scb (OVA_MSGAPI_OK, msg->payload, msg->payloadlen, msg->topic, m->suser);
}

static gint
cmp_int (gconstpointer a, gconstpointer b)
{
  return *(const gint *) a - *(const gint *) b;
}

/* Fails everything in flight and queued (in order), drops the client. */
static void
lose (Mqtt *m, const gchar *reason)
{
  if (m->mosq) {
    mosquitto_destroy (m->mosq);
    m->mosq = NULL;
  }
  g_autoptr (GArray) mids = g_array_new (FALSE, FALSE, sizeof (gint));
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init (&it, m->inflight);
  while (g_hash_table_iter_next (&it, &k, &v)) {
    gint mid = GPOINTER_TO_INT (k);
    g_array_append_val (mids, mid);
  }
  /* mids grow with each publish (wrapping only after 65535): fail in send order */
  g_array_sort (mids, cmp_int);
  for (guint i = 0; i < mids->len; i++) {
    OvaAdReq *r = g_hash_table_lookup (m->inflight, GINT_TO_POINTER (g_array_index (mids, gint, i)));
    g_hash_table_steal (m->inflight, GINT_TO_POINTER (g_array_index (mids, gint, i)));
    ova_ad_req_done (r, OVA_MSGAPI_ERR);
  }
  g_mutex_lock (&m->lock);
  GQueue q = m->outq;
  g_queue_init (&m->outq);
  gboolean was = m->connected;
  m->connected = FALSE;
  if (m->first_result == 0) {
    m->first_result = -1;
    m->first_error = g_strdup (reason ? reason : "stopped");
  }
  g_cond_broadcast (&m->cond);
  g_mutex_unlock (&m->lock);
  OvaAdReq *r;
  while ((r = g_queue_pop_head (&q)))
    ova_ad_req_done (r, OVA_MSGAPI_ERR);
  if (was && m->ccb && reason)
    m->ccb (m, OVA_MSGAPI_EVT_DISCONNECT, reason, m->cuser);
  m->next_try = g_get_monotonic_time () + (gint64) m->c.reconnect_ms * 1000;
}

static gboolean
start_client (Mqtt *m)
{
  m->mosq = mosquitto_new (m->client_id, m->client_id ? m->clean_session : TRUE, m);
  if (!m->mosq) {
    lose (m, "cannot create an MQTT client");
    return FALSE;
  }
  mosquitto_connect_callback_set (m->mosq, on_connect);
  mosquitto_disconnect_callback_set (m->mosq, on_disconnect);
  mosquitto_publish_callback_set (m->mosq, on_publish);
  mosquitto_message_callback_set (m->mosq, on_message);
  if (m->username)
    mosquitto_username_pw_set (m->mosq, m->username, m->password);
  /* small messages: no Nagle delay; and let the caller's window, not
   * libmosquitto's default of 20, bound the messages in flight */
  mosquitto_int_option (m->mosq, MOSQ_OPT_TCP_NODELAY, 1);
  mosquitto_max_inflight_messages_set (m->mosq, 0);
  m->connect_deadline = g_get_monotonic_time () + (gint64) m->c.connect_timeout_ms * 1000;
  int rc = mosquitto_connect_async (m->mosq, m->c.host, (int) m->c.port, m->keepalive);
  if (rc != MOSQ_ERR_SUCCESS) {
    g_autofree gchar *why = g_strdup_printf ("cannot connect to %s:%u: %s", m->c.host, m->c.port,
                                             rc == MOSQ_ERR_ERRNO ? g_strerror (errno)
                                                                  : mosquitto_strerror (rc));
    lose (m, why);
    return FALSE;
  }
  return TRUE;
}

static gpointer
mqtt_main (gpointer data)
{
  Mqtt *m = data;
  gint64 stop_deadline = 0;
  for (;;) {
    gint64 now = g_get_monotonic_time ();
    g_mutex_lock (&m->lock);
    gboolean stop = m->stop;
    gboolean connected = m->connected;
    gboolean first_failed = m->first_result < 0;
    g_mutex_unlock (&m->lock);
    if (stop) {
      if (!stop_deadline)
        stop_deadline = now + (gint64) m->c.connect_timeout_ms * 1000;
      g_mutex_lock (&m->lock);
      gboolean idle = g_queue_is_empty (&m->outq);
      g_mutex_unlock (&m->lock);
      if (!connected || (idle && g_hash_table_size (m->inflight) == 0) || now > stop_deadline)
        break;
    }
    if (first_failed)
      break;
    if (!m->mosq) {
      if (now < m->next_try) {
        struct pollfd p = { m->evfd, POLLIN, 0 };
        poll (&p, 1, (int) MAX (1, (m->next_try - now) / 1000));
        guint64 v;
        if (p.revents & POLLIN && read (m->evfd, &v, sizeof v) < 0) { }
        continue;
      }
      start_client (m);
      continue;
    }
    if (connected) {
      g_mutex_lock (&m->lock);
      /* libmosquitto looks acknowledged messages up in a list: keep it short
       * (the rest waits here, in order) */
      GQueue q = G_QUEUE_INIT;
      while (!g_queue_is_empty (&m->outq) && g_hash_table_size (m->inflight) + q.length < m->window)
        g_queue_push_tail (&q, g_queue_pop_head (&m->outq));
      gboolean sub = m->sub_dirty && m->sub_topics;
      m->sub_dirty = FALSE;
      g_mutex_unlock (&m->lock);
      for (guint i = 0; sub && m->sub_topics[i]; i++)
        mosquitto_subscribe (m->mosq, NULL, m->sub_topics[i], 1);
      OvaAdReq *r;
      while ((r = g_queue_pop_head (&q))) {
        int mid = 0;
        gsize len;
        const void *p = g_bytes_get_data (r->data, &len);
        int rc = mosquitto_publish (m->mosq, &mid, r->topic, (int) len, p, m->qos, false);
        if (rc != MOSQ_ERR_SUCCESS) {
          /* put it and the rest back at the front; lose() fails them in order */
          g_queue_push_head (&q, r);
          g_mutex_lock (&m->lock);
          while ((r = g_queue_pop_tail (&q)))
            g_queue_push_head (&m->outq, r);
          g_mutex_unlock (&m->lock);
          if (!m->lost)
            m->lost = g_strdup_printf ("publish failed: %s", mosquitto_strerror (rc));
          break;
        }
        if (m->qos == 0)
          ova_ad_req_done (r, OVA_MSGAPI_OK);
        else
          g_hash_table_insert (m->inflight, GINT_TO_POINTER (mid), r);
      }
    }
    if (!m->lost) {
      int sock = mosquitto_socket (m->mosq);
      struct pollfd p[2] = { { sock, POLLIN, 0 }, { m->evfd, POLLIN, 0 } };
      if (mosquitto_want_write (m->mosq))
        p[0].events |= POLLOUT;
      poll (p, 2, 50);
      if (p[1].revents & POLLIN) {
        guint64 v;
        if (read (m->evfd, &v, sizeof v) < 0) { }
      }
      int rc = MOSQ_ERR_SUCCESS;
      if (sock >= 0 && p[0].revents & (POLLIN | POLLERR | POLLHUP))
        rc = mosquitto_loop_read (m->mosq, 64);
      if (rc == MOSQ_ERR_SUCCESS && sock >= 0 && mosquitto_want_write (m->mosq))
        rc = mosquitto_loop_write (m->mosq, 64);
      if (rc == MOSQ_ERR_SUCCESS)
        rc = mosquitto_loop_misc (m->mosq);
      if (rc != MOSQ_ERR_SUCCESS && !m->lost)
        m->lost = g_strdup_printf ("connection to %s:%u lost: %s", m->c.host, m->c.port,
                                   rc == MOSQ_ERR_ERRNO ? g_strerror (errno) : mosquitto_strerror (rc));
    }
    g_mutex_lock (&m->lock);
    connected = m->connected;
    g_mutex_unlock (&m->lock);
    if (!m->lost && !connected && g_get_monotonic_time () > m->connect_deadline)
      m->lost = g_strdup_printf ("no answer from %s:%u within %u ms", m->c.host, m->c.port,
                                 m->c.connect_timeout_ms);
    if (m->lost) {
      gchar *why = m->lost;
      m->lost = NULL;
      lose (m, why);
      g_free (why);
    }
  }
  if (m->mosq) {
    mosquitto_disconnect (m->mosq);
    mosquitto_loop_write (m->mosq, 1);
  }
  lose (m, NULL);
  return NULL;
}

static void
mqtt_free (Mqtt *m)
{
  if (m->evfd >= 0)
    close (m->evfd);
  g_hash_table_unref (m->inflight);
  g_strfreev (m->sub_topics);
  g_free (m->first_error);
  g_free (m->lost);
  g_free (m->username);
  g_free (m->password);
  g_free (m->client_id);
  ova_ad_common_clear (&m->c);
  g_mutex_clear (&m->lock);
  g_cond_clear (&m->cond);
  g_free (m);
}

OvaMsgApiHandle
ova_msgapi_connect (const char *conn_str, OvaMsgApiConnectCb connect_cb, const char *config_path,
                    void *user_ptr, char **error_out)
{
  static gsize init = 0;
  if (g_once_init_enter (&init)) {
    mosquitto_lib_init ();
    g_once_init_leave (&init, 1);
  }
  static const char *const known[] = { "username", "password", "client-id", "keepalive", "qos",
                                       "clean-session", NULL };
  OvaAdCommon c;
  GKeyFile *kf = ova_ad_load_config (conn_str, config_path, known, &c, error_out);
  if (!kf)
    return NULL;
  Mqtt *m = g_new0 (Mqtt, 1);
  m->c = c;
  m->evfd = -1;
  m->inflight = g_hash_table_new (NULL, NULL);
  g_mutex_init (&m->lock);
  g_cond_init (&m->cond);
  gint64 ka = 30, qos = 1, clean = 1;
  if (!ova_ad_get_int (kf, config_path, "keepalive", 5, 3600, &ka, error_out) ||
      !ova_ad_get_int (kf, config_path, "qos", 0, 2, &qos, error_out) ||
      !ova_ad_get_int (kf, config_path, "clean-session", 0, 1, &clean, error_out)) {
    g_key_file_unref (kf);
    mqtt_free (m);
    return NULL;
  }
  m->keepalive = (gint) ka;
  m->window = 128;
  m->qos = (gint) qos;
  m->clean_session = clean != 0;
  m->username = ova_ad_get_str (kf, "username", NULL);
  m->password = ova_ad_get_str (kf, "password", NULL);
  m->client_id = ova_ad_get_str (kf, "client-id", NULL);
  g_key_file_unref (kf);
  m->ccb = connect_cb;
  m->cuser = user_ptr;
  m->evfd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  g_queue_init (&m->outq);
  m->thread = g_thread_new ("ova-mqtt", mqtt_main, m);
  g_mutex_lock (&m->lock);
  while (m->first_result == 0)
    g_cond_wait (&m->cond, &m->lock);
  gboolean ok = m->first_result > 0;
  g_mutex_unlock (&m->lock);
  if (!ok) {
    ova_ad_set_error (error_out, "MQTT %s:%u: %s", m->c.host, m->c.port, m->first_error);
    g_thread_join (m->thread);
    mqtt_free (m);
    errno = ECONNREFUSED; /* the broker, not the settings */
    return NULL;
  }
  return m;
}

OvaMsgApiErrorType
ova_msgapi_send_async (OvaMsgApiHandle h, const char *topic, const uint8_t *payload, size_t nbuf,
                       OvaMsgApiSendCb send_cb, void *user_ptr)
{
  Mqtt *m = h;
  if (!m || nbuf > G_MAXINT)
    return OVA_MSGAPI_ERR;
  const char *t = topic && *topic ? topic : m->c.topic;
  if (!t)
    return OVA_MSGAPI_UNKNOWN_TOPIC;
  g_mutex_lock (&m->lock);
  if (!m->connected || m->stop) {
    g_mutex_unlock (&m->lock);
    return OVA_MSGAPI_ERR;
  }
  gboolean was_empty = g_queue_is_empty (&m->outq);
  g_queue_push_tail (&m->outq, ova_ad_req_new (t, payload, nbuf, send_cb, user_ptr));
  g_mutex_unlock (&m->lock);
  if (was_empty)
    wake (m);
  return OVA_MSGAPI_OK;
}

OVA_AD_DEFINE_SYNC_SEND (((Mqtt *) h)->c.connect_timeout_ms)

OvaMsgApiErrorType
ova_msgapi_subscribe (OvaMsgApiHandle h, char **topics, int num_topics, OvaMsgApiSubscribeCb cb,
                      void *user_ptr)
{
  Mqtt *m = h;
  if (!m || !topics || num_topics <= 0 || !cb)
    return OVA_MSGAPI_ERR;
  g_mutex_lock (&m->lock);
  g_strfreev (m->sub_topics);
  m->sub_topics = g_new0 (gchar *, num_topics + 1);
  for (int i = 0; i < num_topics; i++)
    m->sub_topics[i] = g_strdup (topics[i]);
  m->scb = cb;
  m->suser = user_ptr;
  m->sub_dirty = TRUE;
  g_mutex_unlock (&m->lock);
  wake (m);
  return OVA_MSGAPI_OK;
}

OvaMsgApiErrorType
ova_msgapi_disconnect (OvaMsgApiHandle h)
{
  Mqtt *m = h;
  if (!m)
    return OVA_MSGAPI_ERR;
  g_mutex_lock (&m->lock);
  m->stop = TRUE;
  g_mutex_unlock (&m->lock);
  wake (m);
  g_thread_join (m->thread);
  mqtt_free (m);
  return OVA_MSGAPI_OK;
}

OVA_AD_DEFINE_SIGNATURE ("MQTT")
