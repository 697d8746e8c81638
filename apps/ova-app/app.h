/* ova-app — the reference application. SPDX-License-Identifier: MIT */
#ifndef OVA_APP_H
#define OVA_APP_H

#include <gst/gst.h>
#include <stdio.h>
#include "config.h"

typedef struct {
  guint source_id;
  gchar *uri;
  GstElement *bin;              /* uridecodebin / camera bin */
  gboolean finite;              /* a file: progress can be reported */
  gboolean loop;
  guint64 frames;               /* frames seen at the perf probe */
  guint64 frames_at_last;
  /* RTSP reconnection (type 4 with rtsp-reconnect-interval-sec > 0). */
  gboolean reconnect;           /* errors, EOS and stalls rebuild the source */
  GstPad *mux_pad;              /* our ovamux sink pad, kept across reconnects */
  gint64 last_buffer_us;        /* monotonic time of the last decoded frame (stats_lock) */
  gboolean waiting_first;       /* rebuilt, no frame yet (stats_lock) */
  guint reconnect_timer;        /* pending rebuild (main thread) */
  guint attempts;               /* rebuilds since the last frame */
  guint attempts_total;
  guint reconnects;             /* rebuilds that delivered frames again */
  gboolean gave_up;
  const OvaSourceConfig *cfg;
  struct _OvaApp *app;
} OvaAppSource;

typedef struct _OvaApp {
  OvaAppConfig *cfg;
  GstElement *pipeline;
  GstElement *mux;
  GMainLoop *loop;
  OvaAppSource sources[OVA_APP_MAX_SOURCES];
  guint n_sources;
  gint exit_code;
  gboolean eos_sent;
  gint64 start_us, last_perf_us;
  guint64 frames_total;
  GMutex stats_lock;
  GHashTable *latency;          /* component -> GArray of gdouble ms */
  GArray *latency_total;        /* gdouble ms, source to the end of the analytics chain */
  FILE *jsonl;
  GString *line;
  gchar *kitti_dir;
  gdouble max_seconds;
  gboolean quiet;
  guint watchdog_id;
  GPtrArray *rtsp_servers;      /* GstRTSPServer of type 4 sinks */
  GPtrArray *consumers;         /* [message-consumerN] subscriptions */
  guint commands_received;
  gboolean gpu;                 /* the GPU path: CUDA-memory frames, ovainfer on the cuda backend */
} OvaApp;

/* pipeline.c */
gboolean ova_app_build_pipeline (OvaApp *app, GError **error);
void ova_app_report_latency (OvaApp *app);
/* Main thread: errors of a reconnecting source rebuild it; TRUE when handled. */
gboolean ova_app_source_error (OvaApp *app, GstObject *origin, const gchar *message);
void ova_app_start_watchdog (OvaApp *app);
OvaAppSource *ova_app_source_of (OvaApp *app, GstObject *obj, gboolean *stale);

/* consumer.c */
gboolean ova_app_start_consumers (OvaApp *app, GError **error);
void ova_app_stop_consumers (OvaApp *app);

#endif
