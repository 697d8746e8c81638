/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Plan files: an optimised, specialised graph saved with the key it was
 * built for (model hash, backend, precision, input shapes).
 */
#ifndef OVA_ENGINE_PLANCACHE_H
#define OVA_ENGINE_PLANCACHE_H

#include "plan.h"

G_BEGIN_DECLS

const char *ova_engine_path (const OvaEngine *e);
OvaGraph *ova_engine_graph (const OvaEngine *e);
const OvaBackend *ova_engine_backend (const OvaEngine *e);
const OvaEngineOptions *ova_engine_options (const OvaEngine *e);
/* The most recently used plan (NULL before the first one is built). */
OvaPlan *ova_engine_current_plan (const OvaEngine *e);

/* Loads the plan in @file into @e (input/output infos, max batch, the plan
 * for max_batch) when the file holds one for this model, backend, precision
 * and max batch; FALSE (nothing changed) when it is absent, stale or corrupt. */
gboolean ova_plan_cache_load (OvaEngine *e, const char *file);
/* The device-independent part of a plan file; call before compiling (the
 * backend's layout choices are made again when the file is loaded). */
GBytes *ova_plan_cache_serialize (OvaPlan *plan);
gboolean ova_plan_cache_save (OvaEngine *e, OvaPlan *plan, const char *file, GError **error);

G_END_DECLS

#endif
