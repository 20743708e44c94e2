/**
 * Raw RESP for the differential tests: requests are encoded by hand and replies are read by a small
 * incremental reader that keeps every reply's exact bytes, so two servers' replies can be compared
 * byte for byte, and only the parts a normaliser rewrites are compared by meaning.
 */

/** One reply as read off the wire. `raw` holds its exact bytes, nested replies included. */
export type RespReply =
  | { kind: 'line'; type: string; text: Buffer; raw: Buffer }
  | { kind: 'bulk'; type: string; data: Buffer | null; raw: Buffer }
  | { kind: 'aggregate'; type: string; items: RespReply[] | null; raw: Buffer };

/** Reply types whose payload is the rest of the line: simple string, error, integer, null, double, boolean, big number. */
const LINE_TYPES = new Set(['+', '-', ':', '_', ',', '#', '(']);
/** Length-prefixed payloads: bulk string, bulk error, verbatim string. */
const BULK_TYPES = new Set(['$', '!', '=']);
/** Aggregates; a map or attribute header counts pairs, so it has twice as many items. */
const AGGREGATE_TYPES = new Set(['*', '%', '~', '>', '|']);

/** A command as a RESP array of bulk strings, the form every client library sends. */
export function encodeCommand(args: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) parts.push(Buffer.from(`$${a.length}\r\n`), a, Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

/** Thrown for bytes that are not RESP: the server broke the protocol, which is a finding of its own. */
export class RespProtocolError extends Error {}

/**
 * Incremental reader: `push` appends received bytes, `next` returns one complete reply or undefined
 * when more bytes are needed. An incomplete reply is parsed again from its start once more bytes
 * arrive; replies here are small, so that costs less than keeping parser state.
 */
export class RespReader {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;

  push(chunk: Buffer): void {
    this.buf = this.pos === this.buf.length ? chunk : Buffer.concat([this.buf.subarray(this.pos), chunk]);
    this.pos = 0;
  }

  /** Bytes received but not yet returned as replies (for failure messages). */
  pending(): Buffer {
    return this.buf.subarray(this.pos);
  }

  next(): RespReply | undefined {
    const parsed = this.parseAt(this.pos);
    if (parsed === undefined) return undefined;
    this.pos = parsed.end;
    return parsed.reply;
  }

  private lineEnd(start: number): number | undefined {
    const cr = this.buf.indexOf('\r\n', start, 'latin1');
    return cr < 0 ? undefined : cr;
  }

  private parseAt(start: number): { reply: RespReply; end: number } | undefined {
    if (start >= this.buf.length) return undefined;
    const type = String.fromCharCode(this.buf[start]!);
    const cr = this.lineEnd(start + 1);
    if (cr === undefined) return undefined;
    const text = this.buf.subarray(start + 1, cr);
    if (LINE_TYPES.has(type)) {
      return { reply: { kind: 'line', type, text, raw: this.buf.subarray(start, cr + 2) }, end: cr + 2 };
    }
    const count = Number(text.toString('latin1'));
    if (!Number.isInteger(count) || count < -1) {
      throw new RespProtocolError(`bad length ${JSON.stringify(text.toString('latin1'))} after '${type}'`);
    }
    if (BULK_TYPES.has(type)) {
      if (count === -1) return { reply: { kind: 'bulk', type, data: null, raw: this.buf.subarray(start, cr + 2) }, end: cr + 2 };
      const dataEnd = cr + 2 + count;
      if (this.buf.length < dataEnd + 2) return undefined;
      if (this.buf[dataEnd] !== 0x0d || this.buf[dataEnd + 1] !== 0x0a) throw new RespProtocolError(`bulk of ${count} bytes not followed by CRLF`);
      return { reply: { kind: 'bulk', type, data: this.buf.subarray(cr + 2, dataEnd), raw: this.buf.subarray(start, dataEnd + 2) }, end: dataEnd + 2 };
    }
    if (AGGREGATE_TYPES.has(type)) {
      if (count === -1) return { reply: { kind: 'aggregate', type, items: null, raw: this.buf.subarray(start, cr + 2) }, end: cr + 2 };
      const n = type === '%' || type === '|' ? count * 2 : count;
      const items: RespReply[] = [];
      let at = cr + 2;
      for (let i = 0; i < n; i++) {
        const child = this.parseAt(at);
        if (child === undefined) return undefined;
        items.push(child.reply);
        at = child.end;
      }
      return { reply: { kind: 'aggregate', type, items, raw: this.buf.subarray(start, at) }, end: at };
    }
    throw new RespProtocolError(`unknown reply type byte 0x${this.buf[start]!.toString(16)}`);
  }
}

/** True for `-ERR …` and RESP3 bulk errors. */
export function isError(r: RespReply): boolean {
  return r.type === '-' || r.type === '!';
}

/** Bytes shown readably in failure messages: printable ASCII as is, the rest escaped. */
export function printable(buf: Buffer, max = 600): string {
  const s = JSON.stringify(buf.toString('latin1'));
  return s.length > max ? `${s.slice(0, max)}… (${buf.length} bytes)` : s;
}
