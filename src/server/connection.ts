import type { Socket } from 'node:net';
import { RequestParser } from '../protocol/request-parser.js';
import { ReplyWriter } from '../protocol/reply-writer.js';
import type { ParserLimits, Protocol } from '../protocol/types.js';
import { SessionBase, type SessionState } from './session-state.js';
import { limitOf, outputLimitVerdict, type OutputLimits } from '../core/output-limits.js';
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
  /**
   * maxmemory-clients: whether this client, with `argv` about to run, holds the limit by itself;
   * then it is closed (logged, counted) before the command runs, as Redis evicts it on reading.
   */
  overClientsLimit?(conn: Connection, argv?: readonly Buffer[]): boolean;
}

/** Deferred replies one connection may have outstanding before it stops reading (backpressure). */
const DEFERRED_MAX = 4096;
/** A stream (SYNC's RDB transfer) waits while the socket holds more than this unsent. */
const STREAM_HIGH_WATER_BYTES = 1 << 20;

let nextClientId = 1;

/**
 * One client connection: parses requests, hands them to the dispatcher, and writes replies strictly
 * in request order, also when some finish later (durable writes, quorum work).
 */
export class Connection extends SessionBase implements SessionState {
  readonly id = nextClientId++;
  readonly addr: string;
  readonly laddr: string;
  readonly unixSocket: boolean;
  readonly fd: number;
  proto: Protocol = 2;
  authenticated: boolean;
  readonlyMode = false;

  private readonly parser: RequestParser;
  private readonly writer = new ReplyWriter(2);
  /** Sending a stream that ends the connection (streamThenClose): no more commands are read. */
  private streaming = false;
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
  private discarded: MutedWriter | undefined;
  /** EXECs of the batch being parsed whose replies CLIENT REPLY commands inside them cut (execWithClientReply). */
  private readonly execSettles: Array<() => void> = [];
  private corked = false;
  /** Parsing a read: replies of its commands are being written to `writer` (pub/sub frames join them there). */
  private inBatch = false;
  /** What the parser held when the read being parsed arrived (queryBufferBytes). */
  private batchBufferedBytes = 0;
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
    /** The Unix socket's path, for a client connected through it (Redis shows `addr=<path>:0`). */
    unixPath?: string,
  ) {
    super();
    this.unixSocket = unixPath !== undefined;
    this.addr = unixPath !== undefined ? `${unixPath}:0` : `${socket.remoteAddress}:${socket.remotePort}`;
    this.laddr = unixPath !== undefined ? `${unixPath}:0` : `${socket.localAddress}:${socket.localPort}`;
    this.fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1;
    this.authenticated = !needsAuth;
    this.parser = new RequestParser(limits);
    this.parser.authenticated = !needsAuth;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  /**
   * CLIENT LIST qbuf. While a read's commands run, all the bytes that read left buffered, the
   * commands already run included: Redis trims its query buffer only once it has run them, so a
   * client listing itself sees its own CLIENT LIST there (qbuf=26).
   */
  get queryBufferBytes(): number {
    return this.inBatch ? this.batchBufferedBytes : this.parser.bufferedBytes();
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
    // A connection sending a snapshot (SYNC) reads nothing more: a reply would land inside the file.
    if (this.closed || this.streaming) return;
    this.bytesIn += chunk.length;
    this.lastInteraction = Date.now();
    this.parser.feed(chunk);
    this.batchBufferedBytes = this.parser.bufferedBytes();
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

  streamThenClose(produce: (write: (chunk: Buffer) => Promise<void>) => Promise<void>): Promise<void> {
    // The client only reads from here on; what it might send is left unread.
    this.streaming = true;
    this.socket.pause();
    this.paused = true;
    const write = async (chunk: Buffer): Promise<void> => {
      if (this.closed) throw new Error('client went away');
      this.deliver(chunk);
      if (this.socket.writableLength > STREAM_HIGH_WATER_BYTES) await this.drained();
      if (this.closed) throw new Error('client went away');
    };
    return produce(write).then(
      () => {
        this.closeAfterReply = true;
        this.drain();
      },
      (err: unknown) => {
        this.close();
        throw err;
      },
    );
  }

  /** Resolves once the socket wrote what it held, or closed. */
  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.once('drain', done);
      this.socket.once('close', done);
    });
  }

  private parseBatch(): void {
    // A new sink for every read: the cluster's command sequencer tells one read's commands from
    // the next by the sink's identity (runs it groups, the guard of a WAIT), so it must not be reused.
    const sink: ReplySink = { out: this.writer, defer: () => this.defer() };
    for (;;) {
      this.parser.authenticated = this.authenticated;
      const r = this.parser.next();
      if (r.kind === 'incomplete') {
        // A request still arriving holds its bytes: a client over the limit with it goes now.
        if (this.hooks.overClientsLimit?.(this) === true) {
          this.close();
          return;
        }
        break;
      }
      if (r.kind === 'command') {
        this.writer.proto = this.proto;
        if (this.hooks.overClientsLimit?.(this, r.argv) === true) {
          this.close();
          return;
        }
        const execSink = this.execWithClientReply(r.argv);
        const muted = execSink === undefined && this.replyDropped(r.argv);
        this.hooks.dispatch(this, r.argv, execSink ?? (muted ? this.mutedSink() : sink));
        execSink?.dispatched();
        if (muted) this.keepPushes();
        if (this.closeAfterReply || this.closed || this.streaming) break;
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
    // Every EXEC of the batch that ran at once has written its reply by now.
    for (const settle of this.execSettles.splice(0)) settle();
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

  /**
   * EXEC of a transaction that queued CLIENT REPLY: Redis runs those as the transaction runs, so
   * they cut EXEC's own reply. It writes the array header first (unless OFF or SKIP was in force),
   * then each queued command's reply while no OFF or SKIP is in force: ON gets its OK and lets the
   * rest through, OFF and SKIP answer nothing, OFF drops every later reply, SKIP the reply of the
   * command after EXEC. The client then gets fewer elements than the header says, as from Redis.
   * Returns the sink EXEC's reply goes to, or undefined for any other command.
   *
   * The mode after EXEC is taken as if every queued CLIENT REPLY runs (the commands behind EXEC are
   * dispatched before EXEC may have run); it is wrong only when EXEC then fails a WATCH or ACL check.
   */
  private execWithClientReply(argv: Buffer[]): (ReplySink & { dispatched(): void }) | undefined {
    const queued = this.multi;
    if (queued === undefined || argv.length !== 1 || argv[0]!.length !== 4 || argv[0]!.toString('latin1').toLowerCase() !== 'exec') return undefined;
    if (!this.authenticated || !queued.some((q) => clientReplyMode(q.argv) !== undefined)) return undefined;
    const start: ReplyModes = { off: this.replyOff, skip: this.skipNext };
    const predicted = this.multiDirty ? { off: start.off, skipNext: false } : cutExecReply(start, queued.map((q) => ({ mode: clientReplyMode(q.argv), ran: true })));
    this.replyOff = predicted.off;
    this.skipNext = predicted.skipNext;
    // EXEC's place in the output, behind the batch's replies so far (which keep their durability wait).
    if (this.writer.length > 0) {
      this.flushBatch(this.writes !== this.batchWrites);
      this.batchWrites = this.writes;
    }
    const writesBefore = this.writes;
    const slot: OutputSlot = { bytes: null, ready: false };
    this.queue.push(slot);
    const capture = new ReplyWriter(this.proto, 256);
    // What EXEC wrote, in order: bytes, or the writer of a reply it deferred until that is done.
    const parts: Array<Buffer | ReplyWriter> = [];
    let pendingDefers = 0;
    let settled = false;
    const finish = (): void => {
      if (!settled || pendingDefers > 0 || this.closed) return;
      parts.push(capture.take());
      const bytes = Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : p.take())));
      slot.bytes = filterExecReply(bytes, start, queued).bytes;
      const ready = (err?: Error): void => {
        if (err && slot.bytes !== null) slot.bytes = notDurableReplies(slot.bytes);
        slot.ready = true;
        this.drain();
      };
      if (this.writes === writesBefore || !this.hooks.awaitDurable(ready)) ready();
    };
    this.execSettles.push(() => {
      settled = true;
      finish();
    });
    // EXEC that ran at once (the usual case on a standalone node): the mode after it is known
    // exactly, before the next command of the pipeline is dispatched, also when it failed a WATCH.
    const ranAtOnce = (): void => {
      if (parts.length > 0 || capture.length === 0) return;
      const bytes = capture.take();
      parts.push(bytes);
      if (!oneWholeReply(bytes)) return;
      const actual = filterExecReply(bytes, start, queued);
      this.replyOff = actual.off;
      this.skipNext = actual.skipNext;
    };
    return {
      dispatched: ranAtOnce,
      out: capture,
      defer: () => {
        parts.push(capture.take());
        const out = new ReplyWriter(this.proto, 256);
        parts.push(out);
        pendingDefers++;
        return {
          out,
          done: () => {
            pendingDefers--;
            finish();
          },
        };
      },
    };
  }

  /**
   * Pub/sub confirmations (SUBSCRIBE, UNSUBSCRIBE …) a muted command wrote: Redis 7.0 sends those
   * whatever CLIENT REPLY says, in RESP2 too, as it sends messages.
   */
  private keepPushes(): void {
    const discard = this.discarded;
    if (discard === undefined || discard.pushes.length === 0) return;
    const bytes = discard.take();
    let from = 0;
    for (const at of discard.pushes) {
      if (at < from || at >= bytes.length) continue;
      const end = valueEnd(bytes, at);
      if (end === undefined) break;
      this.writer.raw(bytes.subarray(at, end));
      from = end;
    }
    discard.pushes.length = 0;
  }

  /** A sink whose replies go nowhere but which keeps the command's place in the output order. */
  private mutedSink(): ReplySink {
    const discard = (this.discarded ??= new MutedWriter(2, 256));
    discard.proto = this.proto;
    discard.take();
    discard.pushes.length = 0;
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
      // Weighed before any of it is written, as Redis weighs a reply as it builds it: a client
      // whose one reply is over the hard limit is closed without receiving any of it; one that
      // holds maxmemory-clients by itself with it goes too (Redis checks as output is added).
      if (this.checkOutputLimit()) return;
      if (this.hooks.overClientsLimit?.(this) === true) {
        this.close();
        return;
      }
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
      // Closed, not only ended, once the reply is out, as Redis closes the descriptor: a half-open
      // socket kept reading what a desynchronised client goes on sending, and that client's writes
      // never failed.
      const socket = this.socket;
      socket.end(() => socket.destroy());
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
  private checkOutputLimit(): boolean {
    if (this.closed) return true;
    const pending = this.socket.writableLength + this.queuedBytes;
    if (pending === 0 && this.overSoftSince === undefined) return false;
    const limits = this.hooks.outputLimits();
    const limit = limitOf(limits, this.subscriptions.active);
    // Below both limits and never over the soft one: nothing to decide (every reply batch asks).
    if (this.overSoftSince === undefined && (limit.hardBytes === 0 || pending < limit.hardBytes) && (limit.softBytes === 0 || pending < limit.softBytes)) return false;
    const verdict = outputLimitVerdict(limit, pending, this.overSoftSince, Date.now());
    this.overSoftSince = verdict.overSoftSince;
    if (!verdict.close) return false;
    this.hooks.onOutputLimit(this, pending);
    this.close();
    return true;
  }

  /** The node's periodic check: a client over its soft limit for long enough goes even when nothing new is sent to it. */
  enforceOutputLimit(): void {
    if (this.overSoftSince !== undefined) this.checkOutputLimit();
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

/** The CLIENT REPLY state around one command: OFF in force, and SKIP of this command's reply. */
interface ReplyModes {
  off: boolean;
  skip: boolean;
}

/** The mode of a well-formed CLIENT REPLY command, or undefined for any other command. */
function clientReplyMode(argv: readonly Buffer[]): 'on' | 'off' | 'skip' | undefined {
  if (argv.length !== 3 || argv[0]!.toString('latin1').toLowerCase() !== 'client' || argv[1]!.toString('latin1').toLowerCase() !== 'reply') return undefined;
  const mode = argv[2]!.toString('latin1').toLowerCase();
  return mode === 'on' || mode === 'off' || mode === 'skip' ? mode : undefined;
}

/**
 * Redis's CLIENT REPLY flags through the commands of one EXEC, starting from `start`: which
 * elements reach the client (`visible`, one per command) and the mode after EXEC. A SKIP inside
 * EXEC applies to the command after EXEC (Redis turns it into a skip when EXEC ends), and ON does
 * not cancel it there; ON does clear OFF and a SKIP in force for EXEC itself.
 */
function cutExecReply(start: ReplyModes, commands: Array<{ mode: 'on' | 'off' | 'skip' | undefined; ran: boolean }>): { header: boolean; visible: boolean[]; off: boolean; skipNext: boolean } {
  let { off, skip } = start;
  let skipNext = false;
  const header = !off && !skip;
  const visible: boolean[] = [];
  for (const c of commands) {
    if (c.mode === undefined || !c.ran) visible.push(!off && !skip);
    else if (c.mode === 'on') {
      off = false;
      skip = false;
      visible.push(true);
    } else {
      if (c.mode === 'off') off = true;
      else if (!off) skipNext = true;
      visible.push(false);
    }
  }
  return { header, visible, off, skipNext };
}

const OK_LINE = Buffer.from('+OK\r\n');

/**
 * EXEC's reply as the client gets it when the transaction queued CLIENT REPLY (see
 * Connection.execWithClientReply). A CLIENT REPLY that answered OK ran; one that answered an error
 * (bad mode, ACL) changed nothing and its error is a reply like any other. An EXEC that did not run
 * the commands (EXECABORT, a failed WATCH) is one reply, dropped if OFF or SKIP was in force.
 */
function filterExecReply(bytes: Buffer, start: ReplyModes, queued: ReadonlyArray<{ argv: Buffer[] }>): { bytes: Buffer; off: boolean; skipNext: boolean } {
  const shown = !start.off && !start.skip;
  const asOne = { bytes: shown ? bytes : Buffer.alloc(0), off: start.off, skipNext: false };
  const eol = bytes.indexOf('\r\n', 0, 'latin1');
  const count = bytes[0] === 0x2a /* '*' */ && eol > 0 ? Number(bytes.toString('latin1', 1, eol)) : -1;
  if (count !== queued.length || count <= 0) return asOne;
  const body = bytes.subarray(eol + 2);
  const frames = replyFrames(body);
  // Pub/sub confirmations are pushes and a command's reply; other pushes (messages) may come between.
  const answers = frames.length === count ? frames : frames.filter((f) => !f.push);
  if (answers.length !== count) return asOne;
  const cut = cutExecReply(start, queued.map((q, i) => {
    const mode = clientReplyMode(q.argv);
    const a = answers[i]!;
    return { mode, ran: mode !== undefined && body.subarray(a.start, a.end).equals(OK_LINE) };
  }));
  const parts: Buffer[] = cut.header ? [bytes.subarray(0, eol + 2)] : [];
  let i = 0;
  for (const f of frames) {
    const visible = answers === frames || !f.push ? cut.visible[i++] === true : false;
    // Redis sends pushes whatever CLIENT REPLY says.
    if (f.push || visible) parts.push(body.subarray(f.start, f.end));
  }
  return { bytes: Buffer.concat(parts), off: cut.off, skipNext: cut.skipNext };
}

/** True when `bytes` hold exactly one whole reply (pushes aside). */
function oneWholeReply(bytes: Buffer): boolean {
  try {
    const frames = replyFrames(bytes);
    return frames.length > 0 && frames[frames.length - 1]!.end === bytes.length && frames.filter((f) => !f.push).length === 1;
  } catch {
    return false;
  }
}

/** Where a muted command's replies go: dropped, except the push frames it starts (see keepPushes). */
class MutedWriter extends ReplyWriter {
  /** Offsets where push frames begin. */
  readonly pushes: number[] = [];

  override pushHeader(n: number): void {
    this.pushes.push(this.length);
    super.pushHeader(n);
  }
}

/** The end of the one value starting at `at`, or undefined when it is incomplete. */
function valueEnd(bytes: Buffer, at: number): number | undefined {
  try {
    const first = replyFrames(bytes.subarray(at))[0];
    return first === undefined || at + first.end > bytes.length ? undefined : at + first.end;
  } catch {
    return undefined;
  }
}
