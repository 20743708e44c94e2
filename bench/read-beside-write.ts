/**
 * Reads beside writes on one large collection of a cluster: fills a set, then runs SADDs of new
 * members on one connection and SISMEMBERs on another, both to the set's primary, one command at a
 * time each, and prints how long that took and how many whole-collection copies the nodes made
 * meanwhile (INFO ringkv_collection_syncs, summed). docs/benchmarks.md, "Reads beside writes on a
 * large collection".
 *
 *   npm run build && node dist/bench/read-beside-write.js --port 7000 [--members 60000] [--commands 200]
 *
 * Against a running cluster (`npm start`); the set is `{rbw}set`, deleted first.
 */
import { parseArgs } from 'node:util';
import { Cluster, Redis } from 'ioredis';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '7000' },
    members: { type: 'string', default: '60000' },
    commands: { type: 'string', default: '200' },
  },
});
const key = '{rbw}set';
const members = Number(args.members);
const commands = Number(args.commands);

const cluster = new Cluster([{ host: '127.0.0.1', port: Number(args.port) }]);
try {
  await cluster.del(key);
  const nodes = cluster.nodes('master');
  for (let i = 0; i < members; i += 2000) await cluster.sadd(key, ...Array.from({ length: Math.min(2000, members - i) }, (_, j) => `m${i + j}`));
  const slot = Number(await cluster.cluster('KEYSLOT', key));
  const range = (await cluster.cluster('SLOTS')).find(([lo, hi]) => slot >= lo && slot <= hi);
  if (range?.[2] === undefined) throw new Error(`no node serves slot ${slot}`);
  const [host, port] = range[2];
  const syncs = async (): Promise<number> => {
    let sum = 0;
    for (const n of nodes) sum += Number(/ringkv_collection_syncs:(\d+)/.exec(await n.info('ringkv'))?.[1] ?? 0);
    return sum;
  };
  const writer = new Redis({ host, port });
  const reader = new Redis({ host, port });
  const before = await syncs();
  const started = performance.now();
  const timed = async (run: (i: number) => Promise<unknown>): Promise<number[]> => {
    const took: number[] = [];
    for (let i = 0; i < commands; i++) {
      const t = performance.now();
      await run(i);
      took.push(performance.now() - t);
    }
    return took.sort((a, b) => a - b);
  };
  const [writes, reads] = await Promise.all([
    timed((i) => writer.sadd(key, `w${Date.now()}-${i}`)),
    timed((i) => reader.sismember(key, `m${i % members}`)),
  ]);
  const ms = performance.now() - started;
  const p = (xs: number[], q: number): string => xs[Math.min(xs.length - 1, Math.floor(xs.length * q))]!.toFixed(1);
  console.log(`${commands} SADD beside ${commands} SISMEMBER on a set of ${members}: ${ms.toFixed(0)} ms, whole-collection copies ${(await syncs()) - before}; ` +
    `SADD p50/p99/max ${p(writes, 0.5)}/${p(writes, 0.99)}/${p(writes, 1)} ms, SISMEMBER ${p(reads, 0.5)}/${p(reads, 0.99)}/${p(reads, 1)} ms`);
  writer.disconnect();
  reader.disconnect();
  await cluster.del(key);
} finally {
  cluster.disconnect();
}
