/**
 * Goal: the product's promises hold while the member set changes under load: a node joins with an
 * empty disk and a member leaves for good (RINGKV.LEAVE, then stopped with its disk gone) while
 * clients pipeline and the network, clocks and disks misbehave as in product-sim.test.ts. No
 * acknowledged write lost (also for keys whose slots moved to the new node or away from the leaving
 * one), per-connection order, increments exactly once, replicas converging under the final
 * topology, no deleted key back, and reads at the default quorums seeing every acknowledged write
 * once the change is over.
 * Method: test/sim/product with `membership: true` (one run per seed; 3 nodes become 4 then 3
 * again, 5 nodes lose one and gain one in either order; strict quorums, and on 5 nodes also the
 * sloppy default, whose hints for the node that left are dropped). SIM_SEED=<n> replays one seed,
 * SIM_SEEDS=<count> SIM_SEED_BASE=<n> soaks.
 */
import { describe, expect, it } from 'vitest';
import { runProductSim } from './product/run.js';
import { failures, figures, seedList, traceOptions } from './product/seeds.js';

const FILE = 'test/sim/product-sim-membership.test.ts';

describe('product simulation, nodes joining and leaving', () => {
  // 800116 and 800130: reads that skipped the node that left, though it held acknowledged writes
  // (SlotTable `departed`); 800005: replies late after a leave.
  for (const seed of seedList(7, 800_001, [800_116, 800_130])) {
    it(`3 nodes, seed ${seed}`, async () => {
      const report = await runProductSim({ seed, nodes: 3, membership: true, ...traceOptions() });
      console.log(figures(report));
      expect(failures(report), `replay: SIM_SEED=${seed} npx vitest run ${FILE} -t '3 nodes'`).toEqual([]);
      expect(report.stats.joins, `seed ${seed}`).toBe(1);
      expect(report.stats.leaves, `seed ${seed}`).toBe(1);
      expect(report.stats.checkedReplies, `seed ${seed}`).toBeGreaterThan(50);
    });
  }
  // 900033: a node that left kept coordinating under the lease it held before, and could not
  // count the writes it acknowledged itself (LeaseService.current).
  for (const seed of seedList(3, 900_001, [900_033])) {
    it(`5 nodes strict, seed ${seed}`, async () => {
      const report = await runProductSim({ seed, nodes: 5, membership: true, ...traceOptions() });
      console.log(figures(report));
      expect(failures(report), `replay: SIM_SEED=${seed} npx vitest run ${FILE} -t '5 nodes strict'`).toEqual([]);
      expect(report.stats.joins, `seed ${seed}`).toBe(1);
      expect(report.stats.leaves, `seed ${seed}`).toBe(1);
      expect(report.stats.checkedReplies, `seed ${seed}`).toBeGreaterThan(50);
    });
  }
  for (const seed of seedList(2, 910_001)) {
    it(`5 nodes sloppy, seed ${seed}`, async () => {
      const report = await runProductSim({ seed, nodes: 5, membership: true, sloppy: true, ...traceOptions() });
      console.log(figures(report));
      expect(failures(report), `replay: SIM_SEED=${seed} npx vitest run ${FILE} -t '5 nodes sloppy'`).toEqual([]);
      expect(report.stats.joins, `seed ${seed}`).toBe(1);
      expect(report.stats.leaves, `seed ${seed}`).toBe(1);
      expect(report.stats.checkedReplies, `seed ${seed}`).toBeGreaterThan(50);
    });
  }
});

describe('membership runs replay', () => {
  it('the same seed gives the same run, join, leave and rebalance included, whatever the real clock says', async () => {
    const a = await runProductSim({ seed: 800_003, nodes: 3, membership: true });
    const b = await runProductSim({ seed: 800_003, nodes: 3, membership: true });
    expect(a.stats.rebalanceSlotsCompared).toBeGreaterThan(0);
    expect(b.digest).toBe(a.digest);
    expect(b.stats).toEqual(a.stats);
    expect(b.violations).toEqual(a.violations);
    // Whatever the real clock and Math.random say.
    const realNow = Date.now;
    const realRandom = Math.random;
    let x = 0;
    Date.now = () => realNow() + 10 * 86_400_000;
    Math.random = () => (x = (x + 0.618_033_988_7) % 1);
    try {
      const c = await runProductSim({ seed: 800_003, nodes: 3, membership: true });
      expect(c.digest).toBe(a.digest);
      expect(c.stats).toEqual(a.stats);
    } finally {
      Date.now = realNow;
      Math.random = realRandom;
    }
  });
});
