/* ova — Redis Streams adapter (hiredis): each message is XADD <topic> * payload <json>;
 * acknowledged when Redis answers with the entry id. Commands are pipelined
 * in batches from the adapter's thread. Cloud-to-device: XREAD BLOCK on the
 * subscribed streams from a second connection.
 *
 * [message-broker] keys: password, db, maxlen (XADD MAXLEN ~ N; 0 = unbounded),
 * field (default "payload"), plus the common ones.
 * SPDX-License-Identifier: MIT */
#include "worker.h"
#include <hiredis/hiredis.h>

#define BATCH 512

typedef struct {
  OvaAdCommon c;
  gchar *password, *field;
  gint64 db, maxlen;
  OvaAdWorker w;
  redisContext *ctx; /* thread-only */
} Redis;

static redisContext *
open_conn (Redis *r, gchar **why)
{
  struct timeval tv = { r->c.connect_timeout_ms / 1000, (r->c.connect_timeout_ms % 1000) * 1000 };
  redisContext *ctx = redisConnectWithTimeout (r->c.host, (int) r->c.port, tv);
  if (!ctx || ctx->err) {
    *why = g_strdup_printf ("cannot connect to %s:%u: %s", r->c.host, r->c.port,
                            ctx ? ctx->errstr : "out of memory");
    if (ctx)
      redisFree (ctx);
    return NULL;
  }
  redisSetTimeout (ctx, tv);
  redisReply *rep = NULL;
  if (r->password) {
    rep = redisCommand (ctx, "AUTH %s", r->password);
    if (!rep || rep->type == REDIS_REPLY_ERROR)
      goto bad;
    freeReplyObject (rep);
  }
  rep = redisCommand (ctx, r->db ? "SELECT %lld" : "PING", (long long) r->db);
  if (!rep || rep->type == REDIS_REPLY_ERROR)
    goto bad;
  freeReplyObject (rep);
  return ctx;
bad:
  if (rep)
    *why = g_strdup_printf ("%s:%u: %s", r->c.host, r->c.port, rep->str);
  else
    *why = g_strdup_printf ("%s:%u: no answer within %u ms (%s)", r->c.host, r->c.port,
                            r->c.connect_timeout_ms, ctx->errstr);
  if (rep)
    freeReplyObject (rep);
  redisFree (ctx);
  return NULL;
}

static void
lose (Redis *r, GQueue *batch, const gchar *why)
{
  if (r->ctx) {
    redisFree (r->ctx);
    r->ctx = NULL;
  }
  ova_ad_worker_lost (&r->w, batch, why);
}

static gpointer
redis_main (gpointer data)
{
  Redis *r = data;
  gint64 last_io = g_get_monotonic_time ();
  gint64 stop_deadline = 0;
  GQueue batch = G_QUEUE_INIT;
  for (;;) {
    if (!r->ctx) {
      gchar *why = NULL;
      r->ctx = open_conn (r, &why);
      switch (ova_ad_worker_opened (&r->w, r->ctx != NULL, why, r->c.reconnect_ms)) {
      case OVA_AD_OPEN_FAILED:
        return NULL;
      case OVA_AD_OPEN_STOP:
        goto done;
      case OVA_AD_OPEN_RETRY:
        continue;
      case OVA_AD_OPEN_UP:
        break;
      }
      last_io = g_get_monotonic_time ();
    }
    gboolean stop = ova_ad_worker_take (&r->w, &batch, BATCH);
    if (stop) {
      gint64 now = g_get_monotonic_time ();
      if (!stop_deadline)
        stop_deadline = now + (gint64) r->c.connect_timeout_ms * 1000;
      if (g_queue_is_empty (&batch) || now > stop_deadline)
        break;
    }
    if (g_queue_is_empty (&batch)) {
      /* idle: notice a dead server without waiting for the next message */
      if (g_get_monotonic_time () - last_io > 1000000) {
        redisReply *rep = redisCommand (r->ctx, "PING");
        if (!rep) {
          g_autofree gchar *why = g_strdup_printf ("connection to %s:%u lost: %s", r->c.host,
                                                   r->c.port, r->ctx->errstr);
          lose (r, &batch, why);
          continue;
        }
        freeReplyObject (rep);
        last_io = g_get_monotonic_time ();
      }
      continue;
    }
    for (GList *l = batch.head; l; l = l->next) {
      OvaAdReq *q = l->data;
      gsize len;
      const void *p = g_bytes_get_data (q->data, &len);
      if (r->maxlen > 0)
        redisAppendCommand (r->ctx, "XADD %s MAXLEN ~ %lld * %s %b", q->topic, (long long) r->maxlen,
                            r->field, p, len);
      else
        redisAppendCommand (r->ctx, "XADD %s * %s %b", q->topic, r->field, p, len);
    }
    while (!g_queue_is_empty (&batch)) {
      redisReply *rep = NULL;
      if (redisGetReply (r->ctx, (void **) &rep) != REDIS_OK || !rep) {
        g_autofree gchar *why = g_strdup_printf ("connection to %s:%u lost: %s", r->c.host,
                                                 r->c.port, r->ctx->errstr);
        lose (r, &batch, why);
        break;
      }
      OvaAdReq *q = g_queue_pop_head (&batch);
      if (rep->type == REDIS_REPLY_ERROR)
        g_warning ("redis: XADD %s: %s", q->topic, rep->str);
      ova_ad_req_done (q, rep->type == REDIS_REPLY_ERROR ? OVA_MSGAPI_ERR : OVA_MSGAPI_OK);
      freeReplyObject (rep);
    }
    last_io = g_get_monotonic_time ();
  }
done:
  lose (r, &batch, NULL);
  return NULL;
}

/* Cloud to device: XREAD BLOCK on every subscribed stream, from the entries
 * added after subscribing. */
static gpointer
redis_sub_main (gpointer data)
{
  Redis *r = data;
  redisContext *ctx = NULL;
  guint n = g_strv_length (r->w.sub_topics);
  gchar **ids = g_new0 (gchar *, n + 1);
  for (guint i = 0; i < n; i++)
    ids[i] = g_strdup ("$");
  for (;;) {
    if (ova_ad_worker_stopping (&r->w))
      break;
    if (!ctx) {
      gchar *why = NULL;
      ctx = open_conn (r, &why);
      if (!ctx) {
        g_free (why);
        g_usleep ((gulong) r->c.reconnect_ms * 1000);
        continue;
      }
      struct timeval tv = { 2, 0 };
      redisSetTimeout (ctx, tv);
    }
    /* XREAD COUNT 100 BLOCK 500 STREAMS k1 .. kn id1 .. idn */
    guint argc = 6 + 2 * n;
    const char **argv = g_new0 (const char *, argc);
    argv[0] = "XREAD"; argv[1] = "COUNT"; argv[2] = "100"; argv[3] = "BLOCK"; argv[4] = "500";
    argv[5] = "STREAMS";
    for (guint i = 0; i < n; i++) {
      argv[6 + i] = r->w.sub_topics[i];
      argv[6 + n + i] = ids[i];
    }
    redisReply *rep = redisCommandArgv (ctx, (int) argc, argv, NULL);
    g_free (argv);
    if (!rep) {
      redisFree (ctx);
      ctx = NULL;
      continue;
    }
    if (rep->type == REDIS_REPLY_ARRAY) {
      for (size_t s = 0; s < rep->elements; s++) {
        redisReply *st = rep->element[s];
        if (st->type != REDIS_REPLY_ARRAY || st->elements != 2)
          continue;
        const char *key = st->element[0]->str;
        guint ki = 0;
        while (ki < n && g_strcmp0 (r->w.sub_topics[ki], key))
          ki++;
        redisReply *entries = st->element[1];
        for (size_t e = 0; e < entries->elements; e++) {
          redisReply *en = entries->element[e];
          if (en->type != REDIS_REPLY_ARRAY || en->elements != 2)
            continue;
          if (ki < n) {
            g_free (ids[ki]);
            ids[ki] = g_strdup (en->element[0]->str);
          }
          redisReply *kv = en->element[1];
          for (size_t f = 0; f + 1 < kv->elements; f += 2)
            if (!g_strcmp0 (kv->element[f]->str, r->field) && r->w.scb)
              r->w.scb (OVA_MSGAPI_OK, kv->element[f + 1]->str, (int) kv->element[f + 1]->len,
                      (char *) key, r->w.suser);
        }
      }
    }
    freeReplyObject (rep);
  }
  if (ctx)
    redisFree (ctx);
  g_strfreev (ids);
  return NULL;
}

static void
redis_free (Redis *r)
{
  g_free (r->password);
  g_free (r->field);
  ova_ad_common_clear (&r->c);
  ova_ad_worker_clear (&r->w);
  g_free (r);
}

OvaMsgApiHandle
ova_msgapi_connect (const char *conn_str, OvaMsgApiConnectCb connect_cb, const char *config_path,
                    void *user_ptr, char **error_out)
{
  static const char *const known[] = { "password", "db", "maxlen", "field", NULL };
  OvaAdCommon c;
  GKeyFile *kf = ova_ad_load_config (conn_str, config_path, known, &c, error_out);
  if (!kf)
    return NULL;
  Redis *r = g_new0 (Redis, 1);
  r->c = c;
  ova_ad_worker_init (&r->w, r, connect_cb, user_ptr);
  if (!ova_ad_get_int (kf, config_path, "db", 0, 1 << 20, &r->db, error_out) ||
      !ova_ad_get_int (kf, config_path, "maxlen", 0, G_MAXINT64, &r->maxlen, error_out)) {
    g_key_file_unref (kf);
    redis_free (r);
    return NULL;
  }
  r->password = ova_ad_get_str (kf, "password", NULL);
  r->field = ova_ad_get_str (kf, "field", "payload");
  g_key_file_unref (kf);
  if (!ova_ad_worker_start (&r->w, "ova-redis", redis_main, "Redis", error_out)) {
    redis_free (r);
    errno = ECONNREFUSED; /* the broker, not the settings */
    return NULL;
  }
  return r;
}

OvaMsgApiErrorType
ova_msgapi_send_async (OvaMsgApiHandle h, const char *topic, const uint8_t *payload, size_t nbuf,
                       OvaMsgApiSendCb send_cb, void *user_ptr)
{
  Redis *r = h;
  if (!r)
    return OVA_MSGAPI_ERR;
  return ova_ad_worker_enqueue (&r->w, r->c.topic, topic, payload, nbuf, send_cb, user_ptr);
}

OVA_AD_DEFINE_SYNC_SEND (((Redis *) h)->c.connect_timeout_ms)

OvaMsgApiErrorType
ova_msgapi_subscribe (OvaMsgApiHandle h, char **topics, int num_topics, OvaMsgApiSubscribeCb cb,
                      void *user_ptr)
{
  Redis *r = h;
  if (!r)
    return OVA_MSGAPI_ERR;
  return ova_ad_worker_subscribe (&r->w, "ova-redis-sub", redis_sub_main, topics, num_topics, cb, user_ptr);
}

OvaMsgApiErrorType
ova_msgapi_disconnect (OvaMsgApiHandle h)
{
  Redis *r = h;
  if (!r)
    return OVA_MSGAPI_ERR;
  ova_ad_worker_stop (&r->w);
  redis_free (r);
  return OVA_MSGAPI_OK;
}

OVA_AD_DEFINE_SIGNATURE ("REDIS")
