/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Conformance: runs ONNX's backend node tests (Debian libonnx-testdata; each
 * folder has model.onnx and test_data_set_N/{input,output}_K.pb) through the
 * whole engine (loader, passes, backend) and compares with rtol 1e-3,
 * atol 1e-4. Tests whose operators are all claimed by ova_op_list() count;
 * each runs in a child process so one crash cannot hide the others.
 *
 *   conformance [--data DIR] [--backend cpu|reference] [--filter SUBSTR]
 *               [--min-rate 0.95] [--markdown FILE] [--verbose]
 *
 * Exits 77 when the test data is not installed, 1 below --min-rate.
 */
#include <ova/engine.h>
#include "engine/graph.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *backend = "cpu";
static gboolean verbose;

static char *
squash (const char *s)
{
  GString *o = g_string_new (NULL);
  for (; *s; s++)
    if (*s != '_')
      g_string_append_c (o, g_ascii_tolower (*s));
  return g_string_free (o, FALSE);
}

static double
half_to_float (uint16_t h)
{
  int e = (h >> 10) & 31, m = h & 1023;
  double v = e == 0 ? ldexp (m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp (m + 1024, e - 25);
  return (h & 0x8000) ? -v : v;
}

static gboolean
compare (const char *what, const OvaTensor *got, const OvaTensorRef *want)
{
  if (got->dtype != want->dtype || got->rank != want->rank ||
      memcmp (got->dims, want->dims, sizeof (int64_t) * want->rank)) {
    char *a = ova_dims_to_string (got->rank, got->dims), *b = ova_dims_to_string (want->rank, want->dims);
    fprintf (stderr, "  %s: got %s %s, want %s %s\n", what, ova_dtype_name (got->dtype), a,
             ova_dtype_name (want->dtype), b);
    g_free (a);
    g_free (b);
    return FALSE;
  }
  int64_t n = ova_tensor_ref_numel (want);
  for (int64_t i = 0; i < n; i++) {
    double x, y;
    switch (want->dtype) {
      case OVA_DTYPE_FLOAT32: x = ((float *) got->data)[i]; y = ((float *) want->data)[i]; break;
      case OVA_DTYPE_FLOAT64: x = ((double *) got->data)[i]; y = ((double *) want->data)[i]; break;
      case OVA_DTYPE_FLOAT16:
        x = half_to_float (((uint16_t *) got->data)[i]);
        y = half_to_float (((uint16_t *) want->data)[i]);
        break;
      case OVA_DTYPE_STRING:
        fprintf (stderr, "  %s: dtype %s not compared\n", what, ova_dtype_name (want->dtype));
        return FALSE;
      default: {
        size_t es = ova_dtype_size (want->dtype);
        if (memcmp ((char *) got->data + i * es, (char *) want->data + i * es, es)) {
          fprintf (stderr, "  %s: element %" G_GINT64_FORMAT " differs\n", what, i);
          return FALSE;
        }
        continue;
      }
    }
    if (isnan (y) && isnan (x))
      continue;
    if (isinf (y) && x == y)
      continue;
    if (!(fabs (x - y) <= 1e-4 + 1e-3 * fabs (y))) {
      fprintf (stderr, "  %s: element %" G_GINT64_FORMAT ": got %g, want %g\n", what, i, x, y);
      return FALSE;
    }
  }
  return TRUE;
}

/* Runs one test folder; returns 0 pass, 1 fail. */
static int
run_test (const char *dir)
{
  char *model = g_build_filename (dir, "model.onnx", NULL);
  OvaEngineOptions o;
  ova_engine_options_init (&o);
  o.backend = backend;
  o.threads = 1;
  GError *err = NULL;
  int rc = 1;
  OvaEngine *e = NULL;
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *entry;
  GPtrArray *sets = g_ptr_array_new_with_free_func (g_free);
  while (d && (entry = g_dir_read_name (d)))
    if (g_str_has_prefix (entry, "test_data_set_"))
      g_ptr_array_add (sets, g_build_filename (dir, entry, NULL));
  if (d)
    g_dir_close (d);
  if (!sets->len) {
    fprintf (stderr, "  no test data sets\n");
    goto out;
  }
  /* The plan is built for the first data set's shapes; max_batch covers it. */
  {
    char *p = g_build_filename (g_ptr_array_index (sets, 0), "input_0.pb", NULL);
    OvaTensorRef t;
    if (ova_tensor_proto_load (p, &t, NULL, NULL)) {
      o.max_batch = t.rank > 0 ? MAX (t.dims[0], 1) : 1;
      ova_tensor_ref_clear (&t);
    }
    g_free (p);
  }
  e = ova_engine_new (model, &o, &err);
  if (!e) {
    fprintf (stderr, "  %s\n", err->message);
    goto out;
  }
  rc = 0;
  for (guint s = 0; s < sets->len && !rc; s++) {
    int n_in = ova_engine_get_n_inputs (e), n_out = ova_engine_get_n_outputs (e);
    OvaTensorRef *in = g_new0 (OvaTensorRef, n_in + 1), *want = g_new0 (OvaTensorRef, n_out + 1);
    OvaTensor *tin = g_new0 (OvaTensor, n_in + 1), *tout = g_new0 (OvaTensor, n_out + 1);
    for (int i = 0; i < n_in && !rc; i++) {
      char *f = g_strdup_printf ("%s/input_%d.pb", (char *) g_ptr_array_index (sets, s), i);
      if (!ova_tensor_proto_load (f, &in[i], NULL, &err)) {
        fprintf (stderr, "  %s\n", err->message);
        rc = 1;
      }
      g_free (f);
      tin[i].data = in[i].data;
      tin[i].dtype = in[i].dtype;
      tin[i].rank = in[i].rank;
      memcpy (tin[i].dims, in[i].dims, sizeof tin[i].dims);
    }
    for (int i = 0; i < n_out && !rc; i++) {
      char *f = g_strdup_printf ("%s/output_%d.pb", (char *) g_ptr_array_index (sets, s), i);
      if (!ova_tensor_proto_load (f, &want[i], NULL, &err)) {
        fprintf (stderr, "  %s\n", err->message);
        rc = 1;
      }
      g_free (f);
    }
    if (!rc && !ova_engine_run (e, tin, n_in, tout, n_out, &err)) {
      fprintf (stderr, "  %s\n", err->message);
      rc = 1;
    }
    for (int i = 0; i < n_out && !rc; i++)
      if (!compare (ova_engine_get_output_info (e, i)->name, &tout[i], &want[i]))
        rc = 1;
    for (int i = 0; i < n_in; i++)
      ova_tensor_ref_clear (&in[i]);
    for (int i = 0; i < n_out; i++)
      ova_tensor_ref_clear (&want[i]);
    g_free (in);
    g_free (want);
    g_free (tin);
    g_free (tout);
  }
out:
  g_clear_error (&err);
  ova_engine_free (e);
  g_ptr_array_free (sets, TRUE);
  g_free (model);
  return rc;
}

static int
cmp_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

typedef struct {
  const char *op;
  int pass, total;
  GString *failed;
} OpCount;

int
main (int argc, char **argv)
{
  const char *data = g_getenv ("OVA_ONNX_NODE_TESTS");
  const char *filter = NULL, *markdown = NULL;
  double min_rate = 0.95;
  if (!data)
    data = "/usr/share/libonnx-testdata/data/node";
  for (int i = 1; i < argc; i++) {
    if (!strcmp (argv[i], "--data") && i + 1 < argc) data = argv[++i];
    else if (!strcmp (argv[i], "--backend") && i + 1 < argc) backend = argv[++i];
    else if (!strcmp (argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
    else if (!strcmp (argv[i], "--markdown") && i + 1 < argc) markdown = argv[++i];
    else if (!strcmp (argv[i], "--min-rate") && i + 1 < argc) min_rate = g_ascii_strtod (argv[++i], NULL);
    else if (!strcmp (argv[i], "--verbose")) verbose = TRUE;
    else {
      fprintf (stderr, "usage: conformance [--data DIR] [--backend NAME] [--filter S] [--min-rate R] [--markdown FILE] [--verbose]\n");
      return 2;
    }
  }
  GDir *dir = g_dir_open (data, 0, NULL);
  if (!dir) {
    printf ("SKIP: ONNX node tests not found at %s (Debian package libonnx-testdata)\n", data);
    return 77;
  }
  GPtrArray *tests = g_ptr_array_new_with_free_func (g_free);
  const char *entry;
  while ((entry = g_dir_read_name (dir)))
    if (!filter || strstr (entry, filter))
      g_ptr_array_add (tests, g_strdup (entry));
  g_dir_close (dir);
  g_ptr_array_sort (tests, cmp_names);

  const OvaOpDef *const *ops = ova_op_list ();
  int n_ops = 0;
  while (ops[n_ops])
    n_ops++;
  OpCount *counts = g_new0 (OpCount, n_ops + 1);
  char **squashed = g_new0 (char *, n_ops + 1);
  for (int i = 0; i < n_ops; i++) {
    counts[i].op = ops[i]->op_type;
    counts[i].failed = g_string_new (NULL);
    squashed[i] = squash (ops[i]->op_type);
  }
  int pass = 0, total = 0, skipped = 0;
  for (guint t = 0; t < tests->len; t++) {
    const char *name = g_ptr_array_index (tests, t);
    char *tdir = g_build_filename (data, name, NULL);
    char *model = g_build_filename (tdir, "model.onnx", NULL);
    /* Which operators does the model use, and are all of them claimed? */
    gchar *buf = NULL;
    gsize len = 0;
    OvaGraph *g = NULL;
    if (g_file_get_contents (model, &buf, &len, NULL))
      g = ova_graph_load_from_data (model, buf, len, NULL);
    g_free (buf);
    if (!g) {
      skipped++;
      g_free (tdir);
      g_free (model);
      continue;
    }
    /* Attribute the test to the operator named by the folder (test_<op>...). */
    char *sq = squash (name + 5);
    int best = -1;
    size_t best_len = 0;
    for (int i = 0; i < n_ops; i++) {
      size_t l = strlen (squashed[i]);
      if (l > best_len && g_str_has_prefix (sq, squashed[i])) {
        gboolean used = FALSE;
        for (guint ni = 0; ni < g->nodes->len; ni++)
          used |= !strcmp (OVA_NODE (g, ni)->op_type, ops[i]->op_type);
        if (used) {
          best = i;
          best_len = l;
        }
      }
    }
    if (best < 0 && g->nodes->len)
      for (int i = 0; i < n_ops; i++)
        if (!strcmp (ops[i]->op_type, OVA_NODE (g, 0)->op_type))
          best = i;
    ova_graph_unref (g);
    g_free (sq);
    if (best < 0) {
      skipped++;
      g_free (tdir);
      g_free (model);
      continue;
    }
    fflush (stdout);
    fflush (stderr);
    int status = 0;
    pid_t pid = fork ();
    if (pid == 0) {
      if (!verbose) {
        FILE *f = freopen ("/dev/null", "w", stderr);
        (void) f;
      }
      alarm (60);
      _exit (run_test (tdir));
    }
    waitpid (pid, &status, 0);
    gboolean ok = WIFEXITED (status) && WEXITSTATUS (status) == 0;
    if (verbose || !ok)
      printf ("%s %s%s\n", ok ? "PASS" : "FAIL", name,
              WIFSIGNALED (status) ? g_strdup_printf (" (signal %d)", WTERMSIG (status)) : "");
    counts[best].total++;
    total++;
    if (ok) {
      counts[best].pass++;
      pass++;
    } else {
      g_string_append_printf (counts[best].failed, "%s%s", counts[best].failed->len ? ", " : "", name + 5);
    }
    g_free (tdir);
    g_free (model);
  }

  printf ("\n%-24s %s\n", "operator", "passed/tests");
  FILE *md = markdown ? fopen (markdown, "w") : NULL;
  if (md)
    fprintf (md, "| Operator | Since opset | Node tests passed | Failing tests |\n|---|---|---|---|\n");
  for (int i = 0; i < n_ops; i++) {
    printf ("%-24s %d/%d\n", counts[i].op, counts[i].pass, counts[i].total);
    if (md)
      fprintf (md, "| %s | %d | %d/%d | %s |\n", counts[i].op, ops[i]->since_opset, counts[i].pass, counts[i].total,
               counts[i].failed->str);
  }
  double rate = total ? (double) pass / total : 0;
  printf ("\nbackend %s: %d/%d node tests of claimed operators pass (%.1f %%); %d tests use unclaimed operators\n",
          backend, pass, total, 100 * rate, skipped);
  if (md) {
    fprintf (md, "\nTotal (backend `%s`): %d/%d node tests of claimed operators pass (%.1f %%).\n", backend, pass,
             total, 100 * rate);
    fclose (md);
  }
  for (int i = 0; i < n_ops; i++) {
    g_string_free (counts[i].failed, TRUE);
    g_free (squashed[i]);
  }
  g_free (counts);
  g_free (squashed);
  g_ptr_array_free (tests, TRUE);
  if (total == 0) {
    printf ("SKIP: no node tests for claimed operators\n");
    return 77;
  }
  return rate >= min_rate ? 0 : 1;
}
