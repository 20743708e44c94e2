/**
 * Goal: every node's dashboard shows the cluster live: it renders in a real browser with the
 * three nodes, their slots on the ring and their health, and marks a node down within seconds of
 * its process being killed.
 * Method: a real 3-node cluster with metrics-port set on each node; Debian's chromium, headless,
 * driven by puppeteer-core, opens node 0's dashboard; a client writes so throughput shows; one
 * node gets SIGKILL and the page is polled for its card turning "down". The browser and every
 * node are stopped in afterAll, also when a test fails. DASHBOARD_SCREENSHOT=<file> saves the
 * rendered page (docs/dashboard.png is made that way).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { Cluster } from 'ioredis';
import { freePort } from '../helpers/server.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { nodeIds } from '../helpers/node-facts.js';

/** Debian's package; .ci/run installs it. */
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

let cluster: TestCluster | undefined;
let browser: Browser | undefined;
const metricsPorts: number[] = [];

beforeAll(async () => {
  if (CHROMIUM === undefined) throw new Error('chromium is not installed (apt-get install -y chromium; .ci/run does it)');
  for (let i = 0; i < 3; i++) metricsPorts.push(await freePort());
  cluster = await startCluster(3, [], (i) => ['--metrics-port', String(metricsPorts[i])]);
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Root in CI: Chromium's sandbox needs a user namespace it may not get.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
});

afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
});

/** The page's node cards: id and health, as rendered. */
function cards(page: Page): Promise<Array<{ id: string; health: string; text: string }>> {
  return page.$$eval('#nodes .node', (els) => els.map((e) => ({
    id: e.getAttribute('data-node-id') ?? '', health: e.getAttribute('data-health') ?? '', text: (e as HTMLElement).innerText,
  })));
}

async function waitFor<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
    last = await probe();
  }
  return last;
}

describe('dashboard in headless Chromium', () => {
  it('renders the three nodes, the ring and live throughput, and shows a killed node down within seconds', async () => {
    const c = cluster!;
    const page = await browser!.newPage();
    await page.setViewport({ width: 1280, height: 860 });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    await page.goto(`http://127.0.0.1:${metricsPorts[0]}/dashboard`, { waitUntil: 'load' });

    const client = new Cluster([{ host: '127.0.0.1', port: c.ports[0]! }]);
    try {
      for (let i = 0; i < 200; i++) await client.set(`d${i}`, `v${i}`);
      for (let i = 0; i < 200; i++) await client.get(`d${i}`);
    } finally {
      client.disconnect();
    }

    const ids = await nodeIds(c.ports);
    const up = await waitFor('three nodes up on the page', () => cards(page), (cs) => cs.length === 3 && cs.every((x) => x.health === 'up'), 15_000);
    expect(up.map((x) => x.id).sort()).toEqual([...ids].sort());
    expect(await page.$eval('#state', (e) => e.textContent)).toBe('ok');
    // The ring is drawn from the slot ranges: every slot, in arcs coloured by primary.
    const arcs = await page.$$eval('#ring path', (ps) => ps.length);
    expect(arcs).toBeGreaterThan(3);
    // Each card carries the node's own report (fetched from its metrics port), with the commands sent.
    await waitFor('throughput on the cards', () => cards(page), (cs) => cs.every((x) => /ops\/s/.test(x.text) && /p50 \/ p95 \/ p99/.test(x.text)), 10_000);
    // The page renders whole; kept as a file only when asked for (it stayed in the temporary directory on every run).
    const screenshot = process.env.DASHBOARD_SCREENSHOT;
    await page.screenshot(screenshot === undefined ? { fullPage: true } : { path: screenshot as `${string}.png`, fullPage: true });

    const victim = 2;
    await c.nodes[victim]!.kill9();
    const killedAt = Date.now();
    const after = await waitFor('the killed node shown down', () => cards(page), (cs) => cs.find((x) => x.id === ids[victim])?.health === 'down', 10_000);
    const seconds = (Date.now() - killedAt) / 1000;
    expect(after.filter((x) => x.health === 'up').map((x) => x.id).sort()).toEqual([ids[0], ids[1]].sort());
    expect(await page.$eval('#ring text', (e) => e.textContent)).toBe('2 / 3');
    console.log(`dashboard showed the killed node down after ${seconds.toFixed(1)} s`);
    expect(errors).toEqual([]);
    await page.close();
  });
});
