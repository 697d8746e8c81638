/* ova — a model ready to run on batches: engine, staging, outputs, parsers.
 * SPDX-License-Identifier: MIT */
#include "infer-private.h"
#include "ova-config.h"
#include <stdlib.h>
#include <string.h>
#if OVA_HAVE_CUDA
#include <ova/cuda.h>
#include <cuda_runtime.h>
#endif

struct _OvaInferContext {
  const OvaInferConfig *cfg;
  OvaEngine *engine;
  OvaCustomParser *custom;
  guint batch;             /* images per context run (config batch-size) */
  guint engine_batch;      /* images per engine run (fixed batch dim) or 0 (symbolic) */
  gboolean gpu_pad;        /* cuda, symbolic batch: runs padded to a few sizes (gpu_run_batch) */
  gint net_w, net_h, net_c;
  gsize in_per;            /* floats per image */
  gfloat *input;           /* batch * in_per */
  OvaPreprocParams pp;
  /* selected outputs */
  guint n_out;
  gint *out_index;         /* engine output index per selected output */
  gchar **out_name;
  OvaInferLayer *out_layer; /* dims for one image after the first run */
  gsize *out_per;          /* bytes per image */
  gsize *out_cap;          /* bytes allocated in out_buf */
  guint8 **out_buf;        /* batch * out_per bytes */
  const guint8 **out_data; /* last run's outputs: the engine's own when one run covered the batch */
  gfloat *thresholds;
  /* the GPU path */
  gboolean cuda;           /* the engine runs on the cuda backend */
  gint device;
  void *stream;            /* cudaStream_t of preprocessing, engine and output copies */
  void *dev_input;         /* fp32 network input of up to dev_input_images images */
  guint dev_input_images;
  gboolean gpu_decode;     /* built-in detector parser: decode on the GPU, copy candidates only */
  guint copy_candidates;   /* candidates per image copied back with a job */
  gfloat *dev_thresholds;  /* device copy of thresholds */
  OvaInferCudaJob *job;    /* the job whose results _output / _detect read (use_job), or NULL */
  guint job_first;         /* its image that is slot 0 */
};

/* Candidates per image copied back with every job when decoding on the GPU
 * (OVA_INFER_GPU_CANDIDATES overrides it); an image with more fetches the
 * rest from the device when it is parsed. */
#define GPU_DECODE_COPY_CANDIDATES 512

void
ova_letterbox_unmap (const OvaLetterbox *lb, OvaInferObject *o)
{
  gfloat l = (o->left - lb->pad_x) / lb->scale_x + lb->crop_left;
  gfloat t = (o->top - lb->pad_y) / lb->scale_y + lb->crop_top;
  o->width /= lb->scale_x;
  o->height /= lb->scale_y;
  o->left = l;
  o->top = t;
}

OvaInferContext *
ova_infer_context_new (const OvaInferConfig *cfg, const OvaInferContextOptions *opts, GError **error)
{
  OvaEngineOptions eo;
  if (!cfg->onnx_file) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_CONFIG, "%s: [property] onnx-file: not set",
                 cfg->path ? cfg->path : "(config)");
    return NULL;
  }
  if (!g_file_test (cfg->onnx_file, G_FILE_TEST_IS_REGULAR)) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_IO, "%s: [property] onnx-file: %s: no such file",
                 cfg->path ? cfg->path : "(config)", cfg->onnx_file);
    return NULL;
  }
  ova_engine_options_init (&eo);
  if (opts && opts->backend)
    eo.backend = opts->backend;
  if (opts) {
    eo.device_id = opts->device_id;
    eo.threads = opts->threads;
  }
  eo.precision = cfg->network_mode;
  eo.max_batch = cfg->batch_size;
  eo.plan_cache = cfg->model_engine_file;
  if (cfg->model_engine_file) {
    /* the engine writes the plan there on first use */
    g_autofree gchar *dir = g_path_get_dirname (cfg->model_engine_file);
    g_mkdir_with_parents (dir, 0755);
  }

  OvaInferContext *x = g_new0 (OvaInferContext, 1);
  x->cfg = cfg;
  x->batch = cfg->batch_size;
  x->cuda = !g_strcmp0 (eo.backend, "cuda");
  x->device = opts ? opts->device_id : 0;
  x->engine = ova_engine_new (cfg->onnx_file, &eo, error);
  if (!x->engine)
    goto fail;
  if (ova_engine_get_precision (x->engine) != (OvaPrecision) cfg->network_mode)
    g_message ("%s: network-mode=%d not available on this backend; running %s", cfg->onnx_file,
               cfg->network_mode, ova_engine_get_precision (x->engine) == OVA_PRECISION_FP32 ? "FP32" : "reduced precision");

  if (ova_engine_get_n_inputs (x->engine) != 1) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL, "%s: the model has %d inputs; ovainfer feeds one image input",
                 cfg->onnx_file, ova_engine_get_n_inputs (x->engine));
    goto fail;
  }
  const OvaTensorInfo *in = ova_engine_get_input_info (x->engine, 0);
  if (in->rank != 4 || in->dims[1] <= 0 || in->dims[2] <= 0 || in->dims[3] <= 0) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL,
                 "%s: input '%s' must be N x C x H x W with fixed C, H, W", cfg->onnx_file, in->name);
    goto fail;
  }
  if (in->dtype != OVA_DTYPE_FLOAT32) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL, "%s: input '%s' is %s; ovainfer feeds float32",
                 cfg->onnx_file, in->name, ova_dtype_name (in->dtype));
    goto fail;
  }
  x->net_c = in->dims[1];
  x->net_h = in->dims[2];
  x->net_w = in->dims[3];
  gint want_c = cfg->model_color_format == OVA_COLOR_GRAY ? 1 : 3;
  if (x->net_c != want_c) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL,
                 "%s: input '%s' has %d channels but model-color-format=%d needs %d", cfg->onnx_file,
                 in->name, x->net_c, cfg->model_color_format, want_c);
    goto fail;
  }
  x->engine_batch = in->dims[0] > 0 ? in->dims[0] : 0;
  if (x->engine_batch == 0 && ova_engine_get_max_batch (x->engine) < (gint) x->batch)
    x->engine_batch = MAX (1, ova_engine_get_max_batch (x->engine));
  x->gpu_pad = g_strcmp0 (g_getenv ("OVA_INFER_GPU_PAD_BATCH"), "0") != 0; /* the GPU path's runs */
  x->in_per = (gsize) x->net_c * x->net_h * x->net_w;
  guint alloc_batch = MAX (x->batch, x->engine_batch);
  alloc_batch = x->engine_batch ? ((x->batch + x->engine_batch - 1) / x->engine_batch) * x->engine_batch : x->batch;
  x->input = g_malloc0 (sizeof (gfloat) * x->in_per * alloc_batch);
  ova_preproc_params_from_config (&x->pp, cfg, x->net_w, x->net_h);

  /* outputs: output-blob-names in that order, else all in graph order */
  gint n_all = ova_engine_get_n_outputs (x->engine);
  GArray *sel = g_array_new (FALSE, FALSE, sizeof (gint));
  if (cfg->output_blob_names) {
    for (gchar **nm = cfg->output_blob_names; *nm; nm++) {
      gint found = -1;
      for (gint i = 0; i < n_all; i++)
        if (!g_strcmp0 (ova_engine_get_output_info (x->engine, i)->name, *nm))
          found = i;
      if (found < 0) {
        GString *names = g_string_new (NULL);
        for (gint i = 0; i < n_all; i++)
          g_string_append_printf (names, "%s%s", i ? ", " : "", ova_engine_get_output_info (x->engine, i)->name);
        g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_CONFIG,
                     "%s: [property] output-blob-names: the model has no output '%s' (it has: %s)",
                     cfg->path ? cfg->path : "(config)", *nm, names->str);
        g_string_free (names, TRUE);
        g_array_free (sel, TRUE);
        goto fail;
      }
      g_array_append_val (sel, found);
    }
  } else {
    for (gint i = 0; i < n_all; i++)
      g_array_append_val (sel, i);
  }
  x->n_out = sel->len;
  x->out_index = (gint *) g_array_free (sel, FALSE);
  x->out_name = g_new0 (gchar *, x->n_out + 1);
  x->out_layer = g_new0 (OvaInferLayer, x->n_out);
  x->out_per = g_new0 (gsize, x->n_out);
  x->out_cap = g_new0 (gsize, x->n_out);
  x->out_buf = g_new0 (guint8 *, x->n_out);
  x->out_data = g_new0 (const guint8 *, x->n_out);
  for (guint i = 0; i < x->n_out; i++)
    x->out_name[i] = g_strdup (ova_engine_get_output_info (x->engine, x->out_index[i])->name);

  if (cfg->network_type == OVA_NETWORK_DETECTOR) {
    if (cfg->parser == OVA_PARSER_CUSTOM) {
      x->custom = ova_custom_parser_open (cfg->custom_lib_path, cfg->parse_bbox_func_name, error);
      if (!x->custom)
        goto fail;
    } else if (cfg->parser == OVA_PARSER_SSD && x->n_out < 2) {
      g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL,
                   "%s: the ssd parser needs two outputs (boxes, scores); set output-blob-names",
                   cfg->onnx_file);
      goto fail;
    }
    x->thresholds = g_new (gfloat, MAX (cfg->num_detected_classes, 1));
    for (gint c = 0; c < MAX (cfg->num_detected_classes, 1); c++)
      x->thresholds[c] = ova_infer_config_class_attrs (cfg, c)->pre_cluster_threshold;
    /* Built-in YOLO parsers on the cuda backend decode on the GPU; custom
     * parsers and raw-tensor users need the whole output on the host. */
    gboolean builtin_yolo = cfg->parser == OVA_PARSER_YOLOX || cfg->parser == OVA_PARSER_YOLOV8 ||
                            cfg->parser == OVA_PARSER_YOLOV5;
    x->gpu_decode = x->cuda && builtin_yolo && !cfg->output_tensor_meta && cfg->num_detected_classes > 0 &&
                    g_strcmp0 (g_getenv ("OVA_INFER_GPU_DECODE"), "0") != 0;
    const gchar *cc = g_getenv ("OVA_INFER_GPU_CANDIDATES");
    x->copy_candidates = cc && atoi (cc) > 0 ? (guint) atoi (cc) : GPU_DECODE_COPY_CANDIDATES;
  }
  return x;
fail:
  ova_infer_context_free (x);
  return NULL;
}

void
ova_infer_context_free (OvaInferContext *x)
{
  if (!x)
    return;
#if OVA_HAVE_CUDA
  if (x->stream)
    cudaStreamSynchronize ((cudaStream_t) x->stream);
#endif
  if (x->engine)
    ova_engine_free (x->engine);
#if OVA_HAVE_CUDA
  if (x->dev_input)
    cudaFree (x->dev_input);
  if (x->dev_thresholds)
    cudaFree (x->dev_thresholds);
  if (x->stream)
    cudaStreamDestroy ((cudaStream_t) x->stream);
#endif
  ova_custom_parser_free (x->custom);
  for (guint i = 0; i < x->n_out; i++)
    g_free (x->out_buf[i]);
  g_free (x->out_buf);
  g_free (x->out_data);
  g_free (x->out_per);
  g_free (x->out_cap);
  g_free (x->out_layer);
  g_strfreev (x->out_name);
  g_free (x->out_index);
  g_free (x->input);
  g_free (x->thresholds);
  g_free (x);
}

guint
ova_infer_context_batch_size (const OvaInferContext *x)
{
  return x->batch;
}

void
ova_infer_context_net_info (const OvaInferContext *x, OvaInferNetworkInfo *net)
{
  net->width = x->net_w;
  net->height = x->net_h;
  net->channels = x->net_c;
}

gfloat *
ova_infer_context_input (OvaInferContext *x, guint slot)
{
  g_return_val_if_fail (slot < x->batch, NULL);
  return x->input + x->in_per * slot;
}

gboolean
ova_infer_context_preprocess (OvaInferContext *x, guint slot, const OvaImage *img, const OvaRect *crop,
                              OvaLetterbox *lb)
{
  g_return_val_if_fail (slot < x->batch, FALSE);
  return ova_preprocess (img, crop, &x->pp, x->input + x->in_per * slot, lb);
}

gsize
ova_infer_context_input_floats (const OvaInferContext *x)
{
  return x->in_per;
}

gboolean
ova_infer_context_preprocess_into (const OvaInferContext *x, gfloat *dst, const OvaImage *img,
                                   const OvaRect *crop, OvaLetterbox *lb)
{
  return ova_preprocess (img, crop, &x->pp, dst, lb);
}


/* Bytes of one sample of network output @i; 0 with @error set when the
 * output does not carry the batch of @cnt as its first dimension. */
static gsize
output_sample_bytes (const OvaInferContext *x, guint i, const OvaTensor *t, guint cnt, GError **error)
{
  if (t->rank < 1 || t->dims[0] != (gint64) cnt) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL,
                 "%s: output '%s' has no batch dimension of %u", x->cfg->onnx_file, x->out_name[i], cnt);
    return 0;
  }
  gsize per = ova_dtype_size (t->dtype);
  for (int d = 1; d < t->rank; d++)
    per *= t->dims[d];
  return per;
}

static gboolean
run_on (OvaInferContext *x, const gfloat *input, guint n, GError **error)
{
  g_return_val_if_fail (n <= x->batch, FALSE);
  x->job = NULL;
  guint step = x->engine_batch ? x->engine_batch : n;
  OvaTensor *outs = g_newa (OvaTensor, ova_engine_get_n_outputs (x->engine));
  for (guint first = 0; first < n; first += step) {
    /* a fixed batch dimension runs full (unused images are stale but ignored) */
    guint cnt = x->engine_batch ? x->engine_batch : n - first;
    const gfloat *data = input + x->in_per * first;
    if (input != x->input && first + cnt > n) {
      /* the caller's buffer ends before a full fixed-size chunk: stage it */
      memcpy (x->input, data, sizeof (gfloat) * x->in_per * (n - first));
      data = x->input;
    }
    OvaTensor in = { 0 };
    in.data = (gpointer) data;
    in.dtype = OVA_DTYPE_FLOAT32;
    in.rank = 4;
    in.dims[0] = cnt;
    in.dims[1] = x->net_c;
    in.dims[2] = x->net_h;
    in.dims[3] = x->net_w;
    in.device = OVA_DEVICE_CPU;
    if (!ova_engine_run (x->engine, &in, 1, outs, ova_engine_get_n_outputs (x->engine), error))
      return FALSE;
    for (guint i = 0; i < x->n_out; i++) {
      const OvaTensor *t = &outs[x->out_index[i]];
      gsize per = output_sample_bytes (x, i, t, cnt, error);
      if (!per)
        return FALSE;
      x->out_per[i] = per;
      OvaInferLayer *l = &x->out_layer[i];
      l->name = x->out_name[i];
      l->dtype = t->dtype;
      l->rank = t->rank;
      memcpy (l->dims, t->dims, sizeof (gint64) * MIN (t->rank, 8));
      l->dims[0] = 1;
      if (first == 0 && cnt >= n) {
        /* one engine run covered the batch: read its outputs in place (valid
         * until the next run) instead of copying them */
        x->out_data[i] = t->data;
        continue;
      }
      gsize need = (gsize) per * (x->batch + step);
      if (!x->out_buf[i] || x->out_cap[i] < need) {
        g_free (x->out_buf[i]);
        x->out_buf[i] = g_malloc (need);
        x->out_cap[i] = need;
      }
      guint keep = MIN (cnt, n - first);
      memcpy (x->out_buf[i] + per * first, t->data, per * keep);
      x->out_data[i] = x->out_buf[i];
    }
  }
  return TRUE;
}

gboolean
ova_infer_context_run (OvaInferContext *x, guint n, GError **error)
{
  return run_on (x, x->input, n, error);
}

gboolean
ova_infer_context_run_input (OvaInferContext *x, const gfloat *input, guint n, GError **error)
{
  return run_on (x, input, n, error);
}

guint
ova_infer_context_n_outputs (const OvaInferContext *x)
{
  return x->n_out;
}

void
ova_infer_context_output (const OvaInferContext *x, guint slot, guint i, OvaInferLayer *layer)
{
  *layer = x->out_layer[i];
  layer->data = x->out_data[i] ? x->out_data[i] + x->out_per[i] * slot : NULL;
}

static gboolean job_decoded (const OvaInferContext *x);
static gboolean job_candidates (OvaInferContext *x, guint slot, OvaInferObjectList *out, GError **error);

gboolean
ova_infer_context_detect (OvaInferContext *x, guint slot, const OvaLetterbox *lb, gfloat to_src_x,
                          gfloat to_src_y, gfloat fw, gfloat fh, OvaInferObjectList *out, GError **error)
{
  const OvaInferConfig *cfg = x->cfg;
  OvaInferNetworkInfo net;
  OvaInferLayer *layers = g_newa (OvaInferLayer, MAX (x->n_out, 1));
  ova_infer_context_net_info (x, &net);
  for (guint i = 0; i < x->n_out; i++)
    ova_infer_context_output (x, slot, i, &layers[i]);
  OvaInferParseParams params = { MAX (cfg->num_detected_classes, 0), x->thresholds,
                                 (const char *const *) cfg->labels };
  if (cfg->labels && cfg->n_labels < (guint) cfg->num_detected_classes)
    params.labels = NULL;
  gboolean ok;
  out->n = 0;
  if (job_decoded (x)) {
    /* decoded on the GPU: the parser's boxes, in its order */
    if (!job_candidates (x, slot, out, error))
      return FALSE;
    ok = TRUE;
  } else {
    switch (cfg->parser) {
      case OVA_PARSER_YOLOX: ok = ova_parse_yolox (&layers[0], &net, &params, out); break;
      case OVA_PARSER_YOLOV8: ok = ova_parse_yolov8 (&layers[0], &net, &params, out); break;
      case OVA_PARSER_YOLOV5: ok = ova_parse_yolov5 (&layers[0], &net, &params, out); break;
      case OVA_PARSER_SSD: ok = ova_parse_ssd (&layers[0], &layers[1], &net, &params, out); break;
      case OVA_PARSER_CUSTOM: ok = ova_custom_parser_run (x->custom, layers, x->n_out, &net, &params, out); break;
      default: ok = FALSE; break;
    }
  }
  if (!ok) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_PARSER, "%s: the output parser (%s) failed on the outputs of %s",
                 cfg->path ? cfg->path : "(config)", cfg->parse_bbox_func_name ? cfg->parse_bbox_func_name : "yolox",
                 cfg->onnx_file);
    return FALSE;
  }
  /* custom parsers may return boxes below threshold or of unknown classes */
  size_t k = 0;
  for (size_t i = 0; i < out->n; i++) {
    OvaInferObject *o = &out->objects[i];
    if (o->class_id < 0 || (cfg->num_detected_classes > 0 && o->class_id >= cfg->num_detected_classes))
      continue;
    if (o->confidence < ova_infer_config_class_attrs (cfg, o->class_id)->pre_cluster_threshold)
      continue;
    out->objects[k++] = *o;
  }
  out->n = k;
  if (cfg->cluster_mode == OVA_CLUSTER_NMS)
    ova_nms (out, cfg, cfg->class_agnostic_nms, -1);
  k = 0;
  for (size_t i = 0; i < out->n; i++) {
    OvaInferObject o = out->objects[i];
    ova_letterbox_unmap (lb, &o);
    o.left *= to_src_x;
    o.width *= to_src_x;
    o.top *= to_src_y;
    o.height *= to_src_y;
    gfloat l = CLAMP (o.left, 0, fw), t = CLAMP (o.top, 0, fh);
    gfloat r = CLAMP (o.left + o.width, 0, fw), b = CLAMP (o.top + o.height, 0, fh);
    o.left = l;
    o.top = t;
    o.width = r - l;
    o.height = b - t;
    if (o.width <= 0 || o.height <= 0)
      continue;
    const OvaClassAttrs *ca = ova_infer_config_class_attrs (cfg, o.class_id);
    if ((ca->detected_min_w && o.width < ca->detected_min_w) || (ca->detected_min_h && o.height < ca->detected_min_h) ||
        (ca->detected_max_w && o.width > ca->detected_max_w) || (ca->detected_max_h && o.height > ca->detected_max_h))
      continue;
    gfloat cy = o.top + o.height / 2;
    if (cy < ca->roi_top_offset || cy > fh - ca->roi_bottom_offset)
      continue;
    out->objects[k++] = o;
  }
  out->n = k;
  return TRUE;
}

/* ------------------------------------------------------------ the GPU path */

gboolean
ova_infer_context_is_cuda (const OvaInferContext *x)
{
  return x && x->cuda;
}

#if OVA_HAVE_CUDA

struct _OvaInferCudaJob {
  cudaEvent_t done;
  guint n;                 /* images of the last submit */
  guint n_out;
  gsize *per;              /* bytes per image of each output */
  gsize *cap;              /* bytes allocated */
  guint8 **host;           /* pinned, n * per */
  OvaInferLayer *layer;    /* dims of one image */
  /* decoding on the GPU (built-in detector parsers): candidates, not outputs */
  gboolean decoded;        /* the last submit decoded on the GPU */
  gint device;
  guint anchors;           /* per image: the device list's capacity (one candidate per anchor at most) */
  guint copy_cap;          /* candidates per image copied back with the job */
  guint images_cap;        /* images the candidate buffers hold */
  OvaCudaCandidate *dev_cand;  /* device, images_cap * anchors */
  guint *dev_counts;           /* device, images_cap */
  OvaCudaCandidate *host_cand; /* pinned, images_cap * copy_cap */
  guint *host_counts;          /* pinned, images_cap */
  OvaCudaCandidate *more;  /* host: an image's list when it holds more than copy_cap */
  gsize more_cap;
  void *fetch_stream;      /* cudaStream_t (non-blocking) of those fetches */
};

static gboolean
cuda_ok (cudaError_t e, const gchar *what, GError **error)
{
  if (e == cudaSuccess)
    return TRUE;
  cudaGetLastError ();
  g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL, "CUDA: %s: %s", what, cudaGetErrorString (e));
  return FALSE;
}

gboolean
ova_infer_cuda_init_device (gint device, GError **error)
{
  int count = 0;
  if (cudaGetDeviceCount (&count) != cudaSuccess || count <= device) {
    cudaGetLastError ();
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL, "no CUDA device %d (%d found)", device, count);
    return FALSE;
  }
  return cuda_ok (cudaSetDevice (device), "set device", error) && cuda_ok (cudaFree (NULL), "initialise", error);
}

static void
job_free_candidates (OvaInferCudaJob *j)
{
  if (j->dev_cand)
    cudaFree (j->dev_cand);
  if (j->dev_counts)
    cudaFree (j->dev_counts);
  if (j->host_cand)
    cudaFreeHost (j->host_cand);
  if (j->host_counts)
    cudaFreeHost (j->host_counts);
  j->dev_cand = NULL;
  j->dev_counts = NULL;
  j->host_cand = NULL;
  j->host_counts = NULL;
  j->images_cap = 0;
}

/* Room for @images images of @anchors candidates (device) and @copy_cap of
 * them (pinned host). The job's earlier work is complete (waited for). */
static gboolean
job_ensure_candidates (OvaInferCudaJob *j, guint images, guint anchors, guint copy_cap, GError **error)
{
  if (j->dev_cand && images <= j->images_cap && anchors == j->anchors && copy_cap == j->copy_cap)
    return TRUE;
  job_free_candidates (j);
  images = MAX (images, 1);
  if (!cuda_ok (cudaMalloc ((void **) &j->dev_cand, sizeof (OvaCudaCandidate) * anchors * images),
                "candidate buffer", error) ||
      !cuda_ok (cudaMalloc ((void **) &j->dev_counts, sizeof (guint) * images), "candidate counts", error) ||
      !cuda_ok (cudaMallocHost ((void **) &j->host_cand, sizeof (OvaCudaCandidate) * copy_cap * images),
                "pinned candidate buffer", error) ||
      !cuda_ok (cudaMallocHost ((void **) &j->host_counts, sizeof (guint) * images), "pinned candidate counts",
                error)) {
    job_free_candidates (j);
    return FALSE;
  }
  j->images_cap = images;
  j->anchors = anchors;
  j->copy_cap = copy_cap;
  return TRUE;
}

/* Decoding parameters of the context; uploads the thresholds once. */
static gboolean
decode_params (OvaInferContext *x, OvaCudaDecodeParams *p, GError **error)
{
  const OvaInferConfig *cfg = x->cfg;
  guint nc = cfg->num_detected_classes;
  if (!x->dev_thresholds) {
    if (!cuda_ok (cudaMalloc ((void **) &x->dev_thresholds, sizeof (gfloat) * nc), "threshold buffer", error))
      return FALSE;
    if (!cuda_ok (cudaMemcpy (x->dev_thresholds, x->thresholds, sizeof (gfloat) * nc, cudaMemcpyHostToDevice),
                  "threshold upload", error)) {
      cudaFree (x->dev_thresholds);
      x->dev_thresholds = NULL;
      return FALSE;
    }
  }
  memset (p, 0, sizeof (*p));
  p->parser = cfg->parser;
  ova_infer_context_net_info (x, &p->net);
  p->num_classes = nc;
  p->thresholds = x->dev_thresholds;
  /* min_threshold () of parse.c: the host parsers' early cut */
  p->min_threshold = 1.0f;
  for (guint c = 0; c < nc; c++)
    p->min_threshold = MIN (p->min_threshold, x->thresholds[c]);
  return TRUE;
}

OvaInferCudaJob *
ova_infer_cuda_job_new (void)
{
  return g_new0 (OvaInferCudaJob, 1);
}

void
ova_infer_cuda_job_free (OvaInferCudaJob *j)
{
  if (!j)
    return;
  if (j->done) {
    cudaEventSynchronize (j->done);
    cudaEventDestroy (j->done);
  }
  for (guint i = 0; i < j->n_out; i++)
    if (j->host[i])
      cudaFreeHost (j->host[i]);
  g_free (j->host);
  g_free (j->per);
  g_free (j->cap);
  g_free (j->layer);
  job_free_candidates (j);
  g_free (j->more);
  if (j->fetch_stream)
    cudaStreamDestroy ((cudaStream_t) j->fetch_stream);
  g_free (j);
}

/* Images per engine run for @n images on the GPU. A symbolic batch runs
 * padded to the next power of two, or to the configured batch where that is
 * smaller: the engine builds and times a plan for each batch size it has not
 * seen (hundreds of milliseconds on the cuda backend), which stalled a live
 * pipeline each time ovamux pushed a partial batch of a new size; this way
 * there are at most log2(batch) + 2 sizes, and the padding costs less than a
 * batch of twice the size. OVA_INFER_GPU_PAD_BATCH=0: runs of exactly @n. */
static guint
gpu_run_batch (const OvaInferContext *x, guint n)
{
  if (x->engine_batch)
    return x->engine_batch;
  n = MAX (MIN (n, x->batch), 1);
  if (!x->gpu_pad)
    return n;
  guint b = 1;
  while (b < n)
    b <<= 1;
  return MIN (b, MAX (x->batch, 1));
}

gboolean
ova_infer_context_cuda_submit (OvaInferContext *x, OvaInferCudaJob *j, const void *frames_, guint n,
                               OvaLetterbox *lbs, GError **error)
{
  const OvaCudaNv12Frame *frames = frames_;
  if (!x->cuda) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL, "%s: the model does not run on the cuda backend",
                 x->cfg->onnx_file);
    return FALSE;
  }
  if (!cuda_ok (cudaSetDevice (x->device), "set device", error))
    return FALSE;
  if (!x->stream) {
    cudaStream_t s;
    if (!cuda_ok (cudaStreamCreateWithFlags (&s, cudaStreamNonBlocking), "stream", error))
      return FALSE;
    x->stream = s;
  }
  cudaStream_t s = (cudaStream_t) x->stream;
  if (!j->done && !cuda_ok (cudaEventCreateWithFlags (&j->done, cudaEventDisableTiming), "event", error))
    return FALSE;
  /* a fixed batch dimension runs full chunks, a symbolic one padded runs:
   * room for the rounded-up count */
  guint step = gpu_run_batch (x, n);
  guint rounded = ((n + step - 1) / step) * step;
  if (x->dev_input_images < rounded) {
    if (x->dev_input) {
      cudaStreamSynchronize (s);
      cudaFree (x->dev_input);
      x->dev_input = NULL;
    }
    x->dev_input_images = 0;
    if (!cuda_ok (cudaMalloc (&x->dev_input, sizeof (gfloat) * x->in_per * rounded), "input buffer", error))
      return FALSE;
    cudaMemsetAsync (x->dev_input, 0, sizeof (gfloat) * x->in_per * rounded, s);
    x->dev_input_images = rounded;
  }
  if (n && !ova_cuda_preprocess_nv12 (frames, n, &x->pp, x->dev_input, FALSE, s, lbs, error))
    return FALSE;
  gint n_all = ova_engine_get_n_outputs (x->engine);
  OvaTensor *outs = g_newa (OvaTensor, MAX (n_all, 1));
  OvaCudaDecodeParams dp = { 0 };
  j->decoded = FALSE;
  j->device = x->device;
  /* the output's shape is known once the first chunk ran: decided there */
  if (x->gpu_decode && n && !decode_params (x, &dp, error))
    return FALSE;
  if (j->n_out != x->n_out) {
    for (guint i = 0; i < j->n_out; i++)
      if (j->host[i])
        cudaFreeHost (j->host[i]);
    g_free (j->host);
    g_free (j->per);
    g_free (j->cap);
    g_free (j->layer);
    j->n_out = x->n_out;
    j->host = g_new0 (guint8 *, x->n_out + 1);
    j->per = g_new0 (gsize, x->n_out + 1);
    j->cap = g_new0 (gsize, x->n_out + 1);
    j->layer = g_new0 (OvaInferLayer, x->n_out + 1);
  }
  for (guint first = 0; first < n; first += step) {
    /* padded: the images past n hold older frames (or zeros); their outputs
     * are not read */
    guint cnt = x->engine_batch || x->gpu_pad ? step : MIN (step, n - first);
    OvaTensor in = { 0 };
    in.data = (guint8 *) x->dev_input + sizeof (gfloat) * x->in_per * first;
    in.dtype = OVA_DTYPE_FLOAT32;
    in.rank = 4;
    in.dims[0] = cnt;
    in.dims[1] = x->net_c;
    in.dims[2] = x->net_h;
    in.dims[3] = x->net_w;
    in.device = OVA_DEVICE_CUDA;
    if (!ova_engine_run_async (x->engine, &in, 1, outs, n_all, s, error))
      return FALSE;
    guint keep = MIN (cnt, n - first);
    const OvaTensor *det = x->n_out ? &outs[x->out_index[0]] : NULL;
    if (first == 0 && x->gpu_decode && det) {
      GError *why = NULL;
      guint anchors = 0;
      if (det->device != OVA_DEVICE_CUDA || det->dtype != OVA_DTYPE_FLOAT32)
        g_set_error (&why, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL, "the output is not float32 in device memory");
      else
        anchors = ova_cuda_decode_anchors (&dp, det->dims, det->rank, &why);
      if (!anchors) {
        /* the host parser then reports the shape as it does on the CPU */
        g_message ("%s: output '%s' decoded on the host: %s", x->cfg->onnx_file, x->out_name[0], why->message);
        g_error_free (why);
        x->gpu_decode = FALSE;
      } else {
        if (!job_ensure_candidates (j, MAX (rounded, x->batch), anchors, MIN (anchors, x->copy_candidates),
                                    error))
          return FALSE;
        j->decoded = TRUE;
      }
    }
    if (j->decoded) {
      /* candidates of images first.. (capacity = anchors: never overflows) */
      if (!ova_cuda_decode_detections (&dp, det->data, det->dims, det->rank, keep,
                                       j->dev_cand + (gsize) first * j->anchors, j->anchors, j->dev_counts + first,
                                       s, error))
        return FALSE;
    }
    for (guint i = 0; i < x->n_out; i++) {
      const OvaTensor *t = &outs[x->out_index[i]];
      gsize per = output_sample_bytes (x, i, t, cnt, error);
      if (!per)
        return FALSE;
      gsize need = per * MAX (n, x->batch);
      if (!j->decoded && j->cap[i] < need) {
        if (j->host[i]) {
          /* earlier chunks of this submit may still be copying into it */
          cudaStreamSynchronize (s);
          guint8 *old = j->host[i];
          j->host[i] = NULL;
          if (!cuda_ok (cudaMallocHost ((void **) &j->host[i], need), "pinned output buffer", error))
            return FALSE;
          memcpy (j->host[i], old, j->per[i] * first);
          cudaFreeHost (old);
        } else if (!cuda_ok (cudaMallocHost ((void **) &j->host[i], need), "pinned output buffer", error)) {
          return FALSE;
        }
        j->cap[i] = need;
      }
      j->per[i] = per;
      OvaInferLayer *l = &j->layer[i];
      l->name = x->out_name[i];
      l->dtype = t->dtype;
      l->rank = t->rank;
      memcpy (l->dims, t->dims, sizeof (gint64) * MIN (t->rank, 8));
      l->dims[0] = 1;
      if (j->decoded)
        continue; /* only the candidates come back */
      const void *src = t->data;
      if (t->device == OVA_DEVICE_CUDA) {
        if (!cuda_ok (cudaMemcpyAsync (j->host[i] + per * first, src, per * keep, cudaMemcpyDeviceToHost, s),
                      "output download", error))
          return FALSE;
      } else {
        /* host outputs (not expected with device inputs): copy after the run */
        cudaStreamSynchronize (s);
        memcpy (j->host[i] + per * first, src, per * keep);
      }
    }
  }
  if (j->decoded && n) {
    /* the counts and the first copy_cap candidates of every image */
    if (!cuda_ok (cudaMemcpyAsync (j->host_counts, j->dev_counts, sizeof (guint) * n, cudaMemcpyDeviceToHost, s),
                  "candidate count download", error) ||
        !cuda_ok (cudaMemcpy2DAsync (j->host_cand, sizeof (OvaCudaCandidate) * j->copy_cap, j->dev_cand,
                                     sizeof (OvaCudaCandidate) * j->anchors, sizeof (OvaCudaCandidate) * j->copy_cap,
                                     n, cudaMemcpyDeviceToHost, s),
                  "candidate download", error))
      return FALSE;
  }
  j->n = n;
  return cuda_ok (cudaEventRecord (j->done, s), "record", error);
}

gboolean
ova_infer_cuda_job_wait (OvaInferCudaJob *j, GError **error)
{
  if (!j->done)
    return TRUE;
  return cuda_ok (cudaEventSynchronize (j->done), "inference on the GPU", error);
}

void
ova_infer_context_use_job (OvaInferContext *x, OvaInferCudaJob *j, guint first)
{
  x->job = j;
  x->job_first = first;
  for (guint i = 0; i < x->n_out && i < j->n_out; i++) {
    x->out_layer[i] = j->layer[i];
    x->out_per[i] = j->per[i];
    x->out_data[i] = j->host[i] && !j->decoded ? j->host[i] + j->per[i] * first : NULL;
  }
}

static gboolean
job_decoded (const OvaInferContext *x)
{
  return x->job && x->job->decoded;
}

static int
cmp_anchor (const void *a, const void *b)
{
  const OvaCudaCandidate *x = a, *y = b;
  return x->anchor < y->anchor ? -1 : (x->anchor > y->anchor);
}

/* Image slot's candidates as the host parser would have listed them. */
static gboolean
job_candidates (OvaInferContext *x, guint slot, OvaInferObjectList *out, GError **error)
{
  OvaInferCudaJob *j = x->job;
  guint image = x->job_first + slot;
  if (image >= j->n) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL, "image %u of a job of %u", image, j->n);
    return FALSE;
  }
  guint count = j->host_counts[image];
  OvaCudaCandidate *c = j->host_cand + (gsize) image * j->copy_cap;
  if (count > j->anchors) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL,
                 "GPU decoding: %u candidates for %u anchors in image %u", count, j->anchors, image);
    return FALSE;
  }
  if (count > j->copy_cap) {
    /* more than came back with the job: the rest is still in the job's
     * device list (reused only by the next submit of this job) */
    if (j->more_cap < count) {
      g_free (j->more);
      j->more = g_new (OvaCudaCandidate, count);
      j->more_cap = count;
    }
    /* on a stream of its own: the legacy default stream would wait for (and
     * hold up) every other blocking stream of the process */
    if (!cuda_ok (cudaSetDevice (j->device), "set device", error))
      return FALSE;
    if (!j->fetch_stream) {
      cudaStream_t fs;
      if (!cuda_ok (cudaStreamCreateWithFlags (&fs, cudaStreamNonBlocking), "stream", error))
        return FALSE;
      j->fetch_stream = fs;
    }
    cudaStream_t fs = (cudaStream_t) j->fetch_stream;
    if (!cuda_ok (cudaMemcpyAsync (j->more, j->dev_cand + (gsize) image * j->anchors,
                                   sizeof (OvaCudaCandidate) * count, cudaMemcpyDeviceToHost, fs),
                  "candidate download", error) ||
        !cuda_ok (cudaStreamSynchronize (fs), "candidate download", error))
      return FALSE;
    c = j->more;
  }
  qsort (c, count, sizeof (*c), cmp_anchor);
  for (guint i = 0; i < count; i++) {
    OvaInferObject o = { c[i].left, c[i].top, c[i].width, c[i].height, c[i].class_id, c[i].confidence };
    if (!ova_infer_object_list_push (out, &o)) {
      g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL, "out of memory");
      return FALSE;
    }
  }
  return TRUE;
}

#else /* !OVA_HAVE_CUDA */

static gboolean
no_cuda (GError **error)
{
  g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_MODEL, "libova was built without CUDA (-Dcuda)");
  return FALSE;
}

gboolean
ova_infer_cuda_init_device (gint device, GError **error)
{
  return no_cuda (error);
}

OvaInferCudaJob *
ova_infer_cuda_job_new (void)
{
  return NULL;
}

void
ova_infer_cuda_job_free (OvaInferCudaJob *job)
{
}

gboolean
ova_infer_context_cuda_submit (OvaInferContext *x, OvaInferCudaJob *j, const void *frames, guint n,
                               OvaLetterbox *lbs, GError **error)
{
  return no_cuda (error);
}

gboolean
ova_infer_cuda_job_wait (OvaInferCudaJob *j, GError **error)
{
  return no_cuda (error);
}

void
ova_infer_context_use_job (OvaInferContext *x, OvaInferCudaJob *j, guint first)
{
}

static gboolean
job_decoded (const OvaInferContext *x)
{
  return FALSE;
}

static gboolean
job_candidates (OvaInferContext *x, guint slot, OvaInferObjectList *out, GError **error)
{
  return no_cuda (error);
}

#endif
