import { open, type Database, type RootDatabase } from 'lmdb';
import path from 'node:path';
import { QueuedWrites, lmdbWrite } from './lmdb-failures.js';

/** A write held for a replica that was down when it was made (hinted handoff). */
export interface Hint {
  /** LMDB key: target id bytes ‖ sequence; pass back to remove(). */
  id: Buffer;
  slot: number;
  key: Buffer;
  /** The encoded record, exactly as the replica would have received it. */
  record: Buffer;
  createdAt: number;
}

export interface HintStoreOptions {
  dir: string;
  /** Bytes of hints kept per target; beyond it the oldest are dropped (anti-entropy repairs those keys). */
  maxBytesPerTarget: number;
  /** Hints older than this are dropped: the target has been gone too long, anti-entropy takes over. */
  maxAgeMs: number;
}

const TARGET_BYTES = 20;
const HEADER_BYTES = 2 + 4 + 8;

function targetPrefix(target: string): Buffer {
  if (!/^[0-9a-f]{40}$/.test(target)) throw new Error(`hint target must be a node id: ${target}`);
  return Buffer.from(target, 'hex');
}

function encodeHint(slot: number, key: Buffer, record: Buffer, createdAt: number): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + key.length + record.length);
  out.writeUInt16BE(slot, 0);
  out.writeUInt32BE(key.length, 2);
  out.writeDoubleBE(createdAt, 6);
  key.copy(out, HEADER_BYTES);
  record.copy(out, HEADER_BYTES + key.length);
  return out;
}

function decodeHint(id: Buffer, value: Buffer): Hint {
  const keyLen = value.readUInt32BE(2);
  if (HEADER_BYTES + keyLen > value.length) throw new Error('corrupt hint');
  return {
    id,
    slot: value.readUInt16BE(0),
    createdAt: value.readDoubleBE(6),
    key: Buffer.from(value.subarray(HEADER_BYTES, HEADER_BYTES + keyLen)),
    record: Buffer.from(value.subarray(HEADER_BYTES + keyLen)),
  };
}

/**
 * Durable, bounded hints per target node in an LMDB environment of their own (hints are written on
 * the sloppy-quorum path only, and must not share the data store's checkpoint cycle). A hint counts
 * as a replica's acknowledgement, so add() resolves only once it is on disk. A write LMDB cannot
 * commit (a full disk) rejects the call with its cause; nothing is left unhandled (lmdb-failures.ts).
 */
export class HintStore {
  private readonly bytes = new Map<string, number>();
  private seq: bigint;
  added = 0;
  delivered = 0;
  dropped = 0;

  private constructor(private readonly env: RootDatabase, private readonly db: Database<Buffer, Buffer>, private readonly opts: HintStoreOptions) {
    this.seq = BigInt(Date.now()) * 1000n;
    for (const { key, value } of db.getRange({})) {
      const target = (key as Buffer).subarray(0, TARGET_BYTES).toString('hex');
      this.bytes.set(target, (this.bytes.get(target) ?? 0) + (value as Buffer).length);
    }
  }

  static async open(opts: HintStoreOptions): Promise<HintStore> {
    // eventTurnBatching off: lmdb-js's batch per event-loop turn drops a promise that rejects
    // unhandled when its transaction fails (lmdb-failures.ts).
    const env = open({ path: path.join(opts.dir, 'hints'), overlappingSync: false, noMemInit: true, eventTurnBatching: false });
    const db = env.openDB<Buffer, Buffer>({ name: 'hints', keyEncoding: 'binary', encoding: 'binary' });
    return new HintStore(env, db, opts);
  }

  async add(target: string, slot: number, key: Buffer, record: Buffer, now: number): Promise<void> {
    const id = Buffer.allocUnsafe(TARGET_BYTES + 8);
    targetPrefix(target).copy(id, 0);
    id.writeBigUInt64BE(this.seq++, TARGET_BYTES);
    const value = encodeHint(slot, key, record, now);
    this.bytes.set(target, (this.bytes.get(target) ?? 0) + value.length);
    this.added++;
    try {
      await lmdbWrite(this.db.put(id, value));
    } catch (err) {
      this.bytes.set(target, (this.bytes.get(target) ?? 0) - value.length);
      this.added--;
      throw err;
    }
    if ((this.bytes.get(target) ?? 0) > this.opts.maxBytesPerTarget) await this.trim(target, now);
  }

  targets(): string[] {
    return [...this.bytes.entries()].filter(([, b]) => b > 0).map(([t]) => t);
  }

  pendingBytes(target?: string): number {
    if (target !== undefined) return this.bytes.get(target) ?? 0;
    let n = 0;
    for (const b of this.bytes.values()) n += b;
    return n;
  }

  /** The oldest hints for a target, at most `limit`. */
  take(target: string, limit: number): Hint[] {
    const prefix = targetPrefix(target);
    const end = Buffer.concat([prefix, Buffer.alloc(8, 0xff)]);
    const out: Hint[] = [];
    for (const { key, value } of this.db.getRange({ start: prefix, end, limit })) out.push(decodeHint(Buffer.from(key as Buffer), value as Buffer));
    return out;
  }

  async remove(target: string, hints: readonly Hint[], delivered: boolean): Promise<void> {
    let freed = 0;
    const writes = new QueuedWrites();
    for (const h of hints) {
      freed += HEADER_BYTES + h.key.length + h.record.length;
      writes.add(this.db.remove(h.id));
    }
    await lmdbWrite(Promise.resolve(this.db.flushed));
    this.bytes.set(target, Math.max(0, (this.bytes.get(target) ?? 0) - freed));
    if (delivered) this.delivered += hints.length;
    else this.dropped += hints.length;
  }

  /** Drops hints past their age, and a target's oldest ones while it is over its byte budget. */
  async trim(target: string, now: number): Promise<void> {
    for (;;) {
      const batch = this.take(target, 256);
      if (batch.length === 0) return;
      const over = (this.bytes.get(target) ?? 0) > this.opts.maxBytesPerTarget;
      const doomed = batch.filter((h) => over || now - h.createdAt > this.opts.maxAgeMs);
      if (doomed.length === 0) return;
      await this.remove(target, doomed, false);
      if (doomed.length < batch.length) return;
    }
  }

  /** Forgets every hint for a target (it left the cluster). */
  async dropTarget(target: string): Promise<void> {
    for (let batch = this.take(target, 1024); batch.length > 0; batch = this.take(target, 1024)) await this.remove(target, batch, false);
  }

  async close(): Promise<void> {
    await this.env.close();
  }
}
