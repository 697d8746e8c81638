/* ova — per-frame latency records. SPDX-License-Identifier: MIT
 *
 * Elements stamp entry and exit on the frames they handle; the app (or any
 * pad probe) reads the record at the end of the pipeline. Off unless
 * OVA_LATENCY=1 so the default path costs one predictable branch. */
#include "meta-private.h"
#include <stdlib.h>
#include <string.h>

static gint latency_state = -1; /* -1 unknown, 0 off, 1 on */

gboolean
ova_latency_enabled (void)
{
  gint s = g_atomic_int_get (&latency_state);
  if (G_UNLIKELY (s < 0)) {
    const gchar *e = g_getenv ("OVA_LATENCY");
    s = (e && *e && strcmp (e, "0") != 0) ? 1 : 0;
    g_atomic_int_set (&latency_state, s);
  }
  return s == 1;
}

void ova_latency_set_enabled (gboolean on) { g_atomic_int_set (&latency_state, on ? 1 : 0); }
guint64 ova_latency_now_ns (void) { return (guint64) g_get_monotonic_time () * 1000; }

void
ova_frame_meta_latency_enter (OvaFrameMeta *f, const gchar *component)
{
  OvaLatencyRecord *r = &f->latency;
  if (!ova_latency_enabled () || r->n_entries >= OVA_MAX_LATENCY_ENTRIES)
    return;
  r->entries[r->n_entries].component = g_intern_string (component);
  r->entries[r->n_entries].in_ns = ova_latency_now_ns ();
  r->entries[r->n_entries].out_ns = 0;
  r->n_entries++;
}

void
ova_frame_meta_latency_exit (OvaFrameMeta *f, const gchar *component)
{
  OvaLatencyRecord *r = &f->latency;
  const gchar *c;
  if (!ova_latency_enabled ())
    return;
  c = g_intern_string (component);
  for (gint i = (gint) r->n_entries - 1; i >= 0; i--)
    if (r->entries[i].component == c && r->entries[i].out_ns == 0) {
      r->entries[i].out_ns = ova_latency_now_ns ();
      return;
    }
}

void
ova_batch_meta_latency_enter (OvaBatchMeta *b, const gchar *component)
{
  if (!ova_latency_enabled ())
    return;
  for (guint i = 0; i < b->frames->len; i++)
    ova_frame_meta_latency_enter (g_ptr_array_index (b->frames, i), component);
}

void
ova_batch_meta_latency_exit (OvaBatchMeta *b, const gchar *component)
{
  if (!ova_latency_enabled ())
    return;
  for (guint i = 0; i < b->frames->len; i++)
    ova_frame_meta_latency_exit (g_ptr_array_index (b->frames, i), component);
}
