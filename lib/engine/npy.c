/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 *
 * NumPy .npy files (format 1.0/2.0/3.0, little-endian, C order) for the
 * ova-engine tool and tests.
 */
#include "npy.h"

#include <stdio.h>
#include <string.h>

static const struct {
  const char *descr;
  OvaDataType t;
} npy_types[] = {
  { "<f4", OVA_DTYPE_FLOAT32 }, { "|u1", OVA_DTYPE_UINT8 }, { "|i1", OVA_DTYPE_INT8 },
  { "<u2", OVA_DTYPE_UINT16 }, { "<i2", OVA_DTYPE_INT16 }, { "<i4", OVA_DTYPE_INT32 },
  { "<i8", OVA_DTYPE_INT64 }, { "|b1", OVA_DTYPE_BOOL }, { "<f2", OVA_DTYPE_FLOAT16 },
  { "<f8", OVA_DTYPE_FLOAT64 }, { "<u4", OVA_DTYPE_UINT32 }, { "<u8", OVA_DTYPE_UINT64 },
};

#define NPY_ERR(err, ...) g_set_error (err, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_PARSE, __VA_ARGS__)

gboolean
ova_npy_load (const char *path, OvaTensor *t, GError **error)
{
  gchar *buf;
  gsize len;
  GError *e = NULL;
  memset (t, 0, sizeof *t);
  if (!g_file_get_contents (path, &buf, &len, &e)) {
    g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_IO, "%s: %s", path, e->message);
    g_error_free (e);
    return FALSE;
  }
  if (len < 10 || memcmp (buf, "\x93NUMPY", 6)) {
    NPY_ERR (error, "%s: not a .npy file", path);
    g_free (buf);
    return FALSE;
  }
  int major = (unsigned char) buf[6];
  size_t hlen, hoff;
  if (major == 1) {
    hlen = (unsigned char) buf[8] | ((unsigned char) buf[9] << 8);
    hoff = 10;
  } else {
    if (len < 12) {
      NPY_ERR (error, "%s: truncated .npy header", path);
      g_free (buf);
      return FALSE;
    }
    hlen = (unsigned char) buf[8] | ((unsigned char) buf[9] << 8) | ((size_t) (unsigned char) buf[10] << 16) |
           ((size_t) (unsigned char) buf[11] << 24);
    hoff = 12;
  }
  if (hoff + hlen > len) {
    NPY_ERR (error, "%s: truncated .npy header", path);
    g_free (buf);
    return FALSE;
  }
  char *hdr = g_strndup (buf + hoff, hlen);
  const char *d = strstr (hdr, "'descr':"), *f = strstr (hdr, "'fortran_order':"), *s = strstr (hdr, "'shape':");
  gboolean ok = d && f && s;
  char descr[8] = "";
  if (ok)
    ok = sscanf (d + 8, " '%7[^']'", descr) == 1;
  if (ok && strstr (f, "True")) {
    NPY_ERR (error, "%s: Fortran-order arrays are not supported", path);
    goto fail;
  }
  t->dtype = OVA_DTYPE_UNDEFINED;
  for (guint i = 0; ok && i < G_N_ELEMENTS (npy_types); i++)
    if (!strcmp (descr, npy_types[i].descr) || (descr[0] == '=' && !strcmp (descr + 1, npy_types[i].descr + 1)))
      t->dtype = npy_types[i].t;
  if (!ok || t->dtype == OVA_DTYPE_UNDEFINED) {
    NPY_ERR (error, "%s: unsupported .npy header (dtype '%s')", path, descr);
    goto fail;
  }
  const char *p = strchr (s, '(');
  if (!p) {
    NPY_ERR (error, "%s: .npy header has no shape", path);
    goto fail;
  }
  p++;
  int64_t n = 1;
  while (*p && *p != ')') {
    while (*p == ' ' || *p == ',')
      p++;
    if (*p == ')')
      break;
    char *end;
    gint64 v = g_ascii_strtoll (p, &end, 10);
    if (end == p || v < 0 || t->rank >= OVA_MAX_DIMS || (v && n > G_MAXINT32 * 16ll / v)) {
      NPY_ERR (error, "%s: bad .npy shape", path);
      goto fail;
    }
    t->dims[t->rank++] = v;
    n *= v;
    p = end;
  }
  size_t bytes = n * ova_dtype_size (t->dtype);
  if (len - hoff - hlen < bytes) {
    NPY_ERR (error, "%s: holds %zu data bytes, shape needs %zu", path, len - hoff - hlen, bytes);
    goto fail;
  }
  t->data = g_malloc (bytes ? bytes : 1);
  memcpy (t->data, buf + hoff + hlen, bytes);
  t->device = OVA_DEVICE_CPU;
  g_free (hdr);
  g_free (buf);
  return TRUE;
fail:
  g_free (hdr);
  g_free (buf);
  return FALSE;
}

gboolean
ova_npy_save (const char *path, const OvaTensor *t, GError **error)
{
  const char *descr = NULL;
  for (guint i = 0; i < G_N_ELEMENTS (npy_types); i++)
    if (npy_types[i].t == t->dtype)
      descr = npy_types[i].descr;
  if (!descr) {
    g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_UNSUPPORTED, "%s: cannot write dtype %s", path,
                 ova_dtype_name (t->dtype));
    return FALSE;
  }
  GString *h = g_string_new (NULL);
  g_string_append_printf (h, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
  int64_t n = 1;
  for (int i = 0; i < t->rank; i++) {
    g_string_append_printf (h, "%" G_GINT64_FORMAT "%s", t->dims[i], t->rank == 1 || i < t->rank - 1 ? ", " : "");
    n *= t->dims[i];
  }
  g_string_append (h, "), }");
  while ((10 + h->len + 1) % 64)
    g_string_append_c (h, ' ');
  g_string_append_c (h, '\n');
  GString *out = g_string_new_len ("\x93NUMPY\x01\x00", 8);
  guint16 hl = h->len;
  g_string_append_c (out, hl & 0xff);
  g_string_append_c (out, hl >> 8);
  g_string_append_len (out, h->str, h->len);
  g_string_append_len (out, t->data, n * ova_dtype_size (t->dtype));
  GError *e = NULL;
  gboolean ok = g_file_set_contents (path, out->str, out->len, &e);
  if (!ok) {
    g_set_error (error, OVA_ENGINE_ERROR, OVA_ENGINE_ERROR_IO, "%s: %s", path, e->message);
    g_error_free (e);
  }
  g_string_free (h, TRUE);
  g_string_free (out, TRUE);
  return ok;
}
