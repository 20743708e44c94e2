/**
 * Goal: scripts and functions run with their caller's ACL permissions, as in redis-server 7.0:
 * redis.call of a forbidden command, key or channel raises Redis's text, redis.pcall returns it,
 * redis.acl_check_cmd answers true / false, and the denials reach ACL LOG with context `lua`.
 * Method: the same session played on redis-server 7.0 and on one ringkv node, replies compared.
 */
import { describe, expect, it } from 'vitest';
import { nodeBesideRedis } from '../helpers/beside-redis.js';
import { haveRedisServer } from '../helpers/redis-reference.js';
import { playAclSteps, type AclStep } from '../helpers/acl-diff.js';

const a = (conn: string, ...argv: string[]): AclStep => ({ conn, argv });

const LIBRARY = `#!lua name=acllib
redis.register_function('setit', function(keys, args) return redis.call('set', keys[1], args[1]) end)
redis.register_function('check', function(keys, args) return redis.acl_check_cmd(unpack(args)) end)`;

const STEPS: AclStep[] = [
  a('admin', 'FUNCTION', 'LOAD', 'REPLACE', LIBRARY),
  a('admin', 'ACL', 'SETUSER', 'sc', 'on', '>s', '~k*', '&c*', '+eval', '+evalsha', '+get', '+fcall', '+publish'),
  a('sc', 'AUTH', 'sc', 's'),
  a('sc', 'EVAL', "return redis.call('set','k1','v')", '0'),
  a('sc', 'EVAL', "return redis.pcall('set','k1','v')", '0'),
  a('sc', 'EVAL', "return redis.call('get','z1')", '0'),
  a('sc', 'EVAL', "return redis.call('get','k1')", '0'),
  a('sc', 'EVAL', "return redis.call('publish','x','m')", '0'),
  a('sc', 'EVAL', "return redis.call('publish','c1','m')", '0'),
  a('sc', 'EVAL', "return redis.acl_check_cmd('set','k1','v')", '0'),
  a('sc', 'EVAL', "return redis.acl_check_cmd('get','k1')", '0'),
  a('sc', 'EVAL', "return redis.acl_check_cmd('get','z1')", '0'),
  a('sc', 'EVAL', "return redis.acl_check_cmd('nosuch','k1')", '0'),
  a('sc', 'EVAL', 'return redis.acl_check_cmd()', '0'),
  a('sc', 'EVAL', "return redis.acl_check_cmd('config','get','x')", '0'),
  a('sc', 'FCALL', 'setit', '1', 'k2', 'v'),
  a('sc', 'FCALL', 'check', '0', 'get', 'k2'),
  a('sc', 'FCALL', 'check', '0', 'set', 'k2', 'v'),
  a('admin', 'FCALL', 'setit', '1', 'k2', 'v'),
  a('admin', 'EVAL', "return redis.acl_check_cmd('set','k1','v')", '0'),
  { conn: 'admin', argv: ['ACL', 'LOG', '3'], norm: 'log' },
  a('admin', 'FUNCTION', 'DELETE', 'acllib'),
  a('admin', 'ACL', 'DELUSER', 'sc'),
];

describe.skipIf(!haveRedisServer)('ACL in scripts vs redis-server 7.0', () => {
  const both = nodeBesideRedis();

  it('EVAL and FCALL as a restricted user', async () => {
    const expected = await playAclSteps(both.ref.ports[0]!, STEPS);
    const got = await playAclSteps(both.node.port, STEPS);
    expect(got).toEqual(expected);
  });
});
