/* ova — tests of the batch metadata library (include/ova/meta.h).
 * SPDX-License-Identifier: MIT */
#include <gst/check/gstcheck.h>
#include <ova/meta.h>
#include <string.h>
#include "../mux/mux-test-common.h"

/* A buffer carrying one batch meta drawn from @pool. */
static GstBuffer *
new_batch (OvaMetaPool *pool, guint max_frames, OvaBatchMeta **out)
{
  GstBuffer *buf = gst_buffer_new ();
  *out = ova_buffer_add_batch_meta (buf, max_frames, pool);
  fail_unless (*out != NULL);
  return buf;
}

static OvaObjectMeta *
add_object (OvaBatchMeta *b, OvaFrameMeta *f, gint class_id, const gchar *label, gfloat x)
{
  OvaObjectMeta *o = ova_batch_meta_acquire_object (b);
  o->class_id = class_id;
  o->confidence = 0.5f + x / 1000.f;
  o->rect = (OvaRect) { x, x + 1, 10, 20 };
  o->detector_rect = o->rect;
  ova_object_meta_set_label (o, label);
  ova_frame_meta_add_object (f, o);
  return o;
}

static OvaClassifierMeta *
make_classifier (OvaBatchMeta *b, guint component, guint n_labels)
{
  OvaClassifierMeta *c = ova_batch_meta_acquire_classifier (b);
  c->component_id = component;
  for (guint i = 0; i < n_labels; i++) {
    OvaLabelInfo *l = ova_batch_meta_acquire_label (b);
    l->class_id = (gint) i;
    l->probability = 0.1f * (gfloat) (i + 1);
    g_snprintf (l->label, sizeof (l->label), "label-%u-%u", component, i);
    ova_classifier_meta_add_label (c, l);
  }
  return c;
}

/* One frame with the whole tree: objects with classifiers, an embedding, a
 * parent link, frame classifier, frame user meta and display meta. */
static OvaFrameMeta *
populate_frame (OvaBatchMeta *b, guint source_id, guint n_objects)
{
  OvaFrameMeta *f = ova_batch_meta_acquire_frame (b);
  OvaObjectMeta *first = NULL;
  f->source_id = source_id;
  f->pad_index = source_id;
  f->frame_num = 7;
  f->buf_pts = 40 * GST_MSECOND;
  f->source_width = 640;
  f->source_height = 480;
  ova_batch_meta_add_frame (b, f);
  for (guint i = 0; i < n_objects; i++) {
    OvaObjectMeta *o = add_object (b, f, (gint) i, i == 0 ? "car" : "plate", 10.f * i);
    gfloat emb[4] = { (gfloat) i, 1, 2, 3 };
    OvaUserMeta *um = ova_batch_meta_acquire_user (b);
    ova_user_meta_set_embedding (um, emb, 4);
    ova_object_meta_add_user (o, um);
    ova_object_meta_add_classifier (o, make_classifier (b, 2, 2));
    if (i == 0)
      first = o;
    else
      o->parent = first;
  }
  ova_frame_meta_add_classifier (f, make_classifier (b, 3, 1));
  {
    OvaUserMeta *um = ova_batch_meta_acquire_user (b);
    gfloat v[2] = { 4, 5 };
    ova_user_meta_set_embedding (um, v, 2);
    ova_frame_meta_add_user (f, um);
  }
  {
    OvaDisplayMeta *d = ova_batch_meta_acquire_display (b);
    d->n_rects = 1;
    d->rects[0].rect = (OvaRect) { 1, 2, 3, 4 };
    d->rects[0].border_width = 2;
    d->n_texts = 1;
    g_strlcpy (d->texts[0].text, "hello", sizeof (d->texts[0].text));
    d->texts[0].font_size = 12;
    ova_frame_meta_add_display (f, d);
  }
  return f;
}

GST_START_TEST (test_acquire_attach_release)
{
  OvaMetaPool *pool = ova_meta_pool_new ();
  OvaBatchMeta *b;
  GstBuffer *buf = new_batch (pool, 4, &b);
  OvaFrameMeta *f;
  OvaObjectMeta *o, *spare;
  guint64 allocs;

  fail_unless (ova_buffer_get_batch_meta (buf) == b);
  fail_unless_equals_int (b->max_frames, 4);
  fail_unless (b->pool == pool);
  fail_unless_equals_int (ova_batch_meta_get_n_frames (b), 0);

  f = ova_batch_meta_acquire_frame (b);
  /* Acquired meta is cleared. */
  fail_unless_equals_int (f->objects->len, 0);
  fail_unless (f->buf_pts == GST_CLOCK_TIME_NONE);
  ova_batch_meta_add_frame (b, f);
  fail_unless_equals_int (ova_batch_meta_get_n_frames (b), 1);
  fail_unless (ova_batch_meta_get_frame (b, 0) == f);
  fail_unless (f->batch == b);
  fail_unless_equals_int (f->batch_index, 0);

  o = add_object (b, f, 2, "car", 5);
  fail_unless (o->frame == f);
  fail_unless (o->object_id > 0);
  fail_unless_equals_int (o->tracker_id, OVA_UNTRACKED);
  fail_unless_equals_string (o->label, "car");
  fail_unless_equals_int (ova_frame_meta_get_n_objects (f), 1);
  fail_unless (ova_frame_meta_get_object (f, 0) == o);
  {
    OvaObjectMeta *o2 = add_object (b, f, 3, "x", 6);
    fail_unless (o2->object_id != o->object_id);
    o2->parent = o;
    /* Removing the parent unlinks its children. */
    ova_frame_meta_remove_object (f, o);
    fail_unless_equals_int (ova_frame_meta_get_n_objects (f), 1);
    fail_unless (o2->parent == NULL);
  }

  /* An acquired object that is never attached goes back to the pool and is
   * the next one handed out. */
  allocs = ova_meta_pool_get_allocations (pool);
  spare = ova_batch_meta_acquire_object (b);
  spare->class_id = 99;
  ova_batch_meta_release_object (b, spare);
  o = ova_batch_meta_acquire_object (b);
  fail_unless (o == spare);
  fail_unless_equals_int (o->class_id, -1);
  fail_unless_equals_float (o->confidence, -1.f);
  ova_batch_meta_release_object (b, o);
  fail_unless_equals_uint64 (ova_meta_pool_get_allocations (pool), allocs);

  ova_frame_meta_clear_objects (f);
  fail_unless_equals_int (ova_frame_meta_get_n_objects (f), 0);

  /* Label is truncated, never overflows. */
  {
    gchar longlabel[300];
    memset (longlabel, 'a', sizeof (longlabel) - 1);
    longlabel[sizeof (longlabel) - 1] = 0;
    o = ova_batch_meta_acquire_object (b);
    ova_object_meta_set_label (o, longlabel);
    fail_unless_equals_int (strlen (o->label), OVA_MAX_LABEL_SIZE - 1);
    ova_object_meta_set_label (o, NULL);
    fail_unless_equals_string (o->label, "");
    ova_batch_meta_release_object (b, o);
  }

  gst_buffer_unref (buf);
  ova_meta_pool_unref (pool);
}
GST_END_TEST;

GST_START_TEST (test_find_user_and_types)
{
  OvaBatchMeta *b;
  GstBuffer *buf = new_batch (NULL, 1, &b);
  OvaFrameMeta *f = populate_frame (b, 0, 1);
  OvaObjectMeta *o = ova_frame_meta_get_object (f, 0);
  OvaUserMeta *um = ova_object_meta_find_user (o, OVA_USER_META_EMBEDDING);
  const OvaEmbedding *e;
  GQuark mine = ova_user_meta_type_register ("test.mine");

  fail_unless (um != NULL);
  e = ova_user_meta_get_embedding (um);
  fail_unless (e != NULL);
  fail_unless_equals_int (e->dim, 4);
  fail_unless_equals_float (e->data[3], 3.f);
  fail_unless (ova_object_meta_find_user (o, OVA_USER_META_TENSOR) == NULL);
  fail_unless (ova_object_meta_find_user (o, mine) == NULL);
  fail_unless (mine == ova_user_meta_type_register ("test.mine"));
  fail_unless (mine != OVA_USER_META_EMBEDDING && mine != OVA_USER_META_MASK);
  fail_unless (ova_user_meta_get_embedding (NULL) == NULL);

  /* Tensor helper: the payload is a private copy. */
  {
    OvaTensorMeta desc = { 0 };
    guint8 data[6] = { 1, 2, 3, 4, 5, 6 };
    OvaUserMeta *t = ova_batch_meta_acquire_user (b);
    const OvaTensorMeta *tm;
    g_strlcpy (desc.name, "out", sizeof (desc.name));
    desc.rank = 2;
    desc.dims[0] = 2;
    desc.dims[1] = 3;
    desc.size = sizeof (data);
    ova_user_meta_set_tensor (t, &desc, data);
    ova_object_meta_add_user (o, t);
    data[0] = 42;
    tm = ova_object_meta_find_user (o, OVA_USER_META_TENSOR)->payload;
    fail_unless_equals_string (tm->name, "out");
    fail_unless_equals_int (tm->dims[1], 3);
    fail_unless_equals_int (((guint8 *) tm->data)[0], 1);
    fail_unless (ova_user_meta_get_embedding (t) == NULL);
  }
  gst_buffer_unref (buf);
}
GST_END_TEST;

/* Allocation count of a pool after building and freeing @n batches of 4
 * frames x 5 objects with the whole tree. */
static void
run_batches (OvaMetaPool *pool, guint n)
{
  for (guint i = 0; i < n; i++) {
    OvaBatchMeta *b;
    GstBuffer *buf = new_batch (pool, 4, &b);
    for (guint s = 0; s < 4; s++)
      populate_frame (b, s, 5);
    /* Downstream work: remove one object, replace the objects of a frame. */
    ova_frame_meta_remove_object (ova_batch_meta_get_frame (b, 1),
        ova_frame_meta_get_object (ova_batch_meta_get_frame (b, 1), 2));
    ova_frame_meta_clear_objects (ova_batch_meta_get_frame (b, 2));
    add_object (b, ova_batch_meta_get_frame (b, 2), 1, "new", 1);
    /* And a copy, as a tee + make_writable would make. */
    if (i % 3 == 0) {
      GstBuffer *copy = gst_buffer_copy (buf);
      gst_buffer_unref (copy);
    }
    gst_buffer_unref (buf);
  }
}

GST_START_TEST (test_pool_steady_state)
{
  OvaMetaPool *pool = ova_meta_pool_new ();
  guint64 warm, end;

  fail_unless_equals_uint64 (ova_meta_pool_get_allocations (pool), 0);
  run_batches (pool, 10);
  warm = ova_meta_pool_get_allocations (pool);
  fail_unless (warm > 0);
  run_batches (pool, 1000);
  end = ova_meta_pool_get_allocations (pool);
  GST_INFO ("pool allocations after warm-up %" G_GUINT64_FORMAT ", after 1000 more batches %"
      G_GUINT64_FORMAT, warm, end);
  fail_unless_equals_uint64 (end, warm);

  /* Two batches alive at once need more objects; freeing them returns them. */
  {
    OvaBatchMeta *b1, *b2;
    GstBuffer *x = new_batch (pool, 4, &b1), *y = new_batch (pool, 4, &b2);
    for (guint s = 0; s < 4; s++) {
      populate_frame (b1, s, 5);
      populate_frame (b2, s, 5);
    }
    gst_buffer_unref (x);
    gst_buffer_unref (y);
    warm = ova_meta_pool_get_allocations (pool);
    run_batches (pool, 100);
    fail_unless_equals_uint64 (ova_meta_pool_get_allocations (pool), warm);
  }

  /* The pool outlives its creator's reference while batches hold it. */
  {
    OvaBatchMeta *b;
    GstBuffer *buf = new_batch (pool, 1, &b);
    populate_frame (b, 0, 2);
    ova_meta_pool_unref (pool);
    fail_unless_equals_int (ova_frame_meta_get_n_objects (ova_batch_meta_get_frame (b, 0)), 2);
    gst_buffer_unref (buf); /* last reference: the pool is freed here (ASan checks) */
  }
}
GST_END_TEST;

static void
check_classifier_copy (const OvaClassifierMeta *a, const OvaClassifierMeta *c)
{
  fail_unless (a != c);
  fail_unless_equals_int (a->component_id, c->component_id);
  fail_unless_equals_int (a->labels->len, c->labels->len);
  for (guint i = 0; i < a->labels->len; i++) {
    const OvaLabelInfo *la = g_ptr_array_index (a->labels, i), *lc = g_ptr_array_index (c->labels, i);
    fail_unless (la != lc);
    fail_unless_equals_int (la->class_id, lc->class_id);
    fail_unless_equals_float (la->probability, lc->probability);
    fail_unless_equals_string (la->label, lc->label);
  }
}

static void
check_embedding_copy (const OvaUserMeta *a, const OvaUserMeta *c)
{
  const OvaEmbedding *ea = ova_user_meta_get_embedding (a), *ec = ova_user_meta_get_embedding (c);
  fail_unless (a != c);
  fail_unless (ea != NULL && ec != NULL);
  fail_unless (ea != ec);
  fail_unless (ea->data != ec->data);
  fail_unless_equals_int (ea->dim, ec->dim);
  fail_unless (memcmp (ea->data, ec->data, ea->dim * sizeof (gfloat)) == 0);
}

static void
free_counted (gpointer p, gpointer ud)
{
  g_atomic_int_inc ((gint *) ud);
}

GST_START_TEST (test_deep_copy)
{
  OvaMetaPool *pool = ova_meta_pool_new ();
  OvaBatchMeta *b, *cb;
  GstBuffer *buf = new_batch (pool, 2, &b), *copy;
  gint frees = 0;
  static gint not_copyable = 5;

  populate_frame (b, 3, 3);
  populate_frame (b, 5, 2);
  {
    /* A user meta without a copy function is not carried into the copy. */
    OvaUserMeta *um = ova_batch_meta_acquire_user (b);
    um->type = ova_user_meta_type_register ("test.nocopy");
    um->payload = &not_copyable;
    um->free_func = free_counted;
    um->user_data = &frees;
    ova_frame_meta_add_user (ova_batch_meta_get_frame (b, 1), um);
  }
  ova_latency_set_enabled (TRUE);
  ova_batch_meta_latency_enter (b, "stage");

  copy = gst_buffer_copy (buf);
  cb = ova_buffer_get_batch_meta (copy);
  fail_unless (cb != NULL);
  fail_unless (cb != b);
  fail_unless (cb->pool == b->pool);
  fail_unless_equals_int (cb->max_frames, 2);
  fail_unless_equals_int (ova_batch_meta_get_n_frames (cb), 2);

  for (guint i = 0; i < 2; i++) {
    OvaFrameMeta *f = ova_batch_meta_get_frame (b, i), *g = ova_batch_meta_get_frame (cb, i);
    fail_unless (f != g);
    fail_unless (g->batch == cb);
    fail_unless_equals_int (g->source_id, f->source_id);
    fail_unless_equals_int (g->batch_index, i);
    fail_unless_equals_uint64 (g->frame_num, f->frame_num);
    fail_unless_equals_uint64 (g->buf_pts, f->buf_pts);
    fail_unless_equals_int (g->source_width, 640);
    fail_unless_equals_int (g->latency.n_entries, 1);
    fail_unless_equals_string (g->latency.entries[0].component, "stage");
    fail_unless_equals_int (g->objects->len, f->objects->len);
    for (guint k = 0; k < f->objects->len; k++) {
      OvaObjectMeta *a = g_ptr_array_index (f->objects, k), *c = g_ptr_array_index (g->objects, k);
      fail_unless (a != c);
      fail_unless (c->frame == g);
      fail_unless_equals_uint64 (c->object_id, a->object_id);
      fail_unless_equals_int (c->class_id, a->class_id);
      fail_unless_equals_string (c->label, a->label);
      fail_unless_equals_float (c->rect.left, a->rect.left);
      fail_unless_equals_float (c->rect.height, a->rect.height);
      fail_unless_equals_float (c->confidence, a->confidence);
      /* Parent links point into the copy, at the same position. */
      if (a->parent) {
        fail_unless (c->parent != NULL);
        fail_unless (c->parent != a->parent);
        fail_unless (c->parent == g_ptr_array_index (g->objects, 0));
      } else {
        fail_unless (c->parent == NULL);
      }
      fail_unless_equals_int (c->classifiers->len, a->classifiers->len);
      for (guint j = 0; j < a->classifiers->len; j++)
        check_classifier_copy (g_ptr_array_index (a->classifiers, j), g_ptr_array_index (c->classifiers, j));
      fail_unless_equals_int (c->user_metas->len, 1);
      check_embedding_copy (g_ptr_array_index (a->user_metas, 0), g_ptr_array_index (c->user_metas, 0));
    }
    fail_unless_equals_int (g->classifiers->len, 1);
    check_classifier_copy (g_ptr_array_index (f->classifiers, 0), g_ptr_array_index (g->classifiers, 0));
    /* Frame 1 has the non-copyable user meta: it is dropped in the copy. */
    fail_unless_equals_int (f->user_metas->len, i == 1 ? 2 : 1);
    fail_unless_equals_int (g->user_metas->len, 1);
    check_embedding_copy (g_ptr_array_index (f->user_metas, 0), g_ptr_array_index (g->user_metas, 0));
    fail_unless_equals_int (g->display_metas->len, 1);
    {
      OvaDisplayMeta *da = g_ptr_array_index (f->display_metas, 0), *dc = g_ptr_array_index (g->display_metas, 0);
      fail_unless (da != dc);
      fail_unless_equals_int (dc->n_rects, 1);
      fail_unless_equals_float (dc->rects[0].rect.width, 3);
      fail_unless_equals_int (dc->n_texts, 1);
      fail_unless_equals_string (dc->texts[0].text, "hello");
    }
  }

  /* The copy is independent: changing it leaves the original alone. */
  {
    OvaFrameMeta *g = ova_batch_meta_get_frame (cb, 0);
    OvaObjectMeta *c = ova_frame_meta_get_object (g, 1);
    OvaEmbedding *ec = (OvaEmbedding *) ova_user_meta_get_embedding (g_ptr_array_index (c->user_metas, 0));
    ec->data[0] = 1234.f;
    c->rect.left = -1;
    ova_frame_meta_clear_objects (ova_batch_meta_get_frame (cb, 1));
    fail_unless_equals_float (ova_frame_meta_get_object (ova_batch_meta_get_frame (b, 0), 1)->rect.left, 10.f);
    fail_unless_equals_float (ova_user_meta_get_embedding (g_ptr_array_index (ova_frame_meta_get_object
                (ova_batch_meta_get_frame (b, 0), 1)->user_metas, 0))->data[0], 1.f);
    fail_unless_equals_int (ova_frame_meta_get_n_objects (ova_batch_meta_get_frame (b, 1)), 2);
  }
  /* Copies of copies too. */
  {
    GstBuffer *c2 = gst_buffer_copy (copy);
    fail_unless_equals_int (ova_batch_meta_get_n_frames (ova_buffer_get_batch_meta (c2)), 2);
    gst_buffer_unref (c2);
  }

  /* Copy of one frame into another batch (what ovademux does). */
  {
    OvaBatchMeta *ob;
    GstBuffer *one = new_batch (pool, 1, &ob);
    OvaFrameMeta *nf = ova_batch_meta_add_frame_copy (ob, ova_batch_meta_get_frame (b, 0));
    fail_unless (nf->batch == ob);
    fail_unless_equals_int (nf->batch_index, 0);
    fail_unless_equals_int (nf->source_id, 3);
    fail_unless_equals_int (ova_frame_meta_get_n_objects (nf), 3);
    fail_unless (ova_frame_meta_get_object (nf, 2)->parent == ova_frame_meta_get_object (nf, 0));
    gst_buffer_unref (one);
  }

  gst_buffer_unref (copy);
  fail_unless_equals_int (frees, 0);
  gst_buffer_unref (buf);
  fail_unless_equals_int (frees, 1);     /* the original's payload was freed once */
  ova_latency_set_enabled (FALSE);
  ova_meta_pool_unref (pool);
}
GST_END_TEST;

GST_START_TEST (test_transform_non_copy_drops_meta)
{
  /* A transform that is not a copy (scaling) would invalidate boxes: the meta
   * is dropped rather than carried wrongly. */
  OvaBatchMeta *b;
  GstBuffer *buf = new_batch (NULL, 1, &b), *dst = gst_buffer_new ();
  GstVideoMetaTransform tr = { 0 };
  const GstMetaInfo *info = OVA_BATCH_META_INFO;
  populate_frame (b, 0, 1);
  fail_if (info->transform_func (dst, (GstMeta *) b, buf, gst_video_meta_transform_scale_get_quark (), &tr));
  fail_unless (ova_buffer_get_batch_meta (dst) == NULL);
  gst_buffer_unref (dst);
  gst_buffer_unref (buf);
}
GST_END_TEST;

/* ------------------------------------------------------------------ threads */

typedef struct
{
  OvaBatchMeta *batch;
  OvaFrameMeta *frame;
  OvaMetaPool *pool;
  guint n;
} ThreadArgs;

static gpointer
add_objects_thread (gpointer data)
{
  ThreadArgs *a = data;
  for (guint i = 0; i < a->n; i++) {
    OvaObjectMeta *o = ova_batch_meta_acquire_object (a->batch);
    o->class_id = (gint) i;
    ova_frame_meta_add_object (a->frame, o);
    if (i % 10 == 0)
      ova_object_meta_add_classifier (o, make_classifier (a->batch, 1, 1));
  }
  return NULL;
}

static gpointer
batches_thread (gpointer data)
{
  ThreadArgs *a = data;
  run_batches (a->pool, a->n);
  return NULL;
}

GST_START_TEST (test_threads)
{
  OvaMetaPool *pool = ova_meta_pool_new ();
  OvaBatchMeta *b;
  GstBuffer *buf = new_batch (pool, 1, &b);
  OvaFrameMeta *f = ova_batch_meta_acquire_frame (b);
  ThreadArgs args = { b, f, pool, 2000 };
  GThread *th[4];
  GHashTable *ids = g_hash_table_new (g_int64_hash, g_int64_equal);

  ova_batch_meta_add_frame (b, f);
  for (guint i = 0; i < G_N_ELEMENTS (th); i++)
    th[i] = g_thread_new ("adder", add_objects_thread, &args);
  for (guint i = 0; i < G_N_ELEMENTS (th); i++)
    g_thread_join (th[i]);
  fail_unless_equals_int (ova_frame_meta_get_n_objects (f), 4 * 2000);
  for (guint i = 0; i < f->objects->len; i++) {
    OvaObjectMeta *o = g_ptr_array_index (f->objects, i);
    fail_if (g_hash_table_contains (ids, &o->object_id), "object id %" G_GUINT64_FORMAT " twice", o->object_id);
    g_hash_table_add (ids, &o->object_id);
  }
  g_hash_table_unref (ids);
  gst_buffer_unref (buf);

  /* Several streaming threads sharing one pool (one muxer, many branches). */
  {
    ThreadArgs ba = { NULL, NULL, pool, 200 };
    for (guint i = 0; i < G_N_ELEMENTS (th); i++)
      th[i] = g_thread_new ("batches", batches_thread, &ba);
    for (guint i = 0; i < G_N_ELEMENTS (th); i++)
      g_thread_join (th[i]);
  }
  ova_meta_pool_unref (pool);
}
GST_END_TEST;

/* ------------------------------------------------------------------ latency */

GST_START_TEST (test_latency_record)
{
  OvaBatchMeta *b;
  GstBuffer *buf = new_batch (NULL, 2, &b);
  OvaFrameMeta *f = populate_frame (b, 0, 0), *g = populate_frame (b, 1, 0);
  gchar name[32];

  ova_latency_set_enabled (FALSE);
  fail_if (ova_latency_enabled ());
  ova_frame_meta_latency_enter (f, "off");
  ova_frame_meta_latency_exit (f, "off");
  fail_unless_equals_int (f->latency.n_entries, 0);

  ova_latency_set_enabled (TRUE);
  fail_unless (ova_latency_enabled ());
  ova_frame_meta_latency_enter (f, "a");
  g_usleep (2000);
  /* Nested: b enters while a still holds the frame. */
  ova_frame_meta_latency_enter (f, "b");
  fail_unless_equals_uint64 (f->latency.entries[1].out_ns, 0);
  ova_frame_meta_latency_exit (f, "b");
  ova_frame_meta_latency_exit (f, "a");
  /* Exit of a component that never entered changes nothing. */
  ova_frame_meta_latency_exit (f, "never");
  fail_unless_equals_int (f->latency.n_entries, 2);
  /* Component names are interned: compare pointers. */
  g_snprintf (name, sizeof (name), "%s", "a");
  fail_unless (f->latency.entries[0].component == g_intern_string (name));
  fail_unless (f->latency.entries[1].component == g_intern_string ("b"));
  fail_unless (f->latency.entries[0].in_ns > 0);
  fail_unless (f->latency.entries[0].in_ns <= f->latency.entries[1].in_ns);
  fail_unless (f->latency.entries[1].in_ns <= f->latency.entries[1].out_ns);
  fail_unless (f->latency.entries[1].out_ns <= f->latency.entries[0].out_ns);
  fail_unless (f->latency.entries[0].out_ns - f->latency.entries[0].in_ns >= 2 * 1000 * 1000);

  /* The same element twice (a loop) closes the latest open entry. */
  ova_frame_meta_latency_enter (f, "a");
  ova_frame_meta_latency_exit (f, "a");
  fail_unless_equals_int (f->latency.n_entries, 3);
  fail_unless (f->latency.entries[2].out_ns >= f->latency.entries[2].in_ns);

  /* Batch helpers stamp every frame. */
  ova_batch_meta_latency_enter (b, "infer");
  ova_batch_meta_latency_exit (b, "infer");
  fail_unless_equals_int (g->latency.n_entries, 1);
  fail_unless_equals_string (g->latency.entries[0].component, "infer");
  fail_unless (g->latency.entries[0].out_ns >= g->latency.entries[0].in_ns);
  fail_unless_equals_int (f->latency.n_entries, 4);

  /* A full record ignores further entries instead of overflowing. */
  for (guint i = 0; i < OVA_MAX_LATENCY_ENTRIES + 5; i++)
    ova_frame_meta_latency_enter (g, "many");
  fail_unless_equals_int (g->latency.n_entries, OVA_MAX_LATENCY_ENTRIES);

  ova_latency_set_enabled (FALSE);
  gst_buffer_unref (buf);
}
GST_END_TEST;

/* ------------------------------------------------------------------ mapping */

/* An I420 frame split over 3 memories (one per plane), like some decoders give. */
static GstBuffer *
make_i420_planes (guint w, guint h, GstVideoInfo *info)
{
  GstBuffer *buf = gst_buffer_new ();
  gst_video_info_set_format (info, GST_VIDEO_FORMAT_I420, w, h);
  for (guint p = 0; p < 3; p++) {
    gsize size = (p + 1 < 3 ? GST_VIDEO_INFO_PLANE_OFFSET (info, p + 1) : GST_VIDEO_INFO_SIZE (info))
        - GST_VIDEO_INFO_PLANE_OFFSET (info, p);
    GstMemory *m = gst_allocator_alloc (NULL, size, NULL);
    GstMapInfo mi;
    gst_memory_map (m, &mi, GST_MAP_WRITE);
    memset (mi.data, 10 * (p + 1), size);
    gst_memory_unmap (m, &mi);
    gst_buffer_append_memory (buf, m);
  }
  return buf;
}

GST_START_TEST (test_frame_map)
{
  GstVideoInfo vi;
  GstBuffer *src = make_i420_planes (64, 48, &vi);
  GstBuffer *other = gst_buffer_new_allocate (NULL, 100, NULL);
  OvaBatchMeta *b;
  GstBuffer *batch = new_batch (NULL, 1, &b);
  OvaFrameMeta *f = ova_batch_meta_acquire_frame (b);
  OvaMappedFrame m;
  GstMemory *shared[3];

  /* The batch holds an unrelated memory first, then the frame's three. */
  gst_buffer_append_memory (batch, gst_buffer_get_memory (other, 0));
  for (guint i = 0; i < 3; i++) {
    shared[i] = gst_buffer_peek_memory (src, i);
    gst_buffer_append_memory (batch, gst_memory_ref (shared[i]));
  }
  f->mem_index = 1;
  f->n_mems = 3;
  f->video_info = vi;
  f->memory_type = OVA_MEMORY_SYSTEM;
  ova_batch_meta_add_frame (b, f);

  /* Read: planes point into the very memories (no copy). */
  fail_unless (ova_frame_meta_map (batch, f, &m, GST_MAP_READ));
  fail_unless_equals_int (m.stride[0], 64);
  fail_unless_equals_int (m.stride[1], 32);
  fail_unless_equals_int (m.data[0][0], 10);
  fail_unless_equals_int (m.data[1][0], 20);
  fail_unless_equals_int (m.data[2][0], 30);
  fail_unless_equals_int (m.data[2][32 * 24 - 1], 30);
  ova_mapped_frame_unmap (&m);
  for (guint i = 0; i < 3; i++)
    fail_unless (gst_buffer_peek_memory (batch, 1 + i) == shared[i]);

  /* Write while `src` (another branch) still holds the same memories:
   * copy-on-write, the other buffer keeps its pixels. */
  fail_unless (gst_buffer_is_writable (batch));
  fail_unless (ova_frame_meta_map (batch, f, &m, GST_MAP_READWRITE));
  for (guint p = 0; p < 3; p++)
    memset (m.data[p], 200 + p, (gsize) m.stride[p] * (p == 0 ? 48 : 24));
  ova_mapped_frame_unmap (&m);
  for (guint i = 0; i < 3; i++) {
    GstMapInfo mi;
    fail_unless (gst_buffer_peek_memory (batch, 1 + i) != shared[i]);
    gst_buffer_map_range (src, i, 1, &mi, GST_MAP_READ);
    for (gsize k = 0; k < mi.size; k++)
      if (mi.data[k] != 10 * (i + 1))
        fail ("the other buffer's plane %u changed at %" G_GSIZE_FORMAT, i, k);
    gst_buffer_unmap (src, &mi);
    gst_buffer_map_range (batch, 1 + i, 1, &mi, GST_MAP_READ);
    fail_unless_equals_int (mi.data[0], 200 + i);
    fail_unless_equals_int (mi.data[mi.size - 1], 200 + i);
    gst_buffer_unmap (batch, &mi);
  }
  /* The unrelated memory was left alone. */
  fail_unless (gst_buffer_peek_memory (batch, 0) == gst_buffer_peek_memory (other, 0));

  /* Not shared any more: a second write maps in place. */
  {
    GstMemory *now = gst_buffer_peek_memory (batch, 1);
    fail_unless (ova_frame_meta_map (batch, f, &m, GST_MAP_WRITE));
    m.data[0][0] = 1;
    ova_mapped_frame_unmap (&m);
    fail_unless (gst_buffer_peek_memory (batch, 1) == now);
  }

  /* Bad frame descriptions fail cleanly. */
  f->n_mems = 0;
  fail_if (ova_frame_meta_map (batch, f, &m, GST_MAP_READ));
  f->n_mems = 4;
  fail_if (ova_frame_meta_map (batch, f, &m, GST_MAP_READ));
  f->n_mems = 3;

  gst_buffer_unref (batch);
  gst_buffer_unref (other);
  gst_buffer_unref (src);
}
GST_END_TEST;

GST_START_TEST (test_frame_map_single_memory_padded)
{
  /* One memory, padded strides (as a GstVideoMeta would describe). */
  GstVideoInfo vi;
  GstBuffer *batch, *src;
  OvaBatchMeta *b;
  OvaFrameMeta *f;
  OvaMappedFrame m;
  gsize size;

  gst_video_info_set_format (&vi, GST_VIDEO_FORMAT_NV12, 30, 20);
  vi.stride[0] = vi.stride[1] = 64;
  vi.offset[1] = 64 * 20 + 128;
  size = vi.offset[1] + 64 * 10;
  src = gst_buffer_new_allocate (NULL, size, NULL);
  gst_buffer_memset (src, 0, 1, vi.offset[1]);
  gst_buffer_memset (src, vi.offset[1], 2, size - vi.offset[1]);
  batch = new_batch (NULL, 1, &b);
  f = ova_batch_meta_acquire_frame (b);
  f->mem_index = 0;
  f->n_mems = 1;
  f->video_info = vi;
  ova_batch_meta_add_frame (b, f);
  gst_buffer_append_memory (batch, gst_buffer_get_memory (src, 0));
  fail_unless (ova_frame_meta_map (batch, f, &m, GST_MAP_READ));
  fail_unless_equals_int (m.stride[0], 64);
  fail_unless_equals_int (m.data[1] - m.data[0], 64 * 20 + 128);
  fail_unless_equals_int (m.data[0][0], 1);
  fail_unless_equals_int (m.data[1][0], 2);
  ova_mapped_frame_unmap (&m);
  gst_buffer_unref (batch);
  gst_buffer_unref (src);
}
GST_END_TEST;

/* ------------------------------------------------------------------- events */

GST_START_TEST (test_events)
{
  GstEvent *ev = ova_event_new_stream (OVA_EVENT_STREAM_EOS, 17);
  guint sid = 0;

  fail_unless_equals_int (GST_EVENT_TYPE (ev), GST_EVENT_CUSTOM_DOWNSTREAM);
  fail_unless (GST_EVENT_IS_SERIALIZED (ev));
  fail_unless (ova_event_parse_stream (ev, OVA_EVENT_STREAM_EOS, &sid));
  fail_unless_equals_int (sid, 17);
  fail_if (ova_event_parse_stream (ev, OVA_EVENT_STREAM_ADD, &sid));
  fail_if (ova_event_parse_stream (ev, OVA_EVENT_STREAM_REMOVE, &sid));
  gst_event_unref (ev);

  ev = ova_event_new_stream (OVA_EVENT_STREAM_REMOVE, 0);
  fail_unless (ova_event_parse_stream (ev, OVA_EVENT_STREAM_REMOVE, &sid));
  fail_unless_equals_int (sid, 0);
  gst_event_unref (ev);

  /* Not ours: a real EOS, another custom event, one without source-id. */
  ev = gst_event_new_eos ();
  fail_if (ova_event_parse_stream (ev, OVA_EVENT_STREAM_EOS, &sid));
  gst_event_unref (ev);
  ev = gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM, gst_structure_new_empty ("other"));
  fail_if (ova_event_parse_stream (ev, OVA_EVENT_STREAM_EOS, &sid));
  gst_event_unref (ev);
  ev = gst_event_new_custom (GST_EVENT_CUSTOM_DOWNSTREAM, gst_structure_new_empty (OVA_EVENT_STREAM_EOS));
  fail_if (ova_event_parse_stream (ev, OVA_EVENT_STREAM_EOS, &sid));
  gst_event_unref (ev);
}
GST_END_TEST;

/* Runs @stmt, which logs a critical in the "ova" domain (structured logging,
 * not caught by ASSERT_CRITICAL), without it being fatal. */
#define EXPECT_OVA_CRITICAL(stmt) G_STMT_START {                          \
  GLogLevelFlags fatal_ = g_log_set_always_fatal (G_LOG_FATAL_MASK);      \
  stmt;                                                                   \
  g_log_set_always_fatal (fatal_);                                        \
} G_STMT_END

/* Boxed types for bindings: copies are detached deep copies that outlive the
 * buffer; the free functions refuse pool-owned metas; the copy-taking writers
 * attach pool metas. */
GST_START_TEST (test_boxed_detached)
{
  OvaMetaPool *pool = ova_meta_pool_new ();
  OvaBatchMeta *b;
  GstBuffer *buf = new_batch (pool, 2, &b);
  OvaFrameMeta *f = populate_frame (b, 3, 2), *fc;
  OvaObjectMeta *o0 = ova_frame_meta_get_object (f, 0), *oc, *added, desc;
  OvaClassifierMeta *cls;
  OvaDisplayMeta *dm;
  const gfloat *emb;
  guint n = 0;

  fail_unless (G_TYPE_IS_BOXED (OVA_TYPE_FRAME_META));
  fail_unless (G_TYPE_IS_ENUM (OVA_TYPE_TRACK_STATE));
  fail_unless_equals_string (g_enum_get_value (g_type_class_peek (OVA_TYPE_MEMORY_TYPE) ?
      g_type_class_peek (OVA_TYPE_MEMORY_TYPE) : g_type_class_ref (OVA_TYPE_MEMORY_TYPE), OVA_MEMORY_CUDA)->value_nick, "cuda");

  fc = g_boxed_copy (OVA_TYPE_FRAME_META, f);
  oc = g_boxed_copy (OVA_TYPE_OBJECT_META, o0);
  fail_unless (fc != f && oc != o0);
  fail_unless (ova_meta_is_detached (fc) && ova_meta_is_detached (oc));
  fail_if (ova_meta_is_detached (f) || ova_meta_is_detached (o0));
  fail_unless (fc->batch == NULL && oc->frame == NULL && oc->parent == NULL);
  fail_unless_equals_int (ova_frame_meta_get_n_objects (fc), 2);
  fail_unless (ova_frame_meta_get_object (fc, 0) != o0);
  fail_unless (ova_frame_meta_get_object (fc, 1)->parent == NULL);
  fail_unless_equals_int (ova_frame_meta_get_n_display_metas (fc), 1);
  fail_unless (ova_frame_meta_get_display_meta (fc, 0) != ova_frame_meta_get_display_meta (f, 0));

  /* Pool-owned metas are never freed by the boxed free functions. */
  EXPECT_OVA_CRITICAL (g_boxed_free (OVA_TYPE_OBJECT_META, o0));
  EXPECT_OVA_CRITICAL (g_boxed_free (OVA_TYPE_FRAME_META, f));
  EXPECT_OVA_CRITICAL (ova_label_info_free (ova_classifier_meta_get_label (ova_object_meta_get_classifier (o0, 0), 0)));
  fail_unless_equals_int (ova_frame_meta_get_n_objects (f), 2);

  /* A copy is a snapshot: changing it leaves the batch alone... */
  oc->class_id = 77;
  ova_object_meta_set_label (oc, "bus");
  fail_unless_equals_int (o0->class_id, 0);
  fail_unless_equals_string (ova_object_meta_get_label (o0), "car");
  /* ...until written back by object id. */
  fail_unless (ova_batch_meta_update_object (b, oc));
  fail_unless_equals_int (o0->class_id, 77);
  fail_unless_equals_string (ova_object_meta_get_label (o0), "bus");

  /* Adding from a detached object, and from a zeroed struct (what a binding
   * allocates for Ova.ObjectMeta()), whose arrays are NULL. */
  oc->tracker_id = 9;
  cls = ova_classifier_meta_new (4);
  ova_classifier_meta_add_label_copy (cls, 2, "red", 0.75f);
  ova_object_meta_add_classifier_copy (oc, cls);
  ova_classifier_meta_free (cls);
  added = ova_batch_meta_add_object_copy (b, 0, oc);
  fail_unless (added != NULL && added != oc);
  fail_if (ova_meta_is_detached (added));
  fail_unless (added->frame == f && added->object_id != o0->object_id);
  fail_unless_equals_int (added->tracker_id, 9);
  fail_unless_equals_int (ova_object_meta_get_n_classifiers (added), 2);
  fail_unless_equals_string (ova_label_info_get_label (ova_classifier_meta_get_label (
      ova_object_meta_get_classifier (added, 1), 0)), "red");
  emb = ova_user_meta_get_embedding_data (ova_object_meta_find_user_by_name (added, "ova.embedding"), &n);
  fail_unless_equals_int (n, 4);
  fail_unless (emb[1] == 1.f && emb[3] == 3.f);
  memset (&desc, 0, sizeof (desc));
  desc.class_id = 5;
  fail_unless (ova_batch_meta_add_object_copy (b, 0, &desc) != NULL);
  fail_unless_equals_int (ova_frame_meta_get_n_objects (f), 4);
  fail_unless (ova_batch_meta_remove_object (b, added->object_id));
  fail_if (ova_batch_meta_remove_object (b, 123456789));
  fail_unless_equals_int (ova_frame_meta_get_n_objects (f), 3);

  dm = ova_display_meta_new ();
  {
    OvaColor white = { 1, 1, 1, 1 };
    OvaDisplayRect r = { { 1, 2, 3, 4 }, 2, { 1, 0, 0, 1 }, FALSE, { 0 } };
    fail_unless (ova_display_meta_add_rect (dm, &r));
    fail_unless (ova_display_meta_add_text (dm, "hi", 5, 6, 12, &white, NULL));
  }
  fail_unless (ova_batch_meta_add_display_copy (b, 0, dm) != NULL);
  fail_unless (ova_batch_meta_add_display_copy (b, 9, dm) == NULL);
  ova_display_meta_free (dm);
  fail_unless_equals_int (ova_frame_meta_get_n_display_metas (f), 2);
  fail_unless_equals_string (ova_display_text_get_text (ova_display_meta_get_text (
      ova_frame_meta_get_display_meta (f, 1), 0)), "hi");

  /* The copies outlive the buffer (ASan would catch a shallow copy). */
  gst_buffer_unref (buf);
  fail_unless_equals_int (fc->source_id, 3);
  fail_unless_equals_string (ova_object_meta_get_label (ova_frame_meta_get_object (fc, 1)), "plate");
  emb = ova_user_meta_get_embedding_data (ova_object_meta_get_user_meta (ova_frame_meta_get_object (fc, 1), 0), &n);
  fail_unless (n == 4 && emb[0] == 1.f);
  fail_unless_equals_string (ova_label_info_get_label (ova_classifier_meta_get_label (
      ova_frame_meta_get_classifier (fc, 0), 0)), "label-3-0");
  /* Children of a detached copy belong to it, not to their own free. */
  EXPECT_OVA_CRITICAL (ova_object_meta_free (ova_frame_meta_get_object (fc, 0)));
  g_boxed_free (OVA_TYPE_FRAME_META, fc);
  g_boxed_free (OVA_TYPE_OBJECT_META, oc);
  fail_if (ova_meta_is_detached (fc));
  ova_meta_pool_unref (pool);
}
GST_END_TEST;

static Suite *
meta_suite (void)
{
  Suite *s = suite_create ("ova-meta");
  TCase *tc = tcase_create ("meta");
  suite_add_tcase (s, tc);
  tcase_set_timeout (tc, 60);
  tcase_add_test (tc, test_acquire_attach_release);
  tcase_add_test (tc, test_find_user_and_types);
  tcase_add_test (tc, test_pool_steady_state);
  tcase_add_test (tc, test_deep_copy);
  tcase_add_test (tc, test_transform_non_copy_drops_meta);
  tcase_add_test (tc, test_threads);
  tcase_add_test (tc, test_latency_record);
  tcase_add_test (tc, test_frame_map);
  tcase_add_test (tc, test_frame_map_single_memory_padded);
  tcase_add_test (tc, test_events);
  tcase_add_test (tc, test_boxed_detached);
  return s;
}

OVA_MUX_TEST_MAIN (meta_suite)
