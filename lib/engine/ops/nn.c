/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Network operators: Conv (im2col + blocked GEMM), ConvTranspose (GEMM +
 * col2im), pooling, Gemm, MatMul and the normalisations. fp32 only: these
 * are the backends' hot operators and the references they are tested against.
 */
#include "ops-private.h"

#include <float.h>

/* Spatial geometry for conv / pool, always padded to 3 spatial dims so one
 * set of loops serves 1-D, 2-D and 3-D (missing dims have size 1). */
typedef struct {
  int nsp;
  int64_t in[3], k[3], s[3], d[3], pb[3], pe[3], out[3];
} Geom;

static void
geom_pad3 (Geom *g)
{
  for (int i = 2; i >= 0; i--) {
    int src = i - (3 - g->nsp);
    if (src >= 0) {
      g->in[i] = g->in[src]; g->k[i] = g->k[src]; g->s[i] = g->s[src]; g->d[i] = g->d[src];
      g->pb[i] = g->pb[src]; g->pe[i] = g->pe[src]; g->out[i] = g->out[src];
    } else {
      g->in[i] = g->k[i] = g->s[i] = g->d[i] = g->out[i] = 1;
      g->pb[i] = g->pe[i] = 0;
    }
  }
}

static int64_t
ceil_div (int64_t a, int64_t b)
{
  return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

static int64_t
floor_div (int64_t a, int64_t b)
{
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* Reads kernel / strides / dilations / pads / auto_pad and computes output
 * sizes (-1 where the input size is unknown). */
static gboolean
geom_init (const OvaOpNode *node, Geom *g, int nsp, const int64_t *in_sp, const int64_t *kernel,
           gboolean ceil_mode, gboolean is_pool, GError **error)
{
  const int64_t *v;
  int n;
  if (nsp < 1 || nsp > 3)
    return OPS_UNSUP (node, "%d spatial dimensions not supported", nsp);
  memset (g, 0, sizeof *g);
  g->nsp = nsp;
  for (int i = 0; i < nsp; i++) {
    g->in[i] = in_sp[i];
    g->k[i] = kernel[i];
    g->s[i] = g->d[i] = 1;
  }
  if ((n = ova_op_attr_ints (node, "strides", &v)) > 0) {
    if (n != nsp)
      return OPS_SHAPE (node, "strides has %d values, expected %d", n, nsp);
    for (int i = 0; i < nsp; i++)
      g->s[i] = v[i];
  }
  if ((n = ova_op_attr_ints (node, "dilations", &v)) > 0) {
    if (n != nsp)
      return OPS_SHAPE (node, "dilations has %d values, expected %d", n, nsp);
    for (int i = 0; i < nsp; i++)
      g->d[i] = v[i];
  }
  const char *ap = ova_op_attr_string (node, "auto_pad", "NOTSET");
  gboolean same_u = strcmp (ap, "SAME_UPPER") == 0, same_l = strcmp (ap, "SAME_LOWER") == 0;
  gboolean valid = strcmp (ap, "VALID") == 0;
  if (!same_u && !same_l && !valid && strcmp (ap, "NOTSET") != 0)
    return OPS_UNSUP (node, "auto_pad '%s' not supported", ap);
  if (!same_u && !same_l && !valid && (n = ova_op_attr_ints (node, "pads", &v)) > 0) {
    if (n != 2 * nsp)
      return OPS_SHAPE (node, "pads has %d values, expected %d", n, 2 * nsp);
    for (int i = 0; i < nsp; i++) {
      g->pb[i] = v[i];
      g->pe[i] = v[i + nsp];
    }
  }
  for (int i = 0; i < nsp; i++) {
    if (g->s[i] < 1 || g->d[i] < 1 || g->k[i] < 1)
      return OPS_SHAPE (node, "kernel, strides and dilations must be positive");
    int64_t ek = (g->k[i] - 1) * g->d[i] + 1;
    if (g->in[i] < 0) {
      g->out[i] = -1;
      continue;
    }
    if (same_u || same_l) {
      g->out[i] = ceil_div (g->in[i], g->s[i]);
      int64_t total = MAX (0, (g->out[i] - 1) * g->s[i] + ek - g->in[i]);
      g->pb[i] = same_u ? total / 2 : total - total / 2;
      g->pe[i] = total - g->pb[i];
    } else if (valid && !is_pool) {
      g->out[i] = floor_div (g->in[i] - ek, g->s[i]) + 1;
    } else if (valid) {
      g->out[i] = ceil_div (g->in[i] - ek + 1, g->s[i]);
    } else {
      int64_t span = g->in[i] + g->pb[i] + g->pe[i] - ek;
      if (ceil_mode) {
        g->out[i] = ceil_div (span, g->s[i]) + 1;
        if ((g->out[i] - 1) * g->s[i] >= g->in[i] + g->pb[i])
          g->out[i]--;
      } else {
        g->out[i] = floor_div (span, g->s[i]) + 1;
      }
    }
    if (g->out[i] < 0)
      return OPS_SHAPE (node, "input too small for the kernel along spatial axis %d", i);
  }
  return TRUE;
}

/* ------------------------------------------------------------ Conv */

static gboolean
conv_kernel_shape (const OvaOpNode *node, const OvaTensorRef *w, int nsp, int64_t *k,
                   GError **error)
{
  const int64_t *v;
  int n = ova_op_attr_ints (node, "kernel_shape", &v);
  for (int i = 0; i < nsp; i++)
    k[i] = n == nsp ? v[i] : w->dims[2 + i];
  if (n && n != nsp)
    return OPS_SHAPE (node, "kernel_shape has %d values, expected %d", n, nsp);
  for (int i = 0; i < nsp; i++)
    if (w->dims[2 + i] >= 0 && k[i] != w->dims[2 + i])
      return OPS_SHAPE (node, "kernel_shape disagrees with the weights");
  return TRUE;
}

static gboolean
infer_conv (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
            int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 2, 3, error))
    return FALSE;
  const OvaTensorRef *x = &in[0], *w = &in[1];
  if (x->dtype != OVA_DTYPE_FLOAT32 || w->dtype != OVA_DTYPE_FLOAT32)
    return OPS_UNSUP (node, "only float32 is supported");
  if (x->rank < 3 || w->rank != x->rank)
    return OPS_SHAPE (node, "X rank %d and W rank %d do not fit", x->rank, w->rank);
  int nsp = x->rank - 2;
  int64_t group = ova_op_attr_int (node, "group", 1), k[3];
  if (!conv_kernel_shape (node, w, nsp, k, error))
    return FALSE;
  if (group < 1 || (w->dims[0] >= 0 && w->dims[0] % group))
    return OPS_SHAPE (node, "group %" G_GINT64_FORMAT " does not divide the output channels", group);
  if (x->dims[1] >= 0 && w->dims[1] >= 0 && x->dims[1] != w->dims[1] * group)
    return OPS_SHAPE (node, "X has %" G_GINT64_FORMAT " channels, W expects %" G_GINT64_FORMAT,
                      x->dims[1], w->dims[1] * group);
  if (ops_has (in, n_in, 2) && (in[2].dtype != OVA_DTYPE_FLOAT32 || in[2].rank != 1 ||
                                (in[2].dims[0] >= 0 && w->dims[0] >= 0 && in[2].dims[0] != w->dims[0])))
    return OPS_SHAPE (node, "bias must be a float vector of %" G_GINT64_FORMAT " values", w->dims[0]);
  Geom g;
  if (!geom_init (node, &g, nsp, x->dims + 2, k, FALSE, FALSE, error))
    return FALSE;
  int64_t dims[OVA_MAX_DIMS] = { x->dims[0], w->dims[0] };
  for (int i = 0; i < nsp; i++)
    dims[2 + i] = g.out[i];
  ops_set_shape (&out[0], OVA_DTYPE_FLOAT32, x->rank, dims);
  return TRUE;
}

/* cols[(c, kd, kh, kw), (od, oh, ow)] from one image's channels. */
static void
im2col (const float *x, int64_t C, const Geom *g, float *cols)
{
  int64_t P = g->out[0] * g->out[1] * g->out[2];
  int64_t row = 0;
  for (int64_t c = 0; c < C; c++) {
    const float *xc = x + c * g->in[0] * g->in[1] * g->in[2];
    for (int64_t kd = 0; kd < g->k[0]; kd++)
      for (int64_t kh = 0; kh < g->k[1]; kh++)
        for (int64_t kw = 0; kw < g->k[2]; kw++, row++) {
          float *dst = cols + row * P;
          for (int64_t od = 0; od < g->out[0]; od++) {
            int64_t id = od * g->s[0] - g->pb[0] + kd * g->d[0];
            for (int64_t oh = 0; oh < g->out[1]; oh++, dst += g->out[2]) {
              int64_t ih = oh * g->s[1] - g->pb[1] + kh * g->d[1];
              if (id < 0 || id >= g->in[0] || ih < 0 || ih >= g->in[1]) {
                memset (dst, 0, sizeof (float) * g->out[2]);
                continue;
              }
              const float *src = xc + (id * g->in[1] + ih) * g->in[2];
              int64_t w0 = -g->pb[2] + kw * g->d[2], sw = g->s[2], iw_n = g->in[2];
              for (int64_t ow = 0; ow < g->out[2]; ow++) {
                int64_t iw = ow * sw + w0;
                dst[ow] = (iw >= 0 && iw < iw_n) ? src[iw] : 0.0f;
              }
            }
          }
        }
  }
}

static gboolean
run_conv (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
          GError **error)
{
  const OvaTensorRef *x = &in[0], *w = &in[1];
  int nsp = x->rank - 2;
  int64_t group = ova_op_attr_int (node, "group", 1), k[3];
  Geom g;
  if (!conv_kernel_shape (node, w, nsp, k, error) ||
      !geom_init (node, &g, nsp, x->dims + 2, k, FALSE, FALSE, error))
    return FALSE;
  geom_pad3 (&g);
  int64_t N = x->dims[0], C = x->dims[1], M = w->dims[0];
  int64_t Cg = C / group, Mg = M / group;
  int64_t K = Cg * g.k[0] * g.k[1] * g.k[2];
  int64_t P = g.out[0] * g.out[1] * g.out[2], I = g.in[0] * g.in[1] * g.in[2];
  gboolean direct = K == Cg; /* 1x1, stride 1, no padding: X is already im2col */
  for (int i = 0; i < 3 && direct; i++)
    direct = g.s[i] == 1 && g.pb[i] == 0 && g.pe[i] == 0;
  float *cols = direct ? NULL : g_malloc (sizeof (float) * MAX (1, K * P));
  const float *X = x->data, *W = w->data, *B = ops_has (in, n_in, 2) ? in[2].data : NULL;
  float *Y = out[0].data;
  for (int64_t n = 0; n < N; n++)
    for (int64_t gr = 0; gr < group; gr++) {
      const float *xg = X + (n * C + gr * Cg) * I;
      float *yg = Y + (n * M + gr * Mg) * P;
      if (!direct)
        im2col (xg, Cg, &g, cols);
      if (B) {
        for (int64_t m = 0; m < Mg; m++)
          for (int64_t p = 0; p < P; p++)
            yg[m * P + p] = B[gr * Mg + m];
      }
      ops_sgemm (FALSE, FALSE, Mg, P, K, 1.0f, W + gr * Mg * K, K, direct ? xg : cols, P,
                 B ? 1.0f : 0.0f, yg, P);
    }
  g_free (cols);
  return TRUE;
}

static const OvaOpDef def_Conv = { "Conv", 1, infer_conv, run_conv };

/* ------------------------------------------------------------ ConvTranspose */

typedef struct {
  Geom g;
  int64_t out_pad[3];
} TGeom;

static gboolean
convt_geom (const OvaOpNode *node, const OvaTensorRef *x, const OvaTensorRef *w, TGeom *t,
            GError **error)
{
  int nsp = x->rank - 2;
  const int64_t *v, *os, *op;
  int n;
  Geom *g = &t->g;
  memset (t, 0, sizeof *t);
  g->nsp = nsp;
  if (nsp < 1 || nsp > 3)
    return OPS_UNSUP (node, "%d spatial dimensions not supported", nsp);
  if (!conv_kernel_shape (node, w, nsp, g->k, error))
    return FALSE;
  for (int i = 0; i < nsp; i++) {
    g->in[i] = x->dims[2 + i];
    g->s[i] = g->d[i] = 1;
  }
  if ((n = ova_op_attr_ints (node, "strides", &v)) == nsp)
    for (int i = 0; i < nsp; i++)
      g->s[i] = v[i];
  if ((n = ova_op_attr_ints (node, "dilations", &v)) == nsp)
    for (int i = 0; i < nsp; i++)
      g->d[i] = v[i];
  if ((n = ova_op_attr_ints (node, "output_padding", &op)) == nsp)
    for (int i = 0; i < nsp; i++)
      t->out_pad[i] = op[i];
  if ((n = ova_op_attr_ints (node, "pads", &v)) == 2 * nsp)
    for (int i = 0; i < nsp; i++) {
      g->pb[i] = v[i];
      g->pe[i] = v[i + nsp];
    }
  const char *ap = ova_op_attr_string (node, "auto_pad", "NOTSET");
  gboolean same_u = strcmp (ap, "SAME_UPPER") == 0, same_l = strcmp (ap, "SAME_LOWER") == 0;
  if (strcmp (ap, "VALID") == 0)
    for (int i = 0; i < nsp; i++)
      g->pb[i] = g->pe[i] = 0;
  int nos = ova_op_attr_ints (node, "output_shape", &os);
  if (nos >= nsp)
    os += nos - nsp;
  for (int i = 0; i < nsp; i++) {
    int64_t ek = (g->k[i] - 1) * g->d[i] + 1;
    if (g->in[i] < 0) {
      g->out[i] = nos >= nsp ? os[i] : -1;
      continue;
    }
    int64_t full = g->s[i] * (g->in[i] - 1) + t->out_pad[i] + ek;
    if (nos >= nsp || same_u || same_l) {
      int64_t target = nos >= nsp ? os[i] : g->in[i] * g->s[i];
      int64_t total = full - target;
      if (same_u || (nos >= nsp && !same_l && FALSE)) {
        g->pb[i] = total / 2;
        g->pe[i] = total - total / 2;
      } else if (same_l) {
        g->pb[i] = total - total / 2;
        g->pe[i] = total / 2;
      } else {
        /* explicit output_shape: as ONNX's reference, the larger half at the end */
        g->pb[i] = total / 2;
        g->pe[i] = total - total / 2;
      }
      g->out[i] = target;
    } else {
      g->out[i] = full - g->pb[i] - g->pe[i];
    }
    if (g->out[i] < 1)
      return OPS_SHAPE (node, "output size %" G_GINT64_FORMAT " along spatial axis %d", g->out[i], i);
  }
  return TRUE;
}

static gboolean
infer_convt (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
             int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 2, 3, error))
    return FALSE;
  const OvaTensorRef *x = &in[0], *w = &in[1];
  if (x->dtype != OVA_DTYPE_FLOAT32 || w->dtype != OVA_DTYPE_FLOAT32)
    return OPS_UNSUP (node, "only float32 is supported");
  if (x->rank < 3 || w->rank != x->rank)
    return OPS_SHAPE (node, "X rank %d and W rank %d do not fit", x->rank, w->rank);
  int64_t group = ova_op_attr_int (node, "group", 1);
  if (group < 1 || (x->dims[1] >= 0 && w->dims[0] >= 0 && x->dims[1] != w->dims[0]) ||
      (x->dims[1] >= 0 && x->dims[1] % group))
    return OPS_SHAPE (node, "X channels and W do not fit");
  if (ops_has (in, n_in, 2) && (in[2].dtype != OVA_DTYPE_FLOAT32 || in[2].rank != 1 ||
                                (in[2].dims[0] >= 0 && w->dims[1] >= 0 &&
                                                    in[2].dims[0] != w->dims[1] * group)))
    return OPS_SHAPE (node, "bias does not match the output channels");
  TGeom t;
  if (!convt_geom (node, x, w, &t, error))
    return FALSE;
  int64_t dims[OVA_MAX_DIMS] = { x->dims[0], w->dims[1] < 0 ? -1 : w->dims[1] * group };
  for (int i = 0; i < x->rank - 2; i++)
    dims[2 + i] = t.g.out[i];
  ops_set_shape (&out[0], OVA_DTYPE_FLOAT32, x->rank, dims);
  return ops_check_size (node, &out[0], error);
}

static gboolean
run_convt (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
           int n_out, GError **error)
{
  const OvaTensorRef *x = &in[0], *w = &in[1];
  int64_t group = ova_op_attr_int (node, "group", 1);
  TGeom t;
  if (!convt_geom (node, x, w, &t, error))
    return FALSE;
  Geom *g = &t.g;
  geom_pad3 (g);
  int64_t N = x->dims[0], C = x->dims[1], Cg = C / group, Mg = w->dims[1], M = Mg * group;
  int64_t KK = g->k[0] * g->k[1] * g->k[2];
  int64_t I = g->in[0] * g->in[1] * g->in[2], O = g->out[0] * g->out[1] * g->out[2];
  float *cols = g_malloc (sizeof (float) * MAX (1, Mg * KK * I));
  const float *X = x->data, *W = w->data, *B = ops_has (in, n_in, 2) ? in[2].data : NULL;
  float *Y = out[0].data;
  for (int64_t n = 0; n < N; n++)
    for (int64_t gr = 0; gr < group; gr++) {
      /* cols[(m, k), i] = sum_c W[c, m, k] X[c, i] */
      ops_sgemm (TRUE, FALSE, Mg * KK, I, Cg, 1.0f, W + gr * Cg * Mg * KK, Mg * KK,
                 X + (n * C + gr * Cg) * I, I, 0.0f, cols, I);
      for (int64_t m = 0; m < Mg; m++) {
        float *y = Y + (n * M + gr * Mg + m) * O;
        float b = B ? B[gr * Mg + m] : 0.0f;
        for (int64_t o = 0; o < O; o++)
          y[o] = b;
        const float *cm = cols + m * KK * I;
        for (int64_t kd = 0; kd < g->k[0]; kd++)
          for (int64_t kh = 0; kh < g->k[1]; kh++)
            for (int64_t kw = 0; kw < g->k[2]; kw++, cm += I)
              for (int64_t id = 0; id < g->in[0]; id++) {
                int64_t od = id * g->s[0] - g->pb[0] + kd * g->d[0];
                if (od < 0 || od >= g->out[0])
                  continue;
                for (int64_t ih = 0; ih < g->in[1]; ih++) {
                  int64_t oh = ih * g->s[1] - g->pb[1] + kh * g->d[1];
                  if (oh < 0 || oh >= g->out[1])
                    continue;
                  const float *src = cm + (id * g->in[1] + ih) * g->in[2];
                  float *dst = y + (od * g->out[1] + oh) * g->out[2];
                  for (int64_t iw = 0; iw < g->in[2]; iw++) {
                    int64_t ow = iw * g->s[2] - g->pb[2] + kw * g->d[2];
                    if (ow >= 0 && ow < g->out[2])
                      dst[ow] += src[iw];
                  }
                }
              }
      }
    }
  g_free (cols);
  return TRUE;
}

static const OvaOpDef def_ConvTranspose = { "ConvTranspose", 1, infer_convt, run_convt };

/* ------------------------------------------------------------ pooling */

static gboolean
pool_geom (const OvaOpNode *node, const OvaTensorRef *x, Geom *g, GError **error)
{
  const int64_t *k;
  int nsp = x->rank - 2;
  if (ova_op_attr_ints (node, "kernel_shape", &k) != nsp)
    return OPS_SHAPE (node, "kernel_shape must have %d values", nsp);
  gboolean ceil_mode = ova_op_attr_int (node, "ceil_mode", 0) != 0;
  return geom_init (node, g, nsp, x->dims + 2, k, ceil_mode, TRUE, error);
}

static gboolean
infer_pool (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
            int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 1, 1, error))
    return FALSE;
  const OvaTensorRef *x = &in[0];
  gboolean is_max = strcmp (node->op_type, "MaxPool") == 0;
  if (x->dtype != OVA_DTYPE_FLOAT32 && !(is_max && x->dtype == OVA_DTYPE_UINT8))
    return OPS_UNSUP (node, "data type %d not supported", x->dtype);
  if (x->rank < 3)
    return OPS_SHAPE (node, "input rank %d, expected at least 3", x->rank);
  if (!is_max && ova_op_attr (node, "dilations")) {
    const int64_t *d;
    int n = ova_op_attr_ints (node, "dilations", &d);
    for (int i = 0; i < n; i++)
      if (d[i] != 1)
        return OPS_UNSUP (node, "dilated average pooling not supported");
  }
  Geom g;
  if (!pool_geom (node, x, &g, error))
    return FALSE;
  int64_t dims[OVA_MAX_DIMS] = { x->dims[0], x->dims[1] };
  for (int i = 0; i < x->rank - 2; i++)
    dims[2 + i] = g.out[i];
  ops_set_shape (&out[0], x->dtype, x->rank, dims);
  if (n_out > 1) {
    if (!is_max)
      return OPS_SHAPE (node, "has %d outputs", n_out);
    ops_set_shape (&out[1], OVA_DTYPE_INT64, x->rank, dims);
  }
  return TRUE;
}

static gboolean
run_pool (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
          GError **error)
{
  const OvaTensorRef *x = &in[0];
  gboolean is_max = strcmp (node->op_type, "MaxPool") == 0;
  gboolean incl = ova_op_attr_int (node, "count_include_pad", 0) != 0;
  int storage = (int) ova_op_attr_int (node, "storage_order", 0);
  Geom g;
  if (!pool_geom (node, x, &g, error))
    return FALSE;
  geom_pad3 (&g);
  int64_t NC = x->dims[0] * x->dims[1];
  int64_t I = g.in[0] * g.in[1] * g.in[2], O = g.out[0] * g.out[1] * g.out[2];
  int64_t *idx_out = n_out > 1 && out[1].data ? out[1].data : NULL;
  gboolean u8 = x->dtype == OVA_DTYPE_UINT8;
  for (int64_t nc = 0; nc < NC; nc++) {
    const float *xf = u8 ? NULL : (const float *) x->data + nc * I;
    const uint8_t *xb = u8 ? (const uint8_t *) x->data + nc * I : NULL;
    int64_t o = nc * O;
    for (int64_t od = 0; od < g.out[0]; od++)
      for (int64_t oh = 0; oh < g.out[1]; oh++)
        for (int64_t ow = 0; ow < g.out[2]; ow++, o++) {
          int64_t s0 = od * g.s[0] - g.pb[0], s1 = oh * g.s[1] - g.pb[1], s2 = ow * g.s[2] - g.pb[2];
          double acc = is_max ? -INFINITY : 0.0;
          int64_t cnt = 0, arg = -1;
          for (int64_t kd = 0; kd < g.k[0]; kd++) {
            int64_t id = s0 + kd * g.d[0];
            gboolean vd = id >= 0 && id < g.in[0];
            gboolean pd = id >= -g.pb[0] && id < g.in[0] + g.pe[0];
            for (int64_t kh = 0; kh < g.k[1]; kh++) {
              int64_t ih = s1 + kh * g.d[1];
              gboolean vh = ih >= 0 && ih < g.in[1];
              gboolean ph = ih >= -g.pb[1] && ih < g.in[1] + g.pe[1];
              for (int64_t kw = 0; kw < g.k[2]; kw++) {
                int64_t iw = s2 + kw * g.d[2];
                gboolean vw = iw >= 0 && iw < g.in[2];
                if (!(vd && vh && vw)) {
                  if (incl && pd && ph && iw >= -g.pb[2] && iw < g.in[2] + g.pe[2])
                    cnt++;
                  continue;
                }
                int64_t p = (id * g.in[1] + ih) * g.in[2] + iw;
                double v = u8 ? xb[p] : xf[p];
                if (is_max) {
                  if (v > acc || arg < 0) {
                    acc = v;
                    arg = p;
                  }
                } else {
                  acc += v;
                }
                cnt++;
              }
            }
          }
          double r = is_max ? acc : (cnt ? acc / cnt : 0.0);
          if (u8)
            ((uint8_t *) out[0].data)[o] = (uint8_t) r;
          else
            ((float *) out[0].data)[o] = (float) r;
          if (idx_out) {
            int64_t a = arg < 0 ? 0 : arg;
            if (storage == 1) {
              int64_t hh = a / g.in[2], ww = a % g.in[2];
              a = ww * g.in[1] + hh;
            }
            idx_out[o] = nc * I + a;
          }
        }
  }
  return TRUE;
}

static const OvaOpDef def_MaxPool = { "MaxPool", 1, infer_pool, run_pool };
static const OvaOpDef def_AveragePool = { "AveragePool", 1, infer_pool, run_pool };

static gboolean
infer_gpool (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
             int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 1, 1, error))
    return FALSE;
  if (in[0].dtype != OVA_DTYPE_FLOAT32)
    return OPS_UNSUP (node, "only float32 is supported");
  if (in[0].rank < 2)
    return OPS_SHAPE (node, "input rank %d, expected at least 2", in[0].rank);
  ops_copy_shape (&out[0], &in[0]);
  for (int i = 2; i < in[0].rank; i++)
    out[0].dims[i] = 1;
  return TRUE;
}

static gboolean
run_gpool (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
           GError **error)
{
  gboolean is_max = strcmp (node->op_type, "GlobalMaxPool") == 0;
  int64_t NC = in[0].dims[0] * in[0].dims[1];
  int64_t I = ops_numel_dims (in[0].rank - 2, in[0].dims + 2);
  const float *x = in[0].data;
  float *y = out[0].data;
  for (int64_t nc = 0; nc < NC; nc++) {
    const float *p = x + nc * I;
    if (is_max) {
      float m = -INFINITY;
      for (int64_t i = 0; i < I; i++)
        m = p[i] > m ? p[i] : m;
      y[nc] = m;
    } else {
      float s = 0;
      for (int64_t i = 0; i < I; i++)
        s += p[i];
      y[nc] = I ? s / (float) I : 0.0f;
    }
  }
  return TRUE;
}

static const OvaOpDef def_GlobalAveragePool = { "GlobalAveragePool", 1, infer_gpool, run_gpool };
static const OvaOpDef def_GlobalMaxPool = { "GlobalMaxPool", 1, infer_gpool, run_gpool };

/* MaxUnpool: scatters values to the flat indices MaxPool returned, into
 * zeros of the pooled-from shape; with output_shape the same coordinates are
 * written into the (larger) given shape, as ONNX's reference does. */
static gboolean
maxunpool_default_dims (const OvaOpNode *node, const OvaTensorRef *x, int64_t *dims, GError **error)
{
  const int64_t *k, *s, *p;
  int nsp = x->rank - 2;
  if (ova_op_attr_ints (node, "kernel_shape", &k) != nsp)
    return OPS_SHAPE (node, "kernel_shape must have %d values", nsp);
  int ns = ova_op_attr_ints (node, "strides", &s), np = ova_op_attr_ints (node, "pads", &p);
  if ((ns && ns != nsp) || (np && np != 2 * nsp))
    return OPS_SHAPE (node, "strides or pads do not fit the rank");
  dims[0] = x->dims[0];
  dims[1] = x->dims[1];
  for (int i = 0; i < nsp; i++) {
    int64_t st = ns ? s[i] : 1, pad = np ? p[i] + p[i + nsp] : 0;
    dims[2 + i] = x->dims[2 + i] < 0 ? -1 : (x->dims[2 + i] - 1) * st + k[i] - pad;
    if (dims[2 + i] < -1 || st < 1 || k[i] < 1)
      return OPS_SHAPE (node, "bad kernel, strides or pads");
  }
  return TRUE;
}

static gboolean
infer_maxunpool (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
                 int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 2, 3, error))
    return FALSE;
  const OvaTensorRef *x = &in[0];
  if (x->dtype != OVA_DTYPE_FLOAT32 || in[1].dtype != OVA_DTYPE_INT64)
    return OPS_UNSUP (node, "X must be float32 and I int64");
  if (x->rank < 3 || in[1].rank != x->rank)
    return OPS_SHAPE (node, "X and I must have the same rank >= 3");
  for (int i = 0; i < x->rank; i++)
    if (x->dims[i] >= 0 && in[1].dims[i] >= 0 && x->dims[i] != in[1].dims[i])
      return OPS_SHAPE (node, "X and I differ in shape");
  int64_t dims[OVA_MAX_DIMS];
  if (ops_has (in, n_in, 2)) {
    if (in[2].rank != 1 || (in[2].dims[0] >= 0 && in[2].dims[0] != x->rank))
      return OPS_SHAPE (node, "output_shape must list %d dims", x->rank);
    int n = ops_read_ints (&in[2], dims, OVA_MAX_DIMS);
    OPS_READ_CHECK (node, n, "output_shape");
    if (n < 0)
      for (int i = 0; i < x->rank; i++)
        dims[i] = -1;
    for (int i = 0; i < n; i++)
      if (dims[i] < 0)
        return OPS_SHAPE (node, "negative output dimension");
    if (n >= 2 && ((x->dims[0] >= 0 && dims[0] != x->dims[0]) || (x->dims[1] >= 0 && dims[1] != x->dims[1])))
      return OPS_SHAPE (node, "output_shape must keep N and C");
  } else if (!maxunpool_default_dims (node, x, dims, error)) {
    return FALSE;
  }
  ops_set_shape (&out[0], OVA_DTYPE_FLOAT32, x->rank, dims);
  return ops_check_size (node, &out[0], error);
}

static gboolean
run_maxunpool (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
               int n_out, GError **error)
{
  int64_t dd[OVA_MAX_DIMS];
  if (!maxunpool_default_dims (node, &in[0], dd, error))
    return FALSE;
  int r = in[0].rank;
  int64_t n = ova_tensor_ref_numel (&in[0]), total = ova_tensor_ref_numel (&out[0]);
  int64_t NC = in[0].dims[0] * in[0].dims[1];
  int64_t per_in = NC ? n / NC : 0, per_def = ops_numel_dims (r - 2, dd + 2);
  int64_t per_out = ops_numel_dims (r - 2, out[0].dims + 2);
  float *y = out[0].data;
  if (total > 0)
    memset (y, 0, sizeof (float) * total);
  const float *x = in[0].data;
  const int64_t *idx = in[1].data;
  for (int64_t i = 0; i < n; i++) {
    /* indices are flat over the pooled-from tensor; keep them in their plane */
    int64_t plane = per_in ? i / per_in : 0, j = idx[i] - plane * per_def;
    if (j < 0 || j >= per_def)
      return OPS_SHAPE (node, "index %" G_GINT64_FORMAT " outside its plane", idx[i]);
    int64_t off = 0, st = 1;
    gboolean inside = TRUE;
    for (int a = r - 1; a >= 2; a--) { /* same coordinates in the output plane */
      int64_t c = j % dd[a];
      j /= dd[a];
      if (c >= out[0].dims[a])
        inside = FALSE;
      off += c * st;
      st *= out[0].dims[a];
    }
    if (inside)
      y[plane * per_out + off] = x[i];
  }
  return TRUE;
}

static const OvaOpDef def_MaxUnpool = { "MaxUnpool", 9, infer_maxunpool, run_maxunpool };

/* ------------------------------------------------------------ Gemm / MatMul */

static gboolean
infer_gemm (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
            int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 2, 3, error))
    return FALSE;
  if (in[0].dtype != OVA_DTYPE_FLOAT32 || in[1].dtype != OVA_DTYPE_FLOAT32)
    return OPS_UNSUP (node, "only float32 is supported");
  if (in[0].rank != 2 || in[1].rank != 2)
    return OPS_SHAPE (node, "A and B must be 2-D (ranks %d, %d)", in[0].rank, in[1].rank);
  gboolean ta = ova_op_attr_int (node, "transA", 0), tb = ova_op_attr_int (node, "transB", 0);
  int64_t M = in[0].dims[ta ? 1 : 0], K = in[0].dims[ta ? 0 : 1];
  int64_t K2 = in[1].dims[tb ? 1 : 0], N = in[1].dims[tb ? 0 : 1];
  if (K >= 0 && K2 >= 0 && K != K2)
    return OPS_SHAPE (node, "inner dimensions differ: %" G_GINT64_FORMAT " vs %" G_GINT64_FORMAT, K, K2);
  int64_t dims[2] = { M, N };
  if (ops_has (in, n_in, 2)) {
    if (in[2].dtype != OVA_DTYPE_FLOAT32)
      return OPS_UNSUP (node, "only float32 is supported (C)");
    int r;
    int64_t bd[OVA_MAX_DIMS];
    if (!ops_broadcast_dims (node, 2, dims, in[2].rank, in[2].dims, &r, bd, error))
      return FALSE;
    if (r != 2 || (bd[0] != M && M >= 0) || (bd[1] != N && N >= 0))
      return OPS_SHAPE (node, "C does not broadcast to [M, N]");
  }
  ops_set_shape (&out[0], OVA_DTYPE_FLOAT32, 2, dims);
  return TRUE;
}

static gboolean
run_gemm (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
          GError **error)
{
  gboolean ta = ova_op_attr_int (node, "transA", 0), tb = ova_op_attr_int (node, "transB", 0);
  float alpha = ova_op_attr_float (node, "alpha", 1.0f), beta = ova_op_attr_float (node, "beta", 1.0f);
  int64_t M = out[0].dims[0], N = out[0].dims[1], K = in[0].dims[ta ? 0 : 1];
  gboolean has_c = ops_has (in, n_in, 2) && beta != 0.0f;
  if (has_c) {
    ops_broadcast_copy (&in[2], &out[0]);
  }
  ops_sgemm (ta, tb, M, N, K, alpha, in[0].data, in[0].dims[1], in[1].data, in[1].dims[1],
             has_c ? beta : 0.0f, out[0].data, N);
  return TRUE;
}

static const OvaOpDef def_Gemm = { "Gemm", 7, infer_gemm, run_gemm };

static gboolean
matmul_shape (const OvaOpNode *node, const OvaTensorRef *a, const OvaTensorRef *b, int *rank,
              int64_t *dims, GError **error)
{
  if (a->rank < 1 || b->rank < 1)
    return OPS_SHAPE (node, "MatMul inputs must have rank >= 1");
  int64_t M = a->rank >= 2 ? a->dims[a->rank - 2] : 1, K = a->dims[a->rank - 1];
  int64_t K2 = b->rank >= 2 ? b->dims[b->rank - 2] : b->dims[0], N = b->rank >= 2 ? b->dims[b->rank - 1] : 1;
  if (K >= 0 && K2 >= 0 && K != K2)
    return OPS_SHAPE (node, "inner dimensions differ: %" G_GINT64_FORMAT " vs %" G_GINT64_FORMAT, K, K2);
  int r;
  int64_t bd[OVA_MAX_DIMS];
  if (!ops_broadcast_dims (node, MAX (0, a->rank - 2), a->dims, MAX (0, b->rank - 2), b->dims, &r,
                           bd, error))
    return FALSE;
  if (a->rank >= 2)
    bd[r++] = M;
  if (b->rank >= 2)
    bd[r++] = N;
  if (r > OVA_MAX_DIMS)
    return OPS_SHAPE (node, "rank too large");
  *rank = r;
  memcpy (dims, bd, sizeof (int64_t) * r);
  return TRUE;
}

static gboolean
infer_matmul (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
              int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 2, 2, error))
    return FALSE;
  if (in[0].dtype != in[1].dtype || !(in[0].dtype == OVA_DTYPE_FLOAT32 ||
      ops_dtype_is_int (in[0].dtype) || in[0].dtype == OVA_DTYPE_FLOAT64))
    return OPS_UNSUP (node, "data types %d, %d not supported", in[0].dtype, in[1].dtype);
  int r = 0;
  int64_t dims[OVA_MAX_DIMS];
  if (!matmul_shape (node, &in[0], &in[1], &r, dims, error))
    return FALSE;
  ops_set_shape (&out[0], in[0].dtype, r, dims);
  return TRUE;
}

static gboolean
run_matmul (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
            int n_out, GError **error)
{
  const OvaTensorRef *a = &in[0], *b = &in[1];
  int64_t M = a->rank >= 2 ? a->dims[a->rank - 2] : 1, K = a->dims[a->rank - 1];
  int64_t N = b->rank >= 2 ? b->dims[b->rank - 1] : 1;
  /* batch broadcasting: iterate the output's batch index, map to a and b */
  OvaTensorRef ab = { a->dtype, MAX (0, a->rank - 2) }, bb = { b->dtype, MAX (0, b->rank - 2) };
  memcpy (ab.dims, a->dims, sizeof (int64_t) * ab.rank);
  memcpy (bb.dims, b->dims, sizeof (int64_t) * bb.rank);
  int br = 0;
  int64_t bd[OVA_MAX_DIMS];
  ops_broadcast_dims (node, ab.rank, ab.dims, bb.rank, bb.dims, &br, bd, NULL);
  int64_t nb = ops_numel_dims (br, bd);
  size_t es = ops_dtype_size (a->dtype);
  for (int64_t bi = 0; bi < nb; bi++) {
    int64_t rem = bi, ia = 0, ib = 0, sa = 1, sb = 1;
    for (int i = br - 1; i >= 0; i--) {
      int64_t idx = rem % bd[i];
      rem /= bd[i];
      int ja = i - (br - ab.rank), jb = i - (br - bb.rank);
      if (ja >= 0) {
        if (ab.dims[ja] != 1)
          ia += idx * sa;
        sa *= ab.dims[ja];
      }
      if (jb >= 0) {
        if (bb.dims[jb] != 1)
          ib += idx * sb;
        sb *= bb.dims[jb];
      }
    }
    const uint8_t *pa = (const uint8_t *) a->data + ia * M * K * es;
    const uint8_t *pb = (const uint8_t *) b->data + ib * K * N * es;
    uint8_t *pc = (uint8_t *) out[0].data + bi * M * N * es;
    if (a->dtype == OVA_DTYPE_FLOAT32) {
      ops_sgemm (FALSE, FALSE, M, N, K, 1.0f, (const float *) pa, K, (const float *) pb, N, 0.0f,
                 (float *) pc, N);
    } else {
      gboolean f = ops_dtype_is_float (a->dtype);
      for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
          double sf = 0;
          int64_t si = 0;
          for (int64_t k = 0; k < K; k++) {
            if (f)
              sf += ops_get_f64 (pa, a->dtype, i * K + k) * ops_get_f64 (pb, b->dtype, k * N + j);
            else
              si += ops_get_i64 (pa, a->dtype, i * K + k) * ops_get_i64 (pb, b->dtype, k * N + j);
          }
          if (f)
            ops_set_f64 (pc, out[0].dtype, i * N + j, sf);
          else
            ops_set_i64 (pc, out[0].dtype, i * N + j, si);
        }
    }
  }
  return TRUE;
}

static const OvaOpDef def_MatMul = { "MatMul", 1, infer_matmul, run_matmul };

/* ------------------------------------------------------------ normalisation */

static gboolean
infer_bn (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
          GError **error)
{
  if (!ops_check_inputs (node, n_in, 5, 5, error))
    return FALSE;
  for (int i = 0; i < 5; i++)
    if (in[i].dtype != OVA_DTYPE_FLOAT32)
      return OPS_UNSUP (node, "only float32 is supported");
  if (in[0].rank < 2)
    return OPS_SHAPE (node, "input rank %d, expected at least 2", in[0].rank);
  int64_t C = in[0].dims[1];
  for (int i = 1; i < 5; i++)
    if (in[i].rank != 1 || (C >= 0 && in[i].dims[0] >= 0 && in[i].dims[0] != C))
      return OPS_SHAPE (node, "input %d must be a vector of %" G_GINT64_FORMAT " channels", i, C);
  ops_copy_shape (&out[0], &in[0]);
  for (int i = 1; i < n_out; i++)
    ops_copy_shape (&out[i], &in[i == 1 ? 3 : 4]);
  return TRUE;
}

static gboolean
run_bn (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
        GError **error)
{
  float eps = ova_op_attr_float (node, "epsilon", 1e-5f);
  float momentum = ova_op_attr_float (node, "momentum", 0.9f);
  gboolean training = node->opset >= 14 && ova_op_attr_int (node, "training_mode", 0) != 0;
  int64_t N = in[0].dims[0], C = in[0].dims[1];
  int64_t I = ops_numel_dims (in[0].rank - 2, in[0].dims + 2);
  const float *x = in[0].data, *scale = in[1].data, *bias = in[2].data;
  const float *mean = in[3].data, *var = in[4].data;
  float *y = out[0].data;
  for (int64_t c = 0; c < C; c++) {
    double m = mean[c], v = var[c];
    if (training) {
      double s = 0, ss = 0;
      int64_t cnt = N * I;
      for (int64_t n = 0; n < N; n++)
        for (int64_t i = 0; i < I; i++)
          s += x[(n * C + c) * I + i];
      m = cnt ? s / cnt : 0;
      for (int64_t n = 0; n < N; n++)
        for (int64_t i = 0; i < I; i++) {
          double d = x[(n * C + c) * I + i] - m;
          ss += d * d;
        }
      v = cnt ? ss / cnt : 0;
      if (n_out > 1 && out[1].data)
        ((float *) out[1].data)[c] = (float) (mean[c] * momentum + m * (1 - momentum));
      if (n_out > 2 && out[2].data)
        ((float *) out[2].data)[c] = (float) (var[c] * momentum + v * (1 - momentum));
    } else {
      if (n_out > 1 && out[1].data)
        ((float *) out[1].data)[c] = mean[c];
      if (n_out > 2 && out[2].data)
        ((float *) out[2].data)[c] = var[c];
    }
    const float a = (float) (scale[c] / sqrt (v + eps)), b = (float) (bias[c] - m * a);
    for (int64_t n = 0; n < N; n++) {
      const float *restrict xp = x + (n * C + c) * I;
      float *restrict yp = y + (n * C + c) * I;
      for (int64_t i = 0; i < I; i++)
        yp[i] = xp[i] * a + b;
    }
  }
  return TRUE;
}

static const OvaOpDef def_BatchNormalization = { "BatchNormalization", 7, infer_bn, run_bn };

static gboolean
infer_in (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
          GError **error)
{
  if (!ops_check_inputs (node, n_in, 3, 3, error))
    return FALSE;
  if (in[0].dtype != OVA_DTYPE_FLOAT32 || in[1].dtype != OVA_DTYPE_FLOAT32 || in[2].dtype != OVA_DTYPE_FLOAT32)
    return OPS_UNSUP (node, "only float32 is supported");
  if (in[0].rank < 3)
    return OPS_SHAPE (node, "input rank %d, expected at least 3", in[0].rank);
  for (int i = 1; i < 3; i++)
    if (in[i].rank != 1 || (in[0].dims[1] >= 0 && in[i].dims[0] >= 0 && in[i].dims[0] != in[0].dims[1]))
      return OPS_SHAPE (node, "input %d must be a vector of %" G_GINT64_FORMAT " channels", i, in[0].dims[1]);
  ops_copy_shape (&out[0], &in[0]);
  return TRUE;
}

/* mean and 1/sqrt(var + eps) of n values (two passes, in double). */
static void
moments (const float *x, int64_t n, double eps, double *mean, double *inv_std)
{
  double s = 0, ss = 0;
  for (int64_t i = 0; i < n; i++)
    s += x[i];
  double m = n ? s / n : 0;
  for (int64_t i = 0; i < n; i++)
    ss += (x[i] - m) * (x[i] - m);
  *mean = m;
  *inv_std = 1.0 / sqrt ((n ? ss / n : 0) + eps);
}

static gboolean
run_in (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
        GError **error)
{
  float eps = ova_op_attr_float (node, "epsilon", 1e-5f);
  int64_t N = in[0].dims[0], C = in[0].dims[1];
  int64_t I = ops_numel_dims (in[0].rank - 2, in[0].dims + 2);
  const float *scale = in[1].data, *bias = in[2].data;
  for (int64_t n = 0; n < N; n++)
    for (int64_t c = 0; c < C; c++) {
      const float *restrict x = (const float *) in[0].data + (n * C + c) * I;
      float *restrict y = (float *) out[0].data + (n * C + c) * I;
      double m, is;
      moments (x, I, eps, &m, &is);
      const float a = (float) (scale[c] * is), b = (float) (bias[c] - m * scale[c] * is);
      for (int64_t i = 0; i < I; i++)
        y[i] = x[i] * a + b;
    }
  return TRUE;
}

static const OvaOpDef def_InstanceNormalization = { "InstanceNormalization", 6, infer_in, run_in };

/* GroupNormalization (opset 18): scale and bias per group as that opset
 * defines them, or per channel (opset 21's form) when they hold C values. */
static gboolean
infer_gn (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
          GError **error)
{
  if (!ops_check_inputs (node, n_in, 3, 3, error))
    return FALSE;
  for (int i = 0; i < 3; i++)
    if (in[i].dtype != OVA_DTYPE_FLOAT32)
      return OPS_UNSUP (node, "only float32 is supported");
  int64_t G = ova_op_attr_int (node, "num_groups", 0), C = in[0].rank >= 2 ? in[0].dims[1] : -1;
  if (in[0].rank < 3 || G < 1 || (C >= 0 && C % G))
    return OPS_SHAPE (node, "needs rank >= 3 and num_groups dividing the channels");
  for (int i = 1; i < 3; i++) {
    int64_t n = ops_numel_dims (in[i].rank, in[i].dims);
    if (in[i].rank != 1 || (n >= 0 && n != G && (C < 0 || n != C)))
      return OPS_SHAPE (node, "input %d must hold num_groups or C values", i);
  }
  ops_copy_shape (&out[0], &in[0]);
  return TRUE;
}

static gboolean
run_gn (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
        GError **error)
{
  float eps = ova_op_attr_float (node, "epsilon", 1e-5f);
  int64_t G = ova_op_attr_int (node, "num_groups", 1), N = in[0].dims[0], C = in[0].dims[1];
  int64_t I = ops_numel_dims (in[0].rank - 2, in[0].dims + 2), Cg = C / G;
  gboolean per_channel = in[1].dims[0] == C && C != G;
  const float *scale = in[1].data, *bias = in[2].data;
  for (int64_t n = 0; n < N; n++)
    for (int64_t g = 0; g < G; g++) {
      const float *x = (const float *) in[0].data + (n * C + g * Cg) * I;
      float *y = (float *) out[0].data + (n * C + g * Cg) * I;
      double m, is;
      moments (x, Cg * I, eps, &m, &is);
      for (int64_t c = 0; c < Cg; c++) {
        int64_t p = per_channel ? g * Cg + c : g;
        const float a = (float) (scale[p] * is), b = (float) (bias[p] - m * scale[p] * is);
        for (int64_t i = 0; i < I; i++)
          y[c * I + i] = x[c * I + i] * a + b;
      }
    }
  return TRUE;
}

static const OvaOpDef def_GroupNormalization = { "GroupNormalization", 18, infer_gn, run_gn };

static gboolean
infer_ln (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
          GError **error)
{
  if (!ops_check_inputs (node, n_in, 2, 3, error))
    return FALSE;
  if (in[0].dtype != OVA_DTYPE_FLOAT32 || in[1].dtype != OVA_DTYPE_FLOAT32)
    return OPS_UNSUP (node, "only float32 is supported (X and Scale are required)");
  int axis;
  if (!ops_axis (node, ova_op_attr_int (node, "axis", -1), in[0].rank, &axis, error))
    return FALSE;
  for (int k = 1; k < n_in; k++) {
    if (!ops_has (in, n_in, k))
      continue;
    int r;
    int64_t bd[OVA_MAX_DIMS];
    if (in[k].dtype != OVA_DTYPE_FLOAT32)
      return OPS_UNSUP (node, "only float32 is supported");
    if (!ops_broadcast_dims (node, in[0].rank - axis, in[0].dims + axis, in[k].rank, in[k].dims,
                             &r, bd, error))
      return FALSE;
    gboolean fits = r == in[0].rank - axis;
    for (int i = 0; fits && i < r; i++)
      fits = in[0].dims[axis + i] < 0 || bd[i] == in[0].dims[axis + i];
    if (!fits)
      return OPS_SHAPE (node, "input %d does not broadcast to the normalised shape", k);
  }
  ops_copy_shape (&out[0], &in[0]);
  for (int i = 1; i < n_out; i++) {
    ops_copy_shape (&out[i], &in[0]);
    for (int d = axis; d < in[0].rank; d++)
      out[i].dims[d] = 1;
  }
  return TRUE;
}

static gboolean
run_ln (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
        GError **error)
{
  float eps = ova_op_attr_float (node, "epsilon", 1e-5f);
  int axis;
  if (!ops_axis (node, ova_op_attr_int (node, "axis", -1), in[0].rank, &axis, error))
    return FALSE;
  int64_t outer = ops_numel_dims (axis, in[0].dims);
  int64_t inner = ops_numel_dims (in[0].rank - axis, in[0].dims + axis);
  /* Scale and B broadcast to the normalised shape */
  OvaTensorRef ns = { OVA_DTYPE_FLOAT32, in[0].rank - axis };
  memcpy (ns.dims, in[0].dims + axis, sizeof (int64_t) * ns.rank);
  float *sc = g_malloc (sizeof (float) * MAX (1, inner) * 2), *bi = sc + inner;
  ns.data = sc;
  ops_broadcast_copy (&in[1], &ns);
  if (ops_has (in, n_in, 2)) {
    ns.data = bi;
    ops_broadcast_copy (&in[2], &ns);
  } else {
    memset (bi, 0, sizeof (float) * inner);
  }
  for (int64_t o = 0; o < outer; o++) {
    const float *restrict x = (const float *) in[0].data + o * inner;
    float *restrict y = (float *) out[0].data + o * inner;
    double m, is;
    moments (x, inner, eps, &m, &is);
    const float mf = (float) m, isf = (float) is;
    for (int64_t i = 0; i < inner; i++)
      y[i] = (x[i] - mf) * isf * sc[i] + bi[i];
    if (n_out > 1 && out[1].data)
      ((float *) out[1].data)[o] = mf;
    if (n_out > 2 && out[2].data)
      ((float *) out[2].data)[o] = isf;
  }
  g_free (sc);
  return TRUE;
}

static const OvaOpDef def_LayerNormalization = { "LayerNormalization", 17, infer_ln, run_ln };

/* ------------------------------------------------------------ integer Conv / MatMul
 * ConvInteger, MatMulInteger, QLinearConv, QLinearMatMul (int8 models in
 * QOperator form). Operands minus their zero points are small integers,
 * exact in float and their products' sums exact in double: im2col runs in
 * float, the GEMM accumulates in double, so the int32 results are exact. */

static gboolean
is_q8 (OvaDataType dt)
{
  return dt == OVA_DTYPE_UINT8 || dt == OVA_DTYPE_INT8;
}

/* Zero point of parameter @i of an optional zero-point input (per tensor or
 * per channel). */
static inline double
zp_at (const OvaTensorRef *in, int n_in, int idx, int64_t i)
{
  if (!ops_has (in, n_in, idx))
    return 0;
  int64_t n = ova_tensor_ref_numel (&in[idx]);
  return ops_get_f64 (in[idx].data, in[idx].dtype, n > 1 ? i : 0);
}

static inline double
scale_at (const OvaTensorRef *t, int64_t i)
{
  int64_t n = ova_tensor_ref_numel (t);
  return ops_get_f64 (t->data, t->dtype, n > 1 ? i : 0);
}

/* C[M x N] = A[M x K] B[K x N] in double, i-k-j */
static void
dgemm (int64_t M, int64_t N, int64_t K, const double *A, const double *B, double *C)
{
  memset (C, 0, sizeof (double) * M * N);
  for (int64_t i = 0; i < M; i++)
    for (int64_t k = 0; k < K; k++) {
      const double a = A[i * K + k];
      const double *restrict b = B + k * N;
      double *restrict c = C + i * N;
      for (int64_t j = 0; j < N; j++)
        c[j] += a * b[j];
    }
}

typedef struct {
  gboolean qlinear; /* QLinearConv (else ConvInteger) */
  int x, x_zp, w, w_zp, bias; /* input indices (-1: none) */
} QConvIdx;

static void
qconv_idx (const OvaOpNode *node, QConvIdx *q)
{
  q->qlinear = strcmp (node->op_type, "QLinearConv") == 0;
  if (q->qlinear) {
    q->x = 0, q->x_zp = 2, q->w = 3, q->w_zp = 5, q->bias = 8;
  } else {
    q->x = 0, q->w = 1, q->x_zp = 2, q->w_zp = 3, q->bias = -1;
  }
}

static gboolean
infer_qconv (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
             int n_out, GError **error)
{
  QConvIdx q;
  qconv_idx (node, &q);
  if (!ops_check_inputs (node, n_in, q.qlinear ? 8 : 2, q.qlinear ? 9 : 4, error))
    return FALSE;
  const OvaTensorRef *x = &in[q.x], *w = &in[q.w];
  if (!is_q8 (x->dtype) || !is_q8 (w->dtype))
    return OPS_UNSUP (node, "X and W must be uint8 or int8");
  if (q.qlinear && (in[1].dtype != OVA_DTYPE_FLOAT32 || in[4].dtype != OVA_DTYPE_FLOAT32 ||
                    in[6].dtype != OVA_DTYPE_FLOAT32 || !is_q8 (in[7].dtype)))
    return OPS_UNSUP (node, "scales must be float32 and the output zero point 8-bit");
  if (x->rank < 3 || w->rank != x->rank)
    return OPS_SHAPE (node, "X rank %d and W rank %d do not fit", x->rank, w->rank);
  int nsp = x->rank - 2;
  int64_t group = ova_op_attr_int (node, "group", 1), k[3];
  if (!conv_kernel_shape (node, w, nsp, k, error))
    return FALSE;
  if (group < 1 || (w->dims[0] >= 0 && w->dims[0] % group) ||
      (x->dims[1] >= 0 && w->dims[1] >= 0 && x->dims[1] != w->dims[1] * group))
    return OPS_SHAPE (node, "channels and group do not fit");
  int64_t M = w->dims[0];
  if (ops_has (in, n_in, q.w_zp) && ova_tensor_ref_numel (&in[q.w_zp]) != 1 && ova_tensor_ref_numel (&in[q.w_zp]) != M)
    return OPS_SHAPE (node, "weight zero point must hold 1 or M values");
  if (q.qlinear && ova_tensor_ref_numel (&in[4]) != 1 && ova_tensor_ref_numel (&in[4]) != M)
    return OPS_SHAPE (node, "weight scale must hold 1 or M values");
  if (ops_has (in, n_in, q.x_zp) && ova_tensor_ref_numel (&in[q.x_zp]) != 1)
    return OPS_SHAPE (node, "input zero point must be a scalar");
  if (q.bias >= 0 && ops_has (in, n_in, q.bias) &&
      (in[q.bias].dtype != OVA_DTYPE_INT32 || ova_tensor_ref_numel (&in[q.bias]) != M))
    return OPS_SHAPE (node, "bias must be int32 with M values");
  Geom g;
  if (!geom_init (node, &g, nsp, x->dims + 2, k, FALSE, FALSE, error))
    return FALSE;
  int64_t dims[OVA_MAX_DIMS] = { x->dims[0], M };
  for (int i = 0; i < nsp; i++)
    dims[2 + i] = g.out[i];
  ops_set_shape (&out[0], q.qlinear ? in[7].dtype : OVA_DTYPE_INT32, x->rank, dims);
  return TRUE;
}

static gboolean
run_qconv (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
           GError **error)
{
  QConvIdx q;
  qconv_idx (node, &q);
  const OvaTensorRef *x = &in[q.x], *w = &in[q.w];
  int nsp = x->rank - 2;
  int64_t group = ova_op_attr_int (node, "group", 1), k[3];
  Geom g;
  if (!conv_kernel_shape (node, w, nsp, k, error) ||
      !geom_init (node, &g, nsp, x->dims + 2, k, FALSE, FALSE, error))
    return FALSE;
  geom_pad3 (&g);
  int64_t N = x->dims[0], C = x->dims[1], M = w->dims[0], Cg = C / group, Mg = M / group;
  int64_t K = Cg * g.k[0] * g.k[1] * g.k[2], P = g.out[0] * g.out[1] * g.out[2];
  int64_t I = g.in[0] * g.in[1] * g.in[2];
  /* X - x_zp as float; padding then contributes 0, as the zero point does */
  double xzp = zp_at (in, n_in, q.x_zp, 0);
  int64_t nx = ova_tensor_ref_numel (x);
  float *xf = g_new (float, MAX (1, nx)), *cols = g_new (float, MAX (1, K * P));
  for (int64_t i = 0; i < nx; i++)
    xf[i] = (float) (ops_get_f64 (x->data, x->dtype, i) - xzp);
  double *wd = g_new (double, MAX (1, M * K)), *cd = g_new (double, MAX (1, K * P));
  double *acc = g_new (double, MAX (1, Mg * P));
  for (int64_t m = 0; m < M; m++)
    for (int64_t j = 0; j < K; j++)
      wd[m * K + j] = ops_get_f64 (w->data, w->dtype, m * K + j) - zp_at (in, n_in, q.w_zp, m);
  for (int64_t n = 0; n < N; n++)
    for (int64_t gr = 0; gr < group; gr++) {
      im2col (xf + (n * C + gr * Cg) * I, Cg, &g, cols);
      for (int64_t i = 0; i < K * P; i++)
        cd[i] = cols[i];
      dgemm (Mg, P, K, wd + gr * Mg * K, cd, acc);
      for (int64_t mm = 0; mm < Mg; mm++) {
        int64_t m = gr * Mg + mm;
        double bias = q.bias >= 0 && ops_has (in, n_in, q.bias) ? ops_get_f64 (in[q.bias].data, OVA_DTYPE_INT32, m) : 0;
        for (int64_t p = 0; p < P; p++) {
          int64_t o = (n * M + m) * P + p;
          double a = acc[mm * P + p] + bias;
          if (!q.qlinear) {
            ((int32_t *) out[0].data)[o] = (int32_t) a;
            continue;
          }
          float mult = (float) (scale_at (&in[1], 0) * scale_at (&in[4], m) / scale_at (&in[6], 0));
          double v = nearbyintf ((float) a * mult) + zp_at (in, n_in, 7, 0);
          double lo = out[0].dtype == OVA_DTYPE_UINT8 ? 0 : -128, hi = out[0].dtype == OVA_DTYPE_UINT8 ? 255 : 127;
          ops_set_f64 (out[0].data, out[0].dtype, o, CLAMP (v, lo, hi));
        }
      }
    }
  g_free (xf);
  g_free (cols);
  g_free (wd);
  g_free (cd);
  g_free (acc);
  return TRUE;
}

static const OvaOpDef def_ConvInteger = { "ConvInteger", 10, infer_qconv, run_qconv };
static const OvaOpDef def_QLinearConv = { "QLinearConv", 10, infer_qconv, run_qconv };

typedef struct {
  gboolean qlinear;
  int a, a_zp, b, b_zp;
} QMatIdx;

static void
qmat_idx (const OvaOpNode *node, QMatIdx *q)
{
  q->qlinear = strcmp (node->op_type, "QLinearMatMul") == 0;
  if (q->qlinear)
    q->a = 0, q->a_zp = 2, q->b = 3, q->b_zp = 5;
  else
    q->a = 0, q->b = 1, q->a_zp = 2, q->b_zp = 3;
}

static gboolean
infer_qmatmul (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
               int n_out, GError **error)
{
  QMatIdx q;
  qmat_idx (node, &q);
  if (!ops_check_inputs (node, n_in, q.qlinear ? 8 : 2, q.qlinear ? 8 : 4, error))
    return FALSE;
  const OvaTensorRef *a = &in[q.a], *b = &in[q.b];
  if (!is_q8 (a->dtype) || !is_q8 (b->dtype))
    return OPS_UNSUP (node, "A and B must be uint8 or int8");
  if (q.qlinear && (in[1].dtype != OVA_DTYPE_FLOAT32 || in[4].dtype != OVA_DTYPE_FLOAT32 ||
                    in[6].dtype != OVA_DTYPE_FLOAT32 || !is_q8 (in[7].dtype)))
    return OPS_UNSUP (node, "scales must be float32 and the output zero point 8-bit");
  if (a->rank < 2 || b->rank < 2)
    return OPS_UNSUP (node, "A and B must have rank >= 2");
  int64_t N = b->dims[b->rank - 1];
  if (ops_has (in, n_in, q.a_zp) && ova_tensor_ref_numel (&in[q.a_zp]) != 1)
    return OPS_UNSUP (node, "per-row zero points of A are not supported");
  if (ops_has (in, n_in, q.b_zp) && ova_tensor_ref_numel (&in[q.b_zp]) != 1 && ova_tensor_ref_numel (&in[q.b_zp]) != N)
    return OPS_SHAPE (node, "zero point of B must hold 1 or N values");
  if (q.qlinear && (ova_tensor_ref_numel (&in[1]) != 1 || ova_tensor_ref_numel (&in[6]) != 1 ||
                    (ova_tensor_ref_numel (&in[4]) != 1 && ova_tensor_ref_numel (&in[4]) != N)))
    return OPS_SHAPE (node, "scales must be scalars (B's: 1 or N values)");
  int r;
  int64_t dims[OVA_MAX_DIMS];
  if (!matmul_shape (node, a, b, &r, dims, error))
    return FALSE;
  ops_set_shape (&out[0], q.qlinear ? in[7].dtype : OVA_DTYPE_INT32, r, dims);
  return TRUE;
}

static gboolean
run_qmatmul (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
             int n_out, GError **error)
{
  QMatIdx q;
  qmat_idx (node, &q);
  const OvaTensorRef *a = &in[q.a], *b = &in[q.b];
  int64_t M = a->dims[a->rank - 2], K = a->dims[a->rank - 1], N = b->dims[b->rank - 1];
  OvaTensorRef ab = { a->dtype, a->rank - 2 }, bb = { b->dtype, b->rank - 2 };
  memcpy (ab.dims, a->dims, sizeof (int64_t) * ab.rank);
  memcpy (bb.dims, b->dims, sizeof (int64_t) * bb.rank);
  int br = 0;
  int64_t bd[OVA_MAX_DIMS];
  ops_broadcast_dims (node, ab.rank, ab.dims, bb.rank, bb.dims, &br, bd, NULL);
  int64_t nb = ops_numel_dims (br, bd);
  double azp = zp_at (in, n_in, q.a_zp, 0);
  double *ad = g_new (double, MAX (1, M * K)), *bdd = g_new (double, MAX (1, K * N)), *acc = g_new (double, MAX (1, M * N));
  for (int64_t bi = 0; bi < nb; bi++) {
    int64_t rem = bi, ia = 0, ib = 0, sa = 1, sb = 1;
    for (int i = br - 1; i >= 0; i--) {
      int64_t idx = rem % bd[i];
      rem /= bd[i];
      int ja = i - (br - ab.rank), jb = i - (br - bb.rank);
      if (ja >= 0) {
        if (ab.dims[ja] != 1)
          ia += idx * sa;
        sa *= ab.dims[ja];
      }
      if (jb >= 0) {
        if (bb.dims[jb] != 1)
          ib += idx * sb;
        sb *= bb.dims[jb];
      }
    }
    for (int64_t i = 0; i < M * K; i++)
      ad[i] = ops_get_f64 (a->data, a->dtype, ia * M * K + i) - azp;
    for (int64_t i = 0; i < K * N; i++)
      bdd[i] = ops_get_f64 (b->data, b->dtype, ib * K * N + i) - zp_at (in, n_in, q.b_zp, i % N);
    dgemm (M, N, K, ad, bdd, acc);
    for (int64_t i = 0; i < M * N; i++) {
      int64_t o = bi * M * N + i;
      if (!q.qlinear) {
        ((int32_t *) out[0].data)[o] = (int32_t) acc[i];
        continue;
      }
      float mult = (float) (scale_at (&in[1], 0) * scale_at (&in[4], i % N) / scale_at (&in[6], 0));
      double v = nearbyintf ((float) acc[i] * mult) + zp_at (in, n_in, 7, 0);
      double lo = out[0].dtype == OVA_DTYPE_UINT8 ? 0 : -128, hi = out[0].dtype == OVA_DTYPE_UINT8 ? 255 : 127;
      ops_set_f64 (out[0].data, out[0].dtype, o, CLAMP (v, lo, hi));
    }
  }
  g_free (ad);
  g_free (bdd);
  g_free (acc);
  return TRUE;
}

static const OvaOpDef def_MatMulInteger = { "MatMulInteger", 10, infer_qmatmul, run_qmatmul };
static const OvaOpDef def_QLinearMatMul = { "QLinearMatMul", 10, infer_qmatmul, run_qmatmul };

const OvaOpDef *const ova_ops_nn[] = {
  &def_Conv, &def_ConvTranspose, &def_MaxPool, &def_AveragePool, &def_GlobalAveragePool,
  &def_GlobalMaxPool, &def_Gemm, &def_MatMul, &def_BatchNormalization,
  &def_InstanceNormalization, &def_LayerNormalization, &def_GroupNormalization,
  &def_ConvInteger, &def_QLinearConv, &def_MatMulInteger, &def_QLinearMatMul, &def_MaxUnpool, NULL,
};
