#!/usr/bin/env bash
# ova-app end-to-end tests on the real sample video. Usage: test-app.sh CASE
set -uo pipefail
APP="$OVA_BUILD_DIR/apps/ova-app/ova-app"
VIDEO="$OVA_SOURCE_DIR/.cache/assets/vtest.avi"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
[ -f "$VIDEO" ] || { echo "sample video missing (run tools/fetch-assets.sh)"; exit 77; }

case "$1" in
  four-sources)
    cat > "$tmp/c.txt" <<CFG
[application]
perf-measurement-interval-sec=1
[source0]
enable=1
type=3
uri=file://$VIDEO
num-sources=4
[streammux]
batch-size=4
[sink0]
enable=1
type=1
CFG
    out=$("$APP" -c "$tmp/c.txt" 2>&1) || fail "exit $?: $out"
    echo "$out" | tail -3
    echo "$out" | grep -q "3180 frames from 4 sources" || fail "expected 4 x 795 frames"
    echo "$out" | grep -q '^\*\*PERF:' || fail "no fps line"
    ;;
  latency)
    cat > "$tmp/c.txt" <<CFG
[source0]
uri=file://$VIDEO
[sink0]
type=1
CFG
    out=$(OVA_LATENCY=1 "$APP" -q -c "$tmp/c.txt" 2>&1) || fail "exit $?: $out"
    echo "$out" | grep -E "^\s+total\s+median" || fail "no end-to-end latency line: $out"
    echo "$out" | grep -E "^\s+mux\s+median" || fail "no per-element latency line: $out"
    ;;
  unknown-key)
    printf '[source0]\nuri=file://%s\n\n[sink0]\ntype=1\nsnyc=1\n' "$VIDEO" > "$tmp/bad.txt"
    out=$("$APP" -c "$tmp/bad.txt" 2>&1); rc=$?
    [ $rc -eq 2 ] || fail "expected exit 2, got $rc"
    echo "$out" | grep -q "bad.txt:6: \[sink0\] unknown key 'snyc'" || fail "message: $out"
    ;;
  bad-value)
    printf '[source0]\nuri=file://%s\n[streammux]\nbatch-size=four\n' "$VIDEO" > "$tmp/bad.txt"
    out=$("$APP" -c "$tmp/bad.txt" 2>&1); rc=$?
    [ $rc -eq 2 ] || fail "expected exit 2, got $rc"
    echo "$out" | grep -q "bad.txt:4: \[streammux\] batch-size: 'four' is not an integer" || fail "message: $out"
    ;;
  unknown-group)
    printf '[source0]\nuri=file://%s\n[sourc1]\nuri=x\n' "$VIDEO" > "$tmp/bad.txt"
    out=$("$APP" -c "$tmp/bad.txt" 2>&1); rc=$?
    [ $rc -eq 2 ] || fail "expected exit 2, got $rc"
    echo "$out" | grep -q "bad.txt:3: unknown group \[sourc1\]" || fail "message: $out"
    ;;
  missing-input)
    printf '[source0]\nuri=file:///nonexistent/video.mp4\n[sink0]\ntype=1\n' > "$tmp/bad.txt"
    out=$("$APP" -c "$tmp/bad.txt" 2>&1); rc=$?
    [ $rc -eq 2 ] || fail "expected exit 2, got $rc"
    echo "$out" | grep -q "input file '/nonexistent/video.mp4' does not exist" || fail "message: $out"
    ;;
  missing-config)
    out=$("$APP" -c "$tmp/none.txt" 2>&1); rc=$?
    [ $rc -eq 2 ] || fail "expected exit 2, got $rc"
    echo "$out" | grep -q "none.txt" || fail "message does not name the file: $out"
    ;;
  corrupt-input)
    head -c 200000 "$VIDEO" | tail -c 100000 > "$tmp/corrupt.avi"
    printf '[source0]\nuri=file://%s\n[sink0]\ntype=1\n' "$tmp/corrupt.avi" > "$tmp/c.txt"
    out=$(timeout 60 "$APP" -q -c "$tmp/c.txt" 2>&1); rc=$?
    [ $rc -eq 1 ] || fail "expected exit 1 (stream error), got $rc: $out"
    echo "$out" | grep -q "ova-app: error from source0" || fail "message does not name the source: $out"
    ;;
  sigint-file)
    # Interrupting a looping run must still finalise the mp4 (EOS reaches the muxer).
    cat > "$tmp/c.txt" <<CFG
[source0]
uri=file://$VIDEO
[tests]
file-loop=1
[sink0]
type=3
container=1
codec=1
output-file=$tmp/out.mp4
CFG
    "$APP" -q -c "$tmp/c.txt" > "$tmp/log" 2>&1 &
    pid=$!
    sleep 4
    kill -INT $pid
    wait $pid; rc=$?
    [ $rc -eq 0 ] || fail "exit $rc: $(cat "$tmp/log")"
    [ -s "$tmp/out.mp4" ] || fail "no mp4 written"
    gst-discoverer-1.0 "$tmp/out.mp4" > "$tmp/disc" 2>&1 || fail "mp4 not readable: $(cat "$tmp/disc")"
    grep -q "H.264" "$tmp/disc" || fail "no H.264 stream: $(cat "$tmp/disc")"
    grep -q "Duration: 0:00:00.000000000" "$tmp/disc" && fail "mp4 has no duration (not finalised)"
    echo "ok: $(grep Duration "$tmp/disc")"
    ;;
  rtsp-reconnect)
    # A camera that drops and comes back, next to a healthy camera that must never stall.
    SRV="$OVA_BUILD_DIR/tests/app/ova-test-rtsp-server"
    [ -x "$SRV" ] || { echo "gst-rtsp-server missing: test server not built"; exit 77; }
    start_server() { # NAME PORT
      "$SRV" --port "$2" --mount /cam > "$tmp/$1.out" 2>&1 &
      echo $! > "$tmp/$1.pid"
      for _ in $(seq 50); do grep -q '^PORT' "$tmp/$1.out" && break; sleep 0.1; done
      grep -q '^PORT' "$tmp/$1.out" || fail "server $1 did not start: $(cat "$tmp/$1.out")"
    }
    trap 'for f in "$tmp"/*.pid; do [ -f "$f" ] && kill $(cat "$f") 2>/dev/null; done; rm -rf "$tmp"' EXIT
    start_server flaky 0
    start_server healthy 0
    port=$(awk '/^PORT/{print $2}' "$tmp/flaky.out")
    port2=$(awk '/^PORT/{print $2}' "$tmp/healthy.out")
    cat > "$tmp/c.txt" <<CFG
[application]
perf-measurement-interval-sec=1
[streammux]
live-source=1
batch-size=2
batched-push-timeout=40000
[source0]
type=4
uri=rtsp://127.0.0.1:$port/cam
rtsp-reconnect-interval-sec=2
rtsp-reconnect-attempts=-1
select-rtp-protocol=4
latency=100
[source1]
type=4
uri=rtsp://127.0.0.1:$port2/cam
select-rtp-protocol=4
[tiled-display]
enable=1
rows=1
columns=2
width=640
height=240
[sink0]
type=1
[sink1]
type=3
container=2
output-file=$tmp/rec.mkv
CFG
    "$APP" --max-seconds 20 -c "$tmp/c.txt" > "$tmp/log" 2>&1 &
    apid=$!
    sleep 6
    kill -9 "$(cat "$tmp/flaky.pid")"; wait "$(cat "$tmp/flaky.pid")" 2>/dev/null; rm "$tmp/flaky.pid"
    echo "server killed"
    sleep 5
    start_server flaky "$port"
    echo "server restarted"
    wait $apid; rc=$?
    cat "$tmp/log"
    [ $rc -eq 0 ] || fail "ova-app exit $rc"
    n=$(sed -n 's/^ova-app: source 0 .*: \([0-9]*\) reconnects.*/\1/p' "$tmp/log")
    [ -n "$n" ] && [ "$n" -ge 1 ] || fail "no reconnect counted"
    grep -q "source 0 .*: reconnected" "$tmp/log" || fail "reconnect not logged"
    grep -q '^\*\*PERF reconnects: source0=[1-9]' "$tmp/log" || fail "no reconnect count in the perf output"
    # Skip the first interval (connecting); then the healthy camera (second column) never at 0 fps.
    awk '/^\*\*PERF:/ { n++; if (n > 1 && $4 + 0 <= 0) bad++ } END { if (n < 10 || bad) exit 1 }' "$tmp/log" \
      || fail "the healthy source stalled (or too few perf lines)"
    awk '/^\*\*PERF:/ { if ($2 + 0 == 0) z++ } END { if (!z) exit 1 }' "$tmp/log" \
      || fail "the camera never dropped: was the server killed?"
    awk '/^\*\*PERF:/ { n++; cam[n] = $2 + 0 } END { if (cam[n] <= 0 && cam[n-1] <= 0) exit 1 }' "$tmp/log" \
      || fail "the camera does not stream after the restart"
    # The recording of the tiled output went on through the drop and was finalised.
    gst-discoverer-1.0 "$tmp/rec.mkv" > "$tmp/disc" 2>&1 || fail "recording not readable: $(cat "$tmp/disc")"
    grep -q "H.264" "$tmp/disc" || fail "no H.264 in the recording: $(cat "$tmp/disc")"
    grep Duration "$tmp/disc"
    ;;
  rtsp-sink)
    # Type 4 sink: ova-app serves the tiled output on rtsp://127.0.0.1:PORT/ds-test; a client reads frames.
    read -r rport uport < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
u=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s[0].bind(("127.0.0.1",0)); u.bind(("127.0.0.1",0))
print(s[0].getsockname()[1], u.getsockname()[1])')
    cat > "$tmp/c.txt" <<CFG
[source0]
uri=file://$VIDEO
[tests]
file-loop=1
[tiled-display]
enable=1
rows=1
columns=1
width=640
height=480
[sink0]
type=4
codec=1
bitrate=2000000
rtsp-port=$rport
udp-port=$uport
sync=1
CFG
    "$APP" -q --max-seconds 25 -c "$tmp/c.txt" > "$tmp/log" 2>&1 &
    apid=$!
    trap 'kill $apid 2>/dev/null; rm -rf "$tmp"' EXIT
    for _ in $(seq 50); do grep -q "RTSP stream at" "$tmp/log" && break; sleep 0.1; done
    grep -q "rtsp://localhost:$rport/ds-test" "$tmp/log" || fail "no RTSP announcement: $(cat "$tmp/log")"
    timeout 20 gst-launch-1.0 -q rtspsrc location="rtsp://127.0.0.1:$rport/ds-test" protocols=tcp latency=100 ! \
      rtph264depay ! h264parse ! avdec_h264 ! videoconvert ! \
      video/x-raw,format=I420,width=640,height=480 ! fakesink num-buffers=30 > "$tmp/client" 2>&1; crc=$?
    kill -INT $apid; wait $apid; rc=$?
    cat "$tmp/log"
    [ $crc -eq 0 ] || fail "the RTSP client got no 30 frames of 640x480 (exit $crc): $(cat "$tmp/client")"
    [ $rc -eq 0 ] || fail "ova-app exit $rc"
    echo "ok: 30 frames of 640x480 H.264 read back over RTSP"
    ;;
  osd-boxes-mp4)
    # Detector + OSD (class 0 boxes in green, 4 px) recorded to mp4: decode it and
    # check the box pixels against detections-jsonl. No tiler, one source: no scaling.
    PY=python3
    [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import numpy' 2>/dev/null && PY=/usr/bin/python3
    "$PY" -c 'import numpy' 2>/dev/null || { echo "python3-numpy missing"; exit 77; }
    [ -f "$OVA_SOURCE_DIR/.cache/assets/yolox_nano.onnx" ] || { echo "yolox_nano.onnx missing (run tools/fetch-assets.sh)"; exit 77; }
    cat > "$tmp/c.txt" <<CFG
[application]
detections-jsonl=$tmp/det.jsonl
[source0]
uri=file://$VIDEO
[streammux]
batch-size=1
[primary-gie]
config-file=$OVA_SOURCE_DIR/configs/yolox_nano.txt
bbox-border-color0=0;1;0;1
[osd]
border-width=4
display-text=0
[sink0]
type=3
container=1
codec=1
bitrate=8000000
output-file=$tmp/out.mp4
CFG
    out=$("$APP" -q --max-seconds 6 -c "$tmp/c.txt" 2>&1) || fail "exit $?: $out"
    echo "$out" | tail -3
    gst-launch-1.0 -q filesrc location="$tmp/out.mp4" ! qtdemux ! h264parse ! avdec_h264 ! videoconvert ! \
      video/x-raw,format=RGB ! filesink location="$tmp/frames.rgb" || fail "cannot decode the mp4"
    "$PY" "$OVA_SOURCE_DIR/tests/app/check-osd-boxes.py" "$tmp/frames.rgb" 768 576 "$tmp/det.jsonl" 0 00ff00 4 \
      || fail "box pixels"
    ;;
  msg-broker)
    # Type 6 sink to a real mosquitto: detections arrive as messages; a
    # [message-consumer0] receives a command sent with mosquitto_pub.
    command -v mosquitto > /dev/null || [ -x /usr/sbin/mosquitto ] || { echo "mosquitto missing"; exit 77; }
    command -v mosquitto_sub > /dev/null || { echo "mosquitto-clients missing"; exit 77; }
    [ -f "$OVA_SOURCE_DIR/.cache/assets/yolox_nano.onnx" ] || { echo "yolox_nano.onnx missing (run tools/fetch-assets.sh)"; exit 77; }
    MOSQ=$(command -v mosquitto || echo /usr/sbin/mosquitto)
    mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$mport" > "$tmp/mosq.conf"
    "$MOSQ" -c "$tmp/mosq.conf" > "$tmp/mosq.log" 2>&1 &
    mpid=$!
    trap 'kill $mpid $subpid $apid 2>/dev/null; rm -rf "$tmp"' EXIT
    for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$mport") 2>/dev/null && break; sleep 0.1; done
    kill -0 $mpid 2>/dev/null || fail "mosquitto did not start: $(cat "$tmp/mosq.log")"
    mosquitto_sub -h 127.0.0.1 -p "$mport" -t ova/test/events -C 10 -W 40 > "$tmp/msgs" 2>&1 &
    subpid=$!
    cat > "$tmp/c.txt" <<CFG
[source0]
uri=file://$VIDEO
[primary-gie]
config-file=$OVA_SOURCE_DIR/configs/yolox_nano.txt
[tracker]
enable=1
[osd]
border-width=2
[sink0]
type=1
[sink1]
type=6
msg-conv-payload-type=2
msg-broker-proto-lib=mqtt
msg-broker-conn-str=127.0.0.1;$mport
topic=ova/test/events
[message-consumer0]
proto-lib=mqtt
conn-str=127.0.0.1;$mport
subscribe-topic-list=ova/test/cmd
CFG
    "$APP" -q --max-seconds 10 -c "$tmp/c.txt" > "$tmp/log" 2>&1 &
    apid=$!
    for _ in $(seq 100); do grep -q "listening for commands" "$tmp/log" && break; sleep 0.1; done
    sleep 2
    mosquitto_pub -h 127.0.0.1 -p "$mport" -t ova/test/cmd -m '{"command":"set-property","element":"osd","property":"border-width","value":5}'
    mosquitto_pub -h 127.0.0.1 -p "$mport" -t ova/test/cmd -m '{"command":"explode"}'
    wait $apid; rc=$?
    wait $subpid; src=$?
    cat "$tmp/log"
    [ $rc -eq 0 ] || fail "ova-app exit $rc"
    [ $src -eq 0 ] || fail "mosquitto_sub did not get 10 messages (exit $src): $(cat "$tmp/msgs") $(cat "$tmp/mosq.log")"
    head -2 "$tmp/msgs"
    grep -q '"person"' "$tmp/msgs" || grep -q 'person' "$tmp/msgs" || fail "no person detection in the messages"
    grep -q "command on 'ova/test/cmd'.*set-property" "$tmp/log" || fail "the command was not received"
    grep -q "set-property: osd.border-width = 5" "$tmp/log" || fail "the command was not applied"
    grep -q "rejected a message on 'ova/test/cmd'" "$tmp/log" || fail "a bad command was not rejected"
    ;;
  rtsp-stall)
    # A camera whose server freezes (SIGSTOP: the connection stays open, no data)
    # is detected after rtsp-reconnect-interval-sec and reconnected once it thaws.
    SRV="$OVA_BUILD_DIR/tests/app/ova-test-rtsp-server"
    [ -x "$SRV" ] || { echo "gst-rtsp-server missing: test server not built"; exit 77; }
    "$SRV" --port 0 --mount /cam > "$tmp/srv.out" 2>&1 &
    spid=$!
    trap 'kill -CONT $spid 2>/dev/null; kill $spid $apid 2>/dev/null; rm -rf "$tmp"' EXIT
    for _ in $(seq 50); do grep -q '^PORT' "$tmp/srv.out" && break; sleep 0.1; done
    port=$(awk '/^PORT/{print $2}' "$tmp/srv.out")
    [ -n "$port" ] || fail "server did not start: $(cat "$tmp/srv.out")"
    cat > "$tmp/c.txt" <<CFG
[application]
perf-measurement-interval-sec=1
[source0]
type=4
uri=rtsp://127.0.0.1:$port/cam
rtsp-reconnect-interval-sec=2
select-rtp-protocol=4
[sink0]
type=1
CFG
    "$APP" --max-seconds 16 -c "$tmp/c.txt" > "$tmp/log" 2>&1 &
    apid=$!
    sleep 4
    kill -STOP $spid
    sleep 5
    kill -CONT $spid
    wait $apid; rc=$?
    cat "$tmp/log"
    [ $rc -eq 0 ] || fail "ova-app exit $rc"
    grep -q "source 0 .*: no frame for 2 s" "$tmp/log" || fail "the stall was not detected"
    grep -q "source 0 .*: reconnected" "$tmp/log" || fail "no reconnect after the stall"
    awk '/^\*\*PERF:/ { n++; cam[n] = $2 + 0 } END { if (cam[n] <= 0 && cam[n-1] <= 0) exit 1 }' "$tmp/log" \
      || fail "the camera does not stream after the stall"
    ;;
  bad-sink-config)
    # New groups and keys are checked like the others: file, line, group, key.
    printf '[source0]\nuri=file://%s\n[primary-gie]\nconfig-file=x.txt\nbbox-border-color0=1;0;zero;1\n' "$VIDEO" > "$tmp/bad.txt"
    out=$("$APP" -c "$tmp/bad.txt" 2>&1); rc=$?
    [ $rc -eq 2 ] || fail "expected exit 2, got $rc"
    echo "$out" | grep -q "bad.txt:5: \[primary-gie\] bbox-border-color0: '1;0;zero;1' is not a colour" || fail "message: $out"
    printf '[source0]\nuri=file://%s\n[sink1]\ntype=6\ntopic=x\n' "$VIDEO" > "$tmp/bad.txt"
    out=$("$APP" -c "$tmp/bad.txt" 2>&1); rc=$?
    [ $rc -eq 2 ] || fail "expected exit 2, got $rc"
    echo "$out" | grep -q "bad.txt:3: \[sink1\] type 6 (message broker) needs 'msg-broker-proto-lib'" || fail "message: $out"
    printf '[source0]\nuri=file://%s\n[message-consumer0]\nproto-lib=mqtt\nconn-str=127.0.0.1;1\n' "$VIDEO" > "$tmp/bad.txt"
    out=$("$APP" -c "$tmp/bad.txt" 2>&1); rc=$?
    [ $rc -eq 2 ] || fail "expected exit 2, got $rc"
    echo "$out" | grep -q "bad.txt:3: \[message-consumer0\] needs 'proto-lib', 'conn-str' and 'subscribe-topic-list'" || fail "message: $out"
    printf '[source0]\nuri=file://%s\n[sink0]\ntype=6\nmsg-conv-payload-type=257\n' "$VIDEO" > "$tmp/bad.txt"
    out=$("$APP" -c "$tmp/bad.txt" 2>&1); rc=$?
    [ $rc -eq 2 ] || fail "expected exit 2, got $rc"
    echo "$out" | grep -q "bad.txt:5: \[sink0\] msg-conv-payload-type: 257 is out of range \[0, 2\]" || fail "message: $out"
    printf '[source0]\ntype=4\nuri=rtsp://127.0.0.1:1/x\nrtsp-reconnect-attempts=-2\n' > "$tmp/bad.txt"
    out=$("$APP" -c "$tmp/bad.txt" 2>&1); rc=$?
    [ $rc -eq 2 ] || fail "expected exit 2, got $rc"
    echo "$out" | grep -q "bad.txt:4: \[source0\] rtsp-reconnect-attempts: -2 is out of range" || fail "message: $out"
    ;;
  rtsp-give-up)
    # No server at all, 2 attempts: the source is given up; with no source left the app ends with 1.
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    printf '[source0]\ntype=4\nuri=rtsp://127.0.0.1:%s/none\nrtsp-reconnect-interval-sec=1\nrtsp-reconnect-attempts=2\n[sink0]\ntype=1\n' "$port" > "$tmp/c.txt"
    out=$(timeout 30 "$APP" -q -c "$tmp/c.txt" 2>&1); rc=$?
    echo "$out"
    [ $rc -eq 1 ] || fail "expected exit 1, got $rc"
    echo "$out" | grep -q "reconnecting (attempt 2 of 2)" || fail "no second attempt"
    echo "$out" | grep -q "giving up after 2 reconnection attempts" || fail "did not give up"
    echo "$out" | grep -q "0 reconnects, 2 reconnection attempts, gave up" || fail "no summary"
    ;;
  help)
    "$APP" --help | grep -q -- "--config" || fail "--help lacks --config"
    ;;
  *) echo "unknown case $1"; exit 2 ;;
esac
exit 0
