import type { StoredRecord } from './types.js';

/** Point reads remembered; a command reads an element and then writes it, rarely more between. */
const SLOTS = 4;

/**
 * The last few element records read from LMDB by storage key, found or not (point reads, and the
 * entry a range read stopped on). A collection command
 * reads the elements it changes (a member's score, whether it is in the set) and the store then
 * looks each up again below the memtable to judge its write (Store.write's `previous`): without
 * this, an element not in a memtable cost two LMDB reads. Valid only for LMDB's current read
 * snapshot: the store clears it whenever LMDB's content changes (a checkpoint ended, FLUSHALL),
 * as it clears the range cache. Records are shared, as every reader of a record already treats
 * it as immutable.
 */
export class RecentReads {
  private readonly keys: Array<Buffer | undefined> = new Array<Buffer | undefined>(SLOTS).fill(undefined);
  private readonly records: Array<StoredRecord | undefined> = new Array<StoredRecord | undefined>(SLOTS).fill(undefined);
  private next = 0;

  /** The slot holding `sk`'s read, or -1. */
  find(sk: Buffer): number {
    for (let i = 0; i < SLOTS; i++) {
      const k = this.keys[i];
      if (k !== undefined && k.length === sk.length && k.equals(sk)) return i;
    }
    return -1;
  }

  record(slot: number): StoredRecord | undefined {
    return this.records[slot];
  }

  /** Remembers what LMDB holds under `sk` (copied unless `owned`: most callers pass scratch keys). */
  note(sk: Buffer, rec: StoredRecord | undefined, owned = false): void {
    const i = this.next;
    this.next = (i + 1) % SLOTS;
    this.keys[i] = owned ? sk : Buffer.from(sk);
    this.records[i] = rec;
  }

  clear(): void {
    this.keys.fill(undefined);
    this.records.fill(undefined);
  }
}
