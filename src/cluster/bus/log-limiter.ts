/**
 * Decides whether a repeated warning should be logged: at most once per key per interval, so a
 * misconfigured or hostile peer reconnecting in a loop cannot flood the log.
 */
export class LogLimiter {
  private readonly lastLoggedMs = new Map<string, number>();

  constructor(
    private readonly intervalMs: number = 60_000,
    private readonly keysMax: number = 1024,
  ) {}

  /** True if a message for `key` may be logged at `nowMs`; records it if so. */
  allow(key: string, nowMs: number): boolean {
    const last = this.lastLoggedMs.get(key);
    if (last !== undefined && nowMs - last < this.intervalMs) return false;
    if (last === undefined && this.lastLoggedMs.size >= this.keysMax) this.evictExpired(nowMs);
    // Still full of recent keys: an address storm; stay quiet rather than grow.
    if (last === undefined && this.lastLoggedMs.size >= this.keysMax) return false;
    this.lastLoggedMs.set(key, nowMs);
    return true;
  }

  private evictExpired(nowMs: number): void {
    for (const [key, at] of this.lastLoggedMs) {
      if (nowMs - at >= this.intervalMs) this.lastLoggedMs.delete(key);
    }
  }
}
