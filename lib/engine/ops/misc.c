/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Einsum, NonMaxSuppression, NonZero, CumSum, GatherND, ScatterND,
 * ScatterElements, OneHot, EyeLike, LRN.
 */
#include "ops-private.h"

#include <stdlib.h>

/* ------------------------------------------------------------ Einsum
 * General reference: every operand subscript becomes a label (letters;
 * ellipsis dims get their own labels, right-aligned), the output loops over
 * its labels and sums the rest. Repeated labels in one operand take the
 * diagonal. */

#define EIN_MAX_OPS 8
#define EIN_LABELS 64 /* 52 letters + ellipsis dims */

typedef struct {
  int n_ops;
  int nlab[EIN_MAX_OPS];
  int lab[EIN_MAX_OPS][OVA_MAX_DIMS];
  int n_out;
  int out[OVA_MAX_DIMS];
  int64_t dim[EIN_LABELS];
  gboolean used[EIN_LABELS];
} Einsum;

static int
letter_label (char c)
{
  if (c >= 'a' && c <= 'z')
    return c - 'a';
  if (c >= 'A' && c <= 'Z')
    return 26 + c - 'A';
  return -1;
}

static gboolean
einsum_parse (const OvaOpNode *node, const OvaTensorRef *in, int n_in, Einsum *e, GError **error)
{
  const char *eq = ova_op_attr_string (node, "equation", NULL);
  if (!eq)
    return OPS_SHAPE (node, "missing attribute 'equation'");
  if (n_in < 1 || n_in > EIN_MAX_OPS)
    return OPS_UNSUP (node, "%d operands not supported", n_in);
  memset (e, 0, sizeof *e);
  for (int i = 0; i < EIN_LABELS; i++)
    e->dim[i] = -2;
  char *s = g_strdup (eq), *w = s;
  for (const char *p = eq; *p; p++)
    if (*p != ' ')
      *w++ = *p;
  *w = 0;
  char *arrow = strstr (s, "->");
  char *rhs = NULL;
  if (arrow) {
    *arrow = 0;
    rhs = arrow + 2;
  }
  gchar **terms = g_strsplit (s, ",", -1);
  int nt = (int) g_strv_length (terms);
  gboolean ok = TRUE;
  int ell = 0; /* widest ellipsis */
  int count[EIN_LABELS] = { 0 };
  if (nt != n_in) {
    ok = OPS_SHAPE (node, "equation has %d operands, node has %d inputs", nt, n_in);
    goto done;
  }
  e->n_ops = nt;
  for (int k = 0; k < nt && ok; k++) {
    int letters = 0;
    gboolean has_ell = FALSE;
    for (const char *p = terms[k]; *p && ok; p++) {
      if (g_str_has_prefix (p, "...")) {
        if (has_ell)
          ok = OPS_SHAPE (node, "more than one ellipsis in an equation term");
        has_ell = TRUE;
        p += 2;
      } else if (letter_label (*p) >= 0) {
        letters++;
      } else {
        ok = OPS_SHAPE (node, "bad character '%c' in equation", *p);
      }
    }
    if (!ok)
      break;
    int ew = in[k].rank - letters;
    if (ew < 0 || (!has_ell && ew != 0)) {
      ok = OPS_SHAPE (node, "operand %d has rank %d, equation term '%s'", k, in[k].rank, terms[k]);
      break;
    }
    ell = MAX (ell, ew);
    int d = 0;
    for (const char *p = terms[k]; *p && ok; p++) {
      if (g_str_has_prefix (p, "...")) {
        for (int j = 0; j < ew; j++)
          e->lab[k][d++] = 52 + (OVA_MAX_DIMS - ew) + j;
        p += 2;
      } else {
        e->lab[k][d++] = letter_label (*p);
      }
    }
    e->nlab[k] = d;
    for (int j = 0; j < d && ok; j++) {
      int l = e->lab[k][j];
      int64_t dd = in[k].dims[j];
      count[l]++;
      e->used[l] = TRUE;
      if (e->dim[l] == -2 || e->dim[l] == 1 || e->dim[l] == -1)
        e->dim[l] = (e->dim[l] == -1 && dd == 1) ? -1 : dd;
      else if (dd != e->dim[l] && dd != 1 && dd != -1)
        ok = OPS_SHAPE (node, "label dimension mismatch (%" G_GINT64_FORMAT " vs %" G_GINT64_FORMAT ")",
                        dd, e->dim[l]);
    }
  }
  if (!ok)
    goto done;
  if (rhs) {
    for (const char *p = rhs; *p && ok; p++) {
      if (g_str_has_prefix (p, "...")) {
        for (int j = 0; j < ell; j++)
          e->out[e->n_out++] = 52 + (OVA_MAX_DIMS - ell) + j;
        p += 2;
      } else {
        int l = letter_label (*p);
        if (l < 0 || !e->used[l])
          ok = OPS_SHAPE (node, "output label '%c' not among the inputs", *p);
        else
          e->out[e->n_out++] = l;
      }
      if (e->n_out > OVA_MAX_DIMS)
        ok = OPS_UNSUP (node, "output rank too large");
    }
  } else {
    for (int j = 0; j < ell; j++)
      e->out[e->n_out++] = 52 + (OVA_MAX_DIMS - ell) + j;
    for (int l = 0; l < 52 && ok; l++)
      if (count[l] == 1) {
        if (e->n_out >= OVA_MAX_DIMS)
          ok = OPS_UNSUP (node, "output rank too large");
        else
          e->out[e->n_out++] = l;
      }
  }
done:
  g_strfreev (terms);
  g_free (s);
  return ok;
}

static gboolean
infer_einsum (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
              int n_out, GError **error)
{
  for (int i = 0; i < n_in; i++)
    if (in[i].dtype != in[0].dtype)
      return OPS_SHAPE (node, "operand types differ");
  if (!(ops_dtype_is_float (in[0].dtype) || ops_dtype_is_int (in[0].dtype)))
    return OPS_UNSUP (node, "data type %d not supported", in[0].dtype);
  Einsum e;
  if (!einsum_parse (node, in, n_in, &e, error))
    return FALSE;
  int64_t dims[OVA_MAX_DIMS];
  for (int i = 0; i < e.n_out; i++)
    dims[i] = e.dim[e.out[i]];
  ops_set_shape (&out[0], in[0].dtype, e.n_out, dims);
  return TRUE;
}

static gboolean einsum_naive_only;

void
ops_einsum_force_naive (gboolean naive)
{
  einsum_naive_only = naive;
}

/* Copies a float tensor whose axes carry labels @lab into @dst with its axes
 * in the order @order (every label of @lab once). */
static void
gather_labels (const float *src, int rank, const int64_t *dims, const int *lab, int n,
               const int *order, const int64_t *odims, float *dst)
{
  int64_t st[OVA_MAX_DIMS], s = 1, ost[OVA_MAX_DIMS] = { 0 }, idx[OVA_MAX_DIMS] = { 0 };
  for (int j = rank - 1; j >= 0; j--) {
    st[j] = s;
    s *= dims[j];
  }
  for (int i = 0; i < n; i++)
    for (int j = 0; j < rank; j++)
      if (lab[j] == order[i])
        ost[i] = st[j];
  int64_t total = ops_numel_dims (n, odims), off = 0;
  for (int64_t e = 0; e < total; e++) {
    dst[e] = src[off];
    for (int i = n - 1; i >= 0; i--) {
      idx[i]++;
      off += ost[i];
      if (idx[i] < odims[i])
        break;
      off -= ost[i] * odims[i];
      idx[i] = 0;
    }
  }
}

/* Two fp32 operands whose labels split into batch / M / N / K classes (no
 * diagonals, no broadcasting, no label summed inside one operand): pack to
 * [batch, M, K] x [batch, K, N], one GEMM per batch entry, permute back. */
static gboolean
einsum_gemm (const Einsum *e, const OvaTensorRef *in, int n_in, OvaTensorRef *out)
{
  if (einsum_naive_only || n_in != 2 || in[0].dtype != OVA_DTYPE_FLOAT32 || in[1].dtype != OVA_DTYPE_FLOAT32)
    return FALSE;
  gboolean inA[EIN_LABELS] = { 0 }, inB[EIN_LABELS] = { 0 }, inO[EIN_LABELS] = { 0 };
  for (int k = 0; k < 2; k++)
    for (int j = 0; j < e->nlab[k]; j++) {
      int l = e->lab[k][j];
      gboolean *seen = k ? inB : inA;
      if (seen[l] || in[k].dims[j] != e->dim[l] || e->dim[l] < 1)
        return FALSE; /* diagonal or broadcast */
      seen[l] = TRUE;
    }
  for (int i = 0; i < e->n_out; i++)
    inO[e->out[i]] = TRUE;
  int bl[OVA_MAX_DIMS], ml[OVA_MAX_DIMS], nl[OVA_MAX_DIMS], kl[OVA_MAX_DIMS];
  int nb = 0, nm = 0, nn = 0, nk = 0;
  int64_t Bt = 1, M = 1, N = 1, K = 1;
  for (int i = 0; i < e->n_out; i++) {
    int l = e->out[i];
    if (inA[l] && inB[l])
      bl[nb++] = l, Bt *= e->dim[l];
    else if (inA[l])
      ml[nm++] = l, M *= e->dim[l];
    else
      nl[nn++] = l, N *= e->dim[l];
  }
  for (int j = 0; j < e->nlab[0]; j++) {
    int l = e->lab[0][j];
    if (!inO[l]) {
      if (!inB[l])
        return FALSE; /* summed within A only */
      kl[nk++] = l, K *= e->dim[l];
    }
  }
  for (int j = 0; j < e->nlab[1]; j++)
    if (!inO[e->lab[1][j]] && !inA[e->lab[1][j]])
      return FALSE;
  int oa[3 * OVA_MAX_DIMS], ob[3 * OVA_MAX_DIMS], oc[3 * OVA_MAX_DIMS];
  int64_t da[3 * OVA_MAX_DIMS], db[3 * OVA_MAX_DIMS], dc[3 * OVA_MAX_DIMS];
  int na = 0, nbb = 0, nc = 0;
  for (int i = 0; i < nb; i++) {
    oa[na] = ob[nbb] = oc[nc] = bl[i];
    da[na++] = db[nbb++] = dc[nc++] = e->dim[bl[i]];
  }
  for (int i = 0; i < nm; i++) {
    oa[na] = oc[nc] = ml[i];
    da[na++] = dc[nc++] = e->dim[ml[i]];
  }
  for (int i = 0; i < nk; i++) {
    oa[na] = ob[nbb] = kl[i];
    da[na++] = db[nbb++] = e->dim[kl[i]];
  }
  for (int i = 0; i < nn; i++) {
    ob[nbb] = oc[nc] = nl[i];
    db[nbb++] = dc[nc++] = e->dim[nl[i]];
  }
  if (na > OVA_MAX_DIMS || nbb > OVA_MAX_DIMS || nc > OVA_MAX_DIMS)
    return FALSE;
  float *pa = g_new (float, MAX (1, Bt * M * K)), *pb = g_new (float, MAX (1, Bt * K * N));
  float *pc = g_new (float, MAX (1, Bt * M * N));
  gather_labels (in[0].data, in[0].rank, in[0].dims, e->lab[0], na, oa, da, pa);
  gather_labels (in[1].data, in[1].rank, in[1].dims, e->lab[1], nbb, ob, db, pb);
  for (int64_t b = 0; b < Bt; b++)
    ops_sgemm (FALSE, FALSE, M, N, K, 1.0f, pa + b * M * K, K, pb + b * K * N, N, 0.0f, pc + b * M * N, N);
  int64_t od[OVA_MAX_DIMS];
  for (int i = 0; i < e->n_out; i++)
    od[i] = e->dim[e->out[i]];
  gather_labels (pc, nc, dc, oc, e->n_out, e->out, od, out[0].data);
  g_free (pa);
  g_free (pb);
  g_free (pc);
  return TRUE;
}

static gboolean
run_einsum (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
            int n_out, GError **error)
{
  Einsum e;
  if (!einsum_parse (node, in, n_in, &e, error))
    return FALSE;
  if (ova_tensor_ref_numel (&out[0]) > 0 && einsum_gemm (&e, in, n_in, out))
    return TRUE;
  /* loop labels: output labels first, then summed ones */
  int loop[EIN_LABELS], nl = 0;
  gboolean is_out[EIN_LABELS] = { 0 };
  for (int i = 0; i < e.n_out; i++) {
    loop[nl++] = e.out[i];
    is_out[e.out[i]] = TRUE;
  }
  for (int l = 0; l < EIN_LABELS; l++)
    if (e.used[l] && !is_out[l])
      loop[nl++] = l;
  /* element strides of each operand along each loop label */
  int64_t st[EIN_MAX_OPS][EIN_LABELS];
  memset (st, 0, sizeof st);
  for (int k = 0; k < n_in; k++) {
    int64_t s = 1;
    for (int j = in[k].rank - 1; j >= 0; j--) {
      int l = e.lab[k][j];
      for (int q = 0; q < nl; q++)
        if (loop[q] == l && in[k].dims[j] != 1)
          st[k][q] += s;
      s *= in[k].dims[j];
    }
  }
  int64_t n_outer = 1, n_sum = 1;
  for (int q = 0; q < nl; q++) {
    if (e.dim[loop[q]] < 0)
      e.dim[loop[q]] = 1;
    if (q < e.n_out)
      n_outer *= e.dim[loop[q]];
    else
      n_sum *= e.dim[loop[q]];
  }
  gboolean f = ops_dtype_is_float (in[0].dtype);
  int64_t idx[EIN_LABELS] = { 0 }, off[EIN_MAX_OPS] = { 0 };
  for (int64_t o = 0; o < n_outer; o++) {
    double accf = 0;
    int64_t acci = 0;
    for (int64_t s = 0; s < n_sum; s++) {
      double pf = 1;
      int64_t pi = 1;
      for (int k = 0; k < n_in; k++) {
        if (f)
          pf *= ops_get_f64 (in[k].data, in[k].dtype, off[k]);
        else
          pi *= ops_get_i64 (in[k].data, in[k].dtype, off[k]);
      }
      accf += pf;
      acci += pi;
      /* advance summed labels */
      for (int q = nl - 1; q >= e.n_out; q--) {
        idx[q]++;
        for (int k = 0; k < n_in; k++)
          off[k] += st[k][q];
        if (idx[q] < e.dim[loop[q]])
          break;
        for (int k = 0; k < n_in; k++)
          off[k] -= st[k][q] * e.dim[loop[q]];
        idx[q] = 0;
      }
    }
    if (f)
      ops_set_f64 (out[0].data, out[0].dtype, o, accf);
    else
      ops_set_i64 (out[0].data, out[0].dtype, o, acci);
    for (int q = e.n_out - 1; q >= 0; q--) {
      idx[q]++;
      for (int k = 0; k < n_in; k++)
        off[k] += st[k][q];
      if (idx[q] < e.dim[loop[q]])
        break;
      for (int k = 0; k < n_in; k++)
        off[k] -= st[k][q] * e.dim[loop[q]];
      idx[q] = 0;
    }
  }
  return TRUE;
}

static const OvaOpDef def_Einsum = { "Einsum", 12, infer_einsum, run_einsum };

/* ------------------------------------------------------------ NonMaxSuppression */

typedef struct {
  float score;
  int64_t idx;
} Cand;

static int
cand_cmp (const void *a, const void *b)
{
  const Cand *x = a, *y = b;
  if (x->score != y->score)
    return x->score > y->score ? -1 : 1;
  return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void
box_corners (const float *b, gboolean center, float *y1, float *x1, float *y2, float *x2)
{
  if (center) {
    *x1 = b[0] - b[2] / 2;
    *x2 = b[0] + b[2] / 2;
    *y1 = b[1] - b[3] / 2;
    *y2 = b[1] + b[3] / 2;
  } else {
    *y1 = MIN (b[0], b[2]);
    *y2 = MAX (b[0], b[2]);
    *x1 = MIN (b[1], b[3]);
    *x2 = MAX (b[1], b[3]);
  }
}

static float
box_iou (const float *a, const float *b, gboolean center)
{
  float ay1, ax1, ay2, ax2, by1, bx1, by2, bx2;
  box_corners (a, center, &ay1, &ax1, &ay2, &ax2);
  box_corners (b, center, &by1, &bx1, &by2, &bx2);
  float iw = MIN (ax2, bx2) - MAX (ax1, bx1), ih = MIN (ay2, by2) - MAX (ay1, by1);
  if (iw <= 0 || ih <= 0)
    return 0;
  float inter = iw * ih;
  float uni = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter;
  return uni > 0 ? inter / uni : 0;
}

/* Runs NMS; returns the selected triples (batch, class, box) in @sel. */
static gboolean
nms_compute (const OvaOpNode *node, const OvaTensorRef *in, int n_in, GArray *sel, GError **error)
{
  const OvaTensorRef *boxes = &in[0], *scores = &in[1];
  int64_t B = boxes->dims[0], N = boxes->dims[1], C = scores->dims[1];
  int64_t max_out = 0;
  double iou_th = 0, score_th = -INFINITY;
  gboolean center = ova_op_attr_int (node, "center_point_box", 0) != 0;
  if (ops_has (in, n_in, 2) && ova_tensor_ref_numel (&in[2]) > 0)
    max_out = ops_get_i64 (in[2].data, in[2].dtype, 0);
  if (ops_has (in, n_in, 3) && ova_tensor_ref_numel (&in[3]) > 0)
    iou_th = ops_get_f64 (in[3].data, in[3].dtype, 0);
  if (ops_has (in, n_in, 4) && ova_tensor_ref_numel (&in[4]) > 0)
    score_th = ops_get_f64 (in[4].data, in[4].dtype, 0);
  if (iou_th < 0 || iou_th > 1)
    return OPS_SHAPE (node, "iou_threshold %g outside [0, 1]", iou_th);
  if (max_out <= 0)
    return TRUE;
  const float *bx = boxes->data, *sc = scores->data;
  Cand *cand = g_new (Cand, MAX (1, N));
  int64_t *kept = g_new (int64_t, MAX (1, N));
  for (int64_t b = 0; b < B; b++)
    for (int64_t c = 0; c < C; c++) {
      const float *s = sc + (b * C + c) * N;
      int64_t nc = 0, nk = 0;
      for (int64_t i = 0; i < N; i++)
        if (s[i] > score_th) {
          cand[nc].score = s[i];
          cand[nc++].idx = i;
        }
      qsort (cand, nc, sizeof (Cand), cand_cmp);
      for (int64_t i = 0; i < nc && nk < max_out; i++) {
        const float *bi = bx + (b * N + cand[i].idx) * 4;
        gboolean keep = TRUE;
        for (int64_t j = 0; j < nk && keep; j++)
          if (box_iou (bi, bx + (b * N + kept[j]) * 4, center) > iou_th)
            keep = FALSE;
        if (keep) {
          kept[nk++] = cand[i].idx;
          int64_t t[3] = { b, c, cand[i].idx };
          g_array_append_vals (sel, t, 3);
        }
      }
    }
  g_free (cand);
  g_free (kept);
  return TRUE;
}

static gboolean
infer_nms (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
           GError **error)
{
  if (!ops_check_inputs (node, n_in, 2, 5, error))
    return FALSE;
  if (in[0].dtype != OVA_DTYPE_FLOAT32 || in[1].dtype != OVA_DTYPE_FLOAT32)
    return OPS_UNSUP (node, "boxes and scores must be float32");
  if (in[0].rank != 3 || in[0].dims[2] != 4 || in[1].rank != 3)
    return OPS_SHAPE (node, "boxes must be [B, N, 4] and scores [B, C, N]");
  if ((in[0].dims[0] >= 0 && in[1].dims[0] >= 0 && in[0].dims[0] != in[1].dims[0]) ||
      (in[0].dims[1] >= 0 && in[1].dims[2] >= 0 && in[0].dims[1] != in[1].dims[2]))
    return OPS_SHAPE (node, "boxes and scores disagree on batch or box count");
  int64_t dims[2] = { -1, 3 };
  gboolean all = in[0].data && in[1].data;
  for (int i = 2; i < n_in; i++)
    if (ops_has (in, n_in, i) && !in[i].data)
      all = FALSE;
  if (all) {
    GArray *sel = g_array_new (FALSE, FALSE, sizeof (int64_t));
    gboolean ok = nms_compute (node, in, n_in, sel, error);
    dims[0] = sel->len / 3;
    g_array_free (sel, TRUE);
    if (!ok)
      return FALSE;
  }
  ops_set_shape (&out[0], OVA_DTYPE_INT64, 2, dims);
  return TRUE;
}

static gboolean
run_nms (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
         GError **error)
{
  GArray *sel = g_array_new (FALSE, FALSE, sizeof (int64_t));
  gboolean ok = nms_compute (node, in, n_in, sel, error);
  if (ok && (int64_t) sel->len != out[0].dims[0] * 3)
    ok = OPS_SHAPE (node, "output has room for %" G_GINT64_FORMAT " boxes, %u selected",
                    out[0].dims[0], sel->len / 3);
  if (ok && sel->len)
    memcpy (out[0].data, sel->data, sizeof (int64_t) * sel->len);
  g_array_free (sel, TRUE);
  return ok;
}

static const OvaOpDef def_NonMaxSuppression = { "NonMaxSuppression", 10, infer_nms, run_nms };

/* ------------------------------------------------------------ NonZero */

static gboolean
infer_nonzero (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
               int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 1, 1, error))
    return FALSE;
  if (!ops_dtype_is_numeric (in[0].dtype))
    return OPS_UNSUP (node, "data type %d not supported", in[0].dtype);
  int64_t dims[2] = { MAX (in[0].rank, 1), -1 };
  if (in[0].data) {
    int64_t n = ova_tensor_ref_numel (&in[0]), c = 0;
    for (int64_t i = 0; i < n; i++)
      c += ops_get_f64 (in[0].data, in[0].dtype, i) != 0;
    dims[1] = c;
  }
  ops_set_shape (&out[0], OVA_DTYPE_INT64, 2, dims);
  return TRUE;
}

static gboolean
run_nonzero (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
             int n_out, GError **error)
{
  int r = in[0].rank;
  int64_t n = ova_tensor_ref_numel (&in[0]), c = 0, cnt = out[0].dims[1];
  int64_t *y = out[0].data;
  for (int64_t i = 0; i < n; i++) {
    if (ops_get_f64 (in[0].data, in[0].dtype, i) == 0)
      continue;
    if (c >= cnt)
      return OPS_SHAPE (node, "more non-zero elements than planned");
    int64_t rem = i;
    for (int a = r - 1; a >= 0; a--) {
      y[a * cnt + c] = rem % in[0].dims[a];
      rem /= in[0].dims[a];
    }
    if (r == 0)
      y[c] = 0;
    c++;
  }
  return TRUE;
}

static const OvaOpDef def_NonZero = { "NonZero", 9, infer_nonzero, run_nonzero };

/* ------------------------------------------------------------ CumSum */

static gboolean
infer_cumsum (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
              int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 2, 2, error) || !ops_check_scalar (node, in, n_in, 1, "axis", error))
    return FALSE;
  if (!ops_dtype_is_float (in[0].dtype) && !ops_dtype_is_int (in[0].dtype))
    return OPS_UNSUP (node, "data type %d not supported", in[0].dtype);
  ops_copy_shape (&out[0], &in[0]);
  return TRUE;
}

static gboolean
run_cumsum (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
            int n_out, GError **error)
{
  int axis;
  if (!ops_axis (node, ops_get_i64 (in[1].data, in[1].dtype, 0), in[0].rank, &axis, error))
    return FALSE;
  gboolean excl = ova_op_attr_int (node, "exclusive", 0) != 0;
  gboolean rev = ova_op_attr_int (node, "reverse", 0) != 0;
  int64_t outer = ops_numel_dims (axis, in[0].dims), R = in[0].dims[axis];
  int64_t inner = ops_numel_dims (in[0].rank - axis - 1, in[0].dims + axis + 1);
  gboolean f = ops_dtype_is_float (in[0].dtype);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      double af = 0;
      int64_t ai = 0;
      for (int64_t q = 0; q < R; q++) {
        int64_t rr = rev ? R - 1 - q : q, e = (o * R + rr) * inner + i;
        double vf = f ? ops_get_f64 (in[0].data, in[0].dtype, e) : 0;
        int64_t vi = f ? 0 : ops_get_i64 (in[0].data, in[0].dtype, e);
        if (!excl) {
          af += vf;
          ai += vi;
        }
        if (f)
          ops_set_f64 (out[0].data, out[0].dtype, e, af);
        else
          ops_set_i64 (out[0].data, out[0].dtype, e, ai);
        if (excl) {
          af += vf;
          ai += vi;
        }
      }
    }
  return TRUE;
}

static const OvaOpDef def_CumSum = { "CumSum", 11, infer_cumsum, run_cumsum };

/* ------------------------------------------------------------ GatherND */

static gboolean
infer_gathernd (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
                int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 2, 2, error))
    return FALSE;
  if (ops_dtype_size (in[0].dtype) == 0 || in[1].dtype != OVA_DTYPE_INT64)
    return OPS_UNSUP (node, "data types %d, %d not supported", in[0].dtype, in[1].dtype);
  int64_t b = ova_op_attr_int (node, "batch_dims", 0);
  int r = in[0].rank, q = in[1].rank;
  if (q < 1 || b < 0 || b >= MIN (r, q))
    return OPS_SHAPE (node, "bad ranks or batch_dims");
  int64_t k = in[1].dims[q - 1];
  if (k < 0)
    return OPS_UNSUP (node, "last indices dimension unknown");
  if (b + k > r)
    return OPS_SHAPE (node, "indices address %" G_GINT64_FORMAT " dims of a rank %d tensor", b + k, r);
  for (int i = 0; i < b; i++)
    if (in[0].dims[i] >= 0 && in[1].dims[i] >= 0 && in[0].dims[i] != in[1].dims[i])
      return OPS_SHAPE (node, "batch dimension %d differs between data and indices", i);
  int64_t dims[OVA_MAX_DIMS];
  int m = 0;
  for (int i = 0; i < q - 1; i++)
    dims[m++] = in[1].dims[i];
  for (int i = (int) (b + k); i < r; i++) {
    if (m >= OVA_MAX_DIMS)
      return OPS_UNSUP (node, "output rank too large");
    dims[m++] = in[0].dims[i];
  }
  ops_set_shape (&out[0], in[0].dtype, m, dims);
  return TRUE;
}

static gboolean
run_gathernd (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
              int n_out, GError **error)
{
  int64_t b = ova_op_attr_int (node, "batch_dims", 0);
  int r = in[0].rank, q = in[1].rank;
  int64_t k = in[1].dims[q - 1];
  size_t es = ops_dtype_size (in[0].dtype);
  int64_t ds[OVA_MAX_DIMS], s = 1;
  for (int i = r - 1; i >= 0; i--) {
    ds[i] = s;
    s *= in[0].dims[i];
  }
  int64_t slice = ops_numel_dims (r - (int) (b + k), in[0].dims + b + k);
  int64_t nb = ops_numel_dims ((int) b, in[1].dims);
  int64_t per_batch = ops_numel_dims (q - 1 - (int) b, in[1].dims + b);
  const int64_t *ix = in[1].data;
  for (int64_t bi = 0; bi < nb; bi++)
    for (int64_t t = 0; t < per_batch; t++) {
      const int64_t *tup = ix + (bi * per_batch + t) * k;
      /* batch offset: the batch index spans dims [0, b) */
      int64_t off = 0, rem = bi;
      for (int i = (int) b - 1; i >= 0; i--) {
        off += (rem % in[0].dims[i]) * ds[i];
        rem /= in[0].dims[i];
      }
      for (int j = 0; j < k; j++) {
        int64_t d = in[0].dims[b + j], v = tup[j];
        if (v < -d || v >= d)
          return OPS_SHAPE (node, "index %" G_GINT64_FORMAT " out of range", v);
        off += (v < 0 ? v + d : v) * ds[b + j];
      }
      memcpy ((uint8_t *) out[0].data + (bi * per_batch + t) * slice * es,
              (const uint8_t *) in[0].data + off * es, slice * es);
    }
  return TRUE;
}

static const OvaOpDef def_GatherND = { "GatherND", 11, infer_gathernd, run_gathernd };

/* ------------------------------------------------------------ Scatter */

typedef enum { SR_NONE, SR_ADD, SR_MUL, SR_MAX, SR_MIN } ScatterRed;

static gboolean
scatter_reduction (const OvaOpNode *node, ScatterRed *r, GError **error)
{
  const char *s = ova_op_attr_string (node, "reduction", "none");
  static const char *names[] = { "none", "add", "mul", "max", "min" };
  for (int i = 0; i < 5; i++)
    if (strcmp (s, names[i]) == 0) {
      *r = (ScatterRed) i;
      return TRUE;
    }
  return OPS_UNSUP (node, "reduction '%s' not supported", s);
}

static void
scatter_one (const OvaTensorRef *data, void *dst, int64_t di, const OvaTensorRef *upd, int64_t ui,
             ScatterRed red)
{
  OvaDataType dt = data->dtype;
  if (red == SR_NONE) {
    size_t es = ops_dtype_size (dt);
    memcpy ((uint8_t *) dst + di * es, (const uint8_t *) upd->data + ui * es, es);
    return;
  }
  double a = ops_get_f64 (dst, dt, di), b = ops_get_f64 (upd->data, dt, ui), v;
  switch (red) {
  case SR_ADD: v = a + b; break;
  case SR_MUL: v = a * b; break;
  case SR_MAX: v = MAX (a, b); break;
  default: v = MIN (a, b); break;
  }
  ops_set_f64 (dst, dt, di, v);
}

static gboolean
infer_scatter (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
               int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 3, 3, error))
    return FALSE;
  ScatterRed red;
  if (!scatter_reduction (node, &red, error))
    return FALSE;
  if (ops_dtype_size (in[0].dtype) == 0 || in[2].dtype != in[0].dtype ||
      (in[1].dtype != OVA_DTYPE_INT64 && in[1].dtype != OVA_DTYPE_INT32))
    return OPS_UNSUP (node, "data types not supported");
  gboolean nd = strcmp (node->op_type, "ScatterND") == 0;
  const OvaTensorRef *d = &in[0], *ix = &in[1], *up = &in[2];
  if (!nd) {
    int axis;
    if (ix->rank != d->rank || up->rank != ix->rank)
      return OPS_SHAPE (node, "data, indices and updates must have the same rank");
    if (!ops_axis (node, ova_op_attr_int (node, "axis", 0), d->rank, &axis, error))
      return FALSE;
    for (int i = 0; i < ix->rank; i++)
      if (ix->dims[i] != up->dims[i] || (i != axis && d->dims[i] >= 0 && ix->dims[i] > d->dims[i]))
        return OPS_SHAPE (node, "indices and updates do not fit the data along axis %d", i);
  } else {
    if (ix->rank < 1 || ix->dims[ix->rank - 1] < 0 || ix->dims[ix->rank - 1] > d->rank)
      return OPS_SHAPE (node, "indices do not fit the data rank");
    int64_t k = ix->dims[ix->rank - 1];
    /* updates: indices.shape[:-1] + data.shape[k:] */
    if (up->rank != ix->rank - 1 + d->rank - (int) k)
      return OPS_SHAPE (node, "updates have rank %d, expected %d", up->rank, ix->rank - 1 + d->rank - (int) k);
    for (int i = 0; i < up->rank; i++) {
      int64_t want = i < ix->rank - 1 ? ix->dims[i] : d->dims[k + i - (ix->rank - 1)];
      if (want >= 0 && up->dims[i] >= 0 && up->dims[i] != want)
        return OPS_SHAPE (node, "updates dimension %d is %" G_GINT64_FORMAT ", expected %" G_GINT64_FORMAT,
                          i, up->dims[i], want);
    }
  }
  ops_copy_shape (&out[0], &in[0]);
  return TRUE;
}

static gboolean
run_scatter (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
             int n_out, GError **error)
{
  ScatterRed red;
  if (!scatter_reduction (node, &red, error))
    return FALSE;
  const OvaTensorRef *data = &in[0], *ind = &in[1], *upd = &in[2];
  int r = data->rank;
  if (ova_tensor_ref_bytes (data) == 0)
    return TRUE;
  memcpy (out[0].data, data->data, ova_tensor_ref_bytes (data));
  int64_t ds[OVA_MAX_DIMS], s = 1;
  for (int i = r - 1; i >= 0; i--) {
    ds[i] = s;
    s *= data->dims[i];
  }
  if (strcmp (node->op_type, "ScatterND") == 0) {
    int q = ind->rank;
    int64_t k = ind->dims[q - 1], nt = ops_numel_dims (q - 1, ind->dims);
    int64_t slice = ops_numel_dims (r - (int) k, data->dims + k);
    for (int64_t t = 0; t < nt; t++) {
      int64_t off = 0;
      for (int j = 0; j < k; j++) {
        int64_t v = ops_get_i64 (ind->data, ind->dtype, t * k + j), d = data->dims[j];
        if (v < -d || v >= d)
          return OPS_SHAPE (node, "index %" G_GINT64_FORMAT " out of range", v);
        off += (v < 0 ? v + d : v) * ds[j];
      }
      for (int64_t e = 0; e < slice; e++)
        scatter_one (data, out[0].data, off + e, upd, t * slice + e, red);
    }
    return TRUE;
  }
  int axis;
  if (!ops_axis (node, ova_op_attr_int (node, "axis", 0), r, &axis, error))
    return FALSE;
  int64_t n = ova_tensor_ref_numel (ind), idx[OVA_MAX_DIMS] = { 0 };
  for (int64_t e = 0; e < n; e++) {
    int64_t v = ops_get_i64 (ind->data, ind->dtype, e), d = data->dims[axis];
    if (v < -d || v >= d)
      return OPS_SHAPE (node, "index %" G_GINT64_FORMAT " out of range", v);
    int64_t off = 0;
    for (int i = 0; i < r; i++)
      off += (i == axis ? (v < 0 ? v + d : v) : idx[i]) * ds[i];
    scatter_one (data, out[0].data, off, upd, e, red);
    for (int i = r - 1; i >= 0; i--) {
      if (++idx[i] < ind->dims[i])
        break;
      idx[i] = 0;
    }
  }
  return TRUE;
}

static const OvaOpDef def_ScatterND = { "ScatterND", 11, infer_scatter, run_scatter };
static const OvaOpDef def_ScatterElements = { "ScatterElements", 11, infer_scatter, run_scatter };
static const OvaOpDef def_Scatter = { "Scatter", 9, infer_scatter, run_scatter };

/* ------------------------------------------------------------ OneHot */

static gboolean
infer_onehot (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
              int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 3, 3, error) || !ops_check_scalar (node, in, n_in, 1, "depth", error))
    return FALSE;
  if (ops_numel_dims (in[2].rank, in[2].dims) != 2)
    return OPS_SHAPE (node, "values must hold two elements");
  if (!ops_dtype_is_numeric (in[0].dtype) || !ops_dtype_is_numeric (in[1].dtype) ||
      ops_dtype_size (in[2].dtype) == 0)
    return OPS_UNSUP (node, "data types not supported");
  int r = in[0].rank + 1, axis;
  if (r > OVA_MAX_DIMS)
    return OPS_UNSUP (node, "rank too large");
  if (!ops_axis (node, ova_op_attr_int (node, "axis", -1), r, &axis, error))
    return FALSE;
  int64_t depth = -1;
  if (in[1].data) {
    depth = (int64_t) ops_get_f64 (in[1].data, in[1].dtype, 0);
    if (depth < 1)
      return OPS_SHAPE (node, "depth %" G_GINT64_FORMAT " is not positive", depth);
  }
  int64_t dims[OVA_MAX_DIMS];
  for (int i = 0, j = 0; i < r; i++)
    dims[i] = i == axis ? depth : in[0].dims[j++];
  ops_set_shape (&out[0], in[2].dtype, r, dims);
  return ops_check_size (node, &out[0], error);
}

static gboolean
run_onehot (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
            int n_out, GError **error)
{
  int r = out[0].rank, axis;
  if (!ops_axis (node, ova_op_attr_int (node, "axis", -1), r, &axis, error))
    return FALSE;
  int64_t depth = out[0].dims[axis];
  int64_t outer = ops_numel_dims (axis, out[0].dims);
  int64_t inner = ops_numel_dims (r - axis - 1, out[0].dims + axis + 1);
  size_t es = ops_dtype_size (out[0].dtype);
  const uint8_t *off = in[2].data, *on = (const uint8_t *) in[2].data + es;
  uint8_t *y = out[0].data;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t d = 0; d < depth; d++)
      for (int64_t i = 0; i < inner; i++) {
        int64_t v = (int64_t) ops_get_f64 (in[0].data, in[0].dtype, o * inner + i);
        if (v < 0)
          v += depth;
        memcpy (y + ((o * depth + d) * inner + i) * es, v == d ? on : off, es);
      }
  return TRUE;
}

static const OvaOpDef def_OneHot = { "OneHot", 9, infer_onehot, run_onehot };

/* ------------------------------------------------------------ EyeLike */

static gboolean
infer_eyelike (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
               int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 1, 1, error))
    return FALSE;
  if (in[0].rank != 2)
    return OPS_SHAPE (node, "input must be 2-D");
  OvaDataType dt = (OvaDataType) ova_op_attr_int (node, "dtype", in[0].dtype);
  if (!ops_dtype_is_numeric (dt))
    return OPS_UNSUP (node, "data type %d not supported", dt);
  ops_copy_shape (&out[0], &in[0]);
  out[0].dtype = dt;
  return TRUE;
}

static gboolean
run_eyelike (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
             int n_out, GError **error)
{
  int64_t k = ova_op_attr_int (node, "k", 0), R = out[0].dims[0], C = out[0].dims[1];
  for (int64_t i = 0; i < R; i++)
    for (int64_t j = 0; j < C; j++)
      ops_set_f64 (out[0].data, out[0].dtype, i * C + j, j - i == k ? 1.0 : 0.0);
  return TRUE;
}

static const OvaOpDef def_EyeLike = { "EyeLike", 9, infer_eyelike, run_eyelike };

/* ------------------------------------------------------------ LRN */

static gboolean
infer_lrn (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
           GError **error)
{
  if (!ops_check_inputs (node, n_in, 1, 1, error))
    return FALSE;
  if (in[0].dtype != OVA_DTYPE_FLOAT32)
    return OPS_UNSUP (node, "only float32 is supported");
  if (in[0].rank < 3)
    return OPS_SHAPE (node, "input rank must be at least 3");
  if (ova_op_attr_int (node, "size", 0) < 1)
    return OPS_SHAPE (node, "attribute 'size' must be positive");
  ops_copy_shape (&out[0], &in[0]);
  return TRUE;
}

static gboolean
run_lrn (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
         GError **error)
{
  double alpha = ova_op_attr_float (node, "alpha", 1e-4f), beta = ova_op_attr_float (node, "beta", 0.75f);
  double bias = ova_op_attr_float (node, "bias", 1.0f);
  int64_t size = ova_op_attr_int (node, "size", 1);
  int64_t N = in[0].dims[0], C = in[0].dims[1], I = ops_numel_dims (in[0].rank - 2, in[0].dims + 2);
  int64_t lo = (size - 1) / 2, hi = size - 1 - lo;
  const float *x = in[0].data;
  float *y = out[0].data;
  for (int64_t n = 0; n < N; n++)
    for (int64_t c = 0; c < C; c++)
      for (int64_t i = 0; i < I; i++) {
        double sq = 0;
        for (int64_t cc = MAX (0, c - lo); cc <= MIN (C - 1, c + hi); cc++) {
          double v = x[(n * C + cc) * I + i];
          sq += v * v;
        }
        int64_t e = (n * C + c) * I + i;
        y[e] = (float) (x[e] / pow (bias + alpha / size * sq, beta));
      }
  return TRUE;
}

static const OvaOpDef def_LRN = { "LRN", 1, infer_lrn, run_lrn };

/* ------------------------------------------------------------ RoiAlign
 * As ONNX's reference and ONNX Runtime: bilinear samples on a regular grid
 * per output bin (sampling_ratio, or adaptive), averaged or max-pooled. */

static gboolean
infer_roialign (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
                int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 3, 3, error))
    return FALSE;
  if (in[0].dtype != OVA_DTYPE_FLOAT32 || in[1].dtype != OVA_DTYPE_FLOAT32 ||
      (in[2].dtype != OVA_DTYPE_INT64 && in[2].dtype != OVA_DTYPE_INT32))
    return OPS_UNSUP (node, "X and rois must be float32, batch_indices int64");
  if (in[0].rank != 4 || in[1].rank != 2 || in[1].dims[1] != 4 || in[2].rank != 1 ||
      (in[1].dims[0] >= 0 && in[2].dims[0] >= 0 && in[1].dims[0] != in[2].dims[0]))
    return OPS_SHAPE (node, "X must be [N, C, H, W], rois [R, 4], batch_indices [R]");
  const char *mode = ova_op_attr_string (node, "mode", "avg");
  if (strcmp (mode, "avg") && strcmp (mode, "max"))
    return OPS_UNSUP (node, "mode '%s' not supported", mode);
  int64_t oh = ova_op_attr_int (node, "output_height", 1), ow = ova_op_attr_int (node, "output_width", 1);
  if (oh < 1 || ow < 1 || ova_op_attr_int (node, "sampling_ratio", 0) < 0)
    return OPS_SHAPE (node, "output size and sampling_ratio must be positive");
  int64_t dims[4] = { in[1].dims[0], in[0].dims[1], oh, ow };
  ops_set_shape (&out[0], OVA_DTYPE_FLOAT32, 4, dims);
  return TRUE;
}

static gboolean
run_roialign (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
              int n_out, GError **error)
{
  gboolean half = node->opset >= 16 &&
                  strcmp (ova_op_attr_string (node, "coordinate_transformation_mode", "half_pixel"), "half_pixel") == 0;
  gboolean is_max = strcmp (ova_op_attr_string (node, "mode", "avg"), "max") == 0;
  int64_t PH = out[0].dims[2], PW = out[0].dims[3], sr = ova_op_attr_int (node, "sampling_ratio", 0);
  double scale = ova_op_attr_float (node, "spatial_scale", 1.0f), offset = half ? 0.5 : 0.0;
  int64_t N = in[0].dims[0], C = in[0].dims[1], H = in[0].dims[2], W = in[0].dims[3], R = in[1].dims[0];
  const float *X = in[0].data, *rois = in[1].data;
  float *Y = out[0].data;
  for (int64_t r = 0; r < R; r++) {
    int64_t b = ops_get_i64 (in[2].data, in[2].dtype, r);
    if (b < 0 || b >= N)
      return OPS_SHAPE (node, "batch index %" G_GINT64_FORMAT " out of range", b);
    const float *roi = rois + r * 4;
    double x0 = roi[0] * scale - offset, y0 = roi[1] * scale - offset;
    double rw = roi[2] * scale - offset - x0, rh = roi[3] * scale - offset - y0;
    if (!half) {
      rw = MAX (rw, 1.0);
      rh = MAX (rh, 1.0);
    }
    double bh = rh / PH, bw = rw / PW;
    int64_t gh = sr > 0 ? sr : (int64_t) ceil (rh / PH), gw = sr > 0 ? sr : (int64_t) ceil (rw / PW);
    double count = MAX (gh * gw, 1);
    for (int64_t c = 0; c < C; c++) {
      const float *xc = X + (b * C + c) * H * W;
      for (int64_t ph = 0; ph < PH; ph++)
        for (int64_t pw = 0; pw < PW; pw++) {
          double acc = 0, mx = 0;
          gboolean any = FALSE;
          for (int64_t iy = 0; iy < gh; iy++) {
            double y = y0 + ph * bh + (iy + 0.5) * bh / gh;
            for (int64_t ix = 0; ix < gw; ix++) {
              double x = x0 + pw * bw + (ix + 0.5) * bw / gw;
              double v = 0, m = 0;
              if (!(y < -1.0 || y > H || x < -1.0 || x > W)) {
                double yy = MAX (y, 0.0), xx = MAX (x, 0.0);
                int64_t yl = (int64_t) yy, xl = (int64_t) xx, yh, xh;
                if (yl >= H - 1) {
                  yh = yl = H - 1;
                  yy = (double) yl;
                } else {
                  yh = yl + 1;
                }
                if (xl >= W - 1) {
                  xh = xl = W - 1;
                  xx = (double) xl;
                } else {
                  xh = xl + 1;
                }
                double ly = yy - yl, lx = xx - xl, hy = 1 - ly, hx = 1 - lx;
                double w1 = hy * hx * xc[yl * W + xl], w2 = hy * lx * xc[yl * W + xh];
                double w3 = ly * hx * xc[yh * W + xl], w4 = ly * lx * xc[yh * W + xh];
                v = w1 + w2 + w3 + w4;
                m = MAX (MAX (w1, w2), MAX (w3, w4));
              }
              acc += v;
              mx = any ? MAX (mx, m) : m;
              any = TRUE;
            }
          }
          Y[((r * C + c) * PH + ph) * PW + pw] = (float) (is_max ? mx : acc / count);
        }
    }
  }
  return TRUE;
}

static const OvaOpDef def_RoiAlign = { "RoiAlign", 10, infer_roialign, run_roialign };

/* ------------------------------------------------------------ ReverseSequence */

static gboolean
infer_revseq (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
              int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 2, 2, error))
    return FALSE;
  if (ops_dtype_size (in[0].dtype) == 0 || (in[1].dtype != OVA_DTYPE_INT64 && in[1].dtype != OVA_DTYPE_INT32))
    return OPS_UNSUP (node, "data types not supported");
  int64_t ba = ova_op_attr_int (node, "batch_axis", 1), ta = ova_op_attr_int (node, "time_axis", 0);
  if (in[0].rank < 2 || !((ba == 0 && ta == 1) || (ba == 1 && ta == 0)))
    return OPS_SHAPE (node, "batch_axis and time_axis must be 0 and 1 of a tensor of rank >= 2");
  if (in[1].rank != 1 || (in[1].dims[0] >= 0 && in[0].dims[ba] >= 0 && in[1].dims[0] != in[0].dims[ba]))
    return OPS_SHAPE (node, "sequence_lens must hold one length per batch entry");
  ops_copy_shape (&out[0], &in[0]);
  return TRUE;
}

static gboolean
run_revseq (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
            int n_out, GError **error)
{
  int64_t ba = ova_op_attr_int (node, "batch_axis", 1), ta = ova_op_attr_int (node, "time_axis", 0);
  int64_t B = in[0].dims[ba], T = in[0].dims[ta];
  int64_t inner = ops_numel_dims (in[0].rank - 2, in[0].dims + 2);
  size_t es = ops_dtype_size (in[0].dtype), row = inner * es;
  for (int64_t b = 0; b < B; b++) {
    int64_t len = ops_get_i64 (in[1].data, in[1].dtype, b);
    if (len < 0 || len > T)
      return OPS_SHAPE (node, "sequence length %" G_GINT64_FORMAT " outside [0, %" G_GINT64_FORMAT "]", len, T);
    for (int64_t t = 0; t < T; t++) {
      int64_t src = t < len ? len - 1 - t : t;
      int64_t di = ba == 1 ? t * B + b : b * T + t, si = ba == 1 ? src * B + b : b * T + src;
      memcpy ((uint8_t *) out[0].data + di * row, (const uint8_t *) in[0].data + si * row, row);
    }
  }
  return TRUE;
}

static const OvaOpDef def_ReverseSequence = { "ReverseSequence", 10, infer_revseq, run_revseq };

/* ------------------------------------------------------------ MeanVarianceNormalization
 * ONNX's function: (X - E[X]) / (sqrt(E[X^2] - E[X]^2) + 1e-9) over axes. */

static gboolean
mvn_axes (const OvaOpNode *node, int rank, gboolean *red, GError **error)
{
  const int64_t *v;
  int n = ova_op_attr_ints (node, "axes", &v);
  static const int64_t def[] = { 0, 2, 3 };
  if (n == 0) {
    v = def;
    n = 3;
  }
  for (int i = 0; i < rank; i++)
    red[i] = FALSE;
  for (int i = 0; i < n; i++) {
    int a;
    if (!ops_axis (node, v[i], rank, &a, error))
      return FALSE;
    red[a] = TRUE;
  }
  return TRUE;
}

static gboolean
infer_mvn (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
           GError **error)
{
  gboolean red[OVA_MAX_DIMS];
  if (!ops_check_inputs (node, n_in, 1, 1, error) || !mvn_axes (node, in[0].rank, red, error))
    return FALSE;
  if (in[0].dtype != OVA_DTYPE_FLOAT32)
    return OPS_UNSUP (node, "only float32 is supported");
  ops_copy_shape (&out[0], &in[0]);
  return TRUE;
}

static gboolean
run_mvn (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
         GError **error)
{
  gboolean red[OVA_MAX_DIMS];
  if (!mvn_axes (node, in[0].rank, red, error))
    return FALSE;
  int r = in[0].rank;
  int64_t n = ova_tensor_ref_numel (&in[0]), kst[OVA_MAX_DIMS], ks = 1, cnt = 1;
  for (int i = r - 1; i >= 0; i--) {
    kst[i] = red[i] ? 0 : ks;
    if (!red[i])
      ks *= in[0].dims[i];
    else
      cnt *= in[0].dims[i];
  }
  double *s = g_new0 (double, MAX (1, ks) * 2), *s2 = s + ks;
  const float *x = in[0].data;
  int64_t idx[OVA_MAX_DIMS] = { 0 }, k = 0;
  for (int pass = 0; pass < 2; pass++) {
    memset (idx, 0, sizeof idx);
    k = 0;
    for (int64_t e = 0; e < n; e++) {
      if (pass == 0) {
        s[k] += x[e];
        s2[k] += (double) x[e] * x[e];
      } else {
        double m = s[k] / cnt, var = s2[k] / cnt - m * m;
        ((float *) out[0].data)[e] = (float) ((x[e] - m) / (sqrt (MAX (var, 0.0)) + 1e-9));
      }
      for (int i = r - 1; i >= 0; i--) {
        k += kst[i];
        if (++idx[i] < in[0].dims[i])
          break;
        k -= kst[i] * in[0].dims[i];
        idx[i] = 0;
      }
    }
  }
  g_free (s);
  return TRUE;
}

static const OvaOpDef def_MeanVarianceNormalization = { "MeanVarianceNormalization", 9, infer_mvn, run_mvn };

/* ------------------------------------------------------------ window functions (opset 17) */

static gboolean
infer_window (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
              int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 1, 1, error) || !ops_check_scalar (node, in, n_in, 0, "size", error))
    return FALSE;
  if (!ops_dtype_is_int (in[0].dtype))
    return OPS_UNSUP (node, "size must be an integer");
  OvaDataType dt = (OvaDataType) ova_op_attr_int (node, "output_datatype", OVA_DTYPE_FLOAT32);
  if (!ops_dtype_is_numeric (dt))
    return OPS_UNSUP (node, "output_datatype %d not supported", dt);
  int64_t n = in[0].data ? ops_get_i64 (in[0].data, in[0].dtype, 0) : -1;
  if (in[0].data && n < 0)
    return OPS_SHAPE (node, "negative size");
  ops_set_shape (&out[0], dt, 1, &n);
  return ops_check_size (node, &out[0], error);
}

static gboolean
run_window (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
            int n_out, GError **error)
{
  int64_t n = out[0].dims[0];
  gboolean periodic = ova_op_attr_int (node, "periodic", 1) != 0;
  double d = periodic ? (double) n : (double) (n - 1);
  int kind = strcmp (node->op_type, "HannWindow") == 0 ? 0 : strcmp (node->op_type, "HammingWindow") == 0 ? 1 : 2;
  for (int64_t i = 0; i < n; i++) {
    double c = d > 0 ? cos (2 * G_PI * i / d) : 1.0, v;
    if (kind == 0)
      v = 0.5 - 0.5 * c;
    else if (kind == 1)
      v = 25.0 / 46.0 - (1 - 25.0 / 46.0) * c;
    else
      v = 0.42 - 0.5 * c + 0.08 * (d > 0 ? cos (4 * G_PI * i / d) : 1.0);
    ops_set_f64 (out[0].data, out[0].dtype, i, v);
  }
  return TRUE;
}

static const OvaOpDef def_HannWindow = { "HannWindow", 17, infer_window, run_window };
static const OvaOpDef def_HammingWindow = { "HammingWindow", 17, infer_window, run_window };
static const OvaOpDef def_BlackmanWindow = { "BlackmanWindow", 17, infer_window, run_window };

/* ------------------------------------------------------------ Det
 * LU decomposition with partial pivoting, in double, per matrix. */

static gboolean
infer_det (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
           GError **error)
{
  if (!ops_check_inputs (node, n_in, 1, 1, error))
    return FALSE;
  if (!ops_dtype_is_float (in[0].dtype))
    return OPS_UNSUP (node, "expects a floating-point input");
  int r = in[0].rank;
  if (r < 2 || (in[0].dims[r - 1] >= 0 && in[0].dims[r - 2] >= 0 && in[0].dims[r - 1] != in[0].dims[r - 2]))
    return OPS_SHAPE (node, "expects [..., M, M]");
  ops_set_shape (&out[0], in[0].dtype, r - 2, in[0].dims);
  return TRUE;
}

static gboolean
run_det (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
         GError **error)
{
  int r = in[0].rank;
  int64_t n = in[0].dims[r - 1], B = ops_numel_dims (r - 2, in[0].dims);
  double *a = g_new (double, MAX (1, n * n));
  for (int64_t b = 0; b < B; b++) {
    for (int64_t i = 0; i < n * n; i++)
      a[i] = ops_get_f64 (in[0].data, in[0].dtype, b * n * n + i);
    double det = 1;
    for (int64_t c = 0; c < n && det != 0; c++) {
      int64_t p = c;
      for (int64_t i = c + 1; i < n; i++)
        if (fabs (a[i * n + c]) > fabs (a[p * n + c]))
          p = i;
      if (a[p * n + c] == 0) {
        det = 0;
        break;
      }
      if (p != c) {
        for (int64_t j = 0; j < n; j++) {
          double t = a[c * n + j];
          a[c * n + j] = a[p * n + j];
          a[p * n + j] = t;
        }
        det = -det;
      }
      det *= a[c * n + c];
      for (int64_t i = c + 1; i < n; i++) {
        double f = a[i * n + c] / a[c * n + c];
        for (int64_t j = c; j < n; j++)
          a[i * n + j] -= f * a[c * n + j];
      }
    }
    ops_set_f64 (out[0].data, out[0].dtype, b, det);
  }
  g_free (a);
  return TRUE;
}

static const OvaOpDef def_Det = { "Det", 11, infer_det, run_det };

const OvaOpDef *const ova_ops_misc[] = {
  &def_Einsum, &def_NonMaxSuppression, &def_NonZero, &def_CumSum, &def_GatherND, &def_ScatterND,
  &def_ScatterElements, &def_Scatter, &def_OneHot, &def_EyeLike, &def_LRN, &def_RoiAlign,
  &def_ReverseSequence, &def_MeanVarianceNormalization, &def_HannWindow, &def_HammingWindow,
  &def_BlackmanWindow, &def_Det, NULL,
};
