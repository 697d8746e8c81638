/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Data-movement and shape operators: Reshape family, Transpose, Concat,
 * Split, Slice, Gather, Shape, Size, Constant(OfShape), Expand, Tile, Pad,
 * DepthToSpace, SpaceToDepth, Range, Trilu. They copy elements of any size;
 * their integer inputs (shapes, axes, indices) may be int32 or int64.
 */
#include "ops-private.h"

#include <stdlib.h>


/* Axes from the attribute (old opsets) or from input @idx (new ones).
 * Returns the count, 0 when absent, -1 when the input exists without data. */
static int
read_axes (const OvaOpNode *node, const OvaTensorRef *in, int n_in, int idx, int64_t *axes)
{
  const int64_t *v;
  int n = ova_op_attr_ints (node, "axes", &v);
  if (n > 0) {
    ops_copy_i64 (axes, v, MIN (n, OVA_MAX_DIMS * 2));
    return MIN (n, OVA_MAX_DIMS * 2);
  }
  if (ops_has (in, n_in, idx))
    return ops_read_ints (&in[idx], axes, OVA_MAX_DIMS * 2);
  return 0;
}

/* [B, R, C] -> [B, C, R] in 32 x 32 tiles (both sides stay in cache). */
static void
transpose_tiles (const void *src, size_t es, int64_t B, int64_t R, int64_t C, void *dst)
{
  const int64_t T = 32;
  for (int64_t b = 0; b < B; b++)
    for (int64_t r0 = 0; r0 < R; r0 += T)
      for (int64_t c0 = 0; c0 < C; c0 += T) {
        int64_t r1 = MIN (R, r0 + T), c1 = MIN (C, c0 + T);
        if (es == 4) {
          const uint32_t *s = (const uint32_t *) src + b * R * C;
          uint32_t *d = (uint32_t *) dst + b * R * C;
          for (int64_t c = c0; c < c1; c++)
            for (int64_t r = r0; r < r1; r++)
              d[c * R + r] = s[r * C + c];
        } else {
          const uint8_t *s = (const uint8_t *) src + b * R * C * es;
          uint8_t *d = (uint8_t *) dst + b * R * C * es;
          for (int64_t c = c0; c < c1; c++)
            for (int64_t r = r0; r < r1; r++)
              memcpy (d + (c * R + r) * es, s + (r * C + c) * es, es);
        }
      }
}

/* Generic N-d transpose of elements of size @es: out dims[i] = in dims[perm[i]]. */
static void
transpose_nd (const void *src, size_t es, int rank, const int64_t *dims, const int *perm, void *dst)
{
  /* Merge input axes that stay adjacent and in order in the output; a
   * permutation that then swaps only the last two groups (NCHW <-> NHWC,
   * [B, C, N] <-> [B, N, C]) runs as tiled 2-D transposes. */
  if (rank >= 2) {
    int64_t g[OVA_MAX_DIMS]; /* merged sizes, in output order */
    int first[OVA_MAX_DIMS], ng = 0;
    for (int i = 0; i < rank; i++) {
      if (ng > 0 && perm[i] == perm[i - 1] + 1) {
        g[ng - 1] *= dims[perm[i]];
      } else {
        first[ng] = perm[i];
        g[ng++] = dims[perm[i]];
      }
    }
    /* output groups are ordered by first input axis except the last two */
    gboolean swap = ng >= 2 && first[ng - 1] < first[ng - 2];
    for (int i = 1; swap && i < ng - 1; i++)
      swap = first[i] > first[i - 1];
    if (swap && ng >= 3)
      swap = first[ng - 1] > first[ng - 3];
    if (swap) {
      int64_t B = 1;
      for (int i = 0; i < ng - 2; i++)
        B *= g[i];
      /* input is [B, R = last output group, C = second-to-last output group] */
      transpose_tiles (src, es, B, g[ng - 1], g[ng - 2], dst);
      return;
    }
  }
  int64_t in_st[OVA_MAX_DIMS], st[OVA_MAX_DIMS], od[OVA_MAX_DIMS], idx[OVA_MAX_DIMS] = { 0 };
  int64_t s = 1;
  for (int i = rank - 1; i >= 0; i--) {
    in_st[i] = s;
    s *= dims[i];
  }
  int64_t total = s;
  if (total == 0)
    return;
  if (rank == 0) {
    memcpy (dst, src, es);
    return;
  }
  for (int i = 0; i < rank; i++) {
    od[i] = dims[perm[i]];
    st[i] = in_st[perm[i]];
  }
  int64_t n = od[rank - 1], sn = st[rank - 1], rows = total / n, off = 0;
  const uint8_t *s8 = src;
  uint8_t *d8 = dst;
  for (int64_t r = 0; r < rows; r++) {
    if (es == 4) {
      const uint32_t *sp = (const uint32_t *) src + off;
      uint32_t *dp = (uint32_t *) dst + r * n;
      for (int64_t i = 0; i < n; i++)
        dp[i] = sp[i * sn];
    } else if (es == 8) {
      const uint64_t *sp = (const uint64_t *) src + off;
      uint64_t *dp = (uint64_t *) dst + r * n;
      for (int64_t i = 0; i < n; i++)
        dp[i] = sp[i * sn];
    } else {
      for (int64_t i = 0; i < n; i++)
        memcpy (d8 + (r * n + i) * es, s8 + (off + i * sn) * es, es);
    }
    for (int i = rank - 2; i >= 0; i--) {
      idx[i]++;
      off += st[i];
      if (idx[i] < od[i])
        break;
      off -= st[i] * od[i];
      idx[i] = 0;
    }
  }
}

static gboolean
check_type (const OvaOpNode *node, OvaDataType dt, GError **error)
{
  if (ops_dtype_size (dt) == 0)
    return OPS_UNSUP (node, "data type %d not supported", dt);
  return TRUE;
}

/* ------------------------------------------------------------ Reshape family */

static gboolean
run_copy (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
          GError **error)
{
  size_t b = ova_tensor_ref_bytes (&out[0]);
  if (b && out[0].data != in[0].data)
    memmove (out[0].data, in[0].data, b);
  return TRUE;
}

static gboolean
infer_reshape (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
               int n_out, GError **error)
{
  int64_t shape[OVA_MAX_DIMS * 2];
  int n;
  if (node->opset < 5) {
    const int64_t *v;
    n = ova_op_attr_ints (node, "shape", &v);
    if (!ova_op_attr (node, "shape"))
      return OPS_SHAPE (node, "missing attribute 'shape'");
    ops_copy_i64 (shape, v, MIN (n, OVA_MAX_DIMS));
  } else {
    if (!ops_check_inputs (node, n_in, 2, 2, error))
      return FALSE;
    if (in[1].rank != 1)
      return OPS_SHAPE (node, "shape must be 1-D");
    n = ops_read_ints (&in[1], shape, OVA_MAX_DIMS * 2);
    OPS_READ_CHECK (node, n, "shape");
    if (n < 0) { /* shape not known yet: only the rank is */
      if (in[1].dims[0] < 0 || in[1].dims[0] > OVA_MAX_DIMS)
        return OPS_UNSUP (node, "shape of unknown length");
      int64_t d[OVA_MAX_DIMS];
      for (int i = 0; i < in[1].dims[0]; i++)
        d[i] = -1;
      ops_set_shape (&out[0], in[0].dtype, (int) in[1].dims[0], d);
      return check_type (node, in[0].dtype, error);
    }
  }
  if (n > OVA_MAX_DIMS)
    return OPS_UNSUP (node, "rank %d above %d", n, OVA_MAX_DIMS);
  gboolean allowzero = ova_op_attr_int (node, "allowzero", 0) != 0;
  int64_t dims[OVA_MAX_DIMS], known = 1;
  int infer_at = -1;
  gboolean unknown = FALSE;
  for (int i = 0; i < n; i++) {
    dims[i] = shape[i];
    if (shape[i] == 0 && !allowzero) {
      if (i >= in[0].rank)
        return OPS_SHAPE (node, "shape[%d] = 0 copies a dimension the input lacks", i);
      dims[i] = in[0].dims[i];
    } else if (shape[i] == -1) {
      if (infer_at >= 0)
        return OPS_SHAPE (node, "more than one -1 in shape");
      infer_at = i;
      continue;
    } else if (shape[i] < -1) {
      return OPS_SHAPE (node, "invalid shape value %" G_GINT64_FORMAT, shape[i]);
    }
    if (dims[i] < 0)
      unknown = TRUE;
    else
      known *= dims[i];
  }
  int64_t total = ops_numel_dims (in[0].rank, in[0].dims);
  if (infer_at >= 0) {
    if (total < 0 || unknown)
      dims[infer_at] = -1;
    else if (known == 0 || total % known)
      return OPS_SHAPE (node, "cannot reshape %" G_GINT64_FORMAT " elements", total);
    else
      dims[infer_at] = total / known;
  } else if (total >= 0 && !unknown && total != known) {
    return OPS_SHAPE (node, "cannot reshape %" G_GINT64_FORMAT " elements into %" G_GINT64_FORMAT,
                      total, known);
  }
  ops_set_shape (&out[0], in[0].dtype, n, dims);
  return check_type (node, in[0].dtype, error);
}

static const OvaOpDef def_Reshape = { "Reshape", 5, infer_reshape, run_copy };

static gboolean
infer_flatten (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
               int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 1, 1, error))
    return FALSE;
  int64_t axis = ova_op_attr_int (node, "axis", 1);
  int r = in[0].rank;
  if (axis < -r || axis > r)
    return OPS_SHAPE (node, "axis %" G_GINT64_FORMAT " out of range", axis);
  if (axis < 0)
    axis += r;
  int64_t dims[2] = { ops_numel_dims ((int) axis, in[0].dims),
                      ops_numel_dims (r - (int) axis, in[0].dims + axis) };
  ops_set_shape (&out[0], in[0].dtype, 2, dims);
  return check_type (node, in[0].dtype, error);
}

static const OvaOpDef def_Flatten = { "Flatten", 1, infer_flatten, run_copy };

static gboolean
infer_squeeze (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
               int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 1, 2, error))
    return FALSE;
  int64_t axes[OVA_MAX_DIMS * 2];
  int n = read_axes (node, in, n_in, 1, axes), r = in[0].rank;
  OPS_READ_CHECK (node, n, "axes");
  if (n < 0) { /* axes not known yet: only the output rank is */
    if (in[1].rank != 1 || in[1].dims[0] < 0 || in[1].dims[0] > r)
      return OPS_UNSUP (node, "axes must be a constant");
    int64_t d[OVA_MAX_DIMS];
    for (int i = 0; i < r - in[1].dims[0]; i++)
      d[i] = -1;
    ops_set_shape (&out[0], in[0].dtype, r - (int) in[1].dims[0], d);
    return check_type (node, in[0].dtype, error);
  }
  gboolean drop[OVA_MAX_DIMS] = { 0 };
  for (int i = 0; i < n; i++) {
    int a;
    if (!ops_axis (node, axes[i], r, &a, error))
      return FALSE;
    if (in[0].dims[a] != 1 && in[0].dims[a] >= 0)
      return OPS_SHAPE (node, "cannot squeeze axis %d of size %" G_GINT64_FORMAT, a, in[0].dims[a]);
    drop[a] = TRUE;
  }
  if (n == 0)
    for (int i = 0; i < r; i++)
      drop[i] = in[0].dims[i] == 1;
  int64_t dims[OVA_MAX_DIMS];
  int m = 0;
  for (int i = 0; i < r; i++)
    if (!drop[i])
      dims[m++] = in[0].dims[i];
  ops_set_shape (&out[0], in[0].dtype, m, dims);
  return check_type (node, in[0].dtype, error);
}

static const OvaOpDef def_Squeeze = { "Squeeze", 1, infer_squeeze, run_copy };

static gboolean
infer_unsqueeze (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
                 int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 1, 2, error))
    return FALSE;
  int64_t axes[OVA_MAX_DIMS * 2];
  int n = read_axes (node, in, n_in, 1, axes);
  OPS_READ_CHECK (node, n, "axes");
  if (n < 0) {
    if (in[1].rank != 1 || in[1].dims[0] < 0 || in[0].rank + in[1].dims[0] > OVA_MAX_DIMS)
      return OPS_UNSUP (node, "axes must be a constant");
    int64_t d[OVA_MAX_DIMS];
    for (int i = 0; i < in[0].rank + in[1].dims[0]; i++)
      d[i] = -1;
    ops_set_shape (&out[0], in[0].dtype, in[0].rank + (int) in[1].dims[0], d);
    return check_type (node, in[0].dtype, error);
  }
  int r = in[0].rank + n;
  if (r > OVA_MAX_DIMS)
    return OPS_UNSUP (node, "rank %d above %d", r, OVA_MAX_DIMS);
  gboolean ins[OVA_MAX_DIMS] = { 0 };
  for (int i = 0; i < n; i++) {
    int a;
    if (!ops_axis (node, axes[i], r, &a, error))
      return FALSE;
    if (ins[a])
      return OPS_SHAPE (node, "axis %d repeated", a);
    ins[a] = TRUE;
  }
  int64_t dims[OVA_MAX_DIMS];
  for (int i = 0, j = 0; i < r; i++)
    dims[i] = ins[i] ? 1 : in[0].dims[j++];
  ops_set_shape (&out[0], in[0].dtype, r, dims);
  return check_type (node, in[0].dtype, error);
}

static const OvaOpDef def_Unsqueeze = { "Unsqueeze", 1, infer_unsqueeze, run_copy };

/* ------------------------------------------------------------ Transpose */

static gboolean
transpose_perm (const OvaOpNode *node, int rank, int *perm, GError **error)
{
  const int64_t *v;
  int n = ova_op_attr_ints (node, "perm", &v);
  if (n == 0) {
    for (int i = 0; i < rank; i++)
      perm[i] = rank - 1 - i;
    return TRUE;
  }
  if (n != rank)
    return OPS_SHAPE (node, "perm has %d values for rank %d", n, rank);
  gboolean seen[OVA_MAX_DIMS] = { 0 };
  for (int i = 0; i < n; i++) {
    if (v[i] < 0 || v[i] >= rank || seen[v[i]])
      return OPS_SHAPE (node, "perm is not a permutation");
    seen[v[i]] = TRUE;
    perm[i] = (int) v[i];
  }
  return TRUE;
}

static gboolean
infer_transpose (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
                 int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 1, 1, error))
    return FALSE;
  int perm[OVA_MAX_DIMS];
  if (!transpose_perm (node, in[0].rank, perm, error))
    return FALSE;
  int64_t dims[OVA_MAX_DIMS];
  for (int i = 0; i < in[0].rank; i++)
    dims[i] = in[0].dims[perm[i]];
  ops_set_shape (&out[0], in[0].dtype, in[0].rank, dims);
  return check_type (node, in[0].dtype, error);
}

static gboolean
run_transpose (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
               int n_out, GError **error)
{
  int perm[OVA_MAX_DIMS];
  if (!transpose_perm (node, in[0].rank, perm, error))
    return FALSE;
  transpose_nd (in[0].data, ops_dtype_size (in[0].dtype), in[0].rank, in[0].dims, perm, out[0].data);
  return TRUE;
}

static const OvaOpDef def_Transpose = { "Transpose", 1, infer_transpose, run_transpose };

/* ------------------------------------------------------------ Concat / Split */

static gboolean
infer_concat (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
              int n_out, GError **error)
{
  if (n_in < 1)
    return OPS_SHAPE (node, "needs at least one input");
  int axis, r = in[0].rank;
  if (!ops_axis (node, ova_op_attr_int (node, "axis", 0), r, &axis, error))
    return FALSE;
  int64_t dims[OVA_MAX_DIMS];
  memcpy (dims, in[0].dims, sizeof (int64_t) * r);
  dims[axis] = 0;
  for (int i = 0; i < n_in; i++) {
    if (in[i].rank != r || in[i].dtype != in[0].dtype)
      return OPS_SHAPE (node, "input %d has a different rank or type", i);
    for (int d = 0; d < r; d++) {
      if (d == axis)
        continue;
      if (dims[d] < 0)
        dims[d] = in[i].dims[d];
      else if (in[i].dims[d] >= 0 && in[i].dims[d] != dims[d])
        return OPS_SHAPE (node, "input %d differs along axis %d: %" G_GINT64_FORMAT " vs %" G_GINT64_FORMAT,
                          i, d, in[i].dims[d], dims[d]);
    }
    if (dims[axis] >= 0)
      dims[axis] = in[i].dims[axis] < 0 ? -1 : dims[axis] + in[i].dims[axis];
  }
  ops_set_shape (&out[0], in[0].dtype, r, dims);
  return check_type (node, in[0].dtype, error);
}

static gboolean
run_concat (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
            int n_out, GError **error)
{
  int axis;
  if (!ops_axis (node, ova_op_attr_int (node, "axis", 0), out[0].rank, &axis, error))
    return FALSE;
  size_t es = ops_dtype_size (out[0].dtype);
  int64_t outer = ops_numel_dims (axis, out[0].dims);
  int64_t row = ops_numel_dims (out[0].rank - axis, out[0].dims + axis) * es;
  int64_t off = 0;
  for (int i = 0; i < n_in; i++) {
    int64_t chunk = ops_numel_dims (in[i].rank - axis, in[i].dims + axis) * es;
    if (chunk == 0)
      continue;
    for (int64_t o = 0; o < outer; o++)
      memcpy ((uint8_t *) out[0].data + o * row + off, (const uint8_t *) in[i].data + o * chunk, chunk);
    off += chunk;
  }
  return TRUE;
}

static const OvaOpDef def_Concat = { "Concat", 4, infer_concat, run_concat };

static gboolean
split_sizes (const OvaOpNode *node, const OvaTensorRef *in, int n_in, int n_out, int *axis,
             int64_t *sizes, GError **error)
{
  if (!ops_axis (node, ova_op_attr_int (node, "axis", 0), in[0].rank, axis, error))
    return FALSE;
  int64_t dim = in[0].dims[*axis];
  const int64_t *v;
  int n = ova_op_attr_ints (node, "split", &v);
  if (n > 0) {
    if (n != n_out)
      return OPS_SHAPE (node, "split has %d values for %d outputs", n, n_out);
    ops_copy_i64 (sizes, v, n);
  } else if (ops_has (in, n_in, 1)) {
    n = ops_read_ints (&in[1], sizes, n_out);
    OPS_READ_CHECK (node, n, "split");
    if (n < 0) { /* sizes known at run time */
      for (int i = 0; i < n_out; i++)
        sizes[i] = -1;
      return TRUE;
    }
    if (n != n_out)
      return OPS_SHAPE (node, "split has %d values for %d outputs", n, n_out);
  } else {
    int64_t parts = ova_op_attr_int (node, "num_outputs", n_out);
    if (parts != n_out)
      return OPS_SHAPE (node, "num_outputs %" G_GINT64_FORMAT " but %d outputs", parts, n_out);
    for (int i = 0; i < n_out; i++) {
      if (dim < 0) {
        sizes[i] = -1;
        continue;
      }
      int64_t each = (dim + n_out - 1) / n_out;
      if (node->opset < 18 && dim % n_out)
        return OPS_SHAPE (node, "dimension %" G_GINT64_FORMAT " does not split into %d parts", dim, n_out);
      sizes[i] = MAX (0, MIN (each, dim - i * each));
    }
    return TRUE;
  }
  int64_t sum = 0;
  for (int i = 0; i < n_out; i++) {
    if (sizes[i] < 0)
      return OPS_SHAPE (node, "negative split size");
    sum += sizes[i];
  }
  if (dim >= 0 && sum != dim)
    return OPS_SHAPE (node, "split sizes add to %" G_GINT64_FORMAT ", dimension is %" G_GINT64_FORMAT, sum, dim);
  return TRUE;
}

static gboolean
infer_split (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
             int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 1, 2, error) || !check_type (node, in[0].dtype, error))
    return FALSE;
  int axis;
  int64_t *sizes = g_new (int64_t, MAX (1, n_out));
  gboolean ok = split_sizes (node, in, n_in, n_out, &axis, sizes, error);
  for (int i = 0; ok && i < n_out; i++) {
    ops_copy_shape (&out[i], &in[0]);
    out[i].dims[axis] = sizes[i];
  }
  g_free (sizes);
  return ok;
}

static gboolean
run_split (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
           GError **error)
{
  int axis = 0;
  if (!ops_axis (node, ova_op_attr_int (node, "axis", 0), in[0].rank, &axis, error))
    return FALSE;
  size_t es = ops_dtype_size (in[0].dtype);
  int64_t outer = ops_numel_dims (axis, in[0].dims);
  int64_t row = ops_numel_dims (in[0].rank - axis, in[0].dims + axis) * es;
  int64_t off = 0;
  for (int i = 0; i < n_out; i++) {
    int64_t chunk = ops_numel_dims (out[i].rank - axis, out[i].dims + axis) * es;
    if (out[i].data && chunk)
      for (int64_t o = 0; o < outer; o++)
        memcpy ((uint8_t *) out[i].data + o * chunk, (const uint8_t *) in[0].data + o * row + off, chunk);
    off += chunk;
  }
  return TRUE;
}

static const OvaOpDef def_Split = { "Split", 2, infer_split, run_split };

/* ------------------------------------------------------------ Slice */

typedef struct {
  int64_t start[OVA_MAX_DIMS], step[OVA_MAX_DIMS], len[OVA_MAX_DIMS];
} SliceSpec;

/* Returns 1 when computed, 0 when the inputs are not constants, FALSE-ish -1 on error. */
static int
slice_spec (const OvaOpNode *node, const OvaTensorRef *in, int n_in, SliceSpec *sp, GError **error)
{
  int64_t starts[2 * OVA_MAX_DIMS], ends[2 * OVA_MAX_DIMS], axes[2 * OVA_MAX_DIMS];
  int64_t steps[2 * OVA_MAX_DIMS];
  int ns, ne, na = -3, nst = -3, r = in[0].rank; /* -3: not given */
  if (node->opset < 10) {
    const int64_t *v;
    ns = ova_op_attr_ints (node, "starts", &v);
    if (ns > r)
      return OPS_SHAPE (node, "more starts than dimensions") - 1;
    ops_copy_i64 (starts, v, ns);
    ne = ova_op_attr_ints (node, "ends", &v);
    if (ne > r)
      return OPS_SHAPE (node, "more ends than dimensions") - 1;
    ops_copy_i64 (ends, v, ne);
    int n = ova_op_attr_ints (node, "axes", &v);
    if (n > r)
      return OPS_SHAPE (node, "more axes than dimensions") - 1;
    if (n) {
      na = n;
      ops_copy_i64 (axes, v, n);
    }
  } else {
    if (!ops_check_inputs (node, n_in, 3, 5, error))
      return -1;
    ns = ops_read_ints (&in[1], starts, 2 * OVA_MAX_DIMS);
    ne = ops_read_ints (&in[2], ends, 2 * OVA_MAX_DIMS);
    if (ops_has (in, n_in, 3))
      na = ops_read_ints (&in[3], axes, 2 * OVA_MAX_DIMS);
    if (ops_has (in, n_in, 4))
      nst = ops_read_ints (&in[4], steps, 2 * OVA_MAX_DIMS);
    if (ns == -2 || ne == -2 || na == -2 || nst == -2)
      return OPS_SHAPE (node, "starts, ends, axes or steps has too many values") - 1;
    if (ns < 0 || ne < 0 || na == -1 || nst == -1)
      return 0;
  }
  if (ns != ne || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
    return OPS_SHAPE (node, "starts, ends, axes and steps differ in length") - 1;
  for (int i = 0; i < r; i++) {
    sp->start[i] = 0;
    sp->step[i] = 1;
    sp->len[i] = in[0].dims[i];
  }
  gboolean seen[OVA_MAX_DIMS] = { 0 };
  for (int i = 0; i < ns; i++) {
    int a;
    if (!ops_axis (node, na >= 0 ? axes[i] : i, r, &a, error))
      return -1;
    if (seen[a])
      return OPS_SHAPE (node, "axis %d repeated", a) - 1;
    seen[a] = TRUE;
    int64_t st = nst >= 0 ? steps[i] : 1, dim = in[0].dims[a];
    if (st == 0)
      return OPS_SHAPE (node, "step 0") - 1;
    sp->step[a] = st;
    if (dim < 0) {
      sp->len[a] = -1;
      continue;
    }
    int64_t s = starts[i], e = ends[i];
    if (s < 0)
      s = s < -dim ? -1 : s + dim;
    if (e < 0)
      e = e < -dim ? -1 : e + dim;
    if (st > 0) {
      s = CLAMP (s, 0, dim);
      e = CLAMP (e, 0, dim);
      sp->len[a] = e > s ? (e - s + st - 1) / st : 0;
    } else {
      s = CLAMP (s, 0, dim - 1); /* negative steps: starts in [0, dim - 1] */
      e = CLAMP (e, -1, dim - 1);
      sp->len[a] = s > e ? (s - e + (-st) - 1) / (-st) : 0;
    }
    sp->start[a] = s;
  }
  return 1;
}

static gboolean
infer_slice (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
             int n_out, GError **error)
{
  if (!check_type (node, in[0].dtype, error))
    return FALSE;
  SliceSpec sp;
  int k = slice_spec (node, in, n_in, &sp, error);
  if (k < 0)
    return FALSE;
  ops_copy_shape (&out[0], &in[0]);
  for (int i = 0; i < in[0].rank; i++)
    out[0].dims[i] = k ? sp.len[i] : -1;
  return TRUE;
}

static gboolean
run_slice (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
           GError **error)
{
  SliceSpec sp;
  if (slice_spec (node, in, n_in, &sp, error) <= 0)
    return error && *error ? FALSE : OPS_SHAPE (node, "slice parameters missing");
  int r = in[0].rank;
  int64_t total = ova_tensor_ref_numel (&out[0]);
  if (total == 0)
    return TRUE;
  size_t es = ops_dtype_size (in[0].dtype);
  if (r == 0) {
    memcpy (out[0].data, in[0].data, es);
    return TRUE;
  }
  int64_t ist[OVA_MAX_DIMS], s = 1, idx[OVA_MAX_DIMS] = { 0 };
  for (int i = r - 1; i >= 0; i--) {
    ist[i] = s;
    s *= in[0].dims[i];
  }
  int64_t base = 0;
  for (int i = 0; i < r; i++)
    base += sp.start[i] * ist[i];
  int64_t n = sp.len[r - 1], sn = sp.step[r - 1] * ist[r - 1], rows = total / n, off = base;
  const uint8_t *src = in[0].data;
  uint8_t *dst = out[0].data;
  for (int64_t row = 0; row < rows; row++) {
    if (sn == 1)
      memcpy (dst + row * n * es, src + off * es, n * es);
    else if (es == 4)
      for (int64_t i = 0; i < n; i++)
        ((uint32_t *) dst)[row * n + i] = ((const uint32_t *) src)[off + i * sn];
    else
      for (int64_t i = 0; i < n; i++)
        memcpy (dst + (row * n + i) * es, src + (off + i * sn) * es, es);
    for (int i = r - 2; i >= 0; i--) {
      idx[i]++;
      off += sp.step[i] * ist[i];
      if (idx[i] < sp.len[i])
        break;
      off -= sp.step[i] * ist[i] * sp.len[i];
      idx[i] = 0;
    }
  }
  return TRUE;
}

static const OvaOpDef def_Slice = { "Slice", 1, infer_slice, run_slice };

/* ------------------------------------------------------------ Gather */

static gboolean
infer_gather (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
              int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 2, 2, error) || !check_type (node, in[0].dtype, error))
    return FALSE;
  if (in[1].dtype != OVA_DTYPE_INT64 && in[1].dtype != OVA_DTYPE_INT32)
    return OPS_UNSUP (node, "indices must be int32 or int64");
  int axis;
  if (!ops_axis (node, ova_op_attr_int (node, "axis", 0), in[0].rank, &axis, error))
    return FALSE;
  int r = in[0].rank - 1 + in[1].rank;
  if (r > OVA_MAX_DIMS)
    return OPS_UNSUP (node, "rank %d above %d", r, OVA_MAX_DIMS);
  int64_t dims[OVA_MAX_DIMS];
  int m = 0;
  for (int i = 0; i < axis; i++)
    dims[m++] = in[0].dims[i];
  for (int i = 0; i < in[1].rank; i++)
    dims[m++] = in[1].dims[i];
  for (int i = axis + 1; i < in[0].rank; i++)
    dims[m++] = in[0].dims[i];
  ops_set_shape (&out[0], in[0].dtype, r, dims);
  return TRUE;
}

static gboolean
run_gather (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
            int n_out, GError **error)
{
  int axis;
  if (!ops_axis (node, ova_op_attr_int (node, "axis", 0), in[0].rank, &axis, error))
    return FALSE;
  size_t es = ops_dtype_size (in[0].dtype);
  int64_t outer = ops_numel_dims (axis, in[0].dims), dim = in[0].dims[axis];
  int64_t inner = ops_numel_dims (in[0].rank - axis - 1, in[0].dims + axis + 1) * es;
  int64_t ni = ova_tensor_ref_numel (&in[1]);
  for (int64_t j = 0; j < ni; j++) {
    int64_t k = ops_get_i64 (in[1].data, in[1].dtype, j);
    if (k < -dim || k >= dim)
      return OPS_SHAPE (node, "index %" G_GINT64_FORMAT " out of range [-%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ")",
                        k, dim, dim);
  }
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < ni; j++) {
      int64_t k = ops_get_i64 (in[1].data, in[1].dtype, j);
      if (k < 0)
        k += dim;
      memcpy ((uint8_t *) out[0].data + (o * ni + j) * inner,
              (const uint8_t *) in[0].data + (o * dim + k) * inner, inner);
    }
  return TRUE;
}

static const OvaOpDef def_Gather = { "Gather", 1, infer_gather, run_gather };

static gboolean
infer_gather_el (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
                 int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 2, 2, error) || !check_type (node, in[0].dtype, error))
    return FALSE;
  if (in[1].dtype != OVA_DTYPE_INT64 && in[1].dtype != OVA_DTYPE_INT32)
    return OPS_UNSUP (node, "indices must be int32 or int64");
  if (in[0].rank != in[1].rank)
    return OPS_SHAPE (node, "data and indices ranks differ");
  int axis;
  if (!ops_axis (node, ova_op_attr_int (node, "axis", 0), in[0].rank, &axis, error))
    return FALSE;
  for (int i = 0; i < in[0].rank; i++)
    if (i != axis && in[1].dims[i] >= 0 && in[0].dims[i] >= 0 && in[1].dims[i] > in[0].dims[i])
      return OPS_SHAPE (node, "indices exceed the data along axis %d", i);
  ops_set_shape (&out[0], in[0].dtype, in[1].rank, in[1].dims);
  return TRUE;
}

static gboolean
run_gather_el (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
               int n_out, GError **error)
{
  int axis, r = in[0].rank;
  if (!ops_axis (node, ova_op_attr_int (node, "axis", 0), r, &axis, error))
    return FALSE;
  size_t es = ops_dtype_size (in[0].dtype);
  int64_t dst[OVA_MAX_DIMS], s = 1, idx[OVA_MAX_DIMS] = { 0 };
  for (int i = r - 1; i >= 0; i--) {
    dst[i] = s;
    s *= in[0].dims[i];
  }
  int64_t n = ova_tensor_ref_numel (&in[1]), dim = in[0].dims[axis];
  for (int64_t e = 0; e < n; e++) {
    int64_t k = ops_get_i64 (in[1].data, in[1].dtype, e);
    if (k < -dim || k >= dim)
      return OPS_SHAPE (node, "index %" G_GINT64_FORMAT " out of range", k);
    if (k < 0)
      k += dim;
    int64_t off = 0;
    for (int i = 0; i < r; i++)
      off += (i == axis ? k : idx[i]) * dst[i];
    memcpy ((uint8_t *) out[0].data + e * es, (const uint8_t *) in[0].data + off * es, es);
    for (int i = r - 1; i >= 0; i--) {
      if (++idx[i] < in[1].dims[i])
        break;
      idx[i] = 0;
    }
  }
  return TRUE;
}

static const OvaOpDef def_GatherElements = { "GatherElements", 11, infer_gather_el, run_gather_el };

/* ------------------------------------------------------------ Shape / Size */

static void
shape_range (const OvaOpNode *node, int r, int64_t *start, int64_t *end)
{
  int64_t s = ova_op_attr_int (node, "start", 0), e = ova_op_attr_int (node, "end", r);
  if (s < 0)
    s += r;
  if (e < 0)
    e += r;
  *start = CLAMP (s, 0, r);
  *end = CLAMP (e, 0, r);
}

static gboolean
infer_shape_op (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
                int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 1, 1, error))
    return FALSE;
  int64_t s, e;
  shape_range (node, in[0].rank, &s, &e);
  int64_t d = MAX (0, e - s);
  ops_set_shape (&out[0], OVA_DTYPE_INT64, 1, &d);
  return TRUE;
}

static gboolean
run_shape_op (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
              int n_out, GError **error)
{
  int64_t s, e;
  shape_range (node, in[0].rank, &s, &e);
  for (int64_t i = s; i < e; i++)
    ((int64_t *) out[0].data)[i - s] = in[0].dims[i];
  return TRUE;
}

static const OvaOpDef def_Shape = { "Shape", 1, infer_shape_op, run_shape_op };

static gboolean
infer_size (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
            int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 1, 1, error))
    return FALSE;
  ops_set_shape (&out[0], OVA_DTYPE_INT64, 0, NULL);
  return TRUE;
}

static gboolean
run_size (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
          GError **error)
{
  *(int64_t *) out[0].data = ova_tensor_ref_numel (&in[0]);
  return TRUE;
}

static const OvaOpDef def_Size = { "Size", 1, infer_size, run_size };

/* ------------------------------------------------------------ Constant */

static gboolean
infer_constant (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
                int n_out, GError **error)
{
  const OvaAttr *a;
  int64_t n;
  if ((a = ova_op_attr (node, "value")) && a->type == OVA_ATTR_TENSOR && a->t) {
    ops_copy_shape (&out[0], a->t);
    return check_type (node, a->t->dtype, error);
  } else if ((a = ova_op_attr (node, "value_float")) && a->type == OVA_ATTR_FLOAT) {
    ops_set_shape (&out[0], OVA_DTYPE_FLOAT32, 0, NULL);
  } else if ((a = ova_op_attr (node, "value_int")) && a->type == OVA_ATTR_INT) {
    ops_set_shape (&out[0], OVA_DTYPE_INT64, 0, NULL);
  } else if ((a = ova_op_attr (node, "value_floats")) && a->type == OVA_ATTR_FLOATS) {
    n = a->n;
    ops_set_shape (&out[0], OVA_DTYPE_FLOAT32, 1, &n);
  } else if ((a = ova_op_attr (node, "value_ints")) && a->type == OVA_ATTR_INTS) {
    n = a->n;
    ops_set_shape (&out[0], OVA_DTYPE_INT64, 1, &n);
  } else {
    return OPS_UNSUP (node, "only tensor, float(s) and int(s) values are supported");
  }
  return TRUE;
}

static gboolean
run_constant (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
              int n_out, GError **error)
{
  const OvaAttr *a;
  if ((a = ova_op_attr (node, "value")) && a->type == OVA_ATTR_TENSOR && a->t) {
    size_t b = ova_tensor_ref_bytes (a->t);
    if (b)
      memcpy (out[0].data, a->t->data, b);
  } else if ((a = ova_op_attr (node, "value_float"))) {
    *(float *) out[0].data = a->f;
  } else if ((a = ova_op_attr (node, "value_int"))) {
    *(int64_t *) out[0].data = a->i;
  } else if ((a = ova_op_attr (node, "value_floats"))) {
    if (a->n > 0)
      memcpy (out[0].data, a->floats, sizeof (float) * a->n);
  } else if ((a = ova_op_attr (node, "value_ints"))) {
    if (a->n > 0)
      memcpy (out[0].data, a->ints, sizeof (int64_t) * a->n);
  }
  return TRUE;
}

static const OvaOpDef def_Constant = { "Constant", 1, infer_constant, run_constant };

static gboolean
infer_cos (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
           GError **error)
{
  if (!ops_check_inputs (node, n_in, 1, 1, error))
    return FALSE;
  const OvaAttr *a = ova_op_attr (node, "value");
  OvaDataType dt = a && a->t ? a->t->dtype : OVA_DTYPE_FLOAT32;
  if (!check_type (node, dt, error))
    return FALSE;
  if (a && (!a->t || ova_tensor_ref_numel (a->t) != 1 || !a->t->data))
    return OPS_SHAPE (node, "value must be a tensor of one element");
  if (in[0].rank != 1)
    return OPS_SHAPE (node, "shape must be 1-D");
  int64_t dims[OVA_MAX_DIMS];
  int n = ops_read_ints (&in[0], dims, OVA_MAX_DIMS);
  OPS_READ_CHECK (node, n, "shape");
  if (n < 0) {
    if (in[0].dims[0] < 0 || in[0].dims[0] > OVA_MAX_DIMS)
      return OPS_UNSUP (node, "shape of unknown length");
    n = (int) in[0].dims[0];
    for (int i = 0; i < n; i++)
      dims[i] = -1;
  }
  for (int i = 0; i < n; i++)
    if (dims[i] < -1 || (in[0].data && dims[i] < 0))
      return OPS_SHAPE (node, "negative dimension");
  ops_set_shape (&out[0], dt, n, dims);
  return ops_check_size (node, &out[0], error);
}

static gboolean
run_cos (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
         GError **error)
{
  const OvaAttr *a = ova_op_attr (node, "value");
  size_t es = ops_dtype_size (out[0].dtype);
  int64_t n = ova_tensor_ref_numel (&out[0]);
  uint8_t v[16] = { 0 };
  if (n <= 0 || es == 0 || es > sizeof v || !out[0].data)
    return TRUE;
  if (a && a->t && a->t->data && ova_tensor_ref_numel (a->t) >= 1)
    memcpy (v, a->t->data, es);
  for (int64_t i = 0; i < n; i++)
    memcpy ((uint8_t *) out[0].data + i * es, v, es);
  return TRUE;
}

static const OvaOpDef def_ConstantOfShape = { "ConstantOfShape", 9, infer_cos, run_cos };

/* ------------------------------------------------------------ Expand / Tile */

static gboolean
infer_expand (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
              int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 2, 2, error) || !check_type (node, in[0].dtype, error))
    return FALSE;
  if (in[1].rank != 1)
    return OPS_SHAPE (node, "shape must be 1-D");
  int64_t shape[OVA_MAX_DIMS];
  int n = ops_read_ints (&in[1], shape, OVA_MAX_DIMS);
  OPS_READ_CHECK (node, n, "shape");
  if (n < 0) {
    if (in[1].dims[0] < 0 || in[1].dims[0] > OVA_MAX_DIMS)
      return OPS_UNSUP (node, "shape of unknown length");
    int r = MAX ((int) in[1].dims[0], in[0].rank);
    int64_t d[OVA_MAX_DIMS];
    for (int i = 0; i < r; i++)
      d[i] = -1;
    ops_set_shape (&out[0], in[0].dtype, r, d);
    return TRUE;
  }
  for (int i = 0; i < n; i++)
    if (shape[i] < 0)
      return OPS_SHAPE (node, "negative dimension %" G_GINT64_FORMAT " in shape", shape[i]);
  int r;
  int64_t dims[OVA_MAX_DIMS];
  if (!ops_broadcast_dims (node, in[0].rank, in[0].dims, n, shape, &r, dims, error))
    return FALSE;
  ops_set_shape (&out[0], in[0].dtype, r, dims);
  return ops_check_size (node, &out[0], error);
}

static gboolean
run_expand (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
            int n_out, GError **error)
{
  ops_broadcast_copy (&in[0], &out[0]);
  return TRUE;
}

static const OvaOpDef def_Expand = { "Expand", 8, infer_expand, run_expand };

static gboolean
infer_tile (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
            int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 2, 2, error) || !check_type (node, in[0].dtype, error))
    return FALSE;
  int64_t rep[OVA_MAX_DIMS];
  int n = ops_read_ints (&in[1], rep, OVA_MAX_DIMS);
  OPS_READ_CHECK (node, n, "repeats");
  ops_copy_shape (&out[0], &in[0]);
  if (n < 0) {
    for (int i = 0; i < in[0].rank; i++)
      out[0].dims[i] = -1;
    return TRUE;
  }
  if (n != in[0].rank)
    return OPS_SHAPE (node, "repeats has %d values for rank %d", n, in[0].rank);
  for (int i = 0; i < n; i++) {
    if (rep[i] < 0 || (rep[i] > 0 && in[0].dims[i] > OPS_MAX_ELEMENTS / rep[i]))
      return OPS_SHAPE (node, "negative or too large repeat");
    out[0].dims[i] = in[0].dims[i] < 0 ? -1 : in[0].dims[i] * rep[i];
  }
  return ops_check_size (node, &out[0], error);
}

static gboolean
run_tile (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
          GError **error)
{
  int r = in[0].rank;
  size_t es = ops_dtype_size (in[0].dtype);
  int64_t total = ova_tensor_ref_numel (&out[0]);
  if (total == 0)
    return TRUE;
  if (r == 0) {
    memcpy (out[0].data, in[0].data, es);
    return TRUE;
  }
  int64_t ist[OVA_MAX_DIMS], s = 1, idx[OVA_MAX_DIMS] = { 0 };
  for (int i = r - 1; i >= 0; i--) {
    ist[i] = s;
    s *= in[0].dims[i];
  }
  int64_t w = in[0].dims[r - 1], n = out[0].dims[r - 1], rows = total / n;
  const uint8_t *src = in[0].data;
  uint8_t *dst = out[0].data;
  for (int64_t row = 0; row < rows; row++) {
    int64_t off = 0;
    for (int i = 0; i < r - 1; i++)
      off += (idx[i] % in[0].dims[i]) * ist[i];
    for (int64_t j = 0; j < n; j += w)
      memcpy (dst + (row * n + j) * es, src + off * es, w * es);
    for (int i = r - 2; i >= 0; i--) {
      if (++idx[i] < out[0].dims[i])
        break;
      idx[i] = 0;
    }
  }
  return TRUE;
}

static const OvaOpDef def_Tile = { "Tile", 6, infer_tile, run_tile };

/* ------------------------------------------------------------ Pad */

typedef enum { PAD_CONSTANT, PAD_REFLECT, PAD_EDGE, PAD_WRAP } PadMode;

static int
pad_spec (const OvaOpNode *node, const OvaTensorRef *in, int n_in, int64_t *pb, int64_t *pe,
          PadMode *mode, GError **error)
{
  int r = in[0].rank;
  const char *m = ova_op_attr_string (node, "mode", "constant");
  if (strcmp (m, "constant") == 0)
    *mode = PAD_CONSTANT;
  else if (strcmp (m, "reflect") == 0)
    *mode = PAD_REFLECT;
  else if (strcmp (m, "edge") == 0)
    *mode = PAD_EDGE;
  else if (strcmp (m, "wrap") == 0)
    *mode = PAD_WRAP;
  else
    return OPS_UNSUP (node, "mode '%s' not supported", m) - 1;
  int64_t pads[2 * OVA_MAX_DIMS], axes[OVA_MAX_DIMS];
  int np, na = -1;
  if (node->opset < 11) {
    const int64_t *v;
    np = ova_op_attr_ints (node, "pads", &v);
    if (np > 2 * OVA_MAX_DIMS)
      return OPS_SHAPE (node, "too many pads") - 1;
    ops_copy_i64 (pads, v, np);
  } else {
    if (!ops_check_inputs (node, n_in, 2, 4, error))
      return -1;
    np = ops_read_ints (&in[1], pads, 2 * OVA_MAX_DIMS);
    if (np == -2)
      return OPS_SHAPE (node, "pads has too many values") - 1;
    if (np < 0)
      return 0;
    if (ops_has (in, n_in, 3)) {
      na = ops_read_ints (&in[3], axes, OVA_MAX_DIMS);
      if (na == -2)
        return OPS_SHAPE (node, "axes has too many values") - 1;
      if (na < 0)
        return 0;
    }
  }
  for (int i = 0; i < r; i++)
    pb[i] = pe[i] = 0;
  int n = na >= 0 ? na : r;
  if (np != 2 * n)
    return OPS_SHAPE (node, "pads has %d values, expected %d", np, 2 * n) - 1;
  for (int i = 0; i < n; i++) {
    int a = i;
    if (na >= 0 && !ops_axis (node, axes[i], r, &a, error))
      return -1;
    pb[a] = pads[i];
    pe[a] = pads[i + n];
  }
  return 1;
}

static gboolean
infer_pad (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
           GError **error)
{
  if (!check_type (node, in[0].dtype, error))
    return FALSE;
  if (node->opset >= 11 && ops_has (in, n_in, 2) &&
      (in[2].dtype != in[0].dtype || ops_numel_dims (in[2].rank, in[2].dims) > 1))
    return OPS_SHAPE (node, "constant_value must be one value of the data's type");
  int64_t pb[OVA_MAX_DIMS], pe[OVA_MAX_DIMS];
  PadMode mode;
  int k = pad_spec (node, in, n_in, pb, pe, &mode, error);
  if (k < 0)
    return FALSE;
  ops_copy_shape (&out[0], &in[0]);
  for (int i = 0; i < in[0].rank; i++) {
    int64_t d = in[0].dims[i];
    out[0].dims[i] = (!k || d < 0) ? -1 : d + pb[i] + pe[i];
    if (k && d >= 0 && out[0].dims[i] < 0)
      return OPS_SHAPE (node, "negative output size along axis %d", i);
    if (k && d == 0 && (pb[i] > 0 || pe[i] > 0) && mode != PAD_CONSTANT)
      return OPS_SHAPE (node, "cannot pad an empty axis in this mode");
    if (k && (pb[i] > OPS_MAX_ELEMENTS || pe[i] > OPS_MAX_ELEMENTS || pb[i] < -OPS_MAX_ELEMENTS ||
              pe[i] < -OPS_MAX_ELEMENTS))
      return OPS_SHAPE (node, "pads out of range");
  }
  return ops_check_size (node, &out[0], error);
}

static int64_t
pad_src (int64_t o, int64_t n, PadMode mode)
{
  if (o >= 0 && o < n)
    return o;
  switch (mode) {
  case PAD_EDGE:
    return o < 0 ? 0 : n - 1;
  case PAD_WRAP:
    return ((o % n) + n) % n;
  case PAD_REFLECT:
    if (n == 1)
      return 0;
    {
      int64_t p = 2 * (n - 1);
      o = ((o % p) + p) % p;
      return o < n ? o : p - o;
    }
  default:
    return -1;
  }
}

static gboolean
run_pad (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
         GError **error)
{
  int64_t pb[OVA_MAX_DIMS], pe[OVA_MAX_DIMS];
  PadMode mode;
  if (pad_spec (node, in, n_in, pb, pe, &mode, error) <= 0)
    return error && *error ? FALSE : OPS_SHAPE (node, "pads missing");
  int r = in[0].rank;
  size_t es = ops_dtype_size (in[0].dtype);
  uint8_t value[16] = { 0 };
  if (node->opset < 11)
    ops_set_f64 (value, in[0].dtype, 0, ova_op_attr_float (node, "value", 0.0f));
  else if (ops_has (in, n_in, 2) && in[2].data && ova_tensor_ref_numel (&in[2]) > 0)
    memcpy (value, in[2].data, es);
  int64_t total = ova_tensor_ref_numel (&out[0]);
  if (total == 0)
    return TRUE;
  if (r == 0) {
    memcpy (out[0].data, in[0].data, es);
    return TRUE;
  }
  int64_t ist[OVA_MAX_DIMS], s = 1, idx[OVA_MAX_DIMS] = { 0 };
  for (int i = r - 1; i >= 0; i--) {
    ist[i] = s;
    s *= in[0].dims[i];
  }
  int64_t n = out[0].dims[r - 1], w = in[0].dims[r - 1], rows = total / n;
  const uint8_t *src = in[0].data;
  uint8_t *dst = out[0].data;
  for (int64_t row = 0; row < rows; row++) {
    int64_t off = 0;
    gboolean outside = FALSE;
    for (int i = 0; i < r - 1; i++) {
      int64_t si = pad_src (idx[i] - pb[i], in[0].dims[i], mode);
      if (si < 0)
        outside = TRUE;
      off += si * ist[i];
    }
    uint8_t *d = dst + row * n * es;
    for (int64_t j = 0; j < n; j++) {
      int64_t sj = outside ? -1 : pad_src (j - pb[r - 1], w, mode);
      memcpy (d + j * es, sj < 0 ? value : src + (off + sj) * es, es);
    }
    for (int i = r - 2; i >= 0; i--) {
      if (++idx[i] < out[0].dims[i])
        break;
      idx[i] = 0;
    }
  }
  return TRUE;
}

static const OvaOpDef def_Pad = { "Pad", 2, infer_pad, run_pad };

/* ------------------------------------------------------------ DepthToSpace / SpaceToDepth */

static gboolean
infer_d2s (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
           GError **error)
{
  if (!ops_check_inputs (node, n_in, 1, 1, error) || !check_type (node, in[0].dtype, error))
    return FALSE;
  if (in[0].rank != 4)
    return OPS_SHAPE (node, "input must be 4-D");
  int64_t b = ova_op_attr_int (node, "blocksize", 0);
  if (b < 1)
    return OPS_SHAPE (node, "blocksize must be positive");
  gboolean d2s = strcmp (node->op_type, "DepthToSpace") == 0;
  const char *mode = ova_op_attr_string (node, "mode", "DCR");
  if (d2s && strcmp (mode, "DCR") && strcmp (mode, "CRD"))
    return OPS_UNSUP (node, "mode '%s' not supported", mode);
  const int64_t *d = in[0].dims;
  int64_t dims[4] = { d[0], d[1], d[2], d[3] };
  if (d2s) {
    if (d[1] >= 0 && d[1] % (b * b))
      return OPS_SHAPE (node, "channels not divisible by blocksize^2");
    dims[1] = d[1] < 0 ? -1 : d[1] / (b * b);
    dims[2] = d[2] < 0 ? -1 : d[2] * b;
    dims[3] = d[3] < 0 ? -1 : d[3] * b;
  } else {
    if ((d[2] >= 0 && d[2] % b) || (d[3] >= 0 && d[3] % b))
      return OPS_SHAPE (node, "spatial size not divisible by blocksize");
    dims[1] = d[1] < 0 ? -1 : d[1] * b * b;
    dims[2] = d[2] < 0 ? -1 : d[2] / b;
    dims[3] = d[3] < 0 ? -1 : d[3] / b;
  }
  ops_set_shape (&out[0], in[0].dtype, 4, dims);
  return TRUE;
}

static gboolean
run_d2s (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
         GError **error)
{
  int64_t b = ova_op_attr_int (node, "blocksize", 0);
  const int64_t *d = in[0].dims;
  int64_t N = d[0], C = d[1], H = d[2], W = d[3];
  int64_t dims[6];
  int perm[6];
  if (strcmp (node->op_type, "DepthToSpace") == 0) {
    if (strcmp (ova_op_attr_string (node, "mode", "DCR"), "DCR") == 0) {
      int64_t dd[6] = { N, b, b, C / (b * b), H, W };
      int pp[6] = { 0, 3, 4, 1, 5, 2 };
      memcpy (dims, dd, sizeof dd);
      memcpy (perm, pp, sizeof pp);
    } else {
      int64_t dd[6] = { N, C / (b * b), b, b, H, W };
      int pp[6] = { 0, 1, 4, 2, 5, 3 };
      memcpy (dims, dd, sizeof dd);
      memcpy (perm, pp, sizeof pp);
    }
  } else {
    int64_t dd[6] = { N, C, H / b, b, W / b, b };
    int pp[6] = { 0, 3, 5, 1, 2, 4 };
    memcpy (dims, dd, sizeof dd);
    memcpy (perm, pp, sizeof pp);
  }
  transpose_nd (in[0].data, ops_dtype_size (in[0].dtype), 6, dims, perm, out[0].data);
  return TRUE;
}

static const OvaOpDef def_DepthToSpace = { "DepthToSpace", 1, infer_d2s, run_d2s };
static const OvaOpDef def_SpaceToDepth = { "SpaceToDepth", 1, infer_d2s, run_d2s };

/* ------------------------------------------------------------ Range */

static gboolean
infer_range (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
             int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 3, 3, error) || !ops_check_scalar (node, in, n_in, 0, "start", error) ||
      !ops_check_scalar (node, in, n_in, 1, "limit", error) || !ops_check_scalar (node, in, n_in, 2, "delta", error))
    return FALSE;
  OvaDataType dt = in[0].dtype;
  if (!(ops_dtype_is_float (dt) || ops_dtype_is_int (dt)) || in[1].dtype != dt || in[2].dtype != dt)
    return OPS_UNSUP (node, "start, limit and delta must share a numeric type");
  int64_t n = -1;
  if (in[0].data && in[1].data && in[2].data) {
    if (ops_dtype_is_float (dt)) {
      double s = ops_get_f64 (in[0].data, dt, 0), l = ops_get_f64 (in[1].data, dt, 0);
      double d = ops_get_f64 (in[2].data, dt, 0);
      if (d == 0)
        return OPS_SHAPE (node, "delta is 0");
      double c = ceil ((l - s) / d);
      if (!(c < (double) OPS_MAX_ELEMENTS)) /* also NaN */
        return OPS_SHAPE (node, "more than %" G_GINT64_FORMAT " elements", OPS_MAX_ELEMENTS);
      n = (int64_t) MAX (0.0, c);
    } else {
      int64_t s = ops_get_i64 (in[0].data, dt, 0), l = ops_get_i64 (in[1].data, dt, 0);
      int64_t d = ops_get_i64 (in[2].data, dt, 0);
      if (d == 0)
        return OPS_SHAPE (node, "delta is 0");
      double span_d = (double) l - (double) s; /* no int64 overflow */
      if (fabs (span_d / (double) d) >= (double) OPS_MAX_ELEMENTS)
        return OPS_SHAPE (node, "more than %" G_GINT64_FORMAT " elements", OPS_MAX_ELEMENTS);
      int64_t span;
      if (__builtin_sub_overflow (l, s, &span))
        return OPS_SHAPE (node, "limit - start overflows");
      n = d > 0 ? (span > 0 ? (span + d - 1) / d : 0) : (span < 0 ? (-span + (-d) - 1) / (-d) : 0);
    }
  }
  ops_set_shape (&out[0], dt, 1, &n);
  return TRUE;
}

static gboolean
run_range (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
           GError **error)
{
  OvaDataType dt = in[0].dtype;
  int64_t n = out[0].dims[0];
  if (ops_dtype_is_float (dt)) {
    double s = ops_get_f64 (in[0].data, dt, 0), d = ops_get_f64 (in[2].data, dt, 0);
    for (int64_t i = 0; i < n; i++)
      ops_set_f64 (out[0].data, dt, i, s + i * d);
  } else {
    int64_t s = ops_get_i64 (in[0].data, dt, 0), d = ops_get_i64 (in[2].data, dt, 0);
    for (int64_t i = 0; i < n; i++)
      ops_set_i64 (out[0].data, dt, i, s + i * d);
  }
  return TRUE;
}

static const OvaOpDef def_Range = { "Range", 11, infer_range, run_range };

/* ------------------------------------------------------------ Trilu */

static gboolean
infer_trilu (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out,
             int n_out, GError **error)
{
  if (!ops_check_inputs (node, n_in, 1, 2, error) || !check_type (node, in[0].dtype, error) ||
      !ops_check_scalar (node, in, n_in, 1, "k", error))
    return FALSE;
  if (in[0].rank < 2)
    return OPS_SHAPE (node, "input rank must be at least 2");
  ops_copy_shape (&out[0], &in[0]);
  return TRUE;
}

static gboolean
run_trilu (const OvaOpNode *node, const OvaTensorRef *in, int n_in, OvaTensorRef *out, int n_out,
           GError **error)
{
  gboolean upper = ova_op_attr_int (node, "upper", 1) != 0;
  int64_t k = ops_has (in, n_in, 1) ? ops_get_i64 (in[1].data, in[1].dtype, 0) : 0;
  int r = in[0].rank;
  int64_t R = in[0].dims[r - 2], Cn = in[0].dims[r - 1];
  int64_t B = ops_numel_dims (r - 2, in[0].dims);
  size_t es = ops_dtype_size (in[0].dtype);
  const uint8_t *s = in[0].data;
  uint8_t *d = out[0].data;
  for (int64_t b = 0; b < B; b++)
    for (int64_t i = 0; i < R; i++)
      for (int64_t j = 0; j < Cn; j++) {
        int64_t e = (b * R + i) * Cn + j;
        gboolean keep = upper ? j - i >= k : j - i <= k;
        if (keep)
          memcpy (d + e * es, s + e * es, es);
        else
          memset (d + e * es, 0, es);
      }
  return TRUE;
}

static const OvaOpDef def_Trilu = { "Trilu", 14, infer_trilu, run_trilu };

const OvaOpDef *const ova_ops_shape[] = {
  &def_Reshape, &def_Flatten, &def_Squeeze, &def_Unsqueeze, &def_Transpose, &def_Concat,
  &def_Split, &def_Slice, &def_Gather, &def_GatherElements, &def_Shape, &def_Size,
  &def_Constant, &def_ConstantOfShape, &def_Expand, &def_Tile, &def_Pad, &def_DepthToSpace,
  &def_SpaceToDepth, &def_Range, &def_Trilu, NULL,
};
