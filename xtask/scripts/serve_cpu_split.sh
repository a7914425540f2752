#!/usr/bin/env bash
# Where the server's time goes under load (docs/benchmarks.md, issue 17): one round of
# the load of serve_cpu_per_event.sh (a fresh `auditrail serve`, EVENTS events of ~300
# bytes over 8 connections in 1000-event requests), then prints
#   - the load generator's user/system CPU seconds and wall time,
#   - the server's user and system CPU seconds over the load, and its wall time,
#   - the 8 server threads that used the most CPU (tokio workers and the blocking pool,
#     where the store's writer runs a batch at a time),
#   - the load generator's result line, and the store's counters from /v1/stats
#     (batches, fsyncs and the seconds spent in them).
#
# usage: serve_cpu_split.sh BIN_DIR   (as serve_cpu_per_event.sh)
#   env: EVENTS (default 2400000), PORT (default 18600)
set -euo pipefail
bin=$1
events=${EVENTS:-2400000}
port=${PORT:-18600}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$bin/auditrail" serve --listen "127.0.0.1:$port" --data-dir "$dir/data" > "$dir/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
    grep -q "listening on" "$dir/serve.log" 2>/dev/null && break
    sleep 0.1
done
ticks=$(getconf CLK_TCK)
read -r u0 s0 < <(awk '{print $14, $15}' "/proc/$server/stat")
t0=$(date +%s.%N)
/usr/bin/time -f "loadgen user=%U sys=%S wall=%e" "$bin/examples/auditrail-loadgen" \
    --url "http://127.0.0.1:$port" --connections 8 --batch 1000 --event-bytes 300 \
    --events "$events" > "$dir/loadgen.log"
t1=$(date +%s.%N)
read -r u1 s1 < <(awk '{print $14, $15}' "/proc/$server/stat")
echo "server user=$(echo "scale=2; ($u1 - $u0) / $ticks" | bc) sys=$(echo "scale=2; ($s1 - $s0) / $ticks" | bc) wall=$(echo "scale=2; ($t1 - $t0) / 1" | bc)"
for t in /proc/"$server"/task/*; do
    echo "thread $(cat "$t/comm") $(basename "$t") cpu_s=$(awk -v k="$ticks" '{print ($14 + $15) / k}' "$t/stat")"
done | sort -t= -k2 -g -r | head -8
tail -1 "$dir/loadgen.log"
curl -s "http://127.0.0.1:$port/v1/stats" | python3 -c '
import json, sys
s = json.load(sys.stdin)["stores"]["store"]
print("store batches=%d fsyncs=%d fsync_s=%.2f records=%d" % (s["batches"], s["fsyncs"], s["fsyncSeconds"], s["records"]))'
