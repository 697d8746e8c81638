/* ova tests — ovamsgconv and ovamsgbroker in GstHarness: payload meta on the
 * buffers, every payload at an independent MQTT subscriber, cloud-to-device
 * commands through the "command" signal, clear errors for bad settings.
 * SPDX-License-Identifier: MIT */
#include "servers.h"
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>
#include <json-glib/json-glib.h>
#include <ova/msg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static OvaTestServer *srv;
static gchar *tmpdir;

static GstBuffer *
batch_buffer (guint64 frame, gint n_objects)
{
  GstBuffer *buf = gst_buffer_new ();
  GST_BUFFER_PTS (buf) = frame * GST_SECOND / 10;
  OvaBatchMeta *b = ova_buffer_add_batch_meta (buf, 2, NULL);
  for (guint s = 0; s < 2; s++) {
    OvaFrameMeta *f = ova_batch_meta_acquire_frame (b);
    f->source_id = s;
    f->frame_num = frame;
    f->buf_pts = GST_BUFFER_PTS (buf);
    ova_batch_meta_add_frame (b, f);
    for (gint i = 0; i < n_objects; i++) {
      OvaObjectMeta *o = ova_batch_meta_acquire_object (b);
      o->tracker_id = i;
      o->component_id = 1;
      o->confidence = 0.9f;
      ova_object_meta_set_label (o, "person");
      o->rect = (OvaRect) { 10.0f * i, 20, 30, 60 };
      ova_frame_meta_add_object (f, o);
    }
  }
  return buf;
}

static void
test_conv (void)
{
  /* properties in the launch line: gst_harness_new() would start the element first */
  GstHarness *h = gst_harness_new_parse ("ovamsgconv payload-type=0 topic=ova/x");
  gst_harness_set_src_caps_str (h, "video/x-raw");
  GstBuffer *out = gst_harness_push_and_pull (h, batch_buffer (0, 3));
  OvaMsgPayloadMeta *m = ova_buffer_get_msg_payload_meta (out);
  g_assert_nonnull (m);
  g_assert_cmpuint (m->payloads->len, ==, 6); /* full schema: one per object, 2 sources x 3 */
  OvaMsgPayload *p = g_ptr_array_index (m->payloads, 4);
  g_assert_cmpuint (p->source_id, ==, 1);
  g_assert_cmpstr (p->topic, ==, "ova/x");
  gsize len;
  const gchar *json = g_bytes_get_data (p->data, &len);
  g_autoptr (JsonParser) jp = json_parser_new ();
  g_assert_true (json_parser_load_from_data (jp, json, len, NULL));
  JsonObject *o = json_node_get_object (json_parser_get_root (jp));
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (o, "event"), "type"), ==, "entry");
  g_assert_true (ova_buffer_get_batch_meta (out) != NULL); /* metadata passes through */
  gst_buffer_unref (out);
  /* no batch meta: nothing attached, buffer passes */
  out = gst_harness_push_and_pull (h, gst_buffer_new ());
  g_assert_null (ova_buffer_get_msg_payload_meta (out));
  gst_buffer_unref (out);
  gst_harness_teardown (h);

  /* minimal schema with frame-interval 2: payloads on every other batch, one per frame */
  h = gst_harness_new_parse ("ovamsgconv payload-type=1 frame-interval=2");
  gst_harness_set_src_caps_str (h, "video/x-raw");
  for (guint64 f = 0; f < 4; f++) {
    out = gst_harness_push_and_pull (h, batch_buffer (f, 2));
    m = ova_buffer_get_msg_payload_meta (out);
    if (f % 2) {
      g_assert_null (m);
    } else {
      g_assert_nonnull (m);
      if (m->payloads->len != 2)
        g_error ("frame %" G_GUINT64_FORMAT ": %u payloads", f, m->payloads->len);
    }
    gst_buffer_unref (out);
  }
  /* a source ends: its exits come with the next buffer */
  gst_harness_push_event (h, ova_event_new_stream (OVA_EVENT_STREAM_EOS, 0));
  gst_harness_teardown (h);

  /* compact: entries, then at EOS the exits of everything still present */
  h = gst_harness_new_parse ("ovamsgconv payload-type=2");
  gst_harness_set_src_caps_str (h, "video/x-raw");
  gst_buffer_unref (gst_harness_push_and_pull (h, batch_buffer (0, 2)));
  gst_harness_push_event (h, gst_event_new_eos ());
  out = gst_harness_pull (h);
  m = ova_buffer_get_msg_payload_meta (out);
  g_assert_nonnull (m);
  g_assert_cmpuint (m->payloads->len, ==, 2); /* one compact line per source */
  for (guint i = 0; i < 2; i++) {
    OvaMsgPayload *pl = g_ptr_array_index (m->payloads, i);
    g_assert_cmpuint (pl->source_id, ==, i);
    gsize n;
    const gchar *js = g_bytes_get_data (pl->data, &n);
    g_autofree gchar *txt = g_strndup (js, n);
    g_assert_nonnull (strstr (txt, "\"events\":[{\"type\":\"exit\",\"id\":0},{\"type\":\"exit\",\"id\":1}]"));
  }
  gst_buffer_unref (out);
  gst_harness_teardown (h);
}

static void
test_conv_errors (void)
{
  GstElement *e = gst_element_factory_make ("ovamsgconv", NULL);
  g_object_set (e, "config", "/nonexistent/msgconv.txt", NULL);
  GstBus *bus = gst_bus_new ();
  gst_element_set_bus (e, bus);
  g_assert_cmpint (gst_element_set_state (e, GST_STATE_PAUSED), ==, GST_STATE_CHANGE_FAILURE);
  GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  GError *err = NULL;
  gst_message_parse_error (msg, &err, NULL);
  g_assert_nonnull (strstr (err->message, "/nonexistent/msgconv.txt"));
  g_error_free (err);
  gst_message_unref (msg);
  gst_element_set_state (e, GST_STATE_NULL);
  gst_element_set_bus (e, NULL);
  gst_object_unref (bus);
  gst_object_unref (e);
}

typedef struct {
  GMutex lock;
  guint count;
  GHashTable *seen;
  guint commands;
  gchar *uri;
} Sub;

static void
on_msg (OvaMsgApiErrorType st, void *msg, int len, char *topic, void *user)
{
  Sub *s = user;
  g_mutex_lock (&s->lock);
  g_hash_table_add (s->seen, g_strndup (msg, len));
  s->count++;
  g_mutex_unlock (&s->lock);
}

static void
on_command (GstElement *e, GstStructure *st, gpointer user)
{
  Sub *s = user;
  g_mutex_lock (&s->lock);
  s->commands++;
  g_free (s->uri);
  s->uri = g_strdup (gst_structure_get_string (st, "uri"));
  g_mutex_unlock (&s->lock);
}

static guint
sub_count (Sub *s, gboolean commands)
{
  g_mutex_lock (&s->lock);
  guint n = commands ? s->commands : g_hash_table_size (s->seen);
  g_mutex_unlock (&s->lock);
  return n;
}

static void
test_broker (void)
{
  if (!srv) {
    g_test_skip ("mosquitto is not installed");
    return;
  }
  Sub s = { 0 };
  g_mutex_init (&s.lock);
  s.seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GError *e = NULL;
  OvaMsgAdapter *ad = ova_msg_adapter_load ("mqtt", &e);
  g_assert_no_error (e);
  g_autofree gchar *cs = ova_test_conn_str (srv->port, "ova/events");
  char *why = NULL;
  OvaMsgApiHandle sub = ad->connect (cs, NULL, NULL, NULL, &why);
  g_assert_nonnull (sub);
  char *topics[] = { "ova/events" };
  ad->subscribe (sub, topics, 1, on_msg, &s);
  g_usleep (300000); /* the subscription reaches the broker */

  g_autofree gchar *spool = g_build_filename (tmpdir, "spool", NULL);
  g_autofree gchar *pipe = g_strdup_printf (
      "ovamsgconv payload-type=2 ! ovamsgbroker proto-lib=libnvds_mqtt_proto.so conn-str=\"%s\" "
      "spool-dir=%s subscribe-topics=ova/cmd fsync=always", cs, spool);
  GstHarness *h = gst_harness_new_parse (pipe);
  GstElement *broker = gst_harness_find_element (h, "ovamsgbroker");
  g_signal_connect (broker, "command", G_CALLBACK (on_command), &s);
  gst_harness_set_src_caps_str (h, "video/x-raw");
  for (guint64 f = 0; f < 50; f++)
    g_assert_cmpint (gst_harness_push (h, batch_buffer (f, 2)), ==, GST_FLOW_OK);
  /* compact payloads: one per frame and source */
  gint64 end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (sub_count (&s, FALSE) < 100 && g_get_monotonic_time () < end)
    g_usleep (20000);
  g_assert_cmpuint (sub_count (&s, FALSE), ==, 100);
  /* every (source, frame) once; frame 0 carries the entries of tracks 0 and 1 */
  guint8 got[2][50] = { { 0 } };
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init (&it, s.seen);
  while (g_hash_table_iter_next (&it, &key, NULL)) {
    g_autoptr (JsonParser) jp = json_parser_new ();
    g_assert_true (json_parser_load_from_data (jp, key, -1, NULL));
    JsonObject *o = json_node_get_object (json_parser_get_root (jp));
    gint64 src = json_object_get_int_member (o, "src"), frame = json_object_get_int_member (o, "frame");
    g_assert_cmpint (src, <, 2);
    g_assert_cmpint (frame, <, 50);
    got[src][frame]++;
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "objs")), ==, 2);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "events")), ==,
                      frame == 0 ? 2 : 0);
  }
  for (guint i = 0; i < 2; i++)
    for (guint f = 0; f < 50; f++)
      g_assert_cmpuint (got[i][f], ==, 1);

  /* cloud to device: one accepted, one rejected */
  g_autofree gchar *ccs = ova_test_conn_str (srv->port, "ova/cmd");
  OvaMsgApiHandle cmd = ad->connect (ccs, NULL, NULL, NULL, &why);
  const char *good = "{\"command\":\"add-source\",\"uri\":\"rtsp://cam/1\"}";
  const char *bad = "{\"command\":\"add-source\"}";
  end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (!sub_count (&s, TRUE) && g_get_monotonic_time () < end) {
    ad->send (cmd, NULL, (const uint8_t *) good, strlen (good));
    g_usleep (200000);
  }
  ad->send (cmd, NULL, (const uint8_t *) bad, strlen (bad));
  GstStructure *st = NULL;
  end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  guint64 rejected = 0, acked = 0;
  while (g_get_monotonic_time () < end) {
    g_object_get (broker, "stats", &st, NULL);
    gst_structure_get_uint64 (st, "rejected", &rejected);
    gst_structure_get_uint64 (st, "acked", &acked);
    gst_structure_free (st);
    if (rejected)
      break;
    g_usleep (20000);
  }
  g_assert_cmpuint (rejected, ==, 1);
  g_assert_cmpuint (acked, ==, 100);
  g_assert_cmpuint (sub_count (&s, TRUE), >=, 1);
  g_assert_cmpstr (s.uri, ==, "rtsp://cam/1");
  ad->disconnect (cmd);
  gst_object_unref (broker);
  gst_harness_teardown (h);
  ad->disconnect (sub);
  ova_msg_adapter_free (ad);
  g_hash_table_unref (s.seen);
  g_free (s.uri);
  g_mutex_clear (&s.lock);
}

/* comp-id: only payloads of the matching converter are sent. */
static void
test_broker_comp_id (void)
{
  if (!srv) {
    g_test_skip ("mosquitto is not installed");
    return;
  }
  g_autofree gchar *cs = ova_test_conn_str (srv->port, "ova/comp");
  g_autofree gchar *pipe = g_strdup_printf ("ovamsgbroker comp-id=7 proto-lib=mqtt conn-str=\"%s\"", cs);
  GstHarness *h = gst_harness_new_parse (pipe);
  gst_harness_set_src_caps_str (h, "video/x-raw");
  for (guint i = 0; i < 10; i++) {
    GstBuffer *b = gst_buffer_new ();
    OvaMsgPayloadMeta *m = ova_buffer_add_msg_payload_meta (b);
    ova_msg_payload_meta_add (m, NULL, "{\"a\":1}", 7, 0, i % 2 ? 7 : 3, i);
    g_assert_cmpint (gst_harness_push (h, b), ==, GST_FLOW_OK);
  }
  GstElement *broker = gst_harness_find_element (h, "ovamsgbroker");
  GstStructure *st = NULL;
  g_object_get (broker, "stats", &st, NULL);
  guint64 queued = 0;
  gst_structure_get_uint64 (st, "queued", &queued);
  g_assert_cmpuint (queued, ==, 5);
  gst_structure_free (st);
  gst_object_unref (broker);
  gst_harness_teardown (h);
}

static void
test_broker_errors (void)
{
  struct { const gchar *lib, *conn, *expect; } cases[] = {
    { "nosuchproto", "127.0.0.1;1883", "nosuchproto" },
    { "mqtt", "127.0.0.1", "connection string" },
    { "mqtt", NULL, "connection string" },
  };
  g_autofree gchar *refused = g_strdup_printf ("127.0.0.1;%u", ova_test_free_port ());
  for (guint i = 0; i < G_N_ELEMENTS (cases) + 1; i++) {
    GstElement *e = gst_element_factory_make ("ovamsgbroker", NULL);
    if (i < G_N_ELEMENTS (cases))
      g_object_set (e, "proto-lib", cases[i].lib, "conn-str", cases[i].conn, NULL);
    else
      g_object_set (e, "proto-lib", "mqtt", "conn-str", refused, NULL);
    GstBus *bus = gst_bus_new ();
    gst_element_set_bus (e, bus);
    g_assert_cmpint (gst_element_set_state (e, GST_STATE_PAUSED), ==, GST_STATE_CHANGE_FAILURE);
    GstMessage *msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
    g_assert_nonnull (msg);
    GError *err = NULL;
    gst_message_parse_error (msg, &err, NULL);
    const gchar *expect = i < G_N_ELEMENTS (cases) ? cases[i].expect : "refused";
    if (!strstr (err->message, expect))
      g_error ("'%s' lacks '%s'", err->message, expect);
    g_error_free (err);
    gst_message_unref (msg);
    gst_element_set_state (e, GST_STATE_NULL);
    gst_element_set_bus (e, NULL);
    gst_object_unref (bus);
    gst_object_unref (e);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);
  g_log_set_always_fatal (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL);
  tmpdir = g_dir_make_tmp ("ova-msg-el-XXXXXX", NULL);
  if (ova_test_server_available ("mosquitto")) {
    GError *e = NULL;
    srv = ova_test_server_start ("mosquitto", &e);
    if (!srv)
      g_error ("mosquitto: %s", e->message);
  }
  g_test_add_func ("/msg/elements/conv", test_conv);
  g_test_add_func ("/msg/elements/conv-errors", test_conv_errors);
  g_test_add_func ("/msg/elements/broker", test_broker);
  g_test_add_func ("/msg/elements/broker-comp-id", test_broker_comp_id);
  g_test_add_func ("/msg/elements/broker-errors", test_broker_errors);
  int rc = g_test_run ();
  ova_test_server_free (srv);
  g_autofree gchar *cmd = g_strdup_printf ("rm -rf '%s'", tmpdir);
  if (system (cmd) != 0) { }
  g_free (tmpdir);
  return rc;
}
