/**
 * Goal: a string stored in fragments reads, grows and changes exactly as a plain byte string, and a
 * write in place touches only the fragments it covers.
 * Method: seeded random SETRANGE / APPEND / byte edits applied through writeBytes and ByteEditor on
 * an in-memory keyspace and to a plain Buffer model side by side; after each step the whole value,
 * random ranges and chunk walks are compared; element reads and stored fragments are counted for
 * a write at a large offset.
 */
import { describe, expect, it } from 'vitest';
import { ByteEditor, FRAGMENT_BYTES, FRAGMENTED_ABOVE, StringValue, writeBytes } from '../../src/strings/fragmented-string.js';
import { countBits, findBit } from '../../src/strings/bits.js';
import { ValueType } from '../../src/commands/keyspace.js';
import { MemoryKeyspace } from '../helpers/memory-keyspace.js';
import { Prng } from '../sim/prng.js';

const KEY = Buffer.from('s');

function popcount(b: Buffer, lo: number, hi: number): number {
  let n = 0;
  for (let bit = lo; bit <= hi; bit++) n += (b[bit >> 3]! >> (7 - (bit & 7))) & 1;
  return n;
}

function firstBit(b: Buffer, bit: number, lo: number, hi: number): number {
  for (let i = lo; i <= hi; i++) if (((b[i >> 3]! >> (7 - (i & 7))) & 1) === bit) return i;
  return -1;
}

describe('fragmented strings', () => {
  it('behave as a plain byte string under random in-place writes', () => {
    for (const seed of [1, 2, 3, 4]) {
      const rng = new Prng(seed);
      const ks = new MemoryKeyspace();
      let model = Buffer.alloc(0);
      for (let step = 0; step < 150; step++) {
        const s = StringValue.open(ks, KEY);
        const r = rng.next();
        if (r < 0.4) {
          const offset = rng.int(0, rng.chance(0.2) ? 60_000 : 9000);
          const bytes = Buffer.from(Array.from({ length: rng.int(1, 3000) }, () => rng.int(0, 255)));
          writeBytes(ks, KEY, s, offset, bytes);
          const next = Buffer.alloc(Math.max(model.length, offset + bytes.length));
          model.copy(next);
          bytes.copy(next, offset);
          model = next;
        } else if (r < 0.55) {
          const bytes = Buffer.from(Array.from({ length: rng.int(0, 1500) }, () => rng.int(0, 255)));
          writeBytes(ks, KEY, s, s?.length ?? 0, bytes);
          model = Buffer.concat([model, bytes]);
        } else {
          const edits = new ByteEditor(s);
          const sets: Array<[number, number]> = [];
          let grow = 0;
          for (let n = rng.int(1, 5); n > 0; n--) {
            const at = rng.int(0, model.length + 5000);
            const value = rng.int(0, 255);
            edits.set(at, value);
            sets.push([at, value]);
            grow = Math.max(grow, at + 1);
          }
          const minLength = rng.int(0, model.length + 6000);
          edits.commit(ks, KEY, Math.max(grow, minLength));
          const next = Buffer.alloc(Math.max(model.length, grow, minLength));
          model.copy(next);
          for (const [at, value] of sets) next[at] = value;
          model = next;
        }
        const now = StringValue.open(ks, KEY)!;
        expect(now.length).toBe(model.length);
        expect(now.isFragmented).toBe(ks.get(KEY)!.type === ValueType.FragmentedString);
        if (model.length > FRAGMENTED_ABOVE) expect(now.isFragmented).toBe(true);
        const a = rng.int(0, model.length);
        const b = rng.int(a, model.length + 10);
        expect(now.read(a, b).equals(model.subarray(a, b))).toBe(true);
        if (model.length > 0) {
          const lo = rng.int(0, model.length * 8 - 1);
          const hi = rng.int(lo, model.length * 8 - 1);
          const src = (x: number, y: number, v: (at: number, bytes: Buffer | undefined, length: number) => boolean): void => now.chunks(x, y, v);
          expect(countBits(src, lo, hi)).toBe(popcount(model, lo, hi));
          expect(findBit(src, 1, lo, hi)).toBe(firstBit(model, 1, lo, hi));
          expect(findBit(src, 0, lo, hi)).toBe(firstBit(model, 0, lo, hi));
        }
        if (step % 50 === 0) expect(now.all().equals(model)).toBe(true);
      }
    }
  });

  it('a write at a large offset stores the metadata and one fragment, and reads only what is stored', () => {
    const ks = new MemoryKeyspace();
    writeBytes(ks, KEY, undefined, 500 * 1024 * 1024, Buffer.from([0x80]));
    expect(ks.get(KEY)!.type).toBe(ValueType.FragmentedString);
    expect(ks.elements.count).toBe(1);
    writeBytes(ks, KEY, StringValue.open(ks, KEY), 3 * FRAGMENT_BYTES + 5, Buffer.from([1]));
    expect(ks.elements.count).toBe(2);
    const s = StringValue.open(ks, KEY)!;
    expect(s.length).toBe(500 * 1024 * 1024 + 1);
    const before = ks.elements.reads;
    expect(countBits((a, b, v) => s.chunks(a, b, v), 0, s.length * 8 - 1)).toBe(2);
    expect(ks.elements.reads - before).toBeLessThanOrEqual(2);
  });
});
