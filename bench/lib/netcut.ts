/**
 * Cutting one cluster node off from the others on this machine, for the partition run. Every node
 * binds an address of its own inside 127.0.0.0/8 and dials its bus links from it, so packet-filter
 * rules on source and destination address drop exactly the traffic between nodes, while clients
 * (which connect from 127.0.0.1) still reach every node.
 *
 * The rules live in a chain of their own, RINGKV_BENCH_<pid>, jumped to from INPUT. Healing flushes
 * it; `teardown` removes it, and runs from a process 'exit' hook too. Chains left by a bench process
 * that no longer exists are removed at setup, so an interrupted run cannot leave a partition behind.
 */
import { spawnSync } from 'node:child_process';

const CHAIN_PREFIX = 'RINGKV_BENCH_';

function isLoopback(address: string): boolean {
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  return m !== null && m.slice(1).every((x) => Number(x) <= 255);
}

/** Runs iptables, waiting up to 5 s for the ruleset lock that other processes may hold. */
function iptables(args: readonly string[]): { ok: boolean; out: string } {
  const r = spawnSync('iptables', ['-w', '5', ...args], { encoding: 'utf8', timeout: 15_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
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
  while (iptables(['-D', 'INPUT', '-j', chain]).ok) { /* every jump to it */ }
  iptables(['-F', chain]);
  iptables(['-X', chain]);
}

/** Why partitions cannot be made here, or null when they can (Linux, root, a working iptables). */
export function partitionUnavailable(): string | null {
  if (process.platform !== 'linux') return `packet filtering needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'changing packet-filter rules needs root';
  const chain = `${CHAIN_PREFIX}PROBE_${process.pid}`;
  const created = iptables(['-N', chain]);
  if (!created.ok) return `iptables cannot create a chain here: ${created.out || 'is it installed?'}`;
  const rule = iptables(['-A', chain, '-s', '127.0.0.254', '-d', '127.0.0.253', '-j', 'DROP']);
  iptables(['-F', chain]);
  iptables(['-X', chain]);
  return rule.ok ? null : `iptables cannot add a rule here: ${rule.out}`;
}

export class NetCut {
  readonly chain = `${CHAIN_PREFIX}${process.pid}`;
  private installed = false;
  private readonly onExit = (): void => this.teardown();

  setup(): void {
    const listed = iptables(['-S']);
    for (const m of listed.out.matchAll(/^-N (RINGKV_BENCH_(\d+))$/gm)) {
      if (!pidAlive(Number(m[2]))) removeChain(m[1]!);
    }
    removeChain(this.chain);
    const n = iptables(['-N', this.chain]);
    if (!n.ok) throw new Error(`iptables -N ${this.chain}: ${n.out}`);
    process.on('exit', this.onExit);
    this.installed = true;
    const j = iptables(['-I', 'INPUT', '1', '-j', this.chain]);
    if (!j.ok) {
      this.teardown();
      throw new Error(`iptables -I INPUT -j ${this.chain}: ${j.out}`);
    }
  }

  /** Drops every packet between `node` and each of `others`, both ways. */
  isolate(node: string, others: readonly string[]): void {
    if (!this.installed) throw new Error('NetCut.setup() first');
    for (const address of [node, ...others]) {
      if (!isLoopback(address)) throw new Error(`refusing a packet-filter rule for ${address}: only 127.0.0.0/8 is allowed`);
    }
    for (const other of others) {
      for (const [s, d] of [[node, other], [other, node]] as const) {
        const r = iptables(['-A', this.chain, '-s', s, '-d', d, '-j', 'DROP']);
        if (!r.ok) throw new Error(`iptables -A ${this.chain} -s ${s} -d ${d}: ${r.out}`);
      }
    }
  }

  heal(): void {
    if (!this.installed) return;
    const r = iptables(['-F', this.chain]);
    if (!r.ok) throw new Error(`iptables -F ${this.chain}: ${r.out}`);
  }

  teardown(): void {
    if (!this.installed) return;
    removeChain(this.chain);
    this.installed = false;
    process.off('exit', this.onExit);
  }
}
