/**
 * What the differential tests send: commands with the rule their replies are compared by, grouped
 * into per-connection pipelines (one socket write each) and phases (pipelines that run at once).
 */

/**
 * How one command's replies are compared. Everything is byte for byte except what Redis itself does
 * not fix: remaining time to live, unordered collections, random picks and scan cursors.
 */
export type Check =
  | { kind: 'exact' }
  /** Integers: negative values exactly, non-negative ones within `tolerance` (TTL, PTTL, EXPIRETIME). */
  | { kind: 'time'; tolerance: number }
  /**
   * An array or map whose order Redis leaves open (KEYS; a hash's fields once it outgrows the
   * compact encoding): compared sorted, as field-value pairs when `pairs` is set.
   */
  | { kind: 'sorted'; pairs?: boolean }
  /** [cursor, elements]: the cursor only as zero / non-zero, the elements (or field-value pairs) sorted. */
  | { kind: 'scan'; pairs: boolean }
  /**
   * A whole-hash reply (HGETALL, HKEYS, HVALS, HSCAN, HRANDFIELD with a count above the size), sent
   * right after OBJECT ENCODING of the same key: Redis lists a listpack's fields in insertion order
   * and a hashtable's in no promised order. Compared byte for byte when the OBJECT ENCODING reply
   * just before it (on the same side) said listpack, else as `sorted`; `scan`: as a scan reply,
   * a hashtable's page only when it is the last one (the fields of a partial page are Redis's
   * dict layout).
   */
  | { kind: 'hashOrder'; pairs: boolean; scan?: boolean }
  /**
   * OBJECT ENCODING before a `hashOrder` read: a hash's encoding (listpack, hashtable) byte for
   * byte; any other type's only as "not a hash" (those encodings are other suites' subject).
   */
  | { kind: 'hashEncoding' }
  /** A random pick (HRANDFIELD): reply types and element counts only. */
  | { kind: 'shape' }
  /**
   * Stream replies with times in them (XPENDING, XINFO): every integer that is a Unix time in ms,
   * follows an `idle` field, or sits at `idleAt` of a 4-element row is compared within
   * `tolerance`; radix-tree-nodes (Redis's own tree) is not compared.
   */
  | { kind: 'stream'; tolerance: number; idleAt?: number }
  /**
   * Replies holding geo distances (a STOREDIST score read back by ZSCORE or ZRANGE WITHSCORES):
   * every number that is not an integer is compared within one ulp. Redis computes a distance with
   * the C library's sin, cos and asin; glibc's are off the correctly rounded value in about one
   * call in a thousand, ringkv's are not (src/geo/rounded-trig.ts). Integers (geohash scores) stay exact.
   */
  | { kind: 'distances' };

export interface DiffCommand {
  args: Buffer[];
  check: Check;
}

/** One pipeline: every command of it leaves in a single socket write. */
export interface Batch {
  conn: number;
  commands: DiffCommand[];
  /** Set when the batch works on another connection's keys (a WATCH being broken from outside). */
  touches?: number;
}

/** Batches of one phase run at the same time on different connections; they never share keys. */
export interface Phase {
  batches: Batch[];
}

export interface Scenario {
  seed: number;
  protocol: 2 | 3;
  connections: number;
  phases: Phase[];
}

export const EXACT: Check = { kind: 'exact' };

export function cmd(parts: ReadonlyArray<string | Buffer | number>, check: Check = EXACT): DiffCommand {
  return { args: parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(String(p), 'latin1'))), check };
}

/** A command as one readable line: arguments quoted when they hold anything but plain characters. */
export function formatCommand(c: DiffCommand): string {
  return c.args
    .map((a) => {
      const s = a.toString('latin1');
      return /^[\w{}:.+\-*?]+$/.test(s) ? s : JSON.stringify(s);
    })
    .join(' ');
}
