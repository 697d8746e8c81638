#!/usr/bin/env bash
# ovamux CPU overhead: 16 raw 1080p videotestsrc sources batched by ovamux
# into one fakesink versus the same sources into 16 fakesinks, alternating
# in the same run; prints the CPU-time ratio. Builds nothing: needs build/.
# Options go to bench_mux.py (--frames, --rounds, --pattern, --limit ...).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${OVA_BUILD:-$root/build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac
if [ ! -f "$build/plugins/mux/libgstovabatch.so" ]; then
  echo "bench/mux: $build/plugins/mux/libgstovabatch.so not found; build first (./run build)" >&2
  exit 1
fi
export GST_PLUGIN_PATH="$build/plugins"
export GST_REGISTRY="$build/bench-registry.bin"
exec python3 "$here/bench_mux.py" "$@"
