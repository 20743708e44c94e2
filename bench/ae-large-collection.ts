/**
 * Anti-entropy repairing a few missed writes to one very large hash, with the deeper digests
 * (`anti-entropy-split-records`, default 512) and without them (0: 64 buckets per slot only).
 *
 * For each setting: a fresh 3-node cluster (N=3, W=2, strict quorums, so no hints), one hash of
 * --elements fields (pipelined 1,000-field HSETs), digests left to agree; then a replica that does
 * not coordinate the hash is killed (SIGKILL), --changes fields are changed, the replica restarted,
 * and RINGKV.DIGEST polled on all nodes until they agree. Printed: the (key, version) pairs
 * anti-entropy listed, the records its listing scans read, the payload bytes of the peers' answers
 * (digests and listings; the moved records themselves are not counted), the records moved, and the
 * time from the restart until the digests agreed. Counters are summed over the nodes, from just
 * before the restart.
 *
 *   npm run build && node dist/bench/ae-large-collection.js [--elements 1000000] [--changes 5] [--splits 512,0]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { freePort } from './lib/ports.js';
import { killAllSync, killManaged, spawnManaged, stopManaged, waitForPing, type ManagedProcess } from './lib/proc.js';

const { values: args } = parseArgs({
  options: {
    elements: { type: 'string', default: '1000000' },
    changes: { type: 'string', default: '5' },
    splits: { type: 'string', default: '512,0' },
  },
});
const ELEMENTS = Number(args.elements);
const CHANGES = Number(args.changes);
const SPLITS = args.splits.split(',').map(Number);
const HOST = '127.0.0.1';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'dist/bundle/ringkv.js');
const COUNTERS = ['ringkv_ae_records_listed', 'ringkv_ae_records_scanned', 'ringkv_ae_answer_bytes', 'ringkv_ae_keys_pulled', 'ringkv_ae_keys_pushed', 'ringkv_ae_deep_leaves_listed'] as const;

interface Node {
  port: number;
  dir: string;
  args: string[];
  proc: ManagedProcess;
}

async function info(port: number): Promise<Record<string, number>> {
  const r = new Redis({ port, host: HOST });
  try {
    const text = (await r.info('ringkv')) + (await r.info('all'));
    const out: Record<string, number> = {};
    for (const name of COUNTERS) out[name] = Number(new RegExp(`${name}:(\\d+)`).exec(text)?.[1] ?? 0);
    return out;
  } finally {
    r.disconnect();
  }
}

async function digests(ports: number[]): Promise<Array<string | null>> {
  return Promise.all(ports.map(async (port) => {
    const r = new Redis({ port, host: HOST, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined);
    try {
      await r.connect();
      return (await r.call('ringkv.digest')) as string;
    } catch {
      return null;
    } finally {
      r.disconnect();
    }
  }));
}

async function waitAgree(ports: number[], timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    const d = await digests(ports);
    if (d[0] !== null && d.every((x) => x === d[0])) return Date.now() - started;
    await sleep(200);
  }
  throw new Error(`digests did not agree within ${timeoutMs} ms`);
}

async function clusterOk(ports: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await Promise.all(ports.map(async (port) => {
      const r = new Redis({ port, host: HOST, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      r.on('error', () => undefined);
      try {
        await r.connect();
        const text = (await r.call('cluster', 'info')) as string;
        return text.includes('cluster_state:ok') && text.includes(`cluster_known_nodes:${ports.length}\r\n`);
      } catch {
        return false;
      } finally {
        r.disconnect();
      }
    }));
    if (ok.every(Boolean)) return;
    await sleep(100);
  }
  throw new Error('cluster did not come up');
}

async function seenFailed(observer: number, subject: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = new Redis({ port: observer, host: HOST });
    try {
      const nodes = (await r.call('cluster', 'nodes')) as string;
      const line = nodes.split('\n').find((l) => l.includes(`:${subject}@`));
      if (line !== undefined && / (\S*,)?fail(,\S*)? /.test(line)) return;
    } finally {
      r.disconnect();
    }
    await sleep(100);
  }
  throw new Error(`node ${subject} not seen failed`);
}

async function primaryOf(port: number, key: string): Promise<number> {
  const r = new Redis({ port, host: HOST });
  try {
    const slot = (await r.call('cluster', 'keyslot', key)) as number;
    const slots = (await r.call('cluster', 'slots')) as Array<[number, number, [string, number]]>;
    return slots.find(([from, to]) => slot >= from && slot <= to)![2][1];
  } finally {
    r.disconnect();
  }
}

async function runOnce(split: number): Promise<Record<string, number | string>> {
  const ports: number[] = [];
  while (ports.length < 3) {
    const p = await freePort(HOST, [10_000]);
    if (!ports.some((q) => q === p || q === p + 10_000 || q + 10_000 === p)) ports.push(p);
  }
  const seeds = ports.map((p) => `${HOST}:${p}`).join(' ');
  const nodes: Node[] = ports.map((port) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ringkv-ae-bench-'));
    const nodeArgs = [CLI, 'server', '--port', String(port), '--dir', dir, '--loglevel', 'warning', '--cluster-enabled', 'yes',
      '--cluster-node-timeout', '5000', '--cluster-seeds', seeds, '--appendfsync', 'everysec', '--replication-factor', '3',
      '--write-quorum', '2', '--cluster-sloppy-quorum', 'no', '--anti-entropy-split-records', String(split)];
    return { port, dir, args: nodeArgs, proc: spawnManaged(`ringkv:${port}`, process.execPath, nodeArgs) };
  });
  try {
    await Promise.all(nodes.map((n) => waitForPing(n.proc, HOST, n.port)));
    await clusterOk(ports, 60_000);
    const primary = await primaryOf(ports[0]!, 'big');
    const client = new Redis({ port: primary, host: HOST });
    const fillStarted = Date.now();
    for (let i = 0; i < ELEMENTS; i += 5000) {
      // A batch refused while a busy machine makes a node miss heartbeats is sent again (HSET of
      // the same fields is idempotent): the fill is not what is measured.
      for (let attempt = 1; ; attempt++) {
        const pipeline = client.pipeline();
        for (let k = i; k < Math.min(ELEMENTS, i + 5000); k += 1000) {
          const fields: string[] = [];
          for (let j = k; j < Math.min(ELEMENTS, k + 1000); j++) fields.push(`f:${j}`, 'v');
          pipeline.hset('big', ...fields);
        }
        const failed = (await pipeline.exec())?.find(([err]) => err !== null)?.[0];
        if (failed === undefined || failed === null) break;
        if (attempt === 20) throw failed;
        await sleep(1000);
      }
      if ((i / 5000) % 20 === 19) console.error(`split ${split}: ${i + 5000} elements`);
    }
    const fillMs = Date.now() - fillStarted;
    await waitAgree(ports, 600_000);

    const victim = nodes.find((n) => n.port !== primary)!;
    await killManaged(victim.proc);
    await seenFailed(primary, victim.port, 30_000);
    for (let c = 0; c < CHANGES; c++) await client.hset('big', `f:${Math.floor(((c + 0.5) * ELEMENTS) / CHANGES)}`, 'changed');
    client.disconnect();
    const survivors = nodes.filter((n) => n !== victim);
    const before = await Promise.all(survivors.map((n) => info(n.port)));

    victim.proc = spawnManaged(`ringkv:${victim.port}`, process.execPath, victim.args);
    const restarted = Date.now();
    await waitForPing(victim.proc, HOST, victim.port, 120_000);
    await waitAgree(ports, 600_000);
    const repairMs = Date.now() - restarted;
    const after = await Promise.all(survivors.map((n) => info(n.port)));
    const mine = await info(victim.port);
    const total: Record<string, number> = {};
    for (const name of COUNTERS) total[name] = mine[name]! + after.reduce((s, a, i) => s + a[name]! - before[i]![name]!, 0);
    return {
      split, fill_s: (fillMs / 1000).toFixed(1), repair_ms: repairMs,
      listed: total.ringkv_ae_records_listed!, scanned: total.ringkv_ae_records_scanned!, answer_bytes: total.ringkv_ae_answer_bytes!,
      moved: total.ringkv_ae_keys_pulled! + total.ringkv_ae_keys_pushed!, leaves: total.ringkv_ae_deep_leaves_listed!,
    };
  } finally {
    await Promise.all(nodes.map((n) => stopManaged(n.proc)));
    for (const n of nodes) rmSync(n.dir, { recursive: true, force: true });
  }
}

process.on('SIGINT', () => {
  killAllSync();
  process.exit(130);
});

const rows: Array<Record<string, number | string>> = [];
for (const split of SPLITS) {
  const row = await runOnce(split);
  console.log(JSON.stringify(row));
  rows.push(row);
}
console.log(`\n${ELEMENTS} elements, ${CHANGES} fields changed while one replica was down\n`);
console.log('| anti-entropy-split-records | records listed | records scanned | answer bytes | records moved | deeper leaves | restart → digests agree |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  console.log(`| ${r.split} | ${r.listed} | ${r.scanned} | ${r.answer_bytes} | ${r.moved} | ${r.leaves} | ${r.repair_ms} ms |`);
}
