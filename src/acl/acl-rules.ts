/**
 * ACL rules as ACL SETUSER, `user` lines and ACL files write them, applied to a user the way Redis
 * 7.0 does (acl.c ACLSetUser / ACLSetSelector), with its error texts. Pure: no I/O, no registry.
 */
import { createHash } from 'node:crypto';
import { categoryBit, type AclCommand, type AclCommandIndex } from './acl-commands.js';
import { newSelector, PERM_ALL, PERM_READ, PERM_WRITE, type AclUser, type Selector } from './acl-user.js';

/** A rule that does not apply; the message is Redis's (ACLSetUserStringError). */
export class AclRuleError extends Error {}

const E = {
  unknown: 'Unknown command or category name in ACL',
  syntax: 'Syntax error',
  afterAllKeys: "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
  afterAllChannels: "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
  noSuchPassword: 'The password you are trying to remove from the user does not exist',
  badHash: 'The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters',
  subFirstArg: 'Allowing first-arg of a subcommand is not supported',
};

export function hashPassword(clear: Buffer): string {
  return createHash('sha256').update(clear).digest('hex');
}

function checkHash(hash: string): void {
  if (!/^[0-9a-f]{64}$/.test(hash)) throw new AclRuleError(E.badHash);
}

/** Redis refuses spaces and NUL in usernames and patterns (ACLStringHasSpaces). */
export function hasSpaces(b: Buffer): boolean {
  for (const c of b) if (c === 0 || c === 0x20 || (c >= 0x09 && c <= 0x0d)) return true;
  return false;
}

export interface RuleContext {
  readonly commands: AclCommandIndex;
  /** acl-pubsub-default: new selectors start with every channel (allchannels) or none. */
  readonly pubsubAllChannels: boolean;
}

function setCommand(s: Selector, cmd: AclCommand, allow: boolean): void {
  const v = allow ? 1 : 0;
  s.allowed[cmd.id] = v;
  if (!allow) s.allCommands = false;
  s.firstArgs.delete(cmd.id);
  for (const sub of cmd.subcommands) {
    s.allowed[sub.id] = v;
  }
}

/** +@cat / -@cat: every command and subcommand of the category (Redis walks subcommands too). */
export function setCategory(s: Selector, commands: AclCommandIndex, bit: number, allow: boolean): void {
  for (const cmd of commands.top) {
    if (cmd.categories & bit) setCommand(s, cmd, allow);
    for (const sub of cmd.subcommands) if (sub.categories & bit) setCommand(s, sub, allow);
  }
}

function allCommands(s: Selector, allow: boolean): void {
  s.allowed.fill(allow ? 1 : 0);
  s.future = allow;
  s.allCommands = allow;
  s.firstArgs.clear();
}

/** One selector rule (keys, channels, commands); throws AclRuleError. */
export function applySelectorRule(s: Selector, op: Buffer, ctx: RuleContext): void {
  const text = op.toString('latin1');
  const lower = text.toLowerCase();
  if (lower === 'allkeys' || text === '~*') {
    s.allKeys = true;
    s.keys = [];
  } else if (lower === 'resetkeys') {
    s.allKeys = false;
    s.keys = [];
  } else if (lower === 'allchannels' || text === '&*') {
    s.allChannels = true;
    s.channels = [];
  } else if (lower === 'resetchannels') {
    s.allChannels = false;
    s.channels = [];
  } else if (lower === 'allcommands' || lower === '+@all') {
    allCommands(s, true);
  } else if (lower === 'nocommands' || lower === '-@all') {
    allCommands(s, false);
  } else if (text[0] === '~' || text[0] === '%') {
    keyRule(s, op);
  } else if (text[0] === '&') {
    if (s.allChannels) throw new AclRuleError(E.afterAllChannels);
    const pattern = op.subarray(1);
    if (hasSpaces(pattern)) throw new AclRuleError(E.syntax);
    if (!s.channels.some((c) => c.equals(pattern))) s.channels.push(Buffer.from(pattern));
    s.allChannels = false;
  } else if ((text[0] === '+' || text[0] === '-') && text[1] === '@') {
    const bit = categoryBit(text.slice(2));
    if (bit === 0) throw new AclRuleError(E.unknown);
    setCategory(s, ctx.commands, bit, text[0] === '+');
  } else if (text[0] === '+') {
    allowCommand(s, text.slice(1), ctx);
  } else if (text[0] === '-') {
    const cmd = ctx.commands.lookup(text.slice(1));
    if (cmd === undefined) throw new AclRuleError(E.unknown);
    setCommand(s, cmd, false);
  } else {
    throw new AclRuleError(E.syntax);
  }
}

function keyRule(s: Selector, op: Buffer): void {
  if (s.allKeys) throw new AclRuleError(E.afterAllKeys);
  let perms = 0;
  let offset = 1;
  if (op[0] === 0x25 /* % */) {
    for (; offset < op.length; offset++) {
      const c = String.fromCharCode(op[offset]!).toUpperCase();
      if (c === 'R' && !(perms & PERM_READ)) perms |= PERM_READ;
      else if (c === 'W' && !(perms & PERM_WRITE)) perms |= PERM_WRITE;
      else if (c === '~') {
        offset++;
        break;
      } else throw new AclRuleError(E.syntax);
    }
  } else {
    perms = PERM_ALL;
  }
  const pattern = op.subarray(offset);
  if (hasSpaces(pattern)) throw new AclRuleError(E.syntax);
  const same = s.keys.find((k) => k.pattern.equals(pattern));
  if (same) same.perms |= perms;
  else s.keys.push({ pattern: Buffer.from(pattern), perms });
  s.allKeys = false;
}

function allowCommand(s: Selector, name: string, ctx: RuleContext): void {
  const bar = name.lastIndexOf('|');
  if (bar < 0) {
    const cmd = ctx.commands.lookup(name);
    if (cmd === undefined) throw new AclRuleError(E.unknown);
    setCommand(s, cmd, true);
    return;
  }
  const cmd = ctx.commands.lookup(name.slice(0, bar));
  const sub = name.slice(bar + 1);
  if (cmd === undefined) throw new AclRuleError(E.unknown);
  if (cmd.parent !== undefined) throw new AclRuleError(E.subFirstArg);
  if (sub.length === 0) throw new AclRuleError(E.syntax);
  if (cmd.subcommands.length > 0) {
    const subCmd = ctx.commands.lookup(name);
    if (subCmd === undefined) throw new AclRuleError(E.unknown);
    setCommand(s, subCmd, true);
    return;
  }
  // `+select|0`: that first argument of an otherwise blocked command (deprecated in Redis, kept).
  const list = s.firstArgs.get(cmd.id) ?? [];
  if (!list.some((a) => a.toLowerCase() === sub.toLowerCase())) list.push(sub);
  s.firstArgs.set(cmd.id, list);
}

/** One user rule (flags, passwords, selectors, or a root selector rule); throws AclRuleError. */
export function applyUserRule(u: AclUser, op: Buffer, ctx: RuleContext): void {
  if (op.length === 0) return;
  const text = op.toString('latin1');
  const lower = text.toLowerCase();
  switch (lower) {
    case 'on': u.enabled = true; return;
    case 'off': u.enabled = false; return;
    case 'skip-sanitize-payload': u.sanitize = 'skip-sanitize-payload'; return;
    case 'sanitize-payload': u.sanitize = 'sanitize-payload'; return;
    case 'nopass': u.nopass = true; u.passwords = []; return;
    case 'resetpass': u.nopass = false; u.passwords = []; return;
    case 'clearselectors': u.selectors = [u.selectors[0]!]; return;
    case 'reset': {
      u.nopass = false;
      u.passwords = [];
      const root = u.selectors[0]!;
      root.allKeys = false;
      root.keys = [];
      root.allChannels = ctx.pubsubAllChannels;
      root.channels = [];
      u.enabled = false;
      u.sanitize = 'sanitize-payload';
      u.selectors = [root];
      allCommands(root, false);
      return;
    }
  }
  if (text[0] === '>' || text[0] === '#') {
    const hash = text[0] === '>' ? hashPassword(op.subarray(1)) : text.slice(1);
    if (text[0] === '#') checkHash(hash);
    if (!u.passwords.includes(hash)) u.passwords.push(hash);
    u.nopass = false;
  } else if (text[0] === '<' || text[0] === '!') {
    const hash = text[0] === '<' ? hashPassword(op.subarray(1)) : text.slice(1);
    if (text[0] === '!') checkHash(hash);
    const at = u.passwords.indexOf(hash);
    if (at < 0) throw new AclRuleError(E.noSuchPassword);
    u.passwords.splice(at, 1);
  } else if (text[0] === '(' && text[text.length - 1] === ')') {
    const s = newSelector(false, ctx.commands.count, ctx.pubsubAllChannels);
    for (const part of splitArgs(text.slice(1, -1))) applySelectorRule(s, Buffer.from(part, 'latin1'), ctx);
    u.selectors.push(s);
  } else {
    applySelectorRule(u.selectors[0]!, op, ctx);
  }
}

/** Words of a selector body: space separated (Redis uses sdssplitargs; quotes are not needed here). */
function splitArgs(text: string): string[] {
  return text.split(/[ \t\r\n]+/).filter((w) => w.length > 0);
}

/**
 * SETUSER and `user` lines may spread a selector over several arguments: `(~x* +get)` arrives as
 * `(~x*` and `+get)`. Joins them; returns the index of an unclosed `(` as a number.
 */
export function mergeSelectorArgs(args: readonly Buffer[]): Buffer[] | number {
  const out: Buffer[] = [];
  let open: Buffer[] | undefined;
  let openAt = -1;
  args.forEach((a, i) => {
    if (open === undefined && a[0] === 0x28 && a[a.length - 1] !== 0x29) {
      open = [a];
      openAt = i;
      return;
    }
    if (open !== undefined) {
      open.push(a);
      if (a[a.length - 1] === 0x29) {
        out.push(Buffer.from(open.map((b) => b.toString('latin1')).join(' '), 'latin1'));
        open = undefined;
      }
      return;
    }
    out.push(a);
  });
  return open !== undefined ? openAt : out;
}
