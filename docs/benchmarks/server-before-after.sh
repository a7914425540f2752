#!/usr/bin/env bash
# Issue 10 before/after: the same `cargo xtask bench server` load generator (in-process
# server, durable and flush modes, 8 connections x batches of 1000 x 300 B, 10 s each),
# built from db565df (before the restructuring) and from main, run alternately.
set -u
# Build each tree with `cargo build --release -p auditrail-eventserver --example auditrail-loadgen`
# and copy target/release/examples/auditrail-loadgen aside as B (before) and A (after).
B=${B:?path of the before binary}; A=${A:?path of the after binary}; OUT=${OUT:-/tmp}
ROUNDS=${ROUNDS:-3}
for r in $(seq 1 $ROUNDS); do
  for who in before after; do
    bin=$B; [ $who = after ] && bin=$A
    $bin --mode both --connections 8 --seconds 10 --batch 1000 --event-bytes 300 --json $OUT/bench10-$who-$r.json > $OUT/bench10-$who-$r.txt 2>&1
    echo "round $r $who: $(grep -iE 'durable|flush' $OUT/bench10-$who-$r.txt | tr '\n' ' ' | cut -c1-300)"
  done
done
