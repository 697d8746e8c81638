#!/usr/bin/env bash
# Puts the sample media and models ova's demo and tests use under .cache/assets,
# from ../shared when it is beside the checkout, else from Debian packages and
# the upstream release URLs, each checked by sha256.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest="$root/.cache/assets"
shared="${OVA_SHARED_DIR:-$root/../shared}"
mkdir -p "$dest"

want() { # name sha256 shared-path fallback-command...
  local name=$1 sum=$2 src=$3; shift 3
  local out="$dest/$name"
  if [ -f "$out" ] && echo "$sum  $out" | sha256sum -c --status; then return 0; fi
  if [ -f "$shared/$src" ]; then
    cp "$shared/$src" "$out.part"
  else
    "$@" "$out.part" || { echo "[ova] error: could not obtain $name" >&2; rm -f "$out.part"; return 1; }
  fi
  if ! echo "$sum  $out.part" | sha256sum -c --status; then
    echo "[ova] error: $name: sha256 mismatch (expected $sum)" >&2; rm -f "$out.part"; return 1
  fi
  mv "$out.part" "$out"
}

from_url() { curl -fsSL --retry 3 -o "$2" "$1"; }
from_opencv_doc() {
  local f=/usr/share/doc/opencv-doc/examples/data/vtest.avi
  if [ ! -f "$f" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends opencv-doc >/dev/null
  fi
  if [ -f "$f" ]; then cp "$f" "$1"; elif [ -f "$f.gz" ]; then gunzip -c "$f.gz" > "$1"; else return 1; fi
}

want vtest.avi 45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf media/vtest.avi from_opencv_doc
want coco80.txt bd17f1ee35d5f3c862a4894605855abbb9dda4b0621fdb0ac4c2c8c7bb7e730a models/coco80.txt \
  cp "$root/configs/coco80.txt"
want yolox_nano.onnx e8af074932d4ed7e232278e3055cefcdea3edf178874a3694ae292649fb464dd models/yolox_nano.onnx \
  from_url https://github.com/Megvii-BaseDetection/YOLOX/releases/download/0.1.1rc0/yolox_nano.onnx
# Optional models: tests that need them skip with a message when they are absent.
want yolox_nano_dynbatch.onnx 82bc036e82e2e9e987a1ddc5b289e615e3042e7fe2889088331653077255a3aa \
  models/yolox_nano_dynbatch.onnx false || true
want osnet_x0_25_msmt17.onnx 61b2604171ef9d58d21758626f83b35a253c3d7123976523a6e03068c3c95d7b \
  models/osnet_x0_25_msmt17.onnx false || true
