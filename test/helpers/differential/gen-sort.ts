import { cmd, type DiffCommand } from './command.js';
import type { GenContext } from './gen-context.js';

export function sortCommand(g: GenContext): DiffCommand {
  return cmd(['TYPE', g.keys.key(g.rng)]);
}
