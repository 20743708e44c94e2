/**
 * The node's ACL users: the `default` user (tied to requirepass), the others by name, and the ACL
 * log. Every change goes through here; callers are told which users went away (their connections
 * close) and that the user set changed (persistence, cluster spreading).
 */
import { timingSafeEqual } from 'node:crypto';
import type { CommandSpec } from '../commands/spec.js';
import { AclCommandIndex } from './acl-commands.js';
import { assignUser, copyUser, isUnrestricted, newUser, requiresAuth, type AclUser } from './acl-user.js';
import { AclRuleError, applyUserRule, hashPassword, hasSpaces, mergeSelectorArgs, type RuleContext } from './acl-rules.js';
import { describeUser } from './acl-describe.js';
import { formatAclFile, parseAclFile } from './acl-file.js';
import { AclLog } from './acl-log.js';

/** A failure with the reply text to send (without the leading `ERR `). */
export class AclError extends Error {}

export interface AclRegistryOptions {
  /** acl-pubsub-default is allchannels. */
  pubsubAllChannels: () => boolean;
  logMaxLen: () => number;
}

export class AclRegistry {
  readonly commands: AclCommandIndex;
  readonly defaultUser: AclUser;
  readonly log: AclLog;
  private readonly users = new Map<string, AclUser>();
  /** Users removed (DELUSER, ACL LOAD): their connections are closed. */
  onRemoved: (users: readonly AclUser[]) => void = () => undefined;
  /** A user was created or changed, or channels were taken away (pub/sub clients may lose theirs). */
  onChanged: (changed: readonly AclUser[]) => void = () => undefined;

  constructor(table: ReadonlyMap<string, CommandSpec>, private readonly opts: AclRegistryOptions) {
    this.commands = new AclCommandIndex(table);
    this.log = new AclLog(opts.logMaxLen);
    this.defaultUser = this.freshDefault();
    this.users.set('default', this.defaultUser);
  }

  private ctx(): RuleContext {
    return { commands: this.commands, pubsubAllChannels: this.opts.pubsubAllChannels() };
  }

  /** Redis's default user: on, nopass, every key, channel and command. */
  private freshDefault(): AclUser {
    const u = newUser('default', this.commands.count, this.opts.pubsubAllChannels());
    for (const r of ['+@all', '~*', '&*', 'on', 'nopass']) applyUserRule(u, Buffer.from(r), this.ctx());
    u.unrestricted = isUnrestricted(u);
    return u;
  }

  get(name: string): AclUser | undefined {
    return this.users.get(name);
  }

  /** A user with no permissions, in no list: stands for a user known elsewhere but not (yet) here. */
  nobody(name: string): AclUser {
    return newUser(name, this.commands.count, false);
  }

  /** Users in name order (byte order, as Redis's radix tree lists them). */
  list(): AclUser[] {
    return [...this.users.keys()].sort().map((n) => this.users.get(n)!);
  }

  /** Whether new connections must authenticate (the default user has a password or is off). */
  authRequired(): boolean {
    return requiresAuth(this.defaultUser);
  }

  /**
   * ACL SETUSER: every rule is applied to a copy first, so one bad rule changes nothing. Throws
   * AclError with Redis's text.
   */
  setUser(name: string, args: readonly Buffer[]): void {
    if (hasSpaces(Buffer.from(name, 'latin1'))) throw new AclError("Usernames can't contain spaces or null characters");
    const merged = mergeSelectorArgs(args);
    if (typeof merged === 'number') throw new AclError(`Unmatched parenthesis in acl selector starting at '${args[merged]!.toString('latin1')}'.`);
    const existing = this.users.get(name);
    const staged = existing ? copyUser(existing) : newUser(name, this.commands.count, this.opts.pubsubAllChannels());
    for (const op of merged) {
      try {
        applyUserRule(staged, op, this.ctx());
      } catch (err) {
        if (err instanceof AclRuleError) throw new AclError(`Error in ACL SETUSER modifier '${op.toString('latin1')}': ${err.message}`);
        throw err;
      }
    }
    const target = existing ?? staged;
    assignUser(target, staged);
    if (!existing) this.users.set(name, target);
    this.onChanged([target]);
  }

  /** ACL DELUSER: how many of `names` existed. `default` cannot go. */
  delUsers(names: readonly string[]): number {
    if (names.includes('default')) throw new AclError("The 'default' user cannot be removed");
    const removed: AclUser[] = [];
    for (const n of names) {
      const u = this.users.get(n);
      if (u && this.users.delete(n)) removed.push(u);
    }
    if (removed.length > 0) {
      this.onRemoved(removed);
      this.onChanged([]);
    }
    return removed.length;
  }

  /** requirepass: sets the default user's only password, or nopass when empty (Redis 7.0). */
  setDefaultPassword(password: string): void {
    const u = this.defaultUser;
    applyUserRule(u, Buffer.from('resetpass'), this.ctx());
    applyUserRule(u, password === '' ? Buffer.from('nopass') : Buffer.concat([Buffer.from('>'), Buffer.from(password)]), this.ctx());
    u.unrestricted = isUnrestricted(u);
  }

  /** The user a name and password authenticate as; undefined when unknown, off or wrong. */
  authenticate(name: string, password: Buffer): AclUser | undefined {
    const u = this.users.get(name);
    if (u === undefined || !u.enabled) return undefined;
    if (u.nopass) return u;
    const hashed = Buffer.from(hashPassword(password));
    return u.passwords.some((p) => timingSafeEqual(Buffer.from(p), hashed)) ? u : undefined;
  }

  /** ACL LIST lines. */
  describeAll(): string[] {
    return this.list().map((u) => `user ${u.name} ${describeUser(u, this.commands)}`);
  }

  /** The ACL file text of every user (ACL SAVE, the cluster's ACL document). */
  toText(): string {
    return formatAclFile(this.list().map((u) => ({ name: u.name, description: describeUser(u, this.commands) })));
  }

  /**
   * Replaces every user with those of an ACL file text (ACL LOAD, aclfile at start, the cluster's
   * document). All or nothing: on any error nothing changes and Redis's error text comes back.
   * The default user keeps its identity (connections hold it); a file without one gets a fresh one.
   */
  loadText(text: string, filename: string, keepSameNamed = false): string | undefined {
    const { users, errors: lineErrors } = parseAclFile(text, filename);
    let errors = lineErrors;
    const next = new Map<string, AclUser>();
    for (const line of users) {
      if (next.has(line.name)) {
        errors += `WARNING: Duplicate user '${line.name}' found on line ${line.line}. `;
        continue;
      }
      const u = newUser(line.name, this.commands.count, this.opts.pubsubAllChannels());
      for (const op of line.rules) {
        try {
          applyUserRule(u, op, this.ctx());
        } catch (err) {
          if (!(err instanceof AclRuleError)) throw err;
          errors += `${filename}:${line.line}: ${err.message}. `;
        }
      }
      u.unrestricted = isUnrestricted(u);
      next.set(line.name, u);
    }
    if (errors !== '') return errors + 'WARNING: ACL errors detected, no change to the previously active ACL rules was performed';
    this.replaceAll(next, keepSameNamed);
    return undefined;
  }

  /**
   * Installs `next` as the user set. ACL LOAD replaces every user but the default one, closing
   * their connections, as Redis's ACLLoadFromFile does; with `keepSameNamed` (the cluster's
   * document, which arrives on every change made anywhere) a user that is still there is changed
   * in place and only vanished users' connections close.
   */
  private replaceAll(next: Map<string, AclUser>, keepSameNamed: boolean): void {
    const removed: AclUser[] = [];
    const changed: AclUser[] = [];
    assignUser(this.defaultUser, next.get('default') ?? this.freshDefault());
    next.set('default', this.defaultUser);
    for (const [name, u] of this.users) {
      if (name === 'default') continue;
      const replacement = next.get(name);
      if (keepSameNamed && replacement !== undefined) {
        assignUser(u, replacement);
        next.set(name, u);
      } else {
        removed.push(u);
      }
    }
    this.users.clear();
    for (const [name, u] of next) {
      this.users.set(name, u);
      changed.push(u);
    }
    if (removed.length > 0) this.onRemoved(removed);
    this.onChanged(changed);
  }

  /** `user` lines of the config file, applied at start-up; a bad one is a start-up error. */
  applyConfigUsers(lines: ReadonlyArray<{ name: string; rules: Buffer[] }>): void {
    const seen = new Set<string>();
    for (const { name, rules } of lines) {
      if (seen.has(name)) throw new AclError(`Duplicate user '${name}': a user can only be defined once in config files`);
      seen.add(name);
      if (hasSpaces(Buffer.from(name, 'latin1'))) throw new AclError('Spaces not allowed in ACL usernames');
      let u = this.users.get(name);
      if (u === undefined) {
        u = newUser(name, this.commands.count, this.opts.pubsubAllChannels());
        this.users.set(name, u);
      } else {
        applyUserRule(u, Buffer.from('reset'), this.ctx());
      }
      for (const op of rules) {
        try {
          applyUserRule(u, op, this.ctx());
        } catch (err) {
          if (!(err instanceof AclRuleError)) throw err;
          throw new AclError(`Error loading ACL rule '${op.toString('latin1')}' for the user named '${name}': ${err.message}`);
        }
      }
      u.unrestricted = isUnrestricted(u);
    }
  }
}

