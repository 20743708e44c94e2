import http from 'node:http';
import type { NodeServices } from './node-services.js';

/** INFO lines `name:number` → Prometheus samples, so one source feeds both views. */
function numericLines(text: string, prefix: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\r\n')) {
    const m = /^([a-z_][a-z0-9_]*):(-?\d+(?:\.\d+)?)$/.exec(line);
    if (m) out.push(`${prefix}${m[1]} ${m[2]}`);
  }
  return out;
}

/** Prometheus text exposition of the node's counters. */
export function metricsText(node: NodeServices): string {
  const s = node.stats;
  let clients = 0;
  for (const _ of node.clients()) clients++;
  const lines = [
    `ringkv_connected_clients ${clients}`,
    `ringkv_commands_processed_total ${s.totalCommandsProcessed}`,
    `ringkv_connections_received_total ${s.totalConnectionsReceived}`,
    `ringkv_rejected_connections_total ${s.rejectedConnections}`,
    `ringkv_keyspace_hits_total ${s.keyspaceHits}`,
    `ringkv_keyspace_misses_total ${s.keyspaceMisses}`,
    `ringkv_expired_keys_total ${s.expiredKeys}`,
    `ringkv_error_replies_total ${s.errorReplies}`,
    `ringkv_concurrent_writes_total ${s.concurrentWrites}`,
    `ringkv_keys ${node.store.keyCount()}`,
    `ringkv_keys_with_expiry ${node.store.expiresCount()}`,
    `ringkv_resident_memory_bytes ${process.memoryUsage().rss}`,
  ];
  for (const [k, v] of Object.entries(node.store.stats())) lines.push(`ringkv_store_${k.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())} ${v}`);
  for (const [name, c] of s.commands) lines.push(`ringkv_command_calls_total{command="${name}"} ${c.calls}`);
  if (node.cluster) lines.push(...numericLines(node.cluster.infoSection(), 'ringkv_cluster_').map((l) => l.replace('ringkv_cluster_ringkv_', 'ringkv_')));
  return lines.join('\n') + '\n';
}

/** Serves GET /metrics on metrics-port (0 = off). */
export function startMetricsServer(node: NodeServices, host: string, port: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && (req.url === '/metrics' || req.url === '/')) {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(metricsText(node));
      return;
    }
    res.writeHead(404).end();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
