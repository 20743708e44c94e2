/**
 * Per-key mutual exclusion at the coordinator, so read-modify-write commands (INCR, APPEND, HSET …)
 * stay atomic while their quorum read and write are in flight. All of a command's keys are taken in
 * one synchronous step, so two commands can never each hold a key the other waits for.
 */
export class KeyLocks {
  private readonly tails = new Map<string, Promise<void>>();

  get held(): number {
    return this.tails.size;
  }

  async acquire(ids: readonly string[]): Promise<() => void> {
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const waits: Array<Promise<void>> = [];
    for (const id of new Set(ids)) {
      const prev = this.tails.get(id);
      if (prev) waits.push(prev);
      this.tails.set(id, mine);
    }
    if (waits.length > 0) await Promise.all(waits);
    return () => {
      release();
      for (const id of ids) if (this.tails.get(id) === mine) this.tails.delete(id);
    };
  }
}
