/**
 * The single-node request path in one process, without the network: a node opened as `ringkv
 * server` opens it, 50 connections on in-memory sockets, each handed one read of 16 pipelined
 * commands per event-loop turn (what redis-benchmark -c 50 -P 16 sends), then the turn ends so the
 * commit log writes its group and the replies go out. It reports the process's CPU time per request
 * and the main thread's alone. No client shares the cores and no socket system call is made, so on a
 * shared machine it varies far less than `npm run bench`; socket costs are not in it.
 *
 *   npm run build && node dist/bench/request-path.js --test set|get|sadd|spop|... [--turns N] [--fill TURNS]
 *     [--appendfsync no] [--info TEXT (prints INFO's lines holding TEXT)]
 *     [--heap-sample FILE (a sampling heap profile of the measured turns, collected garbage included:
 *      what each allocation site allocates per request; open it in Chrome's DevTools)]
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { Session } from 'node:inspector/promises';
import { loadConfig } from '../src/core/config.js';
import { createLogger } from '../src/core/logger.js';
import { RingkvNode } from '../src/server/node.js';

const { values: args } = parseArgs({
  options: {
    test: { type: 'string', default: 'set' },
    turns: { type: 'string', default: '800' },
    appendfsync: { type: 'string', default: 'no' },
    fill: { type: 'string' },
    info: { type: 'string' },
    'heap-sample': { type: 'string' },
  },
});
const CONNECTIONS = 50;
const DEPTH = 16;
const KEYSPACE = 100_000;
const VALUE = 'x'.repeat(100);

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The parts of a net.Socket a Connection uses; writes are counted and dropped. */
class MemorySocket extends EventEmitter {
  remoteAddress = '127.0.0.1';
  remotePort = 1;
  localAddress = '127.0.0.1';
  localPort = 2;
  writableLength = 0;
  bytesWritten = 0;
  setNoDelay(): void {}
  setKeepAlive(): void {}
  cork(): void {}
  uncork(): void {}
  pause(): void {}
  resume(): void {}
  destroy(): void {}
  end(): void {}
  /** What was written last (an INFO reply asked for at the end). */
  last: Buffer = Buffer.alloc(0);
  write(bytes: Buffer): boolean {
    this.bytesWritten += bytes.length;
    this.last = bytes;
    return true;
  }
}

/** A command in RESP. */
function resp(...args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

const rand = (): string => String(Math.floor(Math.random() * KEYSPACE)).padStart(12, '0');

/**
 * What each test sends, as redis-benchmark -r 100000 names keys and elements, and what fills the
 * data it reads first (SPOP pops what SADD added, as redis-benchmark's default run does).
 */
const TESTS: Record<string, { fill?: string; command: () => string }> = {
  set: { command: () => resp('SET', `key:${rand()}`, VALUE) },
  get: { fill: 'set', command: () => resp('GET', `key:${rand()}`) },
  sadd: { command: () => resp('SADD', 'myset', `element:${rand()}`) },
  spop: { fill: 'sadd', command: () => resp('SPOP', 'myset') },
  srandmember: { fill: 'sadd', command: () => resp('SRANDMEMBER', 'myset') },
  sismember: { fill: 'sadd', command: () => resp('SISMEMBER', 'myset', `element:${rand()}`) },
  zadd: { command: () => resp('ZADD', 'myzset', rand(), `element:${rand()}`) },
  zpopmin: { fill: 'zadd', command: () => resp('ZPOPMIN', 'myzset') },
  hset: { command: () => resp('HSET', 'myhash', `element:${rand()}`, VALUE) },
  lpush: { command: () => resp('LPUSH', 'mylist', VALUE) },
  lpop: { fill: 'lpush', command: () => resp('LPOP', 'mylist') },
  lrange: { fill: 'lpush', command: () => resp('LRANGE', 'mylist', '0', '99') },
};

/** 16 commands of one test, on random keys or elements. */
function read(test: string): Buffer {
  const t = TESTS[test];
  if (t === undefined) throw new Error(`unknown test ${test}; one of ${Object.keys(TESTS).join(' ')}`);
  let s = '';
  for (let i = 0; i < DEPTH; i++) s += t.command();
  return Buffer.from(s);
}

/** utime + stime of the main thread, in clock ticks (10 ms). */
function mainThreadTicks(): number {
  const fields = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

const endOfTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringkv-request-path-'));
  // Port 0 is refused (no client could connect); the node gets a free port it never listens on here.
  const config = loadConfig(['--port', String(await freePort()), '--dir', dir, '--appendfsync', args.appendfsync], {});
  const node = await RingkvNode.open(config, createLogger({ loglevel: 'warning' }));
  // accept() is how the listener hands the node a socket; the node does not care where it came from.
  const accept = (node as unknown as { accept(socket: MemorySocket): void }).accept.bind(node);
  const sockets = Array.from({ length: CONNECTIONS }, () => {
    const s = new MemorySocket();
    accept(s);
    return s;
  });
  const reads = Array.from({ length: 4096 }, () => read(args.test));
  const run = async (turns: number, source: (t: number, c: number) => Buffer): Promise<void> => {
    for (let t = 0; t < turns; t++) {
      for (let c = 0; c < CONNECTIONS; c++) sockets[c]!.emit('data', source(t, c));
      await endOfTurn();
      await endOfTurn();
    }
  };
  // Fill what the test reads and let V8 compile the path, unmeasured. A test that empties what it
  // reads (SPOP, LPOP) is filled again after its warm-up.
  const fill = TESTS[args.test]?.fill ?? 'set';
  await run(300, () => read(fill));
  await run(300, (t, c) => reads[(t * CONNECTIONS + c) & 4095]!);
  if (args.fill !== undefined) await run(Number(args.fill), () => read(fill));
  /** INFO's numeric fields whose names hold --info's text. */
  const info = async (): Promise<Map<string, number>> => {
    sockets[0]!.emit('data', Buffer.from(resp('INFO', 'everything')));
    await endOfTurn();
    const out = new Map<string, number>();
    for (const line of sockets[0]!.last.toString().split('\r\n')) {
      const [name, value] = line.split(':');
      if (name !== undefined && value !== undefined && name.includes(args.info!) && Number.isFinite(Number(value))) out.set(name, Number(value));
    }
    return out;
  };
  const info0 = args.info === undefined ? undefined : await info();
  const turns = Number(args.turns);
  // Garbage is what the scavenges pay for: keep the samples of collected objects too.
  const profiler = args['heap-sample'] === undefined ? undefined : new Session();
  if (profiler !== undefined) {
    profiler.connect();
    await profiler.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
  }
  const ticks0 = mainThreadTicks();
  const cpu0 = process.cpuUsage();
  await run(turns, (t, c) => reads[(t * CONNECTIONS + c) & 4095]!);
  const cpu = process.cpuUsage(cpu0);
  const ticks = mainThreadTicks() - ticks0;
  if (profiler !== undefined) {
    const { profile } = await profiler.post('HeapProfiler.stopSampling');
    fs.writeFileSync(args['heap-sample']!, JSON.stringify(profile));
    profiler.disconnect();
  }
  const requests = turns * CONNECTIONS * DEPTH;
  console.log(JSON.stringify({
    test: args.test,
    requests,
    cpuUsPerRequest: Number(((cpu.user + cpu.system) / requests).toFixed(2)),
    mainThreadUsPerRequest: Number(((ticks * 10_000) / requests).toFixed(2)),
  }));
  if (info0 !== undefined) {
    // How INFO's counters holding --info's text moved during the measured turns (--info range_:
    // the store's range-scan counters), per request.
    const info1 = await info();
    for (const [name, v] of info1) {
      const d = v - (info0.get(name) ?? 0);
      if (d !== 0) console.log(`${name} ${d} (${(d / requests).toFixed(3)}/req)`);
    }
  }
  await node.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

await main();
