/**
 * Goal: the removed-records list WATCH consults keeps each key's newest removed record, copies
 * what it keeps, and forgets the oldest keys past its bound.
 */
import { describe, expect, it } from 'vitest';
import { RemovedRecords } from '../../src/storage/removed-records.js';
import { TOMBSTONE_OF_NOTHING, ValueType, type StoredRecord } from '../../src/storage/types.js';

function rec(versionByte: number, type = ValueType.String, value: Buffer = Buffer.from('v')): StoredRecord {
  return { version: Buffer.alloc(16, versionByte), clock: [], type, expiresAt: 0, value };
}

describe('removed records', () => {
  it('keeps the newest version per key, whatever the order of the notes', () => {
    const r = new RemovedRecords(10);
    r.note('k', rec(5));
    r.note('k', rec(3));
    expect(r.get('k')!.version[0]).toBe(5);
    r.note('k', rec(7, ValueType.Tombstone));
    expect(r.get('k')).toMatchObject({ type: ValueType.Tombstone });
    expect(r.get('k')!.version[0]).toBe(7);
  });

  it('does not let the deletion of nothing hide the removal before it', () => {
    const r = new RemovedRecords(10);
    r.note('k', rec(5));
    r.note('k', { ...rec(9, ValueType.Tombstone), expiresAt: TOMBSTONE_OF_NOTHING });
    expect(r.get('k')!.version[0]).toBe(5);
    r.note('n', { ...rec(9, ValueType.Tombstone), expiresAt: TOMBSTONE_OF_NOTHING });
    expect(r.get('n')).toBeUndefined();
  });

  it('copies versions and keeps a stream\'s metadata alone', () => {
    const r = new RemovedRecords(10);
    const shared = Buffer.alloc(16, 9);
    r.note('s', { ...rec(1), version: shared, type: ValueType.Stream, value: Buffer.from('meta') });
    r.note('h', rec(1, ValueType.Hash, Buffer.from('hash-meta')));
    shared.fill(0);
    expect(r.get('s')!.version[0]).toBe(9);
    expect(r.get('s')!.value?.toString()).toBe('meta');
    expect(r.get('h')!.value).toBeUndefined();
  });

  it('forgets the key removed longest ago once full, and a key noted again counts as new', () => {
    const r = new RemovedRecords(3);
    r.note('a', rec(1));
    r.note('b', rec(1));
    r.note('c', rec(1));
    r.note('a', rec(2));
    r.note('d', rec(1));
    expect(r.get('b')).toBeUndefined();
    expect(r.get('a')!.version[0]).toBe(2);
    expect(r.size).toBe(3);
    r.clear();
    expect(r.get('a')).toBeUndefined();
  });
});
