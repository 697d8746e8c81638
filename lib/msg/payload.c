/* ova — metadata → JSON payloads (DeepStream full/minimal schemas, ova compact)
 * and entry/exit events from tracker ids.
 * SPDX-License-Identifier: MIT */
#include <ova/msg.h>
#include <json-glib/json-glib.h>
#include <string.h>

typedef struct {
  guint64 last_seen;  /* converted-frame counter of the source */
  gint class_id;
  gchar label[OVA_MAX_LABEL_SIZE];
  gfloat confidence;
  OvaRect rect;
  guint component_id;
  guint64 frame_num;
} Track;

typedef struct {
  guint64 seen;       /* frames offered */
  guint64 converted;  /* frames converted */
  GHashTable *tracks; /* gint64* → Track* */
  guint64 last_frame_num;
  GstClockTime last_pts;
  guint64 last_ntp;
} SourceState;

struct _OvaMsgConverter {
  OvaMsgConvConfig *cfg;
  OvaPayloadType type;
  guint comp_id;
  guint frame_interval;
  guint leave_frames;
  GHashTable *sources; /* source id → SourceState* */
};

const gchar *
ova_msg_event_type_name (OvaMsgEventType t)
{
  switch (t) {
    case OVA_MSG_EVENT_ENTRY: return "entry";
    case OVA_MSG_EVENT_EXIT: return "exit";
    case OVA_MSG_EVENT_MOVING: return "moving";
    case OVA_MSG_EVENT_DETECTED: return "detected";
  }
  return "unknown";
}

static void
source_free (gpointer p)
{
  SourceState *s = p;
  g_hash_table_unref (s->tracks);
  g_free (s);
}

OvaMsgConverter *
ova_msg_converter_new (OvaMsgConvConfig *cfg, OvaPayloadType type, guint comp_id,
                       guint frame_interval)
{
  OvaMsgConverter *c = g_new0 (OvaMsgConverter, 1);
  c->cfg = cfg;
  c->type = type;
  c->comp_id = comp_id;
  c->frame_interval = frame_interval ? frame_interval : 1;
  c->leave_frames = 10;
  c->sources = g_hash_table_new_full (NULL, NULL, NULL, source_free);
  return c;
}

void
ova_msg_converter_free (OvaMsgConverter *c)
{
  if (!c)
    return;
  ova_msg_conv_config_free (c->cfg);
  g_hash_table_unref (c->sources);
  g_free (c);
}

void
ova_msg_converter_set_leave_frames (OvaMsgConverter *c, guint frames)
{
  c->leave_frames = MAX (frames, 1);
}

static SourceState *
source_get (OvaMsgConverter *c, guint id)
{
  SourceState *s = g_hash_table_lookup (c->sources, GUINT_TO_POINTER (id));
  if (!s) {
    s = g_new0 (SourceState, 1);
    s->tracks = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
    g_hash_table_insert (c->sources, GUINT_TO_POINTER (id), s);
  }
  return s;
}

/* ISO 8601 UTC with milliseconds, as DeepStream writes "@timestamp". */
static gchar *
iso_timestamp (guint64 ntp_ns)
{
  gint64 us = ntp_ns ? (gint64) (ntp_ns / 1000) : g_get_real_time ();
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (us / G_USEC_PER_SEC);
  if (!dt)
    return g_strdup ("1970-01-01T00:00:00.000Z");
  g_autofree gchar *base = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
  return g_strdup_printf ("%s.%03dZ", base, (gint) ((us % G_USEC_PER_SEC) / 1000));
}

static gchar *
builder_to_string (JsonBuilder *b)
{
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

static void
add_str (JsonBuilder *b, const gchar *key, const gchar *v)
{
  json_builder_set_member_name (b, key);
  json_builder_add_string_value (b, v ? v : "");
}

static void
add_dbl (JsonBuilder *b, const gchar *key, gdouble v)
{
  json_builder_set_member_name (b, key);
  json_builder_add_double_value (b, v);
}

static void
add_location (JsonBuilder *b, const gdouble loc[3])
{
  json_builder_set_member_name (b, "location");
  json_builder_begin_object (b);
  add_dbl (b, "lat", loc ? loc[0] : 0);
  add_dbl (b, "lon", loc ? loc[1] : 0);
  add_dbl (b, "alt", loc ? loc[2] : 0);
  json_builder_end_object (b);
}

static void
add_coordinate (JsonBuilder *b, const gdouble co[3])
{
  json_builder_set_member_name (b, "coordinate");
  json_builder_begin_object (b);
  add_dbl (b, "x", co ? co[0] : 0);
  add_dbl (b, "y", co ? co[1] : 0);
  add_dbl (b, "z", co ? co[2] : 0);
  json_builder_end_object (b);
}

static const gchar *
sensor_id (OvaMsgConverter *c, guint source_id, gchar *buf, gsize n)
{
  const OvaMsgSensor *s = ova_msg_conv_config_sensor (c->cfg, source_id);
  if (s && s->id)
    return s->id;
  g_snprintf (buf, n, "%u", source_id);
  return buf;
}

/* DeepStream's object type keys: person / vehicle / face, else the label itself. */
static const gchar *
object_type_key (const gchar *label)
{
  static const gchar *const vehicles[] = { "car", "truck", "bus", "motorcycle", "motorbike",
                                           "bicycle", "vehicle", "train", "boat", NULL };
  if (!g_ascii_strcasecmp (label, "person") || !g_ascii_strcasecmp (label, "people"))
    return "person";
  if (!g_ascii_strcasecmp (label, "face"))
    return "face";
  for (guint i = 0; vehicles[i]; i++)
    if (!g_ascii_strcasecmp (label, vehicles[i]))
      return "vehicle";
  return NULL;
}

typedef struct {
  guint source_id;
  guint64 frame_num;
  guint64 ntp;
  gint64 tracker_id;
  gint class_id;
  const gchar *label;
  gfloat confidence;
  OvaRect rect;
  GPtrArray *classifiers; /* (nullable) */
} ObjView;

static gchar *
full_payload (OvaMsgConverter *c, const ObjView *o, OvaMsgEventType evt)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree gchar *mid = g_uuid_string_random ();
  g_autofree gchar *eid = g_uuid_string_random ();
  g_autofree gchar *ts = iso_timestamp (o->ntp);
  gchar sbuf[32];
  const OvaMsgSensor *sensor = ova_msg_conv_config_sensor (c->cfg, o->source_id);
  const OvaMsgPlace *place = ova_msg_conv_config_place (c->cfg, o->source_id);
  const OvaMsgAnalytics *an = ova_msg_conv_config_analytics (c->cfg, o->source_id);

  json_builder_begin_object (b);
  add_str (b, "messageid", mid);
  add_str (b, "mdsversion", "1.0");
  add_str (b, "@timestamp", ts);

  json_builder_set_member_name (b, "place");
  json_builder_begin_object (b);
  add_str (b, "id", place ? place->id : NULL);
  add_str (b, "name", place ? place->name : NULL);
  add_str (b, "type", place ? place->type : NULL);
  add_location (b, place ? place->location : NULL);
  if (place && (place->sub_field[0] || place->sub_field[1] || place->sub_field[2])) {
    json_builder_set_member_name (b, "entrance");
    json_builder_begin_object (b);
    add_str (b, "name", place->sub_field[0]);
    add_str (b, "lane", place->sub_field[1]);
    add_str (b, "level", place->sub_field[2]);
    add_coordinate (b, place->coordinate);
    json_builder_end_object (b);
  }
  json_builder_end_object (b);

  json_builder_set_member_name (b, "sensor");
  json_builder_begin_object (b);
  add_str (b, "id", sensor_id (c, o->source_id, sbuf, sizeof sbuf));
  add_str (b, "type", sensor ? sensor->type : "Camera");
  add_str (b, "description", sensor ? sensor->description : NULL);
  add_location (b, sensor ? sensor->location : NULL);
  add_coordinate (b, sensor ? sensor->coordinate : NULL);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "analyticsModule");
  json_builder_begin_object (b);
  add_str (b, "id", an ? an->id : NULL);
  add_str (b, "description", an ? an->description : NULL);
  add_str (b, "source", an ? an->source : "ova");
  add_str (b, "version", an ? an->version : OVA_MSGAPI_VERSION);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "object");
  json_builder_begin_object (b);
  gchar idbuf[32];
  g_snprintf (idbuf, sizeof idbuf, "%" G_GINT64_FORMAT, o->tracker_id);
  add_str (b, "id", idbuf);
  add_dbl (b, "speed", 0);
  add_dbl (b, "direction", 0);
  add_dbl (b, "orientation", 0);
  const gchar *key = object_type_key (o->label);
  json_builder_set_member_name (b, key ? key : (*o->label ? o->label : "object"));
  json_builder_begin_object (b);
  if (key && !strcmp (key, "vehicle"))
    add_str (b, "type", o->label);
  add_dbl (b, "confidence", o->confidence);
  if (o->classifiers && o->classifiers->len) {
    /* Secondary classifiers: their best label each, with the classifier's id. */
    json_builder_set_member_name (b, "attributes");
    json_builder_begin_array (b);
    for (guint i = 0; i < o->classifiers->len; i++) {
      OvaClassifierMeta *cm = g_ptr_array_index (o->classifiers, i);
      for (guint j = 0; cm->labels && j < cm->labels->len; j++) {
        OvaLabelInfo *li = g_ptr_array_index (cm->labels, j);
        json_builder_begin_object (b);
        json_builder_set_member_name (b, "componentId");
        json_builder_add_int_value (b, cm->component_id);
        json_builder_set_member_name (b, "classId");
        json_builder_add_int_value (b, li->class_id);
        add_str (b, "label", li->label);
        add_dbl (b, "probability", li->probability);
        json_builder_end_object (b);
      }
    }
    json_builder_end_array (b);
  }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "bbox");
  json_builder_begin_object (b);
  add_dbl (b, "topleftx", o->rect.left);
  add_dbl (b, "toplefty", o->rect.top);
  add_dbl (b, "bottomrightx", o->rect.left + o->rect.width);
  add_dbl (b, "bottomrighty", o->rect.top + o->rect.height);
  json_builder_end_object (b);
  add_location (b, NULL);
  add_coordinate (b, NULL);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "event");
  json_builder_begin_object (b);
  add_str (b, "id", eid);
  add_str (b, "type", ova_msg_event_type_name (evt));
  json_builder_end_object (b);
  add_str (b, "videoPath", "");
  json_builder_set_member_name (b, "frameNum");
  json_builder_add_int_value (b, (gint64) o->frame_num);
  json_builder_end_object (b);
  return builder_to_string (b);
}

static gchar *
minimal_payload (OvaMsgConverter *c, OvaFrameMeta *f, GPtrArray *objs)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree gchar *ts = iso_timestamp (f->ntp_timestamp);
  gchar sbuf[32], idbuf[32];
  json_builder_begin_object (b);
  add_str (b, "version", "4.0");
  g_snprintf (idbuf, sizeof idbuf, "%" G_GUINT64_FORMAT, f->frame_num);
  add_str (b, "id", idbuf);
  add_str (b, "@timestamp", ts);
  add_str (b, "sensorId", sensor_id (c, f->source_id, sbuf, sizeof sbuf));
  json_builder_set_member_name (b, "objects");
  json_builder_begin_array (b);
  for (guint i = 0; i < objs->len; i++) {
    OvaObjectMeta *o = g_ptr_array_index (objs, i);
    g_autofree gchar *s = g_strdup_printf ("%" G_GINT64_FORMAT "|%g|%g|%g|%g|%s", o->tracker_id,
                                           o->rect.left, o->rect.top, o->rect.left + o->rect.width,
                                           o->rect.top + o->rect.height, o->label);
    json_builder_add_string_value (b, s);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return builder_to_string (b);
}

static void
add_box (JsonBuilder *b, const OvaRect *r)
{
  json_builder_set_member_name (b, "box");
  json_builder_begin_array (b);
  json_builder_add_double_value (b, r->left);
  json_builder_add_double_value (b, r->top);
  json_builder_add_double_value (b, r->width);
  json_builder_add_double_value (b, r->height);
  json_builder_end_array (b);
}

typedef struct {
  OvaMsgEventType type;
  gint64 id;
} EventRef;

static gchar *
compact_payload (OvaMsgConverter *c, guint source_id, guint64 frame_num, GstClockTime pts,
                 guint64 ntp, GPtrArray *objs, GArray *events)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  gchar sbuf[32];
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "v");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "src");
  json_builder_add_int_value (b, source_id);
  add_str (b, "sensor", sensor_id (c, source_id, sbuf, sizeof sbuf));
  json_builder_set_member_name (b, "frame");
  json_builder_add_int_value (b, (gint64) frame_num);
  json_builder_set_member_name (b, "pts");
  json_builder_add_int_value (b, GST_CLOCK_TIME_IS_VALID (pts) ? (gint64) pts : -1);
  json_builder_set_member_name (b, "ts");
  json_builder_add_int_value (b, (gint64) ntp);
  json_builder_set_member_name (b, "objs");
  json_builder_begin_array (b);
  for (guint i = 0; objs && i < objs->len; i++) {
    OvaObjectMeta *o = g_ptr_array_index (objs, i);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "id");
    json_builder_add_int_value (b, o->tracker_id);
    json_builder_set_member_name (b, "cls");
    json_builder_add_int_value (b, o->class_id);
    add_str (b, "label", o->label);
    add_dbl (b, "conf", o->confidence);
    add_box (b, &o->rect);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "events");
  json_builder_begin_array (b);
  for (guint i = 0; events && i < events->len; i++) {
    EventRef *e = &g_array_index (events, EventRef, i);
    json_builder_begin_object (b);
    add_str (b, "type", ova_msg_event_type_name (e->type));
    json_builder_set_member_name (b, "id");
    json_builder_add_int_value (b, e->id);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return builder_to_string (b);
}

static ObjView
view_of_track (guint source_id, gint64 id, const Track *t, guint64 ntp)
{
  ObjView v = { source_id, t->frame_num, ntp, id, t->class_id, t->label, t->confidence,
                t->rect, NULL };
  return v;
}

static gint
cmp_uint (gconstpointer a, gconstpointer b)
{
  guint x = *(const guint *) a, y = *(const guint *) b;
  return x < y ? -1 : x > y;
}

static gint
cmp_i64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

/* Exit events for tracks absent for leave_frames converted frames (or all, when @all). */
static void
collect_exits (OvaMsgConverter *c, guint source_id, SourceState *s, gboolean all, GArray *events,
               GPtrArray *out, guint *n)
{
  GHashTableIter it;
  gpointer k, v;
  /* Sorted for a deterministic order of the exit messages. */
  g_autoptr (GArray) gone = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_hash_table_iter_init (&it, s->tracks);
  while (g_hash_table_iter_next (&it, &k, &v)) {
    Track *t = v;
    if (all || s->converted - t->last_seen >= c->leave_frames)
      g_array_append_val (gone, *(gint64 *) k);
  }
  g_array_sort (gone, cmp_i64);
  for (guint i = 0; i < gone->len; i++) {
    gint64 id = g_array_index (gone, gint64, i);
    Track *t = g_hash_table_lookup (s->tracks, &id);
    if (c->type == OVA_PAYLOAD_DEEPSTREAM) {
      ObjView ov = view_of_track (source_id, id, t, s->last_ntp);
      g_ptr_array_add (out, full_payload (c, &ov, OVA_MSG_EVENT_EXIT));
      (*n)++;
    }
    if (events) {
      EventRef e = { OVA_MSG_EVENT_EXIT, id };
      g_array_append_val (events, e);
    }
    g_hash_table_remove (s->tracks, &id);
  }
}

guint
ova_msg_converter_convert_frame (OvaMsgConverter *c, OvaFrameMeta *f, GPtrArray *out)
{
  SourceState *s = source_get (c, f->source_id);
  if (s->seen++ % c->frame_interval != 0)
    return 0;
  s->converted++;
  s->last_frame_num = f->frame_num;
  s->last_pts = f->buf_pts;
  s->last_ntp = f->ntp_timestamp;

  guint n = 0;
  g_autoptr (GPtrArray) objs = g_ptr_array_new ();
  g_autoptr (GArray) events = g_array_new (FALSE, FALSE, sizeof (EventRef));
  guint nobj = ova_frame_meta_get_n_objects (f);
  for (guint i = 0; i < nobj; i++) {
    OvaObjectMeta *o = ova_frame_meta_get_object (f, i);
    if (c->comp_id && o->component_id != c->comp_id)
      continue;
    g_ptr_array_add (objs, o);
  }

  for (guint i = 0; i < objs->len; i++) {
    OvaObjectMeta *o = g_ptr_array_index (objs, i);
    OvaMsgEventType evt = OVA_MSG_EVENT_DETECTED;
    if (o->tracker_id != OVA_UNTRACKED) {
      Track *t = g_hash_table_lookup (s->tracks, &o->tracker_id);
      if (!t) {
        t = g_new0 (Track, 1);
        g_hash_table_insert (s->tracks, g_memdup2 (&o->tracker_id, sizeof (gint64)), t);
        evt = OVA_MSG_EVENT_ENTRY;
        EventRef e = { OVA_MSG_EVENT_ENTRY, o->tracker_id };
        g_array_append_val (events, e);
      } else {
        evt = OVA_MSG_EVENT_MOVING;
      }
      t->last_seen = s->converted;
      t->class_id = o->class_id;
      g_strlcpy (t->label, o->label, sizeof t->label);
      t->confidence = o->confidence;
      t->rect = o->rect;
      t->component_id = o->component_id;
      t->frame_num = f->frame_num;
    }
    if (c->type == OVA_PAYLOAD_DEEPSTREAM) {
      ObjView ov = { f->source_id, f->frame_num, f->ntp_timestamp, o->tracker_id, o->class_id,
                     o->label, o->confidence, o->rect, o->classifiers };
      g_ptr_array_add (out, full_payload (c, &ov, evt));
      n++;
    }
  }
  collect_exits (c, f->source_id, s, FALSE, events, out, &n);

  if (c->type == OVA_PAYLOAD_DEEPSTREAM_MINIMAL) {
    g_ptr_array_add (out, minimal_payload (c, f, objs));
    n++;
  } else if (c->type == OVA_PAYLOAD_OVA_COMPACT) {
    g_ptr_array_add (out, compact_payload (c, f->source_id, f->frame_num, f->buf_pts,
                                           f->ntp_timestamp, objs, events));
    n++;
  }
  return n;
}

guint
ova_msg_converter_source_ended (OvaMsgConverter *c, guint source_id, GPtrArray *out)
{
  SourceState *s = g_hash_table_lookup (c->sources, GUINT_TO_POINTER (source_id));
  if (!s)
    return 0;
  guint n = 0;
  g_autoptr (GArray) events = g_array_new (FALSE, FALSE, sizeof (EventRef));
  gboolean had = g_hash_table_size (s->tracks) > 0;
  collect_exits (c, source_id, s, TRUE, events, out, &n);
  if (had && c->type == OVA_PAYLOAD_OVA_COMPACT) {
    g_ptr_array_add (out, compact_payload (c, source_id, s->last_frame_num, s->last_pts,
                                           s->last_ntp, NULL, events));
    n++;
  }
  g_hash_table_remove (c->sources, GUINT_TO_POINTER (source_id));
  return n;
}

guint
ova_msg_converter_all_ended (OvaMsgConverter *c, GPtrArray *out, GArray *sources)
{
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint));
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init (&it, c->sources);
  while (g_hash_table_iter_next (&it, &k, NULL)) {
    guint id = GPOINTER_TO_UINT (k);
    g_array_append_val (ids, id);
  }
  g_array_sort (ids, (GCompareFunc) cmp_uint);
  guint n = 0;
  for (guint i = 0; i < ids->len; i++) {
    guint id = g_array_index (ids, guint, i);
    guint m = ova_msg_converter_source_ended (c, id, out);
    for (guint j = 0; sources && j < m; j++)
      g_array_append_val (sources, id);
    n += m;
  }
  return n;
}
