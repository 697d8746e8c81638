/* ova tests — the real thing: the sample video through ovamux, ovainfer
 * (YOLOX-Nano), ovatrack, ovamsgconv (ova compact) and ovamsgbroker to a real
 * mosquitto; a subscriber checks one message per frame, in order, with the
 * sensor from the msg2p config, persons found, and per tracker id exactly one
 * entry before any exit, the id present only in between.
 * SPDX-License-Identifier: MIT */
#include "servers.h"
#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <ova/msg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FRAMES 120

typedef struct {
  GMutex lock;
  GPtrArray *msgs; /* gchar*, in arrival order */
} Sub;

static void
on_msg (OvaMsgApiErrorType st, void *msg, int len, char *topic, void *user)
{
  Sub *s = user;
  g_mutex_lock (&s->lock);
  g_ptr_array_add (s->msgs, g_strndup (msg, len));
  g_mutex_unlock (&s->lock);
}

typedef struct {
  gboolean entered, exited;
  guint seen;
} Track;

/* The source delivers exactly FRAMES frames, then ends. Not identity
 * eos-after=N: it lets N-1 buffers through, answers EOS to the N-th, and
 * then passes whatever upstream still pushes (the decoder often sends one
 * more frame, from anywhere later in the file), so downstream got N-1 or N
 * frames depending on thread timing. Here every frame after the FRAMES-th
 * is refused with EOS, the answer upstream ends the stream on. Streaming
 * thread only. */
static GstPadProbeReturn
cut_after_frames (GstPad *pad, GstPadProbeInfo *info, gpointer user)
{
  guint *passed = user;
  if (*passed < FRAMES) {
    (*passed)++;
    return GST_PAD_PROBE_OK;
  }
  gst_buffer_unref (GST_PAD_PROBE_INFO_BUFFER (info));
  GST_PAD_PROBE_INFO_DATA (info) = NULL;
  GST_PAD_PROBE_INFO_FLOW_RETURN (info) = GST_FLOW_EOS;
  return GST_PAD_PROBE_HANDLED;
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_always_fatal (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL);
  gst_init (&argc, &argv);
  const gchar *src = g_getenv ("OVA_SOURCE_DIR");
  g_autofree gchar *video = g_build_filename (src ? src : ".", ".cache", "assets", "vtest.avi", NULL);
  g_autofree gchar *model = g_build_filename (src ? src : ".", ".cache", "assets", "yolox_nano.onnx", NULL);
  if (!g_file_test (video, G_FILE_TEST_EXISTS) || !g_file_test (model, G_FILE_TEST_EXISTS)) {
    printf ("SKIP: %s or %s missing (run tools/fetch-assets.sh)\n", video, model);
    return 77;
  }
  const gchar *need[] = { "ovamux", "ovainfer", "ovatrack", "ovamsgconv", "ovamsgbroker", "avidemux" };
  for (guint i = 0; i < G_N_ELEMENTS (need); i++) {
    GstElementFactory *f = gst_element_factory_find (need[i]);
    if (!f) {
      printf ("SKIP: element %s is not available\n", need[i]);
      return 77;
    }
    gst_object_unref (f);
  }
  if (!ova_test_server_available ("mosquitto")) {
    printf ("SKIP: mosquitto is not installed\n");
    return 77;
  }
  GError *e = NULL;
  OvaTestServer *srv = ova_test_server_start ("mosquitto", &e);
  g_assert_no_error (e);

  Sub s;
  g_mutex_init (&s.lock);
  s.msgs = g_ptr_array_new_with_free_func (g_free);
  OvaMsgAdapter *ad = ova_msg_adapter_load ("mqtt", &e);
  g_assert_no_error (e);
  g_autofree gchar *cs = ova_test_conn_str (srv->port, "ova/video");
  char *why = NULL;
  OvaMsgApiHandle h = ad->connect (cs, NULL, NULL, NULL, &why);
  g_assert_nonnull (h);
  char *topics[] = { "ova/video" };
  ad->subscribe (h, topics, 1, on_msg, &s);
  g_usleep (300000);

  g_autofree gchar *spool = g_build_filename (srv->dir, "spool", NULL);
  g_autofree gchar *desc = g_strdup_printf (
      "filesrc location=%s ! decodebin ! videoconvert name=conv ! m.sink_0 "
      "ovamux name=m batch-size=1 ! ovainfer config-file-path=%s/configs/yolox_nano.txt ! "
      "ovatrack ll-config-file=%s/configs/tracker_bytetrack.txt ! "
      "ovamsgconv payload-type=2 leave-frames=5 config=%s/configs/msg/msgconv.txt ! "
      "ovamsgbroker name=broker proto-lib=mqtt conn-str=\"%s\" spool-dir=%s",
      video, src, src, src, cs, spool);
  GstElement *pipe = gst_parse_launch (desc, &e);
  g_assert_no_error (e);
  guint passed = 0;
  GstElement *conv = gst_bin_get_by_name (GST_BIN (pipe), "conv");
  GstPad *conv_src = gst_element_get_static_pad (conv, "src");
  gst_pad_add_probe (conv_src, GST_PAD_PROBE_TYPE_BUFFER, cut_after_frames, &passed, NULL);
  gst_object_unref (conv_src);
  gst_object_unref (conv);
  g_assert_cmpint (gst_element_set_state (pipe, GST_STATE_PLAYING), !=, GST_STATE_CHANGE_FAILURE);
  GstBus *bus = gst_element_get_bus (pipe);
  GstMessage *m = gst_bus_timed_pop_filtered (bus, 240 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (m);
  if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
    GError *err = NULL;
    gchar *dbg = NULL;
    gst_message_parse_error (m, &err, &dbg);
    g_error ("pipeline error: %s (%s)", err->message, dbg);
  }
  gst_message_unref (m);
  g_assert_cmpuint (passed, ==, FRAMES); /* the clip is longer than FRAMES frames */
  GstElement *broker = gst_bin_get_by_name (GST_BIN (pipe), "broker");
  GstStructure *st = NULL;
  guint64 acked = 0, queued = 0, dropped = 0;
  gint64 end = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end) {
    g_object_get (broker, "stats", &st, NULL);
    gst_structure_get_uint64 (st, "acked", &acked);
    gst_structure_get_uint64 (st, "queued", &queued);
    gst_structure_get_uint64 (st, "dropped", &dropped);
    gchar *txt = gst_structure_to_string (st);
    if (acked >= queued && queued >= FRAMES)
      g_print ("broker %s\n", txt);
    g_free (txt);
    gst_structure_free (st);
    if (acked >= queued && queued >= FRAMES)
      break;
    g_usleep (50000);
  }
  gst_object_unref (broker);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipe);
  /* One payload per frame, plus the exits at the end of the stream when they
   * did not already ride on the last frame's buffer; every one acknowledged. */
  g_assert_cmpuint (queued, >=, FRAMES);
  g_assert_cmpuint (queued, <=, FRAMES + 1);
  g_assert_cmpuint (dropped, ==, 0);
  g_assert_cmpuint (acked, ==, queued);
  end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end) {
    g_mutex_lock (&s.lock);
    guint n = s.msgs->len;
    g_mutex_unlock (&s.lock);
    if (n >= queued)
      break;
    g_usleep (20000);
  }
  ad->disconnect (h);
  ova_msg_adapter_free (ad);

  /* one message per frame, in order (QoS 1 on one connection keeps it), then
   * one with the exits of everything still present at the end (unless they
   * rode on the last frame's payload) */
  g_assert_cmpuint (s.msgs->len, ==, queued);
  GHashTable *tracks = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  guint persons = 0, entries = 0, exits = 0, reentries = 0;
  for (guint i = 0; i < s.msgs->len; i++) {
    g_autoptr (JsonParser) jp = json_parser_new ();
    g_assert_true (json_parser_load_from_data (jp, g_ptr_array_index (s.msgs, i), -1, NULL));
    JsonObject *o = json_node_get_object (json_parser_get_root (jp));
    g_assert_cmpint (json_object_get_int_member (o, "frame"), ==, MIN (i, FRAMES - 1));
    if (i == FRAMES)
      g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "objs")), ==, 0);
    g_assert_cmpstr (json_object_get_string_member (o, "sensor"), ==, "CAM_ENTRANCE_0");
    JsonArray *ev = json_object_get_array_member (o, "events");
    for (guint j = 0; j < json_array_get_length (ev); j++) {
      JsonObject *x = json_array_get_object_element (ev, j);
      gint64 id = json_object_get_int_member (x, "id");
      const gchar *type = json_object_get_string_member (x, "type");
      Track *t = g_hash_table_lookup (tracks, &id);
      if (!g_strcmp0 (type, "entry")) {
        /* entries and exits alternate per id: an id absent longer than
         * leave-frames and found again by the tracker enters again */
        if (!t) {
          t = g_new0 (Track, 1);
          g_hash_table_insert (tracks, g_memdup2 (&id, sizeof id), t);
        } else {
          g_assert_true (t->exited);
          reentries++;
        }
        t->entered = TRUE;
        t->exited = FALSE;
        entries++;
      } else {
        g_assert_cmpstr (type, ==, "exit");
        g_assert_nonnull (t);
        g_assert_false (t->exited);
        t->exited = TRUE;
        exits++;
      }
    }
    JsonArray *objs = json_object_get_array_member (o, "objs");
    for (guint j = 0; j < json_array_get_length (objs); j++) {
      JsonObject *x = json_array_get_object_element (objs, j);
      gint64 id = json_object_get_int_member (x, "id");
      if (!g_strcmp0 (json_object_get_string_member (x, "label"), "person"))
        persons++;
      if (id < 0)
        continue;
      Track *t = g_hash_table_lookup (tracks, &id);
      g_assert_nonnull (t);      /* entered before (or in) this frame */
      g_assert_false (t->exited); /* not after its exit */
      t->seen++;
    }
  }
  /* at the end every track that entered has exited */
  GHashTableIter it;
  gpointer tv;
  g_hash_table_iter_init (&it, tracks);
  while (g_hash_table_iter_next (&it, NULL, &tv))
    g_assert_true (((Track *) tv)->exited);
  printf ("%u frames, %u person boxes, %u entries (%u of them again after an exit), %u exits\n",
          FRAMES, persons, entries, reentries, exits);
  g_assert_cmpuint (persons, >, FRAMES); /* people walk through the whole clip */
  g_assert_cmpuint (entries, >=, 2);
  g_assert_cmpuint (exits, >=, 1);
  g_hash_table_unref (tracks);
  g_ptr_array_unref (s.msgs);
  g_mutex_clear (&s.lock);
  ova_test_server_free (srv);
  return 0;
}
