/**
 * MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH pw] [AUTH2 user pw] [KEYS k …]
 * as Redis 7.0 answers it: each key is read with DUMP and PTTL through the node's own request
 * path (a quorum read in a cluster), sent to the target as RESTORE in one pipeline behind AUTH and
 * SELECT, and deleted here with DEL through the same path (a coordinated write) unless COPY,
 * once the target has accepted it. A key the target refused stays here, as in Redis.
 *
 * Redis blocks its whole server while MIGRATE talks to the target, so nothing changes a key
 * between its DUMP and its DEL; here only the connection's own later commands wait. A write to
 * a migrating key from another connection in that window is deleted with it (docs/decisions.md,
 * "Latency monitoring and MIGRATE").
 */
import { ERR, ReplyError } from '../core/errors.js';
import { type AsyncCommandContext, type CommandContext, type CommandSpec } from './spec.js';
import { command } from './spec.js';
import { intArg, lower } from './args.js';
import { exchange } from './migrate-link.js';
import type { Reply } from '../protocol/reply-reader.js';

interface MigrateArgs {
  host: string;
  port: number;
  db: number;
  timeoutMs: number;
  copy: boolean;
  replace: boolean;
  auth: Buffer[] | undefined;
  keys: Buffer[];
}

/** Where the keys are: argv[3], or everything after KEYS when argv[3] is empty. */
function migrateKeyIndexes(argv: readonly Buffer[]): number[] {
  for (let j = 6; j < argv.length; j++) {
    const a = lower(argv[j]!);
    if (a === 'auth') j++;
    else if (a === 'auth2') j += 2;
    else if (a === 'keys') {
      if (argv[3]!.length !== 0) break;
      return Array.from({ length: argv.length - j - 1 }, (_, i) => j + 1 + i);
    }
  }
  return [3];
}

/** Redis's checks in Redis's order: options first, then timeout, then the db index. */
function parseArgs(argv: Buffer[]): MigrateArgs {
  let copy = false;
  let replace = false;
  let auth: Buffer[] | undefined;
  let keys = [argv[3]!];
  for (let j = 6; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const a = lower(argv[j]!);
    if (a === 'copy') copy = true;
    else if (a === 'replace') replace = true;
    else if (a === 'auth') {
      if (more < 1) throw new ReplyError(ERR.syntax);
      auth = [argv[++j]!];
    } else if (a === 'auth2') {
      if (more < 2) throw new ReplyError(ERR.syntax);
      auth = [argv[j + 1]!, argv[j + 2]!];
      j += 2;
    } else if (a === 'keys') {
      if (argv[3]!.length !== 0) throw new ReplyError('ERR When using MIGRATE KEYS option, the key argument must be set to the empty string');
      keys = argv.slice(j + 1);
      break;
    } else throw new ReplyError(ERR.syntax);
  }
  const timeout = intArg(argv[5]!);
  const db = intArg(argv[4]!);
  return { host: argv[1]!.toString(), port: Number(argv[2]!.toString()), db, timeoutMs: timeout <= 0 ? 1000 : timeout, copy, replace, auth, keys };
}

const errorText = (r: Reply | undefined): string | undefined => (r?.kind === 'error' ? r.text : undefined);

async function migrate(ctx: AsyncCommandContext, argv: Buffer[]): Promise<void> {
  const args = parseArgs(argv);
  const reads = await ctx.exec(args.keys.flatMap((k) => [[Buffer.from('DUMP'), k], [Buffer.from('PTTL'), k]]));
  const found: Array<{ key: Buffer; ttl: bigint; payload: Buffer }> = [];
  for (let i = 0; i < args.keys.length; i++) {
    const dump = reads[2 * i]!;
    const pttl = reads[2 * i + 1]!;
    const refused = errorText(dump) ?? errorText(pttl);
    if (refused !== undefined) throw new ReplyError(refused);
    if (dump.kind !== 'bulk' || dump.value === null || pttl.kind !== 'int' || pttl.value === -2n) continue;
    // Redis sends at least 1 ms for a key with an expiry, 0 for none.
    found.push({ key: args.keys[i]!, ttl: pttl.value < 0n ? 0n : pttl.value < 1n ? 1n : pttl.value, payload: dump.value });
  }
  if (found.length === 0) return ctx.out.simple('NOKEY');

  const requests: Array<Array<Buffer | string>> = [];
  if (args.auth !== undefined) requests.push(['AUTH', ...args.auth]);
  requests.push(['SELECT', String(args.db)]);
  for (const f of found) requests.push(['RESTORE', f.key, f.ttl.toString(), f.payload, ...(args.replace ? ['REPLACE'] : [])]);
  const { replies, failure } = await exchange(args.host, args.port, args.timeoutMs, requests);
  if (failure === 'connect') throw new ReplyError('IOERR error or timeout connecting to the client');

  const head = requests.length - found.length;
  // Redis reports the first refusal, AUTH's and SELECT's before any RESTORE's.
  let targetError = errorText(replies[0]) ?? (head > 1 ? errorText(replies[1]) : undefined);
  const moved: Buffer[] = [];
  let socketError = false;
  for (let j = 0; j < found.length; j++) {
    const r = replies[head + j];
    if (r === undefined) {
      socketError = true;
      break;
    }
    const err = errorText(r);
    if (targetError === undefined && err !== undefined) targetError = err;
    else if (targetError === undefined) moved.push(found[j]!.key);
  }
  if (!args.copy && moved.length > 0) {
    const [del] = await ctx.exec([[Buffer.from('DEL'), ...moved]]);
    const refused = errorText(del);
    if (refused !== undefined) ctx.node.logger.warn({ error: refused }, 'MIGRATE: deleting the migrated keys here failed');
  }
  if (targetError !== undefined) throw new ReplyError(`ERR Target instance replied with error: ${targetError}`);
  if (socketError) throw new ReplyError(`IOERR error or timeout ${failure === 'write' ? 'writing' : 'reading'} to target instance`);
  ctx.out.ok();
}

export const migrateCommands: CommandSpec[] = [
  command({
    name: 'migrate', arity: -6, flags: ['write'], firstKey: 3, lastKey: 3, step: 1,
    categories: ['keyspace', 'write', 'slow', 'dangerous'],
    keyIndexes: migrateKeyIndexes,
    start: migrate,
    // EXEC and scripts run their commands in one go, with nothing allowed to wait.
    run: (_ctx: CommandContext) => {
      throw new ReplyError('ERR MIGRATE is not supported inside MULTI or scripts');
    },
  }),
];


