// Goal: the commit log groups one event-loop turn's entries into one write (+ one fdatasync under
// always), overlaps the next group with a sync in flight, rolls segments by size, reuses retired
// files without ever replaying their old frames, and replays exactly what was acknowledged.
// Method: drive CommitLog directly in a temp dir and compare replayed payloads with what was
// appended; inspect its counters and the files it leaves.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CommitLog } from '../../src/storage/commit-log.js';
import { silentStoreLogger } from '../../src/storage/store-logger.js';
import type { FsyncPolicy } from '../../src/storage/types.js';

const dirs: string[] = [];
const logs: CommitLog[] = [];

afterEach(async () => {
  for (const l of logs.splice(0)) await l.close().catch(() => undefined);
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-log-'));
  dirs.push(d);
  return d;
}

async function openLog(dir: string, appendfsync: FsyncPolicy = 'always', segmentBytes = 64 * 1024): Promise<{ log: CommitLog; replayed: string[] }> {
  const log = await CommitLog.open({ dir, appendfsync, logger: silentStoreLogger, segmentBytes });
  logs.push(log);
  const replayed: string[] = [];
  await log.replay((p) => void replayed.push(p.toString()));
  return { log, replayed };
}

async function closeLog(log: CommitLog): Promise<void> {
  await log.close();
  logs.splice(logs.indexOf(log), 1);
}

const durable = (log: CommitLog): Promise<void> => new Promise((resolve, reject) => log.afterDurable((e) => (e ? reject(e) : resolve())));
const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('commit log', () => {
  it('writes one turn of entries as one group with one fdatasync', async () => {
    const dir = tempDir();
    const { log } = await openLog(dir);
    for (let i = 0; i < 100; i++) log.append(Buffer.from(`entry-${i}`));
    expect(log.hasPendingDurability()).toBe(true);
    await durable(log);
    expect(log.hasPendingDurability()).toBe(false);
    const st = log.stats();
    expect(st.logGroupWrites).toBe(1);
    expect(st.logFsyncs).toBe(1);
    await closeLog(log);
    const { replayed } = await openLog(dir);
    expect(replayed).toEqual(Array.from({ length: 100 }, (_, i) => `entry-${i}`));
  });

  it('accumulates the next group while a write is in flight', async () => {
    const { log } = await openLog(tempDir());
    const acks: number[] = [];
    log.append(Buffer.from('a'));
    log.afterDurable(() => acks.push(1));
    await nextTurn(); // the first group is now being written and synced
    for (let i = 0; i < 5; i++) {
      log.append(Buffer.from(`b${i}`));
      log.afterDurable(() => acks.push(2));
      await nextTurn();
    }
    await durable(log);
    expect(acks).toEqual([1, 2, 2, 2, 2, 2]);
    // Five turns of appends during the first sync went out together in far fewer groups.
    expect(log.stats().logGroupWrites).toBeLessThan(6);
  });

  it('calls afterDurable at once (asynchronously) when nothing is pending', async () => {
    const { log } = await openLog(tempDir());
    let called = false;
    log.afterDurable(() => (called = true));
    expect(called).toBe(false);
    await Promise.resolve();
    expect(called).toBe(true);
  });

  it('rolls segments by size, retires them into spares and never replays old frames', async () => {
    const dir = tempDir();
    const { log } = await openLog(dir, 'always', 4096);
    const all: string[] = [];
    for (let turn = 0; turn < 20; turn++) {
      for (let i = 0; i < 10; i++) {
        const p = `t${turn}-${i}-${'x'.repeat(40)}`;
        all.push(p);
        log.append(Buffer.from(p));
      }
      await durable(log);
    }
    expect(log.stats().logSegments).toBeGreaterThanOrEqual(3);
    const sealed = await log.rotate().done;
    await log.retireThrough(sealed);
    expect(log.stats().logSegments).toBe(0);
    const spares = fs.readdirSync(dir).filter((n) => n.startsWith('spare-'));
    expect(spares.length).toBeGreaterThan(0);
    // New entries are written over reused files full of older, intact-looking frames.
    const fresh = ['after-1', 'after-2'];
    for (const p of fresh) log.append(Buffer.from(p));
    await durable(log);
    await closeLog(log);
    const { replayed } = await openLog(dir, 'always', 4096);
    expect(replayed).toEqual(fresh);
  });

  it('never reuses a segment id after the whole log was retired, so a torn tail cannot meet old frames under the same mask', async () => {
    // Life 1 fills segment 1 with synced groups (each with its sync mark) and retires all of it:
    // the file becomes a spare still full of frames valid under segment 1's mask.
    const dir = tempDir();
    const first = await openLog(dir, 'always', 1 << 20);
    for (let g = 0; g < 30; g++) {
      first.log.append(Buffer.from(`old-${g}-${'o'.repeat(200)}`));
      await durable(first.log);
    }
    await first.log.retireThrough(await first.log.rotate().done);
    await closeLog(first.log);
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('commit-'))).toEqual([]);
    // Keep only the newest spare (segment 1 retired), so life 2 surely writes over it.
    const spares = fs.readdirSync(dir).filter((n) => n.startsWith('spare-')).sort();
    for (const n of spares.slice(0, -1)) fs.rmSync(path.join(dir, n));
    // Life 2 writes one small synced group over the reused file, then a torn write damages the
    // end mark after it (what a power cut inside the next group can leave).
    const second = await openLog(dir, 'always', 1 << 20);
    second.log.append(Buffer.from('new-entry'));
    await durable(second.log);
    await closeLog(second.log);
    const segments = fs.readdirSync(dir).filter((n) => n.startsWith('commit-'));
    expect(segments, 'the new life numbers its segment above the retired one').toEqual(['commit-0000000000000002.log']);
    const file = path.join(dir, segments[0]!);
    const bytes = fs.readFileSync(file);
    // The new group: a sync mark frame then the entry; find the zero end mark after it.
    let end = 0;
    while (bytes.readUInt32BE(end) !== 0) end += 8 + bytes.readUInt32BE(end);
    const torn = Buffer.alloc(8);
    torn.writeUInt32BE(64, 0); // a header whose payload never made it
    torn.writeUInt32BE(0xdeadbeef, 4);
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, torn, 0, 8, end);
    fs.closeSync(fd);
    // Under the same id, an old sync mark further on would "prove" damage (start-up refused) or an
    // old frame would replay; under a new id they are foreign bytes and the tail is simply cut.
    const { replayed } = await openLog(dir, 'always', 1 << 20);
    expect(replayed).toEqual(['new-entry']);
  });

  it('removes spares of the older naming, whose former segment id is unknown', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'spare-0000000000000001.log'), Buffer.alloc(4096));
    const { log } = await openLog(dir);
    log.append(Buffer.from('x'));
    await durable(log);
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('spare-0000000000000001.log'))).toEqual([]);
  });

  it('replays what everysec and no handed to the OS', async () => {
    for (const mode of ['everysec', 'no'] as const) {
      const dir = tempDir();
      const { log } = await openLog(dir, mode);
      log.append(Buffer.from('one'));
      log.append(Buffer.from('two'));
      await durable(log);
      expect(log.stats().logFsyncs).toBe(0);
      await log.syncNow();
      expect(log.stats().logFsyncs).toBe(1);
      await closeLog(log);
      expect((await openLog(dir, mode)).replayed).toEqual(['one', 'two']);
    }
  });

  it('rejects empty payloads', async () => {
    const { log } = await openLog(tempDir());
    expect(() => log.append(Buffer.alloc(0))).toThrow(RangeError);
  });

  it('cuts a torn tail, but refuses to cut off intact entries after damage in the middle', async () => {
    // Two groups, each synced before the next is written: damage in the first is in synced data.
    const write = async (dir: string): Promise<string> => {
      const { log } = await openLog(dir);
      log.append(Buffer.from('first-entry'));
      log.append(Buffer.from('second-entry'));
      await durable(log);
      log.append(Buffer.from('third-entry'));
      await durable(log);
      await closeLog(log);
      return path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.log'))!);
    };
    const flipByteOf = (file: string, text: string): void => {
      const bytes = fs.readFileSync(file);
      const at = bytes.indexOf(Buffer.from(text));
      bytes[at + 2] ^= 0xff;
      fs.writeFileSync(file, bytes);
    };
    // Damage in the last entry: a torn tail, cut off; the entries before it replay.
    const tailDir = tempDir();
    flipByteOf(await write(tailDir), 'third-entry');
    expect((await openLog(tailDir)).replayed).toEqual(['first-entry', 'second-entry']);
    // Damage in the second entry with the third, written after the second was synced, intact after
    // it: start-up is refused, nothing is cut.
    const midDir = tempDir();
    const file = await write(midDir);
    flipByteOf(file, 'second-entry');
    const sizeBefore = fs.statSync(file).size;
    await expect(openLog(midDir)).rejects.toThrow(/damaged at offset \d+ \(checksum mismatch\), which was synced before the intact entries at offset \d+/);
    expect(fs.statSync(file).size).toBe(sizeBefore);
  });

  it('cuts an unsynced write torn by a power failure even where later sectors of it reached the disk', async () => {
    // A synced group, then a group whose sectors reached the disk only in part: the sector with
    // its first entries was lost, a later one with an intact entry was written. Drives order
    // unsynced sectors as they like, so this is a torn write, not damage: the node must start.
    const dir = tempDir();
    const { log } = await openLog(dir);
    log.append(Buffer.from('synced-entry'));
    await durable(log);
    const big = (tag: string): Buffer => Buffer.from(`${tag}:${'x'.repeat(1200)}`);
    log.append(big('torn-a'));
    log.append(big('torn-b'));
    log.append(Buffer.from('torn-c'));
    await durable(log);
    await closeLog(log);
    const file = path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.log'))!);
    const bytes = fs.readFileSync(file);
    // A 512-byte sector in the middle of torn-a's payload kept its old content (zeros: a new file).
    const sector = Math.floor((bytes.indexOf(Buffer.from('torn-a')) + 700) / 512) * 512;
    bytes.fill(0, sector, sector + 512);
    expect(bytes.indexOf(Buffer.from('torn-c'))).toBeGreaterThan(sector + 512);
    fs.writeFileSync(file, bytes);
    const { replayed } = await openLog(dir);
    expect(replayed).toEqual(['synced-entry']);
  });
});
