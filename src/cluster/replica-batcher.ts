/**
 * Coalesces the replica reads and writes a coordinator sends to one peer during an event-loop turn
 * into one bus request ('rb'). Under load a turn carries the quorum rounds of many clients; sent
 * one by one, each would pay its own frame, encoding, timer, promise and response on both nodes.
 *
 * Wire shape, flat so it encodes and validates cheaply:
 *   request  { w: [slot, key, record, slot, key, record, ...], r: [slot, n, key1..keyn, slot, n, ...] }
 *   response [record | null, ...], one per read key in request order
 * The peer applies every write before answering any read, so a read queued after a write to the
 * same key in the same turn sees it; the response leaves once the writes are durable.
 */

export interface ReplicaBatch {
  w: Array<number | Buffer>;
  r: Array<number | Buffer>;
}

/** Sends one batch to a peer; resolves with the peer's response payload. */
export type BatchSender = (nodeId: string, batch: ReplicaBatch) => Promise<unknown>;

interface Waiter {
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

interface PendingReads extends Waiter {
  count: number;
}

interface PeerQueue {
  batch: ReplicaBatch;
  bytes: number;
  writers: Waiter[];
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

  write(nodeId: string, slot: number, items: ReadonlyArray<[Buffer, Buffer]>): Promise<void> {
    let bytes = 0;
    for (const [key, rec] of items) bytes += key.length + rec.length;
    const q = this.queue(nodeId, bytes);
    for (const [key, rec] of items) q.batch.w.push(slot, key, rec);
    return new Promise<void>((resolve, reject) => q.writers.push({ resolve: () => resolve(), reject }));
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

function settle(q: PeerQueue, response: unknown): void {
  const expected = q.readers.reduce((n, r) => n + r.count, 0);
  if (!Array.isArray(response) || response.length !== expected) {
    fail(q, new Error(`malformed replica batch response (${Array.isArray(response) ? response.length : typeof response} for ${expected} keys)`));
    return;
  }
  for (const w of q.writers) w.resolve(undefined);
  let at = 0;
  for (const r of q.readers) {
    r.resolve(response.slice(at, at + r.count));
    at += r.count;
  }
}

function fail(q: PeerQueue, err: unknown): void {
  for (const w of q.writers) w.reject(err);
  for (const r of q.readers) r.reject(err);
}
