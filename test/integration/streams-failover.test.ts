/**
 * Goal: a consumer group survives a change of the node that coordinates its stream: every
 * acknowledged XADD is in the stream, an entry delivered to one consumer is never delivered as new
 * to another after the change, an acknowledged XACK is never undone, and the counters (XLEN, the
 * group's pending count, its last delivered id) stay exact when the old coordinator comes back and
 * completes its replica (docs/decisions.md, "Collections" and "Streams").
 * Method: a real 3-node cluster (N=3, W=2, R=2, fsync always); XADD and XREADGROUP/XACK through
 * ioredis Cluster; kill -9 the stream's coordinator; go on adding, reading and acknowledging through
 * the survivors; restart it; once it coordinates the slot again, read everything back through it.
 */
import { describe, expect, it } from 'vitest';
import Redis, { Cluster } from 'ioredis';
import { clusterForBlock, waitForNodeState } from '../helpers/cluster.js';
import { infoField, primaryPort } from '../helpers/node-facts.js';

type ReadReply = Array<[string, Array<[string, string[]]>]> | null;

describe('streams across a coordinator change', () => {
  const c = clusterForBlock(3, ['--appendfsync', 'always']);

  it('no acknowledged entry or XACK is lost and nothing delivered is delivered again as new', async () => {
    const key = '{sfo}events';
    const owner = await primaryPort(c.ports[0]!, key);
    const victim = c.nodes.find((n) => n.port === owner)!;
    const survivors = c.ports.filter((p) => p !== owner);
    const client = new Cluster(c.ports.map((port) => ({ host: '127.0.0.1', port })), { clusterRetryStrategy: () => 100, retryDelayOnFailover: 100 });
    client.on('error', () => undefined);
    const added = new Set<string>();
    const delivered = new Map<string, string>();
    const acked = new Set<string>();
    const add = async (n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        try {
          added.add(await client.xadd(key, '*', 'n', String(added.size)) as string);
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    const read = async (consumer: string, ack: (i: number) => boolean): Promise<void> => {
      const reply = (await client.xreadgroup('GROUP', 'g', consumer, 'COUNT', 1000, 'STREAMS', key, '>')) as ReadReply;
      let i = 0;
      for (const [, entries] of reply ?? []) {
        for (const [id] of entries) {
          expect(delivered.has(id), `${id} delivered as new twice`).toBe(false);
          delivered.set(id, consumer);
          if (ack(i++) && (await client.xack(key, 'g', id)) === 1) acked.add(id);
        }
      }
    };
    await client.xgroup('CREATE', key, 'g', '$', 'MKSTREAM');
    await add(200);
    await read('before', (i) => i % 2 === 0);
    expect(delivered.size).toBe(200);
    await victim.kill9();
    await waitForNodeState(survivors[0]!, owner, 'fail', 20000);
    // The survivors take over once the dead coordinator's lease ran out.
    const deadline = Date.now() + 30000;
    while (added.size < 300 && Date.now() < deadline) await add(20);
    expect(added.size, 'adds continued on the survivors').toBeGreaterThanOrEqual(300);
    let reads = 0;
    while (delivered.size < added.size && Date.now() < deadline + 10000) {
      try {
        await read('after', () => true);
      } catch (err) {
        if (!/TRYAGAIN|MOVED|CLUSTERDOWN|NOREPLICAS/.test(String(err))) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
      reads++;
    }
    expect(delivered.size, `read ${reads} times`).toBe(added.size);
    await victim.restart();
    await waitForNodeState(survivors[0]!, owner, 'ok', 20000);
    const back = Date.now() + 20000;
    while ((await primaryPort(survivors[0]!, key)) !== owner && Date.now() < back) await new Promise((r) => setTimeout(r, 200));
    const direct = new Redis({ port: owner });
    try {
      let len: number | undefined;
      for (let attempt = 0; attempt < 50 && len === undefined; attempt++) {
        try {
          len = await direct.xlen(key);
        } catch (err) {
          if (!/MOVED|TRYAGAIN|CLUSTERDOWN/.test(String(err))) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      const ids = (await direct.xrange(key, '-', '+')).map(([id]) => id);
      for (const id of added) expect(ids, `acknowledged XADD ${id}`).toContain(id);
      expect(len).toBe(ids.length);
      const pending = (await direct.xpending(key, 'g', '-', '+', 100000)) as Array<[string, string, number, number]>;
      const pendingIds = new Set(pending.map(([id]) => id));
      for (const id of acked) expect(pendingIds.has(id), `acknowledged ${id} is pending again`).toBe(false);
      expect((await direct.xpending(key, 'g'))[0]).toBe(pending.length);
      for (const [id, consumer] of pending) expect(delivered.get(id), id).toBe(consumer);
      // Nothing new is left for the group: every entry was delivered once.
      expect(await direct.xreadgroup('GROUP', 'g', 'late', 'STREAMS', key, '>')).toBeNull();
    } finally {
      direct.disconnect();
    }
    // The restarted coordinator pulled the stream's records it missed before answering.
    // Either as coordinator (a sync before its first command) or as a replica (a heal of what a
    // write, a handoff or anti-entropy found it missing), whichever came first.
    expect((await infoField(owner, 'ringkv_collection_syncs')) + (await infoField(owner, 'ringkv_collection_heals'))).toBeGreaterThan(0);
    await client.quit();
  }, 150000);
});
