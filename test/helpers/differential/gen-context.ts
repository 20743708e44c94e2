/**
 * What every command generator draws from: the seeded PRNG, the clock fixed at generation time, and
 * the keys of the connection it generates for.
 */
import type { Prng } from '../../sim/prng.js';
import type { Clock } from './gen-values.js';

/**
 * A connection's keys, in groups that share a hash tag (one slot per group). Multi-key commands
 * draw from one group when the target is a cluster, where keys of different slots are CROSSSLOT.
 */
export class KeySet {
  constructor(readonly groups: readonly (readonly string[])[], private readonly crossSlot: boolean) {}

  all(): string[] {
    return this.groups.flat();
  }

  /** Only the keys of one group: a transaction or WATCH on a cluster stays in one slot. */
  oneGroup(rng: Prng): KeySet {
    return new KeySet([rng.pick(this.groups)], this.crossSlot);
  }

  key(rng: Prng): string {
    return rng.pick(rng.pick(this.groups));
  }

  /** `n` keys (repeats allowed) that one command may name together. */
  keys(rng: Prng, n: number): string[] {
    const pool = this.crossSlot ? this.all() : rng.pick(this.groups);
    return Array.from({ length: n }, () => rng.pick(pool));
  }

  /** A glob matching this connection's keys and no one else's (KEYS, SCAN MATCH). */
  pattern(rng: Prng): string {
    const k = this.key(rng);
    const tag = k.slice(0, k.indexOf('}') + 1);
    return rng.pick([`${tag}*`, `${tag}k?`, `${tag}k[0-1]`, `${tag}*1`, `${tag}nomatch*`]);
  }
}

export interface GenOptions {
  /** Multi-key commands may name keys of different slots (a single node; never a cluster). */
  crossSlot: boolean;
  /** Commands over the whole keyspace (KEYS, SCAN), which on a cluster see only one node's keys. */
  keyspaceCommands: boolean;
  /** Leave WATCH out (a mode with an open WATCH defect; the option's user says which). */
  noWatch?: boolean;
}

export interface GenContext {
  rng: Prng;
  clock: Clock;
  keys: KeySet;
  opts: GenOptions;
}
