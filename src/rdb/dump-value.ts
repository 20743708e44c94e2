/**
 * One key's value in Redis's RDB value format, as DUMP and RESTORE carry it (rdbSaveObject /
 * rdbLoadObject of Redis 7.0, RDB version 10). Reading accepts every type byte a 7.0 server
 * writes or still loads for strings, lists, sets, sorted sets and hashes:
 *
 *   0 string · 1 list · 2 set · 3 zset (text scores) · 4 hash · 5 zset (binary scores)
 *   10 list as ziplist · 11 set as intset · 12 zset as ziplist · 13 hash as ziplist
 *   14 quicklist of ziplists · 16 hash as listpack · 17 zset as listpack
 *   18 quicklist of listpack (or plain) nodes
 *
 * Writing uses the plain forms a 7.0 server loads and converts to its compact encodings itself:
 * 0, 18 (listpack nodes), 2, 5, 4. Streams are types 15 and 19 (stream-value.ts), written as 19.
 * Modules and anything else are refused.
 */
import { check, RdbFormatError } from './rdb-errors.js';
import { RdbReader } from './rdb-reader.js';
import { RdbWriter } from './rdb-writer.js';
import { buildListpack, parseListpack } from './listpack.js';
import { parseIntset } from './intset.js';
import { parseZiplist } from './ziplist.js';
import { strtod } from '../commands/score-text.js';
import { readStream, writeStream, RDB_TYPE_STREAM_LISTPACKS, RDB_TYPE_STREAM_LISTPACKS_2, type StreamDump } from './stream-value.js';

export const RDB_TYPE = {
  STRING: 0, LIST: 1, SET: 2, ZSET: 3, HASH: 4, ZSET_2: 5,
  LIST_ZIPLIST: 10, SET_INTSET: 11, ZSET_ZIPLIST: 12, HASH_ZIPLIST: 13, LIST_QUICKLIST: 14,
  HASH_LISTPACK: 16, ZSET_LISTPACK: 17, LIST_QUICKLIST_2: 18,
} as const;

const QUICKLIST_NODE_PLAIN = 1;
const QUICKLIST_NODE_PACKED = 2;
/** Elements per listpack node written by DUMP (Redis's default list-max-listpack-size -2 is 8 KB). */
const NODE_ENTRIES_MAX = 128;
const NODE_BYTES_MAX = 8 * 1024;

export type DumpValue =
  | { kind: 'string'; value: Buffer }
  | { kind: 'list'; items: Buffer[] }
  | { kind: 'set'; members: Buffer[] }
  | { kind: 'zset'; entries: Array<[Buffer, number]> }
  | { kind: 'hash'; pairs: Array<[Buffer, Buffer]> }
  | StreamDump;

function pairs(items: Buffer[], what: string): Array<[Buffer, Buffer]> {
  check(items.length % 2 === 0, `${what} with an odd number of entries`);
  const out: Array<[Buffer, Buffer]> = [];
  for (let i = 0; i < items.length; i += 2) out.push([items[i]!, items[i + 1]!]);
  return out;
}

/** A listpack / ziplist score: Redis's d2string text ("inf", "-inf", %.17g) or an integer. */
function scoreOf(text: Buffer): number {
  const s = text.toString('latin1');
  const r = strtod(s);
  check(r.end === s.length && s.length > 0 && !Number.isNaN(r.value), 'sorted-set score is not a number');
  return r.value;
}

/** Fails on a repeated member: Redis refuses such payloads ("Duplicate … detected"). */
function noDuplicates(members: readonly Buffer[], what: string): void {
  const seen = new Set<string>();
  for (const m of members) {
    const k = m.toString('latin1');
    check(!seen.has(k), `duplicate ${what}`);
    seen.add(k);
  }
}

function nonEmpty(n: number, what: string): void {
  check(n > 0, `empty ${what}`);
}

/** The value after the type byte; RdbFormatError when the bytes are not a value of that type. */
export function readDumpValue(type: number, r: RdbReader): DumpValue {
  switch (type) {
    case RDB_TYPE_STREAM_LISTPACKS:
    case RDB_TYPE_STREAM_LISTPACKS_2:
      return readStream(type, r);
    case RDB_TYPE.STRING:
      return { kind: 'string', value: r.string() };
    case RDB_TYPE.LIST: {
      const n = r.length();
      nonEmpty(n, 'list');
      const items: Buffer[] = [];
      for (let i = 0; i < n; i++) items.push(r.string());
      return { kind: 'list', items };
    }
    case RDB_TYPE.SET: {
      const n = r.length();
      nonEmpty(n, 'set');
      const members: Buffer[] = [];
      for (let i = 0; i < n; i++) members.push(r.string());
      noDuplicates(members, 'set member');
      return { kind: 'set', members };
    }
    case RDB_TYPE.ZSET:
    case RDB_TYPE.ZSET_2: {
      const n = r.length();
      nonEmpty(n, 'sorted set');
      const entries: Array<[Buffer, number]> = [];
      for (let i = 0; i < n; i++) {
        const m = r.string();
        const s = type === RDB_TYPE.ZSET_2 ? r.binaryDouble() : r.textDouble();
        check(!Number.isNaN(s), 'NaN score');
        entries.push([m, s]);
      }
      noDuplicates(entries.map(([m]) => m), 'sorted-set member');
      return { kind: 'zset', entries };
    }
    case RDB_TYPE.HASH: {
      const n = r.length();
      nonEmpty(n, 'hash');
      const out: Array<[Buffer, Buffer]> = [];
      for (let i = 0; i < n; i++) out.push([r.string(), r.string()]);
      noDuplicates(out.map(([f]) => f), 'hash field');
      return { kind: 'hash', pairs: out };
    }
    case RDB_TYPE.LIST_ZIPLIST: {
      const items = parseZiplist(r.string());
      nonEmpty(items.length, 'list');
      return { kind: 'list', items };
    }
    case RDB_TYPE.SET_INTSET: {
      const members = parseIntset(r.string());
      nonEmpty(members.length, 'set');
      noDuplicates(members, 'set member');
      return { kind: 'set', members };
    }
    case RDB_TYPE.ZSET_ZIPLIST:
    case RDB_TYPE.ZSET_LISTPACK: {
      const raw = r.string();
      const items = type === RDB_TYPE.ZSET_LISTPACK ? parseListpack(raw) : parseZiplist(raw);
      const entries = pairs(items, 'sorted set').map(([m, s]): [Buffer, number] => [m, scoreOf(s)]);
      nonEmpty(entries.length, 'sorted set');
      noDuplicates(entries.map(([m]) => m), 'sorted-set member');
      return { kind: 'zset', entries };
    }
    case RDB_TYPE.HASH_ZIPLIST:
    case RDB_TYPE.HASH_LISTPACK: {
      const raw = r.string();
      const out = pairs(type === RDB_TYPE.HASH_LISTPACK ? parseListpack(raw) : parseZiplist(raw), 'hash');
      nonEmpty(out.length, 'hash');
      noDuplicates(out.map(([f]) => f), 'hash field');
      return { kind: 'hash', pairs: out };
    }
    case RDB_TYPE.LIST_QUICKLIST:
    case RDB_TYPE.LIST_QUICKLIST_2: {
      const nodes = r.length();
      const items: Buffer[] = [];
      for (let i = 0; i < nodes; i++) {
        let container = QUICKLIST_NODE_PACKED;
        if (type === RDB_TYPE.LIST_QUICKLIST_2) {
          container = r.length();
          check(container === QUICKLIST_NODE_PACKED || container === QUICKLIST_NODE_PLAIN, `quicklist container ${container}`);
        }
        const raw = r.string();
        if (container === QUICKLIST_NODE_PLAIN) items.push(raw);
        // An empty node is skipped, as Redis loads it.
        else items.push(...(type === RDB_TYPE.LIST_QUICKLIST_2 ? parseListpack(raw) : parseZiplist(raw)));
      }
      nonEmpty(items.length, 'list');
      return { kind: 'list', items };
    }
    default:
      throw new RdbFormatError(`unsupported RDB type ${type}`);
  }
}

/**
 * Where a list's quicklist nodes begin, as DUMP writes them: a node ends before an element that
 * would take it past NODE_ENTRIES_MAX elements or NODE_BYTES_MAX bytes. Fed element lengths in
 * order, so a list too large to hold can be split as it is read.
 */
export class QuicklistNodes {
  private entries = 0;
  private bytes = 0;

  /** Takes the next element's length; true when it begins a new node (the first element always does). */
  add(length: number): boolean {
    const fresh = this.entries === 0 || this.entries >= NODE_ENTRIES_MAX || this.bytes + length > NODE_BYTES_MAX;
    if (fresh) {
      this.entries = 0;
      this.bytes = 0;
    }
    this.entries++;
    this.bytes += length;
    return fresh;
  }
}

/** One packed quicklist node of a LIST_QUICKLIST_2 value. */
export function writeQuicklistNode(w: RdbWriter, items: readonly Buffer[]): void {
  w.length(QUICKLIST_NODE_PACKED);
  w.string(buildListpack(items));
}

/** The type byte and value of `v` in the plain forms every RDB-10 loader takes. */
export function writeDumpValue(v: DumpValue): Buffer {
  const w = new RdbWriter();
  switch (v.kind) {
    case 'string':
      w.byte(RDB_TYPE.STRING);
      w.string(v.value);
      break;
    case 'list': {
      w.byte(RDB_TYPE.LIST_QUICKLIST_2);
      const split = new QuicklistNodes();
      const nodes: Buffer[][] = [];
      for (const item of v.items) {
        if (split.add(item.length)) nodes.push([]);
        nodes[nodes.length - 1]!.push(item);
      }
      w.length(nodes.length);
      for (const n of nodes) writeQuicklistNode(w, n);
      break;
    }
    case 'set':
      w.byte(RDB_TYPE.SET);
      w.length(v.members.length);
      for (const m of v.members) w.string(m);
      break;
    case 'zset':
      w.byte(RDB_TYPE.ZSET_2);
      w.length(v.entries.length);
      for (const [m, s] of v.entries) {
        w.string(m);
        w.binaryDouble(s);
      }
      break;
    case 'stream':
      w.byte(RDB_TYPE_STREAM_LISTPACKS_2);
      writeStream(w, v);
      break;
    case 'hash':
      w.byte(RDB_TYPE.HASH);
      w.length(v.pairs.length);
      for (const [f, val] of v.pairs) {
        w.string(f);
        w.string(val);
      }
      break;
  }
  return w.take();
}
