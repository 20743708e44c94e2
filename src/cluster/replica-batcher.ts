/**
 * Coalesces the replica reads and writes a coordinator sends to one peer during an event-loop turn
 * into one bus request ('rb'). Under load a turn carries the quorum rounds of many clients; sent
 * one by one, each would pay its own frame, encoding, timer, promise and response on both nodes.
 *
 * Wire shape, flat so it encodes and validates cheaply:
 *   request  { w: [slot, key, record, slot, key, record, ...], r: [slot, n, key1..keyn, slot, n, ...] }
 *   response [record | null, ...], one per read key in request order; or, when the peer already
 *            held a newer version for some written keys, { r: [the same], s: [writeIndex, version, ...] }
 * The peer applies every write before answering any read, so a read queued after a write to the
 * same key in the same turn sees it; the response leaves once the writes are durable.
 */

export interface ReplicaBatch {
  w: Array<number | Buffer>;
  r: Array<number | Buffer>;
  /**
   * Fenced writes, as [first write index, count, lease epoch] triples: the peer refuses them when
   * it granted a newer lease on their slot, and lists each refused group's first index in `x`.
   */
  f?: number[];
}

/** The peer refused a write: a newer lease holder exists for its slot. */
export class FencedError extends Error {
  constructor() {
    super('write refused: a newer coordinator holds the slot');
  }
}

/** Sends one batch to a peer; resolves with the peer's response payload. */
export type BatchSender = (nodeId: string, batch: ReplicaBatch) => Promise<unknown>;

interface Waiter {
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

interface PendingWrite extends Waiter {
  /** Index of its first record among the batch's writes, and how many it sent. */
  first: number;
  count: number;
}

interface PendingReads extends Waiter {
  count: number;
}

interface PeerQueue {
  batch: ReplicaBatch;
  bytes: number;
  writers: PendingWrite[];
  readers: PendingReads[];
}

/** A batch is sent early once it holds this much, so one frame stays far below the bus frame limit. */
const BATCH_BYTES_MAX = 4 << 20;

export class ReplicaBatcher {
  private queues = new Map<string, PeerQueue>();
  private scheduled = false;
  private readonly flushBound = (): void => this.flush();

  constructor(
    private readonly send: BatchSender,
    private readonly schedule: (fn: () => void) => void = setImmediate,
  ) {}

  /**
   * Resolves once the peer has the records durably; with the newest version the peer already held
   * above one of them (the write lost last-writer-wins there), else undefined.
   */
  write(nodeId: string, slot: number, items: ReadonlyArray<[Buffer, Buffer]>, epoch?: number): Promise<Buffer | undefined> {
    let bytes = 0;
    for (const [key, rec] of items) bytes += key.length + rec.length;
    const q = this.queue(nodeId, bytes);
    const first = q.batch.w.length / 3;
    for (const [key, rec] of items) q.batch.w.push(slot, key, rec);
    if (epoch !== undefined) (q.batch.f ??= []).push(first, items.length, epoch);
    return new Promise<Buffer | undefined>((resolve, reject) =>
      q.writers.push({ first, count: items.length, resolve: resolve as (v: unknown) => void, reject }),
    );
  }

  read(nodeId: string, slot: number, keys: readonly Buffer[]): Promise<Array<Buffer | null>> {
    let bytes = 0;
    for (const key of keys) bytes += key.length;
    const q = this.queue(nodeId, bytes);
    q.batch.r.push(slot, keys.length);
    for (const key of keys) q.batch.r.push(key);
    return new Promise<Array<Buffer | null>>((resolve, reject) =>
      q.readers.push({ count: keys.length, resolve: resolve as (v: unknown) => void, reject }),
    );
  }

  private queue(nodeId: string, bytes: number): PeerQueue {
    let q = this.queues.get(nodeId);
    if (q !== undefined && q.bytes > 0 && q.bytes + bytes > BATCH_BYTES_MAX) {
      this.sendQueue(nodeId, q);
      q = undefined;
    }
    if (q === undefined) {
      q = { batch: { w: [], r: [] }, bytes: 0, writers: [], readers: [] };
      this.queues.set(nodeId, q);
    }
    q.bytes += bytes;
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(this.flushBound);
    }
    return q;
  }

  private flush(): void {
    this.scheduled = false;
    const queues = this.queues;
    this.queues = new Map();
    for (const [nodeId, q] of queues) this.sendQueue(nodeId, q);
  }

  private sendQueue(nodeId: string, q: PeerQueue): void {
    if (this.queues.get(nodeId) === q) this.queues.delete(nodeId);
    this.send(nodeId, q.batch).then(
      (response) => settle(q, response),
      (err: unknown) => fail(q, err),
    );
  }
}

/** Newer versions the peer reported, by write index, and refused groups; undefined when the response is malformed. */
function supersededOf(response: unknown, writes: number): { reads: unknown; newer: Map<number, Buffer>; fenced: Set<number> } | undefined {
  const newer = new Map<number, Buffer>();
  const fenced = new Set<number>();
  if (Array.isArray(response)) return { reads: response, newer, fenced };
  const r = response as { r?: unknown; s?: unknown; x?: unknown };
  if (typeof r !== 'object' || r === null) return undefined;
  if (r.x !== undefined) {
    if (!Array.isArray(r.x)) return undefined;
    for (const i of r.x) if (typeof i === 'number') fenced.add(i);
  }
  if (r.s === undefined) return { reads: r.r, newer, fenced };
  if (!Array.isArray(r.s) || r.s.length % 2 !== 0) return undefined;
  for (let i = 0; i < r.s.length; i += 2) {
    const index = r.s[i] as unknown;
    const version = r.s[i + 1] as unknown;
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= writes || !(version instanceof Uint8Array)) return undefined;
    newer.set(index, Buffer.isBuffer(version) ? version : Buffer.from(version.buffer, version.byteOffset, version.byteLength));
  }
  return { reads: r.r, newer, fenced };
}

function settle(q: PeerQueue, response: unknown): void {
  const expected = q.readers.reduce((n, r) => n + r.count, 0);
  const parsed = supersededOf(response, q.batch.w.length / 3);
  const reads = parsed?.reads;
  if (parsed === undefined || !Array.isArray(reads) || reads.length !== expected) {
    fail(q, new Error(`malformed replica batch response (${Array.isArray(reads) ? reads.length : typeof reads} for ${expected} keys)`));
    return;
  }
  for (const w of q.writers) {
    if (parsed.fenced.has(w.first)) {
      w.reject(new FencedError());
      continue;
    }
    let newest: Buffer | undefined;
    for (let i = w.first; i < w.first + w.count; i++) {
      const v = parsed.newer.get(i);
      if (v !== undefined && (newest === undefined || Buffer.compare(v, newest) > 0)) newest = v;
    }
    w.resolve(newest);
  }
  let at = 0;
  for (const r of q.readers) {
    r.resolve(reads.slice(at, at + r.count));
    at += r.count;
  }
}

function fail(q: PeerQueue, err: unknown): void {
  for (const w of q.writers) w.reject(err);
  for (const r of q.readers) r.reject(err);
}
