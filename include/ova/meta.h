/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Batch metadata: the tree that travels with every batched buffer.
 *
 *   GstBuffer (one batch; its GstMemory objects are the input frames, not copies)
 *    └─ OvaBatchMeta (GstMeta)
 *        └─ OvaFrameMeta[]        one per frame in the batch
 *            ├─ OvaObjectMeta[]   detections / tracked objects
 *            │   ├─ OvaClassifierMeta[] → OvaLabelInfo[]
 *            │   └─ OvaUserMeta[] (embeddings, raw tensors, masks, your own)
 *            ├─ OvaClassifierMeta[] (frame-level)
 *            ├─ OvaUserMeta[]     (frame-level)
 *            ├─ OvaDisplayMeta[]  (what ovaosd draws besides the objects)
 *            └─ OvaLatencyRecord  (per-element entry/exit times)
 *
 * Ownership rules
 *  - Every meta object is owned by the OvaBatchMeta it was acquired from.
 *    Acquire with ova_batch_meta_acquire_*(), then attach with
 *    ova_*_add_*(); once attached, the parent owns it and returns it to
 *    the pool when the buffer is freed. Never free a meta yourself; an
 *    acquired meta that you decide not to attach goes back with
 *    ova_batch_meta_release_*().
 *  - Pointers returned by getters are (transfer none): valid while the
 *    buffer holding the batch meta is alive and not being modified by
 *    another thread. Writers take ova_batch_meta_lock() when several
 *    threads may touch the same batch.
 *  - Pools live in an OvaMetaPool shared (refcounted) by every batch a
 *    muxer produces, so steady-state streaming allocates no meta memory:
 *    objects return to the pool when the batch buffer is freed, and the
 *    arrays keep their capacity.
 *  - Buffer copies (gst_buffer_copy, make_writable) deep-copy the batch
 *    meta; user metas are copied with their copy function.
 *
 * GObject types and language bindings (Python through GObject introspection:
 * `from gi.repository import Ova`, see docs/python.md)
 *  - OvaBatchMeta is a plain record (a GstMeta, like GstVideoMeta): a binding
 *    holds a pointer into the buffer's meta, valid while the buffer is alive
 *    (in a pad probe: during the probe). It is never copied nor freed by a
 *    binding.
 *  - OvaFrameMeta, OvaObjectMeta, OvaClassifierMeta, OvaLabelInfo,
 *    OvaUserMeta and OvaDisplayMeta are boxed types whose copy is a DETACHED
 *    deep copy: a standalone snapshot on the heap (its own children, no pool,
 *    back pointers `batch`, `frame` and `parent` NULL) that stays valid after
 *    the buffer is gone. Their free function frees only such detached copies
 *    (and those made by the *_new() constructors); called on a pool-owned
 *    meta it refuses with a critical warning and leaves it alone, so a binding
 *    can never free or recycle a meta behind its pool's back.
 *    Bindings copy (transfer none) boxed values they return (PyGObject does),
 *    so what Python reads are snapshots: changing a field of one does not
 *    change the buffer's meta. Python writes through the batch:
 *    ova_batch_meta_add_object_copy(), ova_batch_meta_update_object(),
 *    ova_batch_meta_remove_object(), ova_batch_meta_add_display_copy().
 *  - The pool protocol (acquire_*, add_* taking ownership, release_*, pools)
 *    is C only: it is marked (skip) for bindings, which cannot honour
 *    "owned by the parent once attached".
 *  - OvaRect, OvaColor, OvaLatencyRecord and the display elements are plain
 *    value types (copy = memdup, free = g_free).
 *  - Arrays that GObject introspection cannot walk (the GPtrArray fields, the
 *    embedding payload) have accessors: ova_batch_meta_get_frame(),
 *    ova_frame_meta_get_object(), ova_*_get_classifier(),
 *    ova_classifier_meta_get_label(), ova_*_get_user_meta(),
 *    ova_frame_meta_get_display_meta(), ova_user_meta_get_embedding_data()...
 */
#ifndef OVA_META_H
#define OVA_META_H

#include <gst/gst.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define OVA_MAX_LABEL_SIZE 128
#define OVA_MAX_DISPLAY_ELEMENTS 16
#define OVA_MAX_DISPLAY_TEXT 128
#define OVA_MAX_LATENCY_ENTRIES 32
#define OVA_UNTRACKED (-1)

typedef struct _OvaMetaPool OvaMetaPool;
typedef struct _OvaBatchMeta OvaBatchMeta;
typedef struct _OvaFrameMeta OvaFrameMeta;
typedef struct _OvaObjectMeta OvaObjectMeta;
typedef struct _OvaClassifierMeta OvaClassifierMeta;
typedef struct _OvaLabelInfo OvaLabelInfo;
typedef struct _OvaDisplayMeta OvaDisplayMeta;
typedef struct _OvaUserMeta OvaUserMeta;

/**
 * OvaMemoryType:
 * @OVA_MEMORY_SYSTEM: system (CPU) memory
 * @OVA_MEMORY_CUDA: CUDA device memory (GstCudaMemory)
 *
 * Where the pixels of a frame live.
 */
typedef enum {
  OVA_MEMORY_SYSTEM = 0,
  OVA_MEMORY_CUDA = 1,
} OvaMemoryType;

GType ova_memory_type_get_type (void);
#define OVA_TYPE_MEMORY_TYPE (ova_memory_type_get_type ())

/**
 * OvaRect:
 * @left: left edge
 * @top: top edge
 * @width: width
 * @height: height
 *
 * A box in source-frame pixels.
 */
typedef struct {
  gfloat left, top, width, height;
} OvaRect;

/**
 * OvaColor:
 * @r: red
 * @g: green
 * @b: blue
 * @a: alpha
 *
 * RGBA colour, each component 0..1.
 */
typedef struct {
  gfloat r, g, b, a;
} OvaColor;

GType ova_rect_get_type (void);
GType ova_color_get_type (void);
#define OVA_TYPE_RECT (ova_rect_get_type ())
#define OVA_TYPE_COLOR (ova_color_get_type ())

/* ---------------------------------------------------------------- user meta */

/* Well-known user meta types. Applications register their own with
 * ova_user_meta_type_register() (a GQuark from a unique name). */
#define OVA_USER_META_EMBEDDING (ova_user_meta_type_embedding ())
#define OVA_USER_META_TENSOR (ova_user_meta_type_tensor ())
#define OVA_USER_META_MASK (ova_user_meta_type_mask ())

typedef gpointer (*OvaUserMetaCopyFunc) (gconstpointer payload, gpointer user_data);
typedef void (*OvaUserMetaFreeFunc) (gpointer payload, gpointer user_data);

struct _OvaUserMeta {
  GQuark type;
  gpointer payload;             /* owned by the meta: freed with free_func */
  OvaUserMetaCopyFunc copy_func; /* NULL: the payload is not copied with the buffer */
  OvaUserMetaFreeFunc free_func;
  gpointer user_data;
  guint component_id;           /* which element attached it */
};

/* Payload of OVA_USER_META_EMBEDDING: an L2-normalised feature vector. */
typedef struct {
  guint dim;
  gfloat *data; /* dim floats */
} OvaEmbedding;

/* Payload of OVA_USER_META_TENSOR: a raw output tensor (host memory). */
typedef struct {
  gchar name[64];
  guint rank;
  gint64 dims[8];
  gint dtype;    /* OvaDataType (include/ova/engine.h) */
  gsize size;    /* bytes */
  gpointer data;
} OvaTensorMeta;

/* Payload of OVA_USER_META_MASK: a per-object (or per-frame) mask. */
typedef struct {
  guint width, height;
  gfloat *data; /* width*height values, row-major */
} OvaMaskMeta;

GQuark ova_user_meta_type_embedding (void);
GQuark ova_user_meta_type_tensor (void);
GQuark ova_user_meta_type_mask (void);
GQuark ova_user_meta_type_register (const gchar *name);

/* Helpers building the well-known payloads with correct copy/free functions. */
void ova_user_meta_set_embedding (OvaUserMeta *um, const gfloat *data, guint dim);
void ova_user_meta_set_tensor (OvaUserMeta *um, const OvaTensorMeta *desc, gconstpointer data);
/* (transfer none) (nullable): the embedding payload, or NULL if um is not one. */
const OvaEmbedding *ova_user_meta_get_embedding (const OvaUserMeta *um);

/* ---------------------------------------------------------- classifier meta */

struct _OvaLabelInfo {
  gint class_id;
  gfloat probability;
  gchar label[OVA_MAX_LABEL_SIZE];
};

struct _OvaClassifierMeta {
  guint component_id; /* gie-unique-id of the classifier */
  GPtrArray *labels;  /* OvaLabelInfo*, owned */
};

/* -------------------------------------------------------------- object meta */

/**
 * OvaTrackState:
 * @OVA_TRACK_NONE: not tracked
 * @OVA_TRACK_CONFIRMED: matched to a detection on this frame
 * @OVA_TRACK_PREDICTED: no detection this frame; box predicted by the tracker
 * @OVA_TRACK_TENTATIVE: new track not yet confirmed
 */
typedef enum {
  OVA_TRACK_NONE = 0,      /* not tracked */
  OVA_TRACK_CONFIRMED = 1, /* matched to a detection on this frame */
  OVA_TRACK_PREDICTED = 2, /* no detection this frame; box predicted by the tracker */
  OVA_TRACK_TENTATIVE = 3, /* new track not yet confirmed */
} OvaTrackState;

GType ova_track_state_get_type (void);
#define OVA_TYPE_TRACK_STATE (ova_track_state_get_type ())

struct _OvaObjectMeta {
  guint64 object_id;       /* unique in the process, assigned when attached */
  gint class_id;
  gchar label[OVA_MAX_LABEL_SIZE];
  gfloat confidence;       /* detector confidence, -1 when not from a detector */
  OvaRect rect;            /* current box (tracker output if tracked), source pixels */
  OvaRect detector_rect;   /* box as the detector gave it */
  guint component_id;      /* gie-unique-id of the detector */
  gint64 tracker_id;       /* OVA_UNTRACKED (-1) or an id unique per source */
  gfloat tracker_confidence;
  OvaTrackState track_state;
  OvaObjectMeta *parent;   /* (nullable) (transfer none) e.g. the car of a licence plate */
  GPtrArray *classifiers;  /* OvaClassifierMeta*, owned */
  GPtrArray *user_metas;   /* OvaUserMeta*, owned */
  OvaFrameMeta *frame;     /* back pointer, set when attached */
  /* Per-object colour overrides for the OSD; a = 0 means "use the defaults". */
  OvaColor border_color;
};

/* ------------------------------------------------------------- display meta */

typedef struct {
  OvaRect rect;
  gfloat border_width;
  OvaColor border_color;
  gboolean has_fill;
  OvaColor fill_color;  /* alpha honoured */
} OvaDisplayRect;

typedef struct {
  gfloat x1, y1, x2, y2;
  gfloat width;
  OvaColor color;
} OvaDisplayLine;

typedef struct {
  gfloat x1, y1, x2, y2; /* the head is at (x2, y2) */
  gfloat width;
  OvaColor color;
} OvaDisplayArrow;

typedef struct {
  gfloat xc, yc, radius;
  gfloat width;
  OvaColor color;
  gboolean has_fill;
  OvaColor fill_color;
} OvaDisplayCircle;

typedef struct {
  gchar text[OVA_MAX_DISPLAY_TEXT];
  gfloat x, y;          /* top-left corner */
  gfloat font_size;     /* pixels */
  OvaColor color;
  gboolean has_bg;
  OvaColor bg_color;
} OvaDisplayText;

struct _OvaDisplayMeta {
  guint n_rects, n_lines, n_arrows, n_circles, n_texts;
  OvaDisplayRect rects[OVA_MAX_DISPLAY_ELEMENTS];
  OvaDisplayLine lines[OVA_MAX_DISPLAY_ELEMENTS];
  OvaDisplayArrow arrows[OVA_MAX_DISPLAY_ELEMENTS];
  OvaDisplayCircle circles[OVA_MAX_DISPLAY_ELEMENTS];
  OvaDisplayText texts[OVA_MAX_DISPLAY_ELEMENTS];
};

/* ----------------------------------------------------------- latency record */

typedef struct {
  const gchar *component; /* interned string (g_intern_string) */
  guint64 in_ns;          /* monotonic clock, g_get_monotonic_time()*1000 */
  guint64 out_ns;         /* 0 while the element still holds the frame */
} OvaLatencyEntry;

typedef struct {
  guint64 source_ns;      /* when the frame entered the muxer */
  guint n_entries;
  OvaLatencyEntry entries[OVA_MAX_LATENCY_ENTRIES];
} OvaLatencyRecord;

/* TRUE when latency measurement is on (OVA_LATENCY=1 or ova_latency_set_enabled()). */
gboolean ova_latency_enabled (void);
void ova_latency_set_enabled (gboolean enabled);
guint64 ova_latency_now_ns (void);

/* --------------------------------------------------------------- frame meta */

struct _OvaFrameMeta {
  guint source_id;         /* the source (stream) id: muxer pad index unless set by the app */
  guint pad_index;         /* muxer sink pad index */
  guint batch_index;       /* position of this frame in the batch */
  guint64 frame_num;       /* per-source counter, from 0 */
  GstClockTime buf_pts;    /* pts of the source buffer */
  GstClockTime duration;
  guint64 ntp_timestamp;   /* ns since epoch when the frame entered the muxer */
  guint source_width, source_height; /* the source frame's size; object boxes are ALWAYS in
                                        these pixels, even when the muxer scaled the pixels
                                        (then video_info.width/height differ: map boxes by the
                                        ratio before drawing or cropping) */
  /* Where the pixels are: memories [mem_index, mem_index + n_mems) of the batch buffer,
   * laid out as video_info says (offsets relative to the first of those memories'
   * concatenation, strides per plane), in memory of type memory_type.
   * n_mems == 0: the frame has no pixels (a frame the muxer failed to scale); skip it. */
  guint mem_index;
  guint n_mems;
  /* (nullable) When set, the memories are in this buffer instead of the batch
   * buffer: a GstBuffer holds at most 16 memories (gst_buffer_get_max_memory),
   * so the muxer keeps the frames past that limit here, still without copying.
   * Use ova_frame_meta_get_pixel_buffer() rather than testing this yourself. */
  GstBuffer *buffer;
  OvaMemoryType memory_type;
  gboolean infer_done;     /* a primary detector ran on this frame (not skipped by interval) */
  GPtrArray *objects;      /* OvaObjectMeta*, owned */
  GPtrArray *classifiers;  /* OvaClassifierMeta*, owned */
  GPtrArray *user_metas;   /* OvaUserMeta*, owned */
  GPtrArray *display_metas;/* OvaDisplayMeta*, owned */
  OvaLatencyRecord latency;
  OvaBatchMeta *batch;     /* back pointer */
  /* Last on purpose: GstVideo's introspection data describes GstVideoInfo
   * 32 bytes shorter than it is (its ABI union is missing), which would shift
   * every field after it as bindings see them. */
  GstVideoInfo video_info;
};

/* --------------------------------------------------------------- batch meta */

struct _OvaBatchMeta {
  GstMeta meta;
  guint max_frames;        /* the muxer's batch-size */
  GPtrArray *frames;       /* OvaFrameMeta*, owned */
  GRecMutex lock;
  OvaMetaPool *pool;       /* shared with other batches of the same muxer */
};

/**
 * ova_batch_meta_api_get_type: (skip)
 */
GType ova_batch_meta_api_get_type (void);
const GstMetaInfo *ova_batch_meta_get_info (void);
#define OVA_BATCH_META_API_TYPE (ova_batch_meta_api_get_type ())
#define OVA_BATCH_META_INFO (ova_batch_meta_get_info ())

/* Pools */
OvaMetaPool *ova_meta_pool_new (void);
OvaMetaPool *ova_meta_pool_ref (OvaMetaPool *pool);
void ova_meta_pool_unref (OvaMetaPool *pool);
/* Counts of objects ever allocated by the pool (tests check steady state allocates nothing). */
guint64 ova_meta_pool_get_allocations (OvaMetaPool *pool);

/**
 * ova_buffer_add_batch_meta:
 * @pool: (nullable): pool to draw meta from; NULL uses a process-wide pool.
 * Returns: (transfer none): the new batch meta, owned by @buffer.
 */
OvaBatchMeta *ova_buffer_add_batch_meta (GstBuffer *buffer, guint max_frames, OvaMetaPool *pool);
/**
 * ova_buffer_get_batch_meta:
 * @buffer: a batched buffer (from ovamux or an element after it)
 * Returns: (transfer none) (nullable): the batch meta of @buffer.
 */
OvaBatchMeta *ova_buffer_get_batch_meta (GstBuffer *buffer);

void ova_batch_meta_lock (OvaBatchMeta *batch);
void ova_batch_meta_unlock (OvaBatchMeta *batch);
guint ova_batch_meta_get_n_frames (OvaBatchMeta *batch);
/**
 * ova_batch_meta_get_frame:
 * Returns: (transfer none): frame @i.
 */
OvaFrameMeta *ova_batch_meta_get_frame (OvaBatchMeta *batch, guint i);

/* Acquire from the batch's pool (cleared), then attach. */
OvaFrameMeta *ova_batch_meta_acquire_frame (OvaBatchMeta *batch);
OvaObjectMeta *ova_batch_meta_acquire_object (OvaBatchMeta *batch);
OvaClassifierMeta *ova_batch_meta_acquire_classifier (OvaBatchMeta *batch);
OvaLabelInfo *ova_batch_meta_acquire_label (OvaBatchMeta *batch);
OvaDisplayMeta *ova_batch_meta_acquire_display (OvaBatchMeta *batch);
OvaUserMeta *ova_batch_meta_acquire_user (OvaBatchMeta *batch);
/* Give back something acquired but never attached. */
void ova_batch_meta_release_object (OvaBatchMeta *batch, OvaObjectMeta *obj);

void ova_batch_meta_add_frame (OvaBatchMeta *batch, OvaFrameMeta *frame);
/**
 * ova_batch_meta_add_frame_copy: (skip)
 *
 * Deep-copies @src (objects, classifiers, user and display metas) into @batch.
 *
 * Returns: (transfer none): the copy, attached to @batch.
 */
OvaFrameMeta *ova_batch_meta_add_frame_copy (OvaBatchMeta *batch, const OvaFrameMeta *src);
void ova_frame_meta_add_object (OvaFrameMeta *frame, OvaObjectMeta *obj);
/* Detaches @obj from @frame and returns it (and everything under it) to the pool. */
void ova_frame_meta_remove_object (OvaFrameMeta *frame, OvaObjectMeta *obj);
void ova_frame_meta_clear_objects (OvaFrameMeta *frame);
void ova_frame_meta_add_classifier (OvaFrameMeta *frame, OvaClassifierMeta *cls);
void ova_frame_meta_add_user (OvaFrameMeta *frame, OvaUserMeta *um);
void ova_frame_meta_add_display (OvaFrameMeta *frame, OvaDisplayMeta *dm);
void ova_object_meta_add_classifier (OvaObjectMeta *obj, OvaClassifierMeta *cls);
void ova_object_meta_add_user (OvaObjectMeta *obj, OvaUserMeta *um);
void ova_classifier_meta_add_label (OvaClassifierMeta *cls, OvaLabelInfo *label);

guint ova_frame_meta_get_n_objects (OvaFrameMeta *frame);
/**
 * ova_frame_meta_get_object:
 * Returns: (transfer none): object @i of @frame.
 */
OvaObjectMeta *ova_frame_meta_get_object (OvaFrameMeta *frame, guint i);
/**
 * ova_object_meta_find_user: (skip)
 * Returns: (transfer none) (nullable): the first user meta of @type on @obj.
 */
OvaUserMeta *ova_object_meta_find_user (OvaObjectMeta *obj, GQuark type);

void ova_object_meta_set_label (OvaObjectMeta *obj, const gchar *label);

/* Latency record: an element calls enter when it takes the frame, exit when it
 * pushes it. Both are no-ops unless ova_latency_enabled(). */
void ova_frame_meta_latency_enter (OvaFrameMeta *frame, const gchar *component);
void ova_frame_meta_latency_exit (OvaFrameMeta *frame, const gchar *component);
void ova_batch_meta_latency_enter (OvaBatchMeta *batch, const gchar *component);
void ova_batch_meta_latency_exit (OvaBatchMeta *batch, const gchar *component);


/* ----------------------------------------- GObject types and binding access */

/* Boxed types: see "GObject types and language bindings" at the top. */
GType ova_frame_meta_get_type (void);
GType ova_object_meta_get_type (void);
GType ova_classifier_meta_get_type (void);
GType ova_label_info_get_type (void);
GType ova_user_meta_get_type (void);
GType ova_display_meta_get_type (void);
GType ova_display_rect_get_type (void);
GType ova_display_line_get_type (void);
GType ova_display_arrow_get_type (void);
GType ova_display_circle_get_type (void);
GType ova_display_text_get_type (void);
GType ova_latency_entry_get_type (void);
GType ova_latency_record_get_type (void);
#define OVA_TYPE_FRAME_META (ova_frame_meta_get_type ())
#define OVA_TYPE_OBJECT_META (ova_object_meta_get_type ())
#define OVA_TYPE_CLASSIFIER_META (ova_classifier_meta_get_type ())
#define OVA_TYPE_LABEL_INFO (ova_label_info_get_type ())
#define OVA_TYPE_USER_META (ova_user_meta_get_type ())
#define OVA_TYPE_DISPLAY_META (ova_display_meta_get_type ())
#define OVA_TYPE_DISPLAY_RECT (ova_display_rect_get_type ())
#define OVA_TYPE_DISPLAY_LINE (ova_display_line_get_type ())
#define OVA_TYPE_DISPLAY_ARROW (ova_display_arrow_get_type ())
#define OVA_TYPE_DISPLAY_CIRCLE (ova_display_circle_get_type ())
#define OVA_TYPE_DISPLAY_TEXT (ova_display_text_get_type ())
#define OVA_TYPE_LATENCY_ENTRY (ova_latency_entry_get_type ())
#define OVA_TYPE_LATENCY_RECORD (ova_latency_record_get_type ())

/* Detached deep copies (the boxed copy functions) and their free functions.
 * The free functions refuse pool-owned metas (critical warning, no-op). */
OvaFrameMeta *ova_frame_meta_copy (const OvaFrameMeta *frame);
void ova_frame_meta_free (OvaFrameMeta *frame);
OvaObjectMeta *ova_object_meta_copy (const OvaObjectMeta *obj);
void ova_object_meta_free (OvaObjectMeta *obj);
OvaClassifierMeta *ova_classifier_meta_copy (const OvaClassifierMeta *cls);
void ova_classifier_meta_free (OvaClassifierMeta *cls);
OvaLabelInfo *ova_label_info_copy (const OvaLabelInfo *label);
void ova_label_info_free (OvaLabelInfo *label);
OvaUserMeta *ova_user_meta_copy (const OvaUserMeta *um);
void ova_user_meta_free (OvaUserMeta *um);
OvaDisplayMeta *ova_display_meta_copy (const OvaDisplayMeta *dm);
void ova_display_meta_free (OvaDisplayMeta *dm);
/* TRUE when @boxed was made by one of the copy or _new functions above. */
gboolean ova_meta_is_detached (gconstpointer boxed);

/* New, empty detached metas (transfer full), for building what
 * ova_batch_meta_add_*_copy() attaches. */
OvaObjectMeta *ova_object_meta_new (void);
OvaClassifierMeta *ova_classifier_meta_new (guint component_id);
OvaDisplayMeta *ova_display_meta_new (void);

/* Accessors for the arrays (all (transfer none)). */
const gchar *ova_object_meta_get_label (const OvaObjectMeta *obj);
guint ova_object_meta_get_n_classifiers (const OvaObjectMeta *obj);
OvaClassifierMeta *ova_object_meta_get_classifier (const OvaObjectMeta *obj, guint i);
guint ova_object_meta_get_n_user_metas (const OvaObjectMeta *obj);
OvaUserMeta *ova_object_meta_get_user_meta (const OvaObjectMeta *obj, guint i);
OvaUserMeta *ova_object_meta_find_user_by_name (const OvaObjectMeta *obj, const gchar *type_name);
guint ova_frame_meta_get_n_classifiers (const OvaFrameMeta *frame);
OvaClassifierMeta *ova_frame_meta_get_classifier (const OvaFrameMeta *frame, guint i);
guint ova_frame_meta_get_n_user_metas (const OvaFrameMeta *frame);
OvaUserMeta *ova_frame_meta_get_user_meta (const OvaFrameMeta *frame, guint i);
guint ova_frame_meta_get_n_display_metas (const OvaFrameMeta *frame);
OvaDisplayMeta *ova_frame_meta_get_display_meta (const OvaFrameMeta *frame, guint i);
guint ova_classifier_meta_get_n_labels (const OvaClassifierMeta *cls);
OvaLabelInfo *ova_classifier_meta_get_label (const OvaClassifierMeta *cls, guint i);
const gchar *ova_label_info_get_label (const OvaLabelInfo *label);
void ova_label_info_set_label (OvaLabelInfo *label, const gchar *text);
const gchar *ova_user_meta_get_type_name (const OvaUserMeta *um);
const gfloat *ova_user_meta_get_embedding_data (const OvaUserMeta *um, guint *n_values);
const gchar *ova_latency_entry_get_component (const OvaLatencyEntry *entry);
const OvaLatencyEntry *ova_latency_record_get_entry (const OvaLatencyRecord *record, guint i);

/* Building detached metas (they copy their arguments). */
void ova_object_meta_add_classifier_copy (OvaObjectMeta *obj, const OvaClassifierMeta *cls);
void ova_object_meta_add_embedding (OvaObjectMeta *obj, const gfloat *data, guint dim);
void ova_classifier_meta_add_label_copy (OvaClassifierMeta *cls, gint class_id, const gchar *label, gfloat probability);
gboolean ova_display_meta_add_rect (OvaDisplayMeta *dm, const OvaDisplayRect *rect);
gboolean ova_display_meta_add_line (OvaDisplayMeta *dm, const OvaDisplayLine *line);
gboolean ova_display_meta_add_arrow (OvaDisplayMeta *dm, const OvaDisplayArrow *arrow);
gboolean ova_display_meta_add_circle (OvaDisplayMeta *dm, const OvaDisplayCircle *circle);
gboolean ova_display_meta_add_text (OvaDisplayMeta *dm, const gchar *text, gfloat x, gfloat y,
    gfloat font_size, const OvaColor *color, const OvaColor *bg_color);
const OvaDisplayRect *ova_display_meta_get_rect (const OvaDisplayMeta *dm, guint i);
const OvaDisplayText *ova_display_meta_get_text (const OvaDisplayMeta *dm, guint i);
const gchar *ova_display_text_get_text (const OvaDisplayText *text);

/* Writing into a batch from a binding: the arguments are copied into metas
 * from the batch's pool and attached; the batch lock is taken. */
OvaObjectMeta *ova_batch_meta_add_object_copy (OvaBatchMeta *batch, guint frame_index, const OvaObjectMeta *obj);
gboolean ova_batch_meta_update_object (OvaBatchMeta *batch, const OvaObjectMeta *obj);
gboolean ova_batch_meta_remove_object (OvaBatchMeta *batch, guint64 object_id);
OvaDisplayMeta *ova_batch_meta_add_display_copy (OvaBatchMeta *batch, guint frame_index, const OvaDisplayMeta *dm);

/* ------------------------------------------------------------ pixel access */

/**
 * ova_frame_meta_get_pixel_buffer:
 * Returns: (transfer none): the buffer holding @frame's memories: @frame->buffer
 * when set, else @batch_buffer.
 */
GstBuffer *ova_frame_meta_get_pixel_buffer (GstBuffer *batch_buffer, const OvaFrameMeta *frame);
/* Returns: (transfer none) (nullable): memory @i (0 <= i < n_mems) of @frame. */
GstMemory *ova_frame_meta_peek_memory (GstBuffer *batch_buffer, const OvaFrameMeta *frame, guint i);
/**
 * ova_frame_meta_pixels_valid:
 * TRUE when the memories @frame names exist and hold at least the bytes its
 * video_info describes, so mapping it cannot read or write past them
 * (metadata from a buggy producer must not crash the pipeline).
 */
gboolean ova_frame_meta_pixels_valid (GstBuffer *batch_buffer, const OvaFrameMeta *frame);

/* A frame of a batch mapped for CPU access (system memory only). */
typedef struct {
  GstVideoInfo info;
  guint8 *data[GST_VIDEO_MAX_PLANES];
  gint stride[GST_VIDEO_MAX_PLANES];
  /* private */
  guint _n;
  GstMemory *_mems[GST_VIDEO_MAX_PLANES];
  GstMapInfo _maps[GST_VIDEO_MAX_PLANES];
} OvaMappedFrame;

/**
 * ova_frame_meta_map: (skip)
 * Maps the pixels of @frame (which must be in system memory) inside @batch_buffer.
 * With GST_MAP_WRITE, @batch_buffer must be writable; memories shared with other
 * buffers are replaced by private copies first (copy-on-write), so drawing never
 * changes another branch's pixels.
 */
gboolean ova_frame_meta_map (GstBuffer *batch_buffer, OvaFrameMeta *frame, OvaMappedFrame *out, GstMapFlags flags);
void ova_mapped_frame_unmap (OvaMappedFrame *m);

/* ----------------------------------------------------------------- caps */

/* The media type of ovamux's output: a buffer whose GstMemory objects are the
 * frames of several sources, described by OvaBatchMeta; with the caps feature
 * memory:CUDAMemory when the frames are CUDA memory. Elements working on
 * batches put OVA_BATCH_CAPS in their pad templates. */
#define OVA_BATCH_MEDIA_TYPE "video/x-ova-batch"
#define OVA_BATCH_CAPS "video/x-ova-batch; video/x-ova-batch(memory:CUDAMemory)"

/* --------------------------------------------------------------- events */

/* Custom downstream event the muxer sends when one source ends while others go
 * on ("ova-stream-eos", field "source-id" (guint)); also "ova-stream-add" when
 * a pad is requested and "ova-stream-remove" when it is released. */
#define OVA_EVENT_STREAM_EOS "ova-stream-eos"
#define OVA_EVENT_STREAM_ADD "ova-stream-add"
#define OVA_EVENT_STREAM_REMOVE "ova-stream-remove"
GstEvent *ova_event_new_stream (const gchar *name, guint source_id);
/* Returns TRUE and sets @source_id if @event is the ova stream event @name. */
gboolean ova_event_parse_stream (GstEvent *event, const gchar *name, guint *source_id);

G_END_DECLS

#endif /* OVA_META_H */
