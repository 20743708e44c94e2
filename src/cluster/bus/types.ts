/** A node's cluster-bus endpoint (the client port + 10000 by default). */
export interface BusAddress {
  host: string;
  port: number;
}

/** Who is at the other end of an authenticated link, as it proved in the handshake. */
export interface PeerIdentity {
  nodeId: string;
  /** The peer's advertised bus address: where to reach it, not the ephemeral port it dialled from. */
  address: BusAddress;
}

export function addressKey(address: BusAddress): string {
  return `${address.host}:${address.port}`;
}

/** Why a bus call failed; the coordinator treats transport failures (not `remote`) as a replica being down. */
/**
 * `unreachable`: nothing was sent (no link yet, or it closed before it came up); `lost`: the link
 * closed while the request was pending on it, so the peer may have run it; `timeout` likewise.
 */
export type BusErrorCode = 'timeout' | 'unreachable' | 'lost' | 'closed' | 'auth' | 'overloaded' | 'remote' | 'encode';

export class BusError extends Error {
  constructor(
    readonly code: BusErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BusError';
  }
}

/** One authenticated bus connection, as CLUSTER LINKS lists it. */
export interface BusLinkInfo {
  /** 'to': this node dialled it; 'from': the peer did. */
  direction: 'to' | 'from';
  nodeId: string;
  createdAt: number;
  /** Bytes waiting to be sent on it. */
  queuedBytes: number;
}
