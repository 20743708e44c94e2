/** Waiting for clients to be blocked on a node (INFO clients blocked_clients), for blocking-command tests. */
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { startNode, type NodeProcess } from './server.js';

export async function blockedClients(port: number): Promise<number> {
  const r = new Redis({ port, lazyConnect: true });
  try {
    const info = await r.info('clients');
    return Number(/blocked_clients:(\d+)/.exec(info)![1]);
  } finally {
    r.disconnect();
  }
}

/** Waits until the nodes at `ports` have `n` blocked clients between them. */
export async function untilBlocked(ports: number | readonly number[], n: number, timeoutMs = 10000): Promise<void> {
  const list = typeof ports === 'number' ? [ports] : ports;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = (await Promise.all(list.map(blockedClients))).reduce((a, b) => a + b, 0);
    if (got === n) return;
    if (Date.now() > deadline) throw new Error(`expected ${n} blocked clients on ${list.join(',')}, found ${got}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Inside a describe: one node for the block and a factory of clients to it, all stopped after the
 * block (each blocking test opens several connections that wait on each other).
 */
export function nodeWithClients(): { port(): number; client(): Redis } {
  let node: NodeProcess | undefined;
  const clients: Redis[] = [];
  beforeAll(async () => {
    node = await startNode();
  }, 30000);
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await node?.stop();
  });
  return {
    port: () => node!.port,
    client: () => {
      const r = new Redis({ port: node!.port });
      clients.push(r);
      return r;
    },
  };
}
