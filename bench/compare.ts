import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measure, warmUp, type LoadShape, type Measurement } from './lib/benchmark.js';
import { clockTicksPerSecond } from './lib/cpu.js';
import { freePort } from './lib/ports.js';
import { exitedWithin, killAllSync, runManaged, spawnManaged, stopManaged, waitForPing } from './lib/proc.js';
import { computeRatios, renderText, testLabel, writeSummary, type ResultRow, type Summary } from './lib/report.js';
import {
  launchCommand,
  SCENARIOS,
  SERVER_NAMES,
  type Scenario,
  type ScenarioName,
  type ServerName,
  type ServerPaths,
} from './lib/servers.js';

const HOST = '127.0.0.1';
const SHAPE: LoadShape = { clients: 50, dataSize: 100, keyspace: 100_000 };
const DEFAULT_REQUESTS = 200_000;
const QUICK_REQUESTS = 30_000;
/**
 * Pipelined runs go an order of magnitude faster, and /proc CPU times tick at 10 ms;
 * with the same request count a run would last a few ticks and the CPU figure would be noise.
 */
const PIPELINED_FACTOR = 5;

const USAGE = `Usage: node dist/bench/compare.js [options]

Benchmarks ringkv against redis-server with redis-benchmark, one server at a time.

  --requests N           requests per unpipelined redis-benchmark run (default ${DEFAULT_REQUESTS})
  --pipelined-requests N requests per pipelined run (default ${PIPELINED_FACTOR} x --requests)
  --quick                short run (${QUICK_REQUESTS} requests per unpipelined run), about 30 s
  --only redis|ringkv    benchmark one server only (no ratios)
  --scenario NAME        no-persistence or durable; repeat to pick several (default: both)
  --repeat K             run each test K times and keep the median-throughput run (default 1)
  --pipeline P           pipeline depth of the pipelined runs (default 16)
  --out PATH             markdown summary; JSON goes beside it (default bench/results/latest.md)
  --timeout SECONDS      limit for one redis-benchmark run (default 600)
  --redis-server BIN     redis-server binary (default redis-server)
  --redis-benchmark BIN  redis-benchmark binary (default redis-benchmark)
  --ringkv-entry PATH    ringkv CLI script (default dist/src/cli.js)
  --ringkv-arg ARG       extra argument for the ringkv server; repeatable
  -h, --help             show this help
`;

interface Options {
  requests: number;
  pipelinedRequests: number;
  warmupRequests: number;
  repeat: number;
  pipeline: number;
  servers: ServerName[];
  scenarios: Scenario[];
  outPath: string;
  timeoutMs: number;
  redisBenchmark: string;
  paths: ServerPaths;
  quick: boolean;
}

function findRepoRoot(): string {
  // Works both from dist/bench/compare.js and from bench/compare.ts.
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot locate the ringkv package root');
    dir = parent;
  }
  return dir;
}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${value}`);
  return n;
}

function parseOptions(root: string): Options | null {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string' },
      'pipelined-requests': { type: 'string' },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      scenario: { type: 'string', multiple: true },
      pipeline: { type: 'string' },
      repeat: { type: 'string' },
      out: { type: 'string' },
      timeout: { type: 'string' },
      'redis-server': { type: 'string', default: 'redis-server' },
      'redis-benchmark': { type: 'string', default: 'redis-benchmark' },
      'ringkv-entry': { type: 'string' },
      'ringkv-arg': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return null;

  const requests = positiveInt('requests', values.requests, values.quick ? QUICK_REQUESTS : DEFAULT_REQUESTS);
  const only = values.only;
  if (only !== undefined && !SERVER_NAMES.includes(only as ServerName)) {
    throw new Error(`--only must be one of ${SERVER_NAMES.join(', ')}, got ${only}`);
  }
  const picked = values.scenario ?? [];
  for (const name of picked) {
    if (!SCENARIOS.some((s) => s.name === name)) {
      throw new Error(`--scenario must be one of ${SCENARIOS.map((s) => s.name).join(', ')}, got ${name}`);
    }
  }
  return {
    requests,
    pipelinedRequests: positiveInt('pipelined-requests', values['pipelined-requests'], requests * PIPELINED_FACTOR),
    // Enough to get V8 past its JIT tiers and the keyspace populated before anything is measured.
    warmupRequests: Math.max(1000, Math.round(requests / 10)),
    repeat: positiveInt('repeat', values.repeat, 1),
    pipeline: positiveInt('pipeline', values.pipeline, 16),
    servers: only === undefined ? [...SERVER_NAMES] : [only as ServerName],
    scenarios: picked.length === 0 ? [...SCENARIOS] : SCENARIOS.filter((s) => picked.includes(s.name)),
    outPath: values.out !== undefined ? path.resolve(values.out) : path.join(root, 'bench', 'results', 'latest.md'),
    timeoutMs: positiveInt('timeout', values.timeout, 600) * 1000,
    redisBenchmark: values['redis-benchmark'],
    paths: {
      redisServer: values['redis-server'],
      nodeBinary: process.execPath,
      ringkvEntry: path.resolve(values['ringkv-entry'] ?? path.join(root, 'dist', 'src', 'cli.js')),
      ringkvExtraArgs: values['ringkv-arg'] ?? [],
    },
    quick: values.quick,
  };
}

async function versionOf(binary: string): Promise<string> {
  const result = await runManaged(binary, binary, ['--version'], 10_000);
  if (!result.ok) throw new Error(`${binary} --version failed (${result.status}); is it installed? ${result.output}`);
  return result.stdout.trim();
}

/** Other load on a shared 2-core box skews single runs; the median run is robust to one outlier. */
function medianRun(runs: readonly Measurement[]): Measurement {
  const sorted = [...runs].sort((a, b) => a.rps - b.rps);
  return sorted[Math.floor(sorted.length / 2)];
}

async function benchServer(server: ServerName, scenario: ScenarioName, opts: Options, scratch: string): Promise<ResultRow[]> {
  const port = await freePort(HOST);
  const dir = mkdtempSync(path.join(scratch, `${server}-${scenario}-`));
  const launch = launchCommand(server, scenario, port, dir, opts.paths);
  const proc = spawnManaged(server, launch.command, launch.args, { cwd: dir });
  const rows: ResultRow[] = [];
  try {
    await waitForPing(proc, HOST, port);
    const base = {
      benchmarkBinary: opts.redisBenchmark,
      host: HOST,
      port,
      shape: SHAPE,
      serverPid: proc.pid,
      timeoutMs: opts.timeoutMs,
    };
    await warmUp({ ...base, test: 'set', requests: opts.warmupRequests, pipeline: 1 });
    for (const pipeline of [1, opts.pipeline]) {
      for (const test of ['set', 'get'] as const) {
        const requests = pipeline > 1 ? opts.pipelinedRequests : opts.requests;
        const runs: Measurement[] = [];
        for (let i = 0; i < opts.repeat; i++) {
          try {
            runs.push(await measure({ ...base, test, requests, pipeline }));
          } catch (err) {
            // A server crash surfaces as a client error first; its own output says why.
            const status = await exitedWithin(proc, 1000);
            if (status === null) throw err;
            throw new Error(`${server} exited (${status}) during ${testLabel(test.toUpperCase(), pipeline)}:\n${proc.outputTail()}`);
          }
        }
        const m = medianRun(runs);
        rows.push({ ...m, scenario, server });
        console.log(
          `[${scenario}] ${server.padEnd(6)} ${testLabel(m.test, m.pipeline).padEnd(8)} ` +
            `${Math.round(m.rps).toLocaleString('en-US').padStart(10)} ops/s  ` +
            `p50 ${m.p50Ms ?? 'n/a'} ms  p99 ${m.p99Ms ?? 'n/a'} ms  CPU ${m.cpuUsPerRequest.toFixed(2)} µs/req`,
        );
      }
    }
  } finally {
    await stopManaged(proc);
  }
  return rows;
}

async function main(): Promise<void> {
  const root = findRepoRoot();
  const opts = parseOptions(root);
  if (opts === null) {
    process.stdout.write(USAGE);
    return;
  }
  if (opts.servers.includes('ringkv') && !existsSync(opts.paths.ringkvEntry)) {
    throw new Error(`ringkv CLI not found at ${opts.paths.ringkvEntry}; build it (npm run build) or run with --only redis`);
  }
  const benchmarkVersion = await versionOf(opts.redisBenchmark);
  const redisVersion = opts.servers.includes('redis') ? await versionOf(opts.paths.redisServer) : 'not run';
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: string };

  // Other work on the box skews results; recording the load at the start makes noisy runs recognisable.
  const loadAtStart = os.loadavg()[0].toFixed(2);
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'ringkv-bench-'));
  scratchDirs.add(scratch);
  const results: ResultRow[] = [];
  try {
    for (const scenario of opts.scenarios) {
      for (const server of opts.servers) {
        results.push(...(await benchServer(server, scenario.name, opts, scratch)));
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    scratchDirs.delete(scratch);
  }

  const summary: Summary = {
    generatedAt: new Date().toISOString(),
    environment: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      kernel: `${os.type()} ${os.release()}`,
      node: process.version,
      ringkv: pkg.version ?? 'unknown',
      redisServer: redisVersion,
      redisBenchmark: benchmarkVersion,
      clockTicksPerSecond: clockTicksPerSecond(),
      loadAverageAtStart: loadAtStart,
    },
    config: {
      requests: opts.requests,
      pipelinedRequests: opts.pipelinedRequests,
      warmupRequests: opts.warmupRequests,
      clients: SHAPE.clients,
      dataSize: SHAPE.dataSize,
      keyspace: SHAPE.keyspace,
      pipeline: opts.pipeline,
      repeat: opts.repeat,
      quick: opts.quick,
      servers: opts.servers.join(', '),
      scenarios: opts.scenarios.map((s) => s.name).join(', '),
    },
    results,
    ratios: computeRatios(results),
  };
  console.log(`\n${renderText(summary)}\n`);
  const written = writeSummary(summary, opts.outPath);
  console.log(`wrote ${written.markdown} and ${written.json}`);
}

/** Scratch directories to remove if the run is interrupted. */
const scratchDirs = new Set<string>();

function emergencyCleanup(): void {
  killAllSync();
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
  scratchDirs.clear();
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping servers`);
    emergencyCleanup();
    process.exit(128 + os.constants.signals[signal]);
  });
}
// Covers paths that skip the finally blocks, such as process.exit from elsewhere.
process.on('exit', killAllSync);

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  emergencyCleanup();
  process.exitCode = 1;
});
