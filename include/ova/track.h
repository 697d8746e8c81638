/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Multi-object tracking: one interface over four trackers, the assignment
 * solver they share, MOTChallenge file I/O and the MOT metrics (MOTA, IDF1,
 * HOTA) used to judge them. Plain C and GLib; no GStreamer elements here
 * (the ovatrack element in plugins/track is a thin layer over this).
 *
 *   OvaTrackerConfig cfg;
 *   ova_tracker_config_init (&cfg, OVA_TRACKER_BYTETRACK);
 *   OvaTracker *t = ova_tracker_new (&cfg);
 *   for each frame:
 *     n = detector_ran ? ova_tracker_update (t, dets, n_dets, &out)
 *                      : ova_tracker_predict (t, &out);
 *     out[i].detection_index says which detection (or -1: predicted box)
 *   ova_tracker_free (t);
 *
 * A tracker holds the tracks of ONE video source: ids are unique per tracker
 * (64-bit, from 1); use one tracker per source.
 */
#ifndef OVA_TRACK_H
#define OVA_TRACK_H

#include <glib.h>
#include <ova/meta.h>

G_BEGIN_DECLS

/* ------------------------------------------------------------------ config */

typedef enum {
  OVA_TRACKER_IOU = 0,       /* IoU matching to the last box, no motion model */
  OVA_TRACKER_SORT = 1,      /* Kalman (constant velocity) + optimal IoU assignment */
  OVA_TRACKER_BYTETRACK = 2, /* SORT + second association stage for low-confidence boxes */
  OVA_TRACKER_REID = 3,      /* ByteTrack + appearance (embedding gallery, motion-gated) */
} OvaTrackerAlgorithm;

#define OVA_TRACKER_N_ALGORITHMS 4

typedef struct {
  OvaTrackerAlgorithm algorithm;
  gboolean per_class;          /* associate only boxes of the same class_id */
  guint max_lost;              /* frames (with detections) a lost track is kept */
  guint report_lost;           /* frames a lost track is still reported (PREDICTED box) */
  guint min_hits;              /* matched frames before a track is CONFIRMED (>= 1) */
  gfloat min_iou;              /* IOU/SORT/first ByteTrack stage: least IoU of a match */
  gfloat low_min_iou;          /* ByteTrack second stage (low-confidence boxes): least IoU */
  gfloat high_threshold;       /* ByteTrack: confidence splitting high and low boxes */
  gfloat low_threshold;        /* boxes below this are ignored */
  gfloat new_track_threshold;  /* least confidence to start a track */
  /* Appearance (reid) */
  gfloat max_cosine_distance;  /* appearance match only below this cosine distance */
  guint gallery_size;          /* embeddings kept per track */
  gfloat gate_chi2;            /* Mahalanobis gate (4 dof) on the Kalman prediction */
  gfloat proximity_iou;        /* appearance of a track seen last frame: needs this IoU */
  /* Kalman noise, relative to the box height (as in DeepSORT/ByteTrack) */
  gfloat std_weight_position;
  gfloat std_weight_velocity;
} OvaTrackerConfig;

/** Fills @cfg with the defaults of @algorithm. */
void ova_tracker_config_init (OvaTrackerConfig *cfg, OvaTrackerAlgorithm algorithm);

const gchar *ova_tracker_algorithm_to_string (OvaTrackerAlgorithm algorithm);
/** Accepts iou, sort, bytetrack (byte), reid (deepsort, botsort), any case. */
gboolean ova_tracker_algorithm_from_string (const gchar *name, OvaTrackerAlgorithm *out);

#define OVA_TRACKER_CONFIG_ERROR (ova_tracker_config_error_quark ())
GQuark ova_tracker_config_error_quark (void);
typedef enum {
  OVA_TRACKER_CONFIG_ERROR_KEY,    /* unknown group or key */
  OVA_TRACKER_CONFIG_ERROR_VALUE,  /* bad value */
} OvaTrackerConfigError;

/**
 * ova_tracker_config_load:
 * Reads a tracker config (GKeyFile syntax, the file deepstream-app's
 * `[tracker] ll-config-file` points to). Group [tracker]:
 *   algorithm=iou|sort|bytetrack|reid   (the defaults of that algorithm are
 *                                        applied first, then the other keys)
 *   per-class, max-lost, report-lost, min-hits, min-iou, low-min-iou, high-threshold,
 *   low-threshold, new-track-threshold, max-cosine-distance, gallery-size,
 *   gate-chi2, proximity-iou, std-weight-position, std-weight-velocity
 * Unknown groups/keys and bad values fail with a GError naming the file, the
 * group and the key. On failure @cfg is left unchanged.
 */
gboolean ova_tracker_config_load (OvaTrackerConfig *cfg, const gchar *path, GError **error);
/** Same from memory; @name is used in error messages. */
gboolean ova_tracker_config_load_data (OvaTrackerConfig *cfg, const gchar *data, gsize len,
    const gchar *name, GError **error);
/** Checks ranges; the error names @name and the key. */
gboolean ova_tracker_config_validate (const OvaTrackerConfig *cfg, const gchar *name, GError **error);

/**
 * OvaTrackerAppGroup:
 * The `[tracker]` group of a deepstream-app style application config, read
 * by ova_tracker_app_group_load(). The application then builds one
 * `ovatrack` element with the properties ll-config-file, tracker-width and
 * tracker-height set from these fields (when enable is TRUE).
 */
typedef struct {
  gboolean enable;
  guint tracker_width, tracker_height; /* 0 when not given */
  gchar *ll_config_file;     /* resolved against the app config's directory, or NULL */
  gchar *ll_lib_file;        /* as given; ova ignores it (a notice is logged), or NULL */
  OvaTrackerConfig config;   /* what ll-config-file says (ByteTrack defaults without one) */
} OvaTrackerAppGroup;

/**
 * ova_tracker_app_group_load:
 * @kf: the application config; @group: usually "tracker";
 * @app_config_path: (nullable): the config's path, for relative paths and messages.
 * Reads and checks the group (keys: enable, tracker-width, tracker-height,
 * ll-config-file, ll-lib-file; deepstream-app's gpu-id, display-tracking-id,
 * compute-hw, tracking-surface-type, tracking-id-reset-mode,
 * user-meta-pool-size, sub-batches and input-tensor-meta /
 * tensor-meta-gie-id are accepted and not used) and loads ll-config-file,
 * so that a bad tracker config is reported when the application starts.
 * Errors name the file, the group and the key. Clear @out with
 * ova_tracker_app_group_clear().
 */
gboolean ova_tracker_app_group_load (GKeyFile *kf, const gchar *group, const gchar *app_config_path,
    OvaTrackerAppGroup *out, GError **error);
void ova_tracker_app_group_clear (OvaTrackerAppGroup *g);

/* ----------------------------------------------------------------- tracker */

typedef struct _OvaTracker OvaTracker;

/** One detection given to ova_tracker_update(). */
typedef struct {
  OvaRect rect;             /* source pixels */
  gint class_id;
  gfloat confidence;        /* detector confidence (0..1) */
  const gfloat *embedding;  /* (nullable) appearance feature, need not be normalised */
  guint embedding_dim;
} OvaTrackerDetection;

/** One track reported for a frame. */
typedef struct {
  gint64 id;                /* unique per tracker, from 1 */
  OvaRect rect;             /* the tracker's box (filtered, or predicted) */
  gint class_id;
  gfloat confidence;        /* tracker confidence: last matched detection's, decayed while predicted */
  OvaTrackState state;      /* CONFIRMED / TENTATIVE (matched now) or PREDICTED */
  gint detection_index;     /* index into the update's detections, -1 when predicted */
  guint age;                /* frames since the track started */
  guint hits;               /* frames with a matched detection */
} OvaTrackerOutput;

OvaTracker *ova_tracker_new (const OvaTrackerConfig *cfg);
void ova_tracker_free (OvaTracker *tracker);
/** Drops every track; ids keep counting (stay unique for this tracker). */
void ova_tracker_reset (OvaTracker *tracker);
const OvaTrackerConfig *ova_tracker_get_config (OvaTracker *tracker);

/**
 * ova_tracker_update:
 * A frame on which the detector ran: associates @dets (n may be 0) with the
 * tracks. Returns the number of tracks matched on this frame and, in @out
 * (owned by the tracker, valid until the next call), one entry each, state
 * CONFIRMED or TENTATIVE, detection_index set. Detections without a track
 * (too weak, or a new track) are not listed.
 */
guint ova_tracker_update (OvaTracker *tracker, const OvaTrackerDetection *dets, guint n_dets,
    const OvaTrackerOutput **out);

/**
 * ova_tracker_predict:
 * A frame on which the detector did not run (inference interval): moves the
 * tracks by their motion model and reports the confirmed tracks that were
 * matched on the last detector frame, state PREDICTED, detection_index -1.
 * Lost-track ageing counts detector frames only.
 */
guint ova_tracker_predict (OvaTracker *tracker, const OvaTrackerOutput **out);

/** Number of live tracks (tentative, confirmed and lost). */
guint ova_tracker_get_n_tracks (OvaTracker *tracker);
/** Next id this tracker will give. */
gint64 ova_tracker_get_next_id (OvaTracker *tracker);
/** Makes new tracks start at @next_id (keeps ids unique across tracker instances). */
void ova_tracker_set_next_id (OvaTracker *tracker, gint64 next_id);

/** Intersection over union of two boxes (0 when either is empty). */
gdouble ova_rect_iou (const OvaRect *a, const OvaRect *b);

/* -------------------------------------------------------------- assignment */

/**
 * ova_assignment_solve:
 * Optimal (minimum total cost) assignment of the rows of the row-major
 * @n_rows x @n_cols @cost matrix to columns, each column used at most once.
 * With @cost_limit finite, a pair is admissible only when its cost is <=
 * @cost_limit and the solver minimises sum(cost - cost_limit) over chosen
 * pairs, i.e. it may leave rows and columns unassigned. With @cost_limit
 * = INFINITY, min(n_rows, n_cols) pairs are chosen (a classic rectangular
 * assignment). Shortest augmenting paths (Jonker–Volgenant / Hungarian with
 * potentials), O(n^2 m).
 * @row_to_col: (out) n_rows entries, column or -1; @col_to_row: (out) (nullable).
 * Returns: the number of assigned pairs.
 */
guint ova_assignment_solve (const gdouble *cost, guint n_rows, guint n_cols, gdouble cost_limit,
    gint *row_to_col, gint *col_to_row);

/* ------------------------------------------------------------ MOT files */

/** One row of a MOTChallenge file (det, gt or tracker output). */
typedef struct {
  gint frame;          /* 1-based */
  gint64 id;           /* -1 in det files */
  OvaRect rect;
  gfloat confidence;   /* det: confidence; gt: "consider" flag (0/1) */
  gint class_id;       /* gt: class; det: -1 unless given */
  gfloat visibility;   /* gt only, else -1 */
  gfloat *embedding;   /* det files only: columns after the 10th (DeepSORT style), or NULL */
  guint embedding_dim;
} OvaMotRow;

typedef struct {
  GArray *rows;        /* OvaMotRow, sorted by frame (stable) */
  gint n_frames;       /* largest frame number */
} OvaMotFile;

typedef enum { OVA_MOT_DET, OVA_MOT_GT, OVA_MOT_TRACKS } OvaMotKind;

/** Largest frame number a MOT file may use (over a day of 60 fps video). */
#define OVA_MOT_MAX_FRAME 10000000

/** Parses a MOTChallenge text file; errors name the file and the line. */
OvaMotFile *ova_mot_file_load (const gchar *path, OvaMotKind kind, GError **error);
OvaMotFile *ova_mot_file_parse (const gchar *data, gsize len, const gchar *name, OvaMotKind kind, GError **error);
OvaMotFile *ova_mot_file_new (void);
void ova_mot_file_add (OvaMotFile *f, const OvaMotRow *row); /* copies the embedding */
void ova_mot_file_sort (OvaMotFile *f);
void ova_mot_file_free (OvaMotFile *f);
/** Writes @f as MOTChallenge tracker output: frame,id,left,top,width,height,conf,-1,-1,-1 */
gboolean ova_mot_file_save_tracks (const OvaMotFile *f, const gchar *path, GError **error);

/**
 * ova_tracker_run_mot:
 * Runs @tracker over every frame 1..det->n_frames of a detection file and
 * appends its CONFIRMED and PREDICTED tracks to @tracks, MOTChallenge style
 * (confidence = tracker confidence). Det rows with class_id -1 are class 0.
 * With @interval N > 0 the detector is taken to run on frames 1, N+2,
 * 2N+3, ... only (like nvinfer's interval): the other frames' rows are not
 * used and the tracker predicts there. Frames without rows are updates with
 * no detections.
 * Returns: the number of detections given to the tracker.
 */
guint64 ova_tracker_run_mot (OvaTracker *tracker, const OvaMotFile *det, guint interval, OvaMotFile *tracks);

/* ---------------------------------------------------------------- metrics */

typedef struct {
  /* CLEAR MOT (Bernardin & Stiefelhagen 2008), IoU >= 0.5 */
  gdouble mota, motp;
  guint64 gt_dets, hyp_dets, tp, fn, fp, id_switches;
  /* Identity (Ristani et al. 2016) */
  gdouble idf1, idp, idr;
  guint64 idtp, idfn, idfp;
  /* HOTA (Luiten et al. 2021), averaged over alpha = 0.05 .. 0.95 */
  gdouble hota, deta, assa, loca;
  gint n_frames;
  guint n_gt_ids, n_hyp_ids;
} OvaMotMetrics;

/**
 * ova_mot_evaluate:
 * Scores tracker output @hyp against @gt. Ground-truth rows with confidence
 * ("consider") 0 are ignored, and tracker boxes matched to them (IoU >= 0.5)
 * are removed first, as in the MOTChallenge evaluation.
 */
void ova_mot_evaluate (const OvaMotFile *gt, const OvaMotFile *hyp, OvaMotMetrics *out);

G_END_DECLS

#endif /* OVA_TRACK_H */
