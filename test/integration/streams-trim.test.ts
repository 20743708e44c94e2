/**
 * Goal: approximate trimming (`MAXLEN ~`, `MINID ~`, LIMIT) removes exactly what redis-server 7.0
 * removes on streams of thousands of entries, where Redis's listpack nodes of 100 entries (or what
 * stream-node-max-entries says) decide it, also after XDEL emptied
 * nodes or the last one; and XINFO's radix-tree-keys (the node count) agrees. Entries are small, so
 * Redis's 4096-byte node limit never closes a node before 100.
 * Method: one seeded sequence of commands sent to a real redis-server and a real ringkv node, every
 * reply compared, and the stream's length, first and last ids and node count after every command.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Redis from 'ioredis';
import { haveRedisServer } from '../helpers/redis-reference.js';
import { nodeBesideRedis } from '../helpers/beside-redis.js';
import { Prng } from '../sim/prng.js';
import { envInt } from '../helpers/env.js';

/** XINFO STREAM's fields that both servers define the same way (radix-tree-nodes is Redis's own). */
function infoFields(reply: unknown): Record<string, unknown> {
  if (!Array.isArray(reply)) return { reply };
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < reply.length; i += 2) if (reply[i] !== 'radix-tree-nodes') out[String(reply[i])] = reply[i + 1];
  return out;
}

describe.skipIf(!haveRedisServer)('approximate trimming on long streams vs redis-server', () => {
  const both = nodeBesideRedis(['--appendfsync', 'no']);
  let ref: Redis;
  let sub: Redis;
  beforeAll(() => {
    ref = new Redis({ port: both.ref.ports[0]! });
    sub = new Redis({ port: both.node.port });
  });
  afterAll(() => {
    ref?.disconnect();
    sub?.disconnect();
  });

  // 184571 once diverged: an approximate trim that freed only a node an exact trim had emptied.
  const seeds = [...new Set([184571, envInt('DIFF_SEED') ?? Math.floor(Math.random() * 1_000_000)])];
  const cases: Array<{ seed: number; nodeSize: number }> = [
    ...seeds.map((seed) => ({ seed, nodeSize: 100 })),
    // stream-node-max-entries as the Redis test suite sets it; raised while the stream grows (a
    // stream whose last node XDEL emptied after a raise is a known difference: decisions.md).
    ...seeds.map((seed) => ({ seed, nodeSize: 10 })),
    ...seeds.map((seed) => ({ seed, nodeSize: 2 })),
  ];
  it.each(cases)('seed $seed, nodes of $nodeSize entries: 300 adds, trims and deletes on a stream of about 500-5,000 entries', async ({ seed, nodeSize: entries }) => {
    const rng = new Prng(seed);
    const nodeSize = async (n: number): Promise<void> => {
      await Promise.all([ref, sub].map((c) => c.call('CONFIG', 'SET', 'stream-node-max-entries', String(n))));
    };
    let ms = 1;
    const both = async (args: Array<string | number>): Promise<unknown> => {
      const run = (c: Redis): Promise<unknown> => c.call(String(args[0]), ...args.slice(1).map(String)).catch((e: Error) => `error: ${e.message}`);
      const [want, got] = await Promise.all([run(ref), run(sub)]);
      expect(got, `seed ${seed}: ${args.join(' ').slice(0, 200)}`).toEqual(want);
      return want;
    };
    const addMany = async (n: number): Promise<void> => {
      for (const c of [ref, sub]) {
        const p = c.pipeline();
        for (let i = 0; i < n; i++) p.xadd('big', `${ms + i}-0`, 'f', 'v');
        await p.exec();
      }
      ms += n;
    };
    const someId = (): string => `${rng.int(1, ms)}-0`;
    await both(['DEL', 'big']);
    await nodeSize(entries);
    await addMany(rng.int(500, 1500));
    for (let i = 0; i < 300; i++) {
      switch (rng.int(0, 9)) {
        case 0: await addMany(rng.int(1, 400)); break;
        case 1: await both(['XADD', 'big', 'MAXLEN', '~', rng.int(0, 3000), `${ms++}-0`, 'f', 'v']); break;
        case 2: await both(['XADD', 'big', 'MINID', '~', someId(), 'LIMIT', rng.pick([0, 50, 100, 250, 1000]), `${ms++}-0`, 'f', 'v']); break;
        case 3: await both(['XTRIM', 'big', 'MAXLEN', '~', rng.int(0, 3000), ...(rng.chance(0.4) ? ['LIMIT', rng.pick([0, 99, 100, 101, 300])] : [])]); break;
        case 4: await both(['XTRIM', 'big', 'MINID', rng.pick(['~', '=']), someId()]); break;
        case 5: await both(['XTRIM', 'big', 'MAXLEN', rng.int(0, 3000)]); break;
        case 6: {
          // XDEL a run of ids: sometimes a whole node of 100, sometimes the newest entries.
          const from = rng.chance(0.3) ? Math.max(1, ms - rng.int(1, 150)) : rng.int(1, ms);
          const ids = Array.from({ length: rng.int(1, 120) }, (_, k) => `${from + k}-0`);
          await both(['XDEL', 'big', ...ids]);
          break;
        }
        case 7: await both(['XRANGE', 'big', someId(), '+', 'COUNT', 5]); break;
        default: await both(['XREVRANGE', 'big', '+', '-', 'COUNT', 3]);
      }
      const [want, got] = await Promise.all([ref.call('XINFO', 'STREAM', 'big'), sub.call('XINFO', 'STREAM', 'big')]);
      expect(infoFields(got), `seed ${seed}, after command ${i}`).toEqual(infoFields(want));
    }
    await nodeSize(100);
  }, 180000);
});
