import { rdbHeader, rdbKeyRecord, rdbSelectDb, RdbChecksum } from '../rdb/rdb-file.js';
import { writeDumpValue } from '../rdb/dump-value.js';
import { scriptingFor } from '../scripting/engine.js';
import type { ScanPosition } from '../storage/types.js';
import { dumpValueOf } from './dump-restore.js';
import { listedKeysPage } from './keys.js';
import { largeCollection, writeLargeCollection } from './rdb-large-collection.js';
import type { CommandContext } from './spec.js';
import { REDIS_VERSION } from './version.js';

/**
 * What this node holds as one RDB file, for `redis-cli --rdb` and the backup tools built on
 * Redis's replication handshake (REPLCONF rdb-only, then SYNC or PSYNC): the function libraries,
 * then every key it lists (standalone: all; in a cluster: those of the slots it serves, as each
 * Redis Cluster master's file holds its own), each with its expiry. Keys are read a page at a
 * time between event-loop turns, so commands keep running meanwhile: each key is as it was when
 * read, and the file is not one instant's picture as Redis's fork gives (a key changed during
 * the transfer may be in it from before or after the change; DEL'd keys not yet read are left out).
 * A large collection is written a page of elements at a time, its key held against other
 * clients' writes meanwhile (rdb-large-collection.ts).
 */

/** Keys read per page; a page's records are written as one chunk. */
const PAGE_KEYS = 256;
/** A chunk is sent once it passes this. */
const CHUNK_BYTES = 64 << 10;

/**
 * Writes the snapshot through `write` (which waits while the client is behind), in chunks: the
 * parts `parts` asks for (REPLCONF rdb-filter-only functions: the libraries alone, `--functions-rdb`).
 */
export async function writeRdbSnapshot(ctx: CommandContext, parts: { data: boolean; functions: boolean }, write: (chunk: Buffer) => Promise<void>): Promise<void> {
  const crc = new RdbChecksum();
  const held: Buffer[] = [];
  let pending = 0;
  const add = (b: Buffer): void => {
    held.push(crc.add(b));
    pending += b.length;
  };
  const flush = async (): Promise<void> => {
    if (pending === 0) return;
    const chunk = Buffer.concat(held, pending);
    held.length = 0;
    pending = 0;
    await write(chunk);
  };
  add(rdbHeader([
    ['redis-ver', REDIS_VERSION],
    ['redis-bits', '64'],
    ['ctime', String(Math.floor(Date.now() / 1000))],
    ['used-mem', String(process.memoryUsage().rss)],
    ['aof-base', '0'],
  ]));
  if (parts.functions) add(scriptingFor(ctx.node).functionRecords());
  if (parts.data) {
    add(rdbSelectDb(0));
    let pos: ScanPosition | null = { slot: 0 };
    while (pos !== null) {
      // Read with the keyspace's time of its last command: a key expired since is written with
      // its (past) expiry, and every loader drops such a key.
      const page = listedKeysPage(ctx, pos, PAGE_KEYS);
      for (const key of page.keys) {
        const e = ctx.ks.get(key);
        if (e === undefined) continue;
        // Held whole, a collection of millions would take its copies into memory at once.
        let whole = e;
        if (largeCollection(ctx.ks, key, e) !== undefined) {
          await flush();
          const small = await writeLargeCollection(ctx, key, add, flush);
          if (small === undefined) continue;
          whole = small;
        }
        const v = dumpValueOf(ctx.ks, key, whole);
        if (v === undefined) continue;
        add(rdbKeyRecord(key, whole.expiresAt, writeDumpValue(v)));
        if (pending >= CHUNK_BYTES) await flush();
      }
      pos = page.next;
      // A page at a time, so commands run between pages even when the client keeps up.
      await flush();
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  held.push(crc.end());
  pending += 9;
  await flush();
}
