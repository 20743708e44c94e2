import type { CommandSpec } from './spec.js';
import { stringCommands } from './strings.js';
import { keyCommands } from './keys.js';
import { hashCommands } from './hashes.js';
import { setCommands } from './sets.js';
import { listCommands } from './lists.js';
import { sortedSetCommands } from './sorted-sets.js';
import { streamCommands } from './streams.js';
import { connectionCommands } from './connection.js';
import { serverCommands } from './server.js';
import { transactionCommands } from './transactions.js';
import { commandCommand } from './command-info.js';
import { clusterCommands } from './cluster.js';
import { scriptingCommands } from './scripting.js';
import { functionCommands } from './functions.js';
import { pubsubCommands } from './pubsub.js';
import { geoCommands } from './geo.js';
import { sortCommands } from './sort.js';
import { dumpRestoreCommands } from './dump-restore.js';
import { hyperLogLogCommands } from './hyperloglog.js';
import { bitmapCommands } from './bitmaps.js';
import { lcsCommands } from './lcs.js';
import { migrateCommands } from './migrate.js';
import { aclCommand } from './acl.js';
import { moduleCommand } from './module.js';
import { replicationCommands } from './replication.js';
import { lolwutCommand } from './lolwut.js';
import { moveCommand } from './move.js';

/** The command table: every command ringkv knows, by lowercase name. */
export function buildCommandTable(extra: readonly CommandSpec[] = []): Map<string, CommandSpec> {
  const table = new Map<string, CommandSpec>();
  for (const spec of [
    ...connectionCommands, ...stringCommands, ...keyCommands, ...hashCommands, ...setCommands, ...listCommands, ...sortedSetCommands, ...streamCommands,
    ...serverCommands, ...transactionCommands, commandCommand, ...clusterCommands,
    ...scriptingCommands, ...functionCommands, ...pubsubCommands, ...geoCommands, ...sortCommands, ...dumpRestoreCommands,
    ...hyperLogLogCommands, ...bitmapCommands, ...lcsCommands, aclCommand, ...migrateCommands,
    moduleCommand, ...replicationCommands, lolwutCommand, moveCommand, ...extra,
  ]) {
    if (table.has(spec.name)) throw new Error(`command ${spec.name} registered twice`);
    table.set(spec.name, spec);
  }
  return table;
}
