/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Resize (opsets 10-18: nearest, linear and cubic; every
 * coordinate_transformation_mode and nearest_mode; sizes or scales; axes
 * and keep_aspect_ratio_policy) and Upsample (opsets 7-9).
 *
 * Interpolation is separable: each axis gets a table of source taps
 * (index, weight) per output position, and an output element is the sum over
 * the product of the axes' taps, as ONNX's reference computes it. Axes that
 * map one-to-one collapse to a single tap, so nearest resizing is a gather.
 */
#include "ops-private.h"

#include <float.h>

typedef enum { M_NEAREST, M_LINEAR, M_CUBIC } RMode;
typedef enum {
  CT_HALF_PIXEL, CT_HALF_PIXEL_SYM, CT_PYTORCH, CT_ALIGN, CT_ASYM, CT_TF_NN, CT_TF_CROP,
} CTMode;
typedef enum { N_PREFER_FLOOR, N_PREFER_CEIL, N_FLOOR, N_CEIL } NMode;

typedef struct {
  RMode mode;
  CTMode ct;
  NMode nm;
  float cubic_a, extrapolation;
  gboolean exclude_outside;
  int rank;
  double scales[OVA_MAX_DIMS];
  double roi[2 * OVA_MAX_DIMS];
  int64_t out[OVA_MAX_DIMS];
} RSpec;

static gboolean
parse_attrs (const OvaOpNode *node, RSpec *s, GError **error)
{
  gboolean upsample = strcmp (node->op_type, "Upsample") == 0;
  const char *m = ova_op_attr_string (node, "mode", "nearest");
  if (strcmp (m, "nearest") == 0)
    s->mode = M_NEAREST;
  else if (strcmp (m, "linear") == 0 || strcmp (m, "bilinear") == 0)
    s->mode = M_LINEAR;
  else if (strcmp (m, "cubic") == 0 && !upsample)
    s->mode = M_CUBIC;
  else
    return OPS_UNSUP (node, "mode '%s' not supported", m);
  if (upsample || node->opset < 11) {
    s->ct = CT_ASYM;
    s->nm = N_FLOOR;
  } else {
    static const char *cts[] = { "half_pixel", "half_pixel_symmetric", "pytorch_half_pixel",
                                 "align_corners", "asymmetric", "tf_half_pixel_for_nn",
                                 "tf_crop_and_resize" };
    const char *ct = ova_op_attr_string (node, "coordinate_transformation_mode", "half_pixel");
    size_t i;
    for (i = 0; i < G_N_ELEMENTS (cts); i++)
      if (strcmp (ct, cts[i]) == 0)
        break;
    if (i == G_N_ELEMENTS (cts))
      return OPS_UNSUP (node, "coordinate_transformation_mode '%s' not supported", ct);
    s->ct = (CTMode) i;
    static const char *nms[] = { "round_prefer_floor", "round_prefer_ceil", "floor", "ceil" };
    const char *nm = ova_op_attr_string (node, "nearest_mode", "round_prefer_floor");
    for (i = 0; i < G_N_ELEMENTS (nms); i++)
      if (strcmp (nm, nms[i]) == 0)
        break;
    if (i == G_N_ELEMENTS (nms))
      return OPS_UNSUP (node, "nearest_mode '%s' not supported", nm);
    s->nm = (NMode) i;
  }
  if (ova_op_attr_int (node, "antialias", 0))
    return OPS_UNSUP (node, "antialias not supported");
  s->cubic_a = ova_op_attr_float (node, "cubic_coeff_a", -0.75f);
  s->exclude_outside = ova_op_attr_int (node, "exclude_outside", 0) != 0;
  s->extrapolation = ova_op_attr_float (node, "extrapolation_value", 0.0f);
  return TRUE;
}

/* Output sizes and per-axis scales. Returns 1, 0 when scales/sizes are not
 * known yet, -1 on error. */
static int
resize_spec (const OvaOpNode *node, const OvaTensorRef *in, int n_in, RSpec *s, GError **error)
{
  memset (s, 0, sizeof *s);
  if (!parse_attrs (node, s, error))
    return -1;
  const OvaTensorRef *x = &in[0];
  int r = s->rank = x->rank;
  for (int i = 0; i < r; i++) {
    s->scales[i] = 1.0;
    s->roi[i] = 0.0;
    s->roi[i + r] = 1.0;
  }
  double sc[OVA_MAX_DIMS];
  int64_t sizes[OVA_MAX_DIMS];
  int nsc = -3, nsz = -3; /* -3: not given */
  int scales_idx = strcmp (node->op_type, "Upsample") == 0 || node->opset < 11 ? 1 : 2;
  if (strcmp (node->op_type, "Upsample") == 0 && node->opset < 9) {
    const float *v;
    nsc = ova_op_attr_floats (node, "scales", &v);
    for (int i = 0; i < nsc && i < OVA_MAX_DIMS; i++)
      sc[i] = v[i];
  } else {
    if (ops_has (in, n_in, scales_idx) && ova_tensor_ref_numel (&in[scales_idx]) != 0)
      nsc = ops_read_floats (&in[scales_idx], sc, OVA_MAX_DIMS);
    if (scales_idx == 2 && ops_has (in, n_in, 3) && ova_tensor_ref_numel (&in[3]) != 0)
      nsz = ops_read_ints (&in[3], sizes, OVA_MAX_DIMS);
    if (nsc == -2 || nsz == -2)
      return OPS_SHAPE (node, "scales or sizes has too many values") - 1;
    if (nsc == -1 || nsz == -1)
      return 0;
  }
  if ((nsc >= 0) == (nsz >= 0))
    return OPS_SHAPE (node, "exactly one of scales and sizes must be given") - 1;
  /* axes (opset 18) */
  int64_t axes[OVA_MAX_DIMS];
  const int64_t *av;
  int na = ova_op_attr_ints (node, "axes", &av);
  int n = nsc >= 0 ? nsc : nsz;
  if (na > 0) {
    if (na != n || na > r)
      return OPS_SHAPE (node, "axes has %d values for %d scales/sizes", na, n) - 1;
    for (int i = 0; i < na; i++) {
      int a;
      if (!ops_axis (node, av[i], r, &a, error))
        return -1;
      axes[i] = a;
    }
  } else {
    if (n != r)
      return OPS_SHAPE (node, "%d scales/sizes for rank %d", n, r) - 1;
    for (int i = 0; i < r; i++)
      axes[i] = i;
  }
  if (s->ct == CT_TF_CROP && scales_idx == 2) {
    double roi[2 * OVA_MAX_DIMS];
    int nr = ops_has (in, n_in, 1) ? ops_read_floats (&in[1], roi, 2 * OVA_MAX_DIMS) : -3;
    if (nr == -1)
      return 0;
    if (nr == -2)
      return OPS_SHAPE (node, "roi has too many values") - 1;
    if (nr != 2 * n)
      return OPS_SHAPE (node, "roi has %d values, expected %d", nr, 2 * n) - 1;
    for (int i = 0; i < n; i++) {
      s->roi[axes[i]] = roi[i];
      s->roi[axes[i] + r] = roi[i + n];
    }
  }
  for (int i = 0; i < r; i++)
    s->out[i] = x->dims[i];
  if (nsc >= 0) {
    for (int i = 0; i < n; i++) {
      if (sc[i] <= 0)
        return OPS_SHAPE (node, "scale %g is not positive", sc[i]) - 1;
      int a = (int) axes[i];
      s->scales[a] = sc[i];
      if (!(x->dims[a] * sc[i] < (double) OPS_MAX_ELEMENTS))
        return OPS_SHAPE (node, "scale %g too large", sc[i]) - 1;
      s->out[a] = x->dims[a] < 0 ? -1 : (int64_t) floor (x->dims[a] * sc[i] + 1e-9);
    }
  } else {
    const char *pol = ova_op_attr_string (node, "keep_aspect_ratio_policy", "stretch");
    gboolean nl = strcmp (pol, "not_larger") == 0, ns = strcmp (pol, "not_smaller") == 0;
    if (!nl && !ns && strcmp (pol, "stretch"))
      return OPS_UNSUP (node, "keep_aspect_ratio_policy '%s' not supported", pol) - 1;
    double common = nl ? DBL_MAX : 0;
    for (int i = 0; i < n; i++) {
      int a = (int) axes[i];
      if (sizes[i] < 0)
        return OPS_SHAPE (node, "negative size") - 1;
      if (x->dims[a] < 0) {
        s->out[a] = nl || ns ? -1 : sizes[i];
        continue;
      }
      double q = x->dims[a] ? (double) sizes[i] / x->dims[a] : 1.0;
      common = nl ? MIN (common, q) : MAX (common, q);
      s->out[a] = sizes[i];
      s->scales[a] = q;
    }
    if (nl || ns)
      for (int i = 0; i < n; i++) {
        int a = (int) axes[i];
        if (x->dims[a] < 0)
          continue;
        s->scales[a] = common;
        s->out[a] = (int64_t) floor (common * x->dims[a] + 0.5);
      }
  }
  return 1;
}

static gboolean
infer_resize (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
              int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 1, 4, error))
    return FALSE;
  if (in[0].dtype != OVA_DTYPE_FLOAT32 && in[0].dtype != OVA_DTYPE_UINT8 &&
      in[0].dtype != OVA_DTYPE_INT8 && in[0].dtype != OVA_DTYPE_INT32 && in[0].dtype != OVA_DTYPE_INT64)
    return OPS_UNSUP (node, "data type %d not supported", in[0].dtype);
  RSpec s;
  int k = resize_spec (node, in, n_in, &s, error);
  if (k < 0)
    return FALSE;
  ops_copy_shape (&out[0], &in[0]);
  for (int i = 0; i < in[0].rank; i++)
    out[0].dims[i] = k ? s.out[i] : -1;
  return ops_check_size (node, &out[0], error);
}

static double
coord (const RSpec *s, int a, double x, int64_t in_len, int64_t out_len)
{
  double scale = s->scales[a];
  double len_resized = scale * in_len; /* as ONNX's reference: not rounded */
  /* the half-pixel and asymmetric maps in float, as ONNX Runtime computes
   * them: at exact ties (nearest) double and float round differently */
  const float xf = (float) x, sf = (float) scale;
  switch (s->ct) {
  case CT_HALF_PIXEL:
    return (xf + 0.5f) / sf - 0.5f;
  case CT_HALF_PIXEL_SYM: {
    const float adj = (float) out_len / (sf * (float) in_len);
    const float center = (float) in_len / 2, offset = center * (1 - adj);
    return offset + (xf + 0.5f) / sf - 0.5f;
  }
  case CT_PYTORCH: /* the output length as the spec and ONNX Runtime read it */
    return out_len > 1 ? (xf + 0.5f) / sf - 0.5f : 0;
  case CT_ALIGN:
    return len_resized == 1 ? 0 : x * (in_len - 1) / (len_resized - 1);
  case CT_ASYM:
    return xf / sf;
  case CT_TF_NN:
    return (xf + 0.5f) / sf;
  case CT_TF_CROP: {
    double st = s->roi[a], en = s->roi[a + s->rank];
    if (out_len > 1)
      return st * (in_len - 1) + x * (en - st) * (in_len - 1) / (out_len - 1);
    return 0.5 * (st + en) * (in_len - 1);
  }
  }
  return x;
}

static int64_t
nearest (NMode nm, double x)
{
  double f = floor (x);
  switch (nm) {
  case N_PREFER_FLOOR: return (int64_t) (x - f == 0.5 ? f : floor (x + 0.5));
  case N_PREFER_CEIL: return (int64_t) (x - f == 0.5 ? f + 1 : floor (x + 0.5));
  case N_FLOOR: return (int64_t) f;
  case N_CEIL: return (int64_t) ceil (x);
  }
  return (int64_t) f;
}

static void
cubic_coeffs (double r, double A, double *c)
{
  c[0] = ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A;
  c[1] = ((A + 2) * r - (A + 3)) * r * r + 1;
  c[2] = ((A + 2) * (1 - r) - (A + 3)) * (1 - r) * (1 - r) + 1;
  c[3] = ((A * ((1 - r) + 1) - 5 * A) * ((1 - r) + 1) + 8 * A) * ((1 - r) + 1) - 4 * A;
}

/* Per-axis taps: T taps per output position; idx -1 marks "outside"
 * (tf_crop_and_resize extrapolation). */
typedef struct {
  int T;
  int64_t *idx;
  double *w;
} Taps;

static void
axis_taps (const RSpec *s, int a, int64_t in_len, int64_t out_len, Taps *t)
{
  int T = s->mode == M_NEAREST ? 1 : s->mode == M_LINEAR ? 2 : 4;
  t->T = T;
  t->idx = g_new (int64_t, out_len * T);
  t->w = g_new (double, out_len * T);
  for (int64_t o = 0; o < out_len; o++) {
    int64_t *ix = t->idx + o * T;
    double *w = t->w + o * T;
    /* an axis that is not resized maps one to one, whatever the coordinate
     * transformation (as ONNX Runtime does: roi and half-pixel offsets apply
     * only where there is resizing) */
    if (s->scales[a] == 1.0 && in_len == out_len) {
      for (int k = 0; k < T; k++) {
        ix[k] = o;
        w[k] = k == 0;
      }
      continue;
    }
    double xo = coord (s, a, (double) o, in_len, out_len);
    if (s->ct == CT_TF_CROP && (xo < 0 || xo > in_len - 1)) {
      for (int k = 0; k < T; k++) {
        ix[k] = -1;
        w[k] = 0;
      }
      continue;
    }
    if (s->mode == M_NEAREST) {
      int64_t i = nearest (s->nm, xo);
      ix[0] = CLAMP (i, 0, in_len - 1);
      w[0] = 1;
      continue;
    }
    double f = floor (xo), r = xo - f;
    int64_t i0 = (int64_t) f;
    if (s->mode == M_LINEAR) {
      /* ONNX clamps the source coordinate for linear modes except tf_crop */
      if (xo < 0 && s->ct != CT_TF_CROP) {
        i0 = 0;
        r = 0;
      }
      ix[0] = CLAMP (i0, 0, in_len - 1);
      ix[1] = CLAMP (i0 + 1, 0, in_len - 1);
      w[0] = 1 - r;
      w[1] = r;
    } else {
      double c[4];
      cubic_coeffs (r, s->cubic_a, c);
      double sum = 0;
      for (int k = 0; k < 4; k++) {
        int64_t i = i0 - 1 + k;
        if (s->exclude_outside && (i < 0 || i >= in_len))
          c[k] = 0;
        sum += c[k];
        ix[k] = CLAMP (i, 0, in_len - 1);
      }
      for (int k = 0; k < 4; k++)
        w[k] = s->exclude_outside && sum != 0 ? c[k] / sum : c[k];
    }
  }
}

static gboolean
run_resize (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
            int n_out, GError **error)
{
  RSpec s;
  int k = resize_spec (node, in, n_in, &s, error);
  if (k <= 0)
    return k < 0 ? FALSE : OPS_SHAPE (node, "scales/sizes missing");
  const OvaTensorRef *x = &in[0];
  int r = x->rank;
  int64_t total = ova_tensor_ref_numel (&out[0]);
  if (total == 0)
    return TRUE;
  Taps taps[OVA_MAX_DIMS];
  int64_t ist[OVA_MAX_DIMS], st = 1;
  for (int a = r - 1; a >= 0; a--) {
    ist[a] = st;
    st *= x->dims[a];
  }
  for (int a = 0; a < r; a++) {
    axis_taps (&s, a, x->dims[a], out[0].dims[a], &taps[a]);
    /* collapse to one tap when every position has a single weight-1 tap */
    Taps *t = &taps[a];
    gboolean single = t->T > 1;
    for (int64_t o = 0; o < out[0].dims[a] && single; o++) {
      int nz = 0;
      for (int q = 0; q < t->T; q++)
        if (t->w[o * t->T + q] != 0)
          nz++;
      if (nz > 1 || t->idx[o * t->T] < 0)
        single = FALSE;
    }
    if (single) {
      for (int64_t o = 0; o < out[0].dims[a]; o++) {
        int64_t best = t->idx[o * t->T];
        double bw = 0;
        for (int q = 0; q < t->T; q++)
          if (t->w[o * t->T + q] != 0) {
            best = t->idx[o * t->T + q];
            bw = t->w[o * t->T + q];
          }
        t->idx[o] = best;
        t->w[o] = bw;
      }
      t->T = 1;
    }
  }
  gboolean f32 = x->dtype == OVA_DTYPE_FLOAT32;
  int64_t oidx[OVA_MAX_DIMS] = { 0 };
  for (int64_t e = 0; e < total; e++) {
    /* sum over all tap combinations */
    int tq[OVA_MAX_DIMS] = { 0 };
    double acc = 0;
    gboolean outside = FALSE;
    for (int a = 0; a < r; a++)
      if (taps[a].idx[oidx[a] * taps[a].T] < 0)
        outside = TRUE;
    if (outside) {
      acc = s.extrapolation;
    } else {
      for (;;) {
        double w = 1;
        int64_t off = 0;
        for (int a = 0; a < r; a++) {
          int64_t p = oidx[a] * taps[a].T + tq[a];
          w *= taps[a].w[p];
          off += taps[a].idx[p] * ist[a];
        }
        if (w != 0)
          acc += w * (f32 ? ((const float *) x->data)[off] : ops_get_f64 (x->data, x->dtype, off));
        int a = r - 1;
        for (; a >= 0; a--) {
          if (++tq[a] < taps[a].T)
            break;
          tq[a] = 0;
        }
        if (a < 0)
          break;
      }
    }
    if (f32) {
      ((float *) out[0].data)[e] = (float) acc;
    } else {
      if (s.mode != M_NEAREST)
        acc = nearbyint (acc);
      if (x->dtype == OVA_DTYPE_UINT8)
        acc = CLAMP (acc, 0, 255);
      else if (x->dtype == OVA_DTYPE_INT8)
        acc = CLAMP (acc, -128, 127);
      ops_set_f64 (out[0].data, out[0].dtype, e, acc);
    }
    for (int a = r - 1; a >= 0; a--) {
      if (++oidx[a] < out[0].dims[a])
        break;
      oidx[a] = 0;
    }
  }
  for (int a = 0; a < r; a++) {
    g_free (taps[a].idx);
    g_free (taps[a].w);
  }
  return TRUE;
}

static const OvaOpDef def_Resize = { "Resize", 10, infer_resize, run_resize };
static const OvaOpDef def_Upsample = { "Upsample", 7, infer_resize, run_resize };

/* ------------------------------------------------------------ GridSample
 * 4-D GridSample (opset 16) as PyTorch and ONNX Runtime compute it:
 * bilinear / nearest / bicubic (A = -0.75), zeros / border / reflection
 * padding, align_corners. */

typedef enum { GP_ZEROS, GP_BORDER, GP_REFLECTION } GridPad;

typedef struct {
  const float *img;
  int64_t H, W;
  GridPad pad;
  double border[4]; /* x_min, y_min, x_max, y_max */
} GridImg;

static double
gs_reflect (double x, double lo, double hi)
{
  double range = hi - lo;
  if (range <= 0)
    return lo;
  if (x < lo) {
    double dx = lo - x;
    int64_t n = (int64_t) (dx / range);
    double r = dx - n * range;
    return n % 2 == 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    double dx = x - hi;
    int64_t n = (int64_t) (dx / range);
    double r = dx - n * range;
    return n % 2 == 0 ? hi - r : lo + r;
  }
  return x;
}

static double
gs_pixel (const GridImg *g, int64_t r, int64_t c)
{
  switch (g->pad) {
  case GP_ZEROS:
    return (c >= 0 && c < g->W && r >= 0 && r < g->H) ? g->img[r * g->W + c] : 0.0;
  case GP_BORDER:
    c = CLAMP (c, 0, g->W - 1);
    r = CLAMP (r, 0, g->H - 1);
    return g->img[r * g->W + c];
  default:
    c = (int64_t) gs_reflect ((double) c, g->border[0], g->border[2]);
    r = (int64_t) gs_reflect ((double) r, g->border[1], g->border[3]);
    c = CLAMP (c, 0, g->W - 1);
    r = CLAMP (r, 0, g->H - 1);
    return g->img[r * g->W + c];
  }
}

static void
gs_cubic (double x, double *c)
{
  const double A = -0.75;
  x = fabs (x);
  c[0] = ((A * (x + 1) - 5 * A) * (x + 1) + 8 * A) * (x + 1) - 4 * A;
  c[1] = ((A + 2) * x - (A + 3)) * x * x + 1;
  c[2] = ((A + 2) * (1 - x) - (A + 3)) * (1 - x) * (1 - x) + 1;
  c[3] = ((A * (2 - x) - 5 * A) * (2 - x) + 8 * A) * (2 - x) - 4 * A;
}

static gboolean
grid_modes (const OvaOpNode *node, int *mode, GridPad *pad, GError **error)
{
  const char *m = ova_op_attr_string (node, "mode", "bilinear");
  const char *p = ova_op_attr_string (node, "padding_mode", "zeros");
  if (!strcmp (m, "bilinear") || !strcmp (m, "linear"))
    *mode = 0;
  else if (!strcmp (m, "nearest"))
    *mode = 1;
  else if (!strcmp (m, "bicubic") || !strcmp (m, "cubic"))
    *mode = 2;
  else
    return OPS_UNSUP (node, "mode '%s' not supported", m);
  if (!strcmp (p, "zeros"))
    *pad = GP_ZEROS;
  else if (!strcmp (p, "border"))
    *pad = GP_BORDER;
  else if (!strcmp (p, "reflection"))
    *pad = GP_REFLECTION;
  else
    return OPS_UNSUP (node, "padding_mode '%s' not supported", p);
  return TRUE;
}

static gboolean
infer_gridsample (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
                  int n_out, GError **error)
{
  int mode;
  GridPad pad;
  if (!ops_check_inputs (node, n_in, 2, 2, error) || !grid_modes (node, &mode, &pad, error))
    return FALSE;
  if (in[0].dtype != OVA_DTYPE_FLOAT32 || in[1].dtype != OVA_DTYPE_FLOAT32)
    return OPS_UNSUP (node, "only float32 is supported");
  if (in[0].rank != 4 || in[1].rank != 4 || in[1].dims[3] != 2 ||
      (in[0].dims[0] >= 0 && in[1].dims[0] >= 0 && in[0].dims[0] != in[1].dims[0]))
    return OPS_SHAPE (node, "X must be [N, C, H, W] and grid [N, H_out, W_out, 2]");
  int64_t dims[4] = { in[0].dims[0], in[0].dims[1], in[1].dims[1], in[1].dims[2] };
  ops_set_shape (&out[0], OVA_DTYPE_FLOAT32, 4, dims);
  return TRUE;
}

static gboolean
run_gridsample (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
                int n_out, GError **error)
{
  int mode;
  GridPad pad;
  if (!grid_modes (node, &mode, &pad, error))
    return FALSE;
  gboolean ac = ova_op_attr_int (node, "align_corners", 0) != 0;
  int64_t N = in[0].dims[0], C = in[0].dims[1], H = in[0].dims[2], W = in[0].dims[3];
  int64_t Ho = in[1].dims[1], Wo = in[1].dims[2];
  GridImg g = { NULL, H, W, pad, { ac ? 0 : -0.5, ac ? 0 : -0.5, ac ? W - 1 : W - 0.5, ac ? H - 1 : H - 0.5 } };
  const float *grid = in[1].data;
  float *Y = out[0].data;
  for (int64_t n = 0; n < N; n++)
    for (int64_t c = 0; c < C; c++) {
      g.img = (const float *) in[0].data + (n * C + c) * H * W;
      for (int64_t oy = 0; oy < Ho; oy++)
        for (int64_t ox = 0; ox < Wo; ox++) {
          const float *gp = grid + ((n * Ho + oy) * Wo + ox) * 2;
          double x = ac ? (gp[0] + 1) / 2.0 * (W - 1) : ((gp[0] + 1) * W - 1) / 2.0;
          double y = ac ? (gp[1] + 1) / 2.0 * (H - 1) : ((gp[1] + 1) * H - 1) / 2.0;
          if (mode == 1) {
            x = nearbyint (x);
            y = nearbyint (y);
          }
          /* bilinear and nearest move an outside coordinate in; bicubic (as
           * PyTorch and ONNX Runtime) only bounds each of its 16 taps */
          if (mode != 2 && (x < g.border[0] || x > g.border[2] || y < g.border[1] || y > g.border[3])) {
            if (pad == GP_BORDER) {
              x = CLAMP (x, 0, W - 1);
              y = CLAMP (y, 0, H - 1);
            } else if (pad == GP_REFLECTION) {
              x = gs_reflect (x, g.border[0], g.border[2]);
              y = gs_reflect (y, g.border[1], g.border[3]);
            }
          }
          double v;
          if (mode == 1) {
            v = gs_pixel (&g, (int64_t) y, (int64_t) x);
          } else if (mode == 0) {
            double x1 = floor (x), y1 = floor (y);
            double dx1 = x - x1, dy1 = y - y1, dx2 = 1 - dx1, dy2 = 1 - dy1;
            int64_t xi = (int64_t) x1, yi = (int64_t) y1;
            v = dy2 * (dx2 * gs_pixel (&g, yi, xi) + dx1 * gs_pixel (&g, yi, xi + 1)) +
                dy1 * (dx2 * gs_pixel (&g, yi + 1, xi) + dx1 * gs_pixel (&g, yi + 1, xi + 1));
          } else {
            double x0 = floor (x) - 1, y0 = floor (y) - 1, cx[4], cy[4], rows[4];
            gs_cubic (x - x0 - 1, cx);
            gs_cubic (y - y0 - 1, cy);
            for (int i = 0; i < 4; i++) {
              rows[i] = 0;
              for (int j = 0; j < 4; j++)
                rows[i] += cx[j] * gs_pixel (&g, (int64_t) y0 + i, (int64_t) x0 + j);
            }
            v = cy[0] * rows[0] + cy[1] * rows[1] + cy[2] * rows[2] + cy[3] * rows[3];
          }
          Y[((n * C + c) * Ho + oy) * Wo + ox] = (float) v;
        }
    }
  return TRUE;
}

static const OvaOpDef def_GridSample = { "GridSample", 16, infer_gridsample, run_gridsample };

const OvaOpDef *const ova_ops_resize[] = { &def_Resize, &def_Upsample, &def_GridSample, NULL };
