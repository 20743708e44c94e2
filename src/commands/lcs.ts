import { ERR, ReplyError } from '../core/errors.js';
import { ValueType } from './keyspace.js';
import { command, type CommandContext, type CommandSpec } from './spec.js';
import { int64Arg, lower } from './args.js';
import { StringValue } from '../strings/fragmented-string.js';
import { lcs, LCS_CELLS_MAX } from '../strings/lcs.js';

/** LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN], with Redis 7.0's checks in its order. */
function lcsCommand(ctx: CommandContext, argv: Buffer[]): void {
  const ea = ctx.ks.get(argv[1]!);
  const eb = ctx.ks.get(argv[2]!);
  const isString = (t: ValueType | undefined): boolean => t === undefined || t === ValueType.String || t === ValueType.FragmentedString;
  if (!isString(ea?.type) || !isString(eb?.type)) throw new ReplyError('ERR The specified keys must contain string values');
  let getIdx = false, getLen = false, withMatchLen = false;
  let minMatchLen = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = lower(argv[j]!);
    const more = argv.length - 1 - j;
    if (opt === 'idx') getIdx = true;
    else if (opt === 'len') getLen = true;
    else if (opt === 'withmatchlen') withMatchLen = true;
    else if (opt === 'minmatchlen' && more > 0) {
      const v = int64Arg(argv[++j]!);
      minMatchLen = v < 0n ? 0 : v > 0xffffffffn ? 0xffffffff : Number(v);
    } else throw new ReplyError(ERR.syntax);
  }
  if (getIdx && getLen) throw new ReplyError('ERR If you want both the length and indexes, please just use IDX.');
  const a = StringValue.open(ctx.ks, argv[1]!)?.all() ?? Buffer.alloc(0);
  const b = StringValue.open(ctx.ks, argv[2]!)?.all() ?? Buffer.alloc(0);
  // Redis sizes its table at 4 bytes a cell and refuses one above proto-max-bulk-len before it
  // tries to allocate it; ringkv's own cap on the table answers as a failed allocation does.
  const cells = (a.length + 1) * (b.length + 1);
  if (cells * 4 > ctx.node.config.int('proto-max-bulk-len')) throw new ReplyError('ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len');
  if (cells > LCS_CELLS_MAX) throw new ReplyError('ERR Insufficient memory, failed allocating transient memory for LCS');
  const r = lcs(a, b, minMatchLen);
  const { out } = ctx;
  if (getIdx) {
    out.mapHeader(2);
    out.bulk('matches');
    out.arrayHeader(r.matches.length);
    for (const m of r.matches) {
      out.arrayHeader(withMatchLen ? 3 : 2);
      out.arrayHeader(2);
      out.int(m.a[0]);
      out.int(m.a[1]);
      out.arrayHeader(2);
      out.int(m.b[0]);
      out.int(m.b[1]);
      if (withMatchLen) out.int(m.length);
    }
    out.bulk('len');
    out.int(r.length);
  } else if (getLen) out.int(r.length);
  else out.bulk(r.text);
}

export const lcsCommands: CommandSpec[] = [
  command({ name: 'lcs', arity: -3, flags: ['readonly'], firstKey: 1, lastKey: 2, step: 1, categories: ['read', 'string', 'slow'], run: lcsCommand }),
];
