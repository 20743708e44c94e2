import os from 'node:os';
import { REDIS_VERSION, RINGKV_VERSION } from './version.js';
import type { NodeServices } from '../server/node-services.js';
import { anonymousMemoryBytes, bytesToHuman } from '../server/eviction/memory-report.js';
import { parsePercentiles, percentileName, valueAtPercentile } from '../server/command-latency.js';
import { persistenceStatus } from '../server/persistence-refusal.js';
import { clientMemory } from '../server/client-memory.js';
import { startedScripting } from '../scripting/engine.js';

/** Every section, in Redis 7.0's order: INFO prints them in it whatever order they are asked in (`all` asks for each). */
const ORDER = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'modules', 'commandstats', 'errorstats', 'latencystats', 'cluster', 'keyspace', 'ringkv'];
const DEFAULT_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'modules', 'errorstats', 'cluster', 'keyspace'];

type Lines = Array<[string, string | number]>;

function server(node: NodeServices): Lines {
  const uptime = Math.floor((Date.now() - node.startedAt) / 1000);
  return [
    ['redis_version', REDIS_VERSION], ['ringkv_version', RINGKV_VERSION], ['redis_git_sha1', '00000000'],
    ['redis_git_dirty', 0], ['redis_build_id', '0'], ['redis_mode', node.cluster ? 'cluster' : 'standalone'],
    ['os', `${os.type()} ${os.release()} ${os.arch()}`], ['arch_bits', 64], ['monotonic_clock', 'POSIX clock_gettime'], ['multiplexing_api', 'epoll'],
    ['atomicvar_api', 'c11-builtin'], ['gcc_version', '0.0.0'], ['process_id', process.pid], ['process_supervised', 'no'], ['run_id', node.nodeId],
    ['tcp_port', node.port], ['server_time_usec', Date.now() * 1000], ['uptime_in_seconds', uptime],
    ['uptime_in_days', Math.floor(uptime / 86400)], ['hz', node.config.int('hz')], ['configured_hz', node.config.int('hz')],
    ['lru_clock', Math.floor(Date.now() / 1000) & 0xffffff], ['executable', process.argv[1] ?? ''], ['config_file', node.config.file ?? ''],
    ['io_threads_active', 0], ['listener0', `name=tcp,bind=${node.config.str('bind')},port=${node.port}`],
    // Redis lists its TLS listener the same way (listener1, name=tls).
    ...(node.config.int('tls-port') > 0 ? [['listener1', `name=tls,bind=${node.config.str('bind')},port=${node.config.int('tls-port')}`] as [string, string]] : []),
  ];
}

function clients(node: NodeServices): Lines {
  let n = 0;
  let maxQ = 0, maxO = 0, subscribers = 0, tracking = 0;
  for (const c of node.clients()) {
    n++;
    if (c.subscriptions.active) subscribers++;
    if (c.tracking !== undefined) tracking++;
    maxQ = Math.max(maxQ, c.queryBufferBytes);
    maxO = Math.max(maxO, c.outputBufferBytes);
  }
  return [
    ['connected_clients', n], ['cluster_connections', 0], ['maxclients', node.config.int('maxclients')],
    ['client_recent_max_input_buffer', maxQ], ['client_recent_max_output_buffer', maxO], ['blocked_clients', node.blockedClients.count + node.pause.held],
    ['tracking_clients', tracking], ['pubsub_clients', subscribers], ['watching_clients', 0], ['clients_in_timeout_table', 0],
    ['total_watched_keys', 0], ['total_blocking_keys', 0], ['total_blocking_keys_on_nokey', 0],
  ];
}

/** Redis's script and function counts; a node that never ran a script has none (its engine is not started for INFO). */
function scriptCounts(node: NodeServices): Lines {
  const engine = startedScripting(node);
  return [
    ['number_of_cached_scripts', engine?.cachedScriptCount() ?? 0],
    ['number_of_functions', engine?.functionCount() ?? 0],
    ['number_of_libraries', engine?.libraries.size ?? 0],
  ];
}

function clientsMemory(node: NodeServices): number {
  let n = 0;
  for (const c of node.clients()) n += clientMemory(c).total;
  return n;
}

function memory(node: NodeServices): Lines {
  // used_memory is the data set's logical size, what maxmemory limits (docs/decisions.md,
  // "Eviction: what memory means"); used_memory_rss is the process's anonymous memory.
  const used = node.eviction?.usedMemory() ?? node.store.dataBytes();
  const peak = Math.max(used, node.eviction?.peakMemory ?? 0);
  const rss = anonymousMemoryBytes();
  const max = node.config.int('maxmemory');
  const ratio = used > 0 ? (rss / used).toFixed(2) : '0.00';
  return [
    ['used_memory', used], ['used_memory_human', bytesToHuman(used)],
    ['used_memory_rss', rss], ['used_memory_rss_human', bytesToHuman(rss)], ['used_memory_peak', peak],
    ['used_memory_peak_human', bytesToHuman(peak)], ['used_memory_peak_perc', `${peak > 0 ? ((used * 100) / peak).toFixed(2) : '0.00'}%`],
    ['used_memory_overhead', 0], ['used_memory_startup', 0], ['used_memory_dataset', used], ['used_memory_dataset_perc', used > 0 ? '100.00%' : '0.00%'],
    // The allocator figures Redis takes from jemalloc: the process's anonymous memory here.
    ['allocator_allocated', rss], ['allocator_active', rss], ['allocator_resident', rss],
    ['total_system_memory', os.totalmem()], ['total_system_memory_human', bytesToHuman(os.totalmem())],
    ['used_memory_lua', 0], ['used_memory_vm_eval', 0], ['used_memory_lua_human', bytesToHuman(0)], ['used_memory_scripts_eval', 0],
    ...scriptCounts(node),
    ['used_memory_vm_functions', 0], ['used_memory_vm_total', 0], ['used_memory_vm_total_human', bytesToHuman(0)],
    ['used_memory_functions', 0], ['used_memory_scripts', 0], ['used_memory_scripts_human', bytesToHuman(0)],
    ['maxmemory', max], ['maxmemory_human', bytesToHuman(max)], ['maxmemory_policy', node.config.str('maxmemory-policy')],
    ['allocator_frag_ratio', '1.00'], ['allocator_frag_bytes', 0], ['allocator_rss_ratio', '1.00'], ['allocator_rss_bytes', 0],
    ['rss_overhead_ratio', '1.00'], ['rss_overhead_bytes', 0],
    ['mem_fragmentation_ratio', ratio], ['mem_fragmentation_bytes', rss - used], ['mem_not_counted_for_evict', 0],
    ['mem_replication_backlog', 0], ['mem_total_replication_buffers', 0],
    ['mem_clients_slaves', 0], ['mem_clients_normal', clientsMemory(node)], ['mem_cluster_links', 0], ['mem_aof_buffer', 0],
    ['mem_allocator', 'libc'], ['active_defrag_running', 0], ['lazyfree_pending_objects', 0], ['lazyfreed_objects', 0],
  ];
}

function persistence(node: NodeServices): Lines {
  const st = node.store.stats();
  // A checkpoint stands for Redis's RDB save: its failure is a failed bgsave (persistence-refusal.ts).
  const status = persistenceStatus(node.store);
  const lines: Lines = [
    ['loading', 0], ['async_loading', 0], ['current_cow_peak', 0], ['current_cow_size', 0], ['current_cow_size_age', 0],
    ['current_fork_perc', '0.00'], ['current_save_keys_processed', 0], ['current_save_keys_total', 0],
    // Changes since the last save: the records written since the last checkpoint (saves.ts).
    ['rdb_changes_since_last_save', st.memtableEntries! + st.frozenEntries!], ['rdb_bgsave_in_progress', node.saves.inProgress ? 1 : 0],
    ['rdb_last_save_time', node.saves.lastSave()],
    ['rdb_last_bgsave_status', status.checkpoint === 'ok' && node.saves.lastStatus === 'ok' ? 'ok' : 'err'],
    ['rdb_last_bgsave_time_sec', node.saves.lastSeconds], ['rdb_current_bgsave_time_sec', node.saves.currentSeconds()],
    ['rdb_saves', node.saves.count], ['rdb_last_cow_size', 0], ['rdb_last_load_keys_expired', 0], ['rdb_last_load_keys_loaded', 0],
    ['aof_enabled', 1], ['aof_rewrite_in_progress', 0], ['aof_rewrite_scheduled', 0], ['aof_last_rewrite_time_sec', -1],
    ['aof_current_rewrite_time_sec', -1], ['aof_last_bgrewrite_status', 'ok'], ['aof_rewrites', 0], ['aof_rewrites_consecutive_failures', 0],
    ['aof_last_write_status', status.aof], ['aof_last_cow_size', 0], ['module_fork_in_progress', 0], ['module_fork_last_cow_size', 0],
    ['appendfsync', node.config.str('appendfsync')],
  ];
  for (const [k, v] of Object.entries(st) as Array<[string, number]>) lines.push([`store_${k.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())}`, v]);
  return lines;
}

function stats(node: NodeServices): Lines {
  const s = node.stats;
  const trackingTotals = node.tracking.totals();
  return [
    ['total_connections_received', s.totalConnectionsReceived], ['total_commands_processed', s.totalCommandsProcessed],
    ['instantaneous_ops_per_sec', 0], ['total_net_input_bytes', s.totalNetInputBytes], ['total_net_output_bytes', s.totalNetOutputBytes],
    ['total_net_repl_input_bytes', 0], ['total_net_repl_output_bytes', 0], ['instantaneous_input_kbps', '0.00'], ['instantaneous_output_kbps', '0.00'],
    ['instantaneous_input_repl_kbps', '0.00'], ['instantaneous_output_repl_kbps', '0.00'],
    ['rejected_connections', s.rejectedConnections], ['sync_full', s.syncFull], ['sync_partial_ok', 0], ['sync_partial_err', 0],
    ['expired_keys', s.expiredKeys], ['expired_stale_perc', '0.00'], ['expired_time_cap_reached_count', 0], ['expire_cycle_cpu_milliseconds', 0],
    ['evicted_keys', node.eviction?.evictedKeys ?? 0], ['evicted_clients', s.evictedClients], ['total_eviction_exceeded_time', 0], ['current_eviction_exceeded_time', 0],
    ['keyspace_hits', s.keyspaceHits], ['keyspace_misses', s.keyspaceMisses], ['pubsub_channels', node.pubsub.registry.size('channel')], ['pubsub_patterns', node.pubsub.registry.size('pattern')],
    ['pubsubshard_channels', node.pubsub.registry.size('shard')], ['latest_fork_usec', 0], ['total_forks', 0], ['migrate_cached_sockets', 0],
    ['slave_expires_tracked_keys', 0], ['active_defrag_hits', 0], ['active_defrag_misses', 0], ['active_defrag_key_hits', 0], ['active_defrag_key_misses', 0],
    ['total_active_defrag_time', 0], ['current_active_defrag_time', 0], ['tracking_total_keys', trackingTotals.keys], ['tracking_total_items', trackingTotals.items], ['tracking_total_prefixes', trackingTotals.prefixes],
    ['unexpected_error_replies', 0], ['total_error_replies', s.errorReplies], ['dump_payload_sanitizations', 0],
    ['total_reads_processed', 0], ['total_writes_processed', 0], ['io_threaded_reads_processed', 0], ['io_threaded_writes_processed', 0],
    ['reply_buffer_shrinks', 0], ['reply_buffer_expands', 0],
    ['client_output_buffer_limit_disconnections', s.outputLimitDisconnections], ['concurrent_writes_detected', s.concurrentWrites],
  ];
}

/** A master without Redis replicas, in Redis 7.0's fields (ringkv nodes replicate over the cluster bus). */
function replication(node: NodeServices): Lines {
  return [
    ['role', 'master'], ['connected_slaves', 0], ['master_failover_state', 'no-failover'], ['master_replid', node.nodeId],
    ['master_replid2', '0000000000000000000000000000000000000000'], ['master_repl_offset', 0], ['second_repl_offset', -1],
    ['repl_backlog_active', 0], ['repl_backlog_size', 1048576], ['repl_backlog_first_byte_offset', 0], ['repl_backlog_histlen', 0],
  ];
}

function cpu(): Lines {
  const u = process.cpuUsage();
  return [
    ['used_cpu_sys', (u.system / 1e6).toFixed(6)], ['used_cpu_user', (u.user / 1e6).toFixed(6)],
    ['used_cpu_sys_children', '0.000000'], ['used_cpu_user_children', '0.000000'],
    // One thread runs the commands, as Redis's main thread.
    ['used_cpu_sys_main_thread', (u.system / 1e6).toFixed(6)], ['used_cpu_user_main_thread', (u.user / 1e6).toFixed(6)],
  ];
}

function commandstats(node: NodeServices): Lines {
  const lines: Lines = [];
  for (const [name, c] of node.stats.commands) {
    const usecPerCall = c.calls ? (c.usec / c.calls).toFixed(2) : '0.00';
    lines.push([`cmdstat_${name}`, `calls=${c.calls},usec=${c.usec},usec_per_call=${usecPerCall},rejected_calls=${c.rejected},failed_calls=${c.failed}`]);
  }
  return lines;
}

/** `latency_percentiles_usec_<cmd>:p50=…,p99=…` per command with calls, as Redis 7.0 prints them. */
function latencystats(node: NodeServices): Lines {
  const percentiles = parsePercentiles(node.config.str('latency-tracking-info-percentiles'));
  const lines: Lines = [];
  for (const [name, c] of node.stats.commands) {
    if (c.latency === undefined) continue;
    const values = percentiles.map((p) => `p${percentileName(p)}=${(valueAtPercentile(c.latency!, p) / 1000).toFixed(3)}`);
    lines.push([`latency_percentiles_usec_${name}`, values.join(',')]);
  }
  return lines;
}

function keyspace(node: NodeServices): Lines {
  const keys = node.listedKeyCount();
  if (keys === 0) return [];
  // Redis 7.0 and 7.2's fields (subexpiry is 7.4's, for hash fields ringkv does not expire).
  return [['db0', `keys=${keys},expires=${node.store.expiresCount()},avg_ttl=0`]];
}

function section(node: NodeServices, name: string): string | undefined {
  let lines: Lines;
  switch (name) {
    case 'server': lines = server(node); break;
    case 'clients': lines = clients(node); break;
    case 'memory': lines = memory(node); break;
    case 'persistence': lines = persistence(node); break;
    case 'stats': lines = stats(node); break;
    case 'replication': lines = replication(node); break;
    case 'cpu': lines = cpu(); break;
    case 'modules': lines = []; break;
    case 'errorstats': lines = [...node.stats.errorKinds].map(([kind, n]) => [`errorstat_${kind}`, `count=${n}`]); break;
    case 'commandstats': lines = commandstats(node); break;
    case 'latencystats': lines = latencystats(node); break;
    case 'keyspace': lines = keyspace(node); break;
    case 'cluster': {
      const extra = node.cluster?.infoSection() ?? '';
      return `# Cluster\r\ncluster_enabled:${node.cluster ? 1 : 0}\r\n${extra}`;
    }
    case 'ringkv': return `# Ringkv\r\nringkv_reclaimed_elements:${node.stats.reclaimedElements}\r\n` + (node.cluster?.infoSection() ?? '');
    default: return undefined;
  }
  const title = name === 'cpu' ? 'CPU' : name.charAt(0).toUpperCase() + name.slice(1);
  return `# ${title === 'Errorstats' ? 'Errorstats' : title}\r\n` + lines.map(([k, v]) => `${k}:${v}\r\n`).join('');
}

/** INFO text in Redis's format: `# Section` headers, `key:value` lines, CRLF line ends, a blank line between sections. */
export function infoText(node: NodeServices, requested: string[]): string {
  // As Redis 7.0: `default` adds the default sections to the others named, `all` and `everything`
  // every section; a section is printed once, in Redis's order; unknown names are ignored.
  const wanted = new Set<string>();
  const lowered = requested.map((s) => s.toLowerCase());
  if (lowered.length === 0) lowered.push('default');
  for (const n of lowered) {
    if (n === 'all' || n === 'everything') ORDER.forEach((x) => wanted.add(x));
    else if (n === 'default') DEFAULT_SECTIONS.forEach((x) => wanted.add(x));
    else wanted.add(n);
  }
  const parts: string[] = [];
  for (const n of ORDER.filter((x) => wanted.has(x))) {
    const text = section(node, n);
    if (text !== undefined) parts.push(text);
  }
  return parts.join('\r\n');
}
