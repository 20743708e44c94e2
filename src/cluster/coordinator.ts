import type { Logger } from '../core/logger.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import { ReplyWriter as Writer } from '../protocol/reply-writer.js';
import { encodeRecord, decodeRecord } from '../storage/record-codec.js';
import { putRecords, type PutItem } from '../storage/record-batch.js';
import type { PutOutcome, RecordStore, StoredRecord } from '../storage/types.js';
import type { Versioner } from '../server/versioner.js';
import { QUORUM_ROUND_READ, QUORUM_ROUND_WRITE, type ServerStats } from '../server/stats.js';
import { KeyLocks } from './key-locks.js';
import { OverlayKeyspace } from './overlay-keyspace.js';
import { ReadQuorum, WriteQuorum } from './quorum.js';
import type { Protocol } from '../protocol/types.js';
import { compareClocks } from '../core/vclock.js';
import { compareVersions } from '../core/version.js';
import type { DeferredReply, ReplySink } from '../server/connection.js';
import { FencedError } from './replica-batcher.js';
import { CompleteCollections } from './complete-collections.js';
import { elementKindsOf, isCollectionType, type CollectionType } from '../collections/collection.js';
import { decodeMeta, withMetaSize, withSuspect } from '../collections/meta-codec.js';
import { ListType } from '../collections/list-type.js';
import { isSuspect, stampBase } from './collection-lineage.js';
import type { CollectionHealer } from './collection-healer.js';
import { elementPrefix, prefixEnd, recordKey, userKeyOf } from '../collections/record-keys.js';
import { keySlot } from './slot.js';
import { countMembers, scoreIndexFixes } from './merged-collection.js';
import { ValueType } from '../storage/types.js';

/** Times a write is stamped again because a replica held a newer version, before it counts as concurrent. */
const RESTAMP_ATTEMPTS = 3;

/** How the coordinator reaches other replicas; the cluster node implements it over the bus. */
export interface ReplicaClient {
  readonly myId: string;
  /** False when the failure detector has declared the node dead: skip it rather than wait. */
  reachable(nodeId: string): boolean;
  read(nodeId: string, slot: number, keys: readonly Buffer[]): Promise<Array<Buffer | null>>;
  /**
   * Resolves with the newer version the replica already held for one of the items, if any. With
   * an `epoch` (a leased read-modify-write) the replica refuses it with FencedError once it
   * granted a newer lease on the slot.
   */
  write(nodeId: string, slot: number, items: ReadonlyArray<[Buffer, Buffer]>, epoch?: number): Promise<Buffer | undefined>;
  /**
   * The records (tombstones included) with start <= key < end in `slot` at `nodeId`, up to about
   * `limit` of them; `next` is where the following page starts, undefined once the range is done.
   */
  readRange(nodeId: string, slot: number, start: Buffer, end: Buffer, limit: number): Promise<{ items: Array<[Buffer, Buffer]>; next: Buffer | undefined }>;
  /** Stores the records at `nodeId` as hints for `owner`, durably, for later handoff. */
  writeHint(nodeId: string, owner: string, slot: number, items: ReadonlyArray<[Buffer, Buffer]>): Promise<void>;
}

/** One keyed command (or transaction) to coordinate over its slot's preference list. */
export interface CoordinatedJob {
  slot: number;
  /** Record keys of everything the job reads or writes (command keys, queued keys, watched keys). */
  keys: readonly Buffer[];
  replicas: readonly string[];
  isWrite: boolean;
  /** Writes that never look at the old value (plain SET, MSET): skip the remote read. */
  blind: boolean;
  r: number;
  w: number;
  proto: Protocol;
  /** Replicas from before a membership change (slot moving): asked first on reads, sent writes too. */
  previousReplicas: readonly string[];
  /** Nodes after the preference list on the ring: where writes for unreachable owners go, as hints. Empty = strict quorum. */
  fallbacks: readonly string[];
  /**
   * The slot lease's epoch when the job reads before it writes (slot-leases.ts): its writes are
   * fenced at the replicas and never go to fallbacks as hints (a hint is not read by the next
   * holder's quorum read, so it could not count toward W).
   */
  epoch?: number;
  /** Times already run under a lease that ran out before it could write (retryLeased). */
  leaseRetries?: number;
  /** Times already run again with keys the run used without having fetched them (fetchMore). */
  fetchRounds?: number;
  /** The commands, in order, each writing its reply to `out` (a connection's run on one slot). */
  steps: ReadonlyArray<(out: ReplyWriter, ks: OverlayKeyspace) => void>;
}

export interface CoordinatorStats {
  reads: number;
  writes: number;
  readRepairs: number;
  /** Writes stamped again because a replica already held a newer version (a clock behind). */
  restamps: number;
  quorumFailures: number;
  /** Quorum reads that asked one more replica because one was slow to answer (hedgeReads). */
  hedgedReads: number;
  /** Collections brought up to date here before a command used them, and the elements that took. */
  collectionSyncs: number;
  /** Lists whose merged elements were written again densely (ListType.repack). */
  listRepacks: number;
  /** Leased jobs run again because their lease ran out before they could write. */
  leaseRetries: number;
  collectionSyncRecords: number;
  /** Jobs answered from a quorum read another job on the same keys started after they arrived. */
  sharedReads: number;
  /** Jobs run inside another job's group: one read, one replica write and one acknowledgement for all. */
  groupedJobs: number;
  /** Runs thrown away and run again with keys they used without having fetched them (a script's undeclared keys). */
  fetchRounds: number;
}

interface ReadResult {
  records: Map<string, StoredRecord | undefined>;
  quorum?: ReadQuorum;
}

interface ReadShare {
  /** Jobs in flight on these keys. */
  users: number;
  last: { seq: number; result: Promise<ReadResult | undefined> } | undefined;
  /** A group still waiting for the keys, which later jobs like its first may join (runLocked). */
  open: Member[] | undefined;
}

/** A job with where its replies go; a job that joined another's group also with who awaits its result. */
interface Member {
  job: CoordinatedJob;
  target: ReplyTarget;
  /** readSeq when the job arrived (sharedRead). */
  arrived: number;
  resolve?: (result: JobResult) => void;
}

/**
 * Jobs one group may hold: bounds how long the first waits for the group's writes to be encoded
 * and sent, and a reply's wait behind commands of other connections.
 */
const GROUP_MAX_JOBS = 128;

export interface JobResult {
  /** Replicas that durably hold the job's writes when it answered (0 for reads). */
  acked: number;
  /** Resolves with the final count once every replica answered or failed (WAIT). */
  allAcked: Promise<number>;
}

/** Where each command's reply ends in a run's answer, and the first command that wrote. */
interface RunReplies {
  ends: number[];
  firstWrite: number;
}

/**
 * How often the cluster node calls `hedgeReads`: a quorum read still waiting after one to two of
 * these also asks the next candidate (at most one more). A replica that stalls, or that the
 * failure detector has not suspected yet, then costs the read that much instead of the bus's 2 s
 * request deadline before the next one is tried; well above a healthy round trip under load, so
 * hedges stay rare.
 */
export const READ_HEDGE_INTERVAL_MS = 150;

/** Element records per page when a collection is synced from another replica. */
const SYNC_PAGE_RECORDS = 2048;

/**
 * Runs again of one job with keys it used without fetching them (fetchMore). A run that reads
 * undeclared keys from data it read finds the next ones only once those are fetched: one round per
 * link of such a chain.
 */
const FETCH_ROUNDS_MAX = 256;
/** Runs again of one job whose lease ran out before it could write (retryLeased). */
const LEASE_RETRIES = 3;
const LEASE_RAN_OUT = 'TRYAGAIN the slot\'s lease ran out while the command ran; nothing was written';

/** A write sent to the replicas (Coordinator.inFlight). */
interface InFlightWrite {
  version: Buffer;
  /** Reads waiting for it to land on this replica: set while a leased write's collection metadata is on its way here. */
  landing: Array<() => void> | undefined;
}

const EMPTY_RESULT: JobResult = { acked: 0, allAcked: Promise.resolve(0) };
/** Merged copies remembered until their first write (settleMerge); past it the oldest is forgotten. */
const MERGED_COPIES_MAX = 10_000;
const NO_LOCK = (): void => undefined;
const NO_CLOCK: never[] = [];

/** Where a job's reply goes: in line with the connection's batch until it has to wait, then a deferred slot. */
interface ReplyTarget {
  out(): ReplyWriter;
  /** The job is about to wait: later replies of the connection must queue behind this one. */
  suspend(): void;
  /** The reply is complete. */
  done(): void;
}

function inlineTarget(sink: ReplySink): ReplyTarget {
  let deferred: DeferredReply | undefined;
  return {
    out: () => (deferred ? deferred.out : sink.out),
    suspend: () => {
      deferred ??= sink.defer();
    },
    done: () => deferred?.done(),
  };
}

function deferredTarget(reply: DeferredReply): ReplyTarget {
  return { out: () => reply.out, suspend: () => undefined, done: () => reply.done() };
}

/**
 * Runs keyed commands in cluster mode: quorum read of the command's keys, the command itself on an
 * overlay of what was read, then the write replicated to every replica with an answer after W durable
 * acknowledgements. A write never answers OK with fewer; read-modify-write commands hold per-key
 * locks for the whole round so they stay atomic.
 */
export class Coordinator {
  readonly locks = new KeyLocks();
  readonly stats: CoordinatorStats = { reads: 0, writes: 0, readRepairs: 0, quorumFailures: 0, hedgedReads: 0, restamps: 0, collectionSyncs: 0, collectionSyncRecords: 0, sharedReads: 0, groupedJobs: 0, listRepacks: 0, leaseRetries: 0, fetchRounds: 0 };
  /** Collections this replica is known to hold completely (complete-collections.ts). */
  readonly complete = new CompleteCollections();
  hintedHandoffs = 0;
  /** True when this node granted a newer lease on the slot than `epoch` (its own replica refuses the write too). */
  fence: (slot: number, epoch: number) => boolean = () => false;
  /** A replica refused a write of the lease with `epoch`. */
  onFenced: (slot: number, epoch: number) => void = () => undefined;
  /** Copies a collection from a replica holding it completely (set by the cluster node; the simulation has none). */
  healer: Pick<CollectionHealer, 'adopt' | 'settle'> | undefined = undefined;
  /**
   * Takes the slot's lease for this node again after it ran out under a job (set by the cluster
   * node): the new epoch, or undefined when another node holds it or it cannot be had now.
   */
  reacquireLease: ((slot: number) => Promise<number | undefined>) | undefined = undefined;
  /** Lists a per-element merge left here, by record key id, for the next job that writes them to repack. */
  private readonly repackPending = new Map<string, Buffer>();
  /** Whether this node still holds the slot's lease with `epoch` (checked again before a leased write). */
  leaseHeld: (slot: number, epoch: number) => boolean = () => true;
  /** Quorum reads in flight that may still ask one more replica, by the hedge tick they began in. */
  private readonly hedgeable = new Map<() => void, number>();
  private hedgeTicks = 0;
  /** This node is cut off from the majority (routing-view.ts): set by the cluster node. */
  isolated: () => boolean = () => false;
  /** Where commands write their reply before it is known whether it may be sent; taken right after. */
  private readonly scratch = new Writer(2, 4096);
  /** Copies a read merged and left at their version, by record-key id: the version (settleMerge). */
  private readonly mergedCopies = new Map<string, Buffer>();
  /** Orders job arrivals and quorum reads (sharedRead). */
  private readSeq = 0;
  /** Per key set with jobs in flight: the last quorum read started for it. */
  private readonly shares = new Map<string, ReadShare>();
  /**
   * Writes sent to the replicas and not yet answered by all of them, by record-key id. Read repair
   * leaves a replica behind one of these alone (the write is on its way there; under steady writes
   * a third of the reads of a large set repaired its metadata). A leased write lands here only
   * after another replica took it: until then its collection metadata holds the reads that met
   * its version elsewhere (`landing`), which would otherwise copy the collection whole.
   */
  private readonly inFlight = new Map<string, InFlightWrite>();

  constructor(
    private readonly store: RecordStore,
    private readonly versioner: Versioner,
    private readonly replicas: ReplicaClient,
    private readonly serverStats: ServerStats,
    private readonly logger: Logger,
  ) {}

  /**
   * Runs the job and answers through `sink`. While nothing has to wait (keys free, a local read,
   * a write that needs no remote acknowledgement) it answers in this turn, in line with the
   * connection's other replies; otherwise it takes a deferred reply slot before the first wait.
   * Returns the write's result, or a promise of it (for WAIT).
   */
  run(job: CoordinatedJob, sink: ReplySink): JobResult | Promise<JobResult> {
    const ids = job.keys.map((k) => k.toString('latin1'));
    const local = job.replicas.includes(this.replicas.myId);
    const localRead = local && (job.blind || (Math.min(job.r, job.replicas.length) <= 1 && job.previousReplicas.length === 0));
    if (localRead) {
      const release = job.isWrite ? this.locks.tryAcquire(ids) : NO_LOCK;
      if (release !== undefined) {
        const records = new Map<string, StoredRecord | undefined>();
        for (let i = 0; i < ids.length; i++) records.set(ids[i]!, this.store.get(job.slot, job.keys[i]!));
        return this.apply([{ job, target: inlineTarget(sink), arrived: 0 }], records, undefined, release, false);
      }
    }
    return this.runDeferred(job, ids, sink.defer());
  }

  private async runDeferred(job: CoordinatedJob, ids: string[], reply: DeferredReply): Promise<JobResult> {
    // Arrival order: a quorum read that starts after this job arrived may answer for it too.
    const arrived = ++this.readSeq;
    const shareKey = this.shareKey(job, ids);
    let share: ReadShare | undefined;
    if (shareKey !== undefined) {
      share = this.shares.get(shareKey);
      if (share === undefined) this.shares.set(shareKey, (share = { users: 0, last: undefined, open: undefined }));
      share.users++;
    }
    try {
      const member: Member = { job, target: deferredTarget(reply), arrived };
      const open = share?.open;
      if (open !== undefined && open.length < GROUP_MAX_JOBS && joinable(open[0]!.job, job)) {
        this.stats.groupedJobs++;
        return await new Promise<JobResult>((resolve) => open.push({ ...member, resolve }));
      }
      return await this.runLocked(job, ids, member, share);
    } finally {
      if (share !== undefined && --share.users === 0) this.shares.delete(shareKey!);
    }
  }

  /**
   * Jobs that wait for the same keys (a hot key written from many connections) may share one
   * quorum read: only read-modify-write jobs on a slot this node replicates, whose writes land here
   * before the keys are freed, and only for identical keys and replica sets.
   */
  private shareKey(job: CoordinatedJob, ids: readonly string[]): string | undefined {
    if (!job.isWrite || !job.replicas.includes(this.replicas.myId)) return undefined;
    return `${job.slot}|${job.r}|${job.replicas.join(',')}|${job.previousReplicas.join(',')}|${ids.join('\u0000')}`;
  }

  /**
   * The job's read once it holds its keys. A quorum read of the same keys that started after the
   * job arrived serves it as well, with this replica's records laid over it: whatever the jobs
   * before it wrote is here (the keys are freed only once it is), and the read happened within
   * this job's lifetime, so the job sees no older state than a read of its own would have been
   * allowed to return. The job that started the read repairs stale replicas; sharers do not.
   */
  private async sharedRead(job: CoordinatedJob, ids: string[], arrived: number, share: ReadShare | undefined): Promise<ReadResult | undefined> {
    const last = share?.last;
    if (last !== undefined && last.seq > arrived) {
      const shared = await last.result;
      if (shared !== undefined) {
        const here = this.localRecords(job.slot, job.keys);
        const records = new Map<string, StoredRecord | undefined>();
        for (let i = 0; i < ids.length; i++) {
          const a = shared.records.get(ids[i]!);
          const b = here[i];
          records.set(ids[i]!, a === undefined ? b : b === undefined || compareVersions(a.version, b.version) > 0 ? a : b);
        }
        this.stats.sharedReads++;
        return { records };
      }
    }
    const seq = ++this.readSeq;
    const result = this.readKeys(job, ids);
    if (share !== undefined) share.last = { seq, result };
    return result;
  }

  /**
   * Takes the keys and runs the job, together with the jobs that joined its group while it waited
   * for them (runDeferred): on a key written from many connections, one quorum read, one replica
   * write and one acknowledgement serve every queued command instead of one round trip each. The
   * group runs as if its jobs had taken the keys one after another in the order they joined: each
   * sees the writes of those before it, and every reply waits for the group's write, since each
   * may have seen writes of the others (nothing is answered before W replicas hold what it saw).
   * Joining skips past jobs on other key sets queued in between; all of them were waiting at once,
   * so either order is one the clients could have seen, and a connection never has two jobs on a
   * slot in flight (command-sequencer.ts), so its own order holds.
   */
  private async runLocked(job: CoordinatedJob, ids: string[], lead: Member, share: ReadShare | undefined): Promise<JobResult> {
    const group: Member[] = [lead];
    if (share !== undefined && job.leaseRetries === undefined) share.open = group;
    const release = job.isWrite ? await this.locks.acquire(ids) : NO_LOCK;
    if (share?.open === group) share.open = undefined;
    // The read must begin after every job of the group arrived.
    const arrived = group.reduce((latest, m) => Math.max(latest, m.arrived), 0);
    const read = await this.sharedRead(job, ids, arrived, share);
    if (read === undefined || !(await this.completeCollections(job, ids, read.records))) {
      release();
      this.stats.quorumFailures++;
      return this.failGroup(group, this.readFailure(job));
    }
    return this.apply(group, read.records, read.quorum, release, true);
  }

  /** Answers every command of the group with `message`. */
  private failGroup(group: readonly Member[], message: string): JobResult {
    for (const m of group) {
      this.failAll(m.target.out(), m.job.steps.length, message);
      m.target.done();
      m.resolve?.(EMPTY_RESULT);
    }
    return EMPTY_RESULT;
  }

  /** Answers `count` commands with the same error, counted in INFO errorstats. */
  private failAll(out: ReplyWriter, count: number, message: string): void {
    for (let i = 0; i < count; i++) {
      this.serverStats.noteErrorReply(message);
      out.error(message);
    }
  }

  /**
   * The answer to a job whose read found too few replicas. Nothing was written, so a retry is safe:
   * on a node that has meanwhile found itself cut off from the majority (the requests it was still
   * coordinating fail together), CLUSTERDOWN makes cluster clients refresh their slot map and resend
   * to the majority, as for any command it receives from then on; elsewhere NOREPLICAS says why.
   */
  private readFailure(job: CoordinatedJob): string {
    return this.isolated() ? 'CLUSTERDOWN The cluster is down' : `NOREPLICAS Not enough replicas answered the read (need ${job.r})`;
  }

  /**
   * Brings this replica up to date for every collection the job touches whose newest metadata it
   * is not known to hold completely. A replica holding that metadata completely (not suspect,
   * collection-lineage.ts) is copied exactly, so elements of another branch of the history never
   * mix in. Without one (two faults at once), the elements of the generation are read from other
   * replicas and merged here (last writer wins per element): with this replica they make a read
   * quorum, and every acknowledged write reached a write quorum, so the union holds every
   * acknowledged element. A list merged this way is repacked by the next job that writes here
   * (`repackPending`). False when too few replicas answered.
   */
  private async completeCollections(job: CoordinatedJob, ids: readonly string[], records: Map<string, StoredRecord | undefined>): Promise<boolean> {
    const me = this.replicas.myId;
    for (let i = 0; i < ids.length; i++) {
      const rec = records.get(ids[i]!);
      if (rec === undefined || !isCollectionType(rec.type as ValueType)) continue;
      // A copy a read merged here: the first write on it takes a new version first (settleMerge).
      const merged = this.mergedCopies.size > 0 ? this.mergedCopies.get(ids[i]!) : undefined;
      if (merged !== undefined && job.isWrite) {
        this.mergedCopies.delete(ids[i]!);
        const local = this.store.get(job.slot, job.keys[i]!);
        if (merged.equals(rec.version) && local !== undefined && local.version.equals(rec.version) && !isSuspect(local)) {
          const renamed = this.newVersion(job.slot, job.keys[i]!, local);
          records.set(ids[i]!, renamed);
          this.complete.mark(ids[i]!, renamed.version);
          continue;
        }
      }
      // Known complete, unless since marked suspect here (records of another history arrived).
      if (this.complete.isAt(ids[i]!, rec.version) && !isSuspect(this.store.get(job.slot, job.keys[i]!))) continue;
      // An expired collection reads as missing; a write to the key starts a new generation.
      if (rec.expiresAt !== 0 && rec.expiresAt <= this.versioner.now()) continue;
      const userKey = userKeyOf(job.keys[i]!);
      if (userKey === undefined) continue;
      const local = this.store.get(job.slot, job.keys[i]!);
      // Holding the newest metadata, not marked suspect, this replica applied every write of the
      // collection's history in order (collection-lineage.ts): nothing to fetch.
      if (local !== undefined && local.version.equals(rec.version) && !isSuspect(local)) {
        this.complete.mark(ids[i]!, rec.version);
        continue;
      }
      // A read (it holds no key lock) may meet a write of this node's that reached another replica
      // and is on its way here, or has landed here since, with later ones: this replica holds what
      // the read saw once that write is here.
      if (!job.isWrite) {
        await this.landedHere(ids[i]!, rec.version);
        const now = this.store.get(job.slot, job.keys[i]!);
        if (now !== undefined && compareVersions(now.version, rec.version) >= 0 && !isSuspect(now)) {
          if (now.version.equals(rec.version)) this.complete.mark(ids[i]!, rec.version);
          continue;
        }
      }
      const sources = [...new Set([...job.previousReplicas, ...job.replicas])].filter((id) => id !== me && this.replicas.reachable(id));
      // One history, whole: a replica holding the newest metadata completely is copied exactly.
      if (await this.adoptFrom(job.slot, job.keys[i]!, sources, rec.version)) {
        this.complete.mark(ids[i]!, rec.version);
        this.stats.collectionSyncs++;
        continue;
      }
      const needed = Math.max(0, Math.min(job.r, job.replicas.length) - (job.replicas.includes(me) ? 1 : 0));
      if (sources.length < needed) return false;
      const generation = decodeMeta(rec.value as Buffer).generation;
      this.logger.warn({ slot: job.slot, key: userKey.toString('latin1').slice(0, 200), localSuspect: isSuspect(local), localIsNewest: local?.version.equals(rec.version) === true },
        'no replica holds the collection\'s newest metadata whole: merging what the replicas hold');
      const ranges = elementKindsOf(rec.type as CollectionType).map((kind) => elementPrefix(kind, userKey, generation));
      const pulled = await Promise.all(sources.map((id) => this.pullRanges(id, job.slot, ranges).then(() => true, () => false)));
      if (pulled.filter(Boolean).length < needed) return false;
      // The metadata itself: read repair would bring it too, but the elements just merged belong to it.
      if (local === undefined || compareVersions(local.version, rec.version) < 0) this.store.put(job.slot, job.keys[i]!, rec);
      const settled = this.settleMerge(job.slot, job.keys[i]!, ids[i]!, userKey, generation, rec, job.isWrite);
      if (settled !== undefined) records.set(ids[i]!, settled);
      this.complete.mark(ids[i]!, (settled ?? rec).version);
      this.stats.collectionSyncs++;
      if (rec.type === ValueType.List) this.repackPending.set(ids[i]!, userKey);
    }
    return true;
  }

  /**
   * After a per-element merge of a set, a hash or a sorted set: the metadata's element count is
   * one coordinator's, and the merged elements may hold more or fewer (a write of unknown outcome
   * whose elements landed on one replica, writes that replicas missed while every one of them was
   * marked suspect); a sorted set's index may hold entries of another history (merged-collection.ts
   * makes it agree with the member records). The members are then the collection: they are counted,
   * and this replica's metadata says that count, drops its suspect mark and takes a new version.
   * The new version matters: the merge may have joined records of a branch that no other replica
   * holds, and replicas judge a write by the version it was built on (collection-lineage.ts). Kept
   * at the version they hold, the job's write would look like a continuation of their copy and
   * leave them without what the merge added (a sorted set kept an index entry whose tombstone only
   * the merge brought: product simulation with sorted sets, seed 58); under a version they do not
   * hold, they mark the collection suspect and heal from this complete copy. A read leaves the
   * copy complete at the version it had (so reads do not merge it again), noted in `mergedCopies`:
   * the first job that writes on it gives it the new version then. Undefined when the metadata
   * moved on meanwhile, or for other types.
   */
  private settleMerge(slot: number, key: Buffer, id: string, userKey: Buffer, generation: Buffer, rec: StoredRecord, writes: boolean): StoredRecord | undefined {
    if (rec.type !== ValueType.Set && rec.type !== ValueType.Hash && rec.type !== ValueType.ZSet) return undefined;
    // Only the metadata the merge was for: a read job holds no key lock, and a write may have
    // moved this replica's metadata on meanwhile.
    const here = this.store.get(slot, key);
    if (here === undefined || !here.version.equals(rec.version)) return undefined;
    let count: number;
    const logKey = userKey.toString('latin1').slice(0, 200);
    if (rec.type === ValueType.ZSet) {
      const { fixes, members } = scoreIndexFixes(this.store, slot, userKey, generation, this.versioner.hlc.now(this.versioner.now()));
      for (const [rk, fix] of fixes) this.store.put(slot, rk, fix);
      if (fixes.length > 0) this.logger.warn({ slot, key: logKey, fixes: fixes.length }, 'a merged sorted set\'s score index disagreed with its members: rebuilt from them');
      count = members;
    } else {
      count = countMembers(this.store, slot, userKey, generation);
    }
    const meta = decodeMeta(rec.value as Buffer);
    if (meta.size !== count) this.logger.warn({ slot, key: logKey, size: meta.size, counted: count }, 'a merged collection\'s size did not match its elements: recounted');
    const settled: StoredRecord = { ...rec, value: withSuspect(withMetaSize(rec.value as Buffer, count), false) };
    if (writes) return this.newVersion(slot, key, settled);
    if (this.healer === undefined) return settled;
    // Same version: only this replica's copy changes.
    this.healer.settle(slot, key, settled);
    if (this.mergedCopies.size >= MERGED_COPIES_MAX) this.mergedCopies.delete(this.mergedCopies.keys().next().value!);
    this.mergedCopies.set(id, rec.version);
    return settled;
  }

  /** Stores `rec` here under a new version (a merged copy about to be written on: settleMerge). */
  private newVersion(slot: number, key: Buffer, rec: StoredRecord): StoredRecord {
    const { version, clock } = this.versioner.stamp(this.versioner.now(), rec.clock);
    const renamed: StoredRecord = { ...rec, version, clock };
    this.store.put(slot, key, renamed);
    return renamed;
  }

  /**
   * Repacks the lists of a read-modify-write job that a per-element merge left pending
   * (completeCollections), on the job's overlay so the rewrite is replicated with its writes.
   * Only under the job's key locks (and lease): a repack reads before it writes. The ids it
   * handled, to be cleared once the write is in this node's store.
   */
  private repackLists(job: CoordinatedJob, ks: OverlayKeyspace): string[] | undefined {
    if (!job.isWrite || job.blind) return undefined;
    let handled: string[] | undefined;
    for (const key of job.keys) {
      const id = key.toString('latin1');
      const userKey = this.repackPending.get(id);
      if (userKey === undefined) continue;
      (handled ??= []).push(id);
      // The key may hold another type by now (a blind SET since): nothing left to repack.
      if (ks.get(userKey)?.type !== ValueType.List) continue;
      if (ListType.open(ks, userKey)?.repack() === true) {
        this.stats.listRepacks++;
        this.logger.warn({ slot: job.slot, key: userKey.toString('latin1').slice(0, 200) }, 'a merged list had holes: its elements were written again densely');
      }
    }
    return handled;
  }

  /** Runs a leased job again, from its read, under the slot's lease taken anew; TRYAGAIN if it cannot be. */
  private async retryLeased(job: CoordinatedJob, target: ReplyTarget): Promise<JobResult> {
    this.stats.leaseRetries++;
    const epoch = await this.reacquireLease!(job.slot).catch(() => undefined);
    const reply: DeferredReply = { out: target.out(), done: () => target.done() };
    if (epoch === undefined) {
      this.failAll(reply.out, job.steps.length, LEASE_RAN_OUT);
      reply.done();
      return EMPTY_RESULT;
    }
    return this.runDeferred({ ...job, epoch, leaseRetries: (job.leaseRetries ?? 0) + 1 }, job.keys.map((k) => k.toString('latin1')), reply);
  }

  /**
   * A run used keys it had not fetched (a script's undeclared keys in its slot, as Redis Cluster
   * allows): nothing of it was answered or written. Each job of the group runs again, in order,
   * with those keys fetched as well, up to a bound on the rounds; keys of another slot fail as
   * before (the script itself refuses those, redis-call.ts).
   */
  private fetchMore(group: readonly Member[], missing: ReadonlyMap<string, Buffer>): JobResult | Promise<JobResult> {
    const job = group[0]!.job;
    const rounds = (job.fetchRounds ?? 0) + 1;
    const extra = [...missing.values()];
    const elsewhere = extra.find((k) => keySlot(k) !== job.slot);
    if (rounds > FETCH_ROUNDS_MAX || elsewhere !== undefined) {
      const key = (elsewhere ?? extra[0]!).toString('latin1').slice(0, 64);
      return this.failGroup(group, `ERR key was not fetched before the command ran: ${key}`);
    }
    this.stats.fetchRounds++;
    const retried = group.map((m) => {
      m.target.suspend();
      const keys = [...m.job.keys];
      const have = new Set(keys.map((k) => k.toString('latin1')));
      for (const [id, userKey] of missing) if (!have.has(id)) keys.push(recordKey(userKey));
      const reply: DeferredReply = { out: m.target.out(), done: () => m.target.done() };
      const result = this.runDeferred({ ...m.job, keys, fetchRounds: rounds }, keys.map((k) => k.toString('latin1')), reply);
      if (m.resolve !== undefined) void result.then(m.resolve);
      return result;
    });
    return retried[0]!;
  }

  private async adoptFrom(slot: number, key: Buffer, sources: readonly string[], version: Buffer): Promise<boolean> {
    if (this.healer === undefined) return false;
    for (const id of sources) {
      try {
        if (await this.healer.adopt(slot, key, id, version)) return true;
      } catch {
        // Try the next replica; the merge below is the last resort.
      }
    }
    return false;
  }

  private async pullRanges(nodeId: string, slot: number, prefixes: readonly Buffer[]): Promise<void> {
    for (const prefix of prefixes) {
      const end = prefixEnd(prefix);
      let start: Buffer | undefined = prefix;
      while (start !== undefined) {
        const page: { items: Array<[Buffer, Buffer]>; next: Buffer | undefined } = await this.replicas.readRange(nodeId, slot, start, end, SYNC_PAGE_RECORDS);
        const now = this.versioner.now();
        for (const [key, encoded] of page.items) {
          const rec = decodeRecord(encoded);
          this.versioner.hlc.observe(rec.version, now);
          this.applyLocal(slot, key, rec, encoded);
        }
        this.stats.collectionSyncRecords += page.items.length;
        start = page.next;
      }
    }
  }

  /**
   * Runs the group's commands on what was read, answers reads at once and replicates writes,
   * answering once W replicas hold them. Owns `release`: the keys are freed as soon as this node
   * holds the write (the next command on them reads it here, newest wins, so hot keys pipeline).
   * Returns the first job's result; the others get theirs through `resolve`.
   */
  private apply(
    group: readonly Member[],
    records: Map<string, StoredRecord | undefined>,
    quorum: ReadQuorum | undefined,
    release: () => void,
    /** The job's collections were made complete here (completeCollections): its writes keep them so. */
    verified: boolean,
  ): JobResult | Promise<JobResult> {
    const job = group[0]!.job;
    const answers: Buffer[] = [];
    const runs: RunReplies[] = [];
    let ks: OverlayKeyspace;
    let repacked: string[] | undefined;
    try {
      ks = new OverlayKeyspace(records, this.versioner.now(), this.store, () => this.newGeneration());
      repacked = this.repackPending.size > 0 ? this.repackLists(job, ks) : undefined;
      for (const m of group) {
        this.scratch.proto = m.job.proto;
        const run: RunReplies = { ends: [], firstWrite: -1 };
        for (let i = 0; i < m.job.steps.length; i++) {
          const writesBefore = ks.writeCount;
          // Each command runs at its own time, as it would on one node (EXEC is one step: its
          // commands share one time, as in Redis); a pipelined GET after a DEBUG SLEEP sees expiry.
          if (i > 0 || m !== group[0]) ks.now = this.versioner.now();
          m.job.steps[i]!(this.scratch, ks);
          run.ends.push(this.scratch.length);
          if (run.firstWrite < 0 && ks.writeCount > writesBefore) run.firstWrite = i;
        }
        answers.push(this.scratch.take());
        runs.push(run);
      }
      if (quorum) this.repair(job, quorum);
    } catch (err) {
      release();
      this.scratch.take();
      return this.failGroup(group, `ERR ${(err as Error).message}`);
    }
    if (ks.missing.size > 0) {
      release();
      return this.fetchMore(group, ks.missing);
    }
    if (ks.writes.size === 0) {
      release();
      this.stats.reads += group.length;
      group.forEach((m, i) => {
        m.target.out().raw(answers[i]!);
        m.target.done();
        m.resolve?.(EMPTY_RESULT);
      });
      return EMPTY_RESULT;
    }
    // A leased run's read may have outlasted its lease (a slow quorum, a pause): then another node
    // may have written since, and what was computed here must not be written. Nothing was written
    // yet, so the client may safely send the commands again.
    if (job.epoch !== undefined && !this.leaseHeld(job.slot, job.epoch)) {
      release();
      // Each job runs again from its read under a lease taken anew: the lease lapsing under load
      // (renewals answered late) is not the client's business while this node can take it. More
      // than once, since under load the new lease's acquisition and the read again may outlast a
      // short lease; a bounded number of times, so a node that cannot keep a lease answers.
      if (this.reacquireLease !== undefined && (job.leaseRetries ?? 0) < LEASE_RETRIES) {
        const retried = group.map((m) => {
          m.target.suspend();
          const result = this.retryLeased(m.job, m.target);
          if (m.resolve !== undefined) void result.then(m.resolve);
          return result;
        });
        return retried[0]!;
      }
      return this.failGroup(group, LEASE_RAN_OUT);
    }
    if (repacked !== undefined) for (const id of repacked) this.repackPending.delete(id);
    this.stats.writes += group.length;
    let settled: JobResult | undefined;
    let finish: ((result: JobResult) => void) | undefined;
    // The keys are freed once this node holds the write (or the round ended without it).
    try {
      const roundStarted = performance.now();
      this.replicate(job, ks, records, (result) => {
        const ms = performance.now() - roundStarted;
        this.serverStats.quorumLatency.observe(QUORUM_ROUND_WRITE, ms / 1000);
        this.serverStats.noteLatencyEvent('quorum-write', ms);
        if (finish) finish(result);
        else settled = result;
      }, release, verified);
    } catch (err) {
      // A record that cannot be encoded is a bug: answer it, never take the process down.
      release();
      this.logger.error({ err }, 'a write could not be replicated');
      return this.failGroup(group, 'ERR internal error: the write could not be stored');
    }
    const answerAll = (result: JobResult): void => {
      group.forEach((m, i) => {
        this.answerWrite(m.job, result, answers[i]!, runs[i]!, m.target.out());
        m.target.done();
        m.resolve?.(result);
      });
    };
    if (settled) {
      release();
      answerAll(settled);
      return settled;
    }
    for (const m of group) m.target.suspend();
    return new Promise<JobResult>((resolve) => {
      finish = (result) => {
        release();
        answerAll(result);
        resolve(result);
      };
    });
  }

  /**
   * A run whose writes missed W answers the commands before its first write as they ran; that
   * write and every later command get NOREPLICAS, since what they saw may never become visible to
   * other readers (the write may or may not have been applied).
   */
  private answerWrite(job: CoordinatedJob, result: JobResult, answer: Buffer, run: RunReplies, out: ReplyWriter): void {
    if (result.acked >= Math.min(job.w, job.replicas.length)) {
      out.raw(answer);
      return;
    }
    this.stats.quorumFailures++;
    const first = Math.max(0, run.firstWrite);
    if (first > 0) out.raw(answer.subarray(0, run.ends[first - 1]));
    this.failAll(out, 1, `NOREPLICAS Not enough good replicas to write (acknowledged by ${result.acked} of ${job.w} required)`);
    this.failAll(out, job.steps.length - first - 1, 'NOREPLICAS An earlier write of this pipeline was not acknowledged by enough replicas');
  }

  private localRecords(slot: number, keys: readonly Buffer[]): Array<StoredRecord | undefined> {
    return keys.map((k) => this.store.get(slot, k));
  }

  /** Reads the keys from R replicas (local first), newest version per key; undefined when R cannot be met. */
  private async readKeys(job: CoordinatedJob, ids: readonly string[]): Promise<ReadResult | undefined> {
    const me = this.replicas.myId;
    const local = job.replicas.includes(me);
    const records = new Map<string, StoredRecord | undefined>();
    const r = Math.min(job.r, job.replicas.length);
    const moving = job.previousReplicas.length > 0;
    if (local && (job.blind || (r <= 1 && !moving))) {
      const recs = this.localRecords(job.slot, job.keys);
      ids.forEach((id, i) => records.set(id, recs[i]));
      return { records };
    }
    // While a slot moves, the replicas that held it before are asked first: new owners may still be empty.
    const all = moving ? [...job.previousReplicas, ...job.replicas] : job.replicas;
    // While moving, one answer per old owner on top of R: any that many answers hold at least R from
    // current owners, so the read still meets every write quorum of the current owners, and (old
    // owners being asked first) an empty new owner alone can never make a key look absent.
    const needed = moving ? r + job.previousReplicas.length : r;
    const quorum = new ReadQuorum(needed, all, job.keys.length);
    if (local) quorum.receive(me, this.localRecords(job.slot, job.keys));
    const candidates = all.filter((id) => id !== me);
    for (const id of candidates) if (!this.replicas.reachable(id)) quorum.fail(id);
    const queue = candidates.filter((id) => this.replicas.reachable(id));
    const roundStarted = performance.now();
    await new Promise<void>((resolve) => {
      let inFlight = 0;
      let extra = 0;
      const finish = (): void => {
        this.hedgeable.delete(hedge);
        resolve();
      };
      const launch = (): void => {
        while (quorum.state === 'pending' && queue.length > 0 && quorum.answered + inFlight < needed + extra) {
          const id = queue.shift()!;
          inFlight++;
          this.replicas.read(id, job.slot, job.keys).then(
            (bufs) => quorum.receive(id, bufs.map((b) => (b ? this.observe(decodeRecord(b)) : undefined))),
            () => quorum.fail(id),
          ).finally(() => {
            inFlight--;
            if (quorum.state !== 'pending' || (queue.length === 0 && inFlight === 0)) finish();
            else launch();
          });
        }
        if (quorum.state !== 'pending' || (queue.length === 0 && inFlight === 0)) finish();
      };
      const hedge = (): void => {
        this.hedgeable.delete(hedge);
        if (quorum.state !== 'pending' || queue.length === 0) return;
        this.stats.hedgedReads++;
        extra = 1;
        launch();
      };
      launch();
      if (quorum.state === 'pending' && queue.length > 0) this.hedgeable.set(hedge, this.hedgeTicks);
    });
    const roundMs = performance.now() - roundStarted;
    this.serverStats.quorumLatency.observe(QUORUM_ROUND_READ, roundMs / 1000);
    this.serverStats.noteLatencyEvent('quorum-read', roundMs);
    if (quorum.state !== 'met') return undefined;
    ids.forEach((id, i) => records.set(id, quorum.newest(i)));
    return { records, quorum };
  }

  /**
   * Asks one more replica for each quorum read that has waited a whole hedge interval. The cluster
   * node calls it every READ_HEDGE_INTERVAL_MS (the simulation on its own clock): counting calls
   * instead of reading a clock keeps the simulation deterministic, and no read arms a timer.
   */
  hedgeReads(): void {
    const tick = this.hedgeTicks++;
    for (const [hedge, began] of this.hedgeable) if (began < tick) hedge();
  }

  private observe(rec: StoredRecord): StoredRecord {
    this.versioner.hlc.observe(rec.version, this.versioner.now());
    return rec;
  }

  /** Sends the newest record to replicas that answered with an older one; never delays the reply. */
  private repair(job: CoordinatedJob, quorum: ReadQuorum): void {
    const byNode = new Map<string, Array<[Buffer, Buffer]>>();
    job.keys.forEach((key, i) => {
      const newest = quorum.newest(i);
      if (!newest) return;
      const stale = quorum.stale(i);
      if (stale.length === 0) return;
      const sent = this.inFlight.size > 0 ? this.inFlight.get(key.toString('latin1'))?.version : undefined;
      const onItsWay = sent !== undefined && compareVersions(sent, newest.version) >= 0;
      for (const node of stale) {
        if (node === this.replicas.myId) {
          // This replica may have caught up since it was read (a write of this node's landed).
          const here = this.store.get(job.slot, key);
          if (here === undefined || compareVersions(here.version, newest.version) < 0) {
            this.stats.readRepairs++;
            this.store.put(job.slot, key, newest);
          }
          continue;
        }
        if (onItsWay) continue;
        let items = byNode.get(node);
        if (!items) byNode.set(node, (items = []));
        items.push([key, encodeRecord(newest)]);
      }
    });
    for (const [node, items] of byNode) {
      this.stats.readRepairs += items.length;
      this.replicas.write(node, job.slot, items).catch((err: unknown) => this.logger.debug({ err, node }, 'read repair failed'));
    }
  }

  /**
   * Stamps the overlay's writes and sends them to every replica; calls `settle` once W acked or W
   * became impossible, synchronously when no remote answer is needed.
   */
  private replicate(
    job: CoordinatedJob,
    ks: OverlayKeyspace,
    before: Map<string, StoredRecord | undefined>,
    settle: (result: JobResult) => void,
    appliedHere: () => void,
    verified: boolean,
    attempt = 0,
  ): void {
    const now = ks.now;
    const items: Array<[Buffer, Buffer]> = [];
    const records: Array<[Buffer, StoredRecord]> = [];
    const ids: string[] = [];
    // Elements carry no vector clock: only their collection's metadata record counts writers.
    let elementVersion: Buffer | undefined;
    for (const [id, w] of ks.writes) {
      if (w.element) {
        elementVersion ??= this.versioner.hlc.now(now);
        const rec: StoredRecord = { version: elementVersion, clock: NO_CLOCK, type: w.type, expiresAt: 0, value: w.value };
        records.push([w.key, rec]);
        items.push([w.key, encodeRecord(rec)]);
        ids.push(id);
        continue;
      }
      const prev = before.get(id) ?? this.store.get(job.slot, w.key);
      // A version read from a replica whose clock ran ahead (or from before our own restart) must be
      // exceeded, or last-writer-wins would keep the older value over the one acknowledged now.
      if (prev) this.versioner.hlc.observe(prev.version, now);
      const { version, clock } = this.versioner.stamp(now, prev?.clock);
      // A collection's metadata names the version it was computed from (collection-lineage.ts).
      const value = isCollectionType(w.type) ? stampBase(prev, w.type, w.value as Buffer) : w.value;
      const rec: StoredRecord = { version, clock, type: w.type, expiresAt: w.expiresAt, value };
      if (w.form !== undefined) rec.form = w.form;
      records.push([w.key, rec]);
      items.push([w.key, encodeRecord(rec)]);
      ids.push(id);
    }
    const required = Math.min(job.w, job.replicas.length);
    // Fallbacks take the place of unreachable owners (sloppy quorum); their hints count as acks.
    const leased = job.epoch !== undefined;
    const quorum = new WriteQuorum(required, leased ? job.replicas : [...job.replicas, ...job.fallbacks]);
    const me = this.replicas.myId;
    const fallbacks = leased ? [] : job.fallbacks.filter((id) => !job.replicas.includes(id));
    let nextFallback = 0;
    {
      // Every owner counts as launched up front: an answer that arrives synchronously must not make
      // the round look finished before the other owners were even asked.
      let launched = job.replicas.length;
      let answered = 0;
      let settled = false;
      let restamped = false;
      let finishAll!: (n: number) => void;
      const allAcked = new Promise<number>((r) => (finishAll = r));
      /**
       * A leased write reaches this node's own replica only after another replica accepted it. A
       * coordinator stopped mid-run (SIGSTOP, a long pause) resumes with a read taken before its
       * lease ran out; the replicas that granted its successor refuse the write, and without this
       * rule it would still land here, stamped after the successor's writes, and win over them.
       */
      const remotes = job.replicas.filter((id) => id !== me);
      let localPending = leased && remotes.length < job.replicas.length && remotes.length > 0;
      const flight = this.sendOut(ids, records, localPending);
      const check = (): void => {
        const exhausted = answered === launched;
        if (exhausted) {
          finishAll(quorum.acked);
          flight.answered();
        }
        if (settled || (quorum.state !== 'met' && !exhausted)) return;
        settled = true;
        settle({ acked: quorum.acked, allAcked });
      };
      const ack = (id: string): void => {
        answered++;
        quorum.ack(id);
        check();
      };
      /**
       * A replica already held a newer version: this node's clock was behind one that stamped that
       * version (a restart, a partition, skew). Acknowledging would let the older write win, so the
       * writes go out again stamped above it; the client is answered by that round. Past the
       * attempts (writers racing each other) the writes are concurrent and either may win.
       * Once the client has its answer the write is never stamped again: a later stamp could
       * overtake writes that started after that answer.
       */
      const superseded = (id: string, newer: Buffer): void => {
        this.versioner.hlc.observe(newer, this.versioner.now());
        if (settled || attempt >= RESTAMP_ATTEMPTS) return ack(id);
        // A leased write is stamped again only under the lease it was computed under. Once that ran
        // out, the newer version may be a successor's acknowledged write: stamped above it, this
        // stale one would land on replicas that never granted the successor (nothing fences it
        // there) and win over the acknowledged value at the next read repair. It failed here.
        if (leased && !this.leaseHeld(job.slot, job.epoch!)) return nack(id);
        answered++;
        if (!restamped) {
          restamped = true;
          this.stats.restamps++;
          settled = true;
          localPending = false;
          flight.landed();
          this.replicate(job, ks, before, settle, appliedHere, verified, attempt + 1);
        }
        check();
      };
      const nack = (id: string, retryFor?: string): void => {
        quorum.nack(id);
        // Launch a fallback before counting this answer, so the quorum is not judged in between.
        if (retryFor !== undefined) handOff(retryFor);
        answered++;
        check();
      };
      const handOff = (owner: string): void => {
        while (nextFallback < fallbacks.length) {
          const f = fallbacks[nextFallback++]!;
          if (f === me || !this.replicas.reachable(f)) continue;
          launched++;
          this.hintedHandoffs++;
          this.replicas.writeHint(f, owner, job.slot, items).then(() => ack(f), () => nack(f, owner));
          return;
        }
      };
      const refused = (id: string, err: unknown): void => {
        if (!(err instanceof FencedError)) return nack(id, id);
        this.onFenced(job.slot, job.epoch!);
        nack(id);
      };
      const applyHere = (): void => {
        if (leased && this.fence(job.slot, job.epoch!)) {
          refused(me, new FencedError());
          return;
        }
        const outcomes = this.applyLocalAll(job.slot, records.map(([key, record], i) => ({ key, record, encoded: items[i]![1] })));
        outcomes.forEach((newer, i) => {
          if (newer !== undefined && records[i]![1].type !== ValueType.Element && isCollectionType(records[i]![1].type as ValueType)) {
            this.logger.warn({ slot: job.slot, key: records[i]![0].toString('latin1').slice(0, 200) }, 'a collection write lost to newer metadata on its own coordinator');
          }
        });
        this.trackComplete(records, verified);
        appliedHere();
        if (this.store.hasPendingDurability()) this.store.afterDurable((err) => (err ? nack(me) : ack(me)));
        else ack(me);
      };
      let remoteLeft = remotes.length;
      const remoteDone = (accepted: boolean): void => {
        remoteLeft--;
        if (!localPending) return;
        if (accepted) {
          localPending = false;
          try {
            applyHere();
          } finally {
            flight.landed();
          }
        } else if (remoteLeft === 0) {
          localPending = false;
          flight.landed();
          nack(me);
        }
      };
      for (const id of job.replicas) {
        if (id === me) {
          if (!localPending) applyHere();
        } else if (!this.replicas.reachable(id)) {
          remoteDone(false);
          nack(id, id);
        } else {
          this.replicas.write(id, job.slot, items, job.epoch).then(
            (newer) => {
              if (newer) return superseded(id, newer);
              remoteDone(true);
              ack(id);
            },
            (err: unknown) => {
              remoteDone(false);
              refused(id, err);
            },
          );
        }
      }
      // Old replicas of a moving slot keep receiving writes, so reads that still ask them stay current.
      for (const id of job.previousReplicas) {
        if (id !== me && this.replicas.reachable(id)) this.replicas.write(id, job.slot, items).catch(() => undefined);
      }
    }
  }

  /**
   * Notes a write's records as sent (`inFlight`); collection metadata that lands here only after
   * another replica took it (`landsLater`) holds reads of its version until `landed` is called.
   * `answered`: every replica answered (it implies `landed`). Both may be called more than once.
   */
  private sendOut(ids: readonly string[], records: ReadonlyArray<[Buffer, StoredRecord]>, landsLater: boolean): { landed(): void; answered(): void } {
    for (let i = 0; i < ids.length; i++) {
      const rec = records[i]![1];
      const waiting = landsLater && rec.type !== ValueType.Element && isCollectionType(rec.type as ValueType) ? [] : undefined;
      // Readers of an earlier version still waiting look again (and find this replica behind).
      this.release(this.inFlight.get(ids[i]!));
      this.inFlight.set(ids[i]!, { version: rec.version, landing: waiting });
    }
    const mine = (i: number): InFlightWrite | undefined => {
      const f = this.inFlight.get(ids[i]!);
      return f !== undefined && f.version.equals(records[i]![1].version) ? f : undefined;
    };
    const landed = (): void => {
      if (landsLater) for (let i = 0; i < ids.length; i++) this.release(mine(i));
    };
    return {
      landed,
      answered: () => {
        landed();
        for (let i = 0; i < ids.length; i++) if (mine(i) !== undefined) this.inFlight.delete(ids[i]!);
      },
    };
  }

  /** Wakes the reads waiting for the write to land here. */
  private release(f: InFlightWrite | undefined): void {
    const waiting = f?.landing;
    if (waiting === undefined) return;
    f!.landing = undefined;
    for (const w of waiting) w();
  }

  /** Resolves once the leased write of `version` to `id` was applied here or failed (undefined when none is on its way here). */
  private landedHere(id: string, version: Buffer): Promise<void> | undefined {
    const f = this.inFlight.get(id);
    const waiting = f?.landing;
    if (waiting === undefined || !f!.version.equals(version)) return undefined;
    return new Promise((resolve) => waiting.push(resolve));
  }

  /** A write coordinated here from a complete view leaves this replica complete at its new version. */
  private trackComplete(records: ReadonlyArray<[Buffer, StoredRecord]>, verified: boolean): void {
    for (const [key, rec] of records) {
      if (rec.type === ValueType.Element) continue;
      const id = key.toString('latin1');
      if (verified && isCollectionType(rec.type)) this.complete.mark(id, rec.version);
      else this.complete.forget(id);
    }
  }

  /** A fresh collection generation: the first 8 bytes (time and counter) of a new HLC version. */
  private newGeneration(): Buffer {
    return Buffer.from(this.versioner.hlc.now(this.versioner.now()).subarray(0, 8));
  }

  /**
   * Applies a replicated record (last writer wins), counting concurrent writes the clocks reveal.
   * Returns the version kept instead when a strictly newer one was already here.
   */
  applyLocal(slot: number, key: Buffer, rec: StoredRecord, encoded?: Buffer): Buffer | undefined {
    return this.judgeApplied(slot, key, rec, this.store.put(slot, key, rec, encoded));
  }

  /**
   * applyLocal for several records of one slot (one write's records), stored so that a crash
   * keeps all of them or none; the result per item as applyLocal's.
   */
  applyLocalAll(slot: number, items: ReadonlyArray<PutItem>): Array<Buffer | undefined> {
    const outcomes = putRecords(this.store, slot, items);
    return outcomes.map((outcome, i) => this.judgeApplied(slot, items[i]!.key, items[i]!.record, outcome));
  }

  /** Counts a concurrent write the clocks reveal; the version kept instead when a strictly newer one was here. */
  private judgeApplied(slot: number, key: Buffer, rec: StoredRecord, outcome: PutOutcome): Buffer | undefined {
    const prev = outcome.previous;
    if (prev && isConcurrent(prev, rec)) {
      this.serverStats.concurrentWrites++;
      this.logger.debug({ slot, key: key.toString('latin1').slice(0, 64) }, 'concurrent write resolved by last-writer-wins');
    }
    return !outcome.applied && prev !== undefined && compareVersions(prev.version, rec.version) > 0 ? prev.version : undefined;
  }
}

function isConcurrent(a: StoredRecord, b: StoredRecord): boolean {
  return a.clock.length > 0 && b.clock.length > 0 && compareClocks(a.clock, b.clock) === 'concurrent';
}

/**
 * Whether `job` may run in the group `first` leads: besides the keys, slot, read quorum and
 * replicas (the share key), the same write quorum, lease and read kind, so one read and one
 * replica write serve both exactly as they would each have been served.
 */
function joinable(first: CoordinatedJob, job: CoordinatedJob): boolean {
  return job.leaseRetries === undefined && job.epoch === first.epoch && job.w === first.w && job.blind === first.blind &&
    job.fallbacks.length === first.fallbacks.length && job.fallbacks.every((id, i) => id === first.fallbacks[i]);
}
