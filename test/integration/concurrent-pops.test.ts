/**
 * Goal: pops and reads served from the stretches of elements the store holds in memory
 * (src/storage/range-windows.ts) stay exact when several connections pop the same collections at
 * once, pipelined, while others read them: every element is popped exactly once, ZPOPMIN hands each
 * connection rising scores and LPOP rising positions, and reads never show a popped element. On
 * one node and on a 3-node cluster through ioredis's Cluster client; the same workload and the
 * same checks on redis-server first, so the checks themselves are known to hold for Redis.
 * Method: a set, a sorted set and a list of 1,500 elements each (one hash tag); four connections
 * send pipelines of 40 commands (SPOP, ZPOPMIN, LPOP and reads: ZRANGE 0 9, LRANGE 0 9,
 * SRANDMEMBER) until all three are empty; each reply is checked against what was popped so far.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import { clusterForBlock } from '../helpers/cluster.js';
import { startNode, type NodeProcess } from '../helpers/server.js';
import { haveRedisServer, startRedisServer, type RedisReference } from '../helpers/redis-reference.js';
import { mulberry32 as rng } from '../sim/prng.js';

const SIZE = 1500;
const [SET, ZSET, LIST] = ['{cp}:set', '{cp}:zset', '{cp}:list'];

async function fill(c: Redis | Cluster): Promise<void> {
  await c.del(SET, ZSET, LIST);
  for (let i = 0; i < SIZE; i += 250) {
    const ids = Array.from({ length: 250 }, (_, j) => i + j);
    const p = c.pipeline();
    p.sadd(SET, ...ids.map((n) => `s${n}`));
    p.zadd(ZSET, ...ids.flatMap((n) => [n, `z${n}`]));
    p.rpush(LIST, ...ids.map((n) => `l${n}`));
    await p.exec();
  }
}

/** Four connections popping and reading at once until the three collections are empty. */
async function popTogether(clients: Array<Redis | Cluster>, seed: number): Promise<void> {
  const popped = { s: new Set<string>(), z: new Set<string>(), l: new Set<string>() };
  const once = (seen: Set<string>, m: string): void => {
    expect(seen.has(m), `${m} popped twice`).toBe(false);
    seen.add(m);
  };
  await Promise.all(clients.map(async (c, k) => {
    const rand = rng(seed + k);
    let lastScore = -1;
    let lastPos = -1;
    for (let round = 0; round < 400; round++) {
      const cmds: string[][] = [];
      for (let i = 0; i < 40; i++) {
        const r = rand();
        if (r < 0.25) cmds.push(['SPOP', SET]);
        else if (r < 0.5) cmds.push(['ZPOPMIN', ZSET]);
        else if (r < 0.75) cmds.push(['LPOP', LIST]);
        else if (r < 0.85) cmds.push(['ZRANGE', ZSET, '0', '9', 'WITHSCORES']);
        else if (r < 0.95) cmds.push(['LRANGE', LIST, '0', '9']);
        else cmds.push(['SRANDMEMBER', SET, '3']);
      }
      const p = c.pipeline();
      for (const [name, ...args] of cmds) p.call(name!, ...args);
      const replies = (await p.exec()) ?? [];
      replies.forEach(([err, v], i) => {
        expect(err).toBeNull();
        const name = cmds[i]![0];
        if (name === 'SPOP' && v !== null) once(popped.s, v as string);
        if (name === 'ZPOPMIN' && (v as string[]).length > 0) {
          const [m, score] = v as [string, string];
          once(popped.z, m);
          expect(Number(score), `${m} after score ${lastScore}`).toBeGreaterThan(lastScore);
          lastScore = Number(score);
        }
        if (name === 'LPOP' && v !== null) {
          once(popped.l, v as string);
          const pos = Number((v as string).slice(1));
          expect(pos, `${v as string} after position ${lastPos}`).toBeGreaterThan(lastPos);
          lastPos = pos;
        }
        // A read shows the lowest scores or the head: above what this connection popped already.
        // (ioredis hands ZRANGE … WITHSCORES out as [member, score] pairs.)
        if (name === 'ZRANGE') for (const [, score] of v as Array<[string, string]>) expect(Number(score)).toBeGreaterThan(lastScore);
        if (name === 'LRANGE') for (const e of v as string[]) expect(Number(e.slice(1))).toBeGreaterThan(lastPos);
      });
      if (popped.s.size + popped.z.size + popped.l.size === 3 * SIZE) break;
    }
  }));
  expect([popped.s.size, popped.z.size, popped.l.size]).toEqual([SIZE, SIZE, SIZE]);
  const c = clients[0]!;
  expect(await c.exists(SET, ZSET, LIST)).toBe(0);
}

describe.skipIf(!haveRedisServer)('concurrent pops: redis-server (the checks hold for Redis)', () => {
  let ref: RedisReference | undefined;
  const clients: Redis[] = [];
  beforeAll(async () => {
    ref = await startRedisServer();
    for (let i = 0; i < 4; i++) clients.push(new Redis({ port: ref.ports[0]! }));
  }, 60_000);
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await ref?.stop();
  });
  it('every element popped once, in order per connection', async () => {
    await fill(clients[0]!);
    await popTogether(clients, 11);
  }, 120_000);
});

describe('concurrent pops: one node', () => {
  let node: NodeProcess | undefined;
  const clients: Redis[] = [];
  beforeAll(async () => {
    // Checkpoints every 100 ms: the popped elements' tombstones hide records in LMDB.
    node = await startNode({ args: ['--checkpoint-interval-ms', '100'] });
    for (let i = 0; i < 4; i++) clients.push(new Redis({ port: node.port }));
  }, 60_000);
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await node?.stop();
  });
  it('every element popped once, in order per connection', async () => {
    await fill(clients[0]!);
    await popTogether(clients, 21);
  }, 120_000);
});

describe('concurrent pops: 3-node cluster', () => {
  const cluster = clusterForBlock(3, ['--cluster-node-timeout', '15000', '--checkpoint-interval-ms', '100']);
  const clients: Cluster[] = [];
  afterAll(() => {
    for (const c of clients) c.disconnect();
  });
  it('every element popped once, in order per connection', async () => {
    for (let i = 0; i < 4; i++) clients.push(new Cluster([{ host: '127.0.0.1', port: cluster.ports[i % 3]! }]));
    await fill(clients[0]!);
    await popTogether(clients, 31);
  }, 120_000);
});
