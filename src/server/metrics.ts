import http from 'node:http';
import type { NodeServices } from './node-services.js';
import { DashboardData } from './dashboard-data.js';
import { DASHBOARD_HTML } from './dashboard-page.js';
import { authorized, httpPassword } from './http-auth.js';

/**
 * The node's HTTP endpoint on metrics-port (0 = off): GET /metrics answers Prometheus text, / (or
 * /dashboard) the dashboard page, /api/node this node's report and /api/cluster the cluster as
 * this node sees it with every node's report. Read-only; it shares `bind` with the client port,
 * and with a password set (metrics-password, else requirepass) every request must carry it
 * (http-auth.ts).
 */
export async function startMetricsServer(node: NodeServices, host: string, port: number): Promise<http.Server> {
  // prom-client is loaded only by a node that serves metrics: it is a tenth of what a node loads.
  const { NodeMetrics } = await import('./node-metrics.js');
  const metrics = new NodeMetrics(node);
  const dashboard = new DashboardData(node);
  const json = (res: http.ServerResponse, head: boolean, data: unknown): void => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(head ? undefined : JSON.stringify(data));
  };
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (!authorized(req.headers.authorization, httpPassword((name) => node.config.str(name)))) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="ringkv", charset="UTF-8"', 'content-type': 'text/plain' }).end('password required (metrics-password, or requirepass)\n');
      return;
    }
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
    const head = req.method === 'HEAD';
    if (path === '/' || path === '/dashboard' || path === '/dashboard/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(head ? undefined : DASHBOARD_HTML);
      return;
    }
    if (path === '/api/node' || path === '/dashboard/api/node') {
      json(res, head, dashboard.nodeReport());
      return;
    }
    if (path === '/api/cluster' || path === '/dashboard/api/cluster') {
      dashboard.clusterReport().then((report) => json(res, head, report), (err: unknown) => {
        node.logger.warn({ err }, 'dashboard report failed');
        res.writeHead(500).end();
      });
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; try /metrics or /dashboard\n');
  });
  server.on('close', () => dashboard.stop());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
