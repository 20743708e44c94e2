/**
 * Goal: as product-sim-catch-up.test.ts, on 5 nodes with the default sloppy quorums: a node coming
 * back also waits until no reachable peer holds hints for it (the `h` flag of their pings) before it
 * coordinates, and reads at `read-quorum 1` through it then see what was acknowledged while it was
 * away; every other property of the product simulation holds as well.
 * Method: runProductSim with catchUp 'on', 5 nodes, sloppy quorums (docs/reliability.md), one run
 * per seed. SIM_SEED=<n> replays one exactly, SIM_SEEDS=<count> runs more (soak).
 */
import { describe, expect, it } from 'vitest';
import { runProductSim } from './product/run.js';
import { failures, figures, seedList, traceOptions } from './product/seeds.js';

const FILE = 'test/sim/product-sim-catch-up-5-sloppy.test.ts';

describe('product simulation with coming back, 5 nodes, sloppy quorums', () => {
  for (const seed of seedList(10, 700_001)) {
    it(`seed ${seed}`, async () => {
      const report = await runProductSim({ seed, nodes: 5, sloppy: true, catchUp: 'on', ...traceOptions() });
      console.log(figures(report));
      expect(failures(report), `replay: SIM_SEED=${seed} npx vitest run ${FILE}`).toEqual([]);
      expect(report.stats.checkedReplies, `seed ${seed}`).toBeGreaterThan(50);
      expect(report.stats.freshReads, `seed ${seed}`).toBeGreaterThan(100);
    });
  }
});
