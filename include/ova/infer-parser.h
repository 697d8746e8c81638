/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * The C ABI of custom output parsers (nvinfer's parse-bbox-func-name +
 * custom-lib-path).
 *
 * A custom parser is a function in a shared library:
 *
 *   #include <ova/infer-parser.h>
 *
 *   int my_parser (const OvaInferLayer *layers, unsigned n_layers,
 *                  const OvaInferNetworkInfo *net,
 *                  const OvaInferParseParams *params,
 *                  OvaInferObjectList *out)
 *   {
 *     ... read layers[i].data (host memory, one image: batch dimension 1) ...
 *     OvaInferObject o = { .left = x, .top = y, .width = w, .height = h,
 *                          .class_id = c, .confidence = s };
 *     if (!ova_infer_object_list_push (out, &o)) return 0;
 *     return 1;                       // non-zero: success
 *   }
 *   OVA_INFER_PARSER_CHECK (my_parser);  // once per parser function
 *   OVA_INFER_PARSER_LIBRARY;            // once per library
 *
 * selected by a config file with
 *
 *   [property]
 *   custom-lib-path=/path/to/libmyparser.so
 *   parse-bbox-func-name=my_parser
 *
 * Contract:
 *  - The parser is called once per image of a batch, from ovainfer's worker
 *    thread; several ovainfer elements may call it concurrently, so it must
 *    not keep mutable global state.
 *  - Boxes are in network-input pixels (0..net->width, 0..net->height);
 *    ovainfer maps them back through the letterbox/crop to source pixels,
 *    drops those below the class's pre-cluster-threshold, clusters them
 *    (cluster-mode, nms-iou-threshold, topk) and attaches them as object meta.
 *  - ova_infer_object_list_push() is the only way to grow the list; the list
 *    memory belongs to ovainfer.
 *  - A parser that returns 0 makes ovainfer post an element error.
 *  - OVA_INFER_PARSER_ABI_VERSION changes when any struct here changes;
 *    ovainfer refuses a library whose ova_infer_parser_abi_version() differs
 *    (OVA_INFER_PARSER_LIBRARY defines it).
 */
#ifndef OVA_INFER_PARSER_H
#define OVA_INFER_PARSER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OVA_INFER_PARSER_ABI_VERSION 1

/** One output tensor of the network for one image (batch dimension 1). */
typedef struct {
  const char *name;   /* output name in the ONNX graph */
  int dtype;          /* OvaDataType (include/ova/engine.h): 1 = float32 */
  int rank;           /* dims[0] is the batch dimension, always 1 here */
  int64_t dims[8];
  const void *data;   /* host memory, row-major */
} OvaInferLayer;

/** The network input. */
typedef struct {
  unsigned width, height, channels;
} OvaInferNetworkInfo;

/** The config's detection parameters, for parsers that filter early. */
typedef struct {
  unsigned num_classes;              /* num-detected-classes */
  const float *pre_cluster_thresholds; /* num_classes values */
  const char *const *labels;         /* (nullable) num_classes label strings */
} OvaInferParseParams;

/** A detection in network-input pixels. */
typedef struct {
  float left, top, width, height;
  int class_id;
  float confidence;
} OvaInferObject;

/** The growable output list (owned by ovainfer). */
typedef struct {
  OvaInferObject *objects;
  size_t n;
  size_t capacity;
} OvaInferObjectList;

/** Appends a copy of @obj; returns 0 when out of memory. */
int ova_infer_object_list_push (OvaInferObjectList *list, const OvaInferObject *obj);

typedef int (*OvaInferParseBboxFunc) (const OvaInferLayer *layers, unsigned n_layers,
                                      const OvaInferNetworkInfo *net,
                                      const OvaInferParseParams *params,
                                      OvaInferObjectList *out);

/* Checks a parser's prototype at compile time. */
#define OVA_INFER_PARSER_CHECK(func)                                               \
  static const OvaInferParseBboxFunc ova_infer_parser_check_##func                 \
      __attribute__ ((unused)) = func

/* Exports the ABI version the library was built against (once per library). */
#define OVA_INFER_PARSER_LIBRARY                                                   \
  int ova_infer_parser_abi_version (void);                                         \
  int ova_infer_parser_abi_version (void) { return OVA_INFER_PARSER_ABI_VERSION; } \
  extern int ova_infer_parser_abi_version_defined_once

#ifdef __cplusplus
}
#endif

#endif /* OVA_INFER_PARSER_H */
