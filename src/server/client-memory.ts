import type { SessionState } from './session-state.js';

/** What one client connection holds, by CLIENT LIST's fields (Redis 7.0's accounting). */
export interface ClientMemory {
  qbuf: number;
  qbufFree: number;
  argvMem: number;
  multiMem: number;
  obl: number;
  omem: number;
  /** CLIENT LIST tot-mem, the size maxmemory-clients weighs. */
  total: number;
}

/** Redis 7.0's list node and watchedKey record per WATCHed key. */
const WATCHED_KEY_BYTES = 48;

/**
 * Redis 7.0's pubsubMemOverhead: a list node per pattern, and per channel (classic or shard) a hash
 * entry plus its share of the table's buckets (a power of two at least the count). Only in tot-mem.
 */
function subscriptionBytes(s: SessionState): number {
  const sub = s.subscriptions;
  const table = (n: number): number => (n === 0 ? 0 : 24 * n + 8 * 2 ** Math.ceil(Math.log2(Math.max(4, n))));
  return 24 * sub.pattern.size + table(sub.channel.size) + table(sub.shard.size);
}

/** BCAST prefixes: Redis counts the radix tree's nodes (32 bytes each); about two per prefix, plus its bytes here. */
function trackingPrefixBytes(s: SessionState): number {
  let n = 0;
  for (const p of s.tracking?.prefixes ?? []) n += 64 + p.length;
  return n;
}

function argvBytes(argv: readonly Buffer[]): number {
  let n = 0;
  for (const a of argv) n += a.length;
  return n;
}

/**
 * `current` is the argv of the command asking, for the asking client's own argv-mem (every other
 * client is between commands, as in Redis, where argv is freed once a command ends, and only the
 * arguments of a request still arriving count).
 */
export function clientMemory(s: SessionState, current?: readonly Buffer[]): ClientMemory {
  const partial = s.partialArgvBytes;
  const qbuf = s.queryBufferBytes - partial;
  const qbufFree = s.queryBufferFree;
  // Redis holds a half-received request's arguments in argv, so they count there, not in qbuf.
  const argvMem = (current === undefined ? 0 : argvBytes(current)) + partial;
  // Redis 7.0 counts each queued command's argument bytes plus one pointer per argument, and a
  // list node and record per WATCHed key (multi-mem).
  let multiMem = WATCHED_KEY_BYTES * s.watched.size;
  for (const q of s.multi ?? []) multiMem += argvBytes(q.argv) + 8 * q.argv.length;
  const obl = s.replyBufferBytes;
  const omem = s.outputBufferBytes;
  const total = qbuf + qbufFree + argvMem + multiMem + obl + omem + subscriptionBytes(s) + trackingPrefixBytes(s);
  return { qbuf, qbufFree, argvMem, multiMem, obl, omem, total };
}
