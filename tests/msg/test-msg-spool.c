/* ova tests — the spool: append, acknowledge in any order, replay in order
 * after a restart, damaged and torn records, the bound (oldest dropped and
 * counted), memory-only mode.
 * SPDX-License-Identifier: MIT */
#include <ova/msg.h>
#include <glib/gstdio.h>
#include <string.h>
#include <stdlib.h>

static gchar *
tmp (void)
{
  return g_dir_make_tmp ("ova-spool-XXXXXX", NULL);
}

static void
rmdir_all (const gchar *d)
{
  GDir *dir = g_dir_open (d, 0, NULL);
  const gchar *n;
  while (dir && (n = g_dir_read_name (dir))) {
    g_autofree gchar *p = g_build_filename (d, n, NULL);
    g_unlink (p);
  }
  if (dir)
    g_dir_close (dir);
  g_rmdir (d);
}

static void
append_n (OvaSpool *s, guint from, guint n, guint64 *seqs)
{
  for (guint i = from; i < from + n; i++) {
    gchar buf[64];
    gint len = g_snprintf (buf, sizeof buf, "{\"seq\":%u}", i);
    GError *e = NULL;
    guint64 seq = ova_spool_append (s, i % 2 ? "topic/a" : NULL, buf, len, &e);
    g_assert_no_error (e);
    g_assert_cmpuint (seq, >, 0);
    if (seqs)
      seqs[i] = seq;
  }
}

/* Reads every pending record in order; returns their payload numbers. */
static GArray *
drain (OvaSpool *s)
{
  GArray *a = g_array_new (FALSE, FALSE, sizeof (guint));
  OvaSpoolRecord r;
  guint64 from = 0;
  while (ova_spool_next (s, from, &r)) {
    gsize len;
    const gchar *p = g_bytes_get_data (r.data, &len);
    g_autofree gchar *t = g_strndup (p, len);
    guint v = (guint) strtoul (strchr (t, ':') + 1, NULL, 10);
    g_array_append_val (a, v);
    if (v % 2)
      g_assert_cmpstr (r.topic, ==, "topic/a");
    else
      g_assert_null (r.topic);
    from = r.seq + 1;
    ova_spool_record_clear (&r);
  }
  return a;
}

static void
test_basic (void)
{
  g_autofree gchar *d = tmp ();
  GError *e = NULL;
  OvaSpool *s = ova_spool_open (d, 1 << 20, OVA_SPOOL_FSYNC_ALWAYS, &e);
  g_assert_no_error (e);
  guint64 seqs[100];
  append_n (s, 0, 100, seqs);
  for (guint i = 0; i < 100; i++)
    g_assert_cmpuint (seqs[i], ==, i + 1);
  ova_spool_sync (s, seqs[50]); /* group commit up to the newest */
  ova_spool_sync (s, seqs[99]); /* nothing left to sync */
  /* acknowledge out of order: 10..19 and 0..4 */
  for (guint i = 10; i < 20; i++)
    ova_spool_ack (s, seqs[i]);
  for (guint i = 0; i < 5; i++)
    ova_spool_ack (s, seqs[i]);
  g_assert_cmpuint (ova_spool_first_pending (s), ==, seqs[5]);
  OvaSpoolStats st;
  ova_spool_get_stats (s, &st);
  g_assert_cmpuint (st.appended, ==, 100);
  g_assert_cmpuint (st.acked, ==, 15);
  g_assert_cmpuint (st.pending, ==, 85);
  ova_spool_ack (s, 9999); /* unknown seq: ignored */
  /* a second user of the same directory is refused */
  GError *busy = NULL;
  g_assert_null (ova_spool_open (d, 1 << 20, OVA_SPOOL_FSYNC_ALWAYS, &busy));
  g_assert_error (busy, OVA_MSG_ERROR, OVA_MSG_ERROR_IO);
  g_assert_nonnull (strstr (busy->message, "in use"));
  g_clear_error (&busy);
  ova_spool_close (s);

  /* restart: the 85 unacknowledged come back in order (acks of 10..19 may or
   * may not have been recorded: at-least-once allows them back) */
  s = ova_spool_open (d, 1 << 20, OVA_SPOOL_FSYNC_ALWAYS, &e);
  g_assert_no_error (e);
  g_autoptr (GArray) a = drain (s);
  ova_spool_get_stats (s, &st);
  g_assert_cmpuint (st.corrupt, ==, 0);
  g_assert_cmpuint (a->len, >=, 85);
  g_assert_cmpuint (g_array_index (a, guint, 0), ==, 5);
  for (guint i = 1; i < a->len; i++)
    g_assert_cmpuint (g_array_index (a, guint, i), >, g_array_index (a, guint, i - 1));
  g_assert_cmpuint (g_array_index (a, guint, a->len - 1), ==, 99);
  /* new appends continue the sequence */
  GError *e2 = NULL;
  guint64 q = ova_spool_append (s, NULL, "x", 1, &e2);
  g_assert_cmpuint (q, ==, 101);
  /* acknowledge everything: nothing comes back next time */
  for (guint64 i = 1; i <= 101; i++)
    ova_spool_ack (s, i);
  ova_spool_close (s);
  s = ova_spool_open (d, 1 << 20, OVA_SPOOL_FSYNC_NEVER, &e);
  ova_spool_get_stats (s, &st);
  g_assert_cmpuint (st.recovered, ==, 0);
  g_assert_cmpuint (ova_spool_append (s, NULL, "y", 1, NULL), ==, 102);
  ova_spool_close (s);
  rmdir_all (d);
}

static gchar *
only_segment (const gchar *d)
{
  GDir *dir = g_dir_open (d, 0, NULL);
  const gchar *n;
  gchar *found = NULL;
  while ((n = g_dir_read_name (dir)))
    if (g_str_has_prefix (n, "seg-")) {
      g_assert_null (found);
      found = g_build_filename (d, n, NULL);
    }
  g_dir_close (dir);
  return found;
}

static void
test_corruption (void)
{
  g_autofree gchar *d = tmp ();
  OvaSpool *s = ova_spool_open (d, 1 << 20, OVA_SPOOL_FSYNC_ALWAYS, NULL);
  append_n (s, 0, 10, NULL);
  ova_spool_close (s);
  g_autofree gchar *seg = only_segment (d);
  gchar *data;
  gsize len;
  g_assert_true (g_file_get_contents (seg, &data, &len, NULL));
  /* flip a payload byte of record 3 (records are 24 + body bytes) */
  gsize off = 0;
  for (guint i = 0; i < 3; i++) {
    guint32 blen;
    memcpy (&blen, data + off + 4, 4);
    off += 24 + GUINT32_FROM_LE (blen);
  }
  data[off + 24 + 5] ^= 0x55;
  /* and tear the last record in half, as a crash in the middle of a write would */
  g_assert_true (g_file_set_contents (seg, data, len - 6, NULL));
  g_free (data);

  GError *e = NULL;
  s = ova_spool_open (d, 1 << 20, OVA_SPOOL_FSYNC_ALWAYS, &e);
  g_assert_no_error (e);
  OvaSpoolStats st;
  ova_spool_get_stats (s, &st);
  g_assert_cmpuint (st.corrupt, ==, 2);
  g_autoptr (GArray) a = drain (s);
  guint expect[] = { 0, 1, 2, 4, 5, 6, 7, 8 };
  g_assert_cmpuint (a->len, ==, G_N_ELEMENTS (expect));
  for (guint i = 0; i < a->len; i++)
    g_assert_cmpuint (g_array_index (a, guint, i), ==, expect[i]);
  /* appending after a damaged file works (the torn record 10 never counted), the torn tail was cut */
  g_assert_cmpuint (ova_spool_append (s, NULL, "{\"seq\":10}", 10, NULL), ==, 10);
  ova_spool_close (s);
  s = ova_spool_open (d, 1 << 20, OVA_SPOOL_FSYNC_ALWAYS, &e);
  ova_spool_get_stats (s, &st);
  g_assert_cmpuint (st.corrupt, ==, 1); /* only the flipped record remains damaged */
  g_assert_cmpuint (st.recovered, ==, 9);
  ova_spool_close (s);

  /* garbage file: everything skipped, no crash */
  g_autofree gchar *junk = g_build_filename (d, "seg-00000000000000000000.log", NULL);
  g_assert_true (g_file_set_contents (junk, "OAVSgarbage-garbage-garbage-garbage", -1, NULL));
  s = ova_spool_open (d, 1 << 20, OVA_SPOOL_FSYNC_ALWAYS, &e);
  g_assert_no_error (e);
  ova_spool_close (s);
  rmdir_all (d);
}

static void
test_bound (void)
{
  g_autofree gchar *d = tmp ();
  /* 8 KiB bound: segments of 4 KiB; records of ~36 bytes */
  OvaSpool *s = ova_spool_open (d, 8192, OVA_SPOOL_FSYNC_NEVER, NULL);
  append_n (s, 0, 1000, NULL);
  OvaSpoolStats st;
  ova_spool_get_stats (s, &st);
  g_assert_cmpuint (st.bytes, <=, 8192);
  g_assert_cmpuint (st.dropped, >, 0);
  g_assert_cmpuint (st.dropped + st.pending, ==, 1000);
  g_autoptr (GArray) a = drain (s);
  g_assert_cmpuint (a->len, ==, st.pending);
  /* what is left is the newest, contiguous, in order */
  g_assert_cmpuint (g_array_index (a, guint, a->len - 1), ==, 999);
  for (guint i = 1; i < a->len; i++)
    g_assert_cmpuint (g_array_index (a, guint, i), ==, g_array_index (a, guint, i - 1) + 1);
  /* a record larger than the bound is refused with an error */
  gchar *big = g_malloc0 (9000);
  GError *e = NULL;
  g_assert_cmpuint (ova_spool_append (s, NULL, big, 9000, &e), ==, 0);
  g_assert_error (e, OVA_MSG_ERROR, OVA_MSG_ERROR_IO);
  g_clear_error (&e);
  g_free (big);
  ova_spool_close (s);

  /* restart keeps the bound's survivors */
  s = ova_spool_open (d, 8192, OVA_SPOOL_FSYNC_NEVER, NULL);
  OvaSpoolStats st2;
  ova_spool_get_stats (s, &st2);
  g_assert_cmpuint (st2.recovered, ==, st.pending);
  ova_spool_close (s);
  rmdir_all (d);

  /* memory mode: same bound semantics, nothing on disk */
  s = ova_spool_open (NULL, 4096, OVA_SPOOL_FSYNC_NEVER, NULL);
  append_n (s, 0, 1000, NULL);
  ova_spool_get_stats (s, &st);
  g_assert_cmpuint (st.dropped + st.pending, ==, 1000);
  g_assert_cmpuint (st.bytes, <=, 4096);
  g_assert_cmpuint (st.dropped, >, 0);
  ova_spool_close (s);
}

static void
test_fsync_names (void)
{
  gboolean ok;
  g_assert_cmpint (ova_spool_fsync_from_string ("always", &ok), ==, OVA_SPOOL_FSYNC_ALWAYS);
  g_assert_true (ok);
  g_assert_cmpint (ova_spool_fsync_from_string ("never", &ok), ==, OVA_SPOOL_FSYNC_NEVER);
  ova_spool_fsync_from_string ("sometimes", &ok);
  g_assert_false (ok);
  GError *e = NULL;
  g_assert_null (ova_spool_open ("/proc/ova-cannot-create", 4096, OVA_SPOOL_FSYNC_NEVER, &e));
  g_assert_error (e, OVA_MSG_ERROR, OVA_MSG_ERROR_IO);
  g_clear_error (&e);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_always_fatal (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL);
  g_log_set_fatal_mask ("ova", G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL);
  g_test_add_func ("/msg/spool/basic", test_basic);
  g_test_add_func ("/msg/spool/corruption", test_corruption);
  g_test_add_func ("/msg/spool/bound", test_bound);
  g_test_add_func ("/msg/spool/fsync-names", test_fsync_names);
  return g_test_run ();
}
