#!/usr/bin/env bash
# ovainfer (appsrc batches as ovamux makes them -> ovainfer -> fakesink) against
# bare inference on the same preprocessed frames with the same threads: ova's
# engine alone and ONNX Runtime alone (node + onnxruntime-node).
#   bash bench/infer/run.sh [infer-bench options]   (e.g. --frames 50 --rounds 5 --threads 1)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${OVA_BUILD:-build}
export OVA_SOURCE_DIR="$here"
export GST_PLUGIN_PATH="$here/$build/plugins"
if [ -z "${OVA_ORT_NODE_PATH:-}" ] && [ ! -d "$here/.cache/ort/node_modules/onnxruntime-node" ] && command -v npm >/dev/null; then
  mkdir -p "$here/.cache/ort"
  (cd "$here/.cache/ort" && npm install --ignore-scripts --no-audit --no-fund onnxruntime-node >/dev/null 2>&1) || true
fi
exec "$here/$build/bench/infer/infer-bench" "$@"
