import type { Collection } from './collection.js';
import type { ElementKind } from './record-keys.js';

/** Collections up to this size are sampled exactly (read whole); larger ones by random probes. */
const EXACT_SAMPLE_MAX = 1024;

export type Picked = [sub: Buffer, value: Buffer];

/**
 * Random elements of a collection (HRANDFIELD, SRANDMEMBER, SPOP, ZRANDMEMBER). `distinct`: up to
 * `count` different elements (all of them when count >= size); otherwise exactly `count` picks
 * that may repeat. Small collections are sampled uniformly. A large one is probed at random
 * positions between its first and last sub-key, which costs O(count) reads but favours elements
 * that follow a wide gap in byte order (docs/decisions.md, "Collections").
 */
export function randomElements(c: Collection, kind: ElementKind, count: number, distinct: boolean): Picked[] {
  if (count <= 0 || c.size === 0) return [];
  if (c.size <= EXACT_SAMPLE_MAX || (distinct && count * 2 >= c.size)) {
    const all = allElements(c, kind);
    if (distinct) {
      shuffle(all);
      return all.slice(0, count);
    }
    return Array.from({ length: count }, () => all[Math.floor(Math.random() * all.length)]!);
  }
  const first = edge(c, kind, false);
  const last = edge(c, kind, true);
  if (first === undefined || last === undefined) return [];
  const out: Picked[] = [];
  const seen = new Set<string>();
  // Distinct picks stop after a bounded number of probes even if they keep hitting the same elements.
  for (let probes = 0; out.length < count && probes < count * 8 + 64; probes++) {
    const p = probe(c, kind, between(first[0], last[0]));
    if (p === undefined) continue;
    if (distinct) {
      const id = p[0].toString('latin1');
      if (seen.has(id)) continue;
      seen.add(id);
    }
    out.push(p);
  }
  return out;
}

function allElements(c: Collection, kind: ElementKind): Picked[] {
  const all: Picked[] = [];
  c.scan(kind, (sub, value) => {
    all.push([Buffer.from(sub), value]);
    return true;
  });
  return all;
}

function edge(c: Collection, kind: ElementKind, reverse: boolean): Picked | undefined {
  let hit: Picked | undefined;
  c.scan(kind, (sub, value) => {
    hit = [Buffer.from(sub), value];
    return false;
  }, { reverse });
  return hit;
}

/** The first element at or after `at`, wrapping to the first element. */
function probe(c: Collection, kind: ElementKind, at: Buffer): Picked | undefined {
  let hit: Picked | undefined;
  c.scan(kind, (sub, value) => {
    hit = [Buffer.from(sub), value];
    return false;
  }, { lo: at });
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
