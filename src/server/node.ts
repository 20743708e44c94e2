import net from 'node:net';
import { Saves } from './saves.js';
import { chmod, unlink } from 'node:fs/promises';
import { bindAddresses, isMissingAddress, type BindAddress } from './bind.js';
import type { TLSSocket } from 'node:tls';
import { ConfigError } from '../core/config.js';
import { TLS_CONTEXT_SETTINGS } from '../core/tls-settings.js';
import { loadTlsMaterial, tlsProblem, type TlsMaterial } from './tls-context.js';
import { ClientTlsListeners } from './tls-server.js';
import { ElementReclaimer } from '../collections/reclaimer.js';
import { migrateLegacyHashes } from '../collections/migrate-legacy.js';
import { userKeyOf } from '../collections/record-keys.js';
import type { BlockedClients } from './blocked-clients.js';
import type http from 'node:http';
import { startMetricsServer } from './metrics.js';
import { randomBytes } from 'node:crypto';
import type { Config } from '../core/config.js';
import { ERR } from '../core/errors.js';
import { StartupError, errnoText, storageOpenError } from '../core/startup-error.js';
import type { Logger } from '../core/logger.js';
import { persistenceRefusal } from './persistence-refusal.js';
import type { CommandSpec } from '../commands/spec.js';
import { buildCommandTable } from '../commands/table.js';
import { DebugKnobs } from './debug-knobs.js';
import type { Keyspace } from '../commands/keyspace.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import type { ParserLimits } from '../protocol/types.js';
import { Store } from '../storage/store.js';
import { HintStore } from '../storage/hint-store.js';
import { checkLmdbHeaders, openDataDir, type DataDirLock } from '../storage/data-dir.js';
import { PROTECTED_MODE_DENIED, protectedModeRefuses } from './protected-mode.js';
import { Connection } from './connection.js';
import { Evictor } from './eviction/evictor.js';
import { ValueType } from '../storage/types.js';
import { MemoryGuard } from './eviction/memory-guard.js';
import { Dispatcher } from './dispatcher.js';
import { LocalKeyspace } from './local-keyspace.js';
import type { BusyScript, ClusterFacade, NodeServices } from './node-services.js';
import type { SessionState } from './session-state.js';
import { ServerStats } from './stats.js';
import { PubSubHub } from '../pubsub/pubsub-hub.js';
import { KeyspaceNotifier } from '../pubsub/keyspace-notifier.js';
import { MonitorFeed } from './monitor-feed.js';
import { ClientPause } from './client-pause.js';
import { ClientTracking } from './client-tracking.js';
import { clientMemory } from './client-memory.js';
import { scriptingFor } from '../scripting/engine.js';
import { clientsLimitBytes, clientsToEvict } from './client-eviction.js';
import { parseElementKey } from '../collections/record-keys.js';
import { keySlot } from '../cluster/slot.js';
import { parseOutputLimits, type OutputLimits } from '../core/output-limits.js';
import { Versioner } from './versioner.js';
import { ClusterNode } from '../cluster/cluster-node.js';
import type { MemberRecord } from '../cluster/membership.js';
import { AclError, AclRegistry } from '../acl/acl-registry.js';
import { splitUserDirective } from '../acl/acl-file.js';
import { readAclFile } from '../acl/acl-store.js';
import { closeRevokedSubscribers, closeSessionsOfRemoved } from './acl-sessions.js';
import { AclSync } from './acl-sync.js';

const INLINE_MAX = 64 * 1024;
const MULTIBULK_COUNT_MAX = 2_147_483_647;
/** Keys active expiry may remove per tick at effort 1 (Redis: 20 per loop, several loops). */
const EXPIRE_WORK_PER_TICK = 200;
/** Element records the reclaimer examines per unit of expiry work: a full sweep of 1M elements takes about 50 s at the defaults. */
const RECLAIM_PER_EXPIRE_WORK = 1;
const HLC_PERSIST_INTERVAL_MS = 500;

/** Listens and resolves, or rejects with the listen error (EADDRINUSE…) instead of emitting it later. */
function listenRaw(server: net.Server, where: { port: number; host: string; ipv6Only?: boolean } | { path: string }, backlog: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ ...where, backlog }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** listenRaw, its failure as one line naming the address and the setting that chose it. */
function listenOn(server: net.Server, where: { port: number; host: string; ipv6Only?: boolean } | { path: string }, backlog: number, role: string): Promise<void> {
  return listenRaw(server, where, backlog).catch((err: unknown) => {
    throw listenError(err, role);
  });
}

/**
 * Listens on a Unix socket. A socket file left by a node that died is removed first (nothing
 * answers on it); one a live server answers on is a StartupError, not taken over.
 */
async function listenUnix(server: net.Server, path: string, perm: number, backlog: number): Promise<void> {
  const role = 'clients (unixsocket)';
  try {
    await listenRaw(server, { path }, backlog);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || await answers(path)) throw listenError(err, role);
    await unlink(path).catch(() => undefined);
    await listenOn(server, { path }, backlog, role);
  }
  if (perm > 0) await chmod(path, perm);
}

/** Whether a server accepts connections on the Unix socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect({ path }, () => {
      probe.destroy();
      resolve(true);
    });
    probe.on('error', () => resolve(false));
  });
}

/** A listen failure as one line naming the address and which setting chose the port. */
function listenError(err: unknown, role: string): Error {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number; hostname?: string };
  if (e?.syscall === 'getaddrinfo') return new StartupError(`cannot listen on ${e.hostname ?? '?'} for ${role}: no such host (${e.code ?? 'ENOTFOUND'}); check bind`);
  if (e?.syscall !== 'listen' && e?.syscall !== 'bind') return err instanceof Error ? err : new Error(String(err));
  const hint = e.code === 'EADDRINUSE' ? '; is another server using it?' : e.code === 'EADDRNOTAVAIL' ? '; check bind' : '';
  const where = (e.port === undefined || e.port < 0) && e.address !== undefined ? e.address : `${e.address ?? '?'}:${e.port ?? '?'}`;
  // Redis's words lead for the client ports: scripts and test harnesses watch for them to retry on another port.
  const redisWords = role === 'clients (port)' ? `Failed listening on port ${e.port} (tcp), aborting: ` : role === 'TLS clients (tls-port)' ? `Failed listening on port ${e.port} (tls), aborting: ` : '';
  return new StartupError(`${redisWords}cannot listen on ${where} for ${role}: ${errnoText(err)}${hint}`);
}

/**
 * Element records an eviction frees at once; a bigger collection's rest goes in the background
 * (until then used memory still counts it, so eviction may take a little more than needed).
 */
const EVICTION_RECLAIM_RECORDS_MAX = 10_000;

/** How long shutdown waits for sockets to close before flushing the store anyway. */
const SHUTDOWN_SOCKET_GRACE_MS = 3000;

/** One ringkv node: the store, the command table and the client listener. */
export class RingkvNode implements NodeServices {
  readonly stats = new ServerStats();
  readonly debug = new DebugKnobs();
  /** maxmemory-clients is set (not 0). */
  private clientsLimitOn = false;
  readonly startedAt = Date.now();
  readonly saves: Saves;
  readonly commands: ReadonlyMap<string, CommandSpec>;
  readonly acl: AclRegistry;
  /** Cluster mode: ACL users spread to and from the peers. */
  aclSync: AclSync | undefined;
  readonly dispatcher: Dispatcher;
  readonly keyspace: LocalKeyspace;
  /** Drops the elements of deleted, overwritten and expired collections in the background. */
  readonly reclaimer: ElementReclaimer;
  readonly versioner: Versioner;
  readonly pubsub = new PubSubHub();
  readonly notifier = new KeyspaceNotifier(this.pubsub);
  readonly monitor = new MonitorFeed();
  readonly pause: ClientPause;
  readonly tracking = new ClientTracking((id) => this.sessionsById.get(id));
  private readonly sessionsById = new Map<number, Connection>();
  cluster: ClusterFacade | undefined = undefined;
  busyScript: BusyScript | undefined = undefined;
  readonly eviction: Evictor;
  private clusterNode: ClusterNode | undefined;
  private metrics: http.Server | undefined;
  port: number;
  /** The certificates and TLS rules in force (tls-port or tls-cluster); replaced by CONFIG SET. */
  tls: TlsMaterial | undefined;
  private clientTls: ClientTlsListeners | undefined;

  private readonly listeners: net.Server[] = [];
  private readonly sessions = new Set<Connection>();
  private readonly timers: NodeJS.Timeout[] = [];
  private stopping: Promise<void> | undefined;
  outputLimits: OutputLimits;
  /** The data directory's lock, released once the store is closed. */
  private dirLock: DataDirLock | undefined;

  private constructor(
    readonly config: Config,
    readonly logger: Logger,
    readonly store: Store,
    readonly nodeId: string,
    extraCommands: readonly CommandSpec[],
  ) {
    this.port = config.int('port');
    this.saves = new Saves(() => store.checkpointNow(), () => store.stats().lastCheckpointAt ?? 0, Date.now, this.startedAt);
    this.commands = buildCommandTable(extraCommands);
    this.acl = new AclRegistry(this.commands, {
      pubsubAllChannels: () => config.str('acl-pubsub-default') === 'allchannels',
      logMaxLen: () => config.int('acllog-max-len'),
    });
    loadStartupUsers(this.acl, config);
    this.acl.onRemoved = (users) => closeSessionsOfRemoved(this.sessions, users, this.acl.defaultUser);
    this.acl.onChanged = (users) => {
      closeRevokedSubscribers(this.sessions, users);
      this.aclSync?.localChange();
    };
    this.pause = new ClientPause((name) => this.commands.get(name));
    this.versioner = new Versioner(nodeId, Versioner.decodeHighWater(store.getMeta('hlc-high-water')));
    this.keyspace = new LocalKeyspace(store, this.versioner, this.stats);
    // Metadata of a deleted collection may still be travelling for the tombstone grace period.
    this.reclaimer = new ElementReclaimer(store, config.bool('cluster-enabled') ? config.int('tombstone-grace-ms') : 0);
    store.onVersionChange((slot, key, _old, _new, previous, next) => this.reclaimer.noteChange(slot, key, previous, next));
    this.dispatcher = new Dispatcher(this, this.commands, this.keyspace);
    // Standalone, an eviction is a local removal like active expiry; a cluster replaces the host.
    this.eviction = new Evictor(store, config, { mayEvict: () => true, evict: (slot, rk) => store.drop(slot, rk) }, logger);
    this.dispatcher.memory = new MemoryGuard(this.eviction, this.commands);
    this.eviction.onEvicted = (key) => this.notifier.evicted(key);
    this.eviction.afterCollectionEvicted = (now) => {
      this.stats.reclaimedElements += this.reclaimer.reclaimEndedNow(now, EVICTION_RECLAIM_RECORDS_MAX);
    };
    store.onVersionChange((_slot, rk, _old, _new, _previous, next) => {
      if (next === undefined || next.type === ValueType.Tombstone) this.eviction.forget(rk);
    });
    store.onFlushAll(() => this.eviction.sketch.clear());
    // Blocked clients wake on any change of their keys here: coordinated here or applied from peers.
    store.onVersionChange((_slot, rk) => {
      if (this.dispatcher.blocked.count === 0) return;
      const key = userKeyOf(rk);
      if (key !== undefined) this.dispatcher.blocked.keyChanged(key);
    });
    // The error reaches the reply: a held or blocked command must not report a write that failed.
    this.dispatcher.diskFailure = () => persistenceRefusal(this.store);
    this.dispatcher.awaitDurable = (cb) => {
      if (!this.store.hasPendingDurability()) return false;
      this.store.afterDurable(cb);
      return true;
    };
    this.outputLimits = parseOutputLimits(config.str('client-output-buffer-limit'));
    this.notifier.configure(config.str('notify-keyspace-events'));
    // `expired` comes from the node that expires the key: in a cluster, the slot's primary (every
    // replica drops it at the same instant, but only the primary tells).
    const expired = (slot: number, rk: Buffer): void => {
      const key = userKeyOf(rk);
      if (key !== undefined && (this.servesSlot === undefined || this.servesSlot(slot))) this.notifier.expired(key);
    };
    store.onExpired(expired);
    // CLIENT TRACKING: every change this node applies invalidates, whoever coordinated it.
    store.onVersionChange((_slot, rk, _old, _new, _previous, next) => {
      if (this.tracking.idle) return;
      const key = userKeyOf(rk) ?? parseElementKey(rk)?.userKey;
      // A record dropped here (expiry, eviction) was no client's write: NOLOOP does not hide it,
      // as Redis signals an expired key with no client.
      if (key !== undefined) this.tracking.invalidate(key, next === undefined ? undefined : this.tracking.writerNow());
    });
    store.onFlushAll(() => {
      this.tracking.flushAll(this.sessions);
      this.dispatcher.blocked.allKeysChanged();
    });
    this.keyspace.expiryPaused = () => this.pause.active;
    this.keyspace.onLazyExpire = (key) => {
      if (this.servesSlot === undefined || this.servesSlot(keySlot(key))) this.notifier.expired(key);
    };
    this.versioner.offsetMs = config.int('debug-clock-offset-ms');
    this.stats.latencyTracking = config.bool('latency-tracking');
    this.stats.setLatencyThreshold(config.int('latency-monitor-threshold'));
    store.onLatency = (event, ms) => this.stats.noteLatencyEvent(event, ms);
    config.onChange((name, value) => {
      if (name === 'client-output-buffer-limit') this.outputLimits = parseOutputLimits(value);
      if (name === 'notify-keyspace-events') this.notifier.configure(value);
      if (name === 'debug-clock-offset-ms') this.versioner.offsetMs = Number(value);
      if (name === 'appendfsync') this.store.setFsyncPolicy(value as 'always' | 'everysec' | 'no');
      if (name === 'requirepass') {
        // Redis 7.0: requirepass is the default user's only password (nopass when empty).
        this.acl.setDefaultPassword(value);
        if (value !== '') this.logger.info('requirepass changed');
      }
      if (name === 'latency-tracking') this.stats.latencyTracking = value === 'yes';
      if (name === 'latency-monitor-threshold') this.stats.setLatencyThreshold(Number(value));
      if (name === 'tracking-table-max-keys') this.tracking.setKeysMax(Number(value));
      if (name === 'maxmemory-clients') this.clientsLimitOn = value !== '0';
      // A lower limit evicts at once, as Redis applies it (CONFIG SET's next command already sees it).
      if (name === 'maxmemory-clients' || name === 'maxmemory') this.evictClients();
    });
    this.clientsLimitOn = config.str('maxmemory-clients') !== '0';
    this.tracking.setKeysMax(config.int('tracking-table-max-keys'));
  }

  /**
   * Locks the data directory, opens the store (replaying its commit log) and builds the node; does
   * not listen yet. Failures are StartupErrors with one line for the operator; what was opened is
   * closed again (the lock is released, so a corrected start can follow at once).
   */
  static async open(config: Config, logger: Logger, extraCommands: readonly CommandSpec[] = []): Promise<RingkvNode> {
    // Certificates are checked before the data directory is touched: a bad file costs nothing.
    const tls = startupTls(config);
    const dir = config.str('dir');
    const lock = openDataDir(dir);
    let store: Store;
    try {
      checkLmdbHeaders(dir);
      store = await Store.open({
        dir,
        appendfsync: config.str('appendfsync') as 'always' | 'everysec' | 'no',
        tombstoneGraceMs: config.bool('cluster-enabled') ? config.int('tombstone-grace-ms') : 0,
        checkpointIntervalMs: config.int('checkpoint-interval-ms'),
        logger,
      });
    } catch (err) {
      lock.release();
      throw storageOpenError(dir, err);
    }
    try {
      let idBuf = store.getMeta('node-id');
      if (!idBuf) {
        idBuf = Buffer.from(randomBytes(20).toString('hex'));
        await store.setMeta('node-id', idBuf);
      }
      if (config.bool('cluster-enabled')) await checkStaleData(store, config, logger, dir);
      const migrated = await migrateLegacyHashes(store);
      if (migrated > 0) logger.info({ hashes: migrated }, 'hashes moved to the per-element layout');
      const node = new RingkvNode(config, logger, store, idBuf.toString(), extraCommands);
      node.dirLock = lock;
      node.tls = tls;
      node.watchTlsSettings();
      const behind = node.versioner.startDelay(node.versioner.now());
      if (behind > 0) {
        logger.info({ ms: behind }, 'waiting for the clock to pass the versions issued before an unclean stop');
        await new Promise((r) => setTimeout(r, behind));
      }
      await store.setMeta('hlc-high-water', node.versioner.highWaterToPersist(Date.now()));
      if (config.bool('cluster-enabled')) await node.enableCluster();
      return node;
    } catch (err) {
      await store.close().catch(() => undefined);
      lock.release();
      throw storageOpenError(dir, err);
    }
  }

  /** Cluster mode: a generation bumped on every start, the persisted membership, bus and router. */
  private async enableCluster(): Promise<void> {
    const generation = (this.store.getMeta('cluster-generation')?.readUInt32BE(0) ?? 0) + 1;
    const g = Buffer.alloc(4);
    g.writeUInt32BE(generation);
    await this.store.setMeta('cluster-generation', g);
    const saved = this.store.getMeta('cluster-members');
    const restored = saved ? (JSON.parse(saved.toString()) as MemberRecord[]) : undefined;
    const hints = await HintStore.open({
      dir: this.config.str('dir'),
      maxBytesPerTarget: this.config.int('hinted-handoff-max-bytes'),
      maxAgeMs: this.config.int('hinted-handoff-window-ms'),
    });
    this.aclSync = new AclSync(this.acl, this.store, this.nodeId, this.logger);
    this.aclSync.restore();
    const cluster = new ClusterNode(this, hints, generation, restored);
    this.clusterNode = cluster;
    this.cluster = cluster;
    this.dispatcher.router = cluster.router;
    this.servesSlot = (slot) => cluster.table.primary(slot) === this.nodeId;
    this.eviction.host = cluster.evictionHost();
  }

  /**
   * CONFIG SET of a TLS setting reads the files again before anything changes: a file that cannot
   * be used fails the CONFIG SET with the reason and the material in force stays. Once the set is
   * applied, new client connections and bus links use the new material; open ones keep theirs.
   */
  private watchTlsSettings(): void {
    let pending: TlsMaterial | undefined;
    this.config.addValidator((get, changed) => {
      if (![...changed].some((name) => TLS_CONTEXT_SETTINGS.includes(name))) return;
      try {
        pending = loadTlsMaterial(get);
      } catch (err) {
        const { setting, message } = tlsProblem(err);
        const reason = `Unable to update TLS configuration: ${message}`;
        throw new ConfigError(`Invalid value '${get(setting)}' for setting '${setting}': ${reason}`, setting, reason);
      }
    });
    this.config.onChange((name) => {
      if (pending === undefined || !TLS_CONTEXT_SETTINGS.includes(name)) return;
      const material = pending;
      pending = undefined;
      this.tls = material;
      this.clientTls?.reload(material);
      this.clusterNode?.reloadTls();
      this.logger.info({ certificate: material.fingerprint }, 'TLS configuration reloaded');
    });
  }

  /**
   * Listens for clients (every `bind` address), starts the cluster bus and the metrics endpoint.
   * A port in use or an address not on this host is a StartupError naming the port and its role;
   * whatever was already started is stopped before it is thrown.
   */
  async listen(): Promise<void> {
    const addresses: string[] = [];
    const tlsPort = this.config.int('tls-port');
    const backlog = this.config.int('tcp-backlog');
    try {
      // port 0 serves no plain clients, as in Redis (then tls-port must be set).
      // Addresses this host lacks are left out when marked optional (`-::1`); the metrics endpoint
      // then uses the first one bound.
      const binds = bindAddresses(this.config.str('bind'));
      if (this.port > 0) addresses.push(...await this.listenAll(binds, this.port, backlog, 'clients (port)', () => net.createServer((socket) => this.accept(socket, false))));
      if (tlsPort > 0 && this.tls !== undefined) {
        const tls = this.clientTls = new ClientTlsListeners(this.tls, this.logger);
        const bound = await this.listenAll(binds, tlsPort, backlog, 'TLS clients (tls-port)', () => tls.create((socket) => this.accept(socket, true)));
        if (addresses.length === 0) addresses.push(...bound);
      }
      const unixPath = this.config.str('unixsocket');
      if (unixPath !== '') {
        const server = net.createServer((socket) => this.accept(socket, false, unixPath));
        await listenUnix(server, unixPath, parseInt(this.config.str('unixsocketperm'), 8), backlog);
        server.on('error', (err) => this.logger.error({ err }, 'Unix socket listener error'));
        this.listeners.push(server);
      }
      try {
        await this.clusterNode?.start(this.config.str('cluster-seeds'));
      } catch (err) {
        throw listenError(err, 'the cluster bus (cluster-port, by default port + 10000)');
      }
      const metricsPort = this.config.int('metrics-port');
      if (metricsPort > 0) {
        try {
          this.metrics = await startMetricsServer(this, addresses[0] ?? '127.0.0.1', metricsPort);
        } catch (err) {
          throw listenError(err, 'metrics (metrics-port)');
        }
      }
    } catch (err) {
      await this.stop().catch(() => undefined);
      throw err;
    }
    this.startBackgroundTasks();
    this.logger.info({ port: this.port, ...(tlsPort > 0 ? { tlsPort, certificate: this.tls?.fingerprint } : {}), bind: addresses, nodeId: this.nodeId }, 'Ready to accept connections');
  }

  /** Listens on `port` at every bind address; returns the hosts bound (optional ones may be missing). */
  private async listenAll(binds: readonly BindAddress[], port: number, backlog: number, role: string, create: () => net.Server): Promise<string[]> {
    const bound: string[] = [];
    for (const { host, optional } of binds) {
      const server = create();
      try {
        // Redis sets IPV6_V6ONLY, so `bind 0.0.0.0 ::` takes both families without a conflict.
        await listenRaw(server, { port, host, ...(host.includes(':') ? { ipv6Only: true } : {}) }, backlog);
      } catch (err) {
        if (optional && isMissingAddress((err as NodeJS.ErrnoException).code)) {
          this.logger.warn({ bind: host, port }, 'optional bind address not available on this host: skipped');
          continue;
        }
        throw listenError(err, role);
      }
      server.on('error', (err) => this.logger.error({ err, port }, 'listener error'));
      this.listeners.push(server);
      bound.push(host);
    }
    return bound;
  }

  private parserLimits(): ParserLimits {
    return {
      maxBulkLen: this.config.int('proto-max-bulk-len'),
      maxInlineLen: INLINE_MAX,
      maxMultibulkCount: MULTIBULK_COUNT_MAX,
      maxQueryBuffer: this.config.int('client-query-buffer-limit'),
    };
  }

  private accept(socket: net.Socket | TLSSocket, tls: boolean, unixPath?: string): void {
    this.stats.totalConnectionsReceived++;
    // Protected mode is about the network: a Unix socket's peer is on this host, as Redis allows.
    const refusal = this.stopping || this.sessions.size >= this.config.int('maxclients')
      ? ERR.maxClients
      : unixPath === undefined && protectedModeRefuses(this.config.bool('protected-mode'), this.acl.defaultUser.nopass, socket.remoteAddress) ? PROTECTED_MODE_DENIED : undefined;
    if (refusal !== undefined) {
      this.stats.rejectedConnections++;
      // A refused socket is never read, so its peer's FIN would go unseen and the half-closed
      // socket would hold the listener open forever: close it outright once the error is sent.
      socket.on('error', () => socket.destroy());
      socket.end(`-${refusal}\r\n`, () => socket.destroy());
      return;
    }
    const keepalive = this.config.int('tcp-keepalive');
    if (keepalive > 0) socket.setKeepAlive(true, keepalive * 1000);
    const conn = new Connection(socket, this.parserLimits(), this.acl.authRequired(), {
      dispatch: (session, argv, sink) => this.dispatcher.dispatch(session, argv, sink),
      endBatch: (session) => this.dispatcher.endBatch(session),
      awaitDurable: (cb) => {
        if (!this.store.hasPendingDurability()) return false;
        this.store.afterDurable(cb);
        return true;
      },
      storePressure: (resume) => {
        if (!this.store.pressured) return false;
        this.store.whenRelieved(resume);
        return true;
      },
      onProtocolError: (session, reason) => this.logger.debug({ client: session.addr, reason }, 'protocol error, closing client'),
      onClose: (c) => {
        this.stats.totalNetInputBytes += c.bytesIn;
        this.stats.totalNetOutputBytes += c.bytesOut;
        this.sessions.delete(c);
        this.dispatcher.blocked.cancel(c);
        this.pubsub.dropAll(c);
        this.monitor.remove(c);
        this.tracking.disable(c);
        this.sessionsById.delete(c.id);
      },
      outputLimits: () => this.outputLimits,
      onOutputLimit: (c, pending) => {
        this.stats.outputLimitDisconnections++;
        this.logger.warn({ client: c.addr, id: c.id, pendingBytes: pending, pubsub: c.subscriptions.active }, 'client closed for overcoming of output buffer limits');
      },
      overClientsLimit: (c, argv) => this.overClientsLimit(c, argv),
    }, unixPath);
    conn.tls = tls;
    conn.user = this.acl.defaultUser;
    this.sessions.add(conn);
    this.sessionsById.set(conn.id, conn);
  }

  private startBackgroundTasks(): void {
    const hz = this.config.int('hz');
    this.timers.push(setInterval(() => this.expireTick(), Math.max(2, Math.floor(1000 / hz))));
    // A full disk fails this every round until there is room again: one line when it starts failing.
    let hlcFailing = false;
    this.timers.push(setInterval(() => {
      this.store.setMeta('hlc-high-water', this.versioner.highWaterToPersist(Date.now())).then(
        () => (hlcFailing = false),
        (err: unknown) => {
          if (!hlcFailing) this.logger.warn({ err: String(err) }, 'HLC high-water mark not persisted; retried every round');
          hlcFailing = true;
        },
      );
    }, HLC_PERSIST_INTERVAL_MS));
    this.timers.push(setInterval(() => this.closeIdleClients(), 1000));
    // A peer that missed a push (down, restarting, joining) gets the ACL and function documents on the next round.
    this.timers.push(setInterval(() => {
      const doc = this.aclSync?.document();
      if (doc !== undefined) this.clusterNode?.broadcastAcl(doc);
      this.clusterNode?.broadcastFunctionSummary(scriptingFor(this).summary());
    }, ACL_PUSH_INTERVAL_MS));
    for (const t of this.timers) t.unref();
  }

  private expireTick(): void {
    this.evictClients();
    // A busy script between its steps sees the keyspace as at its start: nothing expires or is evicted under it.
    if (this.busyScript !== undefined) return;
    // Memory also grows without commands here (replicated writes, reclaim lag): evict in the background too.
    if (this.eviction.maxmemory > 0) {
      const started = performance.now();
      this.eviction.performEvictions(this.now());
      this.stats.noteLatencyEvent('eviction-cycle', performance.now() - started);
    }
    // Nothing expires while CLIENT PAUSE holds writes (Redis skips active and lazy expiry then).
    if (!this.debug.activeExpiryOn || this.pause.active) return;
    // LATENCY's expire-cycle: the keys reaped and the elements of dead collections reclaimed, as
    // Redis's cycle includes freeing what it expires.
    const started = performance.now();
    const work = EXPIRE_WORK_PER_TICK * this.config.int('active-expire-effort');
    this.stats.expiredKeys += this.store.expireCycle(this.now(), work);
    this.stats.reclaimedElements += this.reclaimer.step(this.now(), work * RECLAIM_PER_EXPIRE_WORK);
    this.stats.noteLatencyEvent('expire-cycle', performance.now() - started);
  }

  /**
   * maxmemory-clients: closes the biggest clients while all of them together hold more than the
   * limit. Checked every hz tick rather than per command, so a client can overshoot by what it
   * receives or queues within one tick (the output buffer limits bound that).
   */
  private evictClients(): void {
    const limit = clientsLimitBytes(this.config.str('maxmemory-clients'), this.config.int('maxmemory'));
    if (limit === 0) return;
    const usage = [...this.sessions].map((c) => ({ client: c, memory: clientMemory(c).total, evictable: !c.noEvict }));
    for (const c of clientsToEvict(usage, limit)) {
      this.stats.evictedClients++;
      this.logger.warn({ client: c.addr, id: c.id, name: c.name, totMem: clientMemory(c).total, limit }, 'Evicting client: maxmemory-clients reached');
      c.kill();
    }
  }

  /** A client that alone holds maxmemory-clients (with `argv`, the command it is about to run) goes at once. */
  private overClientsLimit(c: Connection, argv?: readonly Buffer[]): boolean {
    // Asked before every command: off (the default) costs one comparison.
    if (!this.clientsLimitOn || c.noEvict) return false;
    const limit = clientsLimitBytes(this.config.str('maxmemory-clients'), this.config.int('maxmemory'));
    if (limit === 0) return false;
    const memory = clientMemory(c, argv).total;
    if (memory < limit) return false;
    this.stats.evictedClients++;
    this.logger.warn({ client: c.addr, id: c.id, name: c.name, totMem: memory, limit }, 'Evicting client: maxmemory-clients reached');
    return true;
  }

  private closeIdleClients(): void {
    // Redis's clientsCron also closes a client over its soft output limit for too long when no new output comes.
    for (const c of this.sessions) c.enforceOutputLimit();
    const timeout = this.config.int('timeout');
    if (timeout === 0) return;
    const limit = Date.now() - timeout * 1000;
    for (const c of this.sessions) if (c.lastInteraction < limit && c.multi === undefined) c.kill();
  }

  servesSlot: ((slot: number) => boolean) | undefined = undefined;

  listedKeyCount(): number {
    const serves = this.servesSlot;
    if (!serves) return this.store.keyCount();
    let n = 0;
    for (let slot = 0; slot < 16384; slot++) if (serves(slot)) n += this.store.slotKeyCount(slot);
    return n;
  }

  now(): number {
    return this.versioner.now();
  }

  get blockedClients(): BlockedClients {
    return this.dispatcher.blocked;
  }

  clients(): Iterable<SessionState> {
    return this.sessions;
  }

  async fenceKeys(owner: SessionState, keys: readonly Buffer[]): Promise<() => void> {
    const lowered = this.dispatcher.fence.raise(owner, keys, { writesOnly: true });
    // In a cluster a write this node coordinates may be in flight (between its quorum read and its
    // write): the fence only holds commands that arrive from now on. The key locks such a write
    // holds are queued for here, so it lands before the caller reads and nothing else starts.
    const locks = this.clusterNode?.coordinator.locks;
    const unlocked = locks === undefined ? undefined : await locks.acquire(keys.map((k) => k.toString('latin1')));
    return () => {
      unlocked?.();
      lowered();
    };
  }

  client(id: number): SessionState | undefined {
    return this.sessionsById.get(id);
  }

  execTransaction(session: SessionState, out: ReplyWriter, ks: Keyspace): void {
    this.dispatcher.execTransaction(session, out, ks);
  }

  flushAll(): Promise<void> {
    this.cluster?.broadcastFlush();
    return this.store.flushAll();
  }

  shutdown(): void {
    void this.stop().then(() => process.exit(0));
  }

  /** Stops listening, closes clients and the store (flushing it). */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const t of this.timers) clearInterval(t);
      await this.clusterNode?.stop();
      this.metrics?.close();
      const closed = Promise.all(this.listeners.map((l) => new Promise<void>((r) => l.close(() => r()))));
      for (const c of [...this.sessions]) c.kill();
      // Shutdown must not hang on a socket nobody tracks; the store still gets flushed.
      const grace = new Promise<void>((r) => setTimeout(r, SHUTDOWN_SOCKET_GRACE_MS).unref());
      await Promise.race([closed, grace]);
      // On a full disk this fails; the store must still be closed (its log holds every write).
      await this.store.setMeta('hlc-high-water', this.versioner.highWaterToPersist(Date.now(), 1))
        .catch((err: unknown) => this.logger.warn({ err: String(err) }, 'HLC high-water mark not persisted at shutdown'));
      await this.store.close();
      this.dirLock?.release();
      this.logger.info('ringkv is now ready to exit, bye bye...');
    })();
    return this.stopping;
  }
}

/** The TLS material the settings ask for at start; a file that cannot be used ends the start in one line. */
function startupTls(config: Config): TlsMaterial | undefined {
  try {
    return loadTlsMaterial((name) => config.str(name));
  } catch (err) {
    throw new StartupError(tlsProblem(err).message);
  }
}

/** How often a cluster node pushes its ACL document to every peer (a change is pushed at once too). */
const ACL_PUSH_INTERVAL_MS = 2000;

/**
 * The users a node starts with: requirepass as the default user's password, then the config file's
 * `user` lines or the aclfile (not both, as Redis refuses the mix). Errors stop the start.
 */
function loadStartupUsers(acl: AclRegistry, config: Config): void {
  acl.setDefaultPassword(config.str('requirepass'));
  const file = config.str('aclfile');
  if (file !== '' && config.userDirectives.length > 0) {
    throw new StartupError('users are defined both by `user` lines and by aclfile: define them in one place only');
  }
  try {
    const lines = config.userDirectives.map((d) => {
      const parsed = splitUserDirective(d);
      if (typeof parsed === 'string') throw new AclError(parsed);
      return parsed;
    });
    acl.applyConfigUsers(lines);
  } catch (err) {
    if (err instanceof AclError) throw new StartupError(`ACL users in the configuration: ${err.message}`);
    throw err;
  }
  if (file === '') return;
  let text: string;
  try {
    text = readAclFile(file);
  } catch (err) {
    throw new StartupError(`cannot read aclfile ${file}: ${errnoText(err)}`);
  }
  const errors = acl.loadText(text, file);
  if (errors !== undefined) throw new StartupError(`aclfile ${file}: ${errors}`);
}

/**
 * A cluster node's data directory last used longer ago than the tombstone grace would bring back
 * keys deleted meanwhile: its peers have purged those deletions, so anti-entropy would copy the
 * old values from it to them. Refuse, or (cluster-discard-stale-data yes) start empty and take
 * everything from the peers, as Cassandra does with gc_grace. The last use is the HLC high-water
 * mark the node persists every half second while it runs.
 */
async function checkStaleData(store: Store, config: Config, logger: Logger, dir: string): Promise<void> {
  const graceMs = config.int('tombstone-grace-ms');
  const lastUsed = Versioner.decodeHighWater(store.getMeta('hlc-high-water'))?.wall;
  if (graceMs === 0 || lastUsed === undefined || store.keyCount() === 0) return;
  const idleMs = Date.now() - lastUsed;
  if (idleMs <= graceMs) return;
  const idle = `${(idleMs / 3_600_000).toFixed(1)} h`;
  if (!config.bool('cluster-discard-stale-data')) {
    throw new StartupError(`data directory ${dir} was last used ${idle} ago, longer than tombstone-grace-ms (${graceMs} ms): keys deleted since may come back from it. ` +
      'Start with --cluster-discard-stale-data yes to empty it and take every key from the peers');
  }
  logger.warn({ dir, idleMs, graceMs }, `data directory last used ${idle} ago, beyond the tombstone grace: emptied, every key comes from the peers`);
  await store.flushAll();
}
