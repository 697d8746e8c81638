#!/bin/sh
# ova — Open Video Analytics
# SPDX-License-Identifier: MIT
#
# ovainfer's GPU path end to end: H.264 decoded by nvh264dec into CUDA memory,
# batched by ovamux, preprocessed (ova_cuda_preprocess_nv12) and inferred on
# the GPU (ovainfer backend=cuda), boxes decoded on the GPU (the candidates
# copied back, clustered on the host). Checked against the same frames
# downloaded (cudadownload) through the CPU path:
#   1. GPU fp32 vs CPU fp32: >= 99 % of the boxes of every run matched (same
#      class, IoU >= 0.9) by the other's, both ways, every frame present;
#   2. backend=auto (moves to cuda at the CUDA caps) gives the GPU fp32 boxes;
#   3. GPU fp16 (network-mode=2) vs GPU fp32: >= 97 % matched both ways;
#   4. GPU decoding vs host decoding of the same GPU outputs
#      (OVA_INFER_GPU_DECODE=0): >= 99.9 % of the boxes equal, frame by frame
#      in the same order (class, confidence within 1e-4, coordinates within
#      0.011 px: the dump's 2 decimals); the same with 2 candidates per frame
#      copied back with the batch (OVA_INFER_GPU_CANDIDATES=2: the rest
#      fetched from the device frame by frame);
#   5. secondary mode on CUDA memory: yolox ! ovatrack ! ovainfer (OSNet
#      embedder on the persons, configs/osnet_reid.txt's settings) on the GPU
#      vs the CPU path: as many embeddings (within 1 %), >= 97 % of the CPU's
#      matched by a GPU one on the same box (IoU >= 0.9), >= 98 % of those
#      with cosine similarity >= 0.98.
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

# shellcheck source=tests/gpu/yolox-config.sh
. "$(dirname "$0")/yolox-config.sh"
config () { # $1 file, $2 network-mode
  yolox_config "$1" "$A" 4 "$2"
}
config "$W/fp32.txt" 0
config "$W/fp16.txt" 2
# configs/osnet_reid.txt (next to this script in the pack) with the model of
# ASSETS_DIR and no plan cache
REID=$(dirname "$0")/osnet_reid.txt
[ -f "$REID" ] || REID=$(dirname "$0")/../../configs/osnet_reid.txt
sed -e "s|^onnx-file=.*|onnx-file=$A/osnet_x0_25_msmt17.onnx|" -e '/^model-engine-file=/d' "$REID" >"$W/osnet.txt"

sources () { # $1: what follows nvh264dec
  i=0
  while [ $i -lt "$STREAMS" ]; do
    printf 'filesrc location=%s ! qtdemux ! h264parse ! %s ! %s m.sink_%d ' "$MP4" "$DEC" "$1" $i
    i=$((i + 1))
  done
}
run () { # $1 label, $2 after nvh264dec, $3 config, $4 backend, [$5 VAR=VALUE for the run]
  # shellcheck disable=SC2046
  env ${5:-OVA_TEST_RUN=1} "$BENCH" --label "$1" --dump "$W/$1.jsonl" $(sources "$2") ovamux name=m batch-size=4 ! \
    ovainfer config-file-path="$3" backend="$4" ! fakesink name=sink sync=false || { echo "FAIL: $1 did not run"; exit 1; }
}
run_reid () { # $1 label, $2 after nvh264dec, $3 backend
  # shellcheck disable=SC2046
  "$BENCH" --label "$1" --embeddings "$W/$1.emb.jsonl" $(sources "$2") ovamux name=m batch-size=4 ! \
    ovainfer config-file-path="$W/fp32.txt" backend="$3" ! ovatrack ! \
    ovainfer config-file-path="$W/osnet.txt" backend="$3" ! fakesink name=sink sync=false ||
    { echo "FAIL: $1 did not run"; exit 1; }
}
run gpu-fp32 "$CUDA" "$W/fp32.txt" "$GPU"
run cpu-fp32 "$CUDA $DOWN" "$W/fp32.txt" cpu
run auto-fp32 "$CUDA" "$W/fp32.txt" auto
run gpu-fp16 "$CUDA" "$W/fp16.txt" "$GPU"
run gpu-fp32-hostdecode "$CUDA" "$W/fp32.txt" "$GPU" OVA_INFER_GPU_DECODE=0
run gpu-fp32-fetch "$CUDA" "$W/fp32.txt" "$GPU" OVA_INFER_GPU_CANDIDATES=2
run_reid gpu-reid "$CUDA" "$GPU"
run_reid cpu-reid "$CUDA $DOWN" cpu

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
def same(a, b):
    return (a[0] == b[0] and abs(a[5] - b[5]) <= 1e-4 and
            all(abs(a[i] - b[i]) <= 0.011 for i in range(1, 5)))
def equal_in_order(x, y):
    n = m = 0
    for k in set(x) | set(y):
        a, b = x.get(k, []), y.get(k, [])
        n += max(len(a), len(b))
        m += sum(same(p, q) for p, q in zip(a, b))
    return m, n
def load_conf(name):
    d = {}
    for l in open(f'{w}/{name}.jsonl'):
        f = json.loads(l)
        d[(f['source_id'], f['frame'])] = [(o['class_id'], o['left'], o['top'], o['width'], o['height'],
                                            o['confidence']) for o in f['objects']]
    return d
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

# 4. GPU decoding against host decoding of the same outputs
hd = load_conf('gpu-fp32-hostdecode')
for r in ('gpu-fp32', 'gpu-fp32-fetch'):
    gd = load_conf(r)
    m, n = equal_in_order(gd, hd)
    frac = m / n if n else 0
    print(f'{r} (GPU decoding) vs host decoding: {len(gd)} / {len(hd)} frames, {m}/{n} boxes equal in order '
          f'({100 * frac:.3f} %, need 99.9 %)')
    ok = ok and n > 0 and len(gd) == len(hd) and frac >= 0.999

# 5. secondary embeddings on CUDA memory against the CPU path
def load_emb(name):
    d = {}
    for l in open(f'{w}/{name}.emb.jsonl'):
        f = json.loads(l)
        d[(f['source_id'], f['frame'])] = [((o['class_id'], o['left'], o['top'], o['width'], o['height']),
                                            o['embedding']) for o in f['objects']]
    return d
ge, ce = load_emb('gpu-reid'), load_emb('cpu-reid')
ng, nc = sum(len(v) for v in ge.values()), sum(len(v) for v in ce.values())
pairs = []
for k, objs in ce.items():
    for box, vec in objs:
        best = None
        for gbox, gvec in ge.get(k, []):
            if gbox[0] == box[0] and iou(gbox, box) >= 0.9 and (best is None or iou(gbox, box) > iou(best[0], box)):
                best = (gbox, gvec)
        if best is not None and len(best[1]) == len(vec):
            pairs.append(sum(a * b for a, b in zip(vec, best[1])))
close = sum(c >= 0.98 for c in pairs)
print(f'embeddings: GPU {ng}, CPU {nc}; {len(pairs)} CPU ones matched on the GPU; '
      f'{close} with cosine >= 0.98' + (f', lowest {min(pairs):.4f}, median {sorted(pairs)[len(pairs) // 2]:.5f}' if pairs else ''))
ok = (ok and nc > 0 and abs(ng - nc) <= 0.01 * nc and len(pairs) >= 0.97 * nc and close >= 0.98 * len(pairs))
print('PASS' if ok else 'FAIL')
sys.exit(0 if ok else 1)
PY
