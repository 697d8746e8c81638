/* ova — throughput of ovainfer against bare inference, same frames, same threads.
 *
 *   infer-bench [--frames N] [--rounds R] [--threads T] [--config FILE] [--video FILE]
 *               [--ort-script ort-run.js] [--json]
 *
 * 1. decodes N frames of the video to NV12 (not timed);
 * 2. R rounds; each round times one pass over the frames of each contestant,
 *    in rotating order (so a busy machine slows all of them alike):
 *    - pipeline: appsrc (the decoded frames) ! ovamux ! ovainfer ! fakesink:
 *      batching, preprocessing, inference, parsing, NMS and metadata (without
 *      ovamux in the build, appsrc pushes batches built as ovamux builds them);
 *    - the ova engine alone on the preprocessed tensors (inference only);
 *    - ONNX Runtime alone on the same tensors (node + onnxruntime-node,
 *      OVA_ORT_NODE_PATH or .cache/ort/node_modules), same threads.
 * Prints the median frames/s of each and the medians of the per-round ratios
 * pipeline / ONNX Runtime and pipeline / engine.
 * SPDX-License-Identifier: MIT */
#include <gst/gst.h>
#include <gst/app/gstappsrc.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#include <ova/meta.h>
#include <ova/infer.h>
#include <ova/engine.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <string.h>
#include <glib/gstdio.h>

static gint n_frames = 100, rounds = 5, threads = 0;
static gchar *config, *video, *ort_script;
static gboolean json;

static GOptionEntry entries[] = {
  { "frames", 'n', 0, G_OPTION_ARG_INT, &n_frames, "frames of the video to use (100)", "N" },
  { "rounds", 'r', 0, G_OPTION_ARG_INT, &rounds, "rounds, each timing one pass of every contestant (5)", "R" },
  { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "inference threads, 0 = all cores", "T" },
  { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config, "ovainfer config (configs/yolox_nano.txt)", "FILE" },
  { "video", 'v', 0, G_OPTION_ARG_FILENAME, &video, "video (.cache/assets/vtest.avi)", "FILE" },
  { "ort-script", 0, 0, G_OPTION_ARG_FILENAME, &ort_script, "tests/infer/ort-run.js", "FILE" },
  { "json", 0, 0, G_OPTION_ARG_NONE, &json, "print one JSON line", NULL },
  { NULL },
};

static GPtrArray *
decode_frames (GstVideoInfo *info)
{
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! videoconvert ! video/x-raw,format=NV12 ! "
                                 "appsink name=s sync=false", video);
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err);
  g_free (desc);
  if (!p || err) {
    g_printerr ("infer-bench: %s\n", err ? err->message : "cannot decode");
    return NULL;
  }
  GstAppSink *s = GST_APP_SINK (gst_bin_get_by_name (GST_BIN (p), "s"));
  gst_element_set_state (p, GST_STATE_PLAYING);
  GPtrArray *frames = g_ptr_array_new_with_free_func ((GDestroyNotify) gst_buffer_unref);
  for (gint i = 0; i < n_frames; i++) {
    GstSample *smp = gst_app_sink_pull_sample (s);
    if (!smp)
      break;
    if (i == 0)
      gst_video_info_from_caps (info, gst_sample_get_caps (smp));
    g_ptr_array_add (frames, gst_buffer_ref (gst_sample_get_buffer (smp)));
    gst_sample_unref (smp);
  }
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (s);
  gst_object_unref (p);
  return frames;
}

static GstBuffer *
make_batch (GstBuffer *fb, const GstVideoInfo *info, guint64 k, OvaMetaPool *pool)
{
  GstBuffer *batch = gst_buffer_new ();
  OvaBatchMeta *bm = ova_buffer_add_batch_meta (batch, 1, pool);
  OvaFrameMeta *f = ova_batch_meta_acquire_frame (bm);
  for (guint m = 0; m < gst_buffer_n_memory (fb); m++)
    gst_buffer_append_memory (batch, gst_buffer_get_memory (fb, m));
  f->frame_num = k;
  f->buf_pts = k * GST_SECOND / 10;
  f->source_width = info->width;
  f->source_height = info->height;
  f->n_mems = gst_buffer_n_memory (fb);
  f->memory_type = OVA_MEMORY_SYSTEM;
  f->video_info = *info;
  ova_batch_meta_add_frame (bm, f);
  GST_BUFFER_PTS (batch) = f->buf_pts;
  GST_BUFFER_DURATION (batch) = GST_SECOND / 10;
  return batch;
}

static int
cmp_double (const void *a, const void *b)
{
  gdouble x = *(const gdouble *) a, y = *(const gdouble *) b;
  return x < y ? -1 : x > y;
}

static gdouble
median (const gdouble *v, gint n)
{
  gdouble *c = g_memdup2 (v, sizeof (gdouble) * n);
  qsort (c, n, sizeof (gdouble), cmp_double);
  gdouble m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
  g_free (c);
  return m;
}

/* CPU time (user + system) of the whole process, ms */
static gdouble
cpu_ms (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static gdouble pipe_cpu_ms; /* CPU ms per frame of the last pipeline pass */

static gint handoffs;

static void
on_handoff (GstElement *sink, GstBuffer *buf, GstPad *pad, gpointer data)
{
  g_atomic_int_inc (&handoffs);
}

static gboolean have_mux;

/* A decoded frame for ovamux (new buffer sharing the frame's memory). */
static GstBuffer *
make_frame (GstBuffer *fb, guint64 k)
{
  GstBuffer *b = gst_buffer_copy (fb);
  GST_BUFFER_PTS (b) = k * GST_SECOND / 10;
  GST_BUFFER_DTS (b) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (b) = GST_SECOND / 10;
  return b;
}

static GstBuffer *
make_input (GstBuffer *fb, const GstVideoInfo *info, guint64 k, OvaMetaPool *pool)
{
  return have_mux ? make_frame (fb, k) : make_batch (fb, info, k, pool);
}

/* [ovamux !] ovainfer ! fakesink over all frames, once. */
static gdouble
bench_pipeline (GPtrArray *frames, const GstVideoInfo *info, guint64 *n_objects)
{
  /* decoded frames -> ovamux -> ovainfer -> fakesink; without ovamux in this
   * build, appsrc pushes batches made as ovamux makes them */
  gchar *mux = have_mux ? g_strdup_printf ("ovamux name=mux batch-size=1 width=%d height=%d ! ", info->width,
                                           info->height)
                        : g_strdup ("");
  gchar *desc = g_strdup_printf ("appsrc name=a format=time max-bytes=0 block=true ! %sovainfer config-file-path=\"%s\" "
                                 "threads=%d ! fakesink name=f sync=false signal-handoffs=true", mux, config, threads);
  g_free (mux);
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err);
  g_free (desc);
  if (!p || err) {
    g_printerr ("infer-bench: %s\n", err ? err->message : "pipeline");
    return -1;
  }
  GstAppSrc *src = GST_APP_SRC (gst_bin_get_by_name (GST_BIN (p), "a"));
  g_object_set (src, "max-buffers", (guint64) 2, NULL);
  GstCaps *caps = gst_video_info_to_caps (info);
  gst_app_src_set_caps (src, caps);
  gst_caps_unref (caps);
  if (gst_element_set_state (p, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    g_printerr ("infer-bench: the pipeline did not start (see the error above)\n");
    return -1;
  }
  OvaMetaPool *pool = ova_meta_pool_new ();
  GstElement *fsink = gst_bin_get_by_name (GST_BIN (p), "f");
  g_signal_connect (fsink, "handoff", G_CALLBACK (on_handoff), NULL);
  gst_object_unref (fsink);
  g_atomic_int_set (&handoffs, 0);
  /* one warm-up frame through the whole pipeline, not timed */
  gst_app_src_push_buffer (src, make_input (g_ptr_array_index (frames, 0), info, 0, pool));
  GstBus *bus = gst_element_get_bus (p);
  while (g_atomic_int_get (&handoffs) < 1) {
    GstMessage *em = gst_bus_timed_pop_filtered (bus, 1 * GST_MSECOND, GST_MESSAGE_ERROR);
    if (em) {
      GError *e = NULL;
      gst_message_parse_error (em, &e, NULL);
      g_printerr ("infer-bench: %s\n", e->message);
      g_error_free (e);
      gst_message_unref (em);
      return -1;
    }
  }
  gint64 t0 = g_get_monotonic_time ();
  gdouble c0 = cpu_ms ();
  guint64 k = 1;
  for (guint i = 0; i < frames->len; i++)
    gst_app_src_push_buffer (src, make_input (g_ptr_array_index (frames, i), info, k++, pool));
  gst_app_src_end_of_stream (src);
  GstMessage *m = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  gint64 t1 = g_get_monotonic_time ();
  gdouble fps = -1;
  if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS) {
    fps = (gdouble) frames->len / ((t1 - t0) / 1e6);
    pipe_cpu_ms = (cpu_ms () - c0) / frames->len;
  } else {
    GError *e = NULL;
    gst_message_parse_error (m, &e, NULL);
    g_printerr ("infer-bench: %s\n", e->message);
    g_error_free (e);
  }
  gst_message_unref (m);
  gst_object_unref (bus);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (src);
  gst_object_unref (p);
  ova_meta_pool_unref (pool);
  (void) n_objects;
  return fps;
}

int
main (int argc, char **argv)
{
  GOptionContext *oc = g_option_context_new ("- ovainfer throughput vs bare inference");
  g_option_context_add_main_entries (oc, entries, NULL);
  g_option_context_add_group (oc, gst_init_get_option_group ());
  GError *err = NULL;
  if (!g_option_context_parse (oc, &argc, &argv, &err)) {
    g_printerr ("infer-bench: %s\n", err->message);
    return 2;
  }
  g_option_context_free (oc);
  const gchar *root = g_getenv ("OVA_SOURCE_DIR") ? g_getenv ("OVA_SOURCE_DIR") : ".";
  if (!config)
    config = g_build_filename (root, "configs", "yolox_nano.txt", NULL);
  if (!video)
    video = g_build_filename (root, ".cache", "assets", "vtest.avi", NULL);
  if (!ort_script)
    ort_script = g_build_filename (root, "tests", "infer", "ort-run.js", NULL);
  gint n_threads = threads > 0 ? threads : (gint) g_get_num_processors ();
  GstElementFactory *mf = gst_element_factory_find ("ovamux");
  have_mux = mf != NULL;
  if (mf)
    gst_object_unref (mf);

  GstVideoInfo info;
  GPtrArray *frames = decode_frames (&info);
  if (!frames || frames->len == 0)
    return 1;
  OvaInferConfig *cfg = ova_infer_config_new ();
  if (!ova_infer_config_load (cfg, config, NULL, &err)) {
    g_printerr ("infer-bench: %s\n", err->message);
    return 1;
  }
  OvaEngineOptions eo;
  ova_engine_options_init (&eo);
  eo.threads = threads;
  eo.plan_cache = cfg->model_engine_file;
  OvaEngine *eng = ova_engine_new (cfg->onnx_file, &eo, &err);
  if (!eng) {
    g_printerr ("infer-bench: %s\n", err->message);
    return 1;
  }
  const OvaTensorInfo *ii = ova_engine_get_input_info (eng, 0);
  gint C = ii->dims[1], H = ii->dims[2], W = ii->dims[3];
  gsize per = (gsize) C * H * W;

  /* preprocessing alone (the tensors also feed both bare-inference runs) */
  OvaPreprocParams pp;
  ova_preproc_params_from_config (&pp, cfg, W, H);
  gfloat *tensors = g_new (gfloat, per * frames->len);
  gint64 t0 = g_get_monotonic_time ();
  for (guint i = 0; i < frames->len; i++) {
    GstVideoFrame vf;
    gst_video_frame_map (&vf, &info, g_ptr_array_index (frames, i), GST_MAP_READ);
    OvaImage img = { GST_VIDEO_INFO_FORMAT (&info), info.width, info.height };
    for (int p = 0; p < 3; p++) {
      img.data[p] = GST_VIDEO_FRAME_PLANE_DATA (&vf, p);
      img.stride[p] = GST_VIDEO_FRAME_PLANE_STRIDE (&vf, p);
    }
    img.matrix = info.colorimetry.matrix;
    img.range = info.colorimetry.range;
    ova_preprocess (&img, NULL, &pp, tensors + per * i, NULL);
    gst_video_frame_unmap (&vf);
  }
  gdouble pre_ms = (g_get_monotonic_time () - t0) / 1e3 / frames->len;
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < frames->len; i++) {
    GstVideoFrame vf;
    gst_video_frame_map (&vf, &info, g_ptr_array_index (frames, i), GST_MAP_READ);
    OvaImage img = { GST_VIDEO_INFO_FORMAT (&info), info.width, info.height };
    for (int p = 0; p < 3; p++) {
      img.data[p] = GST_VIDEO_FRAME_PLANE_DATA (&vf, p);
      img.stride[p] = GST_VIDEO_FRAME_PLANE_STRIDE (&vf, p);
    }
    ova_preprocess_reference (&img, NULL, &pp, tensors + per * i, NULL);
    gst_video_frame_unmap (&vf);
  }
  gdouble pre_ref_ms = (g_get_monotonic_time () - t0) / 1e3 / frames->len;

  /* ONNX Runtime: inputs written once, one node run per round */
  const gchar *mods = g_getenv ("OVA_ORT_NODE_PATH");
  g_autofree gchar *local_mods = g_build_filename (root, ".cache", "ort", "node_modules", NULL);
  if (!mods && g_file_test (local_mods, G_FILE_TEST_IS_DIR))
    mods = local_mods;
  g_autofree gchar *node = g_find_program_in_path ("node");
  g_autofree gchar *dir = g_dir_make_tmp ("ova-bench-XXXXXX", NULL);
  g_autofree gchar *inp = g_build_filename (dir, "in.f32", NULL);
  g_autofree gchar *outp = g_build_filename (dir, "out.f32", NULL);
  gboolean have_ort = mods && node;
  if (have_ort)
    g_file_set_contents (inp, (const gchar *) tensors, per * frames->len * sizeof (gfloat), NULL);

  OvaTensor in = { 0 };
  in.dtype = OVA_DTYPE_FLOAT32;
  in.rank = 4;
  in.dims[0] = 1;
  in.dims[1] = C;
  in.dims[2] = H;
  in.dims[3] = W;
  gint n_out = ova_engine_get_n_outputs (eng);
  OvaTensor *outs = g_new0 (OvaTensor, n_out);
  in.data = tensors;
  ova_engine_run (eng, &in, 1, outs, n_out, NULL); /* warm-up */

  gdouble *fps_pipe = g_new0 (gdouble, rounds), *fps_eng = g_new0 (gdouble, rounds),
          *fps_ort = g_new0 (gdouble, rounds), *r_ort = g_new0 (gdouble, rounds), *r_eng = g_new0 (gdouble, rounds);
  gdouble *cpu_pipe = g_new0 (gdouble, rounds), *cpu_eng = g_new0 (gdouble, rounds), *cpu_ort = g_new0 (gdouble, rounds);
  for (gint r = 0; r < rounds; r++) {
    for (gint step = 0; step < 3; step++) {
      gint which = (r + step) % 3;
      if (which == 0) {
        t0 = g_get_monotonic_time ();
        gdouble c0 = cpu_ms ();
        for (guint i = 0; i < frames->len; i++) {
          in.data = tensors + per * i;
          if (!ova_engine_run (eng, &in, 1, outs, n_out, &err)) {
            g_printerr ("infer-bench: %s\n", err->message);
            return 1;
          }
        }
        fps_eng[r] = frames->len / ((g_get_monotonic_time () - t0) / 1e6);
        cpu_eng[r] = (cpu_ms () - c0) / frames->len;
      } else if (which == 1) {
        fps_pipe[r] = bench_pipeline (frames, &info, NULL);
        cpu_pipe[r] = pipe_cpu_ms;
        if (fps_pipe[r] <= 0)
          return 1;
      } else if (have_ort) {
        gchar *nf = g_strdup_printf ("%u", frames->len), *cs = g_strdup_printf ("%d", C), *hs = g_strdup_printf ("%d", H),
              *ws = g_strdup_printf ("%d", W), *ts = g_strdup_printf ("%d", n_threads);
        gchar *av[] = { node, ort_script, cfg->onnx_file, inp, nf, cs, hs, ws, outp, ts, "1", NULL };
        gchar **envp = g_environ_setenv (g_get_environ (), "NODE_PATH", mods, TRUE);
        gchar *out = NULL;
        gint status;
        fps_ort[r] = -1;
        if (g_spawn_sync (NULL, av, envp, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL, &status, NULL) &&
            g_spawn_check_wait_status (status, NULL)) {
          const gchar *f = out ? strstr (out, "\"fps\":") : NULL;
          if (f)
            fps_ort[r] = g_ascii_strtod (f + 6, NULL);
          const gchar *c = out ? strstr (out, "\"cpu_ms_per_frame\":") : NULL;
          if (c)
            cpu_ort[r] = g_ascii_strtod (c + 19, NULL);
        }
        g_free (out);
        g_strfreev (envp);
        g_free (nf); g_free (cs); g_free (hs); g_free (ws); g_free (ts);
      }
    }
    r_eng[r] = fps_pipe[r] / fps_eng[r];
    r_ort[r] = fps_ort[r] > 0 ? fps_pipe[r] / fps_ort[r] : -1;
    if (!json)
      printf ("  round %d: pipeline %.2f, engine %.2f, ONNX Runtime %.2f frames/s; CPU ms/frame %.2f, %.2f, %.2f\n",
              r + 1, fps_pipe[r], fps_eng[r], fps_ort[r], cpu_pipe[r], cpu_eng[r], cpu_ort[r]);
  }
  ova_engine_free (eng);
  g_free (outs);
  g_unlink (inp);
  g_unlink (outp);
  g_rmdir (dir);
  gdouble pipe_fps = median (fps_pipe, rounds), engine_fps = median (fps_eng, rounds);
  gdouble ort_fps = have_ort ? median (fps_ort, rounds) : -1;
  gdouble ratio_eng = median (r_eng, rounds), ratio_ort = have_ort ? median (r_ort, rounds) : -1;
  gdouble mc_pipe = median (cpu_pipe, rounds), mc_eng = median (cpu_eng, rounds), mc_ort = have_ort ? median (cpu_ort, rounds) : -1;
  if (json) {
    printf ("{\"model\":\"%s\",\"frames\":%u,\"rounds\":%d,\"threads\":%d,\"preprocess_ms\":%.3f,"
            "\"preprocess_reference_ms\":%.3f,\"pipeline_fps\":%.3f,\"engine_fps\":%.3f,\"ort_fps\":%.3f,"
            "\"pipeline_over_engine\":%.3f,\"pipeline_over_ort\":%.3f,\"cpu_ms_pipeline\":%.3f,"
            "\"cpu_ms_engine\":%.3f,\"cpu_ms_ort\":%.3f}\n",
            cfg->onnx_file, frames->len, rounds, n_threads, pre_ms, pre_ref_ms, pipe_fps, engine_fps, ort_fps,
            ratio_eng, ratio_ort, mc_pipe, mc_eng, mc_ort);
  } else {
    printf ("model %s, %u frames %dx%d NV12, %d rounds, %d threads (medians)\n", cfg->onnx_file, frames->len,
            info.width, info.height, rounds, n_threads);
    printf ("  preprocessing (fused, vectorised)   %8.3f ms/frame (scalar reference %.3f ms)\n", pre_ms, pre_ref_ms);
    printf ("  %s %8.2f frames/s\n", have_mux ? "ovamux ! ovainfer ! fakesink      " : "appsrc batches ! ovainfer ! fakesink", pipe_fps);
    printf ("  ova engine alone                    %8.2f frames/s   pipeline/engine = %.3f\n", engine_fps, ratio_eng);
    if (have_ort)
      printf ("  ONNX Runtime alone                  %8.2f frames/s   pipeline/ORT    = %.3f\n", ort_fps, ratio_ort);
    else
      printf ("  ONNX Runtime alone                  (not available: node + onnxruntime-node, OVA_ORT_NODE_PATH)\n");
    printf ("  CPU time per frame (all threads): pipeline %.2f ms, engine alone %.2f ms (engine/pipeline = %.3f)",
            mc_pipe, mc_eng, mc_eng / mc_pipe);
    if (have_ort)
      printf (", ONNX Runtime %.2f ms (ORT/pipeline = %.3f)", mc_ort, mc_ort / mc_pipe);
    printf ("\n");
  }
  g_free (cpu_pipe); g_free (cpu_eng); g_free (cpu_ort);
  g_free (fps_pipe); g_free (fps_eng); g_free (fps_ort); g_free (r_ort); g_free (r_eng);
  g_free (tensors);
  g_ptr_array_unref (frames);
  ova_infer_config_free (cfg);
  return pipe_fps > 0 ? 0 : 1;
}
