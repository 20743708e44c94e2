/**
 * Checks a client-observed history of single-key writes and reads against what N/R/W quorum
 * replication with last-writer-wins promises when W + R > N and the replica set is stable:
 * - no lost write: a final read of each key returns a version at or above the highest version any
 *   acknowledged write got;
 * - no stale read: a read that started after a write was acknowledged returns a version at or
 *   above that write's (every R-set meets every W-set);
 * - no phantom: every version a read returns was issued for that key with that value.
 * Versions are compared as lowercase hex of the 16-byte version, which orders like the bytes.
 * Pure: it sees only the history, so it can be run on hand-written bad histories.
 */

export type Outcome = 'ok' | 'fail' | 'unknown';

export interface WriteOp {
  key: string;
  value: string;
  startMs: number;
  endMs: number;
  outcome: Outcome;
  /** Set when acknowledged. */
  version: string | undefined;
}

export interface ReadOp {
  key: string;
  startMs: number;
  endMs: number;
  outcome: Outcome;
  /** undefined when the key was absent (or the read did not succeed). */
  version: string | undefined;
  value: string | undefined;
}

/** Every version a coordinator stamped, acknowledged or not. */
export interface IssuedWrite {
  key: string;
  value: string;
}

export interface History {
  writes: readonly WriteOp[];
  reads: readonly ReadOp[];
  /** One read per key after the cluster healed. */
  finalReads: readonly ReadOp[];
  issued: ReadonlyMap<string, IssuedWrite>;
}

export interface LostWrite {
  key: string;
  acked: string;
  read: string | undefined;
}

export interface StaleRead {
  key: string;
  startMs: number;
  required: string;
  read: string | undefined;
}

export interface CheckResult {
  lostWrites: LostWrite[];
  staleReads: StaleRead[];
  phantomReads: Array<{ key: string; version: string; value: string | undefined }>;
  /** Keys with an acknowledged write but no successful final read: nothing proves them kept. */
  unreadKeys: string[];
  /**
   * Acknowledged writes that started after another on the same key was acknowledged yet got a
   * lower version (clock skew between coordinators). LWW lets the earlier one win; reported, not
   * a violation, because the quorum promise is about versions.
   */
  lwwInversions: number;
}

function atLeast(read: string | undefined, required: string): boolean {
  return read !== undefined && read >= required;
}

function byKey<T extends { key: string }>(items: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const list = out.get(item.key);
    if (list === undefined) out.set(item.key, [item]);
    else list.push(item);
  }
  return out;
}

export function checkHistory(history: History): CheckResult {
  const acked = history.writes.filter((w) => w.outcome === 'ok' && w.version !== undefined);
  const ackedByKey = byKey(acked);
  const result: CheckResult = { lostWrites: [], staleReads: [], phantomReads: [], unreadKeys: [], lwwInversions: 0 };

  for (const read of [...history.reads, ...history.finalReads]) {
    if (read.outcome !== 'ok' || read.version === undefined) continue;
    const issued = history.issued.get(read.version);
    if (issued === undefined || issued.key !== read.key || issued.value !== read.value) {
      result.phantomReads.push({ key: read.key, version: read.version, value: read.value });
    }
  }

  for (const read of history.reads) {
    if (read.outcome !== 'ok') continue;
    let required: string | undefined;
    for (const w of ackedByKey.get(read.key) ?? []) {
      if (w.endMs < read.startMs && (required === undefined || w.version! > required)) required = w.version!;
    }
    if (required !== undefined && !atLeast(read.version, required)) {
      result.staleReads.push({ key: read.key, startMs: read.startMs, required, read: read.version });
    }
  }

  const finalByKey = byKey(history.finalReads.filter((r) => r.outcome === 'ok'));
  for (const [key, writes] of ackedByKey) {
    const highest = writes.reduce((max, w) => (w.version! > max ? w.version! : max), writes[0]!.version!);
    const finals = finalByKey.get(key);
    if (finals === undefined) {
      result.unreadKeys.push(key);
      continue;
    }
    for (const read of finals) {
      if (!atLeast(read.version, highest)) result.lostWrites.push({ key, acked: highest, read: read.version });
    }
    for (const earlier of writes) {
      for (const later of writes) {
        if (earlier.endMs < later.startMs && later.version! < earlier.version!) result.lwwInversions++;
      }
    }
  }
  return result;
}
