/**
 * Goal: ACL users behave as in redis-server 7.0: ACL SETUSER / GETUSER / LIST / USERS / DELUSER /
 * DRYRUN / LOG replies and errors, AUTH as named users, NOPERM for commands, keys (%R~ / %W~) and
 * channels, selectors, MULTI, and the default user tied to its password.
 * Method: the same scripted session (several named connections) is played on a redis-server 7.0
 * and on one ringkv node; every reply is compared, normalised only where Redis's output is not
 * reproducible (ACL LOG age and client-info, GENPASS, the order of single-command rules).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveRedisServer, startRedisServer, type RedisReference } from '../helpers/redis-reference.js';
import { startNode, type NodeProcess } from '../helpers/server.js';
import { playAclSteps, type AclStep } from '../helpers/acl-diff.js';

const a = (conn: string, ...argv: string[]): AclStep => ({ conn, argv });
const n = (norm: AclStep['norm'], conn: string, ...argv: string[]): AclStep => ({ conn, argv, norm });

const SCENARIOS: Record<string, AclStep[]> = {
  'users, rules and their descriptions': [
    n('rules', 'admin', 'ACL', 'GETUSER', 'default'),
    a('admin', 'ACL', 'SETUSER', 'alice', 'on', '>p1', '~foo*', '%R~r*', '%W~w*', '&ch*', '+get', '+set', '+lpush', '+del', '+publish', '+subscribe', '+psubscribe'),
    n('rules', 'admin', 'ACL', 'GETUSER', 'alice'),
    n('rules', 'admin', 'ACL', 'LIST'),
    a('admin', 'ACL', 'USERS'),
    a('admin', 'ACL', 'WHOAMI'),
    a('admin', 'ACL', 'SETUSER', 'alice', '<p1', '>p2', '#5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8', '%RW~rw*'),
    n('rules', 'admin', 'ACL', 'GETUSER', 'alice'),
    a('admin', 'ACL', 'SETUSER', 'alice', '!5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8'),
    a('admin', 'ACL', 'SETUSER', 'u2', 'reset', '+@all', '-get', '-config|get', 'allkeys', 'allchannels', 'nopass', 'skip-sanitize-payload'),
    n('rules', 'admin', 'ACL', 'GETUSER', 'u2'),
    a('admin', 'ACL', 'SETUSER', 'u3', '-@all', '+config|get', '+select|0', '+select|1', '+GET', '+Get', '-get'),
    n('rules', 'admin', 'ACL', 'GETUSER', 'u3'),
    a('admin', 'ACL', 'SETUSER', 'u4', '+@all', '-@all', '+set', '(~x*', '+get)', '(&c* +publish)'),
    n('rules', 'admin', 'ACL', 'GETUSER', 'u4'),
    n('rules', 'admin', 'ACL', 'LIST'),
    a('admin', 'ACL', 'SETUSER', 'u4', 'clearselectors', 'resetkeys', '~k1', '~k1', 'resetchannels', 'nocommands', 'allcommands', '-flushall'),
    n('rules', 'admin', 'ACL', 'GETUSER', 'u4'),
    a('admin', 'ACL', 'SETUSER', 'u4', 'reset'),
    n('rules', 'admin', 'ACL', 'GETUSER', 'u4'),
    a('admin', 'ACL', 'DELUSER', 'u2', 'u3', 'u4', 'nobody'),
    a('admin', 'ACL', 'USERS'),
  ],
  'rule errors': [
    a('admin', 'ACL', 'SETUSER', 'bad', 'nosuchrule'),
    a('admin', 'ACL', 'SETUSER', 'bad', '+nosuchcmd'),
    a('admin', 'ACL', 'SETUSER', 'bad', '+@nosuchcat'),
    a('admin', 'ACL', 'SETUSER', 'bad', '-nosuchcmd'),
    a('admin', 'ACL', 'SETUSER', 'bad', 'allkeys', '~a*'),
    a('admin', 'ACL', 'SETUSER', 'bad', 'allchannels', '&a*'),
    a('admin', 'ACL', 'SETUSER', 'bad', '<notthere'),
    a('admin', 'ACL', 'SETUSER', 'bad', '#abc'),
    a('admin', 'ACL', 'SETUSER', 'bad', '!ABC'),
    a('admin', 'ACL', 'SETUSER', 'bad', '+config|get|x'),
    a('admin', 'ACL', 'SETUSER', 'bad', '+get|'),
    a('admin', 'ACL', 'SETUSER', 'bad', '+config|nosuch'),
    a('admin', 'ACL', 'SETUSER', 'bad', '%X~a'),
    a('admin', 'ACL', 'SETUSER', 'bad', '(~a* +get'),
    a('admin', 'ACL', 'SETUSER', 'bad', '(~a* +nosuch)'),
    a('admin', 'ACL', 'SETUSER', 'bad user'),
    a('admin', 'ACL', 'USERS'),
    a('admin', 'ACL', 'GETUSER', 'nobody'),
    a('admin', 'ACL', 'DELUSER', 'default'),
    a('admin', 'ACL', 'CAT', 'nosuch'),
    a('admin', 'ACL', 'CAT'),
    a('admin', 'ACL', 'GENPASS', '0'),
    a('admin', 'ACL', 'GENPASS', '4097'),
    a('admin', 'ACL', 'GENPASS', 'x'),
    n('genpass', 'admin', 'ACL', 'GENPASS'),
    n('genpass', 'admin', 'ACL', 'GENPASS', '5'),
    a('admin', 'ACL', 'SAVE'),
    a('admin', 'ACL', 'LOAD'),
    a('admin', 'ACL', 'LOG', 'x'),
    a('admin', 'ACL', 'NOSUCH'),
    a('admin', 'ACL', 'GETUSER'),
    a('admin', 'ACL', 'DRYRUN', 'nobody', 'get', 'x'),
    a('admin', 'AUTH', 'pw'),
    a('admin', 'AUTH', 'default', 'anything'),
    a('admin', 'AUTH', 'a', 'b', 'c'),
  ],
  'permission checks, NOPERM and ACL LOG': [
    a('admin', 'ACL', 'LOG', 'RESET'),
    a('admin', 'ACL', 'SETUSER', 'alice', 'on', '>p1', '~foo*', '%R~r*', '%W~w*', '&ch*', '+get', '+set', '+lpush', '+del', '+publish', '+psubscribe', '+multi', '+exec', '+copy', '+rename', '+mget'),
    a('alice', 'GET', 'foo'),
    a('alice', 'AUTH', 'alice', 'wrong'),
    a('alice', 'AUTH', 'nobody', 'p1'),
    a('alice', 'AUTH', 'alice', 'p1'),
    a('alice', 'ACL', 'WHOAMI'),
    a('alice', 'SET', 'foo1', 'v'),
    a('alice', 'GET', 'foo1'),
    a('alice', 'GET', 'bar'),
    a('alice', 'INCR', 'foo1'),
    a('alice', 'CONFIG', 'GET', 'port'),
    a('alice', 'SET', 'r1', 'v'),
    a('alice', 'GET', 'r1'),
    a('alice', 'LPUSH', 'w1', 'a'),
    a('alice', 'GET', 'w1'),
    a('alice', 'DEL', 'w1'),
    a('alice', 'SET', 'w2', 'v'),
    a('alice', 'SET', 'w2', 'v', 'GET'),
    a('alice', 'COPY', 'r1', 'w3'),
    a('alice', 'COPY', 'w2', 'r2'),
    a('alice', 'RENAME', 'r1', 'w4'),
    a('alice', 'MGET', 'foo1', 'r1', 'w2'),
    a('alice', 'PUBLISH', 'ch1', 'm'),
    a('alice', 'PUBLISH', 'other', 'm'),
    a('alice', 'PING'),
    a('alice', 'MULTI'),
    a('alice', 'SET', 'foo2', 'v'),
    a('alice', 'INCR', 'foo2'),
    a('alice', 'GET', 'zzz'),
    a('alice', 'EXEC'),
    n('log', 'admin', 'ACL', 'LOG'),
    n('log', 'admin', 'ACL', 'LOG', '2'),
    a('admin', 'ACL', 'DRYRUN', 'alice', 'get', 'foo'),
    a('admin', 'ACL', 'DRYRUN', 'alice', 'get', 'zz'),
    a('admin', 'ACL', 'DRYRUN', 'alice', 'incr', 'foo'),
    a('admin', 'ACL', 'DRYRUN', 'alice', 'publish', 'x', 'm'),
    a('admin', 'ACL', 'DRYRUN', 'alice', 'nocmd', 'foo'),
    a('admin', 'ACL', 'DRYRUN', 'alice', 'config', 'get', 'x'),
    a('psub', 'AUTH', 'alice', 'p1'),
    a('psub', 'PSUBSCRIBE', 'ch*'),
    a('psub2', 'AUTH', 'alice', 'p1'),
    a('psub2', 'PSUBSCRIBE', 'ch1*'),
    a('psub2', 'PSUBSCRIBE', 'ch*', 'x*'),
    a('admin', 'ACL', 'SETUSER', 'bob', 'on', 'nopass', '+@all', '~*', 'resetchannels', '&news.*'),
    a('bob', 'AUTH', 'bob', 'whatever'),
    a('bob', 'PUBLISH', 'news.1', 'm'),
    a('bob', 'PUBLISH', 'sport', 'm'),
    a('bob', 'SUBSCRIBE', 'news.x', 'sport'),
    a('bob', 'ACL', 'WHOAMI'),
    a('admin', 'CLIENT', 'KILL', 'USER', 'nosuch'),
    a('admin', 'CLIENT', 'KILL', 'USER', 'bob'),
    a('bob', 'PING'),
    a('admin', 'ACL', 'SETUSER', 'alice', 'off'),
    a('off', 'AUTH', 'alice', 'p1'),
    // As in Redis 7.0, a disabled user's connections stay (only new AUTHs fail).
    a('alice', 'PING'),
    a('admin', 'ACL', 'DELUSER', 'alice'),
    a('alice', 'PING'),
    n('log', 'admin', 'ACL', 'LOG', '3'),
    a('admin', 'ACL', 'LOG', 'RESET'),
    a('admin', 'ACL', 'LOG'),
  ],
  'selectors': [
    a('admin', 'ACL', 'SETUSER', 'carol', 'on', '>c', '~a*', '+get', '(~b* +set)', '(%R~c* +@read)'),
    a('carol', 'AUTH', 'carol', 'c'),
    a('carol', 'SET', 'b1', 'v'),
    a('carol', 'GET', 'a1'),
    a('carol', 'SET', 'a1', 'v'),
    a('carol', 'GET', 'b1'),
    a('carol', 'GET', 'c1'),
    a('carol', 'STRLEN', 'c1'),
    a('carol', 'SET', 'c1', 'v'),
    a('carol', 'DEL', 'a1'),
    a('admin', 'ACL', 'DRYRUN', 'carol', 'set', 'b2', 'v'),
    a('admin', 'ACL', 'DRYRUN', 'carol', 'set', 'a2', 'v'),
    n('rules', 'admin', 'ACL', 'GETUSER', 'carol'),
    a('admin', 'ACL', 'SETUSER', 'carol', 'clearselectors'),
    a('carol', 'SET', 'b1', 'v'),
  ],
  'RESP3 replies': [
    n('hello', 'r3', 'HELLO', '3'),
    a('r3', 'ACL', 'SETUSER', 'erin', 'on', '>e', '~e*', '%R~f*', '&e*', '+@string', '(~g* +get)'),
    n('rules', 'r3', 'ACL', 'GETUSER', 'erin'),
    a('r3', 'ACL', 'GETUSER', 'nobody'),
    a('r3', 'ACL', 'USERS'),
    a('r3', 'ACL', 'DRYRUN', 'erin', 'set', 'f1', 'v'),
    a('e3', 'HELLO', '3', 'AUTH', 'erin', 'bad'),
    a('e3', 'AUTH', 'erin', 'e'),
    a('e3', 'GET', 'z'),
    n('log', 'r3', 'ACL', 'LOG', '2'),
    a('r3', 'ACL', 'LOG', 'RESET'),
    a('r3', 'ACL', 'DELUSER', 'erin'),
  ],
  'rules changed under a connection': [
    a('admin', 'ACL', 'SETUSER', 'ex', 'on', '>e', '~*', '&*', '+@all'),
    a('ex', 'AUTH', 'ex', 'e'),
    a('ex', 'MULTI'),
    a('ex', 'SET', 'a', '1'),
    a('ex', 'GET', 'a'),
    a('ex', 'PUBLISH', 'c', 'm'),
    a('ex', 'PING'),
    a('admin', 'ACL', 'SETUSER', 'ex', '-set', 'resetkeys', '~b*', 'resetchannels', '&news*'),
    a('ex', 'EXEC'),
    n('log', 'admin', 'ACL', 'LOG', '1'),
    a('sub', 'AUTH', 'ex', 'e'),
    a('sub', 'SUBSCRIBE', 'news1'),
    a('psub', 'AUTH', 'ex', 'e'),
    a('psub', 'PSUBSCRIBE', 'news*'),
    a('admin', 'ACL', 'SETUSER', 'ex', 'resetchannels', '&news*', '&other'),
    a('sub', 'PING'),
    a('psub', 'PING'),
    a('admin', 'ACL', 'SETUSER', 'ex', 'resetchannels', '&news1'),
    a('sub', 'PING'),
    a('psub', 'PING'),
    a('admin', 'ACL', 'DELUSER', 'ex'),
    a('ex', 'PING'),
  ],
  'the default user and its password': [
    a('admin', 'ACL', 'SETUSER', 'default', '>adminpw'),
    a('admin', 'PING'),
    a('fresh', 'PING'),
    a('fresh', 'HELLO', '3'),
    a('fresh', 'AUTH', 'wrong'),
    a('fresh', 'AUTH', 'adminpw'),
    a('fresh', 'ACL', 'WHOAMI'),
    a('fresh2', 'AUTH', 'default', 'adminpw'),
    a('fresh2', 'RESET'),
    a('fresh2', 'GET', 'x'),
    a('admin', 'ACL', 'SETUSER', 'dave', 'on', '>d', '+@all', '~*'),
    n('hello', 'fresh3', 'HELLO', '3', 'AUTH', 'dave', 'd'),
    a('fresh3', 'ACL', 'WHOAMI'),
    a('fresh4', 'HELLO', '2', 'AUTH', 'dave', 'bad'),
    a('admin', 'ACL', 'SETUSER', 'default', 'nopass'),
    a('fresh5', 'GET', 'x'),
    a('admin', 'ACL', 'SETUSER', 'default', 'resetpass'),
    a('fresh6', 'GET', 'x'),
    a('fresh6', 'AUTH', 'x'),
    a('fresh6', 'AUTH', 'default', 'x'),
    n('log', 'fresh3', 'ACL', 'LOG', '4'),
  ],
};

const skip = haveRedisServer ? false : 'redis-server not installed';

describe.skipIf(skip)('ACL users vs redis-server 7.0', () => {
  let ref: RedisReference;
  let node: NodeProcess;
  beforeAll(async () => {
    const started = await Promise.allSettled([startRedisServer(), startNode({ args: ['--appendfsync', 'no'] })]);
    if (started[0].status === 'fulfilled') ref = started[0].value;
    if (started[1].status === 'fulfilled') node = started[1].value;
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
  });
  afterAll(async () => {
    await Promise.all([ref?.stop(), node?.stop()]);
  });

  // Each scenario starts from fresh servers' state for the users it names: the scenarios run in
  // order on the same pair of servers, and each cleans up what later ones would see.
  for (const [title, steps] of Object.entries(SCENARIOS)) {
    it(title, async () => {
      const expected = await playAclSteps(ref.ports[0]!, steps);
      const got = await playAclSteps(node.port, steps);
      expect(got).toEqual(expected);
    });
  }
});
