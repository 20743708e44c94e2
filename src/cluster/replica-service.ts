import { decodeRecord, encodeRecord } from '../storage/record-codec.js';
import type { LeaseGrants } from './slot-leases.js';
import type { ClusterBus } from './bus/cluster-bus.js';
import type { Coordinator } from './coordinator.js';
import type { HintStore } from '../storage/hint-store.js';
import type { PutItem } from '../storage/record-batch.js';
import type { RecordStore } from '../storage/types.js';
import type { Versioner } from '../server/versioner.js';
import { judgeLineage, markedSuspect } from './collection-lineage.js';
import type { CollectionHealer, HealerStore } from './collection-healer.js';

/** What the replica side needs from its node; the cluster node provides it (and so can a simulation). */
export interface ReplicaHost {
  readonly bus: Pick<ClusterBus, 'handle'>;
  readonly node: { readonly versioner: Versioner; readonly store: RecordStore };
  readonly coordinator: Pick<Coordinator, 'applyLocalAll'>;
  readonly hints: Pick<HintStore, 'add'>;
  /** Whether this node granted a newer lease than a fenced write's epoch (slot-leases.ts). */
  readonly leases: { readonly grants: Pick<LeaseGrants, 'fenced'> };
  /** Heals collections a write marked suspect here (absent in the simulation). */
  readonly healer?: Pick<CollectionHealer, 'enqueue'>;
}

interface WriteRequest {
  s: number;
  i: Array<[Uint8Array, Uint8Array]>;
  /** Present on a hinted write: the owner this node holds the records for. */
  h?: string;
}

const isSlot = (s: unknown): s is number => typeof s === 'number' && Number.isInteger(s) && s >= 0 && s < 16384;
const asBuffer = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

/**
 * The record bytes as a buffer the store may keep: a view into a large frame is copied, so a
 * small record never pins a whole batch in memory until the next checkpoint.
 */
function owned(u: Uint8Array): Buffer {
  const b = asBuffer(u);
  return b.byteLength * 2 >= b.buffer.byteLength ? b : Buffer.from(b);
}

function isWrite(p: unknown): p is WriteRequest {
  const r = p as WriteRequest;
  return typeof r === 'object' && r !== null && isSlot(r.s) && Array.isArray(r.i) &&
    r.i.every((x) => Array.isArray(x) && x.length === 2 && x[0] instanceof Uint8Array && x[1] instanceof Uint8Array) &&
    (r.h === undefined || (typeof r.h === 'string' && /^[0-9a-f]{40}$/.test(r.h)));
}

interface RangeRead {
  s: number;
  /** Start (inclusive) and end (exclusive) record keys. */
  a: Uint8Array;
  b: Uint8Array;
  n: number;
}

/** Bounds of one range-read answer, whatever the caller asked for. */
const RANGE_RECORDS_MAX = 10_000;
const RANGE_BYTES_MAX = 4 << 20;

function isRangeRead(p: unknown): p is RangeRead {
  const r = p as RangeRead;
  return typeof r === 'object' && r !== null && isSlot(r.s) && r.a instanceof Uint8Array && r.b instanceof Uint8Array &&
    typeof r.n === 'number' && Number.isInteger(r.n) && r.n > 0;
}

/** A range-read answer ('el') as the asking coordinator sees it. */
export function decodeRangeAnswer(answer: unknown): { items: Array<[Buffer, Buffer]>; next: Buffer | undefined } {
  const a = answer as { i?: unknown; x?: unknown };
  if (typeof a !== 'object' || a === null || !Array.isArray(a.i)) throw new Error('malformed range answer');
  const items = (a.i as unknown[]).map((pair) => {
    if (!Array.isArray(pair) || !(pair[0] instanceof Uint8Array) || !(pair[1] instanceof Uint8Array)) throw new Error('malformed range answer');
    return [Buffer.from(pair[0]), owned(pair[1])] as [Buffer, Buffer];
  });
  if (a.x !== undefined && !(a.x instanceof Uint8Array)) throw new Error('malformed range answer');
  return { items, next: a.x === undefined ? undefined : Buffer.from(a.x) };
}

interface BatchRequest {
  w: unknown[];
  r: unknown[];
  f?: unknown[];
}

function isBatch(p: unknown): p is BatchRequest {
  const b = p as BatchRequest;
  if (typeof b !== 'object' || b === null || !Array.isArray(b.w) || !Array.isArray(b.r) || b.w.length % 3 !== 0) return false;
  if (b.f !== undefined && (!Array.isArray(b.f) || b.f.length % 3 !== 0 || !b.f.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0))) return false;
  for (let i = 0; i < b.w.length; i += 3) {
    if (!isSlot(b.w[i]) || !(b.w[i + 1] instanceof Uint8Array) || !(b.w[i + 2] instanceof Uint8Array)) return false;
  }
  for (let i = 0; i < b.r.length; ) {
    const n = b.r[i + 1];
    if (!isSlot(b.r[i]) || typeof n !== 'number' || !Number.isInteger(n) || n < 0 || i + 2 + n > b.r.length) return false;
    for (let j = i + 2; j < i + 2 + n; j++) if (!(b.r[j] instanceof Uint8Array)) return false;
    i += 2 + n;
  }
  return true;
}

/**
 * Indexes of the batch's writes that a lease holder coordinated (each carries all of its records;
 * collection-lineage.ts); anti-entropy and hint handoff send theirs without an epoch.
 */
function leasedWrites(b: BatchRequest): Set<number> | undefined {
  if (b.f === undefined) return undefined;
  const out = new Set<number>();
  const f = b.f as number[];
  for (let i = 0; i < f.length; i += 3) for (let j = f[i]!; j < f[i]! + f[i + 1]!; j++) out.add(j);
  return out;
}

/**
 * The replica side of quorum operations: answers record reads, applies replicated writes (last
 * writer wins) and acknowledges them only once they are as durable as appendfsync promises.
 */
export class ReplicaService {
  constructor(private readonly cluster: ReplicaHost) {}

  /** Indexes of the batch's writes from a lease holder this node has seen superseded; undefined for none. */
  private fencedWrites(b: BatchRequest): Set<number> | undefined {
    if (b.f === undefined) return undefined;
    let out: Set<number> | undefined;
    const f = b.f as number[];
    for (let i = 0; i < f.length; i += 3) {
      const first = f[i]!;
      const slot = b.w[first * 3] as number | undefined;
      if (slot === undefined || !this.cluster.leases.grants.fenced(slot, f[i + 2]!)) continue;
      out ??= new Set();
      for (let j = first; j < first + f[i + 1]!; j++) out.add(j);
    }
    return out;
  }

  /** One write's records as collection lineage lets them be applied here; suspects go to the healer. */
  judge(slot: number, run: PutItem[], from: string, whole: (i: number) => boolean = () => false): PutItem[] {
    const store = this.cluster.node.store;
    const { items, marks, suspects } = judgeLineage((key) => store.get(slot, key), run, whole);
    const replace = (store as Partial<HealerStore>).replace?.bind(store);
    for (const key of marks) {
      const rec = store.get(slot, key);
      if (rec !== undefined && replace !== undefined) replace(slot, key, markedSuspect(rec));
    }
    for (const key of suspects) this.cluster.healer?.enqueue(slot, key, from);
    return items;
  }

  register(): void {
    const { bus, node } = this.cluster;
    // A coordinator's reads and writes for this node from one event-loop turn (replica-batcher.ts).
    bus.handle('rb', (from, payload) => {
      if (!isBatch(payload)) throw new Error('malformed replica batch');
      const { w, r } = payload;
      // Writes that lost last-writer-wins here: the coordinator stamps them again above our version.
      const superseded: Array<number | Buffer> = [];
      const skip = this.fencedWrites(payload);
      const leased = leasedWrites(payload);
      if (w.length > 0) {
        const now = node.versioner.now();
        const count = w.length / 3;
        // Consecutive writes to one slot (each write's records are consecutive) are stored together,
        // so a crash keeps all of a write's records or none.
        for (let i = 0; i < count; ) {
          if (skip?.has(i)) {
            i++;
            continue;
          }
          const slot = w[i * 3] as number;
          const first = i;
          const run: PutItem[] = [];
          for (; i < count && w[i * 3] === slot && !skip?.has(i); i++) {
            const encoded = owned(w[i * 3 + 2] as Uint8Array);
            const record = decodeRecord(encoded);
            node.versioner.hlc.observe(record.version, now);
            run.push({ key: Buffer.from(w[i * 3 + 1] as Uint8Array), record, encoded });
          }
          const judged = this.judge(slot, run, from.nodeId, (j) => leased?.has(first + j) === true);
          const newer = this.cluster.coordinator.applyLocalAll(slot, judged);
          // Outcomes are per item sent; an item the judgement left out was superseded by nothing here.
          if (judged === run) {
            for (let j = 0; j < newer.length; j++) if (newer[j] !== undefined) superseded.push(first + j, newer[j]!);
          } else {
            for (let j = 0, k = 0; j < run.length; j++) {
              if (k < judged.length && judged[k]!.key.equals(run[j]!.key)) {
                if (newer[k] !== undefined) superseded.push(first + j, newer[k]!);
                k++;
              }
            }
          }
        }
      }
      const reads: Array<Buffer | null> = [];
      for (let i = 0; i < r.length; ) {
        const slot = r[i] as number;
        const n = r[i + 1] as number;
        for (let j = i + 2; j < i + 2 + n; j++) {
          const rec = node.store.get(slot, asBuffer(r[j] as Uint8Array));
          reads.push(rec ? encodeRecord(rec) : null);
        }
        i += 2 + n;
      }
      const fenced = skip === undefined ? undefined : payload.f!.filter((_, i) => i % 3 === 0 && skip.has(payload.f![i] as number));
      const response = superseded.length === 0 && fenced === undefined ? reads : { r: reads, s: superseded, ...(fenced ? { x: fenced } : {}) };
      if (w.length === 0 || !node.store.hasPendingDurability()) return response;
      return new Promise<unknown>((resolve, reject) => node.store.afterDurable((err) => (err ? reject(err) : resolve(response))));
    });
    // A range of element records, for a coordinator completing its replica of a collection.
    bus.handle('el', (_from, payload) => {
      if (!isRangeRead(payload)) throw new Error('malformed range read');
      const items: Array<[Buffer, Buffer]> = [];
      let bytes = 0;
      let next: Buffer | undefined;
      const limit = Math.min(payload.n, RANGE_RECORDS_MAX);
      // Tombstones included: the asking coordinator must learn of deletions.
      node.store.scanRangeRaw(payload.s, asBuffer(payload.a), asBuffer(payload.b), (key, rec) => {
        if (items.length >= limit || bytes >= RANGE_BYTES_MAX) {
          next = Buffer.from(key);
          return false;
        }
        const encoded = encodeRecord(rec);
        items.push([Buffer.from(key), encoded]);
        bytes += key.length + encoded.length;
        return true;
      });
      return next === undefined ? { i: items } : { i: items, x: next };
    });
    bus.handle('rw', (from, payload) => {
      if (!isWrite(payload)) throw new Error('malformed replica write');
      const now = node.versioner.now();
      if (payload.h !== undefined) {
        const owner = payload.h;
        return Promise.all(payload.i.map(([k, r]) => this.cluster.hints.add(owner, payload.s, Buffer.from(k), Buffer.from(r), now))).then(() => true);
      }
      const items = payload.i.map(([k, r]): PutItem => {
        const record = decodeRecord(asBuffer(r));
        node.versioner.hlc.observe(record.version, now);
        return { key: Buffer.from(k), record };
      });
      this.cluster.coordinator.applyLocalAll(payload.s, this.judge(payload.s, items, from.nodeId));
      if (!node.store.hasPendingDurability()) return true;
      return new Promise<boolean>((resolve, reject) => node.store.afterDurable((err) => (err ? reject(err) : resolve(true))));
    });
  }
}
