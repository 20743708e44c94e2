/**
 * Decisions of the Kubernetes preStop hook (prestop.ts), kept pure: whether a terminating pod of a
 * StatefulSet is being scaled away (decommission it with RINGKV.LEAVE) or only restarted (leave
 * the ring alone: its replicas and hints cover the restart), and when a decommission is done.
 */

/** The ordinal of a StatefulSet pod from its name (`ringkv-2` → 2); undefined for other names. */
export function podOrdinal(podName: string): number | undefined {
  const m = /-(\d+)$/.exec(podName);
  return m ? Number(m[1]) : undefined;
}

/** The StatefulSet a pod belongs to, by the naming StatefulSets use (`<set>-<ordinal>`). */
export function statefulSetOf(podName: string): string | undefined {
  const m = /^(.+)-\d+$/.exec(podName);
  return m?.[1];
}

/**
 * A StatefulSet scales down by lowering spec.replicas and then deleting the pods at or above it;
 * a pod below it is being restarted (rolling update, eviction, node drain) and must not leave.
 */
export function scaledAway(ordinal: number, replicas: number): boolean {
  return ordinal >= replicas;
}

/** Slots the other members still move, each as it reported (undefined when it did not answer). */
export type MovingReport = ReadonlyArray<number | undefined>;

/**
 * The decommission is done once every member that answers reports no slot moving, and either a
 * move was seen (it started and finished) or enough time passed for the leave to reach everyone
 * by gossip (a node with nothing to move never shows a move).
 */
export function leaveFinished(reports: MovingReport, sawMoving: boolean, elapsedMs: number, propagateMs: number): boolean {
  const answered = reports.filter((r): r is number => r !== undefined);
  if (answered.length === 0) return false;
  if (answered.some((r) => r > 0)) return false;
  return sawMoving || elapsedMs >= propagateMs;
}
