/**
 * What ACL changes do to connected clients, as Redis 7.0: a removed user's connections go back to
 * the default user unauthenticated and close; a pub/sub client whose user lost a channel or
 * pattern it listens to closes.
 */
import type { AclUser } from '../acl/acl-user.js';
import { checkCommand, noPermError, userMayUseChannel } from '../acl/acl-check.js';
import type { AclRegistry } from '../acl/acl-registry.js';
import type { AclLogContext, AclLogReason } from '../acl/acl-log.js';
import type { CommandSpec } from '../commands/spec.js';
import { describeClient } from '../commands/client.js';
import type { SessionState } from './session-state.js';

/** A session that can be closed once the reply it is producing has gone out. */
export interface ClosableSession extends SessionState {
  closeSoon(): void;
}

export function closeSessionsOfRemoved(sessions: Iterable<ClosableSession>, removed: readonly AclUser[], fallback: AclUser): void {
  const gone = new Set(removed);
  for (const s of sessions) {
    if (s.user === undefined || !gone.has(s.user)) continue;
    s.user = fallback;
    s.authenticated = false;
    s.closeSoon();
  }
}

function keepsSubscriptions(s: SessionState, u: AclUser): boolean {
  const sub = s.subscriptions;
  for (const c of sub.channel) if (!userMayUseChannel(u, Buffer.from(c, 'latin1'), false)) return false;
  for (const c of sub.shard) if (!userMayUseChannel(u, Buffer.from(c, 'latin1'), false)) return false;
  for (const p of sub.pattern) if (!userMayUseChannel(u, Buffer.from(p, 'latin1'), true)) return false;
  return true;
}

export function closeRevokedSubscribers(sessions: Iterable<ClosableSession>, changed: readonly AclUser[]): void {
  if (changed.length === 0) return;
  const users = new Set(changed);
  for (const s of sessions) {
    if (s.user === undefined || !users.has(s.user) || !s.subscriptions.active) continue;
    if (!keepsSubscriptions(s, s.user)) s.closeSoon();
  }
}

/** Adds an ACL LOG entry for `session` (Redis: addACLLogEntry); `username` defaults to the session's user. */
export function logAclEvent(
  acl: AclRegistry,
  session: SessionState,
  event: { reason: AclLogReason; context: AclLogContext; object: Buffer; username?: Buffer },
): void {
  acl.log.add({
    reason: event.reason, context: event.context, object: event.object,
    username: event.username ?? Buffer.from(session.user?.name ?? 'default', 'latin1'),
    at: Date.now(), clientInfo: describeClient(session, Date.now()),
  });
}

/**
 * The ACL check before a command runs: undefined when it may run, else the NOPERM reply after
 * logging the denial. The unrestricted user (the default one, unless restricted) costs one test.
 */
export function aclRefusal(acl: AclRegistry, session: SessionState, spec: CommandSpec, argv: readonly Buffer[], context: AclLogContext): string | undefined {
  const denial = deny(acl, session, spec, argv, context);
  return denial === undefined ? undefined : noPermError(denial.v, denial.cmd);
}

/** The user's check of one command; a denial is logged (ACL LOG) before it is returned. */
function deny(acl: AclRegistry, session: SessionState, spec: CommandSpec, argv: readonly Buffer[], context: AclLogContext) {
  const user = session.user;
  if (user === undefined || user.unrestricted) return undefined;
  const cmd = acl.commands.resolve(spec, argv);
  if (cmd === undefined) return undefined;
  const v = checkCommand(user, cmd, argv);
  if (v.ok) return undefined;
  logAclEvent(acl, session, { reason: v.reason, context, object: v.reason === 'command' ? Buffer.from(cmd.fullName) : argv[v.index]! });
  return { v, cmd };
}

const EXEC_REASONS = {
  command: 'no permission to execute the command or subcommand',
  key: 'no permission to touch the specified keys',
  channel: 'no permission to access one of the channels used as arguments',
} as const;

/** The ACL check EXEC repeats for each queued command (Redis 7.0 execCommand), with its own text. */
export function execAclRefusal(acl: AclRegistry, session: SessionState, spec: CommandSpec, argv: readonly Buffer[]): string | undefined {
  const denial = deny(acl, session, spec, argv, 'multi');
  if (denial === undefined) return undefined;
  return `NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: ${EXEC_REASONS[denial.v.reason]}`;
}
