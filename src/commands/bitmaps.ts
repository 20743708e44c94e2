import { ERR, ReplyError } from '../core/errors.js';
import { command, type CommandContext, type CommandSpec } from './spec.js';
import { int64Arg, lower, parseInt64 } from './args.js';
import { ByteEditor, storeString, StringValue, updateBytes } from '../strings/fragmented-string.js';
import { countBits, findBit, type ChunkSource } from '../strings/bits.js';
import { applyOverflow, readField, writeField, type FieldType, type Overflow } from '../strings/bitfield.js';

/**
 * SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO, with Redis 7.0's arguments, replies and
 * error texts. They work on either form of a string (src/strings/fragmented-string.ts): on a
 * fragmented one SETBIT and BITFIELD write the fragments they touch and the metadata, GETBIT
 * reads one fragment, BITCOUNT and BITPOS read the fragments present in their range. BITOP reads
 * its sources whole, as Redis does.
 */

const BAD_OFFSET = 'ERR bit offset is not an integer or out of range';
const BAD_BIT = 'ERR bit is not an integer or out of range';
const BAD_TYPE = 'ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.';

/** A bit offset (getBitOffsetFromArgument): `#n` means n fields of `bits` when allowed; below 2^3 · proto-max-bulk-len. */
function bitOffset(ctx: CommandContext, arg: Buffer, fieldBits = 0): number {
  const hash = fieldBits > 0 && arg[0] === 0x23;
  const v = parseInt64(hash ? arg.subarray(1) : arg);
  if (v === undefined) throw new ReplyError(BAD_OFFSET);
  const offset = hash ? BigInt.asIntN(64, v * BigInt(fieldBits)) : v;
  if (offset < 0n || offset >> 3n >= BigInt(ctx.node.config.int('proto-max-bulk-len'))) throw new ReplyError(BAD_OFFSET);
  return Number(offset);
}

function source(s: StringValue): ChunkSource {
  return (start, end, visit) => s.chunks(start, end, visit);
}

function setbit(ctx: CommandContext, argv: Buffer[]): void {
  const offset = bitOffset(ctx, argv[2]!);
  const on = parseInt64(argv[3]!);
  if (on === undefined || (on !== 0n && on !== 1n)) throw new ReplyError(BAD_BIT);
  const key = argv[1]!;
  const s = StringValue.open(ctx.ks, key);
  const byte = Math.floor(offset / 8);
  const shift = 7 - (offset % 8);
  // A bit that already has the value, inside a string Redis already holds raw: nothing is
  // written, as Redis 7.0 does (no new version, so a WATCH on the key still holds; no keyspace
  // event). An int or embstr string is written raw all the same, as Redis re-encodes it.
  if (s !== undefined && byte < s.length && s.isRaw) {
    const current = (s.read(byte, byte + 1)[0]! >>> shift) & 1;
    if (current === Number(on)) return ctx.out.int(current);
  }
  let old = 0;
  updateBytes(ctx.ks, key, s, byte, 1, (b) => {
    old = (b[0]! >>> shift) & 1;
    b[0] = (b[0]! & ~(1 << shift)) | (Number(on) << shift);
  });
  ctx.out.int(old);
}

function getbit(ctx: CommandContext, argv: Buffer[]): void {
  const offset = bitOffset(ctx, argv[2]!);
  const s = StringValue.open(ctx.ks, argv[1]!);
  const byte = Math.floor(offset / 8);
  if (s === undefined || byte >= s.length) return ctx.out.int(0);
  ctx.out.int((s.read(byte, byte + 1)[0]! >>> (7 - (offset % 8))) & 1);
}

/** BIT / BYTE unit argument. */
function unitIsBit(arg: Buffer): boolean {
  const u = lower(arg);
  if (u === 'bit') return true;
  if (u === 'byte') return false;
  throw new ReplyError(ERR.syntax);
}

/**
 * A [start, end] range in bytes or bits made absolute and clipped as Redis does, as inclusive bit
 * positions; undefined when empty.
 */
function bitRange(length: number, start: bigint, end: bigint, isBit: boolean): [number, number] | undefined {
  const total = BigInt(isBit ? length * 8 : length);
  if (start < 0n) start += total;
  if (end < 0n) end += total;
  if (start < 0n) start = 0n;
  if (end < 0n) end = 0n;
  if (end >= total) end = total - 1n;
  if (start > end) return undefined;
  return isBit ? [Number(start), Number(end)] : [Number(start) * 8, Number(end) * 8 + 7];
}

/** BITCOUNT key [start end [BYTE|BIT]]: Redis 7.0 looks the key up before it reads the range. */
function bitcount(ctx: CommandContext, argv: Buffer[]): void {
  const s = StringValue.open(ctx.ks, argv[1]!);
  if (s === undefined) return ctx.out.int(0);
  if (argv.length === 3 || argv.length > 5) throw new ReplyError(ERR.syntax);
  let start = 0n, end = -1n, isBit = false;
  if (argv.length >= 4) {
    start = int64Arg(argv[2]!);
    end = int64Arg(argv[3]!);
    if (start < 0n && end < 0n && start > end) return ctx.out.int(0);
    if (argv.length === 5) isBit = unitIsBit(argv[4]!);
  }
  const range = bitRange(s.length, start, end, isBit);
  ctx.out.int(range === undefined ? 0 : countBits(source(s), range[0], range[1]));
}

/** BITPOS key bit [start [end [BYTE|BIT]]]: the bit first, then the key, then the range (Redis 7.0's order). */
function bitpos(ctx: CommandContext, argv: Buffer[]): void {
  const bitArg = int64Arg(argv[2]!);
  if (bitArg !== 0n && bitArg !== 1n) throw new ReplyError('ERR The bit argument must be 1 or 0.');
  const bit = Number(bitArg) as 0 | 1;
  const s = StringValue.open(ctx.ks, argv[1]!);
  if (s === undefined) return ctx.out.int(bit === 1 ? -1 : 0);
  if (argv.length > 6) throw new ReplyError(ERR.syntax);
  let start = 0n, end = -1n, isBit = false;
  const endGiven = argv.length >= 5;
  if (argv.length >= 4) {
    start = int64Arg(argv[3]!);
    if (argv.length === 6) isBit = unitIsBit(argv[5]!);
    if (endGiven) end = int64Arg(argv[4]!);
  }
  const range = bitRange(s.length, start, end, isBit);
  if (range === undefined) return ctx.out.int(-1);
  const pos = findBit(source(s), bit, range[0], range[1]);
  // Looking for a 0 without an explicit end, the string counts as followed by zeros (Redis).
  if (pos === -1 && bit === 0 && !endGiven) return ctx.out.int(range[1] + 1);
  ctx.out.int(pos);
}

/** BITOP AND|OR|XOR|NOT destkey srckey [srckey …]: the result replaces the destination (deleted when empty). */
function bitop(ctx: CommandContext, argv: Buffer[]): void {
  const op = lower(argv[1]!);
  if (op !== 'and' && op !== 'or' && op !== 'xor' && op !== 'not') throw new ReplyError(ERR.syntax);
  if (op === 'not' && argv.length !== 4) throw new ReplyError('ERR BITOP NOT must be called with a single source key.');
  const sources: Buffer[] = [];
  let maxLength = 0;
  for (let i = 3; i < argv.length; i++) {
    const s = StringValue.open(ctx.ks, argv[i]!);
    const v = s?.all() ?? Buffer.alloc(0);
    sources.push(v);
    maxLength = Math.max(maxLength, v.length);
  }
  const dest = argv[2]!;
  if (maxLength === 0) {
    ctx.ks.del(dest);
    return ctx.out.int(0);
  }
  const out = Buffer.alloc(maxLength);
  if (op === 'not') {
    const v = sources[0]!;
    for (let i = 0; i < maxLength; i++) out[i] = ~v[i]! & 0xff;
  } else {
    // Missing bytes of a shorter source count as zeros.
    sources[0]!.copy(out);
    for (let k = 1; k < sources.length; k++) {
      const v = sources[k]!;
      for (let i = 0; i < maxLength; i++) {
        const b = i < v.length ? v[i]! : 0;
        out[i] = op === 'and' ? out[i]! & b : op === 'or' ? out[i]! | b : out[i]! ^ b;
      }
    }
  }
  storeString(ctx.ks, dest, out);
  ctx.out.int(maxLength);
}

interface FieldOp {
  kind: 'get' | 'set' | 'incrby';
  type: FieldType;
  offset: number;
  value: bigint;
  overflow: Overflow;
}

function fieldType(arg: Buffer): FieldType {
  const signed = arg[0] === 0x69;
  if (!signed && arg[0] !== 0x75) throw new ReplyError(BAD_TYPE);
  // string2ll on the rest as a C string (up to a NUL).
  let rest = arg.subarray(1);
  const nul = rest.indexOf(0);
  if (nul >= 0) rest = rest.subarray(0, nul);
  const bits = parseInt64(rest);
  if (bits === undefined || bits < 1n || (signed && bits > 64n) || (!signed && bits > 63n)) throw new ReplyError(BAD_TYPE);
  return { signed, bits: Number(bits) };
}

/** BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset incr] [OVERFLOW WRAP|SAT|FAIL] … */
function bitfield(readOnly: boolean) {
  return (ctx: CommandContext, argv: Buffer[]): void => {
    const ops: FieldOp[] = [];
    let overflow: Overflow = 'wrap';
    let writes = false;
    let highestBit = 0;
    for (let j = 2; j < argv.length; j++) {
      const rem = argv.length - j - 1;
      const sub = lower(argv[j]!);
      let kind: FieldOp['kind'];
      if (sub === 'get' && rem >= 2) kind = 'get';
      else if (sub === 'set' && rem >= 3) kind = 'set';
      else if (sub === 'incrby' && rem >= 3) kind = 'incrby';
      else if (sub === 'overflow' && rem >= 1) {
        const o = lower(argv[++j]!);
        if (o !== 'wrap' && o !== 'sat' && o !== 'fail') throw new ReplyError('ERR Invalid OVERFLOW type specified');
        overflow = o;
        continue;
      } else throw new ReplyError(ERR.syntax);
      const type = fieldType(argv[j + 1]!);
      const offset = bitOffset(ctx, argv[j + 2]!, type.bits);
      let value = 0n;
      if (kind !== 'get') {
        writes = true;
        highestBit = Math.max(highestBit, offset + type.bits - 1);
        value = int64Arg(argv[j + 3]!);
      }
      ops.push({ kind, type, offset, value, overflow });
      j += kind === 'get' ? 2 : 3;
    }
    // Redis refuses a write subcommand of BITFIELD_RO before it looks at the key's type.
    if (writes && readOnly) throw new ReplyError('ERR BITFIELD_RO only supports the GET subcommand');
    const key = argv[1]!;
    const s = StringValue.open(ctx.ks, key);
    const bytes = new ByteEditor(s);
    ctx.out.arrayHeader(ops.length);
    for (const op of ops) {
      const old = readField(bytes, op.offset, op.type);
      if (op.kind === 'get') {
        ctx.out.int(old);
        continue;
      }
      const next = op.kind === 'set' ? applyOverflow(op.type, op.value, 0n, op.overflow) : applyOverflow(op.type, old, op.value, op.overflow);
      if (next === undefined) {
        ctx.out.nullBulk();
        continue;
      }
      writeField(bytes, op.offset, op.type, next);
      ctx.out.int(op.kind === 'set' ? old : op.type.signed ? next : BigInt.asUintN(64, next));
    }
    // Redis grows the string to the farthest field written before running the operations, even
    // when every one of them fails.
    if (writes) bytes.commit(ctx.ks, key, Math.floor(highestBit / 8) + 1);
  };
}

const one = { firstKey: 1, lastKey: 1, step: 1 };

export const bitmapCommands: CommandSpec[] = [
  command({ name: 'setbit', arity: 4, flags: ['write', 'denyoom'], ...one, categories: ['write', 'bitmap', 'slow'], run: setbit }),
  command({ name: 'getbit', arity: 3, flags: ['readonly', 'fast'], ...one, categories: ['read', 'bitmap', 'fast'], run: getbit }),
  command({ name: 'bitcount', arity: -2, flags: ['readonly'], ...one, categories: ['read', 'bitmap', 'slow'], run: bitcount }),
  command({ name: 'bitpos', arity: -3, flags: ['readonly'], ...one, categories: ['read', 'bitmap', 'slow'], run: bitpos }),
  command({ name: 'bitop', arity: -4, flags: ['write', 'denyoom'], firstKey: 2, lastKey: -1, step: 1, categories: ['write', 'bitmap', 'slow'], run: bitop }),
  command({ name: 'bitfield', arity: -2, flags: ['write', 'denyoom'], ...one, categories: ['write', 'bitmap', 'slow'], run: bitfield(false) }),
  command({ name: 'bitfield_ro', arity: -2, flags: ['readonly', 'fast'], ...one, categories: ['read', 'bitmap', 'fast'], run: bitfield(true) }),
];
