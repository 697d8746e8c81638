/* ova — the connection thread shared by the adapters whose client library
 * is blocking (AMQP, Redis): a queue of requests, a thread that owns the
 * connection and reconnects, and an optional subscriber thread (internal).
 * SPDX-License-Identifier: MIT */
#ifndef OVA_ADAPTER_WORKER_H
#define OVA_ADAPTER_WORKER_H

#include "common.h"

/* Everything here except the connection itself, which stays thread-only in
 * the adapter. Fields under @lock: outq, stop, connected, first_result. */
typedef struct {
  OvaMsgApiHandle handle; /* what the callbacks are given */
  GMutex lock;
  GCond cond;
  GQueue outq; /* OvaAdReq* */
  GThread *thread, *sub_thread;
  gboolean stop;
  gboolean connected;
  gint first_result; /* 0 pending, 1 up, -1 failed (first_error says why) */
  gchar *first_error;
  gchar **sub_topics;
  OvaMsgApiSubscribeCb scb;
  void *suser;
  OvaMsgApiConnectCb ccb;
  void *cuser;
} OvaAdWorker;

static inline void
ova_ad_worker_init (OvaAdWorker *w, OvaMsgApiHandle handle, OvaMsgApiConnectCb ccb, void *cuser)
{
  memset (w, 0, sizeof *w);
  w->handle = handle;
  w->ccb = ccb;
  w->cuser = cuser;
  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  g_queue_init (&w->outq);
}

/* After the threads are joined. */
static inline void
ova_ad_worker_clear (OvaAdWorker *w)
{
  g_free (w->first_error);
  g_strfreev (w->sub_topics);
  g_mutex_clear (&w->lock);
  g_cond_clear (&w->cond);
}

static inline gboolean
ova_ad_worker_stopping (OvaAdWorker *w)
{
  g_mutex_lock (&w->lock);
  gboolean stop = w->stop;
  g_mutex_unlock (&w->lock);
  return stop;
}

/* Fails @batch and everything still queued: their senders must not wait for
 * a connection that is gone (the publisher's spool keeps the messages). */
static inline void
ova_ad_worker_fail_queue (OvaAdWorker *w, GQueue *batch)
{
  OvaAdReq *q;
  while ((q = g_queue_pop_head (batch)))
    ova_ad_req_done (q, OVA_MSGAPI_ERR);
  g_mutex_lock (&w->lock);
  GQueue rest = w->outq;
  g_queue_init (&w->outq);
  g_mutex_unlock (&w->lock);
  while ((q = g_queue_pop_head (&rest)))
    ova_ad_req_done (q, OVA_MSGAPI_ERR);
}

/* The connection broke (the adapter has closed it): fail what is pending and
 * tell the application once. */
static inline void
ova_ad_worker_lost (OvaAdWorker *w, GQueue *batch, const gchar *why)
{
  g_mutex_lock (&w->lock);
  gboolean was = w->connected;
  w->connected = FALSE;
  g_mutex_unlock (&w->lock);
  ova_ad_worker_fail_queue (w, batch);
  if (was && why && w->ccb)
    w->ccb (w->handle, OVA_MSGAPI_EVT_DISCONNECT, why, w->cuser);
}

typedef enum {
  OVA_AD_OPEN_UP,    /* connected: go on */
  OVA_AD_OPEN_RETRY, /* failed, waited the reconnect interval: try again */
  OVA_AD_OPEN_FAILED, /* the first attempt failed: ova_msgapi_connect reports it; return */
  OVA_AD_OPEN_STOP,  /* stopping while reconnecting: finish up */
} OvaAdOpenResult;

/* Called by the connection thread after each connection attempt; takes @why
 * (the failure's reason, NULL when @up). */
static inline OvaAdOpenResult
ova_ad_worker_opened (OvaAdWorker *w, gboolean up, gchar *why, guint reconnect_ms)
{
  g_mutex_lock (&w->lock);
  if (up) {
    gboolean first = w->first_result == 0;
    w->first_result = 1;
    w->connected = TRUE;
    g_cond_broadcast (&w->cond);
    g_mutex_unlock (&w->lock);
    if (!first && w->ccb)
      w->ccb (w->handle, OVA_MSGAPI_EVT_SUCCESS, "reconnected", w->cuser);
    g_free (why);
    return OVA_AD_OPEN_UP;
  }
  if (w->first_result == 0) {
    /* ova_msgapi_connect reports the first failure: settings, not outages */
    w->first_result = -1;
    w->first_error = why;
    g_cond_broadcast (&w->cond);
    g_mutex_unlock (&w->lock);
    return OVA_AD_OPEN_FAILED;
  }
  if (!w->stop)
    g_cond_wait_until (&w->cond, &w->lock, g_get_monotonic_time () + (gint64) reconnect_ms * 1000);
  gboolean stop = w->stop;
  g_mutex_unlock (&w->lock);
  g_free (why);
  return stop ? OVA_AD_OPEN_STOP : OVA_AD_OPEN_RETRY;
}

/* Moves up to @max queued requests to @batch, waiting up to 200 ms for the
 * first; returns whether the adapter is stopping. */
static inline gboolean
ova_ad_worker_take (OvaAdWorker *w, GQueue *batch, guint max)
{
  g_mutex_lock (&w->lock);
  if (g_queue_is_empty (&w->outq) && !w->stop)
    g_cond_wait_until (&w->cond, &w->lock, g_get_monotonic_time () + 200000);
  for (guint i = 0; i < max && !g_queue_is_empty (&w->outq); i++)
    g_queue_push_tail (batch, g_queue_pop_head (&w->outq));
  gboolean stop = w->stop;
  g_mutex_unlock (&w->lock);
  return stop;
}

/* Starts the connection thread and waits for its first attempt; on failure
 * sets *@error_out ("@proto <reason>") and joins the thread. */
static inline gboolean
ova_ad_worker_start (OvaAdWorker *w, const char *thread_name, GThreadFunc main_fn,
                     const char *proto, char **error_out)
{
  w->thread = g_thread_new (thread_name, main_fn, w->handle);
  g_mutex_lock (&w->lock);
  while (w->first_result == 0)
    g_cond_wait (&w->cond, &w->lock);
  gboolean ok = w->first_result > 0;
  g_mutex_unlock (&w->lock);
  if (!ok) {
    ova_ad_set_error (error_out, "%s %s", proto, w->first_error);
    g_thread_join (w->thread);
    w->thread = NULL;
  }
  return ok;
}

static inline OvaMsgApiErrorType
ova_ad_worker_enqueue (OvaAdWorker *w, const char *default_topic, const char *topic,
                       const uint8_t *payload, size_t nbuf, OvaMsgApiSendCb cb, void *user)
{
  const char *t = topic && *topic ? topic : default_topic;
  if (!t)
    return OVA_MSGAPI_UNKNOWN_TOPIC;
  g_mutex_lock (&w->lock);
  if (!w->connected || w->stop) {
    g_mutex_unlock (&w->lock);
    return OVA_MSGAPI_ERR;
  }
  g_queue_push_tail (&w->outq, ova_ad_req_new (t, payload, nbuf, cb, user));
  if (w->outq.length == 1)
    g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
  return OVA_MSGAPI_OK;
}

static inline OvaMsgApiErrorType
ova_ad_worker_subscribe (OvaAdWorker *w, const char *thread_name, GThreadFunc main_fn,
                         char **topics, int num_topics, OvaMsgApiSubscribeCb cb, void *user)
{
  if (!topics || num_topics <= 0 || !cb || w->sub_thread)
    return OVA_MSGAPI_ERR;
  w->sub_topics = g_new0 (gchar *, num_topics + 1);
  for (int i = 0; i < num_topics; i++)
    w->sub_topics[i] = g_strdup (topics[i]);
  w->scb = cb;
  w->suser = user;
  w->sub_thread = g_thread_new (thread_name, main_fn, w->handle);
  return OVA_MSGAPI_OK;
}

/* Asks the threads to finish (the connection thread flushes what it can
 * within the connect timeout) and joins them. */
static inline void
ova_ad_worker_stop (OvaAdWorker *w)
{
  g_mutex_lock (&w->lock);
  w->stop = TRUE;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
  if (w->thread)
    g_thread_join (w->thread);
  if (w->sub_thread)
    g_thread_join (w->sub_thread);
}

#endif
