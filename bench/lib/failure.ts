import { setTimeout as sleep } from 'node:timers/promises';
import {
  killMember,
  restartMember,
  startCluster,
  stopCluster,
  waitClusterReady,
  waitMemberFailed,
  type RunningCluster,
} from './cluster.js';
import { LatencyHistogram } from './histogram.js';
import { parseLoadMessage, type LoadMix, type LoadSlice } from './load-messages.js';
import { spawnManaged, stopManaged, type ManagedProcess } from './proc.js';
import type { ServerPaths, Target } from './servers.js';

export interface FailureOptions {
  target: Target;
  host: string;
  scratch: string;
  paths: ServerPaths;
  /** dist/bench/lib/loadgen.js */
  loadgenEntry: string;
  clients: number;
  keyspace: number;
  dataSize: number;
  mix: LoadMix;
  /** Unmeasured load before the steady-state phase (JIT warm-up, keyspace fill). */
  warmupSeconds: number;
  /** Steady state measured before the kill. */
  steadySeconds: number;
  /** How long the node stays down after every survivor has flagged it `fail`. */
  downSeconds: number;
  /** Measured after the restarted node has rejoined. */
  afterSeconds: number;
}

/** Throughput and latency of one stretch of the run. */
export interface LoadStats {
  seconds: number;
  setRps: number;
  setP50Ms: number | null;
  setP99Ms: number | null;
  getRps: number;
  getP50Ms: number | null;
  getP99Ms: number | null;
  setErrors: number;
  getErrors: number;
  /** Longest run of consecutive slices in which no command succeeded, in seconds. */
  stallSeconds: number;
}

export interface PhaseStats extends LoadStats {
  phase: PhaseName;
  /** Seconds relative to the kill. */
  fromS: number;
  toS: number;
}

export interface WindowStats extends LoadStats {
  /** Window start in seconds relative to the kill. */
  startS: number;
  phase: PhaseName;
}

export type PhaseName = 'before' | 'down, undetected' | 'down, detected' | 'rejoining' | 'after rejoin';

export interface FailureEvent {
  name: string;
  /** Seconds relative to the kill. */
  atS: number;
}

export interface FailureReport {
  server: 'ringkv';
  variant: string;
  clusterPorts: number[];
  clientSeedPort: number;
  killedPort: number;
  clients: number;
  keyspace: number;
  mix: LoadMix;
  events: FailureEvent[];
  phases: PhaseStats[];
  windows: WindowStats[];
  /** Distinct error messages the client saw, with the number of 100 ms slices each appeared in. */
  errorMessages: Array<{ message: string; slices: number }>;
}

const VICTIM = 2;
const SEED = 0;

/** Epoch-ms boundaries of each phase, in order. */
interface Timeline {
  steady: number;
  kill: number;
  detected: number;
  restart: number;
  rejoined: number;
  end: number;
}

function phaseAt(t: number, tl: Timeline): PhaseName | null {
  if (t < tl.steady || t >= tl.end) return null;
  if (t < tl.kill) return 'before';
  if (t < tl.detected) return 'down, undetected';
  if (t < tl.restart) return 'down, detected';
  if (t < tl.rejoined) return 'rejoining';
  return 'after rejoin';
}

function midpoint(s: LoadSlice): number {
  return (s.t0 + s.t1) / 2;
}

function stats(slices: readonly LoadSlice[]): LoadStats {
  const set = new LatencyHistogram();
  const get = new LatencyHistogram();
  let ms = 0;
  let setErrors = 0;
  let getErrors = 0;
  let stall = 0;
  let longestStall = 0;
  for (const s of slices) {
    set.merge(s.set);
    get.merge(s.get);
    ms += s.t1 - s.t0;
    setErrors += s.errSet;
    getErrors += s.errGet;
    const ok = s.set.reduce((n, [, c]) => n + c, 0) + s.get.reduce((n, [, c]) => n + c, 0);
    stall = ok === 0 ? stall + (s.t1 - s.t0) : 0;
    longestStall = Math.max(longestStall, stall);
  }
  const seconds = ms / 1000;
  return {
    seconds,
    setRps: seconds > 0 ? set.count / seconds : 0,
    setP50Ms: set.percentileMs(50),
    setP99Ms: set.percentileMs(99),
    getRps: seconds > 0 ? get.count / seconds : 0,
    getP50Ms: get.percentileMs(50),
    getP99Ms: get.percentileMs(99),
    setErrors,
    getErrors,
    stallSeconds: longestStall / 1000,
  };
}

const rel = (t: number, kill: number): number => (t - kill) / 1000;

function summarise(slices: readonly LoadSlice[], tl: Timeline): { phases: PhaseStats[]; windows: WindowStats[] } {
  const phases: PhaseStats[] = [];
  const bounds: Array<[PhaseName, number, number]> = [
    ['before', tl.steady, tl.kill],
    ['down, undetected', tl.kill, tl.detected],
    ['down, detected', tl.detected, tl.restart],
    ['rejoining', tl.restart, tl.rejoined],
    ['after rejoin', tl.rejoined, tl.end],
  ];
  for (const [phase, from, to] of bounds) {
    const inPhase = slices.filter((s) => phaseAt(midpoint(s), tl) === phase);
    phases.push({ phase, fromS: rel(from, tl.kill), toS: rel(to, tl.kill), ...stats(inPhase) });
  }
  const windows: WindowStats[] = [];
  const first = Math.floor(rel(tl.steady, tl.kill));
  const last = Math.ceil(rel(tl.end, tl.kill));
  for (let startS = first; startS < last; startS++) {
    const from = tl.kill + startS * 1000;
    const inWindow = slices.filter((s) => {
      const m = midpoint(s);
      return m >= from && m < from + 1000 && phaseAt(m, tl) !== null;
    });
    if (inWindow.length === 0) continue;
    const phase = phaseAt(Math.max(from, tl.steady), tl) ?? 'before';
    windows.push({ startS, phase, ...stats(inWindow) });
  }
  return { phases, windows };
}

/**
 * The failure run: a ringkv cluster under steady load from `loadgen.js` (its only seed is a
 * node that survives), then SIGKILL of another node, detection, restart and rejoin. Every
 * boundary is observed from outside (CLUSTER NODES / CLUSTER INFO polling), never assumed
 * from a fixed delay, so the phases show what a client lives through.
 */
export async function runFailure(opts: FailureOptions, log: (line: string) => void): Promise<FailureReport> {
  const cluster: RunningCluster = await startCluster({
    target: opts.target,
    durable: false,
    host: opts.host,
    scratch: opts.scratch,
    paths: opts.paths,
  });
  let load: ManagedProcess | null = null;
  try {
    const seedPort = cluster.members[SEED].port;
    const victim = cluster.members[VICTIM];
    const slices: LoadSlice[] = [];
    const errorCounts = new Map<string, number>();
    let ready: () => void = () => undefined;
    const readyPromise = new Promise<void>((resolve) => {
      ready = resolve;
    });
    load = spawnManaged(
      'loadgen',
      opts.paths.nodeBinary,
      [
        opts.loadgenEntry,
        '--host', opts.host,
        '--port', String(seedPort),
        '--clients', String(opts.clients),
        '--keyspace', String(opts.keyspace),
        '--data-size', String(opts.dataSize),
        '--mix', opts.mix,
        '--max-seconds', String(opts.warmupSeconds + opts.steadySeconds + opts.downSeconds + opts.afterSeconds + 240),
      ],
      {
        onStdoutLine: (line) => {
          const msg = parseLoadMessage(line);
          if (msg === null) return;
          if (msg.type === 'ready') ready();
          if (msg.type === 'slice') {
            slices.push(msg);
            for (const e of msg.errors) {
              // Redirections differ only by slot; grouping them keeps the table readable.
              const key = e.replace(/\b(MOVED|ASK) \d+ /, '$1 <slot> ');
              errorCounts.set(key, (errorCounts.get(key) ?? 0) + 1);
            }
          }
        },
      },
    );
    const loadProc = load;
    const timer = new AbortController();
    const outcome = await Promise.race([
      readyPromise.then(() => 'ready'),
      loadProc.exited.then((status) => `exited before it was ready (${status})`),
      sleep(30_000, 'not ready within 30 s', { signal: timer.signal }).catch(() => 'cancelled'),
    ]);
    timer.abort();
    if (outcome !== 'ready') throw new Error(`load generator ${outcome}:\n${loadProc.outputTail()}`);
    const guard = (): void => {
      if (loadProc.hasExited()) throw new Error(`load generator exited early:\n${loadProc.outputTail()}`);
    };

    log(`[failure] cluster on ports ${cluster.members.map((m) => m.port).join(', ')}; client seeded with ${seedPort}; warming up ${opts.warmupSeconds} s`);
    await sleep(opts.warmupSeconds * 1000);
    guard();
    const steady = Date.now();
    await sleep(opts.steadySeconds * 1000);
    guard();
    const kill = Date.now();
    await killMember(cluster, VICTIM);
    log(`[failure] SIGKILL node ${victim.port}`);
    await waitMemberFailed(cluster, VICTIM);
    const detected = Date.now();
    log(`[failure] survivors flag ${victim.port} as fail after ${rel(detected, kill).toFixed(2)} s`);
    await sleep(opts.downSeconds * 1000);
    guard();
    const restart = Date.now();
    await restartMember(cluster, VICTIM);
    await waitClusterReady(cluster);
    const rejoined = Date.now();
    log(`[failure] node ${victim.port} restarted; cluster ok on every node ${((rejoined - restart) / 1000).toFixed(2)} s after the restart`);
    await sleep(opts.afterSeconds * 1000);
    guard();
    const end = Date.now();
    await stopManaged(loadProc);
    load = null;

    const tl: Timeline = { steady, kill, detected, restart, rejoined, end };
    const { phases, windows } = summarise(slices, tl);
    return {
      server: 'ringkv',
      variant: opts.target.variant,
      clusterPorts: cluster.members.map((m) => m.port),
      clientSeedPort: seedPort,
      killedPort: victim.port,
      clients: opts.clients,
      keyspace: opts.keyspace,
      mix: opts.mix,
      events: [
        { name: 'steady-state measurement starts', atS: rel(steady, kill) },
        { name: `SIGKILL node ${victim.port}`, atS: 0 },
        { name: 'both survivors flag it fail', atS: rel(detected, kill) },
        { name: 'node restarted (same port and data directory)', atS: rel(restart, kill) },
        { name: 'cluster_state ok, 3 known nodes, no fail flag on every node', atS: rel(rejoined, kill) },
        { name: 'end', atS: rel(end, kill) },
      ],
      phases,
      windows,
      errorMessages: [...errorCounts.entries()].map(([message, slices]) => ({ message, slices })).sort((a, b) => b.slices - a.slices),
    };
  } finally {
    if (load !== null) await stopManaged(load);
    await stopCluster(cluster);
  }
}
