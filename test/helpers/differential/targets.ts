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

/** A started ringkv set-up: where connections go and what the generator must respect. */
export interface Subject {
  target: Target;
  /** Generator settings this set-up needs (keys in one slot per command, tags per node …). */
  generator: Pick<ScenarioOptions, 'crossSlot' | 'keyspaceCommands' | 'tagFor' | 'nodeOf' | 'connections'>;
  stop(): Promise<void>;
}

export async function singleNode(): Promise<Subject> {
  const node: NodeProcess = await startNode({ args: ['--appendfsync', 'no'] });
  return {
    target: { name: 'single node', port: () => node.port },
    generator: { crossSlot: true, keyspaceCommands: true },
    stop: async () => void (await node.stop()),
  };
}

/**
 * One SET per node on a key that node is primary for, each on a fresh connection; the replies.
 * A cluster that says cluster_state:ok should answer OK to all of them.
 */
async function writeOnEveryPrimary(ports: readonly number[], attempt: number): Promise<string[]> {
  const owners = await slotOwners(ports[0]!);
  return Promise.all(ports.map(async (port, i) => {
    let tag = '';
    for (let n = 0; tag === ''; n++) if (owners.get(keySlot(Buffer.from(`ready${i}n${n}`))) === port) tag = `ready${i}n${n}`;
    const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined);
    try {
      await r.connect();
      return String(await r.set(`{${tag}}probe`, String(attempt)));
    } catch (err) {
      return (err as Error).message;
    } finally {
      r.disconnect();
    }
  }));
}

/**
 * Waits until a write through every node is acknowledged. Right after cluster_state:ok the first
 * writes have been seen to fail with NOREPLICAS on a loaded machine; the differential runs
 * compare command semantics, so they start once writes go through.
 */
async function waitForWrites(ports: readonly number[], timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string[] = [];
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    last = await writeOnEveryPrimary(ports, attempt);
    if (last.every((r) => r === 'OK')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`writes still fail ${timeoutMs} ms after cluster_state:ok: ${last.join(' | ')}`);
}

/** Cluster start with proxying on: every connection may name any key; connection i talks to node i mod 3. */
export async function proxyCluster(): Promise<Subject> {
  const cluster = await startCluster(3, ['--cluster-proxy', 'yes']);
  try {
    await waitForWrites(cluster.ports);
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
  const cluster: TestCluster = await startCluster(3);
  try {
    await waitForWrites(cluster.ports);
    const owners = await slotOwners(cluster.ports[0]!);
    if (owners.size !== 16384) throw new Error(`CLUSTER SLOTS covers ${owners.size} of 16384 slots`);
    const nodeOf = (conn: number): number => conn % cluster.ports.length;
    const tagFor = (conn: number, proposed: string): string => {
      const want = cluster.ports[nodeOf(conn)]!;
      for (let n = 0; ; n++) {
        const tag = `${proposed}n${n}`;
        if (owners.get(keySlot(Buffer.from(tag))) === want) return tag;
      }
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
