/**
 * Goal: starting ringkv fails safely and says why in one line, settings are checked as a whole, every
 * command answers --help, protected mode refuses remote clients as Redis 7.0 does, and the local
 * cluster restarts a node that dies.
 * Method: real `ringkv` processes (servers, the CLI, the local-cluster launcher) on free ports and
 * fresh directories, with their exit code, stderr and timing checked; real clients over TCP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { CLI, ROOT, candidatePort, freePort, hasBinary, run, startNode, tempDir, type NodeProcess } from '../helpers/server.js';
import { PROTECTED_MODE_DENIED, isLoopbackAddress, protectedModeRefuses } from '../../src/server/protected-mode.js';

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

const live = new Set<ChildProcess>();
afterAll(() => {
  for (const p of live) p.kill('SIGKILL');
});

/** Gives others execute permission on every ancestor of `dir` that lacks it; returns what to restore. */
function openAncestorsForTraversal(dir: string): Array<[string, number]> {
  const changed: Array<[string, number]> = [];
  for (let p = path.resolve(dir); ; p = path.dirname(p)) {
    const mode = statSync(p).mode & 0o7777;
    if ((mode & 0o001) === 0) {
      changed.push([p, mode]);
      chmodSync(p, mode | 0o001);
    }
    if (p === path.dirname(p)) return changed;
  }
}

/** Runs `ringkv <args>` to its end; a run longer than `timeoutMs` is killed and fails the test (a hang). */
function ringkv(args: string[], opts: { timeoutMs?: number; uid?: number; gid?: number; cwd?: string } = {}): Promise<CliResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid ?? opts.uid } : {}),
      ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
    });
    live.add(p);
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`ringkv ${args.join(' ')} still running after ${opts.timeoutMs ?? 15000} ms: ${stdout} ${stderr}`));
    }, opts.timeoutMs ?? 15000);
    p.on('error', reject);
    p.on('exit', (code) => {
      clearTimeout(timer);
      live.delete(p);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** A start-up failure: exit code 1, exactly one line on stderr matching `pattern`, no stack trace. */
function expectOneLineFailure(r: CliResult, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(1);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^ringkv/);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at |Error:/);
}

/** Holds `port` on 127.0.0.1 the way another program would. */
async function occupy(port: number): Promise<net.Server> {
  const srv = net.createServer((s) => s.destroy());
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve());
  });
  return srv;
}

function listening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

describe('start-up failures are one line and exit code 1', () => {
  const servers: net.Server[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
  });

  it('a client port in use', async () => {
    const port = await freePort();
    servers.push(await occupy(port));
    const r = await ringkv(['server', '--port', String(port), '--dir', path.join(tempDir(), 'd')]);
    expectOneLineFailure(r, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port} for clients \\(port\\): address already in use \\(EADDRINUSE\\)`));
  });

  it('a cluster bus port in use, and the data directory is free again right after', async () => {
    const port = await freePort();
    const dir = path.join(tempDir(), 'd');
    servers.push(await occupy(port + 10000));
    const r = await ringkv(['server', '--port', String(port), '--dir', dir, '--cluster-enabled', 'yes']);
    expectOneLineFailure(r, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port + 10000} for the cluster bus .*EADDRINUSE`));
    // The client listener it had opened is closed and the lock released: a corrected start works.
    expect(await listening(port)).toBe(false);
    expect(existsSync(path.join(dir, 'ringkv.lock'))).toBe(false);
  });

  it('a --dir that is a file, under a file, or under /proc (which used to hang)', async () => {
    const base = tempDir();
    const file = path.join(base, 'afile');
    writeFileSync(file, 'x');
    const port = String(await freePort());
    expectOneLineFailure(await ringkv(['server', '--port', port, '--dir', file]), /afile exists and is not a directory/);
    expectOneLineFailure(await ringkv(['server', '--port', port, '--dir', path.join(file, 'sub')]), /afile is not a directory/);
    const proc = await ringkv(['server', '--port', port, '--dir', '/proc/ringkv'], { timeoutMs: 10000 });
    expectOneLineFailure(proc, /--dir \/proc\/ringkv: cannot create \/proc\/ringkv: no such file or directory \(ENOENT\)/);
  });

  it('a store whose LMDB header is damaged (lmdb-js crashed on it with SIGSEGV)', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'store'));
    writeFileSync(path.join(dir, 'store', 'data.mdb'), Buffer.alloc(8192, 0x5a));
    const r = await ringkv(['server', '--port', String(await freePort()), '--dir', dir]);
    expectOneLineFailure(r, /store\/data\.mdb is corrupt \(its LMDB header is damaged\); move .* aside/);
    expect(existsSync(path.join(dir, 'ringkv.lock'))).toBe(false);
  });

  it('a --dir the user may not write', async () => {
    const parent = tempDir();
    chmodSync(parent, 0o755);
    const dir = path.join(parent, 'ro');
    mkdirSync(dir, { mode: 0o755 });
    const port = String(await freePort());
    // As root, permissions do not stop us: run the server as nobody against a root-owned directory.
    const asRoot = process.getuid?.() === 0;
    if (!asRoot) chmodSync(dir, 0o555);
    // nobody must be able to reach the checkout: a clone under a private directory (mode 0700) is
    // opened for traversal during this test only, and put back as it was.
    const restore = asRoot ? openAncestorsForTraversal(ROOT) : [];
    try {
      const r = await ringkv(['server', '--port', port, '--dir', dir], asRoot ? { uid: 65534, gid: 65534, cwd: '/' } : {});
      expectOneLineFailure(r, /cannot write to .*\/ro: permission denied \(EACCES\)/);
    } finally {
      for (const [p, mode] of restore) chmodSync(p, mode);
    }
  });

  it('bad settings name the setting, cross-setting rules included', async () => {
    const dir = path.join(tempDir(), 'd');
    const port = String(await freePort());
    const cases: Array<[string[], RegExp]> = [
      [['--write-quorum', '4'], /setting 'write-quorum': write-quorum \(4\) must not exceed replication-factor \(3\)/],
      [['--replication-factor', '2', '--write-quorum', '3'], /write-quorum \(3\) must not exceed replication-factor \(2\)/],
      [['--read-quorum', '3', '--write-quorum', '1', '--replication-factor', '2'], /read-quorum \(3\) must not exceed replication-factor \(2\)/],
      [['--write-quorum', '0'], /setting 'write-quorum': argument must be between 1 and 16 inclusive/],
      [['--hinted-handoff-window-ms', '90000000'], /tombstone-grace-ms .* must be greater than hinted-handoff-window-ms/],
      [['--cluster-node-timeout', '5000', '--cluster-dead-node-removal-ms', '4000'], /cluster-dead-node-removal-ms \(4000\) must be 0 or greater than cluster-node-timeout/],
      [['--metrics-port', port], /metrics-port \(\d+\) must differ from port/],
      [['--maxclients', 'many'], /setting 'maxclients': argument couldn't be parsed into an integer/],
      [['--no-such-setting', '1'], /Unknown setting 'no-such-setting'/],
    ];
    for (const [args, pattern] of cases) {
      const r = await ringkv(['server', '--port', port, '--dir', dir, ...args]);
      expectOneLineFailure(r, pattern);
    }
    // Nothing was created for a start that never got past its settings.
    expect(existsSync(dir)).toBe(false);
  });
});

describe('the data directory is locked', () => {
  let first: NodeProcess;
  beforeAll(async () => {
    first = await startNode({ args: ['--appendfsync', 'no'] });
  });
  afterAll(async () => {
    await first?.stop();
  });

  it('a second server on the same --dir is refused, naming the holder pid', async () => {
    const lock = JSON.parse(readFileSync(path.join(first.dir, 'ringkv.lock'), 'utf8')) as { pid: number };
    expect(lock.pid).toBe(first.proc.pid);
    const r = await ringkv(['server', '--port', String(await freePort()), '--dir', first.dir]);
    expectOneLineFailure(r, new RegExp(`data directory .* is in use by another ringkv process \\(pid ${first.proc.pid}\\)`));
    // The refused start touched nothing: the holder still serves and still owns the lock.
    const c = new Redis({ port: first.port, lazyConnect: true, maxRetriesPerRequest: 0 });
    await c.connect();
    expect(await c.ping()).toBe('PONG');
    c.disconnect();
    expect(readFileSync(path.join(first.dir, 'ringkv.lock'), 'utf8')).toContain(`"pid":${first.proc.pid}`);
  });

  it('the stale lock of a killed server is taken over, and a clean stop removes the lock', async () => {
    const c = new Redis({ port: first.port, lazyConnect: true, maxRetriesPerRequest: 0 });
    await c.connect();
    await c.set('kept', 'yes');
    c.disconnect();
    const oldPid = first.proc.pid;
    await first.kill9();
    expect(readFileSync(path.join(first.dir, 'ringkv.lock'), 'utf8')).toContain(`"pid":${oldPid}`);
    await first.restart();
    expect(readFileSync(path.join(first.dir, 'ringkv.lock'), 'utf8')).toContain(`"pid":${first.proc.pid}`);
    const d = new Redis({ port: first.port, lazyConnect: true, maxRetriesPerRequest: 0 });
    await d.connect();
    expect(await d.get('kept')).toBe('yes');
    d.disconnect();
    expect(await first.stop()).toBe(0);
    expect(existsSync(path.join(first.dir, 'ringkv.lock'))).toBe(false);
    await first.restart();
  });
});

describe('CONFIG SET checks settings as a whole, with Redis 7.0 error texts', () => {
  let node: NodeProcess;
  let r: Redis;
  beforeAll(async () => {
    node = await startNode({ args: ['--appendfsync', 'no'] });
    r = new Redis({ port: node.port, maxRetriesPerRequest: 0 });
  });
  afterAll(async () => {
    r?.disconnect();
    await node?.stop();
  });

  const configSet = (...args: string[]): Promise<unknown> => r.call('config', 'set', ...args);
  const configGet = async (name: string): Promise<string> => ((await r.call('config', 'get', name)) as string[])[1]!;

  it('W and R above N are refused, naming the setting', async () => {
    await expect(configSet('write-quorum', '5')).rejects.toThrow(
      "ERR CONFIG SET failed (possibly related to argument 'write-quorum') - write-quorum (5) must not exceed replication-factor (3)");
    await expect(configSet('read-quorum', '4')).rejects.toThrow(
      "ERR CONFIG SET failed (possibly related to argument 'read-quorum') - read-quorum (4) must not exceed replication-factor (3)");
    await expect(configSet('write-quorum', '0')).rejects.toThrow(
      "ERR CONFIG SET failed (possibly related to argument 'write-quorum') - argument must be between 1 and 16 inclusive");
    expect(await configGet('write-quorum')).toBe('2');
  });

  it('pairs are checked together and applied all or none', async () => {
    expect(await configSet('replication-factor', '5', 'write-quorum', '4')).toBe('OK');
    expect(await configGet('write-quorum')).toBe('4');
    await expect(configSet('replication-factor', '3')).rejects.toThrow(
      "ERR CONFIG SET failed (possibly related to argument 'replication-factor') - write-quorum (4) must not exceed replication-factor (3)");
    await expect(configSet('hz', '20', 'read-quorum', '9')).rejects.toThrow("(possibly related to argument 'read-quorum')");
    expect(await configGet('hz')).toBe('10');
    expect(await configSet('write-quorum', '2', 'replication-factor', '3')).toBe('OK');
  });

  it('value, duplicate, immutable and unknown errors read as in Redis 7.0', async () => {
    await expect(configSet('maxclients', 'abc')).rejects.toThrow(
      "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer");
    await expect(configSet('appendfsync', 'sometimes')).rejects.toThrow(
      "ERR CONFIG SET failed (possibly related to argument 'appendfsync') - argument(s) must be one of the following: everysec, always, no");
    await expect(configSet('protected-mode', 'maybe')).rejects.toThrow(
      "ERR CONFIG SET failed (possibly related to argument 'protected-mode') - argument must be 'yes' or 'no'");
    await expect(configSet('hz', '11', 'hz', '12')).rejects.toThrow(
      "ERR CONFIG SET failed (possibly related to argument 'hz') - duplicate parameter");
    await expect(configSet('port', '1')).rejects.toThrow(
      "ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config");
    await expect(configSet('nosuch', '1')).rejects.toThrow("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'");
  });
});

describe('--help, -h and --version on every command', () => {
  it('print usage or the version and exit 0', async () => {
    const helps = [['--help'], ['-h'], ['server', '--help'], ['server', '-h'], ['cluster', 'start', '--help'], ['cluster', 'start', '-h'], ['status', '--help'], ['status', '-h']];
    for (const args of helps) {
      const r = await ringkv(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout, args.join(' ')).toMatch(/Usage:?/);
      expect(r.stderr).toBe('');
    }
    for (const args of [['--version'], ['server', '--version'], ['cluster', 'start', '--version'], ['status', '--version']]) {
      const r = await ringkv(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^ringkv \d+\.\d+\.\d+\n$/);
    }
  });

  it('`cluster start --help` starts nothing, and a bad option is refused before anything starts', async () => {
    const port = await freePort();
    const dir = tempDir();
    const help = await ringkv(['cluster', 'start', '--nodes', '1', '--base-port', String(port), '--dir', dir, '--help']);
    expect(help.code).toBe(0);
    const bad = await ringkv(['cluster', 'start', '--nodes', '1', '--base-port', String(port), '--dir', dir, '--bogus', 'x']);
    expectOneLineFailure(bad, /Unknown setting 'bogus'/);
    const quorum = await ringkv(['cluster', 'start', '--nodes', '1', '--base-port', String(port), '--dir', dir, '--write-quorum', '4']);
    expectOneLineFailure(quorum, /write-quorum \(4\) must not exceed replication-factor \(3\)/);
    expect(readdirSync(dir)).toEqual([]);
    expect(await listening(port)).toBe(false);
  });

  it('the unbundled entry tsc writes, dist/src/cli.js, answers as the bundle does', async () => {
    const unbundled = await run(process.execPath, [path.join(ROOT, 'dist/src/cli.js'), '--version']);
    const bundled = await ringkv(['--version']);
    expect(unbundled).toEqual({ code: 0, stdout: bundled.stdout, stderr: '' });
  });

  it('unknown options and commands are one clear line', async () => {
    expectOneLineFailure(await ringkv(['status', '--bogus']), /^ringkv status: unknown option '--bogus' \(see ringkv status --help\)$/);
    expectOneLineFailure(await ringkv(['launch']), /^ringkv: unknown command 'launch' \(see ringkv --help\)$/);
    expectOneLineFailure(await ringkv(['cluster', 'stop']), /unknown subcommand 'stop'/);
  });
});

/** A non-loopback IPv4 address of this host, if it has one. */
function externalAddress(): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal && !isLoopbackAddress(a.address)) return a.address;
  }
  return undefined;
}

/** Connects from this host to `host:port`, sends `payload`, and returns what came back and whether the server closed. */
function exchange(host: string, port: number, payload: string): Promise<{ data: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host);
    let data = '';
    const timer = setTimeout(() => (s.destroy(), resolve({ data, closed: false })), 2000);
    s.on('connect', () => s.write(payload));
    s.on('data', (d: Buffer) => (data += d.toString()));
    s.on('close', () => (clearTimeout(timer), resolve({ data, closed: true })));
    s.on('error', (err) => (clearTimeout(timer), data === '' ? reject(err) : resolve({ data, closed: true })));
  });
}

describe('protected mode', () => {
  it('the decision: loopback always, others only with a password or protected-mode no', () => {
    for (const a of ['127.0.0.1', '127.0.0.2', '::1', '::ffff:127.0.0.1']) expect(protectedModeRefuses(true, true, a)).toBe(false);
    for (const a of ['192.0.2.7', '10.0.0.1', '::ffff:10.0.0.1', 'fd00::2', undefined]) expect(protectedModeRefuses(true, true, a)).toBe(true);
    expect(protectedModeRefuses(true, false, '10.0.0.1')).toBe(false);
    expect(protectedModeRefuses(false, true, '10.0.0.1')).toBe(false);
  });

  const ip = externalAddress();
  it.skipIf(ip === undefined)('a client from a non-loopback address gets Redis 7.0 -DENIED and is closed', async () => {
    const node = await startNode({ args: ['--bind', '0.0.0.0', '--appendfsync', 'no'] });
    try {
      const denied = await exchange(ip!, node.port, 'PING\r\n');
      expect(denied.data).toBe(`-${PROTECTED_MODE_DENIED}\r\n`);
      expect(denied.closed).toBe(true);
      expect(denied.data).toContain("4) Setup a an authentication password for the default user.");
      // Loopback clients are served, and can lift protection.
      const local = new Redis({ port: node.port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
      expect(await local.ping()).toBe('PONG');
      expect(await local.call('config', 'get', 'protected-mode')).toEqual(['protected-mode', 'yes']);
      await local.call('config', 'set', 'protected-mode', 'no');
      expect((await exchange(ip!, node.port, 'PING\r\nQUIT\r\n')).data).toBe('+PONG\r\n+OK\r\n');
      // With a password the remote client is accepted (and must AUTH), protected mode or not.
      await local.call('config', 'set', 'protected-mode', 'yes', 'requirepass', 'pw');
      expect((await exchange(ip!, node.port, 'PING\r\nAUTH pw\r\nPING\r\nQUIT\r\n')).data)
        .toBe('-NOAUTH Authentication required.\r\n+OK\r\n+PONG\r\n+OK\r\n');
      // The default user is what counts (Redis 7.0): requirepass unset makes it nopass again ...
      await local.call('config', 'set', 'requirepass', '');
      expect((await exchange(ip!, node.port, 'PING\r\n')).data).toBe(`-${PROTECTED_MODE_DENIED}\r\n`);
      // ... and a password given by ACL SETUSER, or no nopass at all, protects it like requirepass.
      await local.call('acl', 'setuser', 'default', '>aclpw');
      expect((await exchange(ip!, node.port, 'PING\r\nAUTH aclpw\r\nPING\r\nQUIT\r\n')).data)
        .toBe('-NOAUTH Authentication required.\r\n+OK\r\n+PONG\r\n+OK\r\n');
      await local.call('acl', 'setuser', 'default', 'resetpass');
      expect((await exchange(ip!, node.port, 'PING\r\nQUIT\r\n')).data).toBe('-NOAUTH Authentication required.\r\n+OK\r\n');
      local.disconnect();
    } finally {
      await node.stop();
    }
  });
});

describe('the container HEALTHCHECK', () => {
  const healthcheck = (port: number, env: NodeJS.ProcessEnv): Promise<number | null> => new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'dist/src/tools/healthcheck.js')], { env: { ...process.env, RINGKV_PORT: String(port), ...env }, stdio: 'ignore' });
    live.add(p);
    p.on('exit', (code) => (live.delete(p), resolve(code)));
  });

  it('passes on PONG (after AUTH with the password), fails on a wrong password or no server', async () => {
    const node = await startNode({ args: ['--appendfsync', 'no'], env: { RINGKV_REQUIREPASS: 'pw' } });
    try {
      expect(await healthcheck(node.port, { RINGKV_REQUIREPASS: 'pw' })).toBe(0);
      expect(await healthcheck(node.port, { RINGKV_REQUIREPASS: 'wrong' })).toBe(1);
      // A password from a config file the check does not know: -NOAUTH still shows a serving node.
      expect(await healthcheck(node.port, { RINGKV_REQUIREPASS: '' })).toBe(0);
    } finally {
      await node.stop();
    }
    expect(await healthcheck(node.port, {})).toBe(1);
  });
});

describe('logs', () => {
  it('are JSON lines when stdout is not a terminal', async () => {
    const node = await startNode({ args: ['--loglevel', 'notice'] });
    try {
      await waitFor('the ready line', () => node.output().includes('Ready to accept connections'), 10000);
      const ready = node.output().split('\n').find((l) => l.includes('Ready to accept connections'))!;
      expect(JSON.parse(ready)).toMatchObject({ level: 30, msg: 'Ready to accept connections', port: node.port });
    } finally {
      await node.stop();
    }
  });

  // `script` gives the server a pseudo-terminal as stdout, as a person running it has.
  it.skipIf(!hasBinary('script'))('are one readable line each on a terminal', async () => {
    const dir = tempDir();
    const port = await freePort();
    const p = spawn('script', ['-qc', `${process.execPath} ${CLI} server --port ${port} --dir ${dir}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(p);
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor('the ready line', () => out.includes('Ready to accept connections'), 20000);
      const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
      expect(plain).toMatch(new RegExp(`^\\[\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\] INFO: Ready to accept connections  port=${port}  bind=\\["127\\.0\\.0\\.1"\\]  nodeId=[0-9a-f]{40}\\r?$`, 'm'));
      expect(plain).not.toContain('{"level"');
    } finally {
      const pid = (JSON.parse(readFileSync(path.join(dir, 'ringkv.lock'), 'utf8')) as { pid: number }).pid;
      process.kill(pid, 'SIGTERM');
      await new Promise((r) => (p.exitCode !== null ? r(undefined) : p.once('exit', r)));
    }
  });
});

/** A base port whose next `count` ports and their bus ports (+10000) are all free. */
async function freeRun(count: number): Promise<number> {
  const free = (port: number): Promise<boolean> => new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = candidatePort();
    let ok = true;
    // Client port, bus port (+10000) and the local cluster's dashboard port (+100) of every node.
    for (let i = 0; i < count && ok; i++) ok = (await free(base + i)) && (await free(base + i + 10000)) && (await free(base + i + 100));
    if (ok) return base;
  }
  throw new Error('no run of free ports');
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** One field of a node's INFO server. */
async function infoField(port: number, field: string): Promise<string | undefined> {
  const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await r.connect();
    return new RegExp(`\r\n${field}:(.*)\r\n`).exec(await r.info('server'))?.[1];
  } finally {
    r.disconnect();
  }
}

describe('the local cluster (npm start) heals', () => {
  it('a killed node is reported, restarted and serves again; the others keep running; SIGINT stops all', async () => {
    const base = await freeRun(3);
    const dir = tempDir();
    const launcher = spawn(process.execPath, [CLI, 'cluster', 'start', '--nodes', '3', '--base-port', String(base), '--dir', dir, '--appendfsync', 'no'], { stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(launcher);
    let out = '';
    launcher.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    launcher.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const lockPid = (port: number): number => (JSON.parse(readFileSync(path.join(dir, `node-${port}`, 'ringkv.lock'), 'utf8')) as { pid: number }).pid;
    try {
      await waitFor('the cluster to form', () => out.includes('is up on ports'), 60000);
      const pids = [base, base + 1, base + 2].map(lockPid);
      // The nodes run from the script the launcher runs from (INFO's executable), and say which port in ps.
      expect(await infoField(base, 'executable')).toBe(CLI);
      expect(readFileSync(`/proc/${pids[0]}/cmdline`, 'utf8').split('\0')[0]).toBe(`ringkv 127.0.0.1:${base} [cluster]`);

      const victim = base + 1;
      process.kill(pids[1]!, 'SIGKILL');
      await waitFor('the death report', () => out.includes(`node on port ${victim} (pid ${pids[1]}) killed by SIGKILL`), 10000);
      expect(out).toMatch(new RegExp(`nodes ${base}, ${base + 2} keep serving; restarting it in 1\\.0 s`));
      await waitFor('the node to come back', () => out.includes(`node on port ${victim} is back`), 30000);
      const back = lockPid(victim);
      expect(back).not.toBe(pids[1]);
      expect(pidAlive(back)).toBe(true);
      // The others were never restarted.
      expect([lockPid(base), lockPid(base + 2)]).toEqual([pids[0], pids[2]]);
      const v = new Redis({ port: victim, maxRetriesPerRequest: 0 });
      expect(await v.ping()).toBe('PONG');
      v.disconnect();
      // The others saw it go and come back, by id prefix and address.
      await waitFor('the membership log', () => /node [0-9a-f]{12} \(127\.0\.0\.1:\d+\) (recovered|restarted)/.test(readFileSync(path.join(dir, `node-${base}`, 'ringkv.log'), 'utf8')), 20000);

      launcher.kill('SIGINT');
      const code = await new Promise<number | null>((resolve) => launcher.once('exit', (c) => resolve(c)));
      expect(code).toBe(0);
      for (const pid of [pids[0]!, back, pids[2]!]) expect(pidAlive(pid)).toBe(false);
      expect(out).toContain('stopping the local cluster');
    } finally {
      // The nodes end with the launcher: their stdin is its pipe.
      if (launcher.exitCode === null && launcher.signalCode === null) launcher.kill('SIGKILL');
    }
  }, 120000);
});
