/**
 * Goal: a peer whose link goes silent leaves routing within about a second at the default node
 * timeout, and comes back only after it has been heard continuously for a while (hysteresis);
 * this node's own pause is not taken for everyone else's silence.
 * Method: drive LinkHealth with scripted pings and evaluations on a fake clock (it is pure) and
 * read the events and the routable verdicts.
 */
import { describe, expect, it } from 'vitest';
import { LinkHealth, linkHealthOptions, type LinkEvent } from '../../src/cluster/link-health.js';

const OPTIONS = linkHealthOptions(15_000);
/** The default settings without the warm-up, which one test covers on its own. */
const DEFAULTS = { ...OPTIONS, warmUpMs: 0 };
const P = DEFAULTS.pingIntervalMs;

/** Pings from every peer in `from` and an evaluation every ping interval, from `t0` to `t1`; returns the events. */
function run(h: LinkHealth, t0: number, t1: number, from: readonly string[]): LinkEvent[] {
  const events: LinkEvent[] = [];
  for (let t = t0; t < t1; t += P) {
    for (const peer of from) h.ping(peer, t, false);
    events.push(...h.evaluate(t));
  }
  return events;
}

function firstSuspicion(h: LinkHealth, start: number, peer: string): number {
  for (let t = start; t < start + 60_000; t += 10) {
    if (h.evaluate(t).some((e) => e.peer === peer && e.kind === 'suspected')) return t;
  }
  throw new Error('never suspected');
}

describe('linkHealthOptions', () => {
  it('pings several times a second and suspects within 2 s at the default node timeout', () => {
    expect(P).toBe(150);
    expect(DEFAULTS.suspectAfterMs).toBe(2000);
    expect(DEFAULTS.healthyForMs).toBe(3000);
    const fast = linkHealthOptions(2000);
    expect(fast.pingIntervalMs).toBe(50);
    expect(fast.suspectAfterMs).toBe(2000);
    expect(fast.healthyForMs).toBe(1000);
  });
});

describe('LinkHealth', () => {
  it('keeps a peer that pings steadily and suspects it about 1.5 s after it falls silent', () => {
    const h = new LinkHealth(DEFAULTS);
    h.track('b', 0);
    expect(run(h, 0, 10_000, ['b'])).toEqual([]);
    expect(h.routable('b')).toBe(true);
    const lastPing = 10_000 - P;
    const at = firstSuspicion(h, 10_000, 'b');
    const silence = at - lastPing;
    // phi crosses 8 long before the hard cap, but not before the floor.
    expect(silence).toBeGreaterThanOrEqual(DEFAULTS.minSilenceMs);
    expect(silence).toBeGreaterThan(1300);
    expect(silence).toBeLessThan(1800);
    expect(h.routable('b')).toBe(false);
    expect(h.suspected('b')).toBe(true);
  });

  it('suspects at the hard cap a peer whose irregular pings blunt phi', () => {
    const h = new LinkHealth(DEFAULTS);
    h.track('b', 0);
    // Gaps of 50 ms and 1 500 ms in turn: a wide deviation, phi grows slowly.
    let t = 0;
    for (let i = 0; i < 40; i++) {
      h.ping('b', t, false);
      h.evaluate(t);
      t += i % 2 === 0 ? 50 : 1500;
    }
    expect(h.routable('b')).toBe(true);
    const last = t - 1500;
    const at = firstSuspicion(h, last + 10, 'b');
    expect(at - last).toBeGreaterThanOrEqual(DEFAULTS.suspectAfterMs);
    expect(at - last).toBeLessThan(DEFAULTS.suspectAfterMs + 20);
  });

  it('counts any frame as a sign of life, not only pings', () => {
    const h = new LinkHealth(DEFAULTS);
    h.track('b', 0);
    run(h, 0, 3000, ['b']);
    // Pings stop (queued behind big frames) but responses keep arriving.
    for (let t = 3000; t < 8000; t += 20) {
      h.heard('b', t);
      expect(h.evaluate(t)).toEqual([]);
    }
    expect(h.routable('b')).toBe(true);
  });

  it('brings a suspected peer back only after it has been heard continuously for healthyForMs', () => {
    const h = new LinkHealth(DEFAULTS);
    h.track('b', 0);
    run(h, 0, 3000, ['b']);
    firstSuspicion(h, 3000, 'b');
    // One lucky ping after the partition, then silence again: not routable.
    h.ping('b', 8000, false);
    expect(h.evaluate(8000)).toEqual([]);
    expect(h.routable('b')).toBe(false);
    expect(run(h, 8000 + P, 10_000, [])).toEqual([]);
    expect(h.routable('b')).toBe(false);
    // Steady pings from 10 s: back once healthyForMs has passed, not before.
    const events = run(h, 10_000, 10_000 + DEFAULTS.healthyForMs + 2 * P, ['b']);
    expect(events).toEqual([{ peer: 'b', kind: 'recovered' }]);
    expect(h.routable('b')).toBe(true);
  });

  it('gives up the link of a suspected peer once, when its silence reaches the request deadline', () => {
    const h = new LinkHealth(DEFAULTS);
    h.track('b', 0);
    run(h, 0, 3000, ['b']);
    const events: LinkEvent[] = [];
    for (let t = 3000; t < 8000; t += 10) events.push(...h.evaluate(t));
    expect(events.map((e) => e.kind)).toEqual(['suspected', 'unreachable']);
    const unreachable = events[1] as { silenceMs: number };
    expect(unreachable.silenceMs).toBeGreaterThanOrEqual(DEFAULTS.unreachableAfterMs);
    expect(unreachable.silenceMs).toBeLessThan(DEFAULTS.unreachableAfterMs + 20);
    // Heard again, then silent again: given up once more.
    h.ping('b', 8000, false);
    const again: LinkEvent[] = [];
    for (let t = 8000; t < 11_000; t += 10) again.push(...h.evaluate(t));
    expect(again.map((e) => e.kind)).toEqual(['unreachable']);
  });

  it('does not bring back a flickering link: every gap restarts the healthy period', () => {
    const h = new LinkHealth(DEFAULTS);
    h.track('b', 0);
    run(h, 0, 3000, ['b']);
    firstSuspicion(h, 3000, 'b');
    let t = 10_000;
    const events: LinkEvent[] = [];
    // 2 s of pings, 2 s of silence, repeatedly: never 3 s healthy in a row.
    for (let round = 0; round < 5; round++) {
      events.push(...run(h, t, t + 2000, ['b']));
      events.push(...run(h, t + 2000, t + 4000, []));
      t += 4000;
    }
    expect(events.filter((e) => e.kind === 'recovered')).toEqual([]);
    expect(h.routable('b')).toBe(false);
  });

  it('does not suspect peers for the time this node itself was paused', () => {
    const h = new LinkHealth(DEFAULTS);
    h.track('b', 0);
    h.track('c', 0);
    run(h, 0, 5000, ['b', 'c']);
    // Our event loop stood still for 4 s: the next evaluation comes late, before the frames
    // queued meanwhile are read.
    expect(h.evaluate(5000 - P + 4000)).toEqual([]);
    expect(h.routable('b')).toBe(true);
    // Once the backlog is read the peers are current again.
    expect(run(h, 9000, 12_000, ['b', 'c'])).toEqual([]);
    // A silence that starts after the pause is still caught.
    expect(firstSuspicion(h, 12_000, 'c')).toBeLessThan(12_000 + DEFAULTS.suspectAfterMs);
  });

  it('still suspects a silent peer on a node whose evaluations keep coming late', () => {
    const h = new LinkHealth(DEFAULTS);
    h.track('b', 0);
    run(h, 0, 3000, ['b']);
    // Every evaluation 600 ms after the last (a loaded event loop): each gap counts as a pause,
    // but the silence before each one still adds up.
    let t = 3000;
    let suspectedAt: number | undefined;
    while (suspectedAt === undefined && t < 20_000) {
      t += 600;
      if (h.evaluate(t).some((e) => e.kind === 'suspected')) suspectedAt = t;
    }
    expect(suspectedAt).toBeDefined();
    expect(suspectedAt! - 3000).toBeLessThan(4000);
  });

  it('records at once that a peer says it is cut off, and when it says otherwise; the link stays healthy', () => {
    const h = new LinkHealth(DEFAULTS);
    h.track('b', 0);
    run(h, 0, 2000, ['b']);
    h.ping('b', 2000, true);
    expect(h.claimsIsolation('b')).toBe(true);
    expect(h.routable('b')).toBe(true);
    h.ping('b', 2000 + P, false);
    expect(h.claimsIsolation('b')).toBe(false);
  });

  it('leaves a peer never heard from, one just heard, and untracked ones, to membership', () => {
    const h = new LinkHealth(OPTIONS);
    h.track('b', 1000);
    // While a cluster forms, a peer may learn of us a gossip round after we learnt of it.
    expect(h.evaluate(1000 + 10 * DEFAULTS.suspectAfterMs)).toEqual([]);
    expect(h.routable('b')).toBe(true);
    // Once heard, it is judged after the warm-up (a node that has just started stalls now and then).
    h.heard('b', 20_000);
    expect(firstSuspicion(h, 20_000, 'b') - 20_000).toBe(OPTIONS.warmUpMs);
    const w = new LinkHealth(OPTIONS);
    w.track('c', 0);
    run(w, 0, OPTIONS.warmUpMs, ['c']);
    expect(firstSuspicion(w, OPTIONS.warmUpMs, 'c') - OPTIONS.warmUpMs).toBeLessThan(1800);
    expect(h.routable('unknown')).toBe(true);
    h.forget('b');
    expect(h.tracked()).toEqual([]);
  });
});
