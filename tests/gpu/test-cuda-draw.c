/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * The CUDA drawer and the CUDA tile scaler against the CPU, byte by byte, on
 * a GPU (exit 77 without one, or with a libova built without CUDA):
 *
 *  1. random scenes (boxes of random border widths and alpha, fills, labels
 *     and text at random positions, clipped at the frame edges, odd
 *     coordinates, lines, arrows, circles) drawn by the CPU primitives on a
 *     host NV12 frame and recorded + drawn by the kernel on a pitched copy
 *     in device memory, several frames of different sizes per launch, two
 *     recorded frames sharing one memory; the bytes right of each row (the
 *     pitch padding) must stay untouched;
 *  2. ova_cuda_scale_nv12 against ova_scaler_run (the CPU tiler's scaler) on
 *     random sizes up and down, into sub-rectangles of a larger frame.
 *
 * Usage: test-cuda-draw [--seed N] [--rounds N]
 */
#include <ova/draw.h>
#include <ova/cuda-draw.h>
#include "../draw/draw-scene.h"

#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda-check.h"

/* A frame in device memory: luma and chroma in one pitched allocation. */
typedef struct {
  guint8 *dev;
  gsize pitch;
  gint w, h;
} DevFrame;

static void
dev_frame_upload (DevFrame *d, const SceneFrame *f)
{
  gint ch = (f->s.height + 1) / 2, rowbytes = MAX (f->s.width, 2 * ((f->s.width + 1) / 2));
  d->w = f->s.width;
  d->h = f->s.height;
  CK (cudaMallocPitch ((void **) &d->dev, &d->pitch, (gsize) rowbytes + 7, (gsize) (f->s.height + ch)));
  CK (cudaMemset2D (d->dev, d->pitch, 0xa5, d->pitch, (gsize) (f->s.height + ch)));
  CK (cudaMemcpy2D (d->dev, d->pitch, f->s.data[0], f->s.stride[0], f->s.width, f->s.height, cudaMemcpyHostToDevice));
  CK (cudaMemcpy2D (d->dev + d->pitch * f->s.height, d->pitch, f->s.data[1], f->s.stride[1], 2 * ((f->s.width + 1) / 2),
      ch, cudaMemcpyHostToDevice));
}

/* Downloads into @f (same size) and checks the padding right of each row. */
static gboolean
dev_frame_download (const DevFrame *d, SceneFrame *f)
{
  gint ch = (d->h + 1) / 2, cw2 = 2 * ((d->w + 1) / 2);
  gsize rows = (gsize) d->h + ch;
  guint8 *all = g_malloc (d->pitch * rows);
  gboolean ok = TRUE;
  CK (cudaMemcpy (all, d->dev, d->pitch * rows, cudaMemcpyDeviceToHost));
  for (gint y = 0; y < d->h; y++) {
    memcpy (f->s.data[0] + (gsize) y * f->s.stride[0], all + (gsize) y * d->pitch, d->w);
    for (gsize x = d->w; x < d->pitch && ok; x++)
      if (all[(gsize) y * d->pitch + x] != 0xa5) {
        fprintf (stderr, "luma row %d: padding byte %zu written\n", y, x);
        ok = FALSE;
      }
  }
  for (gint y = 0; y < ch; y++) {
    const guint8 *row = all + (gsize) (d->h + y) * d->pitch;
    memcpy (f->s.data[1] + (gsize) y * f->s.stride[1], row, cw2);
    for (gsize x = cw2; x < d->pitch && ok; x++)
      if (row[x] != 0xa5) {
        fprintf (stderr, "chroma row %d: padding byte %zu written\n", y, x);
        ok = FALSE;
      }
  }
  g_free (all);
  return ok;
}

static OvaFont *fonts[3];

/* One launch over @n frames of random sizes; frame n-1 records on frame 0's memory when @shared. */
static gboolean
draw_round (GRand *r, OvaDrawList *list, cudaStream_t stream, guint n, gboolean shared, guint *checked)
{
  SceneFrame cpu[8], gpu[8];
  DevFrame dev[8];
  guint32 seeds[8];
  OvaSurface rec;
  GError *err = NULL;
  gboolean ok = TRUE;
  guint n_mem = shared ? n - 1 : n;
  ova_draw_list_begin (list, n);
  for (guint i = 0; i < n_mem; i++) {
    gint w = g_rand_boolean (r) ? g_rand_int_range (r, 1, 700) : 1920, h = w == 1920 ? 1080 : g_rand_int_range (r, 1, 500);
    seeds[i] = g_rand_int (r);
    scene_frame_new (&cpu[i], w, h, seeds[i]);
    scene_frame_new (&gpu[i], w, h, seeds[i]);
    dev_frame_upload (&dev[i], &cpu[i]);
  }
  for (guint i = 0; i < n; i++) {
    guint m = i < n_mem ? i : 0;
    guint32 seed = i < n_mem ? seeds[i] : seeds[0] + 1;
    guint n_prims = g_rand_int_range (r, 1, 200);
    /* the CPU reference: the primitives on the host frame, in the same order */
    scene_draw (&cpu[m].s, seed, n_prims, fonts, G_N_ELEMENTS (fonts));
    ova_draw_list_surface (list, i, dev[m].w, dev[m].h, cpu[m].s.bt709, cpu[m].s.full_range, dev[m].dev,
        (gint) dev[m].pitch, dev[m].dev + dev[m].pitch * dev[m].h, (gint) dev[m].pitch, &rec);
    scene_draw (&rec, seed, n_prims, fonts, G_N_ELEMENTS (fonts));
  }
  if (!ova_draw_list_execute_cuda (list, stream, &err)) {
    fprintf (stderr, "execute: %s\n", err->message);
    exit (1);
  }
  CK (cudaStreamSynchronize (stream));
  for (guint i = 0; i < n_mem; i++) {
    gint plane, x, y;
    ok &= dev_frame_download (&dev[i], &gpu[i]);
    if (scene_compare (&cpu[i], &gpu[i], &plane, &x, &y) >= 0) {
      guint8 a = plane ? cpu[i].s.data[1][(gsize) y * cpu[i].s.stride[1] + x] : cpu[i].s.data[0][(gsize) y * cpu[i].s.stride[0] + x];
      guint8 b = plane ? gpu[i].s.data[1][(gsize) y * gpu[i].s.stride[1] + x] : gpu[i].s.data[0][(gsize) y * gpu[i].s.stride[0] + x];
      fprintf (stderr, "frame %u (%dx%d, seed %u): plane %d (%d, %d): CPU %u, GPU %u\n", i, dev[i].w, dev[i].h, seeds[i],
          plane, x, y, a, b);
      ok = FALSE;
    }
    (*checked)++;
    CK (cudaFree (dev[i].dev));
    scene_frame_free (&cpu[i]);
    scene_frame_free (&gpu[i]);
  }
  return ok;
}

/* ------------------------------------------------------------------ scaler */

static gboolean
scale_round (GRand *r, cudaStream_t stream)
{
  gint sw = g_rand_int_range (r, 1, 2000), sh = g_rand_int_range (r, 1, 1200);
  gint dw = g_rand_int_range (r, 1, 1000), dh = g_rand_int_range (r, 1, 800);
  gint ow = dw + 2 * g_rand_int_range (r, 0, 40), oh = dh + 2 * g_rand_int_range (r, 0, 40);
  gint ox = g_rand_int_range (r, 0, (ow - dw) / 2 + 1) * 2, oy = g_rand_int_range (r, 0, (oh - dh) / 2 + 1) * 2;
  SceneFrame src, cpu, gpu;
  DevFrame dsrc, dout;
  OvaSurface sub;
  OvaCudaScaleJob job;
  GError *err = NULL;
  gint plane, x, y;
  gboolean ok = TRUE;
  OvaScaler *sc = ova_scaler_new (OVA_PIXEL_NV12, OVA_PIXEL_NV12, sw, sh, dw, dh, OVA_SCALER_SCALAR);
  OvaCudaScaler *gs = ova_cuda_scaler_new (sc, &err);
  if (!gs) {
    fprintf (stderr, "ova_cuda_scaler_new: %s\n", err->message);
    exit (1);
  }
  scene_frame_new (&src, sw, sh, g_rand_int (r));
  scene_frame_new (&cpu, ow, oh, 5);
  scene_frame_new (&gpu, ow, oh, 5);
  dev_frame_upload (&dsrc, &src);
  dev_frame_upload (&dout, &cpu);
  ova_surface_sub (&cpu.s, ox, oy, dw, dh, &sub);
  ova_scaler_run (sc, &src.s, &sub);
  memset (&job, 0, sizeof (job));
  job.src_y = dsrc.dev;
  job.src_uv = dsrc.dev + dsrc.pitch * sh;
  job.src_y_pitch = job.src_uv_pitch = (gint) dsrc.pitch;
  job.dst_y = dout.dev + (gsize) oy * dout.pitch + ox;
  job.dst_uv = dout.dev + dout.pitch * oh + (gsize) (oy / 2) * dout.pitch + ox;
  job.dst_y_pitch = job.dst_uv_pitch = (gint) dout.pitch;
  job.scaler = gs;
  if (!ova_cuda_scale_nv12 (&job, 1, stream, &err)) {
    fprintf (stderr, "ova_cuda_scale_nv12: %s\n", err->message);
    exit (1);
  }
  CK (cudaStreamSynchronize (stream));
  ok &= dev_frame_download (&dout, &gpu);
  if (scene_compare (&cpu, &gpu, &plane, &x, &y) >= 0) {
    fprintf (stderr, "scale %dx%d -> %dx%d at (%d, %d) in %dx%d: plane %d (%d, %d) differs\n", sw, sh, dw, dh, ox, oy,
        ow, oh, plane, x, y);
    ok = FALSE;
  }
  ova_cuda_scaler_free (gs);
  ova_scaler_free (sc);
  CK (cudaFree (dsrc.dev));
  CK (cudaFree (dout.dev));
  scene_frame_free (&src);
  scene_frame_free (&cpu);
  scene_frame_free (&gpu);
  return ok;
}

int
main (int argc, char **argv)
{
  guint32 seed = 20261205;
  gint rounds = 40, n_dev = 0, failed = 0;
  guint checked = 0;
  GError *err = NULL;
  cudaStream_t stream;
  for (gint i = 1; i < argc; i++) {
    if (!strcmp (argv[i], "--seed") && i + 1 < argc)
      seed = (guint32) strtoul (argv[++i], NULL, 10);
    else if (!strcmp (argv[i], "--rounds") && i + 1 < argc)
      rounds = atoi (argv[++i]);
  }
  if (!ova_draw_cuda_available ()) {
    printf ("SKIP: libova built without CUDA\n");
    return 77;
  }
  if (cudaGetDeviceCount (&n_dev) != cudaSuccess || n_dev == 0) {
    printf ("SKIP: no CUDA device\n");
    return 77;
  }
  for (guint i = 0; i < G_N_ELEMENTS (fonts); i++) {
    fonts[i] = ova_font_get ((gint[]) { 12, 20, 33 }[i], &err);
    if (!fonts[i]) {
      fprintf (stderr, "font: %s\n", err->message);
      return 1;
    }
  }
  CK (cudaStreamCreateWithFlags (&stream, cudaStreamNonBlocking));
  GRand *r = g_rand_new_with_seed (seed);
  OvaDrawList *list = ova_draw_list_new ();
  for (gint i = 0; i < rounds; i++) {
    guint n = (guint) g_rand_int_range (r, 1, 9);
    if (!draw_round (r, list, stream, n, n >= 2 && g_rand_boolean (r), &checked))
      failed++;
  }
  printf ("draw: %u frames, %d rounds with differences (seed %u)\n", checked, failed, seed);
  gint scale_failed = 0;
  for (gint i = 0; i < rounds; i++)
    if (!scale_round (r, stream))
      scale_failed++;
  printf ("scale: %d sizes, %d with differences\n", rounds, scale_failed);
  ova_draw_list_free (list);
  g_rand_free (r);
  CK (cudaStreamDestroy (stream));
  for (guint i = 0; i < G_N_ELEMENTS (fonts); i++)
    ova_font_unref (fonts[i]);
  if (failed || scale_failed) {
    printf ("FAIL\n");
    return 1;
  }
  printf ("PASS\n");
  return 0;
}
