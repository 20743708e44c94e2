import { SlowLog } from './slow-log.js';
import { COMMAND_FAMILIES } from './command-family.js';
import { LatencyHistogram } from './latency-histogram.js';

/** Series of `quorumLatency`. */
export const QUORUM_ROUND_READ = 0;
export const QUORUM_ROUND_WRITE = 1;

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
  /**
   * Command latency by family (COMMAND_FAMILIES), for metrics and the dashboard: a command run on
   * this node's own keyspace for as long as it ran (as Redis's latencystats), a coordinated one
   * from the start of its run to its reply (quorum rounds and durable acks included).
   */
  readonly commandLatency = new LatencyHistogram(COMMAND_FAMILIES.length);
  /** Quorum rounds a coordinator waited for: reads (R answers) and writes (W durable acks). */
  readonly quorumLatency = new LatencyHistogram(2);

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
