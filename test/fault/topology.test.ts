/**
 * Goal: the promises of the fault suite (no acknowledged write lost, no deleted key returning,
 * read-your-writes with W=2, R=2 over N=3, every slot's replicas agreeing on a Merkle digest once
 * healed) also hold while the ring changes under load and while node clocks disagree.
 * Method: real node processes under the same workload and checkers as nemesis.test.ts, with one
 * topology change per run: (a) a fourth node started without seeds and introduced with CLUSTER MEET
 * during load; (b) one of four nodes decommissioned with RINGKV.LEAVE during load, kept running as
 * an old replica until no member has slots moving or queued, then stopped; (c) kill -9 and restart
 * while two of three nodes run skewed clocks (debug-clock-offset-ms, one ahead, one behind).
 * The rebalance window is shortened to 5 s so that slots finish moving inside a 25 s run; the
 * handover itself is what is tested, not how long the window lasts.
 * Knobs: FAULT_SEED=<n> replays a schedule, FAULT_SCENARIOS=join,leave,skew-kill9,join-read picks some,
 * FAULT_KEEP_ARTIFACTS=1 keeps history and node logs of passing runs too.
 */
import { describe, expect, it } from 'vitest';
import { buildTopology } from '../../src/cluster/ring.js';
import { keySlot } from '../../src/cluster/slot.js';
import { FaultCluster } from '../helpers/fault-cluster.js';
import { FaultClusterClient, nodeCall } from '../helpers/fault-client.js';
import { describeViolations, formatFigures, runScenario, type FaultKind, type ScenarioSpec } from '../helpers/fault-scenario.js';
import { envInt } from '../helpers/env.js';

const durationMs = 17_000;
const baseSeed = envInt('FAULT_SEED') ?? Date.now() % 1_000_000;
const selected = new Set((process.env.FAULT_SCENARIOS ?? 'join,leave,skew-kill9,join-read').split(',').map((s) => s.trim()));
const keepArtifacts = process.env.FAULT_KEEP_ARTIFACTS === '1';

// 127.0.0.31-35 belong to this file (nemesis 11-15, targeted 21-23): no packet filter is used
// here, but distinct addresses keep port probing and node logs apart from files running beside it.
// Any 127.0.0.0/8 address is local on Linux; elsewhere only 127.0.0.1 is certain.
const address = (i: number): string => (process.platform === 'linux' ? `127.0.0.${31 + i}` : '127.0.0.1');
const hosts = (from: number, count: number): string[] => Array.from({ length: count }, (_, i) => address(from + i));

const testTimeout = durationMs + 120_000;
/**
 * The default rebalance window: it ends when every node reports the slots it gained synced (its
 * 10-minute cap is far beyond the run), so the scenarios also check that this happens under load.
 */
const topologyArgs: string[] = [];
/** Skews for the clock scenario: node 1 runs ahead, node 2 behind, node 3 on time. */
const SKEW_MS: Record<number, number> = { 1: 1500, 2: -1500 };

interface Variant {
  name: string;
  fault: FaultKind;
  hosts: string[];
  spareHosts?: string[];
  maxFaults?: number;
  extraArgs?: string[];
  nodeArgs?: (index: number) => readonly string[];
}

function spec(v: Variant, offset: number): ScenarioSpec {
  const r = 2;
  const w = 2;
  const n = 3;
  return {
    name: v.name, fault: v.fault, hosts: v.hosts, spareHosts: v.spareHosts, maxFaults: v.maxFaults,
    seed: baseSeed + offset, durationMs, clients: 6, keys: 24, r, w, n, opTimeoutMs: 3000,
    holdMs: [4500, 6000], calmMs: [2000, 3500], tailMs: 4000,
    extraArgs: v.extraArgs, nodeArgs: v.nodeArgs,
    // Strict quorums: a 4-node ring has fallbacks, and sloppy hints break read-your-writes (reliability.md).
    readYourWritesPromised: w + r > n,
    keepArtifacts,
  };
}

async function check(v: Variant, offset: number): Promise<void> {
  const result = await runScenario(spec(v, offset));
  console.log(formatFigures(result.figures));
  expect(result.violations, `${v.name} seed ${result.figures.seed}: rerun with FAULT_SEED=${baseSeed} FAULT_SCENARIOS=${v.name}\n${describeViolations(result)}`).toBe(0);
  expect(result.merkle.checked && result.merkle.agree, result.merkle.detail).toBe(true);
  expect(result.figures.faults, 'the topology change or fault happened').toBeGreaterThan(0);
  expect(result.figures.ackedWrites, 'the workload made progress').toBeGreaterThan(100);
  expect(result.figures.ackedDuringFaults, 'writes were acknowledged during the change').toBeGreaterThan(0);
  if (v.fault === 'join' || v.fault === 'leave') expect(result.figures.keysMoved, 'the change moved some keys of the workload').toBeGreaterThan(0);
}

describe(`topology changes and skewed clocks under load (N=3, W=2, R=2; base seed ${baseSeed})`, () => {
  it.skipIf(!selected.has('join'))('a fourth node joins with CLUSTER MEET during load; slots rebalance onto it', () =>
    check({
      name: 'join', fault: 'join', hosts: hosts(0, 3), spareHosts: hosts(3, 1), maxFaults: 1,
      extraArgs: [...topologyArgs, '--cluster-sloppy-quorum', 'no'],
    }, 0), testTimeout);

  it.skipIf(!selected.has('leave'))('one of four nodes is decommissioned with RINGKV.LEAVE during load, stopped once its slots moved', () =>
    check({
      name: 'leave', fault: 'leave', hosts: hosts(0, 4), maxFaults: 1,
      extraArgs: [...topologyArgs, '--cluster-sloppy-quorum', 'no'],
    }, 1), testTimeout);

  it.skipIf(!selected.has('skew-kill9'))('kill -9 and restart while one node runs 1.5 s ahead and one 1.5 s behind', () =>
    check({
      name: 'skew-kill9', fault: 'kill9', hosts: hosts(0, 3),
      nodeArgs: (i) => (SKEW_MS[i] !== undefined ? ['--debug-clock-offset-ms', String(SKEW_MS[i])] : []),
    }, 2), testTimeout);
});

/**
 * Deterministic: what the join scenario meets only by chance. A key written while one of its
 * replicas (Y) was down sits on the other two (X and Z) only; anti-entropy is off, so Y stays
 * behind. A fourth node D joins and becomes the key's primary, the new preference list being
 * D, Y, X: Z is no longer a replica. D reads with R=2: itself (empty) and one more. Unless D asks
 * the owner the slot moved away from (Z) first, that one more is Y, and the acknowledged value
 * reads as missing. D's rebalance window used to start from its placement before it met anyone,
 * itself alone, so it had no old owner to ask.
 */
describe('a node that just joined reads from the owners a slot moved away from', () => {
  it.skipIf(!selected.has('join-read'))('an acknowledged write missing on the lagging new replica is read through the joined primary', async () => {
    const vnodes = 128;
    const cluster = await FaultCluster.start({ hosts: hosts(0, 3), extraArgs: ['--anti-entropy-interval-ms', '0', '--cluster-sloppy-quorum', 'no'] });
    try {
      const d = await cluster.startAlone(address(3));
      const id = async (n: { address: { host: string; port: number } }): Promise<string> => String((await nodeCall(n.address, [['CLUSTER', 'MYID']]))[0]);
      const ids = await Promise.all(cluster.nodes.map(id));
      const old = buildTopology(ids.slice(0, 3).map((i) => ({ id: i })), { n: 3, vnodes });
      const next = buildTopology(ids.map((i) => ({ id: i })), { n: 3, vnodes });
      const dId = ids[3]!;
      let key = '';
      for (let i = 0; i < 100_000 && !key; i++) {
        const k = `join-read:${i}`;
        const slot = keySlot(Buffer.from(k));
        if (next.preferenceList(slot)[0] === dId && old.preferenceList(slot).some((o) => !next.preferenceList(slot).includes(o))) key = k;
      }
      expect(key, 'a key whose slot D takes over as primary').not.toBe('');
      const slot = keySlot(Buffer.from(key));
      const byId = (i: string) => cluster.nodes[ids.indexOf(i)]!;
      const y = byId(next.preferenceList(slot)[1]!);

      // The write reaches X and Z only: Y is down.
      await y.kill9();
      const writer = new FaultClusterClient({ seeds: cluster.nodes.slice(0, 3).filter((n) => n !== y).map((n) => n.address), r: 2, w: 2, opTimeoutMs: 5000 });
      await writer.refreshSlots(true);
      // Until the others declare Y failed, Y may still be the slot's primary: refused, no effect, retried.
      let set = await writer.call(key, ['SET', key, 'acknowledged'], true);
      for (let i = 0; i < 60 && set.status === 'fail'; i++) {
        await new Promise((r) => setTimeout(r, 250));
        await writer.refreshSlots(true);
        set = await writer.call(key, ['SET', key, 'acknowledged'], true);
      }
      writer.close();
      expect(set.status, JSON.stringify(set)).toBe('ok');
      await y.restart();
      const [, , onY] = await nodeCall(y.address, [['READONLY'], ['RINGKV.CONSISTENCY', 'R', '1'], ['GET', key]]);
      expect(onY, 'Y missed the write (the precondition)').toBeNull();

      await cluster.meet(d, cluster.nodes[0]!);
      await cluster.waitHealthy(30_000);
      const [, got] = await nodeCall(d.address, [['RINGKV.CONSISTENCY', 'R', '2'], ['GET', key]], 5000);
      expect(got, `GET ${key} through the joined primary`).toBe('acknowledged');
    } finally {
      await cluster.destroy();
    }
  }, 90_000);
});
