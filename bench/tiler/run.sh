#!/usr/bin/env bash
# bench/tiler: 16 sources of 1080p NV12 into a 1920x1080 4x4 grid, ovatiler
# versus compositor with the same layout, in the same run.
# Usage: bench/tiler/run.sh [output-frames]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${OVA_BUILD:-$root/build}
[ -f "$build/plugins/osd/libgstovaosd.so" ] || { echo "build ova first (meson setup build && ninja -C build)" >&2; exit 1; }
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
cc -O2 -o "$out/bench-tiler" "$root/bench/tiler/bench-tiler.c" -I"$root/include" -I"$build" \
  $(pkg-config --cflags --libs gstreamer-app-1.0 gstreamer-video-1.0) \
  -L"$build/lib" -lova -Wl,-rpath,"$build/lib"
GST_PLUGIN_PATH="$build/plugins" "$out/bench-tiler" "${1:-100}"
