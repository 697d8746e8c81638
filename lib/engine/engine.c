/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * The public engine API: load, specialise per input shape (plans are built
 * for max_batch up front and on demand for other shapes, then cached), run.
 */
#include "ova-config.h"
#include "plan.h"
#include "plancache.h"
#include "engine-private.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

G_DEFINE_QUARK (ova-engine-error-quark, ova_engine_error)

#define MAX_PLANS 8


void
ova_engine_options_init (OvaEngineOptions *opts)
{
  memset (opts, 0, sizeof *opts);
  opts->backend = "cpu";
  opts->precision = OVA_PRECISION_FP32;
  opts->max_batch = 1;
}

size_t
ova_dtype_size (OvaDataType t)
{
  switch (t) {
    case OVA_DTYPE_FLOAT32: case OVA_DTYPE_INT32: case OVA_DTYPE_UINT32: return 4;
    case OVA_DTYPE_UINT8: case OVA_DTYPE_INT8: case OVA_DTYPE_BOOL: return 1;
    case OVA_DTYPE_UINT16: case OVA_DTYPE_INT16: case OVA_DTYPE_FLOAT16: return 2;
    case OVA_DTYPE_INT64: case OVA_DTYPE_FLOAT64: case OVA_DTYPE_UINT64: return 8;
    case OVA_DTYPE_STRING: return sizeof (char *);
    default: return 0;
  }
}

const char *
ova_dtype_name (OvaDataType t)
{
  static const char *names[] = { "undefined", "float32", "uint8", "int8", "uint16", "int16", "int32",
                                 "int64", "string", "bool", "float16", "float64", "uint32", "uint64" };
  return (unsigned) t < G_N_ELEMENTS (names) ? names[t] : "unknown";
}

const OvaBackend *
ova_backend_lookup (const char *name)
{
  if (!name || !*name || !strcmp (name, "cpu"))
    return ova_backend_cpu ();
  if (!strcmp (name, "reference"))
    return ova_backend_reference ();
#if OVA_HAVE_CUDA
  if (!strcmp (name, "cuda"))
    return ova_backend_cuda ();
#endif
  return NULL;
}

static OvaPlan *
build_plan_threads (OvaEngine *e, const int64_t (*dims)[OVA_MAX_DIMS], const void *const *values, int batch,
                    int threads, GError **error);

static OvaPlan *
build_plan (OvaEngine *e, const int64_t (*dims)[OVA_MAX_DIMS], const void *const *values, int batch, GError **error)
{
  return build_plan_threads (e, dims, values, batch, e->opts.threads, error);
}

static OvaPlan *
build_plan_threads (OvaEngine *e, const int64_t (*dims)[OVA_MAX_DIMS], const void *const *values, int batch,
                    int threads, GError **error)
{
  if (!ova_engine_ensure_graph (e, error))
    return NULL;
  OvaPlan *plan = ova_plan_new_with_values (e->graph, dims, values, batch, TRUE, error);
  if (!plan)
    return NULL;
  plan->threads = threads;
  plan->precision = e->backend->precision ? e->backend->precision (e->opts.precision) : OVA_PRECISION_FP32;
  plan->verbose = e->opts.verbose;
  if (e->plan_cache)
    plan->graph_blob = ova_plan_cache_serialize (plan);
  if (!ova_plan_compile (plan, e->backend, error)) {
    ova_plan_free (plan);
    return NULL;
  }
  if (e->opts.verbose)
    g_printerr ("ova-engine: %s batch %d: %d nodes, %d folded, %d fused, %d removed, peak %zu bytes\n",
                e->path, batch, plan->n_order, plan->n_folded, plan->n_fused, plan->n_removed,
                plan->arena_bytes);
  return plan;
}

static gboolean
plan_matches (OvaPlan *p, const int64_t (*dims)[OVA_MAX_DIMS], const void *const *values)
{
  OvaGraph *g = p->g;
  for (int i = 0; i < g->n_inputs; i++) {
    OvaValue *v = OVA_VALUE (g, g->inputs[i]);
    if (memcmp (v->dims, dims[i], sizeof (int64_t) * v->rank))
      return FALSE;
    if (values && values[i] && (!v->data || memcmp (g_bytes_get_data (v->data, NULL), values[i], g_bytes_get_size (v->data))))
      return FALSE;
  }
  return TRUE;
}

void
ova_engine_add_plan (OvaEngine *e, OvaPlan *p)
{
  if (e->plans->len >= MAX_PLANS)
    g_ptr_array_remove_index (e->plans, 0);
  g_ptr_array_add (e->plans, p);
  e->peak_bytes = MAX (e->peak_bytes, p->arena_bytes);
}

/* Parses the model if not done yet (a plan loaded from a plan file needs no
 * model graph until another input shape is asked for). */
gboolean
ova_engine_ensure_graph (OvaEngine *e, GError **error)
{
  if (e->graph)
    return TRUE;
  gint64 t0 = g_get_monotonic_time ();
  e->graph = ova_graph_load (e->path, error);
  if (e->graph && e->opts.verbose)
    g_printerr ("ova-engine: %s parsed in %.1f ms\n", e->path, (g_get_monotonic_time () - t0) / 1e3);
  return e->graph != NULL;
}

OvaEngine *
ova_engine_new (const char *onnx_path, const OvaEngineOptions *opts, GError **error)
{
  OvaEngineOptions defaults;
  if (!opts) {
    ova_engine_options_init (&defaults);
    opts = &defaults;
  }
  g_return_val_if_fail (onnx_path != NULL, NULL);
  const OvaBackend *backend = ova_backend_lookup (opts->backend);
  if (!backend) {
    g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_UNSUPPORTED, "%s: backend '%s' is not available",
                 onnx_path, opts->backend);
    return NULL;
  }
  OvaEngine *e = g_new0 (OvaEngine, 1);
  e->opts = *opts;
  e->path = g_strdup (onnx_path);
  e->backend_name = g_strdup (backend->name);
  e->opts.backend = e->backend_name;
  e->plan_cache = g_strdup (opts->plan_cache);
  e->opts.plan_cache = e->plan_cache;
  e->backend = backend;
  e->plans = g_ptr_array_new_with_free_func ((GDestroyNotify) ova_plan_free);
  e->names = g_ptr_array_new_with_free_func (g_free);
  e->max_batch = MAX (opts->max_batch, 1);

  /* Warm start: a matching plan file needs neither the model graph nor the passes. */
  if (e->plan_cache && ova_plan_cache_load (e, e->plan_cache)) {
    e->from_cache = TRUE;
    return e;
  }
  if (!ova_engine_ensure_graph (e, error)) {
    ova_engine_free (e);
    return NULL;
  }
  OvaGraph *g = e->graph;
  e->in_info = g_new0 (OvaTensorInfo, g->n_inputs + 1);
  e->out_info = g_new0 (OvaTensorInfo, g->n_outputs + 1);
  e->n_in = g->n_inputs;
  e->n_out = g->n_outputs;
  gboolean all_static = TRUE, has_small = FALSE;
  e->value_inputs = FALSE;
  for (int i = 0; i < g->n_inputs; i++) {
    OvaValue *v = OVA_VALUE (g, g->inputs[i]);
    OvaTensorInfo *t = &e->in_info[i];
    t->name = v->name;
    t->dtype = v->dtype;
    t->rank = v->rank;
    memcpy (t->dims, v->dims, sizeof t->dims);
    if (v->rank > 0 && v->dims[0] < 0)
      e->batch_symbolic = TRUE;
    for (int d = 1; d < v->rank; d++)
      if (v->dims[d] < 0)
        all_static = FALSE;
    if (ova_input_is_value_input (v))
      has_small = TRUE;
  }
  if (!e->batch_symbolic) {
    /* A fixed batch dimension caps the batch. */
    int fixed = g->n_inputs && OVA_VALUE (g, g->inputs[0])->rank > 0 ? OVA_VALUE (g, g->inputs[0])->dims[0] : 1;
    e->max_batch = MAX (fixed, 1);
  }
  for (int i = 0; i < g->n_outputs; i++) {
    OvaValue *v = OVA_VALUE (g, g->outputs[i]);
    e->out_info[i].name = v->name;
    e->out_info[i].dtype = v->dtype;
    e->out_info[i].rank = -1;
  }

  if (all_static) {
    int64_t (*dims)[OVA_MAX_DIMS] = g_malloc0 (sizeof (int64_t[OVA_MAX_DIMS]) * (g->n_inputs + 1));
    for (int i = 0; i < g->n_inputs; i++) {
      OvaValue *v = OVA_VALUE (g, g->inputs[i]);
      memcpy (dims[i], v->dims, sizeof dims[i]);
      if (v->rank > 0 && dims[i][0] < 0)
        dims[i][0] = e->max_batch;
    }
    GError *perr = NULL;
    OvaPlan *p = build_plan (e, (const int64_t (*)[OVA_MAX_DIMS]) dims, NULL, e->max_batch, &perr);
    g_free (dims);
    if (!p && has_small && g_error_matches (perr, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_SHAPE)) {
      /* Shapes depend on the values of small inputs (shapes, scales):
       * plans are then built per run, specialised on those values. */
      g_clear_error (&perr);
      e->value_inputs = TRUE;
      return e;
    }
    if (!p) {
      g_propagate_error (error, perr);
      ova_engine_free (e);
      return NULL;
    }
    ova_engine_add_plan (e, p);
    /* Output shapes as planned for max_batch; the batch dim reads -1 when symbolic. */
    for (int i = 0; i < g->n_outputs; i++) {
      OvaValue *v = OVA_VALUE (p->g, p->g->outputs[i]);
      e->out_info[i].dtype = v->dtype;
      e->out_info[i].rank = v->rank;
      memcpy (e->out_info[i].dims, v->dims, sizeof v->dims);
      if (e->batch_symbolic && v->rank > 0 && v->dims[0] == e->max_batch)
        e->out_info[i].dims[0] = -1;
    }
    if (e->plan_cache) {
      GError *werr = NULL;
      if (!ova_plan_cache_save (e, p, e->plan_cache, &werr)) {
        g_warning ("%s", werr->message);
        g_error_free (werr);
      }
    }
  }
  return e;
}

void
ova_engine_free (OvaEngine *e)
{
  if (!e)
    return;
  if (e->pool)
    g_thread_pool_free (e->pool, FALSE, TRUE);
  for (int i = 0; i < e->n_split; i++) {
    ova_plan_free (e->split[i]);
  }
  g_free (e->split);
  for (int i = 0; i < e->n_out && e->split_out; i++)
    free (e->split_out[i]);
  g_free (e->split_out);
  g_free (e->split_out_bytes);
  g_ptr_array_free (e->plans, TRUE);
  if (e->host_out)
    for (int i = 0; i < e->n_out; i++)
      g_free (e->host_out[i]);
  g_free (e->host_out);
  g_free (e->host_out_bytes);
  if (e->graph)
    ova_graph_unref (e->graph);
  g_ptr_array_free (e->names, TRUE);
  g_free (e->in_info);
  g_free (e->out_info);
  g_free (e->path);
  g_free (e->backend_name);
  g_free (e->plan_cache);
  g_free (e);
}

int ova_engine_get_n_inputs (const OvaEngine *e) { return e->n_in; }
int ova_engine_get_n_outputs (const OvaEngine *e) { return e->n_out; }

const OvaTensorInfo *
ova_engine_get_input_info (const OvaEngine *e, int i)
{
  return i >= 0 && i < e->n_in ? &e->in_info[i] : NULL;
}

const OvaTensorInfo *
ova_engine_get_output_info (const OvaEngine *e, int i)
{
  return i >= 0 && i < e->n_out ? &e->out_info[i] : NULL;
}

OvaPrecision
ova_engine_get_precision (const OvaEngine *e)
{
  return e->backend->precision ? e->backend->precision (e->opts.precision) : OVA_PRECISION_FP32;
}

int ova_engine_get_max_batch (const OvaEngine *e) { return e->max_batch; }
size_t ova_engine_get_peak_bytes (const OvaEngine *e) { return e->peak_bytes; }
gboolean ova_engine_plan_from_cache (const OvaEngine *e) { return e->from_cache; }

/* internal accessors for the plan cache and tools */
const char *ova_engine_path (const OvaEngine *e) { return e->path; }
OvaGraph *
ova_engine_graph (const OvaEngine *e)
{
  ova_engine_ensure_graph ((OvaEngine *) e, NULL);
  return e->graph;
}
const OvaBackend *ova_engine_backend (const OvaEngine *e) { return e->backend; }
const OvaEngineOptions *ova_engine_options (const OvaEngine *e) { return &e->opts; }
OvaPlan *
ova_engine_current_plan (const OvaEngine *e)
{
  return e->plans->len ? g_ptr_array_index (e->plans, e->plans->len - 1) : NULL;
}

typedef struct {
  OvaEngine *e;
  const OvaTensor *inputs;
  int64_t first;          /* first sample of this thread's share */
  int64_t count;          /* samples in this thread's share */
  OvaPlan *plan, *rest;   /* sub-batch plan, remainder plan (or NULL) */
  GError *error;
  gboolean ok;
  /* completion */
  GMutex *lock;
  GCond *cond;
  int *pending;
} SplitJob;

/* Runs samples [@first, @first + plan->batch) through @p. */
static gboolean
split_chunk_run (OvaEngine *e, OvaPlan *p, const OvaTensor *inputs, int64_t first, GError **error)
{
  for (int i = 0; i < e->n_in; i++) {
    const OvaTensor *t = &inputs[i];
    int64_t per = ova_dtype_size (t->dtype);
    for (int d = 1; d < t->rank; d++)
      per *= t->dims[d];
    p->input_data[i] = (char *) t->data + first * per;
  }
  if (!e->backend->run (p, p->state, NULL, error))
    return FALSE;
  for (int i = 0; i < e->n_out; i++) {
    OvaValue *v = OVA_VALUE (p->g, p->g->outputs[i]);
    size_t bytes = ova_value_numel (v) * ova_dtype_size (v->dtype);
    memcpy ((char *) e->split_out[i] + first * (bytes / MAX (v->dims[0], 1)),
            ova_plan_value_data (p, p->g->outputs[i]), bytes);
  }
  return TRUE;
}

/* One thread's share: consecutive sub-batches. */
static void
split_share_run (SplitJob *j)
{
  j->ok = TRUE;
  for (int64_t s = 0; s < j->count && j->ok;) {
    OvaPlan *p = j->count - s >= j->plan->batch ? j->plan : j->rest;
    j->ok = split_chunk_run (j->e, p, j->inputs, j->first + s, &j->error);
    s += p->batch;
  }
}

static void
split_worker (gpointer data, gpointer user)
{
  SplitJob *j = data;
  split_share_run (j);
  g_mutex_lock (j->lock);
  (*j->pending)--;
  g_cond_signal (j->cond);
  g_mutex_unlock (j->lock);
}

/* Sub-batch size for @plan's batch shared by @nthr threads: small enough that
 * a sub-batch's activations stay in the cache of the core that runs it, so
 * that each layer reads what the previous one wrote from the cache instead of
 * memory. The budget is four times the L2 (a plan's peak arena is never live
 * all at once; measured on yolox_nano and osnet, where one to four samples
 * fit). OVA_ENGINE_SUB_BATCH=N forces N. */
static int
sub_batch_size (OvaPlan *plan, int nthr)
{
  int share = (plan->batch + nthr - 1) / nthr;
  const char *env = g_getenv ("OVA_ENGINE_SUB_BATCH");
  if (env && atoi (env) > 0)
    return MIN (atoi (env), share);
  static gsize budget;
  if (g_once_init_enter (&budget)) {
    long l2 = -1;
#ifdef _SC_LEVEL2_CACHE_SIZE
    l2 = sysconf (_SC_LEVEL2_CACHE_SIZE);
#endif
    if (l2 <= 0 || l2 > (64l << 20))
      l2 = 1l << 20;
    g_once_init_leave (&budget, 4 * (gsize) l2);
  }
  size_t per_sample = plan->arena_bytes / MAX (plan->batch, 1);
  size_t sb = per_sample ? budget / per_sample : (size_t) share;
  return (int) CLAMP (sb, 1, (size_t) share);
}

/* Runs @full's batch on @nthr threads (one share each, no synchronisation
 * inside the network), each share as consecutive sub-batches of @sub. */
static gboolean
run_split (OvaEngine *e, OvaPlan *full, const OvaTensor *inputs, int nthr, int sub, GError **error)
{
  int batch = full->batch;
  if (e->split_batch != batch || e->split_threads != nthr || e->split_sub != sub) {
    for (int i = 0; i < e->n_split; i++)
      ova_plan_free (e->split[i]);
    g_free (e->split);
    e->split_batch = 0;
    e->n_split = 2 * nthr;
    e->split = g_new0 (OvaPlan *, e->n_split);
    for (int c = 0; c < nthr; c++) {
      int share = batch / nthr + (c < batch % nthr);
      int sizes[2] = { MIN (sub, share), share % sub };
      for (int r = 0; r < 2; r++) {
        if (!sizes[r] || (r && sizes[1] == sizes[0]))
          continue;
        int64_t dims[e->n_in + 1][OVA_MAX_DIMS];
        for (int i = 0; i < e->n_in; i++) {
          memcpy (dims[i], OVA_VALUE (full->g, full->g->inputs[i])->dims, sizeof dims[i]);
          dims[i][0] = sizes[r];
        }
        e->split[2 * c + r] = build_plan_threads (e, (const int64_t (*)[OVA_MAX_DIMS]) dims, NULL, sizes[r], 1, error);
        if (!e->split[2 * c + r])
          return FALSE;
      }
    }
    e->split_batch = batch;
    e->split_threads = nthr;
    e->split_sub = sub;
    if (e->opts.verbose)
      g_printerr ("ova-engine: batch %d runs on %d thread%s as sub-batches of %d\n", batch, nthr, nthr > 1 ? "s" : "",
                  sub);
    if (!e->split_out) {
      e->split_out = g_new0 (void *, e->n_out + 1);
      e->split_out_bytes = g_new0 (size_t, e->n_out + 1);
    }
  }
  for (int i = 0; i < e->n_out; i++) {
    OvaValue *v = OVA_VALUE (full->g, full->g->outputs[i]);
    size_t bytes = ova_value_numel (v) * ova_dtype_size (v->dtype);
    if (e->split_out_bytes[i] < bytes) {
      free (e->split_out[i]);
      if (posix_memalign (&e->split_out[i], 64, MAX (bytes, 64))) {
        e->split_out[i] = NULL;
        e->split_out_bytes[i] = 0;
        g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_BACKEND, "%s: out of memory", e->path);
        return FALSE;
      }
      e->split_out_bytes[i] = bytes;
    }
  }
  if (!e->pool && nthr > 1)
    e->pool = g_thread_pool_new (split_worker, NULL, MAX (nthr - 1, 1), TRUE, NULL);
  GMutex lock;
  GCond cond;
  g_mutex_init (&lock);
  g_cond_init (&cond);
  int pending = nthr - 1;
  SplitJob jobs[nthr];
  int64_t first = 0;
  for (int c = 0; c < nthr; c++) {
    int share = batch / nthr + (c < batch % nthr);
    OvaPlan *main = e->split[2 * c], *rest = e->split[2 * c + 1] ? e->split[2 * c + 1] : main;
    jobs[c] = (SplitJob) { e, inputs, first, share, main, rest, NULL, FALSE, &lock, &cond, &pending };
    first += share;
  }
  int got = ova_cpu_threads_acquire (nthr);
  for (int c = 1; c < nthr; c++)
    g_thread_pool_push (e->pool, &jobs[c], NULL);
  split_share_run (&jobs[0]);
  g_mutex_lock (&lock);
  while (pending > 0)
    g_cond_wait (&cond, &lock);
  g_mutex_unlock (&lock);
  ova_cpu_threads_release (got);
  g_mutex_clear (&lock);
  g_cond_clear (&cond);
  gboolean ok = TRUE;
  for (int c = 0; c < nthr; c++) {
    if (!jobs[c].ok && ok) {
      g_propagate_error (error, jobs[c].error);
      jobs[c].error = NULL;
      ok = FALSE;
    }
    g_clear_error (&jobs[c].error);
  }
  return ok;
}

gboolean
ova_engine_run_async (OvaEngine *e, const OvaTensor *inputs, int n_inputs, OvaTensor *outputs,
                      int n_outputs, void *stream, GError **error)
{
  g_return_val_if_fail (e != NULL, FALSE);
  OvaGraph *g = e->graph;
  if (n_inputs != e->n_in || n_outputs != e->n_out || (n_inputs && !inputs) || (n_outputs && !outputs)) {
    g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_ARGUMENT, "%s: the model has %d inputs and %d outputs, got %d and %d",
                 e->path, e->n_in, e->n_out, n_inputs, n_outputs);
    return FALSE;
  }
  int64_t dims[n_inputs + 1][OVA_MAX_DIMS];
  memset (dims, 0, sizeof dims);
  int batch = 1;
  for (int i = 0; i < n_inputs; i++) {
    const OvaTensorInfo *want = &e->in_info[i];
    const OvaTensor *t = &inputs[i];
    char *ws = ova_dims_to_string (want->rank, want->dims), *gs = ova_dims_to_string (CLAMP (t->rank, 0, OVA_MAX_DIMS), t->dims);
    /* device backends also take host memory (copied in; ova_engine_run then
     * returns host outputs) */
    gboolean ok = t->data && t->dtype == want->dtype && t->rank == want->rank &&
                  (t->device == e->backend->device || (t->device == OVA_DEVICE_CPU && e->backend->download));
    for (int d = 0; ok && d < want->rank; d++)
      ok = t->dims[d] >= 0 && (want->dims[d] < 0 || want->dims[d] == t->dims[d]);
    if (ok && want->rank > 0 && want->dims[0] < 0 && t->dims[0] > e->max_batch)
      ok = FALSE;
    if (!ok) {
      g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_SHAPE,
                   "%s: input '%s' must be %s %s (batch <= %d)%s, got %s %s%s", e->path, want->name,
                   ova_dtype_name (want->dtype), ws, e->max_batch, "", ova_dtype_name (t->dtype), gs,
                   t->data ? "" : " without data");
      g_free (ws);
      g_free (gs);
      return FALSE;
    }
    g_free (ws);
    g_free (gs);
    memcpy (dims[i], t->dims, sizeof (int64_t) * t->rank);
    if (i == 0 && t->rank > 0)
      batch = t->dims[0];
  }
  OvaPlan *plan = NULL;
  const void *values[n_inputs + 1];
  for (int i = 0; i < n_inputs; i++)
    values[i] = e->value_inputs && g && ova_input_is_value_input (OVA_VALUE (g, g->inputs[i])) ? inputs[i].data : NULL;
  for (int i = e->plans->len - 1; i >= 0; i--) {
    OvaPlan *p = g_ptr_array_index (e->plans, i);
    if (plan_matches (p, (const int64_t (*)[OVA_MAX_DIMS]) dims, values)) {
      plan = p;
      /* most recently used last: ova_engine_synchronize waits for that plan */
      if (i != (int) e->plans->len - 1) {
        g_ptr_array_steal_index (e->plans, i);
        g_ptr_array_add (e->plans, p);
      }
      break;
    }
  }
  if (!plan) {
    gint64 t0 = g_get_monotonic_time ();
    plan = build_plan (e, (const int64_t (*)[OVA_MAX_DIMS]) dims, values, batch, error);
    if (!plan)
      return FALSE;
    ova_engine_add_plan (e, plan);
    /* a run that waits for a new plan: G_MESSAGES_DEBUG=ova shows it (a
     * stall in a live pipeline) */
    g_debug ("%s: plan for batch %d built in %.0f ms (%s backend)", e->path, batch,
             (g_get_monotonic_time () - t0) / 1000.0, e->backend->name);
  }
  /* Batch splitting, when the network keeps samples apart
   * (OVA_ENGINE_NO_SPLIT=1 turns it off): several threads share the batch,
   * one share per thread, and each share runs as consecutive sub-batches small
   * enough to keep their activations in the cache. */
  int nthr = e->opts.threads > 0 ? MIN (e->opts.threads, ova_cpu_count ()) : ova_cpu_count ();
  nthr = MIN (nthr, batch);
  gboolean symbolic = e->batch_symbolic;
  for (int i = 0; i < n_inputs; i++)
    symbolic = symbolic && e->in_info[i].rank > 0 && e->in_info[i].dims[0] < 0;
  if (batch > 1 && symbolic && !e->value_inputs && e->backend->device == OVA_DEVICE_CPU &&
      !g_getenv ("OVA_ENGINE_NO_SPLIT")) {
    int sub = sub_batch_size (plan, nthr);
    if (nthr > 1 || sub < batch) {
      if (plan->separable < 0)
        plan->separable = ova_plan_batch_separable (plan);
    }
    if ((nthr > 1 || sub < batch) && plan->separable) {
      if (!run_split (e, plan, inputs, nthr, sub, error))
        return FALSE;
      for (int i = 0; i < n_outputs; i++) {
        OvaValue *v = OVA_VALUE (plan->g, plan->g->outputs[i]);
        OvaTensor *o = &outputs[i];
        memset (o, 0, sizeof *o);
        o->data = e->split_out[i];
        o->dtype = v->dtype;
        o->rank = v->rank;
        memcpy (o->dims, v->dims, sizeof o->dims);
        o->device = e->backend->device;
      }
      return TRUE;
    }
  }
  e->host_io = FALSE;
  for (int i = 0; i < n_inputs; i++) {
    plan->input_data[i] = inputs[i].data;
    if (inputs[i].device == OVA_DEVICE_CPU && e->backend->device != OVA_DEVICE_CPU)
      e->host_io = TRUE;
  }
  int got = ova_cpu_threads_acquire (plan->threads);
  gboolean ok = e->backend->run (plan, plan->state, stream, error);
  ova_cpu_threads_release (got);
  if (!ok)
    return FALSE;
  for (int i = 0; i < n_outputs; i++) {
    OvaValue *v = OVA_VALUE (plan->g, plan->g->outputs[i]);
    OvaTensor *o = &outputs[i];
    memset (o, 0, sizeof *o);
    o->data = ova_plan_value_data (plan, plan->g->outputs[i]);
    o->dtype = v->dtype;
    o->rank = v->rank;
    memcpy (o->dims, v->dims, sizeof o->dims);
    o->device = e->backend->device;
  }
  return TRUE;
}

gboolean
ova_engine_run (OvaEngine *e, const OvaTensor *inputs, int n_inputs, OvaTensor *outputs, int n_outputs,
                GError **error)
{
  if (!ova_engine_run_async (e, inputs, n_inputs, outputs, n_outputs, NULL, error) ||
      !ova_engine_synchronize (e, error))
    return FALSE;
  if (!e->host_io)
    return TRUE;
  /* host inputs on a device backend: host outputs, engine-owned */
  if (!e->host_out) {
    e->host_out = g_new0 (void *, n_outputs + 1);
    e->host_out_bytes = g_new0 (size_t, n_outputs + 1);
  }
  for (int i = 0; i < n_outputs; i++) {
    OvaTensor *o = &outputs[i];
    size_t bytes = ova_dtype_size (o->dtype);
    for (int d = 0; d < o->rank; d++)
      bytes *= o->dims[d];
    if (bytes > e->host_out_bytes[i]) {
      e->host_out[i] = g_realloc (e->host_out[i], bytes);
      e->host_out_bytes[i] = bytes;
    }
    if (bytes && !e->backend->download (e->host_out[i], o->data, bytes)) {
      g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_BACKEND, "%s: cannot copy output '%s' to the host",
                   e->path, e->out_info[i].name);
      return FALSE;
    }
    o->data = e->host_out[i];
    o->device = OVA_DEVICE_CPU;
  }
  return TRUE;
}

gboolean
ova_engine_synchronize (OvaEngine *e, GError **error)
{
  if (e->backend->synchronize && e->plans->len) {
    OvaPlan *p = g_ptr_array_index (e->plans, e->plans->len - 1);
    return e->backend->synchronize (p->state, NULL, error);
  }
  return TRUE;
}

/* Process-wide CPU budget: a run takes its thread count (at most the
 * machine's cores) from a pool of the cores and waits until that many are
 * free, so engines running in parallel never ask for more threads than there
 * are cores. */
static GMutex budget_lock;
static GCond budget_cond;
static int budget_free = -1;

int
ova_cpu_count (void)
{
  return MAX (1, (int) g_get_num_processors ());
}

int
ova_cpu_threads_acquire (int want)
{
  int cores = ova_cpu_count ();
  if (want <= 0 || want > cores)
    want = cores;
  g_mutex_lock (&budget_lock);
  if (budget_free < 0)
    budget_free = cores;
  /* all or nothing: kernels run with the thread count they were made for */
  while (budget_free < want)
    g_cond_wait (&budget_cond, &budget_lock);
  budget_free -= want;
  g_mutex_unlock (&budget_lock);
  return want;
}

void
ova_cpu_threads_release (int got)
{
  g_mutex_lock (&budget_lock);
  budget_free += got;
  g_cond_broadcast (&budget_cond);
  g_mutex_unlock (&budget_lock);
}
