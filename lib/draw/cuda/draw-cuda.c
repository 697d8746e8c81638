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
    c->atlases[k] = NULL;
    c->n_atlases = k + 1;
    if (!check (cudaMalloc ((void **) &c->atlases[k], MAX (size, 1)), "cudaMalloc (atlas)", error))
      return FALSE;
    /* synchronous: once per font, and the atlas is pageable host memory */
    if (size && !check (cudaMemcpy (c->atlases[k], atlas, size, cudaMemcpyHostToDevice), "atlas upload", error))
      return FALSE;
  }
  return TRUE;
}

gboolean
ova_draw_list_execute_cuda (OvaDrawList *l, gpointer stream_ptr, GError **error)
{
  cudaStream_t stream = (cudaStream_t) stream_ptr;
  OvaDrawCuda *c;
  guint n_cmds = 0, n_glyphs = 0, n_frames = 0, n_pools;
  gsize n_bytes = 0;
  gint max_height = 0;

  g_return_val_if_fail (l != NULL, FALSE);
  for (guint i = 0; i < l->n_frames; i++) {
    OvaDrawListFrame *f = &g_array_index (l->frames, OvaDrawListFrame, i);
    if (!f->used || f->cmds->len == 0)
      continue;
    n_cmds += f->cmds->len;
    n_glyphs += f->glyphs->len;
    n_bytes += f->bytes->len;
  }
  if (n_cmds == 0)
    return TRUE;
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
  n_pools = 1 + c->n_atlases;

  /* staging layout: frames | commands | glyphs | pool pointers | bytes */
  gsize o_frames = 0;
  gsize o_cmds = align16 (o_frames + sizeof (OvaDrawCudaFrame) * l->n_frames);
  gsize o_glyphs = align16 (o_cmds + sizeof (OvaDrawCmd) * n_cmds);
  gsize o_pools = align16 (o_glyphs + sizeof (OvaDrawGlyph) * n_glyphs);
  gsize o_bytes = align16 (o_pools + sizeof (uint8_t *) * n_pools);
  gsize total = align16 (o_bytes + n_bytes);
  if (o_bytes + n_bytes > G_MAXUINT32) {
    g_set_error (error, OVA_DRAW_ERROR, 2, "CUDA drawer: a batch of %" G_GSIZE_FORMAT " bytes of commands", total);
    return FALSE;
  }

  /* the previous batch's copy must be done before its staging is rewritten */
  if (c->copy_pending) {
    if (!check (cudaEventSynchronize (c->copied), "cudaEventSynchronize", error))
      return FALSE;
    c->copy_pending = FALSE;
  }
  if (total > c->host_size) {
    gsize size = MAX (total, 2 * c->host_size);
    if (c->host)
      cudaFreeHost (c->host);
    c->host = NULL;
    c->host_size = 0;
    if (!check (cudaHostAlloc ((void **) &c->host, size, cudaHostAllocPortable), "cudaHostAlloc", error))
      return FALSE;
    c->host_size = size;
  }
  if (total > c->dev_size) {
    gsize size = MAX (total, 2 * c->dev_size);
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

  OvaDrawCudaFrame *frames = (OvaDrawCudaFrame *) (gpointer) (c->host + o_frames);
  OvaDrawCmd *cmds = (OvaDrawCmd *) (gpointer) (c->host + o_cmds);
  OvaDrawGlyph *glyphs = (OvaDrawGlyph *) (gpointer) (c->host + o_glyphs);
  uint8_t **pools = (uint8_t **) (gpointer) (c->host + o_pools);
  guint8 *bytes = c->host + o_bytes;
  guint cmd_at = 0, glyph_at = 0;
  gsize byte_at = 0;

  pools[0] = c->dev + o_bytes;
  for (guint k = 0; k < c->n_atlases; k++)
    pools[k + 1] = c->atlases[k];
  /* Frames recorded on the same memory (after a tiler every frame meta names
   * the one picture) become one frame of the launch, commands in recording
   * order: blocks of different frames run concurrently. */
  for (guint i = 0; i < l->n_frames; i++) {
    OvaDrawListFrame *fi = &g_array_index (l->frames, OvaDrawListFrame, i);
    gboolean seen = FALSE;
    if (!fi->used || fi->cmds->len == 0)
      continue;
    for (guint j = 0; j < i && !seen; j++) {
      OvaDrawListFrame *fj = &g_array_index (l->frames, OvaDrawListFrame, j);
      seen = fj->used && fj->cmds->len && fj->y == fi->y;
    }
    if (seen)
      continue;
    OvaDrawCudaFrame *out = &frames[n_frames++];
    out->y = fi->y;
    out->uv = fi->uv;
    out->y_pitch = fi->y_pitch;
    out->uv_pitch = fi->uv_pitch;
    out->width = fi->width;
    out->height = fi->height;
    out->first_cmd = cmd_at;
    for (guint j = i; j < l->n_frames; j++) {
      OvaDrawListFrame *f = &g_array_index (l->frames, OvaDrawListFrame, j);
      if (!f->used || f->cmds->len == 0 || f->y != fi->y)
        continue;
      /* commands, glyphs and bytes rebased onto the batch's arrays */
      for (guint k = 0; k < f->cmds->len; k++) {
        OvaDrawCmd cmd = g_array_index (f->cmds, OvaDrawCmd, k);
        /* a frame recorded smaller than the one it shares memory with is clipped by its own commands */
        if (cmd.n_glyphs)
          cmd.first_glyph += glyph_at;
        else
          cmd.mask_offset += (guint32) byte_at;
        cmds[cmd_at++] = cmd;
      }
      for (guint k = 0; k < f->glyphs->len; k++) {
        OvaDrawGlyph g = g_array_index (f->glyphs, OvaDrawGlyph, k);
        if (g.pool == 0)
          g.offset += (guint32) byte_at;
        glyphs[glyph_at++] = g;
      }
      if (f->bytes->len)
        memcpy (bytes + byte_at, f->bytes->data, f->bytes->len);
      byte_at += f->bytes->len;
      out->height = MAX (out->height, f->height);
    }
    out->n_cmds = cmd_at - out->first_cmd;
    max_height = MAX (max_height, out->height);
  }

  if (!check (cudaMemcpyAsync (c->dev, c->host, total, cudaMemcpyHostToDevice, stream), "cudaMemcpyAsync", error))
    return FALSE;
  if (!check (cudaEventRecord (c->copied, stream), "cudaEventRecord", error))
    return FALSE;
  c->copy_pending = TRUE;
  return check ((cudaError_t) ova_draw_cuda_launch ((const OvaDrawCudaFrame *) (gpointer) (c->dev + o_frames),
                    (gint) n_frames, max_height, (const OvaDrawCmd *) (gpointer) (c->dev + o_cmds),
                    (const OvaDrawGlyph *) (gpointer) (c->dev + o_glyphs),
                    (const uint8_t *const *) (gpointer) (c->dev + o_pools), stream),
      "draw kernel", error);
}
