/* ova — shared set-up of the ovamux/ovademux test programs.
 * SPDX-License-Identifier: MIT */
#ifndef OVA_MUX_TEST_COMMON_H
#define OVA_MUX_TEST_COMMON_H

#include <gst/gst.h>
#include <gst/check/gstcheck.h>

#if defined(__SANITIZE_ADDRESS__)
#define OVA_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define OVA_TEST_ASAN 1
#endif
#endif

#ifdef OVA_TEST_ASAN
/* GLib drops its first quark block (allocated in a library constructor) on
 * purpose when the quark table grows; LeakSanitizer reports it. Suppress
 * exactly that: allocations made by library constructors. Matching needs
 * full stacks, hence the slow unwinder for malloc. */
const char *__lsan_default_suppressions (void);
const char *
__lsan_default_suppressions (void)
{
  return "leak:_dl_init\n";
}
const char *__asan_default_options (void);
const char *
__asan_default_options (void)
{
  return "fast_unwind_on_malloc=0";
}
#endif

/* Under AddressSanitizer the plugin is built with ASan and cannot be loaded
 * by GStreamer's (uninstrumented) gst-plugin-scanner helper: keep it out of
 * the scanned path and load it into this process directly instead. */
static void
ova_test_setup_plugins_before_init (void)
{
#ifdef OVA_TEST_ASAN
  const gchar *bd = g_getenv ("OVA_BUILD_DIR");
  if (bd) {
    gchar *reg = g_build_filename (bd, "tests", "registry-asan-nopath.bin", NULL);
    g_setenv ("GST_REGISTRY", reg, TRUE);
    g_free (reg);
  }
  g_unsetenv ("GST_PLUGIN_PATH");
#endif
}

static void
ova_test_setup_plugins_after_init (void)
{
#ifdef OVA_TEST_ASAN
  const gchar *bd = g_getenv ("OVA_BUILD_DIR");
  gchar *path = g_build_filename (bd ? bd : ".", "plugins", "mux", "libgstovabatch.so", NULL);
  GError *err = NULL;
  GstPlugin *p = gst_plugin_load_file (path, &err);
  if (!p)
    g_error ("cannot load %s: %s", path, err ? err->message : "?");
  gst_object_unref (p);
  g_free (path);
#endif
}

#define OVA_MUX_TEST_MAIN(suite_func)                                   \
  int                                                                   \
  main (int argc, char **argv)                                          \
  {                                                                     \
    ova_test_setup_plugins_before_init ();                              \
    gst_check_init (&argc, &argv);                                      \
    ova_test_setup_plugins_after_init ();                               \
    return gst_check_run_suite (suite_func (), #suite_func, __FILE__);  \
  }

#endif
