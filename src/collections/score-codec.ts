/**
 * Sorted-set scores as 8 bytes whose byte order is the numeric order of the doubles, -inf … +inf:
 * the IEEE 754 bits big-endian, with the sign bit flipped for positive numbers and every bit
 * inverted for negative ones. NaN is never stored (Redis refuses it before it reaches a set).
 *
 * Two forms: `exactScoreBytes` keeps -0 apart from 0 (a member's own record: Redis replies "-0"
 * for a score it holds as -0), `indexScoreBytes` folds -0 into 0 so the score index orders them as
 * one score, ties broken by member bytes, as Redis's skiplist compares them.
 */

export const SCORE_BYTES = 8;

export function exactScoreBytes(score: number): Buffer {
  if (Number.isNaN(score)) throw new RangeError('NaN is not a sorted-set score');
  const b = Buffer.allocUnsafe(SCORE_BYTES);
  b.writeDoubleBE(score, 0);
  if ((b[0]! & 0x80) !== 0) {
    for (let i = 0; i < SCORE_BYTES; i++) b[i] = ~b[i]! & 0xff;
  } else {
    b[0] = b[0]! | 0x80;
  }
  return b;
}

/** The score as the index orders it: -0 and 0 are the same score. */
export function indexScoreBytes(score: number): Buffer {
  return exactScoreBytes(score === 0 ? 0 : score);
}

export function decodeScore(bytes: Buffer, at = 0): number {
  const b = Buffer.allocUnsafe(SCORE_BYTES);
  bytes.copy(b, 0, at, at + SCORE_BYTES);
  if ((b[0]! & 0x80) !== 0) {
    b[0] = b[0]! & 0x7f;
  } else {
    for (let i = 0; i < SCORE_BYTES; i++) b[i] = ~b[i]! & 0xff;
  }
  return b.readDoubleBE(0);
}

/** The smallest 8-byte string above `bytes` (the next score up); undefined above the largest. */
export function nextScoreBytes(bytes: Buffer): Buffer | undefined {
  const b = Buffer.from(bytes);
  for (let i = SCORE_BYTES - 1; i >= 0; i--) {
    if (b[i] !== 0xff) {
      b[i]!++;
      return b;
    }
    b[i] = 0;
  }
  return undefined;
}
