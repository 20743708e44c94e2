import { ERR, ReplyError } from '../core/errors.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import { entryFields } from '../collections/stream-codec.js';
import { formatId, INVALID_ID, nextId, parseId, parseRangeBound, prevId, type ParsedId, type StreamId } from '../collections/stream-id.js';
import { StreamType } from '../collections/stream-type.js';
import type { Keyspace } from './keyspace.js';

/** Argument parsing and reply shapes the stream command files share (Redis 7.0's texts). */

export const GROUP_OPTIONS_ERROR = 'ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.';

export function noGroup(key: Buffer, group: Buffer, suffix = ''): string {
  return `NOGROUP No such key '${key.toString('latin1')}' or consumer group '${group.toString('latin1')}'${suffix}`;
}

/** A strict id argument (no `-`/`+`), or Redis's invalid-id error. */
export function strictIdArg(arg: Buffer): StreamId {
  const p = parseId(arg, 0n, true);
  if (p === undefined) throw new ReplyError(INVALID_ID);
  return p.id;
}

export function idArg(arg: Buffer, missingSeq: bigint, strict: boolean, allowAutoSeq = false): ParsedId {
  const p = parseId(arg, missingSeq, strict, allowAutoSeq);
  if (p === undefined) throw new ReplyError(INVALID_ID);
  return p;
}

/** A range's start (`(id` exclusive moves it up one), as streamParseIntervalIDOrReply plus the increment. */
export function rangeStartArg(arg: Buffer): StreamId {
  const b = parseRangeBound(arg, 0n);
  if (b === undefined) throw new ReplyError(INVALID_ID);
  if (!b.exclusive) return b.id;
  const id = nextId(b.id);
  if (id === undefined) throw new ReplyError('ERR invalid start ID for the interval');
  return id;
}

export function rangeEndArg(arg: Buffer): StreamId {
  const b = parseRangeBound(arg, 2n ** 64n - 1n);
  if (b === undefined) throw new ReplyError(INVALID_ID);
  if (!b.exclusive) return b.id;
  const id = prevId(b.id);
  if (id === undefined) throw new ReplyError('ERR invalid end ID for the interval');
  return id;
}

/** The key's stream for a read; undefined when missing; WRONGTYPE for another type. */
export function openStream(ks: Keyspace, key: Buffer): StreamType | undefined {
  return StreamType.open(ks, key);
}

/** One entry as Redis replies it: [id, [field, value, …]]. */
export function writeEntry(out: ReplyWriter, id: StreamId, value: Buffer): void {
  out.arrayHeader(2);
  out.bulk(formatId(id));
  const fields = entryFields(value);
  out.arrayHeader(fields.length);
  for (const f of fields) out.bulk(f);
}

/** An entry's id with a null in place of its fields (a pending entry deleted from the stream). */
export function writeDeletedEntry(out: ReplyWriter, id: StreamId): void {
  out.arrayHeader(2);
  out.bulk(formatId(id));
  out.nullArray();
}

export function wrongArity(name: string): ReplyError {
  return new ReplyError(ERR.wrongArity(name));
}
