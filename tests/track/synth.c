/* ova — synthetic tracking sequences with ground truth. SPDX-License-Identifier: MIT */
#include "synth.h"
#include <math.h>
#include <string.h>

typedef struct {
  gdouble x, y, w, h, vx, vy;  /* top-left, size, velocity (px/frame) */
  gint start;                  /* first frame it exists */
  gint away;                   /* frames left outside before re-entering, -1 gone */
  gboolean active;
  gfloat *emb;
} Obj;

void
synth_params_init (SynthParams *p, guint32 seed)
{
  memset (p, 0, sizeof *p);
  p->n_frames = 300;
  p->n_objects = 12;
  p->width = 1280;
  p->height = 720;
  p->seed = seed;
  p->miss_rate = 0.10;
  p->false_rate = 0.05;
  p->jitter = 0.03;
  p->reenter_prob = 0.5;
  p->emb_dim = 64;
  p->emb_noise = 0.4;
  p->n_lanes = 3;
}

void
synth_suite_params (guint index, SynthParams *p, const gchar **name)
{
  static const gchar *names[] = { "lanes-12", "crowd-20", "reenter-10", "sparse-6" };
  synth_params_init (p, 1000 + index);
  switch (index) {
    case 0: break;
    case 1: p->n_objects = 20; p->n_lanes = 4; break;
    case 2: p->n_objects = 10; p->reenter_prob = 1.0; break;
    default: p->n_objects = 6; p->n_lanes = 2; p->n_frames = 400; break;
  }
  if (name) *name = names[index % G_N_ELEMENTS (names)];
}

static gdouble
gauss (GRand *r)
{
  gdouble u1 = g_rand_double_range (r, 1e-12, 1.0), u2 = g_rand_double (r);
  return sqrt (-2 * log (u1)) * cos (2 * G_PI * u2);
}

static void
unit_vector (GRand *r, gfloat *v, guint dim)
{
  gdouble n = 0;
  for (guint i = 0; i < dim; i++) { v[i] = (gfloat) gauss (r); n += v[i] * v[i]; }
  n = 1 / sqrt (n);
  for (guint i = 0; i < dim; i++) v[i] *= (gfloat) n;
}

static gdouble
overlap (const Obj *a, const Obj *b)
{
  gdouble l = MAX (a->x, b->x), t = MAX (a->y, b->y);
  gdouble r = MIN (a->x + a->w, b->x + b->w), btm = MIN (a->y + a->h, b->y + b->h);
  return (r > l && btm > t) ? (r - l) * (btm - t) : 0;
}

static gdouble
inside_fraction (const Obj *o, const SynthParams *p)
{
  gdouble l = MAX (o->x, 0), t = MAX (o->y, 0);
  gdouble r = MIN (o->x + o->w, p->width), b = MIN (o->y + o->h, p->height);
  return (r > l && b > t) ? (r - l) * (b - t) / (o->w * o->h) : 0;
}

static void
place_lane (const SynthParams *p, GRand *r, Obj *o, guint lane, gboolean from_edge)
{
  gdouble lane_h = (gdouble) p->height / p->n_lanes;
  gdouble speed = g_rand_double_range (r, 1.5, 5.0);
  o->w = g_rand_double_range (r, 40, 80);
  o->h = o->w * g_rand_double_range (r, 2.0, 2.6);
  if (o->h > lane_h * 1.4) { o->h = lane_h * 1.4; o->w = o->h / 2.3; }
  o->y = lane * lane_h + lane_h / 2 - o->h / 2 + gauss (r) * lane_h * 0.12;
  o->vx = (lane % 2 == 0) ? speed : -speed;
  o->vy = gauss (r) * 0.3;
  if (from_edge)
    o->x = o->vx > 0 ? -o->w * 0.6 : p->width - o->w * 0.4;
  else
    o->x = g_rand_double_range (r, 0, p->width - o->w);
}

SynthSeq
synth_generate (const SynthParams *p)
{
  GRand *r = g_rand_new_with_seed (p->seed);
  Obj *objs = g_new0 (Obj, p->n_objects);
  gfloat *emb = p->emb_dim ? g_new (gfloat, p->emb_dim) : NULL;
  SynthSeq s = { ova_mot_file_new (), ova_mot_file_new () };
  gdouble *vis = g_new (gdouble, p->n_objects);
  const gdouble noise_std = p->emb_dim ? p->emb_noise / sqrt ((gdouble) p->emb_dim) : 0;

  for (guint i = 0; i < p->n_objects; i++) {
    Obj *o = &objs[i];
    gboolean late = i >= p->n_objects / 2;
    place_lane (p, r, o, i % p->n_lanes, late);
    o->start = late ? g_rand_int_range (r, 1, (gint) p->n_frames / 2) : 1;
    o->away = 0;
    if (p->emb_dim) {
      o->emb = g_new (gfloat, p->emb_dim);
      unit_vector (r, o->emb, p->emb_dim);
    }
  }

  for (guint f = 1; f <= p->n_frames; f++) {
    guint n_true = 0;
    /* move */
    for (guint i = 0; i < p->n_objects; i++) {
      Obj *o = &objs[i];
      o->active = FALSE;
      if ((gint) f < o->start || o->away < 0) continue;
      if (o->away > 0) {
        if (--o->away == 0) { /* come back in where it left, walking the other way */
          o->vx = -o->vx;
          o->x = o->vx > 0 ? -o->w * 0.6 : p->width - o->w * 0.4;
          o->y += gauss (r) * 15;
        }
        continue;
      }
      if ((gint) f > o->start) {
        o->x += o->vx;
        o->y += o->vy;
        if (g_rand_double (r) < 0.02) o->vx += gauss (r) * 0.4 * (o->vx > 0 ? 1 : -1) * 0.5;
        if (fabs (o->vx) < 1.0) o->vx = o->vx < 0 ? -1.0 : 1.0;
        if (o->y < 0 || o->y + o->h > p->height) o->vy = -o->vy;
      }
      if (o->x + o->w < 0 || o->x > p->width) {
        o->away = g_rand_double (r) < p->reenter_prob ? g_rand_int_range (r, 10, 40) : -1;
        continue;
      }
      o->active = TRUE;
    }
    /* visibility: what the boxes nearer the camera (lower bottom edge) leave */
    for (guint i = 0; i < p->n_objects; i++) {
      Obj *o = &objs[i];
      gdouble hidden = 0;
      if (!o->active) continue;
      for (guint j = 0; j < p->n_objects; j++)
        if (j != i && objs[j].active && objs[j].y + objs[j].h > o->y + o->h)
          hidden += overlap (o, &objs[j]);
      vis[i] = MAX (0.0, 1.0 - hidden / (o->w * o->h)) * MIN (1.0, inside_fraction (o, p) * 1.0);
    }
    for (guint i = 0; i < p->n_objects; i++) {
      Obj *o = &objs[i];
      OvaMotRow row = { 0 };
      gdouble conf, jw, jh;
      if (!o->active || inside_fraction (o, p) < 0.5) continue;
      row.frame = (gint) f;
      row.id = i + 1;
      row.rect = (OvaRect) { (gfloat) o->x, (gfloat) o->y, (gfloat) o->w, (gfloat) o->h };
      row.confidence = 1;
      row.class_id = 1;
      row.visibility = (gfloat) vis[i];
      ova_mot_file_add (s.gt, &row);
      /* the detector */
      if (vis[i] < 0.3 && g_rand_double (r) > 0.3) continue;
      if (g_rand_double (r) < p->miss_rate) continue;
      if (vis[i] >= 0.7) conf = g_rand_double_range (r, 0.6, 0.95);
      else if (vis[i] >= 0.3) conf = g_rand_double_range (r, 0.2, 0.55);
      else conf = g_rand_double_range (r, 0.1, 0.3);
      jw = p->jitter * o->w;
      jh = p->jitter * o->h;
      row.id = -1;
      row.rect.left = (gfloat) (o->x + gauss (r) * jw);
      row.rect.top = (gfloat) (o->y + gauss (r) * jh);
      row.rect.width = (gfloat) MAX (4.0, o->w + gauss (r) * jw);
      row.rect.height = (gfloat) MAX (4.0, o->h + gauss (r) * jh);
      row.confidence = (gfloat) conf;
      row.class_id = -1;
      row.visibility = -1;
      if (p->emb_dim) {
        /* a partly hidden person's crop shows some of whoever hides it */
        const Obj *front = NULL;
        gdouble best = 0;
        for (guint j = 0; j < p->n_objects; j++)
          if (j != i && objs[j].active && objs[j].y + objs[j].h > o->y + o->h && overlap (o, &objs[j]) > best) {
            best = overlap (o, &objs[j]);
            front = &objs[j];
          }
        for (guint k = 0; k < p->emb_dim; k++) {
          gdouble v = vis[i] * o->emb[k] + (front ? (1 - vis[i]) * front->emb[k] : 0);
          emb[k] = (gfloat) (v + gauss (r) * noise_std);
        }
        row.embedding = emb;
        row.embedding_dim = p->emb_dim;
      }
      ova_mot_file_add (s.det, &row);
      n_true++;
    }
    /* false boxes */
    for (guint k = 0; k < n_true; k++) {
      OvaMotRow row = { 0 };
      gdouble w, h;
      if (g_rand_double (r) >= p->false_rate) continue;
      w = g_rand_double_range (r, 30, 90);
      h = w * g_rand_double_range (r, 1.0, 2.6);
      row.frame = (gint) f;
      row.id = -1;
      row.rect = (OvaRect) { (gfloat) g_rand_double_range (r, 0, p->width - w),
          (gfloat) g_rand_double_range (r, 0, p->height - h), (gfloat) w, (gfloat) h };
      row.confidence = (gfloat) g_rand_double_range (r, 0.2, 0.75);
      row.class_id = -1;
      row.visibility = -1;
      if (p->emb_dim) {
        unit_vector (r, emb, p->emb_dim);
        row.embedding = emb;
        row.embedding_dim = p->emb_dim;
      }
      ova_mot_file_add (s.det, &row);
    }
  }
  s.gt->n_frames = s.det->n_frames = (gint) p->n_frames;
  ova_mot_file_sort (s.gt);
  ova_mot_file_sort (s.det);
  for (guint i = 0; i < p->n_objects; i++) g_free (objs[i].emb);
  g_free (objs);
  g_free (emb);
  g_free (vis);
  g_rand_free (r);
  return s;
}

void
synth_seq_clear (SynthSeq *s)
{
  ova_mot_file_free (s->gt);
  ova_mot_file_free (s->det);
  s->gt = s->det = NULL;
}
