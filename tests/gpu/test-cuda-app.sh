#!/bin/sh
# ova — Open Video Analytics
# SPDX-License-Identifier: MIT
#
# ova-app picks the GPU path by itself: 4 copies of the 1080p H.264 video,
# primary detector (yolox_nano, fp16), tracker, fakesink, no OSD. Checks the
# log line naming the GPU path, that every frame of every source came
# through and that objects were found; then the same config with
# OVA_APP_GPU=0 must say "CPU path" and give the same frame count.
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
[ $ok = 1 ] && echo PASS && exit 0
echo FAIL
exit 1
