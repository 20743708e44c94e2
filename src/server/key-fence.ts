import { keyPositions, replicatesLikeWrite, type CommandSpec } from '../commands/spec.js';
import type { SessionState } from './session-state.js';

/**
 * Keys a MIGRATE is moving. Redis blocks its whole server while MIGRATE talks to the target; here
 * only the commands that name one of the keys wait: from the moment MIGRATE reads the keys until it
 * has deleted them (or given up), every other session's command on them (EXEC of a transaction
 * that names one included) is held in its connection's order and runs once the keys are released.
 * The MIGRATE's own session passes. Pure bookkeeping: the dispatcher holds and resumes.
 *
 * An RDB snapshot writing a large collection a page at a time fences it against writes only
 * (commands/rdb-large-collection.ts): its count, written first, must stay true; reads may go on.
 *
 * This makes a migration look atomic to the clients of this node; it is not what keeps it safe.
 * Writes that reach the store another way (a coordinator elsewhere after a lease moved, a woken
 * blocking command, expiry) are caught by MIGRATE's WATCH on the keys (commands/migrate.ts).
 */
export class KeyFence {
  /** Fenced key (latin1) → how many holders fence it against every command (two MIGRATEs on one key queue behind each other, but a holder may repeat a key). */
  private readonly keys = new Map<string, number>();
  /** Fenced key (latin1) → how many holders fence it against writes only (reads pass). */
  private readonly writeKeys = new Map<string, number>();
  private readonly owners = new Set<SessionState>();
  private readonly waiting = new Set<() => void>();

  get active(): boolean {
    return this.keys.size > 0 || this.writeKeys.size > 0;
  }

  /**
   * Fences `keys` for every session but `owner` until the returned function is called (once is
   * enough). `writesOnly`: commands that only read pass (a snapshot needs the key unchanged, not
   * unread; a MIGRATE needs neither, since the key is gone once it answers).
   */
  raise(owner: SessionState, keys: readonly Buffer[], opts: { writesOnly?: boolean } = {}): () => void {
    const map = opts.writesOnly === true ? this.writeKeys : this.keys;
    const ids = [...new Set(keys.map((k) => k.toString('latin1')))];
    for (const id of ids) map.set(id, (map.get(id) ?? 0) + 1);
    this.owners.add(owner);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.owners.delete(owner);
      for (const id of ids) {
        const n = map.get(id)! - 1;
        if (n === 0) map.delete(id);
        else map.set(id, n);
      }
      const resume = [...this.waiting];
      this.waiting.clear();
      for (const r of resume) r();
    };
  }

  /**
   * Whether `session`'s command must wait: it names a fenced key, itself or (EXEC) in one of its
   * queued commands.
   */
  holds(session: SessionState, spec: CommandSpec, argv: readonly Buffer[], lookup: (name: string) => CommandSpec | undefined): boolean {
    if (!this.active || this.owners.has(session)) return false;
    if (this.names(spec, argv)) return true;
    if (spec.name !== 'exec' || session.multi === undefined) return false;
    return session.multi.some((q) => {
      const s = lookup(q.name);
      return s !== undefined && this.names(s, q.argv);
    });
  }

  /** Calls `resume` at the next release (the held command then checks again). */
  whenReleased(resume: () => void): void {
    this.waiting.add(resume);
  }

  private names(spec: CommandSpec, argv: readonly Buffer[]): boolean {
    const writes = this.writeKeys.size > 0 && replicatesLikeWrite(spec);
    if (this.keys.size === 0 && !writes) return false;
    for (const i of keyPositions(spec, argv)) {
      const key = argv[i];
      if (key === undefined) continue;
      const id = key.toString('latin1');
      if (this.keys.has(id) || (writes && this.writeKeys.has(id))) return true;
    }
    return false;
  }
}
