import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StartupError, errnoText } from '../core/startup-error.js';

/**
 * The data directory: created if missing, checked to be a writable directory, and locked so that a
 * second process on it is refused. LMDB lets several processes open one environment, so without
 * this lock two nodes would share a node id and a commit log and corrupt each other's data.
 *
 * The lock is a file, `ringkv.lock`, created atomically (link of a private temporary file, which
 * fails if the name exists) and holding the owner's pid, host, boot id and process start time.
 * A lock whose owner is gone is taken over at once:
 * - same host: the pid is not running (or is a zombie), or runs a different process: its start time
 *   differs, which also covers our own pid left behind by a container restarted as PID 1 again;
 * - another boot of this host (boot id differs);
 * - another host (a volume shared between containers): the owner refreshes the file's mtime every
 *   LOCK_REFRESH_MS, and a lock not refreshed for LOCK_STALE_MS is stale.
 */
export const LOCK_FILE = 'ringkv.lock';
const LOCK_REFRESH_MS = 10_000;
const LOCK_STALE_MS = 30_000;
/** Attempts to take a lock that others are taking over at the same moment. */
const LOCK_ATTEMPTS_MAX = 5;

interface LockOwner {
  pid: number;
  host: string;
  bootId: string;
  /** Start time of the process in clock ticks since boot (/proc/<pid>/stat field 22); '' when unknown. */
  startTicks: string;
  startedAt: string;
}

export interface DataDirLock {
  readonly dir: string;
  /** Removes the lock file if it is still ours. Safe to call more than once. */
  release(): void;
}

/** Creates and checks `dir`, then locks it; throws StartupError with a one-line reason. */
/** The data directory as an absolute path, created if missing (a StartupError names what is wrong). */
export function ensureDataDir(dir: string): string {
  const abs = path.resolve(dir);
  ensureDirectory(abs, dir);
  return abs;
}

export function openDataDir(dir: string): DataDirLock {
  const abs = path.resolve(dir);
  ensureDirectory(abs, dir);
  return acquireLock(abs);
}

/**
 * mkdir -p without `recursive: true`: Node's recursive mkdir loops forever where the kernel answers
 * ENOENT for a path whose parent exists (`/proc/ringkv`), so each level is made and checked here.
 */
function ensureDirectory(abs: string, given: string): void {
  const missing: string[] = [];
  let cur = abs;
  for (;;) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(cur);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // ENOTDIR: a file further up; the walk reaches it and names it.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw dirError(given, cur, err);
    }
    if (st !== undefined) {
      if (!st.isDirectory()) {
        throw new StartupError(cur === abs
          ? `--dir ${given}: ${abs} exists and is not a directory`
          : `--dir ${given}: ${cur} is not a directory, so ${abs} cannot be created`);
      }
      break;
    }
    missing.push(cur);
    const parent = path.dirname(cur);
    if (parent === cur) break;
    cur = parent;
  }
  for (const d of missing.reverse()) {
    try {
      fs.mkdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && fs.statSync(d).isDirectory()) continue;
      throw dirError(given, d, err, 'cannot create');
    }
  }
  try {
    fs.accessSync(abs, fs.constants.R_OK | fs.constants.W_OK | fs.constants.X_OK);
  } catch (err) {
    throw dirError(given, abs, err, 'cannot write to');
  }
}

function dirError(given: string, at: string, err: unknown, verb = 'cannot use'): StartupError {
  return new StartupError(`--dir ${given}: ${verb} ${at}: ${errnoText(err)}`);
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

const BOOT_ID = readText('/proc/sys/kernel/random/boot_id').trim();

/** Fields 3 on of /proc/<pid>/stat (state first), or [] where /proc is not available. */
function procStat(pid: number): string[] {
  const stat = readText(`/proc/${pid}/stat`);
  if (stat === '') return [];
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** A process's start time in ticks since boot (field 22), or '' where /proc is not available. */
function startTicksOf(pid: number): string {
  return procStat(pid)[19] ?? '';
}

function processRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A killed process its parent has not reaped yet still answers signal 0, as a zombie.
  const state = procStat(pid)[0];
  return state !== 'Z' && state !== 'X';
}

function me(): LockOwner {
  return { pid: process.pid, host: os.hostname(), bootId: BOOT_ID, startTicks: startTicksOf(process.pid), startedAt: new Date().toISOString() };
}

function readOwner(file: string): { owner: LockOwner | undefined; mtimeMs: number } | undefined {
  let text: string;
  let mtimeMs: number;
  try {
    text = fs.readFileSync(file, 'utf8');
    mtimeMs = fs.statSync(file).mtimeMs;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o.pid !== 'number' || typeof o.host !== 'string') return { owner: undefined, mtimeMs };
    return { owner: { pid: o.pid, host: o.host, bootId: o.bootId ?? '', startTicks: o.startTicks ?? '', startedAt: o.startedAt ?? '' }, mtimeMs };
  } catch {
    // Not ours: a lock is written in full before it is linked into place, so it is never partial.
    return { owner: undefined, mtimeMs };
  }
}

/** Whether the process described by `owner` still holds the lock. */
function ownerAlive(owner: LockOwner | undefined, mtimeMs: number): boolean {
  if (owner === undefined) return false;
  if (owner.host !== os.hostname()) return Date.now() - mtimeMs < LOCK_STALE_MS;
  if (owner.bootId !== '' && BOOT_ID !== '' && owner.bootId !== BOOT_ID) return false;
  // Our own pid: this process (the same start time) holds it already, or a container restarted as
  // PID 1 again left it behind.
  if (owner.pid === process.pid) return owner.startTicks !== '' && owner.startTicks === startTicksOf(process.pid);
  if (!processRunning(owner.pid)) return false;
  const ticks = startTicksOf(owner.pid);
  return owner.startTicks === '' || ticks === '' || ticks === owner.startTicks;
}

function heldMessage(dir: string, owner: LockOwner | undefined, mtimeMs: number): string {
  if (owner === undefined) return `data directory ${dir} is locked (${path.join(dir, LOCK_FILE)})`;
  const where = owner.host === os.hostname() ? `pid ${owner.pid}` : `pid ${owner.pid} on host ${owner.host}, last refreshed ${Math.round((Date.now() - mtimeMs) / 1000)} s ago`;
  return `data directory ${dir} is in use by another ringkv process (${where}); stop it or give this node another --dir`;
}

function acquireLock(dir: string): DataDirLock {
  const file = path.join(dir, LOCK_FILE);
  const mine = me();
  const content = JSON.stringify(mine) + '\n';
  const tmp = path.join(dir, `${LOCK_FILE}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, content, { mode: 0o644 });
  } catch (err) {
    throw dirError(dir, tmp, err, 'cannot write to');
  }
  try {
    for (let attempt = 0; attempt < LOCK_ATTEMPTS_MAX; attempt++) {
      try {
        fs.linkSync(tmp, file);
        return holdLock(dir, file, content);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw dirError(dir, file, err, 'cannot lock');
      }
      const seen = readOwner(file);
      if (seen === undefined) continue;
      if (ownerAlive(seen.owner, seen.mtimeMs)) throw new StartupError(heldMessage(dir, seen.owner, seen.mtimeMs));
      // Stale: move it aside under a private name (only one contender's rename succeeds), then
      // make sure what we moved is the stale lock and not one a contender created meanwhile.
      const aside = path.join(dir, `${LOCK_FILE}.stale.${process.pid}`);
      try {
        fs.renameSync(file, aside);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw dirError(dir, file, err, 'cannot take over the stale lock');
      }
      const moved = readOwner(aside);
      if (moved !== undefined && ownerAlive(moved.owner, moved.mtimeMs)) {
        try {
          fs.linkSync(aside, file);
        } catch {
          /* another contender holds the name now; either way it is not ours */
        }
        fs.rmSync(aside, { force: true });
        throw new StartupError(heldMessage(dir, moved.owner, moved.mtimeMs));
      }
      fs.rmSync(aside, { force: true });
    }
    throw new StartupError(`data directory ${dir}: could not take the lock ${file} after ${LOCK_ATTEMPTS_MAX} attempts (other processes are starting on it)`);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

function holdLock(dir: string, file: string, content: string): DataDirLock {
  const refresh = setInterval(() => {
    const now = new Date();
    fs.utimes(file, now, now, () => undefined);
  }, LOCK_REFRESH_MS);
  refresh.unref();
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    clearInterval(refresh);
    process.off('exit', release);
    // Only our own lock is removed: one taken over from us (we were paused past LOCK_STALE_MS on
    // another host) belongs to its new owner.
    if (readText(file) === content) fs.rmSync(file, { force: true });
  };
  // Every way out of the process releases it, including process.exit after a failed start.
  process.on('exit', release);
  return { dir, release };
}

/** LMDB's meta page magic (MDB_MAGIC), little-endian right after the 16-byte page header of page 0. */
const LMDB_MAGIC = 0xbeefc0de;
const LMDB_MAGIC_OFFSET = 24;

/**
 * Checks the header of each LMDB environment under `dir` before it is opened: lmdb-js crashes the
 * process (SIGSEGV) on a data.mdb whose first meta page is damaged, where a one-line refusal is what
 * the operator needs. Damage deeper in the file is reported by LMDB itself (MDB_CORRUPTED).
 */
export function checkLmdbHeaders(dir: string, envs: readonly string[] = ['store', 'hints']): void {
  for (const env of envs) {
    const file = path.join(dir, env, 'data.mdb');
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw dirError(dir, file, err, 'cannot read');
    }
    try {
      const head = Buffer.alloc(LMDB_MAGIC_OFFSET + 4);
      const n = fs.readSync(fd, head, 0, head.length, 0);
      // An empty or short file is one LMDB was creating when the process died; LMDB starts it over.
      if (n < head.length) continue;
      if (head.readUInt32LE(LMDB_MAGIC_OFFSET) !== LMDB_MAGIC) {
        throw new StartupError(
          `${file} is corrupt (its LMDB header is damaged); move ${dir} aside and start this node on an empty --dir ` +
          '(in a cluster, anti-entropy copies its data back from the replicas)',
        );
      }
    } finally {
      fs.closeSync(fd);
    }
  }
}
