/**
 * Goal: stream ids parse, order and advance exactly as Redis 7.0's t_stream.c (string2ull's
 * rules, `-`/`+`, `ms-*`, exclusive bounds, `*` never going backwards), and the stream records'
 * encodings read back what was written.
 * Method: table-driven cases taken from redis-server's answers, plus round trips of every codec.
 */
import { describe, expect, it } from 'vitest';
import {
  compareIds, decodeId, encodeId, formatId, MAX_ID, nextEntryId, nextId, parseId, parseRangeBound, parseU64, prevId, U64_MAX,
} from '../../src/collections/stream-id.js';
import {
  decodeConsumer, decodeGroup, decodeNode, decodePending, decodeStreamMeta, emptyStreamMeta, encodeConsumer, encodeEntry, encodeGroup,
  encodeNode, encodePending, encodeStreamMeta, entryFields, entryNode,
} from '../../src/collections/stream-codec.js';
import { entriesReadAt, groupLag, hasTombstonesFrom } from '../../src/collections/stream-lag.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('stream ids', () => {
  it('reads u64 text as string2ull: plain integers, then strtoull for the rest', () => {
    expect(parseU64('0')).toBe(0n);
    expect(parseU64('18446744073709551615')).toBe(U64_MAX);
    expect(parseU64('18446744073709551616')).toBeUndefined();
    expect(parseU64('-1')).toBeUndefined();
    expect(parseU64(' 20')).toBe(20n);
    expect(parseU64('+7')).toBe(7n);
    expect(parseU64('007')).toBe(7n);
    expect(parseU64('-0')).toBe(0n);
    expect(parseU64('')).toBeUndefined();
    expect(parseU64('1x')).toBeUndefined();
  });

  it('parses ms-seq, ms with a default sequence, -, + and ms-* where allowed', () => {
    expect(parseId(b('5-3'), 0n, true)?.id).toEqual({ ms: 5n, seq: 3n });
    expect(parseId(b('5'), 0n, true)?.id).toEqual({ ms: 5n, seq: 0n });
    expect(parseId(b('5'), U64_MAX, false)?.id).toEqual({ ms: 5n, seq: U64_MAX });
    expect(parseId(b('-'), 0n, false)?.id).toEqual({ ms: 0n, seq: 0n });
    expect(parseId(b('+'), 0n, false)?.id).toEqual(MAX_ID);
    expect(parseId(b('-'), 0n, true)).toBeUndefined();
    expect(parseId(b('5-*'), 0n, true)).toBeUndefined();
    expect(parseId(b('5-*'), 0n, true, true)).toEqual({ id: { ms: 5n, seq: 0n }, seqGiven: false });
    for (const bad of ['', '1-', '-1', '1-2-3', 'x', '1-x', '(1']) expect(parseId(b(bad), 0n, true), bad).toBeUndefined();
    expect(parseId(b('1'.repeat(128)), 0n, true)).toBeUndefined();
  });

  it('reads exclusive bounds with a strict id after the parenthesis', () => {
    expect(parseRangeBound(b('(5-1'), 0n)).toEqual({ id: { ms: 5n, seq: 1n }, exclusive: true });
    expect(parseRangeBound(b('(-'), 0n)).toBeUndefined();
    expect(parseRangeBound(b('('), 0n)).toBeUndefined();
    expect(parseRangeBound(b('+'), 0n)).toEqual({ id: MAX_ID, exclusive: false });
  });

  it('orders, steps and encodes ids so byte order is id order', () => {
    const ids = [{ ms: 0n, seq: 1n }, { ms: 1n, seq: 0n }, { ms: 1n, seq: U64_MAX }, { ms: 2n ** 40n, seq: 0n }, MAX_ID];
    for (let i = 1; i < ids.length; i++) {
      expect(compareIds(ids[i - 1]!, ids[i]!)).toBe(-1);
      expect(Buffer.compare(encodeId(ids[i - 1]!), encodeId(ids[i]!))).toBe(-1);
      expect(decodeId(encodeId(ids[i]!))).toEqual(ids[i]);
    }
    expect(nextId({ ms: 1n, seq: U64_MAX })).toEqual({ ms: 2n, seq: 0n });
    expect(nextId(MAX_ID)).toBeUndefined();
    expect(prevId({ ms: 2n, seq: 0n })).toEqual({ ms: 1n, seq: U64_MAX });
    expect(prevId({ ms: 0n, seq: 0n })).toBeUndefined();
    expect(formatId({ ms: 12n, seq: 3n })).toBe('12-3');
  });

  it('gives * the clock or, when the clock is not ahead, the last id plus one', () => {
    const last = { ms: 1000n, seq: 5n };
    expect(nextEntryId(last, undefined, 2000)).toEqual({ ms: 2000n, seq: 0n });
    expect(nextEntryId(last, undefined, 1000)).toEqual({ ms: 1000n, seq: 6n });
    // A clock that stepped back never takes ids backwards.
    expect(nextEntryId(last, undefined, 10)).toEqual({ ms: 1000n, seq: 6n });
    expect(nextEntryId({ ms: 1000n, seq: U64_MAX }, undefined, 10)).toEqual({ ms: 1001n, seq: 0n });
    expect(nextEntryId(MAX_ID, undefined, 10)).toBeUndefined();
  });

  it('gives ms-* the next sequence of that ms and refuses ids at or below the last', () => {
    const last = { ms: 1000n, seq: 5n };
    expect(nextEntryId(last, { id: { ms: 1000n, seq: 0n }, seqGiven: false }, 0)).toEqual({ ms: 1000n, seq: 6n });
    expect(nextEntryId(last, { id: { ms: 1001n, seq: 0n }, seqGiven: false }, 0)).toEqual({ ms: 1001n, seq: 0n });
    expect(nextEntryId(last, { id: { ms: 999n, seq: 0n }, seqGiven: false }, 0)).toBeUndefined();
    expect(nextEntryId(last, { id: { ms: 1000n, seq: 5n }, seqGiven: true }, 0)).toBeUndefined();
    expect(nextEntryId(last, { id: { ms: 1000n, seq: 6n }, seqGiven: true }, 0)).toEqual({ ms: 1000n, seq: 6n });
    expect(nextEntryId({ ms: 7n, seq: U64_MAX }, { id: { ms: 7n, seq: 0n }, seqGiven: false }, 0)).toBeUndefined();
  });
});

describe('stream record encodings', () => {
  it('round-trip metadata, entries, nodes, groups, pending entries and consumers', () => {
    const meta = { ...emptyStreamMeta(), lastId: { ms: 9n, seq: 1n }, firstId: { ms: 2n, seq: 0n }, maxDeletedId: { ms: 4n, seq: 0n }, entriesAdded: 2n ** 60n, nextNode: 3, tailFill: 17, nodes: 2, groups: 5, headNode: 1 };
    expect(decodeStreamMeta(encodeStreamMeta(meta))).toEqual(meta);
    const fields = [b('f'), b(''), b('name'), Buffer.from([0, 255, 10])];
    const entry = encodeEntry(42, fields);
    expect(entryNode(entry)).toBe(42);
    expect(entryFields(entry)).toEqual(fields);
    expect(decodeNode(encodeNode({ live: 99, lastId: MAX_ID }))).toEqual({ live: 99, lastId: MAX_ID });
    const g = { lastId: { ms: 1n, seq: 2n }, entriesRead: -1n, pending: 7, consumers: 3 };
    expect(decodeGroup(encodeGroup(g))).toEqual(g);
    const p = { deliveryTime: 1_700_000_000_000, deliveries: 12n, consumer: b('worker-1') };
    expect(decodePending(encodePending(p))).toEqual(p);
    expect(decodeConsumer(encodeConsumer({ seenTime: 5, pending: 8 }))).toEqual({ seenTime: 5, pending: 8 });
  });
});

describe('group lag', () => {
  it('follows Redis: exact without tombstones ahead, estimated from the counters otherwise', () => {
    const meta = { ...emptyStreamMeta(), lastId: { ms: 10n, seq: 0n }, firstId: { ms: 1n, seq: 0n }, entriesAdded: 10n };
    expect(groupLag(meta, 10, { lastId: { ms: 4n, seq: 0n }, entriesRead: 4n, pending: 0, consumers: 0 })).toBe(6n);
    expect(groupLag(meta, 10, { lastId: { ms: 10n, seq: 0n }, entriesRead: -1n, pending: 0, consumers: 0 })).toBe(0n);
    expect(entriesReadAt(meta, 10, { ms: 1n, seq: 0n })).toBe(1n);
    expect(entriesReadAt(meta, 10, { ms: 11n, seq: 0n })).toBe(-1n);
    const holed = { ...meta, maxDeletedId: { ms: 5n, seq: 0n } };
    expect(hasTombstonesFrom(holed, 9, { ms: 4n, seq: 0n })).toBe(true);
    expect(groupLag(holed, 9, { lastId: { ms: 4n, seq: 0n }, entriesRead: 4n, pending: 0, consumers: 0 })).toBeUndefined();
  });
});
