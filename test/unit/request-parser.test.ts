import { describe, it, expect } from 'vitest';
import { RequestParser } from '../../src/protocol/request-parser.js';
import type { ParserLimits } from '../../src/protocol/types.js';

// Goal: the request parser gives the verdicts and error texts of Redis networking.c for every framing
// case a client can produce. Method: feed byte streams (whole, byte by byte, split at every boundary)
// and compare the sequence of results with what Redis answers for the same bytes.

const REDIS_LIMITS: ParserLimits = {
  maxBulkLen: 512 * 1024 * 1024,
  maxInlineLen: 64 * 1024,
  maxMultibulkCount: 2147483647,
  maxQueryBuffer: 1024 * 1024 * 1024,
};

/** One parser verdict in a form toEqual can compare: argv as latin1 strings (byte-exact), or a failure tag. */
type Event = string[] | { error: string } | { close: true };

interface Run {
  events: Event[];
  /** bufferedBytes() after the last chunk was drained. */
  buffered: number;
}

interface RunOptions {
  limits?: Partial<ParserLimits>;
  authenticated?: boolean;
  /** Chunk lengths to cut the input into, cycled; default: the whole input at once. */
  chunks?: number[];
}

function bytes(input: string | Buffer): Buffer {
  return typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
}

function drain(parser: RequestParser, events: Event[]): boolean {
  for (;;) {
    const r = parser.next();
    switch (r.kind) {
      case 'incomplete':
        return true;
      case 'command':
        events.push(r.argv.map((a) => a.toString('latin1')));
        break;
      case 'protocol-error':
        events.push({ error: r.message });
        return false;
      case 'close':
        events.push({ close: true });
        return false;
    }
  }
}

function run(input: string | Buffer, options: RunOptions = {}): Run {
  const data = bytes(input);
  const parser = new RequestParser({ ...REDIS_LIMITS, ...options.limits });
  if (options.authenticated === false) parser.authenticated = false;
  const events: Event[] = [];
  const sizes = options.chunks ?? [Math.max(1, data.length)];
  let offset = 0;
  let i = 0;
  while (offset < data.length) {
    const size = sizes[i++ % sizes.length] ?? 1;
    parser.feed(data.subarray(offset, offset + size));
    offset += size;
    if (!drain(parser, events)) break;
  }
  if (data.length === 0) drain(parser, events);
  return { events, buffered: parser.bufferedBytes() };
}

function events(input: string | Buffer, options: RunOptions = {}): Event[] {
  return run(input, options).events;
}

function resp(...args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = bytes(a);
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** The same stream whole, one byte at a time, and cut in two at every position must read the same. */
function expectChunkingInvariant(input: string | Buffer, options: RunOptions = {}): void {
  const data = bytes(input);
  const whole = run(data, options);
  expect(run(data, { ...options, chunks: [1] }), 'byte by byte').toEqual(whole);
  for (let cut = 1; cut < data.length; cut++) {
    expect(run(data, { ...options, chunks: [cut, data.length] }), `cut at ${cut}`).toEqual(whole);
  }
}

describe('RequestParser multibulk requests', () => {
  it('parses a command and reports incomplete until it is whole', () => {
    const parser = new RequestParser(REDIS_LIMITS);
    expect(parser.next()).toEqual({ kind: 'incomplete' });
    parser.feed(Buffer.from('*2\r\n$3\r\nGET\r\n$3\r\nfo'));
    expect(parser.next()).toEqual({ kind: 'incomplete' });
    expect(parser.bufferedBytes()).toBe(5);
    parser.feed(Buffer.from('o\r\n'));
    const r = parser.next();
    expect(r.kind).toBe('command');
    if (r.kind === 'command') expect(r.argv).toEqual([Buffer.from('GET'), Buffer.from('foo')]);
    expect(parser.next()).toEqual({ kind: 'incomplete' });
    expect(parser.bufferedBytes()).toBe(0);
  });

  it('returns every request of a pipeline delivered in one chunk, in order', () => {
    const stream = Buffer.concat([resp('SET', 'k', 'v'), resp('GET', 'k'), resp('PING'), Buffer.from('PING\r\n'), resp('DEL', 'k')]);
    expect(events(stream)).toEqual([['SET', 'k', 'v'], ['GET', 'k'], ['PING'], ['PING'], ['DEL', 'k']]);
  });

  it('keeps bulks binary-safe: CR, LF, NUL and every byte value survive', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const tricky = Buffer.from('a\r\nb\0c\r\n$3\r\n*1\r\n', 'latin1');
    const run1 = events(resp('SET', tricky, all));
    expect(run1).toEqual([['SET', tricky.toString('latin1'), all.toString('latin1')]]);
  });

  it('accepts an empty bulk', () => {
    expect(events('*2\r\n$3\r\nGET\r\n$0\r\n\r\n')).toEqual([['GET', '']]);
  });

  it('skips *0, *-1 and other non-positive counts silently', () => {
    expect(events('*0\r\n*-1\r\n*-10\r\n*1\r\n$4\r\nPING\r\n')).toEqual([['PING']]);
    expect(run('*0\r\n*-1\r\n')).toEqual({ events: [], buffered: 0 });
    // LLONG_MIN is still a valid number, so it is a skip, not an error.
    expect(events('*-9223372036854775808\r\n*1\r\n$4\r\nPING\r\n')).toEqual([['PING']]);
  });

  it('counts the CRLF after a bulk by position without checking it, as Redis does', () => {
    expect(events('*1\r\n$3\r\nfooXY*1\r\n$4\r\nPING\r\n')).toEqual([['foo'], ['PING']]);
  });

  it('needs a byte after the header CR but does not look at it, as Redis does', () => {
    expect(events('*1\rX$4\r\nPING\r\n')).toEqual([['PING']]);
    expect(events('*1\r')).toEqual([]);
  });

  it('waits for the CR before judging a bulk header', () => {
    const parser = new RequestParser(REDIS_LIMITS);
    parser.feed(Buffer.from('*1\r\nfoo'));
    expect(parser.next()).toEqual({ kind: 'incomplete' });
    parser.feed(Buffer.from('\r\n'));
    expect(parser.next()).toEqual({ kind: 'protocol-error', message: "expected '$', got 'f'" });
  });

  it('reads big bulks arriving in small chunks', () => {
    const value = Buffer.alloc(200_000);
    for (let i = 0; i < value.length; i++) value[i] = (i * 7 + 3) & 0xff;
    const stream = Buffer.concat([resp('SET', 'big', value), resp('GET', 'big')]);
    const expected = [['SET', 'big', value.toString('latin1')], ['GET', 'big']];
    expect(events(stream, { chunks: [1460] })).toEqual(expected);
    expect(events(stream, { chunks: [7, 1, 65536, 3] })).toEqual(expected);
    expect(events(stream)).toEqual(expected);
  });

  it('reads a big bulk fed one byte at a time, including its CRLF split across feeds', () => {
    const value = Buffer.alloc(40_000, 0x61);
    expect(events(Buffer.concat([resp('SET', 'k', value), resp('PING')]), { chunks: [1] })).toEqual([
      ['SET', 'k', value.toString('latin1')],
      ['PING'],
    ]);
  });
});

describe('RequestParser multibulk protocol errors', () => {
  const cases: [string, string | Buffer, string][] = [
    ['non-numeric count', '*abc\r\n', 'invalid multibulk length'],
    ['empty count', '*\r\n', 'invalid multibulk length'],
    ['count with a plus sign', '*+1\r\n', 'invalid multibulk length'],
    ['count with a leading zero', '*01\r\n', 'invalid multibulk length'],
    ['count with a space', '* 1\r\n', 'invalid multibulk length'],
    ['count -0', '*-0\r\n', 'invalid multibulk length'],
    ['count above INT_MAX', '*3000000000\r\n', 'invalid multibulk length'],
    ['count LLONG_MAX', '*9223372036854775807\r\n', 'invalid multibulk length'],
    ['count below LLONG_MIN', '*-9223372036854775809\r\n', 'invalid multibulk length'],
    ['count of 21 characters', '*-92233720368547758080\r\n', 'invalid multibulk length'],
    ['wrong payload header (Redis test suite)', '*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n', "expected '$', got 'f'"],
    ['negative bulk length', '*1\r\n$-1\r\n', 'invalid bulk length'],
    ['negative bulk length -10', '*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n', 'invalid bulk length'],
    ['bulk length above proto-max-bulk-len', '*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n', 'invalid bulk length'],
    ['non-numeric bulk length', '*1\r\n$abc\r\n', 'invalid bulk length'],
    ['empty bulk length', '*1\r\n$\r\n', 'invalid bulk length'],
    ['bulk length with leading zero', '*1\r\n$03\r\nfoo\r\n', 'invalid bulk length'],
  ];
  for (const [name, input, message] of cases) {
    it(`${name} → ${message}`, () => {
      expect(events(input)).toEqual([{ error: message }]);
    });
  }

  it("shows the unexpected byte raw in expected '$'", () => {
    expect(events('*1\r\n\x01abc\r\n')).toEqual([{ error: "expected '$', got '\x01'" }]);
  });

  it('applies maxMultibulkCount and maxBulkLen from the limits', () => {
    const limits = { maxMultibulkCount: 1000, maxBulkLen: 1024 * 1024 };
    expect(events('*1001\r\n', { limits })).toEqual([{ error: 'invalid multibulk length' }]);
    expect(events('*1000\r\n', { limits })).toEqual([]);
    expect(events('*1\r\n$1048577\r\n', { limits })).toEqual([{ error: 'invalid bulk length' }]);
    expect(run('*1\r\n$1048576\r\nabc', { limits })).toEqual({ events: [], buffered: 3 });
  });

  it('rejects a count header longer than maxInlineLen without CR', () => {
    const limit = REDIS_LIMITS.maxInlineLen;
    expect(events('*' + '1'.repeat(limit - 1))).toEqual([]);
    expect(events('*' + '1'.repeat(limit))).toEqual([{ error: 'too big mbulk count string' }]);
    // Chunked the same way a socket would deliver it.
    expect(events('*' + '1'.repeat(limit + 100), { chunks: [1000] })).toEqual([{ error: 'too big mbulk count string' }]);
  });

  it('rejects a bulk header longer than maxInlineLen without CR', () => {
    const limit = REDIS_LIMITS.maxInlineLen;
    expect(events('*1\r\n$' + '1'.repeat(limit - 1))).toEqual([]);
    expect(events('*1\r\n$' + '1'.repeat(limit))).toEqual([{ error: 'too big bulk count string' }]);
    expect(events('*1\r\n$' + '1'.repeat(limit + 100), { chunks: [3, 1000] })).toEqual([{ error: 'too big bulk count string' }]);
  });

  it('stays failed after an error: same verdict again, later bytes ignored, buffers released', () => {
    const parser = new RequestParser(REDIS_LIMITS);
    parser.feed(Buffer.from('*1\r\n$3\r\nfoo\r\n*x\r\n*1\r\n$4\r\nPING\r\n'));
    expect(parser.next().kind).toBe('command');
    const err = parser.next();
    expect(err).toEqual({ kind: 'protocol-error', message: 'invalid multibulk length' });
    parser.feed(Buffer.from('*1\r\n$4\r\nPING\r\n'));
    expect(parser.next()).toEqual(err);
    expect(parser.bufferedBytes()).toBe(0);
  });
});

describe('RequestParser inline requests', () => {
  it('splits on whitespace and strips one optional CR', () => {
    expect(events('PING\r\nPING\nset  a\tb \r\n  get a  \n')).toEqual([['PING'], ['PING'], ['set', 'a', 'b'], ['get', 'a']]);
  });

  it('ignores empty and blank lines', () => {
    expect(events('\r\n\n   \r\n\t\nPING\r\n')).toEqual([['PING']]);
    expect(run('\r\n\r\n')).toEqual({ events: [], buffered: 0 });
  });

  it('skips \\v and \\f before a token but keeps them inside one, like sdssplitargs', () => {
    expect(events('\x0b\x0cGET a\x0bb\n')).toEqual([['GET', 'a\x0bb']]);
  });

  it('treats a bare CR inside the line as a separator', () => {
    expect(events('a\rb\r\n')).toEqual([['a', 'b']]);
  });

  it('ends the arguments at a NUL byte, as sdssplitargs does on a C string', () => {
    expect(events('GET a\0b c\n')).toEqual([['GET', 'a']]);
  });

  it('decodes escapes inside double quotes', () => {
    expect(events('SET k "a\\nb\\rc\\td\\be\\af\\\\g\\"h\\q"\n')).toEqual([['SET', 'k', 'a\nb\rc\td\be\x07f\\g"hq']]);
    expect(events('SET k "\\x00\\xff\\x7A\\xzz\\x4"\n')).toEqual([['SET', 'k', '\x00\xffzxzzx4']]);
  });

  it("takes single quotes literally except for \\'", () => {
    expect(events("SET k 'it\\'s \\n \"x\"'\n")).toEqual([['SET', 'k', 'it\'s \\n "x"']]);
  });

  it('joins quoted text to the unquoted prefix of the same token', () => {
    expect(events('SET k a"b c"\n')).toEqual([['SET', 'k', 'ab c']]);
  });

  it('accepts empty quoted arguments', () => {
    expect(events('SET "" \'\'\n')).toEqual([['SET', '', '']]);
  });

  it('needs whitespace or end of line after a closing quote', () => {
    expect(events('SET "a"b\n')).toEqual([{ error: 'unbalanced quotes in request' }]);
    expect(events("SET 'a'b\n")).toEqual([{ error: 'unbalanced quotes in request' }]);
    expect(events('SET "a"\tb\n')).toEqual([['SET', 'a', 'b']]);
    expect(events('SET "a"\r\n')).toEqual([['SET', 'a']]);
  });

  it('reports unterminated quotes', () => {
    for (const line of ['SET "abc\n', "SET 'abc\n", 'SET "abc\\"\n', "SET 'abc\\'\n", 'SET "a\0"\n', 'SET "\\\n']) {
      expect(events(line), JSON.stringify(line)).toEqual([{ error: 'unbalanced quotes in request' }]);
    }
  });

  it('rejects a line longer than maxInlineLen without newline', () => {
    const limit = REDIS_LIMITS.maxInlineLen;
    expect(run('a'.repeat(limit))).toEqual({ events: [], buffered: limit });
    expect(events('a'.repeat(limit + 1))).toEqual([{ error: 'too big inline request' }]);
    expect(events('a'.repeat(limit + 1), { chunks: [1024] })).toEqual([{ error: 'too big inline request' }]);
  });

  it('accepts a long line whose newline arrives in the same read, as Redis does', () => {
    const arg = 'x'.repeat(REDIS_LIMITS.maxInlineLen + 10);
    expect(events(`SET k ${arg}\n`)).toEqual([['SET', 'k', arg]]);
  });

  it('mixes with multibulk requests in one pipeline', () => {
    expect(events(Buffer.concat([Buffer.from('PING\r\n'), resp('ECHO', 'x y'), Buffer.from('ECHO "x y"\n')]))).toEqual([
      ['PING'],
      ['ECHO', 'x y'],
      ['ECHO', 'x y'],
    ]);
  });
});

describe('RequestParser cross-protocol requests', () => {
  it('closes silently on an HTTP POST', () => {
    expect(events('POST / HTTP/1.1\r\nHost: localhost\r\n\r\n')).toEqual([{ close: true }]);
  });

  it('closes on Host: after running the line before it', () => {
    expect(events('GET / HTTP/1.1\r\nHost: localhost\r\n')).toEqual([['GET', '/', 'HTTP/1.1'], { close: true }]);
  });

  it('matches the names case-insensitively and in multibulk form too', () => {
    expect(events(resp('post', 'x'))).toEqual([{ close: true }]);
    expect(events(resp('hOsT:'))).toEqual([{ close: true }]);
  });

  it('leaves similar names alone', () => {
    expect(events('POSTS\nHOST x\nPOS\n')).toEqual([['POSTS'], ['HOST', 'x'], ['POS']]);
  });
});

describe('RequestParser unauthenticated limits', () => {
  const unauth = { authenticated: false } as const;

  it('rejects more than 10 arguments', () => {
    expect(events('*11\r\n', unauth)).toEqual([{ error: 'unauthenticated multibulk length' }]);
    const ten = resp(...Array.from({ length: 10 }, (_, i) => `a${i}`));
    expect(events(ten, unauth)).toHaveLength(1);
    expect(events('*11\r\n')).toEqual([]);
  });

  it('rejects a bulk longer than 16384 bytes', () => {
    expect(events('*1\r\n$16385\r\n', unauth)).toEqual([{ error: 'unauthenticated bulk length' }]);
    expect(events(resp('AUTH', 'p'.repeat(16384)), unauth)).toEqual([['AUTH', 'p'.repeat(16384)]]);
  });

  it('reports the general errors first, as Redis orders its checks', () => {
    expect(events('*1\r\n$-1\r\n', unauth)).toEqual([{ error: 'invalid bulk length' }]);
    expect(events('*3000000000\r\n', unauth)).toEqual([{ error: 'invalid multibulk length' }]);
  });

  it('caps the query buffer at 1 MiB', () => {
    const inline = 'a'.repeat(1024 * 1024 + 1);
    // Raise maxInlineLen so that the query-buffer limit is what trips.
    const limits = { maxInlineLen: 4 * 1024 * 1024 };
    expect(events(inline, { ...unauth, limits })).toEqual([{ close: true }]);
    expect(events(inline, { limits })).toEqual([]);
    expect(events('a'.repeat(1024 * 1024), { ...unauth, limits })).toEqual([]);
  });

  it('lifts the limits once the caller marks the client authenticated', () => {
    const parser = new RequestParser(REDIS_LIMITS);
    parser.authenticated = false;
    parser.feed(Buffer.concat([resp('AUTH', 'secret'), resp(...Array.from({ length: 20 }, () => 'x'))]));
    expect(parser.next().kind).toBe('command');
    parser.authenticated = true;
    const r = parser.next();
    expect(r.kind === 'command' && r.argv.length).toBe(20);
  });
});

describe('RequestParser query buffer limit', () => {
  const limits = { maxQueryBuffer: 1000 };

  it('closes without reply once unparsed bytes pass maxQueryBuffer', () => {
    const parser = new RequestParser({ ...REDIS_LIMITS, ...limits });
    parser.feed(Buffer.from('*1\r\n$2000\r\n'));
    parser.feed(Buffer.alloc(900, 0x61));
    expect(parser.next()).toEqual({ kind: 'incomplete' });
    expect(parser.bufferedBytes()).toBeLessThanOrEqual(1000);
    parser.feed(Buffer.alloc(100, 0x61));
    expect(parser.next()).toEqual({ kind: 'incomplete' });
    expect(parser.bufferedBytes()).toBe(1000);
    parser.feed(Buffer.alloc(1, 0x61));
    const r = parser.next();
    expect(r.kind).toBe('close');
    expect(parser.next()).toEqual(r);
    expect(parser.bufferedBytes()).toBe(0);
  });

  it('allows exactly maxQueryBuffer bytes', () => {
    expect(run('a'.repeat(1000), { limits: { ...limits, maxInlineLen: 5000 } })).toEqual({ events: [], buffered: 1000 });
    expect(events('a'.repeat(1001), { limits: { ...limits, maxInlineLen: 5000 } })).toEqual([{ close: true }]);
  });

  it('does not count requests the caller already drained', () => {
    const request = resp('SET', 'k', 'v'.repeat(800));
    const parser = new RequestParser({ ...REDIS_LIMITS, ...limits });
    for (let i = 0; i < 20; i++) {
      parser.feed(request);
      expect(parser.next().kind).toBe('command');
      expect(parser.next().kind).toBe('incomplete');
    }
  });

  it('counts the arguments of a request in progress, with a per-argument charge', () => {
    // 2000 empty arguments are 12 kB on the wire but hold 2000 objects: the limit must see them.
    const many = '*2000\r\n' + '$0\r\n\r\n'.repeat(2000);
    expect(events(many, { limits: { maxQueryBuffer: 64 * 1024 }, chunks: [600] })).toEqual([{ close: true }]);
    expect(events(many, { limits: { maxQueryBuffer: 1024 * 1024 }, chunks: [600] })).toHaveLength(1);
  });
});

describe('RequestParser chunking', () => {
  const corpus: [string, string | Buffer][] = [
    ['multibulk pipeline', Buffer.concat([resp('SET', 'a\r\nb', ''), resp('GET', 'x'), Buffer.from('*0\r\n*-1\r\n'), resp('PING')])],
    ['inline pipeline', 'PING\r\n\r\nSET "a b" \'c\\\'d\' e\\x\nGET  k\n   \n'],
    ['mixed with an error', Buffer.concat([resp('PING'), Buffer.from('ECHO "x\\x41"\r\n*2\r\n$1\r\na\r\n:1\r\n')])],
    ['unbalanced quotes after a command', 'PING\nSET "a\n'],
    ['bad bulk length', '*2\r\n$3\r\nGET\r\n$-5\r\n'],
    ['bulk terminator not checked', '*1\r\n$3\r\nfooXY*1\r\n$4\r\nPING\r\n'],
    ['cross-protocol', 'PING\r\nPOST / HTTP/1.1\r\n'],
    ['trailing partial request', Buffer.concat([resp('PING'), Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nabc')])],
  ];
  for (const [name, input] of corpus) {
    it(`gives the same results for any split: ${name}`, () => {
      expectChunkingInvariant(input);
    });
  }

  it('gives the same results for any split of a big bulk (fed as 2 chunks)', () => {
    const value = Buffer.alloc(40_000, 0x5a);
    const stream = Buffer.concat([resp('SET', 'k', value), resp('PING')]);
    const whole = run(stream);
    for (let cut = 1; cut < stream.length; cut += 997) {
      expect(run(stream, { chunks: [cut, stream.length] }), `cut at ${cut}`).toEqual(whole);
    }
    // Every cut around the bulk's header and around its end, where the data or its CRLF is split.
    const headerEnd = stream.indexOf('40000\r\n') + 7;
    const dataEnd = headerEnd + value.length;
    for (let cut = headerEnd - 8; cut <= headerEnd + 8; cut++) {
      expect(run(stream, { chunks: [cut, stream.length] }), `cut at ${cut}`).toEqual(whole);
    }
    for (let cut = dataEnd - 4; cut < stream.length; cut++) {
      expect(run(stream, { chunks: [cut, stream.length] }), `cut at ${cut}`).toEqual(whole);
      expect(run(stream, { chunks: [cut, 1] }), `cut at ${cut}, then bytewise`).toEqual(whole);
    }
  });
});

describe('RequestParser memory', () => {
  it('does not allocate a declared length before the bytes arrive', () => {
    const before = process.memoryUsage().arrayBuffers;
    const parsers: RequestParser[] = [];
    // Ten clients each announcing ~512 MiB and sending 100 bytes.
    for (let i = 0; i < 10; i++) {
      const p = new RequestParser(REDIS_LIMITS);
      p.feed(Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870000\r\n'));
      p.feed(Buffer.alloc(100, 0x61));
      expect(p.next()).toEqual({ kind: 'incomplete' });
      expect(p.bufferedBytes()).toBe(104);
      parsers.push(p);
    }
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(grown).toBeLessThan(16 * 1024 * 1024);
    expect(parsers).toHaveLength(10);
  });

  it('hands out arguments that later input never overwrites', () => {
    const parser = new RequestParser(REDIS_LIMITS);
    const big = Buffer.alloc(50_000, 0x42);
    parser.feed(Buffer.concat([resp('SET', 'key1', 'value1'), resp('SET', 'key2', big), Buffer.from('PING x\r\n')]));
    const kept: Buffer[][] = [];
    for (let r = parser.next(); r.kind === 'command'; r = parser.next()) kept.push(r.argv);
    const snapshot = kept.map((argv) => argv.map((a) => Buffer.from(a)));
    // Lots of further traffic, with partial requests left over, forces compaction and reuse of the arena.
    for (let i = 0; i < 500; i++) {
      parser.feed(Buffer.from(`*2\r\n$3\r\nGET\r\n$${5 + String(i).length}\r\nzzzzz${i}\r\n*1\r\n$4\r\nPI`));
      parser.feed(Buffer.from('NG\r\nECHO yyyyyyyyyyyyyyyyyyyyyy\r\n'));
      let r = parser.next();
      while (r.kind === 'command') r = parser.next();
      expect(r.kind).toBe('incomplete');
    }
    expect(kept).toEqual(snapshot);
  });

  it('drains a burst of 50k pipelined requests delivered as one chunk', () => {
    const parser = new RequestParser(REDIS_LIMITS);
    const burst = Buffer.concat(Array.from({ length: 50_000 }, () => resp('GET', 'some-key')));
    parser.feed(burst);
    let n = 0;
    for (let r = parser.next(); r.kind === 'command'; r = parser.next()) n++;
    expect(n).toBe(50_000);
    expect(parser.bufferedBytes()).toBe(0);
  });
});
