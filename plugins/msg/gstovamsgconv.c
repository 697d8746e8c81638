/* ova — ovamsgconv. SPDX-License-Identifier: MIT */
/**
 * SECTION:element-ovamsgconv
 * @title: ovamsgconv
 *
 * Turns the batch metadata (#OvaBatchMeta) into JSON payloads and attaches
 * them to the buffer as #OvaMsgPayloadMeta, for ovamsgbroker — DeepStream's
 * nvmsgconv. `payload-type` 0 is DeepStream's full schema (one message per
 * object, with sensor, place, analyticsModule, object and event), 1 its
 * minimal schema (one message per frame, objects as
 * "trackerId|left|top|right|bottom|label"), 2 ova's compact JSON line per
 * frame. Sensor, place and analytics descriptions per source come from the
 * msg2p-style `config` file. Entry and exit events come from tracker ids: an
 * id seen for the first time enters, an id absent for `leave-frames`
 * converted frames exits; at the end of the stream (or of one source) the
 * objects still present exit too.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=100 ! video/x-raw,width=640,height=480 ! m.sink_0 \
 *   ovamux name=m batch-size=1 ! \
 *   ovamsgconv payload-type=2 config=configs/msg/msgconv.txt ! \
 *   ovamsgbroker proto-lib=mqtt conn-str="127.0.0.1;1883;ova/events"
 * ]|
 * With a detector and a tracker in front (`… ! ovainfer … ! ovatrack ! ovamsgconv …`)
 * the payloads carry the objects and their entry/exit events.
 */
#include "gstovamsgconv.h"
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (ova_msg_conv_debug);
#define GST_CAT_DEFAULT ova_msg_conv_debug

enum {
  PROP_0,
  PROP_CONFIG,
  PROP_PAYLOAD_TYPE,
  PROP_FRAME_INTERVAL,
  PROP_COMP_ID,
  PROP_MSG2P_LIB,
  PROP_TOPIC,
  PROP_LEAVE_FRAMES,
};

struct _GstOvaMsgConv {
  GstBaseTransform parent;
  gchar *config, *msg2p_lib, *topic;
  guint payload_type, frame_interval, comp_id, leave_frames;
  OvaMsgConverter *conv;
  GPtrArray *pending; /* exit payloads of ended sources, for the next buffer */
  GArray *pending_src;
};

G_DEFINE_TYPE (GstOvaMsgConv, gst_ova_msg_conv, GST_TYPE_BASE_TRANSFORM);
GST_ELEMENT_REGISTER_DEFINE (ovamsgconv, "ovamsgconv", GST_RANK_NONE, GST_TYPE_OVA_MSG_CONV);

static GstStaticPadTemplate sink_t = GST_STATIC_PAD_TEMPLATE ("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_t = GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

static void
set_property (GObject *obj, guint id, const GValue *v, GParamSpec *ps)
{
  GstOvaMsgConv *self = GST_OVA_MSG_CONV (obj);
  GST_OBJECT_LOCK (self);
  switch (id) {
    case PROP_CONFIG: g_free (self->config); self->config = g_value_dup_string (v); break;
    case PROP_PAYLOAD_TYPE: self->payload_type = g_value_get_uint (v); break;
    case PROP_FRAME_INTERVAL: self->frame_interval = g_value_get_uint (v); break;
    case PROP_COMP_ID: self->comp_id = g_value_get_uint (v); break;
    case PROP_MSG2P_LIB: g_free (self->msg2p_lib); self->msg2p_lib = g_value_dup_string (v); break;
    case PROP_TOPIC: g_free (self->topic); self->topic = g_value_dup_string (v); break;
    case PROP_LEAVE_FRAMES: self->leave_frames = g_value_get_uint (v); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (obj, id, ps);
  }
  GST_OBJECT_UNLOCK (self);
}

static void
get_property (GObject *obj, guint id, GValue *v, GParamSpec *ps)
{
  GstOvaMsgConv *self = GST_OVA_MSG_CONV (obj);
  GST_OBJECT_LOCK (self);
  switch (id) {
    case PROP_CONFIG: g_value_set_string (v, self->config); break;
    case PROP_PAYLOAD_TYPE: g_value_set_uint (v, self->payload_type); break;
    case PROP_FRAME_INTERVAL: g_value_set_uint (v, self->frame_interval); break;
    case PROP_COMP_ID: g_value_set_uint (v, self->comp_id); break;
    case PROP_MSG2P_LIB: g_value_set_string (v, self->msg2p_lib); break;
    case PROP_TOPIC: g_value_set_string (v, self->topic); break;
    case PROP_LEAVE_FRAMES: g_value_set_uint (v, self->leave_frames); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (obj, id, ps);
  }
  GST_OBJECT_UNLOCK (self);
}

static gboolean
start (GstBaseTransform *bt)
{
  GstOvaMsgConv *self = GST_OVA_MSG_CONV (bt);
  OvaMsgConvConfig *cfg = NULL;
  if (self->msg2p_lib && *self->msg2p_lib)
    GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS, ("msg2p-lib is not used"),
                         ("'%s' ignored: ova builds its payloads itself (payload-type 0, 1, 2)",
                          self->msg2p_lib));
  if (self->payload_type > OVA_PAYLOAD_OVA_COMPACT) {
    GST_ELEMENT_ERROR (self, LIBRARY, SETTINGS, ("unsupported payload-type %u", self->payload_type),
                       ("0: DeepStream full schema, 1: DeepStream minimal schema, 2: ova compact"));
    return FALSE;
  }
  if (self->config && *self->config) {
    GError *e = NULL;
    cfg = ova_msg_conv_config_load (self->config, &e);
    if (!cfg) {
      GST_ELEMENT_ERROR (self, RESOURCE, SETTINGS, ("%s", e->message), (NULL));
      g_error_free (e);
      return FALSE;
    }
  }
  self->conv = ova_msg_converter_new (cfg, self->payload_type, self->comp_id, self->frame_interval);
  ova_msg_converter_set_leave_frames (self->conv, self->leave_frames);
  return TRUE;
}

static gboolean
stop (GstBaseTransform *bt)
{
  GstOvaMsgConv *self = GST_OVA_MSG_CONV (bt);
  g_clear_pointer (&self->conv, ova_msg_converter_free);
  g_ptr_array_set_size (self->pending, 0);
  g_array_set_size (self->pending_src, 0);
  return TRUE;
}

static void
attach (GstOvaMsgConv *self, OvaMsgPayloadMeta **meta, GstBuffer *buf, GPtrArray *out, guint from,
        guint source_id, guint64 frame_num)
{
  for (guint i = from; i < out->len; i++) {
    const gchar *json = g_ptr_array_index (out, i);
    if (!*meta)
      *meta = ova_buffer_add_msg_payload_meta (buf);
    ova_msg_payload_meta_add (*meta, self->topic, json, strlen (json), source_id, self->comp_id,
                              frame_num);
  }
}

static GstFlowReturn
transform_ip (GstBaseTransform *bt, GstBuffer *buf)
{
  GstOvaMsgConv *self = GST_OVA_MSG_CONV (bt);
  OvaMsgPayloadMeta *meta = NULL;
  if (self->pending->len) {
    for (guint i = 0; i < self->pending->len; i++) {
      const gchar *json = g_ptr_array_index (self->pending, i);
      if (!meta)
        meta = ova_buffer_add_msg_payload_meta (buf);
      ova_msg_payload_meta_add (meta, self->topic, json, strlen (json),
                                g_array_index (self->pending_src, guint, i), self->comp_id, 0);
    }
    g_ptr_array_set_size (self->pending, 0);
    g_array_set_size (self->pending_src, 0);
  }
  OvaBatchMeta *batch = ova_buffer_get_batch_meta (buf);
  if (!batch)
    return GST_FLOW_OK;
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  ova_batch_meta_lock (batch);
  guint n = ova_batch_meta_get_n_frames (batch);
  for (guint f = 0; f < n; f++) {
    OvaFrameMeta *fm = ova_batch_meta_get_frame (batch, f);
    guint from = out->len;
    ova_msg_converter_convert_frame (self->conv, fm, out);
    attach (self, &meta, buf, out, from, fm->source_id, fm->frame_num);
  }
  ova_batch_meta_unlock (batch);
  return GST_FLOW_OK;
}

static gboolean
sink_event (GstBaseTransform *bt, GstEvent *event)
{
  GstOvaMsgConv *self = GST_OVA_MSG_CONV (bt);
  guint source_id;
  if (self->conv && (ova_event_parse_stream (event, OVA_EVENT_STREAM_EOS, &source_id) ||
                     ova_event_parse_stream (event, OVA_EVENT_STREAM_REMOVE, &source_id))) {
    /* exits of the objects still present go out with the next buffer */
    guint from = self->pending->len;
    ova_msg_converter_source_ended (self->conv, source_id, self->pending);
    for (guint i = from; i < self->pending->len; i++)
      g_array_append_val (self->pending_src, source_id);
  }
  if (self->conv && GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    /* the end: every object still present exits; the payloads go out on an
     * empty buffer ahead of EOS */
    ova_msg_converter_all_ended (self->conv, self->pending, self->pending_src);
    if (self->pending->len) {
      GstBuffer *buf = gst_buffer_new ();
      OvaMsgPayloadMeta *meta = ova_buffer_add_msg_payload_meta (buf);
      for (guint i = 0; i < self->pending->len; i++) {
        const gchar *json = g_ptr_array_index (self->pending, i);
        ova_msg_payload_meta_add (meta, self->topic, json, strlen (json),
                                  g_array_index (self->pending_src, guint, i), self->comp_id, 0);
      }
      g_ptr_array_set_size (self->pending, 0);
      g_array_set_size (self->pending_src, 0);
      gst_pad_push (GST_BASE_TRANSFORM_SRC_PAD (bt), buf);
    }
  }
  return GST_BASE_TRANSFORM_CLASS (gst_ova_msg_conv_parent_class)->sink_event (bt, event);
}

static void
finalize (GObject *obj)
{
  GstOvaMsgConv *self = GST_OVA_MSG_CONV (obj);
  g_free (self->config);
  g_free (self->msg2p_lib);
  g_free (self->topic);
  g_ptr_array_unref (self->pending);
  g_array_unref (self->pending_src);
  ova_msg_converter_free (self->conv);
  G_OBJECT_CLASS (gst_ova_msg_conv_parent_class)->finalize (obj);
}

static void
gst_ova_msg_conv_init (GstOvaMsgConv *self)
{
  self->frame_interval = 1;
  self->leave_frames = 10;
  self->pending = g_ptr_array_new_with_free_func (g_free);
  self->pending_src = g_array_new (FALSE, FALSE, sizeof (guint));
  gst_base_transform_set_in_place (GST_BASE_TRANSFORM (self), TRUE);
}

static void
gst_ova_msg_conv_class_init (GstOvaMsgConvClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS (klass);
  GstElementClass *ec = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *bc = GST_BASE_TRANSFORM_CLASS (klass);
  GST_DEBUG_CATEGORY_INIT (ova_msg_conv_debug, "ovamsgconv", 0, "ova message converter");
  oc->set_property = set_property;
  oc->get_property = get_property;
  oc->finalize = finalize;
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY;
  g_object_class_install_property (oc, PROP_CONFIG,
      g_param_spec_string ("config", "Config", "msg2p-style file with [sensorN] [placeN] "
                           "[analyticsN] groups (N = source id); DeepStream's msgconv config", NULL, rw));
  g_object_class_install_property (oc, PROP_PAYLOAD_TYPE,
      g_param_spec_uint ("payload-type", "Payload type",
                         "0: DeepStream full schema (a message per object), 1: DeepStream minimal "
                         "schema (a message per frame), 2: ova compact JSON line per frame",
                         0, 2, 0, rw));
  g_object_class_install_property (oc, PROP_FRAME_INTERVAL,
      g_param_spec_uint ("frame-interval", "Frame interval",
                         "Convert one frame in N per source (1: every frame)", 1, G_MAXUINT, 1, rw));
  g_object_class_install_property (oc, PROP_COMP_ID,
      g_param_spec_uint ("comp-id", "Component id",
                         "Convert only objects of this detector's unique id, and tag the payloads "
                         "with it for ovamsgbroker's comp-id (0: all objects)", 0, G_MAXUINT, 0, rw));
  g_object_class_install_property (oc, PROP_MSG2P_LIB,
      g_param_spec_string ("msg2p-lib", "msg2p library",
                           "Accepted for DeepStream compatibility and ignored (with a warning): ova "
                           "builds the payloads itself", NULL, rw));
  g_object_class_install_property (oc, PROP_TOPIC,
      g_param_spec_string ("topic", "Topic",
                           "Topic for the payloads (NULL: ovamsgbroker's topic)", NULL, rw));
  g_object_class_install_property (oc, PROP_LEAVE_FRAMES,
      g_param_spec_uint ("leave-frames", "Leave frames",
                         "Converted frames a tracker id may be absent before its exit event",
                         1, G_MAXUINT, 10, rw));
  gst_element_class_add_static_pad_template (ec, &sink_t);
  gst_element_class_add_static_pad_template (ec, &src_t);
  gst_element_class_set_static_metadata (ec, "ova message converter", "Filter/Metadata",
      "Builds JSON event payloads (DeepStream schemas or ova compact) from ova batch metadata",
      "ova");
  bc->start = start;
  bc->stop = stop;
  bc->transform_ip = transform_ip;
  bc->sink_event = sink_event;
}
