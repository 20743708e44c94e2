import { setTimeout as sleep } from 'node:timers/promises';
import { LatencyHistogram } from './histogram.js';
import { parseLoadMessage, type LoadMix, type LoadSlice } from './load-messages.js';
import { spawnManaged, stopManaged, type ManagedProcess } from './proc.js';
import { startCluster, stopCluster, type RunningCluster } from './cluster.js';
import type { ServerPaths, Target } from './servers.js';

/**
 * What the failure and rebalance runs share: a closed-loop load generator against a ringkv
 * cluster, its 100 ms slices, and their summary per phase and per second around one origin.
 */

/** What every disruption run is given. */
export interface DisruptionOptions {
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
  /** Unmeasured load before the first measured phase (JIT warm-up, keyspace fill). */
  warmupSeconds: number;
  /** Steady state measured before the disruption. */
  steadySeconds: number;
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
  phase: string;
  /** Seconds relative to the run's origin (the kill, the join). */
  fromS: number;
  toS: number;
}

export interface WindowStats extends LoadStats {
  /** Window start in seconds relative to the origin. */
  startS: number;
  phase: string;
}

export interface DisruptionEvent {
  name: string;
  /** Seconds relative to the origin. */
  atS: number;
}

/** One disruption run as the report shows it. */
export interface DisruptionReport {
  /** Section heading, e.g. "Failure" or "Rebalancing". */
  heading: string;
  /** One paragraph saying what ran and what t=0 is. */
  title: string;
  server: 'ringkv';
  variant: string;
  clusterPorts: number[];
  clientSeedPort: number;
  clients: number;
  keyspace: number;
  mix: LoadMix;
  events: DisruptionEvent[];
  phases: PhaseStats[];
  windows: WindowStats[];
  /** Distinct error messages the client saw, with the number of 100 ms slices each appeared in. */
  errorMessages: Array<{ message: string; slices: number }>;
}

/** A phase by name and its [from, to) bounds in epoch ms; in order, contiguous. */
export type PhaseBounds = ReadonlyArray<readonly [string, number, number]>;

function midpoint(s: LoadSlice): number {
  return (s.t0 + s.t1) / 2;
}

function phaseAt(t: number, bounds: PhaseBounds): string | null {
  for (const [phase, from, to] of bounds) if (t >= from && t < to) return phase;
  return null;
}

export function stats(slices: readonly LoadSlice[]): LoadStats {
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

export const relative = (t: number, origin: number): number => (t - origin) / 1000;

/** Per phase, and per second relative to `origin`, over the slices inside the phases. */
export function summarise(slices: readonly LoadSlice[], bounds: PhaseBounds, origin: number): { phases: PhaseStats[]; windows: WindowStats[] } {
  const phases: PhaseStats[] = bounds.map(([phase, from, to]) => ({
    phase,
    fromS: relative(from, origin),
    toS: relative(to, origin),
    ...stats(slices.filter((s) => phaseAt(midpoint(s), bounds) === phase)),
  }));
  const windows: WindowStats[] = [];
  const start = bounds[0]![1];
  const end = bounds[bounds.length - 1]![2];
  for (let startS = Math.floor(relative(start, origin)); startS < Math.ceil(relative(end, origin)); startS++) {
    const from = origin + startS * 1000;
    const inWindow = slices.filter((s) => {
      const m = midpoint(s);
      return m >= from && m < from + 1000 && phaseAt(m, bounds) !== null;
    });
    if (inWindow.length === 0) continue;
    windows.push({ startS, phase: phaseAt(Math.max(from, start), bounds) ?? bounds[0]![0], ...stats(inWindow) });
  }
  return { phases, windows };
}


/** A running load generator and what it has reported so far. */
export interface RunningLoad {
  readonly slices: LoadSlice[];
  /** Throws if the generator ended before it was asked to. */
  guard(): void;
  stop(): Promise<void>;
  errorMessages(): Array<{ message: string; slices: number }>;
}

/**
 * Starts `loadgen.js` against `seedPort` and resolves once its client is connected and running;
 * it ends itself after `maxSeconds` should the run never stop it.
 */
export async function startLoad(opts: DisruptionOptions, seedPort: number, maxSeconds: number): Promise<RunningLoad> {
  const slices: LoadSlice[] = [];
  const errorCounts = new Map<string, number>();
  let ready: () => void = () => undefined;
  const readyPromise = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const proc: ManagedProcess = spawnManaged(
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
      '--max-seconds', String(maxSeconds),
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
  const timer = new AbortController();
  const outcome = await Promise.race([
    readyPromise.then(() => 'ready'),
    proc.exited.then((status) => `exited before it was ready (${status})`),
    sleep(30_000, 'not ready within 30 s', { signal: timer.signal }).catch(() => 'cancelled'),
  ]);
  timer.abort();
  if (outcome !== 'ready') {
    await stopManaged(proc);
    throw new Error(`load generator ${outcome}:\n${proc.outputTail()}`);
  }
  return {
    slices,
    guard: () => {
      if (proc.hasExited()) throw new Error(`load generator exited early:\n${proc.outputTail()}`);
    },
    stop: () => stopManaged(proc),
    errorMessages: () => [...errorCounts.entries()].map(([message, n]) => ({ message, slices: n })).sort((a, b) => b.slices - a.slices),
  };
}

/** The report fields every disruption run fills the same way. */
export function reportBase(opts: DisruptionOptions, cluster: RunningCluster, seedPort: number): Pick<DisruptionReport, 'server' | 'variant' | 'clusterPorts' | 'clientSeedPort' | 'clients' | 'keyspace' | 'mix'> {
  return {
    server: 'ringkv',
    variant: opts.target.variant,
    clusterPorts: cluster.members.map((m) => m.port),
    clientSeedPort: seedPort,
    clients: opts.clients,
    keyspace: opts.keyspace,
    mix: opts.mix,
  };
}

/** "ringkv N3 W2 R2, 50 workers (set,get, 100,000 keys) through one ioredis Cluster client seeded with :P" */
export function loadDescription(opts: DisruptionOptions, seedPort: number): string {
  return `ringkv ${opts.target.variant}, ${opts.clients} workers (${opts.mix}, ${opts.keyspace.toLocaleString('en-US')} keys) through one ioredis Cluster client seeded with :${seedPort}`;
}

/** What a disruption run's body gets: the loaded cluster, warmed up, its steady phase measured. */
export interface LoadedCluster {
  cluster: RunningCluster;
  load: RunningLoad;
  seedPort: number;
  /** When the measured steady phase began (epoch ms); it has lasted `steadySeconds` by now. */
  steady: number;
}

/**
 * Starts a ringkv cluster and the load generator seeded with its first node, warms up, measures
 * the steady phase, then runs `body`; stops the load and every node however it ends.
 */
export async function withLoadedCluster<T>(
  opts: DisruptionOptions,
  name: string,
  extraSeconds: number,
  log: (line: string) => void,
  body: (ctx: LoadedCluster) => Promise<T>,
): Promise<T> {
  const cluster = await startCluster({ target: opts.target, durable: false, host: opts.host, scratch: opts.scratch, paths: opts.paths });
  let load: RunningLoad | null = null;
  try {
    const seedPort = cluster.members[0]!.port;
    load = await startLoad(opts, seedPort, opts.warmupSeconds + opts.steadySeconds + extraSeconds);
    log(`[${name}] cluster on ports ${cluster.members.map((m) => m.port).join(', ')}; client seeded with ${seedPort}; warming up ${opts.warmupSeconds} s`);
    await sleep(opts.warmupSeconds * 1000);
    load.guard();
    const steady = Date.now();
    await sleep(opts.steadySeconds * 1000);
    load.guard();
    return await body({ cluster, load, seedPort, steady });
  } finally {
    await load?.stop();
    await stopCluster(cluster);
  }
}
