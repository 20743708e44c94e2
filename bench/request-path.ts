/**
 * The single-node request path in one process, without the network: a node opened as `ringkv
 * server` opens it, 50 connections on in-memory sockets, each handed one read of 16 pipelined
 * commands per event-loop turn (what redis-benchmark -c 50 -P 16 sends), then the turn ends so the
 * commit log writes its group and the replies go out. It reports the process's CPU time per request
 * and the main thread's alone. No client shares the cores and no socket system call is made, so on a
 * shared machine it varies far less than `npm run bench`; socket costs are not in it.
 *
 *   npm run build && node dist/bench/request-path.js --test set|get [--turns N] [--appendfsync no]
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/core/config.js';
import { createLogger } from '../src/core/logger.js';
import { RingkvNode } from '../src/server/node.js';

const { values: args } = parseArgs({
  options: {
    test: { type: 'string', default: 'set' },
    turns: { type: 'string', default: '800' },
    appendfsync: { type: 'string', default: 'no' },
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
  write(bytes: Buffer): boolean {
    this.bytesWritten += bytes.length;
    return true;
  }
}

/** 16 commands on random keys of the keyspace, as redis-benchmark -r 100000 names them. */
function read(test: string): Buffer {
  let s = '';
  for (let i = 0; i < DEPTH; i++) {
    const key = `key:${String(Math.floor(Math.random() * KEYSPACE)).padStart(12, '0')}`;
    s += test === 'set' ? `*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$${VALUE.length}\r\n${VALUE}\r\n` : `*2\r\n$3\r\nGET\r\n$${key.length}\r\n${key}\r\n`;
  }
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
  // Fill the keyspace and let V8 compile the path, unmeasured.
  await run(300, () => read('set'));
  await run(300, (t, c) => reads[(t * CONNECTIONS + c) & 4095]!);
  const turns = Number(args.turns);
  const ticks0 = mainThreadTicks();
  const cpu0 = process.cpuUsage();
  await run(turns, (t, c) => reads[(t * CONNECTIONS + c) & 4095]!);
  const cpu = process.cpuUsage(cpu0);
  const ticks = mainThreadTicks() - ticks0;
  const requests = turns * CONNECTIONS * DEPTH;
  console.log(JSON.stringify({
    test: args.test,
    requests,
    cpuUsPerRequest: Number(((cpu.user + cpu.system) / requests).toFixed(2)),
    mainThreadUsPerRequest: Number(((ticks * 10_000) / requests).toFixed(2)),
  }));
  await node.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

await main();
