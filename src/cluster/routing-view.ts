/**
 * Which nodes this node routes slots to, and whether it is cut off from the majority. Pure: the
 * shell passes time and what the failure detectors say.
 *
 * Every node routes a slot to the first node of its preference list that it can reach over a
 * healthy link (link-health.ts). A node that reaches a majority of the voting members (itself
 * included; exactly half when that half holds the lowest id, so that two halves never both step
 * aside) never skips itself, so its redirects point only earlier in a slot's preference list and
 * no sequence of them loops (docs/decisions.md).
 *
 * A node that does not is *isolated*: it stays out of routing for its own slots, and advertises the
 * others (less the ones it still reaches, which are cut off with it) as serving them. It answers
 * CLUSTERDOWN while the majority may still be noticing that it has gone silent, and MOVED to the
 * majority's node once `redirectAfterMs` has passed, by which time every node of the majority has
 * suspected it: a redirect of an isolated node then never points at a node that sends the client
 * back. Its pings tell reachable peers that it stepped aside, so they stop routing to it at once.
 *
 * Voting members are the ring members less those this node saw go while it was itself in the
 * majority (gone for everyone: declared failed, or their port refuses connections). A node that is
 * cut off sees everyone fail after the node timeout; those judgements are its own, so they do not
 * shrink the vote and it stays isolated for the whole partition.
 */

export interface RoutingInput {
  nowMs: number;
  self: string;
  /** Ring members, this node included. */
  members: readonly string[];
  /** Failed to the membership detector, or refusing connections. */
  gone(id: string): boolean;
  /** Its process is gone (connection refused): departed whatever our own state. */
  refused(id: string): boolean;
  /** A healthy direct link (link-health.ts). */
  linked(id: string): boolean;
  /**
   * The peer says it is cut off from the majority. It is not routed to, but it still counts as
   * reached: a node that just came back says so until its own links have recovered, and counting
   * that against the majority would make two such nodes keep each other isolated for good.
   */
  stepsAside(id: string): boolean;
  /** The peer says it is catching up after being away (catch-up.ts): a replica, not a coordinator. */
  catchingUp(id: string): boolean;
  /** This node is catching up. */
  selfCatchingUp: boolean;
}

export interface RoutingView {
  /** The nodes slots are routed to. */
  alive: ReadonlySet<string>;
  /**
   * Routed-to nodes that are catching up after being away: each slot goes to the first other alive
   * replica of its list, and to one of these only when all of its alive replicas are.
   */
  standby: ReadonlySet<string>;
  /** Cut off from the majority: `down` answers CLUSTERDOWN, `redirect` MOVED. */
  isolation: 'down' | 'redirect' | undefined;
  /** Voting members, and those of them this node reaches (itself included). */
  voters: number;
  reached: number;
}

const NOBODY: ReadonlySet<string> = new Set();

export class RoutingViewTracker {
  /** Members seen gone while this node was in the majority. */
  private readonly departed = new Set<string>();
  private isolatedSinceMs: number | undefined;

  constructor(private readonly redirectAfterMs: number) {}

  update(input: RoutingInput): RoutingView {
    const { self, members } = input;
    for (const id of [...this.departed]) {
      if (!members.includes(id) || !input.gone(id)) this.departed.delete(id);
    }
    for (const id of members) if (id !== self && input.refused(id)) this.departed.add(id);
    const voters = members.filter((id) => id === self || !this.departed.has(id));
    const reached = voters.filter((id) => id === self || input.linked(id));
    const lowest = voters.reduce((a, b) => (b < a ? b : a), self);
    const majority = reached.length * 2 > voters.length || (reached.length * 2 === voters.length && reached.includes(lowest));
    if (majority) {
      this.isolatedSinceMs = undefined;
      for (const id of voters) if (id !== self && input.gone(id)) this.departed.add(id);
      const alive = reached.filter((id) => id === self || (!input.gone(id) && !input.stepsAside(id)));
      const standby = alive.filter((id) => (id === self ? input.selfCatchingUp : input.catchingUp(id)));
      return { alive: new Set(alive), standby: standby.length === 0 ? NOBODY : new Set(standby), isolation: undefined, voters: voters.length, reached: reached.length };
    }
    this.isolatedSinceMs ??= input.nowMs;
    const isolation = input.nowMs - this.isolatedSinceMs >= this.redirectAfterMs ? 'redirect' : 'down';
    return { alive: new Set(voters.filter((id) => !reached.includes(id))), standby: NOBODY, isolation, voters: voters.length, reached: reached.length };
  }

  /** Members this node saw go while in the majority (for INFO and tests). */
  departedMembers(): string[] {
    return [...this.departed].sort();
  }
}
