import { SlowLog } from './slow-log.js';

/** Counters INFO reports (names follow Redis's INFO fields). */
export class ServerStats {
  totalConnectionsReceived = 0;
  totalCommandsProcessed = 0;
  rejectedConnections = 0;
  totalNetInputBytes = 0;
  totalNetOutputBytes = 0;
  keyspaceHits = 0;
  keyspaceMisses = 0;
  expiredKeys = 0;
  /** Element records of deleted, overwritten or expired collections dropped by the reclaimer. */
  reclaimedElements = 0;
  errorReplies = 0;
  /** Clients closed because their unsent output went over client-output-buffer-limit. */
  outputLimitDisconnections = 0;
  /** Writes a vector clock showed to be concurrent with the stored value (resolved LWW). */
  concurrentWrites = 0;
  /** Per-command calls and microseconds, for INFO commandstats. */
  readonly commands = new Map<string, { calls: number; usec: number; failed: number }>();
  readonly slowlog = new SlowLog();

  noteCommand(name: string, usec: number, failed: boolean): void {
    let c = this.commands.get(name);
    if (!c) {
      c = { calls: 0, usec: 0, failed: 0 };
      this.commands.set(name, c);
    }
    c.calls++;
    c.usec += usec;
    if (failed) c.failed++;
  }
}
