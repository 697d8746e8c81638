/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Messaging: metadata → JSON payloads (DeepStream's full and minimal
 * schemas, ova's compact JSON lines), the payload GstMeta, the on-disk
 * spool that makes delivery at-least-once, the broker adapter loader,
 * the publisher (adapter + spool + ordered re-send), and cloud-to-device
 * command parsing. ovamsgconv and ovamsgbroker are thin elements over
 * this; ova-msg-send and applications can use it directly.
 */
#ifndef OVA_MSG_H
#define OVA_MSG_H

#include <gmodule.h>
#include <gst/gst.h>
#include <ova/meta.h>
#include <ova/msgapi.h>

G_BEGIN_DECLS

#define OVA_MSG_ERROR (ova_msg_error_quark ())
GQuark ova_msg_error_quark (void);
typedef enum {
  OVA_MSG_ERROR_CONFIG,     /* bad config file, group or key */
  OVA_MSG_ERROR_IO,         /* file system */
  OVA_MSG_ERROR_ADAPTER,    /* adapter missing or incomplete */
  OVA_MSG_ERROR_CONNECT,    /* broker unreachable, refused */
  OVA_MSG_ERROR_COMMAND,    /* malformed or unknown cloud-to-device command */
} OvaMsgError;

/* ------------------------------------------------------------ payload types */

typedef enum {
  OVA_PAYLOAD_DEEPSTREAM = 0,         /* full schema: one message per object */
  OVA_PAYLOAD_DEEPSTREAM_MINIMAL = 1, /* one message per frame, objects as strings */
  OVA_PAYLOAD_OVA_COMPACT = 2,        /* ova's compact JSON line per frame */
} OvaPayloadType;

/* ------------------------------------------------- msg2p-style configuration */

typedef struct {
  gboolean enabled;
  gchar *id, *type, *description;
  gdouble location[3];   /* lat, lon, alt */
  gdouble coordinate[3]; /* x, y, z */
} OvaMsgSensor;

typedef struct {
  gboolean enabled;
  gchar *id, *name, *type;
  gdouble location[3];
  gdouble coordinate[3];
  gchar *sub_field[3];   /* place-sub-field1..3 (entrance/aisle/parkingSpot-like) */
} OvaMsgPlace;

typedef struct {
  gboolean enabled;
  gchar *id, *description, *source, *version;
} OvaMsgAnalytics;

typedef struct {
  GHashTable *sensors;   /* GUINT_TO_POINTER(index) → OvaMsgSensor* */
  GHashTable *places;    /* index → OvaMsgPlace* */
  GHashTable *analytics; /* index → OvaMsgAnalytics* */
} OvaMsgConvConfig;

/**
 * ova_msg_conv_config_load:
 * Parses a DeepStream msg2p config ([sensorN], [placeN], [analyticsN]
 * groups; N is the source id). Errors name the file, group and key.
 */
OvaMsgConvConfig *ova_msg_conv_config_load (const gchar *path, GError **error);
void ova_msg_conv_config_free (OvaMsgConvConfig *cfg);
/** Returns: (transfer none) (nullable): the enabled entry for @source_id. */
const OvaMsgSensor *ova_msg_conv_config_sensor (const OvaMsgConvConfig *cfg, guint source_id);
const OvaMsgPlace *ova_msg_conv_config_place (const OvaMsgConvConfig *cfg, guint source_id);
const OvaMsgAnalytics *ova_msg_conv_config_analytics (const OvaMsgConvConfig *cfg, guint source_id);

/* ------------------------------------------------------------ the converter */

typedef enum {
  OVA_MSG_EVENT_MOVING = 0, /* tracked object seen again */
  OVA_MSG_EVENT_ENTRY = 1,  /* tracker id seen for the first time */
  OVA_MSG_EVENT_EXIT = 2,   /* tracker id not seen for leave-frames frames */
  OVA_MSG_EVENT_DETECTED = 3, /* untracked detection */
} OvaMsgEventType;

const gchar *ova_msg_event_type_name (OvaMsgEventType t);

typedef struct _OvaMsgConverter OvaMsgConverter;

/**
 * ova_msg_converter_new:
 * @cfg: (transfer full) (nullable): sensor/place/analytics descriptions
 * @comp_id: only objects whose component_id is @comp_id are converted (0: all)
 * @frame_interval: convert one frame in @frame_interval per source (0 or 1: all)
 */
OvaMsgConverter *ova_msg_converter_new (OvaMsgConvConfig *cfg, OvaPayloadType type,
                                        guint comp_id, guint frame_interval);
void ova_msg_converter_free (OvaMsgConverter *conv);
/** Frames a tracker id may be absent before its exit event (default 10). */
void ova_msg_converter_set_leave_frames (OvaMsgConverter *conv, guint frames);

/**
 * ova_msg_converter_convert_frame:
 * Appends to @out (gchar*, owned by @out) the payloads for @frame;
 * entry/exit events are tracked from tracker ids across calls.
 * Returns: the number of payloads appended.
 */
guint ova_msg_converter_convert_frame (OvaMsgConverter *conv, OvaFrameMeta *frame, GPtrArray *out);
/** Forgets a source's tracks (stream ended), appending exit payloads for the ones still present. */
guint ova_msg_converter_source_ended (OvaMsgConverter *conv, guint source_id, GPtrArray *out);
/** Every source ended (end of stream): exits for all tracks; @sources gets each payload's source id. */
guint ova_msg_converter_all_ended (OvaMsgConverter *conv, GPtrArray *out, GArray *sources);

/* ----------------------------------------------------------- payload GstMeta */

typedef struct {
  gchar *topic;      /* (nullable): the broker's topic when NULL */
  GBytes *data;      /* the JSON text, no NUL */
  guint source_id;
  guint component_id;
  guint64 frame_num;
} OvaMsgPayload;

typedef struct {
  GstMeta meta;
  GPtrArray *payloads; /* OvaMsgPayload*, owned */
} OvaMsgPayloadMeta;

GType ova_msg_payload_meta_api_get_type (void);
const GstMetaInfo *ova_msg_payload_meta_get_info (void);
#define OVA_MSG_PAYLOAD_META_API_TYPE (ova_msg_payload_meta_api_get_type ())
#define OVA_MSG_PAYLOAD_META_INFO (ova_msg_payload_meta_get_info ())

/** Returns: (transfer none): the buffer's payload meta, added when absent. */
OvaMsgPayloadMeta *ova_buffer_add_msg_payload_meta (GstBuffer *buffer);
/** Returns: (transfer none) (nullable): the first payload meta of @buffer. */
OvaMsgPayloadMeta *ova_buffer_get_msg_payload_meta (GstBuffer *buffer);
/** Takes @json (copied). */
void ova_msg_payload_meta_add (OvaMsgPayloadMeta *meta, const gchar *topic, const gchar *json,
                               gsize len, guint source_id, guint component_id, guint64 frame_num);

/* ----------------------------------------------------------------- spool */

typedef enum {
  OVA_SPOOL_FSYNC_NEVER = 0,    /* leave it to the OS (survives a process crash, not a power loss) */
  OVA_SPOOL_FSYNC_INTERVAL = 1, /* fsync at most every interval (default 200 ms) */
  OVA_SPOOL_FSYNC_ALWAYS = 2,   /* no record is sent before it is on disk (ova_spool_sync:
                                 * one fsync covers every record appended since the last) */
} OvaSpoolFsync;

typedef struct _OvaSpool OvaSpool;

typedef struct {
  guint64 appended;  /* records written since open */
  guint64 acked;     /* records acknowledged since open */
  guint64 dropped;   /* unacknowledged records dropped because the bound was hit */
  guint64 corrupt;   /* records skipped at open: bad checksum or torn */
  guint64 recovered; /* unacknowledged records found at open */
  guint64 pending;   /* unacknowledged records held now */
  guint64 bytes;     /* bytes on disk now */
} OvaSpoolStats;

typedef struct {
  guint64 seq;
  gchar *topic;  /* (nullable) */
  GBytes *data;
} OvaSpoolRecord;

/**
 * ova_spool_open:
 * @dir: directory (created if missing) holding segment files seg-*.log
 * @max_bytes: bound on the bytes on disk; when an append would exceed
 *   it the oldest segment goes, its unacknowledged records counted in
 *   OvaSpoolStats.dropped and logged
 * Records already in @dir that are not acknowledged are loaded for re-sending.
 */
OvaSpool *ova_spool_open (const gchar *dir, guint64 max_bytes, OvaSpoolFsync fsync, GError **error);
void ova_spool_set_fsync_interval (OvaSpool *spool, guint ms);
/** Appends a record; Returns: its sequence number, 0 on I/O error (@error set). */
guint64 ova_spool_append (OvaSpool *spool, const gchar *topic, gconstpointer data, gsize len,
                          GError **error);
/** fsync=always: makes every record up to @upto durable (no-op otherwise). */
void ova_spool_sync (OvaSpool *spool, guint64 upto);
/** The first unacknowledged record with seq >= @from; FALSE if none. Free with ova_spool_record_clear. */
gboolean ova_spool_next (OvaSpool *spool, guint64 from, OvaSpoolRecord *out);
void ova_spool_record_clear (OvaSpoolRecord *rec);
/** Marks @seq acknowledged (any order). */
void ova_spool_ack (OvaSpool *spool, guint64 seq);
/** The oldest unacknowledged seq, or the next seq to be appended when none. */
guint64 ova_spool_first_pending (OvaSpool *spool);
void ova_spool_get_stats (OvaSpool *spool, OvaSpoolStats *stats);
/** Syncs, records the acknowledged position, closes, frees. */
void ova_spool_close (OvaSpool *spool);
OvaSpoolFsync ova_spool_fsync_from_string (const gchar *s, gboolean *ok);

/* --------------------------------------------------------------- adapters */

typedef struct {
  GModule *module;
  gchar *path;
  OvaMsgApiHandle (*connect) (const char *, OvaMsgApiConnectCb, const char *, void *, char **);
  OvaMsgApiErrorType (*send) (OvaMsgApiHandle, const char *, const uint8_t *, size_t);
  OvaMsgApiErrorType (*send_async) (OvaMsgApiHandle, const char *, const uint8_t *, size_t,
                                    OvaMsgApiSendCb, void *);
  OvaMsgApiErrorType (*subscribe) (OvaMsgApiHandle, char **, int, OvaMsgApiSubscribeCb, void *);
  void (*do_work) (OvaMsgApiHandle);
  OvaMsgApiErrorType (*disconnect) (OvaMsgApiHandle);
  const char *(*getversion) (void);
  const char *(*get_protocol_name) (void);
  OvaMsgApiErrorType (*connection_signature) (const char *, const char *, char *, int);
} OvaMsgAdapter;

/**
 * ova_msg_adapter_load:
 * @name: a path to an adapter .so, or a short name ("mqtt", "amqp",
 *   "redis", "kafka") or file name ("libova_mqtt.so"), searched in
 *   $OVA_ADAPTER_PATH, the build tree, then the installed libdir/ova/adapters.
 *   DeepStream library names (libnvds_mqtt_proto.so, libnvds_amqp_proto.so,
 *   libnvds_redis_proto.so, libnvds_kafka_proto.so) map to ova's adapters.
 */
OvaMsgAdapter *ova_msg_adapter_load (const gchar *name, GError **error);
void ova_msg_adapter_free (OvaMsgAdapter *ad);

/* ----------------------------------------------------- cloud-to-device commands */

typedef enum {
  OVA_MSG_CMD_START_RECORDING,
  OVA_MSG_CMD_STOP_RECORDING,
  OVA_MSG_CMD_ADD_SOURCE,
  OVA_MSG_CMD_REMOVE_SOURCE,
  OVA_MSG_CMD_SET_PROPERTY,
} OvaMsgCommandType;

/**
 * A parsed command. JSON forms (field "command" selects):
 *  {"command":"start-recording","source-id":0,"duration":10}  (duration seconds, optional)
 *  {"command":"stop-recording","source-id":0}
 *  {"command":"add-source","uri":"file:///x.mp4"}             (source-id optional)
 *  {"command":"remove-source","source-id":1}
 *  {"command":"set-property","element":"infer0","property":"interval","value":2}
 */
typedef struct {
  OvaMsgCommandType type;
  gint source_id;      /* -1 when absent */
  gdouble duration;    /* start-recording; 0 = until stopped */
  gchar *uri;          /* add-source */
  gchar *element;      /* set-property */
  gchar *property;
  gchar *value;        /* set-property: the value as text (JSON scalars stringified) */
} OvaMsgCommand;

const gchar *ova_msg_command_type_name (OvaMsgCommandType t);
/** Returns: a command, or NULL with @error saying why it was rejected. */
OvaMsgCommand *ova_msg_command_parse (const gchar *json, gssize len, GError **error);
void ova_msg_command_free (OvaMsgCommand *cmd);
/** Returns: (transfer full): "ova-msg-command" structure (fields: command, source-id, ...). */
GstStructure *ova_msg_command_to_structure (const OvaMsgCommand *cmd);

/* --------------------------------------------------------------- publisher */

typedef struct _OvaMsgPublisher OvaMsgPublisher;

typedef struct {
  const gchar *proto_lib;   /* adapter (see ova_msg_adapter_load) */
  const gchar *conn_str;    /* "host;port" or "host;port;topic" */
  const gchar *config;      /* (nullable) adapter config file */
  const gchar *topic;       /* (nullable) default topic; else the conn-str topic */
  const gchar *spool_dir;   /* (nullable) no spool: messages in memory only */
  guint64 spool_max_bytes;  /* 0: 256 MiB */
  OvaSpoolFsync fsync;
  guint max_in_flight;      /* 0: 1000 */
  gboolean start_offline;   /* broker unreachable at start: queue (spool) and keep trying
                             * instead of failing; bad settings still fail */
  guint retry_ms;           /* start_offline: delay between connection tries (0: 1000) */
} OvaMsgPublisherOptions;

typedef struct {
  guint64 queued;      /* pushed by the caller */
  guint64 sent;        /* handed to the adapter (re-sends included) */
  guint64 acked;       /* acknowledged by the broker */
  guint64 resent;      /* handed again after a failure */
  guint64 dropped;     /* lost to the spool bound */
  guint64 pending;     /* not yet acknowledged */
  guint64 disconnects; /* connection losses seen */
  guint64 corrupt;     /* spool records skipped at open */
  guint64 recovered;   /* spool records re-sent after a restart */
  guint64 commands;    /* cloud-to-device commands accepted */
  guint64 rejected;    /* commands rejected */
} OvaMsgPublisherStats;

/** Accepted command (transfer none). Called on the adapter's thread. */
typedef void (*OvaMsgCommandFunc) (const OvaMsgCommand *cmd, const gchar *topic, gpointer user_data);
/** Rejected command with the reason. */
typedef void (*OvaMsgRejectFunc) (const gchar *raw, gsize len, const gchar *topic,
                                  const gchar *reason, gpointer user_data);
/** Connection events. */
typedef void (*OvaMsgConnectionFunc) (gboolean connected, const gchar *reason, gpointer user_data);

OvaMsgPublisher *ova_msg_publisher_new (const OvaMsgPublisherOptions *opts, GError **error);
void ova_msg_publisher_set_connection_func (OvaMsgPublisher *pub, OvaMsgConnectionFunc func,
                                            gpointer user_data);
/** Subscribes to @topics (NULL-terminated) for cloud-to-device commands. */
gboolean ova_msg_publisher_subscribe (OvaMsgPublisher *pub, const gchar *const *topics,
                                      OvaMsgCommandFunc on_command, OvaMsgRejectFunc on_reject,
                                      gpointer user_data, GError **error);
/** Queues a message (spooled first when a spool is set). @topic NULL: the default. */
gboolean ova_msg_publisher_push (OvaMsgPublisher *pub, const gchar *topic, gconstpointer data,
                                 gsize len, GError **error);
/** Waits until nothing is pending or @timeout_ms passed; TRUE when all acknowledged. */
gboolean ova_msg_publisher_flush (OvaMsgPublisher *pub, guint timeout_ms);
void ova_msg_publisher_get_stats (OvaMsgPublisher *pub, OvaMsgPublisherStats *stats);
/** Stops sending, disconnects; unacknowledged spooled records stay on disk for the next run. */
void ova_msg_publisher_free (OvaMsgPublisher *pub);

/* Shared helpers for adapters: "host;port[;topic]" → parts (g_free them). */
gboolean ova_msg_parse_conn_str (const gchar *conn_str, gchar **host, guint *port, gchar **topic,
                                 GError **error);

G_END_DECLS

#endif /* OVA_MSG_H */
