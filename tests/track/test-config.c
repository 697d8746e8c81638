/* ova — tracker config files: the samples load, bad ones fail naming file, group and key.
 * SPDX-License-Identifier: MIT */
#include <ova/track.h>
#include <string.h>

static void
expect_error (const gchar *text, const gchar *const *needles)
{
  OvaTrackerConfig cfg, before;
  GError *err = NULL;
  ova_tracker_config_init (&cfg, OVA_TRACKER_SORT);
  before = cfg;
  g_assert_false (ova_tracker_config_load_data (&cfg, text, strlen (text), "my-tracker.txt", &err));
  g_assert_nonnull (err);
  g_assert_nonnull (strstr (err->message, "my-tracker.txt"));
  for (guint i = 0; needles[i]; i++)
    if (!strstr (err->message, needles[i]))
      g_error ("error '%s' does not mention '%s'", err->message, needles[i]);
  g_assert_true (memcmp (&cfg, &before, sizeof cfg) == 0); /* unchanged on failure */
  g_error_free (err);
}

static void
test_errors (void)
{
  expect_error ("[tracker]\nalgorithm=kalman\n", (const gchar *[]) { "[tracker]", "algorithm", "kalman", NULL });
  expect_error ("[tracker]\nmax-lots=3\n", (const gchar *[]) { "[tracker]", "max-lots", "unknown key", NULL });
  expect_error ("[tracker]\nmin-iou=1.5\n", (const gchar *[]) { "[tracker]", "min-iou", "1.5", NULL });
  expect_error ("[tracker]\nmax-lost=-3\n", (const gchar *[]) { "max-lost", "-3", NULL });
  expect_error ("[tracker]\nmax-lost=ten\n", (const gchar *[]) { "max-lost", "ten", NULL });
  expect_error ("[tracker]\nper-class=maybe\n", (const gchar *[]) { "per-class", "maybe", NULL });
  expect_error ("[tracker]\nlow-threshold=0.8\nhigh-threshold=0.5\n", (const gchar *[]) { "low-threshold", NULL });
  expect_error ("[tracker]\nmin-hits=0\n", (const gchar *[]) { "min-hits", NULL });
  expect_error ("[tracking]\nmin-hits=1\n", (const gchar *[]) { "[tracking]", NULL });
  expect_error ("not a key file\n", (const gchar *[]) { NULL });
  expect_error ("", (const gchar *[]) { "[tracker]", "missing", NULL });
}

static void
test_values (void)
{
  OvaTrackerConfig cfg;
  GError *err = NULL;
  const gchar *text = "# comment\n[tracker]\nalgorithm=ByteTrack\nmax-lost=7\nper-class=true\nmin-iou = 0.35\n";
  ova_tracker_config_init (&cfg, OVA_TRACKER_IOU);
  g_assert_true (ova_tracker_config_load_data (&cfg, text, strlen (text), "x", &err));
  g_assert_no_error (err);
  g_assert_cmpint (cfg.algorithm, ==, OVA_TRACKER_BYTETRACK);
  g_assert_cmpuint (cfg.max_lost, ==, 7);
  g_assert_true (cfg.per_class);
  g_assert_cmpfloat_with_epsilon (cfg.min_iou, 0.35, 1e-6);
  /* ByteTrack defaults for the keys not given */
  g_assert_cmpfloat_with_epsilon (cfg.high_threshold, 0.5, 1e-6);
  g_assert_cmpfloat_with_epsilon (cfg.low_threshold, 0.1, 1e-6);
}

static void
test_samples (void)
{
  const gchar *src = g_getenv ("OVA_SOURCE_DIR");
  const gchar *names[] = { "iou", "sort", "bytetrack", "reid" };
  if (!src) { g_test_skip ("OVA_SOURCE_DIR not set"); return; }
  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    gchar *base = g_strdup_printf ("tracker_%s.txt", names[i]);
    gchar *path = g_build_filename (src, "configs", base, NULL);
    OvaTrackerConfig cfg;
    OvaTrackerAlgorithm alg;
    GError *err = NULL;
    ova_tracker_config_init (&cfg, OVA_TRACKER_IOU);
    g_assert_true (ova_tracker_config_load (&cfg, path, &err));
    g_assert_no_error (err);
    g_assert_true (ova_tracker_algorithm_from_string (names[i], &alg));
    g_assert_cmpint (cfg.algorithm, ==, alg);
    g_free (base);
    g_free (path);
  }
}

static void
test_missing_file (void)
{
  OvaTrackerConfig cfg;
  GError *err = NULL;
  ova_tracker_config_init (&cfg, OVA_TRACKER_IOU);
  g_assert_false (ova_tracker_config_load (&cfg, "/nonexistent/tracker.txt", &err));
  g_assert_nonnull (strstr (err->message, "/nonexistent/tracker.txt"));
  g_error_free (err);
}

/* deepstream-app's [tracker] group, as ova-app reads it. */
static void
test_app_group (void)
{
  const gchar *src = g_getenv ("OVA_SOURCE_DIR");
  gchar *app = g_build_filename (src ? src : ".", "configs", "app.txt", NULL); /* need not exist */
  GKeyFile *kf = g_key_file_new ();
  OvaTrackerAppGroup g;
  GError *err = NULL;
  const gchar *good = "[tracker]\nenable=1\ntracker-width=640\ntracker-height=384\ngpu-id=0\n"
      "ll-lib-file=/opt/nvidia/deepstream/deepstream/lib/libnvds_nvmultiobjecttracker.so\n"
      "ll-config-file=tracker_reid.txt\n";
  g_assert_true (g_key_file_load_from_data (kf, good, -1, G_KEY_FILE_NONE, NULL));
  g_assert_true (ova_tracker_app_group_load (kf, "tracker", app, &g, &err));
  g_assert_no_error (err);
  g_assert_true (g.enable);
  g_assert_cmpuint (g.tracker_width, ==, 640);
  g_assert_cmpuint (g.tracker_height, ==, 384);
  g_assert_true (g_str_has_suffix (g.ll_config_file, "configs/tracker_reid.txt"));
  g_assert_true (g_path_is_absolute (g.ll_config_file) == g_path_is_absolute (app));
  g_assert_cmpint (g.config.algorithm, ==, OVA_TRACKER_REID);
  ova_tracker_app_group_clear (&g);

  /* no group: no tracker */
  g_key_file_load_from_data (kf, "[application]\n", -1, G_KEY_FILE_NONE, NULL);
  g_assert_true (ova_tracker_app_group_load (kf, "tracker", app, &g, &err));
  g_assert_false (g.enable);
  ova_tracker_app_group_clear (&g);

  /* errors name the file, group and key */
  g_key_file_load_from_data (kf, "[tracker]\ntracker-widht=640\n", -1, G_KEY_FILE_NONE, NULL);
  g_assert_false (ova_tracker_app_group_load (kf, "tracker", app, &g, &err));
  g_assert_nonnull (strstr (err->message, "app.txt: [tracker] tracker-widht"));
  g_clear_error (&err);
  g_key_file_load_from_data (kf, "[tracker]\ntracker-width=wide\n", -1, G_KEY_FILE_NONE, NULL);
  g_assert_false (ova_tracker_app_group_load (kf, "tracker", app, &g, &err));
  g_assert_nonnull (strstr (err->message, "tracker-width"));
  g_clear_error (&err);
  g_key_file_load_from_data (kf, "[tracker]\nll-config-file=missing.yml\n", -1, G_KEY_FILE_NONE, NULL);
  g_assert_false (ova_tracker_app_group_load (kf, "tracker", app, &g, &err));
  g_assert_nonnull (strstr (err->message, "ll-config-file"));
  g_assert_nonnull (strstr (err->message, "missing.yml"));
  g_clear_error (&err);
  g_key_file_free (kf);
  g_free (app);
}

/* Mutated configs load or fail with a message naming the file; never crash. */
static void
test_garbage (void)
{
  const gchar *seed = "[tracker]\nalgorithm=reid\nmax-lost=30\nmin-iou=0.2\nper-class=1\ngallery-size=10\n";
  const gchar alphabet[] = "[]=#\n 0123456789.-eabcdrt";
  GRand *r = g_rand_new_with_seed (5);
  guint ok = 0;
  for (guint iter = 0; iter < 2000; iter++) {
    gchar *buf = g_strdup (seed);
    gsize len = strlen (buf);
    OvaTrackerConfig cfg;
    GError *err = NULL;
    for (guint k = g_rand_int_range (r, 1, 5); k > 0; k--)
      buf[g_rand_int_range (r, 0, (gint) len)] = alphabet[g_rand_int_range (r, 0, sizeof alphabet - 1)];
    ova_tracker_config_init (&cfg, OVA_TRACKER_IOU);
    if (ova_tracker_config_load_data (&cfg, buf, len, "fuzz.txt", &err)) {
      g_assert_true (ova_tracker_config_validate (&cfg, "fuzz.txt", NULL));
      ova_tracker_free (ova_tracker_new (&cfg));
      ok++;
    } else {
      g_assert_true (g_str_has_prefix (err->message, "fuzz.txt"));
      g_error_free (err);
    }
    g_free (buf);
  }
  g_assert_cmpuint (ok, >, 0);
  g_rand_free (r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/track/config/errors", test_errors);
  g_test_add_func ("/track/config/values", test_values);
  g_test_add_func ("/track/config/samples", test_samples);
  g_test_add_func ("/track/config/missing-file", test_missing_file);
  g_test_add_func ("/track/config/app-group", test_app_group);
  g_test_add_func ("/track/config/garbage", test_garbage);
  return g_test_run ();
}
