import { isCollectionType } from '../collections/collection.js';
import { decodeMeta, isSuspectMeta, metaBase, withMetaBase, withSuspect } from '../collections/meta-codec.js';
import { isInternalRecordKey, parseElementKey, recordKey, userKeyOf } from '../collections/record-keys.js';
import { compareVersions } from '../core/version.js';
import type { PutItem } from '../storage/record-batch.js';
import { ValueType, type StoredRecord } from '../storage/types.js';

/**
 * Collection lineage: which history a replica's element records belong to.
 *
 * A collection's elements are records of their own, merged per record by last-writer-wins. That
 * is right while every write builds on the one before it. A leased write of unknown outcome
 * (NOREPLICAS at a lease boundary) can land on one replica only, while the slot's next
 * coordinator builds on the state before it: that replica then holds a branch, and merging its
 * element records into the winning history corrupts sizes, score indexes and list positions
 * (docs/reliability.md, Findings 11–12). So every collection write names the version of the
 * metadata it was computed from (its base); a replica whose metadata is not that version marks
 * the collection suspect and heals it from a complete replica, and nothing copies element
 * records out of a suspect replica. Pure: the caller brings the records.
 */

/** The base a coordinator writes into a collection's new metadata: the earlier state's version, when the write continues that generation. */
export function lineageBase(prev: StoredRecord | undefined, type: number, value: Buffer): Buffer | undefined {
  if (prev === undefined || prev.type !== type || !isCollectionType(type as ValueType)) return undefined;
  return decodeMeta(prev.value as Buffer).generation.equals(decodeMeta(value).generation) ? prev.version : undefined;
}

/** The metadata value with the base set for a write built on `prev`. */
export function stampBase(prev: StoredRecord | undefined, type: number, value: Buffer): Buffer {
  return withMetaBase(value, lineageBase(prev, type, value));
}

/** True when `rec` is a collection's metadata this replica marked suspect. */
export function isSuspect(rec: StoredRecord | undefined): boolean {
  return rec !== undefined && isCollectionType(rec.type as ValueType) && isSuspectMeta(rec.value as Buffer);
}

export interface LineageJudgement {
  /** The items to apply: suspect metadata marked, elements of superseded metadata left out. */
  items: PutItem[];
  /** Metadata keys held here to mark suspect before the items are applied (elements came without their metadata). */
  marks: Buffer[];
  /** Metadata keys now suspect here: to heal. */
  suspects: Buffer[];
}

/**
 * Judges records arriving for one slot (one replicated write, or what anti-entropy or a hint
 * handoff carries) against what this replica holds (`get`).
 * - Metadata whose base is not the version held here: this replica missed writes or holds a
 *   branch; the metadata is stored marked suspect. A suspect mark held here stays.
 * - Metadata older than what is held here: its element records are left out. Either this replica
 *   already has them (it applied later writes built on it) or they belong to a branch; applied
 *   one by one they could outlive the records that replaced them.
 * - Element records without their metadata (anti-entropy, a handoff split in pages): nothing
 *   tells which history they belong to, so the collection they would join here is marked suspect
 *   and they are left for the heal to bring.
 * - Newer metadata that is not part of a coordinator's whole write: marked suspect.
 */
export function judgeLineage(
  get: (key: Buffer) => StoredRecord | undefined,
  items: readonly PutItem[],
  /**
   * Whether item i is part of a coordinator's write, which carries all of that write's records.
   * What anti-entropy and hint handoff carry may hold a collection's metadata without all its
   * elements: such metadata is stored marked suspect whatever its base.
   */
  whole: (i: number) => boolean = () => true,
): LineageJudgement {
  let out: PutItem[] | undefined;
  let stale: Array<{ userKey: Buffer; generation: Buffer }> | undefined;
  let newer: Array<{ userKey: Buffer; generation: Buffer }> | undefined;
  const metas: Array<{ userKey: Buffer; generation: Buffer }> = [];
  const suspects: Buffer[] = [];
  const marks: Buffer[] = [];
  let loose = false;
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const rec = item.record;
    // Element records and their tombstones (a deleted element) alike: keys of the internal namespace.
    if (isInternalRecordKey(item.key)) {
      loose = true;
      continue;
    }
    if (!isCollectionType(rec.type as ValueType)) continue;
    const value = rec.value as Buffer;
    const userKey = userKeyOf(item.key);
    if (userKey !== undefined) metas.push({ userKey, generation: decodeMeta(value).generation });
    const here = get(item.key);
    if (here !== undefined && compareVersions(rec.version, here.version) <= 0) {
      if (userKey !== undefined) (stale ??= []).push({ userKey, generation: decodeMeta(value).generation });
      continue;
    }
    if (userKey !== undefined) (newer ??= []).push({ userKey, generation: decodeMeta(value).generation });
    if (whole(i)) {
      const base = metaBase(value);
      if (base === undefined) continue;
      const continues = here !== undefined && here.type === rec.type && here.version.equals(base);
      if (continues && !isSuspectMeta(here.value as Buffer)) continue;
    }
    out ??= items.slice();
    out[i] = { key: item.key, record: { ...rec, value: withSuspect(value, true) } };
    suspects.push(item.key);
  }
  if (loose) {
    // Per collection met: whether this replica holds it (same generation), so its loose records wait for the heal.
    const held = new Map<string, boolean>();
    const kept: PutItem[] = [];
    for (const it of out ?? items) {
      const el = isInternalRecordKey(it.key) ? parseElementKey(it.key) : undefined;
      if (el === undefined || metas.some((m) => m.userKey.equals(el.userKey) && m.generation.equals(el.generation))) {
        kept.push(it);
        continue;
      }
      const metaKey = recordKey(Buffer.from(el.userKey));
      const id = `${metaKey.toString('latin1')}|${el.generation.toString('latin1')}`;
      let holds = held.get(id);
      if (holds === undefined) {
        const here = get(metaKey);
        holds = here !== undefined && isCollectionType(here.type as ValueType) && decodeMeta(here.value as Buffer).generation.equals(el.generation);
        held.set(id, holds);
        if (holds) {
          if (!isSuspectMeta(here!.value as Buffer)) marks.push(metaKey);
          suspects.push(metaKey);
        }
      }
      // Applied into a collection held here, they could mix another history into it: the heal
      // brings them if they belong. Of a life not held here (a newer one whose metadata is on its
      // way, an ended one the reclaimer takes), they are stored as they come.
      if (!holds) kept.push(it);
    }
    if (kept.length !== (out ?? items).length) out = kept;
  }
  // A batch carries several writes: a read repair's copy of the metadata held here travels beside
  // the next write to the same collection, whose elements must not be left out with the repair's.
  // Elements of a stale write that shares the batch with a newer one are older versions of records
  // held here (the newer write continues from what this replica holds, or is healed whole if it
  // does not): last-writer-wins per element keeps them from replacing anything newer.
  const superseded = stale?.filter((s) => !newer?.some((n) => n.userKey.equals(s.userKey) && n.generation.equals(s.generation)));
  if (superseded !== undefined && superseded.length > 0) {
    out = (out ?? items.slice()).filter((it) => {
      const el = parseElementKey(it.key);
      return el === undefined || !superseded.some((s) => s.userKey.equals(el.userKey) && s.generation.equals(el.generation));
    });
  }
  return { items: out ?? (items as PutItem[]), marks, suspects };
}

/** The metadata record marked suspect (same version: only this replica's copy changes). */
export function markedSuspect(rec: StoredRecord): StoredRecord {
  return { ...rec, value: withSuspect(rec.value as Buffer, true) };
}
