/**
 * Passwords never reach MONITOR or SLOWLOG: AUTH's arguments, HELLO's after AUTH, MIGRATE's after
 * AUTH and AUTH2, every argument of ACL SETUSER (it may carry `>password`), and the value of a
 * secret setting in CONFIG SET, replaced as Redis 7.0 replaces them.
 */
const REDACTED = Buffer.from('(redacted)');

/** Settings whose CONFIG SET value is redacted: Redis 7.0's SENSITIVE_CONFIG ones and ringkv's own secrets. */
const SECRET_SETTINGS = new Set(['requirepass', 'masterauth', 'masteruser', 'cluster-secret', 'metrics-password']);

export function redactSecrets(argv: readonly Buffer[]): readonly Buffer[] {
  const name = argv[0]!.toString('latin1').toLowerCase();
  if (name === 'auth') return [argv[0]!, ...argv.slice(1).map(() => REDACTED)];
  if (name === 'acl' && argv.length > 2 && argv[1]!.toString('latin1').toLowerCase() === 'setuser') {
    return [argv[0]!, argv[1]!, ...argv.slice(2).map(() => REDACTED)];
  }
  if (name === 'migrate') return redactMigrate(argv);
  if (name === 'config' && argv.length > 3 && argv[1]!.toString('latin1').toLowerCase() === 'set') {
    // Every pair is looked at, also after one CONFIG SET refuses, as Redis does.
    const out = [...argv];
    for (let i = 2; i + 1 < out.length; i += 2) if (SECRET_SETTINGS.has(out[i]!.toString('latin1').toLowerCase())) out[i + 1] = REDACTED;
    return out;
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

/**
 * MIGRATE host port key db timeout [COPY] [REPLACE] [AUTH pw] [AUTH2 user pw] [KEYS k …]: Redis
 * redacts as it parses the options, so only up to KEYS (the keys after it stay, whatever they are
 * called) or up to the first option it refuses, and an AUTH without its value(s) stays as sent.
 */
function redactMigrate(argv: readonly Buffer[]): readonly Buffer[] {
  let out: Buffer[] | undefined;
  for (let j = 6; j < argv.length; j++) {
    const opt = argv[j]!.toString('latin1').toLowerCase();
    const more = argv.length - 1 - j;
    if (opt === 'copy' || opt === 'replace') continue;
    const hidden = opt === 'auth' ? 1 : opt === 'auth2' ? 2 : 0;
    if (hidden === 0 || more < hidden) break;
    out ??= [...argv];
    for (let k = 1; k <= hidden; k++) out[j + k] = REDACTED;
    j += hidden;
  }
  return out ?? argv;
}
