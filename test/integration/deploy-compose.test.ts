/**
 * Goal: the repository's docker-compose.yml describes a cluster that forms and serves: its
 * settings, seeds, announced addresses, password, cluster secret and proxy mode work together.
 * Method: no Docker daemon here, so the compose file is read (YAML, merge keys as compose reads
 * them), checked for what a deployment needs (a volume per node, published client ports, the
 * secrets required), and each service's environment is run as a real `ringkv server` process:
 * the same RINGKV_* variables, with each container's address:6379 mapped to 127.0.0.1 and a free
 * port and /data to a fresh directory. The cluster must form, answer with the password only,
 * relay through any node (cluster-proxy), and pass the image's HEALTHCHECK command.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import Redis from 'ioredis';
import { ROOT, freePort, rawExchange, startNode, tempDir, type NodeProcess } from '../helpers/server.js';

interface Service {
  environment: Record<string, string>;
  ports: string[];
  volumes: string[];
  networks: Record<string, { ipv4_address: string }>;
}
const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const PASSWORD = 'compose-test-password';
const SECRET = 'compose-test-secret';

/** ${VAR:?message} as compose expands it: the value given, or an error naming what is missing. */
function expand(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{([A-Z_]+)(?::\?([^}]*))?\}/g, (_m, name: string, message?: string) => {
    const v = vars[name];
    if (v === undefined) throw new Error(`compose needs ${name}: ${message ?? ''}`);
    return v;
  });
}

const services = Object.entries(compose.services);
const nodes: NodeProcess[] = [];
/** Container address:6379 → the local port standing in for it. */
const localPort = new Map<string, number>();

beforeAll(async () => {
  for (const [, s] of services) localPort.set(`${s.environment.RINGKV_CLUSTER_ANNOUNCE_IP}:${s.environment.RINGKV_PORT}`, await freePort());
  const local = (addr: string): string => {
    const port = localPort.get(addr);
    if (port === undefined) throw new Error(`seed ${addr} is no node of the compose file`);
    return `127.0.0.1:${port}`;
  };
  const started = await Promise.allSettled(services.map(([, s]) => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(s.environment)) env[k] = expand(v, { RINGKV_PASSWORD: PASSWORD, RINGKV_CLUSTER_SECRET: SECRET });
    const port = localPort.get(`${env.RINGKV_CLUSTER_ANNOUNCE_IP}:${env.RINGKV_PORT}`)!;
    env.RINGKV_CLUSTER_SEEDS = env.RINGKV_CLUSTER_SEEDS!.split(/\s+/).map(local).join(' ');
    env.RINGKV_CLUSTER_ANNOUNCE_IP = '127.0.0.1';
    env.RINGKV_BIND = '127.0.0.1';
    env.RINGKV_PORT = String(port);
    env.RINGKV_DIR = tempDir();
    // The local stand-in for a container: the same variables, as the image's CMD runs them.
    return startNode({ port, dir: env.RINGKV_DIR, env, args: ['--cluster-node-timeout', '2000'] });
  }));
  for (const r of started) if (r.status === 'fulfilled') nodes.push(r.value);
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
});

afterAll(async () => {
  await Promise.all(nodes.map((n) => (n.proc.exitCode === null ? n.stop() : null)));
});

describe('docker-compose.yml', () => {
  it('declares three nodes, each with its own volume, published client port and required secrets', () => {
    expect(services).toHaveLength(3);
    const volumes = services.map(([, s]) => s.volumes[0]!.split(':')[0]!);
    expect(new Set(volumes).size).toBe(3);
    for (const v of volumes) expect(compose.volumes).toHaveProperty(v);
    for (const [, s] of services) {
      expect(s.volumes[0]).toMatch(/:\/data$/);
      expect(s.environment.RINGKV_DIR).toBe('/data');
      expect(s.ports[0]).toMatch(/^\d+:6379$/);
      expect(s.environment.RINGKV_CLUSTER_ANNOUNCE_IP).toBe(Object.values(s.networks)[0]!.ipv4_address);
      expect(() => expand(s.environment.RINGKV_REQUIREPASS!, {})).toThrow(/RINGKV_PASSWORD/);
      expect(() => expand(s.environment.RINGKV_CLUSTER_SECRET!, {})).toThrow(/RINGKV_CLUSTER_SECRET/);
    }
    expect(new Set(services.map(([, s]) => s.ports[0]!.split(':')[0])).size).toBe(3);
  });

  it('its command lines form a cluster that serves with the password through any node', async () => {
    const ports = nodes.map((n) => n.port);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const infos = await Promise.all(ports.map(async (port) => {
        const r = new Redis({ port, password: PASSWORD, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        r.on('error', () => undefined);
        try {
          await r.connect();
          return (await r.call('cluster', 'info')) as string;
        } catch {
          return '';
        } finally {
          r.disconnect();
        }
      }));
      if (infos.every((i) => i.includes('cluster_state:ok') && i.includes('cluster_known_nodes:3\r\n'))) break;
      if (Date.now() > deadline) throw new Error(`cluster did not form: ${infos.join(' / ')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // Without the password: refused. With it, any node answers for any key (cluster-proxy).
    const anon = await rawExchange(ports[0]!, 'GET k\r\n', (d) => d.includes('\r\n'));
    expect(anon.data.toString()).toMatch(/^-NOAUTH/);
    // Keys written through each node are read back through the next one.
    for (const [i, port] of ports.entries()) {
      const r = new Redis({ port, password: PASSWORD });
      try {
        for (let k = 0; k < 20; k++) expect(await r.set(`c${i}-${k}`, `v${k}`)).toBe('OK');
      } finally {
        r.disconnect();
      }
    }
    for (const [i, port] of ports.entries()) {
      const r = new Redis({ port, password: PASSWORD });
      try {
        for (let k = 0; k < 20; k++) expect(await r.get(`c${(i + 2) % 3}-${k}`)).toBe(`v${k}`);
      } finally {
        r.disconnect();
      }
    }
  });

  it("passes the image's HEALTHCHECK command with the service's environment", async () => {
    const port = nodes[0]!.port;
    const env = { ...process.env, RINGKV_PORT: String(port), RINGKV_REQUIREPASS: PASSWORD };
    const ok = await runWithEnv(env);
    expect(ok.code).toBe(0);
    const wrong = await runWithEnv({ ...env, RINGKV_REQUIREPASS: 'not-the-password' });
    expect(wrong.code).toBe(1);
  });
});

/** dist/src/tools/healthcheck.js, the Dockerfile's HEALTHCHECK, with the given environment. */
function runWithEnv(env: NodeJS.ProcessEnv): Promise<{ code: number | null }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'dist/src/tools/healthcheck.js')], { env, stdio: 'ignore' });
    p.on('error', reject);
    p.on('exit', (code) => resolve({ code }));
  });
}
