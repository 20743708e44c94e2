import type { Store } from '../storage/store.js';
import { ValueType, type HashValue, type StoredRecord } from '../storage/types.js';
import { encodeMeta } from './meta-codec.js';
import { elementKey, elementPrefix, ElementKind, GENERATION_BYTES, isInternalRecordKey, memberPosition, recordKey } from './record-keys.js';

/** Meta entry naming the data directory's record layout; absent = written before collections had elements. */
const LAYOUT_META = 'record-layout';
const LAYOUT_ELEMENTS = 2;

/**
 * Moves hashes stored whole (ValueType.LegacyHash, before the per-element layout) onto the
 * per-element layout, once per data directory, before the node serves anything. Each hash keeps
 * its version, and its generation and element versions derive from it, so every replica of the
 * same hash migrates to identical records and anti-entropy finds nothing to repair. Returns how
 * many hashes moved. User keys starting with 0xFF move to their escaped record key (record-keys.ts).
 */
export async function migrateLegacyHashes(store: Store): Promise<number> {
  const layout = store.getMeta(LAYOUT_META);
  if (layout !== undefined && layout.readUInt8(0) >= LAYOUT_ELEMENTS) return 0;
  // Found first and moved after the scan: a moved key lands later in its slot's order, where the
  // scan would meet it again.
  const work: Array<{ slot: number; key: Buffer; record: StoredRecord }> = [];
  let pos: { slot: number; after?: Buffer } | null = { slot: 0 };
  while (pos !== null) {
    // now = 0: records past their expiry are migrated too (they expire as before).
    const page = store.scan(pos, 1024, 0);
    for (const e of page.entries) {
      // Before this layout a user key starting with 0xFF was stored as it is: it is escaped now.
      if (e.record.type === ValueType.LegacyHash || e.key[0] === 0xff) work.push({ slot: e.slot, key: Buffer.from(e.key), record: e.record });
    }
    pos = page.next;
  }
  let moved = 0;
  for (const { slot, key, record } of work) {
    const rk = recordKey(key);
    if (isInternalRecordKey(key)) store.countMigratedKey(slot);
    if (record.type === ValueType.LegacyHash) {
      migrateHash(store, slot, key, rk, record);
      moved++;
    } else {
      store.drop(slot, key);
      store.put(slot, rk, record);
    }
  }
  const mark = Buffer.alloc(1);
  mark.writeUInt8(LAYOUT_ELEMENTS);
  await store.setMeta(LAYOUT_META, mark);
  return moved;
}

function migrateHash(store: Store, slot: number, key: Buffer, rk: Buffer, rec: StoredRecord): void {
  const hash = rec.value as HashValue;
  const generation = Buffer.from(rec.version.subarray(0, GENERATION_BYTES));
  const prefix = elementPrefix(ElementKind.Member, key, generation);
  for (const [field, value] of hash) {
    store.put(slot, elementKey(prefix, memberPosition(Buffer.from(field, 'latin1'))), { version: rec.version, clock: [], type: ValueType.Element, expiresAt: 0, value });
  }
  const meta = encodeMeta({ generation, size: hash.size, head: 0, tail: 0, large: hash.size > 128 }, false);
  // The same version as the whole hash had: last-writer-wins lets a record only replace an older
  // one, so the migrated metadata is written after the old record is dropped locally.
  store.drop(slot, key);
  store.put(slot, rk, { version: rec.version, clock: rec.clock, type: ValueType.Hash, expiresAt: rec.expiresAt, value: meta });
}
