import type { CommandSpec } from '../commands/spec.js';

/** Redis 7.0's ACL categories, in its order (ACL CAT lists them so; rules are described in it). */
export const ACL_CATEGORIES = [
  'keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap', 'hyperloglog',
  'geo', 'stream', 'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection',
  'transaction', 'scripting',
] as const;

const CATEGORY_BIT = new Map<string, number>(ACL_CATEGORIES.map((c, i) => [c, 1 << i]));

/** The bit of a category name (case-insensitive), 0 when there is no such category. */
export function categoryBit(name: string): number {
  return CATEGORY_BIT.get(name.toLowerCase()) ?? 0;
}

export interface AclCommand {
  readonly id: number;
  /** `get`, or `config|get` for a subcommand. */
  readonly fullName: string;
  readonly categories: number;
  readonly spec: CommandSpec;
  readonly parent: AclCommand | undefined;
  readonly subcommands: readonly AclCommand[];
}

/**
 * Every command and subcommand of the table with a small integer id, so a selector's permissions
 * are one byte array indexed by id and the check before a command runs is one lookup.
 */
export class AclCommandIndex {
  /** Top-level commands in table order (ACL CAT and rule descriptions walk them so). */
  readonly top: AclCommand[] = [];
  private readonly byName = new Map<string, AclCommand>();
  private readonly bySpec = new Map<CommandSpec, AclCommand>();
  count = 0;

  constructor(table: ReadonlyMap<string, CommandSpec>) {
    for (const spec of table.values()) this.top.push(this.add(spec, undefined));
  }

  private add(spec: CommandSpec, parent: AclCommand | undefined): AclCommand {
    const subs: AclCommand[] = [];
    let mask = 0;
    for (const c of spec.categories) mask |= categoryBit(c);
    const cmd: AclCommand = { id: this.count++, fullName: spec.name, categories: mask, spec, parent, subcommands: subs };
    this.byName.set(spec.name, cmd);
    this.bySpec.set(spec, cmd);
    for (const s of spec.subcommands ?? []) subs.push(this.add(s, cmd));
    return cmd;
  }

  /** By name as rules write it: `get`, `config|get` (case-insensitive). */
  lookup(name: string): AclCommand | undefined {
    return this.byName.get(name.toLowerCase());
  }

  of(spec: CommandSpec): AclCommand | undefined {
    return this.bySpec.get(spec);
  }

  /**
   * The command an invocation runs: a container's subcommand when argv names one (its own id and
   * categories are what ACL rules see), else the command itself.
   */
  resolve(spec: CommandSpec, argv: readonly Buffer[]): AclCommand | undefined {
    const cmd = this.bySpec.get(spec);
    if (cmd === undefined || cmd.subcommands.length === 0 || argv.length < 2) return cmd;
    return this.byName.get(`${spec.name}|${argv[1]!.toString('latin1').toLowerCase()}`) ?? cmd;
  }

  /** Every command and subcommand, depth first in table order. */
  *all(): Generator<AclCommand> {
    for (const c of this.top) {
      yield c;
      yield* c.subcommands;
    }
  }
}
