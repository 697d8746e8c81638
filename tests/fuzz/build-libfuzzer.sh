#!/bin/sh
# Builds the loader fuzz target with clang + libFuzzer + ASan/UBSan and, with
# a duration, runs it:   tests/fuzz/build-libfuzzer.sh BUILD_DIR [SECONDS]
# (BUILD_DIR: a configured meson build dir, for the generated onnx.pb-c.[ch]
# and ova-config.h). The corpus grows in tests/fuzz/corpus.
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: build-libfuzzer.sh BUILD_DIR [SECONDS]}" && pwd)
out="$build/tests/fuzz/fuzz-onnx-loader-libfuzzer"
mkdir -p "$(dirname "$out")"
ninja -C "$build" lib/engine/onnx.pb-c.h >/dev/null
clang -g -O1 -std=gnu11 -fsanitize=fuzzer,address,undefined -fsanitize-recover=undefined \
  -DOVA_LIBFUZZER -DOVA_COMPILATION -I"$src/include" -I"$src/lib" -I"$build/lib" -I"$build" \
  $(pkg-config --cflags glib-2.0 libprotobuf-c) \
  "$src/tests/fuzz/fuzz-onnx-loader.c" "$build/lib/engine/onnx.pb-c.c" \
  "$src"/lib/engine/*.c "$src"/lib/engine/ops/*.c \
  -o "$out" $(pkg-config --libs glib-2.0 libprotobuf-c) -ldnnl -fopenmp -lz -lm
echo "built $out"
if [ "${2:-}" ]; then
  mkdir -p "$build/fuzz-corpus"
  cp -n "$src"/tests/fuzz/corpus/* "$build/fuzz-corpus/" 2>/dev/null || true
  "$out" -max_total_time="$2" -rss_limit_mb=2048 -max_len=65536 -timeout=10 \
    -dict="$src/tests/fuzz/onnx.dict" "$build/fuzz-corpus" "$src/tests/fuzz/corpus"
fi
