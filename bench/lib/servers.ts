export type ServerName = 'redis' | 'ringkv';
export type ScenarioName =
  | 'no-persistence'
  | 'durable'
  | 'cluster'
  | 'cluster-durable'
  | 'cluster-replicas'
  | 'cluster-pipelined'
  | 'failure'
  | 'rebalance'
  | 'failover'
  | 'partition'
  | 'collections'
  | 'streams'
  | 'scripting'
  | 'eviction'
  | 'memory-keys'
  | 'tls';
/**
 * - `single`: one server process, redis-benchmark against it.
 * - `cluster`: a cluster of each kind, `redis-benchmark --cluster` against it, unpipelined and pipelined.
 * - `cluster-unpipelined`: the same, unpipelined runs only.
 * - `cluster-pipelined`: pipelined cluster load in two shapes, `redis-benchmark --cluster -P`
 *   (one slot per connection's pipeline) and the mixed-slot generator (random keys, many in flight).
 * - `eviction`: one redis-server and one ringkv node with the same maxmemory, a Zipf cache workload
 *   under allkeys-lru and allkeys-lfu: hit rate and used memory against the limit (lib/eviction.ts).
 * - `failure`: a ringkv cluster under a Node load generator while one node is killed and restarted.
 * - `rebalance`: the same load while a fourth node joins and then an original node leaves.
 * - `failover`: both clusters at their default settings under an ioredis workload that records
 *   what was acknowledged, through one fault (a node killed, or cut off from the others).
 * - `collections`: hashes, sets, sorted sets and lists at two sizes, redis-benchmark's collection
 *   tests, DEL of a big collection and (opt-in) memory, on Redis, a ringkv node and a ringkv cluster.
 * - `memory-keys`: one redis-server and one ringkv node each filled with 1,000,000 keys of 100-byte
 *   values: resident and anonymous memory per key (lib/memory-keys.ts).
 * - `scripting`: EVALSHA of a rate limiter and of a one-GET script beside the same commands sent
 *   plainly, with the server's CPU per request (bench/lib/scripting.ts).
 */
export type ScenarioKind = 'single' | 'cluster' | 'cluster-unpipelined' | 'cluster-pipelined' | 'failure' | 'rebalance' | 'failover' | 'collections' | 'streams' | 'scripting' | 'eviction' | 'memory-keys';

/** Kinds that start a cluster of each server and measure it with redis-benchmark --cluster (and more). */
export function isClusterKind(kind: ScenarioKind): boolean {
  return kind === 'cluster' || kind === 'cluster-unpipelined' || kind === 'cluster-pipelined';
}

export const SERVER_NAMES: readonly ServerName[] = ['redis', 'ringkv'];

export interface Scenario {
  name: ScenarioName;
  title: string;
  kind: ScenarioKind;
  /** fsync every write (redis: appendonly yes + appendfsync always; ringkv: appendfsync always). */
  durable: boolean;
  /** Run only when named with --scenario: its prefills make it long. */
  optIn?: boolean;
  /** Single node: clients connect to tls-port with a client certificate (both servers, same files). */
  tls?: boolean;
}

export const SCENARIOS: readonly Scenario[] = [
  { name: 'no-persistence', title: 'no persistence', kind: 'single', durable: false },
  { name: 'durable', title: 'durable (fsync every write)', kind: 'single', durable: true },
  { name: 'cluster', title: '3-node cluster, no persistence', kind: 'cluster', durable: false },
  { name: 'cluster-durable', title: '3-node cluster, durable (fsync every write)', kind: 'cluster', durable: true },
  { name: 'cluster-replicas', title: '3-node cluster beside 3 masters + 3 replicas, unpipelined', kind: 'cluster-unpipelined', durable: false },
  { name: 'cluster-pipelined', title: '3-node cluster beside 3 masters + 3 replicas, pipelined', kind: 'cluster-pipelined', durable: false },
  { name: 'failure', title: 'ringkv 3-node cluster, one node killed', kind: 'failure', durable: false },
  { name: 'rebalance', title: 'ringkv cluster, a node joins and another leaves', kind: 'rebalance', durable: false },
  { name: 'failover', title: 'default settings, one node (Redis: a master) killed with SIGKILL', kind: 'failover', durable: false },
  { name: 'partition', title: 'default settings, one node (Redis: a master) cut off from the others for a while', kind: 'failover', durable: false },
  { name: 'collections', title: 'collections at two sizes, durable (fsync every write)', kind: 'collections', durable: true, optIn: true },
  { name: 'streams', title: 'streams: XADD and XREADGROUP+XACK, durable (fsync every write)', kind: 'streams', durable: true, optIn: true },
  { name: 'scripting', title: 'scripting: EVALSHA of a rate limiter and a read-only script, no persistence', kind: 'scripting', durable: false, optIn: true },
  { name: 'tls', title: 'TLS clients (tls-port, client certificates), no persistence', kind: 'single', durable: false, tls: true, optIn: true },
  { name: 'memory-keys', title: 'memory per key: 1,000,000 keys of 100-byte values, single node, no persistence', kind: 'memory-keys', durable: false, optIn: true },
  { name: 'eviction', title: 'cache workload (Zipf GET/SET, key space 5x maxmemory) under allkeys-lru and allkeys-lfu, no persistence', kind: 'eviction', durable: false, optIn: true },
];

/** ringkv replication settings: N replicas per key, W acks per write, R replicas per read. */
export interface Quorum {
  n: number;
  w: number;
  r: number;
}

export function quorumLabel(q: Quorum): string {
  return `N${q.n} W${q.w} R${q.r}`;
}

/** One system under test in a scenario: a server kind plus its topology and settings. */
export interface Target {
  server: ServerName;
  /** Empty for a single node; e.g. "N3 W2 R2" or "3 masters" for clusters. */
  variant: string;
  nodes: number;
  quorum?: Quorum;
  /**
   * Redis Cluster only: replicas per master (`redis-cli --cluster create --cluster-replicas`).
   * `nodes` counts them too: 3 masters with one replica each is 6 nodes.
   */
  replicasPerMaster?: number;
}

export const CLUSTER_SIZE = 3;
/** Failure detection in the failure scenario; the ringkv default (15 s) would make the run long. */
export const CLUSTER_NODE_TIMEOUT_MS = 2000;
export const STRICT_QUORUM: Quorum = { n: 3, w: 2, r: 2 };
export const FAST_QUORUM: Quorum = { n: 3, w: 1, r: 1 };

function ringkvClusterTarget(quorum: Quorum): Target {
  return { server: 'ringkv', variant: quorumLabel(quorum), nodes: CLUSTER_SIZE, quorum };
}

const REDIS_CLUSTER: Target = { server: 'redis', variant: `${CLUSTER_SIZE} masters`, nodes: CLUSTER_SIZE };
/**
 * The anchor for a replicated ringkv cluster: every master ships its writes to a replica, as
 * ringkv ships each write to its other replicas (asynchronously here; the client is answered
 * by the master alone). Replicas' CPU counts in the per-request figure as ringkv's replicas do.
 */
export const REDIS_CLUSTER_WITH_REPLICAS: Target = {
  server: 'redis',
  variant: `${CLUSTER_SIZE} masters + ${CLUSTER_SIZE} replicas`,
  nodes: CLUSTER_SIZE * 2,
  replicasPerMaster: 1,
};

/** ringkv as a user starts it: N3 W2 R2, cluster-node-timeout 15000 and appendfsync always are its defaults. */
export const RINGKV_DEFAULTS: Target = { server: 'ringkv', variant: 'N3 W2 R2, defaults', nodes: CLUSTER_SIZE, quorum: STRICT_QUORUM };

/** What each scenario runs, in order. Redis first so ringkv rows can be read against it. */
export function scenarioTargets(scenario: Scenario): Target[] {
  switch (scenario.name) {
    case 'no-persistence':
    case 'durable':
    case 'scripting':
    case 'tls':
      return [
        { server: 'redis', variant: '', nodes: 1 },
        { server: 'ringkv', variant: '', nodes: 1 },
      ];
    case 'eviction':
    case 'memory-keys':
      return [
        { server: 'redis', variant: '', nodes: 1 },
        { server: 'ringkv', variant: '', nodes: 1 },
      ];
    case 'streams':
    case 'collections':
      return [
        { server: 'redis', variant: '', nodes: 1 },
        { server: 'ringkv', variant: '', nodes: 1 },
        ringkvClusterTarget(STRICT_QUORUM),
      ];
    case 'cluster':
      return [REDIS_CLUSTER, ringkvClusterTarget(STRICT_QUORUM), ringkvClusterTarget(FAST_QUORUM)];
    case 'cluster-durable':
      return [REDIS_CLUSTER, ringkvClusterTarget(STRICT_QUORUM)];
    case 'cluster-replicas':
    case 'cluster-pipelined':
      return [REDIS_CLUSTER_WITH_REPLICAS, ringkvClusterTarget(STRICT_QUORUM)];
    case 'failure':
    case 'rebalance':
      return [ringkvClusterTarget(STRICT_QUORUM)];
    case 'failover':
    case 'partition':
      return [REDIS_CLUSTER_WITH_REPLICAS, RINGKV_DEFAULTS];
  }
}

/**
 * A node at the server's default settings on its own address, for the failover runs. Only what
 * placement needs is given: address, port, data directory, cluster mode and how to find the
 * others. Redis keeps its default cluster-node-timeout (15000) and appendonly (no); it dials its
 * bus and replication links from its own address (bind-source-addr) so that packet filters can
 * tell nodes apart,
 * and snapshots stay off as in every other run (a fork mid-run would be noise, not failover).
 * ringkv's defaults are N3 W2 R2, cluster-node-timeout 15000, appendfsync always.
 */
export function defaultsClusterLaunch(
  target: Target,
  node: { host: string; port: number },
  peers: ReadonlyArray<{ host: string; port: number }>,
  dir: string,
  paths: ServerPaths,
): ServerLaunch {
  if (target.server === 'redis') {
    return {
      command: paths.redisServer,
      args: [
        ...redisBaseArgs(node.port, dir, node.host),
        '--bind-source-addr', node.host,
        // Protected mode treats only 127.0.0.1 and ::1 as local and would refuse the replicas'
        // connections from the other loopback addresses; every node is bound to loopback anyway.
        '--protected-mode', 'no',
        '--cluster-enabled', 'yes',
        '--cluster-config-file', `${dir}/nodes-${node.port}.conf`,
      ],
    };
  }
  return {
    command: paths.nodeBinary,
    args: [
      paths.ringkvEntry, 'server', '--port', String(node.port), '--bind', node.host, '--dir', dir,
      '--cluster-enabled', 'yes',
      '--cluster-seeds', peers.map((p) => `${p.host}:${p.port}`).join(' '),
      ...paths.ringkvExtraArgs,
    ],
  };
}

export interface ServerLaunch {
  command: string;
  args: string[];
}

export interface ServerPaths {
  redisServer: string;
  redisCli: string;
  nodeBinary: string;
  ringkvEntry: string;
  ringkvExtraArgs: readonly string[];
}

function redisPersistence(durable: boolean): string[] {
  return durable ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
}

function redisBaseArgs(port: number, dir: string, host = '127.0.0.1'): string[] {
  return [
    '--port', String(port),
    '--bind', host,
    '--dir', dir,
    '--daemonize', 'no',
    '--logfile', '',
    // An empty save schedule disables RDB snapshots; otherwise they would fork mid-run.
    '--save', '',
  ];
}

/**
 * How each server is started for each single-node scenario. Both bind to loopback only and
 * get a fresh data directory, so no state leaks between runs.
 */
export function launchCommand(server: ServerName, scenario: Scenario, port: number, dir: string, paths: ServerPaths): ServerLaunch {
  if (server === 'redis') {
    return { command: paths.redisServer, args: [...redisBaseArgs(port, dir), ...redisPersistence(scenario.durable)] };
  }
  return { command: paths.nodeBinary, args: [...ringkvBaseArgs(port, dir, scenario.durable, paths), ...paths.ringkvExtraArgs] };
}

/** `ringkv server` on a port and data directory, durable or not: what every ringkv launch shares. */
function ringkvBaseArgs(port: number, dir: string, durable: boolean, paths: ServerPaths): string[] {
  return [paths.ringkvEntry, 'server', '--port', String(port), '--dir', dir, '--appendfsync', durable ? 'always' : 'no'];
}

/**
 * One node of a cluster. Each node gets a data directory of its own: Redis's append-only
 * directory and ringkv's LMDB files would collide in a shared one. The cluster bus is on
 * port + 10000 for both servers.
 *
 * Redis nodes start empty and are joined afterwards by `redis-cli --cluster create`; ringkv
 * nodes find each other through `--cluster-seeds` (every other node).
 */
export function clusterLaunchCommand(
  target: Target,
  durable: boolean,
  port: number,
  peers: readonly number[],
  dir: string,
  paths: ServerPaths,
): ServerLaunch {
  if (target.server === 'redis') {
    return {
      command: paths.redisServer,
      args: [
        ...redisBaseArgs(port, dir),
        '--cluster-enabled', 'yes',
        '--cluster-config-file', `${dir}/nodes-${port}.conf`,
        ...redisPersistence(durable),
      ],
    };
  }
  const quorum = target.quorum ?? STRICT_QUORUM;
  return {
    command: paths.nodeBinary,
    args: [
      ...ringkvBaseArgs(port, dir, durable, paths),
      '--cluster-enabled', 'yes',
      '--cluster-seeds', peers.map((p) => `127.0.0.1:${p}`).join(' '),
      '--cluster-node-timeout', String(CLUSTER_NODE_TIMEOUT_MS),
      '--replication-factor', String(quorum.n),
      '--write-quorum', String(quorum.w),
      '--read-quorum', String(quorum.r),
      ...paths.ringkvExtraArgs,
    ],
  };
}
