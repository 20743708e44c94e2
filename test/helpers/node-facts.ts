import Redis from 'ioredis';

/** The client port of the node that coordinates `key`'s slot, as the node on `port` sees it. */
export async function primaryPort(port: number, key: string): Promise<number> {
  const r = new Redis({ port });
  try {
    const slot = (await r.call('cluster', 'keyslot', key)) as number;
    const slots = (await r.call('cluster', 'slots')) as Array<[number, number, [string, number]]>;
    const range = slots.find(([from, to]) => slot >= from && slot <= to);
    if (!range) throw new Error(`slot ${slot} is not served`);
    return range[2][1];
  } finally {
    r.disconnect();
  }
}

/**
 * The key's primary as `port` routes it, once that is not `avoid`. A node's CLUSTER NODES says
 * "fail" as soon as the node timeout passed, while its slot table follows at its next tick: asked
 * in between, CLUSTER SLOTS still names the failed node, and a stopped (SIGSTOP) process accepts
 * the connection and never answers.
 */
export async function primaryPortOtherThan(port: number, key: string, avoid: number, timeoutMs = 20000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = await primaryPort(port, key);
    if (p !== avoid) return p;
    if (Date.now() > deadline) throw new Error(`node on ${port} still routes ${key} to ${avoid}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The node ids (CLUSTER MYID) of the nodes on `ports`, in the same order. */
export function nodeIds(ports: readonly number[]): Promise<string[]> {
  return Promise.all(ports.map(async (port) => {
    const r = new Redis({ port });
    try {
      return (await r.call('cluster', 'myid')) as string;
    } finally {
      r.disconnect();
    }
  }));
}

/** A numeric INFO field of the node on `port` (the ringkv section included); NaN when absent. */
export async function infoField(port: number, name: string): Promise<number> {
  const r = new Redis({ port });
  try {
    const info = (await r.info('ringkv')) + (await r.info('all'));
    const m = new RegExp(`${name}:(\\d+)`).exec(info);
    return m ? Number(m[1]) : NaN;
  } finally {
    r.disconnect();
  }
}
