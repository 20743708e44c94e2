/**
 * LATENCY, as Redis 7.0 answers it: LATEST / HISTORY / RESET over the events recorded above
 * latency-monitor-threshold (server/latency-monitor.ts), HISTOGRAM over the per-command
 * distributions (server/command-latency.ts), DOCTOR and GRAPH as short text reports.
 */
import { ReplyError } from '../core/errors.js';
import { powerOfTwoCdf, total } from '../server/command-latency.js';
import { container, type CommandContext } from './spec.js';

const HELP = [
  'LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'DOCTOR',
  '    Return a human readable latency analysis report.',
  'GRAPH <event>',
  '    Return an ASCII latency graph for the <event> class.',
  'HISTORY <event>',
  '    Return time-latency samples for the <event> class.',
  'LATEST',
  '    Return the latest latency samples for all events.',
  'RESET [<event> ...]',
  '    Reset latency data of one or more <event> classes.',
  '    (default: reset all data for all event classes)',
  'HISTOGRAM [COMMAND ...]',
  '    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.',
  '    If no commands are specified then all histograms are replied.',
  'HELP',
  '    Prints this help.',
];

/** Redis sends help lines as status replies. */
function help(ctx: CommandContext): void {
  ctx.out.arrayHeader(HELP.length);
  for (const line of HELP) ctx.out.simple(line);
}

function latest(ctx: CommandContext): void {
  const rows = ctx.node.stats.latencyEvents.latest();
  ctx.out.arrayHeader(rows.length);
  for (const [event, time, ms, max] of rows) {
    ctx.out.arrayHeader(4);
    ctx.out.bulk(event);
    ctx.out.int(time);
    ctx.out.int(ms);
    ctx.out.int(max);
  }
}

function history(ctx: CommandContext, argv: Buffer[]): void {
  const samples = ctx.node.stats.latencyEvents.history(argv[2]!.toString());
  ctx.out.arrayHeader(samples.length);
  for (const s of samples) {
    ctx.out.arrayHeader(2);
    ctx.out.int(s.time);
    ctx.out.int(s.ms);
  }
}

/** Per command: calls and the cumulative power-of-two buckets; unknown or unused commands are left out. */
function histogram(ctx: CommandContext, argv: Buffer[]): void {
  const commands = ctx.node.stats.commands;
  // A container's name stands for its subcommands, which are counted as `config|get` (as Redis 7.0).
  const asked = argv.length > 2 ? [...new Set(argv.slice(2).map((a) => a.toString().toLowerCase()))] : undefined;
  const names = asked === undefined ? [...commands.keys()] : [...new Set(asked.flatMap((n) => [n, ...[...commands.keys()].filter((k) => k.startsWith(`${n}|`))]))];
  const shown = names.flatMap((n) => {
    const latency = commands.get(n)?.latency;
    return latency === undefined ? [] : [[n, latency] as const];
  });
  ctx.out.mapHeader(shown.length);
  for (const [name, latency] of shown) {
    ctx.out.bulk(name);
    ctx.out.mapHeader(2);
    ctx.out.bulk('calls');
    ctx.out.int(total(latency));
    ctx.out.bulk('histogram_usec');
    const cdf = powerOfTwoCdf(latency);
    ctx.out.mapHeader(cdf.length);
    for (const [usec, count] of cdf) {
      ctx.out.int(usec);
      ctx.out.int(count);
    }
  }
}

function doctor(ctx: CommandContext): void {
  const monitor = ctx.node.stats.latencyEvents;
  if (ctx.node.config.int('latency-monitor-threshold') === 0 && monitor.size === 0) {
    return ctx.out.verbatim(`I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use "CONFIG SET latency-monitor-threshold <milliseconds>." in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n`);
  }
  if (monitor.size === 0) {
    return ctx.out.verbatim('Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n');
  }
  let text = 'Dave, I have observed latency spikes in this Redis instance. You don\'t mind talking about it, do you Dave?\n\n';
  let i = 1;
  for (const [event, , , max] of monitor.latest()) {
    const samples = monitor.history(event);
    const avg = Math.round(samples.reduce((a, s) => a + s.ms, 0) / samples.length);
    text += `${i++}. ${event}: ${samples.length} latency spikes (average ${avg}ms, mean deviation 0ms, period 0 sec). Worst all time event ${max}ms.\n`;
  }
  ctx.out.verbatim(text + '\n');
}

/** A bar per sample, scaled to the event's highest one: enough to see spikes at a glance. */
function graph(ctx: CommandContext, argv: Buffer[]): void {
  const event = argv[2]!.toString();
  const monitor = ctx.node.stats.latencyEvents;
  const samples = monitor.history(event);
  if (samples.length === 0) throw new ReplyError(`ERR No samples available for event '${event}'`);
  const high = Math.max(...samples.map((s) => s.ms));
  const low = Math.min(...samples.map((s) => s.ms));
  let text = `${event} - high ${high} ms, low ${low} ms (all time high ${monitor.max(event)} ms)\n`;
  text += '-'.repeat(80) + '\n';
  for (const s of samples) text += `${new Date(s.time * 1000).toISOString().slice(11, 19)} ${'#'.repeat(Math.max(1, Math.round((s.ms / Math.max(high, 1)) * 60)))} ${s.ms}\n`;
  ctx.out.verbatim(text);
}

export const latencyCommand = container('latency', ['admin', 'noscript', 'loading', 'stale'], ['slow'], [
  { name: 'latest', arity: 2, flags: ['admin', 'noscript', 'loading', 'stale'], categories: ['admin', 'slow', 'dangerous'], run: latest },
  { name: 'history', arity: 3, flags: ['admin', 'noscript', 'loading', 'stale'], categories: ['admin', 'slow', 'dangerous'], run: history },
  { name: 'reset', arity: -2, flags: ['admin', 'noscript', 'loading', 'stale'], categories: ['admin', 'slow', 'dangerous'], run: (c, a) => c.out.int(c.node.stats.latencyEvents.reset(a.slice(2).map((x) => x.toString()))) },
  { name: 'histogram', arity: -2, flags: ['admin', 'noscript', 'loading', 'stale'], categories: ['admin', 'slow', 'dangerous'], run: histogram },
  { name: 'doctor', arity: 2, flags: ['admin', 'noscript', 'loading', 'stale'], categories: ['admin', 'slow', 'dangerous'], run: doctor },
  { name: 'graph', arity: 3, flags: ['admin', 'noscript', 'loading', 'stale'], categories: ['admin', 'slow', 'dangerous'], run: graph },
  { name: 'help', arity: 2, flags: ['loading', 'stale'], categories: ['slow'], run: help },
]);
