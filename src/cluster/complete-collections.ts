/**
 * Which collections this node's replica holds completely, and at which version of their metadata.
 *
 * A collection command reads its elements from the coordinator's own replica, so that replica must
 * hold every element of every write acknowledged before it. It does when it was brought up to date
 * by a sync (the union of a read quorum's elements, which meets every write quorum) at the
 * metadata version the job's quorum read found newest, or when every later write of the key was
 * coordinated here (single fenced coordinator per slot): each such write moves the mark along.
 * Held in memory only: after a restart, or once forgotten, a collection is synced again on its
 * next use. Bounded; the least recently used entries go first.
 */
export class CompleteCollections {
  private readonly versions = new Map<string, Buffer>();

  constructor(private readonly capacity = 100_000) {}

  /** True when this replica is known complete for `id` at exactly `version`. */
  isAt(id: string, version: Buffer): boolean {
    const v = this.versions.get(id);
    if (v === undefined || !v.equals(version)) return false;
    // Recently used entries are kept longest.
    this.versions.delete(id);
    this.versions.set(id, v);
    return true;
  }

  mark(id: string, version: Buffer): void {
    this.versions.delete(id);
    this.versions.set(id, version);
    if (this.versions.size > this.capacity) {
      const oldest = this.versions.keys().next().value;
      if (oldest !== undefined) this.versions.delete(oldest);
    }
  }

  forget(id: string): void {
    this.versions.delete(id);
  }

  clear(): void {
    this.versions.clear();
  }

  get size(): number {
    return this.versions.size;
  }
}
