/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Recurrent operators (OCR recognisers, sequence heads): LSTM, GRU, RNN in
 * fp32, forward / reverse / bidirectional, sequence_lens, initial states,
 * peepholes, clip, custom activations, layout 0 and 1.
 *
 * Each direction first multiplies the whole input sequence by W (one GEMM),
 * then per time step multiplies the hidden state by R and applies the gates.
 */
#include "ops-private.h"

typedef enum { RNN_LSTM, RNN_GRU, RNN_RNN } RnnKind;

typedef enum {
  ACT_SIGMOID, ACT_TANH, ACT_RELU, ACT_HARDSIGMOID, ACT_LEAKYRELU, ACT_THRESHOLDEDRELU,
  ACT_SCALEDTANH, ACT_AFFINE, ACT_ELU, ACT_SOFTSIGN, ACT_SOFTPLUS,
} ActKind;

typedef struct {
  ActKind kind;
  float alpha, beta;
} Act;

static const struct {
  const char *name;
  ActKind kind;
  int n_params; /* 0: none, 1: alpha, 2: alpha and beta */
  float alpha, beta;
} act_table[] = {
  { "Sigmoid", ACT_SIGMOID, 0, 0, 0 },       { "Tanh", ACT_TANH, 0, 0, 0 },
  { "Relu", ACT_RELU, 0, 0, 0 },             { "HardSigmoid", ACT_HARDSIGMOID, 2, 0.2f, 0.5f },
  { "LeakyRelu", ACT_LEAKYRELU, 1, 0.01f, 0 }, { "ThresholdedRelu", ACT_THRESHOLDEDRELU, 1, 1.0f, 0 },
  { "ScaledTanh", ACT_SCALEDTANH, 2, 1.0f, 1.0f }, { "Affine", ACT_AFFINE, 2, 1.0f, 0.0f },
  { "Elu", ACT_ELU, 1, 1.0f, 0 },            { "Softsign", ACT_SOFTSIGN, 0, 0, 0 },
  { "Softplus", ACT_SOFTPLUS, 0, 0, 0 },
};

static inline float
act_apply (const Act *a, float x)
{
  switch (a->kind) {
  case ACT_SIGMOID: return 1.0f / (1.0f + expf (-x));
  case ACT_TANH: return tanhf (x);
  case ACT_RELU: return x > 0 ? x : 0;
  case ACT_HARDSIGMOID: return fminf (fmaxf (a->alpha * x + a->beta, 0), 1);
  case ACT_LEAKYRELU: return x >= 0 ? x : a->alpha * x;
  case ACT_THRESHOLDEDRELU: return x > a->alpha ? x : 0;
  case ACT_SCALEDTANH: return a->alpha * tanhf (a->beta * x);
  case ACT_AFFINE: return a->alpha * x + a->beta;
  case ACT_ELU: return x >= 0 ? x : a->alpha * (expf (x) - 1);
  case ACT_SOFTSIGN: return x / (1 + fabsf (x));
  case ACT_SOFTPLUS: return log1pf (expf (x));
  }
  return x;
}

static RnnKind
rnn_kind (const OvaOpNode *node)
{
  return strcmp (node->op_type, "LSTM") == 0 ? RNN_LSTM : strcmp (node->op_type, "GRU") == 0 ? RNN_GRU : RNN_RNN;
}

typedef struct {
  RnnKind kind;
  int gates, n_act, dirs;
  gboolean reverse_only, layout1, lbr;
  int64_t seq, batch, input, hidden;
  float clip;
  Act act[6];
} RnnSpec;

static gboolean
rnn_spec (const OvaOpNode *node, const OvaTensorRef *in, int n_in, RnnSpec *s, GError **error)
{
  memset (s, 0, sizeof *s);
  s->kind = rnn_kind (node);
  s->gates = s->kind == RNN_LSTM ? 4 : s->kind == RNN_GRU ? 3 : 1;
  s->n_act = s->kind == RNN_LSTM ? 3 : s->kind == RNN_GRU ? 2 : 1;
  if (!ops_check_inputs (node, n_in, 3, s->kind == RNN_LSTM ? 8 : 6, error))
    return FALSE;
  for (int i = 0; i < n_in; i++)
    if (ops_has (in, n_in, i) && i != 4 && in[i].dtype != OVA_DTYPE_FLOAT32)
      return OPS_UNSUP (node, "only float32 is supported (input %d)", i);
  const char *dir = ova_op_attr_string (node, "direction", "forward");
  if (strcmp (dir, "forward") == 0)
    s->dirs = 1;
  else if (strcmp (dir, "reverse") == 0)
    s->dirs = 1, s->reverse_only = TRUE;
  else if (strcmp (dir, "bidirectional") == 0)
    s->dirs = 2;
  else
    return OPS_UNSUP (node, "direction '%s' not supported", dir);
  if (ova_op_attr_int (node, "input_forget", 0))
    return OPS_UNSUP (node, "input_forget not supported");
  s->layout1 = ova_op_attr_int (node, "layout", 0) != 0;
  s->lbr = ova_op_attr_int (node, "linear_before_reset", 0) != 0;
  s->clip = ova_op_attr_float (node, "clip", 0.0f);
  const OvaTensorRef *x = &in[0], *w = &in[1], *r = &in[2];
  if (x->rank != 3 || w->rank != 3 || r->rank != 3)
    return OPS_SHAPE (node, "X, W and R must be 3-D");
  s->seq = x->dims[s->layout1 ? 1 : 0];
  s->batch = x->dims[s->layout1 ? 0 : 1];
  s->input = x->dims[2];
  s->hidden = ova_op_attr_int (node, "hidden_size", w->dims[1] >= 0 ? w->dims[1] / s->gates : -1);
  if (w->dims[0] != s->dirs || r->dims[0] != s->dirs)
    return OPS_SHAPE (node, "W and R must have %d directions", s->dirs);
  if ((w->dims[1] >= 0 && w->dims[1] != s->gates * s->hidden) ||
      (s->input >= 0 && w->dims[2] >= 0 && w->dims[2] != s->input) ||
      r->dims[1] != s->gates * s->hidden || r->dims[2] != s->hidden)
    return OPS_SHAPE (node, "W or R does not fit hidden_size %" G_GINT64_FORMAT, s->hidden);
  if (ops_has (in, n_in, 3) && (in[3].rank != 2 || in[3].dims[0] != s->dirs ||
                                in[3].dims[1] != 2 * s->gates * s->hidden))
    return OPS_SHAPE (node, "B must be [%d, %" G_GINT64_FORMAT "]", s->dirs, 2 * s->gates * s->hidden);
  if (ops_has (in, n_in, 4) && (in[4].dtype != OVA_DTYPE_INT32 && in[4].dtype != OVA_DTYPE_INT64))
    return OPS_UNSUP (node, "sequence_lens must be int32");
  if (ops_has (in, n_in, 4) && ops_numel_dims (in[4].rank, in[4].dims) >= 0 && s->batch >= 0 &&
      ops_numel_dims (in[4].rank, in[4].dims) != s->batch)
    return OPS_SHAPE (node, "sequence_lens must hold one length per batch entry");
  for (int i = 5; i <= (s->kind == RNN_LSTM ? 6 : 5); i++)
    if (ops_has (in, n_in, i) && (in[i].rank != 3 || in[i].dims[0] != s->dirs || in[i].dims[2] != s->hidden ||
                                  (s->batch >= 0 && in[i].dims[1] >= 0 && in[i].dims[1] != s->batch)))
      return OPS_SHAPE (node, "initial state %d has the wrong shape", i);
  if (s->kind == RNN_LSTM && ops_has (in, n_in, 7) &&
      (in[7].rank != 2 || in[7].dims[0] != s->dirs || in[7].dims[1] != 3 * s->hidden))
    return OPS_SHAPE (node, "P must be [%d, %" G_GINT64_FORMAT "]", s->dirs, 3 * s->hidden);
  /* activations: per direction; alpha/beta consumed by those that use them */
  static const ActKind defaults[3][3] = {
    { ACT_SIGMOID, ACT_TANH, ACT_TANH }, { ACT_SIGMOID, ACT_TANH }, { ACT_TANH },
  };
  const OvaAttr *names = ova_op_attr (node, "activations");
  const float *alphas, *betas;
  int na = ova_op_attr_floats (node, "activation_alpha", &alphas);
  int nb = ova_op_attr_floats (node, "activation_beta", &betas);
  int ia = 0, ib = 0;
  for (int i = 0; i < s->n_act * s->dirs; i++) {
    Act *a = &s->act[i];
    if (!names || names->type != OVA_ATTR_STRINGS || names->n == 0) {
      a->kind = defaults[s->kind][i % s->n_act];
      continue;
    }
    if (names->n != s->n_act * s->dirs)
      return OPS_SHAPE (node, "activations lists %d functions, expected %d", names->n, s->n_act * s->dirs);
    size_t k;
    for (k = 0; k < G_N_ELEMENTS (act_table); k++)
      if (g_ascii_strcasecmp (names->strings[i], act_table[k].name) == 0)
        break;
    if (k == G_N_ELEMENTS (act_table))
      return OPS_UNSUP (node, "activation '%s' not supported", names->strings[i]);
    a->kind = act_table[k].kind;
    a->alpha = act_table[k].alpha;
    a->beta = act_table[k].beta;
    if (act_table[k].n_params >= 1 && ia < na)
      a->alpha = alphas[ia++];
    if (act_table[k].n_params >= 2 && ib < nb)
      a->beta = betas[ib++];
  }
  return TRUE;
}

static gboolean
infer_rnn (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
           GError **error)
{
  RnnSpec s;
  if (!rnn_spec (node, in, n_in, &s, error))
    return FALSE;
  int64_t y[4], yh[3];
  if (s.layout1) {
    int64_t a[4] = { s.batch, s.seq, s.dirs, s.hidden }, b[3] = { s.batch, s.dirs, s.hidden };
    memcpy (y, a, sizeof a);
    memcpy (yh, b, sizeof b);
  } else {
    int64_t a[4] = { s.seq, s.dirs, s.batch, s.hidden }, b[3] = { s.dirs, s.batch, s.hidden };
    memcpy (y, a, sizeof a);
    memcpy (yh, b, sizeof b);
  }
  if (n_out > 0)
    ops_set_shape (&out[0], OVA_DTYPE_FLOAT32, 4, y);
  for (int i = 1; i < n_out && i < 3; i++)
    ops_set_shape (&out[i], OVA_DTYPE_FLOAT32, 3, yh);
  if (n_out > (s.kind == RNN_LSTM ? 3 : 2))
    return OPS_SHAPE (node, "too many outputs");
  return TRUE;
}

static inline float
clipv (float v, float c)
{
  return c > 0 ? fminf (fmaxf (v, -c), c) : v;
}

static gboolean
run_rnn (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
         GError **error)
{
  RnnSpec s;
  if (!rnn_spec (node, in, n_in, &s, error))
    return FALSE;
  const int64_t T = s.seq, B = s.batch, I = s.input, H = s.hidden, G = s.gates;
  const float *X = in[0].data;
  float *Y = n_out > 0 ? out[0].data : NULL;
  float *Yh = n_out > 1 ? out[1].data : NULL, *Yc = n_out > 2 ? out[2].data : NULL;
  if (Y)
    memset (Y, 0, ova_tensor_ref_bytes (&out[0]));
  /* X as a [T*B, I] matrix in (t, b) order */
  float *xs = g_new (float, MAX (1, T * B * I));
  for (int64_t t = 0; t < T; t++)
    for (int64_t b = 0; b < B; b++)
      memcpy (xs + (t * B + b) * I, X + (s.layout1 ? (b * T + t) : (t * B + b)) * I, sizeof (float) * I);
  float *xw = g_new (float, MAX (1, T * B * G * H));
  float *hr = g_new (float, MAX (1, B * G * H));
  float *h = g_new (float, MAX (1, B * H)), *c = g_new (float, MAX (1, B * H));
  float *tmp = g_new (float, MAX (1, B * H)), *hrh = g_new (float, MAX (1, B * H));
  for (int d = 0; d < s.dirs; d++) {
    gboolean rev = s.reverse_only || d == 1;
    const float *W = (const float *) in[1].data + d * G * H * I;
    const float *R = (const float *) in[2].data + d * G * H * H;
    const float *Wb = ops_has (in, n_in, 3) ? (const float *) in[3].data + d * 2 * G * H : NULL;
    const float *Rb = Wb ? Wb + G * H : NULL;
    const float *P = s.kind == RNN_LSTM && ops_has (in, n_in, 7) ? (const float *) in[7].data + d * 3 * H : NULL;
    const Act *f = &s.act[d * s.n_act], *g = f + 1, *hh = f + 2;
    /* xw = X W^T + Wb (+ Rb, except GRU's h gate with linear_before_reset) */
    ops_sgemm (FALSE, TRUE, T * B, G * H, I, 1.0f, xs, I, W, I, 0.0f, xw, G * H);
    if (Wb)
      for (int64_t r = 0; r < T * B; r++)
        for (int64_t j = 0; j < G * H; j++)
          xw[r * G * H + j] += Wb[j];
    for (int64_t b = 0; b < B; b++)
      for (int64_t j = 0; j < H; j++) {
        h[b * H + j] = ops_has (in, n_in, 5) ? ((const float *) in[5].data)[(d * B + b) * H + j] : 0.0f;
        c[b * H + j] = s.kind == RNN_LSTM && ops_has (in, n_in, 6)
                         ? ((const float *) in[6].data)[(d * B + b) * H + j] : 0.0f;
      }
    for (int64_t step = 0; step < T; step++) {
      int64_t t = rev ? T - 1 - step : step;
      /* hr = H R^T (+ Rb); for GRU the h gate's part is handled below */
      ops_sgemm (FALSE, TRUE, B, G * H, H, 1.0f, h, H, R, H, 0.0f, hr, G * H);
      if (Rb)
        for (int64_t b = 0; b < B; b++)
          for (int64_t j = 0; j < G * H; j++)
            hr[b * G * H + j] += Rb[j];
      if (s.kind == RNN_GRU && !s.lbr) {
        /* h gate uses (r * H) R_h^T + Rb_h: r first */
        for (int64_t b = 0; b < B; b++)
          for (int64_t j = 0; j < H; j++) {
            const float *xg = xw + (t * B + b) * G * H, *hg = hr + b * G * H;
            float r = act_apply (f, clipv (xg[H + j] + hg[H + j], s.clip));
            tmp[b * H + j] = r * h[b * H + j];
          }
        ops_sgemm (FALSE, TRUE, B, H, H, 1.0f, tmp, H, R + 2 * H * H, H, 0.0f, hrh, H);
      }
      for (int64_t b = 0; b < B; b++) {
        int64_t len = T;
        if (ops_has (in, n_in, 4))
          len = ops_get_i64 (in[4].data, in[4].dtype, b);
        if (t >= len)
          continue; /* padding: state kept, output zero */
        const float *xg = xw + (t * B + b) * G * H, *hg = hr + b * G * H;
        float *hb = h + b * H, *cb = c + b * H;
        for (int64_t j = 0; j < H; j++) {
          float nh;
          if (s.kind == RNN_LSTM) { /* gates i, o, f, c */
            float ci = cb[j];
            float it = act_apply (f, clipv (xg[j] + hg[j] + (P ? P[j] * ci : 0), s.clip));
            float ft = act_apply (f, clipv (xg[2 * H + j] + hg[2 * H + j] + (P ? P[2 * H + j] * ci : 0), s.clip));
            float ct = act_apply (g, clipv (xg[3 * H + j] + hg[3 * H + j], s.clip));
            float cn = ft * ci + it * ct;
            float ot = act_apply (f, clipv (xg[H + j] + hg[H + j] + (P ? P[H + j] * cn : 0), s.clip));
            cb[j] = cn;
            nh = ot * act_apply (hh, cn);
          } else if (s.kind == RNN_GRU) { /* gates z, r, h */
            float zt = act_apply (f, clipv (xg[j] + hg[j], s.clip));
            float ht;
            if (s.lbr) {
              float rt = act_apply (f, clipv (xg[H + j] + hg[H + j], s.clip));
              ht = act_apply (g, clipv (xg[2 * H + j] + rt * hg[2 * H + j], s.clip));
            } else {
              float rbh = Rb ? Rb[2 * H + j] : 0.0f;
              ht = act_apply (g, clipv (xg[2 * H + j] + hrh[b * H + j] + rbh, s.clip));
            }
            nh = (1 - zt) * ht + zt * hb[j];
          } else {
            nh = act_apply (f, clipv (xg[j] + hg[j], s.clip));
          }
          tmp[b * H + j] = nh;
        }
        memcpy (hb, tmp + b * H, sizeof (float) * H);
        if (Y) {
          float *yp = s.layout1 ? Y + ((b * T + t) * s.dirs + d) * H : Y + ((t * s.dirs + d) * B + b) * H;
          memcpy (yp, hb, sizeof (float) * H);
        }
      }
    }
    for (int64_t b = 0; b < B; b++) {
      int64_t o = s.layout1 ? (b * s.dirs + d) * H : (d * B + b) * H;
      if (Yh)
        memcpy (Yh + o, h + b * H, sizeof (float) * H);
      if (Yc)
        memcpy (Yc + o, c + b * H, sizeof (float) * H);
    }
  }
  g_free (xs);
  g_free (xw);
  g_free (hr);
  g_free (h);
  g_free (c);
  g_free (tmp);
  g_free (hrh);
  return TRUE;
}

static const OvaOpDef def_LSTM = { "LSTM", 7, infer_rnn, run_rnn };
static const OvaOpDef def_GRU = { "GRU", 7, infer_rnn, run_rnn };
static const OvaOpDef def_RNN = { "RNN", 7, infer_rnn, run_rnn };

const OvaOpDef *const ova_ops_rnn[] = { &def_LSTM, &def_GRU, &def_RNN, NULL };
