/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Plan files. A plan file holds the optimised, shape-specialised graph
 * (folded constants, BN-folded weights, fused epilogues, views) and the
 * backend's own blob, behind a key: SHA-256 of the model file, backend,
 * precision and the input shapes. Loading one skips shape inference, folding
 * and the passes; only the backend's kernels are created again.
 *
 * Layout (little-endian): "OVAPLAN\2", u32 header length, header (key, model
 * SHA-256, size and mtime, graph input/output infos), u32 body length, u32
 * CRC-32 of the body, padding to 64 bytes, body (the graph; constants 64-byte
 * aligned and used in place from the mapped file), then the backend's blob
 * the same way (u32 length, u32 CRC-32, padding, blob; length 0 if none). A torn or edited file is
 * recompiled, not trusted. The model is re-hashed only when its size or
 * modification time differ from those recorded.
 */
#include "plancache.h"
#include "ova-config.h"

#include "engine-private.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define MAGIC "OVAPLAN\3"
#define ALIGN 64

typedef struct {
  const guint8 *p, *end;
  gboolean bad;
  const guint8 *base; /* body start (alignment reference) */
  GBytes *bytes;      /* the body, for zero-copy constants */
} Reader;

static void put_u32 (GByteArray *b, guint32 v) { g_byte_array_append (b, (guint8 *) &v, 4); }
static void put_i64 (GByteArray *b, gint64 v) { g_byte_array_append (b, (guint8 *) &v, 8); }
static void put_f32 (GByteArray *b, float v) { g_byte_array_append (b, (guint8 *) &v, 4); }

static void
put_blob (GByteArray *b, const void *p, gsize n)
{
  put_u32 (b, n);
  if (n)
    g_byte_array_append (b, p, n);
}

static void
put_aligned_blob (GByteArray *b, const void *p, gsize n)
{
  static const guint8 zeros[ALIGN];
  put_u32 (b, n);
  if (b->len % ALIGN)
    g_byte_array_append (b, zeros, ALIGN - b->len % ALIGN);
  if (n)
    g_byte_array_append (b, p, n);
}

static void
put_str (GByteArray *b, const char *s)
{
  put_blob (b, s ? s : "", s ? strlen (s) : 0);
}

static const guint8 *
get (Reader *r, gsize n)
{
  if (r->bad || (gsize) (r->end - r->p) < n) {
    r->bad = TRUE;
    return NULL;
  }
  const guint8 *p = r->p;
  r->p += n;
  return p;
}

static guint32
get_u32 (Reader *r)
{
  guint32 v = 0;
  const guint8 *p = get (r, 4);
  if (p)
    memcpy (&v, p, 4);
  return v;
}

static gint64
get_i64 (Reader *r)
{
  gint64 v = 0;
  const guint8 *p = get (r, 8);
  if (p)
    memcpy (&v, p, 8);
  return v;
}

static float
get_f32 (Reader *r)
{
  float v = 0;
  const guint8 *p = get (r, 4);
  if (p)
    memcpy (&v, p, 4);
  return v;
}

static const guint8 *
get_blob (Reader *r, gsize *n)
{
  *n = get_u32 (r);
  return get (r, *n);
}

/* A constant's bytes, in place in the mapped plan file. */
static GBytes *
get_aligned_bytes (Reader *r)
{
  gsize n = get_u32 (r);
  gsize pos = r->p - r->base;
  if (pos % ALIGN && !get (r, ALIGN - pos % ALIGN))
    return NULL;
  pos = r->p - r->base;
  if (!get (r, n))
    return NULL;
  return g_bytes_new_from_bytes (r->bytes, pos, n);
}

static char *
get_str (Reader *r)
{
  gsize n;
  const guint8 *p = get_blob (r, &n);
  return p || n == 0 ? g_strndup ((const char *) p, n) : NULL;
}

static char *
make_key (OvaEngine *e)
{
  const OvaBackend *be = e->backend;
  return g_strdup_printf ("ova %s|backend %s|precision %d|max_batch %d", OVA_VERSION, be->name,
                          be->precision ? be->precision (e->opts.precision) : 0, MAX (e->opts.max_batch, 1));
}

static gboolean
model_stat (const char *path, gint64 *size, gint64 *mtime)
{
  struct stat st;
  if (stat (path, &st))
    return FALSE;
  *size = st.st_size;
  *mtime = (gint64) st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000;
  return TRUE;
}

static char *
model_sha256 (const char *path, GError **error)
{
  GMappedFile *mf = g_mapped_file_new (path, FALSE, error);
  if (!mf)
    return NULL;
  char *hash = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) g_mapped_file_get_contents (mf),
                                            g_mapped_file_get_length (mf));
  g_mapped_file_unref (mf);
  return hash;
}

static void
put_info (GByteArray *b, const OvaTensorInfo *t)
{
  put_str (b, t->name);
  put_u32 (b, t->dtype);
  put_u32 (b, (guint32) t->rank);
  for (int d = 0; d < MAX (t->rank, 0); d++)
    put_i64 (b, t->dims[d]);
}

static gboolean
get_info (Reader *r, OvaEngine *e, OvaTensorInfo *t)
{
  char *name = get_str (r);
  if (!name)
    return FALSE;
  g_ptr_array_add (e->names, name);
  t->name = name;
  t->dtype = get_u32 (r);
  t->rank = (gint32) get_u32 (r);
  if (t->rank < -1 || t->rank > OVA_MAX_DIMS)
    return FALSE;
  for (int d = 0; d < MAX (t->rank, 0); d++)
    t->dims[d] = get_i64 (r);
  return !r->bad;
}

static void
write_attr (GByteArray *b, const OvaAttr *a)
{
  put_str (b, a->name);
  put_u32 (b, a->type);
  switch (a->type) {
    case OVA_ATTR_FLOAT: put_f32 (b, a->f); break;
    case OVA_ATTR_INT: put_i64 (b, a->i); break;
    case OVA_ATTR_STRING: put_str (b, a->s); break;
    case OVA_ATTR_FLOATS: put_blob (b, a->floats, a->n * sizeof (float)); break;
    case OVA_ATTR_INTS: put_blob (b, a->ints, a->n * sizeof (int64_t)); break;
    case OVA_ATTR_STRINGS:
      put_u32 (b, a->n);
      for (int i = 0; i < a->n; i++)
        put_str (b, a->strings[i]);
      break;
    case OVA_ATTR_TENSOR: {
      put_u32 (b, a->t->dtype);
      put_u32 (b, a->t->rank);
      for (int i = 0; i < a->t->rank; i++)
        put_i64 (b, a->t->dims[i]);
      put_blob (b, a->t->data, ova_tensor_ref_bytes (a->t));
      break;
    }
    default: break;
  }
}

static gboolean
read_attr (Reader *r, OvaGraph *g, OvaAttr *a)
{
  a->name = get_str (r);
  g_ptr_array_add (g->owned, (void *) a->name);
  a->type = get_u32 (r);
  gsize n;
  const guint8 *p;
  switch (a->type) {
    case OVA_ATTR_FLOAT: a->f = get_f32 (r); break;
    case OVA_ATTR_INT: a->i = get_i64 (r); break;
    case OVA_ATTR_STRING:
      a->s = get_str (r);
      g_ptr_array_add (g->owned, (void *) a->s);
      break;
    case OVA_ATTR_FLOATS:
      p = get_blob (r, &n);
      a->n = n / sizeof (float);
      a->floats = ova_memdup_pad (p, n);
      g_ptr_array_add (g->owned, (void *) a->floats);
      break;
    case OVA_ATTR_INTS:
      p = get_blob (r, &n);
      a->n = n / sizeof (int64_t);
      a->ints = ova_memdup_pad (p, n);
      g_ptr_array_add (g->owned, (void *) a->ints);
      break;
    case OVA_ATTR_STRINGS: {
      a->n = get_u32 (r);
      if (r->bad || a->n > 1 << 20)
        return FALSE;
      char **s = g_new0 (char *, a->n + 1);
      g_ptr_array_add (g->owned, s);
      for (int i = 0; i < a->n; i++) {
        s[i] = get_str (r);
        g_ptr_array_add (g->owned, s[i]);
      }
      a->strings = (const char *const *) s;
      break;
    }
    case OVA_ATTR_TENSOR: {
      OvaTensorRef *t = g_new0 (OvaTensorRef, 1);
      g_ptr_array_add (g->owned, t);
      t->dtype = get_u32 (r);
      t->rank = get_u32 (r);
      if (t->rank < 0 || t->rank > OVA_MAX_DIMS)
        return FALSE;
      for (int i = 0; i < t->rank; i++)
        t->dims[i] = get_i64 (r);
      p = get_blob (r, &n);
      t->data = ova_memdup_pad (p, n);
      g_ptr_array_add (g->owned, t->data);
      a->t = t;
      break;
    }
    default: return FALSE;
  }
  return !r->bad;
}

GBytes *
ova_plan_cache_serialize (OvaPlan *plan)
{
  OvaGraph *g = plan->g;
  GByteArray *b = g_byte_array_new ();
  put_u32 (b, plan->batch);
  put_u32 (b, plan->n_folded);
  put_u32 (b, plan->n_fused);
  put_u32 (b, plan->n_removed);
  put_u32 (b, g->opset);
  put_u32 (b, g->values->len);
  for (guint i = 0; i < g->values->len; i++) {
    OvaValue *v = OVA_VALUE (g, i);
    put_str (b, v->name);
    put_u32 (b, v->dtype);
    put_u32 (b, (guint32) v->rank);
    for (int d = 0; d < MAX (v->rank, 0); d++)
      put_i64 (b, v->dims[d]);
    put_u32 (b, (guint32) v->producer);
    put_u32 (b, (v->is_input ? 1 : 0) | (v->is_output ? 2 : 0) | (v->data ? 4 : 0));
    put_u32 (b, (guint32) v->alias_of);
    put_i64 (b, v->alias_offset);
    if (v->data)
      put_aligned_blob (b, g_bytes_get_data (v->data, NULL), g_bytes_get_size (v->data));
  }
  put_u32 (b, plan->n_order);
  for (int i = 0; i < plan->n_order; i++) {
    OvaNode *n = OVA_NODE (g, plan->order[i]);
    put_str (b, n->op_type);
    put_str (b, n->name);
    put_str (b, n->domain);
    put_u32 (b, n->opset);
    put_u32 (b, n->n_attrs);
    for (int k = 0; k < n->n_attrs; k++)
      write_attr (b, &n->attrs[k]);
    put_u32 (b, n->n_inputs);
    for (int k = 0; k < n->n_inputs; k++)
      put_u32 (b, (guint32) n->inputs[k]);
    put_u32 (b, n->n_outputs);
    for (int k = 0; k < n->n_outputs; k++)
      put_u32 (b, (guint32) n->outputs[k]);
    put_u32 (b, n->n_post);
    for (int k = 0; k < n->n_post; k++) {
      put_u32 (b, n->post[k].kind);
      put_f32 (b, n->post[k].alpha);
      put_f32 (b, n->post[k].beta);
      put_u32 (b, (guint32) n->post[k].operand);
    }
  }
  put_u32 (b, g->n_inputs);
  for (int i = 0; i < g->n_inputs; i++)
    put_u32 (b, g->inputs[i]);
  put_u32 (b, g->n_outputs);
  for (int i = 0; i < g->n_outputs; i++)
    put_u32 (b, g->outputs[i]);
  return g_byte_array_free_to_bytes (b);
}

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (r->bad || !(cond))                                                                         \
      goto bad;                                                                                    \
  } while (0)

static OvaPlan *
deserialize_plan (const char *path, Reader *r)
{
  OvaGraph *g = g_new0 (OvaGraph, 1);
  g->ref = 1;
  g->root = g;
  g->path = g_strdup (path);
  g->values = g_array_new (FALSE, TRUE, sizeof (OvaValue));
  g->nodes = g_array_new (FALSE, TRUE, sizeof (OvaNode));
  g->owned = g_ptr_array_new_with_free_func (g_free);
  OvaPlan *plan = g_new0 (OvaPlan, 1);
  plan->separable = -1;
  plan->g = g;
  plan->batch = get_u32 (r);
  plan->n_folded = get_u32 (r);
  plan->n_fused = get_u32 (r);
  plan->n_removed = get_u32 (r);
  g->opset = get_u32 (r);
  guint32 nv = get_u32 (r);
  CHECK (nv < (1u << 24));
  for (guint32 i = 0; i < nv; i++) {
    char *name = get_str (r);
    CHECK (name);
    int vi = ova_graph_add_value (g, name);
    g_free (name);
    OvaValue *v = OVA_VALUE (g, vi);
    v->dtype = get_u32 (r);
    v->rank = (gint32) get_u32 (r);
    CHECK (v->rank >= -1 && v->rank <= OVA_MAX_DIMS);
    for (int d = 0; d < MAX (v->rank, 0); d++)
      v->dims[d] = get_i64 (r);
    get_u32 (r); /* producer: set from the nodes below */
    v->producer = -1;
    guint32 flags = get_u32 (r);
    v->is_input = flags & 1;
    v->is_output = (flags & 2) != 0;
    v->alias_of = (gint32) get_u32 (r);
    CHECK (v->alias_of >= -1 && v->alias_of < (int) nv);
    v->alias_offset = get_i64 (r);
    CHECK (v->alias_offset >= 0);
    if (flags & 4) {
      v->data = get_aligned_bytes (r);
      CHECK (v->data);
    }
  }
  guint32 nn = get_u32 (r);
  CHECK (nn < (1u << 24));
  plan->order = g_new0 (int, nn + 1);
  for (guint32 i = 0; i < nn; i++) {
    OvaNode node = { 0 };
    char *s;
    node.op_type = s = get_str (r);
    g_ptr_array_add (g->owned, s);
    node.name = s = get_str (r);
    g_ptr_array_add (g->owned, s);
    node.domain = s = get_str (r);
    g_ptr_array_add (g->owned, s);
    CHECK (node.op_type && node.name && node.domain);
    node.def = ova_op_lookup (node.op_type);
    CHECK (node.def);
    node.opset = get_u32 (r);
    node.n_attrs = get_u32 (r);
    CHECK (node.n_attrs >= 0 && node.n_attrs < 4096);
    node.attrs = g_new0 (OvaAttr, node.n_attrs + 1);
    g_ptr_array_add (g->owned, node.attrs);
    for (int k = 0; k < node.n_attrs; k++)
      CHECK (read_attr (r, g, &node.attrs[k]));
    node.n_inputs = get_u32 (r);
    CHECK (node.n_inputs >= 0 && node.n_inputs < 4096);
    node.inputs = g_new0 (int, node.n_inputs + 1);
    g_array_append_val (g->nodes, node);
    OvaNode *n = OVA_NODE (g, g->nodes->len - 1);
    for (int k = 0; k < n->n_inputs; k++) {
      n->inputs[k] = (gint32) get_u32 (r);
      CHECK (n->inputs[k] >= -1 && n->inputs[k] < (int) nv);
    }
    n->n_outputs = get_u32 (r);
    CHECK (n->n_outputs >= 0 && n->n_outputs < 4096);
    n->outputs = g_new0 (int, n->n_outputs + 1);
    for (int k = 0; k < n->n_outputs; k++) {
      n->outputs[k] = (gint32) get_u32 (r);
      CHECK (n->outputs[k] >= -1 && n->outputs[k] < (int) nv);
      if (n->outputs[k] >= 0)
        OVA_VALUE (g, n->outputs[k])->producer = i;
    }
    n->n_post = get_u32 (r);
    CHECK (n->n_post >= 0 && n->n_post <= OVA_MAX_POST_OPS);
    for (int k = 0; k < n->n_post; k++) {
      n->post[k].kind = get_u32 (r);
      n->post[k].alpha = get_f32 (r);
      n->post[k].beta = get_f32 (r);
      n->post[k].operand = (gint32) get_u32 (r);
      CHECK (n->post[k].kind != OVA_POST_ADD || (n->post[k].operand >= 0 && n->post[k].operand < (int) nv));
    }
    plan->order[plan->n_order++] = i;
  }
  g->n_inputs = get_u32 (r);
  CHECK (g->n_inputs >= 0 && g->n_inputs < 4096);
  g->inputs = g_new0 (int, g->n_inputs + 1);
  for (int i = 0; i < g->n_inputs; i++) {
    g->inputs[i] = get_u32 (r);
    CHECK (g->inputs[i] >= 0 && g->inputs[i] < (int) nv);
  }
  g->n_outputs = get_u32 (r);
  CHECK (g->n_outputs > 0 && g->n_outputs < 4096);
  g->outputs = g_new0 (int, g->n_outputs + 1);
  for (int i = 0; i < g->n_outputs; i++) {
    g->outputs[i] = get_u32 (r);
    CHECK (g->outputs[i] >= 0 && g->outputs[i] < (int) nv);
  }
  CHECK (r->p == r->end);
  ova_graph_count_uses (g);
  for (guint i = 0; i < g->values->len; i++) {
    OvaValue *v = OVA_VALUE (g, i);
    v->bytes = v->rank >= 0 ? (size_t) ova_value_numel (v) * ova_dtype_size (v->dtype) : 0;
  }
  return plan;
bad:
  ova_plan_free (plan);
  return NULL;
}

gboolean
ova_plan_cache_load (OvaEngine *e, const char *file)
{
  gint64 t0 = g_get_monotonic_time ();
  GMappedFile *mf = g_mapped_file_new (file, FALSE, NULL);
  if (!mf)
    return FALSE;
  GBytes *fb = g_mapped_file_get_bytes (mf);
  g_mapped_file_unref (mf);
  gsize flen;
  const guint8 *data = g_bytes_get_data (fb, &flen);
  char *key = make_key (e), *hash = NULL, *stored_hash = NULL;
  gboolean ok = FALSE;
  OvaPlan *plan = NULL;
  OvaTensorInfo *in = NULL, *out = NULL;
  Reader r = { data, data + flen, FALSE, data, NULL };
  const guint8 *magic = get (&r, 8);
  gsize hlen = get_u32 (&r);
  const guint8 *hdr = get (&r, hlen);
  gsize blen = get_u32 (&r);
  guint32 crc = get_u32 (&r);
  gsize pos = r.p - data;
  if (pos % ALIGN)
    get (&r, ALIGN - pos % ALIGN);
  const guint8 *body = get (&r, blen);
  gsize xlen = get_u32 (&r);
  guint32 xcrc = get_u32 (&r);
  pos = r.p - data;
  if (pos % ALIGN)
    get (&r, ALIGN - pos % ALIGN);
  const guint8 *extra = get (&r, xlen);
  if (r.bad || !data || memcmp (magic, MAGIC, 8) || r.p != r.end)
    goto out;
  Reader h = { hdr, hdr + hlen, FALSE, hdr, NULL };
  char *k = get_str (&h);
  gboolean same_key = k && !strcmp (k, key);
  g_free (k);
  if (!same_key)
    goto out;
  stored_hash = get_str (&h);
  gint64 size = get_i64 (&h), mtime = get_i64 (&h), cur_size, cur_mtime;
  if (!stored_hash || !model_stat (e->path, &cur_size, &cur_mtime))
    goto out;
  if (cur_size != size || cur_mtime != mtime) {
    /* touched or replaced: only the content decides */
    hash = model_sha256 (e->path, NULL);
    if (!hash || strcmp (hash, stored_hash))
      goto out;
  }
  int max_batch = get_u32 (&h);
  gboolean symbolic = get_u32 (&h);
  int n_in = get_u32 (&h);
  if (h.bad || n_in < 0 || n_in > 4096)
    goto out;
  in = g_new0 (OvaTensorInfo, n_in + 1);
  for (int i = 0; i < n_in; i++)
    if (!get_info (&h, e, &in[i]))
      goto out;
  int n_out = get_u32 (&h);
  if (h.bad || n_out < 1 || n_out > 4096)
    goto out;
  out = g_new0 (OvaTensorInfo, n_out + 1);
  for (int i = 0; i < n_out; i++)
    if (!get_info (&h, e, &out[i]))
      goto out;
  if (h.bad || h.p != h.end || crc32 (0L, body, blen) != crc)
    goto out;
  gint64 t1 = g_get_monotonic_time ();
  Reader br = { body, body + blen, FALSE, body, g_bytes_new_from_bytes (fb, body - data, blen) };
  plan = deserialize_plan (e->path, &br);
  g_bytes_unref (br.bytes);
  if (!plan || plan->g->n_inputs != n_in || plan->g->n_outputs != n_out)
    goto out;
  gint64 t2 = g_get_monotonic_time ();
  plan->threads = e->opts.threads;
  plan->verbose = e->opts.verbose;
  plan->precision = ova_engine_get_precision (e);
  if (xlen && e->backend->deserialize && crc32 (0L, extra, xlen) == xcrc) {
    /* what the backend compiled last time (a stale blob is just ignored) */
    GBytes *xb = g_bytes_new_from_bytes (fb, extra - data, xlen);
    e->backend->deserialize (plan, xb, &plan->state, NULL);
    g_bytes_unref (xb);
  }
  if (!ova_plan_compile (plan, e->backend, NULL))
    goto out;
  if (e->opts.verbose)
    g_printerr ("ova-engine: plan file %s: checked %.1f ms, plan read %.1f ms, backend compile %.1f ms\n", file,
                (t1 - t0) / 1e3, (t2 - t1) / 1e3, (g_get_monotonic_time () - t2) / 1e3);
  e->n_in = n_in;
  e->n_out = n_out;
  e->in_info = in;
  e->out_info = out;
  in = out = NULL;
  e->max_batch = max_batch;
  e->batch_symbolic = symbolic;
  ova_engine_add_plan (e, plan);
  plan = NULL;
  ok = TRUE;
out:
  if (plan)
    ova_plan_free (plan);
  g_free (in);
  g_free (out);
  g_free (key);
  g_free (hash);
  g_free (stored_hash);
  g_bytes_unref (fb);
  return ok;
}

gboolean
ova_plan_cache_save (OvaEngine *e, OvaPlan *plan, const char *file, GError **error)
{
  char *hash = model_sha256 (e->path, error);
  gint64 size = 0, mtime = 0;
  if (!hash)
    return FALSE;
  model_stat (e->path, &size, &mtime);
  char *key = make_key (e);
  GByteArray *h = g_byte_array_new ();
  put_str (h, key);
  put_str (h, hash);
  put_i64 (h, size);
  put_i64 (h, mtime);
  put_u32 (h, e->max_batch);
  put_u32 (h, e->batch_symbolic);
  put_u32 (h, e->n_in);
  for (int i = 0; i < e->n_in; i++)
    put_info (h, &e->in_info[i]);
  put_u32 (h, e->n_out);
  for (int i = 0; i < e->n_out; i++)
    put_info (h, &e->out_info[i]);
  GBytes *body = plan->graph_blob ? g_bytes_ref (plan->graph_blob) : ova_plan_cache_serialize (plan);
  gsize blen;
  const guint8 *bd = g_bytes_get_data (body, &blen);
  GByteArray *b = g_byte_array_new ();
  g_byte_array_append (b, (const guint8 *) MAGIC, 8);
  put_blob (b, h->data, h->len);
  put_u32 (b, blen);
  put_u32 (b, crc32 (0L, bd, blen));
  static const guint8 zeros[ALIGN];
  if (b->len % ALIGN)
    g_byte_array_append (b, zeros, ALIGN - b->len % ALIGN);
  g_byte_array_append (b, bd, blen);
  GBytes *extra = e->backend->serialize && plan->state ? e->backend->serialize (plan, plan->state) : NULL;
  gsize xlen = 0;
  const guint8 *xd = extra ? g_bytes_get_data (extra, &xlen) : NULL;
  put_u32 (b, xlen);
  put_u32 (b, xlen ? crc32 (0L, xd, xlen) : 0);
  if (b->len % ALIGN)
    g_byte_array_append (b, zeros, ALIGN - b->len % ALIGN);
  if (xlen)
    g_byte_array_append (b, xd, xlen);
  if (extra)
    g_bytes_unref (extra);
  GError *e2 = NULL;
  gboolean ok = g_file_set_contents (file, (const char *) b->data, b->len, &e2);
  if (!ok) {
    g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_IO, "%s: cannot write plan file: %s", file, e2->message);
    g_error_free (e2);
  }
  g_byte_array_free (b, TRUE);
  g_byte_array_free (h, TRUE);
  g_bytes_unref (body);
  g_free (key);
  g_free (hash);
  return ok;
}
