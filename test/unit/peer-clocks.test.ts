/**
 * Goal: a peer's instant maps onto this node's clock from link pings, erring late (never early) by
 * the fastest transit; pings held up by a partition do not hide the offset; a restarted peer's
 * samples start over; memory stays bounded.
 * Method: the pure PeerClocks fed hand-made ping times.
 */
import { describe, expect, it } from 'vitest';
import { PeerClocks } from '../../src/cluster/peer-clocks.js';

const OFFSET = 5_000; // this node's clock runs 5 s ahead of the peer's
const ORIGIN = 1_700_000_000_000;

describe('PeerClocks', () => {
  it('knows nothing before a ping, then maps late by the fastest transit', () => {
    const c = new PeerClocks();
    expect(c.toLocal('p', ORIGIN, 100)).toBeUndefined();
    c.note('p', ORIGIN, 1_000, 1_000 + OFFSET + 3); // 3 ms transit
    c.note('p', ORIGIN, 1_250, 1_250 + OFFSET + 1); // 1 ms transit
    c.note('p', ORIGIN, 1_500, 1_500 + OFFSET + 7);
    expect(c.toLocal('p', ORIGIN, 2_000)).toBe(2_000 + OFFSET + 1);
  });

  it('keeps the true offset when pings held up by a partition arrive in a burst', () => {
    const c = new PeerClocks();
    for (let t = 0; t < 20_000; t += 250) c.note('p', ORIGIN, t, t + OFFSET + 1);
    // 40 s cut off: every ping sent meanwhile arrives at once when the link heals.
    const healedAt = 60_000 + OFFSET;
    for (let t = 20_000; t < 60_000; t += 250) c.note('p', ORIGIN, t, healedAt);
    expect(c.toLocal('p', ORIGIN, 30_000)).toBe(30_000 + OFFSET + 1);
  });

  it('starts over for a peer that restarted (a new anchor)', () => {
    const c = new PeerClocks();
    c.note('p', ORIGIN, 1_000, 1_000 + OFFSET);
    expect(c.toLocal('p', ORIGIN + 60_000, 1_000)).toBeUndefined();
    c.note('p', ORIGIN + 60_000, 2_000, 2_000 + 7_000);
    expect(c.toLocal('p', ORIGIN + 60_000, 3_000)).toBe(3_000 + 7_000);
    expect(c.toLocal('p', ORIGIN, 3_000)).toBeUndefined();
  });

  it('forgets minutes-old samples, so a drifting clock is followed', () => {
    const c = new PeerClocks();
    c.note('p', ORIGIN, 0, OFFSET - 40); // an old, smaller difference
    for (let t = 400_000; t < 401_000; t += 250) c.note('p', ORIGIN, t, t + OFFSET);
    expect(c.toLocal('p', ORIGIN, 401_000)).toBe(401_000 + OFFSET);
  });

  it('ignores pings without a usable stamp', () => {
    const c = new PeerClocks();
    c.note('p', ORIGIN, Number.NaN, 10);
    expect(c.toLocal('p', ORIGIN, 0)).toBeUndefined();
  });
});
