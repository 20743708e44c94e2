/**
 * LATENCY LATEST / HISTORY / RESET's data, as Redis's latency.c keeps it: per event, the last
 * 160 samples at one per second (a second's later samples keep its highest), and the all-time
 * maximum. Events are recorded only above latency-monitor-threshold, so this is off the request
 * path's common case. Pure: the caller passes the time.
 */

export const SAMPLES_PER_EVENT = 160;

export interface LatencySample {
  /** Unix seconds. */
  time: number;
  ms: number;
}

interface EventSeries {
  samples: Array<LatencySample | undefined>;
  /** Where the next second's sample goes. */
  next: number;
  max: number;
}

export class LatencyMonitor {
  private readonly events = new Map<string, EventSeries>();

  add(event: string, ms: number, nowMs: number): void {
    const time = Math.floor(nowMs / 1000);
    let ts = this.events.get(event);
    if (ts === undefined) {
      ts = { samples: new Array<LatencySample | undefined>(SAMPLES_PER_EVENT).fill(undefined), next: 0, max: 0 };
      this.events.set(event, ts);
    }
    if (ms > ts.max) ts.max = ms;
    const prev = ts.samples[(ts.next + SAMPLES_PER_EVENT - 1) % SAMPLES_PER_EVENT];
    if (prev !== undefined && prev.time === time) {
      if (ms > prev.ms) prev.ms = ms;
      return;
    }
    ts.samples[ts.next] = { time, ms };
    ts.next = (ts.next + 1) % SAMPLES_PER_EVENT;
  }

  /** [event, time of the latest sample, its ms, all-time max] per event. */
  latest(): Array<[string, number, number, number]> {
    const out: Array<[string, number, number, number]> = [];
    for (const [name, ts] of this.events) {
      const last = ts.samples[(ts.next + SAMPLES_PER_EVENT - 1) % SAMPLES_PER_EVENT]!;
      out.push([name, last.time, last.ms, ts.max]);
    }
    return out;
  }

  /** The event's samples, oldest first; empty for an event never recorded. */
  history(event: string): LatencySample[] {
    const ts = this.events.get(event);
    if (ts === undefined) return [];
    const out: LatencySample[] = [];
    for (let j = 0; j < SAMPLES_PER_EVENT; j++) {
      const s = ts.samples[(ts.next + j) % SAMPLES_PER_EVENT];
      if (s !== undefined) out.push({ ...s });
    }
    return out;
  }

  max(event: string): number | undefined {
    return this.events.get(event)?.max;
  }

  /** Forgets the named events (all without names); answers how many were known. */
  reset(events?: readonly string[]): number {
    if (events === undefined || events.length === 0) {
      const n = this.events.size;
      this.events.clear();
      return n;
    }
    let n = 0;
    for (const e of new Set(events)) if (this.events.delete(e)) n++;
    return n;
  }

  get size(): number {
    return this.events.size;
  }
}
