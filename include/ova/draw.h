/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * CPU drawing and scaling on video frames in system memory, and recorded
 * drawing (OvaDrawList) that the CUDA drawer applies to NV12 frames in
 * device memory with the same bytes.
 *
 * Surfaces are plain pointers + strides (no copy): NV12, I420 (BT.601 or
 * BT.709, limited or full range) and the packed 32-bit RGB formats RGBA, BGRA,
 * RGBx, BGRx. A colour is converted to the surface's components once per
 * primitive (OvaPaint); every primitive alpha-blends with the paint's alpha.
 * On 4:2:0 surfaces a chroma sample is blended with the share of its 2×2 luma
 * block that the shape covers, so thin or odd-aligned shapes keep clean edges.
 *
 * Text comes from a glyph atlas rendered once per pixel size with FreeType
 * (DejaVu Sans); drawing a label is a blend of
 * atlas coverage, no font rasterisation per frame. Fonts are cached per size
 * and shared by every thread (an OvaFont is immutable once built).
 *
 * The scaler (OvaScaler) is a separable resampler with a tent (bilinear)
 * kernel widened to the scale factor when shrinking, so downscaling averages
 * instead of aliasing. Fixed point: weights Q14, intermediate Q6. The SSE2
 * and AVX2 paths and the scalar reference produce identical bytes (tests/draw
 * checks).
 */
#ifndef OVA_DRAW_H
#define OVA_DRAW_H

#include <glib.h>
#include <gst/video/video.h>
#include <ova/meta.h>

G_BEGIN_DECLS

typedef enum {
  OVA_PIXEL_UNKNOWN = 0,
  OVA_PIXEL_NV12,
  OVA_PIXEL_I420,
  OVA_PIXEL_RGBA,
  OVA_PIXEL_BGRA,
  OVA_PIXEL_RGBX,
  OVA_PIXEL_BGRX,
} OvaPixelFormat;

/** A frame to draw on: pointers into memory someone else owns. */
typedef struct {
  OvaPixelFormat format;
  gint width, height;
  guint8 *data[3];
  gint stride[3];
  gboolean bt709;      /* YUV matrix: BT.709 when TRUE, else BT.601 */
  gboolean full_range; /* YUV range: 0..255 when TRUE, else 16..235/240 */
  gpointer recorder;   /* NULL: pixels in data[]; else a recording surface (ova_draw_list_surface) */
} OvaSurface;

/** A colour in the components of one surface format, with 0..255 alpha. */
typedef struct {
  guint8 c[4];  /* YUV: Y, U, V; RGB: bytes in memory order (alpha byte 255) */
  guint8 alpha;
} OvaPaint;

/** Returns: the OvaPixelFormat of @format, or OVA_PIXEL_UNKNOWN if not drawable. */
OvaPixelFormat ova_pixel_format_from_video (GstVideoFormat format);
gboolean ova_pixel_format_is_yuv (OvaPixelFormat format);

/** Fills @s from a video info and plane pointers; FALSE if the format is not supported. */
gboolean ova_surface_init (OvaSurface *s, const GstVideoInfo *info, guint8 *const data[], const gint stride[]);

/** Converts @color (RGBA 0..1) to @s's components. */
void ova_paint_init (OvaPaint *paint, const OvaSurface *s, const OvaColor *color);

/* Primitives. Coordinates are surface pixels; anything outside is clipped. */

/** Blends the rectangle [x, x+w) × [y, y+h) (rounded to whole pixels). */
void ova_draw_fill_rect (OvaSurface *s, gfloat x, gfloat y, gfloat w, gfloat h, const OvaPaint *paint);
/** A box outline @border pixels thick, drawn inside [x, x+w) × [y, y+h). */
void ova_draw_rect (OvaSurface *s, gfloat x, gfloat y, gfloat w, gfloat h, gfloat border, const OvaPaint *paint);
/** An anti-aliased line of any angle, @width pixels wide, with flat ends. */
void ova_draw_line (OvaSurface *s, gfloat x1, gfloat y1, gfloat x2, gfloat y2, gfloat width, const OvaPaint *paint);
/** A line with a filled triangular head at (x2, y2). */
void ova_draw_arrow (OvaSurface *s, gfloat x1, gfloat y1, gfloat x2, gfloat y2, gfloat width, const OvaPaint *paint);
/** A circle outline @width wide (none when @width <= 0), filled with @fill when not NULL. */
void ova_draw_circle (OvaSurface *s, gfloat xc, gfloat yc, gfloat radius, gfloat width,
    const OvaPaint *paint, const OvaPaint *fill);
/** Blends @paint through an 8-bit coverage mask (@mask_w × @mask_h) placed at (x, y). */
void ova_draw_mask (OvaSurface *s, gint x, gint y, const guint8 *mask, gint mask_w, gint mask_h,
    gint mask_stride, const OvaPaint *paint);

/* Text */

typedef struct _OvaFont OvaFont;

/**
 * ova_font_get:
 * @pixel_size: the font's em size in pixels (clamped to 4..256)
 * Returns: (transfer full) (nullable): the cached font of that size, its atlas
 * rendered on first use; NULL with @error set when no font file can be loaded.
 */
OvaFont *ova_font_get (gint pixel_size, GError **error);
OvaFont *ova_font_ref (OvaFont *font);
void ova_font_unref (OvaFont *font);
/** Frees the cached fonts no one holds any more (tests call it before leak checks). */
void ova_font_cache_clear (void);
/** The path of the font file used (fontconfig's match for "DejaVu Sans"). */
const gchar *ova_font_get_path (OvaFont *font);
gint ova_font_get_pixel_size (OvaFont *font);
/** Line height (ascender + descender) in pixels. */
gint ova_font_get_line_height (OvaFont *font);
/** Size of the box ova_draw_text() covers for @text (UTF-8) without background padding. */
void ova_font_measure (OvaFont *font, const gchar *text, gint *width, gint *height);

/**
 * ova_draw_text:
 * Draws UTF-8 @text with its top-left corner at (x, y). Latin-1 comes from
 * the atlas; other characters the font has (Greek, Cyrillic, ...) are rendered
 * once on first use and kept; characters it lacks are drawn as '?'. With @bg,
 * a background box padded by @pad pixels
 * is blended first. Returns: the drawn width in pixels (background included).
 */
gint ova_draw_text (OvaSurface *s, OvaFont *font, gint x, gint y, const gchar *text,
    const OvaPaint *fg, const OvaPaint *bg, gint pad);

/**
 * ova_draw_force_scalar:
 * Draws with the plain C reference instead of the SIMD paths, process-wide
 * (tests compare the two; OVA_DRAW_SCALAR=1 in the environment does the same).
 */
void ova_draw_force_scalar (gboolean scalar);

/* Scaler */

typedef enum {
  OVA_SCALER_AUTO = 0,   /* the fastest this CPU has */
  OVA_SCALER_SCALAR = 1, /* the plain C reference */
  OVA_SCALER_SIMD = 2,   /* SSE2 (x86-64), else the scalar path */
  OVA_SCALER_AVX2 = 3,   /* AVX2 vertical pass + SSE2 horizontal pass, when the CPU has AVX2 (else SSE2) */
} OvaScalerImpl;

typedef struct _OvaScaler OvaScaler;

/** TRUE when the scaler converts @src to @dst: the same format, NV12 <-> I420, or between packed RGB orders. */
gboolean ova_scaler_can_convert (OvaPixelFormat src, OvaPixelFormat dst);
/**
 * ova_scaler_new:
 * A scaler from @src_w × @src_h in @format to @dst_w × @dst_h in @dst_format.
 * Returns: (nullable): NULL when ova_scaler_can_convert() says no.
 */
OvaScaler *ova_scaler_new (OvaPixelFormat format, OvaPixelFormat dst_format, gint src_w, gint src_h,
    gint dst_w, gint dst_h, OvaScalerImpl impl);
void ova_scaler_free (OvaScaler *scaler);
/** Scales @src (its size must be the scaler's) into @dst (whose data may point inside a larger frame). */
void ova_scaler_run (OvaScaler *scaler, const OvaSurface *src, OvaSurface *dst);
/** TRUE when the scaler was built for these sizes and this format. */
gboolean ova_scaler_matches (const OvaScaler *scaler, OvaPixelFormat format, OvaPixelFormat dst_format,
    gint src_w, gint src_h, gint dst_w, gint dst_h);
/** The implementation actually used ("avx2", "sse2" or "scalar"). */
const gchar *ova_scaler_impl_name (const OvaScaler *scaler);

/** Fills the whole surface with @paint (opaque, alpha ignored): tiler background. */
void ova_surface_clear (OvaSurface *s, const OvaPaint *paint);
/** Copies the pixels of @src into @dst (same format; the smaller of the two sizes). */
void ova_surface_copy (OvaSurface *dst, const OvaSurface *src);
/** A sub-rectangle of @s as a surface of its own (x, y, w, h made even on 4:2:0). */
void ova_surface_sub (const OvaSurface *s, gint x, gint y, gint w, gint h, OvaSurface *out);

/* Recorded drawing: frames in GPU memory */

/**
 * OvaDrawList:
 *
 * A batch's drawing as a list of commands, for NV12 frames the CPU cannot
 * touch (CUDA device memory). ova_draw_list_surface() gives a recording
 * surface: every primitive above drawn on it (boxes, fills, lines, arrows,
 * circles, masks, text) runs its geometry on the CPU as usual and records the
 * pixel operations it would do; ova_draw_list_execute_cuda() uploads the
 * commands of all frames at once and applies them with one kernel launch. The
 * result is byte for byte what the CPU primitives give on the same frame.
 * Text is recorded as glyph references into the font's atlas, uploaded once
 * per font. Recording on different frames from different threads is safe;
 * frames recorded with the same luma pointer are drawn in recording order.
 */
typedef struct _OvaDrawList OvaDrawList;

OvaDrawList *ova_draw_list_new (void);
/** Frees the list (with its CUDA buffers: call it in the CUDA context it executed in). */
void ova_draw_list_free (OvaDrawList *list);
/** Starts a new batch of @n_frames frames (forgets the previous batch's commands). */
void ova_draw_list_begin (OvaDrawList *list, guint n_frames);
/**
 * ova_draw_list_surface:
 * Makes @out a recording surface for frame @index (< n_frames of the batch):
 * NV12, @width x @height, colorimetry from @bt709 and @full_range, planes at
 * @y and @uv (device pointers, not touched on the CPU) with their pitches.
 */
void ova_draw_list_surface (OvaDrawList *list, guint index, gint width, gint height, gboolean bt709,
    gboolean full_range, gpointer y, gint y_pitch, gpointer uv, gint uv_pitch, OvaSurface *out);
/** Number of commands recorded for frame @index (0: nothing to draw). */
guint ova_draw_list_n_commands (OvaDrawList *list, guint index);
/**
 * ova_draw_list_replay:
 * Applies frame @index's commands on the CPU to @target (NV12 in system
 * memory, the recorded size): the per-sample code of the GPU kernel, run on
 * the host. Tests compare it with the primitives drawn directly.
 */
void ova_draw_list_replay (OvaDrawList *list, guint index, OvaSurface *target);
/** TRUE when this build of libova has the CUDA drawer. */
gboolean ova_draw_cuda_available (void);
/**
 * ova_draw_list_execute_cuda:
 * Uploads the batch's commands (pinned memory, asynchronously) and the atlases
 * of fonts not uploaded yet, and draws every recorded frame in place, all on
 * @stream (a cudaStream_t; NULL: the legacy default stream) in the CUDA
 * context current on this thread. The caller synchronises @stream before the
 * frames are used elsewhere. Returns: FALSE with @error on a CUDA failure, or
 * when libova was built without CUDA.
 */
gboolean ova_draw_list_execute_cuda (OvaDrawList *list, gpointer stream, GError **error);

G_END_DECLS

#endif /* OVA_DRAW_H */
