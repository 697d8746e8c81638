/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * A plan: the graph specialised to concrete input shapes, optimised, laid
 * out in one arena, and compiled by a backend. Backends are tables of
 * functions (see OvaBackend) so a CUDA backend slots in beside the CPU one.
 */
#ifndef OVA_ENGINE_PLAN_H
#define OVA_ENGINE_PLAN_H

#include "graph.h"

G_BEGIN_DECLS

typedef struct _OvaPlan OvaPlan;

/**
 * OvaBackend:
 * What a backend provides. A plan is built device-independently (shapes,
 * passes); the backend then picks layouts and kernels (compile), runs the
 * plan on memory it allocates (alloc/free: host memory on CPU, device memory
 * on CUDA) optionally enqueued on a stream, and can save what it compiled in
 * the plan file (serialize/deserialize: tuned tactics, fp16/int8 weights).
 */
typedef struct {
  const char *name;
  OvaDeviceType device;
  /* Precision the backend honours when @requested is asked for. */
  OvaPrecision (*precision) (OvaPrecision requested);
  /* Chooses layouts (sets OvaValue.layout/bytes) and kernels; called after
   * the graph passes and before memory planning (ova_plan_memory is called
   * by the engine right after compile returns). */
  gboolean (*compile) (OvaPlan *plan, void **state, GError **error);
  /* Called once the arena exists (arena pointers are stable from here on). */
  gboolean (*bind) (OvaPlan *plan, void *state, void *arena, GError **error);
  /* Runs every node; inputs are already in the arena or pointed to by
   * plan->input_data. @stream: cudaStream_t on CUDA, NULL on CPU. */
  gboolean (*run) (OvaPlan *plan, void *state, void *stream, GError **error);
  gboolean (*synchronize) (void *state, void *stream, GError **error);
  void (*release) (void *state);
  void *(*alloc) (size_t bytes);
  void (*free) (void *p);
  /* (optional, device backends) copies @bytes of device memory to the host
   * (synchronously): outputs of runs whose inputs were host memory. */
  gboolean (*download) (void *host, const void *device, size_t bytes);
  /* What compile produced that is worth keeping in the plan file (tuned
   * tactics, weights in the kernels' layouts, fp16/int8 weights); NULL if
   * nothing. */
  GBytes *(*serialize) (OvaPlan *plan, void *state);
  /* Called with a plan file's blob before compile: prepares *state, which
   * compile then completes; FALSE (state untouched) for a blob it cannot use. */
  gboolean (*deserialize) (OvaPlan *plan, GBytes *blob, void **state, GError **error);
} OvaBackend;

struct _OvaPlan {
  OvaGraph *g;                 /* specialised graph (owned) */
  int batch;
  int threads;
  OvaPrecision precision;
  gboolean verbose;
  int *order;                  /* live nodes in execution order */
  int n_order;
  size_t arena_bytes;          /* peak activation bytes */
  void *arena;
  void **input_data;           /* per graph input: caller's memory for this run */
  const OvaBackend *backend;
  void *state;
  GBytes *graph_blob;          /* the graph before backend compile, for the plan file */
  int separable;               /* batch-separable: -1 not yet known, 0, 1 */
  /* statistics */
  int n_folded, n_fused, n_removed;
};

/* Specialises @base to @in_dims (one dims array per graph input, in order)
 * and runs the graph passes. */
OvaPlan *ova_plan_new (OvaGraph *base, const int64_t (*in_dims)[OVA_MAX_DIMS], int batch,
                       gboolean optimise, GError **error);
/* As ova_plan_new, with the values of some inputs (non-NULL entries of
 * @in_values: small integer inputs such as shapes) fixed in the plan. */
OvaPlan *ova_plan_new_with_values (OvaGraph *base, const int64_t (*in_dims)[OVA_MAX_DIMS],
                                   const void *const *in_values, int batch, gboolean optimise,
                                   GError **error);
/* Inputs whose values a plan may be specialised on (when shapes depend on
 * them): int64/int32/float, rank <= 1, at most 64 elements. */
gboolean ova_input_is_value_input (const OvaValue *v);
/* Backend compile, memory plan, arena allocation, bind. */
gboolean ova_plan_compile (OvaPlan *plan, const OvaBackend *backend, GError **error);
void ova_plan_free (OvaPlan *plan);
/* Lays out non-constant values in one arena by liveness; sets arena_bytes. */
void ova_plan_memory (OvaPlan *plan);
/* Pointer to a value's data for this run (arena, constant or caller input). */
void *ova_plan_value_data (OvaPlan *plan, int value);
void ova_plan_value_ref (OvaPlan *plan, int value, OvaTensorRef *t);
/* Makes Concat @ni free: its inputs become slices of its output, written
 * in place by their producers (slices must be contiguous: every dimension
 * before the axis is 1). Call after layouts are chosen. */
gboolean ova_plan_concat_in_place (OvaPlan *plan, int ni);
/* Runs node @ni with its reference kernel and applies its fused epilogue. */
gboolean ova_plan_run_node_reference (OvaPlan *plan, int ni, GError **error);
/* Applies post-ops to @n elements of @y (plain layout) — the reference epilogue. */
void ova_post_ops_apply (OvaPlan *plan, const OvaNode *node, float *y, int64_t n);
float ova_post_op_scalar (const OvaPostOp *p, float x);

/* TRUE when every node keeps the samples of the batch apart (batchsplit.c):
 * the plan may then run as sub-batches on several threads. */
gboolean ova_plan_batch_separable (OvaPlan *plan);

/* The backends. */
const OvaBackend *ova_backend_reference (void);
const OvaBackend *ova_backend_cpu (void);
/* CUDA (cuDNN, cuBLASLt, ova kernels); built when nvcc is found. */
const OvaBackend *ova_backend_cuda (void);
const OvaBackend *ova_backend_lookup (const char *name);

/* Process-wide CPU thread budget shared by all engines (no oversubscription). */
int ova_cpu_threads_acquire (int want);
void ova_cpu_threads_release (int got);
int ova_cpu_count (void);

G_END_DECLS

#endif
