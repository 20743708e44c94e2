/**
 * Goal: random picks from small collections (SRANDMEMBER, HRANDFIELD, ZRANDMEMBER, SPOP) are
 * uniform, also once most of a big set was popped away, and then cost no walk: the last pops of a
 * drained set and picks from what is left read the small set the store holds whole
 * (src/storage/range-windows.ts) instead of walking past the deleted members to a random index.
 * Method: one node (checkpointing every 200 ms, so the deleted members' tombstones hide members
 * in LMDB); picks sent pipelined through ioredis; a chi-square test of the counts against uniform
 * at p = 0.0001 (Wilson-Hilferty); INFO's store_range_runs_jumped (jumps over runs of deleted
 * elements, each a re-seek of the store's sources) before and after: at most one walk of the set,
 * where picking by walking costs tens of jumps per pick.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { infoField } from '../helpers/node-facts.js';
import { startNode, type NodeProcess } from '../helpers/server.js';

let node: NodeProcess;
let r: Redis;

beforeAll(async () => {
  node = await startNode({ args: ['--checkpoint-interval-ms', '200'] });
  r = new Redis({ port: node.port, lazyConnect: true });
  await r.connect();
});

afterAll(async () => {
  r?.disconnect();
  await node?.stop();
});

/** Sends `n` commands made by `make` in pipelines of 1,000; the replies in order. */
async function pipelined(n: number, make: (i: number) => string[]): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let i = 0; i < n; i += 1000) {
    const p = r.pipeline();
    for (let j = i; j < Math.min(n, i + 1000); j++) {
      const [name, ...args] = make(j);
      p.call(name!, ...args);
    }
    for (const [err, v] of (await p.exec()) ?? []) {
      if (err) throw err;
      out.push(v);
    }
  }
  return out;
}

/** True when the counts of `picks` over `categories` pass a chi-square test against uniform at p = 0.0001. */
function looksUniform(picks: string[], categories: readonly string[]): { stat: number; limit: number } {
  const counts = new Map(categories.map((c) => [c, 0]));
  for (const p of picks) {
    expect(counts.has(p), `picked ${p}, not in the collection`).toBe(true);
    counts.set(p, counts.get(p)! + 1);
  }
  const expected = picks.length / categories.length;
  let stat = 0;
  for (const c of counts.values()) stat += (c - expected) ** 2 / expected;
  const df = categories.length - 1;
  const z = 3.719;
  const limit = df * (1 - 2 / (9 * df) + z * Math.sqrt(2 / (9 * df))) ** 3;
  return { stat, limit };
}

describe('random picks from small collections', () => {
  it('are uniform for sets, hashes and sorted sets, one pick or several distinct ones', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `m${i}`);
    await r.del('s', 'h', 'z');
    await r.sadd('s', ...names);
    await r.hset('h', ...names.flatMap((n) => [n, `v-${n}`]));
    await r.zadd('z', ...names.flatMap((n, i) => [i, n]));
    for (const cmd of ['SRANDMEMBER', 'HRANDFIELD', 'ZRANDMEMBER']) {
      const key = cmd[0]!.toLowerCase();
      const picks = (await pipelined(20_000, () => [cmd, key])) as string[];
      const { stat, limit } = looksUniform(picks, names);
      expect(stat, `${cmd}: chi-square ${stat.toFixed(1)} over the limit ${limit.toFixed(1)}`).toBeLessThan(limit);
    }
    const fives = (await pipelined(4000, () => ['SRANDMEMBER', 's', '5'])) as string[][];
    for (const f of fives) expect(new Set(f).size).toBe(5);
    const { stat, limit } = looksUniform(fives.flat(), names);
    expect(stat).toBeLessThan(limit);
    // ioredis hands HRANDFIELD … WITHVALUES out as [field, value] pairs.
    const pairs = (await pipelined(100, () => ['HRANDFIELD', 'h', '3', 'WITHVALUES'])) as Array<Array<[string, string]>>;
    for (const reply of pairs) {
      expect(new Set(reply.map(([f]) => f)).size).toBe(3);
      for (const [f, v] of reply) expect(v).toBe(`v-${f}`);
    }
  });

  it('stay uniform and stop walking once most of a big set was popped', async () => {
    const all = Array.from({ length: 5000 }, (_, i) => `member:${i}`);
    await r.del('big');
    for (let i = 0; i < all.length; i += 500) await r.sadd('big', ...all.slice(i, i + 500));
    // Stored in LMDB, so each pop leaves a tombstone in front of a stored member. Waited for by
    // the memtables being empty: a checkpoint may already have taken every member by the time a
    // checkpoint count could be read, and none would follow.
    const inMemory = async (): Promise<number> => (await infoField(node.port, 'store_memtable_entries')) + (await infoField(node.port, 'store_frozen_entries'));
    await expect.poll(inMemory, { timeout: 10_000 }).toBe(0);
    const popped = (await pipelined(4800, () => ['SPOP', 'big'])) as string[];
    expect(new Set(popped).size).toBe(4800);
    const left = all.filter((m) => !popped.includes(m));
    expect(left).toHaveLength(200);
    expect((await r.smembers('big')).sort()).toEqual([...left].sort());

    const jumps0 = await infoField(node.port, 'store_range_runs_jumped');
    const picks = (await pipelined(20_000, () => ['SRANDMEMBER', 'big'])) as string[];
    const { stat, limit } = looksUniform(picks, left);
    expect(stat, `chi-square ${stat.toFixed(1)} over the limit ${limit.toFixed(1)}`).toBeLessThan(limit);
    const last = (await pipelined(200, () => ['SPOP', 'big'])) as string[];
    expect([...last].sort()).toEqual([...left].sort());
    expect(await r.scard('big')).toBe(0);
    expect(await r.exists('big')).toBe(0);
    // One walk of the set (at most a jump per member left) for 20,200 picks and pops.
    expect(await infoField(node.port, 'store_range_runs_jumped') - jumps0).toBeLessThan(1000);
  });
});
