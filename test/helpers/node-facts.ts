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
