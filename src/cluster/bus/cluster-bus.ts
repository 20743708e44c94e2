import { connect, createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, Server as TlsServer, type TLSSocket } from 'node:tls';
import type { Logger } from '../../core/logger.js';
import { BusCounters, UNKNOWN_TYPE } from './bus-stats.js';
import { busClientOptions, busServerOptions, tlsRefusalReason, type BusTls } from './bus-tls.js';
import { DEFAULT_MAX_FRAME_BYTES, FrameKind, type Frame } from './frame.js';
import { HANDSHAKE_TIMEOUT_MS, type HandshakeLocal, type HandshakeRole } from './handshake.js';
import { LogLimiter } from './log-limiter.js';
import { PeerLink, type PeerLinkHooks } from './peer-link.js';
import { addressKey, BusError, type BusAddress, type BusLinkInfo, type PeerIdentity } from './types.js';

export { BusError, type BusAddress, type BusErrorCode, type PeerIdentity } from './types.js';

export interface ClusterBusOptions {
  /** 40 hex characters. */
  nodeId: string;
  /** The bus address peers should use for us; port 0 means "the port listen() got". */
  advertise: BusAddress;
  /** Port 0 picks a free port; read it from `port` after listen(). */
  listen: { host: string; port: number };
  /** Cluster secret; may be empty, in which case the handshake still runs with an empty key. */
  secret: string;
  logger: Logger;
  requestTimeoutMs?: number;
  /** Beyond this many bytes waiting for one peer, new sends to it fail fast instead of growing memory. */
  maxQueuedBytesPerPeer?: number;
  /** A bigger incoming frame closes the link; values up to 512 MiB must fit. */
  maxFrameBytes?: number;
  /** Bounds connecting plus the handshake; requests made meanwhile fail when it runs out. */
  connectTimeoutMs?: number;
  /**
   * Source address for outgoing links. Nodes bound to distinct loopback addresses dial from their
   * own, so a packet filter can tell them apart (network partition tests).
   */
  localAddress?: string;
  /**
   * tls-cluster: the current TLS material, read at listen and at every dial (so a certificate
   * reloaded by CONFIG SET is used by the next link); undefined = plain TCP.
   */
  tls?: () => BusTls | undefined;
}

export type RequestHandler = (from: PeerIdentity, payload: unknown) => unknown;
export type MessageHandler = (from: PeerIdentity, payload: unknown) => void;

const DEFAULT_REQUEST_TIMEOUT_MS = 2_000;
const DEFAULT_MAX_QUEUED_BYTES_PER_PEER = 64 * 1024 * 1024;
const DEFAULT_CONNECT_TIMEOUT_MS = 1_000;
/** Unauthenticated or idle inbound connections beyond this are refused at accept. */
const INCOMING_LINKS_MAX = 4_096;
/** After a failed connect, requests to that peer fail at once until the delay has passed. */
const RECONNECT_DELAY_MIN_MS = 100;
const RECONNECT_DELAY_MAX_MS = 2_000;

/** Outgoing side of one peer address: the current link, and the backoff after failures. */
interface OutgoingPeer {
  address: BusAddress;
  key: string;
  link: PeerLink | undefined;
  consecutiveFailures: number;
  retryAtMs: number;
  lastError: string;
  /** The last connection attempt was refused, and none has succeeded since. */
  refused: boolean;
}

/**
 * Node-to-node transport: one lazily opened, authenticated connection per peer address for our
 * requests and one-way messages; connections peers open to us are served, with responses going back
 * on the connection each request came in on.
 */
export class ClusterBus {
  readonly requestTimeoutMs: number;
  private readonly maxQueuedBytes: number;
  private readonly maxFrameBytes: number;
  private readonly connectTimeoutMs: number;
  private readonly logger: Logger;
  private advertise: BusAddress;
  private server: Server | undefined;
  private listeningPort = 0;
  private closed = false;
  private readonly requestHandlers = new Map<string, RequestHandler>();
  private readonly messageHandlers = new Map<string, MessageHandler>();
  private readonly peers = new Map<string, OutgoingPeer>();
  private readonly incoming = new Set<PeerLink>();
  private readonly counters = new BusCounters();
  /** Per peer node id: when the last frame of any kind arrived from it (performance.now()). */
  private readonly heardAt = new Map<string, number>();
  private readonly warnings = new LogLimiter();

  constructor(private readonly opts: ClusterBusOptions) {
    this.requestTimeoutMs = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.maxQueuedBytes = opts.maxQueuedBytesPerPeer ?? DEFAULT_MAX_QUEUED_BYTES_PER_PEER;
    this.maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.logger = opts.logger;
    this.advertise = { ...opts.advertise };
  }

  /** The port actually listened on (useful with `listen.port: 0`); 0 before listen(). */
  get port(): number {
    return this.listeningPort;
  }

  listen(): Promise<void> {
    if (this.server) return Promise.reject(new Error('cluster bus already listening'));
    const tls = this.opts.tls?.();
    const server = tls === undefined ? createServer((socket) => this.accept(socket)) : this.tlsServer(tls);
    this.server = server;
    return new Promise<void>((resolve, reject) => {
      server.once('error', (err) => {
        this.server = undefined;
        reject(err);
      });
      server.listen(this.opts.listen.port, this.opts.listen.host, () => {
        server.removeAllListeners('error');
        server.on('error', (err) => this.logger.warn({ err }, 'cluster bus listener error'));
        const address = server.address();
        this.listeningPort = typeof address === 'object' && address !== null ? address.port : this.opts.listen.port;
        if (this.advertise.port === 0) this.advertise = { host: this.advertise.host, port: this.listeningPort };
        this.logger.info({ port: this.listeningPort }, 'cluster bus listening');
        resolve();
      });
    });
  }

  /**
   * tls-cluster: accepts only peers whose certificate the CA signed; a refused one never reaches the
   * cluster-secret handshake and is logged (once a minute per host) with OpenSSL's reason.
   */
  private tlsServer(tls: BusTls): TlsServer {
    // Node drops the verification error of a refused client certificate (the handshake ends as a
    // bare "socket hang up"), so the verdict is enforced here where its reason is still known.
    const server = createTlsServer({ ...busServerOptions(tls), requestCert: true, rejectUnauthorized: false }, (socket) => {
      if (socket.authorized) {
        this.accept(socket);
        return;
      }
      this.counters.authFailures++;
      const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
      const cert = socket.getPeerCertificate();
      const reason = cert === null || Object.keys(cert).length === 0 ? 'it presented no certificate' : `${String(socket.authorizationError)} (subject ${cert.subject?.CN ?? '?'}, issuer ${cert.issuer?.CN ?? '?'})`;
      this.warnTls(peer, 'cluster bus refused a peer: its TLS certificate is not signed by tls-ca-cert-file', reason);
      socket.destroy();
    });
    server.on('tlsClientError', (err: Error, socket: TLSSocket) => {
      const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
      const reason = tlsRefusalReason(err);
      // A dialler that gave up mid-handshake (its own timeout, a restart) was not refused.
      if (reason === undefined) {
        this.logger.debug({ peer, reason: err.message }, 'cluster bus peer left during the TLS handshake');
        return;
      }
      this.counters.authFailures++;
      this.warnTls(peer, 'cluster bus refused a peer: TLS handshake failed', reason);
    });
    return server;
  }

  /** Puts a certificate reloaded by CONFIG SET in force for links accepted and dialled from now on. */
  reloadTls(): void {
    const tls = this.opts.tls?.();
    if (tls === undefined || !(this.server instanceof TlsServer)) return;
    this.server.setSecureContext(busServerOptions(tls));
  }

  /**
   * Serves requests of `type`: the handler's return value (or resolved promise) is the response; a
   * throw or rejection becomes an error response that rejects the caller with the same message.
   */
  handle(type: string, handler: RequestHandler): void {
    this.requestHandlers.set(type, handler);
  }

  /** Receives one-way messages of `type`; a throwing handler is logged and counted, nothing more. */
  on(type: string, handler: MessageHandler): void {
    this.messageHandlers.set(type, handler);
  }

  /**
   * Rejects with a BusError: `timeout`, `unreachable` (cannot connect, connection lost, or still
   * backing off after a failed connect), `auth`, `overloaded` (queue or pending limit), `encode`,
   * `closed`, or `remote` carrying the handler's error message.
   */
  request(to: BusAddress, type: string, payload: unknown, timeoutMs: number = this.requestTimeoutMs): Promise<unknown> {
    const link = this.linkTo(to);
    if (link instanceof BusError) {
      this.counters.requestsRefused++;
      return Promise.reject(link);
    }
    return link.request(type, payload, timeoutMs);
  }

  /** Writes what is queued for `to` now instead of at the end of this event-loop turn. */
  flushNow(to: BusAddress): void {
    this.peers.get(addressKey(to))?.link?.flushNow();
  }

  /**
   * Best effort at low priority: also dropped (and counted) once the link's queue holds more than
   * `share` of its limit, so traffic that may be lost (pub/sub messages) never takes the room that
   * replica batches need. Returns whether it was queued.
   */
  sendLowPriority(to: BusAddress, type: string, payload: unknown, share = 0.25): boolean {
    const link = this.linkTo(to);
    if (link instanceof BusError || link.queuedBytes > this.maxQueuedBytes * share || !link.sendOneway(type, payload)) {
      this.counters.messagesDropped++;
      return false;
    }
    return true;
  }

  /** Best effort: dropped (and counted) when the peer is unreachable or its queue is full. */
  send(to: BusAddress, type: string, payload: unknown): void {
    const link = this.linkTo(to);
    if (link instanceof BusError || !link.sendOneway(type, payload)) this.counters.messagesDropped++;
  }

  /**
   * True when our last attempt to connect to `to` was refused and none succeeded since: the peer's
   * host answered that nothing listens on its bus port, so its process is gone (not merely slow).
   */
  refused(to: BusAddress): boolean {
    const peer = this.peers.get(addressKey(to));
    // Still refused while a new attempt is under way: only a link that comes up clears it.
    return peer !== undefined && peer.refused && !(peer.link?.isReady ?? false);
  }

  /** When the last frame of any kind (on any link) arrived from the node, in performance.now() ms. */
  lastHeard(nodeId: string): number | undefined {
    return this.heardAt.get(nodeId);
  }

  /**
   * Closes our link to a peer that has been silent for a while; returns how many requests were
   * still waiting on it (they fail as 'lost': they may have reached it). The next send dials
   * afresh: a connection whose packets were dropped for a while waits out TCP's doubling
   * retransmission timer (12.8 s after 20 s of loss), a new one comes up within a connect attempt
   * and its backoff (at most 3 s) once the path works again.
   */
  dropLink(to: BusAddress, reason: string): number {
    const link = this.peers.get(addressKey(to))?.link;
    if (link === undefined) return 0;
    const waiting = link.pendingRequests;
    link.close(new BusError('unreachable', `bus peer ${addressKey(to)}: ${reason}`));
    return waiting;
  }

  /** Whether our outgoing link to `to` is up and authenticated (links are opened by the first send). */
  linkState(to: BusAddress): 'connected' | 'disconnected' {
    return this.peers.get(addressKey(to))?.link?.isReady ? 'connected' : 'disconnected';
  }

  /** The authenticated connections in both directions (CLUSTER LINKS). */
  links(): BusLinkInfo[] {
    const out: BusLinkInfo[] = [];
    const add = (direction: 'to' | 'from', link: PeerLink | undefined): void => {
      if (link === undefined || !link.isReady || link.identity === undefined) return;
      out.push({ direction, nodeId: link.identity.nodeId, createdAt: link.createdAt, queuedBytes: link.queuedBytes });
    };
    for (const peer of this.peers.values()) add('to', peer.link);
    for (const link of this.incoming) add('from', link);
    return out;
  }

  stats(): Record<string, number> {
    const out = this.counters.snapshot();
    let outgoing = 0;
    let connecting = 0;
    let pending = 0;
    for (const peer of this.peers.values()) {
      if (peer.link === undefined) continue;
      if (peer.link.isReady) outgoing++;
      else connecting++;
      pending += peer.link.pendingRequests;
    }
    let incoming = 0;
    for (const link of this.incoming) if (link.isReady) incoming++;
    out.links_outgoing = outgoing;
    out.links_connecting = connecting;
    out.links_incoming = incoming;
    out.requests_pending = pending;
    return out;
  }

  /** Closes the listener and every link; pending requests reject with a `closed` BusError. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const error = new BusError('closed', 'cluster bus closed');
    for (const peer of this.peers.values()) peer.link?.close(error);
    for (const link of [...this.incoming]) link.close(error);
    this.peers.clear();
    const server = this.server;
    if (server === undefined) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private linkTo(to: BusAddress): PeerLink | BusError {
    if (this.closed) return new BusError('closed', 'cluster bus closed');
    const key = addressKey(to);
    let peer = this.peers.get(key);
    if (peer === undefined) {
      peer = { address: { host: to.host, port: to.port }, key, link: undefined, consecutiveFailures: 0, retryAtMs: 0, lastError: '', refused: false };
      this.peers.set(key, peer);
    }
    if (peer.link !== undefined) return peer.link;
    const waitMs = peer.retryAtMs - Date.now();
    if (waitMs > 0) return new BusError('unreachable', `${peer.lastError} (retrying in ${waitMs} ms)`);
    try {
      peer.link = this.dial(peer);
    } catch (err) {
      return new BusError('unreachable', `cannot connect to bus peer ${key}: ${(err as Error).message}`);
    }
    return peer.link;
  }

  private dial(peer: OutgoingPeer): PeerLink {
    const local = this.local('connect');
    const tls = this.opts.tls?.();
    const localAddress = this.opts.localAddress ? this.opts.localAddress : undefined;
    const socket = tls === undefined
      ? connect({ host: peer.address.host, port: peer.address.port, ...(localAddress !== undefined ? { localAddress } : {}) })
      : tlsConnect(busClientOptions(tls, peer.address.host, peer.address.port, localAddress));
    /** The TLS handshake ended on our side: a close before the secret handshake is then the peer's refusal. */
    let tlsUp = false;
    if (tls !== undefined) {
      socket.once('secureConnect', () => (tlsUp = true));
      socket.once('error', (err: Error) => {
        const reason = tlsRefusalReason(err);
        if (reason !== undefined) this.warnTls(peer.key, 'cluster bus cannot link to a peer: TLS refused', reason);
      });
    }
    const hooks = this.hooks({
      ready: () => {
        peer.consecutiveFailures = 0;
        peer.retryAtMs = 0;
        peer.refused = false;
      },
      closed: (link, error) => {
        if (peer.link !== link) return;
        peer.link = undefined;
        // A link that worked may be retried at once; one that never came up backs off.
        if (link.identity !== undefined) return;
        // Under TLSv1.3 a peer checks our certificate after our side of the handshake is done, and
        // refuses by closing: say so here, where the operator who must fix it will look.
        if (tlsUp && link.endedByPeer) this.warnTls(peer.key, 'cluster bus peer closed the TLS link before accepting it: does its tls-ca-cert-file trust this node\'s certificate, and is the cluster secret the same?', error.message);
        peer.consecutiveFailures++;
        peer.retryAtMs = Date.now() + reconnectDelayMs(peer.consecutiveFailures);
        peer.lastError = error.message;
        peer.refused = link.refusedByPeer;
      },
    });
    return new PeerLink({
      socket,
      local,
      label: peer.key,
      handshakeTimeoutMs: this.connectTimeoutMs,
      maxFrameBytes: this.maxFrameBytes,
      maxQueuedBytes: this.maxQueuedBytes,
      counters: this.counters,
      hooks,
    });
  }

  private accept(socket: Socket): void {
    if (this.closed || this.incoming.size >= INCOMING_LINKS_MAX) {
      socket.destroy();
      return;
    }
    const label = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    let link: PeerLink;
    try {
      link = new PeerLink({
        socket,
        local: this.local('accept'),
        label,
        handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
        maxFrameBytes: this.maxFrameBytes,
        maxQueuedBytes: this.maxQueuedBytes,
        counters: this.counters,
        hooks: this.hooks({ closed: (l) => this.incoming.delete(l) }),
      });
    } catch (err) {
      this.logger.warn({ err }, 'cluster bus cannot serve incoming connection');
      socket.destroy();
      return;
    }
    this.incoming.add(link);
  }

  private local(role: HandshakeRole): HandshakeLocal {
    return { role, secret: this.opts.secret, nodeId: this.opts.nodeId, advertise: this.advertise };
  }

  private hooks(extra: { ready?: (link: PeerLink) => void; closed: (link: PeerLink, error: BusError) => void }): PeerLinkHooks {
    return {
      ready: (link) => {
        extra.ready?.(link);
        this.logger.debug({ peer: link.label, nodeId: link.identity?.nodeId }, 'cluster bus link up');
      },
      inbound: (link, frame) => this.dispatch(link, frame),
      heard: (link) => {
        if (link.identity !== undefined) this.heardAt.set(link.identity.nodeId, performance.now());
      },
      handshakeFailed: (link, reason, message) => {
        if (reason === 'auth') this.counters.authFailures++;
        else this.counters.protocolErrors++;
        this.warnOnce(link, reason === 'auth' ? 'cluster bus peer failed authentication (cluster secret mismatch?)' : 'cluster bus handshake failed', message);
      },
      streamError: (link, message) => {
        this.counters.protocolErrors++;
        this.warnOnce(link, 'cluster bus closed a link after a malformed frame', message);
      },
      closed: extra.closed,
    };
  }

  private warnTls(peer: string, msg: string, reason: string): void {
    const host = peer.slice(0, peer.lastIndexOf(':'));
    if (this.warnings.allow(`${msg}\0${host}`, Date.now())) this.logger.warn({ peer, reason }, msg);
    else this.logger.debug({ peer, reason }, msg);
  }

  /** At most one warning per remote host and kind per minute: a peer retrying in a loop must not flood the log. */
  private warnOnce(link: PeerLink, msg: string, reason: string): void {
    const host = link.label.slice(0, link.label.lastIndexOf(':'));
    if (this.warnings.allow(`${msg}\0${host}`, Date.now())) this.logger.warn({ peer: link.label, reason }, msg);
    else this.logger.debug({ peer: link.label, reason }, msg);
  }

  private dispatch(link: PeerLink, frame: Frame): void {
    const from = link.identity!;
    if (frame.kind === FrameKind.request) {
      this.serveRequest(link, from, frame);
      return;
    }
    const handler = this.messageHandlers.get(frame.type);
    if (handler === undefined) {
      // Ignored rather than fatal, so a node can run next to peers of a newer release.
      this.counters.unknownMessages++;
      return;
    }
    this.counters.received(frame.type, frame.wireBytes);
    try {
      handler(from, frame.payload);
    } catch (err) {
      this.counters.handlerErrors++;
      this.logger.warn({ err, type: frame.type, peer: from.nodeId }, 'cluster bus message handler failed');
    }
  }

  private serveRequest(link: PeerLink, from: PeerIdentity, frame: Frame): void {
    const { id, type } = frame;
    const handler = this.requestHandlers.get(type);
    if (handler === undefined) {
      this.counters.unknownMessages++;
      link.respondError(id, UNKNOWN_TYPE, `unknown bus request '${type}'`);
      return;
    }
    this.counters.received(type, frame.wireBytes);
    let result: unknown;
    try {
      result = handler(from, frame.payload);
    } catch (err) {
      this.counters.handlerErrors++;
      link.respondError(id, type, errorMessage(err));
      return;
    }
    if (!isPromiseLike(result)) {
      link.respond(id, type, result);
      return;
    }
    result.then(
      (value) => link.respond(id, type, value),
      (err: unknown) => {
        this.counters.handlerErrors++;
        link.respondError(id, type, errorMessage(err));
      },
    );
  }
}

function reconnectDelayMs(consecutiveFailures: number): number {
  return Math.min(RECONNECT_DELAY_MAX_MS, RECONNECT_DELAY_MIN_MS * 2 ** Math.min(consecutiveFailures - 1, 16));
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
