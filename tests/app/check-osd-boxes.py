#!/usr/bin/env python3
"""Checks that the boxes ovaosd drew into a recorded video are where the
detections say. Usage: check-osd-boxes.py FRAMES.rgb WIDTH HEIGHT DETECTIONS.jsonl CLASS RRGGBB BORDER

FRAMES.rgb: the decoded video, packed RGB. For every detection of CLASS at
least 24 px wide and high, the middle of each of its four border bands must
have the border colour; as a control, the same samples 10 px outside the box
must mostly not (else the colour is just everywhere)."""
import json
import sys

import numpy as np


def main():
    frames_path, w, h, jsonl, cls, colour, border = sys.argv[1:8]
    w, h, cls, border = int(w), int(h), int(cls), int(border)
    want = np.array([int(colour[i:i + 2], 16) for i in (0, 2, 4)], dtype=np.int32)
    video = np.fromfile(frames_path, dtype=np.uint8)
    n_frames = video.size // (w * h * 3)
    video = video[: n_frames * w * h * 3].reshape(n_frames, h, w, 3).astype(np.int32)
    lines = [json.loads(l) for l in open(jsonl) if l.strip()]
    if len(lines) != n_frames:
        print(f"FAIL: {len(lines)} frames of detections but {n_frames} frames in the video")
        return 1

    def is_colour(px):
        return np.abs(px - want).max(axis=-1) < 70

    checked = hits = control = 0
    for f, det in enumerate(lines):
        img = video[f]
        for o in det["objects"]:
            if o["class_id"] != cls or o["width"] < 24 or o["height"] < 24:
                continue
            x0, y0 = int(round(o["left"])), int(round(o["top"]))
            x1, y1 = int(round(o["left"] + o["width"])), int(round(o["top"] + o["height"]))
            if x0 < 12 or y0 < 12 or x1 > w - 12 or y1 > h - 12:
                continue  # clipped at the frame edge, or no room for the control
            m = border // 2
            ys = np.arange(y0 + (y1 - y0) // 4, y1 - (y1 - y0) // 4)
            xs = np.arange(x0 + (x1 - x0) // 4, x1 - (x1 - x0) // 4)
            bands = [img[ys, x0 + m], img[ys, x1 - 1 - m], img[y0 + m, xs], img[y1 - 1 - m, xs]]
            outside = [img[ys, x0 - 10], img[ys, x1 + 9], img[y0 - 10, xs], img[y1 + 9, xs]]
            for band, out in zip(bands, outside):
                checked += 1
                hits += is_colour(band).mean() > 0.8
                control += is_colour(out).mean() > 0.8
    print(f"{n_frames} frames, {checked} box edges checked: {hits} drawn in the border colour, "
          f"{control} control samples outside in that colour")
    if checked < 40:
        print("FAIL: too few boxes to check")
        return 1
    if hits < 0.9 * checked:
        print("FAIL: box borders are not where the detections say")
        return 1
    if control > 0.2 * checked:
        print("FAIL: the border colour is also outside the boxes: the check proves nothing")
        return 1
    return 0


sys.exit(main())
