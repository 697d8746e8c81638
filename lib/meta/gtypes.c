/* ova — GObject types of the batch metadata, for GObject introspection
 * (Python etc.). SPDX-License-Identifier: MIT
 *
 * Pool-owned metas must never be freed or recycled by a binding, yet bindings
 * copy the boxed values that getters return (transfer none). So the boxed
 * copy of a pool meta is a DETACHED deep copy (heap, its own children, no
 * pool, back pointers NULL), and the boxed free frees only detached copies:
 * they are remembered in a set, and anything else given to a free function is
 * refused with a critical warning. Detached metas are allocated like pool
 * metas (g_new0, GPtrArrays without free functions), so the internal tree
 * walkers work on both. */
#include "meta-private.h"
#include <string.h>

/* ------------------------------------------------------------------ enums */

GType
ova_memory_type_get_type (void)
{
  static GType type;
  static const GEnumValue values[] = {
    { OVA_MEMORY_SYSTEM, "OVA_MEMORY_SYSTEM", "system" },
    { OVA_MEMORY_CUDA, "OVA_MEMORY_CUDA", "cuda" },
    { 0, NULL, NULL },
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("OvaMemoryType", values));
  return type;
}

GType
ova_track_state_get_type (void)
{
  static GType type;
  static const GEnumValue values[] = {
    { OVA_TRACK_NONE, "OVA_TRACK_NONE", "none" },
    { OVA_TRACK_CONFIRMED, "OVA_TRACK_CONFIRMED", "confirmed" },
    { OVA_TRACK_PREDICTED, "OVA_TRACK_PREDICTED", "predicted" },
    { OVA_TRACK_TENTATIVE, "OVA_TRACK_TENTATIVE", "tentative" },
    { 0, NULL, NULL },
  };
  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("OvaTrackState", values));
  return type;
}

/* ------------------------------------------------------------ value types */

#define VALUE_BOXED(TypeName, type_name)                                        \
  static TypeName *type_name##_dup (const TypeName *v) { return g_memdup2 (v, sizeof (*v)); } \
  G_DEFINE_BOXED_TYPE (TypeName, type_name, type_name##_dup, g_free)

VALUE_BOXED (OvaRect, ova_rect)
VALUE_BOXED (OvaColor, ova_color)
VALUE_BOXED (OvaDisplayRect, ova_display_rect)
VALUE_BOXED (OvaDisplayLine, ova_display_line)
VALUE_BOXED (OvaDisplayArrow, ova_display_arrow)
VALUE_BOXED (OvaDisplayCircle, ova_display_circle)
VALUE_BOXED (OvaDisplayText, ova_display_text)
VALUE_BOXED (OvaLatencyEntry, ova_latency_entry)
VALUE_BOXED (OvaLatencyRecord, ova_latency_record)

/* ------------------------------------------------ detached copies: the set */

static GMutex detached_lock;
static GHashTable *detached;

static gpointer
detached_register (gpointer p)
{
  g_mutex_lock (&detached_lock);
  if (!detached)
    detached = g_hash_table_new (NULL, NULL);
  g_hash_table_add (detached, p);
  g_mutex_unlock (&detached_lock);
  return p;
}

/* TRUE (and forgotten) when @p was registered; else a critical, FALSE. */
static gboolean
detached_unregister (gconstpointer p, const gchar *type_name)
{
  gboolean found;
  if (!p)
    return FALSE;
  g_mutex_lock (&detached_lock);
  found = detached && g_hash_table_remove (detached, p);
  g_mutex_unlock (&detached_lock);
  if (!found)
    g_critical ("%s %p is owned by its batch meta (pool), not a detached copy: not freed", type_name, p);
  return found;
}

/**
 * ova_meta_is_detached: (skip)
 */
gboolean
ova_meta_is_detached (gconstpointer boxed)
{
  gboolean found;
  g_mutex_lock (&detached_lock);
  found = detached && g_hash_table_contains (detached, boxed);
  g_mutex_unlock (&detached_lock);
  return found;
}

/* ------------------------------------ detached trees: unregistered helpers */

static OvaLabelInfo *
label_dup (const OvaLabelInfo *l)
{
  return g_memdup2 (l, sizeof (*l));
}

static OvaClassifierMeta *
classifier_new (guint component_id)
{
  OvaClassifierMeta *c = g_new0 (OvaClassifierMeta, 1);
  c->component_id = component_id;
  c->labels = g_ptr_array_new ();
  return c;
}

static void
classifier_destroy (OvaClassifierMeta *c)
{
  for (guint i = 0; i < c->labels->len; i++)
    g_free (g_ptr_array_index (c->labels, i));
  g_ptr_array_unref (c->labels);
  g_free (c);
}

static OvaClassifierMeta *
classifier_dup (const OvaClassifierMeta *src)
{
  OvaClassifierMeta *c = classifier_new (src->component_id);
  if (src->labels)
    for (guint i = 0; i < src->labels->len; i++)
      g_ptr_array_add (c->labels, label_dup (g_ptr_array_index (src->labels, i)));
  return c;
}

/* A user meta whose payload has no copy function is copied without it
 * (payload NULL), as buffer copies do. */
static OvaUserMeta *
user_dup (const OvaUserMeta *src)
{
  OvaUserMeta *u = g_new (OvaUserMeta, 1);
  *u = *src;
  if (src->payload && src->copy_func)
    u->payload = src->copy_func (src->payload, src->user_data);
  else
    u->payload = NULL;
  return u;
}

static void
user_destroy (OvaUserMeta *u)
{
  ova_user_meta_clear (u);
  g_free (u);
}

static OvaObjectMeta *
object_new (void)
{
  OvaObjectMeta *o = g_new0 (OvaObjectMeta, 1);
  o->classifiers = g_ptr_array_new ();
  o->user_metas = g_ptr_array_new ();
  o->tracker_id = OVA_UNTRACKED;
  o->confidence = -1.f;
  o->class_id = -1;
  return o;
}

static void
object_destroy (OvaObjectMeta *o)
{
  for (guint i = 0; i < o->classifiers->len; i++)
    classifier_destroy (g_ptr_array_index (o->classifiers, i));
  for (guint i = 0; i < o->user_metas->len; i++)
    user_destroy (g_ptr_array_index (o->user_metas, i));
  g_ptr_array_unref (o->classifiers);
  g_ptr_array_unref (o->user_metas);
  g_free (o);
}

static OvaObjectMeta *
object_dup (const OvaObjectMeta *src)
{
  OvaObjectMeta *o = object_new ();
  GPtrArray *c = o->classifiers, *u = o->user_metas;
  *o = *src;
  o->classifiers = c;
  o->user_metas = u;
  o->parent = NULL;
  o->frame = NULL;
  if (src->classifiers)
    for (guint i = 0; i < src->classifiers->len; i++)
      g_ptr_array_add (c, classifier_dup (g_ptr_array_index (src->classifiers, i)));
  if (src->user_metas)
    for (guint i = 0; i < src->user_metas->len; i++)
      g_ptr_array_add (u, user_dup (g_ptr_array_index (src->user_metas, i)));
  return o;
}

static OvaFrameMeta *
frame_dup (const OvaFrameMeta *src)
{
  OvaFrameMeta *f = g_new0 (OvaFrameMeta, 1);
  *f = *src;
  f->objects = g_ptr_array_new ();
  f->classifiers = g_ptr_array_new ();
  f->user_metas = g_ptr_array_new ();
  f->display_metas = g_ptr_array_new ();
  f->batch = NULL;
  if (f->buffer)
    gst_buffer_ref (f->buffer);
  for (guint i = 0; i < src->objects->len; i++)
    g_ptr_array_add (f->objects, object_dup (g_ptr_array_index (src->objects, i)));
  for (guint i = 0; i < src->classifiers->len; i++)
    g_ptr_array_add (f->classifiers, classifier_dup (g_ptr_array_index (src->classifiers, i)));
  for (guint i = 0; i < src->user_metas->len; i++)
    g_ptr_array_add (f->user_metas, user_dup (g_ptr_array_index (src->user_metas, i)));
  for (guint i = 0; i < src->display_metas->len; i++)
    g_ptr_array_add (f->display_metas, g_memdup2 (g_ptr_array_index (src->display_metas, i), sizeof (OvaDisplayMeta)));
  return f;
}

static void
frame_destroy (OvaFrameMeta *f)
{
  for (guint i = 0; i < f->objects->len; i++)
    object_destroy (g_ptr_array_index (f->objects, i));
  for (guint i = 0; i < f->classifiers->len; i++)
    classifier_destroy (g_ptr_array_index (f->classifiers, i));
  for (guint i = 0; i < f->user_metas->len; i++)
    user_destroy (g_ptr_array_index (f->user_metas, i));
  for (guint i = 0; i < f->display_metas->len; i++)
    g_free (g_ptr_array_index (f->display_metas, i));
  g_ptr_array_unref (f->objects);
  g_ptr_array_unref (f->classifiers);
  g_ptr_array_unref (f->user_metas);
  g_ptr_array_unref (f->display_metas);
  if (f->buffer)
    gst_buffer_unref (f->buffer);
  g_free (f);
}

/* -------------------------------------------- boxed copy / free (public) */

/**
 * ova_frame_meta_copy:
 * @frame: a frame meta (pool-owned or detached)
 *
 * Returns: (transfer full): a detached deep copy of @frame: its objects,
 * classifiers, user and display metas; `batch` is NULL, objects' `frame` and
 * `parent` are NULL. Free with ova_frame_meta_free().
 */
OvaFrameMeta *
ova_frame_meta_copy (const OvaFrameMeta *frame)
{
  OvaFrameMeta *copy;
  g_return_val_if_fail (frame != NULL, NULL);
  /* Under the batch lock: another thread may be adding to the arrays. */
  if (frame->batch)
    ova_batch_meta_lock (frame->batch);
  copy = frame_dup (frame);
  if (frame->batch)
    ova_batch_meta_unlock (frame->batch);
  return detached_register (copy);
}

/**
 * ova_frame_meta_free:
 * @frame: (transfer full): a detached frame meta
 *
 * Frees a detached copy; refuses (critical warning) a pool-owned frame.
 */
void
ova_frame_meta_free (OvaFrameMeta *frame)
{
  if (detached_unregister (frame, "OvaFrameMeta"))
    frame_destroy (frame);
}

/**
 * ova_object_meta_copy:
 * @obj: an object meta (pool-owned or detached)
 *
 * Returns: (transfer full): a detached deep copy of @obj (classifiers and
 * user metas copied; `frame` and `parent` NULL). Free with ova_object_meta_free().
 */
OvaObjectMeta *
ova_object_meta_copy (const OvaObjectMeta *obj)
{
  OvaBatchMeta *batch;
  OvaObjectMeta *copy;
  g_return_val_if_fail (obj != NULL, NULL);
  batch = obj->frame ? obj->frame->batch : NULL;
  if (batch)
    ova_batch_meta_lock (batch);
  copy = object_dup (obj);
  if (batch)
    ova_batch_meta_unlock (batch);
  return detached_register (copy);
}

/**
 * ova_object_meta_free:
 * @obj: (transfer full): a detached object meta
 *
 * Frees a detached copy; refuses (critical warning) a pool-owned object.
 */
void
ova_object_meta_free (OvaObjectMeta *obj)
{
  if (detached_unregister (obj, "OvaObjectMeta"))
    object_destroy (obj);
}

/**
 * ova_object_meta_new:
 *
 * Returns: (transfer full): a new, empty detached object meta (class_id -1,
 * confidence -1, untracked), to fill and attach with
 * ova_batch_meta_add_object_copy().
 */
OvaObjectMeta *
ova_object_meta_new (void)
{
  return detached_register (object_new ());
}

/**
 * ova_classifier_meta_copy:
 * @cls: a classifier meta
 *
 * Returns: (transfer full): a detached deep copy of @cls.
 */
OvaClassifierMeta *
ova_classifier_meta_copy (const OvaClassifierMeta *cls)
{
  g_return_val_if_fail (cls != NULL, NULL);
  return detached_register (classifier_dup (cls));
}

/**
 * ova_classifier_meta_free:
 * @cls: (transfer full): a detached classifier meta
 */
void
ova_classifier_meta_free (OvaClassifierMeta *cls)
{
  if (detached_unregister (cls, "OvaClassifierMeta"))
    classifier_destroy (cls);
}

/**
 * ova_classifier_meta_new:
 * @component_id: the unique id of the classifier
 *
 * Returns: (transfer full): a new detached classifier meta without labels.
 */
OvaClassifierMeta *
ova_classifier_meta_new (guint component_id)
{
  return detached_register (classifier_new (component_id));
}

/**
 * ova_label_info_copy:
 * @label: a label
 *
 * Returns: (transfer full): a detached copy of @label.
 */
OvaLabelInfo *
ova_label_info_copy (const OvaLabelInfo *label)
{
  g_return_val_if_fail (label != NULL, NULL);
  return detached_register (label_dup (label));
}

/**
 * ova_label_info_free:
 * @label: (transfer full): a detached label
 */
void
ova_label_info_free (OvaLabelInfo *label)
{
  if (detached_unregister (label, "OvaLabelInfo"))
    g_free (label);
}

/**
 * ova_user_meta_copy:
 * @um: a user meta
 *
 * Returns: (transfer full): a detached copy of @um; its payload is copied
 * with its copy function (NULL when it has none).
 */
OvaUserMeta *
ova_user_meta_copy (const OvaUserMeta *um)
{
  g_return_val_if_fail (um != NULL, NULL);
  return detached_register (user_dup (um));
}

/**
 * ova_user_meta_free:
 * @um: (transfer full): a detached user meta
 */
void
ova_user_meta_free (OvaUserMeta *um)
{
  if (detached_unregister (um, "OvaUserMeta"))
    user_destroy (um);
}

/**
 * ova_display_meta_copy:
 * @dm: a display meta
 *
 * Returns: (transfer full): a detached copy of @dm.
 */
OvaDisplayMeta *
ova_display_meta_copy (const OvaDisplayMeta *dm)
{
  g_return_val_if_fail (dm != NULL, NULL);
  return detached_register (g_memdup2 (dm, sizeof (*dm)));
}

/**
 * ova_display_meta_free:
 * @dm: (transfer full): a detached display meta
 */
void
ova_display_meta_free (OvaDisplayMeta *dm)
{
  if (detached_unregister (dm, "OvaDisplayMeta"))
    g_free (dm);
}

/**
 * ova_display_meta_new:
 *
 * Returns: (transfer full): a new, empty detached display meta, to fill with
 * ova_display_meta_add_rect() etc. and attach with ova_batch_meta_add_display_copy().
 */
OvaDisplayMeta *
ova_display_meta_new (void)
{
  return detached_register (g_new0 (OvaDisplayMeta, 1));
}

G_DEFINE_BOXED_TYPE (OvaFrameMeta, ova_frame_meta, ova_frame_meta_copy, ova_frame_meta_free)
G_DEFINE_BOXED_TYPE (OvaObjectMeta, ova_object_meta, ova_object_meta_copy, ova_object_meta_free)
G_DEFINE_BOXED_TYPE (OvaClassifierMeta, ova_classifier_meta, ova_classifier_meta_copy, ova_classifier_meta_free)
G_DEFINE_BOXED_TYPE (OvaLabelInfo, ova_label_info, ova_label_info_copy, ova_label_info_free)
G_DEFINE_BOXED_TYPE (OvaUserMeta, ova_user_meta, ova_user_meta_copy, ova_user_meta_free)
G_DEFINE_BOXED_TYPE (OvaDisplayMeta, ova_display_meta, ova_display_meta_copy, ova_display_meta_free)

/* ------------------------------------------- building detached metas */

/**
 * ova_object_meta_add_classifier_copy:
 * @obj: a detached object meta (ova_object_meta_new())
 * @cls: the classifier to copy into @obj
 */
void
ova_object_meta_add_classifier_copy (OvaObjectMeta *obj, const OvaClassifierMeta *cls)
{
  g_return_if_fail (obj != NULL && cls != NULL);
  g_return_if_fail (ova_meta_is_detached (obj));
  g_ptr_array_add (obj->classifiers, classifier_dup (cls));
}

/**
 * ova_object_meta_add_embedding:
 * @obj: a detached object meta (ova_object_meta_new())
 * @data: (array length=dim): the feature vector
 * @dim: number of values
 *
 * Adds an OVA_USER_META_EMBEDDING user meta holding a copy of @data.
 */
void
ova_object_meta_add_embedding (OvaObjectMeta *obj, const gfloat *data, guint dim)
{
  OvaUserMeta *u;
  g_return_if_fail (obj != NULL);
  g_return_if_fail (ova_meta_is_detached (obj));
  u = g_new0 (OvaUserMeta, 1);
  ova_user_meta_set_embedding (u, data, dim);
  g_ptr_array_add (obj->user_metas, u);
}

/**
 * ova_classifier_meta_add_label_copy:
 * @cls: a detached classifier meta (ova_classifier_meta_new())
 * @class_id: class index
 * @label: (nullable): the label text (truncated to OVA_MAX_LABEL_SIZE - 1 bytes)
 * @probability: its probability
 */
void
ova_classifier_meta_add_label_copy (OvaClassifierMeta *cls, gint class_id, const gchar *label, gfloat probability)
{
  OvaLabelInfo *l;
  g_return_if_fail (cls != NULL);
  g_return_if_fail (ova_meta_is_detached (cls));
  l = g_new0 (OvaLabelInfo, 1);
  l->class_id = class_id;
  l->probability = probability;
  g_strlcpy (l->label, label ? label : "", sizeof (l->label));
  g_ptr_array_add (cls->labels, l);
}

/* ------------------------------------------------- annotations for C-only API
 * The pool protocol hands over ownership to a parent; a binding cannot honour
 * it, so it is hidden from introspection. */

/**
 * ova_meta_pool_new: (skip)
 */
/**
 * ova_meta_pool_ref: (skip)
 */
/**
 * ova_meta_pool_unref: (skip)
 */
/**
 * ova_meta_pool_get_allocations: (skip)
 */
/**
 * ova_batch_meta_acquire_frame: (skip)
 */
/**
 * ova_batch_meta_acquire_object: (skip)
 */
/**
 * ova_batch_meta_acquire_classifier: (skip)
 */
/**
 * ova_batch_meta_acquire_label: (skip)
 */
/**
 * ova_batch_meta_acquire_display: (skip)
 */
/**
 * ova_batch_meta_acquire_user: (skip)
 */
/**
 * ova_batch_meta_release_object: (skip)
 */
/**
 * ova_batch_meta_add_frame: (skip)
 */
/**
 * ova_frame_meta_add_object: (skip)
 */
/**
 * ova_frame_meta_remove_object: (skip)
 */
/**
 * ova_frame_meta_clear_objects: (skip)
 */
/**
 * ova_frame_meta_add_classifier: (skip)
 */
/**
 * ova_frame_meta_add_user: (skip)
 */
/**
 * ova_frame_meta_add_display: (skip)
 */
/**
 * ova_object_meta_add_classifier: (skip)
 */
/**
 * ova_object_meta_add_user: (skip)
 */
/**
 * ova_classifier_meta_add_label: (skip)
 */
/**
 * ova_user_meta_set_embedding: (skip)
 */
/**
 * ova_user_meta_set_tensor: (skip)
 */
/**
 * ova_user_meta_get_embedding: (skip)
 */
/**
 * ova_mapped_frame_unmap: (skip)
 */
/**
 * ova_batch_meta_lock: (skip)
 */
/**
 * ova_batch_meta_unlock: (skip)
 */
