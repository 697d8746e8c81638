/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * OvaDrawList internals, shared by the recorder (record.c) and the CUDA
 * executor (cuda/draw-cuda.c).
 */
#ifndef OVA_DRAW_LIST_H
#define OVA_DRAW_LIST_H

#include <ova/draw.h>
#include "draw-ops.h"

G_BEGIN_DECLS

#define OVA_DRAW_ERROR (g_quark_from_static_string ("ova-draw-error"))

typedef struct _OvaDrawRecorder OvaDrawRecorder;
typedef struct _OvaDrawCuda OvaDrawCuda;

typedef struct {
  gboolean used;              /* a surface was made for it in this batch */
  gpointer y, uv;             /* device pointers */
  gint y_pitch, uv_pitch, width, height;
  GArray *cmds;               /* OvaDrawCmd, in drawing order */
  GArray *glyphs;             /* OvaDrawGlyph */
  GByteArray *bytes;          /* masks and glyphs not in an atlas (pool 0) */
  OvaDrawRecorder *recorder;
} OvaDrawListFrame;

struct _OvaDrawList {
  GArray *frames;             /* OvaDrawListFrame; the first n_frames are this batch's */
  guint n_frames;
  GMutex lock;                /* fonts */
  GPtrArray *fonts;           /* OvaFont (a ref each): pool k + 1 is fonts[k]'s atlas */
  OvaDrawCuda *cuda;          /* device buffers (cuda/draw-cuda.c) */
};

/* Frees the device buffers (in the current CUDA context). */
void ova_draw_list_cuda_release (OvaDrawList *list);

/* A batch packed for one upload: frames (OvaDrawCudaFrame) | commands |
 * glyphs | pool pointers | bytes, each part 16-byte aligned. */
typedef struct {
  gsize o_frames, o_cmds, o_glyphs, o_pools, o_bytes, total;
  guint n_cmds, n_glyphs, n_pools;
  gsize n_bytes;
} OvaDrawPackLayout;

/* The layout of the batch with @n_atlases font atlases; FALSE when nothing was recorded. */
gboolean ova_draw_list_pack_layout (OvaDrawList *list, guint n_atlases, OvaDrawPackLayout *layout);
/* Packs the batch into @host (layout->total bytes). Pointers written into it
 * (frames' planes, pools) are for where the buffer is used: the byte pool at
 * @dest + o_bytes, atlas k at @atlases[k]. Frames recorded on the same luma
 * pointer become one frame, commands in recording order. Returns the number
 * of frames; *max_height their largest height. */
guint ova_draw_list_pack (OvaDrawList *list, const OvaDrawPackLayout *layout, guint8 *host, guint8 *dest,
    guint8 *const *atlases, guint n_atlases, gint *max_height);

G_END_DECLS

#endif /* OVA_DRAW_LIST_H */
