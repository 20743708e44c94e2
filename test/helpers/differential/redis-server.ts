/**
 * Starts the reference: a real redis-server on a free port, without persistence, killed when the
 * test file ends whether it passed or not.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, hasBinary, rawExchange } from '../server.js';

export interface RedisServer {
  port: number;
  version: string;
  stop(): Promise<void>;
}

const started = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of started) p.kill('SIGKILL');
});

export const haveRedisServer = hasBinary('redis-server');

const READY_TIMEOUT_MS = 10000;
const STOP_TIMEOUT_MS = 10000;

function exited(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => proc.once('exit', () => resolve()));
}

export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(proc);
  let log = '';
  proc.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  proc.once('exit', () => started.delete(proc));
  const stop = async (): Promise<void> => {
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited(proc);
    clearTimeout(timer);
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}: ${log}`);
    try {
      const info = await rawExchange(port, 'INFO server\r\n', (d) => d.includes('redis_version:') && d.toString().endsWith('\r\n'), 1000);
      const version = /redis_version:(\S+)/.exec(info.data.toString())?.[1];
      if (version !== undefined) return { port, version, stop };
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`redis-server on ${port} not ready: ${log}`);
}
