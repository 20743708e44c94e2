/**
 * Mixed-slot pipelined load for a Redis Cluster API server: many commands in flight on every
 * connection, each on a random key, so consecutive commands of one connection almost never
 * share a slot. `redis-benchmark --cluster -P` cannot make this shape: it tags each connection's
 * keys with one slot. This is what an application issuing concurrent commands through one
 * connection per node (node-redis, ioredis auto-pipelining) sends.
 *
 *   node dist/bench/lib/mixedload.js --port 7000 --test set|get|fill [--requests 100000]
 *        [--connections 50] [--depth 16] [--keyspace 100000] [--data-size 100] [--max-seconds 600]
 *
 * It reads the slot map (`CLUSTER SLOTS`) from `--port`, opens `--connections` connections spread
 * round-robin over the nodes that own slots, and gives each connection the keys
 * (`key:<12-digit index>`, index < keyspace) whose slot its node owns, so no command is redirected.
 * Each connection keeps `--depth` commands in flight: every reply lets it send one more on a fresh
 * random key, and all the commands a read from the socket frees go out in one write. `--requests`
 * commands are sent in all. `fill` SETs every key of the keyspace once instead (unmeasured: it makes
 * the later GETs hit).
 *
 * Raw RESP, no client library: the generator shares the machine's cores with the servers, and a
 * client library would spend several times the CPU per command and measure itself.
 *
 * Output, one JSON line on stdout (`MixedLoadResult`). A redirect or error reply counts as an
 * error, not a success; a lost connection or `--max-seconds` ends the run with exit code 1.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { keySlot } from '../../src/cluster/slot.js';
import { LatencyHistogram } from './histogram.js';
import type { MixedLoadResult, MixedTest } from './mixed-result.js';
import { respCommand, RespError, type RespValue } from './resp.js';

const SLOT_COUNT = 16384;
const ERROR_SAMPLES_MAX = 5;

interface Options {
  host: string;
  port: number;
  test: MixedTest;
  requests: number;
  connections: number;
  depth: number;
  keyspace: number;
  dataSize: number;
  maxSeconds: number;
}

function positive(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got ${value}`);
  return n;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string' },
      test: { type: 'string' },
      requests: { type: 'string', default: '100000' },
      connections: { type: 'string', default: '50' },
      depth: { type: 'string', default: '16' },
      keyspace: { type: 'string', default: '100000' },
      'data-size': { type: 'string', default: '100' },
      'max-seconds': { type: 'string', default: '600' },
    },
    strict: true,
  });
  if (values.port === undefined) throw new Error('--port is required');
  const test = values.test;
  if (test !== 'set' && test !== 'get' && test !== 'fill') throw new Error(`--test must be set, get or fill, got ${String(test)}`);
  return {
    host: values.host,
    port: positive('port', values.port),
    test,
    requests: positive('requests', values.requests),
    connections: positive('connections', values.connections),
    depth: positive('depth', values.depth),
    keyspace: positive('keyspace', values.keyspace),
    dataSize: positive('data-size', values['data-size']),
    maxSeconds: positive('max-seconds', values['max-seconds']),
  };
}

/** Owner ("host:port") of every slot, from CLUSTER SLOTS: each range's first node is its master. */
async function slotOwners(host: string, port: number): Promise<string[]> {
  const reply = await respCommand(host, port, ['CLUSTER', 'SLOTS'], 5000);
  if (!Array.isArray(reply)) throw new Error(`CLUSTER SLOTS on ${host}:${port}: ${reply instanceof RespError ? reply.message : JSON.stringify(reply)}`);
  const owners = new Array<string>(SLOT_COUNT).fill('');
  for (const range of reply) {
    if (!Array.isArray(range)) continue;
    const [start, end, master] = range as [RespValue, RespValue, RespValue];
    if (typeof start !== 'number' || typeof end !== 'number' || !Array.isArray(master)) continue;
    // An empty host means "the address you reached me on" (Redis 7 with no announced address).
    const nodeHost = typeof master[0] === 'string' && master[0] !== '' ? master[0] : host;
    for (let slot = start; slot <= end; slot++) owners[slot] = `${nodeHost}:${String(master[1])}`;
  }
  const unserved = owners.filter((o) => o === '').length;
  if (unserved > 0) throw new Error(`CLUSTER SLOTS on ${host}:${port} leaves ${unserved} slots without an owner`);
  return owners;
}

/**
 * End of the reply that starts at `pos`, or -1 if the buffer does not hold all of it yet. Only
 * the extent matters here, not the value: this is the hot loop of the generator.
 */
function replyEnd(buf: Buffer, pos: number): number {
  if (pos >= buf.length) return -1;
  const lineEnd = buf.indexOf(CRLF, pos + 1);
  if (lineEnd < 0) return -1;
  const type = buf[pos];
  if (type === PLUS || type === MINUS || type === COLON) return lineEnd + 2;
  const n = Number(buf.toString('latin1', pos + 1, lineEnd));
  if (type === DOLLAR) {
    if (n < 0) return lineEnd + 2;
    const end = lineEnd + 2 + n + 2;
    return end <= buf.length ? end : -1;
  }
  if (type === STAR) {
    let cursor = lineEnd + 2;
    for (let i = 0; i < n; i++) {
      cursor = replyEnd(buf, cursor);
      if (cursor < 0) return -1;
    }
    return cursor;
  }
  throw new Error(`unexpected RESP type byte ${type}`);
}
const CRLF = Buffer.from('\r\n');
const PLUS = 0x2b;
const MINUS = 0x2d;
const COLON = 0x3a;
const DOLLAR = 0x24;
const STAR = 0x2a;

/** One node's share of the keyspace, as RESP bulk strings ready to send. */
interface NodeKeys {
  address: string;
  keys: string[];
  /** Next key for `fill`. */
  cursor: number;
}

function keysByNode(owners: readonly string[], keyspace: number): Map<string, NodeKeys> {
  const nodes = new Map<string, NodeKeys>();
  for (let i = 0; i < keyspace; i++) {
    const key = `key:${String(i).padStart(12, '0')}`;
    const address = owners[keySlot(Buffer.from(key))]!;
    let node = nodes.get(address);
    if (node === undefined) {
      node = { address, keys: [], cursor: 0 };
      nodes.set(address, node);
    }
    node.keys.push(`$${key.length}\r\n${key}\r\n`);
  }
  return nodes;
}

async function main(): Promise<void> {
  const opts = parseOptions();
  const owners = await slotOwners(opts.host, opts.port);
  const nodes = [...keysByNode(owners, opts.keyspace).values()].sort((a, b) => a.address.localeCompare(b.address));
  const value = 'x'.repeat(opts.dataSize);
  const setPrefix = '*3\r\n$3\r\nSET\r\n';
  const setSuffix = `$${value.length}\r\n${value}\r\n`;
  const getPrefix = '*2\r\n$3\r\nGET\r\n';
  const fill = opts.test === 'fill';
  const total = fill ? opts.keyspace : opts.requests;

  const histogram = new LatencyHistogram();
  let latencySumUs = 0;
  let issued = 0;
  let completed = 0;
  let errors = 0;
  let misses = 0;
  const errorSamples = new Map<string, number>();
  let started = 0;
  let finish: () => void = () => undefined;
  let fail: (err: Error) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  // A failure before the run starts (a refused connection) is reported by the connect step itself.
  done.catch(() => undefined);

  const nextCommand = (node: NodeKeys): string | null => {
    let key: string;
    if (fill) {
      if (node.cursor >= node.keys.length) return null;
      key = node.keys[node.cursor++]!;
    } else {
      if (issued >= total) return null;
      key = node.keys[Math.floor(Math.random() * node.keys.length)]!;
    }
    issued++;
    return opts.test === 'get' ? getPrefix + key : setPrefix + key + setSuffix;
  };

  const sockets: net.Socket[] = [];
  const connect = (node: NodeKeys): Promise<void> => {
    const [host, portText] = [node.address.slice(0, node.address.lastIndexOf(':')), node.address.slice(node.address.lastIndexOf(':') + 1)];
    const socket = net.connect({ host, port: Number(portText) });
    socket.setNoDelay(true);
    sockets.push(socket);
    // Send times of the commands in flight, oldest first: replies come back in order.
    const sentAt: number[] = [];
    let pending: Buffer | null = null;
    const send = (count: number): void => {
      let out = '';
      const now = performance.now();
      for (let i = 0; i < count; i++) {
        const command = nextCommand(node);
        if (command === null) break;
        out += command;
        sentAt.push(now);
      }
      if (out.length > 0) socket.write(out);
    };
    socket.on('data', (chunk: Buffer) => {
      const buf: Buffer = pending === null ? chunk : Buffer.concat([pending, chunk]);
      let pos = 0;
      let replies = 0;
      const now = performance.now();
      for (;;) {
        const end = replyEnd(buf, pos);
        if (end < 0) break;
        const us = (now - (sentAt.shift() ?? now)) * 1000;
        if (buf[pos] === MINUS) {
          errors++;
          const message = buf.toString('utf8', pos + 1, end - 2).replace(/^(MOVED|ASK) \d+ /, '$1 <slot> ');
          if (errorSamples.has(message) || errorSamples.size < ERROR_SAMPLES_MAX) errorSamples.set(message, (errorSamples.get(message) ?? 0) + 1);
        } else {
          // `$-1`: GET of a missing key.
          if (buf[pos] === DOLLAR && buf[pos + 1] === MINUS) misses++;
          histogram.recordMicros(us);
          latencySumUs += us;
        }
        replies++;
        pos = end;
      }
      pending = pos < buf.length ? buf.subarray(pos) : null;
      completed += replies;
      if (completed >= issued && (fill ? nodes.every((n) => n.cursor >= n.keys.length) : issued >= total)) finish();
      else send(replies);
    });
    socket.on('error', (err) => fail(new Error(`${node.address}: ${err.message}`)));
    socket.on('close', () => {
      if (completed < issued || issued < total) fail(new Error(`${node.address} closed the connection after ${completed} replies`));
    });
    return new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    }).then(() => {
      starters.push(() => send(opts.depth));
    });
  };
  const starters: Array<() => void> = [];
  await Promise.all(Array.from({ length: opts.connections }, (_, i) => connect(nodes[i % nodes.length]!)));

  const timer = setTimeout(() => fail(new Error(`not done within ${opts.maxSeconds} s (${completed} of ${total} replies)`)), opts.maxSeconds * 1000);
  started = performance.now();
  for (const start of starters) start();
  try {
    await done;
  } finally {
    clearTimeout(timer);
    for (const socket of sockets) socket.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  const ok = completed - errors;
  const result: MixedLoadResult = {
    type: 'result',
    test: opts.test,
    requests: completed,
    ok,
    errors,
    misses,
    errorSamples: [...errorSamples.entries()],
    seconds,
    rps: ok / seconds,
    p50Ms: histogram.percentileMs(50),
    p99Ms: histogram.percentileMs(99),
    avgMs: ok > 0 ? latencySumUs / ok / 1000 : null,
    connections: opts.connections,
    depth: opts.depth,
    nodes: nodes.map((n) => n.address),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`mixedload: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
