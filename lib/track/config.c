/* ova — tracker config files (GKeyFile). SPDX-License-Identifier: MIT */
#include "ova-config.h"
#include <ova/track.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GROUP "tracker"

G_DEFINE_QUARK (ova-tracker-config-error-quark, ova_tracker_config_error)

typedef enum { K_BOOL, K_UINT, K_FLOAT } KeyType;

typedef struct {
  const gchar *key;
  KeyType type;
  gsize offset;
  gdouble min, max;
} KeyDesc;

#define F(field) G_STRUCT_OFFSET (OvaTrackerConfig, field)
static const KeyDesc keys[] = {
  { "per-class", K_BOOL, F (per_class), 0, 1 },
  { "max-lost", K_UINT, F (max_lost), 0, 100000 },
  { "report-lost", K_UINT, F (report_lost), 0, 100000 },
  { "min-hits", K_UINT, F (min_hits), 1, 1000 },
  { "min-iou", K_FLOAT, F (min_iou), 0, 1 },
  { "low-min-iou", K_FLOAT, F (low_min_iou), 0, 1 },
  { "high-threshold", K_FLOAT, F (high_threshold), 0, 1 },
  { "low-threshold", K_FLOAT, F (low_threshold), 0, 1 },
  { "new-track-threshold", K_FLOAT, F (new_track_threshold), 0, 1 },
  { "max-cosine-distance", K_FLOAT, F (max_cosine_distance), 0, 2 },
  { "gallery-size", K_UINT, F (gallery_size), 1, 10000 },
  { "gate-chi2", K_FLOAT, F (gate_chi2), 0, 1e9 },
  { "proximity-iou", K_FLOAT, F (proximity_iou), 0, 1 },
  { "std-weight-position", K_FLOAT, F (std_weight_position), 1e-6, 10 },
  { "std-weight-velocity", K_FLOAT, F (std_weight_velocity), 1e-6, 10 },
};
#undef F

static gboolean
fail (GError **error, gint code, const gchar *name, const gchar *key, const gchar *fmt, ...) G_GNUC_PRINTF (5, 6);

static gboolean
fail (GError **error, gint code, const gchar *name, const gchar *key, const gchar *fmt, ...)
{
  va_list ap;
  gchar *msg;
  va_start (ap, fmt);
  msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  if (key)
    g_set_error (error, OVA_TRACKER_CONFIG_ERROR, code, "%s: [%s] %s: %s", name, GROUP, key, msg);
  else
    g_set_error (error, OVA_TRACKER_CONFIG_ERROR, code, "%s: %s", name, msg);
  g_free (msg);
  return FALSE;
}

gboolean
ova_tracker_config_validate (const OvaTrackerConfig *cfg, const gchar *name, GError **error)
{
  if ((guint) cfg->algorithm >= OVA_TRACKER_N_ALGORITHMS)
    return fail (error, OVA_TRACKER_CONFIG_ERROR_VALUE, name, "algorithm", "unknown algorithm %d", cfg->algorithm);
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++) {
    const KeyDesc *k = &keys[i];
    const guint8 *p = (const guint8 *) cfg + k->offset;
    gdouble v = k->type == K_FLOAT ? *(const gfloat *) p : k->type == K_UINT ? *(const guint *) p : (*(const gboolean *) p != 0);
    if (!(v >= k->min && v <= k->max))
      return fail (error, OVA_TRACKER_CONFIG_ERROR_VALUE, name, k->key, "%g is out of range [%g, %g]", v, k->min, k->max);
  }
  if (cfg->low_threshold > cfg->high_threshold)
    return fail (error, OVA_TRACKER_CONFIG_ERROR_VALUE, name, "low-threshold",
        "%g is above high-threshold %g", cfg->low_threshold, cfg->high_threshold);
  return TRUE;
}

static gboolean
parse_value (const KeyDesc *k, const gchar *text, OvaTrackerConfig *cfg, const gchar *name, GError **error)
{
  guint8 *p = (guint8 *) cfg + k->offset;
  gchar *end = NULL;
  gchar *s = g_strstrip (g_strdup (text));
  gboolean ok = TRUE;
  if (k->type == K_BOOL) {
    if (!g_ascii_strcasecmp (s, "1") || !g_ascii_strcasecmp (s, "true") || !g_ascii_strcasecmp (s, "yes"))
      *(gboolean *) p = TRUE;
    else if (!g_ascii_strcasecmp (s, "0") || !g_ascii_strcasecmp (s, "false") || !g_ascii_strcasecmp (s, "no"))
      *(gboolean *) p = FALSE;
    else
      ok = fail (error, OVA_TRACKER_CONFIG_ERROR_VALUE, name, k->key, "'%s' is not a boolean (0/1/true/false)", s);
  } else if (k->type == K_UINT) {
    guint64 v;
    errno = 0;
    v = g_ascii_strtoull (s, &end, 10);
    if (!*s || *end || errno || s[0] == '-' || v < k->min || v > k->max)
      ok = fail (error, OVA_TRACKER_CONFIG_ERROR_VALUE, name, k->key,
          "'%s' is not an integer in [%g, %g]", s, k->min, k->max);
    else
      *(guint *) p = (guint) v;
  } else {
    gdouble v;
    errno = 0;
    v = g_ascii_strtod (s, &end);
    if (!*s || *end || errno || !isfinite (v) || v < k->min || v > k->max)
      ok = fail (error, OVA_TRACKER_CONFIG_ERROR_VALUE, name, k->key,
          "'%s' is not a number in [%g, %g]", s, k->min, k->max);
    else
      *(gfloat *) p = (gfloat) v;
  }
  g_free (s);
  return ok;
}

gboolean
ova_tracker_config_load_data (OvaTrackerConfig *cfg, const gchar *data, gsize len,
    const gchar *name, GError **error)
{
  GKeyFile *kf = g_key_file_new ();
  GError *err = NULL;
  OvaTrackerConfig tmp;
  gchar **groups = NULL, **ks = NULL;
  gboolean ok = FALSE;

  if (!g_key_file_load_from_data (kf, data, len, G_KEY_FILE_NONE, &err)) {
    fail (error, OVA_TRACKER_CONFIG_ERROR_VALUE, name, NULL, "%s", err->message);
    g_clear_error (&err);
    goto out;
  }
  groups = g_key_file_get_groups (kf, NULL);
  for (guint i = 0; groups[i]; i++)
    if (strcmp (groups[i], GROUP) != 0) {
      g_set_error (error, OVA_TRACKER_CONFIG_ERROR, OVA_TRACKER_CONFIG_ERROR_KEY,
          "%s: unknown group [%s] (expected [%s])", name, groups[i], GROUP);
      goto out;
    }
  if (!g_key_file_has_group (kf, GROUP)) {
    g_set_error (error, OVA_TRACKER_CONFIG_ERROR, OVA_TRACKER_CONFIG_ERROR_KEY,
        "%s: group [%s] is missing", name, GROUP);
    goto out;
  }

  /* The algorithm picks the defaults; the other keys then override them. */
  tmp = *cfg;
  if (g_key_file_has_key (kf, GROUP, "algorithm", NULL)) {
    gchar *v = g_key_file_get_string (kf, GROUP, "algorithm", NULL);
    OvaTrackerAlgorithm alg;
    gboolean known = v && ova_tracker_algorithm_from_string (g_strstrip (v), &alg);
    if (!known) {
      fail (error, OVA_TRACKER_CONFIG_ERROR_VALUE, name, "algorithm",
          "'%s' is not one of iou, sort, bytetrack, reid", v ? v : "");
      g_free (v);
      goto out;
    }
    g_free (v);
    ova_tracker_config_init (&tmp, alg);
  }
  ks = g_key_file_get_keys (kf, GROUP, NULL, NULL);
  for (guint i = 0; ks && ks[i]; i++) {
    const KeyDesc *k = NULL;
    gchar *v;
    if (!strcmp (ks[i], "algorithm"))
      continue;
    for (guint j = 0; j < G_N_ELEMENTS (keys); j++)
      if (!strcmp (ks[i], keys[j].key)) k = &keys[j];
    if (!k) {
      fail (error, OVA_TRACKER_CONFIG_ERROR_KEY, name, ks[i], "unknown key");
      goto out;
    }
    v = g_key_file_get_value (kf, GROUP, ks[i], NULL);
    if (!parse_value (k, v ? v : "", &tmp, name, error)) {
      g_free (v);
      goto out;
    }
    g_free (v);
  }
  if (!ova_tracker_config_validate (&tmp, name, error))
    goto out;
  *cfg = tmp;
  ok = TRUE;
out:
  g_strfreev (ks);
  g_strfreev (groups);
  g_key_file_free (kf);
  return ok;
}

gboolean
ova_tracker_config_load (OvaTrackerConfig *cfg, const gchar *path, GError **error)
{
  gchar *data = NULL;
  gsize len = 0;
  GError *err = NULL;
  gboolean ok;
  if (!g_file_get_contents (path, &data, &len, &err)) {
    g_set_error (error, OVA_TRACKER_CONFIG_ERROR, OVA_TRACKER_CONFIG_ERROR_VALUE,
        "tracker config %s: %s", path, err->message);
    g_error_free (err);
    return FALSE;
  }
  ok = ova_tracker_config_load_data (cfg, data, len, path, error);
  g_free (data);
  return ok;
}

/* ------------------------------------------- deepstream-app [tracker] group */

static const gchar *const app_ignored_keys[] = {
  "gpu-id", "display-tracking-id", "compute-hw", "tracking-surface-type", "tracking-id-reset-mode",
  "user-meta-pool-size", "sub-batches", "input-tensor-meta", "tensor-meta-gie-id", "enable-batch-process",
  "enable-past-frame", NULL,
};

static gboolean
app_uint (GKeyFile *kf, const gchar *group, const gchar *key, const gchar *name, guint max, guint *out, GError **error)
{
  gchar *v = g_key_file_get_value (kf, group, key, NULL), *s, *end;
  guint64 n;
  gboolean ok;
  if (!v) return TRUE;
  s = g_strstrip (v);
  errno = 0;
  n = g_ascii_strtoull (s, &end, 10);
  ok = *s && !*end && !errno && s[0] != '-' && n <= max;
  if (ok)
    *out = (guint) n;
  else
    g_set_error (error, OVA_TRACKER_CONFIG_ERROR, OVA_TRACKER_CONFIG_ERROR_VALUE,
        "%s: [%s] %s: '%s' is not an integer in [0, %u]", name, group, key, s, max);
  g_free (v);
  return ok;
}

gboolean
ova_tracker_app_group_load (GKeyFile *kf, const gchar *group, const gchar *app_config_path,
    OvaTrackerAppGroup *out, GError **error)
{
  const gchar *name = app_config_path ? app_config_path : "application config";
  OvaTrackerAppGroup g = { 0 };
  gchar **ks;
  gchar *v;
  gboolean ok = FALSE;

  ova_tracker_config_init (&g.config, OVA_TRACKER_BYTETRACK);
  memset (out, 0, sizeof *out);
  out->config = g.config;
  if (!g_key_file_has_group (kf, group)) {
    *out = g; /* no group: no tracker */
    return TRUE;
  }
  g.enable = TRUE;
  ks = g_key_file_get_keys (kf, group, NULL, NULL);
  for (guint i = 0; ks && ks[i]; i++) {
    const gchar *k = ks[i];
    if (!strcmp (k, "enable") || !strcmp (k, "tracker-width") || !strcmp (k, "tracker-height") ||
        !strcmp (k, "ll-config-file") || !strcmp (k, "ll-lib-file") || g_strv_contains (app_ignored_keys, k))
      continue;
    g_set_error (error, OVA_TRACKER_CONFIG_ERROR, OVA_TRACKER_CONFIG_ERROR_KEY, "%s: [%s] %s: unknown key", name, group, k);
    goto out;
  }
  if ((v = g_key_file_get_value (kf, group, "enable", NULL))) {
    gchar *s = g_strstrip (v);
    if (!strcmp (s, "1") || !g_ascii_strcasecmp (s, "true")) g.enable = TRUE;
    else if (!strcmp (s, "0") || !g_ascii_strcasecmp (s, "false")) g.enable = FALSE;
    else {
      g_set_error (error, OVA_TRACKER_CONFIG_ERROR, OVA_TRACKER_CONFIG_ERROR_VALUE,
          "%s: [%s] enable: '%s' is not 0 or 1", name, group, s);
      g_free (v);
      goto out;
    }
    g_free (v);
  }
  if (!app_uint (kf, group, "tracker-width", name, 16384, &g.tracker_width, error) ||
      !app_uint (kf, group, "tracker-height", name, 16384, &g.tracker_height, error))
    goto out;
  if ((v = g_key_file_get_value (kf, group, "ll-lib-file", NULL))) {
    g.ll_lib_file = g_strdup (g_strstrip (v));
    g_free (v);
    if (g.enable)
      g_message ("%s: [%s] ll-lib-file=%s is ignored: ova's trackers are built in", name, group, g.ll_lib_file);
  }
  if ((v = g_key_file_get_value (kf, group, "ll-config-file", NULL))) {
    gchar *s = g_strstrip (v);
    if (!*s) {
      g_set_error (error, OVA_TRACKER_CONFIG_ERROR, OVA_TRACKER_CONFIG_ERROR_VALUE,
          "%s: [%s] ll-config-file: empty path", name, group);
      g_free (v);
      goto out;
    }
    if (g_path_is_absolute (s) || !app_config_path) {
      g.ll_config_file = g_strdup (s);
    } else {
      gchar *dir = g_path_get_dirname (app_config_path);
      g.ll_config_file = g_build_filename (dir, s, NULL);
      g_free (dir);
    }
    g_free (v);
    if (g.enable && !ova_tracker_config_load (&g.config, g.ll_config_file, error)) {
      g_prefix_error (error, "%s: [%s] ll-config-file: ", name, group);
      goto out;
    }
  }
  *out = g;
  ok = TRUE;
out:
  g_strfreev (ks);
  if (!ok) ova_tracker_app_group_clear (&g);
  return ok;
}

void
ova_tracker_app_group_clear (OvaTrackerAppGroup *g)
{
  g_clear_pointer (&g->ll_config_file, g_free);
  g_clear_pointer (&g->ll_lib_file, g_free);
}
