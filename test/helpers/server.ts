/**
 * Starts real ringkv node processes for tests: free ports, a fresh data directory, readiness by PING,
 * and a guarantee that every process started is killed when the test file ends, pass or fail.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The bundled entry `npm run build` writes (scripts/bundle.mjs), as `npm start` runs it: a node starts from it with about a third less CPU. */
export const CLI = path.join(ROOT, 'dist/bundle/ringkv.js');

const running = new Set<ChildProcess>();
const dirs = new Set<string>();

function killAll(): void {
  for (const p of running) {
    try {
      p.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
  running.clear();
}
/**
 * Kills what a test file left running and removes the directories it made. Run after each file
 * (test/helpers/file-cleanup.ts): vitest ends its worker processes without their 'exit' event,
 * which left every data directory behind in the system's temporary directory.
 */
export function releaseTestResources(): void {
  killAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}
process.on('exit', releaseTestResources);

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** A free port whose +10000 companion (the cluster bus) is free too. */
/**
 * The kernel hands out ephemeral ports (outgoing connections: clients, bus links) from its local
 * port range; a test port drawn from that range can be taken between the check and the node's
 * listen. Client ports and their +10000 bus ports are drawn below it.
 */
const EPHEMERAL_LOW = ((): number => {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 21000 ? low : 32768;
  } catch {
    return 32768;
  }
})();

/** A random client port whose bus port (+10000) also lies below the ephemeral range. */
export function candidatePort(): number {
  const low = 10000;
  const high = EPHEMERAL_LOW - 10000;
  return low + Math.floor(Math.random() * (high - low));
}

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = candidatePort();
    if ((await portFree(port)) && (await portFree(port + 10000))) return port;
  }
  throw new Error('no free port found');
}

export function tempDir(prefix = 'ringkv-test-'): string {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.add(d);
  return d;
}

/** Sends raw bytes and collects what comes back until `until` says enough or the socket closes. */
export function rawExchange(port: number, payload: Buffer | string, until: (got: Buffer) => boolean, timeoutMs = 5000): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ data, closed });
    };
    const timer = setTimeout(() => (done ? undefined : (done = true, sock.destroy(), reject(new Error(`timeout; got ${JSON.stringify(data.toString('latin1').slice(0, 300))}`)))), timeoutMs);
    sock.on('connect', () => sock.write(payload));
    sock.on('data', (d) => {
      data = Buffer.concat([data, d]);
      if (until(data)) finish(false);
    });
    sock.on('close', () => finish(true));
    sock.on('error', () => finish(true));
  });
}

async function pingOk(port: number): Promise<boolean> {
  try {
    const r = await rawExchange(port, 'PING\r\n', (d) => d.includes('\r\n'), 1000);
    return r.data.toString().startsWith('+PONG') || r.data.toString().startsWith('-NOAUTH');
  } catch {
    return false;
  }
}

export interface NodeProcess {
  port: number;
  dir: string;
  args: string[];
  proc: ChildProcess;
  output(): string;
  /** SIGKILL, no chance to flush anything. */
  kill9(): Promise<void>;
  /** SIGTERM and wait for a clean exit. */
  stop(): Promise<number | null>;
  /** Starts again on the same port and data directory. */
  restart(): Promise<void>;
}

const STOP_TIMEOUT_MS = 20000;

function exited(proc: ChildProcess): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
}

/**
 * Starts `ringkv server` (with `configFile`, if given) and the given extra settings; resolves once it answers PING on its port,
 * or once `ready` says so (a node without a plain port, `--port 0`, is asked over TLS).
 */
export async function startNode(opts: { args?: string[]; port?: number; dir?: string; env?: NodeJS.ProcessEnv; ready?: () => Promise<boolean>; configFile?: string } = {}): Promise<NodeProcess> {
  const port = opts.port ?? (await freePort());
  const dir = opts.dir ?? tempDir();
  // A config file comes first, as redis-server takes it; the flags after it win over its lines.
  const args = ['server', ...(opts.configFile !== undefined ? [opts.configFile] : []), '--port', String(port), '--dir', dir, '--loglevel', 'warning', ...(opts.args ?? [])];
  let log = '';
  const spawnIt = (): ChildProcess => {
    // The node stops when our end of its stdin closes: a test worker that dies cannot leak it.
    const proc = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, RINGKV_EXIT_WITH_STDIN: '1', ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    running.add(proc);
    proc.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    proc.once('exit', () => running.delete(proc));
    return proc;
  };
  const handle: NodeProcess = {
    port, dir, args, proc: spawnIt(),
    output: () => log,
    async kill9() {
      handle.proc.kill('SIGKILL');
      await exited(handle.proc);
    },
    async stop() {
      handle.proc.kill('SIGTERM');
      // A node that ignores SIGTERM is a bug worth a clear failure, not a hung hook or a leaked process.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), STOP_TIMEOUT_MS)));
      const code = await Promise.race([exited(handle.proc), late]);
      clearTimeout(timer);
      if (code === 'late') {
        handle.proc.kill('SIGKILL');
        await exited(handle.proc);
        throw new Error(`ringkv on ${port} did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM: ${log.slice(-2000)}`);
      }
      return code;
    },
    async restart() {
      handle.proc = spawnIt();
      await waitReady(handle, opts.ready);
    },
  };
  await waitReady(handle, opts.ready);
  return handle;
}

async function waitReady(h: NodeProcess, ready?: () => Promise<boolean>, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (h.proc.exitCode !== null) throw new Error(`ringkv exited with ${h.proc.exitCode}: ${h.output()}`);
    if (await (ready ?? (() => pingOk(h.port)))()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`ringkv on ${h.port} not ready: ${h.output()}`);
}

/** Runs a command-line tool and returns its output (stdin optional). */
export function run(cmd: string, args: string[], input?: string | Buffer, timeoutMs = 30000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    running.add(p);
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${cmd} timed out: ${stdout} ${stderr}`));
    }, timeoutMs);
    p.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => {
      clearTimeout(timer);
      running.delete(p);
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) p.stdin!.end(input);
    else p.stdin!.end();
  });
}

export function hasBinary(name: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(path.join(dir, name)));
}
