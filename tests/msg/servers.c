/* ova tests — real brokers on loopback. SPDX-License-Identifier: MIT */
#include "servers.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

guint
ova_test_free_port (void)
{
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = { 0 };
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  bind (fd, (struct sockaddr *) &a, sizeof a);
  socklen_t len = sizeof a;
  getsockname (fd, (struct sockaddr *) &a, &len);
  close (fd);
  return ntohs (a.sin_port);
}

gint
ova_test_black_hole (guint *port)
{
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = { 0 };
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  bind (fd, (struct sockaddr *) &a, sizeof a);
  listen (fd, 16);
  socklen_t len = sizeof a;
  getsockname (fd, (struct sockaddr *) &a, &len);
  *port = ntohs (a.sin_port);
  return fd;
}

gchar *
ova_test_conn_str (guint port, const gchar *topic)
{
  return topic ? g_strdup_printf ("127.0.0.1;%u;%s", port, topic) : g_strdup_printf ("127.0.0.1;%u", port);
}

static const gchar *
binary_of (const gchar *kind)
{
  if (!g_strcmp0 (kind, "mosquitto"))
    return "/usr/sbin/mosquitto";
  if (!g_strcmp0 (kind, "redis"))
    return "redis-server";
  if (!g_strcmp0 (kind, "rabbitmq"))
    return "/usr/lib/rabbitmq/bin/rabbitmq-server";
  return NULL;
}

gboolean
ova_test_server_available (const gchar *kind)
{
  const gchar *b = binary_of (kind);
  if (!b)
    return FALSE;
  g_autofree gchar *p = g_find_program_in_path (b);
  if (!p)
    return FALSE;
  if (!g_strcmp0 (kind, "rabbitmq")) {
    g_autofree gchar *e = g_find_program_in_path ("epmd");
    g_autofree gchar *e2 = g_find_program_in_path ("/usr/lib/erlang/bin/epmd");
    return e || e2;
  }
  return TRUE;
}

static void
child_setup (gpointer data)
{
  setsid (); /* own process group: killed as a whole */
}

static gboolean
port_open (guint port)
{
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = { 0 };
  a.sin_family = AF_INET;
  a.sin_port = htons (port);
  a.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  gboolean ok = connect (fd, (struct sockaddr *) &a, sizeof a) == 0;
  close (fd);
  return ok;
}

static gboolean
spawn (gchar **argv, gchar **envp, const gchar *log, GPid *pid, GError **error)
{
  g_autofree gchar *logp = g_build_filename (log, NULL);
  int fd = g_open (logp, O_WRONLY | O_CREAT | O_APPEND, 0644);
  gboolean ok = g_spawn_async_with_fds (NULL, argv, envp, G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH,
                                        child_setup, NULL, pid, -1, fd, fd, error);
  close (fd);
  return ok;
}

static gboolean
launch (OvaTestServer *s, GError **error)
{
  g_autofree gchar *log = g_build_filename (s->dir, "server.log", NULL);
  g_autofree gchar *port = g_strdup_printf ("%u", s->port);
  gint64 timeout_s = 10;
  if (!g_strcmp0 (s->kind, "mosquitto")) {
    g_autofree gchar *conf = g_build_filename (s->dir, "mosquitto.conf", NULL);
    g_autofree gchar *text = g_strdup_printf ("listener %u 127.0.0.1\nallow_anonymous true\n"
                                              "persistence %s\npersistence_location %s/\n"
                                              "max_queued_messages 0\nmax_inflight_messages 0\n"
                                              /* as root, mosquitto would drop to its own user,
                                               * which cannot write into our temp dir */
                                              "user %s\n",
                                              s->port, s->durable ? "true" : "false", s->dir,
                                              g_get_user_name ());
    g_file_set_contents (conf, text, -1, NULL);
    gchar *argv[] = { "/usr/sbin/mosquitto", "-c", conf, NULL };
    if (!spawn (argv, NULL, log, &s->pid, error))
      return FALSE;
  } else if (!g_strcmp0 (s->kind, "redis")) {
    gchar *argv[] = { "redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
                      "--appendonly", s->durable ? "yes" : "no", "--appendfsync", "always",
                      "--dir", s->dir, NULL };
    if (!spawn (argv, NULL, log, &s->pid, error))
      return FALSE;
  } else {
    timeout_s = 90;
    g_autofree gchar *epmd_port = g_strdup_printf ("%u", s->epmd_port);
    g_autofree gchar *dist = g_strdup_printf ("%u", s->dist_port);
    g_autofree gchar *mnesia = g_build_filename (s->dir, "mnesia", NULL);
    g_autofree gchar *logs = g_build_filename (s->dir, "log", NULL);
    g_autofree gchar *plugins = g_build_filename (s->dir, "enabled_plugins", NULL);
    g_autofree gchar *conf = g_build_filename (s->dir, "rabbitmq", NULL);
    g_autofree gchar *pidf = g_build_filename (s->dir, "rabbit.pid", NULL);
    g_file_set_contents (plugins, "[].\n", -1, NULL);
    gchar **env = g_get_environ ();
    env = g_environ_setenv (env, "HOME", s->dir, TRUE);
    env = g_environ_setenv (env, "RABBITMQ_NODENAME", "ovatest@localhost", TRUE);
    env = g_environ_setenv (env, "RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1", TRUE);
    env = g_environ_setenv (env, "RABBITMQ_NODE_PORT", port, TRUE);
    env = g_environ_setenv (env, "RABBITMQ_DIST_PORT", dist, TRUE);
    env = g_environ_setenv (env, "RABBITMQ_MNESIA_BASE", mnesia, TRUE);
    env = g_environ_setenv (env, "RABBITMQ_LOG_BASE", logs, TRUE);
    env = g_environ_setenv (env, "RABBITMQ_ENABLED_PLUGINS_FILE", plugins, TRUE);
    env = g_environ_setenv (env, "RABBITMQ_CONFIG_FILE", conf, TRUE);
    env = g_environ_setenv (env, "RABBITMQ_PID_FILE", pidf, TRUE);
    env = g_environ_setenv (env, "ERL_EPMD_PORT", epmd_port, TRUE);
    if (!s->epmd_pid) {
      g_autofree gchar *epmd = g_find_program_in_path ("epmd");
      if (!epmd)
        epmd = g_strdup ("/usr/lib/erlang/bin/epmd");
      gchar *eargv[] = { epmd, "-port", epmd_port, "-address", "127.0.0.1", NULL };
      if (!spawn (eargv, env, log, &s->epmd_pid, error)) {
        g_strfreev (env);
        return FALSE;
      }
    }
    gchar *argv[] = { "/usr/lib/rabbitmq/bin/rabbitmq-server", NULL };
    gboolean ok = spawn (argv, env, log, &s->pid, error);
    g_strfreev (env);
    if (!ok)
      return FALSE;
  }
  gint64 end = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < end) {
    if (port_open (s->port))
      return TRUE;
    int st;
    if (waitpid (s->pid, &st, WNOHANG) == s->pid) {
      s->pid = 0;
      g_autofree gchar *text = NULL;
      g_file_get_contents (log, &text, NULL, NULL);
      g_set_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED, "%s exited: %s", s->kind,
                   text ? text : "");
      return FALSE;
    }
    g_usleep (50000);
  }
  g_set_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED, "%s did not listen on %u within %"
               G_GINT64_FORMAT " s (log: %s)", s->kind, s->port, timeout_s, log);
  return FALSE;
}

static OvaTestServer *
start (const gchar *kind, gboolean durable, GError **error)
{
  OvaTestServer *s = g_new0 (OvaTestServer, 1);
  s->durable = durable;
  s->kind = g_strdup (kind);
  s->dir = g_dir_make_tmp ("ova-test-XXXXXX", error);
  if (!s->dir) {
    ova_test_server_free (s);
    return NULL;
  }
  s->port = ova_test_free_port ();
  s->epmd_port = ova_test_free_port ();
  s->dist_port = ova_test_free_port ();
  if (!launch (s, error)) {
    ova_test_server_free (s);
    return NULL;
  }
  return s;
}

OvaTestServer *
ova_test_server_start (const gchar *kind, GError **error)
{
  return start (kind, FALSE, error);
}

OvaTestServer *
ova_test_server_start_durable (const gchar *kind, GError **error)
{
  return start (kind, TRUE, error);
}

static void
kill_group (GPid *pid)
{
  if (*pid > 0) {
    kill (-*pid, SIGKILL);
    kill (*pid, SIGKILL);
    waitpid (*pid, NULL, 0);
    g_spawn_close_pid (*pid);
    *pid = 0;
  }
}

void
ova_test_server_kill (OvaTestServer *s)
{
  kill_group (&s->pid);
  /* wait until the port is really closed */
  for (int i = 0; i < 100 && port_open (s->port); i++)
    g_usleep (20000);
}

void
ova_test_server_stop (OvaTestServer *s)
{
  if (s->pid > 0) {
    kill (s->pid, SIGTERM);
    waitpid (s->pid, NULL, 0);
    kill (-s->pid, SIGKILL); /* anything it left behind */
    g_spawn_close_pid (s->pid);
    s->pid = 0;
  }
}

gboolean
ova_test_server_restart (OvaTestServer *s, GError **error)
{
  ova_test_server_kill (s);
  return launch (s, error);
}

static void
rm_rf (const gchar *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK)) {
    GDir *d = g_dir_open (path, 0, NULL);
    const gchar *n;
    while (d && (n = g_dir_read_name (d))) {
      g_autofree gchar *p = g_build_filename (path, n, NULL);
      rm_rf (p);
    }
    if (d)
      g_dir_close (d);
    g_rmdir (path);
  } else {
    g_unlink (path);
  }
}

void
ova_test_server_free (OvaTestServer *s)
{
  if (!s)
    return;
  kill_group (&s->pid);
  kill_group (&s->epmd_pid);
  if (s->dir && !g_getenv ("OVA_TEST_KEEP"))
    rm_rf (s->dir);
  g_free (s->dir);
  g_free (s->kind);
  g_free (s);
}
