import { ElementKind, elementKey, elementPrefix, memberOf, prefixEnd, subKeyOf } from '../collections/record-keys.js';
import { decodeScore } from '../collections/score-codec.js';
import { indexSub, indexValue } from '../collections/zset-type.js';
import { ValueType, type StoredRecord } from '../storage/types.js';

/**
 * What a coordinator settles after merging a collection's elements from several replicas
 * (Coordinator.completeCollections, when no replica held its newest metadata whole). The merge is
 * last-writer-wins per record, so it can join records of two histories: a sorted set's member
 * record from one and its score-index entries from the other. The member records say what the
 * set holds; the index is derived from them, so it is made to agree (entries no member has are
 * deleted, missing ones written) and the members are counted. Pure over the records the caller
 * reads: the caller writes the fixes.
 */

export interface ElementReader {
  scanRange(slot: number, start: Buffer, end: Buffer, reverse: boolean, visit: (key: Buffer, record: StoredRecord) => boolean): void;
}

const EMPTY = Buffer.alloc(0);
const NO_CLOCK: never[] = [];

/** The live element records under one kind's prefix: their sub-keys and values. */
function liveElements(store: ElementReader, slot: number, prefix: Buffer, visit: (sub: Buffer, value: Buffer, key: Buffer) => void): void {
  store.scanRange(slot, prefix, prefixEnd(prefix), false, (key, rec) => {
    if (rec.type === ValueType.Element) visit(subKeyOf(prefix, key), rec.value as Buffer, key);
    return true;
  });
}

/** The number of member records of a set, a hash or a sorted set's generation. */
export function countMembers(store: ElementReader, slot: number, userKey: Buffer, generation: Buffer): number {
  let count = 0;
  liveElements(store, slot, elementPrefix(ElementKind.Member, userKey, generation), () => count++);
  return count;
}

/**
 * The records that make a sorted set's score index list each member once at the score its member
 * record holds, stamped `version` (tombstones for entries of no member or of another score, entries
 * for members the index lacks); and the member count.
 */
export function scoreIndexFixes(store: ElementReader, slot: number, userKey: Buffer, generation: Buffer, version: Buffer): { fixes: Array<[Buffer, StoredRecord]>; members: number } {
  const wanted = new Map<string, Buffer>();
  liveElements(store, slot, elementPrefix(ElementKind.Member, userKey, generation), (position, value) => {
    const score = decodeScore(value);
    wanted.set(indexSub(memberOf(position), score).toString('latin1'), indexValue(score));
  });
  const members = wanted.size;
  const fixes: Array<[Buffer, StoredRecord]> = [];
  const indexPrefix = elementPrefix(ElementKind.Score, userKey, generation);
  liveElements(store, slot, indexPrefix, (sub, _value, key) => {
    const id = sub.toString('latin1');
    if (wanted.delete(id)) return;
    fixes.push([Buffer.from(key), { version, clock: NO_CLOCK, type: ValueType.Tombstone, expiresAt: 0, value: EMPTY }]);
  });
  for (const [id, value] of wanted) {
    fixes.push([elementKey(indexPrefix, Buffer.from(id, 'latin1')), { version, clock: NO_CLOCK, type: ValueType.Element, expiresAt: 0, value }]);
  }
  return { fixes, members };
}
