/**
 * Redis's eviction pool (evict.c): the best victims seen over recent sampling rounds, kept sorted
 * by score (ascending), at most EVPOOL_SIZE of them. Sampling a few keys per round and keeping the
 * best across rounds is what makes the approximated LRU/LFU close to the real thing.
 */
export const EVPOOL_SIZE = 16;

export interface PoolEntry {
  score: number;
  slot: number;
  /** The key's record key in the store. */
  rk: Buffer;
  /** rk as a latin1 string, to recognise the same key sampled again. */
  id: string;
}

export class EvictionPool {
  private readonly entries: PoolEntry[] = [];

  get size(): number {
    return this.entries.length;
  }

  /**
   * Offers a sampled key. When the pool is full a key scoring below every entry is not taken;
   * otherwise the lowest entry makes room. A key already in the pool is rescored.
   */
  offer(e: PoolEntry): void {
    const existing = this.entries.findIndex((x) => x.id === e.id);
    if (existing >= 0) this.entries.splice(existing, 1);
    if (this.entries.length >= EVPOOL_SIZE) {
      if (e.score <= this.entries[0]!.score) return;
      this.entries.shift();
    }
    let i = this.entries.length;
    while (i > 0 && this.entries[i - 1]!.score > e.score) i--;
    this.entries.splice(i, 0, e);
  }

  /** Removes and returns the best entry (highest score). */
  takeBest(): PoolEntry | undefined {
    return this.entries.pop();
  }

  clear(): void {
    this.entries.length = 0;
  }
}
