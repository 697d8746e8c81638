/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 */
#ifndef OVA_ENGINE_NPY_H
#define OVA_ENGINE_NPY_H

#include <ova/engine.h>

G_BEGIN_DECLS

/* Loads a .npy file into a host tensor whose data the caller g_free()s. */
gboolean ova_npy_load (const char *path, OvaTensor *t, GError **error);
gboolean ova_npy_save (const char *path, const OvaTensor *t, GError **error);

G_END_DECLS

#endif
