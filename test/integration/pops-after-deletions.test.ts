/**
 * Goal: pops from either end of a sorted set (ZPOPMIN, ZPOPMAX, BZPOPMIN, BZPOPMAX, ZMPOP, ZRANGE
 * from either end) and SPOP with a count stay exactly right after many deletions whose tombstones
 * still hide elements in LMDB, while ZADD keeps adding members below the lowest score, above the
 * highest and in between (the store's runs of deleted elements must give way to them); and the
 * cost of a pop does not grow with the pops before it. On one node and on a 3-node cluster.
 * Method: a seeded sequence sent pipelined, in lockstep, to ringkv and to a redis-server through
 * ioredis, every reply compared; SPOP picks at random, so what ringkv popped is removed from
 * redis-server with SREM, which must remove exactly that many (each popped member was there, none
 * twice), and sizes and final contents are compared. The collections are filled and then
 * checkpointed into LMDB first (INFO store_checkpoints), so each deletion leaves a tombstone in
 * front of a stored element. Cost: INFO's store_range_tombstones_walked (tombstones the node's range
 * scans walked) per pop stays small; without the runs it grows with the pops made so far.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import { nodeBesideRedis } from '../helpers/beside-redis.js';
import { clusterForBlock } from '../helpers/cluster.js';
import { infoField } from '../helpers/node-facts.js';
import { startRedisServer, type RedisReference } from '../helpers/redis-reference.js';
import { mulberry32 as rng } from '../sim/prng.js';

type Cmd = Array<string | number>;

/** Sends the same pipeline to both servers; replies (errors as their text) must be equal. */
async function lockstep(ringkv: Redis | Cluster, ref: Redis, cmds: Cmd[], label: string): Promise<unknown[]> {
  const send = async (c: Redis | Cluster): Promise<unknown[]> => {
    const p = c.pipeline();
    for (const [name, ...args] of cmds) p.call(String(name), ...args.map(String));
    const out = (await p.exec()) ?? [];
    return out.map(([err, v]) => (err ? `ERR:${(err as Error).message}` : v));
  };
  const [got, want] = await Promise.all([send(ringkv), send(ref)]);
  for (let i = 0; i < cmds.length; i++) expect(got[i], `${label}: ${cmds[i]!.join(' ')}`).toEqual(want[i]);
  return got;
}

/** Waits until every node has checkpointed everything written before: its memtables are empty. */
async function checkpointed(ports: number[]): Promise<void> {
  const start = await Promise.all(ports.map((p) => infoField(p, 'store_checkpoints')));
  const deadline = Date.now() + 30_000;
  let emptySince: number | undefined;
  for (;;) {
    const now = await Promise.all(ports.map(async (p) => [
      await infoField(p, 'store_checkpoints'), await infoField(p, 'store_memtable_entries'), await infoField(p, 'store_frozen_entries'),
    ]));
    const empty = now.every(([, active, frozen]) => active === 0 && frozen === 0);
    if (empty && now.every(([done], i) => done! > start[i]!)) return;
    // A checkpoint that ended just before `start` was read leaves nothing for another one to do:
    // memtables that stay empty for a second (late replica writes would land in them) say so too.
    emptySince = empty ? (emptySince ?? Date.now()) : undefined;
    if (emptySince !== undefined && Date.now() - emptySince >= 1000) return;
    if (Date.now() > deadline) throw new Error(`not checkpointed within 30 s: ${JSON.stringify(now)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Target {
  ringkv: () => Redis | Cluster;
  ref: () => Redis;
  /** Every node's client port: checkpoints are waited for on all of them, and their scans counted. */
  ports: () => number[];
}

/** Tombstones walked by the range scans of every node (a slot's coordinator may change under load). */
async function walkedTotal(ports: number[]): Promise<number> {
  const each = await Promise.all(ports.map((p) => infoField(p, 'store_range_tombstones_walked')));
  for (const n of each) expect(n).not.toBeNaN();
  return each.reduce((a, b) => a + b, 0);
}

/**
 * Tombstones walked per popped element allowed on average: each deleted element is walked about
 * once by some later scan, which then remembers it. Without the store's runs of deleted elements
 * this figure grows with the pops made before (hundreds here).
 */
const WALKED_PER_POP_MAX = 6;

function popSuite(title: string, target: Target, seed: number): void {
  describe(title, () => {
    it('ZPOPMIN, ZPOPMAX, BZPOPMIN, BZPOPMAX, ZMPOP and ZRANGE from either end answer as redis-server while ZADD adds below, above and between', async () => {
      const ringkv = target.ringkv();
      const ref = target.ref();
      const key = '{pops}z';
      const rand = rng(seed);
      await lockstep(ringkv, ref, [['DEL', key]], 'reset');
      for (let i = 0; i < 3000; i += 250) {
        const add: Cmd = ['ZADD', key];
        for (let j = i; j < i + 250; j++) add.push(1000 + j, `m:${j}`);
        await lockstep(ringkv, ref, [add], 'fill');
      }
      await checkpointed(target.ports());
      let low = 999;
      let high = 4000;
      let fresh = 0;
      for (let step = 0; step < 120; step++) {
        const cmds: Cmd[] = [];
        for (let n = 0; n < 8; n++) {
          const r = rand();
          const count = 1 + Math.floor(rand() * 4);
          if (r < 0.2) cmds.push(['ZPOPMIN', key, count]);
          else if (r < 0.4) cmds.push(['ZPOPMAX', key, count]);
          else if (r < 0.5) cmds.push(['ZMPOP', 1, key, rand() < 0.5 ? 'MIN' : 'MAX', 'COUNT', count]);
          else if (r < 0.6) cmds.push(['ZADD', key, low--, `low:${fresh++}`]);
          else if (r < 0.65) cmds.push(['ZADD', key, high++, `high:${fresh++}`]);
          else if (r < 0.7) cmds.push(['ZADD', key, 1000 + Math.floor(rand() * 3000), `mid:${fresh++}`]);
          else if (r < 0.75) cmds.push(['ZADD', key, low--, `low:${fresh++}`], [rand() < 0.5 ? 'BZPOPMIN' : 'BZPOPMAX', key, 1]);
          else if (r < 0.85) cmds.push(['ZRANGE', key, 0, 2, 'WITHSCORES']);
          else if (r < 0.95) cmds.push(['ZRANGE', key, -3, -1, 'WITHSCORES']);
          else cmds.push(['ZCARD', key]);
        }
        await lockstep(ringkv, ref, cmds, `seed ${seed} step ${step}`);
      }
      // Cost: pops from both ends, a member below the lowest now and then.
      const before = await walkedTotal(target.ports());
      let pops = 0;
      for (let step = 0; step < 40; step++) {
        const cmds: Cmd[] = [['ZADD', key, low--, `low:${fresh++}`]];
        for (let n = 0; n < 25; n++) cmds.push([n % 2 === 0 ? 'ZPOPMIN' : 'ZPOPMAX', key]);
        pops += 25;
        await lockstep(ringkv, ref, cmds, `drain ${step}`);
      }
      await lockstep(ringkv, ref, [['ZCARD', key], ['ZRANGE', key, 0, -1, 'WITHSCORES']], 'after the drain');
      const walked = (await walkedTotal(target.ports())) - before;
      expect(walked / pops, `${walked} tombstones walked in ${pops} pops`).toBeLessThanOrEqual(WALKED_PER_POP_MAX);
    }, 180_000);

    it('SPOP with a count pops members that are there, never twice, while SADD adds new ones, down to an empty set', async () => {
      const ringkv = target.ringkv();
      const ref = target.ref();
      const key = '{pops}s';
      const rand = rng(seed + 1);
      await lockstep(ringkv, ref, [['DEL', key]], 'reset');
      for (let i = 0; i < 3000; i += 250) {
        const add: Cmd = ['SADD', key];
        for (let j = i; j < i + 250; j++) add.push(`m:${j}`);
        await lockstep(ringkv, ref, [add], 'fill');
      }
      await checkpointed(target.ports());
      const before = await walkedTotal(target.ports());
      let pops = 0;
      let fresh = 0;
      for (let step = 0; ; step++) {
        const counts = Array.from({ length: 6 }, () => (rand() < 0.3 ? 1 + Math.floor(rand() * 40) : 1));
        const p = ringkv.pipeline();
        for (const c of counts) p.spop(key, c);
        const popped = ((await p.exec()) ?? []).flatMap(([err, v]) => {
          if (err) throw err;
          return v as string[];
        });
        pops += popped.length;
        expect(new Set(popped).size, `step ${step}: a member popped twice`).toBe(popped.length);
        if (popped.length > 0) expect(await ref.srem(key, ...popped), `step ${step}: popped members redis-server does not hold`).toBe(popped.length);
        const cmds: Cmd[] = [['SCARD', key]];
        if (popped.length > 0) cmds.push(['SISMEMBER', key, popped[0]!], ['SMISMEMBER', key, ...popped.slice(0, 5)]);
        if (step % 7 === 0 && step < 120) cmds.push(['SADD', key, `new:${fresh++}`, `new:${fresh++}`]);
        cmds.push(['SCARD', key]);
        const replies = await lockstep(ringkv, ref, cmds, `seed ${seed} step ${step}`);
        if (replies[replies.length - 1] === 0) break;
        if (step > 5000) throw new Error('the set never emptied');
      }
      await lockstep(ringkv, ref, [['EXISTS', key], ['SMEMBERS', key]], 'emptied');
      const walked = (await walkedTotal(target.ports())) - before;
      expect(walked / pops, `${walked} tombstones walked for ${pops} members popped`).toBeLessThanOrEqual(WALKED_PER_POP_MAX);
    }, 180_000);
  });
}

const single = nodeBesideRedis(['--appendfsync', 'no']);
let singleClients: { ringkv: Redis; ref: Redis } | undefined;
beforeAll(() => {
  singleClients = { ringkv: new Redis({ port: single.node.port }), ref: new Redis({ port: single.ref.ports[0]! }) };
});
afterAll(() => {
  singleClients?.ringkv.disconnect();
  singleClients?.ref.disconnect();
});

popSuite('pops after deletions: one node vs redis-server', {
  ringkv: () => singleClients!.ringkv,
  ref: () => singleClients!.ref,
  ports: () => [single.node.port],
}, 71);

describe('pops after deletions: 3-node cluster', () => {
  // A long node timeout: a loaded machine must not make the test about failovers.
  const cluster = clusterForBlock(3, ['--cluster-node-timeout', '15000']);
  let ref: RedisReference | undefined;
  let clients: { ringkv: Cluster; ref: Redis } | undefined;
  beforeAll(async () => {
    ref = await startRedisServer();
    clients = { ringkv: new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }]), ref: new Redis({ port: ref.ports[0]! }) };
  }, 60_000);
  afterAll(async () => {
    clients?.ringkv.disconnect();
    clients?.ref.disconnect();
    await ref?.stop();
  });
  popSuite('through a cluster client, vs redis-server', {
    ringkv: () => clients!.ringkv,
    ref: () => clients!.ref,
    ports: () => cluster.ports,
  }, 73);
});
