/**
 * Simulated time for the product simulation. Events run one at a time in (time, insertion) order;
 * after each one the driver lets the promise jobs it started settle before the next event runs, so
 * the product's async code (quorum rounds, key locks, durability waits) interleaves exactly the same
 * way on every replay of a seed. No real timer decides anything: setImmediate is only the point at
 * which Node has drained every pending promise job.
 */
interface SimEvent {
  at: number;
  seq: number;
  run: () => void;
}

function before(x: SimEvent, y: SimEvent): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}

const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class Scheduler {
  private readonly heap: SimEvent[] = [];
  private seq = 0;
  private time = 0;
  processed = 0;

  constructor(private readonly eventsMax: number) {}

  /** Simulated milliseconds since the start of the run. */
  get now(): number {
    return this.time;
  }

  after(delayMs: number, run: () => void): void {
    const at = this.time + Math.max(0, Math.floor(delayMs));
    this.heap.push({ at, seq: this.seq++, run });
    this.up(this.heap.length - 1);
  }

  /** Runs events up to and including `t`, settling promise jobs after each. */
  async runUntil(t: number): Promise<void> {
    await settled();
    while (this.heap.length > 0 && this.heap[0]!.at <= t) {
      const event = this.pop();
      this.time = event.at;
      if (++this.processed > this.eventsMax) throw new Error(`simulation exceeded ${this.eventsMax} events`);
      event.run();
      await settled();
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
