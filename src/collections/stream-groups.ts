import { ElementKind, prefixEnd } from './record-keys.js';
import {
  decodeConsumer, decodeGroup, decodePending, encodeConsumer, encodeGroup, encodePending, lengthPrefixed,
  type ConsumerState, type GroupState, type PendingState,
} from './stream-codec.js';
import { decodeId, encodeId, nextId, type StreamId } from './stream-id.js';
import type { StreamType } from './stream-type.js';

/**
 * Consumer groups of one stream, as element records of their own kinds (stream-codec.ts):
 * - the group: its last delivered id, entries read, pending and consumer counts;
 * - its pending entries list (PEL) keyed group ‖ id, so XPENDING and XAUTOCLAIM scan by id;
 * - a second index keyed group ‖ consumer ‖ id, so one consumer's pending entries (XREADGROUP
 *   history, XPENDING … consumer, XGROUP DELCONSUMER) are a scan of their own;
 * - its consumers keyed group ‖ name, in name order (XINFO CONSUMERS, XPENDING's summary).
 * Every operation costs the records it touches; destroying a group or deleting a consumer costs
 * its pending entries, as in Redis.
 */
export class StreamGroups {
  constructor(readonly s: StreamType) {}

  private get c() {
    return this.s.c;
  }

  get(group: Buffer): GroupState | undefined {
    const v = this.c.get(ElementKind.StreamGroup, group);
    return v && decodeGroup(v);
  }

  put(group: Buffer, state: GroupState): void {
    this.c.put(ElementKind.StreamGroup, group, encodeGroup(state));
  }

  /** Creates a group; false when it exists. */
  create(group: Buffer, lastId: StreamId, entriesRead: bigint): boolean {
    if (this.get(group) !== undefined) return false;
    this.put(group, { lastId, entriesRead, pending: 0, consumers: 0 });
    this.s.meta.groups++;
    this.s.touch();
    return true;
  }

  /** Destroys a group with its consumers and pending entries; false when it does not exist. */
  destroy(group: Buffer): boolean {
    if (this.get(group) === undefined) return false;
    const g = lengthPrefixed(group);
    for (const kind of [ElementKind.StreamPending, ElementKind.StreamConsumerPending, ElementKind.StreamConsumer]) {
      const subs: Buffer[] = [];
      this.c.scan(kind, (sub) => {
        subs.push(Buffer.from(sub));
        return true;
      }, { lo: g, hi: prefixEnd(g) });
      for (const sub of subs) this.c.delete(kind, sub);
    }
    this.c.delete(ElementKind.StreamGroup, group);
    this.s.meta.groups--;
    this.s.touch();
    return true;
  }

  /** Group names and states in name order, until `visit` returns false. */
  scanGroups(visit: (name: Buffer, state: GroupState) => boolean): void {
    this.c.scan(ElementKind.StreamGroup, (sub, value) => visit(sub, decodeGroup(value)));
  }

  consumer(group: Buffer, name: Buffer): ConsumerState | undefined {
    const v = this.c.get(ElementKind.StreamConsumer, consumerSub(group, name));
    return v && decodeConsumer(v);
  }

  putConsumer(group: Buffer, name: Buffer, state: ConsumerState): void {
    this.c.put(ElementKind.StreamConsumer, consumerSub(group, name), encodeConsumer(state));
  }

  /**
   * The consumer, created if missing (counted in its group's `state`); its seen time becomes `now`
   * when `seen`. Returns its state and whether it was created.
   */
  ensureConsumer(group: Buffer, state: GroupState, name: Buffer, now: number, seen: boolean): { consumer: ConsumerState; created: boolean } {
    const found = this.consumer(group, name);
    if (found !== undefined) {
      if (seen && found.seenTime !== now) {
        found.seenTime = now;
        this.putConsumer(group, name, found);
      }
      return { consumer: found, created: false };
    }
    const consumer = { seenTime: now, pending: 0 };
    this.putConsumer(group, name, consumer);
    state.consumers++;
    this.put(group, state);
    return { consumer, created: true };
  }

  /** Deletes a consumer and its pending entries; the number of entries it had pending, or undefined when missing. */
  deleteConsumer(group: Buffer, state: GroupState, name: Buffer): number | undefined {
    const consumer = this.consumer(group, name);
    if (consumer === undefined) return undefined;
    const ids: StreamId[] = [];
    this.scanConsumerPending(group, name, undefined, (id) => {
      ids.push(id);
      return true;
    });
    for (const id of ids) {
      this.c.delete(ElementKind.StreamPending, pendingSub(group, id));
      this.c.delete(ElementKind.StreamConsumerPending, consumerPendingSub(group, name, id));
    }
    this.c.delete(ElementKind.StreamConsumer, consumerSub(group, name));
    state.pending -= ids.length;
    state.consumers--;
    this.put(group, state);
    return consumer.pending;
  }

  /** A group's consumers in name order, until `visit` returns false. */
  scanConsumers(group: Buffer, visit: (name: Buffer, state: ConsumerState) => boolean): void {
    const g = lengthPrefixed(group);
    this.c.scan(ElementKind.StreamConsumer, (sub, value) => visit(sub.subarray(g.length), decodeConsumer(value)), { lo: g, hi: prefixEnd(g) });
  }

  pending(group: Buffer, id: StreamId): PendingState | undefined {
    const v = this.c.get(ElementKind.StreamPending, pendingSub(group, id));
    return v && decodePending(v);
  }

  /**
   * Records `id` as delivered to `consumer` at `time` with `deliveries`, moving it from the
   * consumer that held it, if another did. Adjusts the group's and consumers' pending counts in
   * `state` (the caller saves the group).
   */
  setPending(group: Buffer, state: GroupState, id: StreamId, consumer: Buffer, time: number, deliveries: bigint): void {
    const old = this.pending(group, id);
    if (old === undefined) state.pending++;
    if (old === undefined || !old.consumer.equals(consumer)) {
      if (old !== undefined) this.unlinkConsumerPending(group, old.consumer, id);
      this.c.put(ElementKind.StreamConsumerPending, consumerPendingSub(group, consumer, id), Buffer.alloc(0));
      this.adjustConsumerPending(group, consumer, 1);
    }
    this.c.put(ElementKind.StreamPending, pendingSub(group, id), encodePending({ deliveryTime: time, deliveries, consumer }));
  }

  /** Updates delivery time and count of an entry already pending with its consumer. */
  touchPending(group: Buffer, id: StreamId, p: PendingState): void {
    this.c.put(ElementKind.StreamPending, pendingSub(group, id), encodePending(p));
  }

  /** Removes a pending entry (XACK, a claim of a deleted entry); false when it was not pending. */
  removePending(group: Buffer, state: GroupState, id: StreamId): boolean {
    const old = this.pending(group, id);
    if (old === undefined) return false;
    this.c.delete(ElementKind.StreamPending, pendingSub(group, id));
    this.unlinkConsumerPending(group, old.consumer, id);
    state.pending--;
    return true;
  }

  private unlinkConsumerPending(group: Buffer, consumer: Buffer, id: StreamId): void {
    this.c.delete(ElementKind.StreamConsumerPending, consumerPendingSub(group, consumer, id));
    this.adjustConsumerPending(group, consumer, -1);
  }

  private adjustConsumerPending(group: Buffer, consumer: Buffer, delta: number): void {
    const state = this.consumer(group, consumer);
    if (state === undefined) return;
    state.pending += delta;
    this.putConsumer(group, consumer, state);
  }

  /** Pending entries with lo <= id <= hi in id order (descending when `reverse`), until `visit` returns false. */
  scanPending(group: Buffer, lo: StreamId, hi: StreamId, visit: (id: StreamId, p: PendingState) => boolean, reverse = false): void {
    const g = lengthPrefixed(group);
    const after = nextId(hi);
    const hiSub = after === undefined ? prefixEnd(g) : Buffer.concat([g, encodeId(after)]);
    this.c.scan(ElementKind.StreamPending, (sub, value) => visit(decodeId(sub, g.length), decodePending(value)), {
      reverse, lo: Buffer.concat([g, encodeId(lo)]), hi: hiSub,
    });
  }

  /** One consumer's pending ids, in order, from `after` (exclusive; undefined = the first), until `visit` returns false. */
  scanConsumerPending(group: Buffer, consumer: Buffer, after: StreamId | undefined, visit: (id: StreamId) => boolean, hi?: StreamId): void {
    const p = Buffer.concat([lengthPrefixed(group), lengthPrefixed(consumer)]);
    const from = after === undefined ? undefined : nextId(after);
    if (after !== undefined && from === undefined) return;
    const hiNext = hi === undefined ? undefined : nextId(hi);
    this.c.scan(ElementKind.StreamConsumerPending, (sub) => visit(decodeId(sub, p.length)), {
      lo: from === undefined ? p : Buffer.concat([p, encodeId(from)]),
      hi: hiNext === undefined ? prefixEnd(p) : Buffer.concat([p, encodeId(hiNext)]),
    });
  }
}

function pendingSub(group: Buffer, id: StreamId): Buffer {
  return Buffer.concat([lengthPrefixed(group), encodeId(id)]);
}

function consumerSub(group: Buffer, name: Buffer): Buffer {
  return Buffer.concat([lengthPrefixed(group), name]);
}

function consumerPendingSub(group: Buffer, consumer: Buffer, id: StreamId): Buffer {
  return Buffer.concat([lengthPrefixed(group), lengthPrefixed(consumer), encodeId(id)]);
}
