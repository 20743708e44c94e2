import { ElementKind } from '../collections/record-keys.js';
import { spreadHash32 } from './spread-hash.js';

/**
 * Deeper anti-entropy digests for large slots: a 64-ary tree of XOR digests over a record's
 * *position*, grown only where records are many.
 *
 * The slot's 64 buckets (merkle.ts) stay as they are, for peers of earlier releases. Beside them a
 * slot holding at least `splitRecords` records gets a tree: its root has 64 digests, one per value
 * of the position's top 6 bits; a digest whose records pass `splitRecords` gets a node of 64
 * digests over the next 6 bits, and so on to MAX_DEPTH levels. Every digest is the XOR of the
 * entry hashes (xxh64(key ‖ version), the same as the buckets') under it, so a node's 64 digests
 * XOR to its parent's digest, and one write updates one digest per level in O(depth). A node that
 * falls below a quarter of the threshold is dropped, so the tree follows the data down too.
 *
 * A record's position is the 32-bit hash that collections already store their members under
 * (`memberPosition`: hash fields, set and sorted-set members sit at xxh64(member) ‖ member), read
 * straight from the record key, and a hash of the key for every other record. So the records under
 * one digest of a big hash or set are one contiguous key range per collection, and listing them is
 * a seek and a short scan rather than a walk of the whole slot (anti-entropy.ts, listLeaves).
 *
 * A node's digests cannot be derived from its parent's: a new node is filled by a scan of the slot
 * (the tracker's split scan) while writes keep arriving. Until that scan is done the node is
 * `building`: writes to keys the scan has not reached yet are left to the scan, and comparisons
 * treat its parent digest as a leaf. No per-record state is kept anywhere.
 */

export const FANOUT = 64;
const DIGIT_BITS = 6;
/** Digits of the longest path: 4 levels of 64 split a slot in up to 16.7 million leaves. */
export const MAX_DEPTH = 4;
/** A digest covering more records than this is split in 64 (when the node budget allows). */
export const DEFAULT_SPLIT_RECORDS = 512;
/** At most this many nodes in all (each 64 × 12 bytes plus its header: about 0.8 KB, so ~13 MB). */
export const DEFAULT_MAX_NODES = 16_384;

/** A digest address inside a slot: the digits from the root down (empty = the root). */
export type Path = readonly number[];

/**
 * A record key's position: the member hash a Member element record key carries (record-keys.ts:
 * 0xFF ‖ kind ‖ u32 length ‖ key ‖ 8-byte generation ‖ hash ‖ member), else a hash of the key.
 */
export function positionOf(key: Uint8Array): number {
  const at = memberHashAt(key);
  if (at !== undefined) return ((key[at]! << 24) | (key[at + 1]! << 16) | (key[at + 2]! << 8) | key[at + 3]!) >>> 0;
  return keyHash32(key);
}

/**
 * Where the member hash starts in a Member element record key (= the length of the prefix shared
 * by the collection's members), or undefined for any other record key.
 */
export function memberHashAt(key: Uint8Array): number | undefined {
  if (key.length < 6 || key[0] !== 0xff || key[1] !== ElementKind.Member) return undefined;
  const len = ((key[2]! << 24) | (key[3]! << 16) | (key[4]! << 8) | key[5]!) >>> 0;
  const at = 6 + len + 8;
  return at + 4 <= key.length ? at : undefined;
}

/** Its own basis, so a key's position does not follow its bucket: spread is all that matters. */
function keyHash32(key: Uint8Array): number {
  return spreadHash32(key, 0x9e3779b9);
}

/** The digit of `position` at `depth` (0 = the root's). */
export function digitAt(position: number, depth: number): number {
  return (position >>> (32 - DIGIT_BITS * (depth + 1))) & (FANOUT - 1);
}

/** Whether the record at `position` lies under the digest at `path`. */
export function underPath(position: number, path: Path): boolean {
  for (let d = 0; d < path.length; d++) if (digitAt(position, d) !== path[d]) return false;
  return true;
}

/** The positions under `path`: [lo, hi), hi up to 2^32. */
export function pathInterval(path: Path): [number, number] {
  let lo = 0;
  for (let d = 0; d < path.length; d++) lo += path[d]! * 2 ** (32 - DIGIT_BITS * (d + 1));
  return [lo, lo + 2 ** (32 - DIGIT_BITS * path.length)];
}

/** Paths' intervals sorted and merged, for walking keys in position order. */
export function pathIntervals(paths: readonly Path[]): Array<[number, number]> {
  const sorted = paths.map(pathInterval).sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && lo <= last[1]) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

/** The first interval that holds `position` or lies after it; intervals.length when none. */
export function intervalFrom(intervals: ReadonlyArray<[number, number]>, position: number): number {
  let lo = 0;
  let hi = intervals.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (intervals[mid]![1] <= position) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function isPath(p: unknown): p is number[] {
  return Array.isArray(p) && p.length < MAX_DEPTH && p.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0 && d < FANOUT);
}

export function isLeafPath(p: unknown): p is number[] {
  return Array.isArray(p) && p.length <= MAX_DEPTH && p.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0 && d < FANOUT);
}

interface DeepNode {
  /** 64 digests as big-endian 64-bit words, kept in wire order. */
  readonly digests: Buffer;
  readonly counts: Uint32Array;
  children: Map<number, DeepNode> | undefined;
  building: boolean;
}

export interface DeepOptions {
  /** Records above which a digest is split; 0 = no deeper digests at all. */
  splitRecords?: number;
  maxNodes?: number;
}

/** Every slot's tree; see the module comment. Pure: no I/O, no clock. */
export class DeepDigests {
  readonly splitRecords: number;
  readonly maxNodes: number;
  private readonly roots = new Map<number, DeepNode>();
  /** Slots with a digest past the threshold and no node under it yet: the split scan's queue. */
  private readonly wanting = new Set<number>();
  private nodeCount = 0;

  constructor(options: DeepOptions = {}) {
    this.splitRecords = options.splitRecords ?? DEFAULT_SPLIT_RECORDS;
    this.maxNodes = options.maxNodes ?? DEFAULT_MAX_NODES;
    if (!Number.isInteger(this.splitRecords) || this.splitRecords < 0) throw new RangeError(`split records must be a non-negative integer: ${this.splitRecords}`);
  }

  get nodes(): number {
    return this.nodeCount;
  }

  /** Below this a node is dropped (a quarter of the threshold, so a digest does not flap). */
  private get mergeBelow(): number {
    return Math.floor(this.splitRecords / 4);
  }

  private get enabled(): boolean {
    return this.splitRecords > 0;
  }

  /** Whether a change in `slot` (holding `slotEntries` records after it) concerns the deeper digests at all. */
  tracks(slot: number, slotEntries: number): boolean {
    return this.enabled && (slotEntries >= this.splitRecords || this.roots.has(slot));
  }

  /**
   * Applies one entry change: `hi`/`lo` are the XOR of the old and new entry hashes (either may be
   * absent), `delta` the change in the slot's record count (-1, 0, +1), `slotEntries` the count
   * after it. `passed`: the slot's split scan (if any) has already read this key, so building
   * nodes take the change too; otherwise the scan will read its final state.
   */
  apply(slot: number, position: number, hi: number, lo: number, delta: number, slotEntries: number, passed: boolean): void {
    if (!this.enabled) return;
    const root = this.roots.get(slot);
    if (root === undefined) {
      if (slotEntries >= this.splitRecords) this.wanting.add(slot);
      return;
    }
    if (!root.building && slotEntries < this.mergeBelow) {
      this.drop(slot);
      return;
    }
    if (root.building && !passed) return;
    let node = root;
    for (let depth = 0; ; depth++) {
      const digit = digitAt(position, depth);
      const at = digit * 8;
      node.digests.writeUInt32BE((node.digests.readUInt32BE(at) ^ hi) >>> 0, at);
      node.digests.writeUInt32BE((node.digests.readUInt32BE(at + 4) ^ lo) >>> 0, at + 4);
      const count = (node.counts[digit] = node.counts[digit]! + delta);
      const child = node.children?.get(digit);
      if (child === undefined) {
        if (count >= this.splitRecords && depth + 1 < MAX_DEPTH && !node.building) this.wanting.add(slot);
        return;
      }
      if (!child.building && count < this.mergeBelow) {
        this.release(node, digit);
        return;
      }
      if (child.building && !passed) return;
      node = child;
    }
  }

  /** The first slot waiting for a split scan, if any. */
  nextWanting(): number | undefined {
    for (const slot of this.wanting) return slot;
    return undefined;
  }

  /** Takes a slot out of the split queue without splitting (it failed too often). */
  unqueue(slot: number): void {
    this.wanting.delete(slot);
  }

  /**
   * Creates the building nodes of one split scan of `slot`: the root when the slot has none, else a
   * node under every digest past the threshold, and under siblings past half of it (they are
   * usually about to pass it: one scan instead of one per digest). Returns how many it created; 0
   * leaves the slot out of the queue.
   */
  beginSplit(slot: number, slotEntries: number): number {
    this.wanting.delete(slot);
    if (!this.enabled || this.building(slot)) return 0;
    const root = this.roots.get(slot);
    if (root === undefined) {
      if (slotEntries < this.splitRecords || this.nodeCount >= this.maxNodes) return 0;
      this.roots.set(slot, this.allocate());
      return 1;
    }
    let created = 0;
    const visit = (node: DeepNode, depth: number): void => {
      if (depth + 1 >= MAX_DEPTH) return;
      const due = node.counts.some((c, d) => c >= this.splitRecords && node.children?.get(d) === undefined);
      for (let d = 0; d < FANOUT; d++) {
        const child = node.children?.get(d);
        if (child !== undefined) {
          visit(child, depth + 1);
          continue;
        }
        if (!due || node.counts[d]! * 2 < this.splitRecords || this.nodeCount >= this.maxNodes) continue;
        (node.children ??= new Map()).set(d, this.allocate());
        created++;
      }
    };
    visit(root, 0);
    return created;
  }

  /** Whether a split scan of `slot` is under way (some node of it is building). */
  building(slot: number): boolean {
    const root = this.roots.get(slot);
    if (root === undefined) return false;
    const any = (node: DeepNode): boolean => node.building || [...(node.children?.values() ?? [])].some(any);
    return any(root);
  }

  /** The split scan read a record: added to the building node on its path, if any. */
  addScanned(slot: number, position: number, hi: number, lo: number): void {
    let node = this.roots.get(slot);
    for (let depth = 0; node !== undefined; depth++) {
      const digit = digitAt(position, depth);
      if (node.building) {
        const at = digit * 8;
        node.digests.writeUInt32BE((node.digests.readUInt32BE(at) ^ hi) >>> 0, at);
        node.digests.writeUInt32BE((node.digests.readUInt32BE(at + 4) ^ lo) >>> 0, at + 4);
        node.counts[digit]!++;
        return;
      }
      node = node.children?.get(digit);
    }
  }

  /**
   * The split scan of `slot` is complete: every building node becomes comparable if its digests
   * add up to its parent's (the XOR and count of its 64 digests equal the parent digest's; for the
   * root, the slot's `total` XOR and `entries`), and is dropped otherwise (a change it missed;
   * the slot is queued again). Returns how many nodes were dropped.
   */
  finishSplit(slot: number, total: Buffer, entries: number): number {
    const root = this.roots.get(slot);
    if (root === undefined) return 0;
    let dropped = 0;
    const check = (node: DeepNode, parentDigest: Buffer, parentCount: number): boolean => {
      const [x, n] = summary(node);
      return n === parentCount && x.equals(parentDigest);
    };
    if (root.building) {
      root.building = false;
      if (!check(root, total, entries)) {
        this.drop(slot);
        this.wanting.add(slot);
        return 1;
      }
      if (this.due(root, 0)) this.wanting.add(slot);
      return 0;
    }
    const visit = (node: DeepNode): void => {
      for (const [d, child] of node.children ?? []) {
        if (!child.building) {
          visit(child);
          continue;
        }
        child.building = false;
        if (!check(child, node.digests.subarray(d * 8, d * 8 + 8), node.counts[d]!)) {
          this.release(node, d);
          dropped++;
        }
      }
    };
    visit(root);
    if (dropped > 0 || this.due(root, 0)) this.wanting.add(slot);
    return dropped;
  }

  /** Whether some digest under `node` is past the threshold with no node under it, and may get one. */
  private due(node: DeepNode, depth: number): boolean {
    if (depth + 1 >= MAX_DEPTH || this.nodeCount >= this.maxNodes) return false;
    for (let d = 0; d < FANOUT; d++) {
      const child = node.children?.get(d);
      if (child !== undefined ? this.due(child, depth + 1) : node.counts[d]! >= this.splitRecords) return true;
    }
    return false;
  }

  /**
   * The 64 digests of the comparable node at `path`, or undefined when there is none (the digest
   * at `path` is a leaf here).
   */
  children(slot: number, path: Path): Buffer | undefined {
    const node = this.nodeAt(slot, path);
    return node === undefined || node.building ? undefined : node.digests;
  }

  /** Records under the digest at `path` (the slot's count for the root is the caller's). */
  countAt(slot: number, path: Path): number | undefined {
    if (path.length === 0) return undefined;
    const parent = this.nodeAt(slot, path.slice(0, -1));
    return parent === undefined || parent.building ? undefined : parent.counts[path[path.length - 1]!];
  }

  /** Forgets a slot's tree (its last record is gone, FLUSHALL). */
  drop(slot: number): void {
    const root = this.roots.get(slot);
    if (root === undefined) return;
    this.nodeCount -= size(root);
    this.roots.delete(slot);
    this.wanting.delete(slot);
  }

  private nodeAt(slot: number, path: Path): DeepNode | undefined {
    let node = this.roots.get(slot);
    for (const d of path) {
      if (node === undefined || node.building) return undefined;
      node = node.children?.get(d);
    }
    return node;
  }

  private release(parent: DeepNode, digit: number): void {
    const child = parent.children?.get(digit);
    if (child === undefined) return;
    this.nodeCount -= size(child);
    parent.children!.delete(digit);
    if (parent.children!.size === 0) parent.children = undefined;
  }

  private allocate(): DeepNode {
    this.nodeCount++;
    return { digests: Buffer.alloc(FANOUT * 8), counts: new Uint32Array(FANOUT), children: undefined, building: true };
  }
}

/** XOR of a node's digests and the sum of its counts. */
function summary(node: DeepNode): [Buffer, number] {
  const x = Buffer.alloc(8);
  let n = 0;
  for (let d = 0; d < FANOUT; d++) {
    x.writeUInt32BE((x.readUInt32BE(0) ^ node.digests.readUInt32BE(d * 8)) >>> 0, 0);
    x.writeUInt32BE((x.readUInt32BE(4) ^ node.digests.readUInt32BE(d * 8 + 4)) >>> 0, 4);
    n += node.counts[d]!;
  }
  return [x, n];
}

function size(node: DeepNode): number {
  let n = 1;
  for (const c of node.children?.values() ?? []) n += size(c);
  return n;
}
