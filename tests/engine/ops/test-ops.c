/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Reference operators: hand-worked cases for the tricky ones (broadcasting,
 * Resize modes, Pad modes, Slice with negative steps, Einsum, NMS, TopK
 * ties), shape inference with unknown dims, error paths, and the fp32 fast
 * paths checked against the generic (double) paths and naive loops.
 */
#include "engine/op.h"
#include "engine/ops/ops-private.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  OvaAttr a[8];
  int n;
} Attrs;

static void
attr_int (Attrs *as, const char *name, int64_t v)
{
  OvaAttr *a = &as->a[as->n++];
  memset (a, 0, sizeof *a);
  a->name = name;
  a->type = OVA_ATTR_INT;
  a->i = v;
}

static void
attr_float (Attrs *as, const char *name, float v)
{
  OvaAttr *a = &as->a[as->n++];
  memset (a, 0, sizeof *a);
  a->name = name;
  a->type = OVA_ATTR_FLOAT;
  a->f = v;
}

static void
attr_str (Attrs *as, const char *name, const char *v)
{
  OvaAttr *a = &as->a[as->n++];
  memset (a, 0, sizeof *a);
  a->name = name;
  a->type = OVA_ATTR_STRING;
  a->s = v;
}

static void
attr_ints (Attrs *as, const char *name, const int64_t *v, int n)
{
  OvaAttr *a = &as->a[as->n++];
  memset (a, 0, sizeof *a);
  a->name = name;
  a->type = OVA_ATTR_INTS;
  a->ints = v;
  a->n = n;
}

static OvaTensorRef
tref (OvaDataType dt, const void *data, int rank, ...)
{
  OvaTensorRef t = { dt, rank };
  va_list ap;
  va_start (ap, rank);
  for (int i = 0; i < rank; i++)
    t.dims[i] = va_arg (ap, int64_t);
  va_end (ap);
  t.data = (void *) data;
  return t;
}

static const OvaTensorRef absent = { OVA_DTYPE_UNDEFINED };
static float frand (void);
static guint32 urand_test (guint32 n);

/* infer + allocate + run; outputs are g_malloc'd (free with free_outs). */
static gboolean
run_op (const char *op, int opset, const Attrs *as, const OvaTensorRef *in, int n_in,
        OvaTensorRef *out, int n_out, GError **error)
{
  const OvaOpDef *d = ova_op_lookup (op);
  g_assert_nonnull (d);
  OvaOpNode node = { op, "test_node", "", opset, as ? as->n : 0, as ? as->a : NULL, n_in, n_out };
  memset (out, 0, sizeof (OvaTensorRef) * n_out);
  if (!d->infer (&node, in, n_in, out, n_out, error))
    return FALSE;
  for (int i = 0; i < n_out; i++) {
    for (int k = 0; k < out[i].rank; k++)
      g_assert_cmpint (out[i].dims[k], >=, 0);
    out[i].data = g_malloc0 (MAX (1, ova_tensor_ref_bytes (&out[i])));
  }
  if (!d->run (&node, in, n_in, out, n_out, error)) {
    for (int i = 0; i < n_out; i++)
      g_clear_pointer (&out[i].data, g_free);
    return FALSE;
  }
  return TRUE;
}

static void
free_outs (OvaTensorRef *out, int n)
{
  for (int i = 0; i < n; i++)
    g_clear_pointer (&out[i].data, g_free);
}

static void
assert_dims (const OvaTensorRef *t, int rank, const int64_t *dims)
{
  g_assert_cmpint (t->rank, ==, rank);
  for (int i = 0; i < rank; i++)
    g_assert_cmpint (t->dims[i], ==, dims[i]);
}

static void
assert_floats (const OvaTensorRef *t, const float *expect, int n, float tol)
{
  g_assert_cmpint (ova_tensor_ref_numel (t), ==, n);
  for (int i = 0; i < n; i++)
    if (fabsf (((const float *) t->data)[i] - expect[i]) > tol)
      g_error ("element %d: got %g, expected %g", i, ((const float *) t->data)[i], expect[i]);
}

static void
assert_i64 (const OvaTensorRef *t, const int64_t *expect, int n)
{
  g_assert_cmpint (ova_tensor_ref_numel (t), ==, n);
  for (int i = 0; i < n; i++)
    g_assert_cmpint (((const int64_t *) t->data)[i], ==, expect[i]);
}

/* ---------------------------------------------------------------- tests */

static void
test_registry (void)
{
  const char *need[] = { "Conv", "ConvTranspose", "BatchNormalization", "InstanceNormalization",
    "LayerNormalization", "Relu", "LeakyRelu", "PRelu", "Sigmoid", "HardSigmoid", "HardSwish",
    "Tanh", "Erf", "Clip", "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Exp", "Log", "Neg", "Abs",
    "Min", "Max", "Floor", "Ceil", "Round", "MaxPool", "AveragePool", "GlobalAveragePool",
    "GlobalMaxPool", "Gemm", "MatMul", "Flatten", "Reshape", "Transpose", "Concat", "Split",
    "Slice", "Squeeze", "Unsqueeze", "Gather", "Shape", "Size", "Constant", "ConstantOfShape",
    "Cast", "Resize", "Upsample", "Pad", "Softmax", "LogSoftmax", "ReduceMean", "ReduceMax",
    "ReduceMin", "ReduceSum", "ArgMax", "TopK", "Expand", "Tile", "Where", "Equal", "Greater",
    "Less", "Not", "And", "Or", "Identity", "Dropout", "DepthToSpace", "SpaceToDepth", "Range",
    "Einsum", "NonMaxSuppression", NULL };
  for (int i = 0; need[i]; i++) {
    const OvaOpDef *d = ova_op_lookup (need[i]);
    if (!d)
      g_error ("operator %s not registered", need[i]);
    g_assert_cmpstr (d->op_type, ==, need[i]);
  }
  g_assert_null (ova_op_lookup ("NoSuchOp"));
  g_assert_null (ova_op_lookup (NULL));
  int n = 0;
  for (const OvaOpDef *const *l = ova_op_list (); *l; l++, n++)
    g_assert_true (ova_op_lookup ((*l)->op_type) == *l);
  g_assert_cmpint (n, >=, 76);
}

static void
test_attrs (void)
{
  Attrs as = { 0 };
  static const int64_t v[] = { 3, 4 };
  attr_int (&as, "axis", -2);
  attr_float (&as, "alpha", 0.5f);
  attr_str (&as, "mode", "edge");
  attr_ints (&as, "perm", v, 2);
  OvaOpNode node = { "X", "n", "", 13, as.n, as.a, 0, 0 };
  g_assert_cmpint (ova_op_attr_int (&node, "axis", 0), ==, -2);
  g_assert_cmpint (ova_op_attr_int (&node, "missing", 7), ==, 7);
  g_assert_cmpfloat (ova_op_attr_float (&node, "alpha", 0), ==, 0.5f);
  g_assert_cmpstr (ova_op_attr_string (&node, "mode", "x"), ==, "edge");
  g_assert_cmpstr (ova_op_attr_string (&node, "nope", "x"), ==, "x");
  const int64_t *p;
  g_assert_cmpint (ova_op_attr_ints (&node, "perm", &p), ==, 2);
  g_assert_cmpint (p[1], ==, 4);
  g_assert_cmpint (ova_op_attr_ints (&node, "nope", &p), ==, 0);
  g_assert_null (p);
  const float *f;
  g_assert_cmpint (ova_op_attr_floats (&node, "alpha", &f), ==, 0); /* wrong type */
  OvaTensorRef t = tref (OVA_DTYPE_INT64, NULL, 3, (int64_t) 2, (int64_t) 3, (int64_t) 4);
  g_assert_cmpint (ova_tensor_ref_numel (&t), ==, 24);
  g_assert_cmpuint (ova_tensor_ref_bytes (&t), ==, 192);
}

static void
test_broadcast (void)
{
  GError *err = NULL;
  OvaTensorRef out[1];
  /* [2,3] + [3] */
  float a[] = { 1, 2, 3, 4, 5, 6 }, b[] = { 10, 20, 30 };
  OvaTensorRef in[2] = { tref (OVA_DTYPE_FLOAT32, a, 2, (int64_t) 2, (int64_t) 3),
                         tref (OVA_DTYPE_FLOAT32, b, 1, (int64_t) 3) };
  g_assert_true (run_op ("Add", 13, NULL, in, 2, out, 1, &err));
  float e1[] = { 11, 22, 33, 14, 25, 36 };
  assert_floats (&out[0], e1, 6, 0);
  free_outs (out, 1);
  /* [2,1] - [1,3] -> [2,3] */
  float c[] = { 1, 2 }, d[] = { 1, 2, 3 };
  in[0] = tref (OVA_DTYPE_FLOAT32, c, 2, (int64_t) 2, (int64_t) 1);
  in[1] = tref (OVA_DTYPE_FLOAT32, d, 2, (int64_t) 1, (int64_t) 3);
  g_assert_true (run_op ("Sub", 13, NULL, in, 2, out, 1, &err));
  float e2[] = { 0, -1, -2, 1, 0, -1 };
  assert_floats (&out[0], e2, 6, 0);
  free_outs (out, 1);
  /* scalar * [2,3]: scalar first */
  float s = 2;
  in[0] = tref (OVA_DTYPE_FLOAT32, &s, 0);
  in[1] = tref (OVA_DTYPE_FLOAT32, a, 2, (int64_t) 2, (int64_t) 3);
  g_assert_true (run_op ("Mul", 13, NULL, in, 2, out, 1, &err));
  float e3[] = { 2, 4, 6, 8, 10, 12 };
  assert_floats (&out[0], e3, 6, 0);
  free_outs (out, 1);
  /* int64 [3,1,2] + [2,1] -> [3,2,2] */
  int64_t x[] = { 1, 2, 3, 4, 5, 6 }, y[] = { 100, 200 };
  in[0] = tref (OVA_DTYPE_INT64, x, 3, (int64_t) 3, (int64_t) 1, (int64_t) 2);
  in[1] = tref (OVA_DTYPE_INT64, y, 2, (int64_t) 2, (int64_t) 1);
  g_assert_true (run_op ("Add", 13, NULL, in, 2, out, 1, &err));
  int64_t e4[] = { 101, 102, 201, 202, 103, 104, 203, 204, 105, 106, 205, 206 };
  int64_t d4[] = { 3, 2, 2 };
  assert_dims (&out[0], 3, d4);
  assert_i64 (&out[0], e4, 12);
  free_outs (out, 1);
  /* int32 Greater with broadcasting -> bool */
  int32_t p[] = { 1, 5, 3 }, q[] = { 3 };
  in[0] = tref (OVA_DTYPE_INT32, p, 1, (int64_t) 3);
  in[1] = tref (OVA_DTYPE_INT32, q, 1, (int64_t) 1);
  g_assert_true (run_op ("Greater", 13, NULL, in, 2, out, 1, &err));
  g_assert_cmpint (out[0].dtype, ==, OVA_DTYPE_BOOL);
  g_assert_cmpmem (out[0].data, 3, "\0\1\0", 3);
  free_outs (out, 1);
  /* Where: cond [2,1], x [1,2] int64, y scalar */
  uint8_t cond[] = { 1, 0 };
  int64_t wx[] = { 7, 8 }, wy = -1;
  OvaTensorRef w[3] = { tref (OVA_DTYPE_BOOL, cond, 2, (int64_t) 2, (int64_t) 1),
                        tref (OVA_DTYPE_INT64, wx, 2, (int64_t) 1, (int64_t) 2),
                        tref (OVA_DTYPE_INT64, &wy, 0) };
  g_assert_true (run_op ("Where", 16, NULL, w, 3, out, 1, &err));
  int64_t e5[] = { 7, 8, -1, -1 };
  assert_i64 (&out[0], e5, 4);
  free_outs (out, 1);
  /* mismatch: a clear error naming node and operator */
  in[0] = tref (OVA_DTYPE_FLOAT32, a, 2, (int64_t) 2, (int64_t) 3);
  in[1] = tref (OVA_DTYPE_FLOAT32, a, 2, (int64_t) 3, (int64_t) 2);
  g_assert_false (run_op ("Add", 13, NULL, in, 2, out, 1, &err));
  g_assert_error (err, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_SHAPE);
  g_assert_nonnull (strstr (err->message, "test_node"));
  g_assert_nonnull (strstr (err->message, "Add"));
  g_clear_error (&err);
}

static void
resize_1d (const char *mode, const char *ct, const char *nm, const float *x, int n_in,
           const float *roi, int64_t size, const float *expect)
{
  GError *err = NULL;
  Attrs as = { 0 };
  attr_str (&as, "mode", mode);
  attr_str (&as, "coordinate_transformation_mode", ct);
  if (nm)
    attr_str (&as, "nearest_mode", nm);
  attr_float (&as, "extrapolation_value", 10.0f);
  int64_t sizes[] = { size };
  OvaTensorRef in[4] = { tref (OVA_DTYPE_FLOAT32, x, 1, (int64_t) n_in),
                         roi ? tref (OVA_DTYPE_FLOAT32, roi, 1, (int64_t) 2) : absent, absent,
                         tref (OVA_DTYPE_INT64, sizes, 1, (int64_t) 1) };
  OvaTensorRef out[1];
  if (!run_op ("Resize", 13, &as, in, 4, out, 1, &err))
    g_error ("%s", err->message);
  assert_floats (&out[0], expect, (int) size, 1e-5f);
  free_outs (out, 1);
}

static void
test_resize (void)
{
  GError *err = NULL;
  OvaTensorRef out[1];
  float x[] = { 1, 2, 3, 4 };
  /* nearest, asymmetric, floor, scales 2 on [1,1,2,2] */
  {
    Attrs as = { 0 };
    attr_str (&as, "mode", "nearest");
    attr_str (&as, "coordinate_transformation_mode", "asymmetric");
    attr_str (&as, "nearest_mode", "floor");
    float sc[] = { 1, 1, 2, 2 };
    OvaTensorRef in[3] = { tref (OVA_DTYPE_FLOAT32, x, 4, (int64_t) 1, (int64_t) 1, (int64_t) 2, (int64_t) 2),
                           absent, tref (OVA_DTYPE_FLOAT32, sc, 1, (int64_t) 4) };
    g_assert_true (run_op ("Resize", 13, &as, in, 3, out, 1, &err));
    float e[] = { 1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4 };
    assert_floats (&out[0], e, 16, 0);
    free_outs (out, 1);
  }
  /* linear, half_pixel (the default), scales 2 */
  {
    Attrs as = { 0 };
    attr_str (&as, "mode", "linear");
    float sc[] = { 1, 1, 2, 2 };
    OvaTensorRef in[3] = { tref (OVA_DTYPE_FLOAT32, x, 4, (int64_t) 1, (int64_t) 1, (int64_t) 2, (int64_t) 2),
                           absent, tref (OVA_DTYPE_FLOAT32, sc, 1, (int64_t) 4) };
    g_assert_true (run_op ("Resize", 13, &as, in, 3, out, 1, &err));
    float e[] = { 1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4 };
    assert_floats (&out[0], e, 16, 1e-6f);
    free_outs (out, 1);
  }
  /* linear, align_corners, 2 -> 4: source x = o / 3 */
  {
    float v[] = { 1, 2 }, e[] = { 1, 4.0f / 3, 5.0f / 3, 2 };
    resize_1d ("linear", "align_corners", NULL, v, 2, NULL, 4, e);
  }
  /* nearest with half_pixel, 2 -> 5 (scale 2.5): source x = (o + .5) / 2.5 - .5
   * = -0.3, 0.1, 0.5, 0.9, 1.3; only o = 2 is a tie */
  {
    float v[] = { 10, 20 };
    float ceil_e[] = { 10, 10, 20, 20, 20 }, floor_e[] = { 10, 10, 10, 20, 20 };
    resize_1d ("nearest", "half_pixel", "round_prefer_ceil", v, 2, NULL, 5, ceil_e);
    resize_1d ("nearest", "half_pixel", "round_prefer_floor", v, 2, NULL, 5, floor_e);
    /* asymmetric: x = o / 2.5 = 0, .4, .8, 1.2, 1.6; ceil clamps at the edge */
    float fl[] = { 10, 10, 10, 20, 20 }, ce[] = { 10, 20, 20, 20, 20 };
    resize_1d ("nearest", "asymmetric", "floor", v, 2, NULL, 5, fl);
    resize_1d ("nearest", "asymmetric", "ceil", v, 2, NULL, 5, ce);
    /* tf_half_pixel_for_nn: x = (o + .5) / 2.5 = .2, .6, 1, 1.4, 1.8 */
    float tf[] = { 10, 20, 20, 20, 20 };
    resize_1d ("nearest", "tf_half_pixel_for_nn", "round_prefer_floor", v, 2, NULL, 5, tf);
  }
  /* pytorch_half_pixel to one element reads x = -0.5 -> the first value */
  {
    float v[] = { 10, 20, 30 }, e[] = { 10 };
    resize_1d ("linear", "pytorch_half_pixel", NULL, v, 3, NULL, 1, e);
  }
  /* tf_crop_and_resize: roi [.5, 1.5] of 4 values, 3 outputs: x = 1.5, 3, 4.5
   * (4.5 is outside: extrapolation_value 10) */
  {
    float v[] = { 0, 1, 2, 3 }, roi[] = { 0.5f, 1.5f }, e[] = { 1.5f, 3, 10 };
    resize_1d ("linear", "tf_crop_and_resize", NULL, v, 4, roi, 3, e);
  }
  /* sizes unknown at load time: rank known, dims -1 */
  {
    Attrs as = { 0 };
    OvaTensorRef in[4] = { tref (OVA_DTYPE_FLOAT32, NULL, 4, (int64_t) -1, (int64_t) 3, (int64_t) 8, (int64_t) 8),
                           absent, absent, tref (OVA_DTYPE_INT64, NULL, 1, (int64_t) 4) };
    OvaOpNode node = { "Resize", "r", "", 13, as.n, as.a, 4, 1 };
    OvaTensorRef o = { 0 };
    g_assert_true (ova_op_lookup ("Resize")->infer (&node, in, 4, &o, 1, &err));
    int64_t e[] = { -1, -1, -1, -1 };
    assert_dims (&o, 4, e);
    /* scales known, batch symbolic */
    float sc[] = { 1, 1, 2, 2 };
    in[2] = tref (OVA_DTYPE_FLOAT32, sc, 1, (int64_t) 4);
    in[3] = absent;
    g_assert_true (ova_op_lookup ("Resize")->infer (&node, in, 4, &o, 1, &err));
    int64_t e2[] = { -1, 3, 16, 16 };
    assert_dims (&o, 4, e2);
  }
}

static void
pad_1d (const char *mode, const float *x, int n, int64_t pb, int64_t pe, const float *expect)
{
  GError *err = NULL;
  Attrs as = { 0 };
  attr_str (&as, "mode", mode);
  int64_t pads[] = { pb, pe };
  float value = 0;
  OvaTensorRef in[3] = { tref (OVA_DTYPE_FLOAT32, x, 1, (int64_t) n),
                         tref (OVA_DTYPE_INT64, pads, 1, (int64_t) 2),
                         tref (OVA_DTYPE_FLOAT32, &value, 0) };
  OvaTensorRef out[1];
  if (!run_op ("Pad", 18, &as, in, 3, out, 1, &err))
    g_error ("%s", err->message);
  assert_floats (&out[0], expect, (int) (n + pb + pe), 0);
  free_outs (out, 1);
}

static void
test_pad (void)
{
  GError *err = NULL;
  OvaTensorRef out[1];
  float x[] = { 1, 2, 3, 4 };
  /* constant 2-D: one row before, one column after, value 9 */
  int64_t pads[] = { 1, 0, 0, 1 };
  float nine = 9;
  OvaTensorRef in[3] = { tref (OVA_DTYPE_FLOAT32, x, 2, (int64_t) 2, (int64_t) 2),
                         tref (OVA_DTYPE_INT64, pads, 1, (int64_t) 4),
                         tref (OVA_DTYPE_FLOAT32, &nine, 0) };
  g_assert_true (run_op ("Pad", 13, NULL, in, 3, out, 1, &err));
  float e[] = { 9, 9, 9, 1, 2, 9, 3, 4, 9 };
  assert_floats (&out[0], e, 9, 0);
  free_outs (out, 1);
  float v[] = { 1, 2, 3 };
  float refl[] = { 3, 2, 1, 2, 3, 2, 1 }, edge[] = { 1, 1, 1, 2, 3, 3 }, wrap[] = { 3, 1, 2, 3, 1, 2 };
  pad_1d ("reflect", v, 3, 2, 2, refl);
  pad_1d ("edge", v, 3, 2, 1, edge);
  pad_1d ("wrap", v, 3, 1, 2, wrap);
  float crop[] = { 2, 3, 4, 0 };
  pad_1d ("constant", x, 4, -1, 1, crop);
  /* opset 18 axes input: pad only axis 1 (given as -1) */
  int64_t p2[] = { 1, 1 }, axes[] = { -1 };
  OvaTensorRef in4[4] = { tref (OVA_DTYPE_FLOAT32, x, 2, (int64_t) 2, (int64_t) 2),
                          tref (OVA_DTYPE_INT64, p2, 1, (int64_t) 2), absent,
                          tref (OVA_DTYPE_INT64, axes, 1, (int64_t) 1) };
  Attrs as = { 0 };
  attr_str (&as, "mode", "edge");
  g_assert_true (run_op ("Pad", 18, &as, in4, 4, out, 1, &err));
  float e2[] = { 1, 1, 2, 2, 3, 3, 4, 4 };
  assert_floats (&out[0], e2, 8, 0);
  free_outs (out, 1);
  /* opset 2: pads and value as attributes */
  Attrs old = { 0 };
  int64_t op[] = { 0, 2 };
  attr_ints (&old, "pads", op, 2);
  attr_float (&old, "value", 5.0f);
  in[0] = tref (OVA_DTYPE_FLOAT32, v, 1, (int64_t) 3);
  g_assert_true (run_op ("Pad", 2, &old, in, 1, out, 1, &err));
  float e3[] = { 1, 2, 3, 5, 5 };
  assert_floats (&out[0], e3, 5, 0);
  free_outs (out, 1);
}

static void
slice_case (const int64_t *starts, const int64_t *ends, const int64_t *axes, const int64_t *steps,
            int n, const float *x, int rank, const int64_t *dims, const int64_t *edims,
            const float *expect)
{
  GError *err = NULL;
  OvaTensorRef in[5] = { { OVA_DTYPE_FLOAT32, rank } };
  memcpy (in[0].dims, dims, sizeof (int64_t) * rank);
  in[0].data = (void *) x;
  in[1] = tref (OVA_DTYPE_INT64, starts, 1, (int64_t) n);
  in[2] = tref (OVA_DTYPE_INT64, ends, 1, (int64_t) n);
  in[3] = axes ? tref (OVA_DTYPE_INT64, axes, 1, (int64_t) n) : absent;
  in[4] = steps ? tref (OVA_DTYPE_INT64, steps, 1, (int64_t) n) : absent;
  OvaTensorRef out[1];
  if (!run_op ("Slice", 13, NULL, in, 5, out, 1, &err))
    g_error ("%s", err->message);
  assert_dims (&out[0], rank, edims);
  assert_floats (&out[0], expect, (int) ova_tensor_ref_numel (&out[0]), 0);
  free_outs (out, 1);
}

static void
test_slice (void)
{
  float x[10];
  for (int i = 0; i < 10; i++)
    x[i] = (float) i;
  int64_t d10[] = { 10 };
  {
    int64_t s[] = { 8 }, e[] = { 1 }, st[] = { -3 }, ed[] = { 3 };
    float ex[] = { 8, 5, 2 };
    slice_case (s, e, NULL, st, 1, x, 1, d10, ed, ex);
  }
  { /* full reverse with INT64_MIN as end */
    int64_t s[] = { -1 }, e[] = { INT64_MIN }, st[] = { -1 }, ed[] = { 10 };
    float ex[] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0 };
    slice_case (s, e, NULL, st, 1, x, 1, d10, ed, ex);
  }
  { /* out-of-bounds start: empty */
    int64_t s[] = { 100 }, e[] = { 200 }, ed[] = { 0 };
    slice_case (s, e, NULL, NULL, 1, x, 1, d10, ed, NULL);
  }
  { /* 2-D, axis -1 only, step -2 from the last column */
    float m[] = { 0, 1, 2, 3, 4, 5, 6, 7 };
    int64_t d[] = { 2, 4 }, s[] = { -1 }, e[] = { -100 }, a[] = { -1 }, st[] = { -2 }, ed[] = { 2, 2 };
    float ex[] = { 3, 1, 7, 5 };
    slice_case (s, e, a, st, 1, m, 2, d, ed, ex);
  }
  { /* ends beyond the dimension clamp; INT64_MAX end */
    int64_t s[] = { 7 }, e[] = { INT64_MAX }, ed[] = { 3 };
    float ex[] = { 7, 8, 9 };
    slice_case (s, e, NULL, NULL, 1, x, 1, d10, ed, ex);
  }
}

static void
einsum_case (const char *eq, const OvaTensorRef *in, int n, int rank, const int64_t *edims,
             const float *expect)
{
  GError *err = NULL;
  Attrs as = { 0 };
  attr_str (&as, "equation", eq);
  OvaTensorRef out[1];
  if (!run_op ("Einsum", 12, &as, in, n, out, 1, &err))
    g_error ("%s: %s", eq, err->message);
  assert_dims (&out[0], rank, edims);
  assert_floats (&out[0], expect, (int) ova_tensor_ref_numel (&out[0]), 1e-5f);
  free_outs (out, 1);
}

static void
test_einsum (void)
{
  float a[] = { 1, 2, 3, 4, 5, 6 };          /* 2x3 */
  float b[] = { 1, 0, 0, 1, 1, 1 };          /* 3x2 */
  OvaTensorRef ab[2] = { tref (OVA_DTYPE_FLOAT32, a, 2, (int64_t) 2, (int64_t) 3),
                         tref (OVA_DTYPE_FLOAT32, b, 2, (int64_t) 3, (int64_t) 2) };
  int64_t d22[] = { 2, 2 }, d32[] = { 3, 2 }, d2[] = { 2 };
  float mm[] = { 4, 5, 10, 11 };
  einsum_case ("ij,jk->ik", ab, 2, 2, d22, mm);
  einsum_case ("ij,jk", ab, 2, 2, d22, mm); /* implicit output */
  float tr[] = { 1, 4, 2, 5, 3, 6 };
  einsum_case ("ij->ji", ab, 1, 2, d32, tr);
  float rs[] = { 6, 15 };
  einsum_case ("ij->i", ab, 1, 1, d2, rs);
  float all[] = { 21 };
  einsum_case ("ij->", ab, 1, 0, NULL, all);
  float sq[] = { 1, 2, 3, 4 };
  OvaTensorRef s1[1] = { tref (OVA_DTYPE_FLOAT32, sq, 2, (int64_t) 2, (int64_t) 2) };
  float diag[] = { 1, 4 };
  einsum_case ("ii->i", s1, 1, 1, d2, diag);
  float trace[] = { 5 };
  einsum_case ("ii", s1, 1, 0, NULL, trace);
  /* outer product */
  float u[] = { 1, 2 }, v[] = { 3, 4, 5 };
  OvaTensorRef uv[2] = { tref (OVA_DTYPE_FLOAT32, u, 1, (int64_t) 2), tref (OVA_DTYPE_FLOAT32, v, 1, (int64_t) 3) };
  int64_t d23[] = { 2, 3 };
  float outer[] = { 3, 4, 5, 6, 8, 10 };
  einsum_case ("i,j->ij", uv, 2, 2, d23, outer);
  /* inner product */
  OvaTensorRef uu[2] = { tref (OVA_DTYPE_FLOAT32, u, 1, (int64_t) 2), tref (OVA_DTYPE_FLOAT32, u, 1, (int64_t) 2) };
  float dot[] = { 5 };
  einsum_case ("i,i", uu, 2, 0, NULL, dot);
  /* batched matmul with ellipsis: [2,1,2] x [2,2,1] */
  float p[] = { 1, 2, 3, 4 }, q[] = { 1, 1, 2, 0 };
  OvaTensorRef pq[2] = { tref (OVA_DTYPE_FLOAT32, p, 3, (int64_t) 2, (int64_t) 1, (int64_t) 2),
                         tref (OVA_DTYPE_FLOAT32, q, 3, (int64_t) 2, (int64_t) 2, (int64_t) 1) };
  int64_t d211[] = { 2, 1, 1 };
  float bm[] = { 3, 6 };
  einsum_case ("...ij,...jk->...ik", pq, 2, 3, d211, bm);
  einsum_case ("bij, bjk -> bik", pq, 2, 3, d211, bm);
  /* a bad equation is an error */
  GError *err = NULL;
  Attrs as = { 0 };
  attr_str (&as, "equation", "ij,jk->iz");
  OvaTensorRef out[1];
  g_assert_false (run_op ("Einsum", 12, &as, ab, 2, out, 1, &err));
  g_assert_error (err, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_SHAPE);
  g_clear_error (&err);
}

static void
nms_case (const float *boxes, int nb, const float *scores, int nc, int64_t max_out, float iou,
          float score_th, gboolean center, const int64_t *expect, int n_expect)
{
  GError *err = NULL;
  Attrs as = { 0 };
  if (center)
    attr_int (&as, "center_point_box", 1);
  OvaTensorRef in[5] = { tref (OVA_DTYPE_FLOAT32, boxes, 3, (int64_t) 1, (int64_t) nb, (int64_t) 4),
                         tref (OVA_DTYPE_FLOAT32, scores, 3, (int64_t) 1, (int64_t) nc, (int64_t) nb),
                         tref (OVA_DTYPE_INT64, &max_out, 1, (int64_t) 1),
                         tref (OVA_DTYPE_FLOAT32, &iou, 1, (int64_t) 1),
                         tref (OVA_DTYPE_FLOAT32, &score_th, 1, (int64_t) 1) };
  /* without data only the width of the output is known */
  OvaOpNode node = { "NonMaxSuppression", "nms", "", 11, as.n, as.a, 5, 1 };
  OvaTensorRef nd[5];
  memcpy (nd, in, sizeof nd);
  nd[0].data = nd[1].data = NULL;
  OvaTensorRef o = { 0 };
  g_assert_true (ova_op_lookup ("NonMaxSuppression")->infer (&node, nd, 5, &o, 1, &err));
  int64_t unk[] = { -1, 3 };
  assert_dims (&o, 2, unk);
  OvaTensorRef out[1];
  if (!run_op ("NonMaxSuppression", 11, &as, in, 5, out, 1, &err))
    g_error ("%s", err->message);
  int64_t ed[] = { n_expect, 3 };
  assert_dims (&out[0], 2, ed);
  assert_i64 (&out[0], expect, n_expect * 3);
  free_outs (out, 1);
}

static void
test_nms (void)
{
  /* A and B overlap with IoU 0.9 / 1.1 = 0.82; C is far away */
  float boxes[] = { 0, 0, 1, 1, 0, 0.1f, 1, 1.1f, 0, 10, 1, 11 };
  float scores[] = { 0.9f, 0.95f, 0.3f };
  int64_t e1[] = { 0, 0, 1, 0, 0, 2 };
  nms_case (boxes, 3, scores, 1, 3, 0.5f, 0.0f, FALSE, e1, 2);
  /* IoU threshold above 0.82 keeps all three, by descending score */
  int64_t e2[] = { 0, 0, 1, 0, 0, 0, 0, 0, 2 };
  nms_case (boxes, 3, scores, 1, 3, 0.9f, 0.0f, FALSE, e2, 3);
  /* max_output_boxes_per_class 1, and a score threshold */
  nms_case (boxes, 3, scores, 1, 1, 0.5f, 0.0f, FALSE, e1, 1);
  nms_case (boxes, 3, scores, 1, 3, 0.5f, 0.5f, FALSE, e1, 1);
  /* flipped corners are the same boxes */
  float flipped[] = { 1, 1, 0, 0, 1, 1.1f, 0, 0.1f, 1, 11, 0, 10 };
  nms_case (flipped, 3, scores, 1, 3, 0.5f, 0.0f, FALSE, e1, 2);
  /* centre format: [xc, yc, w, h] of the same boxes (x and y swapped) */
  float centre[] = { 0.5f, 0.5f, 1, 1, 0.6f, 0.5f, 1, 1, 10.5f, 0.5f, 1, 1 };
  nms_case (centre, 3, scores, 1, 3, 0.5f, 0.0f, TRUE, e1, 2);
  /* two classes; equal scores: the lower index first */
  float s2[] = { 0.9f, 0.95f, 0.3f, 0.5f, 0.5f, 0.5f };
  int64_t e3[] = { 0, 0, 1, 0, 0, 2, 0, 1, 0, 0, 1, 2 };
  nms_case (boxes, 3, s2, 2, 3, 0.5f, 0.0f, FALSE, e3, 4);
  /* max_output_boxes_per_class 0: nothing */
  nms_case (boxes, 3, scores, 1, 0, 0.5f, 0.0f, FALSE, NULL, 0);
}

static void
topk_case (const float *x, int n, int64_t k, gboolean largest, const float *ev, const int64_t *ei)
{
  GError *err = NULL;
  Attrs as = { 0 };
  attr_int (&as, "largest", largest);
  OvaTensorRef in[2] = { tref (OVA_DTYPE_FLOAT32, x, 1, (int64_t) n), tref (OVA_DTYPE_INT64, &k, 1, (int64_t) 1) };
  OvaTensorRef out[2];
  if (!run_op ("TopK", 11, &as, in, 2, out, 2, &err))
    g_error ("%s", err->message);
  assert_floats (&out[0], ev, (int) k, 0);
  assert_i64 (&out[1], ei, (int) k);
  free_outs (out, 2);
}

static void
test_topk (void)
{
  float x[] = { 3, 1, 3, 2, 3 };
  float v1[] = { 3, 3, 3 }, v2[] = { 1, 2 };
  int64_t i1[] = { 0, 2, 4 }, i2[] = { 1, 3 };
  topk_case (x, 5, 3, TRUE, v1, i1);
  topk_case (x, 5, 2, FALSE, v2, i2);
  float y[] = { 1, 1, 0 }, v3[] = { 0, 1 };
  int64_t i3[] = { 2, 0 };
  topk_case (y, 3, 2, FALSE, v3, i3);
  /* along axis 0 of a 3x2 matrix */
  GError *err = NULL;
  float m[] = { 1, 6, 5, 2, 3, 4 };
  int64_t k = 2;
  Attrs as = { 0 };
  attr_int (&as, "axis", 0);
  OvaTensorRef in[2] = { tref (OVA_DTYPE_FLOAT32, m, 2, (int64_t) 3, (int64_t) 2), tref (OVA_DTYPE_INT64, &k, 1, (int64_t) 1) };
  OvaTensorRef out[2];
  g_assert_true (run_op ("TopK", 11, &as, in, 2, out, 2, &err));
  float ev[] = { 5, 6, 3, 4 };
  int64_t ei[] = { 1, 0, 2, 2 };
  assert_floats (&out[0], ev, 4, 0);
  assert_i64 (&out[1], ei, 4);
  free_outs (out, 2);
  /* k larger than the axis is an error */
  k = 9;
  g_assert_false (run_op ("TopK", 11, &as, in, 2, out, 2, &err));
  g_assert_error (err, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_SHAPE);
  g_clear_error (&err);
}

static void *
test_alloc (gpointer user, size_t bytes)
{
  GPtrArray *keep = user;
  void *p = g_malloc0 (MAX (1, bytes));
  g_ptr_array_add (keep, p);
  return p;
}

/* ova_op_run_dynamic: data-dependent output sizes (NonZero, NMS, Range). */
static void
test_run_dynamic (void)
{
  GError *err = NULL;
  GPtrArray *keep = g_ptr_array_new_with_free_func (g_free);
  OvaOpNode node = { "NonZero", "nz", "", 13, 0, NULL, 1, 1 };
  float x[] = { 0, 2, 0, 3, 4, 0 };
  OvaTensorRef in[1] = { tref (OVA_DTYPE_FLOAT32, x, 2, (int64_t) 2, (int64_t) 3) }, out[1];
  /* load time: the count is unknown */
  OvaTensorRef nd = in[0];
  nd.data = NULL;
  g_assert_true (ova_op_lookup ("NonZero")->infer (&node, &nd, 1, out, 1, &err));
  int64_t unk[] = { 2, -1 };
  assert_dims (&out[0], 2, unk);
  g_assert_true (ova_op_run_dynamic (ova_op_lookup ("NonZero"), &node, in, 1, out, 1, test_alloc, keep, &err));
  int64_t d[] = { 2, 3 }, e[] = { 0, 1, 1, 1, 0, 1 };
  assert_dims (&out[0], 2, d);
  assert_i64 (&out[0], e, 6);
  /* Range from values */
  int64_t s = 10, l = 1, dl = -4;
  OvaTensorRef ri[3] = { tref (OVA_DTYPE_INT64, &s, 0), tref (OVA_DTYPE_INT64, &l, 0), tref (OVA_DTYPE_INT64, &dl, 0) };
  OvaOpNode rn = { "Range", "r", "", 13, 0, NULL, 3, 1 };
  g_assert_true (ova_op_run_dynamic (ova_op_lookup ("Range"), &rn, ri, 3, out, 1, test_alloc, keep, &err));
  int64_t er[] = { 10, 6, 2 };
  assert_i64 (&out[0], er, 3);
  /* an input without data is an argument error */
  g_assert_false (ova_op_run_dynamic (ova_op_lookup ("NonZero"), &node, &nd, 1, out, 1, test_alloc, keep, &err));
  g_assert_error (err, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_ARGUMENT);
  g_clear_error (&err);
  g_ptr_array_unref (keep);
}

/* Shape inference with a symbolic batch and values not yet known. */
static void
test_symbolic (void)
{
  GError *err = NULL;
  OvaTensorRef o[2];
  /* Conv on [-1, 3, 32, 32] */
  {
    Attrs as = { 0 };
    int64_t st[] = { 2, 2 }, pads[] = { 1, 1, 1, 1 };
    attr_ints (&as, "strides", st, 2);
    attr_ints (&as, "pads", pads, 4);
    OvaTensorRef in[2] = { tref (OVA_DTYPE_FLOAT32, NULL, 4, (int64_t) -1, (int64_t) 3, (int64_t) 32, (int64_t) 32),
                           tref (OVA_DTYPE_FLOAT32, NULL, 4, (int64_t) 16, (int64_t) 3, (int64_t) 3, (int64_t) 3) };
    OvaOpNode node = { "Conv", "c", "", 13, as.n, as.a, 2, 1 };
    g_assert_true (ova_op_lookup ("Conv")->infer (&node, in, 2, o, 1, &err));
    int64_t e[] = { -1, 16, 16, 16 };
    assert_dims (&o[0], 4, e);
  }
  /* Reshape [-1, 85, 8, 8] by [0, 85, -1] (a constant) */
  {
    int64_t shape[] = { 0, 85, -1 };
    OvaTensorRef in[2] = { tref (OVA_DTYPE_FLOAT32, NULL, 4, (int64_t) -1, (int64_t) 85, (int64_t) 8, (int64_t) 8),
                           tref (OVA_DTYPE_INT64, shape, 1, (int64_t) 3) };
    OvaOpNode node = { "Reshape", "r", "", 14, 0, NULL, 2, 1 };
    g_assert_true (ova_op_lookup ("Reshape")->infer (&node, in, 2, o, 1, &err));
    int64_t e[] = { -1, 85, -1 };
    assert_dims (&o[0], 3, e);
    /* with the batch known the -1 resolves */
    in[0].dims[0] = 2;
    g_assert_true (ova_op_lookup ("Reshape")->infer (&node, in, 2, o, 1, &err));
    int64_t e2[] = { 2, 85, 64 };
    assert_dims (&o[0], 3, e2);
    /* element count mismatch */
    shape[1] = 7;
    shape[2] = 3;
    g_assert_false (ova_op_lookup ("Reshape")->infer (&node, in, 2, o, 1, &err));
    g_assert_error (err, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_SHAPE);
    g_clear_error (&err);
  }
  /* Concat along 1 with a symbolic batch */
  {
    OvaTensorRef in[2] = { tref (OVA_DTYPE_FLOAT32, NULL, 3, (int64_t) -1, (int64_t) 4, (int64_t) 85),
                           tref (OVA_DTYPE_FLOAT32, NULL, 3, (int64_t) -1, (int64_t) 6, (int64_t) 85) };
    Attrs as = { 0 };
    attr_int (&as, "axis", 1);
    OvaOpNode node = { "Concat", "c", "", 13, as.n, as.a, 2, 1 };
    g_assert_true (ova_op_lookup ("Concat")->infer (&node, in, 2, o, 1, &err));
    int64_t e[] = { -1, 10, 85 };
    assert_dims (&o[0], 3, e);
  }
  /* Unsqueeze with axes not known yet: rank only */
  {
    OvaTensorRef in[2] = { tref (OVA_DTYPE_FLOAT32, NULL, 2, (int64_t) 3, (int64_t) 4),
                           tref (OVA_DTYPE_INT64, NULL, 1, (int64_t) 2) };
    OvaOpNode node = { "Unsqueeze", "u", "", 13, 0, NULL, 2, 1 };
    g_assert_true (ova_op_lookup ("Unsqueeze")->infer (&node, in, 2, o, 1, &err));
    g_assert_cmpint (o[0].rank, ==, 4);
    g_assert_cmpint (o[0].dims[0], ==, -1);
  }
  /* Squeeze (opset 11, axes attribute) and Split (opset 13 with sizes) */
  {
    Attrs as = { 0 };
    int64_t axes[] = { 0, -1 };
    attr_ints (&as, "axes", axes, 2);
    OvaTensorRef in[2] = { tref (OVA_DTYPE_FLOAT32, NULL, 3, (int64_t) 1, (int64_t) 5, (int64_t) 1) };
    OvaOpNode node = { "Squeeze", "s", "", 11, as.n, as.a, 1, 1 };
    g_assert_true (ova_op_lookup ("Squeeze")->infer (&node, in, 1, o, 1, &err));
    int64_t e[] = { 5 };
    assert_dims (&o[0], 1, e);
    int64_t split[] = { 2, 3 };
    in[0] = tref (OVA_DTYPE_FLOAT32, NULL, 2, (int64_t) -1, (int64_t) 5);
    in[1] = tref (OVA_DTYPE_INT64, split, 1, (int64_t) 2);
    Attrs sa = { 0 };
    attr_int (&sa, "axis", 1);
    OvaOpNode sn = { "Split", "s", "", 13, sa.n, sa.a, 2, 2 };
    g_assert_true (ova_op_lookup ("Split")->infer (&sn, in, 2, o, 2, &err));
    int64_t e0[] = { -1, 2 }, e1[] = { -1, 3 };
    assert_dims (&o[0], 2, e0);
    assert_dims (&o[1], 2, e1);
  }
}

static void
test_clip_cast_gather (void)
{
  GError *err = NULL;
  OvaTensorRef out[1];
  /* Clip: opset 6 attributes, opset 13 inputs (max only) */
  float x[] = { -2, -0.5f, 0.5f, 2 };
  Attrs as = { 0 };
  attr_float (&as, "min", -1);
  attr_float (&as, "max", 1);
  OvaTensorRef in[3] = { tref (OVA_DTYPE_FLOAT32, x, 1, (int64_t) 4) };
  g_assert_true (run_op ("Clip", 6, &as, in, 1, out, 1, &err));
  float e1[] = { -1, -0.5f, 0.5f, 1 };
  assert_floats (&out[0], e1, 4, 0);
  free_outs (out, 1);
  float mx = 0;
  in[1] = absent;
  in[2] = tref (OVA_DTYPE_FLOAT32, &mx, 0);
  g_assert_true (run_op ("Clip", 13, NULL, in, 3, out, 1, &err));
  float e2[] = { -2, -0.5f, 0, 0 };
  assert_floats (&out[0], e2, 4, 0);
  free_outs (out, 1);
  /* Cast float -> int64 truncates, -> uint8 and bool */
  Attrs ca = { 0 };
  attr_int (&ca, "to", OVA_DTYPE_INT64);
  g_assert_true (run_op ("Cast", 13, &ca, in, 1, out, 1, &err));
  int64_t e3[] = { -2, 0, 0, 2 };
  assert_i64 (&out[0], e3, 4);
  free_outs (out, 1);
  Attrs cb = { 0 };
  attr_int (&cb, "to", OVA_DTYPE_BOOL);
  g_assert_true (run_op ("Cast", 13, &cb, in, 1, out, 1, &err));
  g_assert_cmpmem (out[0].data, 4, "\1\1\1\1", 4);
  free_outs (out, 1);
  /* sizes read from values are bounded: absurd outputs are errors, not
   * allocations */
  {
    float one = 1;
    int64_t huge[] = { 1 << 20, 1 << 20, 1 << 20 }, start = 0, limit = INT64_MAX, delta = 1;
    OvaTensorRef ei[2] = { tref (OVA_DTYPE_FLOAT32, &one, 0), tref (OVA_DTYPE_INT64, huge, 1, (int64_t) 3) };
    g_assert_false (run_op ("Expand", 13, NULL, ei, 2, out, 1, &err));
    g_assert_error (err, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_SHAPE);
    g_clear_error (&err);
    g_assert_false (run_op ("ConstantOfShape", 13, NULL, &ei[1], 1, out, 1, &err));
    g_assert_error (err, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_SHAPE);
    g_clear_error (&err);
    OvaTensorRef ri[3] = { tref (OVA_DTYPE_INT64, &start, 0), tref (OVA_DTYPE_INT64, &limit, 0),
                           tref (OVA_DTYPE_INT64, &delta, 0) };
    g_assert_false (run_op ("Range", 13, NULL, ri, 3, out, 1, &err));
    g_assert_error (err, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_SHAPE);
    g_clear_error (&err);
  }
  /* Mish (no ONNX node test in this data set): x tanh(ln(1 + e^x)) */
  float mx_in[] = { 1, -2, 30 };
  OvaTensorRef mi[1] = { tref (OVA_DTYPE_FLOAT32, mx_in, 1, (int64_t) 3) };
  g_assert_true (run_op ("Mish", 18, NULL, mi, 1, out, 1, &err));
  float mish[] = { 0.8650983882673103f, -0.2525014826656187f, 30 };
  assert_floats (&out[0], mish, 3, 1e-6f);
  free_outs (out, 1);
  /* RoiAlign, one sample at (0.5, 0.5) of [[1, 2], [3, 4]]: bilinear weights
   * 1/4 each -> avg 2.5; max mode (as ONNX Runtime) takes the largest
   * weighted corner, 4 / 4 = 1 */
  {
    float img[] = { 1, 2, 3, 4 }, roi[] = { 0, 0, 1, 1 };
    int64_t bi = 0;
    OvaTensorRef ri[3] = { tref (OVA_DTYPE_FLOAT32, img, 4, (int64_t) 1, (int64_t) 1, (int64_t) 2, (int64_t) 2),
                           tref (OVA_DTYPE_FLOAT32, roi, 2, (int64_t) 1, (int64_t) 4),
                           tref (OVA_DTYPE_INT64, &bi, 1, (int64_t) 1) };
    Attrs ra = { 0 };
    attr_int (&ra, "sampling_ratio", 1);
    attr_str (&ra, "coordinate_transformation_mode", "output_half_pixel");
    g_assert_true (run_op ("RoiAlign", 16, &ra, ri, 3, out, 1, &err));
    float avg = 2.5f;
    assert_floats (&out[0], &avg, 1, 1e-6f);
    free_outs (out, 1);
    attr_str (&ra, "mode", "max");
    g_assert_true (run_op ("RoiAlign", 16, &ra, ri, 3, out, 1, &err));
    float mx = 1.0f;
    assert_floats (&out[0], &mx, 1, 1e-6f);
    free_outs (out, 1);
  }
  /* Gather with negative indices on axis 1 */
  float m[] = { 1, 2, 3, 4, 5, 6 };
  int32_t idx[] = { -1, 0 };
  Attrs ga = { 0 };
  attr_int (&ga, "axis", 1);
  OvaTensorRef gi[2] = { tref (OVA_DTYPE_FLOAT32, m, 2, (int64_t) 2, (int64_t) 3),
                         tref (OVA_DTYPE_INT32, idx, 1, (int64_t) 2) };
  g_assert_true (run_op ("Gather", 13, &ga, gi, 2, out, 1, &err));
  float e4[] = { 3, 1, 6, 4 };
  assert_floats (&out[0], e4, 4, 0);
  free_outs (out, 1);
  idx[0] = 3;
  g_assert_false (run_op ("Gather", 13, &ga, gi, 2, out, 1, &err));
  g_assert_error (err, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_SHAPE);
  g_clear_error (&err);
}

/* Attribute forms of older opsets next to the input forms of newer ones. */
static void
test_opset_forms (void)
{
  GError *err = NULL;
  OvaTensorRef out[3];
  float x[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 }; /* [2, 2, 3] */
  /* Split: opset 11 'split' attribute, opset 13 input, opset 18 num_outputs (uneven) */
  {
    Attrs as = { 0 };
    int64_t sp[] = { 1, 2 };
    attr_int (&as, "axis", -1);
    attr_ints (&as, "split", sp, 2);
    OvaTensorRef in[2] = { tref (OVA_DTYPE_FLOAT32, x, 3, (int64_t) 2, (int64_t) 2, (int64_t) 3) };
    g_assert_true (run_op ("Split", 11, &as, in, 1, out, 2, &err));
    float e0[] = { 0, 3, 6, 9 }, e1[] = { 1, 2, 4, 5, 7, 8, 10, 11 };
    assert_floats (&out[0], e0, 4, 0);
    assert_floats (&out[1], e1, 8, 0);
    free_outs (out, 2);
    Attrs bs = { 0 };
    attr_int (&bs, "axis", -1);
    in[1] = tref (OVA_DTYPE_INT64, sp, 1, (int64_t) 2);
    g_assert_true (run_op ("Split", 13, &bs, in, 2, out, 2, &err));
    assert_floats (&out[1], e1, 8, 0);
    free_outs (out, 2);
    Attrs cs = { 0 };
    attr_int (&cs, "axis", 2);
    attr_int (&cs, "num_outputs", 2);
    g_assert_true (run_op ("Split", 18, &cs, in, 1, out, 2, &err));
    float f0[] = { 0, 1, 3, 4, 6, 7, 9, 10 }, f1[] = { 2, 5, 8, 11 };
    assert_floats (&out[0], f0, 8, 0);
    assert_floats (&out[1], f1, 4, 0);
    free_outs (out, 2);
    /* uneven without num_outputs is an error before opset 18 */
    g_assert_false (run_op ("Split", 13, &bs, in, 1, out, 2, &err));
    g_assert_error (err, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_SHAPE);
    g_clear_error (&err);
  }
  /* ReduceSum: opset 11 attribute, opset 13 input, noop_with_empty_axes;
   * ReduceMean opset 18 input with keepdims 0 */
  {
    Attrs as = { 0 };
    int64_t axes[] = { 0, 2 };
    attr_ints (&as, "axes", axes, 2);
    OvaTensorRef in[2] = { tref (OVA_DTYPE_FLOAT32, x, 3, (int64_t) 2, (int64_t) 2, (int64_t) 3) };
    g_assert_true (run_op ("ReduceSum", 11, &as, in, 1, out, 1, &err));
    int64_t d[] = { 1, 2, 1 };
    float e[] = { 0 + 1 + 2 + 6 + 7 + 8, 3 + 4 + 5 + 9 + 10 + 11 };
    assert_dims (&out[0], 3, d);
    assert_floats (&out[0], e, 2, 0);
    free_outs (out, 1);
    in[1] = tref (OVA_DTYPE_INT64, axes, 1, (int64_t) 2);
    g_assert_true (run_op ("ReduceSum", 13, NULL, in, 2, out, 1, &err));
    assert_floats (&out[0], e, 2, 0);
    free_outs (out, 1);
    Attrs ns = { 0 };
    attr_int (&ns, "noop_with_empty_axes", 1);
    in[1] = tref (OVA_DTYPE_INT64, axes, 1, (int64_t) 0);
    g_assert_true (run_op ("ReduceSum", 13, &ns, in, 2, out, 1, &err));
    assert_floats (&out[0], x, 12, 0);
    free_outs (out, 1);
    g_assert_true (run_op ("ReduceSum", 13, NULL, in, 2, out, 1, &err)); /* empty: all */
    float all = 66;
    assert_floats (&out[0], &all, 1, 0);
    free_outs (out, 1);
    Attrs ks = { 0 };
    attr_int (&ks, "keepdims", 0);
    in[1] = tref (OVA_DTYPE_INT64, axes, 1, (int64_t) 2);
    g_assert_true (run_op ("ReduceMean", 18, &ks, in, 2, out, 1, &err));
    int64_t d2[] = { 2 };
    float m[] = { e[0] / 6, e[1] / 6 };
    assert_dims (&out[0], 1, d2);
    assert_floats (&out[0], m, 2, 1e-6f);
    free_outs (out, 1);
  }
  /* Squeeze / Unsqueeze: opset 11 attributes, opset 13 inputs */
  {
    Attrs as = { 0 };
    int64_t ax[] = { -1, 0 };
    attr_ints (&as, "axes", ax, 2);
    OvaTensorRef in[2] = { tref (OVA_DTYPE_FLOAT32, x, 2, (int64_t) 3, (int64_t) 4) };
    g_assert_true (run_op ("Unsqueeze", 11, &as, in, 1, out, 1, &err));
    int64_t d[] = { 1, 3, 4, 1 };
    assert_dims (&out[0], 4, d);
    assert_floats (&out[0], x, 12, 0);
    OvaTensorRef sq[2] = { out[0], tref (OVA_DTYPE_INT64, ax, 1, (int64_t) 2) };
    OvaTensorRef o2[1];
    g_assert_true (run_op ("Squeeze", 13, NULL, sq, 2, o2, 1, &err));
    int64_t d2[] = { 3, 4 };
    assert_dims (&o2[0], 2, d2);
    free_outs (o2, 1);
    g_assert_true (run_op ("Squeeze", 11, NULL, sq, 1, o2, 1, &err)); /* all size-1 axes */
    assert_dims (&o2[0], 2, d2);
    free_outs (o2, 1);
    free_outs (out, 1);
  }
  /* Softmax: opset 11 coerces to 2-D at axis, opset 13 works on one axis */
  {
    float v[] = { 0, 1, 2, 3 }; /* [1, 2, 2] */
    OvaTensorRef in[1] = { tref (OVA_DTYPE_FLOAT32, v, 3, (int64_t) 1, (int64_t) 2, (int64_t) 2) };
    Attrs as = { 0 };
    attr_int (&as, "axis", 1);
    g_assert_true (run_op ("Softmax", 11, &as, in, 1, out, 1, &err));
    double z = exp (0) + exp (1) + exp (2) + exp (3);
    float e11[] = { (float) (1 / z), (float) (exp (1) / z), (float) (exp (2) / z), (float) (exp (3) / z) };
    assert_floats (&out[0], e11, 4, 1e-6f);
    free_outs (out, 1);
    g_assert_true (run_op ("Softmax", 13, &as, in, 1, out, 1, &err));
    float a = (float) (1 / (1 + exp (2))), b = 1 - a;
    float e13[] = { a, a, b, b };
    assert_floats (&out[0], e13, 4, 1e-6f);
    free_outs (out, 1);
  }
  /* Resize opset 10 (X, scales): asymmetric nearest; Upsample 7 (attribute)
   * and 9 (input) */
  {
    float v[] = { 1, 2 }, sc[] = { 1, 2 };
    OvaTensorRef in[2] = { tref (OVA_DTYPE_FLOAT32, v, 2, (int64_t) 1, (int64_t) 2),
                           tref (OVA_DTYPE_FLOAT32, sc, 1, (int64_t) 2) };
    float e[] = { 1, 1, 2, 2 };
    g_assert_true (run_op ("Resize", 10, NULL, in, 2, out, 1, &err));
    assert_floats (&out[0], e, 4, 0);
    free_outs (out, 1);
    g_assert_true (run_op ("Upsample", 9, NULL, in, 2, out, 1, &err));
    assert_floats (&out[0], e, 4, 0);
    free_outs (out, 1);
    Attrs as = { 0 };
    as.a[0] = (OvaAttr) { .name = "scales", .type = OVA_ATTR_FLOATS, .floats = sc, .n = 2 };
    as.n = 1;
    g_assert_true (run_op ("Upsample", 7, &as, in, 1, out, 1, &err));
    assert_floats (&out[0], e, 4, 0);
    free_outs (out, 1);
    attr_str (&as, "mode", "linear");
    g_assert_true (run_op ("Upsample", 7, &as, in, 1, out, 1, &err));
    float l[] = { 1, 1.5f, 2, 2 };
    assert_floats (&out[0], l, 4, 1e-6f);
    free_outs (out, 1);
  }
  /* TopK opset 1: k attribute; Slice opset 1: attributes */
  {
    float v[] = { 5, 9, 1, 7 };
    Attrs as = { 0 };
    attr_int (&as, "k", 2);
    OvaTensorRef in[1] = { tref (OVA_DTYPE_FLOAT32, v, 1, (int64_t) 4) };
    g_assert_true (run_op ("TopK", 1, &as, in, 1, out, 2, &err));
    float e[] = { 9, 7 };
    int64_t ei[] = { 1, 3 };
    assert_floats (&out[0], e, 2, 0);
    assert_i64 (&out[1], ei, 2);
    free_outs (out, 2);
    Attrs sl = { 0 };
    int64_t st[] = { 1 }, en[] = { -1 };
    attr_ints (&sl, "starts", st, 1);
    attr_ints (&sl, "ends", en, 1);
    g_assert_true (run_op ("Slice", 1, &sl, in, 1, out, 1, &err));
    float es[] = { 9, 1 };
    assert_floats (&out[0], es, 2, 0);
    free_outs (out, 1);
  }
  /* Dropout: opset 7 (no inputs besides X), opset 12 with ratio and
   * training_mode false; the mask is all true */
  {
    float v[] = { 1, 2, 3 }, ratio = 0.5f;
    uint8_t train = 0;
    OvaTensorRef in[3] = { tref (OVA_DTYPE_FLOAT32, v, 1, (int64_t) 3), tref (OVA_DTYPE_FLOAT32, &ratio, 0),
                           tref (OVA_DTYPE_BOOL, &train, 0) };
    g_assert_true (run_op ("Dropout", 7, NULL, in, 1, out, 2, &err));
    assert_floats (&out[0], v, 3, 0);
    g_assert_cmpmem (out[1].data, 3, "\1\1\1", 3);
    free_outs (out, 2);
    g_assert_true (run_op ("Dropout", 12, NULL, in, 3, out, 2, &err));
    assert_floats (&out[0], v, 3, 0);
    free_outs (out, 2);
    /* training mode draws as numpy's legacy generator: np.random.seed(0);
     * np.random.uniform(0, 1, 3) = 0.5488, 0.7152, 0.6028; ratio 0.6 drops
     * the first and scales the rest by 1 / 0.4 */
    train = 1;
    ratio = 0.6f;
    Attrs sd = { 0 };
    attr_int (&sd, "seed", 0);
    g_assert_true (run_op ("Dropout", 13, &sd, in, 3, out, 2, &err));
    float et[] = { 0, 5, 7.5f };
    assert_floats (&out[0], et, 3, 1e-5f);
    g_assert_cmpmem (out[1].data, 3, "\0\1\1", 3);
    free_outs (out, 2);
  }
}

/* Opset 18 additions without node tests in the Debian data set. */
static void
test_opset18_extras (void)
{
  GError *err = NULL;
  OvaTensorRef out[1];
  /* GroupNormalization with per-channel scale and G = C equals
   * InstanceNormalization; with G = 2 it normalises channel pairs */
  float x[16], sc[4] = { 1, 2, 0.5f, -1 }, bi[4] = { 0, 1, -1, 0.5f };
  for (int i = 0; i < 16; i++)
    x[i] = frand () * 3;
  OvaTensorRef in[3] = { tref (OVA_DTYPE_FLOAT32, x, 3, (int64_t) 2, (int64_t) 4, (int64_t) 2),
                         tref (OVA_DTYPE_FLOAT32, sc, 1, (int64_t) 4), tref (OVA_DTYPE_FLOAT32, bi, 1, (int64_t) 4) };
  Attrs ga = { 0 };
  attr_int (&ga, "num_groups", 4);
  OvaTensorRef ref[1];
  g_assert_true (run_op ("GroupNormalization", 18, &ga, in, 3, out, 1, &err));
  g_assert_true (run_op ("InstanceNormalization", 6, NULL, in, 3, ref, 1, &err));
  assert_floats (&out[0], ref[0].data, 16, 1e-5f);
  free_outs (out, 1);
  free_outs (ref, 1);
  Attrs g2 = { 0 };
  attr_int (&g2, "num_groups", 2);
  in[1].dims[0] = in[2].dims[0] = 2; /* per group (opset 18's form) */
  g_assert_true (run_op ("GroupNormalization", 18, &g2, in, 3, out, 1, &err));
  for (int n = 0; n < 2; n++)
    for (int g = 0; g < 2; g++) {
      const float *p = x + (n * 4 + g * 2) * 2;
      double m = (p[0] + p[1] + p[2] + p[3]) / 4, v = 0;
      for (int i = 0; i < 4; i++)
        v += (p[i] - m) * (p[i] - m) / 4;
      for (int i = 0; i < 4; i++) {
        double want = (p[i] - m) / sqrt (v + 1e-5) * sc[g] + bi[g];
        g_assert_cmpfloat_with_epsilon (((float *) out[0].data)[(n * 4 + g * 2) * 2 + i], want, 1e-5);
      }
    }
  free_outs (out, 1);
  /* MatMulInteger is exact where float accumulation would not be: K = 3000
   * products of int8 x uint8 against an int64 loop; per-column zero points */
  {
    enum { M = 3, K = 3000, N = 5 };
    int8_t *a = g_new (int8_t, M * K);
    uint8_t *b = g_new (uint8_t, K * N), bzp[N] = { 128, 0, 3, 255, 77 };
    int8_t azp = -7;
    for (int i = 0; i < M * K; i++)
      a[i] = (int8_t) (urand_test (256) - 128);
    for (int i = 0; i < K * N; i++)
      b[i] = (uint8_t) urand_test (256);
    OvaTensorRef mi[4] = { tref (OVA_DTYPE_INT8, a, 2, (int64_t) M, (int64_t) K),
                           tref (OVA_DTYPE_UINT8, b, 2, (int64_t) K, (int64_t) N),
                           tref (OVA_DTYPE_INT8, &azp, 0), tref (OVA_DTYPE_UINT8, bzp, 1, (int64_t) N) };
    g_assert_true (run_op ("MatMulInteger", 10, NULL, mi, 4, out, 1, &err));
    g_assert_cmpint (out[0].dtype, ==, OVA_DTYPE_INT32);
    for (int i = 0; i < M; i++)
      for (int j = 0; j < N; j++) {
        int64_t s = 0;
        for (int k = 0; k < K; k++)
          s += (int64_t) (a[i * K + k] - azp) * (b[k * N + j] - bzp[j]);
        g_assert_cmpint (((int32_t *) out[0].data)[i * N + j], ==, s);
      }
    free_outs (out, 1);
    g_free (a);
    g_free (b);
  }
  /* Bitwise operators on integers */
  uint8_t a[] = { 0x0f, 0xf0 }, b[] = { 0xff, 0x3c };
  OvaTensorRef bw[2] = { tref (OVA_DTYPE_UINT8, a, 1, (int64_t) 2), tref (OVA_DTYPE_UINT8, b, 1, (int64_t) 2) };
  g_assert_true (run_op ("BitwiseAnd", 18, NULL, bw, 2, out, 1, &err));
  g_assert_cmpmem (out[0].data, 2, "\x0f\x30", 2);
  free_outs (out, 1);
  g_assert_true (run_op ("BitwiseOr", 18, NULL, bw, 2, out, 1, &err));
  g_assert_cmpmem (out[0].data, 2, "\xff\xfc", 2);
  free_outs (out, 1);
  g_assert_true (run_op ("BitwiseXor", 18, NULL, bw, 2, out, 1, &err));
  g_assert_cmpmem (out[0].data, 2, "\xf0\xcc", 2);
  free_outs (out, 1);
  int32_t five = 5;
  OvaTensorRef ni[1] = { tref (OVA_DTYPE_INT32, &five, 0) };
  g_assert_true (run_op ("BitwiseNot", 18, NULL, ni, 1, out, 1, &err));
  g_assert_cmpint (*(int32_t *) out[0].data, ==, -6);
  free_outs (out, 1);
  float f = 1;
  ni[0] = tref (OVA_DTYPE_FLOAT32, &f, 0);
  g_assert_false (run_op ("BitwiseNot", 18, NULL, ni, 1, out, 1, &err));
  g_assert_error (err, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_UNSUPPORTED);
  g_clear_error (&err);
}

/* Recurrent operators: properties that tie the directions, sequence lengths
 * and layouts together (the node tests cover single cases). */
static void
rnn_check (const char *op, int gates)
{
  GError *err = NULL;
  enum { T = 3, B = 2, I = 4, H = 3 };
  float x[T * B * I], xr[T * B * I], w[2 * gates * H * I], r[2 * gates * H * H], bias[2 * 2 * gates * H];
  for (size_t i = 0; i < G_N_ELEMENTS (x); i++)
    x[i] = frand ();
  for (size_t i = 0; i < G_N_ELEMENTS (w); i++)
    w[i] = frand () * 0.5f;
  for (size_t i = 0; i < G_N_ELEMENTS (r); i++)
    r[i] = frand () * 0.5f;
  for (size_t i = 0; i < G_N_ELEMENTS (bias); i++)
    bias[i] = frand () * 0.1f;
  for (int t = 0; t < T; t++)
    memcpy (xr + t * B * I, x + (T - 1 - t) * B * I, sizeof (float) * B * I);
  /* bidirectional */
  Attrs bi = { 0 };
  attr_str (&bi, "direction", "bidirectional");
  attr_int (&bi, "hidden_size", H);
  OvaTensorRef in[5] = { tref (OVA_DTYPE_FLOAT32, x, 3, (int64_t) T, (int64_t) B, (int64_t) I),
                         tref (OVA_DTYPE_FLOAT32, w, 3, (int64_t) 2, (int64_t) gates * H, (int64_t) I),
                         tref (OVA_DTYPE_FLOAT32, r, 3, (int64_t) 2, (int64_t) gates * H, (int64_t) H),
                         tref (OVA_DTYPE_FLOAT32, bias, 2, (int64_t) 2, (int64_t) 2 * gates * H) };
  OvaTensorRef yb[2];
  if (!run_op (op, 14, &bi, in, 4, yb, 2, &err))
    g_error ("%s: %s", op, err->message);
  /* forward run of the second direction's weights on the reversed sequence */
  Attrs fw = { 0 };
  attr_int (&fw, "hidden_size", H);
  OvaTensorRef in2[5] = { tref (OVA_DTYPE_FLOAT32, xr, 3, (int64_t) T, (int64_t) B, (int64_t) I),
                          tref (OVA_DTYPE_FLOAT32, w + gates * H * I, 3, (int64_t) 1, (int64_t) gates * H, (int64_t) I),
                          tref (OVA_DTYPE_FLOAT32, r + gates * H * H, 3, (int64_t) 1, (int64_t) gates * H, (int64_t) H),
                          tref (OVA_DTYPE_FLOAT32, bias + 2 * gates * H, 2, (int64_t) 1, (int64_t) 2 * gates * H) };
  OvaTensorRef yf[2];
  g_assert_true (run_op (op, 14, &fw, in2, 4, yf, 2, &err));
  const float *Yb = yb[0].data, *Yf = yf[0].data; /* [T, dirs, B, H] */
  for (int t = 0; t < T; t++)
    for (int k = 0; k < B * H; k++)
      g_assert_cmpfloat_with_epsilon (Yb[(t * 2 + 1) * B * H + k], Yf[(T - 1 - t) * B * H + k], 1e-5);
  for (int k = 0; k < B * H; k++)
    g_assert_cmpfloat_with_epsilon (((float *) yb[1].data)[B * H + k], ((float *) yf[1].data)[k], 1e-5);
  free_outs (yf, 2);
  /* layout 1 gives the same numbers transposed */
  float x1[T * B * I];
  for (int t = 0; t < T; t++)
    for (int b = 0; b < B; b++)
      memcpy (x1 + (b * T + t) * I, x + (t * B + b) * I, sizeof (float) * I);
  attr_int (&bi, "layout", 1);
  OvaTensorRef in3[4] = { tref (OVA_DTYPE_FLOAT32, x1, 3, (int64_t) B, (int64_t) T, (int64_t) I), in[1], in[2], in[3] };
  OvaTensorRef y1[2];
  g_assert_true (run_op (op, 14, &bi, in3, 4, y1, 2, &err));
  for (int t = 0; t < T; t++)
    for (int d = 0; d < 2; d++)
      for (int b = 0; b < B; b++)
        for (int j = 0; j < H; j++)
          g_assert_cmpfloat_with_epsilon (((float *) y1[0].data)[((b * T + t) * 2 + d) * H + j],
                                          Yb[((t * 2 + d) * B + b) * H + j], 1e-6);
  free_outs (y1, 2);
  free_outs (yb, 2);
  /* sequence_lens: batch 1 stops after 2 steps; its Y_h equals a 2-step run */
  int32_t lens[B] = { 3, 2 };
  OvaTensorRef in4[5] = { in[0], in2[1], in2[2], in2[3], tref (OVA_DTYPE_INT32, lens, 1, (int64_t) B) };
  in4[1].data = w;
  in4[2].data = r;
  in4[3].data = bias;
  OvaTensorRef ys[2], y2[2];
  g_assert_true (run_op (op, 14, &fw, in4, 5, ys, 2, &err));
  OvaTensorRef in5[4] = { tref (OVA_DTYPE_FLOAT32, x, 3, (int64_t) 2, (int64_t) B, (int64_t) I), in4[1], in4[2], in4[3] };
  g_assert_true (run_op (op, 14, &fw, in5, 4, y2, 2, &err));
  for (int j = 0; j < H; j++) {
    g_assert_cmpfloat_with_epsilon (((float *) ys[1].data)[H + j], ((float *) y2[1].data)[H + j], 1e-6);
    g_assert_cmpfloat (((float *) ys[0].data)[(2 * B + 1) * H + j], ==, 0.0f); /* padded step */
  }
  free_outs (ys, 2);
  free_outs (y2, 2);
}

static void
test_rnn (void)
{
  rnn_check ("LSTM", 4);
  rnn_check ("GRU", 3);
  rnn_check ("RNN", 1);
}

/* ------------------------------------------------------------ fast paths */

static guint32 rng = 12345;
static float
frand (void)
{
  rng = rng * 1664525u + 1013904223u;
  return (float) ((rng >> 8) / 16777216.0 * 2.0 - 1.0);
}

/* fp32 broadcast kernels against the same op run on float64 (generic path). */
static void
test_fast_binary (void)
{
  static const char *ops[] = { "Add", "Sub", "Mul", "Div", "Max", "Min", "PRelu" };
  static const int64_t shapes[][2][4] = {
    { { 4, 3, 5, 7 }, { 4, 3, 5, 7 } }, { { 4, 3, 5, 7 }, { 1, 1, 1, 1 } }, { { 1, 1, 1, 1 }, { 4, 3, 5, 7 } },
    { { 4, 3, 5, 7 }, { 1, 3, 1, 1 } }, { { 4, 1, 5, 1 }, { 1, 3, 1, 7 } }, { { 4, 3, 5, 7 }, { 1, 1, 5, 7 } },
  };
  GError *err = NULL;
  for (size_t o = 0; o < G_N_ELEMENTS (ops); o++)
    for (size_t s = 0; s < G_N_ELEMENTS (shapes); s++) {
      OvaTensorRef f[2], d[2], of[1], od[1];
      float *buf[2];
      double *dbuf[2];
      for (int k = 0; k < 2; k++) {
        f[k] = tref (OVA_DTYPE_FLOAT32, NULL, 4, shapes[s][k][0], shapes[s][k][1], shapes[s][k][2], shapes[s][k][3]);
        int64_t n = ova_tensor_ref_numel (&f[k]);
        buf[k] = g_new (float, n);
        dbuf[k] = g_new (double, n);
        for (int64_t i = 0; i < n; i++) {
          buf[k][i] = frand () + (k == 1 && strcmp (ops[o], "Div") == 0 ? 3.0f : 0.0f);
          dbuf[k][i] = buf[k][i];
        }
        f[k].data = buf[k];
        d[k] = f[k];
        d[k].dtype = OVA_DTYPE_FLOAT64;
        d[k].data = dbuf[k];
      }
      g_assert_true (run_op (ops[o], 13, NULL, f, 2, of, 1, &err));
      g_assert_true (run_op (ops[o], 13, NULL, d, 2, od, 1, &err));
      int64_t n = ova_tensor_ref_numel (&of[0]);
      g_assert_cmpint (n, ==, 4 * 3 * 5 * 7);
      for (int64_t i = 0; i < n; i++) {
        double a = ((float *) of[0].data)[i], b = ((double *) od[0].data)[i];
        if (fabs (a - b) > 1e-5 * (1 + fabs (b)))
          g_error ("%s shape %zu element %" G_GINT64_FORMAT ": %g vs %g", ops[o], s, i, a, b);
      }
      free_outs (of, 1);
      free_outs (od, 1);
      for (int k = 0; k < 2; k++) {
        g_free (buf[k]);
        g_free (dbuf[k]);
      }
    }
}

/* Conv (im2col + blocked GEMM) against a direct 7-loop convolution. */
static void
test_fast_conv (void)
{
  struct { int64_t n, c, h, w, m, k, s, p, d, g; } cases[] = {
    { 2, 4, 9, 11, 6, 3, 1, 1, 1, 1 }, { 1, 6, 10, 10, 6, 3, 2, 1, 1, 3 }, { 1, 4, 8, 8, 8, 1, 1, 0, 1, 1 },
    { 1, 3, 13, 12, 5, 5, 2, 2, 2, 1 }, { 1, 8, 7, 7, 8, 3, 1, 1, 1, 8 },
  };
  GError *err = NULL;
  for (size_t t = 0; t < G_N_ELEMENTS (cases); t++) {
    int64_t N = cases[t].n, C = cases[t].c, H = cases[t].h, W = cases[t].w, M = cases[t].m;
    int64_t K = cases[t].k, S = cases[t].s, P = cases[t].p, D = cases[t].d, G = cases[t].g;
    int64_t Cg = C / G, Mg = M / G;
    float *x = g_new (float, N * C * H * W), *w = g_new (float, M * Cg * K * K), *b = g_new (float, M);
    for (int64_t i = 0; i < N * C * H * W; i++)
      x[i] = frand ();
    for (int64_t i = 0; i < M * Cg * K * K; i++)
      w[i] = frand ();
    for (int64_t i = 0; i < M; i++)
      b[i] = frand ();
    Attrs as = { 0 };
    int64_t st[] = { S, S }, pads[] = { P, P, P, P }, dil[] = { D, D };
    attr_ints (&as, "strides", st, 2);
    attr_ints (&as, "pads", pads, 4);
    attr_ints (&as, "dilations", dil, 2);
    attr_int (&as, "group", G);
    OvaTensorRef in[3] = { tref (OVA_DTYPE_FLOAT32, x, 4, N, C, H, W),
                           tref (OVA_DTYPE_FLOAT32, w, 4, M, Cg, K, K),
                           tref (OVA_DTYPE_FLOAT32, b, 1, M) };
    OvaTensorRef out[1];
    g_assert_true (run_op ("Conv", 11, &as, in, 3, out, 1, &err));
    int64_t OH = out[0].dims[2], OW = out[0].dims[3];
    g_assert_cmpint (OH, ==, (H + 2 * P - (K - 1) * D - 1) / S + 1);
    const float *y = out[0].data;
    for (int64_t n = 0; n < N; n++)
      for (int64_t m = 0; m < M; m++)
        for (int64_t oh = 0; oh < OH; oh++)
          for (int64_t ow = 0; ow < OW; ow++) {
            double acc = b[m];
            int64_t g = m / Mg;
            for (int64_t c = 0; c < Cg; c++)
              for (int64_t kh = 0; kh < K; kh++)
                for (int64_t kw = 0; kw < K; kw++) {
                  int64_t ih = oh * S - P + kh * D, iw = ow * S - P + kw * D;
                  if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                    continue;
                  acc += (double) x[((n * C + g * Cg + c) * H + ih) * W + iw] *
                         w[((m * Cg + c) * K + kh) * K + kw];
                }
            double got = y[((n * M + m) * OH + oh) * OW + ow];
            if (fabs (got - acc) > 1e-4 * (1 + fabs (acc)))
              g_error ("conv case %zu: %g vs %g", t, got, acc);
          }
    free_outs (out, 1);
    g_free (x);
    g_free (w);
    g_free (b);
  }
}

/* Gemm (all transpose combinations, large enough to cross GEMM blocks)
 * against a naive triple loop. */
static void
test_fast_gemm (void)
{
  GError *err = NULL;
  const int64_t M = 37, N = 600, K = 300;
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++) {
      float *a = g_new (float, M * K), *b = g_new (float, K * N), *c = g_new (float, N);
      for (int64_t i = 0; i < M * K; i++)
        a[i] = frand ();
      for (int64_t i = 0; i < K * N; i++)
        b[i] = frand ();
      for (int64_t i = 0; i < N; i++)
        c[i] = frand ();
      Attrs as = { 0 };
      attr_int (&as, "transA", ta);
      attr_int (&as, "transB", tb);
      attr_float (&as, "alpha", 0.5f);
      attr_float (&as, "beta", 2.0f);
      OvaTensorRef in[3] = { ta ? tref (OVA_DTYPE_FLOAT32, a, 2, K, M) : tref (OVA_DTYPE_FLOAT32, a, 2, M, K),
                             tb ? tref (OVA_DTYPE_FLOAT32, b, 2, N, K) : tref (OVA_DTYPE_FLOAT32, b, 2, K, N),
                             tref (OVA_DTYPE_FLOAT32, c, 1, N) };
      OvaTensorRef out[1];
      g_assert_true (run_op ("Gemm", 13, &as, in, 3, out, 1, &err));
      for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
          double acc = 0;
          for (int64_t k = 0; k < K; k++)
            acc += (double) (ta ? a[k * M + i] : a[i * K + k]) * (tb ? b[j * K + k] : b[k * N + j]);
          acc = 0.5 * acc + 2.0 * c[j];
          double got = ((float *) out[0].data)[i * N + j];
          if (fabs (got - acc) > 1e-4 * (1 + fabs (acc)))
            g_error ("gemm ta=%d tb=%d (%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT "): %g vs %g", ta, tb, i, j, got, acc);
        }
      free_outs (out, 1);
      g_free (a);
      g_free (b);
      g_free (c);
    }
}

/* Transpose (tiled 2-D path and general path) against index arithmetic,
 * for every permutation of two 4-D shapes and two element sizes. */
static void
test_fast_transpose (void)
{
  static const int64_t shapes[][4] = { { 2, 3, 4, 5 }, { 1, 37, 33, 3 } };
  GError *err = NULL;
  for (size_t s = 0; s < G_N_ELEMENTS (shapes); s++)
    for (int es = 0; es < 2; es++)
      for (int p = 0; p < 24; p++) {
        int perm[4], used = 0, code = p;
        for (int i = 0; i < 4; i++) { /* p-th permutation (factorial number system) */
          int k = code % (4 - i);
          code /= 4 - i;
          for (int j = 0; j < 4; j++)
            if (!(used & (1 << j)) && k-- == 0) {
              perm[i] = j;
              used |= 1 << j;
              break;
            }
        }
        const int64_t *d = shapes[s];
        int64_t n = d[0] * d[1] * d[2] * d[3];
        OvaDataType dt = es ? OVA_DTYPE_INT64 : OVA_DTYPE_FLOAT32;
        void *x = g_malloc (n * 8);
        for (int64_t i = 0; i < n; i++) {
          if (es)
            ((int64_t *) x)[i] = i;
          else
            ((float *) x)[i] = (float) i;
        }
        Attrs as = { 0 };
        int64_t pv[4] = { perm[0], perm[1], perm[2], perm[3] };
        attr_ints (&as, "perm", pv, 4);
        OvaTensorRef in[1] = { tref (dt, x, 4, d[0], d[1], d[2], d[3]) }, out[1];
        g_assert_true (run_op ("Transpose", 13, &as, in, 1, out, 1, &err));
        int64_t st[4] = { d[1] * d[2] * d[3], d[2] * d[3], d[3], 1 }, idx[4];
        for (int64_t o = 0; o < n; o++) {
          int64_t rem = o, src = 0;
          for (int i = 3; i >= 0; i--) {
            idx[i] = rem % d[perm[i]];
            rem /= d[perm[i]];
            src += idx[i] * st[perm[i]];
          }
          int64_t got = es ? ((int64_t *) out[0].data)[o] : (int64_t) ((float *) out[0].data)[o];
          if (got != src)
            g_error ("perm %d%d%d%d shape %zu: element %" G_GINT64_FORMAT " is %" G_GINT64_FORMAT
                     ", expected %" G_GINT64_FORMAT, perm[0], perm[1], perm[2], perm[3], s, o, got, src);
        }
        free_outs (out, 1);
        g_free (x);
      }
}

/* Einsum's GEMM path against its general loop. */
static void
test_fast_einsum (void)
{
  static const struct { const char *eq; int ra, rb; int64_t da[4], db[4]; } cases[] = {
    { "bhqd,bhkd->bhqk", 4, 4, { 2, 3, 5, 8 }, { 2, 3, 7, 8 } },
    { "bij,bjk->bik", 3, 3, { 3, 4, 5 }, { 3, 5, 6 } },
    { "ij,kj->ik", 2, 2, { 4, 9 }, { 7, 9 } },
    { "ik,kj", 2, 2, { 4, 9 }, { 9, 3 } },
    { "abc,cd->dba", 3, 2, { 2, 3, 4 }, { 4, 5 } },
    { "i,j->ji", 1, 1, { 3 }, { 4 } },
    { "ij,ij->i", 2, 2, { 5, 6 }, { 5, 6 } },
    { "...ij,...jk->...ik", 3, 3, { 2, 3, 4 }, { 2, 4, 5 } },
  };
  GError *err = NULL;
  for (size_t c = 0; c < G_N_ELEMENTS (cases); c++) {
    OvaTensorRef in[2] = { { OVA_DTYPE_FLOAT32, cases[c].ra }, { OVA_DTYPE_FLOAT32, cases[c].rb } };
    memcpy (in[0].dims, cases[c].da, sizeof (int64_t) * cases[c].ra);
    memcpy (in[1].dims, cases[c].db, sizeof (int64_t) * cases[c].rb);
    for (int k = 0; k < 2; k++) {
      int64_t n = ova_tensor_ref_numel (&in[k]);
      float *b = g_new (float, n);
      for (int64_t i = 0; i < n; i++)
        b[i] = frand ();
      in[k].data = b;
    }
    Attrs as = { 0 };
    attr_str (&as, "equation", cases[c].eq);
    OvaTensorRef fast[1], naive[1];
    g_assert_true (run_op ("Einsum", 12, &as, in, 2, fast, 1, &err));
    ops_einsum_force_naive (TRUE);
    g_assert_true (run_op ("Einsum", 12, &as, in, 2, naive, 1, &err));
    ops_einsum_force_naive (FALSE);
    g_assert_cmpint (fast[0].rank, ==, naive[0].rank);
    int64_t n = ova_tensor_ref_numel (&naive[0]);
    for (int64_t i = 0; i < n; i++) {
      float a = ((float *) fast[0].data)[i], b = ((float *) naive[0].data)[i];
      if (fabsf (a - b) > 1e-5f * (1 + fabsf (b)))
        g_error ("%s element %" G_GINT64_FORMAT ": %g vs %g", cases[c].eq, i, a, b);
    }
    free_outs (fast, 1);
    free_outs (naive, 1);
    g_free (in[0].data);
    g_free (in[1].data);
  }
}

/* fp32 reductions against the float64 path. */
static void
test_fast_reduce (void)
{
  static const char *ops[] = { "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceL2", "ReduceSumSquare" };
  static const int64_t axes_sets[][3] = { { 1, -1, -1 }, { 2, 3, -1 }, { 0, 2, -1 }, { 3, -1, -1 } };
  GError *err = NULL;
  float *x = g_new (float, 3 * 4 * 5 * 6);
  double *xd = g_new (double, 3 * 4 * 5 * 6);
  for (int i = 0; i < 3 * 4 * 5 * 6; i++)
    xd[i] = x[i] = frand ();
  for (size_t o = 0; o < G_N_ELEMENTS (ops); o++)
    for (size_t s = 0; s < G_N_ELEMENTS (axes_sets); s++) {
      int64_t axes[3];
      int na = 0;
      for (int i = 0; i < 3; i++)
        if (axes_sets[s][i] >= 0)
          axes[na++] = axes_sets[s][i];
      OvaTensorRef in[2] = { tref (OVA_DTYPE_FLOAT32, x, 4, (int64_t) 3, (int64_t) 4, (int64_t) 5, (int64_t) 6),
                             tref (OVA_DTYPE_INT64, axes, 1, (int64_t) na) };
      OvaTensorRef of[1], od[1];
      g_assert_true (run_op (ops[o], 18, NULL, in, 2, of, 1, &err));
      in[0].dtype = OVA_DTYPE_FLOAT64;
      in[0].data = xd;
      g_assert_true (run_op (ops[o], 18, NULL, in, 2, od, 1, &err));
      int64_t n = ova_tensor_ref_numel (&of[0]);
      for (int64_t i = 0; i < n; i++) {
        double a = ((float *) of[0].data)[i], b = ((double *) od[0].data)[i];
        if (fabs (a - b) > 1e-5 * (1 + fabs (b)))
          g_error ("%s axes set %zu element %" G_GINT64_FORMAT ": %g vs %g", ops[o], s, i, a, b);
      }
      free_outs (of, 1);
      free_outs (od, 1);
    }
  /* Softmax / LogSoftmax along every axis (fp32 row and column paths) */
  static const char *sm[] = { "Softmax", "LogSoftmax" };
  for (int o = 0; o < 2; o++)
    for (int axis = -4; axis < 4; axis++) {
      Attrs as = { 0 };
      attr_int (&as, "axis", axis);
      OvaTensorRef in[1] = { tref (OVA_DTYPE_FLOAT32, x, 4, (int64_t) 3, (int64_t) 4, (int64_t) 5, (int64_t) 6) };
      OvaTensorRef of[1], od[1];
      g_assert_true (run_op (sm[o], 13, &as, in, 1, of, 1, &err));
      in[0].dtype = OVA_DTYPE_FLOAT64;
      in[0].data = xd;
      g_assert_true (run_op (sm[o], 13, &as, in, 1, od, 1, &err));
      for (int64_t i = 0; i < 360; i++) {
        double a = ((float *) of[0].data)[i], b = ((double *) od[0].data)[i];
        if (fabs (a - b) > 1e-5 * (1 + fabs (b)))
          g_error ("%s axis %d element %" G_GINT64_FORMAT ": %g vs %g", sm[o], axis, i, a, b);
      }
      free_outs (of, 1);
      free_outs (od, 1);
    }
  g_free (x);
  g_free (xd);
}

/* Robustness: every registered operator's infer on random (often invalid)
 * inputs and attributes either fails with an error or yields valid shapes,
 * and run on those shapes does not touch memory it should not (this test
 * runs under ASan/UBSan in the 'sanitize' suite). */
static guint32
urand (guint32 n)
{
  rng = rng * 1664525u + 1013904223u;
  return (rng >> 8) % n;
}

static guint32
urand_test (guint32 n)
{
  return urand (n);
}

static void
test_robustness (void)
{
  static const OvaDataType dts[] = { OVA_DTYPE_FLOAT32, OVA_DTYPE_FLOAT32, OVA_DTYPE_FLOAT32, OVA_DTYPE_INT64,
                                     OVA_DTYPE_INT32, OVA_DTYPE_BOOL, OVA_DTYPE_UINT8, OVA_DTYPE_FLOAT16,
                                     OVA_DTYPE_UNDEFINED };
  static const int64_t ints_a[] = { 1, 1 }, ints_b[] = { 0, 0, 1, 1 }, ints_c[] = { 2, 0, 1 },
                       ints_d[] = { -1 }, ints_e[] = { 3, 3, 3 };
  static const float floats_a[] = { 1, 1, 2, 2 };
  static const char *strs[] = { "linear", "nearest", "cubic", "reflect", "edge", "SAME_UPPER", "VALID",
                                "bidirectional", "ij,jk->ik", "i,i", "CRD", "align_corners", "tf_crop_and_resize" };
  static const char *int_names[] = { "axis", "keepdims", "group", "to", "blocksize", "k", "largest",
                                     "transA", "transB", "hidden_size", "ceil_mode", "count_include_pad",
                                     "select_last_index", "noop_with_empty_axes", "num_outputs", "allowzero",
                                     "center_point_box", "batch_dims", "exclusive", "upper", "size", "fmod" };
  static const char *ints_names[] = { "perm", "axes", "kernel_shape", "strides", "pads", "dilations",
                                      "split", "starts", "ends", "shape", "output_shape", "output_padding" };
  static const char *str_names[] = { "mode", "auto_pad", "direction", "equation", "coordinate_transformation_mode",
                                     "nearest_mode", "reduction" };
  const int64_t *ints_pool[] = { ints_a, ints_b, ints_c, ints_d, ints_e };
  const int ints_len[] = { 2, 4, 3, 1, 3 };
  int ran = 0, inferred = 0;
  /* OVA_OPS_FUZZ_TRIALS=N for longer runs by hand */
  const char *env = g_getenv ("OVA_OPS_FUZZ_TRIALS");
  int trials = env ? atoi (env) : 150;
  if (g_getenv ("OVA_OPS_FUZZ_SEED"))
    rng = (guint32) atoi (g_getenv ("OVA_OPS_FUZZ_SEED"));
  for (const OvaOpDef *const *l = ova_op_list (); *l; l++) {
    const OvaOpDef *d = *l;
    for (int trial = 0; trial < trials; trial++) {
      Attrs as = { 0 };
      int na = (int) urand (4);
      for (int a = 0; a < na; a++) {
        switch (urand (4)) {
        case 0: attr_int (&as, int_names[urand (G_N_ELEMENTS (int_names))], (int64_t) urand (7) - 3); break;
        case 1: {
          int k = (int) urand (5);
          attr_ints (&as, ints_names[urand (G_N_ELEMENTS (ints_names))], ints_pool[k], ints_len[k]);
          break;
        }
        case 2: attr_str (&as, str_names[urand (G_N_ELEMENTS (str_names))], strs[urand (G_N_ELEMENTS (strs))]); break;
        default:
          as.a[as.n++] = (OvaAttr) { .name = urand (2) ? "scales" : "alpha", .type = OVA_ATTR_FLOATS,
                                     .floats = floats_a, .n = (int) urand (5) };
          break;
        }
      }
      int n_in = (int) urand (6), n_out = 1 + (int) urand (3);
      OvaTensorRef in[6], out[4];
      void *bufs[6] = { 0 };
      gboolean all_data = TRUE;
      memset (in, 0, sizeof in);
      for (int i = 0; i < n_in; i++) {
        in[i].dtype = dts[urand (G_N_ELEMENTS (dts))];
        if (in[i].dtype == OVA_DTYPE_UNDEFINED)
          continue;
        in[i].rank = (int) urand (5);
        for (int k = 0; k < in[i].rank; k++)
          in[i].dims[k] = urand (8) == 0 ? 0 : 1 + (int64_t) urand (3);
        if (urand (4) == 0) {
          all_data = FALSE;
          if (in[i].rank > 0 && urand (2))
            in[i].dims[0] = -1;
          continue;
        }
        size_t es = in[i].dtype == OVA_DTYPE_FLOAT32 || in[i].dtype == OVA_DTYPE_INT32 ? 4
                    : in[i].dtype == OVA_DTYPE_INT64 ? 8 : in[i].dtype == OVA_DTYPE_FLOAT16 ? 2 : 1;
        int64_t n = ova_tensor_ref_numel (&in[i]);
        bufs[i] = g_malloc (MAX (1, n * es));
        for (int64_t e = 0; e < n; e++) {
          int64_t v = (int64_t) urand (9) - 3;
          switch (in[i].dtype) {
          case OVA_DTYPE_FLOAT32: ((float *) bufs[i])[e] = (float) v * 0.75f; break;
          case OVA_DTYPE_INT64: ((int64_t *) bufs[i])[e] = v; break;
          case OVA_DTYPE_INT32: ((int32_t *) bufs[i])[e] = (int32_t) v; break;
          case OVA_DTYPE_FLOAT16: ((uint16_t *) bufs[i])[e] = 0x3c00; break;
          default: ((uint8_t *) bufs[i])[e] = (uint8_t) (v & 1); break;
          }
        }
        in[i].data = bufs[i];
      }
      OvaOpNode node = { d->op_type, "fuzz", "", 9 + (int) urand (10), as.n, as.a, n_in, n_out };
      GError *err = NULL;
      memset (out, 0, sizeof out);
      if (!d->infer (&node, in, n_in, out, n_out, &err)) {
        g_assert_nonnull (err);
        g_assert_true (err->domain == OVA_ENGINE_ERROR);
        g_assert_nonnull (strstr (err->message, d->op_type));
        g_clear_error (&err);
      } else {
        inferred++;
        g_assert_null (err);
        gboolean runnable = all_data;
        for (int o = 0; o < n_out; o++) {
          g_assert_cmpint (out[o].rank, >=, 0);
          g_assert_cmpint (out[o].rank, <=, OVA_MAX_DIMS);
          for (int k = 0; k < out[o].rank; k++) {
            if (out[o].dims[k] < -1)
              g_error ("%s (trial %d): output %d dim %d is %" G_GINT64_FORMAT, d->op_type, trial, o, k,
                       out[o].dims[k]);
            if (out[o].dims[k] < 0)
              runnable = FALSE;
          }
          if (runnable && ova_tensor_ref_bytes (&out[o]) > (1u << 20))
            runnable = FALSE;
        }
        if (runnable) {
          for (int o = 0; o < n_out; o++)
            out[o].data = g_malloc0 (MAX (1, ova_tensor_ref_bytes (&out[o])));
          if (!d->run (&node, in, n_in, out, n_out, &err)) {
            g_assert_nonnull (err);
            g_clear_error (&err);
          }
          ran++;
          free_outs (out, n_out);
        }
      }
      for (int i = 0; i < n_in; i++)
        g_free (bufs[i]);
    }
  }
  g_test_message ("%d random nodes inferred, %d run", inferred, ran);
  g_assert_cmpint (ran, >, 1000);
}

/* The same checks with the baseline (non-AVX2) kernel variants forced. */
static void
with_baseline (gconstpointer fn)
{
  g_test_message ("AVX2+FMA variants %s on this CPU", ops_simd_avx2 () ? "available" : "not available");
  ops_simd_force_baseline (TRUE);
  g_assert_false (ops_simd_avx2 ());
  ((void (*) (void)) fn) ();
  ops_simd_force_baseline (FALSE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/ops/registry", test_registry);
  g_test_add_func ("/engine/ops/attrs", test_attrs);
  g_test_add_func ("/engine/ops/broadcast", test_broadcast);
  g_test_add_func ("/engine/ops/resize", test_resize);
  g_test_add_func ("/engine/ops/pad", test_pad);
  g_test_add_func ("/engine/ops/slice", test_slice);
  g_test_add_func ("/engine/ops/einsum", test_einsum);
  g_test_add_func ("/engine/ops/nms", test_nms);
  g_test_add_func ("/engine/ops/topk", test_topk);
  g_test_add_func ("/engine/ops/symbolic", test_symbolic);
  g_test_add_func ("/engine/ops/run-dynamic", test_run_dynamic);
  g_test_add_func ("/engine/ops/clip-cast-gather", test_clip_cast_gather);
  g_test_add_func ("/engine/ops/opset-forms", test_opset_forms);
  g_test_add_func ("/engine/ops/rnn", test_rnn);
  g_test_add_func ("/engine/ops/opset18-extras", test_opset18_extras);
  g_test_add_func ("/engine/ops/robustness", test_robustness);
  g_test_add_func ("/engine/ops/fast/binary", test_fast_binary);
  g_test_add_func ("/engine/ops/fast/conv", test_fast_conv);
  g_test_add_func ("/engine/ops/fast/gemm", test_fast_gemm);
  g_test_add_func ("/engine/ops/fast/reduce", test_fast_reduce);
  g_test_add_func ("/engine/ops/fast/einsum", test_fast_einsum);
  g_test_add_func ("/engine/ops/fast/transpose", test_fast_transpose);
  g_test_add_data_func ("/engine/ops/fast-baseline/binary", test_fast_binary, with_baseline);
  g_test_add_data_func ("/engine/ops/fast-baseline/conv", test_fast_conv, with_baseline);
  g_test_add_data_func ("/engine/ops/fast-baseline/gemm", test_fast_gemm, with_baseline);
  g_test_add_data_func ("/engine/ops/fast-baseline/reduce", test_fast_reduce, with_baseline);
  return g_test_run ();
}
