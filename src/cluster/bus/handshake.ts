import { createHmac, timingSafeEqual } from 'node:crypto';
import type { BusAddress, PeerIdentity } from './types.js';

/**
 * Cluster-bus authentication as a pure state machine: bytes in, bytes to send and a verdict out.
 *
 * 1. Both sides send a hello: magic, protocol version, a fresh 32-byte nonce.
 * 2. The connecting side answers the acceptor's hello with its proof; the acceptor verifies it and
 *    only then sends its own proof, so a scanner that connects to a bus port learns nothing it could
 *    use to guess a weak secret offline.
 * 3. proof = identity ‖ HMAC-SHA256(secret, role ‖ peerNonce ‖ ownNonce ‖ identity), where identity is
 *    the prover's node id and advertised bus address. The role label and the prover's own nonce stop
 *    a proof that a node gave as acceptor from being replayed as a connector's proof to another
 *    node (which would let anyone who can reach two nodes pass as one of them to the other).
 *
 * This keeps out parties that do not know the secret; it does not encrypt or sign later frames, so
 * the bus belongs on a network where nobody can tamper with established TCP streams.
 */

export const NONCE_BYTES = 32;
export const HANDSHAKE_TIMEOUT_MS = 5_000;
const MAGIC = Buffer.from('RKVB', 'latin1');
const PROTOCOL_VERSION = 1;
const HELLO_BYTES = MAGIC.length + 1 + NONCE_BYTES;
const MAC_BYTES = 32;
const NODE_ID_BYTES_MAX = 64;
const HOST_BYTES_MAX = 255;
/** u16 length of the rest, then id length, id, host length, host, port, mac. */
const PROOF_BYTES_MAX = 2 + 1 + NODE_ID_BYTES_MAX + 1 + HOST_BYTES_MAX + 2 + MAC_BYTES;
/** The most bytes one side can send before the other must decide; anything beyond is frames. */
export const HANDSHAKE_BYTES_MAX = HELLO_BYTES + PROOF_BYTES_MAX;
const ROLE_LABEL = {
  connect: Buffer.from('ringkv-bus connect', 'latin1'),
  accept: Buffer.from('ringkv-bus accept', 'latin1'),
} as const;
const NODE_ID_PATTERN = /^[\x21-\x7e]+$/;

export type HandshakeRole = 'connect' | 'accept';

export interface HandshakeLocal {
  role: HandshakeRole;
  secret: string;
  nodeId: string;
  advertise: BusAddress;
}

export type HandshakeStep =
  | { state: 'pending'; send: Buffer[] }
  /** `rest` holds bytes after the handshake: the first frames. */
  | { state: 'done'; send: Buffer[]; peer: PeerIdentity; rest: Buffer }
  /** `auth`: the peer does not know the secret; `protocol`: it is not speaking this protocol. */
  | { state: 'failed'; reason: 'auth' | 'protocol'; message: string };

export function encodeIdentity(nodeId: string, address: BusAddress): Buffer {
  const id = Buffer.from(nodeId, 'utf8');
  const host = Buffer.from(address.host, 'utf8');
  if (id.length === 0 || id.length > NODE_ID_BYTES_MAX || !NODE_ID_PATTERN.test(nodeId)) {
    throw new Error(`invalid bus node id '${nodeId}'`);
  }
  if (host.length === 0 || host.length > HOST_BYTES_MAX) throw new Error(`invalid bus host '${address.host}'`);
  if (!Number.isInteger(address.port) || address.port < 1 || address.port > 0xffff) {
    throw new Error(`invalid bus port ${address.port}`);
  }
  const out = Buffer.allocUnsafe(1 + id.length + 1 + host.length + 2);
  out[0] = id.length;
  id.copy(out, 1);
  out[1 + id.length] = host.length;
  host.copy(out, 2 + id.length);
  out.writeUInt16BE(address.port, out.length - 2);
  return out;
}

function decodeIdentity(buf: Buffer): PeerIdentity | undefined {
  const idLength = buf[0]!;
  const hostAt = 1 + idLength;
  if (hostAt >= buf.length) return undefined;
  const hostLength = buf[hostAt]!;
  if (hostAt + 1 + hostLength + 2 !== buf.length || idLength === 0 || hostLength === 0) return undefined;
  const nodeId = buf.toString('utf8', 1, hostAt);
  const host = buf.toString('utf8', hostAt + 1, hostAt + 1 + hostLength);
  const port = buf.readUInt16BE(buf.length - 2);
  if (!NODE_ID_PATTERN.test(nodeId) || port === 0) return undefined;
  return { nodeId, address: { host, port } };
}

export function proofMac(secret: string, role: HandshakeRole, verifierNonce: Buffer, proverNonce: Buffer, identity: Buffer): Buffer {
  return createHmac('sha256', secret)
    .update(ROLE_LABEL[role])
    .update(verifierNonce)
    .update(proverNonce)
    .update(identity)
    .digest();
}

export class Handshake {
  private buffered: Buffer = Buffer.alloc(0);
  private peerNonce: Buffer | undefined;
  private readonly identity: Buffer;
  private finished = false;

  /** `nonce` comes from the caller (crypto.randomBytes) so tests can replay a handshake. */
  constructor(
    private readonly local: HandshakeLocal,
    private readonly nonce: Buffer,
  ) {
    if (nonce.length !== NONCE_BYTES) throw new Error(`bus nonce must be ${NONCE_BYTES} bytes`);
    this.identity = encodeIdentity(local.nodeId, local.advertise);
  }

  /** The first bytes to send, before anything is received. */
  hello(): Buffer {
    const out = Buffer.allocUnsafe(HELLO_BYTES);
    MAGIC.copy(out, 0);
    out[MAGIC.length] = PROTOCOL_VERSION;
    this.nonce.copy(out, MAGIC.length + 1);
    return out;
  }

  receive(chunk: Buffer): HandshakeStep {
    if (this.finished) return { state: 'failed', reason: 'protocol', message: 'handshake already finished' };
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const send: Buffer[] = [];
    if (this.peerNonce === undefined) {
      // Reject a stranger's bytes (an HTTP probe, redis-cli on the wrong port) as soon as they differ.
      const seen = Math.min(this.buffered.length, MAGIC.length);
      if (!this.buffered.subarray(0, seen).equals(MAGIC.subarray(0, seen))) return this.fail('protocol', 'not a ringkv bus peer (bad magic)');
      if (this.buffered.length < HELLO_BYTES) return { state: 'pending', send };
      const failure = this.readHello();
      if (failure) return this.fail('protocol', failure);
      if (this.local.role === 'connect') send.push(this.proof());
    }
    if (this.buffered.length < 2) return { state: 'pending', send };
    const proofBytes = 2 + this.buffered.readUInt16BE(0);
    if (proofBytes > PROOF_BYTES_MAX || proofBytes < 2 + 1 + 1 + 2 + MAC_BYTES) {
      return this.fail('protocol', `bad bus handshake proof length ${proofBytes}`);
    }
    if (this.buffered.length < proofBytes) return { state: 'pending', send };
    const identityBytes = this.buffered.subarray(2, proofBytes - MAC_BYTES);
    const mac = this.buffered.subarray(proofBytes - MAC_BYTES, proofBytes);
    const peer = decodeIdentity(identityBytes);
    if (peer === undefined) return this.fail('protocol', 'malformed bus handshake identity');
    const peerRole: HandshakeRole = this.local.role === 'connect' ? 'accept' : 'connect';
    const expected = proofMac(this.local.secret, peerRole, this.nonce, this.peerNonce!, identityBytes);
    if (!timingSafeEqual(expected, mac)) return this.fail('auth', `bus peer claiming node ${peer.nodeId} failed authentication`);
    if (this.local.role === 'accept') send.push(this.proof());
    this.finished = true;
    const rest = this.buffered.subarray(proofBytes);
    this.buffered = Buffer.alloc(0);
    return { state: 'done', send, peer, rest };
  }

  private readHello(): string | undefined {
    const hello = this.buffered.subarray(0, HELLO_BYTES);
    const version = hello[MAGIC.length]!;
    if (version !== PROTOCOL_VERSION) return `unsupported bus protocol version ${version}`;
    const nonce = Buffer.from(hello.subarray(MAGIC.length + 1));
    // Our own nonce echoed back can only be an attempt to reflect our proof.
    if (nonce.equals(this.nonce)) return 'bus peer echoed our nonce';
    this.peerNonce = nonce;
    this.buffered = this.buffered.subarray(HELLO_BYTES);
    return undefined;
  }

  private proof(): Buffer {
    const mac = proofMac(this.local.secret, this.local.role, this.peerNonce!, this.nonce, this.identity);
    const out = Buffer.allocUnsafe(2 + this.identity.length + MAC_BYTES);
    out.writeUInt16BE(out.length - 2, 0);
    this.identity.copy(out, 2);
    mac.copy(out, 2 + this.identity.length);
    return out;
  }

  private fail(reason: 'auth' | 'protocol', message: string): HandshakeStep {
    this.finished = true;
    this.buffered = Buffer.alloc(0);
    return { state: 'failed', reason, message };
  }
}
