import http from 'node:http';
import type { NodeServices } from './node-services.js';
import { NodeMetrics } from './node-metrics.js';

/**
 * The node's HTTP endpoint on metrics-port (0 = off): GET /metrics answers Prometheus text.
 * Read-only; it shares `bind` with the client port and has no password, so expose it only where
 * the cluster's layout may be seen.
 */
export async function startMetricsServer(node: NodeServices, host: string, port: number): Promise<http.Server> {
  const metrics = new NodeMetrics(node);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      metrics.text().then((body) => {
        res.writeHead(200, { 'content-type': metrics.contentType });
        res.end(req.method === 'HEAD' ? undefined : body);
      }, (err: unknown) => {
        node.logger.warn({ err }, 'metrics scrape failed');
        res.writeHead(500).end();
      });
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; try /metrics\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
