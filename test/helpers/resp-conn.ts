/**
 * A raw RESP connection for tests that need byte-level control of what goes into one write: encodes
 * commands, decodes RESP2 and RESP3 replies, and renders them in a compact text form so a whole
 * pipeline's expected replies read as one list (`+OK`, `"1"`, `:3`, `nil`, `-ERR …`, `[…]`, `{…}`).
 */
import net from 'node:net';

export type Reply =
  | { t: 'simple'; v: string }
  | { t: 'error'; v: string }
  | { t: 'int'; v: bigint }
  | { t: 'bulk'; v: Buffer }
  | { t: 'nil' }
  | { t: 'nilArray' }
  | { t: 'double'; v: string }
  | { t: 'bool'; v: boolean }
  | { t: 'array' | 'set' | 'push'; v: Reply[] }
  | { t: 'map'; v: Array<[Reply, Reply]> };

/** The RESP2 multibulk form of one command. */
export function encodeCommand(argv: Array<string | number | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${argv.length}\r\n`)];
  for (const a of argv) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

class Incomplete extends Error {}

/** Decodes one reply at `pos`; throws Incomplete when the buffer ends first. */
function decodeAt(buf: Buffer, pos: number): { reply: Reply; next: number } {
  if (pos >= buf.length) throw new Incomplete();
  const eol = buf.indexOf('\r\n', pos, 'latin1');
  if (eol < 0) throw new Incomplete();
  const type = String.fromCharCode(buf[pos]!);
  const line = buf.toString('latin1', pos + 1, eol);
  const after = eol + 2;
  const blob = (): { body: Buffer; next: number } => {
    const len = Number(line);
    if (after + len + 2 > buf.length) throw new Incomplete();
    return { body: buf.subarray(after, after + len), next: after + len + 2 };
  };
  const many = (count: number): { items: Reply[]; next: number } => {
    const items: Reply[] = [];
    let p = after;
    for (let i = 0; i < count; i++) {
      const r = decodeAt(buf, p);
      items.push(r.reply);
      p = r.next;
    }
    return { items, next: p };
  };
  switch (type) {
    case '+': return { reply: { t: 'simple', v: line }, next: after };
    case '-': return { reply: { t: 'error', v: line }, next: after };
    case ':': return { reply: { t: 'int', v: BigInt(line) }, next: after };
    case '(': return { reply: { t: 'int', v: BigInt(line) }, next: after };
    case ',': return { reply: { t: 'double', v: line }, next: after };
    case '#': return { reply: { t: 'bool', v: line === 't' }, next: after };
    case '_': return { reply: { t: 'nil' }, next: after };
    case '$': {
      if (line === '-1') return { reply: { t: 'nil' }, next: after };
      const { body, next } = blob();
      return { reply: { t: 'bulk', v: Buffer.from(body) }, next };
    }
    case '=': {
      // Verbatim string: a three-letter format and a colon precede the text.
      const { body, next } = blob();
      return { reply: { t: 'bulk', v: Buffer.from(body.subarray(4)) }, next };
    }
    case '!': {
      const { body, next } = blob();
      return { reply: { t: 'error', v: body.toString() }, next };
    }
    case '*':
    case '~':
    case '>': {
      if (line === '-1') return { reply: { t: 'nilArray' }, next: after };
      const { items, next } = many(Number(line));
      return { reply: { t: type === '*' ? 'array' : type === '~' ? 'set' : 'push', v: items }, next };
    }
    case '%': {
      const { items, next } = many(Number(line) * 2);
      const pairs: Array<[Reply, Reply]> = [];
      for (let i = 0; i < items.length; i += 2) pairs.push([items[i]!, items[i + 1]!]);
      return { reply: { t: 'map', v: pairs }, next };
    }
    default:
      throw new Error(`unknown RESP type byte ${JSON.stringify(type)} in ${JSON.stringify(buf.toString('latin1', pos, pos + 80))}`);
  }
}

/**
 * Text form of a reply: `+OK`, `-ERR …`, `:3`, `"v"`, `nil` (null bulk or RESP3 null), `nil[]` (null
 * array, as EXEC after a failed WATCH), `#t`, `,1.5`, `[a b]` (array, set, push), `{k: v, …}` (map).
 */
export function show(r: Reply): string {
  switch (r.t) {
    case 'simple': return `+${r.v}`;
    case 'error': return `-${r.v}`;
    case 'int': return `:${r.v}`;
    case 'bulk': return JSON.stringify(r.v.toString());
    case 'nil': return 'nil';
    case 'nilArray': return 'nil[]';
    case 'double': return `,${r.v}`;
    case 'bool': return r.v ? '#t' : '#f';
    case 'array':
    case 'set':
    case 'push': return `[${r.v.map(show).join(' ')}]`;
    case 'map': return `{${r.v.map(([k, v]) => `${show(k)}: ${show(v)}`).join(', ')}}`;
  }
}

/** One client connection; `pipeline` sends every command in a single write and reads all replies. */
export class RespConn {
  private buf = Buffer.alloc(0);
  private closed = false;
  private wake: (() => void) | undefined;

  private constructor(private readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake?.();
    });
    const end = (): void => {
      this.closed = true;
      this.wake?.();
    };
    sock.on('close', end);
    sock.on('error', end);
  }

  static connect(port: number): Promise<RespConn> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.setNoDelay(true);
      sock.once('connect', () => resolve(new RespConn(sock)));
      sock.once('error', reject);
    });
  }

  /** Writes all commands as one buffer (one write call), followed by `trailer` bytes if given. */
  send(commands: Array<Array<string | number | Buffer>>, trailer?: Buffer): void {
    this.sock.write(Buffer.concat([...commands.map(encodeCommand), trailer ?? Buffer.alloc(0)]));
  }

  /** Writes all commands as one buffer (one write call) and returns their replies in order. */
  async pipeline(commands: Array<Array<string | number | Buffer>>, timeoutMs = 30000): Promise<Reply[]> {
    this.send(commands);
    return this.read(commands.length, timeoutMs);
  }

  /** The same, rendered with `show`. */
  async pipelineText(commands: Array<Array<string | number | Buffer>>, timeoutMs = 30000): Promise<string[]> {
    return (await this.pipeline(commands, timeoutMs)).map(show);
  }

  async call(...argv: Array<string | number | Buffer>): Promise<Reply> {
    return (await this.pipeline([argv]))[0]!;
  }

  /** Reads exactly `count` replies; a timeout reports what did arrive. */
  async read(count: number, timeoutMs = 30000): Promise<Reply[]> {
    const replies: Reply[] = [];
    const deadline = Date.now() + timeoutMs;
    while (replies.length < count) {
      try {
        const { reply, next } = decodeAt(this.buf, 0);
        replies.push(reply);
        this.buf = this.buf.subarray(next);
        continue;
      } catch (err) {
        if (!(err instanceof Incomplete)) throw err;
      }
      if (this.closed) throw new Error(`connection closed after ${replies.length}/${count} replies: ${replies.map(show).join(' ')}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${replies.length}/${count} replies: ${replies.map(show).join(' ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          this.wake = undefined;
          resolve();
        };
      });
    }
    return replies;
  }

  /** Waits `ms` and returns whatever arrived unasked (rendered), so a test can insist on nothing. */
  async strayReplies(ms = 200): Promise<string[]> {
    await new Promise((r) => setTimeout(r, ms));
    const stray: string[] = [];
    for (;;) {
      try {
        const { reply, next } = decodeAt(this.buf, 0);
        stray.push(show(reply));
        this.buf = this.buf.subarray(next);
      } catch {
        if (this.buf.length > 0) stray.push(`<partial ${JSON.stringify(this.buf.toString('latin1'))}>`);
        return stray;
      }
    }
  }

  /** True once the server closed the connection within `timeoutMs`. */
  async closedWithin(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.wake = () => {
          clearTimeout(timer);
          this.wake = undefined;
          resolve();
        };
      });
    }
    return this.closed;
  }

  close(): void {
    this.sock.destroy();
  }
}
