/**
 * LZF decompression (liblzf's lzf_decompress, which Redis uses for strings longer than 20 bytes in
 * RDB files and DUMP payloads). A control byte below 32 starts a run of ctrl+1 literal bytes; any
 * other is a back-reference: length ctrl>>5 (7 means one more length byte follows) plus 2, offset
 * ((ctrl & 0x1f) << 8 | next byte) + 1 back from the output position.
 */
export class LzfError extends Error {}

/** The `expected` bytes `input` decompresses to; LzfError when it is malformed or the size is wrong. */
export function lzfDecompress(input: Uint8Array, expected: number): Buffer {
  const out = Buffer.allocUnsafe(expected);
  let ip = 0;
  let op = 0;
  while (ip < input.length) {
    const ctrl = input[ip++]!;
    if (ctrl < 32) {
      const run = ctrl + 1;
      if (op + run > expected || ip + run > input.length) throw new LzfError('lzf literal run out of bounds');
      for (let i = 0; i < run; i++) out[op++] = input[ip++]!;
      continue;
    }
    let len = ctrl >> 5;
    if (len === 7) {
      if (ip >= input.length) throw new LzfError('lzf truncated length');
      len += input[ip++]!;
    }
    if (ip >= input.length) throw new LzfError('lzf truncated reference');
    const ref = op - ((ctrl & 0x1f) << 8) - input[ip++]! - 1;
    len += 2;
    if (ref < 0) throw new LzfError('lzf reference before the start');
    if (op + len > expected) throw new LzfError('lzf reference out of bounds');
    // Byte by byte: a reference may overlap what it writes (runs of one pattern).
    for (let i = 0; i < len; i++) out[op++] = out[ref + i]!;
  }
  if (op !== expected) throw new LzfError(`lzf output ${op} bytes, expected ${expected}`);
  return out;
}
