/**
 * Goal: the Prometheus endpoint serves a well-formed exposition a real scraper accepts, with
 * latency histograms by command family and quorum round and per-node cluster gauges; the
 * fault-injection clock offset works on a live node.
 * Method: a real node and a real 3-node cluster, each with metrics-port set; real clients send
 * traffic; GET /metrics over HTTP, every line parsed by a strict reader of the text format
 * (HELP and TYPE before samples, valid names, counters in _total, histograms cumulative with
 * +Inf, _sum and _count), then the values checked against the traffic sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import Redis, { Cluster } from 'ioredis';
import { freePort, startNode, type NodeProcess } from '../helpers/server.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { checkFamilies, parseExposition, sampleValue, type Family } from '../helpers/prom-text.js';

function get(port: number, path: string, authorization?: string): Promise<{ status: number; body: string; type: string; challenge: string | undefined }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, headers: authorization === undefined ? {} : { authorization } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']), challenge: res.headers['www-authenticate'] }));
    }).on('error', reject);
  });
}

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

async function scrape(port: number): Promise<Map<string, Family>> {
  const res = await get(port, '/metrics');
  expect(res.status).toBe(200);
  expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
  const families = parseExposition(res.body);
  checkFamilies(families);
  for (const name of families.keys()) {
    // One prefix, never doubled (ringkv_cluster_cluster_*, ringkv_ringkv_*).
    expect(name).not.toMatch(/^ringkv_(cluster_cluster|ringkv)_/);
    expect(name).toMatch(/^(ringkv|process|nodejs)_/);
  }
  return families;
}

/** `_count` of one histogram series. */
const histogramCount = (f: Map<string, Family>, name: string, labels: Record<string, string>): number =>
  sampleValue(f, `${name}_count`, labels, name) ?? -1;

describe('Prometheus metrics of one node', () => {
  let node: NodeProcess;
  let metricsPort: number;
  beforeAll(async () => {
    metricsPort = await freePort();
    node = await startNode({ args: ['--appendfsync', 'no', '--metrics-port', String(metricsPort)] });
  });
  afterAll(async () => {
    await node?.stop();
  });

  it('is well-formed, with counters, gauges and command latency by family', async () => {
    const r = new Redis({ port: node.port });
    try {
      await r.set('m1', 'v');
      await r.get('m1');
      await r.get('missing');
      await r.hset('h', 'f', 'v');
      await r.lpush('l', 'a');
      await r.zadd('z', 1, 'a');
      await r.sadd('s', 'a');
      await r.expire('m1', 100);
      await r.call('no-such-command').catch(() => undefined);
      const f = await scrape(metricsPort);
      expect(sampleValue(f, 'ringkv_keys')).toBe(5);
      expect(sampleValue(f, 'ringkv_keys_with_expiry')).toBe(1);
      expect(sampleValue(f, 'ringkv_command_calls_total', { command: 'set' })).toBe(1);
      expect(sampleValue(f, 'ringkv_command_calls_total', { command: 'get' })).toBe(2);
      expect(sampleValue(f, 'ringkv_keyspace_hits_total')).toBeGreaterThanOrEqual(1);
      expect(sampleValue(f, 'ringkv_keyspace_misses_total')).toBeGreaterThanOrEqual(1);
      expect(sampleValue(f, 'ringkv_error_replies_total')).toBeGreaterThanOrEqual(1);
      expect(sampleValue(f, 'ringkv_connected_clients')).toBeGreaterThanOrEqual(1);
      expect(f.get('ringkv_command_duration_seconds')?.type).toBe('histogram');
      expect(histogramCount(f, 'ringkv_command_duration_seconds', { family: 'string' })).toBe(3);
      expect(histogramCount(f, 'ringkv_command_duration_seconds', { family: 'hash' })).toBe(1);
      expect(histogramCount(f, 'ringkv_command_duration_seconds', { family: 'list' })).toBe(1);
      expect(histogramCount(f, 'ringkv_command_duration_seconds', { family: 'zset' })).toBe(1);
      expect(histogramCount(f, 'ringkv_command_duration_seconds', { family: 'set' })).toBe(1);
      expect(histogramCount(f, 'ringkv_command_duration_seconds', { family: 'keyspace' })).toBe(1);
      expect(sampleValue(f, 'ringkv_command_duration_seconds_sum', { family: 'string' }, 'ringkv_command_duration_seconds')).toBeGreaterThan(0);
      // The runtime metrics prom-client adds.
      expect(f.get('process_cpu_seconds_total')?.type).toBe('counter');
      expect(f.get('nodejs_eventloop_lag_seconds')?.type).toBe('gauge');
      // No cluster gauges on a standalone node.
      expect(f.has('ringkv_slots_primary')).toBe(false);
    } finally {
      r.disconnect();
    }
  });

  it('answers 404 elsewhere and 405 to other methods', async () => {
    expect((await get(metricsPort, '/nothing')).status).toBe(404);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: metricsPort, path: '/metrics', method: 'POST' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(405);
  });

  it('asks for metrics-password, or else requirepass, as HTTP Basic (any user) or Bearer', async () => {
    const r = new Redis({ port: node.port });
    try {
      await r.config('SET', 'metrics-password', 'scrape-me');
      const refused = await get(metricsPort, '/metrics');
      expect(refused.status).toBe(401);
      expect(refused.challenge).toMatch(/^Basic realm="ringkv"/);
      expect((await get(metricsPort, '/api/node', basic('prometheus', 'wrong'))).status).toBe(401);
      expect((await get(metricsPort, '/metrics', basic('prometheus', 'scrape-me'))).status).toBe(200);
      expect((await get(metricsPort, '/dashboard', basic('', 'scrape-me'))).status).toBe(200);
      expect((await get(metricsPort, '/metrics', 'Bearer scrape-me')).status).toBe(200);
      expect((await get(metricsPort, '/metrics', 'Bearer scrape-m')).status).toBe(401);
      // Without a metrics-password the client password guards it too.
      await r.config('SET', 'metrics-password', '');
      await r.config('SET', 'requirepass', 'client-pass');
      await r.auth('client-pass');
      expect((await get(metricsPort, '/metrics')).status).toBe(401);
      expect((await get(metricsPort, '/metrics', basic('default', 'client-pass'))).status).toBe(200);
      await r.config('SET', 'requirepass', '');
      expect((await get(metricsPort, '/metrics')).status).toBe(200);
    } finally {
      r.disconnect();
    }
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

describe('Prometheus metrics of a 3-node cluster', () => {
  let cluster: TestCluster;
  const metricsPorts: number[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 3; i++) metricsPorts.push(await freePort());
    cluster = await startCluster(3, [], (i) => ['--metrics-port', String(metricsPorts[i])]);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('every node is well-formed and reports slots, quorum rounds, hints, anti-entropy and rebalance', async () => {
    const c = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }]);
    try {
      for (let i = 0; i < 60; i++) await c.set(`k${i}`, `v${i}`);
      for (let i = 0; i < 60; i++) expect(await c.get(`k${i}`)).toBe(`v${i}`);
      await c.hset('hash', 'f', 'v');
    } finally {
      c.disconnect();
    }
    const scraped = await Promise.all(metricsPorts.map(scrape));
    let primaries = 0;
    let replicas = 0;
    let writeRounds = 0;
    let stringCommands = 0;
    for (const f of scraped) {
      primaries += sampleValue(f, 'ringkv_slots_primary')!;
      replicas += sampleValue(f, 'ringkv_slots_replica')!;
      writeRounds += histogramCount(f, 'ringkv_quorum_round_duration_seconds', { kind: 'write' });
      stringCommands += histogramCount(f, 'ringkv_command_duration_seconds', { family: 'string' });
      expect(histogramCount(f, 'ringkv_quorum_round_duration_seconds', { kind: 'read' })).toBeGreaterThanOrEqual(0);
      expect(sampleValue(f, 'ringkv_cluster_state_ok')).toBe(1);
      expect(sampleValue(f, 'ringkv_cluster_known_nodes')).toBe(3);
      // Every node sees all three members up, each with its own slot share.
      const up = f.get('ringkv_cluster_member_up')!.samples;
      expect(up.map((s) => s.labels.address).sort()).toEqual(cluster.ports.map((p) => `127.0.0.1:${p}`).sort());
      expect(up.every((s) => s.value === 1)).toBe(true);
      const memberPrimaries = f.get('ringkv_cluster_member_slots_primary')!.samples.reduce((a, s) => a + s.value, 0);
      expect(memberPrimaries).toBe(16384);
      for (const name of ['ringkv_hints_pending_bytes', 'ringkv_anti_entropy_slots_queued', 'ringkv_rebalance_slots_moving',
        'ringkv_rebalance_slots_in', 'ringkv_rebalance_slots_out', 'ringkv_collections_suspect', 'ringkv_collection_heals_total',
        'ringkv_anti_entropy_slots_compared_total', 'ringkv_quorum_failures_total']) {
        expect(sampleValue(f, name), name).toBeGreaterThanOrEqual(0);
      }
    }
    // Each slot has one primary and, with N = 3 on 3 nodes, two more replicas.
    expect(primaries).toBe(16384);
    expect(replicas).toBe(2 * 16384);
    // 61 writes coordinated somewhere, each one write round; 120 string commands timed in all.
    expect(writeRounds).toBeGreaterThanOrEqual(61);
    expect(stringCommands).toBeGreaterThanOrEqual(120);
  });

  it('with a password on every node, the dashboard still gathers every node\'s report', async () => {
    const clients = cluster.ports.map((port) => new Redis({ port }));
    try {
      for (const r of clients) await r.config('SET', 'metrics-password', 'dash');
      expect((await get(metricsPorts[0]!, '/api/cluster')).status).toBe(401);
      const res = await get(metricsPorts[0]!, '/api/cluster', basic('ops', 'dash'));
      expect(res.status).toBe(200);
      const report = JSON.parse(res.body) as { nodes: Array<{ report: unknown; error: string | undefined }> };
      expect(report.nodes).toHaveLength(3);
      expect(report.nodes.map((n) => n.error ?? 'ok')).toEqual(['ok', 'ok', 'ok']);
    } finally {
      for (const r of clients) {
        await r.config('SET', 'metrics-password', '');
        r.disconnect();
      }
    }
  });
});
