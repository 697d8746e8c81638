/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * ova-engine: inspect, run, time and check ONNX models with ova's engine.
 */
#include <ova/engine.h>
#include "engine/info.h"
#include "engine/npy.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *usage =
  "Usage: ova-engine COMMAND MODEL.onnx [OPTIONS]\n"
  "\n"
  "Commands:\n"
  "  info MODEL                 inputs, outputs, operators, parameters, FLOPs, plan statistics\n"
  "  run MODEL --input NAME=FILE.npy ... --output-dir DIR [--threads T]\n"
  "                             run once; writes DIR/<output name>.npy per graph output\n"
  "  bench MODEL [--batch N] [--threads T] [--iters I] [--warmup W] [--json]\n"
  "                             time runs on random inputs; --json prints one line:\n"
  "                             {model, batch, threads, iters, ms_median, ms_p90}\n"
  "  check MODEL [--batch N] [--threads T] [--seed S] [--input NAME=FILE.npy ...]\n"
  "                             compare outputs with ONNX Runtime on random inputs (or\n"
  "                             the given ones): max|diff| <= 1e-3 x output range\n"
  "                             (needs node and onnxruntime-node: OVA_ORT_NODE_PATH points\n"
  "                             at its node_modules, default .cache/onnxruntime-node/\n"
  "                             node_modules); exit 77 when it is absent\n"
  "\n"
  "Common options:\n"
  "  --backend NAME             cpu (default) or reference (plain C kernels only)\n"
  "  --plan-cache FILE          load/save the optimised plan\n"
  "  --max-batch N              plan for batches up to N (symbolic batch models)\n"
  "  --verbose                  print pass and plan statistics\n"
  "  -h, --help                 this help\n";

typedef struct {
  const char *cmd, *model, *output_dir, *backend, *plan_cache;
  GPtrArray *inputs;
  int threads, batch, iters, warmup, max_batch, seed;
  gboolean json, verbose;
} Args;

static int
die (const char *fmt, const char *arg)
{
  fprintf (stderr, "ova-engine: ");
  fprintf (stderr, fmt, arg);
  fprintf (stderr, "\n");
  return 2;
}

static gboolean
parse_int (const char *s, int *out)
{
  char *end;
  long v = s ? strtol (s, &end, 10) : 0;
  if (!s || *end || v < 0 || v > 1 << 24)
    return FALSE;
  *out = v;
  return TRUE;
}

static OvaEngine *
open_engine (Args *a, int max_batch)
{
  OvaEngineOptions o;
  ova_engine_options_init (&o);
  o.threads = a->threads;
  o.max_batch = max_batch;
  o.verbose = a->verbose;
  if (a->backend)
    o.backend = a->backend;
  o.plan_cache = a->plan_cache;
  GError *err = NULL;
  OvaEngine *e = ova_engine_new (a->model, &o, &err);
  if (!e) {
    fprintf (stderr, "ova-engine: %s\n", err->message);
    g_error_free (err);
  }
  return e;
}

static double
now_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}

static guint32 rng_state = 12345;
static float
rnd (void)
{
  rng_state = rng_state * 1664525u + 1013904223u;
  return (rng_state >> 8) / 16777216.0f;
}

static void
fill_random (OvaTensor *t)
{
  int64_t n = 1;
  for (int i = 0; i < t->rank; i++)
    n *= t->dims[i];
  size_t es = ova_dtype_size (t->dtype);
  t->data = g_malloc0 (n * es + 1);
  for (int64_t i = 0; i < n; i++) {
    switch (t->dtype) {
      case OVA_DTYPE_FLOAT32: ((float *) t->data)[i] = rnd (); break;
      case OVA_DTYPE_INT64: ((int64_t *) t->data)[i] = (int64_t) (rnd () * 4); break;
      case OVA_DTYPE_INT32: ((int32_t *) t->data)[i] = (int32_t) (rnd () * 4); break;
      case OVA_DTYPE_UINT8: ((uint8_t *) t->data)[i] = (uint8_t) (rnd () * 255); break;
      default: break;
    }
  }
}

/* Random inputs shaped like the model's, batch @batch in place of symbolic dims. */
static OvaTensor *
random_inputs (OvaEngine *e, int batch)
{
  int n = ova_engine_get_n_inputs (e);
  OvaTensor *in = g_new0 (OvaTensor, n + 1);
  for (int i = 0; i < n; i++) {
    const OvaTensorInfo *ti = ova_engine_get_input_info (e, i);
    in[i].dtype = ti->dtype;
    in[i].rank = ti->rank;
    for (int d = 0; d < ti->rank; d++)
      in[i].dims[d] = ti->dims[d] >= 0 ? ti->dims[d] : (d == 0 ? batch : 1);
    fill_random (&in[i]);
  }
  return in;
}

static void
free_inputs (OvaTensor *in, int n)
{
  for (int i = 0; i < n; i++)
    g_free (in[i].data);
  g_free (in);
}

static int
cmd_info (Args *a)
{
  OvaEngine *e = open_engine (a, a->max_batch ? a->max_batch : 1);
  if (!e)
    return 1;
  GString *s = g_string_new (NULL);
  ova_engine_describe (e, s);
  fputs (s->str, stdout);
  g_string_free (s, TRUE);
  ova_engine_free (e);
  return 0;
}

static char *
safe_name (const char *name)
{
  char *s = g_strdup (name);
  for (char *p = s; *p; p++)
    if (*p == '/' || *p == '\\' || (*p == '.' && p == s))
      *p = '_';
  return s;
}

static int
cmd_run (Args *a)
{
  if (!a->output_dir)
    return die ("run needs --output-dir DIR%s", "");
  int nin = a->inputs->len;
  OvaTensor *files = g_new0 (OvaTensor, nin + 1);
  char **names = g_new0 (char *, nin + 1);
  int rc = 1, max_batch = 1;
  OvaEngine *e = NULL;
  OvaTensor *in = NULL, *out = NULL;
  GError *err = NULL;
  for (int i = 0; i < nin; i++) {
    const char *arg = g_ptr_array_index (a->inputs, i);
    const char *eq = strchr (arg, '=');
    if (!eq) {
      rc = die ("--input wants NAME=FILE.npy, got '%s'", arg);
      goto out;
    }
    names[i] = g_strndup (arg, eq - arg);
    if (!ova_npy_load (eq + 1, &files[i], &err)) {
      fprintf (stderr, "ova-engine: %s\n", err->message);
      g_clear_error (&err);
      goto out;
    }
    if (files[i].rank > 0)
      max_batch = MAX (max_batch, files[i].dims[0]);
  }
  e = open_engine (a, max_batch);
  if (!e)
    goto out;
  int n_in = ova_engine_get_n_inputs (e), n_out = ova_engine_get_n_outputs (e);
  in = g_new0 (OvaTensor, n_in + 1);
  for (int i = 0; i < n_in; i++) {
    const OvaTensorInfo *ti = ova_engine_get_input_info (e, i);
    int found = -1;
    for (int k = 0; k < nin; k++)
      if (!strcmp (names[k], ti->name))
        found = k;
    if (found < 0) {
      fprintf (stderr, "ova-engine: %s: no --input for graph input '%s'\n", a->model, ti->name);
      goto out;
    }
    in[i] = files[found];
  }
  for (int k = 0; k < nin; k++) {
    gboolean known = FALSE;
    for (int i = 0; i < n_in; i++)
      known |= !strcmp (names[k], ova_engine_get_input_info (e, i)->name);
    if (!known) {
      fprintf (stderr, "ova-engine: %s: the model has no input '%s'\n", a->model, names[k]);
      goto out;
    }
  }
  out = g_new0 (OvaTensor, n_out + 1);
  if (!ova_engine_run (e, in, n_in, out, n_out, &err)) {
    fprintf (stderr, "ova-engine: %s\n", err->message);
    g_clear_error (&err);
    goto out;
  }
  if (g_mkdir_with_parents (a->output_dir, 0755)) {
    rc = die ("cannot create %s", a->output_dir);
    goto out;
  }
  for (int i = 0; i < n_out; i++) {
    char *n = safe_name (ova_engine_get_output_info (e, i)->name);
    char *base = g_strconcat (n, ".npy", NULL);
    char *path = g_build_filename (a->output_dir, base, NULL);
    gboolean ok = ova_npy_save (path, &out[i], &err);
    g_free (n);
    g_free (base);
    g_free (path);
    if (!ok) {
      fprintf (stderr, "ova-engine: %s\n", err->message);
      g_clear_error (&err);
      goto out;
    }
  }
  rc = 0;
out:
  for (int i = 0; i < nin; i++) {
    g_free (files[i].data);
    g_free (names[i]);
  }
  g_free (files);
  g_free (names);
  g_free (in);
  g_free (out);
  ova_engine_free (e);
  return rc;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static int
cmd_bench (Args *a)
{
  int batch = a->batch ? a->batch : 1;
  double c0 = now_ms ();
  OvaEngine *e = open_engine (a, batch);
  double created = now_ms () - c0;
  if (!e)
    return 1;
  int n_in = ova_engine_get_n_inputs (e), n_out = ova_engine_get_n_outputs (e);
  OvaTensor *in = random_inputs (e, batch);
  OvaTensor *out = g_new0 (OvaTensor, n_out + 1);
  if (!a->json)
    printf ("engine created in %.1f ms (%s)\n", created,
            ova_engine_plan_from_cache (e) ? "plan loaded from the plan cache" : "plan compiled");
  int iters = a->iters ? a->iters : 20, warmup = a->warmup >= 0 ? a->warmup : 3;
  double *t = g_new0 (double, iters);
  GError *err = NULL;
  int rc = 0;
  for (int i = 0; i < warmup + iters; i++) {
    double t0 = now_ms ();
    if (!ova_engine_run (e, in, n_in, out, n_out, &err)) {
      fprintf (stderr, "ova-engine: %s\n", err->message);
      g_clear_error (&err);
      rc = 1;
      break;
    }
    if (i >= warmup)
      t[i - warmup] = now_ms () - t0;
  }
  if (!rc) {
    qsort (t, iters, sizeof *t, cmp_double);
    double med = t[iters / 2], p90 = t[MIN (iters - 1, (int) ceil (iters * 0.9) - 1)];
    int threads = a->threads > 0 ? a->threads : (int) g_get_num_processors ();
    if (a->json) {
      char *m = g_strescape (a->model, NULL);
      printf ("{\"model\": \"%s\", \"batch\": %d, \"threads\": %d, \"iters\": %d, \"ms_median\": %.3f, \"ms_p90\": %.3f}\n",
              m, batch, threads, iters, med, p90);
      g_free (m);
    } else {
      printf ("%s batch %d threads %d: median %.3f ms, p90 %.3f ms over %d runs (peak activations %zu bytes)\n",
              a->model, batch, threads, med, p90, iters, ova_engine_get_peak_bytes (e));
    }
  }
  g_free (t);
  free_inputs (in, n_in);
  g_free (out);
  ova_engine_free (e);
  return rc;
}

/* check: writes random inputs as .npy, runs ONNX Runtime through node
 * (onnxruntime-node) on them, and compares with ova's outputs. */
static const char *ort_script =
  "const fs=require('fs');const ort=require('onnxruntime-node');\n"
  "function readNpy(p){const b=fs.readFileSync(p);const hl=b.readUInt16LE(8);const h=b.slice(10,10+hl).toString();\n"
  " const shape=h.match(/'shape': \\(([^)]*)\\)/)[1].split(',').filter(s=>s.trim()).map(Number);\n"
  " const d=h.match(/'descr': '([^']*)'/)[1];const data=b.slice(10+hl);\n"
  " const T={'<f4':[Float32Array,'float32'],'<i8':[BigInt64Array,'int64'],'<i4':[Int32Array,'int32'],'|u1':[Uint8Array,'uint8']}[d];\n"
  " const ab=new ArrayBuffer(data.length);new Uint8Array(ab).set(data);return new ort.Tensor(T[1],new T[0](ab),shape);}\n"
  "(async()=>{const [model,dir,threads,...names]=process.argv.slice(2);\n"
  " const s=await ort.InferenceSession.create(model,{intraOpNumThreads:Number(threads),interOpNumThreads:1});\n"
  " const feeds={};names.forEach((n,i)=>feeds[n]=readNpy(dir+'/in'+i+'.npy'));\n"
  " const r=await s.run(feeds);s.outputNames.forEach((n,i)=>{const t=r[n];\n"
  "  fs.writeFileSync(dir+'/out'+i+'.bin',Buffer.from(new Float32Array(Array.from(t.data,Number)).buffer));});})()\n"
  " .catch(e=>{console.error(e.message);process.exit(3);});\n";

static int
cmd_check (Args *a)
{
  const char *mods = g_getenv ("OVA_ORT_NODE_PATH");
  if (!mods && g_file_test (".cache/onnxruntime-node/node_modules/onnxruntime-node", G_FILE_TEST_IS_DIR))
    mods = ".cache/onnxruntime-node/node_modules"; /* where the tests and benchmarks install it */
  char *node = g_find_program_in_path ("node");
  if (!node || !mods || !g_file_test (mods, G_FILE_TEST_IS_DIR)) {
    fprintf (stderr, "ova-engine: check needs node and OVA_ORT_NODE_PATH=<dir>/node_modules holding onnxruntime-node\n");
    g_free (node);
    return 77;
  }
  int batch = a->batch ? a->batch : 1;
  rng_state = a->seed ? a->seed : 12345;
  OvaEngine *e = open_engine (a, batch);
  if (!e) {
    g_free (node);
    return 1;
  }
  int n_in = ova_engine_get_n_inputs (e), n_out = ova_engine_get_n_outputs (e);
  OvaTensor *in = random_inputs (e, batch);
  OvaTensor *out = g_new0 (OvaTensor, n_out + 1);
  GError *err = NULL;
  int rc = 1;
  /* --input NAME=FILE.npy replaces the random values of that input */
  for (guint k = 0; k < a->inputs->len; k++) {
    const char *arg = g_ptr_array_index (a->inputs, k), *eq = strchr (arg, '=');
    int found = -1;
    for (int i = 0; eq && i < n_in; i++)
      if (!strncmp (ova_engine_get_input_info (e, i)->name, arg, eq - arg) &&
          ova_engine_get_input_info (e, i)->name[eq - arg] == 0)
        found = i;
    OvaTensor t;
    if (found < 0 || !ova_npy_load (eq + 1, &t, &err)) {
      fprintf (stderr, "ova-engine: bad --input '%s'%s%s\n", arg, err ? ": " : "", err ? err->message : "");
      g_clear_error (&err);
      g_free (node);
      free_inputs (in, n_in);
      g_free (out);
      ova_engine_free (e);
      return 1;
    }
    g_free (in[found].data);
    in[found] = t;
  }
  char *dir = g_dir_make_tmp ("ova-check-XXXXXX", NULL);
  char *script = g_build_filename (dir, "ort.js", NULL);
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);
  if (!ova_engine_run (e, in, n_in, out, n_out, &err)) {
    fprintf (stderr, "ova-engine: %s\n", err->message);
    g_clear_error (&err);
    goto done;
  }
  g_file_set_contents (script, ort_script, -1, NULL);
  g_ptr_array_add (argv, g_strdup (node));
  g_ptr_array_add (argv, g_strdup (script));
  g_ptr_array_add (argv, g_strdup (a->model));
  g_ptr_array_add (argv, g_strdup (dir));
  g_ptr_array_add (argv, g_strdup_printf ("%d", a->threads > 0 ? a->threads : 1));
  for (int i = 0; i < n_in; i++) {
    char *p = g_strdup_printf ("%s/in%d.npy", dir, i);
    ova_npy_save (p, &in[i], NULL);
    g_free (p);
    g_ptr_array_add (argv, g_strdup (ova_engine_get_input_info (e, i)->name));
  }
  g_ptr_array_add (argv, NULL);
  char **envp = g_environ_setenv (g_get_environ (), "NODE_PATH", mods, TRUE);
  int status = 0;
  char *errout = NULL;
  if (!g_spawn_sync (NULL, (char **) argv->pdata, envp, 0, NULL, NULL, NULL, &errout, &status, &err) ||
      !g_spawn_check_wait_status (status, NULL)) {
    fprintf (stderr, "ova-engine: ONNX Runtime failed: %s\n", err ? err->message : (errout ? errout : ""));
    g_clear_error (&err);
    g_free (errout);
    g_strfreev (envp);
    goto done;
  }
  g_free (errout);
  g_strfreev (envp);
  rc = 0;
  for (int i = 0; i < n_out; i++) {
    char *p = g_strdup_printf ("%s/out%d.bin", dir, i);
    gchar *buf = NULL;
    gsize len = 0;
    g_file_get_contents (p, &buf, &len, NULL);
    g_free (p);
    int64_t n = 1;
    for (int d = 0; d < out[i].rank; d++)
      n *= out[i].dims[d];
    if (out[i].dtype != OVA_DTYPE_FLOAT32 || len != (gsize) n * 4) {
      printf ("%s: %s, %zu values from ONNX Runtime vs %" G_GINT64_FORMAT " from ova\n",
              ova_engine_get_output_info (e, i)->name, out[i].dtype == OVA_DTYPE_FLOAT32 ? "size mismatch" : "non-float output skipped",
              len / 4, n);
      if (out[i].dtype == OVA_DTYPE_FLOAT32)
        rc = 1;
      g_free (buf);
      continue;
    }
    const float *r = (const float *) buf, *o = out[i].data;
    float lo = INFINITY, hi = -INFINITY, md = 0;
    for (int64_t k = 0; k < n; k++) {
      lo = fminf (lo, r[k]);
      hi = fmaxf (hi, r[k]);
      md = fmaxf (md, fabsf (r[k] - o[k]));
      if (isnan (o[k]) != isnan (r[k]))
        md = INFINITY;
    }
    float range = hi - lo;
    gboolean ok = md <= 1e-3f * fmaxf (range, 1e-6f);
    printf ("%s: max|diff| %.3g, output range %.3g, ratio %.3g: %s\n", ova_engine_get_output_info (e, i)->name,
            md, range, md / fmaxf (range, 1e-30f), ok ? "OK" : "MISMATCH");
    if (!ok)
      rc = 1;
    g_free (buf);
  }
done:
  g_ptr_array_free (argv, TRUE);
  {
    GDir *d = g_dir_open (dir, 0, NULL);
    const char *f;
    while (d && (f = g_dir_read_name (d))) {
      char *p = g_build_filename (dir, f, NULL);
      g_remove (p);
      g_free (p);
    }
    if (d)
      g_dir_close (d);
    g_rmdir (dir);
  }
  g_free (script);
  g_free (dir);
  g_free (node);
  free_inputs (in, n_in);
  g_free (out);
  ova_engine_free (e);
  return rc;
}

int
main (int argc, char **argv)
{
  Args a = { 0 };
  a.warmup = -1;
  a.inputs = g_ptr_array_new ();
  int rc = 2;
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp (s, "-h") || !strcmp (s, "--help")) {
      fputs (usage, stdout);
      rc = 0;
      goto out;
    }
#define INTOPT(flag, field)                                                                         \
  if (!strcmp (s, flag)) {                                                                          \
    if (!parse_int (v, &a.field)) {                                                                 \
      rc = die (flag " wants a number, got '%s'", v ? v : "");                                     \
      goto out;                                                                                     \
    }                                                                                               \
    i++;                                                                                            \
    continue;                                                                                       \
  }
    INTOPT ("--threads", threads);
    INTOPT ("--batch", batch);
    INTOPT ("--iters", iters);
    INTOPT ("--warmup", warmup);
    INTOPT ("--max-batch", max_batch);
    INTOPT ("--seed", seed);
#define STROPT(flag, field)                                                                         \
  if (!strcmp (s, flag)) {                                                                          \
    if (!v) {                                                                                       \
      rc = die (flag " wants a value%s", "");                                                       \
      goto out;                                                                                     \
    }                                                                                               \
    a.field = v;                                                                                    \
    i++;                                                                                            \
    continue;                                                                                       \
  }
    STROPT ("--output-dir", output_dir);
    STROPT ("--backend", backend);
    STROPT ("--plan-cache", plan_cache);
    if (!strcmp (s, "--input")) {
      if (!v) {
        rc = die ("--input wants NAME=FILE.npy%s", "");
        goto out;
      }
      g_ptr_array_add (a.inputs, (gpointer) v);
      i++;
      continue;
    }
    if (!strcmp (s, "--json")) { a.json = TRUE; continue; }
    if (!strcmp (s, "--verbose")) { a.verbose = TRUE; continue; }
    if (s[0] == '-') {
      rc = die ("unknown option '%s' (see --help)", s);
      goto out;
    }
    if (!a.cmd) a.cmd = s;
    else if (!a.model) a.model = s;
    else {
      rc = die ("unexpected argument '%s'", s);
      goto out;
    }
  }
  if (!a.cmd || !a.model) {
    fputs (usage, stderr);
    goto out;
  }
  if (!strcmp (a.cmd, "info")) rc = cmd_info (&a);
  else if (!strcmp (a.cmd, "run")) rc = cmd_run (&a);
  else if (!strcmp (a.cmd, "bench")) rc = cmd_bench (&a);
  else if (!strcmp (a.cmd, "check")) rc = cmd_check (&a);
  else rc = die ("unknown command '%s' (see --help)", a.cmd);
out:
  g_ptr_array_free (a.inputs, TRUE);
  return rc;
}
