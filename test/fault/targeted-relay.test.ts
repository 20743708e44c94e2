/**
 * Goal: pin down what `pipelined-pause` met by chance (seed 9112, docs/reliability.md Findings
 * 10): an INCR relayed to the slot's lease holder must not be answered as if it had no effect
 * (TRYAGAIN, which clients resend) and then be applied anyway.
 * Method: three real nodes (2 s node timeout). The key's primary P is stopped until the others
 * declare it failed, so the next replica H coordinates the key and takes its lease (INCRs through
 * H). P is resumed and is the primary again; H still holds the lease, so P relays read-modify-write
 * on the key to H. Then H is stopped and one INCR is sent to P at once (P does not suspect H yet):
 * the relay waits on H. H is resumed once P has answered, the cluster heals, and the key is read
 * with R=3. Every increment is recorded and the counter checked as in the pipelined workload
 * (`checkCounters`): an INCR answered with an error that promises no effect must not show up in
 * the final value.
 * Failed when written (3/3 runs): the INCR was answered `TRYAGAIN could not reach the slot's
 * primary: bus request 'fwd' … timed out after 2000 ms`, and once H resumed it applied it (10
 * acknowledged increments, final value 11). Then the answer became "may or may not have been
 * applied", which is true, and H still applied it late; now H refuses a relay that arrives after
 * its sender stopped waiting (peer-clocks.ts), so the final value is exactly the acknowledged count.
 */
import { describe, expect, it } from 'vitest';
import { keySlot } from '../../src/cluster/slot.js';
import { FaultCluster, waitDeclaredFailed, type FaultNode } from '../helpers/fault-cluster.js';
import { FaultClusterClient, ReplyError, definitelyNoEffect, nodeCall, type CallOutcome } from '../helpers/fault-client.js';
import { checkCounters, type PCommand, type PipelineRecord } from '../helpers/fault-pipeline-checker.js';
import { RunClock } from '../helpers/fault-history.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
// 127.0.0.81-83 belong to this file; any 127.0.0.0/8 address is local on Linux.
const hosts = Array.from({ length: 3 }, (_, i) => (process.platform === 'linux' ? `127.0.0.${81 + i}` : '127.0.0.1'));
const KEY = 'targeted:relay';

describe('targeted: a relayed INCR whose lease holder stops', () => {
  it('is not answered as without effect and then applied', async () => {
    const cluster = await FaultCluster.start({ hosts });
    const clock = new RunClock();
    const commands: PCommand[] = [];
    const record = (out: CallOutcome): PCommand => {
      const c: PCommand = { kind: 'incr', key: KEY, amount: 1, result: out.status, end: clock.now() };
      if (out.status === 'ok' && typeof out.reply === 'number') c.n = out.reply;
      if (out.error) c.error = out.error;
      commands.push(c);
      return c;
    };
    /** INCRs through whichever node the client's map names, until `n` are acknowledged. */
    const incrs = async (n: number): Promise<void> => {
      const client = new FaultClusterClient({ seeds: cluster.addresses, r: 2, w: 2, opTimeoutMs: 5000 });
      try {
        await client.refreshSlots(true);
        for (let acked = 0, tries = 0; acked < n && tries < 200; tries++) {
          const c = record(await client.call(KEY, ['INCR', KEY], true));
          if (c.result === 'ok') acked++;
          else {
            await sleep(100);
            await client.refreshSlots(true);
          }
        }
      } finally {
        client.close();
      }
    };
    const owner = async (): Promise<FaultNode> => {
      const client = new FaultClusterClient({ seeds: cluster.addresses, opTimeoutMs: 5000 });
      await client.refreshSlots(true);
      const o = client.ownerOf(keySlot(Buffer.from(KEY)));
      client.close();
      const node = cluster.nodes.find((n) => `${n.host}:${n.port}` === o);
      if (!node) throw new Error(`no owner for ${KEY}: ${o}`);
      return node;
    };
    try {
      await incrs(3);
      const p = await owner();

      // 1. P stopped and declared failed: H coordinates the key and takes its lease.
      p.pause();
      await waitDeclaredFailed(cluster.nodes.filter((n) => n !== p), p);
      await incrs(5);
      const h = await owner();
      expect(h, 'another node took the slot').not.toBe(p);

      // 2. P resumed: primary again, while H holds the lease.
      p.resume();
      await cluster.waitHealthy(30_000);
      expect(await owner(), 'P is the primary again').toBe(p);
      await incrs(2);

      // 3. H stopped; one INCR to P at once, relayed to H (P does not suspect H yet).
      h.pause();
      const [, reply] = await nodeCall(p.address, [['RINGKV.CONSISTENCY', 'R', '2', 'W', '2'], ['INCR', KEY]], 15_000).catch((e: unknown) => [undefined, e as Error]);
      const out: CallOutcome = reply instanceof ReplyError
        ? { status: definitelyNoEffect(reply.message) || reply.message.startsWith('MOVED') ? 'fail' : 'unknown', open: false, error: reply.message }
        : reply instanceof Error ? { status: 'unknown', open: true, error: reply.message }
        : { status: 'ok', open: false, reply: reply as number };
      const late = record(out);
      // H stays stopped a while after P gave up, so the relay reaches it well past its deadline.
      await sleep(1500);
      h.resume();
      await cluster.waitHealthy(30_000);

      const reader = new FaultClusterClient({ seeds: cluster.addresses, r: 3, opTimeoutMs: 5000 });
      await reader.refreshSlots(true);
      const final = await reader.call(KEY, ['GET', KEY], false);
      reader.close();
      expect(final.status, JSON.stringify(final)).toBe('ok');
      const records: PipelineRecord[] = [{ client: 1, transport: 'pipeline', seq: 0, node: 'any', start: 0, commands }];
      const summary = `P=${p.name} H=${h.name}; INCR through P while H was stopped: ${late.result} ${JSON.stringify(late.error ?? late.n)}; ` +
        `${commands.filter((c) => c.result === 'ok').length} acknowledged in all; final ${JSON.stringify(final.reply)}`;
      console.log(`[targeted] ${summary}`);
      expect(checkCounters(records, new Map([[KEY, final.reply as string | null]])), summary).toEqual([]);
      // The relay reached H only after P had stopped waiting (H was stopped past the bus deadline):
      // H refuses it, so the INCR P answered "may or may not have been applied" never applies.
      const acked = commands.filter((c) => c.result === 'ok').length;
      expect(late.result, summary).toBe('unknown');
      expect(Number(final.reply), `the late relay ran after P gave up: ${summary}`).toBe(acked);
      const [info] = await nodeCall(h.address, [['INFO', 'cluster']], 5000);
      expect(String(info).match(/ringkv_relays_expired:(\d+)/)?.[1], summary).not.toBe('0');
    } finally {
      await cluster.destroy();
    }
  }, 120_000);
});
