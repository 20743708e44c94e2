/**
 * The cluster's ACL document: every user in ACL file form, stamped with the wall-clock ms of the
 * change and the node that made it. Nodes keep the newest (last writer wins, ties broken by node
 * id), persist it, and push it to their peers on every change and every few seconds, so a node that
 * restarts or joins catches up within one push. Pure.
 */

export interface AclDocument {
  ms: number;
  node: string;
  text: string;
}

/** Bounds what a peer may make this node parse. */
const TEXT_LENGTH_MAX = 16 * 1024 * 1024;

export function isAclDocument(v: unknown): v is AclDocument {
  if (typeof v !== 'object' || v === null) return false;
  const d = v as Record<string, unknown>;
  return typeof d.ms === 'number' && Number.isSafeInteger(d.ms) && d.ms >= 0 &&
    typeof d.node === 'string' && d.node.length <= 64 &&
    typeof d.text === 'string' && d.text.length <= TEXT_LENGTH_MAX;
}

/** Whether `a` supersedes `b` (undefined: no document yet). */
export function supersedes(a: AclDocument, b: AclDocument | undefined): boolean {
  if (b === undefined) return true;
  if (a.ms !== b.ms) return a.ms > b.ms;
  return a.node > b.node;
}

/** The document for a change made here at `now`: later than the current one even if the clock is behind it. */
export function nextDocument(current: AclDocument | undefined, now: number, node: string, text: string): AclDocument {
  return { ms: Math.max(now, (current?.ms ?? 0) + 1), node, text };
}
