import type { ParseResult, ParserLimits } from './types.js';

const CR = 0x0d;
const LF = 0x0a;
const STAR = 0x2a;
const DOLLAR = 0x24;
const MINUS = 0x2d;
const ZERO = 0x30;
const ONE = 0x31;
const NINE = 0x39;
const SPACE = 0x20;
const TAB = 0x09;
const NUL = 0x00;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const BACKSLASH = 0x5c;
const LOWER_X = 0x78;
const COLON = 0x3a;

/** Redis 7 limits for a client that still owes AUTH (CVE-2021-32675). */
const UNAUTH_MULTIBULK_COUNT_MAX = 10;
const UNAUTH_BULK_LEN_MAX = 16384;
const UNAUTH_QUERY_BUFFER_MAX = 1024 * 1024;

/** PROTO_MBULK_BIG_ARG: from this size on a bulk is read into its own Buffer instead of the arena. */
const BIG_BULK_LEN_MIN = 32 * 1024;
/**
 * Headroom allocated beyond the bytes received when a big bulk starts. A declared length alone is never
 * trusted, so a client that announces 512 MiB and sends nothing costs us this much, not 512 MiB.
 */
const BIG_BULK_MARGIN_BYTES = 64 * 1024;

const ARENA_INITIAL_BYTES = 16 * 1024;
/** An idle arena larger than this (left over from a burst) is swapped for a small one. */
const ARENA_KEEP_MAX_BYTES = 1024 * 1024;
/**
 * Heap cost charged per held argument against the query-buffer limit. Without it a stream of `$0`
 * arguments (6 wire bytes each, up to INT_MAX of them) would grow the heap far past the byte limit.
 */
const ARG_HEAP_COST_BYTES = 64;

const SMALL_COPY_MAX_BYTES = 64;

/** Shared by every empty argument: with no bytes there is nothing anyone could overwrite. */
const EMPTY = Buffer.alloc(0);
const INCOMPLETE: ParseResult = Object.freeze({ kind: 'incomplete' as const });

/**
 * Incremental parser for client requests, following Redis networking.c (processMultibulkBuffer,
 * processInlineBuffer, sdssplitargs) so that malformed input gets the same verdict and the same error
 * text as from Redis.
 *
 * Received bytes are copied into a private arena; every argument handed out is its own copy (or a big
 * bulk's own Buffer, never reused), so callers may keep arguments indefinitely. Parse state survives
 * between feed() calls, so each byte is scanned once however the stream is chunked.
 */
export class RequestParser {
  /**
   * False while the server requires AUTH and this client has not passed it; Redis then caps the
   * multibulk count, the bulk length and the query buffer. Read on every next() and feed().
   */
  authenticated = true;

  private readonly limits: ParserLimits;
  private arena: Buffer = Buffer.allocUnsafe(ARENA_INITIAL_BYTES);
  /** Unparsed bytes are arena[start, end). */
  private start = 0;
  private end = 0;
  /** Bytes after `start` already searched for the current line terminator (relative, so compaction keeps it valid). */
  private scanned = 0;

  /** Arguments still expected by the multibulk request in progress; 0 between requests. */
  private argsLeft = 0;
  private argv: Buffer[] = [];
  private argvBytes = 0;
  /** Length of the bulk being read, -1 while its `$<len>` header is still pending. */
  private bulkLen = -1;
  /** Set while a big bulk is filled straight from feed() instead of via the arena. */
  private bulk: Buffer | null = null;
  private bulkFilled = 0;
  /** CRLF bytes after a big bulk still to skip; like Redis they are counted, not checked. */
  private bulkTrailer = 0;

  /** Once set, the connection is finished: every later next() repeats it. */
  private failure: ParseResult | null = null;

  constructor(limits: ParserLimits) {
    this.limits = limits;
  }

  /** Unparsed bytes held, including arguments of a request not yet complete (CLIENT LIST qbuf). */
  bufferedBytes(): number {
    return this.end - this.start + this.argvBytes + this.bulkFilled;
  }

  /** Unparsed bytes, without the arguments of the request in progress already taken out (CLIENT LIST qbuf). */
  unparsedBytes(): number {
    return this.end - this.start + this.bulkFilled;
  }

  /** Bytes of the arguments of a request not yet complete (CLIENT LIST argv-mem between commands). */
  partialArgvBytes(): number {
    return this.argvBytes;
  }

  /**
   * Room left in the arena holding unparsed bytes (CLIENT LIST qbuf-free, as Redis's sdsavail); for a
   * big bulk in progress, what it still expects too: Redis sizes its query buffer to the announced
   * length at once, so a client's memory (maxmemory-clients) counts it from the header on.
   */
  freeBytes(): number {
    return this.arena.length - (this.end - this.start) + (this.bulk !== null ? this.bulkLen - this.bulkFilled : 0);
  }

  /**
   * Appends received bytes. Like Redis, the query-buffer limit is enforced here, before anything in the
   * chunk is parsed: crossing it drops the data and makes next() answer `close`.
   */
  feed(chunk: Buffer): void {
    if (this.failure !== null || chunk.length === 0) return;
    const held = this.bufferedBytes() + this.argv.length * ARG_HEAP_COST_BYTES;
    if (held + chunk.length > this.queryBufferMax()) {
      this.failure = { kind: 'close', reason: 'query buffer limit reached' };
      this.release();
      return;
    }
    let offset = 0;
    if (this.bulk !== null) {
      const n = Math.min(this.bulkLen - this.bulkFilled, chunk.length);
      if (n > 0) {
        const bulk = this.reserveBulk(this.bulkFilled + n);
        chunk.copy(bulk, this.bulkFilled, 0, n);
        this.bulkFilled += n;
        offset = n;
      }
      if (this.bulkFilled === this.bulkLen) {
        const skip = Math.min(this.bulkTrailer, chunk.length - offset);
        this.bulkTrailer -= skip;
        offset += skip;
      }
    }
    if (offset < chunk.length) this.append(chunk, offset);
  }

  /** Returns the next complete request, or why there is none. */
  next(): ParseResult {
    if (this.failure !== null) return this.failure;
    for (;;) {
      if (this.argsLeft === 0) {
        if (this.start === this.end) {
          this.recycleArena();
          return INCOMPLETE;
        }
        const r = this.arena[this.start] === STAR ? this.readMultibulkCount() : this.readInline();
        if (r !== null) return r;
        continue;
      }
      if (this.bulk !== null) {
        if (this.bulkFilled < this.bulkLen || this.bulkTrailer > 0) return INCOMPLETE;
        const arg = this.bulk;
        this.bulk = null;
        this.bulkFilled = 0;
        this.pushArg(arg);
      } else if (this.bulkLen < 0) {
        const r = this.readBulkLen();
        if (r !== null) return r;
        continue;
      } else {
        const available = this.end - this.start;
        if (available >= this.bulkLen + 2) {
          const arg = this.copyOut(this.start, this.bulkLen);
          this.start += this.bulkLen + 2;
          this.pushArg(arg);
        } else {
          if (this.bulkLen >= BIG_BULK_LEN_MIN) this.startBigBulk(available);
          return INCOMPLETE;
        }
      }
      if (this.argsLeft === 0) {
        const argv = this.argv;
        this.argv = [];
        this.argvBytes = 0;
        return this.complete(argv);
      }
    }
  }

  private queryBufferMax(): number {
    const max = this.limits.maxQueryBuffer;
    return this.authenticated ? max : Math.min(max, UNAUTH_QUERY_BUFFER_MAX);
  }

  /** `*<count>\r`: null when consumed (count set, or an empty request skipped), else the verdict. */
  private readMultibulkCount(): ParseResult | null {
    const cr = this.findByte(CR);
    if (cr < 0) {
      if (this.end - this.start > this.limits.maxInlineLen) return this.fail('too big mbulk count string');
      return INCOMPLETE;
    }
    // Redis needs the byte after '\r' present but never looks at it.
    if (cr + 1 >= this.end) return INCOMPLETE;
    const count = parseLongLong(this.arena, this.start + 1, cr);
    // Written so that NaN (not a number) fails too.
    if (!(count <= this.limits.maxMultibulkCount)) return this.fail('invalid multibulk length');
    if (!this.authenticated && count > UNAUTH_MULTIBULK_COUNT_MAX) return this.fail('unauthenticated multibulk length');
    this.start = cr + 2;
    this.scanned = 0;
    if (count > 0) {
      this.argsLeft = count;
      this.bulkLen = -1;
    }
    return null;
  }

  /** `$<len>\r`: null when consumed (bulkLen set), else the verdict. */
  private readBulkLen(): ParseResult | null {
    const cr = this.findByte(CR);
    if (cr < 0) {
      if (this.end - this.start > this.limits.maxInlineLen) return this.fail('too big bulk count string');
      return INCOMPLETE;
    }
    if (cr + 1 >= this.end) return INCOMPLETE;
    const first = this.arena[this.start];
    if (first !== DOLLAR) return this.fail(`expected '$', got '${String.fromCharCode(first)}'`);
    const len = parseLongLong(this.arena, this.start + 1, cr);
    if (!(len >= 0 && len <= this.limits.maxBulkLen)) return this.fail('invalid bulk length');
    if (!this.authenticated && len > UNAUTH_BULK_LEN_MAX) return this.fail('unauthenticated bulk length');
    this.start = cr + 2;
    this.scanned = 0;
    this.bulkLen = len;
    return null;
  }

  /** One inline line: null when it held no arguments (ignored), else the verdict. */
  private readInline(): ParseResult | null {
    const lf = this.findByte(LF);
    if (lf < 0) {
      if (this.end - this.start > this.limits.maxInlineLen) return this.fail('too big inline request');
      return INCOMPLETE;
    }
    const lineEnd = lf > this.start && this.arena[lf - 1] === CR ? lf - 1 : lf;
    const args = splitArgs(this.arena, this.start, lineEnd);
    this.start = lf + 1;
    this.scanned = 0;
    if (args === null) return this.fail('unbalanced quotes in request');
    if (args.length === 0) return null;
    return this.complete(args);
  }

  private complete(argv: Buffer[]): ParseResult {
    const name = argv[0];
    if (name !== undefined && isCrossProtocolName(name)) {
      // An HTTP request aimed at us (e.g. by a browser page): Redis closes without a word.
      this.failure = { kind: 'close', reason: 'cross-protocol request (POST or Host:)' };
      this.release();
      return this.failure;
    }
    return { kind: 'command', argv };
  }

  private pushArg(arg: Buffer): void {
    this.argv.push(arg);
    this.argvBytes += arg.length;
    this.argsLeft--;
    this.bulkLen = -1;
  }

  /**
   * Moves a partly received big bulk into its own Buffer so the rest can be copied there straight from
   * feed(), and so it is handed out without a final copy.
   */
  private startBigBulk(available: number): void {
    const take = Math.min(available, this.bulkLen);
    const bulk = Buffer.allocUnsafe(Math.min(this.bulkLen, available + BIG_BULK_MARGIN_BYTES));
    this.arena.copy(bulk, 0, this.start, this.start + take);
    this.bulk = bulk;
    this.bulkFilled = take;
    this.bulkTrailer = 2 - (available - take);
    this.start = 0;
    this.end = 0;
    this.scanned = 0;
  }

  /**
   * Returns the big-bulk Buffer with room for `needed` bytes. Growth doubles (amortised O(n) copying)
   * but never past the declared length, and never past twice the received bytes plus the margin.
   */
  private reserveBulk(needed: number): Buffer {
    const bulk = this.bulk ?? EMPTY;
    if (needed <= bulk.length) return bulk;
    const capacity = Math.min(this.bulkLen, Math.max(bulk.length * 2, needed + BIG_BULK_MARGIN_BYTES));
    const grown = Buffer.allocUnsafe(capacity);
    bulk.copy(grown, 0, 0, this.bulkFilled);
    this.bulk = grown;
    return grown;
  }

  /** Index of the first `byte` at or after the current line start, or -1; resumes where the last call stopped. */
  private findByte(byte: number): number {
    const arena = this.arena;
    const end = this.end;
    for (let i = this.start + this.scanned; i < end; i++) {
      if (arena[i] === byte) {
        this.scanned = i - this.start;
        return i;
      }
    }
    this.scanned = end - this.start;
    return -1;
  }

  private copyOut(from: number, len: number): Buffer {
    if (len === 0) return EMPTY;
    const out = Buffer.allocUnsafe(len);
    if (len <= SMALL_COPY_MAX_BYTES) {
      // Buffer#copy's native call costs more than a short loop; most keys and values are short.
      const arena = this.arena;
      for (let i = 0; i < len; i++) out[i] = arena[from + i];
    } else {
      this.arena.copy(out, 0, from, from + len);
    }
    return out;
  }

  private append(chunk: Buffer, offset: number): void {
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
    }
    const n = chunk.length - offset;
    if (this.end + n > this.arena.length) this.makeRoom(n);
    chunk.copy(this.arena, this.end, offset);
    this.end += n;
  }

  /**
   * Compacts in place only while the live bytes fill at most half the arena, so every byte moved pays
   * for at least as much freed space; otherwise grows by doubling. Either way the cost is amortised O(1)
   * per received byte. Arguments are copies, so overwriting consumed bytes is safe.
   */
  private makeRoom(n: number): void {
    const live = this.end - this.start;
    const needed = live + n;
    const capacity = this.arena.length;
    if (needed <= capacity && live <= capacity >> 1) {
      this.arena.copyWithin(0, this.start, this.end);
    } else {
      const grown = Buffer.allocUnsafe(Math.max(capacity * 2, needed));
      this.arena.copy(grown, 0, this.start, this.end);
      this.arena = grown;
    }
    this.start = 0;
    this.end = live;
  }

  private recycleArena(): void {
    this.start = 0;
    this.end = 0;
    this.scanned = 0;
    if (this.arena.length > ARENA_KEEP_MAX_BYTES) this.arena = Buffer.allocUnsafe(ARENA_INITIAL_BYTES);
  }

  private fail(message: string): ParseResult {
    this.failure = { kind: 'protocol-error', message };
    this.release();
    return this.failure;
  }

  /** The connection is going away: let go of everything it buffered. */
  private release(): void {
    this.arena = EMPTY;
    this.start = 0;
    this.end = 0;
    this.scanned = 0;
    this.argv = [];
    this.argvBytes = 0;
    this.argsLeft = 0;
    this.bulk = null;
    this.bulkFilled = 0;
    this.bulkLen = -1;
  }
}

/**
 * Redis string2ll over buf[from, to): NaN where Redis rejects the text (empty, over 20 characters, a
 * leading '+' or zero, anything outside the signed 64-bit range). Magnitudes past 2^53 come back
 * approximate, which is enough for the range checks that follow.
 */
function parseLongLong(buf: Buffer, from: number, to: number): number {
  const len = to - from;
  if (len <= 0 || len >= 21) return NaN;
  let p = from;
  if (len === 1 && buf[p] === ZERO) return 0;
  const negative = buf[p] === MINUS;
  if (negative) p++;
  const lead = buf[p];
  if (p === to || lead < ONE || lead > NINE) return NaN;
  const digitsFrom = p;
  let value = 0;
  for (; p < to; p++) {
    const c = buf[p];
    if (c < ZERO || c > NINE) return NaN;
    value = value * 10 + (c - ZERO);
  }
  const digits = to - digitsFrom;
  if (digits > 19) return NaN;
  if (digits === 19 && !digitsAtMost(buf, digitsFrom, negative ? LLONG_MIN_DIGITS : LLONG_MAX_DIGITS)) return NaN;
  return negative ? -value : value;
}

const LLONG_MAX_DIGITS = Buffer.from('9223372036854775807');
const LLONG_MIN_DIGITS = Buffer.from('9223372036854775808');

/** Equal-length decimal strings compare like their values. */
function digitsAtMost(buf: Buffer, from: number, bound: Buffer): boolean {
  return buf.compare(bound, 0, bound.length, from, from + bound.length) <= 0;
}

/** C isspace() in the "C" locale. */
function isSpace(c: number): boolean {
  return c === SPACE || (c >= TAB && c <= CR);
}

function isHexDigit(c: number): boolean {
  return (c >= ZERO && c <= NINE) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

function hexValue(c: number): number {
  if (c <= NINE) return c - ZERO;
  return (c | 0x20) - 0x61 + 10;
}

/** Ends an unquoted token (sdssplitargs: space, \n, \r, \t and the C string's NUL). */
function endsPlainToken(c: number): boolean {
  return c === SPACE || c === LF || c === CR || c === TAB || c === NUL;
}

/**
 * sdssplitargs over line[from, to): the arguments, or null for unbalanced quotes. Redis works on a C
 * string, so a NUL byte ends the line; positions past `to` read as that NUL.
 */
function splitArgs(line: Buffer, from: number, to: number): Buffer[] | null {
  const args: Buffer[] = [];
  let p = from;
  for (;;) {
    while (p < to && line[p] !== NUL && isSpace(line[p])) p++;
    if (p >= to || line[p] === NUL) return args;
    const tokenStart = p;
    let c = line[p];
    while (p < to && !endsPlainToken(c) && c !== DQUOTE && c !== SQUOTE) {
      p++;
      c = p < to ? line[p] : NUL;
    }
    if (p >= to || endsPlainToken(c)) {
      args.push(Buffer.from(line.subarray(tokenStart, p)));
      continue;
    }
    const token = readQuotedToken(line, tokenStart, to);
    if (token === null) return null;
    args.push(token.value);
    p = token.next;
  }
}

/** The slow path of sdssplitargs for a token that contains quotes, byte for byte as Redis does it. */
function readQuotedToken(line: Buffer, from: number, to: number): { value: Buffer; next: number } | null {
  const at = (i: number): number => (i < to ? line[i] : NUL);
  const out = Buffer.allocUnsafe(to - from);
  let n = 0;
  let p = from;
  let inDouble = false;
  let inSingle = false;
  for (let done = false; !done; ) {
    const c = at(p);
    if (inDouble) {
      if (c === BACKSLASH && at(p + 1) === LOWER_X && isHexDigit(at(p + 2)) && isHexDigit(at(p + 3))) {
        out[n++] = hexValue(at(p + 2)) * 16 + hexValue(at(p + 3));
        p += 3;
      } else if (c === BACKSLASH && at(p + 1) !== NUL) {
        p++;
        out[n++] = unescape(at(p));
      } else if (c === DQUOTE) {
        const after = at(p + 1);
        if (after !== NUL && !isSpace(after)) return null;
        done = true;
      } else if (c === NUL) {
        return null;
      } else {
        out[n++] = c;
      }
    } else if (inSingle) {
      if (c === BACKSLASH && at(p + 1) === SQUOTE) {
        p++;
        out[n++] = SQUOTE;
      } else if (c === SQUOTE) {
        const after = at(p + 1);
        if (after !== NUL && !isSpace(after)) return null;
        done = true;
      } else if (c === NUL) {
        return null;
      } else {
        out[n++] = c;
      }
    } else if (endsPlainToken(c)) {
      done = true;
    } else if (c === DQUOTE) {
      inDouble = true;
    } else if (c === SQUOTE) {
      inSingle = true;
    } else {
      out[n++] = c;
    }
    if (at(p) !== NUL) p++;
  }
  return { value: n === 0 ? EMPTY : Buffer.from(out.subarray(0, n)), next: p };
}

function unescape(c: number): number {
  switch (c) {
    case 0x6e: // n
      return LF;
    case 0x72: // r
      return CR;
    case 0x74: // t
      return TAB;
    case 0x62: // b
      return 0x08;
    case 0x61: // a
      return 0x07;
    default:
      return c;
  }
}

/** `POST` or `Host:` in any case, the way Redis spots HTTP sent to its port. */
function isCrossProtocolName(name: Buffer): boolean {
  if (name.length === 4) {
    return (name[0] | 0x20) === 0x70 && (name[1] | 0x20) === 0x6f && (name[2] | 0x20) === 0x73 && (name[3] | 0x20) === 0x74;
  }
  if (name.length === 5) {
    return (name[0] | 0x20) === 0x68 && (name[1] | 0x20) === 0x6f && (name[2] | 0x20) === 0x73 && (name[3] | 0x20) === 0x74 && name[4] === COLON;
  }
  return false;
}
