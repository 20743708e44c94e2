import { ReplyWriter } from '../protocol/reply-writer.js';
import type { Protocol } from '../protocol/types.js';

/** One element of a pub/sub frame: a bulk string, an integer, or a null bulk (UNSUBSCRIBE with nothing left). */
export type FramePart = Buffer | string | number | null;

/**
 * Encodes one pub/sub frame (`message`, `pmessage`, `smessage`, `subscribe`, …): a push (`>`) under
 * RESP3, an array under RESP2, exactly as Redis writes them.
 */
export function writeFrame(out: ReplyWriter, parts: readonly FramePart[]): void {
  out.pushHeader(parts.length);
  for (const p of parts) {
    if (p === null) out.nullBulk();
    else if (typeof p === 'number') out.int(p);
    else out.bulk(p);
  }
}

/** A frame as bytes for a connection speaking `proto`. */
export function encodeFrame(proto: Protocol, parts: readonly FramePart[]): Buffer {
  const w = new ReplyWriter(proto, 64);
  writeFrame(w, parts);
  return w.take();
}

/** Encodes a frame once per protocol, on first use: a message fanned out to many clients is encoded at most twice. */
export class FrameCache {
  private readonly byProto: Array<Buffer | undefined> = [];
  constructor(private readonly parts: readonly FramePart[]) {}

  for(proto: Protocol): Buffer {
    return (this.byProto[proto] ??= encodeFrame(proto, this.parts));
  }
}
