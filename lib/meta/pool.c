/* ova — metadata pools. SPDX-License-Identifier: MIT
 *
 * One free list per meta type behind one mutex. Batches of a muxer share a
 * pool, so once the pipeline has reached its working set every acquire is a
 * pop from a free list and every buffer free a push: no allocation per frame.
 */
#include "meta-private.h"
#include <string.h>

struct _OvaMetaPool {
  gint refcount;
  GMutex lock;
  GPtrArray *frames, *objects, *classifiers, *labels, *displays, *users;
  guint64 allocations;
};

static GPtrArray *
free_list_new (void)
{
  return g_ptr_array_new ();
}

OvaMetaPool *
ova_meta_pool_new (void)
{
  OvaMetaPool *p = g_new0 (OvaMetaPool, 1);
  p->refcount = 1;
  g_mutex_init (&p->lock);
  p->frames = free_list_new ();
  p->objects = free_list_new ();
  p->classifiers = free_list_new ();
  p->labels = free_list_new ();
  p->displays = free_list_new ();
  p->users = free_list_new ();
  return p;
}

OvaMetaPool *
ova_meta_pool_ref (OvaMetaPool *pool)
{
  g_atomic_int_inc (&pool->refcount);
  return pool;
}

static void
destroy_frame (gpointer p)
{
  OvaFrameMeta *f = p;
  g_ptr_array_unref (f->objects);
  g_ptr_array_unref (f->classifiers);
  g_ptr_array_unref (f->user_metas);
  g_ptr_array_unref (f->display_metas);
  g_free (f);
}

static void
destroy_object (gpointer p)
{
  OvaObjectMeta *o = p;
  g_ptr_array_unref (o->classifiers);
  g_ptr_array_unref (o->user_metas);
  g_free (o);
}

static void
destroy_classifier (gpointer p)
{
  OvaClassifierMeta *c = p;
  g_ptr_array_unref (c->labels);
  g_free (c);
}

void
ova_meta_pool_unref (OvaMetaPool *pool)
{
  if (!g_atomic_int_dec_and_test (&pool->refcount))
    return;
  for (guint i = 0; i < pool->frames->len; i++) destroy_frame (pool->frames->pdata[i]);
  for (guint i = 0; i < pool->objects->len; i++) destroy_object (pool->objects->pdata[i]);
  for (guint i = 0; i < pool->classifiers->len; i++) destroy_classifier (pool->classifiers->pdata[i]);
  for (guint i = 0; i < pool->labels->len; i++) g_free (pool->labels->pdata[i]);
  for (guint i = 0; i < pool->displays->len; i++) g_free (pool->displays->pdata[i]);
  for (guint i = 0; i < pool->users->len; i++) g_free (pool->users->pdata[i]);
  g_ptr_array_unref (pool->frames);
  g_ptr_array_unref (pool->objects);
  g_ptr_array_unref (pool->classifiers);
  g_ptr_array_unref (pool->labels);
  g_ptr_array_unref (pool->displays);
  g_ptr_array_unref (pool->users);
  g_mutex_clear (&pool->lock);
  g_free (pool);
}

guint64
ova_meta_pool_get_allocations (OvaMetaPool *pool)
{
  guint64 n;
  g_mutex_lock (&pool->lock);
  n = pool->allocations;
  g_mutex_unlock (&pool->lock);
  return n;
}

OvaMetaPool *
ova_meta_pool_default (void)
{
  static OvaMetaPool *pool;
  if (g_once_init_enter (&pool))
    g_once_init_leave (&pool, ova_meta_pool_new ());
  return pool;
}

static gpointer
pop (OvaMetaPool *pool, GPtrArray *list)
{
  gpointer p = NULL;
  g_mutex_lock (&pool->lock);
  if (list->len > 0)
    p = g_ptr_array_steal_index_fast (list, list->len - 1);
  else
    pool->allocations++;
  g_mutex_unlock (&pool->lock);
  return p;
}

static void
push (OvaMetaPool *pool, GPtrArray *list, gpointer p)
{
  g_mutex_lock (&pool->lock);
  g_ptr_array_add (list, p);
  g_mutex_unlock (&pool->lock);
}

OvaFrameMeta *
ova_meta_pool_get_frame (OvaMetaPool *pool)
{
  OvaFrameMeta *f = pop (pool, pool->frames);
  GPtrArray *a, *b, *c, *d;
  if (!f) {
    f = g_new0 (OvaFrameMeta, 1);
    f->objects = g_ptr_array_sized_new (16);
    f->classifiers = g_ptr_array_new ();
    f->user_metas = g_ptr_array_new ();
    f->display_metas = g_ptr_array_new ();
  }
  a = f->objects; b = f->classifiers; c = f->user_metas; d = f->display_metas;
  memset (f, 0, sizeof (*f));
  f->objects = a; f->classifiers = b; f->user_metas = c; f->display_metas = d;
  f->buf_pts = f->duration = GST_CLOCK_TIME_NONE;
  gst_video_info_init (&f->video_info);
  return f;
}

OvaObjectMeta *
ova_meta_pool_get_object (OvaMetaPool *pool)
{
  OvaObjectMeta *o = pop (pool, pool->objects);
  GPtrArray *a, *b;
  if (!o) {
    o = g_new0 (OvaObjectMeta, 1);
    o->classifiers = g_ptr_array_new ();
    o->user_metas = g_ptr_array_new ();
  }
  a = o->classifiers; b = o->user_metas;
  memset (o, 0, sizeof (*o));
  o->classifiers = a; o->user_metas = b;
  o->tracker_id = OVA_UNTRACKED;
  o->confidence = -1.f;
  o->class_id = -1;
  return o;
}

OvaClassifierMeta *
ova_meta_pool_get_classifier (OvaMetaPool *pool)
{
  OvaClassifierMeta *c = pop (pool, pool->classifiers);
  if (!c) {
    c = g_new0 (OvaClassifierMeta, 1);
    c->labels = g_ptr_array_new ();
  }
  c->component_id = 0;
  return c;
}

OvaLabelInfo *
ova_meta_pool_get_label (OvaMetaPool *pool)
{
  OvaLabelInfo *l = pop (pool, pool->labels);
  if (!l)
    l = g_new (OvaLabelInfo, 1);
  l->class_id = -1;
  l->probability = 0.f;
  l->label[0] = '\0';
  return l;
}

OvaDisplayMeta *
ova_meta_pool_get_display (OvaMetaPool *pool)
{
  OvaDisplayMeta *d = pop (pool, pool->displays);
  if (!d)
    d = g_new (OvaDisplayMeta, 1);
  d->n_rects = d->n_lines = d->n_arrows = d->n_circles = d->n_texts = 0;
  return d;
}

OvaUserMeta *
ova_meta_pool_get_user (OvaMetaPool *pool)
{
  OvaUserMeta *u = pop (pool, pool->users);
  if (!u)
    u = g_new (OvaUserMeta, 1);
  memset (u, 0, sizeof (*u));
  return u;
}

void
ova_meta_pool_put_label (OvaMetaPool *pool, OvaLabelInfo *l)
{
  push (pool, pool->labels, l);
}

void
ova_meta_pool_put_display (OvaMetaPool *pool, OvaDisplayMeta *d)
{
  push (pool, pool->displays, d);
}

void
ova_meta_pool_put_user (OvaMetaPool *pool, OvaUserMeta *u)
{
  ova_user_meta_clear (u);
  push (pool, pool->users, u);
}

void
ova_meta_pool_put_classifier (OvaMetaPool *pool, OvaClassifierMeta *c)
{
  for (guint i = 0; i < c->labels->len; i++)
    ova_meta_pool_put_label (pool, g_ptr_array_index (c->labels, i));
  g_ptr_array_set_size (c->labels, 0);
  push (pool, pool->classifiers, c);
}

void
ova_meta_pool_put_object (OvaMetaPool *pool, OvaObjectMeta *o)
{
  for (guint i = 0; i < o->classifiers->len; i++)
    ova_meta_pool_put_classifier (pool, g_ptr_array_index (o->classifiers, i));
  for (guint i = 0; i < o->user_metas->len; i++)
    ova_meta_pool_put_user (pool, g_ptr_array_index (o->user_metas, i));
  g_ptr_array_set_size (o->classifiers, 0);
  g_ptr_array_set_size (o->user_metas, 0);
  push (pool, pool->objects, o);
}

void
ova_meta_pool_put_frame (OvaMetaPool *pool, OvaFrameMeta *f)
{
  for (guint i = 0; i < f->objects->len; i++)
    ova_meta_pool_put_object (pool, g_ptr_array_index (f->objects, i));
  for (guint i = 0; i < f->classifiers->len; i++)
    ova_meta_pool_put_classifier (pool, g_ptr_array_index (f->classifiers, i));
  for (guint i = 0; i < f->user_metas->len; i++)
    ova_meta_pool_put_user (pool, g_ptr_array_index (f->user_metas, i));
  for (guint i = 0; i < f->display_metas->len; i++)
    ova_meta_pool_put_display (pool, g_ptr_array_index (f->display_metas, i));
  g_ptr_array_set_size (f->objects, 0);
  g_ptr_array_set_size (f->classifiers, 0);
  g_ptr_array_set_size (f->user_metas, 0);
  g_ptr_array_set_size (f->display_metas, 0);
  if (f->buffer)
    gst_buffer_unref (f->buffer);
  f->buffer = NULL;
  push (pool, pool->frames, f);
}
