import { ReplyWriter } from '../protocol/reply-writer.js';
import type { SessionState } from './session-state.js';

/** A connection's CLIENT TRACKING settings. */
export interface TrackingState {
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  noloop: boolean;
  /** Client id invalidations go to instead (0: this connection). */
  redirect: number;
  prefixes: Buffer[];
  /** CLIENT CACHING yes|no, for the next command only. */
  caching: boolean | undefined;
}

const INVALIDATE_CHANNEL = '__redis__:invalidate';
/** Keys remembered for default-mode tracking before the oldest are invalidated (Redis: tracking-table-max-keys). */
export const TRACKING_KEYS_MAX = 1_000_000;

const EMPTY = Buffer.alloc(0);

function startsWith(key: Buffer, prefix: Buffer): boolean {
  return key.length >= prefix.length && key.subarray(0, prefix.length).equals(prefix);
}

/**
 * Server-assisted client-side caching (CLIENT TRACKING) as Redis 7.0: in default mode the keys a
 * client read are remembered and one invalidation is sent the first time each changes; in BCAST
 * mode every change of a key under one of the client's prefixes is sent, batched per event-loop
 * turn. Changes come from every write this node applies, whoever coordinated it (replica batches,
 * hints, read repair and anti-entropy included), and from FLUSHALL. Memory is bounded: past
 * tracking-table-max-keys remembered keys, the oldest are invalidated and forgotten.
 */
export class ClientTracking {
  private readonly keys = new Map<string, Set<number>>();
  /** Client ids over every remembered key (INFO tracking_total_items). */
  private items = 0;
  private readonly bcast = new Set<SessionState>();
  /** BCAST keys changed this turn, per client and per prefix of it they fall under (latin1 prefix → keys). */
  private readonly pendingBcast = new Map<SessionState, Map<string, Map<string, Buffer>>>();
  private flushScheduled = false;
  /** The session whose command is running (NOLOOP leaves its own writes out). */
  private writer: SessionState | undefined;
  /** Commands running on `writer`: nested ones (EXEC's) finish before the outer one. */
  private depth = 0;
  /** Invalidations for the running command's own connection: sent after its reply, as Redis 7.0 does. */
  private own: Buffer[] = [];

  constructor(private readonly client: (id: number) => SessionState | undefined, private keysMax = TRACKING_KEYS_MAX) {}

  /**
   * `tracking-table-max-keys` (0 = no limit): a smaller table invalidates and forgets its oldest
   * keys at once, as Redis does on its next cron.
   */
  setKeysMax(max: number): void {
    this.keysMax = max > 0 ? max : Infinity;
    while (this.keys.size > this.keysMax) this.evictOldest();
  }

  get idle(): boolean {
    return this.keys.size === 0 && this.bcast.size === 0;
  }

  enable(session: SessionState, state: TrackingState): void {
    session.tracking = state;
    if (state.bcast) this.bcast.add(session);
  }

  disable(session: SessionState): void {
    if (session.tracking === undefined) return;
    session.tracking = undefined;
    this.bcast.delete(session);
    this.pendingBcast.delete(session);
  }

  /** After a read-only command of a default-mode client: remember its keys (OPTIN/OPTOUT and CLIENT CACHING decide). */
  remember(session: SessionState, keys: readonly Buffer[]): void {
    const t = session.tracking;
    if (t === undefined || t.bcast || keys.length === 0) return;
    if (t.optin && t.caching !== true) return;
    if (t.optout && t.caching === false) return;
    for (const key of keys) {
      const id = key.toString('latin1');
      let ids = this.keys.get(id);
      if (ids === undefined) {
        this.keys.set(id, (ids = new Set()));
        if (this.keys.size > this.keysMax) this.evictOldest();
      }
      if (!ids.has(session.id)) {
        ids.add(session.id);
        this.items++;
      }
    }
  }

  /** INFO's tracking_total_keys, tracking_total_items and tracking_total_prefixes (distinct BCAST prefixes; none is ""). */
  totals(): { keys: number; items: number; prefixes: number } {
    const prefixes = new Set<string>();
    for (const s of this.bcast) {
      const t = s.tracking;
      if (t === undefined) continue;
      if (t.prefixes.length === 0) prefixes.add('');
      for (const p of t.prefixes) prefixes.add(p.toString('latin1'));
    }
    return { keys: this.keys.size, items: this.items, prefixes: prefixes.size };
  }

  private evictOldest(): void {
    const oldest = this.keys.keys().next().value;
    if (oldest !== undefined) this.invalidate(Buffer.from(oldest, 'latin1'), undefined);
  }

  /** A command of `session` starts (calls nest for EXEC's commands). */
  enter(session: SessionState): void {
    if (this.depth++ === 0) this.writer = session;
  }

  /** The command ended and its reply is written: its own invalidations follow it. */
  leave(): void {
    if (--this.depth > 0) return;
    const writer = this.writer;
    this.writer = undefined;
    if (this.own.length === 0 || writer === undefined) return;
    const frames = this.own;
    this.own = [];
    for (const f of frames) writer.deliver(f);
  }

  /** The session whose command is running (its own changes are what NOLOOP hides). */
  writerNow(): SessionState | undefined {
    return this.writer;
  }

  /** A key changed on this node; `writer` is the session whose command changed it (what NOLOOP hides), if any. */
  invalidate(key: Buffer, writer: SessionState | undefined): void {
    if (this.idle) return;
    const id = key.toString('latin1');
    const ids = this.keys.get(id);
    if (ids !== undefined) {
      this.keys.delete(id);
      this.items -= ids.size;
      for (const cid of ids) {
        const s = this.client(cid);
        if (s === undefined || s.tracking === undefined || s.tracking.bcast) continue;
        if (s.tracking.noloop && s === writer) continue;
        this.send(s, [key]);
      }
    }
    for (const s of this.bcast) {
      const t = s.tracking!;
      if (t.noloop && s === writer) continue;
      // As Redis keeps BCAST keys per registered prefix: a key is listed under each prefix of the
      // client it falls under, and each prefix is its own invalidation message.
      const prefixes = t.prefixes.length === 0 ? [EMPTY] : t.prefixes.filter((p) => startsWith(key, p));
      if (prefixes.length === 0) continue;
      let pending = this.pendingBcast.get(s);
      if (pending === undefined) this.pendingBcast.set(s, (pending = new Map()));
      for (const p of prefixes) {
        const name = p.toString('latin1');
        let keys = pending.get(name);
        if (keys === undefined) pending.set(name, (keys = new Map()));
        keys.set(id, key);
      }
      this.scheduleFlush();
    }
  }

  /** FLUSHALL / FLUSHDB: every tracking client is told everything is invalid (a null key list). */
  flushAll(clients: Iterable<SessionState>): void {
    this.keys.clear();
    this.items = 0;
    for (const s of clients) if (s.tracking !== undefined) this.send(s, null);
  }

  /** CLIENT CACHING applies to one command: cleared after any other command outside MULTI. */
  commandDone(session: SessionState, name: string): void {
    const t = session.tracking;
    if (t !== undefined && t.caching !== undefined && name !== 'client' && session.multi === undefined) t.caching = undefined;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const pending = [...this.pendingBcast];
      this.pendingBcast.clear();
      for (const [s, byPrefix] of pending) {
        if (s.tracking === undefined) continue;
        // Prefixes in byte order, as Redis walks its prefix tree.
        const names = [...byPrefix.keys()].sort((a, b) => Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1')));
        for (const name of names) this.send(s, [...byPrefix.get(name)!.values()]);
      }
    });
  }

  /**
   * An invalidation for `s`: a push to it (RESP3), or to its REDIRECT client: a push if that one
   * speaks RESP3, else a message on __redis__:invalidate if it is subscribed there.
   */
  private send(s: SessionState, keys: Buffer[] | null): void {
    const redirect = s.tracking?.redirect ?? 0;
    const target = redirect === 0 ? s : this.client(redirect);
    if (target === undefined) {
      if (s.proto === 3) s.deliver(frame(3, (w) => {
        w.pushHeader(2);
        w.bulk('tracking-redir-broken');
        w.int(redirect);
      }));
      return;
    }
    const list = (w: ReplyWriter): void => {
      if (keys === null) w.nullBulk();
      else w.bulkArray(keys);
    };
    if (target.proto === 3) {
      const f = frame(3, (w) => {
        w.pushHeader(2);
        w.bulk('invalidate');
        list(w);
      });
      if (target === this.writer) this.own.push(f);
      else target.deliver(f);
    } else if (target.subscriptions.channel.has(INVALIDATE_CHANNEL)) {
      target.deliver(frame(2, (w) => {
        w.arrayHeader(3);
        w.bulk('message');
        w.bulk(INVALIDATE_CHANNEL);
        list(w);
      }));
    }
  }
}

function frame(proto: 2 | 3, write: (w: ReplyWriter) => void): Buffer {
  const w = new ReplyWriter(proto, 64);
  write(w);
  return w.take();
}
