/* ova — internal helpers shared by the metadata sources. SPDX-License-Identifier: MIT */
#ifndef OVA_META_PRIVATE_H
#define OVA_META_PRIVATE_H
#include <ova/meta.h>

/* Returned objects are cleared; arrays keep their capacity. */
OvaFrameMeta *ova_meta_pool_get_frame (OvaMetaPool *pool);
OvaObjectMeta *ova_meta_pool_get_object (OvaMetaPool *pool);
OvaClassifierMeta *ova_meta_pool_get_classifier (OvaMetaPool *pool);
OvaLabelInfo *ova_meta_pool_get_label (OvaMetaPool *pool);
OvaDisplayMeta *ova_meta_pool_get_display (OvaMetaPool *pool);
OvaUserMeta *ova_meta_pool_get_user (OvaMetaPool *pool);

/* Put back, recursively (a frame returns its objects, an object its classifiers...). */
void ova_meta_pool_put_frame (OvaMetaPool *pool, OvaFrameMeta *f);
void ova_meta_pool_put_object (OvaMetaPool *pool, OvaObjectMeta *o);
void ova_meta_pool_put_classifier (OvaMetaPool *pool, OvaClassifierMeta *c);
void ova_meta_pool_put_label (OvaMetaPool *pool, OvaLabelInfo *l);
void ova_meta_pool_put_display (OvaMetaPool *pool, OvaDisplayMeta *d);
void ova_meta_pool_put_user (OvaMetaPool *pool, OvaUserMeta *u);

OvaMetaPool *ova_meta_pool_default (void);
void ova_user_meta_clear (OvaUserMeta *um);
#endif
