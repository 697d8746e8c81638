/* ova-app — deepstream-app compatible configuration. SPDX-License-Identifier: MIT */
#ifndef OVA_APP_CONFIG_H
#define OVA_APP_CONFIG_H

#include <glib.h>

#define OVA_APP_MAX_SOURCES 64
#define OVA_APP_MAX_SINKS 16
#define OVA_APP_MAX_SGIES 16
#define OVA_APP_MAX_CONSUMERS 8

typedef enum {
  SOURCE_CAMERA_V4L2 = 1,
  SOURCE_URI = 2,
  SOURCE_MULTI_URI = 3,
  SOURCE_RTSP = 4,
} SourceType;

typedef enum {
  SINK_FAKE = 1,
  SINK_EGL = 2,   /* accepted: shown with autovideosink */
  SINK_FILE = 3,
  SINK_RTSP = 4,
  SINK_OVERLAY = 5, /* accepted: shown with autovideosink */
  SINK_MSG_BROKER = 6,
} SinkType;

typedef struct {
  gboolean enable;
  gint type;
  gchar *uri;
  gint num_sources;
  gint gpu_id;
  gint camera_id;
  gint camera_v4l2_dev_node;
  gint camera_width, camera_height, camera_fps_n, camera_fps_d;
  gint rtsp_reconnect_interval_sec;
  gint rtsp_reconnect_attempts;
  gint select_rtp_protocol;
  gint latency;
  gint drop_frame_interval;
  gchar *group;
} OvaSourceConfig;

typedef struct {
  gboolean enable;
  gint type;
  gboolean sync;
  gboolean qos;
  gint source_id;
  gint container;
  gint codec;
  gint enc_type;
  gint bitrate;
  gint iframeinterval;
  gchar *output_file;
  gint rtsp_port;
  gint udp_port;
  gint width, height;
  /* type 6 */
  gchar *msg_conv_config;
  gint msg_conv_payload_type;
  gchar *msg_broker_proto_lib;
  gchar *msg_broker_conn_str;
  gchar *msg_broker_config;
  gchar *topic;
  gint msg_conv_comp_id, msg_broker_comp_id;
  gchar *group;
} OvaSinkConfig;

/* [message-consumerN]: cloud-to-device commands through a broker adapter. */
typedef struct {
  gboolean enable;
  gchar *proto_lib;
  gchar *conn_str;
  gchar *config_file;
  gchar *subscribe_topic_list;  /* topics separated by ';' */
  gchar *group;
} OvaConsumerConfig;

typedef struct {
  gboolean enable;
  gchar *config_file;
  gint batch_size;
  gint interval;
  gint gie_unique_id;
  gint operate_on_gie_id;
  gchar *operate_on_class_ids;
  gchar *model_engine_file;
  gchar *labelfile_path;
  gint gpu_id;
  gchar *class_colors;          /* bbox-border-colorN as ovaosd class-colors */
  gchar *group;
} OvaGieConfig;

typedef struct {
  gchar *path;                  /* the configuration file */
  gchar *dir;                   /* its directory: relative paths are relative to it */

  /* [application] */
  gboolean enable_perf;
  gint perf_interval_sec;
  gchar *gie_kitti_output_dir;
  gchar *detections_jsonl;
  gint gpu_id;
  gboolean latency;

  /* [streammux] */
  gint mux_batch_size;
  gint mux_timeout_us;
  gint mux_width, mux_height;
  gboolean mux_live_source;
  gboolean mux_sync_inputs;

  OvaSourceConfig sources[OVA_APP_MAX_SOURCES];
  guint n_sources;
  OvaSinkConfig sinks[OVA_APP_MAX_SINKS];
  guint n_sinks;

  OvaGieConfig pgie;
  OvaGieConfig sgies[OVA_APP_MAX_SGIES];
  guint n_sgies;

  /* [tracker] */
  gboolean tracker_enable;
  gint tracker_width, tracker_height;
  gchar *tracker_config;
  gchar *tracker_algorithm;

  /* [osd] */
  gboolean osd_enable;
  gint osd_border_width;
  gint osd_text_size;
  gboolean osd_display_text;
  gboolean osd_display_bbox;

  /* [tiled-display] */
  gboolean tiler_enable;
  gint tiler_rows, tiler_columns, tiler_width, tiler_height;

  /* [message-converter] */
  gboolean msgconv_enable;
  gchar *msgconv_config;
  gint msgconv_payload_type;
  gint msgconv_frame_interval;
  gint msgconv_comp_id;

  OvaConsumerConfig consumers[OVA_APP_MAX_CONSUMERS];
  guint n_consumers;

  /* [tests] */
  gboolean file_loop;
} OvaAppConfig;

/* Loads and validates @path. Errors name the file, line, group and key. */
OvaAppConfig *ova_app_config_load (const gchar *path, GError **error);
void ova_app_config_free (OvaAppConfig *cfg);

#endif
