/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * ova_cuda_decode_detections (include/ova/cuda.h): the shape checks of the
 * built-in parsers (lib/infer/parse.c), then one kernel per call.
 */
#include <ova/cuda.h>
#include <ova/engine.h>

#include "decode-kernel.h"

#include <cuda_runtime.h>

G_STATIC_ASSERT (sizeof (OvaCudaCandidate) == sizeof (OvaCudaDecodeCandidate));

static guint
fail (GError **error, const gchar *fmt, ...) G_GNUC_PRINTF (2, 3);

static guint
fail (GError **error, const gchar *fmt, ...)
{
  va_list ap;
  va_start (ap, fmt);
  gchar *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error_literal (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_ARGUMENT, msg);
  g_free (msg);
  return 0;
}

/* The last two dims (rows x cols) when every dim between the batch and them is 1. */
static gboolean
trailing_2d (const gint64 *dims, gint rank, gint64 *rows, gint64 *cols)
{
  if (!dims || rank < 3 || rank > OVA_MAX_DIMS)
    return FALSE;
  for (gint i = 1; i < rank - 2; i++)
    if (dims[i] != 1)
      return FALSE;
  *rows = dims[rank - 2];
  *cols = dims[rank - 1];
  return *rows > 0 && *cols > 0;
}

guint
ova_cuda_decode_anchors (const OvaCudaDecodeParams *p, const gint64 *dims, gint rank, GError **error)
{
  gint64 rows, cols, classes, anchors;
  if (!p)
    return fail (error, "ova_cuda_decode_anchors: no parameters");
  if (!trailing_2d (dims, rank, &rows, &cols))
    return fail (error, "the output is not batch x [1 x ...] rows x cols");
  switch (p->parser) {
    case OVA_PARSER_YOLOX:
    case OVA_PARSER_YOLOV5:
      classes = cols - 5;
      anchors = rows;
      break;
    case OVA_PARSER_YOLOV8:
      classes = rows - 4;
      anchors = cols;
      break;
    default:
      return fail (error, "parser %d is not decoded on the GPU", p->parser);
  }
  if (classes < 1 || p->num_classes == 0 || classes != p->num_classes)
    return fail (error, "the output has %" G_GINT64_FORMAT " classes, num-detected-classes is %u", classes,
                 p->num_classes);
  if (p->parser == OVA_PARSER_YOLOX) {
    static const gint strides[3] = { 8, 16, 32 };
    gint64 expect = 0;
    for (int s = 0; s < 3; s++)
      expect += (gint64) (p->net.width / strides[s]) * (p->net.height / strides[s]);
    if (expect != rows)
      return fail (error, "yolox: %" G_GINT64_FORMAT " rows, expected %" G_GINT64_FORMAT " for a %ux%u input",
                   rows, expect, p->net.width, p->net.height);
  }
  if (anchors > G_MAXINT32 || rows * cols > G_MAXINT32)
    return fail (error, "the output is too large to decode on the GPU");
  return (guint) anchors;
}

gboolean
ova_cuda_decode_detections (const OvaCudaDecodeParams *p, const gfloat *output, const gint64 *dims, gint rank,
                            guint n_images, OvaCudaCandidate *candidates, guint capacity, guint *counts,
                            void *stream, GError **error)
{
  guint anchors = ova_cuda_decode_anchors (p, dims, rank, error);
  if (!anchors)
    return FALSE;
  if (!output || !candidates || !counts || !p->thresholds || n_images > 65535 ||
      (gint64) n_images > dims[0]) {
    fail (error, "ova_cuda_decode_detections: bad arguments (%u images of %" G_GINT64_FORMAT ")", n_images, dims[0]);
    return FALSE;
  }
  OvaCudaDecodeJob j = { 0 };
  gint64 rows = dims[rank - 2], cols = dims[rank - 1];
  j.layout = p->parser == OVA_PARSER_YOLOX    ? OVA_CUDA_DECODE_YOLOX
             : p->parser == OVA_PARSER_YOLOV8 ? OVA_CUDA_DECODE_YOLOV8
                                              : OVA_CUDA_DECODE_YOLOV5;
  j.output = output;
  j.image_floats = (unsigned long long) rows * cols;
  j.anchors = anchors;
  j.classes = p->num_classes;
  j.cols = cols;
  j.n_images = n_images;
  if (p->parser == OVA_PARSER_YOLOX) {
    j.grid_w8 = p->net.width / 8;
    j.grid_w16 = p->net.width / 16;
    j.grid_w32 = p->net.width / 32;
    j.end8 = j.grid_w8 * (p->net.height / 8);
    j.end16 = j.end8 + j.grid_w16 * (p->net.height / 16);
  }
  j.thresholds = p->thresholds;
  j.min_threshold = p->min_threshold;
  j.candidates = (OvaCudaDecodeCandidate *) candidates;
  j.capacity = capacity;
  j.counts = counts;
  int e = ova_cuda_decode_launch (&j, stream);
  if (e) {
    g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_BACKEND, "ova_cuda_decode_detections: %s",
                 cudaGetErrorString ((cudaError_t) e));
    return FALSE;
  }
  return TRUE;
}
