/**
 * Fault scenarios at the settings users run: no server setting but the node's address, port and
 * directory, so `cluster-node-timeout` 15000, `appendfsync always` and sloppy quorums (hinted
 * handoff) are the product's defaults. Four nodes, so that with N=3 a fallback node exists and
 * sloppy quorums actually engage. One fault per run, held longer than the node timeout so that
 * the failure detector declares it and the slots fail over before the heal.
 * The workload: single-command clients and pipelined clients (raw pipelines and ioredis).
 */
import { expect } from 'vitest';
import { describeViolations, formatFigures, runScenario, type FaultKind, type ScenarioSpec } from './fault-scenario.js';
import type { Partitioner } from './fault-net.js';

/** The product's default `cluster-node-timeout`. */
export const DEFAULT_NODE_TIMEOUT_MS = 15_000;
/** Load time of a run: calm 2–3 s, the fault held 17–19 s, a calm tail of at least 6 s. */
export const DEFAULTS_DURATION_MS = 30_000;
/**
 * Test timeout: the load, a healthy view after healing (a node flagged failed is cleared once
 * it answers again, which can take a node timeout), the grace period, the final passes, start
 * and stop of four nodes on a loaded 2-core machine.
 */
export const DEFAULTS_TEST_TIMEOUT_MS = DEFAULTS_DURATION_MS + 240_000;

export function defaultsSpec(name: string, fault: FaultKind, hosts: readonly string[], seed: number, partitioner: Partitioner | undefined, keepArtifacts: boolean): ScenarioSpec {
  return {
    name, fault, hosts, seed, durationMs: DEFAULTS_DURATION_MS,
    clients: 4, keys: 24, r: 2, w: 2, n: 3,
    // A client waits longer than the node timeout would take to move a slot, as default clients do.
    opTimeoutMs: 5000,
    calmMs: [2000, 3000], holdMs: [DEFAULT_NODE_TIMEOUT_MS + 2000, DEFAULT_NODE_TIMEOUT_MS + 4000], tailMs: 6000, maxFaults: 1,
    nodeTimeoutMs: DEFAULT_NODE_TIMEOUT_MS,
    healthyTimeoutMs: 90_000,
    graceMs: 30_000,
    // Sloppy quorums with a fallback node: read-your-writes is not promised (docs/reliability.md).
    readYourWritesPromised: false,
    pipelined: { pipelineClients: 3, ioredisClients: 2 },
    partitioner, keepArtifacts,
  };
}

export async function checkDefaults(spec: ScenarioSpec, baseSeed: number): Promise<void> {
  const result = await runScenario(spec);
  console.log(formatFigures(result.figures));
  expect(result.violations, `${spec.name} seed ${result.figures.seed}: rerun with FAULT_SEED=${baseSeed}\n${describeViolations(result)}`).toBe(0);
  expect(result.grace.agree, `replicas still divergent after the grace period: ${result.grace.detail}`).toBe(true);
  expect(result.figures.faults, 'the nemesis injected a fault').toBe(1);
  expect(result.figures.ackedWrites, 'the workload made progress').toBeGreaterThan(100);
  expect(result.figures.ackedDuringFaults, 'writes were acknowledged while the fault was active').toBeGreaterThan(0);
  expect(result.figures.pipeline!.batches, 'the pipelined clients made progress').toBeGreaterThan(50);
}
