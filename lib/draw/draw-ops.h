/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * Recorded drawing on NV12 (internal): what the CPU drawer does to one luma or
 * chroma sample, as functions of a command, shared by the host replay
 * (lib/draw/record.c) and the CUDA kernel (lib/draw/cuda/draw.cu).
 *
 * The CPU primitives (lib/draw/draw.c) end in four operations once their
 * geometry is in whole pixels: a filled rectangle, a box outline, a coverage
 * mask and a label (text on an opaque background). A recording surface turns
 * each into an OvaDrawCmd holding the clipped integer geometry and the paint
 * in the frame's components, so what is left per sample is integer
 * arithmetic: the functions below are draw.c's per-sample code, written once
 * for both sides, which makes the GPU's bytes the CPU's bytes.
 */
#ifndef OVA_DRAW_OPS_H
#define OVA_DRAW_OPS_H

#include <stdint.h>

#ifdef __CUDACC__
#define OVA_DRAW_HD __host__ __device__ __forceinline__
#else
#define OVA_DRAW_HD static inline
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  OVA_DRAW_OP_FILL = 0,    /* blend the rectangle */
  OVA_DRAW_OP_OUTLINE = 1, /* blend the rectangle minus the inner box */
  OVA_DRAW_OP_MASK = 2,    /* blend the paint through a coverage mask */
  OVA_DRAW_OP_LABEL = 3,   /* opaque background, opaque text through a coverage mask */
} OvaDrawOp;

/* A glyph of a text mask: its box in the text's coordinates and its 8-bit
 * coverage (w * h bytes) at @offset in pool @pool (0: the batch's byte pool,
 * k > 0: the atlas of the list's font k - 1). */
typedef struct {
  int16_t x, y, w, h;
  uint32_t pool;
  uint32_t offset;
} OvaDrawGlyph;

typedef struct {
  int32_t op;
  /* the luma samples touched: [x0, x1) x [y0, y1), clipped to the frame, not empty */
  int32_t x0, y0, x1, y1;
  /* OUTLINE: the inner box (unclipped). MASK, LABEL: the mask's origin in the
   * frame (ax, ay), its row length (bx) and height (by); LABEL: the
   * background box is [x0, x1) x [y0, y1) */
  int32_t ax, ay, bx, by;
  uint8_t paint[4];   /* Y, U, V, alpha (LABEL: the background, opaque) */
  uint8_t fg[4];      /* LABEL: the text colour, opaque */
  /* the mask: bytes at mask_offset of the byte pool when n_glyphs is 0, else
   * the maximum of glyphs [first_glyph, first_glyph + n_glyphs) */
  uint32_t mask_offset;
  uint32_t first_glyph, n_glyphs;
} OvaDrawCmd;

/* Where a command's mask lives: the byte pool and atlases (pools[k]), glyphs. */
typedef struct {
  const uint8_t *const *pools;
  const OvaDrawGlyph *glyphs;
} OvaDrawSource;

/* d + (v - d) * a / 255, rounded (draw.c's blend) */
OVA_DRAW_HD uint8_t
ova_draw_blend (uint8_t d, uint8_t v, unsigned a)
{
  return (uint8_t) ((d * (255u - a) + v * a + 127u) / 255u);
}

OVA_DRAW_HD int
ova_draw_overlap (int a0, int a1, int b0, int b1)
{
  int lo = a0 > b0 ? a0 : b0, hi = a1 < b1 ? a1 : b1;
  return hi > lo ? hi - lo : 0;
}

/* Mask value at frame sample (x, y); the caller stays inside the mask. */
OVA_DRAW_HD unsigned
ova_draw_mask_at (const OvaDrawCmd *c, const OvaDrawSource *src, int x, int y)
{
  int mx = x - c->ax, my = y - c->ay;
  if (c->n_glyphs == 0)
    return src->pools[0][c->mask_offset + (uint32_t) my * (uint32_t) c->bx + (uint32_t) mx];
  /* glyph boxes that overlap are composed by their maximum, as ova_draw_text does */
  unsigned m = 0;
  for (uint32_t i = 0; i < c->n_glyphs; i++) {
    const OvaDrawGlyph *g = &src->glyphs[c->first_glyph + i];
    int gx = mx - g->x, gy = my - g->y;
    if (gx >= 0 && gx < g->w && gy >= 0 && gy < g->h) {
      unsigned v = src->pools[g->pool][g->offset + (uint32_t) gy * (uint32_t) g->w + (uint32_t) gx];
      m = v > m ? v : m;
    }
  }
  return m;
}

/* The new value of luma sample (x, y), inside the command's box, from @d. */
OVA_DRAW_HD uint8_t
ova_draw_cmd_luma (const OvaDrawCmd *c, const OvaDrawSource *src, int x, int y, uint8_t d)
{
  const unsigned a = c->paint[3];
  switch (c->op) {
    case OVA_DRAW_OP_FILL:
      return ova_draw_blend (d, c->paint[0], a);
    case OVA_DRAW_OP_OUTLINE:
      if (y < c->ay || y >= c->by || x < c->ax || x >= c->bx)
        return ova_draw_blend (d, c->paint[0], a);
      return d;
    case OVA_DRAW_OP_MASK: {
      unsigned mv = ova_draw_mask_at (c, src, x, y);
      if (mv == 0)
        return d;
      if (mv == 255 && a == 255)
        return c->paint[0];
      return ova_draw_blend (d, c->paint[0], (a * mv + 127) / 255);
    }
    default: { /* LABEL: the text box is the mask clipped to the background */
      int tx0 = c->ax > c->x0 ? c->ax : c->x0, tx1 = c->ax + c->bx < c->x1 ? c->ax + c->bx : c->x1;
      int ty0 = c->ay > c->y0 ? c->ay : c->y0, ty1 = c->ay + c->by < c->y1 ? c->ay + c->by : c->y1;
      if (y < ty0 || y >= ty1 || x < tx0 || x >= tx1)
        return c->paint[0];
      return ova_draw_blend (c->paint[0], c->fg[0], ova_draw_mask_at (c, src, x, y));
    }
  }
}

/* The new U and V of chroma sample (cx, cy), inside the command's box. */
OVA_DRAW_HD void
ova_draw_cmd_chroma (const OvaDrawCmd *c, const OvaDrawSource *src, int cx, int cy, uint8_t *u, uint8_t *v)
{
  const unsigned a = c->paint[3];
  const int x0 = c->x0, y0 = c->y0, x1 = c->x1, y1 = c->y1;
  switch (c->op) {
    case OVA_DRAW_OP_FILL:
    case OVA_DRAW_OP_OUTLINE: {
      /* the share of the 2x2 luma block covered (outline: outer minus inner) */
      unsigned cov = (unsigned) (ova_draw_overlap (2 * cx, 2 * cx + 2, x0, x1) *
                                 ova_draw_overlap (2 * cy, 2 * cy + 2, y0, y1));
      if (c->op == OVA_DRAW_OP_OUTLINE) {
        int ixa = c->ax > x0 ? c->ax : x0, ixb = c->bx < x1 ? c->bx : x1;
        int iya = c->ay > y0 ? c->ay : y0, iyb = c->by < y1 ? c->by : y1;
        cov -= (unsigned) (ova_draw_overlap (2 * cx, 2 * cx + 2, ixa, ixb) *
                           ova_draw_overlap (2 * cy, 2 * cy + 2, iya, iyb));
      }
      if (cov == 0)
        return;
      unsigned al = cov == 4 ? a : (a * cov + 2) / 4;
      *u = ova_draw_blend (*u, c->paint[1], al);
      *v = ova_draw_blend (*v, c->paint[2], al);
      return;
    }
    case OVA_DRAW_OP_MASK: {
      /* the mean coverage of the 2x2 block (samples outside the clip count 0) */
      int ya = y0 > 2 * cy ? y0 : 2 * cy, yb = y1 < 2 * cy + 2 ? y1 : 2 * cy + 2;
      int xa = x0 > 2 * cx ? x0 : 2 * cx, xb = x1 < 2 * cx + 2 ? x1 : 2 * cx + 2;
      unsigned sum = 0;
      for (int yy = ya; yy < yb; yy++)
        for (int xx = xa; xx < xb; xx++)
          sum += ova_draw_mask_at (c, src, xx, yy);
      if (sum == 0)
        return;
      unsigned al = sum == 1020 ? a : (a * sum + 510) / 1020;
      *u = ova_draw_blend (*u, c->paint[1], al);
      *v = ova_draw_blend (*v, c->paint[2], al);
      return;
    }
    default: { /* LABEL */
      int tx0 = c->ax > x0 ? c->ax : x0, tx1 = c->ax + c->bx < x1 ? c->ax + c->bx : x1;
      int ty0 = c->ay > y0 ? c->ay : y0, ty1 = c->ay + c->by < y1 ? c->ay + c->by : y1;
      unsigned cov = (unsigned) (ova_draw_overlap (2 * cx, 2 * cx + 2, x0, x1) *
                                 ova_draw_overlap (2 * cy, 2 * cy + 2, y0, y1));
      uint8_t U, V;
      if (cov == 4) {
        U = c->paint[1];
        V = c->paint[2];
      } else {
        unsigned ca = (255 * cov + 2) / 4;
        U = ova_draw_blend (*u, c->paint[1], ca);
        V = ova_draw_blend (*v, c->paint[2], ca);
      }
      unsigned sum = 0;
      int xa = 2 * cx > tx0 ? 2 * cx : tx0, xb = 2 * cx + 2 < tx1 ? 2 * cx + 2 : tx1;
      for (int k = 0; k < 2; k++) {
        int yy = 2 * cy + k;
        if (yy < ty0 || yy >= ty1)
          continue;
        for (int xx = xa; xx < xb; xx++)
          sum += ova_draw_mask_at (c, src, xx, yy);
      }
      if (sum) {
        unsigned ca = sum == 1020 ? 255 : (255 * sum + 510) / 1020;
        U = ova_draw_blend (U, c->fg[1], ca);
        V = ova_draw_blend (V, c->fg[2], ca);
      }
      *u = U;
      *v = V;
      return;
    }
  }
}

#ifdef __cplusplus
}
#endif

#endif /* OVA_DRAW_OPS_H */
