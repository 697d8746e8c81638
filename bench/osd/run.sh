#!/usr/bin/env bash
# bench/osd: 100 labelled boxes on 1080p NV12 frames, ovaosd versus
# cairooverlay, in the same run. Usage: bench/osd/run.sh [frames]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${OVA_BUILD:-$root/build}
[ -f "$build/plugins/osd/libgstovaosd.so" ] || { echo "build ova first (meson setup build && ninja -C build)" >&2; exit 1; }
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
cc -O2 -o "$out/bench-osd" "$root/bench/osd/bench-osd.c" -I"$root/include" -I"$build" \
  $(pkg-config --cflags --libs gstreamer-check-1.0 gstreamer-video-1.0 cairo) \
  -L"$build/lib" -lova -Wl,-rpath,"$build/lib"
GST_PLUGIN_PATH="$build/plugins" "$out/bench-osd" "${1:-200}"
