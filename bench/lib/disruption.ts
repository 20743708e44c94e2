import { setTimeout as sleep } from 'node:timers/promises';
import { LatencyHistogram } from './histogram.js';
import { parseLoadMessage, type LoadMix, type LoadSlice } from './load-messages.js';
import { spawnManaged, stopManaged, type ManagedProcess } from './proc.js';

/**
 * What the failure and rebalance runs share: a closed-loop load generator against a ringkv
 * cluster, its 100 ms slices, and their summary per phase and per second around one origin.
 */

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

export interface LoadOptions {
  nodeBinary: string;
  /** dist/bench/lib/loadgen.js */
  loadgenEntry: string;
  host: string;
  seedPort: number;
  clients: number;
  keyspace: number;
  dataSize: number;
  mix: LoadMix;
  maxSeconds: number;
}

/** A running load generator and what it has reported so far. */
export interface RunningLoad {
  readonly slices: LoadSlice[];
  /** Throws if the generator ended before it was asked to. */
  guard(): void;
  stop(): Promise<void>;
  errorMessages(): Array<{ message: string; slices: number }>;
}

/** Starts `loadgen.js` and resolves once its client is connected and running. */
export async function startLoad(opts: LoadOptions): Promise<RunningLoad> {
  const slices: LoadSlice[] = [];
  const errorCounts = new Map<string, number>();
  let ready: () => void = () => undefined;
  const readyPromise = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const proc: ManagedProcess = spawnManaged(
    'loadgen',
    opts.nodeBinary,
    [
      opts.loadgenEntry,
      '--host', opts.host,
      '--port', String(opts.seedPort),
      '--clients', String(opts.clients),
      '--keyspace', String(opts.keyspace),
      '--data-size', String(opts.dataSize),
      '--mix', opts.mix,
      '--max-seconds', String(opts.maxSeconds),
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
