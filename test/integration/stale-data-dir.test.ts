/**
 * Goal: a cluster node coming back on a data directory last used longer ago than the tombstone
 * grace does not bring deleted keys back: it refuses to start with one clear line, or, told to
 * (`cluster-discard-stale-data yes`), starts empty. A directory used within the grace starts as it is.
 * Method: a real one-node cluster with a 2 s grace; a key written; the node stopped, restarted at
 * once, stopped again, then started after the grace has passed, without and with the setting.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import Redis from 'ioredis';
import { CLI, freePort, startNode, tempDir, type NodeProcess } from '../helpers/server.js';

const GRACE = ['--cluster-enabled', 'yes', '--hinted-handoff-window-ms', '1000', '--tombstone-grace-ms', '2000'];
const started: NodeProcess[] = [];
afterAll(async () => {
  for (const n of started) await n.stop().catch(() => undefined);
});

describe('a data directory older than the tombstone grace', () => {
  it('is refused with one line, or emptied when the node is told to; a recent one starts as it is', async () => {
    const dir = tempDir();
    const port = await freePort();
    const first = await startNode({ dir, port, args: GRACE });
    started.push(first);
    const r = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 1 });
    await r.connect();
    await r.set('stale:k', 'v');
    r.disconnect();
    await first.stop();
    // Within the grace: starts with its data.
    await first.restart();
    const again = new Redis({ port });
    expect(await again.get('stale:k')).toBe('v');
    again.disconnect();
    await first.stop();
    // The high-water mark runs 1 s ahead of the last use: wait it and the grace out.
    await new Promise((res) => setTimeout(res, 3_500));
    const refused = spawnSync(process.execPath, [CLI, 'server', '--port', String(port), '--dir', dir, ...GRACE], { encoding: 'utf8', timeout: 20_000 });
    expect(refused.status, refused.stderr).toBe(1);
    const lines = refused.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ringkv: data directory .* was last used .* ago, longer than tombstone-grace-ms \(2000 ms\).*--cluster-discard-stale-data yes/);
    const emptied = await startNode({ dir, port, args: [...GRACE, '--cluster-discard-stale-data', 'yes'] });
    started.push(emptied);
    const c = new Redis({ port });
    expect(await c.dbsize()).toBe(0);
    c.disconnect();
  }, 60_000);
});
