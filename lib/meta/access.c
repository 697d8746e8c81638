/* ova — accessors for the metadata arrays and writers taking copies, the API
 * language bindings use (GObject introspection cannot walk GPtrArray fields
 * nor hand over ownership to a pool). SPDX-License-Identifier: MIT */
#include "meta-private.h"
#include <string.h>

#define ARRAY_LEN(arr) ((arr) ? (arr)->len : 0u)
#define ARRAY_GET(arr, i) (((arr) && (i) < (arr)->len) ? g_ptr_array_index ((arr), (i)) : NULL)

/**
 * ova_object_meta_get_label:
 * @obj: an object meta
 * Returns: (transfer none): the object's label ("" when none).
 */
const gchar *
ova_object_meta_get_label (const OvaObjectMeta *obj)
{
  g_return_val_if_fail (obj != NULL, NULL);
  return obj->label;
}

/**
 * ova_object_meta_get_n_classifiers:
 * @obj: an object meta
 * Returns: the number of classifier metas of @obj.
 */
guint
ova_object_meta_get_n_classifiers (const OvaObjectMeta *obj)
{
  g_return_val_if_fail (obj != NULL, 0);
  return ARRAY_LEN (obj->classifiers);
}

/**
 * ova_object_meta_get_classifier:
 * @obj: an object meta
 * @i: index, below ova_object_meta_get_n_classifiers()
 * Returns: (transfer none) (nullable): classifier meta @i, NULL when out of range.
 */
OvaClassifierMeta *
ova_object_meta_get_classifier (const OvaObjectMeta *obj, guint i)
{
  g_return_val_if_fail (obj != NULL, NULL);
  return ARRAY_GET (obj->classifiers, i);
}

/**
 * ova_object_meta_get_n_user_metas:
 * @obj: an object meta
 * Returns: the number of user metas of @obj.
 */
guint
ova_object_meta_get_n_user_metas (const OvaObjectMeta *obj)
{
  g_return_val_if_fail (obj != NULL, 0);
  return ARRAY_LEN (obj->user_metas);
}

/**
 * ova_object_meta_get_user_meta:
 * @obj: an object meta
 * @i: index, below ova_object_meta_get_n_user_metas()
 * Returns: (transfer none) (nullable): user meta @i, NULL when out of range.
 */
OvaUserMeta *
ova_object_meta_get_user_meta (const OvaObjectMeta *obj, guint i)
{
  g_return_val_if_fail (obj != NULL, NULL);
  return ARRAY_GET (obj->user_metas, i);
}

/**
 * ova_object_meta_find_user_by_name:
 * @obj: an object meta
 * @type_name: the user meta type's name, e.g. "ova.embedding"
 * Returns: (transfer none) (nullable): the first user meta of that type.
 */
OvaUserMeta *
ova_object_meta_find_user_by_name (const OvaObjectMeta *obj, const gchar *type_name)
{
  GQuark q;
  g_return_val_if_fail (obj != NULL && type_name != NULL, NULL);
  q = g_quark_try_string (type_name);
  if (!q || !obj->user_metas)
    return NULL;
  for (guint i = 0; i < obj->user_metas->len; i++) {
    OvaUserMeta *u = g_ptr_array_index (obj->user_metas, i);
    if (u->type == q)
      return u;
  }
  return NULL;
}

/**
 * ova_frame_meta_get_n_classifiers:
 * @frame: a frame meta
 * Returns: the number of frame-level classifier metas.
 */
guint
ova_frame_meta_get_n_classifiers (const OvaFrameMeta *frame)
{
  g_return_val_if_fail (frame != NULL, 0);
  return ARRAY_LEN (frame->classifiers);
}

/**
 * ova_frame_meta_get_classifier:
 * @frame: a frame meta
 * @i: index
 * Returns: (transfer none) (nullable): frame-level classifier meta @i.
 */
OvaClassifierMeta *
ova_frame_meta_get_classifier (const OvaFrameMeta *frame, guint i)
{
  g_return_val_if_fail (frame != NULL, NULL);
  return ARRAY_GET (frame->classifiers, i);
}

/**
 * ova_frame_meta_get_n_user_metas:
 * @frame: a frame meta
 * Returns: the number of frame-level user metas.
 */
guint
ova_frame_meta_get_n_user_metas (const OvaFrameMeta *frame)
{
  g_return_val_if_fail (frame != NULL, 0);
  return ARRAY_LEN (frame->user_metas);
}

/**
 * ova_frame_meta_get_user_meta:
 * @frame: a frame meta
 * @i: index
 * Returns: (transfer none) (nullable): frame-level user meta @i.
 */
OvaUserMeta *
ova_frame_meta_get_user_meta (const OvaFrameMeta *frame, guint i)
{
  g_return_val_if_fail (frame != NULL, NULL);
  return ARRAY_GET (frame->user_metas, i);
}

/**
 * ova_frame_meta_get_n_display_metas:
 * @frame: a frame meta
 * Returns: the number of display metas of @frame.
 */
guint
ova_frame_meta_get_n_display_metas (const OvaFrameMeta *frame)
{
  g_return_val_if_fail (frame != NULL, 0);
  return ARRAY_LEN (frame->display_metas);
}

/**
 * ova_frame_meta_get_display_meta:
 * @frame: a frame meta
 * @i: index
 * Returns: (transfer none) (nullable): display meta @i.
 */
OvaDisplayMeta *
ova_frame_meta_get_display_meta (const OvaFrameMeta *frame, guint i)
{
  g_return_val_if_fail (frame != NULL, NULL);
  return ARRAY_GET (frame->display_metas, i);
}

/**
 * ova_classifier_meta_get_n_labels:
 * @cls: a classifier meta
 * Returns: the number of labels of @cls.
 */
guint
ova_classifier_meta_get_n_labels (const OvaClassifierMeta *cls)
{
  g_return_val_if_fail (cls != NULL, 0);
  return ARRAY_LEN (cls->labels);
}

/**
 * ova_classifier_meta_get_label:
 * @cls: a classifier meta
 * @i: index
 * Returns: (transfer none) (nullable): label @i of @cls.
 */
OvaLabelInfo *
ova_classifier_meta_get_label (const OvaClassifierMeta *cls, guint i)
{
  g_return_val_if_fail (cls != NULL, NULL);
  return ARRAY_GET (cls->labels, i);
}

/**
 * ova_label_info_get_label:
 * @label: a label
 * Returns: (transfer none): its text.
 */
const gchar *
ova_label_info_get_label (const OvaLabelInfo *label)
{
  g_return_val_if_fail (label != NULL, NULL);
  return label->label;
}

/**
 * ova_label_info_set_label:
 * @label: a label
 * @text: (nullable): the text (truncated to OVA_MAX_LABEL_SIZE - 1 bytes)
 */
void
ova_label_info_set_label (OvaLabelInfo *label, const gchar *text)
{
  g_return_if_fail (label != NULL);
  g_strlcpy (label->label, text ? text : "", sizeof (label->label));
}

/**
 * ova_user_meta_get_type_name:
 * @um: a user meta
 * Returns: (transfer none) (nullable): the name of its type, e.g.
 * "ova.embedding", "ova.tensor", "ova.mask".
 */
const gchar *
ova_user_meta_get_type_name (const OvaUserMeta *um)
{
  g_return_val_if_fail (um != NULL, NULL);
  return g_quark_to_string (um->type);
}

/**
 * ova_user_meta_get_embedding_data:
 * @um: a user meta
 * @n_values: (out): number of values
 * Returns: (array length=n_values) (transfer none) (nullable): the feature
 * vector when @um is an embedding (with its payload), else NULL and 0.
 */
const gfloat *
ova_user_meta_get_embedding_data (const OvaUserMeta *um, guint *n_values)
{
  const OvaEmbedding *e;
  g_return_val_if_fail (um != NULL && n_values != NULL, NULL);
  e = ova_user_meta_get_embedding (um);
  *n_values = e ? e->dim : 0;
  return e ? e->data : NULL;
}

/**
 * ova_latency_entry_get_component:
 * @entry: a latency entry
 * Returns: (transfer none) (nullable): the element that stamped it.
 */
const gchar *
ova_latency_entry_get_component (const OvaLatencyEntry *entry)
{
  g_return_val_if_fail (entry != NULL, NULL);
  return entry->component;
}

/**
 * ova_latency_record_get_entry:
 * @record: a latency record (OvaFrameMeta.latency)
 * @i: index, below @record->n_entries
 * Returns: (transfer none) (nullable): entry @i.
 */
const OvaLatencyEntry *
ova_latency_record_get_entry (const OvaLatencyRecord *record, guint i)
{
  g_return_val_if_fail (record != NULL, NULL);
  return i < record->n_entries && i < OVA_MAX_LATENCY_ENTRIES ? &record->entries[i] : NULL;
}

/* ------------------------------------------------------------ display meta */

#define DISPLAY_ADD(field, count, elem) G_STMT_START {          \
  g_return_val_if_fail (dm != NULL && (elem) != NULL, FALSE);   \
  if (dm->count >= OVA_MAX_DISPLAY_ELEMENTS)                    \
    return FALSE;                                               \
  dm->field[dm->count++] = *(elem);                             \
  return TRUE;                                                  \
} G_STMT_END

/**
 * ova_display_meta_add_rect:
 * @dm: a display meta
 * @rect: the rectangle (copied)
 * Returns: FALSE when @dm already holds OVA_MAX_DISPLAY_ELEMENTS rectangles.
 */
gboolean ova_display_meta_add_rect (OvaDisplayMeta *dm, const OvaDisplayRect *rect) { DISPLAY_ADD (rects, n_rects, rect); }
/**
 * ova_display_meta_add_line:
 * @dm: a display meta
 * @line: the line (copied)
 * Returns: FALSE when @dm is full.
 */
gboolean ova_display_meta_add_line (OvaDisplayMeta *dm, const OvaDisplayLine *line) { DISPLAY_ADD (lines, n_lines, line); }
/**
 * ova_display_meta_add_arrow:
 * @dm: a display meta
 * @arrow: the arrow (copied)
 * Returns: FALSE when @dm is full.
 */
gboolean ova_display_meta_add_arrow (OvaDisplayMeta *dm, const OvaDisplayArrow *arrow) { DISPLAY_ADD (arrows, n_arrows, arrow); }
/**
 * ova_display_meta_add_circle:
 * @dm: a display meta
 * @circle: the circle (copied)
 * Returns: FALSE when @dm is full.
 */
gboolean ova_display_meta_add_circle (OvaDisplayMeta *dm, const OvaDisplayCircle *circle) { DISPLAY_ADD (circles, n_circles, circle); }

/**
 * ova_display_meta_add_text:
 * @dm: a display meta
 * @text: the text (truncated to OVA_MAX_DISPLAY_TEXT - 1 bytes)
 * @x: left
 * @y: top
 * @font_size: pixels
 * @color: text colour
 * @bg_color: (nullable): background colour, NULL for none
 * Returns: FALSE when @dm is full.
 */
gboolean
ova_display_meta_add_text (OvaDisplayMeta *dm, const gchar *text, gfloat x, gfloat y,
    gfloat font_size, const OvaColor *color, const OvaColor *bg_color)
{
  OvaDisplayText *t;
  g_return_val_if_fail (dm != NULL && text != NULL && color != NULL, FALSE);
  if (dm->n_texts >= OVA_MAX_DISPLAY_ELEMENTS)
    return FALSE;
  t = &dm->texts[dm->n_texts++];
  memset (t, 0, sizeof (*t));
  g_strlcpy (t->text, text, sizeof (t->text));
  t->x = x;
  t->y = y;
  t->font_size = font_size;
  t->color = *color;
  t->has_bg = bg_color != NULL;
  if (bg_color)
    t->bg_color = *bg_color;
  return TRUE;
}

/**
 * ova_display_meta_get_rect:
 * @dm: a display meta
 * @i: index, below @dm->n_rects
 * Returns: (transfer none) (nullable): rectangle @i.
 */
const OvaDisplayRect *
ova_display_meta_get_rect (const OvaDisplayMeta *dm, guint i)
{
  g_return_val_if_fail (dm != NULL, NULL);
  return i < dm->n_rects && i < OVA_MAX_DISPLAY_ELEMENTS ? &dm->rects[i] : NULL;
}

/**
 * ova_display_meta_get_text:
 * @dm: a display meta
 * @i: index, below @dm->n_texts
 * Returns: (transfer none) (nullable): text @i.
 */
const OvaDisplayText *
ova_display_meta_get_text (const OvaDisplayMeta *dm, guint i)
{
  g_return_val_if_fail (dm != NULL, NULL);
  return i < dm->n_texts && i < OVA_MAX_DISPLAY_ELEMENTS ? &dm->texts[i] : NULL;
}

/**
 * ova_display_text_get_text:
 * @text: a display text
 * Returns: (transfer none): the string.
 */
const gchar *
ova_display_text_get_text (const OvaDisplayText *text)
{
  g_return_val_if_fail (text != NULL, NULL);
  return text->text;
}

/* ------------------------------------------------- writing into a batch */

static OvaClassifierMeta *
pool_classifier_from (OvaBatchMeta *b, const OvaClassifierMeta *src)
{
  OvaClassifierMeta *c = ova_batch_meta_acquire_classifier (b);
  c->component_id = src->component_id;
  for (guint i = 0; i < ARRAY_LEN (src->labels); i++) {
    OvaLabelInfo *l = ova_batch_meta_acquire_label (b);
    *l = *(const OvaLabelInfo *) g_ptr_array_index (src->labels, i);
    g_ptr_array_add (c->labels, l);
  }
  return c;
}

/* The fields a binding may set on an object (not its id, children or links). */
static void
object_set_fields (OvaObjectMeta *dst, const OvaObjectMeta *src)
{
  dst->class_id = src->class_id;
  memcpy (dst->label, src->label, sizeof (dst->label));
  dst->label[sizeof (dst->label) - 1] = '\0';
  dst->confidence = src->confidence;
  dst->rect = src->rect;
  dst->detector_rect = src->detector_rect;
  dst->component_id = src->component_id;
  dst->tracker_id = src->tracker_id;
  dst->tracker_confidence = src->tracker_confidence;
  dst->track_state = src->track_state;
  dst->border_color = src->border_color;
}

/**
 * ova_batch_meta_add_object_copy:
 * @batch: a batch meta
 * @frame_index: the frame (below ova_batch_meta_get_n_frames())
 * @obj: the object to copy (usually from ova_object_meta_new()), with its
 *   classifiers and user metas (`parent` is not copied)
 *
 * Copies @obj into an object meta from @batch's pool and attaches it to the
 * frame; it receives a new object_id.
 *
 * Returns: (transfer none) (nullable): the attached object, NULL when
 * @frame_index is out of range.
 */
OvaObjectMeta *
ova_batch_meta_add_object_copy (OvaBatchMeta *batch, guint frame_index, const OvaObjectMeta *obj)
{
  OvaFrameMeta *f;
  OvaObjectMeta *o;
  g_return_val_if_fail (batch != NULL && obj != NULL, NULL);
  ova_batch_meta_lock (batch);
  if (frame_index >= batch->frames->len) {
    ova_batch_meta_unlock (batch);
    g_warning ("ova_batch_meta_add_object_copy: frame %u out of range (%u frames)", frame_index, batch->frames->len);
    return NULL;
  }
  f = g_ptr_array_index (batch->frames, frame_index);
  o = ova_batch_meta_acquire_object (batch);
  object_set_fields (o, obj);
  for (guint i = 0; i < ARRAY_LEN (obj->classifiers); i++)
    g_ptr_array_add (o->classifiers, pool_classifier_from (batch, g_ptr_array_index (obj->classifiers, i)));
  for (guint i = 0; i < ARRAY_LEN (obj->user_metas); i++) {
    const OvaUserMeta *su = g_ptr_array_index (obj->user_metas, i);
    OvaUserMeta *u;
    if (!su->copy_func)
      continue; /* a payload that cannot be copied cannot be shared either */
    u = ova_batch_meta_acquire_user (batch);
    *u = *su;
    u->payload = su->payload ? su->copy_func (su->payload, su->user_data) : NULL;
    g_ptr_array_add (o->user_metas, u);
  }
  ova_frame_meta_add_object (f, o);
  ova_batch_meta_unlock (batch);
  return o;
}

static OvaObjectMeta *
find_object (OvaBatchMeta *batch, guint64 object_id, OvaFrameMeta **frame)
{
  for (guint i = 0; i < batch->frames->len; i++) {
    OvaFrameMeta *f = g_ptr_array_index (batch->frames, i);
    for (guint j = 0; j < f->objects->len; j++) {
      OvaObjectMeta *o = g_ptr_array_index (f->objects, j);
      if (o->object_id == object_id) {
        *frame = f;
        return o;
      }
    }
  }
  return NULL;
}

/**
 * ova_batch_meta_update_object:
 * @batch: a batch meta
 * @obj: a copy of an object of @batch (same object_id), with changed fields
 *
 * Writes the plain fields of @obj (class_id, label, confidence, rect,
 * detector_rect, component_id, tracker_id, tracker_confidence, track_state,
 * border_color) into the object of @batch with the same object_id.
 *
 * Returns: FALSE when @batch has no object with that id.
 */
gboolean
ova_batch_meta_update_object (OvaBatchMeta *batch, const OvaObjectMeta *obj)
{
  OvaFrameMeta *f;
  OvaObjectMeta *o;
  g_return_val_if_fail (batch != NULL && obj != NULL, FALSE);
  ova_batch_meta_lock (batch);
  o = find_object (batch, obj->object_id, &f);
  if (o && o != obj)
    object_set_fields (o, obj);
  ova_batch_meta_unlock (batch);
  return o != NULL;
}

/**
 * ova_batch_meta_remove_object:
 * @batch: a batch meta
 * @object_id: the id of the object to remove
 *
 * Detaches the object and returns it to the pool.
 * Returns: FALSE when @batch has no object with that id.
 */
gboolean
ova_batch_meta_remove_object (OvaBatchMeta *batch, guint64 object_id)
{
  OvaFrameMeta *f;
  OvaObjectMeta *o;
  g_return_val_if_fail (batch != NULL, FALSE);
  ova_batch_meta_lock (batch);
  o = find_object (batch, object_id, &f);
  if (o)
    ova_frame_meta_remove_object (f, o);
  ova_batch_meta_unlock (batch);
  return o != NULL;
}

/**
 * ova_batch_meta_add_display_copy:
 * @batch: a batch meta
 * @frame_index: the frame
 * @dm: the display meta to copy (usually from ova_display_meta_new())
 *
 * Returns: (transfer none) (nullable): the attached copy, NULL when
 * @frame_index is out of range.
 */
OvaDisplayMeta *
ova_batch_meta_add_display_copy (OvaBatchMeta *batch, guint frame_index, const OvaDisplayMeta *dm)
{
  OvaDisplayMeta *d;
  g_return_val_if_fail (batch != NULL && dm != NULL, NULL);
  ova_batch_meta_lock (batch);
  if (frame_index >= batch->frames->len) {
    ova_batch_meta_unlock (batch);
    g_warning ("ova_batch_meta_add_display_copy: frame %u out of range (%u frames)", frame_index, batch->frames->len);
    return NULL;
  }
  d = ova_batch_meta_acquire_display (batch);
  *d = *dm;
  ova_frame_meta_add_display (g_ptr_array_index (batch->frames, frame_index), d);
  ova_batch_meta_unlock (batch);
  return d;
}
