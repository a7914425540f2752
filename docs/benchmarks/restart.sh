#!/bin/bash
# Time from start to listening of `auditrail serve` on an existing data dir (warm cache),
# alternating binaries. Usage: restart.sh DATA_DIR ROUNDS BIN...
dir=$1; rounds=$2; shift 2
for r in $(seq 1 $rounds); do
  for bin in "$@"; do
    s=$(date +%s.%N)
    $bin serve --data-dir $dir --listen 127.0.0.1:19983 > /tmp/restart.log 2>&1 &
    pid=$!
    until curl -s -o /dev/null http://127.0.0.1:19983/v1/health 2>/dev/null; do sleep 0.05; done
    e=$(date +%s.%N)
    cpu=$(awk '{print ($14+$15)/100}' /proc/$pid/stat)
    kill -INT $pid; wait $pid
    printf "round %s %s: listening after %.2f s, cpu %.2f s\n" $r $bin $(echo "$e - $s" | bc) $cpu
  done
done
