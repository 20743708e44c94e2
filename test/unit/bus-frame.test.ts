/**
 * Goal: the bus frame codec turns any cut of a valid byte stream back into the same frames with the
 * same payload types, and reports (never throws on, never hangs on) malformed input.
 * Method: encode known frames, feed them back whole, merged, split at every byte and in random
 * chunkings, and compare; then feed hand-made bad frames and check each yields an error.
 */
import { describe, expect, it } from 'vitest';
import {
  encodeFrame,
  FrameDecoder,
  FrameKind,
  FRAME_HEADER_BYTES,
  type Frame,
} from '../../src/cluster/bus/frame.js';

const sample = {
  key: Buffer.from('user:1'),
  value: Buffer.from([0, 1, 2, 255]),
  version: 123456789012345678n,
  nested: { list: [1, -2, 3.5, 'x', null, true, false], empty: {} },
  big: 2 ** 40,
  text: 'héllo',
};

function encodeAll(frames: [FrameKind, number, string, unknown][]): Buffer {
  return Buffer.concat(frames.flatMap(([k, id, t, p]) => encodeFrame(k, id, t, p)));
}

function decodeChunks(chunks: Buffer[], max?: number): { frames: Frame[]; error?: string } {
  const decoder = new FrameDecoder(max);
  const frames: Frame[] = [];
  for (const c of chunks) {
    const r = decoder.push(c);
    frames.push(...r.frames);
    if (r.error) return { frames, error: r.error.message };
  }
  return { frames };
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('bus frame codec', () => {
  it('round-trips kinds, ids, types and msgpack payloads, Buffers as Buffers', () => {
    const wire = encodeAll([
      [FrameKind.request, 1, 'kv.put', sample],
      [FrameKind.response, 0xffffffff, '', 'ok'],
      [FrameKind.errorResponse, 7, '', 'boom'],
      [FrameKind.oneway, 0, 'gossip', [null]],
    ]);
    const { frames, error } = decodeChunks([wire]);
    expect(error).toBeUndefined();
    expect(frames.map((f) => [f.kind, f.id, f.type])).toEqual([
      [FrameKind.request, 1, 'kv.put'],
      [FrameKind.response, 0xffffffff, ''],
      [FrameKind.errorResponse, 7, ''],
      [FrameKind.oneway, 0, 'gossip'],
    ]);
    const payload = frames[0]!.payload as typeof sample;
    expect(payload).toEqual(sample);
    expect(Buffer.isBuffer(payload.key)).toBe(true);
    expect(Buffer.isBuffer(payload.value)).toBe(true);
    expect(typeof payload.version).toBe('bigint');
    expect(typeof payload.big).toBe('number');
    expect(frames.reduce((n, f) => n + f.wireBytes, 0)).toBe(wire.length);
  });

  it('decodes the same frames from every split point and from random chunkings', () => {
    const input: [FrameKind, number, string, unknown][] = [];
    for (let i = 0; i < 20; i++) input.push([FrameKind.request, i + 1, `t${i % 3}`, { i, b: Buffer.alloc(i * 7, i) }]);
    const wire = encodeAll(input);
    // A flat text form keeps thousands of comparisons cheap.
    const show = (frames: Frame[]): string =>
      frames
        .map((f) => {
          const p = f.payload as { i: number; b: Buffer };
          return `${f.kind}/${f.id}/${f.type}/${p.i}/${Buffer.isBuffer(p.b)}/${p.b.toString('hex')}`;
        })
        .join('\n');
    const expected = show(decodeChunks([wire]).frames);
    expect(expected.split('\n')).toHaveLength(20);
    for (let cut = 0; cut <= wire.length; cut++) {
      const got = decodeChunks([wire.subarray(0, cut), wire.subarray(cut)]);
      expect(got.error).toBeUndefined();
      expect(show(got.frames)).toBe(expected);
    }
    const next = rng(42);
    for (let round = 0; round < 50; round++) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < wire.length; ) {
        const n = 1 + Math.floor(next() * 40);
        chunks.push(wire.subarray(at, at + n));
        at += n;
      }
      expect(show(decodeChunks(chunks).frames)).toBe(expected);
    }
  });

  it('reassembles a large frame arriving in socket-sized chunks, payload intact and unshared', () => {
    const value = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < value.length; i += 4096) value[i] = i & 0xff;
    const wire = Buffer.concat([...encodeFrame(FrameKind.request, 9, 'big', { value }), ...encodeFrame(FrameKind.oneway, 0, 'after', 1)]);
    const chunks: Buffer[] = [];
    for (let at = 0; at < wire.length; at += 65536) chunks.push(Buffer.from(wire.subarray(at, at + 65536)));
    const { frames, error } = decodeChunks(chunks);
    expect(error).toBeUndefined();
    expect(frames).toHaveLength(2);
    const got = (frames[0]!.payload as { value: Buffer }).value;
    expect(Buffer.isBuffer(got)).toBe(true);
    expect(got.equals(value)).toBe(true);
    expect(frames[1]!.type).toBe('after');
  });

  it('copies binary values out of frames that are views into a read chunk', () => {
    const chunk = Buffer.concat(encodeFrame(FrameKind.oneway, 0, 'm', { b: Buffer.from('abc') }));
    const { frames } = decodeChunks([chunk]);
    const b = (frames[0]!.payload as { b: Buffer }).b;
    expect(b.toString()).toBe('abc');
    expect(b.buffer === chunk.buffer).toBe(false);
  });

  it('reports malformed streams as errors', () => {
    const good = Buffer.concat(encodeFrame(FrameKind.request, 1, 'ok', 1));
    const header = (length: number): Buffer => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(length);
      return b;
    };
    const badKind = Buffer.from(good);
    badKind[4] = 9;
    const badTypeLength = Buffer.from(good);
    badTypeLength.writeUInt16BE(200, 9);
    const badPayload = Buffer.from(good);
    badPayload[badPayload.length - 1] = 0xd9; // str8 with its length byte missing
    const trailing = Buffer.concat([header(good.length - 4 + 1), good.subarray(4), Buffer.from([0])]);
    const cases: [string, Buffer[], number?][] = [
      ['too short', [header(3), Buffer.alloc(3)]],
      ['huge length', [header(0xffffffff)]],
      ['over the configured limit', [good], FRAME_HEADER_BYTES + 2],
      ['unknown kind', [badKind]],
      ['type longer than the frame', [badTypeLength]],
      ['undecodable payload', [badPayload]],
      ['trailing bytes after the payload', [trailing]],
      ['text', [Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]],
    ];
    for (const [name, chunks, max] of cases) {
      const got = decodeChunks(chunks, max);
      expect(got.error, name).toBeDefined();
    }
    const decoder = new FrameDecoder();
    expect(decoder.push(Buffer.concat([good, badKind])).frames).toHaveLength(1);
    // After an error the decoder stays failed rather than resynchronising on garbage.
    expect(decoder.push(good).error).toBeDefined();
  });

  it('survives random garbage without throwing', () => {
    const next = rng(7);
    for (let round = 0; round < 2000; round++) {
      const bytes = Buffer.alloc(1 + Math.floor(next() * 64));
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(next() * 256);
      // Plausible lengths half the time, so the bytes reach the body parser and msgpack.
      if (round % 2 === 0 && bytes.length >= 4) bytes.writeUInt32BE(7 + Math.floor(next() * 60), 0);
      expect(() => new FrameDecoder(1024).push(bytes)).not.toThrow();
    }
  });
});
