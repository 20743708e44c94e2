/**
 * The TLS client listeners (tls-port): one tls.Server per bind address, serving the same RESP
 * connections as the plain port once the handshake is done. A reload swaps the secure context of
 * every listener: connections made from then on see the new certificate, open ones keep theirs.
 */
import { createServer, type Server, type TLSSocket, type TlsOptions } from 'node:tls';
import type { Logger } from '../core/logger.js';
import type { TlsMaterial } from './tls-context.js';
import type { TlsAuthClients } from './tls-options.js';
import { TlsSessionCache } from './tls-session-cache.js';

/** Whether to ask for a client certificate and whether OpenSSL refuses a handshake without a valid one. */
function clientCertRule(auth: TlsAuthClients): { requestCert: boolean; rejectUnauthorized: boolean } {
  // optional: asked for, and a certificate that is sent must verify (checked after the handshake).
  return { requestCert: auth !== 'no', rejectUnauthorized: auth === 'yes' };
}

function serverOptions(material: TlsMaterial): TlsOptions {
  return { ...material.server, ...clientCertRule(material.plan.authClients) };
}

/** A client that sent a certificate the CA did not sign: refused under `optional` as under `yes`. */
function presentedBadCertificate(socket: TLSSocket): boolean {
  if (socket.authorized) return false;
  const peer = socket.getPeerCertificate();
  return peer !== null && typeof peer === 'object' && Object.keys(peer).length > 0;
}

export class ClientTlsListeners {
  private readonly servers: Server[] = [];
  private material: TlsMaterial;
  private readonly sessions: TlsSessionCache;
  /** Handshakes that failed (bad or missing certificate, protocol or cipher mismatch, plain text on the TLS port). */
  handshakeFailures = 0;

  constructor(material: TlsMaterial, private readonly logger: Logger) {
    this.material = material;
    this.sessions = new TlsSessionCache(material.plan.sessionCacheSize, material.plan.sessionCacheTimeoutSec * 1000);
  }

  /** A new listener (not yet listening) that hands every accepted, authorised socket to `accept`. */
  create(accept: (socket: TLSSocket) => void): Server {
    const server = createServer(serverOptions(this.material), (socket) => {
      if (this.material.plan.authClients === 'optional' && presentedBadCertificate(socket)) {
        this.handshakeFailures++;
        this.logger.debug({ client: `${socket.remoteAddress}:${socket.remotePort}`, reason: socket.authorizationError }, 'TLS client certificate refused');
        socket.destroy();
        return;
      }
      accept(socket);
    });
    server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
      this.handshakeFailures++;
      // Redis logs these at verbose level: a client's mistake, not the server's.
      this.logger.debug({ client: `${socket.remoteAddress}:${socket.remotePort}`, reason: err.message.split('\n')[0], code: err.code }, 'TLS handshake with a client failed');
    });
    // Resumption by session id; tickets are OpenSSL's own (off with tls-session-caching no).
    server.on('newSession', (id: Buffer, data: Buffer, done: () => void) => {
      if (this.material.plan.sessionCaching) this.sessions.store(id, data, Date.now());
      done();
    });
    server.on('resumeSession', (id: Buffer, done: (err: Error | null, data: Buffer | null) => void) => {
      done(null, this.material.plan.sessionCaching ? this.sessions.lookup(id, Date.now()) ?? null : null);
    });
    this.servers.push(server);
    return server;
  }

  /** New certificates, CA and rules for connections accepted from now on. */
  reload(material: TlsMaterial): void {
    this.material = material;
    const rule = clientCertRule(material.plan.authClients);
    for (const server of this.servers) {
      server.setSecureContext(material.server);
      // setSecureContext leaves these alone; each new connection reads them from the server.
      Object.assign(server, rule);
    }
    this.sessions.configure(material.plan.sessionCacheSize, material.plan.sessionCacheTimeoutSec * 1000);
    // Sessions of the old certificate must not be resumed under the new one.
    this.sessions.clear();
  }

  get cachedSessions(): number {
    return this.sessions.size;
  }
}
