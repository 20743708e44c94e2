/**
 * Turns a reply into the form it is compared in. Unless the command's Check says otherwise that form
 * is the reply's exact bytes; the Check only rewrites what Redis does not determine, and every
 * number compared within a tolerance is kept aside with its tolerance.
 */
import type { Check } from './command.js';
import type { RespReply } from './resp.js';

export interface Canonical {
  /** The reply's bytes (latin1) with normalised parts replaced by markers such as `:~`. */
  text: string;
  /** Numbers compared within a tolerance, in the order their `:~` markers appear. */
  approx: Array<{ value: number; tolerance: number }>;
}

function raw(r: RespReply): string {
  return r.raw.toString('latin1');
}

/** Header line of an aggregate, e.g. `*3\r\n`. */
function header(r: RespReply & { kind: 'aggregate' }): string {
  const end = r.raw.indexOf('\r\n', 0, 'latin1');
  return r.raw.subarray(0, end + 2).toString('latin1');
}

function timeValue(r: RespReply, tolerance: number, approx: Canonical['approx']): string {
  if (r.kind !== 'line' || r.type !== ':') return raw(r);
  const value = Number(r.text.toString('latin1'));
  if (value < 0) return raw(r);
  approx.push({ value, tolerance });
  return ':~\r\n';
}

function sortedItems(items: RespReply[], groupSize: number): string {
  // RESP3 nests pairs (HRANDFIELD … WITHVALUES): each item is then one pair already.
  if (items[0]?.kind === 'aggregate') groupSize = 1;
  const groups: string[] = [];
  for (let i = 0; i < items.length; i += groupSize) groups.push(items.slice(i, i + groupSize).map(raw).join(''));
  return groups.sort().join('');
}

function shape(r: RespReply): string {
  if (r.kind === 'bulk') return r.data === null ? raw(r) : `${r.type}*\r\n`;
  if (r.kind === 'line') return r.type === '-' ? raw(r) : `${r.type}*\r\n`;
  if (r.items === null) return raw(r);
  return header(r) + r.items.map(shape).join('');
}

/** Unix times in ms are above this (2001); smaller integers are counts, lengths or idle times. */
const UNIX_MS_MIN = 1e12;

function streamTimes(r: RespReply, check: Check & { kind: 'stream' }, approx: Canonical['approx'], depth: number): string {
  if (r.kind !== 'aggregate' || r.items === null) return raw(r);
  const items = r.items;
  const rowShaped = depth === 1 && check.idleAt !== undefined && items.length === 4;
  const parts = items.map((item, i) => {
    if (item.kind === 'line' && item.type === ':') {
      const prev = i > 0 ? items[i - 1] : undefined;
      const field = prev?.kind === 'bulk' ? prev.data?.toString('latin1') : undefined;
      if (field === 'radix-tree-nodes') return ':?\r\n';
      const value = Number(item.text.toString('latin1'));
      if (value >= UNIX_MS_MIN || field === 'idle' || (rowShaped && i === check.idleAt)) {
        approx.push({ value, tolerance: check.tolerance });
        return ':~\r\n';
      }
      return raw(item);
    }
    return streamTimes(item, check, approx, depth + 1);
  });
  return header(r) + parts.join('');
}

/** One unit in the last place of x. */
function ulp(x: number): number {
  const a = Math.abs(x);
  if (a === 0) return Number.MIN_VALUE;
  return 2 ** (Math.floor(Math.log2(a)) - 52);
}

function distances(r: RespReply, approx: Canonical['approx']): string {
  if (r.kind === 'aggregate') return r.items === null ? raw(r) : header(r) + r.items.map((item) => distances(item, approx)).join('');
  const text = r.kind === 'bulk' ? r.data?.toString('latin1') : r.type === ',' ? r.text.toString('latin1') : undefined;
  const value = text === undefined ? NaN : Number(text);
  if (!Number.isFinite(value) || Number.isInteger(value)) return raw(r);
  approx.push({ value, tolerance: ulp(value) });
  return ':~\r\n';
}

/** The reply of OBJECT ENCODING that names a listpack (RESP2 and RESP3 alike: a bulk string). */
function saysListpack(r: RespReply | undefined): boolean {
  return r?.kind === 'bulk' && r.data?.toString('latin1') === 'listpack';
}

/**
 * `previous`: the reply to the command sent just before on the same connection (or the EXEC
 * element just before), which a `hashOrder` check reads.
 */
export function canonical(r: RespReply, check: Check, previous?: RespReply): Canonical {
  const approx: Canonical['approx'] = [];
  switch (check.kind) {
    case 'hashOrder': {
      if (saysListpack(previous)) return { text: raw(r), approx };
      if (check.scan !== true) return canonical(r, { kind: 'sorted', pairs: check.pairs });
      const cursor = r.kind === 'aggregate' && r.items?.length === 2 ? r.items[0] : undefined;
      const partial = cursor !== undefined && !(cursor.kind === 'bulk' && cursor.data?.toString('latin1') === '0');
      if (partial) return { text: `${header(r as RespReply & { kind: 'aggregate' })}<cursor not 0><page not compared>`, approx };
      return canonical(r, { kind: 'scan', pairs: check.pairs });
    }
    case 'hashEncoding': {
      const name = r.kind === 'bulk' ? r.data?.toString('latin1') : undefined;
      return { text: name === 'listpack' || name === 'hashtable' || r.kind !== 'bulk' ? raw(r) : '<not a hash>', approx };
    }
    case 'exact':
      return { text: raw(r), approx };
    case 'time':
      return { text: timeValue(r, check.tolerance, approx), approx };
    case 'sorted':
      if (r.kind !== 'aggregate' || r.items === null) return { text: raw(r), approx };
      return { text: header(r) + sortedItems(r.items, check.pairs === true ? 2 : 1), approx };
    case 'scan': {
      if (r.kind !== 'aggregate' || r.items?.length !== 2) return { text: raw(r), approx };
      const [cursor, elements] = r.items as [RespReply, RespReply];
      const done = cursor.kind === 'bulk' && cursor.data?.toString('latin1') === '0';
      const list = elements.kind === 'aggregate' && elements.items !== null
        ? header(elements) + sortedItems(elements.items, check.pairs ? 2 : 1)
        : raw(elements);
      return { text: `${header(r)}<cursor ${done ? '0' : 'not 0'}>${list}`, approx };
    }
    case 'shape':
      return { text: shape(r), approx };
    case 'distances':
      return { text: distances(r, approx), approx };
    case 'stream': {
      // XPENDING's rows are the top-level items (depth 1).
      return { text: streamTimes(r, check, approx, 0), approx };
    }
  }
}

/**
 * EXEC's reply: each element is compared by the Check of the command it answers, in the order
 * the commands were queued. Anything but an array (EXECABORT, a null for a broken WATCH) is exact.
 */
export function canonicalExec(r: RespReply, queued: readonly Check[]): Canonical {
  if (r.kind !== 'aggregate' || r.items === null || r.items.length !== queued.length) return { text: raw(r), approx: [] };
  const parts = r.items.map((item, i) => canonical(item, queued[i]!, i > 0 ? r.items![i - 1] : undefined));
  return { text: header(r) + parts.map((p) => p.text).join(''), approx: parts.flatMap((p) => p.approx) };
}

/**
 * A record holds expiry times up to 2^53 ms (src/commands/keyspace.ts EXPIRES_AT_MAX, documented):
 * a key Redis keeps until a later time (up to 2^63 ms) expires at that bound on ringkv, so its TTL,
 * PTTL, EXPIRETIME and PEXPIRETIME answer the bound where Redis answers more. Such a time on the
 * ringkv side, with a larger one from redis-server, is the same answer.
 */
function beyondRecordReach(want: number, got: number): boolean {
  const boundMs = Number.MAX_SAFE_INTEGER;
  const now = Date.now();
  const near = (x: number, target: number, slack: number): boolean => Math.abs(x - target) <= slack;
  const clamped = near(got, boundMs, 1) || near(got, boundMs - now, 60_000) || near(got, Math.floor(boundMs / 1000), 1) || near(got, (boundMs - now) / 1000, 60);
  return clamped && want >= got;
}

/** Equal when the texts match and every pair of approximate numbers is within its tolerance. */
export function sameCanonical(a: Canonical, b: Canonical): boolean {
  if (a.text !== b.text || a.approx.length !== b.approx.length) return false;
  return a.approx.every((x, i) => Math.abs(x.value - b.approx[i]!.value) <= x.tolerance || beyondRecordReach(x.value, b.approx[i]!.value));
}

/** The canonical form for a failure message: markers filled in with their numbers. */
export function describeCanonical(c: Canonical): string {
  let i = 0;
  const text = c.text.replace(/:~\r\n/g, () => `:~${c.approx[i++]?.value}\r\n`);
  return JSON.stringify(text);
}
