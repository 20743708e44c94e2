/**
 * How the raw pipeline cases reach a ringkv cluster: straight to each slot's owner (as a
 * cluster-aware client does), or, under cluster-proxy, to a node that does not own the keys so the
 * commands are relayed.
 */
import type { RawTarget } from './raw-pipeline-cases.js';
import { keySlot, type SlotMap } from './slot-map.js';

/** Pipelines go to the owner of their keys; mixed-slot pipelines use slots of one node. */
export function ownerTarget(slots: SlotMap, ports: number[]): RawTarget {
  return {
    kind: 'owner',
    foreign(port, prefix) {
      const owner = ports.find((p) => p !== port)!;
      const [key] = slots.keysOn(owner, prefix, 1);
      return { key: key!, moved: `-MOVED ${keySlot(key!)} 127.0.0.1:${owner}` };
    },
    portFor(keys) {
      const owners = new Set(keys.map((k) => slots.ownerOf(k)));
      if (owners.size !== 1) throw new Error(`keys ${keys.join(' ')} live on ${owners.size} nodes`);
      return [...owners][0]!;
    },
    keysTogether(prefix, count) {
      const port = ports[0]!;
      return { port, keys: slots.keysOn(port, prefix, count) };
    },
    ports,
  };
}

/** Pipelines go to a node that owns none of their keys; mixed-slot pipelines span every node. */
export function proxyTarget(slots: SlotMap, ports: number[]): RawTarget {
  return {
    kind: 'proxy',
    portFor(keys) {
      const other = ports.find((p) => keys.every((k) => slots.ownerOf(k) !== p));
      if (other === undefined) throw new Error(`every node owns one of ${keys.join(' ')}`);
      return other;
    },
    keysTogether(prefix, count) {
      // Round-robin over the nodes, so the keys sit on every node, the entry node included.
      const perNode = ports.map((p) => slots.keysOn(p, `${prefix}${p}-`, Math.ceil(count / ports.length)));
      const keys = Array.from({ length: count }, (_, i) => perNode[i % ports.length]![Math.floor(i / ports.length)]!);
      return { port: ports[0]!, keys };
    },
    ports,
  };
}
