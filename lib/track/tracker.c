/* ova — multi-object trackers (IOU, SORT, ByteTrack, appearance). SPDX-License-Identifier: MIT
 *
 * All four share one track store and one frame loop; they differ in the
 * motion model (none for IOU, a constant-velocity Kalman filter otherwise)
 * and in the association stages:
 *   IOU, SORT   one stage: every detection above low-threshold vs every track, IoU cost.
 *   ByteTrack   1) high-confidence boxes vs confirmed and lost tracks (IoU),
 *               2) low-confidence boxes vs the still unmatched tracks seen on the
 *                  previous detector frame (IoU, stricter),
 *               3) leftover high boxes vs tentative tracks.
 *   reid        ByteTrack whose stage 1 cost is min(IoU distance, appearance
 *               distance); appearance counts only inside the Kalman gate
 *               (Mahalanobis) and below max-cosine-distance, the distance to a
 *               track being the smallest over its smoothed feature and its
 *               gallery of embeddings (searched only when the smoothed
 *               feature leaves the answer in doubt).
 *
 * Kalman filter: state (cx, cy, aspect, h) and their velocities, noise scaled
 * by the box height as in DeepSORT/ByteTrack. F, H, Q and R never couple
 * different coordinates, so the 8x8 covariance stays four independent 2x2
 * (position, velocity) blocks; we keep only those, which makes predict,
 * update and gating a few multiplications each.
 */
#include "ova-config.h"
#include <ova/track.h>
#include "track-private.h"
#include <math.h>
#include <string.h>

typedef enum { T_TENTATIVE, T_CONFIRMED, T_LOST } TState;

typedef struct {
  gint64 id;
  gint class_id;
  gfloat score;
  TState state;
  gdouble x[4], vel[4];      /* cx, cy, aspect, h and velocities */
  gdouble p00[4], p01[4], p11[4];
  OvaRect rect;              /* last detection (IOU tracker box) */
  guint age, hits;
  guint since_update;        /* detector frames since the last match */
  gboolean matched_last;     /* matched on the last detector frame */
  gfloat *gallery;           /* gallery_size * dim, normalised */
  gfloat *smooth;            /* dim: normalised running mean of the gallery's inputs */
  guint gallery_n, gallery_pos, dim;
} Track;

struct _OvaTracker {
  OvaTrackerConfig cfg;
  GPtrArray *tracks;         /* Track* */
  gint64 next_id;
  guint64 frame_count;       /* detector frames */
  GArray *out;               /* OvaTrackerOutput */
  /* scratch, reused between frames */
  GArray *cost, *r2c, *c2r, *det_used, *emb;
  GArray *rows, *cols;
};

static const gdouble chi2_4dof_95 = 9.4877;

/* ---------------------------------------------------------------- helpers */

gdouble
ova_rect_iou (const OvaRect *a, const OvaRect *b)
{
  gdouble l = MAX (a->left, b->left), t = MAX (a->top, b->top);
  gdouble r = MIN ((gdouble) a->left + a->width, (gdouble) b->left + b->width);
  gdouble btm = MIN ((gdouble) a->top + a->height, (gdouble) b->top + b->height);
  gdouble inter, uni;
  if (a->width <= 0 || a->height <= 0 || b->width <= 0 || b->height <= 0 || r <= l || btm <= t)
    return 0.0;
  inter = (r - l) * (btm - t);
  uni = (gdouble) a->width * a->height + (gdouble) b->width * b->height - inter;
  return uni > 0 ? inter / uni : 0.0;
}

static gboolean
uses_kalman (const OvaTracker *t)
{
  return t->cfg.algorithm != OVA_TRACKER_IOU;
}

static OvaRect
track_rect (const OvaTracker *t, const Track *tr)
{
  OvaRect r;
  if (!uses_kalman (t))
    return tr->rect;
  r.height = (gfloat) tr->x[3];
  r.width = (gfloat) (tr->x[2] * tr->x[3]);
  r.left = (gfloat) (tr->x[0] - r.width / 2);
  r.top = (gfloat) (tr->x[1] - r.height / 2);
  return r;
}

static void
rect_to_xyah (const OvaRect *r, gdouble z[4])
{
  gdouble h = MAX (r->height, 1e-3f);
  z[0] = r->left + r->width / 2.0;
  z[1] = r->top + r->height / 2.0;
  z[2] = r->width / h;
  z[3] = h;
}

/* ----------------------------------------------------------------- kalman */

static void
kf_init (const OvaTracker *t, Track *tr, const OvaRect *r)
{
  gdouble wp = t->cfg.std_weight_position, wv = t->cfg.std_weight_velocity, h;
  gdouble sp[4], sv[4];
  rect_to_xyah (r, tr->x);
  h = tr->x[3];
  sp[0] = sp[1] = sp[3] = 2 * wp * h; sp[2] = 1e-2;
  sv[0] = sv[1] = sv[3] = 10 * wv * h; sv[2] = 1e-5;
  for (int k = 0; k < 4; k++) {
    tr->vel[k] = 0;
    tr->p00[k] = sp[k] * sp[k];
    tr->p01[k] = 0;
    tr->p11[k] = sv[k] * sv[k];
  }
}

static void
kf_predict (const OvaTracker *t, Track *tr)
{
  gdouble wp = t->cfg.std_weight_position, wv = t->cfg.std_weight_velocity, h = tr->x[3];
  gdouble qp[4], qv[4];
  qp[0] = qp[1] = qp[3] = wp * h; qp[2] = 1e-2;
  qv[0] = qv[1] = qv[3] = wv * h; qv[2] = 1e-5;
  if (tr->state != T_CONFIRMED) /* a box not seen lately should not keep growing */
    tr->vel[3] = 0;
  for (int k = 0; k < 4; k++) {
    gdouble a = tr->p00[k], b = tr->p01[k], c = tr->p11[k];
    tr->x[k] += tr->vel[k];
    tr->p00[k] = a + 2 * b + c + qp[k] * qp[k];
    tr->p01[k] = b + c;
    tr->p11[k] = c + qv[k] * qv[k];
  }
  if (tr->x[3] < 1.0) tr->x[3] = 1.0;
  if (tr->x[2] < 1e-3) tr->x[2] = 1e-3;
}

static void
kf_innovation_var (const OvaTracker *t, const Track *tr, gdouble s[4])
{
  gdouble wp = t->cfg.std_weight_position, h = tr->x[3];
  gdouble r[4];
  r[0] = r[1] = r[3] = wp * h; r[2] = 1e-1;
  for (int k = 0; k < 4; k++)
    s[k] = tr->p00[k] + r[k] * r[k];
}

static void
kf_update (const OvaTracker *t, Track *tr, const OvaRect *rect)
{
  gdouble z[4], s[4];
  rect_to_xyah (rect, z);
  kf_innovation_var (t, tr, s);
  for (int k = 0; k < 4; k++) {
    gdouble a = tr->p00[k], b = tr->p01[k], c = tr->p11[k];
    gdouble k0 = a / s[k], k1 = b / s[k], y = z[k] - tr->x[k];
    tr->x[k] += k0 * y;
    tr->vel[k] += k1 * y;
    tr->p00[k] = a - a * a / s[k];
    tr->p01[k] = b - a * b / s[k];
    tr->p11[k] = c - b * b / s[k];
  }
}

static gdouble
kf_mahalanobis (const OvaTracker *t, const Track *tr, const OvaRect *rect)
{
  gdouble z[4], s[4], d = 0;
  rect_to_xyah (rect, z);
  kf_innovation_var (t, tr, s);
  for (int k = 0; k < 4; k++) {
    gdouble y = z[k] - tr->x[k];
    d += y * y / s[k];
  }
  return d;
}

/* ------------------------------------------------------------- appearance */

static gboolean
normalise (const gfloat *in, guint dim, gfloat *out)
{
  gfloat n = _ova_track_dot (in, in, dim), k;
  if (!(n > 0) || !isfinite (n))
    return FALSE;
  k = 1.0f / sqrtf (n);
  for (guint i = 0; i < dim; i++) out[i] = in[i] * k;
  return TRUE;
}

static void
gallery_add (const OvaTracker *t, Track *tr, const gfloat *feat, guint dim)
{
  guint size = MAX (t->cfg.gallery_size, 1);
  if (tr->dim != dim) {
    g_free (tr->gallery);
    g_free (tr->smooth);
    tr->gallery = g_new (gfloat, (gsize) size * dim);
    tr->smooth = g_new (gfloat, dim);
    tr->dim = dim;
    tr->gallery_n = tr->gallery_pos = 0;
  }
  if (!tr->gallery_n) {
    memcpy (tr->smooth, feat, dim * sizeof (gfloat));
  } else { /* exponential moving average (BoT-SORT's 0.9), renormalised */
    for (guint i = 0; i < dim; i++) tr->smooth[i] = 0.9f * tr->smooth[i] + 0.1f * feat[i];
    normalise (tr->smooth, dim, tr->smooth);
  }
  memcpy (tr->gallery + (gsize) tr->gallery_pos * dim, feat, dim * sizeof (gfloat));
  tr->gallery_pos = (tr->gallery_pos + 1) % size;
  if (tr->gallery_n < size) tr->gallery_n++;
}

gfloat
_ova_track_dot_scalar (const gfloat *a, const gfloat *b, guint n)
{
  gfloat s = 0;
  for (guint i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

#if defined(__GNUC__) || defined(__clang__)
typedef gfloat v8sf __attribute__ ((vector_size (32)));

gfloat
_ova_track_dot (const gfloat *a, const gfloat *b, guint n)
{
  v8sf acc = { 0 };
  gfloat s;
  guint i = 0;
  for (; i + 8 <= n; i += 8) {
    v8sf x, y;
    memcpy (&x, a + i, sizeof x); /* unaligned loads */
    memcpy (&y, b + i, sizeof y);
    acc += x * y;
  }
  s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}
#else
gfloat
_ova_track_dot (const gfloat *a, const gfloat *b, guint n)
{
  return _ova_track_dot_scalar (a, b, n);
}
#endif

/* Smallest cosine distance between @feat (normalised) and the track's
 * appearance: its smoothed feature and its gallery; 2 when it has none. The
 * gallery (gallery_size dot products) is searched only in the doubtful band
 * of the smoothed feature's distance, [@sure, @far]: below, the box is
 * clearly this track's; above, clearly someone else's. */
static gdouble
gallery_distance (const Track *tr, const gfloat *feat, guint dim, gdouble sure, gdouble far)
{
  gdouble best;
  if (!tr->gallery_n || tr->dim != dim)
    return 2.0;
  best = 1.0 - _ova_track_dot (tr->smooth, feat, dim);
  if (best < sure || best > far)
    return best;
  for (guint g = 0; g < tr->gallery_n; g++) {
    gfloat dot = _ova_track_dot (tr->gallery + (gsize) g * dim, feat, dim);
    if (1.0 - dot < best) best = 1.0 - dot;
  }
  return best;
}

/* ----------------------------------------------------------------- config */

void
ova_tracker_config_init (OvaTrackerConfig *cfg, OvaTrackerAlgorithm algorithm)
{
  memset (cfg, 0, sizeof *cfg);
  cfg->algorithm = algorithm;
  cfg->per_class = FALSE;
  cfg->max_lost = 30;
  cfg->report_lost = 2;
  cfg->min_hits = 2;
  cfg->min_iou = 0.2f;
  cfg->low_min_iou = 0.5f;
  cfg->high_threshold = 0.5f;
  cfg->low_threshold = 0.1f;
  cfg->new_track_threshold = 0.6f;
  cfg->max_cosine_distance = 0.25f;
  cfg->gallery_size = 30;
  cfg->gate_chi2 = (gfloat) chi2_4dof_95;
  cfg->proximity_iou = 0.1f;
  cfg->std_weight_position = 1.0f / 20;
  cfg->std_weight_velocity = 1.0f / 160;
  switch (algorithm) {
    case OVA_TRACKER_IOU:
      cfg->min_iou = 0.3f;
      cfg->max_lost = 5;
      cfg->report_lost = 0; /* no motion model to predict with */
      cfg->low_threshold = 0.3f;
      cfg->new_track_threshold = 0.3f;
      break;
    case OVA_TRACKER_SORT:
      cfg->min_iou = 0.3f;
      cfg->max_lost = 10;
      cfg->low_threshold = 0.3f;
      cfg->new_track_threshold = 0.3f;
      break;
    case OVA_TRACKER_BYTETRACK:
      break;
    case OVA_TRACKER_REID:
      cfg->max_lost = 60;
      break;
  }
}

static const gchar *const algorithm_names[] = { "iou", "sort", "bytetrack", "reid" };

const gchar *
ova_tracker_algorithm_to_string (OvaTrackerAlgorithm algorithm)
{
  return (guint) algorithm < G_N_ELEMENTS (algorithm_names) ? algorithm_names[algorithm] : "unknown";
}

gboolean
ova_tracker_algorithm_from_string (const gchar *name, OvaTrackerAlgorithm *out)
{
  static const struct { const gchar *name; OvaTrackerAlgorithm alg; } names[] = {
    { "iou", OVA_TRACKER_IOU }, { "sort", OVA_TRACKER_SORT },
    { "bytetrack", OVA_TRACKER_BYTETRACK }, { "byte", OVA_TRACKER_BYTETRACK },
    { "reid", OVA_TRACKER_REID }, { "deepsort", OVA_TRACKER_REID }, { "botsort", OVA_TRACKER_REID },
  };
  if (!name) return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_ascii_strcasecmp (name, names[i].name) == 0) {
      *out = names[i].alg;
      return TRUE;
    }
  return FALSE;
}

/* ---------------------------------------------------------------- tracker */

static void
track_free (gpointer p)
{
  Track *tr = p;
  g_free (tr->gallery);
  g_free (tr->smooth);
  g_free (tr);
}

OvaTracker *
ova_tracker_new (const OvaTrackerConfig *cfg)
{
  OvaTracker *t = g_new0 (OvaTracker, 1);
  t->cfg = *cfg;
  if (t->cfg.min_hits < 1) t->cfg.min_hits = 1;
  t->tracks = g_ptr_array_new_with_free_func (track_free);
  t->next_id = 1;
  t->out = g_array_new (FALSE, FALSE, sizeof (OvaTrackerOutput));
  t->cost = g_array_new (FALSE, FALSE, sizeof (gdouble));
  t->r2c = g_array_new (FALSE, FALSE, sizeof (gint));
  t->c2r = g_array_new (FALSE, FALSE, sizeof (gint));
  t->det_used = g_array_new (FALSE, FALSE, sizeof (gint));
  t->emb = g_array_new (FALSE, FALSE, sizeof (gfloat));
  t->rows = g_array_new (FALSE, FALSE, sizeof (guint));
  t->cols = g_array_new (FALSE, FALSE, sizeof (guint));
  return t;
}

void
ova_tracker_free (OvaTracker *t)
{
  if (!t) return;
  g_ptr_array_unref (t->tracks);
  g_array_unref (t->out);
  g_array_unref (t->cost);
  g_array_unref (t->r2c);
  g_array_unref (t->c2r);
  g_array_unref (t->det_used);
  g_array_unref (t->emb);
  g_array_unref (t->rows);
  g_array_unref (t->cols);
  g_free (t);
}

void
ova_tracker_reset (OvaTracker *t)
{
  g_ptr_array_set_size (t->tracks, 0);
  g_array_set_size (t->out, 0);
  t->frame_count = 0;
}

const OvaTrackerConfig *ova_tracker_get_config (OvaTracker *t) { return &t->cfg; }
guint ova_tracker_get_n_tracks (OvaTracker *t) { return t->tracks->len; }
gint64 ova_tracker_get_next_id (OvaTracker *t) { return t->next_id; }
void ova_tracker_set_next_id (OvaTracker *t, gint64 next_id) { t->next_id = MAX (next_id, 1); }

static void
emit (OvaTracker *t, const Track *tr, OvaTrackState state, gint det)
{
  OvaTrackerOutput o;
  o.id = tr->id;
  o.rect = track_rect (t, tr);
  o.class_id = tr->class_id;
  o.confidence = tr->score;
  o.state = state;
  o.detection_index = det;
  o.age = tr->age;
  o.hits = tr->hits;
  g_array_append_val (t->out, o);
}

/* Association context of one frame. */
typedef struct {
  const OvaTrackerDetection *dets;
  guint n_dets;
  gint *det_track;       /* per detection: matched track index, -1 */
  gint *track_det;       /* per track: matched detection index, -1 */
  const gfloat *emb;     /* normalised embeddings, one row of emb_dim per detection */
  gboolean *has_emb;
  guint emb_dim;
} Frame;

typedef enum { COST_IOU, COST_FUSED } CostKind;

/* Solves one association stage between the track indices in t->rows and the
 * detection indices in t->cols, recording matches in @f. */
static void
associate (OvaTracker *t, Frame *f, CostKind kind, gdouble min_iou)
{
  guint nr = t->rows->len, nc = t->cols->len;
  const guint *rows = (const guint *) t->rows->data, *cols = (const guint *) t->cols->data;
  gdouble *c, limit = 1.0 - min_iou;
  gint *r2c;
  if (!nr || !nc) return;
  g_array_set_size (t->cost, (gsize) nr * nc);
  g_array_set_size (t->r2c, nr);
  c = (gdouble *) t->cost->data;
  r2c = (gint *) t->r2c->data;
  for (guint i = 0; i < nr; i++) {
    Track *tr = t->tracks->pdata[rows[i]];
    OvaRect tb = track_rect (t, tr);
    for (guint j = 0; j < nc; j++) {
      const OvaTrackerDetection *d = &f->dets[cols[j]];
      gdouble iou, cost;
      if (t->cfg.per_class && d->class_id != tr->class_id) {
        c[(gsize) i * nc + j] = INFINITY;
        continue;
      }
      iou = ova_rect_iou (&tb, &d->rect);
      cost = 1.0 - iou;
      if (kind == COST_FUSED && f->has_emb[cols[j]] && tr->gallery_n) {
        /* Appearance only where motion allows it: inside the Kalman gate, and
         * for a track seen on the last frame also overlapping it a little. */
        gboolean gated = kf_mahalanobis (t, tr, &d->rect) <= t->cfg.gate_chi2 &&
            (!tr->matched_last || iou >= t->cfg.proximity_iou);
        if (gated) {
          gdouble app = gallery_distance (tr, f->emb + (gsize) cols[j] * f->emb_dim, f->emb_dim,
              0.5 * t->cfg.max_cosine_distance, 2 * t->cfg.max_cosine_distance);
          if (app <= t->cfg.max_cosine_distance && app < cost)
            cost = app;
        }
      }
      c[(gsize) i * nc + j] = cost;
    }
  }
  ova_assignment_solve (c, nr, nc, limit, r2c, NULL);
  for (guint i = 0; i < nr; i++) {
    if (r2c[i] < 0) continue;
    f->track_det[rows[i]] = (gint) cols[r2c[i]];
    f->det_track[cols[r2c[i]]] = (gint) rows[i];
  }
}

static Track *
track_new (OvaTracker *t, const OvaTrackerDetection *d, const gfloat *emb, guint dim)
{
  Track *tr = g_new0 (Track, 1);
  tr->id = t->next_id++;
  tr->class_id = d->class_id;
  tr->score = d->confidence < 0 ? 1.0f : d->confidence;
  tr->rect = d->rect;
  tr->hits = 1;
  tr->age = 1;
  tr->matched_last = TRUE;
  /* The first frame of a source has no earlier evidence to wait for. */
  tr->state = (t->cfg.min_hits <= 1 || t->frame_count == 1) ? T_CONFIRMED : T_TENTATIVE;
  if (uses_kalman (t))
    kf_init (t, tr, &d->rect);
  if (emb)
    gallery_add (t, tr, emb, dim);
  g_ptr_array_add (t->tracks, tr);
  return tr;
}

static void
prepare_embeddings (OvaTracker *t, Frame *f, gboolean *has_emb)
{
  guint dim = 0;
  gfloat *e;
  for (guint j = 0; j < f->n_dets; j++)
    if (f->dets[j].embedding && f->dets[j].embedding_dim) {
      dim = f->dets[j].embedding_dim;
      break;
    }
  f->emb_dim = dim;
  f->has_emb = has_emb;
  if (f->n_dets)
    memset (has_emb, 0, f->n_dets * sizeof (gboolean));
  if (!dim) { f->emb = NULL; return; }
  g_array_set_size (t->emb, (gsize) f->n_dets * dim);
  e = (gfloat *) t->emb->data;
  for (guint j = 0; j < f->n_dets; j++) {
    const OvaTrackerDetection *d = &f->dets[j];
    if (d->embedding && d->embedding_dim == dim)
      has_emb[j] = normalise (d->embedding, dim, e + (gsize) j * dim);
  }
  f->emb = e;
}

/* The confidence a box is judged by: 1 when unknown (< 0, not from a
 * detector); -1, below every threshold, for boxes that cannot be tracked
 * (non-finite or empty), so corrupt input is ignored rather than poisoning
 * a Kalman state. */
static inline gfloat
det_conf (const OvaTrackerDetection *d)
{
  const OvaRect *r = &d->rect;
  if (!(isfinite (r->left) && isfinite (r->top) && r->width > 0 && r->height > 0 &&
        isfinite (r->width) && isfinite (r->height)) || isnan (d->confidence))
    return -1.0f;
  return d->confidence < 0 ? 1.0f : d->confidence;
}

guint
ova_tracker_update (OvaTracker *t, const OvaTrackerDetection *dets, guint n_dets,
    const OvaTrackerOutput **out)
{
  const OvaTrackerConfig *cfg = &t->cfg;
  gboolean byte = cfg->algorithm == OVA_TRACKER_BYTETRACK || cfg->algorithm == OVA_TRACKER_REID;
  guint n_tracks = t->tracks->len;
  Frame f = { dets, n_dets, NULL, NULL, NULL, NULL, 0 };
  gint *track_det, *det_track;
  gboolean *has_emb;
  guint i, j;

  t->frame_count++;
  g_array_set_size (t->out, 0);
  g_array_set_size (t->det_used, n_dets * 2 + n_tracks + n_dets);
  det_track = (gint *) t->det_used->data;
  track_det = det_track + n_dets;
  has_emb = (gboolean *) (track_det + n_tracks);
  f.det_track = det_track;
  f.track_det = track_det;
  for (j = 0; j < n_dets; j++) det_track[j] = -1;
  for (i = 0; i < n_tracks; i++) track_det[i] = -1;
  prepare_embeddings (t, &f, has_emb);

  for (i = 0; i < n_tracks; i++) {
    Track *tr = t->tracks->pdata[i];
    if (uses_kalman (t))
      kf_predict (t, tr);
  }

#define DET_CONF(d) det_conf (d)
  if (!byte) {
    g_array_set_size (t->rows, 0);
    g_array_set_size (t->cols, 0);
    for (i = 0; i < n_tracks; i++) g_array_append_val (t->rows, i);
    for (j = 0; j < n_dets; j++)
      if (DET_CONF (&dets[j]) >= cfg->low_threshold) g_array_append_val (t->cols, j);
    associate (t, &f, COST_IOU, cfg->min_iou);
  } else {
    /* 1: high boxes vs confirmed and lost tracks */
    g_array_set_size (t->rows, 0);
    g_array_set_size (t->cols, 0);
    for (i = 0; i < n_tracks; i++)
      if (((Track *) t->tracks->pdata[i])->state != T_TENTATIVE) g_array_append_val (t->rows, i);
    for (j = 0; j < n_dets; j++)
      if (DET_CONF (&dets[j]) >= cfg->high_threshold) g_array_append_val (t->cols, j);
    associate (t, &f, cfg->algorithm == OVA_TRACKER_REID ? COST_FUSED : COST_IOU, cfg->min_iou);
    /* 2: low boxes vs tracks of the last frame still unmatched */
    g_array_set_size (t->rows, 0);
    g_array_set_size (t->cols, 0);
    for (i = 0; i < n_tracks; i++) {
      Track *tr = t->tracks->pdata[i];
      if (tr->state == T_CONFIRMED && track_det[i] < 0) g_array_append_val (t->rows, i);
    }
    for (j = 0; j < n_dets; j++) {
      gfloat c = DET_CONF (&dets[j]);
      if (c < cfg->high_threshold && c >= cfg->low_threshold) g_array_append_val (t->cols, j);
    }
    associate (t, &f, COST_IOU, cfg->low_min_iou);
    /* 3: leftover high boxes vs tentative tracks */
    g_array_set_size (t->rows, 0);
    g_array_set_size (t->cols, 0);
    for (i = 0; i < n_tracks; i++)
      if (((Track *) t->tracks->pdata[i])->state == T_TENTATIVE) g_array_append_val (t->rows, i);
    for (j = 0; j < n_dets; j++)
      if (det_track[j] < 0 && DET_CONF (&dets[j]) >= cfg->high_threshold) g_array_append_val (t->cols, j);
    associate (t, &f, COST_IOU, cfg->min_iou);
  }

  /* Update matched tracks, age the others. */
  for (i = 0; i < n_tracks; i++) {
    Track *tr = t->tracks->pdata[i];
    tr->age++;
    if (track_det[i] >= 0) {
      const OvaTrackerDetection *d = &dets[track_det[i]];
      gfloat conf = DET_CONF (d);
      if (uses_kalman (t))
        kf_update (t, tr, &d->rect);
      tr->rect = d->rect;
      tr->class_id = d->class_id;
      tr->score = conf;
      tr->hits++;
      tr->since_update = 0;
      tr->matched_last = TRUE;
      if (tr->state == T_LOST || (tr->state == T_TENTATIVE && tr->hits >= cfg->min_hits))
        tr->state = T_CONFIRMED;
      /* Only confident boxes feed the gallery: low ones are often occluded. */
      if (f.emb && has_emb[track_det[i]] && conf >= cfg->high_threshold)
        gallery_add (t, tr, f.emb + (gsize) track_det[i] * f.emb_dim, f.emb_dim);
    } else {
      tr->since_update++;
      tr->matched_last = FALSE;
      if (tr->state == T_CONFIRMED)
        tr->state = T_LOST;
    }
  }

  /* Report matched tracks (before removal, while indices are stable). */
  for (i = 0; i < n_tracks; i++) {
    Track *tr = t->tracks->pdata[i];
    if (track_det[i] >= 0)
      emit (t, tr, tr->state == T_CONFIRMED ? OVA_TRACK_CONFIRMED : OVA_TRACK_TENTATIVE, track_det[i]);
  }

  /* Confirmed tracks missing for a short while: report where they should be. */
  for (i = 0; i < n_tracks; i++) {
    Track *tr = t->tracks->pdata[i];
    if (tr->state == T_LOST && tr->since_update <= cfg->report_lost && tr->hits >= cfg->min_hits)
      emit (t, tr, OVA_TRACK_PREDICTED, -1);
  }

  /* Drop unconfirmed tracks that missed, and lost tracks past max-lost. */
  for (i = n_tracks; i-- > 0;) {
    Track *tr = t->tracks->pdata[i];
    if ((tr->state == T_TENTATIVE && tr->since_update > 0) ||
        (tr->state == T_LOST && tr->since_update > cfg->max_lost))
      g_ptr_array_remove_index_fast (t->tracks, i);
  }

  /* New tracks from confident unmatched boxes. */
  for (j = 0; j < n_dets; j++) {
    const OvaTrackerDetection *d = &dets[j];
    Track *tr;
    if (det_track[j] >= 0 || DET_CONF (d) < cfg->new_track_threshold)
      continue;
    tr = track_new (t, d, f.emb && has_emb[j] ? f.emb + (gsize) j * f.emb_dim : NULL, f.emb_dim);
    emit (t, tr, tr->state == T_CONFIRMED ? OVA_TRACK_CONFIRMED : OVA_TRACK_TENTATIVE, (gint) j);
  }
#undef DET_CONF

  *out = (const OvaTrackerOutput *) t->out->data;
  return t->out->len;
}

guint
ova_tracker_predict (OvaTracker *t, const OvaTrackerOutput **out)
{
  g_array_set_size (t->out, 0);
  for (guint i = 0; i < t->tracks->len; i++) {
    Track *tr = t->tracks->pdata[i];
    if (uses_kalman (t))
      kf_predict (t, tr);
    tr->age++;
    if (tr->state == T_CONFIRMED && tr->matched_last)
      emit (t, tr, OVA_TRACK_PREDICTED, -1);
  }
  *out = (const OvaTrackerOutput *) t->out->data;
  return t->out->len;
}
