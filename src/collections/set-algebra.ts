import { isIntsetMember, sortNumerically, type SetType } from './set-type.js';

/**
 * SINTER / SUNION / SDIFF (and their *STORE and SINTERCARD forms) over sets already opened, so
 * every key was type-checked first as Redis does. A missing key is `undefined`: an empty set.
 *
 * A result says whether Redis's own result set would be an intset: that is the order Redis
 * replies in (numeric for an intset) and the encoding a *STORE destination gets. Redis builds the
 * result by adding members to a fresh intset, so it is content that decides (every member an
 * intset member, at most set-max-intset-entries of them), except for SDIFF's second algorithm,
 * which first adds all of the first set (see diff).
 */
export interface SetResult {
  members: Buffer[];
  intset: boolean;
}

const sameKey = (a: SetType, b: SetType): boolean => a.c.key.equals(b.c.key);

/**
 * Visits the members common to all sets until `visit` returns false. Walks the smallest set and
 * probes the others: O(smallest size × number of sets), as Redis. Members are copies.
 * Returns the set that was walked (its encoding decides SINTER's reply order), undefined when a
 * key is missing (the intersection is empty).
 */
export function forEachCommon(sets: ReadonlyArray<SetType | undefined>, visit: (member: Buffer) => boolean): SetType | undefined {
  if (sets.some((s) => s === undefined)) return undefined;
  const bySize = [...(sets as SetType[])].sort((a, b) => a.size - b.size);
  const [smallest, ...others] = bySize as [SetType, ...SetType[]];
  const probe = others.filter((s) => !sameKey(s, smallest));
  smallest.scan((m) => {
    for (const s of probe) if (!s.has(m)) return true;
    return visit(Buffer.from(m));
  });
  return smallest;
}

/** The common members, in the order of the set walked (numeric when it is an intset, as Redis). */
export function intersect(sets: ReadonlyArray<SetType | undefined>, intsetMax: number): SetResult {
  const members: Buffer[] = [];
  const walked = forEachCommon(sets, (m) => {
    members.push(m);
    return true;
  });
  return { members: walked?.intset === true ? sortNumerically(members) : members, intset: contentIsIntset(members, intsetMax) };
}

/** Every member of every set: O(total size), as Redis. */
export function union(sets: ReadonlyArray<SetType | undefined>, intsetMax: number): SetResult {
  const all = new Map<string, Buffer>();
  for (const s of sets) {
    s?.scan((m) => {
      const id = m.toString('latin1');
      if (!all.has(id)) all.set(id, Buffer.from(m));
      return true;
    });
  }
  return ordered([...all.values()], contentIsIntset(all.values(), intsetMax));
}

/**
 * The members of the first set in none of the others, by the algorithm Redis 7.0 would pick
 * from the sizes: (1) walk the first set and probe the others, when size(first) × sets / 2 is at
 * most the total size; (2) otherwise copy the first set and remove every member of the others.
 * The result is the same; the encoding Redis leaves it in is not: (2) first holds all of the
 * first set, so a string member or an oversize first set turns it into a hashtable even if the
 * difference is all small integers.
 */
export function diff(sets: ReadonlyArray<SetType | undefined>, intsetMax: number): SetResult {
  const [first, ...rest] = sets;
  if (first === undefined) return { members: [], intset: true };
  const others = rest.filter((s): s is SetType => s !== undefined);
  if (others.some((s) => sameKey(s, first))) return { members: [], intset: true };
  const present = [first, ...others];
  const algoOneWork = Math.floor((first.size * present.length) / 2);
  const algoTwoWork = present.reduce((n, s) => n + s.size, 0);
  if (algoOneWork <= algoTwoWork) {
    const members: Buffer[] = [];
    first.scan((m) => {
      for (const s of others) if (s.has(m)) return true;
      members.push(Buffer.from(m));
      return true;
    });
    return ordered(members, contentIsIntset(members, intsetMax));
  }
  const left = new Map<string, Buffer>();
  let firstIntset = first.size <= intsetMax;
  first.scan((m) => {
    if (firstIntset && !isIntsetMember(m)) firstIntset = false;
    left.set(m.toString('latin1'), Buffer.from(m));
    return true;
  });
  for (const s of others) {
    if (left.size === 0) break;
    s.scan((m) => {
      left.delete(m.toString('latin1'));
      return left.size > 0;
    });
  }
  return ordered([...left.values()], firstIntset);
}

function ordered(members: Buffer[], intset: boolean): SetResult {
  return { members: intset ? sortNumerically(members) : members, intset };
}

function contentIsIntset(members: Iterable<Buffer>, intsetMax: number): boolean {
  let n = 0;
  for (const m of members) {
    if (++n > intsetMax || !isIntsetMember(m)) return false;
  }
  return true;
}
