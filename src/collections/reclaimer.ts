import type { ScanRangeOptions, StoredRecord } from '../storage/types.js';
import { ValueType } from '../storage/types.js';
import { isCollectionType } from './collection.js';
import { metaGeneration } from './meta-codec.js';
import { ELEMENT_KINDS, ElementKind, elementPrefix, GENERATION_BYTES, parseElementKey, prefixEnd, recordKey, userKeyOf } from './record-keys.js';

/** The part of the store the reclaimer uses. */
export interface ReclaimStore {
  get(slot: number, key: Buffer): StoredRecord | undefined;
  drop(slot: number, key: Buffer): void;
  scanRange(slot: number, start: Buffer, end: Buffer, reverse: boolean, visit: (key: Buffer, record: StoredRecord) => boolean, options?: ScanRangeOptions): void;
}

const SLOTS = 16384;
/** Every element record key of a slot lies in [INTERNAL_START, INTERNAL_END) (record-keys.ts). */
const INTERNAL_START = Buffer.from([0xff, 0x00]);
const INTERNAL_END = Buffer.from([0xff, 0xff]);

/**
 * Whether an element of `generation` belongs to no life of its key any more, given the key's
 * record here (`meta`). Decided from the generation's age against what replaced it, so an element
 * of a newer life that reached this replica before its metadata is never taken:
 * - a live collection of another generation: only an older generation is dead (generations are
 *   HLC times, so a later life has a larger one);
 * - a deletion, a string, or the collection expired: dead if its generation began no later than
 *   that record was written;
 * - no record at all: dead once the generation is older than the grace period, within which any
 *   metadata still travelling would have arrived (hints, anti-entropy).
 */
export function isOrphan(generation: Buffer, meta: StoredRecord | undefined, now: number, graceMs: number): boolean {
  if (meta === undefined) return generationMs(generation) < now - graceMs;
  const live = meta.type !== ValueType.Tombstone && (meta.expiresAt === 0 || meta.expiresAt > now);
  if (live && isCollectionType(meta.type as ValueType)) {
    return Buffer.compare(generation, metaGeneration(meta.value as Buffer)) < 0;
  }
  if (isCollectionType(meta.type as ValueType) && Buffer.compare(generation, metaGeneration(meta.value as Buffer)) === 0) return true;
  return Buffer.compare(generation, meta.version.subarray(0, GENERATION_BYTES)) <= 0;
}

function generationMs(generation: Buffer): number {
  return generation.readUIntBE(0, 6);
}

/**
 * Returns the space of deleted, overwritten and expired collections: DEL of a collection only
 * replaces its metadata (O(1)), leaving its elements unreachable. A background sweep walks every
 * slot's element records a bounded number per step and drops (locally, like expiry) those whose
 * life ended (isOrphan). Each replica sweeps on its own; they reach the same result.
 */
/** A collection life that ended on this replica: its elements are reclaimed without waiting for the sweep. */
interface EndedLife {
  slot: number;
  userKey: Buffer;
  generation: Buffer;
  /** Its metadata was removed here by expiry (no tombstone says so later). */
  expired: boolean;
  /** Kinds still to scan, and where the current one continues. */
  kinds: ElementKind[];
  from: Buffer | undefined;
}

/** Ended lives remembered for prompt reclaim; beyond this the sweep finds them. */
const ENDED_MAX = 10_000;
const KINDS = ELEMENT_KINDS;

export class ElementReclaimer {
  private readonly ended: EndedLife[] = [];
  private slot = 0;
  /** Where the next step continues in `slot` (inclusive); undefined = the slot's first element. */
  private from: Buffer | undefined;
  reclaimed = 0;

  constructor(private readonly store: ReclaimStore, private readonly graceMs: number) {}

  /**
   * Told every change of a record here (Store.onVersionChange): a collection whose metadata was
   * deleted, overwritten, expired or replaced by a new life has its old elements queued for
   * reclaim. Costs nothing for records that were not collections.
   */
  noteChange(slot: number, key: Buffer, previous: StoredRecord | undefined, next: StoredRecord | undefined): void {
    if (previous === undefined || !isCollectionType(previous.type as ValueType)) return;
    const generation = metaGeneration(previous.value as Buffer);
    if (next !== undefined && next.type === previous.type && metaGeneration(next.value as Buffer).equals(generation)) return;
    const userKey = userKeyOf(key);
    if (userKey === undefined || this.ended.length >= ENDED_MAX) return;
    this.ended.push({ slot, userKey: Buffer.from(userKey), generation: Buffer.from(generation), expired: next === undefined, kinds: [...KINDS], from: undefined });
  }

  /**
   * Reclaims queued ended lives first, then sweeps: examines up to `budget` element records in
   * all (a slot without any counts as one) from where the last step stopped; returns how many it
   * dropped.
   */
  step(now: number, budget: number): number {
    const fromEnded = this.reclaimEnded(now, budget);
    const dropped = fromEnded.dropped + this.sweep(now, budget - fromEnded.examined);
    this.reclaimed += dropped;
    return dropped;
  }

  /**
   * Reclaims the queued ended lives only (no sweep), at most `budget` records examined: eviction
   * frees a collection's elements at once, as Redis frees an evicted value, so that the memory it
   * measures next is what is really left.
   */
  reclaimEndedNow(now: number, budget: number): number {
    const { dropped } = this.reclaimEnded(now, budget);
    this.reclaimed += dropped;
    return dropped;
  }

  private reclaimEnded(now: number, budget: number): { examined: number; dropped: number } {
    let examined = 0;
    let dropped = 0;
    while (this.ended.length > 0 && examined < budget) {
      const life = this.ended[0]!;
      const kind = life.kinds[0];
      if (kind === undefined) {
        this.ended.shift();
        continue;
      }
      const meta = this.store.get(life.slot, recordKey(life.userKey));
      const dead = isOrphan(life.generation, meta, now, this.graceMs) || (meta === undefined && life.expired);
      const prefix = elementPrefix(kind, life.userKey, life.generation);
      const doomed: Buffer[] = [];
      let stoppedAt: Buffer | undefined;
      if (dead) {
        // Every record of the dead life, the tombstones below its first live element too.
        this.store.scanRange(life.slot, life.from ?? prefix, prefixEnd(prefix), false, (rk) => {
          if (examined >= budget) {
            stoppedAt = Buffer.from(rk);
            return false;
          }
          examined++;
          doomed.push(Buffer.from(rk));
          return true;
        }, { skipDead: false });
      }
      for (const rk of doomed) this.store.drop(life.slot, rk);
      dropped += doomed.length;
      examined++;
      if (stoppedAt !== undefined) life.from = stoppedAt;
      else {
        life.kinds.shift();
        life.from = undefined;
      }
    }
    return { examined, dropped };
  }

  private sweep(now: number, budget: number): number {
    let examined = 0;
    let dropped = 0;
    let lastKey: string | undefined;
    let lastMeta: StoredRecord | undefined;
    for (let slots = 0; examined < budget && slots < SLOTS; ) {
      const doomed: Buffer[] = [];
      let stoppedAt: Buffer | undefined;
      this.store.scanRange(this.slot, this.from ?? INTERNAL_START, INTERNAL_END, false, (rk) => {
        if (examined >= budget) {
          stoppedAt = Buffer.from(rk);
          return false;
        }
        examined++;
        const parsed = parseElementKey(rk);
        if (parsed === undefined) return true;
        const id = parsed.userKey.toString('latin1');
        // Elements of one key are contiguous: its metadata is read once per run of them.
        if (id !== lastKey) {
          lastKey = id;
          lastMeta = this.store.get(this.slot, recordKey(Buffer.from(parsed.userKey)));
        }
        if (isOrphan(parsed.generation, lastMeta, now, this.graceMs)) doomed.push(Buffer.from(rk));
        return true;
      }, { checkpointedOnly: true });
      // Dropped after the scan: the store's scans must not see writes while they run.
      for (const rk of doomed) this.store.drop(this.slot, rk);
      dropped += doomed.length;
      if (stoppedAt !== undefined) {
        this.from = stoppedAt;
        break;
      }
      // Moving on costs one unit, so a sweep over empty slots is bounded per step too.
      examined++;
      this.slot = (this.slot + 1) % SLOTS;
      this.from = undefined;
      lastKey = undefined;
      slots++;
    }
    return dropped;
  }
}
