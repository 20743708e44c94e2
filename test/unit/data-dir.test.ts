/**
 * Goal: the data-directory lock refuses a live owner and takes over every kind of dead one at once
 * (dead pid, reused pid, our own pid after a container restart, another boot, a garbage file), and
 * across hosts only once the owner stopped refreshing it.
 * Method: real lock files in a temporary directory, owned by real processes this test starts and kills.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LOCK_FILE, openDataDir, type DataDirLock } from '../../src/storage/data-dir.js';
import { StartupError } from '../../src/core/startup-error.js';

const dirs: string[] = [];
const locks: DataDirLock[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const l of locks.splice(0)) l.release();
});
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function freshDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'ringkv-lock-'));
  dirs.push(d);
  return d;
}

function startTicks(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

const bootId = (): string => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

function writeLock(dir: string, owner: Record<string, unknown>): void {
  writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify(owner) + '\n');
}

function sleeper(): ChildProcess {
  const c = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.push(c);
  return c;
}

function take(dir: string): DataDirLock {
  const l = openDataDir(dir);
  locks.push(l);
  return l;
}

const ownerPid = (dir: string): number => (JSON.parse(readFileSync(path.join(dir, LOCK_FILE), 'utf8')) as { pid: number }).pid;

describe('data directory lock', () => {
  it('a live owner on this host is refused by pid; its lock is left alone', () => {
    const dir = freshDir();
    const s = sleeper();
    writeLock(dir, { pid: s.pid, host: os.hostname(), bootId: bootId(), startTicks: startTicks(s.pid!), startedAt: '' });
    expect(() => openDataDir(dir)).toThrow(StartupError);
    expect(() => openDataDir(dir)).toThrow(`is in use by another ringkv process (pid ${s.pid})`);
    expect(ownerPid(dir)).toBe(s.pid);
  });

  it('dead, reused, own and previous-boot pids and garbage are taken over at once', async () => {
    const s = sleeper();
    const dead = spawn('true');
    await new Promise((r) => dead.once('exit', r));
    const cases: Array<Record<string, unknown> | string> = [
      { pid: dead.pid, host: os.hostname(), bootId: bootId(), startTicks: '1', startedAt: '' },
      // The pid runs, but a different process: its start time differs.
      { pid: s.pid, host: os.hostname(), bootId: bootId(), startTicks: '1', startedAt: '' },
      // Our own pid: a container restarted as PID 1 again.
      { pid: process.pid, host: os.hostname(), bootId: bootId(), startTicks: '1', startedAt: '' },
      { pid: s.pid, host: os.hostname(), bootId: 'another-boot', startTicks: startTicks(s.pid!), startedAt: '' },
      'not json',
    ];
    for (const c of cases) {
      const dir = freshDir();
      if (typeof c === 'string') writeFileSync(path.join(dir, LOCK_FILE), c);
      else writeLock(dir, c);
      const l = take(dir);
      expect(ownerPid(dir)).toBe(process.pid);
      l.release();
      expect(existsSync(path.join(dir, LOCK_FILE))).toBe(false);
    }
  });

  it('another host: refused while refreshed, taken over once 30 s stale', () => {
    const dir = freshDir();
    writeLock(dir, { pid: 4242, host: 'elsewhere', bootId: 'x', startTicks: '1', startedAt: '' });
    expect(() => openDataDir(dir)).toThrow(/pid 4242 on host elsewhere, last refreshed 0 s ago/);
    const old = new Date(Date.now() - 31_000);
    utimesSync(path.join(dir, LOCK_FILE), old, old);
    take(dir);
    expect(ownerPid(dir)).toBe(process.pid);
  });

  it('a second lock in the same process is refused until the first is released', () => {
    const dir = freshDir();
    const first = take(dir);
    // Same pid, same start time: a live owner (the own-pid takeover needs a different start time).
    expect(() => openDataDir(dir)).toThrow(/in use/);
    first.release();
    take(dir);
  });

  it('release leaves a lock that is no longer ours', () => {
    const dir = freshDir();
    const l = take(dir);
    writeLock(dir, { pid: 1, host: 'elsewhere', bootId: 'x', startTicks: '', startedAt: '' });
    l.release();
    expect(existsSync(path.join(dir, LOCK_FILE))).toBe(true);
  });
});
