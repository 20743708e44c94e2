// Between pages the event loop's next turn runs the commands held by nothing else.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Collection } from '../collections/collection.js';
import { HashType } from '../collections/hash-type.js';
import { ListType } from '../collections/list-type.js';
import { ElementKind } from '../collections/record-keys.js';
import { decodeScore } from '../collections/score-codec.js';
import { SetType } from '../collections/set-type.js';
import { ZSetType } from '../collections/zset-type.js';
import { StreamType } from '../collections/stream-type.js';
import { QuicklistNodes, RDB_TYPE, writeQuicklistNode } from '../rdb/dump-value.js';
import { rdbKeyRecord } from '../rdb/rdb-file.js';
import { RdbWriter } from '../rdb/rdb-writer.js';
import { ValueType } from '../storage/types.js';
import type { Entry, Keyspace } from './keyspace.js';
import { streamElements, writeStreamPaged } from './rdb-large-stream.js';
import { changed, PAGE_ELEMENTS, type Kind } from './rdb-pages.js';
import type { CommandContext } from './spec.js';

/**
 * A snapshot's large collections (rdb-snapshot.ts), written a page of elements at a time instead
 * of read whole: a set of ten million members read whole took its members' copies, and then the
 * encoded value, into memory at once. An RDB value states its element count before the elements,
 * so the key is fenced against writes meanwhile (server/key-fence.ts: other clients' writes to it
 * wait, reads go on; in a cluster, writes this node coordinates that are under way on it land
 * first), its count is read once fenced, and the count written is checked against the elements
 * found: a collection
 * that changed anyway (expired meanwhile, or written by another coordinator after a lease moved)
 * ends the transfer with an error rather than send a damaged file. Lists are read twice: their
 * quicklist nodes are counted first (a node ends by element count or bytes). Streams: rdb-large-stream.ts.
 */

/** Collections with more elements than this are written a page at a time. */
export const STREAMED_MIN_ELEMENTS = 4096;

export interface LargeCollection {
  kind: Kind;
  size: number;
}

/** The key's collection when it is large enough to be written a page at a time. */
export function largeCollection(ks: Keyspace, key: Buffer, e: Entry): LargeCollection | undefined {
  let found: LargeCollection | undefined;
  switch (e.type as ValueType) {
    case ValueType.Set:
      found = { kind: 'set', size: SetType.open(ks, key)?.size ?? 0 };
      break;
    case ValueType.ZSet:
      found = { kind: 'zset', size: ZSetType.open(ks, key)?.size ?? 0 };
      break;
    case ValueType.Hash:
      found = { kind: 'hash', size: HashType.open(ks, key)?.size ?? 0 };
      break;
    case ValueType.List:
      found = { kind: 'list', size: ListType.open(ks, key)?.length ?? 0 };
      break;
    case ValueType.Stream: {
      const s = StreamType.open(ks, key);
      found = { kind: 'stream', size: s?.length ?? 0 };
      return s !== undefined && streamElements(s) > STREAMED_MIN_ELEMENTS ? found : undefined;
    }
    default:
      return undefined;
  }
  return found.size > STREAMED_MIN_ELEMENTS ? found : undefined;
}

/**
 * Writes the key's record (expiry, type, key, count, elements) through `add`, calling `flush`
 * after each page, when the key still holds a large collection once fenced (the writes already
 * under way on it have landed by then. Returns the key's entry, as read once fenced, when it is
 * to be written whole after all (it shrank or changed type); undefined when it was written or is
 * gone. Throws when the elements found differ from the count written.
 */
export async function writeLargeCollection(
  ctx: CommandContext,
  key: Buffer,
  add: (b: Buffer) => void,
  flush: () => Promise<void>,
): Promise<Entry | undefined> {
  const release = await ctx.node.fenceKeys?.(ctx.session, [key]);
  try {
    const e = ctx.ks.get(key);
    if (e === undefined) return undefined;
    const c = largeCollection(ctx.ks, key, e);
    if (c === undefined) return e;
    if (c.kind === 'list') await writeList(ctx.ks, key, e.expiresAt, c.size, add, flush);
    else if (c.kind === 'stream') await writeStreamPaged(ctx.ks, key, e.expiresAt, c.size, add, flush);
    else await writeElements(ctx.ks, key, e.expiresAt, c, add, flush);
    return undefined;
  } finally {
    release?.();
  }
}

/** A set, sorted set or hash: its count, then its elements a page at a time. */
async function writeElements(ks: Keyspace, key: Buffer, expiresAt: number, c: LargeCollection, add: (b: Buffer) => void, flush: () => Promise<void>): Promise<void> {
  const kind = c.kind as Exclude<Kind, 'list' | 'stream'>;
  const type = kind === 'set' ? RDB_TYPE.SET : kind === 'zset' ? RDB_TYPE.ZSET_2 : RDB_TYPE.HASH;
  const w = new RdbWriter();
  w.raw(rdbKeyRecord(key, expiresAt, Buffer.from([type])));
  w.length(c.size);
  add(w.take());
  let written = 0;
  await eachPage(ks, key, kind, async (page) => {
    written += page.count;
    add(page.bytes);
    await flush();
    await nextTurn();
  });
  if (written !== c.size) throw changed(kind, key, `held ${written} elements, not ${c.size}, by the time it was written`);
}

/** A set's, sorted set's or hash's elements, encoded a page at a time in stored (position) order. */
async function eachPage(ks: Keyspace, key: Buffer, kind: Exclude<Kind, 'list' | 'stream'>, page: (p: { count: number; bytes: Buffer }) => Promise<void>): Promise<void> {
  // Positions resume the walk: the page's last position again (inclusive), skipped.
  let lo: Buffer | undefined;
  for (;;) {
    const w = new RdbWriter();
    let count = 0;
    let last: Buffer | undefined;
    const take = (position: Buffer): boolean => {
      last = Buffer.from(position);
      return ++count < PAGE_ELEMENTS;
    };
    const resumed = (position: Buffer): boolean => lo !== undefined && position.equals(lo);
    if (kind === 'set') {
      SetType.open(ks, key)?.scan((member, position) => {
        if (resumed(position)) return true;
        w.string(member);
        return take(position);
      }, lo);
    } else if (kind === 'hash') {
      HashType.open(ks, key)?.scan((field, value, position) => {
        if (resumed(position)) return true;
        w.string(field);
        w.string(value);
        return take(position);
      }, lo);
    } else {
      Collection.open(ks, key, ValueType.ZSet)?.scan(ElementKind.Member, (member, score, position) => {
        if (resumed(position)) return true;
        w.string(member);
        w.binaryDouble(decodeScore(score));
        return take(position);
      }, lo === undefined ? {} : { lo });
    }
    if (count === 0) return;
    await page({ count, bytes: w.take() });
    if (count < PAGE_ELEMENTS) return;
    lo = last;
  }
}

/** A list as LIST_QUICKLIST_2: its nodes counted in a first pass, then written in a second. */
async function writeList(ks: Keyspace, key: Buffer, expiresAt: number, length: number, add: (b: Buffer) => void, flush: () => Promise<void>): Promise<void> {
  const pages = async (visit: (value: Buffer) => void, pageDone?: () => void): Promise<void> => {
    for (let from = 0; from < length; from += PAGE_ELEMENTS) {
      const list = ListType.open(ks, key);
      if (list === undefined || list.length !== length) throw changed('list', key, 'changed while it was written');
      list.values(from, Math.min(length, from + PAGE_ELEMENTS), (v) => {
        visit(v);
        return true;
      });
      pageDone?.();
      await flush();
      await nextTurn();
    }
  };
  const counting = new QuicklistNodes();
  let nodes = 0;
  let seen = 0;
  await pages((v) => {
    seen++;
    if (counting.add(v.length)) nodes++;
  });
  if (seen !== length) throw changed('list', key, `held ${seen} elements, not ${length}`);
  const head = new RdbWriter();
  head.raw(rdbKeyRecord(key, expiresAt, Buffer.from([RDB_TYPE.LIST_QUICKLIST_2])));
  head.length(nodes);
  add(head.take());
  const split = new QuicklistNodes();
  let node: Buffer[] = [];
  let written = 0;
  const w = new RdbWriter();
  await pages((v) => {
    if (split.add(v.length) && node.length > 0) {
      writeQuicklistNode(w, node);
      written++;
      node = [];
    }
    node.push(Buffer.from(v));
  }, () => {
    // The page's finished nodes go out with it; the node still filling waits for the next page.
    const done = w.drain();
    if (done.length > 0) add(done);
  });
  if (node.length > 0) {
    writeQuicklistNode(w, node);
    written++;
    add(w.take());
  }
  if (written !== nodes) throw changed('list', key, `split into ${written} nodes, not ${nodes}`);
}
