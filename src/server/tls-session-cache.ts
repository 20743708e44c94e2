/**
 * Server-side TLS sessions kept for resumption by session id (tls-session-cache-size,
 * tls-session-cache-timeout): the oldest entry goes when the cache is full, an entry older than the
 * timeout is never resumed. Pure: the caller passes the time.
 */
export class TlsSessionCache {
  /** Insertion order is age order: a Map iterates oldest first. */
  private readonly entries = new Map<string, { data: Buffer; storedAtMs: number }>();

  constructor(private sizeMax: number, private timeoutMs: number) {}

  /** New limits from CONFIG SET; entries beyond the new size go at once. */
  configure(sizeMax: number, timeoutMs: number): void {
    this.sizeMax = sizeMax;
    this.timeoutMs = timeoutMs;
    this.trim();
  }

  get size(): number {
    return this.entries.size;
  }

  store(id: Buffer, data: Buffer, nowMs: number): void {
    const key = id.toString('hex');
    this.entries.delete(key);
    this.entries.set(key, { data, storedAtMs: nowMs });
    this.trim();
  }

  lookup(id: Buffer, nowMs: number): Buffer | undefined {
    const key = id.toString('hex');
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (nowMs - entry.storedAtMs >= this.timeoutMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.data;
  }

  clear(): void {
    this.entries.clear();
  }

  /** Size 0 means no limit, as in Redis. */
  private trim(): void {
    if (this.sizeMax === 0) return;
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.sizeMax) return;
      this.entries.delete(key);
    }
  }
}
