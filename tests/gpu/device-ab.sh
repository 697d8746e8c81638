#!/bin/sh
# ova — Open Video Analytics
# SPDX-License-Identifier: MIT
#
# Runs ON the GPU machine: the engine benchmark of the pack's test-cuda-engine
# with the pack's libova and with another build's libova (gzip-compressed,
# carried next to the pack), alternating A B A B, so that two builds are
# compared in one run on one GPU (kernels are compiled into libova; the
# public API is the same). OVA_BENCH_ROWS and OVA_BENCH_BATCHES pick the rows
# (default "fp16", "1 8"). Needs GLib on the library path (the pack's
# GStreamer: . gst/env.sh after unpacking gst.tgz). Logs go to $OUT when set.
#
# Usage: sh PACK/device-ab.sh PACK OTHER_LIBOVA.so.0.gz [ROUNDS]
set -u
P=$1
OTHER=$2
ROUNDS=${3:-2}
LOG=${OUT:-/tmp}
W=$(mktemp -d)
tar xzf "$P/libs.tgz" -C "$W"
mkdir -p "$W/b"
gzip -dc "$OTHER" >"$W/b/libova.so.0" || exit 1
CUDNN=$(dirname "$(find /usr/local/cuda*/ /opt /usr/lib -name 'libcudnn.so.9' 2>/dev/null | head -1)")
CUBLAS=$(dirname "$(find /usr/local/cuda*/ /opt /usr/lib -name 'libcublasLt.so.13' 2>/dev/null | head -1)")
export OVA_BENCH_ROWS=${OVA_BENCH_ROWS:-fp16} OVA_BENCH_BATCHES=${OVA_BENCH_BATCHES:-1 8}
r=1
while [ "$r" -le "$ROUNDS" ]; do
  for side in a b; do
    libs="$W/lib:$CUDNN:$CUBLAS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    [ "$side" = b ] && libs="$W/b:$libs"
    LD_LIBRARY_PATH=$libs timeout -k 5 120 "$P/test-cuda-engine" "$P/assets" --bench-only >"$LOG/ab-$side-$r.txt" 2>&1
    grep '^RESULT bench' "$LOG/ab-$side-$r.txt" | sed "s/^RESULT bench ova/RESULT ab $side round $r/"
  done
  r=$((r + 1))
done
