import type { ReplyWriter } from '../protocol/reply-writer.js';
import type { SlotTable } from './slot-table.js';
import { portForClient } from './announced-ports.js';

/** What CLUSTER NODES / SLOTS / SHARDS need to know about one node. */
export interface NodeInfo {
  id: string;
  host: string;
  port: number;
  /** With tls-cluster: the plain client port beside the TLS `port` (MemberRecord.plainPort). */
  plainPort?: number | undefined;
  busPort: number;
  self: boolean;
  state: 'self' | 'ok' | 'pfail' | 'fail';
  /** Decommissioned nodes stay listed until forgotten, without slots. */
  left: boolean;
  pingSent: number;
  pongRecv: number;
  epoch: number;
  connected: boolean;
}

export interface ClusterView {
  readonly myId: string;
  readonly table: SlotTable;
  readonly currentEpoch: number;
  nodes(): NodeInfo[];
  messageStats(): { sent: Record<string, number>; received: Record<string, number> };
}

function writeNode(out: ReplyWriter, n: NodeInfo, clientTls: boolean): void {
  out.arrayHeader(4);
  out.bulk(n.host);
  out.int(portForClient(n, clientTls));
  out.bulk(n.id);
  out.mapHeader(0);
}

/**
 * CLUSTER SLOTS: one entry per maximal range with the same primary, ascending, with a concrete host.
 * In a TLS cluster a plain client is given plain ports (Redis 7.0).
 */
export function writeClusterSlots(out: ReplyWriter, view: ClusterView, clientTls = false): void {
  const byId = new Map(view.nodes().map((n) => [n.id, n]));
  const ranges = view.table.ranges.filter((r) => byId.has(r.node));
  out.arrayHeader(ranges.length);
  for (const r of ranges) {
    out.arrayHeader(3);
    out.int(r.start);
    out.int(r.end);
    writeNode(out, byId.get(r.node)!, clientTls);
  }
}

/**
 * CLUSTER SHARDS: every ring member is a shard of one master; slot bounds as integers. As Redis
 * 7.0, `port` is the plain port and `tls-port` the TLS one, each present when the node has it.
 */
export function writeClusterShards(out: ReplyWriter, view: ClusterView): void {
  const nodes = view.nodes().filter((n) => !n.left);
  out.arrayHeader(nodes.length);
  for (const n of nodes) {
    const ranges = view.table.ranges.filter((r) => r.node === n.id);
    out.mapHeader(2);
    out.bulk('slots');
    out.arrayHeader(ranges.length * 2);
    for (const r of ranges) {
      out.int(r.start);
      out.int(r.end);
    }
    out.bulk('nodes');
    out.arrayHeader(1);
    const tlsCluster = n.plainPort !== undefined;
    const plain = tlsCluster ? n.plainPort! : n.port;
    out.mapHeader(7 + (tlsCluster ? 1 : 0));
    out.bulk('id'); out.bulk(n.id);
    out.bulk('port'); out.int(plain);
    if (tlsCluster) {
      out.bulk('tls-port'); out.int(n.port);
    }
    out.bulk('ip'); out.bulk(n.host);
    out.bulk('endpoint'); out.bulk(n.host);
    out.bulk('role'); out.bulk('master');
    out.bulk('replication-offset'); out.int(0);
    out.bulk('health'); out.bulk(n.state === 'fail' ? 'fail' : 'online');
  }
}

function flags(n: NodeInfo): string {
  const f: string[] = [];
  if (n.self) f.push('myself');
  f.push('master');
  if (n.state === 'pfail') f.push('fail?');
  if (n.state === 'fail') f.push('fail');
  if (n.left) f.push('nofailover');
  return f.join(',');
}

/** One CLUSTER NODES line, newline-terminated, slots as maximal ascending ranges; ports as for CLUSTER SLOTS. */
export function clusterNodeLine(n: NodeInfo, table: SlotTable, clientTls = false): string {
  const slots = n.left ? [] : table.rangeTokens(n.id);
  const link = n.self || n.connected ? 'connected' : 'disconnected';
  return [
    n.id, `${n.host}:${portForClient(n, clientTls)}@${n.busPort}`, flags(n), '-', n.self ? 0 : n.pingSent, n.self ? 0 : n.pongRecv,
    n.epoch, link, ...slots,
  ].join(' ') + '\n';
}

export function clusterNodesText(view: ClusterView, clientTls = false): string {
  return view.nodes().map((n) => clusterNodeLine(n, view.table, clientTls)).join('');
}

/** CLUSTER INFO text: Redis's field order, CRLF line ends. */
export function clusterInfoText(view: ClusterView): string {
  const nodes = view.nodes();
  const me = nodes.find((n) => n.self);
  const table = view.table;
  const assigned = table.ranges.reduce((s, r) => s + r.end - r.start + 1, 0);
  let pfail = 0, fail = 0;
  const states = new Map(nodes.map((n) => [n.id, n.state]));
  for (const r of table.ranges) {
    const st = states.get(r.node);
    if (st === 'pfail') pfail += r.end - r.start + 1;
    if (st === 'fail') fail += r.end - r.start + 1;
  }
  const size = new Set(table.ranges.map((r) => r.node)).size;
  const stats = view.messageStats();
  const lines: Array<[string, string | number]> = [
    ['cluster_state', table.ok ? 'ok' : 'fail'], ['cluster_slots_assigned', assigned], ['cluster_slots_ok', assigned - pfail - fail],
    ['cluster_slots_pfail', pfail], ['cluster_slots_fail', fail], ['cluster_known_nodes', nodes.filter((n) => !n.left).length],
    ['cluster_size', size], ['cluster_current_epoch', view.currentEpoch], ['cluster_my_epoch', me?.epoch ?? 0],
  ];
  let sent = 0, received = 0;
  for (const [t, n] of Object.entries(stats.sent)) if (n > 0) { lines.push([`cluster_stats_messages_${t}_sent`, n]); sent += n; }
  lines.push(['cluster_stats_messages_sent', sent]);
  for (const [t, n] of Object.entries(stats.received)) if (n > 0) { lines.push([`cluster_stats_messages_${t}_received`, n]); received += n; }
  lines.push(['cluster_stats_messages_received', received], ['total_cluster_links_buffer_limit_exceeded', 0]);
  return lines.map(([k, v]) => `${k}:${v}\r\n`).join('');
}
