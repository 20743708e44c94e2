import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import type { FsyncPolicy } from './types.js';
import type { StoreLogger } from './store-logger.js';

/**
 * Sequential, append-only commit log in numbered segment files. Each entry is framed
 * `u32 payload length ‖ u32 crc32(payload) ‖ payload` (big-endian).
 *
 * Group commit: everything appended during one event-loop turn is written with one fs.write. At
 * most one write (+ fdatasync under `always`) is in flight; appends arriving meanwhile accumulate
 * into the next group, so the sync rate adapts to the disk instead of to the request rate. All
 * file I/O is asynchronous so the event loop keeps serving while the disk works.
 *
 * Segments exist so the log can be truncated: the store rotates to a new segment when it freezes
 * a memtable, and deletes every segment up to that point once LMDB holds the frozen entries.
 */

const SEGMENT_RE = /^commit-(\d{16})\.log$/;
const FRAME_HEAD_BYTES = 8;
/** Entries above this are treated as corruption on replay (Redis caps values at 512 MB). */
export const LOG_PAYLOAD_MAX = 1 << 30;
const GROUP_INITIAL_BYTES = 64 * 1024;
/** Group buffers up to this size are reused; bigger ones are left to the GC. */
const GROUP_REUSE_MAX_BYTES = 8 << 20;
const SPARE_GROUPS_MAX = 2;
const REPLAY_CHUNK_BYTES = 1 << 20;
const EVERYSEC_MS = 1000;

type DurableCallback = (err?: Error) => void;

interface Group {
  kind: 'group';
  segment: number;
  buf: Buffer;
  used: number;
  callbacks: DurableCallback[];
}

/** Closes the file of `segment` (synced unless appendfsync is `no`) once all its groups are out. */
interface SealStep {
  kind: 'seal';
  segment: number;
  done: () => void;
}

/** Forces an fdatasync of everything written so far, whatever the policy. */
interface SyncStep {
  kind: 'sync';
  done: (err?: Error) => void;
}

type Step = Group | SealStep | SyncStep;

export interface CommitLogOptions {
  dir: string;
  appendfsync: FsyncPolicy;
  logger: StoreLogger;
}

export interface ReplaySummary {
  segments: number;
  entries: number;
  bytes: number;
  truncatedBytes: number;
}

export class CommitLog {
  private readonly dir: string;
  private readonly policy: FsyncPolicy;
  private readonly logger: StoreLogger;
  /** Segment ids present on disk (or about to be) with their sizes in bytes. */
  private readonly segments = new Map<number, number>();
  /** Segment that new appends go to. */
  private segment: number;
  private open: Group | null = null;
  private readonly queue: Step[] = [];
  /** The group being written/synced, until its callbacks have fired. */
  private inflight: Group | null = null;
  private draining = false;
  private flushScheduled = false;
  private syncDue = false;
  private fd: number | null = null;
  private fdSegment = -1;
  private fdPos = 0;
  private fdDirty = false;
  private failed: Error | null = null;
  /** Frame being built between reserveFrame and commitFrame (null: discarded after a failure). */
  private frameGroup: Group | null = null;
  private frameLength = 0;
  private discard: Buffer = Buffer.alloc(0);
  private closed = false;
  private readonly spare: Buffer[] = [];
  private readonly everysecTimer: NodeJS.Timeout | null;
  private readonly counters = { groupWrites: 0, fsyncs: 0, bytesWritten: 0 };

  private constructor(opts: CommitLogOptions, existing: number[], sizes: number[]) {
    this.dir = opts.dir;
    this.policy = opts.appendfsync;
    this.logger = opts.logger;
    existing.forEach((id, i) => this.segments.set(id, sizes[i]!));
    this.segment = existing.length > 0 ? existing[existing.length - 1]! + 1 : 1;
    this.everysecTimer = this.policy === 'everysec' ? setInterval(() => this.requestSync(), EVERYSEC_MS) : null;
    this.everysecTimer?.unref();
  }

  /** Lists the segments in `dir` (created if missing). Call replay() before appending. */
  static async open(opts: CommitLogOptions): Promise<CommitLog> {
    await fs.promises.mkdir(opts.dir, { recursive: true });
    const ids: number[] = [];
    for (const name of await fs.promises.readdir(opts.dir)) {
      const m = SEGMENT_RE.exec(name);
      if (m) ids.push(Number(m[1]));
    }
    ids.sort((a, b) => a - b);
    const sizes = await Promise.all(ids.map(async (id) => (await fs.promises.stat(segmentPath(opts.dir, id))).size));
    return new CommitLog(opts, ids, sizes);
  }

  /**
   * Feeds every intact payload of every segment, oldest first, to `onEntry` (a view into a reused
   * read buffer: copy what you keep). A torn or corrupt entry ends its segment: the file is cut
   * there, since under `always` such a tail was never acknowledged. Later segments are still
   * replayed; a cut before the last segment means the disk lost synced data and is logged as an error.
   */
  async replay(onEntry: (payload: Buffer) => void | Promise<void>): Promise<ReplaySummary> {
    const summary: ReplaySummary = { segments: 0, entries: 0, bytes: 0, truncatedBytes: 0 };
    const ids = [...this.segments.keys()].sort((a, b) => a - b);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const result = await replaySegment(segmentPath(this.dir, id), onEntry);
      summary.segments++;
      summary.entries += result.entries;
      summary.bytes += result.validBytes;
      this.segments.set(id, result.validBytes);
      if (result.cutBytes > 0) {
        summary.truncatedBytes += result.cutBytes;
        const info = { segment: id, offset: result.validBytes, droppedBytes: result.cutBytes, reason: result.reason };
        if (i === ids.length - 1) this.logger.warn(info, 'commit log: torn tail truncated (unacknowledged writes)');
        else this.logger.error(info, 'commit log: corrupt entry in a sealed segment; the rest of that segment is lost');
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
    const group = this.groupWithRoom(FRAME_HEAD_BYTES + length);
    this.frameGroup = group;
    return group.used + FRAME_HEAD_BYTES;
  }

  /** Where the payload of the frame being built goes (valid until commitFrame). */
  get frameBuffer(): Buffer {
    return this.frameGroup ? this.frameGroup.buf : this.discard;
  }

  /** Seals the frame started by reserveFrame with its length and checksum. */
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

  /** Appends a ready-made payload (a copy; prefer reserveFrame on hot paths). */
  append(payload: Buffer): void {
    const at = this.reserveFrame(payload.length);
    payload.copy(this.frameBuffer, at);
    this.commitFrame();
  }

  /** Calls `cb` once everything appended so far is as durable as the policy promises. */
  afterDurable(cb: DurableCallback): void {
    if (this.failed) {
      const err = this.failed;
      queueMicrotask(() => cb(err));
      return;
    }
    const group = this.lastPendingGroup();
    if (group) group.callbacks.push(cb);
    else queueMicrotask(() => cb());
  }

  hasPendingDurability(): boolean {
    return this.lastPendingGroup() !== null;
  }

  /**
   * Ends the current segment: later appends go to a new one. `done` resolves once the sealed
   * segment's file is completely written and closed, after which it may be deleted.
   */
  rotate(): { sealed: number; done: Promise<void> } {
    this.enqueueOpenGroup();
    const sealed = this.segment;
    this.segment++;
    const done = new Promise<void>((resolve) => this.queue.push({ kind: 'seal', segment: sealed, done: resolve }));
    this.kick();
    return { sealed, done };
  }

  /** fdatasyncs everything appended so far, even under `everysec`/`no` (used by FLUSHALL). */
  syncNow(): Promise<void> {
    this.enqueueOpenGroup();
    const done = new Promise<void>((resolve, reject) =>
      this.queue.push({ kind: 'sync', done: (err) => (err ? reject(err) : resolve()) }),
    );
    this.kick();
    return done;
  }

  /**
   * Deletes every segment up to and including `segment`, oldest first, making each deletion
   * durable before the next: whatever a crash leaves is a suffix of the log, which replays
   * correctly on top of LMDB. Only call for segments that rotate() has sealed and closed.
   */
  async deleteThrough(segment: number): Promise<void> {
    if (segment >= this.segment) throw new Error(`segment ${segment} is still being written`);
    const ids = [...this.segments.keys()].filter((id) => id <= segment).sort((a, b) => a - b);
    for (const id of ids) {
      await fs.promises.rm(segmentPath(this.dir, id), { force: true });
      this.segments.delete(id);
      await syncDir(this.dir);
    }
  }

  /** Writes and syncs what is pending, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.syncNow().catch(() => undefined);
    this.closed = true;
    if (this.everysecTimer) clearInterval(this.everysecTimer);
    await this.idle();
    if (this.fd !== null) {
      await fsClose(this.fd);
      this.fd = null;
    }
  }

  stats(): Record<string, number> {
    let bytes = 0;
    for (const size of this.segments.values()) bytes += size;
    let pending = this.open?.used ?? 0;
    for (const step of this.queue) if (step.kind === 'group') pending += step.used;
    return {
      logBytes: bytes,
      logSegments: this.segments.size,
      logPendingBytes: pending,
      logGroupWrites: this.counters.groupWrites,
      logFsyncs: this.counters.fsyncs,
      logBytesWritten: this.counters.bytesWritten,
      logFailed: this.failed ? 1 : 0,
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
    if (this.open && this.open.used > 0) return this.open;
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const step = this.queue[i]!;
      if (step.kind === 'group') return step;
    }
    return this.inflight;
  }

  private groupWithRoom(bytes: number): Group {
    let group = this.open;
    if (!group) {
      group = { kind: 'group', segment: this.segment, buf: this.takeBuffer(bytes), used: 0, callbacks: [] };
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
    const buf = this.spare.pop();
    if (buf && buf.length >= min) return buf;
    return Buffer.allocUnsafe(Math.max(min, GROUP_INITIAL_BYTES));
  }

  private releaseBuffer(buf: Buffer): void {
    if (buf.length <= GROUP_REUSE_MAX_BYTES && this.spare.length < SPARE_GROUPS_MAX) this.spare.push(buf);
  }

  private enqueueOpenGroup(): void {
    if (this.open && this.open.used > 0) {
      this.queue.push(this.open);
      this.open = null;
    }
  }

  private kick(): void {
    if (!this.draining) void this.drain();
  }

  private idle(): Promise<void> {
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
      } catch (e) {
        err = this.fail(e);
      }
      this.inflight = null;
      this.releaseBuffer(step.buf);
      for (const cb of step.callbacks) cb(err);
    } else if (step.kind === 'seal') {
      try {
        if (this.fd !== null && this.fdSegment <= step.segment) await this.closeFile();
      } catch (e) {
        this.fail(e);
      }
      step.done();
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
    if (this.fdSegment !== group.segment || this.fd === null) {
      if (this.fd !== null) await this.closeFile();
      await this.openFile(group.segment);
    }
    const fd = this.fd!;
    let off = 0;
    while (off < group.used) {
      const n = await fsWrite(fd, group.buf, off, group.used - off, this.fdPos);
      off += n;
      this.fdPos += n;
    }
    this.counters.groupWrites++;
    this.counters.bytesWritten += group.used;
    this.segments.set(group.segment, this.fdPos);
    this.fdDirty = true;
    if (this.policy === 'always') await this.runSync(true);
  }

  private async runSync(force = false): Promise<void> {
    this.syncDue = false;
    if (this.fd === null || !this.fdDirty) return;
    if (!force && this.policy === 'no') return;
    this.fdDirty = false;
    await fsDatasync(this.fd);
    this.counters.fsyncs++;
  }

  private async openFile(segment: number): Promise<void> {
    this.fd = await fsOpen(segmentPath(this.dir, segment), 'wx');
    this.fdSegment = segment;
    this.fdPos = 0;
    this.fdDirty = false;
    this.segments.set(segment, 0);
    // The new file's directory entry must be durable before anything in it is acknowledged.
    if (this.policy !== 'no') await syncDir(this.dir);
  }

  private async closeFile(): Promise<void> {
    const fd = this.fd!;
    if (this.policy !== 'no' && this.fdDirty) await this.runSync(true);
    this.fd = null;
    this.fdSegment = -1;
    await fsClose(fd);
  }

  private fail(e: unknown): Error {
    const err = e instanceof Error ? e : new Error(String(e));
    if (!this.failed) {
      // After a failed write or fsync the page cache can no longer be trusted (fsyncgate), so
      // the log stops acknowledging for good; the operator restarts after fixing the disk.
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

function segmentPath(dir: string, id: number): string {
  return path.join(dir, `commit-${String(id).padStart(16, '0')}.log`);
}

interface SegmentReplay {
  entries: number;
  validBytes: number;
  cutBytes: number;
  reason: string;
}

async function replaySegment(file: string, onEntry: (payload: Buffer) => void | Promise<void>): Promise<SegmentReplay> {
  const fh = await fs.promises.open(file, 'r+');
  try {
    const size = (await fh.stat()).size;
    let buf = Buffer.allocUnsafe(Math.min(REPLAY_CHUNK_BYTES, Math.max(size, FRAME_HEAD_BYTES)));
    let bufFileOffset = 0; // file offset of buf[0]
    let bufEnd = 0; // valid bytes in buf
    let pos = 0; // file offset of the next entry
    let entries = 0;
    let reason = '';

    // Makes bytes [pos, pos + n) available in buf; false at end of file.
    const ensure = async (n: number): Promise<boolean> => {
      if (pos + n > size) return false;
      if (pos - bufFileOffset + n <= bufEnd) return true;
      const keepFrom = pos - bufFileOffset;
      const keep = bufEnd - keepFrom;
      if (n > buf.length) {
        const bigger = Buffer.allocUnsafe(n);
        buf.copy(bigger, 0, keepFrom, bufEnd);
        buf = bigger;
      } else {
        buf.copy(buf, 0, keepFrom, bufEnd);
      }
      bufFileOffset = pos;
      bufEnd = keep;
      while (bufEnd < n) {
        const { bytesRead } = await fh.read(buf, bufEnd, buf.length - bufEnd, bufFileOffset + bufEnd);
        if (bytesRead === 0) return false;
        bufEnd += bytesRead;
      }
      return true;
    };

    for (;;) {
      if (pos === size) break;
      if (!(await ensure(FRAME_HEAD_BYTES))) {
        reason = 'partial frame header';
        break;
      }
      const at = pos - bufFileOffset;
      const len = buf.readUInt32BE(at);
      const crc = buf.readUInt32BE(at + 4);
      if (len === 0 || len > LOG_PAYLOAD_MAX) {
        reason = `bad length ${len}`;
        break;
      }
      if (!(await ensure(FRAME_HEAD_BYTES + len))) {
        reason = 'partial payload';
        break;
      }
      const start = pos - bufFileOffset + FRAME_HEAD_BYTES;
      const payload = buf.subarray(start, start + len);
      if (crc32(payload) !== crc) {
        reason = 'crc mismatch';
        break;
      }
      const r = onEntry(payload);
      if (r) await r;
      entries++;
      pos += FRAME_HEAD_BYTES + len;
    }
    const cutBytes = size - pos;
    if (cutBytes > 0) {
      await fh.truncate(pos);
      await fh.datasync();
    }
    return { entries, validBytes: pos, cutBytes, reason };
  } finally {
    await fh.close();
  }
}

function fsOpen(file: string, flags: string): Promise<number> {
  return new Promise((resolve, reject) => fs.open(file, flags, (err, fd) => (err ? reject(err) : resolve(fd))));
}

function fsWrite(fd: number, buf: Buffer, off: number, len: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) => fs.write(fd, buf, off, len, pos, (err, n) => (err ? reject(err) : resolve(n))));
}

function fsDatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

function fsClose(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.close(fd, (err) => (err ? reject(err) : resolve())));
}

/** Makes creations and deletions in `dir` durable. */
async function syncDir(dir: string): Promise<void> {
  const fd = await fsOpen(dir, 'r');
  try {
    await fsDatasync(fd);
  } finally {
    await fsClose(fd);
  }
}
