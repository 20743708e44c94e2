// Goal: a store whose checkpoints fall behind its writes says so (`pressured`) and calls back once
// the running checkpoint is done, so connections can stop reading instead of the memtables growing
// with the data; nothing written meanwhile is lost. Method: a real Store with a checkpoint every 50
// entries; 50 puts start a checkpoint, 50 more while it runs make the store pressured.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/storage/store.js';
import { ValueType, type StoredRecord } from '../../src/storage/types.js';

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close().catch(() => undefined);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

let wall = 1_700_000_000_000;
function rec(value: string): StoredRecord {
  const version = Buffer.alloc(16);
  version.writeUIntBE(++wall, 0, 6);
  version.writeUInt32BE(1, 12);
  return { version, clock: [], type: ValueType.String, expiresAt: 0, value: Buffer.from(value) };
}

describe('store pressure', () => {
  it('is pressured while a checkpoint runs with the next one due, and relieved when it ends', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-pressure-'));
    dirs.push(dir);
    const s = await Store.open({ dir, appendfsync: 'always', tombstoneGraceMs: 0, checkpointIntervalMs: 60_000, checkpointEntries: 50 });
    stores.push(s);
    expect(s.pressured).toBe(false);
    for (let i = 0; i < 50; i++) s.put(0, Buffer.from(`a${i}`), rec(`v${i}`));
    // Let the requested checkpoint freeze the memtable and start writing it to LMDB.
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 50; i++) s.put(0, Buffer.from(`b${i}`), rec(`w${i}`));
    expect(s.pressured).toBe(true);
    let relieved = false;
    const done = new Promise<void>((resolve) => s.whenRelieved(() => {
      relieved = true;
      resolve();
    }));
    expect(relieved).toBe(false);
    await done;
    expect(s.pressured).toBe(false);
    for (let i = 0; i < 50; i++) {
      expect((s.get(0, Buffer.from(`a${i}`))?.value as Buffer).toString()).toBe(`v${i}`);
      expect((s.get(0, Buffer.from(`b${i}`))?.value as Buffer).toString()).toBe(`w${i}`);
    }
    // Not pressured: the callback comes at once.
    let now = false;
    s.whenRelieved(() => (now = true));
    expect(now).toBe(true);
  });
});
