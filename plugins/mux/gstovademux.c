/* ova — ovademux. SPDX-License-Identifier: MIT */
/**
 * SECTION:element-ovademux
 * @title: ovademux
 *
 * Splits a batch from ovamux back into one stream per source, nvstreamdemux's
 * role. Request `src_%u` where %u is the source id. Each output buffer holds
 * the frame's own GstMemory objects (no copy), a GstVideoMeta with its layout
 * and an #OvaBatchMeta with exactly that frame's metadata (objects,
 * classifiers, user meta), so per-source branches keep the analytics results.
 * When the muxer reports a source's end (ova-stream-eos), that src pad gets EOS
 * while the others go on.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 ovamux name=m ! ovademux name=d \
 *   videotestsrc num-buffers=50 ! m.sink_0  videotestsrc num-buffers=80 pattern=ball ! m.sink_1 \
 *   d.src_0 ! queue ! videoconvert ! fakesink  d.src_1 ! queue ! videoconvert ! fakesink
 * ]|
 * As after any demuxer, put a queue on each branch: a sink that waits for
 * preroll would otherwise block the other branches.
 */
#include "gstovademux.h"
#include "gstovamux.h"
#include "gstovabatchpool.h"
#include <stdio.h>

GST_DEBUG_CATEGORY_STATIC (ova_demux_debug);
#define GST_CAT_DEFAULT ova_demux_debug

typedef struct
{
  gint refcount;                /* the table holds one; chain() one while it pushes */
  GstPad *pad;
  guint source_id;
  gboolean started;
  gboolean eos;
  GstCaps *caps;
} DemuxStream;

struct _GstOvaDemux
{
  GstElement parent;
  GstPad *sinkpad;
  GMutex lock;                  /* protects streams */
  GHashTable *streams;          /* source id -> DemuxStream* */
  GstFlowCombiner *combiner;
  GstBufferPool *out_pool;      /* output buffers, which hold the batch they come from */
  GstSegment segment;
  guint64 dropped;              /* frames of sources without a src pad */
};

G_DEFINE_TYPE (GstOvaDemux, gst_ova_demux, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE (ovademux, "ovademux", GST_RANK_NONE, GST_TYPE_OVA_DEMUX);

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink",
    GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS (OVA_BATCH_CAPS_NAME "; " OVA_BATCH_CAPS_NAME "(memory:CUDAMemory)"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src_%u",
    GST_PAD_SRC, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("video/x-raw; video/x-raw(memory:CUDAMemory)"));

static void
stream_unref (DemuxStream *s)
{
  if (!g_atomic_int_dec_and_test (&s->refcount))
    return;
  gst_caps_replace (&s->caps, NULL);
  g_free (s);
}

static void
ensure_started (GstOvaDemux *demux, DemuxStream *s, const OvaFrameMeta *f)
{
  GstCaps *caps;
  if (!s->started) {
    gchar *sid = g_strdup_printf ("ovademux/%u", s->source_id);
    GstSegment seg;
    gst_pad_push_event (s->pad, gst_event_new_stream_start (sid));
    g_free (sid);
    s->started = TRUE;
    caps = gst_video_info_to_caps (&f->video_info);
    if (f->memory_type == OVA_MEMORY_CUDA)
      gst_caps_set_features (caps, 0, gst_caps_features_new ("memory:CUDAMemory", NULL));
    gst_pad_push_event (s->pad, gst_event_new_caps (caps));
    gst_caps_replace (&s->caps, caps);
    gst_caps_unref (caps);
    gst_segment_init (&seg, GST_FORMAT_TIME);
    gst_pad_push_event (s->pad, gst_event_new_segment (&seg));
    return;
  }
  caps = gst_video_info_to_caps (&f->video_info);
  if (f->memory_type == OVA_MEMORY_CUDA)
    gst_caps_set_features (caps, 0, gst_caps_features_new ("memory:CUDAMemory", NULL));
  if (!s->caps || !gst_caps_is_equal (caps, s->caps)) {
    gst_pad_push_event (s->pad, gst_event_new_caps (caps));
    gst_caps_replace (&s->caps, caps);
  }
  gst_caps_unref (caps);
}

static GstFlowReturn
gst_ova_demux_chain (GstPad *pad, GstObject *parent, GstBuffer *buf)
{
  GstOvaDemux *demux = GST_OVA_DEMUX (parent);
  OvaBatchMeta *batch = ova_buffer_get_batch_meta (buf);
  GstFlowReturn ret = GST_FLOW_OK;

  if (!batch) {
    GST_ELEMENT_ERROR (demux, STREAM, FORMAT, ("buffer without OvaBatchMeta"),
        ("ovademux takes batches from ovamux"));
    gst_buffer_unref (buf);
    return GST_FLOW_ERROR;
  }
  for (guint i = 0; i < ova_batch_meta_get_n_frames (batch); i++) {
    OvaFrameMeta *f = ova_batch_meta_get_frame (batch, i);
    DemuxStream *s;
    GstBuffer *out;
    GstPad *srcpad;
    GstFlowReturn r;

    g_mutex_lock (&demux->lock);
    s = g_hash_table_lookup (demux->streams, GUINT_TO_POINTER (f->source_id));
    if (s && !s->eos && f->n_mems > 0) {
      /* The pad may be released while we push: keep the stream alive. */
      g_atomic_int_inc (&s->refcount);
      srcpad = gst_object_ref (s->pad);
    } else {
      srcpad = NULL;
    }
    g_mutex_unlock (&demux->lock);
    if (!srcpad) {
      demux->dropped++;
      continue;
    }
    if (gst_buffer_pool_acquire_buffer (demux->out_pool, &out, NULL) != GST_FLOW_OK)
      out = gst_buffer_new ();
    for (guint m = 0; m < f->n_mems; m++)
      gst_buffer_append_memory (out, gst_memory_ref (ova_frame_meta_peek_memory (buf, f, m)));
    /* The frame keeps its batch (and so the muxer's input buffer) until it
     * has let go of the memories: they return to their pool intact. */
    gst_ova_batch_pool_hold (out, gst_buffer_ref (buf));
    gst_buffer_add_video_meta_full (out, GST_VIDEO_FRAME_FLAG_NONE,
        GST_VIDEO_INFO_FORMAT (&f->video_info), GST_VIDEO_INFO_WIDTH (&f->video_info),
        GST_VIDEO_INFO_HEIGHT (&f->video_info), GST_VIDEO_INFO_N_PLANES (&f->video_info),
        f->video_info.offset, f->video_info.stride);
    {
      OvaBatchMeta *ob = ova_buffer_add_batch_meta (out, 1, batch->pool);
      OvaFrameMeta *nf = ova_batch_meta_add_frame_copy (ob, f);
      nf->mem_index = 0;
      nf->batch_index = 0;
      gst_clear_buffer (&nf->buffer); /* the pixels are in this very buffer now */
    }
    GST_BUFFER_PTS (out) = GST_BUFFER_PTS (buf);
    GST_BUFFER_DURATION (out) = f->duration;
    ensure_started (demux, s, f);
    r = gst_pad_push (srcpad, out);
    g_mutex_lock (&demux->lock);
    /* A released pad is no longer in the combiner; its result does not count. */
    ret = g_hash_table_lookup (demux->streams, GUINT_TO_POINTER (f->source_id)) == s
        ? gst_flow_combiner_update_pad_flow (demux->combiner, srcpad, r) : GST_FLOW_OK;
    g_mutex_unlock (&demux->lock);
    gst_object_unref (srcpad);
    stream_unref (s);
    if (ret != GST_FLOW_OK && ret != GST_FLOW_NOT_LINKED)
      break;
  }
  gst_buffer_unref (buf);
  return ret == GST_FLOW_NOT_LINKED ? GST_FLOW_OK : ret;
}

static void
push_to_all (GstOvaDemux *demux, GstEvent *event, gboolean only_started)
{
  GHashTableIter it;
  gpointer v;
  GPtrArray *pads = g_ptr_array_new_with_free_func (gst_object_unref);
  g_mutex_lock (&demux->lock);
  g_hash_table_iter_init (&it, demux->streams);
  while (g_hash_table_iter_next (&it, NULL, &v)) {
    DemuxStream *s = v;
    if ((!only_started || s->started) && !s->eos)
      g_ptr_array_add (pads, gst_object_ref (s->pad));
    if (GST_EVENT_TYPE (event) == GST_EVENT_EOS)
      s->eos = TRUE;
  }
  g_mutex_unlock (&demux->lock);
  for (guint i = 0; i < pads->len; i++)
    gst_pad_push_event (g_ptr_array_index (pads, i), gst_event_ref (event));
  g_ptr_array_unref (pads);
  gst_event_unref (event);
}

static gboolean
gst_ova_demux_sink_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  GstOvaDemux *demux = GST_OVA_DEMUX (parent);
  guint sid;

  if (ova_event_parse_stream (event, OVA_EVENT_STREAM_ADD, &sid)) {
    /* A source that ended (or was removed) comes back, e.g. a camera
     * reconnected on the same muxer pad: its src pad starts a new stream
     * (stream-start clears the pad's EOS) with its next frame. */
    DemuxStream *s;
    g_mutex_lock (&demux->lock);
    s = g_hash_table_lookup (demux->streams, GUINT_TO_POINTER (sid));
    if (s && s->eos) {
      GST_INFO_OBJECT (demux, "source %u starts again", sid);
      s->eos = FALSE;
      s->started = FALSE;
      gst_caps_replace (&s->caps, NULL);
    }
    g_mutex_unlock (&demux->lock);
    gst_event_unref (event);
    return TRUE;
  }
  if (ova_event_parse_stream (event, OVA_EVENT_STREAM_EOS, &sid)
      || ova_event_parse_stream (event, OVA_EVENT_STREAM_REMOVE, &sid)) {
    DemuxStream *s;
    GstPad *srcpad = NULL;
    g_mutex_lock (&demux->lock);
    s = g_hash_table_lookup (demux->streams, GUINT_TO_POINTER (sid));
    if (s && !s->eos) {
      s->eos = TRUE;
      srcpad = gst_object_ref (s->pad);
      if (!s->started) {
        /* EOS needs a stream-start and segment before it. */
        s->started = TRUE;
        g_mutex_unlock (&demux->lock);
        {
          gchar *id = g_strdup_printf ("ovademux/%u", sid);
          GstSegment seg;
          gst_pad_push_event (srcpad, gst_event_new_stream_start (id));
          g_free (id);
          gst_segment_init (&seg, GST_FORMAT_TIME);
          gst_pad_push_event (srcpad, gst_event_new_segment (&seg));
        }
        g_mutex_lock (&demux->lock);
      }
    }
    g_mutex_unlock (&demux->lock);
    if (srcpad) {
      GST_INFO_OBJECT (demux, "source %u ended", sid);
      gst_pad_push_event (srcpad, gst_event_new_eos ());
      gst_object_unref (srcpad);
    }
    gst_event_unref (event);
    return TRUE;
  }
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:
    case GST_EVENT_STREAM_START:
    case GST_EVENT_SEGMENT:
      /* Each src pad gets its own, made from its frames. */
      gst_event_unref (event);
      return TRUE;
    case GST_EVENT_EOS:
      push_to_all (demux, event, FALSE);
      return TRUE;
    case GST_EVENT_FLUSH_STOP:
      g_mutex_lock (&demux->lock);
      gst_flow_combiner_reset (demux->combiner);
      g_mutex_unlock (&demux->lock);
      push_to_all (demux, event, TRUE);
      return TRUE;
    default:
      if (GST_EVENT_IS_SERIALIZED (event) && !GST_EVENT_IS_STICKY (event)) {
        push_to_all (demux, event, TRUE);
        return TRUE;
      }
      return gst_pad_event_default (pad, parent, event);
  }
}

/* The sources whose src pads are linked: until each has delivered a frame
 * its branch cannot preroll, so the muxer must not run ahead without it. */
static gboolean
answer_expected_sources (GstOvaDemux *demux, GstQuery *query)
{
  GstStructure *s = gst_query_writable_structure (query);
  GValue ids = G_VALUE_INIT, id = G_VALUE_INIT;
  GHashTableIter it;
  gpointer v;

  g_value_init (&ids, GST_TYPE_ARRAY);
  g_value_init (&id, G_TYPE_UINT);
  g_mutex_lock (&demux->lock);
  g_hash_table_iter_init (&it, demux->streams);
  while (g_hash_table_iter_next (&it, NULL, &v)) {
    DemuxStream *st = v;
    if (!gst_pad_is_linked (st->pad))
      continue;
    g_value_set_uint (&id, st->source_id);
    gst_value_array_append_value (&ids, &id);
  }
  g_mutex_unlock (&demux->lock);
  gst_structure_take_value (s, "source-ids", &ids);
  g_value_unset (&id);
  return TRUE;
}

static gboolean
gst_ova_demux_sink_query (GstPad *pad, GstObject *parent, GstQuery *query)
{
  const GstStructure *qs = gst_query_get_structure (query);
  if (GST_QUERY_TYPE (query) == GST_QUERY_CUSTOM && qs
      && gst_structure_has_name (qs, OVA_QUERY_EXPECTED_SOURCES))
    return answer_expected_sources (GST_OVA_DEMUX (parent), query);
  if (GST_QUERY_TYPE (query) == GST_QUERY_ALLOCATION) {
    /* A batch is made of upstream frames: there is nothing to allocate, and
     * forwarding the (serialized) query to every branch would wait for each
     * branch's queue to drain - forever while one sink waits for preroll and
     * a source joins (new caps), as happens when decoders link late. */
    return TRUE;
  }
  return gst_pad_query_default (pad, parent, query);
}

static GstPad *
gst_ova_demux_request_new_pad (GstElement *element, GstPadTemplate *templ, const gchar *name,
    const GstCaps *caps)
{
  GstOvaDemux *demux = GST_OVA_DEMUX (element);
  guint sid = 0;
  DemuxStream *s;
  gchar *pname;

  if (!name || sscanf (name, "src_%u", &sid) != 1) {
    /* Without a name, take the lowest free id. */
    g_mutex_lock (&demux->lock);
    while (g_hash_table_contains (demux->streams, GUINT_TO_POINTER (sid)))
      sid++;
    g_mutex_unlock (&demux->lock);
  }
  g_mutex_lock (&demux->lock);
  if (g_hash_table_contains (demux->streams, GUINT_TO_POINTER (sid))) {
    g_mutex_unlock (&demux->lock);
    GST_WARNING_OBJECT (demux, "src_%u already exists", sid);
    return NULL;
  }
  s = g_new0 (DemuxStream, 1);
  s->refcount = 1;
  s->source_id = sid;
  pname = g_strdup_printf ("src_%u", sid);
  s->pad = gst_pad_new_from_template (templ, pname);
  g_free (pname);
  gst_pad_use_fixed_caps (s->pad);
  g_hash_table_insert (demux->streams, GUINT_TO_POINTER (sid), s);
  gst_flow_combiner_add_pad (demux->combiner, s->pad);
  g_mutex_unlock (&demux->lock);
  gst_pad_set_active (s->pad, TRUE);
  gst_element_add_pad (element, s->pad);
  return s->pad;
}

static void
gst_ova_demux_release_pad (GstElement *element, GstPad *pad)
{
  GstOvaDemux *demux = GST_OVA_DEMUX (element);
  guint sid;
  if (sscanf (GST_PAD_NAME (pad), "src_%u", &sid) != 1)
    return;
  g_mutex_lock (&demux->lock);
  gst_flow_combiner_remove_pad (demux->combiner, pad);
  g_hash_table_remove (demux->streams, GUINT_TO_POINTER (sid));
  g_mutex_unlock (&demux->lock);
  gst_pad_set_active (pad, FALSE);
  gst_element_remove_pad (element, pad);
}

static GstStateChangeReturn
gst_ova_demux_change_state (GstElement *element, GstStateChange transition)
{
  GstOvaDemux *demux = GST_OVA_DEMUX (element);
  GstStateChangeReturn ret = GST_ELEMENT_CLASS (gst_ova_demux_parent_class)->change_state (element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    GHashTableIter it;
    gpointer v;
    g_mutex_lock (&demux->lock);
    g_hash_table_iter_init (&it, demux->streams);
    while (g_hash_table_iter_next (&it, NULL, &v)) {
      DemuxStream *s = v;
      s->started = s->eos = FALSE;
      gst_caps_replace (&s->caps, NULL);
    }
    gst_flow_combiner_reset (demux->combiner);
    g_mutex_unlock (&demux->lock);
  }
  return ret;
}

static void
gst_ova_demux_finalize (GObject *object)
{
  GstOvaDemux *demux = GST_OVA_DEMUX (object);
  g_hash_table_unref (demux->streams);
  gst_flow_combiner_free (demux->combiner);
  gst_buffer_pool_set_active (demux->out_pool, FALSE);
  gst_object_unref (demux->out_pool);
  g_mutex_clear (&demux->lock);
  G_OBJECT_CLASS (gst_ova_demux_parent_class)->finalize (object);
}

static void
gst_ova_demux_class_init (GstOvaDemuxClass *klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GST_DEBUG_CATEGORY_INIT (ova_demux_debug, "ovademux", 0, "ova batch demuxer");
  G_OBJECT_CLASS (klass)->finalize = gst_ova_demux_finalize;
  gst_element_class_add_static_pad_template (element_class, &sink_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class, "ova batch demuxer", "Demuxer/Video",
      "Splits a batch into one stream per source, keeping each frame's metadata",
      "The ova authors");
  element_class->request_new_pad = GST_DEBUG_FUNCPTR (gst_ova_demux_request_new_pad);
  element_class->release_pad = GST_DEBUG_FUNCPTR (gst_ova_demux_release_pad);
  element_class->change_state = GST_DEBUG_FUNCPTR (gst_ova_demux_change_state);
}

static void
gst_ova_demux_init (GstOvaDemux *demux)
{
  demux->sinkpad = gst_pad_new_from_static_template (&sink_template, "sink");
  gst_pad_set_chain_function (demux->sinkpad, GST_DEBUG_FUNCPTR (gst_ova_demux_chain));
  gst_pad_set_event_function (demux->sinkpad, GST_DEBUG_FUNCPTR (gst_ova_demux_sink_event));
  gst_pad_set_query_function (demux->sinkpad, GST_DEBUG_FUNCPTR (gst_ova_demux_sink_query));
  gst_element_add_pad (GST_ELEMENT (demux), demux->sinkpad);
  g_mutex_init (&demux->lock);
  demux->streams = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) stream_unref);
  demux->combiner = gst_flow_combiner_new ();
  demux->out_pool = gst_ova_batch_pool_new ();
  gst_segment_init (&demux->segment, GST_FORMAT_TIME);
}
