/* ova — MOTChallenge text files. SPDX-License-Identifier: MIT
 *
 * det:    frame,-1,left,top,width,height,conf[,x,y,z[,feature...]]
 * gt:     frame,id,left,top,width,height,consider,class,visibility
 * tracks: frame,id,left,top,width,height,conf,-1,-1,-1
 * Columns after the tenth of a det file are read as an appearance feature,
 * the layout DeepSORT's detection files use.
 */
#include "ova-config.h"
#include <ova/track.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
row_clear (gpointer p)
{
  OvaMotRow *r = p;
  g_free (r->embedding);
  r->embedding = NULL;
}

OvaMotFile *
ova_mot_file_new (void)
{
  OvaMotFile *f = g_new0 (OvaMotFile, 1);
  f->rows = g_array_new (FALSE, TRUE, sizeof (OvaMotRow));
  g_array_set_clear_func (f->rows, row_clear);
  return f;
}

void
ova_mot_file_free (OvaMotFile *f)
{
  if (!f) return;
  g_array_unref (f->rows);
  g_free (f);
}

void
ova_mot_file_add (OvaMotFile *f, const OvaMotRow *row)
{
  OvaMotRow r = *row;
  if (row->embedding && row->embedding_dim)
    r.embedding = g_memdup2 (row->embedding, row->embedding_dim * sizeof (gfloat));
  else {
    r.embedding = NULL;
    r.embedding_dim = 0;
  }
  g_array_append_val (f->rows, r);
  if (r.frame > f->n_frames)
    f->n_frames = r.frame;
}

static gint
cmp_frame (gconstpointer a, gconstpointer b)
{
  const OvaMotRow *x = a, *y = b;
  if (x->frame != y->frame) return x->frame < y->frame ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

void
ova_mot_file_sort (OvaMotFile *f)
{
  /* g_array_sort is not stable, so order ties by id: ids are unique per frame
   * in gt/tracks, and det files all use -1 where the order does not matter. */
  g_array_sort (f->rows, cmp_frame);
}

static gboolean
parse_double (const gchar *s, gdouble *out)
{
  gchar *end;
  while (*s == ' ' || *s == '\t') s++;
  if (!*s) return FALSE;
  errno = 0;
  *out = g_ascii_strtod (s, &end);
  while (*end == ' ' || *end == '\t' || *end == '\r') end++;
  return !*end && !errno && isfinite (*out);
}

OvaMotFile *
ova_mot_file_parse (const gchar *data, gsize len, const gchar *name, OvaMotKind kind, GError **error)
{
  OvaMotFile *f = ova_mot_file_new ();
  gchar *copy = g_strndup (data, len);
  gchar **lines = g_strsplit (copy, "\n", -1);
  guint min_fields = kind == OVA_MOT_GT ? 6 : 6;
  g_free (copy);
  for (guint ln = 0; lines[ln]; ln++) {
    gchar *line = g_strstrip (lines[ln]);
    gchar **fields;
    guint nf;
    gdouble v[10];
    OvaMotRow row = { 0 };
    if (!*line || line[0] == '#')
      continue;
    fields = g_strsplit_set (line, ",", -1);
    nf = g_strv_length (fields);
    if (nf == 1) { /* some files are space separated */
      g_strfreev (fields);
      fields = g_strsplit_set (line, " \t", -1);
      nf = g_strv_length (fields);
    }
    if (nf < min_fields) {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
          "%s:%u: expected at least %u comma-separated fields, found %u", name, ln + 1, min_fields, nf);
      g_strfreev (fields);
      goto fail;
    }
    for (guint i = 0; i < MIN (nf, 10); i++)
      if (!parse_double (fields[i], &v[i])) {
        g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
            "%s:%u: field %u ('%s') is not a number", name, ln + 1, i + 1, fields[i]);
        g_strfreev (fields);
        goto fail;
      }
    /* (a frame cap keeps a corrupt number from sizing per-frame tables) */
    if (v[0] < 1 || v[0] > OVA_MOT_MAX_FRAME || v[0] != floor (v[0])) {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
          "%s:%u: frame '%s' is not an integer in [1, %d]", name, ln + 1, fields[0], OVA_MOT_MAX_FRAME);
      g_strfreev (fields);
      goto fail;
    }
    if (v[4] < 0 || v[5] < 0) {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
          "%s:%u: negative box size", name, ln + 1);
      g_strfreev (fields);
      goto fail;
    }
    row.frame = (gint) v[0];
    row.id = (gint64) v[1];
    row.rect.left = (gfloat) v[2];
    row.rect.top = (gfloat) v[3];
    row.rect.width = (gfloat) v[4];
    row.rect.height = (gfloat) v[5];
    row.confidence = nf > 6 ? (gfloat) v[6] : 1.0f;
    row.class_id = -1;
    row.visibility = -1;
    if (kind == OVA_MOT_GT) {
      row.class_id = nf > 7 ? (gint) v[7] : 1;
      row.visibility = nf > 8 ? (gfloat) v[8] : 1.0f;
    }
    if (kind == OVA_MOT_DET && nf > 10) {
      row.embedding_dim = nf - 10;
      row.embedding = g_new (gfloat, row.embedding_dim);
      for (guint i = 10; i < nf; i++) {
        gdouble e;
        if (!parse_double (fields[i], &e)) {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
              "%s:%u: feature field %u ('%s') is not a number", name, ln + 1, i + 1, fields[i]);
          g_free (row.embedding);
          g_strfreev (fields);
          goto fail;
        }
        row.embedding[i - 10] = (gfloat) e;
      }
    }
    g_array_append_val (f->rows, row); /* takes the embedding */
    if (row.frame > f->n_frames) f->n_frames = row.frame;
    g_strfreev (fields);
  }
  g_strfreev (lines);
  ova_mot_file_sort (f);
  return f;
fail:
  g_strfreev (lines);
  ova_mot_file_free (f);
  return NULL;
}

OvaMotFile *
ova_mot_file_load (const gchar *path, OvaMotKind kind, GError **error)
{
  gchar *data;
  gsize len;
  OvaMotFile *f;
  if (!g_file_get_contents (path, &data, &len, error))
    return NULL;
  f = ova_mot_file_parse (data, len, path, kind, error);
  g_free (data);
  return f;
}

gboolean
ova_mot_file_save_tracks (const OvaMotFile *f, const gchar *path, GError **error)
{
  GString *s = g_string_new (NULL);
  gboolean ok;
  for (guint i = 0; i < f->rows->len; i++) {
    const OvaMotRow *r = &g_array_index (f->rows, OvaMotRow, i);
    /* %.9g: a float read back is the same float, so the file scores as the tracks did */
    g_string_append_printf (s, "%d,%" G_GINT64_FORMAT ",%.9g,%.9g,%.9g,%.9g,%.6g,-1,-1,-1\n",
        r->frame, r->id, r->rect.left, r->rect.top, r->rect.width, r->rect.height, r->confidence);
  }
  ok = g_file_set_contents (path, s->str, s->len, error);
  g_string_free (s, TRUE);
  return ok;
}

guint64
ova_tracker_run_mot (OvaTracker *tracker, const OvaMotFile *det, guint interval, OvaMotFile *tracks)
{
  GArray *dets = g_array_new (FALSE, FALSE, sizeof (OvaTrackerDetection));
  guint64 n = 0;
  guint k = 0;
  for (gint frame = 1; frame <= det->n_frames; frame++) {
    const OvaTrackerOutput *out;
    guint n_out;
    g_array_set_size (dets, 0);
    for (; k < det->rows->len && g_array_index (det->rows, OvaMotRow, k).frame <= frame; k++) {
      const OvaMotRow *r = &g_array_index (det->rows, OvaMotRow, k);
      OvaTrackerDetection d;
      if (r->frame != frame) continue;
      d.rect = r->rect;
      d.class_id = r->class_id < 0 ? 0 : r->class_id;
      d.confidence = r->confidence;
      d.embedding = r->embedding;
      d.embedding_dim = r->embedding_dim;
      g_array_append_val (dets, d);
    }
    if ((guint) (frame - 1) % (interval + 1) == 0) {
      n += dets->len;
      n_out = ova_tracker_update (tracker, (const OvaTrackerDetection *) dets->data, dets->len, &out);
    } else {
      n_out = ova_tracker_predict (tracker, &out);
    }
    for (guint i = 0; i < n_out; i++) {
      OvaMotRow row = { 0 };
      if (out[i].state != OVA_TRACK_CONFIRMED && out[i].state != OVA_TRACK_PREDICTED) continue;
      row.frame = frame;
      row.id = out[i].id;
      row.rect = out[i].rect;
      row.confidence = out[i].confidence;
      row.class_id = out[i].class_id;
      row.visibility = -1;
      ova_mot_file_add (tracks, &row);
    }
  }
  if (det->n_frames > tracks->n_frames)
    tracks->n_frames = det->n_frames;
  g_array_unref (dets);
  return n;
}
