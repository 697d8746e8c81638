/* ova — bench: 16 sources of 1080p NV12 into one 1920x1080 4x4 grid,
 * ovatiler versus compositor with the same layout, in the same run.
 * SPDX-License-Identifier: MIT
 *
 * Both pipelines get their input queued in appsrc before PLAYING (the same
 * 16 pictures, shared memory, no copies), run to EOS into fakesink, and are
 * timed from PLAYING to EOS (wall clock, and CPU time of the process).
 *   ova         appsrc (batches of 16 frames + OvaBatchMeta) ! ovatiler rows=4 columns=4
 *   compositor  16 x appsrc ! compositor (xpos/ypos/width/height per pad, background black)
 * Both use all cores by default (ovatiler threads=0, compositor max-threads=0).
 */
#include <gst/gst.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>
#include <ova/meta.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#define N_SRC 16
#define W 1920
#define H 1080

static GstBuffer *frames[N_SRC];
static GstVideoInfo vinfo;

static gdouble
cpu_s (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void
make_frames (void)
{
  gst_video_info_set_format (&vinfo, GST_VIDEO_FORMAT_NV12, W, H);
  for (gint s = 0; s < N_SRC; s++) {
    GstMapInfo m;
    frames[s] = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&vinfo), NULL);
    gst_buffer_map (frames[s], &m, GST_MAP_WRITE);
    for (gsize i = 0; i < m.size; i++)
      m.data[i] = (guint8) ((i % W) / 8 + (i / W) / 8 + s * 13);
    gst_buffer_unmap (frames[s], &m);
  }
}

/* Runs @pipe to EOS; returns wall seconds, *cpu the process CPU seconds. */
static gdouble
run_to_eos (GstElement *pipe, gdouble *cpu)
{
  GstBus *bus = gst_element_get_bus (pipe);
  GstMessage *msg;
  gint64 t0;
  gdouble c0;
  gst_element_set_state (pipe, GST_STATE_PAUSED);
  gst_element_get_state (pipe, NULL, NULL, GST_CLOCK_TIME_NONE);
  c0 = cpu_s ();
  t0 = g_get_monotonic_time ();
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  gdouble wall = (g_get_monotonic_time () - t0) / 1e6;
  *cpu = cpu_s () - c0;
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *e;
    gst_message_parse_error (msg, &e, NULL);
    fprintf (stderr, "error: %s\n", e->message);
    exit (1);
  }
  gst_message_unref (msg);
  gst_object_unref (bus);
  gst_element_set_state (pipe, GST_STATE_NULL);
  return wall;
}

static gdouble
run_ova (gint n, gdouble *cpu)
{
  GstElement *pipe = gst_parse_launch ("appsrc name=src format=time ! ovatiler rows=4 columns=4 width=1920 height=1080 ! "
      "video/x-raw,format=NV12,width=1920,height=1080 ! fakesink sync=false", NULL);
  GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), "src");
  GstCaps *caps = gst_video_info_to_caps (&vinfo);
  OvaMetaPool *pool = ova_meta_pool_new ();
  gdouble wall;
  gst_caps_set_simple (caps, "framerate", GST_TYPE_FRACTION, 30, 1, NULL);
  g_object_set (src, "caps", caps, "max-bytes", (guint64) 0, NULL);
  gst_caps_unref (caps);
  for (gint i = 0; i < n; i++) {
    GstBuffer *b = gst_buffer_new ();
    OvaBatchMeta *bm = ova_buffer_add_batch_meta (b, N_SRC, pool);
    for (gint s = 0; s < N_SRC; s++) {
      OvaFrameMeta *f = ova_batch_meta_acquire_frame (bm);
      f->source_id = f->pad_index = s;
      f->mem_index = s; f->n_mems = 1; f->memory_type = OVA_MEMORY_SYSTEM;
      f->video_info = vinfo; f->source_width = W; f->source_height = H;
      gst_buffer_append_memory (b, gst_buffer_get_memory (frames[s], 0));
      ova_batch_meta_add_frame (bm, f);
    }
    GST_BUFFER_PTS (b) = gst_util_uint64_scale (i, GST_SECOND, 30);
    GST_BUFFER_DURATION (b) = GST_SECOND / 30;
    gst_app_src_push_buffer (GST_APP_SRC (src), b);
  }
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  wall = run_to_eos (pipe, cpu);
  gst_object_unref (src);
  gst_object_unref (pipe);
  ova_meta_pool_unref (pool);
  return wall;
}

static gdouble
run_compositor (gint n, gdouble *cpu)
{
  GString *desc = g_string_new ("compositor name=c background=black");
  GstElement *pipe;
  gdouble wall;
  GstCaps *caps = gst_video_info_to_caps (&vinfo);
  gst_caps_set_simple (caps, "framerate", GST_TYPE_FRACTION, 30, 1, NULL);
  for (gint s = 0; s < N_SRC; s++)
    g_string_append_printf (desc, " sink_%d::xpos=%d sink_%d::ypos=%d sink_%d::width=480 sink_%d::height=270",
        s, (s % 4) * 480, s, (s / 4) * 270, s, s);
  g_string_append (desc, " ! video/x-raw,format=NV12,width=1920,height=1080 ! fakesink sync=false");
  for (gint s = 0; s < N_SRC; s++)
    g_string_append_printf (desc, " appsrc name=s%d format=time ! c.sink_%d", s, s);
  pipe = gst_parse_launch (desc->str, NULL);
  g_string_free (desc, TRUE);
  for (gint s = 0; s < N_SRC; s++) {
    gchar name[8];
    g_snprintf (name, sizeof (name), "s%d", s);
    GstElement *src = gst_bin_get_by_name (GST_BIN (pipe), name);
    g_object_set (src, "caps", caps, "max-bytes", (guint64) 0, NULL);
    for (gint i = 0; i < n; i++) {
      GstBuffer *b = gst_buffer_new ();
      gst_buffer_append_memory (b, gst_buffer_get_memory (frames[s], 0));
      gst_buffer_add_video_meta_full (b, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_FORMAT_NV12, W, H,
          GST_VIDEO_INFO_N_PLANES (&vinfo), vinfo.offset, vinfo.stride);
      GST_BUFFER_PTS (b) = gst_util_uint64_scale (i, GST_SECOND, 30);
      GST_BUFFER_DURATION (b) = GST_SECOND / 30;
      gst_app_src_push_buffer (GST_APP_SRC (src), b);
    }
    gst_app_src_end_of_stream (GST_APP_SRC (src));
    gst_object_unref (src);
  }
  gst_caps_unref (caps);
  wall = run_to_eos (pipe, cpu);
  gst_object_unref (pipe);
  return wall;
}

int
main (int argc, char **argv)
{
  gint n = argc > 1 ? atoi (argv[1]) : 100, rounds = argc > 2 ? atoi (argv[2]) : 3;
  gdouble ova_wall, ova_cpu, comp_wall, comp_cpu;
  gst_init (&argc, &argv);
  if (!gst_element_factory_find ("ovatiler")) {
    fprintf (stderr, "ovatiler not found (set GST_PLUGIN_PATH to build/plugins)\n");
    return 77;
  }
  make_frames ();
  /* alternating rounds, best of each: a shared machine only ever adds time */
  ova_wall = ova_cpu = comp_wall = comp_cpu = G_MAXDOUBLE;
  for (gint round = 0; round < rounds; round++) {
    gdouble w, c;
    w = run_ova (n, &c);
    ova_wall = MIN (ova_wall, w); ova_cpu = MIN (ova_cpu, c);
    w = run_compositor (n, &c);
    comp_wall = MIN (comp_wall, w); comp_cpu = MIN (comp_cpu, c);
  }
  printf ("output frames: %d of 1920x1080 NV12, each from 16 sources of 1920x1080 NV12 (4x4 grid), %u cores, best of %d rounds\n",
      n, g_get_num_processors (), rounds);
  printf ("ovatiler   : %8.2f ms/frame wall, %8.2f ms/frame CPU\n", ova_wall * 1e3 / n, ova_cpu * 1e3 / n);
  printf ("compositor : %8.2f ms/frame wall, %8.2f ms/frame CPU\n", comp_wall * 1e3 / n, comp_cpu * 1e3 / n);
  printf ("ratio compositor / ovatiler: %.2fx wall, %.2fx CPU\n", comp_wall / ova_wall, comp_cpu / ova_cpu);
  for (gint s = 0; s < N_SRC; s++)
    gst_buffer_unref (frames[s]);
  return 0;
}
