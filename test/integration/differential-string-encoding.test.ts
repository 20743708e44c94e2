/**
 * Goal: OBJECT ENCODING of a string answers what redis-server 7.0 answers after any sequence of
 * string writes: int / embstr / raw by the value after SET, GETSET, SETEX, MSET, INCR and RESTORE;
 * raw whatever the length after APPEND, SETRANGE, SETBIT, BITFIELD, BITOP and PFADD; embstr for
 * INCRBYFLOAT's "3"; kept by COPY, RENAME, EXPIRE, PERSIST and GETEX. On one node and on a 3-node
 * cluster (where the coordinator reads the form back from its replicas), and after a restart
 * (from the commit log, then from the checkpointed store).
 * Method: seeded random scenarios (gen-encoding.ts) run in lockstep on redis-server and ringkv,
 * every reply compared; then fixed sequences written to both, compared before and after ringkv
 * restarts, and values moved with DUMP/RESTORE from one server to the other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { ENCODING_MIX } from '../helpers/differential/generator.js';
import { diffSeeds, differentialSuite } from '../helpers/differential/suite.js';
import { directCluster, singleNode } from '../helpers/differential/targets.js';
import { haveRedisServer } from '../helpers/redis-reference.js';
import { nodeBesideRedis } from '../helpers/beside-redis.js';

differentialSuite({
  title: 'differential string encodings: single node vs redis-server',
  file: import.meta.url,
  start: singleNode,
  seeds: diffSeeds([701, 702]),
  protocols: [2, 3],
  mix: ENCODING_MIX,
  label: 'enc1',
  // WATCH is left out here: a SETBIT that changes no bit of a value not yet raw writes the record
  // to make it raw, which a WATCH on the key sees, where Redis 7.0 changes the encoding without
  // touching the key (docs/decisions.md, "String encodings"). The transaction suites test WATCH.
  noWatch: true,
});

differentialSuite({
  title: 'differential string encodings: 3-node cluster, direct to slot primaries, vs redis-server',
  file: import.meta.url,
  start: directCluster,
  seeds: diffSeeds([703]),
  protocols: [2],
  mix: ENCODING_MIX,
  label: 'encc',
  noWatch: true,
});

/** Each sequence leaves key `k` (and sometimes `k2`) in one encoding; the last one is what is compared. */
const SEQUENCES: string[][][] = [
  [['SET', 'k', '123']],
  [['SET', 'k', '123'], ['APPEND', 'k', '4']],
  [['SET', 'k', 'abc'], ['APPEND', 'k', '']],
  [['APPEND', 'k', '77']],
  [['SETRANGE', 'k', '0', '12']],
  [['SET', 'k', '12'], ['SETRANGE', 'k', '0', '']],
  [['SETBIT', 'k', '3', '1']],
  [['SET', 'k', '12'], ['BITFIELD', 'k', 'OVERFLOW', 'FAIL', 'INCRBY', 'u2', '0', '100']],
  [['SET', 'k', '5'], ['BITOP', 'OR', 'k2', 'k']],
  [['SET', 'k', '1'], ['INCRBYFLOAT', 'k', '2']],
  [['SET', 'k', '1'], ['INCRBYFLOAT', 'k', '2'], ['INCR', 'k']],
  [['SET', 'k', 'x'], ['APPEND', 'k', 'y'], ['COPY', 'k', 'k2']],
  [['SET', 'k', '9'], ['INCRBYFLOAT', 'k', '1'], ['RENAME', 'k', 'k2']],
  [['SET', 'k', 'x'], ['SETRANGE', 'k', '1', 'y'], ['EXPIRE', 'k', '1000'], ['PERSIST', 'k'], ['GETEX', 'k', 'EX', '500']],
  [['SET', 'k', 'x'], ['APPEND', 'k', 'y'], ['GETSET', 'k', '15']],
  [['SET', 'k', 'x'.repeat(45)]],
  [['SET', 'k', 'x'.repeat(5000)], ['APPEND', 'k', 'y']],
  [['PFADD', 'k', 'a']],
];

describe.skipIf(!haveRedisServer)('string encodings across restarts and DUMP/RESTORE', () => {
  const both = nodeBesideRedis(['--appendfsync', 'always']);
  let ref: Redis;
  let sut: Redis;

  beforeAll(async () => {
    ref = new Redis({ port: both.ref.ports[0]!, lazyConnect: true });
    await ref.connect();
  }, 60000);
  afterAll(() => {
    ref?.disconnect();
    sut?.disconnect();
  });

  async function connectSut(): Promise<void> {
    sut?.disconnect();
    sut = new Redis({ port: both.node.port, lazyConnect: true });
    await sut.connect();
  }

  async function encodings(client: Redis, keys: string[]): Promise<Array<string | null>> {
    return Promise.all(keys.map((k) => client.call('OBJECT', 'ENCODING', k) as Promise<string | null>));
  }

  it('match redis-server, and stay so after a crash (commit log) and a clean restart (store)', async () => {
    await connectSut();
    const keys: string[] = [];
    for (const [i, seq] of SEQUENCES.entries()) {
      const name = (k: string): string => (k === 'k' || k === 'k2' ? `{e${i}}${k}` : k);
      for (const c of seq) {
        const argv = c.map((a, j) => (j > 0 && (a === 'k' || a === 'k2') ? name(a) : a));
        const [want, got] = await Promise.all([ref.call(argv[0]!, ...argv.slice(1)).catch((e: Error) => e.message), sut.call(argv[0]!, ...argv.slice(1)).catch((e: Error) => e.message)]);
        expect(got, argv.join(' ')).toEqual(want);
      }
      keys.push(name('k'), name('k2'));
    }
    const expected = await encodings(ref, keys);
    expect(expected.filter((e) => e === 'raw').length).toBeGreaterThan(8);
    expect(await encodings(sut, keys)).toEqual(expected);

    // A crash: the records come back from the commit log.
    sut.disconnect();
    await both.node.kill9();
    await both.node.restart();
    await connectSut();
    expect(await encodings(sut, keys)).toEqual(expected);

    // A clean stop checkpoints into the store; the records then come back from LMDB.
    sut.disconnect();
    await both.node.stop();
    await both.node.restart();
    await connectSut();
    expect(await encodings(sut, keys)).toEqual(expected);
  }, 60000);

  it('RESTORE makes the encoding from the value, as Redis does, in both directions', async () => {
    await connectSut();
    for (const [i, [setup, change]] of ([[['SET', 'v', '12345'], ['APPEND', 'v', '6']], [['SET', 'v', 'ab'], ['SETRANGE', 'v', '0', 'c']], [['SET', 'v', '2'], ['INCRBYFLOAT', 'v', '1']], [['SET', 'v', 'x'.repeat(5000)], ['APPEND', 'v', 'y']]] as const).entries()) {
      const key = `{r${i}}v`;
      for (const client of [ref, sut]) {
        await client.call(setup[0], key, ...setup.slice(2));
        await client.call(change[0], key, ...change.slice(2));
      }
      const fromRedis = (await ref.callBuffer('DUMP', key)) as Buffer;
      const fromRingkv = (await sut.callBuffer('DUMP', key)) as Buffer;
      await ref.call('RESTORE', `${key}2`, '0', fromRingkv);
      await sut.call('RESTORE', `${key}2`, '0', fromRedis);
      const want = await encodings(ref, [key, `${key}2`]);
      expect(await encodings(sut, [key, `${key}2`]), key).toEqual(want);
      // The values arrived whole both ways (a string stored in fragments here included).
      expect(await sut.get(`${key}2`)).toEqual(await ref.get(key));
      expect(await ref.get(`${key}2`)).toEqual(await sut.get(key));
    }
  }, 30000);
});
