// Goal: after a per-element merge, a sorted set's score index is made to say exactly what its
// member records say. Method: scoreIndexFixes over hand-built records in a sorted map standing in
// for the store's range scan: an entry of an old score, a duplicate from another history, a
// missing entry, a -0 member and tombstones, then the fixed records scanned again.
import { describe, expect, it } from 'vitest';
import { countMembers, scoreIndexFixes, type ElementReader } from '../../src/cluster/merged-collection.js';
import { ElementKind, elementKey, elementPrefix, memberPosition } from '../../src/collections/record-keys.js';
import { exactScoreBytes, indexScoreBytes } from '../../src/collections/score-codec.js';
import { ValueType, type StoredRecord } from '../../src/storage/types.js';

const GEN = Buffer.from('0000000100000001', 'hex');
const KEY = Buffer.from('z');
const V1 = Buffer.alloc(16, 1);
const V2 = Buffer.alloc(16, 2);

class Records implements ElementReader {
  readonly map = new Map<string, StoredRecord>();
  put(key: Buffer, rec: StoredRecord): void {
    this.map.set(key.toString('latin1'), rec);
  }
  scanRange(_slot: number, start: Buffer, end: Buffer, _reverse: boolean, visit: (key: Buffer, record: StoredRecord) => boolean): void {
    const lo = start.toString('latin1');
    const hi = end.toString('latin1');
    for (const id of [...this.map.keys()].sort()) if (id >= lo && id < hi && !visit(Buffer.from(id, 'latin1'), this.map.get(id)!)) return;
  }
}

const rec = (type: ValueType, value: Buffer, version = V1): StoredRecord => ({ version, clock: [], type, expiresAt: 0, value });
const memberKey = (m: string): Buffer => elementKey(elementPrefix(ElementKind.Member, KEY, GEN), memberPosition(Buffer.from(m)));
const indexKey = (m: string, score: number): Buffer => elementKey(elementPrefix(ElementKind.Score, KEY, GEN), Buffer.concat([indexScoreBytes(score), Buffer.from(m)]));

function listed(r: Records): string[] {
  const out: string[] = [];
  const prefix = elementPrefix(ElementKind.Score, KEY, GEN);
  r.scanRange(0, prefix, Buffer.concat([prefix, Buffer.from([0xff])]), false, (k, x) => {
    if (x.type === ValueType.Element) out.push(`${k.subarray(prefix.length + 8).toString()}=${k.subarray(prefix.length, prefix.length + 8).toString('hex')}${x.value.length > 0 ? ' (-0)' : ''}`);
    return true;
  });
  return out.sort();
}

describe('a merged sorted set', () => {
  it('gets an index that lists each member once, at its record\'s score', () => {
    const r = new Records();
    // m0 moved from 11 to 12 in one history; the merge brought the member record (12) but not the tombstone of 11.
    r.put(memberKey('m0'), rec(ValueType.Element, exactScoreBytes(12)));
    r.put(indexKey('m0', 11), rec(ValueType.Element, Buffer.alloc(0)));
    r.put(indexKey('m0', 12), rec(ValueType.Element, Buffer.alloc(0)));
    // m1's entry is missing; m2 is right; m3 was deleted (tombstones only); m4 is held at -0.
    r.put(memberKey('m1'), rec(ValueType.Element, exactScoreBytes(5)));
    r.put(memberKey('m2'), rec(ValueType.Element, exactScoreBytes(7)));
    r.put(indexKey('m2', 7), rec(ValueType.Element, Buffer.alloc(0)));
    r.put(memberKey('m3'), rec(ValueType.Tombstone, Buffer.alloc(0)));
    r.put(indexKey('m3', 1), rec(ValueType.Tombstone, Buffer.alloc(0)));
    r.put(memberKey('m4'), rec(ValueType.Element, exactScoreBytes(-0)));
    const { fixes, members } = scoreIndexFixes(r, 0, KEY, GEN, V2);
    expect(members).toBe(4);
    expect(countMembers(r, 0, KEY, GEN)).toBe(4);
    // One tombstone (m0 at 11), two entries (m1, m4).
    expect(fixes.map(([, f]) => f.type).sort()).toEqual([ValueType.Element, ValueType.Element, ValueType.Tombstone].sort());
    for (const [, f] of fixes) expect(f.version).toEqual(V2);
    for (const [k, f] of fixes) r.put(k, f);
    const hex = (s: number): string => indexScoreBytes(s).toString('hex');
    expect(listed(r)).toEqual([`m0=${hex(12)}`, `m1=${hex(5)}`, `m2=${hex(7)}`, `m4=${hex(0)} (-0)`]);
    expect(scoreIndexFixes(r, 0, KEY, GEN, V2).fixes).toEqual([]);
  });
});
