/**
 * Goal: as product-sim.test.ts, on 5 nodes (N=3, so every key has two nodes outside its preference
 * list, and two nodes may be down at once while a quorum stays reachable), with strict quorums
 * (product-sim-5-sloppy.test.ts runs the sloppy default).
 * Method: test/sim/product, one run per seed; SIM_SEED=<n> replays one, SIM_SEEDS=<count> runs more.
 */
import { describe, expect, it } from 'vitest';
import { runProductSim } from './product/run.js';
import { failures, figures, seedList, traceOptions } from './product/seeds.js';

const FILE = 'test/sim/product-sim-5.test.ts';

describe('product simulation, 5 nodes', () => {
  for (const seed of seedList(24, 100_001)) {
    it(`seed ${seed}`, async () => {
      const report = await runProductSim({ seed, nodes: 5, ...traceOptions() });
      console.log(figures(report));
      expect(failures(report), `replay: SIM_SEED=${seed} npx vitest run ${FILE}`).toEqual([]);
      expect(report.stats.checkedReplies, `seed ${seed}`).toBeGreaterThan(50);
      expect(report.stats.incrAcked, `seed ${seed}`).toBeGreaterThan(10);
    });
  }
});
