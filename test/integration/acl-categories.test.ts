/**
 * Goal: every command's ACL categories are Redis 7.0's, so +@read, -@dangerous … allow and deny
 * the same commands on ringkv as on Redis.
 * Method: ACL CAT <category> on redis-server 7.0 and on ringkv for every category, each list
 * restricted to the commands (and subcommands) both servers implement, compared as sets.
 */
import { describe, expect, it } from 'vitest';
import { nodeBesideRedis } from '../helpers/beside-redis.js';
import { haveRedisServer } from '../helpers/redis-reference.js';
import { RespConn, type Reply } from '../helpers/resp-conn.js';

function names(r: Reply): string[] {
  if (r.t !== 'array') throw new Error(`not an array: ${r.t}`);
  return r.v.map((x) => (x.t === 'bulk' ? x.v.toString() : ''));
}

/** Every command and subcommand name the server's COMMAND reply lists (subcommands in field 10). */
async function commandNames(port: number): Promise<Set<string>> {
  const c = await RespConn.connect(port);
  try {
    const out = new Set<string>();
    const walk = (entry: Reply): void => {
      if (entry.t !== 'array') return;
      const name = entry.v[0];
      if (name?.t === 'bulk') out.add(name.v.toString());
      const subs = entry.v[9];
      if (subs?.t === 'array') subs.v.forEach(walk);
    };
    const all = await c.call('COMMAND');
    if (all.t === 'array') all.v.forEach(walk);
    return out;
  } finally {
    c.close();
  }
}

async function catalogue(port: number): Promise<Map<string, Set<string>>> {
  const c = await RespConn.connect(port);
  try {
    const cats = names(await c.call('ACL', 'CAT'));
    const out = new Map<string, Set<string>>();
    for (const cat of cats) out.set(cat, new Set(names(await c.call('ACL', 'CAT', cat))));
    return out;
  } finally {
    c.close();
  }
}

describe.skipIf(!haveRedisServer)('ACL categories vs redis-server 7.0', () => {
  const both = nodeBesideRedis();

  it('ACL CAT lists the same commands per category, for the commands both have', async () => {
    const [theirs, ours] = await Promise.all([catalogue(both.ref.ports[0]!), catalogue(both.node.port)]);
    expect([...ours.keys()]).toEqual([...theirs.keys()]);
    // Commands and subcommands both servers have, whatever their categories (one with none in
    // ringkv would be in no list at all).
    const [theirAll, ourAll] = await Promise.all([commandNames(both.ref.ports[0]!), commandNames(both.node.port)]);
    const differences: string[] = [];
    for (const [cat, theirSet] of theirs) {
      const ourSet = ours.get(cat)!;
      for (const c of theirSet) if (ourAll.has(c) && !ourSet.has(c)) differences.push(`${c}: missing @${cat}`);
      for (const c of ourSet) if (theirAll.has(c) && !theirSet.has(c)) differences.push(`${c}: extra @${cat}`);
    }
    expect(differences.sort()).toEqual([]);
    // The comparison covers the table: far more than a handful of commands are shared.
    expect([...ourAll].filter((c) => theirAll.has(c)).length).toBeGreaterThan(250);
  });
});
