import type { Reply } from './resp.js';
import { show } from './resp.js';

/** What a reply says about a command's effect. */
export type Outcome =
  /** It ran and its effect is acknowledged: the reply is the command's own. */
  | 'acked'
  /** It certainly had no effect (routing error, a read quorum that failed before anything ran). */
  | 'none'
  /** It may or may not have taken effect (a write that missed its quorum, or no reply at all). */
  | 'uncertain';

const NOT_RUN = ['MOVED', 'ASK', 'CLUSTERDOWN', 'CROSSSLOT', 'TRYAGAIN'];

export function classify(reply: Reply | undefined, isWrite: boolean): Outcome {
  if (reply === undefined) return isWrite ? 'uncertain' : 'none';
  if (reply.t !== 'err') return 'acked';
  if (NOT_RUN.some((p) => reply.s.startsWith(p + ' ') || reply.s === p)) return 'none';
  if (reply.s.startsWith('NOREPLICAS Not enough replicas answered the read')) return 'none';
  if (reply.s.startsWith('NOREPLICAS')) return isWrite ? 'uncertain' : 'none';
  // A relay to the lease holder that got no answer (forwarder.ts): it may or may not have run.
  if (reply.s.startsWith("ERR the slot's primary did not answer")) return isWrite ? 'uncertain' : 'none';
  return 'acked';
}

/** One string key as a sequential Redis would hold it. */
export type Value = string | null;

export interface Step {
  reply: Reply;
  value: Value;
}

const INT = /^(0|-?[1-9][0-9]{0,18})$/;
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

const ok: Reply = { t: 'simple', s: 'OK' };
const int = (n: number | bigint): Reply => ({ t: 'int', n: BigInt(n) });
const notInteger: Reply = { t: 'err', s: 'ERR value is not an integer or out of range' };

/** The reply and new value of a single-key string command run on `v`, as Redis 7.0 gives them. */
export function apply(argv: readonly string[], v: Value): Step {
  const name = argv[0]!.toUpperCase();
  switch (name) {
    case 'SET':
      return { reply: ok, value: argv[2]! };
    case 'GET':
      return { reply: { t: 'bulk', s: v }, value: v };
    case 'INCR': {
      if (v === null) return { reply: int(1), value: '1' };
      if (!INT.test(v)) return { reply: notInteger, value: v };
      const n = BigInt(v) + 1n;
      if (n > INT64_MAX || n < INT64_MIN) return { reply: notInteger, value: v };
      return { reply: int(n), value: n.toString() };
    }
    case 'APPEND': {
      const next = (v ?? '') + argv[2]!;
      return { reply: int(Buffer.byteLength(next, 'latin1')), value: next };
    }
    case 'DEL':
      return { reply: int(v === null ? 0 : 1), value: null };
    case 'EXPIRE':
      return { reply: int(v === null ? 0 : 1), value: v };
    default:
      throw new Error(`the model does not know ${name}`);
  }
}

/**
 * A hash key's value in the model: its fields and values as a JSON array of pairs in field order
 * (what `hashValue` reads back), or null when the key does not exist.
 */
export function applyHash(argv: readonly string[], v: Value): Step {
  const pairs: Array<[string, string]> = v === null ? [] : (JSON.parse(v) as Array<[string, string]>);
  const at = (f: string): number => pairs.findIndex(([x]) => x === f);
  const value = (p: Array<[string, string]>): Value => (p.length === 0 ? null : hashValue(p));
  const name = argv[0]!.toUpperCase();
  switch (name) {
    case 'HSET': {
      const i = at(argv[2]!);
      if (i >= 0) pairs[i] = [argv[2]!, argv[3]!];
      else pairs.push([argv[2]!, argv[3]!]);
      return { reply: int(i >= 0 ? 0 : 1), value: value(pairs) };
    }
    case 'HDEL': {
      const i = at(argv[2]!);
      if (i >= 0) pairs.splice(i, 1);
      return { reply: int(i >= 0 ? 1 : 0), value: value(pairs) };
    }
    case 'HGET': {
      const i = at(argv[2]!);
      return { reply: { t: 'bulk', s: i >= 0 ? pairs[i]![1] : null }, value: v };
    }
    case 'HLEN':
      return { reply: int(pairs.length), value: v };
    case 'DEL':
      return { reply: int(v === null ? 0 : 1), value: null };
    case 'EXPIRE':
      return { reply: int(v === null ? 0 : 1), value: v };
    default:
      throw new Error(`the hash model does not know ${name}`);
  }
}

/** The model's form of a hash: its pairs sorted by field (replicas need not agree on field order after a merge). */
export function hashValue(pairs: ReadonlyArray<readonly [string, string]>): string {
  return JSON.stringify([...pairs].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

export function sameReply(a: Reply | undefined, b: Reply | undefined): boolean {
  return a !== undefined && b !== undefined && show(a) === show(b);
}
