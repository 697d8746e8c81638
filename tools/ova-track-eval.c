/* ova-track-eval — run a tracker over MOTChallenge detections and score it.
 * SPDX-License-Identifier: MIT
 *
 *   ova-track-eval --tracker iou|sort|bytetrack|reid --det det.txt [--gt gt.txt]
 *                  [--config FILE] [--out tracks.txt] [--json]
 */
#include <ova/track.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gchar *opt_tracker, *opt_det, *opt_gt, *opt_config, *opt_out;
static gboolean opt_json;
static gint opt_interval;

static GOptionEntry entries[] = {
  { "tracker", 't', 0, G_OPTION_ARG_STRING, &opt_tracker, "Tracker: iou, sort, bytetrack or reid (default: bytetrack, or the config's)", "NAME" },
  { "det", 'd', 0, G_OPTION_ARG_FILENAME, &opt_det, "Detections, MOTChallenge det format: frame,-1,left,top,width,height,conf[,x,y,z[,feature...]]", "FILE" },
  { "gt", 'g', 0, G_OPTION_ARG_FILENAME, &opt_gt, "Ground truth, MOTChallenge gt format: frame,id,left,top,width,height,consider,class,visibility", "FILE" },
  { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config, "Tracker config file ([tracker] group, see configs/tracker_*.txt)", "FILE" },
  { "out", 'o', 0, G_OPTION_ARG_FILENAME, &opt_out, "Write the tracks here (MOTChallenge format)", "FILE" },
  { "interval", 'i', 0, G_OPTION_ARG_INT, &opt_interval, "Detector interval: use detections on every (N+1)-th frame only and predict in between, as with nvinfer's interval (default 0)", "N" },
  { "json", 'j', 0, G_OPTION_ARG_NONE, &opt_json, "Print one JSON line: MOTA, IDF1, HOTA, id_switches, frames, ms_per_frame", NULL },
  { NULL }
};

static int
die (const gchar *msg)
{
  fprintf (stderr, "ova-track-eval: %s\n", msg);
  return 1;
}

int
main (int argc, char **argv)
{
  GOptionContext *ctx = g_option_context_new ("- run a multi-object tracker on MOTChallenge detections");
  GError *err = NULL;
  OvaTrackerConfig cfg;
  OvaTrackerAlgorithm alg = OVA_TRACKER_BYTETRACK;
  OvaMotFile *det, *gt = NULL, *tracks;
  OvaTracker *tracker;
  OvaMotMetrics m;
  gint64 t0, t1;
  guint64 n_dets;
  gdouble ms_per_frame;
  int rc = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
      "Columns after the tenth of a det line are read as the box's appearance feature\n"
      "(used by --tracker reid). Metrics: MOTA (CLEAR MOT), IDF1 (identity), HOTA, all at\n"
      "IoU similarity; MOTA/IDF1 count a match at IoU >= 0.5.\n\n"
      "Example:\n  ova-track-eval --tracker bytetrack --det det.txt --gt gt.txt --out tracks.txt --json\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    fprintf (stderr, "ova-track-eval: %s (try --help)\n", err->message);
    g_error_free (err);
    g_option_context_free (ctx);
    return 2;
  }
  g_option_context_free (ctx);
  if (argc > 1) {
    fprintf (stderr, "ova-track-eval: unexpected argument '%s' (try --help)\n", argv[1]);
    return 2;
  }
  if (!opt_det) {
    fprintf (stderr, "ova-track-eval: --det is required (try --help)\n");
    return 2;
  }
  if (opt_interval < 0) {
    fprintf (stderr, "ova-track-eval: --interval must be >= 0\n");
    return 2;
  }
  if (opt_tracker && !ova_tracker_algorithm_from_string (opt_tracker, &alg)) {
    fprintf (stderr, "ova-track-eval: unknown tracker '%s' (iou, sort, bytetrack, reid)\n", opt_tracker);
    return 2;
  }
  ova_tracker_config_init (&cfg, alg);
  if (opt_config) {
    if (!ova_tracker_config_load (&cfg, opt_config, &err)) {
      rc = die (err->message);
      g_error_free (err);
      return rc;
    }
    if (opt_tracker && cfg.algorithm != alg) {
      fprintf (stderr, "ova-track-eval: --tracker %s but %s says algorithm=%s\n", opt_tracker, opt_config,
          ova_tracker_algorithm_to_string (cfg.algorithm));
      return 2;
    }
  }

  det = ova_mot_file_load (opt_det, OVA_MOT_DET, &err);
  if (!det) {
    rc = die (err->message);
    g_error_free (err);
    return rc;
  }
  if (opt_gt) {
    gt = ova_mot_file_load (opt_gt, OVA_MOT_GT, &err);
    if (!gt) {
      rc = die (err->message);
      g_error_free (err);
      ova_mot_file_free (det);
      return rc;
    }
    if (gt->n_frames > det->n_frames)
      det->n_frames = gt->n_frames; /* trailing frames without detections still count */
  }

  tracker = ova_tracker_new (&cfg);
  tracks = ova_mot_file_new ();
  t0 = g_get_monotonic_time ();
  n_dets = ova_tracker_run_mot (tracker, det, (guint) opt_interval, tracks);
  t1 = g_get_monotonic_time ();
  ms_per_frame = det->n_frames ? (t1 - t0) / 1000.0 / det->n_frames : 0;

  if (opt_out && !ova_mot_file_save_tracks (tracks, opt_out, &err)) {
    rc = die (err->message);
    g_clear_error (&err);
  }
  if (gt)
    ova_mot_evaluate (gt, tracks, &m);

  if (opt_json) {
    if (gt)
      printf ("{\"tracker\": \"%s\", \"MOTA\": %.6f, \"IDF1\": %.6f, \"HOTA\": %.6f, \"id_switches\": %" G_GUINT64_FORMAT
          ", \"frames\": %d, \"ms_per_frame\": %.6f, \"MOTP\": %.6f, \"DetA\": %.6f, \"AssA\": %.6f"
          ", \"FP\": %" G_GUINT64_FORMAT ", \"FN\": %" G_GUINT64_FORMAT ", \"detections\": %" G_GUINT64_FORMAT
          ", \"gt_ids\": %u, \"track_ids\": %u}\n",
          ova_tracker_algorithm_to_string (cfg.algorithm), m.mota, m.idf1, m.hota, m.id_switches, det->n_frames,
          ms_per_frame, m.motp, m.deta, m.assa, m.fp, m.fn, n_dets, m.n_gt_ids, m.n_hyp_ids);
    else
      printf ("{\"tracker\": \"%s\", \"MOTA\": null, \"IDF1\": null, \"HOTA\": null, \"id_switches\": null"
          ", \"frames\": %d, \"ms_per_frame\": %.6f, \"detections\": %" G_GUINT64_FORMAT "}\n",
          ova_tracker_algorithm_to_string (cfg.algorithm), det->n_frames, ms_per_frame, n_dets);
  } else {
    printf ("tracker %s: %d frames, %" G_GUINT64_FORMAT " detections, %u track rows, %.4f ms/frame\n",
        ova_tracker_algorithm_to_string (cfg.algorithm), det->n_frames, n_dets, tracks->rows->len, ms_per_frame);
    if (gt) {
      printf ("MOTA %.4f  MOTP %.4f  IDF1 %.4f  HOTA %.4f  (DetA %.4f AssA %.4f LocA %.4f)\n",
          m.mota, m.motp, m.idf1, m.hota, m.deta, m.assa, m.loca);
      printf ("GT %" G_GUINT64_FORMAT "  TP %" G_GUINT64_FORMAT "  FP %" G_GUINT64_FORMAT "  FN %" G_GUINT64_FORMAT
          "  IDSW %" G_GUINT64_FORMAT "  IDP %.4f  IDR %.4f  ids: gt %u, tracks %u\n",
          m.gt_dets, m.tp, m.fp, m.fn, m.id_switches, m.idp, m.idr, m.n_gt_ids, m.n_hyp_ids);
    }
  }

  ova_tracker_free (tracker);
  ova_mot_file_free (tracks);
  ova_mot_file_free (det);
  ova_mot_file_free (gt);
  g_free (opt_tracker); g_free (opt_det); g_free (opt_gt); g_free (opt_config); g_free (opt_out);
  return rc;
}
