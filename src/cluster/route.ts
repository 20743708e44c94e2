import { ERR } from '../core/errors.js';

/** Where a keyed command runs. One pure decision for every command, as Redis's getNodeByQuery. */
export type Route =
  | { kind: 'local' }
  | { kind: 'coordinate'; slot: number }
  | { kind: 'moved'; slot: number; node: string }
  | { kind: 'forward'; slot: number; node: string }
  | { kind: 'error'; message: string };

export interface RouteInput {
  /** Slot of every key the command touches (empty: a keyless command). */
  slots: readonly number[];
  myId: string;
  primary: (slot: number) => string | undefined;
  replicas: (slot: number) => readonly string[];
  isWrite: boolean;
  /** The connection sent READONLY: any replica of the slot may coordinate reads. */
  readonlySession: boolean;
  /** cluster-proxy yes: relay to the primary instead of redirecting. */
  proxy: boolean;
  /** The command was already forwarded by a peer: coordinate here, whatever this node thinks. */
  forwarded: boolean;
  /**
   * This node is cut off from the majority (routing-view.ts): `down` answers CLUSTERDOWN, as a
   * Redis node on the minority side does, until the majority surely routes around it; then
   * `redirect` answers MOVED to the majority's node. A proxy cannot relay to a node it cannot
   * reach, so it answers CLUSTERDOWN throughout.
   */
  isolated?: 'down' | 'redirect' | undefined;
}

export function decideRoute(input: RouteInput): Route {
  const { slots } = input;
  if (slots.length === 0) return { kind: 'local' };
  const slot = slots[0]!;
  for (let i = 1; i < slots.length; i++) if (slots[i] !== slot) return { kind: 'error', message: ERR.crossSlot };
  // A forwarded command must never bounce again, even while views disagree.
  if (input.forwarded) return { kind: 'coordinate', slot };
  const primary = input.primary(slot);
  if (primary === undefined) return { kind: 'error', message: ERR.slotNotServed };
  if (primary === input.myId) return { kind: 'coordinate', slot };
  if (!input.isWrite && input.readonlySession && input.replicas(slot).includes(input.myId)) return { kind: 'coordinate', slot };
  if (input.isolated === 'down' || (input.isolated === 'redirect' && input.proxy)) return { kind: 'error', message: ERR.clusterDown };
  if (input.proxy) return { kind: 'forward', slot, node: primary };
  return { kind: 'moved', slot, node: primary };
}
