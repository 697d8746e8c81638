/* ova — runs ovainfer on the first frames of a video and writes what a parity
 * check needs: the decoded frames (BGRx, tightly packed) and ova's detections
 * (one JSON line per frame).
 *   infer-parity-dump VIDEO CONFIG N_FRAMES OUTDIR [SECONDARY_CONFIG]
 * With a secondary config (an embedder), each object's box and embedding
 * go to OUTDIR/embeddings.txt: "frame left top width height v0 v1 ...".
 * SPDX-License-Identifier: MIT */
#include <gst/gst.h>
#include <gst/app/gstappsrc.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#include <ova/meta.h>
#include <ova/infer.h>
#include <stdio.h>
#include <string.h>

static gboolean
check_bus (GstElement *pipe, const gchar *what)
{
  GstBus *bus = gst_element_get_bus (pipe);
  GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  gst_object_unref (bus);
  if (!m)
    return TRUE;
  GError *e = NULL;
  gchar *dbg = NULL;
  gst_message_parse_error (m, &e, &dbg);
  g_printerr ("%s: %s (%s)\n", what, e->message, dbg ? dbg : "");
  g_error_free (e);
  g_free (dbg);
  gst_message_unref (m);
  return FALSE;
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  if (argc != 5 && argc != 6) {
    g_printerr ("usage: %s VIDEO CONFIG N_FRAMES OUTDIR [SECONDARY_CONFIG]\n", argv[0]);
    return 2;
  }
  const gchar *video = argv[1], *config = argv[2], *outdir = argv[4];
  guint n_frames = atoi (argv[3]);
  if (!gst_element_factory_find ("avdec_msmpeg4") && !gst_element_factory_find ("decodebin")) {
    g_printerr ("SKIP: no decoder for the sample video\n");
    return 77;
  }
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! videoconvert ! "
                                 "video/x-raw,format=BGRx ! appsink name=s sync=false max-buffers=2", video);
  GError *err = NULL;
  GstElement *dec = gst_parse_launch (desc, &err);
  g_free (desc);
  if (!dec || err) {
    g_printerr ("SKIP: cannot decode: %s\n", err->message);
    return 77;
  }
  gchar *second = argc == 6 ? g_strdup_printf ("ovainfer name=second config-file-path=\"%s\" ! ", argv[5])
                            : g_strdup ("");
  gchar *idesc = g_strdup_printf ("appsrc name=a format=time ! ovainfer name=infer config-file-path=\"%s\" ! %s"
                                  "appsink name=o sync=false", config, second);
  g_free (second);
  GstElement *inf = gst_parse_launch (idesc, &err);
  g_free (idesc);
  if (!inf || err) {
    g_printerr ("%s\n", err->message);
    return 1;
  }
  GstAppSink *dsink = GST_APP_SINK (gst_bin_get_by_name (GST_BIN (dec), "s"));
  GstAppSrc *src = GST_APP_SRC (gst_bin_get_by_name (GST_BIN (inf), "a"));
  GstAppSink *osink = GST_APP_SINK (gst_bin_get_by_name (GST_BIN (inf), "o"));
  gst_element_set_state (dec, GST_STATE_PLAYING);
  if (gst_element_set_state (inf, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    check_bus (inf, "ovainfer");
    return 1;
  }
  gchar *fpath = g_build_filename (outdir, "frames.bgrx", NULL);
  gchar *jpath = g_build_filename (outdir, "ova.jsonl", NULL);
  FILE *ff = fopen (fpath, "wb"), *jf = fopen (jpath, "w");
  gchar *epath = g_build_filename (outdir, "embeddings.txt", NULL);
  FILE *ef = argc == 6 ? fopen (epath, "w") : NULL;
  g_free (epath);
  if (!ff || !jf) {
    g_printerr ("cannot write to %s\n", outdir);
    return 1;
  }
  OvaMetaPool *pool = ova_meta_pool_new ();
  GString *line = g_string_new (NULL);
  guint done = 0;
  gint64 t0 = g_get_monotonic_time ();
  for (guint k = 0; k < n_frames; k++) {
    GstSample *s = NULL;
    while (!s && check_bus (dec, "decoder") && !gst_app_sink_is_eos (dsink))
      s = gst_app_sink_try_pull_sample (dsink, GST_SECOND);
    if (!s) {
      g_printerr ("video ended after %u frames\n", k);
      break;
    }
    GstVideoInfo info;
    gst_video_info_from_caps (&info, gst_sample_get_caps (s));
    if (k == 0) {
      GstCaps *caps = gst_caps_copy (gst_sample_get_caps (s));
      gst_app_src_set_caps (src, caps);
      gst_caps_unref (caps);
    }
    GstBuffer *fb = gst_sample_get_buffer (s);
    /* write the pixels, tightly packed */
    GstVideoFrame vf;
    gst_video_frame_map (&vf, &info, fb, GST_MAP_READ);
    for (gint y = 0; y < info.height; y++)
      fwrite ((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&vf, 0) + y * GST_VIDEO_FRAME_PLANE_STRIDE (&vf, 0), 1,
              info.width * 4, ff);
    gst_video_frame_unmap (&vf);
    /* a one-frame batch whose memory is the decoded frame, as ovamux makes it */
    GstBuffer *batch = gst_buffer_new ();
    OvaBatchMeta *bm = ova_buffer_add_batch_meta (batch, 1, pool);
    OvaFrameMeta *f = ova_batch_meta_acquire_frame (bm);
    for (guint m = 0; m < gst_buffer_n_memory (fb); m++)
      gst_buffer_append_memory (batch, gst_buffer_get_memory (fb, m));
    f->frame_num = k;
    f->buf_pts = GST_BUFFER_PTS (fb);
    f->source_width = info.width;
    f->source_height = info.height;
    f->mem_index = 0;
    f->n_mems = gst_buffer_n_memory (fb);
    f->memory_type = OVA_MEMORY_SYSTEM;
    f->video_info = info;
    ova_batch_meta_add_frame (bm, f);
    GST_BUFFER_PTS (batch) = GST_BUFFER_PTS (fb);
    gst_sample_unref (s);
    if (gst_app_src_push_buffer (src, batch) != GST_FLOW_OK)
      break;
    GstSample *o = NULL;
    while (!o && check_bus (inf, "ovainfer") && !gst_app_sink_is_eos (osink))
      o = gst_app_sink_try_pull_sample (osink, GST_SECOND);
    if (!o)
      break;
    OvaBatchMeta *ob = ova_buffer_get_batch_meta (gst_sample_get_buffer (o));
    g_string_truncate (line, 0);
    OvaFrameMeta *of = ova_batch_meta_get_frame (ob, 0);
    ova_infer_frame_to_json (of, line);
    fputs (line->str, jf);
    for (guint j = 0; ef && j < ova_frame_meta_get_n_objects (of); j++) {
      OvaObjectMeta *obj = ova_frame_meta_get_object (of, j);
      const OvaEmbedding *e = ova_user_meta_get_embedding (ova_object_meta_find_user (obj, OVA_USER_META_EMBEDDING));
      if (!e)
        continue;
      fprintf (ef, "%u %.6f %.6f %.6f %.6f", k, obj->rect.left, obj->rect.top, obj->rect.width, obj->rect.height);
      for (guint d = 0; d < e->dim; d++)
        fprintf (ef, " %.7g", e->data[d]);
      fputc ('\n', ef);
    }
    gst_sample_unref (o);
    done++;
  }
  gint64 t1 = g_get_monotonic_time ();
  fclose (ff);
  fclose (jf);
  if (ef)
    fclose (ef);
  gboolean ok = check_bus (inf, "ovainfer") && check_bus (dec, "decoder") && done == n_frames;
  g_printerr ("ova: %u frames in %.1f s\n", done, (t1 - t0) / 1e6);
  gst_app_src_end_of_stream (src);
  gst_element_set_state (dec, GST_STATE_NULL);
  gst_element_set_state (inf, GST_STATE_NULL);
  gst_object_unref (dsink);
  gst_object_unref (src);
  gst_object_unref (osink);
  gst_object_unref (dec);
  gst_object_unref (inf);
  ova_meta_pool_unref (pool);
  g_string_free (line, TRUE);
  g_free (fpath);
  g_free (jpath);
  return ok ? 0 : 1;
}
