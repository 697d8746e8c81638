#!/bin/sh
# ova — Open Video Analytics
# SPDX-License-Identifier: MIT
#
# ova-app picks the GPU path by itself: 4 copies of the 1080p H.264 video,
# primary detector (yolox_nano, fp16), tracker, fakesink, no OSD. Checks the
# log line naming the GPU path, that every frame of every source came
# through and that objects were found; then the same config with
# OVA_APP_GPU=0 must say "CPU path" and give the same frame count; then
# with a secondary GIE (OSNet re-id embeddings) it must stay on the GPU
# path with the secondary on it, exit 0 and give the same frame count
# (test-cuda-pipeline.sh checks the embeddings themselves).
# Exit 77 without a GPU or nvh264dec.
#
# Usage: test-cuda-app.sh OVA_APP ASSETS_DIR [MP4]
set -u
APP=$1
A=$(cd "$2" && pwd)
MP4=${3:-$A/vtest1080p30.mp4}
nvidia-smi -L >/dev/null 2>&1 || { echo "SKIP: no GPU"; exit 77; }
gst-inspect-1.0 nvh264dec >/dev/null 2>&1 || { echo "SKIP: no nvh264dec"; exit 77; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
# shellcheck source=tests/gpu/yolox-config.sh
. "$(dirname "$0")/yolox-config.sh"
yolox_config "$W/yolox.txt" "$A" 4 2
app_config "$W/app.txt" "file://$MP4" 4 "$W/yolox.txt" "" "detections-jsonl=$W/det.jsonl"
ok=1
timeout -k 5 45 "$APP" -c "$W/app.txt" >"$W/gpu.log" 2>&1
echo "ova-app exit code $?"
grep "ova-app:" "$W/gpu.log"
grep -q "ova-app: GPU path" "$W/gpu.log" || { echo "FAIL: GPU path not taken"; ok=0; }
frames=$(wc -l <"$W/det.jsonl")
objects=$(grep -o '"class_id"' "$W/det.jsonl" | wc -l)
echo "GPU path: $frames frames, $objects objects"
OVA_APP_GPU=0 timeout -k 5 50 "$APP" -c "$W/app.txt" >"$W/cpu.log" 2>&1
echo "ova-app (OVA_APP_GPU=0) exit code $?"
grep "ova-app:" "$W/cpu.log"
grep -q "ova-app: CPU path" "$W/cpu.log" || { echo "FAIL: CPU path not taken"; ok=0; }
cframes=$(wc -l <"$W/det.jsonl")
cobjects=$(grep -o '"class_id"' "$W/det.jsonl" | wc -l)
echo "CPU path: $cframes frames, $cobjects objects"
[ "$frames" -ge 1000 ] && [ "$objects" -gt 0 ] && [ "$frames" -eq "$cframes" ] || { echo "FAIL: frames/objects"; ok=0; }
# the secondary GIE: the pack's osnet_reid.txt (next to this script) or the
# source tree's
OSNET=$(dirname "$0")/osnet_reid.txt
[ -f "$OSNET" ] || OSNET=$(dirname "$0")/../../configs/osnet_reid.txt
sed "s|^onnx-file=.*|onnx-file=$A/osnet_x0_25_msmt17.onnx|; s|^model-engine-file=.*||" "$OSNET" >"$W/osnet.txt"
app_config "$W/app-sgie.txt" "file://$MP4" 4 "$W/yolox.txt" "$W/osnet.txt" "detections-jsonl=$W/det-sgie.jsonl"
timeout -k 5 60 "$APP" -c "$W/app-sgie.txt" >"$W/sgie.log" 2>&1
rc=$?
echo "ova-app with a secondary GIE exit code $rc"
grep "ova-app:" "$W/sgie.log"
[ $rc -eq 0 ] || { echo "FAIL: exit code $rc"; tail -5 "$W/sgie.log"; ok=0; }
grep -q "ova-app: GPU path" "$W/sgie.log" || { echo "FAIL: GPU path not taken with a secondary GIE"; ok=0; }
grep -q "1 secondary ovainfer on the cuda backend" "$W/sgie.log" || { echo "FAIL: the secondary GIE is not on the GPU path"; ok=0; }
sframes=$(wc -l <"$W/det-sgie.jsonl")
echo "GPU path with a secondary GIE: $sframes frames"
[ "$sframes" -eq "$frames" ] || { echo "FAIL: frames"; ok=0; }
[ $ok = 1 ] && echo PASS && exit 0
echo FAIL
exit 1
