/**
 * Goal: `ringkv status --watch` keeps the table and redraws it live: a node killed while watched
 * shows up as dead in a later draw, and Ctrl-C (SIGINT) ends the watch cleanly.
 * Method: a real 3-node cluster, the real CLI as a child process reading from node 0 every 0.3 s,
 * one node SIGKILLed; the output is read as the user would see it (no terminal: draws follow each
 * other, each stamped).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from '../helpers/server.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';

let cluster: TestCluster;
let watcher: ChildProcess | undefined;
beforeAll(async () => {
  cluster = await startCluster(3);
});
afterAll(async () => {
  if (watcher && watcher.exitCode === null) watcher.kill('SIGKILL');
  await cluster?.stop();
});

async function waitFor(what: string, cond: () => boolean, timeoutMs: number, out: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms; output:\n${out().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('ringkv status --watch', () => {
  it('redraws the table, shows a killed node dead, and stops on SIGINT', async () => {
    let out = '';
    watcher = spawn(process.execPath, [CLI, 'status', '--port', String(cluster.ports[0]), '--watch', '0.3'], { stdio: ['ignore', 'pipe', 'pipe'] });
    watcher.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    watcher.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const draws = (): string[] => out.split(/^\d\d:\d\d:\d\d {2}ringkv status /m).slice(1);
    const rowOf = (draw: string, port: number): string | undefined => draw.split('\n').find((l) => l.includes(`127.0.0.1:${port} `));

    await waitFor('two full draws', () => draws().filter((d) => d.includes('cluster_state: ok') && cluster.ports.every((p) => rowOf(d, p)?.includes('alive'))).length >= 2, 15_000, () => out);
    expect(draws()[0]).toMatch(/NODE\s+ADDRESS\s+STATE\s+LINK\s+SLOTS\s+SHARE/);

    const victim = cluster.ports[2]!;
    await cluster.nodes[2]!.kill9();
    await waitFor('the killed node shown dead', () => {
      const last = draws().at(-1);
      return last !== undefined && /\bdead\b/.test(rowOf(last, victim) ?? '');
    }, 15_000, () => out);

    const exited = new Promise<number | null>((r) => watcher!.once('exit', (code) => r(code)));
    watcher.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});
