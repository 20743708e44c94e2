/**
 * Goal: the gossip membership and a Dynamo N=3/W=2/R=2 replication model built on it keep their
 * promises under drops, duplicates, delays, partitions and crash/restart: (a) after faults stop,
 * every node's view converges (same ring, same generation/status/epoch per member, all peers ok)
 * within CONVERGE_LIMIT_MS; (b) no acknowledged write is lost, no read misses a write acknowledged
 * before it started, and read repair leaves the replicas identical; (c) a crashed node rejoins with
 * a higher generation that every node sees.
 * Method: the seeded simulation in cluster-sim.ts, one run per seed (SIM_SEED=<n> replays one,
 * SIM_SEEDS=<count> runs more), printing per-seed figures. Then the same runs with the model broken
 * on purpose, to show the checks catch lost writes when the model loses them.
 */
import { describe, expect, it } from 'vitest';
import { CONVERGE_LIMIT_MS, type ModelBug, type SimReport, runSimulation } from './cluster-sim.js';
import { envInt } from '../helpers/env.js';


const replaySeed = envInt('SIM_SEED');
const seeds: number[] = replaySeed !== undefined
  ? [replaySeed]
  : Array.from({ length: envInt('SIM_SEEDS') ?? 20 }, (_, i) => i + 1);

function figures(r: SimReport): string {
  const s = r.stats;
  return [
    `seed=${r.seed} nodes=${s.nodes} events=${s.events}`,
    `bus=${s.busMessages} (gossip ${s.gossipMessages}) dropped=${s.dropped} dup=${s.duplicated} drop-rate=${s.dropRate}`,
    `partitions=${s.partitions} crashes=${s.crashes}`,
    `writes acked/failed/unknown=${s.writesAcked}/${s.writesFailed}/${s.writesUnknown}`,
    `reads ok/failed=${s.readsOk}/${s.readsFailed} moved=${s.moved} repairs=${s.readRepairs}`,
    `bootstrap=${s.bootstrapMs ?? '-'}ms heal-converge=${s.healConvergeMs ?? '-'}ms`,
    `lww-inversions=${r.check.lwwInversions} trace=${r.trace}`,
  ].join(' | ');
}

function replay(seed: number, bug: ModelBug = 'none'): string {
  return `replay: SIM_SEED=${seed} npx vitest run test/sim${bug === 'none' ? '' : ` (bug ${bug})`}`;
}

describe('cluster simulation', () => {
  for (const seed of seeds) {
    it(`seed ${seed}`, () => {
      const report = runSimulation({ seed });
      console.log(figures(report));
      expect(report.violations, replay(seed)).toEqual([]);
      expect(report.stats.bootstrapMs, replay(seed)).toBeLessThanOrEqual(CONVERGE_LIMIT_MS);
      expect(report.stats.healConvergeMs, replay(seed)).toBeLessThanOrEqual(CONVERGE_LIMIT_MS);
      // The run must have exercised what it checks.
      expect(report.stats.crashes, replay(seed)).toBeGreaterThan(0);
      expect(report.stats.partitions, replay(seed)).toBeGreaterThan(0);
      expect(report.stats.writesAcked, replay(seed)).toBeGreaterThan(50);
      expect(report.stats.readsOk, replay(seed)).toBeGreaterThan(50);
    });
  }

  it('replays a seed exactly, and different seeds differ', () => {
    const a = runSimulation({ seed: 7, workloadMs: 5000 });
    const b = runSimulation({ seed: 7, workloadMs: 5000 });
    const c = runSimulation({ seed: 8, workloadMs: 5000 });
    expect(b.trace).toBe(a.trace);
    expect(b.stats).toEqual(a.stats);
    expect(c.trace).not.toBe(a.trace);
  });
});

describe('the checks catch a broken model', () => {
  const proofSeeds = Array.from({ length: 20 }, (_, i) => i + 1);

  it('reports lost writes when replicas acknowledge writes they silently drop', () => {
    const reports = proofSeeds.map((seed) => runSimulation({ seed, bug: 'replica-drops-writes' }));
    for (const r of reports) {
      console.log(`replica-drops-writes seed=${r.seed}: lost=${r.check.lostWrites.length} stale=${r.check.staleReads.length} under-replicated=${r.underReplicated}`);
    }
    expect(reports.some((r) => r.check.lostWrites.length > 0)).toBe(true);
    expect(reports.every((r) => r.violations.length > 0)).toBe(true);
  });

  it('reports stale reads or under-replication when the coordinator acknowledges after one ack', () => {
    const reports = proofSeeds.map((seed) => runSimulation({ seed, bug: 'ack-after-one' }));
    for (const r of reports) {
      console.log(`ack-after-one seed=${r.seed}: lost=${r.check.lostWrites.length} stale=${r.check.staleReads.length} under-replicated=${r.underReplicated}`);
    }
    expect(reports.some((r) => r.check.staleReads.length > 0)).toBe(true);
    expect(reports.some((r) => r.underReplicated > 0)).toBe(true);
  });
});
