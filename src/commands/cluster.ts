import { isSuspect } from '../cluster/collection-lineage.js';
import { ERR, ReplyError } from '../core/errors.js';
import { userKeyOf } from '../collections/record-keys.js';
import { keySlot } from '../cluster/slot.js';
import { clusterInfoText, clusterNodeLine, clusterNodesText, writeClusterShards, writeClusterSlots } from '../cluster/cluster-replies.js';
import type { ClusterFacade } from '../server/node-services.js';
import { command, container, type CommandContext, type CommandSpec } from './spec.js';
import { intArg, lower } from './args.js';
import { CLUSTER_HELP, helpReply } from './help-texts.js';

/**
 * CLUSTER LINKS: the bus connections in both directions, with Redis 7.0's fields. `events` is
 * what the connection waits for (r: reading always, w: while bytes wait to be sent), and both
 * buffer fields are the bytes waiting, which is what an operator looks at them for.
 */
function links(ctx: CommandContext): void {
  const all = cluster(ctx).busLinks?.() ?? [];
  ctx.out.arrayHeader(all.length);
  for (const l of all) {
    ctx.out.mapHeader(6);
    ctx.out.bulk('direction'); ctx.out.bulk(l.direction);
    ctx.out.bulk('node'); ctx.out.bulk(l.nodeId);
    ctx.out.bulk('create-time'); ctx.out.int(l.createdAt);
    ctx.out.bulk('events'); ctx.out.bulk(l.queuedBytes > 0 ? 'rw' : 'r');
    ctx.out.bulk('send-buffer-allocated'); ctx.out.int(l.queuedBytes);
    ctx.out.bulk('send-buffer-used'); ctx.out.int(l.queuedBytes);
  }
}

function cluster(ctx: CommandContext): ClusterFacade {
  const c = ctx.node.cluster;
  if (!c) throw new ReplyError(ERR.clusterDisabled);
  return c;
}

function slotArg(arg: Buffer, error = 'ERR Invalid slot'): number {
  const slot = intArg(arg);
  if (slot < 0 || slot >= 16384) throw new ReplyError(error);
  return slot;
}

/** Scanning strictly after this passes every element record (record-keys.ts) of a slot. */
const INTERNAL_RANGE_LAST = Buffer.from([0xff, 0xfe]);

function getKeysInSlot(ctx: CommandContext, argv: Buffer[]): void {
  cluster(ctx);
  const slot = intArg(argv[2]!);
  const count = intArg(argv[3]!);
  if (slot < 0 || slot >= 16384 || count < 0) throw new ReplyError('ERR Invalid slot or number of keys');
  const keys: Buffer[] = [];
  let after: Buffer | undefined;
  const now = Date.now();
  while (keys.length < count) {
    const r = ctx.node.store.scanSlotRaw(slot, after, Math.min(1000, count - keys.length + 100));
    for (const e of r.entries) {
      const rec = e.record;
      const key = userKeyOf(e.key);
      if (key === undefined || rec.type === 0 || (rec.expiresAt !== 0 && rec.expiresAt <= now)) continue;
      if (keys.length < count) keys.push(key);
    }
    if (r.next === null) break;
    // Past the user keys, a slot holds collection elements: skip them in one step.
    after = userKeyOf(r.next) === undefined ? INTERNAL_RANGE_LAST : r.next;
  }
  ctx.out.bulkArray(keys);
}

function meet(ctx: CommandContext, argv: Buffer[]): void {
  const c = cluster(ctx);
  const host = argv[2]!.toString();
  const port = Number(argv[3]!.toString());
  const busPort = argv.length > 4 ? Number(argv[4]!.toString()) : port + 10000;
  const valid = (p: number): boolean => Number.isInteger(p) && p > 0 && p < 65536;
  if (!valid(port) || !valid(busPort) || host === '') throw new ReplyError(`ERR Invalid node address specified: ${host}:${argv[3]!.toString()}`);
  c.meet(host, port, busPort);
  ctx.out.ok();
}

function replicas(ctx: CommandContext, argv: Buffer[]): void {
  const c = cluster(ctx);
  const id = argv[2]!.toString();
  if (!c.nodes().some((n) => n.id === id)) throw new ReplyError(`ERR Unknown node ${id}`);
  // Every ring member is a master; preference-list replicas are not Redis replicas.
  ctx.out.arrayHeader(0);
}

const unsupported = (name: string) => ({
  // Redis 7.0's categories of every one of them; CLUSTER RESET is also refused in scripts there.
  name, arity: -2, flags: name === 'reset' ? (['admin', 'noscript'] as const) : (['admin'] as const), categories: ['admin', 'slow', 'dangerous'],
  run: (): void => {
    throw new ReplyError(`ERR CLUSTER ${name.toUpperCase()} is not supported: ringkv places slots on its consistent-hash ring`);
  },
});

const clusterSpec = container('cluster', [], ['slow'], [
  { name: 'info', categories: ['slow'], arity: 2, flags: ['loading', 'stale'], run: (c) => c.out.verbatim(clusterInfoText(cluster(c))) },
  { name: 'nodes', categories: ['slow'], arity: 2, flags: ['loading', 'stale'], run: (c) => c.out.verbatim(clusterNodesText(cluster(c), c.session.tls)) },
  { name: 'slots', categories: ['slow'], arity: 2, flags: ['loading', 'stale'], run: (c) => writeClusterSlots(c.out, cluster(c), c.session.tls) },
  { name: 'shards', categories: ['slow'], arity: 2, flags: ['loading', 'stale'], run: (c) => writeClusterShards(c.out, cluster(c)) },
  { name: 'keyslot', categories: ['slow'], arity: 3, flags: ['loading', 'stale'], run: (c, a) => { cluster(c); c.out.int(keySlot(a[2]!)); } },
  { name: 'myid', categories: ['slow'], arity: 2, flags: ['loading', 'stale'], run: (c) => c.out.bulk(cluster(c).myId) },
  { name: 'links', categories: ['slow'], arity: 2, flags: ['stale'], run: links },
  { name: 'myshardid', arity: 2, flags: ['loading', 'stale'], run: (c) => c.out.bulk(cluster(c).myId) },
  { name: 'countkeysinslot', categories: ['slow'], arity: 3, flags: ['loading', 'stale'], run: (c, a) => { cluster(c); c.out.int(c.node.store.countKeysInSlot(slotArg(a[2]!), Date.now())); } },
  { name: 'getkeysinslot', categories: ['slow'], arity: 4, flags: ['loading', 'stale'], run: getKeysInSlot },
  { name: 'meet', categories: ['admin', 'slow', 'dangerous'], arity: -4, flags: ['admin'], run: meet },
  { name: 'replicas', categories: ['admin', 'slow', 'dangerous'], arity: 3, flags: ['admin', 'loading', 'stale'], run: replicas },
  { name: 'slaves', categories: ['admin', 'slow', 'dangerous'], arity: 3, flags: ['admin', 'loading', 'stale'], run: replicas },
  { name: 'count-failure-reports', categories: ['admin', 'slow', 'dangerous'], arity: 3, flags: ['admin', 'loading', 'stale'], run: (c) => { cluster(c); c.out.int(0); } },
  { name: 'saveconfig', categories: ['admin', 'slow', 'dangerous'], arity: 2, flags: ['admin', 'loading', 'stale'], run: (c) => { cluster(c); c.out.ok(); } },
  {
    name: 'myself', arity: 2, flags: ['loading', 'stale'],
    run: (c) => {
      const view = cluster(c);
      const me = view.nodes().find((n) => n.self)!;
      c.out.verbatim(clusterNodeLine(me, view.table, c.session.tls));
    },
  },
  unsupported('addslots'), unsupported('addslotsrange'), unsupported('delslots'), unsupported('delslotsrange'),
  unsupported('setslot'), unsupported('replicate'), unsupported('failover'), unsupported('forget'), unsupported('reset'), unsupported('flushslots'),
  { name: 'help', categories: ['slow'], arity: 2, flags: ['loading', 'stale'], run: (c) => helpReply(c, CLUSTER_HELP) },
]);

function setFlag(flag: 'readonlyMode', value: boolean) {
  return (ctx: CommandContext): void => {
    cluster(ctx);
    ctx.session[flag] = value;
    ctx.out.ok();
  };
}

/** RINGKV.CONSISTENCY [R <r>] [W <w>] | RESET — per-connection quorum override; replies [r, w]. */
function consistency(ctx: CommandContext, argv: Buffer[]): void {
  const n = ctx.node.config.int('replication-factor');
  const session = ctx.session;
  if (argv.length === 2 && lower(argv[1]!) === 'reset') session.consistency = undefined;
  else {
    if ((argv.length - 1) % 2 !== 0) throw new ReplyError(ERR.syntax);
    const next = { ...(session.consistency ?? {}) };
    for (let i = 1; i < argv.length; i += 2) {
      const which = lower(argv[i]!);
      const v = intArg(argv[i + 1]!);
      if (v < 1 || v > n) throw new ReplyError(`ERR quorum must be between 1 and the replication factor (${n})`);
      if (which === 'r') next.r = v;
      else if (which === 'w') next.w = v;
      else throw new ReplyError(ERR.syntax);
    }
    session.consistency = next;
  }
  ctx.out.arrayHeader(2);
  ctx.out.int(session.consistency?.r ?? ctx.node.config.int('read-quorum'));
  ctx.out.int(session.consistency?.w ?? ctx.node.config.int('write-quorum'));
}

/** Slots one RINGKV.DIGEST RANGE call may cover: a quarter of the slot space, about 80 KB of reply. */
const DIGEST_RANGE_MAX = 4096;

/**
 * RINGKV.DIGEST [slot] — the anti-entropy digest as 16 hex digits: over the slots this node
 * replicates (replicas of the same slots agree once converged), or of one slot.
 * RINGKV.DIGEST RANGE <start> <end> — per slot of the range, its digest if this node replicates the
 * slot in its current topology, else nil: lets a checker compare every slot among exactly its
 * replicas in a few requests, at any cluster size.
 */
function digest(ctx: CommandContext, argv: Buffer[]): void {
  const c = cluster(ctx);
  if (argv.length === 3 && lower(argv[1]!) === 'records') return digestRecords(ctx, slotArg(argv[2]!));
  if (argv.length === 4 && lower(argv[1]!) === 'range') {
    const start = slotArg(argv[2]!);
    const end = slotArg(argv[3]!);
    if (end < start || end - start + 1 > DIGEST_RANGE_MAX) throw new ReplyError(`ERR RANGE covers 1 to ${DIGEST_RANGE_MAX} slots, start <= end`);
    if (c.antiEntropyDigest(start) === undefined) throw new ReplyError('LOADING ringkv is building its anti-entropy index');
    const table = c.table;
    ctx.out.arrayHeader(end - start + 1);
    for (let slot = start; slot <= end; slot++) {
      if (table.replicas(slot).includes(c.myId)) ctx.out.bulk(c.antiEntropyDigest(slot)!.toString(16).padStart(16, '0'));
      else ctx.out.nullBulk();
    }
    return;
  }
  if (argv.length > 2) throw new ReplyError(ERR.syntax);
  const value = c.antiEntropyDigest(argv.length === 2 ? slotArg(argv[1]!) : undefined);
  if (value === undefined) throw new ReplyError('LOADING ringkv is building its anti-entropy index');
  ctx.out.bulk(value.toString(16).padStart(16, '0'));
}

/** Records one RINGKV.DIGEST RECORDS call lists, at most. */
const RECORDS_MAX = 10_000;

/**
 * RINGKV.DIGEST RECORDS <slot> — what this node's digest of the slot is made of: per record (element
 * records and tombstones included), its key and version (hex), value type and, for a collection's
 * metadata, whether it is marked suspect here (collection-lineage). For finding where replicas
 * that do not converge differ; at most 10,000 records.
 */
function digestRecords(ctx: CommandContext, slot: number): void {
  const rows: Array<[Buffer, string, number, number]> = [];
  let after: Buffer | undefined;
  while (rows.length < RECORDS_MAX) {
    const page = ctx.node.store.scanSlotRaw(slot, after, 1000);
    for (const e of page.entries) {
      if (rows.length >= RECORDS_MAX) break;
      rows.push([e.key, e.record.version.toString('hex'), e.record.type, isSuspect(e.record) ? 1 : 0]);
    }
    if (page.next === null) break;
    after = page.next;
  }
  ctx.out.arrayHeader(rows.length);
  for (const [key, version, type, suspect] of rows) {
    ctx.out.arrayHeader(4);
    ctx.out.bulk(key.toString('hex'));
    ctx.out.bulk(version);
    ctx.out.int(type);
    ctx.out.int(suspect);
  }
}

export const clusterCommands: CommandSpec[] = [
  clusterSpec,
  command({ name: 'readonly', arity: 1, flags: ['loading', 'stale', 'fast'], categories: ['fast', 'connection'], run: setFlag('readonlyMode', true) }),
  command({ name: 'readwrite', arity: 1, flags: ['loading', 'stale', 'fast'], categories: ['fast', 'connection'], run: setFlag('readonlyMode', false) }),
  command({ name: 'asking', arity: 1, flags: ['fast'], categories: ['fast', 'connection'], run: (c) => { cluster(c); c.session.asking = true; c.out.ok(); } }),
  command({
    name: 'ringkv.leave', arity: 1, flags: ['admin', 'noscript'], categories: ['admin', 'slow', 'dangerous'],
    run: (c) => {
      cluster(c).leave();
      c.out.ok();
    },
  }),
  command({ name: 'ringkv.consistency', arity: -1, flags: ['fast', 'loading', 'stale'], categories: ['fast', 'connection'], run: consistency }),
  command({ name: 'ringkv.digest', arity: -1, flags: ['readonly', 'loading', 'stale'], categories: ['slow'], run: digest }),
];
