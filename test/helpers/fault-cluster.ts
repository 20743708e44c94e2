/**
 * A real ringkv cluster for the fault suite: one process per node, each bound to its own loopback
 * address when partitions are possible (127.0.0.11, .12, …) so packet-filter rules can tell nodes
 * apart, or all on 127.0.0.1 otherwise. Faults: SIGKILL and restart on the same data directory,
 * SIGSTOP / SIGCONT; topology changes: a node joining with CLUSTER MEET, a node decommissioned with
 * RINGKV.LEAVE. Every process started is killed when the test process exits, pass or fail (a
 * stopped one too: SIGKILL needs no SIGCONT).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { CLI, candidatePort, tempDir } from './server.js';
import { ReplyError, nodeCall, addrKey, type Address } from './fault-client.js';

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of running) {
    try {
      p.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
});

function portFreeOn(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** A port free on `host` (and on 127.0.0.1, and its +10000 bus companion too). */
async function freePortOn(host: string, taken: ReadonlySet<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = candidatePort();
    if (taken.has(port)) continue;
    if ((await portFreeOn(host, port)) && (await portFreeOn(host, port + 10000)) &&
      (host === '127.0.0.1' || ((await portFreeOn('127.0.0.1', port)) && (await portFreeOn('127.0.0.1', port + 10000))))) return port;
  }
  throw new Error(`no free port found on ${host}`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export type NodeState = 'running' | 'paused' | 'killed';

export class FaultNode {
  proc: ChildProcess;
  state: NodeState = 'running';
  private log: string[] = [];
  private logBytes = 0;
  starts = 0;
  /** Exits nobody asked for (a crash, or a signal from outside the suite). */
  readonly unexpectedExits: string[] = [];
  private stopping = false;

  constructor(readonly index: number, readonly host: string, readonly port: number, readonly dir: string, readonly args: readonly string[]) {
    this.proc = this.spawn();
  }

  get address(): Address {
    return { host: this.host, port: this.port };
  }

  get name(): string {
    return `n${this.index}(${this.host}:${this.port})`;
  }

  private spawn(): ChildProcess {
    this.starts++;
    this.note(`--- start #${this.starts}`);
    const proc = spawn(process.execPath, [CLI, ...this.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(proc);
    const keep = (d: Buffer): void => {
      const s = d.toString();
      this.log.push(s);
      this.logBytes += s.length;
      // Bounded: keep the most recent ~8 MB of a long soak.
      while (this.logBytes > 8_000_000 && this.log.length > 1) this.logBytes -= this.log.shift()!.length;
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    proc.once('exit', (code, signal) => {
      running.delete(proc);
      this.note(`--- exit code=${code} signal=${signal}`);
      // Only kill9() and stop() end a node on purpose; anything else is a crash or outside interference.
      if (this.proc === proc && this.state !== 'killed' && !this.stopping) {
        this.unexpectedExits.push(`${this.name} exited on its own with code=${code} signal=${signal} at ${new Date().toISOString()}`);
      }
    });
    return proc;
  }

  note(line: string): void {
    const s = `${new Date().toISOString()} ${line}\n`;
    this.log.push(s);
    this.logBytes += s.length;
  }

  output(): string {
    return this.log.join('');
  }

  private exited(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => this.proc.once('exit', () => resolve()));
  }

  async waitReady(timeoutMs = 20000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) throw new Error(`${this.name} exited with ${this.proc.exitCode}:\n${this.output().slice(-4000)}`);
      try {
        const [pong] = await nodeCall(this.address, [['PING']], 1000);
        if (pong === 'PONG') return;
      } catch {
        /* not yet */
      }
      await sleep(50);
    }
    throw new Error(`${this.name} not ready after ${timeoutMs} ms:\n${this.output().slice(-4000)}`);
  }

  async kill9(): Promise<void> {
    this.note('--- SIGKILL');
    this.stopping = true;
    this.proc.kill('SIGKILL');
    await this.exited();
    this.stopping = false;
    this.state = 'killed';
  }

  async restart(): Promise<void> {
    if (this.state !== 'killed' && this.proc.exitCode === null && this.proc.signalCode === null) throw new Error(`${this.name} is ${this.state}, not killed`);
    this.proc = this.spawn();
    this.state = 'running';
    await this.waitReady();
  }

  pause(): void {
    this.note('--- SIGSTOP');
    this.proc.kill('SIGSTOP');
    this.state = 'paused';
  }

  resume(): void {
    this.note('--- SIGCONT');
    this.proc.kill('SIGCONT');
    this.state = 'running';
  }

  /** SIGCONT (if paused), SIGTERM, and SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true;
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    if (this.state === 'paused') this.resume();
    this.proc.kill('SIGTERM');
    const done = await Promise.race([this.exited().then(() => true), sleep(graceMs).then(() => false)]);
    if (!done) {
      this.proc.kill('SIGKILL');
      await this.exited();
    }
    this.state = 'killed';
  }
}

export interface FaultClusterOptions {
  /** One address per node; all 127.0.0.1 when partitions are not possible. */
  hosts: readonly string[];
  nodeTimeoutMs?: number;
  extraArgs?: readonly string[];
  /** Settings for one node only, by 1-based index (e.g. a skewed clock); kept across restarts. */
  nodeArgs?: (index: number) => readonly string[];
}

function serverArgs(opts: FaultClusterOptions, index: number, host: string, port: number, dir: string, seeds: string): string[] {
  return [
    'server', '--port', String(port), '--bind', host, '--dir', dir, '--loglevel', 'notice',
    '--cluster-enabled', 'yes', ...(seeds ? ['--cluster-seeds', seeds] : []), '--cluster-node-timeout', String(opts.nodeTimeoutMs ?? 2000),
    '--appendfsync', 'always', ...(opts.extraArgs ?? []), ...(opts.nodeArgs?.(index) ?? []),
  ];
}

export class FaultCluster {
  /** Nodes decommissioned (RINGKV.LEAVE): no longer ring members, stopped once their slots moved. */
  private readonly departed = new Set<FaultNode>();

  private constructor(readonly nodes: FaultNode[], readonly dirs: string[], private readonly opts: FaultClusterOptions) {}

  static async start(opts: FaultClusterOptions): Promise<FaultCluster> {
    const taken = new Set<number>();
    const ports: number[] = [];
    for (const host of opts.hosts) {
      const p = await freePortOn(host, taken);
      taken.add(p);
      ports.push(p);
    }
    const seeds = opts.hosts.map((h, i) => `${h}:${ports[i]}`).join(' ');
    const dirs: string[] = [];
    const nodes = opts.hosts.map((host, i) => {
      const dir = tempDir('ringkv-fault-');
      dirs.push(dir);
      return new FaultNode(i + 1, host, ports[i]!, dir, serverArgs(opts, i + 1, host, ports[i]!, dir, seeds));
    });
    const cluster = new FaultCluster(nodes, dirs, opts);
    try {
      await Promise.all(nodes.map((n) => n.waitReady()));
      await cluster.waitHealthy(30000);
    } catch (e) {
      await cluster.destroy();
      throw e;
    }
    return cluster;
  }

  /**
   * Starts one more node on `host`, knowing no peer (no seeds), and introduces it with CLUSTER MEET
   * sent to `via`: a join as an operator does it. Returns once the new node answers PING.
   */
  async join(host: string, via: FaultNode): Promise<FaultNode> {
    const node = await this.startAlone(host);
    await this.meet(node, via);
    return node;
  }

  /** Starts one more node on `host` that knows no peer yet; it counts as a member from now on. */
  async startAlone(host: string): Promise<FaultNode> {
    const port = await freePortOn(host, new Set(this.nodes.map((n) => n.port)));
    const dir = tempDir('ringkv-fault-');
    this.dirs.push(dir);
    const index = this.nodes.length + 1;
    const node = new FaultNode(index, host, port, dir, serverArgs(this.opts, index, host, port, dir, ''));
    this.nodes.push(node);
    await node.waitReady();
    return node;
  }

  /** CLUSTER MEET `node` sent to `via`. */
  async meet(node: FaultNode, via: FaultNode): Promise<void> {
    const [reply] = await nodeCall(via.address, [['CLUSTER', 'MEET', node.host, String(node.port)]], 2000);
    if (reply !== 'OK') throw new Error(`CLUSTER MEET ${node.host} ${node.port} via ${via.name}: ${JSON.stringify(reply instanceof ReplyError ? reply.message : reply)}`);
  }

  /** Decommissions `node` (RINGKV.LEAVE): it stays up, serving as an old replica, until `retire`. */
  async leave(node: FaultNode): Promise<void> {
    const [reply] = await nodeCall(node.address, [['RINGKV.LEAVE']], 2000);
    if (reply !== 'OK') throw new Error(`RINGKV.LEAVE on ${node.name}: ${JSON.stringify(reply instanceof ReplyError ? reply.message : reply)}`);
    this.departed.add(node);
  }

  /** The nodes on the ring: every node started, less the decommissioned ones. */
  get members(): FaultNode[] {
    return this.nodes.filter((n) => !this.departed.has(n));
  }

  get addresses(): Address[] {
    return this.members.map((n) => n.address);
  }

  get hosts(): string[] {
    return this.members.map((n) => n.host);
  }

  /**
   * Waits until every node answers, says cluster_state:ok, knows every member and flags none of them
   * fail or fail?: the view after healing. Returns the ms it took.
   */
  async waitHealthy(timeoutMs: number, abort?: () => boolean): Promise<number> {
    const t0 = Date.now();
    const deadline = t0 + timeoutMs;
    let last: string[] = [];
    while (Date.now() < deadline && !abort?.()) {
      this.assertNoUnexpectedExit();
      last = await Promise.all(this.members.map((n) => this.nodeHealth(n)));
      if (last.every((s) => s === 'ok')) return Date.now() - t0;
      await sleep(100);
    }
    if (abort?.()) return Number.NaN;
    throw new Error(`cluster not healthy after ${timeoutMs} ms: ${last.map((s, i) => `${this.members[i]!.name}: ${s}`).join('; ')}`);
  }

  /** Throws when a node ended without the suite asking (a crash, or a signal from outside the suite). */
  assertNoUnexpectedExit(): void {
    const exits = this.nodes.flatMap((n) => n.unexpectedExits);
    if (exits.length > 0) throw new Error(`node process ended unexpectedly: ${exits.join('; ')}`);
  }

  private async nodeHealth(n: FaultNode): Promise<string> {
    try {
      const [info, nodes] = await nodeCall(n.address, [['CLUSTER', 'INFO'], ['CLUSTER', 'NODES']], 1000);
      if (typeof info !== 'string' || typeof nodes !== 'string') return `bad reply ${JSON.stringify(info instanceof ReplyError ? info.message : info)}`;
      if (!info.includes('cluster_state:ok')) return 'cluster_state not ok';
      if (!info.includes(`cluster_known_nodes:${this.members.length}\r\n`)) return /cluster_known_nodes:\d+/.exec(info)?.[0] ?? 'known nodes?';
      // A decommissioned node is listed until forgotten, and flagged failing once it is stopped.
      const gone = [...this.departed].map((d) => ` ${d.host}:${d.port}@`);
      const flagged = nodes.split('\n').filter((l) => / (\S*,)?fail\??(,\S*)? /.test(l) && !gone.some((g) => l.includes(g)));
      if (flagged.length > 0) return `flags ${flagged.map((l) => l.split(' ')[1]).join(',')} failing`;
      return 'ok';
    } catch (e) {
      return `unreachable (${(e as Error).message})`;
    }
  }

  /** Writes every node's log to `dir`, for a failing run's artifacts. */
  saveLogs(dir: string): void {
    for (const n of this.nodes) writeFileSync(path.join(dir, `node-${n.index}-${n.host}-${n.port}.log`), n.output());
  }

  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}

export interface MerkleAgreement {
  /** False when nothing was compared. */
  checked: boolean;
  agree: boolean;
  detail: string;
  /** Slots compared among their replicas in the last look (all 16384 once every node answered). */
  slots: number;
  /** From the call until the digests agreed (or the timeout). */
  ms: number;
}

const SLOTS = 16384;
/** Slots per RINGKV.DIGEST RANGE request (the server's maximum). */
const DIGEST_RANGE = 4096;

/** One node's per-slot digests: hex where it replicates the slot, null where it does not. */
async function slotDigests(n: FaultNode): Promise<Array<string | null> | string> {
  try {
    const commands: string[][] = [];
    for (let s = 0; s < SLOTS; s += DIGEST_RANGE) commands.push(['RINGKV.DIGEST', 'RANGE', String(s), String(Math.min(SLOTS, s + DIGEST_RANGE) - 1)]);
    const replies = await nodeCall(n.address, commands, 5000);
    const out: Array<string | null> = [];
    for (const r of replies) {
      if (r instanceof ReplyError) return `error: ${r.message}`;
      if (!Array.isArray(r)) return `bad reply ${JSON.stringify(r)}`;
      for (const d of r) out.push(typeof d === 'string' ? d : null);
    }
    return out.length === SLOTS ? out : `${out.length} slots answered`;
  } catch (err) {
    return `unreachable: ${(err as Error).message}`;
  }
}

/**
 * Whether, for every slot, the Merkle digests of that slot's replicas agree, within `timeoutMs` of
 * the call (anti-entropy runs in the background). Each ring member reports, per slot, its digest
 * where it replicates the slot in its current topology: every slot must be reported by exactly
 * min(N, members) nodes with one digest among them. That also catches nodes whose views of the
 * ring still differ (a slot claimed by too many or too few nodes). `members` are the nodes on the
 * ring (by default all; a decommissioned node is left out).
 */
export async function checkMerkleRootsAgree(cluster: FaultCluster, opts: { timeoutMs?: number; n?: number; members?: readonly FaultNode[] } = {}): Promise<MerkleAgreement> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const members = opts.members ?? cluster.nodes;
  const copies = Math.min(opts.n ?? 3, members.length);
  const t0 = Date.now();
  const deadline = t0 + timeoutMs;
  for (;;) {
    const all = await Promise.all(members.map((n) => slotDigests(n)));
    const problems: string[] = [];
    let compared = 0;
    all.forEach((d, i) => {
      if (typeof d === 'string') problems.push(`${members[i]!.name}: ${d}`);
    });
    if (problems.length === 0) {
      const lists = all as Array<Array<string | null>>;
      for (let slot = 0; slot < SLOTS; slot++) {
        const held: string[] = [];
        for (let i = 0; i < members.length; i++) {
          const d = lists[i]![slot];
          if (d !== null && d !== undefined) held.push(`${members[i]!.name}=${d}`);
        }
        const distinct = new Set(held.map((h) => h.slice(h.indexOf('=') + 1)));
        if (held.length !== copies) problems.push(`slot ${slot}: ${held.length} replicas report (expected ${copies}) ${held.join(' ')}`);
        else if (distinct.size > 1) problems.push(`slot ${slot}: ${held.join(' ')}`);
        else compared++;
      }
    }
    if (problems.length === 0) return { checked: true, agree: true, detail: `all ${SLOTS} slots agree among their ${copies} replicas`, slots: compared, ms: Date.now() - t0 };
    if (Date.now() > deadline) {
      const differing = problems.map((p) => /^slot (\d+): n/.exec(p)?.[1]).filter((x): x is string => x !== undefined).slice(0, 3).map(Number);
      const records = await Promise.all(differing.map((slot) => slotRecordDifferences(members, slot)));
      return { checked: true, agree: false, detail: `${problems.length} problems after ${timeoutMs} ms: ${problems.slice(0, 6).join('; ')}${records.join('')}`, slots: compared, ms: Date.now() - t0 };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Where the replicas of a slot differ, record by record (RINGKV.DIGEST RECORDS): each record key
 * not held alike by every node, with each node's version, type and suspect mark.
 */
async function slotRecordDifferences(members: readonly FaultNode[], slot: number): Promise<string> {
  const views = await Promise.all(members.map(async (n) => {
    try {
      const [reply] = await nodeCall(n.address, [['RINGKV.DIGEST', 'RECORDS', String(slot)]], 5000);
      if (!Array.isArray(reply)) return undefined;
      const m = new Map<string, string>();
      for (const row of reply as unknown[]) {
        const [key, version, type, suspect] = row as [unknown, unknown, unknown, unknown];
        m.set(String(key), `${String(version).slice(0, 28)}/t${String(type)}${suspect === 1 ? '/suspect' : ''}`);
      }
      return m;
    } catch {
      return undefined;
    }
  }));
  const present = views.map((v, i) => (v === undefined ? undefined : { name: members[i]!.name, v })).filter((x) => x !== undefined);
  const keys = new Set(present.flatMap((p) => [...p.v.keys()]));
  const lines: string[] = [];
  for (const k of keys) {
    const held = present.map((p) => p.v.get(k));
    if (held.every((h) => h !== undefined && h === held[0]) && !held[0]!.includes('suspect')) continue;
    if (lines.length >= 12) {
      lines.push('…');
      break;
    }
    lines.push(`    ${k.slice(0, 120)}: ${present.map((p, i) => `${p.name}=${held[i] ?? '-'}`).join(' ')}`);
  }
  return `\n  slot ${slot} records that differ (key hex: node=version/type):\n${lines.join('\n')}`;
}

export { addrKey };

/** Waits until every observer flags `target` as failed in CLUSTER NODES (20 s at most). */
export async function waitDeclaredFailed(observers: readonly FaultNode[], target: FaultNode): Promise<void> {
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    const views = await Promise.all(observers.map(async (o) => {
      const [nodes] = await nodeCall(o.address, [['CLUSTER', 'NODES']], 1000).catch(() => [undefined]);
      if (typeof nodes !== 'string') return false;
      const line = nodes.split('\n').find((l) => l.includes(`:${target.port}@`));
      return line !== undefined && / (\S*,)?fail(,\S*)? /.test(line);
    }));
    if (views.every(Boolean)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${target.name} was not declared failed`);
}
