#!/bin/sh
# ova — Open Video Analytics
# SPDX-License-Identifier: MIT
#
# Builds here what the GPU machine needs and packs it into one folder:
# libova with the CUDA backend (build-cuda/, -Dcuda=enabled) and the shared
# libraries it needs that a bare CUDA machine lacks, tests/gpu's checker,
# tests/gpu/device.sh, the PyTorch rival, the models and the sample video.
# Then prints the command to run ON the GPU machine (from the folder's parent).
#
# Usage: tests/gpu/run.sh [PACK_DIR]   (default: ./.devpack; keep it git-ignored)
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${OVA_CUDA_BUILD:-$SRC/build-cuda}
PACK=${1:-$SRC/.devpack}
ASSETS=$SRC/.cache/assets
CUDA=${CUDA_HOME:-/usr/local/cuda}

[ -f "$ASSETS/yolox_nano_dynbatch.onnx" ] || "$SRC/tools/fetch-assets.sh"
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$SRC" -Dcuda=enabled -Dtests=disabled
ninja -C "$BUILD" lib/libova.so.0.1.0

rm -rf "$PACK"
mkdir -p "$PACK/lib" "$PACK/assets"
cc -O2 -std=gnu11 -Wall -o "$PACK/test-cuda-engine" "$SRC/tests/gpu/test-cuda-engine.c" \
  -I"$SRC/include" -I"$BUILD" -I"$CUDA/include" $(pkg-config --cflags glib-2.0 gstreamer-video-1.0) \
  -L"$BUILD/lib" -lova $(pkg-config --libs glib-2.0) "$CUDA/lib64/libcudart_static.a" -ldl -lrt -lpthread -lm \
  -Wl,-rpath,'$ORIGIN/lib'

# libova and every library it needs except the C/C++ runtime and CUDA's own
# (cuDNN and cuBLASLt come from the GPU machine's CUDA install / PyTorch wheels).
cp -L "$BUILD/lib/libova.so.0" "$PACK/lib/"
ldd "$BUILD/lib/libova.so.0" "$PACK/test-cuda-engine" | awk '/=> \//{print $3}' | sort -u | while read -r l; do
  case "$(basename "$l")" in
    libc.so*|libm.so*|libdl.so*|librt.so*|libpthread.so*|ld-linux*|libstdc++*|libgcc_s*|libcud*|libcublas*|libova*) ;;
    *) cp -L "$l" "$PACK/lib/" ;;
  esac
done
(cd "$PACK" && tar czf libs.tgz lib && rm -rf lib)
cp "$SRC/tests/gpu/device.sh" "$SRC/tests/gpu/torch_onnx.py" "$PACK/"
cp "$ASSETS/yolox_nano.onnx" "$ASSETS/yolox_nano_dynbatch.onnx" "$ASSETS/osnet_x0_25_msmt17.onnx" \
   "$ASSETS/vtest.avi" "$PACK/assets/"
du -sh "$PACK"
echo "Run on the GPU machine (device tool, carry [\"$(basename "$PACK")\"]):"
echo "  sh $(basename "$PACK")/device.sh $(basename "$PACK")"
