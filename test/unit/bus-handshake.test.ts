/**
 * Goal: the bus handshake admits exactly the peers that know the cluster secret, tells each side
 * who the other is, and cannot be passed by replaying or reflecting a real node's proof.
 * Method: drive two pure Handshake machines against each other through an in-memory pipe (whole
 * and byte by byte), then play an attacker that relays messages between real nodes.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Handshake, type HandshakeLocal, type HandshakeStep } from '../../src/cluster/bus/handshake.js';

const A_ID = 'a'.repeat(40);
const B_ID = 'b'.repeat(40);
const C_ID = 'c'.repeat(40);

function machine(role: 'connect' | 'accept', nodeId: string, secret: string, port: number): Handshake {
  const local: HandshakeLocal = { role, secret, nodeId, advertise: { host: '10.0.0.1', port } };
  return new Handshake(local, randomBytes(32));
}

interface Outcome {
  connector: HandshakeStep;
  acceptor: HandshakeStep;
}

/** Delivers bytes between the two machines until neither has anything left to send. */
function run(connector: Handshake, acceptor: Handshake, chunkBytes = Infinity): Outcome {
  let toAcceptor: Buffer[] = [connector.hello()];
  let toConnector: Buffer[] = [acceptor.hello()];
  let c: HandshakeStep = { state: 'pending', send: [] };
  let a: HandshakeStep = { state: 'pending', send: [] };
  const feed = (m: Handshake, bytes: Buffer[]): { last: HandshakeStep; out: Buffer[] } => {
    const all = Buffer.concat(bytes);
    let last: HandshakeStep = { state: 'pending', send: [] };
    const out: Buffer[] = [];
    for (let at = 0; at < all.length; at += Math.min(chunkBytes, all.length)) {
      last = m.receive(all.subarray(at, at + Math.min(chunkBytes, all.length)));
      if (last.state !== 'failed') out.push(...last.send);
      if (last.state !== 'pending') break;
    }
    return { last, out };
  };
  for (let round = 0; round < 4 && (toAcceptor.length > 0 || toConnector.length > 0); round++) {
    if (toAcceptor.length > 0 && a.state === 'pending') {
      const r = feed(acceptor, toAcceptor);
      a = r.last;
      toConnector = [...toConnector, ...r.out];
    }
    toAcceptor = [];
    if (toConnector.length > 0 && c.state === 'pending') {
      const r = feed(connector, toConnector);
      c = r.last;
      toAcceptor = r.out;
    }
    toConnector = [];
  }
  return { connector: c, acceptor: a };
}

describe('bus handshake', () => {
  it('authenticates both sides and reports each other identity', () => {
    const { connector, acceptor } = run(machine('connect', A_ID, 's3cret', 17001), machine('accept', B_ID, 's3cret', 17002));
    expect(connector.state).toBe('done');
    expect(acceptor.state).toBe('done');
    if (connector.state !== 'done' || acceptor.state !== 'done') return;
    expect(connector.peer).toEqual({ nodeId: B_ID, address: { host: '10.0.0.1', port: 17002 } });
    expect(acceptor.peer).toEqual({ nodeId: A_ID, address: { host: '10.0.0.1', port: 17001 } });
  });

  it('works byte by byte and with an empty secret', () => {
    const { connector, acceptor } = run(machine('connect', A_ID, '', 1), machine('accept', B_ID, '', 2), 1);
    expect(connector.state).toBe('done');
    expect(acceptor.state).toBe('done');
  });

  it('hands over the bytes that follow the handshake in the same chunk', () => {
    const c = machine('connect', A_ID, 'k', 1);
    const a = machine('accept', B_ID, 'k', 2);
    const step1 = c.receive(a.hello());
    expect(step1.state).toBe('pending');
    const step2 = a.receive(Buffer.concat([c.hello(), ...(step1.state === 'pending' ? step1.send : [])]));
    expect(step2.state).toBe('done');
    if (step2.state !== 'done') return;
    expect(step2.rest.length).toBe(0);
    const trailing = Buffer.from('first frame');
    const step3 = c.receive(Buffer.concat([...step2.send, trailing]));
    expect(step3.state).toBe('done');
    if (step3.state === 'done') expect(step3.rest.equals(trailing)).toBe(true);
  });

  it('refuses a wrong secret on both sides, and the acceptor reveals no proof to it', () => {
    const acceptor = machine('accept', B_ID, 'right', 2);
    const connector = machine('connect', A_ID, 'wrong', 1);
    const out = run(connector, acceptor);
    expect(out.acceptor).toMatchObject({ state: 'failed', reason: 'auth' });
    // The acceptor failed before sending its proof, so the connector is still waiting for one.
    expect(out.connector.state).toBe('pending');
  });

  it('refuses text and other protocols', () => {
    const acceptor = machine('accept', B_ID, 'k', 2);
    acceptor.hello();
    expect(acceptor.receive(Buffer.from('GET / HTTP/1.1\r\nHost: example\r\n\r\n'))).toMatchObject({ state: 'failed', reason: 'protocol' });
    const other = machine('accept', B_ID, 'k', 2);
    const hello = machine('connect', A_ID, 'k', 1).hello();
    hello[4] = 99;
    expect(other.receive(hello)).toMatchObject({ state: 'failed', reason: 'protocol' });
  });

  it('cannot be passed by relaying a real node proof', () => {
    // The attacker C connects to A and wants to pass as B. It learns A's nonce, opens a connection
    // to B, offers A's nonce as its own, and forwards whatever B proves back to A.
    const secret = 'cluster';
    const victim = machine('accept', A_ID, secret, 1);
    const victimHello = victim.hello();
    const nonceA = victimHello.subarray(5);
    const b = machine('accept', B_ID, secret, 2);
    const bHello = b.hello();
    const attackerHello = Buffer.concat([victimHello.subarray(0, 5), nonceA]);
    expect(b.receive(attackerHello).state).toBe('pending');
    // B, as acceptor, proves nothing until the attacker proves itself, which it cannot do.
    const forged = machine('connect', C_ID, 'guess', 3);
    forged.hello();
    const forgedProof = forged.receive(bHello);
    expect(forgedProof.state).toBe('pending');
    if (forgedProof.state !== 'pending') return;
    expect(b.receive(Buffer.concat(forgedProof.send))).toMatchObject({ state: 'failed', reason: 'auth' });

    // A genuine proof B once made as connector is bound to that connection's nonce pair, so
    // replaying it on a new connection to A fails.
    const genuine = machine('connect', B_ID, secret, 2);
    genuine.hello();
    const proof = genuine.receive(victimHello);
    expect(proof.state).toBe('pending');
    if (proof.state !== 'pending') return;
    const victim2 = machine('accept', A_ID, secret, 1);
    expect(victim2.receive(Buffer.concat([attackerHello, ...proof.send]))).toMatchObject({ state: 'failed', reason: 'auth' });
  });

  it('refuses a peer that echoes our own nonce', () => {
    const acceptor = machine('accept', B_ID, 'k', 2);
    expect(acceptor.receive(acceptor.hello())).toMatchObject({ state: 'failed', reason: 'protocol' });
  });
});
