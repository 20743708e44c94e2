/**
 * CRC-16/XMODEM (poly 0x1021, init 0, no reflection, no final xor): the variant Redis Cluster uses
 * for key slots. Smart clients compute it themselves, so it must match Redis bit for bit.
 */

/** Built once at load: a byte-at-a-time table is ~8x faster than the bitwise loop on the hot path. */
const TABLE: Uint16Array = buildTable();

function buildTable(): Uint16Array {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    table[i] = crc;
  }
  return table;
}

/**
 * CRC16 of `buf[start, end)`. The range parameters let callers hash a hash tag in place instead of
 * allocating a subarray per request.
 */
export function crc16(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc = ((crc << 8) ^ TABLE[((crc >>> 8) ^ buf[i]) & 0xff]) & 0xffff;
  }
  return crc;
}
