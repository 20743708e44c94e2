import { encodeFrame, FrameDecoder, FrameKind } from '../../../src/cluster/bus/frame.js';
import type { RequestHandler } from '../../../src/cluster/bus/cluster-bus.js';
import type { Prng } from '../prng.js';
import type { Scheduler } from './scheduler.js';

/** A node as the network sees it: whether it runs, which incarnation, what it serves. */
export interface Endpoint {
  readonly id: string;
  readonly alive: boolean;
  /** A stalled process takes in nothing before then (simulated ms); 0 when it runs. */
  readonly pausedUntil?: number;
  /** Bumped at every restart: answers to requests a crashed incarnation sent are never delivered. */
  readonly epoch: number;
  readonly handlers: ReadonlyMap<string, RequestHandler>;
}

export interface NetStats {
  messages: number;
  dropped: number;
  duplicated: number;
  blocked: number;
  timeouts: number;
}

/** The bus's request timeout. */
export const REQUEST_TIMEOUT_MS = 2000;

function encode(kind: FrameKind, type: string, payload: unknown): Buffer {
  return Buffer.concat(encodeFrame(kind, 0, type, payload));
}

function decode(bytes: Buffer): unknown {
  const { frames, error } = new FrameDecoder().push(bytes);
  if (error || frames.length !== 1) throw new Error(`simulated bus: undecodable frame (${error?.message ?? frames.length})`);
  return frames[0]!.payload;
}

/**
 * The cluster bus between simulated nodes. Every request and response is encoded with the real
 * frame codec (so handlers see exactly the shapes a socket delivers) and travels as one message
 * through the seeded event queue: each message may be delayed (which reorders them), dropped, or
 * delivered twice, and a directed block (from → to) stops messages one way only. A dropped request
 * or response surfaces to the caller as the bus's timeout.
 */
export class SimNet {
  /** Directed blocks, `from>to`: a one-way partition is one of them, a two-way partition both. */
  readonly blocks = new Set<string>();
  dropRate = 0;
  dupRate = 0;
  delayMin = 1;
  delayMax = 4;
  readonly stats: NetStats = { messages: 0, dropped: 0, duplicated: 0, blocked: 0, timeouts: 0 };

  constructor(
    private readonly sched: Scheduler,
    private readonly prng: Prng,
    private readonly endpoint: (index: number) => Endpoint,
  ) {}

  blocked(from: number, to: number): boolean {
    return this.blocks.has(`${from}>${to}`);
  }

  request(from: number, to: number, type: string, payload: unknown): Promise<unknown> {
    const sender = this.endpoint(from);
    const epoch = sender.epoch;
    const bytes = encode(FrameKind.request, type, payload);
    return new Promise<unknown>((resolve, reject) => {
      let done = false;
      const settle = (fn: () => void): void => {
        const s = this.endpoint(from);
        // The incarnation that asked is gone: its promises never settle, as in a dead process.
        if (done || !s.alive || s.epoch !== epoch) return;
        done = true;
        fn();
      };
      this.transmit(from, to, type !== 'fwd', () => {
        const receiver = this.endpoint(to);
        if (!receiver.alive) return;
        const handler = receiver.handlers.get(type);
        const reply = (kind: FrameKind, body: unknown): void => {
          const r = this.endpoint(to);
          if (!r.alive || r.epoch !== receiver.epoch) return;
          const back = encode(kind, type, body);
          this.transmit(to, from, true, () =>
            settle(() => (kind === FrameKind.response ? resolve(decode(back)) : reject(new Error(String(decode(back)))))),
          );
        };
        if (handler === undefined) {
          reply(FrameKind.errorResponse, `no handler for ${type}`);
          return;
        }
        let result: unknown;
        try {
          result = handler({ nodeId: sender.id, address: { host: 'sim', port: from } }, decode(bytes));
        } catch (err) {
          reply(FrameKind.errorResponse, (err as Error).message);
          return;
        }
        Promise.resolve(result).then(
          (value) => reply(FrameKind.response, value),
          (err: unknown) => reply(FrameKind.errorResponse, (err as Error).message),
        );
      });
      this.sched.after(REQUEST_TIMEOUT_MS, () =>
        settle(() => {
          this.stats.timeouts++;
          reject(new Error('timeout'));
        }),
      );
    });
  }

  /** Runs `fn` now, or when the receiver's stalled process resumes (its socket buffers meanwhile). */
  private whenRunning(to: number, fn: () => void): void {
    const until = this.endpoint(to).pausedUntil ?? 0;
    if (this.sched.now < until) this.sched.after(until - this.sched.now, () => this.whenRunning(to, fn));
    else fn();
  }

  /**
   * One message: blocked, dropped, or delivered once or twice (when `mayDuplicate`) after seeded
   * delays. The bus runs over TCP, which delivers a frame once; duplicates here stand for the
   * retries and replays an idempotent request must survive. A relayed run (`fwd`) is not one: the
   * product never sends it twice, and a second delivery would run its commands twice.
   */
  private transmit(from: number, to: number, mayDuplicate: boolean, deliver: () => void): void {
    this.stats.messages++;
    if (this.blocked(from, to)) {
      this.stats.blocked++;
      return;
    }
    if (this.prng.chance(this.dropRate)) {
      this.stats.dropped++;
      return;
    }
    const copies = this.prng.chance(this.dupRate) && mayDuplicate ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      this.sched.after(this.prng.int(this.delayMin, this.delayMax), () => {
        // A partition that started while the message was in flight stops it too.
        if (this.blocked(from, to)) {
          this.stats.blocked++;
          return;
        }
        this.whenRunning(to, deliver);
      });
    }
  }
}
