import { ENTRIES_READ_UNKNOWN, type GroupState, type StreamMeta } from './stream-codec.js';
import { compareIds, isZeroId, MAX_ID, type StreamId } from './stream-id.js';

/**
 * A consumer group's entries-read counter and lag, computed as Redis 7.0 does from the stream's
 * counters alone (entries added, first id, max deleted id): pure functions of the metadata, O(1).
 */

/** Whether an entry deleted by XDEL may lie in [start, +] (streamRangeHasTombstones). */
export function hasTombstonesFrom(meta: StreamMeta, length: number, start: StreamId): boolean {
  if (length === 0 || isZeroId(meta.maxDeletedId)) return false;
  // The latest tombstone lies before the first entry (trimmed away since): none is left.
  if (compareIds(meta.firstId, meta.maxDeletedId) > 0) return false;
  return compareIds(start, meta.maxDeletedId) <= 0 && compareIds(meta.maxDeletedId, MAX_ID) <= 0;
}

/** The entries-read value an id corresponds to, or ENTRIES_READ_UNKNOWN (streamEstimateDistanceFromFirstEverEntry). */
export function entriesReadAt(meta: StreamMeta, length: number, id: StreamId): bigint {
  if (meta.entriesAdded === 0n) return 0n;
  if (length === 0 && compareIds(id, meta.lastId) < 1) return meta.entriesAdded;
  const cmpLast = compareIds(id, meta.lastId);
  if (cmpLast === 0) return meta.entriesAdded;
  if (cmpLast > 0) return ENTRIES_READ_UNKNOWN;
  const cmpFirst = compareIds(id, meta.firstId);
  if (isZeroId(meta.maxDeletedId) || compareIds(meta.maxDeletedId, meta.firstId) < 0) {
    if (cmpFirst < 0) return meta.entriesAdded - BigInt(length);
    if (cmpFirst === 0) return meta.entriesAdded - BigInt(length) + 1n;
  }
  return ENTRIES_READ_UNKNOWN;
}

/** XINFO's lag of a group; undefined when it cannot be known (a null reply). */
export function groupLag(meta: StreamMeta, length: number, g: GroupState): bigint | undefined {
  if (meta.entriesAdded === 0n) return 0n;
  if (g.entriesRead !== ENTRIES_READ_UNKNOWN && !hasTombstonesFrom(meta, length, g.lastId)) return meta.entriesAdded - g.entriesRead;
  const read = entriesReadAt(meta, length, g.lastId);
  return read === ENTRIES_READ_UNKNOWN ? undefined : meta.entriesAdded - read;
}
