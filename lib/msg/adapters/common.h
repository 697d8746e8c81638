/* ova — helpers shared by the broker adapters (internal).
 * SPDX-License-Identifier: MIT */
#ifndef OVA_ADAPTER_COMMON_H
#define OVA_ADAPTER_COMMON_H

#include <ova/msg.h>
#include <ova/msgapi.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define OVA_ADAPTER_GROUP "message-broker"

/* One message waiting for its acknowledgement. */
typedef struct {
  gchar *topic;
  GBytes *data;
  OvaMsgApiSendCb cb;
  void *user;
} OvaAdReq;

static inline OvaAdReq *
ova_ad_req_new (const char *topic, const uint8_t *payload, size_t n, OvaMsgApiSendCb cb, void *user)
{
  OvaAdReq *r = g_new0 (OvaAdReq, 1);
  r->topic = g_strdup (topic);
  r->data = g_bytes_new (payload, n);
  r->cb = cb;
  r->user = user;
  return r;
}

/* Completes (calls the callback once) and frees. */
static inline void
ova_ad_req_done (OvaAdReq *r, OvaMsgApiErrorType status)
{
  if (r->cb)
    r->cb (r->user, status);
  g_free (r->topic);
  g_bytes_unref (r->data);
  g_free (r);
}

static inline void
ova_ad_set_error (char **error_out, const char *fmt, ...) G_GNUC_PRINTF (2, 3);
static inline void
ova_ad_set_error (char **error_out, const char *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  gchar *m = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (error_out)
    *error_out = strdup (m);
  g_free (m);
  errno = EINVAL; /* a bad connection string or config (see ova_msgapi_connect) */
}

/* The keys every adapter understands. */
typedef struct {
  gchar *host;
  guint port;
  gchar *topic;
  guint connect_timeout_ms;
  guint reconnect_ms;
} OvaAdCommon;

static inline void
ova_ad_common_clear (OvaAdCommon *c)
{
  g_free (c->host);
  g_free (c->topic);
}

/*
 * Loads @path (may be NULL) and checks that [message-broker] holds only
 * @known keys (plus the common ones). Returns the key file (or an empty one),
 * NULL with *@error_out set on a bad file or key.
 */
static inline GKeyFile *
ova_ad_load_config (const char *conn_str, const char *path, const char *const *known,
                    OvaAdCommon *c, char **error_out)
{
  GError *e = NULL;
  memset (c, 0, sizeof *c);
  c->connect_timeout_ms = 3000;
  c->reconnect_ms = 500;
  if (!ova_msg_parse_conn_str (conn_str, &c->host, &c->port, &c->topic, &e)) {
    ova_ad_set_error (error_out, "%s", e->message);
    g_error_free (e);
    return NULL;
  }
  GKeyFile *kf = g_key_file_new ();
  if (path && *path) {
    if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &e)) {
      ova_ad_set_error (error_out, "%s: %s", path, e->message);
      g_error_free (e);
      goto fail;
    }
    g_auto (GStrv) keys = g_key_file_get_keys (kf, OVA_ADAPTER_GROUP, NULL, NULL);
    for (guint i = 0; keys && keys[i]; i++) {
      static const char *const common[] = { "connect-timeout-ms", "reconnect-interval-ms", "topic",
                                            NULL };
      if (!g_strv_contains (common, keys[i]) && !(known && g_strv_contains (known, keys[i]))) {
        ova_ad_set_error (error_out, "%s: [%s] %s: unknown key", path, OVA_ADAPTER_GROUP, keys[i]);
        goto fail;
      }
    }
    const char *uk[] = { "connect-timeout-ms", "reconnect-interval-ms" };
    guint *dst[] = { &c->connect_timeout_ms, &c->reconnect_ms };
    for (guint i = 0; i < 2; i++) {
      if (!g_key_file_has_key (kf, OVA_ADAPTER_GROUP, uk[i], NULL))
        continue;
      g_autofree gchar *v = g_key_file_get_string (kf, OVA_ADAPTER_GROUP, uk[i], NULL);
      gchar *end = NULL;
      guint64 x = g_ascii_strtoull (g_strstrip (v), &end, 10);
      if (!*v || *end || x == 0 || x > 3600000) {
        ova_ad_set_error (error_out, "%s: [%s] %s: expected milliseconds in 1..3600000, got '%s'",
                          path, OVA_ADAPTER_GROUP, uk[i], v);
        goto fail;
      }
      *dst[i] = (guint) x;
    }
    if (g_key_file_has_key (kf, OVA_ADAPTER_GROUP, "topic", NULL) && !c->topic)
      c->topic = g_strstrip (g_key_file_get_string (kf, OVA_ADAPTER_GROUP, "topic", NULL));
  }
  return kf;
fail:
  g_key_file_unref (kf);
  ova_ad_common_clear (c);
  return NULL;
}

/* An integer key of [message-broker] in [lo, hi]; FALSE with *@error_out set if malformed. */
static inline gboolean
ova_ad_get_int (GKeyFile *kf, const char *path, const char *key, gint64 lo, gint64 hi, gint64 *out,
                char **error_out)
{
  if (!g_key_file_has_key (kf, OVA_ADAPTER_GROUP, key, NULL))
    return TRUE;
  g_autofree gchar *v = g_key_file_get_string (kf, OVA_ADAPTER_GROUP, key, NULL);
  gchar *end = NULL;
  gint64 x = g_ascii_strtoll (g_strstrip (v), &end, 10);
  if (!*v || *end || x < lo || x > hi) {
    ova_ad_set_error (error_out, "%s: [%s] %s: expected an integer in %" G_GINT64_FORMAT "..%"
                      G_GINT64_FORMAT ", got '%s'", path, OVA_ADAPTER_GROUP, key, lo, hi, v);
    return FALSE;
  }
  *out = x;
  return TRUE;
}

static inline gchar *
ova_ad_get_str (GKeyFile *kf, const char *key, const char *def)
{
  gchar *v = g_key_file_get_string (kf, OVA_ADAPTER_GROUP, key, NULL);
  if (!v)
    return g_strdup (def);
  return g_strstrip (v);
}

/* Blocking send on top of send_async. */
typedef struct {
  GMutex lock;
  GCond cond;
  gboolean done;
  OvaMsgApiErrorType status;
  gint refs;
} OvaAdSyncWait;

static inline void
ova_ad_sync_unref (OvaAdSyncWait *w)
{
  if (g_atomic_int_dec_and_test (&w->refs)) {
    g_mutex_clear (&w->lock);
    g_cond_clear (&w->cond);
    g_free (w);
  }
}

static inline void
ova_ad_sync_cb (void *user, OvaMsgApiErrorType status)
{
  OvaAdSyncWait *w = user;
  g_mutex_lock (&w->lock);
  w->done = TRUE;
  w->status = status;
  g_cond_signal (&w->cond);
  g_mutex_unlock (&w->lock);
  ova_ad_sync_unref (w);
}

#define OVA_AD_DEFINE_SYNC_SEND(timeout_expr)                                                    \
  OvaMsgApiErrorType ova_msgapi_send (OvaMsgApiHandle h, const char *topic,                      \
                                      const uint8_t *payload, size_t nbuf)                       \
  {                                                                                              \
    OvaAdSyncWait *w = g_new0 (OvaAdSyncWait, 1);                                                \
    g_mutex_init (&w->lock);                                                                     \
    g_cond_init (&w->cond);                                                                      \
    w->refs = 2;                                                                                 \
    if (ova_msgapi_send_async (h, topic, payload, nbuf, ova_ad_sync_cb, w) != OVA_MSGAPI_OK) {   \
      w->refs = 1;                                                                               \
      ova_ad_sync_unref (w);                                                                     \
      return OVA_MSGAPI_ERR;                                                                     \
    }                                                                                            \
    gint64 end = g_get_monotonic_time () + (gint64) (timeout_expr) * 1000;                       \
    g_mutex_lock (&w->lock);                                                                     \
    while (!w->done)                                                                             \
      if (!g_cond_wait_until (&w->cond, &w->lock, end))                                          \
        break;                                                                                   \
    OvaMsgApiErrorType st = w->done ? w->status : OVA_MSGAPI_ERR;                                \
    g_mutex_unlock (&w->lock);                                                                   \
    ova_ad_sync_unref (w);                                                                       \
    return st;                                                                                   \
  }

#define OVA_AD_DEFINE_SIGNATURE(proto)                                                           \
  OvaMsgApiErrorType ova_msgapi_connection_signature (const char *conn_str, const char *cfg,     \
                                                      char *output_str, int max_len)             \
  {                                                                                              \
    gchar *host = NULL;                                                                          \
    guint port = 0;                                                                              \
    if (!output_str || max_len <= 0 || !ova_msg_parse_conn_str (conn_str, &host, &port, NULL, NULL)) \
      return OVA_MSGAPI_ERR;                                                                     \
    gchar *sig = g_strdup_printf ("%s://%s:%u", proto, host, port);                             \
    g_free (host);                                                                               \
    gboolean fits = (gint) strlen (sig) < max_len;                                               \
    if (fits)                                                                                    \
      strcpy (output_str, sig);                                                                  \
    g_free (sig);                                                                                \
    return fits ? OVA_MSGAPI_OK : OVA_MSGAPI_ERR;                                                \
  }                                                                                              \
  const char *ova_msgapi_getversion (void) { return OVA_MSGAPI_VERSION; }                        \
  const char *ova_msgapi_get_protocol_name (void) { return proto; }                              \
  void ova_msgapi_do_work (OvaMsgApiHandle h) { (void) h; }

#endif
