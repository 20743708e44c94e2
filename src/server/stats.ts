import { SlowLog } from './slow-log.js';
import { COMMAND_FAMILIES } from './command-family.js';
import { LatencyHistogram } from './latency-histogram.js';
import { BUCKETS, record } from './command-latency.js';
import { LatencyMonitor } from './latency-monitor.js';

/** Series of `quorumLatency`. */
export const QUORUM_ROUND_READ = 0;
export const QUORUM_ROUND_WRITE = 1;

/** Counters INFO reports (names follow Redis's INFO fields). */
/** Redis's ERRORSTATS_LIMIT. */
const ERROR_KINDS_MAX = 128;

export class ServerStats {
  totalConnectionsReceived = 0;
  totalCommandsProcessed = 0;
  rejectedConnections = 0;
  /** RDB files sent over SYNC/PSYNC (INFO sync_full, as Redis counts full resyncs). */
  syncFull = 0;
  totalNetInputBytes = 0;
  totalNetOutputBytes = 0;
  keyspaceHits = 0;
  keyspaceMisses = 0;
  expiredKeys = 0;
  /** Element records of deleted, overwritten or expired collections dropped by the reclaimer. */
  reclaimedElements = 0;
  errorReplies = 0;
  /** Error replies by their first word (INFO errorstats: ERR, WRONGTYPE, MOVED, …). */
  readonly errorKinds = new Map<string, number>();
  /** Clients closed because their unsent output went over client-output-buffer-limit. */
  outputLimitDisconnections = 0;
  /** Clients closed by maxmemory-clients (INFO evicted_clients). */
  evictedClients = 0;
  /** Writes a vector clock showed to be concurrent with the stored value (resolved LWW). */
  concurrentWrites = 0;
  /**
   * Per-command calls and microseconds, for INFO commandstats; with latency-tracking on, the
   * command's latency distribution (INFO latencystats, LATENCY HISTOGRAM, command-latency.ts).
   */
  readonly commands = new Map<string, { calls: number; usec: number; failed: number; rejected: number; latency?: Uint32Array }>();
  /** latency-tracking (kept here so the request path reads a field, not the config). */
  latencyTracking = true;
  /** latency-monitor-threshold in µs, Infinity while it is 0 (off). */
  latencyThresholdUsec = Infinity;
  /** LATENCY LATEST / HISTORY events above latency-monitor-threshold. */
  readonly latencyEvents = new LatencyMonitor();
  readonly slowlog = new SlowLog();
  /**
   * Command latency by family (COMMAND_FAMILIES), for metrics and the dashboard: a command run on
   * this node's own keyspace for as long as it ran (as Redis's latencystats), a coordinated one
   * from the start of its run to its reply (quorum rounds and durable acks included).
   */
  readonly commandLatency = new LatencyHistogram(COMMAND_FAMILIES.length);
  /** Quorum rounds a coordinator waited for: reads (R answers) and writes (W durable acks). */
  readonly quorumLatency = new LatencyHistogram(2);

  setLatencyThreshold(ms: number): void {
    this.latencyThresholdUsec = ms > 0 ? ms * 1000 : Infinity;
  }

  /** Another event (fsync, checkpoint, quorum round) that took `ms`, when monitoring is on and it is over the threshold. */
  noteLatencyEvent(event: string, ms: number): void {
    if (ms * 1000 >= this.latencyThresholdUsec) this.latencyEvents.add(event, Math.floor(ms), Date.now());
  }

  /**
   * Counts an error reply under its first word, as Redis's errorstats; like Redis, at most
   * ERROR_KINDS_MAX distinct words are kept, so a flood of unusual error texts cannot grow it.
   */
  noteErrorReply(message: string): void {
    this.errorReplies++;
    const space = message.indexOf(' ');
    const kind = space < 0 ? message : message.slice(0, space);
    const n = this.errorKinds.get(kind);
    if (n !== undefined) this.errorKinds.set(kind, n + 1);
    else if (this.errorKinds.size < ERROR_KINDS_MAX) this.errorKinds.set(kind, 1);
  }

  noteCommand(name: string, usec: number, failed: boolean, nsec: number): void {
    const c = this.commandStat(name);
    c.calls++;
    c.usec += usec;
    if (failed) c.failed++;
    if (this.latencyTracking) record(c.latency ??= new Uint32Array(BUCKETS), nsec);
  }

  /** A command refused before it ran (arity, ACL, OOM, NOAUTH …): INFO commandstats' rejected_calls. */
  noteRejected(name: string): void {
    this.commandStat(name).rejected++;
  }

  private commandStat(name: string): { calls: number; usec: number; failed: number; rejected: number; latency?: Uint32Array } {
    let c = this.commands.get(name);
    if (!c) {
      c = { calls: 0, usec: 0, failed: 0, rejected: 0 };
      this.commands.set(name, c);
    }
    return c;
  }
}
