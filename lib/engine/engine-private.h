/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * OvaEngine's fields, shared by engine.c and the plan cache.
 */
#ifndef OVA_ENGINE_PRIVATE_H
#define OVA_ENGINE_PRIVATE_H

#include "plan.h"

G_BEGIN_DECLS

struct _OvaEngine {
  OvaEngineOptions opts;
  char *path;
  char *backend_name;
  char *plan_cache;
  const OvaBackend *backend;
  OvaGraph *graph;         /* the loaded model; NULL after a warm start until needed */
  int n_in, n_out;
  OvaTensorInfo *in_info, *out_info;
  GPtrArray *names;        /* info names owned by the engine (warm start) */
  int max_batch;
  gboolean batch_symbolic;
  gboolean value_inputs;   /* plans are specialised on small input values (shapes, scales) */
  GPtrArray *plans;        /* OvaPlan, most recently used last */
  gboolean host_io;        /* last run's inputs were host memory on a device backend */
  void **host_out;         /* host copies of the outputs (device backends, host inputs) */
  size_t *host_out_bytes;
  gboolean from_cache;
  size_t peak_bytes;
  /* batch splitting (batchsplit.c): each thread runs its share of the batch
   * as consecutive cache-sized sub-batches; per thread a plan for the
   * sub-batch and one for the remainder (split[2 * thread + 0/1], or NULL) */
  int split_batch;         /* batch the split plans are for, 0 = none */
  int split_threads;
  int split_sub;           /* sub-batch size */
  int n_split;             /* entries in split */
  OvaPlan **split;
  void **split_out;        /* per graph output: the whole batch's result */
  size_t *split_out_bytes;
  GThreadPool *pool;
};

gboolean ova_engine_ensure_graph (OvaEngine *e, GError **error);
void ova_engine_add_plan (OvaEngine *e, OvaPlan *p);

G_END_DECLS

#endif
