/**
 * CRC-64/Jones as Redis's crc64.c computes it (the DUMP payload checksum): polynomial
 * 0xad93d23594c935a9, reflected input and output, initial value 0, no final xor. Check value:
 * crc64("123456789") = 0xe9c6d914c4b8d9ca.
 *
 * Table-driven over two 32-bit halves, so a large payload costs no bigint work per byte.
 */

/** The polynomial bit-reversed, for the reflected (LSB-first) form. */
const POLY_REFLECTED = 0x95ac9329ac4bc9b5n;

const TABLE_HI = new Uint32Array(256);
const TABLE_LO = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let crc = BigInt(i);
  for (let b = 0; b < 8; b++) crc = (crc & 1n) !== 0n ? (crc >> 1n) ^ POLY_REFLECTED : crc >> 1n;
  TABLE_HI[i] = Number(crc >> 32n);
  TABLE_LO[i] = Number(crc & 0xffffffffn);
}

/** The CRC of `data`, continuing from `crc` (0 to start). */
export function crc64(data: Uint8Array, crc = 0n): bigint {
  let hi = Number((crc >> 32n) & 0xffffffffn);
  let lo = Number(crc & 0xffffffffn);
  for (let i = 0; i < data.length; i++) {
    const idx = (lo ^ data[i]!) & 0xff;
    lo = ((lo >>> 8) | ((hi & 0xff) << 24)) ^ TABLE_LO[idx]!;
    hi = (hi >>> 8) ^ TABLE_HI[idx]!;
  }
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}
