/**
 * Goal: what the differential suites cannot show. HyperLogLog values move between redis-server and
 * ringkv as plain strings (GET on one, SET on the other) and count the same, sparse and dense,
 * both ways; a bitmap of 512 MB logical length (SETBIT at 2^32-1) costs a constant number of log
 * bytes per SETBIT whatever its length, and SETBIT, GETBIT, BITCOUNT and BITPOS on it never make
 * the node allocate the string; clients (ioredis pipelines on one node and on a cluster, redis-py)
 * use bitmaps and HyperLogLogs unchanged; a fragmented bitmap in a 3-node cluster reads whole and
 * keeps taking writes after its slot primary is killed.
 * Method: real ringkv processes and a real redis-server; log bytes read from INFO
 * (store_log_bytes_written), memory from /proc/<pid>/status (VmRSS).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, Redis } from 'ioredis';
import { startNode, run, type NodeProcess } from '../helpers/server.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { haveRedisServer } from '../helpers/redis-reference.js';
import { nodeBesideRedis } from '../helpers/beside-redis.js';
import { PYTHON } from '../helpers/redis-py.js';

async function logBytes(r: Redis): Promise<number> {
  const info = await r.info('stats');
  const m = /store_log_bytes_written:(\d+)/.exec(info) ?? /store_log_bytes_written:(\d+)/.exec(await r.info());
  if (!m) throw new Error('INFO has no store_log_bytes_written');
  return Number(m[1]);
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

describe('bitmaps and HyperLogLog on one node', () => {
  let node: NodeProcess;
  let r: Redis;
  beforeAll(async () => {
    node = await startNode({ args: ['--appendfsync', 'no'] });
    r = new Redis({ port: node.port, lazyConnect: true });
    await r.connect();
  });
  afterAll(async () => {
    r?.disconnect();
    await node?.stop();
  });

  it('SETBIT of a bit that already has the value changes nothing: a WATCH on the key still holds', async () => {
    // As redis-server 7.0: only a SETBIT that flips a bit, grows the string or creates the key touches it.
    const tx = async (setbit: [number, number]): Promise<unknown> => {
      const w = r.duplicate();
      try {
        await w.watch('sb');
        await w.setbit('sb', ...setbit);
        return await w.multi().set('sb:done', '1').exec();
      } finally {
        w.disconnect();
      }
    };
    await r.del('sb');
    expect(await r.setbit('sb', 100, 1)).toBe(0);
    expect(await tx([41, 0])).toEqual([[null, 'OK']]);
    expect(await tx([100, 1])).toEqual([[null, 'OK']]);
    expect(await tx([41, 1])).toBeNull();
    expect(await tx([5000, 0])).toBeNull();
    await r.del('sb');
    expect(await tx([3, 0])).toBeNull();
    expect(await r.strlen('sb')).toBe(1);
  });

  it('a 512 MB bitmap: constant log bytes per SETBIT, no allocation of the string', async () => {
    expect(await r.setbit('big', 2 ** 32 - 1, 1)).toBe(0);
    expect(await r.strlen('big')).toBe(2 ** 29);
    expect(await r.type('big')).toBe('string');
    const perWrite: number[] = [];
    // Offsets spread over the whole length, each in a fragment not written before.
    for (const offset of [8, 1_000_000, 80_000_000, 1_500_000_000, 3_000_000_000, 4_294_000_000]) {
      const before = await logBytes(r);
      expect(await r.setbit('big', offset, 1)).toBe(0);
      perWrite.push((await logBytes(r)) - before);
    }
    // One 1 KiB fragment and the metadata record (with framing), whatever the offset.
    for (const bytes of perWrite) expect(bytes).toBeLessThan(1600);
    expect(Math.max(...perWrite) - Math.min(...perWrite)).toBeLessThan(64);
    expect(await r.getbit('big', 2 ** 32 - 1)).toBe(1);
    expect(await r.getbit('big', 2 ** 32 - 2)).toBe(0);
    expect(await r.getbit('big', 3_000_000_000)).toBe(1);
    expect(await r.bitcount('big')).toBe(7);
    expect(await r.call('bitcount', 'big', '1000000', '3000000000', 'BIT')).toBe(4);
    expect(await r.bitcount('big', 1_000_000, 200_000_000)).toBe(2);
    expect(await r.bitpos('big', 1, 10)).toBe(1_000_000);
    expect(await r.bitpos('big', 0)).toBe(0);
    expect(await r.call('bitfield', 'big', 'GET', 'u8', '4294967288')).toEqual([1]);
    // A node that had built the string would hold at least its 512 MB.
    expect(rssBytes(node.proc.pid!)).toBeLessThan(300 * 1024 * 1024);
    // The limit: 2^32 is past proto-max-bulk-len's 512 MB.
    await expect(r.setbit('big', 2 ** 32, 1)).rejects.toThrow('ERR bit offset is not an integer or out of range');
    await expect(r.setrange('big', 2 ** 29, 'x')).rejects.toThrow('ERR string exceeds maximum allowed size (proto-max-bulk-len)');
    // Overwritten by SET it is a plain string again, and the fragments go with the old life.
    expect(await r.set('big', 'small')).toBe('OK');
    expect(await r.bitcount('big')).toBe(21);
  });

  it('string commands work on a fragmented value and keep its expiry', async () => {
    await r.setrange('frag', 10_000, 'tail');
    await r.pexpire('frag', 100_000);
    await r.setbit('frag', 7, 1);
    expect(await r.strlen('frag')).toBe(10_004);
    expect(await r.getrange('frag', -4, -1)).toBe('tail');
    expect(await r.append('frag', '!')).toBe(10_005);
    expect((await r.getBuffer('frag'))!.subarray(0, 1)).toEqual(Buffer.from([1]));
    expect(await r.pttl('frag')).toBeGreaterThan(90_000);
    await expect(r.incr('frag')).rejects.toThrow('ERR value is not an integer or out of range');
    expect(await r.copy('frag', 'frag2')).toBe(1);
    expect(await r.rename('frag2', 'frag3')).toBe('OK');
    expect(await r.get('frag3')).toBe(await r.get('frag'));
    await r.set('short', 'xtail!');
    expect(await r.call('lcs', 'frag3', 'short', 'LEN')).toBe(5);
    expect(await r.call('object', 'encoding', 'frag')).toBe('raw');
    expect(await r.getdel('frag3')).toHaveLength(10_005);
    expect(await r.exists('frag3')).toBe(0);
  });

  it('ioredis pipelines over RESP2 and RESP3', async () => {
    for (const protocol of [2, 3] as const) {
      const c = new Redis({ port: node.port, lazyConnect: true, ...(protocol === 3 ? { protocol: 3 } : {}) } as never);
      await c.connect();
      try {
        const k = `pipe${protocol}`;
        const replies = await c.pipeline()
          .setbit(`${k}:b`, 5, 1).setbit(`${k}:b`, 40_000, 1).bitcount(`${k}:b`).bitpos(`${k}:b`, 1)
          .call('bitfield', `${k}:b`, 'INCRBY', 'u8', '#1', '200', 'GET', 'u8', '#1')
          .pfadd(`${k}:h`, 'a', 'b', 'c').pfadd(`${k}:h`, 'a').pfcount(`${k}:h`)
          .pfadd(`${k}:h2`, 'c', 'd').pfcount(`${k}:h`, `${k}:h2`).pfmerge(`${k}:m`, `${k}:h`, `${k}:h2`).pfcount(`${k}:m`)
          .exec();
        expect(replies!.map(([err, v]) => err?.message ?? v)).toEqual([0, 0, 2, 5, [200, 200], 1, 0, 3, 1, 4, 'OK', 4]);
      } finally {
        c.disconnect();
      }
    }
  });

  it('redis-py', async () => {
    const script = `
import redis, json
r = redis.Redis(port=${node.port})
out = [r.setbit('py:b', 100, 1), r.getbit('py:b', 100), r.bitcount('py:b'), r.bitpos('py:b', 1),
       r.bitop('NOT', 'py:n', 'py:b'), r.bitcount('py:n'),
       r.bitfield('py:f').set('i8', 0, -5).incrby('i8', 0, 3).get('u4', 0).execute(),
       r.pfadd('py:h', *[str(i) for i in range(1000)]), r.pfcount('py:h'), r.lcs('py:b', 'py:n')]
print(json.dumps([o.decode('latin1') if isinstance(o, bytes) else o for o in out]))
`;
    const res = await run(PYTHON, ['-c', script], undefined, 30000);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual([0, 1, 1, 100, 13, 103, [0, -2, 15], 1, 1001, '']);
  });
});

describe.skipIf(!haveRedisServer)('HyperLogLog values between redis-server and ringkv', () => {
  const both = nodeBesideRedis();
  let a: Redis;
  let b: Redis;
  beforeAll(async () => {
    a = new Redis({ port: both.ref.ports[0]!, lazyConnect: true });
    b = new Redis({ port: both.node.port, lazyConnect: true });
    await Promise.all([a.connect(), b.connect()]);
  });
  afterAll(() => {
    a?.disconnect();
    b?.disconnect();
  });

  for (const n of [5, 300, 20_000]) {
    it(`${n} elements: made on one, SET on the other, counted and extended alike both ways`, async () => {
      const els = Array.from({ length: n }, (_, i) => `x${n}:${i}`);
      for (const [from, to, name] of [[a, b, 'r2k'], [b, a, 'k2r']] as const) {
        for (let i = 0; i < els.length; i += 5000) await from.pfadd(name, ...els.slice(i, i + 5000));
        const value = (await from.getBuffer(name))!;
        await to.set(name, value);
        expect(await to.pfcount(name)).toBe(await from.pfcount(name));
        expect(await to.call('pfdebug', 'encoding', name)).toBe(await from.call('pfdebug', 'encoding', name));
        await Promise.all([from.pfadd(name, 'one more', 'and another'), to.pfadd(name, 'one more', 'and another')]);
        expect((await to.getBuffer(name))!.equals((await from.getBuffer(name))!)).toBe(true);
      }
      expect(await b.pfcount('r2k')).toBe(await a.pfcount('r2k'));
    });
  }
});

describe('bitmaps and HyperLogLog on a 3-node cluster through ioredis Cluster', () => {
  let cluster: TestCluster;
  let c: Cluster;
  beforeAll(async () => {
    cluster = await startCluster(3, ['--cluster-node-timeout', '15000']);
    c = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }], { redisOptions: { maxRetriesPerRequest: 5 } });
  }, 90_000);
  afterAll(async () => {
    c?.disconnect();
    await cluster?.stop();
  });

  it('pipelines on one slot, multi-key PFCOUNT/PFMERGE/BITOP within a slot, CROSSSLOT across', async () => {
    const replies = await c.pipeline()
      .setbit('{u}bits', 1, 1).setbit('{u}bits', 100_000, 1).bitcount('{u}bits')
      .pfadd('{u}h1', 'a', 'b').pfadd('{u}h2', 'b', 'c').pfcount('{u}h1', '{u}h2').pfmerge('{u}m', '{u}h1', '{u}h2').pfcount('{u}m')
      .bitop('OR', '{u}or', '{u}bits', '{u}none').strlen('{u}or').getbit('{u}or', 100_000)
      .exec();
    expect(replies!.map(([err, v]) => err?.message ?? v)).toEqual([0, 0, 2, 1, 1, 3, 'OK', 3, 12_501, 12_501, 1]);
    await expect(c.pfcount('{u}h1', '{v}h2')).rejects.toThrow(/CROSSSLOT/);
  });
});

describe('a fragmented bitmap survives the loss of its slot primary', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster(3);
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('reads whole from the next primary (its fragments come from the surviving replicas) and keeps taking writes', async () => {
    const key = '{frag}bits';
    const offsets = [5, 100_000, 4_000_000, 2 ** 32 - 1];
    const c = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }], { redisOptions: { maxRetriesPerRequest: 5 } });
    c.on('error', () => undefined);
    try {
      for (const o of offsets) expect(await c.setbit(key, o, 1)).toBe(0);
      expect(await c.setrange(key, 1000, 'middle')).toBe(2 ** 29);
      const slot = (await c.call('cluster', 'keyslot', key)) as number;
      const slots = (await c.call('cluster', 'slots')) as Array<[number, number, [string, number]]>;
      const primaryPort = slots.find(([from, to]) => slot >= from && slot <= to)![2][1];
      await cluster.nodes.find((n) => n.port === primaryPort)!.kill9();
      c.disconnect();
      const survivor = cluster.ports.find((p) => p !== primaryPort)!;
      const d = new Cluster([{ host: '127.0.0.1', port: survivor }], { redisOptions: { maxRetriesPerRequest: 5 }, clusterRetryStrategy: () => 200 });
      d.on('error', () => undefined);
      try {
        const deadline = Date.now() + 30_000;
        let count: unknown;
        while (Date.now() < deadline) {
          count = await d.bitcount(key).catch((err: Error) => err.message);
          if (count === 4 + 23) break;
          await new Promise((r) => setTimeout(r, 300));
        }
        // The four bits and the popcount of "middle".
        expect(count).toBe(4 + 23);
        for (const o of offsets) expect(await d.getbit(key, o)).toBe(1);
        expect(await d.getrange(key, 1000, 1005)).toBe('middle');
        expect(await d.setbit(key, 2_000_000_000, 1)).toBe(0);
        expect(await d.bitcount(key)).toBe(28);
      } finally {
        d.disconnect();
      }
    } finally {
      c.disconnect();
    }
  }, 90_000);
});
