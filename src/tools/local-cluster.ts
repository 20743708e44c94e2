import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

export interface LocalClusterOptions {
  nodes: number;
  basePort: number;
  dir: string;
  /** Extra settings passed to every node (`--name value` words). */
  extra: string[];
}

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'cli.js');

function parseOptions(args: string[]): LocalClusterOptions {
  const opts: LocalClusterOptions = { nodes: 3, basePort: 7000, dir: './data', extra: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = (): string => {
      const v = args[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--nodes') opts.nodes = Number(next());
    else if (a === '--base-port') opts.basePort = Number(next());
    else if (a === '--dir') opts.dir = next();
    else opts.extra.push(a);
  }
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > 64) throw new Error('--nodes must be 1..64');
  if (!Number.isInteger(opts.basePort) || opts.basePort < 1 || opts.basePort + opts.nodes > 55535) throw new Error('--base-port out of range');
  return opts;
}

async function clusterReady(port: number, nodes: number): Promise<boolean> {
  const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  r.on('error', () => undefined);
  try {
    await r.connect();
    const info = (await r.call('cluster', 'info')) as string;
    return info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${nodes}\r\n`);
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

/**
 * `ringkv cluster start`: runs N nodes on consecutive ports as child processes, seeds them with the
 * first node, waits until every node sees all of them, then prints how to connect. Ctrl-C stops all.
 */
export async function runLocalCluster(args: string[]): Promise<void> {
  const opts = parseOptions(args);
  const children: ChildProcess[] = [];
  const ports = Array.from({ length: opts.nodes }, (_, i) => opts.basePort + i);
  let stopping = false;
  const stopAll = (code: number): void => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping the local cluster…');
    for (const c of children) c.kill('SIGTERM');
    const deadline = setTimeout(() => process.exit(code), 10_000);
    deadline.unref();
    void Promise.all(children.map((c) => (c.exitCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r))))).then(() => process.exit(code));
  };
  process.on('SIGINT', () => stopAll(0));
  process.on('SIGTERM', () => stopAll(0));
  for (const port of ports) {
    const dir = path.join(opts.dir, `node-${port}`);
    mkdirSync(dir, { recursive: true });
    const seeds = ports.filter((p) => p !== port).map((p) => `127.0.0.1:${p}`).join(' ');
    const child = spawn(process.execPath, [
      CLI, 'server', '--port', String(port), '--dir', dir, '--cluster-enabled', 'yes',
      '--cluster-node-timeout', '5000', '--cluster-seeds', seeds, '--logfile', path.join(dir, 'ringkv.log'), ...opts.extra,
    ], { stdio: ['pipe', 'inherit', 'inherit'], env: { ...process.env, RINGKV_EXIT_WITH_STDIN: '1' } });
    child.once('exit', (code, signal) => {
      if (!stopping) {
        console.error(`node on port ${port} exited (${signal ?? code}); see ${path.join(dir, 'ringkv.log')}`);
        stopAll(1);
      }
    });
    children.push(child);
  }
  const deadline = Date.now() + 60_000;
  for (;;) {
    const states = await Promise.all(ports.map((p) => clusterReady(p, opts.nodes)));
    if (states.every(Boolean)) break;
    if (Date.now() > deadline) {
      console.error('the cluster did not form within 60 s; logs are under ' + opts.dir);
      stopAll(1);
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log(`ringkv cluster of ${opts.nodes} nodes is up on ports ${ports[0]}-${ports[ports.length - 1]} (bus ${ports[0]! + 10000}-${ports[ports.length - 1]! + 10000}), data under ${opts.dir}`);
  console.log(`  connect:  redis-cli -c -p ${ports[0]}`);
  console.log(`  status:   npx ringkv status --port ${ports[0]}   (or node dist/src/cli.js status --port ${ports[0]})`);
  console.log('  Ctrl-C stops the cluster.');
}
