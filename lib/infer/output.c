/* ova — one frame's detections on disk: deepstream-app KITTI lines and ova's
 * JSON lines. SPDX-License-Identifier: MIT */
#include <ova/infer.h>
#include <stdio.h>
#include <math.h>
#include <string.h>

gchar *
ova_infer_kitti_path (const gchar *dir, guint app_index, const OvaFrameMeta *frame)
{
  /* deepstream-app: "%s/%02u_%03u_%06lu.txt" (app index, stream id, frame number) */
  gchar name[64];
  g_snprintf (name, sizeof (name), "%02u_%03u_%06lu.txt", app_index, frame->source_id,
              (gulong) frame->frame_num);
  return g_build_filename (dir, name, NULL);
}

void
ova_infer_frame_to_kitti (const OvaFrameMeta *frame, GString *out)
{
  for (guint i = 0; frame->objects && i < frame->objects->len; i++) {
    const OvaObjectMeta *o = g_ptr_array_index (frame->objects, i);
    /* KITTI: type truncated occluded alpha left top right bottom h w l x y z
     * rotation_y score; deepstream-app fills the 3-D fields with zeros. */
    g_string_append_printf (out, "%s 0.0 0 0.0 %f %f %f %f 0.0 0.0 0.0 0.0 0.0 0.0 0.0 %f\n",
                            o->label[0] ? o->label : "unknown", o->rect.left, o->rect.top,
                            o->rect.left + o->rect.width, o->rect.top + o->rect.height,
                            o->confidence);
  }
}

gboolean
ova_infer_write_kitti (const gchar *dir, guint app_index, const OvaFrameMeta *frame, GError **error)
{
  g_autofree gchar *path = ova_infer_kitti_path (dir, app_index, frame);
  GString *s = g_string_new (NULL);
  ova_infer_frame_to_kitti (frame, s);
  gboolean ok = g_file_set_contents (path, s->str, s->len, error);
  g_string_free (s, TRUE);
  return ok;
}

/* Shortest decimal with at most @digits decimals and at least one ("20.0"). */
static void
append_num (GString *out, gdouble v, int digits)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
  gchar fmt[8];
  if (!isfinite (v))
    v = 0;
  g_snprintf (fmt, sizeof (fmt), "%%.%df", digits);
  g_ascii_formatd (buf, sizeof (buf), fmt, v);
  gchar *dot = strchr (buf, '.');
  if (dot) {
    gchar *end = buf + strlen (buf) - 1;
    while (end > dot + 1 && *end == '0')
      *end-- = '\0';
  }
  if (!strcmp (buf, "-0.0"))
    strcpy (buf, "0.0");
  g_string_append (out, buf);
}

static void
append_json_string (GString *out, const gchar *s)
{
  g_string_append_c (out, '"');
  for (const guchar *p = (const guchar *) s; *p; p++) {
    switch (*p) {
      case '"': g_string_append (out, "\\\""); break;
      case '\\': g_string_append (out, "\\\\"); break;
      case '\n': g_string_append (out, "\\n"); break;
      case '\r': g_string_append (out, "\\r"); break;
      case '\t': g_string_append (out, "\\t"); break;
      default:
        if (*p < 0x20)
          g_string_append_printf (out, "\\u%04x", *p);
        else
          g_string_append_c (out, *p);
    }
  }
  g_string_append_c (out, '"');
}

void
ova_infer_frame_to_json (const OvaFrameMeta *frame, GString *out)
{
  g_string_append_printf (out, "{\"source_id\":%u,\"frame\":%" G_GUINT64_FORMAT ",\"pts\":", frame->source_id,
                          frame->frame_num);
  if (GST_CLOCK_TIME_IS_VALID (frame->buf_pts))
    g_string_append_printf (out, "%" G_GUINT64_FORMAT, (guint64) frame->buf_pts);
  else
    g_string_append (out, "-1");
  g_string_append_printf (out, ",\"width\":%u,\"height\":%u,\"objects\":[", frame->source_width,
                          frame->source_height);
  for (guint i = 0; frame->objects && i < frame->objects->len; i++) {
    const OvaObjectMeta *o = g_ptr_array_index (frame->objects, i);
    if (i)
      g_string_append_c (out, ',');
    g_string_append_printf (out, "{\"class_id\":%d,\"label\":", o->class_id);
    append_json_string (out, o->label);
    g_string_append (out, ",\"confidence\":");
    append_num (out, o->confidence, 4);
    g_string_append (out, ",\"left\":");
    append_num (out, o->rect.left, 2);
    g_string_append (out, ",\"top\":");
    append_num (out, o->rect.top, 2);
    g_string_append (out, ",\"width\":");
    append_num (out, o->rect.width, 2);
    g_string_append (out, ",\"height\":");
    append_num (out, o->rect.height, 2);
    g_string_append_printf (out, ",\"tracker_id\":%" G_GINT64_FORMAT "}", o->tracker_id);
  }
  g_string_append (out, "]}\n");
}
