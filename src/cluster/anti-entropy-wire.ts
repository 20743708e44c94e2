import type { KeyVersion } from './anti-entropy-plan.js';
import { FANOUT, isLeafPath, isPath } from './merkle-deep.js';
import { SLOT_COUNT } from './slot.js';

/**
 * Payloads of the anti-entropy bus messages, checked on arrival (a peer's bytes are never trusted):
 *
 *   'ae-slots'   {s: slots}                 → {d: 8-byte digest per slot, c: u32 entry count per slot}
 *   'ae-buckets' {s: slots}                 → {b: buckets per slot, d: b 8-byte digests per slot}
 *   'ae-keys'    {q: [slot, buckets|null][]} → {r: [keys, 16-byte versions, dead flags, truncated][]}
 *   'ae-nodes'   {q: [slot, path][]}         → {r: (64 8-byte digests | null)[]}   deeper digests
 *   'ae-leaves'  {q: [slot, paths][]}        → as 'ae-keys', the records under those deeper digests
 *
 * 'ae-nodes' and 'ae-leaves' are the deeper digests of large slots (merkle-deep.ts): a path is the
 * digits from a slot's root down; null means the peer has no comparable node there (the digest is
 * a leaf on its side). A peer of an earlier release answers them with an unknown-request error,
 * and is then compared through 'ae-buckets' and 'ae-keys' only.
 *
 * Digests and versions travel as packed big-endian bytes rather than arrays of numbers: a batch of
 * 4096 slot digests is one 32 KB binary field.
 */

/** Slots per 'ae-slots' / 'ae-buckets' request; a whole ring's worth is 16384. */
export const MAX_SLOTS_PER_REQUEST = SLOT_COUNT;
const VERSION_BYTES = 16;

export interface SlotsRequest {
  s: number[];
}
export interface SlotsResponse {
  d: Uint8Array;
  c: Uint8Array;
}
export interface BucketsResponse {
  b: number;
  d: Uint8Array;
}
export interface KeysRequest {
  q: Array<[number, number[] | null]>;
}
export type KeysItem = [Uint8Array[], Uint8Array, Uint8Array, boolean];
export interface KeysResponse {
  r: KeysItem[];
}

const isSlot = (s: unknown): s is number => typeof s === 'number' && Number.isInteger(s) && s >= 0 && s < SLOT_COUNT;
const isObject = (p: unknown): p is Record<string, unknown> => typeof p === 'object' && p !== null;

export function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

export function isSlotsRequest(p: unknown): p is SlotsRequest {
  return isObject(p) && Array.isArray(p.s) && p.s.length <= MAX_SLOTS_PER_REQUEST && p.s.every(isSlot);
}

export function isKeysRequest(p: unknown, buckets: number): p is KeysRequest {
  return isObject(p) && Array.isArray(p.q) && p.q.length <= MAX_SLOTS_PER_REQUEST && p.q.every((item: unknown) =>
    Array.isArray(item) && item.length === 2 && isSlot(item[0]) &&
    (item[1] === null || (Array.isArray(item[1]) && (item[1] as unknown[]).every((b) => typeof b === 'number' && Number.isInteger(b) && b >= 0 && b < buckets))));
}

export function encodeDigests(digests: readonly bigint[]): Buffer {
  const out = Buffer.allocUnsafe(digests.length * 8);
  digests.forEach((d, i) => out.writeBigUInt64BE(d, i * 8));
  return out;
}

export function decodeDigests(bytes: Uint8Array, count: number): bigint[] {
  const buf = asBuffer(bytes);
  if (buf.length !== count * 8) throw new Error(`expected ${count} digests, got ${buf.length} bytes`);
  const out = new Array<bigint>(count);
  for (let i = 0; i < count; i++) out[i] = buf.readBigUInt64BE(i * 8);
  return out;
}

export function encodeCounts(counts: readonly number[]): Buffer {
  const out = Buffer.allocUnsafe(counts.length * 4);
  counts.forEach((c, i) => out.writeUInt32BE(Math.min(c, 0xffffffff), i * 4));
  return out;
}

export function decodeSlotsResponse(p: unknown, count: number): { digests: bigint[]; counts: number[] } {
  if (!isObject(p) || !(p.d instanceof Uint8Array) || !(p.c instanceof Uint8Array)) throw new Error('malformed ae-slots response');
  const digests = decodeDigests(p.d, count);
  const c = asBuffer(p.c);
  if (c.length !== count * 4) throw new Error('malformed ae-slots response: counts');
  const counts = new Array<number>(count);
  for (let i = 0; i < count; i++) counts[i] = c.readUInt32BE(i * 4);
  return { digests, counts };
}

/** Per slot, its bucket digests; the bucket count must be ours (both sides hash keys the same way). */
export function decodeBucketsResponse(p: unknown, slots: number, buckets: number): bigint[][] {
  if (!isObject(p) || p.b !== buckets || !(p.d instanceof Uint8Array)) throw new Error('malformed or incompatible ae-buckets response');
  const all = decodeDigests(p.d, slots * buckets);
  const out: bigint[][] = [];
  for (let i = 0; i < slots; i++) out.push(all.slice(i * buckets, (i + 1) * buckets));
  return out;
}

export function encodeKeyList(list: readonly KeyVersion[], truncated: boolean): KeysItem {
  const versions = Buffer.allocUnsafe(list.length * VERSION_BYTES);
  const dead = Buffer.allocUnsafe(list.length);
  list.forEach((kv, i) => {
    kv.version.copy(versions, i * VERSION_BYTES);
    dead[i] = kv.dead ? 1 : 0;
  });
  return [list.map((kv) => kv.key), versions, dead, truncated];
}

export function decodeKeysResponse(p: unknown, count: number): Array<{ list: KeyVersion[]; complete: boolean }> {
  if (!isObject(p) || !Array.isArray(p.r) || p.r.length !== count) throw new Error('malformed ae-keys response');
  return (p.r as unknown[]).map((item) => {
    if (!Array.isArray(item) || item.length !== 4) throw new Error('malformed ae-keys item');
    const [keys, versions, dead, truncated] = item as unknown[];
    if (!Array.isArray(keys) || !keys.every((k) => k instanceof Uint8Array) || !(versions instanceof Uint8Array) || !(dead instanceof Uint8Array) || typeof truncated !== 'boolean') {
      throw new Error('malformed ae-keys item');
    }
    const v = asBuffer(versions);
    if (v.length !== keys.length * VERSION_BYTES || dead.length !== keys.length) throw new Error('malformed ae-keys item: lengths');
    const list = (keys as Uint8Array[]).map((k, i) => ({
      key: Buffer.from(k),
      version: Buffer.from(v.subarray(i * VERSION_BYTES, (i + 1) * VERSION_BYTES)),
      dead: dead[i] === 1,
    }));
    return { list, complete: !truncated };
  });
}

/** Deeper nodes per 'ae-nodes' request: 1024 × 512 bytes = 512 KB. */
export const MAX_NODES_PER_REQUEST = 1024;
/** Leaf paths per slot in one 'ae-leaves' request. */
export const MAX_LEAVES_PER_SLOT = 4096;

export interface NodesRequest {
  q: Array<[number, number[]]>;
}
export interface LeavesRequest {
  q: Array<[number, number[][]]>;
}

export function isNodesRequest(p: unknown): p is NodesRequest {
  return isObject(p) && Array.isArray(p.q) && p.q.length <= MAX_NODES_PER_REQUEST && p.q.every((item: unknown) =>
    Array.isArray(item) && item.length === 2 && isSlot(item[0]) && isPath(item[1]));
}

export function isLeavesRequest(p: unknown): p is LeavesRequest {
  return isObject(p) && Array.isArray(p.q) && p.q.length <= MAX_SLOTS_PER_REQUEST && p.q.every((item: unknown) =>
    Array.isArray(item) && item.length === 2 && isSlot(item[0]) && Array.isArray(item[1]) &&
    (item[1] as unknown[]).length <= MAX_LEAVES_PER_SLOT && (item[1] as unknown[]).every(isLeafPath));
}

/** Per queried node, its 64 digests, or undefined where the peer has none to compare. */
export function decodeNodesResponse(p: unknown, count: number): Array<Buffer | undefined> {
  if (!isObject(p) || !Array.isArray(p.r) || p.r.length !== count) throw new Error('malformed ae-nodes response');
  return (p.r as unknown[]).map((d) => {
    if (d === null) return undefined;
    if (!(d instanceof Uint8Array) || d.length !== FANOUT * 8) throw new Error('malformed ae-nodes digests');
    return asBuffer(d);
  });
}

/** A request the peer's release does not know (bus: "unknown bus request 'type'"). */
export function isUnknownRequest(err: unknown): boolean {
  return err instanceof Error && err.message.includes('unknown bus request');
}
