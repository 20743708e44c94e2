/**
 * Redis's glob matcher (stringmatchlen) over bytes: `*`, `?`, `[abc]`, `[^a-z]`, `\x` escapes.
 * Iterative with backtracking on the last `*`, so hostile patterns cannot recurse deeply.
 */
export function globMatch(pattern: Buffer, subject: Buffer, nocase = false): boolean {
  let p = 0, s = 0;
  let starP = -1, starS = 0;
  const fold = (c: number): number => (nocase && c >= 0x41 && c <= 0x5a ? c + 32 : c);
  while (s < subject.length) {
    if (p < pattern.length) {
      const pc = pattern[p]!;
      if (pc === 0x2a /* * */) {
        while (p < pattern.length && pattern[p] === 0x2a) p++;
        if (p === pattern.length) return true;
        starP = p;
        starS = s;
        continue;
      }
      if (pc === 0x3f /* ? */) {
        p++;
        s++;
        continue;
      }
      if (pc === 0x5b /* [ */) {
        const r = matchClass(pattern, p, subject[s]!, fold);
        if (r.matched) {
          p = r.next;
          s++;
          continue;
        }
      } else {
        let lit = pc;
        let width = 1;
        if (pc === 0x5c /* \ */ && p + 1 < pattern.length) {
          lit = pattern[p + 1]!;
          width = 2;
        }
        if (fold(lit) === fold(subject[s]!)) {
          p += width;
          s++;
          continue;
        }
      }
    }
    if (starP < 0) return false;
    p = starP;
    s = ++starS;
  }
  while (p < pattern.length && pattern[p] === 0x2a) p++;
  return p === pattern.length;
}

function matchClass(pattern: Buffer, start: number, c: number, fold: (c: number) => number): { matched: boolean; next: number } {
  let p = start + 1;
  const not = pattern[p] === 0x5e; /* ^ */
  if (not) p++;
  let match = false;
  while (p < pattern.length && pattern[p] !== 0x5d /* ] */) {
    if (pattern[p] === 0x5c && p + 1 < pattern.length) {
      p++;
      if (fold(pattern[p]!) === fold(c)) match = true;
    } else if (p + 2 < pattern.length && pattern[p + 1] === 0x2d /* - */ && pattern[p + 2] !== 0x5d) {
      let lo = fold(pattern[p]!), hi = fold(pattern[p + 2]!);
      if (lo > hi) [lo, hi] = [hi, lo];
      const fc = fold(c);
      if (fc >= lo && fc <= hi) match = true;
      p += 2;
    } else if (fold(pattern[p]!) === fold(c)) match = true;
    p++;
  }
  // An unterminated class matches up to the end of the pattern, as in Redis.
  const next = p < pattern.length ? p + 1 : p;
  return { matched: not ? !match : match, next };
}
