import { setTimeout as sleep } from 'node:timers/promises';
import {
  killMember,
  restartMember,
  startCluster,
  stopCluster,
  waitClusterReady,
  waitMemberFailed,
  type RunningCluster,
} from './cluster.js';
import { relative, startLoad, summarise, type DisruptionReport, type RunningLoad } from './disruption.js';
import type { LoadMix } from './load-messages.js';
import type { ServerPaths, Target } from './servers.js';

export interface FailureOptions {
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
  /** Unmeasured load before the steady-state phase (JIT warm-up, keyspace fill). */
  warmupSeconds: number;
  /** Steady state measured before the kill. */
  steadySeconds: number;
  /** How long the node stays down after every survivor has flagged it `fail`. */
  downSeconds: number;
  /** Measured after the restarted node has rejoined. */
  afterSeconds: number;
}

const VICTIM = 2;
const SEED = 0;

/**
 * The failure run: a ringkv cluster under steady load from `loadgen.js` (its only seed is a
 * node that survives), then SIGKILL of another node, detection, restart and rejoin. Every
 * boundary is observed from outside (CLUSTER NODES / CLUSTER INFO polling), never assumed
 * from a fixed delay, so the phases show what a client lives through.
 */
export async function runFailure(opts: FailureOptions, log: (line: string) => void): Promise<DisruptionReport> {
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
    const victim = cluster.members[VICTIM];
    load = await startLoad({
      nodeBinary: opts.paths.nodeBinary,
      loadgenEntry: opts.loadgenEntry,
      host: opts.host,
      seedPort,
      clients: opts.clients,
      keyspace: opts.keyspace,
      dataSize: opts.dataSize,
      mix: opts.mix,
      maxSeconds: opts.warmupSeconds + opts.steadySeconds + opts.downSeconds + opts.afterSeconds + 240,
    });

    log(`[failure] cluster on ports ${cluster.members.map((m) => m.port).join(', ')}; client seeded with ${seedPort}; warming up ${opts.warmupSeconds} s`);
    await sleep(opts.warmupSeconds * 1000);
    load.guard();
    const steady = Date.now();
    await sleep(opts.steadySeconds * 1000);
    load.guard();
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
        `Failure run: ringkv ${opts.target.variant}, ${opts.clients} workers (${opts.mix}, ${opts.keyspace.toLocaleString('en-US')} keys) ` +
        `through one ioredis Cluster client seeded with :${seedPort}; node :${victim.port} killed at t=0. ` +
        'Latencies in ms (histogram buckets, within 2.2%); t in s relative to the kill.',
      server: 'ringkv',
      variant: opts.target.variant,
      clusterPorts: cluster.members.map((m) => m.port),
      clientSeedPort: seedPort,
      clients: opts.clients,
      keyspace: opts.keyspace,
      mix: opts.mix,
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
  } finally {
    await load?.stop();
    await stopCluster(cluster);
  }
}
