import { ERR, ReplyError } from '../core/errors.js';
import type { Collection } from '../collections/collection.js';
import { elementCursors } from '../collections/element-cursors.js';
import { ElementKind } from '../collections/record-keys.js';
import { int64Arg, lower, scanCursorText } from './args.js';
import { globMatch } from './glob.js';
import type { CommandContext } from './spec.js';

/**
 * HSCAN / SSCAN / ZSCAN: the parts they share. The cursor is checked before the key is looked up
 * and the options after, as Redis does (a missing key gives an empty scan and a wrong type
 * WRONGTYPE even when an option is wrong). A collection still in its compact encoding comes back
 * whole, as Redis answers for a listpack or intset; a larger one in pages of about COUNT members,
 * the cursor naming the stored position of the last member returned (element-cursors.ts).
 */

export interface ScanOptions {
  pattern: Buffer | undefined;
  count: number;
  /** HSCAN NOVALUES: fields only. */
  novalues: boolean;
}

/** The cursor argument's canonical text (args.ts scanCursorText); else "ERR invalid cursor". */
export function scanCursor(arg: Buffer): string {
  const text = scanCursorText(arg);
  if (text === undefined) throw new ReplyError('ERR invalid cursor');
  return text;
}

/** The empty reply for a missing key. */
export function emptyScan(ctx: CommandContext): void {
  ctx.out.arrayHeader(2);
  ctx.out.bulk('0');
  ctx.out.bulkArray([]);
}

/** MATCH, COUNT (and NOVALUES where allowed) from argv[3] on. */
export function scanOptions(argv: Buffer[], allowNoValues: boolean): ScanOptions {
  const opts: ScanOptions = { pattern: undefined, count: 10, novalues: false };
  for (let i = 3; i < argv.length; i++) {
    const o = lower(argv[i]!);
    if (allowNoValues && o === 'novalues') opts.novalues = true;
    else if (o === 'match' && i + 1 < argv.length) opts.pattern = argv[++i]!;
    else if (o === 'count' && i + 1 < argv.length) {
      const wide = int64Arg(argv[++i]!);
      if (wide < 1n) throw new ReplyError(ERR.syntax);
      opts.count = wide > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(wide);
    } else throw new ReplyError(ERR.syntax);
  }
  return opts;
}

export function matches(opts: ScanOptions, member: Buffer): boolean {
  return opts.pattern === undefined || globMatch(opts.pattern, member);
}

/**
 * Visits one page of a large collection's members from the cursor (whole = every member) and
 * returns the next cursor's text ('0' when done, or when the cursor is unknown here).
 */
export function scanPage(c: Collection, key: Buffer, cursor: string, count: number, whole: boolean, visit: (member: Buffer, value: Buffer) => void): string {
  const from = whole ? undefined : elementCursors.resolve(cursor, key, c.meta.generation);
  if (from === null) return '0';
  let last: Buffer | undefined;
  let seen = 0;
  let more = false;
  c.scan(ElementKind.Member, (member, value, position) => {
    if (!whole && seen >= count) {
      more = true;
      return false;
    }
    seen++;
    last = position;
    visit(Buffer.from(member), value);
    return true;
  }, from === undefined ? {} : { lo: Buffer.concat([from, ZERO]) });
  if (!more || last === undefined) return '0';
  return elementCursors.issue({ key: key.toString('latin1'), generation: c.meta.generation.toString('latin1'), after: Buffer.from(last) });
}

const ZERO = Buffer.from([0]);
