/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * ova_draw_list_execute_cuda (include/ova/draw.h): a batch's commands packed
 * into one pinned staging buffer, copied to the device with one asynchronous
 * copy and drawn with one kernel launch; font atlases uploaded once.
 */
#include "ova-config.h"
#include "../draw-private.h"
#include "../draw-list.h"
#include "draw-kernel.h"
#include <ova/cuda-draw.h>

#include <cuda_runtime.h>
#include <string.h>

struct _OvaDrawCuda {
  guint8 *host;               /* pinned staging */
  gsize host_size;
  guint8 *dev;
  gsize dev_size;
  cudaEvent_t copied;         /* the staging buffer's last copy to the device */
  gboolean copy_pending;
  guint8 **atlases;           /* device copy of list->fonts[k]'s atlas */
  guint n_atlases;
};

static gboolean
check (cudaError_t e, const gchar *what, GError **error)
{
  if (e == cudaSuccess)
    return TRUE;
  g_set_error (error, OVA_DRAW_ERROR, 1, "CUDA drawer: %s: %s", what, cudaGetErrorString (e));
  return FALSE;
}

gboolean
ova_draw_cuda_available (void)
{
  return TRUE;
}

void
ova_draw_list_cuda_release (OvaDrawList *l)
{
  OvaDrawCuda *c = l->cuda;
  if (!c)
    return;
  /* errors are ignored: nothing can be done about them while freeing */
  if (c->copy_pending)
    cudaEventSynchronize (c->copied);
  if (c->copied)
    cudaEventDestroy (c->copied);
  if (c->host)
    cudaFreeHost (c->host);
  if (c->dev)
    cudaFree (c->dev);
  for (guint k = 0; k < c->n_atlases; k++)
    if (c->atlases[k])
      cudaFree (c->atlases[k]);
  g_free (c->atlases);
  g_free (c);
  l->cuda = NULL;
}

static gsize
align16 (gsize v)
{
  return (v + 15) & ~(gsize) 15;
}

/* Device copies of the atlases of fonts recorded since the last upload. */
static gboolean
upload_atlases (OvaDrawList *l, OvaDrawCuda *c, cudaStream_t stream, GError **error)
{
  g_mutex_lock (&l->lock);
  guint n = l->fonts->len;
  g_mutex_unlock (&l->lock);
  if (n <= c->n_atlases)
    return TRUE;
  c->atlases = g_renew (guint8 *, c->atlases, n);
  for (guint k = c->n_atlases; k < n; k++) {
    gsize size;
    const guint8 *atlas = ova_font_get_atlas (g_ptr_array_index (l->fonts, k), &size);
    guint8 *d = NULL;
    if (!check (cudaMalloc ((void **) &d, MAX (size, 1)), "cudaMalloc (atlas)", error))
      return FALSE;
    /* synchronous: once per font, and the atlas is pageable host memory */
    if (size && !check (cudaMemcpy (d, atlas, size, cudaMemcpyHostToDevice), "atlas upload", error)) {
      cudaFree (d);
      return FALSE;
    }
    c->atlases[k] = d;
    c->n_atlases = k + 1; /* only atlases that are on the device count */
  }
  return TRUE;
}

gboolean
ova_draw_list_execute_cuda (OvaDrawList *l, gpointer stream_ptr, GError **error)
{
  cudaStream_t stream = (cudaStream_t) stream_ptr;
  OvaDrawCuda *c;
  OvaDrawPackLayout lay;
  guint n_frames;
  gint max_height = 0;

  g_return_val_if_fail (l != NULL, FALSE);
  if (!ova_draw_list_pack_layout (l, 0, &lay))
    return TRUE; /* nothing recorded */
  if (!l->cuda) {
    l->cuda = g_new0 (OvaDrawCuda, 1);
    if (!check (cudaEventCreateWithFlags (&l->cuda->copied, cudaEventDisableTiming), "cudaEventCreate", error)) {
      g_free (l->cuda);
      l->cuda = NULL;
      return FALSE;
    }
  }
  c = l->cuda;
  if (!upload_atlases (l, c, stream, error))
    return FALSE;
  ova_draw_list_pack_layout (l, c->n_atlases, &lay);
  if (lay.total > G_MAXUINT32) {
    g_set_error (error, OVA_DRAW_ERROR, 2, "CUDA drawer: a batch of %" G_GSIZE_FORMAT " bytes of commands", lay.total);
    return FALSE;
  }
  /* the previous batch's copy must be done before its staging is rewritten */
  if (c->copy_pending) {
    if (!check (cudaEventSynchronize (c->copied), "cudaEventSynchronize", error))
      return FALSE;
    c->copy_pending = FALSE;
  }
  if (lay.total > c->host_size) {
    gsize size = MAX (lay.total, 2 * c->host_size);
    if (c->host)
      cudaFreeHost (c->host);
    c->host = NULL;
    c->host_size = 0;
    if (!check (cudaHostAlloc ((void **) &c->host, size, cudaHostAllocPortable), "cudaHostAlloc", error))
      return FALSE;
    c->host_size = size;
  }
  if (lay.total > c->dev_size) {
    gsize size = MAX (lay.total, 2 * c->dev_size);
    if (c->dev) {
      /* the previous batch's kernel may still read it */
      if (!check (cudaStreamSynchronize (stream), "cudaStreamSynchronize", error))
        return FALSE;
      cudaFree (c->dev);
    }
    c->dev = NULL;
    c->dev_size = 0;
    if (!check (cudaMalloc ((void **) &c->dev, size), "cudaMalloc", error))
      return FALSE;
    c->dev_size = size;
  }
  n_frames = ova_draw_list_pack (l, &lay, c->host, c->dev, c->atlases, c->n_atlases, &max_height);
  if (!check (cudaMemcpyAsync (c->dev, c->host, lay.total, cudaMemcpyHostToDevice, stream), "cudaMemcpyAsync", error))
    return FALSE;
  if (!check (cudaEventRecord (c->copied, stream), "cudaEventRecord", error))
    return FALSE;
  c->copy_pending = TRUE;
  return check ((cudaError_t) ova_draw_cuda_launch ((const OvaDrawCudaFrame *) (gpointer) (c->dev + lay.o_frames),
                    (gint) n_frames, max_height, (const OvaDrawCmd *) (gpointer) (c->dev + lay.o_cmds),
                    (const OvaDrawGlyph *) (gpointer) (c->dev + lay.o_glyphs),
                    (const uint8_t *const *) (gpointer) (c->dev + lay.o_pools), stream),
      "draw kernel", error);
}

/* ------------------------------------------------------------------ tiler */

typedef struct {
  OvaScalerPlaneFilters f;      /* sizes and tap counts (host pointers unused) */
  gint32 *h_start, *v_start;    /* device */
  gint16 *h_w, *v_w;
} CudaPlane;

struct _OvaCudaScaler {
  gint sw, sh, dw, dh;
  CudaPlane planes[2];
  void *tables;                 /* one device allocation for all tables */
};

void
ova_cuda_scaler_free (OvaCudaScaler *cs)
{
  if (!cs)
    return;
  if (cs->tables)
    cudaFree (cs->tables);
  g_free (cs);
}

gboolean
ova_cuda_scaler_matches (const OvaCudaScaler *cs, gint sw, gint sh, gint dw, gint dh)
{
  return cs && cs->sw == sw && cs->sh == sh && cs->dw == dw && cs->dh == dh;
}

OvaCudaScaler *
ova_cuda_scaler_new (const OvaScaler *scaler, GError **error)
{
  OvaPixelFormat dst;
  OvaCudaScaler *cs;
  gsize size = 0, offs[2][4];
  guint8 *host;
  g_return_val_if_fail (scaler != NULL, NULL);
  if (ova_scaler_get_format (scaler, &dst) != OVA_PIXEL_NV12 || dst != OVA_PIXEL_NV12) {
    g_set_error (error, OVA_DRAW_ERROR, 3, "CUDA scaler: NV12 to NV12 only");
    return NULL;
  }
  cs = g_new0 (OvaCudaScaler, 1);
  for (gint i = 0; i < 2; i++) {
    OvaScalerPlaneFilters *f = &cs->planes[i].f;
    ova_scaler_get_plane_filters (scaler, i, f);
    offs[i][0] = size; size = align16 (size + sizeof (gint32) * f->out_w);
    offs[i][1] = size; size = align16 (size + sizeof (gint32) * f->out_h);
    offs[i][2] = size; size = align16 (size + sizeof (gint16) * f->out_w * f->h_ntaps);
    offs[i][3] = size; size = align16 (size + sizeof (gint16) * f->out_h * f->v_ntaps);
  }
  cs->sw = cs->planes[0].f.in_w; cs->sh = cs->planes[0].f.in_h;
  cs->dw = cs->planes[0].f.out_w; cs->dh = cs->planes[0].f.out_h;
  host = g_malloc0 (size);
  for (gint i = 0; i < 2; i++) {
    const OvaScalerPlaneFilters *f = &cs->planes[i].f;
    /* gint is 32 bits on every platform libova builds on; copied one by one all the same */
    gint32 *hs = (gint32 *) (gpointer) (host + offs[i][0]), *vs = (gint32 *) (gpointer) (host + offs[i][1]);
    for (gint x = 0; x < f->out_w; x++)
      hs[x] = f->h_start[x];
    for (gint y = 0; y < f->out_h; y++)
      vs[y] = f->v_start[y];
    memcpy (host + offs[i][2], f->h_w, sizeof (gint16) * f->out_w * f->h_ntaps);
    memcpy (host + offs[i][3], f->v_w, sizeof (gint16) * f->out_h * f->v_ntaps);
  }
  if (!check (cudaMalloc (&cs->tables, size), "cudaMalloc (scaler)", error)
      || !check (cudaMemcpy (cs->tables, host, size, cudaMemcpyHostToDevice), "scaler upload", error)) {
    g_free (host);
    ova_cuda_scaler_free (cs);
    return NULL;
  }
  g_free (host);
  for (gint i = 0; i < 2; i++) {
    guint8 *t = cs->tables;
    cs->planes[i].h_start = (gint32 *) (gpointer) (t + offs[i][0]);
    cs->planes[i].v_start = (gint32 *) (gpointer) (t + offs[i][1]);
    cs->planes[i].h_w = (gint16 *) (gpointer) (t + offs[i][2]);
    cs->planes[i].v_w = (gint16 *) (gpointer) (t + offs[i][3]);
  }
  return cs;
}

gboolean
ova_cuda_scale_nv12 (const OvaCudaScaleJob *jobs, guint n, gpointer stream, GError **error)
{
  for (guint k = 0; k < n; k++) {
    const OvaCudaScaleJob *j = &jobs[k];
    for (gint i = 0; i < 2; i++) {
      const CudaPlane *cp = &j->scaler->planes[i];
      OvaCudaScalePlane p;
      p.src = i ? j->src_uv : j->src_y;
      p.dst = i ? j->dst_uv : j->dst_y;
      p.src_pitch = i ? j->src_uv_pitch : j->src_y_pitch;
      p.dst_pitch = i ? j->dst_uv_pitch : j->dst_y_pitch;
      p.nc = cp->f.nc;
      p.in_w = cp->f.in_w;
      p.out_w = cp->f.out_w;
      p.out_h = cp->f.out_h;
      p.h_ntaps = cp->f.h_ntaps;
      p.v_ntaps = cp->f.v_ntaps;
      p.h_start = cp->h_start;
      p.v_start = cp->v_start;
      p.h_w = cp->h_w;
      p.v_w = cp->v_w;
      if (!check ((cudaError_t) ova_cuda_scale_plane_launch (&p, stream), "scale kernel", error))
        return FALSE;
    }
  }
  return TRUE;
}

gboolean
ova_cuda_fill_nv12 (void *y, gint y_pitch, void *uv, gint uv_pitch, gint width, gint height, const OvaPaint *paint,
    gpointer stream, GError **error)
{
  return check ((cudaError_t) ova_cuda_fill_nv12_launch (y, y_pitch, uv, uv_pitch, width, height, paint->c[0],
                    paint->c[1], paint->c[2], stream),
      "fill kernel", error);
}
