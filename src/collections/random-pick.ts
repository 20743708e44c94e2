import type { Collection } from './collection.js';
import { ElementKind } from './record-keys.js';

/** Collections up to this size are sampled exactly (by index, or read whole for big counts); larger ones by random probes. */
const EXACT_SAMPLE_MAX = 1024;

export type Picked = [sub: Buffer, value: Buffer];

/** The bounds of member positions (memberPosition: an 8-byte hash, then the member). */
const HASH_SPACE_LOW = Buffer.alloc(8, 0x00);
const HASH_SPACE_HIGH = Buffer.alloc(8, 0xff);

/**
 * Random elements of a collection (HRANDFIELD, SRANDMEMBER, SPOP, ZRANDMEMBER). `distinct`: up to
 * `count` different elements (all of them when count >= size); otherwise exactly `count` picks
 * that may repeat. Small collections are sampled uniformly. A large one is probed at random
 * positions between its first and last stored position, O(count) reads: members are stored at
 * hashed positions (record-keys.ts), so every member is about equally likely; list positions are
 * dense, so a list's elements are too.
 */
export function randomElements(c: Collection, kind: ElementKind, count: number, distinct: boolean): Picked[] {
  if (count <= 0 || c.size === 0) return [];
  if (c.size <= EXACT_SAMPLE_MAX || (distinct && count * 2 >= c.size)) {
    // A small collection the store holds whole (range-windows.ts): picks by index, O(count).
    const held = c.size <= EXACT_SAMPLE_MAX ? c.held(kind) : undefined;
    if (held !== undefined) return pickHeld(held, count, distinct);
    // Few picks: draw indices, then walk to them from the nearer end, copying only the picks
    // (reading the whole collection for one SPOP cost O(size) copies per pop). Exactly uniform.
    if (count * 2 < c.size) {
      const picked = pickByIndex(c, kind, drawIndices(c.size, count, distinct));
      if (picked !== undefined) return picked;
    }
    const all = allElements(c, kind);
    if (distinct) {
      shuffle(all);
      return all.slice(0, count);
    }
    return Array.from({ length: count }, () => all[Math.floor(Math.random() * all.length)]!);
  }
  // Members sit at hash positions spread over the whole 8-byte space: a random point in it is as
  // good as one between the first and last member, without the two reads that find them. List
  // positions are dense in their own range, so that range is read first.
  const hashed = kind === ElementKind.Member;
  const first = hashed ? HASH_SPACE_LOW : edge(c, kind, false)?.position;
  const last = hashed ? HASH_SPACE_HIGH : edge(c, kind, true)?.position;
  if (first === undefined || last === undefined) return [];
  const out: Picked[] = [];
  const seen = new Set<string>();
  const take = (p: Found): boolean => {
    if (distinct) {
      const id = p.position.toString('latin1');
      if (seen.has(id)) return false;
      seen.add(id);
    }
    out.push([p.sub, p.value]);
    return true;
  };
  // Distinct picks stop probing after a bounded number of repeats...
  for (let probes = 0; out.length < count && probes < count * 4 + 64; probes++) {
    const p = probe(c, kind, between(first, last));
    if (p !== undefined) take(p);
  }
  // ...and take the rest walking on from a random position: positions are hashes, so a run of
  // them is a random run of members.
  if (distinct && out.length < count) {
    const from = between(first, last);
    const walk = (lo?: Buffer, hi?: Buffer): void => c.scan(kind, (sub, value, position) => {
      take({ sub: Buffer.from(sub), value, position: Buffer.from(position) });
      return out.length < count;
    }, { lo, hi });
    walk(from);
    if (out.length < count) walk(undefined, from);
  }
  return out;
}

interface Found {
  sub: Buffer;
  value: Buffer;
  position: Buffer;
}

/** Picks from a collection held whole: uniform, as the walks below, without walking. */
function pickHeld(held: { count: number; at(i: number): [Buffer, Buffer, Buffer] }, count: number, distinct: boolean): Picked[] {
  const n = held.count;
  if (n === 0) return [];
  const pick = (i: number): Picked => {
    const [sub, value] = held.at(i);
    return [sub, value];
  };
  if (!distinct) return drawIndices(n, count, false).map(pick);
  if (count * 2 < n) return drawIndices(n, count, true).map(pick);
  const all = Array.from({ length: n }, (_, i) => i);
  shuffle(all);
  return all.slice(0, count).map(pick);
}

/** `count` indices in [0, size), in the order drawn; distinct ones when asked (count < size). */
function drawIndices(size: number, count: number, distinct: boolean): number[] {
  const out: number[] = [];
  const taken = distinct ? new Set<number>() : undefined;
  while (out.length < count) {
    const i = Math.floor(Math.random() * size);
    if (taken !== undefined) {
      if (taken.has(i)) continue;
      taken.add(i);
    }
    out.push(i);
  }
  return out;
}

/**
 * The elements at the given indices, in the order given, read in one walk from whichever end is
 * nearer to all of them. Undefined when the walk found fewer elements than the count said.
 */
function pickByIndex(c: Collection, kind: ElementKind, indices: readonly number[]): Picked[] | undefined {
  let lowest = c.size;
  let highest = -1;
  for (const i of indices) {
    if (i < lowest) lowest = i;
    if (i > highest) highest = i;
  }
  const reverse = c.size - lowest < highest + 1;
  const wanted = new Map<number, Picked | undefined>(indices.map((i) => [reverse ? c.size - 1 - i : i, undefined]));
  const last = reverse ? c.size - 1 - lowest : highest;
  let at = 0;
  c.scan(kind, (sub, value) => {
    if (wanted.has(at)) wanted.set(at, [Buffer.from(sub), value]);
    return at++ < last;
  }, { reverse });
  if (at <= last) return undefined;
  return indices.map((i) => wanted.get(reverse ? c.size - 1 - i : i)!);
}

function allElements(c: Collection, kind: ElementKind): Picked[] {
  const all: Picked[] = [];
  c.scan(kind, (sub, value) => {
    all.push([Buffer.from(sub), value]);
    return true;
  });
  return all;
}

function edge(c: Collection, kind: ElementKind, reverse: boolean): Found | undefined {
  let hit: Found | undefined;
  c.scan(kind, (sub, value, position) => {
    hit = { sub: Buffer.from(sub), value, position: Buffer.from(position) };
    return false;
  }, { reverse });
  return hit;
}

/** The first element stored at or after `at`, wrapping to the first element. */
function probe(c: Collection, kind: ElementKind, at: Buffer): Found | undefined {
  let hit: Found | undefined;
  c.scan(kind, (sub, value, position) => {
    hit = { sub: Buffer.from(sub), value, position: Buffer.from(position) };
    return false;
  }, { lo: at, once: true });
  return hit ?? edge(c, kind, false);
}

/** A random byte string between lo and hi in byte order (lo <= result <= hi), each byte uniform in what remains allowed. */
function between(lo: Buffer, hi: Buffer): Buffer {
  const n = Math.max(lo.length, hi.length);
  const out: number[] = [];
  let atLo = true;
  let atHi = true;
  for (let i = 0; i < n; i++) {
    // Still equal to hi's prefix and hi ends here: any further byte would pass hi.
    if (atHi && i >= hi.length) break;
    const a: number = atLo ? (lo[i] ?? 0) : 0;
    const b: number = atHi ? hi[i]! : 255;
    const v: number = a + Math.floor(Math.random() * (b - a + 1));
    out.push(v);
    atLo = atLo && v === a;
    atHi = atHi && v === b;
  }
  return Buffer.from(out);
}

function shuffle<T>(a: T[]): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
}
