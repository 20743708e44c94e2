/**
 * Stream entry ids as Redis 7.0 reads and writes them: two unsigned 64-bit numbers, milliseconds
 * and a sequence, written `ms-seq`. Kept as bigints (a u64 does not fit a JS number). Stored as 16
 * big-endian bytes, so byte order is id order and a range of ids is an ordered scan.
 */

export interface StreamId {
  ms: bigint;
  seq: bigint;
}

export const U64_MAX = 2n ** 64n - 1n;
const I64_MAX = 2n ** 63n - 1n;
export const ID_BYTES = 16;
export const MIN_ID: StreamId = { ms: 0n, seq: 0n };
export const MAX_ID: StreamId = { ms: U64_MAX, seq: U64_MAX };
/** Redis refuses ids written in more than 127 characters. */
const ID_TEXT_MAX = 127;

export const INVALID_ID = 'ERR Invalid stream ID specified as stream command argument';

export function compareIds(a: StreamId, b: StreamId): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}

export function isZeroId(id: StreamId): boolean {
  return id.ms === 0n && id.seq === 0n;
}

export function formatId(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

/** The next id (undefined past the last possible one), as streamIncrID. */
export function nextId(id: StreamId): StreamId | undefined {
  if (id.seq < U64_MAX) return { ms: id.ms, seq: id.seq + 1n };
  if (id.ms < U64_MAX) return { ms: id.ms + 1n, seq: 0n };
  return undefined;
}

/** The previous id (undefined before 0-0), as streamDecrID. */
export function prevId(id: StreamId): StreamId | undefined {
  if (id.seq > 0n) return { ms: id.ms, seq: id.seq - 1n };
  if (id.ms > 0n) return { ms: id.ms - 1n, seq: U64_MAX };
  return undefined;
}

export function encodeId(id: StreamId): Buffer {
  const b = Buffer.allocUnsafe(ID_BYTES);
  b.writeBigUInt64BE(id.ms, 0);
  b.writeBigUInt64BE(id.seq, 8);
  return b;
}

export function decodeId(b: Buffer, at = 0): StreamId {
  return { ms: b.readBigUInt64BE(at), seq: b.readBigUInt64BE(at + 8) };
}

/**
 * A u64 as Redis's string2ull reads it: a plain long long when it is one (negative refused),
 * otherwise strtoull's rules (leading blanks, a sign, digits to the end, no overflow).
 */
export function parseU64(text: string): bigint | undefined {
  if (/^(0|-?[1-9][0-9]*)$/.test(text)) {
    const v = BigInt(text);
    if (v >= -(I64_MAX + 1n) && v <= I64_MAX) return v < 0n ? undefined : v;
  }
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/.exec(text);
  if (m === null) return undefined;
  const v = BigInt(m[2]!);
  if (v > U64_MAX) return undefined;
  return m[1] === '-' ? (U64_MAX + 1n - v) & U64_MAX : v;
}

export interface ParsedId {
  id: StreamId;
  /** False for `ms-*` (XADD picks the sequence). */
  seqGiven: boolean;
}

/**
 * An id argument: `ms-seq`, `ms` (the sequence is `missingSeq`), `-` and `+` unless `strict`, and
 * `ms-*` when `allowAutoSeq` (XADD). Undefined when invalid (the caller answers INVALID_ID).
 */
export function parseId(arg: Buffer, missingSeq: bigint, strict: boolean, allowAutoSeq = false): ParsedId | undefined {
  if (arg.length > ID_TEXT_MAX) return undefined;
  const text = arg.toString('latin1');
  if (!strict && text === '-') return { id: MIN_ID, seqGiven: true };
  if (!strict && text === '+') return { id: MAX_ID, seqGiven: true };
  const dash = text.indexOf('-');
  if (dash < 0) {
    const ms = parseU64(text);
    return ms === undefined ? undefined : { id: { ms, seq: missingSeq }, seqGiven: true };
  }
  const ms = parseU64(text.slice(0, dash));
  if (ms === undefined) return undefined;
  const rest = text.slice(dash + 1);
  if (allowAutoSeq && rest === '*') return { id: { ms, seq: 0n }, seqGiven: false };
  const seq = parseU64(rest);
  return seq === undefined ? undefined : { id: { ms, seq }, seqGiven: true };
}

/** A strict id (no `-`/`+`), missing sequence 0. */
export function parseStrictId(arg: Buffer): StreamId | undefined {
  return parseId(arg, 0n, true)?.id;
}

/**
 * A range bound of XRANGE / XREVRANGE / XPENDING / XAUTOCLAIM: `(id` is exclusive (strict id
 * after the parenthesis), otherwise an id or `-` / `+`.
 */
export function parseRangeBound(arg: Buffer, missingSeq: bigint): { id: StreamId; exclusive: boolean } | undefined {
  if (arg.length > 1 && arg[0] === 0x28) {
    const p = parseId(arg.subarray(1), missingSeq, true);
    return p && { id: p.id, exclusive: true };
  }
  const p = parseId(arg, missingSeq, false);
  return p && { id: p.id, exclusive: false };
}

/**
 * The id XADD gives a new entry, as streamAppendItem: `*` is the node's time or, if that is not
 * past the last id, the last id plus one (so ids never go backwards with the clock); `ms-*` takes
 * the next sequence of `ms`. Undefined when the result would not exceed `last` (Redis's EDOM).
 */
export function nextEntryId(last: StreamId, given: ParsedId | undefined, nowMs: number): StreamId | undefined {
  let id: StreamId | undefined;
  if (given === undefined) {
    const ms = BigInt(nowMs);
    id = ms > last.ms ? { ms, seq: 0n } : nextId(last);
  } else if (given.seqGiven) {
    id = given.id;
  } else if (given.id.ms === last.ms) {
    id = last.seq === U64_MAX ? undefined : { ms: last.ms, seq: last.seq + 1n };
  } else {
    id = given.id;
  }
  return id !== undefined && compareIds(id, last) > 0 ? id : undefined;
}
