/**
 * Goal: the product's own Dispatcher, CommandSequencer, ClusterRouter, Coordinator and replica apply
 * path keep their promises with pipelining clients on 3 nodes while the network drops, duplicates,
 * delays and reorders messages, partitions one way or both, clocks drift and jump, and nodes (one or
 * two at once) lose power with what they had not synced: every reply on a client's own keys equals a
 * sequential run of what that client sent; after healing, no acknowledged write is lost, every
 * counter lies between its acknowledged and its possibly-applied increments, and every replica holds
 * the same version of every key.
 * Method: test/sim/product (see docs/reliability.md), one run per seed. SIM_SEED=<n> replays one
 * exactly, SIM_SEEDS=<count> runs more (soak), SIM_STRICT=1 also fails on the known 'resurfaced' finding.
 */
import { describe, expect, it } from 'vitest';
import { runProductSim } from './product/run.js';
import { failures, figures, seedList, traceOptions } from './product/seeds.js';

const FILE = 'test/sim/product-sim.test.ts';

describe('product simulation, 3 nodes', () => {
  for (const seed of seedList(64, 1, [526])) {
    it(`seed ${seed}`, async () => {
      const report = await runProductSim({ seed, nodes: 3, ...traceOptions() });
      console.log(figures(report));
      expect(failures(report), `replay: SIM_SEED=${seed} npx vitest run ${FILE}`).toEqual([]);
      // The run must have exercised what it checks.
      expect(report.stats.checkedReplies, `seed ${seed}`).toBeGreaterThan(50);
      expect(report.stats.incrAcked, `seed ${seed}`).toBeGreaterThan(10);
    });
  }

  it('quorum reads waiting on a slow or lost replica ask one more (hedged reads), and the runs above check them', async () => {
    let hedged = 0;
    for (let seed = 1; seed <= 20 && hedged === 0; seed++) hedged += (await runProductSim({ seed, nodes: 3 })).stats.hedgedReads!;
    expect(hedged).toBeGreaterThan(0);
  });
});
