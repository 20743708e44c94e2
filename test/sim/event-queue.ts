/**
 * Simulated time: a binary heap of callbacks ordered by (time, insertion order), so events at the
 * same millisecond run in the order they were scheduled and a run is fully deterministic.
 */
interface SimEvent {
  at: number;
  seq: number;
  run: () => void;
}

function before(x: SimEvent, y: SimEvent): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}

export class EventQueue {
  private readonly heap: SimEvent[] = [];
  private seq = 0;
  private processed = 0;
  private time = 0;

  /** `eventsMax` bounds a run, so a livelock in the model fails the test instead of hanging it. */
  constructor(private readonly eventsMax: number) {}

  get now(): number {
    return this.time;
  }

  get eventsProcessed(): number {
    return this.processed;
  }

  schedule(at: number, run: () => void): void {
    if (!(at >= this.time)) throw new RangeError(`event scheduled in the past: ${at} < ${this.time}`);
    this.heap.push({ at, seq: this.seq++, run });
    this.up(this.heap.length - 1);
  }

  after(delayMs: number, run: () => void): void {
    this.schedule(this.time + delayMs, run);
  }

  /** Runs every event due at or before `t`, then sets the clock to `t`. */
  runUntil(t: number): void {
    while (this.heap.length > 0 && this.heap[0]!.at <= t) {
      const event = this.pop();
      this.time = event.at;
      if (++this.processed > this.eventsMax) throw new Error(`simulation exceeded ${this.eventsMax} events`);
      event.run();
    }
    this.time = Math.max(this.time, t);
  }

  private pop(): SimEvent {
    const top = this.heap[0]!;
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    return top;
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
