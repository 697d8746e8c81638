/* ova — osd plugin: a small fork-join pool for per-tile / per-frame work. SPDX-License-Identifier: MIT */
#ifndef OVA_OSD_WORKERS_H
#define OVA_OSD_WORKERS_H
#include <glib.h>

typedef void (*OvaWorkFunc) (gpointer job, gpointer data);

/* Fork-join: ova_workers_run() hands out the jobs one at a time to the pool's
 * threads and the calling thread alike (whoever is free takes the next one)
 * and returns when all are done. */
typedef struct {
  GThreadPool *pool;
  guint n_threads;
  GMutex lock;
  GCond done;
  gint pending;          /* pool tasks still running */
  /* the current run */
  OvaWorkFunc func;
  gpointer data;
  guint8 *jobs;
  gsize job_size;
  gint next, n;
} OvaWorkers;

static inline void
ova_workers_take (OvaWorkers *w)
{
  gint i;
  while ((i = g_atomic_int_add (&w->next, 1)) < w->n)
    w->func (w->jobs + (gsize) i * w->job_size, w->data);
}

/* The hand-over uses atomics (seen by ThreadSanitizer, unlike GLib's
 * futex-based GMutex): the run's parameters are published by the store to
 * `next` and taken by the add on it; the jobs' results by the decrement of
 * `pending` and the read of it. */
static inline void
ova_workers_task (gpointer unused, gpointer user_data)
{
  OvaWorkers *w = user_data;
  ova_workers_take (w);
  if (g_atomic_int_dec_and_test (&w->pending)) {
    g_mutex_lock (&w->lock);
    g_cond_signal (&w->done);
    g_mutex_unlock (&w->lock);
  }
}

/* @n_threads: threads besides the caller */
static inline OvaWorkers *
ova_workers_new (guint n_threads)
{
  OvaWorkers *w = g_new0 (OvaWorkers, 1);
  g_mutex_init (&w->lock);
  g_cond_init (&w->done);
  w->n_threads = MAX (n_threads, 1);
  w->pool = g_thread_pool_new (ova_workers_task, w, (gint) w->n_threads, TRUE, NULL);
  return w;
}

static inline void
ova_workers_free (OvaWorkers *w)
{
  if (!w)
    return;
  g_thread_pool_free (w->pool, FALSE, TRUE);
  g_mutex_clear (&w->lock);
  g_cond_clear (&w->done);
  g_free (w);
}

/* Runs func (job i, data) for the @n jobs of @job_size bytes at @jobs. With
 * @w NULL (or one job) everything runs in the calling thread. */
static inline void
ova_workers_run (OvaWorkers *w, OvaWorkFunc func, gpointer data, gpointer jobs, gsize job_size, guint n)
{
  guint helpers;
  if (!w || n < 2) {
    for (guint i = 0; i < n; i++)
      func ((guint8 *) jobs + (gsize) i * job_size, data);
    return;
  }
  helpers = MIN (w->n_threads, n - 1);
  w->func = func;
  w->data = data;
  w->jobs = jobs;
  w->job_size = job_size;
  w->n = (gint) n;
  g_atomic_int_set (&w->pending, (gint) helpers);
  g_atomic_int_set (&w->next, 0);
  for (guint i = 0; i < helpers; i++)
    g_thread_pool_push (w->pool, GINT_TO_POINTER (1), NULL);
  ova_workers_take (w);
  g_mutex_lock (&w->lock);
  while (g_atomic_int_get (&w->pending) > 0)
    g_cond_wait (&w->done, &w->lock);
  g_mutex_unlock (&w->lock);
}
#endif
