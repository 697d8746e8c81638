#!/bin/sh
# ova — Open Video Analytics
# SPDX-License-Identifier: MIT
#
# ovaosd and ovatiler on CUDA memory end to end: H.264 decoded by nvh264dec
# into CUDA memory, batched, detected (ovainfer backend=cuda), drawn and
# tiled on the GPU, downloaded once (cudadownload) and written as raw NV12;
# against the same streams downloaded before ovamux and drawn and tiled by
# the CPU (the same cuda-backend detector on the same decoded pixels):
#   1. tiles only (no ovaosd): GPU and CPU outputs byte-identical, every
#      frame (the CUDA scaler runs the CPU scaler's integer arithmetic);
#   2. ovaosd ! ovatiler: the same number of frames, boxes drawn (output
#      differs from run 1; the frames with drawing differ between the paths
#      in at most 1 % of the frames), every frame's PSNR >= 25 dB (a box more
#      or less on a 640x360 picture stays above it, a misplaced plane does
#      not); prints the frames that are byte-identical and the largest
#      difference (where the two detectors' boxes differ, the drawings do).
#   3. with OVA_APP: ova-app with [osd] and [tiled-display] takes the GPU
#      path with both in CUDA memory and delivers every frame.
# Exit 77 (skip) without a GPU, nvh264dec, cudadownload or the video.
#
# Usage: [OVA_APP=ova-app] test-cuda-osd.sh ASSETS_DIR [MP4]
# OVA_TEST_DECODER=avdec_h264 checks the script without a GPU (every run on the CPU).
set -u
[ $# -ge 1 ] || { echo "usage: [OVA_APP=ova-app] test-cuda-osd.sh ASSETS_DIR [MP4]" >&2; exit 2; }
A=$(cd "$1" && pwd)
MP4=${2:-$A/vtest1080p30.mp4}
STREAMS=${OVA_TEST_STREAMS:-2}
DEC=${OVA_TEST_DECODER:-nvh264dec}
CUDA="video/x-raw(memory:CUDAMemory) !"
DOWN="cudadownload ! video/x-raw !"
BACKEND=cuda
if [ -n "${OVA_TEST_DECODER:-}" ]; then
  CUDA=""
  DOWN=""
  BACKEND=cpu
else
  nvidia-smi -L >/dev/null 2>&1 || { echo "SKIP: no GPU"; exit 77; }
  gst-inspect-1.0 cudadownload >/dev/null 2>&1 || { echo "SKIP: no cudadownload"; exit 77; }
fi
gst-inspect-1.0 "$DEC" >/dev/null 2>&1 || { echo "SKIP: no $DEC"; exit 77; }
[ -f "$MP4" ] || { echo "SKIP: no $MP4 (tools/make-1080p-h264.sh makes it)"; exit 77; }
# ovaosd's labels: a font next to the assets where the machine has none
if [ -z "${OVA_FONT_FILE:-}" ] && [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] && [ -f "$A/DejaVuSans.ttf" ]; then
  export OVA_FONT_FILE="$A/DejaVuSans.ttf"
fi
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
TW=${OVA_TEST_TILED_WIDTH:-640}
TH=${OVA_TEST_TILED_HEIGHT:-360}

# shellcheck source=tests/gpu/yolox-config.sh
. "$(dirname "$0")/yolox-config.sh"
yolox_config "$W/det.txt" "$A" "$STREAMS" 0

sources () { # $1: what follows the decoder
  i=0
  while [ $i -lt "$STREAMS" ]; do
    printf 'filesrc location=%s ! qtdemux ! h264parse ! %s ! %s m.sink_%d ' "$MP4" "$DEC" "$1" $i
    i=$((i + 1))
  done
}
run () { # $1 label, $2 after the decoder, $3 drawing and tiling, $4 after the tiler
  # shellcheck disable=SC2046
  gst-launch-1.0 -q $(sources "$2") ovamux name=m batch-size="$STREAMS" ! \
    ovainfer config-file-path="$W/det.txt" backend="$BACKEND" ! $3 ! $4 \
    video/x-raw,format=NV12,width="$TW",height="$TH" ! filesink location="$W/$1.nv12" \
    >"$W/$1.log" 2>&1 || { echo "FAIL: $1 did not run"; tail -20 "$W/$1.log"; exit 1; }
}
TILE="ovatiler rows=1 columns=$STREAMS width=$TW height=$TH"
# after the tiler the NV12 filter below names system memory; two filters in a
# row ("video/x-raw ! video/x-raw,...") do not parse
DOWN_TILED=${DOWN:+cudadownload !}
run gpu-tile "$CUDA" "$TILE" "$DOWN_TILED"
run cpu-tile "$CUDA $DOWN" "$TILE" ""
run gpu-osd "$CUDA" "ovaosd ! $TILE" "$DOWN_TILED"
run cpu-osd "$CUDA $DOWN" "ovaosd ! $TILE" ""

status=0
python3 - "$W" "$TW" "$TH" <<'PY' || status=1
import math, sys
w, tw, th = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
size = tw * th + 2 * ((tw + 1) // 2) * ((th + 1) // 2)
def frames(name):
    data = open(f'{w}/{name}.nv12', 'rb').read()
    if len(data) % size:
        print(f'FAIL: {name}: {len(data)} bytes, not whole {tw}x{th} NV12 frames'); sys.exit(1)
    return [data[i:i + size] for i in range(0, len(data), size)]
def psnr_maxdiff(a, b):
    sse = 0
    mx = 0
    for x, y in zip(a, b):
        d = x - y
        if d:
            sse += d * d
            mx = max(mx, abs(d))
    return (math.inf if sse == 0 else 10 * math.log10(255 * 255 * len(a) / sse)), mx
ok = True
gt, ct, go, co = (frames(n) for n in ('gpu-tile', 'cpu-tile', 'gpu-osd', 'cpu-osd'))
print(f'frames: gpu-tile {len(gt)}, cpu-tile {len(ct)}, gpu-osd {len(go)}, cpu-osd {len(co)}')
if not (len(gt) == len(ct) == len(go) == len(co)) or not gt:
    print('FAIL: frame counts differ or no frames'); ok = False
n = min(len(gt), len(ct), len(go), len(co))
same_tiles = sum(gt[i] == ct[i] for i in range(n))
print(f'1. tiles: {same_tiles}/{n} frames byte-identical (need all)')
ok = ok and same_tiles == n
drawn_gpu = [i for i in range(n) if go[i] != gt[i]]
drawn_cpu = [i for i in range(n) if co[i] != ct[i]]
print(f'2. drawn frames: GPU {len(drawn_gpu)}, CPU {len(drawn_cpu)}')
odd = set(drawn_gpu) ^ set(drawn_cpu)
if not drawn_gpu or len(odd) > n // 100:
    print(f'FAIL: boxes drawn in different frames on the two paths ({len(odd)} frames)'); ok = False
identical = worst = maxdiff = 0
worst = math.inf
for i in range(n):
    if go[i] == co[i]:
        identical += 1
        continue
    p, m = psnr_maxdiff(go[i], co[i])
    worst = min(worst, p)
    maxdiff = max(maxdiff, m)
print(f'   GPU vs CPU drawing: {identical}/{n} frames byte-identical; others: lowest PSNR {worst:.2f} dB, '
      f'largest difference {maxdiff} (need PSNR >= 25 dB)')
ok = ok and worst >= 25
print('PASS' if ok else 'FAIL')
sys.exit(0 if ok else 1)
PY

if [ -n "${OVA_APP:-}" ] && [ -z "${OVA_TEST_DECODER:-}" ]; then
  cat >"$W/app.txt" <<CFG
[application]
detections-jsonl=$W/app.jsonl
[source0]
enable=1
type=3
uri=file://$MP4
num-sources=$STREAMS
[streammux]
batch-size=$STREAMS
[primary-gie]
enable=1
config-file=$W/det.txt
[osd]
enable=1
border-width=3
[tiled-display]
enable=1
rows=1
columns=$STREAMS
width=$TW
height=$TH
[sink0]
enable=1
type=1
sync=0
CFG
  timeout -k 5 60 "$OVA_APP" -c "$W/app.txt" >"$W/app.log" 2>&1
  echo "3. ova-app exit code $?"
  grep "ova-app:" "$W/app.log"
  grep -q "ova-app: GPU path.*ovaosd drawing in CUDA memory, ovatiler tiling in CUDA memory" "$W/app.log" ||
    { echo "FAIL: ova-app did not take the GPU path with ovaosd and ovatiler"; status=1; }
  frames=$(wc -l <"$W/app.jsonl" 2>/dev/null || echo 0)
  echo "   ova-app: $frames frames (gst-launch runs: $(( $(stat -c %s "$W/gpu-osd.nv12") / (TW * TH * 3 / 2) )) tiled frames)"
  [ "$frames" -gt 0 ] || { echo "FAIL: ova-app delivered no frames"; status=1; }
  grep -q "ERROR\|CRITICAL" "$W/app.log" && { echo "FAIL: errors in the ova-app log"; grep -m5 "ERROR\|CRITICAL" "$W/app.log"; status=1; }
fi
exit $status
