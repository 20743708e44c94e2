// Goal: the soon-expiring heap hands out exactly the entries due, earliest first, whatever the
// insertion order. Method: a seeded random workload checked against a sorted list.
import { describe, expect, it } from 'vitest';
import { ExpiryHeap } from '../../src/storage/expiry-heap.js';

describe('ExpiryHeap', () => {
  it('pops only due entries, in expiry order', () => {
    const h = new ExpiryHeap();
    let seed = 12345;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const ats: number[] = [];
    for (let i = 0; i < 500; i++) {
      const at = Math.floor(rand() * 1000);
      ats.push(at);
      h.push(at, i % 16384, Buffer.from(`k${i}`));
    }
    ats.sort((a, b) => a - b);
    const popped: number[] = [];
    for (let now = 0; now < 1100; now += 97) {
      for (let e = h.popDue(now); e !== undefined; e = h.popDue(now)) {
        expect(e.at).toBeLessThanOrEqual(now);
        popped.push(e.at);
      }
      const next = ats[popped.length];
      if (next !== undefined) expect(next).toBeGreaterThan(now);
    }
    expect(popped).toEqual(ats);
    expect(h.size).toBe(0);
  });

  it('clear empties it', () => {
    const h = new ExpiryHeap();
    h.push(1, 0, Buffer.from('a'));
    h.clear();
    expect(h.popDue(10)).toBeUndefined();
  });
});
