import { RINGKV_VERSION } from './version.js';
import { intArg } from './args.js';
import { command, type CommandContext, type CommandSpec } from './spec.js';

/** Rows above and below the centre; columns are doubled, as terminal cells are about twice as tall as wide. */
const RADIUS = 6;
/** Angles sampled along the ring: enough that its outline has no gaps. */
const SAMPLES = 120;
/** Nodes drawn at most; a larger cluster is still named in the caption. */
const MAX_MARKS = 24;

/** The hash ring with its `nodes` members marked `O` evenly around it, as text rows. */
export function drawRing(nodes: number): string[] {
  const size = 2 * RADIUS + 1;
  const grid = Array.from({ length: size }, () => Array<string>(2 * size).fill(' '));
  const plot = (turn: number, mark: string): void => {
    const angle = 2 * Math.PI * turn - Math.PI / 2;
    grid[Math.round(RADIUS + RADIUS * Math.sin(angle))]![Math.round(2 * RADIUS + 2 * RADIUS * Math.cos(angle))] = mark;
  };
  for (let i = 0; i < SAMPLES; i++) plot(i / SAMPLES, '.');
  const marks = Math.min(nodes, MAX_MARKS);
  for (let i = 0; i < marks; i++) plot(i / marks, 'O');
  return grid.map((r) => r.join('').trimEnd());
}

/**
 * LOLWUT [VERSION v]: Redis answers computer art and a last line naming its version; ringkv draws
 * its hash ring with the cluster's nodes on it. VERSION is checked as Redis checks it (an integer),
 * though there is one drawing only.
 */
function lolwut(ctx: CommandContext, argv: Buffer[]): void {
  if (argv.length >= 3 && argv[1]!.toString('latin1').toLowerCase() === 'version') intArg(argv[2]!);
  const nodes = ctx.node.cluster?.nodes().filter((n) => !n.left).length ?? 1;
  const caption = `A consistent-hash ring of ${nodes} node${nodes === 1 ? '' : 's'}. ringkv ver. ${RINGKV_VERSION}`;
  ctx.out.verbatim(`${drawRing(nodes).join('\n')}\n\n${caption}\n`);
}

export const lolwutCommand: CommandSpec = command({ name: 'lolwut', arity: -1, flags: ['readonly', 'fast'], categories: ['read', 'fast'], run: lolwut });
