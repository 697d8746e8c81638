#!/usr/bin/env bash
# Tracker benchmarks, one core (taskset -c 0 when available):
#  - object updates per second of each tracker on a synthetic crowd (~30 boxes/frame)
#  - ovatrack: ms per batch of 16 frames x 30 objects (harness cost subtracted)
#  - the assignment solver against scipy.optimize.linear_sum_assignment on the
#    same matrices (the rival; needs python3-scipy, skipped with a note if absent)
# Usage: bash bench/track/run.sh   (after building: meson setup build && ninja -C build)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
B=${OVA_BUILD:-build}
[ -f "$B/lib/libova.so" ] || { echo "bench/track: build first (meson setup $B && ninja -C $B)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

bin=$B/bench/track
if [ ! -x "$bin/bench-track" ] || [ ! -x "$bin/bench-ovatrack" ]; then
  # not part of the meson build tree: compile here against the built libova
  bin=$tmp
  flags="-O2 -std=gnu11 -Iinclude -I$B -Itests/track -L$B/lib -Wl,-rpath,$root/$B/lib"
  cc $flags bench/track/bench-track.c tests/track/synth.c -o "$bin/bench-track" \
    $(pkg-config --cflags --libs gstreamer-1.0 gstreamer-video-1.0) -lova -lm
  cc $flags bench/track/bench-ovatrack.c -o "$bin/bench-ovatrack" \
    $(pkg-config --cflags --libs gstreamer-check-1.0 gstreamer-video-1.0) -lova -lm
fi
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3  # Debian's, where python3-scipy installs
rounds=${OVA_BENCH_ROUNDS:-5}   # best of N rounds (more on a busy machine)
pin=""
command -v taskset >/dev/null && pin="taskset -c 0"

echo "# $(date -u +%FT%TZ) $(uname -m) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
$pin "$bin/bench-track" --seconds $((rounds * 2 / 5 + 1)) --rounds $rounds --matrices "$tmp/lsa" | tee "$tmp/ova.jsonl"
for alg in bytetrack reid; do
  GST_PLUGIN_PATH=$root/$B/plugins $pin "$bin/bench-ovatrack" $alg $rounds | tee -a "$tmp/ova.jsonl"
done
if $py -c 'import scipy.optimize' 2>/dev/null; then
  $pin $py bench/track/rival_lsa.py "$tmp/lsa" $rounds | tee "$tmp/rival.jsonl"
  $py - "$tmp/ova.jsonl" "$tmp/rival.jsonl" <<'PY'
import json, sys
ova = [json.loads(l) for l in open(sys.argv[1])]
riv = [json.loads(l) for l in open(sys.argv[2])]
for r in riv:
    o = next(x for x in ova if x["bench"] == "assignment" and x["n"] == r["n"])
    assert o["pairs"] == r["pairs"]
    print(f'assignment {r["n"]}x{r["n"]}: ova {o["us_per_solve"]:.2f} us, scipy {r["us_per_solve"]:.2f} us, '
          f'ova is {r["us_per_solve"] / o["us_per_solve"]:.2f}x scipy\'s speed')
PY
else
  echo "bench/track: python3-scipy not installed: no rival solver timing (apt-get install python3-scipy)"
fi
