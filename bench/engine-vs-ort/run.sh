#!/bin/sh
# ova — Open Video Analytics. SPDX-License-Identifier: MIT
#
# ova's engine vs ONNX Runtime (CPU, onnxruntime-node) — and OpenCV DNN for
# context when python3-opencv is installed — on the same random inputs and
# thread counts, runs alternating between the engines:
#   yolox_nano batch 1, yolox_nano_dynbatch batch 8, osnet batch 16; threads 1 and 2.
#
#   bench/engine-vs-ort/run.sh [BUILD_DIR] [ROUNDS] [ITERS]
#
# Each case runs twice: with both runtimes' default idle policy (worker
# threads spin between parallel regions) and with blocking workers
# (OMP_WAIT_POLICY=passive for ova's OpenMP, allow_spinning=0 for ONNX
# Runtime), which is what a machine shared with other busy processes needs.
#
# ONNX Runtime: OVA_ORT_NODE_PATH=<dir>/node_modules, or .cache/onnxruntime-node
# (installed there with npm when missing). Prints the JSON lines, then a
# Markdown table: median over rounds of each engine's median time, ratio ova/ORT.
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build}
rounds=${2:-5}
iters=${3:-20}
assets=$src/.cache/assets
ort=${OVA_ORT_NODE_PATH:-$src/.cache/onnxruntime-node/node_modules}
if [ ! -d "$ort/onnxruntime-node" ]; then
  mkdir -p "$src/.cache/onnxruntime-node"
  npm install --ignore-scripts --no-audit --no-fund --prefix "$src/.cache/onnxruntime-node" onnxruntime-node >/dev/null
  ort=$src/.cache/onnxruntime-node/node_modules
fi
have_cv=0
/usr/bin/python3 -c 'import cv2' 2>/dev/null && have_cv=1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for spin in 1 0; do
  if [ $spin = 1 ]; then omp=${OMP_WAIT_POLICY:-}; else omp=passive; fi
  for t in 1 2; do
    for case in "yolox_nano.onnx 1" "yolox_nano_dynbatch.onnx 8" "osnet_x0_25_msmt17.onnx 16"; do
      set -- $case
      m=$assets/$1
      b=$2
      r=0
      while [ $r -lt "$rounds" ]; do
        env ${omp:+OMP_WAIT_POLICY=$omp} "$build/tools/ova-engine" bench "$m" --batch "$b" --threads "$t" --iters "$iters" --json | sed "s/^/ova $spin /" | tee -a "$out"
        OVA_BENCH_SPIN=$spin NODE_PATH=$ort node "$src/bench/engine-vs-ort/ort-bench.js" "$m" "$b" "$t" "$iters" | sed "s/^/ort $spin /" | tee -a "$out"
        if [ $have_cv = 1 ] && [ $r -eq 0 ] && [ $spin = 1 ]; then
          /usr/bin/python3 "$src/bench/engine-vs-ort/opencv-bench.py" "$m" "$b" "$t" "$iters" | sed "s/^/opencv $spin /" | tee -a "$out"
        fi
        r=$((r + 1))
      done
    done
  done
done
/usr/bin/python3 - "$out" <<'PY'
import json, sys, statistics, os
rows = {}
for line in open(sys.argv[1]):
    eng, spin, js = line.split(" ", 2)
    d = json.loads(js)
    key = (spin, os.path.basename(d["model"]), d["batch"], d["threads"])
    rows.setdefault(key, {}).setdefault(eng, []).append(d["ms_median"])
print()
print("| idle workers | model | batch | threads | ova ms | ORT ms | ova/ORT | OpenCV ms |")
print("|---|---|---|---|---|---|---|---|")
for (spin, m, b, t), e in sorted(rows.items(), key=lambda kv: (-int(kv[0][0]), kv[0][3], kv[0][1], kv[0][2])):
    ova = statistics.median(e["ova"]); ort = statistics.median(e["ort"])
    cvk = rows.get(("1", m, b, t), {}).get("opencv")
    cv = "%.1f" % statistics.median(cvk) if cvk else "-"
    print(f"| {'spin' if spin == '1' else 'block'} | {m} | {b} | {t} | {ova:.2f} | {ort:.2f} | {ova/ort:.2f} | {cv} |")
PY
