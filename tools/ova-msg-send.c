/* ova-msg-send — send payloads to a broker through an ova protocol adapter.
 * SPDX-License-Identifier: MIT */
#include <ova/msg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gchar *proto_lib, *conn_str, *config, *topic, *spool_dir, *fsync_mode, *file;
static gint count = 1, rate = 0, timeout_ms = 10000, listen_s = 0;
static gint64 spool_max;
static gchar **subscribe;
static gboolean sync_send, quiet, offline;

static GOptionEntry entries[] = {
  { "proto-lib", 'p', 0, G_OPTION_ARG_STRING, &proto_lib,
    "Adapter: mqtt, amqp, redis, kafka, or a path to an adapter .so (required)", "LIB" },
  { "conn-str", 'c', 0, G_OPTION_ARG_STRING, &conn_str, "\"host;port\" or \"host;port;topic\" (required)", "STR" },
  { "config", 'C', 0, G_OPTION_ARG_FILENAME, &config, "Adapter config file ([message-broker] group)", "FILE" },
  { "topic", 't', 0, G_OPTION_ARG_STRING, &topic, "Topic (overrides the conn-str/config topic)", "TOPIC" },
  { "file", 'f', 0, G_OPTION_ARG_FILENAME, &file, "Send each line of FILE ('-': stdin) as a message", "FILE" },
  { "count", 'n', 0, G_OPTION_ARG_INT, &count, "Send the message N times (default 1)", "N" },
  { "rate", 'r', 0, G_OPTION_ARG_INT, &rate, "Messages per second (0: as fast as possible)", "R" },
  { "sync", 's', 0, G_OPTION_ARG_NONE, &sync_send, "Use the adapter's blocking send, no spool", NULL },
  { "spool-dir", 'd', 0, G_OPTION_ARG_FILENAME, &spool_dir, "Spool directory (at-least-once)", "DIR" },
  { "spool-max-bytes", 0, 0, G_OPTION_ARG_INT64, &spool_max, "Spool bound in bytes", "N" },
  { "fsync", 0, 0, G_OPTION_ARG_STRING, &fsync_mode, "Spool fsync: never, interval, always", "MODE" },
  { "timeout-ms", 'T', 0, G_OPTION_ARG_INT, &timeout_ms, "Wait this long for acknowledgements (default 10000)", "MS" },
  { "subscribe", 'S', 0, G_OPTION_ARG_STRING_ARRAY, &subscribe, "Also subscribe to TOPIC and print cloud-to-device commands", "TOPIC" },
  { "listen", 'l', 0, G_OPTION_ARG_INT, &listen_s, "Keep listening for commands for S seconds", "S" },
  { "start-offline", 0, 0, G_OPTION_ARG_NONE, &offline, "Start (and spool) even when the broker does not answer yet", NULL },
  { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print only errors", NULL },
  { NULL }
};

static void
on_command (const OvaMsgCommand *cmd, const gchar *t, gpointer user)
{
  GstStructure *s = ova_msg_command_to_structure (cmd);
  gchar *str = gst_structure_to_string (s);
  printf ("command on %s: %s\n", t, str);
  fflush (stdout);
  g_free (str);
  gst_structure_free (s);
}

static void
on_reject (const gchar *raw, gsize len, const gchar *t, const gchar *reason, gpointer user)
{
  printf ("rejected on %s: %s\n", t, reason);
  fflush (stdout);
}

int
main (int argc, char **argv)
{
  GError *e = NULL;
  GOptionContext *ctx = g_option_context_new ("[MESSAGE] - send MESSAGE (or lines of --file) through a broker adapter");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_set_description (ctx,
    "Example:\n  ova-msg-send -p mqtt -c \"127.0.0.1;1883;ova/events\" '{\"hello\":1}'\n"
    "Exit status: 0 when every message was acknowledged, 1 otherwise, 2 on bad usage.\n");
  if (!g_option_context_parse (ctx, &argc, &argv, &e)) {
    fprintf (stderr, "ova-msg-send: %s\n", e->message);
    return 2;
  }
  if (!proto_lib || !conn_str || (argc < 2 && !file && !subscribe) || count < 1) {
    gchar *help = g_option_context_get_help (ctx, TRUE, NULL);
    fprintf (stderr, "%s", help);
    g_free (help);
    return 2;
  }
  g_option_context_free (ctx);
  gst_init (NULL, NULL);

  g_autoptr (GPtrArray) msgs = g_ptr_array_new_with_free_func (g_free);
  if (file) {
    gchar *text = NULL;
    if (!g_strcmp0 (file, "-")) {
      GString *s = g_string_new (NULL);
      gchar buf[65536];
      size_t n;
      while ((n = fread (buf, 1, sizeof buf, stdin)) > 0)
        g_string_append_len (s, buf, n);
      text = g_string_free (s, FALSE);
    } else if (!g_file_get_contents (file, &text, NULL, &e)) {
      fprintf (stderr, "ova-msg-send: %s\n", e->message);
      return 1;
    }
    gchar **lines = g_strsplit (text, "\n", -1);
    for (guint i = 0; lines[i]; i++)
      if (*lines[i])
        g_ptr_array_add (msgs, g_strdup (lines[i]));
    g_strfreev (lines);
    g_free (text);
  } else if (argc >= 2) {
    g_ptr_array_add (msgs, g_strdup (argv[1]));
  }

  if (sync_send) {
    OvaMsgAdapter *ad = ova_msg_adapter_load (proto_lib, &e);
    if (!ad) {
      fprintf (stderr, "ova-msg-send: %s\n", e->message);
      return 1;
    }
    char *why = NULL;
    OvaMsgApiHandle h = ad->connect (conn_str, NULL, config, NULL, &why);
    if (!h) {
      fprintf (stderr, "ova-msg-send: %s: %s\n", ad->get_protocol_name (), why);
      free (why);
      ova_msg_adapter_free (ad);
      return 1;
    }
    guint fails = 0;
    for (gint r = 0; r < count; r++)
      for (guint i = 0; i < msgs->len; i++) {
        const gchar *m = g_ptr_array_index (msgs, i);
        if (ad->send (h, topic, (const uint8_t *) m, strlen (m)) != OVA_MSGAPI_OK)
          fails++;
      }
    ad->disconnect (h);
    ova_msg_adapter_free (ad);
    if (!quiet)
      printf ("sent %u, failed %u\n", count * msgs->len - fails, fails);
    return fails ? 1 : 0;
  }

  gboolean ok = TRUE;
  OvaMsgPublisherOptions o = { 0 };
  o.proto_lib = proto_lib;
  o.conn_str = conn_str;
  o.config = config;
  o.topic = topic;
  o.spool_dir = spool_dir;
  o.spool_max_bytes = (guint64) spool_max;
  o.start_offline = offline;
  o.fsync = ova_spool_fsync_from_string (fsync_mode ? fsync_mode : "interval", &ok);
  if (!ok) {
    fprintf (stderr, "ova-msg-send: --fsync: expected never, interval or always\n");
    return 2;
  }
  OvaMsgPublisher *pub = ova_msg_publisher_new (&o, &e);
  if (!pub) {
    fprintf (stderr, "ova-msg-send: %s\n", e->message);
    return 1;
  }
  if (subscribe && !ova_msg_publisher_subscribe (pub, (const gchar *const *) subscribe, on_command,
                                                 on_reject, NULL, &e)) {
    fprintf (stderr, "ova-msg-send: %s\n", e->message);
    ova_msg_publisher_free (pub);
    return 1;
  }
  gint64 t0 = g_get_monotonic_time ();
  guint64 n = 0;
  for (gint r = 0; r < count; r++)
    for (guint i = 0; i < msgs->len; i++) {
      const gchar *m = g_ptr_array_index (msgs, i);
      if (!ova_msg_publisher_push (pub, NULL, m, strlen (m), &e)) {
        fprintf (stderr, "ova-msg-send: %s\n", e->message);
        g_clear_error (&e);
      }
      n++;
      if (rate > 0) {
        gint64 due = t0 + (gint64) (n * G_USEC_PER_SEC / rate);
        gint64 now = g_get_monotonic_time ();
        if (due > now)
          g_usleep (due - now);
      }
    }
  gboolean all = ova_msg_publisher_flush (pub, (guint) timeout_ms);
  if (listen_s > 0)
    g_usleep ((gulong) listen_s * G_USEC_PER_SEC);
  OvaMsgPublisherStats st;
  ova_msg_publisher_get_stats (pub, &st);
  if (!quiet)
    printf ("queued %" G_GUINT64_FORMAT ", acknowledged %" G_GUINT64_FORMAT ", re-sent %"
            G_GUINT64_FORMAT ", pending %" G_GUINT64_FORMAT ", dropped %" G_GUINT64_FORMAT "\n",
            st.queued, st.acked, st.resent, st.pending, st.dropped);
  ova_msg_publisher_free (pub);
  return all ? 0 : 1;
}
