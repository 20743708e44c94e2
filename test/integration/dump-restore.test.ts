/**
 * Goal: DUMP payloads move values between redis-server 7.0 and ringkv in both directions, for
 * every type and encoding ringkv has (strings raw / int / LZF-compressed, lists of one and many
 * quicklist nodes, intset and hashtable sets, listpack and skiplist sorted sets with ±inf and -0,
 * listpack and hashtable hashes), with TTLs; RESTORE's errors are Redis's, byte for byte, for bad
 * options and corrupt payloads; and a node fed random corrupt payloads stays up.
 * Method: the same keys (a fixed list, and 40 random ones of numbers of every integer width and
 * binary strings) are built on both servers; each is DUMPed on one and RESTOREd on the
 * other, and the restored contents, TTL and OBJECT ENCODING compared with the original's. Error
 * cases are sent to both and the replies compared. Fuzz: payloads with random bytes changed and
 * the checksum made valid again go to ringkv only (redis-server without sanitize-dump-payload may
 * crash on them), which must answer OK or "Bad data format" and then still serve.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { haveRedisServer, startRedisServer, type RedisReference } from '../helpers/redis-reference.js';
import { startNode, type NodeProcess } from '../helpers/server.js';
import { crc64 } from '../../src/rdb/crc64.js';
import { RdbWriter } from '../../src/rdb/rdb-writer.js';
import { readDumpPayload, withDumpFooter } from '../../src/rdb/dump-payload.js';
import { RDB_TYPE_STREAM_LISTPACKS, writeStream, type StreamDump } from '../../src/rdb/stream-value.js';
import { Prng } from '../sim/prng.js';
import { BUILD, contents } from '../helpers/key-contents.js';

/** The payload with its CRC64 recomputed, so a change reaches the value decoder. */
function withValidCrc(p: Buffer): Buffer {
  const out = Buffer.from(p);
  out.writeBigUInt64LE(crc64(out.subarray(0, out.length - 8)), out.length - 8);
  return out;
}

async function reply(c: Redis, argv: Array<string | Buffer>): Promise<string> {
  try {
    return String(await c.call(String(argv[0]), ...argv.slice(1)));
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

describe.skipIf(!haveRedisServer)('DUMP / RESTORE between redis-server 7.0 and ringkv', () => {
  let ref: RedisReference | undefined;
  let node: NodeProcess | undefined;
  let redis: Redis;
  let ringkv: Redis;

  beforeAll(async () => {
    const [r, n] = await Promise.allSettled([startRedisServer(), startNode({ args: ['--appendfsync', 'no'] })]);
    if (r.status === 'fulfilled') ref = r.value;
    if (n.status === 'fulfilled') node = n.value;
    if (r.status === 'rejected') throw r.reason;
    if (n.status === 'rejected') throw n.reason;
    redis = new Redis({ port: ref!.ports[0]!, lazyConnect: true });
    ringkv = new Redis({ port: node!.port, lazyConnect: true });
    await Promise.all([redis.connect(), ringkv.connect()]);
    for (const [, argv] of BUILD) {
      await redis.call(argv[0]!, ...argv.slice(1));
      await ringkv.call(argv[0]!, ...argv.slice(1));
    }
    await Promise.all([redis.pexpire('str', 100000), ringkv.pexpire('str', 100000)]);
  }, 60000);

  afterAll(async () => {
    redis?.disconnect();
    ringkv?.disconnect();
    await Promise.all([ref?.stop(), node?.stop()]);
  });

  for (const [key] of BUILD) {
    it(`${key}: redis-server → ringkv, ringkv → redis-server and ringkv → ringkv`, async () => {
      // ringkv's own payloads list members in its order (a sorted set's lowest score first), not Redis's.
      for (const [from, to, label] of [[redis, ringkv, 'r2k'], [ringkv, redis, 'k2r'], [ringkv, ringkv, 'k2k']] as const) {
        const payload = await from.dumpBuffer(key);
        expect(payload, `DUMP ${key}`).toBeInstanceOf(Buffer);
        const ttl = await from.pttl(key);
        expect(await to.restore(`${key}:${label}`, ttl > 0 ? ttl : 0, payload, 'REPLACE')).toBe('OK');
        expect(await contents(to, `${key}:${label}`)).toEqual(await contents(from, key));
        expect(await to.object('ENCODING', `${key}:${label}`)).toBe(await from.object('ENCODING', key));
        if (ttl > 0) expect(Math.abs((await to.pttl(`${key}:${label}`)) - ttl)).toBeLessThan(5000);
      }
    });
  }

  it('random collections of numbers and binary strings survive the trip both ways', async () => {
    // Members that make redis-server pick every listpack / intset integer width and string class.
    const rng = new Prng(77);
    const atoms = ['0', '-0', '007', '127', '128', '-4096', '4095', '-4097', '32767', '-32768', '8388607', '-8388608',
      '2147483647', '-2147483649', '9223372036854775807', '-9223372036854775808', '9223372036854775808', '1.5', '', ' 1'];
    const member = (): Buffer => {
      if (rng.chance(0.6)) return Buffer.from(rng.pick(atoms));
      const n = rng.pick([1, 5, 63, 64, 200, 4095, 4096]);
      return Buffer.from(Array.from({ length: n }, () => rng.int(0, 255)));
    };
    for (let i = 0; i < 40; i++) {
      const key = `rnd${i}`;
      const n = rng.pick([1, 3, 20, 130, 600]);
      const kind = rng.pick(['list', 'set', 'zset', 'hash', 'string']);
      const members = Array.from({ length: n }, member);
      const scores = members.map(() => rng.pick(['0', '-0', '1', '-2.5', '1e300', 'inf', '-inf', String(rng.next())]));
      for (const c of [redis, ringkv]) {
        await c.del(key);
        if (kind === 'list') await c.rpush(key, ...members);
        else if (kind === 'set') await c.sadd(key, ...members);
        else if (kind === 'zset') await c.zadd(key, ...members.flatMap((m, j) => [scores[j]!, m]));
        else if (kind === 'hash') await c.hset(key, ...members.flatMap((m, j) => [m, members[(j + 1) % n]!]));
        else await c.set(key, Buffer.concat(members));
      }
      for (const [from, to, label] of [[redis, ringkv, 'r2k'], [ringkv, redis, 'k2r'], [ringkv, ringkv, 'k2k']] as const) {
        const payload = (await from.dumpBuffer(key))!;
        expect(await to.restore(`${key}:${label}`, 0, payload, 'REPLACE'), `${kind} ${key} ${label}`).toBe('OK');
        expect(await contents(to, `${key}:${label}`), `${kind} ${key} ${label}`).toEqual(await contents(from, key));
        expect(await to.object('ENCODING', `${key}:${label}`)).toBe(await from.object('ENCODING', key));
      }
    }
  }, 60000);

  it('answers option and payload errors as redis-server does', async () => {
    const p = (await redis.dumpBuffer('str'))!;
    const list = (await redis.dumpBuffer('list'))!;
    const version11 = Buffer.from(p);
    version11.writeUInt16LE(11, p.length - 10);
    const cases: Array<Array<string | Buffer>> = [
      ['RESTORE', 'str', '0', p],
      ['RESTORE', 'e1', '-1', p],
      ['RESTORE', 'e2', 'x', p],
      ['RESTORE', 'e3', '0', Buffer.from('abc')],
      ['RESTORE', 'e4', '0', p.subarray(0, p.length - 1)],
      ['RESTORE', 'e5', '0', version11],
      ['RESTORE', 'e6', '0', withValidCrc(version11)],
      ['RESTORE', 'e7', '0', withValidCrc(Buffer.concat([Buffer.from([0x63]), p.subarray(1)]))],
      ['RESTORE', 'e8', '0', withValidCrc(Buffer.concat([list.subarray(0, 5), Buffer.from([0xff]), list.subarray(6)]))],
      ['RESTORE', 'e9', '0', withValidCrc(Buffer.concat([Buffer.from([0x02, 0x00]), p.subarray(p.length - 10)]))],
      ['RESTORE', 'e10', '0', withValidCrc(Buffer.concat([Buffer.from([0x02, 0x02, 0x01, 0x61, 0x01, 0x61]), p.subarray(p.length - 10)]))],
      ['RESTORE', 'e11', '0', p, 'IDLETIME', '-1'],
      ['RESTORE', 'e12', '0', p, 'FREQ', '256'],
      ['RESTORE', 'e13', '0', p, 'FREQ', '2', 'IDLETIME', '1'],
      ['RESTORE', 'e14', '0', p, 'bogus'],
      ['RESTORE', 'e15', '0', p, 'ABSTTL', 'REPLACE', 'IDLETIME', '10'],
      ['RESTORE', 'e16', '1000', p, 'ABSTTL'],
      ['EXISTS', 'e16'],
      ['RESTORE', 'e15', '0', p],
      ['DUMP', 'nosuchkey'],
      // What a Redis Cluster node's MIGRATE sends: RESTORE as after ASKING.
      ['RESTORE-ASKING', 'a1', '0', list],
      ['LRANGE', 'a1', '0', '-1'],
      ['RESTORE-ASKING', 'a1', '0', list],
      ['RESTORE-ASKING', 'a1', '5000', p, 'REPLACE'],
      ['GET', 'a1'],
      ['RESTORE-ASKING', 'a2', '0', Buffer.from('abc')],
    ];
    const want = [];
    const got = [];
    for (const c of cases) {
      want.push(await reply(redis, c));
      got.push(await reply(ringkv, c));
    }
    expect(got).toEqual(want);
    expect(want).toContain('error: ERR Bad data format');
    expect(want).toContain('error: ERR DUMP payload version or checksum are wrong');
  });

  it('IDLETIME sets the idle time OBJECT IDLETIME reports, FREQ the counter OBJECT FREQ reports under an LFU policy', async () => {
    const p = (await redis.dumpBuffer('str'))!;
    const read = async (c: Redis): Promise<unknown[]> => {
      const out: unknown[] = [];
      await c.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
      await c.call('RESTORE', 'idle', '0', p, 'REPLACE', 'IDLETIME', '1000');
      out.push(await c.call('OBJECT', 'IDLETIME', 'idle'));
      // Redis keeps IDLETIME only under an LRU-like policy and FREQ only under LFU.
      await c.call('RESTORE', 'idle', '0', p, 'REPLACE', 'FREQ', '100');
      out.push(await c.call('OBJECT', 'IDLETIME', 'idle'));
      await c.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lfu');
      await c.call('RESTORE', 'freq', '0', p, 'REPLACE', 'FREQ', '100');
      out.push(await c.call('OBJECT', 'FREQ', 'freq'));
      await c.call('RESTORE', 'freq', '0', p, 'REPLACE', 'IDLETIME', '50');
      out.push(await c.call('OBJECT', 'FREQ', 'freq'));
      await c.call('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
      await c.call('DEL', 'idle', 'freq');
      return out;
    };
    const [ours, theirs] = [await read(ringkv), await read(redis)];
    expect(ours).toEqual(theirs);
    expect(ours[0]).toBe(1000);
    expect(ours[2]).toBe(100);
  });

  it('a stream DUMPed by a Redis before 7.0 (type 15, no entries-read) restores with the entries-read Redis estimates', async () => {
    // The stream as a Redis 6 would have it: six entries, one deleted, two groups (one read four
    // entries), then trimmed to two; written in the pre-7.0 layout.
    await redis.del('legacy-src');
    for (let i = 1; i <= 6; i++) await redis.xadd('legacy-src', `${i}-0`, 'data', String.fromCharCode(96 + i));
    await redis.xdel('legacy-src', '3-0');
    await redis.xgroup('CREATE', 'legacy-src', 'g1', '0');
    await redis.xgroup('CREATE', 'legacy-src', 'g2', '0');
    await redis.xreadgroup('GROUP', 'g1', 'c11', 'COUNT', 4, 'STREAMS', 'legacy-src', '>');
    await redis.xtrim('legacy-src', 'MAXLEN', '=', 2);
    const modern = readDumpPayload((await redis.dumpBuffer('legacy-src'))!) as StreamDump;
    const w = new RdbWriter();
    w.byte(RDB_TYPE_STREAM_LISTPACKS);
    writeStream(w, modern, true);
    const legacy = withDumpFooter(w.take());
    const groups = async (c: Redis): Promise<unknown> => {
      await c.del('legacy');
      await c.call('RESTORE', 'legacy', '0', legacy);
      const full = (await c.call('XINFO', 'STREAM', 'legacy', 'FULL')) as unknown[];
      const at = (list: unknown[], name: string): unknown => list[list.indexOf(name) + 1];
      return [at(full, 'entries-added'), at(full, 'max-deleted-entry-id'),
        ...(at(full, 'groups') as unknown[][]).map((g) => [at(g, 'name'), at(g, 'entries-read'), at(g, 'lag')])];
    };
    const theirs = await groups(redis);
    expect(await groups(ringkv)).toEqual(theirs);
    expect(theirs).toEqual([2, '0-0', ['g1', 1, 1], ['g2', 0, 2]]);
  });

  it('survives random corrupt payloads and keeps serving', async () => {
    const rng = new Prng(2024);
    // A stream with a deletion, a group, pending entries and consumers: every part of its form.
    for (let i = 1; i <= 150; i++) await redis.xadd('fuzzstream', `${i}-1`, ...(i % 3 === 0 ? ['other', String(i)] : ['a', String(i), 'b', 'x']));
    await redis.xdel('fuzzstream', '2-1');
    await redis.xgroup('CREATE', 'fuzzstream', 'g', '0');
    await redis.xreadgroup('GROUP', 'g', 'alice', 'COUNT', '3', 'STREAMS', 'fuzzstream', '>');
    await redis.xgroup('CREATECONSUMER', 'fuzzstream', 'g', 'bob');
    const sources = await Promise.all(['list', 'biglist', 'intset', 'zset', 'hash', 'long', 'bighash', 'fuzzstream', 'fuzzstream'].map(async (k) => (await redis.dumpBuffer(k))!));
    const answers = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const p = Buffer.from(rng.pick(sources));
      for (let n = rng.int(1, 3); n > 0; n--) p[rng.int(0, p.length - 11)] = rng.int(0, 255);
      const r = await reply(ringkv, ['RESTORE', `fuzz${i}`, '0', withValidCrc(p), 'REPLACE']);
      answers.set(r, (answers.get(r) ?? 0) + 1);
      expect(['OK', 'error: ERR Bad data format']).toContain(r);
    }
    expect(answers.get('error: ERR Bad data format')).toBeGreaterThan(0);
    expect(await ringkv.ping()).toBe('PONG');
  });
});
