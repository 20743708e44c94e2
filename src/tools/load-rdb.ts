import { open, type FileHandle } from 'node:fs/promises';
import { Cluster, Redis } from 'ioredis';
import { UsageError } from '../core/startup-error.js';
import { withDumpFooter } from '../rdb/dump-payload.js';
import { functionRecords } from '../rdb/rdb-file.js';
import { rdbFileStream, type RdbFileEntry } from '../rdb/rdb-file-reader.js';

/**
 * `ringkv load-rdb`: moves the data of a Redis RDB file (a dump.rdb from redis-server, or a file
 * `redis-cli --rdb` took) into a running node or cluster, as a client: each key goes in with
 * RESTORE … REPLACE ABSTTL (its value's bytes are the DUMP payload's), pipelined, through ioredis's
 * Cluster when --cluster is given (redirections followed), and the function libraries with
 * FUNCTION RESTORE REPLACE. ringkv has database 0 only: keys of another database are left out and
 * counted, unless --db picks the database to load. Keys whose expiry has passed are left out, as
 * Redis leaves them out when it loads a file. The file is read twice, a piece at a time (checked,
 * then loaded), so a file larger than memory loads too.
 */

export const LOAD_RDB_USAGE = `Usage: ringkv load-rdb <file.rdb> [--host 127.0.0.1] [--port 6379] [-a <password>] [--cluster] [--db 0]

Loads the keys, expiries and function libraries of a Redis RDB file into a running ringkv node or
cluster (RESTORE … REPLACE ABSTTL, pipelined). The whole file is checked before anything is sent.

Options:
  --host <host>          a node's address (default 127.0.0.1)
  --port <port>          its client port (default 6379)
  -a, --password <pass>  AUTH password
  --cluster              the node is in a cluster: keys go to the node serving their slot
  --db <n>               the file's database to load into database 0 (default 0); keys of other
                         databases are left out and counted
  -h, --help             this text`;

/** RESTOREs per pipeline. */
const BATCH = 256;

interface Options {
  file: string;
  host: string;
  port: number;
  password: string | undefined;
  cluster: boolean;
  db: number;
}

function parseArgs(args: readonly string[]): Options {
  const opts: Options = { file: '', host: '127.0.0.1', port: 6379, password: undefined, cluster: false, db: 0 };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string => {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`, 'load-rdb');
      return v;
    };
    if (a === '--host') opts.host = value();
    else if (a === '--port') opts.port = Number(value());
    else if (a === '-a' || a === '--password') opts.password = value();
    else if (a === '--cluster') opts.cluster = true;
    else if (a === '--db') opts.db = Number(value());
    else if (a.startsWith('-')) throw new UsageError(`unknown option '${a}'`, 'load-rdb');
    else if (opts.file === '') opts.file = a;
    else throw new UsageError(`one file at a time (got '${opts.file}' and '${a}')`, 'load-rdb');
  }
  if (opts.file === '') throw new UsageError('which RDB file?', 'load-rdb');
  if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) throw new UsageError('--port must be 1..65535', 'load-rdb');
  if (!Number.isInteger(opts.db) || opts.db < 0) throw new UsageError('--db must be a database number', 'load-rdb');
  return opts;
}

export interface LoadSummary {
  keys: number;
  expired: number;
  otherDbs: number;
  functions: number;
  errors: string[];
}

export async function runLoadRdb(args: readonly string[]): Promise<void> {
  const opts = parseArgs(args);
  // A file that cannot be read or a node that cannot be reached is one line and exit code 1.
  const fail = (err: unknown): void => {
    console.error(`ringkv load-rdb: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  };
  let file: FileHandle;
  try {
    file = await open(opts.file, 'r');
  } catch (err) {
    return fail(err);
  }
  const client = opts.cluster
    ? new Cluster([{ host: opts.host, port: opts.port }], { redisOptions: { password: opts.password }, lazyConnect: true, clusterRetryStrategy: () => null })
    : new Redis({ host: opts.host, port: opts.port, password: opts.password, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  // Errors reach the caller through the commands; ioredis's own event would only repeat them.
  client.on('error', () => undefined);
  try {
    try {
      await client.connect();
    } catch (err) {
      throw new Error(`cannot reach ${opts.host}:${opts.port}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const s = await loadRdb(() => rdbFileStream(file), client, opts.db, Date.now());
    console.log(`ringkv load-rdb: ${s.keys} keys loaded, ${s.functions} function libraries, ${s.expired} expired keys and ${s.otherDbs} keys of other databases left out`);
    if (s.errors.length > 0) {
      for (const e of s.errors.slice(0, 20)) console.error(`ringkv load-rdb: ${e}`);
      console.error(`ringkv load-rdb: ${s.errors.length} keys not loaded`);
      process.exitCode = 1;
    }
  } catch (err) {
    fail(err);
  } finally {
    client.disconnect();
    await file.close();
  }
}

/** Loads the entries (read twice: checked, then sent) through `client`; what was loaded and left out. A bad file rejects before anything is sent, with the reason. */
export async function loadRdb(entries: () => AsyncIterable<RdbFileEntry>, client: Redis | Cluster, db: number, nowMs: number): Promise<LoadSummary> {
  // The whole file is read and checked (values, checksum) before anything is sent: a damaged
  // file loads nothing rather than its first part.
  for await (const entry of entries()) void entry;
  const summary: LoadSummary = { keys: 0, expired: 0, otherDbs: 0, functions: 0, errors: [] };
  const functions: Buffer[] = [];
  let batch: Array<{ key: Buffer; argv: Array<Buffer | string> }> = [];
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    // Sent together, not awaited one by one: ioredis writes them back to back to each node (a
    // cluster client cannot pipeline keys of several slots as one pipeline).
    const replies = await Promise.allSettled(batch.map((b) => client.call('RESTORE', ...b.argv)));
    replies.forEach((r, i) => {
      if (r.status === 'rejected') summary.errors.push(`${batch[i]!.key.toString('latin1')}: ${(r.reason as Error).message}`);
      else summary.keys++;
    });
    batch = [];
  };
  for await (const e of entries()) {
    if (e.kind === 'function') {
      functions.push(e.code);
      continue;
    }
    if (e.kind !== 'key') continue;
    if (e.db !== db) {
      summary.otherDbs++;
      continue;
    }
    if (e.expiresAtMs > 0 && e.expiresAtMs <= nowMs) {
      summary.expired++;
      continue;
    }
    const argv: Array<Buffer | string> = [e.key, String(e.expiresAtMs), withDumpFooter(e.typedValue), 'REPLACE', 'ABSTTL'];
    if (e.idleSeconds !== undefined) argv.push('IDLETIME', String(e.idleSeconds));
    else if (e.freq !== undefined) argv.push('FREQ', String(e.freq));
    batch.push({ key: e.key, argv });
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  if (functions.length > 0) {
    // One payload of every library, as FUNCTION DUMP makes it: FUNCTION2 opcode and code each.
    await client.call('FUNCTION', 'RESTORE', withDumpFooter(functionRecords(functions)), 'REPLACE');
    summary.functions = functions.length;
  }
  return summary;
}
