import { setTimeout as sleep } from 'node:timers/promises';
import { killMember, restartMember, waitClusterReady, waitMemberFailed } from './cluster.js';
import { loadDescription, relative, reportBase, summarise, withLoadedCluster, type DisruptionOptions, type DisruptionReport } from './disruption.js';

export interface FailureOptions extends DisruptionOptions {
  /** How long the node stays down after every survivor has flagged it `fail`. */
  downSeconds: number;
  /** Measured after the restarted node has rejoined. */
  afterSeconds: number;
}

/** The client's seed is the first node; the victim is another. */
const VICTIM = 2;

/**
 * The failure run: a ringkv cluster under steady load from `loadgen.js` (its only seed is a
 * node that survives), then SIGKILL of another node, detection, restart and rejoin. Every
 * boundary is observed from outside (CLUSTER NODES / CLUSTER INFO polling), never assumed
 * from a fixed delay, so the phases show what a client lives through.
 */
export function runFailure(opts: FailureOptions, log: (line: string) => void): Promise<DisruptionReport> {
  return withLoadedCluster(opts, 'failure', opts.downSeconds + opts.afterSeconds + 240, log, async ({ cluster, load, seedPort, steady }) => {
    const victim = cluster.members[VICTIM]!;
    const kill = Date.now();
    await killMember(cluster, VICTIM);
    log(`[failure] SIGKILL node ${victim.port}`);
    await waitMemberFailed(cluster, VICTIM);
    const detected = Date.now();
    log(`[failure] survivors flag ${victim.port} as fail after ${relative(detected, kill).toFixed(2)} s`);
    await sleep(opts.downSeconds * 1000);
    load.guard();
    const restart = Date.now();
    await restartMember(cluster, VICTIM);
    await waitClusterReady(cluster);
    const rejoined = Date.now();
    log(`[failure] node ${victim.port} restarted; cluster ok on every node ${((rejoined - restart) / 1000).toFixed(2)} s after the restart`);
    await sleep(opts.afterSeconds * 1000);
    load.guard();
    const end = Date.now();
    await load.stop();

    const { phases, windows } = summarise(load.slices, [
      ['before', steady, kill],
      ['down, undetected', kill, detected],
      ['down, detected', detected, restart],
      ['rejoining', restart, rejoined],
      ['after rejoin', rejoined, end],
    ], kill);
    return {
      heading: 'Failure',
      title:
        `Failure run: ${loadDescription(opts, seedPort)}; node :${victim.port} killed at t=0. ` +
        'Latencies in ms (histogram buckets, within 2.2%); t in s relative to the kill.',
      ...reportBase(opts, cluster, seedPort),
      events: [
        { name: 'steady-state measurement starts', atS: relative(steady, kill) },
        { name: `SIGKILL node ${victim.port}`, atS: 0 },
        { name: 'both survivors flag it fail', atS: relative(detected, kill) },
        { name: 'node restarted (same port and data directory)', atS: relative(restart, kill) },
        { name: 'cluster_state ok, 3 known nodes, no fail flag on every node', atS: relative(rejoined, kill) },
        { name: 'end', atS: relative(end, kill) },
      ],
      phases,
      windows,
      errorMessages: load.errorMessages(),
    };
  });
}
