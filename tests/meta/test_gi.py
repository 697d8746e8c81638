#!/usr/bin/env python3
# ova — the batch metadata read and written from Python through GObject
# introspection (Ova-0.1.typelib), on a real pipeline:
#
#   videotestsrc 320x240 ─┐
#                         ├─ ovamux ─ identity(probe: write) ─ fakesink(probe: read)
#   videotestsrc 160x120 ─┘
#
# The writer probe adds an object to every frame through GI; the reader probe,
# downstream, reads frames and objects back from the buffer. Exits 77 (skip)
# when PyGObject, GStreamer's typelib or Ova's typelib is missing.
# SPDX-License-Identifier: MIT
import sys

N_BUFFERS = 5
SIZES = {0: (320, 240), 1: (160, 120)}


def skip(why):
    print("SKIP: " + why)
    sys.exit(77)


try:
    import gi
except ImportError:
    skip("PyGObject (python3-gi) is not installed")
try:
    gi.require_version("Gst", "1.0")
    gi.require_version("Ova", "0.1")
    from gi.repository import Gst, Ova
except (ValueError, ImportError) as e:
    skip("typelib missing (%s): is GI_TYPELIB_PATH set to the build's lib/meta/gir?" % e)

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL: " + what, flush=True)


# ---------------------------------------------------------------- the probes
# (docs/python.md shows these two functions)

def on_batch_write(pad, info):
    """Adds one object to every frame of the batch."""
    buf = info.get_buffer()
    batch = Ova.buffer_get_batch_meta(buf)
    if batch is None:
        return Gst.PadProbeReturn.OK
    for i in range(batch.get_n_frames()):
        frame = batch.get_frame(i)  # a detached snapshot of the frame
        obj = Ova.ObjectMeta.new()
        obj.class_id = 2
        obj.set_label("car")
        obj.confidence = 0.9
        rect = Ova.Rect()
        rect.left, rect.top = 10.0 + frame.source_id, 20.0
        rect.width, rect.height = 30.0, 40.0
        obj.rect = rect  # embedded structs are assigned whole
        obj.tracker_id = 1000 + frame.source_id
        obj.track_state = Ova.TrackState.CONFIRMED
        obj.add_embedding([0.6, 0.8])
        cls = Ova.ClassifierMeta.new(7)
        cls.add_label_copy(3, "red", 0.75)
        obj.add_classifier_copy(cls)
        dm = Ova.DisplayMeta.new()
        white = Ova.Color()
        white.r = white.g = white.b = white.a = 1.0
        check(dm.add_text("source %d" % frame.source_id, 4.0, 4.0, 12.0, white, None), "add_text")
        box = Ova.DisplayRect()
        box.rect = rect
        box.border_width = 2.0
        box.border_color = white
        check(dm.add_rect(box), "add_rect")
        check(batch.add_display_copy(i, dm) is not None, "add_display_copy")
        added = batch.add_object_copy(i, obj)  # copies obj into the batch
        check(added is not None and added.object_id > 0, "added object has an id")
        # A snapshot is not the batch: write changes back by object id.
        added.set_label("truck")
        check(batch.get_frame(i).get_object(0).get_label() == "car", "snapshot edit stays local")
        check(batch.update_object(added), "update_object finds the object")
    return Gst.PadProbeReturn.OK


seen = []  # (source_id, frame_num, frame snapshot)


def on_batch_read(pad, info):
    """Reads the batch meta: frames, their sizes and objects."""
    buf = info.get_buffer()
    batch = Ova.buffer_get_batch_meta(buf)
    check(batch is not None, "batch meta on the buffer")
    if batch is None:
        return Gst.PadProbeReturn.OK
    for i in range(batch.get_n_frames()):
        frame = batch.get_frame(i)
        check(frame.batch_index == i, "batch_index")
        check((frame.source_width, frame.source_height) == SIZES.get(frame.source_id),
              "source %d size %dx%d" % (frame.source_id, frame.source_width, frame.source_height))
        check(frame.video_info.width == frame.source_width, "video_info width")
        check(frame.memory_type == Ova.MemoryType.SYSTEM, "system memory")
        check(frame.n_mems >= 1, "frame has pixels")
        check(frame.get_n_objects() == 1, "one object on the frame")
        for j in range(frame.get_n_objects()):
            obj = frame.get_object(j)
            check(obj.class_id == 2, "class_id")
            check(obj.get_label() == "truck", "label written back: %r" % obj.get_label())
            check(abs(obj.confidence - 0.9) < 1e-6, "confidence")
            r = obj.rect
            check((r.left, r.top, r.width, r.height) == (10.0 + frame.source_id, 20.0, 30.0, 40.0),
                  "rect %r" % ((r.left, r.top, r.width, r.height),))
            check(obj.tracker_id == 1000 + frame.source_id, "tracker_id")
            check(obj.track_state == Ova.TrackState.CONFIRMED, "track_state")
            um = obj.find_user_by_name("ova.embedding")
            emb = um.get_embedding_data() if um else []
            check(len(emb) == 2 and abs(emb[0] - 0.6) < 1e-6 and abs(emb[1] - 0.8) < 1e-6,
                  "embedding %r" % (emb,))
            check(obj.get_n_classifiers() == 1, "one classifier")
            lab = obj.get_classifier(0).get_label(0)
            check(obj.get_classifier(0).component_id == 7 and lab.class_id == 3
                  and lab.get_label() == "red" and abs(lab.probability - 0.75) < 1e-6,
                  "classifier label")
        check(frame.get_n_display_metas() == 1, "one display meta")
        dm = frame.get_display_meta(0)
        check(dm.n_texts == 1 and dm.get_text(0).get_text() == "source %d" % frame.source_id
              and dm.get_text(0).font_size == 12.0 and not dm.get_text(0).has_bg, "display text")
        check(dm.n_rects == 1 and dm.get_rect(0).rect.width == 30.0
              and dm.get_rect(0).border_color.a == 1.0, "display rect")
        # OVA_LATENCY=1 (set by main): ovamux stamped its entry.
        lat = frame.latency
        comps = [lat.get_entry(k).get_component() for k in range(lat.n_entries)]
        check(lat.source_ns > 0 and len(comps) >= 1, "latency record %r" % (comps,))
        seen.append((frame.source_id, frame.frame_num, frame))
    return Gst.PadProbeReturn.OK


def main():
    Ova.latency_set_enabled(True)
    Gst.init(None)
    if Gst.ElementFactory.find("ovamux") is None:
        print("FAIL: ovamux not found (GST_PLUGIN_PATH?)")
        return 1
    desc = " ".join(
        "videotestsrc num-buffers=%d ! video/x-raw,format=I420,width=%d,height=%d,framerate=30/1 ! mux.sink_%d"
        % (N_BUFFERS, w, h, sid) for sid, (w, h) in SIZES.items())
    pipeline = Gst.parse_launch(desc + " ovamux name=mux batch-size=2 ! identity name=writer ! fakesink name=sink")
    pipeline.get_by_name("writer").get_static_pad("src").add_probe(Gst.PadProbeType.BUFFER, on_batch_write)
    pipeline.get_by_name("sink").get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, on_batch_read)
    pipeline.set_state(Gst.State.PLAYING)
    msg = pipeline.get_bus().timed_pop_filtered(60 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    check(msg is not None and msg.type == Gst.MessageType.EOS,
          "EOS (got %s)" % (msg.parse_error() if msg and msg.type == Gst.MessageType.ERROR else msg))
    pipeline.set_state(Gst.State.NULL)
    del pipeline

    # Every frame of both sources went through, numbered from 0.
    for sid in SIZES:
        nums = sorted(n for s, n, _ in seen if s == sid)
        check(nums == list(range(N_BUFFERS)), "source %d frame numbers %r" % (sid, nums))
    # Snapshots stay valid after the buffers and the pipeline are gone.
    for sid, num, frame in seen:
        check(frame.source_id == sid and frame.frame_num == num
              and frame.get_object(0).get_label() == "truck", "snapshot outlives its buffer")

    print("%d frames read, %d failures" % (len(seen), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
