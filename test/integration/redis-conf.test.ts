/**
 * Goal: a node runs from a redis.conf written for Redis 7.0, as redis-server does: every setting
 * Redis 7.0 lists is taken (what ringkv does differently is said at start-up, not refused), the
 * Unix socket, pid file, daemonize, optional bind addresses and CONFIG REWRITE work, and DEBUG /
 * protected settings follow enable-debug-command and enable-protected-configs.
 * Method: real node processes started from config files; redis-server (when installed) gives the
 * list of settings; redis-cli and raw connections talk to the node over TCP and the Unix socket.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { CLI, freePort, hasBinary, run, startNode, tempDir, type NodeProcess } from '../helpers/server.js';
import { RespConn } from '../helpers/resp-conn.js';
import { haveRedisServer, startRedisServer } from '../helpers/redis-reference.js';

const started: NodeProcess[] = [];
const pids: number[] = [];
afterEach(async () => {
  await Promise.allSettled(started.splice(0).map((n) => n.stop()));
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
});

async function node(opts: Parameters<typeof startNode>[0]): Promise<NodeProcess> {
  const n = await startNode(opts);
  started.push(n);
  return n;
}

/** Sends one command on a Unix socket and returns the raw reply. */
function unixCall(socketPath: string, ...argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ path: socketPath });
    let got = '';
    s.on('connect', () => s.write(`*${argv.length}\r\n${argv.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`));
    s.on('data', (d) => {
      got += d.toString();
      if (got.endsWith('\r\n')) {
        s.destroy();
        resolve(got);
      }
    });
    s.on('error', reject);
  });
}

const quote = (v: string): string => (v === '' || /[\s"'\\]/.test(v) ? JSON.stringify(v) : v);

describe('a redis.conf written for Redis 7.0', () => {
  it.skipIf(!haveRedisServer)('with every setting redis-server lists, starts a node that reports them as given', async () => {
    const redis = await startRedisServer();
    let pairs: Array<[string, string]>;
    const c = await RespConn.connect(redis.ports[0]!);
    try {
      const reply = await c.call('CONFIG', 'GET', '*') as { v: Array<{ v: Buffer }> };
      pairs = [];
      for (let i = 0; i < reply.v.length; i += 2) pairs.push([reply.v[i]!.v.toString(), reply.v[i + 1]!.v.toString()]);
    } finally {
      c.close();
      await redis.stop();
    }
    // Where and how this process runs: given by the test, not copied from the reference server.
    const local = new Set(['port', 'dir', 'bind', 'pidfile', 'logfile', 'daemonize', 'unixsocket', 'tls-port', 'cluster-enabled', 'loglevel', 'appendfsync']);
    const dir = tempDir();
    const file = path.join(dir, 'redis.conf');
    writeFileSync(file, pairs.filter(([k]) => !local.has(k)).map(([k, v]) => `${k} ${quote(v)}`).join('\n') + '\n');
    const n = await node({ configFile: file, args: ['--appendfsync', 'no'] });
    const conn = await RespConn.connect(n.port);
    try {
      const reply = await conn.call('CONFIG', 'GET', '*') as { v: Array<{ v: Buffer }> };
      const ours = new Map<string, string>();
      for (let i = 0; i < reply.v.length; i += 2) ours.set(reply.v[i]!.v.toString(), reply.v[i + 1]!.v.toString());
      const differing = pairs.filter(([k, v]) => !local.has(k) && ours.get(k) !== v).map(([k, v]) => `${k}: redis ${JSON.stringify(v)}, ringkv ${JSON.stringify(ours.get(k))}`);
      // databases: ringkv keeps one (said at start-up); io-threads and the like are shown as given.
      expect(differing).toEqual([`databases: redis "16", ringkv "1"`]);
    } finally {
      conn.close();
    }
    expect(n.output()).toMatch(/databases 16: ringkv keeps one database/);
  });

  it('serves clients on a Unix socket too, with its permissions, flag U and its path as address', async () => {
    const dir = tempDir();
    const sock = path.join(dir, 'ringkv.sock');
    // A socket file left by a node that died is taken over.
    const stale = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(sock)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    await new Promise((r) => stale.once('exit', r));
    expect(existsSync(sock)).toBe(true);
    const n = await node({ args: ['--unixsocket', sock, '--unixsocketperm', '700'] });
    expect(statSync(sock).mode & 0o777).toBe(0o700);
    expect(await unixCall(sock, 'SET', 'k', 'v')).toBe('+OK\r\n');
    const list = await unixCall(sock, 'CLIENT', 'INFO');
    expect(list).toContain(`addr=${sock}:0 laddr=${sock}:0 `);
    expect(list).toMatch(/ flags=U /);
    if (hasBinary('redis-cli')) expect((await run('redis-cli', ['-s', sock, 'GET', 'k'])).stdout.trim()).toBe('v');
    // A second node may not take the socket a live one serves.
    const second = await run(process.execPath, [CLI, 'server', '--port', String(await freePort()), '--dir', tempDir(), '--unixsocket', sock], undefined, 20000);
    expect(second.code).toBe(1);
    expect(second.stderr.trim()).toMatch(new RegExp(`^ringkv: cannot listen on ${sock.replace(/[.]/g, '\\.')} for clients \\(unixsocket\\).*address already in use`));
    await n.stop();
    started.splice(started.indexOf(n), 1);
    expect(existsSync(sock)).toBe(false);
  });

  it('reads its config from the standard input with `-`, as redis-server does', async () => {
    const port = await freePort();
    const dir = tempDir();
    const proc = spawn(process.execPath, [CLI, 'server', '-', '--dir', dir], { stdio: ['pipe', 'ignore', 'ignore'] });
    pids.push(proc.pid!);
    proc.stdin!.end(`port ${port}\nmaxmemory 5mb\n`);
    let reply = '';
    for (let i = 0; i < 100 && reply === ''; i++) {
      await new Promise((r) => setTimeout(r, 50));
      try {
        const c = await RespConn.connect(port);
        reply = (await c.pipelineText([['CONFIG', 'GET', 'maxmemory']]))[0]!;
        c.close();
      } catch {
        /* not up yet */
      }
    }
    expect(reply).toBe('["maxmemory" "5242880"]');
  });

  it('works in its data directory: relative paths are under dir, CONFIG GET dir is absolute', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'users.acl'), 'user default on nopass ~* &* +@all\nuser rel on >pw ~* +@all\n');
    const n = await node({ dir: path.relative(process.cwd(), dir), args: ['--aclfile', 'users.acl', '--pidfile', 'node.pid'] });
    const c = await RespConn.connect(n.port);
    try {
      expect(await c.pipelineText([['CONFIG', 'GET', 'dir'], ['AUTH', 'rel', 'pw']])).toEqual([`["dir" ${JSON.stringify(dir)}]`, '+OK']);
    } finally {
      c.close();
    }
    expect(readFileSync(path.join(dir, 'node.pid'), 'utf8').trim()).toBe(String(n.proc.pid));
  });

  it('a logfile that cannot be opened stops start-up with one line', async () => {
    const r = await run(process.execPath, [CLI, 'server', '--port', String(await freePort()), '--dir', tempDir(), '--logfile', '/nonexistent-dir/ringkv.log'], undefined, 20000);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('ringkv: cannot open logfile /nonexistent-dir/ringkv.log: no such file or directory (ENOENT)');
  });

  it('skips an optional bind address this host lacks, and stops on a required one', async () => {
    const n = await node({ args: ['--bind', '127.0.0.1 -192.0.2.1'] });
    expect(n.output()).toMatch(/optional bind address not available on this host: skipped/);
    const c = await RespConn.connect(n.port);
    expect(await c.call('PING')).toEqual({ t: 'simple', v: 'PONG' });
    c.close();
    const refused = await run(process.execPath, [CLI, 'server', '--port', String(await freePort()), '--dir', tempDir(), '--bind', '127.0.0.1 192.0.2.1'], undefined, 20000);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toMatch(/^ringkv: Failed listening on port \d+ \(tcp\), aborting: cannot listen on 192\.0\.2\.1:\d+ for clients \(port\): .*check bind$/);
  });

  it('daemonize yes returns at once and leaves the node serving, its pid in pidfile until it stops', async () => {
    const dir = tempDir();
    const port = await freePort();
    const pidfile = path.join(dir, 'ringkv.pid');
    const file = path.join(dir, 'd.conf');
    writeFileSync(file, `daemonize yes\npidfile ${pidfile}\nport ${port}\ndir ${dir}\nlogfile ${path.join(dir, 'log')}\nappendfsync no\n`);
    const launched = await run(process.execPath, [CLI, 'server', file], undefined, 20000);
    expect(launched.code).toBe(0);
    let pid = 0;
    for (let i = 0; i < 200 && pid === 0; i++) {
      if (existsSync(pidfile)) pid = Number(readFileSync(pidfile, 'utf8').trim());
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(pid).toBeGreaterThan(0);
    pids.push(pid);
    const c = await RespConn.connect(port);
    expect(await c.call('PING')).toEqual({ t: 'simple', v: 'PONG' });
    c.close();
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 200 && existsSync(pidfile); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(pidfile)).toBe(false);
    expect(readFileSync(path.join(dir, 'log'), 'utf8')).toMatch(/Ready to accept connections/);
  });
});

describe('the process title', () => {
  const titleOf = (pid: number): string => readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').split('\0')[0]!.trim();

  it.skipIf(process.platform !== 'linux')('follows proc-title-template, as Redis 7.0 sets it', async () => {
    const n = await node({});
    expect(titleOf(n.proc.pid!)).toBe(`ringkv 127.0.0.1:${n.port}`);
    const c = await RespConn.connect(n.port);
    try {
      expect(await c.pipelineText([
        ['CONFIG', 'SET', 'proc-title-template', 'TEST {title} {port} {tls-port} {{x {config-file}'],
        ['CONFIG', 'SET', 'proc-title-template', '{invalid-var}'],
      ])).toEqual(['+OK', "-ERR CONFIG SET failed (possibly related to argument 'proc-title-template') - template format is invalid or contains unknown variables"]);
    } finally {
      c.close();
    }
    expect(titleOf(n.proc.pid!)).toBe(`TEST ringkv ${n.port} 0 {x -`);
  });
});

describe('CONFIG REWRITE', () => {
  it('writes the settings in force and the ACL users into the file the node started from', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'r.conf');
    writeFileSync(file, '# kept\nmaxmemory-policy noeviction\nsave 900 1\nsave 300 10\nhash-max-ziplist-entries 100\n');
    const n = await node({ configFile: file });
    const c = await RespConn.connect(n.port);
    try {
      expect(await c.pipelineText([
        ['CONFIG', 'GET', 'save'],
        ['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru', 'hash-max-listpack-entries', '200', 'slowlog-max-len', '64'],
        ['ACL', 'SETUSER', 'app', 'on', '>secret', '~app:*', '+get', '+set'],
        ['CONFIG', 'REWRITE'],
      ])).toEqual(['["save" "900 1 300 10"]', '+OK', '+OK', '+OK']);
    } finally {
      c.close();
    }
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^# kept\nmaxmemory-policy allkeys-lru\nsave 900 1 300 10\nhash-max-listpack-entries 200\n# Generated by CONFIG REWRITE\n/);
    expect(text).toMatch(/\nslowlog-max-len 64\n/);
    expect(text).toMatch(/\nuser app on #[0-9a-f]{64} ~app:\* resetchannels -@all \+get \+set\n/);
    // Restarted from the file alone: the same settings and the user.
    await n.stop();
    await n.restart();
    const again = await RespConn.connect(n.port);
    try {
      expect(await again.pipelineText([
        ['CONFIG', 'GET', 'maxmemory-policy'], ['CONFIG', 'GET', 'hash-max-ziplist-entries'], ['CONFIG', 'GET', 'slowlog-max-len'],
        ['AUTH', 'app', 'secret'], ['SET', 'app:1', 'x'], ['SET', 'other', 'x'],
      ])).toEqual(['["maxmemory-policy" "allkeys-lru"]', '["hash-max-ziplist-entries" "200"]', '["slowlog-max-len" "64"]', '+OK', '+OK',
        '-NOPERM this user has no permissions to access one of the keys used as arguments']);
    } finally {
      again.close();
    }
  });

  it('answers Redis\'s error without a config file', async () => {
    const n = await node({});
    const c = await RespConn.connect(n.port);
    try {
      expect(await c.pipelineText([['CONFIG', 'REWRITE']])).toEqual(['-ERR The server is running without a config file']);
    } finally {
      c.close();
    }
  });
});

describe('protected commands and settings', () => {
  it('DEBUG and MODULE LOAD follow enable-*-command, protected settings enable-protected-configs', async () => {
    const off = await node({ args: ['--enable-debug-command', 'no'] });
    const c = await RespConn.connect(off.port);
    try {
      const replies = await c.pipelineText([['DEBUG', 'SLEEP', '0'], ['MODULE', 'LIST'], ['MODULE', 'LOAD', '/nonexistent.so'], ['CONFIG', 'SET', 'dbfilename', 'x.rdb'], ['CONFIG', 'SET', 'dir', '/tmp']]);
      expect(replies[0]).toBe('-ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.');
      expect(replies[1]).toBe('[]');
      expect(replies[2]).toMatch(/^-ERR MODULE command not allowed/);
      expect(replies[3]).toBe("-ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config");
      expect(replies[4]).toBe("-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config");
    } finally {
      c.close();
    }
    const local = await node({ args: ['--enable-protected-configs', 'local'] });
    const l = await RespConn.connect(local.port);
    try {
      // The default (local) lets this loopback client run DEBUG; dir is still fixed at start-up here.
      expect(await l.pipelineText([['DEBUG', 'SLEEP', '0'], ['CONFIG', 'SET', 'dbfilename', 'x.rdb'], ['CONFIG', 'GET', 'dbfilename'], ['CONFIG', 'SET', 'dir', '/tmp']]))
        .toEqual(['+OK', '+OK', '["dbfilename" "x.rdb"]', "-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set immutable config"]);
    } finally {
      l.close();
    }
  });
});
