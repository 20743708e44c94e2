/**
 * Goal: a node begins catching up exactly when it comes back — the first time it reaches the
 * majority after a restart, each time it reaches it again after being cut off, and after a stall of
 * its own longer than its peers wait — and never when a new cluster forms.
 * Method: the pure ComingBack decision fed routing views and stalls as the cluster node feeds it.
 */
import { describe, expect, it } from 'vitest';
import { ComingBack } from '../../src/cluster/coming-back.js';

describe('ComingBack', () => {
  it('a new cluster forming is not coming back; being cut off and rejoining is', () => {
    const c = new ComingBack(false);
    expect(c.routed(true)).toBeUndefined(); // alone at start, links not up yet
    expect(c.routed(false)).toBeUndefined(); // reached the majority for the first time
    expect(c.routed(false)).toBeUndefined();
    expect(c.routed(true)).toBeUndefined(); // cut off
    expect(c.routed(true)).toBeUndefined();
    expect(c.routed(false)).toBe('isolation');
    expect(c.routed(false)).toBeUndefined();
  });

  it('a restart catches up the first time the majority is reached, whether or not it was isolated first', () => {
    const a = new ComingBack(true);
    expect(a.routed(false)).toBe('restart');
    expect(a.routed(false)).toBeUndefined();
    const b = new ComingBack(true);
    expect(b.routed(true)).toBeUndefined();
    expect(b.routed(false)).toBe('restart');
    expect(b.routed(true)).toBeUndefined();
    expect(b.routed(false)).toBe('isolation');
  });

  it('a stall counts once, only when long enough, and only once the node has served', () => {
    const c = new ComingBack(false);
    expect(c.stalled({ fromMs: 0, toMs: 5000 }, 1500)).toBe(false); // never served yet
    c.routed(false);
    expect(c.stalled(undefined, 1500)).toBe(false);
    expect(c.stalled({ fromMs: 0, toMs: 5000 }, 1500)).toBe(false); // already looked at
    expect(c.stalled({ fromMs: 6000, toMs: 7000 }, 1500)).toBe(false); // too short
    expect(c.stalled({ fromMs: 8000, toMs: 9600 }, 1500)).toBe(true);
    expect(c.stalled({ fromMs: 8000, toMs: 9600 }, 1500)).toBe(false);
  });
});
