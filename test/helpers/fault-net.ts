/**
 * Network partitions between cluster nodes on one machine. Every node binds its own loopback
 * address (127.0.0.11, .12, …) and dials its bus links from it, so packet-filter rules on source and
 * destination address cut exactly the links between two groups of nodes while clients (which
 * connect from 127.0.0.1) still reach every node.
 *
 * The rules live in a chain of their own, RINGKV_FAULT_<pid>, jumped to from INPUT; healing
 * flushes it and teardown removes it. Teardown also runs from a process 'exit' hook, and chains left
 * by a process that no longer exists are removed at setup, so a crashed run cannot leave a
 * partition behind. Only addresses inside 127.0.0.0/8 are ever accepted.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { hasBinary } from './server.js';

const CHAIN_PREFIX = 'RINGKV_FAULT_';

export function isLoopback(address: string): boolean {
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  return m !== null && m.slice(1).every((x) => Number(x) <= 255);
}

function assertLoopback(address: string): void {
  if (!isLoopback(address)) throw new Error(`refusing a packet-filter rule for ${address}: only 127.0.0.0/8 is allowed`);
}

/** Runs iptables; retries briefly when another process changed the ruleset at the same moment. */
function iptables(args: readonly string[]): { ok: boolean; out: string } {
  for (let attempt = 0; ; attempt++) {
    const r = spawnSync('iptables', ['-w', '5', ...args], { encoding: 'utf8', timeout: 15000 });
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
    if (r.status === 0 || attempt >= 4 || !/temporarily unavailable|lock|busy/i.test(out)) return { ok: r.status === 0, out };
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function removeChain(chain: string): void {
  while (iptables(['-D', 'INPUT', '-j', chain]).ok) { /* remove every jump */ }
  iptables(['-F', chain]);
  iptables(['-X', chain]);
}

/** Removes RINGKV_FAULT_<pid> chains whose process is gone. */
function removeStaleChains(): void {
  const listed = iptables(['-S']);
  if (!listed.ok) return;
  for (const m of listed.out.matchAll(/^-N (RINGKV_FAULT_(\d+))$/gm)) {
    if (!pidAlive(Number(m[2]))) removeChain(m[1]!);
  }
}

export interface NetProbe {
  ok: boolean;
  reason: string;
}

/** Whether partitions can be made here: iptables present, permitted, and able to add a rule. */
export function probePartitions(): NetProbe {
  if (process.platform !== 'linux') return { ok: false, reason: `packet filtering needs Linux (this is ${process.platform})` };
  if (!hasBinary('iptables')) return { ok: false, reason: 'iptables is not installed (apt-get install -y iptables)' };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'changing packet-filter rules needs root' };
  const chain = `RINGKV_PROBE_${process.pid}`;
  const created = iptables(['-N', chain]);
  if (!created.ok) return { ok: false, reason: `iptables cannot create a chain here: ${created.out}` };
  const rule = iptables(['-A', chain, '-s', '127.0.0.254', '-d', '127.0.0.253', '-j', 'DROP']);
  iptables(['-F', chain]);
  iptables(['-X', chain]);
  if (!rule.ok) return { ok: false, reason: `iptables cannot add a rule here: ${rule.out}` };
  return { ok: true, reason: 'iptables usable' };
}

export class Partitioner {
  readonly chain = `${CHAIN_PREFIX}${process.pid}`;
  private installed = false;
  private readonly onExit = (): void => this.teardown();
  /** Address pairs currently cut, as "a>b". */
  private readonly cut = new Set<string>();

  setup(): void {
    removeStaleChains();
    removeChain(this.chain);
    const n = iptables(['-N', this.chain]);
    if (!n.ok) throw new Error(`iptables -N ${this.chain}: ${n.out}`);
    const j = iptables(['-I', 'INPUT', '1', '-j', this.chain]);
    if (!j.ok) {
      iptables(['-X', this.chain]);
      throw new Error(`iptables -I INPUT -j ${this.chain}: ${j.out}`);
    }
    this.installed = true;
    process.on('exit', this.onExit);
  }

  /** Drops every packet between nodes of different groups, both directions. */
  partition(groups: ReadonlyArray<readonly string[]>): void {
    if (!this.installed) throw new Error('Partitioner.setup() first');
    for (const g of groups) g.forEach(assertLoopback);
    for (let i = 0; i < groups.length; i++) {
      for (let j = 0; j < groups.length; j++) {
        if (i === j) continue;
        for (const a of groups[i]!) {
          for (const b of groups[j]!) {
            if (this.cut.has(`${a}>${b}`)) continue;
            const r = iptables(['-A', this.chain, '-s', a, '-d', b, '-j', 'DROP']);
            if (!r.ok) throw new Error(`iptables -A ${this.chain} -s ${a} -d ${b}: ${r.out}`);
            this.cut.add(`${a}>${b}`);
          }
        }
      }
    }
  }

  /** Cuts `node` off from every other address listed. */
  isolate(node: string, others: readonly string[]): void {
    this.partition([[node], others.filter((o) => o !== node)]);
  }

  /** Removes every rule: all links work again. */
  heal(): void {
    if (!this.installed) return;
    const r = iptables(['-F', this.chain]);
    if (!r.ok) throw new Error(`iptables -F ${this.chain}: ${r.out}`);
    this.cut.clear();
  }

  /** The rules in force, for logs. */
  rules(): string[] {
    if (!this.installed) return [];
    return iptables(['-S', this.chain]).out.split('\n').filter((l) => l.startsWith('-A'));
  }

  teardown(): void {
    if (!this.installed) return;
    removeChain(this.chain);
    this.installed = false;
    this.cut.clear();
    process.off('exit', this.onExit);
  }
}

/** For the report: iptables' own version string. */
export function iptablesVersion(): string {
  try {
    return execFileSync('iptables', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return 'iptables unavailable';
  }
}
