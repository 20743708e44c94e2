/**
 * MIGRATE's conversation with the target: one fresh connection per MIGRATE (Redis caches them
 * for 10 s; a fresh one costs a connect and keeps no state between commands), every request sent
 * in one write, one reply read per request, each wait bounded by the command's timeout as Redis
 * bounds each of its synchronous reads. Its wording of failures follows what Redis observes.
 */
import net from 'node:net';
import { encodeCommand, ReplyReader, type Reply } from '../protocol/reply-reader.js';

/** Where the exchange stopped short: Redis words its IOERR after it. */
export type LinkFailure = 'connect' | 'write' | 'read';

export interface LinkResult {
  replies: Reply[];
  failure?: LinkFailure;
}

export function exchange(host: string, port: number, timeoutMs: number, requests: ReadonlyArray<ReadonlyArray<Buffer | string>>): Promise<LinkResult> {
  return new Promise((resolve) => {
    const replies: Reply[] = [];
    const reader = new ReplyReader();
    let connected = false;
    let writeFailed = false;
    let settled = false;
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    const finish = (failure?: LinkFailure): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(failure === undefined ? { replies } : { replies, failure });
    };
    const failureNow = (): LinkFailure => (!connected ? 'connect' : writeFailed ? 'write' : 'read');
    let timer = setTimeout(() => finish(failureNow()), timeoutMs);
    // Each wait for the target gets the whole timeout, as each of Redis's synchronous reads does.
    const rearm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(failureNow()), timeoutMs);
    };
    socket.once('connect', () => {
      connected = true;
      rearm();
      socket.write(Buffer.concat(requests.map((r) => encodeCommand(r))), (err) => {
        if (err) writeFailed = true;
      });
    });
    socket.on('data', (chunk: Buffer) => {
      rearm();
      reader.push(chunk);
      try {
        for (let r = reader.next(); r !== undefined; r = reader.next()) {
          replies.push(r);
          if (replies.length === requests.length) return finish();
        }
      } catch {
        finish('read');
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // Redis's connect waits only for the socket to become writable, which a refused connection
      // does: it is its first write that fails, and Redis says so.
      if (!connected && err.code === 'ECONNREFUSED') writeFailed = connected = true;
      finish(failureNow());
    });
    socket.on('close', () => finish(failureNow()));
  });
}
