import type { CommandSequencer } from './command-sequencer.js';
import type { Protocol } from '../protocol/types.js';
import { ClientSubscriptions } from '../pubsub/client-subscriptions.js';
import type { TrackingState } from './client-tracking.js';
import type { AclUser } from '../acl/acl-user.js';

/**
 * One try of a blocking command (BLPOP …) outside MULTI and scripts. A command that finds nothing
 * to serve records what it waits for in `wait` and writes no reply; the connection then blocks.
 */
export interface BlockAttempt {
  /** A try after a wake-up: a key of another type counts as empty (Redis 7.0 keeps such clients blocked). */
  readonly retry: boolean;
  wait?: { keys: Buffer[]; timeoutMs: number };
  /**
   * What the first try fixed for the later ones, carried from try to try: XREAD's `$` means the
   * stream's last id when the command was sent, not when a later try runs.
   */
  memo?: unknown;
}

/** A command queued between MULTI and EXEC. */
export interface QueuedCommand {
  name: string;
  argv: Buffer[];
}

/** What EXEC runs, taken from the session when EXEC is sent (later commands may start a new MULTI). */
export interface TransactionSnapshot {
  queued: QueuedCommand[];
  /** A queued command was rejected: answer EXECABORT. */
  dirty: boolean;
  watched: WatchedKey[];
  /** A watched key outside the transaction's slot changed (cluster mode checks those first). */
  staleWatch?: boolean;
}

/** What WATCH remembers of a key: the version of its latest write, and whether that write deleted it. */
export interface WatchedKey {
  key: Buffer;
  version: Buffer | undefined;
  /** The version is a deletion's: its tombstone may be purged later, which changes nothing. */
  deleted?: boolean;
}

/** Whether a watched key still has the version it had when watched. */
export function watchHolds(w: Omit<WatchedKey, 'key'>, now: Buffer | undefined): boolean {
  if (now === undefined) return w.version === undefined || w.deleted === true;
  return w.version !== undefined && now.equals(w.version);
}

/** Per-connection state commands may read or change (CLIENT, HELLO, MULTI, READONLY …). */
/** REPLCONF's requests of a SYNC: an RDB file only (no replication stream), which parts, and the EOF-marked transfer. */
export interface SnapshotRequest {
  rdbOnly: boolean;
  data: boolean;
  functions: boolean;
  eofCapable: boolean;
}

export interface SessionState {
  readonly id: number;
  readonly addr: string;
  readonly laddr: string;
  /** Connected through the Unix socket (`unixsocket`): CLIENT LIST's flag U. */
  readonly unixSocket?: boolean;
  readonly fd: number;
  readonly createdAt: number;
  name: string;
  libName: string;
  libVer: string;
  proto: Protocol;
  authenticated: boolean;
  /**
   * The ACL user commands run as; undefined runs anything (sessions a peer relays, whose client
   * was checked where it connected).
   */
  user: AclUser | undefined;
  /** READONLY was sent: reads may be served by any replica of the slot. */
  readonlyMode: boolean;
  /** CLIENT NO-EVICT ON: never closed by maxmemory-clients. */
  noEvict: boolean;
  /** ASKING was sent: the next command may touch an importing slot. */
  asking: boolean;
  /** Inside MULTI: queued commands; undefined when not in a transaction. */
  multi: QueuedCommand[] | undefined;
  /** A queued command was rejected: EXEC must answer EXECABORT. */
  multiDirty: boolean;
  /** WATCHed keys and the version each had (undefined = absent) when watched. */
  watched: Map<string, WatchedKey>;
  /**
   * Cluster mode: watches this connection relayed to another node cannot be checked where its
   * EXEC runs (the slot's route changed between WATCH and EXEC): the transaction must abort.
   */
  watchLost?: boolean;
  /** Per-connection quorum override set with RINGKV.CONSISTENCY; undefined = cluster defaults. */
  consistency: { r?: number; w?: number } | undefined;
  lastCommand: string;
  lastInteraction: number;
  /** Ask the connection to close once pending replies are written. */
  closeAfterReply: boolean;
  /** The last replicated write's acknowledgements (WAIT reads it). */
  lastWrite: { acked: number; allAcked: Promise<number> } | undefined;
  /** Number of keyspace writes this connection made (replies wait for their durability). */
  writes: number;
  /** Keeps the connection's commands in order; created on its first command. */
  sequencer: CommandSequencer | undefined;
  /** Set while a blocking command runs as a try that may block (blocked-clients.ts). */
  blockAttempt: BlockAttempt | undefined;
  /** Request bytes held: unparsed ones and the arguments of a request in progress (query buffer limit). */
  readonly queryBufferBytes: number;
  /** Of those, the arguments already parsed of a request not yet complete (CLIENT LIST argv-mem). */
  readonly partialArgvBytes: number;
  /** Room left in the query buffer's allocation (CLIENT LIST qbuf-free). */
  readonly queryBufferFree: number;
  /** Replies of the read being processed, not yet queued (CLIENT LIST obl). */
  readonly replyBufferBytes: number;
  /** Replies queued behind the socket, waiting their turn or for the socket (CLIENT LIST oll). */
  readonly outputListLength: number;
  /** Reply bytes queued and not yet taken by the socket (CLIENT LIST omem). */
  readonly outputBufferBytes: number;
  /** Closes the connection at once (CLIENT KILL). */
  kill(): void;
  /** Pub/sub channels, patterns and shard channels the connection listens to. */
  readonly subscriptions: ClientSubscriptions;
  /** Queues an out-of-band pub/sub frame, encoded for `proto`; never inside a reply being written. */
  deliver(frame: Buffer): void;
  /**
   * Sends what `produce` writes, raw, after every reply queued before it, then closes the
   * connection (SYNC's RDB transfer); `write` waits while the client is behind and rejects once
   * it is gone. Absent on sessions without a socket of their own.
   */
  streamThenClose?(produce: (write: (chunk: Buffer) => Promise<void>) => Promise<void>): Promise<void>;
  /** What REPLCONF asked of a snapshot (rdb-only, rdb-filter-only, capa eof); undefined until it did. */
  snapshotRequest?: SnapshotRequest;
  /** CLIENT TRACKING settings; undefined while tracking is off. */
  tracking: TrackingState | undefined;
  /** Came in on the TLS port: a TLS cluster announces TLS ports to it, plain ports to the others (Redis 7.0). */
  tls: boolean;
}

/** The per-connection state every session starts with; sockets and relayed sessions add their own parts. */
export abstract class SessionBase {
  readonly createdAt = Date.now();
  name = '';
  libName = '';
  libVer = '';
  asking = false;
  noEvict = false;
  multi: QueuedCommand[] | undefined = undefined;
  multiDirty = false;
  watched = new Map<string, WatchedKey>();
  consistency: { r?: number; w?: number } | undefined = undefined;
  lastCommand = 'NULL';
  lastInteraction = Date.now();
  closeAfterReply = false;
  writes = 0;
  lastWrite: { acked: number; allAcked: Promise<number> } | undefined = undefined;
  sequencer: CommandSequencer | undefined = undefined;
  blockAttempt: BlockAttempt | undefined = undefined;
  readonly subscriptions = new ClientSubscriptions();
  tracking: TrackingState | undefined = undefined;
  tls = false;
  user: AclUser | undefined = undefined;

  /** Sessions without a socket (cluster-proxy relays) have nowhere to deliver to. */
  deliver(_frame: Buffer): void {}
}

/** Takes the transaction out of the session: EXEC and errors after MULTI end it. */
export function takeTransaction(session: SessionState): TransactionSnapshot {
  const tx: TransactionSnapshot = { queued: session.multi ?? [], dirty: session.multiDirty, watched: [...session.watched.values()] };
  if (session.watchLost === true) tx.staleWatch = true;
  session.watchLost = false;
  session.multi = undefined;
  session.multiDirty = false;
  session.watched.clear();
  return tx;
}
