/**
 * Redis's luaPushErrorBuff: an error text becomes the `err` string scripts see. "-CODE msg" keeps its
 * code, "-word" and a text without '-' get the generic ERR code; trailing CR/LF are trimmed.
 */
export function errorText(raw: string): string {
  let code = 'ERR';
  let msg = raw;
  if (raw.startsWith('-')) {
    const space = raw.indexOf(' ');
    if (space < 0) msg = raw.slice(1);
    else {
      code = raw.slice(1, space);
      msg = raw.slice(space + 1);
    }
  }
  msg = msg.replace(/^[\r\n]+|[\r\n]+$/g, '');
  return `${code} ${msg}`;
}

/** Texts Redis 7.0 answers from redis.call / redis.pcall (without the ERR code). */
export const CALL_ERR = {
  noArgs: 'Please specify at least one argument for this redis lib call',
  badArg: 'Lua redis lib command arguments must be strings or integers',
  unknown: 'Unknown Redis command called from script',
  arity: 'Wrong number of args calling Redis command from script',
  noscript: 'This Redis command is not allowed from script',
  readOnly: 'Write commands are not allowed from read-only scripts.',
  nonLocal: 'Script attempted to access a non local key in a cluster node',
  crossSlot: 'Script attempted to access keys that do not hash to the same slot',
  aclCommand: "The user executing the script can't run this command or subcommand",
  aclKey: "The user executing the script can't access at least one of the keys mentioned in the command arguments",
  aclChannel: "The user executing the script can't publish to the channel mentioned in the command",
} as const;

export const NOSCRIPT = 'NOSCRIPT No matching script. Please use EVAL.';
