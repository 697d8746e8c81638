/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Engine tests: loader errors, external data, symbolic batch, the graph
 * passes and the oneDNN backend against the plain reference kernels, plan
 * cache, several engines in parallel.
 */
#include <ova/engine.h>
#include "engine/plan.h"
#include "engine/plancache.h"
#include "onnx-builder.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static char *tmpdir;

static char *
tmp_path (const char *name)
{
  return g_build_filename (tmpdir, name, NULL);
}

static void
fill (float *p, int64_t n, guint32 seed, float lo, float hi)
{
  GRand *r = g_rand_new_with_seed (seed);
  for (int64_t i = 0; i < n; i++)
    p[i] = lo + (hi - lo) * g_rand_double (r);
  g_rand_free (r);
}

static OvaEngine *
open_model (const char *path, const char *backend, int max_batch, GError **error)
{
  OvaEngineOptions o;
  ova_engine_options_init (&o);
  o.backend = backend;
  o.max_batch = max_batch;
  o.threads = 1;
  return ova_engine_new (path, &o, error);
}

/* --- errors --------------------------------------------------------------- */

static char *
small_model (const char *name, const char *op)
{
  OnnxBuilder *b = ob_new (13);
  int64_t d[2] = { 2, 3 };
  ob_input (b, "x", 2, d);
  ob_node (b, op, "the_node", "x", "y", NULL);
  ob_output (b, "y");
  char *path = tmp_path (name);
  g_assert_true (ob_save (b, path));
  ob_free (b);
  return path;
}

static void
expect_error (const char *path, int code, const char *const *needles)
{
  GError *err = NULL;
  OvaEngine *e = open_model (path, "cpu", 1, &err);
  g_assert_null (e);
  g_assert_nonnull (err);
  g_test_message ("error: %s", err->message);
  g_assert_error (err, OVA_ENGINE_ERROR, code);
  for (int i = 0; needles[i]; i++)
    if (!strstr (err->message, needles[i]))
      g_error ("'%s' does not mention '%s'", err->message, needles[i]);
  g_error_free (err);
}

static void
test_errors (void)
{
  char *missing = tmp_path ("missing.onnx");
  expect_error (missing, OVA_ENGINE_ERROR_IO, (const char *[]) { missing, NULL });

  /* truncated: a valid model cut in half */
  char *ok = small_model ("ok.onnx", "Relu");
  gchar *buf;
  gsize len;
  g_assert_true (g_file_get_contents (ok, &buf, &len, NULL));
  char *trunc = tmp_path ("truncated.onnx");
  g_file_set_contents (trunc, buf, len / 2, NULL);
  expect_error (trunc, OVA_ENGINE_ERROR_PARSE, (const char *[]) { trunc, NULL });
  /* corrupt: garbage bytes */
  for (gsize i = 0; i < len; i++)
    buf[i] = (char) (i * 7 + 0x8f);
  char *corrupt = tmp_path ("corrupt.onnx");
  g_file_set_contents (corrupt, buf, len, NULL);
  expect_error (corrupt, OVA_ENGINE_ERROR_PARSE, (const char *[]) { corrupt, NULL });
  g_free (buf);

  char *unsup = small_model ("unsupported.onnx", "NoSuchOperator");
  expect_error (unsup, OVA_ENGINE_ERROR_UNSUPPORTED, (const char *[]) { unsup, "the_node", "NoSuchOperator", NULL });

  /* shape mismatch: Add of [2,3] and [4,5] */
  OnnxBuilder *b = ob_new (13);
  int64_t d1[2] = { 2, 3 }, d2[2] = { 4, 5 };
  ob_input (b, "x", 2, d1);
  float w[20] = { 0 };
  ob_init_f32 (b, "w", 2, d2, w);
  ob_node (b, "Add", "bad_add", "x,w", "y", NULL);
  ob_output (b, "y");
  char *shape = tmp_path ("shape.onnx");
  ob_save (b, shape);
  ob_free (b);
  expect_error (shape, OVA_ENGINE_ERROR_SHAPE, (const char *[]) { shape, "bad_add", "Add", NULL });

  /* missing external data */
  b = ob_new (13);
  ob_input (b, "x", 2, d1);
  Onnx__TensorProto *t = ob_init_f32 (b, "w", 2, d1, w);
  t->has_raw_data = 0;
  t->has_data_location = 1;
  t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  Onnx__StringStringEntryProto *loc = ob_keep (b, g_new0 (Onnx__StringStringEntryProto, 1));
  onnx__string_string_entry_proto__init (loc);
  loc->key = "location";
  loc->value = "absent-weights.bin";
  t->n_external_data = 1;
  t->external_data = ob_keep (b, g_new0 (Onnx__StringStringEntryProto *, 2));
  t->external_data[0] = loc;
  ob_node (b, "Add", "add", "x,w", "y", NULL);
  ob_output (b, "y");
  char *ext = tmp_path ("external-missing.onnx");
  ob_save (b, ext);
  ob_free (b);
  expect_error (ext, OVA_ENGINE_ERROR_IO, (const char *[]) { ext, "absent-weights.bin", "'w'", NULL });

  /* run-time shape mismatch */
  GError *err = NULL;
  OvaEngine *e = open_model (ok, "cpu", 1, &err);
  g_assert_no_error (err);
  float x[12] = { 0 };
  OvaTensor in = { .data = x, .dtype = OVA_DTYPE_FLOAT32, .rank = 2, .dims = { 3, 4 } }, out;
  g_assert_false (ova_engine_run (e, &in, 1, &out, 1, &err));
  g_assert_error (err, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_SHAPE);
  g_assert_nonnull (strstr (err->message, "'x'"));
  g_clear_error (&err);
  ova_engine_free (e);

  for (char **p = (char *[]) { missing, ok, trunc, corrupt, unsup, shape, ext, NULL }; *p; p++) {
    g_remove (*p);
    g_free (*p);
  }
}

/* --- external data ---------------------------------------------------------- */

static void
test_external_data (void)
{
  float w[6] = { 1, 2, 3, 4, 5, 6 };
  char *bin = tmp_path ("weights.bin");
  char pad[16] = { 0 };
  GString *s = g_string_new_len (pad, 16);
  g_string_append_len (s, (char *) w, sizeof w);
  g_file_set_contents (bin, s->str, s->len, NULL);
  g_string_free (s, TRUE);
  OnnxBuilder *b = ob_new (13);
  int64_t d[2] = { 2, 3 };
  ob_input (b, "x", 2, d);
  Onnx__TensorProto *t = ob_init_f32 (b, "w", 2, d, w);
  t->has_raw_data = 0;
  t->has_data_location = 1;
  t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  const char *kv[][2] = { { "location", "weights.bin" }, { "offset", "16" }, { "length", "24" } };
  t->n_external_data = 3;
  t->external_data = ob_keep (b, g_new0 (Onnx__StringStringEntryProto *, 4));
  for (int i = 0; i < 3; i++) {
    Onnx__StringStringEntryProto *e = ob_keep (b, g_new0 (Onnx__StringStringEntryProto, 1));
    onnx__string_string_entry_proto__init (e);
    e->key = (char *) kv[i][0];
    e->value = (char *) kv[i][1];
    t->external_data[i] = e;
  }
  ob_node (b, "Mul", "mul", "x,w", "y", NULL);
  ob_output (b, "y");
  char *path = tmp_path ("external.onnx");
  ob_save (b, path);
  ob_free (b);
  GError *err = NULL;
  OvaEngine *e = open_model (path, "cpu", 1, &err);
  g_assert_no_error (err);
  float x[6] = { 1, 1, 2, 2, 3, 3 };
  OvaTensor in = { .data = x, .dtype = OVA_DTYPE_FLOAT32, .rank = 2, .dims = { 2, 3 } }, out;
  g_assert_true (ova_engine_run (e, &in, 1, &out, 1, &err));
  const float *y = out.data;
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (y[i], ==, x[i] * w[i]);
  ova_engine_free (e);
  g_remove (path);
  g_remove (bin);
  g_free (path);
  g_free (bin);
}

/* --- a network exercising every pass and oneDNN kernel ------------------------ */

static void
conv_params (OnnxBuilder *b, const char *name, int64_t oc, int64_t icg, int64_t k, guint32 seed, gboolean bn)
{
  int64_t wd[4] = { oc, icg, k, k }, bd[1] = { oc };
  int64_t n = oc * icg * k * k;
  float *w = g_new (float, n), *bias = g_new (float, oc);
  fill (w, n, seed, -0.5f, 0.5f);
  fill (bias, oc, seed + 1, -0.1f, 0.1f);
  char *wn = g_strconcat (name, "_w", NULL), *bnn = g_strconcat (name, "_b", NULL);
  ob_init_f32 (b, wn, 4, wd, w);
  ob_init_f32 (b, bnn, 1, bd, bias);
  if (bn) {
    const char *sfx[4] = { "_scale", "_beta", "_mean", "_var" };
    for (int i = 0; i < 4; i++) {
      char *nn = g_strconcat (name, sfx[i], NULL);
      fill (bias, oc, seed + 2 + i, i == 3 ? 0.5f : -0.3f, i == 3 ? 1.5f : 0.3f);
      ob_init_f32 (b, nn, 1, bd, bias);
      g_free (nn);
    }
  }
  g_free (wn);
  g_free (bnn);
  g_free (w);
  g_free (bias);
}

/* x[N,16,16,16] -> conv3x3+BN+SiLU -> conv1x1 + residual -> relu -> maxpool ->
 * depthwise conv + clip(0,6) -> hardswish conv -> resize x2 -> concat with a
 * strided conv path -> sigmoid * (SE: GAP -> conv -> sigmoid) -> avgpool ->
 * transpose/transpose -> reshape -> output */
static char *
build_net (const char *name, int64_t batch)
{
  OnnxBuilder *b = ob_new (13);
  int64_t xd[4] = { batch, 16, 16, 16 };
  ob_input (b, "x", 4, xd);
  int64_t k3[2] = { 3, 3 }, p1[4] = { 1, 1, 1, 1 }, s2[2] = { 2, 2 }, k2[2] = { 2, 2 };
  conv_params (b, "c1", 32, 16, 3, 1, TRUE);
  ob_node (b, "Conv", "c1", "x,c1_w,c1_b", "c1y", ob_attr_ints (b, "pads", 4, p1), ob_attr_ints (b, "kernel_shape", 2, k3), NULL);
  ob_node (b, "BatchNormalization", "bn1", "c1y,c1_scale,c1_beta,c1_mean,c1_var", "bn1y", ob_attr_float (b, "epsilon", 1e-3f), NULL);
  ob_node (b, "Sigmoid", "sig1", "bn1y", "sig1y", NULL);
  ob_node (b, "Mul", "silu1", "bn1y,sig1y", "a1", NULL);
  conv_params (b, "c2", 32, 32, 1, 10, FALSE);
  ob_node (b, "Conv", "c2", "a1,c2_w,c2_b", "c2y", NULL);
  ob_node (b, "Add", "res", "c2y,a1", "r1", NULL);
  ob_node (b, "Relu", "relu", "r1", "r1a", NULL);
  ob_node (b, "MaxPool", "pool", "r1a", "p1y", ob_attr_ints (b, "kernel_shape", 2, k2), ob_attr_ints (b, "strides", 2, s2), NULL);
  conv_params (b, "dw", 32, 1, 3, 20, FALSE);
  ob_node (b, "Conv", "dw", "p1y,dw_w,dw_b", "dwy", ob_attr_int (b, "group", 32), ob_attr_ints (b, "pads", 4, p1), NULL);
  float lo = 0, hi = 6;
  int64_t sd[1] = { 0 };
  (void) sd;
  ob_init_f32 (b, "clip_lo", 0, NULL, &lo);
  ob_init_f32 (b, "clip_hi", 0, NULL, &hi);
  ob_node (b, "Clip", "relu6", "dwy,clip_lo,clip_hi", "dwa", NULL);
  conv_params (b, "c3", 16, 32, 1, 30, FALSE);
  ob_node (b, "Conv", "c3", "dwa,c3_w,c3_b", "c3y", NULL);
  ob_node (b, "HardSwish", "hs", "c3y", "c3a", NULL);
  float scales[4] = { 1, 1, 2, 2 };
  int64_t sc[1] = { 4 };
  ob_init_f32 (b, "scales", 1, sc, scales);
  ob_node (b, "Resize", "up", "c3a,,scales", "upy", ob_attr_string (b, "mode", "nearest"),
           ob_attr_string (b, "coordinate_transformation_mode", "asymmetric"), ob_attr_string (b, "nearest_mode", "floor"), NULL);
  conv_params (b, "c4", 16, 32, 3, 40, FALSE);
  ob_node (b, "Conv", "c4", "a1,c4_w,c4_b", "c4y", ob_attr_ints (b, "pads", 4, p1), NULL);
  ob_node (b, "LeakyRelu", "lrelu", "c4y", "c4a", ob_attr_float (b, "alpha", 0.1f), NULL);
  ob_node (b, "Concat", "cat", "upy,c4a", "cat", ob_attr_int (b, "axis", 1), NULL);
  ob_node (b, "GlobalAveragePool", "gap", "cat", "gap", NULL);
  conv_params (b, "se", 32, 32, 1, 50, FALSE);
  ob_node (b, "Conv", "se", "gap,se_w,se_b", "sey", NULL);
  ob_node (b, "Sigmoid", "sesig", "sey", "ses", NULL);
  ob_node (b, "Mul", "scale", "cat,ses", "sc", NULL);
  ob_node (b, "AveragePool", "avg", "sc", "avg", ob_attr_ints (b, "kernel_shape", 2, k3), ob_attr_ints (b, "pads", 4, p1),
           ob_attr_ints (b, "strides", 2, s2), NULL);
  int64_t perm1[4] = { 0, 2, 3, 1 }, perm2[4] = { 0, 3, 1, 2 };
  ob_node (b, "Transpose", "t1", "avg", "t1y", ob_attr_ints (b, "perm", 4, perm1), NULL);
  ob_node (b, "Transpose", "t2", "t1y", "t2y", ob_attr_ints (b, "perm", 4, perm2), NULL);
  int64_t shp[2] = { 0, -1 }, sd2[1] = { 2 };
  ob_init_i64 (b, "shape", 1, sd2, shp);
  ob_node (b, "Reshape", "flat", "t2y,shape", "y", NULL);
  ob_output (b, "y");
  char *path = tmp_path (name);
  g_assert_true (ob_save (b, path));
  ob_free (b);
  return path;
}

/* Runs @path through the unoptimised reference path (no passes, plain C). */
static float *
run_unoptimised (const char *path, const OvaTensor *in, int64_t *numel)
{
  GError *err = NULL;
  OvaGraph *g = ova_graph_load (path, &err);
  g_assert_no_error (err);
  int64_t dims[1][OVA_MAX_DIMS];
  memcpy (dims[0], in->dims, sizeof dims[0]);
  OvaPlan *p = ova_plan_new (g, (const int64_t (*)[OVA_MAX_DIMS]) dims, in->dims[0], FALSE, &err);
  g_assert_no_error (err);
  g_assert_cmpint (p->n_fused, ==, 0);
  g_assert_true (ova_plan_compile (p, ova_backend_reference (), &err));
  p->input_data[0] = in->data;
  g_assert_true (p->backend->run (p, p->state, NULL, &err));
  OvaValue *y = OVA_VALUE (p->g, p->g->outputs[0]);
  *numel = ova_value_numel (y);
  float *r = g_memdup2 (ova_plan_value_data (p, p->g->outputs[0]), *numel * 4);
  ova_plan_free (p);
  ova_graph_unref (g);
  return r;
}

static void
assert_close (const float *a, const float *b, int64_t n, float rel)
{
  float lo = INFINITY, hi = -INFINITY, md = 0;
  for (int64_t i = 0; i < n; i++) {
    lo = fminf (lo, b[i]);
    hi = fmaxf (hi, b[i]);
    md = fmaxf (md, fabsf (a[i] - b[i]));
  }
  g_test_message ("max |diff| %g, range %g", md, hi - lo);
  g_assert_cmpfloat (md, <=, rel * fmaxf (hi - lo, 1e-3f));
}

static void
test_passes_and_backend (void)
{
  const int64_t batch = 2;
  char *path = build_net ("net.onnx", batch);
  int64_t n_in = batch * 16 * 16 * 16;
  float *x = g_new (float, n_in);
  fill (x, n_in, 7, -1, 1);
  OvaTensor in = { .data = x, .dtype = OVA_DTYPE_FLOAT32, .rank = 4, .dims = { batch, 16, 16, 16 } };
  int64_t n_ref;
  float *ref = run_unoptimised (path, &in, &n_ref);
  for (int bi = 0; bi < 3; bi++) {
    const char *backend = bi ? "cpu" : "reference";
    /* cpu: the residual add as a binary post-op and SiLU by ova after the
     * kernel, then the add as copy + sum post-op and SiLU as oneDNN's post-op */
    if (bi == 2) {
      g_setenv ("OVA_CPU_RESIDUAL_SUM", "1", TRUE);
      g_setenv ("OVA_CPU_ONEDNN_SILU", "1", TRUE);
    }
    GError *err = NULL;
    OvaEngine *e = open_model (path, backend, batch, &err);
    g_assert_no_error (err);
    OvaPlan *p = ova_engine_current_plan (e);
    /* BN folded, SiLU, residual, relu, clip, hardswish, leaky relu fused;
     * transpose pair cancelled */
    g_test_message ("%s: %d nodes, %d fused, %d folded, peak %zu", backend, p->n_order, p->n_fused, p->n_folded,
                    p->arena_bytes);
    g_assert_cmpint (p->n_fused, >=, 9);
    size_t total = 0;
    for (guint v = 0; v < p->g->values->len; v++)
      if (!OVA_VALUE (p->g, v)->data && OVA_VALUE (p->g, v)->producer >= 0)
        total += OVA_VALUE (p->g, v)->bytes;
    g_assert_cmpuint (ova_engine_get_peak_bytes (e), <, total);
    OvaTensor out;
    g_assert_true (ova_engine_run (e, &in, 1, &out, 1, &err));
    g_assert_no_error (err);
    g_assert_cmpint (out.rank, ==, 2);
    g_assert_cmpint (out.dims[0] * out.dims[1], ==, n_ref);
    assert_close (out.data, ref, n_ref, 1e-4f);
    ova_engine_free (e);
    g_unsetenv ("OVA_CPU_RESIDUAL_SUM");
    g_unsetenv ("OVA_CPU_ONEDNN_SILU");
  }
  g_free (ref);
  g_free (x);
  g_remove (path);
  g_free (path);
}

/* --- space-to-depth fold ----------------------------------------------------- */

static void
slice_consts (OnnxBuilder *b, const char *name, int n, const int64_t *starts, const int64_t *axes, const int64_t *steps)
{
  int64_t d[1] = { n }, ends[4] = { G_MAXINT64, G_MAXINT64, G_MAXINT64, G_MAXINT64 };
  const char *sfx[4] = { "_s", "_e", "_a", "_t" };
  const int64_t *vals[4] = { starts, ends, axes, steps };
  for (int i = 0; i < 4; i++) {
    char *nn = g_strconcat (name, sfx[i], NULL);
    ob_init_i64 (b, nn, 1, d, vals[i]);
    g_free (nn);
  }
}

/* Runs @path on the CPU backend and on the unoptimised reference; asserts the
 * outputs agree and that no node of type @gone is left in the plan. */
static void
check_folded (const char *path, const OvaTensor *in, const char *gone)
{
  int64_t n_ref;
  float *ref = run_unoptimised (path, in, &n_ref);
  GError *err = NULL;
  OvaEngine *e = open_model (path, "cpu", in->dims[0], &err);
  g_assert_no_error (err);
  OvaPlan *p = ova_engine_current_plan (e);
  for (int i = 0; i < p->n_order; i++)
    g_assert_cmpstr (OVA_NODE (p->g, p->order[i])->op_type, !=, gone);
  OvaTensor out;
  g_assert_true (ova_engine_run (e, in, 1, &out, 1, &err));
  g_assert_no_error (err);
  int64_t n_out = 1;
  for (int d = 0; d < out.rank; d++)
    n_out *= out.dims[d];
  g_assert_cmpint (n_out, ==, n_ref);
  assert_close (out.data, ref, n_ref, 1e-4f);
  ova_engine_free (e);
  g_free (ref);
}

/* Focus (strided Slices + Concat) and SpaceToDepth feeding a Conv are folded
 * into one strided Conv of the original tensor: same outputs as unfolded. */
static void
test_space_to_depth_fold (void)
{
  const int64_t batch = 2;
  float *x = g_new (float, batch * 3 * 20 * 16);
  fill (x, batch * 3 * 20 * 16, 21, -1, 1);
  OvaTensor in = { .data = x, .dtype = OVA_DTYPE_FLOAT32, .rank = 4, .dims = { batch, 3, 20, 16 } };
  int64_t p1[4] = { 1, 1, 1, 1 }, pa[4] = { 0, 1, 2, 1 }, s2[2] = { 2, 2 };

  /* YOLOX's Focus: x[..., ::2, ::2], x[..., 1::2, ::2], x[..., ::2, 1::2],
   * x[..., 1::2, 1::2]; slices chained per axis, in one node, axes reversed */
  for (int variant = 0; variant < 2; variant++) {
    OnnxBuilder *b = ob_new (13);
    int64_t xd[4] = { batch, 3, 20, 16 };
    ob_input (b, "x", 4, xd);
    int64_t two[1] = { 2 }, three[1] = { 3 }, st2[1] = { 2 }, z[1] = { 0 }, one[1] = { 1 };
    slice_consts (b, "r0", 1, z, two, st2);
    slice_consts (b, "r1", 1, one, two, st2);
    slice_consts (b, "c0", 1, z, three, st2);
    slice_consts (b, "c1", 1, one, three, st2);
    ob_node (b, "Slice", "tl_r", "x,r0_s,r0_e,r0_a,r0_t", "tl_r", NULL);
    ob_node (b, "Slice", "tl", "tl_r,c0_s,c0_e,c0_a,c0_t", "tl", NULL);
    ob_node (b, "Slice", "bl_r", "x,r1_s,r1_e,r1_a,r1_t", "bl_r", NULL);
    ob_node (b, "Slice", "bl", "bl_r,c0_s,c0_e,c0_a,c0_t", "bl", NULL);
    int64_t s01[2] = { 0, 1 }, a23[2] = { 2, 3 }, a32[2] = { 3, 2 }, t22[2] = { 2, 2 }, s11[2] = { 1, 1 };
    slice_consts (b, "tr2", 2, s01, a23, t22);
    slice_consts (b, "br2", 2, s11, a32, t22);
    ob_node (b, "Slice", "tr", "x,tr2_s,tr2_e,tr2_a,tr2_t", "tr", NULL);
    ob_node (b, "Slice", "br", "x,br2_s,br2_e,br2_a,br2_t", "br", NULL);
    ob_node (b, "Concat", "focus", "tl,bl,tr,br", "z", ob_attr_int (b, "axis", 1), NULL);
    conv_params (b, "c", 16, 12, 3, 60, TRUE);
    if (variant == 0)
      ob_node (b, "Conv", "c", "z,c_w,c_b", "cy", ob_attr_ints (b, "pads", 4, p1), NULL);
    else /* strided, asymmetric pads */
      ob_node (b, "Conv", "c", "z,c_w,c_b", "cy", ob_attr_ints (b, "pads", 4, pa), ob_attr_ints (b, "strides", 2, s2), NULL);
    ob_node (b, "BatchNormalization", "bn", "cy,c_scale,c_beta,c_mean,c_var", "bny", NULL);
    ob_node (b, "Sigmoid", "sig", "bny", "sg", NULL);
    ob_node (b, "Mul", "silu", "bny,sg", "y", NULL);
    ob_output (b, "y");
    char *path = tmp_path ("focus.onnx");
    g_assert_true (ob_save (b, path));
    ob_free (b);
    check_folded (path, &in, "Slice");
    g_remove (path);
    g_free (path);
  }

  /* SpaceToDepth, block 2 */
  OnnxBuilder *b = ob_new (13);
  int64_t xd[4] = { batch, 3, 20, 16 };
  ob_input (b, "x", 4, xd);
  ob_node (b, "SpaceToDepth", "s2d", "x", "z", ob_attr_int (b, "blocksize", 2), NULL);
  conv_params (b, "c", 8, 12, 3, 70, FALSE);
  ob_node (b, "Conv", "c", "z,c_w,c_b", "cy", ob_attr_ints (b, "pads", 4, pa), NULL);
  ob_node (b, "Relu", "relu", "cy", "y", NULL);
  ob_output (b, "y");
  char *path = tmp_path ("s2d.onnx");
  g_assert_true (ob_save (b, path));
  ob_free (b);
  check_folded (path, &in, "SpaceToDepth");
  g_remove (path);
  g_free (path);
  g_free (x);
}

/* Conv + SiLU: the CPU backend's SiLU epilogue against x / (1 + exp(-x)) in
 * double precision, element by element, over [-100, 100]. */
static void
test_silu_epilogue (void)
{
  const int64_t c = 16, h = 8, w = 9, n = c * h * w;
  OnnxBuilder *b = ob_new (13);
  int64_t xd[4] = { 1, c, h, w }, wd[4] = { c, c, 1, 1 };
  ob_input (b, "x", 4, xd);
  float *wt = g_new0 (float, c * c);
  for (int64_t i = 0; i < c; i++)
    wt[i * c + i] = 1.f; /* identity */
  ob_init_f32 (b, "w", 4, wd, wt);
  ob_node (b, "Conv", "c", "x,w", "cy", NULL);
  ob_node (b, "Sigmoid", "s", "cy", "sy", NULL);
  ob_node (b, "Mul", "m", "cy,sy", "y", NULL);
  ob_output (b, "y");
  char *path = tmp_path ("silu.onnx");
  g_assert_true (ob_save (b, path));
  ob_free (b);
  float *x = g_new (float, n);
  for (int64_t i = 0; i < n; i++)
    x[i] = i % 3 ? -100.f + 200.f * i / (n - 1) : -8.f + 16.f * i / (n - 1);
  GError *err = NULL;
  OvaEngine *e = open_model (path, "cpu", 1, &err);
  g_assert_no_error (err);
  g_assert_cmpint (ova_engine_current_plan (e)->n_order, ==, 1);
  OvaTensor in = { .data = x, .dtype = OVA_DTYPE_FLOAT32, .rank = 4, .dims = { 1, c, h, w } }, out;
  g_assert_true (ova_engine_run (e, &in, 1, &out, 1, &err));
  const float *y = out.data;
  for (int64_t i = 0; i < n; i++) {
    double want = x[i] / (1.0 + exp (-(double) x[i]));
    if (fabs (y[i] - want) > 2e-6 * fabs (want) + 1e-30)
      g_error ("silu(%g) = %g, want %g", x[i], y[i], want);
  }
  ova_engine_free (e);
  g_free (x);
  g_free (wt);
  g_remove (path);
  g_free (path);
}

/* Batch 1 on two threads: convolutions split by output channels (regular,
 * depthwise, a part with a padded channel block, residual add, SiLU) or, with
 * one output channel block, by rows (plain src copied, blocked src,
 * depthwise, residual add) run on the helper threads; same outputs as the
 * unoptimised reference. */
static void
test_conv_channel_split (void)
{
  OnnxBuilder *b = ob_new (13);
  int64_t xd[4] = { 1, 3, 64, 64 }, p1[4] = { 1, 1, 1, 1 };
  ob_input (b, "x", 4, xd);
  conv_params (b, "r1", 16, 3, 3, 85, FALSE);
  ob_node (b, "Conv", "r1", "x,r1_w,r1_b", "r1y", ob_attr_ints (b, "pads", 4, p1), NULL);
  ob_node (b, "Relu", "r1r", "r1y", "r1a", NULL);
  conv_params (b, "r2", 16, 1, 3, 86, FALSE);
  ob_node (b, "Conv", "r2", "r1a,r2_w,r2_b", "r2y", ob_attr_int (b, "group", 16), ob_attr_ints (b, "pads", 4, p1), NULL);
  conv_params (b, "r3", 16, 16, 1, 87, FALSE);
  ob_node (b, "Conv", "r3", "r2y,r3_w,r3_b", "r3y", NULL);
  ob_node (b, "Add", "r3res", "r3y,r1a", "r3s", NULL);
  ob_node (b, "Relu", "xr", "r3s", "xr", NULL);
  conv_params (b, "c1", 64, 16, 3, 80, TRUE);
  ob_node (b, "Conv", "c1", "xr,c1_w,c1_b", "c1y", ob_attr_ints (b, "pads", 4, p1), NULL);
  ob_node (b, "BatchNormalization", "bn1", "c1y,c1_scale,c1_beta,c1_mean,c1_var", "bn1y", NULL);
  ob_node (b, "Sigmoid", "sig1", "bn1y", "sig1y", NULL);
  ob_node (b, "Mul", "silu1", "bn1y,sig1y", "a1", NULL);
  conv_params (b, "dw", 64, 1, 3, 81, FALSE);
  ob_node (b, "Conv", "dw", "a1,dw_w,dw_b", "dwy", ob_attr_int (b, "group", 64), ob_attr_ints (b, "pads", 4, p1), NULL);
  ob_node (b, "Relu", "relu", "dwy", "dwa", NULL);
  conv_params (b, "sc", 40, 3, 1, 82, FALSE);
  ob_node (b, "Conv", "sc", "x,sc_w,sc_b", "scy", NULL);
  conv_params (b, "pw", 40, 64, 1, 83, FALSE);
  ob_node (b, "Conv", "pw", "dwa,pw_w,pw_b", "pwy", NULL);
  ob_node (b, "Add", "res", "pwy,scy", "r", NULL);
  conv_params (b, "out", 8, 40, 3, 84, FALSE);
  ob_node (b, "Conv", "out", "r,out_w,out_b", "y", ob_attr_ints (b, "pads", 4, p1), NULL);
  ob_output (b, "y");
  char *path = tmp_path ("split.onnx");
  g_assert_true (ob_save (b, path));
  ob_free (b);
  int64_t n_in = 3 * 64 * 64;
  float *x = g_new (float, n_in);
  fill (x, n_in, 31, -1, 1);
  OvaTensor in = { .data = x, .dtype = OVA_DTYPE_FLOAT32, .rank = 4, .dims = { 1, 3, 64, 64 } };
  int64_t n_ref;
  float *ref = run_unoptimised (path, &in, &n_ref);
  for (int split = 1; split >= 0; split--) {
    if (!split)
      g_setenv ("OVA_CPU_NO_CONV_SPLIT", "1", TRUE);
    OvaEngineOptions o;
    ova_engine_options_init (&o);
    o.threads = 2;
    o.verbose = g_getenv ("OVA_TEST_VERBOSE") != NULL;
    GError *err = NULL;
    OvaEngine *e = ova_engine_new (path, &o, &err);
    g_assert_no_error (err);
    for (int run = 0; run < 3; run++) {
      OvaTensor out;
      g_assert_true (ova_engine_run (e, &in, 1, &out, 1, &err));
      g_assert_no_error (err);
      assert_close (out.data, ref, n_ref, 1e-4f);
    }
    ova_engine_free (e);
    g_unsetenv ("OVA_CPU_NO_CONV_SPLIT");
  }
  g_free (ref);
  g_free (x);
  g_remove (path);
  g_free (path);
}

/* MatMul, Gemm, Softmax, LogSoftmax, LayerNormalization: oneDNN vs reference */
static void
test_dense_kernels (void)
{
  OnnxBuilder *b = ob_new (17);
  int64_t xd[3] = { 2, 3, 8 }, wd[2] = { 8, 6 }, gd[2] = { 4, 6 }, cd[1] = { 4 }, sd[1] = { 4 };
  ob_input (b, "x", 3, xd);
  float w[48], gw[24], gc[4], sc[4], sh[4];
  fill (w, 48, 1, -1, 1);
  fill (gw, 24, 2, -1, 1);
  fill (gc, 4, 3, -1, 1);
  fill (sc, 4, 4, 0.5f, 1.5f);
  fill (sh, 4, 5, -0.5f, 0.5f);
  ob_init_f32 (b, "w", 2, wd, w);
  ob_init_f32 (b, "gw", 2, gd, gw);
  ob_init_f32 (b, "gc", 1, cd, gc);
  ob_init_f32 (b, "sc", 1, sd, sc);
  ob_init_f32 (b, "sh", 1, sd, sh);
  int64_t shape[2] = { 6, 6 }, shd[1] = { 2 };
  ob_init_i64 (b, "shape", 1, shd, shape);
  ob_node (b, "MatMul", "mm", "x,w", "mm", NULL);
  ob_node (b, "Softmax", "sm", "mm", "sm", ob_attr_int (b, "axis", 1), NULL);
  ob_node (b, "Reshape", "r", "sm,shape", "r", NULL);
  ob_node (b, "Gemm", "gemm", "r,gw,gc", "g", ob_attr_int (b, "transB", 1), NULL);
  ob_node (b, "LayerNormalization", "ln", "g,sc,sh", "ln", ob_attr_float (b, "epsilon", 1e-4f), NULL);
  ob_node (b, "LogSoftmax", "lsm", "ln", "y", NULL);
  ob_output (b, "y");
  char *path = tmp_path ("dense.onnx");
  g_assert_true (ob_save (b, path));
  ob_free (b);
  float x[48];
  fill (x, 48, 6, -2, 2);
  OvaTensor in = { .data = x, .dtype = OVA_DTYPE_FLOAT32, .rank = 3, .dims = { 2, 3, 8 } };
  int64_t n_ref;
  float *ref = run_unoptimised (path, &in, &n_ref);
  GError *err = NULL;
  OvaEngine *e = open_model (path, "cpu", 1, &err);
  g_assert_no_error (err);
  OvaTensor out;
  g_assert_true (ova_engine_run (e, &in, 1, &out, 1, &err));
  g_assert_cmpint (out.dims[0] * out.dims[1], ==, n_ref);
  assert_close (out.data, ref, n_ref, 1e-4f);
  ova_engine_free (e);
  g_free (ref);
  g_remove (path);
  g_free (path);

  /* ConvTranspose (deconvolution): stride 2 with output_padding, grouped */
  b = ob_new (13);
  int64_t cd4[4] = { 1, 16, 8, 8 }, w1d[4] = { 16, 8, 3, 3 }, w2d[4] = { 8, 4, 3, 3 }, b1d[1] = { 8 };
  ob_input (b, "x", 4, cd4);
  float w1[16 * 8 * 9], w2[8 * 4 * 9], b1[8];
  fill (w1, G_N_ELEMENTS (w1), 7, -0.3f, 0.3f);
  fill (w2, G_N_ELEMENTS (w2), 8, -0.3f, 0.3f);
  fill (b1, 8, 9, -0.1f, 0.1f);
  ob_init_f32 (b, "w1", 4, w1d, w1);
  ob_init_f32 (b, "b1", 1, b1d, b1);
  ob_init_f32 (b, "w2", 4, w2d, w2);
  int64_t s2[2] = { 2, 2 }, p1[4] = { 1, 1, 1, 1 }, op1[2] = { 1, 1 };
  ob_node (b, "ConvTranspose", "up1", "x,w1,b1", "u1", ob_attr_ints (b, "strides", 2, s2), ob_attr_ints (b, "pads", 4, p1),
           ob_attr_ints (b, "output_padding", 2, op1), NULL);
  ob_node (b, "Relu", "relu", "u1", "u1a", NULL);
  ob_node (b, "ConvTranspose", "up2", "u1a,w2", "y", ob_attr_int (b, "group", 2), NULL);
  ob_output (b, "y");
  path = tmp_path ("deconv.onnx");
  g_assert_true (ob_save (b, path));
  ob_free (b);
  float *cx = g_new (float, 16 * 64);
  fill (cx, 16 * 64, 10, -1, 1);
  OvaTensor cin = { .data = cx, .dtype = OVA_DTYPE_FLOAT32, .rank = 4, .dims = { 1, 16, 8, 8 } };
  ref = run_unoptimised (path, &cin, &n_ref);
  e = open_model (path, "cpu", 1, &err);
  g_assert_no_error (err);
  g_assert_true (ova_engine_run (e, &cin, 1, &out, 1, &err));
  g_assert_cmpint (out.dims[1] * out.dims[2] * out.dims[3], ==, n_ref);
  assert_close (out.data, ref, n_ref, 1e-4f);
  ova_engine_free (e);
  g_free (ref);
  g_free (cx);
  g_remove (path);
  g_free (path);
}

/* --- symbolic batch ---------------------------------------------------------- */

static void
test_symbolic_batch (void)
{
  OnnxBuilder *b = ob_new (13);
  int64_t xd[4] = { -1, 16, 8, 8 };
  ob_input (b, "x", 4, xd);
  conv_params (b, "c", 16, 16, 3, 3, FALSE);
  int64_t p1[4] = { 1, 1, 1, 1 };
  ob_node (b, "Conv", "c", "x,c_w,c_b", "cy", ob_attr_ints (b, "pads", 4, p1), NULL);
  ob_node (b, "Relu", "r", "cy", "y", NULL);
  ob_output (b, "y");
  char *path = tmp_path ("dyn.onnx");
  ob_save (b, path);
  ob_free (b);
  GError *err = NULL;
  OvaEngine *e = open_model (path, "cpu", 4, &err);
  g_assert_no_error (err);
  g_assert_cmpint (ova_engine_get_max_batch (e), ==, 4);
  g_assert_cmpint (ova_engine_get_input_info (e, 0)->dims[0], ==, -1);
  g_assert_cmpint (ova_engine_get_output_info (e, 0)->dims[0], ==, -1);
  const int64_t per = 16 * 8 * 8;
  float *x = g_new (float, 5 * per);
  fill (x, 5 * per, 11, -1, 1);
  float *single = g_new (float, 4 * per);
  for (int i = 0; i < 4; i++) {
    OvaTensor in = { .data = x + i * per, .dtype = OVA_DTYPE_FLOAT32, .rank = 4, .dims = { 1, 16, 8, 8 } }, out;
    g_assert_true (ova_engine_run (e, &in, 1, &out, 1, &err));
    g_assert_cmpint (out.dims[0], ==, 1);
    memcpy (single + i * per, out.data, per * 4);
  }
  for (int batch = 2; batch <= 4; batch++) {
    OvaTensor in = { .data = x, .dtype = OVA_DTYPE_FLOAT32, .rank = 4, .dims = { batch, 16, 8, 8 } }, out;
    g_assert_true (ova_engine_run (e, &in, 1, &out, 1, &err));
    g_assert_cmpint (out.dims[0], ==, batch);
    assert_close (out.data, single, batch * per, 1e-5f);
  }
  OvaTensor in = { .data = x, .dtype = OVA_DTYPE_FLOAT32, .rank = 4, .dims = { 5, 16, 8, 8 } }, out;
  g_assert_false (ova_engine_run (e, &in, 1, &out, 1, &err));
  g_assert_error (err, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_SHAPE);
  g_clear_error (&err);
  ova_engine_free (e);

  /* two threads: batches of 2+ run as one sub-batch per thread */
  OvaEngineOptions o;
  ova_engine_options_init (&o);
  o.max_batch = 4;
  o.threads = 2;
  e = ova_engine_new (path, &o, &err);
  g_assert_no_error (err);
  g_assert_true (ova_plan_batch_separable (ova_engine_current_plan (e)));
  for (int batch = 1; batch <= 4; batch++) {
    OvaTensor bin = { .data = x, .dtype = OVA_DTYPE_FLOAT32, .rank = 4, .dims = { batch, 16, 8, 8 } }, bout;
    g_assert_true (ova_engine_run (e, &bin, 1, &bout, 1, &err));
    g_assert_cmpint (bout.dims[0], ==, batch);
    assert_close (bout.data, single, batch * per, 1e-5f);
  }
  ova_engine_free (e);

  /* each thread's share as consecutive sub-batches (remainders included) */
  for (int threads = 1; threads <= 2; threads++) {
    g_setenv ("OVA_ENGINE_SUB_BATCH", "2", TRUE);
    o.threads = threads;
    e = ova_engine_new (path, &o, &err);
    g_assert_no_error (err);
    for (int batch = 1; batch <= 4; batch++) {
      OvaTensor bin = { .data = x, .dtype = OVA_DTYPE_FLOAT32, .rank = 4, .dims = { batch, 16, 8, 8 } }, bout;
      g_assert_true (ova_engine_run (e, &bin, 1, &bout, 1, &err));
      g_assert_cmpint (bout.dims[0], ==, batch);
      assert_close (bout.data, single, batch * per, 1e-5f);
    }
    ova_engine_free (e);
    g_unsetenv ("OVA_ENGINE_SUB_BATCH");
  }
  g_free (x);
  g_free (single);
  g_remove (path);
  g_free (path);
}

/* A network that mixes samples (softmax over the batch axis) is not split. */
static void
test_batch_mixing (void)
{
  OnnxBuilder *b = ob_new (13);
  int64_t xd[2] = { -1, 8 };
  ob_input (b, "x", 2, xd);
  ob_node (b, "Softmax", "sm", "x", "y", ob_attr_int (b, "axis", 0), NULL);
  ob_output (b, "y");
  char *path = tmp_path ("mix.onnx");
  ob_save (b, path);
  ob_free (b);
  OvaEngineOptions o;
  ova_engine_options_init (&o);
  o.max_batch = 4;
  o.threads = 2;
  GError *err = NULL;
  OvaEngine *e = ova_engine_new (path, &o, &err);
  g_assert_no_error (err);
  g_assert_false (ova_plan_batch_separable (ova_engine_current_plan (e)));
  float x[32];
  fill (x, 32, 4, -1, 1);
  OvaTensor in = { .data = x, .dtype = OVA_DTYPE_FLOAT32, .rank = 2, .dims = { 4, 8 } }, out;
  g_assert_true (ova_engine_run (e, &in, 1, &out, 1, &err));
  for (int c = 0; c < 8; c++) {
    float sum = 0;
    for (int r = 0; r < 4; r++)
      sum += ((float *) out.data)[r * 8 + c];
    g_assert_cmpfloat (fabsf (sum - 1), <, 1e-5f);
  }
  ova_engine_free (e);
  g_remove (path);
  g_free (path);
}

/* --- plan cache -------------------------------------------------------------- */

static void
test_plan_cache (void)
{
  char *path = build_net ("cached.onnx", 1);
  char *plan = tmp_path ("cached.plan");
  int64_t n_in = 16 * 16 * 16;
  float *x = g_new (float, n_in);
  fill (x, n_in, 5, -1, 1);
  OvaTensor in = { .data = x, .dtype = OVA_DTYPE_FLOAT32, .rank = 4, .dims = { 1, 16, 16, 16 } }, out;
  float *first = NULL;
  int64_t n = 0;
  for (int round = 0; round < 3; round++) {
    OvaEngineOptions o;
    ova_engine_options_init (&o);
    o.plan_cache = plan;
    o.threads = 1;
    GError *err = NULL;
    gint64 t0 = g_get_monotonic_time ();
    OvaEngine *e = ova_engine_new (path, &o, &err);
    gint64 t1 = g_get_monotonic_time ();
    g_assert_no_error (err);
    g_test_message ("round %d: %s in %.1f ms", round, ova_engine_plan_from_cache (e) ? "loaded" : "compiled",
                    (t1 - t0) / 1000.0);
    g_assert_cmpint (ova_engine_plan_from_cache (e), ==, round > 0);
    g_assert_true (ova_engine_run (e, &in, 1, &out, 1, &err));
    n = out.dims[0] * out.dims[1];
    if (!first)
      first = g_memdup2 (out.data, n * 4);
    else
      g_assert_cmpmem (first, n * 4, out.data, n * 4);
    ova_engine_free (e);
  }
  /* a different backend is a different key: recompiled, not loaded */
  OvaEngineOptions o;
  ova_engine_options_init (&o);
  o.plan_cache = plan;
  o.backend = "reference";
  GError *err = NULL;
  OvaEngine *e = ova_engine_new (path, &o, &err);
  g_assert_no_error (err);
  g_assert_false (ova_engine_plan_from_cache (e));
  ova_engine_free (e);
  /* a corrupt plan file is ignored (recompiled) */
  g_file_set_contents (plan, "garbage", 7, NULL);
  o.backend = "cpu";
  e = ova_engine_new (path, &o, &err);
  g_assert_no_error (err);
  g_assert_false (ova_engine_plan_from_cache (e));
  ova_engine_free (e);
  g_free (first);
  g_free (x);
  g_remove (plan);
  g_remove (path);
  g_free (plan);
  g_free (path);
}

/* --- several engines in parallel ----------------------------------------------- */

typedef struct {
  const char *path;
  const float *x;
  const float *want;
  int64_t n;
  gboolean ok;
} ThreadJob;

static gpointer
thread_main (gpointer data)
{
  ThreadJob *j = data;
  GError *err = NULL;
  OvaEngineOptions o;
  ova_engine_options_init (&o);
  o.threads = 2;
  OvaEngine *e = ova_engine_new (j->path, &o, &err);
  j->ok = e != NULL;
  for (int i = 0; j->ok && i < 5; i++) {
    OvaTensor in = { .data = (void *) j->x, .dtype = OVA_DTYPE_FLOAT32, .rank = 4, .dims = { 1, 16, 16, 16 } }, out;
    j->ok = ova_engine_run (e, &in, 1, &out, 1, &err) && !memcmp (out.data, j->want, j->n * 4);
  }
  g_clear_error (&err);
  ova_engine_free (e);
  return NULL;
}

static void
test_parallel_engines (void)
{
  char *path = build_net ("parallel.onnx", 1);
  int64_t n_in = 16 * 16 * 16;
  float *x = g_new (float, n_in);
  fill (x, n_in, 9, -1, 1);
  GError *err = NULL;
  OvaEngineOptions o;
  ova_engine_options_init (&o);
  o.threads = 2;
  OvaEngine *e = ova_engine_new (path, &o, &err);
  g_assert_no_error (err);
  OvaTensor in = { .data = x, .dtype = OVA_DTYPE_FLOAT32, .rank = 4, .dims = { 1, 16, 16, 16 } }, out;
  g_assert_true (ova_engine_run (e, &in, 1, &out, 1, &err));
  int64_t n = out.dims[0] * out.dims[1];
  float *want = g_memdup2 (out.data, n * 4);
  ova_engine_free (e);
  ThreadJob jobs[3];
  GThread *th[3];
  for (int i = 0; i < 3; i++) {
    jobs[i] = (ThreadJob) { path, x, want, n, FALSE };
    th[i] = g_thread_new ("engine", thread_main, &jobs[i]);
  }
  for (int i = 0; i < 3; i++) {
    g_thread_join (th[i]);
    g_assert_true (jobs[i].ok);
  }
  /* the budget gives at most the machine's cores to one run */
  int got = ova_cpu_threads_acquire (1000);
  g_assert_cmpint (got, <=, ova_cpu_count ());
  ova_cpu_threads_release (got);
  g_free (want);
  g_free (x);
  g_remove (path);
  g_free (path);
}

/* --- real models: oneDNN backend vs reference kernels ------------------------------ */

static void
test_models_backend_parity (void)
{
  const char *src = g_getenv ("OVA_SOURCE_DIR");
  const char *models[] = { "osnet_x0_25_msmt17.onnx", "yolox_nano.onnx" };
  int ran = 0;
  for (guint m = 0; m < G_N_ELEMENTS (models); m++) {
    char *path = g_build_filename (src ? src : ".", ".cache", "assets", models[m], NULL);
    if (!g_file_test (path, G_FILE_TEST_EXISTS)) {
      g_test_message ("%s absent (run tools/fetch-assets.sh)", path);
      g_free (path);
      continue;
    }
    GError *err = NULL;
    OvaEngine *ref = open_model (path, "reference", 1, &err);
    if (!ref && g_error_matches (err, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_UNSUPPORTED)) {
      g_test_message ("%s", err->message);
      g_clear_error (&err);
      g_free (path);
      continue;
    }
    g_assert_no_error (err);
    OvaEngine *cpu = open_model (path, "cpu", 1, &err);
    g_assert_no_error (err);
    const OvaTensorInfo *ti = ova_engine_get_input_info (cpu, 0);
    OvaTensor in = { .dtype = OVA_DTYPE_FLOAT32, .rank = ti->rank };
    int64_t n = 1;
    for (int d = 0; d < ti->rank; d++) {
      in.dims[d] = ti->dims[d] < 0 ? 1 : ti->dims[d];
      n *= in.dims[d];
    }
    in.data = g_new (float, n);
    fill (in.data, n, 3, 0, 1);
    OvaTensor o1[4], o2[4];
    int no = ova_engine_get_n_outputs (cpu);
    g_assert_cmpint (no, <=, 4);
    g_assert_true (ova_engine_run (ref, &in, 1, o1, no, &err));
    g_assert_true (ova_engine_run (cpu, &in, 1, o2, no, &err));
    for (int i = 0; i < no; i++) {
      int64_t k = 1;
      for (int d = 0; d < o1[i].rank; d++)
        k *= o1[i].dims[d];
      g_test_message ("%s output %d", models[m], i);
      assert_close (o2[i].data, o1[i].data, k, 1e-4f);
    }
    g_free (in.data);
    ova_engine_free (ref);
    ova_engine_free (cpu);
    g_free (path);
    ran++;
  }
  if (!ran)
    g_test_skip ("no model assets");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  tmpdir = g_dir_make_tmp ("ova-engine-test-XXXXXX", NULL);
  g_test_add_func ("/engine/errors", test_errors);
  g_test_add_func ("/engine/external-data", test_external_data);
  g_test_add_func ("/engine/passes-and-backend", test_passes_and_backend);
  g_test_add_func ("/engine/space-to-depth-fold", test_space_to_depth_fold);
  g_test_add_func ("/engine/silu-epilogue", test_silu_epilogue);
  g_test_add_func ("/engine/conv-channel-split", test_conv_channel_split);
  g_test_add_func ("/engine/dense-kernels", test_dense_kernels);
  g_test_add_func ("/engine/symbolic-batch", test_symbolic_batch);
  g_test_add_func ("/engine/batch-mixing", test_batch_mixing);
  g_test_add_func ("/engine/plan-cache", test_plan_cache);
  g_test_add_func ("/engine/parallel-engines", test_parallel_engines);
  g_test_add_func ("/engine/models-backend-parity", test_models_backend_parity);
  int rc = g_test_run ();
  g_rmdir (tmpdir);
  g_free (tmpdir);
  return rc;
}
