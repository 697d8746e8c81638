#!/bin/sh
# ova — Open Video Analytics
# SPDX-License-Identifier: MIT
#
# The GPU pipeline benchmark: N copies of one 1080p30 H.264 mp4
# (tools/make-1080p-h264.sh) through
#   decode: filesrc ! qtdemux ! h264parse ! nvh264dec  (x N) ! funnel ! fakesink
#   full:   filesrc ! qtdemux ! h264parse ! nvh264dec  (x N) ! ovamux batch-size=N !
#           ovainfer (yolox_nano, fp16, backend=cuda) ! ovatrack ! ovaosd ! fakesink
# in the same run, for each N; frames/s at the sink from its first to its last
# frame (start-up left out), and full / decode. Then LIVE streams (default 30)
# played in real time (identity sync=true after each decoder; ovamux
# live-source) with OVA_LATENCY=1: per-element and end-to-end latency (arrival
# at ovamux to the sink), median and p99.
# ovaosd draws boxes and labels on the frames in CUDA memory (the CUDA drawer);
# OVA_BENCH_OSD=0 leaves it out.
#
# Needs GStreamer with nvcodec and ova's plugins on GST_PLUGIN_PATH.
# Usage: run.sh OVA_PIPELINE_BENCH ASSETS_DIR OUTDIR [N...]   (default 1 8 32 64)
set -u
BENCH=$1
A=$(cd "$2" && pwd)
OUTD=$3
shift 3
STREAMS=${*:-1 8 32 64}
LIVE=${OVA_BENCH_LIVE_STREAMS:-30}
LIMIT=${OVA_BENCH_TIMEOUT:-90}
# the longer version of the 1080p video when the pack has it (steadier rates)
MP4=$A/vtest1080p30.mp4
[ -f "$A/vtest1080p30-long.mp4" ] && MP4=$A/vtest1080p30-long.mp4
# checking the script without a GPU: OVA_BENCH_DECODER=avdec_h264 OVA_BENCH_BACKEND=auto
DEC=${OVA_BENCH_DECODER:-nvh264dec}
# the decoders' output stays in CUDA memory (a bare funnel or fakesink would
# let nvh264dec download to system memory)
CUDACAPS="video/x-raw(memory:CUDAMemory) !"
[ -n "${OVA_BENCH_DECODER:-}" ] && CUDACAPS=""
BACKEND=${OVA_BENCH_BACKEND:-cuda}
OSD="ovaosd !"
# ovaosd's labels: the font packed with the assets where the machine has none
if [ -z "${OVA_FONT_FILE:-}" ] && [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] && [ -f "$A/DejaVuSans.ttf" ]; then
  export OVA_FONT_FILE="$A/DejaVuSans.ttf"
fi
[ "${OVA_BENCH_OSD:-1}" = 0 ] && OSD=""
CAP=${OVA_BENCH_SECONDS:+--seconds $OVA_BENCH_SECONDS}
mkdir -p "$OUTD"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
LOG=$OUTD/pipeline.log
RES=$OUTD/pipeline.txt
: >"$RES"
: >"$LOG"

# the detector's config: yolox-config.sh beside this script (in the GPU pack)
# or in tests/gpu (in the source tree)
YC=$(dirname "$0")/yolox-config.sh
[ -f "$YC" ] || YC=$(dirname "$0")/../../tests/gpu/yolox-config.sh
# shellcheck source=tests/gpu/yolox-config.sh
. "$YC"
config () { # $1 batch
  yolox_config "$W/yolox-$1.txt" "$A" "$1" 2 "$W/yolox-$1.plan"
}
sources () { # $1 N, $2 what follows nvh264dec (ends with the peer, %d = index)
  i=0
  while [ $i -lt "$1" ]; do
    # shellcheck disable=SC2059
    printf "filesrc location=$MP4 ! qtdemux ! h264parse ! $DEC ! $CUDACAPS $2 " $i
    i=$((i + 1))
  done
}
warmup () { # $1 N: seconds left out at the start, for decode and full alike, so
  # that both are steady-state rates (the decoders of many streams start one
  # after another; ovamux waits for all of them, a funnel does not)
  # (about 40 ms of start-up per decoder on an H100)
  if [ -n "${OVA_BENCH_WARMUP:-}" ]; then echo "$OVA_BENCH_WARMUP"; else echo "$1" | awk '{ printf "%.2f", 0.3 + $1 * 0.03 }'; fi
}
bench () { # $1 label, $2 warm-up seconds, rest: pipeline
  l=$1
  w=$2
  shift 2
  echo "== $l" >>"$LOG"
  # shellcheck disable=SC2086
  timeout -k 5 "$LIMIT" "$BENCH" --label "$l" --warmup "$w" $CAP "$@" >>"$RES" 2>>"$LOG" || echo "RESULT label=$l failed=rc$?" >>"$RES"
  grep "label=$l " "$RES" | head -1
}

for n in $STREAMS; do
  config "$n"
  # shellcheck disable=SC2046
  bench "decode-$n" "$(warmup "$n")" $(sources "$n" "f.") funnel name=f ! fakesink name=sink sync=false
  # shellcheck disable=SC2046
  bench "full-$n" "$(warmup "$n")" $(sources "$n" "m.sink_%d") ovamux name=m batch-size="$n" ! \
    ovainfer config-file-path="$W/yolox-$n.txt" backend="$BACKEND" batch-size="$n" ! ovatrack ! $OSD fakesink name=sink sync=false
done

if [ "$LIVE" -gt 0 ]; then
  config "$LIVE"
  # shellcheck disable=SC2046
  OVA_LATENCY=1 bench "live-$LIVE" "${OVA_BENCH_LIVE_WARMUP:-5}" --seconds "${OVA_BENCH_LIVE_SECONDS:-15}" $(sources "$LIVE" "identity sync=true ! m.sink_%d") \
    ovamux name=m batch-size="$LIVE" live-source=true batched-push-timeout=40000 ! \
    ovainfer config-file-path="$W/yolox-$LIVE.txt" backend="$BACKEND" batch-size="$LIVE" ! ovatrack ! $OSD fakesink name=sink sync=false
  grep "^LATENCY" "$RES"
fi

python3 - "$RES" "$STREAMS" >"$OUTD/pipeline.md" <<'PY'
import re, sys
res = {}
for l in open(sys.argv[1]):
    m = re.match(r'RESULT label=(\S+) (.*)', l)
    if m:
        res[m[1]] = dict(kv.split('=', 1) for kv in m[2].split())
print('| streams | decode only (frames/s) | decode + ovamux + ovainfer + ovatrack + ovaosd (frames/s) | full / decode | full ÷ 30 fps (1080p30 streams it keeps up with) | objects per frame | start-up (s) |')
print('|---|---|---|---|---|---|---|')
for n in sys.argv[2].split():
    d, f = res.get(f'decode-{n}', {}), res.get(f'full-{n}', {})
    dv, fv = float(d.get('fps', 0) or 0), float(f.get('fps', 0) or 0)
    ratio = f'{fv / dv:.2f}' if dv and fv else '-'
    opf = f"{int(f['objects']) / int(f['frames']):.1f}" if f.get('frames', '0') not in ('0', None) and 'objects' in f else '-'
    print(f"| {n} | {dv:,.0f} | {fv:,.0f} | {ratio} | {fv / 30:.0f} | {opf} | {f.get('startup', '-')} |")
lat = [l.split() for l in open(sys.argv[1]) if l.startswith('LATENCY')]
if lat:
    print('\n| live streams: component | frames | median (ms) | p99 (ms) |')
    print('|---|---|---|---|')
    for p in lat:
        kv = dict(x.split('=', 1) for x in p[1:])
        print(f"| {kv['label']}: {kv['component']} | {kv['n']} | {kv['median_ms']} | {kv['p99_ms']} |")
PY
cat "$OUTD/pipeline.md"
