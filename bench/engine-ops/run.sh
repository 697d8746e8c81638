#!/usr/bin/env bash
# The reference operators' SGEMM against oneDNN's sgemm, one thread each, in
# the same run:   bench/engine-ops/run.sh [BUILD_DIR] [REPS]
# (BUILD_DIR: a built meson build directory, default build). Prints a
# markdown table (median ms of each, ratio).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
reps=${2:-9}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
gcc -O2 -std=gnu11 -I"$src/include" -I"$src/lib" -I"$build" $(pkg-config --cflags glib-2.0) \
  "$here/gemm-bench.c" -o "$out/gemm-bench" -L"$build/lib" -lova -ldnnl -lm \
  $(pkg-config --libs glib-2.0) -Wl,-rpath,"$build/lib"
echo "ova-engine ops SGEMM vs oneDNN sgemm, 1 thread, median of $reps alternating runs ($(date -u +%F), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
OMP_NUM_THREADS=1 DNNL_VERBOSE=0 "$out/gemm-bench" "$reps"
