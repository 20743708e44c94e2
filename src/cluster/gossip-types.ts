/**
 * What the cluster bus gossips about members. Records arrive from the network (or from a nodes
 * file on disk), so `isMemberRecord` checks every field before membership trusts one.
 */

/** `left` members stay known (CLUSTER NODES, persistence) but are no longer on the ring. */
export type MemberStatus = 'active' | 'leaving' | 'left';

/**
 * One member as its owner describes it. Only the owner changes its own record; everyone else
 * relays the newest copy by (generation, heartbeat). `epoch` is the exception: the node that first
 * admits a joiner stamps it, and copies merge it by maximum.
 */
export interface MemberRecord {
  /** 40 lowercase hex digits, as Redis node ids. */
  id: string;
  host: string;
  /** Client (RESP) port. */
  port: number;
  busPort: number;
  /** Failure domain; '' = none, so the ring treats the member as a zone of its own. */
  zone: string;
  /** Incarnation: bumped on every restart and persisted by the caller, so a restart outranks any heartbeat. */
  generation: number;
  /** Bumped by the owner on every gossip tick; progress is what the failure detector feeds on. */
  heartbeat: number;
  status: MemberStatus;
  /** Topology epoch under which the member joined or last changed status; 0 = not admitted yet. */
  epoch: number;
  /**
   * Fingerprint of the ring membership this node has finished rebalancing to (every slot it gained
   * compared with a replica that had it); '' or absent = none yet. Ends rebalance windows early.
   */
  synced?: string;
  /**
   * Back from an absence and catching up (catch-up.ts): a replica that coordinates nothing another
   * replica can. Clusters with link pings learn it from those at once; gossip carries it for the rest.
   */
  catchingUp?: boolean;
  /** HTTP port of the member's metrics and dashboard (metrics-port); absent when off. */
  httpPort?: number;
  /** With tls-cluster, `port` is the TLS client port and this the plain one; absent otherwise. */
  plainPort?: number;
}

export interface GossipDigest {
  from: string;
  members: MemberRecord[];
}

/** Where to send a digest; `id` is '' for a MEET address whose node id is not known yet. */
export interface GossipTarget {
  id: string;
  host: string;
  busPort: number;
}

/** `pfail` is shown as `fail?` in CLUSTER NODES, `fail` as `fail`. */
export type PeerState = 'self' | 'ok' | 'pfail' | 'fail';

export const NODE_ID_RE = /^[0-9a-f]{40}$/;
export const HOST_LENGTH_MAX = 255;
export const ZONE_LENGTH_MAX = 64;
const SYNCED_LENGTH_MAX = 64;
const PORT_MAX = 65535;

const STATUSES: ReadonlySet<string> = new Set<MemberStatus>(['active', 'leaving', 'left']);

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= PORT_MAX;
}

/** Runtime check of a record decoded from the wire or disk; types alone prove nothing there. */
export function isMemberRecord(value: unknown): value is MemberRecord {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.id === 'string' && NODE_ID_RE.test(r.id) &&
    typeof r.host === 'string' && r.host.length <= HOST_LENGTH_MAX &&
    isPort(r.port) && isPort(r.busPort) &&
    typeof r.zone === 'string' && r.zone.length <= ZONE_LENGTH_MAX &&
    isCount(r.generation) && isCount(r.heartbeat) && isCount(r.epoch) &&
    typeof r.status === 'string' && STATUSES.has(r.status) &&
    (r.synced === undefined || (typeof r.synced === 'string' && r.synced.length <= SYNCED_LENGTH_MAX)) &&
    (r.httpPort === undefined || isPort(r.httpPort)) &&
    (r.catchingUp === undefined || typeof r.catchingUp === 'boolean') &&
    (r.plainPort === undefined || isPort(r.plainPort))
  );
}

/** A copy with exactly the record's fields, so no extra properties from a decoded message ride along. */
export function copyMember(r: MemberRecord): MemberRecord {
  return {
    id: r.id, host: r.host, port: r.port, busPort: r.busPort, zone: r.zone,
    generation: r.generation, heartbeat: r.heartbeat, status: r.status, epoch: r.epoch, synced: r.synced ?? '',
    ...(r.httpPort ? { httpPort: r.httpPort } : {}),
    ...(r.catchingUp === true ? { catchingUp: true } : {}),
    ...(r.plainPort ? { plainPort: r.plainPort } : {}),
  };
}
