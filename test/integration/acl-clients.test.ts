/**
 * Goal: the client libraries and tools people use connect as ACL users and see NOPERM as Redis
 * sends it: ioredis and node-redis (username/password options, RESP2 and RESP3), redis-py
 * (`redis.Redis(username=…, password=…)`) and redis-cli `--user --pass`.
 * Method: one ringkv node with requirepass (the default user has a password) and a restricted user;
 * each client authenticates, runs an allowed and a forbidden command, and fails with a wrong password.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { hasBinary, run, startNode, type NodeProcess } from '../helpers/server.js';
import { PYTHON, redisPyMissing } from '../helpers/redis-py.js';

let node: NodeProcess;
beforeAll(async () => {
  node = await startNode({ args: ['--appendfsync', 'no', '--requirepass', 'adminpw', '--user', 'app on >apppw ~app:* +@read +@write -@dangerous'] });
});
afterAll(async () => {
  await node?.stop();
});

describe('ACL users from client libraries', () => {
  it('ioredis with username and password, RESP2 and RESP3', async () => {
    for (const protocol of [2, 3] as const) {
      const r = new Redis({ port: node.port, username: 'app', password: 'apppw', protocol, lazyConnect: true, maxRetriesPerRequest: 0 });
      try {
        await r.connect();
        expect(await r.set('app:1', 'v')).toBe('OK');
        expect(await r.get('app:1')).toBe('v');
        await expect(r.get('other')).rejects.toThrow('NOPERM this user has no permissions to access one of the keys used as arguments');
        await expect(r.call('acl', 'whoami')).rejects.toThrow("NOPERM this user has no permissions to run the 'acl|whoami' command");
      } finally {
        r.disconnect();
      }
    }
    const bad = new Redis({ port: node.port, username: 'app', password: 'nope', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    const failure = new Promise<string>((resolve) => bad.once('error', (e: Error) => resolve(e.message)));
    try {
      await bad.connect().catch(() => undefined);
      expect(await failure).toMatch(/^WRONGPASS invalid username-password pair or user is disabled\.$/);
    } finally {
      bad.disconnect();
    }
  });

  it('node-redis with username and password', async () => {
    for (const RESP of [2, 3] as const) {
      const c = createClient({ socket: { port: node.port, reconnectStrategy: false }, username: 'app', password: 'apppw', RESP } as Parameters<typeof createClient>[0]);
      c.on('error', () => undefined);
      await c.connect();
      try {
        expect(await c.set('app:2', 'v')).toBe('OK');
        await expect(c.get('other')).rejects.toThrow(/NOPERM/);
        expect(await c.sendCommand(['ACL', 'WHOAMI']).catch((e: Error) => e.message)).toMatch(/NOPERM/);
      } finally {
        await c.disconnect();
      }
    }
  });

  it.skipIf(redisPyMissing !== undefined)('redis-py with username and password', async () => {
    const script = `
import redis, json, sys
port = int(sys.argv[1])
out = []
r = redis.Redis(port=port, username='app', password='apppw')
out.append(r.set('app:3', 'v'))
out.append(r.get('app:3').decode())
try:
    r.get('other'); out.append('allowed')
except redis.exceptions.NoPermissionError as e:
    out.append('NoPermissionError: ' + str(e))
try:
    redis.Redis(port=port, username='app', password='nope').ping(); out.append('allowed')
except redis.exceptions.ResponseError as e:
    out.append(type(e).__name__ + ': ' + str(e))
print(json.dumps(out))
`;
    const r = await run(PYTHON, ['-c', script, String(node.port)]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([
      true, 'v',
      'NoPermissionError: this user has no permissions to access one of the keys used as arguments',
      // redis-py 4.3 raises a plain ResponseError for WRONGPASS at connect, against Redis too.
      expect.stringMatching(/Error: (WRONGPASS )?invalid username-password pair or user is disabled\.$/),
    ]);
  });

  it.skipIf(!hasBinary('redis-cli'))('redis-cli --user --pass', async () => {
    const cli = (...args: string[]): Promise<string> => run('redis-cli', ['-p', String(node.port), '--no-auth-warning', ...args]).then((r) => r.stdout.trim() + r.stderr.trim());
    expect(await cli('--user', 'app', '--pass', 'apppw', 'set', 'app:4', 'v')).toBe('OK');
    expect(await cli('--user', 'app', '--pass', 'apppw', 'get', 'app:4')).toBe('v');
    expect(await cli('--user', 'app', '--pass', 'apppw', 'flushall')).toBe("NOPERM this user has no permissions to run the 'flushall' command");
    expect(await cli('--user', 'app', '--pass', 'wrong', 'ping')).toMatch(/WRONGPASS invalid username-password pair or user is disabled\./);
    expect(await cli('-a', 'adminpw', 'acl', 'whoami')).toBe('default');
    expect(await cli('ping')).toMatch(/NOAUTH Authentication required\./);
  });
});
