import { Pki } from './pki.js';

/** The files a TLS benchmark run hands to both servers and to redis-benchmark. */
export interface BenchTlsFiles {
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** A CA and a certificate for the servers and one for the client, in `dir`: P-256 keys, the same handshake cost for both servers. */
export function makeBenchCertificates(dir: string): BenchTlsFiles {
  const pki = new Pki(dir);
  const ca = pki.authority('bench-ca');
  const server = pki.leaf(ca, 'server');
  const client = pki.leaf(ca, 'client');
  return { caCert: ca.cert, serverCert: server.cert, serverKey: server.key, clientCert: client.cert, clientKey: client.key };
}

/** The same TLS settings for redis-server and ringkv: their names are Redis's on both. */
export function serverTlsArgs(tlsPort: number, files: BenchTlsFiles): string[] {
  return ['--tls-port', String(tlsPort), '--tls-cert-file', files.serverCert, '--tls-key-file', files.serverKey, '--tls-ca-cert-file', files.caCert];
}

/** redis-benchmark's TLS flags, with the client certificate both servers require by default. */
export function benchmarkTlsArgs(files: BenchTlsFiles): string[] {
  return ['--tls', '--cert', files.clientCert, '--key', files.clientKey, '--cacert', files.caCert];
}
