import { isRangeKey } from './range-bounds.js';

/**
 * Per element range (one kind of one life of one collection: the record-key prefix
 * `0xFF ‖ kind ‖ u32 key length ‖ key ‖ 8-byte generation`), a key below which it holds nothing
 * live. Deleting elements leaves tombstones in key order until they are purged (in a cluster,
 * after the tombstone grace), so a queue drained from its low end (ZPOPMIN, BZPOPMIN, ZRANGE from
 * rank 0) would walk every tombstone of every earlier pop, and its cost would grow with the
 * pops. A forward scan from the start of a range begins at its floor instead.
 *
 * Invariant: nothing live in [prefix, floor). A scan that began at or below the floor and found
 * its first live record at k raises the floor to k; a live record written below the floor lowers
 * it. Bounded: the least recently set floors are forgotten (a forgotten floor only costs a walk).
 */
export class RangeFloors {
  private readonly floors = new Map<string, Buffer>();

  constructor(private readonly max = 10_000) {}

  get size(): number {
    return this.floors.size;
  }

  /** Where a forward scan from `start` may begin: at the range's floor when that is higher. */
  from(slot: number, start: Buffer): Buffer {
    const id = rangeId(slot, start);
    if (id === undefined) return start;
    const floor = this.floors.get(id);
    return floor !== undefined && Buffer.compare(floor, start) > 0 ? floor : start;
  }

  /** A forward scan that began at `from` visited only tombstones before its first live record, `key`. */
  found(slot: number, from: Buffer, key: Buffer): void {
    const pl = prefixLength(from);
    if (pl < 0) return;
    const id = idOf(slot, from, pl);
    const floor = this.floors.get(id) ?? (from.length === pl ? from : undefined);
    if (floor === undefined || Buffer.compare(from, floor) > 0 || Buffer.compare(key, floor) <= 0) return;
    if (key.length < pl || key.compare(from, 0, pl, 0, pl) !== 0) return;
    this.set(id, Buffer.from(key));
  }

  /** A live record was written under `key`: a floor above it comes down to it. */
  noteLive(slot: number, key: Buffer): void {
    if (this.floors.size === 0) return;
    const id = rangeId(slot, key);
    if (id === undefined) return;
    const floor = this.floors.get(id);
    if (floor !== undefined && Buffer.compare(key, floor) < 0) this.set(id, Buffer.from(key));
  }

  clear(): void {
    this.floors.clear();
  }

  private set(id: string, key: Buffer): void {
    this.floors.delete(id);
    this.floors.set(id, key);
    if (this.floors.size > this.max) this.floors.delete(this.floors.keys().next().value as string);
  }
}

/** Length of the element-range prefix of an internal record key, or -1 when it has none. */
function prefixLength(key: Buffer): number {
  if (!isRangeKey(key) || key.length < 6) return -1;
  const pl = 6 + key.readUInt32BE(2) + 8;
  return key.length >= pl ? pl : -1;
}

function idOf(slot: number, key: Buffer, pl: number): string {
  return `${slot}:${key.toString('latin1', 0, pl)}`;
}

function rangeId(slot: number, key: Buffer): string | undefined {
  const pl = prefixLength(key);
  return pl < 0 ? undefined : idOf(slot, key, pl);
}
