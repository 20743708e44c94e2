/**
 * Closed-loop load generator for a Redis Cluster API server that, unlike
 * `redis-benchmark --cluster`, keeps going when a node disappears: it is used to measure
 * throughput and latency while a node is killed and restarted.
 *
 *   node dist/bench/lib/loadgen.js --port 7000 [--port 7001 ...] [--clients 50] [--keyspace 100000]
 *        [--data-size 100] [--mix set|get|set,get] [--slice-ms 100] [--max-seconds 300]
 *
 * One ioredis `Cluster` client (default retry settings, so what an application would see)
 * shared by `--clients` workers; each worker issues its next command once the previous one
 * has answered. A failed command counts as an error and the worker pauses 10 ms before the
 * next, so an unavailable slot does not become a busy loop.
 *
 * Output, one JSON object per stdout line:
 *   {"type":"ready","t":<epoch ms>}                       the client has the slot map
 *   {"type":"slice","t0":..,"t1":..,"set":[[bucket,count],..],"get":[..],"errSet":n,"errGet":n,"errors":[msg,..]}
 *   {"type":"end","t":<epoch ms>}
 * Commands are counted in the slice in which they complete; histograms are `LatencyHistogram`
 * buckets. SIGTERM or SIGINT ends the run after the in-flight commands settle (at most 3 s);
 * `--max-seconds` bounds it in any case.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Cluster } from 'ioredis';
import { LatencyHistogram } from './histogram.js';
import type { LoadMessage, LoadMix, LoadSlice } from './load-messages.js';

const ERROR_SAMPLES_PER_SLICE = 3;

class Slice {
  readonly t0 = Date.now();
  readonly set = new LatencyHistogram();
  readonly get = new LatencyHistogram();
  errSet = 0;
  errGet = 0;
  readonly errors = new Set<string>();

  toMessage(): LoadSlice {
    return {
      type: 'slice',
      t0: this.t0,
      t1: Date.now(),
      set: this.set.toSparse(),
      get: this.get.toSparse(),
      errSet: this.errSet,
      errGet: this.errGet,
      errors: [...this.errors],
    };
  }
}

function emit(message: LoadMessage): void {
  // stdout to a pipe is synchronous on Linux, so nothing is lost on exit.
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

function positive(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${value}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', multiple: true },
      clients: { type: 'string', default: '50' },
      keyspace: { type: 'string', default: '100000' },
      'data-size': { type: 'string', default: '100' },
      mix: { type: 'string', default: 'set,get' },
      'slice-ms': { type: 'string', default: '100' },
      'max-seconds': { type: 'string', default: '300' },
    },
    strict: true,
  });
  const ports = (values.port ?? []).map((p) => positive('port', p));
  if (ports.length === 0) throw new Error('at least one --port is required');
  const mix = values.mix as LoadMix;
  if (!['set', 'get', 'set,get'].includes(mix)) throw new Error(`--mix must be set, get or set,get, got ${values.mix}`);
  const clients = positive('clients', values.clients);
  const keyspace = positive('keyspace', values.keyspace);
  const value = 'x'.repeat(positive('data-size', values['data-size']));
  const sliceMs = positive('slice-ms', values['slice-ms']);
  const maxMs = positive('max-seconds', values['max-seconds']) * 1000;

  const cluster = new Cluster(
    ports.map((port) => ({ host: values.host, port })),
    { redisOptions: { connectTimeout: 2000 } },
  );
  // Failures surface on the commands themselves; these events would only repeat them.
  cluster.on('error', () => undefined);
  cluster.on('node error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('cluster client not ready within 20 s')), 20_000);
    cluster.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  emit({ type: 'ready', t: Date.now() });

  let stopping = false;
  let current = new Slice();
  const rotate = setInterval(() => {
    const done = current;
    current = new Slice();
    emit(done.toMessage());
  }, sliceMs);
  const stop = (): void => {
    stopping = true;
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const deadline = setTimeout(stop, maxMs);

  const worker = async (id: number): Promise<void> => {
    let turn = id;
    while (!stopping) {
      const op = mix === 'set,get' ? (turn++ % 2 === 0 ? 'set' : 'get') : mix;
      const key = `key:${String(Math.floor(Math.random() * keyspace)).padStart(12, '0')}`;
      const started = performance.now();
      try {
        if (op === 'set') await cluster.set(key, value);
        else await cluster.get(key);
        const slice = current;
        (op === 'set' ? slice.set : slice.get).recordMicros((performance.now() - started) * 1000);
      } catch (err) {
        const slice = current;
        if (op === 'set') slice.errSet++;
        else slice.errGet++;
        if (slice.errors.size < ERROR_SAMPLES_PER_SLICE) slice.errors.add(err instanceof Error ? err.message : String(err));
        await sleep(10);
      }
    }
  };
  const workers = Promise.all(Array.from({ length: clients }, (_, i) => worker(i)));
  while (!stopping) await sleep(50);
  await Promise.race([workers, sleep(3000)]);
  clearInterval(rotate);
  clearTimeout(deadline);
  emit(current.toMessage());
  emit({ type: 'end', t: Date.now() });
  cluster.disconnect();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`loadgen: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
