/**
 * The streams scenario: what a job queue on a stream costs, on redis-server and ringkv side by
 * side. Two measurements per server, each on a fresh stream under one hash tag (so a cluster run
 * goes to one slot's primary):
 *
 * 1. `XADD`: `clients` connections each send `XADD key * f v` with `depth` commands in flight,
 *    `entries` in all; entries per second.
 * 2. `XREADGROUP+XACK`: the stream of (1) read by `clients` consumers of one group, each looping
 *    on XREADGROUP COUNT `batch` `>` and one XACK of the ids it got, until every entry is
 *    acknowledged; entries per second, and the group's pending count at the end (must be 0).
 *
 * Clients are ioredis connections in this process (redis-benchmark cannot carry ids from a read to
 * its acknowledgement), the same for both servers.
 */
import { Redis } from 'ioredis';

export interface StreamsSettings {
  entries: number;
  clients: number;
  depth: number;
  batch: number;
}

export interface StreamsRow {
  server: string;
  test: 'XADD' | 'XREADGROUP+XACK';
  entries: number;
  seconds: number;
  rps: number;
  /** XREADGROUP+XACK: entries still pending at the end. */
  pendingAfter?: number;
}

export const STREAMS_DEFAULTS: StreamsSettings = { entries: 50_000, clients: 16, depth: 16, batch: 10 };
/** Under the collections scenario's hash tag, so a cluster run is aimed at that slot's primary. */
const KEY = '{cb}:stream-jobs';
const GROUP = 'workers';

type Read = Array<[string, Array<[string, string[]]>]> | null;

async function xaddAll(conns: readonly Redis[], s: StreamsSettings): Promise<number> {
  let issued = 0;
  const start = process.hrtime.bigint();
  await Promise.all(conns.map(async (c) => {
    const inFlight = new Set<Promise<unknown>>();
    while (issued < s.entries) {
      issued++;
      const p = c.xadd(KEY, '*', 'f', 'v').finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= s.depth) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  }));
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function consumeAll(conns: readonly Redis[], s: StreamsSettings): Promise<number> {
  let acked = 0;
  const start = process.hrtime.bigint();
  await Promise.all(conns.map(async (c, i) => {
    while (acked < s.entries) {
      const reply = (await c.xreadgroup('GROUP', GROUP, `c${i}`, 'COUNT', s.batch, 'BLOCK', 100, 'STREAMS', KEY, '>')) as Read;
      const ids = (reply ?? []).flatMap(([, entries]) => entries.map(([id]) => id));
      if (ids.length === 0) continue;
      // Awaited first: `acked += await …` would add to the value read before the await.
      const n = Number(await c.xack(KEY, GROUP, ...ids));
      acked += n;
    }
  }));
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Both measurements on the server at host:port. */
export async function runStreams(server: string, host: string, port: number, s: StreamsSettings, log: (line: string) => void): Promise<StreamsRow[]> {
  const conns = Array.from({ length: s.clients }, () => new Redis({ host, port, maxRetriesPerRequest: 0 }));
  try {
    await conns[0]!.del(KEY);
    await conns[0]!.xgroup('CREATE', KEY, GROUP, '$', 'MKSTREAM');
    const addSeconds = await xaddAll(conns, s);
    const length = await conns[0]!.xlen(KEY);
    const add: StreamsRow = { server, test: 'XADD', entries: length, seconds: addSeconds, rps: length / addSeconds };
    log(`[streams] ${server.padEnd(22)} XADD             ${Math.round(add.rps).toLocaleString('en-US').padStart(9)} entries/s (${length} entries)`);
    const readSeconds = await consumeAll(conns, { ...s, entries: length });
    const pending = (await conns[0]!.xpending(KEY, GROUP)) as [number, ...unknown[]];
    const read: StreamsRow = { server, test: 'XREADGROUP+XACK', entries: length, seconds: readSeconds, rps: length / readSeconds, pendingAfter: pending[0] };
    log(`[streams] ${server.padEnd(22)} XREADGROUP+XACK  ${Math.round(read.rps).toLocaleString('en-US').padStart(9)} entries/s (pending after: ${pending[0]})`);
    await conns[0]!.del(KEY);
    return [add, read];
  } finally {
    for (const c of conns) c.disconnect();
  }
}

/** The scenario's table: one row per server and test, ringkv's ratio to redis-server beside it. */
export function streamsTable(rows: readonly StreamsRow[], table: (header: readonly string[], rows: readonly string[][], leftColumns: number) => string): string {
  const redis = new Map(rows.filter((r) => r.server === 'redis').map((r) => [r.test, r.rps]));
  const cells = rows.map((r) => {
    const base = redis.get(r.test);
    return [r.test, r.server, Math.round(r.rps).toLocaleString('en-US'), r.entries.toLocaleString('en-US'), r.pendingAfter === undefined ? '' : String(r.pendingAfter),
      base === undefined || r.server === 'redis' ? '' : `${(r.rps / base).toFixed(2)}x`];
  });
  return table(['test', 'server', 'entries/s', 'entries', 'pending after', 'vs redis'], cells, 2);
}
