#!/bin/bash
# The peak resident memory of a node before and after redis-cli --rdb of one large set (docs/benchmarks.md).
# usage (from the repository root, after npm run build): bench/rdb-backup-memory.sh dist/bundle/ringkv.js <port> <members>
B=$1; P=$2; N=$3; D=$(mktemp -d)
node $B server --port $P --dir $D --appendfsync no > $D/log 2>&1 &
sleep 1.5
PID=$(pgrep -f "ringkv 127.0.0.1:$P")
node -e "
const {Redis}=require('ioredis');
(async()=>{const r=new Redis({port:$P});for(let i=0;i<$N;i+=5000){const p=r.pipeline();for(let j=i;j<i+5000;j+=500){p.sadd('bigset',...Array.from({length:500},(_,k)=>'member:'+String(j+k).padStart(10,'0')));}await p.exec();}
console.log('scard',await r.scard('bigset'));r.disconnect();})();"
sleep 6
echo "after fill: $(grep -E 'VmRSS|VmHWM' /proc/$PID/status | tr -s ' ' | tr '\n' ' ')"
redis-cli -p $P --rdb $D/dump.rdb > /dev/null 2>&1
echo "after sync: $(grep -E 'VmRSS|VmHWM' /proc/$PID/status | tr -s ' ' | tr '\n' ' ') file $(stat -c %s $D/dump.rdb)"
kill $PID; sleep 1; rm -rf $D
