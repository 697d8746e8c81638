/* ova — ovatrack: multi-object tracking on batched frames. SPDX-License-Identifier: MIT */
/**
 * SECTION:element-ovatrack
 * @title: ovatrack
 *
 * Gives every object of every frame of an #OvaBatchMeta batch a tracker id
 * that stays the same while the object is in view (nvtracker's role). One
 * tracker per source (OvaFrameMeta.source_id), so sources never share ids or
 * state; a source's state is dropped when the muxer announces its end
 * ("ova-stream-eos") or the release of its pad ("ova-stream-remove"), and all
 * state on flush and on stop. Ids are 64-bit and unique per source for the
 * element's lifetime.
 *
 * On frames where the detector ran (OvaFrameMeta.infer_done), each tracked
 * object gets tracker_id, tracker_confidence, track_state (CONFIRMED or
 * TENTATIVE) and rect = the tracker's box (detector_rect keeps the
 * detector's); objects the tracker does not follow keep tracker_id -1.
 * Confirmed tracks missing for at most report-lost frames are added as new
 * objects with track_state PREDICTED. On frames where inference was skipped
 * (infer_done FALSE, the detector's interval), the tracks are moved by their
 * motion model and added as PREDICTED objects (confidence -1).
 *
 * Embeddings (OVA_USER_META_EMBEDDING user metas on the objects, e.g. from a
 * secondary ovainfer running a re-identification network) are used by the
 * reid algorithm.
 *
 * ## Example launch lines
 * Two sources batched, tracked with the ByteTrack sample config (without a
 * detector upstream there is nothing to track, but the pipeline runs):
 * |[
 * gst-launch-1.0 ovamux name=m batch-size=2 ! ovatrack ll-config-file=configs/tracker_bytetrack.txt ! fakesink \
 *   videotestsrc num-buffers=100 ! video/x-raw,width=640,height=480 ! m.sink_0 \
 *   videotestsrc num-buffers=100 ! video/x-raw,width=640,height=480 ! m.sink_1
 * ]|
 * With the detector on the sample video:
 * |[
 * gst-launch-1.0 filesrc location=.cache/assets/vtest.avi ! decodebin ! videoconvert ! m.sink_0 \
 *   ovamux name=m batch-size=1 ! ovainfer config-file-path=configs/yolox_nano.txt \
 *   ! ovatrack ll-config-file=configs/tracker_bytetrack.txt ! fakesink
 * ]|
 */
#include "ova-config.h"
#include "gstovatrack.h"
#include <ova/meta.h>
#include <ova/track.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (gst_ova_track_debug);
#define GST_CAT_DEFAULT gst_ova_track_debug

#define DEFAULT_ALGORITHM OVA_TRACKER_BYTETRACK

enum {
  PROP_0,
  PROP_LL_CONFIG_FILE,
  PROP_LL_LIB_FILE,
  PROP_TRACKER_WIDTH,
  PROP_TRACKER_HEIGHT,
  PROP_ALGORITHM,
};

typedef struct {
  OvaTracker *tracker;
} SourceState;

struct _GstOvaTrack {
  GstBaseTransform parent;

  /* properties (object lock) */
  gchar *config_file;
  gchar *lib_file;
  guint tracker_width, tracker_height;
  OvaTrackerAlgorithm algorithm;
  gboolean algorithm_set;

  /* streaming state (streaming thread) */
  OvaTrackerConfig cfg;
  GHashTable *sources;   /* source_id -> SourceState* */
  GHashTable *next_ids;  /* source_id -> gint64*: ids stay unique after a source restarts */
  GHashTable *labels;    /* class_id -> label (gchar*) seen on detections */
  GArray *dets;          /* OvaTrackerDetection */
  GPtrArray *objs;       /* OvaObjectMeta* behind dets */
};

G_DEFINE_TYPE (GstOvaTrack, gst_ova_track, GST_TYPE_BASE_TRANSFORM);

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

GType
gst_ova_track_algorithm_get_type (void)
{
  static GType type = 0;
  static const GEnumValue values[] = {
    { OVA_TRACKER_IOU, "IoU matching to each track's last box, no motion model", "iou" },
    { OVA_TRACKER_SORT, "SORT: Kalman constant velocity + optimal IoU assignment", "sort" },
    { OVA_TRACKER_BYTETRACK, "ByteTrack: SORT + second stage for low-confidence boxes", "bytetrack" },
    { OVA_TRACKER_REID, "ByteTrack + appearance (embeddings), DeepSORT/BoT-SORT style", "reid" },
    { 0, NULL, NULL },
  };
  if (g_once_init_enter (&type)) {
    GType t = g_enum_register_static ("GstOvaTrackAlgorithm", values);
    g_once_init_leave (&type, t);
  }
  return type;
}

static void
source_state_free (gpointer p)
{
  SourceState *s = p;
  ova_tracker_free (s->tracker);
  g_free (s);
}

static void
drop_source (GstOvaTrack *self, guint source_id)
{
  SourceState *s = g_hash_table_lookup (self->sources, GUINT_TO_POINTER (source_id));
  gint64 *next;
  if (!s) return;
  next = g_new (gint64, 1);
  *next = ova_tracker_get_next_id (s->tracker);
  g_hash_table_replace (self->next_ids, GUINT_TO_POINTER (source_id), next);
  g_hash_table_remove (self->sources, GUINT_TO_POINTER (source_id));
  GST_DEBUG_OBJECT (self, "dropped the tracks of source %u", source_id);
}

static void
drop_all (GstOvaTrack *self)
{
  GHashTableIter it;
  gpointer key;
  GList *ids = NULL;
  g_hash_table_iter_init (&it, self->sources);
  while (g_hash_table_iter_next (&it, &key, NULL)) ids = g_list_prepend (ids, key);
  for (GList *l = ids; l; l = l->next) drop_source (self, GPOINTER_TO_UINT (l->data));
  g_list_free (ids);
}

static SourceState *
get_source (GstOvaTrack *self, guint source_id)
{
  SourceState *s = g_hash_table_lookup (self->sources, GUINT_TO_POINTER (source_id));
  gint64 *next;
  if (s) return s;
  s = g_new0 (SourceState, 1);
  s->tracker = ova_tracker_new (&self->cfg);
  next = g_hash_table_lookup (self->next_ids, GUINT_TO_POINTER (source_id));
  if (next)
    ova_tracker_set_next_id (s->tracker, *next);
  g_hash_table_insert (self->sources, GUINT_TO_POINTER (source_id), s);
  return s;
}

static gboolean
gst_ova_track_start (GstBaseTransform *trans)
{
  GstOvaTrack *self = GST_OVA_TRACK (trans);
  OvaTrackerConfig cfg;
  GError *err = NULL;
  gchar *file, *lib;
  OvaTrackerAlgorithm alg;
  gboolean alg_set;

  GST_OBJECT_LOCK (self);
  file = g_strdup (self->config_file);
  lib = g_strdup (self->lib_file);
  alg = self->algorithm;
  alg_set = self->algorithm_set;
  GST_OBJECT_UNLOCK (self);

  if (lib && *lib)
    GST_ELEMENT_WARNING (self, RESOURCE, SETTINGS, ("ll-lib-file is ignored: ova's trackers are built in"),
        ("ll-lib-file=%s", lib));
  ova_tracker_config_init (&cfg, alg);
  if (file && *file) {
    if (!ova_tracker_config_load (&cfg, file, &err)) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("Bad tracker config: %s", err->message), (NULL));
      g_error_free (err);
      g_free (file);
      g_free (lib);
      return FALSE;
    }
    if (alg_set && cfg.algorithm != alg) {
      GST_INFO_OBJECT (self, "algorithm property %s overrides %s's %s", ova_tracker_algorithm_to_string (alg),
          file, ova_tracker_algorithm_to_string (cfg.algorithm));
      cfg.algorithm = alg;
    }
  }
  self->cfg = cfg;
  GST_INFO_OBJECT (self, "tracker %s (config %s)", ova_tracker_algorithm_to_string (cfg.algorithm),
      file ? file : "defaults");
  g_free (file);
  g_free (lib);
  return TRUE;
}

static gboolean
gst_ova_track_stop (GstBaseTransform *trans)
{
  GstOvaTrack *self = GST_OVA_TRACK (trans);
  g_hash_table_remove_all (self->sources);
  g_hash_table_remove_all (self->next_ids);
  g_hash_table_remove_all (self->labels);
  return TRUE;
}

static gboolean
gst_ova_track_sink_event (GstBaseTransform *trans, GstEvent *event)
{
  GstOvaTrack *self = GST_OVA_TRACK (trans);
  guint source_id;
  if (ova_event_parse_stream (event, OVA_EVENT_STREAM_EOS, &source_id) ||
      ova_event_parse_stream (event, OVA_EVENT_STREAM_REMOVE, &source_id))
    drop_source (self, source_id);
  else if (GST_EVENT_TYPE (event) == GST_EVENT_FLUSH_STOP)
    drop_all (self);
  return GST_BASE_TRANSFORM_CLASS (gst_ova_track_parent_class)->sink_event (trans, event);
}

/* Boxes go to the tracker in the tracker-width x tracker-height plane when set. */
typedef struct { gfloat sx, sy; } Scale;

static OvaRect
to_tracker (const Scale *s, const OvaRect *r)
{
  OvaRect o = { r->left * s->sx, r->top * s->sy, r->width * s->sx, r->height * s->sy };
  return o;
}

static OvaRect
from_tracker (const Scale *s, const OvaRect *r)
{
  OvaRect o = { r->left / s->sx, r->top / s->sy, r->width / s->sx, r->height / s->sy };
  return o;
}

static void
add_predicted (GstOvaTrack *self, OvaBatchMeta *batch, OvaFrameMeta *frame, const Scale *sc,
    const OvaTrackerOutput *o)
{
  OvaObjectMeta *obj = ova_batch_meta_acquire_object (batch);
  const gchar *label = g_hash_table_lookup (self->labels, GINT_TO_POINTER (o->class_id));
  obj->class_id = o->class_id;
  if (label)
    ova_object_meta_set_label (obj, label);
  obj->confidence = -1.f;
  obj->rect = from_tracker (sc, &o->rect);
  memset (&obj->detector_rect, 0, sizeof obj->detector_rect);
  obj->tracker_id = o->id;
  obj->tracker_confidence = o->confidence;
  obj->track_state = OVA_TRACK_PREDICTED;
  ova_frame_meta_add_object (frame, obj);
}

static void
track_frame (GstOvaTrack *self, OvaBatchMeta *batch, OvaFrameMeta *frame, guint tw, guint th)
{
  SourceState *src = get_source (self, frame->source_id);
  const OvaTrackerOutput *out;
  Scale sc = { 1.f, 1.f };
  guint n_out, n_objs;

  if (tw && frame->source_width) sc.sx = (gfloat) tw / frame->source_width;
  if (th && frame->source_height) sc.sy = (gfloat) th / frame->source_height;

  if (!frame->infer_done) {
    n_out = ova_tracker_predict (src->tracker, &out);
    for (guint i = 0; i < n_out; i++)
      add_predicted (self, batch, frame, &sc, &out[i]);
    return;
  }

  g_array_set_size (self->dets, 0);
  g_ptr_array_set_size (self->objs, 0);
  n_objs = ova_frame_meta_get_n_objects (frame);
  for (guint i = 0; i < n_objs; i++) {
    OvaObjectMeta *obj = ova_frame_meta_get_object (frame, i);
    OvaTrackerDetection d;
    OvaUserMeta *um;
    if (obj->track_state == OVA_TRACK_PREDICTED)
      continue; /* not a detection */
    d.rect = to_tracker (&sc, &obj->rect);
    d.class_id = obj->class_id;
    d.confidence = obj->confidence;
    d.embedding = NULL;
    d.embedding_dim = 0;
    um = self->cfg.algorithm == OVA_TRACKER_REID ? ova_object_meta_find_user (obj, OVA_USER_META_EMBEDDING) : NULL;
    if (um) {
      const OvaEmbedding *e = ova_user_meta_get_embedding (um);
      if (e && e->dim && e->data) {
        d.embedding = e->data;
        d.embedding_dim = e->dim;
      }
    }
    if (obj->label[0] && !g_hash_table_contains (self->labels, GINT_TO_POINTER (obj->class_id)))
      g_hash_table_insert (self->labels, GINT_TO_POINTER (obj->class_id), g_strdup (obj->label));
    obj->tracker_id = OVA_UNTRACKED;
    obj->track_state = OVA_TRACK_NONE;
    g_array_append_val (self->dets, d);
    g_ptr_array_add (self->objs, obj);
  }

  n_out = ova_tracker_update (src->tracker, (const OvaTrackerDetection *) self->dets->data, self->dets->len, &out);
  for (guint i = 0; i < n_out; i++) {
    const OvaTrackerOutput *o = &out[i];
    OvaObjectMeta *obj;
    if (o->detection_index < 0) {
      add_predicted (self, batch, frame, &sc, o);
      continue;
    }
    obj = self->objs->pdata[o->detection_index];
    if (obj->detector_rect.width <= 0 && obj->detector_rect.height <= 0)
      obj->detector_rect = obj->rect;
    obj->rect = from_tracker (&sc, &o->rect);
    obj->tracker_id = o->id;
    obj->tracker_confidence = o->confidence;
    obj->track_state = o->state;
  }
}

static GstFlowReturn
gst_ova_track_transform_ip (GstBaseTransform *trans, GstBuffer *buf)
{
  GstOvaTrack *self = GST_OVA_TRACK (trans);
  OvaBatchMeta *batch = ova_buffer_get_batch_meta (buf);
  guint tw, th, n;

  if (!batch) {
    GST_LOG_OBJECT (self, "buffer without batch meta, passed on untouched");
    return GST_FLOW_OK;
  }
  GST_OBJECT_LOCK (self);
  tw = self->tracker_width;
  th = self->tracker_height;
  GST_OBJECT_UNLOCK (self);

  ova_batch_meta_lock (batch);
  ova_batch_meta_latency_enter (batch, "ovatrack");
  n = ova_batch_meta_get_n_frames (batch);
  for (guint i = 0; i < n; i++)
    track_frame (self, batch, ova_batch_meta_get_frame (batch, i), tw, th);
  ova_batch_meta_latency_exit (batch, "ovatrack");
  ova_batch_meta_unlock (batch);
  return GST_FLOW_OK;
}

static void
gst_ova_track_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstOvaTrack *self = GST_OVA_TRACK (object);
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LL_CONFIG_FILE:
      g_free (self->config_file);
      self->config_file = g_value_dup_string (value);
      break;
    case PROP_LL_LIB_FILE:
      g_free (self->lib_file);
      self->lib_file = g_value_dup_string (value);
      break;
    case PROP_TRACKER_WIDTH:
      self->tracker_width = g_value_get_uint (value);
      break;
    case PROP_TRACKER_HEIGHT:
      self->tracker_height = g_value_get_uint (value);
      break;
    case PROP_ALGORITHM:
      self->algorithm = g_value_get_enum (value);
      self->algorithm_set = TRUE;
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_ova_track_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstOvaTrack *self = GST_OVA_TRACK (object);
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_LL_CONFIG_FILE: g_value_set_string (value, self->config_file); break;
    case PROP_LL_LIB_FILE: g_value_set_string (value, self->lib_file); break;
    case PROP_TRACKER_WIDTH: g_value_set_uint (value, self->tracker_width); break;
    case PROP_TRACKER_HEIGHT: g_value_set_uint (value, self->tracker_height); break;
    case PROP_ALGORITHM: g_value_set_enum (value, self->algorithm); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
  GST_OBJECT_UNLOCK (self);
}

static void
gst_ova_track_finalize (GObject *object)
{
  GstOvaTrack *self = GST_OVA_TRACK (object);
  g_free (self->config_file);
  g_free (self->lib_file);
  g_hash_table_unref (self->sources);
  g_hash_table_unref (self->next_ids);
  g_hash_table_unref (self->labels);
  g_array_unref (self->dets);
  g_ptr_array_unref (self->objs);
  G_OBJECT_CLASS (gst_ova_track_parent_class)->finalize (object);
}

static void
gst_ova_track_class_init (GstOvaTrackClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  gobject_class->set_property = gst_ova_track_set_property;
  gobject_class->get_property = gst_ova_track_get_property;
  gobject_class->finalize = gst_ova_track_finalize;

  g_object_class_install_property (gobject_class, PROP_LL_CONFIG_FILE,
      g_param_spec_string ("ll-config-file", "Tracker config file",
          "Tracker config (GKeyFile, group [tracker]: algorithm and its parameters; see configs/tracker_*.txt). "
          "Read when the element starts; unset: the defaults of the algorithm property",
          NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_LL_LIB_FILE,
      g_param_spec_string ("ll-lib-file", "Low-level library",
          "Accepted for DeepStream config compatibility and ignored (with a warning): the trackers are built in",
          NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (gobject_class, PROP_TRACKER_WIDTH,
      g_param_spec_uint ("tracker-width", "Tracker width",
          "Width of the plane the tracker works in: boxes are scaled from source pixels into "
          "tracker-width x tracker-height and back (0: source pixels)",
          0, 16384, 0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_TRACKER_HEIGHT,
      g_param_spec_uint ("tracker-height", "Tracker height",
          "Height of the plane the tracker works in (0: source pixels); see tracker-width",
          0, 16384, 0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_ALGORITHM,
      g_param_spec_enum ("algorithm", "Algorithm",
          "Tracking algorithm. Set explicitly, it overrides the algorithm of ll-config-file "
          "(whose other keys still apply)",
          GST_TYPE_OVA_TRACK_ALGORITHM, DEFAULT_ALGORITHM,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));

  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "ova multi-object tracker", "Filter/Analyzer/Video",
      "Gives the objects of batched frames (OvaBatchMeta) ids that persist over time: IOU, SORT, ByteTrack "
      "or appearance-assisted tracking, one tracker per source",
      "ova developers");

  trans_class->start = GST_DEBUG_FUNCPTR (gst_ova_track_start);
  trans_class->stop = GST_DEBUG_FUNCPTR (gst_ova_track_stop);
  trans_class->sink_event = GST_DEBUG_FUNCPTR (gst_ova_track_sink_event);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR (gst_ova_track_transform_ip);
  trans_class->passthrough_on_same_caps = FALSE;
  gst_type_mark_as_plugin_api (GST_TYPE_OVA_TRACK_ALGORITHM, 0);
  GST_DEBUG_CATEGORY_INIT (gst_ova_track_debug, "ovatrack", 0, "ova multi-object tracker");
}

static void
gst_ova_track_init (GstOvaTrack *self)
{
  self->algorithm = DEFAULT_ALGORITHM;
  self->sources = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, source_state_free);
  self->next_ids = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  self->labels = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  self->dets = g_array_new (FALSE, FALSE, sizeof (OvaTrackerDetection));
  self->objs = g_ptr_array_new ();
  ova_tracker_config_init (&self->cfg, DEFAULT_ALGORITHM);
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
}
