import { ReplyWriter } from '../../../src/protocol/reply-writer.js';
import type { DeferredReply, ReplySink } from '../../../src/server/connection.js';

/**
 * The reply side of one simulated connection for one batch: replies in request order, deferred ones
 * in their reserved place, as the real connection's output queue keeps them. Tells when every reply
 * of the batch is complete; after a crash, what had been completed in order before the first gap.
 */
export class SimSink implements ReplySink {
  readonly out = new ReplyWriter(2, 256);
  private readonly parts: Array<{ bytes: Buffer | null }> = [];
  private pending = 0;
  private sealed = false;
  private closed = false;

  constructor(private readonly onComplete: () => void) {}

  defer(): DeferredReply {
    if (this.out.length > 0) this.parts.push({ bytes: this.out.take() });
    const slot: { bytes: Buffer | null } = { bytes: null };
    this.parts.push(slot);
    this.pending++;
    const out = new ReplyWriter(2, 256);
    return {
      out,
      done: () => {
        if (this.closed || slot.bytes !== null) return;
        slot.bytes = out.take();
        this.pending--;
        this.check();
      },
    };
  }

  /** The whole batch was dispatched: inline replies are final. */
  seal(): void {
    if (this.out.length > 0) this.parts.push({ bytes: this.out.take() });
    this.sealed = true;
    this.check();
  }

  /** The connection is gone (its node crashed): nothing more arrives. */
  close(): void {
    this.closed = true;
  }

  get complete(): boolean {
    return this.sealed && this.pending === 0;
  }

  /** Reply bytes up to the first reply still missing. */
  received(): Buffer {
    const bufs: Buffer[] = [];
    for (const p of this.parts) {
      if (p.bytes === null) break;
      bufs.push(p.bytes);
    }
    return Buffer.concat(bufs);
  }

  private check(): void {
    if (!this.closed && this.complete) {
      this.closed = true;
      this.onComplete();
    }
  }
}
