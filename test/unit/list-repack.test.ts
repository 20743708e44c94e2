// Goal: a list whose positions a merge of two histories left with a hole and a stray outside
// head … tail is made dense again, in position order, keeping every element; a dense list is left
// alone. Method: a real Store and LocalKeyspace; the hole and the stray are made with the element
// API, as a per-element merge would leave them; the list is read back through ListType.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/storage/store.js';
import { LocalKeyspace } from '../../src/server/local-keyspace.js';
import { ServerStats } from '../../src/server/stats.js';
import { Versioner } from '../../src/server/versioner.js';
import { ListType, positionKey } from '../../src/collections/list-type.js';
import { ElementKind } from '../../src/collections/record-keys.js';

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function keyspace(): Promise<LocalKeyspace> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-list-repack-'));
  dirs.push(dir);
  const store = await Store.open({ dir, appendfsync: 'no', tombstoneGraceMs: 0, checkpointIntervalMs: 60_000 });
  stores.push(store);
  return new LocalKeyspace(store, new Versioner('a1'.repeat(20), undefined), new ServerStats());
}

const KEY = Buffer.from('q');

function contents(ks: LocalKeyspace): string[] {
  const list = ListType.open(ks, KEY)!;
  const out: string[] = [];
  list.scan(0, list.length, (v) => {
    out.push(v.toString());
    return true;
  });
  return out;
}

describe('ListType.repack', () => {
  it('leaves a dense list alone', async () => {
    const ks = await keyspace();
    const list = ListType.openOrCreate(ks, KEY);
    for (const v of ['a', 'b', 'c']) list.push('right', Buffer.from(v));
    list.c.save();
    expect(ListType.open(ks, KEY)!.repack()).toBe(false);
    expect(contents(ks)).toEqual(['a', 'b', 'c']);
  });

  it('closes a hole and takes in a stray, in position order, so pops and indexes work again', async () => {
    const ks = await keyspace();
    const list = ListType.openOrCreate(ks, KEY);
    for (const v of ['a', 'b', 'c', 'd', 'e']) list.push('right', Buffer.from(v));
    list.c.save();
    const head = list.c.meta.head;
    // What a merge can leave: 'b' deleted by one history while the metadata of the other still
    // counts it, and 'z' pushed by that other history two places before the head.
    const broken = ListType.open(ks, KEY)!;
    broken.c.delete(ElementKind.Position, positionKey(head + 1));
    broken.c.put(ElementKind.Position, positionKey(head - 2), Buffer.from('z'));
    broken.c.touch();
    broken.c.save();
    // The hole: the index arithmetic finds nothing where the metadata says 'b' is.
    expect(ListType.open(ks, KEY)!.at(1)).toBeUndefined();

    expect(ListType.open(ks, KEY)!.repack()).toBe(true);
    expect(ListType.open(ks, KEY)!.length).toBe(5);
    expect(contents(ks)).toEqual(['z', 'a', 'c', 'd', 'e']);
    const l = ListType.open(ks, KEY)!;
    expect(l.at(1)!.toString()).toBe('a');
    const popped = [l.pop('left'), l.pop('right'), l.pop('left')].map((v) => v!.toString());
    l.c.save();
    expect(popped).toEqual(['z', 'e', 'a']);
    expect(contents(ks)).toEqual(['c', 'd']);
    expect(ListType.open(ks, KEY)!.repack()).toBe(false);
  });

  it('deletes the key when nothing of the list is left', async () => {
    const ks = await keyspace();
    const list = ListType.openOrCreate(ks, KEY);
    list.push('right', Buffer.from('a'));
    list.c.save();
    const broken = ListType.open(ks, KEY)!;
    broken.c.delete(ElementKind.Position, positionKey(broken.c.meta.head));
    broken.c.touch();
    broken.c.save();
    expect(ListType.open(ks, KEY)!.repack()).toBe(true);
    expect(ListType.open(ks, KEY)).toBeUndefined();
  });
});
