/**
 * A command's reply as a script sees it. redis.call runs the command through the command table into
 * a reply buffer and reads that buffer back (as Redis does), so a script gets exactly what a client
 * in the same protocol would get.
 */
export type RespValue =
  | { kind: 'status'; text: Buffer }
  | { kind: 'error'; text: Buffer }
  | { kind: 'int'; value: number }
  | { kind: 'bulk'; value: Buffer }
  | { kind: 'null' }
  | { kind: 'array'; items: RespValue[] }
  | { kind: 'map'; pairs: [RespValue, RespValue][] }
  | { kind: 'set'; items: RespValue[] }
  | { kind: 'double'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'bignum'; text: Buffer }
  | { kind: 'verbatim'; format: Buffer; text: Buffer };

const CR = 0x0d;

/** Reads every reply in `buf` (normally exactly one); the writer produced it, so it is well formed. */
export function readReplies(buf: Buffer): RespValue[] {
  const out: RespValue[] = [];
  const pos = { i: 0 };
  while (pos.i < buf.length) out.push(readOne(buf, pos));
  return out;
}

function line(buf: Buffer, pos: { i: number }): Buffer {
  const end = buf.indexOf(CR, pos.i);
  const text = buf.subarray(pos.i, end);
  pos.i = end + 2;
  return text;
}

function readOne(buf: Buffer, pos: { i: number }): RespValue {
  const type = String.fromCharCode(buf[pos.i++]!);
  const head = line(buf, pos);
  switch (type) {
    case '+': return { kind: 'status', text: head };
    case '-': return { kind: 'error', text: head };
    case ':': return { kind: 'int', value: Number(head.toString('latin1')) };
    case '_': return { kind: 'null' };
    case '#': return { kind: 'bool', value: head[0] === 0x74 };
    case ',': return { kind: 'double', value: parseDouble(head.toString('latin1')) };
    case '(': return { kind: 'bignum', text: head };
    case '$':
    case '=': {
      const n = Number(head.toString('latin1'));
      if (n < 0) return { kind: 'null' };
      const body = buf.subarray(pos.i, pos.i + n);
      pos.i += n + 2;
      if (type === '$') return { kind: 'bulk', value: body };
      return { kind: 'verbatim', format: body.subarray(0, 3), text: body.subarray(4) };
    }
    case '*':
    case '~':
    case '>': {
      const n = Number(head.toString('latin1'));
      if (n < 0) return { kind: 'null' };
      const items: RespValue[] = [];
      for (let k = 0; k < n; k++) items.push(readOne(buf, pos));
      return type === '~' ? { kind: 'set', items } : { kind: 'array', items };
    }
    case '%': {
      const n = Number(head.toString('latin1'));
      const pairs: [RespValue, RespValue][] = [];
      for (let k = 0; k < n; k++) pairs.push([readOne(buf, pos), readOne(buf, pos)]);
      return { kind: 'map', pairs };
    }
    case '|': {
      // An attribute map (DEBUG PROTOCOL attrib): Redis does not show it to scripts, only the value after it.
      const n = Number(head.toString('latin1'));
      for (let k = 0; k < 2 * n; k++) readOne(buf, pos);
      return readOne(buf, pos);
    }
    default:
      throw new Error(`unexpected reply type byte ${JSON.stringify(type)}`);
  }
}

function parseDouble(text: string): number {
  if (text === 'inf') return Infinity;
  if (text === '-inf') return -Infinity;
  if (text === 'nan') return NaN;
  return Number(text);
}
