/**
 * ACL LOG: recent denials and failed AUTHs, newest first, with Redis 7.0's grouping: an event like
 * one among the latest ten (same reason, context, object and user, within 60 s) bumps that
 * entry's count and moves it to the front instead of adding one.
 */

export type AclLogReason = 'command' | 'key' | 'channel' | 'auth';
export type AclLogContext = 'toplevel' | 'multi' | 'lua';

export interface AclLogEntry {
  count: number;
  reason: AclLogReason;
  context: AclLogContext;
  object: Buffer;
  username: Buffer;
  /** Unix ms of the last event of the entry. */
  at: number;
  clientInfo: string;
}

const GROUPING_MS = 60_000;
const GROUPING_SCAN = 10;

export class AclLog {
  private entries: AclLogEntry[] = [];

  constructor(private maxLen: () => number) {}

  add(event: Omit<AclLogEntry, 'count'>): void {
    const scan = Math.min(GROUPING_SCAN, this.entries.length);
    for (let i = 0; i < scan; i++) {
      const e = this.entries[i]!;
      if (e.reason === event.reason && e.context === event.context && Math.abs(e.at - event.at) <= GROUPING_MS &&
        e.object.equals(event.object) && e.username.equals(event.username)) {
        e.count++;
        e.at = event.at;
        e.clientInfo = event.clientInfo;
        this.entries.splice(i, 1);
        this.entries.unshift(e);
        return;
      }
    }
    this.entries.unshift({ ...event, count: 1 });
    const max = this.maxLen();
    if (this.entries.length > max) this.entries.length = max;
  }

  /** The newest `count` entries. */
  latest(count: number): readonly AclLogEntry[] {
    return this.entries.slice(0, Math.max(0, count));
  }

  reset(): void {
    this.entries = [];
  }
}
