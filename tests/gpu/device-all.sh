#!/bin/bash
# ova — Open Video Analytics
# SPDX-License-Identifier: MIT
#
# Runs ON the GPU machine, from the parent of the pack that tests/gpu/run.sh
# made, everything in one go with a time limit per stage. After each stage
# $OUT (default /tmp/ova-out) gets summary.txt (what is printed) and logs.tgz
# (every log and result file), so what finished is kept when a later stage
# runs out of time:
#   1. test-cuda-decode: the GPU box decoder against the host parsers;
#      test-cuda-pipeline.sh: ovainfer's GPU path against the CPU path (GPU
#      against host decoding, secondary embeddings on CUDA memory too);
#      test-cuda-app.sh: ova-app choosing the GPU path, and falling back;
#   osd. test-cuda-draw (CUDA drawer and tile scaler against the CPU, byte
#      by byte) and test-cuda-osd.sh (ovaosd ! ovatiler on CUDA memory
#      against the CPU path's frames);
#   2. gpu-pipeline.sh (bench/gpu-pipeline/run.sh): decode-only against the
#      full pipeline at 1/8/32/64 streams, latency at 30 live streams;
#   3. device.sh: the engine's kernel checks and benchmark against PyTorch;
#   diag (not by default). device-diag.sh: a secondary GIE on ova-app's GPU
#      path (a backtrace when it crashes), every convolution kernel variant
#      timed alone, Nsight Compute on a few of them.
# OVA_DEVICE_BUDGET (seconds, default 450) bounds the whole; OVA_DEVICE_STAGES
# (default "1 osd 2 3") picks stages.
#
# Usage: bash PACK/device-all.sh PACK
set -u
P=${1:-.devpack}
DEST=${OUT:-/tmp/ova-out}
BUDGET=${OVA_DEVICE_BUDGET:-450}
T0=$(date +%s)
STAGES=" ${OVA_DEVICE_STAGES:-1 osd 2 3} "
left () { echo $((BUDGET - ($(date +%s) - T0))); }
stage () { case "$STAGES" in *" $1 "*) return 0 ;; esac; return 1; }
W=$(mktemp -d)
O=$W/logs
mkdir -p "$DEST" "$O"
bundle () { tar czf "$DEST/logs.tgz" -C "$W" logs; }
exec > >(tee -a "$DEST/summary.txt") 2>&1
nvidia-smi -L >/dev/null 2>&1 || { echo "no GPU"; exit 77; }
{
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader
  nproc
} | tee "$O/machine.txt"
tar xzf "$P/gst.tgz" -C "$W"
tar xzf "$P/libs.tgz" -C "$W"
tar xzf "$P/ova-gst.tgz" -C "$W"
# shellcheck disable=SC1091
. "$W/gst/env.sh"
CUDNN=$(dirname "$(find /usr/local/cuda*/ /opt /usr/lib -name 'libcudnn.so.9' 2>/dev/null | head -1)")
CUBLAS=$(dirname "$(find /usr/local/cuda*/ /opt /usr/lib -name 'libcublasLt.so.13' 2>/dev/null | head -1)")
export LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$W/lib:$CUDNN:$CUBLAS
export GST_PLUGIN_PATH=$W/ova/plugins
# ovaosd's labels: the pack's font where the machine has none
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || export OVA_FONT_FILE=${OVA_FONT_FILE:-$(cd "$P" && pwd)/assets/DejaVuSans.ttf}
BENCH=$W/ova/bin/ova-pipeline-bench
echo "cuDNN from $CUDNN, cuBLASLt from $CUBLAS" | tee -a "$O/machine.txt"
gst-inspect-1.0 nvh264dec 2>&1 | grep -m1 -i "long-name" | tee -a "$O/machine.txt"
for e in ovamux ovainfer ovatrack ovaosd ovatiler; do
  gst-inspect-1.0 "$e" >/dev/null 2>>"$O/machine.txt" || echo "element $e does not load" | tee -a "$O/machine.txt"
done

if stage 1; then
  echo "== 1. GPU path test ($(left) s left)"
  timeout -k 5 30 "$P/test-cuda-decode" >"$O/test-decode.txt" 2>&1
  echo "test-cuda-decode exit code $?" >>"$O/test-decode.txt"
  tail -6 "$O/test-decode.txt"
  timeout -k 5 200 bash "$P/test-cuda-pipeline.sh" "$BENCH" "$P/assets" >"$O/test-pipeline.txt" 2>&1
  echo "test-cuda-pipeline exit code $?" >>"$O/test-pipeline.txt"
  grep -v "Message" "$O/test-pipeline.txt" | tail -16
  bundle
  echo "== 1b. ova-app GPU path ($(left) s left)"
  timeout -k 5 100 bash "$P/test-cuda-app.sh" "$W/ova/bin/ova-app" "$P/assets" >"$O/test-app.txt" 2>&1
  echo "test-cuda-app exit code $?" >>"$O/test-app.txt"
  grep -v "Message\|notice" "$O/test-app.txt" | tail -12
  bundle
fi

if stage osd; then
  echo "== osd. CUDA drawer and tiler ($(left) s left)"
  timeout -k 5 60 "$P/test-cuda-draw" >"$O/test-draw.txt" 2>&1
  echo "test-cuda-draw exit code $?" >>"$O/test-draw.txt"
  tail -6 "$O/test-draw.txt"
  OVA_APP=$W/ova/bin/ova-app timeout -k 5 180 bash "$P/test-cuda-osd.sh" "$P/assets" >"$O/test-osd.txt" 2>&1
  echo "test-cuda-osd exit code $?" >>"$O/test-osd.txt"
  grep -v "Message" "$O/test-osd.txt" | tail -10
  bundle
fi

# the engine stage (3) needs about 3 minutes: the pipeline benchmark gets
# what is left before that, at most 4 minutes
T=$(( $(left) - ${OVA_DEVICE_ENGINE_SECONDS:-180} ))
[ "$T" -gt 240 ] && T=240
if stage 2 && [ "$T" -gt 20 ]; then
  echo "== 2. pipeline benchmark ($(left) s left)"
  OVA_BENCH_TIMEOUT=${OVA_BENCH_TIMEOUT:-45} timeout -k 5 "$T" bash "$P/gpu-pipeline.sh" "$BENCH" "$P/assets" "$O" \
    ${OVA_BENCH_STREAMS:-1 8 32 64} 2>&1 | tail -30
  [ -s "$O/pipeline.md" ] || { echo "partial:"; cat "$O/pipeline.txt"; }
  bundle
fi

if stage diag; then
  echo "== diag. secondary GIE on ova-app's GPU path, convolution kernels, Nsight Compute ($(left) s left)"
  timeout -k 5 "$(( $(left) > 400 ? 400 : $(left) ))" bash "$P/device-diag.sh" "$P" "$W" "$O"
  bundle
fi

T=$(( $(left) - 10 ))
if stage 3 && [ "$T" -gt 30 ]; then
  echo "== 3. engine checks and benchmark ($(left) s left)"
  OVA_DEVICE_DEADLINE=$(( $(date +%s) + T )) OUT=$O timeout -k 5 "$T" sh "$P/device.sh" "$P" >"$O/engine.txt" 2>&1
  echo "device.sh exit code $?" >>"$O/engine.txt"
  grep -v '^ova-cuda-check: [A-Z]' "$O/engine.txt" | tail -24
fi
bundle
echo "done in $(( $(date +%s) - T0 )) s"
