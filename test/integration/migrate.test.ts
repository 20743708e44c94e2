/**
 * Goal: MIGRATE moves keys between ringkv and redis-server 7.0 in both directions as Redis does:
 * every type (streams with their consumer groups too) arrives with its contents and TTL, the source key is gone (kept with
 * COPY), KEYS moves several at once, REPLACE overwrites, AUTH/AUTH2 reach a password-protected
 * target; its replies and error texts (NOKEY, BUSYKEY passed through, IOERR for a target that is
 * down, wrong password, argument errors) are the ones redis-server gives for the same MIGRATE. In
 * a cluster the keys must share a slot, and the source key is deleted for every node.
 * Method: real processes; each case runs once with ringkv as the source and once with
 * redis-server as the source, and the replies are compared with each other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { haveRedisServer, startRedisServer, type RedisReference } from '../helpers/redis-reference.js';
import { freePort, startNode, type NodeProcess } from '../helpers/server.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { keySlot } from '../../src/cluster/slot.js';

/** One key of each type ringkv can DUMP, the same commands on either side. */
const BUILD: Array<[key: string, commands: string[][]]> = [
  ['str', [['SET', 'str', 'hello']]],
  ['hash', [['HSET', 'hash', 'a', '1', 'b', 'two']]],
  ['list', [['RPUSH', 'list', 'x', 'y', 'z', '42']]],
  ['set', [['SADD', 'set', 'p', 'q', '7']]],
  ['zset', [['ZADD', 'zset', '1.5', 'one', '-2', 'two', 'inf', 'top']]],
  // Entries with the master's fields and others, a deletion, a group with pending entries and an idle consumer.
  ['stream', [
    ['XADD', 'stream', '1-1', 'a', '1', 'b', '2'], ['XADD', 'stream', '2-1', 'a', '3', 'b', '4'], ['XADD', 'stream', '3-1', 'c', '5'],
    ['XADD', 'stream', '4-1', 'a', '6', 'b', '7'], ['XDEL', 'stream', '2-1'], ['XGROUP', 'CREATE', 'stream', 'g', '0'],
    ['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '2', 'STREAMS', 'stream', '>'], ['XGROUP', 'CREATECONSUMER', 'stream', 'g', 'bob'],
  ]],
];

/** A key's type and contents, in a form both servers report the same. */
async function contents(r: Redis, key: string): Promise<unknown> {
  const type = await r.type(key);
  switch (type) {
    case 'string': return [type, await r.get(key)];
    case 'hash': return [type, await r.hgetall(key)];
    case 'list': return [type, await r.lrange(key, 0, -1)];
    case 'set': return [type, (await r.smembers(key)).sort()];
    case 'zset': return [type, await r.zrange(key, 0, -1, 'WITHSCORES')];
    // Groups, pending entries (with delivery times and counts), consumers and counters, all of it.
    case 'stream': return [type, await r.call('XINFO', 'STREAM', key, 'FULL')];
    default: return [type];
  }
}

const reply = (p: Promise<unknown>): Promise<string> => p.then((v) => `ok:${String(v)}`, (e: Error) => `err:${e.message}`);

describe.skipIf(!haveRedisServer)('MIGRATE between ringkv and redis-server', () => {
  let ref: RedisReference;
  let node: NodeProcess;
  let locked: NodeProcess;
  let kv: Redis;
  let rs: Redis;
  let kvLocked: Redis;
  beforeAll(async () => {
    ref = await startRedisServer();
    node = await startNode();
    locked = await startNode({ args: ['--requirepass', 'sesame'] });
    kv = new Redis({ port: node.port });
    rs = new Redis({ port: ref.ports[0]! });
    kvLocked = new Redis({ port: locked.port, password: 'sesame' });
  }, 60000);
  afterAll(async () => {
    kv?.disconnect();
    rs?.disconnect();
    kvLocked?.disconnect();
    await Promise.allSettled([node?.stop(), locked?.stop(), ref?.stop()]);
  });

  /** The two directions: [name, source, target port, target client]. */
  const directions = (): Array<[string, Redis, number, Redis]> => [
    ['ringkv→redis', kv, ref.ports[0]!, rs],
    ['redis→ringkv', rs, node.port, kv],
  ];

  it('moves every type with its TTL, in both directions, and deletes the source key', async () => {
    for (const [name, src, port, dst] of directions()) {
      await src.flushall();
      await dst.flushall();
      for (const [key, commands] of BUILD) {
        for (const argv of commands) await src.call(argv[0]!, ...argv.slice(1));
        await src.pexpire(key, 100_000);
        const before = await contents(src, key);
        expect(await src.call('MIGRATE', '127.0.0.1', String(port), key, '0', '5000'), `${name} ${key}`).toBe('OK');
        expect(await src.exists(key), `${name} ${key} left at the source`).toBe(0);
        expect(await contents(dst, key), `${name} ${key}`).toEqual(before);
        const ttl = await dst.pttl(key);
        expect(ttl, `${name} ${key} ttl`).toBeGreaterThan(50_000);
        expect(ttl).toBeLessThanOrEqual(100_000);
      }
      // Without an expiry the key arrives without one.
      await src.set('plain', 'v');
      await src.call('MIGRATE', '127.0.0.1', String(port), 'plain', '0', '5000');
      expect(await dst.pttl('plain')).toBe(-1);
    }
  });

  it('KEYS moves several keys, COPY keeps them, REPLACE overwrites, a busy key stays and is reported as Redis reports it', async () => {
    const seen: Record<string, string[]> = {};
    for (const [name, src, port, dst] of directions()) {
      const out: string[] = (seen[name] = []);
      await src.flushall();
      await dst.flushall();
      await src.mset('a', '1', 'b', '2', 'c', '3');
      out.push(await reply(src.call('MIGRATE', '127.0.0.1', String(port), '', '0', '5000', 'COPY', 'KEYS', 'a', 'b', 'missing')));
      expect(await src.exists('a', 'b'), name).toBe(2);
      expect(await dst.mget('a', 'b', 'missing'), name).toEqual(['1', '2', null]);
      // Already there: BUSYKEY, passed through; the key the target took is gone, the busy one stays.
      await src.set('a', 'new');
      out.push(await reply(src.call('MIGRATE', '127.0.0.1', String(port), '', '0', '5000', 'KEYS', 'c', 'a')));
      expect(await src.mget('a', 'c'), name).toEqual(['new', null]);
      expect(await dst.mget('a', 'c'), name).toEqual(['1', '3']);
      out.push(await reply(src.call('MIGRATE', '127.0.0.1', String(port), 'a', '0', '5000', 'REPLACE')));
      expect(await dst.get('a'), name).toBe('new');
      expect(await src.exists('a'), name).toBe(0);
      out.push(await reply(src.call('MIGRATE', '127.0.0.1', String(port), 'nothing', '0', '5000')));
      out.push(await reply(src.call('MIGRATE', '127.0.0.1', String(port), '', '0', '5000', 'KEYS', 'x', 'y')));
    }
    expect(seen['ringkv→redis']).toEqual(seen['redis→ringkv']);
    expect(seen['ringkv→redis']![1]).toMatch(/^err:ERR Target instance replied with error: BUSYKEY/);
    expect(seen['ringkv→redis']![3]).toBe('ok:NOKEY');
  });

  it('answers argument errors, a target that is down, and AUTH results as redis-server does', async () => {
    const downPort = String(await freePort());
    const cases = (target: string): string[][] => [
      ['MIGRATE', '127.0.0.1', downPort, 'k', '0', '1000'],
      ['MIGRATE', '127.0.0.1', target, 'k', '0', '1000', 'KEYS', 'k'],
      ['MIGRATE', '127.0.0.1', target, 'k', 'zero', '1000'],
      ['MIGRATE', '127.0.0.1', target, 'k', '0', 'soon'],
      ['MIGRATE', '127.0.0.1', target, 'k', '0', '1000', 'AUTH'],
      ['MIGRATE', '127.0.0.1', target, 'k', '0', '1000', 'AUTH2', 'default'],
      ['MIGRATE', '127.0.0.1', target, 'k', '0', '1000', 'BOGUS'],
      ['MIGRATE', '127.0.0.1', target, 'k', '0', '1000', 'AUTH', 'wrong'],
      ['MIGRATE', '127.0.0.1', target, 'k', '0', '1000', 'AUTH2', 'default', 'wrong'],
      ['MIGRATE', '127.0.0.1', target, 'k', '0', '1000'],
      ['MIGRATE', '127.0.0.1', target, 'k', '0', '1000', 'AUTH', 'sesame', 'REPLACE'],
      ['MIGRATE', '127.0.0.1', target, 'k', '0', '1000', 'AUTH2', 'default', 'sesame', 'REPLACE'],
      ['MIGRATE', '127.0.0.1'],
    ];
    const answers: string[][] = [];
    // Both sources migrate to the same password-protected ringkv node.
    for (const src of [kv, rs]) {
      const out: string[] = [];
      await kvLocked.flushall();
      for (const argv of cases(String(locked.port))) {
        await src.set('k', 'v');
        out.push(await reply(src.call(argv[0]!, ...argv.slice(1))));
      }
      answers.push(out);
      expect(await kvLocked.get('k')).toBe('v');
    }
    expect(answers[0]).toEqual(answers[1]);
    // Redis's connect succeeds on a refused port; its first write is what fails.
    expect(answers[0]![0]).toBe('err:IOERR error or timeout writing to target instance');
    expect(answers[0]![7]).toMatch(/^err:ERR Target instance replied with error: WRONGPASS/);
    expect(answers[0]![9]).toMatch(/^err:ERR Target instance replied with error: NOAUTH/);
    expect(answers[0]![10]).toBe('ok:OK');
  });
});

describe.skipIf(!haveRedisServer)('MIGRATE from a ringkv cluster', () => {
  let cluster: TestCluster;
  let ref: RedisReference;
  beforeAll(async () => {
    [cluster, ref] = await Promise.all([startCluster(3), startRedisServer()]);
  }, 90000);
  afterAll(async () => {
    await Promise.allSettled([cluster?.stop(), ref?.stop()]);
  });

  it('refuses keys of different slots and deletes the migrated keys for every node', async () => {
    const c = new Redis.Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }]);
    const target = new Redis({ port: ref.ports[0]! });
    try {
      await c.mset('{t}a', '1', '{t}b', '2');
      await c.hset('{t}h', 'f', 'v');
      const direct = new Redis({ port: cluster.ports[0]! });
      await expect(direct.call('MIGRATE', '127.0.0.1', String(ref.ports[0]!), '', '0', '5000', 'KEYS', 'a', 'b'))
        .rejects.toThrow("CROSSSLOT Keys in request don't hash to the same slot");
      direct.disconnect();
      // Sent where the slot is served, as a cluster client sends any keyed command.
      const primary = c.nodes('master').find((n) => c.slots[keySlot(Buffer.from('t'))]?.includes(`${n.options.host}:${n.options.port}`));
      expect(primary).toBeDefined();
      expect(await primary!.call('MIGRATE', '127.0.0.1', String(ref.ports[0]!), '', '0', '5000', 'KEYS', '{t}a', '{t}b', '{t}h')).toBe('OK');
      expect(await target.mget('{t}a', '{t}b')).toEqual(['1', '2']);
      expect(await target.hgetall('{t}h')).toEqual({ f: 'v' });
      // Read through the quorum path from every node's point of view.
      expect(await c.exists('{t}a', '{t}b', '{t}h')).toBe(0);
      for (const port of cluster.ports) {
        const r = new Redis({ port });
        const moved = await r.exists('{t}a', '{t}b', '{t}h').then((n) => String(n), (e: Error) => e.message);
        expect(moved === '0' || moved.startsWith('MOVED'), `node ${port}: ${moved}`).toBe(true);
        r.disconnect();
      }
    } finally {
      c.disconnect();
      target.disconnect();
    }
  });
});
