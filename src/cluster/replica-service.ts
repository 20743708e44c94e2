import { decodeRecord, encodeRecord } from '../storage/record-codec.js';
import type { ClusterNode } from './cluster-node.js';

interface ReadRequest {
  s: number;
  k: Uint8Array[];
}
interface WriteRequest {
  s: number;
  i: Array<[Uint8Array, Uint8Array]>;
  /** Present on a hinted write: the owner this node holds the records for. */
  h?: string;
}

const isSlot = (s: unknown): s is number => typeof s === 'number' && Number.isInteger(s) && s >= 0 && s < 16384;
const asBuffer = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

function isRead(p: unknown): p is ReadRequest {
  const r = p as ReadRequest;
  return typeof r === 'object' && r !== null && isSlot(r.s) && Array.isArray(r.k) && r.k.every((k) => k instanceof Uint8Array);
}

function isWrite(p: unknown): p is WriteRequest {
  const r = p as WriteRequest;
  return typeof r === 'object' && r !== null && isSlot(r.s) && Array.isArray(r.i) &&
    r.i.every((x) => Array.isArray(x) && x.length === 2 && x[0] instanceof Uint8Array && x[1] instanceof Uint8Array) &&
    (r.h === undefined || (typeof r.h === 'string' && /^[0-9a-f]{40}$/.test(r.h)));
}

/**
 * The replica side of quorum operations: answers record reads, applies replicated writes (last
 * writer wins) and acknowledges them only once they are as durable as appendfsync promises.
 */
export class ReplicaService {
  constructor(private readonly cluster: ClusterNode) {}

  register(): void {
    const { bus, node } = this.cluster;
    bus.handle('rr', (_from, payload) => {
      if (!isRead(payload)) throw new Error('malformed replica read');
      return payload.k.map((k) => {
        const rec = node.store.get(payload.s, asBuffer(k));
        return rec ? encodeRecord(rec) : null;
      });
    });
    bus.handle('rw', (_from, payload) => {
      if (!isWrite(payload)) throw new Error('malformed replica write');
      const now = node.versioner.now();
      if (payload.h !== undefined) {
        const owner = payload.h;
        return Promise.all(payload.i.map(([k, r]) => this.cluster.hints.add(owner, payload.s, Buffer.from(k), Buffer.from(r), now))).then(() => true);
      }
      for (const [k, r] of payload.i) {
        const rec = decodeRecord(asBuffer(r));
        node.versioner.hlc.observe(rec.version, now);
        this.cluster.coordinator.applyLocal(payload.s, Buffer.from(k), rec);
      }
      if (!node.store.hasPendingDurability()) return true;
      return new Promise<boolean>((resolve, reject) => node.store.afterDurable((err) => (err ? reject(err) : resolve(true))));
    });
  }
}
