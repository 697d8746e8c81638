#!/bin/bash
# ova — Open Video Analytics
# SPDX-License-Identifier: MIT
#
# Runs ON the GPU machine as stage "diag" of device-all.sh (which sets up
# GStreamer, the libraries and the plugins): what to look at when a number
# or a crash is not explained yet.
#   1. ova-app with a secondary GIE (OSNet) on the GPU path
#      (the default since run F4); when it does not exit cleanly, again under
#      cuda-gdb for the backtraces of every thread;
#   2. bench/gpu-kernels/conv-kernels at batch 64: every variant of the
#      convolution kernels on yolox_nano's layer shapes, with the fused SiLU
#      and with no epilogue at all (what the epilogue costs);
#   3. when Nsight Compute is installed: its speed-of-light, memory,
#      occupancy and warp-state sections for the best WMMA tile and the 1x1
#      kernel on one 1x1 layer, and for the first convolution;
#   4. (part "lat") where batch-1 time goes: graph-latency (what one node of
#      a chain of dependent kernels costs in a CUDA graph, plain and with
#      programmatic dependent launch), and under Nsight Compute one batch-1
#      run of yolox_nano's fp16 graph, every kernel node timed alone, then
#      the graph as a whole.
# OVA_DIAG_PARTS picks parts (default "sgie conv ncu"; "lat" is the 4th;
# OVA_DIAG_NCU_MODES, default "node graph", its Nsight Compute runs).
# Logs go to LOG_DIR.
#
# Usage: device-diag.sh PACK UNPACKED_DIR LOG_DIR
set -u
P=$1
W=$2
O=$3
A=$(cd "$P/assets" && pwd)
PARTS=" ${OVA_DIAG_PARTS:-sgie conv ncu} "
part () { case "$PARTS" in *" $1 "*) return 0 ;; esac; return 1; }
NCU=$(command -v ncu || ls /usr/local/cuda/bin/ncu 2>/dev/null)

if part sgie; then

# shellcheck source=tests/gpu/yolox-config.sh
. "$(dirname "$0")/yolox-config.sh"
yolox_config "$W/diag-yolox.txt" "$A" 2 2
sed "s|^onnx-file=.*|onnx-file=$A/osnet_x0_25_msmt17.onnx|; s|^model-engine-file=.*||" "$P/osnet_reid.txt" >"$W/diag-osnet.txt"
app_config "$W/diag-app.txt" "file://$A/vtest1080p30.mp4" 2 "$W/diag-yolox.txt" "$W/diag-osnet.txt"
APP=$W/ova/bin/ova-app
# OVA_DIAG_SGIE_MODES lists the runs (default: three as ova-app exits now,
# streaming threads parked until the process ends, "parked"; three with
# gst_deinit () at exit as before, "deinit": the crash was seen once that
# way): exit codes of each
codes=""
for mode in ${OVA_DIAG_SGIE_MODES:-parked parked parked deinit deinit deinit}; do
  d=""
  [ "$mode" = deinit ] && d=1
  OVA_APP_GST_DEINIT=$d timeout -k 5 90 "$APP" -c "$W/diag-app.txt" >"$O/diag-sgie-$mode.txt" 2>&1
  rc=$?
  codes="$codes $mode:$rc"
  [ "$rc" -ne 0 ] && cp "$O/diag-sgie-$mode.txt" "$O/diag-sgie-failed.txt"
done
echo "1. ova-app, secondary GIE on the GPU path: exit codes$codes"
grep "ova-app:" "$O/diag-sgie-parked.txt" | tail -4
GDB=$(command -v cuda-gdb || command -v gdb || ls /usr/local/cuda/bin/cuda-gdb 2>/dev/null)
case "$codes" in
  *:[1-9]*)
    if [ -n "$GDB" ]; then
      # every thread at gst_deinit (), then the faulting one's stack
      OVA_APP_GST_DEINIT=1 timeout -k 5 120 "$GDB" -batch -ex "break gst_deinit" -ex run \
        -ex "info threads" -ex continue -ex bt -ex "thread apply all bt 20" \
        --args "$APP" -c "$W/diag-app.txt" >"$O/diag-sgie-gdb.txt" 2>&1
      grep -A30 "received signal" "$O/diag-sgie-gdb.txt" | head -45
    fi
    tail -5 "$O/diag-sgie-failed.txt"
    ;;
esac

fi

CK=$W/ova/bin/conv-kernels
if part conv; then
echo "2. convolution kernels at batch 64 (best variant per layer; ms, GB/s of activation traffic)"
for c in silu none; do
  OVA_BENCH_CHAIN=$c timeout -k 5 60 "$CK" 64 >"$O/diag-conv-$c.txt" 2>&1
  echo "epilogue: $c"
  python3 - "$O/diag-conv-$c.txt" <<'PY'
import re, sys
best, copy = {}, {}
for l in open(sys.argv[1]):
    m = re.match(r'RESULT conv-kernels batch \d+ chain \S+ layer "(.*)" variant (\S+) ([\d.-]+) ms ([\d-]+) GB/s', l)
    if not m or float(m[3]) < 0:
        continue
    if m[2].startswith('memcpy'):
        copy[m[1]] = m[4]
    elif m[1] not in best or float(m[3]) < best[m[1]][1]:
        best[m[1]] = (m[2], float(m[3]), m[4])
for k, (v, ms, gbs) in best.items():
    print(f'  {k:24s} {v:10s} {ms:.4f} ms {gbs:>5s} GB/s (copy of the input: {copy.get(k, "-")} GB/s)')
PY
done
fi

if part ncu && [ -n "$NCU" ]; then
  echo "3. Nsight Compute"
  prof () { # $1 label, $2 layer, $3 demangled kernel name (regex)
    timeout -k 5 60 "$NCU" --kernel-name-base demangled -k "regex:$3" -s 5 -c 1 --section SpeedOfLight \
      --section MemoryWorkloadAnalysis --section Occupancy --section WarpStateStats --section LaunchStats \
      --section SchedulerStats "$CK" 64 "$2" >"$O/diag-ncu-$1.txt" 2>&1
    echo "$1 (exit code $?)"
    grep -v "^RESULT\|==PROF==" "$O/diag-ncu-$1.txt" | grep -E "Duration|Throughput|Achieved Occupancy|Theoretical Occupancy|Registers Per|Warp Cycles Per Issued|Issue Slots Busy|Hit Rate|No Eligible|Waves Per SM" | head -16
  }
  prof wmma-64x32 4 'k_conv_igemm<.int.64, .int.32, .int.4'
  prof 1x1-16x16 4 'k_conv1x1_mma<.int.2, .int.1>'
  prof first-direct 0 'k_conv_direct'
fi

if part lat; then
  echo "4. batch-1 latency"
  timeout -k 5 60 "$W/ova/bin/graph-latency" 100 >"$O/diag-graph-latency.txt" 2>&1
  sed 's/^RESULT graph-latency //' "$O/diag-graph-latency.txt"
  if [ -n "$NCU" ]; then
    for mode in ${OVA_DIAG_NCU_MODES:-node graph}; do
      OVA_BENCH_ROWS=fp16 OVA_BENCH_BATCHES=1 OVA_BENCH_PROFILE_RUNS=1 timeout -k 5 150 "$NCU" --profile-from-start off \
        --graph-profiling "$mode" --clock-control none --cache-control none \
        --metrics gpu__time_duration.sum,launch__grid_size,launch__block_size --csv --print-units base \
        "$P/test-cuda-engine" "$P/assets" --bench-only >"$O/diag-ncu-$mode.csv" 2>"$O/diag-ncu-$mode-err.txt"
      echo "ncu --graph-profiling $mode: exit code $?"
    done
    python3 - "$O/diag-ncu-node.csv" "$O/diag-ncu-graph.csv" <<'PY'
import csv, re, sys
def rows(path):
    k = {}
    try:
        lines = [l for l in open(path) if l.startswith('"')]
    except OSError:
        return k
    for r in csv.DictReader(lines):
        d = k.setdefault(r['ID'], {'name': r['Kernel Name']})
        d[r['Metric Name']] = r['Metric Value'].replace(',', '')
    return k
nodes, graph = rows(sys.argv[1]), rows(sys.argv[2])
tot, by = 0.0, {}
for i, d in sorted(nodes.items(), key=lambda x: int(x[0])):
    us = float(d.get('gpu__time_duration.sum', 0)) / 1000
    short = re.sub(r'\(.*', '', d['name'])
    short = re.sub(r'^(void )?(\(anonymous namespace\)::)?', '', short)
    tot += us
    b = by.setdefault(short, [0, 0.0]); b[0] += 1; b[1] += us
    print(f'  {i:>4} {short[:60]:60s} grid {d.get("launch__grid_size", "?"):>6} {us:8.2f} us')
print(f'kernels: {len(nodes)}, sum of their times alone: {tot:.1f} us')
for k, (n, us) in sorted(by.items(), key=lambda x: -x[1][1]):
    print(f'  {k[:70]:70s} {n:4d} x {us / n:6.2f} us = {us:7.1f} us')
for i, d in graph.items():
    print(f'whole graph ({d["name"][:40]}): {float(d.get("gpu__time_duration.sum", 0)) / 1000:.1f} us')
PY
  fi
fi
