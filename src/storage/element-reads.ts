import { rangeEdges } from './dead-runs.js';
import { lowerBound, RangeWindows, type WindowEntry } from './range-windows.js';
import { ValueType, type ScanRangeOptions, type StoredRecord } from './types.js';

/**
 * Element reads as commands make them (a chunk of a collection's elements at a time), served
 * from the stretches of element ranges held in memory (range-windows.ts) where they can be, and
 * otherwise by the store's range scan, whose results feed the windows. The store keeps the
 * windows exact: every write it installs is noted in them.
 */

/** How small() reads a range it does not hold: values alone, without filling the range cache. */
const WHOLE_SCAN = { valuesOnly: true, cached: false } as const;

/** Elements a read past the end of a window reads at least, to extend it (range-windows.ts). */
const READ_AHEAD = 32;

const ZERO = Buffer.from([0]);


/** What a read found: the elements, and where a read for more goes on. */
export interface ElementRead {
  /** [record key, value] in scan order; keys and values never change. */
  entries: Array<[Buffer, Buffer]>;
  /** The new start (forward) or end (reverse) of a read for more; undefined: nothing is left. */
  next: Buffer | undefined;
}

/** A scan's read, and what it covered as a window (none when a key too long for byte order was met). */
interface ScannedRead {
  read: ElementRead;
  long: boolean;
  window?: { entries: WindowEntry[]; lo: string; hi: string };
}

/** A scan's entries as a window holds them: ascending, each with its id. */
function windowEntries(entries: ReadonlyArray<[Buffer, Buffer]>, reverse: boolean): WindowEntry[] {
  const held: WindowEntry[] = entries.map(([key, value]) => ({ id: key.toString('latin1'), key, value }));
  if (reverse) held.reverse();
  return held;
}

/** The store's range scan (Store.scanRange). */
export type RangeScan = (
  slot: number, start: Buffer, end: Buffer, reverse: boolean, visit: (key: Buffer, record: StoredRecord) => boolean, options?: ScanRangeOptions,
) => void;

export class ElementReader {
  readonly windows = new RangeWindows();

  constructor(
    private readonly scan: RangeScan,
    /** Record keys longer than this come out of scans in digest order: their ranges are not held. */
    private readonly inlineMax: number,
  ) {}

  /**
   * Up to `n` live Element records of [start, end) in scan order (descending when `reverse`),
   * and where a read for more goes on. What a scan would find, but served from the range's
   * window when one covers the read's start (range-windows.ts): a read that comes back to where
   * the last one was (a pop from either end, ZRANGE 0 9, LRANGE 0 99) costs a binary search, and
   * a read past a window's end reads ahead to extend it. A read makes a window when its range
   * has none, when it starts at the range's edge, or when it starts nearer the edge than a window
   * that has served nothing lately. `options` as the scan's; `once` reads plainly.
   */
  read(slot: number, start: Buffer, end: Buffer, reverse: boolean, n: number, options: ScanRangeOptions): ElementRead {
    const edges = options.once === true ? undefined : rangeEdges(slot, start, end, this.inlineMax);
    if (edges === undefined) return this.scanned(slot, start, end, reverse, n, options).read;
    const { range } = edges;
    const startId = start.toString('latin1');
    const endId = end.toString('latin1');
    let w = this.windows.get(range, reverse);
    // Served when the window holds the read's start, or ends right there (a read on past it).
    if (w === undefined || !(reverse ? w.lo <= endId && endId <= w.hi : w.lo <= startId && startId <= w.hi)) {
      // Held from here on: a read from the range's edge (pops), or one nearer to it than the old
      // window that this window gives way to (a list's head moved by pushes). A read beyond the
      // window (the rest of a long scan) leaves it where the reads come back to.
      const nearer = w === undefined || (reverse ? endId > w.hi : startId < w.lo);
      const hold = (reverse ? edges.atEnd : edges.atStart) || (nearer && this.windows.missed(range, reverse));
      const { read, window } = this.scanned(slot, start, end, reverse, n, options, hold);
      if (window !== undefined) this.windows.set(range, reverse, window.entries, window.lo, window.hi);
      return read;
    }
    this.windows.served(range, reverse);
    const out: Array<[Buffer, Buffer]> = [];
    // The next id to take: forward, the first at or above it; reverse, the last below it.
    let cursor = reverse ? endId : startId;
    let lastTaken: Buffer | undefined;
    for (;;) {
      const { entries } = w;
      let i = lowerBound(entries, cursor);
      if (reverse) {
        for (i--; i >= 0 && out.length < n && entries[i]!.id >= startId; i--) {
          const e = entries[i]!;
          out.push([e.key, e.value]);
          lastTaken = e.key;
          cursor = e.id;
        }
      } else {
        for (; i < entries.length && out.length < n && entries[i]!.id < endId; i++) {
          const e = entries[i]!;
          out.push([e.key, e.value]);
          lastTaken = e.key;
          cursor = e.id + '\0';
        }
      }
      if (out.length >= n) return { entries: out, next: reverse ? lastTaken : Buffer.concat([lastTaken!, ZERO]) };
      // The window ends inside the read: read on past it, ahead, and extend the window.
      const far = reverse ? w.lo : w.hi;
      if (reverse ? far <= startId : far >= endId) return { entries: out, next: undefined };
      const farKey = Buffer.from(far, 'latin1');
      const want = Math.max(n - out.length, READ_AHEAD);
      // A full window cannot take more: the scan then only reads, without making window entries.
      const room = this.windows.room(range, reverse) > 0;
      const { read, window } = this.scanned(slot, reverse ? start : farKey, reverse ? farKey : end, reverse, want, options, room);
      if (window === undefined || !this.windows.extend(range, reverse, far, window.entries, reverse ? window.lo : window.hi)) {
        // Not held (the window is full): what the scan found, as far as the read wants.
        const want = n - out.length;
        for (const e of read.entries.slice(0, want)) out.push(e);
        if (read.entries.length <= want) return { entries: out, next: read.next };
        const last = out[out.length - 1]![0];
        return { entries: out, next: reverse ? last : Buffer.concat([last, ZERO]) };
      }
      w = this.windows.get(range, reverse)!;
    }
  }

  /**
   * The live Element records of one whole element range [start, end) (a collection's elements of
   * one kind) in key order, when it holds at most 1,024 of them; undefined for a bigger range or
   * bounds that are not one whole range. Held and kept up to date by every write
   * (range-windows.ts): a random pick from a small collection reads one by index.
   */
  small(slot: number, start: Buffer, end: Buffer): readonly WindowEntry[] | undefined {
    const edges = rangeEdges(slot, start, end, this.inlineMax);
    if (edges === undefined || !edges.atStart || !edges.atEnd) return undefined;
    const { range } = edges;
    const startId = start.toString('latin1');
    const endId = end.toString('latin1');
    const held = this.windows.get(range, false);
    if (held !== undefined && held.lo === startId && held.hi === endId) return held.entries;
    if (this.windows.isBig(range)) return undefined;
    const { read, long } = this.scanned(slot, start, end, false, this.windows.maxEntries + 1, WHOLE_SCAN);
    if (read.next !== undefined) {
      this.windows.markBig(range);
      return undefined;
    }
    if (long) return undefined;
    const entries = windowEntries(read.entries, false);
    this.windows.set(range, false, entries, startId, endId);
    // What the window holds (its own copies), or, when it was too big to hold, what the scan found.
    return this.windows.get(range, false)?.entries ?? entries;
  }

  /**
   * Up to `n` live Element records found by a scan, whether it met a key too long for byte order,
   * and (when `hold`) the span it covered as a window.
   */
  private scanned(slot: number, start: Buffer, end: Buffer, reverse: boolean, n: number, options: ScanRangeOptions, hold = false): ScannedRead {
    const entries: Array<[Buffer, Buffer]> = [];
    let last: Buffer | undefined;
    let full = false;
    let long = false;
    this.scan(slot, start, end, reverse, (rk, rec) => {
      last = rk;
      if (rk.length > this.inlineMax) long = true;
      if (rec.type !== ValueType.Element) return true;
      // Both sources hand out keys that never change (a memtable entry's bytes, or a private
      // copy of an LMDB entry): kept as they are, not copied again.
      entries.push([rk, rec.value as Buffer]);
      full = entries.length >= n;
      return !full;
    }, options);
    const stop: Buffer | undefined = last;
    const next = !full || stop === undefined ? undefined : reverse ? stop : Buffer.concat([stop, ZERO]);
    const read: ElementRead = { entries, next };
    if (!hold || long || options.once === true) return { read, long };
    // The span the scan covered: from its start to the element it stopped on, or all of it.
    const lo = reverse && next !== undefined ? stop!.toString('latin1') : start.toString('latin1');
    const hi = !reverse && next !== undefined ? stop!.toString('latin1') + '\0' : end.toString('latin1');
    return { read, long, window: { entries: windowEntries(entries, reverse), lo, hi } };
  }
}
