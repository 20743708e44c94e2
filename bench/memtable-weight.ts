/**
 * What one memtable entry costs in memory: fills a Store (through put, as the write path does)
 * with N entries that no checkpoint moves out, and reports JavaScript heap and external (Buffer
 * backing store) bytes per entry, by key and value size, for plain keys and for internal-namespace
 * element keys (which also enter the ordered index). With --breakdown it takes heap snapshots
 * before and after a smaller fill and lists which object kinds the growth went to.
 *
 *   npm run build && node --expose-gc dist/bench/memtable-weight.js [--entries N] [--breakdown N] [--dir PATH]
 *
 * The inputs are built as the request parser builds them (every key and value its own copy) and
 * dropped after each put, so what stays is what the store keeps.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { parseArgs } from 'node:util';
import { elementKey, elementPrefix, ElementKind, memberPosition } from '../src/collections/record-keys.js';
import { Store } from '../src/storage/store.js';
import { ValueType, type ClockEntry, type StoredRecord } from '../src/storage/types.js';

const { values: args } = parseArgs({
  options: {
    entries: { type: 'string', default: '200000' },
    breakdown: { type: 'string', default: '0' },
    dir: { type: 'string' },
  },
});
const ENTRIES = Number(args.entries);
const BREAKDOWN = Number(args.breakdown);

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error('run with node --expose-gc');
  process.exit(2);
}

interface Case {
  name: string;
  keyBytes: number;
  valueBytes: number;
  /** Internal-namespace element keys (a hash's fields) instead of plain user keys. */
  element: boolean;
  /** A vector clock entry, as a coordinated write in a cluster carries. */
  clock: boolean;
}

const CASES: Case[] = [
  { name: 'SET key 16 B, value 100 B', keyBytes: 16, valueBytes: 100, element: false, clock: false },
  { name: 'SET key 16 B, value 16 B', keyBytes: 16, valueBytes: 16, element: false, clock: false },
  { name: 'SET key 64 B, value 1000 B', keyBytes: 64, valueBytes: 1000, element: false, clock: false },
  { name: 'SET key 16 B, value 100 B, clock', keyBytes: 16, valueBytes: 100, element: false, clock: true },
  { name: 'HSET field 14 B, value 16 B', keyBytes: 14, valueBytes: 16, element: true, clock: false },
  { name: 'HSET field 14 B, value 100 B', keyBytes: 14, valueBytes: 100, element: true, clock: false },
];

const NODE_TAG = Buffer.from('00000000000000b1', 'hex');
const CLOCK: ClockEntry[] = [{ node: '00000000000000b1', counter: 7 }];
const NO_CLOCK: ClockEntry[] = [];
let logical = 0;

function version(): Buffer {
  const v = Buffer.allocUnsafe(16);
  v.writeUIntBE(Date.now(), 0, 6);
  v.writeUInt16BE(logical++ & 0xffff, 6);
  NODE_TAG.copy(v, 8);
  return v;
}

/** A fresh copy of `bytes` as the request parser hands arguments out. */
function copy(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(bytes.length);
  bytes.copy(out);
  return out;
}

function padded(prefix: string, i: number, bytes: number): Buffer {
  const s = `${prefix}${i}`;
  return Buffer.from(s.length >= bytes ? s.slice(0, bytes) : prefix + String(i).padStart(bytes - prefix.length, '0'));
}

const HASH_PREFIX = elementPrefix(ElementKind.Member, Buffer.from('{bench}:hash'), Buffer.alloc(8, 1));

/**
 * Puts [from, from + count) in batches of a thousand, waiting after each for the commit log to
 * write it (as a server's event-loop turns do), so the log's buffers are not counted as the memtable's.
 */
async function fill(store: Store, c: Case, from: number, count: number): Promise<void> {
  for (let at = from; at < from + count; at += FILL_BATCH) {
    fillBatch(store, c, at, Math.min(FILL_BATCH, from + count - at));
    await new Promise<void>((resolve, reject) => store.afterDurable((err) => (err ? reject(err) : resolve())));
  }
}

const FILL_BATCH = 1000;

function fillBatch(store: Store, c: Case, from: number, count: number): void {
  const value = Buffer.alloc(c.valueBytes, 'v');
  for (let i = from; i < from + count; i++) {
    const name = padded(c.element ? 'f:' : 'key:', i, c.keyBytes);
    const key = c.element ? elementKey(HASH_PREFIX, memberPosition(name)) : copy(name);
    const rec: StoredRecord = {
      version: version(),
      clock: c.clock ? [{ ...CLOCK[0]! }] : NO_CLOCK,
      type: c.element ? ValueType.Element : ValueType.String,
      expiresAt: 0,
      value: copy(value),
    };
    store.put(i % 16384, key, rec);
  }
}

interface Usage {
  heap: number;
  external: number;
}

function usage(): Usage {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: m.external };
}

async function openStore(dir: string): Promise<Store> {
  // No checkpoint during the fill: every entry stays in the active memtable. (A store without the
  // checkpointBytes option checkpoints at 32 MiB of its own byte count: keep --entries below that
  // to compare such a build.)
  const opts = { dir, appendfsync: 'no', tombstoneGraceMs: 0, checkpointEntries: 100_000_000, checkpointIntervalMs: 3_600_000, checkpointBytes: 2 ** 40 } as const;
  return Store.open(opts);
}

interface Row {
  case: string;
  entries: number;
  'heap B/entry': number;
  'external B/entry': number;
  'total B/entry': number;
  'payload B/entry': number;
  'memtableBytes B/entry': number;
}

async function measure(c: Case, baseDir: string): Promise<Row> {
  const dir = fs.mkdtempSync(path.join(baseDir, 'memtable-weight-'));
  const store = await openStore(dir);
  try {
    // Warm the code paths and the store's fixed structures before the baseline.
    await fill(store, c, 0, 1000);
    const before = usage();
    await fill(store, c, 1000, ENTRIES);
    const after = usage();
    const stats = store.stats();
    if (stats.checkpoints! > 0) throw new Error(`${stats.checkpoints} checkpoints during the fill: fewer --entries`);
    const per = (n: number): number => Math.round(n / ENTRIES);
    const keyBytes = c.element ? HASH_PREFIX.length + 8 + c.keyBytes : c.keyBytes;
    return {
      case: c.name,
      entries: ENTRIES,
      'heap B/entry': per(after.heap - before.heap),
      'external B/entry': per(after.external - before.external),
      'total B/entry': per(after.heap - before.heap + after.external - before.external),
      'payload B/entry': keyBytes + c.valueBytes,
      'memtableBytes B/entry': Math.round(stats.memtableBytes! / (ENTRIES + 1000)),
    };
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Self sizes by object kind in a heap snapshot (node type and, for objects, constructor name). */
function snapshotBySize(): Map<string, { bytes: number; count: number }> {
  gc!();
  gc!();
  const file = v8.writeHeapSnapshot(path.join(os.tmpdir(), `memtable-weight-${process.pid}-${Date.now()}.heapsnapshot`));
  try {
    const snap = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
      nodes: number[];
      strings: string[];
    };
    const fields = snap.snapshot.meta.node_fields;
    const width = fields.length;
    const typeAt = fields.indexOf('type');
    const nameAt = fields.indexOf('name');
    const sizeAt = fields.indexOf('self_size');
    const types = snap.snapshot.meta.node_types[0];
    const out = new Map<string, { bytes: number; count: number }>();
    for (let i = 0; i < snap.nodes.length; i += width) {
      const type = types[snap.nodes[i + typeAt]!]!;
      const name = snap.strings[snap.nodes[i + nameAt]!]!;
      const label = type === 'object' || type === 'native' || type === 'hidden' || type === 'array' ? `${type} ${name.slice(0, 40)}` : type;
      const slot = out.get(label) ?? { bytes: 0, count: 0 };
      slot.bytes += snap.nodes[i + sizeAt]!;
      slot.count++;
      out.set(label, slot);
    }
    return out;
  } finally {
    fs.rmSync(file, { force: true });
  }
}

async function breakdown(c: Case, baseDir: string, n: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(baseDir, 'memtable-weight-'));
  const store = await openStore(dir);
  try {
    await fill(store, c, 0, 1000);
    const before = snapshotBySize();
    await fill(store, c, 1000, n);
    const after = snapshotBySize();
    const rows: Array<{ kind: string; 'B/entry': number; 'objects/entry': number }> = [];
    for (const [label, a] of after) {
      const b = before.get(label) ?? { bytes: 0, count: 0 };
      const bytes = (a.bytes - b.bytes) / n;
      if (bytes >= 2) rows.push({ kind: label, 'B/entry': Math.round(bytes), 'objects/entry': Math.round(((a.count - b.count) / n) * 100) / 100 });
    }
    rows.sort((x, y) => y['B/entry'] - x['B/entry']);
    console.log(`\nwhere the heap goes: ${c.name}, ${n} entries (heap snapshot self sizes; Buffer bytes are outside the heap)`);
    console.table(rows);
  } finally {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const baseDir = args.dir ?? os.tmpdir();
  console.log(`memtable-weight: ${ENTRIES} entries per case, node ${process.version}`);
  const rows: Row[] = [];
  for (const c of CASES) rows.push(await measure(c, baseDir));
  console.table(rows);
  if (BREAKDOWN > 0) {
    await breakdown(CASES[0]!, baseDir, BREAKDOWN);
    await breakdown(CASES[4]!, baseDir, BREAKDOWN);
  }
}

await main();
