import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { BusCounters } from './bus-stats.js';
import { encodeFrame, encodedBytes, FrameDecoder, FrameKind, REQUEST_ID_MAX, type Frame } from './frame.js';
import { Handshake, NONCE_BYTES, type HandshakeLocal } from './handshake.js';
import { BusError, type PeerIdentity } from './types.js';

/** Requests awaiting a response on one link; beyond it new requests are refused, not queued. */
export const PENDING_REQUESTS_MAX = 100_000;
/** Requests from a peer being handled at once; beyond it the link stops reading until some finish. */
const INBOUND_REQUESTS_MAX = 100_000;
/** Frames this small are concatenated into one write; bigger ones go out as their own segment. */
const CONCAT_PART_MAX_BYTES = 64 * 1024;
const KEEPALIVE_DELAY_MS = 10_000;

export interface PeerLinkHooks {
  ready(link: PeerLink): void;
  /** A request or one-way frame from the authenticated peer. */
  inbound(link: PeerLink, frame: Frame): void;
  /** Any frame from the authenticated peer, responses included: a sign that it is alive and reachable. */
  heard?(link: PeerLink): void;
  handshakeFailed(link: PeerLink, reason: 'auth' | 'protocol', message: string): void;
  streamError(link: PeerLink, message: string): void;
  closed(link: PeerLink, error: BusError): void;
}

export interface PeerLinkOptions {
  socket: Socket;
  local: HandshakeLocal;
  /** The dialled address (connecting side) or the remote socket address (accepting side). */
  label: string;
  /** Bounds the TCP connect (connecting side) and the handshake. */
  handshakeTimeoutMs: number;
  maxFrameBytes: number;
  maxQueuedBytes: number;
  counters: BusCounters;
  hooks: PeerLinkHooks;
}

interface PendingRequest {
  type: string;
  resolve(value: unknown): void;
  reject(error: BusError): void;
  timer: NodeJS.Timeout;
}

type LinkState = 'handshaking' | 'ready' | 'closed';

/**
 * One authenticated TCP connection, in either direction. Frames queued in one event-loop turn go
 * out in one write; frames queued during the handshake wait for it. Requests sent on this link
 * are matched to responses by id, in any order.
 */
export class PeerLink {
  /** Set once the handshake succeeds. */
  identity: PeerIdentity | undefined;
  /** When the connection was made or accepted (Unix ms; CLUSTER LINKS). */
  readonly createdAt = Date.now();
  private state: LinkState = 'handshaking';
  private readonly handshake: Handshake;
  private readonly decoder: FrameDecoder;
  private out: Buffer[] = [];
  private outBytes = 0;
  private flushScheduled = false;
  private readonly pending = new Map<number, PendingRequest>();
  private nextId = 1;
  private inboundRequests = 0;
  private paused = false;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private socketError: Error | undefined;
  /** The connection ended without this side closing it. */
  endedByPeer = false;
  private readonly flushBound = (): void => this.flush();

  constructor(private readonly opts: PeerLinkOptions) {
    const { socket } = opts;
    try {
      this.handshake = new Handshake(opts.local, randomBytes(NONCE_BYTES));
    } catch (err) {
      socket.destroy();
      throw err;
    }
    this.decoder = new FrameDecoder(opts.maxFrameBytes);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, KEEPALIVE_DELAY_MS);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: Error) => {
      this.socketError = err;
    });
    socket.on('close', () => {
      // Closed from the far side (or the network), not by close() here: a timeout is ours.
      if (this.state !== 'closed') this.endedByPeer = true;
      this.close(this.lostError());
    });
    socket.on('drain', () => this.updateBackpressure());
    this.handshakeTimer = setTimeout(() => {
      const phase = socket.connecting ? 'connect' : 'handshake';
      this.close(new BusError('unreachable', `bus ${phase} with ${opts.label} timed out after ${opts.handshakeTimeoutMs} ms`));
    }, opts.handshakeTimeoutMs);
    this.handshakeTimer.unref();
    socket.write(this.handshake.hello());
  }

  get label(): string {
    return this.opts.label;
  }

  get isReady(): boolean {
    return this.state === 'ready';
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  get pendingRequests(): number {
    return this.pending.size;
  }

  /** Bytes accepted for this peer but not yet handed to the kernel. */
  get queuedBytes(): number {
    return this.outBytes + this.opts.socket.writableLength;
  }

  request(type: string, payload: unknown, timeoutMs: number): Promise<unknown> {
    if (this.state === 'closed') return Promise.reject(this.lostError());
    if (this.pending.size >= PENDING_REQUESTS_MAX) {
      this.opts.counters.requestsRefused++;
      return Promise.reject(new BusError('overloaded', `too many pending bus requests to ${this.opts.label}`));
    }
    const id = this.allocateId();
    const frame = this.encode(FrameKind.request, id, type, payload);
    if (frame instanceof BusError) {
      this.opts.counters.requestsRefused++;
      return Promise.reject(frame);
    }
    const bytes = encodedBytes(frame);
    if (!this.hasRoomFor(bytes)) {
      this.opts.counters.requestsRefused++;
      return Promise.reject(this.queueFullError());
    }
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => this.timeOut(id, timeoutMs), timeoutMs);
      timer.unref();
      this.pending.set(id, { type, resolve, reject, timer });
      this.enqueue(frame, bytes, type);
    });
  }

  /** Queues a one-way message; false if it was dropped (queue full, link closed, unencodable). */
  sendOneway(type: string, payload: unknown): boolean {
    if (this.state === 'closed') return false;
    const frame = this.encode(FrameKind.oneway, 0, type, payload);
    if (frame instanceof BusError) return false;
    const bytes = encodedBytes(frame);
    if (!this.hasRoomFor(bytes)) return false;
    this.enqueue(frame, bytes, type);
    return true;
  }

  /**
   * Answers a request that arrived on this link. Responses are queued even past the byte limit: the
   * requester bounds how much it asks for, and this link stops reading new requests meanwhile.
   */
  respond(id: number, type: string, result: unknown): void {
    this.inboundRequests--;
    if (this.state === 'closed') return;
    let frame = this.encode(FrameKind.response, id, '', result);
    if (frame instanceof BusError) frame = encodeFrame(FrameKind.errorResponse, id, '', frame.message);
    this.enqueue(frame, encodedBytes(frame), type);
    this.updateBackpressure();
  }

  respondError(id: number, type: string, message: string): void {
    this.inboundRequests--;
    if (this.state === 'closed') return;
    const frame = encodeFrame(FrameKind.errorResponse, id, '', message);
    this.enqueue(frame, encodedBytes(frame), type);
    this.updateBackpressure();
  }

  /** Ends the link, failing its pending requests with `error`. Idempotent. */
  close(error: BusError): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.handshakeTimer);
    this.opts.socket.destroy();
    this.out = [];
    this.outBytes = 0;
    const pending = [...this.pending.values()];
    this.pending.clear();
    // Requests on a link that came up may have reached the peer: say so, callers must not resend blindly.
    const outcome = this.identity !== undefined && error.code === 'unreachable' ? new BusError('lost', error.message) : error;
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(outcome);
    }
    this.opts.hooks.closed(this, error);
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    let data = chunk;
    if (this.state === 'handshaking') {
      const rest = this.continueHandshake(data);
      if (rest === undefined || rest.length === 0) return;
      data = rest;
    }
    const { frames, error } = this.decoder.push(data);
    for (const frame of frames) {
      // A handler may have closed the link (or the whole bus) while this chunk's frames ran.
      if (this.isClosed) return;
      this.dispatch(frame);
    }
    if (error !== undefined && !this.isClosed) {
      this.opts.hooks.streamError(this, error.message);
      this.close(new BusError('unreachable', `bus link ${this.opts.label} closed: ${error.message}`));
    }
  }

  /** Returns the bytes after a completed handshake, or undefined while it is still running. */
  private continueHandshake(chunk: Buffer): Buffer | undefined {
    const step = this.handshake.receive(chunk);
    if (step.state === 'failed') {
      this.opts.hooks.handshakeFailed(this, step.reason, step.message);
      this.close(new BusError(step.reason === 'auth' ? 'auth' : 'unreachable', `bus peer ${this.opts.label}: ${step.message}`));
      return undefined;
    }
    for (const bytes of step.send) this.opts.socket.write(bytes);
    if (step.state === 'pending') return undefined;
    this.identity = step.peer;
    this.state = 'ready';
    clearTimeout(this.handshakeTimer);
    this.handshakeTimer = undefined;
    this.opts.hooks.ready(this);
    if (this.outBytes > 0) this.scheduleFlush();
    return step.rest;
  }

  private dispatch(frame: Frame): void {
    this.opts.hooks.heard?.(this);
    if (frame.kind === FrameKind.response || frame.kind === FrameKind.errorResponse) {
      const p = this.pending.get(frame.id);
      // A response after its request timed out: the caller has already been told.
      if (p === undefined) return;
      this.pending.delete(frame.id);
      clearTimeout(p.timer);
      this.opts.counters.received(p.type, frame.wireBytes);
      if (frame.kind === FrameKind.response) p.resolve(frame.payload);
      else p.reject(new BusError('remote', typeof frame.payload === 'string' ? frame.payload : 'bus request failed'));
      return;
    }
    if (frame.kind === FrameKind.request) {
      this.inboundRequests++;
      if (this.inboundRequests >= INBOUND_REQUESTS_MAX) this.updateBackpressure();
    }
    this.opts.hooks.inbound(this, frame);
  }

  private encode(kind: FrameKind, id: number, type: string, payload: unknown): Buffer[] | BusError {
    let frame: Buffer[];
    try {
      frame = encodeFrame(kind, id, type, payload);
    } catch (err) {
      return new BusError('encode', `cannot encode bus message '${type}': ${(err as Error).message}`);
    }
    const bytes = encodedBytes(frame);
    if (bytes > this.opts.maxFrameBytes) {
      return new BusError('encode', `bus message '${type}' of ${bytes} bytes exceeds the frame limit of ${this.opts.maxFrameBytes}`);
    }
    return frame;
  }

  /** An empty queue takes one frame of any allowed size, so values larger than the limit still go through. */
  private hasRoomFor(bytes: number): boolean {
    const queued = this.queuedBytes;
    return queued === 0 || queued + bytes <= this.opts.maxQueuedBytes;
  }

  private queueFullError(): BusError {
    return new BusError('overloaded', `bus queue to ${this.opts.label} is full (${this.queuedBytes} bytes)`);
  }

  private enqueue(frame: Buffer[], bytes: number, type: string): void {
    for (const part of frame) this.out.push(part);
    this.outBytes += bytes;
    this.opts.counters.sent(type, bytes);
    if (this.state === 'ready') this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(this.flushBound);
  }

  /** Writes what is queued now; a flush already scheduled finds nothing left and does nothing. */
  flushNow(): void {
    this.flush();
  }

  /** Writes everything queued this turn in one write (or one corked writev when large frames are mixed in). */
  private flush(): void {
    this.flushScheduled = false;
    if (this.state !== 'ready' || this.outBytes === 0) return;
    const parts = this.out;
    const total = this.outBytes;
    this.out = [];
    this.outBytes = 0;
    const { socket } = this.opts;
    if (parts.length === 1) {
      socket.write(parts[0]!);
      return;
    }
    const segments = coalesce(parts, total);
    if (segments.length === 1) {
      socket.write(segments[0]!);
      return;
    }
    socket.cork();
    for (const segment of segments) socket.write(segment);
    socket.uncork();
  }

  private allocateId(): number {
    let id = this.nextId;
    while (this.pending.has(id)) id = id === REQUEST_ID_MAX ? 1 : id + 1;
    this.nextId = id === REQUEST_ID_MAX ? 1 : id + 1;
    return id;
  }

  private timeOut(id: number, timeoutMs: number): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    this.opts.counters.requestsTimedOut++;
    p.reject(new BusError('timeout', `bus request '${p.type}' to ${this.opts.label} timed out after ${timeoutMs} ms`));
  }

  /**
   * Stops reading requests from a peer that is not reading our responses, or is sending too many.
   * Only the accepting side pauses: the connecting side must always read its responses, or two
   * nodes with full queues towards each other would each wait for the other forever.
   */
  private updateBackpressure(): void {
    if (this.state === 'closed' || this.opts.local.role !== 'accept') return;
    const overloaded = this.inboundRequests >= INBOUND_REQUESTS_MAX || this.queuedBytes >= this.opts.maxQueuedBytes;
    if (overloaded && !this.paused) {
      this.paused = true;
      this.opts.socket.pause();
    } else if (!overloaded && this.paused) {
      this.paused = false;
      this.opts.socket.resume();
    }
  }

  /** The connection attempt was refused: nothing listens at the peer's address (its process is gone). */
  get refusedByPeer(): boolean {
    return this.identity === undefined && (this.socketError as NodeJS.ErrnoException | undefined)?.code === 'ECONNREFUSED';
  }

  private lostError(): BusError {
    const cause = this.socketError ? `: ${this.socketError.message}` : '';
    if (this.identity === undefined && this.socketError === undefined && !this.opts.socket.connecting) {
      // A peer that refuses our proof just hangs up; it sends no reason to a stranger.
      return new BusError('unreachable', `bus peer ${this.opts.label} closed the connection during the handshake (cluster secret mismatch?)`);
    }
    if (this.identity === undefined) return new BusError('unreachable', `cannot reach bus peer ${this.opts.label}${cause}`);
    return new BusError('unreachable', `bus connection to ${this.opts.label} lost${cause}`);
  }
}

/** Joins runs of small parts into single buffers, leaving large parts as they are. */
function coalesce(parts: Buffer[], total: number): Buffer[] {
  let hasLarge = false;
  for (const p of parts) {
    if (p.length > CONCAT_PART_MAX_BYTES) {
      hasLarge = true;
      break;
    }
  }
  if (!hasLarge) return [Buffer.concat(parts, total)];
  const segments: Buffer[] = [];
  let run: Buffer[] = [];
  const endRun = (): void => {
    if (run.length === 1) segments.push(run[0]!);
    else if (run.length > 1) segments.push(Buffer.concat(run));
    run = [];
  };
  for (const p of parts) {
    if (p.length <= CONCAT_PART_MAX_BYTES) {
      run.push(p);
      continue;
    }
    endRun();
    segments.push(p);
  }
  endRun();
  return segments;
}
