/**
 * Goal: the membership state machine merges gossip by (generation, heartbeat), lets a restart win,
 * turns silence into pfail then fail at the documented times, assigns epochs every node agrees on,
 * propagates leaves, picks gossip targets as documented, and keeps every collection bounded.
 * Method: a few Membership instances exchanging digests by hand under a scripted clock and a
 * seeded rng; assertions on state(), isAlive(), ringMembers(), members(), epoch() and tick() output.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DIGEST_MEMBERS_MAX,
  type GossipDigest,
  type MemberRecord,
  Membership,
  type MembershipOptions,
  PENDING_MEETS_MAX,
} from '../../src/cluster/membership.js';

const nodeId = (i: number): string => createHash('sha1').update(`member-${i}`).digest('hex');

function record(i: number, over: Partial<MemberRecord> = {}): MemberRecord {
  return {
    id: nodeId(i), host: `10.0.0.${i}`, port: 7000 + i, busPort: 17000 + i, zone: '',
    generation: 1, heartbeat: 0, status: 'active', epoch: 0, ...over,
  };
}

const OPTIONS: MembershipOptions = { nodeTimeoutMs: 2000, heartbeatIntervalMs: 100 };

function member(i: number, over: Partial<MemberRecord> = {}, opts: Partial<MembershipOptions> = {}, restored?: MemberRecord[]): Membership {
  return new Membership(record(i, over), { ...OPTIONS, ...opts }, restored);
}

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const rng = lcg(42);

/** `from` gossips its digest straight to `to`. */
function push(from: Membership, to: Membership, now: number): { topologyChanged: boolean; rejected: number } {
  return to.receive(now, from.tick(now, rng).digest);
}

function digestOf(from: number, ...members: MemberRecord[]): GossipDigest {
  return { from: nodeId(from), members };
}

function find(m: Membership, i: number): MemberRecord | undefined {
  return m.members().find((r) => r.id === nodeId(i));
}

describe('Membership merge rules', () => {
  it('takes a copy with a higher (generation, heartbeat) and ignores older or equal ones', () => {
    const a = member(0);
    a.receive(0, digestOf(1, record(1, { heartbeat: 5, host: 'first' })));
    a.receive(10, digestOf(2, record(1, { heartbeat: 4, host: 'older' })));
    a.receive(20, digestOf(2, record(1, { heartbeat: 5, host: 'equal' })));
    expect(find(a, 1)?.host).toBe('first');
    a.receive(30, digestOf(1, record(1, { heartbeat: 6, host: 'newer' })));
    expect(find(a, 1)).toMatchObject({ heartbeat: 6, host: 'newer' });
    expect(a.lastHeard(nodeId(1))).toBe(30);
  });

  it('merges epochs by maximum whatever copy carries them', () => {
    const a = member(0);
    a.receive(0, digestOf(1, record(1, { heartbeat: 5, epoch: 3 })));
    a.receive(10, digestOf(2, record(1, { heartbeat: 2, epoch: 7 })));
    expect(find(a, 1)?.epoch).toBe(7);
    a.receive(20, digestOf(1, record(1, { heartbeat: 9, epoch: 4 })));
    expect(find(a, 1)).toMatchObject({ heartbeat: 9, epoch: 7 });
    expect(a.epoch()).toBe(7);
  });

  it('lets a restarted member win with a higher generation and a reset heartbeat', () => {
    const a = member(0);
    a.receive(0, digestOf(1, record(1, { generation: 3, heartbeat: 900, epoch: 2, host: 'old' })));
    a.receive(100, digestOf(1, record(1, { generation: 4, heartbeat: 0, epoch: 0, host: 'new' })));
    expect(find(a, 1)).toMatchObject({ generation: 4, heartbeat: 0, host: 'new', epoch: 2 });
    // The previous incarnation's last words, still in flight, change nothing.
    a.receive(200, digestOf(2, record(1, { generation: 3, heartbeat: 901 })));
    expect(find(a, 1)).toMatchObject({ generation: 4, heartbeat: 0 });
  });

  it('outranks relayed copies of itself from an incarnation it does not remember', () => {
    const a = member(0, { generation: 2 });
    a.receive(0, digestOf(1, record(0, { generation: 5, heartbeat: 3, status: 'left' })));
    expect(a.self()).toMatchObject({ generation: 6, heartbeat: 0, status: 'active' });
    const b = member(1);
    b.receive(0, digestOf(1, record(0, { generation: 5, heartbeat: 3, status: 'left' })));
    push(a, b, 10);
    expect(find(b, 0)).toMatchObject({ generation: 6, status: 'active' });

    const c = member(3, { generation: 2, heartbeat: 0 });
    c.receive(0, digestOf(1, record(3, { generation: 2, heartbeat: 40 })));
    expect(c.self()).toMatchObject({ generation: 2, heartbeat: 41 });
  });

  it('skips malformed records, counts them, and throws on a digest that is not one', () => {
    const a = member(0);
    const bad = [
      { ...record(1), id: 'not-hex' },
      { ...record(2), port: 70000 },
      { ...record(3), status: 'gone' },
      { ...record(4), heartbeat: -1 },
      { ...record(5), generation: 1.5 },
      null,
    ] as unknown as MemberRecord[];
    const result = a.receive(0, { from: nodeId(9), members: [...bad, record(6)] });
    expect(result).toEqual({ topologyChanged: true, rejected: 6 });
    expect(a.members().map((r) => r.id)).toEqual([nodeId(0), nodeId(6)].sort());
    expect(() => a.receive(0, null as unknown as GossipDigest)).toThrow(TypeError);
    expect(() => a.receive(0, { from: nodeId(1) } as unknown as GossipDigest)).toThrow(TypeError);
    // Extra properties from a decoded message do not ride along into members().
    a.receive(1, digestOf(7, { ...record(7), extra: 'x' } as MemberRecord));
    expect(Object.keys(find(a, 7)!)).not.toContain('extra');
  });
});

describe('Membership failure detection', () => {
  /** a hears b's heartbeat every 100 ms from t=0 to t=lastMs. */
  function heard(lastMs: number): { a: Membership; b: Membership } {
    const a = member(0);
    const b = member(1);
    for (let t = 0; t <= lastMs; t += 100) push(b, a, t);
    return { a, b };
  }

  it('reports ok, then pfail when phi passes the threshold, then fail at nodeTimeoutMs', () => {
    const { a } = heard(5000);
    const id = nodeId(1);
    expect(a.lastHeard(id)).toBe(5000);
    expect(a.state(id, 5100)).toBe('ok');
    let pfailAt = -1;
    for (let t = 5000; t < 7000; t += 10) {
      if (a.state(id, t) === 'pfail') {
        pfailAt = t;
        break;
      }
      expect(a.state(id, t)).toBe('ok');
    }
    // Mean 100 ms, deviation floored at 50 ms: phi 8 about 5.6 deviations past the mean.
    expect(pfailAt - 5000).toBeGreaterThanOrEqual(300);
    expect(pfailAt - 5000).toBeLessThanOrEqual(450);
    expect(a.state(id, 6999)).toBe('pfail');
    expect(a.isAlive(id, 6999)).toBe(true);
    expect(a.state(id, 7000)).toBe('fail');
    expect(a.isAlive(id, 7000)).toBe(false);
  });

  it('honours a custom phi threshold', () => {
    const a = member(0, {}, { phiThreshold: 1 });
    const b = member(1);
    for (let t = 0; t <= 2000; t += 100) push(b, a, t);
    expect(a.state(nodeId(1), 2200)).toBe('pfail');
  });

  it('takes a failed peer that speaks again as ok at once, forgetting the long gap', () => {
    const { a, b } = heard(1000);
    const id = nodeId(1);
    expect(a.state(id, 10_000)).toBe('fail');
    push(b, a, 10_000);
    expect(a.state(id, 10_000)).toBe('ok');
    for (let t = 10_100; t <= 11_000; t += 100) push(b, a, t);
    // Had the 9 s gap stayed in the window, a 500 ms silence would be nowhere near suspicious.
    expect(a.state(id, 11_500)).toBe('pfail');
  });

  it('gives peers it never heard from nodeTimeoutMs of grace from when it learned of them', () => {
    const a = member(0);
    a.receive(1000, digestOf(1, record(1), record(2)));
    expect(a.state(nodeId(2), 2999)).toBe('ok');
    expect(a.lastHeard(nodeId(2))).toBeUndefined();
    expect(a.state(nodeId(2), 3000)).toBe('fail');
    // Restored peers: grace starts at the first time the shell hands in.
    const r = member(0, { generation: 2 }, {}, [record(0), record(3, { epoch: 1 })]);
    r.tick(50_000, rng);
    expect(r.state(nodeId(3), 51_999)).toBe('ok');
    expect(r.state(nodeId(3), 52_000)).toBe('fail');
  });

  it('names self and unknown ids', () => {
    const a = member(0);
    expect(a.state(nodeId(0), 0)).toBe('self');
    expect(a.isAlive(nodeId(0), 0)).toBe(true);
    expect(a.state(nodeId(5), 0)).toBe('fail');
    expect(a.isAlive(nodeId(5), 0)).toBe(false);
    expect(a.lastHeard(nodeId(0))).toBeUndefined();
  });
});

describe('Membership epochs, joins and leaves', () => {
  it('has the admitting node stamp a joiner with max+1, which the joiner adopts', () => {
    const a = member(0, { epoch: 4 });
    const joiner = member(1);
    joiner.meet('10.0.0.0', 17000);
    const first = joiner.tick(0, rng);
    expect(first.targets).toContainEqual({ id: '', host: '10.0.0.0', busPort: 17000 });
    expect(a.receive(0, first.digest).topologyChanged).toBe(true);
    expect(find(a, 1)?.epoch).toBe(5);
    expect(a.epoch()).toBe(5);
    push(a, joiner, 10);
    expect(joiner.self().epoch).toBe(5);
    expect(joiner.epoch()).toBe(5);
    // The joiner's later gossip (epoch 5 now) changes nothing on a.
    push(joiner, a, 20);
    expect(find(a, 1)?.epoch).toBe(5);
  });

  it('converges on the larger stamp when two nodes admit the same joiner', () => {
    const a = member(0, { epoch: 3 });
    const b = member(2, { epoch: 6 });
    const joiner = member(1);
    const { digest } = joiner.tick(0, rng);
    a.receive(0, digest);
    b.receive(0, digest);
    expect(find(a, 1)?.epoch).toBe(4);
    expect(find(b, 1)?.epoch).toBe(7);
    push(b, a, 10);
    push(a, b, 10);
    push(a, joiner, 20);
    for (const m of [a, b, joiner]) expect(m.members().find((r) => r.id === nodeId(1))?.epoch).toBe(7);
  });

  it('stamps joiners of one digest in id order with distinct epochs', () => {
    const a = member(9, { epoch: 1 });
    a.receive(0, digestOf(3, record(3), record(2), record(4, { status: 'left' })));
    expect(find(a, 2)?.epoch).not.toBe(find(a, 3)?.epoch);
    const ids = [find(a, 2)!, find(a, 3)!].sort((x, y) => (x.id < y.id ? -1 : 1));
    expect(ids.map((r) => r.epoch)).toEqual([2, 3]);
    expect(find(a, 4)?.epoch).toBe(0);
  });

  it('propagates a leave: leaving stays on the ring, left leaves it, each with a new epoch', () => {
    const a = member(0, { epoch: 2 });
    const b = member(1, { epoch: 2 });
    push(a, b, 0);
    push(b, a, 0);
    b.setStatus('leaving', 100);
    expect(b.self()).toMatchObject({ status: 'leaving', epoch: 3 });
    expect(push(b, a, 100).topologyChanged).toBe(true);
    expect(a.ringMembers().map((m) => m.id)).toContain(nodeId(1));
    b.setStatus('left', 200);
    expect(b.self()).toMatchObject({ status: 'left', epoch: 4 });
    expect(push(b, a, 200).topologyChanged).toBe(true);
    expect(a.ringMembers().map((m) => m.id)).toEqual([nodeId(0)]);
    expect(find(a, 1)?.status).toBe('left');
    expect(a.epoch()).toBe(4);
    expect(b.ringMembers().map((m) => m.id)).toEqual([nodeId(0)]);
    // Repeating a status is a no-op; going back throws.
    b.setStatus('left', 300);
    expect(b.self().epoch).toBe(4);
    expect(() => b.setStatus('leaving', 300)).toThrow(RangeError);
    // A left member is never a gossip target.
    for (let t = 300; t < 400; t += 10) expect(a.tick(t, rng).targets.map((x) => x.id)).not.toContain(nodeId(1));
  });

  it('gives a member rejoining after left a new epoch, from its own restart or from an admitter', () => {
    const persisted = [record(0, { status: 'left', epoch: 5, generation: 3 }), record(1, { epoch: 2 })];
    const rejoined = member(0, { generation: 4 }, {}, persisted);
    expect(rejoined.self()).toMatchObject({ generation: 4, status: 'active', epoch: 6 });

    // Its state was lost: it gossips epoch 0, and a node that knew it as left admits it again.
    const a = member(1, { epoch: 2 });
    a.receive(0, digestOf(0, record(0, { status: 'left', epoch: 5, generation: 3, heartbeat: 9 })));
    expect(a.ringMembers().map((m) => m.id)).not.toContain(nodeId(0));
    const fresh = member(0, { generation: 4 });
    expect(push(fresh, a, 10).topologyChanged).toBe(true);
    expect(find(a, 0)).toMatchObject({ status: 'active', generation: 4, epoch: 6 });
  });

  it('keeps the persisted epoch across a plain restart', () => {
    const restarted = member(0, { generation: 8 }, {}, [record(0, { epoch: 5, generation: 7 }), record(1, { epoch: 6 })]);
    expect(restarted.self()).toMatchObject({ generation: 8, epoch: 5, heartbeat: 0 });
    expect(restarted.epoch()).toBe(6);
  });

  it('reports topology changes only for ring-relevant differences', () => {
    const a = member(0);
    expect(a.receive(0, digestOf(1, record(1))).topologyChanged).toBe(true);
    expect(a.receive(10, digestOf(1, record(1, { heartbeat: 1 }))).topologyChanged).toBe(false);
    expect(a.receive(20, digestOf(1, record(1, { heartbeat: 2, host: 'moved' }))).topologyChanged).toBe(false);
    expect(a.receive(30, digestOf(1, record(1, { heartbeat: 3, zone: 'z1' }))).topologyChanged).toBe(true);
    expect(a.receive(40, digestOf(5, record(5, { status: 'left' }))).topologyChanged).toBe(false);
  });

  it('carries a member\'s rebalance fingerprint to its peers without calling it a topology change', () => {
    const a = member(0);
    const b = member(1);
    push(a, b, 0);
    a.setSynced('0123abcd0123abcd');
    expect(push(a, b, 10).topologyChanged).toBe(false);
    expect(find(b, 0)?.synced).toBe('0123abcd0123abcd');
    // Records from before the field existed still count; a malformed one does not.
    const { synced: _omitted, ...old } = record(2);
    expect(b.receive(20, digestOf(2, old as MemberRecord)).rejected).toBe(0);
    expect(find(b, 2)?.synced).toBe('');
    expect(b.receive(30, digestOf(3, record(3, { synced: 'x'.repeat(65) }))).rejected).toBe(1);
  });
});

describe('Membership views', () => {
  it('lists ring members and members in id order, with zones when set', () => {
    const a = member(3, { zone: 'z3' });
    a.receive(0, digestOf(1, record(1, { zone: 'z1' }), record(2), record(4, { status: 'left' })));
    const ids = [1, 2, 3].map(nodeId).sort();
    expect(a.ringMembers().map((m) => m.id)).toEqual(ids);
    expect(a.ringMembers().find((m) => m.id === nodeId(1))).toEqual({ id: nodeId(1), zone: 'z1' });
    expect(a.ringMembers().find((m) => m.id === nodeId(2))).toEqual({ id: nodeId(2) });
    expect(a.members().map((r) => r.id)).toEqual([1, 2, 3, 4].map(nodeId).sort());
    // Copies: changing them does not change the view.
    a.members()[0]!.status = 'left';
    expect(a.ringMembers()).toHaveLength(3);
  });
});

describe('Membership gossip targets', () => {
  function cluster(size: number): Membership {
    const a = member(0);
    a.receive(0, digestOf(1, ...Array.from({ length: size }, (_, i) => record(i + 1))));
    return a;
  }

  it('picks fanout distinct live peers with the supplied rng, reproducibly', () => {
    const a = cluster(10);
    const b = cluster(10);
    const ra = lcg(5);
    const rb = lcg(5);
    for (let t = 0; t < 1000; t += 100) {
      const ta = a.tick(t, ra).targets.map((x) => x.id);
      const tb = b.tick(t, rb).targets.map((x) => x.id);
      expect(ta).toHaveLength(3);
      expect(new Set(ta).size).toBe(3);
      expect(ta).toEqual(tb);
    }
    expect(member(0, {}, { fanout: 5 }).tick(0, rng).targets).toHaveLength(0);
    const wide = new Membership(record(0), { ...OPTIONS, fanout: 5 });
    wide.receive(0, digestOf(1, ...Array.from({ length: 10 }, (_, i) => record(i + 1))));
    expect(wide.tick(0, rng).targets).toHaveLength(5);
  });

  it('adds suspected peers and, now and then, a dead one', () => {
    const a = member(0);
    const peers = Array.from({ length: 6 }, (_, i) => member(i + 1));
    for (let t = 0; t <= 3000; t += 100) {
      for (const p of peers.slice(0, 4)) push(p, a, t);
      // Peer 5 goes quiet at 2000 (pfail by 3000, fail at 4000); peer 6 at 1000 (fail at 3000).
      if (t <= 2000) push(peers[4]!, a, t);
      if (t <= 1000) push(peers[5]!, a, t);
    }
    expect(a.state(nodeId(5), 3000)).toBe('pfail');
    expect(a.state(nodeId(6), 3000)).toBe('fail');
    let sawDead = 0;
    for (let i = 0; i < 200; i++) {
      const ids = a.tick(3000, rng).targets.map((x) => x.id);
      expect(ids).toContain(nodeId(5));
      expect(ids.filter((id) => [1, 2, 3, 4].map(nodeId).includes(id))).toHaveLength(3);
      if (ids.includes(nodeId(6))) sawDead++;
    }
    // Probability dead/(live+1) = 1/5.
    expect(sawDead).toBeGreaterThan(20);
    expect(sawDead).toBeLessThan(80);
  });

  it('gossips to a MEET address until a digest from that address names its id', () => {
    const a = member(0);
    const b = member(1);
    a.meet('10.0.0.1', 17001);
    a.meet('10.0.0.1', 17001);
    a.meet('10.0.0.0', 17000); // our own address: nothing to meet
    expect(a.pendingMeets()).toEqual([{ host: '10.0.0.1', busPort: 17001 }]);
    b.receive(0, a.tick(0, rng).digest);
    // b's id arrives second-hand first: still pending, since b itself has not answered.
    a.receive(5, digestOf(2, record(1)));
    expect(a.pendingMeets()).toHaveLength(1);
    push(b, a, 10);
    expect(a.pendingMeets()).toHaveLength(0);
    expect(a.tick(20, rng).targets).toEqual([{ id: nodeId(1), host: '10.0.0.1', busPort: 17001 }]);
  });
});

describe('Membership bounds', () => {
  it('forgets the longest-silent left member to admit a new one, and refuses when none has left', () => {
    const a = member(0, {}, { membersMax: 4 });
    a.receive(0, digestOf(1, record(1, { status: 'left' })));
    a.receive(10, digestOf(2, record(2, { status: 'left' })));
    a.receive(20, digestOf(3, record(3)));
    expect(a.members()).toHaveLength(4);
    a.receive(30, digestOf(4, record(4)));
    expect(a.members().map((r) => r.id).sort()).toEqual([0, 2, 3, 4].map(nodeId).sort());
    a.receive(40, digestOf(5, record(5)));
    a.receive(50, digestOf(6, record(6)));
    expect(a.members().map((r) => r.id).sort()).toEqual([0, 3, 4, 5].map(nodeId).sort());
    expect(a.state(nodeId(6), 50)).toBe('fail');
  });

  it('holds at most the default 1000 members', () => {
    const a = member(0);
    const records = Array.from({ length: 1100 }, (_, i) => record(i + 1, { status: 'left' }));
    for (let i = 0; i < records.length; i += 100) a.receive(i, digestOf(1, ...records.slice(i, i + 100)));
    expect(a.members()).toHaveLength(1000);
  });

  it('caps a digest at DIGEST_MEMBERS_MAX records, self always first', () => {
    const a = member(0);
    a.receive(0, digestOf(1, ...Array.from({ length: 100 }, (_, i) => record(i + 1))));
    const { digest } = a.tick(0, rng);
    expect(digest.members).toHaveLength(DIGEST_MEMBERS_MAX);
    expect(digest.members[0]!.id).toBe(nodeId(0));
    expect(new Set(digest.members.map((r) => r.id)).size).toBe(DIGEST_MEMBERS_MAX);
  });

  it('caps pending MEETs and validates their addresses', () => {
    const a = member(0);
    for (let i = 0; i < PENDING_MEETS_MAX; i++) a.meet('10.1.0.1', 20000 + i);
    expect(() => a.meet('10.1.0.1', 30000)).toThrow(RangeError);
    expect(() => a.meet('', 1)).toThrow(RangeError);
    expect(() => a.meet('h', 0)).toThrow(RangeError);
    expect(() => a.meet('h', 65536)).toThrow(RangeError);
  });

  it('rejects invalid options, self records and restored state', () => {
    expect(() => member(0, {}, { nodeTimeoutMs: 0 })).toThrow(RangeError);
    expect(() => member(0, {}, { fanout: 0 })).toThrow(RangeError);
    expect(() => member(0, {}, { fanout: 33 })).toThrow(RangeError);
    expect(() => member(0, {}, { membersMax: 1001 })).toThrow(RangeError);
    expect(() => member(0, {}, { phiThreshold: -1 })).toThrow(RangeError);
    expect(() => new Membership({ ...record(0), id: 'x' }, OPTIONS)).toThrow(RangeError);
    expect(() => member(0, {}, {}, [{ ...record(1), port: -1 }])).toThrow(RangeError);
    expect(() => member(0, {}, { membersMax: 2 }, [record(1), record(2), record(3)])).toThrow(RangeError);
    expect(() => member(0).tick(Number.NaN, rng)).toThrow(RangeError);
  });
});
