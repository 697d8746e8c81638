/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * The inference engine: ONNX model -> optimised plan -> backend (CPU on
 * oneDNN; CUDA later), behind one small API. Nothing in here knows about a
 * particular model.
 *
 * Lifetime: an OvaEngine is used by one thread at a time (run calls are not
 * re-entrant on one engine); several engines may run in parallel in one
 * process and share the CPU backend's thread pool without oversubscribing.
 */
#ifndef OVA_ENGINE_H
#define OVA_ENGINE_H

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

#define OVA_MAX_DIMS 8

/* Values are ONNX's TensorProto.DataType. */
typedef enum {
  OVA_DTYPE_UNDEFINED = 0,
  OVA_DTYPE_FLOAT32 = 1,
  OVA_DTYPE_UINT8 = 2,
  OVA_DTYPE_INT8 = 3,
  OVA_DTYPE_UINT16 = 4,
  OVA_DTYPE_INT16 = 5,
  OVA_DTYPE_INT32 = 6,
  OVA_DTYPE_INT64 = 7,
  OVA_DTYPE_STRING = 8,
  OVA_DTYPE_BOOL = 9,
  OVA_DTYPE_FLOAT16 = 10,
  OVA_DTYPE_FLOAT64 = 11,
  OVA_DTYPE_UINT32 = 12,
  OVA_DTYPE_UINT64 = 13,
} OvaDataType;

/* Values are nvinfer's network-mode. */
typedef enum {
  OVA_PRECISION_FP32 = 0,
  OVA_PRECISION_INT8 = 1,
  OVA_PRECISION_FP16 = 2,
} OvaPrecision;

typedef enum {
  OVA_DEVICE_CPU = 0,
  OVA_DEVICE_CUDA = 1,
} OvaDeviceType;

#define OVA_ENGINE_ERROR (ova_engine_error_quark ())
typedef enum {
  OVA_ENGINE_ERROR_IO,          /* file missing / unreadable */
  OVA_ENGINE_ERROR_PARSE,       /* corrupt or truncated model */
  OVA_ENGINE_ERROR_UNSUPPORTED, /* operator / attribute / dtype not supported */
  OVA_ENGINE_ERROR_SHAPE,       /* shape mismatch */
  OVA_ENGINE_ERROR_BACKEND,     /* backend failure */
  OVA_ENGINE_ERROR_ARGUMENT,    /* bad argument to an API call */
} OvaEngineError;
GQuark ova_engine_error_quark (void);

/** A tensor handed to or returned by the engine. */
typedef struct {
  void *data;
  OvaDataType dtype;
  int rank;
  int64_t dims[OVA_MAX_DIMS];
  OvaDeviceType device; /* where data lives */
} OvaTensor;

/** Name, type and shape of a graph input or output; symbolic dims are -1. */
typedef struct {
  const char *name;
  OvaDataType dtype;
  int rank;
  int64_t dims[OVA_MAX_DIMS];
} OvaTensorInfo;

typedef struct {
  const char *backend;       /* "cpu" (default) or "cuda" */
  int device_id;             /* GPU index for "cuda" */
  int threads;               /* CPU threads; 0 = all cores */
  OvaPrecision precision;    /* the backend says (ova_engine_get_precision) what it honoured */
  int max_batch;             /* plan for batches up to this (symbolic batch dim); 0 = 1 */
  const char *plan_cache;    /* (nullable) plan file (nvinfer's model-engine-file): loaded when
                                it matches model hash, backend, precision and batch; written otherwise */
  gboolean verbose;          /* log passes and plan statistics */
} OvaEngineOptions;

typedef struct _OvaEngine OvaEngine;

void ova_engine_options_init (OvaEngineOptions *opts);

/**
 * ova_engine_new:
 * Loads @onnx_path, optimises it and compiles it for the backend.
 * Returns: (transfer full) (nullable): the engine, or NULL with @error naming
 * the file, and where relevant the node and operator, at fault.
 */
OvaEngine *ova_engine_new (const char *onnx_path, const OvaEngineOptions *opts, GError **error);
void ova_engine_free (OvaEngine *engine);

int ova_engine_get_n_inputs (const OvaEngine *engine);
int ova_engine_get_n_outputs (const OvaEngine *engine);
const OvaTensorInfo *ova_engine_get_input_info (const OvaEngine *engine, int i);
const OvaTensorInfo *ova_engine_get_output_info (const OvaEngine *engine, int i);
OvaPrecision ova_engine_get_precision (const OvaEngine *engine);
int ova_engine_get_max_batch (const OvaEngine *engine);
/** Peak bytes of activation memory planned by the memory planner. */
size_t ova_engine_get_peak_bytes (const OvaEngine *engine);
/** TRUE if the plan was loaded from the plan cache rather than compiled. */
gboolean ova_engine_plan_from_cache (const OvaEngine *engine);

/**
 * ova_engine_run:
 * Runs the plan. @inputs in graph-input order (host memory for the CPU backend;
 * host or device memory for CUDA); dims[0] may be any batch up to max_batch.
 * @outputs are filled with engine-owned tensors valid until the next run or free.
 */
gboolean ova_engine_run (OvaEngine *engine, const OvaTensor *inputs, int n_inputs,
                         OvaTensor *outputs, int n_outputs, GError **error);

/**
 * ova_engine_run_async:
 * As ova_engine_run, enqueued on @stream (a cudaStream_t for the CUDA backend;
 * ignored, and the call synchronous, on CPU). Outputs are ready after
 * ova_engine_synchronize().
 */
gboolean ova_engine_run_async (OvaEngine *engine, const OvaTensor *inputs, int n_inputs,
                               OvaTensor *outputs, int n_outputs, void *stream, GError **error);
gboolean ova_engine_synchronize (OvaEngine *engine, GError **error);

size_t ova_dtype_size (OvaDataType dtype);
const char *ova_dtype_name (OvaDataType dtype);

G_END_DECLS

#endif /* OVA_ENGINE_H */
