/* ova-msg-bench — sustained publishing through ova's publisher (spool +
 * adapter) to mosquitto or redis-server, with the broker stopped and
 * restarted in the middle, every message counted by an independent
 * subscriber (libmosquitto / hiredis directly, not ova's adapters); and, in
 * the same run, the broker's own client (mosquitto_pub, redis-benchmark)
 * publishing flat out for comparison.
 * SPDX-License-Identifier: MIT */
#include "../../tests/msg/servers.h"
#include <ova/msg.h>
#include <hiredis/hiredis.h>
#include <mosquitto.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gchar *proto = "mqtt";
static gint rate = 10000, duration = 60, sources = 4, restart_at = -1, outage_ms = 2000;
static gint direct_n = 100000;
static gchar *fsync_mode = "interval";
static gchar *json_out;
static gboolean spool_only;

static GOptionEntry entries[] = {
  { "proto", 'p', 0, G_OPTION_ARG_STRING, &proto, "mqtt or redis", "P" },
  { "rate", 'r', 0, G_OPTION_ARG_INT, &rate, "Messages per second, all sources (10000)", "R" },
  { "duration", 'd', 0, G_OPTION_ARG_INT, &duration, "Seconds of publishing (60)", "S" },
  { "sources", 's', 0, G_OPTION_ARG_INT, &sources, "Sources (4); order is checked per source", "N" },
  { "restart-at", 0, 0, G_OPTION_ARG_INT, &restart_at, "Stop the broker after S seconds (default: half way; 0: never)", "S" },
  { "outage-ms", 0, 0, G_OPTION_ARG_INT, &outage_ms, "How long the broker stays down (2000)", "MS" },
  { "direct", 0, 0, G_OPTION_ARG_INT, &direct_n, "Messages for the flat-out comparison (100000; 0: skip)", "N" },
  { "fsync", 0, 0, G_OPTION_ARG_STRING, &fsync_mode, "Spool fsync policy (interval)", "MODE" },
  { "json", 0, 0, G_OPTION_ARG_FILENAME, &json_out, "Write the results as JSON here", "FILE" },
  { "spool-only", 0, 0, G_OPTION_ARG_NONE, &spool_only, "Only measure spool appends per fsync policy (no broker)", NULL },
  { NULL }
};

static OvaTestServer *srv;
static const gchar *TOPIC = "ova-bench";

/* ------------------------------------------------------------ subscriber */

typedef struct {
  GMutex lock;
  guint64 *next;         /* per source: next expected seq */
  guint64 unique, dups, order_errors;
  GArray *lat_us;        /* first-receipt latencies */
  gboolean stop;
  GThread *thread;
  struct mosquitto *mosq;
} Sub;

static Sub sub;

static void
count (const char *p, int len)
{
  /* {"src":S,"seq":N,"t":US,...} */
  g_autofree gchar *s = g_strndup (p, len);
  const gchar *a = strstr (s, "\"src\":"), *b = strstr (s, "\"seq\":"), *c = strstr (s, "\"t\":");
  if (!a || !b || !c)
    return;
  guint src = (guint) g_ascii_strtoull (a + 6, NULL, 10);
  guint64 seq = g_ascii_strtoull (b + 6, NULL, 10);
  gint64 t = g_ascii_strtoll (c + 4, NULL, 10);
  if (src >= (guint) sources)
    return;
  g_mutex_lock (&sub.lock);
  if (seq < sub.next[src]) {
    sub.dups++;
  } else {
    if (seq != sub.next[src])
      sub.order_errors++; /* a gap: something skipped or overtaken */
    sub.next[src] = seq + 1;
    sub.unique++;
    gint64 lat = g_get_real_time () - t;
    g_array_append_val (sub.lat_us, lat);
  }
  g_mutex_unlock (&sub.lock);
}

static void
mq_on_connect (struct mosquitto *m, void *obj, int rc)
{
  if (rc == 0)
    mosquitto_subscribe (m, NULL, TOPIC, 1);
}

static void
mq_on_message (struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
  count (msg->payload, msg->payloadlen);
}

static gpointer
redis_sub_main (gpointer data)
{
  gchar last[64] = "0";
  redisContext *ctx = NULL;
  for (;;) {
    g_mutex_lock (&sub.lock);
    gboolean stop = sub.stop;
    g_mutex_unlock (&sub.lock);
    if (stop)
      break;
    if (!ctx) {
      struct timeval tv = { 1, 0 };
      ctx = redisConnectWithTimeout ("127.0.0.1", (int) srv->port, tv);
      if (!ctx || ctx->err) {
        if (ctx)
          redisFree (ctx);
        ctx = NULL;
        g_usleep (50000);
        continue;
      }
      struct timeval rt = { 3, 0 };
      redisSetTimeout (ctx, rt);
    }
    redisReply *r = redisCommand (ctx, "XREAD COUNT 2000 BLOCK 500 STREAMS %s %s", TOPIC, last);
    if (!r) {
      redisFree (ctx);
      ctx = NULL;
      continue;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
      redisReply *entries = r->element[0]->element[1];
      for (size_t i = 0; i < entries->elements; i++) {
        redisReply *e = entries->element[i];
        g_strlcpy (last, e->element[0]->str, sizeof last);
        redisReply *kv = e->element[1];
        if (kv->elements >= 2)
          count (kv->element[1]->str, (int) kv->element[1]->len);
      }
    }
    freeReplyObject (r);
  }
  if (ctx)
    redisFree (ctx);
  return NULL;
}

static void
sub_start (void)
{
  g_mutex_init (&sub.lock);
  sub.next = g_new0 (guint64, sources);
  sub.lat_us = g_array_sized_new (FALSE, FALSE, sizeof (gint64), (guint) (rate * duration));
  if (!g_strcmp0 (proto, "mqtt")) {
    /* a persistent session: the broker keeps our messages while we reconnect */
    sub.mosq = mosquitto_new ("ova-bench-subscriber", false, NULL);
    mosquitto_connect_callback_set (sub.mosq, mq_on_connect);
    mosquitto_message_callback_set (sub.mosq, mq_on_message);
    mosquitto_reconnect_delay_set (sub.mosq, 1, 1, false);
    if (mosquitto_connect (sub.mosq, "127.0.0.1", (int) srv->port, 30) != MOSQ_ERR_SUCCESS)
      g_error ("subscriber cannot connect");
    mosquitto_loop_start (sub.mosq);
    g_usleep (300000);
  } else {
    sub.thread = g_thread_new ("bench-sub", redis_sub_main, NULL);
  }
}

static void
sub_stop (void)
{
  if (sub.mosq) {
    mosquitto_disconnect (sub.mosq);
    mosquitto_loop_stop (sub.mosq, false);
    mosquitto_destroy (sub.mosq);
  } else {
    g_mutex_lock (&sub.lock);
    sub.stop = TRUE;
    g_mutex_unlock (&sub.lock);
    g_thread_join (sub.thread);
  }
}

/* ------------------------------------------------------------ the runs */

static gchar *
payload (guint src, guint64 seq, gsize *len)
{
  /* ~120 bytes, like a compact ova event line */
  gchar *p = g_strdup_printf ("{\"src\":%u,\"seq\":%" G_GUINT64_FORMAT ",\"t\":%" G_GINT64_FORMAT
                              ",\"objs\":[{\"id\":3,\"cls\":0,\"label\":\"person\",\"box\":[1,2,3,4]}]}",
                              src, seq, g_get_real_time ());
  *len = strlen (p);
  return p;
}

static OvaMsgPublisher *
make_publisher (const gchar *spool, const gchar *topic)
{
  g_autofree gchar *cs = ova_test_conn_str (srv->port, topic);
  gboolean ok;
  OvaMsgPublisherOptions o = { 0 };
  o.proto_lib = proto;
  o.conn_str = cs;
  o.spool_dir = spool;
  o.spool_max_bytes = 1u << 30;
  o.fsync = ova_spool_fsync_from_string (fsync_mode, &ok);
  GError *e = NULL;
  OvaMsgPublisher *pub = ova_msg_publisher_new (&o, &e);
  if (!pub)
    g_error ("publisher: %s", e->message);
  return pub;
}

static gdouble
direct_rate (void)
{
  g_autofree gchar *out = NULL, *err = NULL;
  gint status = 0;
  gsize len;
  g_autofree gchar *sample = payload (0, 0, &len);
  g_autofree gchar *port = g_strdup_printf ("%u", srv->port);
  gint64 t0 = g_get_monotonic_time ();
  if (!g_strcmp0 (proto, "mqtt")) {
    /* mosquitto_pub -l: one QoS 1 message per stdin line, waits for the acks at the end */
    g_autofree gchar *lines = g_build_filename (srv->dir, "lines.txt", NULL);
    GString *s = g_string_new (NULL);
    for (gint i = 0; i < direct_n; i++)
      g_string_append_printf (s, "%s\n", sample);
    g_file_set_contents (lines, s->str, s->len, NULL);
    g_string_free (s, TRUE);
    g_autofree gchar *cmd = g_strdup_printf ("sh -c 'mosquitto_pub -h 127.0.0.1 -p %s -q 1 -t ova-direct -l < %s'",
                                             port, lines);
    t0 = g_get_monotonic_time ();
    if (!g_spawn_command_line_sync (cmd, &out, &err, &status, NULL) || status != 0)
      g_error ("mosquitto_pub failed: %s", err);
    return direct_n / ((g_get_monotonic_time () - t0) / 1e6);
  }
  /* redis-benchmark: XADD on one connection, pipelined like ova's adapter */
  g_autofree gchar *n = g_strdup_printf ("%d", direct_n);
  gchar *argv[] = { "redis-benchmark", "-h", "127.0.0.1", "-p", port, "-c", "1", "-P", "512", "-n", n,
                    "-q", "XADD", "ova-direct", "*", "payload", sample, NULL };
  if (!g_spawn_sync (NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, NULL) || status != 0)
    g_error ("redis-benchmark failed: %s", err);
  /* "XADD ...: 123456.79 requests per second, p50=..." (the last \r-separated report) */
  const gchar *p = g_strrstr (out, "requests per second");
  if (!p)
    g_error ("cannot read redis-benchmark's output: %s", out);
  const gchar *q = p - 1;
  while (q > out && *q == ' ')
    q--;
  while (q > out && (g_ascii_isdigit (*q) || *q == '.'))
    q--;
  return g_ascii_strtod (q + 1, NULL);
}

static gdouble
ova_flat_out_rate (void)
{
  g_autofree gchar *spool = g_build_filename (srv->dir, "spool-direct", NULL);
  OvaMsgPublisher *pub = make_publisher (spool, "ova-direct2");
  gint64 t0 = g_get_monotonic_time ();
  for (gint i = 0; i < direct_n; i++) {
    gsize len;
    g_autofree gchar *p = payload (0, i, &len);
    ova_msg_publisher_push (pub, NULL, p, len, NULL);
  }
  if (!ova_msg_publisher_flush (pub, 120000))
    g_error ("flat-out run did not finish");
  gdouble r = direct_n / ((g_get_monotonic_time () - t0) / 1e6);
  ova_msg_publisher_free (pub);
  return r;
}

static gpointer
restarter (gpointer data)
{
  g_usleep ((gulong) restart_at * G_USEC_PER_SEC);
  g_message ("stopping %s", srv->kind);
  ova_test_server_stop (srv);
  g_usleep ((gulong) outage_ms * 1000);
  GError *e = NULL;
  if (!ova_test_server_restart (srv, &e))
    g_error ("restart: %s", e->message);
  g_message ("%s is back", srv->kind);
  return NULL;
}

/* Appends (and acknowledges) ~120-byte records, syncing every 64 as the
 * sender does with fsync=always: what each fsync policy costs. */
static int
spool_bench (void)
{
  const gchar *names[] = { "never", "interval", "always" };
  for (guint i = 0; i < 3; i++) {
    g_autofree gchar *dir = g_dir_make_tmp ("ova-spool-bench-XXXXXX", NULL);
    gboolean ok;
    OvaSpool *sp = ova_spool_open (dir, 256u << 20, ova_spool_fsync_from_string (names[i], &ok), NULL);
    guint n = 200000;
    gint64 t0 = g_get_monotonic_time ();
    for (guint k = 0; k < n; k++) {
      gsize len;
      g_autofree gchar *p = payload (k % 4, k, &len);
      guint64 seq = ova_spool_append (sp, NULL, p, len, NULL);
      if (k % 64 == 63 || k == n - 1) /* a sender syncs before each batch it sends */
        ova_spool_sync (sp, seq);
      ova_spool_ack (sp, seq);
    }
    gdouble secs = (g_get_monotonic_time () - t0) / 1e6;
    printf ("spool fsync=%-8s %8.0f records/s (%u records, %.2f s)\n", names[i], n / secs, n, secs);
    ova_spool_close (sp);
    g_autofree gchar *cmd = g_strdup_printf ("rm -rf '%s'", dir);
    if (system (cmd) != 0) { }
  }
  return 0;
}

static gint
cmp64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

int
main (int argc, char **argv)
{
  GError *e = NULL;
  GOptionContext *ctx = g_option_context_new ("- sustained publishing with a broker restart, zero loss checked");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &e)) {
    fprintf (stderr, "%s\n", e->message);
    return 2;
  }
  g_option_context_free (ctx);
  if (spool_only)
    return spool_bench ();
  if (restart_at < 0)
    restart_at = duration / 2;
  const gchar *kind = !g_strcmp0 (proto, "mqtt") ? "mosquitto" : "redis";
  const gchar *client = !g_strcmp0 (proto, "mqtt") ? "mosquitto_pub" : "redis-benchmark";
  g_autofree gchar *client_path = g_find_program_in_path (client);
  if (!ova_test_server_available (kind) || !client_path) {
    printf ("SKIP: %s or %s is not installed\n", kind, client);
    return 77;
  }
  mosquitto_lib_init ();
  srv = ova_test_server_start_durable (kind, &e);
  if (!srv)
    g_error ("%s: %s", kind, e->message);

  gdouble direct = 0, flat = 0;
  if (direct_n > 0) {
    direct = direct_rate ();
    flat = ova_flat_out_rate ();
    printf ("flat out, %d messages: %s %.0f msg/s, ova (spool + adapter) %.0f msg/s, ratio %.2f\n",
            direct_n, client, direct, flat, flat / direct);
  }

  sub_start ();
  g_autofree gchar *spool = g_build_filename (srv->dir, "spool", NULL);
  OvaMsgPublisher *pub = make_publisher (spool, TOPIC);
  GThread *rt = restart_at > 0 ? g_thread_new ("restart", restarter, NULL) : NULL;
  guint64 total = (guint64) rate * duration, pushed = 0, max_pending = 0;
  gint64 t0 = g_get_monotonic_time (), last_sample = t0;
  guint64 *seq = g_new0 (guint64, sources);
  while (pushed < total) {
    /* keep to the schedule: push what is due, then sleep a little */
    gint64 now = g_get_monotonic_time ();
    guint64 due = MIN (total, (guint64) ((now - t0) * (gdouble) rate / 1e6) + 1);
    for (; pushed < due; pushed++) {
      guint src = pushed % sources;
      gsize len;
      g_autofree gchar *p = payload (src, seq[src]++, &len);
      if (!ova_msg_publisher_push (pub, NULL, p, len, &e))
        g_error ("push: %s", e->message);
    }
    if (now - last_sample > 100000) {
      OvaMsgPublisherStats st;
      ova_msg_publisher_get_stats (pub, &st);
      max_pending = MAX (max_pending, st.pending);
      last_sample = now;
    }
    g_usleep (1000);
  }
  gdouble push_secs = (g_get_monotonic_time () - t0) / 1e6;
  if (rt)
    g_thread_join (rt);
  gboolean flushed = ova_msg_publisher_flush (pub, 120000);
  gdouble all_acked_secs = (g_get_monotonic_time () - t0) / 1e6;
  gint64 end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end) {
    g_mutex_lock (&sub.lock);
    guint64 u = sub.unique;
    g_mutex_unlock (&sub.lock);
    if (u >= total)
      break;
    g_usleep (50000);
  }
  g_usleep (300000); /* late duplicates */
  OvaMsgPublisherStats st;
  ova_msg_publisher_get_stats (pub, &st);
  ova_msg_publisher_free (pub);
  sub_stop ();

  g_array_sort (sub.lat_us, cmp64);
  guint nl = sub.lat_us->len;
  gdouble p50 = nl ? g_array_index (sub.lat_us, gint64, nl / 2) / 1000.0 : 0;
  gdouble p99 = nl ? g_array_index (sub.lat_us, gint64, (guint) (nl * 0.99)) / 1000.0 : 0;
  gdouble pmax = nl ? g_array_index (sub.lat_us, gint64, nl - 1) / 1000.0 : 0;
  guint64 lost = total > sub.unique ? total - sub.unique : 0;
  gdouble achieved = total / push_secs;
  gboolean ok = flushed && lost == 0 && sub.order_errors == 0 && achieved >= rate * 0.98;
  printf ("%s: %" G_GUINT64_FORMAT " messages from %d sources at %.0f msg/s over %.1f s "
          "(broker stopped at %d s for %d ms)\n", proto, total, sources, achieved, push_secs,
          restart_at, outage_ms);
  printf ("  publisher: acked %" G_GUINT64_FORMAT ", re-sent %" G_GUINT64_FORMAT ", dropped %"
          G_GUINT64_FORMAT ", disconnects %" G_GUINT64_FORMAT ", max backlog %" G_GUINT64_FORMAT
          ", all acknowledged after %.1f s\n", st.acked, st.resent, st.dropped, st.disconnects,
          max_pending, all_acked_secs);
  printf ("  subscriber: unique %" G_GUINT64_FORMAT ", lost %" G_GUINT64_FORMAT ", duplicates %"
          G_GUINT64_FORMAT ", order errors %" G_GUINT64_FORMAT ", latency p50 %.1f ms p99 %.1f ms max %.0f ms\n",
          sub.unique, lost, sub.dups, sub.order_errors, p50, p99, pmax);
  printf ("%s\n", ok ? "PASS" : "FAIL");
  if (json_out) {
    g_autofree gchar *j = g_strdup_printf (
        "{\"proto\":\"%s\",\"rate\":%d,\"duration\":%d,\"sources\":%d,\"achieved_rate\":%.1f,"
        "\"messages\":%" G_GUINT64_FORMAT ",\"unique\":%" G_GUINT64_FORMAT ",\"lost\":%" G_GUINT64_FORMAT
        ",\"duplicates\":%" G_GUINT64_FORMAT ",\"order_errors\":%" G_GUINT64_FORMAT ",\"resent\":%"
        G_GUINT64_FORMAT ",\"disconnects\":%" G_GUINT64_FORMAT ",\"max_backlog\":%" G_GUINT64_FORMAT
        ",\"latency_ms\":{\"p50\":%.2f,\"p99\":%.2f,\"max\":%.1f},\"direct_client\":\"%s\","
        "\"direct_rate\":%.1f,\"ova_flat_out_rate\":%.1f,\"ratio\":%.3f,\"pass\":%s}\n",
        proto, rate, duration, sources, achieved, total, sub.unique, lost, sub.dups, sub.order_errors,
        st.resent, st.disconnects, max_pending, p50, p99, pmax, client, direct, flat,
        direct > 0 ? flat / direct : 0, ok ? "true" : "false");
    g_file_set_contents (json_out, j, -1, NULL);
  }
  g_free (seq);
  g_free (sub.next);
  g_array_unref (sub.lat_us);
  ova_test_server_free (srv);
  mosquitto_lib_cleanup ();
  return ok ? 0 : 1;
}
