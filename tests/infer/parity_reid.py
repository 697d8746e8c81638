#!/usr/bin/env python3
"""Parity of ovainfer's secondary embeddings (configs/osnet_reid.txt on the
persons configs/yolox_nano.txt finds) with ONNX Runtime.

Reference (independent of ova's code): each person box is cropped from the
decoded frame and stretched to 128x256 in numpy (bilinear, half-pixel
centres), RGB, (x/255 - mean)/std, run by ONNX Runtime, L2-normalised.
Pass: every embedding's cosine similarity with the reference >= 0.999.
Exit 77 when node / onnxruntime-node / the models are missing.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

from parity import find_ort, SKIP

N_FRAMES = int(os.environ.get('OVA_PARITY_REID_FRAMES', '8'))
MEAN = np.array([0.485, 0.456, 0.406])
STD = np.array([0.229, 0.224, 0.225])
W, H = 128, 256


def crop_resize(rgb, box):
    """Crop (float box, clamped as ova documents) and stretch to W x H."""
    fh, fw = rgb.shape[:2]
    l = min(max(box[0], 0), fw - 1)
    t = min(max(box[1], 0), fh - 1)
    r = min(max(box[0] + box[2], l + 1), fw)
    b = min(max(box[1] + box[3], t + 1), fh)
    cw, ch = r - l, b - t

    def axis(n_out, origin, extent, n_in):
        s = origin + (np.arange(n_out) + 0.5) * extent / n_out - 0.5
        s = np.clip(s, 0, n_in - 1)
        i0 = np.floor(s).astype(np.int64)
        return i0, np.minimum(i0 + 1, n_in - 1), s - i0

    x0, x1, fx = axis(W, l, cw, fw)
    y0, y1, fy = axis(H, t, ch, fh)
    img = rgb.astype(np.float64)
    rows = img[y0] + fy[:, None, None] * (img[y1] - img[y0])
    return rows[:, x0] + fx[None, :, None] * (rows[:, x1] - rows[:, x0])


def main():
    src = os.environ.get('OVA_SOURCE_DIR', '.')
    assets = os.path.join(src, '.cache', 'assets')
    video = os.path.join(assets, 'vtest.avi')
    model = os.path.join(assets, 'osnet_x0_25_msmt17.onnx')
    dump = os.environ.get('OVA_PARITY_DUMP')
    mods, node = find_ort(), shutil.which('node')
    for what, ok in (('sample video', os.path.exists(video)), ('OSNet model', os.path.exists(model)),
                     ('YOLOX-Nano model', os.path.exists(os.path.join(assets, 'yolox_nano.onnx'))),
                     ('node', node), ('onnxruntime-node (OVA_ORT_NODE_PATH)', mods),
                     ('infer-parity-dump', dump and os.path.exists(dump))):
        if not ok:
            print(f'SKIP: {what} not available')
            return SKIP
    tmp = tempfile.mkdtemp(prefix='ova-reid-')
    try:
        cfgs = [os.path.join(src, 'configs', c) for c in ('yolox_nano.txt', 'osnet_reid.txt')]
        r = subprocess.run([dump, video, cfgs[0], str(N_FRAMES), tmp, cfgs[1]])
        if r.returncode != 0:
            return SKIP if r.returncode == SKIP else 1
        frames = np.fromfile(os.path.join(tmp, 'frames.bgrx'), dtype=np.uint8).reshape(N_FRAMES, 576, 768, 4)
        rows = [line.split() for line in open(os.path.join(tmp, 'embeddings.txt'))]
        if not rows:
            print('no embeddings from ova')
            return 1
        inputs = []
        for row in rows:
            k, box = int(row[0]), [float(v) for v in row[1:5]]
            rgb = frames[k][:, :, 2::-1]
            x = (crop_resize(rgb, box) / 255.0 - MEAN) / STD
            inputs.append(x.transpose(2, 0, 1).astype(np.float32))
        np.stack(inputs).tofile(os.path.join(tmp, 'in.f32'))
        env = dict(os.environ, NODE_PATH=mods)
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'ort-run.js')
        r = subprocess.run([node, script, model, os.path.join(tmp, 'in.f32'), str(len(inputs)), '3', str(H), str(W),
                            os.path.join(tmp, 'out.f32'), '1'], env=env)
        if r.returncode != 0:
            print('SKIP: ONNX Runtime did not run')
            return SKIP
        ref = np.fromfile(os.path.join(tmp, 'out.f32'), dtype=np.float32).reshape(len(inputs), -1).astype(np.float64)
        ref /= np.linalg.norm(ref, axis=1, keepdims=True)
        got = np.array([[float(v) for v in row[5:]] for row in rows])
        norms = np.linalg.norm(got, axis=1)
        cos = (got * ref).sum(1) / norms
        print(f'{len(rows)} person embeddings over {N_FRAMES} frames: dim {got.shape[1]}, '
              f'norm {norms.min():.6f}..{norms.max():.6f}, cosine to ONNX Runtime min {cos.min():.6f} '
              f'mean {cos.mean():.6f}')
        ok = got.shape[1] == 512 and np.all(np.abs(norms - 1) < 1e-4) and cos.min() >= 0.999
        return 0 if ok else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
