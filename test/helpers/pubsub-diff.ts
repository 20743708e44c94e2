/**
 * Lockstep pub/sub scenarios for differential tests: several connections to one server, each step
 * one pipelined write on one connection; after each step every connection is read up to the reply
 * of a PING sent behind it, so every reply and every message a step caused is collected, in
 * order, without waiting on timers. Used with redis-server and with ringkv, then compared.
 */
import { RespConn, show, type Reply } from './resp-conn.js';
import { mulberry32 } from '../sim/prng.js';

export interface PubSubStep {
  conn: number;
  commands: string[][];
}

const FRAME_WORDS = new Set(['message', 'pmessage', 'smessage', 'subscribe', 'psubscribe', 'ssubscribe', 'unsubscribe', 'punsubscribe', 'sunsubscribe']);

function isPong(r: Reply): boolean {
  if (r.t === 'simple') return r.v === 'PONG';
  return (r.t === 'array' || r.t === 'push') && r.v.length === 2 && r.v[0]!.t === 'bulk' && r.v[0]!.v.toString() === 'pong' && r.v[1]!.t === 'bulk' && r.v[1]!.v.length === 0;
}

function frameWord(r: Reply): string | undefined {
  if ((r.t !== 'array' && r.t !== 'push') || r.v.length === 0 || r.v[0]!.t !== 'bulk') return undefined;
  const w = r.v[0]!.v.toString();
  return FRAME_WORDS.has(w) ? w : undefined;
}

/**
 * Rendered replies with what Redis leaves unordered put in order: runs of adjacent messages (a
 * channel's subscribers and its patterns are walked in hash order) and lists of bulk strings
 * (PUBSUB CHANNELS) are sorted.
 */
export function normalize(replies: readonly Reply[]): string[] {
  const out: string[] = [];
  let run: string[] = [];
  const flush = (): void => {
    out.push(...run.sort());
    run = [];
  };
  for (const r of replies) {
    const word = frameWord(r);
    if (word === 'message' || word === 'pmessage' || word === 'smessage') {
      run.push(show(r));
      continue;
    }
    flush();
    if (word === undefined && r.t === 'array' && r.v.every((x) => x.t === 'bulk')) out.push(show({ t: 'array', v: [...r.v].sort((x, y) => show(x).localeCompare(show(y))) }));
    else out.push(show(r));
  }
  flush();
  return out;
}

/** Reads one connection's replies up to and including the PONG of the PING sent last. */
async function readToPong(conn: RespConn): Promise<Reply[]> {
  const got: Reply[] = [];
  for (;;) {
    const [r] = await conn.read(1, 10000);
    if (isPong(r!)) return got;
    got.push(r!);
  }
}

/** Runs the steps on one server; returns per step the normalized replies of every connection. */
export async function runPubSubScenario(port: number, protocols: ReadonlyArray<2 | 3>, steps: readonly PubSubStep[]): Promise<string[][][]> {
  const conns: RespConn[] = [];
  try {
    for (const proto of protocols) {
      const c = await RespConn.connect(port);
      conns.push(c);
      if (proto === 3) await c.call('HELLO', '3');
    }
    const transcript: string[][][] = [];
    for (const step of steps) {
      conns[step.conn]!.send([...step.commands, ['PING']]);
      const own = await readToPong(conns[step.conn]!);
      const all: string[][] = [];
      for (let i = 0; i < conns.length; i++) {
        if (i === step.conn) {
          all.push(normalize(own));
          continue;
        }
        conns[i]!.send([['PING']]);
        all.push(normalize(await readToPong(conns[i]!)));
      }
      transcript.push(all);
    }
    return transcript;
  } finally {
    for (const c of conns) c.close();
  }
}

const CHANNELS = ['a', 'b', 'ab', 'news.1', 'news.2', 'hello', 'hallo', 'h[e]llo', '{t}x', ''];
const PATTERNS = ['*', 'a*', 'news.*', '?b', 'h[ae]llo', 'h[^e]llo', 'h\\[e\\]llo', '[a-c]*', 'news.?', 'x'];

/**
 * A seeded scenario over `conns` connections. A model of each connection's subscriptions keeps
 * UNSUBSCRIBE without arguments to connections with at most one subscription of the kind: with
 * more, Redis answers in its hash table's order.
 */
export function generatePubSubSteps(seed: number, conns: number, count: number): PubSubStep[] {
  const rand = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const some = <T>(xs: readonly T[], max: number): T[] => Array.from({ length: 1 + Math.floor(rand() * max) }, () => pick(xs));
  const subs = Array.from({ length: conns }, () => ({ channel: new Set<string>(), pattern: new Set<string>(), shard: new Set<string>() }));
  const steps: PubSubStep[] = [];
  for (let i = 0; i < count; i++) {
    const conn = Math.floor(rand() * conns);
    const s = subs[conn]!;
    const commands: string[][] = [];
    const n = 1 + Math.floor(rand() * 3);
    for (let j = 0; j < n; j++) {
      const x = rand();
      const kindCmd = (kind: 'channel' | 'pattern' | 'shard', sub: string, unsub: string, names: readonly string[]): void => {
        if (rand() < 0.6) {
          const chosen = some(names, 3);
          for (const c of chosen) s[kind].add(c);
          commands.push([sub, ...chosen]);
        } else if (rand() < 0.7 || s[kind].size > 1) {
          const chosen = some(names, 2);
          for (const c of chosen) s[kind].delete(c);
          commands.push([unsub, ...chosen]);
        } else {
          s[kind].clear();
          commands.push([unsub]);
        }
      };
      if (x < 0.16) kindCmd('channel', 'SUBSCRIBE', 'UNSUBSCRIBE', CHANNELS);
      else if (x < 0.26) kindCmd('pattern', 'PSUBSCRIBE', 'PUNSUBSCRIBE', PATTERNS);
      else if (x < 0.34) kindCmd('shard', 'SSUBSCRIBE', 'SUNSUBSCRIBE', CHANNELS);
      else if (x < 0.58) commands.push(['PUBLISH', pick(CHANNELS), `m${i}.${j}`]);
      else if (x < 0.64) commands.push(['SPUBLISH', pick(CHANNELS), `s${i}.${j}`]);
      else if (x < 0.68) commands.push(['PUBSUB', 'NUMSUB', ...some(CHANNELS, 3)]);
      else if (x < 0.70) commands.push(['PUBSUB', 'SHARDNUMSUB', ...some(CHANNELS, 2)]);
      else if (x < 0.72) commands.push(['PUBSUB', 'NUMPAT']);
      else if (x < 0.75) commands.push(rand() < 0.5 ? ['PUBSUB', 'CHANNELS'] : ['PUBSUB', 'CHANNELS', pick(PATTERNS)]);
      else if (x < 0.77) commands.push(rand() < 0.5 ? ['PUBSUB', 'SHARDCHANNELS'] : ['PUBSUB', 'SHARDCHANNELS', pick(PATTERNS)]);
      else if (x < 0.82) commands.push(['GET', 'k']);
      else if (x < 0.85) commands.push(['SET', 'k', String(i)]);
      else if (x < 0.88) commands.push(['PING', `p${i}`]);
      else if (x < 0.89) {
        commands.push(['RESET']);
        s.channel.clear();
        s.pattern.clear();
        s.shard.clear();
      } else if (x < 0.91) commands.push(pick([['SUBSCRIBE'], ['PSUBSCRIBE'], ['SSUBSCRIBE'], ['PUBLISH', 'a'], ['SPUBLISH', 'a', 'b', 'c'], ['PUBSUB', 'NUMPAT', 'x'], ['PUBSUB', 'NOPE'], ['PUBSUB', 'CHANNELS', 'a', 'b']]));
      // Inside EXEC's array a RESP3 client's own messages arrive as pushes; `zz` matches only the
      // pattern `*`, so their order is not Redis's hash order.
      else if (x < 0.93) {
        // Subscribed either way: queued and run by EXEC, or run at once where subscribed mode refuses MULTI.
        const channel = pick(CHANNELS);
        s.channel.add(channel);
        commands.push(['MULTI'], ['SUBSCRIBE', channel], ['PUBLISH', 'zz', 'tx'], ['EXEC']);
      }
      else if (x < 0.95) commands.push(['ECHO', 'e']);
      else commands.push(['CLIENT', 'GETNAME']);
    }
    steps.push({ conn, commands });
  }
  return steps;
}
