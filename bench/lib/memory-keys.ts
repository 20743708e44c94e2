/**
 * The memory-keys scenario: memory per key of a fresh single node holding `keys` string keys of
 * `valueBytes` bytes each, written with pipelined SETs (names as redis-benchmark's
 * `key:000000012345`, spread over the key space as its random keys are). Redis is read through
 * INFO memory (used_memory, used_memory_rss) and both servers through /proc/<pid>/status (VmRSS,
 * RssAnon: what the process allocated, RssFile: mapped files, for ringkv LMDB's pages). Read after
 * the fill and again after a pause (checkpoints done, memtables drained into LMDB, garbage
 * collected).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { readMemory, type MemorySample } from './collections.js';

export interface MemoryKeysSettings {
  keys: number;
  valueBytes: number;
  /** Seconds between the reading after the fill and the second one. */
  pauseSeconds: number;
}

/**
 * 60 s: the last checkpoint, the idle drop of the memtable it left as a read cache (two idle
 * checkpoint ticks) and the garbage collection that frees its chunks take about 30 s after the
 * fill; a reading at 20 s (`early`) still holds them.
 */
export const MEMORY_KEYS_DEFAULTS: MemoryKeysSettings = { keys: 1_000_000, valueBytes: 100, pauseSeconds: 60 };

/** Seconds after the fill of the early reading. */
const EARLY_SECONDS = 20;

export interface MemoryKeysRow {
  server: string;
  keys: number;
  valueBytes: number;
  fillSeconds: number;
  started: MemorySample;
  filled: MemorySample;
  /** EARLY_SECONDS after the fill (when the pause is longer). */
  early: MemorySample | null;
  paused: MemorySample;
  /** INFO memory after the pause: used_memory and used_memory_rss (bytes), when the server reports them. */
  usedMemory: number | null;
  usedMemoryRss: number | null;
  dbsize: number;
}

/** SETs per pipeline, and pipelines in flight on the one connection. */
const FILL_BATCH = 1000;
const FILL_IN_FLIGHT = 8;

/** Odd and not a multiple of 5: multiplying by it modulo 10^12 permutes 0 … 10^12 - 1. */
const SPREAD = 2654435761n;
const NAMES = 10n ** 12n;

/**
 * The i-th key, at a scattered place in key order. Names in write order let each checkpoint touch
 * only the right edge of LMDB's tree, which hid LMDB's copies of dirty pages: a node's memory grew
 * with its keys under random keys and not under sequential ones (docs/decisions.md, "LMDB's dirty
 * pages: bounded transactions, not its map").
 */
function keyName(i: number): string {
  return `key:${String((BigInt(i) * SPREAD) % NAMES).padStart(12, '0')}`;
}

function infoField(info: string, field: string): number | null {
  const m = new RegExp(`^${field}:(\\d+)`, 'm').exec(info);
  return m === null ? null : Number(m[1]);
}

export async function runMemoryKeys(server: string, host: string, port: number, pid: number, settings: MemoryKeysSettings, log: (line: string) => void): Promise<MemoryKeysRow> {
  const redis = new Redis({ host, port, maxRetriesPerRequest: 0, lazyConnect: false });
  try {
    const started = readMemory(pid, 'started');
    const value = 'v'.repeat(settings.valueBytes);
    let next = 0;
    const t0 = process.hrtime.bigint();
    const worker = async (): Promise<void> => {
      while (next < settings.keys) {
        const from = next;
        next = Math.min(settings.keys, next + FILL_BATCH);
        const pipeline = redis.pipeline();
        for (let i = from; i < next; i++) pipeline.set(keyName(i), value);
        const replies = await pipeline.exec();
        const failed = replies?.find(([err]) => err !== null);
        if (failed !== undefined) throw failed[0]!;
      }
    };
    await Promise.all(Array.from({ length: FILL_IN_FLIGHT }, worker));
    const fillSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const filled = readMemory(pid, 'after fill');
    let early: MemorySample | null = null;
    if (settings.pauseSeconds > EARLY_SECONDS) {
      await sleep(EARLY_SECONDS * 1000);
      early = readMemory(pid, `after ${EARLY_SECONDS} s`);
      await sleep((settings.pauseSeconds - EARLY_SECONDS) * 1000);
    } else {
      await sleep(settings.pauseSeconds * 1000);
    }
    const paused = readMemory(pid, `after ${settings.pauseSeconds} s more`);
    const info = String(await redis.call('INFO', 'memory'));
    const dbsize = Number(await redis.dbsize());
    const row: MemoryKeysRow = {
      server, keys: settings.keys, valueBytes: settings.valueBytes, fillSeconds, started, filled, early, paused,
      usedMemory: infoField(info, 'used_memory'), usedMemoryRss: infoField(info, 'used_memory_rss'), dbsize,
    };
    log(
      `[memory-keys] ${server.padEnd(8)} ${settings.keys.toLocaleString('en-US')} keys of ${settings.valueBytes} B in ${fillSeconds.toFixed(1)} s (dbsize ${dbsize}): ` +
        `RSS ${paused.rssKb ?? '?'} kB, anonymous ${paused.anonKb ?? '?'} kB, file ${paused.fileKb ?? '?'} kB, used_memory_rss ${row.usedMemoryRss ?? '?'}`,
    );
    return row;
  } finally {
    redis.disconnect();
  }
}

const mib = (kb: number | null): string => (kb === null ? 'n/a' : (kb / 1024).toFixed(1));

/** Markdown table: each server's memory, and ringkv's against Redis's used_memory_rss (the 1.5x target). */
export function renderMemoryKeysTable(rows: readonly MemoryKeysRow[]): string {
  const redis = rows.find((r) => r.server === 'redis');
  const anchor = redis?.usedMemoryRss ?? null;
  const lines = [
    `| server | keys | value B | fill s | RSS MiB after fill | anonymous MiB ${EARLY_SECONDS} s after | RSS MiB after pause | anonymous MiB after pause | file MiB after pause | used_memory_rss MiB | anonymous B/key over start | RSS / redis used_memory_rss | anonymous / redis used_memory_rss |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    const perKey = r.paused.anonKb !== null && r.started.anonKb !== null ? Math.round(((r.paused.anonKb - r.started.anonKb) * 1024) / r.keys) : null;
    const ratio = (kb: number | null): string => (kb === null || anchor === null ? 'n/a' : `${((kb * 1024) / anchor).toFixed(2)}x`);
    lines.push(
      `| ${r.server} | ${r.keys} | ${r.valueBytes} | ${r.fillSeconds.toFixed(1)} | ${mib(r.filled.rssKb)} | ${mib(r.early?.anonKb ?? null)} | ${mib(r.paused.rssKb)} | ${mib(r.paused.anonKb)} | ${mib(r.paused.fileKb)} | ` +
        `${r.usedMemoryRss === null ? 'n/a' : (r.usedMemoryRss / 1048576).toFixed(1)} | ${perKey ?? 'n/a'} | ${ratio(r.paused.rssKb)} | ${ratio(r.paused.anonKb)} |`,
    );
  }
  return lines.join('\n');
}
