/**
 * Keys with a TTL that ends soon, ordered by expiry time (a binary min-heap). LMDB's expiry index
 * only learns of a key at the next checkpoint, so without this a short TTL written since the last
 * checkpoint would wait for it before active expiry could see the key. Entries are hints: the
 * caller re-reads the record before acting, so a key overwritten or deleted since costs one lookup.
 */
export interface SoonExpiring {
  at: number;
  slot: number;
  key: Buffer;
}

export class ExpiryHeap {
  private readonly items: SoonExpiring[] = [];

  get size(): number {
    return this.items.length;
  }

  push(at: number, slot: number, key: Buffer): void {
    const items = this.items;
    items.push({ at, slot, key });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]!.at <= items[i]!.at) break;
      [items[parent], items[i]] = [items[i]!, items[parent]!];
      i = parent;
    }
  }

  /** The earliest entry due at or before `now`, removed from the heap; undefined when none is due. */
  popDue(now: number): SoonExpiring | undefined {
    const items = this.items;
    if (items.length === 0 || items[0]!.at > now) return undefined;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && items[l]!.at < items[m]!.at) m = l;
        if (r < items.length && items[r]!.at < items[m]!.at) m = r;
        if (m === i) break;
        [items[m], items[i]] = [items[i]!, items[m]!];
        i = m;
      }
    }
    return top;
  }

  clear(): void {
    this.items.length = 0;
  }
}
