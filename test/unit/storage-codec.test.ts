// Goal: the record codec round-trips every record shape exactly and rejects anything that is not
// a record it wrote. Method: encode/decode fixed and seeded-random records; then truncate, extend
// and flip bytes of valid encodings and expect a RecordCorruptError (never a wrong value).
import { describe, expect, it } from 'vitest';
import { decodeRecord, decodeRecordValue, encodeRecord, encodedRecordSize, RecordCorruptError, versionMs, writeRecord } from '../../src/storage/record-codec.js';
import { appendBatch, appendDrop, appendFlushAll, appendPut, decodeLogEntry, LogOp, type FrameSink } from '../../src/storage/log-entry.js';
import { StringForm, ValueType, type StoredRecord } from '../../src/storage/types.js';

function version(wall: number, logical = 0, node = 1): Buffer {
  const v = Buffer.alloc(16);
  v.writeUIntBE(wall, 0, 6);
  v.writeUInt16BE(logical, 6);
  v.writeUInt32BE(node, 12);
  return v;
}

/** Small deterministic PRNG so failures replay from the printed seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomRecord(r: () => number): StoredRecord {
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
  const clock = Array.from({ length: Math.floor(r() * 4) }, () => ({
    node: bytes(8).toString('hex'),
    counter: Math.floor(r() * 0xffffffff),
  }));
  const kind = Math.floor(r() * 3);
  const base = { version: bytes(16), clock, expiresAt: r() < 0.5 ? 0 : Math.floor(r() * 2 ** 50) };
  if (kind === 0) return { ...base, type: ValueType.Tombstone, expiresAt: 0, value: Buffer.alloc(0) };
  if (kind === 1) {
    const form = [undefined, StringForm.Compact, StringForm.Text, StringForm.Raw][Math.floor(r() * 4)];
    return { ...base, type: ValueType.String, value: bytes(Math.floor(r() * 300)), ...(form === undefined ? {} : { form }) };
  }
  const hash = new Map<string, Buffer>();
  const n = Math.floor(r() * 6);
  for (let i = 0; i < n; i++) hash.set(bytes(Math.floor(r() * 12)).toString('latin1'), bytes(Math.floor(r() * 40)));
  return { ...base, type: ValueType.LegacyHash, value: hash };
}

function expectSame(a: StoredRecord, b: StoredRecord): void {
  expect(b.type).toBe(a.type);
  expect(b.version.equals(a.version)).toBe(true);
  expect(b.expiresAt).toBe(a.expiresAt);
  expect(b.clock).toEqual(a.clock);
  expect(b.form ?? StringForm.Compact).toBe(a.form ?? StringForm.Compact);
  if (a.type === ValueType.LegacyHash) {
    const ah = a.value as Map<string, Buffer>;
    const bh = b.value as Map<string, Buffer>;
    expect([...bh.keys()]).toEqual([...ah.keys()]);
    for (const [k, v] of ah) expect(bh.get(k)!.equals(v)).toBe(true);
  } else {
    expect((b.value as Buffer).equals(a.value as Buffer)).toBe(true);
  }
}

describe('record codec', () => {
  it('round-trips strings, hashes and tombstones with clocks and expiry', () => {
    const recs: StoredRecord[] = [
      { version: version(1_700_000_000_000, 3), clock: [{ node: '00000000000000ff', counter: 7 }], type: ValueType.String, expiresAt: 0, value: Buffer.from('hello') },
      { version: version(5), clock: [], type: ValueType.String, expiresAt: 2 ** 53 - 1, value: Buffer.alloc(0) },
      { version: version(6), clock: [], type: ValueType.LegacyHash, expiresAt: 1234, value: new Map([['f', Buffer.from('v')], ['\u00ff\u0000', Buffer.alloc(0)]]) },
      { version: version(7), clock: [{ node: 'abcdef0123456789', counter: 0xffffffff }], type: ValueType.Tombstone, expiresAt: 0, value: Buffer.alloc(0) },
    ];
    for (const rec of recs) {
      const enc = encodeRecord(rec);
      expect(enc.length).toBe(encodedRecordSize(rec));
      expectSame(rec, decodeRecord(enc));
    }
  });

  it('round-trips seeded random records and writeRecord matches encodeRecord', () => {
    const seed = 20240601;
    const r = rng(seed);
    for (let i = 0; i < 500; i++) {
      const rec = randomRecord(r);
      const enc = encodeRecord(rec);
      const into = Buffer.alloc(enc.length + 10, 0xaa);
      expect(writeRecord(rec, into, 5)).toBe(5 + enc.length);
      expect(into.subarray(5, 5 + enc.length).equals(enc)).toBe(true);
      expectSame(rec, decodeRecord(enc));
    }
  });

  it('reads the type, expiry and value of any record in place as a full decode does', () => {
    // decodeRecordValue serves scans that read element values: elements and tombstones are read
    // in place (no version, no clock), every other kind decoded in full; truncated ones are refused.
    const r = rng(77);
    for (let i = 0; i < 500; i++) {
      const base = randomRecord(r);
      const rec: StoredRecord = r() < 0.5 && base.type !== ValueType.LegacyHash ? { ...base, type: ValueType.Element, form: undefined } : base;
      if (rec.type === ValueType.Element) delete rec.form;
      const enc = encodeRecord(rec);
      const at = Math.floor(r() * 20);
      const chunk = Buffer.concat([Buffer.alloc(at, 0x55), enc, Buffer.alloc(7, 0x66)]);
      const got = decodeRecordValue(chunk, at, at + enc.length);
      const full = decodeRecord(enc);
      expect(got.type).toBe(full.type);
      expect(got.expiresAt).toBe(full.expiresAt);
      if (full.type === ValueType.LegacyHash) expectSame(full, got);
      else expect((got.value as Buffer).equals(full.value as Buffer)).toBe(true);
      if (rec.type === ValueType.Element) {
        expect(() => decodeRecordValue(chunk, at, at + enc.length - 1)).toThrow(RecordCorruptError);
      }
    }
  });

  it('rejects truncated, extended and mislabelled encodings', () => {
    const r = rng(7);
    for (let i = 0; i < 200; i++) {
      const enc = encodeRecord(randomRecord(r));
      const cut = Math.floor(r() * enc.length);
      expect(() => decodeRecord(enc.subarray(0, cut)), `cut at ${cut}`).toThrow(RecordCorruptError);
      expect(() => decodeRecord(Buffer.concat([enc, Buffer.from([0])]))).toThrow(RecordCorruptError);
    }
    const good = encodeRecord({ version: version(1), clock: [], type: ValueType.String, expiresAt: 0, value: Buffer.from('x') });
    const badFormat = Buffer.from(good);
    badFormat[0] = 0x7f;
    expect(() => decodeRecord(badFormat)).toThrow(/format byte/);
    const badType = Buffer.from(good);
    badType[1] = 9;
    expect(() => decodeRecord(badType)).toThrow(/value type/);
    const hugeLen = Buffer.from(good);
    hugeLen.writeUInt32BE(0xffffffff, good.length - 5);
    expect(() => decodeRecord(hugeLen)).toThrow(RecordCorruptError);
  });

  it('refuses to encode records that could not be decoded back', () => {
    const ok: StoredRecord = { version: version(1), clock: [], type: ValueType.String, expiresAt: 0, value: Buffer.from('x') };
    expect(() => encodeRecord({ ...ok, version: Buffer.alloc(15) })).toThrow(/16-byte/);
    expect(() => encodeRecord({ ...ok, expiresAt: -1 })).toThrow(/expiresAt/);
    expect(() => encodeRecord({ ...ok, expiresAt: 1.5 })).toThrow(/expiresAt/);
    expect(() => encodeRecord({ ...ok, clock: [{ node: 'XYZ', counter: 1 }] })).toThrow(/hex/);
    expect(() => encodeRecord({ ...ok, clock: [{ node: '0000000000000001', counter: -1 }] })).toThrow(/counter/);
    expect(() => encodeRecord({ ...ok, type: ValueType.LegacyHash })).toThrow(/Map/);
    expect(() => encodeRecord({ ...ok, type: ValueType.Tombstone })).toThrow(/empty/);
  });

  it('reads records written before strings had a form as Compact, and writes a Compact record in that same layout', () => {
    // A V1 String record as the codec wrote it before the form existed, byte by byte: format 1,
    // type 1, version, expiry 1000 (two u32), one clock entry, u32 length, "12".
    const v = version(1_700_000_000_000, 2);
    const old = Buffer.concat([
      Buffer.from([0x01, 0x01]), v, Buffer.from([0, 0, 0, 0, 0, 0, 0x03, 0xe8]), Buffer.from([0, 1]),
      Buffer.from('00000000000000ff', 'hex'), Buffer.from([0, 0, 0, 7]), Buffer.from([0, 0, 0, 2]), Buffer.from('12'),
    ]);
    const rec = decodeRecord(old);
    expect(rec.form).toBeUndefined();
    expect(rec.expiresAt).toBe(1000);
    expect((rec.value as Buffer).toString()).toBe('12');
    expect(encodeRecord(rec).equals(old)).toBe(true);
    expect(encodeRecord({ ...rec, form: StringForm.Compact }).equals(old)).toBe(true);
    // A form is one byte more, after the type, under format 2.
    const raw = encodeRecord({ ...rec, form: StringForm.Raw });
    expect(raw.length).toBe(old.length + 1);
    expect([raw[0], raw[1], raw[2]]).toEqual([0x02, 0x01, StringForm.Raw]);
    expect(decodeRecord(raw).form).toBe(StringForm.Raw);
    expect(decodeRecord(encodeRecord({ ...rec, form: StringForm.Text })).form).toBe(StringForm.Text);
  });

  it('refuses a string form on anything but a String record, and unknown forms', () => {
    const str: StoredRecord = { version: version(1), clock: [], type: ValueType.String, expiresAt: 0, value: Buffer.from('x') };
    expect(() => encodeRecord({ ...str, type: ValueType.Element, form: StringForm.Raw })).toThrow(/only a String/);
    expect(() => encodeRecord({ ...str, form: 9 as StringForm })).toThrow(/unknown string form/);
    const raw = encodeRecord({ ...str, form: StringForm.Raw });
    const onElement = Buffer.from(raw);
    onElement[1] = ValueType.Element;
    expect(() => decodeRecord(onElement)).toThrow(RecordCorruptError);
    for (const bad of [StringForm.Compact, 3, 0xff]) {
      const b = Buffer.from(raw);
      b[2] = bad;
      expect(() => decodeRecord(b), `form byte ${bad}`).toThrow(RecordCorruptError);
    }
  });

  it('reads the wall-clock ms of a version', () => {
    expect(versionMs(version(1_700_000_000_123, 9))).toBe(1_700_000_000_123);
  });
});

/** Captures each payload written through the frame API, as the commit log would frame it. */
class CaptureSink implements FrameSink {
  readonly payloads: Buffer[] = [];
  frameBuffer: Buffer = Buffer.alloc(0);
  reserveFrame(length: number): number {
    this.frameBuffer = Buffer.alloc(length + 3, 0xee);
    return 3;
  }
  commitFrame(): void {
    this.payloads.push(Buffer.from(this.frameBuffer.subarray(3)));
  }
}

describe('log entries', () => {
  it('round-trips put, drop and flush payloads', () => {
    const sink = new CaptureSink();
    const rec: StoredRecord = { version: version(10), clock: [], type: ValueType.String, expiresAt: 99, value: Buffer.from('v') };
    appendPut(sink, 16383, Buffer.from('key'), encodeRecord(rec));
    appendDrop(sink, 5, Buffer.alloc(0), version(11));
    appendFlushAll(sink);
    const [p0, p1, p2] = sink.payloads.map(decodeLogEntry);
    expect(p0!.op).toBe(LogOp.Put);
    if (p0!.op !== LogOp.Put) throw new Error('unreachable');
    expect(p0!.slot).toBe(16383);
    expect(p0!.key.toString()).toBe('key');
    expectSame(rec, p0!.record);
    expect(p0!.encoded.equals(encodeRecord(rec))).toBe(true);
    expect(p1).toMatchObject({ op: LogOp.Drop, slot: 5 });
    if (p1!.op !== LogOp.Drop) throw new Error('unreachable');
    expect(p1!.version.equals(version(11))).toBe(true);
    expect(p2!.op).toBe(LogOp.FlushAll);
    expect(() => decodeLogEntry(Buffer.from([9, 0, 0, 0, 0, 0, 0]))).toThrow(/unknown log op/);
    expect(() => decodeLogEntry(Buffer.from([1, 0, 0, 0, 0, 0, 9]))).toThrow(/runs past/);
  });

  it('round-trips a batch of puts to one slot, and rejects batches that are empty, torn or padded', () => {
    const sink = new CaptureSink();
    const recs: StoredRecord[] = [
      { version: version(20), clock: [], type: ValueType.String, expiresAt: 0, value: Buffer.from('meta') },
      { version: version(20, 1), clock: [{ node: '00000000000000aa', counter: 3 }], type: ValueType.String, expiresAt: 5, value: Buffer.alloc(300, 7) },
      { version: version(20, 2), clock: [], type: ValueType.Tombstone, expiresAt: 0, value: Buffer.alloc(0) },
    ];
    const keys = [Buffer.from([0xff, 1, 0, 0, 0, 1, 0x61]), Buffer.alloc(0), Buffer.alloc(5000, 0x62)];
    const size = appendBatch(sink, 12345, recs.map((r, i) => ({ key: keys[i]!, encoded: encodeRecord(r) })));
    const payload = sink.payloads[0]!;
    expect(payload.length).toBe(size);
    const entry = decodeLogEntry(payload);
    if (entry.op !== LogOp.Batch) throw new Error(`expected a batch, got op ${entry.op}`);
    expect(entry.slot).toBe(12345);
    expect(entry.items.map((it) => it.key.toString('hex'))).toEqual(keys.map((k) => k.toString('hex')));
    entry.items.forEach((it, i) => {
      expectSame(recs[i]!, it.record);
      expect(it.encoded.equals(encodeRecord(recs[i]!))).toBe(true);
    });
    expect(() => appendBatch(sink, 1, [])).toThrow(RangeError);
    // Any cut inside the batch, and any extra byte after it, is refused rather than half-applied.
    for (const cut of [7, 8, 11, 12, payload.length - 1]) expect(() => decodeLogEntry(payload.subarray(0, cut))).toThrow();
    expect(() => decodeLogEntry(Buffer.concat([payload, Buffer.from([0])]))).toThrow(/after its 3 puts/);
    const empty = Buffer.from(payload.subarray(0, 7));
    empty.writeUInt32BE(0, 3);
    expect(() => decodeLogEntry(empty)).toThrow(/without puts/);
  });
});
