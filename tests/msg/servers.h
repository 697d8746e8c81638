/* ova tests — real brokers on loopback, started and killed by the tests.
 * SPDX-License-Identifier: MIT */
#ifndef OVA_TEST_SERVERS_H
#define OVA_TEST_SERVERS_H
#include <glib.h>

typedef struct {
  gchar *kind;      /* "mosquitto", "redis", "rabbitmq" */
  gchar *dir;       /* private temp dir (removed at free) */
  guint port;
  GPid pid;         /* process group leader; 0 when stopped */
  GPid epmd_pid;    /* rabbitmq only */
  guint epmd_port, dist_port;
  gboolean durable; /* mosquitto: persistence db; redis: AOF with fsync always */
} OvaTestServer;

/* A TCP port on 127.0.0.1 that nobody listens on right now. */
guint ova_test_free_port (void);
/* TRUE when the binaries of @kind are installed. */
gboolean ova_test_server_available (const gchar *kind);
/* Starts @kind on a free port and waits until it accepts connections (NULL on failure). */
OvaTestServer *ova_test_server_start (const gchar *kind, GError **error);
/* Like ova_test_server_start, with the broker's own persistence on. */
OvaTestServer *ova_test_server_start_durable (const gchar *kind, GError **error);
/* SIGTERMs the server and waits for it to exit (it saves its state). */
void ova_test_server_stop (OvaTestServer *s);
/* SIGKILLs the server (its whole process group). */
void ova_test_server_kill (OvaTestServer *s);
/* Starts it again on the same port and directory. */
gboolean ova_test_server_restart (OvaTestServer *s, GError **error);
void ova_test_server_free (OvaTestServer *s);
/* Listens on a port and never answers (a black hole for timeout tests); returns the fd. */
gint ova_test_black_hole (guint *port);
/* Connection string "127.0.0.1;port;topic". */
gchar *ova_test_conn_str (guint port, const gchar *topic);
#endif
