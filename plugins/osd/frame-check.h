/* ova — osd plugin: sanity checks of a frame meta against its batch buffer. SPDX-License-Identifier: MIT */
#ifndef OVA_OSD_FRAME_CHECK_H
#define OVA_OSD_FRAME_CHECK_H
#include <ova/meta.h>

/* TRUE when the memories a frame meta names exist and hold at least the bytes
 * its video_info describes, so mapping it cannot read or write past them
 * (metadata from a buggy or hostile producer must not crash the pipeline). */
static inline gboolean
ova_osd_frame_fits (GstBuffer *batch, const OvaFrameMeta *f)
{
  return ova_frame_meta_pixels_valid (batch, f);
}
#endif
