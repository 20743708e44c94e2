import { ReplyWriter } from '../protocol/reply-writer.js';
import type { DeferredReply, ReplySink } from './connection.js';
import { replyWhenDurable } from './durable-reply.js';
import type { SessionState } from './session-state.js';

/** What one try of a blocking command gave: its reply, or the keys it waits on (it wrote nothing). */
export type AttemptResult = { kind: 'reply'; bytes: Buffer } | { kind: 'wait'; keys: Buffer[]; timeoutMs: number };

/**
 * Runs the command once as an ordinary command (standalone: on the local keyspace; cluster: as a
 * coordinated job, through the slot's lease and quorum), `retry` after a wake-up.
 */
export type Attempt = (retry: boolean) => AttemptResult | Promise<AttemptResult>;

export interface BlockHooks {
  /** Why the command may no longer wait here (MOVED once the slot is served elsewhere); undefined while it may. */
  routeError?: () => string | undefined;
  /**
   * The wait ended without a try serving it: a timeout, CLIENT UNBLOCK (`unblocked`, which Redis
   * counts as a failed call) or an error (the key went); `reply` is what the client was sent.
   */
  endedUnserved?: (unblocked: boolean, reply: Buffer) => void;
}

interface Waiter {
  readonly session: SessionState;
  readonly attempt: Attempt;
  readonly hooks: BlockHooks;
  keys: string[];
  reply: DeferredReply | undefined;
  timer: NodeJS.Timeout | undefined;
  /** A try is running (a cluster try waits for its quorum round). */
  inFlight: boolean;
  /** A key changed while the try was running: try again (or pass the wake on) when it ends. */
  again: boolean;
  /** A timeout or CLIENT UNBLOCK arrived while a try ran: answered with this unless the try served. */
  endWith: Buffer | undefined;
  /** That end was CLIENT UNBLOCK. */
  endUnblocked: boolean;
  finished: boolean;
}

const UNBLOCKED_ERROR = Buffer.from('-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n');
/** Longest single timer; longer timeouts re-arm (Node timers hold at most 2^31-1 ms). */
const TIMER_MAX_MS = 2 ** 31 - 1;
/** How often waiters check that their slot is still served here (cluster). */
const ROUTE_CHECK_MS = 100;

/**
 * Clients blocked on keys (BLPOP, BLMOVE, BLMPOP, and later BZPOPMIN …), one FIFO queue per key as
 * in Redis. A blocked command holds its connection's later commands (its reply slot is reserved)
 * but never the event loop or other connections.
 *
 * Wake-ups: every change of a key's record on this node (a write coordinated here, or applied from
 * a replica batch, a hint, anti-entropy) is reported by keyChanged(). For each changed key, the
 * first waiter in its queue tries its command again, as an ordinary command; at most one waiter per
 * key tries at a time, so FIFO order holds. A try that serves answers the client and leaves every
 * queue; its pop changed the key again, which wakes the next waiter. A try that finds nothing
 * keeps its place. Never popping twice follows from each try being an ordinary command.
 */
export class BlockedClients {
  private readonly byKey = new Map<string, Waiter[]>();
  private readonly bySession = new Map<SessionState, Waiter>();
  private readonly ready = new Set<string>();
  /** Sessions whose connection closed: one whose first try was still running must not wait afterwards. */
  private readonly closed = new WeakSet<SessionState>();
  private scheduled = false;
  /** A busy script is between steps: waiters are served once it ended, not on its partial writes. */
  private held = false;
  private routeTimer: NodeJS.Timeout | undefined;

  constructor(private readonly awaitDurable: (cb: (err?: Error) => void) => boolean) {}

  /** Blocked clients (INFO blocked_clients). */
  get count(): number {
    return this.bySession.size;
  }

  isBlocked(session: SessionState): boolean {
    return this.bySession.has(session);
  }

  /**
   * Runs a blocking command: answers in line when its first try serves (or fails), else reserves
   * its reply and waits. The first try's reply is written only once it is known not to block.
   */
  run(session: SessionState, sink: ReplySink, attempt: Attempt, hooks: BlockHooks = {}): void {
    let result: AttemptResult | Promise<AttemptResult>;
    try {
      result = attempt(false);
    } catch (err) {
      sink.out.error(`ERR ${(err as Error).message}`);
      return;
    }
    if (!(result instanceof Promise)) {
      if (result.kind === 'reply') {
        sink.out.raw(result.bytes);
        return;
      }
      this.register(session, sink.defer(), attempt, hooks, result);
      return;
    }
    const reply = sink.defer();
    result.then(
      (r) => {
        if (r.kind === 'reply') {
          reply.out.raw(r.bytes);
          reply.done();
          return;
        }
        this.register(session, reply, attempt, hooks, r);
        // A change between the try's read and now woke nobody: try once more, now that it waits.
        const w = this.bySession.get(session);
        if (w !== undefined) for (const k of w.keys) this.keyChanged(Buffer.from(k, 'latin1'));
      },
      (err: unknown) => {
        reply.out.error(`ERR ${(err as Error).message}`);
        reply.done();
      },
    );
  }

  private register(session: SessionState, reply: DeferredReply, attempt: Attempt, hooks: BlockHooks, wait: { keys: Buffer[]; timeoutMs: number }): void {
    // Closed while its first try ran (a cluster try is asynchronous): it never waits.
    if (this.closed.has(session)) return;
    const w: Waiter = {
      session, attempt, hooks, reply, timer: undefined, inFlight: false, again: false, endWith: undefined, endUnblocked: false, finished: false,
      keys: [...new Set(wait.keys.map((k) => k.toString('latin1')))],
    };
    this.bySession.set(session, w);
    for (const k of w.keys) {
      let q = this.byKey.get(k);
      if (q === undefined) this.byKey.set(k, (q = []));
      q.push(w);
    }
    if (wait.timeoutMs > 0) this.arm(w, Date.now() + wait.timeoutMs);
    if (hooks.routeError !== undefined && this.routeTimer === undefined) {
      this.routeTimer = setInterval(() => this.checkRoutes(), ROUTE_CHECK_MS);
      this.routeTimer.unref();
    }
  }

  private arm(w: Waiter, deadline: number): void {
    const left = deadline - Date.now();
    w.timer = setTimeout(() => {
      if (left > TIMER_MAX_MS) return this.arm(w, deadline);
      this.end(w, nullArray(w.session));
    }, Math.max(0, Math.min(left, TIMER_MAX_MS)));
    w.timer.unref();
  }

  /** A key's record changed on this node (store.onVersionChange), by user key. */
  keyChanged(key: Buffer): void {
    if (this.byKey.size === 0) return;
    const id = key.toString('latin1');
    if (!this.byKey.has(id)) return;
    this.ready.add(id);
    if (this.scheduled) return;
    this.scheduled = true;
    // After the write that reported it has finished (the store reports from inside it).
    queueMicrotask(() => this.serveReady());
  }

  /**
   * Every key changed at once (FLUSHALL): the first waiter of each queue tries again. Most find
   * nothing and keep waiting, as in Redis; an XREADGROUP whose stream went is answered.
   */
  allKeysChanged(): void {
    for (const k of this.byKey.keys()) this.ready.add(k);
    if (this.ready.size === 0 || this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => this.serveReady());
  }

  /** Stops serving woken waiters until release(): what changes meanwhile is served then. */
  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
    if (this.ready.size > 0 && !this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.serveReady());
    }
  }

  private serveReady(): void {
    this.scheduled = false;
    if (this.held) return;
    while (this.ready.size > 0) {
      const keys = [...this.ready];
      this.ready.clear();
      for (const k of keys) {
        const first = this.byKey.get(k)?.[0];
        if (first === undefined) continue;
        if (first.inFlight) first.again = true;
        else this.retry(first);
      }
    }
  }

  private retry(w: Waiter): void {
    const moved = w.hooks.routeError?.();
    if (moved !== undefined) return this.finish(w, Buffer.from(`-${moved}\r\n`));
    w.inFlight = true;
    w.again = false;
    let result: AttemptResult | Promise<AttemptResult>;
    try {
      result = w.attempt(true);
    } catch (err) {
      result = { kind: 'reply', bytes: Buffer.from(`-ERR ${(err as Error).message}\r\n`) };
    }
    if (result instanceof Promise) {
      result.then(
        (r) => this.tried(w, r),
        (err: unknown) => this.tried(w, { kind: 'reply', bytes: Buffer.from(`-ERR ${(err as Error).message}\r\n`) }),
      );
    } else this.tried(w, result);
  }

  private tried(w: Waiter, r: AttemptResult): void {
    w.inFlight = false;
    const again = w.again;
    w.again = false;
    if (r.kind === 'reply') this.finish(w, r.bytes);
    else if (w.endWith !== undefined) {
      this.finish(w, w.endWith);
      w.hooks.endedUnserved?.(w.endUnblocked, w.endWith);
    }
    // A change the try may not have seen: wake this waiter's keys again (it, or the next in line).
    if (again || r.kind === 'reply') for (const k of w.keys) this.keyChanged(Buffer.from(k, 'latin1'));
  }

  /** Ends a wait with `bytes` now, or once the running try ends if it does not serve. */
  private end(w: Waiter, bytes: Buffer, unblocked = false): void {
    if (w.finished) return;
    if (w.inFlight) {
      w.endWith = bytes;
      w.endUnblocked = unblocked;
    } else {
      this.finish(w, bytes);
      w.hooks.endedUnserved?.(unblocked, bytes);
    }
  }

  private finish(w: Waiter, bytes: Buffer): void {
    if (w.finished) return;
    this.remove(w);
    const reply = w.reply!;
    reply.out.raw(bytes);
    // A try that wrote (a pop) answers once its write is durable, as any write does, and with an
    // error when it cannot be (the element was not durably taken).
    if (!replyWhenDurable(this.awaitDurable, reply)) reply.done();
  }

  private remove(w: Waiter): void {
    w.finished = true;
    if (w.timer) clearTimeout(w.timer);
    this.bySession.delete(w.session);
    for (const k of w.keys) {
      const q = this.byKey.get(k);
      if (q === undefined) continue;
      const i = q.indexOf(w);
      if (i >= 0) q.splice(i, 1);
      if (q.length === 0) this.byKey.delete(k);
    }
    if (this.bySession.size === 0 && this.routeTimer !== undefined) {
      clearInterval(this.routeTimer);
      this.routeTimer = undefined;
    }
  }

  /** CLIENT UNBLOCK: answers the blocked client as a timeout would, or with -UNBLOCKED. False when it is not blocked. */
  unblock(session: SessionState, how: 'timeout' | 'error'): boolean {
    const w = this.bySession.get(session);
    if (w === undefined || w.finished) return false;
    this.end(w, how === 'error' ? UNBLOCKED_ERROR : nullArray(session), true);
    return true;
  }

  /** The connection closed: it stops waiting (nothing is answered). */
  cancel(session: SessionState): void {
    this.closed.add(session);
    const w = this.bySession.get(session);
    if (w !== undefined) this.remove(w);
  }

  private checkRoutes(): void {
    for (const w of [...this.bySession.values()]) {
      if (w.inFlight || w.finished) continue;
      const moved = w.hooks.routeError?.();
      if (moved !== undefined) this.finish(w, Buffer.from(`-${moved}\r\n`));
    }
  }
}

/** What a timed-out list (and sorted-set) block answers: a null array (RESP2 *-1, RESP3 _), as Redis 7.0. */
function nullArray(session: SessionState): Buffer {
  const out = new ReplyWriter(session.proto, 16);
  out.nullArray();
  return out.take();
}
