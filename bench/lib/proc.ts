import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const OUTPUT_TAIL_BYTES = 8192;

/** Every child still alive, so signal and exit handlers can reap them. */
const live = new Set<ChildProcess>();

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  readonly exited: Promise<string>;
  hasExited(): boolean;
  /** Last few KiB of combined stdout/stderr, for error messages. */
  outputTail(): string;
  /** Full stdout, kept only when requested at spawn time. */
  stdout(): string;
}

export interface SpawnOptions {
  cwd?: string;
  keepStdout?: boolean;
  /** Called with each complete stdout line as it arrives (e.g. a load generator's reports). */
  onStdoutLine?: (line: string) => void;
}

export function spawnManaged(name: string, command: string, args: readonly string[], options: SpawnOptions = {}): ManagedProcess {
  // A process group of its own lets us kill anything the child forks (e.g. cluster nodes) in one go.
  const child = spawn(command, args, { cwd: options.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  let fullStdout = '';
  let spawnError: Error | null = null;
  let exitedFlag = false;
  let partialLine = '';
  const append = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    append(chunk);
    if (options.keepStdout) fullStdout += chunk.toString('utf8');
    if (options.onStdoutLine !== undefined) {
      const lines = (partialLine + chunk.toString('utf8')).split('\n');
      partialLine = lines.pop() ?? '';
      for (const line of lines) options.onStdoutLine(line);
    }
  });
  child.stderr?.on('data', append);
  live.add(child);
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => {
      spawnError = err;
      exitedFlag = true;
      live.delete(child);
      resolve(`spawn error: ${err.message}`);
    });
    child.once('close', (code, signal) => {
      exitedFlag = true;
      live.delete(child);
      resolve(code !== null ? `exit code ${code}` : `signal ${signal ?? 'unknown'}`);
    });
  });
  if (child.pid === undefined) {
    // spawn() reports ENOENT asynchronously; surface it as a normal exception instead.
    return {
      name,
      pid: -1,
      exited,
      hasExited: () => true,
      outputTail: () => spawnError?.message ?? `failed to start ${command}`,
      stdout: () => '',
    };
  }
  return {
    name,
    pid: child.pid,
    exited,
    hasExited: () => exitedFlag,
    outputTail: () => tail,
    stdout: () => fullStdout,
  };
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** Exit status if the process ends within `ms`, else null. */
export async function exitedWithin(proc: ManagedProcess, ms: number): Promise<string | null> {
  // The timer is cancelled once the process exits so it cannot hold the event loop open.
  const timer = new AbortController();
  const status = await Promise.race([
    proc.exited,
    sleep(ms, null, { signal: timer.signal }).catch(() => null),
  ]);
  timer.abort();
  return status;
}

/** Graceful stop: SIGTERM to the group, SIGKILL if it lingers. */
export async function stopManaged(proc: ManagedProcess, graceMs = 10_000): Promise<void> {
  if (proc.pid < 0 || proc.hasExited()) return;
  signalGroup(proc.pid, 'SIGTERM');
  if ((await exitedWithin(proc, graceMs)) === null) {
    signalGroup(proc.pid, 'SIGKILL');
    await proc.exited;
  }
}

/** Abrupt stop (SIGKILL to the group), as a crash or power loss would end a node. */
export async function killManaged(proc: ManagedProcess): Promise<void> {
  if (proc.pid < 0 || proc.hasExited()) return;
  signalGroup(proc.pid, 'SIGKILL');
  await proc.exited;
}

/** Synchronous last resort for signal and exit handlers, where awaiting is not possible. */
export function killAllSync(): void {
  for (const child of live) {
    if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
  }
  live.clear();
}

export interface RunResult {
  status: string;
  ok: boolean;
  stdout: string;
  output: string;
}

/** Runs a command to completion, killing it if it overruns, so a wedged server cannot hang the bench. */
export async function runManaged(name: string, command: string, args: readonly string[], timeoutMs: number): Promise<RunResult> {
  const proc = spawnManaged(name, command, args, { keepStdout: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    signalGroup(proc.pid, 'SIGKILL');
  }, timeoutMs);
  const status = await proc.exited;
  clearTimeout(timer);
  return {
    status: timedOut ? `timed out after ${timeoutMs} ms` : status,
    ok: !timedOut && status === 'exit code 0',
    stdout: proc.stdout(),
    output: proc.outputTail(),
  };
}

function pingOnce(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let reply = '';
    const fail = (err: Error): void => {
      socket.destroy();
      reject(err);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error('PING timed out')));
    socket.once('error', fail);
    socket.on('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('utf8');
      const end = reply.indexOf('\r\n');
      if (end >= 0) {
        socket.destroy();
        resolve(reply.slice(0, end));
      }
    });
  });
}

/** Polls until the server answers +PONG; -LOADING and refused connections mean "not yet". */
export async function waitForPing(proc: ManagedProcess, host: string, port: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no attempt';
  while (Date.now() < deadline) {
    if (proc.hasExited()) {
      throw new Error(`${proc.name} exited before answering PING (${await proc.exited}):\n${proc.outputTail()}`);
    }
    try {
      last = await pingOnce(host, port, 1000);
      if (last === '+PONG') return;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(50);
  }
  throw new Error(`${proc.name} did not answer PING on ${host}:${port} within ${timeoutMs} ms (last: ${last}):\n${proc.outputTail()}`);
}
