import type { CommandSpec } from '../commands/spec.js';

/**
 * Command families the latency histograms are kept by: the ACL category of the data type a
 * command works on, so a slow sorted-set range does not hide among fast string reads.
 */
export const COMMAND_FAMILIES = [
  'string', 'hash', 'list', 'set', 'zset', 'keyspace', 'scripting', 'transaction', 'connection', 'cluster', 'server',
] as const;
export type CommandFamily = (typeof COMMAND_FAMILIES)[number];

/** ACL category → family, in the order they are tried (a command names its data type first). */
const BY_CATEGORY: ReadonlyArray<[string, CommandFamily]> = [
  ['string', 'string'], ['hash', 'hash'], ['list', 'list'], ['set', 'set'], ['sortedset', 'zset'],
  ['scripting', 'scripting'], ['transaction', 'transaction'], ['keyspace', 'keyspace'], ['connection', 'connection'],
];

/**
 * Containers whose own ACL categories are only @slow in Redis 7.0 (their subcommands carry the
 * rest): the family their subcommands have.
 */
const CONTAINER_FAMILIES: ReadonlyMap<string, CommandFamily> = new Map([
  ['script', 'scripting'], ['function', 'scripting'], ['client', 'connection'], ['object', 'keyspace'],
]);

/** Commands that speak about the cluster itself but carry no category saying so. */
const CLUSTER_COMMANDS = new Set(['cluster', 'readonly', 'readwrite', 'asking']);

/** The family of a command. Pure. */
export function commandFamily(spec: Pick<CommandSpec, 'name' | 'categories'>): CommandFamily {
  if (CLUSTER_COMMANDS.has(spec.name) || spec.name.startsWith('ringkv.')) return 'cluster';
  const container = CONTAINER_FAMILIES.get(spec.name);
  if (container !== undefined) return container;
  for (const [category, family] of BY_CATEGORY) if (spec.categories.includes(category)) return family;
  return 'server';
}

const cache = new WeakMap<CommandSpec, number>();

/** Index into COMMAND_FAMILIES, computed once per command table row (the request path calls it). */
export function familyIndex(spec: CommandSpec): number {
  let i = cache.get(spec);
  if (i === undefined) {
    i = COMMAND_FAMILIES.indexOf(commandFamily(spec));
    cache.set(spec, i);
  }
  return i;
}
