import { setTimeout as sleep } from 'node:timers/promises';
import { addMember, startCluster, stopCluster, waitClusterReady, waitRebalanced, type RunningCluster } from './cluster.js';
import { relative, startLoad, summarise, type DisruptionReport, type RunningLoad } from './disruption.js';
import type { LoadMix } from './load-messages.js';
import { stopManaged } from './proc.js';
import { respString } from './resp.js';
import type { ServerPaths, Target } from './servers.js';

export interface RebalanceOptions {
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
  /** Unmeasured load before the first steady phase (JIT warm-up, keyspace fill). */
  warmupSeconds: number;
  /** Length of each steady phase: before the join, between join and leave, after the leave. */
  steadySeconds: number;
}

const SEED = 0;
/** The node decommissioned after the join: an original member, not the client's seed. */
const LEAVER = 1;

/**
 * The rebalance run: a ringkv cluster under steady load, then a fourth node joins (slots and
 * their data move to it while the client keeps going), then one of the original nodes leaves
 * with RINGKV.LEAVE (its slots move to the rest). Each rebalance phase lasts from the change
 * until every node reports it finished, observed through INFO, never assumed.
 */
export async function runRebalance(opts: RebalanceOptions, log: (line: string) => void): Promise<DisruptionReport> {
  const cluster: RunningCluster = await startCluster({
    target: opts.target,
    durable: false,
    host: opts.host,
    scratch: opts.scratch,
    paths: opts.paths,
  });
  let load: RunningLoad | null = null;
  try {
    const seedPort = cluster.members[SEED].port;
    load = await startLoad({
      nodeBinary: opts.paths.nodeBinary,
      loadgenEntry: opts.loadgenEntry,
      host: opts.host,
      seedPort,
      clients: opts.clients,
      keyspace: opts.keyspace,
      dataSize: opts.dataSize,
      mix: opts.mix,
      maxSeconds: opts.warmupSeconds + 3 * opts.steadySeconds + 900,
    });
    log(`[rebalance] cluster on ports ${cluster.members.map((m) => m.port).join(', ')}; client seeded with ${seedPort}; warming up ${opts.warmupSeconds} s`);
    await sleep(opts.warmupSeconds * 1000);
    load.guard();
    const steady = Date.now();
    await sleep(opts.steadySeconds * 1000);
    load.guard();

    const join = Date.now();
    const joiner = await addMember(cluster, { durable: false, scratch: opts.scratch, paths: opts.paths });
    const joinerPort = cluster.members[joiner]!.port;
    log(`[rebalance] node ${joinerPort} started with the others as seeds`);
    await waitClusterReady(cluster);
    const joinKnown = Date.now();
    await waitRebalanced(cluster);
    const joined = Date.now();
    log(`[rebalance] join: every node knows 4 members after ${relative(joinKnown, join).toFixed(2)} s, rebalance finished after ${relative(joined, join).toFixed(2)} s`);
    await sleep(opts.steadySeconds * 1000);
    load.guard();

    const leaver = cluster.members[LEAVER]!;
    const leave = Date.now();
    await respString(opts.host, leaver.port, ['RINGKV.LEAVE']);
    log(`[rebalance] RINGKV.LEAVE on node ${leaver.port}`);
    const remaining: RunningCluster = { ...cluster, members: cluster.members.filter((m) => m !== leaver) };
    await waitClusterReady(remaining);
    const leaveKnown = Date.now();
    await waitRebalanced(remaining);
    const left = Date.now();
    log(`[rebalance] leave: the others know 3 members after ${relative(leaveKnown, leave).toFixed(2)} s, rebalance finished after ${relative(left, leave).toFixed(2)} s`);
    await sleep(opts.steadySeconds * 1000);
    load.guard();
    const end = Date.now();
    await load.stop();
    await stopManaged(leaver.proc);

    const { phases, windows } = summarise(load.slices, [
      ['before (3 nodes)', steady, join],
      ['join, rebalancing', join, joined],
      ['after join (4 nodes)', joined, leave],
      ['leave, rebalancing', leave, left],
      ['after leave (3 nodes)', left, end],
    ], join);
    return {
      heading: 'Rebalancing',
      title:
        `Rebalance run: ringkv ${opts.target.variant}, ${opts.clients} workers (${opts.mix}, ${opts.keyspace.toLocaleString('en-US')} keys) ` +
        `through one ioredis Cluster client seeded with :${seedPort}; node :${joinerPort} joins at t=0, node :${leaver.port} leaves later. ` +
        'Latencies in ms (histogram buckets, within 2.2%); t in s relative to the join.',
      server: 'ringkv',
      variant: opts.target.variant,
      clusterPorts: cluster.members.map((m) => m.port),
      clientSeedPort: seedPort,
      clients: opts.clients,
      keyspace: opts.keyspace,
      mix: opts.mix,
      events: [
        { name: 'steady-state measurement starts', atS: relative(steady, join) },
        { name: `node ${joinerPort} started, seeded with the others`, atS: 0 },
        { name: 'every node knows 4 members, cluster_state ok', atS: relative(joinKnown, join) },
        { name: 'rebalance finished on every node', atS: relative(joined, join) },
        { name: `RINGKV.LEAVE on node ${leaver.port}`, atS: relative(leave, join) },
        { name: 'the other nodes know 3 members, cluster_state ok', atS: relative(leaveKnown, join) },
        { name: 'rebalance finished on every remaining node', atS: relative(left, join) },
        { name: 'end', atS: relative(end, join) },
      ],
      phases,
      windows,
      errorMessages: load.errorMessages(),
    };
  } finally {
    await load?.stop();
    await stopCluster(cluster);
  }
}
