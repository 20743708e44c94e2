import { createHash } from 'node:crypto';
import type { Topology } from '../../../src/cluster/ring.js';
import { keySlot } from '../../../src/cluster/slot.js';
import { TransientSession } from '../../../src/server/transient-session.js';
import type { Counter, OwnKey, Queue } from './client.js';
import { hashValue } from './model.js';
import { parseReplies, show, type Reply } from './resp.js';
import type { SimNode } from './sim-node.js';
import { SimSink } from './sim-sink.js';

export type FinalViolation = 'lost-write' | 'resurfaced' | 'increment' | 'contested' | 'diverged' | 'final-read' | 'quorum-read' | 'index' | 'queue' | 'split';

/** What a final read is filed under: the key, or for a sorted set's member the key and the member. */
export interface FinalKey {
  key: string;
  field?: string;
  zset?: boolean;
  /** A hash read whole (HGETALL), filed as model.ts hashValue gives it. */
  hash?: boolean;
}

export function finalId(k: FinalKey): string {
  return k.zset === true ? `${k.key} ${k.field!}` : k.key;
}

/** The read of one final key: GET, HGET of its field, or ZSCORE of its member. */
function finalRead(k: FinalKey): string[] {
  if (k.hash === true) return ['HGETALL', k.key];
  if (k.field === undefined) return ['GET', k.key];
  return k.zset === true ? ['ZSCORE', k.key, k.field] : ['HGET', k.key, k.field];
}

/** Sends `reads(k)` for every key at R=`n`, one pipeline per node through each slot's primary; `done` gets each key's replies. */
function readAtQuorum<K extends { key: string }>(nodes: readonly SimNode[], keys: readonly K[], n: number, reads: (k: K) => string[][], done: (node: SimNode, k: K, replies: Reply[]) => void): void {
  const byNode = new Map<SimNode, K[]>();
  for (const k of keys) {
    const primary = nodes[0]!.table.primary(keySlot(Buffer.from(k.key, 'latin1')));
    const node = nodes.find((x) => x.id === primary)!;
    byNode.set(node, [...(byNode.get(node) ?? []), k]);
  }
  for (const [node, list] of byNode) {
    const session = new TransientSession(2, false, 'checker');
    const sink = new SimSink(() => {
      const replies = parseReplies(sink.received());
      let at = 1;
      for (const k of list) {
        const count = reads(k).length;
        done(node, k, replies.slice(at, at + count));
        at += count;
      }
    });
    const send = (argv: string[]): void => node.dispatcher.dispatch(session, argv.map((a) => Buffer.from(a)), sink);
    send(['RINGKV.CONSISTENCY', 'R', String(n)]);
    for (const k of list) for (const argv of reads(k)) send(argv);
    node.dispatcher.endBatch(session);
    sink.seal();
  }
}

/**
 * Reads every key at R=`n` (RINGKV.CONSISTENCY R n), one pipeline per node, each key through the
 * primary of its slot. The map (by `finalId`) fills in as the replies arrive: run the simulation on afterwards.
 */
export function readEverything(nodes: readonly SimNode[], keys: readonly FinalKey[], n: number, violation: (kind: FinalViolation, text: string) => void): Map<string, string> {
  const finals = new Map<string, string>();
  readAtQuorum(nodes, keys, n, (k) => [finalRead(k)], (node, k, [r]) => {
    if (k.hash === true && r?.t === 'arr' && r.items !== null) {
      const flat = r.items.map((x) => (x.t === 'bulk' ? x.s ?? '' : show(x)));
      const pairs: Array<[string, string]> = [];
      for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
      finals.set(finalId(k), pairs.length === 0 ? '(nil)' : hashValue(pairs));
    } else if (r?.t === 'bulk' && k.hash !== true) finals.set(finalId(k), r.s ?? '(nil)');
    else violation('final-read', `read of ${finalId(k)} at R=${n} on node ${node.index}: ${show(r)}`);
  });
  return finals;
}

/** A sorted set as its score index lists it (ZRANGE 0 -1 WITHSCORES) and its element count (ZCARD). */
export interface ListedSortedSet {
  pairs: Array<[string, string]>;
  card: number;
}

/** Reads each sorted set whole at R=`n`, as `readEverything` reads single keys. */
export function readSortedSets(nodes: readonly SimNode[], keys: readonly string[], n: number, violation: (kind: FinalViolation, text: string) => void): Map<string, ListedSortedSet> {
  const out = new Map<string, ListedSortedSet>();
  readAtQuorum(nodes, keys.map((key) => ({ key })), n, ({ key }) => [['ZRANGE', key, '0', '-1', 'WITHSCORES'], ['ZCARD', key]], (node, { key }, [range, card]) => {
    if (range?.t !== 'arr' || range.items === null || card?.t !== 'int') {
      violation('final-read', `ZRANGE/ZCARD of ${key} at R=${n} on node ${node.index}: ${show(range)} / ${show(card)}`);
      return;
    }
    const flat = range.items.map((r) => (r.t === 'bulk' ? r.s ?? '' : show(r)));
    const pairs: Array<[string, string]> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
    out.set(key, { pairs, card: Number(card.n) });
  });
  return out;
}

/**
 * A sorted set's score index agrees with its member records and its count: each member listed
 * once, at the score ZSCORE answers, every member ZSCORE finds listed, and ZCARD the number listed.
 */
export function checkSortedSets(counters: readonly Counter[], finals: ReadonlyMap<string, string>, sets: ReadonlyMap<string, ListedSortedSet>, violation: (kind: FinalViolation, text: string) => void): void {
  for (const [key, listed] of sets) {
    const members = counters.filter((c) => c.zset === true && c.key === key);
    const shown = listed.pairs.map(([m, sc]) => `${m}=${sc}`).join(' ');
    const seen = new Set<string>();
    for (const [member, score] of listed.pairs) {
      if (seen.has(member)) violation('index', `${key}: ZRANGE WITHSCORES lists ${member} more than once: ${shown}`);
      seen.add(member);
      const scored = finals.get(finalId({ key, field: member, zset: true }));
      if (scored !== undefined && scored !== score) violation('index', `${key}: ZRANGE WITHSCORES lists ${member}=${score}, ZSCORE answers ${scored}: ${shown}`);
    }
    for (const c of members) {
      const scored = finals.get(finalId(c));
      if (scored !== undefined && scored !== '(nil)' && !seen.has(c.field!)) violation('index', `${key}: ZSCORE of ${c.field} answers ${scored}, ZRANGE WITHSCORES does not list it: ${shown}`);
    }
    if (listed.card !== listed.pairs.length) violation('index', `${key}: ZCARD ${listed.card}, ZRANGE lists ${listed.pairs.length}: ${shown}`);
  }
}

/** Reads each queue whole at R=`n` (LRANGE 0 -1, SMEMBERS), as `readEverything` reads single keys. */
export function readQueues(nodes: readonly SimNode[], queues: readonly Queue[], n: number, violation: (kind: FinalViolation, text: string) => void): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const reads = (q: Queue): Array<[string, string[]]> => {
    if (q.kind === 'set') return [[q.key, ['SMEMBERS', q.key]]];
    if (q.kind === 'zset') return [[q.key, ['ZRANGE', q.key, '0', '-1']]];
    if (q.kind === 'stream') return [[q.key, ['XRANGE', q.key, '-', '+']]];
    const lists: Array<[string, string[]]> = [[q.key, ['LRANGE', q.key, '0', '-1']]];
    if (q.processing !== undefined) lists.push([q.processing, ['LRANGE', q.processing, '0', '-1']]);
    return lists;
  };
  readAtQuorum(nodes, queues, n, (q) => reads(q).map(([, argv]) => argv), (node, q, replies) => {
    reads(q).forEach(([key, argv], i) => {
      const range = replies[i];
      if (range?.t !== 'arr' || range.items === null) violation('final-read', `${argv[0]} of ${key} at R=${n} on node ${node.index}: ${show(range)}`);
      else if (q.kind === 'stream') {
        // Each entry is [id, [field, value]]: the tokens, and their ids beside them.
        const entries = range.items.map((e) => (e.t === 'arr' && e.items !== null ? e.items : []));
        const text = (r: Reply | undefined): string => (r?.t === 'bulk' ? r.s ?? '' : show(r));
        out.set(key, entries.map((e) => text(e[1]?.t === 'arr' ? e[1].items?.[1] : undefined)));
        out.set(`${key}\u0000ids`, entries.map((e) => text(e[0])));
      } else out.set(key, range.items.map((r) => (r.t === 'bulk' ? r.s ?? '' : show(r))));
    });
  });
  return out;
}

/**
 * After healing, a queue holds each token once, none that was popped or never pushed, and every
 * acknowledged token not popped, but for as many as pops of unknown outcome may have taken.
 */
export function checkQueues(queues: readonly Queue[], lists: ReadonlyMap<string, string[]>, violation: (kind: FinalViolation, text: string) => void): void {
  for (const q of queues) {
    const waiting = lists.get(q.key);
    const processing = q.processing === undefined ? [] : lists.get(q.processing);
    if (waiting === undefined || processing === undefined) continue;
    // A reliable queue's LMOVE of unknown outcome that reached one replica can end applied to one of
    // its two keys and not the other (Finding 9 of the product simulation, known): its token then
    // shows in both lists, or in neither. Such a split counts as 'split' while LMOVEs of unknown
    // outcome could explain it.
    const moves = q.uncertainMoves ?? 0;
    const held = new Set<string>();
    for (const token of [...waiting, ...processing]) {
      if (held.has(token)) {
        // In both lists, or twice in the processing list (a merge took the move from one history
        // and the next LMOVE moved the token again from the other's queue).
        const split = moves > 0;
        violation(split ? 'split' : 'queue', `${q.key} lists ${token} twice${q.processing === undefined ? '' : ' (its queue and processing list together)'}`);
      }
      held.add(token);
      if (q.popped.has(token)) violation('queue', `${q.key} still lists ${token}, which an acknowledged pop returned`);
      else if (!q.pushed.has(token)) violation('queue', `${q.key} lists ${token}, which no push that may have run sent`);
    }
    for (const token of waiting) if (q.moved?.has(token) === true) violation('queue', `${q.key} lists ${token} again, which an acknowledged LMOVE delivered`);
    if (q.kind === 'stream') {
      const ids = lists.get(`${q.key}\u0000ids`) ?? [];
      waiting.forEach((token, i) => {
        const acked = q.ids!.get(token);
        if (acked !== undefined && acked !== ids[i]) violation('queue', `${q.key} holds ${token} under ${ids[i]}, its XADD answered ${acked}`);
      });
    }
    const missing = [...q.pushed].filter(([token, acked]) => acked && !q.popped.has(token) && !held.has(token)).map(([token]) => token);
    if (missing.length > q.uncertainPops) {
      violation(missing.length <= q.uncertainPops + moves ? 'split' : 'queue', `${q.key} lost acknowledged pushes: ${missing.length} neither popped nor listed, ${q.uncertainPops} pops and ${moves} moves of unknown outcome (${missing.slice(0, 5).join(', ')})`);
    }
  }
}

/**
 * Membership runs: after the change, a read at the default quorums (R=2 of N=3) through each slot's
 * primary under the final topology must return every acknowledged write, as W+R>N promises once the
 * slots moved (and, while a rebalance window is still open, by asking the earlier owners too).
 * Keys with a write of unknown outcome are left to the R=N check (finding 1 shows there).
 */
export function checkQuorumReads(own: readonly OwnKey[], counters: readonly Counter[], reads: ReadonlyMap<string, string>, violation: (kind: FinalViolation, text: string) => void): void {
  for (const c of counters) {
    const got = reads.get(finalId(c));
    if (got === undefined) continue;
    const v = got === '(nil)' ? 0 : Number(got);
    if (!(v >= c.acked && v <= c.acked + c.uncertain)) violation('quorum-read', `${finalId(c)} = ${got} at R=2 under the final topology: ${c.acked} increments acknowledged, ${c.uncertain} with unknown outcome`);
  }
  for (const k of own) {
    const got = reads.get(k.key);
    if (got === undefined || !k.certain || k.hadUncertain) continue;
    const want = k.value ?? '(nil)';
    if (got !== want) violation('quorum-read', `${k.key}: reads ${JSON.stringify(got)} at R=2 under the final topology, acknowledged state is ${JSON.stringify(want)} (${k.acked} acknowledged writes)`);
  }
}

export interface FinalState {
  own: readonly OwnKey[];
  counters: readonly Counter[];
  finals: ReadonlyMap<string, string>;
  /** Slots two nodes coordinated writes on at the same time. */
  contested: ReadonlySet<number>;
  topology: Topology;
  nodes: readonly SimNode[];
  n: number;
}

/**
 * The properties checked after healing and the read at R=N; returns a digest of every replica's
 * version of every key and every final value (equal digests: identical runs).
 */
export function checkFinalState(s: FinalState, violation: (kind: FinalViolation, text: string) => void): string {
  // No acknowledged write lost: a key whose value the model knows reads exactly that.
  for (const k of s.own) {
    const got = s.finals.get(k.key);
    if (got === undefined || !k.certain) continue;
    const want = k.value ?? '(nil)';
    if (got !== want) violation(k.hadUncertain ? 'resurfaced' : 'lost-write', `${k.key}: reads ${JSON.stringify(got)} at R=${s.n} after healing, acknowledged state is ${JSON.stringify(want)} (${k.acked} acknowledged writes)`);
  }
  // No increment lost or applied twice.
  for (const c of s.counters) {
    const got = s.finals.get(finalId(c));
    if (got === undefined) continue;
    const v = got === '(nil)' ? 0 : Number(got);
    if (!(v >= c.acked && v <= c.acked + c.uncertain)) {
      violation(s.contested.has(keySlot(Buffer.from(c.key, 'latin1'))) ? 'contested' : 'increment', `${finalId(c)} = ${got}: ${c.acked} increments acknowledged, ${c.uncertain} with unknown outcome`);
    }
  }
  // Replicas converge after healing: every replica of every key holds the same version.
  const digest = createHash('sha1');
  for (const key of new Set([...s.own.map((k) => k.key), ...s.counters.map((c) => c.key)])) {
    const kb = Buffer.from(key, 'latin1');
    const slot = keySlot(kb);
    const versions = s.topology.preferenceList(slot).map((id) => {
      const rec = s.nodes.find((x) => x.id === id)!.store.get(slot, kb);
      return rec ? rec.version.toString('hex') : '-';
    });
    digest.update(`${key}=${versions.join(',')};`);
    if (new Set(versions).size > 1) violation('diverged', `${key}: replicas hold versions ${versions.join(' / ')} after healing and a read at R=${s.n}`);
  }
  for (const [k, v] of [...s.finals].sort()) digest.update(`${k}:${v}\n`);
  return digest.digest('hex');
}
