#!/usr/bin/env bash
# ova — Open Video Analytics
# SPDX-License-Identifier: MIT
#
# ovamux latency with live sources: N sources played in real time into
# ovamux live-source=true batched-push-timeout=T, with OVA_LATENCY=1, through
# ova-pipeline-bench. Prints the median and 99th percentile of ovamux's
# latency record (a frame's arrival at its sink pad to the push of its
# batch) and end to end (arrival at ovamux to the sink), frames of the
# first W seconds left out.
#
# Sources (-k):
#   file     filesrc ! qtdemux ! h264parse ! avdec_h264 ! identity sync=true
#            (default): decoders deliver in bursts and identity releases each
#            frame at its running time, so the frames of one instant of all
#            sources arrive within a few ms — the live part of
#            bench/gpu-pipeline on the CPU. The 320x240 H.264 clip is made
#            once with x264enc (in the build directory).
#   testsrc  videotestsrc is-live=true: each source's frames are timed from
#            its own start, so the sources are out of phase and a frame waits
#            up to a frame interval for the others' frames of its instant.
# -d US puts identity sleep-time=US after ovamux (a slow consumer).
# -f FILE: another H.264 mp4 for -k file; -D DECODER: another decoder
# (nvh264dec keeps the frames in CUDA memory, as bench/gpu-pipeline does).
#
# Usage: live-latency.sh [-n SOURCES] [-s SECONDS] [-w WARMUP] [-k file|testsrc]
#                        [-d SLEEP_US] [-t TIMEOUT_US] [-f FILE] [-D DECODER]
# Builds nothing: needs build/ (./run build). OVA_BUILD: another build
# directory; OVA_PLUGIN_PATH: another plugin directory (e.g. an older ovamux).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${OVA_BUILD:-$root/build}
case "$build" in /*) ;; *) build="$root/$build" ;; esac

n=16 seconds=10 warmup=2 kind=file sleep_us=0 timeout_us=40000 clip="" decoder=avdec_h264
while getopts "n:s:w:k:d:t:f:D:h" opt; do
  case $opt in
    n) n=$OPTARG ;;
    s) seconds=$OPTARG ;;
    w) warmup=$OPTARG ;;
    k) kind=$OPTARG ;;
    d) sleep_us=$OPTARG ;;
    t) timeout_us=$OPTARG ;;
    f) clip=$OPTARG ;;
    D) decoder=$OPTARG ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 2 ;;
  esac
done

bench=$build/bench/gpu-pipeline/ova-pipeline-bench
if [ ! -x "$bench" ] || [ ! -f "$build/plugins/mux/libgstovabatch.so" ]; then
  echo "bench/mux: $bench or the ovamux plugin not found; build first (./run build)" >&2
  exit 1
fi
export GST_PLUGIN_PATH=${OVA_PLUGIN_PATH:-$build/plugins}
export GST_REGISTRY=${GST_REGISTRY:-$build/bench-registry.bin}

case $kind in
  file)
    [ -n "$clip" ] || clip=$build/bench-mux-320x240.mp4
    if [ ! -s "$clip" ]; then
      gst-inspect-1.0 x264enc >/dev/null 2>&1 || { echo "bench/mux: x264enc is needed to make $clip" >&2; exit 1; }
      gst-launch-1.0 -q videotestsrc num-buffers=900 pattern=ball \
        ! video/x-raw,width=320,height=240,framerate=30/1 \
        ! x264enc speed-preset=ultrafast key-int-max=30 bframes=0 ! mp4mux \
        ! filesink location="$clip.tmp" && mv "$clip.tmp" "$clip"
    fi
    caps=""
    [ "$decoder" = nvh264dec ] && caps="video/x-raw(memory:CUDAMemory) !"
    source_desc="filesrc location=$clip ! qtdemux ! h264parse ! $decoder ! $caps identity sync=true"
    ;;
  testsrc)
    source_desc="videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1"
    ;;
  *) echo "bench/mux: -k file or -k testsrc" >&2; exit 2 ;;
esac

desc=()
for ((i = 0; i < n; i++)); do
  # shellcheck disable=SC2206
  desc+=($source_desc ! ovamux.sink_$i)
done
tail_desc=(ovamux name=ovamux batch-size="$n" live-source=true batched-push-timeout="$timeout_us" !)
[ "$sleep_us" -gt 0 ] && tail_desc+=(identity sleep-time="$sleep_us" !)
tail_desc+=(fakesink name=sink sync=false)

label=mux-live-$kind-$n
out=$(OVA_LATENCY=1 "$bench" --label "$label" --warmup "$warmup" --seconds "$((seconds + warmup))" \
  "${desc[@]}" "${tail_desc[@]}")
echo "$out" | grep '^RESULT'
[ "$kind" = file ] || decoder=-
echo "$out" | awk -v n="$n" -v kind="$kind" -v dec="$decoder" -v d="$sleep_us" -v t="$timeout_us" '
  /^LATENCY/ {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    if (v["component"] == "ovamux" || v["component"] == "end-to-end")
      printf "ovamux live latency: sources=%s kind=%s decoder=%s downstream-sleep-us=%s timeout-us=%s %s frames=%s median_ms=%s p99_ms=%s\n",
        n, kind, dec, d, t, v["component"], v["n"], v["median_ms"], v["p99_ms"]
  }'
