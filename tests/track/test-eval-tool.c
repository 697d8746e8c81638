/* ova — ova-track-eval end to end: --help, bad input, a hand-checked case and
 * the synthetic suite written to files. SPDX-License-Identifier: MIT */
#include "synth.h"
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

static gchar *tool, *tmpdir;

static gint
run (const gchar *args, gchar **out, gchar **err)
{
  gchar *cmd = g_strdup_printf ("%s %s", tool, args);
  gint status = -1;
  GError *e = NULL;
  gchar **argv = NULL;
  g_assert_true (g_shell_parse_argv (cmd, NULL, &argv, &e));
  g_assert_true (g_spawn_sync (NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, err, &status, &e));
  g_assert_no_error (e);
  g_strfreev (argv);
  g_free (cmd);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

static gchar *
write_tmp (const gchar *name, const gchar *text)
{
  gchar *path = g_build_filename (tmpdir, name, NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static gdouble
json_number (const gchar *json, const gchar *key)
{
  gchar *pat = g_strdup_printf ("\"%s\": ", key);
  const gchar *p = strstr (json, pat);
  if (!p) g_error ("no %s in %s", key, json);
  p += strlen (pat);
  g_free (pat);
  return g_ascii_strtod (p, NULL);
}

static void
test_usage (void)
{
  gchar *out, *err;
  g_assert_cmpint (run ("--help", &out, &err), ==, 0);
  g_assert_nonnull (strstr (out, "--tracker"));
  g_assert_nonnull (strstr (out, "--det"));
  g_assert_nonnull (strstr (out, "--json"));
  g_free (out); g_free (err);
  g_assert_cmpint (run ("--tracker kcf --det x.txt", &out, &err), ==, 2);
  g_assert_nonnull (strstr (err, "kcf"));
  g_free (out); g_free (err);
  g_assert_cmpint (run ("--tracker sort", &out, &err), ==, 2);
  g_assert_nonnull (strstr (err, "--det"));
  g_free (out); g_free (err);
  g_assert_cmpint (run ("--det /nonexistent/det.txt", &out, &err), ==, 1);
  g_assert_nonnull (strstr (err, "/nonexistent/det.txt"));
  g_free (out); g_free (err);
}

static void
test_bad_files (void)
{
  gchar *det = write_tmp ("bad-det.txt", "1,-1,0,0,10,10,0.9\n2,-1,0,0,ten,10,0.9\n");
  gchar *cfg = write_tmp ("bad-cfg.txt", "[tracker]\nmin-hitz=2\n");
  gchar *good = write_tmp ("good-det.txt", "1,-1,0,0,10,10,0.9\n");
  gchar *args, *out, *err;
  args = g_strdup_printf ("--det %s", det);
  g_assert_cmpint (run (args, &out, &err), ==, 1);
  g_assert_nonnull (strstr (err, "bad-det.txt:2"));
  g_free (args); g_free (out); g_free (err);
  args = g_strdup_printf ("--det %s --config %s", good, cfg);
  g_assert_cmpint (run (args, &out, &err), ==, 1);
  g_assert_nonnull (strstr (err, "bad-cfg.txt"));
  g_assert_nonnull (strstr (err, "min-hitz"));
  g_free (args); g_free (out); g_free (err);
  g_free (det); g_free (cfg); g_free (good);
}

/* One person walking, seen on every frame but the 3rd (missed detection),
 * plus one false box on frame 4 (confidence 0.3: too weak to start a
 * ByteTrack track). ByteTrack keeps the id and reports frame 3 from its
 * prediction (report-lost), so MOTA = IDF1 = 1 and no id switch. */
static void
test_hand_case (void)
{
  GString *det = g_string_new (NULL), *gt = g_string_new (NULL);
  gchar *detp, *gtp, *outp, *args, *out, *err, *tracks;
  for (gint f = 1; f <= 6; f++) {
    g_string_append_printf (gt, "%d,1,%d,100,40,100,1,1,1\n", f, 100 + 4 * f);
    if (f != 3)
      g_string_append_printf (det, "%d,-1,%d,100,40,100,0.9,-1,-1,-1\n", f, 100 + 4 * f);
  }
  g_string_append (det, "4,-1,600,500,40,100,0.3,-1,-1,-1\n");
  detp = write_tmp ("hand-det.txt", det->str);
  gtp = write_tmp ("hand-gt.txt", gt->str);
  outp = g_build_filename (tmpdir, "hand-tracks.txt", NULL);
  args = g_strdup_printf ("--tracker bytetrack --det %s --gt %s --out %s --json", detp, gtp, outp);
  g_assert_cmpint (run (args, &out, &err), ==, 0);
  g_assert_cmpfloat_with_epsilon (json_number (out, "MOTA"), 1.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (json_number (out, "IDF1"), 1.0, 1e-9);
  g_assert_cmpfloat (json_number (out, "HOTA"), >, 0.8);
  g_assert_cmpfloat (json_number (out, "id_switches"), ==, 0);
  g_assert_cmpfloat (json_number (out, "frames"), ==, 6);
  g_assert_nonnull (strstr (out, "\"ms_per_frame\": "));
  g_assert_null (strchr (strchr (out, '\n') + 1, '\n')); /* one line */
  g_assert_true (g_file_get_contents (outp, &tracks, NULL, NULL));
  {
    gchar **lines = g_strsplit (tracks, "\n", -1);
    g_assert_cmpint (g_strv_length (lines), ==, 7); /* 6 lines + "" */
    g_strfreev (lines);
  }
  g_assert_true (g_str_has_prefix (tracks, "1,1,"));
  g_free (tracks);
  g_free (args); g_free (out); g_free (err);
  g_free (detp); g_free (gtp); g_free (outp);
  g_string_free (det, TRUE);
  g_string_free (gt, TRUE);
}

/* --interval 1: detections of frames 1, 3, 5, 7 only; the frames between are
 * predicted (constant velocity, 4 px/frame on a 40 px box: IoU >= 0.8 even
 * before the velocity is known), so every frame is still tracked:
 * MOTA = IDF1 = 1 with 4 detections used. */
static void
test_interval (void)
{
  GString *det = g_string_new (NULL), *gt = g_string_new (NULL);
  gchar *detp, *gtp, *args, *out, *err;
  for (gint f = 1; f <= 8; f++) {
    g_string_append_printf (gt, "%d,1,%d,100,40,100,1,1,1\n", f, 100 + 4 * f);
    g_string_append_printf (det, "%d,-1,%d,100,40,100,0.9,-1,-1,-1\n", f, 100 + 4 * f);
  }
  detp = write_tmp ("interval-det.txt", det->str);
  gtp = write_tmp ("interval-gt.txt", gt->str);
  args = g_strdup_printf ("--tracker sort --interval 1 --det %s --gt %s --json", detp, gtp);
  g_assert_cmpint (run (args, &out, &err), ==, 0);
  g_assert_cmpfloat_with_epsilon (json_number (out, "MOTA"), 1.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (json_number (out, "IDF1"), 1.0, 1e-9);
  g_assert_cmpfloat (json_number (out, "detections"), ==, 4);
  g_free (args); g_free (out); g_free (err);
  args = g_strdup_printf ("--tracker sort --interval -1 --det %s", detp);
  g_assert_cmpint (run (args, &out, &err), ==, 2);
  g_free (args); g_free (out); g_free (err);
  g_free (detp); g_free (gtp);
  g_string_free (det, TRUE);
  g_string_free (gt, TRUE);
}

/* The tool's scores equal the library's on the same files. */
static void
test_matches_library (void)
{
  SynthParams p;
  const gchar *name;
  gchar *synth = g_build_filename (g_getenv ("OVA_BUILD_DIR"), "tests", "track", "ova-track-synth", NULL);
  gchar *cmd = g_strdup_printf ("%s %s", synth, tmpdir);
  gint status;
  g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, &status, NULL));
  g_assert_cmpint (status, ==, 0);
  synth_suite_params (2, &p, &name);
  {
    gchar *detp = g_build_filename (tmpdir, name, "det.txt", NULL);
    gchar *gtp = g_build_filename (tmpdir, name, "gt.txt", NULL);
    gchar *args = g_strdup_printf ("--tracker reid --det %s --gt %s --json", detp, gtp);
    gchar *out, *err;
    OvaMotFile *det = ova_mot_file_load (detp, OVA_MOT_DET, NULL), *gt = ova_mot_file_load (gtp, OVA_MOT_GT, NULL);
    OvaMotFile *tracks = ova_mot_file_new ();
    OvaTrackerConfig cfg;
    OvaTracker *t;
    OvaMotMetrics m;
    g_assert_nonnull (det);
    g_assert_nonnull (gt);
    g_assert_cmpuint (g_array_index (det->rows, OvaMotRow, 0).embedding_dim, ==, p.emb_dim);
    ova_tracker_config_init (&cfg, OVA_TRACKER_REID);
    t = ova_tracker_new (&cfg);
    ova_tracker_run_mot (t, det, 0, tracks);
    ova_mot_evaluate (gt, tracks, &m);
    g_assert_cmpint (run (args, &out, &err), ==, 0);
    g_assert_cmpfloat_with_epsilon (json_number (out, "IDF1"), m.idf1, 1e-5);
    g_assert_cmpfloat_with_epsilon (json_number (out, "MOTA"), m.mota, 1e-5);
    g_assert_cmpfloat_with_epsilon (json_number (out, "HOTA"), m.hota, 1e-5);
    g_assert_cmpfloat (m.idf1, >=, 0.9);
    ova_tracker_free (t);
    ova_mot_file_free (det); ova_mot_file_free (gt); ova_mot_file_free (tracks);
    g_free (detp); g_free (gtp); g_free (args); g_free (out); g_free (err);
  }
  g_free (synth);
  g_free (cmd);
}

static void
rm_rf (const gchar *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *n;
  if (!d) return;
  while ((n = g_dir_read_name (d))) {
    gchar *p = g_build_filename (dir, n, NULL);
    if (g_file_test (p, G_FILE_TEST_IS_DIR)) rm_rf (p); else g_unlink (p);
    g_free (p);
  }
  g_dir_close (d);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  const gchar *build = g_getenv ("OVA_BUILD_DIR");
  int rc;
  g_test_init (&argc, &argv, NULL);
  if (!build) {
    g_printerr ("OVA_BUILD_DIR is not set\n");
    return 77;
  }
  tool = g_build_filename (build, "tools", "ova-track-eval", NULL);
  if (!g_file_test (tool, G_FILE_TEST_IS_EXECUTABLE)) {
    g_printerr ("%s not built\n", tool);
    return 77;
  }
  tmpdir = g_dir_make_tmp ("ova-track-eval-XXXXXX", NULL);
  g_test_add_func ("/track/eval-tool/usage", test_usage);
  g_test_add_func ("/track/eval-tool/bad-files", test_bad_files);
  g_test_add_func ("/track/eval-tool/hand-case", test_hand_case);
  g_test_add_func ("/track/eval-tool/interval", test_interval);
  g_test_add_func ("/track/eval-tool/matches-library", test_matches_library);
  rc = g_test_run ();
  rm_rf (tmpdir);
  g_free (tmpdir);
  g_free (tool);
  return rc;
}
