import { versionMs } from './record-codec.js';
import { TOMBSTONE_OF_NOTHING, type StoredRecord } from './types.js';

/**
 * The time a tombstone's grace period counts from: its version's time, or the earlier time an
 * eviction's tombstone carries in `expiresAt`. An eviction's delete is stamped just above the
 * evicted record's own version (so any later write wins over it) and must not be kept for the
 * whole delete grace (docs/decisions.md, "Eviction in a cluster"): the evicting node dates it
 * back so that it is purged a short while after the eviction.
 */
export function tombstoneMs(rec: Pick<StoredRecord, 'version' | 'expiresAt'>): number {
  return tombstoneMsOf(versionMs(rec.version), rec.expiresAt);
}

/** tombstoneMs from a tombstone's version time and expiresAt. */
export function tombstoneMsOf(versionMs: number, expiresAt: number): number {
  return expiresAt > TOMBSTONE_OF_NOTHING ? Math.min(versionMs, expiresAt) : versionMs;
}
