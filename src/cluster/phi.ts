/**
 * Phi-accrual failure detector (Hayashibara et al., "The φ Accrual Failure Detector", 2004).
 * Instead of a yes/no timeout it reports phi = -log10(P(a heartbeat arrives later than now)), given
 * the heartbeat intervals seen so far; phi 8 means a 1-in-10^8 chance that the peer is merely slow.
 *
 * Distribution: normal, as Akka does, rather than Cassandra's exponential. The exponential model
 * has one parameter, so its spread is tied to its mean and phi 8 always arrives after about 18 mean
 * intervals however steady the peer is. Our heartbeats come from a fixed gossip interval, so the
 * observed spread is small and the normal model suspects a silent peer after a few intervals.
 * `minStdDevMs` floors the spread, so a window of near-identical intervals does not turn one late
 * gossip round into a suspicion. The CDF uses Akka's logistic approximation, evaluated in log
 * space (softplus) so that phi stays finite for any gap instead of overflowing to Infinity.
 *
 * Pure: time is an argument; nothing here reads a clock.
 */

export interface PhiAccrualOptions {
  /** Intervals remembered; older ones fall out, so the estimate follows a changing rate. */
  windowSize?: number;
  /** Floor for the standard deviation used in phi. */
  minStdDevMs: number;
  /** Expected interval before any is measured; the first heartbeat seeds the window with it. */
  firstHeartbeatEstimateMs: number;
}

export const DEFAULT_PHI_WINDOW_SIZE = 100;
export const PHI_WINDOW_SIZE_MAX = 10_000;

const LN10 = Math.log(10);

export class PhiAccrual {
  private readonly intervals: Float64Array;
  private readonly minStdDevMs: number;
  private readonly firstEstimateMs: number;
  private count = 0;
  /** Next slot of the ring buffer to overwrite. */
  private next = 0;
  private sum = 0;
  private sumSquares = 0;
  private last: number | undefined;

  constructor(options: PhiAccrualOptions) {
    const windowSize = options.windowSize ?? DEFAULT_PHI_WINDOW_SIZE;
    if (!Number.isInteger(windowSize) || windowSize < 2 || windowSize > PHI_WINDOW_SIZE_MAX) {
      throw new RangeError(`phi windowSize must be an integer in [2, ${PHI_WINDOW_SIZE_MAX}]: ${windowSize}`);
    }
    if (!(options.minStdDevMs > 0)) throw new RangeError(`minStdDevMs must be > 0: ${options.minStdDevMs}`);
    if (!(options.firstHeartbeatEstimateMs > 0)) {
      throw new RangeError(`firstHeartbeatEstimateMs must be > 0: ${options.firstHeartbeatEstimateMs}`);
    }
    this.intervals = new Float64Array(windowSize);
    this.minStdDevMs = options.minStdDevMs;
    this.firstEstimateMs = options.firstHeartbeatEstimateMs;
  }

  /** Records a heartbeat arrival. */
  heartbeat(nowMs: number): void {
    if (this.last === undefined) {
      // Akka's bootstrap: two pseudo-intervals with the estimated mean and a quarter of it as
      // deviation, so phi is meaningful right after the first arrival.
      const sd = this.firstEstimateMs / 4;
      this.record(this.firstEstimateMs - sd);
      this.record(this.firstEstimateMs + sd);
    } else {
      // A wall clock may step back; treat that as no time passing rather than a negative interval.
      this.record(Math.max(0, nowMs - this.last));
    }
    this.last = this.last === undefined ? nowMs : Math.max(this.last, nowMs);
  }

  /** Suspicion level now; 0 before the first heartbeat (nothing to be late against). */
  phi(nowMs: number): number {
    if (this.last === undefined) return 0;
    return this.phiAfter(Math.max(0, nowMs - this.last));
  }

  /**
   * Suspicion level after `elapsedMs` of silence, measured by the caller from whatever it counts as
   * the last sign of life (any frame, not only a heartbeat); the estimate before any heartbeat
   * is used when none has arrived yet.
   */
  phiAfter(elapsedMs: number): number {
    const elapsed = Math.max(0, elapsedMs);
    const y = (elapsed - this.mean()) / Math.max(this.stdDev(), this.minStdDevMs);
    // P(later) ≈ 1 / (1 + e^a) with Akka's logistic fit of the normal tail; phi = log10(1 + e^a).
    const a = y * (1.5976 + 0.070566 * y * y);
    const softplus = a > 0 ? a + Math.log1p(Math.exp(-a)) : Math.log1p(Math.exp(a));
    return softplus / LN10;
  }

  /** Time of the latest heartbeat, if any. */
  lastHeartbeat(): number | undefined {
    return this.last;
  }

  mean(): number {
    return this.count === 0 ? this.firstEstimateMs : this.sum / this.count;
  }

  stdDev(): number {
    if (this.count === 0) return this.firstEstimateMs / 4;
    const m = this.sum / this.count;
    return Math.sqrt(Math.max(0, this.sumSquares / this.count - m * m));
  }

  /** Intervals currently in the window (bootstrap pair included). */
  samples(): number {
    return this.count;
  }

  private record(interval: number): void {
    const size = this.intervals.length;
    if (this.count === size) {
      const old = this.intervals[this.next]!;
      this.sum -= old;
      this.sumSquares -= old * old;
    } else {
      this.count++;
    }
    this.intervals[this.next] = interval;
    this.sum += interval;
    this.sumSquares += interval * interval;
    this.next = (this.next + 1) % size;
    // Running sums drift with fractional intervals; recompute them once per lap of the buffer.
    if (this.next === 0) this.resum();
  }

  private resum(): void {
    let sum = 0;
    let squares = 0;
    for (let i = 0; i < this.count; i++) {
      const v = this.intervals[i]!;
      sum += v;
      squares += v * v;
    }
    this.sum = sum;
    this.sumSquares = squares;
  }
}
