import type { NotifyClass } from '../core/notify-flags.js';

/** What one command did to one key, as the recording keyspace saw it. */
export interface KeyChange {
  key: Buffer;
  /** The key was live before the command first touched it. */
  existed: boolean;
  /** A value, metadata or element of the key was written. */
  written: boolean;
  /** The key is gone at the end of the command (deleted, or its collection emptied). */
  deleted: boolean;
  /** Entries of the stream were removed (XADD's trimming: Redis adds `xtrim`). */
  entriesRemoved?: boolean;
  /** A consumer of a group was created (XREADGROUP, XCLAIM, XAUTOCLAIM: `xgroup-createconsumer`). */
  consumerCreated?: boolean;
}

/** One keyspace notification: published on `__keyspace@0__:<key>` and `__keyevent@0__:<event>`. */
export interface KeyEvent {
  cls: NotifyClass;
  event: string;
  key: Buffer;
}

const lower = (b: Buffer | undefined): string => (b === undefined ? '' : b.toString('latin1').toLowerCase());

/** Commands whose single event is named after a fixed word, by class. */
const SIMPLE: Record<string, [NotifyClass, string]> = {
  append: ['string', 'append'], setrange: ['string', 'setrange'],
  incr: ['string', 'incrby'], decr: ['string', 'incrby'], incrby: ['string', 'incrby'], decrby: ['string', 'incrby'],
  incrbyfloat: ['string', 'incrbyfloat'],
  persist: ['generic', 'persist'],
  hset: ['hash', 'hset'], hmset: ['hash', 'hset'], hsetnx: ['hash', 'hset'], hincrby: ['hash', 'hincrby'], hincrbyfloat: ['hash', 'hincrbyfloat'], hdel: ['hash', 'hdel'],
  lpush: ['list', 'lpush'], lpushx: ['list', 'lpush'], rpush: ['list', 'rpush'], rpushx: ['list', 'rpush'],
  linsert: ['list', 'linsert'], lset: ['list', 'lset'], lrem: ['list', 'lrem'], ltrim: ['list', 'ltrim'],
  lpop: ['list', 'lpop'], blpop: ['list', 'lpop'], rpop: ['list', 'rpop'], brpop: ['list', 'rpop'],
  sadd: ['set', 'sadd'], srem: ['set', 'srem'], spop: ['set', 'spop'],
  zincrby: ['zset', 'zincr'], zrem: ['zset', 'zrem'],
  zremrangebyscore: ['zset', 'zremrangebyscore'], zremrangebyrank: ['zset', 'zremrangebyrank'], zremrangebylex: ['zset', 'zremrangebylex'],
  zpopmin: ['zset', 'zpopmin'], bzpopmin: ['zset', 'zpopmin'], zpopmax: ['zset', 'zpopmax'], bzpopmax: ['zset', 'zpopmax'],
  // Bitmaps and HyperLogLog change strings; GEOADD is ZADD underneath, as in Redis.
  setbit: ['string', 'setbit'], bitfield: ['string', 'setbit'], pfadd: ['string', 'pfadd'], geoadd: ['zset', 'zadd'],
  restore: ['generic', 'restore'],
  xadd: ['stream', 'xadd'], xdel: ['stream', 'xdel'], xtrim: ['stream', 'xtrim'], xsetid: ['stream', 'xsetid'],
};

/** XGROUP subcommands and their events (stream class), when they changed something. */
const XGROUP: Record<string, string> = {
  create: 'xgroup-create', setid: 'xgroup-setid', destroy: 'xgroup-destroy',
  createconsumer: 'xgroup-createconsumer', delconsumer: 'xgroup-delconsumer',
};

/** Commands that store a computed value at a destination: its event, or `del` when the result is empty. */
const STORE: Record<string, [NotifyClass, string]> = {
  sinterstore: ['set', 'sinterstore'], sunionstore: ['set', 'sunionstore'], sdiffstore: ['set', 'sdiffstore'],
  zunionstore: ['zset', 'zunionstore'], zinterstore: ['zset', 'zinterstore'], zdiffstore: ['zset', 'zdiffstore'], zrangestore: ['zset', 'zrangestore'],
  pfmerge: ['string', 'pfadd'], geosearchstore: ['zset', 'geosearchstore'],
};

/** Where a command that stores elsewhere writes, when not its first key: the key after an option word. */
function storeTarget(name: string, argv: readonly Buffer[]): { key: Buffer; cls: NotifyClass; event: string } | undefined {
  if (name === 'bitop') return argv[2] === undefined ? undefined : { key: argv[2], cls: 'string', event: 'set' };
  const words = name === 'sort' ? ['store'] : name === 'georadius' || name === 'georadiusbymember' ? ['store', 'storedist'] : [];
  for (let i = argv.length - 2; i >= 2; i--) {
    if (!words.includes(lower(argv[i]))) continue;
    return name === 'sort' ? { key: argv[i + 1]!, cls: 'list', event: 'sortstore' } : { key: argv[i + 1]!, cls: 'zset', event: 'georadiusstore' };
  }
  return undefined;
}

const SET_LIKE = new Set(['set', 'setnx', 'setex', 'psetex', 'getset', 'mset', 'msetnx']);
const EXPIRE_LIKE = new Set(['expire', 'pexpire', 'expireat', 'pexpireat']);

/** Commands that produce keyspace notifications (others are not recorded at all). */
export function emitsEvents(name: string): boolean {
  return name in SIMPLE || name in STORE || SET_LIKE.has(name) || EXPIRE_LIKE.has(name) || [
    'getdel', 'getex', 'del', 'unlink', 'rename', 'renamenx', 'copy', 'smove', 'rpoplpush', 'brpoplpush', 'lmove', 'blmove',
    'lmpop', 'blmpop', 'zmpop', 'bzmpop', 'zadd', 'bitop', 'sort', 'georadius', 'georadiusbymember', 'xgroup',
    'xreadgroup', 'xclaim', 'xautoclaim',
  ].includes(name);
}

function hasOption(argv: readonly Buffer[], from: number, options: readonly string[]): boolean {
  for (let i = from; i < argv.length; i++) if (options.includes(lower(argv[i]))) return true;
  return false;
}

/**
 * The notifications a write command produces, as Redis 7.0 names and orders them, from what it
 * changed: the command's own event on each key it changed, `del` for a key it emptied or removed,
 * `expire` beside `set` when SET gave a TTL, and `new` for each key it created. Pure: the caller
 * records the changes (recording-keyspace.ts) and publishes the result. `touched`: the command's
 * first key when it ran on an existing key (and did not fail).
 */
export function deriveEvents(name: string, argv: readonly Buffer[], changes: readonly KeyChange[], touched?: Buffer): KeyEvent[] {
  const out = commandEvents(name, argv, changes, touched);
  // RENAME and COPY add their destination afresh (Redis deletes it first): always `new`.
  const readds = name === 'rename' || name === 'renamenx' || name === 'copy';
  const created = changes.filter((c) => (!c.existed || (readds && c.key.equals(argv[2]!))) && c.written && !c.deleted);
  // Redis publishes `new` from dbAdd, when the key is created: right before the key's own event
  // (MSET: new a, set a, new b, set b; SMOVE: srem src, new dst, sadd dst). RENAME adds its
  // destination before it publishes rename_from on the source; a key created without an event
  // of its own (XGROUP CREATE … MKSTREAM) comes first, as before.
  for (const c of created) {
    const at = name === 'rename' || name === 'renamenx' ? -1 : out.findIndex((e) => e.key.equals(c.key));
    out.splice(at < 0 ? 0 : at, 0, { cls: 'newKey', event: 'new', key: c.key });
  }
  return out;
}

/** The command's own events and `del`s, in Redis's order, without `new`. */
function commandEvents(name: string, argv: readonly Buffer[], changes: readonly KeyChange[], touched?: Buffer): KeyEvent[] {
  const out: KeyEvent[] = [];
  const push = (cls: NotifyClass, event: string, key: Buffer): void => {
    out.push({ cls, event, key });
  };
  const byKey = (key: Buffer | undefined): KeyChange | undefined => (key === undefined ? undefined : changes.find((c) => c.key.equals(key)));
  const changed = (c: KeyChange): boolean => c.written || (c.deleted && c.existed);
  const collectionEvent = (cls: NotifyClass, event: string, c: KeyChange | undefined): void => {
    if (c === undefined || !changed(c)) return;
    push(cls, event, c.key);
    if (c.deleted) push('generic', 'del', c.key);
  };

  // LTRIM and LSET notify whenever they run on an existing list, changed or not (as Redis).
  if ((name === 'ltrim' || name === 'lset') && changes.length === 0 && touched !== undefined) {
    push('list', name, touched);
    return out;
  }
  // Creating a consumer is the only notification of the reads and claims of a group (as Redis).
  if (name === 'xreadgroup' || name === 'xclaim' || name === 'xautoclaim') {
    for (const c of changes) if (c.consumerCreated) push('stream', 'xgroup-createconsumer', c.key);
    return out;
  }
  const simple = SIMPLE[name];
  if (simple !== undefined) {
    for (const c of changes) {
      collectionEvent(simple[0], simple[1], c);
      // XADD that trims: `xtrim` after `xadd`, as Redis's xaddCommand.
      if (name === 'xadd' && c.entriesRemoved && c.written) push('stream', 'xtrim', c.key);
    }
    return out;
  }
  const store = STORE[name];
  if (store !== undefined) {
    const dst = byKey(argv[1]);
    if (dst?.written && !dst.deleted) push(store[0], store[1], dst.key);
    else if (dst?.deleted && dst.existed) push('generic', 'del', dst.key);
    return out;
  }
  if (name === 'bitop' || name === 'sort' || name === 'georadius' || name === 'georadiusbymember') {
    const target = storeTarget(name, argv);
    const dst = target === undefined ? undefined : byKey(target.key);
    if (target === undefined || dst === undefined) return out;
    if (dst.written && !dst.deleted) push(target.cls, target.event, dst.key);
    else if (dst.deleted && dst.existed) push('generic', 'del', dst.key);
    return out;
  }
  if (name === 'xgroup') {
    const event = XGROUP[lower(argv[1])];
    const c = byKey(argv[2]);
    if (event !== undefined && c !== undefined && c.written) push('stream', event, c.key);
    return out;
  }
  if (name === 'mset' || name === 'msetnx') {
    // One `set` per pair, in argument order, a key given twice twice (msetGenericCommand).
    for (let i = 1; i + 1 < argv.length; i += 2) if (byKey(argv[i])?.written) push('string', 'set', argv[i]!);
    return out;
  }
  if (SET_LIKE.has(name)) {
    const ttl = name === 'setex' || name === 'psetex' || (name === 'set' && hasOption(argv, 3, ['ex', 'px', 'exat', 'pxat']));
    for (const c of changes) {
      if (!c.written) continue;
      push('string', 'set', c.key);
      if (ttl) push('generic', 'expire', c.key);
    }
    return out;
  }
  if (EXPIRE_LIKE.has(name) || name === 'getex') {
    const persist = name === 'getex' && hasOption(argv, 2, ['persist']);
    for (const c of changes) {
      if (c.deleted && c.existed) push('generic', 'del', c.key);
      else if (c.written) push('generic', persist ? 'persist' : 'expire', c.key);
    }
    return out;
  }
  switch (name) {
    case 'getdel':
    case 'del':
    case 'unlink':
      for (const c of changes) if (c.deleted && c.existed) push('generic', 'del', c.key);
      return out;
    case 'rename':
    case 'renamenx': {
      const src = byKey(argv[1]);
      const dst = byKey(argv[2]);
      if (src === undefined || dst === undefined || !dst.written) return out;
      push('generic', 'rename_from', src.key);
      push('generic', 'rename_to', dst.key);
      return out;
    }
    case 'copy': {
      const dst = byKey(argv[2]);
      if (dst?.written) push('generic', 'copy_to', dst.key);
      return out;
    }
    case 'zadd': {
      const incr = hasOption(argv, 2, ['incr']);
      for (const c of changes) collectionEvent('zset', incr ? 'zincr' : 'zadd', c);
      return out;
    }
    case 'smove': {
      const src = byKey(argv[1]);
      if (src === undefined || !changed(src)) return out;
      collectionEvent('set', 'srem', src);
      const dst = byKey(argv[2]);
      if (dst !== undefined && dst !== src && dst.written) push('set', 'sadd', dst.key);
      return out;
    }
    case 'rpoplpush':
    case 'brpoplpush':
    case 'lmove':
    case 'blmove': {
      const moving = name === 'lmove' || name === 'blmove';
      const from = moving ? (lower(argv[3]) === 'left' ? 'lpop' : 'rpop') : 'rpop';
      const to = moving ? (lower(argv[4]) === 'left' ? 'lpush' : 'rpush') : 'lpush';
      const src = byKey(argv[1]);
      if (src === undefined || !changed(src)) return out;
      // lmoveHandlePush notifies the push before the source's pop is notified.
      const dst = byKey(argv[2]);
      if (dst !== undefined) push('list', to, dst.key);
      push('list', from, src.key);
      if (src.deleted) push('generic', 'del', src.key);
      return out;
    }
    case 'lmpop':
    case 'blmpop':
    case 'zmpop':
    case 'bzmpop': {
      const list = name.endsWith('lmpop');
      const numkeysAt = name.startsWith('b') ? 2 : 1;
      const where = lower(argv[numkeysAt + 1 + Number(lower(argv[numkeysAt]))]);
      const event = list ? (where === 'left' ? 'lpop' : 'rpop') : where === 'min' ? 'zpopmin' : 'zpopmax';
      for (const c of changes) collectionEvent(list ? 'list' : 'zset', event, c);
      return out;
    }
  }
  return out;
}
