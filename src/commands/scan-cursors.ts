import type { ScanPosition } from '../storage/types.js';
import { scanCursorText } from './args.js';

/** How many open SCAN positions a node remembers; the oldest are forgotten first. */
const CURSORS_MAX = 100_000;

/**
 * SCAN cursors are opaque integers to clients, but keys in LMDB are ordered byte strings; a cursor
 * therefore names a remembered position. A forgotten cursor ends the iteration rather than
 * restarting it, so a client can never loop forever.
 */
export class ScanCursors {
  private readonly positions = new Map<string, ScanPosition>();
  private next = BigInt(Date.now()) * 1000n;

  issue(pos: ScanPosition): string {
    const id = (this.next++).toString();
    this.positions.set(id, pos);
    if (this.positions.size > CURSORS_MAX) {
      const oldest = this.positions.keys().next().value;
      if (oldest !== undefined) this.positions.delete(oldest);
    }
    return id;
  }

  /** Start position for a cursor argument: null = finished, undefined = not a cursor at all. */
  resolve(arg: Buffer): ScanPosition | null | undefined {
    const text = scanCursorText(arg);
    if (text === undefined) return undefined;
    if (text === '0') return { slot: 0 };
    return this.positions.get(text) ?? null;
  }
}
