import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';

/**
 * Commit-log segment files: names, frame format, replay, and the small async fs helpers the
 * writer uses.
 *
 * Frame: `u32 payload length ‖ u32 checksum ‖ payload`, big-endian. The checksum is crc32(payload)
 * XOR a mask derived from the segment id (LevelDB masks its CRCs the same way). Segment files
 * are reused after checkpoints, so old frames linger past the end of new data; every write ends
 * with an all-zero frame header (the next write goes over it), and the mask makes any frame from
 * an earlier life of the file fail its check even where that end mark was lost.
 */

export const FRAME_HEAD_BYTES = 8;
/**
 * Payload of a sync mark, the first frame of every group the log writes: `u8 SYNC_MARK_OP ‖ u32 hi
 * ‖ u32 lo` of the offset in this segment up to which an fdatasync had completed when the group was
 * written. Replay skips marks (the store never sees them); they only tell damage from a torn write
 * (see replaySegment). The op code shares the payload's first byte with log-entry.ts's LogOp.
 */
export const SYNC_MARK_OP = 5;
export const SYNC_MARK_PAYLOAD_BYTES = 9;
export const SYNC_MARK_FRAME_BYTES = FRAME_HEAD_BYTES + SYNC_MARK_PAYLOAD_BYTES;

/** Fills the sync-mark frame at `at` in `buf` (checksum unmasked, like every frame before writing). */
export function writeSyncMark(buf: Buffer, at: number, syncedThrough: number): void {
  const p = at + FRAME_HEAD_BYTES;
  buf[p] = SYNC_MARK_OP;
  buf.writeUInt32BE(Math.floor(syncedThrough / 2 ** 32), p + 1);
  buf.writeUInt32BE(syncedThrough >>> 0, p + 5);
  buf.writeUInt32BE(SYNC_MARK_PAYLOAD_BYTES, at);
  buf.writeUInt32BE(crc32(buf.subarray(p, p + SYNC_MARK_PAYLOAD_BYTES)), at + 4);
}

/** The synced-through offset of a sync-mark payload, or undefined for any other payload. */
function syncMarkOffset(payload: Buffer): number | undefined {
  if (payload.length !== SYNC_MARK_PAYLOAD_BYTES || payload[0] !== SYNC_MARK_OP) return undefined;
  return payload.readUInt32BE(1) * 2 ** 32 + payload.readUInt32BE(5);
}
/** Entries above this are treated as corruption on replay (Redis caps values at 512 MB). */
export const LOG_PAYLOAD_MAX = 1 << 30;
const SEGMENT_RE = /^commit-(\d{16})\.log$/;
/** spare-<seq>-<id of the segment it last was>.log; without the id: an older format, see listSegments. */
const SPARE_RE = /^spare-(\d{16})(?:-(\d{16}))?\.log$/;
const REPLAY_CHUNK_BYTES = 1 << 20;

export function segmentPath(dir: string, id: number): string {
  return path.join(dir, `commit-${String(id).padStart(16, '0')}.log`);
}

/**
 * A retired segment kept for reuse (its blocks are allocated, so syncing writes into it is cheap),
 * named with the id of the segment it last was (0 for a prepared zero-filled file): its bytes past
 * what a new segment writes over it are still frames under that id's mask, so no later segment may
 * take an id a spare's content was written under (listSegments' `highestId`).
 */
export function sparePath(dir: string, seq: number, formerId: number): string {
  return path.join(dir, `spare-${String(seq).padStart(16, '0')}-${String(formerId).padStart(16, '0')}.log`);
}

export interface SegmentListing {
  segments: Array<{ id: number; bytes: number }>;
  spares: Array<{ file: string; seq: number; bytes: number }>;
  /** The highest segment id any file here holds frames of: new segments are numbered above it. */
  highestId: number;
}

/** Segment and spare files in `dir`, oldest first; half-made spares from a crash are removed. */
export async function listSegments(dir: string): Promise<SegmentListing> {
  const out: SegmentListing = { segments: [], spares: [], highestId: 0 };
  for (const name of await fs.promises.readdir(dir)) {
    const file = path.join(dir, name);
    const seg = SEGMENT_RE.exec(name);
    const spare = SPARE_RE.exec(name);
    if (seg) {
      out.segments.push({ id: Number(seg[1]), bytes: (await fs.promises.stat(file)).size });
      out.highestId = Math.max(out.highestId, Number(seg[1]));
    } else if (spare && spare[2] !== undefined) {
      out.spares.push({ file, seq: Number(spare[1]), bytes: (await fs.promises.stat(file)).size });
      out.highestId = Math.max(out.highestId, Number(spare[2]));
    } else if (spare || (name.startsWith('spare-') && name.endsWith('.tmp'))) {
      // Half-made, or a spare of the older format whose former segment id is unknown: ids restart
      // after a log is fully retired, and reusing such a file as a segment of the same id would let
      // replay read its old frames past the new ones as valid. Only preallocated space is lost.
      await fs.promises.rm(file, { force: true });
    }
  }
  out.segments.sort((a, b) => a.id - b.id);
  out.spares.sort((a, b) => a.seq - b.seq);
  return out;
}

export function segmentMask(id: number): number {
  const b = Buffer.allocUnsafe(8);
  b.writeUInt32BE(Math.floor(id / 2 ** 32), 0);
  b.writeUInt32BE(id >>> 0, 4);
  return (crc32(b) ^ 0xa282ead8) >>> 0;
}

export interface SegmentReplay {
  entries: number;
  /** Offset just after the last intact entry. */
  validBytes: number;
  /** Bytes removed after it (0 when the rest was absent or unwritten zeros). */
  cutBytes: number;
  reason: string;
}

/**
 * Feeds each intact payload of segment `id` to `onEntry` (a view into a reused buffer), up to the
 * end mark (an all-zero header); sync marks are skipped. A torn or corrupt frame before it also
 * ends the segment, and everything from there is cut off: the file is truncated.
 *
 * Torn or damaged? A power failure can leave any subset of the sectors of unsynced writes on disk,
 * in any order, so intact frames after a bad one do not prove damage: they may belong to the same
 * unsynced write (a group under `always`, the last second's groups under `everysec`). Damage is
 * proven only by an intact sync mark after the bad frame saying an fdatasync had already covered
 * the bad frame's offset: then acknowledged entries would be cut off, and start-up is refused.
 * (Segments written before sync marks existed have none, so their bad frames are cut as torn.)
 */
export async function replaySegment(
  file: string,
  id: number,
  onEntry: (payload: Buffer) => void | Promise<void>,
): Promise<SegmentReplay> {
  const mask = segmentMask(id);
  const fh = await fs.promises.open(file, 'r+');
  try {
    const size = (await fh.stat()).size;
    let buf = Buffer.allocUnsafe(Math.min(REPLAY_CHUNK_BYTES, Math.max(size, FRAME_HEAD_BYTES)));
    let bufFileOffset = 0; // file offset of buf[0]
    let bufEnd = 0; // valid bytes in buf
    let pos = 0; // file offset of the next frame
    let entries = 0;
    let reason = '';

    // Makes bytes [pos, pos + n) available in buf; false if the file ends first.
    const ensure = async (n: number): Promise<boolean> => {
      if (pos + n > size) return false;
      if (pos - bufFileOffset + n <= bufEnd) return true;
      const keepFrom = pos - bufFileOffset;
      if (n > buf.length) {
        const bigger = Buffer.allocUnsafe(n);
        buf.copy(bigger, 0, keepFrom, bufEnd);
        buf = bigger;
      } else {
        buf.copy(buf, 0, keepFrom, bufEnd);
      }
      bufEnd -= keepFrom;
      bufFileOffset = pos;
      while (bufEnd < n) {
        const { bytesRead } = await fh.read(buf, bufEnd, buf.length - bufEnd, bufFileOffset + bufEnd);
        if (bytesRead === 0) return false;
        bufEnd += bytesRead;
      }
      return true;
    };

    let unwrittenTail = false;
    for (;;) {
      if (pos === size) break;
      if (!(await ensure(FRAME_HEAD_BYTES))) {
        reason = 'partial frame header';
        break;
      }
      const at = pos - bufFileOffset;
      const len = buf.readUInt32BE(at);
      const sum = buf.readUInt32BE(at + 4);
      if (len === 0) {
        unwrittenTail = sum === 0;
        reason = 'zero length';
        break;
      }
      if (len > LOG_PAYLOAD_MAX) {
        reason = `bad length ${len}`;
        break;
      }
      if (!(await ensure(FRAME_HEAD_BYTES + len))) {
        reason = 'partial payload';
        break;
      }
      const start = pos - bufFileOffset + FRAME_HEAD_BYTES;
      const payload = buf.subarray(start, start + len);
      if (((crc32(payload) ^ mask) >>> 0) !== sum) {
        reason = 'checksum mismatch';
        break;
      }
      if (syncMarkOffset(payload) === undefined) {
        const r = onEntry(payload);
        if (r) await r;
        entries++;
      }
      pos += FRAME_HEAD_BYTES + len;
    }
    let cutBytes = 0;
    if (pos < size && !unwrittenTail) {
      // A torn tail is the end of what was ever written. A sync mark of this segment further on
      // that covers `pos` means the damage is in synced data: truncating would drop entries that
      // were acknowledged.
      const proof = await findSyncedPast(fh, pos + 1, size, mask, pos);
      if (proof !== undefined) throw new DamagedLogError(file, pos, reason, proof);
      cutBytes = size - pos;
      await fh.truncate(pos);
      await fh.datasync();
    }
    return { entries, validBytes: pos, cutBytes, reason };
  } finally {
    await fh.close();
  }
}

/** A commit log segment damaged before intact entries: start-up must not cut them off. */
export class DamagedLogError extends Error {
  constructor(file: string, offset: number, reason: string, intactAt: number) {
    super(`commit log segment ${file} is damaged at offset ${offset} (${reason}), which was synced before the intact entries at offset ${intactAt}; ` +
      'refusing to truncate acknowledged writes. Restore this node from its replicas (start it on an empty --dir; anti-entropy refills it) ' +
      'or move the segment away to accept losing its entries');
    this.name = 'DamagedLogError';
  }
}

/**
 * The offset of the first intact sync mark of this segment at or after `from` whose synced-through
 * offset lies beyond `damagedAt`, if any: a frame with a mark's length whose payload matches the
 * checksum under this segment's mask (frames of a recycled file's earlier segment carry another
 * mask, so they never match). Only runs on a damaged segment.
 */
async function findSyncedPast(fh: fs.promises.FileHandle, from: number, size: number, mask: number, damagedAt: number): Promise<number | undefined> {
  if (from + SYNC_MARK_FRAME_BYTES > size) return undefined;
  const rest = Buffer.allocUnsafe(size - from);
  const { bytesRead } = await fh.read(rest, 0, rest.length, from);
  for (let o = 0; o + SYNC_MARK_FRAME_BYTES <= bytesRead; o++) {
    if (rest.readUInt32BE(o) !== SYNC_MARK_PAYLOAD_BYTES) continue;
    const payload = rest.subarray(o + FRAME_HEAD_BYTES, o + SYNC_MARK_FRAME_BYTES);
    if (((crc32(payload) ^ mask) >>> 0) !== rest.readUInt32BE(o + 4)) continue;
    const synced = syncMarkOffset(payload);
    if (synced !== undefined && synced > damagedAt) return from + o;
  }
  return undefined;
}

const ZEROS = Buffer.alloc(1 << 20);

/**
 * Writes a zero-filled file of `bytes` and syncs it, then renames it into place: a segment
 * written over such a file syncs without file-size or block-allocation updates, which on ext4
 * would tie each fdatasync to a journal commit (and to LMDB's writes in flight).
 */
export async function writeZeroFile(target: string, bytes: number): Promise<void> {
  const tmp = `${target}.tmp`;
  const fd = await fsOpen(tmp, 'w');
  try {
    try {
      for (let off = 0; off < bytes; ) {
        off += await fsWrite(fd, ZEROS, 0, Math.min(ZEROS.length, bytes - off), off);
      }
      await fsDatasync(fd);
    } finally {
      await fsClose(fd);
    }
    await fs.promises.rename(tmp, target);
  } catch (err) {
    // On a full disk the half-made file would hold the last free blocks that the log itself needs.
    await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

export function fsOpen(file: string, flags: string): Promise<number> {
  return new Promise((resolve, reject) => fs.open(file, flags, (err, fd) => (err ? reject(err) : resolve(fd))));
}

export function fsWrite(fd: number, buf: Buffer, off: number, len: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) => fs.write(fd, buf, off, len, pos, (err, n) => (err ? reject(err) : resolve(n))));
}

export function fsDatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

export function fsClose(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.close(fd, (err) => (err ? reject(err) : resolve())));
}

/** Makes creations, renames and deletions in `dir` durable. */
export async function syncDir(dir: string): Promise<void> {
  const fd = await fsOpen(dir, 'r');
  try {
    await fsDatasync(fd);
  } finally {
    await fsClose(fd);
  }
}
