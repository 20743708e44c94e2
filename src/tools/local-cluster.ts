import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { Config, settingsFromArgs } from '../core/config.js';
import { UsageError } from '../core/startup-error.js';

export interface LocalClusterOptions {
  nodes: number;
  basePort: number;
  dir: string;
  /** Extra settings passed to every node (`--name value` words). */
  extra: string[];
}

/** The local cluster notices a dead peer sooner than the 15 s default: it is there to be watched. */
const LOCAL_NODE_TIMEOUT_MS = 5000;
/** Restart delays: doubling from the first to the cap while a node keeps dying. */
const RESTART_DELAY_MS_MIN = 1000;
const RESTART_DELAY_MS_MAX = 30_000;
/** A node that ran this long before dying starts again from the shortest delay. */
const STABLE_RUN_MS = 60_000;
const FORM_TIMEOUT_MS = 60_000;
/** Each node's metrics and dashboard listen this far above its client port (7000 → 7100), unless --metrics-port is given. */
const METRICS_PORT_OFFSET = 100;

function parseOptions(args: string[]): LocalClusterOptions {
  const opts: LocalClusterOptions = { nodes: 3, basePort: 7000, dir: './data', extra: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = (): string => {
      const v = args[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${a} needs a value`, 'cluster start');
      return v;
    };
    if (a === '--nodes') opts.nodes = Number(next());
    else if (a === '--base-port') opts.basePort = Number(next());
    else if (a === '--dir') opts.dir = next();
    else if (a.startsWith('--')) opts.extra.push(a);
    else if (opts.extra.length > 0) opts.extra.push(a); // a value of the setting before it
    else throw new UsageError(`unexpected argument '${a}'`, 'cluster start');
  }
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > 64) throw new UsageError('--nodes must be 1..64', 'cluster start');
  if (!Number.isInteger(opts.basePort) || opts.basePort < 1 || opts.basePort + opts.nodes > 55535) throw new UsageError('--base-port out of range (1..55535 - nodes, the bus needs port + 10000)', 'cluster start');
  // One port for every node could not work: each gets its own (client port + 100).
  if (opts.extra.includes('--metrics-port')) throw new UsageError('--metrics-port is set per node by the local cluster (client port + 100)', 'cluster start');
  // Every node would die on a bad setting: check them here, once, before anything starts.
  const { settings } = settingsFromArgs(['--cluster-enabled', 'yes', '--port', String(opts.basePort), ...opts.extra]);
  new Config(settings);
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

async function answersPing(port: number): Promise<boolean> {
  const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, connectTimeout: 1000 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** One node of the local cluster and its restart state. */
interface Member {
  port: number;
  dir: string;
  args: string[];
  child: ChildProcess | undefined;
  startedAt: number;
  restartDelayMs: number;
  restartTimer: NodeJS.Timeout | undefined;
  restarts: number;
}

/**
 * `ringkv cluster start`: runs N nodes on consecutive ports as child processes, seeds them with each
 * other, waits until every node sees all of them, then prints how to connect. It supervises them: a
 * node that dies is reported and started again on the same port and data directory with backoff,
 * so the cluster can be watched healing. Ctrl-C (or SIGTERM) stops every node. `cli` is the script
 * the launcher itself runs from (the bundle or dist/src/cli.js), so the nodes start from the same one.
 */
export async function runLocalCluster(args: string[], cli: string): Promise<void> {
  const opts = parseOptions(args);
  const ports = Array.from({ length: opts.nodes }, (_, i) => opts.basePort + i);
  // The local cluster is there to be watched: every node serves the dashboard and metrics.
  const metricsPort = (port: number): number => port + METRICS_PORT_OFFSET;
  let stopping = false;
  const members: Member[] = ports.map((port) => {
    // Absolute: each node works in its own directory, as redis-server does.
    const dir = path.resolve(opts.dir, `node-${port}`);
    mkdirSync(dir, { recursive: true });
    const seeds = ports.filter((p) => p !== port).map((p) => `127.0.0.1:${p}`).join(' ');
    return {
      port, dir, child: undefined, startedAt: 0, restartDelayMs: RESTART_DELAY_MS_MIN, restartTimer: undefined, restarts: 0,
      args: [
        cli, 'server', '--port', String(port), '--dir', dir, '--cluster-enabled', 'yes',
        '--cluster-node-timeout', String(LOCAL_NODE_TIMEOUT_MS), '--cluster-seeds', seeds, '--logfile', path.join(dir, 'ringkv.log'),
        '--metrics-port', String(metricsPort(port)), ...opts.extra,
      ],
    };
  });

  const start = (m: Member): void => {
    m.restartTimer = undefined;
    m.startedAt = Date.now();
    const child = spawn(process.execPath, m.args, { stdio: ['pipe', 'inherit', 'inherit'], env: { ...process.env, RINGKV_EXIT_WITH_STDIN: '1' } });
    m.child = child;
    child.once('exit', (code, signal) => onExit(m, child, code, signal));
    if (m.restarts > 0) void announceBack(m, child);
  };

  const onExit = (m: Member, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void => {
    if (m.child === child) m.child = undefined;
    if (stopping) return;
    const ranMs = Date.now() - m.startedAt;
    if (ranMs >= STABLE_RUN_MS) m.restartDelayMs = RESTART_DELAY_MS_MIN;
    const how = signal !== null ? `killed by ${signal}` : `exited with code ${code}`;
    const alive = members.filter((x) => x.child !== undefined).map((x) => x.port);
    console.error(
      `node on port ${m.port} (pid ${child.pid}) ${how} after ${seconds(ranMs)}; ` +
      `${alive.length ? `nodes ${alive.join(', ')} keep serving` : 'no node is running'}; ` +
      `restarting it in ${seconds(m.restartDelayMs)} (log: ${path.join(m.dir, 'ringkv.log')})`,
    );
    m.restarts++;
    m.restartTimer = setTimeout(() => start(m), m.restartDelayMs);
    m.restartDelayMs = Math.min(RESTART_DELAY_MS_MAX, m.restartDelayMs * 2);
  };

  /** Tells the user when a restarted node answers again (it may also die again first). */
  const announceBack = async (m: Member, child: ChildProcess): Promise<void> => {
    while (!stopping && m.child === child) {
      if (await answersPing(m.port)) {
        if (!stopping && m.child === child) console.log(`node on port ${m.port} is back (pid ${child.pid}, restart ${m.restarts}); it rejoins the cluster and catches up by hints and anti-entropy`);
        return;
      }
      await sleep(200);
    }
  };

  const stopAll = (code: number): void => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping the local cluster…');
    for (const m of members) if (m.restartTimer) clearTimeout(m.restartTimer);
    const running = members.map((m) => m.child).filter((c): c is ChildProcess => c !== undefined && c.exitCode === null && c.signalCode === null);
    for (const c of running) c.kill('SIGTERM');
    const deadline = setTimeout(() => {
      for (const c of running) c.kill('SIGKILL');
      process.exit(code);
    }, 10_000);
    deadline.unref();
    void Promise.all(running.map((c) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r))))).then(() => process.exit(code));
  };
  process.on('SIGINT', () => stopAll(0));
  process.on('SIGTERM', () => stopAll(0));
  for (const m of members) start(m);

  const deadline = Date.now() + FORM_TIMEOUT_MS;
  for (;;) {
    const states = await Promise.all(ports.map((p) => clusterReady(p, opts.nodes)));
    if (stopping) return;
    if (states.every(Boolean)) break;
    if (Date.now() > deadline) {
      console.error('the cluster did not form within 60 s; logs are under ' + opts.dir);
      stopAll(1);
      return;
    }
    await sleep(200);
  }
  console.log(`ringkv cluster of ${opts.nodes} nodes is up on ports ${ports[0]}-${ports[ports.length - 1]} (bus ${ports[0]! + 10000}-${ports[ports.length - 1]! + 10000}), data under ${opts.dir}`);
  console.log(`  nodes:    ${members.map((m) => `${m.port} (pid ${m.child?.pid ?? '-'})`).join(', ')}`);
  console.log(`  connect:  redis-cli -c -p ${ports[0]}`);
  console.log(`  status:   npx ringkv status --port ${ports[0]}   (or node ${path.relative(process.cwd(), cli)} status --port ${ports[0]})`);
  console.log(`  dashboard: http://127.0.0.1:${metricsPort(ports[0]!)}/   (metrics: /metrics; every node serves both, on its port + ${METRICS_PORT_OFFSET})`);
  console.log('  A node that dies is restarted; Ctrl-C stops the cluster.');
}
