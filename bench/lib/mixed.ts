import { serverTicks, type Measurement } from './benchmark.js';
import { clockTicksPerSecond } from './cpu.js';
import { parseMixedLoadResult, type MixedLoadResult, type MixedTest } from './mixed-result.js';
import { runManaged } from './proc.js';

/** One run of the mixed-slot generator (`mixedload.ts`) against a cluster. */
export interface MixedRun {
  nodeBinary: string;
  /** dist/bench/lib/mixedload.js */
  entry: string;
  host: string;
  /** Any node: the generator reads the slot map from it. */
  port: number;
  test: MixedTest;
  /** Commands to send (ignored by `fill`, which sends one SET per key). */
  requests: number;
  connections: number;
  /** Commands in flight per connection. */
  depth: number;
  keyspace: number;
  dataSize: number;
  serverPids: readonly number[];
  timeoutMs: number;
}

function mixedArgs(run: MixedRun): string[] {
  return [
    run.entry,
    '--host', run.host,
    '--port', String(run.port),
    '--test', run.test,
    '--requests', String(run.requests),
    '--connections', String(run.connections),
    '--depth', String(run.depth),
    '--keyspace', String(run.keyspace),
    '--data-size', String(run.dataSize),
    // The generator stops itself a little before the harness would kill it, so it can say how far it got.
    '--max-seconds', String(Math.max(1, Math.floor(run.timeoutMs / 1000) - 5)),
  ];
}

async function runMixed(run: MixedRun): Promise<{ result: MixedLoadResult; ticks: number; wallSeconds: number }> {
  const before = serverTicks(run.serverPids);
  const started = process.hrtime.bigint();
  const outcome = await runManaged('mixedload', run.nodeBinary, mixedArgs(run), run.timeoutMs);
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const ticks = serverTicks(run.serverPids) - before;
  const result = outcome.ok ? parseMixedLoadResult(outcome.stdout) : null;
  if (result === null) throw new Error(`mixed-slot ${run.test} run failed (${outcome.status}):\n${outcome.output}`);
  return { result, ticks, wallSeconds };
}

/** SETs every key of the keyspace once (unmeasured), so the GET runs read existing keys. */
export async function fillKeyspace(run: Omit<MixedRun, 'test'>): Promise<MixedLoadResult> {
  const { result } = await runMixed({ ...run, test: 'fill' });
  return result;
}

/**
 * One measured mixed-slot run with the servers' CPU sampled around it. The figure is per reply
 * (errors included: the servers did the work of answering them); the row carries the error count.
 */
export async function measureMixed(run: MixedRun & { test: 'set' | 'get' }): Promise<Measurement> {
  const { result, ticks, wallSeconds } = await runMixed(run);
  return {
    test: run.test.toUpperCase(),
    generator: 'mixed-slot',
    pipeline: run.depth,
    requests: result.requests,
    rps: result.rps,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    avgMs: result.avgMs,
    cpuTicks: ticks,
    cpuUsPerRequest: (ticks * 1e6) / clockTicksPerSecond() / Math.max(1, result.requests),
    wallSeconds,
    errors: result.errors,
    misses: result.misses,
    errorSamples: result.errorSamples,
  };
}
