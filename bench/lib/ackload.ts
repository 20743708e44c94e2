/**
 * Closed-loop generator that remembers what the cluster acknowledged, for the failover run:
 *
 *   node dist/bench/lib/ackload.js --node 127.0.0.51:7000 [--node ...] [--clients 20]
 *        [--mix set|set,incr] [--counters 50] [--data-size 100] [--readback-keys 5000|all]
 *        [--retry-delay-on-failover MS] [--slice-ms 100] [--max-seconds 300]
 *
 * One ioredis `Cluster` client with its default settings (what an application gets), shared by
 * `--clients` workers. `--retry-delay-on-failover 0` changes one setting: ioredis then reports a
 * command whose connection closed under it instead of sending it again to the slot's next node, so
 * an INCR that may have been applied counts as failed rather than possibly twice. Each worker SETs fresh keys (`fo:<worker>:<n>`, never written before, the
 * value naming the key) and, with `--mix set,incr`, alternates them with INCR of one of
 * `--counters` shared counters. A worker issues its next command once the previous one answered;
 * a failed command counts as an error and costs the worker a 10 ms pause, so an unavailable slot
 * does not become a busy loop.
 *
 * Signals steer it (see ack-messages.ts): SIGUSR1 marks the fault; SIGUSR2 reads back keys
 * acknowledged before the mark (`--readback-keys` of them drawn uniformly, or all), on a second
 * client with as many GETs in flight as there are workers, while the load goes on; SIGTERM (or
 * `--max-seconds`) stops the load, waits up to 3 s for the commands in flight, reads back every
 * key acknowledged during the run and every counter, prints `final` and exits.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Cluster } from 'ioredis';
import { LatencyHistogram } from './histogram.js';
import type { AckMessage, AckMix, CounterCheck, ReadbackResult } from './ack-messages.js';

const ERROR_SAMPLES_PER_SLICE = 3;
/** A read-back during the load that has not finished by then reports the rest as unanswered. */
const READBACK_LIMIT_MS = 20_000;
/** The same for the read-back of every key after the load stopped. */
const FINAL_READBACK_LIMIT_MS = 90_000;

class Slice {
  readonly t0 = Date.now();
  readonly latency = new LatencyHistogram();
  setOk = 0;
  setErr = 0;
  incrOk = 0;
  incrErr = 0;
  getOk = 0;
  getErr = 0;
  readonly errors = new Set<string>();
}

function emit(message: AckMessage): void {
  // stdout to a pipe is synchronous on Linux, so nothing is lost on exit.
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

function positive(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${value}`);
  return n;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function valueFor(key: string, size: number): string {
  return `${key}:`.padEnd(size, 'x');
}

/** Up to `n` of `items`, drawn uniformly without replacement (all of them when n is null or larger). */
function sample<T>(items: readonly T[], n: number | null): T[] {
  if (n === null || n >= items.length) return [...items];
  const copy = [...items];
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(Math.random() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, n);
}

interface ReadBackJob {
  client: Cluster;
  acknowledged: readonly string[];
  /** Keys to read, null for all. */
  sampleSize: number | null;
  inFlight: number;
  limitMs: number;
  dataSize: number;
  /** Counts each answered GET in the current slice. */
  onGet: (ok: boolean) => void;
}

/** GETs the keys with a bounded number in flight, checking each value. */
async function readBack(job: ReadBackJob): Promise<ReadbackResult> {
  const { client, dataSize } = job;
  const keys = sample(job.acknowledged, job.sampleSize);
  const startedAt = Date.now();
  const result: ReadbackResult = {
    acknowledged: job.acknowledged.length, keys: keys.length, ok: 0, missing: 0, wrong: 0, errors: 0, unanswered: 0, startedAt, seconds: 0, errorSamples: [],
  };
  const samples = new Map<string, number>();
  let next = 0;
  let expired = false;
  const reader = async (): Promise<void> => {
    while (!expired && next < keys.length) {
      const key = keys[next++]!;
      try {
        const value = await client.get(key);
        if (value === null) result.missing++;
        else if (value === valueFor(key, dataSize)) result.ok++;
        else result.wrong++;
        job.onGet(true);
      } catch (err) {
        result.errors++;
        job.onGet(false);
        const m = message(err);
        samples.set(m, (samples.get(m) ?? 0) + 1);
      }
    }
  };
  const limit = new AbortController();
  await Promise.race([
    Promise.all(Array.from({ length: job.inFlight }, reader)),
    sleep(job.limitMs, undefined, { signal: limit.signal }).then(() => { expired = true; }, () => undefined),
  ]);
  limit.abort();
  result.unanswered = keys.length - result.ok - result.missing - result.wrong - result.errors;
  result.seconds = (Date.now() - startedAt) / 1000;
  result.errorSamples = [...samples.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5);
  return result;
}

async function connect(nodes: ReadonlyArray<{ host: string; port: number }>, retryDelayOnFailover?: number): Promise<Cluster> {
  const client = new Cluster([...nodes], retryDelayOnFailover === undefined ? {} : { retryDelayOnFailover });
  // Failures surface on the commands themselves; these events would only repeat them.
  client.on('error', () => undefined);
  client.on('node error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('cluster client not ready within 20 s')), 20_000);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return client;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      node: { type: 'string', multiple: true },
      clients: { type: 'string', default: '20' },
      mix: { type: 'string', default: 'set' },
      counters: { type: 'string', default: '50' },
      'data-size': { type: 'string', default: '100' },
      'readback-keys': { type: 'string', default: '5000' },
      'retry-delay-on-failover': { type: 'string' },
      'slice-ms': { type: 'string', default: '100' },
      'max-seconds': { type: 'string', default: '300' },
    },
    strict: true,
  });
  const nodes = (values.node ?? []).map((n) => {
    const m = /^(.+):(\d+)$/.exec(n);
    if (m === null) throw new Error(`--node must be host:port, got ${n}`);
    return { host: m[1]!, port: positive('node', m[2]!) };
  });
  if (nodes.length === 0) throw new Error('at least one --node is required');
  if (values.mix !== 'set' && values.mix !== 'set,incr') throw new Error(`--mix must be set or set,incr, got ${values.mix}`);
  const mix: AckMix = values.mix;
  const clients = positive('clients', values.clients);
  const counterCount = positive('counters', values.counters);
  const dataSize = positive('data-size', values['data-size']);
  const retryValue = values['retry-delay-on-failover'];
  const retryDelayOnFailover = retryValue === undefined ? undefined : Number(retryValue);
  if (retryDelayOnFailover !== undefined && !(Number.isInteger(retryDelayOnFailover) && retryDelayOnFailover >= 0)) {
    throw new Error(`--retry-delay-on-failover must be an integer >= 0, got ${retryValue}`);
  }
  const readbackKeys = values['readback-keys'] === 'all' ? null : positive('readback-keys', values['readback-keys']);
  const sliceMs = positive('slice-ms', values['slice-ms']);
  const maxMs = positive('max-seconds', values['max-seconds']) * 1000;

  // Both keep ioredis's defaults. Auto-pipelining would make the read-back faster, but ioredis
  // then fails whole batches with client-side errors when the slot map changes under them.
  const cluster = await connect(nodes, retryDelayOnFailover);
  const reader = await connect(nodes);
  emit({ type: 'ready', t: Date.now() });

  const acked: string[] = [];
  let marked = -1;
  const counters: CounterCheck[] = Array.from({ length: mix === 'set,incr' ? counterCount : 0 }, (_, i) => ({ key: `fo:counter:${i}`, acked: 0, failed: 0, pending: 0, value: null }));

  let stopping = false;
  let current = new Slice();
  const flush = (done: Slice): void =>
    emit({
      type: 'slice', t0: done.t0, t1: Date.now(), setOk: done.setOk, setErr: done.setErr, incrOk: done.incrOk, incrErr: done.incrErr,
      getOk: done.getOk, getErr: done.getErr,
      latency: done.latency.toSparse(), errors: [...done.errors],
    });
  const rotate = setInterval(() => {
    const done = current;
    current = new Slice();
    flush(done);
  }, sliceMs);
  let readback: Promise<void> | null = null;
  process.on('SIGUSR1', () => {
    marked = acked.length;
    emit({ type: 'marked', t: Date.now(), keys: marked });
  });
  process.on('SIGUSR2', () => {
    if (readback !== null) return;
    const before = acked.slice(0, marked < 0 ? acked.length : marked);
    const onGet = (ok: boolean): void => {
      if (ok) current.getOk++;
      else current.getErr++;
    };
    readback = readBack({ client: reader, acknowledged: before, sampleSize: readbackKeys, inFlight: clients, limitMs: READBACK_LIMIT_MS, dataSize, onGet })
      .then((r) => emit({ type: 'readback', ...r }));
  });
  const stop = (): void => {
    stopping = true;
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const deadline = setTimeout(stop, maxMs);

  const worker = async (id: number): Promise<void> => {
    let seq = 0;
    let turn = 0;
    while (!stopping) {
      const incr = mix === 'set,incr' && turn++ % 2 === 1;
      const key = incr ? '' : `fo:${id}:${seq++}`;
      const counter = incr ? counters[Math.floor(Math.random() * counterCount)]! : null;
      const started = performance.now();
      if (counter !== null) counter.pending++;
      try {
        if (counter !== null) await cluster.incr(counter.key);
        else await cluster.set(key, valueFor(key, dataSize));
        const slice = current;
        slice.latency.recordMicros((performance.now() - started) * 1000);
        if (counter !== null) {
          counter.pending--;
          counter.acked++;
          slice.incrOk++;
        } else {
          acked.push(key);
          slice.setOk++;
        }
      } catch (err) {
        const slice = current;
        if (counter !== null) {
          counter.pending--;
          counter.failed++;
          slice.incrErr++;
        } else {
          slice.setErr++;
        }
        if (slice.errors.size < ERROR_SAMPLES_PER_SLICE) slice.errors.add(message(err));
        await sleep(10);
      }
    }
  };
  const workers = Promise.all(Array.from({ length: clients }, (_, i) => worker(i)));
  while (!stopping) await sleep(50);
  await Promise.race([workers, sleep(3000)]);
  clearInterval(rotate);
  clearTimeout(deadline);
  flush(current);
  if (readback !== null) await readback;

  // What is still pending here was sent and never answered: its outcome is unknown.
  const keys = await readBack({ client: reader, acknowledged: acked, sampleSize: null, inFlight: 50, limitMs: FINAL_READBACK_LIMIT_MS, dataSize, onGet: () => undefined });
  const counterErrors: string[] = [];
  for (const c of counters) {
    try {
      const v = await reader.get(c.key);
      c.value = v === null ? 0 : Number(v);
    } catch (err) {
      counterErrors.push(`${c.key}: ${message(err)}`);
    }
  }
  emit({ type: 'final', keys, counters, counterErrors });
  cluster.disconnect();
  reader.disconnect();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`ackload: ${message(err)}\n`);
    process.exit(1);
  },
);
