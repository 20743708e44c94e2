/**
 * Random bitmap commands (SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO) with the string
 * commands that meet them (GETRANGE SUBSTR SETRANGE APPEND STRLEN GET LCS; SETRANGE at the
 * proto-max-bulk-len edge), valid and invalid, over the
 * connection's keys (shared with the other families: WRONGTYPE, DEL, EXPIRE, RENAME) and over a
 * bitmap-only key per hash tag. Offsets reach past 4 KiB now and then, so strings cross into
 * ringkv's fragmented form (src/strings/fragmented-string.ts) and back by overwrite.
 */
import type { Prng } from '../../sim/prng.js';
import { cmd, type DiffCommand } from './command.js';
import type { GenContext } from './gen-context.js';

/** A bit offset: small, across the 4 KiB (32768-bit) fragmenting threshold, or invalid. */
function bitOffset(rng: Prng): string {
  const r = rng.next();
  if (r < 0.45) return String(rng.int(0, 200));
  if (r < 0.8) return String(rng.int(0, 90_000));
  if (r < 0.85) return String(rng.int(32_760, 32_800));
  return rng.pick(['-1', 'x', '', '4294967296', '9999999999999', '1.5', '#2']);
}

/** A byte or bit index for ranges, negative ones included. */
function index(rng: Prng): string {
  const r = rng.next();
  if (r < 0.5) return String(rng.int(-20, 20));
  if (r < 0.9) return String(rng.int(-12_000, 12_000));
  return rng.pick(['0', '-1', '9223372036854775807', '-9223372036854775808', 'x']);
}

function fieldType(rng: Prng): string {
  if (rng.chance(0.08)) return rng.pick(['u64', 'i65', 'i0', 'x8', 'u', 'I8', '']);
  return `${rng.pick(['i', 'u'])}${rng.pick([1, 2, 3, 5, 8, 8, 16, 31, 32, 63, 64].filter((b) => b <= 63 || rng.chance(0.5)))}`;
}

function fieldOffset(rng: Prng): string {
  if (rng.chance(0.25)) return `#${rng.int(0, 600)}`;
  return bitOffset(rng);
}

function fieldValue(rng: Prng): string {
  return rng.pick(['0', '1', '-1', '7', '100', '-100', '127', '128', '255', '256', '-129', '2147483648', '9223372036854775807', '-9223372036854775808', String(rng.int(-5000, 5000)), 'x']);
}

function bitfieldOps(rng: Prng, readOnly: boolean): string[] {
  const out: string[] = [];
  for (let n = rng.int(0, 4); n > 0; n--) {
    const r = rng.next();
    if (r < 0.35 || (readOnly && r < 0.9)) out.push('GET', fieldType(rng), fieldOffset(rng));
    else if (r < 0.6) out.push('SET', fieldType(rng), fieldOffset(rng), fieldValue(rng));
    else if (r < 0.85) out.push('INCRBY', fieldType(rng), fieldOffset(rng), fieldValue(rng));
    else if (r < 0.97) out.push('OVERFLOW', rng.pick(['WRAP', 'SAT', 'FAIL', 'sat', 'bogus']));
    else out.push(rng.pick(['GET', 'SET', 'BOGUS']));
  }
  return out;
}

function unit(rng: Prng): string[] {
  return rng.pick([[], [], ['BIT'], ['BYTE'], ['bit'], ['bogus']]);
}

/** One of the connection's keys, or now and then the bitmap-only key of its hash tag. */
function anyKey(g: GenContext, k: string): string {
  return g.rng.chance(0.4) ? `${k.slice(0, k.indexOf('}') + 1)}bits${g.rng.int(0, 1)}` : k;
}

export function bitmapCommand(g: GenContext): DiffCommand[] {
  const { rng, keys } = g;
  const k = (): string => anyKey(g, keys.key(rng));
  switch (rng.int(0, 26)) {
    case 0:
    case 1:
    case 2:
    case 3: return [cmd(['SETBIT', k(), bitOffset(rng), rng.pick(['0', '1', '1', '1', '2', '-1', 'x'])])];
    case 4:
    case 5: return [cmd(['GETBIT', k(), bitOffset(rng)])];
    case 6: return [cmd(['BITCOUNT', k()])];
    case 7:
    case 8: return [cmd(['BITCOUNT', k(), index(rng), index(rng), ...unit(rng)])];
    case 9: return [cmd(['BITCOUNT', k(), index(rng)])];
    case 10: return [cmd(['BITPOS', k(), rng.pick(['0', '1', '1', '2'])])];
    case 11:
    case 12: {
      const args = rng.pick([[index(rng)], [index(rng), index(rng)], [index(rng), index(rng), ...unit(rng)]]);
      return [cmd(['BITPOS', k(), rng.pick(['0', '1']), ...args])];
    }
    case 13: {
      const named = g.keys.keys(rng, rng.int(2, 4)).map((x) => anyKey(g, x));
      const op = rng.pick(['AND', 'OR', 'XOR', 'NOT', 'and', 'NAND']);
      return [cmd(['BITOP', op, named[0]!, ...(op.toLowerCase() === 'not' && rng.chance(0.8) ? [named[1]!] : named.slice(1))])];
    }
    case 14:
    case 15:
    case 16: return [cmd(['BITFIELD', k(), ...bitfieldOps(rng, false)])];
    case 17: return [cmd(['BITFIELD_RO', k(), ...bitfieldOps(rng, rng.chance(0.85))])];
    case 18: return [cmd(['GETRANGE', k(), index(rng), index(rng)])];
    case 19: return [cmd(['SETRANGE', k(), rng.pick(['0', '3', '100', '4090', '4100', '9000', String(rng.int(0, 20_000)), '-1']), rng.pick(['ab', '', 'x'.repeat(rng.int(1, 3000))])])];
    case 20: return [cmd(['APPEND', k(), rng.pick(['z', '', 'y'.repeat(rng.int(1, 2500))])])];
    case 21: return [cmd(['STRLEN', k()])];
    case 22: return [cmd(['GET', k()])];
    case 23: return [cmd(['SUBSTR', k(), index(rng), index(rng)])];
    case 24: {
      // One side is always a short string of its own, so the table stays small (Redis's LCS is
      // quadratic: two 20 KB strings take it seconds).
      const [a, b] = g.keys.keys(rng, 2);
      const short = (x: string): string => `${x.slice(0, x.indexOf('}') + 1)}lcs`;
      const text = Array.from({ length: rng.int(0, 30) }, () => rng.pick(['a', 'b', 'c', 'd'])).join('');
      const opts = rng.pick([[], ['LEN'], ['IDX'], ['IDX', 'WITHMATCHLEN'], ['IDX', 'MINMATCHLEN', String(rng.int(-1, 4))], ['IDX', 'MINMATCHLEN', '2', 'WITHMATCHLEN'], ['LEN', 'IDX'], ['MINMATCHLEN'], ['BOGUS']]);
      return [cmd(['SET', short(a!), text]), cmd(['LCS', short(a!), rng.chance(0.5) ? short(b!) : anyKey(g, b!), ...opts])];
    }
    case 25: return [cmd(['SETRANGE', k(), rng.pick(['536870911', '536870912', '9223372036854775807', '-9223372036854775808']), rng.pick(['', 'ab'])])];
    default: return [cmd(['SET', k(), rng.pick(['abc', '\u00ff\u0000\u0001', 'q'.repeat(5000)])])];
  }
}
