/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Inference helpers behind the ovainfer element, usable without GStreamer
 * elements: the nvinfer-compatible config file, fused preprocessing,
 * built-in output parsers, clustering (NMS, top-k), and writers of one
 * frame's detections (deepstream-app KITTI files, ova's JSON lines).
 */
#ifndef OVA_INFER_H
#define OVA_INFER_H

#include <glib.h>
#include <ova/meta.h>
#include <ova/infer-parser.h>

G_BEGIN_DECLS

#define OVA_INFER_ERROR (ova_infer_error_quark ())
typedef enum {
  OVA_INFER_ERROR_CONFIG,   /* bad or missing key/value; message names file, group and key */
  OVA_INFER_ERROR_IO,       /* a file named by the config is missing or unreadable */
  OVA_INFER_ERROR_MODEL,    /* the model's inputs/outputs do not fit the config */
  OVA_INFER_ERROR_PARSER,   /* custom parser library or function missing, or it failed */
} OvaInferError;
GQuark ova_infer_error_quark (void);

/* ------------------------------------------------------------------ config */

typedef enum { OVA_COLOR_RGB = 0, OVA_COLOR_BGR = 1, OVA_COLOR_GRAY = 2 } OvaNetColor;
typedef enum {
  OVA_NETWORK_DETECTOR = 0,
  OVA_NETWORK_CLASSIFIER = 1,
  OVA_NETWORK_SEGMENTATION = 2,
  OVA_NETWORK_RAW = 100,
} OvaNetworkType;
typedef enum { OVA_PROCESS_FRAMES = 1, OVA_PROCESS_OBJECTS = 2 } OvaProcessMode;
typedef enum { OVA_CLUSTER_NMS = 2, OVA_CLUSTER_NONE = 4 } OvaClusterMode;

/** Built-in decoders of detector outputs (parse-bbox-func-name without custom-lib-path). */
typedef enum {
  OVA_PARSER_NONE = 0,
  OVA_PARSER_YOLOX,   /* 1 x N x (5+C): x,y (cell offsets), log w, log h, objectness, scores */
  OVA_PARSER_YOLOV8,  /* 1 x (4+C) x N: cx,cy,w,h, class scores (ultralytics v8/v11) */
  OVA_PARSER_YOLOV5,  /* 1 x N x (5+C): cx,cy,w,h, objectness, class scores (v5/v7) */
  OVA_PARSER_SSD,     /* boxes 1 x N x 4 (x1,y1,x2,y2, normalised or pixels) + scores 1 x N x C */
  OVA_PARSER_CUSTOM,  /* from custom-lib-path */
} OvaParserKind;

typedef enum {
  OVA_CLASSIFIER_SOFTMAX = 0,
  OVA_CLASSIFIER_SIGMOID = 1,
  OVA_CLASSIFIER_NONE = 2,    /* the network already outputs probabilities */
} OvaClassifierActivation;

/** Per-class detection parameters ([class-attrs-all] / [class-attrs-<id>]). */
typedef struct {
  gfloat pre_cluster_threshold;   /* drop boxes scoring below, before clustering */
  gfloat post_cluster_threshold;  /* drop boxes scoring below, after clustering */
  gfloat nms_iou_threshold;
  gint topk;                      /* keep at most this many after clustering (-1: all) */
  gint detected_min_w, detected_min_h, detected_max_w, detected_max_h; /* 0: no limit */
  gint roi_top_offset, roi_bottom_offset; /* ignore boxes whose centre is outside (source px) */
} OvaClassAttrs;

typedef struct {
  gchar *path;                    /* the config file (for messages) */
  /* model */
  gchar *onnx_file;               /* onnx-file, resolved against the config's directory */
  gchar *model_engine_file;       /* (nullable) plan cache */
  gchar *labelfile_path;          /* (nullable) */
  gchar **labels;                 /* (nullable) NULL-terminated; classifier: one per class */
  guint n_labels;
  gint batch_size;
  gint network_mode;              /* OvaPrecision */
  OvaNetworkType network_type;
  gint num_detected_classes;
  gchar **output_blob_names;      /* (nullable) */
  gboolean output_tensor_meta;
  /* preprocessing */
  gfloat net_scale_factor;
  gfloat net_scale_factors[3];    /* ova extension: per-channel scale (1/std); default all = net-scale-factor */
  gfloat offsets[3];
  OvaNetColor model_color_format;
  gboolean maintain_aspect_ratio;
  gboolean symmetric_padding;
  gfloat pad_value;               /* ova extension: letterbox pixel value before normalisation (0) */
  /* element behaviour */
  gint interval;
  guint gie_unique_id;
  OvaProcessMode process_mode;
  gint operate_on_gie_id;         /* -1: any */
  gint *operate_on_class_ids;     /* (nullable) */
  guint n_operate_on_class_ids;
  gint input_object_min_width, input_object_min_height;
  gint input_object_max_width, input_object_max_height;   /* 0: no limit */
  gint secondary_reinfer_interval; /* frames a cached secondary result stays valid */
  /* classifier / embedding */
  gfloat classifier_threshold;
  OvaClassifierActivation classifier_activation; /* ova extension: classifier-activation */
  gboolean classifier_multi_label;               /* ova extension: classifier-multi-label */
  gboolean output_embedding;                     /* ova extension: output-embedding */
  /* detector */
  OvaClusterMode cluster_mode;
  OvaParserKind parser;
  gchar *parse_bbox_func_name;
  gchar *custom_lib_path;
  gboolean class_agnostic_nms;                   /* ova extension: nms-class-agnostic */
  OvaClassAttrs class_all;
  OvaClassAttrs *class_attrs;     /* num_detected_classes entries (class_all with overrides) */
  GHashTable *class_overrides;    /* private: class id -> TRUE when [class-attrs-<id>] exists */
} OvaInferConfig;

/** A config with nvinfer's defaults. */
OvaInferConfig *ova_infer_config_new (void);
void ova_infer_config_free (OvaInferConfig *cfg);

/**
 * ova_infer_config_load:
 * Parses an nvinfer-style config file into @cfg (keys already set in @cfg
 * keep their values unless the file sets them). Unknown keys are logged as
 * warnings naming file and line; bad values fail with OVA_INFER_ERROR_CONFIG
 * naming file, group and key. Relative paths resolve against the file's
 * directory.
 * @warnings: (nullable) (out): receives one line per warning instead of the
 * log (NULL: warnings go to g_warning).
 */
gboolean ova_infer_config_load (OvaInferConfig *cfg, const gchar *path, GPtrArray *warnings,
                                GError **error);
/** Same, from a string; @path is used for messages and relative paths. */
gboolean ova_infer_config_load_data (OvaInferConfig *cfg, const gchar *data, const gchar *path,
                                     GPtrArray *warnings, GError **error);
/** Recomputes the per-class table after changes; checks cross-key constraints. */
gboolean ova_infer_config_finish (OvaInferConfig *cfg, GError **error);
/** Loads a label file: one label per line, or (classifiers) one line of ';'-separated labels. */
gchar **ova_infer_load_labels (const gchar *path, guint *n, GError **error);
const OvaClassAttrs *ova_infer_config_class_attrs (const OvaInferConfig *cfg, gint class_id);

/* ----------------------------------------------------------- preprocessing */

/** A source image in host memory. */
typedef struct {
  GstVideoFormat format;          /* NV12, I420, RGB, BGR, RGBA, BGRA, RGBx, BGRx, xRGB, ARGB, GRAY8 */
  gint width, height;
  const guint8 *data[3];
  gint stride[3];
  /* YUV formats: BT.601 limited range unless these say otherwise (0 = unknown) */
  GstVideoColorMatrix matrix;
  GstVideoColorRange range;
} OvaImage;

/** Fills @img from a mapped frame (pointers borrowed). */
void ova_image_from_mapped (OvaImage *img, const OvaMappedFrame *m);

/** Where the source region landed in the network input (for mapping boxes back). */
typedef struct {
  gfloat crop_left, crop_top;     /* source region origin */
  gfloat scale_x, scale_y;        /* network px per source px */
  gfloat pad_x, pad_y;            /* network px before the scaled region */
  gint out_w, out_h;              /* size of the scaled region */
} OvaLetterbox;

typedef struct {
  gint net_width, net_height;
  OvaNetColor color;              /* output planes: RGB, BGR (3 planes) or GRAY (1) */
  gfloat scale[3];                /* y = scale[c] * (x - offset[c]) */
  gfloat offset[3];
  gboolean maintain_aspect_ratio;
  gboolean symmetric_padding;
  gfloat pad_value;               /* pixel value of the padding before normalisation */
} OvaPreprocParams;

void ova_preproc_params_from_config (OvaPreprocParams *p, const OvaInferConfig *cfg,
                                     gint net_width, gint net_height);
gboolean ova_preproc_format_supported (GstVideoFormat format);
/** Computes the letterbox of @crop (source pixels) into the network input. */
void ova_preproc_letterbox (const OvaPreprocParams *p, const OvaRect *crop, OvaLetterbox *lb);

/**
 * ova_preprocess:
 * Crops @crop from @src (NULL: the whole image), scales it bilinearly into the
 * network input (letterboxed when maintain_aspect_ratio), converts colour,
 * normalises and writes planar float @dst (channels x net_height x net_width).
 * Vectorised; ova_preprocess_reference is the plain scalar definition.
 */
gboolean ova_preprocess (const OvaImage *src, const OvaRect *crop, const OvaPreprocParams *p,
                         gfloat *dst, OvaLetterbox *lb);
gboolean ova_preprocess_reference (const OvaImage *src, const OvaRect *crop,
                                   const OvaPreprocParams *p, gfloat *dst, OvaLetterbox *lb);

/* ----------------------------------------------------------------- parsers */

/** A detection in network-input pixels (same as OvaInferObject). */
typedef OvaInferObject OvaDetection;

/** Decodes YOLOX output (1 x N x (5+C), N = sum over strides 8/16/32 of (W/s)*(H/s)). */
gboolean ova_parse_yolox (const OvaInferLayer *out, const OvaInferNetworkInfo *net,
                          const OvaInferParseParams *params, OvaInferObjectList *list);
gboolean ova_parse_yolov8 (const OvaInferLayer *out, const OvaInferNetworkInfo *net,
                           const OvaInferParseParams *params, OvaInferObjectList *list);
gboolean ova_parse_yolov5 (const OvaInferLayer *out, const OvaInferNetworkInfo *net,
                           const OvaInferParseParams *params, OvaInferObjectList *list);
/** @boxes 1 x N x 4 (x1,y1,x2,y2; normalised 0..1 when every value <= 1.5), @scores 1 x N x C. */
gboolean ova_parse_ssd (const OvaInferLayer *boxes, const OvaInferLayer *scores,
                        const OvaInferNetworkInfo *net, const OvaInferParseParams *params,
                        OvaInferObjectList *list);

/** Classifier result: (class, probability) pairs above threshold, best first. */
typedef struct {
  gint class_id;
  gfloat probability;
} OvaClassResult;
/**
 * ova_parse_classifier:
 * Applies @act to @logits (n values); single-label keeps the best class if it
 * reaches @threshold, multi-label every class reaching it. Returns the count
 * written to @out (capacity n).
 */
guint ova_parse_classifier (const gfloat *logits, guint n, OvaClassifierActivation act,
                            gboolean multi_label, gfloat threshold, OvaClassResult *out);
/**
 * ova_parse_segmentation:
 * Turns a segmentation output (1 x C x H x W, or 1 x H x W) into a mask:
 * with C > 1 each pixel holds its arg-max class id; with one channel, the
 * value itself (a probability or logit map). Returns a newly allocated
 * OvaMaskMeta (free with ova_mask_meta_free), or NULL if @l has another shape.
 */
OvaMaskMeta *ova_parse_segmentation (const OvaInferLayer *l);
void ova_mask_meta_free (OvaMaskMeta *m);
/** Makes @um an OVA_USER_META_MASK holding @mask (ownership taken). */
void ova_user_meta_take_mask (OvaUserMeta *um, OvaMaskMeta *mask);

/** L2-normalises @v (n values) into @out (may alias); zero vectors stay zero. */
void ova_l2_normalize (const gfloat *v, guint n, gfloat *out);

/* -------------------------------------------------------------- clustering */

/** Intersection over union of two boxes. */
gfloat ova_box_iou (const OvaInferObject *a, const OvaInferObject *b);
/**
 * ova_nms:
 * Sorts @list by confidence and suppresses boxes overlapping a better one by
 * more than the class's IoU threshold (per class, or across classes when
 * @class_agnostic), then keeps at most topk per class (and @max_total
 * overall, -1: all). Thresholds come from @cfg's class table.
 */
void ova_nms (OvaInferObjectList *list, const OvaInferConfig *cfg, gboolean class_agnostic,
              gint max_total);
/** Plain NMS with one IoU threshold for every class (for tests and custom use). */
void ova_nms_simple (OvaInferObjectList *list, gfloat iou_threshold, gboolean class_agnostic,
                     gint topk);
void ova_infer_object_list_clear (OvaInferObjectList *list);

/* ---------------------------------------------------------------- writers */

/**
 * ova_infer_kitti_path:
 * deepstream-app's file name for one frame: DIR/AA_SSS_FFFFFF.txt
 * (AA = @app_index, SSS = source id, FFFFFF = frame number).
 */
gchar *ova_infer_kitti_path (const gchar *dir, guint app_index, const OvaFrameMeta *frame);
/** Appends the frame's objects as KITTI lines (deepstream-app's gie-kitti-output-dir format). */
void ova_infer_frame_to_kitti (const OvaFrameMeta *frame, GString *out);
/** Writes ova_infer_kitti_path() with the frame's KITTI lines. */
gboolean ova_infer_write_kitti (const gchar *dir, guint app_index, const OvaFrameMeta *frame,
                                GError **error);
/**
 * ova_infer_frame_to_json:
 * Appends one JSON line (with '\n') describing the frame's objects:
 * {"source_id":0,"frame":12,"pts":1200000000,"width":768,"height":576,
 *  "objects":[{"class_id":0,"label":"person","confidence":0.87,"left":10.5,
 *  "top":20.0,"width":30.0,"height":80.0,"tracker_id":5}]}
 * (boxes in source pixels, tracker_id -1 when untracked, pts -1 when unknown).
 */
void ova_infer_frame_to_json (const OvaFrameMeta *frame, GString *out);

G_END_DECLS

#endif /* OVA_INFER_H */
