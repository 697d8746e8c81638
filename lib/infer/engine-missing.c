/* ova — build-time stand-in for the inference engine while lib/engine has no
 * implementation in this tree: every model load fails with a clear error, so
 * the rest of lib/infer builds and the tests that need a model skip.
 * Compiled only when lib/engine/engine.c does not exist.
 * SPDX-License-Identifier: MIT */
#include <ova/engine.h>
#include <string.h>

GQuark
ova_engine_error_quark (void)
{
  return g_quark_from_static_string ("ova-engine-error-quark");
}

void
ova_engine_options_init (OvaEngineOptions *o)
{
  memset (o, 0, sizeof (*o));
  o->backend = "cpu";
  o->max_batch = 1;
}

OvaEngine *
ova_engine_new (const char *onnx_path, const OvaEngineOptions *opts, GError **error)
{
  g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_UNSUPPORTED,
               "%s: this build of ova has no inference engine (lib/engine is not built)", onnx_path);
  return NULL;
}

void ova_engine_free (OvaEngine *e) {}
int ova_engine_get_n_inputs (const OvaEngine *e) { return 0; }
int ova_engine_get_n_outputs (const OvaEngine *e) { return 0; }
const OvaTensorInfo *ova_engine_get_input_info (const OvaEngine *e, int i) { return NULL; }
const OvaTensorInfo *ova_engine_get_output_info (const OvaEngine *e, int i) { return NULL; }
OvaPrecision ova_engine_get_precision (const OvaEngine *e) { return OVA_PRECISION_FP32; }
int ova_engine_get_max_batch (const OvaEngine *e) { return 0; }

gboolean
ova_engine_run (OvaEngine *e, const OvaTensor *in, int n_in, OvaTensor *out, int n_out, GError **error)
{
  g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_UNSUPPORTED, "no inference engine in this build");
  return FALSE;
}

size_t
ova_dtype_size (OvaDataType t)
{
  switch (t) {
    case OVA_DTYPE_UINT8: case OVA_DTYPE_INT8: case OVA_DTYPE_BOOL: return 1;
    case OVA_DTYPE_UINT16: case OVA_DTYPE_INT16: case OVA_DTYPE_FLOAT16: return 2;
    case OVA_DTYPE_FLOAT32: case OVA_DTYPE_INT32: case OVA_DTYPE_UINT32: return 4;
    case OVA_DTYPE_INT64: case OVA_DTYPE_FLOAT64: case OVA_DTYPE_UINT64: return 8;
    default: return 0;
  }
}

const char *
ova_dtype_name (OvaDataType t)
{
  return t == OVA_DTYPE_FLOAT32 ? "float32" : "other";
}
