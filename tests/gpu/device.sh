#!/bin/sh
# ova — Open Video Analytics
# SPDX-License-Identifier: MIT
#
# Runs ON the GPU machine, from the parent of the pack that tests/gpu/run.sh
# made: kernel-vs-CPU checks, fp32 parity, fp16-vs-fp32 detections over the
# sample video, images/s of yolox_nano (ova fp16/fp32 at batch 1/8/32/64) next
# to PyTorch running the same ONNX graph, then a table. Logs go to $OUT when set.
#
# Usage: sh PACK/device.sh PACK
set -u
P=${1:-.devpack}
LOG=${OUT:-/tmp}
W=$(mktemp -d)
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || exit 77
tar xzf "$P/libs.tgz" -C "$W"
# cuDNN 9 and cuBLASLt 13: the CUDA install or PyTorch's wheels
CUDNN=$(dirname "$(find /usr/local/cuda*/ /opt /usr/lib -name 'libcudnn.so.9' 2>/dev/null | head -1)")
CUBLAS=$(dirname "$(find /usr/local/cuda*/ /opt /usr/lib -name 'libcublasLt.so.13' 2>/dev/null | head -1)")
echo "cuDNN from $CUDNN, cuBLASLt from $CUBLAS"
export LD_LIBRARY_PATH="$W/lib:$CUDNN:$CUBLAS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
cp "$P/test-cuda-engine" "$W/"

# every 8th frame of the sample video, letterboxed to 416x416 as YOLOX wants
# (scaled to fit, top-left, padded with 114), BGR uint8
python3 - "$P/assets/vtest.avi" "$W/frames.u8" <<'PY'
import sys, cv2, numpy as np
cap = cv2.VideoCapture(sys.argv[1]); out = []; i = 0
while True:
    ok, f = cap.read()
    if not ok: break
    if i % 8 == 0:
        r = min(416 / f.shape[0], 416 / f.shape[1])
        im = cv2.resize(f, (int(f.shape[1] * r), int(f.shape[0] * r)), interpolation=cv2.INTER_LINEAR)
        c = np.full((416, 416, 3), 114, np.uint8); c[:im.shape[0], :im.shape[1]] = im; out.append(c)
    i += 1
np.stack(out).tofile(sys.argv[2]); print(f'frames: {len(out)} of {i}')
PY

# PyTorch first: when a deadline (OVA_DEVICE_DEADLINE, seconds since the
# epoch) cuts the checker's last checks, the table below still has both sides
echo "== PyTorch on the same ONNX graph"
PYTHONUNBUFFERED=1 python3 "$P/torch_onnx.py" "$P/assets/yolox_nano_dynbatch.onnx" >"$LOG/torch.txt" 2>&1
grep -v '^RESULT' "$LOG/torch.txt" | tail -5

echo "== ova: checks and benchmark"
CONV=""
python3 "$P/make-conv-models.py" "$W/conv" >/dev/null && CONV="--conv-models $W/conv"
LIMIT=100000
[ -n "${OVA_DEVICE_DEADLINE:-}" ] && LIMIT=$(( OVA_DEVICE_DEADLINE - $(date +%s) - 8 ))
# OVA_DEVICE_BENCH_FIRST=1: the benchmark first, in a process of its own
# (kernels not yet run on a GPU are checked after it: one that faults cannot
# take the benchmark down)
BENCH=--bench
if [ -n "${OVA_DEVICE_BENCH_FIRST:-}" ]; then
  timeout -k 5 "$LIMIT" "$W/test-cuda-engine" "$P/assets" --bench-only >"$LOG/ova-bench.txt" 2>"$LOG/ova-bench-err.txt"
  echo "ova benchmark exit code $?"
  BENCH=""
  [ -n "${OVA_DEVICE_DEADLINE:-}" ] && LIMIT=$(( OVA_DEVICE_DEADLINE - $(date +%s) - 8 ))
fi
# shellcheck disable=SC2086
timeout -k 5 "$LIMIT" "$W/test-cuda-engine" "$P/assets" --frames "$W/frames.u8" $CONV $BENCH >"$LOG/ova.txt" 2>"$LOG/ova-check.txt"
RC=$?
[ $RC -eq 124 ] && echo "ova checker stopped at the deadline (the checks after the benchmark are cut)"
grep -v '^ova-cuda-check: [A-Z]' "$LOG/ova-check.txt" | tail -40
grep '^RESULT' "$LOG/ova.txt"
[ -f "$LOG/ova-bench.txt" ] && grep '^RESULT' "$LOG/ova-bench.txt"
echo "ova checker exit code $RC"

TABLE_IN="$LOG/ova.txt $LOG/torch.txt"
[ -f "$LOG/ova-bench.txt" ] && TABLE_IN="$TABLE_IN $LOG/ova-bench.txt"
# shellcheck disable=SC2086
python3 - $TABLE_IN <<'PY'
import sys, re
res = {}
ceil = ''
for f in sys.argv[1:]:
    for l in open(f):
        m = re.match(r'RESULT bench (\w+) ([\w-]+) batch (\d+) ([\d.]+) ms/batch (\d+) img/s', l)
        if m: res[(m[1], m[2], int(m[3]))] = (float(m[4]), int(m[5]))
        if l.startswith('RESULT ceiling'): ceil = l.strip()
print('\n' + ceil)
print('| precision | batch | ova ms/batch | ova img/s | PyTorch img/s | ova / PyTorch |')
print('|---|---|---|---|---|---|')
for p in ('fp16', 'fp32', 'fp16-no-pdl', 'fp16-one-stream', 'fp16-copies', 'fp16-no-patch', 'fp16-run-c',
          'fp16-before', 'fp16-kxk', 'fp16-run-d', 'fp16-pwpw', 'fp16-no-group', 'fp16-no-r16', 'fp16-no-dwpw',
          'fp16-8-streams'):
    for b in (1, 8, 32, 64):
        o, t = res.get(('ova', p, b)), res.get(('torch', p.split('-')[0], b))
        ratio = f'{o[1] / t[1]:.2f}' if o and t else '-'
        print(f"| {p} | {b} | {o[0] if o else '-'} | {o[1] if o else '-'} | {t[1] if t else '-'} | {ratio} |")
PY
exit $RC
