// xxhash-addon is CommonJS behind node-gyp-build, so Node's ESM loader cannot see named exports.
import xxhash from 'xxhash-addon';
import { SLOT_COUNT } from './slot.js';

const { XXHash64 } = xxhash;

/**
 * Consistent-hash ring: slot → preference list. Each member owns `vnodes` tokens on a 64-bit ring;
 * slot s sits at the fixed position s·2^64/16384. A slot belongs to the first token at or after its
 * position, so every token owns a contiguous run of slots, which keeps CLUSTER SLOTS to at most
 * one range per token (269 for 3 nodes × 128 vnodes) rather than one per slot. Everything is derived from the member set alone, sorted
 * before use, so every node computes the identical topology whatever order it learned members in.
 */

export interface RingMember {
  /** 40 lowercase hex digits, the Redis node-id form. */
  id: string;
  /** Failure domain (rack, zone); a member without one counts as a zone of its own. */
  zone?: string;
}

export interface RingOptions {
  /** Tokens per member; more tokens spread load more evenly but make more CLUSTER SLOTS ranges. */
  vnodes?: number;
  /** Replication factor: preference-list length (fewer if there are fewer members). */
  n: number;
}

export interface SlotRange {
  start: number;
  /** Inclusive, as in CLUSTER SLOTS. */
  end: number;
  node: string;
}

export const DEFAULT_VNODES = 128;
/** Bounds keep the token array and per-slot precomputation at a size that builds in milliseconds. */
export const VNODES_MAX = 4096;
export const MEMBERS_MAX = 1000;

const NODE_ID_RE = /^[0-9a-f]{40}$/;
/** log2(2^64 / SLOT_COUNT): slot s sits at s << SLOT_SHIFT. */
const SLOT_SHIFT = 50n;

interface Token {
  position: bigint;
  /** Index into the sorted member list. */
  member: number;
}

export class Topology {
  /** Member ids in ascending order; `owners` holds indices into it. */
  readonly nodeIds: readonly string[];
  /** `nodeIds[owners[slot]]` is the first node of the slot's preference list. */
  readonly owners: Uint16Array;
  readonly n: number;
  readonly vnodes: number;
  private readonly lists: readonly (readonly string[])[];

  /** Use buildTopology(); this only stores what it computed. */
  constructor(
    nodeIds: readonly string[],
    lists: readonly (readonly string[])[],
    owners: Uint16Array,
    n: number,
    vnodes: number,
  ) {
    this.nodeIds = nodeIds;
    this.lists = lists;
    this.owners = owners;
    this.n = n;
    this.vnodes = vnodes;
  }

  /** min(n, members) distinct nodes, clockwise from the slot; shared frozen instance. */
  preferenceList(slot: number): readonly string[] {
    assertSlot(slot);
    return this.lists[slot]!;
  }

  /** The slot's coordinator: the first alive node of its preference list, if any is alive. */
  primaryFor(slot: number, isAlive: (id: string) => boolean): string | undefined {
    for (const id of this.preferenceList(slot)) if (isAlive(id)) return id;
    return undefined;
  }

  /** Maximal ranges per primary; defaults to the first node of each preference list. */
  slotRanges(primaryOf?: (slot: number) => string | undefined): SlotRange[] {
    return slotRanges(primaryOf ?? ((slot) => this.nodeIds[this.owners[slot]!]));
  }
}

/**
 * Folds a per-slot primary into maximal contiguous ranges, ascending. Slots whose primary is
 * undefined are left out, which is how CLUSTER SLOTS shows unserved slots.
 */
export function slotRanges(primaryOf: (slot: number) => string | undefined): SlotRange[] {
  const ranges: SlotRange[] = [];
  let current: SlotRange | undefined;
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const node = primaryOf(slot);
    if (current !== undefined && node === current.node && current.end === slot - 1) {
      current.end = slot;
      continue;
    }
    if (node === undefined) continue;
    current = { start: slot, end: slot, node };
    ranges.push(current);
  }
  return ranges;
}

export function buildTopology(members: readonly RingMember[], options: RingOptions): Topology {
  const vnodes = options.vnodes ?? DEFAULT_VNODES;
  assertOptions(members, vnodes, options.n);
  const sorted = [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  assertUniqueIds(sorted);
  const zones = zoneIndices(sorted);
  const zoneCount = new Set(zones).size;
  const tokens = ringTokens(sorted, vnodes);
  const firstToken = slotSuccessors(tokens);

  const cache = new Map<string, readonly string[]>();
  const byToken = new Map<number, readonly string[]>();
  const lists: (readonly string[])[] = new Array(SLOT_COUNT);
  const owners = new Uint16Array(SLOT_COUNT);
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const t = firstToken[slot]!;
    let list = byToken.get(t);
    if (list === undefined) {
      list = interned(cache, walk(tokens, t, zones, zoneCount, sorted, Math.min(options.n, sorted.length)));
      byToken.set(t, list);
    }
    lists[slot] = list;
    owners[slot] = tokens[t]!.member;
  }
  return new Topology(Object.freeze(sorted.map((m) => m.id)), lists, owners, options.n, vnodes);
}

/** All members' tokens in ring order; position ties (astronomically rare) break by member. */
function ringTokens(sorted: readonly RingMember[], vnodes: number): Token[] {
  const tokens: Token[] = [];
  sorted.forEach((m, member) => {
    for (let i = 0; i < vnodes; i++) {
      const digest = XXHash64.hash(Buffer.from(`${m.id}:${i}`, 'latin1'));
      tokens.push({ position: digest.readBigUInt64BE(0), member });
    }
  });
  return tokens.sort((a, b) =>
    a.position < b.position ? -1 : a.position > b.position ? 1 : a.member - b.member,
  );
}

/** For each slot, the index of the first token at or after its position (wrapping to token 0). */
function slotSuccessors(tokens: readonly Token[]): Uint32Array {
  const result = new Uint32Array(SLOT_COUNT);
  let t = 0;
  for (let slot = 0; slot < SLOT_COUNT; slot++) {
    const position = BigInt(slot) << SLOT_SHIFT;
    while (t < tokens.length && tokens[t]!.position < position) t++;
    result[slot] = t === tokens.length ? 0 : t;
  }
  return result;
}

/**
 * Clockwise from token `start`: first nodes in zones not yet used, then, if zones run out before
 * `count`, any node not yet chosen. Without zone labels both passes reduce to "distinct nodes".
 */
function walk(
  tokens: readonly Token[],
  start: number,
  zones: readonly number[],
  zoneCount: number,
  members: readonly RingMember[],
  count: number,
): string[] {
  const chosen: number[] = [];
  const usedZones = new Set<number>();
  for (let k = 0; k < tokens.length && chosen.length < count && usedZones.size < zoneCount; k++) {
    const member = tokens[(start + k) % tokens.length]!.member;
    if (usedZones.has(zones[member]!)) continue;
    usedZones.add(zones[member]!);
    chosen.push(member);
  }
  for (let k = 0; k < tokens.length && chosen.length < count; k++) {
    const member = tokens[(start + k) % tokens.length]!.member;
    if (!chosen.includes(member)) chosen.push(member);
  }
  return chosen.map((m) => members[m]!.id);
}

/** One shared frozen array per distinct list: 16384 slots map onto a few hundred lists. */
function interned(cache: Map<string, readonly string[]>, list: string[]): readonly string[] {
  const key = list.join(',');
  let shared = cache.get(key);
  if (shared === undefined) {
    shared = Object.freeze(list);
    cache.set(key, shared);
  }
  return shared;
}

/** A member without a zone gets a zone of its own: unknown placement is assumed independent. */
function zoneIndices(sorted: readonly RingMember[]): number[] {
  const ids = new Map<string, number>();
  return sorted.map((m, i) => {
    if (m.zone === undefined) return -1 - i;
    let z = ids.get(m.zone);
    if (z === undefined) {
      z = ids.size;
      ids.set(m.zone, z);
    }
    return z;
  });
}

function assertOptions(members: readonly RingMember[], vnodes: number, n: number): void {
  if (members.length === 0) throw new RangeError('ring needs at least one member');
  if (members.length > MEMBERS_MAX) throw new RangeError(`ring members ${members.length} > ${MEMBERS_MAX}`);
  if (!Number.isInteger(vnodes) || vnodes < 1 || vnodes > VNODES_MAX) {
    throw new RangeError(`vnodes must be an integer in [1, ${VNODES_MAX}]: ${vnodes}`);
  }
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`replication factor must be >= 1: ${n}`);
}

function assertUniqueIds(sorted: readonly RingMember[]): void {
  sorted.forEach((m, i) => {
    if (!NODE_ID_RE.test(m.id)) throw new RangeError(`node id must be 40 lowercase hex: ${m.id}`);
    if (i > 0 && sorted[i - 1]!.id === m.id) throw new RangeError(`duplicate ring member: ${m.id}`);
  });
}

function assertSlot(slot: number): void {
  if (!Number.isInteger(slot) || slot < 0 || slot >= SLOT_COUNT) {
    throw new RangeError(`slot out of range: ${slot}`);
  }
}
