import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports.js';
import { killManaged, runManaged, spawnManaged, stopManaged, waitForPing, type ManagedProcess } from './proc.js';
import { respString } from './resp.js';
import { clusterLaunchCommand, type ServerLaunch, type ServerPaths, type Target } from './servers.js';

/** Both Redis and ringkv put a node's cluster bus at its client port + 10000. */
export const BUS_PORT_OFFSET = 10_000;

export interface ClusterMember {
  /** The address the node binds and is reached at (the cluster's host unless given per node). */
  host: string;
  port: number;
  dir: string;
  launch: ServerLaunch;
  proc: ManagedProcess;
}

export interface RunningCluster {
  target: Target;
  /** The address of every member unless the cluster was started with `hosts`. */
  host: string;
  members: ClusterMember[];
}

export function clusterPids(cluster: RunningCluster): number[] {
  return cluster.members.map((m) => m.proc.pid);
}

/** A client port for each host, its bus port free too, all distinct. */
async function clusterPorts(hosts: readonly string[]): Promise<number[]> {
  const ports: number[] = [];
  const taken = new Set<number>();
  for (let attempt = 0; ports.length < hosts.length; attempt++) {
    const host = hosts[ports.length]!;
    if (attempt > 100) throw new Error(`no ${hosts.length} free port pairs (port, port+${BUS_PORT_OFFSET}) on ${hosts.join(', ')}`);
    const port = await freePort(host, [BUS_PORT_OFFSET]);
    if (taken.has(port) || taken.has(port + BUS_PORT_OFFSET)) continue;
    ports.push(port);
    taken.add(port);
    taken.add(port + BUS_PORT_OFFSET);
  }
  return ports;
}

function memberName(target: Target, port: number): string {
  return `${target.server}:${port}`;
}

function spawnMember(target: Target, member: Omit<ClusterMember, 'proc'>): ManagedProcess {
  return spawnManaged(memberName(target, member.port), member.launch.command, member.launch.args, { cwd: member.dir });
}

export interface ClusterStartOptions {
  target: Target;
  durable: boolean;
  host: string;
  scratch: string;
  paths: ServerPaths;
  /** Limit for the whole start, cluster formation included. */
  timeoutMs?: number;
  /**
   * One address per node (e.g. 127.0.0.51, .52, .53), so packet-filter rules can tell the nodes
   * apart; every node is on `host` when absent.
   */
  hosts?: readonly string[];
  /** How each node is started; `clusterLaunchCommand` (the benchmark settings) when absent. */
  launch?: ClusterLaunch;
}

/** Builds one node's command line from its address, port, data directory and the other nodes. */
export type ClusterLaunch = (node: { host: string; port: number }, peers: ReadonlyArray<{ host: string; port: number }>, dir: string) => ServerLaunch;

/**
 * Starts every node of the target's cluster, forms the cluster and waits until every node
 * reports `cluster_state:ok` and knows all the others. The caller must `stopCluster` it; on a
 * failure here the nodes started so far are stopped before the error propagates.
 */
export async function startCluster(opts: ClusterStartOptions): Promise<RunningCluster> {
  const { target, host } = opts;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const hosts = opts.hosts ?? Array.from({ length: target.nodes }, () => host);
  if (hosts.length !== target.nodes) throw new Error(`${target.nodes} nodes need ${target.nodes} addresses, got ${hosts.length}`);
  const ports = await clusterPorts(hosts);
  const nodes = ports.map((port, i) => ({ host: hosts[i]!, port }));
  const launchNode: ClusterLaunch =
    opts.launch ?? ((node, peers, dir) => clusterLaunchCommand(target, opts.durable, node.port, peers.map((p) => p.port), dir, opts.paths));
  const slug = `${target.server}-${target.variant.replace(/[^A-Za-z0-9]+/g, '')}-${opts.durable ? 'durable' : 'mem'}`;
  const cluster: RunningCluster = { target, host, members: [] };
  try {
    for (const node of nodes) {
      const dir = path.join(opts.scratch, `${slug}-${node.host}-${node.port}`);
      mkdirSync(dir, { recursive: true });
      const launch = launchNode(node, nodes.filter((p) => p !== node), dir);
      const member = { ...node, dir, launch };
      cluster.members.push({ ...member, proc: spawnMember(target, member) });
    }
    for (const m of cluster.members) await waitForPing(m.proc, m.host, m.port);
    if (target.server === 'redis') await createRedisCluster(cluster, opts.paths.redisCli, timeoutMs);
    await waitClusterReady(cluster, timeoutMs);
    if ((target.replicasPerMaster ?? 0) > 0) await waitReplicasInSync(cluster, timeoutMs);
    return cluster;
  } catch (err) {
    await stopCluster(cluster);
    throw err;
  }
}

/**
 * `redis-cli --cluster create`: with no replicas the nodes become masters splitting the slots;
 * with `--cluster-replicas R`, redis-cli makes nodes / (R + 1) of them masters and the rest their
 * replicas (all on one host, it warns that replicas share their master's host; that is expected).
 */
async function createRedisCluster(cluster: RunningCluster, redisCli: string, timeoutMs: number): Promise<void> {
  const args = [
    '--cluster', 'create',
    ...cluster.members.map((m) => `${m.host}:${m.port}`),
    '--cluster-replicas', String(cluster.target.replicasPerMaster ?? 0),
    '--cluster-yes',
  ];
  const result = await runManaged('redis-cli', redisCli, args, timeoutMs);
  if (!result.ok) throw new Error(`redis-cli ${args.join(' ')} failed (${result.status}):\n${result.output}`);
}

export async function stopCluster(cluster: RunningCluster): Promise<void> {
  await Promise.all(cluster.members.map((m) => stopManaged(m.proc)));
}

/**
 * Starts one more ringkv node seeded with the current members, so it joins the cluster, and
 * returns its index in `cluster.members`. The caller waits for the join (waitClusterReady).
 */
export async function addMember(cluster: RunningCluster, opts: Pick<ClusterStartOptions, 'durable' | 'scratch' | 'paths'>): Promise<number> {
  const taken = new Set(cluster.members.map((m) => m.port));
  let port = 0;
  for (let attempt = 0; port === 0; attempt++) {
    if (attempt > 100) throw new Error(`no free port pair (port, port+${BUS_PORT_OFFSET}) on ${cluster.host}`);
    const candidate = await freePort(cluster.host, [BUS_PORT_OFFSET]);
    if (!taken.has(candidate) && !taken.has(candidate - BUS_PORT_OFFSET)) port = candidate;
  }
  const dir = path.join(opts.scratch, `${cluster.target.server}-joiner-${port}`);
  mkdirSync(dir, { recursive: true });
  const launch = clusterLaunchCommand(cluster.target, opts.durable, port, [...taken], dir, opts.paths);
  const member = { host: cluster.host, port, dir, launch };
  const proc = spawnMember(cluster.target, member);
  cluster.members.push({ ...member, proc });
  await waitForPing(proc, cluster.host, port);
  return cluster.members.length - 1;
}

/**
 * Waits until no member reports a rebalance in progress (`ringkv_rebalance_slots_moving` and
 * `ringkv_rebalance_window_left_ms` both 0 in INFO ringkv). A membership change starts one on
 * every node as it learns of the change, so call this once every node knows of it.
 */
export async function waitRebalanced(cluster: RunningCluster, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const done = await Promise.all(cluster.members.map(async (m) => {
      const info = await respString(m.host, m.port, ['INFO', 'ringkv']).catch(() => '');
      return infoField(info, 'ringkv_rebalance_slots_moving') === '0' && infoField(info, 'ringkv_rebalance_window_left_ms') === '0';
    }));
    if (done.every(Boolean)) return;
    if (Date.now() > deadline) throw new Error(`rebalance not finished within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** SIGKILL one node: no shutdown handshake, its peers learn of it only by missing heartbeats. */
export async function killMember(cluster: RunningCluster, index: number): Promise<void> {
  await killManaged(cluster.members[index].proc);
}

/** Starts a killed node again with the same port, data directory and settings. */
export async function restartMember(cluster: RunningCluster, index: number): Promise<void> {
  const old = cluster.members[index];
  if (!old.proc.hasExited()) throw new Error(`${old.proc.name} is still running`);
  const proc = spawnMember(cluster.target, old);
  cluster.members[index] = { ...old, proc };
  await waitForPing(proc, old.host, old.port);
}

function infoField(info: string, field: string): string | undefined {
  const match = new RegExp(`^${field}:(.*)$`, 'm').exec(info);
  return match?.[1]?.trim();
}

interface NodeLine {
  address: string;
  flags: string[];
  /** The line lists slot ranges after its eight fixed fields. */
  ownsSlots: boolean;
}

/** CLUSTER NODES lines as address ("host:port", bus port dropped), flags and whether it owns slots. */
export function parseClusterNodes(text: string): NodeLine[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((l) => {
      const fields = l.split(' ');
      return { address: (fields[1] ?? '').split('@')[0], flags: (fields[2] ?? '').split(','), ownsSlots: fields.length > 8 };
    });
}

/** Flags (e.g. `master`, `fail?`, `fail`) that the node `observer` shows for the node `subject`. */
export async function flagsSeenBy(observer: { host: string; port: number }, subject: { host: string; port: number }): Promise<string[] | null> {
  const nodes = parseClusterNodes(await respString(observer.host, observer.port, ['CLUSTER', 'NODES']));
  return nodes.find((n) => n.address === `${subject.host}:${subject.port}`)?.flags ?? null;
}

/**
 * True when the node is up, reports `cluster_state:ok`, knows `expected` nodes, sees none failing
 * and sees every primary own slots: a ringkv node that joined a ring formed without it is known and
 * healthy before its slots move to it, and redis-benchmark --cluster gives up when the slot map it
 * read at the start changes under it.
 */
async function nodeReady(host: string, port: number, expected: number): Promise<boolean> {
  try {
    const info = await respString(host, port, ['CLUSTER', 'INFO']);
    if (infoField(info, 'cluster_state') !== 'ok') return false;
    if (infoField(info, 'cluster_known_nodes') !== String(expected)) return false;
    const nodes = parseClusterNodes(await respString(host, port, ['CLUSTER', 'NODES']));
    return nodes.every((n) => !n.flags.includes('fail') && !n.flags.includes('fail?') && (!n.flags.includes('master') || n.ownsSlots));
  } catch {
    return false;
  }
}

/** Waits until every member is ready in the sense of `nodeReady`. */
export async function waitClusterReady(cluster: RunningCluster, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const m of cluster.members) {
      if (m.proc.hasExited()) {
        throw new Error(`${m.proc.name} exited while the cluster formed (${await m.proc.exited}):\n${m.proc.outputTail()}`);
      }
    }
    const states = await Promise.all(cluster.members.map((m) => nodeReady(m.host, m.port, cluster.members.length)));
    if (states.every(Boolean)) return;
    if (Date.now() > deadline) {
      const notReady = cluster.members.filter((_, i) => !states[i]).map((m) => m.port);
      throw new Error(`${cluster.target.server} cluster not ready within ${timeoutMs} ms (nodes not ready: ${notReady.join(', ')})`);
    }
    await sleep(100);
  }
}

/**
 * Waits until every replica's link to its master is up and its initial sync is done
 * (`master_link_status:up`, `master_sync_in_progress:0`), and every master that serves slots
 * reports `target.replicasPerMaster` connected replicas: from then on every write is replicated,
 * as it is in the measured runs.
 */
export async function waitReplicasInSync(cluster: RunningCluster, timeoutMs = 60_000): Promise<void> {
  const want = String(cluster.target.replicasPerMaster ?? 0);
  const deadline = Date.now() + timeoutMs;
  let states: string[] = [];
  for (;;) {
    states = await Promise.all(cluster.members.map(async (m) => {
      const info = await respString(m.host, m.port, ['INFO', 'replication']).catch(() => '');
      const role = infoField(info, 'role');
      if (role === 'slave') {
        const synced = infoField(info, 'master_link_status') === 'up' && infoField(info, 'master_sync_in_progress') === '0';
        return synced ? 'ok' : `${m.port}: replica not in sync`;
      }
      if (role === 'master') {
        // Only masters that own slots get replicas (a node with no slots is a spare master).
        const owns = await masterServesSlots(m.host, m.port);
        const replicas = infoField(info, 'connected_slaves');
        return !owns || replicas === want ? 'ok' : `${m.port}: master with ${replicas ?? '?'} replicas`;
      }
      return `${m.port}: role ${role ?? 'unknown'}`;
    }));
    if (states.every((s) => s === 'ok')) return;
    if (Date.now() > deadline) {
      throw new Error(`replicas not in sync within ${timeoutMs} ms: ${states.filter((s) => s !== 'ok').join('; ')}`);
    }
    await sleep(100);
  }
}

/** True when CLUSTER NODES on the node shows it (`myself`) with at least one slot range. */
async function masterServesSlots(host: string, port: number): Promise<boolean> {
  const text = await respString(host, port, ['CLUSTER', 'NODES']).catch(() => '');
  const mine = text.split('\n').find((l) => l.split(' ')[2]?.split(',').includes('myself'));
  // Fields 9 and on are slot ranges.
  return mine !== undefined && mine.trim().split(' ').length > 8;
}

/**
 * Waits until every other live member flags the member at `index` as `fail` (not just the
 * local suspicion `fail?`): the point from which its slots have moved to the survivors.
 */
export async function waitMemberFailed(cluster: RunningCluster, index: number, timeoutMs = 60_000): Promise<void> {
  const victim = cluster.members[index];
  const observers = cluster.members.filter((_, i) => i !== index);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const seen = await Promise.all(
      observers.map((o) => flagsSeenBy(o, victim).catch(() => null)),
    );
    if (seen.every((flags) => flags !== null && flags.includes('fail'))) return;
    if (Date.now() > deadline) throw new Error(`node ${victim.port} not flagged fail by every survivor within ${timeoutMs} ms`);
    await sleep(50);
  }
}
