import net from 'node:net';

const MAX_PORT = 65535;

function bindAndRelease(host: string, port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(null));
    server.listen({ host, port, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : null;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * Lets the kernel choose an unused port by listening on port 0. `alsoFree` lists
 * offsets that must be bindable as well, because a clustered node also opens a
 * bus port at a fixed distance (port + 10000) from its client port.
 */
export async function freePort(host = '127.0.0.1', alsoFree: readonly number[] = []): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await bindAndRelease(host, 0);
    if (port === null) continue;
    const extras = alsoFree.map((offset) => port + offset);
    if (extras.some((p) => p > MAX_PORT)) continue;
    const bound = await Promise.all(extras.map((p) => bindAndRelease(host, p)));
    if (bound.every((p) => p !== null)) return port;
  }
  throw new Error(`no free port found on ${host}`);
}
