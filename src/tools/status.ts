import { Redis } from 'ioredis';

interface Row {
  id: string;
  address: string;
  flags: string;
  link: string;
  slots: number;
  epoch: string;
}

function countSlots(tokens: string[]): number {
  let n = 0;
  for (const t of tokens) {
    const [a, b] = t.split('-');
    n += b === undefined ? 1 : Number(b) - Number(a) + 1;
  }
  return n;
}

/** `ringkv status`: the cluster's nodes, their state, slot share and topology epoch, as a table. */
export async function runStatus(args: string[]): Promise<void> {
  let host = '127.0.0.1';
  let port = 7000;
  let password: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--host') host = args[++i]!;
    else if (args[i] === '--port') port = Number(args[++i]);
    else if (args[i] === '-a' || args[i] === '--password') password = args[++i];
  }
  const r = new Redis({ host, port, password, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    const nodes = (await r.call('cluster', 'nodes')) as string;
    const info = (await r.call('cluster', 'info')) as string;
    const rows: Row[] = nodes.split('\n').filter(Boolean).map((line) => {
      const f = line.split(' ');
      return { id: f[0]!, address: f[1]!.split('@')[0]!, flags: f[2]!, link: f[7]!, slots: countSlots(f.slice(8)), epoch: f[6]! };
    });
    const field = (name: string): string => new RegExp(`${name}:(\\S+)`).exec(info)?.[1] ?? '?';
    console.log(`cluster_state: ${field('cluster_state')}   known nodes: ${field('cluster_known_nodes')}   topology epoch: ${field('cluster_current_epoch')}`);
    const header = ['NODE', 'ADDRESS', 'STATE', 'LINK', 'SLOTS', 'SHARE', 'EPOCH'];
    const table = rows.map((row) => [
      row.id.slice(0, 12), row.address, row.flags.includes('fail?') ? 'suspect' : row.flags.includes('fail') ? 'dead' : 'alive',
      row.link, String(row.slots), `${((row.slots / 16384) * 100).toFixed(1)}%`, row.epoch,
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
    const fmt = (cols: string[]): string => cols.map((c, i) => c.padEnd(widths[i]!)).join('  ');
    console.log(fmt(header));
    for (const t of table) console.log(fmt(t));
  } catch (err) {
    console.error(`ringkv status: cannot read the cluster at ${host}:${port}: ${(err as Error).message}`);
    process.exitCode = 1;
  } finally {
    r.disconnect();
  }
}
