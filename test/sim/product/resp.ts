/** A RESP2 reply, decoded for comparison. */
export type Reply =
  | { t: 'simple'; s: string }
  | { t: 'err'; s: string }
  | { t: 'int'; n: bigint }
  | { t: 'bulk'; s: string | null }
  | { t: 'arr'; items: Reply[] | null };

/** Decodes every complete reply in `buf` (a cut-off tail is ignored). */
export function parseReplies(buf: Buffer): Reply[] {
  const out: Reply[] = [];
  let at = 0;
  const line = (): string | undefined => {
    const end = buf.indexOf('\r\n', at, 'latin1');
    if (end < 0) return undefined;
    const s = buf.toString('latin1', at, end);
    at = end + 2;
    return s;
  };
  const one = (): Reply | undefined => {
    const l = line();
    if (l === undefined) return undefined;
    const body = l.slice(1);
    switch (l[0]) {
      case '+':
        return { t: 'simple', s: body };
      case '-':
        return { t: 'err', s: body };
      case ':':
        return { t: 'int', n: BigInt(body) };
      case '$': {
        const n = Number(body);
        if (n < 0) return { t: 'bulk', s: null };
        if (at + n + 2 > buf.length) return undefined;
        const s = buf.toString('latin1', at, at + n);
        at += n + 2;
        return { t: 'bulk', s };
      }
      case '*': {
        const n = Number(body);
        if (n < 0) return { t: 'arr', items: null };
        const items: Reply[] = [];
        for (let i = 0; i < n; i++) {
          const r = one();
          if (r === undefined) return undefined;
          items.push(r);
        }
        return { t: 'arr', items };
      }
      default:
        throw new Error(`not a RESP2 reply: ${JSON.stringify(l.slice(0, 40))}`);
    }
  };
  while (at < buf.length) {
    const start = at;
    const r = one();
    if (r === undefined) {
      at = start;
      break;
    }
    out.push(r);
  }
  return out;
}

export function show(r: Reply | undefined): string {
  if (r === undefined) return '(no reply)';
  switch (r.t) {
    case 'simple':
      return `+${r.s}`;
    case 'err':
      return `-${r.s}`;
    case 'int':
      return `:${r.n}`;
    case 'bulk':
      return r.s === null ? '(nil)' : JSON.stringify(r.s);
    case 'arr':
      return r.items === null ? '(nil array)' : `[${r.items.map(show).join(', ')}]`;
  }
}
