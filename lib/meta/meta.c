/* ova — batch metadata (GstMeta) and the tree under it. SPDX-License-Identifier: MIT */
#include "meta-private.h"
#include <string.h>

static guint64 next_object_id = 1;

GType
ova_batch_meta_api_get_type (void)
{
  static GType type;
  static const gchar *tags[] = { NULL };
  if (g_once_init_enter (&type)) {
    GType t = gst_meta_api_type_register ("OvaBatchMetaAPI", tags);
    g_once_init_leave (&type, t);
  }
  return type;
}

static gboolean
batch_meta_init (GstMeta *meta, gpointer params, GstBuffer *buffer)
{
  OvaBatchMeta *b = (OvaBatchMeta *) meta;
  b->max_frames = 0;
  b->frames = g_ptr_array_new ();
  g_rec_mutex_init (&b->lock);
  b->pool = NULL;
  return TRUE;
}

static void
batch_meta_free (GstMeta *meta, GstBuffer *buffer)
{
  OvaBatchMeta *b = (OvaBatchMeta *) meta;
  for (guint i = 0; i < b->frames->len; i++)
    ova_meta_pool_put_frame (b->pool, g_ptr_array_index (b->frames, i));
  g_ptr_array_unref (b->frames);
  g_rec_mutex_clear (&b->lock);
  if (b->pool)
    ova_meta_pool_unref (b->pool);
}

static OvaUserMeta *
copy_user (OvaBatchMeta *dst, const OvaUserMeta *src)
{
  OvaUserMeta *u;
  if (!src->copy_func)
    return NULL; /* payload not copyable: documented, the copy simply lacks it */
  u = ova_batch_meta_acquire_user (dst);
  *u = *src;
  u->payload = src->copy_func (src->payload, src->user_data);
  return u;
}

static OvaClassifierMeta *
copy_classifier (OvaBatchMeta *dst, const OvaClassifierMeta *src)
{
  OvaClassifierMeta *c = ova_batch_meta_acquire_classifier (dst);
  c->component_id = src->component_id;
  for (guint i = 0; i < src->labels->len; i++) {
    OvaLabelInfo *l = ova_batch_meta_acquire_label (dst);
    *l = *(OvaLabelInfo *) g_ptr_array_index (src->labels, i);
    g_ptr_array_add (c->labels, l);
  }
  return c;
}

static void
copy_frame_into (OvaBatchMeta *dst, OvaFrameMeta *nf, const OvaFrameMeta *f)
{
  GPtrArray *objs = nf->objects, *cls = nf->classifiers, *ums = nf->user_metas, *dms = nf->display_metas;
  *nf = *f;
  nf->objects = objs; nf->classifiers = cls; nf->user_metas = ums; nf->display_metas = dms;
  nf->batch = dst;
  if (nf->buffer)
    gst_buffer_ref (nf->buffer);
  for (guint i = 0; i < f->objects->len; i++) {
    const OvaObjectMeta *o = g_ptr_array_index (f->objects, i);
    OvaObjectMeta *no = ova_batch_meta_acquire_object (dst);
    GPtrArray *oc = no->classifiers, *ou = no->user_metas;
    *no = *o;
    no->classifiers = oc; no->user_metas = ou;
    no->frame = nf;
    no->parent = NULL;
    for (guint j = 0; j < o->classifiers->len; j++)
      g_ptr_array_add (no->classifiers, copy_classifier (dst, g_ptr_array_index (o->classifiers, j)));
    for (guint j = 0; j < o->user_metas->len; j++) {
      OvaUserMeta *u = copy_user (dst, g_ptr_array_index (o->user_metas, j));
      if (u)
        g_ptr_array_add (no->user_metas, u);
    }
    g_ptr_array_add (nf->objects, no);
  }
  /* Parents point inside the same frame: re-link by position. */
  for (guint i = 0; i < f->objects->len; i++) {
    const OvaObjectMeta *o = g_ptr_array_index (f->objects, i);
    if (o->parent) {
      for (guint k = 0; k < f->objects->len; k++)
        if (g_ptr_array_index (f->objects, k) == o->parent)
          ((OvaObjectMeta *) g_ptr_array_index (nf->objects, i))->parent = g_ptr_array_index (nf->objects, k);
    }
  }
  for (guint i = 0; i < f->classifiers->len; i++)
    g_ptr_array_add (nf->classifiers, copy_classifier (dst, g_ptr_array_index (f->classifiers, i)));
  for (guint i = 0; i < f->user_metas->len; i++) {
    OvaUserMeta *u = copy_user (dst, g_ptr_array_index (f->user_metas, i));
    if (u)
      g_ptr_array_add (nf->user_metas, u);
  }
  for (guint i = 0; i < f->display_metas->len; i++) {
    OvaDisplayMeta *d = ova_batch_meta_acquire_display (dst);
    *d = *(OvaDisplayMeta *) g_ptr_array_index (f->display_metas, i);
    g_ptr_array_add (nf->display_metas, d);
  }
}

static gboolean
batch_meta_transform (GstBuffer *dest, GstMeta *meta, GstBuffer *buffer, GQuark type, gpointer data)
{
  OvaBatchMeta *src = (OvaBatchMeta *) meta, *dst;
  if (!GST_META_TRANSFORM_IS_COPY (type))
    return FALSE; /* scaling etc. would invalidate the boxes: drop the meta */
  if (ova_buffer_get_batch_meta (dest))
    return TRUE; /* already there: a partial copy onto a buffer that has one */
  dst = ova_buffer_add_batch_meta (dest, src->max_frames, src->pool);
  g_rec_mutex_lock (&src->lock);
  for (guint i = 0; i < src->frames->len; i++) {
    OvaFrameMeta *nf = ova_batch_meta_acquire_frame (dst);
    copy_frame_into (dst, nf, g_ptr_array_index (src->frames, i));
    g_ptr_array_add (dst->frames, nf);
  }
  g_rec_mutex_unlock (&src->lock);
  return TRUE;
}

OvaFrameMeta *
ova_batch_meta_add_frame_copy (OvaBatchMeta *dst, const OvaFrameMeta *src)
{
  OvaFrameMeta *nf = ova_batch_meta_acquire_frame (dst);
  g_rec_mutex_lock (&dst->lock);
  copy_frame_into (dst, nf, src);
  nf->batch_index = dst->frames->len;
  g_ptr_array_add (dst->frames, nf);
  g_rec_mutex_unlock (&dst->lock);
  return nf;
}

const GstMetaInfo *
ova_batch_meta_get_info (void)
{
  static const GstMetaInfo *info;
  if (g_once_init_enter ((GstMetaInfo **) &info)) {
    const GstMetaInfo *mi = gst_meta_register (OVA_BATCH_META_API_TYPE, "OvaBatchMeta",
        sizeof (OvaBatchMeta), batch_meta_init, batch_meta_free, batch_meta_transform);
    g_once_init_leave ((GstMetaInfo **) &info, (GstMetaInfo *) mi);
  }
  return info;
}

OvaBatchMeta *
ova_buffer_add_batch_meta (GstBuffer *buffer, guint max_frames, OvaMetaPool *pool)
{
  OvaBatchMeta *b;
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  b = (OvaBatchMeta *) gst_buffer_add_meta (buffer, OVA_BATCH_META_INFO, NULL);
  b->max_frames = max_frames;
  b->pool = ova_meta_pool_ref (pool ? pool : ova_meta_pool_default ());
  return b;
}

OvaBatchMeta *
ova_buffer_get_batch_meta (GstBuffer *buffer)
{
  g_return_val_if_fail (GST_IS_BUFFER (buffer), NULL);
  return (OvaBatchMeta *) gst_buffer_get_meta (buffer, OVA_BATCH_META_API_TYPE);
}

void ova_batch_meta_lock (OvaBatchMeta *b) { g_rec_mutex_lock (&b->lock); }
void ova_batch_meta_unlock (OvaBatchMeta *b) { g_rec_mutex_unlock (&b->lock); }
guint ova_batch_meta_get_n_frames (OvaBatchMeta *b) { return b->frames->len; }

OvaFrameMeta *
ova_batch_meta_get_frame (OvaBatchMeta *b, guint i)
{
  g_return_val_if_fail (i < b->frames->len, NULL);
  return g_ptr_array_index (b->frames, i);
}

OvaFrameMeta *
ova_batch_meta_acquire_frame (OvaBatchMeta *b)
{
  OvaFrameMeta *f = ova_meta_pool_get_frame (b->pool);
  f->batch = b;
  return f;
}

OvaObjectMeta *ova_batch_meta_acquire_object (OvaBatchMeta *b) { return ova_meta_pool_get_object (b->pool); }
OvaClassifierMeta *ova_batch_meta_acquire_classifier (OvaBatchMeta *b) { return ova_meta_pool_get_classifier (b->pool); }
OvaLabelInfo *ova_batch_meta_acquire_label (OvaBatchMeta *b) { return ova_meta_pool_get_label (b->pool); }
OvaDisplayMeta *ova_batch_meta_acquire_display (OvaBatchMeta *b) { return ova_meta_pool_get_display (b->pool); }
OvaUserMeta *ova_batch_meta_acquire_user (OvaBatchMeta *b) { return ova_meta_pool_get_user (b->pool); }
void ova_batch_meta_release_object (OvaBatchMeta *b, OvaObjectMeta *o) { ova_meta_pool_put_object (b->pool, o); }

void
ova_batch_meta_add_frame (OvaBatchMeta *b, OvaFrameMeta *f)
{
  g_rec_mutex_lock (&b->lock);
  f->batch = b;
  f->batch_index = b->frames->len;
  g_ptr_array_add (b->frames, f);
  g_rec_mutex_unlock (&b->lock);
}

void
ova_frame_meta_add_object (OvaFrameMeta *f, OvaObjectMeta *o)
{
  g_rec_mutex_lock (&f->batch->lock);
  o->frame = f;
  o->object_id = g_atomic_pointer_add (&next_object_id, 1);
  g_ptr_array_add (f->objects, o);
  g_rec_mutex_unlock (&f->batch->lock);
}

void
ova_frame_meta_remove_object (OvaFrameMeta *f, OvaObjectMeta *o)
{
  g_rec_mutex_lock (&f->batch->lock);
  if (g_ptr_array_remove (f->objects, o)) {
    for (guint i = 0; i < f->objects->len; i++) {
      OvaObjectMeta *x = g_ptr_array_index (f->objects, i);
      if (x->parent == o)
        x->parent = NULL;
    }
    ova_meta_pool_put_object (f->batch->pool, o);
  }
  g_rec_mutex_unlock (&f->batch->lock);
}

void
ova_frame_meta_clear_objects (OvaFrameMeta *f)
{
  g_rec_mutex_lock (&f->batch->lock);
  for (guint i = 0; i < f->objects->len; i++)
    ova_meta_pool_put_object (f->batch->pool, g_ptr_array_index (f->objects, i));
  g_ptr_array_set_size (f->objects, 0);
  g_rec_mutex_unlock (&f->batch->lock);
}

#define LOCKED_ADD(lockb, arr, item) G_STMT_START { \
  g_rec_mutex_lock (&(lockb)->lock); g_ptr_array_add ((arr), (item)); g_rec_mutex_unlock (&(lockb)->lock); \
} G_STMT_END

void ova_frame_meta_add_classifier (OvaFrameMeta *f, OvaClassifierMeta *c) { LOCKED_ADD (f->batch, f->classifiers, c); }
void ova_frame_meta_add_user (OvaFrameMeta *f, OvaUserMeta *u) { LOCKED_ADD (f->batch, f->user_metas, u); }
void ova_frame_meta_add_display (OvaFrameMeta *f, OvaDisplayMeta *d) { LOCKED_ADD (f->batch, f->display_metas, d); }

void
ova_object_meta_add_classifier (OvaObjectMeta *o, OvaClassifierMeta *c)
{
  if (o->frame)
    LOCKED_ADD (o->frame->batch, o->classifiers, c);
  else
    g_ptr_array_add (o->classifiers, c);
}

void
ova_object_meta_add_user (OvaObjectMeta *o, OvaUserMeta *u)
{
  if (o->frame)
    LOCKED_ADD (o->frame->batch, o->user_metas, u);
  else
    g_ptr_array_add (o->user_metas, u);
}

void
ova_classifier_meta_add_label (OvaClassifierMeta *c, OvaLabelInfo *l)
{
  g_ptr_array_add (c->labels, l);
}

guint ova_frame_meta_get_n_objects (OvaFrameMeta *f) { return f->objects->len; }

OvaObjectMeta *
ova_frame_meta_get_object (OvaFrameMeta *f, guint i)
{
  g_return_val_if_fail (i < f->objects->len, NULL);
  return g_ptr_array_index (f->objects, i);
}

OvaUserMeta *
ova_object_meta_find_user (OvaObjectMeta *o, GQuark type)
{
  for (guint i = 0; i < o->user_metas->len; i++) {
    OvaUserMeta *u = g_ptr_array_index (o->user_metas, i);
    if (u->type == type)
      return u;
  }
  return NULL;
}

void
ova_object_meta_set_label (OvaObjectMeta *o, const gchar *label)
{
  g_strlcpy (o->label, label ? label : "", sizeof (o->label));
}
