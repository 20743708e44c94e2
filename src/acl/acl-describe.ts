/**
 * Users back as text: ACL LIST lines, ACL file lines and ACL GETUSER's fields, as Redis 7.0 writes
 * them (acl.c ACLDescribeUser, ACLDescribeSelectorCommandRules).
 */
import { ACL_CATEGORIES, categoryBit, type AclCommand, type AclCommandIndex } from './acl-commands.js';
import { newSelector, PERM_ALL, PERM_READ, type AclUser, type KeyPattern, type Selector } from './acl-user.js';
import { setCategory } from './acl-rules.js';

export function userFlags(u: AclUser): string[] {
  const flags = [u.enabled ? 'on' : 'off'];
  if (u.nopass) flags.push('nopass');
  if (u.sanitize !== undefined) flags.push(u.sanitize);
  return flags;
}

function patternText(k: KeyPattern): string {
  const prefix = k.perms === PERM_ALL ? '~' : k.perms === PERM_READ ? '%R~' : '%W~';
  return prefix + k.pattern.toString('latin1');
}

export function keysText(s: Selector): string {
  return s.allKeys ? '~*' : s.keys.map(patternText).join(' ');
}

export function channelsText(s: Selector): string {
  return s.allChannels ? '&*' : s.channels.map((c) => '&' + c.toString('latin1')).join(' ');
}

function countCategory(allowed: Uint8Array, commands: AclCommandIndex, bit: number): { on: number; off: number } {
  let on = 0;
  let off = 0;
  for (const c of commands.all()) {
    if (!(c.categories & bit)) continue;
    if (allowed[c.id]) on++;
    else off++;
  }
  return { on, off };
}

/**
 * The command rules of a selector: +@all or -@all, then the categories that best approximate its
 * bitmap (chosen greedily as Redis does), then single commands to make it exact.
 */
export function commandRulesText(s: Selector, commands: AclCommandIndex): string {
  const additive = !s.future;
  const rules: string[] = [additive ? '-@all' : '+@all'];
  const fake = newSelector(false, commands.count, false);
  fake.allowed.fill(additive ? 0 : 1);
  const temp = s.allowed.slice();
  const applied = new Set<number>();
  for (;;) {
    let best = -1;
    let minDiff = Number.MAX_SAFE_INTEGER;
    let maxSame = 0;
    ACL_CATEGORIES.forEach((name, j) => {
      if (applied.has(j)) return;
      const { on, off } = countCategory(temp, commands, categoryBit(name));
      const diff = additive ? off : on;
      const same = additive ? on : off;
      if (same > diff && (diff < minDiff || (diff === minDiff && same > maxSame))) {
        best = j;
        minDiff = diff;
        maxSame = same;
      }
    });
    if (best < 0) break;
    const bit = categoryBit(ACL_CATEGORIES[best]!);
    setCategory(fake, commands, bit, additive);
    const tempSel = { ...fake, allowed: temp };
    setCategory(tempSel, commands, bit, !additive);
    rules.push(`${additive ? '+' : '-'}@${ACL_CATEGORIES[best]!}`);
    applied.add(best);
  }
  const single = (cmds: readonly AclCommand[]): void => {
    for (const c of cmds) {
      const want = s.allowed[c.id]!;
      if (want !== fake.allowed[c.id]) {
        rules.push(`${want ? '+' : '-'}${c.fullName}`);
        fake.allowed[c.id] = want;
        for (const sub of c.subcommands) fake.allowed[sub.id] = want;
      }
      single(c.subcommands);
      const firstArgs = s.firstArgs.get(c.id);
      if (!want && firstArgs) for (const a of firstArgs) rules.push(`+${c.fullName}|${a}`);
    }
  };
  single(commands.top);
  return rules.join(' ');
}

function selectorText(s: Selector, commands: AclCommandIndex): string {
  const parts: string[] = [];
  if (s.allKeys) parts.push('~*');
  else for (const k of s.keys) parts.push(patternText(k));
  if (s.allChannels) parts.push('&*');
  else {
    parts.push('resetchannels');
    for (const c of s.channels) parts.push('&' + c.toString('latin1'));
  }
  parts.push(commandRulesText(s, commands));
  return parts.join(' ');
}

/** Everything after `user <name> ` in ACL LIST and in an ACL file. */
export function describeUser(u: AclUser, commands: AclCommandIndex): string {
  const parts = [...userFlags(u), ...u.passwords.map((p) => '#' + p)];
  let text = [...parts, selectorText(u.selectors[0]!, commands)].join(' ');
  for (const s of u.selectors.slice(1)) text += ` (${selectorText(s, commands)})`;
  return text;
}
