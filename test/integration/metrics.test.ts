/**
 * Goal: Prometheus metrics and the fault-injection clock offset work on a live node.
 * Method: a real node with metrics-port set; HTTP GET /metrics after some traffic; a skewed clock
 * shows in the versions-driven TTL arithmetic (EXPIRETIME follows the skewed clock).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import Redis from 'ioredis';
import { freePort, startNode, type NodeProcess } from '../helpers/server.js';

let node: NodeProcess;
let metricsPort: number;
beforeAll(async () => {
  metricsPort = await freePort();
  node = await startNode({ args: ['--appendfsync', 'no', '--metrics-port', String(metricsPort)] });
});
afterAll(async () => {
  await node?.stop();
});

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('observability and fault knobs', () => {
  it('serves Prometheus text with command counters and key counts', async () => {
    const r = new Redis({ port: node.port });
    await r.set('m1', 'v');
    await r.get('m1');
    const res = await get(metricsPort, '/metrics');
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/^ringkv_keys 1$/m);
    expect(res.body).toMatch(/^ringkv_command_calls_total\{command="set"\} \d+$/m);
    expect(res.body).toMatch(/^ringkv_connected_clients \d+$/m);
    r.disconnect();
  });

  it('debug-clock-offset-ms skews the node\'s data clock', async () => {
    const r = new Redis({ port: node.port });
    await r.config('SET', 'debug-clock-offset-ms', '3600000');
    await r.set('skewed', 'v', 'EX', 10);
    const at = Number(await r.call('expiretime', 'skewed'));
    expect(at - Math.floor(Date.now() / 1000)).toBeGreaterThan(3500);
    await r.config('SET', 'debug-clock-offset-ms', '0');
    r.disconnect();
  });
});
