/**
 * A real ringkv cluster for the fault suite: one process per node, each bound to its own loopback
 * address when partitions are possible (127.0.0.11, .12, …) so packet-filter rules can tell nodes
 * apart, or all on 127.0.0.1 otherwise. Faults: SIGKILL and restart on the same data directory,
 * SIGSTOP / SIGCONT. Every process started is killed when the test process exits, pass or fail
 * (a stopped one too: SIGKILL needs no SIGCONT).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { CLI, tempDir } from './server.js';
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
    const port = 20000 + Math.floor(Math.random() * 30000);
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
}

export class FaultCluster {
  private constructor(readonly nodes: FaultNode[], readonly dirs: string[]) {}

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
      const args = [
        'server', '--port', String(ports[i]), '--bind', host, '--dir', dir, '--loglevel', 'notice',
        '--cluster-enabled', 'yes', '--cluster-seeds', seeds, '--cluster-node-timeout', String(opts.nodeTimeoutMs ?? 2000),
        '--appendfsync', 'always', ...(opts.extraArgs ?? []),
      ];
      return new FaultNode(i + 1, host, ports[i]!, dir, args);
    });
    const cluster = new FaultCluster(nodes, dirs);
    try {
      await Promise.all(nodes.map((n) => n.waitReady()));
      await cluster.waitHealthy(30000);
    } catch (e) {
      await cluster.destroy();
      throw e;
    }
    return cluster;
  }

  get addresses(): Address[] {
    return this.nodes.map((n) => n.address);
  }

  get hosts(): string[] {
    return this.nodes.map((n) => n.host);
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
      last = await Promise.all(this.nodes.map((n) => this.nodeHealth(n)));
      if (last.every((s) => s === 'ok')) return Date.now() - t0;
      await sleep(100);
    }
    if (abort?.()) return Number.NaN;
    throw new Error(`cluster not healthy after ${timeoutMs} ms: ${last.map((s, i) => `${this.nodes[i]!.name}: ${s}`).join('; ')}`);
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
      if (!info.includes(`cluster_known_nodes:${this.nodes.length}\r\n`)) return /cluster_known_nodes:\d+/.exec(info)?.[0] ?? 'known nodes?';
      const flagged = nodes.split('\n').filter((l) => / (\S*,)?fail\??(,\S*)? /.test(l));
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
  /** False while the product exposes no Merkle digests: nothing was compared. */
  checked: boolean;
  agree: boolean;
  detail: string;
}

/**
 * Whether every replica's Merkle digest agrees, within 30 s of the call (anti-entropy runs in the
 * background). With N=3 and three nodes every node replicates every slot, so the whole-node
 * digests from `RINGKV.DIGEST` must be equal. Larger clusters would need per-slot comparison among
 * each slot's replicas; they are reported as not compared.
 */
export async function checkMerkleRootsAgree(cluster: FaultCluster, timeoutMs = 30_000): Promise<MerkleAgreement> {
  if (cluster.nodes.length !== 3) return { checked: false, agree: true, detail: `not compared for ${cluster.nodes.length} nodes (per-slot comparison not implemented)` };
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const digests = await Promise.all(cluster.nodes.map(async (n) => {
      try {
        const [d] = await nodeCall(n.address, [['RINGKV.DIGEST']], 2000);
        return d instanceof ReplyError ? `error:${d.message}` : String(d);
      } catch (err) {
        return `unreachable:${(err as Error).message}`;
      }
    }));
    last = digests.join(' ');
    if (digests.every((d) => d === digests[0] && !d.includes(':'))) return { checked: true, agree: true, detail: `roots agree: ${digests[0]}` };
    if (Date.now() > deadline) return { checked: true, agree: false, detail: `roots still differ after ${timeoutMs} ms: ${last}` };
    await new Promise((r) => setTimeout(r, 250));
  }
}

export { addrKey };
