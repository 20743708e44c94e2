/**
 * Micro-benchmark of the storage layer alone (no network): puts/s and gets/s per appendfsync
 * mode, bytes written per put, and how long checkpoints stall the event loop.
 *
 *   npm run build && node dist/bench/store-micro.js [--puts N] [--keyspace N] [--clients N] [--dir PATH]
 *
 * The put phase imitates redis-benchmark -c 50: each virtual client sends its next SET only after
 * the previous one was acknowledged (afterDurable), and all clients that are ready in one
 * event-loop turn write in that turn, which is what a server sees. The raw phase puts as fast as
 * the CPU allows (one afterDurable per 1000 puts) to show the per-put CPU cost.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Store } from '../src/storage/store.js';
import { ValueType, type FsyncPolicy, type StoredRecord } from '../src/storage/types.js';

const { values: args } = parseArgs({
  options: {
    puts: { type: 'string', default: '200000' },
    gets: { type: 'string', default: '500000' },
    keyspace: { type: 'string', default: '100000' },
    clients: { type: 'string', default: '50' },
    size: { type: 'string', default: '100' },
    dir: { type: 'string' },
  },
});
const PUTS = Number(args.puts);
const GETS = Number(args.gets);
const KEYSPACE = Number(args.keyspace);
const CLIENTS = Number(args.clients);
const VALUE = Buffer.alloc(Number(args.size), 'x');
const NODE_TAG = Buffer.from('00000000000000b1', 'hex');

let logical = 0;
function record(): StoredRecord {
  const v = Buffer.allocUnsafe(16);
  v.writeUIntBE(Date.now(), 0, 6);
  v.writeUInt16BE(logical++ & 0xffff, 6);
  NODE_TAG.copy(v, 8);
  return { version: v, clock: [], type: ValueType.String, expiresAt: 0, value: VALUE };
}

/** redis-benchmark's key:000000012345 with random numbers from the keyspace, spread over slots. */
function randomKey(): { slot: number; key: Buffer } {
  const n = Math.floor(Math.random() * KEYSPACE);
  return { slot: n % 16384, key: Buffer.from(`key:${String(n).padStart(12, '0')}`) };
}

/** Bytes this process has written with write(2)-family calls, including LMDB's writer thread. */
function writtenBytes(): number {
  try {
    const m = /^wchar: (\d+)$/m.exec(fs.readFileSync('/proc/self/io', 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

interface Result {
  mode: FsyncPolicy;
  closedLoopPutsPerSec: number;
  rawPutsPerSec: number;
  getsPerSecLmdb: number;
  getsPerSecMemtable: number;
  logBytesPerPut: number;
  allBytesPerPut: number;
  fsyncsPerSec: number;
  checkpoints: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  checkpointStallMaxMs: number;
}

async function closedLoopPuts(store: Store, total: number): Promise<number> {
  return new Promise((resolve) => {
    let issued = 0;
    let acked = 0;
    let ready = CLIENTS;
    let scheduled = false;
    const started = performance.now();
    const turn = (): void => {
      scheduled = false;
      const batch = Math.min(ready, total - issued);
      if (batch <= 0) return;
      ready -= batch;
      for (let i = 0; i < batch; i++) {
        const { slot, key } = randomKey();
        store.put(slot, key, record());
      }
      issued += batch;
      store.afterDurable(() => {
        acked += batch;
        ready += batch;
        if (acked >= total) resolve(performance.now() - started);
        else if (!scheduled) {
          scheduled = true;
          setImmediate(turn);
        }
      });
    };
    turn();
  });
}

async function rawPuts(store: Store, total: number): Promise<number> {
  const started = performance.now();
  for (let done = 0; done < total; ) {
    const n = Math.min(1000, total - done);
    for (let i = 0; i < n; i++) {
      const { slot, key } = randomKey();
      store.put(slot, key, record());
    }
    done += n;
    await new Promise<void>((resolve) => store.afterDurable(() => resolve()));
  }
  return performance.now() - started;
}

function gets(store: Store, total: number): number {
  const keys = Array.from({ length: 4096 }, randomKey);
  const started = performance.now();
  let found = 0;
  for (let i = 0; i < total; i++) {
    const { slot, key } = keys[i & 4095]!;
    if (store.get(slot, key)) found++;
  }
  if (found === 0) throw new Error('no key found; the put phase wrote nothing?');
  return performance.now() - started;
}

async function run(mode: FsyncPolicy, baseDir: string): Promise<Result> {
  const dir = fs.mkdtempSync(path.join(baseDir, `store-micro-${mode}-`));
  const store = await Store.open({ dir, appendfsync: mode, tombstoneGraceMs: 0 });
  try {
    const delay = monitorEventLoopDelay({ resolution: 1 });
    const bytesBefore = writtenBytes();
    const logBefore = store.stats().logBytesWritten!;
    const fsyncsBefore = store.stats().logFsyncs!;
    delay.enable();
    const closedMs = await closedLoopPuts(store, PUTS);
    delay.disable();
    const st = store.stats();
    const fsyncs = st.logFsyncs! - fsyncsBefore;
    // Let the last checkpoint of this phase finish so its LMDB writes count towards these puts.
    await store.checkpointNow();
    const allBytes = writtenBytes() - bytesBefore;
    const logBytes = store.stats().logBytesWritten! - logBefore;
    const lmdbGetMs = gets(store, GETS);
    const rawMs = await rawPuts(store, PUTS);
    const memGetMs = gets(store, GETS); // the raw phase left most keys in the memtable
    const after = store.stats();
    return {
      mode,
      closedLoopPutsPerSec: Math.round(PUTS / (closedMs / 1000)),
      rawPutsPerSec: Math.round(PUTS / (rawMs / 1000)),
      getsPerSecLmdb: Math.round(GETS / (lmdbGetMs / 1000)),
      getsPerSecMemtable: Math.round(GETS / (memGetMs / 1000)),
      logBytesPerPut: Math.round(logBytes / PUTS),
      allBytesPerPut: Math.round(allBytes / PUTS),
      fsyncsPerSec: Math.round(fsyncs / (closedMs / 1000)),
      checkpoints: after.checkpoints!,
      loopDelayP99Ms: Math.round(delay.percentile(99) / 1e4) / 100,
      loopDelayMaxMs: Math.round(delay.max / 1e4) / 100,
      checkpointStallMaxMs: after.lastCheckpointMaxStallMs!,
    };
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const baseDir = args.dir ?? os.tmpdir();
  console.log(`store-micro: ${PUTS} puts, ${GETS} gets, keyspace ${KEYSPACE}, ${CLIENTS} clients, ${VALUE.length}-byte values, dir ${baseDir}`);
  const results: Result[] = [];
  for (const mode of ['always', 'everysec', 'no'] as const) results.push(await run(mode, baseDir));
  console.table(results);
}

await main();
