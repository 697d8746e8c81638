/* ova — the at-least-once spool: append-only segment files of checksummed
 * records, a bound on bytes (oldest segment dropped and counted), an
 * acknowledged-position file, in-order replay after a restart.
 *
 * Record: magic u32 | body_len u32 | seq u64 | topic_len u16 | flags u16 |
 *         crc32 u32 (over bytes 4..20 and the body) | body = topic + payload.
 * All little endian.
 * SPDX-License-Identifier: MIT */
#include <ova/msg.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#define REC_MAGIC 0x5356414fu /* "OAVS" */
#define REC_HDR 24
#define ACK_FILE "acked"

typedef struct {
  guint64 seq;
  gboolean acked;
  gchar *topic;
  GBytes *data;   /* NULL for a tombstone (corrupt record) */
  guint32 disk;   /* bytes it takes on disk (memory mode: for the bound) */
} Rec;

typedef struct {
  gchar *path;
  guint64 first_seq, last_seq; /* last_seq 0: empty */
  guint64 bytes;
} Seg;

struct _OvaSpool {
  GMutex lock;
  gchar *dir;            /* NULL: memory only */
  guint64 max_bytes, seg_size;
  OvaSpoolFsync fsync;
  guint fsync_interval_ms;
  gint64 last_sync_us, last_ack_write_us;
  /* ring of records, contiguous seqs from first_seq */
  Rec *ring;
  guint cap, head, len;
  guint64 first_seq, next_seq;
  GQueue segs;           /* Seg*, oldest first; the tail is written to */
  gint fd;               /* tail segment, -1 none */
  gint lock_fd;          /* flock()ed "lock" file: one spool user at a time */
  guint64 bytes;
  guint64 acked_written; /* position in the ack file */
  guint64 synced_seq;    /* fsync=always: records up to this one are on disk */
  OvaSpoolStats st;
};

static Rec *
ring_at (OvaSpool *s, guint i)
{
  return &s->ring[(s->head + i) % s->cap];
}

static void
ring_push (OvaSpool *s, Rec r)
{
  if (s->len == s->cap) {
    guint ncap = s->cap ? s->cap * 2 : 1024;
    Rec *n = g_new (Rec, ncap);
    for (guint i = 0; i < s->len; i++)
      n[i] = *ring_at (s, i);
    g_free (s->ring);
    s->ring = n;
    s->cap = ncap;
    s->head = 0;
  }
  s->ring[(s->head + s->len) % s->cap] = r;
  s->len++;
}

static void
rec_clear (Rec *r)
{
  g_free (r->topic);
  if (r->data)
    g_bytes_unref (r->data);
  memset (r, 0, sizeof *r);
}

/* Removes the oldest record; counts it dropped when not acknowledged. */
static void
ring_pop (OvaSpool *s, gboolean count_drop)
{
  Rec *r = ring_at (s, 0);
  if (count_drop && !r->acked && r->data) {
    s->st.dropped++;
    s->st.pending--;
  }
  rec_clear (r);
  s->head = (s->head + 1) % s->cap;
  s->len--;
  s->first_seq++;
}

static void
seg_free (Seg *g)
{
  g_free (g->path);
  g_free (g);
}

static gchar *
seg_path (OvaSpool *s, guint64 first)
{
  g_autofree gchar *name = g_strdup_printf ("seg-%020" G_GUINT64_FORMAT ".log", first);
  return g_build_filename (s->dir, name, NULL);
}

static void
write_ack_file (OvaSpool *s, gboolean sync)
{
  if (!s->dir)
    return;
  guint64 upto = s->first_seq - 1; /* everything before the ring is acknowledged or dropped */
  if (upto == s->acked_written)
    return;
  g_autofree gchar *p = g_build_filename (s->dir, ACK_FILE, NULL);
  gchar buf[32];
  gint n = g_snprintf (buf, sizeof buf, "%" G_GUINT64_FORMAT "\n", upto);
  GError *e = NULL;
  if (!g_file_set_contents_full (p, buf, n,
                                 sync ? G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE
                                      : G_FILE_SET_CONTENTS_CONSISTENT,
                                 0644, &e)) {
    g_warning ("spool %s: cannot record the acknowledged position: %s", s->dir, e->message);
    g_error_free (e);
    return;
  }
  s->acked_written = upto;
  s->last_ack_write_us = g_get_monotonic_time ();
}

/* Deletes segments all of whose records are acknowledged (never the tail). */
static void
gc_segments (OvaSpool *s)
{
  gboolean removed = FALSE;
  while (s->segs.length > 1) {
    Seg *g = g_queue_peek_head (&s->segs);
    if (g->last_seq >= s->first_seq)
      break;
    g_queue_pop_head (&s->segs);
    s->bytes -= g->bytes;
    g_unlink (g->path);
    seg_free (g);
    removed = TRUE;
  }
  if (removed)
    write_ack_file (s, s->fsync != OVA_SPOOL_FSYNC_NEVER);
}

static void
close_tail (OvaSpool *s)
{
  if (s->fd >= 0) {
    if (s->fsync != OVA_SPOOL_FSYNC_NEVER)
      fdatasync (s->fd);
    close (s->fd);
    s->fd = -1;
  }
}

static gboolean
open_tail (OvaSpool *s, GError **error)
{
  close_tail (s); /* synced (unless fsync=never): everything before is on disk */
  if (s->fsync == OVA_SPOOL_FSYNC_ALWAYS)
    s->synced_seq = s->next_seq - 1;
  Seg *g = g_new0 (Seg, 1);
  g->path = seg_path (s, s->next_seq);
  g->first_seq = s->next_seq;
  s->fd = g_open (g->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (s->fd < 0) {
    g_set_error (error, OVA_MSG_ERROR, OVA_MSG_ERROR_IO, "spool: cannot create %s: %s", g->path,
                 g_strerror (errno));
    seg_free (g);
    return FALSE;
  }
  g_queue_push_tail (&s->segs, g);
  return TRUE;
}

/* Drops the oldest segment (disk) or record (memory) to make room. */
static gboolean
drop_oldest (OvaSpool *s)
{
  guint64 before = s->st.dropped;
  if (!s->dir) {
    if (!s->len)
      return FALSE;
    Rec *r = ring_at (s, 0);
    s->bytes -= r->disk;
    ring_pop (s, TRUE);
  } else {
    Seg *g = g_queue_peek_head (&s->segs);
    if (!g || g->bytes == 0)
      return FALSE;
    if (s->segs.length == 1)
      close_tail (s); /* the only segment: start a new one after it */
    g_queue_pop_head (&s->segs);
    while (s->len && ring_at (s, 0)->seq <= g->last_seq)
      ring_pop (s, TRUE);
    s->bytes -= g->bytes;
    g_unlink (g->path);
    seg_free (g);
    write_ack_file (s, s->fsync != OVA_SPOOL_FSYNC_NEVER);
  }
  if (s->st.dropped != before && s->dir)
    g_warning ("spool %s: bound of %" G_GUINT64_FORMAT " bytes hit: dropped %" G_GUINT64_FORMAT
               " unacknowledged records (%" G_GUINT64_FORMAT " in all)",
               s->dir, s->max_bytes, s->st.dropped - before, s->st.dropped);
  return TRUE;
}

static guint32
rec_crc (const guint8 *hdr, const guint8 *body, gsize len)
{
  uLong c = crc32 (0L, Z_NULL, 0);
  c = crc32 (c, hdr + 4, 16);
  /* zlib's length is uInt: feed large bodies in pieces */
  while (len) {
    uInt n = len > (1u << 30) ? (1u << 30) : (uInt) len;
    c = crc32 (c, body, n);
    body += n;
    len -= n;
  }
  return (guint32) c;
}

/* Parses the record at @p (≤ @avail bytes). Returns its size, 0 if not a valid record. */
static gsize
parse_rec (const guint8 *p, gsize avail, guint64 *seq, guint16 *tlen, guint32 *blen)
{
  if (avail < REC_HDR)
    return 0;
  guint32 magic, crc;
  memcpy (&magic, p, 4);
  if (GUINT32_FROM_LE (magic) != REC_MAGIC)
    return 0;
  memcpy (blen, p + 4, 4);
  *blen = GUINT32_FROM_LE (*blen);
  memcpy (seq, p + 8, 8);
  *seq = GUINT64_FROM_LE (*seq);
  memcpy (tlen, p + 16, 2);
  *tlen = GUINT16_FROM_LE (*tlen);
  memcpy (&crc, p + 20, 4);
  if ((gsize) *blen > avail - REC_HDR || *tlen > *blen || *seq == 0)
    return 0;
  if (rec_crc (p, p + REC_HDR, *blen) != GUINT32_FROM_LE (crc))
    return 0;
  return REC_HDR + *blen;
}

static void
load_push (OvaSpool *s, guint64 seq, gchar *topic, GBytes *data, guint32 disk)
{
  if (s->len == 0)
    s->first_seq = seq;
  /* gaps (records lost to corruption) become acknowledged tombstones to keep seqs contiguous */
  while (s->first_seq + s->len < seq) {
    Rec t = { s->first_seq + s->len, TRUE, NULL, NULL, 0 };
    ring_push (s, t);
  }
  Rec r = { seq, FALSE, topic, data, disk };
  ring_push (s, r);
  s->st.pending++;
  s->st.recovered++;
}

static gint
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar **) a, *(const gchar **) b);
}

static gboolean
recover (OvaSpool *s, GError **error)
{
  guint64 acked_upto = 0;
  g_autofree gchar *ackp = g_build_filename (s->dir, ACK_FILE, NULL);
  g_autofree gchar *ackc = NULL;
  if (g_file_get_contents (ackp, &ackc, NULL, NULL))
    acked_upto = g_ascii_strtoull (ackc, NULL, 10);
  s->acked_written = acked_upto;

  GError *e = NULL;
  g_autoptr (GDir) d = g_dir_open (s->dir, 0, &e);
  if (!d) {
    g_set_error (error, OVA_MSG_ERROR, OVA_MSG_ERROR_IO, "spool: %s", e->message);
    g_error_free (e);
    return FALSE;
  }
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const gchar *n;
  while ((n = g_dir_read_name (d)))
    if (g_str_has_prefix (n, "seg-") && g_str_has_suffix (n, ".log"))
      g_ptr_array_add (names, g_strdup (n));
  g_ptr_array_sort (names, cmp_str);

  guint64 last_seen = 0;
  for (guint i = 0; i < names->len; i++) {
    g_autofree gchar *path = g_build_filename (s->dir, g_ptr_array_index (names, i), NULL);
    gchar *buf = NULL;
    gsize size = 0;
    if (!g_file_get_contents (path, &buf, &size, &e)) {
      g_set_error (error, OVA_MSG_ERROR, OVA_MSG_ERROR_IO, "spool: %s", e->message);
      g_error_free (e);
      return FALSE;
    }
    Seg *g = g_new0 (Seg, 1);
    g->path = g_strdup (path);
    g->bytes = size;
    gsize pos = 0, last_good_end = 0;
    gboolean in_bad = FALSE;
    while (pos < size) {
      guint64 seq;
      guint16 tlen;
      guint32 blen;
      gsize rs = parse_rec ((guint8 *) buf + pos, size - pos, &seq, &tlen, &blen);
      if (!rs || seq <= last_seen) {
        if (!in_bad) {
          s->st.corrupt++;
          g_warning ("spool %s: damaged record at byte %" G_GSIZE_FORMAT ": skipped", path, pos);
        }
        in_bad = TRUE;
        pos++;
        continue;
      }
      in_bad = FALSE;
      if (!g->first_seq)
        g->first_seq = seq;
      g->last_seq = seq;
      last_seen = seq;
      if (seq > acked_upto) {
        const gchar *body = buf + pos + REC_HDR;
        gchar *topic = tlen ? g_strndup (body, tlen) : NULL;
        load_push (s, seq, topic, g_bytes_new (body + tlen, blen - tlen), rs);
      }
      pos += rs;
      last_good_end = pos;
    }
    g_free (buf);
    if (!g->last_seq || g->last_seq <= acked_upto) {
      g_unlink (path);
      seg_free (g);
      continue;
    }
    if (last_good_end < size && in_bad) {
      /* a torn or damaged tail: cut it so the file stays parseable */
      if (truncate (path, last_good_end) == 0)
        g->bytes = last_good_end;
    }
    g_queue_push_tail (&s->segs, g);
    s->bytes += g->bytes;
  }
  s->next_seq = MAX (last_seen, acked_upto) + 1;
  s->synced_seq = s->next_seq - 1; /* what was read back is on disk */
  if (!s->len)
    s->first_seq = s->next_seq;
  return TRUE;
}

OvaSpoolFsync
ova_spool_fsync_from_string (const gchar *str, gboolean *ok)
{
  *ok = TRUE;
  if (!g_strcmp0 (str, "never") || !g_strcmp0 (str, "none"))
    return OVA_SPOOL_FSYNC_NEVER;
  if (!g_strcmp0 (str, "interval"))
    return OVA_SPOOL_FSYNC_INTERVAL;
  if (!g_strcmp0 (str, "always"))
    return OVA_SPOOL_FSYNC_ALWAYS;
  *ok = FALSE;
  return OVA_SPOOL_FSYNC_INTERVAL;
}

OvaSpool *
ova_spool_open (const gchar *dir, guint64 max_bytes, OvaSpoolFsync fsync, GError **error)
{
  OvaSpool *s = g_new0 (OvaSpool, 1);
  g_mutex_init (&s->lock);
  s->dir = g_strdup (dir);
  s->max_bytes = max_bytes ? max_bytes : 256u << 20;
  /* 8+ segments under the bound, so dropping one loses at most 1/8 of it */
  s->seg_size = CLAMP (s->max_bytes / 8, 4096, 64u << 20);
  s->fsync = fsync;
  s->fsync_interval_ms = 200;
  s->fd = -1;
  s->lock_fd = -1;
  s->first_seq = s->next_seq = 1;
  g_queue_init (&s->segs);
  if (dir) {
    if (g_mkdir_with_parents (dir, 0755) != 0) {
      g_set_error (error, OVA_MSG_ERROR, OVA_MSG_ERROR_IO, "spool: cannot create directory %s: %s",
                   dir, g_strerror (errno));
      ova_spool_close (s);
      return NULL;
    }
    g_autofree gchar *lockp = g_build_filename (dir, "lock", NULL);
    s->lock_fd = g_open (lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s->lock_fd < 0 || flock (s->lock_fd, LOCK_EX | LOCK_NB) != 0) {
      g_set_error (error, OVA_MSG_ERROR, OVA_MSG_ERROR_IO,
                   "spool %s: %s", dir, s->lock_fd < 0 ? g_strerror (errno)
                                                       : "in use by another publisher");
      ova_spool_close (s);
      return NULL;
    }
    if (!recover (s, error)) {
      ova_spool_close (s);
      return NULL;
    }
    if (s->st.recovered)
      g_message ("spool %s: %" G_GUINT64_FORMAT " unacknowledged records to re-send", dir,
                 s->st.recovered);
  }
  return s;
}

void
ova_spool_set_fsync_interval (OvaSpool *s, guint ms)
{
  s->fsync_interval_ms = ms;
}

guint64
ova_spool_append (OvaSpool *s, const gchar *topic, gconstpointer data, gsize len, GError **error)
{
  gsize tlen = topic ? strlen (topic) : 0;
  guint64 size = REC_HDR + tlen + len;
  if (tlen > G_MAXUINT16 || tlen + len > G_MAXUINT32 || size > s->max_bytes) {
    g_set_error (error, OVA_MSG_ERROR, OVA_MSG_ERROR_IO,
                 "spool: a record of %" G_GUINT64_FORMAT " bytes does not fit the bound of %"
                 G_GUINT64_FORMAT " bytes", size, s->max_bytes);
    return 0;
  }
  g_mutex_lock (&s->lock);
  while (s->bytes + size > s->max_bytes && drop_oldest (s))
    ;
  guint64 seq = s->next_seq;
  if (s->dir) {
    Seg *tail = g_queue_peek_tail (&s->segs);
    if (s->fd < 0 || !tail || tail->bytes >= s->seg_size) {
      if (!open_tail (s, error)) {
        g_mutex_unlock (&s->lock);
        return 0;
      }
      tail = g_queue_peek_tail (&s->segs);
    }
    guint8 hdr[REC_HDR];
    guint32 magic = GUINT32_TO_LE (REC_MAGIC), blen = GUINT32_TO_LE ((guint32) (tlen + len)), crc;
    guint64 seqle = GUINT64_TO_LE (seq);
    guint16 tl = GUINT16_TO_LE ((guint16) tlen), flags = 0;
    memcpy (hdr, &magic, 4);
    memcpy (hdr + 4, &blen, 4);
    memcpy (hdr + 8, &seqle, 8);
    memcpy (hdr + 16, &tl, 2);
    memcpy (hdr + 18, &flags, 2);
    uLong c = crc32 (0L, Z_NULL, 0);
    c = crc32 (c, hdr + 4, 16);
    /* crc32 (c, NULL, 0) would return the initial value: skip empty parts */
    if (tlen)
      c = crc32 (c, (const Bytef *) topic, tlen);
    if (len)
      c = crc32 (c, data, len);
    crc = GUINT32_TO_LE ((guint32) c);
    memcpy (hdr + 20, &crc, 4);
    struct iovec iov[3] = { { hdr, REC_HDR }, { (void *) topic, tlen }, { (void *) data, len } };
    gsize want = size, done = 0;
    while (done < want) {
      ssize_t w = writev (s->fd, iov, 3);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0 || (gsize) w != want) {
        /* a partial record would be cut at the next open; keep the file consistent now */
        int err = w < 0 ? errno : EIO;
        if (ftruncate (s->fd, tail->bytes) != 0) { /* nothing more to do */ }
        g_set_error (error, OVA_MSG_ERROR, OVA_MSG_ERROR_IO, "spool: write to %s failed: %s",
                     tail->path, g_strerror (err));
        g_mutex_unlock (&s->lock);
        return 0;
      }
      done = w;
    }
    if (!tail->first_seq)
      tail->first_seq = seq;
    tail->last_seq = seq;
    tail->bytes += size;
    /* fsync=always syncs in ova_spool_sync(), before the record is sent:
     * one fsync then covers every record appended meanwhile (group commit) */
    gint64 now = g_get_monotonic_time ();
    if (s->fsync == OVA_SPOOL_FSYNC_INTERVAL &&
        now - s->last_sync_us >= (gint64) s->fsync_interval_ms * 1000) {
      fdatasync (s->fd);
      s->last_sync_us = now;
    }
  }
  s->bytes += size;
  if (!s->len)
    s->first_seq = seq;
  Rec r = { seq, FALSE, g_strdup (topic), g_bytes_new (data, len), (guint32) size };
  ring_push (s, r);
  s->next_seq++;
  s->st.appended++;
  s->st.pending++;
  g_mutex_unlock (&s->lock);
  return seq;
}

void
ova_spool_sync (OvaSpool *s, guint64 upto)
{
  g_mutex_lock (&s->lock);
  if (s->fsync != OVA_SPOOL_FSYNC_ALWAYS || !s->dir || s->synced_seq >= upto || s->fd < 0) {
    g_mutex_unlock (&s->lock);
    return;
  }
  /* sync a duplicate outside the lock: appends go on meanwhile */
  guint64 target = s->next_seq - 1;
  int fd = dup (s->fd);
  g_mutex_unlock (&s->lock);
  if (fd < 0)
    return;
  int rc = fdatasync (fd);
  close (fd);
  if (rc == 0) {
    g_mutex_lock (&s->lock);
    s->synced_seq = MAX (s->synced_seq, target);
    g_mutex_unlock (&s->lock);
  } else {
    g_warning ("spool %s: fdatasync failed: %s", s->dir, g_strerror (errno));
  }
}

gboolean
ova_spool_next (OvaSpool *s, guint64 from, OvaSpoolRecord *out)
{
  gboolean found = FALSE;
  g_mutex_lock (&s->lock);
  guint64 start = MAX (from, s->first_seq);
  for (guint64 q = start; q < s->first_seq + s->len; q++) {
    Rec *r = ring_at (s, (guint) (q - s->first_seq));
    if (r->acked || !r->data)
      continue;
    out->seq = r->seq;
    out->topic = g_strdup (r->topic);
    out->data = g_bytes_ref (r->data);
    found = TRUE;
    break;
  }
  g_mutex_unlock (&s->lock);
  return found;
}

void
ova_spool_record_clear (OvaSpoolRecord *rec)
{
  g_clear_pointer (&rec->topic, g_free);
  g_clear_pointer (&rec->data, g_bytes_unref);
}

void
ova_spool_ack (OvaSpool *s, guint64 seq)
{
  g_mutex_lock (&s->lock);
  if (seq >= s->first_seq && seq < s->first_seq + s->len) {
    Rec *r = ring_at (s, (guint) (seq - s->first_seq));
    if (!r->acked && r->data) {
      r->acked = TRUE;
      s->st.acked++;
      s->st.pending--;
    }
    gboolean popped = FALSE;
    while (s->len && ring_at (s, 0)->acked) {
      if (!s->dir)
        s->bytes -= ring_at (s, 0)->disk;
      ring_pop (s, FALSE);
      popped = TRUE;
    }
    if (popped && s->dir) {
      gc_segments (s);
      if (g_get_monotonic_time () - s->last_ack_write_us > 200000)
        write_ack_file (s, FALSE);
    }
  }
  g_mutex_unlock (&s->lock);
}

guint64
ova_spool_first_pending (OvaSpool *s)
{
  g_mutex_lock (&s->lock);
  guint64 v = s->first_seq;
  for (guint i = 0; i < s->len; i++) {
    Rec *r = ring_at (s, i);
    if (!r->acked && r->data) {
      v = r->seq;
      break;
    }
    v = r->seq + 1;
  }
  g_mutex_unlock (&s->lock);
  return v;
}

void
ova_spool_get_stats (OvaSpool *s, OvaSpoolStats *st)
{
  g_mutex_lock (&s->lock);
  *st = s->st;
  st->bytes = s->bytes;
  g_mutex_unlock (&s->lock);
}

void
ova_spool_close (OvaSpool *s)
{
  if (!s)
    return;
  if (s->dir && s->segs.length)
    write_ack_file (s, s->fsync != OVA_SPOOL_FSYNC_NEVER);
  close_tail (s);
  /* a tail segment with nothing unacknowledged in it is not needed any more */
  while (s->len)
    ring_pop (s, FALSE);
  g_queue_clear_full (&s->segs, (GDestroyNotify) seg_free);
  if (s->lock_fd >= 0)
    close (s->lock_fd); /* releases the flock */
  g_free (s->ring);
  g_free (s->dir);
  g_mutex_clear (&s->lock);
  g_free (s);
}
