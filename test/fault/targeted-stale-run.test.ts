/**
 * Goal: pin down what `pipelined-pause` met by chance (seeds 5012, 7012, 7112, 8012;
 * docs/reliability.md Findings 9): a coordinator stopped while its read-modify-write commands are
 * in flight must not, once resumed, apply them on the value it read before the stop, over writes
 * the others acknowledged meanwhile.
 * Method: three real nodes (2 s node timeout). The key's primary P takes its lease (APPENDs
 * through P). One connection writes a pipeline of 40 APPENDs to P and P is stopped a moment later
 * (0-6 ms: the run's quorum read may be out). The other two declare P failed, take the lease once
 * P's runs out, and acknowledge 10 APPENDs. P is resumed, the pipeline's replies are collected,
 * the cluster heals, and the key is read with R=3. Repeated with a few delays. APPEND rather than
 * INCR: each token names its command, so the final string shows exactly which acknowledged
 * appends survived (a counter's final value cannot tell a lost acknowledged increment from an
 * unknown one that did not apply). Checked as in the pipelined workload (`checkAppends`).
 */
import { describe, expect, it } from 'vitest';
import { keySlot } from '../../src/cluster/slot.js';
import { FaultCluster, waitDeclaredFailed } from '../helpers/fault-cluster.js';
import { FaultClusterClient, ReplyError, RespConnection, definitelyNoEffect, type CallOutcome } from '../helpers/fault-client.js';
import { checkAppends, type AppendViolation, type PCommand } from '../helpers/fault-pipeline-checker.js';
import { RunClock } from '../helpers/fault-history.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
// 127.0.0.91-93 belong to this file; any 127.0.0.0/8 address is local on Linux.
const hosts = Array.from({ length: 3 }, (_, i) => (process.platform === 'linux' ? `127.0.0.${91 + i}` : '127.0.0.1'));

describe('targeted: APPENDs in flight on a coordinator that is stopped', () => {
  it('are not applied on a stale read over appends acknowledged meanwhile', async () => {
    const cluster = await FaultCluster.start({ hosts });
    const clock = new RunClock();
    const found: string[] = [];
    try {
      for (const [attempt, delayMs] of [0, 1, 2, 3, 4, 6].entries()) {
        const key = `targeted:stale-run:${attempt}`;
        const commands: PCommand[] = [];
        let tokens = 0;
        const token = (): string => `t${tokens++};`;
        const record = (value: string, out: CallOutcome): PCommand => {
          const c: PCommand = { kind: 'append', key, value, result: out.status, end: clock.now() };
          if (out.status === 'ok' && typeof out.reply === 'number') c.n = out.reply;
          if (out.error) c.error = out.error;
          if (out.open) c.open = true;
          commands.push(c);
          return c;
        };
        const incrs = async (n: number, seeds = cluster.addresses): Promise<void> => {
          const client = new FaultClusterClient({ seeds, r: 2, w: 2, opTimeoutMs: 5000 });
          try {
            await client.refreshSlots(true);
            for (let acked = 0, tries = 0; acked < n && tries < 300; tries++) {
              const t = token();
              if (record(t, await client.call(key, ['APPEND', key, t], true)).result === 'ok') acked++;
              else {
                await sleep(100);
                await client.refreshSlots(true);
              }
            }
          } finally {
            client.close();
          }
        };
        const lookup = new FaultClusterClient({ seeds: cluster.addresses, opTimeoutMs: 5000 });
        await lookup.refreshSlots(true);
        const ownerKey = lookup.ownerOf(keySlot(Buffer.from(key)));
        lookup.close();
        const p = cluster.nodes.find((n) => `${n.host}:${n.port}` === ownerKey)!;
        const others = cluster.nodes.filter((n) => n !== p);
        await incrs(3, [p.address]);

        // The pipeline, and P stopped a moment later.
        const conn = await RespConnection.open(p.address, 2000);
        await conn.call(['RINGKV.CONSISTENCY', 'R', '2', 'W', '2'], 2000);
        const sent = Array.from({ length: 40 }, () => token());
        const replies = conn.pipeline(sent.map((t) => ['APPEND', key, t]), 60_000).map((pr) => pr.then(
          (reply) => ({ reply, at: clock.now() }), (e: unknown) => ({ reply: new ReplyError(`transport: ${(e as Error).message}`), at: clock.now() })));
        if (delayMs === 0) await new Promise((r) => setImmediate(r));
        else await sleep(delayMs);
        p.pause();

        await waitDeclaredFailed(others, p);
        await incrs(10, others.map((n) => n.address));
        p.resume();
        for (const [i, o] of (await Promise.all(replies)).entries()) {
          const c: PCommand = { kind: 'append', key, value: sent[i]!, result: 'ok', end: o.at };
          if (typeof o.reply === 'number') c.n = o.reply;
          else if (o.reply instanceof ReplyError) {
            c.error = o.reply.message;
            c.result = definitelyNoEffect(o.reply.message) || o.reply.message.startsWith('MOVED') ? 'fail' : 'unknown';
          } else c.result = 'unknown';
          commands.push(c);
        }
        conn.close();
        await cluster.waitHealthy(30_000);
        const reader = new FaultClusterClient({ seeds: cluster.addresses, r: 3, opTimeoutMs: 5000 });
        await reader.refreshSlots(true);
        const final = await reader.call(key, ['GET', key], false);
        reader.close();
        expect(final.status, JSON.stringify(final)).toBe('ok');
        const v: AppendViolation[] = checkAppends([{ client: 1, transport: 'pipeline', seq: 0, node: p.name, start: 0, commands }], new Map([[key, final.reply as string | null]]));
        const outcome = (r: PCommand['result']): number => commands.filter((c) => c.result === r).length;
        const line = `delay ${delayMs} ms, P=${p.name}: ${outcome('ok')} ok, ${outcome('unknown')} unknown, ${outcome('fail')} failed; final ${JSON.stringify(final.reply)}` +
          (v.length > 0 ? `; ${v.map((x) => `${x.problem} ${x.tokens.join('')}`).join('; ')}` : '') + `; errors ${JSON.stringify([...new Set(commands.map((c) => c.error).filter(Boolean))].slice(0, 3))}`;
        console.log(`[targeted] ${line}`);
        if (v.length > 0) found.push(line);
      }
      expect(found, 'logs that lost or doubled acknowledged appends').toEqual([]);
    } finally {
      await cluster.destroy();
    }
  }, 180_000);
});
