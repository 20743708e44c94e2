// Goal: under appendfsync always, every write acknowledged through afterDurable survives a
// SIGKILL at any moment (mid group-commit, mid-checkpoint, mid segment deletion), and a torn log
// tail is cut off on open without losing the entries before it.
// Method: a child process (test/unit/fixtures/store-writer-child.mjs) runs the real Store and
// prints each key once afterDurable fires; the parent SIGKILLs it mid-stream and reopens the
// directory in-process. The child cannot import TypeScript and dist/ may be stale or absent, so
// beforeAll transpiles src/storage/*.ts (TypeScript's transpileModule: no type check, well under
// a second) into a temp dir whose node_modules symlink points at the project's, letting `lmdb`
// resolve. The temp dir is removed afterwards.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/storage/store.js';
import { ValueType } from '../../src/storage/types.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const childScript = path.join(repo, 'test/unit/fixtures/store-writer-child.mjs');
let buildDir = '';
let storeModule = '';
const dirs: string[] = [];

beforeAll(() => {
  buildDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-storage-build-'));
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(buildDir, 'node_modules'), 'dir');
  const out = path.join(buildDir, 'storage');
  fs.mkdirSync(out);
  const srcDir = path.join(repo, 'src/storage');
  for (const name of fs.readdirSync(srcDir)) {
    if (!name.endsWith('.ts')) continue;
    const source = fs.readFileSync(path.join(srcDir, name), 'utf8');
    const js = ts.transpileModule(source, {
      fileName: name,
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, isolatedModules: true },
    }).outputText;
    fs.writeFileSync(path.join(out, name.replace(/\.ts$/, '.js')), js);
  }
  storeModule = path.join(out, 'store.js');
});

afterAll(() => {
  if (buildDir) fs.rmSync(buildDir, { recursive: true, force: true });
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-crash-'));
  dirs.push(d);
  return d;
}

/** Runs the child until `stopWhen` says so after a stdout line, then SIGKILLs it; returns the lines. */
function runChildUntil(env: Record<string, string>, stopWhen: (lines: string[]) => boolean): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [childScript], {
      env: { ...process.env, STORE_MODULE: storeModule, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let partial = '';
    let stderr = '';
    let killed = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      lines.push(...parts);
      if (!killed && stopWhen(lines)) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(lines);
      else reject(new Error(`child exited with ${code} before being killed: ${stderr}`));
    });
  });
}

const slotOf = (i: number): number => (i * 7919) % 16384;

function lastSegment(dir: string): string {
  const segments = fs.readdirSync(dir).filter((n) => n.startsWith('commit-')).sort();
  expect(segments.length).toBeGreaterThan(0);
  return path.join(dir, segments[segments.length - 1]!);
}

/** Walks frames up to the zero-filled (preallocated) rest of a segment file. */
function endOfFrames(bytes: Buffer): { end: number; lastStart: number } {
  let pos = 0;
  let lastStart = 0;
  while (pos + 8 <= bytes.length && bytes.readUInt32BE(pos) !== 0) {
    lastStart = pos;
    pos += 8 + bytes.readUInt32BE(pos);
  }
  return { end: pos, lastStart };
}

function expectAcked(s: Store, prefix: string, lines: string[]): void {
  const acked = lines.filter((l) => l.startsWith(prefix));
  expect(acked.length).toBeGreaterThan(0);
  const missing: string[] = [];
  for (const key of acked) {
    const i = Number(key.slice(prefix.length));
    const rec = s.get(slotOf(i), Buffer.from(key));
    if (!rec || rec.type !== ValueType.String || (rec.value as Buffer).toString() !== `value-of-${key}`) missing.push(key);
  }
  expect(missing).toEqual([]);
}

describe('crash durability', () => {
  it('keeps every acknowledged write across repeated SIGKILLs', async () => {
    const dir = tempDir();
    const first = await runChildUntil({ STORE_DIR: dir, PREFIX: 'a' }, (l) => l.length >= 3000);
    const second = await runChildUntil({ STORE_DIR: dir, PREFIX: 'b' }, (l) => l.length >= 2500);
    const errors: string[] = [];
    const logger = { info: () => undefined, warn: () => undefined, error: (o: object, msg?: string) => errors.push(`${msg} ${JSON.stringify(o)}`) };
    const s = await Store.open({ dir, appendfsync: 'always', tombstoneGraceMs: 0, logger, logSegmentBytes: 1 << 20 });
    try {
      // Reused segment files hold old frames past the end of new data: never mistaken for corruption.
      expect(errors).toEqual([]);
      expectAcked(s, 'a', first);
      expectAcked(s, 'b', second);
      expect(s.keyCount()).toBeGreaterThanOrEqual(first.length + second.length);
      // Counts agree with what a full scan finds, after replaying whatever the log held.
      let n = 0;
      let pos: { slot: number; after?: Buffer } | null = { slot: 0 };
      while (pos) {
        const r = s.scan(pos, 1000, 0);
        n += r.entries.length;
        pos = r.next;
      }
      expect(n).toBe(s.keyCount());
    } finally {
      await s.close();
    }
  });

  it('keeps a FLUSHALL once a later write was acknowledged, even if killed before LMDB was cleared', async () => {
    for (const stopAfter of [1, 40, 400]) {
      const dir = tempDir();
      const acked = await runChildUntil({ STORE_DIR: dir, PREFIX: 'n', MODE: 'flush' }, (l) => l.length >= stopAfter);
      const s = await Store.open({ dir, appendfsync: 'always', tombstoneGraceMs: 0, logSegmentBytes: 1 << 20 });
      try {
        expectAcked(s, 'n', acked);
        const old = s.scan({ slot: 0 }, 100_000, 0).entries.filter((e) => e.key.toString().startsWith('old'));
        expect(old.length, `stopAfter ${stopAfter}`).toBe(0);
      } finally {
        await s.close();
      }
    }
  });

  it('cuts a torn tail and keeps every entry before it', async () => {
    const dir = tempDir();
    await runChildUntil(
      { STORE_DIR: dir, PREFIX: 't', MODE: 'burst', COUNT: '500', CHECKPOINT_ENTRIES: '1000000000', CHECKPOINT_INTERVAL_MS: '1000000000' },
      (l) => l.includes('ready'),
    );
    const last = lastSegment(dir);
    const intactSize = endOfFrames(fs.readFileSync(last)).end;
    expect(intactSize).toBeGreaterThan(0);
    // A frame header promising 1000 bytes followed by only a few: a write torn by the crash.
    const torn = Buffer.alloc(8 + 13, 0x5a);
    torn.writeUInt32BE(1000, 0);
    const fd = fs.openSync(last, 'r+');
    fs.writeSync(fd, torn, 0, torn.length, intactSize);
    fs.closeSync(fd);
    const warnings: string[] = [];
    const logger = { info: () => undefined, warn: (_o: object, msg?: string) => warnings.push(msg ?? ''), error: () => undefined };
    const s = await Store.open({ dir, appendfsync: 'always', tombstoneGraceMs: 0, logger, logSegmentBytes: 1 << 20 });
    try {
      expect(fs.statSync(last).size).toBe(intactSize);
      expect(warnings.some((w) => w.includes('torn tail'))).toBe(true);
      expectAcked(s, 't', Array.from({ length: 500 }, (_, i) => `t${i}`));
      expect(s.keyCount()).toBe(500);
      s.put(1, Buffer.from('after-repair'), {
        version: Buffer.from('0fffffffffff0000000000000000000a', 'hex'),
        clock: [],
        type: ValueType.String,
        expiresAt: 0,
        value: Buffer.from('ok'),
      });
    } finally {
      await s.close();
    }
    const again = await Store.open({ dir, appendfsync: 'always', tombstoneGraceMs: 0, logSegmentBytes: 1 << 20 });
    try {
      expect(again.keyCount()).toBe(501);
      expect((again.get(1, Buffer.from('after-repair'))!.value as Buffer).toString()).toBe('ok');
    } finally {
      await again.close();
    }
  });

  it('cuts a tail entry whose checksum does not match', async () => {
    const dir = tempDir();
    await runChildUntil(
      { STORE_DIR: dir, PREFIX: 'c', MODE: 'burst', COUNT: '50', CHECKPOINT_ENTRIES: '1000000000', CHECKPOINT_INTERVAL_MS: '1000000000' },
      (l) => l.includes('ready'),
    );
    const last = lastSegment(dir);
    const bytes = fs.readFileSync(last);
    // Flip a byte inside the final entry's payload: that entry is dropped, the 49 before it stay.
    const { lastStart } = endOfFrames(bytes);
    bytes[lastStart + 8 + 3] ^= 0xff;
    fs.writeFileSync(last, bytes);
    const s = await Store.open({ dir, appendfsync: 'always', tombstoneGraceMs: 0, logSegmentBytes: 1 << 20 });
    try {
      expect(fs.statSync(last).size).toBe(lastStart);
      expect(s.keyCount()).toBe(49);
      expectAcked(s, 'c', Array.from({ length: 49 }, (_, i) => `c${i}`));
    } finally {
      await s.close();
    }
  });

  it.each([['putAll', 'batch'], ['Store.atomically', 'atomically']])('replays puts grouped by %s whole or not at all when the log is cut inside their entry', async (_grouping, mode) => {
    const dir = tempDir();
    const count = 40;
    await runChildUntil(
      { STORE_DIR: dir, PREFIX: 'g', MODE: mode, COUNT: String(count), CHECKPOINT_ENTRIES: '1000000000', CHECKPOINT_INTERVAL_MS: '1000000000', LOG_SEGMENT_BYTES: String(1 << 20) },
      (l) => l.includes('ready'),
    );
    const last = lastSegment(dir);
    const bytes = fs.readFileSync(last);
    const { end, lastStart } = endOfFrames(bytes);
    // Each batch is one frame: 40 frames, the last holding batch 39's six puts (besides the sync
    // mark, a 9-byte payload of op 5, that starts each group the log writes).
    let frames = 0;
    for (let pos = 0; pos < end; pos += 8 + bytes.readUInt32BE(pos)) {
      if (!(bytes.readUInt32BE(pos) === 9 && bytes[pos + 8] === 5)) frames++;
    }
    expect(frames).toBe(count);
    const batchKeys = (i: number): string[] => [`g${i}:m`, ...Array.from({ length: 5 }, (_, e) => `g${i}:e${e}`)];
    const present = (s: Store, i: number): boolean[] => batchKeys(i).map((key) => s.get(slotOf(i), Buffer.from(key)) !== undefined);
    // The crash wrote the last frame's header and only part of its puts (cut halfway through its payload).
    const payloadLength = bytes.readUInt32BE(lastStart);
    const cutAt = lastStart + 8 + Math.floor(payloadLength / 2);
    fs.truncateSync(last, cutAt);
    const warnings: string[] = [];
    const logger = { info: () => undefined, warn: (_o: object, msg?: string) => warnings.push(msg ?? ''), error: () => undefined };
    const s = await Store.open({ dir, appendfsync: 'always', tombstoneGraceMs: 0, logger, logSegmentBytes: 1 << 20 });
    try {
      expect(warnings.some((w) => w.includes('torn tail'))).toBe(true);
      expect(present(s, count - 1)).toEqual([false, false, false, false, false, false]);
      // Every complete batch frame came back with all of its puts.
      const acked = Array.from({ length: count - 1 }, (_, i) => batchKeys(i)).flat();
      const slotOfKey = (key: string): number => slotOf(Number(key.slice(1, key.indexOf(':'))));
      const missing = acked.filter((key) => (s.get(slotOfKey(key), Buffer.from(key))?.value as Buffer | undefined)?.toString() !== `value-of-${key}`);
      expect(missing).toEqual([]);
      expect(s.keyCount()).toBe((count - 1) * 6);
    } finally {
      await s.close();
    }
  });
});
