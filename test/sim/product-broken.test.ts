/**
 * Goal: each property check of the product simulation can fail — the same runs with the product
 * broken on purpose in the one way each check exists to catch — and a seed replays exactly.
 * Method: runProductSim with a Breakage (test/sim/product/broken.ts) over fixed seeds; each check
 * must report its violation kind on some seed (the ones with a visible effect on every run: on all).
 * And a run is a function of its seed alone: the same seed gives the same run, whatever the real
 * clock and Math.random say.
 */
import { describe, expect, it } from 'vitest';
import { runProductSim, type ViolationKind } from './product/run.js';
import type { Breakage } from './product/broken.js';

const SEEDS = Array.from({ length: 10 }, (_, i) => i + 1);
/**
 * Membership runs whose rebalance, broken on purpose, loses acknowledged writes. Which seeds show
 * it moves with any change to the messages a run sends: when read repair stopped racing writes on
 * their way, 800007 no longer did, and of 800001-800024 these two and 800010 do.
 */
const NO_HANDOFF_SEEDS = [800_003, 800_004];

async function kindsFound(bug: Breakage, nodes: 3 | 5 = 3): Promise<Array<Set<ViolationKind>>> {
  const found: Array<Set<ViolationKind>> = [];
  for (const seed of SEEDS) {
    const r = await runProductSim({ seed, nodes, bug });
    const kinds = new Set(r.violations.map((v) => v.kind));
    console.log(`${bug} seed=${seed}: ${[...kinds].join(', ') || 'nothing'} (${r.violations.length})`);
    found.push(kinds);
  }
  return found;
}

/** The first seed (from 1) whose run with `bug` reports `kind`, trying at most `maxSeeds`. */
async function firstSeedShowing(bug: Breakage, kind: ViolationKind, maxSeeds: number): Promise<number | undefined> {
  for (let seed = 1; seed <= maxSeeds; seed++) {
    const r = await runProductSim({ seed, nodes: 3, bug });
    if (r.violations.some((v) => v.kind === kind)) {
      console.log(`${bug}: ${kind} on seed ${seed}`);
      return seed;
    }
  }
  return undefined;
}

describe('the product simulation catches a broken product', () => {
  it('per-connection order: a sequencer that runs a connection\'s commands concurrently', async () => {
    const found = await kindsFound('concurrent-sequencer');
    expect(found.every((k) => k.has('order'))).toBe(true);
  });

  it('no increment lost: a coordinator without key locks', async () => {
    const found = await kindsFound('no-key-locks');
    expect(found.every((k) => k.has('increment'))).toBe(true);
  });

  it('no acknowledged write lost: fsync that acknowledges what never reaches the disk', async () => {
    // Only a run whose crashes take every copy of an acknowledged write shows it: some seeds do.
    expect(await firstSeedShowing('lying-fsync', 'lost-write', 40)).toBeDefined();
  });

  it('fresh reads after coming back: nodes that take their slots back without catching up (cluster-catch-up-timeout-ms 0)', async () => {
    // The same runs as product-sim-catch-up.test.ts, with catching up switched off: a node back from
    // a restart or a partition coordinates at once, and R=1 reads through it miss writes made without it.
    const stale: number[] = [];
    for (const seed of SEEDS) {
      const r = await runProductSim({ seed, nodes: 3, catchUp: 'off' });
      if (r.violations.some((v) => v.kind === 'stale-read')) stale.push(seed);
    }
    console.log(`catch-up off: stale-read on seeds ${stale.join(', ')}`);
    expect(stale.length).toBeGreaterThanOrEqual(2);
    // With it on, the same seeds read fresh (the check itself is not what fails): every one keeps
    // the promise, and in at least two the probe checked reads (a run with catching up takes another
    // course, which need not give the probe a node back from being away).
    let probed = 0;
    for (const seed of stale.slice(0, 4)) {
      const r = await runProductSim({ seed, nodes: 3, catchUp: 'on' });
      expect(r.violations.filter((v) => v.kind === 'stale-read'), `seed ${seed} with catching up`).toEqual([]);
      if (r.stats.freshChecked > 0) probed++;
    }
    expect(probed).toBeGreaterThanOrEqual(2);
  }, 240_000);

  it('no acknowledged write lost across a join and a leave: a rebalance that moves nothing', async () => {
    // The membership runs of product-sim-membership.test.ts, with every gained slot reported synced
    // without being compared: rebalance windows close at once and the new node serves its slots
    // empty. Of seeds 800001-800008 two show it (reads at R=2 missing acknowledged writes);
    // runs are deterministic, so CI replays those two. With the rebalance in
    // place the same seeds keep every promise (as all 60 of 800001-800060 do).
    for (const seed of NO_HANDOFF_SEEDS) {
      const r = await runProductSim({ seed, nodes: 3, membership: true, bug: 'no-handoff' });
      const kinds = new Set(r.violations.map((v) => v.kind));
      console.log(`no-handoff seed=${seed}: ${[...kinds].join(', ') || 'nothing'} (${r.violations.length})`);
      expect([...kinds].some((k) => k === 'quorum-read' || k === 'lost-write' || k === 'increment' || k === 'order'), `seed ${seed}`).toBe(true);
      const good = await runProductSim({ seed, nodes: 3, membership: true });
      expect(good.violations, `seed ${seed} with the rebalance`).toEqual([]);
    }
  }, 120_000);

  it('replicas converge: a replica that acknowledges writes it does not store', async () => {
    const found = await kindsFound('replica-forgets');
    expect(found.every((k) => k.has('diverged'))).toBe(true);
  });
});

describe('determinism', () => {
  it('replays a seed exactly, and different seeds differ', async () => {
    const a = await runProductSim({ seed: 7, nodes: 3 });
    const b = await runProductSim({ seed: 7, nodes: 3 });
    const c = await runProductSim({ seed: 8, nodes: 3 });
    expect(b.digest).toBe(a.digest);
    expect(b.stats).toEqual(a.stats);
    expect(b.violations).toEqual(a.violations);
    expect(c.digest).not.toBe(a.digest);
  });

  it('replays a seed exactly with coming back on (catch-ups, relays and the R=1 probe included)', async () => {
    const a = await runProductSim({ seed: 500_004, nodes: 3, catchUp: 'on' });
    const b = await runProductSim({ seed: 500_004, nodes: 3, catchUp: 'on' });
    expect(a.stats.catchUps).toBeGreaterThan(0);
    expect(b.digest).toBe(a.digest);
    expect(b.stats).toEqual(a.stats);
    expect(b.violations).toEqual(a.violations);
  });

  it('depends on neither the real clock nor Math.random', async () => {
    const a = await runProductSim({ seed: 11, nodes: 5 });
    const realNow = Date.now;
    const realRandom = Math.random;
    let x = 0;
    Date.now = () => realNow() + 10 * 86_400_000;
    Math.random = () => (x = (x + 0.618_033_988_7) % 1);
    try {
      const b = await runProductSim({ seed: 11, nodes: 5 });
      expect(b.digest).toBe(a.digest);
      expect(b.stats).toEqual(a.stats);
    } finally {
      Date.now = realNow;
      Math.random = realRandom;
    }
  });
});
