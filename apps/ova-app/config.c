/* ova-app — deepstream-app compatible configuration. SPDX-License-Identifier: MIT
 *
 * Table-driven: every group has a list of the keys ova understands and of the
 * deepstream-app keys it accepts but has no use for (a notice is printed).
 * Anything else is an error naming file, line, group and key: a typo must not
 * silently turn a feature off. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* K_CLASS_COLOR: a key family NAME<class id> (bbox-border-color0...) with
 * deepstream's "r;g;b;a" (0..1) value, collected as "id:RRGGBBAA;..." */
/* K_LIB: a protocol adapter: a name (mqtt, kafka...) or a path. */
typedef enum { K_INT, K_BOOL, K_STR, K_PATH, K_URI, K_IGNORED, K_CLASS_COLOR, K_LIB } KeyType;

typedef struct {
  const char *name;
  KeyType type;
  gsize offset;
  gint min, max; /* for K_INT */
} KeySpec;

#define APP(field) G_STRUCT_OFFSET (OvaAppConfig, field)
#define SRC(field) G_STRUCT_OFFSET (OvaSourceConfig, field)
#define SNK(field) G_STRUCT_OFFSET (OvaSinkConfig, field)
#define GIE(field) G_STRUCT_OFFSET (OvaGieConfig, field)
#define CON(field) G_STRUCT_OFFSET (OvaConsumerConfig, field)
#define IGN(name) { name, K_IGNORED, 0, 0, 0 }
#define NOLIM G_MININT, G_MAXINT

static const KeySpec application_keys[] = {
  { "enable-perf-measurement", K_BOOL, APP (enable_perf), 0, 0 },
  { "perf-measurement-interval-sec", K_INT, APP (perf_interval_sec), 1, 3600 },
  { "gie-kitti-output-dir", K_PATH, APP (gie_kitti_output_dir), 0, 0 },
  { "detections-jsonl", K_PATH, APP (detections_jsonl), 0, 0 },
  { "gpu-id", K_INT, APP (gpu_id), 0, 64 },
  { "latency-measurement", K_BOOL, APP (latency), 0, 0 },
  IGN ("kitti-track-output-dir"), IGN ("reid-track-output-dir"), IGN ("nvbuf-memory-type"),
  IGN ("terminated-track-output-dir"), IGN ("shadow-track-output-dir"),
  { NULL }
};

static const KeySpec streammux_keys[] = {
  { "batch-size", K_INT, APP (mux_batch_size), 0, 256 },
  { "batched-push-timeout", K_INT, APP (mux_timeout_us), -1, G_MAXINT },
  { "width", K_INT, APP (mux_width), 0, 16384 },
  { "height", K_INT, APP (mux_height), 0, 16384 },
  { "live-source", K_BOOL, APP (mux_live_source), 0, 0 },
  { "sync-inputs", K_BOOL, APP (mux_sync_inputs), 0, 0 },
  IGN ("gpu-id"), IGN ("enable-padding"), IGN ("nvbuf-memory-type"), IGN ("buffer-pool-size"),
  IGN ("attach-sys-ts-as-ntp"), IGN ("config-file"), IGN ("max-latency"), IGN ("frame-duration"),
  IGN ("drop-pipeline-eos"), IGN ("interpolation-method"),
  { NULL }
};

static const KeySpec source_keys[] = {
  { "enable", K_BOOL, SRC (enable), 0, 0 },
  { "type", K_INT, SRC (type), 1, 4 },
  { "uri", K_URI, SRC (uri), 0, 0 },
  { "num-sources", K_INT, SRC (num_sources), 1, OVA_APP_MAX_SOURCES },
  { "gpu-id", K_INT, SRC (gpu_id), 0, 64 },
  { "camera-id", K_INT, SRC (camera_id), 0, 1024 },
  { "camera-v4l2-dev-node", K_INT, SRC (camera_v4l2_dev_node), 0, 1024 },
  { "camera-width", K_INT, SRC (camera_width), 1, 16384 },
  { "camera-height", K_INT, SRC (camera_height), 1, 16384 },
  { "camera-fps-n", K_INT, SRC (camera_fps_n), 1, 1000 },
  { "camera-fps-d", K_INT, SRC (camera_fps_d), 1, 1000 },
  { "rtsp-reconnect-interval-sec", K_INT, SRC (rtsp_reconnect_interval_sec), 0, 3600 },
  { "rtsp-reconnect-attempts", K_INT, SRC (rtsp_reconnect_attempts), -1, G_MAXINT },
  { "select-rtp-protocol", K_INT, SRC (select_rtp_protocol), 0, 4 },
  { "latency", K_INT, SRC (latency), 0, 60000 },
  { "drop-frame-interval", K_INT, SRC (drop_frame_interval), 0, 1000 },
  IGN ("cudadec-memtype"), IGN ("nvbuf-memory-type"), IGN ("intra-decode-enable"),
  IGN ("num-extra-surfaces"), IGN ("smart-record"), IGN ("smart-rec-dir-path"),
  IGN ("smart-rec-file-prefix"), IGN ("smart-rec-duration"), IGN ("smart-rec-start-time"),
  IGN ("smart-rec-cache"), IGN ("smart-rec-interval"), IGN ("smart-rec-container"),
  IGN ("low-latency-mode"), IGN ("udp-buffer-size"), IGN ("source-id"),
  { NULL }
};

static const KeySpec sink_keys[] = {
  { "enable", K_BOOL, SNK (enable), 0, 0 },
  { "type", K_INT, SNK (type), 1, 6 },
  { "sync", K_BOOL, SNK (sync), 0, 0 },
  { "qos", K_BOOL, SNK (qos), 0, 0 },
  { "source-id", K_INT, SNK (source_id), 0, OVA_APP_MAX_SOURCES - 1 },
  { "container", K_INT, SNK (container), 1, 2 },
  { "codec", K_INT, SNK (codec), 1, 2 },
  { "enc-type", K_INT, SNK (enc_type), 0, 1 },
  { "bitrate", K_INT, SNK (bitrate), 1, G_MAXINT },
  { "iframeinterval", K_INT, SNK (iframeinterval), 1, 10000 },
  { "output-file", K_PATH, SNK (output_file), 0, 0 },
  { "rtsp-port", K_INT, SNK (rtsp_port), 1, 65535 },
  { "udp-port", K_INT, SNK (udp_port), 1, 65535 },
  { "width", K_INT, SNK (width), 0, 16384 },
  { "height", K_INT, SNK (height), 0, 16384 },
  { "msg-conv-config", K_PATH, SNK (msg_conv_config), 0, 0 },
  { "msg-conv-payload-type", K_INT, SNK (msg_conv_payload_type), 0, 2 },
  { "msg-broker-proto-lib", K_LIB, SNK (msg_broker_proto_lib), 0, 0 },
  { "msg-broker-conn-str", K_STR, SNK (msg_broker_conn_str), 0, 0 },
  { "msg-broker-config", K_PATH, SNK (msg_broker_config), 0, 0 },
  { "topic", K_STR, SNK (topic), 0, 0 },
  { "msg-conv-comp-id", K_INT, SNK (msg_conv_comp_id), 0, G_MAXINT },
  { "msg-broker-comp-id", K_INT, SNK (msg_broker_comp_id), 0, G_MAXINT },
  IGN ("gpu-id"), IGN ("nvbuf-memory-type"), IGN ("profile"), IGN ("overlay-id"),
  IGN ("display-id"), IGN ("offset-x"), IGN ("offset-y"), IGN ("link-to-demux"),
  IGN ("msg-conv-msg2p-lib"), IGN ("msg-conv-frame-interval"), IGN ("new-api"),
  IGN ("disable-msgconv"), IGN ("conv-msg2p-new-api"), IGN ("msg-conv-msg2p-new-api"),
  IGN ("copy-meta"),
  { NULL }
};

static const KeySpec gie_keys[] = {
  { "enable", K_BOOL, GIE (enable), 0, 0 },
  { "config-file", K_PATH, GIE (config_file), 0, 0 },
  { "batch-size", K_INT, GIE (batch_size), 1, 1024 },
  { "interval", K_INT, GIE (interval), 0, 10000 },
  { "gie-unique-id", K_INT, GIE (gie_unique_id), 1, G_MAXINT },
  { "operate-on-gie-id", K_INT, GIE (operate_on_gie_id), -1, G_MAXINT },
  { "operate-on-class-ids", K_STR, GIE (operate_on_class_ids), 0, 0 },
  { "model-engine-file", K_PATH, GIE (model_engine_file), 0, 0 },
  { "labelfile-path", K_PATH, GIE (labelfile_path), 0, 0 },
  { "gpu-id", K_INT, GIE (gpu_id), 0, 64 },
  { "bbox-border-color", K_CLASS_COLOR, GIE (class_colors), 0, 0 },
  IGN ("nvbuf-memory-type"), IGN ("bbox-bg-color0"),
  IGN ("bbox-bg-color1"), IGN ("plugin-type"), IGN ("audio-transform"), IGN ("audio-framesize"),
  IGN ("audio-hopsize"), IGN ("audio-transform-size"), IGN ("input-tensor-meta"),
  IGN ("infer-raw-output-dir"),
  { NULL }
};

static const KeySpec tracker_keys[] = {
  { "enable", K_BOOL, APP (tracker_enable), 0, 0 },
  { "tracker-width", K_INT, APP (tracker_width), 0, 16384 },
  { "tracker-height", K_INT, APP (tracker_height), 0, 16384 },
  { "ll-config-file", K_PATH, APP (tracker_config), 0, 0 },
  { "algorithm", K_STR, APP (tracker_algorithm), 0, 0 },
  IGN ("ll-lib-file"), IGN ("gpu-id"), IGN ("display-tracking-id"), IGN ("enable-batch-process"),
  IGN ("enable-past-frame"), IGN ("tracking-surface-type"), IGN ("tracking-id-reset-mode"),
  IGN ("compute-hw"), IGN ("user-meta-pool-size"), IGN ("sub-batches"),
  { NULL }
};

static const KeySpec osd_keys[] = {
  { "enable", K_BOOL, APP (osd_enable), 0, 0 },
  { "border-width", K_INT, APP (osd_border_width), 0, 100 },
  { "text-size", K_INT, APP (osd_text_size), 4, 200 },
  { "display-text", K_BOOL, APP (osd_display_text), 0, 0 },
  { "display-bbox", K_BOOL, APP (osd_display_bbox), 0, 0 },
  IGN ("gpu-id"), IGN ("text-color"), IGN ("text-bg-color"), IGN ("font"), IGN ("show-clock"),
  IGN ("clock-x-offset"), IGN ("clock-y-offset"), IGN ("clock-text-size"), IGN ("clock-color"),
  IGN ("nvbuf-memory-type"), IGN ("process-mode"), IGN ("display-mask"),
  { NULL }
};

static const KeySpec tiler_keys[] = {
  { "enable", K_INT, APP (tiler_enable), 0, 3 },
  { "rows", K_INT, APP (tiler_rows), 1, 64 },
  { "columns", K_INT, APP (tiler_columns), 1, 64 },
  { "width", K_INT, APP (tiler_width), 16, 16384 },
  { "height", K_INT, APP (tiler_height), 16, 16384 },
  IGN ("gpu-id"), IGN ("nvbuf-memory-type"), IGN ("compute-hw"), IGN ("buffer-pool-size"),
  IGN ("square-seq-grid"),
  { NULL }
};

static const KeySpec msgconv_keys[] = {
  { "enable", K_BOOL, APP (msgconv_enable), 0, 0 },
  { "msg-conv-config", K_PATH, APP (msgconv_config), 0, 0 },
  { "msg-conv-payload-type", K_INT, APP (msgconv_payload_type), 0, 2 },
  { "msg-conv-frame-interval", K_INT, APP (msgconv_frame_interval), 1, G_MAXINT },
  { "msg-conv-comp-id", K_INT, APP (msgconv_comp_id), 0, G_MAXINT },
  IGN ("msg-conv-msg2p-lib"), IGN ("msg-conv-msg2p-new-api"), IGN ("debug-payload-dir"),
  IGN ("multiple-payloads"), IGN ("msg-conv-dummy-payload"),
  { NULL }
};

static const KeySpec consumer_keys[] = {
  { "enable", K_BOOL, CON (enable), 0, 0 },
  { "proto-lib", K_LIB, CON (proto_lib), 0, 0 },
  { "conn-str", K_STR, CON (conn_str), 0, 0 },
  { "config-file", K_PATH, CON (config_file), 0, 0 },
  { "subscribe-topic-list", K_STR, CON (subscribe_topic_list), 0, 0 },
  IGN ("sensor-list-file"),
  { NULL }
};

static const KeySpec tests_keys[] = {
  { "file-loop", K_BOOL, APP (file_loop), 0, 0 },
  { NULL }
};

/* ------------------------------------------------------------- line lookup */

typedef struct {
  GHashTable *lines; /* "group\nkey" -> line; "group\n" -> line of the group header */
} LineIndex;

static void
index_lines (LineIndex *idx, const gchar *text)
{
  gchar **lines = g_strsplit (text, "\n", -1);
  gchar *group = g_strdup ("");
  idx->lines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; lines[i]; i++) {
    gchar *l = g_strstrip (lines[i]);
    if (l[0] == '#' || l[0] == ';' || l[0] == '\0')
      continue;
    if (l[0] == '[') {
      gchar *end = strchr (l, ']');
      g_free (group);
      group = g_strndup (l + 1, end ? (gsize) (end - l - 1) : strlen (l + 1));
      g_hash_table_insert (idx->lines, g_strdup_printf ("%s\n", group), GUINT_TO_POINTER (i + 1));
    } else {
      gchar *eq = strchr (l, '=');
      if (eq) {
        gchar *key = g_strstrip (g_strndup (l, eq - l));
        g_hash_table_insert (idx->lines, g_strdup_printf ("%s\n%s", group, key), GUINT_TO_POINTER (i + 1));
        g_free (key);
      }
    }
  }
  g_free (group);
  g_strfreev (lines);
}

static guint
line_of (LineIndex *idx, const gchar *group, const gchar *key)
{
  gchar *k = g_strdup_printf ("%s\n%s", group, key ? key : "");
  guint line = GPOINTER_TO_UINT (g_hash_table_lookup (idx->lines, k));
  g_free (k);
  return line;
}

#define CFG_ERROR(err, cfgpath, line, ...) G_STMT_START { \
    gchar *_m = g_strdup_printf (__VA_ARGS__); \
    g_set_error (err, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE, "%s:%u: %s", cfgpath, line, _m); \
    g_free (_m); \
  } G_STMT_END

/* ------------------------------------------------------------------ parse */

static gchar *
resolve_path (const gchar *dir, const gchar *value)
{
  if (g_path_is_absolute (value) || value[0] == '\0')
    return g_strdup (value);
  return g_build_filename (dir, value, NULL);
}

static gchar *
resolve_uri (const gchar *dir, const gchar *value)
{
  /* deepstream-app allows file://relative/path (relative to the config file). */
  if (g_str_has_prefix (value, "file://") && value[7] != '/') {
    gchar *abs = g_build_filename (dir, value + 7, NULL);
    gchar *canon = g_canonicalize_filename (abs, NULL);
    gchar *uri = g_filename_to_uri (canon, NULL, NULL);
    g_free (abs);
    g_free (canon);
    return uri;
  }
  if (!strstr (value, "://")) {
    gchar *abs = resolve_path (dir, value);
    gchar *canon = g_canonicalize_filename (abs, NULL);
    gchar *uri = g_filename_to_uri (canon, NULL, NULL);
    g_free (abs);
    g_free (canon);
    return uri;
  }
  return g_strdup (value);
}

static gboolean
parse_group (OvaAppConfig *cfg, GKeyFile *kf, LineIndex *idx, const gchar *group,
    const KeySpec *specs, gpointer base, GError **error)
{
  gsize n_keys = 0;
  gchar **keys = g_key_file_get_keys (kf, group, &n_keys, NULL);
  gboolean ok = TRUE;

  for (gsize k = 0; ok && k < n_keys; k++) {
    const KeySpec *s = NULL;
    gchar *value = g_key_file_get_value (kf, group, keys[k], NULL);
    guint line = line_of (idx, group, keys[k]);
    guint class_id = 0;
    for (const KeySpec *p = specs; p->name; p++) {
      if (strcmp (p->name, keys[k]) == 0)
        s = p;
      else if (p->type == K_CLASS_COLOR && g_str_has_prefix (keys[k], p->name)) {
        const gchar *num = keys[k] + strlen (p->name);
        gchar *end;
        guint64 id = g_ascii_strtoull (num, &end, 10);
        if (g_ascii_isdigit (num[0]) && *end == '\0' && id < 1024) {
          s = p;
          class_id = (guint) id;
        }
      }
    }
    if (!s) {
      CFG_ERROR (error, cfg->path, line, "[%s] unknown key '%s'", group, keys[k]);
      ok = FALSE;
    } else {
      gpointer field = (guint8 *) base + s->offset;
      g_strstrip (value);
      switch (s->type) {
        case K_IGNORED:
          g_printerr ("ova-app: notice: %s:%u: [%s] %s is accepted for deepstream-app compatibility and has no effect in ova\n",
              cfg->path, line, group, keys[k]);
          break;
        case K_INT:{
          gchar *end = NULL;
          glong v;
          errno = 0;
          v = strtol (value, &end, 0);
          if (errno || end == value || *end != '\0') {
            CFG_ERROR (error, cfg->path, line, "[%s] %s: '%s' is not an integer", group, keys[k], value);
            ok = FALSE;
          } else if (s->min != s->max && (v < s->min || v > s->max)) {
            CFG_ERROR (error, cfg->path, line, "[%s] %s: %ld is out of range [%d, %d]", group, keys[k], v, s->min, s->max);
            ok = FALSE;
          } else {
            *(gint *) field = (gint) v;
          }
          break;
        }
        case K_BOOL:
          if (!strcmp (value, "1") || !g_ascii_strcasecmp (value, "true"))
            *(gboolean *) field = TRUE;
          else if (!strcmp (value, "0") || !g_ascii_strcasecmp (value, "false"))
            *(gboolean *) field = FALSE;
          else {
            CFG_ERROR (error, cfg->path, line, "[%s] %s: '%s' is not a boolean (0/1/true/false)", group, keys[k], value);
            ok = FALSE;
          }
          break;
        case K_STR:
          g_free (*(gchar **) field);
          *(gchar **) field = g_strdup (value);
          break;
        case K_PATH:
          g_free (*(gchar **) field);
          *(gchar **) field = resolve_path (cfg->dir, value);
          break;
        case K_URI:
          g_free (*(gchar **) field);
          *(gchar **) field = resolve_uri (cfg->dir, value);
          break;
        case K_LIB:
          g_free (*(gchar **) field);
          if (!strchr (value, '/'))
            *(gchar **) field = g_strdup (value);
          else {
            gchar *path = resolve_path (cfg->dir, value);
            gchar *base = g_path_get_basename (path);
            if (!g_file_test (path, G_FILE_TEST_EXISTS) && g_str_has_prefix (base, "libnvds_")) {
              /* A DeepStream adapter path: ova's own adapter of that protocol. */
              g_printerr ("ova-app: notice: %s:%u: [%s] %s: '%s' does not exist: using ova's adapter for %s\n",
                  cfg->path, line, group, keys[k], path, base);
              *(gchar **) field = base;
              g_free (path);
            } else {
              *(gchar **) field = path;
              g_free (base);
            }
          }
          break;
        case K_CLASS_COLOR:{
          gchar **parts = g_strsplit (value, ";", -1);
          gdouble c[4] = { 0, 0, 0, 1 };
          guint n = g_strv_length (parts);
          gboolean good = n == 3 || n == 4;
          for (guint i = 0; good && i < n; i++) {
            gchar *end;
            c[i] = g_ascii_strtod (g_strstrip (parts[i]), &end);
            good = end != parts[i] && *end == '\0' && c[i] >= 0 && c[i] <= 1;
          }
          g_strfreev (parts);
          if (!good) {
            CFG_ERROR (error, cfg->path, line, "[%s] %s: '%s' is not a colour \"r;g;b;a\" (each 0..1)", group, keys[k], value);
            ok = FALSE;
          } else {
            gchar *old = *(gchar **) field;
            *(gchar **) field = g_strdup_printf ("%s%s%u:%02x%02x%02x%02x", old ? old : "", old ? ";" : "", class_id,
                (guint) (c[0] * 255 + 0.5), (guint) (c[1] * 255 + 0.5), (guint) (c[2] * 255 + 0.5), (guint) (c[3] * 255 + 0.5));
            g_free (old);
          }
          break;
        }
      }
    }
    g_free (value);
  }
  g_strfreev (keys);
  return ok;
}

static gboolean
group_index (const gchar *group, const gchar *prefix, guint *index)
{
  gsize n = strlen (prefix);
  gchar *end;
  if (strncmp (group, prefix, n) != 0 || !g_ascii_isdigit (group[n]))
    return FALSE;
  *index = (guint) strtoul (group + n, &end, 10);
  return *end == '\0';
}

static void
defaults (OvaAppConfig *cfg)
{
  cfg->enable_perf = TRUE;
  cfg->perf_interval_sec = 5;
  cfg->mux_batch_size = 0;
  cfg->mux_timeout_us = 40000;
  cfg->osd_border_width = 2;
  cfg->osd_text_size = 15;
  cfg->osd_display_text = TRUE;
  cfg->osd_display_bbox = TRUE;
  cfg->tiler_rows = cfg->tiler_columns = 1;
  cfg->tiler_width = 1280;
  cfg->tiler_height = 720;
  cfg->msgconv_frame_interval = 1;
}

static void
source_defaults (OvaSourceConfig *s)
{
  s->enable = TRUE;
  s->type = SOURCE_URI;
  s->num_sources = 1;
  s->camera_width = 640;
  s->camera_height = 480;
  s->camera_fps_n = 30;
  s->camera_fps_d = 1;
  s->rtsp_reconnect_interval_sec = 0;
  s->rtsp_reconnect_attempts = -1;
  s->latency = 100;
}

static void
sink_defaults (OvaSinkConfig *s)
{
  s->enable = TRUE;
  s->type = SINK_FAKE;
  s->sync = FALSE;
  s->container = 1;
  s->codec = 1;
  s->bitrate = 4000000;
  s->iframeinterval = 30;
  s->rtsp_port = 8554;
  s->udp_port = 5400;
}

static void
gie_defaults (OvaGieConfig *g)
{
  g->enable = TRUE;
  g->operate_on_gie_id = -1;
}

static gboolean
validate (OvaAppConfig *cfg, LineIndex *idx, GError **error)
{
  guint enabled_sources = 0;
  for (guint i = 0; i < cfg->n_sources; i++) {
    OvaSourceConfig *s = &cfg->sources[i];
    guint line = line_of (idx, s->group, NULL);
    if (!s->enable)
      continue;
    enabled_sources++;
    if ((s->type == SOURCE_URI || s->type == SOURCE_MULTI_URI || s->type == SOURCE_RTSP) && !s->uri) {
      CFG_ERROR (error, cfg->path, line, "[%s] type %d needs a 'uri' key", s->group, s->type);
      return FALSE;
    }
    if (s->uri && g_str_has_prefix (s->uri, "file://")) {
      gchar *file = g_filename_from_uri (s->uri, NULL, NULL);
      if (!file || !g_file_test (file, G_FILE_TEST_IS_REGULAR)) {
        CFG_ERROR (error, cfg->path, line_of (idx, s->group, "uri"),
            "[%s] uri: input file '%s' does not exist", s->group, file ? file : s->uri);
        g_free (file);
        return FALSE;
      }
      g_free (file);
    }
    if (s->type == SOURCE_RTSP && s->uri && !g_str_has_prefix (s->uri, "rtsp://") && !g_str_has_prefix (s->uri, "rtsps://")) {
      CFG_ERROR (error, cfg->path, line_of (idx, s->group, "uri"), "[%s] type 4 (RTSP) needs an rtsp:// uri, not '%s'", s->group, s->uri);
      return FALSE;
    }
  }
  if (enabled_sources == 0) {
    CFG_ERROR (error, cfg->path, 0, "no enabled [sourceN] group: nothing to process");
    return FALSE;
  }
  for (guint i = 0; i < cfg->n_sinks; i++) {
    OvaSinkConfig *s = &cfg->sinks[i];
    if (s->enable && s->type == SINK_FILE && !s->output_file) {
      CFG_ERROR (error, cfg->path, line_of (idx, s->group, NULL), "[%s] type 3 (file) needs 'output-file'", s->group);
      return FALSE;
    }
  }
  for (guint i = 0; i < cfg->n_sinks; i++) {
    OvaSinkConfig *s = &cfg->sinks[i];
    if (s->enable && s->type == SINK_MSG_BROKER && (!s->msg_broker_proto_lib || !s->msg_broker_conn_str)) {
      CFG_ERROR (error, cfg->path, line_of (idx, s->group, NULL),
          "[%s] type 6 (message broker) needs 'msg-broker-proto-lib' and 'msg-broker-conn-str'", s->group);
      return FALSE;
    }
  }
  for (guint i = 0; i < cfg->n_consumers; i++) {
    OvaConsumerConfig *c = &cfg->consumers[i];
    if (c->enable && (!c->proto_lib || !c->conn_str || !c->subscribe_topic_list)) {
      CFG_ERROR (error, cfg->path, line_of (idx, c->group, NULL),
          "[%s] needs 'proto-lib', 'conn-str' and 'subscribe-topic-list'", c->group);
      return FALSE;
    }
  }
  if (cfg->pgie.enable && cfg->pgie.group && !cfg->pgie.config_file) {
    CFG_ERROR (error, cfg->path, line_of (idx, "primary-gie", NULL), "[primary-gie] needs 'config-file'");
    return FALSE;
  }
  for (guint i = 0; i < cfg->n_sgies; i++)
    if (cfg->sgies[i].enable && !cfg->sgies[i].config_file) {
      CFG_ERROR (error, cfg->path, line_of (idx, cfg->sgies[i].group, NULL), "[%s] needs 'config-file'", cfg->sgies[i].group);
      return FALSE;
    }
  return TRUE;
}

OvaAppConfig *
ova_app_config_load (const gchar *path, GError **error)
{
  OvaAppConfig *cfg = g_new0 (OvaAppConfig, 1);
  GKeyFile *kf = g_key_file_new ();
  gchar *text = NULL;
  gsize len;
  gchar **groups = NULL;
  LineIndex idx = { NULL };
  GError *err = NULL;
  gboolean ok = TRUE;

  defaults (cfg);
  cfg->path = g_strdup (path);
  {
    gchar *abs = g_canonicalize_filename (path, NULL);
    cfg->dir = g_path_get_dirname (abs);
    g_free (abs);
  }
  if (!g_file_get_contents (path, &text, &len, &err)) {
    g_set_error (error, G_FILE_ERROR, err->code, "cannot read configuration: %s", err->message);
    g_clear_error (&err);
    ok = FALSE;
    goto out;
  }
  if (!g_key_file_load_from_data (kf, text, len, G_KEY_FILE_NONE, &err)) {
    g_set_error (error, G_KEY_FILE_ERROR, err->code, "%s: %s", path, err->message);
    g_clear_error (&err);
    ok = FALSE;
    goto out;
  }
  index_lines (&idx, text);
  groups = g_key_file_get_groups (kf, NULL);
  for (guint g = 0; ok && groups[g]; g++) {
    const gchar *group = groups[g];
    guint n;
    if (!strcmp (group, "application"))
      ok = parse_group (cfg, kf, &idx, group, application_keys, cfg, error);
    else if (!strcmp (group, "streammux"))
      ok = parse_group (cfg, kf, &idx, group, streammux_keys, cfg, error);
    else if (!strcmp (group, "tracker")) {
      cfg->tracker_enable = TRUE;
      ok = parse_group (cfg, kf, &idx, group, tracker_keys, cfg, error);
    } else if (!strcmp (group, "osd")) {
      cfg->osd_enable = TRUE;
      ok = parse_group (cfg, kf, &idx, group, osd_keys, cfg, error);
    } else if (!strcmp (group, "tiled-display")) {
      cfg->tiler_enable = TRUE;
      ok = parse_group (cfg, kf, &idx, group, tiler_keys, cfg, error);
    } else if (!strcmp (group, "message-converter"))
      ok = parse_group (cfg, kf, &idx, group, msgconv_keys, cfg, error);
    else if (!strcmp (group, "tests"))
      ok = parse_group (cfg, kf, &idx, group, tests_keys, cfg, error);
    else if (!strcmp (group, "primary-gie")) {
      gie_defaults (&cfg->pgie);
      cfg->pgie.gie_unique_id = 1;
      cfg->pgie.group = g_strdup (group);
      ok = parse_group (cfg, kf, &idx, group, gie_keys, &cfg->pgie, error);
    } else if (group_index (group, "secondary-gie", &n)) {
      OvaGieConfig *s;
      if (cfg->n_sgies >= OVA_APP_MAX_SGIES) {
        CFG_ERROR (error, path, line_of (&idx, group, NULL), "too many secondary-gie groups (at most %d)", OVA_APP_MAX_SGIES);
        ok = FALSE;
        break;
      }
      s = &cfg->sgies[cfg->n_sgies++];
      gie_defaults (s);
      s->gie_unique_id = 2 + n;
      s->group = g_strdup (group);
      ok = parse_group (cfg, kf, &idx, group, gie_keys, s, error);
    } else if (group_index (group, "source", &n)) {
      OvaSourceConfig *s;
      if (cfg->n_sources >= OVA_APP_MAX_SOURCES) {
        CFG_ERROR (error, path, line_of (&idx, group, NULL), "too many source groups (at most %d)", OVA_APP_MAX_SOURCES);
        ok = FALSE;
        break;
      }
      s = &cfg->sources[cfg->n_sources++];
      source_defaults (s);
      s->group = g_strdup (group);
      ok = parse_group (cfg, kf, &idx, group, source_keys, s, error);
    } else if (group_index (group, "sink", &n)) {
      OvaSinkConfig *s;
      if (cfg->n_sinks >= OVA_APP_MAX_SINKS) {
        CFG_ERROR (error, path, line_of (&idx, group, NULL), "too many sink groups (at most %d)", OVA_APP_MAX_SINKS);
        ok = FALSE;
        break;
      }
      s = &cfg->sinks[cfg->n_sinks++];
      sink_defaults (s);
      s->group = g_strdup (group);
      ok = parse_group (cfg, kf, &idx, group, sink_keys, s, error);
    } else if (group_index (group, "message-consumer", &n)) {
      OvaConsumerConfig *c;
      if (cfg->n_consumers >= OVA_APP_MAX_CONSUMERS) {
        CFG_ERROR (error, path, line_of (&idx, group, NULL), "too many message-consumer groups (at most %d)", OVA_APP_MAX_CONSUMERS);
        ok = FALSE;
        break;
      }
      c = &cfg->consumers[cfg->n_consumers++];
      c->enable = TRUE;
      c->group = g_strdup (group);
      ok = parse_group (cfg, kf, &idx, group, consumer_keys, c, error);
    } else if (!strcmp (group, "img-save")
        || !strcmp (group, "ds-example") || !strcmp (group, "pre-process")
        || !strcmp (group, "nvds-analytics") || !strcmp (group, "secondary-pre-process0")) {
      g_printerr ("ova-app: notice: %s:%u: group [%s] is not supported yet and is ignored\n",
          path, line_of (&idx, group, NULL), group);
    } else {
      CFG_ERROR (error, path, line_of (&idx, group, NULL), "unknown group [%s]", group);
      ok = FALSE;
    }
  }
  if (ok)
    ok = validate (cfg, &idx, error);

out:
  if (idx.lines)
    g_hash_table_unref (idx.lines);
  g_strfreev (groups);
  g_free (text);
  g_key_file_unref (kf);
  if (!ok) {
    ova_app_config_free (cfg);
    return NULL;
  }
  return cfg;
}

void
ova_app_config_free (OvaAppConfig *cfg)
{
  if (!cfg)
    return;
  for (guint i = 0; i < cfg->n_sources; i++) {
    g_free (cfg->sources[i].uri);
    g_free (cfg->sources[i].group);
  }
  for (guint i = 0; i < cfg->n_sinks; i++) {
    OvaSinkConfig *s = &cfg->sinks[i];
    g_free (s->output_file);
    g_free (s->msg_conv_config);
    g_free (s->msg_broker_proto_lib);
    g_free (s->msg_broker_conn_str);
    g_free (s->msg_broker_config);
    g_free (s->topic);
    g_free (s->group);
  }
  for (guint i = 0; i <= cfg->n_sgies; i++) {
    OvaGieConfig *g = i == 0 ? &cfg->pgie : &cfg->sgies[i - 1];
    g_free (g->config_file);
    g_free (g->operate_on_class_ids);
    g_free (g->model_engine_file);
    g_free (g->labelfile_path);
    g_free (g->class_colors);
    g_free (g->group);
  }
  for (guint i = 0; i < cfg->n_consumers; i++) {
    OvaConsumerConfig *c = &cfg->consumers[i];
    g_free (c->proto_lib);
    g_free (c->conn_str);
    g_free (c->config_file);
    g_free (c->subscribe_topic_list);
    g_free (c->group);
  }
  g_free (cfg->gie_kitti_output_dir);
  g_free (cfg->detections_jsonl);
  g_free (cfg->tracker_config);
  g_free (cfg->tracker_algorithm);
  g_free (cfg->msgconv_config);
  g_free (cfg->path);
  g_free (cfg->dir);
  g_free (cfg);
}
