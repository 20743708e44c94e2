// Goal: a bulk reply of a buffer is `$<length>\r\n<bytes>\r\n` for every length, across the decimal
// widths of the header and both ways of copying the value, also when the writer's buffer grows
// in the middle of a reply. Method: a writer with a tiny initial capacity; each reply compared
// with the frame built by string concatenation.
import { describe, expect, it } from 'vitest';
import { ReplyWriter } from '../../src/protocol/reply-writer.js';

describe('ReplyWriter.bulk', () => {
  it('writes the length in decimal and the bytes, for every width', () => {
    const lengths = [0, 1, 9, 10, 31, 32, 33, 99, 100, 101, 999, 1000, 9999, 10000, 65537, 1_000_000];
    const w = new ReplyWriter(2, 8);
    let want = '';
    for (const n of lengths) {
      const v = Buffer.alloc(n);
      for (let i = 0; i < n; i++) v[i] = (i * 7 + n) & 0xff;
      w.bulk(v);
      want += `$${n}\r\n${v.toString('latin1')}\r\n`;
    }
    expect(w.take().toString('latin1')).toBe(want);
  });

  it('writes a value viewed inside a bigger buffer, not what surrounds it', () => {
    const big = Buffer.from('xxxxHELLOyyyy');
    const w = new ReplyWriter(3, 4);
    w.bulk(big.subarray(4, 9));
    w.bulk('héllo');
    expect(w.take().toString('utf8')).toBe('$5\r\nHELLO\r\n$6\r\nhéllo\r\n');
  });
});
