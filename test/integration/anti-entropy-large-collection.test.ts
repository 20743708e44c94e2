/**
 * Goal: anti-entropy repairing a few missed writes to a collection of 30,000 elements lists about
 * as many records as there are differences, not a 64th of the collection per difference, and the
 * replicas' digests converge.
 * Method: real processes, 3 nodes, N=3, W=2, strict quorums (no hints, so only anti-entropy can
 * repair), `anti-entropy-split-records 64` (the default, 512, splits a slot's digests once it holds
 * 32,768 records; 64 lets a collection that fills in a few seconds show the same descent). One
 * hash of 30,000 fields filled with pipelined 1,000-field HSETs; once the digests agree, kill -9 a
 * replica that does not coordinate the hash, change 5 fields, restart it, and poll RINGKV.DIGEST
 * until all three agree. The (key, version) pairs anti-entropy listed (INFO
 * ringkv_ae_records_listed), summed over the nodes from just before the restart, must stay under
 * 1,000: with only the 64 buckets per slot each of the 6 differing records (5 fields and the hash's
 * metadata) lists ~470 records on each side (measured: 19,974 listed in all, against 106 with
 * the deeper digests). RINGKV_AE_SPLIT_RECORDS=0 runs the same test with the deeper digests
 * switched off, to see it fail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Redis from 'ioredis';
import { startCluster, waitForCluster, waitForNodeState, type TestCluster } from '../helpers/cluster.js';
import { infoField, primaryPort } from '../helpers/node-facts.js';

const ELEMENTS = 30_000;
const FIELDS_PER_HSET = 1000;
/** HSETs per pipeline: 5,000 elements in flight at a time. */
const PIPELINE = 5;
const CHANGED = [7, 5_000, 12_345, 20_001, 29_999];
const LISTED_MAX = 1000;
const SPLIT_RECORDS = process.env.RINGKV_AE_SPLIT_RECORDS ?? '64';

async function digest(port: number): Promise<string | undefined> {
  const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.call('ringkv.digest')) as string;
  } catch {
    return undefined;
  } finally {
    r.disconnect();
  }
}

async function waitForDigests(ports: number[], timeoutMs: number): Promise<number> {
  const started = Date.now();
  let last: Array<string | undefined> = [];
  while (Date.now() - started < timeoutMs) {
    last = await Promise.all(ports.map(digest));
    if (last[0] !== undefined && last.every((d) => d === last[0])) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`digests did not converge within ${timeoutMs} ms: ${JSON.stringify(last)}`);
}

async function listed(port: number): Promise<number> {
  return (await infoField(port, 'ringkv_ae_records_listed')) || 0;
}

describe('anti-entropy on a collection of 30,000 elements', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(3, [
      '--replication-factor', '3', '--write-quorum', '2', '--cluster-sloppy-quorum', 'no',
      '--anti-entropy-interval-ms', '500', '--anti-entropy-split-records', SPLIT_RECORDS,
    ]);
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
  });

  it('lists records in proportion to the differences, and the digests converge', async () => {
    let primary = await primaryPort(c.ports[0]!, 'big');
    let client = new Redis({ port: primary });
    for (let i = 0; i < ELEMENTS; i += FIELDS_PER_HSET * PIPELINE) {
      // The fill is not under test: a batch refused while the busy machine makes a node miss its
      // heartbeats (NOREPLICAS, TRYAGAIN) is sent again; HSET of the same fields is idempotent.
      for (let attempt = 1; ; attempt++) {
        const pipeline = client.pipeline();
        for (let k = i; k < Math.min(ELEMENTS, i + FIELDS_PER_HSET * PIPELINE); k += FIELDS_PER_HSET) {
          const args: string[] = [];
          for (let j = k; j < k + FIELDS_PER_HSET; j++) args.push(`f:${j}`, 'v');
          pipeline.hset('big', ...args);
        }
        const failed = (await pipeline.exec())?.find(([err]) => err !== null)?.[0];
        if (failed === undefined || failed === null) break;
        if (attempt === 10) throw failed;
        // The slot moved (its primary missed heartbeats on the busy machine): follow it.
        const moved = /^MOVED \d+ [\d.]+:(\d+)/.exec(failed.message);
        if (moved !== null) {
          client.disconnect();
          primary = Number(moved[1]);
          client = new Redis({ port: primary });
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    expect(await client.hlen('big')).toBe(ELEMENTS);
    await waitForDigests(c.ports, 30_000);

    const victim = c.nodes.find((n) => n.port !== primary)!;
    const survivors = c.ports.filter((p) => p !== victim.port);
    await victim.kill9();
    await waitForNodeState(primary, victim.port, 'fail', 20_000);
    for (const i of CHANGED) expect(await client.hset('big', `f:${i}`, 'changed')).toBe(0);
    client.disconnect();
    const before = await Promise.all(survivors.map(listed));

    await victim.restart();
    await waitForCluster(c.ports, 3);
    const took = await waitForDigests(c.ports, 30_000).catch(async (err: unknown) => {
      for (const port of c.ports) {
        const r = new Redis({ port });
        const text = (await r.info('all')) as string;
        r.disconnect();
        console.log(port, port === victim.port ? 'restarted' : port === primary ? 'primary' : 'replica', text.split('\r\n').filter((l) => l.startsWith('ringkv_ae')).join(' '));
      }
      throw err;
    });
    const after = await Promise.all(survivors.map(listed));
    const total = (await listed(victim.port)) + after.reduce((s, n, i) => s + n - before[i]!, 0);
    const leaves = await Promise.all(c.ports.map((p) => infoField(p, 'ringkv_ae_deep_leaves_listed')));
    const moved = (await infoField(victim.port, 'ringkv_ae_keys_pulled')) +
      (await Promise.all(survivors.map((p) => infoField(p, 'ringkv_ae_keys_pushed')))).reduce((s, n) => s + n, 0);
    console.log(`large collection: digests agreed ${took} ms after the restart; records listed ${total}, deeper leaves listed ${leaves.join('/')}, records moved ${moved} (split records ${SPLIT_RECORDS})`);
    expect(moved, 'the changed fields and the metadata reached the restarted node').toBeGreaterThanOrEqual(CHANGED.length + 1);
    expect(total, 'records anti-entropy listed to find 6 differences').toBeLessThan(LISTED_MAX);
  }, 90_000);
});
