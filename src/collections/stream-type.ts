import type { Keyspace } from '../commands/keyspace.js';
import { ValueType } from '../storage/types.js';
import { Collection } from './collection.js';
import { ElementKind } from './record-keys.js';
import {
  decodeNode, decodeStreamMeta, emptyStreamMeta, encodeEntry, encodeNode, encodeStreamMeta, entryNode, NODE_ENTRIES_MAX, nodeKey, TAIL_CLOSED,
  type StreamMeta,
} from './stream-codec.js';
import { compareIds, decodeId, encodeId, MIN_ID, nextId, type StreamId } from './stream-id.js';

/**
 * A stream over element records: one StreamEntry record per entry keyed by its 16-byte id, so a
 * range of ids is one ordered scan, plus the metadata (stream-codec.ts). Costs:
 *
 *   XADD: one entry, one node record, the metadata                 — O(1) records
 *   XLEN: the metadata                                              — O(1)
 *   XRANGE / XREVRANGE: a scan from the first bound                 — O(log n + returned)
 *   XDEL: one entry and its node per id                             — O(ids)
 *   XTRIM: node records and entries from the head                   — O(removed + nodes visited)
 *
 * Entries are grouped into storage nodes of up to NODE_ENTRIES_MAX entries, in the order they were
 * added, as Redis groups them into listpacks: approximate trimming (`~`) removes whole nodes only,
 * so it removes what Redis removes. Nodes also answer XINFO's radix-tree-keys. Consumer groups are
 * stream-groups.ts. Streams are written only through the slot's lease (docs/decisions.md).
 */
export class StreamType {
  readonly meta: StreamMeta;

  private constructor(readonly c: Collection) {
    this.meta = c.meta.extra === undefined ? emptyStreamMeta() : decodeStreamMeta(c.meta.extra);
  }

  /** The key's stream; undefined when missing; WRONGTYPE for another type. */
  static open(ks: Keyspace, key: Buffer): StreamType | undefined {
    const c = Collection.open(ks, key, ValueType.Stream);
    return c && new StreamType(c);
  }

  /** A new empty stream (written on save()). */
  static create(ks: Keyspace, key: Buffer): StreamType {
    const s = new StreamType(Collection.create(ks, key, ValueType.Stream, 0));
    s.c.touch();
    return s;
  }

  static openOrCreate(ks: Keyspace, key: Buffer): StreamType {
    return StreamType.open(ks, key) ?? StreamType.create(ks, key);
  }

  get length(): number {
    return this.c.size;
  }

  /** Marks the metadata changed (group cursors, counters). */
  touch(): void {
    this.c.touch();
  }

  save(): void {
    this.c.meta.extra = encodeStreamMeta(this.meta);
    this.c.save();
  }

  /**
   * Appends an entry; the caller checked that `id` exceeds the last id. `nodeEntries`
   * (stream-node-max-entries; 0 = the default) is how many entries the last node takes, counting
   * deleted ones, as Redis decides when to start a new listpack (its byte limit is not modelled).
   */
  add(id: StreamId, fields: readonly Buffer[], nodeEntries = NODE_ENTRIES_MAX): void {
    const m = this.meta;
    const capacity = nodeEntries > 0 ? nodeEntries : NODE_ENTRIES_MAX;
    // The tail node's record: missing when it was dropped (data written before TAIL_CLOSED).
    let state = m.nodes > 0 && m.tailFill < capacity ? this.node(m.nextNode - 1) : undefined;
    if (state === undefined) {
      m.nextNode++;
      if (m.nodes === 0) m.headNode = m.nextNode - 1;
      m.nodes++;
      m.tailFill = 0;
      state = { live: 0, lastId: id };
    }
    const node = m.nextNode - 1;
    this.c.put(ElementKind.StreamNode, nodeKey(node), encodeNode({ live: state.live + 1, lastId: id }));
    this.c.put(ElementKind.StreamEntry, encodeId(id), encodeEntry(node, fields));
    m.tailFill++;
    if (this.length === 0) m.firstId = id;
    m.lastId = id;
    m.entriesAdded++;
    this.c.resize(1);
  }

  /** The entry's stored value (stream-codec.ts entryFields), undefined when absent. */
  get(id: StreamId): Buffer | undefined {
    return this.c.get(ElementKind.StreamEntry, encodeId(id));
  }

  /**
   * Entries with lo <= id <= hi, ascending (descending when `reverse`), until `visit` returns
   * false. The value is only valid during the visit.
   */
  scan(lo: StreamId, hi: StreamId, reverse: boolean, visit: (id: StreamId, value: Buffer) => boolean): void {
    if (this.length === 0) return;
    // Nothing lives before the first id: start there rather than walk over deletions.
    if (compareIds(lo, this.meta.firstId) < 0) lo = this.meta.firstId;
    if (compareIds(lo, hi) > 0) return;
    const after = nextId(hi);
    this.c.scan(ElementKind.StreamEntry, (sub, value) => visit(decodeId(sub), value), {
      reverse, lo: encodeId(lo), ...(after === undefined ? {} : { hi: encodeId(after) }),
    });
  }

  /**
   * The first (or last) entry's id, undefined when empty. The first is the metadata's first id:
   * scans start there, never walking over the deletions before it (which a cluster keeps as
   * tombstones for the grace period).
   */
  edge(last: boolean): StreamId | undefined {
    if (this.length === 0) return undefined;
    if (!last) return this.meta.firstId;
    let found: StreamId | undefined;
    this.c.scan(ElementKind.StreamEntry, (sub) => {
      found = decodeId(sub);
      return false;
    }, { reverse: true });
    return found;
  }

  /** The first entry at or after `from`, undefined when there is none. */
  private firstFrom(from: StreamId): StreamId | undefined {
    let found: StreamId | undefined;
    this.c.scan(ElementKind.StreamEntry, (sub) => {
      found = decodeId(sub);
      return false;
    }, { lo: encodeId(from) });
    return found;
  }

  /** Deletes an entry; false when there was none. Keeps Redis's max-deleted id and first id. */
  delete(id: StreamId): boolean {
    const value = this.get(id);
    if (value === undefined) return false;
    const wasFirst = compareIds(id, this.meta.firstId) === 0;
    this.removeEntry(id, entryNode(value));
    if (compareIds(id, this.meta.maxDeletedId) > 0) this.meta.maxDeletedId = id;
    if (wasFirst) this.meta.firstId = (this.length > 0 ? this.firstFrom(id) : undefined) ?? MIN_ID;
    return true;
  }

  /**
   * A storage node was dropped, which must be saved even when no entry went: a trim frees a node
   * an exact trim left empty and removes nothing (XINFO's radix-tree-keys counts nodes).
   */
  layoutChanged = false;

  private node(node: number): ReturnType<typeof decodeNode> | undefined {
    const v = this.c.get(ElementKind.StreamNode, nodeKey(node));
    return v && decodeNode(v);
  }

  /**
   * Removes an entry known to exist and counts it out of its node. A node XDEL leaves empty goes;
   * one an exact trim leaves empty stays (`keepEmpty`), as Redis frees a listpack in the one case
   * and only marks its entries deleted in the other.
   */
  private removeEntry(id: StreamId, node: number, keepEmpty = false): void {
    this.c.delete(ElementKind.StreamEntry, encodeId(id));
    this.c.resize(-1);
    const state = this.node(node);
    if (state === undefined) return;
    if (state.live <= 1 && !keepEmpty) this.dropNode(node);
    else this.c.put(ElementKind.StreamNode, nodeKey(node), encodeNode({ live: state.live - 1, lastId: state.lastId }));
  }

  private dropNode(node: number): void {
    this.layoutChanged = true;
    this.c.delete(ElementKind.StreamNode, nodeKey(node));
    this.meta.nodes--;
    // The last node gone: the next entry starts a new one, as Redis appends to the last listpack.
    if (node === this.meta.nextNode - 1) this.meta.tailFill = TAIL_CLOSED;
    if (node === this.meta.headNode && this.meta.nodes > 0) {
      // The next node record; deletions are mostly at the head, so this skips few removed nodes.
      this.c.scan(ElementKind.StreamNode, (sub) => {
        this.meta.headNode = Number(sub.readBigUInt64BE(0));
        return false;
      }, { lo: nodeKey(node + 1) });
    }
  }

  /**
   * XTRIM / XADD's trimming, as Redis's streamTrim: whole nodes from the head while the rule holds
   * for all of a node's entries; then, unless `approx`, single entries of the next node. `limit`
   * (approximate only; 0 = none) caps the entries removed. Returns how many were removed.
   */
  trim(rule: { maxLen: number } | { minId: StreamId }, approx: boolean, limit: number): number {
    const byLen = 'maxLen' in rule;
    if (byLen && this.length <= rule.maxLen) return 0;
    let deleted = 0;
    for (;;) {
      if (byLen && this.length <= rule.maxLen) break;
      const first = this.firstNode();
      if (first === undefined) break;
      if (limit > 0 && deleted + first.live > limit) break;
      const removeNode = byLen ? this.length - first.live >= rule.maxLen : compareIds(first.lastId, rule.minId) < 0;
      if (removeNode) {
        const ids = this.headIds(first.live);
        for (const id of ids) {
          this.c.delete(ElementKind.StreamEntry, encodeId(id));
          this.c.resize(-1);
        }
        this.dropNode(first.node);
        deleted += first.live;
        if (ids.length > 0) this.meta.firstId = (this.length > 0 ? this.firstFrom(ids[ids.length - 1]!) : undefined) ?? MIN_ID;
        continue;
      }
      if (approx) break;
      // Within the node: entries one by one while the rule still wants them gone.
      const want = byLen ? this.length - rule.maxLen : first.live;
      for (const id of this.headIds(Math.min(want, first.live))) {
        if (!byLen && compareIds(id, rule.minId) >= 0) break;
        this.removeEntry(id, first.node, true);
        deleted++;
      }
      break;
    }
    if (deleted > 0) this.meta.firstId = (this.length > 0 ? this.firstFrom(this.meta.firstId) : undefined) ?? MIN_ID;
    return deleted;
  }

  /** The first storage node (possibly one an exact trim left empty). */
  private firstNode(): { node: number; live: number; lastId: StreamId } | undefined {
    if (this.meta.nodes === 0) return undefined;
    const state = this.node(this.meta.headNode);
    if (state === undefined) throw new Error(`stream's first node ${this.meta.headNode} missing`);
    return { node: this.meta.headNode, ...state };
  }

  /** The ids of the first `n` entries (collected before they are deleted). */
  private headIds(n: number): StreamId[] {
    const ids: StreamId[] = [];
    if (n <= 0 || this.length === 0) return ids;
    this.c.scan(ElementKind.StreamEntry, (sub) => {
      ids.push(decodeId(sub));
      return ids.length < n;
    }, { lo: encodeId(this.meta.firstId) });
    return ids;
  }
}
