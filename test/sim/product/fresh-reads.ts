import { TransientSession } from '../../../src/server/transient-session.js';
import type { SessionState } from '../../../src/server/session-state.js';
import type { Prng } from '../prng.js';
import { classify } from './model.js';
import { parseReplies, show, type Reply } from './resp.js';
import type { SimNode } from './sim-node.js';
import { SimSink } from './sim-sink.js';

/**
 * A node was away from `from` until `to` (crashed, or cut off both ways); `to` undefined while it
 * still is. A cut-off is coming back, in the product's sense, only if the node's own routing view
 * found it cut off from the majority meanwhile (`noticed`): one shorter than the failure detector's
 * delay goes unseen by everyone, and what the node missed then it missed as a present replica.
 */
export interface Absence {
  node: number;
  kind: 'crash' | 'cut-off' | 'stall';
  from: number;
  to: number | undefined;
  noticed: boolean;
}

interface Write {
  seq: number;
  /** When the acknowledgement arrived; undefined while unanswered or when not acknowledged. */
  ackAt?: number;
  outcome: 'pending' | 'acked' | 'none' | 'uncertain';
}

interface ProbeKey {
  key: string;
  writes: Write[];
  inflight: { node: SimNode; write: Write } | undefined;
}

export interface FreshReadHooks {
  now(): number;
  after(ms: number, fn: () => void): void;
  nodes(): readonly SimNode[];
  /** Where a smart client sends a key, from the slot table of some live node it asked. */
  view(): (key: string) => SimNode | undefined;
  absences(): readonly Absence[];
  writeUntil: number;
  readUntil: number;
  violation(kind: 'stale-read' | 'resurfaced' | 'reply', text: string): void;
}

/**
 * What catching up promises (docs/decisions.md, "Coming back"): a client that wrote while a node
 * was away reads its write from a coordinator that has it, even at `read-quorum 1`. Writers SET
 * each probe key to `…:<seq>` with an increasing seq, one write in flight per key, through the
 * primary a live node's slot table names (default quorums). Readers send every probe key to every
 * live node, pipelined, on a connection at `RINGKV.CONSISTENCY R 1`. A read a node answers itself
 * (no MOVED) after it came back must return the newest write acknowledged while it was away and
 * before the read started, or a newer one. Reads a node answers while it is itself catching up are
 * not held to it: it serves them only when every alive replica is catching up.
 */
export class FreshReadProbe {
  readonly keys: ProbeKey[];
  /**
   * `behind`: reads (answered by a node not catching up) older than some write acknowledged before
   * they started, promised or not: R=1 promises nothing about writes a node missed while present.
   */
  readonly stats = { writes: 0, acked: 0, reads: 0, checked: 0, held: 0, behind: 0 };
  private readonly readers = new Map<SimNode, SessionState>();
  private readonly writers = new Map<SimNode, SessionState>();

  constructor(keys: readonly string[], private readonly prng: Prng, private readonly hooks: FreshReadHooks) {
    this.keys = keys.map((key) => ({ key, writes: [], inflight: undefined }));
  }

  start(): void {
    for (const k of this.keys) this.hooks.after(this.prng.int(0, 20), () => this.write(k));
    this.hooks.after(this.prng.int(0, 10), () => this.readRound());
  }

  /** A node lost power: replies it owed never come, and its writes' outcomes are unknown. */
  nodeCrashed(node: SimNode): void {
    this.readers.delete(node);
    this.writers.delete(node);
    for (const k of this.keys) {
      if (k.inflight?.node !== node) continue;
      k.inflight.write.outcome = 'uncertain';
      k.inflight = undefined;
      this.hooks.after(this.prng.int(5, 30), () => this.write(k));
    }
  }

  private write(k: ProbeKey): void {
    if (this.hooks.now() >= this.hooks.writeUntil || k.inflight !== undefined) return;
    const node = this.hooks.view()(k.key);
    if (node === undefined) {
      this.hooks.after(this.prng.int(10, 30), () => this.write(k));
      return;
    }
    const w: Write = { seq: k.writes.length, outcome: 'pending' };
    k.writes.push(w);
    k.inflight = { node, write: w };
    this.stats.writes++;
    let session = this.writers.get(node);
    if (session === undefined) this.writers.set(node, (session = new TransientSession(2, false, 'fresh-writer')));
    const sink = new SimSink(() => {
      if (k.inflight?.write !== w) return;
      k.inflight = undefined;
      const r = parseReplies(sink.received())[0];
      const outcome = classify(r, true);
      if (outcome === 'acked' && !(r?.t === 'simple' && r.s === 'OK')) {
        this.hooks.violation('reply', `SET ${k.key} seq ${w.seq} on node ${node.index}: ${show(r)}`);
        w.outcome = 'uncertain';
      } else if (outcome === 'acked') {
        w.outcome = 'acked';
        w.ackAt = this.hooks.now();
        this.stats.acked++;
      } else {
        w.outcome = outcome;
      }
      this.hooks.after(this.prng.int(5, 30), () => this.write(k));
    });
    node.dispatcher.dispatch(session, [Buffer.from('SET'), Buffer.from(k.key), Buffer.from(`${k.key}:${w.seq}`)], sink);
    node.dispatcher.endBatch(session);
    sink.seal();
  }

  private readRound(): void {
    const now = this.hooks.now();
    if (now >= this.hooks.readUntil) return;
    for (const node of this.hooks.nodes()) {
      if (!node.alive || node.paused) continue;
      let session = this.readers.get(node);
      const fresh = session === undefined;
      if (session === undefined) this.readers.set(node, (session = new TransientSession(2, false, 'fresh-reader')));
      // A node serving its slots as fallback (every alive replica catching up) is not held to the promise.
      const catchingUp = node.catchUpDriver?.active ?? false;
      const sink = new SimSink(() => {
        const replies = parseReplies(sink.received()).slice(fresh ? 1 : 0);
        this.keys.forEach((k, i) => this.check(node, k, replies[i], now, catchingUp));
      });
      const send = (argv: string[]): void => node.dispatcher.dispatch(session!, argv.map((a) => Buffer.from(a)), sink);
      if (fresh) send(['RINGKV.CONSISTENCY', 'R', '1']);
      for (const k of this.keys) send(['GET', k.key]);
      node.dispatcher.endBatch(session);
      sink.seal();
    }
    this.hooks.after(this.prng.int(15, 35), () => this.readRound());
  }

  private check(node: SimNode, k: ProbeKey, r: Reply | undefined, startedAt: number, catchingUp: boolean): void {
    if (r === undefined || r.t === 'err') return;
    this.stats.reads++;
    if (r.t !== 'bulk') {
      this.hooks.violation('reply', `GET ${k.key} at R=1 on node ${node.index}: ${show(r)}`);
      return;
    }
    if (catchingUp) return;
    const got = r.s === null ? -1 : Number(r.s.slice(r.s.lastIndexOf(':') + 1));
    if (k.writes.some((w) => w.outcome === 'acked' && w.ackAt! < startedAt && w.seq > got)) this.stats.behind++;
    // The newest write acknowledged while this node was away, in an absence it has come back from.
    const away = this.hooks.absences().filter((a) => a.node === node.index && (a.kind === 'crash' || a.noticed) && a.to !== undefined && a.to <= startedAt);
    let required: Write | undefined;
    for (const w of k.writes) {
      if (w.outcome !== 'acked' || w.ackAt! >= startedAt) continue;
      if (away.some((a) => w.ackAt! >= a.from && w.ackAt! <= a.to!) && (required === undefined || w.seq > required.seq)) required = w;
    }
    if (required === undefined) return;
    this.stats.checked++;
    if (got >= required.seq) {
      this.stats.held++;
      return;
    }
    const text = `GET ${k.key} at R=1 through node ${node.index} at t=${startedAt} returned ${r.s === null ? 'nil' : `seq ${got}`}, ` +
      `but seq ${required.seq} was acknowledged at t=${required.ackAt} while the node was away ` +
      `(${away.map((a) => `${a.from}–${a.to}`).join(', ')})`;
    // A write of unknown outcome stamped ahead can outrank later acknowledged ones (finding 1).
    this.hooks.violation(got >= 0 && k.writes[got]?.outcome !== 'acked' ? 'resurfaced' : 'stale-read', text);
  }
}
