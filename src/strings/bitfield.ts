/**
 * BITFIELD's integers, as Redis's bitops.c: a field of 1-64 bits (signed) or 1-63 (unsigned) at any
 * bit offset, most significant bit first; reads and writes go through callbacks to the bytes, and
 * overflow follows WRAP, SAT or FAIL exactly as checkSignedBitfieldOverflow /
 * checkUnsignedBitfieldOverflow (including their treatment of SET values out of range).
 */

export type Overflow = 'wrap' | 'sat' | 'fail';

export interface FieldType {
  signed: boolean;
  bits: number;
}

export interface Bytes {
  get(index: number): number;
  set(index: number, value: number): void;
}

export function readField(bytes: Bytes, offset: number, t: FieldType): bigint {
  let v = 0n;
  for (let j = 0; j < t.bits; j++) {
    const at = offset + j;
    v = (v << 1n) | BigInt((bytes.get(Math.floor(at / 8)) >>> (7 - (at % 8))) & 1);
  }
  if (t.signed && t.bits < 64 && (v & (1n << BigInt(t.bits - 1))) !== 0n) v -= 1n << BigInt(t.bits);
  if (t.signed && t.bits === 64) v = BigInt.asIntN(64, v);
  return v;
}

export function writeField(bytes: Bytes, offset: number, t: FieldType, value: bigint): void {
  const u = BigInt.asUintN(64, value);
  for (let j = 0; j < t.bits; j++) {
    const bit = Number((u >> BigInt(t.bits - 1 - j)) & 1n);
    const at = offset + j;
    const index = Math.floor(at / 8);
    const shift = 7 - (at % 8);
    bytes.set(index, (bytes.get(index) & ~(1 << shift) & 0xff) | (bit << shift));
  }
}

/**
 * `value + incr` within the field's range, or what the overflow policy makes of it; undefined when
 * it overflows under FAIL. `value` is what a SET asked for (incr 0) or the field's current value.
 */
export function applyOverflow(t: FieldType, value: bigint, incr: bigint, policy: Overflow): bigint | undefined {
  const bits = BigInt(t.bits);
  if (!t.signed) {
    const v = BigInt.asUintN(64, value);
    const max = (1n << bits) - 1n;
    const maxincr = BigInt.asIntN(64, max - v);
    const minincr = BigInt.asIntN(64, -v);
    const wrap = (): bigint => BigInt.asUintN(64, v + incr) & max;
    if (v > max || (incr > 0n && incr > maxincr)) return policy === 'wrap' ? wrap() : policy === 'sat' ? max : undefined;
    if (incr < 0n && incr < minincr) return policy === 'wrap' ? wrap() : policy === 'sat' ? 0n : undefined;
    return v + incr;
  }
  const max = t.bits === 64 ? (1n << 63n) - 1n : (1n << (bits - 1n)) - 1n;
  const min = -max - 1n;
  const maxincr = BigInt.asIntN(64, max - value);
  const minincr = BigInt.asIntN(64, min - value);
  const wrap = (): bigint => {
    let c = BigInt.asUintN(64, value + incr);
    if (t.bits < 64) {
      const mask = BigInt.asUintN(64, -1n << bits);
      c = (c & (1n << (bits - 1n))) !== 0n ? c | mask : c & ~mask;
    }
    return BigInt.asIntN(64, c);
  };
  const t64 = t.bits === 64;
  if (value > max || (!t64 && incr > maxincr) || (value >= 0n && incr > 0n && incr > maxincr)) {
    return policy === 'wrap' ? wrap() : policy === 'sat' ? max : undefined;
  }
  if (value < min || (!t64 && incr < minincr) || (value < 0n && incr < 0n && incr < minincr)) {
    return policy === 'wrap' ? wrap() : policy === 'sat' ? min : undefined;
  }
  return value + incr;
}
