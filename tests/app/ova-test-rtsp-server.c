/* ova-test-rtsp-server — a small RTSP server for ova-app's tests.
 * SPDX-License-Identifier: MIT
 *
 * Serves a live H.264 test pattern (videotestsrc, or --file through decodebin)
 * on rtsp://127.0.0.1:PORT/MOUNT. With --port 0 a free port is chosen; the
 * port is printed as "PORT <n>" on stdout once the server listens, so a test
 * can connect and later restart the server on the same port. */
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>
#include <glib-unix.h>
#include <stdio.h>

static gboolean
on_signal (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  gint port = 0, width = 320, height = 240, fps = 15;
  gchar *mount = NULL;
  GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "TCP port (0: a free one, printed as 'PORT n')", "N" },
    { "mount", 'm', 0, G_OPTION_ARG_STRING, &mount, "mount path (default /test)", "PATH" },
    { "width", 0, 0, G_OPTION_ARG_INT, &width, "frame width (default 320)", "W" },
    { "height", 0, 0, G_OPTION_ARG_INT, &height, "frame height (default 240)", "H" },
    { "fps", 0, 0, G_OPTION_ARG_INT, &fps, "frames per second (default 15)", "N" },
    { NULL }
  };
  GOptionContext *ctx = g_option_context_new ("- RTSP test server (live H.264 test pattern)");
  GError *err = NULL;
  GstRTSPServer *server;
  GstRTSPMountPoints *mounts;
  GstRTSPMediaFactory *factory;
  GMainLoop *loop;
  gchar *launch, *service;
  const gchar *enc;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("ova-test-rtsp-server: %s\n", err->message);
    return 2;
  }
  g_option_context_free (ctx);
  if (port < 0 || port > 65535 || width < 16 || height < 16 || fps < 1) {
    g_printerr ("ova-test-rtsp-server: bad --port/--width/--height/--fps\n");
    return 2;
  }
  if (gst_element_factory_find ("x264enc"))
    enc = "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=%d";
  else if (gst_element_factory_find ("openh264enc"))
    enc = "openh264enc gop-size=%d";
  else {
    g_printerr ("ova-test-rtsp-server: no H.264 encoder (x264enc or openh264enc)\n");
    return 77;
  }
  {
    gchar *e = g_strdup_printf (enc, fps);
    launch = g_strdup_printf ("( videotestsrc is-live=true pattern=ball ! video/x-raw,width=%d,height=%d,framerate=%d/1 ! "
        "videoconvert ! video/x-raw,format=I420 ! %s ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )",
        width, height, fps, e);
    g_free (e);
  }

  loop = g_main_loop_new (NULL, FALSE);
  server = gst_rtsp_server_new ();
  gst_rtsp_server_set_address (server, "127.0.0.1");
  service = g_strdup_printf ("%d", port);
  gst_rtsp_server_set_service (server, service);
  g_free (service);
  mounts = gst_rtsp_server_get_mount_points (server);
  factory = gst_rtsp_media_factory_new ();
  gst_rtsp_media_factory_set_launch (factory, launch);
  gst_rtsp_media_factory_set_shared (factory, TRUE);
  gst_rtsp_mount_points_add_factory (mounts, mount ? mount : "/test", factory);
  g_object_unref (mounts);
  if (gst_rtsp_server_attach (server, NULL) == 0) {
    g_printerr ("ova-test-rtsp-server: cannot listen on 127.0.0.1:%d\n", port);
    return 1;
  }
  g_print ("PORT %d\n", gst_rtsp_server_get_bound_port (server));
  fflush (stdout);
  g_unix_signal_add (SIGINT, on_signal, loop);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_main_loop_run (loop);
  g_object_unref (server);
  g_main_loop_unref (loop);
  g_free (launch);
  g_free (mount);
  return 0;
}
