/* ova — writes the synthetic tracking suite as MOTChallenge files. SPDX-License-Identifier: MIT
 *
 *   ova-track-synth OUTDIR   ->  OUTDIR/<name>/det.txt (with embeddings), OUTDIR/<name>/gt.txt
 */
#include "synth.h"
#include <stdio.h>
#include <string.h>

static gboolean
write_file (const OvaMotFile *f, const gchar *path, gboolean gt, GError **error)
{
  GString *s = g_string_new (NULL);
  gboolean ok;
  for (guint i = 0; i < f->rows->len; i++) {
    const OvaMotRow *r = &g_array_index (f->rows, OvaMotRow, i);
    g_string_append_printf (s, "%d,%" G_GINT64_FORMAT ",%.2f,%.2f,%.2f,%.2f,", r->frame, r->id,
        r->rect.left, r->rect.top, r->rect.width, r->rect.height);
    if (gt)
      g_string_append_printf (s, "%d,%d,%.3f\n", (gint) r->confidence, r->class_id, r->visibility);
    else {
      g_string_append_printf (s, "%.4f,-1,-1,-1", r->confidence);
      for (guint k = 0; k < r->embedding_dim; k++) g_string_append_printf (s, ",%.4f", r->embedding[k]);
      g_string_append_c (s, '\n');
    }
  }
  ok = g_file_set_contents (path, s->str, s->len, error);
  g_string_free (s, TRUE);
  return ok;
}

int
main (int argc, char **argv)
{
  if (argc != 2 || !strcmp (argv[1], "--help") || !strcmp (argv[1], "-h")) {
    printf ("usage: %s OUTDIR\nWrites the synthetic tracking suite: OUTDIR/<sequence>/{det,gt}.txt\n", argv[0]);
    return argc == 2 ? 0 : 2;
  }
  for (guint i = 0; i < SYNTH_SUITE_SIZE; i++) {
    SynthParams p;
    const gchar *name;
    SynthSeq s;
    GError *err = NULL;
    gchar *dir, *det, *gt;
    synth_suite_params (i, &p, &name);
    s = synth_generate (&p);
    dir = g_build_filename (argv[1], name, NULL);
    g_mkdir_with_parents (dir, 0755);
    det = g_build_filename (dir, "det.txt", NULL);
    gt = g_build_filename (dir, "gt.txt", NULL);
    if (!write_file (s.det, det, FALSE, &err) || !write_file (s.gt, gt, TRUE, &err)) {
      fprintf (stderr, "ova-track-synth: %s\n", err->message);
      return 1;
    }
    printf ("%s\n", dir);
    g_free (dir); g_free (det); g_free (gt);
    synth_seq_clear (&s);
  }
  return 0;
}
