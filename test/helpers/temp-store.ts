import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { Store, type StoreOptions } from '../../src/storage/store.js';

/**
 * Opens real Stores in temporary directories; each is closed and its directory removed after
 * the test that opened it. Call once at a test file's top level.
 */
export function tempStores(prefix = 'ringkv-store-'): (opts: Omit<StoreOptions, 'dir'>) => Promise<Store> {
  const dirs: string[] = [];
  const open: Store[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close().catch(() => undefined);
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  return async (opts) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    dirs.push(dir);
    const s = await Store.open({ ...opts, dir });
    open.push(s);
    return s;
  };
}

/** Record versions that only go up: a 6-byte wall time counted on from `start` (ms). */
export function versions(start = 1_700_000_000_000): () => Buffer {
  let wall = start;
  return () => {
    const v = Buffer.alloc(16);
    v.writeUIntBE(++wall, 0, 6);
    return v;
  };
}
