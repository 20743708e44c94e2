#!/usr/bin/env bash
# Runs units of Redis 7.0's own test suite (tests/unit/*.tcl) against ringkv, one fresh node per
# unit, in the suite's external-server mode. Opt-in, not part of `npm test`: some units probe
# Redis's internals (encodings' byte layout, query-buffer sizing, replication), so a unit's
# failures are leads to read, not a verdict. docs/reliability.md lists the last run.
#
#   npm run build && scripts/redis-test-suite.sh [--cluster|--spawn] [unit ...]     e.g. unit/type/list unit/expire
#
# --cluster: against a 3-node cluster (the suite's --cluster-mode, which leaves out tests that use
# several slots), the suite's client on one node, which forwards other slots' commands
# (cluster-proxy yes): every command goes through quorum replication and the slots' coordinators.
#
# --spawn: the suite starts its own servers, as it does for Redis, with `ringkv server <redis.conf>`
# in place of src/redis-server. This runs the tests external mode leaves out (those that start a
# server with their own settings, restart it or read its log: acl, auth, info, maxmemory, ...).
#
# Needs tclsh and the redis-server package (its version picks the source tarball, fetched once from
# Debian's archive into .cache/). Logs go to .cache/redis-test-suite/<unit>.log.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache="$root/.cache"
out="$cache/redis-test-suite"
mkdir -p "$out"

command -v tclsh >/dev/null || { echo "tclsh is needed (apt-get install tcl)" >&2; exit 2; }
version=$(dpkg-query -W -f='${Version}' redis-server 2>/dev/null | sed -E 's/^[0-9]+://; s/-.*$//') || true
[ -n "$version" ] || { echo "the redis-server package is needed (its version picks the test suite)" >&2; exit 2; }
src="$cache/redis-$version"
if [ ! -d "$src/tests" ]; then
  tarball="$cache/redis_$version.orig.tar.gz"
  for base in http://deb.debian.org/debian/pool/main/r/redis http://deb.debian.org/debian-security/pool/updates/main/r/redis; do
    curl -fsS -o "$tarball" "$base/redis_$version.orig.tar.gz" && break || rm -f "$tarball"
  done
  [ -f "$tarball" ] || { echo "could not fetch redis_$version.orig.tar.gz from Debian's archive" >&2; exit 2; }
  tar -xzf "$tarball" -C "$cache"
fi

cluster=no
spawn=no
if [ "${1:-}" = --cluster ]; then cluster=yes; shift; fi
if [ "${1:-}" = --spawn ]; then spawn=yes; shift; fi
units=("$@")
[ ${#units[@]} -gt 0 ] || units=(unit/type/string unit/type/incr unit/type/hash unit/type/list unit/type/set unit/type/zset
  unit/type/stream unit/type/stream-cgroups unit/expire unit/keyspace unit/multi unit/scripting unit/functions unit/pubsub
  unit/hyperloglog unit/bitops unit/bitfield unit/dump unit/sort unit/scan unit/geo unit/protocol unit/tracking unit/pause
  unit/introspection unit/introspection-2 unit/slowlog unit/latency-monitor unit/info-command unit/quit unit/other
  unit/type/list-2 unit/type/list-3 unit/acl unit/acl-v2 unit/auth unit/info unit/pubsubshard unit/client-eviction unit/maxmemory
  unit/lazyfree unit/limits unit/querybuf unit/obuf-limits unit/networking unit/shutdown)

# Tests of Redis's internals rather than of its interface, and of changing the port at run time;
# one that only fails because --singledb keeps every test in database 0 (a key of an earlier test).
skips=(--skiptest "SRANDMEMBER with a dict containing long chain" --skiptest "/query buffer resized"
  --skiptest "CONFIG SET rollback on apply error" --skiptest "ACLs can block all DEBUG subcommands except one")
# Tests that read the replication stream (SYNC), make a Redis replica (REPLICAOF), or read and
# reload Redis's AOF files: ringkv offers none of them (its nodes replicate over the cluster bus,
# its commit log is its own format).
skipped_tests() {
  awk '
    /^ *test [{"]/ { line = $0; sub(/^ *test [{"]/, "", line); sub(/[}"] *\{.*$/, "", line); name = line }
    /attach_to_replication_stream|replicaof|slaveof|get_last_incr_aof|appendonlydir|loadaof/ { if (name != "") print name; name = "" }' "$1"
}

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

node_pid=
stop_node() { [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null && wait "$node_pid" 2>/dev/null; node_pid=; }
trap stop_node EXIT

# The spawn workspace: the suite's tests beside a src/ whose redis-server is ringkv. The suite waits
# for " PID: <pid>" in the server's output (Redis's start-up banner), which the wrapper prints
# before it becomes the node.
work=$out/spawn
if [ "$spawn" = yes ]; then
  mkdir -p "$work/src"
  ln -sfn "$src/tests" "$work/tests"
  ln -sfn "$src/runtest" "$work/runtest"
  ln -sfn "$(command -v redis-cli)" "$work/src/redis-cli"
  ln -sfn "$(command -v redis-benchmark)" "$work/src/redis-benchmark"
  # A copy of the build: a rebuild while the suite runs does not change the servers it starts.
  mkdir -p "$work/bundle"
  cp "$root/dist/bundle/"* "$work/bundle/"
  printf '#!/bin/sh\necho "ringkv (as redis-server) PID: $$"\nexec node %q server "$@"\n' "$work/bundle/ringkv.js" >"$work/src/redis-server"
  chmod +x "$work/src/redis-server"
fi

printf '%-28s %5s %5s %5s\n' unit ok err exc
for unit in "${units[@]}"; do
  name=${unit//\//_}
  if [ "$spawn" = yes ]; then
    repl=()
    while IFS= read -r t; do [ -n "$t" ] && repl+=(--skiptest "$t"); done < <(skipped_tests "$src/tests/$unit.tcl")
    (cd "$work" && timeout 1200 ./runtest --baseport $((30000 + RANDOM % 20000)) --singledb --single "$unit" \
      --tags -needs:repl --tags -needs:save --tags -repl --ignore-digest "${skips[@]}" "${repl[@]}" >"$out/$name.log" 2>&1) || true
    plain=$(sed 's/\x1b\[[0-9;]*m//g' "$out/$name.log")
    printf '%-28s %5s %5s %5s\n' "$unit" "$(grep -c '^\[ok\]' <<<"$plain" || true)" "$(grep -c '^\[err\]' <<<"$plain" || true)" "$(grep -c '^\[exception\]' <<<"$plain" || true)"
    continue
  fi
  port=$(free_port)
  data=$(mktemp -d)
  mode=()
  if [ "$cluster" = yes ]; then
    # Three consecutive free ports are likely from a random base well below the bus ports (+10000).
    port=$((20000 + RANDOM % 20000))
    node "$root/dist/bundle/ringkv.js" cluster start --nodes 3 --base-port "$port" --dir "$data" --appendfsync no --cluster-proxy yes >"$out/$name.node.log" 2>&1 &
    mode=(--cluster-mode)
  else
    node "$root/dist/bundle/ringkv.js" server --port "$port" --dir "$data" --appendfsync no >"$out/$name.node.log" 2>&1 &
  fi
  node_pid=$!
  for _ in $(seq 300); do [ "$(redis-cli -p "$port" cluster info 2>/dev/null | grep -c 'cluster_state:ok')" = 1 ] || [ "$cluster" = no ] && redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  repl=()
  while IFS= read -r t; do [ -n "$t" ] && repl+=(--skiptest "$t"); done < <(skipped_tests "$src/tests/$unit.tcl")
  # The suite's own ports start from --baseport: away from its default, so two runs do not collide.
  (cd "$src" && timeout 900 ./runtest --host 127.0.0.1 --port "$port" --baseport $((30000 + RANDOM % 20000)) --singledb --single "$unit" \
    --tags -needs:repl --tags -needs:save --ignore-digest "${mode[@]}" "${skips[@]}" "${repl[@]}" >"$out/$name.log" 2>&1) || true
  stop_node
  rm -rf "$data"
  plain=$(sed 's/\x1b\[[0-9;]*m//g' "$out/$name.log")
  printf '%-28s %5s %5s %5s\n' "$unit" "$(grep -c '^\[ok\]' <<<"$plain" || true)" "$(grep -c '^\[err\]' <<<"$plain" || true)" "$(grep -c '^\[exception\]' <<<"$plain" || true)"
done
