import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measure, warmUp, type Generator, type LoadShape, type Measurement } from './lib/benchmark.js';
import { clusterPids, startCluster, stopCluster } from './lib/cluster.js';
import { clockTicksPerSecond } from './lib/cpu.js';
import { runFailure } from './lib/failure.js';
import type { AckMix } from './lib/ack-messages.js';
import { runFailover, type FailoverReport, type FaultKind } from './lib/failover.js';
import { partitionUnavailable } from './lib/netcut.js';
import { runRebalance } from './lib/rebalance.js';
import type { DisruptionOptions, DisruptionReport } from './lib/disruption.js';
import { fillKeyspace, measureMixed } from './lib/mixed.js';
import { DEFAULT_EVICTION_OPTIONS, EVICTION_POLICIES, renderEvictionTable, runEvictionWorkload, type EvictionOptions, type EvictionRow } from './lib/eviction.js';
import {
  COLLECTION_TYPES,
  COLLECTIONS_PARTS,
  runBuiltins,
  runDel,
  runMemory,
  runOps,
  slotPrimary,
  type CollectionsEndpoint,
  BUILTIN_TESTS,
  type CollectionsPart,
  type CollectionsReport,
  type CollectionsSettings,
} from './lib/collections.js';
import { freePort } from './lib/ports.js';
import { benchmarkTlsArgs, makeBenchCertificates, serverTlsArgs } from './lib/tls-certs.js';
import { runStreams, STREAMS_DEFAULTS, type StreamsRow } from './lib/streams.js';
import { MEMORY_KEYS_DEFAULTS, renderMemoryKeysTable, runMemoryKeys, type MemoryKeysRow } from './lib/memory-keys.js';
import { runScripting, SCRIPTING_DEFAULTS, type ScriptingRow } from './lib/scripting.js';
import { exitedWithin, killAllSync, runManaged, spawnManaged, stopManaged, waitForPing, type ManagedProcess } from './lib/proc.js';
import { computeRatios, renderText, testLabel, writeSummary, type ResultRow, type Summary } from './lib/report.js';
import {
  defaultsClusterLaunch,
  isClusterKind,
  launchCommand,
  SCENARIOS,
  scenarioTargets,
  SERVER_NAMES,
  type Scenario,
  type ServerName,
  type ServerPaths,
  type Target,
} from './lib/servers.js';

const HOST = '127.0.0.1';
const SHAPE: LoadShape = { clients: 50, dataSize: 100, keyspace: 100_000 };
const DEFAULT_REQUESTS = 200_000;
const QUICK_REQUESTS = 30_000;
/**
 * A ringkv cluster's writes run at a few thousand per second here, so its runs are shorter.
 * Redis Cluster runs keep the single-node counts: at its speed fewer requests would last too
 * few 10 ms CPU ticks to give a CPU figure. Throughput and latency are rates, so the ratios hold.
 */
const DEFAULT_CLUSTER_REQUESTS = 100_000;
const QUICK_CLUSTER_REQUESTS = 10_000;
const CLUSTER_WARMUP_REQUESTS = 40_000;
/** Failure run phases in seconds: warm-up, steady state, down after detection, after rejoin. */
const FAILURE_SECONDS = { warmup: 3, steady: 10, down: 8, after: 10 };
const QUICK_FAILURE_SECONDS = { warmup: 2, steady: 5, down: 4, after: 5 };
/** Failover runs in seconds: warm-up, measured before the fault, measured after it, partition length. */
const FAILOVER_SECONDS = { warmup: 3, before: 10, after: 20, partition: 10 };
const QUICK_FAILOVER_SECONDS = { warmup: 2, before: 5, after: 12, partition: 5 };
const FAILOVER_MIXES: readonly AckMix[] = ['set', 'set,incr'];
const FAILOVER_CLIENTS = 20;
const FAILOVER_COUNTERS = 50;
/**
 * Keys read back 1 s after the fault, drawn from those acknowledged before it. The read-back
 * shares the client and the cores with the load; a fixed count costs both servers the same,
 * where "all" would load Redis (more keys written) longer than ringkv.
 */
const READBACK_KEYS = 5000;
/**
 * Failover runs put every node on an address of its own, so a partition can single one out with
 * packet-filter rules (Linux routes all of 127.0.0.0/8 to the loopback device). Addresses apart
 * from the fault suite's (127.0.0.11 and up) so the two never cut each other's links.
 */
const FAILOVER_HOSTS = {
  ringkv: ['127.0.0.151', '127.0.0.152', '127.0.0.153'],
  redis: ['127.0.0.161', '127.0.0.162', '127.0.0.163', '127.0.0.164', '127.0.0.165', '127.0.0.166'],
};
/**
 * Pipelined runs go an order of magnitude faster, and /proc CPU times tick at 10 ms;
 * with the same request count a run would last a few ticks and the CPU figure would be noise.
 */
const PIPELINED_FACTOR = 5;
/** Mixed-slot load: connections spread over the cluster's masters. */
const MIXED_CONNECTIONS = 50;
/** Collections scenario: the two sizes, the DEL collection, the memory run. */
const COLLECTIONS_SMALL = 100;
/**
 * Requests per collections run. Fewer than the SET/GET runs: 20 runs per server, and a ringkv
 * cluster writes one collection (one key, one coordinator) at a few hundred per second here.
 */
const COLLECTIONS_REQUESTS = 100_000;
const QUICK_COLLECTIONS_REQUESTS = 10_000;
const COLLECTIONS_CLUSTER_REQUESTS = 20_000;
const QUICK_COLLECTIONS_CLUSTER_REQUESTS = 2_000;
const COLLECTIONS_BIG = 100_000;
const QUICK_COLLECTIONS_BIG = 10_000;
const COLLECTIONS_DEL_SIZE = 1_000_000;
const QUICK_COLLECTIONS_DEL_SIZE = 100_000;
const COLLECTIONS_DEL_REPEAT = 3;
const COLLECTIONS_MEMORY_SIZE = 1_000_000;
const QUICK_COLLECTIONS_MEMORY_SIZE = 100_000;
const COLLECTIONS_MEMORY_COUNT = 10;
const COLLECTIONS_MEMORY_PAUSE = 30;
const QUICK_COLLECTIONS_MEMORY_PAUSE = 5;
/** The memory run stops filling a node past this RSS: the machine is shared. */
const COLLECTIONS_MEMORY_LIMIT_MIB = 8192;
const DEFAULT_COLLECTIONS_PARTS: readonly CollectionsPart[] = ['ops', 'builtin', 'del'];

const USAGE = `Usage: node dist/bench/compare.js [options]

Benchmarks ringkv against redis-server with redis-benchmark, one server (or cluster) at a time.

  --requests N           requests per unpipelined single-node run (default ${DEFAULT_REQUESTS})
  --pipelined-requests N requests per pipelined single-node run (default ${PIPELINED_FACTOR} x --requests)
  --cluster-requests N   requests per unpipelined ringkv cluster run (default ${DEFAULT_CLUSTER_REQUESTS});
                         Redis Cluster runs use --requests and --pipelined-requests
  --cluster-pipelined-requests N
                         requests per pipelined ringkv cluster run (default ${PIPELINED_FACTOR} x --cluster-requests)
  --quick                short runs (${QUICK_REQUESTS} single-node, ${QUICK_CLUSTER_REQUESTS} cluster requests; shorter failure phases)
  --only redis|ringkv    benchmark one server only (no ratios)
  --scenario NAME        ${SCENARIOS.map((s) => s.name).join(', ')};
                         repeat to pick several (default: all but ${SCENARIOS.filter((s) => s.optIn === true).map((s) => s.name).join(', ')})
  --failure-steady S     failure run: seconds of steady state before the kill (default ${FAILURE_SECONDS.steady})
  --failure-down S       failure run: seconds the node stays down once detected (default ${FAILURE_SECONDS.down})
  --failure-after S      failure run: seconds measured after it rejoined (default ${FAILURE_SECONDS.after})
  --failover-mix MIX     failover/partition runs: set or set,incr; repeatable (default both)
  --failover-clients C   failover/partition runs: ioredis workers (default ${FAILOVER_CLIENTS})
  --failover-before S    failover/partition runs: seconds measured before the fault (default ${FAILOVER_SECONDS.before})
  --failover-after S     failover/partition runs: seconds measured from the fault on (default ${FAILOVER_SECONDS.after})
  --partition-seconds S  partition run: seconds the node stays cut off (default ${FAILOVER_SECONDS.partition})
  --retry-delay-on-failover MS
                         failover/partition runs: the workload client's ioredis retryDelayOnFailover
                         (default: ioredis's, 100); 0 reports a command whose connection closed instead
                         of sending it again
  --readback-keys N|all  failover/partition runs: keys acknowledged before the fault read back 1 s after it (default ${READBACK_KEYS})
  --repeat K             run each test K times and keep the median-throughput run (default 1)
  --pipeline P           pipeline depth of the pipelined runs (default 16)
  --mixed-connections C  cluster-pipelined: connections of the mixed-slot generator (default ${MIXED_CONNECTIONS})
  --mixed-depth D        cluster-pipelined: commands in flight per connection, on random keys (default --pipeline)
  --collections-requests N
                         collections: requests per single-node run (default ${COLLECTIONS_REQUESTS}; --quick ${QUICK_COLLECTIONS_REQUESTS})
  --collections-cluster-requests N
                         collections: requests per ringkv cluster run (default ${COLLECTIONS_CLUSTER_REQUESTS}; --quick ${QUICK_COLLECTIONS_CLUSTER_REQUESTS})
  --collections-small N  collections: elements of the small collections (default ${COLLECTIONS_SMALL})
  --collections-big N    collections: elements of the big collections (default ${COLLECTIONS_BIG}; --quick ${QUICK_COLLECTIONS_BIG})
  --collections-part P   collections: ${COLLECTIONS_PARTS.join(', ')}; repeatable (default ${DEFAULT_COLLECTIONS_PARTS.join(', ')})
  --collections-builtin T collections: which of redis-benchmark's tests the builtin part runs (${BUILTIN_TESTS.join(', ')}); repeatable (default all)
  --collections-del-size N
                         collections: elements of the set (and hash) deleted (default ${COLLECTIONS_DEL_SIZE}; --quick ${QUICK_COLLECTIONS_DEL_SIZE})
  --collections-del-repeat K
                         collections: DELs timed, each of a fresh collection (default ${COLLECTIONS_DEL_REPEAT})
  --collections-memory   collections: add the memory run (${COLLECTIONS_MEMORY_COUNT} big collections on a fresh node; long)
  --collections-memory-size N
                         collections: elements of each memory-run collection (default ${COLLECTIONS_MEMORY_SIZE}; --quick ${QUICK_COLLECTIONS_MEMORY_SIZE})
  --collections-memory-pause S
                         collections: seconds between the two memory readings (default ${COLLECTIONS_MEMORY_PAUSE}; --quick ${QUICK_COLLECTIONS_MEMORY_PAUSE})
  --collections-memory-limit MIB
                         collections: stop the memory run's fill once the node's RSS passes this (default ${COLLECTIONS_MEMORY_LIMIT_MIB})
  --out PATH             markdown summary; JSON goes beside it (default bench/results/latest.md)
  --timeout SECONDS      limit for one redis-benchmark run (default 600)
  --redis-server BIN     redis-server binary (default redis-server)
  --redis-benchmark BIN  redis-benchmark binary (default redis-benchmark)
  --redis-cli BIN        redis-cli binary, forms the Redis Cluster (default redis-cli)
  --ringkv-entry PATH    ringkv CLI script (default dist/bundle/ringkv.js)
  --ringkv-arg ARG       extra argument for the ringkv server; repeatable
  -h, --help             show this help
`;

interface Options {
  requests: number;
  pipelinedRequests: number;
  warmupRequests: number;
  clusterRequests: number;
  clusterPipelinedRequests: number;
  clusterWarmupRequests: number;
  failureSeconds: typeof FAILURE_SECONDS;
  failoverSeconds: typeof FAILOVER_SECONDS;
  failoverMixes: AckMix[];
  failoverClients: number;
  /** Keys acknowledged before the fault read back 1 s after it; null: all. */
  readbackKeys: number | null;
  /** ioredis retryDelayOnFailover for the failover workload; undefined keeps its default. */
  retryDelayOnFailover: number | undefined;
  /** dist/bench/lib/ackload.js */
  ackloadEntry: string;
  repeat: number;
  pipeline: number;
  servers: ServerName[];
  scenarios: Scenario[];
  outPath: string;
  timeoutMs: number;
  redisBenchmark: string;
  paths: ServerPaths;
  loadgenEntry: string;
  /** dist/bench/lib/mixedload.js */
  mixedEntry: string;
  mixedConnections: number;
  mixedDepth: number;
  collections: {
    requests: number;
    clusterRequests: number;
    small: number;
    big: number;
    parts: CollectionsPart[];
    /** redis-benchmark tests of the builtin part, in BUILTIN_TESTS order. */
    builtinTests: string[];
    delSize: number;
    delRepeat: number;
    memorySize: number;
    memoryPauseSeconds: number;
    memoryLimitMiB: number;
  };
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

function nonNegativeInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be an integer >= 0, got ${value}`);
  return n;
}

function parseOptions(root: string): Options | null {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string' },
      'pipelined-requests': { type: 'string' },
      'cluster-requests': { type: 'string' },
      'cluster-pipelined-requests': { type: 'string' },
      'failure-steady': { type: 'string' },
      'failure-down': { type: 'string' },
      'failure-after': { type: 'string' },
      'failover-mix': { type: 'string', multiple: true },
      'failover-clients': { type: 'string' },
      'readback-keys': { type: 'string' },
      'retry-delay-on-failover': { type: 'string' },
      'failover-before': { type: 'string' },
      'failover-after': { type: 'string' },
      'partition-seconds': { type: 'string' },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      scenario: { type: 'string', multiple: true },
      pipeline: { type: 'string' },
      'mixed-connections': { type: 'string' },
      'mixed-depth': { type: 'string' },
      repeat: { type: 'string' },
      out: { type: 'string' },
      timeout: { type: 'string' },
      'redis-server': { type: 'string', default: 'redis-server' },
      'redis-benchmark': { type: 'string', default: 'redis-benchmark' },
      'redis-cli': { type: 'string', default: 'redis-cli' },
      'ringkv-entry': { type: 'string' },
      'ringkv-arg': { type: 'string', multiple: true },
      'collections-requests': { type: 'string' },
      'collections-cluster-requests': { type: 'string' },
      'collections-small': { type: 'string' },
      'collections-big': { type: 'string' },
      'collections-part': { type: 'string', multiple: true },
      'collections-builtin': { type: 'string', multiple: true },
      'collections-del-size': { type: 'string' },
      'collections-del-repeat': { type: 'string' },
      'collections-memory': { type: 'boolean', default: false },
      'collections-memory-size': { type: 'string' },
      'collections-memory-pause': { type: 'string' },
      'collections-memory-limit': { type: 'string' },
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
  const clusterRequests = positiveInt(
    'cluster-requests',
    values['cluster-requests'],
    values.quick ? QUICK_CLUSTER_REQUESTS : DEFAULT_CLUSTER_REQUESTS,
  );
  const failureDefaults = values.quick ? QUICK_FAILURE_SECONDS : FAILURE_SECONDS;
  const failoverDefaults = values.quick ? QUICK_FAILOVER_SECONDS : FAILOVER_SECONDS;
  const mixes = values['failover-mix'] ?? [...FAILOVER_MIXES];
  for (const mix of mixes) {
    if (!FAILOVER_MIXES.includes(mix as AckMix)) throw new Error(`--failover-mix must be one of ${FAILOVER_MIXES.join(', ')}, got ${mix}`);
  }
  const pipeline = positiveInt('pipeline', values.pipeline, 16);
  const parts = values['collections-part'] ?? [...DEFAULT_COLLECTIONS_PARTS];
  for (const part of parts) {
    if (!COLLECTIONS_PARTS.includes(part as CollectionsPart)) throw new Error(`--collections-part must be one of ${COLLECTIONS_PARTS.join(', ')}, got ${part}`);
  }
  if (values['collections-memory'] && !parts.includes('memory')) parts.push('memory');
  const builtinTests = values['collections-builtin'] ?? [...BUILTIN_TESTS];
  for (const test of builtinTests) {
    if (!BUILTIN_TESTS.includes(test)) throw new Error(`--collections-builtin must be one of ${BUILTIN_TESTS.join(', ')}, got ${test}`);
  }
  const libDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib');
  return {
    requests,
    pipelinedRequests: positiveInt('pipelined-requests', values['pipelined-requests'], requests * PIPELINED_FACTOR),
    // Enough to get V8 past its JIT tiers and the keyspace populated before anything is measured.
    warmupRequests: Math.max(1000, Math.round(requests / 10)),
    clusterRequests,
    clusterPipelinedRequests: positiveInt(
      'cluster-pipelined-requests',
      values['cluster-pipelined-requests'],
      clusterRequests * PIPELINED_FACTOR,
    ),
    // A fresh ringkv cluster needs ~40k requests before its throughput settles (JIT tiers on three
    // processes, first writes of every key); a shorter warm-up put that ramp into the figures.
    clusterWarmupRequests: values.quick ? Math.max(1000, Math.round(clusterRequests / 10)) : CLUSTER_WARMUP_REQUESTS,
    failureSeconds: {
      warmup: failureDefaults.warmup,
      steady: positiveInt('failure-steady', values['failure-steady'], failureDefaults.steady),
      down: positiveInt('failure-down', values['failure-down'], failureDefaults.down),
      after: positiveInt('failure-after', values['failure-after'], failureDefaults.after),
    },
    failoverSeconds: {
      warmup: failoverDefaults.warmup,
      before: positiveInt('failover-before', values['failover-before'], failoverDefaults.before),
      after: positiveInt('failover-after', values['failover-after'], failoverDefaults.after),
      partition: positiveInt('partition-seconds', values['partition-seconds'], failoverDefaults.partition),
    },
    failoverMixes: FAILOVER_MIXES.filter((m) => mixes.includes(m)),
    failoverClients: positiveInt('failover-clients', values['failover-clients'], FAILOVER_CLIENTS),
    retryDelayOnFailover: values['retry-delay-on-failover'] === undefined ? undefined : nonNegativeInt('retry-delay-on-failover', values['retry-delay-on-failover']),
    readbackKeys: values['readback-keys'] === 'all' ? null : positiveInt('readback-keys', values['readback-keys'], READBACK_KEYS),
    ackloadEntry: path.join(libDir, 'ackload.js'),
    repeat: positiveInt('repeat', values.repeat, 1),
    pipeline,
    servers: only === undefined ? [...SERVER_NAMES] : [only as ServerName],
    scenarios: picked.length === 0 ? SCENARIOS.filter((s) => s.optIn !== true) : SCENARIOS.filter((s) => picked.includes(s.name)),
    outPath: values.out !== undefined ? path.resolve(values.out) : path.join(root, 'bench', 'results', 'latest.md'),
    timeoutMs: positiveInt('timeout', values.timeout, 600) * 1000,
    redisBenchmark: values['redis-benchmark'],
    paths: {
      redisServer: values['redis-server'],
      redisCli: values['redis-cli'],
      nodeBinary: process.execPath,
      ringkvEntry: path.resolve(values['ringkv-entry'] ?? path.join(root, 'dist', 'bundle', 'ringkv.js')),
      ringkvExtraArgs: values['ringkv-arg'] ?? [],
    },
    loadgenEntry: path.join(libDir, 'loadgen.js'),
    mixedEntry: path.join(libDir, 'mixedload.js'),
    mixedConnections: positiveInt('mixed-connections', values['mixed-connections'], MIXED_CONNECTIONS),
    mixedDepth: positiveInt('mixed-depth', values['mixed-depth'], pipeline),
    collections: {
      requests: positiveInt('collections-requests', values['collections-requests'], values.quick ? QUICK_COLLECTIONS_REQUESTS : COLLECTIONS_REQUESTS),
      clusterRequests: positiveInt(
        'collections-cluster-requests',
        values['collections-cluster-requests'],
        values.quick ? QUICK_COLLECTIONS_CLUSTER_REQUESTS : COLLECTIONS_CLUSTER_REQUESTS,
      ),
      small: positiveInt('collections-small', values['collections-small'], COLLECTIONS_SMALL),
      big: positiveInt('collections-big', values['collections-big'], values.quick ? QUICK_COLLECTIONS_BIG : COLLECTIONS_BIG),
      parts: COLLECTIONS_PARTS.filter((p) => parts.includes(p)),
      builtinTests: BUILTIN_TESTS.filter((t) => builtinTests.includes(t)),
      delSize: positiveInt('collections-del-size', values['collections-del-size'], values.quick ? QUICK_COLLECTIONS_DEL_SIZE : COLLECTIONS_DEL_SIZE),
      delRepeat: positiveInt('collections-del-repeat', values['collections-del-repeat'], COLLECTIONS_DEL_REPEAT),
      memorySize: positiveInt('collections-memory-size', values['collections-memory-size'], values.quick ? QUICK_COLLECTIONS_MEMORY_SIZE : COLLECTIONS_MEMORY_SIZE),
      memoryPauseSeconds: positiveInt('collections-memory-pause', values['collections-memory-pause'], values.quick ? QUICK_COLLECTIONS_MEMORY_PAUSE : COLLECTIONS_MEMORY_PAUSE),
      memoryLimitMiB: positiveInt('collections-memory-limit', values['collections-memory-limit'], COLLECTIONS_MEMORY_LIMIT_MIB),
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

interface TestPlan {
  requests: number;
  pipelinedRequests: number;
  warmupRequests: number;
}

/** One measured test: which command, which load, how deep, how many requests. */
interface TestSpec {
  test: 'set' | 'get';
  generator: Generator;
  pipeline: number;
  requests: number;
}

/** SET and GET at each pipeline depth, from redis-benchmark. */
function benchmarkSpecs(pipelines: readonly number[], plan: TestPlan): TestSpec[] {
  return pipelines.flatMap((pipeline) =>
    (['set', 'get'] as const).map((test) => ({
      test,
      generator: 'redis-benchmark' as const,
      pipeline,
      requests: pipeline > 1 ? plan.pipelinedRequests : plan.requests,
    })),
  );
}

/**
 * Runs each test `--repeat` times, keeping the median-throughput run. `procs` are the server
 * processes: their CPU is summed by `run`, and if one dies the error says so.
 */
async function runTests(
  scenario: Scenario,
  target: Target,
  procs: readonly ManagedProcess[],
  specs: readonly TestSpec[],
  run: (spec: TestSpec) => Promise<Measurement>,
  opts: Options,
): Promise<ResultRow[]> {
  const rows: ResultRow[] = [];
  const label = target.variant === '' ? target.server : `${target.server} ${target.variant}`;
  for (const spec of specs) {
    const runs: Measurement[] = [];
    for (let i = 0; i < opts.repeat; i++) {
      try {
        runs.push(await run(spec));
      } catch (err) {
        // A server crash surfaces as a client error first; its own output says why.
        for (const proc of procs) {
          const status = await exitedWithin(proc, 1000);
          if (status !== null) {
            const what = testLabel(spec.test.toUpperCase(), spec.pipeline, spec.generator);
            throw new Error(`${proc.name} exited (${status}) during ${what}:\n${proc.outputTail()}`);
          }
        }
        throw err;
      }
    }
    const m = medianRun(runs);
    rows.push({ ...m, scenario: scenario.name, server: target.server, variant: target.variant, nodes: target.nodes, repeatRps: runs.map((r) => r.rps) });
    console.log(
      `[${scenario.name}] ${label.padEnd(15)} ${testLabel(m.test, m.pipeline, m.generator).padEnd(8)} ` +
        `${Math.round(m.rps).toLocaleString('en-US').padStart(10)} ops/s  ` +
        `p50 ${m.p50Ms?.toFixed(3) ?? 'n/a'} ms  p99 ${m.p99Ms?.toFixed(3) ?? 'n/a'} ms  CPU ${m.cpuUsPerRequest.toFixed(2)} µs/req` +
        (m.misses !== undefined && m.misses > 0 ? `  misses ${m.misses}` : '') +
        (m.errors !== undefined && m.errors > 0 ? `  errors ${m.errors}: ${(m.errorSamples ?? []).map(([e, n]) => `${e} (${n})`).join('; ')}` : '') +
        (runs.length > 1 ? `  (runs: ${runs.map((r) => Math.round(r.rps).toLocaleString('en-US')).join(' / ')})` : ''),
    );
  }
  return rows;
}

async function benchServer(scenario: Scenario, target: Target, opts: Options, scratch: string): Promise<ResultRow[]> {
  const server = target.server;
  const port = await freePort(HOST);
  const dir = mkdtempSync(path.join(scratch, `${server}-${scenario.name}-`));
  const launch = launchCommand(server, scenario, port, dir, opts.paths);
  // TLS: the plain port stays for the readiness PING; the load goes to tls-port.
  const tls = scenario.tls === true ? { files: makeBenchCertificates(dir), port: await freePort(HOST) } : undefined;
  const args = tls === undefined ? launch.args : [...launch.args, ...serverTlsArgs(tls.port, tls.files)];
  const proc = spawnManaged(server, launch.command, args, { cwd: dir });
  try {
    await waitForPing(proc, HOST, port);
    const base = {
      benchmarkBinary: opts.redisBenchmark,
      host: HOST,
      port: tls?.port ?? port,
      ...(tls !== undefined ? { tlsArgs: benchmarkTlsArgs(tls.files) } : {}),
      shape: SHAPE,
      serverPids: [proc.pid],
      cluster: false,
      timeoutMs: opts.timeoutMs,
    };
    await warmUp({ ...base, test: 'set', requests: opts.warmupRequests, pipeline: 1 });
    const specs = benchmarkSpecs([1, opts.pipeline], opts);
    return await runTests(scenario, target, [proc], specs, (spec) => measure({ ...base, ...spec }), opts);
  } finally {
    await stopManaged(proc);
  }
}

/**
 * One cluster (all nodes on this machine) under `redis-benchmark --cluster` aimed at its first
 * node, and in the pipelined scenario under the mixed-slot generator too. Which tests run:
 * - `cluster`: SET, GET, SET -P, GET -P;
 * - `cluster-unpipelined`: SET, GET;
 * - `cluster-pipelined`: SET -P, GET -P, then the keyspace filled once and SET, GET mixed-slot
 *   with `--mixed-depth` commands in flight on each of `--mixed-connections` connections.
 */
async function benchCluster(scenario: Scenario, target: Target, opts: Options, scratch: string): Promise<ResultRow[]> {
  const cluster = await startCluster({ target, durable: scenario.durable, host: HOST, scratch, paths: opts.paths });
  try {
    console.log(`[${scenario.name}] ${target.server} ${target.variant}: cluster ready on ports ${cluster.members.map((m) => m.port).join(', ')}`);
    const base = {
      benchmarkBinary: opts.redisBenchmark,
      host: HOST,
      port: cluster.members[0].port,
      shape: SHAPE,
      serverPids: clusterPids(cluster),
      cluster: true,
      timeoutMs: opts.timeoutMs,
    };
    const plan: TestPlan =
      target.server === 'redis'
        ? opts
        : { requests: opts.clusterRequests, pipelinedRequests: opts.clusterPipelinedRequests, warmupRequests: opts.clusterWarmupRequests };
    const procs = cluster.members.map((m) => m.proc);
    await warmUp({ ...base, test: 'set', requests: plan.warmupRequests, pipeline: 1 });
    const pipelines = scenario.kind === 'cluster' ? [1, opts.pipeline] : scenario.kind === 'cluster-unpipelined' ? [1] : [opts.pipeline];
    const rows = await runTests(scenario, target, procs, benchmarkSpecs(pipelines, plan), (spec) => measure({ ...base, ...spec }), opts);
    if (scenario.kind !== 'cluster-pipelined') return rows;

    const mixed = {
      nodeBinary: opts.paths.nodeBinary,
      entry: opts.mixedEntry,
      host: HOST,
      port: base.port,
      connections: opts.mixedConnections,
      depth: opts.mixedDepth,
      keyspace: SHAPE.keyspace,
      dataSize: SHAPE.dataSize,
      serverPids: base.serverPids,
      timeoutMs: opts.timeoutMs,
      requests: plan.pipelinedRequests,
    };
    // redis-benchmark --cluster wrote hash-tagged keys; the mixed-slot GETs read plain ones.
    const filled = await fillKeyspace(mixed);
    console.log(
      `[${scenario.name}] ${target.server} ${target.variant}: keyspace filled (${filled.ok.toLocaleString('en-US')} SETs in ${filled.seconds.toFixed(1)} s` +
        `${filled.errors > 0 ? `, ${filled.errors} errors` : ''}) over ${filled.nodes.length} nodes`,
    );
    const specs: TestSpec[] = (['set', 'get'] as const).map((test) => ({ test, generator: 'mixed-slot', pipeline: opts.mixedDepth, requests: plan.pipelinedRequests }));
    rows.push(...(await runTests(scenario, target, procs, specs, (spec) => measureMixed({ ...mixed, test: spec.test, requests: spec.requests }), opts)));
    return rows;
  } finally {
    await stopCluster(cluster);
  }
}

function disruptionOptions(target: Target, opts: Options, scratch: string): DisruptionOptions {
  return {
    target,
    host: HOST,
    scratch,
    paths: opts.paths,
    loadgenEntry: opts.loadgenEntry,
    clients: SHAPE.clients,
    keyspace: SHAPE.keyspace,
    dataSize: SHAPE.dataSize,
    mix: 'set,get',
    warmupSeconds: opts.failureSeconds.warmup,
    steadySeconds: opts.failureSeconds.steady,
  };
}

async function benchFailure(target: Target, opts: Options, scratch: string): Promise<DisruptionReport> {
  const failure = { ...disruptionOptions(target, opts, scratch), downSeconds: opts.failureSeconds.down, afterSeconds: opts.failureSeconds.after };
  return runFailure(failure, (line) => console.log(line));
}

async function benchRebalance(target: Target, opts: Options, scratch: string): Promise<DisruptionReport> {
  return runRebalance(disruptionOptions(target, opts, scratch), (line) => console.log(line));
}

/**
 * One failover or partition run per workload mix on `target`. A partition needs root and iptables
 * (and distinct loopback addresses, Linux only); without them the run is skipped with the reason.
 */
async function benchFailover(scenario: Scenario, target: Target, opts: Options, scratch: string): Promise<FailoverReport[]> {
  const fault: FaultKind = scenario.name === 'partition' ? 'partition' : 'kill';
  const linux = process.platform === 'linux';
  if (fault === 'partition') {
    const why = partitionUnavailable();
    if (why !== null) {
      console.log(`[${scenario.name}] skipped: ${why}`);
      return [];
    }
  }
  const hosts = linux ? FAILOVER_HOSTS[target.server] : Array.from({ length: target.nodes }, () => HOST);
  const reports: FailoverReport[] = [];
  for (const mix of opts.failoverMixes) {
    const report = await runFailover(
      {
        target,
        fault,
        mix,
        hosts,
        launch: (node, peers, dir) => defaultsClusterLaunch(target, node, peers, dir, opts.paths),
        scratch,
        paths: opts.paths,
        ackloadEntry: opts.ackloadEntry,
        clients: opts.failoverClients,
        counters: FAILOVER_COUNTERS,
        dataSize: SHAPE.dataSize,
        readbackKeys: opts.readbackKeys,
        retryDelayOnFailover: opts.retryDelayOnFailover,
        warmupSeconds: opts.failoverSeconds.warmup,
        beforeSeconds: opts.failoverSeconds.before,
        afterSeconds: opts.failoverSeconds.after,
        partitionSeconds: opts.failoverSeconds.partition,
      },
      (line) => console.log(line),
    );
    reports.push(report);
  }
  return reports;
}

function collectionsSettings(opts: Options): CollectionsSettings {
  return {
    benchmarkBinary: opts.redisBenchmark,
    clients: SHAPE.clients,
    repeat: opts.repeat,
    timeoutMs: opts.timeoutMs,
    small: opts.collections.small,
    big: opts.collections.big,
    builtinTests: opts.collections.builtinTests,
    shape: SHAPE,
    log: (line) => console.log(line),
  };
}

function collectionsServerLabel(target: Target): string {
  return target.variant === '' ? target.server : `${target.server} ${target.variant}`;
}

/**
 * The eviction scenario: each server, fresh, under each policy with the same maxmemory and the same
 * key sequence; the table is printed (docs/benchmarks.md keeps it with the command line).
 */
async function benchEviction(scenario: Scenario, targets: readonly Target[], opts: Options, scratch: string): Promise<void> {
  const rows: EvictionRow[] = [];
  const o: EvictionOptions = opts.quick ? { ...DEFAULT_EVICTION_OPTIONS, warmupOps: 60_000, measuredOps: 60_000 } : DEFAULT_EVICTION_OPTIONS;
  for (const policy of EVICTION_POLICIES) {
    for (const target of targets) {
      const row = await withSingleNode(scenario, target, opts, scratch, (endpoint) => runEvictionWorkload(target.server, endpoint.host, endpoint.port, policy, o));
      console.log(`[${scenario.name}] ${target.server} ${policy}: hit rate ${(row.hitRate * 100).toFixed(1)}%, used_memory max ${row.usedMemoryMax} of ${row.maxmemory}, ${row.opsPerSecond} ops/s`);
      rows.push(row);
    }
  }
  console.log(`\n[${scenario.name}] Zipf s=${o.zipfExponent}, values ${o.valueBytes} B, key space ${o.keySpaceFactor}x maxmemory, ${o.warmupOps} warm-up + ${o.measuredOps} measured GETs (SET on miss), batches of ${o.batch}\n${renderEvictionTable(rows)}\n`);
}

/** The memory-keys scenario: each server, fresh, filled with the same keys; the table is printed. */
async function benchMemoryKeys(scenario: Scenario, targets: readonly Target[], opts: Options, scratch: string): Promise<void> {
  const settings = opts.quick ? { ...MEMORY_KEYS_DEFAULTS, keys: 100_000, pauseSeconds: 5 } : MEMORY_KEYS_DEFAULTS;
  const rows: MemoryKeysRow[] = [];
  for (const target of targets) {
    rows.push(await withSingleNode(scenario, target, opts, scratch, (e) => runMemoryKeys(target.server, e.host, e.port, e.serverPids[0]!, settings, (l) => console.log(l))));
  }
  console.log(`\n[${scenario.name}] ${settings.keys} keys of ${settings.valueBytes} B, pipelined SETs, pause ${settings.pauseSeconds} s\n${renderMemoryKeysTable(rows)}\n`);
}

/** A fresh single node with the scenario's persistence, stopped when `body` is done. */
async function withSingleNode<T>(scenario: Scenario, target: Target, opts: Options, scratch: string, body: (endpoint: CollectionsEndpoint) => Promise<T>): Promise<T> {
  const port = await freePort(HOST);
  const dir = mkdtempSync(path.join(scratch, `${target.server}-${scenario.name}-`));
  const launch = launchCommand(target.server, scenario, port, dir, opts.paths);
  const proc = spawnManaged(target.server, launch.command, launch.args, { cwd: dir });
  try {
    await waitForPing(proc, HOST, port);
    return await body({ server: collectionsServerLabel(target), host: HOST, port, serverPids: [proc.pid], procs: [proc], requests: opts.collections.requests });
  } finally {
    await stopManaged(proc);
    // The memory run's collections fill gigabytes; the scratch directory is removed only at the end.
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The collections scenario: per target, the size-independence runs (every target), the built-in
 * tests and the DELs (single nodes), then the memory runs (single nodes, fresh ones).
 */
async function benchCollections(scenario: Scenario, targets: readonly Target[], opts: Options, scratch: string): Promise<CollectionsReport> {
  const settings = collectionsSettings(opts);
  const parts = opts.collections.parts;
  const report: CollectionsReport = { sizes: { small: settings.small, big: settings.big }, parts: [...parts], ops: [], builtins: [], dels: [], memory: [] };
  const singlePartsWanted = parts.includes('ops') || parts.includes('builtin') || parts.includes('del');
  for (const target of targets) {
    if (target.nodes === 1) {
      if (!singlePartsWanted) continue;
      await withSingleNode(scenario, target, opts, scratch, async (endpoint) => {
        await warmUp({ benchmarkBinary: opts.redisBenchmark, host: HOST, port: endpoint.port, shape: SHAPE, serverPids: endpoint.serverPids, cluster: false, timeoutMs: opts.timeoutMs, test: 'set', requests: opts.warmupRequests, pipeline: 1 });
        if (parts.includes('ops')) report.ops.push(...(await runOps(endpoint, settings)));
        if (parts.includes('builtin')) report.builtins.push(...(await runBuiltins(endpoint, settings)));
        if (parts.includes('del')) {
          for (const type of ['set', 'hash'] as const) report.dels.push(await runDel(endpoint, settings, type, opts.collections.delSize, opts.collections.delRepeat));
        }
      });
      continue;
    }
    if (!parts.includes('ops')) continue;
    const cluster = await startCluster({ target, durable: scenario.durable, host: HOST, scratch, paths: opts.paths });
    try {
      const first = cluster.members[0]!;
      await warmUp({ benchmarkBinary: opts.redisBenchmark, host: HOST, port: first.port, shape: SHAPE, serverPids: clusterPids(cluster), cluster: true, timeoutMs: opts.timeoutMs, test: 'set', requests: opts.clusterWarmupRequests, pipeline: 1 });
      // Every key shares one hash tag: the runs go to that slot's primary, as redis-benchmark --cluster aims each connection at its slot's node.
      const primary = await slotPrimary(first.host, first.port);
      console.log(`[${scenario.name}] ${collectionsServerLabel(target)}: cluster ready, slot ${primary.slot} on ${primary.host}:${primary.port}`);
      const endpoint: CollectionsEndpoint = {
        server: collectionsServerLabel(target),
        host: primary.host,
        port: primary.port,
        serverPids: clusterPids(cluster),
        procs: cluster.members.map((m) => m.proc),
        requests: opts.collections.clusterRequests,
      };
      report.ops.push(...(await runOps(endpoint, settings)));
    } finally {
      await stopCluster(cluster);
    }
  }
  if (parts.includes('memory')) {
    for (const target of targets.filter((t) => t.nodes === 1)) {
      for (const elementsEach of [opts.collections.memorySize, opts.collections.small]) {
        report.memory.push(
          await withSingleNode(scenario, target, opts, scratch, (endpoint) =>
            runMemory(endpoint, settings, { collections: COLLECTIONS_MEMORY_COUNT, elementsEach, types: COLLECTION_TYPES, pauseSeconds: opts.collections.memoryPauseSeconds, rssLimitMiB: opts.collections.memoryLimitMiB }),
          ),
        );
      }
    }
  }
  return report;
}

/** The streams scenario on one target: a single node, or a cluster aimed at the stream slot's primary. */
async function benchStreams(scenario: Scenario, target: Target, opts: Options, scratch: string): Promise<StreamsRow[]> {
  const settings = opts.quick ? { ...STREAMS_DEFAULTS, entries: 5_000 } : STREAMS_DEFAULTS;
  const label = collectionsServerLabel(target);
  const log = (line: string): void => console.log(line);
  if (target.nodes === 1) return withSingleNode(scenario, target, opts, scratch, (endpoint) => runStreams(label, endpoint.host, endpoint.port, settings, log));
  const cluster = await startCluster({ target, durable: scenario.durable, host: HOST, scratch, paths: opts.paths });
  try {
    const first = cluster.members[0]!;
    const primary = await slotPrimary(first.host, first.port);
    return await runStreams(label, primary.host, primary.port, settings, log);
  } finally {
    await stopCluster(cluster);
  }
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
  if (opts.servers.includes('redis') && opts.scenarios.some((s) => isClusterKind(s.kind))) await versionOf(opts.paths.redisCli);
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version?: string };

  // Other work on the box skews results; recording the load at the start and end makes noisy runs recognisable.
  const loadAtStart = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  const started = Date.now();
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'ringkv-bench-'));
  scratchDirs.add(scratch);
  const results: ResultRow[] = [];
  const disruptions: DisruptionReport[] = [];
  const failovers: FailoverReport[] = [];
  const collections: CollectionsReport[] = [];
  const streams: StreamsRow[] = [];
  const scripting: ScriptingRow[] = [];
  try {
    for (const scenario of opts.scenarios) {
      const targets = scenarioTargets(scenario).filter((t) => opts.servers.includes(t.server));
      if (targets.length === 0) console.log(`[${scenario.name}] skipped: it has no ${opts.servers.join('/')} run`);
      if (scenario.kind === 'eviction') {
        if (targets.length > 0) await benchEviction(scenario, targets, opts, scratch);
        continue;
      }
      if (scenario.kind === 'memory-keys') {
        if (targets.length > 0) await benchMemoryKeys(scenario, targets, opts, scratch);
        continue;
      }
      if (scenario.kind === 'collections') {
        if (targets.length > 0) collections.push(await benchCollections(scenario, targets, opts, scratch));
        continue;
      }
      if (scenario.kind === 'streams') {
        for (const target of targets) streams.push(...(await benchStreams(scenario, target, opts, scratch)));
        continue;
      }
      if (scenario.kind === 'scripting') {
        const settings = opts.quick ? { ...SCRIPTING_DEFAULTS, requests: 20_000 } : SCRIPTING_DEFAULTS;
        for (const target of targets) {
          scripting.push(...(await withSingleNode(scenario, target, opts, scratch, (e) => runScripting(target.server, e.host, e.port, e.serverPids, settings, (l) => console.log(l)))));
        }
        continue;
      }
      for (const target of targets) {
        if (scenario.kind === 'single') results.push(...(await benchServer(scenario, target, opts, scratch)));
        else if (isClusterKind(scenario.kind)) results.push(...(await benchCluster(scenario, target, opts, scratch)));
        else if (scenario.kind === 'failure') disruptions.push(await benchFailure(target, opts, scratch));
        else if (scenario.kind === 'failover') failovers.push(...(await benchFailover(scenario, target, opts, scratch)));
        else disruptions.push(await benchRebalance(target, opts, scratch));
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
      loadAverageAtEnd: os.loadavg().map((l) => l.toFixed(2)).join(' '),
      wallSeconds: Math.round((Date.now() - started) / 1000),
      commandLine: process.argv.slice(2).join(' ') || '(no options)',
    },
    config: {
      requests: opts.requests,
      pipelinedRequests: opts.pipelinedRequests,
      warmupRequests: opts.warmupRequests,
      clusterRequests: opts.clusterRequests,
      clusterPipelinedRequests: opts.clusterPipelinedRequests,
      clusterWarmupRequests: opts.clusterWarmupRequests,
      failoverSeconds: `warm-up ${opts.failoverSeconds.warmup}, before ${opts.failoverSeconds.before}, after ${opts.failoverSeconds.after}, partition ${opts.failoverSeconds.partition}`,
      failoverMixes: opts.failoverMixes.join(' / '),
      failoverClients: opts.failoverClients,
      readbackKeys: opts.readbackKeys ?? 'all',
      retryDelayOnFailover: opts.retryDelayOnFailover ?? 'ioredis default',
      failureSeconds: `steady ${opts.failureSeconds.steady}, down after detection ${opts.failureSeconds.down}, after rejoin ${opts.failureSeconds.after} (warm-up ${opts.failureSeconds.warmup})`,
      clients: SHAPE.clients,
      dataSize: SHAPE.dataSize,
      keyspace: SHAPE.keyspace,
      pipeline: opts.pipeline,
      mixedConnections: opts.mixedConnections,
      mixedDepth: opts.mixedDepth,
      repeat: opts.repeat,
      quick: opts.quick,
      servers: opts.servers.join(', '),
      scenarios: opts.scenarios.map((s) => s.name).join(', '),
      ...(opts.scenarios.some((s) => s.kind === 'collections')
        ? {
            collectionsSizes: `${opts.collections.small} / ${opts.collections.big}`,
            collectionsRequests: `${opts.collections.requests} per single-node run, ${opts.collections.clusterRequests} per cluster run`,
            collectionsParts: opts.collections.parts.join(', '),
            collectionsDel: `${opts.collections.delSize} elements x ${opts.collections.delRepeat}`,
            collectionsMemory: `${COLLECTIONS_MEMORY_COUNT} x ${opts.collections.memorySize} (and ${COLLECTIONS_MEMORY_COUNT} x ${opts.collections.small}), pause ${opts.collections.memoryPauseSeconds} s`,
          }
        : {}),
    },
    results,
    ratios: computeRatios(results),
    disruptions,
    failovers,
    collections,
    streams,
    scripting,
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
