/* ova — ovaosd: draws object boxes, labels and display meta on batched frames. SPDX-License-Identifier: MIT */
#ifndef GST_OVA_OSD_H
#define GST_OVA_OSD_H

#include <gst/gst.h>
#include <gst/base/gstbasetransform.h>
#include <ova/draw.h>

G_BEGIN_DECLS

#define GST_TYPE_OVA_OSD (gst_ova_osd_get_type ())
G_DECLARE_FINAL_TYPE (GstOvaOsd, gst_ova_osd, GST, OVA_OSD, GstBaseTransform)

typedef enum {
  GST_OVA_OSD_PROCESS_CPU = 0,
  GST_OVA_OSD_PROCESS_CUDA = 1,
} GstOvaOsdProcessMode;

#define OVA_OSD_MAX_CLASS_COLORS 256

typedef struct {
  guint border_width;
  guint font_size;           /* 0: from the frame height */
  gboolean display_bbox, display_text, display_class, display_tracker_id, display_confidence;
  gboolean display_classifiers;
  OvaColor class_colors[OVA_OSD_MAX_CLASS_COLORS];
  gboolean class_color_set[OVA_OSD_MAX_CLASS_COLORS];
} GstOvaOsdSettings;

struct _GstOvaOsd {
  GstBaseTransform parent;

  /* properties (object lock); the streaming thread works on a snapshot */
  GstOvaOsdProcessMode process_mode;
  gchar *class_colors_str;
  GstOvaOsdSettings settings;

  guint n_threads;

  /* streaming thread */
  GstOvaOsdSettings snapshot;
  GMutex font_lock;          /* fonts[] is used by the drawing threads */
  gpointer workers;          /* OvaWorkers (workers.h), created on first use */
  struct _OvaOsdFrameJob *jobs;
  guint jobs_size;
  OvaFont *fonts[8];         /* small cache: last fonts used, by pixel size */
  gboolean warned_cuda, warned_format, warned_ctx;
  /* frames in CUDA memory: the context drawn in (a GstCudaContext), its
   * draw list and stream; batch_ctx: this batch has frames recorded */
  gpointer cuda_ctx;
  OvaDrawList *draw_list;
  gpointer cuda_stream;
  gboolean batch_ctx;
  guint64 frames_drawn, objects_drawn;
};

G_END_DECLS

#endif
