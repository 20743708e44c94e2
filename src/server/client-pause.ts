import type { CommandSpec } from '../commands/spec.js';
import type { SessionState } from './session-state.js';

export type PauseMode = 'write' | 'all';

/**
 * Commands CLIENT PAUSE WRITE holds: writes, what may replicate (EVAL, FCALL), PUBLISH and SPUBLISH
 * (Redis 7.0 holds them: they propagate to replicas), and EXEC of any of them.
 */
function mayWrite(spec: CommandSpec): boolean {
  return spec.flags.includes('write') || spec.flags.includes('may_replicate') || spec.name === 'publish' || spec.name === 'spublish';
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

  constructor(private readonly lookup: (name: string) => CommandSpec | undefined) {}

  get active(): boolean {
    return this.mode !== undefined;
  }

  /** A later end wins; a WRITE pause does not weaken an ALL pause in force (Redis 7.0). */
  pause(durationMs: number, mode: PauseMode, nowMs: number): void {
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

  /** Whether `spec` (with `session`'s queued transaction, for EXEC) must wait for the pause to end. */
  holds(spec: CommandSpec, session: SessionState): boolean {
    if (this.mode === undefined) return false;
    if (this.mode === 'all') return true;
    if (mayWrite(spec)) return true;
    if (spec.name !== 'exec' || session.multi === undefined) return false;
    return session.multi.some((q) => {
      const s = this.lookup(q.name);
      return s !== undefined && mayWrite(s);
    });
  }

  /** Calls `resume` once the pause ends. */
  whenOver(resume: () => void): void {
    this.waiting.add(resume);
  }
}
