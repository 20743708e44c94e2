/**
 * What the acknowledged-writes generator (`ackload.ts`) prints, one JSON object per stdout line,
 * and the parser the failover run uses. The run steers it with signals: SIGUSR1 marks the fault
 * (answered by `marked`), SIGUSR2 starts the read-back of the keys acknowledged before the mark
 * (answered by `readback`), SIGTERM stops the load and runs the final checks (`final`).
 */
import type { SparseHistogram } from './histogram.js';

/** `set`: SET on fresh keys only; `set,incr`: each worker alternates SET and INCR on a shared counter. */
export type AckMix = 'set' | 'set,incr';

export interface AckSlice {
  type: 'slice';
  t0: number;
  t1: number;
  setOk: number;
  setErr: number;
  incrOk: number;
  incrErr: number;
  /** Read-back GETs answered (a value or nil) and failed in the slice. */
  getOk: number;
  getErr: number;
  /** Latency of every acknowledged command (LatencyHistogram buckets). */
  latency: SparseHistogram;
  /** Up to three distinct error messages of the slice. */
  errors: string[];
}

/** Answer to `mark`: how many keys had been acknowledged when it arrived. */
export interface AckMarked {
  type: 'marked';
  t: number;
  keys: number;
}

/** Result of reading keys back: keys acknowledged before the mark, or every key at the end. */
export interface ReadbackResult {
  /** Keys acknowledged in the stretch read back (before the mark, or the whole run). */
  acknowledged: number;
  /** GETs issued, one per key read back: every acknowledged key, or a uniform sample of them. */
  keys: number;
  ok: number;
  /** nil replies: an acknowledged key that is not there. */
  missing: number;
  /** A value other than the one written. */
  wrong: number;
  /** Error replies and client errors. */
  errors: number;
  /** GETs still unanswered when the read-back's time limit ran out. */
  unanswered: number;
  startedAt: number;
  seconds: number;
  /** Distinct error messages with their counts. */
  errorSamples: Array<[string, number]>;
}

export interface AckReadback extends ReadbackResult {
  type: 'readback';
}

/** One counter after the run: INCRs acknowledged, failed (outcome unknown), in flight at the end, and its value. */
export interface CounterCheck {
  key: string;
  acked: number;
  failed: number;
  pending: number;
  /** null when it could not be read. */
  value: number | null;
}

export interface AckFinal {
  type: 'final';
  /** Every key acknowledged during the whole run, read back after the load stopped. */
  keys: ReadbackResult;
  counters: CounterCheck[];
  /** Why a counter could not be read, if one could not. */
  counterErrors: string[];
}

export interface AckReady {
  type: 'ready';
  t: number;
}

export type AckMessage = AckSlice | AckMarked | AckReadback | AckFinal | AckReady;

export function parseAckMessage(line: string): AckMessage | null {
  if (!line.startsWith('{')) return null;
  try {
    const value = JSON.parse(line) as { type?: unknown };
    if (['slice', 'marked', 'readback', 'final', 'ready'].includes(String(value.type))) return value as AckMessage;
  } catch {
    // Not a report line.
  }
  return null;
}
