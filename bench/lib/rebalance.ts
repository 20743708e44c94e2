import { setTimeout as sleep } from 'node:timers/promises';
import { addMember, waitClusterReady, waitRebalanced, type RunningCluster } from './cluster.js';
import { loadDescription, relative, reportBase, summarise, withLoadedCluster, type DisruptionOptions, type DisruptionReport } from './disruption.js';
import { stopManaged } from './proc.js';
import { respString } from './resp.js';

/** `steadySeconds` is the length of each steady phase: before the join, between join and leave, after the leave. */
export type RebalanceOptions = DisruptionOptions;

/** The node decommissioned after the join: an original member, not the client's seed (the first). */
const LEAVER = 1;

/** Waits until `cluster`'s members agree on their membership, then until none is rebalancing. */
async function settle(cluster: RunningCluster): Promise<{ known: number; done: number }> {
  await waitClusterReady(cluster);
  const known = Date.now();
  await waitRebalanced(cluster);
  return { known, done: Date.now() };
}

/**
 * The rebalance run: a ringkv cluster under steady load, then a fourth node joins (slots and
 * their data move to it while the client keeps going), then one of the original nodes leaves
 * with RINGKV.LEAVE (its slots move to the rest). Each rebalance phase lasts from the change
 * until every node reports it finished, observed through INFO, never assumed.
 */
export function runRebalance(opts: RebalanceOptions, log: (line: string) => void): Promise<DisruptionReport> {
  return withLoadedCluster(opts, 'rebalance', 2 * opts.steadySeconds + 900, log, async ({ cluster, load, seedPort, steady }) => {
    const join = Date.now();
    const joiner = await addMember(cluster, { durable: false, scratch: opts.scratch, paths: opts.paths });
    const joinerPort = cluster.members[joiner]!.port;
    log(`[rebalance] node ${joinerPort} started with the others as seeds`);
    const joined = await settle(cluster);
    log(`[rebalance] join: every node knows 4 members after ${relative(joined.known, join).toFixed(2)} s, rebalance finished after ${relative(joined.done, join).toFixed(2)} s`);
    await sleep(opts.steadySeconds * 1000);
    load.guard();

    const leaver = cluster.members[LEAVER]!;
    const leave = Date.now();
    await respString(opts.host, leaver.port, ['RINGKV.LEAVE']);
    log(`[rebalance] RINGKV.LEAVE on node ${leaver.port}`);
    const left = await settle({ ...cluster, members: cluster.members.filter((m) => m !== leaver) });
    log(`[rebalance] leave: the others know 3 members after ${relative(left.known, leave).toFixed(2)} s, rebalance finished after ${relative(left.done, leave).toFixed(2)} s`);
    await sleep(opts.steadySeconds * 1000);
    load.guard();
    const end = Date.now();
    await load.stop();
    await stopManaged(leaver.proc);

    const { phases, windows } = summarise(load.slices, [
      ['before (3 nodes)', steady, join],
      ['join, rebalancing', join, joined.done],
      ['after join (4 nodes)', joined.done, leave],
      ['leave, rebalancing', leave, left.done],
      ['after leave (3 nodes)', left.done, end],
    ], join);
    return {
      heading: 'Rebalancing',
      title:
        `Rebalance run: ${loadDescription(opts, seedPort)}; node :${joinerPort} joins at t=0, node :${leaver.port} leaves later. ` +
        'Latencies in ms (histogram buckets, within 2.2%); t in s relative to the join.',
      ...reportBase(opts, cluster, seedPort),
      events: [
        { name: 'steady-state measurement starts', atS: relative(steady, join) },
        { name: `node ${joinerPort} started, seeded with the others`, atS: 0 },
        { name: 'every node knows 4 members, cluster_state ok', atS: relative(joined.known, join) },
        { name: 'rebalance finished on every node', atS: relative(joined.done, join) },
        { name: `RINGKV.LEAVE on node ${leaver.port}`, atS: relative(leave, join) },
        { name: 'the other nodes know 3 members, cluster_state ok', atS: relative(left.known, join) },
        { name: 'rebalance finished on every remaining node', atS: relative(left.done, join) },
        { name: 'end', atS: relative(end, join) },
      ],
      phases,
      windows,
      errorMessages: load.errorMessages(),
    };
  });
}
