#!/usr/bin/env bash
# Messaging benchmark: 10,000 msg/s for 60 s through ova's publisher (spool +
# adapter) to mosquitto and to redis-server, broker stopped and restarted half
# way, every message counted by an independent subscriber (loss, duplicates,
# order per source); in the same run the broker's own client publishing flat out
# (mosquitto_pub -q 1 -l, redis-benchmark XADD) for the throughput ratio.
#   bash bench/msg/run.sh            full run (about 3 minutes)
#   OVA_BENCH_SHORT=1 bash bench/msg/run.sh   10 s version
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${OVA_BUILD:-$here/build}
bin=$BUILD/tests/msg/ova-msg-bench
[ -x "$bin" ] || ninja -C "$BUILD" tests/msg/ova-msg-bench >/dev/null
mkdir -p "$here/out"
args=()
[ -n "${OVA_BENCH_SHORT:-}" ] && args=(--duration 10 --restart-at 5 --direct 20000)
rc=0
for p in mqtt redis; do
  echo "== $p"
  OVA_SOURCE_DIR=$here OVA_BUILD_DIR=$BUILD "$bin" --proto "$p" "${args[@]}" \
    --json "$here/out/bench-msg-$p.json" 2> >(grep -v -e '^$' -e 'Message:' -e 'WARNING' >&2) || rc=1
done
exit $rc
