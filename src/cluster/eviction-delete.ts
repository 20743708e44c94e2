import type { Logger } from '../core/logger.js';
import { VERSION_BYTES } from '../core/version.js';
import { encodeRecord } from '../storage/record-codec.js';
import { ValueType, type StoredRecord } from '../storage/types.js';
import type { EvictionHost } from '../server/eviction/evictor.js';

/**
 * How long an eviction's tombstone is kept: long enough to reach every replica directly and,
 * failing that, through a few anti-entropy rounds; short, because tombstones count toward used
 * memory and an eviction that freed memory with a tombstone kept for the 24 h delete grace would
 * fill it again (docs/decisions.md, "Eviction in a cluster").
 */
export const EVICTION_TOMBSTONE_GRACE_MS = 10_000;
/** expiresAt values 0 and 1 have meanings of their own on a tombstone (types.ts). */
const EVICTION_MARK_MIN = 2;
const EMPTY = Buffer.alloc(0);

/**
 * The smallest version above `v` (the 16 bytes as one big-endian integer, plus one). A write that
 * happened after the evicted one carries a higher version than it, so it is at least this one:
 * last-writer-wins keeps it over the eviction's delete, while the delete beats the evicted record
 * and everything older on every replica.
 */
export function successorVersion(v: Buffer): Buffer {
  if (v.length !== VERSION_BYTES) throw new RangeError(`version must be ${VERSION_BYTES} bytes`);
  const next = Buffer.from(v);
  for (let i = VERSION_BYTES - 1; i >= 0; i--) {
    if (next[i] !== 0xff) {
      next[i]!++;
      return next;
    }
    next[i] = 0;
  }
  throw new RangeError('version has no successor');
}

/**
 * The delete that evicts `evicted`: stamped just above its version, with its vector clock, and
 * dated back in `expiresAt` (storage/tombstone-time.ts) so it is purged EVICTION_TOMBSTONE_GRACE_MS
 * after `now` rather than `graceMs` after.
 */
export function evictionTombstone(evicted: StoredRecord, now: number, graceMs: number, shortGrace = true): StoredRecord {
  return {
    version: successorVersion(evicted.version),
    clock: evicted.clock,
    type: ValueType.Tombstone,
    expiresAt: shortGrace ? Math.max(EVICTION_MARK_MIN, now - graceMs + EVICTION_TOMBSTONE_GRACE_MS) : 0,
    value: EMPTY,
  };
}

export interface ClusterEvictionParts {
  myId: string;
  primary(slot: number): string | undefined;
  replicas(slot: number): readonly string[];
  reachable(nodeId: string): boolean;
  applyLocal(slot: number, key: Buffer, rec: StoredRecord, encoded: Buffer): void;
  write(nodeId: string, slot: number, items: ReadonlyArray<[Buffer, Buffer]>): Promise<unknown>;
  graceMs(): number;
  logger: Logger;
}

/**
 * Eviction in a cluster: a node decides evictions only for the slots it is primary of (replicas
 * never evict on their own) and sends each one to the slot's replicas as an ordinary replicated
 * write of the eviction's tombstone. A replica that misses it gets it from anti-entropy while the
 * tombstone lives: it is newer than the value the replica holds.
 */
export function clusterEvictionHost(p: ClusterEvictionParts): EvictionHost {
  return {
    mayEvict: (slot) => p.primary(slot) === p.myId,
    evict: (slot, rk, record, now) => {
      // A replica known to be down now would miss the delete and, once the tombstone is purged
      // everywhere, hand the value back: then the tombstone keeps the full delete grace, which
      // outlives hints and covers its return (docs/decisions.md, "Eviction in a cluster").
      const everyReplicaUp = p.replicas(slot).every((id) => id === p.myId || p.reachable(id));
      const tomb = evictionTombstone(record, now, p.graceMs(), everyReplicaUp);
      const encoded = encodeRecord(tomb);
      p.applyLocal(slot, rk, tomb, encoded);
      for (const id of p.replicas(slot)) {
        if (id === p.myId || !p.reachable(id)) continue;
        p.write(id, slot, [[rk, encoded]]).catch((err: unknown) => p.logger.debug({ err: String(err), node: id, slot }, 'eviction delete not delivered; anti-entropy will carry it'));
      }
    },
  };
}
