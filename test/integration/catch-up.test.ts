/**
 * Goal: a node back from a kill -9 serves its slots again only once it has what the cluster
 * acknowledged while it was gone, so a client that wrote meanwhile reads its write, even with
 * `read-quorum 1` (where the coordinator answers from its own replica).
 * Method: three real nodes at the default node timeout, read-quorum 1; the keys of one node's slots
 * are written while it is dead; right after its restart every key is read through that node,
 * following MOVED as a cluster client does, over and over until the node serves its slots itself.
 * No read may come back empty or old; the node reports catching up, then stops.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RespConn, type Reply } from '../helpers/resp-conn.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { settledSlotMap } from '../helpers/slot-map.js';

let c: TestCluster;
beforeAll(async () => {
  c = await startCluster(3, ['--cluster-node-timeout', '15000', '--read-quorum', '1', '--write-quorum', '2', '--loglevel', 'notice']);
}, 60_000);
afterAll(async () => {
  await c?.stop();
});

const text = (r: Reply): string => (r.t === 'bulk' || r.t === 'simple' || r.t === 'error' ? String(r.v) : JSON.stringify(r));

/** GET through `port`, following one MOVED; undefined while the cluster is not serving the slot. */
async function getVia(port: number, key: string, conns: Map<number, RespConn>): Promise<{ value: string | null; servedBy: number } | undefined> {
  const conn = async (p: number): Promise<RespConn> => {
    let k = conns.get(p);
    if (k === undefined) conns.set(p, (k = await RespConn.connect(p)));
    return k;
  };
  let target = port;
  for (let hop = 0; hop < 2; hop++) {
    const r = await (await conn(target)).call('GET', key);
    if (r.t === 'error') {
      const m = /^MOVED \d+ [^:]+:(\d+)$/.exec(text(r));
      if (m) {
        target = Number(m[1]);
        continue;
      }
      if (/^(CLUSTERDOWN|TRYAGAIN|NOREPLICAS)/.test(text(r))) return undefined;
      throw new Error(`GET ${key} via ${target}: ${text(r)}`);
    }
    if (r.t === 'nil' || (r.t === 'bulk' && r.v === null)) return { value: null, servedBy: target };
    return { value: text(r), servedBy: target };
  }
  return undefined;
}

async function info(port: number): Promise<string> {
  const k = await RespConn.connect(port);
  try {
    return text(await k.call('INFO', 'cluster'));
  } finally {
    k.close();
  }
}

describe('a node back from kill -9', () => {
  it('serves its slots only once it holds what was written while it was gone', async () => {
    const slots = await settledSlotMap(c.ports[0]!, c.ports);
    const victim = c.nodes[2]!;
    const survivor = c.ports[0]!;
    const keys = slots.keysOn(victim.port, 'back:', 200);
    await victim.kill9();
    // Written while the victim is gone: the two others take each write (W = 2).
    const w = await RespConn.connect(survivor);
    try {
      const deadline = Date.now() + 30_000;
      for (const key of keys) {
        for (;;) {
          const conns = new Map<number, RespConn>([[survivor, w]]);
          let r = await w.call('SET', key, `v-${key}`);
          const moved = r.t === 'error' ? /^MOVED \d+ [^:]+:(\d+)$/.exec(text(r)) : null;
          if (moved && Number(moved[1]) !== victim.port) {
            const other = await RespConn.connect(Number(moved[1]));
            conns.set(Number(moved[1]), other);
            r = await other.call('SET', key, `v-${key}`);
            other.close();
          }
          if (r.t === 'simple' && r.v === 'OK') break;
          // The survivors have not yet routed around the dead node: try again shortly.
          if (Date.now() > deadline) throw new Error(`SET ${key} never succeeded: ${text(r)}`);
          await new Promise((res) => setTimeout(res, 100));
        }
      }
    } finally {
      w.close();
    }

    await victim.restart();
    const conns = new Map<number, RespConn>();
    let servedByVictim = 0;
    const wrong: string[] = [];
    try {
      const deadline = Date.now() + 90_000;
      // Read every key through the victim until it has served every one of them itself.
      while (servedByVictim < keys.length) {
        if (Date.now() > deadline) throw new Error(`the restarted node served ${servedByVictim} of ${keys.length} keys itself before the deadline`);
        servedByVictim = 0;
        for (const key of keys) {
          const got = await getVia(victim.port, key, conns);
          if (got === undefined) continue;
          if (got.value !== `v-${key}`) wrong.push(`${key} -> ${String(got.value)} (served by ${got.servedBy})`);
          if (got.servedBy === victim.port) servedByVictim++;
        }
        expect(wrong, 'reads through the restarted node').toEqual([]);
        await new Promise((res) => setTimeout(res, 50));
      }
    } finally {
      for (const k of conns.values()) k.close();
    }
    expect(victim.output()).toMatch(/back after a restart: catching up/);
    expect(victim.output()).toMatch(/caught up in \d+ ms/);
    expect(await info(victim.port)).toContain('ringkv_catching_up:0');
  }, 180_000);
});
