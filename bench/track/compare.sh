#!/usr/bin/env bash
# Compares the four trackers on the synthetic suite with ova-track-eval and
# prints a Markdown table (MOTA, IDF1, HOTA, id switches, speed).
# Usage: bash bench/track/compare.sh   (after building: meson setup build && ninja -C build)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
B=${OVA_BUILD:-build}
eval_tool=$B/tools/ova-track-eval
synth=$B/tests/track/ova-track-synth
[ -x "$eval_tool" ] && [ -x "$synth" ] || { echo "compare.sh: build first (meson setup $B && ninja -C $B)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pin=""
command -v taskset >/dev/null && pin="taskset -c 0"
"$synth" "$tmp" > "$tmp/sequences"
for seq in $(cat "$tmp/sequences"); do
  for t in iou sort bytetrack reid; do
    printf '{"sequence": "%s", ' "$(basename "$seq")" >> "$tmp/results.jsonl"
    $pin "$eval_tool" --tracker $t --det "$seq/det.txt" --gt "$seq/gt.txt" --json | sed 's/^{//' >> "$tmp/results.jsonl"
  done
done
# detector interval: detections on every (N+1)-th frame, prediction in between
for seq in $(cat "$tmp/sequences"); do
  for t in sort bytetrack reid; do
    for i in 1 2 4; do
      printf '{"sequence": "%s", "interval": %d, ' "$(basename "$seq")" $i >> "$tmp/interval.jsonl"
      "$eval_tool" --tracker $t --interval $i --det "$seq/det.txt" --gt "$seq/gt.txt" --json | sed 's/^{//' >> "$tmp/interval.jsonl"
    done
  done
done
python3 - "$tmp/results.jsonl" "$tmp/interval.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
seqs = sorted({r["sequence"] for r in rows})
print("Per sequence (IDF1 / MOTA / HOTA / id switches):\n")
print("| sequence | " + " | ".join(["iou", "sort", "bytetrack", "reid"]) + " |")
print("|---|---|---|---|---|")
for s in seqs:
    cells = []
    for t in ["iou", "sort", "bytetrack", "reid"]:
        r = next(x for x in rows if x["sequence"] == s and x["tracker"] == t)
        cells.append(f'{r["IDF1"]:.3f} / {r["MOTA"]:.3f} / {r["HOTA"]:.3f} / {r["id_switches"]}')
    print(f"| {s} | " + " | ".join(cells) + " |")
print("\nSuite (metrics averaged over sequences, id switches summed, speed over all frames):\n")
print("| tracker | MOTA | IDF1 | HOTA | id switches | ms/frame | boxes/s |")
print("|---|---|---|---|---|---|---|")
for t in ["iou", "sort", "bytetrack", "reid"]:
    rs = [x for x in rows if x["tracker"] == t]
    n = len(rs)
    frames = sum(x["frames"] for x in rs)
    ms = sum(x["ms_per_frame"] * x["frames"] for x in rs)
    dets = sum(x["detections"] for x in rs)
    print(f'| {t} | {sum(x["MOTA"] for x in rs)/n:.3f} | {sum(x["IDF1"] for x in rs)/n:.3f} | '
          f'{sum(x["HOTA"] for x in rs)/n:.3f} | {sum(x["id_switches"] for x in rs)} | {ms/frames:.4f} | {dets/(ms/1000):,.0f} |')
inter = [json.loads(l) for l in open(sys.argv[2])]
print("\nDetector interval (detections on every (N+1)-th frame, boxes predicted in between; suite averages, IDF1 / MOTA / HOTA):\n")
print("| tracker | interval 0 | interval 1 | interval 2 | interval 4 |")
print("|---|---|---|---|---|")
for t in ["sort", "bytetrack", "reid"]:
    cells = []
    for i in [0, 1, 2, 4]:
        rs = [x for x in rows if x["tracker"] == t] if i == 0 else [x for x in inter if x["tracker"] == t and x["interval"] == i]
        n = len(rs)
        cells.append(f'{sum(x["IDF1"] for x in rs)/n:.3f} / {sum(x["MOTA"] for x in rs)/n:.3f} / {sum(x["HOTA"] for x in rs)/n:.3f}')
    print(f"| {t} | " + " | ".join(cells) + " |")
PY
