import type { Socket } from 'node:net';
import { RequestParser } from '../protocol/request-parser.js';
import { ReplyWriter } from '../protocol/reply-writer.js';
import type { ParserLimits, Protocol } from '../protocol/types.js';
import { SessionBase, type SessionState } from './session-state.js';
import { outputLimitVerdict, type OutputLimits } from '../core/output-limits.js';
import { NOT_DURABLE_ERROR } from './durable-reply.js';
import { replyFrames } from '../protocol/reply-frames.js';

/** A reply, or a run of replies, waiting for its turn on the wire. */
interface OutputSlot {
  bytes: Buffer | null;
  ready: boolean;
  /** Bytes this slot adds to `queuedBytes` (set when it was queued with its bytes). */
  counted?: number;
}

/** Where the dispatcher writes replies: the running batch, or a deferred slot for async work. */
export interface ReplySink {
  readonly out: ReplyWriter;
  /** Reserves a place in reply order for a command that finishes later. */
  defer(): DeferredReply;
}

export interface DeferredReply {
  readonly out: ReplyWriter;
  /** The reply is complete; it is sent as soon as everything before it has been. */
  done(): void;
}

export interface ConnectionHooks {
  dispatch(session: SessionState, argv: Buffer[], sink: ReplySink): void;
  /** Every complete request of the read is dispatched (runs grouped from them may start). */
  endBatch(session: SessionState): void;
  /** True when this connection's writes since `writesBefore` need to reach disk before replying. */
  awaitDurable(cb: (err?: Error) => void): boolean;
  /** When the store cannot take writes as fast as they come: calls back once it can (read nothing meanwhile). */
  storePressure?(resume: () => void): boolean;
  onProtocolError(session: SessionState, reason: string): void;
  onClose(conn: Connection): void;
  outputLimits(): OutputLimits;
  /** The connection is being closed for going over its output limit (logged, counted). */
  onOutputLimit(conn: Connection, pendingBytes: number): void;
}

/** Deferred replies one connection may have outstanding before it stops reading (backpressure). */
const DEFERRED_MAX = 4096;

let nextClientId = 1;

/**
 * One client connection: parses requests, hands them to the dispatcher, and writes replies strictly
 * in request order, also when some finish later (durable writes, quorum work).
 */
export class Connection extends SessionBase implements SessionState {
  readonly id = nextClientId++;
  readonly addr: string;
  readonly laddr: string;
  readonly fd: number;
  proto: Protocol = 2;
  authenticated: boolean;
  readonlyMode = false;

  private readonly parser: RequestParser;
  private readonly writer = new ReplyWriter(2);
  private readonly queue: OutputSlot[] = [];
  private deferredOutstanding = 0;
  private paused = false;
  /** Not reading: the store is behind its checkpoints (ConnectionHooks.storePressure). */
  private storeHeld = false;
  /** `writes` when flow control last looked. */
  private writesSeen = 0;
  private closed = false;
  /** CLIENT REPLY OFF is in force; SKIP drops the next command's reply. */
  private replyOff = false;
  private skipNext = false;
  private discarded: ReplyWriter | undefined;
  private corked = false;
  /** Parsing a read: replies of its commands are being written to `writer` (pub/sub frames join them there). */
  private inBatch = false;
  /** Bytes queued in output slots and not yet handed to the socket. */
  private queuedBytes = 0;
  /** When unsent output first went over the soft limit of the client's class (undefined: it is not over). */
  private overSoftSince: number | undefined;
  bytesIn = 0;
  bytesOut = 0;
  /** `writes` when the batch being parsed began, or when its replies so far were queued (defer). */
  private batchWrites = 0;

  constructor(
    private readonly socket: Socket,
    limits: ParserLimits,
    needsAuth: boolean,
    private readonly hooks: ConnectionHooks,
  ) {
    super();
    this.addr = `${socket.remoteAddress}:${socket.remotePort}`;
    this.laddr = `${socket.localAddress}:${socket.localPort}`;
    this.fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1;
    this.authenticated = !needsAuth;
    this.parser = new RequestParser(limits);
    this.parser.authenticated = !needsAuth;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  get queryBufferBytes(): number {
    return this.parser.bufferedBytes();
  }

  get partialArgvBytes(): number {
    return this.parser.partialArgvBytes();
  }

  get queryBufferFree(): number {
    return this.parser.freeBytes();
  }

  get replyBufferBytes(): number {
    return this.writer.length;
  }

  get outputListLength(): number {
    return this.queue.length;
  }

  get outputBufferBytes(): number {
    return this.socket.writableLength + this.queuedBytes;
  }

  kill(): void {
    this.close();
  }

  /**
   * Closes the connection without cutting off the reply being written: within a batch, after its
   * replies; otherwise at once (ACL DELUSER of the connection's own user answers first).
   */
  closeSoon(): void {
    if (this.inBatch) this.closeAfterReply = true;
    else this.close();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.bytesIn += chunk.length;
    this.lastInteraction = Date.now();
    this.parser.feed(chunk);
    this.batchWrites = this.writes;
    this.inBatch = true;
    try {
      this.parseBatch();
    } finally {
      this.inBatch = false;
    }
    // Flow control: what was read is handled; a connection that writes (here, or in runs that
    // finished since its last read) reads nothing more while the store is behind. Readers go on.
    const wrote = this.writes !== this.writesSeen;
    this.writesSeen = this.writes;
    if (!this.storeHeld && wrote && this.hooks.storePressure?.(() => this.releaseStoreHold()) === true) {
      this.storeHeld = true;
      this.socket.pause();
    }
  }

  private releaseStoreHold(): void {
    this.storeHeld = false;
    if (!this.paused && !this.closed) this.socket.resume();
  }

  /**
   * A pub/sub frame for this client. While a read is being processed it goes into the batch
   * between two replies (a RESP3 client publishing to itself sees the message before PUBLISH's
   * reply, as with Redis); otherwise behind everything already queued. Never inside a reply.
   */
  override deliver(frame: Buffer): void {
    if (this.closed) return;
    if (this.inBatch) {
      this.writer.raw(frame);
      return;
    }
    // A burst of frames (a fast publisher) leaves in one writev at the end of this turn, not one
    // system call each.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.enqueue({ bytes: frame, ready: true });
  }

  private parseBatch(): void {
    const sink: ReplySink = { out: this.writer, defer: () => this.defer() };
    for (;;) {
      this.parser.authenticated = this.authenticated;
      const r = this.parser.next();
      if (r.kind === 'incomplete') break;
      if (r.kind === 'command') {
        this.writer.proto = this.proto;
        this.hooks.dispatch(this, r.argv, this.replyDropped(r.argv) ? this.mutedSink() : sink);
        if (this.closeAfterReply || this.closed) break;
        continue;
      }
      this.hooks.endBatch(this);
      if (r.kind === 'protocol-error') {
        this.writer.error(`ERR Protocol error: ${r.message}`);
        this.hooks.onProtocolError(this, r.message);
      } else {
        this.hooks.onProtocolError(this, r.reason);
        this.inBatch = false;
        this.flushBatch(false);
        this.close();
        return;
      }
      this.closeAfterReply = true;
      break;
    }
    this.hooks.endBatch(this);
    this.inBatch = false;
    this.flushBatch(this.writes !== this.batchWrites);
  }

  /** Moves what the batch wrote into the output queue, held back until durable when it wrote data. */
  private flushBatch(wroteData: boolean): void {
    if (this.writer.length === 0 && !this.closeAfterReply) return;
    const bytes = this.writer.take();
    if (!wroteData) {
      this.enqueue({ bytes, ready: true });
      return;
    }
    const slot: OutputSlot = { bytes, ready: false };
    this.enqueue(slot);
    const waiting = this.hooks.awaitDurable((err) => {
      if (err && slot.bytes !== null) slot.bytes = notDurableReplies(slot.bytes);
      slot.ready = true;
      this.drain();
    });
    if (!waiting) {
      slot.ready = true;
      this.drain();
    }
  }

  /**
   * CLIENT REPLY OFF / SKIP / ON, decided when a command is dispatched (not when it runs, which a
   * pipeline in a cluster may delay): whether this command's reply is dropped. As Redis: OFF and
   * SKIP themselves get no reply, ON gets its OK, SKIP drops the next command's reply only.
   * Pub/sub frames are not replies and still arrive.
   */
  private replyDropped(argv: Buffer[]): boolean {
    if (this.isClientReply(argv)) {
      const mode = argv[2]!.toString('latin1').toLowerCase();
      if (mode === 'on') {
        this.replyOff = false;
        this.skipNext = false;
        return false;
      }
      if (mode === 'off') this.replyOff = true;
      else if (mode === 'skip') this.skipNext = !this.replyOff;
      else return this.replyOff;
      return true;
    }
    if (this.replyOff) return true;
    if (!this.skipNext) return false;
    this.skipNext = false;
    return true;
  }

  /** CLIENT REPLY that will run now: not queued in MULTI, nor refused (no AUTH, RESP2 subscribed mode). */
  private isClientReply(argv: Buffer[]): boolean {
    if (argv.length !== 3 || argv[0]!.length !== 6 || this.multi !== undefined || !this.authenticated) return false;
    if (this.proto === 2 && this.subscriptions.active) return false;
    return argv[0]!.toString('latin1').toLowerCase() === 'client' && argv[1]!.toString('latin1').toLowerCase() === 'reply';
  }

  /** A sink whose replies go nowhere but which keeps the command's place in the output order. */
  private mutedSink(): ReplySink {
    const discard = (this.discarded ??= new ReplyWriter(2, 256));
    discard.take();
    return {
      out: discard,
      defer: () => {
        const reply = this.defer();
        return { out: new ReplyWriter(this.proto, 64), done: () => reply.done() };
      },
    };
  }

  private defer(): DeferredReply {
    // Replies produced so far in this batch go first, once durable when those commands wrote.
    if (this.writer.length > 0) {
      this.flushBatch(this.writes !== this.batchWrites);
      this.batchWrites = this.writes;
    }
    const slot: OutputSlot = { bytes: null, ready: false };
    this.queue.push(slot);
    this.deferredOutstanding++;
    if (this.deferredOutstanding >= DEFERRED_MAX && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    const out = new ReplyWriter(this.proto, 256);
    return {
      out,
      done: () => {
        slot.bytes = out.take();
        slot.ready = true;
        this.deferredOutstanding--;
        if (this.paused && this.deferredOutstanding < DEFERRED_MAX / 2) {
          this.paused = false;
          if (!this.storeHeld) this.socket.resume();
        }
        this.drain();
      },
    };
  }

  private enqueue(slot: OutputSlot): void {
    this.queue.push(slot);
    if (slot.bytes) {
      slot.counted = slot.bytes.length;
      this.queuedBytes += slot.counted;
    }
    this.drain();
  }

  private drain(): void {
    while (this.queue.length > 0 && this.queue[0]!.ready) {
      const slot = this.queue.shift()!;
      if (slot.counted !== undefined) this.queuedBytes -= slot.counted;
      if (slot.bytes && slot.bytes.length > 0 && !this.closed) {
        this.bytesOut += slot.bytes.length;
        this.socket.write(slot.bytes);
      }
    }
    if (this.closed) return;
    if (this.queue.length === 0 && this.closeAfterReply) {
      this.socket.end();
      this.closed = true;
      this.hooks.onClose(this);
      return;
    }
    this.checkOutputLimit();
  }

  /**
   * Closes a client whose unsent output is over the hard limit of its class, or over the soft
   * limit for longer than allowed (client-output-buffer-limit): a subscriber that stops reading
   * costs the node at most that much memory.
   */
  private checkOutputLimit(): void {
    const pending = this.socket.writableLength + this.queuedBytes;
    if (pending === 0 && this.overSoftSince === undefined) return;
    const limits = this.hooks.outputLimits();
    const limit = this.subscriptions.active ? limits.pubsub : limits.normal;
    const verdict = outputLimitVerdict(limit, pending, this.overSoftSince, Date.now());
    this.overSoftSince = verdict.overSoftSince;
    if (!verdict.close) return;
    this.hooks.onOutputLimit(this, pending);
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.hooks.onClose(this);
  }
}

const NOT_DURABLE_LINE = Buffer.from(`-${NOT_DURABLE_ERROR}\r\n`);

/**
 * A batch whose writes could not be made durable: every reply becomes the error, one for one, so
 * the client still gets exactly one answer per command (one error for the whole batch made it
 * pair the next replies, successes included, with the batch's other commands). Pushes stay.
 */
function notDurableReplies(bytes: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (const f of replyFrames(bytes)) parts.push(f.push ? bytes.subarray(f.start, f.end) : NOT_DURABLE_LINE);
  return Buffer.concat(parts);
}
