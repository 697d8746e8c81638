/* ova tests — every broker adapter against a real server on loopback
 * (mosquitto, redis-server, rabbitmq-server; Kafka: librdkafka's mock
 * cluster): round trip, cloud-to-device commands, reconnect after the server
 * is killed and restarted, restart of the publisher replaying its spool,
 * malformed config, unreachable host.
 * Usage: test-msg-adapter mqtt|redis|amqp|kafka
 * SPDX-License-Identifier: MIT */
#include "ova-config.h"
#include "servers.h"
#include <ova/msg.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef HAVE_RDKAFKA
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#endif

static const gchar *proto;
static OvaTestServer *srv;
static guint port;
static gchar *tmpdir;
#ifdef HAVE_RDKAFKA
static rd_kafka_t *mock_rk;
static rd_kafka_mock_cluster_t *mock;
#endif

#define N_MAX 4096

typedef struct {
  GMutex lock;
  guint8 seen[N_MAX];
  guint unique, dups, probes;
  gint64 max_first;    /* highest seq seen so far */
  gboolean order_ok;   /* each new seq is max+1: nothing skipped, order kept */
  OvaMsgAdapter *ad;
  OvaMsgApiHandle h;
} Receiver;

static gchar *
write_config (const gchar *name, const gchar *body)
{
  gchar *p = g_build_filename (tmpdir, name, NULL);
  g_assert_true (g_file_set_contents (p, body, -1, NULL));
  return p;
}

static void
server_down (void)
{
#ifdef HAVE_RDKAFKA
  if (mock) {
    rd_kafka_mock_broker_set_down (mock, 1);
    return;
  }
#endif
  if (!g_strcmp0 (proto, "mqtt"))
    ova_test_server_stop (srv); /* SIGTERM: mosquitto saves its sessions, as in production */
  else
    ova_test_server_kill (srv);
}

static void
server_up (void)
{
#ifdef HAVE_RDKAFKA
  if (mock) {
    rd_kafka_mock_broker_set_up (mock, 1);
    return;
  }
#endif
  GError *e = NULL;
  if (!ova_test_server_restart (srv, &e))
    g_error ("restart: %s", e->message);
}

static void
on_msg (OvaMsgApiErrorType st, void *msg, int len, char *topic, void *user)
{
  Receiver *r = user;
  g_autofree gchar *s = g_strndup (msg, len);
  g_mutex_lock (&r->lock);
  if (strstr (s, "\"probe\"")) {
    r->probes++;
  } else {
    const gchar *p = strstr (s, "\"seq\":");
    if (p) {
      gint64 seq = g_ascii_strtoll (p + 6, NULL, 10);
      if (seq >= 0 && seq < N_MAX) {
        if (r->seen[seq]) {
          r->dups++;
        } else {
          r->seen[seq] = 1;
          r->unique++;
          if (seq != r->max_first + 1)
            r->order_ok = FALSE;
          r->max_first = MAX (r->max_first, seq);
        }
      }
    }
  }
  g_mutex_unlock (&r->lock);
}

static gchar *
sub_config (const gchar *topic)
{
  /* The subscriber must not miss what is published while it reconnects after
   * a broker restart: a persistent MQTT session (the test's mosquitto keeps it
   * across its restart), a durable named AMQP queue; Redis streams and Kafka
   * logs are read from the last position anyway. */
  if (!g_strcmp0 (proto, "mqtt")) {
    g_autofree gchar *body = g_strdup_printf ("[message-broker]\nreconnect-interval-ms=100\n"
                                              "client-id=recv-%s\nclean-session=0\n", topic);
    return write_config ("sub.txt", body);
  }
  if (!g_strcmp0 (proto, "amqp")) {
    g_autofree gchar *body = g_strdup_printf ("[message-broker]\nreconnect-interval-ms=100\n"
                                              "queue=recv-%s\n", topic);
    return write_config ("sub.txt", body);
  }
  if (!g_strcmp0 (proto, "kafka")) {
    g_autofree gchar *body = g_strdup_printf ("[message-broker]\nreconnect-interval-ms=100\n"
                                              "consumer-offset-reset=earliest\n"
                                              "consumer-group-id=sub-%d\n", g_random_int ());
    return write_config ("sub.txt", body);
  }
  return write_config ("sub.txt", "[message-broker]\nreconnect-interval-ms=100\n");
}

static Receiver *
receiver_new (const gchar *topic)
{
  Receiver *r = g_new0 (Receiver, 1);
  g_mutex_init (&r->lock);
  r->max_first = -1;
  r->order_ok = TRUE;
  GError *e = NULL;
  r->ad = ova_msg_adapter_load (proto, &e);
  g_assert_no_error (e);
  g_autofree gchar *cs = ova_test_conn_str (port, topic);
  g_autofree gchar *cfg = sub_config (topic);
  char *why = NULL;
  r->h = r->ad->connect (cs, NULL, cfg, NULL, &why);
  if (!r->h)
    g_error ("subscriber connect: %s", why);
  char *topics[] = { (char *) topic };
  g_assert_cmpint (r->ad->subscribe (r->h, topics, 1, on_msg, r), ==, OVA_MSGAPI_OK);
  return r;
}

static void
receiver_free (Receiver *r)
{
  r->ad->disconnect (r->h);
  ova_msg_adapter_free (r->ad);
  g_mutex_clear (&r->lock);
  g_free (r);
}

static guint
receiver_unique (Receiver *r)
{
  g_mutex_lock (&r->lock);
  guint n = r->unique;
  g_mutex_unlock (&r->lock);
  return n;
}

/* Sends probes until the subscriber gets one (its subscription is in place). */
static void
wait_subscribed (Receiver *r, OvaMsgPublisher *pub)
{
  gint64 end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end) {
    g_assert_true (ova_msg_publisher_push (pub, NULL, "{\"probe\":1}", 11, NULL));
    for (int i = 0; i < 10; i++) {
      g_mutex_lock (&r->lock);
      guint p = r->probes;
      g_mutex_unlock (&r->lock);
      if (p)
        return;
      g_usleep (50000);
    }
  }
  g_error ("the subscriber never got a probe");
}

static gboolean
wait_unique (Receiver *r, guint n, gint seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) seconds * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end) {
    if (receiver_unique (r) >= n)
      return TRUE;
    g_usleep (20000);
  }
  return receiver_unique (r) >= n;
}

static gboolean start_offline;

static OvaMsgPublisher *
publisher (const gchar *topic, const gchar *spool, const gchar *extra, GError **error)
{
  g_autofree gchar *cs = ova_test_conn_str (port, topic);
  g_autofree gchar *body = g_strdup_printf ("[message-broker]\n%s\n", extra ? extra : "");
  g_autofree gchar *cfg = write_config ("pub.txt", body);
  OvaMsgPublisherOptions o = { 0 };
  o.proto_lib = proto;
  o.conn_str = cs;
  o.config = cfg;
  o.spool_dir = spool;
  o.fsync = OVA_SPOOL_FSYNC_NEVER;
  o.start_offline = start_offline;
  o.retry_ms = 200;
  return ova_msg_publisher_new (&o, error);
}

/* Extra publisher settings for the tests that must lose nothing across a
 * broker restart. AMQP: mandatory=1, since a restarted RabbitMQ can accept
 * publishes before it routes to the recovered durable queue again, and it
 * confirms (and drops) what it cannot route. */
static const gchar *
no_loss (const gchar *more)
{
  static gchar buf[256];
  g_snprintf (buf, sizeof buf, "%s\n%s", !g_strcmp0 (proto, "amqp") ? "mandatory=1" : "", more ? more : "");
  return buf;
}

static void
push_range (OvaMsgPublisher *pub, guint from, guint to)
{
  for (guint i = from; i < to; i++) {
    gchar buf[64];
    gint n = g_snprintf (buf, sizeof buf, "{\"src\":0,\"seq\":%u}", i);
    GError *e = NULL;
    g_assert_true (ova_msg_publisher_push (pub, NULL, buf, n, &e));
    g_assert_no_error (e);
  }
}

static void
test_round_trip (void)
{
  Receiver *r = receiver_new ("ova-rt");
  GError *e = NULL;
  OvaMsgPublisher *pub = publisher ("ova-rt", NULL, NULL, &e);
  g_assert_no_error (e);
  wait_subscribed (r, pub);
  push_range (pub, 0, 1000);
  g_assert_true (ova_msg_publisher_flush (pub, 20000));
  g_assert_true (wait_unique (r, 1000, 20));
  OvaMsgPublisherStats st;
  ova_msg_publisher_get_stats (pub, &st);
  g_assert_cmpuint (st.pending, ==, 0);
  g_assert_cmpuint (st.dropped, ==, 0);
  g_assert_true (r->order_ok);
  ova_msg_publisher_free (pub);
  receiver_free (r);

  /* the adapter's own blocking send */
  r = receiver_new ("ova-rt2");
  OvaMsgAdapter *ad = ova_msg_adapter_load (proto, &e);
  g_assert_no_error (e);
  g_autofree gchar *cs = ova_test_conn_str (port, "ova-rt2");
  char *why = NULL;
  OvaMsgApiHandle h = ad->connect (cs, NULL, NULL, NULL, &why);
  g_assert_nonnull (h);
  char sig[256];
  g_assert_cmpint (ad->connection_signature (cs, NULL, sig, sizeof sig), ==, OVA_MSGAPI_OK);
  g_assert_nonnull (strstr (sig, ad->get_protocol_name ()));
  g_assert_cmpstr (ad->getversion (), ==, OVA_MSGAPI_VERSION);
  gint64 end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (!r->probes && g_get_monotonic_time () < end) {
    g_assert_cmpint (ad->send (h, NULL, (const uint8_t *) "{\"probe\":1}", 11), ==, OVA_MSGAPI_OK);
    g_usleep (200000);
  }
  g_assert_cmpint (ad->send (h, NULL, (const uint8_t *) "{\"seq\":0}", 9), ==, OVA_MSGAPI_OK);
  ad->do_work (h);
  g_assert_true (wait_unique (r, 1, 20));
  ad->disconnect (h);
  ova_msg_adapter_free (ad);
  receiver_free (r);
}

typedef struct {
  GMutex lock;
  guint commands, rejected;
  gchar *last_reason;
  gchar *last_uri;
} Cmds;

static void
on_command (const OvaMsgCommand *cmd, const gchar *topic, gpointer user)
{
  Cmds *c = user;
  g_mutex_lock (&c->lock);
  c->commands++;
  g_free (c->last_uri);
  c->last_uri = g_strdup (cmd->uri);
  g_mutex_unlock (&c->lock);
}

static void
on_reject (const gchar *raw, gsize len, const gchar *topic, const gchar *reason, gpointer user)
{
  Cmds *c = user;
  g_mutex_lock (&c->lock);
  c->rejected++;
  g_free (c->last_reason);
  c->last_reason = g_strdup (reason);
  g_mutex_unlock (&c->lock);
}

static void
test_commands (void)
{
  Cmds c = { 0 };
  g_mutex_init (&c.lock);
  GError *e = NULL;
  OvaMsgPublisher *pub = publisher ("ova-ev", NULL,
                                    !g_strcmp0 (proto, "kafka") ? "consumer-offset-reset=earliest" : NULL,
                                    &e);
  g_assert_no_error (e);
  const gchar *topics[] = { "ova-cmd", NULL };
  g_assert_true (ova_msg_publisher_subscribe (pub, topics, on_command, on_reject, &c, &e));
  OvaMsgAdapter *ad = ova_msg_adapter_load (proto, &e);
  g_autofree gchar *cs = ova_test_conn_str (port, "ova-cmd");
  char *why = NULL;
  OvaMsgApiHandle h = ad->connect (cs, NULL, NULL, NULL, &why);
  g_assert_nonnull (h);
  const char *good = "{\"command\":\"add-source\",\"uri\":\"file:///tmp/a.mp4\"}";
  gint64 end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  for (;;) {
    g_assert_cmpint (ad->send (h, NULL, (const uint8_t *) good, strlen (good)), ==, OVA_MSGAPI_OK);
    g_usleep (300000);
    g_mutex_lock (&c.lock);
    guint n = c.commands;
    g_mutex_unlock (&c.lock);
    if (n || g_get_monotonic_time () > end)
      break;
  }
  const char *bad1 = "{\"command\":\"self-destruct\"}";
  const char *bad2 = "{not json";
  g_assert_cmpint (ad->send (h, NULL, (const uint8_t *) bad1, strlen (bad1)), ==, OVA_MSGAPI_OK);
  g_assert_cmpint (ad->send (h, NULL, (const uint8_t *) bad2, strlen (bad2)), ==, OVA_MSGAPI_OK);
  end = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end) {
    g_mutex_lock (&c.lock);
    guint n = c.rejected;
    g_mutex_unlock (&c.lock);
    if (n >= 2)
      break;
    g_usleep (20000);
  }
  ad->disconnect (h);
  ova_msg_adapter_free (ad);
  ova_msg_publisher_free (pub);
  g_assert_cmpuint (c.commands, >=, 1);
  g_assert_cmpstr (c.last_uri, ==, "file:///tmp/a.mp4");
  g_assert_cmpuint (c.rejected, ==, 2);
  g_assert_nonnull (strstr (c.last_reason, "malformed JSON"));
  g_free (c.last_reason);
  g_free (c.last_uri);
  g_mutex_clear (&c.lock);
}

static void
test_reconnect (void)
{
  Receiver *r = receiver_new ("ova-rc");
  g_autofree gchar *spool = g_build_filename (tmpdir, "spool-rc", NULL);
  GError *e = NULL;
  /* the publisher retries later than the subscriber, which is back first */
  OvaMsgPublisher *pub = publisher ("ova-rc", spool, no_loss ("reconnect-interval-ms=1500"), &e);
  g_assert_no_error (e);
  wait_subscribed (r, pub);
  push_range (pub, 0, 300);
  g_assert_true (ova_msg_publisher_flush (pub, 20000));
  g_assert_true (wait_unique (r, 300, 20));
  server_down ();
  push_range (pub, 300, 450); /* kept in the spool while the broker is away */
  g_usleep (800000);          /* the loss is noticed: these wait for the reconnection */
  push_range (pub, 450, 600);
  server_up ();
  g_assert_true (ova_msg_publisher_flush (pub, 60000));
  g_assert_true (wait_unique (r, 600, 30));
  OvaMsgPublisherStats st;
  ova_msg_publisher_get_stats (pub, &st);
  g_test_message ("%s reconnect: sent %" G_GUINT64_FORMAT " acked %" G_GUINT64_FORMAT " resent %"
                  G_GUINT64_FORMAT " disconnects %" G_GUINT64_FORMAT " dups at subscriber %u",
                  proto, st.sent, st.acked, st.resent, st.disconnects, r->dups);
  g_assert_cmpuint (st.dropped, ==, 0);
  g_assert_cmpuint (st.pending, ==, 0);
  g_assert_true (r->order_ok);
  ova_msg_publisher_free (pub);
  receiver_free (r);
}

static void
test_restart_replay (void)
{
  Receiver *r = receiver_new ("ova-rs");
  g_autofree gchar *spool = g_build_filename (tmpdir, "spool-rs", NULL);
  GError *e = NULL;
  OvaMsgPublisher *pub = publisher ("ova-rs", spool, no_loss ("connect-timeout-ms=1000"), &e);
  g_assert_no_error (e);
  wait_subscribed (r, pub);
  g_assert_true (ova_msg_publisher_flush (pub, 20000));
  server_down ();
  push_range (pub, 0, 200);
  ova_msg_publisher_free (pub); /* the application stops with 200 unsent */
  /* it starts again while the broker is still away: without start_offline a
   * clear error, with it the spool is kept and more messages queue up */
  pub = publisher ("ova-rs", spool, no_loss ("connect-timeout-ms=500"), &e);
  g_assert_null (pub);
  g_assert_error (e, OVA_MSG_ERROR, OVA_MSG_ERROR_CONNECT);
  g_clear_error (&e);
  start_offline = TRUE;
  pub = publisher ("ova-rs", spool, no_loss ("connect-timeout-ms=500"), &e);
  start_offline = FALSE;
  g_assert_no_error (e);
  OvaMsgPublisherStats st;
  ova_msg_publisher_get_stats (pub, &st);
  g_assert_cmpuint (st.recovered, ==, 200);
  push_range (pub, 200, 250);
  server_up ();
  g_assert_true (ova_msg_publisher_flush (pub, 60000));
  if (!wait_unique (r, 250, 30))
    g_error ("restart replay: the subscriber got %u of 250 messages", receiver_unique (r));
  g_assert_true (r->order_ok);
  ova_msg_publisher_free (pub);
  receiver_free (r);
}

static void
test_bad_config (void)
{
  OvaMsgAdapter *ad = ova_msg_adapter_load (proto, NULL);
  g_assert_nonnull (ad);
  g_autofree gchar *cs = ova_test_conn_str (port, "t");
  char *why = NULL;
  g_assert_null (ad->connect ("127.0.0.1", NULL, NULL, NULL, &why));
  g_assert_nonnull (strstr (why, "connection string"));
  free (why);
  why = NULL;
  g_assert_null (ad->connect ("127.0.0.1;notaport", NULL, NULL, NULL, &why));
  g_assert_nonnull (strstr (why, "notaport"));
  free (why);
  why = NULL;
  g_autofree gchar *c1 = write_config ("bad1.txt", "[message-broker]\nbogus-key=1\n");
  g_assert_null (ad->connect (cs, NULL, c1, NULL, &why));
  g_assert_nonnull (strstr (why, "bad1.txt"));
  g_assert_nonnull (strstr (why, "bogus-key"));
  free (why);
  why = NULL;
  g_autofree gchar *c2 = write_config ("bad2.txt", "[message-broker]\nconnect-timeout-ms=soon\n");
  g_assert_null (ad->connect (cs, NULL, c2, NULL, &why));
  g_assert_nonnull (strstr (why, "connect-timeout-ms"));
  free (why);
  why = NULL;
  g_autofree gchar *c3 = write_config ("bad3.txt", "[message-broker\nbroken");
  g_assert_null (ad->connect (cs, NULL, c3, NULL, &why));
  g_assert_nonnull (strstr (why, "bad3.txt"));
  free (why);
  why = NULL;
  g_assert_null (ad->connect (cs, NULL, "/nonexistent/ova.txt", NULL, &why));
  g_assert_nonnull (strstr (why, "/nonexistent/ova.txt"));
  free (why);
  ova_msg_adapter_free (ad);

  /* wrong settings fail even when starting offline is allowed */
  GError *e = NULL;
  start_offline = TRUE;
  g_assert_null (publisher ("t", NULL, "connect-timeout-ms=never", &e));
  start_offline = FALSE;
  g_assert_error (e, OVA_MSG_ERROR, OVA_MSG_ERROR_CONFIG);
  g_assert_nonnull (strstr (e->message, "connect-timeout-ms"));
  g_clear_error (&e);
  g_assert_null (ova_msg_adapter_load ("nosuchproto", &e));
  g_assert_error (e, OVA_MSG_ERROR, OVA_MSG_ERROR_ADAPTER);
  g_clear_error (&e);
}

static void
test_unreachable (void)
{
  OvaMsgAdapter *ad = ova_msg_adapter_load (proto, NULL);
  g_autofree gchar *cfg = write_config ("fast.txt", "[message-broker]\nconnect-timeout-ms=1000\n");
  /* nobody listening: refused */
  g_autofree gchar *cs = ova_test_conn_str (ova_test_free_port (), "t");
  char *why = NULL;
  gint64 t0 = g_get_monotonic_time ();
  g_assert_null (ad->connect (cs, NULL, cfg, NULL, &why));
  gint64 dt = g_get_monotonic_time () - t0;
  g_test_message ("refused: %s (%.0f ms)", why, dt / 1000.0);
  g_assert_nonnull (why);
  g_assert_cmpint (dt, <, 2500000);
  free (why);
  why = NULL;
  /* a listener that never answers: the connect timeout applies */
  guint bh_port;
  gint fd = ova_test_black_hole (&bh_port);
  g_autofree gchar *cs2 = ova_test_conn_str (bh_port, "t");
  t0 = g_get_monotonic_time ();
  g_assert_null (ad->connect (cs2, NULL, cfg, NULL, &why));
  dt = g_get_monotonic_time () - t0;
  g_test_message ("black hole: %s (%.0f ms)", why, dt / 1000.0);
  g_assert_nonnull (why);
  g_assert_cmpint (dt, >=, 900000);
  g_assert_cmpint (dt, <, 2500000);
  free (why);
  close (fd);
  /* the sample config shipped in configs/msg is accepted (the failure is the refused port) */
  g_autofree gchar *sample = g_strdup_printf ("%s/configs/msg/broker-%s.txt", OVA_SOURCE_DIR, proto);
  why = NULL;
  g_assert_null (ad->connect (cs, NULL, sample, NULL, &why));
  g_test_message ("sample config: %s", why);
  g_assert_null (strstr (why, "broker-"));
  free (why);
  ova_msg_adapter_free (ad);
}

/* AMQP: what the broker cannot route (no queue bound to the topic yet). By
 * default it confirms and drops it, as any AMQP client sees; with
 * mandatory=1 it returns it and the publisher keeps it until a queue is bound. */
static void
test_unroutable (void)
{
  GError *e = NULL;
  OvaMsgPublisherStats st;
  /* default: confirmed, and gone */
  OvaMsgPublisher *pub = publisher ("ova-nq1", NULL, NULL, &e);
  g_assert_no_error (e);
  push_range (pub, 0, 20);
  g_assert_true (ova_msg_publisher_flush (pub, 20000));
  ova_msg_publisher_get_stats (pub, &st);
  g_assert_cmpuint (st.acked, ==, 20);
  ova_msg_publisher_free (pub);
  Receiver *r = receiver_new ("ova-nq1");
  g_usleep (500000);
  g_assert_cmpuint (receiver_unique (r), ==, 0);
  receiver_free (r);

  /* mandatory=1: returned, kept, re-sent until the subscriber's queue is
   * bound. Re-sent a second apart: a binding made while a batch is being
   * published splits it (its first messages returned, the rest delivered,
   * the first ones then delivered after them), which the order check would
   * take for a reordering; with 100 ms that happened about once in a few
   * dozen runs. */
  pub = publisher ("ova-nq2", NULL, "mandatory=1\nreconnect-interval-ms=1000", &e);
  g_assert_no_error (e);
  push_range (pub, 0, 20);
  g_assert_false (ova_msg_publisher_flush (pub, 1500));
  ova_msg_publisher_get_stats (pub, &st);
  g_assert_cmpuint (st.acked, ==, 0);
  g_assert_cmpuint (st.pending, ==, 20);
  g_assert_cmpuint (st.resent, >, 0);
  r = receiver_new ("ova-nq2");
  g_assert_true (ova_msg_publisher_flush (pub, 20000));
  g_assert_true (wait_unique (r, 20, 20));
  g_assert_true (r->order_ok);
  ova_msg_publisher_get_stats (pub, &st);
  g_test_message ("unroutable with mandatory=1: sent %" G_GUINT64_FORMAT " resent %" G_GUINT64_FORMAT
                  " acked %" G_GUINT64_FORMAT, st.sent, st.resent, st.acked);
  g_assert_cmpuint (st.dropped, ==, 0);
  ova_msg_publisher_free (pub);
  receiver_free (r);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* connection losses and rejected commands are logged as warnings on purpose */
  g_log_set_always_fatal (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL);
  if (argc < 2) {
    fprintf (stderr, "usage: %s mqtt|redis|amqp|kafka\n", argv[0]);
    return 2;
  }
  proto = argv[1];
  g_autofree gchar *lib = g_strdup_printf ("%s/lib/msg/adapters/libova_%s.so", OVA_BUILD_DIR, proto);
  if (!g_file_test (lib, G_FILE_TEST_EXISTS)) {
    printf ("SKIP: adapter %s not built (its library is missing)\n", lib);
    return 77;
  }
  tmpdir = g_dir_make_tmp ("ova-msg-XXXXXX", NULL);
  GError *e = NULL;
  if (!g_strcmp0 (proto, "kafka")) {
#ifdef HAVE_RDKAFKA
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new ();
    rd_kafka_conf_set (conf, "log_level", "2", NULL, 0);
    mock_rk = rd_kafka_new (RD_KAFKA_PRODUCER, conf, err, sizeof err);
    mock = rd_kafka_mock_cluster_new (mock_rk, 1);
    const char *bs = rd_kafka_mock_cluster_bootstraps (mock);
    const char *colon = strrchr (bs, ':');
    port = (guint) atoi (colon + 1);
    const char *topics[] = { "ova-rt", "ova-rt2", "ova-rc", "ova-rs", "ova-cmd", "ova-ev", "t" };
    for (guint i = 0; i < G_N_ELEMENTS (topics); i++)
      rd_kafka_mock_topic_create (mock, topics[i], 1, 1);
#else
    printf ("SKIP: librdkafka not available for the mock cluster\n");
    return 77;
#endif
  } else {
    const gchar *kind = !g_strcmp0 (proto, "mqtt") ? "mosquitto" : !g_strcmp0 (proto, "amqp") ? "rabbitmq" : "redis";
    if (!ova_test_server_available (kind)) {
      printf ("SKIP: %s is not installed\n", kind);
      return 77;
    }
    srv = !g_strcmp0 (proto, "mqtt") ? ova_test_server_start_durable (kind, &e)
                                       : ova_test_server_start (kind, &e);
    if (!srv)
      g_error ("cannot start %s: %s", kind, e->message);
    port = srv->port;
  }
  g_test_add_func ("/msg/adapter/bad-config", test_bad_config);
  g_test_add_func ("/msg/adapter/unreachable", test_unreachable);
  g_test_add_func ("/msg/adapter/round-trip", test_round_trip);
  g_test_add_func ("/msg/adapter/commands", test_commands);
  g_test_add_func ("/msg/adapter/reconnect", test_reconnect);
  g_test_add_func ("/msg/adapter/restart-replay", test_restart_replay);
  if (!g_strcmp0 (proto, "amqp"))
    g_test_add_func ("/msg/adapter/unroutable", test_unroutable);
  int rc = g_test_run ();
#ifdef HAVE_RDKAFKA
  if (mock) {
    rd_kafka_mock_cluster_destroy (mock);
    rd_kafka_destroy (mock_rk);
  }
#endif
  ova_test_server_free (srv);
  g_autofree gchar *cmd = g_strdup_printf ("rm -rf '%s'", tmpdir);
  if (system (cmd) != 0) { }
  g_free (tmpdir);
  return rc;
}
