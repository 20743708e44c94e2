// Goal: the memtable keeps each key's latest record as encoded bytes and gives back exactly what was
// put: find() by (slot, key), the key, the encoded record and the decoded record of every entry, a
// local removal as no record; bytes handed out earlier (keys, records, views of them) never change
// when the key is written again; `bytes` covers at least what the entries hold. Method: seeded
// random inserts, updates and removals of short, long (over INLINE_KEY_MAX) and big-valued keys,
// compared after every step with a Map model; views taken along the way are checked at the end.
// A checkpoint's index image read from the encoded bytes equals the one of the decoded record.
import { describe, expect, it } from 'vitest';
import { INLINE_KEY_MAX, keyHash } from '../../src/storage/key-layout.js';
import { entryEncoded, entryKey, entryLive, entryRecord, entryTombstone, Memtable } from '../../src/storage/memtable.js';
import { checkpointImage, checkpointImageOf, type IndexImage } from '../../src/storage/checkpoint.js';
import { encodeRecord } from '../../src/storage/record-codec.js';
import { StringForm, ValueType, type StoredRecord } from '../../src/storage/types.js';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

function version(n: number): Buffer {
  const v = Buffer.alloc(16);
  v.writeUIntBE(1_700_000_000_000 + n, 0, 6);
  return v;
}

function record(n: number, value: Buffer, tombstone: boolean): StoredRecord {
  return tombstone
    ? { version: version(n), clock: [], type: ValueType.Tombstone, expiresAt: 0, value: Buffer.alloc(0) }
    : { version: version(n), clock: [{ node: '00000000000000a1', counter: n }], type: ValueType.String, expiresAt: n % 3 === 0 ? 1_800_000_000_000 + n : 0, value };
}

describe('Memtable', () => {
  it('gives back every key and record as put, and never changes bytes it handed out', () => {
    const random = rng(7);
    const m = new Memtable();
    const model = new Map<string, Buffer | undefined>();
    const keys: Array<{ slot: number; key: Buffer }> = [];
    for (let i = 0; i < 300; i++) {
      const length = i % 50 === 0 ? INLINE_KEY_MAX + 1 + Math.floor(random() * 100) : 1 + Math.floor(random() * 40);
      const key = Buffer.alloc(length);
      for (let j = 0; j < length; j++) key[j] = Math.floor(random() * 256);
      keys.push({ slot: Math.floor(random() * 4), key });
    }
    const kept: Array<{ view: Buffer; copy: Buffer }> = [];
    let payload = 0;
    for (let step = 0; step < 5000; step++) {
      const { slot, key } = keys[Math.floor(random() * keys.length)]!;
      const r = random();
      const big = random() < 0.05;
      const value = Buffer.alloc(big ? 3000 + Math.floor(random() * 5000) : Math.floor(random() * 200), step & 0xff);
      const encoded = r < 0.1 ? undefined : encodeRecord(record(step, value, r < 0.25));
      const hash = keyHash(slot, key);
      const entry = m.find(slot, key, hash);
      if (entry === undefined) m.insert(slot, key, hash, encoded, 0, -1, false);
      else m.update(entry, encoded);
      payload += key.length + (encoded?.length ?? 0);
      model.set(`${slot}:${key.toString('hex')}`, encoded === undefined ? undefined : Buffer.from(encoded));
      const found = m.find(slot, key, hash)!;
      expect(entryKey(found).equals(key)).toBe(true);
      const rec = entryRecord(found);
      if (encoded === undefined) {
        expect(rec).toBeUndefined();
        expect(entryLive(found)).toBe(false);
        expect(entryTombstone(found)).toBe(false);
      } else {
        expect(encodeRecord(rec!).equals(encoded)).toBe(true);
        expect(entryLive(found)).toBe(r >= 0.25);
        expect(entryTombstone(found)).toBe(r < 0.25);
        if (step % 7 === 0) kept.push({ view: rec!.version, copy: Buffer.from(rec!.version) }, { view: entryEncoded(found)!, copy: Buffer.from(encoded) });
      }
      if (step % 11 === 0) kept.push({ view: entryKey(found), copy: Buffer.from(key) });
    }
    expect(m.size).toBe(model.size);
    for (const [id, encoded] of model) {
      const [slotText, hex] = id.split(':') as [string, string];
      const key = Buffer.from(hex, 'hex');
      const e = m.find(Number(slotText), key, keyHash(Number(slotText), key))!;
      expect(entryEncoded(e)?.equals(encoded!) ?? encoded === undefined).toBe(true);
    }
    for (const { view, copy } of kept) expect(view.equals(copy)).toBe(true);
    // Every byte an entry holds is counted (bytes an update left behind too).
    expect(m.bytes).toBeGreaterThanOrEqual(payload);
  });

  it('keeps internal-namespace entries in the ordered index while they are live or hide something', () => {
    const m = new Memtable();
    const live = encodeRecord(record(1, Buffer.from('v'), false));
    const dead = encodeRecord(record(2, Buffer.alloc(0), true));
    const key = (b: number): Buffer => Buffer.from([0xff, 0x01, b]);
    const ids = (): string[] => [...m.rangeEntries('\u0000', '\uffff', false)].map((e) => entryKey(e).toString('hex'));
    m.insert(0, key(1), keyHash(0, key(1)), live, 0, -1, false);
    m.insert(0, key(2), keyHash(0, key(2)), dead, 0, -1, false);
    m.insert(0, key(3), keyHash(0, key(3)), dead, 0, -1, true);
    expect(ids()).toEqual(['ff0101', 'ff0103']);
    m.update(m.find(0, key(1), keyHash(0, key(1)))!, dead);
    m.update(m.find(0, key(2), keyHash(0, key(2)))!, live);
    m.update(m.find(0, key(3), keyHash(0, key(3)))!, undefined);
    expect(ids()).toEqual(['ff0102', 'ff0103']);
  });
});

describe('checkpointImageOf', () => {
  it('reads from the encoded bytes the index image checkpointImage derives from the record', () => {
    const records: StoredRecord[] = [
      record(1, Buffer.from('v'), false),
      record(3, Buffer.from('v'), false),
      record(4, Buffer.alloc(0), true),
      // An eviction's tombstone dated back through expiresAt, and a tombstone of nothing.
      { ...record(5, Buffer.alloc(0), true), expiresAt: 1_600_000_000_000 },
      { ...record(6, Buffer.alloc(0), true), expiresAt: 1 },
      // A V2 record (a string form) shifts the header by a byte.
      { ...record(9, Buffer.from('text'), false), form: StringForm.Raw },
      { version: version(12), clock: [], type: ValueType.Element, expiresAt: 2 ** 40 + 17, value: Buffer.from('e') },
    ];
    for (const rec of records) {
      for (const grace of [0, 1000]) {
        const want: IndexImage = { expiresAt: -5, tombstoneMs: -5 };
        const got: IndexImage = { expiresAt: -5, tombstoneMs: -5 };
        checkpointImage(rec, grace, want);
        checkpointImageOf(encodeRecord(rec), grace, got);
        expect(got).toEqual(want);
      }
    }
    const none: IndexImage = { expiresAt: -5, tombstoneMs: -5 };
    checkpointImageOf(undefined, 1000, none);
    expect(none).toEqual({ expiresAt: 0, tombstoneMs: -1 });
  });

  it('scans see exactly the live or hiding entries however many writes came between scans', () => {
    // The ordered index is brought up to date only when a scan asks (a write notes the change):
    // entries that enter and leave it several times between scans, scans after every write and
    // after long write-only stretches, both directions, all against a model.
    const random = rng(11);
    const m = new Memtable();
    const live = encodeRecord(record(1, Buffer.from('v'), false));
    const dead = encodeRecord(record(2, Buffer.alloc(0), true));
    const model = new Map<string, boolean>();
    const below = new Map<string, boolean>();
    for (let step = 0; step < 12_000; step++) {
      const b = Math.floor(random() * 6_000);
      const key = Buffer.from([0xff, 0x02, b >> 8, b & 255]);
      const hex = key.toString('hex');
      const roll = random();
      const encoded = roll < 0.5 ? live : roll < 0.8 ? dead : undefined;
      const found = m.find(3, key, keyHash(3, key));
      if (found === undefined) {
        const hides = random() < 0.3;
        below.set(hex, hides);
        m.insert(3, key, keyHash(3, key), encoded, 0, -1, hides);
      } else m.update(found, encoded);
      model.set(hex, below.get(hex)! || encoded === live);
      // Scans every step early on, then none for 8,500 writes (more notes than a memtable holds
      // before a write applies them, in id order), then now and then.
      if (step < 500 || step === 8_999 || (step >= 9_000 && random() < 0.05)) {
        const want = [...model].filter(([, kept]) => kept).map(([h]) => h).sort();
        const reverse = random() < 0.5;
        const got = [...m.rangeEntries('\u0000', '\uffff', reverse)].map((e) => entryKey(e).toString('hex'));
        expect(got).toEqual(reverse ? [...want].reverse() : want);
      }
    }
  });
});
