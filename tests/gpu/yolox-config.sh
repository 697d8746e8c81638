# shellcheck shell=sh
# ova — Open Video Analytics
# SPDX-License-Identifier: MIT
#
# Sourced by the GPU test and benchmark scripts: writes the nvinfer-style
# config of the YOLOX-Nano detector they all run (yolox_nano_dynbatch.onnx,
# letterboxed BGR 0-255, threshold 0.3, NMS IoU 0.45), and the ova-app
# config that runs it on N copies of a video.
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

# app_config FILE URI SOURCES DETECTOR_CONFIG [SECONDARY_CONFIG [APPLICATION_LINE]]
#   ova-app (deepstream-app keys): SOURCES copies of URI batched together,
#   the detector, the tracker, the secondary GIE (re-id) when given, no OSD,
#   a fakesink; APPLICATION_LINE: one more key of [application]
app_config () {
  {
    cat <<CFG
[application]
enable-perf-measurement=1
perf-measurement-interval-sec=2
gpu-id=0
${6:-}
[source0]
enable=1
type=3
uri=$2
num-sources=$3
gpu-id=0
cudadec-memtype=0
[streammux]
batch-size=$3
batched-push-timeout=40000
nvbuf-memory-type=0
[primary-gie]
enable=1
config-file=$4
batch-size=$3
gie-unique-id=1
[tracker]
enable=1
CFG
    if [ -n "${5:-}" ]; then
      cat <<CFG
[secondary-gie0]
enable=1
config-file=$5
gie-unique-id=2
operate-on-gie-id=1
CFG
    fi
    cat <<CFG
[osd]
enable=0
[sink0]
enable=1
type=1
sync=0
CFG
  } >"$1"
}
