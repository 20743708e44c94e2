import { eachKeyPosition, hasFlag, type CommandSpec } from '../../commands/spec.js';
import type { QueuedCommand, SessionState } from '../session-state.js';
import type { Evictor } from './evictor.js';

/** Redis 7.0's reply to a denyoom command it cannot make room for (shared.oomerr). */
export const OOM_ERROR = "OOM command not allowed when used memory > 'maxmemory'.";

/** Commands that run in MULTI state without being refused when memory is full (processCommand). */
const MULTI_OOM_EXEMPT = new Set(['exec', 'discard', 'quit', 'reset']);
/** Commands that look at keys without counting as an access (Redis's LOOKUP_NOTOUCH callers). */
const NO_TOUCH = new Set(['object', 'memory', 'type', 'exists', 'ttl', 'pttl', 'expiretime', 'pexpiretime', 'debug', 'touch']);

/**
 * The dispatcher's side of maxmemory: records which keys commands use (for LRU/LFU), and before a
 * command runs makes room as Redis's processCommand does, answering whether it must be refused.
 */
export class MemoryGuard {
  constructor(
    readonly evictor: Evictor,
    private readonly table: ReadonlyMap<string, CommandSpec>,
  ) {}

  /** The command ran on its keys: they count as accessed (TOUCH does so explicitly). */
  touch(spec: CommandSpec, argv: readonly Buffer[], now: number): void {
    if (NO_TOUCH.has(spec.name)) {
      if (spec.name !== 'touch') return;
      for (let i = 1; i < argv.length; i++) this.evictor.touch(argv[i]!, now);
      return;
    }
    eachKeyPosition(spec, argv, (i) => {
      if (i < argv.length) this.evictor.touch(argv[i]!, now);
    });
  }

  /**
   * Evicts what the policy allows, then: true when the command must be refused with OOM_ERROR.
   * As in Redis: denyoom commands (EXEC when it holds one), and every command queued in MULTI
   * but EXEC/DISCARD/QUIT/RESET, are refused while memory stays above maxmemory.
   */
  refuses(session: SessionState, spec: CommandSpec, argv: readonly Buffer[], now: number, queued: readonly QueuedCommand[] | undefined = session.multi): boolean {
    if (this.evictor.maxmemory === 0) return false;
    const outOfMemory = this.evictor.performEvictions(now) === 'fail';
    if (!outOfMemory) return false;
    if (session.multi !== undefined && !MULTI_OOM_EXEMPT.has(spec.name)) return true;
    if (spec.name === 'exec') return (queued ?? []).some((q) => this.denyoom(this.table.get(q.name), q.argv));
    return this.denyoom(spec, argv);
  }

  /** Out of memory right now (a script checks it when it starts). */
  outOfMemory(now: number): boolean {
    return this.evictor.maxmemory !== 0 && this.evictor.performEvictions(now) === 'fail';
  }

  private denyoom(spec: CommandSpec | undefined, argv: readonly Buffer[]): boolean {
    if (spec === undefined) return false;
    return hasFlag(spec, argv, 'denyoom');
  }
}
