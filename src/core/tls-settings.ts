/**
 * TLS settings, with Redis 7.0's names, defaults and meanings (redis.conf, "TLS/SSL"). Kept apart
 * from the rest of the schema because they are read together: every one that shapes the TLS
 * context is rebuilt as a whole when any of them changes (src/server/tls-context.ts).
 */
import type { SettingSpec } from './config-schema.js';

/** The protocol names `tls-protocols` accepts, oldest first (Redis's list). */
export const TLS_PROTOCOL_NAMES = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
export type TlsProtocolName = (typeof TLS_PROTOCOL_NAMES)[number];

/** Checks a `tls-protocols` value ("TLSv1.2 TLSv1.3"); '' keeps the default (TLSv1.2 and TLSv1.3). */
export function normalizeTlsProtocols(raw: string): string {
  const words = raw.split(/\s+/).filter(Boolean);
  for (const w of words) {
    if (!TLS_PROTOCOL_NAMES.some((p) => p.toLowerCase() === w.toLowerCase())) {
      throw new Error(`unknown protocol '${w}' (expected some of ${TLS_PROTOCOL_NAMES.join(', ')})`);
    }
  }
  return words.map((w) => TLS_PROTOCOL_NAMES.find((p) => p.toLowerCase() === w.toLowerCase())!).join(' ');
}

const s = (spec: SettingSpec): SettingSpec => spec;

/**
 * Settings that shape the certificates, keys and handshake rules: CONFIG SET of any of them builds
 * a new TLS context from the files (re-reading them even when the value is unchanged, as Redis does,
 * so rotating a certificate in place is `CONFIG SET tls-cert-file <same path>`).
 */
export const TLS_CONTEXT_SETTINGS: readonly string[] = [
  'tls-cert-file', 'tls-key-file', 'tls-key-file-pass', 'tls-client-cert-file', 'tls-client-key-file', 'tls-client-key-file-pass',
  'tls-ca-cert-file', 'tls-ca-cert-dir', 'tls-dh-params-file', 'tls-auth-clients', 'tls-protocols', 'tls-ciphers',
  'tls-ciphersuites', 'tls-prefer-server-ciphers', 'tls-session-caching', 'tls-session-cache-size', 'tls-session-cache-timeout',
];

export const TLS_SETTINGS: readonly SettingSpec[] = [
  s({ name: 'tls-port', kind: 'int', default: '0', min: 0, max: 65535, mutable: false, help: 'TCP port for TLS clients, served beside port; 0 = off.' }),
  s({ name: 'tls-cert-file', kind: 'string', default: '', mutable: true, help: 'Server certificate (PEM), with its chain; also the client certificate of outgoing bus links unless tls-client-cert-file is set.' }),
  s({ name: 'tls-key-file', kind: 'string', default: '', mutable: true, help: 'Private key (PEM) of tls-cert-file.' }),
  s({ name: 'tls-key-file-pass', kind: 'string', default: '', mutable: true, help: 'Passphrase of tls-key-file, if it is encrypted.' }),
  s({ name: 'tls-client-cert-file', kind: 'string', default: '', mutable: true, help: 'Certificate (PEM) this node presents when it dials a peer\'s cluster bus; empty = tls-cert-file.' }),
  s({ name: 'tls-client-key-file', kind: 'string', default: '', mutable: true, help: 'Private key (PEM) of tls-client-cert-file.' }),
  s({ name: 'tls-client-key-file-pass', kind: 'string', default: '', mutable: true, help: 'Passphrase of tls-client-key-file.' }),
  s({ name: 'tls-ca-cert-file', kind: 'string', default: '', mutable: true, help: 'CA certificates (PEM) that client and peer certificates must be signed by.' }),
  s({ name: 'tls-ca-cert-dir', kind: 'string', default: '', mutable: true, help: 'Directory of CA certificates (PEM files); every certificate in it is trusted.' }),
  s({ name: 'tls-dh-params-file', kind: 'string', default: '', mutable: true, help: 'DH parameters (PEM) for DHE ciphers; empty = none (ECDHE only).' }),
  s({ name: 'tls-auth-clients', kind: 'enum', default: 'yes', values: ['yes', 'no', 'optional'], mutable: true, help: 'Client certificates on the TLS port: yes = required, optional = checked when sent, no = not asked for.' }),
  s({ name: 'tls-protocols', kind: 'string', default: '', mutable: true, help: 'Protocol versions allowed, e.g. "TLSv1.2 TLSv1.3"; empty = TLSv1.2 and TLSv1.3.', normalize: normalizeTlsProtocols }),
  s({ name: 'tls-ciphers', kind: 'string', default: '', mutable: true, help: 'OpenSSL cipher list for TLSv1.2 and below; empty = Node.js\'s default.' }),
  s({ name: 'tls-ciphersuites', kind: 'string', default: '', mutable: true, help: 'TLSv1.3 cipher suites, colon separated; empty = Node.js\'s default.' }),
  s({ name: 'tls-prefer-server-ciphers', kind: 'bool', default: 'no', mutable: true, help: 'Choose the cipher by the server\'s order rather than the client\'s.' }),
  s({ name: 'tls-session-caching', kind: 'bool', default: 'yes', mutable: true, help: 'Let clients resume TLS sessions (session ids and tickets).' }),
  s({ name: 'tls-session-cache-size', kind: 'int', default: '20480', min: 0, max: 2_147_483_647, mutable: true, help: 'Sessions kept for resumption by id; 0 = no limit.' }),
  s({ name: 'tls-session-cache-timeout', kind: 'int', default: '300', min: 1, max: 2_147_483_647, mutable: true, help: 'Seconds a session may be resumed.' }),
  s({ name: 'tls-cluster', kind: 'bool', default: 'no', mutable: false, help: 'Cluster bus over TLS with mutual certificate checks; announced client ports become the TLS ones.' }),
  s({ name: 'tls-replication', kind: 'bool', default: 'no', mutable: true, inert: true, help: 'Accepted for tools: replication travels on the cluster bus, which tls-cluster secures.' }),
  s({ name: 'cluster-announce-tls-port', kind: 'int', default: '0', min: 0, max: 65535, mutable: true, help: 'TLS client port advertised with tls-cluster; 0 = tls-port.' }),
];
