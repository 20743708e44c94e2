import type { ReplyWriter } from '../protocol/reply-writer.js';
import type { Protocol } from '../protocol/types.js';
import type { SessionState } from '../server/session-state.js';
import { CaptureSink, TransientSession } from '../server/transient-session.js';
import type { ClusterNode } from './cluster-node.js';
import { BusError } from './bus/types.js';
import { setTimeout as sleep } from 'node:timers/promises';

/** A relay to an alive primary whose link is still connecting waits this long, this often, before TRYAGAIN. */
const FORWARD_RETRIES = 5;
const FORWARD_RETRY_MS = 100;

interface ForwardRequest {
  /** Commands to run in order. */
  c: Buffer[][];
  /** Every reply goes back (a relayed run), not only the last one's (a relayed MULTI … EXEC block). */
  a?: boolean;
  p: Protocol;
  ro: boolean;
}

function isForwardRequest(p: unknown): p is ForwardRequest {
  const r = p as ForwardRequest;
  return typeof r === 'object' && r !== null && (r.a === undefined || typeof r.a === 'boolean') && Array.isArray(r.c) && r.c.every((a) => Array.isArray(a) && a.length > 0 && a.every((x) => x instanceof Uint8Array)) && (r.p === 2 || r.p === 3);
}

/**
 * cluster-proxy: relays a client's command to the slot's primary over the bus and hands back the
 * reply bytes, so plain (not cluster-aware) clients can use any node. The receiving side marks its
 * session as forwarded, and the router then coordinates locally: a relayed command never bounces.
 */
export class Forwarder {
  constructor(private readonly cluster: ClusterNode) {}

  /** Relays `commands` to `nodeId`, which runs them in order; writes every reply, or only the last one's. */
  async forward(session: SessionState, nodeId: string, commands: Buffer[][], out: ReplyWriter, replies: 'all' | 'last'): Promise<void> {
    const addr = this.cluster.busAddress(nodeId);
    if (!addr) throw new Error(`unknown node ${nodeId}`);
    const request: ForwardRequest = { c: commands, a: replies === 'all', p: session.proto, ro: session.readonlyMode };
    for (let attempt = 0; ; attempt++) {
      try {
        const reply = (await this.cluster.bus.request(addr, 'fwd', request)) as Uint8Array;
        out.raw(Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength));
        return;
      } catch (err) {
        // 'unreachable' means nothing was sent (the link to an alive primary is still connecting,
        // e.g. just after the cluster formed), so trying again cannot run the commands twice.
        const unsent = err instanceof BusError && err.code === 'unreachable';
        if (unsent && attempt < FORWARD_RETRIES && this.cluster.reachable(nodeId)) {
          await sleep(FORWARD_RETRY_MS);
          continue;
        }
        // Every relayed command gets its own answer, so the client's replies stay aligned.
        const n = replies === 'all' ? commands.length : 1;
        for (let i = 0; i < n; i++) out.error(`TRYAGAIN could not reach the slot's primary: ${(err as Error).message}`);
        return;
      }
    }
  }

  register(): void {
    this.cluster.bus.handle('fwd', async (from, payload) => {
      if (!isForwardRequest(payload)) throw new Error('malformed forward request');
      const session = new TransientSession(payload.p, payload.ro, `bus:${from.nodeId.slice(0, 8)}`);
      this.cluster.router.forwardedSessions.add(session);
      const sink = new CaptureSink(payload.p);
      const dispatcher = this.cluster.node.dispatcher;
      if (payload.a === true) {
        // The session keeps the commands in order, as a client connection's would.
        for (const argv of payload.c) dispatcher.dispatch(session, argv.map((a) => Buffer.from(a)), sink);
        dispatcher.endBatch(session);
        return sink.collect();
      }
      let last: Buffer = Buffer.alloc(0);
      for (const argv of payload.c) {
        dispatcher.dispatch(session, argv.map((a) => Buffer.from(a)), sink);
        dispatcher.endBatch(session);
        last = await sink.collect();
      }
      return last;
    });
  }
}
