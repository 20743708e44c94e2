/**
 * Redis 7.0 settings ringkv takes and reports without effect: a redis.conf written for Redis (the
 * stock one of a distribution, a test suite's, a tool's) starts a node, and CONFIG GET / SET answer
 * as Redis would. Kinds, ranges, defaults and whether Redis changes them at run time are Redis 7.0's
 * (config.c), so a bad value is refused with Redis's reason. What does their job here: the commit
 * log and LMDB (AOF, RDB), the cluster bus and quorum replication (the replication link, cluster
 * failover), Node's own allocator and threads (jemalloc, THP, io-threads).
 */

import type { SettingSpec } from './config-schema.js';

/** Redis's LONG_MAX bound (as a number it rounds up to 2^63; config.ts prints it exactly). */
export const LONG_MAX = 2 ** 63;
const INT_MAX = 2_147_483_647;
const HELP = 'Accepted for compatibility; no effect.';

const s = (spec: SettingSpec): SettingSpec => spec;

/** `shutdown-on-sigint` / `-sigterm`: "default", or any of save|nosave, now, force (Redis 7.0). */
function normalizeShutdownFlags(raw: string): string {
  const words = raw.toLowerCase().split(' ').filter((w) => w !== '');
  const known = ['default', 'save', 'nosave', 'now', 'force'];
  if (words.length === 0 || words.some((w) => !known.includes(w))) throw new Error(`argument(s) must be one of the following: ${known.join(', ')}`);
  if (words.includes('default') && words.length > 1) throw new Error("'default' cannot be combined with other flags");
  if (words.includes('save') && words.includes('nosave')) throw new Error("'save' and 'nosave' cannot be combined");
  // CONFIG GET lists them in Redis's order, whatever order they were given in.
  return known.filter((k) => words.includes(k)).join(' ');
}

/** `oom-score-adj-values`: three integers -2000..2000 (background child, replica, primary). */
function normalizeOomScores(raw: string): string {
  const words = raw.split(' ').filter((w) => w !== '');
  if (words.length !== 3 || words.some((w) => !/^-?\d+$/.test(w) || Math.abs(Number(w)) > 2000)) throw new Error('Invalid oom-score-adj-values');
  return words.map(Number).join(' ');
}

export const INERT_SETTINGS: readonly SettingSpec[] = [
  // Encoding-tuning settings that test suites and tools set; ringkv has one layout per type.
  // Redis 7.0's kinds, ranges and defaults, so a bad value is refused with Redis's reason.
  ...([
    ['list-max-listpack-size', 'int', '-2', -2_147_483_648, INT_MAX],
    ['list-compress-depth', 'int', '0', 0, INT_MAX],
    ['set-max-listpack-entries', 'int', '128', 0, LONG_MAX], ['set-max-listpack-value', 'memory', '64'],
    ['stream-node-max-bytes', 'memory', '4096'],
    ['activerehashing', 'bool', 'yes'], ['lazyfree-lazy-user-del', 'bool', 'no'], ['lazyfree-lazy-user-flush', 'bool', 'no'],
    // Background-freeing, cron and snapshot-format knobs test suites and tools set: no effect here.
    ['lazyfree-lazy-eviction', 'bool', 'no'], ['lazyfree-lazy-expire', 'bool', 'no'], ['lazyfree-lazy-server-del', 'bool', 'no'],
    ['replica-lazy-flush', 'bool', 'no'], ['dynamic-hz', 'bool', 'yes'], ['rdbcompression', 'bool', 'yes'],
  ] as const).map(([name, kind, def, min, max]) => s({ name, kind, default: def, min, max, mutable: true, inert: true, help: HELP })),
  // Settings Redis 7.0 takes only at start-up (or, protected, not by default at run time).
  s({ name: 'appendfilename', kind: 'string', default: 'appendonly.aof', mutable: false, startupOnlyInRedis: true, inert: true, help: HELP }),
  s({ name: 'dbfilename', kind: 'string', default: 'dump.rdb', mutable: true, protected: true, inert: true, help: HELP }),
  s({ name: 'io-threads', kind: 'int', default: '1', min: 1, max: 128, mutable: false, startupOnlyInRedis: true, inert: true, help: HELP }),
  s({ name: 'rdbchecksum', kind: 'bool', default: 'yes', mutable: false, startupOnlyInRedis: true, inert: true, help: HELP }),
  s({ name: 'always-show-logo', kind: 'bool', default: 'no', mutable: false, startupOnlyInRedis: true, inert: true, help: HELP }),
  // Redis 7.0 settings of its AOF, RDB, defragmenter, replication link and process that tools and
  // test suites set: taken with Redis's kinds, ranges and defaults, no effect here (the commit log,
  // LMDB and the cluster bus do these jobs; a RESTORE payload is always checked in full).
  ...([
    ['aof-use-rdb-preamble', 'bool', 'yes'], ['aof-timestamp-enabled', 'bool', 'no'], ['aof-disable-auto-gc', 'bool', 'no'],
    ['auto-aof-rewrite-percentage', 'int', '100', 0, INT_MAX], ['auto-aof-rewrite-min-size', 'memory', '67108864'],
    ['activedefrag', 'bool', 'no'], ['active-defrag-cycle-min', 'int', '1', 1, 99], ['active-defrag-cycle-max', 'int', '25', 1, 99],
    ['active-defrag-threshold-lower', 'int', '10', 0, 1000], ['active-defrag-threshold-upper', 'int', '100', 0, 1000],
    ['active-defrag-ignore-bytes', 'memory', '104857600', 1, LONG_MAX], ['active-defrag-max-scan-fields', 'int', '1000', 1, LONG_MAX],
    ['shutdown-timeout', 'int', '10', 0, INT_MAX],
    ['repl-diskless-sync', 'bool', 'yes'], ['repl-diskless-sync-delay', 'int', '5', 0, INT_MAX],
    ['repl-diskless-sync-max-replicas', 'int', '0', 0, INT_MAX], ['repl-backlog-size', 'memory', '1048576', 1, LONG_MAX],
    ['repl-backlog-ttl', 'int', '3600', 0, LONG_MAX], ['repl-timeout', 'int', '60', 1, INT_MAX],
    ['repl-ping-replica-period', 'int', '10', 1, INT_MAX], ['replica-serve-stale-data', 'bool', 'yes'],
    ['replica-read-only', 'bool', 'yes'], ['replica-ignore-maxmemory', 'bool', 'yes'], ['replica-priority', 'int', '100', 0, INT_MAX],
  ] as const).map(([name, kind, def, min, max]) => s({ name, kind, default: def, min, max, mutable: true, inert: true, help: HELP })),
  ...([
    ['sanitize-dump-payload', 'no', ['no', 'yes', 'clients']], ['repl-diskless-load', 'disabled', ['disabled', 'on-empty-db', 'swapdb']],
    ['oom-score-adj', 'no', ['no', 'yes', 'relative', 'absolute']],
  ] as const).map(([name, def, values]) => s({ name, kind: 'enum', default: def, values, mutable: true, inert: true, help: HELP })),
  s({ name: 'masterauth', kind: 'string', default: '', mutable: true, inert: true, help: 'Accepted for compatibility; no effect (nodes authenticate each other with cluster-secret).' }),
  // Redis 7.0's hidden debugging knobs that test suites set (slow saves and loads, panics).
  ...([
    ['rdb-key-save-delay', -2_147_483_648], ['key-load-delay', -2_147_483_648], ['watchdog-period', 0],
  ] as const).map(([name, min]) => s({ name, kind: 'int', default: '0', min, max: INT_MAX, mutable: true, inert: true, hidden: true, help: HELP })),
  s({ name: 'loading-process-events-interval-bytes', kind: 'int', default: '2097152', min: 1024, max: INT_MAX, mutable: true, inert: true, hidden: true, help: HELP }),
  s({ name: 'use-exit-on-panic', kind: 'bool', default: 'no', mutable: true, inert: true, hidden: true, help: HELP }),
  // The rest of Redis 7.0's CONFIG GET *: persistence, replication, cluster failover, process.
  ...([
    ['aof-load-truncated', 'bool', 'yes'], ['aof-rewrite-incremental-fsync', 'bool', 'yes'], ['rdb-save-incremental-fsync', 'bool', 'yes'],
    ['rdb-del-sync-files', 'bool', 'no'], ['no-appendfsync-on-rewrite', 'bool', 'no'], ['stop-writes-on-bgsave-error', 'bool', 'yes'],
    ['cluster-allow-pubsubshard-when-down', 'bool', 'yes'], ['cluster-allow-replica-migration', 'bool', 'yes'],
    ['cluster-replica-no-failover', 'bool', 'no'], ['crash-log-enabled', 'bool', 'yes'], ['crash-memcheck-enabled', 'bool', 'yes'],
    ['jemalloc-bg-thread', 'bool', 'yes'], ['repl-disable-tcp-nodelay', 'bool', 'no'], ['replica-announced', 'bool', 'yes'],
    ['replica-ignore-disk-write-errors', 'bool', 'no'],
    ['cluster-migration-barrier', 'int', '1', 0, INT_MAX], ['cluster-replica-validity-factor', 'int', '10', 0, INT_MAX],
    ['min-replicas-max-lag', 'int', '10', 0, INT_MAX], ['min-replicas-to-write', 'int', '0', 0, INT_MAX],
    ['replica-announce-port', 'int', '0', 0, 65535],
    ['cluster-link-sendbuf-limit', 'memory', '0', 0, LONG_MAX],
    ['cluster-announce-hostname', 'string', ''], ['masteruser', 'string', ''], ['replica-announce-ip', 'string', ''],
    ['ignore-warnings', 'string', ''],
    ['bind-source-addr', 'string', ''],
  ] as const).map(([name, kind, def, min, max]) => s({ name, kind, default: def, min, max, mutable: true, inert: true, help: HELP })),
  ...([
    ['cluster-preferred-endpoint-type', 'ip', ['ip', 'hostname', 'unknown-endpoint']],
    ['propagation-error-behavior', 'ignore', ['ignore', 'panic', 'panic-on-replicas']],
  ] as const).map(([name, def, values]) => s({ name, kind: 'enum', default: def, values, mutable: true, inert: true, help: HELP })),
  s({ name: 'shutdown-on-sigint', kind: 'string', default: 'default', mutable: true, inert: true, help: 'Accepted for compatibility; a signal always shuts down gracefully (every acknowledged write is already logged).', normalize: normalizeShutdownFlags }),
  s({ name: 'shutdown-on-sigterm', kind: 'string', default: 'default', mutable: true, inert: true, help: 'Accepted for compatibility; a signal always shuts down gracefully (every acknowledged write is already logged).', normalize: normalizeShutdownFlags }),
  s({ name: 'oom-score-adj-values', kind: 'string', default: '0 200 800', mutable: true, inert: true, help: HELP, normalize: normalizeOomScores }),
  // Start-up only in Redis 7.0.
  s({ name: 'socket-mark-id', kind: 'int', default: '0', min: 0, max: 4_294_967_295, mutable: false, startupOnlyInRedis: true, inert: true, help: HELP }),
  ...([
    ['disable-thp', 'bool', 'yes'], ['io-threads-do-reads', 'bool', 'no'], ['syslog-enabled', 'bool', 'no'],
    ['appenddirname', 'string', 'appendonlydir'], ['cluster-config-file', 'string', 'nodes.conf'], ['syslog-ident', 'string', 'redis'],
    ['server_cpulist', 'string', ''], ['bio_cpulist', 'string', ''], ['aof_rewrite_cpulist', 'string', ''], ['bgsave_cpulist', 'string', ''],
  ] as const).map(([name, kind, def]) => s({ name, kind, default: def, mutable: false, startupOnlyInRedis: true, inert: true, help: HELP })),
  ...([
    ['enable-protected-configs', 'no', ['no', 'yes', 'local']],
    ['supervised', 'no', ['upstart', 'systemd', 'auto', 'no']],
    ['syslog-facility', 'local0', ['user', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7']],
  ] as const).map(([name, def, values]) => s({ name, kind: 'enum', default: def, values, mutable: false, startupOnlyInRedis: true, inert: true, help: HELP })),
];

/** Redis 7.0's old names of the settings above. */
export const INERT_ALIASES: ReadonlyArray<readonly [string, string]> = [
  ['cluster-slave-no-failover', 'cluster-replica-no-failover'],
  ['cluster-slave-validity-factor', 'cluster-replica-validity-factor'],
  ['min-slaves-max-lag', 'min-replicas-max-lag'],
  ['min-slaves-to-write', 'min-replicas-to-write'],
  ['slave-announce-ip', 'replica-announce-ip'],
  ['slave-announce-port', 'replica-announce-port'],
];
