# shellcheck shell=sh
# ova — Open Video Analytics
# SPDX-License-Identifier: MIT
#
# Sourced by the GPU test and benchmark scripts: writes the nvinfer-style
# config of the YOLOX-Nano detector they all run (yolox_nano_dynbatch.onnx,
# letterboxed BGR 0-255, threshold 0.3, NMS IoU 0.45).
#
# yolox_config FILE ASSET_DIR BATCH NETWORK_MODE [PLAN_FILE]
#   NETWORK_MODE: 0 fp32, 2 fp16; PLAN_FILE: model-engine-file (plan cache)
yolox_config () {
  {
    echo "[property]"
    echo "onnx-file=$2/yolox_nano_dynbatch.onnx"
    [ -z "${5:-}" ] || echo "model-engine-file=$5"
    cat <<CFG
labelfile-path=$2/coco80.txt
batch-size=$3
net-scale-factor=1.0
model-color-format=1
maintain-aspect-ratio=1
pad-value=114
network-mode=$4
num-detected-classes=80
parse-bbox-func-name=yolox
[class-attrs-all]
pre-cluster-threshold=0.3
nms-iou-threshold=0.45
CFG
  } >"$1"
}
