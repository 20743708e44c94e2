#!/bin/bash
# SET throughput, latency percentiles and server CPU at 50 unpipelined clients against a fresh node
# started with the given flags (docs/benchmarks.md, "The unpipelined tail without checkpoints").
# usage (from the repository root, after npm run build): bench/unpipelined-tail.sh <label> [node flags…]
# e.g. bench/unpipelined-tail.sh defaults; bench/unpipelined-tail.sh no-interval --checkpoint-interval-ms 600000
set -u
L=$1; shift
P=$((32000 + RANDOM % 1000)); D=$(mktemp -d)
node dist/bundle/ringkv.js server --port $P --dir $D --loglevel warning --appendfsync everysec "$@" > /dev/null 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf $D' EXIT
for _ in $(seq 50); do redis-cli -p $P ping > /dev/null 2>&1 && break; sleep 0.1; done
redis-benchmark -p $P -t set -n 50000 -c 50 -d 100 -r 100000 -q > /dev/null 2>&1
t0=$(awk '{print $14+$15}' /proc/$PID/stat)
out=$(redis-benchmark -p $P -t set -n 200000 -c 50 -d 100 -r 100000 2>&1 | tr '\r' '\n')
t1=$(awk '{print $14+$15}' /proc/$PID/stat)
rps=$(echo "$out" | grep "throughput summary" | awk '{print $3}')
lat=$(echo "$out" | grep -A2 "latency summary" | tail -1)
echo "$L SET/s=$rps cpu_ticks=$((t1 - t0)) latency ms (avg min p50 p95 p99 max): $lat"
