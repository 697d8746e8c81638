#!/usr/bin/env python3
# ova — Open Video Analytics. SPDX-License-Identifier: MIT
#
# Parity with ONNX Runtime (the oracle) on yolox_nano (batch 1 and, with the
# dynamic-batch model, 8) and osnet, on random inputs and on real frames of
# vtest.avi: `ova-engine check` requires max|diff| <= 1e-3 x output range for
# every output. ONNX Runtime comes from onnxruntime-node (OVA_ORT_NODE_PATH, or
# installed with npm into .cache/onnxruntime-node); exits 77 when it cannot be
# had, or when the assets or numpy are missing.
import os
import shutil
import subprocess
import sys
import tempfile

src = os.environ.get("OVA_SOURCE_DIR", os.path.dirname(os.path.abspath(__file__)) + "/../..")
build = os.environ.get("OVA_BUILD_DIR", src + "/build")
tool = os.path.join(build, "tools", "ova-engine")
assets = os.path.join(src, ".cache", "assets")


def skip(msg):
    print("SKIP:", msg)
    sys.exit(77)


try:
    import numpy as np
except ImportError:
    skip("python3-numpy missing")


def find_ort():
    cands = [os.environ.get("OVA_ORT_NODE_PATH", "")]
    cache = os.path.join(src, ".cache", "onnxruntime-node")
    cands.append(os.path.join(cache, "node_modules"))
    for c in cands:
        if c and os.path.isdir(os.path.join(c, "onnxruntime-node")):
            return c
    if not shutil.which("node") or not shutil.which("npm"):
        return None
    os.makedirs(cache, exist_ok=True)
    r = subprocess.run(["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", "--prefix", cache,
                        "onnxruntime-node"], capture_output=True, text=True, timeout=600)
    if r.returncode == 0 and os.path.isdir(os.path.join(cache, "node_modules", "onnxruntime-node")):
        return os.path.join(cache, "node_modules")
    return None


def frames(n, width, height, fmt):
    """n frames of vtest.avi (from frame 20 on) as uint8 HxWx3 arrays."""
    video = os.path.join(assets, "vtest.avi")
    if not os.path.exists(video) or not shutil.which("gst-launch-1.0"):
        return None
    with tempfile.TemporaryDirectory() as d:
        r = subprocess.run(["gst-launch-1.0", "-q", "filesrc", "location=" + video, "!", "decodebin", "!",
                            "videoconvert", "!", "videoscale", "!",
                            f"video/x-raw,format={fmt},width={width},height={height}", "!",
                            "identity", f"eos-after={20 + n + 5}", "!", "multifilesink",
                            "location=" + os.path.join(d, "f%03d.raw")], capture_output=True, timeout=120)
        if r.returncode != 0:
            return None
        out = []
        for i in range(20, 20 + n):
            p = os.path.join(d, "f%03d.raw" % i)
            out.append(np.fromfile(p, dtype=np.uint8).reshape(height, width, 3))
        return out


def main():
    for m in ("yolox_nano.onnx", "yolox_nano_dynbatch.onnx", "osnet_x0_25_msmt17.onnx"):
        if not os.path.exists(os.path.join(assets, m)):
            skip(f"{m} missing (run tools/fetch-assets.sh)")
    ort = find_ort()
    if not ort:
        skip("ONNX Runtime (npm onnxruntime-node) not available")
    env = dict(os.environ, OVA_ORT_NODE_PATH=ort)
    failures = 0
    with tempfile.TemporaryDirectory() as d:
        cases = []
        # yolox: BGR 0..255, NCHW, no normalisation
        f = frames(8, 416, 416, "BGR")
        if f is None:
            skip("cannot decode vtest.avi with GStreamer")
        yolo = np.stack([x.transpose(2, 0, 1) for x in f]).astype(np.float32)
        np.save(os.path.join(d, "yolo1.npy"), yolo[:1])
        np.save(os.path.join(d, "yolo8.npy"), yolo)
        # osnet: RGB, ImageNet mean/std, 256x128
        f = frames(4, 128, 256, "RGB")
        mean = np.array([0.485, 0.456, 0.406], np.float32)
        std = np.array([0.229, 0.224, 0.225], np.float32)
        reid = np.stack([((x.astype(np.float32) / 255 - mean) / std).transpose(2, 0, 1) for x in f]).astype(np.float32)
        np.save(os.path.join(d, "reid4.npy"), reid)
        for model, batch, real in (("yolox_nano.onnx", 1, "yolo1.npy"),
                                   ("yolox_nano_dynbatch.onnx", 8, "yolo8.npy"),
                                   ("osnet_x0_25_msmt17.onnx", 4, "reid4.npy")):
            cases.append((model, batch, None))
            cases.append((model, batch, real))
        for model, batch, real in cases:
            args = [tool, "check", os.path.join(assets, model), "--batch", str(batch), "--threads", "2"]
            if real:
                args += ["--input", "images=" + os.path.join(d, real)]
            r = subprocess.run(args, capture_output=True, text=True, env=env, timeout=600)
            kind = "real frames" if real else "random"
            print(f"{model} batch {batch} {kind}: rc {r.returncode}\n{r.stdout}{r.stderr}", end="")
            if r.returncode == 77:
                skip(r.stderr.strip())
            if r.returncode != 0:
                failures += 1
    print("FAIL" if failures else "PASS", f"{failures} of {len(cases)} cases differ")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
