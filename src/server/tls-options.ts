/**
 * What the TLS settings ask for, decided without touching a file: which files to read, which
 * protocol range, cipher string and client-certificate rule follow from them, and which settings
 * are missing. src/server/tls-context.ts reads the files this names.
 */
import { DEFAULT_CIPHERS, type SecureVersion } from 'node:tls';
import { TLS_PROTOCOL_NAMES, type TlsProtocolName } from '../core/tls-settings.js';

export type TlsAuthClients = 'yes' | 'no' | 'optional';

/** A certificate and its key, with the settings that named them (for error messages). */
export interface KeyPairFiles {
  certFile: string;
  keyFile: string;
  passphrase: string;
  certSetting: string;
  keySetting: string;
}

export interface TlsPlan {
  /** What this node presents to clients and to peers that dial its bus. */
  server: KeyPairFiles;
  /** What this node presents when it dials a peer's bus (tls-client-*, else the server pair). */
  client: KeyPairFiles;
  caFile: string;
  caDir: string;
  dhParamsFile: string;
  minVersion: SecureVersion;
  maxVersion: SecureVersion;
  /** One OpenSSL string for both TLSv1.3 suites and older ciphers, as Node.js takes them. */
  ciphers: string;
  honorCipherOrder: boolean;
  authClients: TlsAuthClients;
  sessionCaching: boolean;
  sessionCacheSize: number;
  sessionCacheTimeoutSec: number;
}

/** A TLS setting that cannot work, alone, with the others or for the file it names; `setting` is the one to fix. */
export class TlsSettingError extends Error {
  constructor(readonly setting: string, message: string) {
    super(message);
    this.name = 'TlsSettingError';
  }
}

const DEFAULT_PROTOCOLS: readonly TlsProtocolName[] = ['TLSv1.2', 'TLSv1.3'];

/**
 * Node.js takes a lowest and a highest version, not a set: "TLSv1 TLSv1.3" allows everything
 * between them. Redis's default (an empty value) is TLSv1.2 and TLSv1.3.
 */
export function protocolRange(value: string): { minVersion: SecureVersion; maxVersion: SecureVersion } {
  const named = value.split(/\s+/).filter(Boolean) as TlsProtocolName[];
  const chosen = named.length > 0 ? named : DEFAULT_PROTOCOLS;
  const indexes = chosen.map((p) => TLS_PROTOCOL_NAMES.indexOf(p));
  return {
    minVersion: TLS_PROTOCOL_NAMES[Math.min(...indexes)]!,
    maxVersion: TLS_PROTOCOL_NAMES[Math.max(...indexes)]!,
  };
}

/**
 * Redis keeps TLSv1.3 suites (tls-ciphersuites) and older ciphers (tls-ciphers) apart; Node.js
 * takes both in one string, where leaving out either kind would switch that kind off entirely. An
 * empty setting therefore keeps Node's default of its kind.
 */
export function cipherString(ciphers: string, ciphersuites: string): string {
  const defaults = DEFAULT_CIPHERS.split(':');
  const tls13 = ciphersuites !== '' ? ciphersuites : defaults.filter((c) => c.startsWith('TLS_')).join(':');
  const older = ciphers !== '' ? ciphers : defaults.filter((c) => !c.startsWith('TLS_')).join(':');
  return `${tls13}:${older}`;
}

/**
 * The plan for the settings `get` returns. `needed` says what TLS serves: client connections
 * (tls-port), the cluster bus (tls-cluster), or neither (then nothing is required and undefined is
 * returned). Missing files are refused with Redis's reasons.
 */
export function tlsPlan(get: (name: string) => string): TlsPlan | undefined {
  const clientTls = Number(get('tls-port')) > 0;
  const busTls = get('tls-cluster') === 'yes';
  if (!clientTls && !busTls) return undefined;
  const authClients = get('tls-auth-clients') as TlsAuthClients;
  if (get('tls-cert-file') === '') throw new TlsSettingError('tls-cert-file', 'no tls-cert-file configured');
  if (get('tls-key-file') === '') throw new TlsSettingError('tls-key-file', 'no tls-key-file configured');
  // Mutual authentication on the bus, and client certificates, need a CA to check against.
  if ((busTls || (clientTls && authClients !== 'no')) && get('tls-ca-cert-file') === '' && get('tls-ca-cert-dir') === '') {
    throw new TlsSettingError('tls-ca-cert-file', 'either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster or tls-auth-clients is enabled');
  }
  const server: KeyPairFiles = {
    certFile: get('tls-cert-file'), keyFile: get('tls-key-file'), passphrase: get('tls-key-file-pass'),
    certSetting: 'tls-cert-file', keySetting: 'tls-key-file',
  };
  const clientCert = get('tls-client-cert-file');
  if (clientCert !== '' && get('tls-client-key-file') === '') throw new TlsSettingError('tls-client-key-file', 'tls-client-cert-file is set without tls-client-key-file');
  const client: KeyPairFiles = clientCert === '' ? server : {
    certFile: clientCert, keyFile: get('tls-client-key-file'), passphrase: get('tls-client-key-file-pass'),
    certSetting: 'tls-client-cert-file', keySetting: 'tls-client-key-file',
  };
  return {
    server,
    client,
    caFile: get('tls-ca-cert-file'),
    caDir: get('tls-ca-cert-dir'),
    dhParamsFile: get('tls-dh-params-file'),
    ...protocolRange(get('tls-protocols')),
    ciphers: cipherString(get('tls-ciphers'), get('tls-ciphersuites')),
    honorCipherOrder: get('tls-prefer-server-ciphers') === 'yes',
    authClients,
    sessionCaching: get('tls-session-caching') === 'yes',
    sessionCacheSize: Number(get('tls-session-cache-size')),
    sessionCacheTimeoutSec: Number(get('tls-session-cache-timeout')),
  };
}
