/**
 * Which node owns which key, as a cluster-unaware client must know it to pipeline straight to a
 * slot's owner: the key's slot computed here (CRC16-XMODEM with hash tags, independent of the
 * product's code) and the owner taken from the node's CLUSTER SLOTS.
 */
import { RespConn, type Reply } from './resp-conn.js';

const CRC_TABLE = ((): Uint16Array => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    t[i] = crc;
  }
  return t;
})();

/** Redis Cluster's slot of a key: CRC16 of the key, or of its first non-empty `{tag}`, mod 16384. */
export function keySlot(key: string): number {
  let bytes = Buffer.from(key);
  const open = bytes.indexOf('{');
  if (open >= 0) {
    const close = bytes.indexOf('}', open + 1);
    if (close > open + 1) bytes = bytes.subarray(open + 1, close);
  }
  let crc = 0;
  for (const b of bytes) crc = ((crc << 8) ^ CRC_TABLE[((crc >> 8) ^ b) & 0xff]!) & 0xffff;
  return crc & 0x3fff;
}

export interface SlotMap {
  /** Client port of the node that serves `key`. */
  ownerOf(key: string): number;
  /** `count` keys `${prefix}<n>` that all live on the node at `port`, each in a different slot. */
  keysOn(port: number, prefix: string, count: number): string[];
  /** A port of a node that does not serve `key`. */
  notOwnerOf(key: string, ports: number[]): number;
}

/** Reads CLUSTER SLOTS from the node at `port`. */
export async function slotMap(port: number): Promise<SlotMap> {
  const conn = await RespConn.connect(port);
  let reply: Reply;
  try {
    reply = await conn.call('CLUSTER', 'SLOTS');
  } finally {
    conn.close();
  }
  if (reply.t !== 'array') throw new Error(`CLUSTER SLOTS answered ${JSON.stringify(reply)}`);
  const owner = new Int32Array(16384).fill(-1);
  for (const range of reply.v) {
    if (range.t !== 'array') throw new Error('CLUSTER SLOTS range is not an array');
    const [start, end, master] = range.v;
    if (start?.t !== 'int' || end?.t !== 'int' || master?.t !== 'array' || master.v[1]?.t !== 'int') throw new Error('unexpected CLUSTER SLOTS layout');
    owner.fill(Number(master.v[1].v), Number(start.v), Number(end.v) + 1);
  }
  const ownerOf = (key: string): number => {
    const port = owner[keySlot(key)]!;
    if (port < 0) throw new Error(`slot of ${key} has no owner`);
    return port;
  };
  return {
    ownerOf,
    keysOn(port, prefix, count) {
      const keys: string[] = [];
      const slots = new Set<number>();
      for (let n = 0; keys.length < count; n++) {
        if (n > 100000) throw new Error(`node ${port} owns too few slots`);
        const key = `${prefix}${n}`;
        const slot = keySlot(key);
        if (owner[slot] === port && !slots.has(slot)) {
          slots.add(slot);
          keys.push(key);
        }
      }
      return keys;
    },
    notOwnerOf(key, ports) {
      const other = ports.find((p) => p !== ownerOf(key));
      if (other === undefined) throw new Error(`every node owns ${key}`);
      return other;
    },
  };
}

/**
 * The slot map once every one of `ports` serves some slot: a node briefly suspected (a loaded
 * machine) serves none, and a map read then would give the tests no keys on it. 15 s at most.
 */
export async function settledSlotMap(port: number, ports: readonly number[]): Promise<SlotMap> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const map = await slotMap(port);
    const served = ports.every((p) => {
      try {
        map.keysOn(p, 'settled-', 1);
        return true;
      } catch {
        return false;
      }
    });
    if (served || Date.now() > deadline) return map;
    await new Promise((r) => setTimeout(r, 250));
  }
}
