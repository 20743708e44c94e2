// Goal: a replica applies a collection write's element records only into the history the write
// was built on. Method: judgeLineage over hand-built records — metadata with and without a base,
// superseded metadata, element records arriving without their metadata — and the meta codec's
// base and suspect fields round-tripping beside the layout they extend.
import { describe, expect, it } from 'vitest';
import { judgeLineage, lineageBase, stampBase } from '../../src/cluster/collection-lineage.js';
import { decodeMeta, encodeMeta, isSuspectMeta, metaBase, withMetaBase, withMetaSize, withSuspect } from '../../src/collections/meta-codec.js';
import { elementKey, elementPrefix, ElementKind, recordKey } from '../../src/collections/record-keys.js';
import type { PutItem } from '../../src/storage/record-batch.js';
import { ValueType, type StoredRecord } from '../../src/storage/types.js';

const version = (n: number): Buffer => {
  const v = Buffer.alloc(16);
  v.writeUIntBE(1_700_000_000_000 + n, 0, 6);
  return v;
};
const GEN = Buffer.from('0000000100000001', 'hex');
const OTHER_GEN = Buffer.from('0000000200000001', 'hex');
const KEY = Buffer.from('z');

function meta(n: number, size: number, base?: number, generation = GEN): StoredRecord {
  const value = withMetaBase(encodeMeta({ generation, size, head: 0, tail: 0, large: false }, false), base === undefined ? undefined : version(base));
  return { version: version(n), clock: [], type: ValueType.ZSet, expiresAt: 0, value };
}
function element(n: number, member: string, generation = GEN): PutItem {
  const key = elementKey(elementPrefix(ElementKind.Score, KEY, generation), Buffer.from(member));
  return { key, record: { version: version(n), clock: [], type: ValueType.Element, expiresAt: 0, value: Buffer.alloc(0) } };
}
const write = (m: StoredRecord, ...elements: PutItem[]): PutItem[] => [{ key: recordKey(KEY), record: m }, ...elements];
const held = (rec: StoredRecord | undefined) => (k: Buffer): StoredRecord | undefined => (k.equals(recordKey(KEY)) ? rec : undefined);

describe('collection metadata codec', () => {
  it('keeps size, generation and list positions beside a base and a suspect mark', () => {
    const plain = encodeMeta({ generation: GEN, size: 7, head: 10, tail: 17, large: true }, true);
    const based = withMetaBase(plain, version(5));
    expect(metaBase(based)).toEqual(version(5));
    expect(decodeMeta(based)).toEqual(decodeMeta(plain));
    const marked = withSuspect(based, true);
    expect(isSuspectMeta(marked)).toBe(true);
    expect(metaBase(marked)).toEqual(version(5));
    expect(decodeMeta(marked)).toEqual(decodeMeta(plain));
    expect(isSuspectMeta(withSuspect(marked, false))).toBe(false);
    expect(metaBase(withMetaBase(based, undefined))).toBeUndefined();
    expect(metaBase(plain)).toBeUndefined();
  });

  it('replaces the element count of a recount and keeps the rest: generation, positions, base, mark', () => {
    const marked = withSuspect(withMetaBase(encodeMeta({ generation: GEN, size: 7, head: 10, tail: 17, large: true }, true), version(5)), true);
    const recounted = withMetaSize(marked, 9);
    expect(decodeMeta(recounted)).toEqual({ ...decodeMeta(marked), size: 9 });
    expect(metaBase(recounted)).toEqual(version(5));
    expect(isSuspectMeta(recounted)).toBe(true);
    expect(decodeMeta(marked).size).toBe(7);
  });

  it('takes the base only from the same generation of the same type', () => {
    const next = meta(2, 1).value as Buffer;
    expect(lineageBase(meta(1, 1), ValueType.ZSet, next)).toEqual(version(1));
    expect(lineageBase(meta(1, 1, undefined, OTHER_GEN), ValueType.ZSet, next)).toBeUndefined();
    expect(lineageBase(undefined, ValueType.ZSet, next)).toBeUndefined();
    expect(metaBase(stampBase(meta(1, 1), ValueType.ZSet, next))).toEqual(version(1));
  });
});

describe('judging a replicated collection write', () => {
  it('applies a write built on the version held here as it came', () => {
    const items = write(meta(2, 2, 1), element(2, 'a'));
    const j = judgeLineage(held(meta(1, 1)), items);
    expect(j.items).toBe(items);
    expect(j.suspects).toEqual([]);
  });

  it('marks the metadata suspect when this replica holds another version (a branch or a gap)', () => {
    const j = judgeLineage(held(meta(3, 5, 1)), write(meta(4, 2, 2), element(4, 'a')));
    expect(j.suspects).toEqual([recordKey(KEY)]);
    expect(isSuspectMeta(j.items[0]!.record.value as Buffer)).toBe(true);
    expect(j.items).toHaveLength(2);
  });

  it('keeps a suspect mark held here even when the write continues its version', () => {
    const here = { ...meta(1, 1), value: withSuspect(meta(1, 1).value as Buffer, true) };
    const j = judgeLineage(held(here), write(meta(2, 2, 1), element(2, 'a')));
    expect(j.suspects).toHaveLength(1);
    expect(isSuspectMeta(j.items[0]!.record.value as Buffer)).toBe(true);
  });

  it('accepts a write that starts a new generation whatever was held', () => {
    const j = judgeLineage(held(meta(9, 5, 3)), write(meta(10, 1, undefined, OTHER_GEN), element(10, 'a', OTHER_GEN)));
    expect(j.suspects).toEqual([]);
  });

  it('leaves out the element records of metadata older than what is held here', () => {
    const items = write(meta(2, 2, 1), element(2, 'a'), element(2, 'b', OTHER_GEN));
    const j = judgeLineage(held(meta(5, 3, 4)), items);
    expect(j.items.map((i) => i.key)).toEqual([recordKey(KEY), items[2]!.key]);
    expect(j.suspects).toEqual([]);
  });

  it('keeps the elements of a newer write that shares its batch with a read repair of the metadata held here', () => {
    // A coordinator's batch: its read repair (the version held here again) and its next write.
    const repair = write(meta(5, 3, 4));
    const next = write(meta(6, 4, 5), element(6, 'd'));
    const j = judgeLineage(held(meta(5, 3, 4)), [...repair, ...next], (i) => i > 0);
    expect(j.items.map((i) => i.key)).toContainEqual(next[1]!.key);
    expect(j.suspects).toEqual([]);
    // In the other order too: the repair queued after the write.
    const k = judgeLineage(held(meta(5, 3, 4)), [...next, ...repair], (i) => i < 2);
    expect(k.items.map((i) => i.key)).toContainEqual(next[1]!.key);
  });

  it('marks the collection suspect, and holds the records back, when element records of its generation come without metadata', () => {
    const j = judgeLineage(held(meta(5, 3, 4)), [element(6, 'a'), element(6, 'b')]);
    expect(j.marks).toEqual([recordKey(KEY)]);
    expect(j.suspects).toEqual([recordKey(KEY)]);
    // Held back: the heal brings them if they belong to the history the source holds.
    expect(j.items).toHaveLength(0);
    // Of another generation, or of a key held as nothing here: nothing to mark.
    expect(judgeLineage(held(meta(5, 3, 4)), [element(6, 'a', OTHER_GEN)]).marks).toEqual([]);
    expect(judgeLineage(held(undefined), [element(6, 'a')]).marks).toEqual([]);
    // A deleted element's tombstone counts as an element record too.
    const tombstone = element(6, 'c');
    tombstone.record = { ...tombstone.record, type: ValueType.Tombstone };
    expect(judgeLineage(held(meta(5, 3, 4)), [tombstone]).marks).toEqual([recordKey(KEY)]);
  });
});
