/**
 * SLOWLOG as Redis 7.0 keeps it: the commands whose execution took longer than
 * slowlog-log-slower-than microseconds (negative: none; 0: every command), newest first, at most
 * slowlog-max-len of them. Execution time is the command's own run, as Redis measures it: in a
 * cluster, not the quorum round it waited for.
 */

import { redactSecrets } from './redact.js';

/** Redis keeps at most this many arguments of an entry, and this many bytes of each. */
const ARGS_MAX = 32;
const ARG_BYTES_MAX = 128;

export interface SlowLogEntry {
  id: number;
  /** Unix seconds when it was logged. */
  time: number;
  usec: number;
  args: Buffer[];
  addr: string;
  name: string;
}

export class SlowLog {
  private entries: SlowLogEntry[] = [];
  private nextId = 0;

  add(command: readonly Buffer[], usec: number, addr: string, name: string, maxLen: number): void {
    if (maxLen <= 0) return;
    const argv = redactSecrets(command);
    const shown = Math.min(argv.length, ARGS_MAX);
    const args: Buffer[] = [];
    for (let i = 0; i < shown; i++) {
      // The last slot says how many arguments were left out, as Redis writes it.
      if (i === shown - 1 && argv.length > ARGS_MAX) {
        args.push(Buffer.from(`... (${argv.length - ARGS_MAX + 1} more arguments)`));
        break;
      }
      const a = argv[i]!;
      args.push(a.length > ARG_BYTES_MAX ? Buffer.concat([a.subarray(0, ARG_BYTES_MAX), Buffer.from(`... (${a.length - ARG_BYTES_MAX} more bytes)`)]) : Buffer.from(a));
    }
    this.entries.unshift({ id: this.nextId++, time: Math.floor(Date.now() / 1000), usec, args, addr, name });
    if (this.entries.length > maxLen) this.entries.length = maxLen;
  }

  /** The newest `count` entries (all for a negative count). */
  get(count: number): readonly SlowLogEntry[] {
    return count < 0 ? this.entries : this.entries.slice(0, count);
  }

  get length(): number {
    return this.entries.length;
  }

  reset(): void {
    this.entries = [];
  }
}
