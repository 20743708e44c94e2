/**
 * May this user run this command with these arguments? Redis 7.0's ACLCheckAllUserCommandPerm:
 * each selector is tried in turn; the first that allows the command, its keys and its channels
 * lets it run. Pure; the dispatcher and scripts call it and act on the verdict.
 */
import { globMatch } from '../commands/glob.js';
import { keyPositions } from '../commands/spec.js';
import type { AclCommand } from './acl-commands.js';
import { keyAccess } from './key-access.js';
import { PERM_READ, type AclUser, type Selector } from './acl-user.js';

export type AclDenial = 'command' | 'key' | 'channel';

export type AclVerdict = { ok: true } | { ok: false; reason: AclDenial; /** argv index of the key or channel */ index: number };

const OK: AclVerdict = { ok: true };
const DENIAL_RANK: Record<AclDenial, number> = { command: 0, key: 1, channel: 2 };

/** Commands whose arguments are channels: argv index of the first, and whether patterns are literal. */
function channelArgs(name: string, argc: number): { from: number; to: number; literal: boolean } | undefined {
  switch (name) {
    case 'publish':
    case 'spublish': return { from: 1, to: 2, literal: false };
    case 'subscribe':
    case 'ssubscribe': return { from: 1, to: argc, literal: false };
    case 'psubscribe': return { from: 1, to: argc, literal: true };
    default: return undefined;
  }
}

function channelAllowed(s: Selector, channel: Buffer, literal: boolean): boolean {
  for (const p of s.channels) {
    if (literal ? p.equals(channel) : globMatch(p, channel)) return true;
  }
  return false;
}

function keyAllowed(s: Selector, key: Buffer, need: number): boolean {
  for (const p of s.keys) {
    if ((p.perms & need) !== need) continue;
    if (globMatch(p.pattern, key)) return true;
  }
  return false;
}

function checkSelector(s: Selector, cmd: AclCommand, argv: readonly Buffer[], keys: () => number[]): AclVerdict {
  const spec = cmd.spec;
  if (!s.allCommands && !spec.flags.includes('no_auth') && s.allowed[cmd.id] !== 1) {
    const firstArgs = s.firstArgs.get(cmd.id);
    const arg = argv[cmd.parent ? 2 : 1];
    if (firstArgs === undefined || arg === undefined || !firstArgs.some((a) => a.toLowerCase() === arg.toString('latin1').toLowerCase())) {
      return { ok: false, reason: 'command', index: 0 };
    }
  }
  // Shard channels sit where keys do (they route by slot) but are channels to ACL, as Redis's
  // not_key key specs: SPUBLISH and SSUBSCRIBE are checked against the channel patterns below.
  if (!s.allKeys && !spec.flags.includes('pubsub')) {
    const positions = keys();
    for (let i = 0; i < positions.length; i++) {
      const at = positions[i]!;
      if (!keyAllowed(s, argv[at]!, keyAccess(cmd.fullName, i, argv))) return { ok: false, reason: 'key', index: at };
    }
  }
  if (!s.allChannels) {
    const ch = channelArgs(cmd.fullName, argv.length);
    if (ch !== undefined) {
      for (let j = ch.from; j < ch.to; j++) if (!channelAllowed(s, argv[j]!, ch.literal)) return { ok: false, reason: 'channel', index: j };
    }
  }
  return OK;
}

/** The verdict for `user` running `cmd` (already resolved to its subcommand) with `argv`. */
export function checkCommand(user: AclUser, cmd: AclCommand, argv: readonly Buffer[]): AclVerdict {
  if (user.unrestricted) return OK;
  let keys: number[] | undefined;
  const keyList = (): number[] => (keys ??= keyPositions(cmd.parent?.spec ?? cmd.spec, argv));
  let worst: AclVerdict | undefined;
  for (const s of user.selectors) {
    const v = checkSelector(s, cmd, argv, keyList);
    if (v.ok) return v;
    // Redis reports the denial that got furthest: channel over key over command, then the later argument.
    if (worst === undefined || worst.ok || DENIAL_RANK[v.reason] > DENIAL_RANK[worst.reason] ||
      (v.reason === worst.reason && v.index > worst.index)) worst = v;
  }
  return worst ?? { ok: false, reason: 'command', index: 0 };
}

/**
 * Whether some selector of `user` that allows this command reads every key (allkeys, or a `*`
 * pattern with read permission): SORT's BY and GET patterns need that (Redis 7.0's
 * ACLUserCheckCmdWithUnrestrictedKeyAccess with CMD_KEY_ACCESS).
 */
export function hasUnrestrictedReadAccess(user: AclUser, cmd: AclCommand, argv: readonly Buffer[]): boolean {
  if (user.unrestricted) return true;
  let keys: number[] | undefined;
  const keyList = (): number[] => (keys ??= keyPositions(cmd.parent?.spec ?? cmd.spec, argv));
  return user.selectors.some((s) => checkSelector(s, cmd, argv, keyList).ok &&
    (s.allKeys || s.keys.some((p) => (p.perms & PERM_READ) === PERM_READ && p.pattern.length === 1 && p.pattern[0] === 0x2a)));
}

/** The NOPERM reply of a denial (processCommand's texts). */
export function noPermError(v: Exclude<AclVerdict, { ok: true }>, cmd: AclCommand): string {
  switch (v.reason) {
    case 'command': return `NOPERM this user has no permissions to run the '${cmd.fullName}' command`;
    case 'key': return 'NOPERM this user has no permissions to access one of the keys used as arguments';
    case 'channel': return 'NOPERM this user has no permissions to access one of the channels used as arguments';
  }
}

/** Whether `user` may use `channel` (literal: a PSUBSCRIBE pattern compared as written). */
export function userMayUseChannel(user: AclUser, channel: Buffer, literal: boolean): boolean {
  return user.unrestricted || user.selectors.some((s) => s.allChannels || channelAllowed(s, channel, literal));
}
