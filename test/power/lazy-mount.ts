/**
 * Mounts test/power/lazyfs.py (a FUSE filesystem that keeps unsynced writes in memory) over a
 * backing directory, and cuts its power: afterwards the backing directory holds only what was
 * fsync'ed (or, for a torn cut, that plus a random part of the rest), as a disk after a power
 * failure. Every daemon started here is stopped and unmounted when the test process exits.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DAEMON = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lazyfs.py');
/** Debian's python3-fusepy installs for the system python, not for a pyenv one earlier on PATH. */
const PYTHON = '/usr/bin/python3';

/** Why FUSE mounts cannot work here, or undefined when they can be tried. */
export function fuseUnavailable(): string | undefined {
  if (!existsSync('/dev/fuse')) return 'no /dev/fuse';
  if (process.getuid?.() !== 0) return 'mounting needs root';
  const probe = spawnSync(PYTHON, ['-c', 'import fusepy'], { encoding: 'utf8' });
  if (probe.status !== 0) return `python3-fusepy missing: ${probe.stderr.trim()}`;
  return undefined;
}

export interface CutStatus {
  writes: number;
  fsyncs: number;
  dead: boolean;
  cut_at?: string | null;
  unsynced_pages?: number;
  torn_sectors_kept?: number;
  unsynced_files?: string[];
  /** Directory changes not yet covered by an fsync of their directory, undone by the cut. */
  dir_changes_undone?: string[];
  ops: Record<string, number>;
}

const live = new Set<LazyMount>();
// Before the test helpers' own exit handler removes the temporary directories, mounts included.
process.prependListener('exit', () => {
  for (const m of live) m.forceUnmount();
});

export class LazyMount {
  private daemon: ChildProcess | null = null;
  private log = '';

  constructor(readonly backing: string, readonly mountpoint: string) {}

  private get statusFile(): string {
    return `${this.backing}.status.json`;
  }

  async mount(): Promise<void> {
    const proc = spawn(PYTHON, [DAEMON, this.backing, this.mountpoint, this.statusFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d: Buffer) => (this.log += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    this.daemon = proc;
    live.add(this);
    const deadline = Date.now() + 10_000;
    while (!this.mounted()) {
      if (proc.exitCode !== null) throw new Error(`lazyfs exited with ${proc.exitCode}: ${this.log}`);
      if (Date.now() > deadline) throw new Error(`lazyfs did not mount ${this.mountpoint}: ${this.log}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  mounted(): boolean {
    const target = path.resolve(this.mountpoint);
    return readFileSync('/proc/mounts', 'utf8').split('\n').some((line) => line.split(' ')[1] === target);
  }

  /** Sends a control line (see lazyfs.py). */
  control(line: string): void {
    writeFileSync(path.join(this.mountpoint, '.lazyfs'), line, { flag: 'r+' });
  }

  /** Power cut now: unsynced data is dropped (torn: a random part of it kept, chosen by `tornSeed`). */
  cut(tornSeed?: number): void {
    this.control(tornSeed === undefined ? 'cut' : `cut-torn ${tornSeed}`);
  }

  /** Cuts the power when the k-th operation whose "op path" matches `pattern` arrives. */
  arm(pattern: string, k: number, tornSeed?: number): void {
    this.control(`arm ${pattern} ${k}${tornSeed === undefined ? '' : ` torn ${tornSeed}`}`);
  }

  status(): CutStatus {
    return JSON.parse(readFileSync(this.statusFile, 'utf8')) as CutStatus;
  }

  output(): string {
    return this.log;
  }

  /** Unmounts (after the processes using the mount are gone) and waits for the daemon to end. */
  async unmount(): Promise<void> {
    const proc = this.daemon;
    if (!proc) return;
    for (let attempt = 0; this.mounted(); attempt++) {
      const r = spawnSync('umount', attempt < 20 ? [this.mountpoint] : ['-l', this.mountpoint], { encoding: 'utf8' });
      if (r.status === 0) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((res) => proc.once('exit', res));
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    this.daemon = null;
    live.delete(this);
  }

  /** Last resort at process exit: no waiting possible. */
  forceUnmount(): void {
    spawnSync('umount', ['-l', this.mountpoint]);
    this.daemon?.kill('SIGKILL');
  }
}
