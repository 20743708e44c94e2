/**
 * The ringkv set-ups compared with redis-server: one node; a 3-node cluster that proxies every
 * command to its slot's primary; and a 3-node cluster where each connection only names keys whose
 * slots its own node serves, so no command is ever redirected.
 */
import { Redis } from 'ioredis';
import { keySlot } from '../../../src/cluster/slot.js';
import { startCluster, type TestCluster } from '../cluster.js';
import { startNode, type NodeProcess } from '../server.js';
import type { Target } from './runner.js';
import type { ScenarioOptions } from './generator.js';

/** The node timeout users run (the test helper's 2 s default suits fault tests, not comparisons). */
/**
 * DIFF_SERVER_ARGS: more server arguments for a replay, e.g. `--checkpoint-interval-ms 10` so that
 * reads go through LMDB's range reads and not only the memtable.
 */
const EXTRA = (process.env.DIFF_SERVER_ARGS ?? '').split(' ').filter((a) => a !== '');
const DEFAULT_TIMEOUT = ['--cluster-node-timeout', '15000', ...EXTRA];

/** A started ringkv set-up: where connections go and what the generator must respect. */
export interface Subject {
  target: Target;
  /** Generator settings this set-up needs (keys in one slot per command, tags per node …). */
  generator: Pick<ScenarioOptions, 'crossSlot' | 'keyspaceCommands' | 'tagFor' | 'nodeOf' | 'connections' | 'noWatch'>;
  stop(): Promise<void>;
}

export async function singleNode(): Promise<Subject> {
  const node: NodeProcess = await startNode({ args: ['--appendfsync', 'no', ...EXTRA] });
  return {
    target: { name: 'single node', port: () => node.port },
    generator: { crossSlot: true, keyspaceCommands: true },
    stop: async () => void (await node.stop()),
  };
}

/**
 * One SET through each node on a key that node is primary for and, when `proxied`, also on a key
 * each other node is primary for (relayed over the bus); each on a fresh connection. The replies.
 */
async function writeThroughEveryNode(ports: readonly number[], proxied: boolean, attempt: number): Promise<string[]> {
  const owners = await slotOwners(ports[0]!);
  // A node that serves no slot in this view yet (it just joined the table) has no tag: not ready.
  const tagOwnedBy = (port: number): string | undefined => {
    for (let n = 0; n < 100_000; n++) if (owners.get(keySlot(Buffer.from(`ready${port}n${n}`))) === port) return `ready${port}n${n}`;
    return undefined;
  };
  const pairs = ports.flatMap((via) => (proxied ? ports : [via]).map((owner) => ({ via, owner, tag: tagOwnedBy(owner) })));
  return Promise.all(pairs.map(async ({ via, owner, tag }) => {
    if (tag === undefined) return `node ${owner} serves no slot yet`;
    const r = new Redis({ port: via, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined);
    try {
      await r.connect();
      return String(await r.set(`{${tag}}probe`, String(attempt)));
    } catch (err) {
      return `via ${via}: ${(err as Error).message}`;
    } finally {
      r.disconnect();
    }
  }));
}

/**
 * Waits until writes through every node (relayed ones too, with proxying) are acknowledged.
 * Right after cluster_state:ok the first writes have been seen to fail with NOREPLICAS, and
 * relayed ones with TRYAGAIN while a bus handshake is still under way; the differential runs
 * compare command semantics, so they start once writes go through.
 */
async function waitForWrites(ports: readonly number[], proxied: boolean, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string[] = [];
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    last = await writeThroughEveryNode(ports, proxied, attempt);
    if (last.every((r) => r === 'OK')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`writes still fail ${timeoutMs} ms after cluster_state:ok: ${last.join(' | ')}`);
}

/** Cluster start with proxying on: every connection may name any key; connection i talks to node i mod 3. */
export async function proxyCluster(): Promise<Subject> {
  // Default node timeout: a slot whose primary flips on a loaded machine would compare routing, not replies.
  const cluster = await startCluster(3, ['--cluster-proxy', 'yes', ...DEFAULT_TIMEOUT]);
  try {
    await waitForWrites(cluster.ports, true);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return {
    target: { name: '3-node cluster, cluster-proxy yes', port: (conn) => cluster.ports[conn % cluster.ports.length]! },
    generator: { crossSlot: false, keyspaceCommands: false },
    stop: () => cluster.stop(),
  };
}

/** Primary's port for every slot, from one node's CLUSTER SLOTS. */
async function slotOwners(port: number): Promise<Map<number, number>> {
  const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    const ranges = (await r.call('cluster', 'slots')) as Array<[number, number, [string, number, string]]>;
    const owners = new Map<number, number>();
    for (const [start, end, [, ownerPort]] of ranges) for (let s = start; s <= end; s++) owners.set(s, ownerPort);
    return owners;
  } finally {
    r.disconnect();
  }
}

/**
 * Cluster without proxying. Connection i talks to node i mod 3 and its hash tags are chosen among
 * the slots that node serves (by CLUSTER SLOTS), as a cluster client would route them. With at least
 * four connections, two share a node, so a WATCH can be broken from another connection.
 */
export async function directCluster(): Promise<Subject> {
  const cluster: TestCluster = await startCluster(3, DEFAULT_TIMEOUT);
  try {
    await waitForWrites(cluster.ports, false);
    const owners = await slotOwners(cluster.ports[0]!);
    if (owners.size !== 16384) throw new Error(`CLUSTER SLOTS covers ${owners.size} of 16384 slots`);
    const nodeOf = (conn: number): number => conn % cluster.ports.length;
    const tagFor = (conn: number, proposed: string): string => {
      const want = cluster.ports[nodeOf(conn)]!;
      for (let n = 0; n < 100_000; n++) {
        const tag = `${proposed}n${n}`;
        if (owners.get(keySlot(Buffer.from(tag))) === want) return tag;
      }
      throw new Error(`node ${want} serves no slot in CLUSTER SLOTS`);
    };
    return {
      target: { name: '3-node cluster, direct to each slot\'s primary', port: (conn) => cluster.ports[nodeOf(conn)]! },
      generator: { crossSlot: false, keyspaceCommands: false, tagFor, nodeOf, connections: [4, 6] },
      stop: () => cluster.stop(),
    };
  } catch (err) {
    await cluster.stop();
    throw err;
  }
}
