import { keySlot } from '../../../src/cluster/slot.js';
import { TransientSession } from '../../../src/server/transient-session.js';
import type { SessionState } from '../../../src/server/session-state.js';
import { Prng } from '../prng.js';
import { cachedTopology } from './placement-cache.js';
import { parseReplies, type Reply } from './resp.js';
import { SimClock } from './sim-clock.js';
import { SimNet } from './sim-network.js';
import { bootDelay, SimNode, type ClusterEnv } from './sim-node.js';
import { SimSink } from './sim-sink.js';
import type { HintDisk } from './sim-hints.js';
import { emptyDisk, type DiskImage } from './sim-store.js';
import { Scheduler } from './scheduler.js';

const IDS = ['1a'.repeat(20), '2b'.repeat(20), '3c'.repeat(20)];
/** A fourth node, for membership changes (`ScriptedCluster.withMembers`). */
const ID_D = '4d'.repeat(20);

/**
 * Three product nodes whose faults a test places by hand (no random schedule): which node each
 * node's failure detector holds alive, directed network blocks, clock offsets, crashes. For
 * deterministic reproductions of what a seeded run found.
 */
export class ScriptedCluster {
  readonly sched = new Scheduler(1_000_000);
  readonly net: SimNet;
  readonly nodes: SimNode[] = [];
  readonly clocks: SimClock[];
  private readonly disks: DiskImage[];
  private readonly hintDisks: HintDisk[];
  /** suspected[i] holds the nodes node i's failure detector has declared down. */
  private readonly suspected: Array<Set<number>>;
  private readonly env: ClusterEnv;
  /** With membership (`withMembers`): the ring each node knows, and the nodes that left. */
  private readonly rings: Array<readonly string[]> | undefined;
  private readonly left = new Set<string>();

  constructor(private readonly ids: readonly string[] = IDS, membership = false) {
    this.disks = ids.map(() => emptyDisk());
    this.hintDisks = ids.map(() => new Map());
    this.suspected = ids.map(() => new Set<number>());
    this.net = new SimNet(this.sched, new Prng(1), (i) => this.nodes[i]!);
    this.net.delayMin = 1;
    this.net.delayMax = 1;
    this.clocks = ids.map(() => new SimClock(this.sched, 0, 0));
    const sorted = [...ids].sort();
    // With membership the last node has not joined yet: it knows only itself, the others the rest.
    const firstRing = sorted.filter((id) => id !== ids[ids.length - 1]);
    this.rings = membership ? ids.map((id, i) => (i === ids.length - 1 ? [id] : firstRing)) : undefined;
    this.env = {
      sched: this.sched, net: this.net, ids, topology: cachedTopology(membership ? firstRing : sorted, 3, 16), n: 3, r: 2, w: 2,
      extended: undefined,
      // With membership a stopped node is silent for good: every detector sees it down.
      believesAlive: (from, to) => (!membership || this.nodes[to]?.alive !== false) && !this.suspected[from]!.has(to),
      fsyncDelay: () => 1,
      storeFaults: () => ({}),
      ...(membership ? {
        ringAtBoot: (i: number) => this.rings![i]!,
        memberStatus: (i: number, id: string) => (this.left.has(id) ? 'left' as const : this.rings![i]!.includes(id) ? 'active' as const : undefined),
        syncedOf: (i: number, id: string) => {
          const j = ids.indexOf(id);
          return this.env.believesAlive(i, j) ? this.nodes[j]!.synced : undefined;
        },
      } : {}),
    };
    for (let i = 0; i < ids.length; i++) this.nodes.push(new SimNode(this.env, i, 0, this.disks[i]!, this.hintDisks[i]!, this.clocks[i]!));
  }

  /**
   * Three members and a fourth node not joined yet (index 3), whose member set a test changes by
   * hand (`join`, `leave`), each node's ring its own.
   */
  static withMembers(): ScriptedCluster {
    return new ScriptedCluster([...IDS, ID_D], true);
  }

  /** Node i meets the cluster (cluster-seeds): every node learns the member set with it at once. */
  join(i: number): void {
    const ring = [...new Set([...this.rings![0]!, this.ids[i]!])].sort();
    for (let j = 0; j < this.ids.length; j++) {
      this.rings![j] = ring;
      this.nodes[j]!.learn(ring);
    }
  }

  /** The preference list of `key` in the ring of the nodes `members` (indexes). */
  listOf(key: string, members: readonly number[]): number[] {
    const ring = cachedTopology(members.map((i) => this.ids[i]!).sort(), 3, 16);
    return ring.preferenceList(keySlot(Buffer.from(key))).map((id) => this.ids.indexOf(id));
  }

  /** RINGKV.LEAVE on node i: it takes itself off the ring, and every node learns it at once. */
  leave(i: number): void {
    const id = this.ids[i]!;
    this.left.add(id);
    for (let j = 0; j < this.ids.length; j++) {
      const ring = this.rings![j]!.filter((x) => x !== id);
      this.rings![j] = ring;
      this.nodes[j]!.learn(ring);
    }
  }

  /** Stops node i for good (a decommissioned node's pod gone with its disk). */
  stop(i: number): void {
    this.nodes[i]!.crash();
    this.refresh();
  }

  /** A key whose preference list is `order` (node indexes), found by trying names in a fixed order. */
  keyLedBy(order: readonly number[]): string {
    const want = order.map((i) => this.ids[i]).join(',');
    for (let i = 0; ; i++) {
      const key = `k${i}`;
      if (this.env.topology.preferenceList(keySlot(Buffer.from(key))).join(',') === want) return key;
    }
  }

  /** Cuts node i off both ways; every other node's detector declares it down, and it them. */
  isolate(i: number): void {
    for (let j = 0; j < this.ids.length; j++) {
      if (j === i) continue;
      this.net.blocks.add(`${i}>${j}`).add(`${j}>${i}`);
      this.suspected[i]!.add(j);
      this.suspected[j]!.add(i);
    }
    this.refresh();
  }

  /** Node `by`'s failure detector declares `whom` down, the network being fine (a detector lagging behind a restart). */
  suspect(by: number, whom: number): void {
    this.suspected[by]!.add(whom);
    this.refresh();
  }

  heal(): void {
    this.net.blocks.clear();
    for (const s of this.suspected) s.clear();
    this.refresh();
  }

  /**
   * Power loss and restart: the node comes back with what it had synced, once its clock has passed
   * the HLC mark it persisted (as RingkvNode.open waits); the scheduler runs meanwhile.
   */
  async restart(i: number): Promise<void> {
    this.nodes[i]!.crash();
    const up = this.sched.now + bootDelay(this.disks[i]!, this.clocks[i]!);
    if (up > this.sched.now) await this.sched.runUntil(up);
    this.nodes[i] = new SimNode(this.env, i, this.nodes[i]!.epoch + 1, this.disks[i]!, this.hintDisks[i]!, this.clocks[i]!);
    this.refresh();
  }

  session(): SessionState {
    return new TransientSession(2, false, 'script');
  }

  /** Sends one pipelined batch to node i and runs the simulation until every reply is in. */
  async call(i: number, session: SessionState, ...commands: string[][]): Promise<Reply[]> {
    const [replies] = await this.together([i, session, commands]);
    return replies!;
  }

  /** Sends batches to several nodes in the same instant, then runs until every reply is in. */
  async together(...batches: Array<[number, SessionState, string[][]]>): Promise<Reply[][]> {
    let pending = batches.length;
    const sinks = batches.map(([i, session, commands]) => {
      const node = this.nodes[i]!;
      const sink = new SimSink(() => pending--);
      for (const argv of commands) node.dispatcher.dispatch(session, argv.map((a) => Buffer.from(a)), sink);
      node.dispatcher.endBatch(session);
      sink.seal();
      return sink;
    });
    for (let t = 0; pending > 0 && t < 10_000; t += 10) await this.sched.runUntil(this.sched.now + 10);
    if (pending > 0) throw new Error('no complete reply within 10 s');
    return sinks.map((sink) => parseReplies(sink.received()));
  }

  /** Lets time pass (syncs, in-flight messages, read repair). */
  async idle(ms: number): Promise<void> {
    await this.sched.runUntil(this.sched.now + ms);
  }

  private refresh(): void {
    for (const node of this.nodes) node.refreshTable();
  }
}
