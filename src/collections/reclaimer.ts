import type { StoredRecord } from '../storage/types.js';
import { ValueType } from '../storage/types.js';
import { isCollectionType } from './collection.js';
import { decodeMeta } from './meta-codec.js';
import { GENERATION_BYTES, parseElementKey, recordKey } from './record-keys.js';

/** The part of the store the reclaimer uses. */
export interface ReclaimStore {
  get(slot: number, key: Buffer): StoredRecord | undefined;
  drop(slot: number, key: Buffer): void;
  scanRange(slot: number, start: Buffer, end: Buffer, reverse: boolean, visit: (key: Buffer, record: StoredRecord) => boolean): void;
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
    return Buffer.compare(generation, decodeMeta(meta.value as Buffer).generation) < 0;
  }
  if (isCollectionType(meta.type as ValueType) && Buffer.compare(generation, decodeMeta(meta.value as Buffer).generation) === 0) return true;
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
export class ElementReclaimer {
  private slot = 0;
  /** Where the next step continues in `slot` (inclusive); undefined = the slot's first element. */
  private from: Buffer | undefined;
  reclaimed = 0;

  constructor(private readonly store: ReclaimStore, private readonly graceMs: number) {}

  /**
   * Examines up to `budget` element records (a slot without any counts as one) from where the
   * last step stopped; returns how many it dropped.
   */
  step(now: number, budget: number): number {
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
      });
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
    this.reclaimed += dropped;
    return dropped;
  }
}
