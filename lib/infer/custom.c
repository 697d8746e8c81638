/* ova — custom output parsers from shared libraries (custom-lib-path +
 * parse-bbox-func-name). SPDX-License-Identifier: MIT */
#include "infer-private.h"
#include <gmodule.h>

struct _OvaCustomParser {
  GModule *module;
  OvaInferParseBboxFunc func;
  gchar *name;
};

OvaCustomParser *
ova_custom_parser_open (const gchar *lib_path, const gchar *func_name, GError **error)
{
  GModule *m = g_module_open (lib_path, G_MODULE_BIND_LOCAL | G_MODULE_BIND_LAZY);
  if (!m) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_PARSER, "custom-lib-path %s: %s", lib_path,
                 g_module_error ());
    return NULL;
  }
  gpointer ver = NULL, fn = NULL;
  if (!g_module_symbol (m, "ova_infer_parser_abi_version", &ver) || !ver) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_PARSER,
                 "custom-lib-path %s: not an ova parser library (no ova_infer_parser_abi_version; "
                 "add OVA_INFER_PARSER_LIBRARY to it)", lib_path);
    g_module_close (m);
    return NULL;
  }
  int v = ((int (*) (void)) ver) ();
  if (v != OVA_INFER_PARSER_ABI_VERSION) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_PARSER,
                 "custom-lib-path %s: built for parser ABI %d, this ova has ABI %d", lib_path, v,
                 OVA_INFER_PARSER_ABI_VERSION);
    g_module_close (m);
    return NULL;
  }
  if (!g_module_symbol (m, func_name, &fn) || !fn) {
    g_set_error (error, OVA_INFER_ERROR, OVA_INFER_ERROR_PARSER,
                 "custom-lib-path %s: no function '%s' (parse-bbox-func-name)", lib_path, func_name);
    g_module_close (m);
    return NULL;
  }
  /* parser libraries stay loaded, as GStreamer keeps plugins: unloading
   * one that registered anything with GLib would leave dangling pointers */
  g_module_make_resident (m);
  OvaCustomParser *p = g_new0 (OvaCustomParser, 1);
  p->module = m;
  p->func = (OvaInferParseBboxFunc) fn;
  p->name = g_strdup (func_name);
  return p;
}

gboolean
ova_custom_parser_run (OvaCustomParser *p, const OvaInferLayer *layers, guint n,
                       const OvaInferNetworkInfo *net, const OvaInferParseParams *params,
                       OvaInferObjectList *out)
{
  return p->func (layers, n, net, params, out) != 0;
}

void
ova_custom_parser_free (OvaCustomParser *p)
{
  if (!p)
    return;
  g_module_close (p->module);
  g_free (p->name);
  g_free (p);
}
