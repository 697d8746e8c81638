/* ova — ovamux. SPDX-License-Identifier: MIT */
/**
 * SECTION:element-ovamux
 * @title: ovamux
 *
 * Collects one frame from each source into one batched buffer, nvstreammux's
 * role. The output buffer holds the very GstMemory objects of the input
 * frames (system or CUDA memory): no pixel is copied. An #OvaBatchMeta on the
 * buffer says which memories belong to which source and how they are laid
 * out. Sources may differ in resolution, format and frame rate.
 *
 * When one source ends, a custom downstream event "ova-stream-eos" carrying
 * its source id is sent and the others go on; requesting and releasing pads
 * while PLAYING sends "ova-stream-add" / "ova-stream-remove".
 *
 * With live sources (or `live-source=true`), a batch is pushed as soon as every
 * source has a frame, or a partial one `batched-push-timeout` after the first
 * frame of the batch was ready, so one stalled camera never stalls the others;
 * a frame behind the others (its instant already went out) is pushed at once.
 *
 * A batch keeps its input buffers until it is freed, and lets go of the
 * borrowed memories before it releases them, so the buffers return to their
 * pools intact and are reused (see docs/elements/ovamux.md).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 ovamux name=m batch-size=2 ! fakesink \
 *   videotestsrc num-buffers=100 ! video/x-raw,width=640,height=480 ! m.sink_0 \
 *   videotestsrc num-buffers=100 ! video/x-raw,format=NV12,width=1280,height=720 ! m.sink_1
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "gstovamux.h"
#include "gstovabatchpool.h"
#include <gst/base/gstqueuearray.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

GST_DEBUG_CATEGORY_STATIC (ova_mux_debug);
#define GST_CAT_DEFAULT ova_mux_debug

#define DEFAULT_BATCH_SIZE 0
#define DEFAULT_TIMEOUT_US 40000
#define DEFAULT_LIVE FALSE
#define DEFAULT_SYNC_INPUTS FALSE

enum
{
  PROP_0,
  PROP_BATCH_SIZE,
  PROP_BATCHED_PUSH_TIMEOUT,
  PROP_LIVE_SOURCE,
  PROP_SYNC_INPUTS,
  PROP_WIDTH,
  PROP_HEIGHT,
  PROP_GPU_ID,
};

struct _GstOvaMuxPad
{
  GstAggregatorPad parent;
  guint source_id;
  gboolean have_info;
  GstVideoInfo info;
  OvaMemoryType mem_type;
  guint64 frame_num;
  /* Running-time continuity across new segments (file-loop seeks restart at 0). */
  gboolean seen_data;
  GstClockTime rt_offset;
  GstClockTime last_rt_end;
  /* Arrivals of the buffers that entered this pad (Arrival, oldest first).
   * Each is matched to its buffer when the buffer is batched, so a buffer
   * the aggregator dropped (flushing, after EOS) never shifts the others. */
  GMutex arrivals_lock;
  GstQueueArray *arrivals;
  /* Optional scaling to the muxer's width/height (system memory only). */
  GstVideoConverter *conv;
  GstVideoInfo out_info;
  GstBufferPool *scale_pool;    /* frames scaled to out_info */
};

struct _GstOvaMux
{
  GstAggregator parent;
  guint batch_size;
  gint64 timeout_us;
  gboolean live_source;
  gboolean sync_inputs;
  guint width, height;
  gint gpu_id;

  OvaMetaPool *pool;
  GstBufferPool *batch_pool;    /* batch buffers, which hold their input frames */
  guint rr_start;               /* round-robin start when there are more pads than batch-size */
  GQueue pending_events;        /* stream add/remove/eos events for the src thread */
  gboolean pushed_any;
  GCond pads_cond;              /* with the object lock: a sink pad was requested */
  GstCaps *batch_caps;
  guint64 batches;
  gint seeking;                 /* a seek sent through our src pad is in progress */
  /* The aggregator's latency (upstream + ours), read where its lock is not
   * held: get_next_time() turns our deadlines into its start times with it. */
  GstClockTime agg_latency;     /* object lock; NONE until known */
  GstClockTime pushed_end;      /* end of the newest frame batched whose time had come (running time); object lock */
};

/* When a buffer entered its sink pad. */
typedef struct
{
  GstBuffer *buf;               /* not a reference: compared only */
  GstClockTime pts;
  guint64 mono_ns;              /* ova_latency_now_ns(), for the latency record */
  GstClockTime running_time;    /* on the element's clock, for the deadline */
} Arrival;

#define MAX_ARRIVALS 1024

G_DEFINE_TYPE (GstOvaMuxPad, gst_ova_mux_pad, GST_TYPE_AGGREGATOR_PAD);
G_DEFINE_TYPE (GstOvaMux, gst_ova_mux, GST_TYPE_AGGREGATOR);
GST_ELEMENT_REGISTER_DEFINE (ovamux, "ovamux", GST_RANK_NONE, GST_TYPE_OVA_MUX);

#define SINK_CAPS "video/x-raw; video/x-raw(memory:CUDAMemory)"
#define SRC_CAPS OVA_BATCH_CAPS_NAME "; " OVA_BATCH_CAPS_NAME "(memory:CUDAMemory)"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE ("sink_%u",
    GST_PAD_SINK, GST_PAD_REQUEST, GST_STATIC_CAPS (SINK_CAPS));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE ("src",
    GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (SRC_CAPS));

/* ------------------------------------------------------------------ pad */

static void
gst_ova_mux_pad_finalize (GObject *obj)
{
  GstOvaMuxPad *pad = GST_OVA_MUX_PAD (obj);
  if (pad->conv)
    gst_video_converter_free (pad->conv);
  if (pad->scale_pool) {
    gst_buffer_pool_set_active (pad->scale_pool, FALSE);
    gst_object_unref (pad->scale_pool);
  }
  gst_queue_array_free (pad->arrivals);
  g_mutex_clear (&pad->arrivals_lock);
  G_OBJECT_CLASS (gst_ova_mux_pad_parent_class)->finalize (obj);
}

/* The aggregator dropped everything queued (flushing seek, stop). */
static GstFlowReturn
gst_ova_mux_pad_flush (GstAggregatorPad *apad, GstAggregator *agg)
{
  GstOvaMuxPad *pad = GST_OVA_MUX_PAD (apad);
  g_mutex_lock (&pad->arrivals_lock);
  gst_queue_array_clear (pad->arrivals);
  g_mutex_unlock (&pad->arrivals_lock);
  return GST_FLOW_OK;
}

static void
gst_ova_mux_pad_class_init (GstOvaMuxPadClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = gst_ova_mux_pad_finalize;
  GST_AGGREGATOR_PAD_CLASS (klass)->flush = gst_ova_mux_pad_flush;
}

static void
gst_ova_mux_pad_init (GstOvaMuxPad *pad)
{
  gst_video_info_init (&pad->info);
  g_mutex_init (&pad->arrivals_lock);
  pad->arrivals = gst_queue_array_new_for_struct (sizeof (Arrival), 8);
  pad->last_rt_end = 0;
  pad->rt_offset = 0;
}

/* -------------------------------------------------------------- helpers */

static void
queue_stream_event (GstOvaMux *mux, const gchar *name, guint source_id)
{
  GST_OBJECT_LOCK (mux);
  g_queue_push_tail (&mux->pending_events, ova_event_new_stream (name, source_id));
  GST_OBJECT_UNLOCK (mux);
}

/* The sink pad of @source_id, or NULL. Called with the object lock. */
static GstAggregatorPad *
source_pad_ref (GstOvaMux *mux, guint source_id)
{
  for (GList *l = GST_ELEMENT (mux)->sinkpads; l; l = l->next)
    if (GST_OVA_MUX_PAD (l->data)->source_id == source_id)
      return gst_object_ref (l->data);
  return NULL;
}

/* Called from the src thread only: custom events must follow the mandatory
 * stream-start/caps/segment that GstAggregator sends with the first buffer.
 * A source's EOS event waits until its last queued frame has gone out in a
 * batch (EOS reaches the pad when the frame is queued, not batched), and the
 * events behind it wait too, to keep their order. Only this thread pops the
 * queue, so the head stays the same between the two locked sections. */
static void
push_pending_events (GstOvaMux *mux)
{
  GstEvent *ev;
  if (!mux->pushed_any)
    return;
  for (;;) {
    guint source_id;
    GstAggregatorPad *pad = NULL;
    GST_OBJECT_LOCK (mux);
    ev = g_queue_peek_head (&mux->pending_events);
    if (ev && ova_event_parse_stream (ev, OVA_EVENT_STREAM_EOS, &source_id))
      pad = source_pad_ref (mux, source_id);
    GST_OBJECT_UNLOCK (mux);
    if (!ev)
      break;
    if (pad) {
      /* the pad's own lock: never taken under the object lock */
      gboolean queued = gst_aggregator_pad_has_buffer (pad);
      gst_object_unref (pad);
      if (queued)
        break;
    }
    GST_OBJECT_LOCK (mux);
    g_queue_pop_head (&mux->pending_events);
    GST_OBJECT_UNLOCK (mux);
    GST_DEBUG_OBJECT (mux, "pushing %" GST_PTR_FORMAT, ev);
    gst_pad_push_event (GST_AGGREGATOR_SRC_PAD (mux), ev);
  }
}

static GstCaps *
compute_batch_caps (GstOvaMux *mux)
{
  gboolean any = FALSE, cuda = FALSE;
  GstCaps *caps;
  guint n_pads = 0;

  GST_OBJECT_LOCK (mux);
  for (GList *l = GST_ELEMENT (mux)->sinkpads; l; l = l->next) {
    GstOvaMuxPad *p = l->data;
    n_pads++;
    if (p->have_info) {
      any = TRUE;
      cuda |= p->mem_type == OVA_MEMORY_CUDA;
    }
  }
  GST_OBJECT_UNLOCK (mux);
  if (!any)
    return NULL;
  caps = gst_caps_new_simple (OVA_BATCH_CAPS_NAME, "max-batch-size", G_TYPE_INT,
      (gint) (mux->batch_size ? mux->batch_size : MAX (n_pads, 1)), NULL);
  if (cuda)
    gst_caps_set_features (caps, 0, gst_caps_features_new ("memory:CUDAMemory", NULL));
  return caps;
}

static GstFlowReturn
gst_ova_mux_update_src_caps (GstAggregator *agg, GstCaps *downstream, GstCaps **ret)
{
  GstOvaMux *mux = GST_OVA_MUX (agg);
  GstCaps *caps = compute_batch_caps (mux);
  if (!caps)
    return GST_AGGREGATOR_FLOW_NEED_DATA;
  if (downstream && !gst_caps_can_intersect (caps, downstream)) {
    GST_ELEMENT_ERROR (mux, CORE, NEGOTIATION, ("downstream does not accept batches"),
        ("ovamux outputs %" GST_PTR_FORMAT "; downstream accepts %" GST_PTR_FORMAT
         ". Put ovainfer/ovatrack/ovaosd/ovatiler/ovademux or fakesink after ovamux.",
         caps, downstream));
    gst_caps_unref (caps);
    return GST_FLOW_NOT_NEGOTIATED;
  }
  gst_caps_replace (&mux->batch_caps, caps);
  *ret = caps;
  return GST_FLOW_OK;
}

static gboolean
pad_set_caps (GstOvaMux *mux, GstOvaMuxPad *pad, GstCaps *caps)
{
  GstVideoInfo info;
  GstCapsFeatures *f = gst_caps_get_features (caps, 0);
  OvaMemoryType mt = (f && gst_caps_features_contains (f, "memory:CUDAMemory"))
      ? OVA_MEMORY_CUDA : OVA_MEMORY_SYSTEM;

  if (!gst_video_info_from_caps (&info, caps)) {
    GST_ELEMENT_ERROR (mux, STREAM, FORMAT, ("source %u: caps are not raw video", pad->source_id),
        ("%" GST_PTR_FORMAT, caps));
    return FALSE;
  }
  /* One batch holds one memory type: mixing would make every consumer branch per frame. */
  GST_OBJECT_LOCK (mux);
  for (GList *l = GST_ELEMENT (mux)->sinkpads; l; l = l->next) {
    GstOvaMuxPad *o = l->data;
    if (o != pad && o->have_info && o->mem_type != mt) {
      GST_OBJECT_UNLOCK (mux);
      GST_ELEMENT_ERROR (mux, STREAM, FORMAT,
          ("source %u delivers %s memory while source %u delivers %s memory",
              pad->source_id, mt == OVA_MEMORY_CUDA ? "CUDA" : "system", o->source_id,
              o->mem_type == OVA_MEMORY_CUDA ? "CUDA" : "system"),
          ("Use cudaupload or cudadownload so that all sources of one ovamux agree."));
      return FALSE;
    }
  }
  GST_OBJECT_UNLOCK (mux);

  if (pad->conv) {
    gst_video_converter_free (pad->conv);
    pad->conv = NULL;
  }
  if (pad->scale_pool) {
    gst_buffer_pool_set_active (pad->scale_pool, FALSE);
    gst_object_unref (pad->scale_pool);
    pad->scale_pool = NULL;
  }
  if (mux->width && mux->height && mt == OVA_MEMORY_SYSTEM
      && (info.width != (gint) mux->width || info.height != (gint) mux->height)) {
    gst_video_info_set_format (&pad->out_info, GST_VIDEO_INFO_FORMAT (&info), mux->width, mux->height);
    pad->out_info.fps_n = info.fps_n;
    pad->out_info.fps_d = info.fps_d;
    pad->conv = gst_video_converter_new (&info, &pad->out_info,
        gst_structure_new ("ova-mux-scale",
            GST_VIDEO_CONVERTER_OPT_THREADS, G_TYPE_UINT, 1,
            GST_VIDEO_CONVERTER_OPT_RESAMPLER_METHOD, GST_TYPE_VIDEO_RESAMPLER_METHOD,
            GST_VIDEO_RESAMPLER_METHOD_LINEAR, NULL));
    {
      /* Scaled frames come from a pool: no allocation per frame. */
      GstCaps *oc = gst_video_info_to_caps (&pad->out_info);
      GstStructure *cfg;
      pad->scale_pool = gst_video_buffer_pool_new ();
      cfg = gst_buffer_pool_get_config (pad->scale_pool);
      gst_buffer_pool_config_set_params (cfg, oc, GST_VIDEO_INFO_SIZE (&pad->out_info), 2, 0);
      gst_buffer_pool_set_config (pad->scale_pool, cfg);
      if (!gst_buffer_pool_set_active (pad->scale_pool, TRUE)) {
        gst_object_unref (pad->scale_pool);
        pad->scale_pool = NULL;
      }
      gst_caps_unref (oc);
    }
  } else if (mux->width && mux->height && mt == OVA_MEMORY_CUDA) {
    GST_WARNING_OBJECT (mux, "width/height scaling of CUDA memory is not supported; "
        "frames of source %u are batched at their own size", pad->source_id);
  }
  pad->info = info;
  pad->mem_type = mt;
  pad->have_info = TRUE;
  GST_INFO_OBJECT (mux, "source %u: %s %dx%d %s", pad->source_id,
      gst_video_format_to_string (GST_VIDEO_INFO_FORMAT (&info)), info.width, info.height,
      mt == OVA_MEMORY_CUDA ? "CUDA" : "system");
  gst_pad_mark_reconfigure (GST_AGGREGATOR_SRC_PAD (mux));
  return TRUE;
}

static gboolean
gst_ova_mux_sink_event (GstAggregator *agg, GstAggregatorPad *apad, GstEvent *event)
{
  GstOvaMux *mux = GST_OVA_MUX (agg);
  GstOvaMuxPad *pad = GST_OVA_MUX_PAD (apad);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:{
      GstCaps *caps;
      gboolean ok;
      gst_event_parse_caps (event, &caps);
      ok = pad_set_caps (mux, pad, caps);
      gst_event_unref (event);
      return ok;
    }
    case GST_EVENT_SEGMENT:{
      const GstSegment *seg;
      gst_event_parse_segment (event, &seg);
      if (pad->seen_data && seg->format == GST_FORMAT_TIME) {
        /* A new segment (a loop's seek): continue the running time where the
         * previous one ended so batches stay monotonic. */
        GstClockTime start_rt = gst_segment_to_running_time (seg, GST_FORMAT_TIME, seg->start);
        if (GST_CLOCK_TIME_IS_VALID (start_rt) && pad->last_rt_end > start_rt)
          pad->rt_offset = pad->last_rt_end - start_rt;
      }
      break;
    }
    case GST_EVENT_EOS:
      GST_INFO_OBJECT (mux, "source %u reached EOS", pad->source_id);
      queue_stream_event (mux, OVA_EVENT_STREAM_EOS, pad->source_id);
      break;
    case GST_EVENT_FLUSH_START:
    case GST_EVENT_FLUSH_STOP:
      if (!g_atomic_int_get (&mux->seeking)) {
        /* One source flushing (a file-loop seek, a reconnect) must not flush
         * the batches of every other source downstream. */
        GST_DEBUG_OBJECT (mux, "source %u: %s kept upstream", pad->source_id, GST_EVENT_TYPE_NAME (event));
        gst_event_unref (event);
        return TRUE;
      }
      break;
    case GST_EVENT_STREAM_START:
      /* Each source's stream-start is its own; the batch has one from the aggregator. */
      gst_event_unref (event);
      return TRUE;
    default:
      break;
  }
  return GST_AGGREGATOR_CLASS (gst_ova_mux_parent_class)->sink_event (agg, apad, event);
}

static gboolean
gst_ova_mux_sink_query (GstAggregator *agg, GstAggregatorPad *apad, GstQuery *query)
{
  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_CAPS:{
      GstCaps *filter, *tmpl = gst_pad_get_pad_template_caps (GST_PAD (apad)), *res;
      gst_query_parse_caps (query, &filter);
      res = filter ? gst_caps_intersect_full (filter, tmpl, GST_CAPS_INTERSECT_FIRST) : gst_caps_ref (tmpl);
      gst_query_set_caps_result (query, res);
      gst_caps_unref (res);
      gst_caps_unref (tmpl);
      return TRUE;
    }
    case GST_QUERY_ACCEPT_CAPS:{
      GstCaps *caps, *tmpl = gst_pad_get_pad_template_caps (GST_PAD (apad));
      gst_query_parse_accept_caps (query, &caps);
      gst_query_set_accept_caps_result (query, gst_caps_is_subset (caps, tmpl));
      gst_caps_unref (tmpl);
      return TRUE;
    }
    case GST_QUERY_ALLOCATION:
      /* Frames are kept as they are, padded strides included. */
      gst_query_add_allocation_meta (query, GST_VIDEO_META_API_TYPE, NULL);
      return TRUE;
    default:
      return GST_AGGREGATOR_CLASS (gst_ova_mux_parent_class)->sink_query (agg, apad, query);
  }
}

/* The frame's layout: the caps', or the buffer's GstVideoMeta when it has one
 * (decoders with padded strides). */
static void
frame_layout (const GstVideoInfo *caps_info, GstBuffer *buf, GstVideoInfo *out)
{
  GstVideoMeta *vm = gst_buffer_get_video_meta (buf);
  *out = *caps_info;
  if (vm) {
    for (guint p = 0; p < vm->n_planes && p < GST_VIDEO_MAX_PLANES; p++) {
      out->offset[p] = vm->offset[p];
      out->stride[p] = vm->stride[p];
    }
  }
}

static gboolean
append_scaled (GstOvaMux *mux, GstOvaMuxPad *pad, GstBuffer *in, GstBuffer *out, OvaFrameMeta *f)
{
  GstVideoFrame src, dst;
  GstBuffer *tmp = NULL;
  gboolean ok = FALSE;
  if (!pad->scale_pool || gst_buffer_pool_acquire_buffer (pad->scale_pool, &tmp, NULL) != GST_FLOW_OK)
    tmp = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&pad->out_info), NULL);
  if (gst_video_frame_map (&src, &pad->info, in, GST_MAP_READ)) {
    if (gst_video_frame_map (&dst, &pad->out_info, tmp, GST_MAP_WRITE)) {
      gst_video_converter_frame (pad->conv, &src, &dst);
      gst_video_frame_unmap (&dst);
      ok = TRUE;
    }
    gst_video_frame_unmap (&src);
  }
  if (ok) {
    f->n_mems = gst_buffer_n_memory (tmp);
    f->video_info = pad->out_info;
    if (gst_buffer_n_memory (out) + f->n_mems <= gst_buffer_get_max_memory ()) {
      /* Its memory moves into the batch (writable in place there) and goes
       * back to the scale pool with its buffer when the batch is done. */
      f->mem_index = gst_buffer_n_memory (out);
      gst_ova_batch_pool_add_frame (out, tmp);
    } else {
      f->mem_index = 0;
      f->buffer = tmp;          /* past the 16 memories of a GstBuffer */
    }
  } else {
    gst_buffer_unref (tmp);
  }
  return ok;
}

typedef struct
{
  GstOvaMuxPad *pad;
  GstBuffer *buf;
  GstClockTime rt;
} Taken;

static GstClockTime
pad_running_time (GstOvaMuxPad *pad, GstBuffer *buf)
{
  GstAggregatorPad *ap = GST_AGGREGATOR_PAD (pad);
  GstClockTime ts = GST_BUFFER_PTS_IS_VALID (buf) ? GST_BUFFER_PTS (buf) : GST_BUFFER_DTS (buf);
  GstClockTime rt;
  if (!GST_CLOCK_TIME_IS_VALID (ts) || ap->segment.format != GST_FORMAT_TIME)
    return GST_CLOCK_TIME_NONE;
  rt = gst_segment_to_running_time (&ap->segment, GST_FORMAT_TIME, ts);
  return GST_CLOCK_TIME_IS_VALID (rt) ? rt + pad->rt_offset : rt;
}

static void
record_arrival (GstOvaMuxPad *mp, GstBuffer *buf, guint64 mono_ns, GstClockTime running_time)
{
  Arrival a = { buf, GST_BUFFER_PTS (buf), mono_ns, running_time };
  g_mutex_lock (&mp->arrivals_lock);
  if (gst_queue_array_get_length (mp->arrivals) >= MAX_ARRIVALS)
    gst_queue_array_pop_head_struct (mp->arrivals);
  gst_queue_array_push_tail_struct (mp->arrivals, &a);
  g_mutex_unlock (&mp->arrivals_lock);
}

/* Always recorded: the straggler deadline counts from the arrivals. */
static GstPadProbeReturn
arrival_probe (GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  GstOvaMuxPad *mp = GST_OVA_MUX_PAD (pad);
  GstElement *mux = GST_ELEMENT (gst_pad_get_parent (pad));
  guint64 mono_ns = ova_latency_now_ns ();
  GstClockTime running_time = GST_CLOCK_TIME_NONE;
  if (mux) {
    running_time = gst_element_get_current_running_time (mux);
    gst_object_unref (mux);
  }
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    record_arrival (mp, GST_PAD_PROBE_INFO_BUFFER (info), mono_ns, running_time);
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST (info);
    for (guint i = 0; i < gst_buffer_list_length (list); i++)
      record_arrival (mp, gst_buffer_list_get (list, i), mono_ns, running_time);
  }
  return GST_PAD_PROBE_OK;
}

/* The arrival of @buf, the pad's oldest queued buffer. Entries before it are
 * of buffers that never got queued and are dropped; if it has none (it came
 * before the pad was flushed), nothing is. Removed when @pop. Called with
 * arrivals_lock. */
static gboolean
find_arrival_unlocked (GstOvaMuxPad *mp, GstBuffer *buf, gboolean pop, Arrival *out)
{
  guint len = gst_queue_array_get_length (mp->arrivals), i;
  for (i = 0; i < len; i++) {
    Arrival *a = gst_queue_array_peek_nth_struct (mp->arrivals, i);
    if (a->buf == buf && a->pts == GST_BUFFER_PTS (buf))
      break;
  }
  if (i == len)
    return FALSE;
  while (i-- > 0)
    gst_queue_array_pop_head_struct (mp->arrivals);
  *out = *(Arrival *) gst_queue_array_peek_head_struct (mp->arrivals);
  if (pop)
    gst_queue_array_pop_head_struct (mp->arrivals);
  return TRUE;
}

static guint64
pop_arrival (GstOvaMuxPad *mp, GstBuffer *buf, guint64 fallback)
{
  Arrival a;
  gboolean found;
  g_mutex_lock (&mp->arrivals_lock);
  found = find_arrival_unlocked (mp, buf, TRUE, &a);
  g_mutex_unlock (&mp->arrivals_lock);
  return found ? a.mono_ns : fallback;
}

/* A frame whose whole interval ends before the end of a frame already
 * batched is behind the other sources: its instant has gone out (a source
 * that started late, stalled, or missed a deadline). Waiting for the others
 * only makes it later, and since each batch takes one frame per source, a
 * source that stays one frame behind would stay so for good. Only a frame
 * whose time has come (@now_rt, the clock's running time) counts: sources
 * that run ahead of the clock (not synchronised to it) are batched as they
 * come, not one by one. */
static gboolean
frame_is_behind (GstOvaMuxPad *pad, GstBuffer *buf, GstClockTime pushed_end, GstClockTime now_rt)
{
  GstClockTime rt = pad_running_time (pad, buf), dur = GST_BUFFER_DURATION (buf);
  if (!GST_CLOCK_TIME_IS_VALID (rt) || !GST_CLOCK_TIME_IS_VALID (pushed_end))
    return FALSE;
  if (GST_CLOCK_TIME_IS_VALID (now_rt) && rt > now_rt)
    return FALSE;
  return rt + (GST_CLOCK_TIME_IS_VALID (dur) ? dur : 0) <= pushed_end;
}

/* Looks at the oldest queued frame of each pad: whether one is behind, and
 * when the earliest of the others was ready (running time): its arrival, or
 * its own running time if it came early. */
static void
scan_queued_frames (GPtrArray *pads, GstClockTime pushed_end, GstClockTime now_rt, gboolean *any_behind,
    GstClockTime *first_ready)
{
  *any_behind = FALSE;
  *first_ready = GST_CLOCK_TIME_NONE;
  for (guint i = 0; i < pads->len; i++) {
    GstOvaMuxPad *pad = g_ptr_array_index (pads, i);
    GstBuffer *b = gst_aggregator_pad_peek_buffer (GST_AGGREGATOR_PAD (pad));
    Arrival a;
    GstClockTime ready;
    gboolean found;
    if (!b)
      continue;
    if (frame_is_behind (pad, b, pushed_end, now_rt)) {
      *any_behind = TRUE;
      gst_buffer_unref (b);
      continue;
    }
    g_mutex_lock (&pad->arrivals_lock);
    found = find_arrival_unlocked (pad, b, FALSE, &a);
    g_mutex_unlock (&pad->arrivals_lock);
    ready = found ? a.running_time : GST_CLOCK_TIME_NONE;
    {
      GstClockTime rt = pad_running_time (pad, b);
      if (GST_CLOCK_TIME_IS_VALID (rt) && (!GST_CLOCK_TIME_IS_VALID (ready) || rt > ready))
        ready = rt;
    }
    if (GST_CLOCK_TIME_IS_VALID (ready) && (!GST_CLOCK_TIME_IS_VALID (*first_ready) || ready < *first_ready))
      *first_ready = ready;
    gst_buffer_unref (b);
  }
}

/* The sink pads, referenced. */
static GPtrArray *
sink_pads_ref (GstOvaMux *mux)
{
  GPtrArray *pads = g_ptr_array_new_with_free_func (gst_object_unref);
  GST_OBJECT_LOCK (mux);
  for (GList *l = GST_ELEMENT (mux)->sinkpads; l; l = l->next)
    g_ptr_array_add (pads, gst_object_ref (l->data));
  GST_OBJECT_UNLOCK (mux);
  return pads;
}

/* When (running time) a partial batch goes out: batched-push-timeout (plus
 * the "latency" property) after the first frame of the batch was ready. Not
 * the aggregator's default, the last batch's time plus the whole latency:
 * that adds the upstream latency to every wait, and upstream elements report
 * latency they do not add (identity sync=true passes on a decoder's, while it
 * releases frames at their running time). -1/0: the aggregator's default. */
static GstClockTime
partial_batch_deadline (GstOvaMux *mux, GstClockTime first_ready, GstClockTime agg_latency)
{
  GstClockTime user_latency = 0;
  if (mux->timeout_us <= 0) {
    GstClockTime next = gst_aggregator_simple_get_next_time (GST_AGGREGATOR (mux));
    return GST_CLOCK_TIME_IS_VALID (next) ? next + agg_latency : GST_CLOCK_TIME_NONE;
  }
  if (!GST_CLOCK_TIME_IS_VALID (first_ready))
    return GST_CLOCK_TIME_NONE;
  g_object_get (mux, "latency", &user_latency, NULL);
  return first_ready + (GstClockTime) mux->timeout_us * 1000 + user_latency;
}

/* The aggregator waits until this + its latency (live only). Called with its
 * src lock held: no call here may take it (gst_aggregator_get_latency()). */
static GstClockTime
gst_ova_mux_get_next_time (GstAggregator *agg)
{
  GstOvaMux *mux = GST_OVA_MUX (agg);
  GstClockTime agg_latency, pushed_end, first_ready, deadline, now;
  gboolean any_behind;
  GPtrArray *pads;

  GST_OBJECT_LOCK (mux);
  agg_latency = mux->agg_latency;
  pushed_end = mux->pushed_end;
  GST_OBJECT_UNLOCK (mux);
  if (!GST_CLOCK_TIME_IS_VALID (agg_latency))
    return gst_aggregator_simple_get_next_time (agg);

  pads = sink_pads_ref (mux);
  now = gst_element_get_current_running_time (GST_ELEMENT (mux));
  scan_queued_frames (pads, pushed_end, now, &any_behind, &first_ready);
  g_ptr_array_unref (pads);
  if (any_behind) {
    /* now: a frame behind the others goes out at once */
    deadline = GST_CLOCK_TIME_IS_VALID (now) ? now : 0;
  } else {
    deadline = partial_batch_deadline (mux, first_ready, agg_latency);
    if (!GST_CLOCK_TIME_IS_VALID (deadline))
      return GST_CLOCK_TIME_NONE;       /* nothing queued: wait for a frame */
  }
  return deadline > agg_latency ? deadline - agg_latency : 0;
}

/* The sources downstream waits for (ovademux's linked src pads), or NULL
 * when nothing downstream says. */
static GArray *
query_expected_sources (GstOvaMux *mux)
{
  GstQuery *q = gst_query_new_custom (GST_QUERY_CUSTOM,
      gst_structure_new_empty (OVA_QUERY_EXPECTED_SOURCES));
  GArray *ids = NULL;

  if (gst_pad_peer_query (GST_AGGREGATOR_SRC_PAD (mux), q)) {
    const GValue *v = gst_structure_get_value (gst_query_get_structure (q), "source-ids");
    if (v && GST_VALUE_HOLDS_ARRAY (v)) {
      ids = g_array_new (FALSE, FALSE, sizeof (guint));
      for (guint i = 0; i < gst_value_array_get_size (v); i++) {
        const GValue *id = gst_value_array_get_value (v, i);
        if (G_VALUE_HOLDS_UINT (id)) {
          guint sid = g_value_get_uint (id);
          g_array_append_val (ids, sid);
        }
      }
    }
  }
  gst_query_unref (q);
  return ids;
}

/* Whether one of @ids has no sink pad. Called with the object lock. */
static gboolean
expected_source_missing_unlocked (GstOvaMux *mux, GArray *ids)
{
  for (guint i = 0; i < ids->len; i++) {
    GList *l;
    for (l = GST_ELEMENT (mux)->sinkpads; l; l = l->next)
      if (GST_OVA_MUX_PAD (l->data)->source_id == g_array_index (ids, guint, i))
        break;
    if (!l)
      return TRUE;
  }
  return FALSE;
}

/* Whether every sink pad has ended (none can run ahead any more). Takes the
 * pads' locks, so not called with the object lock. */
static gboolean
all_sink_pads_eos (GstOvaMux *mux)
{
  GPtrArray *pads = sink_pads_ref (mux);
  gboolean all = TRUE;
  for (guint i = 0; i < pads->len && all; i++)
    all = gst_aggregator_pad_is_eos (g_ptr_array_index (pads, i));
  g_ptr_array_unref (pads);
  return all;
}

typedef enum
{
  EXPECTED_ALL_THERE,
  EXPECTED_PAD_ADDED,
  EXPECTED_FLUSHING,
} ExpectedWait;

/* Non-live, before the first batch: a source that downstream waits for (a
 * linked ovademux pad) but whose sink pad is not requested yet (a decoder is
 * linked only once it exposes its pad) must not be left behind. The other
 * sources' batches would fill their branches while those wait for preroll,
 * preroll needs a frame of the missing source, and that frame would queue
 * behind them: nothing would ever come out. Waits until its pad is there. */
static ExpectedWait
wait_for_expected_sources (GstOvaMux *mux)
{
  GArray *ids = query_expected_sources (mux);
  ExpectedWait res = EXPECTED_ALL_THERE;

  if (!ids)
    return res;
  for (;;) {
    gboolean missing;
    GST_OBJECT_LOCK (mux);
    missing = expected_source_missing_unlocked (mux, ids);
    GST_OBJECT_UNLOCK (mux);
    if (!missing || all_sink_pads_eos (mux))
      break;
    if (GST_PAD_IS_FLUSHING (GST_AGGREGATOR_SRC_PAD (mux))) {
      res = EXPECTED_FLUSHING;
      break;
    }
    if (res == EXPECTED_ALL_THERE)
      GST_INFO_OBJECT (mux, "waiting for the sink pads of every source downstream expects");
    res = EXPECTED_PAD_ADDED;
    /* Woken by a new pad; the time-out notices flushing, pads that end and
     * a pad added between the check and the wait (the aggregator's own
     * wake-ups do not signal this condition). */
    GST_OBJECT_LOCK (mux);
    g_cond_wait_until (&mux->pads_cond, GST_OBJECT_GET_LOCK (mux),
        g_get_monotonic_time () + 20 * G_TIME_SPAN_MILLISECOND);
    GST_OBJECT_UNLOCK (mux);
  }
  g_array_unref (ids);
  return res;
}

static GstFlowReturn
gst_ova_mux_aggregate (GstAggregator *agg, gboolean timeout)
{
  GstOvaMux *mux = GST_OVA_MUX (agg);
  GPtrArray *pads = g_ptr_array_new_with_free_func (gst_object_unref);
  Taken taken[256];
  guint n_taken = 0, max, n, eos_pads = 0;
  GstBuffer *out;
  OvaBatchMeta *batch;
  GstClockTime out_pts = GST_CLOCK_TIME_NONE, out_end = GST_CLOCK_TIME_NONE, min_rt = GST_CLOCK_TIME_NONE;
  GstFlowReturn ret;
  guint64 now_ns = ova_latency_now_ns ();
  guint64 ntp = (guint64) g_get_real_time () * 1000;
  GstClockTime agg_latency = gst_aggregator_get_latency (agg), pushed_end;
  gboolean behind_only = FALSE;
  GstClockTime now_rt = gst_element_get_current_running_time (GST_ELEMENT (mux));
  GstClockTime newest_end = GST_CLOCK_TIME_NONE;

  push_pending_events (mux);

  if (!mux->pushed_any && !GST_CLOCK_TIME_IS_VALID (agg_latency)) {
    switch (wait_for_expected_sources (mux)) {
      case EXPECTED_FLUSHING:
        g_ptr_array_unref (pads);
        return GST_FLOW_FLUSHING;
      case EXPECTED_PAD_ADDED:
        /* the new pad has no frame yet: let the aggregator wait for it */
        g_ptr_array_unref (pads);
        return GST_FLOW_OK;
      case EXPECTED_ALL_THERE:
        break;
    }
  }

  GST_OBJECT_LOCK (mux);
  mux->agg_latency = agg_latency;
  pushed_end = mux->pushed_end;
  for (GList *l = GST_ELEMENT (mux)->sinkpads; l; l = l->next)
    g_ptr_array_add (pads, gst_object_ref (l->data));
  GST_OBJECT_UNLOCK (mux);
  n = pads->len;

  /* Woken before the deadline because a frame is behind (see
   * gst_ova_mux_get_next_time()): only such frames go out now, the others
   * still wait for their instant to be complete. */
  if (timeout && GST_CLOCK_TIME_IS_VALID (agg_latency)) {
    gboolean any_behind;
    GstClockTime first_ready, deadline;
    scan_queued_frames (pads, pushed_end, now_rt, &any_behind, &first_ready);
    deadline = partial_batch_deadline (mux, first_ready, agg_latency);
    behind_only = any_behind && (!GST_CLOCK_TIME_IS_VALID (deadline) || !GST_CLOCK_TIME_IS_VALID (now_rt)
        || now_rt < deadline);
  }
  max = mux->batch_size ? mux->batch_size : MAX (n, 1);
  max = MIN (max, G_N_ELEMENTS (taken));

  /* With sync-inputs, a frame much later than the earliest waiting one waits
   * for a later batch, so a batch holds frames of about the same time. */
  if (mux->sync_inputs) {
    for (guint i = 0; i < n; i++) {
      GstBuffer *b = gst_aggregator_pad_peek_buffer (g_ptr_array_index (pads, i));
      if (b) {
        GstClockTime rt = pad_running_time (g_ptr_array_index (pads, i), b);
        if (GST_CLOCK_TIME_IS_VALID (rt) && (!GST_CLOCK_TIME_IS_VALID (min_rt) || rt < min_rt))
          min_rt = rt;
        gst_buffer_unref (b);
      }
    }
  }

  for (guint k = 0; k < n && n_taken < max; k++) {
    GstOvaMuxPad *pad = g_ptr_array_index (pads, (mux->rr_start + k) % n);
    GstBuffer *b;
    if (gst_aggregator_pad_is_eos (GST_AGGREGATOR_PAD (pad)) && !gst_aggregator_pad_has_buffer (GST_AGGREGATOR_PAD (pad))) {
      eos_pads++;
      continue;
    }
    b = gst_aggregator_pad_peek_buffer (GST_AGGREGATOR_PAD (pad));
    if (!b)
      continue;
    if (behind_only && !frame_is_behind (pad, b, pushed_end, now_rt)) {
      gst_buffer_unref (b);
      continue;
    }
    if (mux->sync_inputs && GST_CLOCK_TIME_IS_VALID (min_rt)) {
      GstClockTime rt = pad_running_time (pad, b);
      GstClockTime tol = pad->info.fps_n > 0
          ? gst_util_uint64_scale (GST_SECOND, pad->info.fps_d, pad->info.fps_n) / 2 : 20 * GST_MSECOND;
      if (GST_CLOCK_TIME_IS_VALID (rt) && rt > min_rt + tol) {
        gst_buffer_unref (b);
        continue;
      }
    }
    gst_buffer_unref (b);
    b = gst_aggregator_pad_pop_buffer (GST_AGGREGATOR_PAD (pad));
    if (!b)
      continue;
    if (!pad->have_info) {
      GST_ELEMENT_ERROR (mux, CORE, NEGOTIATION, ("source %u sent a frame before its caps", pad->source_id), (NULL));
      gst_buffer_unref (b);
      for (guint i = 0; i < n_taken; i++)
        gst_buffer_unref (taken[i].buf);
      g_ptr_array_unref (pads);
      return GST_FLOW_NOT_NEGOTIATED;
    }
    taken[n_taken].pad = pad;
    taken[n_taken].buf = b;
    taken[n_taken].rt = pad_running_time (pad, b);
    n_taken++;
  }
  if (n > 0)
    mux->rr_start = (mux->rr_start + 1) % n;

  if (n_taken == 0) {
    gboolean all_eos = TRUE;
    for (guint i = 0; i < n; i++)
      if (!gst_aggregator_pad_is_eos (g_ptr_array_index (pads, i)))
        all_eos = FALSE;
    g_ptr_array_unref (pads);
    if (all_eos && n > 0) {
      push_pending_events (mux);
      GST_INFO_OBJECT (mux, "all sources ended after %" G_GUINT64_FORMAT " batches", mux->batches);
      return GST_FLOW_EOS;
    }
    if (timeout && !behind_only) {
      /* Nothing arrived in time: move on so the next timeout is in the future. */
      GstSegment *seg = &GST_AGGREGATOR_PAD (agg->srcpad)->segment;
      GstClockTime step = mux->timeout_us > 0 ? (GstClockTime) mux->timeout_us * 1000 : 40 * GST_MSECOND;
      seg->position = GST_CLOCK_TIME_IS_VALID (seg->position) ? seg->position + step : step;
    }
    return GST_FLOW_OK;
  }

  if (gst_buffer_pool_acquire_buffer (mux->batch_pool, &out, NULL) != GST_FLOW_OK)
    out = gst_buffer_new ();
  batch = ova_buffer_add_batch_meta (out, max, mux->pool);
  for (guint i = 0; i < n_taken; i++) {
    GstOvaMuxPad *pad = taken[i].pad;
    GstBuffer *b = taken[i].buf;
    OvaFrameMeta *f = ova_batch_meta_acquire_frame (batch);
    GstClockTime rt = taken[i].rt, dur = GST_BUFFER_DURATION (b);

    f->source_id = pad->source_id;
    f->pad_index = pad->source_id;
    f->frame_num = pad->frame_num++;
    f->buf_pts = GST_BUFFER_PTS (b);
    f->duration = dur;
    f->ntp_timestamp = ntp;
    f->source_width = GST_VIDEO_INFO_WIDTH (&pad->info);
    f->source_height = GST_VIDEO_INFO_HEIGHT (&pad->info);
    f->memory_type = pad->mem_type;
    f->latency.source_ns = pop_arrival (pad, b, now_ns);
    if (pad->conv) {
      if (!append_scaled (mux, pad, b, out, f)) {
        /* Keep the frame (its meta says where it came from) but without pixels:
         * consumers skip frames with n_mems == 0. */
        GST_ELEMENT_WARNING (mux, STREAM, DECODE, ("source %u: could not map a frame to scale it",
                pad->source_id), (NULL));
        f->n_mems = 0;
      }
    } else {
      guint nm = gst_buffer_n_memory (b);
      frame_layout (&pad->info, b, &f->video_info);
      f->n_mems = nm;
      if (gst_buffer_n_memory (out) + nm <= gst_buffer_get_max_memory ()) {
        /* appended by gst_ova_batch_pool_add_frame() below */
        f->mem_index = gst_buffer_n_memory (out);
      } else {
        /* A GstBuffer holds at most 16 memories and would merge (copy) them
         * past that: frames beyond the limit keep their own buffer. */
        f->mem_index = 0;
        f->buffer = gst_buffer_ref (b);
      }
    }
    ova_batch_meta_add_frame (batch, f);

    if (GST_CLOCK_TIME_IS_VALID (rt)) {
      GstClockTime end = rt + (GST_CLOCK_TIME_IS_VALID (dur) ? dur : 0);
      if (!GST_CLOCK_TIME_IS_VALID (out_pts) || rt < out_pts)
        out_pts = rt;
      if (!GST_CLOCK_TIME_IS_VALID (out_end) || end > out_end)
        out_end = end;
      pad->last_rt_end = end;
      /* frames ahead of the clock do not count: they would make every
       * frame of the sources on time look behind */
      if ((!GST_CLOCK_TIME_IS_VALID (now_rt) || rt <= now_rt)
          && (!GST_CLOCK_TIME_IS_VALID (newest_end) || end > newest_end))
        newest_end = end;
    }
    pad->seen_data = TRUE;
    if (GST_BUFFER_FLAG_IS_SET (b, GST_BUFFER_FLAG_DISCONT))
      GST_BUFFER_FLAG_SET (out, GST_BUFFER_FLAG_DISCONT);
    /* The batch takes the input frame's memories and keeps the input buffer
     * until it is done with them, so the buffer returns to its pool intact
     * (see gstovabatchpool.c). */
    if (pad->conv || f->buffer)
      gst_buffer_unref (b);     /* scaled copy, or kept by the frame meta */
    else
      gst_ova_batch_pool_add_frame (out, b);
  }
  g_ptr_array_unref (pads);

  /* Output time is running time (the src segment starts at 0): monotonic across sources. */
  {
    GstSegment *seg = &GST_AGGREGATOR_PAD (agg->srcpad)->segment;
    if (GST_CLOCK_TIME_IS_VALID (out_pts) && GST_CLOCK_TIME_IS_VALID (seg->position) && out_pts < seg->position
        && seg->position != (GstClockTime) seg->start)
      out_pts = MAX (out_pts, seg->position > 0 ? seg->position - 1 : 0);
    GST_BUFFER_PTS (out) = out_pts;
    GST_BUFFER_DURATION (out) = GST_CLOCK_TIME_IS_VALID (out_end) && out_end > out_pts ? out_end - out_pts : GST_CLOCK_TIME_NONE;
    /* A batch of frames that were behind ends earlier than the previous
     * one: the position only moves forward. */
    if (GST_CLOCK_TIME_IS_VALID (out_end)
        && (!GST_CLOCK_TIME_IS_VALID (seg->position) || out_end > seg->position))
      seg->position = out_end;
    else if (!GST_CLOCK_TIME_IS_VALID (out_end) && GST_CLOCK_TIME_IS_VALID (out_pts))
      seg->position = MAX (out_pts, GST_CLOCK_TIME_IS_VALID (seg->position) ? seg->position : 0);
  }
  /* the end of the newest frame batched, for frame_is_behind() */
  GST_OBJECT_LOCK (mux);
  if (GST_CLOCK_TIME_IS_VALID (newest_end)
      && (!GST_CLOCK_TIME_IS_VALID (mux->pushed_end) || newest_end > mux->pushed_end))
    mux->pushed_end = newest_end;
  GST_OBJECT_UNLOCK (mux);

  if (ova_latency_enabled ()) {
    /* The muxer's latency is the wait for the batch: arrival to push. */
    for (guint i = 0; i < batch->frames->len; i++) {
      OvaFrameMeta *f = g_ptr_array_index (batch->frames, i);
      ova_frame_meta_latency_enter (f, GST_OBJECT_NAME (mux));
      if (f->latency.n_entries > 0)
        f->latency.entries[f->latency.n_entries - 1].in_ns = f->latency.source_ns;
      ova_frame_meta_latency_exit (f, GST_OBJECT_NAME (mux));
    }
  }
  mux->batches++;
  GST_LOG_OBJECT (mux, "batch %" G_GUINT64_FORMAT ": %u frames, pts %" GST_TIME_FORMAT,
      mux->batches, n_taken, GST_TIME_ARGS (out_pts));
  ret = gst_aggregator_finish_buffer (agg, out);
  mux->pushed_any = TRUE;
  /* Stream events right after the batch (the first batch opens the stream). */
  push_pending_events (mux);
  return ret;
}

static gboolean
gst_ova_mux_src_event (GstAggregator *agg, GstEvent *event)
{
  GstOvaMux *mux = GST_OVA_MUX (agg);
  gboolean ret;
  if (GST_EVENT_TYPE (event) == GST_EVENT_SEEK) {
    g_atomic_int_set (&mux->seeking, 1);
    ret = GST_AGGREGATOR_CLASS (gst_ova_mux_parent_class)->src_event (agg, event);
    g_atomic_int_set (&mux->seeking, 0);
    return ret;
  }
  return GST_AGGREGATOR_CLASS (gst_ova_mux_parent_class)->src_event (agg, event);
}

static gboolean
gst_ova_mux_src_query (GstAggregator *agg, GstQuery *query)
{
  GstOvaMux *mux = GST_OVA_MUX (agg);
  gboolean ret = GST_AGGREGATOR_CLASS (gst_ova_mux_parent_class)->src_query (agg, query);

  if (ret && GST_QUERY_TYPE (query) == GST_QUERY_LATENCY && mux->live_source) {
    gboolean live;
    GstClockTime min, max;
    gst_query_parse_latency (query, &live, &min, &max);
    if (!live) {
      /* With live-source the muxer batches on the clock, like a live source
       * that adds batched-push-timeout (plus any extra aggregator latency):
       * say so, or sinks would find every batch late. Nothing upstream limits
       * how long data can wait, hence no maximum. */
      GstClockTime ours = 0;
      g_object_get (mux, "latency", &ours, NULL);
      if (mux->timeout_us > 0)
        ours += (GstClockTime) mux->timeout_us * 1000;
      gst_query_set_latency (query, TRUE, ours, GST_CLOCK_TIME_NONE);
    }
  }
  return ret;
}

static GstPad *
gst_ova_mux_request_new_pad (GstElement *element, GstPadTemplate *templ, const gchar *req_name,
    const GstCaps *caps)
{
  GstOvaMux *mux = GST_OVA_MUX (element);
  GstPad *pad;
  guint idx = 0;

  if (req_name && sscanf (req_name, "sink_%u", &idx) != 1) {
    GST_ELEMENT_WARNING (mux, CORE, PAD, ("bad pad name '%s': use sink_%%u", req_name), (NULL));
    return NULL;
  }
  pad = GST_ELEMENT_CLASS (gst_ova_mux_parent_class)->request_new_pad (element, templ, req_name, caps);
  if (!pad)
    return NULL;
  if (sscanf (GST_PAD_NAME (pad), "sink_%u", &idx) == 1)
    GST_OVA_MUX_PAD (pad)->source_id = idx;
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST, arrival_probe, NULL, NULL);
  queue_stream_event (mux, OVA_EVENT_STREAM_ADD, GST_OVA_MUX_PAD (pad)->source_id);
  gst_pad_mark_reconfigure (GST_AGGREGATOR_SRC_PAD (mux));
  GST_OBJECT_LOCK (mux);
  g_cond_broadcast (&mux->pads_cond);
  GST_OBJECT_UNLOCK (mux);
  return pad;
}

static void
gst_ova_mux_release_pad (GstElement *element, GstPad *pad)
{
  GstOvaMux *mux = GST_OVA_MUX (element);
  guint sid = GST_OVA_MUX_PAD (pad)->source_id, other;
  gboolean cancelled = FALSE;

  GST_INFO_OBJECT (mux, "releasing %s", GST_PAD_NAME (pad));
  /* A pad released before its ova-stream-add went out and before any of its
   * frames did never existed for downstream: drop the pending add instead
   * of announcing add + remove.
   * gst-launch-1.0 does this when it tries links it makes later. */
  GST_OBJECT_LOCK (mux);
  for (GList *l = mux->pending_events.head; l && !GST_OVA_MUX_PAD (pad)->seen_data; l = l->next) {
    if (ova_event_parse_stream (l->data, OVA_EVENT_STREAM_ADD, &other) && other == sid) {
      gst_event_unref (l->data);
      g_queue_delete_link (&mux->pending_events, l);
      cancelled = TRUE;
      break;
    }
  }
  GST_OBJECT_UNLOCK (mux);
  if (!cancelled)
    queue_stream_event (mux, OVA_EVENT_STREAM_REMOVE, sid);
  GST_ELEMENT_CLASS (gst_ova_mux_parent_class)->release_pad (element, pad);
}

static gboolean
gst_ova_mux_start (GstAggregator *agg)
{
  GstOvaMux *mux = GST_OVA_MUX (agg);
  mux->pushed_any = FALSE;
  mux->batches = 0;
  mux->rr_start = 0;
  GST_OBJECT_LOCK (mux);
  mux->agg_latency = GST_CLOCK_TIME_NONE;
  mux->pushed_end = GST_CLOCK_TIME_NONE;
  GST_OBJECT_UNLOCK (mux);
  return TRUE;
}

/* A flushing seek through the src pad: running times start over. */
static GstFlowReturn
gst_ova_mux_flush (GstAggregator *agg)
{
  GstOvaMux *mux = GST_OVA_MUX (agg);
  GST_OBJECT_LOCK (mux);
  mux->pushed_end = GST_CLOCK_TIME_NONE;
  GST_OBJECT_UNLOCK (mux);
  return GST_FLOW_OK;
}

static gboolean
gst_ova_mux_stop (GstAggregator *agg)
{
  GstOvaMux *mux = GST_OVA_MUX (agg);
  GST_OBJECT_LOCK (mux);
  g_queue_clear_full (&mux->pending_events, (GDestroyNotify) gst_event_unref);
  GST_OBJECT_UNLOCK (mux);
  gst_caps_replace (&mux->batch_caps, NULL);
  return TRUE;
}

static void
apply_live_settings (GstOvaMux *mux)
{
  GstAggregator *agg = GST_AGGREGATOR (mux);
  GstClockTime t = mux->timeout_us > 0 ? (GstClockTime) mux->timeout_us * 1000 : 0;
  /* In live mode the aggregator times out at running time + latency: the
   * batched-push-timeout is the latency this element adds. It is reported as
   * such (the aggregator's own "latency" property stays the user's, for extra
   * queueing; setting both would count the timeout twice). */
  gst_aggregator_set_latency (agg, t, t);
}

static void
gst_ova_mux_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  GstOvaMux *mux = GST_OVA_MUX (object);
  switch (prop_id) {
    case PROP_BATCH_SIZE:
      mux->batch_size = g_value_get_uint (value);
      gst_pad_mark_reconfigure (GST_AGGREGATOR_SRC_PAD (mux));
      break;
    case PROP_BATCHED_PUSH_TIMEOUT:
      mux->timeout_us = g_value_get_int (value);
      apply_live_settings (mux);
      break;
    case PROP_LIVE_SOURCE:
      mux->live_source = g_value_get_boolean (value);
      if (GST_STATE (mux) > GST_STATE_READY)
        GST_WARNING_OBJECT (mux, "live-source takes effect in NULL/READY only");
      else {
        gst_aggregator_set_force_live (GST_AGGREGATOR (mux), mux->live_source);
        gst_aggregator_set_ignore_inactive_pads (GST_AGGREGATOR (mux), mux->live_source);
      }
      break;
    case PROP_SYNC_INPUTS:
      mux->sync_inputs = g_value_get_boolean (value);
      break;
    case PROP_WIDTH:
      mux->width = g_value_get_uint (value);
      break;
    case PROP_HEIGHT:
      mux->height = g_value_get_uint (value);
      break;
    case PROP_GPU_ID:
      mux->gpu_id = g_value_get_int (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
gst_ova_mux_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  GstOvaMux *mux = GST_OVA_MUX (object);
  switch (prop_id) {
    case PROP_BATCH_SIZE: g_value_set_uint (value, mux->batch_size); break;
    case PROP_BATCHED_PUSH_TIMEOUT: g_value_set_int (value, (gint) mux->timeout_us); break;
    case PROP_LIVE_SOURCE: g_value_set_boolean (value, mux->live_source); break;
    case PROP_SYNC_INPUTS: g_value_set_boolean (value, mux->sync_inputs); break;
    case PROP_WIDTH: g_value_set_uint (value, mux->width); break;
    case PROP_HEIGHT: g_value_set_uint (value, mux->height); break;
    case PROP_GPU_ID: g_value_set_int (value, mux->gpu_id); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
  }
}

static void
gst_ova_mux_finalize (GObject *object)
{
  GstOvaMux *mux = GST_OVA_MUX (object);
  g_queue_clear_full (&mux->pending_events, (GDestroyNotify) gst_event_unref);
  gst_caps_replace (&mux->batch_caps, NULL);
  g_cond_clear (&mux->pads_cond);
  ova_meta_pool_unref (mux->pool);
  gst_buffer_pool_set_active (mux->batch_pool, FALSE);
  gst_object_unref (mux->batch_pool);
  G_OBJECT_CLASS (gst_ova_mux_parent_class)->finalize (object);
}

static void
gst_ova_mux_class_init (GstOvaMuxClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstAggregatorClass *agg_class = GST_AGGREGATOR_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (ova_mux_debug, "ovamux", 0, "ova batch muxer");

  gobject_class->set_property = gst_ova_mux_set_property;
  gobject_class->get_property = gst_ova_mux_get_property;
  gobject_class->finalize = gst_ova_mux_finalize;

  g_object_class_install_property (gobject_class, PROP_BATCH_SIZE,
      g_param_spec_uint ("batch-size", "Batch size",
          "Maximum frames per batch; 0 = one per connected source", 0, 256, DEFAULT_BATCH_SIZE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));
  g_object_class_install_property (gobject_class, PROP_BATCHED_PUSH_TIMEOUT,
      g_param_spec_int ("batched-push-timeout", "Batched push timeout",
          "With live sources: microseconds after the first frame of a batch to wait for the slowest "
          "source before a partial batch is pushed (-1 or 0: until the last batch's time plus the "
          "whole latency)", -1, G_MAXINT, DEFAULT_TIMEOUT_US,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_LIVE_SOURCE,
      g_param_spec_boolean ("live-source", "Live source",
          "Batch on a deadline even if no source reports itself live (cameras, RTSP); "
          "sources that have not started yet are not waited for", DEFAULT_LIVE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_SYNC_INPUTS,
      g_param_spec_boolean ("sync-inputs", "Synchronise inputs",
          "Only batch frames whose running times agree within half a frame; later frames wait "
          "for the next batch", DEFAULT_SYNC_INPUTS, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_WIDTH,
      g_param_spec_uint ("width", "Width",
          "Scale every frame to this width (0: keep each source's size, no copy)", 0, 16384, 0,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_HEIGHT,
      g_param_spec_uint ("height", "Height",
          "Scale every frame to this height (0: keep each source's size, no copy)", 0, 16384, 0,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (gobject_class, PROP_GPU_ID,
      g_param_spec_int ("gpu-id", "GPU id", "GPU of CUDA frames (accepted for nvstreammux compatibility)",
          0, 64, 0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  gst_element_class_add_static_pad_template_with_gtype (element_class, &sink_template, GST_TYPE_OVA_MUX_PAD);
  gst_element_class_add_static_pad_template_with_gtype (element_class, &src_template, GST_TYPE_AGGREGATOR_PAD);
  gst_element_class_set_static_metadata (element_class, "ova batch muxer", "Muxer/Video",
      "Batches frames of many sources into one buffer without copying pixels",
      "The ova authors");

  element_class->request_new_pad = GST_DEBUG_FUNCPTR (gst_ova_mux_request_new_pad);
  element_class->release_pad = GST_DEBUG_FUNCPTR (gst_ova_mux_release_pad);
  agg_class->aggregate = GST_DEBUG_FUNCPTR (gst_ova_mux_aggregate);
  agg_class->sink_event = GST_DEBUG_FUNCPTR (gst_ova_mux_sink_event);
  agg_class->sink_query = GST_DEBUG_FUNCPTR (gst_ova_mux_sink_query);
  agg_class->src_event = GST_DEBUG_FUNCPTR (gst_ova_mux_src_event);
  agg_class->src_query = GST_DEBUG_FUNCPTR (gst_ova_mux_src_query);
  agg_class->update_src_caps = GST_DEBUG_FUNCPTR (gst_ova_mux_update_src_caps);
  agg_class->start = GST_DEBUG_FUNCPTR (gst_ova_mux_start);
  agg_class->stop = GST_DEBUG_FUNCPTR (gst_ova_mux_stop);
  agg_class->get_next_time = GST_DEBUG_FUNCPTR (gst_ova_mux_get_next_time);
  agg_class->flush = GST_DEBUG_FUNCPTR (gst_ova_mux_flush);

  gst_type_mark_as_plugin_api (GST_TYPE_OVA_MUX_PAD, 0);
}

static void
gst_ova_mux_init (GstOvaMux *mux)
{
  mux->batch_size = DEFAULT_BATCH_SIZE;
  mux->timeout_us = DEFAULT_TIMEOUT_US;
  mux->pool = ova_meta_pool_new ();
  mux->batch_pool = gst_ova_batch_pool_new ();
  g_queue_init (&mux->pending_events);
  g_cond_init (&mux->pads_cond);
  mux->agg_latency = GST_CLOCK_TIME_NONE;
  mux->pushed_end = GST_CLOCK_TIME_NONE;
  apply_live_settings (mux);
}
