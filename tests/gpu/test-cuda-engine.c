/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * The CUDA backend against the CPU backend, on a GPU (exit 77 without one):
 *  1. every kernel against its operator's plain-C reference on the same
 *     inputs (OVA_CUDA_CHECK), yolox_nano and osnet, fp32 and fp16;
 *  2. fp32 outputs against the CPU backend within 1e-3 of the output range,
 *     at several batch sizes of one engine (dynamic batch), CUDA-graph replay
 *     and the plan cache;
 *  3. with --frames FILE (uint8 N x 416 x 416 x 3 letterboxed BGR frames of
 *     the sample video): YOLOX detections after NMS, fp16 against fp32
 *     (>= 99 % of boxes matched with IoU >= 0.9);
 *  4. with --bench: images/s of yolox_nano at batch 1, 8, 32, 64, fp16 and fp32;
 *  5. with --conv-models DIR (tests/gpu/make-conv-models.py): every kernel of
 *     each small convolution model against the reference, fp16, with ova's
 *     implicit-GEMM convolution and 8-channel depthwise kernel forced
 *     (OVA_CUDA_IGEMM=force, OVA_CUDA_DW=force), Concat inputs written in
 *     place (and, for a third of them, copied); the depthwise models also
 *     with the scalar depthwise kernel, and a spread of models once per
 *     implicit-GEMM block tile and once per warp tile of the 1x1 kernel
 *     (OVA_CUDA_IGEMM_TILE); run last.
 * Lines starting with "RESULT" are collected by tests/gpu/device.sh.
 */
#include <ova/cuda.h>
#include <ova/engine.h>
#include <ova/infer.h>

#include <cuda_profiler_api.h>
#include <cuda_runtime.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

#include "cuda-check.h"

static void
fail (const char *what, GError *e)
{
  fprintf (stderr, "FAIL %s: %s\n", what, e ? e->message : "");
  failures++;
}

static OvaEngine *
engine (const char *model, const char *backend, OvaPrecision prec, int max_batch, const char *cache, GError **e)
{
  OvaEngineOptions o;
  ova_engine_options_init (&o);
  o.backend = backend;
  o.precision = prec;
  o.max_batch = max_batch;
  o.plan_cache = cache;
  o.verbose = g_getenv ("OVA_TEST_VERBOSE") != NULL; /* e.g. each convolution's timed variants */
  return ova_engine_new (model, &o, e);
}

/* Runs @e on input @x (shape of input 0 with batch @batch) given in host memory,
 * or copied to device memory first (@device); returns a host copy of output 0. */
static float *
run_io (OvaEngine *e, const float *x, int batch, gboolean device, int64_t *n_out, GError **err)
{
  const OvaTensorInfo *ii = ova_engine_get_input_info (e, 0);
  OvaTensor in = { 0 };
  in.dtype = OVA_DTYPE_FLOAT32;
  in.rank = ii->rank;
  memcpy (in.dims, ii->dims, sizeof in.dims);
  in.dims[0] = batch;
  int64_t n = 1;
  for (int d = 0; d < in.rank; d++)
    n *= in.dims[d];
  void *dx = NULL;
  OvaTensor out = { 0 };
  gboolean ok;
  /* host memory for the CPU backend; the CUDA backend asks for device memory */
  in.device = OVA_DEVICE_CPU;
  in.data = (void *) x;
  if (device) {
    CK (cudaMalloc (&dx, n * 4));
    CK (cudaMemcpy (dx, x, n * 4, cudaMemcpyHostToDevice));
    in.device = OVA_DEVICE_CUDA;
    in.data = dx;
  }
  ok = ova_engine_run (e, &in, 1, &out, 1, err);
  if (ok && (out.device == OVA_DEVICE_CUDA) != device) {
    g_set_error (err, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_ARGUMENT, "output in %s memory for %s input",
                 out.device == OVA_DEVICE_CUDA ? "device" : "host", device ? "device" : "host");
    ok = FALSE;
  }
  if (!ok) {
    if (dx)
      cudaFree (dx);
    return NULL;
  }
  int64_t m = 1;
  for (int d = 0; d < out.rank; d++)
    m *= out.dims[d];
  float *y = g_new (float, m);
  if (out.device == OVA_DEVICE_CUDA)
    CK (cudaMemcpy (y, out.data, m * 4, cudaMemcpyDeviceToHost));
  else
    memcpy (y, out.data, m * 4);
  if (dx)
    cudaFree (dx);
  *n_out = m;
  return y;
}

static float *
run_host (OvaEngine *e, const float *x, int batch, int64_t *n_out, GError **err)
{
  return run_io (e, x, batch, FALSE, n_out, err);
}

static float *
random_input (int64_t n, float lo, float hi, guint32 seed)
{
  GRand *r = g_rand_new_with_seed (seed);
  float *x = g_new (float, n);
  for (int64_t i = 0; i < n; i++)
    x[i] = (float) g_rand_double_range (r, lo, hi);
  g_rand_free (r);
  return x;
}

static int64_t
input_numel (OvaEngine *e, int batch)
{
  const OvaTensorInfo *ii = ova_engine_get_input_info (e, 0);
  int64_t n = batch;
  for (int d = 1; d < ii->rank; d++)
    n *= ii->dims[d];
  return n;
}

/* 1. per-kernel check; @label (nullable) names the variant in the RESULT line */
static void
check_kernels_as (const char *model, const char *label, OvaPrecision prec, int batch, float lo, float hi)
{
  GError *e = NULL;
  g_setenv ("OVA_CUDA_CHECK", "1", TRUE);
  OvaEngine *g = engine (model, "cuda", prec, batch, NULL, &e);
  if (!g) {
    fail ("kernel check: engine", e);
    g_clear_error (&e);
    g_unsetenv ("OVA_CUDA_CHECK");
    return;
  }
  int64_t n = input_numel (g, batch), m;
  float *x = random_input (n, lo, hi, 7 + batch);
  float *y = run_host (g, x, batch, &m, &e);
  char *what = g_strdup_printf ("kernels vs reference: %s %s batch %d", g_path_get_basename (model),
                                prec == OVA_PRECISION_FP16 ? "fp16" : "fp32", batch);
  if (!y)
    fail (what, e);
  printf ("RESULT kernels %s %s%s%s %s\n", g_path_get_basename (model), prec == OVA_PRECISION_FP16 ? "fp16" : "fp32",
          label ? " " : "", label ? label : "", y ? "pass" : "FAIL");
  g_clear_error (&e);
  g_free (what);
  g_free (x);
  g_free (y);
  ova_engine_free (g);
  g_unsetenv ("OVA_CUDA_CHECK");
}

static void
check_kernels (const char *model, OvaPrecision prec, int batch, float lo, float hi)
{
  check_kernels_as (model, NULL, prec, batch, lo, hi);
}

/* The same with ova's own convolution kernels wherever they apply: the
 * implicit GEMM (@tile: one block tile, "BMxBN"; NULL: the fastest of each
 * convolution) and the depthwise kernel (@dw: OVA_CUDA_DW, "force" for the
 * 8-channel variant or "scalar"). */
static void
check_kernels_ova_as (const char *model, int batch, float lo, float hi, gboolean concat_in_place, const char *tile,
                      const char *dw)
{
  g_setenv ("OVA_CUDA_IGEMM", "force", TRUE);
  g_setenv ("OVA_CUDA_DW", dw, TRUE);
  if (tile)
    g_setenv ("OVA_CUDA_IGEMM_TILE", tile, TRUE);
  if (!concat_in_place)
    g_setenv ("OVA_CUDA_CONCAT_INPLACE", "0", TRUE);
  /* the switches set for this check, with their values */
  GString *sw = g_string_new (NULL);
  static const char *const shown[][2] = { { "OVA_CUDA_S2D", "s2d" }, { "OVA_CUDA_POOL_PRED", "pool-pred" },
                                          { "OVA_CUDA_MMA1X1_PRELOAD", "1x1-preload" }, { "OVA_CUDA_DWPW", "dwpw" },
                                          { "OVA_CUDA_DW_PRED", "dw-pred" }, { "OVA_CUDA_STREAMS", "streams" },
                                          { "OVA_CUDA_HEAD_ROWS", "head-rows" },
                                          { "OVA_CUDA_CONCAT_READERS", "concat-readers" }, { "OVA_CUDA_PWPW", "pwpw" } };
  for (guint i = 0; i < G_N_ELEMENTS (shown); i++)
    if (g_getenv (shown[i][0]))
      g_string_append_printf (sw, " %s=%s", shown[i][1], g_getenv (shown[i][0]));
  char *label = g_strdup_printf ("%s%s%s%s%s%s", concat_in_place ? "igemm" : "igemm-concat-copy", tile ? " tile " : "",
                                 tile ? tile : "", strcmp (dw, "force") ? " dw " : "", strcmp (dw, "force") ? dw : "",
                                 sw->str);
  g_string_free (sw, TRUE);
  check_kernels_as (model, label, OVA_PRECISION_FP16, batch, lo, hi);
  g_free (label);
  g_unsetenv ("OVA_CUDA_IGEMM");
  g_unsetenv ("OVA_CUDA_DW");
  g_unsetenv ("OVA_CUDA_IGEMM_TILE");
  g_unsetenv ("OVA_CUDA_CONCAT_INPLACE");
}

static void
check_kernels_igemm (const char *model, int batch, float lo, float hi, gboolean concat_in_place)
{
  check_kernels_ova_as (model, batch, lo, hi, concat_in_place, NULL, "force");
}

/* The implicit-GEMM kernel's block tiles (conv-igemm.cu, TILES; the direct
 * first-layer kernel is checked on its own models). */
static const char *const igemm_tiles[] = { "128x64", "128x32", "128x16", "64x64", "64x32", "64x16",
                                           "32x64",  "32x32",  "32x16",  "64x128", "16x64", "16x32" };

/* The warp tiles of the 1x1 kernel (1x1 convolutions, stride 1, c % 8 == 0;
 * the others fall back to the library where one of these is forced). */
static const char *const mma1x1_tiles[] = { "1x1-16x16",  "1x1-16x32",  "1x1-16x64",  "1x1-16x128",
                                            "1x1-32x16",  "1x1-32x32",  "1x1-32x64",  "1x1p-16x16",
                                            "1x1p-16x32", "1x1p-32x16", "1x1p-32x32" };

static void check_switch_outputs (const char *model, int batch, float lo, float hi, const char *env,
                                  const char *off, const char *on, const char *label);

/* The warp tiles of the mma.sync kernel gathering any window (dense kxk
 * convolutions on c % 8 == 0 channels; opt-in, OVA_CUDA_MMA_KXK=1) */
static const char *const mma_kxk_tiles[] = { "kxk-16x16", "kxk-16x32", "kxk-32x16", "kxk-32x32" };

/* The variants of the shared-memory patch kernel (stride-1 windows up to
 * 3x3 on 16 channels) */
static const char *const patch_tiles[] = { "patch-4x32", "patch-8x32", "patch-4x32-n32" };

/* The variants of the depthwise + 1x1 kernel (output channels per block) */
static const char *const pwpw_variants[] = { "pwpw-8", "pwpw-16", "pwpw-32" };
static const char *const dwpw_variants[] = { "dwpw-16", "dwpw-32", "dwpw-64", "dwpw-128", "dwpw-r16-64",
                                             "dwpw-r16-128" };

/* The engine features that became the default after run C (docs/gpu.md):
 * the space-to-depth first layer, the 1x1 kernel's preloading warp tiles,
 * the branch-free depthwise and max-pooling kernels, depthwise + 1x1 in one
 * kernel, the graph over 4 streams; and after run D the detection head
 * written into the output rows, Concat inputs with other readers written in
 * place and the patch kernel for the first layer. new_features
 * (1) switches them on explicitly, (0) off (the engine before them: the
 * benchmark's fp16-before row and one kernel check keep that path
 * covered), (-1) back to the defaults. */
static const char *const new_feature_envs[] = { "OVA_CUDA_S2D", "OVA_CUDA_MMA1X1_PRELOAD", "OVA_CUDA_DW_PRED",
                                                "OVA_CUDA_POOL_PRED", "OVA_CUDA_DWPW", "OVA_CUDA_STREAMS",
                                                "OVA_CUDA_HEAD_ROWS", "OVA_CUDA_CONCAT_READERS",
                                                "OVA_CUDA_CONV_PATCH", "OVA_CUDA_POOL_GROUP", "OVA_CUDA_DWPW_R16",
                                                "OVA_CUDA_PWPW" };

static void
new_features (int on)
{
  for (guint i = 0; i < G_N_ELEMENTS (new_feature_envs); i++) {
    const gboolean streams = !strcmp (new_feature_envs[i], "OVA_CUDA_STREAMS");
    if (on < 0)
      g_unsetenv (new_feature_envs[i]);
    else
      g_setenv (new_feature_envs[i], on ? (streams ? "4" : "1") : (streams ? "1" : "0"), TRUE);
  }
}

/* 5. the convolution models of make-conv-models.py, in name order */
static void
check_conv_models (const char *dir)
{
  GError *e = NULL;
  GDir *d = g_dir_open (dir, 0, &e);
  if (!d) {
    fail ("conv models", e);
    g_clear_error (&e);
    return;
  }
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *f;
  while ((f = g_dir_read_name (d)))
    if (g_str_has_suffix (f, ".onnx"))
      g_ptr_array_add (names, g_build_filename (dir, f, NULL));
  g_dir_close (d);
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  if (!names->len)
    fail ("conv models: none found", NULL);
  for (guint i = 0; i < names->len; i++) {
    const char *m = g_ptr_array_index (names, i);
    char *base = g_path_get_basename (m);
    gboolean s2d = g_str_has_prefix (base, "s2d_");
    if (s2d) /* the opt-in space-to-depth first layer */
      g_setenv ("OVA_CUDA_S2D", "1", TRUE);
    check_kernels_igemm (m, 2, -2, 2, TRUE);
    /* every Concat input copied: a third of the models is enough */
    if (i % 3 == 0 || strstr (m, "pool"))
      check_kernels_igemm (m, 2, -2, 2, FALSE);
    /* the depthwise kernel that computes one element per thread, and the
     * 8-channel one without branches */
    if (g_str_has_prefix (base, "dw_")) {
      check_kernels_ova_as (m, 2, -2, 2, TRUE, NULL, "scalar");
      check_kernels_ova_as (m, 2, -2, 2, TRUE, NULL, "pred");
    }
    /* depthwise + 1x1 in one kernel: the fastest variant, then each, each
     * kernel against the reference (the depthwise kernel runs too in check
     * mode), then the whole model without check mode (the depthwise launch
     * left out) against the unfused engine */
    if (g_str_has_prefix (base, "dwpw_")) {
      g_setenv ("OVA_CUDA_DWPW", "force", TRUE);
      check_kernels_ova_as (m, 2, -2, 2, TRUE, NULL, "force");
      check_kernels_ova_as (m, 3, -2, 2, FALSE, NULL, "pred");
      g_unsetenv ("OVA_CUDA_DWPW");
      check_switch_outputs (m, 3, -2, 2, "OVA_CUDA_DWPW", "0", "force", "dwpw-outputs");
      for (guint v = 0; v < G_N_ELEMENTS (dwpw_variants); v++) {
        g_setenv ("OVA_CUDA_DWPW", dwpw_variants[v], TRUE);
        check_kernels_ova_as (m, 2, -2, 2, TRUE, NULL, "force");
        g_unsetenv ("OVA_CUDA_DWPW");
      }
    }
    /* detection heads written into the output rows: every branch kernel
     * against the reference through the rows (check mode), the whole
     * output against the engine that copies, at two batches */
    if (g_str_has_prefix (base, "head_")) {
      g_setenv ("OVA_CUDA_HEAD_ROWS", "force", TRUE);
      check_kernels_ova_as (m, 3, -2, 2, TRUE, NULL, "force");
      g_unsetenv ("OVA_CUDA_HEAD_ROWS");
      check_switch_outputs (m, 1, -2, 2, "OVA_CUDA_HEAD_ROWS", "0", "force", "head-rows-outputs");
      check_switch_outputs (m, 3, -2, 2, "OVA_CUDA_HEAD_ROWS", "0", "force", "head-rows-outputs");
    }
    /* Concat inputs read from the Concat's output by a depthwise
     * convolution and an upsample: each kernel (check mode; every
     * depthwise variant), and the whole output against the copying engine */
    if (g_str_has_prefix (base, "slice_")) {
      g_setenv ("OVA_CUDA_CONCAT_READERS", "1", TRUE);
      check_kernels_ova_as (m, 3, -2, 2, TRUE, NULL, "force");
      check_kernels_ova_as (m, 3, -2, 2, TRUE, NULL, "scalar");
      check_kernels_ova_as (m, 3, -2, 2, TRUE, NULL, "pred");
      check_kernels_ova_as (m, 1, -2, 2, FALSE, NULL, "force");
      check_switch_outputs (m, 3, -2, 2, "OVA_CUDA_CONCAT_INPLACE", "0", "1", "concat-slice-outputs");
      g_unsetenv ("OVA_CUDA_CONCAT_READERS");
    }
    /* two 1x1 convolutions in one kernel: forced, every kernel against the
     * reference in check mode (the first one runs too), at batches 1 and 2,
     * once per variant, and the whole output against the unfused engine */
    if (g_str_has_prefix (base, "pwpw_")) {
      g_setenv ("OVA_CUDA_PWPW", "force", TRUE);
      check_kernels_ova_as (m, 1, -2, 2, TRUE, NULL, "force");
      check_kernels_ova_as (m, 2, -2, 2, TRUE, NULL, "force");
      g_unsetenv ("OVA_CUDA_PWPW");
      for (guint v = 0; v < G_N_ELEMENTS (pwpw_variants); v++) {
        g_setenv ("OVA_CUDA_PWPW", pwpw_variants[v], TRUE);
        check_kernels_ova_as (m, 2, -2, 2, TRUE, NULL, "force");
        g_unsetenv ("OVA_CUDA_PWPW");
      }
      g_setenv ("OVA_CUDA_IGEMM", "force", TRUE);
      check_switch_outputs (m, 1, -2, 2, "OVA_CUDA_PWPW", "0", "force", "pwpw-outputs");
      check_switch_outputs (m, 3, -2, 2, "OVA_CUDA_PWPW", "0", "force", "pwpw-outputs");
      g_unsetenv ("OVA_CUDA_IGEMM");
    }
    /* max poolings of one input in one kernel (the default; check mode
     * checks each pool's output after the group's kernel): the whole output
     * against one kernel per pool, at two batches */
    if (g_str_has_prefix (base, "spp_") || g_str_has_prefix (base, "pool_resize")) {
      check_switch_outputs (m, 1, -2, 2, "OVA_CUDA_POOL_GROUP", "0", "1", "pool-group-outputs");
      check_switch_outputs (m, 3, -2, 2, "OVA_CUDA_POOL_GROUP", "0", "1", "pool-group-outputs");
    }
    /* max pooling with a branch per tap (the branch-free one is the default) */
    if (strstr (base, "pool") || g_str_has_prefix (base, "spp_")) {
      g_setenv ("OVA_CUDA_POOL_PRED", "0", TRUE);
      check_kernels_ova_as (m, 2, -2, 2, TRUE, NULL, "force");
      check_kernels_ova_as (m, 3, -2, 2, FALSE, NULL, "force");
      g_unsetenv ("OVA_CUDA_POOL_PRED");
    }
    /* every block tile of the implicit GEMM on a spread of models: the
     * unvectorised gather (fewer than 8 input channels, 6x6 windows), the
     * depthwise models' 1x1 convolutions and every eighth model */
    if (i % 8 == 0 || g_str_has_prefix (base, "dw_") || g_str_has_prefix (base, "s2d_") ||
        g_str_has_prefix (base, "head_") ||
        g_str_has_prefix (base, "conv_001") ||
        g_str_has_prefix (base, "conv_003") || g_str_has_prefix (base, "conv_004") || strstr (base, "_k6_"))
      for (guint t = 0; t < G_N_ELEMENTS (igemm_tiles); t++)
        check_kernels_ova_as (m, 2, -2, 2, TRUE, igemm_tiles[t], "force");
    /* every warp tile of the 1x1 kernel: each model has 1x1 convolutions
     * (a residual Add fused, a Concat slice written in place, channel
     * counts that are no multiple of 8) */
    if (i % 5 == 0 || g_str_has_prefix (base, "dw_") || g_str_has_prefix (base, "pool") ||
        g_str_has_prefix (base, "s2d_") || g_str_has_prefix (base, "head_"))
      for (guint t = 0; t < G_N_ELEMENTS (mma1x1_tiles); t++)
        check_kernels_ova_as (m, 2, -2, 2, TRUE, mma1x1_tiles[t], "force");
    /* every warp tile of the window-gathering mma.sync kernel: the 3x3, 5x5
     * and 6x6 models, stride 1 and 2, and the space-to-depth models (the
     * first layer on 8 or 16 channels) */
    if ((g_str_has_prefix (base, "conv_") && !strstr (base, "_k1_")) || g_str_has_prefix (base, "s2d_"))
      for (guint t = 0; t < G_N_ELEMENTS (mma_kxk_tiles); t++)
        check_kernels_ova_as (m, 2, -2, 2, TRUE, mma_kxk_tiles[t], "force");
    /* every variant of the patch kernel: the 16-channel k x k models and
     * the space-to-depth ones (16 channels there), at two batches */
    if (g_str_has_prefix (base, "conv_016_") || g_str_has_prefix (base, "s2d_"))
      for (guint t = 0; t < G_N_ELEMENTS (patch_tiles); t++) {
        check_kernels_ova_as (m, 2, -2, 2, TRUE, patch_tiles[t], "force");
        check_kernels_ova_as (m, 3, -2, 2, FALSE, patch_tiles[t], "force");
      }
    /* the direct first-layer kernel (1 to 4 input channels): on its own, and
     * writing into Concat slices with and without 16-byte stores */
    if (g_str_has_prefix (base, "conv_001") || g_str_has_prefix (base, "conv_002") ||
        g_str_has_prefix (base, "conv_003") || g_str_has_prefix (base, "conv_004") ||
        g_str_has_prefix (base, "first_")) {
      check_kernels_ova_as (m, 2, -2, 2, TRUE, "direct", "force");
      if (g_str_has_prefix (base, "first_"))
        check_kernels_ova_as (m, 3, -2, 2, TRUE, "direct", "force");
    }
    if (s2d)
      g_unsetenv ("OVA_CUDA_S2D");
    g_free (base);
  }
  g_ptr_array_free (names, TRUE);
}

/* What switch @env changes in a whole model's fp16 outputs outside check
 * mode: the engine with @env=@on against the one with @env=@off, within
 * fp16 noise (1e-2 of the output range; the two engines may also pick
 * different tile variants). Depthwise + 1x1 in one kernel (the depthwise
 * launch left out, its input in a buffer of its own) and detection heads
 * written into the output rows are checked this way: a kernel writing to
 * the wrong place shows as a difference of the order of the outputs. */
static void
check_switch_outputs (const char *model, int batch, float lo, float hi, const char *env, const char *off,
                      const char *on, const char *label)
{
  GError *e = NULL;
  g_setenv (env, off, TRUE);
  OvaEngine *plain = engine (model, "cuda", OVA_PRECISION_FP16, batch, NULL, &e);
  g_setenv (env, on, TRUE);
  OvaEngine *fused = plain ? engine (model, "cuda", OVA_PRECISION_FP16, batch, NULL, &e) : NULL;
  g_unsetenv (env);
  char *base = g_path_get_basename (model);
  int64_t n = fused ? input_numel (fused, batch) : 0, m1 = 0, m2 = 0;
  float *x = random_input (n, lo, hi, 31 + batch);
  float *r = fused ? run_io (plain, x, batch, TRUE, &m1, &e) : NULL;
  float *y = r ? run_io (fused, x, batch, TRUE, &m2, &e) : NULL;
  double maxref = 0, maxd = 0;
  for (int64_t i = 0; y && m1 == m2 && i < m1; i++) {
    maxref = MAX (maxref, fabs (r[i]));
    double d = fabs ((double) r[i] - y[i]);
    maxd = isnan (d) || d > maxd ? (isnan (d) ? INFINITY : d) : maxd;
  }
  double tol = 1e-2 * MAX (1.0, maxref);
  gboolean ok = y && m1 == m2 && maxd <= tol;
  printf ("RESULT %s %s batch %d max|ref|=%.4g max|%s=%s - %s=%s|=%.3g (tol %.3g) %s\n", label, base, batch, maxref,
          env, on, env, off, maxd, tol, ok ? "pass" : "FAIL");
  if (!ok)
    fail (label, e);
  g_clear_error (&e);
  g_free (x);
  g_free (r);
  g_free (y);
  g_free (base);
  ova_engine_free (fused);
  ova_engine_free (plain);
}

/* The CUDA graph captured over several streams (OVA_CUDA_STREAMS, and
 * OVA_CUDA_STREAMS_REQUIRED so that a failed capture is an error, not a
 * quiet fallback to one stream): the same kernels as an eager run of the
 * same engine on one stream, so a missing dependency between streams shows
 * as a difference. Two inputs alternate over 20 replays, each replay
 * bit-identical to the eager run on its input (a kernel that ran before
 * its producer would read the other input's values). fp16; with @opt_in,
 * every opt-in kernel, depthwise + 1x1 forced. */
static void
check_streams (const char *model, int batch, float lo, float hi, gboolean opt_in)
{
  GError *e = NULL;
  if (opt_in) {
    new_features (1);
    g_setenv ("OVA_CUDA_DWPW", "force", TRUE);
  }
  g_setenv ("OVA_CUDA_STREAMS", "4", TRUE);
  g_setenv ("OVA_CUDA_STREAMS_REQUIRED", "1", TRUE);
  OvaEngine *gpu = engine (model, "cuda", OVA_PRECISION_FP16, batch, NULL, &e);
  char *base = g_path_get_basename (model);
  int64_t n = gpu ? input_numel (gpu, batch) : 0, m1 = 0, m2 = 0;
  float *x[2] = { random_input (n, lo, hi, 7 + batch), random_input (n, lo, hi, 70 + batch) };
  float *ref[2] = { NULL, NULL };
  g_setenv ("OVA_CUDA_GRAPH", "0", TRUE);
  for (int i = 0; gpu && i < 2; i++)
    ref[i] = run_io (gpu, x[i], batch, TRUE, &m1, &e);
  g_unsetenv ("OVA_CUDA_GRAPH");
  double worst = 0;
  int runs = 0;
  for (int i = 0; ref[0] && ref[1] && i < 20; i++) {
    float *y = run_io (gpu, x[i % 2], batch, TRUE, &m2, &e);
    if (!y || m1 != m2)
      break;
    for (int64_t j = 0; j < m1; j++) {
      double d = fabs ((double) y[j] - ref[i % 2][j]);
      worst = isnan (d) || d > worst ? (isnan (d) ? INFINITY : d) : worst;
    }
    runs++;
    g_free (y);
  }
  gboolean ok = runs == 20 && worst == 0;
  printf ("RESULT streams %s batch %d%s: %d graph replays over 4 streams, max|diff| vs eager %.3g %s\n", base, batch,
          opt_in ? " new features, depthwise+1x1 forced" : "", runs, worst, ok ? "pass" : "FAIL");
  if (!ok)
    fail ("streams", e);
  g_clear_error (&e);
  for (int i = 0; i < 2; i++) {
    g_free (x[i]);
    g_free (ref[i]);
  }
  g_free (base);
  ova_engine_free (gpu);
  g_unsetenv ("OVA_CUDA_STREAMS");
  g_unsetenv ("OVA_CUDA_STREAMS_REQUIRED");
  if (opt_in)
    new_features (-1);
}

/* 2. fp32 against the CPU backend, several batches of one engine */
static void
check_parity (const char *model, int max_batch, const int *batches, int nb, float lo, float hi, const char *cache)
{
  GError *e = NULL;
  OvaEngine *cpu = engine (model, "cpu", OVA_PRECISION_FP32, max_batch, NULL, &e);
  OvaEngine *gpu = cpu ? engine (model, "cuda", OVA_PRECISION_FP32, max_batch, cache, &e) : NULL;
  if (!gpu) {
    fail ("parity: engines", e);
    g_clear_error (&e);
    ova_engine_free (cpu);
    return;
  }
  char *base = g_path_get_basename (model);
  for (int b = 0; b < nb; b++) {
    int batch = batches[b];
    int64_t n = input_numel (cpu, batch), m1 = 0, m2 = 0;
    float *x = random_input (n, lo, hi, 100 + batch);
    float *r = run_host (cpu, x, batch, &m1, &e);
    /* host input (outputs come back to the host), then device input: the
     * second run replays the CUDA graph and must give the same bits */
    float *y = r ? run_io (gpu, x, batch, FALSE, &m2, &e) : NULL;
    float *y2 = y ? run_io (gpu, x, batch, TRUE, &m2, &e) : NULL;
    if (!y2 || m1 != m2) {
      fail ("parity: run", e);
      g_clear_error (&e);
    } else {
      double maxref = 0, maxd = 0, maxd2 = 0;
      for (int64_t i = 0; i < m1; i++) {
        maxref = MAX (maxref, fabs (r[i]));
        double d = fabs ((double) r[i] - y[i]), d2 = fabs ((double) y2[i] - y[i]);
        maxd = isnan (d) || d > maxd ? (isnan (d) ? INFINITY : d) : maxd;
        maxd2 = MAX (maxd2, d2);
      }
      double tol = 1e-3 * MAX (1.0, maxref);
      gboolean ok = maxd <= tol && maxd2 == 0;
      printf ("RESULT parity %s batch %d max|cpu|=%.4g max|cuda-cpu|=%.3g (tol %.3g) replay-diff=%.3g %s\n", base,
              batch, maxref, maxd, tol, maxd2, ok ? "pass" : "FAIL");
      if (!ok)
        fail ("parity", NULL);
    }
    g_free (x);
    g_free (r);
    g_free (y);
    g_free (y2);
  }
  ova_engine_free (gpu);
  if (cache) {
    /* a second engine loads the plan from the cache */
    OvaEngine *again = engine (model, "cuda", OVA_PRECISION_FP32, max_batch, cache, &e);
    gboolean ok = again && ova_engine_plan_from_cache (again);
    int batch = batches[nb - 1];
    int64_t n = input_numel (cpu, batch), m1, m2;
    float *x = random_input (n, lo, hi, 100 + batch);
    float *r = ok ? run_host (cpu, x, batch, &m1, &e) : NULL;
    float *y = r ? run_host (again, x, batch, &m2, &e) : NULL;
    double maxd = 0, maxref = 0;
    for (int64_t i = 0; y && i < m1; i++) {
      maxref = MAX (maxref, fabs (r[i]));
      maxd = MAX (maxd, fabs ((double) r[i] - y[i]));
    }
    ok = ok && y && maxd <= 1e-3 * MAX (1.0, maxref);
    printf ("RESULT plan-cache %s from_cache=%d %s\n", base, again ? ova_engine_plan_from_cache (again) : -1,
            ok ? "pass" : "FAIL");
    if (!ok)
      fail ("plan cache", e);
    g_clear_error (&e);
    g_free (x);
    g_free (r);
    g_free (y);
    ova_engine_free (again);
  }
  g_free (base);
  ova_engine_free (cpu);
}

/* 3. fp16 detections against fp32 over frames */
static float *
load_frames (const char *path, int *n_frames)
{
  gchar *data;
  gsize len;
  if (!g_file_get_contents (path, &data, &len, NULL))
    return NULL;
  gsize per = 416 * 416 * 3;
  *n_frames = len / per;
  float *x = g_new (float, (gsize) *n_frames * per);
  for (int f = 0; f < *n_frames; f++)
    for (int c = 0; c < 3; c++)
      for (int i = 0; i < 416 * 416; i++)
        x[(gsize) f * per + c * 416 * 416 + i] = (guint8) data[(gsize) f * per + i * 3 + c];
  g_free (data);
  return x;
}

static void
detect (const float *out, int rows, int cols, OvaInferObjectList *list)
{
  static float th[80];
  for (int i = 0; i < 80; i++)
    th[i] = 0.3f;
  OvaInferLayer l = { "output", 1, 3, { 1, rows, cols }, out };
  OvaInferNetworkInfo net = { 416, 416, 3 };
  OvaInferParseParams p = { 80, th, NULL };
  list->n = 0;
  ova_parse_yolox (&l, &net, &p, list);
  ova_nms_simple (list, 0.45f, FALSE, -1);
}

static void
check_detections (const char *model, const char *frames)
{
  int nf = 0;
  float *x = load_frames (frames, &nf);
  if (!x || nf == 0) {
    fail ("frames", NULL);
    return;
  }
  GError *e = NULL;
  const int B = 16;
  OvaEngine *f32 = engine (model, "cuda", OVA_PRECISION_FP32, B, NULL, &e);
  OvaEngine *f16 = f32 ? engine (model, "cuda", OVA_PRECISION_FP16, B, NULL, &e) : NULL;
  if (!f16) {
    fail ("detections: engines", e);
    g_clear_error (&e);
    return;
  }
  gsize per = 416 * 416 * 3;
  long total = 0, matched = 0, extra = 0;
  double worst = 0;
  OvaInferObjectList a = { 0 }, b = { 0 };
  for (int f0 = 0; f0 < nf; f0 += B) {
    int batch = MIN (B, nf - f0);
    int64_t m1, m2;
    float *y1 = run_host (f32, x + f0 * per, batch, &m1, &e);
    float *y2 = y1 ? run_host (f16, x + f0 * per, batch, &m2, &e) : NULL;
    if (!y2) {
      fail ("detections: run", e);
      g_clear_error (&e);
      g_free (y1);
      break;
    }
    int rows = 3549, cols = 85;
    for (int i = 0; i < batch; i++) {
      detect (y1 + (gsize) i * rows * cols, rows, cols, &a);
      detect (y2 + (gsize) i * rows * cols, rows, cols, &b);
      total += a.n;
      for (gsize j = 0; j < a.n; j++) {
        float best = 0;
        for (gsize k = 0; k < b.n; k++)
          if (b.objects[k].class_id == a.objects[j].class_id)
            best = MAX (best, ova_box_iou (&a.objects[j], &b.objects[k]));
        if (best >= 0.9f)
          matched++;
      }
      extra += b.n > a.n ? b.n - a.n : 0;
    }
    for (int64_t i = 0; i < m1; i++)
      worst = MAX (worst, fabs (y1[i] - y2[i]));
    g_free (y1);
    g_free (y2);
  }
  double pct = total ? 100.0 * matched / total : 0;
  gboolean ok = total > 0 && pct >= 99.0;
  printf ("RESULT fp16-vs-fp32 frames=%d boxes_fp32=%ld matched_iou0.9=%ld (%.2f %%) extra_fp16=%ld max|out diff|=%.3g %s\n",
          nf, total, matched, pct, extra, worst, ok ? "pass" : "FAIL");
  if (!ok)
    fail ("fp16 detections", NULL);
  g_free (a.objects);
  g_free (b.objects);
  ova_engine_free (f32);
  ova_engine_free (f16);
  g_free (x);
}

/* 5. NV12 preprocessing on the GPU against ova_preprocess_reference */
static void
check_preprocess (gboolean bench_it)
{
  const int W = 1920, H = 1080, YS = 2048, UVS = 2048;
  guint8 *y = g_malloc ((gsize) YS * H), *uv = g_malloc ((gsize) UVS * (H / 2));
  GRand *r = g_rand_new_with_seed (3);
  for (int j = 0; j < H; j++)
    for (int i = 0; i < YS; i++)
      y[(gsize) j * YS + i] = (guint8) CLAMP ((i + 2 * j) / 12 + g_rand_int_range (r, -20, 20), 0, 255);
  for (int j = 0; j < H / 2; j++)
    for (int i = 0; i < UVS; i++)
      uv[(gsize) j * UVS + i] = (guint8) CLAMP (128 + ((i & 1) ? j / 8 : -i / 16) + g_rand_int_range (r, -10, 10), 0, 255);
  g_rand_free (r);
  void *dy, *duv;
  CK (cudaMalloc (&dy, (gsize) YS * H));
  CK (cudaMalloc (&duv, (gsize) UVS * (H / 2)));
  CK (cudaMemcpy (dy, y, (gsize) YS * H, cudaMemcpyHostToDevice));
  CK (cudaMemcpy (duv, uv, (gsize) UVS * (H / 2), cudaMemcpyHostToDevice));
  struct {
    const char *name;
    int nw, nh;
    OvaNetColor color;
    gboolean aspect, sym, half, crop;
    float scale, offset;
    GstVideoColorMatrix matrix;
    GstVideoColorRange range;
  } cases[] = {
    { "yolox 416 letterbox BGR fp32", 416, 416, OVA_COLOR_BGR, TRUE, FALSE, FALSE, FALSE, 1.f, 0.f, 0, 0 },
    { "640x384 stretch RGB /255 fp16", 640, 384, OVA_COLOR_RGB, FALSE, FALSE, TRUE, FALSE, 1 / 255.f, 0.f, 0, 0 },
    { "crop 128x256 symmetric RGB fp32 bt709 full", 128, 256, OVA_COLOR_RGB, TRUE, TRUE, FALSE, TRUE, 0.0174f, 123.7f,
      GST_VIDEO_COLOR_MATRIX_BT709, GST_VIDEO_COLOR_RANGE_0_255 },
    { "gray 224 fp32", 224, 224, OVA_COLOR_GRAY, TRUE, TRUE, FALSE, FALSE, 1.f, 0.f, 0, 0 },
  };
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++) {
    OvaPreprocParams p = { 0 };
    p.net_width = cases[c].nw;
    p.net_height = cases[c].nh;
    p.color = cases[c].color;
    p.maintain_aspect_ratio = cases[c].aspect;
    p.symmetric_padding = cases[c].sym;
    p.pad_value = 114;
    for (int k = 0; k < 3; k++) {
      p.scale[k] = cases[c].scale;
      p.offset[k] = cases[c].offset;
    }
    OvaRect crop = { 301.5f, 207.25f, 640.f, 900.f };
    OvaImage img = { GST_VIDEO_FORMAT_NV12, W, H, { y, uv, NULL }, { YS, UVS, 0 }, cases[c].matrix, cases[c].range };
    int C = cases[c].color == OVA_COLOR_GRAY ? 1 : 3;
    gsize n = (gsize) C * p.net_width * p.net_height;
    float *ref = g_new (float, n);
    OvaLetterbox lb_ref, lb;
    ova_preprocess_reference (&img, cases[c].crop ? &crop : NULL, &p, ref, &lb_ref);
    OvaCudaNv12Frame f = { dy, duv, YS, UVS, W, H, cases[c].matrix, cases[c].range, { 0, 0, 0, 0 } };
    if (cases[c].crop)
      f.crop = crop;
    void *dd;
    CK (cudaMalloc (&dd, n * 4));
    GError *e = NULL;
    gboolean ok = ova_cuda_preprocess_nv12 (&f, 1, &p, dd, cases[c].half, NULL, &lb, &e);
    CK (cudaDeviceSynchronize ());
    float *got = g_new (float, n);
    if (ok && cases[c].half) {
      guint16 *h = g_new (guint16, n);
      CK (cudaMemcpy (h, dd, n * 2, cudaMemcpyDeviceToHost));
      for (gsize i = 0; i < n; i++) {
        /* IEEE half -> float */
        guint32 s = (h[i] & 0x8000u) << 16, ex = (h[i] >> 10) & 0x1f, m = h[i] & 0x3ff, bits;
        if (ex == 0)
          bits = s; /* zero or denormal (none here at this scale) */
        else if (ex == 31)
          bits = s | 0x7f800000u | (m << 13);
        else
          bits = s | ((ex + 112) << 23) | (m << 13);
        memcpy (&got[i], &bits, 4);
      }
      g_free (h);
    } else if (ok)
      CK (cudaMemcpy (got, dd, n * 4, cudaMemcpyDeviceToHost));
    double maxref = 0, maxd = 0;
    for (gsize i = 0; ok && i < n; i++) {
      maxref = MAX (maxref, fabs (ref[i]));
      double d = fabs ((double) ref[i] - got[i]);
      maxd = isnan (d) ? INFINITY : MAX (maxd, d);
    }
    double tol = cases[c].half ? 1e-3 * MAX (1.0, maxref) : 1e-4 * MAX (1.0, maxref);
    ok = ok && maxd <= tol && lb.out_w == lb_ref.out_w && lb.pad_y == lb_ref.pad_y;
    printf ("RESULT preprocess-nv12 %s max|ref|=%.4g max|diff|=%.3g (tol %.3g) %s\n", cases[c].name, maxref, maxd, tol,
            ok ? "pass" : "FAIL");
    if (!ok)
      fail ("preprocess", e);
    g_clear_error (&e);
    g_free (ref);
    g_free (got);
    cudaFree (dd);
  }
  if (bench_it) {
    /* 32 1080p frames -> 32 x 3 x 416 x 416 fp16 */
    OvaCudaNv12Frame fr[32];
    for (int i = 0; i < 32; i++)
      fr[i] = (OvaCudaNv12Frame) { dy, duv, YS, UVS, W, H, 0, 0, { 0, 0, 0, 0 } };
    OvaPreprocParams p = { 0 };
    p.net_width = p.net_height = 416;
    p.color = OVA_COLOR_BGR;
    p.maintain_aspect_ratio = TRUE;
    p.pad_value = 114;
    p.scale[0] = p.scale[1] = p.scale[2] = 1;
    void *dd;
    CK (cudaMalloc (&dd, (gsize) 32 * 3 * 416 * 416 * 2));
    gboolean ok = TRUE;
    for (int i = 0; i < 10 && ok; i++)
      ok = ova_cuda_preprocess_nv12 (fr, 32, &p, dd, TRUE, NULL, NULL, NULL);
    CK (cudaDeviceSynchronize ());
    gint64 t0 = g_get_monotonic_time ();
    for (int i = 0; i < 100 && ok; i++)
      ok = ova_cuda_preprocess_nv12 (fr, 32, &p, dd, TRUE, NULL, NULL, NULL);
    CK (cudaDeviceSynchronize ());
    double ms = (g_get_monotonic_time () - t0) / 1000.0 / 100;
    printf ("RESULT bench preprocess-nv12 1080p->416x416 fp16 batch 32: %.4f ms/batch %.0f frames/s\n", ms, 32000 / ms);
    cudaFree (dd);
  }
  cudaFree (dy);
  cudaFree (duv);
  g_free (y);
  g_free (uv);
}

/* A benchmark row's switches (NAME=VALUE strings, freed) and
 * new_features back to the defaults */
static void
bench_unset (char **envs)
{
  for (int i = 0; envs[i]; i++) {
    char **kv = g_strsplit (envs[i], "=", 2);
    if (kv[0] && *kv[0])
      g_unsetenv (kv[0]);
    g_strfreev (kv);
  }
  g_strfreev (envs);
  new_features (-1);
}

/* 4. throughput */
static void
bench (const char *model)
{
  static const int batches[] = { 1, 8, 32, 64 };
  /* fp16 and fp32 as users get them, then fp16 with switches set (same
   * run, so what each gives is measured): plain kernel launches instead of
   * programmatic dependent launch, one stream, every Concat input with
   * other readers and the detection head copied, no patch kernel, the
   * engine of run C (fp16-copies plus no patch kernel), without every
   * feature of new_feature_envs (fp16-before: the engine before run C),
   * the opt-in window-gathering kernel, the engine of run D (what came
   * after it switched off), with the opt-in 1x1 pairs in one kernel,
   * without the pooling group, without the 16-pixel depthwise + 1x1
   * variants, without depthwise + 1x1 at all, over 8 streams. Each row
   * sets its switches
   * ("NAME=VALUE ...") whatever the defaults are. */
  static const struct {
    const char *name, *envs;
  } rows_def[] = { { "fp16", "" },
                   { "fp32", "" },
                   { "fp16-no-pdl", "OVA_CUDA_PDL=0" },
                   { "fp16-one-stream", "OVA_CUDA_STREAMS=1" },
                   { "fp16-copies", "OVA_CUDA_HEAD_ROWS=0 OVA_CUDA_CONCAT_READERS=0" },
                   { "fp16-no-patch", "OVA_CUDA_CONV_PATCH=0" },
                   { "fp16-run-c", "OVA_CUDA_HEAD_ROWS=0 OVA_CUDA_CONCAT_READERS=0 OVA_CUDA_CONV_PATCH=0 OVA_CUDA_POOL_GROUP=0 OVA_CUDA_DWPW_R16=0 OVA_CUDA_PWPW=0" },
                   { "fp16-before", "" },
                   { "fp16-kxk", "OVA_CUDA_MMA_KXK=1" },
                   { "fp16-run-d", "OVA_CUDA_POOL_GROUP=0 OVA_CUDA_DWPW_R16=0 OVA_CUDA_PWPW=0" },
                   { "fp16-pwpw", "OVA_CUDA_PWPW=1" },
                   { "fp16-no-group", "OVA_CUDA_POOL_GROUP=0" },
                   { "fp16-no-r16", "OVA_CUDA_DWPW_R16=0" },
                   { "fp16-no-dwpw", "OVA_CUDA_DWPW=0" },
                   { "fp16-8-streams", "OVA_CUDA_STREAMS=8" } };
  /* OVA_BENCH_ROWS / OVA_BENCH_BATCHES (space-separated): only those rows
   * and batches (a short look at one configuration) */
  const char *rows = g_getenv ("OVA_BENCH_ROWS"), *only_b = g_getenv ("OVA_BENCH_BATCHES");
  char **row_list = rows ? g_strsplit (rows, " ", -1) : NULL, **b_list = only_b ? g_strsplit (only_b, " ", -1) : NULL;
  for (int p = 0; p < (int) G_N_ELEMENTS (rows_def); p++) {
    const char *name = rows_def[p].name;
    if (row_list && !g_strv_contains ((const char *const *) row_list, name))
      continue;
    OvaPrecision prec = p == 1 ? OVA_PRECISION_FP32 : OVA_PRECISION_FP16;
    GError *e = NULL;
    if (!strcmp (name, "fp16-before"))
      new_features (0);
    char **envs = g_strsplit (rows_def[p].envs, " ", -1);
    for (int i = 0; envs[i]; i++) {
      char **kv = g_strsplit (envs[i], "=", 2);
      if (kv[0] && kv[1])
        g_setenv (kv[0], kv[1], TRUE);
      g_strfreev (kv);
    }
    OvaEngine *g = engine (model, "cuda", prec, 64, NULL, &e); /* plans for smaller batches are built on demand */
    if (!g) {
      fail ("bench: engine", e);
      g_clear_error (&e);
      bench_unset (envs);
      continue;
    }
    for (int b = 0; b < 4; b++) {
      int batch = batches[b];
      char bs[16];
      g_snprintf (bs, sizeof bs, "%d", batch);
      if (b_list && !g_strv_contains ((const char *const *) b_list, bs))
        continue;
      int64_t n = input_numel (g, batch);
      float *hx = random_input (n, 0, 255, 5);
      void *dx;
      CK (cudaMalloc (&dx, n * 4));
      CK (cudaMemcpy (dx, hx, n * 4, cudaMemcpyHostToDevice));
      OvaTensor in = { dx, OVA_DTYPE_FLOAT32, 4, { batch, 3, 416, 416 }, OVA_DEVICE_CUDA };
      OvaTensor out;
      gboolean ok = TRUE;
      for (int i = 0; i < 20 && ok; i++)
        ok = ova_engine_run (g, &in, 1, &out, 1, &e);
      int iters = batch >= 32 ? 100 : 300;
      double ms[5];
      for (int rep = 0; rep < 5 && ok; rep++) {
        gint64 t0 = g_get_monotonic_time ();
        for (int i = 0; i < iters && ok; i++)
          ok = ova_engine_run_async (g, &in, 1, &out, 1, NULL, &e);
        ok = ok && ova_engine_synchronize (g, &e);
        ms[rep] = (g_get_monotonic_time () - t0) / 1000.0 / iters;
      }
      if (!ok) {
        fail ("bench: run", e);
        g_clear_error (&e);
      } else {
        /* median of 5 */
        for (int i = 0; i < 5; i++)
          for (int j = i + 1; j < 5; j++)
            if (ms[j] < ms[i]) {
              double t = ms[i];
              ms[i] = ms[j];
              ms[j] = t;
            }
        printf ("RESULT bench ova %s batch %d %.4f ms/batch %.0f img/s\n", name, batch, ms[2],
                batch * 1000.0 / ms[2]);
        fflush (stdout);
      }
      /* OVA_BENCH_PROFILE_RUNS=N: N more runs, one at a time, inside
       * cudaProfilerStart/Stop (what ncu --profile-from-start off looks at:
       * each kernel of the graph, or the graph as a whole) */
      const char *pr = g_getenv ("OVA_BENCH_PROFILE_RUNS");
      if (ok && pr && atoi (pr) > 0) {
        CK (cudaProfilerStart ());
        for (int i = 0; i < atoi (pr) && ok; i++)
          ok = ova_engine_run_async (g, &in, 1, &out, 1, NULL, &e) && ova_engine_synchronize (g, &e);
        CK (cudaProfilerStop ());
        g_clear_error (&e);
      }
      if (ok && (p < 2 || !strcmp (name, "fp16-before")) && (batch == 1 || batch == 32)) {
        /* kernel-by-kernel times, reported when the engine is freed */
        g_setenv ("OVA_CUDA_PROFILE", p == 1 ? "1" : "2", TRUE); /* fp16: every node too */
        for (int i = 0; i < 5 && ok; i++)
          ok = ova_engine_run (g, &in, 1, &out, 1, &e);
        g_unsetenv ("OVA_CUDA_PROFILE");
        g_clear_error (&e);
      }
      cudaFree (dx);
      g_free (hx);
    }
    ova_engine_free (g);
    bench_unset (envs);
  }
  g_strfreev (row_list);
  g_strfreev (b_list);
}

int
main (int argc, char **argv)
{
  /* one line at a time: a run cut at a deadline keeps every result printed */
  setvbuf (stdout, NULL, _IOLBF, 0);
  const char *dir = NULL, *frames = NULL, *conv_models = NULL;
  gboolean do_bench = FALSE, quick = FALSE, bench_only = FALSE;
  for (int i = 1; i < argc; i++) {
    if (!strcmp (argv[i], "--frames") && i + 1 < argc)
      frames = argv[++i];
    else if (!strcmp (argv[i], "--conv-models") && i + 1 < argc)
      conv_models = argv[++i];
    else if (!strcmp (argv[i], "--bench"))
      do_bench = TRUE;
    else if (!strcmp (argv[i], "--quick"))
      quick = TRUE;
    else if (!strcmp (argv[i], "--bench-only"))
      do_bench = bench_only = TRUE;
    else if (!strcmp (argv[i], "-h") || !strcmp (argv[i], "--help")) {
      printf ("Usage: test-cuda-engine [--frames FRAMES.u8] [--conv-models DIR] [--bench] [--bench-only] [--quick] "
              "[ASSET_DIR]\n"
              "Checks the CUDA backend against the CPU backend; exit 77 without a GPU.\n"
              "Benchmark: OVA_BENCH_ROWS / OVA_BENCH_BATCHES pick rows and batches (space-separated);\n"
              "OVA_BENCH_PROFILE_RUNS=N adds N runs per row and batch inside cudaProfilerStart/Stop\n"
              "(for ncu --profile-from-start off).\n");
      return 0;
    } else
      dir = argv[i];
  }
  char *def = NULL;
  if (!dir) {
    const char *src = g_getenv ("OVA_SOURCE_DIR");
    dir = def = g_build_filename (src ? src : ".", ".cache", "assets", NULL);
  }
  char *yolox = g_build_filename (dir, "yolox_nano.onnx", NULL);
  char *yolox_dyn = g_build_filename (dir, "yolox_nano_dynbatch.onnx", NULL);
  char *osnet = g_build_filename (dir, "osnet_x0_25_msmt17.onnx", NULL);
  int count = 0;
  if (cudaGetDeviceCount (&count) != cudaSuccess || count == 0) {
    printf ("SKIP: no CUDA device\n");
    return 77;
  }
  GError *e = NULL;
  OvaEngine *probe = engine (yolox, "cuda", OVA_PRECISION_FP32, 1, NULL, &e);
  if (!probe && e && strstr (e->message, "not available")) {
    printf ("SKIP: %s\n", e->message);
    return 77;
  }
  if (!probe && e && strstr (e->message, "No such file")) {
    printf ("SKIP: %s (run tools/fetch-assets.sh)\n", e->message);
    return 77;
  }
  if (!probe)
    fail ("probe", e);
  g_clear_error (&e);
  ova_engine_free (probe);
  struct cudaDeviceProp prop;
  CK (cudaGetDeviceProperties (&prop, 0));
  printf ("RESULT device %s sm_%d%d %d SMs\n", prop.name, prop.major, prop.minor, prop.multiProcessorCount);
  if (bench_only) {
    /* --bench-only: the benchmark in a process of its own (a kernel that
     * faults in a check cannot take it down) */
    bench (yolox_dyn);
    printf ("RESULT failures %d\n", failures);
    return failures ? 1 : 0;
  }

  for (int p = 0; p < 2; p++) {
    OvaPrecision prec = p ? OVA_PRECISION_FP16 : OVA_PRECISION_FP32;
    check_kernels (yolox, prec, 1, 0, 255);
    check_kernels (osnet, prec, 4, -2, 2);
    if (!quick)
      check_kernels (yolox_dyn, prec, 3, 0, 255);
  }
  check_kernels_igemm (yolox, 1, 0, 255, TRUE);
  check_kernels_igemm (osnet, 4, -2, 2, TRUE);
  if (!quick)
    check_kernels_igemm (yolox_dyn, 3, 0, 255, TRUE);
  /* the newer features on the detector: each forced (the space-to-depth
   * first layer, YOLOX's folded Focus, the branch-free pooling and
   * depthwise kernels, depthwise + 1x1), then all of them explicitly on
   * with their variants chosen by timing, then all off (the path before
   * them) */
  g_setenv ("OVA_CUDA_S2D", "1", TRUE);
  check_kernels_ova_as (yolox_dyn, 3, 0, 255, TRUE, NULL, "force");
  g_unsetenv ("OVA_CUDA_S2D");
  g_setenv ("OVA_CUDA_POOL_PRED", "1", TRUE);
  check_kernels_ova_as (yolox_dyn, 3, 0, 255, TRUE, NULL, "pred");
  g_unsetenv ("OVA_CUDA_POOL_PRED");
  g_setenv ("OVA_CUDA_DWPW", "force", TRUE);
  check_kernels_ova_as (yolox_dyn, 3, 0, 255, TRUE, NULL, "force");
  g_unsetenv ("OVA_CUDA_DWPW");
  new_features (1);
  check_kernels_ova_as (yolox_dyn, 3, 0, 255, TRUE, NULL, "pred");
  check_kernels_as (yolox_dyn, "new features, variants timed", OVA_PRECISION_FP16, 3, 0, 255);
  new_features (0);
  check_kernels_as (yolox_dyn, "new features off", OVA_PRECISION_FP16, 3, 0, 255);
  check_kernels_ova_as (yolox_dyn, 3, 0, 255, TRUE, NULL, "force");
  new_features (-1);
  /* the opt-in window-gathering mma.sync kernel, timed with the others */
  g_setenv ("OVA_CUDA_MMA_KXK", "1", TRUE);
  check_kernels_as (yolox_dyn, "mma-kxk timed", OVA_PRECISION_FP16, 3, 0, 255);
  g_unsetenv ("OVA_CUDA_MMA_KXK");
  /* the patch kernel: forced on the space-to-depth first layer */
  g_setenv ("OVA_CUDA_S2D", "1", TRUE);
  for (guint t = 0; t < G_N_ELEMENTS (patch_tiles); t++)
    check_kernels_ova_as (yolox_dyn, 3, 0, 255, TRUE, patch_tiles[t], "force");
  g_unsetenv ("OVA_CUDA_S2D");
  check_switch_outputs (yolox_dyn, 3, 0, 255, "OVA_CUDA_DWPW", "0", "force", "dwpw-outputs");
  /* YOLOX's head written into the output rows: each branch through the
   * rows (check mode), the whole output against the copying engine */
  g_setenv ("OVA_CUDA_HEAD_ROWS", "force", TRUE);
  check_kernels_as (yolox_dyn, "head rows forced", OVA_PRECISION_FP16, 3, 0, 255);
  g_unsetenv ("OVA_CUDA_HEAD_ROWS");
  check_switch_outputs (yolox_dyn, 1, 0, 255, "OVA_CUDA_HEAD_ROWS", "0", "force", "head-rows-outputs");
  /* every Concat copied against the default (SPP's and the PAFPN's inputs
   * read from their Concat's output by pools, depthwise convolutions and
   * upsamples; the head written into the output rows) */
  g_setenv ("OVA_CUDA_CONCAT_READERS", "1", TRUE);
  g_setenv ("OVA_CUDA_HEAD_ROWS", "1", TRUE);
  check_switch_outputs (yolox_dyn, 3, 0, 255, "OVA_CUDA_CONCAT_INPLACE", "0", "1", "concat-in-place-outputs");
  check_kernels_as (yolox_dyn, "concat readers, head rows", OVA_PRECISION_FP16, 3, 0, 255);
  g_unsetenv ("OVA_CUDA_CONCAT_READERS");
  g_unsetenv ("OVA_CUDA_HEAD_ROWS");
  check_switch_outputs (yolox_dyn, 3, 0, 255, "OVA_CUDA_HEAD_ROWS", "0", "force", "head-rows-outputs");
  /* 1x1 pairs in one kernel, forced: each kernel (check mode), then the
   * whole output against the unfused engine */
  g_setenv ("OVA_CUDA_PWPW", "force", TRUE);
  check_kernels_as (yolox_dyn, "pwpw forced", OVA_PRECISION_FP16, 3, 0, 255);
  g_unsetenv ("OVA_CUDA_PWPW");
  check_switch_outputs (yolox_dyn, 1, 0, 255, "OVA_CUDA_PWPW", "0", "force", "pwpw-outputs");
  check_switch_outputs (yolox_dyn, 3, 0, 255, "OVA_CUDA_PWPW", "0", "force", "pwpw-outputs");
  /* SPP's three poolings in one kernel against one kernel each */
  check_switch_outputs (yolox_dyn, 1, 0, 255, "OVA_CUDA_POOL_GROUP", "0", "1", "pool-group-outputs");
  check_switch_outputs (yolox_dyn, 3, 0, 255, "OVA_CUDA_POOL_GROUP", "0", "1", "pool-group-outputs");
  static const int yb[] = { 1 }, db[] = { 1, 3, 8 }, ob[] = { 1, 5, 16 };
  char *cache = g_build_filename (g_get_tmp_dir (), "ova-cuda-plan-test.plan", NULL);
  g_unlink (cache);
  check_parity (yolox, 1, yb, 1, 0, 255, cache);
  check_parity (yolox_dyn, 8, db, 3, 0, 255, NULL);
  check_parity (osnet, 16, ob, 3, -2, 2, NULL);
  /* the opt-in multi-stream graph: yolox at batch 1 (where it is for) and 8, osnet */
  check_streams (yolox_dyn, 1, 0, 255, FALSE);
  check_streams (yolox_dyn, 8, 0, 255, FALSE);
  check_streams (osnet, 16, -2, 2, FALSE);
  check_streams (yolox_dyn, 1, 0, 255, TRUE);
  check_streams (yolox_dyn, 8, 0, 255, TRUE);
  g_unlink (cache);
  check_preprocess (do_bench);
  if (frames)
    check_detections (yolox_dyn, frames);
  if (do_bench)
    bench (yolox_dyn);
  /* last, so a time limit on the whole run cuts these rather than the benchmark */
  if (conv_models)
    check_conv_models (conv_models);
  printf ("RESULT failures %d\n", failures);
  g_free (def);
  return failures ? 1 : 0;
}
