import { replicatesLikeWrite, type CommandSpec } from '../commands/spec.js';
import type { SessionState } from './session-state.js';

export type PauseMode = 'write' | 'all';

/**
 * Whether a script command writes by what its script declares (scripting/declared-writes.ts), or
 * undefined when the command's flags decide.
 */
export type ScriptWrites = (command: string, argv: readonly Buffer[]) => boolean | undefined;

/**
 * Commands CLIENT PAUSE WRITE holds: writes, what may replicate (EVAL, FCALL), PUBLISH and SPUBLISH
 * (Redis 7.0 holds them: they propagate to replicas), and EXEC of any of them. A script that
 * declares its flags is held unless it declares no-writes, whichever EVAL or FCALL variant runs it
 * (Redis 7.0 puts the script's flags in place of the command's before it decides).
 */
function mayWrite(spec: CommandSpec, argv: readonly Buffer[] | undefined, scriptWrites: ScriptWrites | undefined): boolean {
  const declared = argv === undefined || scriptWrites === undefined ? undefined : scriptWrites(spec.name, argv);
  if (declared !== undefined) return declared;
  return replicatesLikeWrite(spec);
}

/**
 * CLIENT PAUSE / UNPAUSE as Redis 7.0: until the pause ends (its timeout or CLIENT UNPAUSE), ALL
 * holds every client command (CLIENT UNPAUSE from a client included), WRITE holds those that
 * write or may replicate. Held commands keep their connection's order and run once it ends.
 */
export class ClientPause {
  private mode: PauseMode | undefined;
  private untilMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly waiting = new Set<() => void>();
  /** Given by the pause (CLIENT PAUSE has the node's scripting at hand): read only while one is in force. */
  private scriptWrites: ScriptWrites | undefined;

  constructor(private readonly lookup: (name: string) => CommandSpec | undefined) {}

  get active(): boolean {
    return this.mode !== undefined;
  }

  /** A later end wins; a WRITE pause does not weaken an ALL pause in force (Redis 7.0). */
  pause(durationMs: number, mode: PauseMode, nowMs: number, scriptWrites?: ScriptWrites): void {
    if (scriptWrites !== undefined) this.scriptWrites = scriptWrites;
    if (this.mode !== 'all') this.mode = mode;
    this.untilMs = Math.max(this.untilMs, nowMs + durationMs);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.unpause(), Math.max(0, this.untilMs - nowMs));
    this.timer.unref();
  }

  unpause(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.mode = undefined;
    this.untilMs = 0;
    const resume = [...this.waiting];
    this.waiting.clear();
    for (const r of resume) r();
  }

  /**
   * Whether `spec` (with its `argv`, for a script's declared flags, and `session`'s queued
   * transaction, for EXEC) must wait for the pause to end.
   */
  holds(spec: CommandSpec, session: SessionState, argv?: readonly Buffer[]): boolean {
    if (this.mode === undefined) return false;
    if (this.mode === 'all') return true;
    if (mayWrite(spec, argv, this.scriptWrites)) return true;
    if (spec.name !== 'exec' || session.multi === undefined) return false;
    return session.multi.some((q) => {
      const s = this.lookup(q.name);
      return s !== undefined && mayWrite(s, q.argv, this.scriptWrites);
    });
  }

  /** Connections holding a command until the pause ends: INFO counts them as blocked clients, as Redis does. */
  get held(): number {
    return this.waiting.size;
  }

  /** Calls `resume` once the pause ends. */
  whenOver(resume: () => void): void {
    this.waiting.add(resume);
  }
}
