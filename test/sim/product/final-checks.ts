import { createHash } from 'node:crypto';
import type { Topology } from '../../../src/cluster/ring.js';
import { keySlot } from '../../../src/cluster/slot.js';
import { TransientSession } from '../../../src/server/transient-session.js';
import type { Counter, OwnKey } from './client.js';
import { parseReplies, show } from './resp.js';
import type { SimNode } from './sim-node.js';
import { SimSink } from './sim-sink.js';

export type FinalViolation = 'lost-write' | 'resurfaced' | 'increment' | 'contested' | 'diverged' | 'final-read' | 'quorum-read';

/**
 * Reads every key at R=`n` (RINGKV.CONSISTENCY R n), one pipeline per node, each key through the
 * primary of its slot. The map fills in as the replies arrive: run the simulation on afterwards.
 */
export function readEverything(nodes: readonly SimNode[], keys: ReadonlyArray<{ key: string; field?: string }>, n: number, violation: (kind: FinalViolation, text: string) => void): Map<string, string> {
  const finals = new Map<string, string>();
  const byNode = new Map<SimNode, Array<{ key: string; field?: string }>>();
  for (const k of keys) {
    const key = k.key;
    const primary = nodes[0]!.table.primary(keySlot(Buffer.from(key, 'latin1')));
    const node = nodes.find((x) => x.id === primary)!;
    byNode.set(node, [...(byNode.get(node) ?? []), k]);
  }
  for (const [node, list] of byNode) {
    const session = new TransientSession(2, false, 'checker');
    const sink = new SimSink(() => {
      const replies = parseReplies(sink.received());
      list.forEach(({ key }, i) => {
        const r = replies[i + 1];
        if (r?.t === 'bulk') finals.set(key, r.s ?? '(nil)');
        else violation('final-read', `read of ${key} at R=${n} on node ${node.index}: ${show(r)}`);
      });
    });
    const send = (argv: string[]): void => node.dispatcher.dispatch(session, argv.map((a) => Buffer.from(a)), sink);
    send(['RINGKV.CONSISTENCY', 'R', String(n)]);
    for (const { key, field } of list) send(field === undefined ? ['GET', key] : ['HGET', key, field]);
    node.dispatcher.endBatch(session);
    sink.seal();
  }
  return finals;
}

/**
 * Membership runs: after the change, a read at the default quorums (R=2 of N=3) through each slot's
 * primary under the final topology must return every acknowledged write, as W+R>N promises once the
 * slots moved (and, while a rebalance window is still open, by asking the earlier owners too).
 * Keys with a write of unknown outcome are left to the R=N check (finding 1 shows there).
 */
export function checkQuorumReads(own: readonly OwnKey[], counters: readonly Counter[], reads: ReadonlyMap<string, string>, violation: (kind: FinalViolation, text: string) => void): void {
  for (const c of counters) {
    const got = reads.get(c.key);
    if (got === undefined) continue;
    const v = got === '(nil)' ? 0 : Number(got);
    if (!(v >= c.acked && v <= c.acked + c.uncertain)) violation('quorum-read', `${c.key} = ${got} at R=2 under the final topology: ${c.acked} increments acknowledged, ${c.uncertain} with unknown outcome`);
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
    const got = s.finals.get(c.key);
    if (got === undefined) continue;
    const v = got === '(nil)' ? 0 : Number(got);
    if (!(v >= c.acked && v <= c.acked + c.uncertain)) {
      violation(s.contested.has(keySlot(Buffer.from(c.key, 'latin1'))) ? 'contested' : 'increment', `${c.key} = ${got}: ${c.acked} increments acknowledged, ${c.uncertain} with unknown outcome`);
    }
  }
  // Replicas converge after healing: every replica of every key holds the same version.
  const digest = createHash('sha1');
  for (const key of [...s.own.map((k) => k.key), ...s.counters.map((c) => c.key)]) {
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
