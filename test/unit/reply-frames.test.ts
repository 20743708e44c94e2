// Goal: replyFrames splits encoded replies into exactly the top-level values a client reads, so
// a batch can be answered reply for reply. Method: RESP2 and RESP3 replies as the server sends
// them (nested aggregates, nulls, an attribute, a push) and the split compared with the values.
import { describe, expect, it } from 'vitest';
import { replyFrames } from '../../src/protocol/reply-frames.js';

const split = (raw: string): string[] => {
  const buf = Buffer.from(raw, 'latin1');
  return replyFrames(buf).map((f) => (f.push ? 'push:' : '') + buf.toString('latin1', f.start, f.end));
};

describe('replyFrames', () => {
  it('splits simple, bulk, null and nested replies', () => {
    expect(split('+OK\r\n-ERR x\r\n:5\r\n$3\r\nabc\r\n$-1\r\n*-1\r\n')).toEqual(['+OK\r\n', '-ERR x\r\n', ':5\r\n', '$3\r\nabc\r\n', '$-1\r\n', '*-1\r\n']);
    expect(split('*2\r\n$1\r\na\r\n*2\r\n:1\r\n$2\r\n\r\n\r\n+PONG\r\n')).toEqual(['*2\r\n$1\r\na\r\n*2\r\n:1\r\n$2\r\n\r\n\r\n', '+PONG\r\n']);
  });

  it('keeps RESP3 maps, sets, attributes with their value, and marks pushes', () => {
    expect(split('%1\r\n+a\r\n:1\r\n~1\r\n_\r\n|1\r\n+k\r\n+v\r\n:7\r\n>2\r\n+message\r\n+hi\r\n#t\r\n,1.5\r\n(12\r\n=7\r\ntxt:abc\r\n')).toEqual([
      '%1\r\n+a\r\n:1\r\n', '~1\r\n_\r\n', '|1\r\n+k\r\n+v\r\n:7\r\n', 'push:>2\r\n+message\r\n+hi\r\n', '#t\r\n', ',1.5\r\n', '(12\r\n', '=7\r\ntxt:abc\r\n',
    ]);
  });
});
