/**
 * Protected mode as Redis 7.0 has it (networking.c, clientAcceptHandler): while `protected-mode` is
 * yes and no password is set, a client connecting from anywhere but the loopback interface gets this
 * error and is disconnected. Redis 7.0 applies it whatever `bind` says, so binding 0.0.0.0 without a
 * password still only serves local clients until a password is set or protected mode is turned off.
 * The text is Redis 7.0's, byte for byte (its "Setup a an" included): tools match on it.
 */
export const PROTECTED_MODE_DENIED =
  "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.";

/** Loopback as Redis tests it: 127.0.0.0/8 and ::1, also in their IPv4-mapped IPv6 form. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}

/**
 * Whether a new connection from `remoteAddress` is refused. `defaultUserOpen` is Redis 7.0's test:
 * the default user is `nopass` (requirepass unset and no password given by ACL SETUSER); a default
 * user with a password, or without nopass, counts as a password set. An unknown remote address (the
 * socket closed before accept ran) is refused too: nothing says it is local.
 */
export function protectedModeRefuses(protectedMode: boolean, defaultUserOpen: boolean, remoteAddress: string | undefined): boolean {
  return protectedMode && defaultUserOpen && !isLoopbackAddress(remoteAddress);
}

/** A client on this host: through the Unix socket or from a loopback address (Redis's islocalClient). */
export function isLocalSession(session: { unixSocket?: boolean; addr: string }): boolean {
  if (session.unixSocket === true) return true;
  const colon = session.addr.lastIndexOf(':');
  return isLoopbackAddress(colon > 0 ? session.addr.slice(0, colon) : session.addr);
}
