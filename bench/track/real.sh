#!/usr/bin/env bash
# The four trackers on the sample video (vtest.avi, 795 frames 768x576),
# with detections and OSNet embeddings made by ONNX Runtime (an independent
# detector, see vtest_detections.js). There is no ground truth for this video:
# the table shows what can be measured without it (ids given, track lengths,
# speed). Needs node/npm (onnxruntime-node is installed into .cache/ortnode).
# Usage: bash bench/track/real.sh   (after building; writes .cache/track/vtest-det.txt)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
B=${OVA_BUILD:-build}
bash tools/fetch-assets.sh
A=.cache/assets
mkdir -p .cache/track
det=.cache/track/vtest-det.txt
if [ ! -s "$det" ]; then
  if [ ! -d .cache/ortnode/node_modules/onnxruntime-node ]; then
    mkdir -p .cache/ortnode
    (cd .cache/ortnode && npm init -y >/dev/null && npm install --ignore-scripts onnxruntime-node >/dev/null)
  fi
  gst-launch-1.0 -q filesrc location=$A/vtest.avi ! decodebin ! videoconvert ! video/x-raw,format=BGR,width=768,height=576 \
    ! fdsink fd=1 | NODE_PATH=.cache/ortnode/node_modules node bench/track/vtest_detections.js 768 576 \
      $A/yolox_nano.onnx $A/osnet_x0_25_msmt17.onnx > "$det.part"
  mv "$det.part" "$det"
fi
echo "| tracker | frames | tracked boxes | track ids | ids seen >= 30 frames | boxes per id | ms/frame |"
echo "|---|---|---|---|---|---|---|"
for t in iou sort bytetrack reid; do
  "$B/tools/ova-track-eval" --tracker $t --det "$det" --out .cache/track/vtest-$t.txt --json > .cache/track/vtest-$t.json
  python3 - .cache/track/vtest-$t.json .cache/track/vtest-$t.txt <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
rows = [l.split(",") for l in open(sys.argv[2])]
ids = {x[1] for x in rows}
long_ids = {i for i in ids if sum(1 for x in rows if x[1] == i) >= 30}
print("| %s | %d | %d | %d | %d | %.1f | %.4f |" % (r["tracker"], r["frames"], len(rows), len(ids), len(long_ids),
      len(rows) / max(1, len(ids)), r["ms_per_frame"]))
PY
done
