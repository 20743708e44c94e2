/**
 * The failover run: a cluster at its default settings under a closed-loop ioredis Cluster workload
 * (`ackload.js`), then one fault at t=0: SIGKILL of a node (ringkv) or a master (Redis Cluster), or
 * one such node's traffic with the other nodes dropped for a while (partition-one) while clients
 * still reach it. What it measures: acknowledged commands and errors per second from before the
 * fault to well after it, whether every key acknowledged before the fault reads back 1 s after it,
 * whether every key acknowledged during the run is there at the end, and whether every counter
 * ends between its acknowledged INCRs and those plus the ones whose outcome the client could not know.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseAckMessage, type AckFinal, type AckMix, type AckSlice, type ReadbackResult } from './ack-messages.js';
import { killMember, startCluster, stopCluster, type ClusterLaunch, type ClusterMember, type RunningCluster } from './cluster.js';
import { LatencyHistogram } from './histogram.js';
import { NetCut } from './netcut.js';
import { exitedWithin, spawnManaged, stopManaged, type ManagedProcess } from './proc.js';
import { respCommand, respString, RespError, type RespValue } from './resp.js';
import type { ServerPaths, Target } from './servers.js';

export type FaultKind = 'kill' | 'partition';

export interface FailoverOptions {
  target: Target;
  fault: FaultKind;
  mix: AckMix;
  /** One address per node; distinct ones are needed for a partition. */
  hosts: readonly string[];
  launch: ClusterLaunch;
  scratch: string;
  paths: ServerPaths;
  /** dist/bench/lib/ackload.js */
  ackloadEntry: string;
  clients: number;
  counters: number;
  dataSize: number;
  /** Keys acknowledged before the fault to read back from t=1 s, drawn uniformly; null: all of them. */
  readbackKeys: number | null;
  /** ioredis `retryDelayOnFailover` for the workload's client; its default (100 ms) when undefined. */
  retryDelayOnFailover?: number;
  /** Unmeasured load before the measured seconds (JIT warm-up, connections). */
  warmupSeconds: number;
  /** Measured before the fault. */
  beforeSeconds: number;
  /** Measured from the fault on. */
  afterSeconds: number;
  /** partition: how long the node stays cut off. */
  partitionSeconds: number;
}

/** One second of the timeline, t relative to the fault. */
export interface FailoverSecond {
  t: number;
  setOk: number;
  setErr: number;
  incrOk: number;
  incrErr: number;
  /** Read-back GETs answered and failed (they run from t=1 s until done). */
  getOk: number;
  getErr: number;
  /** p99 latency of the acknowledged SETs and INCRs. */
  p99Ms: number | null;
}

/** Counter outcomes: acknowledged ≤ value ≤ acknowledged + failed + in flight must hold for each. */
export interface CounterSummary {
  counters: number;
  acked: number;
  failed: number;
  pending: number;
  /** Counters whose value is below their acknowledged INCRs: acknowledged increments lost. */
  lost: number;
  /** Counters above acknowledged + failed + in flight: an increment applied twice. */
  excess: number;
  /** Counters that could not be read at the end. */
  unread: number;
  /** Sum over counters of acknowledged - value where positive. */
  lostIncrements: number;
  /** Sum over counters of value - (acknowledged + failed + in flight) where positive. */
  excessIncrements: number;
}

export interface FailoverReport {
  server: Target['server'];
  variant: string;
  fault: FaultKind;
  mix: AckMix;
  clients: number;
  /** The settings that matter, as the first node reports them (CONFIG GET). */
  settings: Record<string, string>;
  nodes: string[];
  victim: string;
  /** Cluster view changes seen by polling, and the fault's own steps, t in s. */
  events: Array<{ atS: number; name: string }>;
  seconds: FailoverSecond[];
  /** Acknowledged commands per second over the `beforeSeconds` before the fault and the 10 s after it. */
  beforeOkPerS: number;
  after10OkPerS: number;
  /** after10OkPerS / beforeOkPerS */
  ratio: number;
  beforeErrPerS: number;
  after10ErrPerS: number;
  /** Keys acknowledged before the fault, read back from t=1 s. */
  readback: ReadbackResult | null;
  /** Every key acknowledged in the run, read back after the load stopped. */
  final: ReadbackResult | null;
  counters: CounterSummary | null;
  counterErrors: string[];
  /** Distinct client errors with the number of 100 ms slices each appeared in. */
  errorMessages: Array<{ message: string; slices: number }>;
}

/** Window after the fault that the ratio is taken over. */
export const RATIO_WINDOW_S = 10;
/** The read-back of the keys acknowledged before the fault starts this long after it. */
const READBACK_DELAY_MS = 1000;
/** The generator's final checks (read-back of every key, counters) must end within this. */
const FINAL_LIMIT_MS = 150_000;
const POLL_MS = 250;

const RINGKV_SETTINGS = ['replication-factor', 'write-quorum', 'read-quorum', 'cluster-node-timeout', 'cluster-lease-ms', 'appendfsync'];
const REDIS_SETTINGS = ['cluster-node-timeout', 'appendonly', 'appendfsync', 'cluster-replica-validity-factor'];

async function configValue(m: ClusterMember, name: string): Promise<string> {
  const reply = await respCommand(m.host, m.port, ['CONFIG', 'GET', name]).catch((err: unknown) => new RespError(String(err)));
  if (Array.isArray(reply) && reply.length >= 2) return String(reply[1]);
  return reply instanceof RespError ? `? (${reply.message})` : '?';
}

const address = (m: { host: string; port: number }): string => `${m.host}:${m.port}`;

/** Masters that serve slots, from the first node's CLUSTER NODES, in port order. */
async function slotMasters(cluster: RunningCluster): Promise<ClusterMember[]> {
  const first = cluster.members[0]!;
  const text = await respString(first.host, first.port, ['CLUSTER', 'NODES']);
  const masters = new Set(
    text.split('\n').map((l) => l.trim().split(' ')).filter((f) => (f[2] ?? '').split(',').includes('master') && f.length > 8).map((f) => (f[1] ?? '').split('@')[0]),
  );
  return cluster.members.filter((m) => masters.has(address(m))).sort((a, b) => a.port - b.port);
}

/** Addresses CLUSTER SLOTS names as serving (first) node of some range. */
function servingAddresses(reply: RespValue): Set<string> {
  const out = new Set<string>();
  if (!Array.isArray(reply)) return out;
  for (const range of reply) {
    if (!Array.isArray(range)) continue;
    const node = range[2];
    if (Array.isArray(node)) out.add(`${String(node[0])}:${String(node[1])}`);
  }
  return out;
}

/**
 * How the survivors see the victim: its flags in each survivor's CLUSTER NODES and whether each
 * survivor's CLUSTER SLOTS still routes slots to it; and, while it runs, how the victim sees itself.
 */
async function viewOf(cluster: RunningCluster, victim: ClusterMember, victimAlive: boolean): Promise<string> {
  const survivors = cluster.members.filter((m) => m !== victim);
  const seen = await Promise.all(survivors.map(async (s) => {
    try {
      const nodes = await respString(s.host, s.port, ['CLUSTER', 'NODES']);
      const line = nodes.split('\n').map((l) => l.trim().split(' ')).find((f) => (f[1] ?? '').split('@')[0] === address(victim));
      const flags = (line?.[2] ?? 'unknown').split(',').filter((f) => f === 'fail' || f === 'fail?' || f === 'master' || f === 'slave');
      const routes = servingAddresses(await respCommand(s.host, s.port, ['CLUSTER', 'SLOTS'])).has(address(victim));
      return `${flags.join(',') || 'ok'}${routes ? ' routed-to' : ''}`;
    } catch {
      return 'no answer';
    }
  }));
  const counts = new Map<string, number>();
  for (const s of seen) counts.set(s, (counts.get(s) ?? 0) + 1);
  let view = `survivors see it as ${[...counts.entries()].map(([s, n]) => `${n}x [${s}]`).join(' ')}`;
  if (victimAlive) {
    const info = await respString(victim.host, victim.port, ['CLUSTER', 'INFO']).catch(() => '');
    view += `; it reports cluster_state:${/^cluster_state:(\w+)/m.exec(info)?.[1] ?? 'no answer'}`;
  }
  return view;
}

interface RunningAckLoad {
  proc: ManagedProcess;
  slices: AckSlice[];
  marked: Promise<number>;
  readback: Promise<ReadbackResult>;
  final: Promise<AckFinal>;
  ready: Promise<void>;
}

function startAckLoad(opts: FailoverOptions, cluster: RunningCluster, maxSeconds: number): RunningAckLoad {
  const slices: AckSlice[] = [];
  let onReady = (): void => undefined;
  let onMarked = (_: number): void => undefined;
  let onReadback = (_: ReadbackResult): void => undefined;
  let onFinal = (_: AckFinal): void => undefined;
  const ready = new Promise<void>((resolve) => { onReady = resolve; });
  const marked = new Promise<number>((resolve) => { onMarked = resolve; });
  const readback = new Promise<ReadbackResult>((resolve) => { onReadback = resolve; });
  const final = new Promise<AckFinal>((resolve) => { onFinal = resolve; });
  const proc = spawnManaged(
    'ackload',
    opts.paths.nodeBinary,
    [
      opts.ackloadEntry,
      ...cluster.members.flatMap((m) => ['--node', address(m)]),
      '--clients', String(opts.clients),
      '--mix', opts.mix,
      '--counters', String(opts.counters),
      '--data-size', String(opts.dataSize),
      '--readback-keys', opts.readbackKeys === null ? 'all' : String(opts.readbackKeys),
      ...(opts.retryDelayOnFailover === undefined ? [] : ['--retry-delay-on-failover', String(opts.retryDelayOnFailover)]),
      '--max-seconds', String(maxSeconds),
    ],
    {
      onStdoutLine: (line) => {
        const msg = parseAckMessage(line);
        if (msg === null) return;
        if (msg.type === 'ready') onReady();
        else if (msg.type === 'slice') slices.push(msg);
        else if (msg.type === 'marked') onMarked(msg.keys);
        else if (msg.type === 'readback') onReadback(msg);
        else onFinal(msg);
      },
    },
  );
  return { proc, slices, marked, readback, final, ready };
}

/** Resolves with `p`, or rejects if the generator exits first or `ms` pass. */
async function fromLoad<T>(load: RunningAckLoad, p: Promise<T>, ms: number, what: string): Promise<T> {
  const timer = new AbortController();
  try {
    return await Promise.race([
      p,
      load.proc.exited.then((status) => { throw new Error(`load generator exited (${status}) before ${what}:\n${load.proc.outputTail()}`); }),
      sleep(ms, undefined, { signal: timer.signal }).then(() => { throw new Error(`load generator: no ${what} within ${ms} ms`); }),
    ]);
  } finally {
    timer.abort();
  }
}

function signal(load: RunningAckLoad, sig: NodeJS.Signals): void {
  if (!load.proc.hasExited()) process.kill(load.proc.pid, sig);
}

function timeline(slices: readonly AckSlice[], fault: number, fromS: number, toS: number): FailoverSecond[] {
  const out: FailoverSecond[] = [];
  for (let t = fromS; t < toS; t++) {
    const lo = fault + t * 1000;
    const row: FailoverSecond = { t, setOk: 0, setErr: 0, incrOk: 0, incrErr: 0, getOk: 0, getErr: 0, p99Ms: null };
    const hist = new LatencyHistogram();
    for (const s of slices) {
      const mid = (s.t0 + s.t1) / 2;
      if (mid < lo || mid >= lo + 1000) continue;
      row.setOk += s.setOk;
      row.setErr += s.setErr;
      row.incrOk += s.incrOk;
      row.incrErr += s.incrErr;
      row.getOk += s.getOk;
      row.getErr += s.getErr;
      hist.merge(s.latency);
    }
    row.p99Ms = hist.percentileMs(99);
    out.push(row);
  }
  return out;
}

function perSecond(rows: readonly FailoverSecond[], pick: (r: FailoverSecond) => number): number {
  return rows.length === 0 ? 0 : rows.reduce((n, r) => n + pick(r), 0) / rows.length;
}

function summariseCounters(final: AckFinal): CounterSummary | null {
  if (final.counters.length === 0) return null;
  const s: CounterSummary = { counters: final.counters.length, acked: 0, failed: 0, pending: 0, lost: 0, excess: 0, unread: 0, lostIncrements: 0, excessIncrements: 0 };
  for (const c of final.counters) {
    s.acked += c.acked;
    s.failed += c.failed;
    s.pending += c.pending;
    if (c.value === null) {
      s.unread++;
      continue;
    }
    if (c.value < c.acked) {
      s.lost++;
      s.lostIncrements += c.acked - c.value;
    }
    if (c.value > c.acked + c.failed + c.pending) {
      s.excess++;
      s.excessIncrements += c.value - (c.acked + c.failed + c.pending);
    }
  }
  return s;
}

/** Runs one fault on one cluster; every process it started is stopped and every rule removed however it ends. */
export async function runFailover(opts: FailoverOptions, log: (line: string) => void): Promise<FailoverReport> {
  const tag = `[failover ${opts.target.server} ${opts.fault} ${opts.mix}]`;
  const cut = opts.fault === 'partition' ? new NetCut() : null;
  const cluster = await startCluster({ target: opts.target, durable: false, host: opts.hosts[0]!, hosts: opts.hosts, launch: opts.launch, scratch: opts.scratch, paths: opts.paths });
  let load: RunningAckLoad | null = null;
  let polling = true;
  try {
    const settingNames = opts.target.server === 'ringkv' ? RINGKV_SETTINGS : REDIS_SETTINGS;
    const settings: Record<string, string> = {};
    for (const name of settingNames) settings[name] = await configValue(cluster.members[0]!, name);
    const candidates = (opts.target.server === 'redis' ? await slotMasters(cluster) : cluster.members).filter((m) => m !== cluster.members[0]);
    // Never the first node, the client's first seed and the one the settings were read from.
    const victim = candidates[candidates.length - 1]!;
    const victimIndex = cluster.members.indexOf(victim);
    log(`${tag} nodes ${cluster.members.map(address).join(', ')}; victim ${address(victim)}; ${Object.entries(settings).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    cut?.setup();

    const total = opts.warmupSeconds + opts.beforeSeconds + opts.afterSeconds;
    load = startAckLoad(opts, cluster, total + 60);
    await fromLoad(load, load.ready, 30_000, 'its ready line');
    await sleep((opts.warmupSeconds + opts.beforeSeconds) * 1000);
    if (load.proc.hasExited()) throw new Error(`load generator exited early:\n${load.proc.outputTail()}`);

    signal(load, 'SIGUSR1');
    const keysAtMark = await fromLoad(load, load.marked, 5000, 'the mark');
    const fault = Date.now();
    const events: Array<{ atS: number; name: string }> = [];
    const event = (name: string, at = Date.now()): void => {
      events.push({ atS: (at - fault) / 1000, name });
      log(`${tag} t=${((at - fault) / 1000).toFixed(2)} s ${name}`);
    };
    let victimAlive = true;
    if (opts.fault === 'kill') {
      await killMember(cluster, victimIndex);
      victimAlive = false;
      event(`SIGKILL ${address(victim)} (${keysAtMark.toLocaleString('en-US')} keys acknowledged before)`, fault);
    } else {
      cut!.isolate(victim.host, cluster.members.filter((m) => m !== victim).map((m) => m.host));
      event(`traffic between ${victim.host} and the other nodes dropped (${keysAtMark.toLocaleString('en-US')} keys acknowledged before)`, fault);
    }
    const poller = (async () => {
      let last = '';
      while (polling) {
        const at = Date.now();
        const view = await viewOf(cluster, victim, victimAlive);
        if (view !== last) event(view, at);
        last = view;
        await sleep(POLL_MS);
      }
    })();
    await sleep(Math.max(0, fault + READBACK_DELAY_MS - Date.now()));
    signal(load, 'SIGUSR2');
    event(`read-back of ${opts.readbackKeys === null ? 'every key' : `up to ${opts.readbackKeys.toLocaleString('en-US')} keys`} acknowledged before the fault starts`);
    if (cut !== null) {
      await sleep(Math.max(0, fault + opts.partitionSeconds * 1000 - Date.now()));
      cut.heal();
      event('partition healed');
    }
    await sleep(Math.max(0, fault + opts.afterSeconds * 1000 - Date.now()));
    const readback = await fromLoad(load, load.readback, 30_000, 'the read-back result');
    event(
      `read-back done in ${readback.seconds.toFixed(1)} s: ${readback.ok} ok, ${readback.missing} missing, ${readback.wrong} wrong, ` +
        `${readback.errors} errors, ${readback.unanswered} unanswered`,
      readback.startedAt + readback.seconds * 1000,
    );
    polling = false;
    await poller;
    signal(load, 'SIGTERM');
    const final = await fromLoad(load, load.final, FINAL_LIMIT_MS, 'the final checks');
    await exitedWithin(load.proc, 5000);

    const seconds = timeline(load.slices, fault, -opts.beforeSeconds, opts.afterSeconds);
    const before = seconds.filter((r) => r.t < 0);
    const after = seconds.filter((r) => r.t >= 0 && r.t < RATIO_WINDOW_S);
    const ok = (r: FailoverSecond): number => r.setOk + r.incrOk;
    const err = (r: FailoverSecond): number => r.setErr + r.incrErr;
    const errorCounts = new Map<string, number>();
    for (const s of load.slices) {
      if (s.t1 < fault - opts.beforeSeconds * 1000) continue;
      for (const e of s.errors) {
        const key = e.replace(/\b(MOVED|ASK) \d+ \S+/, '$1 <slot> <node>');
        errorCounts.set(key, (errorCounts.get(key) ?? 0) + 1);
      }
    }
    const beforeOk = perSecond(before, ok);
    const afterOk = perSecond(after, ok);
    return {
      server: opts.target.server,
      variant: opts.target.variant,
      fault: opts.fault,
      mix: opts.mix,
      clients: opts.clients,
      settings,
      nodes: cluster.members.map(address),
      victim: address(victim),
      events: events.sort((a, b) => a.atS - b.atS),
      seconds,
      beforeOkPerS: beforeOk,
      after10OkPerS: afterOk,
      ratio: beforeOk > 0 ? afterOk / beforeOk : 0,
      beforeErrPerS: perSecond(before, err),
      after10ErrPerS: perSecond(after, err),
      readback,
      final: final.keys,
      counters: summariseCounters(final),
      counterErrors: final.counterErrors,
      errorMessages: [...errorCounts.entries()].map(([message, slices]) => ({ message, slices })).sort((a, b) => b.slices - a.slices),
    };
  } finally {
    polling = false;
    cut?.teardown();
    if (load !== null) await stopManaged(load.proc);
    await stopCluster(cluster);
  }
}
