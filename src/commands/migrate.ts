/**
 * MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH pw] [AUTH2 user pw] [KEYS k …]
 * as Redis 7.0 answers it: each key is read with DUMP and PTTL through the node's own request
 * path (a quorum read in a cluster), sent to the target as RESTORE in one pipeline behind AUTH and
 * SELECT, and deleted here with DEL through the same path (a coordinated write) unless COPY,
 * once the target has accepted it. A key the target refused stays here, as in Redis.
 *
 * Redis blocks its whole server while MIGRATE talks to the target, so nothing changes a key
 * between its DUMP and its DEL. Here the keys are fenced instead (other clients' commands on them
 * wait) and the DEL only removes the versions that were sent (see `migrate` below).
 */
import { ERR, ReplyError } from '../core/errors.js';
import { type AsyncCommandContext, type CommandContext, type CommandSpec } from './spec.js';
import { command } from './spec.js';
import { intArg, lower } from './args.js';
import { exchange, type LinkFailure } from './migrate-link.js';
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

/** Attempts at a migration whose keys changed here while they were on their way (then it gives up). */
const MIGRATE_ATTEMPTS_MAX = 8;

interface Found {
  key: Buffer;
  ttl: bigint;
  payload: Buffer;
}

/** What the target did with one attempt's requests. */
interface Delivery {
  /** Keys the target took (RESTORE answered OK before any refusal). */
  moved: Buffer[];
  targetError: string | undefined;
  /** The exchange stopped short (Redis's IOERR is worded after where). */
  socketError: LinkFailure | undefined;
}

const cmd = (...parts: Array<string | Buffer>): Buffer[] => parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p));

/** DUMP and PTTL of every key (behind a WATCH of them all when `watch`). */
async function readKeys(ctx: AsyncCommandContext, keys: Buffer[], watch: boolean): Promise<Found[]> {
  const head = watch ? [cmd('WATCH', ...keys)] : [];
  const reads = await ctx.exec([...head, ...keys.flatMap((k) => [cmd('DUMP', k), cmd('PTTL', k)])]);
  const refusedWatch = watch ? errorText(reads[0]) : undefined;
  if (refusedWatch !== undefined) throw new ReplyError(refusedWatch);
  const found: Found[] = [];
  for (let i = 0; i < keys.length; i++) {
    const dump = reads[head.length + 2 * i]!;
    const pttl = reads[head.length + 2 * i + 1]!;
    const refused = errorText(dump) ?? errorText(pttl);
    if (refused !== undefined) throw new ReplyError(refused);
    if (dump.kind !== 'bulk' || dump.value === null || pttl.kind !== 'int' || pttl.value === -2n) continue;
    // Redis sends at least 1 ms for a key with an expiry, 0 for none.
    found.push({ key: keys[i]!, ttl: pttl.value < 0n ? 0n : pttl.value < 1n ? 1n : pttl.value, payload: dump.value });
  }
  return found;
}

/**
 * Sends AUTH, SELECT, a DEL of `gone` (keys an earlier attempt put there that no longer exist
 * here) and a RESTORE per found key (REPLACE over a key an earlier attempt put there) in one write.
 */
async function deliver(args: MigrateArgs, found: Found[], gone: Buffer[], restored: ReadonlySet<string>): Promise<Delivery> {
  const requests: Array<Array<Buffer | string>> = [];
  if (args.auth !== undefined) requests.push(['AUTH', ...args.auth]);
  requests.push(['SELECT', String(args.db)]);
  if (gone.length > 0) requests.push(['DEL', ...gone]);
  for (const f of found) {
    const replace = args.replace || restored.has(f.key.toString('latin1'));
    requests.push(['RESTORE', f.key, f.ttl.toString(), f.payload, ...(replace ? ['REPLACE'] : [])]);
  }
  const { replies, failure } = await exchange(args.host, args.port, args.timeoutMs, requests);
  if (failure === 'connect') throw new ReplyError('IOERR error or timeout connecting to the client');

  const head = requests.length - found.length;
  // Redis reports the first refusal, AUTH's and SELECT's before any RESTORE's.
  let targetError = errorText(replies[0]) ?? (args.auth !== undefined ? errorText(replies[1]) : undefined);
  const moved: Buffer[] = [];
  const short = replies.length < requests.length ? failure ?? 'read' : undefined;
  for (let j = 0; j < found.length; j++) {
    const r = replies[head + j];
    if (r === undefined) break;
    const err = errorText(r);
    if (targetError === undefined && err !== undefined) targetError = err;
    else if (targetError === undefined) moved.push(found[j]!.key);
  }
  return { moved, targetError, socketError: short };
}

/**
 * Deletes the moved keys here in MULTI/EXEC under the WATCH taken before their DUMP, so only the
 * versions that were sent are deleted. False when a key changed since (EXEC aborted): nothing was
 * deleted.
 */
async function deleteIfUnchanged(ctx: AsyncCommandContext, moved: Buffer[]): Promise<boolean> {
  const replies = await ctx.exec([cmd('MULTI'), cmd('DEL', ...moved), cmd('EXEC')]);
  const exec = replies[2];
  if (exec?.kind === 'array') {
    if (exec.items === null) return false;
    const refused = errorText(exec.items[0]);
    if (refused !== undefined) ctx.node.logger.warn({ error: refused }, 'MIGRATE: deleting the migrated keys here failed');
    return true;
  }
  const refused = errorText(exec) ?? errorText(replies[1]) ?? errorText(replies[0]);
  ctx.node.logger.warn({ error: refused }, 'MIGRATE: deleting the migrated keys here failed');
  return true;
}

/** Giving up: what the attempts put on the target is deleted there again (best effort), so the keys live here only. */
async function withdraw(args: MigrateArgs, restored: ReadonlySet<string>): Promise<void> {
  if (restored.size === 0) return;
  const keys = [...restored].map((id) => Buffer.from(id, 'latin1'));
  await exchange(args.host, args.port, args.timeoutMs, [...(args.auth !== undefined ? [['AUTH', ...args.auth]] : []), ['SELECT', String(args.db)], ['DEL', ...keys]]);
}

/**
 * Without COPY the keys are fenced on this node (other clients' commands on them wait, as Redis's
 * whole server waits) and WATCHed before their DUMP; the DEL runs in MULTI/EXEC under that WATCH.
 * When a write reached a key anyway (a coordinator elsewhere, a woken blocking command), EXEC aborts
 * and the migration runs again from the DUMP, replacing what the previous attempt put on the
 * target (and deleting there what is gone here). So the source only ever deletes the version the
 * target holds, and no acknowledged write is lost (docs/decisions.md, "MIGRATE: fenced and
 * compare-and-delete").
 */
async function migrate(ctx: AsyncCommandContext, argv: Buffer[]): Promise<void> {
  const args = parseArgs(argv);
  const watch = !args.copy;
  const release = watch ? ctx.fence(args.keys) : undefined;
  let watching = false;
  try {
    const restored = new Set<string>();
    for (let attempt = 1; ; attempt++) {
      watching = watch;
      const found = await readKeys(ctx, args.keys, watch);
      const present = new Set(found.map((f) => f.key.toString('latin1')));
      const gone = [...restored].filter((id) => !present.has(id)).map((id) => Buffer.from(id, 'latin1'));
      if (found.length === 0 && gone.length === 0) return ctx.out.simple('NOKEY');
      const { moved, targetError, socketError } = await deliver(args, found, gone, restored);
      for (const id of gone.map((k) => k.toString('latin1'))) restored.delete(id);
      for (const k of moved) restored.add(k.toString('latin1'));
      if (!args.copy && moved.length > 0) {
        watching = false;
        if (!(await deleteIfUnchanged(ctx, moved))) {
          if (attempt < MIGRATE_ATTEMPTS_MAX) continue;
          await withdraw(args, restored);
          throw new ReplyError('ERR MIGRATE aborted: the keys kept changing during the migration; they stay on this instance');
        }
      }
      if (targetError !== undefined) throw new ReplyError(`ERR Target instance replied with error: ${targetError}`);
      if (socketError !== undefined) throw new ReplyError(`IOERR error or timeout ${socketError === 'write' ? 'writing' : 'reading'} to target instance`);
      if (found.length === 0) return ctx.out.simple('NOKEY');
      return ctx.out.ok();
    }
  } finally {
    if (watching) await ctx.exec([cmd('UNWATCH')]).catch(() => undefined);
    release?.();
  }
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


