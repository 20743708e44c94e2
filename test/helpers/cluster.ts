/**
 * Starts a real ringkv cluster for tests: N node processes on free ports, seeded with each other,
 * ready once every node reports cluster_state:ok and sees all N members.
 */
import { afterAll, beforeAll } from 'vitest';
import { Redis } from 'ioredis';
import { freePort, startNode, type NodeProcess } from './server.js';

export interface TestCluster {
  nodes: NodeProcess[];
  ports: number[];
  stop(): Promise<void>;
}

/** A CLUSTER subcommand's reply from one node, or undefined when it does not answer. */
async function clusterCall(port: number, subcommand: string): Promise<unknown> {
  const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await r.call('cluster', subcommand);
  } catch {
    return undefined;
  } finally {
    r.disconnect();
  }
}

/** CLUSTER INFO of one node, or undefined when it does not answer. */
export async function clusterInfo(port: number): Promise<string | undefined> {
  return (await clusterCall(port, 'info')) as string | undefined;
}

/** CLUSTER SLOTS of one node as text, or undefined when it does not answer. */
async function clusterSlots(port: number): Promise<string | undefined> {
  const slots = await clusterCall(port, 'slots');
  return slots === undefined ? undefined : JSON.stringify(slots);
}

/**
 * Waits until every listed node says cluster_state:ok, knows `known` members and serves the same
 * slot table. Agreement matters: a node that has just met the others may still be taking over
 * slots, and a test that asks one node for a key's primary would then get a passing answer.
 */
export async function waitForCluster(ports: number[], known: number, timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: Array<string | undefined> = [];
  let tables: Array<string | undefined> = [];
  while (Date.now() < deadline) {
    last = await Promise.all(ports.map(clusterInfo));
    if (last.every((i) => i?.includes('cluster_state:ok') && i.includes(`cluster_known_nodes:${known}\r\n`))) {
      tables = await Promise.all(ports.map(clusterSlots));
      if (tables[0] !== undefined && tables.every((t) => t === tables[0])) return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const agreed = tables.length > 0 && tables.every((t) => t === tables[0]);
  throw new Error(`cluster did not converge: ${JSON.stringify(last.map((i) => i?.split('\r\n').slice(0, 7).join(' ')))}${tables.length > 0 && !agreed ? '; slot tables differ' : ''}`);
}

/** Waits until `port` considers the node at `deadPort` failed (or, with alive=true, healthy again). */
export async function waitForNodeState(port: number, targetPort: number, state: 'fail' | 'ok', timeoutMs = 30000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    r.on('error', () => undefined);
    try {
      await r.connect();
      const nodes = (await r.call('cluster', 'nodes')) as string;
      const line = nodes.split('\n').find((l) => l.includes(`:${targetPort}@`));
      const failed = line !== undefined && / (\S*,)?fail(,\S*)? /.test(line);
      if ((state === 'fail') === failed) return;
    } catch {
      /* try again */
    } finally {
      r.disconnect();
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`node on ${targetPort} did not become ${state} as seen from ${port}`);
}

/** `perNode(i, port)` adds settings to node i only (e.g. its own metrics-port). */
export async function startCluster(size: number, args: string[] = [], perNode: (i: number, port: number) => string[] = () => []): Promise<TestCluster> {
  const ports: number[] = [];
  while (ports.length < size) {
    const p = await freePort();
    // A node's bus port (port + 10000) must not be another node's client port.
    if (!ports.some((q) => q === p || q === p + 10000 || q + 10000 === p)) ports.push(p);
  }
  const seeds = ports.map((p) => `127.0.0.1:${p}`).join(' ');
  const started = await Promise.allSettled(ports.map((port, i) => startNode({
    port,
    args: ['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000', '--cluster-seeds', seeds, '--appendfsync', 'everysec', ...args, ...perNode(i, port)],
  })));
  const nodes = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => (n.proc.exitCode === null && n.proc.signalCode === null ? n.stop() : Promise.resolve(null))));
  };
  // A cluster that does not come up is stopped here: the caller never gets a handle to stop it.
  try {
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    await waitForCluster(ports, size);
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes, ports, stop };
}

/**
 * A cluster for the describe block that calls it: started before its tests, stopped after them.
 * The handle's fields read the running cluster (they throw if it did not start).
 */
export function clusterForBlock(size: number, args: string[] = []): TestCluster {
  let c: TestCluster | undefined;
  beforeAll(async () => {
    c = await startCluster(size, args);
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
  });
  const started = (): TestCluster => {
    if (c === undefined) throw new Error('the cluster did not start');
    return c;
  };
  return {
    get nodes() {
      return started().nodes;
    },
    get ports() {
      return started().ports;
    },
    stop: () => started().stop(),
  };
}
