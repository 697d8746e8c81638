/* ova — user meta: typed payloads with copy and free functions. SPDX-License-Identifier: MIT */
#include "meta-private.h"
#include <string.h>

GQuark ova_user_meta_type_embedding (void) { return g_quark_from_static_string ("ova.embedding"); }
GQuark ova_user_meta_type_tensor (void) { return g_quark_from_static_string ("ova.tensor"); }
GQuark ova_user_meta_type_mask (void) { return g_quark_from_static_string ("ova.mask"); }
GQuark ova_user_meta_type_register (const gchar *name) { return g_quark_from_string (name); }

static void
free_payload (gpointer p, gpointer ud)
{
  g_free (p);
}

void
ova_user_meta_clear (OvaUserMeta *um)
{
  if (um->payload && um->free_func)
    um->free_func (um->payload, um->user_data);
  memset (um, 0, sizeof (*um));
}

static gpointer
embedding_copy (gconstpointer p, gpointer ud)
{
  const OvaEmbedding *e = p;
  OvaEmbedding *n = g_malloc (sizeof (OvaEmbedding) + e->dim * sizeof (gfloat));
  n->dim = e->dim;
  n->data = (gfloat *) (n + 1);
  memcpy (n->data, e->data, e->dim * sizeof (gfloat));
  return n;
}

void
ova_user_meta_set_embedding (OvaUserMeta *um, const gfloat *data, guint dim)
{
  OvaEmbedding tmp = { dim, (gfloat *) data };
  ova_user_meta_clear (um);
  um->type = OVA_USER_META_EMBEDDING;
  um->payload = embedding_copy (&tmp, NULL);
  um->copy_func = embedding_copy;
  um->free_func = free_payload;
}

const OvaEmbedding *
ova_user_meta_get_embedding (const OvaUserMeta *um)
{
  return um && um->type == OVA_USER_META_EMBEDDING ? um->payload : NULL;
}

static gpointer
tensor_copy (gconstpointer p, gpointer ud)
{
  const OvaTensorMeta *t = p;
  OvaTensorMeta *n = g_malloc (sizeof (OvaTensorMeta) + t->size);
  *n = *t;
  n->data = (guint8 *) (n + 1);
  memcpy (n->data, t->data, t->size);
  return n;
}

void
ova_user_meta_set_tensor (OvaUserMeta *um, const OvaTensorMeta *desc, gconstpointer data)
{
  OvaTensorMeta tmp = *desc;
  tmp.data = (gpointer) data;
  ova_user_meta_clear (um);
  um->type = OVA_USER_META_TENSOR;
  um->payload = tensor_copy (&tmp, NULL);
  um->copy_func = tensor_copy;
  um->free_func = free_payload;
}
