/**
 * Goal: random and mutated RESP never crashes the server or grows its memory without bound.
 * Method: a seeded generator sends valid, mutated and random byte streams over many connections to a
 * real node; afterwards the node must answer PING and its RSS must stay within a fixed budget.
 * A failing seed is printed so the run can be replayed with FUZZ_SEED.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { rawExchange, startNode, type NodeProcess } from '../helpers/server.js';

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

const COMMANDS = ['SET', 'GET', 'DEL', 'HSET', 'HGETALL', 'INCR', 'EXPIRE', 'MGET', 'MSET', 'PING', 'ECHO', 'HELLO', 'CLIENT', 'CONFIG', 'COMMAND', 'SCAN', 'APPEND', 'SETRANGE', 'GETRANGE'];

function validRequest(rand: () => number): Buffer {
  const argc = 1 + Math.floor(rand() * 5);
  const args = [COMMANDS[Math.floor(rand() * COMMANDS.length)]!];
  for (let i = 1; i < argc; i++) {
    const len = Math.floor(rand() * 20);
    args.push(Array.from({ length: len }, () => String.fromCharCode(Math.floor(rand() * 256))).join(''));
  }
  let out = `*${args.length}\r\n`;
  for (const a of args) out += `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`;
  return Buffer.from(out, 'latin1');
}

function mutate(buf: Buffer, rand: () => number): Buffer {
  const b = Buffer.from(buf);
  const n = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < n; i++) {
    const pos = Math.floor(rand() * b.length);
    const choice = rand();
    if (choice < 0.4) b[pos] = Math.floor(rand() * 256);
    else if (choice < 0.7) b[pos] = '0123456789*$\r\n-'.charCodeAt(Math.floor(rand() * 15));
    else return Buffer.concat([b.subarray(0, pos), Buffer.from(`$${Math.floor(rand() * 1e12)}\r\n`), b.subarray(pos)]);
  }
  return b;
}

function rssKb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
}

function blast(port: number, payload: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(payload));
    s.on('data', () => undefined);
    s.on('close', () => resolve());
    s.on('error', () => resolve());
    setTimeout(() => {
      s.destroy();
      resolve();
    }, 2000);
  });
}

let node: NodeProcess;
beforeAll(async () => {
  node = await startNode({ args: ['--appendfsync', 'no'] });
});
afterAll(async () => {
  await node?.stop();
});

describe('RESP fuzzing', () => {
  it('survives 400 connections of random and mutated input with bounded memory', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
    const rand = rng(seed);
    const before = rssKb(node.proc.pid!);
    try {
      for (let round = 0; round < 40; round++) {
        const batch: Array<Promise<void>> = [];
        for (let c = 0; c < 10; c++) {
          const parts: Buffer[] = [];
          const count = 1 + Math.floor(rand() * 30);
          for (let i = 0; i < count; i++) {
            const kind = rand();
            if (kind < 0.5) parts.push(validRequest(rand));
            else if (kind < 0.85) parts.push(mutate(validRequest(rand), rand));
            else parts.push(Buffer.from(Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256))));
          }
          batch.push(blast(node.port, Buffer.concat(parts)));
        }
        await Promise.all(batch);
      }
      const pong = await rawExchange(node.port, 'PING\r\n', (d) => d.includes('\r\n'));
      expect(pong.data.toString()).toBe('+PONG\r\n');
      const after = rssKb(node.proc.pid!);
      expect(after - before, `RSS grew from ${before} to ${after} KiB`).toBeLessThan(200 * 1024);
    } catch (err) {
      console.error(`fuzz failure; replay with FUZZ_SEED=${seed}`);
      throw err;
    }
  });
});
