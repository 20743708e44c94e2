/**
 * One fault scenario from start to verdict: start a real cluster, run the workload (and, when
 * asked, the pipelined one), inject faults on a seeded schedule (calm, fault, hold, heal, … then a
 * calm tail), stop the workloads, heal everything, wait for the cluster to be healthy, require the
 * replicas' Merkle digests to agree within a grace period before any repairing read, read every
 * key with a full quorum (R=3, which read-repairs), check that the replicas agree, and run the
 * history checkers. Everything it started (processes, packet-filter rules) is undone in `finally`,
 * also when a step throws.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Prng } from '../sim/prng.js';
import { checkHistory, historyStats, violationCount, type CheckReport, type HistoryStats, type Op } from './fault-checker.js';
import { FaultCluster, checkMerkleRootsAgree, type FaultNode, type MerkleAgreement } from './fault-cluster.js';
import { nodeCall, type Address } from './fault-client.js';
import { RunClock, Workload, finalReadPass, replicaDisagreements, replicaReads } from './fault-history.js';
import { PipelineWorkload, pipelineFinalState, workloadReads, type PipelineStats } from './fault-pipeline.js';
import { checkPipelines, pipelineViolationCount, type PipelineRecord, type PipelineReport } from './fault-pipeline-checker.js';
import type { Partitioner } from './fault-net.js';

/**
 * `join`: one more node (from `spareHosts`) is started and introduced with CLUSTER MEET; healed when
 * the rebalance is over. `leave`: a member is decommissioned with RINGKV.LEAVE and keeps running as
 * an old replica until the rebalance is over, then it is stopped (the operator's procedure).
 */
export type FaultKind = 'kill9' | 'pause' | 'partition-one' | 'partition-split' | 'join' | 'leave';

export interface ScenarioSpec {
  name: string;
  fault: FaultKind;
  hosts: readonly string[];
  seed: number;
  /**
   * Longest workload: faults are scheduled inside it, and the run ends `tailMs` after the last
   * heal once another fault cycle no longer fits (no idle load after the tail).
   */
  durationMs: number;
  clients: number;
  keys: number;
  r: number;
  w: number;
  /** Replication factor the cluster runs with (the default, 3). */
  n: number;
  opTimeoutMs: number;
  /** A fault lasts a random time in [min, max] ms; a calm period before each fault likewise. */
  holdMs: readonly [number, number];
  calmMs: readonly [number, number];
  /** Calm time kept at the end of the run, after the last heal. */
  tailMs: number;
  partitioner?: Partitioner;
  /** Extra server settings for every node (e.g. `--cluster-sloppy-quorum no`). */
  extraArgs?: readonly string[];
  /** Settings for one node only, by 1-based index (e.g. a skewed clock), kept across restarts. */
  nodeArgs?: (index: number) => readonly string[];
  /** Addresses for nodes that join during the run (`join`). */
  spareHosts?: readonly string[];
  /** At most this many faults per run (a join or a decommission happens once). */
  maxFaults?: number;
  /**
   * Whether this configuration promises read-your-writes. Stale reads are always counted and
   * printed; they fail the run only when promised (W + R > N over strict quorums).
   */
  readYourWritesPromised: boolean;
  /**
   * Pipelined clients beside the single-command ones (fault-pipeline.ts): raw RESP pipelines and
   * ioredis connections with many commands in flight.
   */
  pipelined?: { pipelineClients: number; ioredisClients: number };
  /** `cluster-node-timeout` of every node (default 2000; the product's default is 15000). */
  nodeTimeoutMs?: number;
  /**
   * After healing, before any repairing read: every slot's replicas must agree on their Merkle
   * digest within this many ms (hinted handoff and anti-entropy alone), or the run fails.
   */
  graceMs?: number;
  /** Waiting for a healthy cluster after healing (default 60 s). */
  healthyTimeoutMs?: number;
  /** Where a failing run's history and logs go (default: the OS temp directory). */
  artifactsRoot?: string;
  keepArtifacts?: boolean;
  /** A workload of its own beside the others, judged by its own checks after healing (fault-collections.ts). */
  extension?: ScenarioExtension;
}

/** A further workload run through the same nemesis, with its own checks after healing. */
export interface ScenarioExtension {
  /** Starts with the other workloads, on the run's clock. */
  start(seeds: readonly Address[], clock: RunClock): void;
  /** Stops issuing commands and waits for those in flight. */
  stop(): Promise<void>;
  /** After healing, the classic full-quorum pass and the Merkle check: reads back and judges. */
  verify(cluster: FaultCluster, faults: readonly FaultEvent[]): Promise<ExtensionVerdict>;
  /** The history, one JSON line per record, for the artifacts. */
  records(): readonly unknown[];
}

export interface ExtensionVerdict {
  violations: number;
  /** One line of figures for the console. */
  summary: string;
  /** Readable violations (the first few of each kind) for an assertion message. */
  details: string[];
  /** Everything, for report.json. */
  report: unknown;
}

export interface FaultEvent {
  kind: FaultKind;
  target: string;
  /** ms on the run's clock. */
  injectedAt: number;
  healedAt?: number;
  /** Writes acknowledged while the fault was active. */
  ackedDuring?: number;
  /** From the heal until every node reported every member healthy (absent if the next fault came first). */
  healthyAfterMs?: number;
  /** `join`/`leave`: from the membership change until no member had slots moving or queued. */
  rebalanceMs?: number;
}

export interface ScenarioFigures {
  scenario: string;
  seed: number;
  readYourWritesPromised: boolean;
  nodes: number;
  durationS: number;
  operations: number;
  opsPerSec: number;
  faults: number;
  ackedWrites: number;
  ackedDuringFaults: number;
  failed: number;
  unknown: number;
  openUnknown: number;
  lostWrites: number;
  resurrected: number;
  staleReads: number;
  phantoms: number;
  unreadKeys: number;
  replicasDisagreeing: number;
  keys: number;
  /** Keys whose replica set at the end differs from the one at the start (what a topology change moved). */
  keysMoved: number;
  /** Keys whose replicas held different values after healing, before the R=3 pass repaired them (not a failure). */
  divergentBeforeRepair: number;
  /** Whether Merkle digests were compared, over how many slots, and how long until they agreed. */
  merkleChecked: boolean;
  merkleSlots: number;
  merkleMs: number;
  /** `join`/`leave`: the longest time from the membership change until the rebalance was over. */
  rebalanceMs: number;
  /** From the last heal until every node reports every member healthy. */
  convergeClusterMs: number;
  /** The longest such time over all heals of the run. */
  convergeClusterMaxMs: number;
  /** From the start of the full-quorum pass until it is done and every replica holds the same value. */
  convergeReplicasMs: number;
  /** Merkle agreement after healing, before any repairing read (hinted handoff and anti-entropy alone). */
  graceAgree: boolean;
  graceMs: number;
  /** The extension's one-line figures, when one ran. */
  extension?: string;
  /** The pipelined workload, when it ran. */
  pipeline?: PipelineStats & { violations: number; orderViolations: number; counterViolations: number; appendViolations: number; atomicityViolations: number; lastWriteViolations: number; staleReads: number };
}

export interface ScenarioResult {
  figures: ScenarioFigures;
  report: CheckReport;
  stats: HistoryStats;
  faults: FaultEvent[];
  disagreements: Array<{ key: string; copies: Record<string, string | null> }>;
  merkle: MerkleAgreement;
  /** Merkle agreement before the repairing reads, within `graceMs`. */
  grace: MerkleAgreement;
  pipeline?: { report: PipelineReport; finalReadErrors: string[] };
  extension?: ExtensionVerdict;
  finalReadErrors: string[];
  /** Directory holding history, final state, report and node logs (kept when something failed). */
  artifacts: string | undefined;
  violations: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function between(rng: Prng, [lo, hi]: readonly [number, number]): number {
  return rng.int(lo, hi);
}

/** Injects one fault; returns what heals it. */
/** Counts, over every member, slots still moving (rebalance window open) and slots queued for anti-entropy. */
async function rebalanceLeft(cluster: FaultCluster): Promise<{ moving: number; queued: number }> {
  let moving = 0;
  let queued = 0;
  for (const n of cluster.members) {
    const [info] = await nodeCall(n.address, [['INFO', 'ringkv']], 2000);
    if (typeof info !== 'string') throw new Error(`INFO ringkv on ${n.name}: ${JSON.stringify(info)}`);
    moving += Number(/ringkv_rebalance_slots_moving:(\d+)/.exec(info)?.[1] ?? NaN);
    queued += Number(/ringkv_ae_slots_queued:(\d+)/.exec(info)?.[1] ?? NaN);
  }
  if (Number.isNaN(moving) || Number.isNaN(queued)) throw new Error('INFO ringkv lacks the rebalance fields');
  return { moving, queued };
}

/** Waits until no member has slots moving or queued; returns the ms since `since` (Date.now() ms). */
async function waitRebalanced(cluster: FaultCluster, since: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = { moving: -1, queued: -1 };
  while (Date.now() < deadline) {
    last = await rebalanceLeft(cluster).catch(() => ({ moving: -1, queued: -1 }));
    if (last.moving === 0 && last.queued === 0) return Date.now() - since;
    await sleep(100);
  }
  throw new Error(`rebalance not over after ${timeoutMs} ms: ${last.moving} slots moving, ${last.queued} queued`);
}

async function inject(spec: ScenarioSpec, cluster: FaultCluster, rng: Prng, event: FaultEvent): Promise<{ target: string; heal: () => Promise<void> }> {
  const nodes = cluster.members;
  switch (spec.fault) {
    case 'join': {
      const host = spec.spareHosts?.[cluster.nodes.length - spec.hosts.length];
      if (!host) throw new Error('join scenario without a spare host');
      const node = await cluster.startAlone(host);
      // As an operator would: the node runs a moment before it is introduced. A placement held for
      // under three gossip rounds counts as a cluster forming, and a joiner then keeps no old owners.
      await sleep(1000);
      const changed = Date.now();
      await cluster.meet(node, rng.pick(nodes));
      return { target: node.name, heal: async () => { event.rebalanceMs = await waitRebalanced(cluster, changed, 60_000); } };
    }
    case 'leave': {
      const victim = rng.pick(nodes);
      const changed = Date.now();
      await cluster.leave(victim);
      return {
        target: victim.name,
        heal: async () => {
          event.rebalanceMs = await waitRebalanced(cluster, changed, 60_000);
          await victim.stop();
        },
      };
    }
    case 'kill9': {
      const victim: FaultNode = rng.pick(nodes);
      await victim.kill9();
      return { target: victim.name, heal: () => victim.restart() };
    }
    case 'pause': {
      const victim = rng.pick(nodes);
      victim.pause();
      return { target: victim.name, heal: async () => victim.resume() };
    }
    case 'partition-one': {
      const p = spec.partitioner;
      if (!p) throw new Error('partition scenario without a partitioner');
      const victim = rng.pick(nodes);
      p.isolate(victim.host, cluster.hosts);
      return { target: `${victim.name} | rest`, heal: async () => p.heal() };
    }
    case 'partition-split': {
      const p = spec.partitioner;
      if (!p) throw new Error('partition scenario without a partitioner');
      const shuffled = rng.shuffle(nodes);
      const minority = shuffled.slice(0, Math.floor(nodes.length / 2));
      const majority = shuffled.slice(minority.length);
      p.partition([minority.map((n) => n.host), majority.map((n) => n.host)]);
      return { target: `${minority.map((n) => n.name).join('+')} | ${majority.map((n) => n.name).join('+')}`, heal: async () => p.heal() };
    }
  }
}

/** Undoes whatever a failed step may have left: partition rules, paused or killed nodes. */
async function healEverything(spec: ScenarioSpec, cluster: FaultCluster): Promise<void> {
  spec.partitioner?.heal();
  for (const n of cluster.members) {
    if (n.state === 'paused') n.resume();
    if (n.state === 'killed') await n.restart();
  }
}

/**
 * Per-replica local reads, tried up to three times: on a loaded machine a node can be starved
 * for seconds (seen right after start with the default node timeout, load average 18), and a
 * read that timed out says nothing about what the replicas hold.
 */
async function replicaReadsRetried(cluster: FaultCluster, keys: readonly string[]): Promise<Map<string, Map<string, string | null>>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await replicaReads(cluster.addresses, keys);
    } catch (e) {
      if (attempt >= 3) throw e;
      await sleep(1000);
    }
  }
}

export async function runScenario(spec: ScenarioSpec): Promise<ScenarioResult> {
  const rng = new Prng(spec.seed);
  const keys = Array.from({ length: spec.keys }, (_, i) => `fault:${spec.name}:${i}`);
  const cluster = await FaultCluster.start({ hosts: spec.hosts, extraArgs: spec.extraArgs, nodeArgs: spec.nodeArgs, nodeTimeoutMs: spec.nodeTimeoutMs });
  const clock = new RunClock();
  const workload = new Workload({
    seeds: cluster.addresses, keys, clients: spec.clients, seed: spec.seed, r: spec.r, w: spec.w,
    opTimeoutMs: spec.opTimeoutMs, valuePrefix: `${spec.name}.${spec.seed}`,
  }, clock);
  const pipelineOpts = spec.pipelined && {
    seeds: cluster.addresses, ...spec.pipelined, seed: spec.seed, r: spec.r, w: spec.w, opTimeoutMs: spec.opTimeoutMs,
    prefix: `pl:${spec.name}:${spec.seed}`, firstClient: 100,
  };
  const pipeline = pipelineOpts && new PipelineWorkload(pipelineOpts, clock);
  const healthyTimeoutMs = spec.healthyTimeoutMs ?? 60000;
  const faults: FaultEvent[] = [];
  let faultActive = false;
  const watchers: Array<Promise<void>> = [];
  let watcherError: Error | undefined;
  let pendingHeal: (() => Promise<void>) | undefined;
  let artifacts: string | undefined;
  try {
    // Who replicates each key before anything happens: nodes that are no replica answer MOVED.
    const owners = (reads: Map<string, Map<string, string | null>>): Map<string, string> =>
      new Map([...reads].map(([k, byNode]) => [k, [...byNode.keys()].sort().join(',')]));
    const ownersBefore = owners(await replicaReadsRetried(cluster, keys));
    workload.start();
    pipeline?.start();
    spec.extension?.start(cluster.addresses, clock);
    // The schedule counts from here: start-up and the first reads may take seconds on a loaded
    // machine, and must not squeeze the faults out of the run.
    const loadStart = clock.now();
    const elapsed = (): number => clock.now() - loadStart;
    // Nemesis: calm, fault, hold, heal; as long as a full cycle and the tail still fit.
    for (;;) {
      const calm = between(rng, spec.calmMs);
      const hold = between(rng, spec.holdMs);
      if (elapsed() + calm + hold + spec.tailMs > spec.durationMs || faults.length >= (spec.maxFaults ?? Infinity)) break;
      await sleep(calm);
      cluster.assertNoUnexpectedExit();
      const ackedBefore = workload.ackedWrites();
      const event: FaultEvent = { kind: spec.fault, target: '', injectedAt: clock.now() };
      faultActive = true;
      const { target, heal } = await inject(spec, cluster, rng, event);
      pendingHeal = heal;
      event.target = target;
      faults.push(event);
      for (const n of cluster.nodes) n.note(`--- fault ${spec.fault} ${target} at run time ${event.injectedAt} ms`);
      await sleep(hold);
      event.ackedDuring = workload.ackedWrites() - ackedBefore;
      await heal();
      pendingHeal = undefined;
      faultActive = false;
      event.healedAt = clock.now();
      for (const n of cluster.nodes) n.note(`--- healed ${target} at run time ${event.healedAt} ms`);
      // Time to a healthy view, measured while the workload goes on; given up if the next fault comes first.
      watchers.push(cluster.waitHealthy(healthyTimeoutMs, () => faultActive).then((ms) => {
        if (!Number.isNaN(ms)) event.healthyAfterMs = Math.round(clock.now() - event.healedAt!);
      }, (e: unknown) => {
        watcherError ??= e instanceof Error ? e : new Error(String(e));
      }));
    }
    const lastHeal = faults.at(-1)?.healedAt;
    const rest = lastHeal === undefined ? spec.durationMs - elapsed() : Math.min(spec.durationMs - elapsed(), spec.tailMs - (clock.now() - lastHeal));
    if (rest > 0) await sleep(rest);
    const loadMs = elapsed();
    await workload.stop();
    await pipeline?.stop();
    await spec.extension?.stop();
    const history = workload.history;

    // Converge: healthy membership everywhere, then a full-quorum pass, then replica agreement.
    await Promise.all(watchers);
    if (watcherError) throw watcherError;
    await cluster.waitHealthy(healthyTimeoutMs);
    cluster.assertNoUnexpectedExit();
    // Before any repair read: what hinted handoff (and, once there, anti-entropy) left unrepaired.
    await sleep(1000);
    const divergentBeforeRepair = replicaDisagreements(await replicaReadsRetried(cluster, keys), spec.n).length;
    // Replicas must converge by themselves (hints, anti-entropy) within the grace period.
    const grace = await checkMerkleRootsAgree(cluster, { n: spec.n, members: cluster.members, timeoutMs: spec.graceMs ?? 20_000 });
    const repairStart = clock.now();
    const final = await finalReadPass(cluster.addresses, keys, { r: spec.n, deadlineMs: 30000 });
    const afterRepair = await replicaReadsRetried(cluster, keys);
    const ownersAfter = owners(afterRepair);
    const keysMoved = keys.filter((k) => ownersBefore.get(k) !== ownersAfter.get(k)).length;
    let disagreements = replicaDisagreements(afterRepair, spec.n);
    for (let i = 0; i < 50 && disagreements.length > 0; i++) {
      await sleep(200);
      disagreements = replicaDisagreements(await replicaReadsRetried(cluster, keys), spec.n);
    }
    const convergeReplicasMs = clock.now() - repairStart;
    const healTimes = faults.map((f) => f.healthyAfterMs).filter((x): x is number => x !== undefined);
    const merkle = await checkMerkleRootsAgree(cluster, { n: spec.n, members: cluster.members });

    const report = checkHistory(history, final.values, { readYourWrites: spec.w + spec.r > spec.n });
    const stats = historyStats(history);
    const unpromised = spec.readYourWritesPromised ? 0 : report.staleReads.length;
    let pipelineResult: ScenarioResult['pipeline'];
    let pipelineFigures: ScenarioFigures['pipeline'];
    let pipelineViolations = 0;
    if (pipeline && pipelineOpts) {
      const pf = await pipelineFinalState(cluster.addresses, workloadReads(pipelineOpts), { r: spec.n, deadlineMs: 30000 });
      const pr = checkPipelines(pipeline.records, pf.values, { readYourWrites: spec.w + spec.r > spec.n });
      pipelineViolations = pipelineViolationCount(pr, spec.readYourWritesPromised);
      pipelineResult = { report: pr, finalReadErrors: pf.errors };
      pipelineFigures = {
        ...pipeline.stats(), violations: pipelineViolations, orderViolations: pr.order.length, counterViolations: pr.counters.length,
        appendViolations: pr.appends.length, atomicityViolations: pr.atomicity.length, lastWriteViolations: pr.lastWrites.length,
        staleReads: pr.history.staleReads.length + pr.sharedStaleReads.length,
      };
    }
    const extension = await spec.extension?.verify(cluster, faults);
    const violations = violationCount(report) - unpromised + disagreements.length + (merkle.checked && !merkle.agree ? 1 : 0) +
      (grace.agree ? 0 : 1) + pipelineViolations + (extension?.violations ?? 0);
    const durationS = clock.now() / 1000;
    const figures: ScenarioFigures = {
      scenario: spec.name, seed: spec.seed, readYourWritesPromised: spec.readYourWritesPromised, nodes: cluster.nodes.length, durationS: Math.round(durationS * 10) / 10,
      operations: stats.operations, opsPerSec: Math.round(stats.operations / (loadMs / 1000)), faults: faults.length,
      ackedWrites: stats.ackedWrites, ackedDuringFaults: faults.reduce((s, f) => s + (f.ackedDuring ?? 0), 0),
      failed: stats.failed, unknown: stats.unknown, openUnknown: stats.openUnknown,
      lostWrites: report.lostWrites.length, resurrected: report.resurrections.length, staleReads: report.staleReads.length,
      phantoms: report.phantoms.length, unreadKeys: report.unreadKeys.length, replicasDisagreeing: disagreements.length, keysMoved, keys: keys.length,
      divergentBeforeRepair, merkleChecked: merkle.checked, merkleSlots: merkle.slots, merkleMs: merkle.ms,
      rebalanceMs: Math.max(0, ...faults.map((f) => f.rebalanceMs ?? 0)),
      convergeClusterMs: faults.at(-1)?.healthyAfterMs ?? 0, convergeClusterMaxMs: Math.max(0, ...healTimes),
      convergeReplicasMs: Math.round(convergeReplicasMs),
      graceAgree: grace.agree, graceMs: grace.ms, pipeline: pipelineFigures, extension: extension?.summary,
    };
    if (violations > 0 || spec.keepArtifacts) {
      artifacts = saveArtifacts(spec, cluster, history, { figures, faults, report, disagreements, merkle, grace, pipeline: pipelineResult, extension: extension?.report, finalReadErrors: final.errors, final: Object.fromEntries(final.values) }, pipeline?.records, spec.extension?.records());
    }
    return { figures, report, stats, faults, disagreements, merkle, grace, pipeline: pipelineResult, extension, finalReadErrors: final.errors, artifacts, violations };
  } catch (e) {
    // A step itself failed (no convergence, a node that would not restart): keep what is known.
    await workload.stop().catch(() => undefined);
    await pipeline?.stop().catch(() => undefined);
    await spec.extension?.stop().catch(() => undefined);
    const dir = saveArtifacts(spec, cluster, workload.history, { error: (e as Error).stack ?? String(e), faults }, pipeline?.records, spec.extension?.records());
    throw new Error(`${spec.name} (seed ${spec.seed}): ${(e as Error).message}\nhistory and node logs: ${dir}`, { cause: e });
  } finally {
    await workload.stop().catch(() => undefined);
    await pipeline?.stop().catch(() => undefined);
    await spec.extension?.stop().catch(() => undefined);
    try {
      if (pendingHeal) await pendingHeal().catch(() => undefined);
      await healEverything(spec, cluster).catch(() => undefined);
    } finally {
      await cluster.destroy();
    }
  }
}

function saveArtifacts(spec: ScenarioSpec, cluster: FaultCluster, history: readonly Op[], report: Record<string, unknown>, batches?: readonly PipelineRecord[], extensionRecords?: readonly unknown[]): string {
  const dir = path.join(spec.artifactsRoot ?? os.tmpdir(), `ringkv-fault-${spec.name}-seed${spec.seed}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'history.jsonl'), history.map((o) => JSON.stringify(o)).join('\n') + '\n');
  if (batches) writeFileSync(path.join(dir, 'batches.jsonl'), batches.map((b) => JSON.stringify(b)).join('\n') + '\n');
  if (extensionRecords) writeFileSync(path.join(dir, 'extension.jsonl'), extensionRecords.map((b) => JSON.stringify(b)).join('\n') + '\n');
  writeFileSync(path.join(dir, 'report.json'), JSON.stringify({ ...report, spec: { ...spec, partitioner: spec.partitioner ? spec.partitioner.chain : undefined, extension: spec.extension ? true : undefined } }, null, 1));
  cluster.saveLogs(dir);
  return dir;
}

export function formatFigures(f: ScenarioFigures): string {
  return [
    `[fault] ${f.scenario} seed=${f.seed} nodes=${f.nodes} ${f.durationS}s`,
    `ops=${f.operations} (${f.opsPerSec}/s) faults=${f.faults} acked-writes=${f.ackedWrites} acked-during-faults=${f.ackedDuringFaults}`,
    `failed=${f.failed} unknown=${f.unknown} (open ${f.openUnknown})`,
    `lost=${f.lostWrites} resurrected=${f.resurrected} stale-reads=${f.staleReads}${f.readYourWritesPromised ? '' : ' (not promised here)'} phantoms=${f.phantoms} unread=${f.unreadKeys} replicas-disagreeing=${f.replicasDisagreeing}${f.keysMoved > 0 ? ` keys-moved=${f.keysMoved}/${f.keys}` : ''}`,
    `healthy ${f.convergeClusterMs} ms after the last heal (max ${f.convergeClusterMaxMs} ms); R=N pass to replica agreement ${f.convergeReplicasMs} ms`,
    `keys divergent before the full-quorum pass ${f.divergentBeforeRepair}; merkle before repair ${f.graceAgree ? `agrees after ${f.graceMs} ms` : `STILL DIVERGENT after ${f.graceMs} ms`}, after repair ${f.merkleChecked ? `${f.merkleSlots} slots agree after ${f.merkleMs} ms` : 'not compared'}` +
      (f.rebalanceMs > 0 ? `; rebalance over ${f.rebalanceMs} ms after the membership change` : ''),
    ...(f.extension ? [f.extension] : []),
    ...(f.pipeline ? [`pipelined: batches=${f.pipeline.batches} commands=${f.pipeline.commands} ok=${f.pipeline.ok} failed=${f.pipeline.failed} unknown=${f.pipeline.unknown} ` +
      `acked incr=${f.pipeline.increments} append=${f.pipeline.appends} multi=${f.pipeline.transactions} | order=${f.pipeline.orderViolations} (malformed ${f.pipeline.malformed}) ` +
      `counters=${f.pipeline.counterViolations} appends=${f.pipeline.appendViolations} multi-atomicity=${f.pipeline.atomicityViolations} last-write=${f.pipeline.lastWriteViolations} stale-reads=${f.pipeline.staleReads}${f.readYourWritesPromised ? '' : ' (not promised here)'} total=${f.pipeline.violations}`] : []),
  ].join(' | ');
}

/** The first few violations, readable, for an assertion message. */
export function describeViolations(r: ScenarioResult): string {
  const lines: string[] = [];
  const take = <T>(label: string, items: readonly T[]): void => {
    if (items.length === 0) return;
    lines.push(`${label} (${items.length}):`);
    for (const i of items.slice(0, 5)) lines.push(`  ${JSON.stringify(i)}`);
  };
  take('lost writes', r.report.lostWrites);
  take('resurrected deletes', r.report.resurrections);
  take(r.figures.readYourWritesPromised ? 'stale reads' : 'stale reads (not promised in this configuration)', r.report.staleReads);
  take('phantoms', r.report.phantoms);
  take('unread keys', r.report.unreadKeys);
  take('replicas disagreeing', r.disagreements);
  if (r.merkle.checked && !r.merkle.agree) lines.push(`merkle: ${r.merkle.detail}`);
  if (!r.grace.agree) lines.push(`replicas still divergent after the grace period, before any repairing read: ${r.grace.detail}`);
  if (r.pipeline) {
    const p = r.pipeline.report;
    take('pipelined: order inside a batch', p.order);
    take('pipelined: last write of a private key', p.lastWrites);
    take('pipelined: counters', p.counters);
    take('pipelined: APPEND tokens', p.appends);
    take('pipelined: MULTI atomicity', p.atomicity);
    take('pipelined: lost writes', p.history.lostWrites);
    take('pipelined: resurrected deletes', p.history.resurrections);
    take(r.figures.readYourWritesPromised ? 'pipelined: stale reads' : 'pipelined: stale reads (not promised here)', p.history.staleReads);
    take(r.figures.readYourWritesPromised ? 'pipelined: stale counter and log reads' : 'pipelined: stale counter and log reads (not promised here)', p.sharedStaleReads);
    take('pipelined: phantoms', p.history.phantoms);
    take('pipelined: unread keys', p.history.unreadKeys);
    take('pipelined: final read errors', r.pipeline.finalReadErrors);
  }
  if (r.extension) lines.push(...r.extension.details);
  take('final read errors', r.finalReadErrors);
  take('faults', r.faults);
  if (r.artifacts) lines.push(`history, final state, report and node logs: ${r.artifacts}`);
  return lines.join('\n');
}
