/**
 * A raw TLS client for tests: connects with the given CA and (optional) client certificate, sends
 * RESP, and reports what came back, the server certificate's fingerprint and how it ended, so a
 * test can tell a refused handshake from a served command.
 */
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { CertPair } from './tls-certs.js';

export interface TlsExchange {
  /** Bytes the server sent (a reply to `payload`, if it was served). */
  data: string;
  /** SHA-256 fingerprint of the certificate the server presented; '' if the handshake never ended. */
  fingerprint: string;
  /** The error that ended the connection, if any (a refused handshake). */
  error: string | undefined;
}

export interface TlsClientOptions {
  ca: string;
  client?: CertPair;
}

/** Connection options for Node's tls (and clients built on it: ioredis, node-redis). */
export function tlsOptions(opts: TlsClientOptions): tls.ConnectionOptions {
  return {
    ca: readFileSync(opts.ca),
    ...(opts.client !== undefined ? { cert: readFileSync(opts.client.cert), key: readFileSync(opts.client.key) } : {}),
    servername: 'localhost',
  };
}

/** Sends `payload` after the handshake and collects replies until `until` holds, the socket ends, or 5 s pass. */
export function tlsExchange(port: number, opts: TlsClientOptions, payload: string, until: (got: string) => boolean = (d) => d.endsWith('\r\n')): Promise<TlsExchange> {
  return new Promise((resolve) => {
    let data = '';
    let fingerprint = '';
    let error: string | undefined;
    let done = false;
    const socket = tls.connect({ host: '127.0.0.1', port, ...tlsOptions(opts) }, () => {
      fingerprint = socket.getPeerCertificate().fingerprint256 ?? '';
      socket.write(payload);
    });
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ data, fingerprint, error });
    };
    const timer = setTimeout(() => {
      error ??= 'timeout';
      finish();
    }, 5000);
    socket.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      if (until(data)) finish();
    });
    socket.on('error', (err: Error & { code?: string }) => {
      error = `${err.code ?? ''} ${err.message}`.trim();
      finish();
    });
    socket.on('close', finish);
  });
}

/** True once the node answers PING over TLS with this client certificate. */
export async function tlsPingOk(port: number, opts: TlsClientOptions): Promise<boolean> {
  const r = await tlsExchange(port, opts, 'PING\r\n');
  return r.data.startsWith('+PONG') || r.data.startsWith('-NOAUTH');
}

/** The SHA-256 fingerprint of the certificate a TLS listener presents (any TLS port: client or bus); '' if the handshake fails. */
export function tlsPeerFingerprint(port: number, opts: TlsClientOptions): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ...tlsOptions(opts) }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256 ?? '';
      socket.destroy();
      resolve(fingerprint);
    });
    socket.on('error', () => resolve(''));
    socket.setTimeout(5000, () => {
      socket.destroy();
      resolve('');
    });
  });
}

/**
 * Connects twice: the second time offering the session the first one got (a TLSv1.3 ticket or a
 * session id), and says whether the server resumed it.
 */
export function sessionResumed(port: number, opts: TlsClientOptions): Promise<boolean> {
  const connectOnce = (session?: Buffer): Promise<{ session: Buffer | undefined; reused: boolean }> => new Promise((resolve, reject) => {
    let saved: Buffer | undefined;
    const socket = tls.connect({ host: '127.0.0.1', port, ...tlsOptions(opts), ...(session ? { session } : {}) }, () => {
      socket.write('PING\r\n');
    });
    // TLSv1.3 tickets arrive after the handshake, as 'session' events.
    socket.on('session', (s: Buffer) => (saved = s));
    socket.on('data', () => {
      const reused = socket.isSessionReused();
      socket.end();
      resolve({ session: saved ?? socket.getSession(), reused });
    });
    socket.on('error', reject);
  });
  return connectOnce().then((first) => connectOnce(first.session)).then((second) => second.reused);
}
