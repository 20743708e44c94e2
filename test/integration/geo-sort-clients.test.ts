/**
 * Goal: geo, SORT and DUMP/RESTORE work through unmodified clients as they do against redis-server
 * 7.0: ioredis pipelines of GEOADD and GEOSEARCH on one node with 20,000 points, the same through
 * an ioredis Cluster on 3 nodes, and redis-py's geo, sort and dump/restore helpers; and a geo
 * search costs what its area holds, not what the set holds.
 * Method: the same commands go to redis-server and to ringkv through the same client, the decoded
 * replies compared; timing of a small-radius search on a set of 200 and of 20,000 points.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Redis, { Cluster } from 'ioredis';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { run, startNode, type NodeProcess } from '../helpers/server.js';
import { haveRedisServer, startRedisServer, type RedisReference } from '../helpers/redis-reference.js';
import { PYTHON, redisPyMissing } from '../helpers/redis-py.js';
import { Prng } from '../sim/prng.js';

/** `n` points scattered around Sicily, reproducibly. */
function points(n: number, seed: number): Array<[number, number, string]> {
  const rng = new Prng(seed);
  return Array.from({ length: n }, (_, i) => [12 + rng.next() * 4, 36.5 + rng.next() * 2, `p${i}`]);
}

type Client = Redis | Cluster;

async function geoWorkload(c: Client, key: string, pts: Array<[number, number, string]>): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let i = 0; i < pts.length; i += 500) {
    const p = c.pipeline();
    for (const [lon, lat, m] of pts.slice(i, i + 500)) p.geoadd(key, lon, lat, m);
    out.push((await p.exec())!.map(([err, r]) => err?.message ?? r));
  }
  const q = c.pipeline();
  q.geosearch(key, 'FROMLONLAT', 13.361389, 38.115556, 'BYRADIUS', 5, 'km', 'ASC', 'WITHDIST', 'WITHCOORD', 'WITHHASH');
  q.geosearch(key, 'FROMMEMBER', 'p7', 'BYBOX', 20, 10, 'km', 'DESC', 'COUNT', 5, 'WITHDIST');
  q.geosearch(key, 'FROMLONLAT', 14, 37.5, 'BYRADIUS', 3, 'km', 'COUNT', 3, 'ANY');
  q.geodist(key, 'p1', 'p2', 'km');
  q.geopos(key, 'p3', 'nosuch');
  q.geohash(key, 'p4', 'p5');
  q.georadiusbymember(key, 'p9', 2000, 'm', 'WITHDIST', 'ASC');
  out.push((await q.exec())!.map(([err, r]) => err?.message ?? r));
  return out;
}

describe.skipIf(!haveRedisServer)('geo, SORT, DUMP/RESTORE through clients, against redis-server', () => {
  let ref: RedisReference | undefined;
  let node: NodeProcess | undefined;
  let cluster: TestCluster | undefined;
  beforeAll(async () => {
    const started = await Promise.allSettled([startRedisServer(), startNode({ args: ['--appendfsync', 'no'] }), startCluster(3)]);
    if (started[0].status === 'fulfilled') ref = started[0].value;
    if (started[1].status === 'fulfilled') node = started[1].value;
    if (started[2].status === 'fulfilled') cluster = started[2].value;
    for (const s of started) if (s.status === 'rejected') throw s.reason;
  }, 90000);
  afterAll(async () => {
    await Promise.all([ref?.stop(), node?.stop(), cluster?.stop()]);
  });

  it('ioredis pipelines of GEOADD / GEOSEARCH on one node answer as redis-server', async () => {
    const a = new Redis({ port: ref!.ports[0]! });
    const b = new Redis({ port: node!.port });
    try {
      const pts = points(20_000, 5);
      const [want, got] = await Promise.all([geoWorkload(a, 'geo:big', pts), geoWorkload(b, 'geo:big', pts)]);
      expect(got).toEqual(want);
      const last = want[want.length - 1] as unknown[];
      expect((last[0] as unknown[]).length).toBeGreaterThan(3);
    } finally {
      a.disconnect();
      b.disconnect();
    }
  }, 120000);

  it('a small-radius search costs what its area holds, not the size of the set', async () => {
    const r = new Redis({ port: node!.port });
    try {
      const small = points(200, 9).map(([lon, lat, m]) => [lon, lat, m] as const);
      await r.geoadd('geo:small', ...small.flat());
      // geo:big (20,000 points over the same area) exists from the previous test.
      const time = async (key: string): Promise<number> => {
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < 200; i++) await r.geosearch(key, 'FROMLONLAT', 13 + (i % 10) * 0.1, 37, 'BYRADIUS', 200, 'm');
        return Number(process.hrtime.bigint() - t0) / 1e6;
      };
      await time('geo:small');
      const smallMs = await time('geo:small');
      const bigMs = await time('geo:big');
      // 100 times the points, same area per search: far less than 100 times the time.
      expect(bigMs).toBeLessThan(smallMs * 10);
    } finally {
      r.disconnect();
    }
  }, 60000);

  it('an ioredis Cluster on 3 nodes answers as redis-server', async () => {
    const a = new Redis({ port: ref!.ports[0]! });
    const b = new Cluster(cluster!.ports.map((port) => ({ host: '127.0.0.1', port })));
    try {
      const pts = points(1500, 7);
      const [want, got] = await Promise.all([geoWorkload(a, '{g}pts', pts), geoWorkload(b, '{g}pts', pts)]);
      expect(got).toEqual(want);
      await Promise.all([a.rpush('{g}ids', '3', '1', '2'), b.rpush('{g}ids', '3', '1', '2')]);
      expect(await b.sort('{g}ids', 'DESC', 'STORE', '{g}sorted')).toBe(await a.sort('{g}ids', 'DESC', 'STORE', '{g}sorted'));
      expect(await b.lrange('{g}sorted', 0, -1)).toEqual(['3', '2', '1']);
      await expect(b.sort('{g}ids', 'BY', '{g}w_*')).rejects.toThrow('BY option of SORT denied in Cluster mode.');
      const payload = await a.dumpBuffer('{g}pts');
      expect(await b.restore('{g}copy', 0, payload!)).toBe('OK');
      expect(await b.geosearch('{g}copy', 'FROMMEMBER', 'p7', 'BYRADIUS', 10, 'km', 'ASC')).toEqual(await a.geosearch('{g}pts', 'FROMMEMBER', 'p7', 'BYRADIUS', 10, 'km', 'ASC'));
      // And back: the cluster's DUMP restores on redis-server to the same set.
      const back = await b.dumpBuffer('{g}pts');
      expect(await a.restore('{g}back', 0, back!)).toBe('OK');
      expect(await a.zrange('{g}back', 0, -1, 'WITHSCORES')).toEqual(await a.zrange('{g}pts', 0, -1, 'WITHSCORES'));
    } finally {
      a.disconnect();
      b.disconnect();
    }
  }, 120000);

  it.skipIf(redisPyMissing !== undefined)('redis-py geo, sort and dump/restore helpers', async () => {
    const script = `
import json, sys, redis
r = redis.Redis(port=int(sys.argv[1]))
r.delete('py:geo', 'py:l', 'py:w1', 'py:w2', 'py:w3', 'py:copy', 'py:dst')
out = []
out.append(r.geoadd('py:geo', [13.361389, 38.115556, 'Palermo', 15.087269, 37.502669, 'Catania', 12.496366, 41.902782, 'Rome']))
out.append(r.geodist('py:geo', 'Palermo', 'Catania', unit='km'))
out.append(r.geopos('py:geo', 'Palermo', 'nosuch'))
out.append([h for h in r.geohash('py:geo', 'Palermo', 'Rome')])
out.append(r.geosearch('py:geo', longitude=15, latitude=37, radius=200, unit='km', withdist=True, withcoord=True, withhash=True, sort='ASC'))
out.append(r.geosearch('py:geo', member='Rome', width=1000, height=1000, unit='km', sort='DESC', count=2))
out.append(r.geosearchstore('py:dst', 'py:geo', member='Palermo', radius=500, unit='km', storedist=True))
out.append(r.zrange('py:dst', 0, -1, withscores=True))
r.rpush('py:l', 3, 1, 2)
r.mset({'py:w1': 30, 'py:w2': 10, 'py:w3': 20})
out.append(r.sort('py:l'))
out.append(r.sort('py:l', by='py:w*', get=['#', 'py:w*'], desc=True))
out.append(r.sort('py:l', start=1, num=1, alpha=True))
p = r.dump('py:geo')
out.append(r.restore('py:copy', 0, p))
out.append(r.zrange('py:copy', 0, -1, withscores=True))
try:
    r.restore('py:copy', 0, p)
except redis.ResponseError as e:
    out.append(str(e))
print(json.dumps(out, default=lambda b: b.decode() if isinstance(b, bytes) else str(b)))
`;
    const ask = async (port: number): Promise<unknown> => {
      const res = await run(PYTHON, ['-c', script, String(port)]);
      if (res.code !== 0) throw new Error(res.stderr);
      return JSON.parse(res.stdout);
    };
    const [want, got] = await Promise.all([ask(ref!.ports[0]!), ask(node!.port)]);
    expect(got).toEqual(want);
  }, 60000);
});
