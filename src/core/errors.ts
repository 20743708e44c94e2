/**
 * Error texts clients pattern-match on. Each string is the reply text without the leading '-'.
 * Keep them byte-for-byte equal to Redis's (see shared REDIS-COMPAT.md §2, §5.4).
 */
export const ERR = {
  syntax: 'ERR syntax error',
  notInteger: 'ERR value is not an integer or out of range',
  notFloat: 'ERR value is not a valid float',
  wrongType: 'WRONGTYPE Operation against a key holding the wrong kind of value',
  noAuth: 'NOAUTH Authentication required.',
  wrongPass: 'WRONGPASS invalid username-password pair or user is disabled.',
  noSuchKey: 'ERR no such key',
  overflow: 'ERR increment or decrement would overflow',
  execAbort: 'EXECABORT Transaction discarded because of previous errors.',
  crossSlot: "CROSSSLOT Keys in request don't hash to the same slot",
  clusterDown: 'CLUSTERDOWN The cluster is down',
  slotNotServed: 'CLUSTERDOWN Hash slot not served',
  clusterDisabled: 'ERR This instance has cluster support disabled',
  selectInCluster: 'ERR SELECT is not allowed in cluster mode',
  invalidExpire: (cmd: string): string => `ERR invalid expire time in '${cmd}' command`,
  wrongArity: (fullName: string): string => `ERR wrong number of arguments for '${fullName}' command`,
  unknownSubcommand: (sub: string, cmd: string): string =>
    `ERR unknown subcommand '${truncateForError(sub)}'. Try ${cmd.toUpperCase()} HELP.`,
  maxClients: 'ERR max number of clients reached',
  valueTooLarge: 'ERR string exceeds maximum allowed size',
} as const;

/**
 * Redis's addReplySubcommandSyntaxError, one text for an unknown subcommand and for a wrong
 * argument count: the subcommand as the client spelled it (cut at 128 bytes, as `%.128s`), the
 * command in capitals. Decoded as UTF-8 because error replies are written as UTF-8.
 */
export function subcommandSyntaxError(argv: readonly Buffer[]): ReplyError {
  return new ReplyError(
    `ERR unknown subcommand or wrong number of arguments for '${argv[1]!.subarray(0, 128).toString()}'. Try ${argv[0]!.toString().toUpperCase()} HELP.`,
  );
}

/** Redis cuts argument echoes in errors at 128 bytes. */
export function truncateForError(s: string): string {
  return s.length > 128 ? s.slice(0, 128) : s;
}

/**
 * `ERR unknown command '<name>', with args beginning with: '<a1>' '<a2>' ` — ioredis keys its RESP2
 * fallback on this exact text, so the trailing space after each quoted argument matters. As Redis
 * builds it: arguments are added while the quoted list is under 128 bytes, each cut to what is left
 * of those 128; C strings end at a NUL byte; every CR and LF becomes a space.
 */
export function unknownCommandError(name: string, args: Buffer[]): string {
  const cString = (s: string): string => (s.includes('\0') ? s.slice(0, s.indexOf('\0')) : s);
  let quoted = '';
  for (let i = 0; i < args.length && quoted.length < 128; i++) {
    quoted += `'${cString(args[i]!.toString('latin1')).slice(0, 128 - quoted.length)}' `;
  }
  const text = `ERR unknown command '${truncateForError(cString(name))}', with args beginning with: ${quoted}`;
  return text.replace(/[\r\n]/g, ' ');
}

/** A command failure whose message is sent to the client verbatim as an error reply. */
export class ReplyError extends Error {
  constructor(
    message: string,
    /**
     * INFO errorstats already counted this error where it arose: a script failing with the error
     * of a command it called (Redis 7.0's ignore_error_stats_update). The command that answers it
     * still counts as failed.
     */
    readonly alreadyCounted = false,
  ) {
    super(message);
    this.name = 'ReplyError';
  }
}
