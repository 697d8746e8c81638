#!/bin/sh
# ova — Open Video Analytics
# SPDX-License-Identifier: MIT
#
# Makes the GPU pipeline benchmark's input: FRAMES frames of the sample video
# (vtest.avi, 768x576, 10 fps) re-timed to 30 fps, scaled to 1920x1080 and
# encoded with x264 (High profile, 3 Mbit/s, a key frame every 60 frames)
# into an mp4. About 3-4 MB for 300 frames.
#
# Usage: tools/make-1080p-h264.sh OUT.mp4 [FRAMES]   (default 300)
set -eu
SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:?usage: make-1080p-h264.sh OUT.mp4 [FRAMES]}
N=${2:-300}
IN=$SRC/.cache/assets/vtest.avi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# decoded frames as raw I420, then re-parsed at 30 fps (each source frame once)
gst-launch-1.0 -q filesrc location="$IN" ! avidemux ! avdec_msmpeg4 ! videoconvert ! \
  video/x-raw,format=I420,width=768,height=576 ! filesink location="$TMP/raw.yuv"
gst-launch-1.0 -q filesrc location="$TMP/raw.yuv" num-buffers=-1 ! \
  rawvideoparse format=i420 width=768 height=576 framerate=30/1 ! identity eos-after="$N" ! \
  videoscale ! video/x-raw,width=1920,height=1080,pixel-aspect-ratio=1/1 ! \
  x264enc bitrate=3000 speed-preset=faster key-int-max=60 threads=2 ! video/x-h264,profile=high ! \
  h264parse ! mp4mux ! filesink location="$OUT"
ls -l "$OUT"
