/**
 * Goal: ACL users are cluster-wide and durable: ACL SETUSER on one node is enforced on the others
 * within a short wait, also on a node restarted afterwards and on one that joins later; `user`
 * lines of a config file define users, and bad definitions stop the start; an aclfile round-trips
 * through ACL SAVE, a restart and ACL LOAD.
 * Method: a real 3-node cluster and a standalone node with an aclfile; clients authenticate as the
 * new user and check what they may and may not run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startCluster, waitForCluster, type TestCluster } from '../helpers/cluster.js';
import { startNode, tempDir, type NodeProcess } from '../helpers/server.js';
import { RespConn, show } from '../helpers/resp-conn.js';

async function as(port: number, user: string, pass: string, ...argv: string[]): Promise<string> {
  const c = await RespConn.connect(port);
  try {
    const [auth, reply] = await c.pipelineText([['AUTH', user, pass], argv]);
    return auth === '+OK' ? reply! : `auth: ${auth}`;
  } finally {
    c.close();
  }
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('ACL users in a cluster', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster(3);
  }, 60000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('SETUSER on one node is enforced on every node, also after a restart', async () => {
    const [a, b, c] = cluster.ports as [number, number, number];
    const admin = await RespConn.connect(a);
    try {
      expect(show(await admin.call('ACL', 'SETUSER', 'reader', 'on', '>rpw', '~*', '+get', '+cluster'))).toBe('+OK');
    } finally {
      admin.close();
    }
    for (const port of [b, c]) {
      await eventually(`reader known on ${port}`, async () => (await as(port, 'reader', 'rpw', 'ACL', 'WHOAMI')).startsWith('-NOPERM'));
      expect(await as(port, 'reader', 'rpw', 'SET', 'k', 'v')).toBe("-NOPERM this user has no permissions to run the 'set' command");
      expect(await as(port, 'reader', 'wrong', 'PING')).toMatch(/^auth: -WRONGPASS/);
    }
    // A connection authenticated as the user stays open when a change made elsewhere arrives.
    const held = await RespConn.connect(a);
    expect(await held.pipelineText([['AUTH', 'reader', 'rpw'], ['SET', '{h}1', 'v']])).toEqual(['+OK', "-NOPERM this user has no permissions to run the 'set' command"]);
    const nodeC = cluster.nodes[2]!;
    await nodeC.stop();
    // A change made while C is down reaches it after its restart.
    const admin2 = await RespConn.connect(b);
    try {
      expect(show(await admin2.call('ACL', 'SETUSER', 'reader', '+set'))).toBe('+OK');
    } finally {
      admin2.close();
    }
    try {
      await eventually('the change reaches the held connection on A', async () => !(await held.pipelineText([['SET', '{h}1', 'v']]))[0]!.startsWith('-NOPERM'));
    } finally {
      held.close();
    }
    await nodeC.restart();
    expect(await as(c, 'reader', 'rpw', 'ACL', 'WHOAMI')).toMatch(/^-NOPERM/);
    await eventually('the change made while C was down reaches C', async () => !(await as(c, 'reader', 'rpw', 'SET', '{k}1', 'v')).startsWith('-NOPERM'));
    await eventually('DELUSER reaches every node', async () => {
      const d = await RespConn.connect(c);
      try {
        await d.call('ACL', 'DELUSER', 'reader');
      } finally {
        d.close();
      }
      return (await as(a, 'reader', 'rpw', 'PING')).startsWith('auth: -WRONGPASS');
    });
  }, 90000);

  it('a script relayed to the slot\'s primary (cluster-proxy) runs as the caller\'s user there', async () => {
    const [a, b, c] = cluster.ports as [number, number, number];
    await waitForCluster(cluster.ports, 3);
    const admin = await RespConn.connect(a);
    try {
      expect(show(await admin.call('CONFIG', 'SET', 'cluster-proxy', 'yes'))).toBe('+OK');
      expect(show(await admin.call('ACL', 'SETUSER', 'scripter', 'on', '>s', '~*', '+eval', '+get'))).toBe('+OK');
      for (const port of [b, c]) await eventually(`scripter known on ${port}`, async () => !(await as(port, 'scripter', 's', 'PING')).startsWith('auth:'));
      const conn = await RespConn.connect(a);
      try {
        expect(show(await conn.call('AUTH', 'scripter', 's'))).toBe('+OK');
        // Twenty keys: some have their primary on B or C, so their scripts are relayed there. A
        // node restarted by the test before may still be catching up: its transient cluster
        // errors are retried, they say nothing about permissions.
        const settled = async (argv: string[]): Promise<string> => {
          let reply = '';
          try {
            await eventually(`${argv.join(' ')} answered`, async () => !/^-(TRYAGAIN|CLUSTERDOWN|NOREPLICAS)/.test(reply = (await conn.pipelineText([argv]))[0]!));
          } catch (err) {
            // Which transient error it stayed at says where to look.
            throw new Error(`${(err as Error).message}; last reply: ${reply}`);
          }
          return reply;
        };
        for (let i = 0; i < 20; i++) {
          expect(await settled(['EVAL', "return redis.call('set', KEYS[1], 'v')", '1', `sk${i}`])).toMatch(/^-ERR The user executing the script can't run this command or subcommand script: /);
          expect(await settled(['EVAL', "return redis.call('get', KEYS[1])", '1', `sk${i}`])).toBe('nil');
        }
      } finally {
        conn.close();
      }
    } finally {
      await admin.call('CONFIG', 'SET', 'cluster-proxy', 'no');
      admin.close();
    }
  }, 60000);

  it('a node that joins later gets the users', async () => {
    const [a] = cluster.ports as [number];
    const admin = await RespConn.connect(a);
    try {
      expect(show(await admin.call('ACL', 'SETUSER', 'joiner', 'on', '>jpw', '~*', '+ping'))).toBe('+OK');
    } finally {
      admin.close();
    }
    const d = await startNode({ args: ['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000', '--cluster-seeds', `127.0.0.1:${a}`, '--appendfsync', 'everysec'] });
    try {
      await eventually('joiner known on the new node', async () => (await as(d.port, 'joiner', 'jpw', 'PING')) === '+PONG');
      expect(await as(d.port, 'joiner', 'jpw', 'GET', 'x')).toBe("-NOPERM this user has no permissions to run the 'get' command");
    } finally {
      await d.stop();
    }
  }, 60000);
});

describe('users at start-up', () => {
  it('a config file defines users with `user` lines; mixing them with aclfile, or a bad rule, stops the start', async () => {
    const dir = tempDir();
    const conf = path.join(dir, 'ringkv.conf');
    writeFileSync(conf, 'user cfg on >cpw ~c:* +get +set\nuser default on >dpw ~* &* +@all\n');
    const node = await startNode({ args: ['--config', conf, '--appendfsync', 'no'] });
    try {
      expect(await as(node.port, 'cfg', 'cpw', 'SET', 'c:1', 'v')).toBe('+OK');
      expect(await as(node.port, 'cfg', 'cpw', 'SET', 'x', 'v')).toMatch(/^-NOPERM/);
      expect(await as(node.port, 'default', 'dpw', 'PING')).toBe('+PONG');
    } finally {
      await node.stop();
    }
    const acl = path.join(dir, 'users.acl');
    writeFileSync(acl, 'user x on\n');
    await expect(startNode({ args: ['--config', conf, '--aclfile', acl] })).rejects.toThrow(/users are defined both by `user` lines and by aclfile/);
    await expect(startNode({ args: ['--user', 'bad on +nosuch'] })).rejects.toThrow(/Error loading ACL rule '\+nosuch' for the user named 'bad': Unknown command or category name in ACL/);
    writeFileSync(acl, 'user x on bogus\n');
    await expect(startNode({ args: ['--aclfile', acl] })).rejects.toThrow(/users\.acl:1: Syntax error/);
  }, 60000);
});

describe('aclfile', () => {
  let node: NodeProcess;
  let file: string;
  beforeAll(async () => {
    const dir = tempDir();
    file = path.join(dir, 'users.acl');
    writeFileSync(file, 'user default on nopass ~* &* +@all\nuser ann on >apw ~a* +get\n');
    node = await startNode({ args: ['--aclfile', file, '--appendfsync', 'no'] });
  });
  afterAll(async () => {
    await node?.stop();
  });

  it('loads at start, saves, survives a restart and reloads edits with ACL LOAD', async () => {
    expect(await as(node.port, 'ann', 'apw', 'GET', 'a1')).toBe('nil');
    expect(await as(node.port, 'ann', 'apw', 'GET', 'b1')).toMatch(/^-NOPERM/);
    const c = await RespConn.connect(node.port);
    try {
      expect(show(await c.call('ACL', 'SETUSER', 'bo', 'on', '>bpw', '%R~b*', '+@read'))).toBe('+OK');
      expect(show(await c.call('ACL', 'SAVE'))).toBe('+OK');
    } finally {
      c.close();
    }
    const saved = readFileSync(file, 'latin1');
    expect(saved).toContain('user bo on #');
    expect(saved).toContain(' %R~b* resetchannels -@all +@read');
    await node.stop();
    await node.restart();
    expect(await as(node.port, 'bo', 'bpw', 'GET', 'b1')).toBe('nil');
    writeFileSync(file, saved.replace(/^user ann .*$/m, 'user ann on >apw2 ~* +@all'));
    const d = await RespConn.connect(node.port);
    try {
      expect(show(await d.call('ACL', 'LOAD'))).toBe('+OK');
      writeFileSync(file, 'user ann on bogus\n');
      expect(show(await d.call('ACL', 'LOAD'))).toMatch(/^-ERR .*users\.acl:1: Syntax error\. WARNING: ACL errors detected/);
    } finally {
      d.close();
    }
    expect(await as(node.port, 'ann', 'apw2', 'SET', 'x', 'y')).toBe('+OK');
  }, 60000);
});
