import type { Protocol } from '../protocol/types.js';
import { ReplyWriter } from '../protocol/reply-writer.js';
import type { DeferredReply, ReplySink } from './connection.js';
import { SessionBase, type SessionState } from './session-state.js';

let nextTransientId = 1_000_000_000;

/** A session with no socket: runs commands a peer relayed to this node (cluster-proxy). */
export class TransientSession extends SessionBase implements SessionState {
  readonly id = nextTransientId++;
  readonly addr: string;
  readonly laddr = '';
  readonly fd = -1;
  authenticated = true;
  readonly queryBufferBytes = 0;
  readonly outputBufferBytes = 0;
  readonly queryBufferFree = 0;
  readonly partialArgvBytes = 0;
  readonly replyBufferBytes = 0;
  readonly outputListLength = 0;

  constructor(public proto: Protocol, public readonlyMode: boolean, origin: string) {
    super();
    this.addr = origin;
  }

  kill(): void {
    this.closeAfterReply = true;
  }
}

/** Collects the replies of commands run outside a connection, in order, including deferred ones. */
export class CaptureSink implements ReplySink {
  readonly out: ReplyWriter;
  private readonly parts: Array<{ bytes: Buffer | null }> = [];
  private pending = 0;
  private waiter: (() => void) | undefined;

  constructor(private readonly proto: Protocol) {
    this.out = new ReplyWriter(proto, 256);
  }

  defer(): DeferredReply {
    if (this.out.length > 0) this.parts.push({ bytes: this.out.take() });
    const slot: { bytes: Buffer | null } = { bytes: null };
    this.parts.push(slot);
    this.pending++;
    const out = new ReplyWriter(this.proto, 256);
    return {
      out,
      done: () => {
        slot.bytes = out.take();
        this.pending--;
        if (this.pending === 0) this.waiter?.();
      },
    };
  }

  /** Everything written so far, once every deferred reply is complete; starts a fresh capture. */
  async collect(): Promise<Buffer> {
    if (this.pending > 0) await new Promise<void>((resolve) => (this.waiter = resolve));
    this.waiter = undefined;
    if (this.out.length > 0) this.parts.push({ bytes: this.out.take() });
    const all = Buffer.concat(this.parts.map((p) => p.bytes!));
    this.parts.length = 0;
    return all;
  }
}
