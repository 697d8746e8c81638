#!/usr/bin/env python3
"""Parity of ovainfer's detections with ONNX Runtime on the sample video.

ova side: infer-parity-dump runs ovainfer (configs/yolox_nano.txt, ova's
engine, ova's preprocessing, YOLOX parser and NMS) on the first N frames and
writes the frames and ova's detections.

reference side (independent of ova's code): letterbox + bilinear resize in
numpy, ONNX Runtime (onnxruntime-node) for the raw output, YOLOX decode,
per-class NMS and the mapping back to source pixels written here.

Pass: per frame the same detections (class), boxes within 1 px, scores
within 1e-3. Detections whose score is within 2e-3 of the threshold are not
required on either side (an engine's rounding may put them either way).
Exit 77 when node / onnxruntime-node / the video or model is missing.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

SKIP = 77
N_FRAMES = int(os.environ.get('OVA_PARITY_FRAMES', '50'))
NET = 416
STRIDES = (8, 16, 32)
THRESH = 0.3
IOU = 0.45
TOPK = 100
PAD = 114.0


def find_ort():
    cands = [os.environ.get('OVA_ORT_NODE_PATH', ''),
             os.path.join(os.environ.get('OVA_SOURCE_DIR', '.'), '.cache', 'ort', 'node_modules')]
    for c in cands:
        if c and os.path.isdir(os.path.join(c, 'onnxruntime-node')):
            return c
    return None


def letterbox(bgrx, h, w):
    """BGRx frame -> 1x3x416x416 float (B,G,R planes), top-left letterbox, pad 114.
    Bilinear with half-pixel centres: src = (dst + 0.5) / scale - 0.5, clamped."""
    r = min(NET / w, NET / h)
    nw, nh = int(np.floor(w * r + 1e-4)), int(np.floor(h * r + 1e-4))
    sx, sy = nw / w, nh / h
    img = bgrx[:, :, :3].astype(np.float64)

    def axis(n_out, scale, n_in):
        s = (np.arange(n_out) + 0.5) / scale - 0.5
        s = np.clip(s, 0, n_in - 1)
        i0 = np.floor(s).astype(np.int64)
        i1 = np.minimum(i0 + 1, n_in - 1)
        return i0, i1, s - i0

    x0, x1, fx = axis(nw, sx, w)
    y0, y1, fy = axis(nh, sy, h)
    rows = img[y0] + fy[:, None, None] * (img[y1] - img[y0])
    out = rows[:, x0] + fx[None, :, None] * (rows[:, x1] - rows[:, x0])
    t = np.full((3, NET, NET), PAD, dtype=np.float64)
    t[:, :nh, :nw] = out.transpose(2, 0, 1)
    return t.astype(np.float32), sx, sy


def decode(out):
    """YOLOX 3549x85 -> boxes (x1,y1,x2,y2 network px), scores, classes."""
    grids, strides = [], []
    for s in STRIDES:
        g = NET // s
        yv, xv = np.meshgrid(np.arange(g), np.arange(g), indexing='ij')
        grids.append(np.stack([xv, yv], -1).reshape(-1, 2))
        strides.append(np.full((g * g, 1), s))
    grids = np.concatenate(grids).astype(np.float64)
    strides = np.concatenate(strides).astype(np.float64)
    o = out.astype(np.float64)
    xy = (o[:, :2] + grids) * strides
    wh = np.exp(o[:, 2:4]) * strides
    cls = o[:, 5:].argmax(1)
    score = o[:, 4] * o[np.arange(len(o)), 5 + cls]
    keep = score >= THRESH - 2e-3
    boxes = np.concatenate([xy - wh / 2, xy + wh / 2], 1)
    return boxes[keep], score[keep], cls[keep]


def iou(a, b):
    x1, y1 = np.maximum(a[0], b[:, 0]), np.maximum(a[1], b[:, 1])
    x2, y2 = np.minimum(a[2], b[:, 2]), np.minimum(a[3], b[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter
    return np.where(ua > 0, inter / np.where(ua > 0, ua, 1), 0)


def nms(boxes, scores, classes):
    keep = []
    for c in np.unique(classes):
        idx = np.where(classes == c)[0]
        idx = idx[np.argsort(-scores[idx], kind='stable')]
        kept = []
        while len(idx):
            i = idx[0]
            kept.append(i)
            if len(idx) == 1:
                break
            rest = idx[1:]
            idx = rest[iou(boxes[i], boxes[rest]) <= IOU]
        keep += kept[:TOPK]
    return keep


def reference(out, sx, sy, w, h):
    boxes, scores, classes = decode(out)
    dets = []
    for i in nms(boxes, scores, classes):
        x1, y1, x2, y2 = boxes[i]
        x1, x2 = np.clip([x1 / sx, x2 / sx], 0, w)
        y1, y2 = np.clip([y1 / sy, y2 / sy], 0, h)
        if x2 - x1 <= 0 or y2 - y1 <= 0:
            continue
        dets.append(dict(class_id=int(classes[i]), confidence=float(scores[i]),
                         left=x1, top=y1, width=x2 - x1, height=y2 - y1))
    return dets


def main():
    src = os.environ.get('OVA_SOURCE_DIR', '.')
    assets = os.path.join(src, '.cache', 'assets')
    video = os.path.join(assets, 'vtest.avi')
    model = os.path.join(assets, 'yolox_nano.onnx')
    dump = os.environ.get('OVA_PARITY_DUMP')
    mods = find_ort()
    node = shutil.which('node')
    for what, ok in (('sample video', os.path.exists(video)), ('YOLOX-Nano model', os.path.exists(model)),
                     ('node', node), ('onnxruntime-node (OVA_ORT_NODE_PATH)', mods),
                     ('infer-parity-dump', dump and os.path.exists(dump))):
        if not ok:
            print(f'SKIP: {what} not available')
            return SKIP
    tmp = tempfile.mkdtemp(prefix='ova-parity-')
    try:
        cfg = os.path.join(src, 'configs', 'yolox_nano.txt')
        r = subprocess.run([dump, video, cfg, str(N_FRAMES), tmp])
        if r.returncode == SKIP:
            return SKIP
        if r.returncode != 0:
            print(f'infer-parity-dump failed ({r.returncode})')
            return 1
        ova = [json.loads(line) for line in open(os.path.join(tmp, 'ova.jsonl'))]
        w, h = ova[0]['width'], ova[0]['height']
        frames = np.fromfile(os.path.join(tmp, 'frames.bgrx'), dtype=np.uint8).reshape(-1, h, w, 4)
        assert len(frames) == len(ova) == N_FRAMES, (len(frames), len(ova))
        inputs, scales = [], []
        for f in frames:
            t, sx, sy = letterbox(f, h, w)
            inputs.append(t)
            scales.append((sx, sy))
        np.stack(inputs).tofile(os.path.join(tmp, 'in.f32'))
        env = dict(os.environ, NODE_PATH=mods)
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'ort-run.js')
        r = subprocess.run([node, script, model, os.path.join(tmp, 'in.f32'), str(N_FRAMES), '3', str(NET),
                            str(NET), os.path.join(tmp, 'out.f32'), '1'], env=env)
        if r.returncode != 0:
            print('SKIP: ONNX Runtime did not run')
            return SKIP
        outs = np.fromfile(os.path.join(tmp, 'out.f32'), dtype=np.float32).reshape(N_FRAMES, -1, 85)

        bad, total, worst_px, worst_score = 0, 0, 0.0, 0.0
        for k in range(N_FRAMES):
            ref = reference(outs[k], *scales[k], w, h)
            got = ova[k]['objects']
            firm = lambda d: d['confidence'] >= THRESH + 2e-3
            used = set()
            for d in ref:
                cands = [(j, o) for j, o in enumerate(got) if o['class_id'] == d['class_id'] and j not in used]
                best, err = None, None
                for j, o in cands:
                    e = max(abs(o['left'] - d['left']), abs(o['top'] - d['top']),
                            abs(o['left'] + o['width'] - d['left'] - d['width']),
                            abs(o['top'] + o['height'] - d['top'] - d['height']))
                    if err is None or e < err:
                        best, err = j, e
                if best is None:
                    if firm(d):
                        print(f'frame {k}: ova misses {d}')
                        bad += 1
                    continue
                used.add(best)
                o = got[best]
                ds = abs(o['confidence'] - d['confidence'])
                total += 1
                worst_px, worst_score = max(worst_px, err), max(worst_score, ds)
                # ova's JSON rounds boxes to 0.01 px and scores to 1e-4
                if err > 1.0 + 0.01 or ds > 1e-3 + 1e-4:
                    print(f'frame {k}: class {d["class_id"]}: box off by {err:.3f} px, score by {ds:.5f}')
                    bad += 1
            for j, o in enumerate(got):
                if j not in used and firm(o):
                    print(f'frame {k}: ova has an extra detection {o}')
                    bad += 1
        print(f'{N_FRAMES} frames, {total} detections matched; worst box error {worst_px:.3f} px, '
              f'worst score error {worst_score:.5f}; {bad} problems')
        return 1 if bad else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
