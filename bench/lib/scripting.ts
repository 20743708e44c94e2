/**
 * The scripting scenario: what scripts cost, on redis-server and ringkv side by side, and how much
 * of it is the Lua VM. Per server, on a fresh single node, `clients` ioredis connections each keep
 * `depth` requests in flight, `requests` in all, spread over `keys` keys:
 *
 * 1. `EVALSHA limiter`: a fixed-window rate limiter as rate-limiting packages write it, five
 *    commands (INCR, PTTL, PEXPIRE when new, HINCRBY of a per-window counter, GET).
 * 2. `the same 5 commands`: the limiter's commands sent without a script, as one pipeline per
 *    request (no atomicity; the calls and replies the script saves are counted as one request).
 * 3. `EVALSHA read-only`: a one-GET script, the smallest a library sends.
 * 4. `GET`: the plain command, for scale.
 *
 * Beside throughput: the server's CPU per request (/proc, the whole process tree). The VM's share
 * of a limiter call is estimated as 1 - (CPU of the same 5 commands) / (CPU of the script).
 */
import { Redis } from 'ioredis';
import { clockTicksPerSecond, processTreeTicks } from './cpu.js';

export interface ScriptingSettings {
  requests: number;
  clients: number;
  depth: number;
  keys: number;
}

export type ScriptingTest = 'EVALSHA limiter' | 'the same 5 commands' | 'EVALSHA read-only' | 'GET';

export interface ScriptingRow {
  server: string;
  test: ScriptingTest;
  requests: number;
  rps: number;
  /** Server CPU per request, microseconds. */
  cpuUs: number;
}

export const SCRIPTING_DEFAULTS: ScriptingSettings = { requests: 100_000, clients: 16, depth: 16, keys: 1_000 };

const LIMITER = `
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
redis.call('HINCRBY', KEYS[2], 'calls', 1)
local v = redis.call('GET', KEYS[1])
return {n, tonumber(v) <= tonumber(ARGV[2]) and 1 or 0}
`;
const READ_ONLY = `return redis.call('GET', KEYS[1])`;

type Request = (c: Redis, i: number) => Promise<unknown>;

async function drive(conns: readonly Redis[], s: ScriptingSettings, request: Request): Promise<number> {
  let issued = 0;
  const start = process.hrtime.bigint();
  await Promise.all(conns.map(async (c) => {
    const inFlight = new Set<Promise<unknown>>();
    while (issued < s.requests) {
      const i = issued++;
      const p = request(c, i).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= s.depth) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  }));
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** The four measurements on the server at host:port, whose process tree is `pids`. */
export async function runScripting(server: string, host: string, port: number, pids: readonly number[], s: ScriptingSettings, log: (line: string) => void): Promise<ScriptingRow[]> {
  const conns = Array.from({ length: s.clients }, () => new Redis({ host, port, maxRetriesPerRequest: 0 }));
  const hz = clockTicksPerSecond();
  const ticks = (): number => pids.reduce((t, pid) => t + processTreeTicks(pid), 0);
  // One hash tag: a cluster run would keep every script's keys in one slot.
  const key = (i: number): string => `{rl}:${i % s.keys}`;
  try {
    const limiter = String(await conns[0]!.script('LOAD', LIMITER));
    const readOnly = String(await conns[0]!.script('LOAD', READ_ONLY));
    const tests: Array<[ScriptingTest, Request]> = [
      ['EVALSHA limiter', (c, i) => c.evalsha(limiter, 2, key(i), '{rl}:stats', 60_000, 1_000_000)],
      ['the same 5 commands', (c, i) => c.pipeline().incr(key(i)).pttl(key(i)).pexpire(key(i), 60_000, 'NX').hincrby('{rl}:stats', 'calls', 1).get(key(i)).exec()],
      ['EVALSHA read-only', (c, i) => c.evalsha(readOnly, 1, key(i))],
      ['GET', (c, i) => c.get(key(i))],
    ];
    const rows: ScriptingRow[] = [];
    for (const [test, request] of tests) {
      const before = ticks();
      const seconds = await drive(conns, s, request);
      const cpuUs = ((ticks() - before) / hz / s.requests) * 1e6;
      const row: ScriptingRow = { server, test, requests: s.requests, rps: s.requests / seconds, cpuUs };
      rows.push(row);
      log(`[scripting] ${server.padEnd(10)} ${test.padEnd(20)} ${Math.round(row.rps).toLocaleString('en-US').padStart(9)} req/s  ${cpuUs.toFixed(1).padStart(7)} µs CPU/req`);
    }
    return rows;
  } finally {
    for (const c of conns) c.disconnect();
  }
}

/** The scenario's table: per server and test, throughput and CPU per request, ratios to redis-server, the VM's share. */
export function scriptingTable(rows: readonly ScriptingRow[], table: (header: readonly string[], rows: readonly string[][], leftColumns: number) => string): string {
  const redis = new Map(rows.filter((r) => r.server === 'redis').map((r) => [r.test, r]));
  const cells = rows.map((r) => {
    const base = redis.get(r.test);
    const plain = rows.find((x) => x.server === r.server && x.test === 'the same 5 commands');
    const vmShare = r.test === 'EVALSHA limiter' && plain !== undefined ? `${Math.max(0, (1 - plain.cpuUs / r.cpuUs) * 100).toFixed(0)}%` : '';
    return [r.test, r.server, Math.round(r.rps).toLocaleString('en-US'), r.cpuUs.toFixed(1),
      base === undefined || r.server === 'redis' ? '' : `${(r.rps / base.rps).toFixed(2)}x`,
      base === undefined || r.server === 'redis' ? '' : `${(r.cpuUs / base.cpuUs).toFixed(2)}x`, vmShare];
  });
  return table(['test', 'server', 'req/s', 'CPU µs/req', 'throughput vs redis', 'CPU vs redis', 'script share of CPU'], cells, 2);
}
