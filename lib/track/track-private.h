/* ova — tracker internals shared with the tests. SPDX-License-Identifier: MIT */
#ifndef OVA_TRACK_PRIVATE_H
#define OVA_TRACK_PRIVATE_H

#include <glib.h>

G_BEGIN_DECLS

/* Dot product of two float vectors: 8 lanes at a time (GCC/Clang vector
 * extensions), the tail scalar. Checked against a plain loop in tests. */
gfloat _ova_track_dot (const gfloat *a, const gfloat *b, guint n);
/* The plain reference. */
gfloat _ova_track_dot_scalar (const gfloat *a, const gfloat *b, guint n);

G_END_DECLS

#endif
