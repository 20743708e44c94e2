import net from 'node:net';

/**
 * The container's HEALTHCHECK: PING the node on the loopback interface (which protected mode always
 * serves) and exit 0 on +PONG, 1 on anything else or after 2 s. With a password it AUTHs first; the
 * port and password come from the same RINGKV_PORT / RINGKV_REQUIREPASS the server reads. Without
 * one, -NOAUTH also counts as healthy: the node answers, its password just came from a config file.
 * Plain `net` and no client library, so the check costs one short-lived connection.
 */
const TIMEOUT_MS = 2000;
const port = Number(process.env.RINGKV_PORT ?? 6379);
const password = process.env.RINGKV_REQUIREPASS ?? '';

function bulk(parts: string[]): string {
  return `*${parts.length}\r\n` + parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('');
}

const socket = net.connect(port, '127.0.0.1');
const timer = setTimeout(() => finish(1, `no answer within ${TIMEOUT_MS} ms`), TIMEOUT_MS);
let got = '';

function finish(code: number, why: string): void {
  clearTimeout(timer);
  if (code !== 0) console.error(`unhealthy: ${why}`);
  socket.destroy();
  process.exit(code);
}

socket.on('connect', () => socket.write((password ? bulk(['AUTH', password]) : '') + bulk(['PING'])));
socket.on('data', (d: Buffer) => {
  got += d.toString('latin1');
  const lines = got.split('\r\n');
  const expected = password ? 2 : 1;
  if (lines.length <= expected) return;
  const replies = lines.slice(0, expected);
  const last = replies[expected - 1]!;
  if (last === '+PONG' || (!password && last.startsWith('-NOAUTH'))) finish(0, '');
  else finish(1, replies.join(' | '));
});
socket.on('error', (err) => finish(1, err.message));
