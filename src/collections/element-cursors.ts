/**
 * Cursors of HSCAN / SSCAN / ZSCAN over element records. Clients see an integer; the node keeps
 * what it stands for: the collection's life (key and generation) and the last sub-key returned,
 * so the next call continues right after it in byte order, whatever was added or removed in
 * between (every element present for the whole scan is returned, as Redis promises). A cursor
 * this node does not know (forgotten, another node's, another key's) ends the scan with nothing,
 * so a client can never loop forever.
 */

const CURSORS_MAX = 100_000;

export interface ElementCursor {
  key: string;
  generation: string;
  after: Buffer;
}

export class ElementCursors {
  private readonly positions = new Map<string, ElementCursor>();
  private next = BigInt(Date.now()) * 1000n;

  issue(c: ElementCursor): string {
    const id = (this.next++).toString();
    this.positions.set(id, c);
    if (this.positions.size > CURSORS_MAX) {
      const oldest = this.positions.keys().next().value;
      if (oldest !== undefined) this.positions.delete(oldest);
    }
    return id;
  }

  /** Where to continue: undefined = from the start ('0'), null = unknown (the scan ends). */
  resolve(cursor: string, key: Buffer, generation: Buffer): Buffer | undefined | null {
    if (cursor === '0') return undefined;
    const c = this.positions.get(cursor);
    if (c === undefined || c.key !== key.toString('latin1') || c.generation !== generation.toString('latin1')) return null;
    return c.after;
  }
}

/** One registry per process: a cursor stays valid across the connections of one client. */
export const elementCursors = new ElementCursors();
