/* ova — MOT metrics: CLEAR MOT (MOTA), identity (IDF1) and HOTA.
 * SPDX-License-Identifier: MIT
 *
 * Follows the published definitions as the reference evaluation code of the
 * HOTA paper (TrackEval) implements them, similarity = box IoU:
 *  - CLEAR: per frame, an optimal matching at IoU >= 0.5 that prefers keeping
 *    the previous frame's pairs; an id switch is a gt matched to a tracker id
 *    other than the one it was last matched to. MOTA = 1 - (FN+FP+IDSW)/GT.
 *  - Identity: one global optimal matching of gt ids to tracker ids
 *    maximising the frames they overlap at IoU >= 0.5 (IDTP);
 *    IDF1 = 2 IDTP / (GT dets + tracker dets).
 *  - HOTA: per frame, an optimal matching maximising global alignment x IoU;
 *    for each alpha in 0.05..0.95, matches with IoU >= alpha count as TP;
 *    DetA = TP/(TP+FN+FP), AssA = mean over TPs of the pair's association
 *    IoU; HOTA_alpha = sqrt(DetA AssA), HOTA = its mean over alpha.
 */
#include "ova-config.h"
#include <ova/track.h>
#include <float.h>
#include <math.h>
#include <string.h>

#define N_ALPHA 19
#define EPS DBL_EPSILON

typedef struct {
  guint start, n;      /* range of rows in the per-frame arrays */
} Span;

typedef struct {
  gint n_frames;
  Span *gt, *hy;       /* per frame (index frame-1) */
  guint *gt_id, *hy_id;/* dense ids, concatenated per frame */
  OvaRect *gt_box, *hy_box;
  guint n_gt_ids, n_hy_ids;
  guint64 n_gt, n_hy;
} Seq;

static guint
dense_id (GHashTable *map, gint64 id)
{
  gpointer v;
  gint64 *key;
  if (g_hash_table_lookup_extended (map, &id, NULL, &v))
    return GPOINTER_TO_UINT (v);
  key = g_new (gint64, 1);
  *key = id;
  g_hash_table_insert (map, key, GUINT_TO_POINTER (g_hash_table_size (map)));
  return g_hash_table_size (map) - 1;
}

/* Tracker boxes matched (IoU >= 0.5, optimal) to ignored gt boxes of the frame are dropped. */
static void
drop_ignored (const OvaMotRow *ign, guint n_ign, const OvaMotRow *const *hy, guint n_hy, gboolean *keep)
{
  gdouble *c;
  gint *r2c;
  for (guint j = 0; j < n_hy; j++) keep[j] = TRUE;
  if (!n_ign || !n_hy) return;
  c = g_new (gdouble, (gsize) n_ign * n_hy);
  r2c = g_new (gint, n_ign);
  for (guint i = 0; i < n_ign; i++)
    for (guint j = 0; j < n_hy; j++) {
      gdouble s = ova_rect_iou (&ign[i].rect, &hy[j]->rect);
      c[(gsize) i * n_hy + j] = s >= 0.5 - EPS ? -s : INFINITY;
    }
  ova_assignment_solve (c, n_ign, n_hy, 0.0, r2c, NULL);
  for (guint i = 0; i < n_ign; i++)
    if (r2c[i] >= 0) keep[r2c[i]] = FALSE;
  g_free (c);
  g_free (r2c);
}

static void
seq_build (Seq *s, const OvaMotFile *gt, const OvaMotFile *hyp)
{
  GHashTable *gmap = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  GHashTable *hmap = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  guint gi = 0, hi = 0, gn = gt->rows->len, hn = hyp->rows->len;
  GPtrArray *fh = g_ptr_array_new ();
  GArray *ign = g_array_new (FALSE, FALSE, sizeof (OvaMotRow));
  GArray *keep = g_array_new (FALSE, FALSE, sizeof (gboolean));
  memset (s, 0, sizeof *s);
  s->n_frames = MAX (gt->n_frames, hyp->n_frames);
  s->gt = g_new0 (Span, s->n_frames + 1);
  s->hy = g_new0 (Span, s->n_frames + 1);
  s->gt_id = g_new (guint, gn + 1);
  s->gt_box = g_new (OvaRect, gn + 1);
  s->hy_id = g_new (guint, hn + 1);
  s->hy_box = g_new (OvaRect, hn + 1);
  for (gint f = 1; f <= s->n_frames; f++) {
    Span *sg = &s->gt[f - 1], *sh = &s->hy[f - 1];
    sg->start = s->n_gt;
    g_array_set_size (ign, 0);
    for (; gi < gn && g_array_index (gt->rows, OvaMotRow, gi).frame <= f; gi++) {
      const OvaMotRow *r = &g_array_index (gt->rows, OvaMotRow, gi);
      if (r->frame != f) continue;
      if (r->confidence == 0) { g_array_append_val (ign, *r); continue; }
      s->gt_id[s->n_gt] = dense_id (gmap, r->id);
      s->gt_box[s->n_gt++] = r->rect;
    }
    sg->n = s->n_gt - sg->start;
    g_ptr_array_set_size (fh, 0);
    for (; hi < hn && g_array_index (hyp->rows, OvaMotRow, hi).frame <= f; hi++) {
      const OvaMotRow *r = &g_array_index (hyp->rows, OvaMotRow, hi);
      if (r->frame == f) g_ptr_array_add (fh, (gpointer) r);
    }
    g_array_set_size (keep, fh->len);
    drop_ignored ((const OvaMotRow *) ign->data, ign->len, (const OvaMotRow *const *) fh->pdata, fh->len,
        (gboolean *) keep->data);
    sh->start = s->n_hy;
    for (guint j = 0; j < fh->len; j++) {
      const OvaMotRow *r = fh->pdata[j];
      if (!g_array_index (keep, gboolean, j)) continue;
      s->hy_id[s->n_hy] = dense_id (hmap, r->id);
      s->hy_box[s->n_hy++] = r->rect;
    }
    sh->n = s->n_hy - sh->start;
  }
  s->n_gt_ids = g_hash_table_size (gmap);
  s->n_hy_ids = g_hash_table_size (hmap);
  g_hash_table_unref (gmap);
  g_hash_table_unref (hmap);
  g_ptr_array_unref (fh);
  g_array_unref (ign);
  g_array_unref (keep);
}

static void
seq_clear (Seq *s)
{
  g_free (s->gt); g_free (s->hy);
  g_free (s->gt_id); g_free (s->hy_id);
  g_free (s->gt_box); g_free (s->hy_box);
}

/* IoU matrix of frame f into sim (n_gt x n_hy). */
static void
frame_similarity (const Seq *s, gint f, gdouble *sim)
{
  const Span *g = &s->gt[f], *h = &s->hy[f];
  for (guint i = 0; i < g->n; i++)
    for (guint j = 0; j < h->n; j++)
      sim[(gsize) i * h->n + j] = ova_rect_iou (&s->gt_box[g->start + i], &s->hy_box[h->start + j]);
}

void
ova_mot_evaluate (const OvaMotFile *gt, const OvaMotFile *hyp, OvaMotMetrics *out)
{
  Seq s;
  guint max_g = 0, max_h = 0;
  gdouble *sim, *score, *motp_sum, loca_sum[N_ALPHA] = { 0 };
  gint *r2c;
  gint64 *prev_id, *prev_ts;
  guint ng, nh;
  gdouble *idcount, *pmc, *gas, *matches;
  guint64 *gt_count, *hy_count;
  guint64 tp_a[N_ALPHA] = { 0 }, fn_a[N_ALPHA] = { 0 }, fp_a[N_ALPHA] = { 0 };
  gdouble alpha[N_ALPHA];
  gdouble motp = 0;

  memset (out, 0, sizeof *out);
  seq_build (&s, gt, hyp);
  ng = s.n_gt_ids;
  nh = s.n_hy_ids;
  for (gint f = 0; f < s.n_frames; f++) {
    max_g = MAX (max_g, s.gt[f].n);
    max_h = MAX (max_h, s.hy[f].n);
  }
  sim = g_new (gdouble, (gsize) max_g * max_h + 1);
  score = g_new (gdouble, (gsize) max_g * max_h + 1);
  r2c = g_new (gint, max_g + 1);
  motp_sum = &motp;
  for (gint a = 0; a < N_ALPHA; a++)
    alpha[a] = 0.05 + a * 0.05; /* as numpy.arange(0.05, 0.99, 0.05) */

  out->n_frames = s.n_frames;
  out->gt_dets = s.n_gt;
  out->hyp_dets = s.n_hy;
  out->n_gt_ids = ng;
  out->n_hyp_ids = nh;

  /* ---- CLEAR MOT */
  prev_id = g_new (gint64, ng + 1);
  prev_ts = g_new (gint64, ng + 1);
  for (guint i = 0; i < ng; i++) prev_id[i] = prev_ts[i] = -1;
  for (gint f = 0; f < s.n_frames; f++) {
    const Span *g = &s.gt[f], *h = &s.hy[f];
    guint nm = 0;
    if (!g->n) { out->fp += h->n; continue; }
    if (!h->n) { out->fn += g->n; continue; }
    frame_similarity (&s, f, sim);
    for (guint i = 0; i < g->n; i++)
      for (guint j = 0; j < h->n; j++) {
        gdouble v = sim[(gsize) i * h->n + j];
        gdouble sc = (prev_ts[s.gt_id[g->start + i]] == (gint64) s.hy_id[h->start + j] ? 1000.0 : 0.0) + v;
        if (v < 0.5 - EPS) sc = 0;
        score[(gsize) i * h->n + j] = sc > EPS ? -sc : INFINITY;
      }
    ova_assignment_solve (score, g->n, h->n, 0.0, r2c, NULL);
    /* prev_ts of gts absent from this frame is reset too (reference behaviour) */
    for (guint k = 0; k < ng; k++) prev_ts[k] = -1;
    for (guint i = 0; i < g->n; i++) {
      guint gid, hid;
      if (r2c[i] < 0) continue;
      gid = s.gt_id[g->start + i];
      hid = s.hy_id[h->start + r2c[i]];
      if (prev_id[gid] >= 0 && prev_id[gid] != (gint64) hid)
        out->id_switches++;
      prev_id[gid] = hid;
      prev_ts[gid] = hid;
      *motp_sum += sim[(gsize) i * h->n + r2c[i]];
      nm++;
    }
    out->tp += nm;
    out->fn += g->n - nm;
    out->fp += h->n - nm;
  }
  out->mota = ((gdouble) out->tp - (gdouble) out->fp - (gdouble) out->id_switches) / MAX (1.0, (gdouble) (out->tp + out->fn));
  out->motp = motp / MAX (1.0, (gdouble) out->tp);
  g_free (prev_id);
  g_free (prev_ts);

  /* ---- Identity and HOTA share the per-id-pair accumulators */
  idcount = g_new0 (gdouble, (gsize) ng * nh + 1);
  pmc = g_new0 (gdouble, (gsize) ng * nh + 1);
  gt_count = g_new0 (guint64, ng + 1);
  hy_count = g_new0 (guint64, nh + 1);
  for (gint f = 0; f < s.n_frames; f++) {
    const Span *g = &s.gt[f], *h = &s.hy[f];
    for (guint i = 0; i < g->n; i++) gt_count[s.gt_id[g->start + i]]++;
    for (guint j = 0; j < h->n; j++) hy_count[s.hy_id[h->start + j]]++;
    if (!g->n || !h->n) continue;
    frame_similarity (&s, f, sim);
    for (guint i = 0; i < g->n; i++) {
      gdouble row = 0;
      for (guint j = 0; j < h->n; j++) row += sim[(gsize) i * h->n + j];
      score[i] = row; /* row sums */
    }
    for (guint j = 0; j < h->n; j++) {
      gdouble col = 0;
      for (guint i = 0; i < g->n; i++) col += sim[(gsize) i * h->n + j];
      for (guint i = 0; i < g->n; i++) {
        gdouble v = sim[(gsize) i * h->n + j];
        gdouble denom = score[i] + col - v;
        gsize k = (gsize) s.gt_id[g->start + i] * nh + s.hy_id[h->start + j];
        if (v >= 0.5 - EPS) idcount[k] += 1;
        if (denom > EPS) pmc[k] += v / denom;
      }
    }
  }

  /* Identity: maximise IDTP over a one-to-one id matching. */
  if (ng && nh) {
    gdouble *c = g_new (gdouble, (gsize) ng * nh);
    gint *m = g_new (gint, ng);
    for (gsize k = 0; k < (gsize) ng * nh; k++) c[k] = idcount[k] > 0 ? -idcount[k] : INFINITY;
    ova_assignment_solve (c, ng, nh, 0.0, m, NULL);
    for (guint i = 0; i < ng; i++)
      if (m[i] >= 0) out->idtp += (guint64) idcount[(gsize) i * nh + m[i]];
    g_free (c);
    g_free (m);
  }
  out->idfn = s.n_gt - out->idtp;
  out->idfp = s.n_hy - out->idtp;
  out->idf1 = (gdouble) out->idtp / MAX (1.0, out->idtp + 0.5 * out->idfp + 0.5 * out->idfn);
  out->idp = (gdouble) out->idtp / MAX (1.0, (gdouble) (out->idtp + out->idfp));
  out->idr = (gdouble) out->idtp / MAX (1.0, (gdouble) (out->idtp + out->idfn));

  /* HOTA */
  gas = pmc; /* global alignment score, in place */
  for (guint i = 0; i < ng; i++)
    for (guint j = 0; j < nh; j++) {
      gsize k = (gsize) i * nh + j;
      gas[k] = pmc[k] / ((gdouble) gt_count[i] + (gdouble) hy_count[j] - pmc[k]);
    }
  matches = g_new0 (gdouble, (gsize) N_ALPHA * ng * nh + 1);
  for (gint f = 0; f < s.n_frames; f++) {
    const Span *g = &s.gt[f], *h = &s.hy[f];
    if (!g->n) { for (gint a = 0; a < N_ALPHA; a++) fp_a[a] += h->n; continue; }
    if (!h->n) { for (gint a = 0; a < N_ALPHA; a++) fn_a[a] += g->n; continue; }
    frame_similarity (&s, f, sim);
    for (guint i = 0; i < g->n; i++)
      for (guint j = 0; j < h->n; j++) {
        gsize k = (gsize) i * h->n + j;
        gdouble sc = gas[(gsize) s.gt_id[g->start + i] * nh + s.hy_id[h->start + j]] * sim[k];
        score[k] = sc > 0 ? -sc : INFINITY;
      }
    ova_assignment_solve (score, g->n, h->n, 0.0, r2c, NULL);
    for (gint a = 0; a < N_ALPHA; a++) {
      guint nm = 0;
      for (guint i = 0; i < g->n; i++) {
        gdouble v;
        if (r2c[i] < 0) continue;
        v = sim[(gsize) i * h->n + r2c[i]];
        if (v < alpha[a] - EPS) continue;
        nm++;
        loca_sum[a] += v;
        matches[(gsize) a * ng * nh + (gsize) s.gt_id[g->start + i] * nh + s.hy_id[h->start + r2c[i]]] += 1;
      }
      tp_a[a] += nm;
      fn_a[a] += g->n - nm;
      fp_a[a] += h->n - nm;
    }
  }
  for (gint a = 0; a < N_ALPHA; a++) {
    gdouble assa = 0, deta, loca;
    const gdouble *mc = matches + (gsize) a * ng * nh;
    for (guint i = 0; i < ng; i++)
      for (guint j = 0; j < nh; j++) {
        gdouble m = mc[(gsize) i * nh + j];
        if (m > 0)
          assa += m * (m / MAX (1.0, (gdouble) gt_count[i] + (gdouble) hy_count[j] - m));
      }
    assa /= MAX (1.0, (gdouble) tp_a[a]);
    deta = (gdouble) tp_a[a] / MAX (1.0, (gdouble) (tp_a[a] + fn_a[a] + fp_a[a]));
    loca = MAX (1e-10, loca_sum[a]) / MAX (1e-10, (gdouble) tp_a[a]);
    out->hota += sqrt (deta * assa) / N_ALPHA;
    out->deta += deta / N_ALPHA;
    out->assa += assa / N_ALPHA;
    out->loca += loca / N_ALPHA;
  }

  g_free (matches);
  g_free (idcount);
  g_free (pmc);
  g_free (gt_count);
  g_free (hy_count);
  g_free (sim);
  g_free (score);
  g_free (r2c);
  seq_clear (&s);
}
