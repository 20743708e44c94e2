import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { ERR, ReplyError } from '../core/errors.js';
import type { SnapshotRequest } from '../server/session-state.js';
import { command, type CommandContext, type CommandSpec } from './spec.js';
import { intArg, lower } from './args.js';
import { writeRdbSnapshot } from './rdb-snapshot.js';

/**
 * Redis's replication commands. ringkv nodes replicate among themselves over the cluster bus, so
 * following another server or feeding a Redis replica cannot be done; those answer one clear
 * error instead of "unknown command". Where Redis 7.0 refuses a command in cluster mode, that is
 * the text (docs/decisions.md, "Admin commands Redis has and ringkv cannot honour"). What works is
 * the RDB-only handshake of backups (`redis-cli --rdb`): REPLCONF rdb-only, then SYNC or PSYNC.
 */

/**
 * A standalone node is a master with no replicas, so REPLICAOF NO ONE (which test harnesses and
 * failover scripts send) is what it already is: OK, as Redis answers a master. Following another
 * server is refused in either mode.
 */
function replicaOf(ctx: CommandContext, argv: Buffer[]): void {
  if (ctx.node.cluster === undefined && lower(argv[1]!) === 'no' && lower(argv[2]!) === 'one') {
    ctx.out.ok();
    return;
  }
  throw new ReplyError(REPLICAOF);
}

/** FAILOVER: Redis Cluster's refusal in cluster mode; a standalone node has no replica to hand over to, as Redis says. */
function failover(ctx: CommandContext, argv: Buffer[]): void {
  if (ctx.node.cluster !== undefined) throw new ReplyError('ERR FAILOVER not allowed in cluster mode. Use CLUSTER FAILOVER command instead.');
  // Redis 7.0's failoverCommand: the options are read first, each at most once.
  let timeout = false;
  let to = false;
  let force = false;
  let abort = false;
  for (let j = 1; j < argv.length; j++) {
    const opt = lower(argv[j]!);
    if (opt === 'timeout' && j + 1 < argv.length && !timeout) {
      if (intArg(argv[j + 1]!) <= 0) throw new ReplyError('ERR FAILOVER timeout must be greater than 0');
      timeout = true;
      j++;
    } else if (opt === 'to' && j + 2 < argv.length && !to) {
      intArg(argv[j + 2]!);
      to = true;
      j += 2;
    } else if (opt === 'force' && !force) force = true;
    else if (opt === 'abort' && !abort) abort = true;
    else throw new ReplyError(ERR.syntax);
  }
  if (abort && (timeout || to || force)) throw new ReplyError(ERR.syntax);
  if (abort) throw new ReplyError('ERR No failover in progress.');
  throw new ReplyError('ERR FAILOVER requires connected replicas.');
}

/**
 * REPLCONF as the RDB-only clients send it (`redis-cli --rdb` and `--functions-rdb`, backup
 * tools): `capa`, `rdb-only` and `rdb-filter-only`, with Redis 7.0's checks and replies. Any other
 * option (listening-port, ack …) belongs to a replica following this node, which ringkv cannot
 * feed: refused as before.
 */
function replconf(ctx: CommandContext, argv: Buffer[]): void {
  if (argv.length % 2 === 0) throw new ReplyError(ERR.syntax);
  const req: SnapshotRequest = { ...(ctx.session.snapshotRequest ?? { rdbOnly: false, data: true, functions: true, eofCapable: false }) };
  for (let j = 1; j < argv.length; j += 2) {
    const opt = lower(argv[j]!);
    const value = argv[j + 1]!;
    if (opt === 'capa') {
      if (lower(value) === 'eof') req.eofCapable = true;
    } else if (opt === 'rdb-only') {
      const n = intArg(value);
      if (n < 0 || n > 1) throw new ReplyError('ERR value is out of range, value must between 0 and 1');
      req.rdbOnly = n === 1;
    } else if (opt === 'rdb-filter-only') {
      // Only "include" filters, of which there is one: functions. An empty list includes nothing.
      req.data = false;
      req.functions = false;
      for (const filter of value.toString('latin1').split(' ').filter((f) => f !== '')) {
        if (filter.toLowerCase() !== 'functions') throw new ReplyError(`ERR Unsupported rdb-filter-only option: ${filter}`);
        req.functions = true;
      }
    } else {
      throw new ReplyError(NO_STREAM('REPLCONF'));
    }
  }
  ctx.session.snapshotRequest = req;
  ctx.out.ok();
}

/**
 * SYNC and PSYNC as backups use them: the RDB file (rdb-snapshot.ts), then the connection closes,
 * as Redis closes an rdb-only replica's. A client that announced `capa eof` gets Redis's diskless
 * form (`$EOF:<mark>` … mark); one that did not (`redis-cli --cluster backup` sends a bare SYNC)
 * gets `$<length>`, the file written to the data directory first as Redis's disk-based transfer
 * does. PSYNC answers +FULLRESYNC first and needs REPLCONF rdb-only 1: a Redis replica sends PSYNC
 * without it and wants the replication stream after the file, which ringkv cannot feed.
 */
function sync(psync: boolean) {
  return (ctx: CommandContext): void => {
    const req = ctx.session.snapshotRequest ?? { rdbOnly: false, data: true, functions: true, eofCapable: false };
    const stream = ctx.session.streamThenClose?.bind(ctx.session);
    if ((psync && !req.rdbOnly) || stream === undefined) throw new ReplyError(NO_STREAM(psync ? 'PSYNC' : 'SYNC'));
    const resync = psync ? `+FULLRESYNC ${randomBytes(20).toString('hex')} 0\r\n` : '';
    const client = ctx.session.addr;
    ctx.node.logger.info({ client, data: req.data, functions: req.functions, diskless: req.eofCapable }, 'sending an RDB snapshot');
    ctx.node.stats.syncFull++;
    stream(async (write) => {
      if (req.eofCapable) {
        const mark = randomBytes(20).toString('hex');
        await write(Buffer.from(`${resync}$EOF:${mark}\r\n`, 'latin1'));
        await writeRdbSnapshot(ctx, req, write);
        await write(Buffer.from(mark, 'latin1'));
        return;
      }
      await sendThroughFile(ctx, req, resync, write);
    }).then(
      () => ctx.node.logger.info({ client }, 'RDB snapshot sent'),
      (err: unknown) => ctx.node.logger.warn({ client, err: String(err) }, 'RDB snapshot not completed'),
    );
  };
}

/** Chunks read back from a snapshot file. */
const FILE_CHUNK_BYTES = 64 << 10;
/** How often a client waiting for a snapshot file to be written gets a newline. */
const KEEPALIVE_MS = 1000;
const NEWLINE = Buffer.from('\n');

/** The snapshot written to a file in the data directory, then sent as `$<length>` and its bytes; the file is removed either way. */
async function sendThroughFile(ctx: CommandContext, parts: { data: boolean; functions: boolean }, resync: string, write: (chunk: Buffer) => Promise<void>): Promise<void> {
  const file = path.join(ctx.node.config.str('dir'), `temp-sync-${process.pid}-${randomBytes(4).toString('hex')}.rdb`);
  const out = await fs.open(file, 'wx');
  try {
    // PSYNC's answer first, as Redis sends it before the transfer's keepalives.
    if (resync !== '') await write(Buffer.from(resync, 'latin1'));
    let size = 0;
    // While the file is written the client has nothing to read: a newline now and then, as Redis
    // sends during a disk-based transfer, tells it the node is alive (clients skip them).
    let keptAliveAt = Date.now();
    try {
      await writeRdbSnapshot(ctx, parts, async (chunk) => {
        await out.write(chunk);
        size += chunk.length;
        if (Date.now() - keptAliveAt >= KEEPALIVE_MS) {
          keptAliveAt = Date.now();
          await write(NEWLINE);
        }
      });
    } finally {
      await out.close();
    }
    await write(Buffer.from(`$${size}\r\n`, 'latin1'));
    const input = await fs.open(file, 'r');
    try {
      for (let at = 0; at < size; ) {
        const { bytesRead, buffer } = await input.read(Buffer.allocUnsafe(Math.min(FILE_CHUNK_BYTES, size - at)), 0, Math.min(FILE_CHUNK_BYTES, size - at), at);
        if (bytesRead === 0) throw new Error(`snapshot file ${file} ended early`);
        await write(buffer.subarray(0, bytesRead));
        at += bytesRead;
      }
    } finally {
      await input.close();
    }
  } finally {
    await fs.rm(file, { force: true });
  }
}

const ADMIN = ['admin', 'slow', 'dangerous'];
const REPLICAOF = 'ERR REPLICAOF not allowed in cluster mode.';
const NO_STREAM = (name: string): string => `ERR ${name} is not supported: ringkv nodes replicate among themselves, not to Redis replicas`;

export const replicationCommands: CommandSpec[] = [
  command({ name: 'replicaof', arity: 3, flags: ['admin', 'noscript', 'stale', 'no_async_loading'], categories: ADMIN, run: replicaOf }),
  command({ name: 'slaveof', arity: 3, flags: ['admin', 'noscript', 'stale', 'no_async_loading'], categories: ADMIN, run: replicaOf }),
  command({ name: 'failover', arity: -1, flags: ['admin', 'noscript', 'stale'], categories: ADMIN, run: failover }),
  command({ name: 'sync', arity: 1, flags: ['admin', 'noscript', 'no_async_loading', 'no_multi'], categories: ADMIN, run: sync(false) }),
  command({ name: 'psync', arity: -3, flags: ['admin', 'noscript', 'no_async_loading', 'no_multi'], categories: ADMIN, run: sync(true) }),
  command({ name: 'replconf', arity: -1, flags: ['admin', 'noscript', 'loading', 'stale', 'allow_busy'], categories: ADMIN, run: replconf }),
];
