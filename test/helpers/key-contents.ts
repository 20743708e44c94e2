/**
 * Keys of every type and encoding ringkv has, built by the same commands on any server, and a
 * key's contents in a form two servers' copies can be compared in (DUMP/RESTORE, RDB snapshots).
 */
import type { Redis } from 'ioredis';

const many = (n: number, f: (i: number) => string): string[] => Array.from({ length: n }, (_, i) => f(i));

/** Commands that build one key of each kind, the same on both servers. */
export const BUILD: Array<[key: string, argv: string[]]> = [
  ['str', ['SET', 'str', 'hello world']],
  ['int', ['SET', 'int', '-123456789']],
  ['bigint', ['SET', 'bigint', '9223372036854775807']],
  ['long', ['SET', 'long', 'abc'.repeat(200)]],
  ['empty', ['SET', 'empty', '']],
  ['list', ['RPUSH', 'list', 'a', '1', '-5', '300', '70000', '-2147483649', 'x'.repeat(70), '']],
  ['biglist', ['RPUSH', 'biglist', ...many(3000, (i) => (i % 3 === 0 ? String(i) : `item-${i}-${'y'.repeat(i % 50)}`))]],
  ['intset', ['SADD', 'intset', '1', '2', '-3', '65536', '-4294967296', '9223372036854775807']],
  ['set', ['SADD', 'set', 'a', 'b', 'c', '1']],
  ['bigset', ['SADD', 'bigset', ...many(1000, (i) => String(i * 7))]],
  ['zset', ['ZADD', 'zset', '1', 'a', '2.5', 'b', '-0', 'c', 'inf', 'd', '-inf', 'e', '0.1', 'f']],
  ['bigzset', ['ZADD', 'bigzset', ...many(300, (i) => [String(i / 3), `m${i}`]).flatMap((x) => x)]],
  ['longzset', ['ZADD', 'longzset', '1', 'z'.repeat(100), '-0', 'y']],
  ['hash', ['HSET', 'hash', 'f', 'v', 'n', '12', 'e', '']],
  ['bighash', ['HSET', 'bighash', ...many(600, (i) => [`f${i}`, `v${i}`]).flatMap((x) => x)]],
  ['longhash', ['HSET', 'longhash', 'f', 'w'.repeat(100)]],
];

/** A key's contents, byte-exact: unordered collections sorted by their bytes. */
export async function contents(c: Redis, key: string): Promise<unknown> {
  const hex = (b: Buffer): string => b.toString('hex');
  const type = await c.type(key);
  switch (type) {
    case 'string': return [type, hex((await c.getBuffer(key))!)];
    case 'list': return [type, (await c.lrangeBuffer(key, 0, -1)).map(hex)];
    case 'set': return [type, (await c.smembersBuffer(key)).map(hex).sort()];
    case 'zset': return [type, (await c.zrangeBuffer(key, 0, -1, 'WITHSCORES')).map(hex)];
    case 'hash': {
      const flat = (await c.callBuffer('HGETALL', key)) as Buffer[];
      const pairs: string[] = [];
      for (let i = 0; i < flat.length; i += 2) pairs.push(`${hex(flat[i]!)}=${hex(flat[i + 1]!)}`);
      return [type, pairs.sort()];
    }
    default: return [type];
  }
}


/** A stream's entries, and each group's last id, entries read and pending entries with their owners. */
export async function streamContents(c: Redis, key: string): Promise<unknown> {
  const entries = await c.xrange(key, '-', '+');
  const groups = (await c.xinfo('GROUPS', key)) as unknown[][];
  const out: unknown[] = [];
  for (const g of groups) {
    const info = new Map<string, unknown>();
    for (let i = 0; i < g.length; i += 2) info.set(String(g[i]), g[i + 1]);
    const name = String(info.get('name'));
    const pending = await c.xpending(key, name, '-', '+', 1_000_000);
    // Delivery counts, not idle times: those move with the clock.
    out.push([name, info.get('last-delivered-id'), info.get('entries-read'), (pending as unknown[][]).map((p) => [p[0], p[1], p[3]])]);
  }
  return ['stream', entries, out];
}
