/**
 * The collections scenario: does an operation on a collection cost what it touches, whatever the
 * collection's size? One server (or cluster) at a time, with the durable scenario's persistence:
 *
 * 1. `ops`: each operation (HSET ... LINDEX 0) with redis-benchmark's arbitrary-command form on a
 *    collection of `small` elements and on one of `big`, throughput and server CPU per request;
 * 2. `builtin`: redis-benchmark's own collection tests beside SET and GET (single nodes only);
 * 3. `del`: one DEL of a large set (and of a large hash) timed from the client (single nodes only);
 * 4. `memory` (opt-in): a fresh node's resident and anonymous memory holding ten large collections,
 *    against the same holding ten small ones.
 *
 * A command the server does not know is reported as unsupported and the run goes on: the list, set
 * and sorted-set commands land on ringkv's main branch one type at a time.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { benchmarkArgs, runSampled, type LoadShape, type Measurement, type SampledRun } from './benchmark.js';
import { clockTicksPerSecond, processTreeTicks } from './cpu.js';
import { parseBenchmarkCsv } from './csv.js';
import { exitedWithin, type ManagedProcess } from './proc.js';
import { respCommand, RespError, type RespValue } from './resp.js';

export type CollectionType = 'hash' | 'set' | 'zset' | 'list';
export const COLLECTION_TYPES: readonly CollectionType[] = ['hash', 'set', 'zset', 'list'];
export type CollectionsPart = 'ops' | 'builtin' | 'del' | 'memory';
export const COLLECTIONS_PARTS: readonly CollectionsPart[] = ['ops', 'builtin', 'del', 'memory'];

/**
 * Every key carries this hash tag, so in a cluster every request of a run goes to one slot, whose
 * primary the run is aimed at (a plain redis-benchmark on the primary: no redirection, no proxying).
 */
export const HASH_TAG = '{cb}';
/** Field values: short, so that memory and prefill time go to the element count, not to payloads. */
const VALUE = 'v'.repeat(16);
/** Elements per prefill command, and prefill commands in flight on the one client connection. */
const FILL_BATCH = 1000;
const FILL_IN_FLIGHT = 8;

/**
 * redis-benchmark replaces each `__rand_int__` with a 12-digit zero-padded number below `-r`; the
 * prefill names elements the same way, so with `-r` equal to the size a write overwrites an
 * existing element (the collection keeps its size) and a read finds one.
 */
export function elementName(prefix: string, i: number): string {
  return `${prefix}${String(i).padStart(12, '0')}`;
}

export function collectionKey(type: CollectionType, size: number, suffix = ''): string {
  return `${HASH_TAG}:${type}:${size}${suffix}`;
}

/** One prefill command: elements [from, to) of the collection. */
function fillCommand(type: CollectionType, key: string, from: number, to: number): string[] {
  const args: string[] = [];
  for (let i = from; i < to; i++) {
    switch (type) {
      case 'hash':
        args.push(elementName('f:', i), VALUE);
        break;
      case 'set':
        args.push(elementName('m:', i));
        break;
      case 'zset':
        args.push(String(i), elementName('m:', i));
        break;
      case 'list':
        args.push(elementName('e:', i));
        break;
    }
  }
  const command = { hash: 'HSET', set: 'SADD', zset: 'ZADD', list: 'LPUSH' }[type];
  return [command, key, ...args];
}

const CARDINALITY: Record<CollectionType, string> = { hash: 'HLEN', set: 'SCARD', zset: 'ZCARD', list: 'LLEN' };
const PLURAL: Record<CollectionType, string> = { hash: 'hashes', set: 'sets', zset: 'sorted sets', list: 'lists' };

/**
 * One operation of the size-independence table. Most are one redis-benchmark command; LPUSH and
 * LPOP run as a pair, two redis-benchmark processes at once with half the connections each, so the
 * list stays near its size for the whole run (LPUSH alone would grow a 100-element list to 100 +
 * the request count). Their CPU per request is the pair's: both commands' requests share it.
 */
export interface CollectionOp {
  type: CollectionType;
  /** Row labels, one per command; two for the LPUSH/LPOP pair. */
  labels: string[];
  /** redis-benchmark arbitrary-command words per label. */
  commands: (key: string) => string[][];
}

export const COLLECTION_OPS: readonly CollectionOp[] = [
  { type: 'hash', labels: ['HSET'], commands: (k) => [['HSET', k, 'f:__rand_int__', VALUE]] },
  { type: 'hash', labels: ['HGET'], commands: (k) => [['HGET', k, 'f:__rand_int__']] },
  { type: 'set', labels: ['SADD'], commands: (k) => [['SADD', k, 'm:__rand_int__']] },
  { type: 'set', labels: ['SISMEMBER'], commands: (k) => [['SISMEMBER', k, 'm:__rand_int__']] },
  // Two placeholders get two random numbers: a random member gets a random new score.
  { type: 'zset', labels: ['ZADD'], commands: (k) => [['ZADD', k, '__rand_int__', 'm:__rand_int__']] },
  { type: 'zset', labels: ['ZSCORE'], commands: (k) => [['ZSCORE', k, 'm:__rand_int__']] },
  { type: 'zset', labels: ['ZRANGE 0 9'], commands: (k) => [['ZRANGE', k, '0', '9']] },
  // Before the pair, while the list holds exactly its size.
  { type: 'list', labels: ['LINDEX 0'], commands: (k) => [['LINDEX', k, '0']] },
  { type: 'list', labels: ['LPUSH', 'LPOP'], commands: (k) => [['LPUSH', k, 'e:__rand_int__'], ['LPOP', k]] },
];

/** redis-benchmark's own tests, in the order they run: a pop test after the push that fed it. */
export const BUILTIN_TESTS: readonly string[] = ['set', 'get', 'lpush', 'lpop', 'sadd', 'spop', 'zadd', 'zpopmin', 'hset', 'lrange_100'];
/** Which anchor a built-in test is read against: writes against SET's ratio, reads against GET's. */
export function builtinAnchor(test: string): 'set' | 'get' {
  return test === 'get' || test.startsWith('lrange') ? 'get' : 'set';
}

export type RunStatus = 'ok' | 'unsupported' | 'error';

export interface SizedMeasurement extends Measurement {
  /** Elements in the collection right after the run (HLEN, SCARD, ZCARD, LLEN), null if unread. */
  sizeAfter: number | null;
  /** Throughput of every repeat; the other figures come from the median one. */
  repeatRps: number[];
}

export interface OpResult {
  server: string;
  op: string;
  type: CollectionType;
  status: RunStatus;
  /** Why not `ok`: the server's error reply. */
  message?: string;
  small?: SizedMeasurement;
  big?: SizedMeasurement;
  /** The other command that ran at the same time (the LPUSH/LPOP pair). */
  pairedWith?: string;
}

export interface BuiltinResult {
  server: string;
  test: string;
  status: RunStatus;
  message?: string;
  measurement?: Measurement;
  /** LRANGE_100 fills its list first in the same invocation; its CPU is estimated by subtracting that fill's. */
  cpuEstimated?: boolean;
}

export interface DelResult {
  server: string;
  type: CollectionType;
  elements: number;
  status: RunStatus;
  message?: string;
  /** Seconds to prefill each repetition's collection. */
  fillSeconds: number[];
  /** Client round trip of each DEL, ms. */
  delMs: number[];
  /**
   * Round trip of each DEL of a one-element collection of the same type, ms, right after the big
   * one: what a DEL costs that frees nothing (the fsync of a durable server, the network, the loop).
   */
  oneElementMs: number[];
  /** The server's `lazyfree-lazy-user-del` (Redis frees a big value in the background only when yes). */
  lazyfreeUserDel?: string;
}

export interface MemorySample {
  label: string;
  rssKb: number | null;
  anonKb: number | null;
  fileKb: number | null;
}

export interface MemoryResult {
  server: string;
  collections: number;
  elementsEach: number;
  /** Types of the collections, round-robin; types the server does not know are left out. */
  types: CollectionType[];
  fillSeconds: number;
  /** Elements written: all of them unless the fill stopped at the RSS limit. */
  elementsFilled: number;
  samples: MemorySample[];
  /** The node's memory after each collection: how it grows with the data. */
  growth: MemorySample[];
  /** Set when the fill stopped early because the node's RSS passed the limit. */
  stoppedAtLimitMiB?: number;
  status: RunStatus;
  message?: string;
}

export interface CollectionsReport {
  sizes: { small: number; big: number };
  parts: CollectionsPart[];
  ops: OpResult[];
  builtins: BuiltinResult[];
  dels: DelResult[];
  memory: MemoryResult[];
}

/** Where a server (or a cluster's slot primary) is reached, and whose CPU counts. */
export interface CollectionsEndpoint {
  /** "redis", "ringkv", "ringkv N3 W2 R2". */
  server: string;
  host: string;
  port: number;
  serverPids: readonly number[];
  procs: readonly ManagedProcess[];
  /** Unpipelined requests per measured run. */
  requests: number;
}

export interface CollectionsSettings {
  benchmarkBinary: string;
  clients: number;
  repeat: number;
  timeoutMs: number;
  small: number;
  big: number;
  /** The builtin part's tests (a subset of BUILTIN_TESTS, in its order). */
  builtinTests: readonly string[];
  /** redis-benchmark's defaults for the built-in tests (-d, -r). */
  shape: LoadShape;
  log: (line: string) => void;
}

/** An error reply without the arguments Redis and ringkv quote after it (a prefill's are kilobytes). */
function shortError(message: string): string {
  return message.replace(/, with args beginning with:.*$/s, '').trim();
}

function errorText(err: unknown): string {
  return shortError(err instanceof Error ? err.message : String(err));
}

function isUnknownCommand(message: string): boolean {
  return /unknown command/i.test(message);
}

/** The first "Error from server: ..." line: redis-benchmark 7 stops at the first error reply. */
function serverErrorLine(output: string): string | null {
  const match = /Error from server: (.*)/.exec(output);
  return match === null ? null : shortError(match[1]!);
}

function client(endpoint: { host: string; port: number }): Redis {
  // No reconnection storms if a server dies mid-run: the first error is the report.
  return new Redis({ host: endpoint.host, port: endpoint.port, maxRetriesPerRequest: 0, enableOfflineQueue: true, lazyConnect: false });
}

/** A server crash shows up as a client error first; its own output says why, so it ends the run. */
async function assertAlive(endpoint: CollectionsEndpoint, what: string): Promise<void> {
  for (const proc of endpoint.procs) {
    const status = await exitedWithin(proc, 500);
    if (status !== null) throw new Error(`${proc.name} exited (${status}) during ${what}:\n${proc.outputTail()}`);
  }
}

/** Fills elements [0, count) of a collection with pipelined multi-element writes. */
export async function fillCollection(redis: Redis, type: CollectionType, key: string, count: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const from = next;
      next = Math.min(count, next + FILL_BATCH);
      const [command, ...args] = fillCommand(type, key, from, next);
      await redis.call(command!, ...args);
    }
  };
  await Promise.all(Array.from({ length: FILL_IN_FLIGHT }, worker));
}

async function cardinality(redis: Redis, type: CollectionType, key: string): Promise<number | null> {
  try {
    return Number(await redis.call(CARDINALITY[type], key));
  } catch {
    return null;
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

type Outcome<T> = { status: 'ok'; value: T } | { status: 'unsupported' | 'error'; message: string };

/**
 * One sampled run of one or more arbitrary commands at once (clients split between them). Error
 * replies stop redis-benchmark: an unknown command is `unsupported`, anything else an `error`.
 */
async function runCommands(
  endpoint: CollectionsEndpoint,
  settings: CollectionsSettings,
  commands: readonly string[][],
  keyspace: number,
  requests: number,
): Promise<Outcome<Measurement[]>> {
  const clients = Math.max(1, Math.floor(settings.clients / commands.length));
  const perCommand = Math.max(1, Math.floor(requests / commands.length));
  const argLists = commands.map((words) => [
    '-h', endpoint.host, '-p', String(endpoint.port),
    '-c', String(clients), '-n', String(perCommand), '-r', String(keyspace), '--csv',
    ...words,
  ]);
  const runs = await runSampled(settings.benchmarkBinary, argLists, endpoint.serverPids, settings.timeoutMs);
  return toMeasurements(endpoint, runs, commands.map((c) => c[0]!), perCommand);
}

async function toMeasurements(endpoint: CollectionsEndpoint, runs: readonly SampledRun[], names: readonly string[], perCommand: number): Promise<Outcome<Measurement[]>> {
  const out: Measurement[] = [];
  const totalRequests = perCommand * runs.length;
  for (const [i, run] of runs.entries()) {
    const error = serverErrorLine(run.result.output);
    if (error !== null) return { status: isUnknownCommand(error) ? 'unsupported' : 'error', message: error };
    if (!run.result.ok) {
      await assertAlive(endpoint, names[i]!);
      return { status: 'error', message: `redis-benchmark ${run.result.status}: ${run.result.output.slice(-300)}` };
    }
    const row = parseBenchmarkCsv(run.result.stdout)[0];
    if (row === undefined) return { status: 'error', message: `no CSV row from redis-benchmark: ${run.result.output.slice(-300)}` };
    out.push({
      test: names[i]!,
      generator: 'redis-benchmark',
      pipeline: 1,
      requests: perCommand,
      rps: row.rps,
      p50Ms: row.p50Ms,
      p99Ms: row.p99Ms,
      avgMs: row.avgMs,
      cpuTicks: run.ticks,
      // Runs sampled together share their ticks; the figure is per request of all of them.
      cpuUsPerRequest: (run.ticks * 1e6) / clockTicksPerSecond() / totalRequests,
      wallSeconds: run.wallSeconds,
    });
  }
  return { status: 'ok', value: out };
}

/** `--repeat` runs of the op at one size; per label, the run with the median throughput of the first label. */
async function measureOp(
  endpoint: CollectionsEndpoint,
  settings: CollectionsSettings,
  redis: Redis,
  op: CollectionOp,
  size: number,
): Promise<Outcome<SizedMeasurement[]>> {
  const key = collectionKey(op.type, size);
  const runs: Measurement[][] = [];
  for (let i = 0; i < settings.repeat; i++) {
    const outcome = await runCommands(endpoint, settings, op.commands(key), size, endpoint.requests);
    if (outcome.status !== 'ok') return outcome;
    runs.push(outcome.value);
  }
  const sizeAfter = await cardinality(redis, op.type, key);
  const chosen = [...runs].sort((a, b) => a[0]!.rps - b[0]!.rps)[Math.floor(runs.length / 2)]!;
  return {
    status: 'ok',
    value: chosen.map((m, j) => ({ ...m, sizeAfter, repeatRps: runs.map((r) => r[j]!.rps) })),
  };
}

/**
 * Waits until the servers are idle after a prefill: a store that moves its recent writes to disk
 * in the background (ringkv's checkpoints) would otherwise spend the first measured run writing
 * the prefill, charged to whichever operation runs first. At most 60 s.
 */
async function settle(endpoint: CollectionsEndpoint, log: (line: string) => void): Promise<void> {
  const hz = clockTicksPerSecond();
  const ticks = (): number => endpoint.serverPids.reduce((sum, pid) => sum + processTreeTicks(pid), 0);
  const started = Date.now();
  let last = ticks();
  while (Date.now() - started < 60_000) {
    await sleep(500);
    const now = ticks();
    // Under 5% of one core per server over half a second: background work is done.
    if ((now - last) / hz < 0.025 * endpoint.serverPids.length) break;
    last = now;
  }
  log(`[collections] ${endpoint.server}: idle ${((Date.now() - started) / 1000).toFixed(1)} s after the prefill`);
}

/**
 * Part 1 on one endpoint: prefills a small and a big collection of every type, then measures each
 * operation on both. The collections stay on the server afterwards (the DEL and built-in parts use
 * keys of their own).
 */
export async function runOps(endpoint: CollectionsEndpoint, settings: CollectionsSettings): Promise<OpResult[]> {
  const { log } = settings;
  const redis = client(endpoint);
  const results: OpResult[] = [];
  try {
    const typeStatus = new Map<CollectionType, { status: RunStatus; message?: string }>();
    for (const type of COLLECTION_TYPES) {
      const started = Date.now();
      try {
        for (const size of [settings.small, settings.big]) {
          const key = collectionKey(type, size);
          await redis.del(key);
          await fillCollection(redis, type, key, size);
        }
        typeStatus.set(type, { status: 'ok' });
        log(`[collections] ${endpoint.server}: ${PLURAL[type]} of ${settings.small} and ${settings.big.toLocaleString('en-US')} filled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      } catch (err) {
        const message = errorText(err);
        await assertAlive(endpoint, `the ${type} prefill`);
        typeStatus.set(type, { status: isUnknownCommand(message) ? 'unsupported' : 'error', message });
        log(`[collections] ${endpoint.server}: ${PLURAL[type]} ${isUnknownCommand(message) ? 'unsupported' : 'failed'}: ${message}`);
      }
    }
    await settle(endpoint, log);
    for (const op of COLLECTION_OPS) {
      const known = typeStatus.get(op.type)!;
      const base = { server: endpoint.server, type: op.type };
      const pairs = (i: number): string | undefined => (op.labels.length > 1 ? op.labels.filter((_, j) => j !== i).join('+') : undefined);
      if (known.status !== 'ok') {
        op.labels.forEach((label, i) => results.push({ ...base, op: label, status: known.status, message: known.message, pairedWith: pairs(i) }));
        continue;
      }
      // Unmeasured: the server's JIT gets to this command's path before the small run.
      await runCommands(endpoint, settings, op.commands(collectionKey(op.type, settings.small)), settings.small, Math.max(500, Math.round(endpoint.requests / 20)));
      const small = await measureOp(endpoint, settings, redis, op, settings.small);
      const big = small.status === 'ok' ? await measureOp(endpoint, settings, redis, op, settings.big) : small;
      op.labels.forEach((label, i) => {
        if (small.status !== 'ok' || big.status !== 'ok') {
          const failed = small.status !== 'ok' ? small : (big as Exclude<typeof big, { status: 'ok' }>);
          results.push({ ...base, op: label, status: failed.status, message: failed.message, pairedWith: pairs(i) });
          return;
        }
        const row: OpResult = { ...base, op: label, status: 'ok', small: small.value[i], big: big.value[i], pairedWith: pairs(i) };
        results.push(row);
      });
      for (const r of results.slice(-op.labels.length)) {
        log(
          `[collections] ${endpoint.server.padEnd(16)} ${r.op.padEnd(11)} ` +
            (r.status === 'ok'
              ? `${Math.round(r.small!.rps).toLocaleString('en-US').padStart(8)} ops/s at ${settings.small}, ` +
                `${Math.round(r.big!.rps).toLocaleString('en-US').padStart(8)} at ${settings.big}  (${(r.big!.rps / r.small!.rps).toFixed(2)}x)  ` +
                `CPU ${r.small!.cpuUsPerRequest.toFixed(1)} / ${r.big!.cpuUsPerRequest.toFixed(1)} µs/req  size after ${r.small!.sizeAfter ?? '?'} / ${r.big!.sizeAfter ?? '?'}`
              : `${r.status}: ${r.message ?? ''}`),
        );
      }
    }
  } finally {
    redis.disconnect();
  }
  return results;
}

/**
 * Part 2 on a single node: redis-benchmark's own tests, one per invocation so each CPU reading
 * belongs to one command. LRANGE_100 pushes its list in the same invocation (redis-benchmark
 * always does), so its CPU per request is the invocation's minus the LPUSH run's per request.
 */
export async function runBuiltins(endpoint: CollectionsEndpoint, settings: CollectionsSettings): Promise<BuiltinResult[]> {
  const results: BuiltinResult[] = [];
  for (const test of settings.builtinTests) {
    const base = { benchmarkBinary: settings.benchmarkBinary, host: endpoint.host, port: endpoint.port, shape: settings.shape, serverPids: endpoint.serverPids, cluster: false, timeoutMs: settings.timeoutMs, pipeline: 1, requests: endpoint.requests, test: 'set' as const };
    const runs: Measurement[] = [];
    let failure: BuiltinResult | null = null;
    for (let i = 0; i < settings.repeat && failure === null; i++) {
      const [run] = await runSampled(settings.benchmarkBinary, [benchmarkArgs(base, test)], endpoint.serverPids, settings.timeoutMs);
      const error = serverErrorLine(run!.result.output);
      if (error !== null || !run!.result.ok) {
        if (error === null) await assertAlive(endpoint, test);
        const message = error ?? `redis-benchmark ${run!.result.status}`;
        failure = { server: endpoint.server, test, status: error !== null && isUnknownCommand(error) ? 'unsupported' : 'error', message };
        break;
      }
      const row = parseBenchmarkCsv(run!.result.stdout).find((r) => r.test.split(' ')[0]!.toLowerCase() === test);
      if (row === undefined) {
        failure = { server: endpoint.server, test, status: 'error', message: `no ${test} row in: ${run!.result.output.slice(-300)}` };
        break;
      }
      let ticks = run!.ticks;
      if (test === 'lrange_100') {
        const lpush = results.find((r) => r.test === 'lpush' && r.measurement !== undefined)?.measurement;
        ticks = lpush === undefined ? ticks : Math.max(0, ticks - (lpush.cpuTicks * endpoint.requests) / lpush.requests);
      }
      runs.push({
        test: row.test, generator: 'redis-benchmark', pipeline: 1, requests: endpoint.requests, rps: row.rps,
        p50Ms: row.p50Ms, p99Ms: row.p99Ms, avgMs: row.avgMs, cpuTicks: ticks,
        cpuUsPerRequest: (ticks * 1e6) / clockTicksPerSecond() / endpoint.requests, wallSeconds: run!.wallSeconds,
      });
    }
    const result: BuiltinResult = failure ?? {
      server: endpoint.server,
      test,
      status: 'ok',
      measurement: [...runs].sort((a, b) => a.rps - b.rps)[Math.floor(runs.length / 2)]!,
      cpuEstimated: test === 'lrange_100' ? true : undefined,
    };
    results.push(result);
    settings.log(
      `[collections] ${endpoint.server.padEnd(16)} -t ${test.padEnd(10)} ` +
        (result.measurement !== undefined
          ? `${Math.round(result.measurement.rps).toLocaleString('en-US').padStart(8)} ops/s  CPU ${result.measurement.cpuUsPerRequest.toFixed(1)} µs/req`
          : `${result.status}: ${result.message ?? ''}`),
    );
  }
  return results;
}

async function configValue(endpoint: { host: string; port: number }, name: string): Promise<string | undefined> {
  const reply: RespValue = await respCommand(endpoint.host, endpoint.port, ['CONFIG', 'GET', name]).catch(() => null);
  return Array.isArray(reply) && typeof reply[1] === 'string' ? reply[1] : undefined;
}

/**
 * Part 3 on a single node: per repetition, a fresh collection of `elements` elements under a key
 * of its own, then one DEL timed from the client (write to reply). A key of its own per repetition
 * keeps a previous DEL's background reclaim from being part of the next timing's collection.
 */
export async function runDel(endpoint: CollectionsEndpoint, settings: CollectionsSettings, type: CollectionType, elements: number, repetitions: number): Promise<DelResult> {
  const redis = client(endpoint);
  const result: DelResult = { server: endpoint.server, type, elements, status: 'ok', fillSeconds: [], delMs: [], oneElementMs: [] };
  try {
    result.lazyfreeUserDel = await configValue(endpoint, 'lazyfree-lazy-user-del');
    for (let rep = 0; rep < repetitions; rep++) {
      const key = collectionKey(type, elements, `:del:${rep}`);
      const started = process.hrtime.bigint();
      await fillCollection(redis, type, key, elements);
      result.fillSeconds.push(Number(process.hrtime.bigint() - started) / 1e9);
      const size = await cardinality(redis, type, key);
      if (size !== elements) throw new Error(`${key} holds ${size ?? '?'} elements after the fill, not ${elements}`);
      const t0 = process.hrtime.bigint();
      const deleted = await redis.del(key);
      result.delMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (deleted !== 1) throw new Error(`DEL ${key} answered ${deleted}`);
      const one = collectionKey(type, 1, `:del:${rep}`);
      await fillCollection(redis, type, one, 1);
      const t1 = process.hrtime.bigint();
      await redis.del(one);
      result.oneElementMs.push(Number(process.hrtime.bigint() - t1) / 1e6);
    }
  } catch (err) {
    const message = errorText(err);
    await assertAlive(endpoint, `DEL of a ${type}`);
    result.status = isUnknownCommand(message) ? 'unsupported' : 'error';
    result.message = message;
  } finally {
    redis.disconnect();
  }
  settings.log(
    `[collections] ${endpoint.server.padEnd(16)} DEL of a ${type} of ${elements.toLocaleString('en-US')}: ` +
      (result.status === 'ok'
        ? `${result.delMs.map((ms) => ms.toFixed(2)).join(' / ')} ms; of one element ${result.oneElementMs.map((ms) => ms.toFixed(2)).join(' / ')} ms (fills ${result.fillSeconds.map((s) => s.toFixed(1)).join(' / ')} s)`
        : `${result.status}: ${result.message ?? ''}`),
  );
  return result;
}

function statusKb(text: string, field: string): number | null {
  const match = new RegExp(`^${field}:\\s*(\\d+) kB`, 'm').exec(text);
  return match === null ? null : Number(match[1]);
}

/** VmRSS, RssAnon (heap, stacks: what the process allocated) and RssFile (mapped files: LMDB's pages). */
export function readMemory(pid: number, label: string): MemorySample {
  let text = '';
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    // Not Linux, or the process is gone: the sample says n/a.
  }
  return { label, rssKb: statusKb(text, 'VmRSS'), anonKb: statusKb(text, 'RssAnon'), fileKb: statusKb(text, 'RssFile') };
}

/**
 * Part 4 on a fresh node: `collections` collections of `elementsEach` elements (types round-robin
 * over those the server knows), memory read right after the start, after the prefill and after a
 * pause (checkpoints, the memtable drained into LMDB, garbage collected).
 */
export async function runMemory(
  endpoint: CollectionsEndpoint,
  settings: CollectionsSettings,
  opts: { collections: number; elementsEach: number; types: readonly CollectionType[]; pauseSeconds: number; rssLimitMiB: number },
): Promise<MemoryResult> {
  const pid = endpoint.serverPids[0]!;
  const result: MemoryResult = {
    server: endpoint.server, collections: opts.collections, elementsEach: opts.elementsEach, types: [], fillSeconds: 0,
    elementsFilled: 0, samples: [readMemory(pid, 'started')], growth: [], status: 'ok',
  };
  const redis = client(endpoint);
  try {
    const types: CollectionType[] = [];
    for (const type of opts.types) {
      // One element says whether the server knows the type.
      const probe = collectionKey(type, 0, ':probe');
      try {
        await fillCollection(redis, type, probe, 1);
        await redis.del(probe);
        types.push(type);
      } catch (err) {
        if (!isUnknownCommand(errorText(err))) throw err;
      }
    }
    if (types.length === 0) throw new Error(`none of ${opts.types.join(', ')} is supported`);
    result.types = types;
    const started = process.hrtime.bigint();
    for (let i = 0; i < opts.collections; i++) {
      const type = types[i % types.length]!;
      await fillCollection(redis, type, collectionKey(type, opts.elementsEach, `:mem:${i}`), opts.elementsEach);
      result.elementsFilled += opts.elementsEach;
      const sample = readMemory(pid, `after ${i + 1} collections`);
      result.growth.push(sample);
      // The machine is shared: a node whose memory grows with the data is stopped before it takes all of it.
      if (sample.rssKb !== null && sample.rssKb > opts.rssLimitMiB * 1024 && i + 1 < opts.collections) {
        result.stoppedAtLimitMiB = opts.rssLimitMiB;
        settings.log(`[collections] ${endpoint.server}: RSS ${Math.round(sample.rssKb / 1024)} MiB after ${i + 1} collections, over ${opts.rssLimitMiB} MiB: fill stopped`);
        break;
      }
    }
    result.fillSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    result.samples.push(readMemory(pid, 'after prefill'));
    await sleep(opts.pauseSeconds * 1000);
    result.samples.push(readMemory(pid, `after ${opts.pauseSeconds} s more`));
  } catch (err) {
    // A node that runs out of memory while it fills is this part's finding, not a harness failure.
    const exited = await exitedWithin(endpoint.procs[0]!, 500);
    result.status = 'error';
    result.message = exited === null ? errorText(err) : `the server exited (${exited}): ${endpoint.procs[0]!.outputTail().slice(-300)}`;
  } finally {
    redis.disconnect();
  }
  const last = result.samples[result.samples.length - 1]!;
  settings.log(
    `[collections] ${endpoint.server.padEnd(16)} memory, ${opts.collections} x ${opts.elementsEach.toLocaleString('en-US')} (${result.types.join(', ')}): ` +
      (result.status === 'ok'
        ? `filled in ${result.fillSeconds.toFixed(1)} s; RSS ${last.rssKb ?? '?'} kB, anonymous ${last.anonKb ?? '?'} kB, file ${last.fileKb ?? '?'} kB`
        : `error: ${result.message ?? ''}`),
  );
  return result;
}

/** The slot primary of the hash tag: CLUSTER KEYSLOT, then the CLUSTER SLOTS range holding it. */
export async function slotPrimary(host: string, port: number): Promise<{ host: string; port: number; slot: number }> {
  const slot = await respCommand(host, port, ['CLUSTER', 'KEYSLOT', HASH_TAG]);
  if (typeof slot !== 'number') throw new Error(`CLUSTER KEYSLOT ${HASH_TAG} answered ${JSON.stringify(slot)}`);
  const ranges = await respCommand(host, port, ['CLUSTER', 'SLOTS']);
  if (ranges instanceof RespError || !Array.isArray(ranges)) throw new Error(`CLUSTER SLOTS answered ${JSON.stringify(ranges)}`);
  for (const range of ranges) {
    if (!Array.isArray(range)) continue;
    const [from, to, primary] = range;
    if (typeof from === 'number' && typeof to === 'number' && from <= slot && slot <= to && Array.isArray(primary)) {
      const [h, p] = primary;
      if (typeof h === 'string' && typeof p === 'number') return { host: h === '' ? host : h, port: p, slot };
    }
  }
  throw new Error(`no CLUSTER SLOTS range holds slot ${slot}`);
}

