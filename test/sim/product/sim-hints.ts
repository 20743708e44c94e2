import type { Hint, HintStore } from '../../../src/storage/hint-store.js';

/** The hints a node holds on disk, per target, oldest first. */
export type HintDisk = Map<string, Hint[]>;

/**
 * A node's hinted-handoff store: a hint is acknowledged (add resolves) once it is synced a few ms
 * later, as the real store's LMDB put; a crash loses hints not yet synced, which were never
 * acknowledged. Hints are kept for the whole run (no age or size limit: runs are short).
 */
export class SimHints implements Pick<HintStore, 'add' | 'targets' | 'take' | 'remove' | 'trim' | 'dropTarget'> {
  private seq = 0;
  added = 0;
  delivered = 0;

  constructor(
    private readonly disk: HintDisk,
    /** Calls back once the write would be on disk; never, if the node crashes first. */
    private readonly synced: (fn: () => void) => void,
  ) {}

  add(target: string, slot: number, key: Buffer, record: Buffer, now: number): Promise<void> {
    const id = Buffer.alloc(8);
    id.writeUInt32BE(this.seq++, 4);
    const hint: Hint = { id, slot, key: Buffer.from(key), record: Buffer.from(record), createdAt: now };
    return new Promise<void>((resolve) =>
      this.synced(() => {
        let list = this.disk.get(target);
        if (list === undefined) this.disk.set(target, (list = []));
        list.push(hint);
        this.added++;
        resolve();
      }),
    );
  }

  targets(): string[] {
    return [...this.disk.entries()].filter(([, l]) => l.length > 0).map(([t]) => t);
  }

  take(target: string, limit: number): Hint[] {
    return (this.disk.get(target) ?? []).slice(0, limit);
  }

  async remove(target: string, hints: readonly Hint[], delivered: boolean): Promise<void> {
    const gone = new Set(hints);
    this.disk.set(target, (this.disk.get(target) ?? []).filter((h) => !gone.has(h)));
    if (delivered) this.delivered += hints.length;
  }

  async trim(): Promise<void> {}

  async dropTarget(target: string): Promise<void> {
    this.disk.delete(target);
  }
}
