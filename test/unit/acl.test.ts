/**
 * Goal: the pure ACL modules decide as Redis 7.0 does: rules and their descriptions, the check with
 * selectors and read/write key patterns, ACL LOG grouping, the ACL file format and the cluster
 * document order.
 * Method: a registry over the real command table, driven directly; expectations are Redis's
 * (checked against redis-server 7.0 in test/integration/acl-diff.test.ts where the wire shows them).
 */
import { describe, expect, it } from 'vitest';
import { buildCommandTable } from '../../src/commands/table.js';
import { AclError, AclRegistry } from '../../src/acl/acl-registry.js';
import { checkCommand } from '../../src/acl/acl-check.js';
import { describeUser } from '../../src/acl/acl-describe.js';
import { AclLog } from '../../src/acl/acl-log.js';
import { parseAclFile } from '../../src/acl/acl-file.js';
import { nextDocument, supersedes } from '../../src/acl/acl-document.js';
import { mergeSelectorArgs } from '../../src/acl/acl-rules.js';

const table = buildCommandTable();
const b = (...words: string[]): Buffer[] => words.map((w) => Buffer.from(w));

function registry(): AclRegistry {
  return new AclRegistry(table, { pubsubAllChannels: () => false, logMaxLen: () => 128 });
}

function verdict(acl: AclRegistry, user: string, ...argv: string[]): string {
  const spec = table.get(argv[0]!.toLowerCase())!;
  const cmd = acl.commands.resolve(spec, b(...argv))!;
  const v = checkCommand(acl.get(user)!, cmd, b(...argv));
  return v.ok ? 'ok' : `${v.reason}@${v.index}`;
}

describe('ACL rules', () => {
  it('a new user is off with nothing; the default user is unrestricted', () => {
    const acl = registry();
    acl.setUser('u', []);
    expect(describeUser(acl.get('u')!, acl.commands)).toBe('off resetchannels -@all');
    expect(describeUser(acl.defaultUser, acl.commands)).toBe('on nopass ~* &* +@all');
    expect(acl.defaultUser.unrestricted).toBe(true);
  });

  it('describes single commands against +@all / -@all and first arguments', () => {
    const acl = registry();
    acl.setUser('u', b('+@all', '-get', '-config|get'));
    expect(describeUser(acl.get('u')!, acl.commands)).toBe('off resetchannels +@all -get -config|get');
    acl.setUser('v', b('-@all', '+config|get', '+select|0', '+GET', '-get'));
    expect(describeUser(acl.get('v')!, acl.commands)).toBe('off resetchannels -@all +select|0 +config|get'); // single commands in table order
  });

  it('a failing rule changes nothing', () => {
    const acl = registry();
    acl.setUser('u', b('on', '+get'));
    expect(() => acl.setUser('u', b('+set', '+nosuch'))).toThrow(new AclError("Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL"));
    expect(verdict(acl, 'u', 'set', 'k', 'v')).toBe('command@0');
  });

  it('requirepass is the default user password', () => {
    const acl = registry();
    acl.setDefaultPassword('pw');
    expect(acl.authRequired()).toBe(true);
    expect(acl.authenticate('default', Buffer.from('pw'))).toBe(acl.defaultUser);
    expect(acl.authenticate('default', Buffer.from('nope'))).toBeUndefined();
    acl.setDefaultPassword('');
    expect(acl.authRequired()).toBe(false);
  });

  it('joins a selector spread over several arguments', () => {
    expect(mergeSelectorArgs(b('on', '(~x*', '+get)', '(+set)')).map(String)).toEqual(['on', '(~x* +get)', '(+set)']);
    expect(mergeSelectorArgs(b('on', '(~x*', '+get'))).toBe(1);
  });
});

describe('the check', () => {
  it('read and write key patterns follow each command\'s key specs', () => {
    const acl = registry();
    acl.setUser('u', b('on', '%R~r*', '%W~w*', '+@all'));
    expect(verdict(acl, 'u', 'get', 'r1')).toBe('ok');
    expect(verdict(acl, 'u', 'set', 'r1', 'v')).toBe('key@1');
    expect(verdict(acl, 'u', 'set', 'w1', 'v')).toBe('ok');
    expect(verdict(acl, 'u', 'set', 'w1', 'v', 'GET')).toBe('key@1');
    expect(verdict(acl, 'u', 'lpush', 'w1', 'a')).toBe('ok');
    expect(verdict(acl, 'u', 'copy', 'r1', 'w1')).toBe('ok');
    expect(verdict(acl, 'u', 'copy', 'w1', 'r1')).toBe('key@1');
  });

  it('selectors: the denial that got furthest is reported', () => {
    const acl = registry();
    acl.setUser('u', b('on', '~a*', '+get', '(~b*', '+set)'));
    expect(verdict(acl, 'u', 'set', 'b1', 'v')).toBe('ok');
    expect(verdict(acl, 'u', 'set', 'a1', 'v')).toBe('key@1');
    expect(verdict(acl, 'u', 'del', 'a1')).toBe('command@0');
  });

  it('channels: PUBLISH and SUBSCRIBE match patterns, PSUBSCRIBE compares literally', () => {
    const acl = registry();
    acl.setUser('u', b('on', '&news.*', '+@all', '~*'));
    expect(verdict(acl, 'u', 'publish', 'news.1', 'm')).toBe('ok');
    expect(verdict(acl, 'u', 'subscribe', 'news.1', 'sport')).toBe('channel@2');
    expect(verdict(acl, 'u', 'psubscribe', 'news.*')).toBe('ok');
    expect(verdict(acl, 'u', 'psubscribe', 'news.1*')).toBe('channel@1');
  });
});

describe('ACL LOG', () => {
  it('groups like events among the latest ten, newest first, within the length limit', () => {
    const log = new AclLog(() => 3);
    const ev = (object: string, at: number) => ({ reason: 'command' as const, context: 'toplevel' as const, object: Buffer.from(object), username: Buffer.from('u'), at, clientInfo: '' });
    log.add(ev('get', 0));
    log.add(ev('set', 1));
    log.add(ev('get', 2));
    expect(log.latest(10).map((e) => `${e.object}:${e.count}`)).toEqual(['get:2', 'set:1']);
    log.add(ev('get', 70_000));
    expect(log.latest(10).map((e) => `${e.object}:${e.count}`)).toEqual(['get:1', 'get:2', 'set:1']);
    log.add(ev('del', 70_001));
    expect(log.latest(10)).toHaveLength(3);
  });
});

describe('ACL file and cluster document', () => {
  it('reports lines that are not user lines, Redis\'s way', () => {
    const { users, errors } = parseAclFile('user a on\n\nfoo bar\nuser b (~x* +get\n', 'f.acl');
    expect(users.map((u) => u.name)).toEqual(['a']);
    expect(errors).toBe('f.acl:3 should start with user keyword followed by the username. f.acl:4: Unmatched parenthesis in selector definition.');
  });

  it('an ACL LOAD with an error changes nothing', () => {
    const acl = registry();
    acl.setUser('keep', b('on'));
    expect(acl.loadText('user x on +nosuch\n', 'f')).toBe('f:1: Unknown command or category name in ACL. WARNING: ACL errors detected, no change to the previously active ACL rules was performed');
    expect(acl.get('keep')).toBeDefined();
    expect(acl.loadText(acl.toText(), 'f')).toBeUndefined();
  });

  it('the newest document wins; a local change outranks the current one even with a slow clock', () => {
    const a = { ms: 100, node: 'a', text: '' };
    expect(supersedes({ ms: 101, node: 'a', text: '' }, a)).toBe(true);
    expect(supersedes({ ms: 100, node: 'b', text: '' }, a)).toBe(true);
    expect(supersedes({ ms: 99, node: 'z', text: '' }, a)).toBe(false);
    expect(nextDocument(a, 50, 'c', 'x').ms).toBe(101);
  });
});
