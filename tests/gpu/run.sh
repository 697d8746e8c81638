#!/bin/sh
# ova — Open Video Analytics
# SPDX-License-Identifier: MIT
#
# Builds here what the GPU machine needs and packs it into one folder:
# libova with the CUDA backend (build-cuda/, -Dcuda=enabled), ova's GStreamer
# plugins and the pipeline benchmark tool, the shared libraries they need that
# a bare CUDA machine lacks, tests/gpu's checker, tests/gpu/device.sh, the
# PyTorch rival, the models, the sample video and its 1080p H.264 version
# (tools/make-1080p-h264.sh), GStreamer 1.22 with nvcodec (gst.tgz, from
# ../shared/device/make-gst-sysroot.sh, cached in .cache/gst-sysroot), the GPU
# pipeline test and benchmark scripts, tests/gpu/device-all.sh and the small
# convolution models of tests/gpu/make-conv-models.py.
# Then prints the commands to run ON the GPU machine (from the folder's parent).
#
# Usage: tests/gpu/run.sh [PACK_DIR]   (default: ./.devpack; keep it git-ignored)
# OVA_PACK_NO_PIPELINE_VIDEO=1 leaves out the pipeline benchmark's 20 s video
# (7 MB; stage 2 of device-all.sh needs it, stages 3 and diag do not), for a
# pack that must stay small.
set -eu
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${OVA_CUDA_BUILD:-$SRC/build-cuda}
PACK=${1:-$SRC/.devpack}
ASSETS=$SRC/.cache/assets
CUDA=${CUDA_HOME:-/usr/local/cuda}

[ -f "$ASSETS/yolox_nano_dynbatch.onnx" ] || "$SRC/tools/fetch-assets.sh"
[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD" "$SRC" -Dcuda=enabled -Dtests=disabled
ninja -C "$BUILD" lib/libova.so.0.1.0 plugins/mux/libgstovabatch.so plugins/infer/libgstovainfer.so \
  plugins/track/libgstovatrack.so plugins/osd/libgstovaosd.so bench/gpu-pipeline/ova-pipeline-bench \
  apps/ova-app/ova-app
MP4=$ASSETS/vtest1080p30.mp4
[ -f "$MP4" ] || "$SRC/tools/make-1080p-h264.sh" "$MP4" 300
LONG=$ASSETS/vtest1080p30-long.mp4   # the pipeline benchmark's input: 20 s, steadier rates
[ -f "$LONG" ] || "$SRC/tools/make-1080p-h264.sh" "$LONG" 600
GSTROOT=${OVA_GST_SYSROOT:-$SRC/.cache/gst-sysroot}
MKROOT=${OVA_MAKE_GST_SYSROOT:-$SRC/../shared/device/make-gst-sysroot.sh}
if [ ! -f "$GSTROOT/env.sh" ]; then
  [ -f "$MKROOT" ] || { echo "no GStreamer sysroot in $GSTROOT and no $MKROOT to make one" >&2; exit 1; }
  bash "$MKROOT" "$GSTROOT"
fi

rm -rf "$PACK"
mkdir -p "$PACK/lib" "$PACK/assets"
for t in test-cuda-engine test-cuda-decode test-cuda-draw; do
  cc -O2 -std=gnu11 -Wall -o "$PACK/$t" "$SRC/tests/gpu/$t.c" \
    -I"$SRC/include" -I"$BUILD" -I"$CUDA/include" $(pkg-config --cflags glib-2.0 gstreamer-video-1.0) \
    -L"$BUILD/lib" -lova $(pkg-config --libs glib-2.0) "$CUDA/lib64/libcudart_static.a" -ldl -lrt -lpthread -lm \
    -Wl,-rpath,'$ORIGIN/lib'
done

# libova and every library it needs except the C/C++ runtime and CUDA's own
# (cuDNN and cuBLASLt come from the GPU machine's CUDA install / PyTorch wheels).
cp -L "$BUILD/lib/libova.so.0" "$PACK/lib/"
mkdir -p "$PACK/ova/plugins" "$PACK/ova/bin"
PLUGINS="$BUILD/plugins/mux/libgstovabatch.so $BUILD/plugins/infer/libgstovainfer.so $BUILD/plugins/track/libgstovatrack.so $BUILD/plugins/osd/libgstovaosd.so"
cp $PLUGINS "$PACK/ova/plugins/"
cp "$BUILD/bench/gpu-pipeline/ova-pipeline-bench" "$BUILD/apps/ova-app/ova-app" "$PACK/ova/bin/"
# the convolution micro-benchmark (calls the kernels' entry points in libova)
"$CUDA/bin/nvcc" -O2 -std=c++17 -I"$SRC/lib/engine/cuda" -I"$SRC/tests/gpu" -o "$PACK/ova/bin/conv-kernels" \
  "$SRC/bench/gpu-kernels/conv-kernels.cu" -L"$BUILD/lib" -lova
# what one node of a chain of dependent kernels costs in a CUDA graph
"$CUDA/bin/nvcc" -O2 -std=c++17 -arch=sm_90 -I"$SRC/tests/gpu" -o "$PACK/ova/bin/graph-latency" "$SRC/bench/gpu-kernels/graph-latency.cu"
SYSLIB=$GSTROOT/root/usr/lib/x86_64-linux-gnu
# shellcheck disable=SC2086
ldd "$BUILD/lib/libova.so.0" "$PACK/test-cuda-engine" "$PACK/test-cuda-decode" "$PACK/test-cuda-draw" $PLUGINS "$PACK/ova/bin/ova-pipeline-bench" "$PACK/ova/bin/ova-app" | \
    awk '/=> \//{print $3}' | sort -u | while read -r l; do
  b=$(basename "$l")
  case "$b" in
    libc.so*|libm.so*|libdl.so*|librt.so*|libpthread.so*|ld-linux*|libstdc++*|libgcc_s*|libcud*|libcublas*|libova*) ;;
    *) [ -e "$SYSLIB/$b" ] || [ -e "$GSTROOT/root/lib/x86_64-linux-gnu/$b" ] || cp -L "$l" "$PACK/lib/" ;;
  esac
done
(cd "$PACK" && tar czf libs.tgz lib && rm -rf lib && tar czf ova-gst.tgz ova && rm -rf ova)
(cd "$GSTROOT/.." && tar czf "$PACK/gst.tgz" --transform "s,^$(basename "$GSTROOT"),gst," "$(basename "$GSTROOT")")
cp "$SRC/tests/gpu/device.sh" "$SRC/tests/gpu/device-ab.sh" "$SRC/tests/gpu/torch_onnx.py" "$SRC/tests/gpu/device-all.sh" "$SRC/tests/gpu/device-diag.sh" "$SRC/tests/gpu/yolox-config.sh" \
   "$SRC/tests/gpu/test-cuda-pipeline.sh" "$SRC/tests/gpu/test-cuda-app.sh" "$SRC/tests/gpu/test-cuda-osd.sh" \
   "$SRC/configs/osnet_reid.txt" "$PACK/"
cp "$SRC/bench/gpu-pipeline/run.sh" "$PACK/gpu-pipeline.sh"
cp "$ASSETS/yolox_nano.onnx" "$ASSETS/yolox_nano_dynbatch.onnx" "$ASSETS/osnet_x0_25_msmt17.onnx" \
   "$ASSETS/vtest.avi" "$MP4" "$ASSETS/coco80.txt" "$PACK/assets/"
[ -n "${OVA_PACK_NO_PIPELINE_VIDEO:-}" ] || cp "$LONG" "$PACK/assets/"
# the generator of small convolution models for the per-kernel check: run on
# the GPU machine (its python3 has onnx and numpy), 20 MB of random weights
# need not travel
cp "$SRC/tests/gpu/make-conv-models.py" "$PACK/"
# ovaosd's labels need DejaVu Sans, which a bare GPU machine may lack
cp /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf "$PACK/assets/"
du -sh "$PACK"
echo "Run on the GPU machine (device tool, carry [\"$(basename "$PACK")\"]):"
echo "  bash $(basename "$PACK")/device-all.sh $(basename "$PACK")   # GPU path test, pipeline benchmark, then device.sh"
echo "  sh $(basename "$PACK")/device.sh $(basename "$PACK")         # engine checks and benchmark only"
