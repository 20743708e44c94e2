/**
 * Goal: connection and server commands give the replies tools and client libraries check at connect
 * (INFO, COMMAND, CONFIG, CLIENT, AUTH), and requirepass guards everything.
 * Method: real ringkv processes (one open, one with requirepass), ioredis and raw sockets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Redis from 'ioredis';
import { rawExchange, startNode, type NodeProcess } from '../helpers/server.js';

let open: NodeProcess;
let locked: NodeProcess;
beforeAll(async () => {
  [open, locked] = await Promise.all([
    startNode({ args: ['--appendfsync', 'no'] }),
    startNode({ args: ['--appendfsync', 'no', '--requirepass', 's3cret'] }),
  ]);
});
afterAll(async () => {
  await Promise.all([open?.stop(), locked?.stop()]);
});

describe('server commands', () => {
  let r: Redis;
  beforeAll(() => {
    r = new Redis({ port: open.port, protocol: 2 });
  });
  afterAll(() => r.disconnect());

  it('INFO has the fields clients check, CRLF line ends', async () => {
    const info = await r.info();
    expect(info).toMatch(/^# Server\r\n/);
    expect(info).toMatch(/\r\nredis_version:7\.\d+\.\d+\r\n/);
    expect(info).toContain('\r\nloading:0\r\n');
    expect(info).toContain('\r\ncluster_enabled:0\r\n');
    await r.set('infokey', 'v');
    expect(await r.info('keyspace')).toMatch(/db0:keys=\d+,expires=\d+,avg_ttl=0/);
  });

  it('COMMAND table entries have Redis 7 shape', async () => {
    const all = (await r.call('command')) as unknown[][];
    const get = all.find((c) => c[0] === 'get')!;
    expect(get.slice(0, 6)).toEqual(['get', 2, ['readonly', 'fast'], 1, 1, 1]);
    expect(get.length).toBe(10);
    expect(await r.call('command', 'count')).toBe(all.length);
    expect(await r.call('command', 'getkeys', 'mset', 'a', '1', 'b', '2')).toEqual(['a', 'b']);
    // Redis 7.0: COMMAND GETKEYS needs the command and at least one argument (arity -4).
    await expect(r.call('command', 'getkeys', 'ping')).rejects.toThrow("ERR wrong number of arguments for 'command|getkeys' command");
    await expect(r.call('command', 'getkeys', 'ping', 'x')).rejects.toThrow('The command has no key arguments');
    const info = (await r.call('command', 'info', 'set', 'nosuch')) as unknown[];
    expect((info[0] as unknown[])[0]).toBe('set');
    expect(info[1]).toBeNull();
    // Key spec flags as Redis spells them (clients match them literally), Redis's own for SET.
    const keySpecs = (info[0] as unknown[])[8] as unknown[][];
    const flags = keySpecs[0]![keySpecs[0]!.indexOf('flags') + 1];
    expect(flags).toEqual(['RW', 'access', 'update', 'variable_flags']);
    expect(await r.call('command', 'getkeysandflags', 'get', 'k')).toEqual([['k', ['RO', 'access']]]);
  });

  it('CLIENT TRACKING ON and OFF, GETREDIR as Redis (tracking itself: pubsub-tracking.test.ts)', async () => {
    expect(await r.call('client', 'tracking', 'off')).toBe('OK');
    expect(await r.call('client', 'getredir')).toBe(-1);
    expect(await r.call('client', 'tracking', 'on')).toBe('OK');
    expect(await r.call('client', 'getredir')).toBe(0);
    expect(await r.call('client', 'tracking', 'off')).toBe('OK');
    expect(await r.call('client', 'getredir')).toBe(-1);
  });

  it('CONFIG GET / SET including encoding settings tools tune', async () => {
    expect(await r.config('GET', 'appendfsync')).toEqual(['appendfsync', 'no']);
    expect(await r.config('SET', 'hash-max-listpack-entries', '512')).toBe('OK');
    expect(await r.config('GET', 'hash-max-listpack-entries')).toEqual(['hash-max-listpack-entries', '512']);
    expect((await r.config('GET', 'save')).length).toBe(2);
    await expect(r.config('SET', 'nosuchsetting', '1')).rejects.toThrow("ERR Unknown option or number of arguments for CONFIG SET - 'nosuchsetting'");
    await expect(r.config('SET', 'maxclients', 'abc')).rejects.toThrow('CONFIG SET failed');
  });

  it('CLIENT ID / SETNAME / GETNAME / SETINFO / LIST / KILL', async () => {
    const id = (await r.client('ID')) as number;
    expect(await r.client('SETNAME', 'tester')).toBe('OK');
    expect(await r.client('GETNAME')).toBe('tester');
    expect(await r.call('client', 'setinfo', 'lib-name', 'mylib')).toBe('OK');
    const list = (await r.client('LIST')) as string;
    expect(list).toMatch(new RegExp(`id=${id} addr=127\\.0\\.0\\.1:\\d+ laddr=.* name=tester .* lib-name=mylib`));
    await expect(r.client('SETNAME', 'has space')).rejects.toThrow('Client names cannot contain spaces');
    const victim = new Redis({ port: open.port, protocol: 2 });
    const victimId = (await victim.client('ID')) as number;
    expect(await r.call('client', 'kill', 'id', String(victimId))).toBe(1);
  });

  it('DBSIZE, FLUSHALL, TIME, OBJECT, MEMORY USAGE, DEBUG SLEEP, WAIT', async () => {
    await r.flushall();
    expect(await r.dbsize()).toBe(0);
    await r.set('n', '12345');
    await r.set('s', 'short');
    await r.set('l', 'x'.repeat(100));
    expect(await r.dbsize()).toBe(3);
    expect(await r.object('ENCODING', 'n')).toBe('int');
    expect(await r.object('ENCODING', 's')).toBe('embstr');
    expect(await r.object('ENCODING', 'l')).toBe('raw');
    expect(await r.object('ENCODING', 'nokey')).toBeNull();
    expect(await r.memory('USAGE', 'l')).toBeGreaterThan(100);
    const [sec, usec] = (await r.time()) as [string, string];
    expect(Math.abs(Number(sec) - Date.now() / 1000)).toBeLessThan(5);
    expect(Number(usec)).toBeLessThan(1_000_000);
    const t0 = Date.now();
    expect(await r.call('debug', 'sleep', '0.2')).toBe('OK');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect(await r.call('wait', '0', '0')).toBe(0);
    expect(await r.call('function', 'flush')).toBe('OK');
  });

  it('SELECT 0 works, others are out of range; QUIT closes', async () => {
    expect(await r.select(0)).toBe('OK');
    await expect(r.select(1)).rejects.toThrow('ERR DB index is out of range');
    const q = await rawExchange(open.port, 'QUIT\r\nPING\r\n', () => false);
    expect(q.data.toString()).toBe('+OK\r\n');
    expect(q.closed).toBe(true);
  });
});

describe('requirepass', () => {
  it('refuses commands before AUTH with NOAUTH', async () => {
    const res = await rawExchange(locked.port, 'GET x\r\n', (d) => d.includes('\r\n'));
    expect(res.data.toString()).toBe('-NOAUTH Authentication required.\r\n');
  });

  it('AUTH with the wrong password is WRONGPASS; the right one works', async () => {
    const res = await rawExchange(locked.port, 'AUTH nope\r\nAUTH s3cret\r\nPING\r\n', (d) => d.includes('PONG'));
    expect(res.data.toString()).toBe('-WRONGPASS invalid username-password pair or user is disabled.\r\n+OK\r\n+PONG\r\n');
  });

  it('HELLO 3 AUTH default <pass> authenticates; ioredis with a password connects', async () => {
    const r = new Redis({ port: locked.port, password: 's3cret' });
    expect(await r.set('a', 'b')).toBe('OK');
    r.disconnect();
    const r2 = new Redis({ port: locked.port, password: 's3cret', protocol: 2 });
    expect(await r2.get('a')).toBe('b');
    r2.disconnect();
  });

  it('unauthenticated clients cannot send big requests', async () => {
    const res = await rawExchange(locked.port, '*20\r\n', () => false);
    expect(res.data.toString()).toBe('-ERR Protocol error: unauthenticated multibulk length\r\n');
  });

  it('AUTH without a configured password gives the text ioredis only warns on', async () => {
    const res = await rawExchange(open.port, 'AUTH foo\r\n', (d) => d.includes('\r\n'));
    expect(res.data.toString()).toBe('-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n');
  });
});
