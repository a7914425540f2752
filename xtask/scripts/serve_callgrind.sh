#!/usr/bin/env bash
# The whole server's instructions per stored event, counted by callgrind
# (docs/benchmarks.md, issue 17): a fresh `auditrail serve` (default config) under
# `valgrind --tool=callgrind`, fed EVENTS events of ~300 bytes over 8 connections in
# 1000-event requests with a nonce per request (as nodes send), then SIGINT. Prints the
# process's instructions divided by the events found in the store's segment files
# (start-up and shut-down included), and keeps the callgrind file at OUT for
# `callgrind_annotate --inclusive=yes OUT`. Instruction counts do not depend on the
# machine's load, unlike CPU seconds (serve_cpu_per_event.sh). Under valgrind SHA-256
# runs its portable code (valgrind has no SHA extensions): read its share as blocks
# hashed, not as the real cost.
#
# usage: serve_callgrind.sh BIN_DIR OUT
#   BIN_DIR as for serve_cpu_per_event.sh; env: EVENTS (default 100000), PORT (default 18660)
set -euo pipefail
bin=$1
out=$2
events=${EVENTS:-100000}
port=${PORT:-18660}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$out" "$bin/auditrail" serve \
    --listen "127.0.0.1:$port" --data-dir "$dir/data" > "$dir/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 600); do
    grep -q "listening on" "$dir/serve.log" 2>/dev/null && break
    sleep 0.1
done
"$bin/examples/auditrail-loadgen" --url "http://127.0.0.1:$port" --connections 8 --batch 1000 \
    --event-bytes 300 --events "$events" --nonce > "$dir/loadgen.log"
stored=$(find "$dir/data" -name '[0-9]*.jsonl' -exec cat {} + | wc -l)
kill -INT $server
wait $server || true
total=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ && !n++ {gsub(/,/, "", $1); print $1}')
echo "stored=$stored instructions=$total per_event=$((total / stored))"
