/**
 * Splits encoded replies (RESP2 or RESP3, as ReplyWriter produces them) into their top-level
 * values, so a batch of replies can be answered value by value: the connection replaces each
 * reply of a batch whose writes could not be made durable with an error, and the client must get
 * exactly one answer per command or it would pair later replies with earlier commands.
 */
export interface ReplyFrame {
  start: number;
  end: number;
  /** A RESP3 push (pub/sub message, invalidation): not the answer to any command. */
  push: boolean;
}

export function replyFrames(buf: Buffer): ReplyFrame[] {
  const frames: ReplyFrame[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const start = pos;
    const push = buf[pos] === 0x3e; // '>'
    pos = skipValue(buf, pos);
    frames.push({ start, end: pos, push });
  }
  return frames;
}

/** The offset just past the value starting at `pos` (an attribute is skipped with its value). */
function skipValue(buf: Buffer, pos: number): number {
  const type = String.fromCharCode(buf[pos]!);
  const eol = buf.indexOf('\r\n', pos, 'latin1');
  if (eol < 0) throw new Error('reply without a line end');
  const line = buf.toString('latin1', pos + 1, eol);
  let next = eol + 2;
  switch (type) {
    case '$': case '=': case '!': {
      const len = Number(line);
      return len < 0 ? next : next + len + 2;
    }
    case '*': case '~': case '>': case '%': case '|': {
      const n = Number(line);
      const items = type === '%' || type === '|' ? 2 * n : n;
      for (let i = 0; i < Math.max(0, items); i++) next = skipValue(buf, next);
      // An attribute describes the value after it: both make one reply.
      return type === '|' ? skipValue(buf, next) : next;
    }
    default:
      return next; // + - : _ # , ( — one line
  }
}
