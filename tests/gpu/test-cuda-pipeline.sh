#!/bin/sh
# ova — Open Video Analytics
# SPDX-License-Identifier: MIT
#
# ovainfer's GPU path end to end: H.264 decoded by nvh264dec into CUDA memory,
# batched by ovamux, preprocessed (ova_cuda_preprocess_nv12) and inferred on
# the GPU (ovainfer backend=cuda), boxes decoded on the host. Checked against
# the same frames downloaded (cudadownload) through the CPU path:
#   1. GPU fp32 vs CPU fp32: >= 99 % of the boxes of every run matched (same
#      class, IoU >= 0.9) by the other's, both ways, every frame present;
#   2. backend=auto (moves to cuda at the CUDA caps) gives the GPU fp32 boxes;
#   3. GPU fp16 (network-mode=2) vs GPU fp32: >= 97 % matched both ways.
# Exit 77 (skip) without a GPU, nvh264dec or the video.
#
# Usage: test-cuda-pipeline.sh OVA_PIPELINE_BENCH ASSETS_DIR [MP4]
set -u
BENCH=$1
A=$(cd "$2" && pwd)
MP4=${3:-$A/vtest1080p30.mp4}
STREAMS=${OVA_TEST_STREAMS:-2}
# checking the script without a GPU: OVA_TEST_DECODER=avdec_h264 (every run then on the CPU)
DEC=${OVA_TEST_DECODER:-nvh264dec}
CUDA="video/x-raw(memory:CUDAMemory) !"
DOWN="cudadownload ! video/x-raw !"
GPU=cuda
if [ -n "${OVA_TEST_DECODER:-}" ]; then
  CUDA=""
  DOWN=""
  GPU=auto
else
  nvidia-smi -L >/dev/null 2>&1 || { echo "SKIP: no GPU"; exit 77; }
fi
gst-inspect-1.0 "$DEC" >/dev/null 2>&1 || { echo "SKIP: no $DEC"; exit 77; }
[ -f "$MP4" ] || { echo "SKIP: no $MP4 (tools/make-1080p-h264.sh makes it)"; exit 77; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

config () { # $1 file, $2 network-mode
  cat >"$1" <<CFG
[property]
onnx-file=$A/yolox_nano_dynbatch.onnx
labelfile-path=$A/coco80.txt
batch-size=4
net-scale-factor=1.0
model-color-format=1
maintain-aspect-ratio=1
pad-value=114
network-mode=$2
num-detected-classes=80
parse-bbox-func-name=yolox
[class-attrs-all]
pre-cluster-threshold=0.3
nms-iou-threshold=0.45
CFG
}
config "$W/fp32.txt" 0
config "$W/fp16.txt" 2

sources () { # $1: what follows nvh264dec
  i=0
  while [ $i -lt "$STREAMS" ]; do
    printf 'filesrc location=%s ! qtdemux ! h264parse ! %s ! %s m.sink_%d ' "$MP4" "$DEC" "$1" $i
    i=$((i + 1))
  done
}
run () { # $1 label, $2 after nvh264dec, $3 config, $4 backend
  # shellcheck disable=SC2046
  "$BENCH" --label "$1" --dump "$W/$1.jsonl" $(sources "$2") ovamux name=m batch-size=4 ! \
    ovainfer config-file-path="$3" backend="$4" ! fakesink name=sink sync=false || { echo "FAIL: $1 did not run"; exit 1; }
}
run gpu-fp32 "$CUDA" "$W/fp32.txt" "$GPU"
run cpu-fp32 "$CUDA $DOWN" "$W/fp32.txt" cpu
run auto-fp32 "$CUDA" "$W/fp32.txt" auto
run gpu-fp16 "$CUDA" "$W/fp16.txt" "$GPU"

python3 - "$W" "$STREAMS" <<'PY'
import json, sys
w, streams = sys.argv[1], int(sys.argv[2])
def load(name):
    d = {}
    for l in open(f'{w}/{name}.jsonl'):
        f = json.loads(l)
        d[(f['source_id'], f['frame'])] = [(o['class_id'], o['left'], o['top'], o['width'], o['height']) for o in f['objects']]
    return d
def iou(a, b):
    x1, y1 = max(a[1], b[1]), max(a[2], b[2])
    x2, y2 = min(a[1] + a[3], b[1] + b[3]), min(a[2] + a[4], b[2] + b[4])
    i = max(0, x2 - x1) * max(0, y2 - y1)
    u = a[3] * a[4] + b[3] * b[4] - i
    return i / u if u > 0 else 0
def matched(x, y):
    n = m = 0
    for k, boxes in x.items():
        for b in boxes:
            n += 1
            m += any(o[0] == b[0] and iou(o, b) >= 0.9 for o in y.get(k, []))
    return m, n
ok = True
runs = {r: load(r) for r in ('gpu-fp32', 'cpu-fp32', 'auto-fp32', 'gpu-fp16')}
for r, d in runs.items():
    boxes = sum(len(v) for v in d.values())
    print(f'{r}: {len(d)} frames, {boxes} boxes')
    if len(d) != len(runs['cpu-fp32']) or boxes == 0:
        print(f'FAIL: {r}: {len(d)} frames, {boxes} boxes'); ok = False
for a, b, need in (('gpu-fp32', 'cpu-fp32', 0.99), ('auto-fp32', 'gpu-fp32', 0.999), ('gpu-fp16', 'gpu-fp32', 0.97)):
    for x, y in ((a, b), (b, a)):
        m, n = matched(runs[x], runs[y])
        frac = m / n if n else 0
        print(f'{x} boxes matched by {y}: {m}/{n} ({100 * frac:.2f} %, need {100 * need:.1f} %)')
        ok = ok and frac >= need
print('PASS' if ok else 'FAIL')
sys.exit(0 if ok else 1)
PY
