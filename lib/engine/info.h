/* ova — Open Video Analytics
 * SPDX-License-Identifier: MIT
 */
#ifndef OVA_ENGINE_INFO_H
#define OVA_ENGINE_INFO_H

#include <ova/engine.h>

G_BEGIN_DECLS

/* Appends a human-readable description (I/O, operators, parameters, FLOPs). */
void ova_engine_describe (OvaEngine *e, GString *s);

G_END_DECLS

#endif
