#!/usr/bin/env python3
# ova — Open Video Analytics. SPDX-License-Identifier: MIT
#
# ova-engine end to end on an ONNX node test (Relu): info, run with .npy in
# and out (values checked), bench --json (fields checked), bad arguments and
# bad files give one error line and a non-zero exit.
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    print("SKIP: numpy missing")
    sys.exit(77)

build = os.environ.get("OVA_BUILD_DIR", "build")
tool = os.path.join(build, "tools", "ova-engine")
model = "/usr/share/libonnx-testdata/data/node/test_relu/model.onnx"
if not os.path.exists(model):
    print("SKIP: libonnx-testdata missing")
    sys.exit(77)


def run(*args, ok=True):
    r = subprocess.run([tool, *args], capture_output=True, text=True, timeout=120)
    if ok and r.returncode != 0:
        sys.exit(f"FAIL: {args}: rc {r.returncode}: {r.stderr}")
    if not ok and r.returncode == 0:
        sys.exit(f"FAIL: {args} should fail")
    return r


r = run("--help")
assert "Usage: ova-engine" in r.stdout
r = run("info", model)
assert "input  x float32 [3,4,5]" in r.stdout and "Relu=1" in r.stdout, r.stdout
with tempfile.TemporaryDirectory() as d:
    x = np.random.default_rng(1).standard_normal((3, 4, 5)).astype(np.float32)
    np.save(os.path.join(d, "x.npy"), x)
    run("run", model, "--input", "x=" + os.path.join(d, "x.npy"), "--output-dir", os.path.join(d, "out"), "--threads", "1")
    y = np.load(os.path.join(d, "out", "y.npy"))
    assert y.shape == (3, 4, 5) and np.array_equal(y, np.maximum(x, 0)), "run output differs"
    r = run("bench", model, "--iters", "3", "--json")
    j = json.loads(r.stdout.strip().splitlines()[-1])
    assert set(j) == {"model", "batch", "threads", "iters", "ms_median", "ms_p90"} and j["iters"] == 3, j
    # errors
    r = run("run", model, "--input", "nosuch=" + os.path.join(d, "x.npy"), "--output-dir", d, ok=False)
    assert "nosuch" in r.stderr or "no --input" in r.stderr, r.stderr
    np.save(os.path.join(d, "bad.npy"), np.zeros((2, 2), np.float32))
    r = run("run", model, "--input", "x=" + os.path.join(d, "bad.npy"), "--output-dir", d, ok=False)
    assert "'x'" in r.stderr, r.stderr
    with open(os.path.join(d, "junk.onnx"), "wb") as f:
        f.write(b"\x08\x07garbage" * 10)
    r = run("info", os.path.join(d, "junk.onnx"), ok=False)
    assert "junk.onnx" in r.stderr, r.stderr
    r = run("bench", model, "--iters", "many", ok=False)
    r = run("frobnicate", model, ok=False)
print("PASS")
