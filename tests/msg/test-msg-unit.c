/* ova tests — payloads (DeepStream full and minimal schemas, ova compact),
 * entry/exit events, frame-interval, comp-id, msg2p config parsing and its
 * errors, connection strings, cloud-to-device command parsing.
 * SPDX-License-Identifier: MIT */
#include <ova/msg.h>
#include <json-glib/json-glib.h>
#include <glib/gstdio.h>
#include <string.h>

static gchar *tmpdir;

/* LeakSanitizer: GLib's constructor allocates its first quark block once, and
 * it is dropped (not freed) when gst_init's many quarks outgrow it; nothing
 * else allocated from a library initialiser is ours. */
const char *__lsan_default_suppressions (void);
const char *
__lsan_default_suppressions (void)
{
  return "leak:_dl_init\n";
}

/* GLib is built without frame pointers: unwind slowly so stacks reach _dl_init */
const char *__asan_default_options (void);
const char *
__asan_default_options (void)
{
  return "fast_unwind_on_malloc=0";
}

static gchar *
write_file (const gchar *name, const gchar *body)
{
  gchar *p = g_build_filename (tmpdir, name, NULL);
  g_assert_true (g_file_set_contents (p, body, -1, NULL));
  return p;
}

static JsonObject *
parse (const gchar *json, JsonParser **keep)
{
  *keep = json_parser_new ();
  GError *e = NULL;
  g_assert_true (json_parser_load_from_data (*keep, json, -1, &e));
  g_assert_no_error (e);
  return json_node_get_object (json_parser_get_root (*keep));
}

/* A batch with one frame of @source holding objects (tracker id, label, box). */
typedef struct { gint64 tid; const gchar *label; gfloat l, t, w, h; guint comp; } Obj;

static GstBuffer *
make_batch (guint source, guint64 frame_num, const Obj *objs, guint n)
{
  GstBuffer *buf = gst_buffer_new ();
  OvaBatchMeta *b = ova_buffer_add_batch_meta (buf, 1, NULL);
  OvaFrameMeta *f = ova_batch_meta_acquire_frame (b);
  f->source_id = source;
  f->frame_num = frame_num;
  f->buf_pts = frame_num * GST_SECOND / 10;
  f->ntp_timestamp = G_GUINT64_CONSTANT (1700000000123000000) + frame_num * 100000000;
  ova_batch_meta_add_frame (b, f);
  for (guint i = 0; i < n; i++) {
    OvaObjectMeta *o = ova_batch_meta_acquire_object (b);
    o->tracker_id = objs[i].tid;
    o->class_id = 0;
    o->confidence = 0.5f;
    o->component_id = objs[i].comp ? objs[i].comp : 1;
    ova_object_meta_set_label (o, objs[i].label);
    o->rect = (OvaRect) { objs[i].l, objs[i].t, objs[i].w, objs[i].h };
    ova_frame_meta_add_object (f, o);
  }
  return buf;
}

static GPtrArray *
convert (OvaMsgConverter *c, GstBuffer *buf)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  OvaBatchMeta *b = ova_buffer_get_batch_meta (buf);
  ova_msg_converter_convert_frame (c, ova_batch_meta_get_frame (b, 0), out);
  return out;
}

static const gchar *MSGCONV =
  "[sensor0]\nenable=1\ntype=Camera\nid=CAM_0\nlocation=45.29;-75.83;48.15\n"
  "description=Entrance camera\ncoordinate=5.2;10.1;11.2\n\n"
  "[place0]\nenable=1\nid=1\ntype=building/entrance\nname=HQ\nlocation=30.32;-40.55;100.0\n"
  "coordinate=1.0;2.0;3.0\nplace-sub-field1=Door A\nplace-sub-field2=Lane 1\nplace-sub-field3=L0\n\n"
  "[analytics0]\nenable=1\nid=XYZ_1\ndescription=People counting\nsource=ova\nversion=1.0\n\n"
  "[sensor1]\nenable=0\nid=OFF\n";

static void
test_config (void)
{
  g_autofree gchar *p = write_file ("msgconv.txt", MSGCONV);
  GError *e = NULL;
  OvaMsgConvConfig *cfg = ova_msg_conv_config_load (p, &e);
  g_assert_no_error (e);
  const OvaMsgSensor *s = ova_msg_conv_config_sensor (cfg, 0);
  g_assert_cmpstr (s->id, ==, "CAM_0");
  g_assert_cmpfloat_with_epsilon (s->location[1], -75.83, 1e-9);
  g_assert_null (ova_msg_conv_config_sensor (cfg, 1)); /* disabled */
  g_assert_null (ova_msg_conv_config_sensor (cfg, 7));
  g_assert_cmpstr (ova_msg_conv_config_place (cfg, 0)->sub_field[0], ==, "Door A");
  g_assert_cmpstr (ova_msg_conv_config_analytics (cfg, 0)->id, ==, "XYZ_1");
  ova_msg_conv_config_free (cfg);

  struct { const gchar *body, *expect[3]; } bad[] = {
    { "[sensor0]\nlocation=1;2\n", { "[sensor0]", "location", "three numbers" } },
    { "[sensor0]\nenable=maybe\n", { "[sensor0]", "enable", "maybe" } },
    { "[place3]\nflavour=salty\n", { "[place3]", "flavour", "unknown key" } },
    { "[camera0]\nid=1\n", { "[camera0]", "unknown group", NULL } },
    { "[sensor0\nid=1\n", { "bad.txt", NULL, NULL } },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autofree gchar *bp = write_file ("bad.txt", bad[i].body);
    g_assert_null (ova_msg_conv_config_load (bp, &e));
    g_assert_error (e, OVA_MSG_ERROR, OVA_MSG_ERROR_CONFIG);
    g_assert_nonnull (strstr (e->message, "bad.txt"));
    for (guint j = 0; j < 3 && bad[i].expect[j]; j++)
      if (!strstr (e->message, bad[i].expect[j]))
        g_error ("'%s' lacks '%s'", e->message, bad[i].expect[j]);
    g_clear_error (&e);
  }
  /* the sample shipped in configs/msg */
  g_autofree gchar *sample = g_build_filename (g_getenv ("OVA_SOURCE_DIR") ? g_getenv ("OVA_SOURCE_DIR") : ".",
                                               "configs", "msg", "msgconv.txt", NULL);
  cfg = ova_msg_conv_config_load (sample, &e);
  g_assert_no_error (e);
  g_assert_cmpstr (ova_msg_conv_config_sensor (cfg, 0)->id, ==, "CAM_ENTRANCE_0");
  ova_msg_conv_config_free (cfg);
  g_assert_null (ova_msg_conv_config_load ("/nonexistent/msgconv.txt", &e));
  g_assert_nonnull (strstr (e->message, "/nonexistent/msgconv.txt"));
  g_clear_error (&e);
}

static void
test_full_schema (void)
{
  g_autofree gchar *p = write_file ("msgconv.txt", MSGCONV);
  OvaMsgConverter *c = ova_msg_converter_new (ova_msg_conv_config_load (p, NULL),
                                              OVA_PAYLOAD_DEEPSTREAM, 0, 1);
  ova_msg_converter_set_leave_frames (c, 2);
  Obj o1[] = { { 7, "person", 10, 20, 30, 40 }, { OVA_UNTRACKED, "car", 1, 2, 3, 4 } };
  GstBuffer *b = make_batch (0, 0, o1, 2);
  g_autoptr (GPtrArray) out = convert (c, b);
  g_assert_cmpuint (out->len, ==, 2);
  JsonParser *jp;
  JsonObject *m = parse (g_ptr_array_index (out, 0), &jp);
  g_assert_cmpstr (json_object_get_string_member (m, "@timestamp"), ==, "2023-11-14T22:13:20.123Z");
  g_assert_cmpuint (strlen (json_object_get_string_member (m, "messageid")), ==, 36);
  JsonObject *sensor = json_object_get_object_member (m, "sensor");
  g_assert_cmpstr (json_object_get_string_member (sensor, "id"), ==, "CAM_0");
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (
      json_object_get_object_member (sensor, "location"), "lat"), 45.29, 1e-9);
  JsonObject *place = json_object_get_object_member (m, "place");
  g_assert_cmpstr (json_object_get_string_member (place, "name"), ==, "HQ");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (place, "entrance"), "lane"), ==, "Lane 1");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (m, "analyticsModule"), "id"), ==, "XYZ_1");
  JsonObject *obj = json_object_get_object_member (m, "object");
  g_assert_cmpstr (json_object_get_string_member (obj, "id"), ==, "7");
  g_assert_true (json_object_has_member (obj, "person"));
  JsonObject *bbox = json_object_get_object_member (obj, "bbox");
  g_assert_cmpfloat (json_object_get_double_member (bbox, "bottomrightx"), ==, 40);
  g_assert_cmpfloat (json_object_get_double_member (bbox, "bottomrighty"), ==, 60);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (m, "event"), "type"), ==, "entry");
  g_object_unref (jp);
  m = parse (g_ptr_array_index (out, 1), &jp);
  obj = json_object_get_object_member (m, "object");
  g_assert_cmpstr (json_object_get_string_member (obj, "id"), ==, "-1");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (obj, "vehicle"), "type"), ==, "car");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (m, "event"), "type"), ==, "detected");
  g_object_unref (jp);
  gst_buffer_unref (b);

  /* frame 1: 7 again → moving */
  b = make_batch (0, 1, o1, 1);
  g_autoptr (GPtrArray) out2 = convert (c, b);
  m = parse (g_ptr_array_index (out2, 0), &jp);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (m, "event"), "type"), ==, "moving");
  g_object_unref (jp);
  gst_buffer_unref (b);
  /* frames 2, 3 without 7 → exit after 2 frames, with its last box */
  for (guint64 f = 2; f < 4; f++) {
    b = make_batch (0, f, NULL, 0);
    g_autoptr (GPtrArray) o = convert (c, b);
    g_assert_cmpuint (o->len, ==, f == 3 ? 1 : 0);
    if (f == 3) {
      m = parse (g_ptr_array_index (o, 0), &jp);
      g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (m, "event"), "type"), ==, "exit");
      g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (m, "object"), "id"), ==, "7");
      g_object_unref (jp);
    }
    gst_buffer_unref (b);
  }
  ova_msg_converter_free (c);
}

static void
test_minimal_and_compact (void)
{
  Obj o1[] = { { 3, "person", 10, 20, 30, 40 }, { 4, "car", 0, 0, 5, 5, 2 } };
  OvaMsgConverter *c = ova_msg_converter_new (NULL, OVA_PAYLOAD_DEEPSTREAM_MINIMAL, 0, 1);
  GstBuffer *b = make_batch (2, 42, o1, 2);
  g_autoptr (GPtrArray) out = convert (c, b);
  g_assert_cmpuint (out->len, ==, 1);
  JsonParser *jp;
  JsonObject *m = parse (g_ptr_array_index (out, 0), &jp);
  g_assert_cmpstr (json_object_get_string_member (m, "id"), ==, "42");
  g_assert_cmpstr (json_object_get_string_member (m, "sensorId"), ==, "2");
  JsonArray *objs = json_object_get_array_member (m, "objects");
  g_assert_cmpuint (json_array_get_length (objs), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (objs, 0), ==, "3|10|20|40|60|person");
  g_object_unref (jp);
  ova_msg_converter_free (c);

  /* compact, comp-id 2: only the car; entry event for it; frame-interval 2 */
  c = ova_msg_converter_new (NULL, OVA_PAYLOAD_OVA_COMPACT, 2, 2);
  g_autoptr (GPtrArray) o2 = convert (c, b);
  g_assert_cmpuint (o2->len, ==, 1);
  g_assert_null (strchr (g_ptr_array_index (o2, 0), '\n'));
  m = parse (g_ptr_array_index (o2, 0), &jp);
  g_assert_cmpint (json_object_get_int_member (m, "src"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (m, "frame"), ==, 42);
  g_assert_cmpint (json_object_get_int_member (m, "pts"), ==, 42 * GST_SECOND / 10);
  objs = json_object_get_array_member (m, "objs");
  g_assert_cmpuint (json_array_get_length (objs), ==, 1);
  JsonObject *car = json_array_get_object_element (objs, 0);
  g_assert_cmpstr (json_object_get_string_member (car, "label"), ==, "car");
  g_assert_cmpint (json_object_get_int_member (car, "id"), ==, 4);
  JsonArray *ev = json_object_get_array_member (m, "events");
  g_assert_cmpuint (json_array_get_length (ev), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (ev, 0), "type"), ==, "entry");
  g_object_unref (jp);
  g_autoptr (GPtrArray) o3 = convert (c, b); /* skipped by frame-interval */
  g_assert_cmpuint (o3->len, ==, 0);
  g_autoptr (GPtrArray) o4 = convert (c, b);
  g_assert_cmpuint (o4->len, ==, 1);
  m = parse (g_ptr_array_index (o4, 0), &jp);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (m, "events")), ==, 0);
  g_object_unref (jp);
  /* the source ends: exit for 4 */
  g_autoptr (GPtrArray) o5 = g_ptr_array_new_with_free_func (g_free);
  g_assert_cmpuint (ova_msg_converter_source_ended (c, 2, o5), ==, 1);
  m = parse (g_ptr_array_index (o5, 0), &jp);
  ev = json_object_get_array_member (m, "events");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (ev, 0), "type"), ==, "exit");
  g_object_unref (jp);
  gst_buffer_unref (b);
  ova_msg_converter_free (c);
}

static void
test_payload_meta (void)
{
  GstBuffer *b = gst_buffer_new ();
  g_assert_null (ova_buffer_get_msg_payload_meta (b));
  OvaMsgPayloadMeta *m = ova_buffer_add_msg_payload_meta (b);
  ova_msg_payload_meta_add (m, "t", "{}", 2, 1, 2, 3);
  g_assert_true (ova_buffer_add_msg_payload_meta (b) == m);
  GstBuffer *c = gst_buffer_copy (b);
  OvaMsgPayloadMeta *cm = ova_buffer_get_msg_payload_meta (c);
  g_assert_nonnull (cm);
  g_assert_cmpuint (cm->payloads->len, ==, 1);
  OvaMsgPayload *p = g_ptr_array_index (cm->payloads, 0);
  g_assert_cmpstr (p->topic, ==, "t");
  g_assert_cmpuint (g_bytes_get_size (p->data), ==, 2);
  g_assert_cmpuint (p->source_id, ==, 1);
  gst_buffer_unref (b);
  gst_buffer_unref (c);
}

static void
test_conn_str (void)
{
  gchar *h, *t;
  guint port;
  g_assert_true (ova_msg_parse_conn_str ("localhost;1883", &h, &port, &t, NULL));
  g_assert_cmpstr (h, ==, "localhost");
  g_assert_cmpuint (port, ==, 1883);
  g_assert_null (t);
  g_free (h);
  g_assert_true (ova_msg_parse_conn_str (" broker ; 9092 ; events ", &h, &port, &t, NULL));
  g_assert_cmpstr (t, ==, "events");
  g_free (h);
  g_free (t);
  const gchar *bad[] = { "", "host", "host;", "host;0", "host;70000", "host;12a", ";1883", "a;1;b;c" };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    GError *e = NULL;
    g_assert_false (ova_msg_parse_conn_str (bad[i], &h, &port, &t, &e));
    g_assert_error (e, OVA_MSG_ERROR, OVA_MSG_ERROR_CONFIG);
    g_clear_error (&e);
  }
}

static void
test_commands (void)
{
  GError *e = NULL;
  OvaMsgCommand *c = ova_msg_command_parse ("{\"command\":\"start-recording\",\"source-id\":3,\"duration\":12.5}", -1, &e);
  g_assert_no_error (e);
  g_assert_cmpint (c->type, ==, OVA_MSG_CMD_START_RECORDING);
  g_assert_cmpint (c->source_id, ==, 3);
  g_assert_cmpfloat (c->duration, ==, 12.5);
  ova_msg_command_free (c);
  c = ova_msg_command_parse ("{\"command\":\"set-property\",\"element\":\"infer0\",\"property\":\"interval\",\"value\":2}", -1, &e);
  g_assert_no_error (e);
  g_assert_cmpstr (c->value, ==, "2");
  GstStructure *s = ova_msg_command_to_structure (c);
  g_assert_cmpstr (gst_structure_get_string (s, "command"), ==, "set-property");
  g_assert_cmpstr (gst_structure_get_string (s, "element"), ==, "infer0");
  gst_structure_free (s);
  ova_msg_command_free (c);
  c = ova_msg_command_parse ("{\"command\":\"remove-source\",\"source-id\":1}", -1, &e);
  g_assert_nonnull (c);
  ova_msg_command_free (c);
  c = ova_msg_command_parse ("{\"command\":\"stop-recording\",\"source-id\":0}", -1, &e);
  g_assert_nonnull (c);
  ova_msg_command_free (c);

  struct { const gchar *json, *reason; } bad[] = {
    { "", "empty" },
    { "{", "malformed JSON" },
    { "[1,2]", "not a JSON object" },
    { "{\"cmd\":\"x\"}", "missing \"command\"" },
    { "{\"command\":\"reboot\"}", "unknown command \"reboot\"" },
    { "{\"command\":\"remove-source\"}", "missing \"source-id\"" },
    { "{\"command\":\"remove-source\",\"source-id\":\"one\"}", "must be an integer" },
    { "{\"command\":\"remove-source\",\"source-id\":-4}", "out of range" },
    { "{\"command\":\"add-source\"}", "missing \"uri\"" },
    { "{\"command\":\"add-source\",\"uri\":\"not a uri\"}", "not a URI" },
    { "{\"command\":\"start-recording\",\"source-id\":0,\"duration\":\"long\"}", "duration" },
    { "{\"command\":\"set-property\",\"element\":\"x\",\"property\":\"y\"}", "missing \"value\"" },
    { "{\"command\":\"set-property\",\"element\":\"x\",\"property\":\"y\",\"value\":[1]}", "\"value\"" },
    { "\xff\xfe", "UTF-8" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_assert_null (ova_msg_command_parse (bad[i].json, -1, &e));
    g_assert_error (e, OVA_MSG_ERROR, OVA_MSG_ERROR_COMMAND);
    if (!strstr (e->message, bad[i].reason))
      g_error ("%s: reason '%s' lacks '%s'", bad[i].json, e->message, bad[i].reason);
    g_clear_error (&e);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);
  tmpdir = g_dir_make_tmp ("ova-msg-unit-XXXXXX", NULL);
  g_test_add_func ("/msg/config", test_config);
  g_test_add_func ("/msg/payload/full", test_full_schema);
  g_test_add_func ("/msg/payload/minimal-compact", test_minimal_and_compact);
  g_test_add_func ("/msg/payload/meta", test_payload_meta);
  g_test_add_func ("/msg/conn-str", test_conn_str);
  g_test_add_func ("/msg/commands", test_commands);
  int rc = g_test_run ();
  GDir *d = g_dir_open (tmpdir, 0, NULL);
  const gchar *n;
  while ((n = g_dir_read_name (d))) {
    g_autofree gchar *p = g_build_filename (tmpdir, n, NULL);
    g_unlink (p);
  }
  g_dir_close (d);
  g_rmdir (tmpdir);
  g_free (tmpdir);
  return rc;
}
