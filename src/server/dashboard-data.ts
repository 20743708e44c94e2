import http from 'node:http';
import type { NodeServices } from './node-services.js';
import type { ClusterObservation, MemberObservation } from '../cluster/cluster-observation.js';
import type { SlotRange } from '../cluster/ring.js';
import { DashboardHistory, type HistoryPoint, type IntervalStats } from './dashboard-history.js';
import { LATENCY_BOUNDS_SECONDS } from './latency-histogram.js';
import { authorizationHeader, httpPassword } from './http-auth.js';

/** How often the dashboard's history samples the counters, and how much of it is kept (5 min). */
export const HISTORY_SAMPLE_MS = 2000;
const HISTORY_KEEP = 150;
/** Percentiles on the node cards cover this much time. */
const LATENCY_WINDOW_MS = 60_000;
/** A peer's report that does not arrive within this is shown as unreachable. */
const PEER_TIMEOUT_MS = 1000;

/** What one node says about itself (GET /api/node). */
export interface NodeReport {
  id: string;
  port: number;
  atMs: number;
  uptimeSeconds: number;
  keys: number;
  clients: number;
  /** Over the last minute. */
  opsPerSec: number;
  latency: { p50Ms: number | undefined; p95Ms: number | undefined; p99Ms: number | undefined };
  /** The last minutes, one entry per sample interval. */
  history: IntervalStats[];
  cluster: Omit<ClusterObservation, 'coordinator'> | undefined;
}

export type Health = 'up' | 'suspect' | 'down' | 'left';

/** The cluster as one node sees it, with every reachable node's own report (GET /api/cluster). */
export interface ClusterReport {
  from: string;
  atMs: number;
  stateOk: boolean;
  epoch: number;
  ranges: readonly SlotRange[];
  nodes: Array<{ member: MemberObservation; health: Health; report: NodeReport | undefined; error: string | undefined }>;
}

/**
 * Health shown for a member: what this node's failure detector says, and whether the member's own
 * endpoint answered (a killed process refuses at once, before gossip has judged it). Pure.
 */
export function healthOf(member: Pick<MemberObservation, 'state' | 'status'>, answered: boolean | undefined): Health {
  if (member.status === 'left') return 'left';
  if (member.state === 'fail' || answered === false) return 'down';
  if (member.state === 'pfail') return 'suspect';
  return 'up';
}

/** The node's side of the dashboard: its history sampler and the two JSON reports. */
export class DashboardData {
  private readonly history = new DashboardHistory(LATENCY_BOUNDS_SECONDS, HISTORY_KEEP);
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly node: NodeServices) {
    this.history.add(this.point());
    this.timer = setInterval(() => this.history.add(this.point()), HISTORY_SAMPLE_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private point(): HistoryPoint {
    return { atMs: Date.now(), commands: this.node.stats.totalCommandsProcessed, latency: this.node.stats.commandLatency.merged() };
  }

  nodeReport(): NodeReport {
    const now = this.point();
    const recent = this.history.window(now, LATENCY_WINDOW_MS);
    let clients = 0;
    for (const _ of this.node.clients()) clients++;
    let cluster: NodeReport['cluster'];
    if (this.node.cluster) {
      const { coordinator: _coordinator, ...rest } = this.node.cluster.observation();
      cluster = rest;
    }
    return {
      id: this.node.nodeId, port: this.node.port, atMs: now.atMs, uptimeSeconds: Math.round((now.atMs - this.node.startedAt) / 1000),
      keys: this.node.store.keyCount(), clients, opsPerSec: recent.opsPerSec,
      latency: { p50Ms: recent.p50Ms, p95Ms: recent.p95Ms, p99Ms: recent.p99Ms },
      history: this.history.intervals(), cluster,
    };
  }

  /** This node's view of the members, each with its own report fetched from its HTTP port. */
  async clusterReport(): Promise<ClusterReport> {
    const own = this.nodeReport();
    const c = own.cluster;
    if (c === undefined) {
      const member: MemberObservation = {
        id: own.id, host: '127.0.0.1', port: own.port, busPort: 0, httpPort: undefined, state: 'self', status: 'active', phi: undefined, slotsPrimary: 16384, slotsReplica: 0,
      };
      return { from: own.id, atMs: own.atMs, stateOk: true, epoch: 0, ranges: [{ start: 0, end: 16383, node: own.id }], nodes: [{ member, health: 'up', report: own, error: undefined }] };
    }
    const nodes = await Promise.all(c.members.map(async (member) => {
      if (member.id === own.id) return { member, health: healthOf(member, true), report: own, error: undefined };
      if (member.httpPort === undefined || member.status === 'left') return { member, health: healthOf(member, undefined), report: undefined, error: 'no metrics-port' };
      try {
        // Peers are expected to share the password, as they share the cluster secret.
        const report = await fetchJson<NodeReport>(member.host, member.httpPort, '/api/node', authorizationHeader(httpPassword((name) => this.node.config.str(name))));
        return { member, health: healthOf(member, true), report, error: undefined };
      } catch (err) {
        return { member, health: healthOf(member, false), report: undefined, error: (err as Error).message };
      }
    }));
    return { from: own.id, atMs: own.atMs, stateOk: c.stateOk, epoch: c.epoch, ranges: c.ranges, nodes };
  }
}

function fetchJson<T>(host: string, port: number, path: string, headers: Record<string, string>): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path, headers, timeout: PEER_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}`));
        try {
          resolve(JSON.parse(body) as T);
        } catch (err) {
          reject(err as Error);
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}
