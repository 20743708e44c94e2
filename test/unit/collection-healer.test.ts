// Goal: a replica that marked a collection suspect makes it exactly the source's copy, including
// when the mark is stored right after the heal was asked for (the replica service judges a write,
// queues the heal, then applies the marked metadata in the same turn). Method: a CollectionHealer
// over an in-memory store and a fake source replica, both holding real encoded records.
import { describe, expect, it } from 'vitest';
import { CollectionHealer, type HealerHost, type HealerStore } from '../../src/cluster/collection-healer.js';
import { encodeMeta, isSuspectMeta, withSuspect } from '../../src/collections/meta-codec.js';
import { elementKey, elementPrefix, ElementKind, memberPosition, recordKey } from '../../src/collections/record-keys.js';
import { compareVersions } from '../../src/core/version.js';
import { encodeRecord } from '../../src/storage/record-codec.js';
import { ValueType, type PutOutcome, type StoredRecord } from '../../src/storage/types.js';

const SLOT = 7;
const GEN = Buffer.from('0000000100000001', 'hex');
const KEY = Buffer.from('h');
const META_KEY = recordKey(KEY);
const version = (n: number): Buffer => {
  const v = Buffer.alloc(16);
  v.writeUIntBE(1_700_000_000_000 + n, 0, 6);
  return v;
};
const meta = (n: number, size: number): StoredRecord => ({
  version: version(n), clock: [], type: ValueType.Hash, expiresAt: 0, value: encodeMeta({ generation: GEN, size, head: 0, tail: 0, large: false }, false),
});
const fieldKey = (f: string): Buffer => elementKey(elementPrefix(ElementKind.Member, KEY, GEN), memberPosition(Buffer.from(f)));
const field = (n: number, value: string): StoredRecord => ({ version: version(n), clock: [], type: ValueType.Element, expiresAt: 0, value: Buffer.from(value) });

/** A sorted in-memory record store: what the healer reads, drops and replaces. */
class MapStore implements HealerStore {
  readonly records = new Map<string, StoredRecord>();
  get(_slot: number, key: Buffer): StoredRecord | undefined {
    return this.records.get(key.toString('latin1'));
  }
  put(_slot: number, key: Buffer, rec: StoredRecord): PutOutcome {
    const previous = this.get(0, key);
    if (previous !== undefined && compareVersions(previous.version, rec.version) >= 0) return { applied: false, previous };
    this.records.set(key.toString('latin1'), rec);
    return { applied: true, previous };
  }
  replace(_slot: number, key: Buffer, rec: StoredRecord): void {
    this.records.set(key.toString('latin1'), rec);
  }
  drop(_slot: number, key: Buffer): void {
    this.records.delete(key.toString('latin1'));
  }
  scanRangeRaw(_slot: number, start: Buffer, end: Buffer, visit: (key: Buffer, record: StoredRecord) => boolean): void {
    const keys = [...this.records.keys()].map((k) => Buffer.from(k, 'latin1')).filter((k) => k.compare(start) >= 0 && k.compare(end) < 0).sort(Buffer.compare);
    for (const k of keys) if (!visit(k, this.get(0, k)!)) return;
  }
  hasPendingDurability(): boolean {
    return false;
  }
  afterDurable(cb: (err?: Error) => void): void {
    cb();
  }
}

function healerOver(local: MapStore, source: MapStore): CollectionHealer {
  const replicas: HealerHost['replicas'] = {
    myId: 'me',
    reachable: (id) => id === 'src',
    read: async (_id, slot, keys) => keys.map((k) => {
      const r = source.get(slot, k);
      return r === undefined ? null : encodeRecord(r);
    }),
    readRange: async (_id, slot, start, end, limit) => {
      const items: Array<[Buffer, Buffer]> = [];
      let next: Buffer | undefined;
      source.scanRangeRaw(slot, start, end, (k, r) => {
        if (items.length >= limit) {
          next = k;
          return false;
        }
        items.push([k, encodeRecord(r)]);
        return true;
      });
      return { items, next };
    },
  };
  const logger = { debug: () => undefined, warn: () => undefined, info: () => undefined } as unknown as HealerHost['logger'];
  return new CollectionHealer({ store: local, replicas, logger, replicasOf: () => ['me', 'src'] });
}

async function settled(healer: CollectionHealer): Promise<void> {
  for (let i = 0; i < 50 && (healer.pending > 0 || healer.stats.healed === 0); i++) await new Promise((r) => setTimeout(r, 5));
}

describe('healing a suspect collection', () => {
  it('heals a mark stored in the same turn the heal was asked for', async () => {
    // The source's history: f1 at version 2, then the write at version 4 (f2).
    const source = new MapStore();
    source.replace(SLOT, META_KEY, meta(4, 2));
    source.replace(SLOT, fieldKey('f1'), field(2, 'a'));
    source.replace(SLOT, fieldKey('f2'), field(4, 'b'));
    // Here: a branch write at version 3 that the rest of the cluster never took (f1 = 'branch').
    const local = new MapStore();
    local.replace(SLOT, META_KEY, meta(3, 1));
    local.replace(SLOT, fieldKey('f1'), field(3, 'branch'));
    const healer = healerOver(local, source);
    // As the replica service does: the judgement queues the heal, then the write is applied marked.
    healer.enqueue(SLOT, META_KEY, 'src');
    local.replace(SLOT, META_KEY, { ...meta(4, 2), value: withSuspect(meta(4, 2).value as Buffer, true) });
    local.replace(SLOT, fieldKey('f2'), field(4, 'b'));
    await settled(healer);
    expect(healer.stats.healed).toBe(1);
    expect(isSuspectMeta(local.get(SLOT, META_KEY)!.value as Buffer)).toBe(false);
    expect((local.get(SLOT, fieldKey('f1'))!.value as Buffer).toString()).toBe('a');
    expect((local.get(SLOT, fieldKey('f2'))!.value as Buffer).toString()).toBe('b');
  });

  it('keeps element records written after the source\'s metadata and drops the ones it lacks', async () => {
    const source = new MapStore();
    source.replace(SLOT, META_KEY, meta(4, 1));
    source.replace(SLOT, fieldKey('f1'), field(2, 'a'));
    const local = new MapStore();
    local.replace(SLOT, META_KEY, { ...meta(4, 1), value: withSuspect(meta(4, 1).value as Buffer, true) });
    local.replace(SLOT, fieldKey('gone'), field(3, 'branch'));
    local.replace(SLOT, fieldKey('later'), field(9, 'new'));
    const healer = healerOver(local, source);
    healer.enqueue(SLOT, META_KEY, 'src');
    await settled(healer);
    expect(isSuspectMeta(local.get(SLOT, META_KEY)!.value as Buffer)).toBe(false);
    expect(local.get(SLOT, fieldKey('gone'))).toBeUndefined();
    expect((local.get(SLOT, fieldKey('later'))!.value as Buffer).toString()).toBe('new');
    expect((local.get(SLOT, fieldKey('f1'))!.value as Buffer).toString()).toBe('a');
  });
});
