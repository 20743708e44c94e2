/**
 * Keys of every type and encoding ringkv has, built by the same commands on any server, and a
 * key's contents in a form two servers' copies can be compared in (DUMP/RESTORE, RDB snapshots).
 */
import type { ChainableCommander, Redis } from 'ioredis';

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

/**
 * Queues, after BUILD's keys, what a whole-keyspace copy must carry besides them: a stream with a
 * deletion, a group with pending entries, a consumer with none and a group at `$`, a stream left
 * empty, and expiries near and far on strings and collections (bighash gets one too).
 */
export function queueFullKeyspace(p: ChainableCommander): void {
  for (const [, argv] of BUILD) p.call(argv[0]!, ...argv.slice(1));
  for (let i = 1; i <= 150; i++) p.xadd('stream', `${i}-1`, ...(i % 3 === 0 ? ['other', String(i)] : ['a', String(i), 'b', 'x']));
  p.xdel('stream', '2-1');
  p.xgroup('CREATE', 'stream', 'g', '0');
  p.xreadgroup('GROUP', 'g', 'alice', 'COUNT', '3', 'STREAMS', 'stream', '>');
  p.xgroup('CREATECONSUMER', 'stream', 'g', 'bob');
  p.xgroup('CREATE', 'stream', 'late', '$');
  p.xadd('emptystream', '5-5', 'f', 'v');
  p.xdel('emptystream', '5-5');
  p.set('ttl-str', 'v', 'PX', 600_000);
  p.rpush('ttl-list', 'a', 'b');
  p.pexpireat('ttl-list', Date.now() + 3_600_000);
  p.expire('bighash', 86_400);
}

/** A key's contents (streams with their groups) and its absolute expiry. */
export async function keySnapshot(c: Redis, key: string): Promise<unknown> {
  const type = await c.type(key);
  return [type === 'stream' ? await streamContents(c, key) : await contents(c, key), await c.call('PEXPIRETIME', key)];
}

/** FUNCTION LIST WITHCODE by library name: Redis lists them in its dictionary's order. */
export async function librariesByName(c: Pick<Redis, 'call'>): Promise<unknown[]> {
  const list = (await c.call('FUNCTION', 'LIST', 'WITHCODE')) as unknown[][];
  return list.sort((a, b) => String(a[1]).localeCompare(String(b[1])));
}
