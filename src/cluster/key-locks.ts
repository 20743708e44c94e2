/** One request for a set of keys, waiting until it heads the queue of each. */
interface Ticket {
  readonly ids: readonly string[];
  /** Keys whose queue this ticket does not head yet. */
  blocked: number;
  grant: (() => void) | undefined;
}

/**
 * Per-key mutual exclusion at the coordinator, so read-modify-write commands (INCR, APPEND, HSET …)
 * stay atomic while their quorum read and write are in flight. All of a command's keys are queued
 * in one synchronous step and each key's queue is first come, first served, so a ticket that queued
 * earlier is ahead of a later one on every key they share: two commands can never each hold a key
 * the other waits for. A free key costs no promise: the common, uncontended case stays synchronous.
 */
export class KeyLocks {
  private readonly queues = new Map<string, Ticket[]>();

  /** Keys held or waited for. */
  get held(): number {
    return this.queues.size;
  }

  /** Takes the keys if none is held or waited for; undefined (nothing taken) otherwise. */
  tryAcquire(ids: readonly string[]): (() => void) | undefined {
    for (const id of ids) if (this.queues.has(id)) return undefined;
    return this.release(this.enqueue(ids));
  }

  async acquire(ids: readonly string[]): Promise<() => void> {
    const ticket = this.enqueue(ids);
    if (ticket.blocked > 0) await new Promise<void>((resolve) => (ticket.grant = resolve));
    return this.release(ticket);
  }

  private enqueue(ids: readonly string[]): Ticket {
    const unique = ids.length > 1 ? [...new Set(ids)] : ids;
    const ticket: Ticket = { ids: unique, blocked: 0, grant: undefined };
    for (const id of unique) {
      const queue = this.queues.get(id);
      if (queue === undefined) this.queues.set(id, [ticket]);
      else {
        queue.push(ticket);
        ticket.blocked++;
      }
    }
    return ticket;
  }

  private release(ticket: Ticket): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const id of ticket.ids) {
        const queue = this.queues.get(id)!;
        queue.shift();
        const next = queue[0];
        if (next === undefined) {
          this.queues.delete(id);
          continue;
        }
        if (--next.blocked === 0) next.grant?.();
      }
    };
  }
}
