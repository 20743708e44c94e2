import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

/** The files a TLS benchmark run hands to both servers and to redis-benchmark. */
export interface BenchTlsFiles {
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/**
 * A CA, a server certificate (SAN 127.0.0.1) and a client certificate, made with the openssl
 * command line in `dir`. P-256 keys: the same handshake cost for both servers.
 */
export function makeBenchCertificates(dir: string): BenchTlsFiles {
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const key = (name: string): string => {
    const file = path.join(dir, `${name}.key`);
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file);
    return file;
  };
  const caKey = key('ca');
  const caCert = path.join(dir, 'ca.crt');
  openssl('req', '-x509', '-new', '-key', caKey, '-out', caCert, '-days', '30', '-subj', '/CN=bench CA', '-addext', 'basicConstraints=critical,CA:TRUE');
  const leaf = (name: string, usage: string): { cert: string; key: string } => {
    const k = key(name);
    const csr = path.join(dir, `${name}.csr`);
    const cert = path.join(dir, `${name}.crt`);
    const ext = path.join(dir, `${name}.ext`);
    writeFileSync(ext, `extendedKeyUsage=${usage}\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n`);
    openssl('req', '-new', '-key', k, '-out', csr, '-subj', `/CN=${name}`);
    openssl('x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '30', '-extfile', ext);
    return { cert, key: k };
  };
  const server = leaf('server', 'serverAuth');
  const client = leaf('client', 'clientAuth');
  return { caCert, serverCert: server.cert, serverKey: server.key, clientCert: client.cert, clientKey: client.key };
}

/** The same TLS settings for redis-server and ringkv: their names are Redis's on both. */
export function serverTlsArgs(tlsPort: number, files: BenchTlsFiles): string[] {
  return ['--tls-port', String(tlsPort), '--tls-cert-file', files.serverCert, '--tls-key-file', files.serverKey, '--tls-ca-cert-file', files.caCert];
}

/** redis-benchmark's TLS flags, with the client certificate both servers require by default. */
export function benchmarkTlsArgs(files: BenchTlsFiles): string[] {
  return ['--tls', '--cert', files.clientCert, '--key', files.clientKey, '--cacert', files.caCert];
}
