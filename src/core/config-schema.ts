/**
 * Every setting ringkv has. Where Redis has the same setting it carries redis.conf's name, units and
 * default, so `ringkv server --port 7000 --dir ./d` reads like `redis-server --port 7000 --dir ./d`.
 */

import { DEFAULT_OUTPUT_LIMITS, formatOutputLimits, parseOutputLimits } from './output-limits.js';
import { formatNotifyFlags, parseNotifyFlags, storedNotifyFlags } from './notify-flags.js';
import { parsePercentiles, percentileName } from '../server/command-latency.js';
import { TLS_SETTINGS } from './tls-settings.js';
import { normalizeClientsLimit } from '../server/client-eviction.js';
import { normalizeProcTitleTemplate } from '../server/proc-title.js';
import { INERT_ALIASES, INERT_SETTINGS, LONG_MAX } from './config-inert.js';

export type SettingKind = 'int' | 'memory' | 'bool' | 'string' | 'enum';

export interface SettingSpec {
  name: string;
  kind: SettingKind;
  default: string;
  /** Allowed values for 'enum'. */
  values?: readonly string[];
  min?: number;
  max?: number;
  /** CONFIG SET may change it at run time. */
  mutable: boolean;
  /** Accepted and reported for tools written for Redis, but has no effect here. */
  inert?: boolean;
  /**
   * Redis 7.0 refuses CONFIG SET of it as a protected config (enable-protected-configs, off by
   * default): the error says so instead of "immutable".
   */
  protected?: boolean;
  help: string;
  /**
   * A setting with its own syntax: checks `raw` (throwing an Error whose message is the reason)
   * and returns its canonical form; `current` is the value it replaces, for settings that change
   * only what they name (client-output-buffer-limit).
   */
  normalize?: (raw: string, current: string | undefined) => string;
  /**
   * Redis 7.0 takes it only at start-up: CONFIG SET is refused even to the value in force. (A
   * setting only ringkv fixes at start-up, such as port or bind, takes CONFIG SET of its current
   * value as a no-op, so a tool that sets back every CONFIG GET * value goes through.)
   */
  startupOnlyInRedis?: boolean;
  /** Left out of CONFIG GET patterns (Redis's HIDDEN_CONFIG debugging knobs): only its exact name finds it. */
  hidden?: boolean;
  /** A warning to log at start-up when a config file or flag gives this value (`raw` as given). */
  startupWarning?: (raw: string) => string | undefined;
  /** How CONFIG GET shows the stored value, when Redis shows less than it keeps. */
  display?: (value: string) => string;
}

const s = (spec: SettingSpec): SettingSpec => spec;


/**
 * `save`: pairs of `<seconds> <changes>` (seconds at least 1, changes at least 0), or "" for none.
 * Redis 7.0 splits the value at each single space (so a doubled or trailing space makes an empty,
 * invalid word) and reads each word as strtoll does; anything else is its one reason. Kept as
 * CONFIG GET shows it, numbers as numbers.
 */
function normalizeSave(raw: string): string {
  if (raw === '') return '';
  const words = raw.split(' ');
  if (words.length % 2 !== 0) throw new Error('Invalid save parameters');
  const numbers = words.map((w, i) => {
    const n = /^\s*[+-]?\d+$/.test(w) ? Number(w) : w === '' ? 0 : NaN;
    if (Number.isNaN(n) || n < (i % 2 === 0 ? 1 : 0)) throw new Error('Invalid save parameters');
    return String(n);
  });
  return numbers.join(' ');
}

/** `hz`: Redis 7.0 accepts 0 - 2147483647 and keeps the value within 1 - 500 (CONFIG GET shows the kept one). */
function normalizeHz(raw: string): string {
  if (!/^-?\d+$/.test(raw)) throw new Error("argument couldn't be parsed into an integer");
  const n = Number(raw);
  if (n < 0 || n > 2_147_483_647) throw new Error('argument must be between 0 and 2147483647 inclusive');
  return String(Math.min(500, Math.max(1, n)));
}

/** `unixsocketperm`: octal permissions 0 - 777, as Redis reads them (CONFIG GET shows them octal). */
function normalizeSocketPerm(raw: string): string {
  if (!/^[0-7]+$/.test(raw)) throw new Error("argument couldn't be parsed into an integer");
  const n = parseInt(raw, 8);
  if (n > 0o777) throw new Error('argument must be between 0 and 777 inclusive');
  return n.toString(8);
}

/** `unixsocket`: the kernel keeps 107 bytes of a socket's path; a longer one would be cut silently. */
function checkSocketPath(raw: string): string {
  const max = 107;
  if (Buffer.byteLength(raw) > max) throw new Error(`unixsocket path too long (${max} chars max)`);
  return raw;
}

/** `replicaof`: only the empty value (no primary); anything else says what to use instead. */
function refuseReplicaof(raw: string): string {
  if (raw.trim() === '' || raw.trim().toLowerCase() === 'no one') return '';
  throw new Error('ringkv does not replicate from a Redis primary: its nodes replicate each other (cluster-enabled yes, cluster-seeds, replication-factor)');
}

export const SETTINGS: readonly SettingSpec[] = [
  s({ name: 'port', kind: 'int', default: '6379', min: 0, max: 65535, mutable: false, help: 'TCP port for clients.' }),
  s({ name: 'bind', kind: 'string', default: '127.0.0.1', mutable: false, help: 'Addresses to listen on, space separated.' }),
  s({ name: 'unixsocket', kind: 'string', default: '', mutable: false, startupOnlyInRedis: true, help: 'Path of a Unix socket to serve clients on as well; empty = none.', normalize: checkSocketPath }),
  s({ name: 'unixsocketperm', kind: 'string', default: '0', mutable: false, startupOnlyInRedis: true, help: 'Permissions of the Unix socket file, octal (e.g. 700); 0 = as the umask leaves them.', normalize: normalizeSocketPerm }),
  s({ name: 'tcp-backlog', kind: 'int', default: '511', min: 0, max: 2_147_483_647, mutable: false, startupOnlyInRedis: true, help: 'Backlog of the client listeners\' accept queues (the kernel caps it at somaxconn).' }),
  s({ name: 'daemonize', kind: 'bool', default: 'no', mutable: false, startupOnlyInRedis: true, help: 'Detach from the terminal and run in the background (the launching process exits once the node is started).' }),
  s({ name: 'pidfile', kind: 'string', default: '', mutable: false, startupOnlyInRedis: true, help: 'File the node writes its process id to once it serves, and removes when it stops; daemonize yes without it writes /var/run/redis.pid, as Redis.' }),
  s({ name: 'replicaof', kind: 'string', default: '', mutable: false, startupOnlyInRedis: true, help: 'Not supported: ringkv nodes replicate each other in a cluster (cluster-enabled yes, cluster-seeds), not from a Redis primary.', normalize: refuseReplicaof }),
  s({ name: 'dir', kind: 'string', default: './data', mutable: false, protected: true, help: 'Directory for the LMDB store and commit log.' }),
  s({ name: 'requirepass', kind: 'string', default: '', mutable: true, help: 'Password clients must AUTH with; empty = none.' }),
  s({ name: 'aclfile', kind: 'string', default: '', mutable: false, startupOnlyInRedis: true, help: 'ACL file of `user` lines read at start-up and by ACL LOAD, written by ACL SAVE; empty = none.' }),
  s({ name: 'acllog-max-len', kind: 'int', default: '128', min: 0, max: 2_147_483_647, mutable: true, help: 'Entries ACL LOG keeps.' }),
  s({ name: 'acl-pubsub-default', kind: 'enum', default: 'resetchannels', values: ['allchannels', 'resetchannels'], mutable: true, help: 'Channels a new ACL user may use: none (resetchannels) or all (allchannels).' }),
  s({ name: 'protected-mode', kind: 'bool', default: 'yes', mutable: true, help: 'Without requirepass, refuse clients that do not connect from the loopback interface.' }),
  s({ name: 'maxclients', kind: 'int', default: '10000', min: 1, max: 4_294_967_295, mutable: true, help: 'Most client connections at once.' }),
  s({ name: 'timeout', kind: 'int', default: '0', min: 0, max: 2_147_483_647, mutable: true, help: 'Close idle clients after this many seconds; 0 = never.' }),
  s({ name: 'tcp-keepalive', kind: 'int', default: '300', min: 0, max: 2_147_483_647, mutable: true, help: 'TCP keepalive interval in seconds.' }),
  s({ name: 'appendfsync', kind: 'enum', default: 'always', values: ['everysec', 'always', 'no'], mutable: true, help: 'When an acknowledged write is on disk: always (before the reply), everysec, no.' }),
  s({ name: 'checkpoint-interval-ms', kind: 'int', default: '5000', min: 10, max: 3_600_000, mutable: false, help: 'Milliseconds between checkpoints of a non-empty memtable into LMDB (the commit log replayed after a crash covers at most this much).' }),
  s({ name: 'appendonly', kind: 'bool', default: 'yes', mutable: true, inert: true, help: 'Reported for tools; the commit log is always on, so appendonly no changes nothing (every acknowledged write stays logged).' }),
  s({ name: 'save', kind: 'string', default: '3600 1 300 100 60 10000', mutable: true, inert: true, help: 'Reported for tools (Redis 7.0\'s default and config-file rules: each `save` line adds its points, `save ""` clears them); snapshots are not used, the commit log keeps every write.', normalize: normalizeSave }),
  s({ name: 'proto-max-bulk-len', kind: 'memory', default: '512mb', min: 1024 * 1024, mutable: true, help: 'Largest bulk argument and string value.' }),
  s({ name: 'client-query-buffer-limit', kind: 'memory', default: '1gb', min: 1024 * 1024, mutable: true, help: 'Unparsed bytes a client may send ahead before it is closed.' }),
  s({
    name: 'client-output-buffer-limit', kind: 'string', default: DEFAULT_OUTPUT_LIMITS, mutable: true,
    help: 'Output a slow reader may have queued before it is closed, per class: "<normal|replica|pubsub> <hard> <soft> <soft-seconds> …".',
    normalize: (raw, current) => formatOutputLimits(parseOutputLimits(raw, current === undefined ? undefined : parseOutputLimits(current))),
  }),
  s({
    name: 'notify-keyspace-events', kind: 'string', default: '', mutable: true,
    help: 'Keyspace notifications to publish, as Redis\'s class letters (K E g $ l s h z x e t m d n A); empty = none.',
    normalize: (raw) => storedNotifyFlags(parseNotifyFlags(raw)),
    display: (value) => formatNotifyFlags(parseNotifyFlags(value)),
  }),
  s({ name: 'hz', kind: 'string', default: '10', mutable: true, help: 'Background task frequency (active expiry) per second (0 - 2147483647 accepted, used within 1 - 500).', normalize: normalizeHz }),
  s({ name: 'active-expire-effort', kind: 'int', default: '1', min: 1, max: 10, mutable: true, help: 'Keys expired per tick scale with this (1–10).' }),
  s({
    name: 'databases', kind: 'int', default: '1', min: 1, max: 2_147_483_647, mutable: false, startupOnlyInRedis: true,
    help: 'Only database 0 exists: a config file\'s `databases 16` is taken (with a warning at start-up) and kept as 1, so CONFIG GET and SELECT agree.',
    normalize: () => '1',
    startupWarning: (raw) => (raw.trim() === '1' ? undefined : `databases ${raw}: ringkv keeps one database (db 0); SELECT of any other answers "ERR DB index is out of range"`),
  }),
  s({ name: 'loglevel', kind: 'enum', default: 'notice', values: ['debug', 'verbose', 'notice', 'warning', 'nothing'], mutable: true, help: 'Log verbosity.' }),
  s({ name: 'logfile', kind: 'string', default: '', mutable: false, startupOnlyInRedis: true, help: 'Log file; empty = standard output.' }),
  s({ name: 'debug-clock-offset-ms', kind: 'int', default: '0', min: -86_400_000, max: 86_400_000, mutable: true, help: 'Fault injection: skews this node\'s data-path clock (versions, expiry) by this many ms.' }),
  s({ name: 'metrics-port', kind: 'int', default: '0', min: 0, max: 65535, mutable: false, help: 'HTTP port for Prometheus metrics; 0 = off.' }),
  s({ name: 'metrics-password', kind: 'string', default: '', mutable: true, help: 'Password the metrics-port endpoint asks for (HTTP Basic, any user, or Bearer); empty = requirepass, if set.' }),
  s({ name: 'cluster-enabled', kind: 'bool', default: 'no', mutable: false, startupOnlyInRedis: true, help: 'Join a ringkv cluster (slots on a ring, quorum replication).' }),
  s({ name: 'cluster-port', kind: 'int', default: '0', min: 0, max: 65535, mutable: false, startupOnlyInRedis: true, help: 'Cluster bus port; 0 = port + 10000.' }),
  s({ name: 'cluster-lease-ms', kind: 'int', default: '3000', min: 200, max: 60_000, mutable: false, help: 'How long a slot lease lasts: a dead coordinator\'s read-modify-write slots move after at most this long.' }),
  s({ name: 'cluster-node-timeout', kind: 'int', default: '15000', min: 100, max: 3_600_000, mutable: true, help: 'ms without heartbeats before a peer is suspected.' }),
  s({ name: 'cluster-announce-ip', kind: 'string', default: '', mutable: true, help: 'Address advertised to clients and peers (NAT, containers).' }),
  s({ name: 'cluster-announce-port', kind: 'int', default: '0', min: 0, max: 65535, mutable: true, help: 'Client port advertised; 0 = port.' }),
  s({ name: 'cluster-announce-bus-port', kind: 'int', default: '0', min: 0, max: 65535, mutable: true, help: 'Bus port advertised; 0 = cluster-port.' }),
  s({ name: 'cluster-allow-reads-when-down', kind: 'bool', default: 'no', mutable: true, help: 'Serve reads while the cluster state is fail.' }),
  s({ name: 'cluster-require-full-coverage', kind: 'bool', default: 'yes', mutable: true, inert: true, help: 'Reported for tools.' }),
  s({ name: 'cluster-secret', kind: 'string', default: '', mutable: false, help: 'Shared secret peers must prove on the cluster bus; empty = requirepass.' }),
  s({ name: 'cluster-seeds', kind: 'string', default: '', mutable: false, help: 'Peers to meet at start: "host:port[@busport] …".' }),
  s({ name: 'cluster-proxy', kind: 'bool', default: 'no', mutable: true, help: 'Forward commands for other primaries instead of answering MOVED.' }),
  s({ name: 'cluster-zone', kind: 'string', default: '', mutable: false, help: 'Zone label; replicas are spread across zones.' }),
  s({ name: 'cluster-vnodes', kind: 'int', default: '128', min: 1, max: 4096, mutable: false, help: 'Virtual nodes (ring tokens) per node.' }),
  s({ name: 'replication-factor', kind: 'int', default: '3', min: 1, max: 16, mutable: true, help: 'N: replicas per key.' }),
  s({ name: 'write-quorum', kind: 'int', default: '2', min: 1, max: 16, mutable: true, help: 'W: durable acks before a write is acknowledged.' }),
  s({ name: 'read-quorum', kind: 'int', default: '2', min: 1, max: 16, mutable: true, help: 'R: replicas consulted before a read answers.' }),
  s({ name: 'cluster-dead-node-removal-ms', kind: 'int', default: '3600000', min: 0, max: 2_147_483_647 * 100, mutable: true, help: 'A node dead this long leaves the ring and its slots move to the others; 0 = never.' }),
  s({ name: 'cluster-rebalance-window-ms', kind: 'int', default: '600000', min: 0, max: 86_400_000, mutable: true, help: 'After a membership change, old replicas keep serving reads and receiving writes until every node reports the slots it gained synced, but no longer than this.' }),
  s({ name: 'cluster-sloppy-quorum', kind: 'bool', default: 'yes', mutable: true, help: 'Writes for unreachable replicas go to the next nodes on the ring as hints (no = strict quorums).' }),
  s({ name: 'hinted-handoff-max-bytes', kind: 'memory', default: '256mb', min: 1024 * 1024, mutable: true, help: 'Hint bytes kept per unreachable node; older hints beyond it are dropped (anti-entropy repairs them).' }),
  s({ name: 'hinted-handoff-window-ms', kind: 'int', default: '10800000', min: 1000, max: 2_147_483_647 * 100, mutable: true, help: 'Hints older than this are dropped; must stay below tombstone-grace-ms.' }),
  s({ name: 'cluster-discard-stale-data', kind: 'bool', default: 'no', mutable: false, help: 'A node whose data directory was last used longer ago than tombstone-grace-ms empties it at start and takes every key from its peers, instead of refusing to start (its deletions may have been purged elsewhere).' }),
  s({ name: 'tombstone-grace-ms', kind: 'int', default: '86400000', min: 0, max: 2_147_483_647 * 100, mutable: true, help: 'How long deletes are remembered; must be greater than hinted-handoff-window-ms.' }),
  s({ name: 'slowlog-log-slower-than', kind: 'int', default: '10000', min: -9_007_199_254_740_991, max: 9_007_199_254_740_991, mutable: true, help: 'Commands running longer than this many microseconds go to SLOWLOG; negative = none, 0 = all.' }),
  s({ name: 'latency-tracking', kind: 'bool', default: 'yes', mutable: true, help: 'Keep per-command latency distributions (INFO latencystats, LATENCY HISTOGRAM).' }),
  s({
    name: 'latency-tracking-info-percentiles', kind: 'string', default: '50 99 99.9', mutable: true,
    help: 'Percentiles INFO latencystats reports, space separated, each 0-100.',
    normalize: (raw) => parsePercentiles(raw).map(percentileName).join(' '),
  }),
  s({ name: 'latency-monitor-threshold', kind: 'int', default: '0', min: 0, max: 9_007_199_254_740_991, mutable: true, help: 'Milliseconds above which commands, fsyncs, checkpoints and quorum rounds are recorded for LATENCY LATEST / HISTORY; 0 = off.' }),
  s({ name: 'slowlog-max-len', kind: 'int', default: '128', min: 0, max: 9_007_199_254_740_991, mutable: true, help: 'Entries SLOWLOG keeps (the oldest go first).' }),
  s({ name: 'cluster-catch-up-timeout-ms', kind: 'int', default: '60000', min: 0, max: 86_400_000, mutable: true, help: 'Longest a node back from a restart, a partition or a stall stays out of coordinating its slots while it compares them with the other replicas and takes its hints; 0 = serve at once.' }),
  s({ name: 'anti-entropy-interval-ms', kind: 'int', default: '1000', min: 0, max: 3_600_000, mutable: true, help: 'ms between anti-entropy rounds (Merkle digests compared with peer replicas); 0 = off.' }),
  s({ name: 'anti-entropy-keys-per-second', kind: 'int', default: '10000', min: 1, max: 100_000_000, mutable: true, help: 'Keys anti-entropy may list or move per second, to bound its share of CPU and network.' }),
  s({ name: 'anti-entropy-split-records', kind: 'int', default: '512', min: 0, max: 1_000_000, mutable: false, help: 'Records above which an anti-entropy digest of a slot is split into 64 finer ones (up to 4 levels), so a difference in a large collection lists about this many records instead of a 64th of the slot; 0 = only the 64 buckets per slot.' }),
  s({ name: 'set-max-intset-entries', kind: 'int', default: '512', min: 0, max: 2_147_483_647, mutable: true, help: 'A set of integers only reports OBJECT ENCODING intset up to this many members, hashtable after (as Redis 7.0).' }),
  s({ name: 'hll-sparse-max-bytes', kind: 'int', default: '3000', min: 0, max: 9_007_199_254_740_991, mutable: true, help: 'A HyperLogLog stays in the sparse encoding up to this many bytes, then turns dense (as Redis).' }),
  // Eviction (docs/decisions.md, "Eviction: what memory means"): Redis 7.0's names, ranges and defaults.
  s({ name: 'maxmemory', kind: 'memory', default: '0', min: 0, mutable: true, help: 'Logical size of the data set this node stores (keys, values, per-record overhead) above which it evicts or refuses writes; 0 = no limit.' }),
  s({
    name: 'maxmemory-clients', kind: 'string', default: '0', mutable: true,
    help: 'Memory all client connections together may hold (buffers, queued replies) before the biggest are closed: bytes, or a percentage of maxmemory ("10%"); 0 = never; CLIENT NO-EVICT exempts a connection.',
    normalize: (raw) => normalizeClientsLimit(raw),
  }),
  s({ name: 'maxmemory-policy', kind: 'enum', default: 'noeviction', values: ['volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'noeviction'], mutable: true, help: 'What goes when used memory exceeds maxmemory (Redis 7.0 policies).' }),
  s({ name: 'maxmemory-samples', kind: 'int', default: '5', min: 1, max: 2_147_483_647, mutable: true, help: 'Keys sampled per eviction round (approximated LRU/LFU/TTL).' }),
  s({ name: 'maxmemory-eviction-tenacity', kind: 'int', default: '10', min: 0, max: 100, mutable: true, help: 'How much work one command may spend evicting before it goes on (0-100).' }),
  s({ name: 'lfu-log-factor', kind: 'int', default: '10', min: 0, max: 2_147_483_647, mutable: true, help: 'LFU counter logarithm factor: higher = more hits to saturate the 8-bit counter.' }),
  s({ name: 'lfu-decay-time', kind: 'int', default: '1', min: 0, max: 2_147_483_647, mutable: true, help: 'Minutes after which an idle key\'s LFU counter is decremented by one; 0 = never.' }),
  s({ name: 'maxmemory-tracked-keys', kind: 'int', default: '200000', min: 1000, max: 100_000_000, mutable: true, help: 'Keys whose access time/frequency is kept in memory for LRU/LFU; colder keys count as least recently used.' }),
  // TLS for clients and the cluster bus (docs/decisions.md, "TLS for clients and the cluster bus").
  ...TLS_SETTINGS,
  // Encoding limits Redis 7.0 converts at: here they decide what OBJECT ENCODING reports and
  // whether a hash or sorted set answers in insertion order (listpack) or hash order.
  s({ name: 'hash-max-listpack-entries', kind: 'int', default: '512', min: 0, max: LONG_MAX, mutable: true, help: 'A hash is reported as listpack (and keeps insertion order) up to this many fields, hashtable after (as Redis 7.0).' }),
  s({ name: 'hash-max-listpack-value', kind: 'memory', default: '64', mutable: true, help: 'A hash with a field or value longer than this many bytes is reported as hashtable (as Redis 7.0).' }),
  s({ name: 'zset-max-listpack-entries', kind: 'int', default: '128', min: 0, max: LONG_MAX, mutable: true, help: 'A sorted set is reported as listpack up to this many members, skiplist after (as Redis 7.0).' }),
  s({ name: 'zset-max-listpack-value', kind: 'memory', default: '64', mutable: true, help: 'A sorted set with a member longer than this many bytes is reported as skiplist (as Redis 7.0).' }),
  s({ name: 'stream-node-max-entries', kind: 'int', default: '100', min: 0, max: LONG_MAX, mutable: true, help: 'Entries a stream node takes before XADD starts the next; approximate trimming (~) removes whole nodes, as Redis 7.0 (its byte limit, stream-node-max-bytes, is not modelled).' }),
  s({ name: 'enable-debug-command', kind: 'enum', default: 'local', values: ['no', 'yes', 'local'], mutable: false, startupOnlyInRedis: true, help: 'Who may run DEBUG: everyone (yes), local connections only (local: loopback or the Unix socket), nobody (no). Redis 7.0 defaults to no; ringkv to local, for the tools on the node\'s own host.' }),
  s({ name: 'enable-module-command', kind: 'enum', default: 'no', values: ['no', 'yes', 'local'], mutable: false, startupOnlyInRedis: true, help: 'Who may run MODULE (which loads nothing here: ringkv takes no modules): yes, local or no, as Redis 7.0.' }),
  s({ name: 'set-proc-title', kind: 'bool', default: 'yes', mutable: false, startupOnlyInRedis: true, help: 'Set the process title ps shows from proc-title-template.' }),
  s({ name: 'proc-title-template', kind: 'string', default: '{title} {listen-addr} {server-mode}', mutable: true, help: 'What ps shows for the node (set-proc-title yes): {title} {listen-addr} {server-mode} {port} {tls-port} {unixsocket} {config-file}, as Redis 7.0.', normalize: normalizeProcTitleTemplate }),
  s({ name: 'tracking-table-max-keys', kind: 'int', default: '1000000', min: 0, max: LONG_MAX, mutable: true, help: 'Keys CLIENT TRACKING remembers for default-mode clients; past it the oldest are invalidated and forgotten (0 = no limit).' }),
  s({ name: 'busy-reply-threshold', kind: 'int', default: '5000', min: 0, max: LONG_MAX, mutable: true, help: 'Milliseconds a script or function runs before other clients get -BUSY and SCRIPT KILL / FUNCTION KILL may stop it (as Redis 7.0).' }),
  // Redis 7.0 settings taken for config files and tools, without effect here (config-inert.ts).
  ...INERT_SETTINGS,
];

/**
 * Redis 7.0's old names (config.c's alias of each standardConfig): the same setting under a second
 * name, for CONFIG GET / SET and config files. Setting either changes both; CONFIG GET with a
 * pattern lists both, as Redis does.
 */
export const ALIASES: ReadonlyMap<string, string> = new Map([
  ['hash-max-ziplist-entries', 'hash-max-listpack-entries'],
  ['hash-max-ziplist-value', 'hash-max-listpack-value'],
  ['zset-max-ziplist-entries', 'zset-max-listpack-entries'],
  ['zset-max-ziplist-value', 'zset-max-listpack-value'],
  ['list-max-ziplist-size', 'list-max-listpack-size'],
  ['lua-time-limit', 'busy-reply-threshold'],
  ['slave-lazy-flush', 'replica-lazy-flush'],
  ['repl-ping-slave-period', 'repl-ping-replica-period'],
  ['slave-serve-stale-data', 'replica-serve-stale-data'],
  ['slave-read-only', 'replica-read-only'],
  ['slave-ignore-maxmemory', 'replica-ignore-maxmemory'],
  ['slave-priority', 'replica-priority'],
  ['slaveof', 'replicaof'],
  ...INERT_ALIASES,
]);

/** Every name a setting answers to, its aliases included, to its spec. */
export const SETTINGS_BY_NAME: ReadonlyMap<string, SettingSpec> = new Map([
  ...SETTINGS.map((x): [string, SettingSpec] => [x.name, x]),
  ...[...ALIASES].map(([alias, name]): [string, SettingSpec] => [alias, SETTINGS.find((x) => x.name === name)!]),
]);
