/**
 * Goal: the list operations that rewrite positions in pages (LINSERT, LREM from either end) and
 * those that cut ends (LTRIM) or address positions (LSET, LINDEX, LPOS with RANK/COUNT/MAXLEN)
 * agree with redis-server 7.0 on lists of thousands of elements, beyond what the differential
 * generator's short lists reach.
 * Method: one seeded sequence of commands sent to a real redis-server and a real ringkv node, every
 * reply compared, the whole list compared after every command.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Redis from 'ioredis';
import { haveRedisServer } from '../helpers/redis-reference.js';
import { nodeBesideRedis } from '../helpers/beside-redis.js';
import { Prng } from '../sim/prng.js';
import { envInt } from '../helpers/env.js';

const VALUES = ['a', 'b', 'c', 'd'];

describe.skipIf(!haveRedisServer)('long lists vs redis-server', () => {
  const both = nodeBesideRedis([]);
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

  const seed = envInt('DIFF_SEED') ?? Math.floor(Math.random() * 1_000_000);
  it(`seed ${seed}: 250 rewriting commands on a list of about 700-6,000 elements`, async () => {
    const rng = new Prng(seed);
    const pick = (): string => rng.pick(VALUES);
    const many = (n: number): string[] => Array.from({ length: n }, pick);
    const both = async (args: Array<string | number>): Promise<unknown> => {
      const run = (c: Redis): Promise<unknown> => c.call(String(args[0]), ...args.slice(1).map(String)).catch((e: Error) => `error: ${e.message}`);
      const [want, got] = await Promise.all([run(ref), run(sub)]);
      expect(got, `seed ${seed}: ${args.join(' ').slice(0, 200)}`).toEqual(want);
      return want;
    };
    await both(['DEL', 'big']);
    await both(['RPUSH', 'big', ...many(700)]);
    for (let i = 0; i < 250; i++) {
      switch (rng.int(0, 7)) {
        case 0: await both(['LINSERT', 'big', rng.pick(['BEFORE', 'AFTER']), pick(), `ins${i}`]); break;
        case 1: await both(['LREM', 'big', rng.pick([0, 1, 3, 50, -1, -3, -50, 400]), pick()]); break;
        case 2: await both(['LTRIM', 'big', rng.int(0, 5), rng.int(-6, -1)]); break;
        case 3: await both(['RPUSH', 'big', ...many(rng.int(1, 300))]); break;
        case 4: await both(['LPOS', 'big', pick(), 'RANK', rng.pick([1, 5, -1, -7]), 'COUNT', rng.pick([0, 3]), 'MAXLEN', rng.pick([0, 100])]); break;
        case 5: await both(['LSET', 'big', rng.int(-500, 500), `set${i}`]); break;
        case 6: await both(['LINDEX', 'big', rng.int(-800, 800)]); break;
        default: await both(['LPUSH', 'big', ...many(rng.int(1, 300))]);
      }
      await both(['LRANGE', 'big', 0, -1]);
      await both(['LLEN', 'big']);
    }
    await both(['LRANGE', 'big', 100, 350]);
    await both(['LRANGE', 'big', -300, -20]);
  }, 60000);
});
