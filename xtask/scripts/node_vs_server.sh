#!/usr/bin/env bash
# Rounds of the node → server aim (docs/benchmarks.md, issue 17, stop 63): per round,
# the server alone (serve_cpu_per_event.sh: a fresh `auditrail serve` fed by
# auditrail-loadgen, 8 connections x 1000 events of ~300 B, a nonce per request), then
# each node build's `end_to_end` bench with the spool on against its own fresh server
# of the same binary, the builds' order reversed on even rounds. Prints events/s of
# each, and the node's own CPU per event: the bench process's utime + stime (its own
# threads, not the server child), read from /proc every 50 ms until it exits, divided
# by the events it emitted (EVENTS and the bench's 20 000 of warm-up).
#
# usage: node_vs_server.sh SERVER_BIN_DIR NODE_BENCH_DIR...
#   SERVER_BIN_DIR holds `auditrail` and `examples/auditrail-loadgen` (see
#   serve_cpu_per_event.sh); each NODE_BENCH_DIR holds an `end_to_end` bench binary
#   (cargo bench -p auditrail-target-eventserver --bench end_to_end --no-run, copied).
#   env: ROUNDS (default 5), EVENTS (default 1000000), PORT (default 18563)
set -u
srv=$1
shift
rounds=${ROUNDS:-5}
events=${EVENTS:-1000000}
tck=$(getconf CLK_TCK)
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for r in $(seq "$rounds"); do
    echo "== round $r $(date -u +%H:%M:%S) load $(cut -d' ' -f1 /proc/loadavg)"
    echo -n "server alone: "
    PORT=${PORT:-18563} NONCE=1 EVENTS=$events "$here/serve_cpu_per_event.sh" "$srv"
    order=("$@")
    if [ $((r % 2)) -eq 0 ]; then
        order=()
        for ((i = $#; i > 0; i--)); do order+=("${!i}"); done
    fi
    for nb in "${order[@]}"; do
        AUDITRAIL_BIN=$srv/auditrail E2E_EVENTS=$events E2E_RUNS=spool "$nb/end_to_end" --bench > "$out" 2>&1 &
        p=$!
        last=0
        while kill -0 $p 2>/dev/null; do
            t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null) && [ -n "$t" ] && last=$t
            sleep 0.05
        done
        wait $p
        tp=$(grep "spool on" "$out" | awk '{print $4}')
        us=$(echo "scale=3; $last * 1000000 / $tck / ($events + 20000)" | bc)
        echo "node $nb: spool_on_events_per_s=$tp node_cpu_us_per_event=$us"
    done
done
