/**
 * Goal: the wire behaves as Redis's does for framing, limits and errors, and bad input never takes
 * the server down. Method: raw TCP sockets against a real ringkv process, byte-exact expectations.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { rawExchange, startNode, type NodeProcess } from '../helpers/server.js';

let node: NodeProcess;
beforeAll(async () => {
  node = await startNode({ args: ['--appendfsync', 'no', '--proto-max-bulk-len', '8mb', '--client-query-buffer-limit', '4mb'] });
});
afterAll(async () => {
  await node?.stop();
});

const lines = (n: number) => (d: Buffer): boolean => d.toString('latin1').split('\r\n').length > n;
const send = (payload: string | Buffer, n = 1) => rawExchange(node.port, payload, lines(n));

async function alive(): Promise<void> {
  const r = await send('*1\r\n$4\r\nPING\r\n');
  expect(r.data.toString()).toBe('+PONG\r\n');
}

describe('framing', () => {
  it('inline commands, quoting and escapes', async () => {
    expect((await send('PING\r\n')).data.toString()).toBe('+PONG\r\n');
    expect((await send('ECHO "a b\\x41\\n"\n')).data.toString()).toBe('$5\r\na bA\n\r\n');
    expect((await send("ECHO 'it\\'s'\r\n")).data.toString()).toBe("$4\r\nit's\r\n");
  });

  it('pipelined requests answer strictly in order', async () => {
    let payload = '';
    for (let i = 0; i < 200; i++) payload += `*3\r\n$3\r\nSET\r\n$4\r\nk${String(i).padStart(3, '0')}\r\n$${String(i).length}\r\n${i}\r\n*2\r\n$3\r\nGET\r\n$4\r\nk${String(i).padStart(3, '0')}\r\n`;
    const r = await rawExchange(node.port, payload, (d) => d.toString().split('\r\n').length > 600);
    const parts = r.data.toString().split('\r\n');
    for (let i = 0; i < 200; i++) {
      expect(parts[i * 3]).toBe('+OK');
      expect(parts[i * 3 + 2]).toBe(String(i));
    }
  });

  it('a request split across many packets', async () => {
    const sock = net.connect(node.port, '127.0.0.1');
    const req = Buffer.from('*3\r\n$3\r\nSET\r\n$5\r\nsplit\r\n$5\r\nvalue\r\n*2\r\n$3\r\nGET\r\n$5\r\nsplit\r\n');
    const got = await new Promise<string>((resolve) => {
      let data = '';
      sock.on('data', (d) => {
        data += d.toString();
        if (data.includes('value\r\n')) resolve(data);
      });
      sock.on('connect', async () => {
        for (const b of req) {
          sock.write(Buffer.from([b]));
          await new Promise((r) => setImmediate(r));
        }
      });
    });
    sock.destroy();
    expect(got).toBe('+OK\r\n$5\r\nvalue\r\n');
  });
});

describe('errors keep Redis wording', () => {
  it('unknown command text that clients key on', async () => {
    const r = await send('*3\r\n$7\r\nFOOBARX\r\n$1\r\na\r\n$2\r\nbc\r\n');
    expect(r.data.toString()).toBe("-ERR unknown command 'FOOBARX', with args beginning with: 'a' 'bc' \r\n");
    const r2 = await send('*1\r\n$4\r\nNOPE\r\n');
    expect(r2.data.toString()).toBe("-ERR unknown command 'NOPE', with args beginning with: \r\n");
  });

  it('wrong arity and unknown subcommand', async () => {
    expect((await send('*1\r\n$3\r\nGET\r\n')).data.toString()).toBe("-ERR wrong number of arguments for 'get' command\r\n");
    expect((await send('*2\r\n$6\r\nCLIENT\r\n$3\r\nFOO\r\n')).data.toString()).toBe("-ERR unknown subcommand 'FOO'. Try CLIENT HELP.\r\n");
    expect((await send('*2\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n')).data.toString()).toBe("-ERR wrong number of arguments for 'config|get' command\r\n");
  });

  it('protocol errors reply then close; the server stays up', async () => {
    const cases: Array<[string, string]> = [
      ['*abc\r\n', '-ERR Protocol error: invalid multibulk length\r\n'],
      ['*1\r\n+foo\r\n', "-ERR Protocol error: expected '$', got '+'\r\n"],
      ['*1\r\n$-5\r\n', '-ERR Protocol error: invalid bulk length\r\n'],
      ['*1\r\n$999999999\r\n', '-ERR Protocol error: invalid bulk length\r\n'],
      ['ECHO "unbalanced\r\n', '-ERR Protocol error: unbalanced quotes in request\r\n'],
    ];
    for (const [payload, expected] of cases) {
      const r = await rawExchange(node.port, payload, () => false);
      expect(r.data.toString()).toBe(expected);
      expect(r.closed).toBe(true);
    }
    await alive();
  });

  it('an inline line over 64 KiB is refused', async () => {
    const r = await rawExchange(node.port, 'A'.repeat(70 * 1024), () => false);
    expect(r.data.toString()).toBe('-ERR Protocol error: too big inline request\r\n');
    await alive();
  });

  it.each(['\x00', '*\x00', '$\x00'])('a client that goes on writing after a protocol error (%j) is cut off, not left half-open', async (start) => {
    // Half-open allowed, as a plain socket in most languages: the server's FIN alone ends nothing.
    const socket = net.connect({ port: node.port, host: '127.0.0.1', allowHalfOpen: true });
    let received = '';
    socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
    const failed = new Promise<string>((resolve) => {
      socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(start);
    const chunk = 'payload'.repeat(1024);
    // Keep writing, as a desynchronised client does, until the server's close makes writes fail.
    const deadline = Date.now() + 10_000;
    let outcome: string | undefined;
    void failed.then((o) => (outcome = o));
    while (outcome === undefined && Date.now() < deadline) {
      socket.write(chunk);
      await new Promise((r) => setTimeout(r, 5));
    }
    socket.destroy();
    expect(outcome, 'the connection was never closed').toBeDefined();
    expect(received).toMatch(/^-ERR Protocol error: too big (inline request|mbulk count string)\r\n/);
    await alive();
  });

  it('a client over the query buffer limit is closed without a reply', async () => {
    // One 6 MiB argument is within proto-max-bulk-len (8 MiB) but over the 4 MiB query buffer limit.
    const payload = '*3\r\n$3\r\nSET\r\n$1\r\nq\r\n$6291456\r\n' + 'x'.repeat(6291456) + '\r\n';
    const r = await rawExchange(node.port, payload, () => false, 15000);
    expect(r.data.length).toBe(0);
    expect(r.closed).toBe(true);
    await alive();
  });

  it('cross-protocol requests (HTTP POST) are dropped silently', async () => {
    const r = await rawExchange(node.port, 'POST / HTTP/1.1\r\nHost: x\r\n\r\n', () => false);
    expect(r.data.length).toBe(0);
    expect(r.closed).toBe(true);
  });
});

describe('HELLO and RESP3', () => {
  it('HELLO 3 answers a map and switches protocol for that reply', async () => {
    const r = await rawExchange(node.port, '*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n*2\r\n$3\r\nGET\r\n$7\r\nnothere\r\n', (d) => d.toString().endsWith('_\r\n'));
    const text = r.data.toString();
    expect(text.startsWith('%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n')).toBe(true);
    expect(text).toContain('$5\r\nproto\r\n:3\r\n');
    expect(text).toContain('$4\r\nmode\r\n$10\r\nstandalone\r\n');
    expect(text).toContain('$7\r\nmodules\r\n*0\r\n');
    expect(text.endsWith('_\r\n')).toBe(true);
  });

  it('HELLO errors', async () => {
    expect((await send('HELLO 4\r\n')).data.toString()).toBe('-NOPROTO unsupported protocol version\r\n');
    expect((await send('HELLO x\r\n')).data.toString()).toBe('-ERR Protocol version is not an integer or out of range\r\n');
    expect((await send('HELLO 3 FOO\r\n')).data.toString()).toBe("-ERR Syntax error in HELLO option 'FOO'\r\n");
  });

  it('RESP3 types: null, map, double-less bulk for INCRBYFLOAT, verbatim INFO', async () => {
    const r = await rawExchange(node.port, 'HELLO 3\r\nHSET r3h f v\r\nHGETALL r3h\r\nINFO server\r\n', (d) => d.includes('=') && d.toString().endsWith('\r\n') && d.toString().includes('redis_version'));
    const text = r.data.toString();
    expect(text).toContain('%1\r\n$1\r\nf\r\n$1\r\nv\r\n');
    expect(text).toMatch(/=\d+\r\ntxt:# Server\r\n/);
  });
});

describe('limits', () => {
  it('a bulk over proto-max-bulk-len is refused and the server carries on', async () => {
    const r = await rawExchange(node.port, '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$9000000\r\n', () => false);
    expect(r.data.toString()).toBe('-ERR Protocol error: invalid bulk length\r\n');
    await alive();
  });

  it('a huge declared multibulk count without data does not allocate or crash', async () => {
    const r = await rawExchange(node.port, '*2147483647\r\n$3\r\nGET\r\n', () => false, 1000).catch(() => undefined);
    expect(r === undefined || r.data.length === 0 || r.data.toString().startsWith('-ERR')).toBe(true);
    await alive();
  });
});
