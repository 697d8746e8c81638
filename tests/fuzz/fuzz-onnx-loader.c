/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Fuzz target for the ONNX loader: parse (protobuf-c), build the IR, infer
 * shapes, fold constants and run the graph passes on arbitrary bytes. Every
 * input must end in a graph or a GError, never a crash or a leak.
 *
 * libFuzzer build: tests/fuzz/build-libfuzzer.sh; without -DOVA_LIBFUZZER
 * this file has a main() that replays the files given on the command line
 * (the corpus), which the test suite runs.
 */
#include "engine/plan.h"

#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  GError *err = NULL;
  OvaGraph *g = ova_graph_load_from_data ("fuzz.onnx", data, size, &err);
  if (!g) {
    g_assert (err != NULL);
    g_error_free (err);
    return 0;
  }
  /* Specialise to batch 1 (symbolic dims = 1), bounded input sizes. */
  int64_t (*dims)[OVA_MAX_DIMS] = g_malloc0 (sizeof (int64_t[OVA_MAX_DIMS]) * (g->n_inputs + 1));
  gboolean small = TRUE;
  for (int i = 0; i < g->n_inputs; i++) {
    OvaValue *v = OVA_VALUE (g, g->inputs[i]);
    int64_t n = 1;
    for (int d = 0; d < v->rank; d++) {
      dims[i][d] = v->dims[d] < 0 ? 1 : v->dims[d];
      if (dims[i][d] > (1 << 16))
        small = FALSE;
      else
        n *= dims[i][d];
    }
    if (n > (1 << 20))
      small = FALSE;
  }
  if (small) {
    OvaPlan *p = ova_plan_new (g, (const int64_t (*)[OVA_MAX_DIMS]) dims, 1, TRUE, &err);
    if (p)
      ova_plan_free (p);
    else
      g_clear_error (&err);
  }
  g_free (dims);
  ova_graph_unref (g);
  return 0;
}

#ifndef OVA_LIBFUZZER
int
main (int argc, char **argv)
{
  int n = 0;
  for (int i = 1; i < argc; i++) {
    GDir *d = g_dir_open (argv[i], 0, NULL);
    GPtrArray *files = g_ptr_array_new_with_free_func (g_free);
    if (d) {
      const char *f;
      while ((f = g_dir_read_name (d)))
        g_ptr_array_add (files, g_build_filename (argv[i], f, NULL));
      g_dir_close (d);
    } else {
      g_ptr_array_add (files, g_strdup (argv[i]));
    }
    for (guint k = 0; k < files->len; k++) {
      gchar *buf;
      gsize len;
      if (!g_file_get_contents (g_ptr_array_index (files, k), &buf, &len, NULL)) {
        fprintf (stderr, "cannot read %s\n", (char *) g_ptr_array_index (files, k));
        return 1;
      }
      LLVMFuzzerTestOneInput ((const uint8_t *) buf, len);
      /* and every truncation point of the small ones */
      if (len < 4096)
        for (gsize cut = 0; cut < len; cut += 1 + len / 64)
          LLVMFuzzerTestOneInput ((const uint8_t *) buf, cut);
      g_free (buf);
      n++;
    }
    g_ptr_array_free (files, TRUE);
  }
  printf ("replayed %d inputs\n", n);
  return n > 0 ? 0 : 77;
}
#endif
