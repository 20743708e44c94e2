/**
 * An ACL user as Redis 7.0 keeps one: flags, SHA-256 password hashes, and selectors. The first
 * selector is the root one (the rules written outside parentheses); a command may run when any
 * selector allows it with all its keys and channels.
 */

/** Key pattern permissions (`~` = both, `%R~`, `%W~`). */
export const PERM_READ = 1;
export const PERM_WRITE = 2;
export const PERM_ALL = PERM_READ | PERM_WRITE;

export interface KeyPattern {
  pattern: Buffer;
  /** PERM_READ, PERM_WRITE or both. */
  perms: number;
}

export interface Selector {
  readonly root: boolean;
  /** Indexed by command id (acl-commands.ts): 1 = allowed. */
  allowed: Uint8Array;
  /**
   * Set by +@all / allcommands, kept until -@all: Redis's reserved "future commands" bit, which
   * decides whether the rules are described from +@all or from -@all.
   */
  future: boolean;
  /** Every bit set: no command check at all (Redis's SELECTOR_FLAG_ALLCOMMANDS). */
  allCommands: boolean;
  /** `+select|0`: first arguments allowed for a command whose bit is off, by command id. */
  firstArgs: Map<number, string[]>;
  allKeys: boolean;
  keys: KeyPattern[];
  allChannels: boolean;
  channels: Buffer[];
}

export interface AclUser {
  readonly name: string;
  enabled: boolean;
  nopass: boolean;
  /** 'sanitize-payload' / 'skip-sanitize-payload' once either was given (reset gives the first). */
  sanitize: 'sanitize-payload' | 'skip-sanitize-payload' | undefined;
  /** Lowercase hex SHA-256 of each password, in the order they were added. */
  passwords: string[];
  /** selectors[0] is the root selector. */
  selectors: Selector[];
  /**
   * Derived after every change: the user may run anything on any key and channel, so the
   * per-command check is skipped (the default user without restrictions costs nothing).
   */
  unrestricted: boolean;
}

export function newSelector(root: boolean, commandCount: number, allChannels: boolean): Selector {
  return {
    root, allowed: new Uint8Array(commandCount), future: false, allCommands: false, firstArgs: new Map(),
    allKeys: false, keys: [], allChannels, channels: [],
  };
}

/** A new user as ACL SETUSER creates it: off, no passwords, no commands, keys or channels. */
export function newUser(name: string, commandCount: number, pubsubAllChannels: boolean): AclUser {
  return {
    name, enabled: false, nopass: false, sanitize: undefined, passwords: [],
    selectors: [newSelector(true, commandCount, pubsubAllChannels)], unrestricted: false,
  };
}

export function copySelector(s: Selector): Selector {
  return {
    root: s.root, allowed: s.allowed.slice(), future: s.future, allCommands: s.allCommands,
    firstArgs: new Map([...s.firstArgs].map(([k, v]) => [k, [...v]])),
    allKeys: s.allKeys, keys: s.keys.map((k) => ({ ...k })), allChannels: s.allChannels, channels: [...s.channels],
  };
}

/** A copy of `u` under `name` (ACL SETUSER stages its changes on one). */
export function copyUser(u: AclUser, name = u.name): AclUser {
  return {
    name, enabled: u.enabled, nopass: u.nopass, sanitize: u.sanitize, passwords: [...u.passwords],
    selectors: u.selectors.map(copySelector), unrestricted: u.unrestricted,
  };
}

/**
 * Gives `target` the rules of `source`, keeping the object: connections hold their user by
 * reference, so a changed user applies to them at once (Redis: ACLCopyUser).
 */
export function assignUser(target: AclUser, source: AclUser): void {
  target.enabled = source.enabled;
  target.nopass = source.nopass;
  target.sanitize = source.sanitize;
  target.passwords = [...source.passwords];
  target.selectors = source.selectors.map(copySelector);
  target.unrestricted = isUnrestricted(target);
}

export function isUnrestricted(u: AclUser): boolean {
  const root = u.selectors[0]!;
  return root.allCommands && root.allKeys && root.allChannels;
}

/** Whether a connection must authenticate before it may run commands as this (default) user. */
export function requiresAuth(defaultUser: AclUser): boolean {
  return !defaultUser.nopass || !defaultUser.enabled;
}
