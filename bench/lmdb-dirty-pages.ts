/**
 * What LMDB's copies of dirty pages cost, alone (no server): N random 16-byte keys with 100-byte
 * values written into a fresh environment in batches of 2,000, one batch per event-loop turn as a
 * checkpoint queues them, and how the growth of the process's anonymous memory, its CPU time and
 * the duration depend on how many entries one transaction may hold.
 *
 *   npm run build && node dist/bench/lmdb-dirty-pages.js [--keys N] [--txn ENTRIES|merged] [--writemap] [--dir PATH]
 *
 * `--txn 8000` waits for the commit of what was queued every 8,000 entries, as checkpoints do
 * (src/storage/checkpoint.ts); `--txn merged` never waits, so lmdb-js merges the batches queued
 * while its writer is busy into large transactions; `--writemap` writes through the map instead of
 * copying dirty pages (docs/decisions.md, "LMDB's dirty pages: bounded transactions, not its map").
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { open } from 'lmdb';

const { values: args } = parseArgs({
  options: {
    keys: { type: 'string', default: '1500000' },
    txn: { type: 'string', default: '8000' },
    writemap: { type: 'boolean', default: false },
    dir: { type: 'string' },
  },
});
const KEYS = Number(args.keys);
const TXN = args.txn === 'merged' ? Infinity : Number(args.txn);
const BATCH = 2000;

function anonMiB(): number {
  const m = /RssAnon:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

const dir = args.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'lmdb-dirty-'));
const root = open({ path: dir, overlappingSync: false, noSync: false, useWritemap: args.writemap, eventTurnBatching: false });
const db = root.openDB<Buffer, Buffer>('data', { keyEncoding: 'binary', encoding: 'binary' });
const value = randomBytes(100);
const startAnon = anonMiB();
const startCpu = process.cpuUsage();
const started = performance.now();
let peak = startAnon;
let queued: Promise<unknown>[] = [];
let queuedEntries = 0;
for (let written = 0; written < KEYS; written += BATCH) {
  queued.push(db.batch(() => {
    for (let i = 0; i < BATCH; i++) void db.put(randomBytes(16), value);
  }));
  queuedEntries += BATCH;
  if (queuedEntries >= TXN || queued.length >= 256) {
    await Promise.all(queued);
    queued = [];
    queuedEntries = 0;
  } else {
    await nextTurn();
  }
  peak = Math.max(peak, anonMiB());
}
await Promise.all(queued);
const cpu = process.cpuUsage(startCpu);
console.log(JSON.stringify({
  keys: KEYS,
  txn: args.txn,
  writemap: args.writemap,
  seconds: Math.round(performance.now() - started) / 1000,
  cpuSeconds: Math.round((cpu.user + cpu.system) / 1000) / 1000,
  anonGrowthMiB: Math.round(anonMiB() - startAnon),
  anonPeakGrowthMiB: Math.round(peak - startAnon),
}));
await root.close();
if (args.dir === undefined) fs.rmSync(dir, { recursive: true, force: true });
