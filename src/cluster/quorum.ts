import type { StoredRecord } from '../storage/types.js';

/** Where a quorum operation stands. */
export type QuorumState = 'pending' | 'met' | 'failed';

/**
 * Counts durable acknowledgements of one write across its replicas. Met at `required` acks; failed
 * as soon as too many replicas refused or timed out for `required` to still be reachable. Pure.
 */
export class WriteQuorum {
  private readonly acks = new Set<string>();
  private readonly nacks = new Set<string>();

  constructor(readonly required: number, readonly replicas: readonly string[]) {
    if (required < 1) throw new RangeError(`write quorum must be >= 1, got ${required}`);
  }

  get acked(): number {
    return this.acks.size;
  }

  get ackedBy(): readonly string[] {
    return [...this.acks];
  }

  get state(): QuorumState {
    if (this.acks.size >= this.required) return 'met';
    if (this.replicas.length - this.nacks.size < this.required) return 'failed';
    return 'pending';
  }

  ack(node: string): QuorumState {
    if (!this.nacks.has(node)) this.acks.add(node);
    return this.state;
  }

  nack(node: string): QuorumState {
    if (!this.acks.has(node)) this.nacks.add(node);
    return this.state;
  }
}

function newer(a: StoredRecord | undefined, b: StoredRecord | undefined): boolean {
  if (a === undefined) return false;
  if (b === undefined) return true;
  return Buffer.compare(a.version, b.version) > 0;
}

/**
 * Collects one multi-key read from replicas: per key, the newest record any replica returned and
 * which replicas answered with something older (read repair targets). Met at `required` answers. Pure.
 */
export class ReadQuorum {
  private readonly answers = new Map<string, ReadonlyArray<StoredRecord | undefined>>();
  private readonly failures = new Set<string>();

  constructor(readonly required: number, readonly replicas: readonly string[], readonly keyCount: number) {
    if (required < 1) throw new RangeError(`read quorum must be >= 1, got ${required}`);
  }

  get answered(): number {
    return this.answers.size;
  }

  get state(): QuorumState {
    if (this.answers.size >= this.required) return 'met';
    if (this.replicas.length - this.failures.size < this.required) return 'failed';
    return 'pending';
  }

  receive(node: string, records: ReadonlyArray<StoredRecord | undefined>): QuorumState {
    if (records.length !== this.keyCount) throw new Error(`replica ${node} answered ${records.length} records for ${this.keyCount} keys`);
    if (!this.failures.has(node)) this.answers.set(node, records);
    return this.state;
  }

  fail(node: string): QuorumState {
    if (!this.answers.has(node)) this.failures.add(node);
    return this.state;
  }

  /** The newest record for key i among the answers (undefined when no replica has one). */
  newest(i: number): StoredRecord | undefined {
    let best: StoredRecord | undefined;
    for (const records of this.answers.values()) if (newer(records[i], best)) best = records[i];
    return best;
  }

  /** Replicas whose answer for key i is older than the newest (or missing while one exists). */
  stale(i: number): string[] {
    const best = this.newest(i);
    if (best === undefined) return [];
    const out: string[] = [];
    for (const [node, records] of this.answers) {
      const r = records[i];
      if (r === undefined || Buffer.compare(r.version, best.version) < 0) out.push(node);
    }
    return out;
  }
}
