import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type MetricType } from 'prom-client';
import type { NodeServices } from './node-services.js';
import type { ClusterObservation } from '../cluster/cluster-observation.js';
import { COMMAND_FAMILIES } from './command-family.js';
import { LATENCY_BOUNDS_SECONDS, type LatencyHistogram } from './latency-histogram.js';
import { QUORUM_ROUND_READ, QUORUM_ROUND_WRITE } from './stats.js';

type Labels = Record<string, string>;
/** A metric's current samples: one value, or values by label set. */
type Reading = number | Array<[Labels, number]>;

/**
 * A histogram whose samples come from a LatencyHistogram the request path fills; prom-client only
 * formats them (its own observe() costs about a microsecond, too much per command).
 */
class AccumulatedHistogram extends Histogram<string> {
  constructor(
    registry: Registry,
    private readonly metricName: string,
    private readonly metricHelp: string,
    private readonly label: string,
    private readonly seriesNames: readonly string[],
    private readonly source: LatencyHistogram,
  ) {
    super({ name: metricName, help: metricHelp, labelNames: [label], buckets: [...LATENCY_BOUNDS_SECONDS], registers: [registry] });
  }

  /** What the registry formats (prom-client prefers this method to get() for the text format). */
  getForPromString(): Promise<Awaited<ReturnType<Histogram<string>['get']>>> {
    return this.get();
  }

  /** prom-client's own shape (name, help, type), with the samples of `source`. */
  override async get(): Promise<Awaited<ReturnType<Histogram<string>['get']>>> {
    // prom-client's typings declare MetricType a numeric enum; at run time (and in the text) it is the word.
    const base = { name: this.metricName, help: this.metricHelp, type: 'histogram' as unknown as MetricType, aggregator: 'sum' as const, collect: () => undefined, values: [] as Awaited<ReturnType<Histogram<string>['get']>>['values'] };
    const values: typeof base.values = [];
    const bounds = this.source.bounds;
    const name = this.metricName;
    this.seriesNames.forEach((series, i) => {
      const counts = this.source.counts[i]!;
      let cumulative = 0;
      for (let b = 0; b <= bounds.length; b++) {
        cumulative += counts[b]!;
        values.push({ metricName: `${name}_bucket`, labels: { [this.label]: series, le: b < bounds.length ? bounds[b]! : '+Inf' }, value: cumulative });
      }
      values.push({ metricName: `${name}_sum`, labels: { [this.label]: series }, value: this.source.sums[i]! });
      values.push({ metricName: `${name}_count`, labels: { [this.label]: series }, value: cumulative });
    });
    return { ...base, values };
  }
}

/** Replaces a collected counter's samples with the absolute values read from the node. */
function setCounter(metric: Counter<string>, reading: Reading): void {
  metric.reset();
  if (typeof reading === 'number') metric.inc(reading);
  else for (const [labels, v] of reading) metric.inc(labels, v);
}

function setGauge(metric: Gauge<string>, reading: Reading): void {
  metric.reset();
  if (typeof reading === 'number') metric.set(reading);
  else for (const [labels, v] of reading) metric.set(labels, v);
}

/**
 * The node's Prometheus registry. Counters and gauges are read from the node's own state when
 * scraped (nothing is counted twice); the two latency histograms are filled on the request path.
 * Names follow Prometheus's conventions: `ringkv_` once, base units in the name (`_seconds`,
 * `_bytes`), counters end in `_total`. prom-client adds the process and Node.js runtime metrics
 * (CPU, memory, event-loop lag, GC), under their standard names.
 */
export class NodeMetrics {
  readonly registry = new Registry();
  /** The cluster observation of the current scrape, taken once for every cluster metric. */
  private observed: ClusterObservation | undefined;
  private observedAt = -1;

  constructor(private readonly node: NodeServices) {
    collectDefaultMetrics({ register: this.registry });
    const s = node.stats;
    const counter = (name: string, help: string, read: () => Reading, labelNames: string[] = []): void => {
      new Counter({
        name, help, labelNames, registers: [this.registry],
        collect() {
          setCounter(this, read());
        },
      });
    };
    const gauge = (name: string, help: string, read: () => Reading, labelNames: string[] = []): void => {
      new Gauge({
        name, help, labelNames, registers: [this.registry],
        collect() {
          setGauge(this, read());
        },
      });
    };

    counter('ringkv_commands_processed_total', 'Commands received, whatever their outcome.', () => s.totalCommandsProcessed);
    counter('ringkv_command_calls_total', 'Calls per command (INFO commandstats).', () => [...s.commands].map(([command, c]) => [{ command }, c.calls]), ['command']);
    counter('ringkv_command_failed_calls_total', 'Calls per command that answered an error.', () => [...s.commands].map(([command, c]) => [{ command }, c.failed]), ['command']);
    counter('ringkv_connections_received_total', 'Client connections accepted.', () => s.totalConnectionsReceived);
    counter('ringkv_connections_rejected_total', 'Client connections refused (maxclients, protected mode, shutdown).', () => s.rejectedConnections);
    counter('ringkv_keyspace_hits_total', 'Key lookups that found the key.', () => s.keyspaceHits);
    counter('ringkv_keyspace_misses_total', 'Key lookups that did not find the key.', () => s.keyspaceMisses);
    counter('ringkv_expired_keys_total', 'Keys removed by active expiry.', () => s.expiredKeys);
    counter('ringkv_reclaimed_elements_total', 'Element records of deleted collections dropped in the background.', () => s.reclaimedElements);
    counter('ringkv_error_replies_total', 'Error replies sent.', () => s.errorReplies);
    counter('ringkv_concurrent_writes_total', 'Writes a vector clock showed concurrent with the stored value (resolved by last writer wins).', () => s.concurrentWrites);
    gauge('ringkv_connected_clients', 'Client connections open.', () => {
      let n = 0;
      for (const _ of node.clients()) n++;
      return n;
    });
    gauge('ringkv_blocked_clients', 'Clients waiting in blocking commands.', () => node.blockedClients.count);
    gauge('ringkv_keys', 'Keys stored on this node (every replica it holds).', () => node.store.keyCount());
    gauge('ringkv_keys_with_expiry', 'Keys with a TTL stored on this node.', () => node.store.expiresCount());
    gauge('ringkv_uptime_seconds', 'Seconds since the node started.', () => (Date.now() - node.startedAt) / 1000);
    const store = (): Record<string, number> => node.store.stats();
    gauge('ringkv_memtable_entries', 'Records in the in-memory memtable awaiting a checkpoint.', () => store().memtableEntries ?? 0);
    gauge('ringkv_memtable_bytes', 'Bytes held by the memtable.', () => store().memtableBytes ?? 0);
    gauge('ringkv_lmdb_used_bytes', 'Bytes used in the LMDB data file.', () => store().lmdbBytes ?? 0);

    new AccumulatedHistogram(this.registry, 'ringkv_command_duration_seconds',
      'Command latency by family: run time for commands on this node\'s own keyspace, start to reply for coordinated ones (quorum rounds included).',
      'family', COMMAND_FAMILIES, s.commandLatency);

    if (node.cluster === undefined) return;
    const read = <T>(pick: (o: ClusterObservation) => T): (() => T) => () => pick(this.observation());
    const quorumNames: string[] = [];
    quorumNames[QUORUM_ROUND_READ] = 'read';
    quorumNames[QUORUM_ROUND_WRITE] = 'write';
    new AccumulatedHistogram(this.registry, 'ringkv_quorum_round_duration_seconds',
      'Quorum rounds a coordinator waited for: read (R answers from replicas) and write (W durable acknowledgements).',
      'kind', quorumNames, s.quorumLatency);

    gauge('ringkv_cluster_state_ok', '1 when every slot has enough alive replicas for a read quorum and this node is not cut off (cluster_state:ok).', read((o) => (o.stateOk ? 1 : 0)));
    gauge('ringkv_cluster_isolated', '1 while this node is cut off from the majority and serves no slot.', read((o) => (o.isolated ? 1 : 0)));
    gauge('ringkv_cluster_epoch', 'Topology epoch (cluster_current_epoch).', read((o) => o.epoch));
    gauge('ringkv_cluster_known_nodes', 'Members this node knows, decommissioned ones excluded.', read((o) => o.members.filter((m) => m.status !== 'left').length));
    gauge('ringkv_cluster_links_suspected', 'Peers whose direct link this node suspects.', read((o) => o.linksSuspected));
    const members = (pick: (m: ClusterObservation['members'][number]) => number | undefined) => read((o) =>
      o.members.flatMap((m): Array<[Labels, number]> => {
        const v = pick(m);
        return v === undefined ? [] : [[{ node_id: m.id, address: `${m.host}:${m.port}` }, v]];
      }));
    gauge('ringkv_cluster_member_up', 'Per member as this node sees it: 1 alive, 0 failed or suspected.', members((m) => (m.state === 'self' || m.state === 'ok' ? 1 : 0)), ['node_id', 'address']);
    gauge('ringkv_cluster_member_phi', 'Per peer: phi-accrual suspicion over its gossip heartbeats (suspected above 8).', members((m) => m.phi), ['node_id', 'address']);
    gauge('ringkv_cluster_member_slots_primary', 'Per member: slots it coordinates (CLUSTER SLOTS primary).', members((m) => m.slotsPrimary), ['node_id', 'address']);
    gauge('ringkv_cluster_member_slots_replica', 'Per member: slots it holds a replica of without coordinating them.', members((m) => m.slotsReplica), ['node_id', 'address']);
    const self = (pick: (m: ClusterObservation['members'][number]) => number) => read((o) => {
      const me = o.members.find((m) => m.id === o.myId);
      return me ? pick(me) : 0;
    });
    gauge('ringkv_slots_primary', 'Slots this node coordinates.', self((m) => m.slotsPrimary));
    gauge('ringkv_slots_replica', 'Slots this node replicates without coordinating them.', self((m) => m.slotsReplica));

    counter('ringkv_coordinated_reads_total', 'Runs of commands this node coordinated that wrote nothing.', read((o) => o.coordinator.reads));
    counter('ringkv_coordinated_writes_total', 'Runs of commands this node coordinated that wrote.', read((o) => o.coordinator.writes));
    counter('ringkv_read_repairs_total', 'Records sent to replicas that answered a read with an older version.', read((o) => o.coordinator.readRepairs));
    counter('ringkv_writes_restamped_total', 'Writes stamped again because a replica held a newer version.', read((o) => o.coordinator.restamps));
    counter('ringkv_quorum_failures_total', 'Commands answered NOREPLICAS: too few replicas for R or W.', read((o) => o.coordinator.quorumFailures));
    counter('ringkv_collection_syncs_total', 'Collections completed from other replicas before a command used them.', read((o) => o.coordinator.collectionSyncs));

    counter('ringkv_hinted_writes_total', 'Writes sent to a fallback node as a hint for an unreachable owner.', read((o) => o.hints.hintedWrites));
    counter('ringkv_hints_stored_total', 'Hints this node stored for other nodes.', read((o) => o.hints.stored));
    counter('ringkv_hints_delivered_total', 'Hints handed back to their owner.', read((o) => o.hints.delivered));
    counter('ringkv_hints_dropped_total', 'Hints dropped over the size or age bound.', read((o) => o.hints.dropped));
    gauge('ringkv_hints_pending_bytes', 'Bytes of hints waiting for their owner.', read((o) => o.hints.pendingBytes));
    gauge('ringkv_hints_pending_targets', 'Nodes this node holds hints for.', read((o) => o.hints.targets));

    gauge('ringkv_anti_entropy_index_ready', '1 once the Merkle index of this node\'s replicas is built.', read((o) => (o.antiEntropy.indexReady ? 1 : 0)));
    gauge('ringkv_anti_entropy_slots_queued', 'Slots waiting to be compared with other replicas.', read((o) => o.antiEntropy.slotsQueued));
    gauge('ringkv_anti_entropy_last_full_pass_seconds', 'Duration of the last full pass over every slot.', read((o) => o.antiEntropy.lastFullPassMs / 1000));
    counter('ringkv_anti_entropy_full_passes_total', 'Full passes over every slot.', read((o) => o.antiEntropy.fullPasses));
    counter('ringkv_anti_entropy_rounds_total', 'Anti-entropy rounds.', read((o) => o.antiEntropy.rounds));
    counter('ringkv_anti_entropy_slots_compared_total', 'Slot digests compared with another replica.', read((o) => o.antiEntropy.slotsCompared));
    counter('ringkv_anti_entropy_slots_differing_total', 'Slot digests that differed.', read((o) => o.antiEntropy.slotsDiffering));
    counter('ringkv_anti_entropy_keys_pulled_total', 'Records fetched from another replica.', read((o) => o.antiEntropy.keysPulled));
    counter('ringkv_anti_entropy_keys_pushed_total', 'Records sent to another replica.', read((o) => o.antiEntropy.keysPushed));
    counter('ringkv_anti_entropy_keys_reaped_total', 'Tombstones purged after the grace period.', read((o) => o.antiEntropy.keysReaped));
    counter('ringkv_anti_entropy_errors_total', 'Anti-entropy exchanges that failed.', read((o) => o.antiEntropy.errors));

    gauge('ringkv_rebalance_slots_moving', 'Slots whose replica set differs from an earlier placement of the rebalance window.', read((o) => o.rebalance.slotsMoving));
    gauge('ringkv_rebalance_slots_in', 'Slots this node gained in the current rebalance.', read((o) => o.rebalance.slotsIn));
    gauge('ringkv_rebalance_slots_out', 'Slots this node lost in the current rebalance.', read((o) => o.rebalance.slotsOut));
    gauge('ringkv_rebalance_slots_to_sync', 'Gained slots this node still has to compare before it reports the move done.', read((o) => o.rebalance.slotsToSync));
    gauge('ringkv_rebalance_window_remaining_seconds', 'Time left before the rebalance window ends at the latest.', read((o) => o.rebalance.windowLeftMs / 1000));

    gauge('ringkv_leases_held', 'Slot leases this node holds.', read((o) => o.leases.held));
    counter('ringkv_lease_acquisitions_total', 'Slot leases acquired.', read((o) => o.leases.acquisitions));
    counter('ringkv_fenced_writes_total', 'Writes refused because a newer lease holder exists.', read((o) => o.leases.fencedWrites));

    gauge('ringkv_collections_complete', 'Collections this replica is known to hold completely.', read((o) => o.collections.complete));
    gauge('ringkv_collections_suspect', 'Collections marked suspect, waiting to be healed from a complete replica.', read((o) => o.collections.healsPending));
    counter('ringkv_collection_heals_total', 'Suspect collections healed from a complete replica.', read((o) => o.collections.heals));
    counter('ringkv_collection_heals_failed_total', 'Heal attempts that failed (retried).', read((o) => o.collections.healsFailed));
  }

  /** The cluster observation, taken once per scrape (every cluster metric reads it). */
  observation(): ClusterObservation {
    const now = Date.now();
    if (this.observed === undefined || now - this.observedAt > 200) {
      this.observed = this.node.cluster!.observation();
      this.observedAt = now;
    }
    return this.observed;
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
