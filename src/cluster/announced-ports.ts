/**
 * The ports a cluster node announces, derived from its settings as Redis 7.0 does
 * (cluster.c, deriveAnnouncedPorts): with tls-cluster and a tls-port, the client port peers and
 * clients learn is the TLS one, and the plain port rides along so that plain clients are still sent
 * to a port they can use.
 */
import { busPortOf } from '../core/config.js';

export interface AnnouncedPorts {
  /** The client port in member records: the TLS port in a TLS cluster. */
  port: number;
  /** The plain client port beside a TLS `port`; undefined when `port` is already the plain one (or it is off). */
  plainPort: number | undefined;
  /** Where the bus listens. */
  busListenPort: number;
  /** The bus port peers are told to dial. */
  busPort: number;
}

/** `get` reads a setting as a number (bools as 1/0); `plainListenPort` is the plain port listened on. */
export function announcedPorts(get: (name: string) => number, plainListenPort: number): AnnouncedPorts {
  const busListenPort = busPortOf(get);
  const busPort = get('cluster-announce-bus-port') || busListenPort;
  if (get('tls-cluster') === 1 && get('tls-port') !== 0) {
    const plain = get('cluster-announce-port') || plainListenPort;
    return { port: get('cluster-announce-tls-port') || get('tls-port'), plainPort: plain === 0 ? undefined : plain, busListenPort, busPort };
  }
  return { port: get('cluster-announce-port') || plainListenPort, plainPort: undefined, busListenPort, busPort };
}

/** The port to tell one client about a node: plain clients of a TLS cluster get its plain port when it has one. */
export function portForClient(node: { port: number; plainPort?: number | undefined }, clientTls: boolean): number {
  return !clientTls && node.plainPort !== undefined ? node.plainPort : node.port;
}
