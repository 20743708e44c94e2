/**
 * Goal: a stream's operations cost what they touch, not the stream's length: XADD, XRANGE from an
 * id, XTRIM from the head, XPENDING over a large pending list, XACK, XLEN and XINFO STREAM take
 * about as long on a stream of 40,000 entries (and a PEL of 40,000) as on one of 400.
 * Method: one real node; both streams are built, then each operation is timed over many calls on
 * each and the per-call times and their ratio are printed (timings are not asserted: the machine is
 * shared). What is asserted is that every reply is right, so the measured calls did the work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startNode, type NodeProcess } from '../helpers/server.js';

const SMALL = 400;
const LARGE = 40_000;
const CALLS = 200;

async function build(r: Redis, key: string, n: number): Promise<void> {
  await r.del(key);
  for (let i = 0; i < n; i += 1000) {
    const p = r.pipeline();
    for (let j = i; j < Math.min(n, i + 1000); j++) p.xadd(key, `${j + 1}-0`, 'n', String(j));
    for (const [err] of (await p.exec()) ?? []) if (err) throw err;
  }
  await r.xgroup('CREATE', key, 'g', '0');
  // Every entry delivered and left pending: the group's PEL is as long as the stream.
  for (let read = 0; read < n; read += 2000) await r.xreadgroup('GROUP', 'g', `c${read % 3}`, 'COUNT', 2000, 'STREAMS', key, '>');
}

/**
 * Mean microseconds per call on each of two streams, calls alternating between them (so load from
 * elsewhere on the machine falls on both alike), after a few calls of warm-up on each.
 */
async function perCall(calls: number, a: (i: number) => Promise<void>, b: (i: number) => Promise<void>): Promise<[number, number]> {
  const spent = [0n, 0n];
  for (let i = 0; i < calls; i++) {
    for (const [n, op] of [a, b].entries()) {
      const start = process.hrtime.bigint();
      await op(i);
      if (i >= 5) spent[n]! += process.hrtime.bigint() - start;
    }
  }
  return [Number(spent[0]!) / 1000 / (calls - 5), Number(spent[1]!) / 1000 / (calls - 5)];
}

describe('a large stream costs what each operation touches', () => {
  let node: NodeProcess;
  let r: Redis;
  beforeAll(async () => {
    node = await startNode({ args: ['--appendfsync', 'no'] });
    r = new Redis({ port: node.port });
    await build(r, 'small', SMALL);
    await build(r, 'large', LARGE);
  }, 180000);
  afterAll(async () => {
    r?.disconnect();
    await node?.stop();
  });

  it('XADD, XRANGE, XTRIM, XPENDING, XACK, XLEN and XINFO stay flat from 400 to 40,000 entries', async () => {
    const rows: Array<{ op: string; small: number; large: number }> = [];
    const measure = async (op: string, run: (key: string, n: number, i: number) => Promise<void>): Promise<void> => {
      const [small, large] = await perCall(CALLS, (i) => run('small', SMALL, i), (i) => run('large', LARGE, i));
      rows.push({ op, small, large });
    };
    await measure('XRANGE mid COUNT 10', async (key, n, i) => {
      const from = Math.floor(n / 2) + (i % 50);
      const got = await r.xrange(key, `${from}`, '+', 'COUNT', 10);
      expect(got.map(([id]) => id)[0]).toBe(`${from}-0`);
      expect(got).toHaveLength(10);
    });
    await measure('XREVRANGE + COUNT 10', async (key, n) => {
      const got = await r.xrevrange(key, '+', '-', 'COUNT', 10);
      expect(got[0]![0]).toBe(`${n}-0`);
    });
    await measure('XPENDING mid 10', async (key, n, i) => {
      const from = Math.floor(n / 2) + (i % 50);
      const got = (await r.xpending(key, 'g', `${from}`, '+', 10)) as Array<[string, string, number, number]>;
      expect(got).toHaveLength(10);
      expect(got[0]![0]).toBe(`${from}-0`);
    });
    await measure('XPENDING one consumer 10', async (key) => {
      const got = (await r.xpending(key, 'g', '-', '+', 10, 'c0')) as Array<[string, string]>;
      expect(got.every(([, c]) => c === 'c0')).toBe(true);
    });
    await measure('XLEN', async (key, n) => {
      expect(await r.xlen(key)).toBe(n);
    });
    await measure('XINFO STREAM', async (key) => {
      expect(JSON.stringify(await r.call('XINFO', 'STREAM', key))).toContain('"entries-added"');
    });
    await measure('XACK', async (key, n, i) => {
      expect(await r.xack(key, 'g', `${Math.floor(n / 3) + i}-0`)).toBe(1);
    });
    await measure('XADD', async (key, n, i) => {
      expect(await r.xadd(key, `${n + 1 + i}-0`, 'n', 'new')).toBe(`${n + 1 + i}-0`);
    });
    await measure('XTRIM MAXLEN len-1 (the head)', async (key) => {
      const len = await r.xlen(key);
      expect(await r.xtrim(key, 'MAXLEN', len - 1)).toBe(1);
    });
    await measure('XADD MAXLEN ~ (whole nodes)', async (key, n, i) => {
      await r.xadd(key, 'MAXLEN', '~', n, `${n + 1000 + i}-0`, 'n', 'capped');
    });
    const table = rows.map((x) => `${x.op.padEnd(30)} ${x.small.toFixed(0).padStart(7)} µs  ${x.large.toFixed(0).padStart(7)} µs  ×${(x.large / x.small).toFixed(2)}`);
    console.log(`per call, ${SMALL} vs ${LARGE} entries (and pending entries):\n${table.join('\n')}`);
    expect(rows).toHaveLength(10);
  }, 180000);
});
