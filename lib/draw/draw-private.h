/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * lib/draw internals: the hooks a recording surface (record.c) takes from the
 * primitives (draw.c, font.c), and the font's atlas and glyph layout.
 */
#ifndef OVA_DRAW_PRIVATE_H
#define OVA_DRAW_PRIVATE_H

#include <ova/draw.h>

G_BEGIN_DECLS

/* One glyph of a laid-out string: its box in the string's coverage mask and
 * its coverage, in the font's atlas (at @offset) or elsewhere (@bits). */
typedef struct {
  gint x, y, w, h;
  gboolean in_atlas;
  guint32 offset;
  const guint8 *bits;
} OvaGlyphPlacement;

typedef void (*OvaGlyphFunc) (const OvaGlyphPlacement *g, gpointer data);

/* The Latin-1 glyph bitmaps, @size bytes (immutable once the font is built). */
const guint8 *ova_font_get_atlas (OvaFont *font, gsize *size);
/* Calls @func for every glyph ova_draw_text() would put into @text's mask, in order. */
void ova_font_layout (OvaFont *font, const gchar *text, OvaGlyphFunc func, gpointer data);

/* Recording (s->recorder != NULL): the four pixel operations, geometry
 * already clipped to the surface and not empty. */
void ova_draw_record_fill (OvaSurface *s, gint x0, gint y0, gint x1, gint y1, const OvaPaint *p);
void ova_draw_record_outline (OvaSurface *s, gint x0, gint y0, gint x1, gint y1,
    gint ix0, gint iy0, gint ix1, gint iy1, const OvaPaint *p);
/* the mask rectangle [x0, x1) x [y0, y1) of a mask whose (0, 0) is at (mx, my) */
void ova_draw_record_mask (OvaSurface *s, gint x0, gint y0, gint x1, gint y1, gint mx, gint my,
    const guint8 *mask, gint mask_stride, const OvaPaint *p);
/* text at (x, y), w x h: a label on an opaque background padded by @pad when
 * @label, else the text's coverage blended with @fg (its clip unknown yet) */
void ova_draw_record_text (OvaSurface *s, OvaFont *font, const gchar *text, gint x, gint y, gint w, gint h,
    gint pad, gboolean label, const OvaPaint *fg, const OvaPaint *bg);

/* The filters of one plane of a scaler (scale.c's Plane): output sample x
 * of a row takes h_ntaps taps from input column h_start[x] with weights
 * h_w[x * h_ntaps ...] (Q14, padded with zeros), rows likewise. */
typedef struct {
  gint nc, in_w, in_h, out_w, out_h;
  gint h_ntaps, v_ntaps;
  const gint *h_start, *v_start;
  const gint16 *h_w, *v_w;
} OvaScalerPlaneFilters;

/* FALSE when @plane does not exist; NV12 has 2 planes (luma, interleaved chroma). */
gboolean ova_scaler_get_plane_filters (const OvaScaler *scaler, gint plane, OvaScalerPlaneFilters *out);
OvaPixelFormat ova_scaler_get_format (const OvaScaler *scaler, OvaPixelFormat *dst_format);

G_END_DECLS

#endif /* OVA_DRAW_PRIVATE_H */
