/**
 * Passwords never reach MONITOR or SLOWLOG: AUTH's arguments, HELLO's after AUTH, and every
 * argument of ACL SETUSER (it may carry `>password`), replaced as Redis 7.0 replaces them.
 */
const REDACTED = Buffer.from('(redacted)');

export function redactSecrets(argv: readonly Buffer[]): readonly Buffer[] {
  const name = argv[0]!.toString('latin1').toLowerCase();
  if (name === 'auth') return [argv[0]!, ...argv.slice(1).map(() => REDACTED)];
  if (name === 'acl' && argv.length > 2 && argv[1]!.toString('latin1').toLowerCase() === 'setuser') {
    return [argv[0]!, argv[1]!, ...argv.slice(2).map(() => REDACTED)];
  }
  if (name !== 'hello') return argv;
  const out = [...argv];
  for (let i = 2; i < out.length; i++) {
    if (out[i]!.toString('latin1').toLowerCase() !== 'auth') continue;
    for (let j = i + 1; j <= i + 2 && j < out.length; j++) out[j] = REDACTED;
    break;
  }
  return out;
}
