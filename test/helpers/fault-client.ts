/**
 * A deliberately small Redis Cluster client for the fault suite. A general client (ioredis) retries,
 * resends unanswered commands after reconnecting and queues while offline, which hides from the
 * caller whether a command reached a server zero, one or two times; a history checker needs to know.
 * This one sends each command at most once per connection, follows MOVED (which carries no effect),
 * and classifies every outcome:
 * - ok: the reply;
 * - fail: certainly without effect (never sent, MOVED loop, CLUSTERDOWN, the read quorum of a
 *   command was not met, so it never ran; a refused read);
 * - unknown: may have taken effect. Bounded when the server answered with an error or the
 *   connection dropped (the coordinator stamped the write before that), open when the client stopped
 *   waiting (a paused coordinator may still run it later) or the node that relayed the command did
 *   (cluster-proxy: the primary runs it whenever the relayed request reaches it, after a partition
 *   heals too).
 */
import net from 'node:net';
import { keySlot } from '../../src/cluster/slot.js';

export interface Address {
  host: string;
  port: number;
}

export const addrKey = (a: Address): string => `${a.host}:${a.port}`;

export class ReplyError {
  constructor(readonly message: string) {}
}

export type Reply = string | number | null | ReplyError | Reply[];

export type TransportFailure = 'refused' | 'closed' | 'timeout';

export class TransportError extends Error {
  constructor(readonly kind: TransportFailure, message: string) {
    super(message);
  }
}

function encode(args: readonly string[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.from(a);
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** One RESP2 reply at `off`, or undefined when the buffer does not hold all of it yet. */
function parse(buf: Buffer, off: number): { value: Reply; next: number } | undefined {
  if (off >= buf.length) return undefined;
  const eol = buf.indexOf('\r\n', off);
  if (eol < 0) return undefined;
  const line = buf.toString('utf8', off + 1, eol);
  switch (buf[off]) {
    case 0x2b: // +
      return { value: line, next: eol + 2 };
    case 0x2d: // -
      return { value: new ReplyError(line), next: eol + 2 };
    case 0x3a: // :
      return { value: Number(line), next: eol + 2 };
    case 0x24: { // $
      const len = Number(line);
      if (len < 0) return { value: null, next: eol + 2 };
      if (buf.length < eol + 2 + len + 2) return undefined;
      return { value: buf.toString('utf8', eol + 2, eol + 2 + len), next: eol + 2 + len + 2 };
    }
    case 0x2a: { // *
      const n = Number(line);
      if (n < 0) return { value: null, next: eol + 2 };
      const items: Reply[] = [];
      let next = eol + 2;
      for (let i = 0; i < n; i++) {
        const item = parse(buf, next);
        if (item === undefined) return undefined;
        items.push(item.value);
        next = item.next;
      }
      return { value: items, next };
    }
    default:
      throw new Error(`unexpected RESP type byte ${buf[off]}`);
  }
}

interface Pending {
  resolve: (r: Reply) => void;
  reject: (e: TransportError) => void;
  timer: NodeJS.Timeout;
}

/** One connection; replies are matched to requests in order. A timeout closes it. */
export class RespConnection {
  private buf: Buffer = Buffer.alloc(0);
  private readonly pending: Pending[] = [];
  private dead: string | undefined;

  private constructor(private readonly socket: net.Socket, readonly address: Address) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (e) => this.fail('closed', `connection error: ${e.message}`));
    socket.on('close', () => this.fail('closed', 'connection closed'));
  }

  static open(address: Address, timeoutMs: number): Promise<RespConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: address.host, port: address.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new TransportError('refused', `connect to ${addrKey(address)} timed out`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new RespConnection(socket, address));
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(new TransportError('refused', `connect to ${addrKey(address)}: ${e.message}`));
      });
    });
  }

  get alive(): boolean {
    return this.dead === undefined;
  }

  /** Sends one command; rejects with `refused` when the connection was already known dead (nothing sent). */
  call(args: readonly string[], timeoutMs: number): Promise<Reply> {
    if (this.dead !== undefined) return Promise.reject(new TransportError('refused', this.dead));
    return new Promise<Reply>((resolve, reject) => {
      // Giving up abandons the connection and every command still waiting on it: each may yet run
      // on the server (a paused one resumes and reads them), so each is a timeout, never 'closed'.
      const timer = setTimeout(() => this.fail('timeout', `no reply within ${timeoutMs} ms`), timeoutMs);
      this.pending.push({ resolve, reject, timer });
      this.socket.write(encode(args));
    });
  }

  /**
   * Sends several commands in one write (a pipeline): one promise per command, settled in order
   * as the replies come. Each command has its own timeout; the first to expire abandons the
   * connection and every command still waiting on it (each a `timeout`: it may yet run).
   */
  pipeline(commands: ReadonlyArray<readonly string[]>, timeoutMs: number): Array<Promise<Reply>> {
    if (this.dead !== undefined) {
      const err = new TransportError('refused', this.dead);
      return commands.map(() => Promise.reject(err));
    }
    const out = commands.map(() => new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => this.fail('timeout', `no reply within ${timeoutMs} ms`), timeoutMs);
      this.pending.push({ resolve, reject, timer });
    }));
    this.socket.write(Buffer.concat(commands.map(encode)));
    return out;
  }

  close(): void {
    this.fail('closed', 'closed by the client');
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    let off = 0;
    for (;;) {
      let parsed: { value: Reply; next: number } | undefined;
      try {
        parsed = parse(this.buf, off);
      } catch (e) {
        this.fail('closed', (e as Error).message);
        return;
      }
      if (parsed === undefined) break;
      off = parsed.next;
      const p = this.pending.shift();
      if (p === undefined) continue; // a reply to a command abandoned by a timeout cannot arrive: the socket is gone
      clearTimeout(p.timer);
      p.resolve(parsed.value);
    }
    this.buf = off === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(off);
  }

  private fail(kind: TransportFailure, message: string): void {
    if (this.dead === undefined) this.dead = message;
    this.socket.destroy();
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(new TransportError(kind, message));
    }
  }
}

export type CallStatus = 'ok' | 'fail' | 'unknown';

export interface CallOutcome {
  status: CallStatus;
  reply?: Reply;
  /** unknown only: the client stopped waiting, so the command may still run later. */
  open: boolean;
  /** host:port of the node that answered (or was last tried). */
  node?: string;
  error?: string;
}

export interface FaultClientOptions {
  seeds: readonly Address[];
  /** Per-connection quorums sent with RINGKV.CONSISTENCY on every new connection. */
  r?: number;
  w?: number;
  /** Sends READONLY on every new connection, so any replica may coordinate reads. */
  readonlyReads?: boolean;
  /** How long a command may take before the client gives up on it (an open unknown). */
  opTimeoutMs: number;
  /** Connect plus the connection's setup commands. */
  setupTimeoutMs?: number;
  random?: () => number;
}

const MAX_REDIRECTS = 5;
const MAX_CONNECT_ATTEMPTS = 3;
const REFRESH_MIN_INTERVAL_MS = 300;

/**
 * The relaying node stopped waiting for the slot's primary (forwarder.ts): the primary stamps the
 * command when the request reaches it, which may be after the client saw this error, so its effect
 * is not bounded by the error's time.
 */
export function relayGaveUp(message: string): boolean {
  return message.includes("the slot's primary did not answer");
}

/** Errors a coordinator returns before touching any replica's data. */
export function definitelyNoEffect(message: string): boolean {
  return message.startsWith('CLUSTERDOWN') || message.startsWith('TRYAGAIN') || message.startsWith('LOADING') ||
    message.startsWith('CROSSSLOT') || message.startsWith('NOAUTH') || message.startsWith('WRONGTYPE') ||
    (message.startsWith('NOREPLICAS') && message.includes('answered the read'));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class FaultClusterClient {
  private readonly slots: Array<string | undefined> = new Array<string | undefined>(16384);
  private readonly addresses = new Map<string, Address>();
  private readonly conns = new Map<string, RespConnection>();
  private readonly connecting = new Map<string, Promise<RespConnection>>();
  private lastRefresh = 0;
  private refreshing: Promise<void> | undefined;
  private readonly random: () => number;
  private closed = false;

  constructor(private readonly opts: FaultClientOptions) {
    for (const s of opts.seeds) this.addresses.set(addrKey(s), s);
    this.random = opts.random ?? Math.random;
  }

  private get setupTimeoutMs(): number {
    return this.opts.setupTimeoutMs ?? 1000;
  }

  private randomSeed(except?: string): string {
    const keys = [...this.addresses.keys()].filter((k) => k !== except);
    const pool = keys.length > 0 ? keys : [...this.addresses.keys()];
    return pool[Math.floor(this.random() * pool.length)]!;
  }

  /** An open, set-up connection to `key`; rejects (nothing of the caller's sent) when it cannot have one. */
  private async connection(key: string): Promise<RespConnection> {
    const existing = this.conns.get(key);
    if (existing?.alive) return existing;
    this.conns.delete(key);
    let p = this.connecting.get(key);
    if (p === undefined) {
      p = this.openConnection(key).finally(() => this.connecting.delete(key));
      this.connecting.set(key, p);
    }
    return p;
  }

  private async openConnection(key: string): Promise<RespConnection> {
    if (this.closed) throw new TransportError('refused', 'client closed');
    const address = this.addresses.get(key);
    if (address === undefined) throw new TransportError('refused', `unknown node ${key}`);
    const conn = await RespConnection.open(address, this.setupTimeoutMs);
    try {
      const setup: string[][] = [];
      if (this.opts.r !== undefined || this.opts.w !== undefined) {
        setup.push(['RINGKV.CONSISTENCY', ...(this.opts.r !== undefined ? ['R', String(this.opts.r)] : []), ...(this.opts.w !== undefined ? ['W', String(this.opts.w)] : [])]);
      }
      if (this.opts.readonlyReads) setup.push(['READONLY']);
      for (const cmd of setup) {
        const reply = await conn.call(cmd, this.setupTimeoutMs);
        if (reply instanceof ReplyError) throw new TransportError('refused', `${cmd[0]}: ${reply.message}`);
      }
    } catch (e) {
      conn.close();
      throw e instanceof TransportError ? new TransportError('refused', `setup of ${key}: ${e.message}`) : e;
    }
    if (this.closed) {
      conn.close();
      throw new TransportError('refused', 'client closed');
    }
    this.conns.set(key, conn);
    return conn;
  }

  /** Reloads the slot map from one node (at most every REFRESH_MIN_INTERVAL_MS); failures are ignored. */
  refreshSlots(force = false): Promise<void> {
    if (this.refreshing) return this.refreshing;
    if (!force && Date.now() - this.lastRefresh < REFRESH_MIN_INTERVAL_MS) return Promise.resolve();
    this.lastRefresh = Date.now();
    this.refreshing = this.loadSlots().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async loadSlots(): Promise<void> {
    const order = [...this.addresses.keys()].sort(() => this.random() - 0.5);
    for (const key of order) {
      try {
        // A connection of its own: a slow reply to an operation must not hold the map up, and the
        // map's timeout must not abandon an operation.
        const [reply] = await nodeCall(this.addresses.get(key)!, [['CLUSTER', 'SLOTS']], this.setupTimeoutMs);
        if (!Array.isArray(reply)) continue;
        for (const range of reply) {
          if (!Array.isArray(range) || range.length < 3) continue;
          const [start, end, primary] = range;
          if (typeof start !== 'number' || typeof end !== 'number' || !Array.isArray(primary)) continue;
          const [host, port] = primary;
          if (typeof host !== 'string' || typeof port !== 'number') continue;
          const a = { host, port };
          this.addresses.set(addrKey(a), a);
          for (let s = start; s <= end; s++) this.slots[s] = addrKey(a);
        }
        return;
      } catch {
        /* next node */
      }
    }
  }

  /** The node (host:port) the slot map names for `slot`, if any. */
  ownerOf(slot: number): string | undefined {
    return this.slots[slot];
  }

  addressOf(node: string): Address | undefined {
    return this.addresses.get(node);
  }

  /** An open connection to `node` with this client's setup done (the one `call` uses). */
  connectionTo(node: string): Promise<RespConnection> {
    return this.connection(node);
  }

  /** Forgets the connection to `node` (after a failure), so the next use opens a new one. */
  dropConnection(node: string): void {
    this.conns.get(node)?.close();
    this.conns.delete(node);
  }

  /** Runs one keyed command once (following MOVED) and classifies the outcome. */
  async call(key: string, args: readonly string[], isWrite: boolean): Promise<CallOutcome> {
    const slot = keySlot(Buffer.from(key));
    let target = this.slots[slot] ?? this.randomSeed();
    let redirects = 0;
    let connectFailures = 0;
    for (;;) {
      let conn: RespConnection;
      try {
        conn = await this.connection(target);
      } catch (e) {
        // Nothing was sent: another node may serve the slot once the failure detector agrees.
        if (++connectFailures >= MAX_CONNECT_ATTEMPTS) return { status: 'fail', open: false, node: target, error: (e as Error).message };
        await this.refreshSlots(true);
        const next = this.slots[slot];
        target = next !== undefined && next !== target ? next : this.randomSeed(target);
        await sleep(50);
        continue;
      }
      let reply: Reply;
      try {
        reply = await conn.call(args, this.opts.opTimeoutMs);
      } catch (e) {
        const err = e as TransportError;
        this.conns.delete(target);
        void this.refreshSlots();
        if (err.kind === 'refused') {
          // The connection was known dead before the command was written: nothing sent.
          if (++connectFailures >= MAX_CONNECT_ATTEMPTS) return { status: 'fail', open: false, node: target, error: err.message };
          continue;
        }
        return { status: isWrite ? 'unknown' : 'fail', open: isWrite && err.kind === 'timeout', node: target, error: `${err.kind}: ${err.message}` };
      }
      if (reply instanceof ReplyError) {
        const m = reply.message;
        if (m.startsWith('MOVED ') || m.startsWith('ASK ')) {
          const to = m.split(' ')[2] ?? '';
          const i = to.lastIndexOf(':');
          const a = { host: to.slice(0, i), port: Number(to.slice(i + 1)) };
          if (++redirects > MAX_REDIRECTS || !a.host || !Number.isInteger(a.port)) return { status: 'fail', open: false, node: target, error: m };
          this.addresses.set(addrKey(a), a);
          if (m.startsWith('MOVED ')) this.slots[slot] = addrKey(a);
          target = addrKey(a);
          continue;
        }
        if (m.startsWith('NOREPLICAS') || m.startsWith('CLUSTERDOWN')) void this.refreshSlots();
        if (!isWrite || definitelyNoEffect(m)) return { status: 'fail', open: false, node: target, error: m };
        return { status: 'unknown', open: relayGaveUp(m), node: target, error: m };
      }
      return { status: 'ok', reply, open: false, node: target };
    }
  }

  close(): void {
    this.closed = true;
    for (const c of this.conns.values()) c.close();
    this.conns.clear();
  }
}

/** A single connection to one node with setup commands, for per-node probes (READONLY reads, INFO). */
export async function nodeCall(address: Address, commands: ReadonlyArray<readonly string[]>, timeoutMs = 2000): Promise<Reply[]> {
  const conn = await RespConnection.open(address, timeoutMs);
  try {
    const out: Reply[] = [];
    for (const c of commands) out.push(await conn.call(c, timeoutMs));
    return out;
  } finally {
    conn.close();
  }
}
