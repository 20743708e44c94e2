/**
 * `notify-keyspace-events`: which keyspace notifications a node publishes, as Redis 7.0's class
 * letters. Pure parsing and formatting; CONFIG GET shows the canonical form Redis shows.
 */

export const NOTIFY = {
  keyspace: 1 << 0, // K
  keyevent: 1 << 1, // E
  generic: 1 << 2, // g
  string: 1 << 3, // $
  list: 1 << 4, // l
  set: 1 << 5, // s
  hash: 1 << 6, // h
  zset: 1 << 7, // z
  expired: 1 << 8, // x
  evicted: 1 << 9, // e
  stream: 1 << 10, // t
  keyMiss: 1 << 11, // m (not part of A)
  module: 1 << 12, // d
  newKey: 1 << 13, // n (not part of A)
} as const;

export type NotifyClass = keyof typeof NOTIFY;

/** What `A` stands for: every class but key-miss and new-key events. */
const ALL = NOTIFY.generic | NOTIFY.string | NOTIFY.list | NOTIFY.set | NOTIFY.hash | NOTIFY.zset | NOTIFY.expired | NOTIFY.evicted | NOTIFY.stream | NOTIFY.module;

const LETTERS: Record<string, number> = {
  A: ALL, g: NOTIFY.generic, $: NOTIFY.string, l: NOTIFY.list, s: NOTIFY.set, h: NOTIFY.hash, z: NOTIFY.zset,
  x: NOTIFY.expired, e: NOTIFY.evicted, K: NOTIFY.keyspace, E: NOTIFY.keyevent, t: NOTIFY.stream,
  m: NOTIFY.keyMiss, d: NOTIFY.module, n: NOTIFY.newKey,
};

/** Parses the class letters; throws an Error with Redis 7.0's CONFIG SET reason on an unknown one. */
export function parseNotifyFlags(text: string): number {
  let flags = 0;
  for (const ch of text) {
    const bit = LETTERS[ch];
    if (bit === undefined) throw new Error("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
    flags |= bit;
  }
  return flags;
}

/** Redis's canonical text (keyspaceEventsFlagsToString): `A` hides the single classes, `n` included. */
export function formatNotifyFlags(flags: number): string {
  let s = '';
  if ((flags & ALL) === ALL) s += 'A';
  else {
    const order: Array<[string, number]> = [
      ['g', NOTIFY.generic], ['$', NOTIFY.string], ['l', NOTIFY.list], ['s', NOTIFY.set], ['h', NOTIFY.hash], ['z', NOTIFY.zset],
      ['x', NOTIFY.expired], ['e', NOTIFY.evicted], ['t', NOTIFY.stream], ['d', NOTIFY.module], ['n', NOTIFY.newKey],
    ];
    for (const [letter, bit] of order) if (flags & bit) s += letter;
  }
  if (flags & NOTIFY.keyspace) s += 'K';
  if (flags & NOTIFY.keyevent) s += 'E';
  if (flags & NOTIFY.keyMiss) s += 'm';
  return s;
}

/**
 * The setting as stored: Redis's text plus `n` where Redis's text hides it (after `A`), so that
 * reading the setting back loses nothing; CONFIG GET shows formatNotifyFlags of it.
 */
export function storedNotifyFlags(flags: number): string {
  const shown = formatNotifyFlags(flags);
  return (flags & ALL) === ALL && (flags & NOTIFY.newKey) !== 0 ? `${shown}n` : shown;
}
