// Between pages the event loop's next turn runs the commands held by nothing else.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { StreamGroups } from '../collections/stream-groups.js';
import { entryFields, type ConsumerState, type GroupState } from '../collections/stream-codec.js';
import { MAX_ID, MIN_ID, nextId, type StreamId } from '../collections/stream-id.js';
import { StreamType } from '../collections/stream-type.js';
import { rdbKeyRecord } from '../rdb/rdb-file.js';
import { RdbWriter } from '../rdb/rdb-writer.js';
import {
  RDB_TYPE_STREAM_LISTPACKS_2, STREAM_NODE_ENTRIES, streamNodeCount, writeConsumerHead, writeConsumerPendingId, writeGroupHead,
  writePendingEntry, writeStreamCounters, writeStreamNode, type StreamDump,
} from '../rdb/stream-value.js';
import { streamCountersOf } from './dump-restore.js';
import type { Keyspace } from './keyspace.js';
import { changed, PAGE_ELEMENTS } from './rdb-pages.js';

/**
 * A snapshot's large stream (rdb-large-collection.ts decides which are large), written a page at a
 * time: its nodes hold a fixed number of entries, so its entries go out in one pass; its groups
 * follow, each group's and each consumer's pending entries a page at a time after the count its
 * record keeps. The key is fenced against writes meanwhile; counts are checked as they are met.
 */

/** What the stream holds for a snapshot to write: entries and pending entries (a short stream may have millions pending). */
export function streamElements(s: StreamType): number {
  let pending = 0;
  new StreamGroups(s).scanGroups((_name, g) => {
    pending += g.pending;
    return true;
  });
  return s.length + pending;
}

/** A stream as type 19: its entries a page of nodes at a time, then its ids, counters and groups. */
export async function writeStreamPaged(ks: Keyspace, key: Buffer, expiresAt: number, length: number, add: (b: Buffer) => void, flush: () => Promise<void>): Promise<void> {
  const head = new RdbWriter();
  head.raw(rdbKeyRecord(key, expiresAt, Buffer.from([RDB_TYPE_STREAM_LISTPACKS_2])));
  head.length(streamNodeCount(length));
  add(head.take());
  const perPage = STREAM_NODE_ENTRIES * Math.max(1, Math.floor(PAGE_ELEMENTS / STREAM_NODE_ENTRIES));
  let from: StreamId | undefined = { ms: 0n, seq: 0n };
  let written = 0;
  while (from !== undefined) {
    const s = StreamType.open(ks, key);
    if (s === undefined || s.length !== length) throw changed('stream', key, 'changed while it was written');
    const entries: StreamDump['entries'] = [];
    s.scan(from, MAX_ID, false, (id, value) => entries.push({ id, fields: entryFields(value).map((b) => Buffer.from(b)) }) < perPage);
    if (entries.length === 0) break;
    const w = new RdbWriter();
    for (let i = 0; i < entries.length; i += STREAM_NODE_ENTRIES) writeStreamNode(w, entries.slice(i, i + STREAM_NODE_ENTRIES));
    written += entries.length;
    add(w.take());
    from = entries.length < perPage ? undefined : nextId(entries[entries.length - 1]!.id);
    await flush();
    await nextTurn();
  }
  const s = StreamType.open(ks, key);
  if (s === undefined || written !== length || s.length !== length) throw changed('stream', key, `held ${written} entries, not ${length}, by the time it was written`);
  const w = new RdbWriter();
  writeStreamCounters(w, streamCountersOf(s), length);
  const groups: Array<[Buffer, GroupState]> = [];
  new StreamGroups(s).scanGroups((name, g) => groups.push([Buffer.from(name), g]) > 0);
  w.length(groups.length);
  add(w.take());
  for (const [name, g] of groups) await writeGroupPaged(ks, key, name, g, add, flush);
}

/** A group's head and pending entries, then its consumers, each consumer's pending ids a page at a time. */
async function writeGroupPaged(ks: Keyspace, key: Buffer, name: Buffer, g: GroupState, add: (b: Buffer) => void, flush: () => Promise<void>): Promise<void> {
  const groups = (): StreamGroups => {
    const s = StreamType.open(ks, key);
    if (s === undefined) throw changed('stream', key, 'was removed while it was written');
    return new StreamGroups(s);
  };
  const w = new RdbWriter();
  writeGroupHead(w, { name, lastId: g.lastId, entriesRead: g.entriesRead });
  w.length(g.pending);
  let from: StreamId | undefined = MIN_ID;
  let pending = 0;
  while (from !== undefined) {
    let n = 0;
    let last: StreamId | undefined;
    groups().scanPending(name, from, MAX_ID, (id, p) => {
      writePendingEntry(w, { id, deliveryTime: p.deliveryTime, deliveries: p.deliveries });
      last = id;
      return ++n < PAGE_ELEMENTS;
    });
    pending += n;
    add(w.drain());
    from = n < PAGE_ELEMENTS || last === undefined ? undefined : nextId(last);
    await flush();
    await nextTurn();
  }
  if (pending !== g.pending) throw changed('stream', key, `group held ${pending} pending entries, not ${g.pending}`);
  const consumers: Array<[Buffer, ConsumerState]> = [];
  groups().scanConsumers(name, (cname, c) => consumers.push([Buffer.from(cname), c]) > 0);
  w.length(consumers.length);
  for (const [cname, c] of consumers) {
    writeConsumerHead(w, { name: cname, seenTime: c.seenTime });
    w.length(c.pending);
    let after: StreamId | undefined;
    let ids = 0;
    for (;;) {
      let n = 0;
      groups().scanConsumerPending(name, cname, after, (id) => {
        writeConsumerPendingId(w, id);
        after = id;
        return ++n < PAGE_ELEMENTS;
      });
      ids += n;
      add(w.drain());
      if (n < PAGE_ELEMENTS) break;
      await flush();
      await nextTurn();
    }
    if (ids !== c.pending) throw changed('stream', key, `consumer held ${ids} pending entries, not ${c.pending}`);
  }
  add(w.drain());
}
