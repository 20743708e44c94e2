/**
 * Goal: sets work through unmodified clients the way applications use them, including what the
 * differential suite cannot reach: sets past set-max-intset-entries and past the exact-sampling
 * size of random picks, SSCAN over many pages while the set changes, intset members in numeric
 * order, and SPOP handing each member to exactly one of many concurrent clients, on one node and
 * on a 3-node cluster (ioredis Cluster with hash tags, node-redis, redis-py).
 * Method: real ringkv processes; ioredis (RESP2 and RESP3), node-redis (RESP2, RESP3 with its set
 * type mapping) and redis-py (/usr/bin/python3, test/py/spop_race.py) drive them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import { createClient, RESP_TYPES } from 'redis';
import path from 'node:path';
import { startNode, ROOT, run, type NodeProcess } from '../helpers/server.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { PYTHON, redisPyMissing } from '../helpers/redis-py.js';

const range = (from: number, n: number): string[] => Array.from({ length: n }, (_, i) => String(from + i));
const sorted = (xs: readonly string[]): string[] => [...xs].sort();

/** SADD in chunks (one pipeline), so a big set does not need one huge command. */
async function fill(r: Redis | Cluster, key: string, members: readonly string[]): Promise<void> {
  const p = r.pipeline();
  for (let i = 0; i < members.length; i += 500) p.sadd(key, ...members.slice(i, i + 500));
  const replies = (await p.exec()) ?? [];
  for (const [err] of replies) if (err) throw err;
}

interface SpopRace {
  smembers: string[];
  popped: string[][];
  errors: string[];
}

async function spopRace(spec: { port: number; mode: 'cluster' | 'plain'; key: string; clients: number; count: number }): Promise<SpopRace> {
  const r = await run(PYTHON, [path.join(ROOT, 'test/py/spop_race.py')], JSON.stringify(spec), 60000);
  if (r.code !== 0) throw new Error(`redis-py script failed (${r.code}): ${r.stderr.slice(-3000)}`);
  return JSON.parse(r.stdout) as SpopRace;
}

/** Every member popped exactly once: nothing lost, nothing twice. */
function expectEachOnce(popped: readonly string[][], members: readonly string[]): void {
  const all = popped.flat();
  expect(new Set(all).size, 'a member was popped twice').toBe(all.length);
  expect(sorted(all)).toEqual(sorted(members));
}

describe('sets on one node', () => {
  let node: NodeProcess;
  beforeAll(async () => {
    node = await startNode({ args: ['--appendfsync', 'no'] });
  });
  afterAll(async () => {
    await node?.stop();
  });

  describe.each([2, 3] as const)('ioredis over RESP%i', (protocol) => {
    let r: Redis;
    const k = (name: string): string => `p${protocol}:${name}`;
    beforeAll(() => {
      r = new Redis({ port: node.port, protocol });
    });
    afterAll(() => r.disconnect());

    it('an intset replies in numeric order and turns hashtable past set-max-intset-entries or on a non-integer', async () => {
      await r.sadd(k('ints'), '10', '9', '-5', '100', '0', '-9223372036854775808', '9223372036854775807');
      expect(await r.smembers(k('ints'))).toEqual(['-9223372036854775808', '-5', '0', '9', '10', '100', '9223372036854775807']);
      expect(await r.sinter(k('ints'), k('ints'))).toEqual(['-9223372036854775808', '-5', '0', '9', '10', '100', '9223372036854775807']);
      expect(await r.object('ENCODING', k('ints'))).toBe('intset');
      // Not canonical int64 text: "01", "-0", "+1" and one past int64 leave the intset.
      for (const odd of ['01', '-0', '+1', '9223372036854775808']) {
        await r.del(k('odd'));
        await r.sadd(k('odd'), '1', odd);
        expect(await r.object('ENCODING', k('odd')), odd).toBe('hashtable');
      }
      await r.del(k('limit'));
      await fill(r, k('limit'), range(0, 512));
      expect(await r.object('ENCODING', k('limit'))).toBe('intset');
      await r.sadd(k('limit'), '511');
      expect(await r.object('ENCODING', k('limit'))).toBe('intset');
      await r.sadd(k('limit'), '512');
      expect(await r.object('ENCODING', k('limit'))).toBe('hashtable');
      // Never back, as Redis.
      await r.srem(k('limit'), '512', '511');
      expect(await r.object('ENCODING', k('limit'))).toBe('hashtable');
      // The setting is read at each add.
      await r.config('SET', 'set-max-intset-entries', '3');
      try {
        await r.del(k('small'));
        await r.sadd(k('small'), '1', '2', '3');
        expect(await r.object('ENCODING', k('small'))).toBe('intset');
        await r.sadd(k('small'), '4');
        expect(await r.object('ENCODING', k('small'))).toBe('hashtable');
      } finally {
        await r.config('SET', 'set-max-intset-entries', '512');
      }
    });

    it('SSCAN pages a big set: every member present throughout comes back, none twice', async () => {
      const key = k('scan');
      const members = range(0, 3000).map((n) => `m${n}`);
      await r.del(key);
      await fill(r, key, members);
      const seen: string[] = [];
      let cursor = '0';
      let pages = 0;
      const removed = new Set<string>();
      do {
        const [next, page] = await r.sscan(key, cursor, 'COUNT', 100);
        seen.push(...page);
        cursor = next;
        pages++;
        // Change the set between pages: members removed or added meanwhile may or may not appear.
        if (pages === 5) {
          for (let i = 2900; i < 3000; i++) removed.add(`m${i}`);
          await r.srem(key, ...removed);
          await r.sadd(key, ...range(0, 50).map((n) => `new${n}`));
        }
      } while (cursor !== '0' && pages < 1000);
      expect(pages).toBeGreaterThan(20);
      expect(new Set(seen).size, 'a member came back twice').toBe(seen.length);
      const stayed = members.filter((m) => !removed.has(m));
      const got = new Set(seen);
      expect(stayed.filter((m) => !got.has(m))).toEqual([]);
      const matched = await r.sscan(key, '0', 'MATCH', 'm1?', 'COUNT', 100000);
      expect(matched[0]).toBe('0');
      expect(sorted(matched[1])).toEqual(sorted(range(10, 10).map((n) => `m${n}`)));
    });

    it('SPOP and SRANDMEMBER on a set past exact sampling give exactly the count asked, distinct', async () => {
      const key = k('big');
      const members = range(0, 5000).map((n) => `e${n}`);
      await r.del(key);
      await fill(r, key, members);
      const picks = await r.srandmember(key, 800);
      expect(picks).toHaveLength(800);
      expect(new Set(picks).size).toBe(800);
      const repeats = await r.srandmember(key, -3000);
      expect(repeats).toHaveLength(3000);
      const popped: string[] = [];
      for (const count of [1000, 1000, 700]) {
        const got = await r.spop(key, count);
        expect(got).toHaveLength(count);
        popped.push(...got);
      }
      popped.push((await r.spop(key))!);
      expect(new Set(popped).size).toBe(popped.length);
      expect(await r.scard(key)).toBe(5000 - popped.length);
      const rest = await r.smembers(key);
      expect(sorted([...rest, ...popped])).toEqual(sorted(members));
      expect(sorted(await r.spop(key, 100000))).toEqual(sorted(rest));
      expect(await r.exists(key)).toBe(0);
    });

    it('random picks from small sets, hashes and sorted sets are uniform, distinct where asked, and SPOP empties', async () => {
      // 40 members, 8,000 single picks each: every member expected 200 times. A bound of 120–280
      // is over five standard deviations out, and a walk that favours either end fails it.
      const n = 40;
      const draws = 8000;
      const names = range(0, n).map((i) => `u${i}`);
      const set = k('{u}set');
      const hash = k('{u}hash');
      const zset = k('{u}zset');
      await r.del(set, hash, zset);
      await r.sadd(set, ...names);
      await r.hset(hash, ...names.flatMap((m) => [m, `v-${m}`]));
      await r.zadd(zset, ...names.flatMap((m, i) => [i, m]));
      for (const [what, pick] of [
        ['SRANDMEMBER', (p: ReturnType<typeof r.pipeline>) => p.srandmember(set)],
        ['HRANDFIELD', (p: ReturnType<typeof r.pipeline>) => p.hrandfield(hash)],
        ['ZRANDMEMBER', (p: ReturnType<typeof r.pipeline>) => p.zrandmember(zset)],
      ] as const) {
        const p = r.pipeline();
        for (let i = 0; i < draws; i++) pick(p);
        const counts = new Map<string, number>();
        for (const [err, got] of (await p.exec())!) {
          expect(err).toBeNull();
          counts.set(got as string, (counts.get(got as string) ?? 0) + 1);
        }
        expect(sorted([...counts.keys()]), what).toEqual(sorted(names));
        for (const [m, c] of counts) expect([what, m, c > 120 && c < 280]).toEqual([what, m, true]);
      }
      const three = await r.srandmember(set, 3);
      expect(new Set(three).size).toBe(3);
      expect(three.every((m) => names.includes(m))).toBe(true);
      const withRepeats = await r.srandmember(set, -15);
      expect(withRepeats).toHaveLength(15);
      expect(withRepeats.every((m) => names.includes(m))).toBe(true);
      // RESP3 nests the pairs.
      const fields = ((await r.call('HRANDFIELD', hash, '5', 'WITHVALUES')) as (string | string[])[]).flat();
      expect(fields).toHaveLength(10);
      for (let i = 0; i < fields.length; i += 2) expect(fields[i + 1]).toBe(`v-${fields[i]}`);
      const p = r.pipeline();
      for (let i = 0; i < n + 5; i++) p.spop(set);
      const popped = (await p.exec())!.map(([, v]) => v as string | null);
      expect(sorted(popped.slice(0, n) as string[])).toEqual(sorted(names));
      expect(popped.slice(n)).toEqual([null, null, null, null, null]);
    });

    it('SINTER / SINTERCARD / SINTERSTORE / SUNIONSTORE / SDIFFSTORE over a big and a small set', async () => {
      const big = k('{alg}big');
      const small = k('{alg}small');
      await r.del(big, small);
      await fill(r, big, range(0, 2000));
      await r.sadd(small, '5', '1999', '2000', 'x');
      expect(sorted(await r.sinter(big, small))).toEqual(['1999', '5']);
      expect(await r.call('SINTERCARD', '2', big, small)).toBe(2);
      expect(await r.call('SINTERCARD', '2', big, small, 'LIMIT', '1')).toBe(1);
      expect(await r.call('SINTERCARD', '1', big, 'LIMIT', '1500')).toBe(1500);
      await r.set(k('{alg}dst'), 'a string', 'EX', 100);
      expect(await r.sinterstore(k('{alg}dst'), big, small)).toBe(2);
      expect(await r.smembers(k('{alg}dst'))).toEqual(['5', '1999']);
      expect(await r.object('ENCODING', k('{alg}dst'))).toBe('intset');
      expect(await r.ttl(k('{alg}dst'))).toBe(-1);
      expect(await r.sunionstore(k('{alg}dst'), big, small)).toBe(2002);
      expect(await r.object('ENCODING', k('{alg}dst'))).toBe('hashtable');
      expect(await r.sdiffstore(k('{alg}dst'), small, big)).toBe(2);
      expect(sorted(await r.smembers(k('{alg}dst')))).toEqual(['2000', 'x']);
      expect(await r.sdiffstore(k('{alg}dst'), small, small)).toBe(0);
      expect(await r.exists(k('{alg}dst'))).toBe(0);
      // The destination may be a source.
      expect(await r.sinterstore(small, small, big)).toBe(2);
      expect(await r.smembers(small)).toEqual(['5', '1999']);
    });

    it('sets under TYPE, SCAN TYPE, RENAME, COPY, EXPIRE and WRONGTYPE', async () => {
      const key = k('{gen}s');
      await r.del(key, k('{gen}copy'), k('{gen}moved'));
      await r.sadd(key, 'a', 'b', '1');
      expect(await r.type(key)).toBe('set');
      const [, found] = await r.scan('0', 'MATCH', k('{gen}*'), 'COUNT', 100000, 'TYPE', 'set');
      expect(found).toContain(key);
      expect(await r.copy(key, k('{gen}copy'))).toBe(1);
      expect(await r.rename(key, k('{gen}moved'))).toBe('OK');
      expect(sorted(await r.smembers(k('{gen}moved')))).toEqual(['1', 'a', 'b']);
      expect(sorted(await r.smembers(k('{gen}copy')))).toEqual(['1', 'a', 'b']);
      expect(await r.object('ENCODING', k('{gen}copy'))).toBe('hashtable');
      await expect(r.get(k('{gen}copy'))).rejects.toThrow('WRONGTYPE');
      await expect(r.hset(k('{gen}copy'), 'f', 'v')).rejects.toThrow('WRONGTYPE');
      await r.set(k('{gen}str'), 'v');
      await expect(r.sadd(k('{gen}str'), 'm')).rejects.toThrow('WRONGTYPE');
      expect(await r.pexpire(k('{gen}copy'), 50)).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 120));
      expect(await r.exists(k('{gen}copy'))).toBe(0);
      expect(await r.scard(k('{gen}copy'))).toBe(0);
      // A new life of the key starts empty.
      await r.sadd(k('{gen}copy'), 'fresh');
      expect(await r.smembers(k('{gen}copy'))).toEqual(['fresh']);
    });
  });

  it.each([2, 3] as const)('node-redis sMembers / sPop / sIsMember over RESP%i', async (protocol) => {
    const c = createClient({ socket: { port: node.port }, RESP: protocol });
    await c.connect();
    try {
      const key = `nr${protocol}`;
      await c.del(key);
      expect(await c.sAdd(key, ['3', '1', '2', 'x'])).toBe(4);
      expect(sorted(await c.sMembers(key))).toEqual(['1', '2', '3', 'x']);
      expect(await c.sIsMember(key, 'x')).toBe(1);
      if (protocol === 3) {
        // A RESP3 set reply (`~`), which node-redis can map to a JS Set.
        const asSet = await c.withTypeMapping({ [RESP_TYPES.SET]: Set }).sMembers(key);
        expect(asSet).toBeInstanceOf(Set);
        expect(sorted([...(asSet as unknown as Set<string>)])).toEqual(['1', '2', '3', 'x']);
      }
      const one = await c.sPop(key);
      expect(['1', '2', '3', 'x']).toContain(one);
      expect(await c.sCard(key)).toBe(3);
    } finally {
      await c.quit();
    }
  });

  it.skipIf(redisPyMissing !== undefined)('redis-py: smembers, then SPOP from 8 clients at once hands out each member exactly once', async () => {
    const r = new Redis({ port: node.port });
    const members = [...range(0, 300), ...range(0, 1200).map((n) => `py${n}`)];
    try {
      await fill(r, 'pyrace', members);
      const one = await spopRace({ port: node.port, mode: 'plain', key: 'pyrace', clients: 8, count: 0 });
      expect(one.errors).toEqual([]);
      expect(one.smembers).toEqual(sorted(members));
      expectEachOnce(one.popped, members);
      await fill(r, 'pyrace', members);
      const many = await spopRace({ port: node.port, mode: 'plain', key: 'pyrace', clients: 8, count: 7 });
      expect(many.errors).toEqual([]);
      expectEachOnce(many.popped, members);
      expect(await r.exists('pyrace')).toBe(0);
    } finally {
      r.disconnect();
    }
  });
});

/**
 * Waits until writes to slots of every node are acknowledged: right after cluster_state:ok the
 * first writes have been seen to fail with NOREPLICAS while the bus links are still coming up.
 */
async function writesAccepted(port: number, timeoutMs = 20000): Promise<void> {
  const r = new Cluster([{ host: '127.0.0.1', port }], { slotsRefreshTimeout: 5000 });
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  try {
    while (Date.now() < deadline) {
      try {
        await Promise.all(range(0, 12).map((n) => r.sadd(`{warm${n}}s`, 'x')));
        return;
      } catch (err) {
        last = err;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
    throw new Error(`writes still fail ${timeoutMs} ms after the cluster formed: ${String(last)}`);
  } finally {
    r.disconnect();
  }
}

describe('sets on a 3-node cluster', () => {
  let c: TestCluster;
  beforeAll(async () => {
    // The node timeout users run: on two busy cores the test default (2 s) can flip primaries mid-test.
    c = await startCluster(3, ['--appendfsync', 'no', '--cluster-node-timeout', '15000']);
    await writesAccepted(c.ports[0]!);
  }, 60000);
  afterAll(async () => {
    await c?.stop();
  });

  const cluster = (): Cluster => new Cluster([{ host: '127.0.0.1', port: c.ports[0]! }], { slotsRefreshTimeout: 5000 });

  it('ioredis Cluster: SADD / SISMEMBER / SINTER / SMOVE / SINTERSTORE with hash tags; CROSSSLOT without', async () => {
    const r = cluster();
    try {
      // Tags spread over slots, so each node coordinates some of them.
      for (const tag of ['users', 'tags', 'jobs', 'a', 'b', 'c']) {
        const [x, y, d] = [`{${tag}}x`, `{${tag}}y`, `{${tag}}d`];
        await r.del(x, y, d);
        expect(await r.sadd(x, '1', '2', '3', 'red')).toBe(4);
        expect(await r.sadd(y, '3', 'red', 'blue')).toBe(3);
        expect(await r.sismember(x, 'red')).toBe(1);
        expect(await r.sismember(x, 'blue')).toBe(0);
        expect(await r.smismember(y, 'blue', 'nope')).toEqual([1, 0]);
        expect(sorted(await r.sinter(x, y))).toEqual(['3', 'red']);
        expect(sorted(await r.sunion(x, y))).toEqual(['1', '2', '3', 'blue', 'red']);
        expect(sorted(await r.sdiff(x, y))).toEqual(['1', '2']);
        expect(await r.smove(x, y, '1')).toBe(1);
        expect(await r.sinterstore(d, x, y)).toBe(2);
        expect(sorted(await r.smembers(d))).toEqual(['3', 'red']);
        expect(await r.scard(y)).toBe(4);
        expect(await r.call('SINTERCARD', '2', x, y, 'LIMIT', '1')).toBe(1);
      }
      await r.sadd('{n}ints', '10', '9', '-1');
      expect(await r.smembers('{n}ints')).toEqual(['-1', '9', '10']);
      await expect(r.sinter('untagged-1', 'untagged-2')).rejects.toThrow('CROSSSLOT');
    } finally {
      r.disconnect();
    }
  });

  it('SPOP from 6 ioredis Cluster clients at once hands out each member exactly once', async () => {
    const setup = cluster();
    const key = '{race}set';
    const members = [...range(0, 200), ...range(0, 600).map((n) => `m${n}`)];
    const clients = Array.from({ length: 6 }, cluster);
    try {
      await setup.del(key);
      await fill(setup, key, members);
      expect(await setup.scard(key)).toBe(members.length);
      const popped = await Promise.all(clients.map(async (cl, i) => {
        const mine: string[] = [];
        for (;;) {
          if (i % 2 === 0) {
            const m = await cl.spop(key);
            if (m === null) return mine;
            mine.push(m);
          } else {
            const ms = await cl.spop(key, 5);
            if (ms.length === 0) return mine;
            mine.push(...ms);
          }
        }
      }));
      expectEachOnce(popped, members);
      expect(await setup.exists(key)).toBe(0);
    } finally {
      setup.disconnect();
      for (const cl of clients) cl.disconnect();
    }
  });

  it('pipelined SRANDMEMBER through ioredis Cluster picks every member of a small set about equally often', async () => {
    // 40 members, 4,000 picks: 100 expected each; 50-150 is five standard deviations out.
    const r = cluster();
    const names = range(0, 40).map((n) => `u${n}`);
    try {
      await r.del('{uni}s');
      await r.sadd('{uni}s', ...names);
      const p = r.pipeline();
      for (let i = 0; i < 4000; i++) p.srandmember('{uni}s');
      const counts = new Map<string, number>();
      for (const [err, got] of (await p.exec())!) {
        expect(err).toBeNull();
        counts.set(got as string, (counts.get(got as string) ?? 0) + 1);
      }
      expect(sorted([...counts.keys()])).toEqual(sorted(names));
      for (const [m, n] of counts) expect([m, n > 50 && n < 150]).toEqual([m, true]);
    } finally {
      r.disconnect();
    }
  });

  it.skipIf(redisPyMissing !== undefined)('redis-py RedisCluster: smembers, then SPOP from 6 clients at once hands out each member exactly once', async () => {
    const r = cluster();
    const members = range(0, 400).map((n) => `py${n}`);
    try {
      await fill(r, '{pyrace}s', members);
      const res = await spopRace({ port: c.ports[1]!, mode: 'cluster', key: '{pyrace}s', clients: 6, count: 3 });
      expect(res.errors).toEqual([]);
      expect(res.smembers).toEqual(sorted(members));
      expectEachOnce(res.popped, members);
    } finally {
      r.disconnect();
    }
  });
});
