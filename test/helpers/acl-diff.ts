/**
 * Runs one scripted ACL session against a server: named connections, each step a command on one
 * of them, every reply rendered and normalised where Redis's own output is not reproducible (ACL
 * LOG ages and client-info, GENPASS randomness, the order of single-command rules, which Redis
 * takes from its hash table).
 */
import { RespConn, show, type Reply } from './resp-conn.js';

export type Norm = 'log' | 'genpass' | 'rules' | 'hello' | 'nocommands';
export interface AclStep {
  conn: string;
  argv: string[];
  norm?: Norm;
}

/** Command rules text with its single-command rules sorted (categories keep their order). */
function sortRules(text: string): string {
  return text.replace(/(^|\s)([+-]@all(?: [+-]@[a-z]+)*)((?: [+-][^@ )][^ )]*)+)/g, (_m, lead: string, cats: string, singles: string) =>
    `${lead}${cats} ${singles.trim().split(' ').sort().join(' ')}`);
}

function normalise(r: Reply, norm: Norm | undefined): Reply {
  if (norm === undefined) return r;
  if (norm === 'nocommands') {
    // GETUSER without its command rules texts: built from categories, they are chosen over the
    // whole command table, which ringkv has fewer of (the permissions themselves are compared by
    // ACL DRYRUN).
    const walk = (x: Reply): Reply => {
      if (x.t === 'map') return { t: 'map', v: x.v.map(([k, v]) => [k, k.t === 'bulk' && k.v.toString() === 'commands' ? { t: 'simple', v: 'rules' } : walk(v)] as [Reply, Reply]) };
      if (x.t === 'array') {
        return { t: 'array', v: x.v.map((v, i) => {
          const k = x.v[i - 1];
          return i % 2 === 1 && k?.t === 'bulk' && k.v.toString() === 'commands' ? { t: 'simple', v: 'rules' } as Reply : walk(v);
        }) };
      }
      return x;
    };
    return walk(r);
  }
  if (norm === 'genpass' && r.t === 'bulk') return { t: 'bulk', v: Buffer.from(`<${r.v.length} hex chars: ${/^[0-9a-f]*$/.test(r.v.toString())}>`) };
  if (norm === 'rules') {
    const walk = (x: Reply): Reply => {
      if (x.t === 'bulk') return { t: 'bulk', v: Buffer.from(sortRules(x.v.toString('latin1')), 'latin1') };
      if (x.t === 'array' || x.t === 'set' || x.t === 'push') return { t: x.t, v: x.v.map(walk) };
      if (x.t === 'map') return { t: 'map', v: x.v.map(([k, v]) => [k, walk(v)] as [Reply, Reply]) };
      return x;
    };
    return walk(r);
  }
  if (norm === 'log' && (r.t === 'array')) {
    return {
      t: 'array', v: r.v.map((e) => {
        const pairs: Array<[Reply, Reply]> = e.t === 'map' ? e.v : e.t === 'array' ? pairsOf(e.v) : [];
        return { t: 'map', v: pairs.map(([k, v]) => {
          const key = k.t === 'bulk' ? k.v.toString() : '';
          if (key === 'age-seconds') return [k, { t: 'simple', v: 'age' }] as [Reply, Reply];
          if (key === 'client-info') {
            const user = v.t === 'bulk' ? /user=(\S+)/.exec(v.v.toString())?.[1] : undefined;
            return [k, { t: 'simple', v: `client user=${user}` }] as [Reply, Reply];
          }
          return [k, v] as [Reply, Reply];
        }) };
      }),
    };
  }
  if (norm === 'hello' && (r.t === 'map' || r.t === 'array')) {
    const pairs = r.t === 'map' ? r.v : pairsOf(r.v);
    const proto = pairs.find(([k]) => k.t === 'bulk' && k.v.toString() === 'proto');
    return { t: 'simple', v: `hello proto=${proto ? show(proto[1]) : '?'}` };
  }
  return r;
}

function pairsOf(items: Reply[]): Array<[Reply, Reply]> {
  const out: Array<[Reply, Reply]> = [];
  for (let i = 0; i + 1 < items.length; i += 2) out.push([items[i]!, items[i + 1]!]);
  return out;
}

/** Plays `steps` against the server on `port`; returns one rendered line per step. */
export async function playAclSteps(port: number, steps: readonly AclStep[]): Promise<string[]> {
  const conns = new Map<string, RespConn>();
  const lines: string[] = [];
  try {
    for (const step of steps) {
      let c = conns.get(step.conn);
      if (c === undefined) {
        c = await RespConn.connect(port);
        conns.set(step.conn, c);
      }
      let text: string;
      try {
        const [reply] = await c.pipeline([step.argv], 5000);
        text = show(normalise(reply!, step.norm));
      } catch (err) {
        text = `connection failed: ${(err as Error).message.split(':')[0]}`;
        conns.delete(step.conn);
      }
      lines.push(`${step.conn}> ${step.argv.join(' ')} => ${text}`);
    }
  } finally {
    for (const c of conns.values()) c.close();
  }
  return lines;
}
