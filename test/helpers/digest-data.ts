/**
 * Seeded commands that build a data set of every type for DEBUG DIGEST comparisons: the same
 * commands are sent to redis-server and to ringkv, which must then hold the same values. Each type
 * comes small (listpack / intset in Redis) and past Redis's conversion limits (hashtable /
 * skiplist / quicklist of many nodes), some keys with a TTL, some emptied by deletions (gone), and
 * "twins": the same set or hash filled in opposite orders, whose digests must be equal.
 */
import type { Prng } from '../sim/prng.js';

export type Cmd = Array<string | Buffer>;

export interface DigestData {
  commands: Cmd[];
  /** Every key the commands name, gone or not. */
  keys: string[];
  /** Pairs of keys holding equal values built in different orders. */
  twins: Array<[string, string]>;
  /** Keys whose OBJECT ENCODING the comparison should also check (sets, hashes, sorted sets). */
  encoded: string[];
}

/** Above Redis 7.0's defaults: 128 entries / 64 bytes for listpacks, 512 for intsets. */
const MANY = 200;
const MANY_INTS = 600;

function text(rng: Prng, min: number, max: number): string {
  const n = rng.int(min, max);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(rng.int(97, 122));
  return s;
}

/** Values of every shape a digest reads: text, integers (Redis's int encoding), binary, long. */
function value(rng: Prng): string | Buffer {
  switch (rng.int(0, 4)) {
    case 0: return text(rng, 0, 12);
    case 1: return String(rng.int(-100000, 100000));
    case 2: return Buffer.from(Array.from({ length: rng.int(1, 16) }, () => rng.int(0, 255)));
    case 3: return text(rng, 65, 150);
    default: return String(rng.int(0, 2 ** 31) * 2 ** 20);
  }
}

const SCORES = ['0', '-0', '1', '-1', '0.1', '3.141', '1e-300', '1e300', '-2.5e-7', 'inf', '-inf', '123456789012345678', '4.9406564584124654e-324'];

function score(rng: Prng): string {
  return rng.chance(0.5) ? rng.pick(SCORES) : String(rng.int(-1000, 1000) + rng.next());
}

export function digestData(rng: Prng, tag: string): DigestData {
  const commands: Cmd[] = [];
  const keys: string[] = [];
  const twins: Array<[string, string]> = [];
  const encoded: string[] = [];
  let n = 0;
  const key = (type: string): string => {
    const k = `${tag}:${type}:${n++}`;
    keys.push(k);
    return k;
  };
  const maybeExpire = (k: string): void => {
    if (rng.chance(0.3)) commands.push(['EXPIRE', k, String(rng.int(1000, 100000))]);
  };

  // Strings: plain, integers, float text, appended, fragmented (past 4 KiB), bitmaps, HyperLogLogs.
  for (let i = 0; i < 12; i++) {
    const k = key('str');
    commands.push(['SET', k, value(rng)]);
    if (rng.chance(0.3)) commands.push(['APPEND', k, value(rng)]);
    maybeExpire(k);
  }
  const counter = key('str');
  commands.push(['SET', counter, '10'], ['INCRBYFLOAT', counter, '1.5'], ['INCRBY', key('str'), '7']);
  const fragmented = key('str');
  commands.push(['SETRANGE', fragmented, String(rng.int(5000, 20000)), text(rng, 1, 3000)], ['SETRANGE', fragmented, '100', 'x']);
  commands.push(['SETBIT', key('str'), String(rng.int(50_000, 200_000)), '1']);
  commands.push(['SET', key('str'), 'v', 'PX', '100000000']);
  const hll = key('str');
  commands.push(['PFADD', hll, ...Array.from({ length: rng.int(1, 50) }, () => text(rng, 1, 8))]);

  // Lists: order matters to the digest.
  for (const size of [1, 5, 20, MANY, MANY * 3]) {
    const k = key('list');
    for (let i = 0; i < size; i++) commands.push([rng.chance(0.5) ? 'RPUSH' : 'LPUSH', k, value(rng)]);
    if (size > 1) commands.push(['LSET', k, '0', value(rng)], ['LINSERT', k, 'BEFORE', 'nomatch', 'x'], ['LREM', k, '1', 'x']);
    maybeExpire(k);
  }
  const emptiedList = key('list');
  commands.push(['RPUSH', emptiedList, 'a', 'b'], ['LPOP', emptiedList, '2']);

  // Sets: intset, intset past its limit, strings, and twins filled in opposite orders.
  const setOf = (k: string, members: string[]): void => {
    for (let i = 0; i < members.length; i += 50) commands.push(['SADD', k, ...members.slice(i, i + 50)]);
  };
  const sets: string[] = [];
  for (const members of [
    Array.from({ length: 10 }, () => String(rng.int(-500, 500))),
    Array.from({ length: MANY_INTS }, (_, i) => String(i * 3 - 100)),
    Array.from({ length: 10 }, () => text(rng, 1, 10)),
    Array.from({ length: MANY }, () => text(rng, 1, 80)),
  ]) {
    const a = key('set');
    const b = key('set');
    setOf(a, members);
    setOf(b, [...members].reverse());
    twins.push([a, b]);
    encoded.push(a, b);
    sets.push(a);
    commands.push(['SREM', a, members[0]!], ['SREM', b, members[0]!]);
    maybeExpire(a);
    if (rng.chance(0.5)) commands.push(['EXPIRE', b, '5000'], ['EXPIRE', a, '9000']);
  }
  const emptiedSet = key('set');
  commands.push(['SADD', emptiedSet, 'a', '1'], ['SREM', emptiedSet, 'a', '1']);
  const union = key('set');
  commands.push(['SUNIONSTORE', union, sets[0]!, sets[2]!]);
  encoded.push(union);

  // Sorted sets: listpack and skiplist, scores of every form %.17g prints.
  const zsets: string[] = [];
  for (const size of [1, 8, 40, MANY]) {
    const k = key('zset');
    zsets.push(k);
    for (let i = 0; i < size; i += 20) {
      const args: string[] = [];
      for (let j = i; j < Math.min(size, i + 20); j++) args.push(score(rng), rng.chance(0.1) ? text(rng, 65, 100) : `m${rng.int(0, size * 2)}`);
      commands.push(['ZADD', k, ...args]);
    }
    commands.push(['ZINCRBY', k, '0.25', 'm1'], ['ZADD', k, '-0', 'negzero']);
    encoded.push(k);
    maybeExpire(k);
  }
  const emptiedZset = key('zset');
  commands.push(['ZADD', emptiedZset, '1', 'a'], ['ZREMRANGEBYRANK', emptiedZset, '0', '-1']);
  const zunion = key('zset');
  commands.push(['ZUNIONSTORE', zunion, '2', zsets[1]!, zsets[3]!, 'WEIGHTS', '2', '0.5']);
  encoded.push(zunion);

  // Hashes: listpack, past the entry limit, past the value limit, twins in opposite orders.
  for (const size of [1, 10, MANY]) {
    const fields = Array.from({ length: size }, (_, i) => [`f${i}`, value(rng)] as const);
    const a = key('hash');
    const b = key('hash');
    for (const [f, v] of fields) commands.push(['HSET', a, f, v]);
    for (const [f, v] of [...fields].reverse()) commands.push(['HSET', b, f, v]);
    twins.push([a, b]);
    encoded.push(a, b);
    maybeExpire(a);
  }
  // Random members and values past 64 bytes can push every zset and hash above out of listpack
  // (seed 320451574 did): one of each that no draw can.
  const compactHash = key('hash');
  const compactZset = key('zset');
  commands.push(['HSET', compactHash, 'a', '1', 'b', 'two'], ['ZADD', compactZset, '1', 'a', '2.5', 'b']);
  encoded.push(compactHash, compactZset);
  const longValue = key('hash');
  commands.push(['HSET', longValue, 'a', '1', 'b', text(rng, 70, 90)], ['HINCRBY', longValue, 'a', '5'], ['HINCRBYFLOAT', longValue, 'c', '2.5']);
  encoded.push(longValue);
  const emptiedHash = key('hash');
  commands.push(['HSET', emptiedHash, 'a', '1'], ['HDEL', emptiedHash, 'a']);

  // Streams: explicit ids (the same on both), repeated and changing field sets, deletions, more
  // entries than a Redis stream node holds, an emptied stream (it stays), a group (not digested).
  for (const size of [1, 10, 250]) {
    const k = key('stream');
    let ms = rng.int(1, 1000);
    const fieldsOf = (): string[] => (rng.chance(0.6) ? ['a', 'b'] : Array.from({ length: rng.int(1, 3) }, (_, i) => `f${i}`));
    for (let i = 0; i < size; i++) {
      ms += rng.int(0, 2);
      commands.push(['XADD', k, `${ms}-${i}`, ...fieldsOf().flatMap((f) => [f, text(rng, 0, 10)])]);
    }
    if (size > 5) commands.push(['XDEL', k, `${ms}-${size - 2}`], ['XTRIM', k, 'MAXLEN', String(size - 3)]);
    commands.push(['XGROUP', 'CREATE', k, 'g', '0']);
    maybeExpire(k);
  }
  const emptiedStream = key('stream');
  commands.push(['XADD', emptiedStream, '5-1', 'a', '1'], ['XDEL', emptiedStream, '5-1']);

  // A key whose TTL was removed again digests as one that never had one.
  commands.push(['PERSIST', keys[0]!]);
  keys.push(`${tag}:missing`);
  return { commands, keys, twins, encoded };
}
