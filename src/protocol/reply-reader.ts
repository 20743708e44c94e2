/**
 * Reads RESP2 replies from a byte stream: what a node needs to talk to another Redis-speaking
 * server as a client (MIGRATE) and to read the replies of commands it runs on its own behalf.
 * RESP3 types are not expected: every peer it reads from is spoken to in RESP2.
 */

/** One RESP2 reply: a status line, an error line, an integer, a bulk (null = nil), an array (null = nil). */
export type Reply =
  | { kind: 'status'; text: string }
  | { kind: 'error'; text: string }
  | { kind: 'int'; value: bigint }
  | { kind: 'bulk'; value: Buffer | null }
  | { kind: 'array'; items: Reply[] | null };

export class ReplyFormatError extends Error {}

/** Incremental reader: push() what the socket delivers, take replies as they become complete. */
export class ReplyReader {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;

  push(chunk: Buffer): void {
    this.buf = this.pos < this.buf.length ? Buffer.concat([this.buf.subarray(this.pos), chunk]) : chunk;
    this.pos = 0;
  }

  /** The next complete reply, or undefined until more bytes arrive. */
  next(): Reply | undefined {
    const start = this.pos;
    const r = this.parse();
    if (r === undefined) this.pos = start;
    return r;
  }

  private line(): string | undefined {
    const end = this.buf.indexOf('\r\n', this.pos, 'latin1');
    if (end < 0) return undefined;
    const s = this.buf.toString('latin1', this.pos, end);
    this.pos = end + 2;
    return s;
  }

  private parse(): Reply | undefined {
    if (this.pos >= this.buf.length) return undefined;
    const type = String.fromCharCode(this.buf[this.pos]!);
    this.pos++;
    const head = this.line();
    if (head === undefined) return undefined;
    switch (type) {
      case '+':
        return { kind: 'status', text: head };
      case '-':
        return { kind: 'error', text: head };
      case ':':
        return { kind: 'int', value: BigInt(head) };
      case '$': {
        const len = Number(head);
        if (len < 0) return { kind: 'bulk', value: null };
        if (this.buf.length < this.pos + len + 2) return undefined;
        const value = Buffer.from(this.buf.subarray(this.pos, this.pos + len));
        this.pos += len + 2;
        return { kind: 'bulk', value };
      }
      case '*': {
        const n = Number(head);
        if (n < 0) return { kind: 'array', items: null };
        const items: Reply[] = [];
        for (let i = 0; i < n; i++) {
          const item = this.parse();
          if (item === undefined) return undefined;
          items.push(item);
        }
        return { kind: 'array', items };
      }
      default:
        throw new ReplyFormatError(`unexpected reply type byte ${JSON.stringify(type)}`);
    }
  }
}

/** A command as a RESP multibulk request. */
export function encodeCommand(argv: ReadonlyArray<Buffer | string>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${argv.length}\r\n`)];
  for (const a of argv) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}
