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

G_END_DECLS

#endif /* OVA_DRAW_LIST_H */
