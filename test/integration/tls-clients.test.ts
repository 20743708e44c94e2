/**
 * Goal: a node serves TLS clients as Redis 7.0 does: the stock clients (ioredis, node-redis,
 * redis-py, redis-cli) work over TLS, client certificates are required, optional or not asked for
 * as tls-auth-clients says, certificates from another CA or out of date are refused, the plain and
 * TLS ports are served at once (or TLS alone with port 0), CONFIG SET reloads certificates for new
 * connections while old ones go on, and a start with an unusable certificate fails in one line.
 * Method: real node processes on free ports with certificates made by the openssl command line in a
 * temporary directory; every check goes through a real TLS handshake, and which certificate the
 * server presented is read from the handshake itself (its SHA-256 fingerprint).
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { CLI, freePort, hasBinary, run, startNode, tempDir, type NodeProcess } from '../helpers/server.js';
import { PYTHON, redisPyMissing } from '../helpers/redis-py.js';
import { fingerprintOf, TestPki, type Authority, type CertPair } from '../helpers/tls-certs.js';
import { sessionResumed, tlsExchange, tlsOptions, tlsPingOk } from '../helpers/tls-client.js';

let pki: TestPki;
let ca: Authority;
let server: CertPair;
let server2: CertPair;
let client: CertPair;
let strangerClient: CertPair;
let expiredClient: CertPair;
let encryptedServerKey: string;

beforeAll(() => {
  pki = new TestPki();
  ca = pki.authority('ca');
  server = pki.leaf(ca, 'server');
  server2 = pki.leaf(ca, 'server2');
  client = pki.leaf(ca, 'client');
  const otherCa = pki.authority('other-ca');
  strangerClient = pki.leaf(otherCa, 'stranger');
  expiredClient = pki.leaf(ca, 'expired', { start: '20200101000000Z', end: '20200102000000Z' });
  encryptedServerKey = pki.encryptedKey(server.key, 'open sesame');
});

function tlsArgs(tlsPort: number, pair: CertPair = server, extra: string[] = []): string[] {
  return ['--tls-port', String(tlsPort), '--tls-cert-file', pair.cert, '--tls-key-file', pair.key, '--tls-ca-cert-file', ca.cert, ...extra];
}

const ioredisTls = (port: number, pair: CertPair | undefined = client): Redis =>
  new Redis({ port, host: '127.0.0.1', tls: tlsOptions({ ca: ca.cert, ...(pair ? { client: pair } : {}) }), maxRetriesPerRequest: 1, retryStrategy: () => null });

describe('a node with port and tls-port', () => {
  let node: NodeProcess;
  let tlsPort: number;
  const opened: Redis[] = [];

  beforeAll(async () => {
    tlsPort = await freePort();
    node = await startNode({ args: tlsArgs(tlsPort) });
  });
  afterAll(async () => {
    for (const r of opened) r.disconnect();
    await node?.stop();
  });

  it('serves plain clients on port and TLS clients on tls-port at the same time', async () => {
    const plain = new Redis({ port: node.port, host: '127.0.0.1' });
    const secure = ioredisTls(tlsPort);
    opened.push(plain, secure);
    await plain.set('shared', 'from-plain');
    expect(await secure.get('shared')).toBe('from-plain');
    await secure.set('shared', 'from-tls');
    expect(await plain.get('shared')).toBe('from-tls');
    // The TLS port does not speak plain RESP, and INFO names both listeners.
    const info = (await secure.info('server')) as string;
    expect(info).toContain(`tcp_port:${node.port}`);
    expect(info).toContain(`listener1:name=tls,bind=127.0.0.1,port=${tlsPort}`);
  });

  it('ioredis: SET/GET, a pipeline and concurrent clients over TLS', async () => {
    const r = ioredisTls(tlsPort);
    opened.push(r);
    expect(await r.set('io:k', 'v1')).toBe('OK');
    expect(await r.get('io:k')).toBe('v1');
    const p = r.pipeline();
    for (let i = 0; i < 500; i++) p.set(`io:p:${i}`, `v${i}`);
    for (let i = 0; i < 500; i++) p.get(`io:p:${i}`);
    const replies = (await p.exec())!;
    expect(replies.slice(500).map(([err, v]) => (err ? String(err) : v))).toEqual(Array.from({ length: 500 }, (_, i) => `v${i}`));
    const clients = Array.from({ length: 8 }, () => ioredisTls(tlsPort));
    opened.push(...clients);
    await Promise.all(clients.map(async (c, n) => {
      await Promise.all(Array.from({ length: 50 }, (_, i) => c.set(`io:c:${n}:${i}`, `${n}-${i}`)));
      const got = await Promise.all(Array.from({ length: 50 }, (_, i) => c.get(`io:c:${n}:${i}`)));
      expect(got).toEqual(Array.from({ length: 50 }, (_, i) => `${n}-${i}`));
    }));
  });

  it('node-redis: SET/GET and a pipeline over TLS', async () => {
    const opts = tlsOptions({ ca: ca.cert, client });
    const r = createClient({ socket: { host: '127.0.0.1', port: tlsPort, tls: true, ca: opts.ca, cert: opts.cert, key: opts.key, servername: 'localhost', reconnectStrategy: false } });
    r.on('error', () => undefined);
    await r.connect();
    try {
      expect(await r.set('nr:k', 'node-redis')).toBe('OK');
      expect(await r.get('nr:k')).toBe('node-redis');
      const multi = r.multi();
      for (let i = 0; i < 100; i++) multi.set(`nr:p:${i}`, String(i));
      await multi.execAsPipeline();
      const got = await Promise.all(Array.from({ length: 100 }, (_, i) => r.get(`nr:p:${i}`)));
      expect(got).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
    } finally {
      r.destroy();
    }
  });

  it.skipIf(redisPyMissing !== undefined)('redis-py: SET/GET and a pipeline with ssl=True', async () => {
    const script = [
      'import json, sys, redis',
      'a = json.loads(sys.argv[1])',
      "r = redis.Redis(host='127.0.0.1', port=a['port'], ssl=True, ssl_ca_certs=a['ca'], ssl_certfile=a['cert'], ssl_keyfile=a['key'], decode_responses=True)",
      "out = [r.set('py:k', 'redis-py'), r.get('py:k')]",
      'p = r.pipeline(transaction=False)',
      "for i in range(200): p.set('py:p:%d' % i, str(i))",
      "for i in range(200): p.get('py:p:%d' % i)",
      'res = p.execute()',
      'out.append(res[200:])',
      'print(json.dumps(out))',
    ].join('\n');
    const r = await run(PYTHON, ['-c', script, JSON.stringify({ port: tlsPort, ca: ca.cert, cert: client.cert, key: client.key })]);
    expect(r.code, r.stderr).toBe(0);
    const [set, get, gets] = JSON.parse(r.stdout) as [boolean, string, string[]];
    expect(set).toBe(true);
    expect(get).toBe('redis-py');
    expect(gets).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
  });

  it.runIf(hasBinary('redis-cli'))('redis-cli --tls --cert --key --cacert', async () => {
    const cli = (...args: string[]) => run('redis-cli', ['--tls', '--cert', client.cert, '--key', client.key, '--cacert', ca.cert, '-p', String(tlsPort), ...args]);
    expect((await cli('set', 'cli:k', 'redis-cli')).stdout.trim()).toBe('OK');
    expect((await cli('get', 'cli:k')).stdout.trim()).toBe('redis-cli');
    // Without a client certificate the node refuses it (tls-auth-clients yes).
    const refused = await run('redis-cli', ['--tls', '--cacert', ca.cert, '-p', String(tlsPort), 'ping']);
    expect(refused.stdout + refused.stderr).not.toContain('PONG');
  });

  it('tls-auth-clients yes: no client certificate, one from another CA, or an expired one is refused', async () => {
    const good = await tlsExchange(tlsPort, { ca: ca.cert, client }, 'PING\r\n');
    expect(good.data).toBe('+PONG\r\n');
    for (const [what, pair] of [['none', undefined], ['another CA', strangerClient], ['expired', expiredClient]] as const) {
      const r = await tlsExchange(tlsPort, { ca: ca.cert, ...(pair ? { client: pair } : {}) }, 'PING\r\n');
      // TLSv1.3 checks the client's certificate after the client considers the handshake done: the
      // refusal arrives as an alert or a closed connection, and never as a reply.
      expect(r.data, what).toBe('');
      expect(r.error, what).not.toBe('timeout');
    }
  });

  it('tls-auth-clients optional: served without a certificate, a bad one is still refused; no: not asked for', async () => {
    const admin = ioredisTls(tlsPort);
    opened.push(admin);
    try {
      expect(await admin.config('SET', 'tls-auth-clients', 'optional')).toBe('OK');
      expect((await tlsExchange(tlsPort, { ca: ca.cert }, 'PING\r\n')).data).toBe('+PONG\r\n');
      expect((await tlsExchange(tlsPort, { ca: ca.cert, client }, 'PING\r\n')).data).toBe('+PONG\r\n');
      const stranger = await tlsExchange(tlsPort, { ca: ca.cert, client: strangerClient }, 'PING\r\n');
      expect(stranger.data).not.toContain('PONG');
      expect(await admin.config('SET', 'tls-auth-clients', 'no')).toBe('OK');
      expect((await tlsExchange(tlsPort, { ca: ca.cert }, 'PING\r\n')).data).toBe('+PONG\r\n');
      expect(await admin.config('GET', 'tls-auth-clients')).toEqual(['tls-auth-clients', 'no']);
    } finally {
      await admin.config('SET', 'tls-auth-clients', 'yes');
    }
    expect((await tlsExchange(tlsPort, { ca: ca.cert }, 'PING\r\n')).data).not.toContain('PONG');
  });

  it('tls-session-caching: a session is resumed while on, not after CONFIG SET tls-session-caching no', async () => {
    const admin = ioredisTls(tlsPort);
    opened.push(admin);
    expect(await sessionResumed(tlsPort, { ca: ca.cert, client })).toBe(true);
    try {
      expect(await admin.config('SET', 'tls-session-caching', 'no')).toBe('OK');
      expect(await sessionResumed(tlsPort, { ca: ca.cert, client })).toBe(false);
    } finally {
      await admin.config('SET', 'tls-session-caching', 'yes');
    }
    expect(await sessionResumed(tlsPort, { ca: ca.cert, client })).toBe(true);
  });

  it('a client that trusts another CA refuses the server', async () => {
    const otherCaOnly = await tlsExchange(tlsPort, { ca: pki.authority('unrelated-ca').cert, client }, 'PING\r\n');
    expect(otherCaOnly.data).toBe('');
    expect(otherCaOnly.error).toMatch(/certificate/i);
  });

  it('CONFIG SET of the certificate: new connections get the new one, open ones keep working; a bad file changes nothing', async () => {
    const before = await tlsExchange(tlsPort, { ca: ca.cert, client }, 'PING\r\n');
    expect(before.fingerprint).toBe(fingerprintOf(server.cert));
    const old = ioredisTls(tlsPort);
    opened.push(old);
    await old.set('reload:k', 'before');

    expect(await old.config('SET', 'tls-cert-file', server2.cert, 'tls-key-file', server2.key)).toBe('OK');
    const after = await tlsExchange(tlsPort, { ca: ca.cert, client }, 'PING\r\n');
    expect(after.data).toBe('+PONG\r\n');
    expect(after.fingerprint).toBe(fingerprintOf(server2.cert));
    expect(after.fingerprint).not.toBe(before.fingerprint);
    // The connection made before the reload goes on with its session.
    expect(await old.get('reload:k')).toBe('before');
    expect(await old.set('reload:k', 'after')).toBe('OK');

    // A key that does not belong to the certificate, a missing file: refused, one line, old context kept.
    const mismatch = await old.config('SET', 'tls-key-file', server.key).catch((e: Error) => e.message);
    expect(mismatch).toMatch(/^ERR CONFIG SET failed \(possibly related to argument 'tls-key-file'\) - Unable to update TLS configuration: .*does not match/);
    const missing = await old.config('SET', 'tls-cert-file', path.join(pki.dir, 'nope.crt')).catch((e: Error) => e.message);
    expect(missing).toMatch(/tls-cert-file .*nope\.crt: no such file or directory/);
    expect(String(missing)).not.toContain('\n');
    expect(await old.config('GET', 'tls-cert-file')).toEqual(['tls-cert-file', server2.cert]);
    expect((await tlsExchange(tlsPort, { ca: ca.cert, client }, 'PING\r\n')).fingerprint).toBe(fingerprintOf(server2.cert));

    // Rotation in place: the same path, new contents, re-read by CONFIG SET of the same value.
    const rotating = path.join(tempDir(), 'rotating.crt');
    const rotatingKey = rotating.replace(/\.crt$/, '.key');
    writeFileSync(rotating, readFileSync(server.cert));
    writeFileSync(rotatingKey, readFileSync(server.key));
    await old.config('SET', 'tls-cert-file', rotating, 'tls-key-file', rotatingKey);
    expect((await tlsExchange(tlsPort, { ca: ca.cert, client }, 'PING\r\n')).fingerprint).toBe(fingerprintOf(server.cert));
    writeFileSync(rotating, readFileSync(server2.cert));
    writeFileSync(rotatingKey, readFileSync(server2.key));
    await old.config('SET', 'tls-cert-file', rotating, 'tls-key-file', rotatingKey);
    expect((await tlsExchange(tlsPort, { ca: ca.cert, client }, 'PING\r\n')).fingerprint).toBe(fingerprintOf(server2.cert));
  });
});

describe('port 0: TLS only', () => {
  let node: NodeProcess;
  let tlsPort: number;

  beforeAll(async () => {
    tlsPort = await freePort();
    // An encrypted key with its passphrase, too.
    node = await startNode({
      args: [...tlsArgs(tlsPort, { cert: server.cert, key: encryptedServerKey }, ['--tls-key-file-pass', 'open sesame']), '--port', '0'],
      ready: () => tlsPingOk(tlsPort, { ca: ca.cert, client }),
    });
  });
  afterAll(async () => {
    await node?.stop();
  });

  it('serves TLS clients and no plain port', async () => {
    const r = ioredisTls(tlsPort);
    try {
      await r.set('only', 'tls');
      expect(await r.get('only')).toBe('tls');
      expect(await r.info('server')).toContain('tcp_port:0');
    } finally {
      r.disconnect();
    }
    // Nothing listens on the port the helper drew for it.
    const plain = new Redis({ port: node.port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    plain.on('error', () => undefined);
    await expect(plain.connect()).rejects.toThrow();
    plain.disconnect();
  });
});

/** Runs `ringkv server <args>` expecting it to fail at start; returns its exit code and stderr. */
function failedStart(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, 'server', '--dir', tempDir(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`still running: ${stderr}`));
    }, 15000);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('a start with unusable TLS settings', () => {
  const expectOneLine = (r: { code: number | null; stderr: string }, pattern: RegExp): void => {
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^ringkv: /);
    expect(lines[0]).toMatch(pattern);
  };

  it('a missing certificate file', async () => {
    const port = await freePort();
    const r = await failedStart(['--port', String(port), ...tlsArgs(await freePort(), { cert: path.join(pki.dir, 'missing.crt'), key: server.key })]);
    expectOneLine(r, /cannot read tls-cert-file .*missing\.crt: no such file or directory \(ENOENT\)/);
  });

  it('a wrong key passphrase, and an encrypted key without one', async () => {
    const port = await freePort();
    const wrong = await failedStart(['--port', String(port), ...tlsArgs(await freePort(), { cert: server.cert, key: encryptedServerKey }, ['--tls-key-file-pass', 'wrong'])]);
    expectOneLine(wrong, /cannot load tls-key-file .*: wrong passphrase/);
    const none = await failedStart(['--port', String(port), ...tlsArgs(await freePort(), { cert: server.cert, key: encryptedServerKey })]);
    expectOneLine(none, /cannot load tls-key-file .*: (the key is encrypted: set its passphrase|wrong passphrase)/);
  });

  it('a key that is not the certificate\'s, and a file that is no key', async () => {
    const port = await freePort();
    expectOneLine(await failedStart(['--port', String(port), ...tlsArgs(await freePort(), { cert: server.cert, key: server2.key })]),
      /tls-key-file .*server2\.key does not match the certificate in tls-cert-file/);
    expectOneLine(await failedStart(['--port', String(port), ...tlsArgs(await freePort(), { cert: server.cert, key: ca.cert })]),
      /cannot load tls-key-file .*: not a usable PEM private key/);
  });

  it('tls-port without a certificate, and client certificates without a CA', async () => {
    const port = await freePort();
    expectOneLine(await failedStart(['--port', String(port), '--tls-port', String(await freePort())]), /no tls-cert-file configured/);
    expectOneLine(await failedStart(['--port', String(port), '--tls-port', String(await freePort()), '--tls-cert-file', server.cert, '--tls-key-file', server.key]),
      /tls-ca-cert-file or tls-ca-cert-dir must be specified/);
  });
});
