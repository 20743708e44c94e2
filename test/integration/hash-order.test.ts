/**
 * Goal: while a hash is a listpack, ringkv lists its fields in the order redis-server 7.0 does
 * (insertion order: a new field last, a changed one in place, a deleted and re-added one last) in
 * HGETALL, HKEYS, HVALS, HSCAN, HRANDFIELD and DUMP; the order survives a restart, DUMP/RESTORE
 * both ways, COPY and RENAME; once a hash is a hashtable the field set still matches.
 * Method: the same writes go through ioredis pipelines to a real redis-server and a real ringkv
 * node; every whole-hash reply is compared with redis-server's, unsorted while redis-server's
 * OBJECT ENCODING says listpack. Then the node is stopped and started on its data directory and
 * read again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { haveRedisServer, startRedisServer, type RedisReference } from '../helpers/redis-reference.js';
import { startNode, type NodeProcess } from '../helpers/server.js';

type Step = Array<string | Buffer>;

/** Writes that move fields around: overwrites, deletes and re-adds, increments, no-op HSETNX. */
const SCRIPT: Step[] = [
  ['HSET', 'h', 'z', '1', 'a', '2', 'm', '3'],
  ['HSET', 'h', 'a', 'changed'],
  ['HSET', 'h', 'b', '4', 'z', '5'],
  ['HDEL', 'h', 'z'],
  ['HSET', 'h', 'z', 'again'],
  ['HINCRBY', 'h', 'm', '10'],
  ['HINCRBY', 'h', 'counter', '1'],
  ['HINCRBYFLOAT', 'h', 'a', '1.5'],
  ['HINCRBYFLOAT', 'h', 'float', '2.25'],
  ['HSETNX', 'h', 'b', 'ignored'],
  ['HSETNX', 'h', 'c', 'new'],
  ['HMSET', 'h', 'y', '1', 'x', '2'],
  ['HDEL', 'h', 'a', 'nosuch'],
  ['HSET', 'h', 'a', 'last'],
  // Fields in an order that is neither byte order nor hash order.
  ['HSET', 'many', ...Array.from({ length: 60 }, (_, i) => [`f${(i * 37) % 60}`, String(i)]).flat()],
  ['HDEL', 'many', 'f0', 'f37'],
  ['HSET', 'many', 'f0', 'back'],
  // Hashtables: on the 513th field (hash-max-listpack-entries is 512 in Redis 7.0), and on a
  // 65-byte value (both for good); 512 fields stay a listpack.
  ['HSET', 'big', ...Array.from({ length: 513 }, (_, i) => [`g${i}`, String(i)]).flat()],
  ['HSET', 'full', ...Array.from({ length: 512 }, (_, i) => [`p${(i * 101) % 512}`, String(i)]).flat()],
  ['HSET', 'long', 'p', '1', 'q', 'v'.repeat(65)],
  ['HSET', 'edge', 'p', '1', 'q', 'v'.repeat(64)],
];

const READS: Array<(k: string) => Step> = [
  (k) => ['HGETALL', k],
  (k) => ['HKEYS', k],
  (k) => ['HVALS', k],
  (k) => ['HSCAN', k, '0'],
  (k) => ['HSCAN', k, '0', 'MATCH', '*', 'COUNT', '1'],
  (k) => ['HRANDFIELD', k, '1000'],
  (k) => ['HRANDFIELD', k, '1000', 'WITHVALUES'],
];

async function pipeline(r: Redis, steps: readonly Step[]): Promise<unknown[]> {
  const results = (await r.pipeline(steps.map((s) => [String(s[0]).toLowerCase(), ...s.slice(1)])).exec()) ?? [];
  return results.map(([err, value]) => (err ? `ERR ${err.message}` : value));
}

interface HashReads {
  key: string;
  encoding: unknown;
  replies: unknown[];
}

/** OBJECT ENCODING of each key, then its whole-hash reads. */
function readSteps(keys: readonly string[]): Step[] {
  return keys.flatMap((k) => [['OBJECT', 'ENCODING', k], ...READS.map((read) => read(k))]);
}

/** The replies to readSteps(keys), per key. */
function byKey(keys: readonly string[], got: readonly unknown[]): HashReads[] {
  const per = READS.length + 1;
  return keys.map((key, i) => ({ key, encoding: got[i * per], replies: got.slice(i * per + 1, (i + 1) * per) }));
}

async function readAll(r: Redis, keys: readonly string[]): Promise<HashReads[]> {
  return byKey(keys, await pipeline(r, readSteps(keys)));
}

/** A reply as a multiset, for hashtables (Redis's dict order is no promise): an array's items, HGETALL's field=value pairs. */
function unordered(reply: unknown): string[] {
  if (Array.isArray(reply)) return reply.map(String).sort();
  return Object.entries(reply as Record<string, string>).map(([f, v]) => `${f}=${v}`).sort();
}

function compare(want: readonly HashReads[], got: readonly HashReads[]): void {
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    expect(g.encoding, `OBJECT ENCODING ${w.key}`).toEqual(w.encoding);
    for (let j = 0; j < READS.length; j++) {
      const what = `${READS[j]!(w.key).join(' ')} (${String(w.encoding)})`;
      if (w.encoding === 'listpack') expect(g.replies[j], what).toEqual(w.replies[j]);
      else if (!String(READS[j]!(w.key)[0]).startsWith('HSCAN')) expect(unordered(g.replies[j]), what).toEqual(unordered(w.replies[j]));
    }
  }
}

const KEYS = ['h', 'many', 'big', 'long', 'edge', 'full'];

describe.skipIf(!haveRedisServer)('hash field order against redis-server 7.0', () => {
  let redis: RedisReference | undefined;
  let node: NodeProcess | undefined;
  let ref: Redis;
  let sub: Redis;

  beforeAll(async () => {
    const [r, n] = await Promise.allSettled([startRedisServer(), startNode({ args: ['--appendfsync', 'always'] })]);
    if (r.status === 'fulfilled') redis = r.value;
    if (n.status === 'fulfilled') node = n.value;
    if (r.status === 'rejected') throw r.reason;
    if (n.status === 'rejected') throw n.reason;
    ref = new Redis({ port: redis!.ports[0]! });
    sub = new Redis({ port: node!.port });
  }, 30000);

  afterAll(async () => {
    ref?.disconnect();
    sub?.disconnect();
    await Promise.all([redis?.stop(), node?.stop()]);
  });

  it('replies in insertion order while a listpack, through one pipeline, and after a restart', async () => {
    // One pipeline per server holding every write and every read.
    const steps = [...SCRIPT, ...readSteps(KEYS)];
    const [want, got] = await Promise.all([pipeline(ref, steps), pipeline(sub, steps)]);
    expect(got.slice(0, SCRIPT.length)).toEqual(want.slice(0, SCRIPT.length));
    const wantReads = byKey(KEYS, want.slice(SCRIPT.length));
    compare(wantReads, byKey(KEYS, got.slice(SCRIPT.length)));
    expect(wantReads.map((r) => r.encoding)).toEqual(['listpack', 'listpack', 'hashtable', 'hashtable', 'listpack', 'listpack']);
    // What the order is, spelled out for the first hash (a failure above shows what differs).
    expect(await sub.hkeys('h')).toEqual(['m', 'b', 'z', 'counter', 'float', 'c', 'y', 'x', 'a']);

    sub.disconnect();
    expect(await node!.stop()).toBe(0);
    await node!.restart();
    sub = new Redis({ port: node!.port });
    compare(wantReads, await readAll(sub, KEYS));
    // Writes after the restart continue the order.
    const more: Step[] = [['HSET', 'h', 'after', '1', 'm', 'kept'], ['HDEL', 'h', 'b'], ['HSET', 'h', 'b', 'end']];
    expect(await pipeline(sub, more)).toEqual(await pipeline(ref, more));
    compare(await readAll(ref, ['h']), await readAll(sub, ['h']));
  }, 30000);

  it('HRANDFIELD: a count below the size gives distinct fields in the listpack order', async () => {
    const fields = await ref.hkeys('many');
    expect(await sub.hkeys('many')).toEqual(fields);
    // Checked on redis-server too: that is where the rule comes from.
    for (const [name, r] of [['redis-server', ref], ['ringkv', sub]] as const) {
      const picks = await pipeline(r, Array.from({ length: 20 }, () => ['HRANDFIELD', 'many', '7']));
      for (const picked of picks as string[][]) {
        expect(new Set(picked).size, name).toBe(7);
        const positions = picked.map((f) => fields.indexOf(f));
        expect(positions.every((p) => p >= 0), name).toBe(true);
        expect(positions, `${name}: picks in insertion order`).toEqual([...positions].sort((a, b) => a - b));
      }
    }
    // Negative counts repeat and come in any order: only the count and membership are fixed.
    const repeated = (await sub.call('HRANDFIELD', 'many', '-200')) as string[];
    expect(repeated.length).toBe(200);
    expect(repeated.every((f) => fields.includes(f))).toBe(true);
  });

  it('DUMP/RESTORE both ways, COPY and RENAME keep the order', async () => {
    // ringkv's payload restored on redis-server, and redis-server's listpack payload on ringkv.
    const fromSub = await sub.dumpBuffer('h');
    const fromRef = await ref.dumpBuffer('many');
    await Promise.all([ref.restore('h:from-ringkv', 0, fromSub), sub.restore('many:from-redis', 0, fromRef)]);
    expect(await ref.hkeys('h:from-ringkv')).toEqual(await sub.hkeys('h'));
    expect(await ref.object('ENCODING', 'h:from-ringkv')).toBe('listpack');
    expect(await sub.hgetall('many:from-redis')).toEqual(await ref.hgetall('many'));
    expect(await sub.hkeys('many:from-redis')).toEqual(await ref.hkeys('many'));

    const steps: Step[] = [['COPY', 'h', 'h:copy'], ['RENAME', 'many', 'many:renamed'], ['HSET', 'h:copy', 'tail', '1'], ['HSET', 'many:renamed', 'f0', 'moved', 'new', '2']];
    expect(await pipeline(sub, steps)).toEqual(await pipeline(ref, steps));
    compare(await readAll(ref, ['h:copy', 'many:renamed']), await readAll(sub, ['h:copy', 'many:renamed']));
  });
});
