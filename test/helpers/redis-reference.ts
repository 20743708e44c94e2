/**
 * Real redis-server processes as the reference the pipeline expectations are checked against: one
 * standalone server, or a 3-master Redis Cluster with the slots split evenly (no replicas). Every
 * process started here is killed when the test file's process exits, pass or fail.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, hasBinary, tempDir } from './server.js';
import { RespConn, show } from './resp-conn.js';

export const haveRedisServer = hasBinary('redis-server');

const started = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of started) p.kill('SIGKILL');
});

export interface RedisReference {
  ports: number[];
  /** redis_version of INFO server (the differential suites require 7.0). */
  version: string;
  stop(): Promise<void>;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`redis-server: ${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function command(port: number, ...argv: string[]): Promise<string> {
  const conn = await RespConn.connect(port);
  try {
    return show(await conn.call(...argv));
  } finally {
    conn.close();
  }
}

async function startServers(count: number, extra: string[]): Promise<RedisReference> {
  const procs: ChildProcess[] = [];
  const ports: number[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(procs.map((p) => {
      if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGKILL');
      return exited.then(() => void started.delete(p));
    }));
  };
  try {
    while (ports.length < count) {
      const p = await freePort();
      if (!ports.some((q) => q === p || q === p + 10000 || q + 10000 === p)) ports.push(p);
    }
    for (const port of ports) {
      const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', tempDir('redis-ref-'), '--save', '', '--appendonly', 'no', ...extra], { stdio: 'ignore' });
      started.add(proc);
      procs.push(proc);
    }
    for (const port of ports) await waitFor(`PING on ${port}`, async () => (await command(port, 'PING')) === '+PONG');
    const version = /redis_version:([0-9.]+)/.exec(await command(ports[0]!, 'INFO', 'server'))?.[1] ?? 'unknown';
    return { ports, version, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** `extra`: more redis-server arguments (`--enable-debug-command yes` for DEBUG, off by default in 7.0). */
export function startRedisServer(extra: string[] = []): Promise<RedisReference> {
  return startServers(1, extra);
}

/** Three masters; node i serves slots [i·16384/3, (i+1)·16384/3). */
export async function startRedisCluster(): Promise<RedisReference> {
  const ref = await startServers(3, ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000']);
  try {
    const bounds = [0, 5461, 10923, 16384];
    for (let i = 0; i < 3; i++) {
      const reply = await command(ref.ports[i]!, 'CLUSTER', 'ADDSLOTSRANGE', String(bounds[i]), String(bounds[i + 1]! - 1));
      if (reply !== '+OK') throw new Error(`CLUSTER ADDSLOTSRANGE: ${reply}`);
    }
    for (const port of ref.ports.slice(1)) await command(ref.ports[0]!, 'CLUSTER', 'MEET', '127.0.0.1', String(port));
    for (const port of ref.ports) {
      await waitFor(`cluster_state:ok on ${port}`, async () => {
        const info = await command(port, 'CLUSTER', 'INFO');
        return info.includes('cluster_state:ok') && info.includes('cluster_known_nodes:3');
      });
    }
    // Every node must also agree on the owners before clients read CLUSTER SLOTS.
    await waitFor('all nodes list 3 slot ranges', async () => (await Promise.all(ref.ports.map((p) => command(p, 'CLUSTER', 'SLOTS')))).every((s) => (s.match(/\[:\d+ :\d+ \[/g) ?? []).length === 3));
  } catch (err) {
    await ref.stop();
    throw err;
  }
  return ref;
}
