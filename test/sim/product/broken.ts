import type { CommandSequencer, RunCommand } from '../../../src/server/command-sequencer.js';
import type { ReplySink } from '../../../src/server/connection.js';
import type { SessionState } from '../../../src/server/session-state.js';
import type { SimNode } from './sim-node.js';

/** Product behaviour broken on purpose, one per property, to prove each check can fail. */
export type Breakage =
  | 'none'
  /** Per-connection order: a sequencer that starts every command at once, each its own run. */
  | 'concurrent-sequencer'
  /** No acknowledged write lost: fsync acknowledges at once and nothing reaches the disk. */
  | 'lying-fsync'
  /** No increment lost: the coordinator's key locks grant every request at once. */
  | 'no-key-locks'
  /** Replicas converge: one node acknowledges writes to half the keys without storing them. */
  | 'replica-forgets'
  /**
   * Membership runs: the rebalance reports every gained slot synced without moving anything, so
   * rebalance windows close at once and new owners serve their slots without the data.
   */
  | 'no-handoff';

/**
 * The surface of CommandSequencer the dispatcher uses, implemented without any ordering: each
 * keyed command starts as soon as it is dispatched, concurrently with the ones before it.
 */
class ConcurrentSequencer {
  readonly holding = false;
  readonly busy = false;
  constructor(private readonly node: SimNode, private readonly session: SessionState) {}
  hold(): void {
    throw new Error('the concurrent sequencer never holds');
  }
  add(slot: number, forwardTo: string | undefined, exclusive: boolean, command: RunCommand, sink: ReplySink): void {
    void this.node.router.startRun(this.session, { slot, forwardTo, exclusive, commands: [command] }, sink);
  }
  flush(): void {}
  guard(sink: ReplySink): ReplySink {
    return sink;
  }
}

export function installConcurrentSequencer(node: SimNode, session: SessionState): void {
  session.sequencer = new ConcurrentSequencer(node, session) as unknown as CommandSequencer;
}

export function removeKeyLocks(node: SimNode): void {
  const locks = node.coordinator.locks;
  locks.tryAcquire = () => () => undefined;
  locks.acquire = () => Promise.resolve(() => undefined);
}

/** Half the keys, by a fixed hash of their bytes. */
export function forgottenKey(key: Buffer): boolean {
  let h = 0;
  for (const b of key) h = (h * 31 + b) | 0;
  return (h & 1) === 0;
}
