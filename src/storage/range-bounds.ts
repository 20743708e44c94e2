import { INLINE_KEY_MAX, slotStartId } from './key-layout.js';

/**
 * Which record keys can be range-scanned, and how a range of record keys becomes a range of
 * storage ids (key-layout.ts). Only the internal namespace is range-scanned: keys that start with
 * 0xFF followed by a byte other than 0xFF (collection element and metadata records; user keys
 * starting with 0xFF are escaped to 0xFF 0xFF by the layer above). Only those enter the memtable's
 * ordered index, so a plain SET pays one byte test for it and nothing more.
 */

const INTERNAL_MARK = 0xff;
/** Every internal key is >= this and < NAMESPACE_END. */
const NAMESPACE_START = Buffer.from([INTERNAL_MARK, 0x00]);
const NAMESPACE_END = Buffer.from([INTERNAL_MARK, INTERNAL_MARK]);
/**
 * Appended to the INLINE_KEY_MAX-byte prefix of a long end bound: longer than the marker and
 * digest of a long storage key and all 0xFF, so every long key sharing that prefix sorts below it.
 */
const LONG_END_TAIL = String.fromCharCode(INTERNAL_MARK).repeat(1 + 32 + 1);

/** True for record keys in the internal namespace: the only keys scanRange visits. */
export function isRangeKey(key: Buffer): boolean {
  return key.length >= 2 && key[0] === INTERNAL_MARK && key[1] !== INTERNAL_MARK;
}

/**
 * Throws unless [start, end) lies inside the internal namespace: a range reaching user keys would
 * silently miss their memtable entries, which are not in the ordered index.
 */
export function checkRange(start: Buffer, end: Buffer): void {
  if (Buffer.compare(start, NAMESPACE_START) < 0 || Buffer.compare(end, NAMESPACE_END) > 0) {
    throw new RangeError('scanRange covers only record keys in the internal namespace [0xFF 0x00, 0xFF 0xFF)');
  }
}

/**
 * Storage-id bounds of the record keys start <= k < end in `slot`. Exact for bounds of at most
 * INLINE_KEY_MAX bytes. A longer bound is widened to every long key sharing its prefix (their
 * storage ids order by digest), so `exact` is false and the caller compares the real keys.
 */
export function rangeIds(slot: number, start: Buffer, end: Buffer): { startId: string; endId: string; exact: boolean } {
  const slotId = slotStartId(slot);
  const startLong = start.length > INLINE_KEY_MAX;
  const endLong = end.length > INLINE_KEY_MAX;
  const startId = slotId + (startLong ? start.toString('latin1', 0, INLINE_KEY_MAX) : start.toString('latin1'));
  const endId = slotId + (endLong ? end.toString('latin1', 0, INLINE_KEY_MAX) + LONG_END_TAIL : end.toString('latin1'));
  return { startId, endId, exact: !startLong && !endLong };
}
