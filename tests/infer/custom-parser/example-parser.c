/* ova — example custom output parser (custom-lib-path + parse-bbox-func-name).
 * SPDX-License-Identifier: MIT
 *
 * Decodes a "centre-size" detector output, 1 x N x (4 + C): cx, cy, w, h in
 * network pixels followed by C class scores (already probabilities). Build:
 *
 *   cc -shared -fPIC -o libova-example-parser.so example-parser.c \
 *      $(pkg-config --cflags ova)
 */
#include <ova/infer-parser.h>

int ova_example_parse_cxcywh (const OvaInferLayer *layers, unsigned n_layers,
                              const OvaInferNetworkInfo *net, const OvaInferParseParams *params,
                              OvaInferObjectList *out);

int
ova_example_parse_cxcywh (const OvaInferLayer *layers, unsigned n_layers, const OvaInferNetworkInfo *net,
                          const OvaInferParseParams *params, OvaInferObjectList *out)
{
  if (n_layers < 1 || layers[0].dtype != 1 || layers[0].rank != 3)
    return 0;
  const float *d = layers[0].data;
  long n = (long) layers[0].dims[1], cols = (long) layers[0].dims[2];
  long C = cols - 4;
  if (C < 1 || (params->num_classes && (unsigned) C != params->num_classes))
    return 0;
  for (long i = 0; i < n; i++) {
    const float *row = d + i * cols;
    int best = 0;
    for (int c = 1; c < C; c++)
      if (row[4 + c] > row[4 + best])
        best = c;
    float score = row[4 + best];
    if (params->pre_cluster_thresholds && score < params->pre_cluster_thresholds[best])
      continue;
    OvaInferObject o = { row[0] - row[2] / 2, row[1] - row[3] / 2, row[2], row[3], best, score };
    if (!ova_infer_object_list_push (out, &o))
      return 0;
  }
  return 1;
}

/* A class heat map, 1 x C x GH x GW: every cell reaching the class's
 * threshold becomes a box covering the cell (network pixels). */
int ova_example_parse_heatmap (const OvaInferLayer *layers, unsigned n_layers,
                               const OvaInferNetworkInfo *net, const OvaInferParseParams *params,
                               OvaInferObjectList *out);

int
ova_example_parse_heatmap (const OvaInferLayer *layers, unsigned n_layers, const OvaInferNetworkInfo *net,
                           const OvaInferParseParams *params, OvaInferObjectList *out)
{
  if (n_layers < 1 || layers[0].dtype != 1 || layers[0].rank != 4)
    return 0;
  const float *d = layers[0].data;
  long C = (long) layers[0].dims[1], gh = (long) layers[0].dims[2], gw = (long) layers[0].dims[3];
  float cw = (float) net->width / gw, ch = (float) net->height / gh;
  for (long c = 0; c < C; c++)
    for (long y = 0; y < gh; y++)
      for (long x = 0; x < gw; x++) {
        float v = d[(c * gh + y) * gw + x];
        float t = params->pre_cluster_thresholds && (unsigned) c < params->num_classes
                      ? params->pre_cluster_thresholds[c] : 0.5f;
        if (v < t)
          continue;
        OvaInferObject o = { x * cw, y * ch, cw, ch, (int) c, v };
        if (!ova_infer_object_list_push (out, &o))
          return 0;
      }
  return 1;
}

OVA_INFER_PARSER_CHECK (ova_example_parse_cxcywh);
OVA_INFER_PARSER_CHECK (ova_example_parse_heatmap);
OVA_INFER_PARSER_LIBRARY;
