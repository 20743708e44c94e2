import type { DebugKnobs } from './debug-knobs.js';
import type { Saves } from './saves.js';
import type { OutputLimits } from '../core/output-limits.js';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { Store } from '../storage/store.js';
import type { SessionState } from './session-state.js';
import type { BlockedClients } from './blocked-clients.js';
import type { CommandSpec } from '../commands/spec.js';
import type { ServerStats } from './stats.js';
import type { ClusterView } from '../cluster/cluster-replies.js';
import type { PubSubHub } from '../pubsub/pubsub-hub.js';
import type { KeyspaceNotifier } from '../pubsub/keyspace-notifier.js';
import type { MonitorFeed } from './monitor-feed.js';
import type { ClientPause } from './client-pause.js';
import type { ClientTracking } from './client-tracking.js';
import type { Evictor } from './eviction/evictor.js';
import type { AclRegistry } from '../acl/acl-registry.js';

/** Node-wide services command handlers may use. Implemented by the server; faked nowhere. */
export interface NodeServices {
  readonly config: Config;
  readonly logger: Logger;
  readonly store: Store;
  readonly stats: ServerStats;
  /** 40-hex node id, persisted. */
  readonly nodeId: string;
  readonly startedAt: number;
  /** SAVE, BGSAVE and LASTSAVE: checkpoints asked for (saves.ts). */
  readonly saves: Saves;
  readonly commands: ReadonlyMap<string, CommandSpec>;
  /** ACL users, the default user and the ACL log. */
  readonly acl: AclRegistry;
  /**
   * Cluster mode: whether this node is the primary of a slot. Node-local key listings (KEYS, SCAN,
   * DBSIZE, RANDOMKEY, INFO keyspace) cover only those slots, so the union over all primaries lists
   * every key exactly once, as with Redis Cluster masters. Undefined in standalone mode.
   */
  servesSlot: ((slot: number) => boolean) | undefined;
  /** Keys this node answers for in listings: all of them standalone, its primary slots in a cluster. */
  listedKeyCount(): number;
  /** The data-path clock in Unix ms (versions, expiry). */
  now(): number;
  /** Port clients connect to (after binding port 0, the real one). */
  readonly port: number;
  clients(): Iterable<SessionState>;
  /** Clients waiting in blocking commands (INFO blocked_clients, CLIENT UNBLOCK). */
  readonly blockedClients: BlockedClients;
  /** This node's pub/sub subscriptions and delivery. */
  readonly pubsub: PubSubHub;
  /** Keyspace notifications of the commands this node runs (notify-keyspace-events). */
  readonly notifier: KeyspaceNotifier;
  /** MONITOR connections. */
  readonly monitor: MonitorFeed;
  /** CLIENT PAUSE / UNPAUSE. */
  readonly pause: ClientPause;
  /** CLIENT TRACKING: remembered keys and invalidations. */
  readonly tracking: ClientTracking;
  /** client-output-buffer-limit, parsed (kept up to date by CONFIG SET). */
  readonly outputLimits: OutputLimits;
  /** DEBUG's testing knobs (active expiry, noscript in scripts). */
  readonly debug: DebugKnobs;
  /** A connected client by id (CLIENT TRACKING REDIRECT). */
  client(id: number): SessionState | undefined;
  /**
   * Holds every other session's writes to `keys` until the returned function is called
   * (server/key-fence.ts): a snapshot writing a large collection a page at a time. Resolves once
   * the writes on them already under way here have landed.
   */
  fenceKeys?(owner: SessionState, keys: readonly Buffer[]): Promise<() => void>;
  /** Cluster mode facts INFO and CLUSTER need; undefined when cluster-enabled is no. */
  readonly cluster: ClusterFacade | undefined;
  /** maxmemory: used memory, eviction, key access times and frequencies (server/eviction/). */
  readonly eviction?: Evictor;
  /** Wipes the keyspace (FLUSHALL/FLUSHDB); resolves when durable. */
  flushAll(): Promise<void>;
  /** EXEC: runs the session's queued commands against `ks`, replying with one array. */
  execTransaction(session: SessionState, out: import('../protocol/reply-writer.js').ReplyWriter, ks: import('../commands/keyspace.js').Keyspace): void;
  /** Asks the process to stop (SHUTDOWN). */
  shutdown(): void;
  /**
   * A script that passed busy-reply-threshold and yields to the event loop between steps: every
   * other command but those flagged allow_busy is answered -BUSY until it ends (scripting/engine.ts).
   */
  busyScript?: BusyScript;
}

export interface BusyScript {
  /** EVAL family (SCRIPT KILL stops it) or a function (FUNCTION KILL). */
  readonly isEval: boolean;
}

/** The part of the cluster layer that commands see (CLUSTER, INFO, WAIT). */
export interface ClusterFacade extends ClusterView {
  infoSection(): string;
  /** The cluster bus's authenticated connections (CLUSTER LINKS); absent where there is no bus (simulation). */
  busLinks?(): import('../cluster/bus/types.js').BusLinkInfo[];
  meet(host: string, port: number, busPort: number): void;
  /** Takes this node off the ring (RINGKV.LEAVE). */
  leave(): void;
  broadcastFlush(): void;
  /** Function libraries reach every member (scripting/function-document.ts; receivers merge). */
  broadcastFunctions(doc: import('../scripting/function-document.js').FunctionDocument): void;
  /** PUBLISH reaches every node: sent to each other member over the bus (at most once, not stored). */
  broadcastPublish(channel: Buffer, message: Buffer): void;
  /** SPUBLISH reaches the slot's replicas: sent to each other node of its preference list. */
  shardPublish(slot: number, channel: Buffer, message: Buffer): void;
  /**
   * Anti-entropy digest (RINGKV.DIGEST): of one slot, or over the slots this node replicates;
   * undefined while the index is still being built.
   */
  antiEntropyDigest(slot?: number): bigint | undefined;
  /** The cluster and this node's background work as numbers (metrics, dashboard). */
  observation(): import('../cluster/cluster-observation.js').ClusterObservation;
}
