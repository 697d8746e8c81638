/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Quantisation operators of QDQ models: QuantizeLinear, DequantizeLinear
 * (per-tensor and per-axis), DynamicQuantizeLinear. They let an int8 model
 * in QDQ form run in fp32 on the reference kernels.
 */
#include "ops-private.h"

/* Per-axis parameters: scale / zero point index of element @i. */
typedef struct {
  int64_t n_params, inner, dim;
} QAxis;

static gboolean
q_axis (const OvaOpNode *node, const OvaTensorRef *x, const OvaTensorRef *scale, QAxis *q, GError **error)
{
  int64_t ns = ops_numel_dims (scale->rank, scale->dims);
  q->n_params = ns;
  q->inner = 1;
  q->dim = 1;
  if (scale->rank == 0 || ns == 1)
    return TRUE;
  if (scale->rank != 1 || node->opset < 13)
    return OPS_SHAPE (node, "scale must be a scalar or (opset 13+) a vector");
  int axis;
  if (!ops_axis (node, ova_op_attr_int (node, "axis", 1), x->rank, &axis, error))
    return FALSE;
  if (x->dims[axis] >= 0 && x->dims[axis] != ns)
    return OPS_SHAPE (node, "scale has %" G_GINT64_FORMAT " values for axis %d of size %" G_GINT64_FORMAT,
                      ns, axis, x->dims[axis]);
  q->dim = ns;
  q->inner = ops_numel_dims (x->rank - axis - 1, x->dims + axis + 1);
  return TRUE;
}

static gboolean
check_zp (const OvaOpNode *node, const OvaTensorRef *in, int n_in, const OvaTensorRef *scale, GError **error)
{
  if (!ops_has (in, n_in, 2))
    return TRUE;
  const OvaTensorRef *zp = &in[2];
  if (zp->dtype != OVA_DTYPE_UINT8 && zp->dtype != OVA_DTYPE_INT8 && zp->dtype != OVA_DTYPE_INT32)
    return OPS_UNSUP (node, "zero point type %d not supported", zp->dtype);
  if (ops_numel_dims (zp->rank, zp->dims) != ops_numel_dims (scale->rank, scale->dims))
    return OPS_SHAPE (node, "zero point and scale differ in size");
  return TRUE;
}

static gboolean
infer_quantize (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
                int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 2, 3, error))
    return FALSE;
  if (in[0].dtype != OVA_DTYPE_FLOAT32 && in[0].dtype != OVA_DTYPE_INT32)
    return OPS_UNSUP (node, "input type %d not supported", in[0].dtype);
  if (in[1].dtype != OVA_DTYPE_FLOAT32)
    return OPS_UNSUP (node, "scale must be float32");
  QAxis q;
  if (!q_axis (node, &in[0], &in[1], &q, error) || !check_zp (node, in, n_in, &in[1], error))
    return FALSE;
  ops_copy_shape (&out[0], &in[0]);
  out[0].dtype = ops_has (in, n_in, 2) ? in[2].dtype : OVA_DTYPE_UINT8;
  if (out[0].dtype == OVA_DTYPE_INT32)
    return OPS_UNSUP (node, "int32 quantisation output not supported");
  return TRUE;
}

static gboolean
run_quantize (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
              int n_out, GError **error)
{
  QAxis q;
  if (!q_axis (node, &in[0], &in[1], &q, error))
    return FALSE;
  int64_t n = ova_tensor_ref_numel (&in[0]);
  double lo = out[0].dtype == OVA_DTYPE_UINT8 ? 0 : -128, hi = out[0].dtype == OVA_DTYPE_UINT8 ? 255 : 127;
  const float *sc = in[1].data;
  for (int64_t i = 0; i < n; i++) {
    int64_t p = q.n_params > 1 ? (i / q.inner) % q.dim : 0;
    double zp = ops_has (in, n_in, 2) ? ops_get_f64 (in[2].data, in[2].dtype, p) : 0;
    /* divide in float32 as ONNX's reference (numpy on float32) does */
    double v = in[0].dtype == OVA_DTYPE_FLOAT32 ? nearbyintf (((const float *) in[0].data)[i] / sc[p])
                                                : nearbyint (ops_get_f64 (in[0].data, in[0].dtype, i) / sc[p]);
    v += zp;
    ops_set_f64 (out[0].data, out[0].dtype, i, CLAMP (v, lo, hi));
  }
  return TRUE;
}

static const OvaOpDef def_QuantizeLinear = { "QuantizeLinear", 10, infer_quantize, run_quantize };

static gboolean
infer_dequantize (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
                  int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 2, 3, error))
    return FALSE;
  if (in[0].dtype != OVA_DTYPE_UINT8 && in[0].dtype != OVA_DTYPE_INT8 && in[0].dtype != OVA_DTYPE_INT32)
    return OPS_UNSUP (node, "input type %d not supported", in[0].dtype);
  if (in[1].dtype != OVA_DTYPE_FLOAT32)
    return OPS_UNSUP (node, "scale must be float32");
  QAxis q;
  if (!q_axis (node, &in[0], &in[1], &q, error) || !check_zp (node, in, n_in, &in[1], error))
    return FALSE;
  ops_copy_shape (&out[0], &in[0]);
  out[0].dtype = OVA_DTYPE_FLOAT32;
  return TRUE;
}

static gboolean
run_dequantize (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
                int n_out, GError **error)
{
  QAxis q;
  if (!q_axis (node, &in[0], &in[1], &q, error))
    return FALSE;
  int64_t n = ova_tensor_ref_numel (&in[0]);
  const float *sc = in[1].data;
  float *y = out[0].data;
  for (int64_t i = 0; i < n; i++) {
    int64_t p = q.n_params > 1 ? (i / q.inner) % q.dim : 0;
    int64_t zp = ops_has (in, n_in, 2) ? ops_get_i64 (in[2].data, in[2].dtype, p) : 0;
    y[i] = (float) (ops_get_i64 (in[0].data, in[0].dtype, i) - zp) * sc[p];
  }
  return TRUE;
}

static const OvaOpDef def_DequantizeLinear = { "DequantizeLinear", 10, infer_dequantize, run_dequantize };

static gboolean
infer_dynq (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
            GError **error)
{
  if (!ops_check_inputs (node, n_in, 1, 1, error))
    return FALSE;
  if (in[0].dtype != OVA_DTYPE_FLOAT32)
    return OPS_UNSUP (node, "only float32 is supported");
  ops_copy_shape (&out[0], &in[0]);
  out[0].dtype = OVA_DTYPE_UINT8;
  if (n_out > 1)
    ops_set_shape (&out[1], OVA_DTYPE_FLOAT32, 0, NULL);
  if (n_out > 2)
    ops_set_shape (&out[2], OVA_DTYPE_UINT8, 0, NULL);
  return TRUE;
}

static gboolean
run_dynq (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
          GError **error)
{
  int64_t n = ova_tensor_ref_numel (&in[0]);
  const float *x = in[0].data;
  float mn = 0, mx = 0;
  for (int64_t i = 0; i < n; i++) {
    mn = x[i] < mn ? x[i] : mn;
    mx = x[i] > mx ? x[i] : mx;
  }
  float scale = (mx - mn) / 255.0f;
  float zpf = scale > 0 ? nearbyintf (CLAMP (0.0f - mn / scale, 0.0f, 255.0f)) : 0.0f;
  uint8_t *y = out[0].data;
  for (int64_t i = 0; i < n; i++) {
    float v = scale > 0 ? nearbyintf (x[i] / scale) + zpf : zpf;
    y[i] = (uint8_t) CLAMP (v, 0.0f, 255.0f);
  }
  if (n_out > 1 && out[1].data)
    *(float *) out[1].data = scale;
  if (n_out > 2 && out[2].data)
    *(uint8_t *) out[2].data = (uint8_t) zpf;
  return TRUE;
}

static const OvaOpDef def_DynamicQuantizeLinear = { "DynamicQuantizeLinear", 11, infer_dynq, run_dynq };

const OvaOpDef *const ova_ops_quant[] = {
  &def_QuantizeLinear, &def_DequantizeLinear, &def_DynamicQuantizeLinear, NULL,
};
