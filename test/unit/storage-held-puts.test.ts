// Goal: the puts Store.atomically() holds back leave as the same log entries as before they were
// staged in one reused buffer: one Put entry for a lone put, one Batch entry for one slot, one
// Group entry of per-slot parts for several (slots in the order they were first written), items
// in write order, whatever the caller does with its key buffer after the put.
// Method: flush a HeldPuts into an in-memory frame sink and decode each entry.
import { describe, expect, it } from 'vitest';
import { HeldPuts } from '../../src/storage/held-puts.js';
import { decodeLogEntry, LogOp, type FrameSink, type LogEntry } from '../../src/storage/log-entry.js';
import { encodeRecord } from '../../src/storage/record-codec.js';
import { ValueType, type StoredRecord } from '../../src/storage/types.js';

/** A FrameSink that keeps each committed payload. */
class Frames implements FrameSink {
  frameBuffer = Buffer.alloc(0);
  private at = 0;
  private length = 0;
  readonly payloads: Buffer[] = [];
  reserveFrame(length: number): number {
    this.frameBuffer = Buffer.alloc(length + 3);
    this.at = 3;
    this.length = length;
    return this.at;
  }
  commitFrame(): void {
    this.payloads.push(Buffer.from(this.frameBuffer.subarray(this.at, this.at + this.length)));
  }
  entries(): LogEntry[] {
    return this.payloads.map((p) => decodeLogEntry(p));
  }
}

function record(value: string, versionByte: number): StoredRecord {
  return { version: Buffer.alloc(16, versionByte), clock: [], type: ValueType.String, expiresAt: 0, value: Buffer.from(value) };
}

function keysOf(e: LogEntry): string[] {
  if (e.op === LogOp.Batch) return e.items.map((i) => `${i.key.toString()}=${(i.record.value as Buffer).toString()}`);
  if (e.op === LogOp.Put) return [`${e.key.toString()}=${(e.record.value as Buffer).toString()}`];
  return [];
}

describe('HeldPuts', () => {
  it('logs a lone put as a Put entry, copied from the caller\'s buffers', () => {
    const held = new HeldPuts();
    const frames = new Frames();
    const key = Buffer.from('k1');
    held.add(7, key, encodeRecord(record('v1', 1)));
    key.write('zz');
    held.flush(frames);
    const [entry] = frames.entries();
    expect(entry).toMatchObject({ op: LogOp.Put, slot: 7 });
    expect(keysOf(entry!)).toEqual(['k1=v1']);
    expect(held.count).toBe(0);
  });

  it('logs several slots as one Group entry: one Batch per slot, slots in first-written order and items in write order', () => {
    const held = new HeldPuts();
    const frames = new Frames();
    held.add(9, Buffer.from('a'), encodeRecord(record('1', 1)));
    held.add(3, Buffer.from('b'), encodeRecord(record('2', 2)));
    held.add(9, Buffer.from('c'), encodeRecord(record('3', 3)));
    held.add(5, Buffer.from('d'), encodeRecord(record('4', 4)));
    held.add(3, Buffer.from('e'), encodeRecord(record('5', 5)));
    held.flush(frames);
    // One frame, so a torn write cannot bring back one slot's part without the others.
    const [group, ...rest] = frames.entries();
    expect(rest).toEqual([]);
    if (group?.op !== LogOp.Group) throw new Error(`expected a Group entry, got op ${group?.op}`);
    const entries = group.parts.map((p) => decodeLogEntry(p));
    expect(entries.map((e) => [e.op, 'slot' in e ? e.slot : -1])).toEqual([[LogOp.Batch, 9], [LogOp.Batch, 3], [LogOp.Put, 5]]);
    expect(entries.map(keysOf)).toEqual([['a=1', 'c=3'], ['b=2', 'e=5'], ['d=4']]);
  });

  it('grows past its initial buffer and is empty and reusable after a flush', () => {
    const held = new HeldPuts();
    const frames = new Frames();
    const big = 'x'.repeat(10_000);
    for (let i = 0; i < 3; i++) held.add(1, Buffer.from(`k${i}`), encodeRecord(record(big, i + 1)));
    held.flush(frames);
    expect(frames.entries().map((e) => keysOf(e).map((s) => s.length))).toEqual([[10_003, 10_003, 10_003]]);
    held.add(2, Buffer.from('after'), encodeRecord(record('v', 9)));
    held.flush(frames);
    expect(keysOf(frames.entries()[1]!)).toEqual(['after=v']);
  });

  it('holds any number of puts, short and long, across slots, and starts small again after a big command', () => {
    const held = new HeldPuts();
    // Past the item arrays' first size (64) and past what is kept between commands (16,384);
    // keys and values on both sides of the byte-loop copy's limit (64 bytes).
    for (const n of [65, 20_000, 3]) {
      const frames = new Frames();
      const want = new Map<number, string[]>();
      for (let i = 0; i < n; i++) {
        const slot = i % 3;
        const key = `k${i}`.padEnd(i % 2 === 0 ? 70 : 5, '-');
        const value = 'v'.repeat(i % 130);
        held.add(slot, Buffer.from(key), encodeRecord(record(value, 1)));
        want.set(slot, [...(want.get(slot) ?? []), `${key}=${value}`]);
      }
      held.flush(frames);
      expect(held.count).toBe(0);
      const [group] = frames.entries();
      if (group?.op !== LogOp.Group) throw new Error(`expected a Group entry, got op ${group?.op}`);
      const parts = group.parts.map((p) => decodeLogEntry(p));
      expect(parts.map(keysOf)).toEqual([...want.values()]);
    }
  });
});
