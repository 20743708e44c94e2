/**
 * The longest common subsequence of two strings as Redis 7.0's LCS computes it: the classic
 * dynamic-programming table, walked back from the end so that the LCS string and the matched
 * ranges (last first) come out exactly as Redis emits them.
 */

export interface LcsMatch {
  a: [number, number];
  b: [number, number];
  length: number;
}

export interface LcsResult {
  length: number;
  /** The common subsequence itself. */
  text: Buffer;
  /** Contiguous matched ranges, from the end of the strings backwards, at least `minMatchLen` long. */
  matches: LcsMatch[];
}

/** Cells of the table above which LCS refuses, as Redis does when it cannot allocate it. */
export const LCS_CELLS_MAX = 256 * 1024 * 1024;

export function lcs(a: Buffer, b: Buffer, minMatchLen: number): LcsResult {
  const w = b.length + 1;
  const dp = new Uint32Array((a.length + 1) * w);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      dp[i * w + j] = a[i - 1] === b[j - 1] ? dp[(i - 1) * w + j - 1]! + 1 : Math.max(dp[(i - 1) * w + j]!, dp[i * w + j - 1]!);
    }
  }
  const length = dp[a.length * w + b.length]!;
  const text = Buffer.alloc(length);
  const matches: LcsMatch[] = [];
  let idx = length;
  let i = a.length;
  let j = b.length;
  // A range is open while aStart !== a.length (Redis's marker for "none").
  let aStart = a.length, aEnd = 0, bStart = 0, bEnd = 0;
  while (i > 0 && j > 0) {
    let emit = false;
    if (a[i - 1] === b[j - 1]) {
      text[idx - 1] = a[i - 1]!;
      if (aStart === a.length) {
        aStart = aEnd = i - 1;
        bStart = bEnd = j - 1;
      } else if (aStart === i && bStart === j) {
        aStart--;
        bStart--;
      } else emit = true;
      if (aStart === 0 || bStart === 0) emit = true;
      idx--;
      i--;
      j--;
    } else {
      if (dp[(i - 1) * w + j]! > dp[i * w + j - 1]!) i--;
      else j--;
      if (aStart !== a.length) emit = true;
    }
    if (emit) {
      const matchLen = aEnd - aStart + 1;
      if (minMatchLen === 0 || matchLen >= minMatchLen) matches.push({ a: [aStart, aEnd], b: [bStart, bEnd], length: matchLen });
      aStart = a.length;
    }
  }
  return { length, text, matches };
}
