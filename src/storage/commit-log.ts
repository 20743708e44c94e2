import fs from 'node:fs';
import { crc32 } from 'node:zlib';
import {
  FRAME_HEAD_BYTES,
  LOG_PAYLOAD_MAX,
  SYNC_MARK_FRAME_BYTES,
  fsClose,
  fsDatasync,
  fsOpen,
  listSegments,
  replaySegment,
  segmentMask,
  segmentPath,
  sparePath,
  syncDir,
  writeSyncMark,
  writeZeroFile,
} from './log-segments.js';
import type { StoreLogger } from './store-logger.js';
import type { FsyncPolicy } from './types.js';

export { LOG_PAYLOAD_MAX } from './log-segments.js';

/**
 * Sequential, append-only commit log in numbered segment files (frame format: log-segments.ts).
 *
 * Group commit: every entry committed during one event-loop turn goes out in one fs.write. At
 * most one write (+ fdatasync under `always`) is in flight; entries arriving meanwhile accumulate
 * into the next group, so the sync rate follows the disk, not the request rate. All file I/O is
 * asynchronous so the event loop keeps serving while the disk works.
 *
 * Segments let the log be truncated: the store seals the current segment when it freezes a
 * memtable and retires every sealed segment once LMDB holds those entries. Retired files are kept
 * (up to SPARE_SEGMENTS_MAX) and written over by later segments, and under `always` a zero-filled
 * spare is prepared when none is left, so appends land in allocated blocks and fdatasync does not
 * wait for a filesystem journal commit.
 */

/** Default size at which a segment is closed and the next one started (and of prepared spares). */
export const DEFAULT_SEGMENT_BYTES = 32 << 20;
const SPARE_SEGMENTS_MAX = 2;
/**
 * A prepared spare is twice what the last sealed segment held, between this and the segment size:
 * a node holding little data keeps a data directory of a few MiB instead of two 32 MiB files, and
 * one under steady writes gets full-size spares from its second segment on.
 */
const SPARE_MIN_BYTES = 1 << 20;
const GROUP_INITIAL_BYTES = 64 * 1024;
/** Group buffers up to this size are reused; bigger ones are left to the GC. */
const GROUP_REUSE_MAX_BYTES = 8 << 20;
const SPARE_BUFFERS_MAX = 2;
const EVERYSEC_MS = 1000;
/** How often a write that found the disk full is tried again (Redis: every cron tick). */
const STALL_RETRY_MS = 1000;
const END_MARK_BYTES = FRAME_HEAD_BYTES;

type DurableCallback = (err?: Error) => void;

/** Entries for one write. `buf` starts with room for its sync mark, filled in when written. */
interface Group {
  kind: 'group';
  buf: Buffer;
  /** Bytes in use, the sync mark's included. */
  used: number;
  callbacks: DurableCallback[];
}

/** Closes the current segment (synced unless `no`); resolves with the last segment id used. */
interface SealStep {
  kind: 'seal';
  done: (sealed: number) => void;
}

/** Forces an fdatasync of everything written so far, whatever the policy. */
interface SyncStep {
  kind: 'sync';
  done: (err?: Error) => void;
}

type Step = Group | SealStep | SyncStep;

interface SpareFile {
  file: string;
  bytes: number;
}

export interface CommitLogOptions {
  dir: string;
  appendfsync: FsyncPolicy;
  logger: StoreLogger;
  segmentBytes?: number;
}

export interface ReplaySummary {
  segments: number;
  entries: number;
  bytes: number;
  truncatedBytes: number;
}

export class CommitLog {
  /** Told how long each fdatasync took (LATENCY's fsync event); set by the node. */
  onLatency: ((event: string, ms: number) => void) | undefined;
  private readonly dir: string;
  private policy: FsyncPolicy;
  private readonly logger: StoreLogger;
  private readonly segmentBytes: number;
  /** Segment ids on disk with the bytes of log they hold. */
  private readonly segments = new Map<number, number>();
  private readonly spares: SpareFile[] = [];
  private spareSeq: number;
  private preparingSpare = false;
  /** Bytes the last sealed segment held (what sizes the next prepared spare). */
  private lastSegmentUsed = 0;
  /** Id the next segment file will get. */
  private nextSegment: number;
  private open: Group | null = null;
  private readonly queue: Step[] = [];
  /** The group being written/synced, until its callbacks have fired. */
  private inflight: Group | null = null;
  private draining = false;
  private flushScheduled = false;
  private syncDue = false;
  private fd: number | null = null;
  private fdSegment = -1;
  private fdMask = 0;
  private fdPos = 0;
  /** How much of the current segment a completed fdatasync covers (each group's sync mark says). */
  private fdSyncedPos = 0;
  private fdDirty = false;
  private failed: Error | null = null;
  /**
   * A group write found no space (ENOSPC, EDQUOT): unlike other failures this one leaves the file
   * as trustworthy as before (the write did not happen, or only in part, and is redone whole), so
   * the group stays first in the queue and is tried again every STALL_RETRY_MS until it goes
   * through. Meanwhile entries are still taken (the store's memory must match the log once it
   * catches up) but nothing is acknowledged: afterDurable reports this error.
   */
  private stalled: Error | null = null;
  private stalledAt = 0;
  private stallTimer: NodeJS.Timeout | null = null;
  /** The retry timer fired: drain may try the stalled group once. */
  private retrying = false;
  private closed = false;
  /** Frame being built between reserveFrame and commitFrame (null: discarded after a failure). */
  private frameGroup: Group | null = null;
  private frameLength = 0;
  private discard: Buffer = Buffer.alloc(0);
  private readonly spareBuffers: Buffer[] = [];
  private everysecTimer: NodeJS.Timeout | null;
  private readonly counters = { groupWrites: 0, fsyncs: 0, bytesWritten: 0 };

  private constructor(opts: CommitLogOptions, listing: Awaited<ReturnType<typeof listSegments>>) {
    this.dir = opts.dir;
    this.policy = opts.appendfsync;
    this.logger = opts.logger;
    this.segmentBytes = opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    for (const s of listing.segments) this.segments.set(s.id, s.bytes);
    for (const s of listing.spares) this.spares.push({ file: s.file, bytes: s.bytes });
    this.spareSeq = listing.spares.length > 0 ? listing.spares[listing.spares.length - 1]!.seq + 1 : 1;
    // Above every id a file here was written under, spares included: a fully retired log must not
    // start again at an id whose frames a reused spare still holds.
    this.nextSegment = listing.highestId + 1;
    this.everysecTimer = this.policy === 'everysec' ? setInterval(() => this.requestSync(), EVERYSEC_MS) : null;
    this.everysecTimer?.unref();
  }

  /** Lists the segments in `dir` (created if missing). Call replay() before appending. */
  static async open(opts: CommitLogOptions): Promise<CommitLog> {
    await fs.promises.mkdir(opts.dir, { recursive: true });
    const log = new CommitLog(opts, await listSegments(opts.dir));
    log.prepareSpare();
    return log;
  }

  /**
   * Feeds every intact payload of every segment, oldest first, to `onEntry` (a view into a reused
   * read buffer: copy what you keep). A torn or corrupt frame ends its segment and the rest of the
   * file is cut off: under `always` such a tail was never acknowledged. Later segments are still
   * replayed; a cut before the last segment means the disk lost synced data and is logged as an error.
   */
  async replay(onEntry: (payload: Buffer) => void | Promise<void>): Promise<ReplaySummary> {
    const summary: ReplaySummary = { segments: 0, entries: 0, bytes: 0, truncatedBytes: 0 };
    const ids = [...this.segments.keys()].sort((a, b) => a - b);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const result = await replaySegment(segmentPath(this.dir, id), id, onEntry);
      summary.segments++;
      summary.entries += result.entries;
      summary.bytes += result.validBytes;
      this.segments.set(id, result.validBytes);
      if (result.cutBytes > 0) {
        summary.truncatedBytes += result.cutBytes;
        const info = { segment: id, offset: result.validBytes, droppedBytes: result.cutBytes, reason: result.reason };
        if (i === ids.length - 1) this.logger.warn(info, 'commit log: torn tail truncated (unacknowledged writes or reused file space)');
        else this.logger.error(info, 'commit log: bad entry inside a sealed segment; the rest of that segment is lost');
      }
    }
    return summary;
  }

  /**
   * Starts an entry of `length` payload bytes: the caller writes the payload into `frameBuffer`
   * at the returned offset, then calls commitFrame(). Encoding in place saves a copy per write.
   * The entry goes to disk with everything else committed in this event-loop turn.
   */
  reserveFrame(length: number): number {
    if (this.closed) throw new Error('commit log is closed');
    if (!(length > 0 && length <= LOG_PAYLOAD_MAX)) throw new RangeError(`log payload of ${length} bytes`);
    this.frameLength = length;
    if (this.failed) {
      // Nothing can be made durable any more (afterDurable reports why); encode into a throwaway.
      if (this.discard.length < length) this.discard = Buffer.allocUnsafe(length);
      this.frameGroup = null;
      return 0;
    }
    const group = this.groupWithRoom(FRAME_HEAD_BYTES + length + END_MARK_BYTES);
    this.frameGroup = group;
    return group.used + FRAME_HEAD_BYTES;
  }

  /** Where the payload of the frame being built goes (valid until commitFrame). */
  get frameBuffer(): Buffer {
    return this.frameGroup ? this.frameGroup.buf : this.discard;
  }

  /**
   * Seals the frame started by reserveFrame with its length and crc32. The segment mask is
   * applied when the group is written, once it is known which segment the group lands in.
   */
  commitFrame(): void {
    const group = this.frameGroup;
    if (group === null) return;
    this.frameGroup = null;
    const o = group.used;
    const len = this.frameLength;
    group.buf.writeUInt32BE(len, o);
    group.buf.writeUInt32BE(crc32(group.buf.subarray(o + FRAME_HEAD_BYTES, o + FRAME_HEAD_BYTES + len)), o + 4);
    group.used += FRAME_HEAD_BYTES + len;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.onTurnEnd);
    }
  }

  /** Appends a ready-made payload (a copy; hot paths use reserveFrame). */
  append(payload: Buffer): void {
    const at = this.reserveFrame(payload.length);
    payload.copy(this.frameBuffer, at);
    this.commitFrame();
  }

  /**
   * CONFIG SET appendfsync: applies to groups written from now on. Switching to `always` also syncs
   * what is already written, so nothing acknowledged later depends on an older, unsynced group.
   */
  setPolicy(policy: FsyncPolicy): void {
    if (policy === this.policy) return;
    this.policy = policy;
    if (this.everysecTimer) clearInterval(this.everysecTimer);
    this.everysecTimer = policy === 'everysec' ? setInterval(() => this.requestSync(), EVERYSEC_MS) : null;
    this.everysecTimer?.unref();
    if (policy !== 'no') this.requestSync();
  }

  /** Calls `cb` once everything committed so far is as durable as the policy promises. */
  afterDurable(cb: DurableCallback): void {
    const failure = this.failure;
    if (failure) {
      const err = failure;
      queueMicrotask(() => cb(err));
      return;
    }
    const group = this.lastPendingGroup();
    if (group) group.callbacks.push(cb);
    else queueMicrotask(() => cb());
  }

  /** The write or fdatasync failure that stopped the log, or the full disk it waits on, or null. */
  get failure(): Error | null {
    return this.failed ?? this.stalled;
  }

  /**
   * True while something appended is not yet durable, and for good once the log has failed: the
   * entries appended since are thrown away, so whoever would acknowledge them must ask afterDurable,
   * which reports the failure. (It answered false after a failure, and every later write was
   * acknowledged without reaching the disk.) Also true while stalled on a full disk.
   */
  hasPendingDurability(): boolean {
    return this.failure !== null || this.lastPendingGroup() !== null;
  }

  /**
   * Stops retrying a write stalled on a full disk: the log fails for good, so that a seal or sync
   * queued behind the stalled group completes (closing the store waits for them).
   */
  endStall(): void {
    const err = this.stalled;
    if (err === null) return;
    this.fail(err);
    this.kick();
  }

  /**
   * Ends the current segment: later entries go to a new one. `done` resolves, once every earlier
   * entry is written and the file closed, with the id of the last segment holding them; segments
   * up to it may then be retired.
   */
  rotate(): { done: Promise<number> } {
    this.enqueueOpenGroup();
    const done = new Promise<number>((resolve) => this.queue.push({ kind: 'seal', done: resolve }));
    this.kick();
    return { done };
  }

  /** fdatasyncs everything committed so far, even under `everysec`/`no` (used by FLUSHALL). */
  syncNow(): Promise<void> {
    this.enqueueOpenGroup();
    const done = new Promise<void>((resolve, reject) =>
      this.queue.push({ kind: 'sync', done: (err) => (err ? reject(err) : resolve()) }),
    );
    this.kick();
    return done;
  }

  /**
   * Retires every segment up to and including `segment`, oldest first, each retirement durable
   * before the next: whatever a crash leaves is a suffix of the log, which replays correctly on
   * top of LMDB. Only for ids a rotate() resolved with.
   */
  async retireThrough(segment: number): Promise<void> {
    if (segment >= this.fdSegment && this.fd !== null) throw new Error(`segment ${segment} is still being written`);
    const ids = [...this.segments.keys()].filter((id) => id <= segment).sort((a, b) => a - b);
    for (const id of ids) {
      const file = segmentPath(this.dir, id);
      this.segments.delete(id);
      if (this.spares.length < SPARE_SEGMENTS_MAX) {
        const spare = sparePath(this.dir, this.spareSeq++, id);
        await fs.promises.rename(file, spare);
        this.spares.push({ file: spare, bytes: (await fs.promises.stat(spare)).size });
      } else {
        await fs.promises.rm(file, { force: true });
      }
      await syncDir(this.dir);
    }
  }

  /** Writes and syncs what is pending, then closes the file. Spare files stay for the next open. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.endStall();
    await this.syncNow().catch(() => undefined);
    this.closed = true;
    if (this.everysecTimer) clearInterval(this.everysecTimer);
    await this.whenIdle();
    if (this.fd !== null) {
      await fsClose(this.fd);
      this.fd = null;
    }
    while (this.preparingSpare) await new Promise((r) => setTimeout(r, 5));
  }

  stats(): Record<string, number> {
    let bytes = 0;
    for (const size of this.segments.values()) bytes += size;
    let spareBytes = 0;
    for (const s of this.spares) spareBytes += s.bytes;
    let pending = this.open ? this.open.used - SYNC_MARK_FRAME_BYTES : 0;
    for (const step of this.queue) if (step.kind === 'group') pending += step.used - SYNC_MARK_FRAME_BYTES;
    return {
      logBytes: bytes,
      logSegments: this.segments.size,
      logSpareBytes: spareBytes,
      logPendingBytes: pending,
      logGroupWrites: this.counters.groupWrites,
      logFsyncs: this.counters.fsyncs,
      logBytesWritten: this.counters.bytesWritten,
      logFailed: this.failed ? 1 : 0,
      logStalled: this.stalled ? 1 : 0,
    };
  }

  private readonly onTurnEnd = (): void => {
    this.flushScheduled = false;
    // While a write is in flight, the open group keeps accumulating: it becomes the next group.
    if (!this.draining) {
      this.enqueueOpenGroup();
      this.kick();
    }
  };

  private requestSync(): void {
    if (!this.fdDirty) return;
    this.syncDue = true;
    this.kick();
  }

  private lastPendingGroup(): Group | null {
    if (this.open && hasEntries(this.open)) return this.open;
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const step = this.queue[i]!;
      if (step.kind === 'group') return step;
    }
    return this.inflight;
  }

  private groupWithRoom(bytes: number): Group {
    let group = this.open;
    if (!group) {
      group = { kind: 'group', buf: this.takeBuffer(SYNC_MARK_FRAME_BYTES + bytes), used: SYNC_MARK_FRAME_BYTES, callbacks: [] };
      this.open = group;
    } else if (group.buf.length - group.used < bytes) {
      const grown = Buffer.allocUnsafe(Math.max(group.buf.length * 2, group.used + bytes));
      group.buf.copy(grown, 0, 0, group.used);
      this.releaseBuffer(group.buf);
      group.buf = grown;
    }
    return group;
  }

  private takeBuffer(min: number): Buffer {
    const buf = this.spareBuffers.pop();
    if (buf && buf.length >= min) return buf;
    return Buffer.allocUnsafe(Math.max(min, GROUP_INITIAL_BYTES));
  }

  private releaseBuffer(buf: Buffer): void {
    if (buf.length <= GROUP_REUSE_MAX_BYTES && this.spareBuffers.length < SPARE_BUFFERS_MAX) this.spareBuffers.push(buf);
  }

  private enqueueOpenGroup(): void {
    if (this.open && hasEntries(this.open)) {
      this.queue.push(this.open);
      this.open = null;
    }
  }

  private kick(): void {
    if (!this.draining) void this.drain();
  }

  private whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (!this.draining && this.queue.length === 0) resolve();
        else setImmediate(check);
      };
      check();
    });
  }

  /** The single writer: takes steps in order, one at a time, until nothing is left. */
  private async drain(): Promise<void> {
    this.draining = true;
    try {
      for (;;) {
        // Stalled on a full disk: only the retry timer goes on.
        if (this.stalled !== null && !this.retrying) break;
        this.retrying = false;
        // A due everysec sync goes first so a steady stream of groups cannot postpone it.
        if (this.syncDue) {
          await this.runSync().catch((e: unknown) => this.fail(e));
          continue;
        }
        if (this.queue.length === 0) this.enqueueOpenGroup();
        const step = this.queue.shift();
        if (!step) break;
        await this.runStep(step);
      }
    } finally {
      this.draining = false;
    }
  }

  private async runStep(step: Step): Promise<void> {
    if (step.kind === 'group') {
      this.inflight = step;
      let err: Error | undefined;
      try {
        await this.writeGroup(step);
        if (this.stalled !== null) this.unstall();
      } catch (e) {
        if (this.failed === null && e instanceof NoSpaceError) {
          this.inflight = null;
          this.stall(step, e);
          return;
        }
        err = this.fail(e);
      }
      this.inflight = null;
      this.releaseBuffer(step.buf);
      for (const cb of step.callbacks) cb(err);
    } else if (step.kind === 'seal') {
      try {
        if (this.fd !== null) await this.closeFile();
      } catch (e) {
        this.fail(e);
      }
      step.done(this.nextSegment - 1);
    } else {
      try {
        if (this.failed) throw this.failed;
        await this.runSync(true);
        step.done();
      } catch (e) {
        step.done(this.fail(e));
      }
    }
  }

  private async writeGroup(group: Group): Promise<void> {
    if (this.failed) throw this.failed;
    if (this.fd !== null && this.fdPos > 0 && this.fdPos + group.used > this.segmentBytes) await this.closeFile();
    if (this.fd === null) await this.openFile(this.nextSegment++);
    // The mark tells replay how much of the file was durable before this group: damage there is
    // real, while damage at or after it may be this write torn by a power failure.
    writeSyncMark(group.buf, 0, this.fdSyncedPos);
    const mask = this.fdMask;
    applyMask(group, mask);
    // A zero frame header after the group marks where this segment's data ends, so replay can
    // tell the end of the log from what an earlier life of a reused file left behind. The next
    // group is written over it.
    group.buf.fill(0, group.used, group.used + END_MARK_BYTES);
    const fd = this.fd!;
    const total = group.used + END_MARK_BYTES;
    try {
      // A plain write only copies into the page cache: doing it here costs less than handing it to
      // the thread pool and back, which under load happens thousands of times a second.
      for (let off = 0; off < total; ) off += fs.writeSync(fd, group.buf, off, total - off, this.fdPos + off);
    } catch (e) {
      // Unmasked again, so a retry (after a full disk) can mask it anew.
      applyMask(group, mask);
      throw isNoSpace(e) ? new NoSpaceError(e) : e;
    }
    this.fdPos += group.used;
    this.counters.groupWrites++;
    this.counters.bytesWritten += group.used;
    this.segments.set(this.fdSegment, this.fdPos);
    this.fdDirty = true;
    if (this.policy === 'always') await this.runSync(true);
  }

  private async runSync(force = false): Promise<void> {
    this.syncDue = false;
    if (this.fd === null || !this.fdDirty) return;
    if (!force && this.policy === 'no') return;
    this.fdDirty = false;
    const covers = this.fdPos;
    const started = performance.now();
    await fsDatasync(this.fd);
    this.fdSyncedPos = covers;
    this.counters.fsyncs++;
    // Redis names its inline fsync under appendfsync always so; others here run beside the path.
    this.onLatency?.(this.policy === 'always' ? 'aof-fsync-always' : 'aof-fsync', performance.now() - started);
  }

  /** Opens segment `id`, over a spare file when there is one. */
  private async openFile(id: number): Promise<void> {
    const file = segmentPath(this.dir, id);
    const spare = this.spares.shift();
    const reused = spare !== undefined && (await fs.promises.rename(spare.file, file).then(() => true, () => false));
    // No inode or block for a new file: nothing was created, so it can be tried again.
    this.fd = await fsOpen(file, reused ? 'r+' : 'wx').catch((e: unknown) => {
      throw isNoSpace(e) ? new NoSpaceError(e) : e;
    });
    this.fdSegment = id;
    this.fdMask = segmentMask(id);
    this.fdPos = 0;
    this.fdSyncedPos = 0;
    this.fdDirty = false;
    this.segments.set(id, 0);
    // The file's new name must be durable before anything in it is acknowledged.
    if (this.policy !== 'no') await syncDir(this.dir);
    // Retired segments normally refill the spares; running dry means writes outpace checkpoints.
    if (!reused) this.prepareSpare();
  }

  private async closeFile(): Promise<void> {
    const fd = this.fd!;
    this.lastSegmentUsed = this.fdPos;
    if (this.policy !== 'no' && this.fdDirty) await this.runSync(true);
    this.fd = null;
    await fsClose(fd);
  }

  /**
   * Under `always`, makes one zero-filled spare in the background when there is none, so the
   * next segment is written over allocated blocks (retired segments keep the spares coming after).
   */
  private prepareSpare(): void {
    if (this.policy !== 'always' || this.spares.length > 0 || this.preparingSpare || this.closed) return;
    this.preparingSpare = true;
    const file = sparePath(this.dir, this.spareSeq++, 0);
    const bytes = Math.min(this.segmentBytes, Math.max(SPARE_MIN_BYTES, 2 * this.lastSegmentUsed));
    writeZeroFile(file, bytes)
      .then(() => syncDir(this.dir))
      .then(
        () => this.spares.push({ file, bytes }),
        (err: unknown) => this.logger.warn({ err: String(err) }, 'commit log: could not prepare a spare segment'),
      )
      .finally(() => (this.preparingSpare = false));
  }

  /**
   * `group` found the disk full: it goes back to the head of the queue to be written again. Every
   * write waiting on it or on a later group hears the error now (their entries stay queued and
   * reach the disk once there is room, as Redis keeps its AOF buffer), and so does every later one
   * until a retry succeeds. One log line for the episode.
   */
  private stall(group: Group, e: unknown): void {
    const err = e instanceof Error ? e : new Error(String(e));
    this.queue.unshift(group);
    if (this.stalled === null) {
      this.stalledAt = Date.now();
      this.logger.error(
        { err: err.message, retryMs: STALL_RETRY_MS },
        'commit log: disk full; writes are refused until there is room again (retried every second)',
      );
      this.stallTimer = setInterval(() => {
        this.retrying = true;
        this.kick();
      }, STALL_RETRY_MS);
      this.stallTimer.unref();
    }
    this.stalled = err;
    const waiting: Group[] = [];
    if (this.open) waiting.push(this.open);
    for (const step of this.queue) if (step.kind === 'group') waiting.push(step);
    for (const g of waiting) {
      const cbs = g.callbacks;
      g.callbacks = [];
      for (const cb of cbs) cb(err);
    }
  }

  private unstall(): void {
    this.logger.info({ stalledMs: Date.now() - this.stalledAt }, 'commit log: the stalled write went through; writes accepted again');
    this.clearStall();
  }

  private clearStall(): void {
    this.stalled = null;
    this.retrying = false;
    if (this.stallTimer) clearInterval(this.stallTimer);
    this.stallTimer = null;
  }

  private fail(e: unknown): Error {
    const err = e instanceof Error ? e : new Error(String(e));
    // A failure for good ends a stall: nothing is retried after it.
    if (this.stalled !== null) this.clearStall();
    if (!this.failed) {
      // After a failed write or fsync the page cache can no longer be trusted (fsyncgate), so
      // the log stops acknowledging for good; the operator restarts after fixing the disk. (A
      // write that only found the disk full is retried instead: stall().)
      this.failed = err;
      this.logger.error({ err: err.message }, 'commit log: write failed; no further writes will be acknowledged');
      const pending: Group[] = [];
      if (this.open) pending.push(this.open);
      for (const step of this.queue) if (step.kind === 'group') pending.push(step);
      this.open = null;
      for (const g of pending) {
        const cbs = g.callbacks;
        g.callbacks = [];
        for (const cb of cbs) cb(err);
      }
    }
    return this.failed;
  }
}

/** A call failed for want of space, which may come back (unlike an I/O error). */
function isNoSpace(e: unknown): e is NodeJS.ErrnoException {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/**
 * A write(2) or a file creation that found no space: retried. Only those: an fdatasync that fails,
 * whatever its errno, may have dropped dirty pages it will never write (fsyncgate), so it stops
 * the log for good.
 */
class NoSpaceError extends Error {
  readonly code: string | undefined;

  constructor(cause: NodeJS.ErrnoException) {
    super(cause.message);
    this.name = 'NoSpaceError';
    this.code = cause.code;
  }
}

function hasEntries(group: Group): boolean {
  return group.used > SYNC_MARK_FRAME_BYTES;
}

/** XORs the segment mask into each frame's checksum (see log-segments.ts). */
function applyMask(group: Group, mask: number): void {
  const buf = group.buf;
  for (let o = 0; o < group.used; ) {
    const len = buf.readUInt32BE(o);
    buf.writeUInt32BE((buf.readUInt32BE(o + 4) ^ mask) >>> 0, o + 4);
    o += FRAME_HEAD_BYTES + len;
  }
}
