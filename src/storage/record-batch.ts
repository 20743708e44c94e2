import type { PutOutcome, RecordStore, StoredRecord } from './types.js';

/**
 * Writing several records of one slot so that a crash keeps all of them or none (Store.putAll:
 * one commit-log entry). The replication layer uses `putRecords`, which takes any RecordStore: a
 * store without putAll (the deterministic simulation's, which has no log to tear) gets one put
 * per item, with the same outcomes.
 */

/** One record of a putAll: put()'s arguments. */
export interface PutItem {
  key: Buffer;
  record: StoredRecord;
  /** encodeRecord(record) when the caller already has it; kept, so it must not be overwritten. */
  encoded?: Buffer;
}

/** A RecordStore that writes several records of one slot atomically. */
export interface BatchRecordStore extends RecordStore {
  putAll(slot: number, items: ReadonlyArray<PutItem>): PutOutcome[];
}

/** putAll where the store has it, else put() per item; outcomes in item order either way. */
export function putRecords(store: RecordStore, slot: number, items: ReadonlyArray<PutItem>): PutOutcome[] {
  const batching = store as Partial<BatchRecordStore>;
  if (typeof batching.putAll === 'function') return batching.putAll(slot, items);
  return items.map(({ key, record, encoded }) => store.put(slot, key, record, encoded));
}
