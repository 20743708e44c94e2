#!/usr/bin/env bash
# Side-by-side builds on a 3-node cluster: pipelined SET CPU per request and hot-key collection
# writes, one build after the other on the same ports.
#   bench/cluster-ab.sh DIST [DIST ...]    (DIST: a built dist/ directory, e.g. dist or a worktree's)
# Nodes run from DIST/bundle/ringkv.js, or DIST/src/cli.js for a build from before the bundle.
# N=3 W=2 R=2, appendfsync no, node timeout 2 s. CPU is the three nodes' user+system time from
# /proc over each run. NOSET=1 skips the pipelined SET. Needs redis-benchmark and redis-cli.
set -uo pipefail
BASE=${BASE_PORT:-17200}
DATA=$(mktemp -d)
trap 'for i in 0 1 2; do redis-cli -p $((BASE+i)) shutdown nosave >/dev/null 2>&1; done; rm -rf "$DATA"' EXIT
cpu() { local t=0 s; for p in $(pgrep -f "js server --port ($BASE|$((BASE+1))|$((BASE+2))) "); do s=$(awk '{print $14+$15}' /proc/$p/stat); t=$((t+s)); done; echo $t; }
start() {
  local entry="$1/bundle/ringkv.js"
  [ -f "$entry" ] || entry="$1/src/cli.js"
  rm -rf "$DATA"/n*
  for i in 0 1 2; do
    local seeds="" j
    for j in 0 1 2; do [ $j != $i ] && seeds="$seeds 127.0.0.1:$((BASE+j))"; done
    node "$entry" server --port $((BASE+i)) --dir "$DATA/n$i" --cluster-enabled yes --cluster-seeds "${seeds# }" \
      --replication-factor 3 --appendfsync no --cluster-node-timeout 2000 > "$DATA/n$i.log" 2>&1 &
  done
  for _ in $(seq 1 60); do redis-cli -p $BASE cluster info 2>/dev/null | grep -q 'cluster_state:ok' && break; sleep 0.5; done
  sleep 3
}
hz=$(getconf CLK_TCK)
for d in "$@"; do
  start "$d"
  if [ -z "${NOSET:-}" ]; then
    redis-benchmark -p $BASE --cluster -t set -P 16 -n 40000 -r 100000 -q >/dev/null 2>&1
    c0=$(cpu)
    out=$(redis-benchmark -p $BASE --cluster -t set -P 16 -n 200000 -r 100000 -q 2>&1 | tr '\r' '\n' | grep -v 'rps=' | grep SET | tail -1)
    c1=$(cpu)
    echo "$d SET -P16: $out | CPU us/req $(echo "($c1-$c0)*1000000/$hz/200000" | bc -l | cut -c1-6)"
  fi
  for t in hset zadd lpush; do
    c0=$(cpu)
    out=$(redis-benchmark -p $BASE --cluster -t $t -n 20000 -r 100000 -q 2>&1 | tr '\r' '\n' | grep -v 'rps=' | grep -i "^$t" | tail -1)
    c1=$(cpu)
    echo "$d $t: $out | CPU us/req $(echo "($c1-$c0)*1000000/$hz/20000" | bc -l | cut -c1-7)"
  done
  for i in 0 1 2; do redis-cli -p $((BASE+i)) shutdown nosave >/dev/null 2>&1; done
  sleep 2
done
