/**
 * Goal: range reads served from memory (the store's cache of LMDB range reads, and the stretches
 * of elements a node holds, src/storage/range-windows.ts) stay exact while writes go on and
 * checkpoints move them into LMDB: lists, sorted sets and sets read from both ends, over and over,
 * answer as redis-server does, and memory really serves them (INFO store_range_cache_hits plus
 * store_range_window_reads).
 * Method: one node, then a 3-node cluster (through ioredis Cluster, the keys in one slot), every
 * node checkpointing every 25 ms (so nearly every read follows a checkpoint that changed LMDB),
 * beside a redis-server; a seeded sequence of pipelines, each a few writes and then the same reads
 * twice, sent to both in lockstep, every reply compared (sets, whose order differs from Redis's,
 * compared sorted). In the cluster the reads are quorum reads of element ranges on two replicas.
 */
import { describe, expect, it } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import { clusterBesideRedis, nodeBesideRedis } from '../helpers/beside-redis.js';
import { infoField } from '../helpers/node-facts.js';
import { haveRedisServer } from '../helpers/redis-reference.js';
import { mulberry32 as rng } from '../sim/prng.js';

type Cmd = Array<string | number>;

const SORTED = new Set(['SMEMBERS', 'SRANDMEMBER']);

async function lockstep(ringkv: Redis | Cluster, ref: Redis, cmds: Cmd[], label: string): Promise<void> {
  const send = async (c: Redis | Cluster): Promise<unknown[]> => {
    const p = c.pipeline();
    for (const [name, ...args] of cmds) p.call(String(name), ...args.map(String));
    const out = (await p.exec()) ?? [];
    return out.map(([err, v], i) => {
      if (err) return `ERR:${(err as Error).message}`;
      return SORTED.has(String(cmds[i]![0])) && Array.isArray(v) ? [...(v as string[])].sort() : v;
    });
  };
  const [got, want] = await Promise.all([send(ringkv), send(ref)]);
  for (let i = 0; i < cmds.length; i++) expect(got[i], `${label}: ${cmds[i]!.join(' ')}`).toEqual(want[i]);
}

/** An INFO field summed over nodes. */
async function total(ports: number[], field: string): Promise<number> {
  return (await Promise.all(ports.map((p) => infoField(p, field)))).reduce((a, b) => a + b, 0);
}

/** Fills a list, a sorted set and a set, then rounds of writes and repeated reads in lockstep. */
async function readsAcrossCheckpoints(ringkv: Redis | Cluster, ref: Redis, ports: number[]): Promise<void> {
  const rand = rng(4242);
  // One hash tag: a cluster client pipelines only within one slot.
  const [l, z, s] = ['{rc}:list', '{rc}:zset', '{rc}:set'];
  const fill: Cmd[] = [['DEL', l, z, s]];
  for (let i = 0; i < 600; i += 100) {
    const push: Cmd = ['RPUSH', l];
    const zadd: Cmd = ['ZADD', z];
    const sadd: Cmd = ['SADD', s];
    for (let j = i; j < i + 100; j++) {
      push.push(`e${j}`);
      zadd.push(j, `m${j}`);
      sadd.push(`s${j}`);
    }
    fill.push(push, zadd, sadd);
  }
  await lockstep(ringkv, ref, fill, 'fill');
  const checkpointsBefore = await total(ports, 'store_checkpoints');
  // Reads served from memory: the range cache's LMDB runs, or the windows of elements a node
  // holds (one node; a cluster's coordinators read the range cache).
  const served = async (): Promise<number> => (await total(ports, 'store_range_cache_hits')) + (await total(ports, 'store_range_window_reads'));
  const hitsBefore = await served();
  let fresh = 0;
  for (let round = 0; round < 160; round++) {
    const cmds: Cmd[] = [];
    for (let n = 0; n < 4; n++) {
      const r = rand();
      const i = Math.floor(rand() * 700);
      if (r < 0.12) cmds.push(['LPUSH', l, `n${fresh++}`]);
      else if (r < 0.24) cmds.push(['RPUSH', l, `n${fresh++}`]);
      else if (r < 0.34) cmds.push(['LPOP', l]);
      else if (r < 0.44) cmds.push(['RPOP', l, 2]);
      else if (r < 0.5) cmds.push(['LSET', l, Math.floor(rand() * 50), `set${fresh++}`]);
      else if (r < 0.62) cmds.push(['ZADD', z, Math.floor(rand() * 700) - 50, `m${i}`]);
      else if (r < 0.7) cmds.push(['ZREM', z, `m${i}`]);
      else if (r < 0.76) cmds.push(['ZPOPMIN', z]);
      else if (r < 0.86) cmds.push(['SADD', s, `s${i}`]);
      else if (r < 0.96) cmds.push(['SREM', s, `s${i}`]);
      else cmds.push(['DEL', [l, z, s][Math.floor(rand() * 3)]!]);
    }
    const reads: Cmd[] = [
      ['LRANGE', l, 0, 99], ['LRANGE', l, -40, -1], ['LINDEX', l, 3],
      ['ZRANGE', z, 0, 9, 'WITHSCORES'], ['ZRANGE', z, 0, 9, 'REV', 'WITHSCORES'], ['ZRANGEBYSCORE', z, 100, 160],
      ['SMEMBERS', s], ['LLEN', l], ['ZCARD', z], ['SCARD', s],
    ];
    await lockstep(ringkv, ref, [...cmds, ...reads, ...reads], `round ${round}`);
    // Let a checkpoint or two move the round's writes into LMDB before the next reads.
    if (round % 4 === 3) await new Promise((r) => setTimeout(r, 40));
  }
  await lockstep(ringkv, ref, [['LRANGE', l, 0, -1], ['ZRANGE', z, 0, -1, 'WITHSCORES'], ['SMEMBERS', s]], 'final');
  expect(await total(ports, 'store_checkpoints') - checkpointsBefore).toBeGreaterThan(20);
  expect(await served() - hitsBefore).toBeGreaterThan(500);
}

const CHECKPOINT_OFTEN = ['--appendfsync', 'no', '--checkpoint-interval-ms', '25'];

describe.skipIf(!haveRedisServer)('range cache: reads across checkpoints, one node', () => {
  const both = nodeBesideRedis(CHECKPOINT_OFTEN);

  it('LRANGE, ZRANGE and SMEMBERS answer as redis-server while writes and checkpoints go on', async () => {
    const ringkv = new Redis({ port: both.node.port, lazyConnect: true });
    const ref = new Redis({ port: both.ref.ports[0]!, lazyConnect: true });
    try {
      await Promise.all([ringkv.connect(), ref.connect()]);
      await readsAcrossCheckpoints(ringkv, ref, [both.node.port]);
    } finally {
      ringkv.disconnect();
      ref.disconnect();
    }
  }, 120_000);
});

describe.skipIf(!haveRedisServer)('range cache: reads across checkpoints, 3-node cluster', () => {
  // A long node timeout: a loaded machine must not make the test about failovers.
  const both = clusterBesideRedis(3, [...CHECKPOINT_OFTEN, '--cluster-node-timeout', '15000']);

  it('LRANGE, ZRANGE and SMEMBERS through ioredis Cluster answer as redis-server', async () => {
    const ringkv = new Cluster([{ host: '127.0.0.1', port: both.cluster.ports[0]! }]);
    const refClient = new Redis({ port: both.ref.ports[0]! });
    try {
      await readsAcrossCheckpoints(ringkv, refClient, both.cluster.ports);
    } finally {
      ringkv.disconnect();
      refClient.disconnect();
    }
  }, 180_000);
});
