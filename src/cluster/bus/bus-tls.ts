/**
 * TLS on the cluster bus (tls-cluster yes): both ends present a certificate and both check the
 * other's against the configured CA before a byte of the bus protocol flows; the cluster-secret
 * handshake then runs inside the encrypted link as before.
 */
import type { ConnectionOptions, SecureContextOptions } from 'node:tls';

/** What the bus needs from the node's TLS material; read again for every listen, dial and reload. */
export interface BusTls {
  /** Certificate, key, CA and protocol rules of the listening side. */
  server: SecureContextOptions;
  /** Certificate, key, CA and protocol rules of the dialling side. */
  client: SecureContextOptions;
}

/** The listening side's context; every accepted socket is then asked for a certificate from the CA. */
export function busServerOptions(tls: BusTls): SecureContextOptions {
  return tls.server;
}

/**
 * Peers are dialled by the address they gossip, which need not be a name in their certificate (an
 * IP behind NAT, a container address): as Redis does, the chain is checked against the CA and the
 * host name is not. Who the peer is, is then proven by the cluster-secret handshake.
 */
export function busClientOptions(tls: BusTls, host: string, port: number, localAddress?: string): ConnectionOptions {
  return {
    ...tls.client,
    host,
    port,
    rejectUnauthorized: true,
    checkServerIdentity: () => undefined,
    ...(localAddress !== undefined ? { localAddress } : {}),
  };
}

/** OpenSSL verification codes and TLS alert codes that mean "this certificate is not accepted". */
const CERT_REFUSAL_CODES = /^(UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|CERT_|ERR_SSL_|ERR_TLS_CERT|HOSTNAME_MISMATCH|INVALID_CA|INVALID_PURPOSE)/;

/**
 * Why a TLS link with a peer failed, as one phrase for the log, or undefined when the error is not
 * about TLS (a refused or reset TCP connection is reported by the bus as usual).
 */
export function tlsRefusalReason(err: unknown): string | undefined {
  const e = err as { code?: unknown; message?: unknown; reason?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message.split('\n')[0]! : '';
  if (!CERT_REFUSAL_CODES.test(code) && !/certificate|ssl|tls alert|handshake/i.test(message)) return undefined;
  return code !== '' ? `${message} (${code})` : message;
}
