import { INLINE_KEY_MAX } from '../storage/key-layout.js';
import { FANOUT, intervalFrom, memberHashAt, positionOf, type Path } from './merkle-deep.js';

/**
 * The descent through deeper digests (merkle-deep.ts), free of I/O: which nodes to ask a peer for
 * next, which digests are leaves to list, and, while listing a leaf, where to seek. The shell
 * (anti-entropy.ts) asks the peer level by level ('ae-nodes') and lists the leaves ('ae-leaves').
 */

/** One deeper digest of one slot. */
export interface NodeRef {
  slot: number;
  path: Path;
}

/**
 * One level of the descent. For each asked node: our 64 digests and the peer's (undefined where a
 * side has no node there to compare). Where both have one, each differing digest is a node to look
 * at next; where either lacks it, the node's own digest is a leaf (its records get listed).
 */
export function descendStep(
  asked: readonly NodeRef[],
  ours: ReadonlyArray<Buffer | undefined>,
  theirs: ReadonlyArray<Buffer | undefined>,
): { next: NodeRef[]; leaves: NodeRef[] } {
  const next: NodeRef[] = [];
  const leaves: NodeRef[] = [];
  asked.forEach((node, i) => {
    const o = ours[i];
    const t = theirs[i];
    if (o === undefined || t === undefined) {
      leaves.push(node);
      return;
    }
    for (const d of differingDigits(o, t)) next.push({ slot: node.slot, path: [...node.path, d] });
  });
  return { next, leaves };
}

/** Digits whose 8-byte digests differ between two nodes' digest arrays. */
export function differingDigits(a: Buffer, b: Buffer): number[] {
  const out: number[] = [];
  for (let d = 0; d < FANOUT; d++) if (a.compare(b, d * 8, d * 8 + 8, d * 8, d * 8 + 8) !== 0) out.push(d);
  return out;
}

/**
 * Of the nodes to look at next, those we can ask the peer about (we have a node there ourselves)
 * and those that are leaves already (we have none: our side lists them as they are).
 */
export function splitByDepth(nodes: readonly NodeRef[], comparable: (node: NodeRef) => boolean): { ask: NodeRef[]; leaves: NodeRef[] } {
  const ask: NodeRef[] = [];
  const leaves: NodeRef[] = [];
  for (const n of nodes) (comparable(n) ? ask : leaves).push(n);
  return { ask, leaves };
}

/**
 * Nodes found differing in both of two looks a moment apart: a write still on its way to one of
 * the replicas makes a digest differ for a moment, and listing it would be wasted.
 */
export function confirmed(first: readonly NodeRef[], second: readonly NodeRef[]): NodeRef[] {
  const again = new Set(second.map(refId));
  return first.filter((n) => again.has(refId(n)));
}

/** Leaves grouped per slot, in the order their slots first appear. */
export function leavesBySlot(leaves: readonly NodeRef[]): Map<number, Path[]> {
  const out = new Map<number, Path[]>();
  for (const l of leaves) {
    let paths = out.get(l.slot);
    if (!paths) out.set(l.slot, (paths = []));
    paths.push(l.path);
  }
  return out;
}

function refId(n: NodeRef): string {
  return `${n.slot}:${n.path.join('.')}`;
}

/** Bytes of the 4-byte position and the 8 more that seek targets append, beyond the prefix. */
const SEEK_TAIL_BYTES = 12;
const FF8 = Buffer.alloc(8, 0xff);
const FF12 = Buffer.alloc(12, 0xff);

/**
 * While listing leaves (position `intervals` from pathIntervals) in key order: whether `key` is
 * under one of them, and otherwise, for a member of a hash, set or sorted set, a key to continue
 * *after* that skips the members of its collection that cannot be (they sit in position order,
 * merkle-deep.ts). Undefined seek: go on with the next key. Seeks only move forward, and never
 * past a key under a wanted interval: the target sorts below every member at the interval's start.
 */
export function leafStep(key: Buffer, intervals: ReadonlyArray<[number, number]>): { take: boolean; seekAfter: Buffer | undefined } {
  const position = positionOf(key);
  const i = intervalFrom(intervals, position);
  if (i < intervals.length && intervals[i]![0] <= position) return { take: true, seekAfter: undefined };
  const at = memberHashAt(key);
  // Long record keys are stored in digest order past INLINE_KEY_MAX bytes: walk those.
  if (at === undefined || at + SEEK_TAIL_BYTES > INLINE_KEY_MAX) return { take: false, seekAfter: undefined };
  const prefix = key.subarray(0, at);
  let target: Buffer;
  if (i < intervals.length) {
    const start = Buffer.allocUnsafe(4);
    start.writeUInt32BE(intervals[i]![0] - 1, 0);
    target = Buffer.concat([prefix, start, FF8]);
  } else {
    target = Buffer.concat([prefix, FF12]);
  }
  return { take: false, seekAfter: Buffer.compare(target, key) > 0 ? target : undefined };
}
