#!/usr/bin/env bash
# One round of the server's CPU per stored event (docs/benchmarks.md, issue 17):
# a fresh `auditrail serve` on a fresh folder fed EVENTS events by auditrail-loadgen
# (8 connections, 1000-event requests, ~300-byte events); prints the server's
# utime + stime over the load divided by the events found in the store's segment files,
# with the load generator's events/s and latency. Alternate two builds round by round
# (A B A B ...) and compare within pairs: the machine's load moves absolute numbers.
#
# usage: serve_cpu_per_event.sh BIN_DIR [BATCH_MAX_EVENTS]
#   BIN_DIR holds `auditrail` and `examples/auditrail-loadgen` (a release target folder:
#   cargo build --release -p auditrail-cli --bin auditrail -p auditrail-eventserver --example auditrail-loadgen)
#   BATCH_MAX_EVENTS: run with a config whose store sets this cap (default config otherwise)
#   env: EVENTS (default 2400000), PORT (default 18517), NONCE=1 (send a nonce per request,
#   as nodes do: the server then signs every answer and hashes every body; loadgens built
#   before `--nonce` existed refuse it)
set -euo pipefail
bin=$1
batch=${2:-}
events=${EVENTS:-2400000}
port=${PORT:-18517}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
args=(--listen "127.0.0.1:$port" --data-dir "$dir/data")
if [ -n "$batch" ]; then
    cat > "$dir/server.toml" <<EOT
listen = "127.0.0.1:$port"
data_dir = "$dir/data"
[[destinations]]
type = "store"
path = "store"
batch_max_events = $batch
EOT
    args=(--config "$dir/server.toml")
fi
"$bin/auditrail" serve "${args[@]}" > "$dir/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
    grep -q "listening on" "$dir/serve.log" 2>/dev/null && break
    sleep 0.1
done
cpu() { awk '{print $14 + $15}' "/proc/$server/stat"; }
before=$(cpu)
"$bin/examples/auditrail-loadgen" --url "http://127.0.0.1:$port" --connections 8 --batch 1000 \
    --event-bytes 300 --events "$events" ${NONCE:+--nonce} > "$dir/loadgen.log"
after=$(cpu)
stored=$(find "$dir/data" -name '[0-9]*.jsonl' -exec cat {} + | wc -l)
ticks=$(getconf CLK_TCK)
us=$(echo "scale=3; ($after - $before) * 1000000 / $ticks / $stored" | bc)
echo "cap=${batch:-default} stored=$stored server_cpu_us_per_event=$us $(tail -1 "$dir/loadgen.log" | awk -F'|' '{gsub(/ /, ""); print "events_per_s=" $5 " p50_ms=" $7 " p99_ms=" $8}')"
