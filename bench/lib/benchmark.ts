import { clockTicksPerSecond, processTreeTicks } from './cpu.js';
import { parseBenchmarkCsv } from './csv.js';
import { runManaged, type RunResult } from './proc.js';

export interface LoadShape {
  clients: number;
  dataSize: number;
  keyspace: number;
}

export interface BenchmarkRun {
  benchmarkBinary: string;
  host: string;
  port: number;
  /** One test per run so each CPU delta is attributable to a single command. */
  test: 'set' | 'get';
  requests: number;
  pipeline: number;
  shape: LoadShape;
  /** Every server process whose CPU time is charged to the run (all nodes of a cluster). */
  serverPids: readonly number[];
  /** `redis-benchmark --cluster`: reads the slot map from `host:port` and spreads clients over the masters. */
  cluster: boolean;
  timeoutMs: number;
  /** redis-benchmark's TLS flags (`--tls --cert … --key … --cacert …`); absent = plain TCP. */
  tlsArgs?: readonly string[];
}

/**
 * Which load produced a measurement: `redis-benchmark` (with `--cluster`, each connection's
 * pipeline stays in one slot) or the mixed-slot generator (`mixedload.ts`: random keys,
 * `pipeline` commands in flight per connection).
 */
export type Generator = 'redis-benchmark' | 'mixed-slot';

export interface Measurement {
  test: string;
  generator: Generator;
  /** Pipeline depth (redis-benchmark `-P`), or commands in flight per connection (mixed-slot). */
  pipeline: number;
  requests: number;
  rps: number;
  p50Ms: number | null;
  p99Ms: number | null;
  avgMs: number | null;
  cpuTicks: number;
  cpuUsPerRequest: number;
  wallSeconds: number;
  /** Error replies (mixed-slot only: redis-benchmark does not count them). */
  errors?: number;
  /** Nil replies to GET (mixed-slot only). */
  misses?: number;
  /** Distinct error replies and their counts (mixed-slot only). */
  errorSamples?: Array<[string, number]>;
}

export function benchmarkArgs(run: BenchmarkRun, tests: string = run.test): string[] {
  const args = [
    ...(run.cluster ? ['--cluster'] : []),
    '-h', run.host,
    '-p', String(run.port),
    '-c', String(run.shape.clients),
    '-d', String(run.shape.dataSize),
    '-r', String(run.shape.keyspace),
    '-n', String(run.requests),
    '-t', tests,
    '--csv',
    ...(run.tlsArgs ?? []),
  ];
  if (run.pipeline > 1) args.push('-P', String(run.pipeline));
  return args;
}

/** CPU of all server processes together: a cluster's cost per request is that of all its nodes. */
export function serverTicks(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + processTreeTicks(pid), 0);
}

/** Unmeasured SET+GET pass: fills the keyspace and lets a JIT-compiled server reach steady state. */
export async function warmUp(run: BenchmarkRun): Promise<void> {
  const args = benchmarkArgs(run, 'set,get');
  const result = await runManaged('redis-benchmark', run.benchmarkBinary, args, run.timeoutMs);
  if (!result.ok) throw new Error(`warm-up redis-benchmark ${args.join(' ')} failed (${result.status}):\n${result.output}`);
}

/** What one redis-benchmark invocation printed, and the servers' CPU ticks while it ran. */
export interface SampledRun {
  result: RunResult;
  ticks: number;
  wallSeconds: number;
}

/**
 * Runs redis-benchmark invocations at the same time (usually one) and samples the servers' CPU
 * time around all of them: each run's CPU is attributable to its command only when it runs alone.
 */
export async function runSampled(binary: string, argLists: readonly string[][], serverPids: readonly number[], timeoutMs: number): Promise<SampledRun[]> {
  const before = serverTicks(serverPids);
  const started = process.hrtime.bigint();
  const results = await Promise.all(argLists.map((args) => runManaged('redis-benchmark', binary, args, timeoutMs)));
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const ticks = serverTicks(serverPids) - before;
  return results.map((result) => ({ result, ticks, wallSeconds }));
}

/**
 * Runs redis-benchmark once and samples the servers' CPU time around it. The load
 * generator shares the machine's cores, so throughput alone understates a server
 * that is starved by the client; CPU per request is the fairer efficiency figure.
 */
export async function measure(run: BenchmarkRun): Promise<Measurement> {
  const [{ result, ticks: cpuTicks, wallSeconds }] = await runSampled(run.benchmarkBinary, [benchmarkArgs(run)], run.serverPids, run.timeoutMs);
  if (!result.ok) {
    throw new Error(`redis-benchmark ${benchmarkArgs(run).join(' ')} failed (${result.status}):\n${result.output}`);
  }
  const rows = parseBenchmarkCsv(result.stdout);
  const row = rows.find((r) => r.test.toLowerCase() === run.test);
  if (row === undefined) {
    throw new Error(`redis-benchmark printed no ${run.test.toUpperCase()} row:\n${result.output}`);
  }
  return {
    test: row.test,
    generator: 'redis-benchmark',
    pipeline: run.pipeline,
    requests: run.requests,
    rps: row.rps,
    p50Ms: row.p50Ms,
    p99Ms: row.p99Ms,
    avgMs: row.avgMs,
    cpuTicks,
    cpuUsPerRequest: (cpuTicks * 1e6) / clockTicksPerSecond() / run.requests,
    wallSeconds,
  };
}
