/**
 * Certificates for TLS tests (bench/lib/pki.ts) in a fresh temporary directory, and fingerprints.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Pki } from '../../bench/lib/pki.js';
import { tempDir } from './server.js';

export type { Authority, CertPair } from '../../bench/lib/pki.js';

export class TestPki extends Pki {
  constructor(dir: string = tempDir('ringkv-tls-')) {
    super(dir);
  }
}

/** SHA-256 fingerprint of a PEM certificate file, as Node's `getPeerCertificate().fingerprint256` shows it. */
export function fingerprintOf(certFile: string): string {
  return new X509Certificate(readFileSync(certFile)).fingerprint256;
}
