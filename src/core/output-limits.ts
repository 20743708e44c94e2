/**
 * `client-output-buffer-limit`: per client class, a hard limit (close at once) and a soft limit
 * with a duration (close once over it that long), in Redis's format
 * `<class> <hard> <soft> <soft-seconds> …`. Pure parsing and formatting; the connection applies them.
 */

import { parseMemory } from './memory-units.js';

export type OutputClass = 'normal' | 'replica' | 'pubsub';

export interface OutputLimit {
  hardBytes: number;
  softBytes: number;
  softSeconds: number;
}

export type OutputLimits = Record<OutputClass, OutputLimit>;

/**
 * Defaults: Redis's replica and pubsub classes; the normal class keeps a hard limit (Redis has
 * none) so that one client that never reads its replies cannot take the node's memory.
 */
export const DEFAULT_OUTPUT_LIMITS = 'normal 256mb 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60';

const memory = (text: string): number | undefined => parseMemory(text);

function classOf(name: string): OutputClass | undefined {
  const n = name.toLowerCase();
  if (n === 'normal' || n === 'pubsub') return n;
  if (n === 'replica' || n === 'slave') return 'replica';
  return undefined;
}

/**
 * Applies `text` (one or more `<class> <hard> <soft> <seconds>` groups) over `base`. Throws an
 * Error whose message is Redis 7.0's CONFIG SET reason when the text is malformed.
 */
export function parseOutputLimits(text: string, base?: OutputLimits): OutputLimits {
  // Split at single spaces, as Redis's sdssplitlen: a leading, trailing or doubled space is a word of its own.
  const words = text === '' ? [] : text.split(' ');
  if (words.length % 4 !== 0) throw new Error('Wrong number of arguments in buffer limit configuration.');
  const out: OutputLimits = base ? { normal: { ...base.normal }, replica: { ...base.replica }, pubsub: { ...base.pubsub } } : { normal: zero(), replica: zero(), pubsub: zero() };
  for (let i = 0; i < words.length; i += 4) {
    const cls = classOf(words[i]!);
    if (cls === undefined) throw new Error('Invalid client class specified in buffer limit configuration.');
    const hard = memory(words[i + 1]!);
    const soft = memory(words[i + 2]!);
    const secs = /^\d+$/.test(words[i + 3]!) ? Number(words[i + 3]) : undefined;
    if (hard === undefined || soft === undefined || secs === undefined) throw new Error('Error in hard, soft or soft_seconds setting in buffer limit configuration.');
    out[cls] = { hardBytes: hard, softBytes: soft, softSeconds: secs };
  }
  return out;
}

function zero(): OutputLimit {
  return { hardBytes: 0, softBytes: 0, softSeconds: 0 };
}

/** CONFIG GET's form: every class, bytes as plain numbers, the replica class named `slave` as Redis 7.0 does. */
/** The class whose limit applies to a client: pubsub while it is subscribed to anything, else normal. */
export function limitOf(limits: OutputLimits, subscribed: boolean): OutputLimit {
  return subscribed ? limits.pubsub : limits.normal;
}

export function formatOutputLimits(limits: OutputLimits): string {
  const one = (name: string, l: OutputLimit): string => `${name} ${l.hardBytes} ${l.softBytes} ${l.softSeconds}`;
  return [one('normal', limits.normal), one('slave', limits.replica), one('pubsub', limits.pubsub)].join(' ');
}

/**
 * Whether a client holding `pendingBytes` of unsent output must be closed now. `overSoftSince` is
 * when it first went over the soft limit (undefined: it is not over it); the caller keeps it.
 */
export function outputLimitVerdict(limit: OutputLimit, pendingBytes: number, overSoftSince: number | undefined, nowMs: number): { close: boolean; overSoftSince: number | undefined } {
  if (limit.hardBytes > 0 && pendingBytes >= limit.hardBytes) return { close: true, overSoftSince };
  if (limit.softBytes === 0 || pendingBytes < limit.softBytes) return { close: false, overSoftSince: undefined };
  if (overSoftSince === undefined) return { close: false, overSoftSince: nowMs };
  return { close: nowMs - overSoftSince > limit.softSeconds * 1000, overSoftSince };
}
